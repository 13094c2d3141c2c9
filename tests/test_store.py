"""The on-disk summary cache (guarantees in astoken/_store.py's docstring)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from astoken import _store
from astoken._store import SummaryStore, default_cache_dir, summary_key

KEY = summary_key(b"def f():\n    return 1\n")


def _entry_path(directory: Path, key: str) -> Path:
    return directory / key[:2] / f"{key}.json"


def test_round_trip(tmp_path: Path) -> None:
    store = SummaryStore(tmp_path)
    store.put(KEY, '{"some": "summary"}')
    assert store.get(KEY) == '{"some": "summary"}'
    assert store.directory == str(tmp_path)


def test_entries_are_sharded_by_key_prefix(tmp_path: Path) -> None:
    SummaryStore(tmp_path).put(KEY, "x")
    assert _entry_path(tmp_path, KEY).is_file()
    assert [p.name for p in tmp_path.iterdir()] == [KEY[:2]]


def test_absent_entry_is_a_miss(tmp_path: Path) -> None:
    assert SummaryStore(tmp_path).get(KEY) is None
    assert SummaryStore(tmp_path / "does-not-exist").get(KEY) is None


def test_overwrite_keeps_the_last_text(tmp_path: Path) -> None:
    store = SummaryStore(tmp_path)
    store.put(KEY, "first")
    store.put(KEY, "second")
    assert store.get(KEY) == "second"
    assert [p.name for p in (tmp_path / KEY[:2]).iterdir()] == [f"{KEY}.json"]  # no temp left


@pytest.mark.parametrize(
    "content",
    [
        pytest.param(b"", id="empty"),
        pytest.param(b'{"format": "astoken-summary-1", "key": "', id="truncated"),
        pytest.param(b"\xff\xfe\x00garbage", id="binary"),
        pytest.param(b"[1, 2, 3]", id="not-an-object"),
        pytest.param(b'{"format": "astoken-summary-1"}', id="missing-fields"),
        pytest.param(b'{"format": "other", "key": "K", "summary": "x"}', id="wrong-format"),
        pytest.param(
            b'{"format": "astoken-summary-1", "key": "K", "summary": 3}', id="summary-not-text"
        ),
    ],
)
def test_corrupt_entry_is_a_miss(tmp_path: Path, content: bytes) -> None:
    """Guarantee 3."""
    path = _entry_path(tmp_path, KEY)
    path.parent.mkdir(parents=True)
    path.write_bytes(content.replace(b'"K"', json.dumps(KEY).encode()))
    assert SummaryStore(tmp_path).get(KEY) is None


def test_entry_under_another_key_is_a_miss(tmp_path: Path) -> None:
    """Guarantee 3: the stored key must match the file's name."""
    other = summary_key(b"other source")
    store = SummaryStore(tmp_path)
    store.put(other, "text of other")
    path = _entry_path(tmp_path, KEY)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(_entry_path(tmp_path, other).read_bytes())  # copied to the wrong name
    assert store.get(KEY) is None
    assert store.get(other) == "text of other"


def test_entry_that_is_a_directory_is_a_miss(tmp_path: Path) -> None:
    _entry_path(tmp_path, KEY).mkdir(parents=True)
    store = SummaryStore(tmp_path)
    assert store.get(KEY) is None
    store.put(KEY, "x")  # os.replace onto a directory fails: swallowed
    assert store.get(KEY) is None


@pytest.mark.parametrize("key", ["", "ab", "../../etc", "a/b/c/d"])
def test_malformed_keys_never_touch_the_disk(tmp_path: Path, key: str) -> None:
    store = SummaryStore(tmp_path / "cache")
    store.put(key, "x")
    assert store.get(key) is None
    assert not (tmp_path / "cache").exists()


def test_disabled_store(tmp_path: Path) -> None:
    store = SummaryStore(None)
    store.put(KEY, "x")
    assert store.get(KEY) is None
    assert store.directory is None


def test_unwritable_directory_is_swallowed(tmp_path: Path) -> None:
    """Guarantee 4."""
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    store = SummaryStore(blocker / "cache")  # makedirs fails with an OSError even as root
    store.put(KEY, "x")
    assert store.get(KEY) is None


_WRITER = """
import sys
from astoken._store import SummaryStore
store = SummaryStore(sys.argv[1])
text = "payload " * 20000
for _ in range(int(sys.argv[3])):
    store.put(sys.argv[2], text)
    got = store.get(sys.argv[2])
    assert got is None or got == text, "torn read"
"""


def test_concurrent_writers_leave_a_readable_entry(tmp_path: Path) -> None:
    """Guarantee 2: readers never see a torn entry; no temp file is left."""
    args = [sys.executable, "-c", _WRITER, str(tmp_path), KEY, "30"]
    procs = [
        subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE) for _ in range(3)
    ]
    for proc in procs:
        _, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err.decode()
    assert SummaryStore(tmp_path).get(KEY) == "payload " * 20000
    leftovers = [p.name for p in (tmp_path / KEY[:2]).iterdir() if p.name != f"{KEY}.json"]
    assert leftovers == []


def test_default_cache_dir_honours_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ASTOKEN_CACHE_DIR", str(tmp_path / "here"))
    assert default_cache_dir() == str(tmp_path / "here")
    monkeypatch.delenv("ASTOKEN_CACHE_DIR")
    fallback = default_cache_dir()
    assert fallback
    assert "astoken" in fallback
    assert fallback != str(tmp_path / "here")


def test_key_depends_only_on_content_and_versions(monkeypatch: pytest.MonkeyPatch) -> None:
    """Guarantee 1."""
    source = b"x = 1\n"
    assert summary_key(source) == summary_key(bytes(source))
    assert summary_key(source) != summary_key(b"x = 2\n")
    assert len(summary_key(source)) == 64
    monkeypatch.setattr(_store, "SUMMARY_VERSION", 10_000)
    assert summary_key(source) != KEY
    bumped = summary_key(source)
    monkeypatch.undo()
    assert summary_key(source) != bumped


def test_key_changes_with_libcst_version(monkeypatch: pytest.MonkeyPatch) -> None:
    before = summary_key(b"x = 1\n")
    monkeypatch.setattr(_store, "_libcst_version", lambda: "0.0.0-test")
    assert summary_key(b"x = 1\n") != before
