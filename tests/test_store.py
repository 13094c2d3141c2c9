"""The on-disk caches: summaries, verdicts, code tokens and snapshot builds (guarantees in
astoken/_store.py's docstring)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
import warnings
from pathlib import Path
from typing import Any

import pytest
from _fresh import run_astoken

from astoken import _store
from astoken._store import SummaryStore, default_cache_dir, summary_key
from astoken.errors import UntrustedCacheWarning

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
    this_build = summary_key(source)
    assert this_build == summary_key(bytes(source))
    assert this_build != summary_key(b"x = 2\n")
    assert len(this_build) == 64
    monkeypatch.setattr(_store, "summarizer_fingerprint", lambda: "another-build")
    # The same source under another summarizer: another key (compared with the same source,
    # so that only the patched fingerprint can make the difference).
    other_build = summary_key(source)
    assert other_build != this_build
    monkeypatch.undo()
    assert summary_key(source) == this_build


def test_key_changes_with_libcst_and_python_versions(monkeypatch: pytest.MonkeyPatch) -> None:
    before = summary_key(b"x = 1\n")
    monkeypatch.setattr(_store, "_libcst_version", lambda: "0.0.0-test")
    assert summary_key(b"x = 1\n") != before
    monkeypatch.undo()
    assert summary_key(b"x = 1\n") == before
    monkeypatch.setattr(sys, "version_info", (3, 99, 0, "final", 0))
    assert summary_key(b"x = 1\n") != before


def test_libcst_version_is_the_installed_one() -> None:
    import importlib.metadata

    _store._libcst_version.cache_clear()
    assert _store._libcst_version() == importlib.metadata.version("libcst")


def _fake_libcst_site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, *infos: str) -> None:
    """``libcst`` found in a site directory of its own holding the given dist-info dirs."""
    import importlib.machinery
    import importlib.metadata
    import importlib.util

    site = tmp_path / "site"
    (site / "libcst").mkdir(parents=True)
    for info in infos:
        (site / info).mkdir()
    spec = importlib.machinery.ModuleSpec("libcst", None, is_package=True)
    spec.submodule_search_locations = [str(site / "libcst")]
    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a: spec if name == "libcst" else real(name, *a)
    )
    monkeypatch.setattr(importlib.metadata, "version", lambda name: f"metadata-says-{name}")
    _store._libcst_version.cache_clear()


@pytest.mark.parametrize(
    ("infos", "expected"),
    [
        pytest.param(("libcst-9.8.7.dist-info", "other-1.0.dist-info"), "9.8.7", id="one"),
        pytest.param(("LibCST-1.2.3.dist-info",), "1.2.3", id="any-case"),
        # A stale dist-info left beside the new one: the directories cannot say which is live.
        pytest.param(
            ("libcst-1.0.dist-info", "libcst-2.0.dist-info"), "metadata-says-libcst", id="two"
        ),
        pytest.param((), "metadata-says-libcst", id="none"),
    ],
)
def test_libcst_version_without_importing_package_metadata(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, infos: tuple[str, ...], expected: str
) -> None:
    """Issue 11, item 2: the warm path reads the version from the dist-info directory's name
    (``importlib.metadata`` costs ~20 ms of imports); anything ambiguous asks the metadata."""
    try:
        _fake_libcst_site(tmp_path, monkeypatch, *infos)
        assert _store._libcst_version() == expected
    finally:
        monkeypatch.undo()
        _store._libcst_version.cache_clear()


# --------------------------------------------------------------------------------------------
# Guarantee 1: entries of another build of astoken are never trusted.
# --------------------------------------------------------------------------------------------


def test_fingerprint_covers_the_summary_step_codec_and_model() -> None:
    files = [Path(f) for name in _store._SUMMARIZER_MODULES for f in _store._module_files(name)]
    names = {f.name for f in files}
    assert {"_codec.py", "_pass.py", "_model.py"} <= names
    assert any(f.name == "_summary.py" or f.parent.name == "_summary" for f in files)
    assert _store.summarizer_fingerprint() == _store.summarizer_fingerprint()
    assert len(_store.summarizer_fingerprint()) == 64


def test_fingerprint_reads_every_module_of_a_package(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The summary step may be a module or a package: every .py file below a package counts."""
    package = tmp_path / "fakesummary"
    (package / "deep").mkdir(parents=True)
    for relative in ("__init__.py", "walker.py", "deep/__init__.py", "deep/facts.py"):
        (package / relative).write_text(f"# {relative}\n")
    (tmp_path / "fakecodec.py").write_text("# codec\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setattr(_store, "_SUMMARIZER_MODULES", ("fakesummary", "fakecodec"))
    _store.summarizer_fingerprint.cache_clear()
    try:
        listed = sorted(Path(f).relative_to(tmp_path) for f in _store._module_files("fakesummary"))
        assert [str(p).replace(os.sep, "/") for p in listed] == [
            "fakesummary/__init__.py",
            "fakesummary/deep/__init__.py",
            "fakesummary/deep/facts.py",
            "fakesummary/walker.py",
        ]
        before = _store.summarizer_fingerprint()
        (package / "deep" / "facts.py").write_text("# facts, changed\n")
        _store.summarizer_fingerprint.cache_clear()
        assert _store.summarizer_fingerprint() != before
    finally:
        _store.summarizer_fingerprint.cache_clear()


_PROJECT = {
    "app/__init__.py": "",
    "app/features.py": "LIMIT = 10\n\n\ndef scale(x):\n    return min(x, LIMIT) * 2\n",
    "app/train.py": "from app.features import scale\n\n\ndef fit(x):\n    return scale(x) + 1\n",
}

# Appended to the summary step of the second build: its summarizer announces itself.
_OTHER_SUMMARIZER = """

def summarize_source(source, *, filename="<unknown>"):
    raise RuntimeError("the summarizer of build B ran")
"""

_DEPS = "import astoken, sys; print(astoken.__file__); print(astoken.dependencies(sys.argv[1]))"


def _build_of_astoken(destination: Path, extra: str = "") -> Path:
    """A copy of this astoken under ``destination``; ``extra`` is appended to its summary step."""
    source = Path(_store.__file__).parent
    shutil.copytree(source, destination / "astoken", ignore=shutil.ignore_patterns("__pycache__"))
    step = destination / "astoken" / "_summary"
    entry = step / "__init__.py" if step.is_dir() else destination / "astoken" / "_summary.py"
    with entry.open("a", encoding="utf-8") as handle:
        handle.write(extra)
    return destination


def test_entries_of_another_build_are_not_read(tmp_path: Path) -> None:
    """Guarantee 1, for real: two builds of astoken whose summary steps differ (same
    SUMMARY_VERSION, same libcst, same Python) share one cache directory. The second must run
    its own summarizer instead of reading the first one's entries."""
    project = tmp_path / "project"
    for relative, text in _PROJECT.items():
        (project / relative).parent.mkdir(parents=True, exist_ok=True)
        (project / relative).write_text(textwrap.dedent(text))
    cache = tmp_path / "cache"
    build_a = _build_of_astoken(tmp_path / "a")
    build_b = _build_of_astoken(tmp_path / "b", _OTHER_SUMMARIZER)

    def run(build: Path) -> subprocess.CompletedProcess[str]:
        env = {
            **os.environ,
            "PYTHONPATH": os.pathsep.join([str(build), str(project)]),
            "ASTOKEN_CACHE_DIR": str(cache),
        }
        return subprocess.run(
            [sys.executable, "-c", _DEPS, "app.train:fit"],
            cwd=project,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )

    first = run(build_a)
    assert first.returncode == 0, first.stderr
    assert first.stdout.splitlines()[0].startswith(str(build_a))
    assert "app.features:scale" in first.stdout
    entries = sorted(cache.rglob("*.json"))
    assert entries

    second = run(build_b)
    assert "the summarizer of build B ran" in second.stderr
    assert second.returncode != 0
    # And build A still finds its own entries (nothing was overwritten).
    again = run(build_a)
    assert again.returncode == 0, again.stderr
    assert sorted(cache.rglob("*.json")) == entries


# --------------------------------------------------------------------------------------------
# Guarantee 3: entries that are not regular files, or too deep, are misses that never block.
# --------------------------------------------------------------------------------------------

_GET_IN_A_BOX = """
import resource, sys
# A runaway read must fail fast, not take the machine's memory.
resource.setrlimit(resource.RLIMIT_AS, (1 << 30, 1 << 30))
from astoken._store import SummaryStore
print(SummaryStore(sys.argv[1]).get(sys.argv[2]))
"""


def _get_in_a_subprocess(directory: Path, key: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", _GET_IN_A_BOX, str(directory), key],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.mark.skipif(not Path("/dev/zero").exists(), reason="needs /dev/zero")
def test_entry_linked_to_dev_zero_is_a_miss(tmp_path: Path) -> None:
    path = _entry_path(tmp_path, KEY)
    path.parent.mkdir(parents=True)
    path.symlink_to("/dev/zero")
    result = _get_in_a_subprocess(tmp_path, KEY)
    assert (result.returncode, result.stdout) == (0, "None\n"), result.stderr


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs")
def test_entry_that_is_a_fifo_is_a_miss_without_blocking(tmp_path: Path) -> None:
    path = _entry_path(tmp_path, KEY)
    path.parent.mkdir(parents=True)
    os.mkfifo(path)
    try:
        result = _get_in_a_subprocess(tmp_path, KEY)
    except subprocess.TimeoutExpired:  # pragma: no cover - the failure this test guards
        pytest.fail("reading a FIFO cache entry blocked")
    assert (result.returncode, result.stdout) == (0, "None\n"), result.stderr


def test_oversized_entry_is_a_miss(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    store = SummaryStore(tmp_path)
    store.put(KEY, "x" * 100)
    monkeypatch.setattr(_store, "MAX_ENTRY_BYTES", 50)
    assert store.get(KEY) is None


def test_a_kept_text_larger_than_an_entry_may_be_read_is_not_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A build too large to be read back would cost its write on every run and never serve."""
    monkeypatch.setattr(_store, "MAX_ENTRY_BYTES", 300)
    store = _store.BuildStore(tmp_path)
    store.put(_BUILD_KEY, "x" * 100)
    assert store.get(_BUILD_KEY) == "x" * 100
    store.put(_BUILD_KEY, "y" * 400)
    assert store.get(_BUILD_KEY) == "x" * 100  # the smaller entry stands; nothing half-written
    other = "f" * 64
    store.put(other, "z" * 400)
    assert store.get(other) is None
    assert not any(tmp_path.rglob(f"{other}*"))


def test_deeply_nested_entry_is_a_miss(tmp_path: Path) -> None:
    """An entry of deeply nested JSON (damage, or a hostile cache) is a miss, not a crash."""
    path = _entry_path(tmp_path, KEY)
    path.parent.mkdir(parents=True)
    path.write_text("[" * 100_000 + "]" * 100_000)
    assert SummaryStore(tmp_path).get(KEY) is None
    inner = json.dumps({"format": "astoken-summary-1", "key": KEY, "summary": "x"})
    path.write_text(inner[:-1] + ', "extra": ' + "[" * 100_000 + "]" * 100_000 + "}")
    assert SummaryStore(tmp_path).get(KEY) is None


def test_a_link_planted_in_the_cache_is_replaced_not_written_through(tmp_path: Path) -> None:
    """Guarantee 2: a write never follows a link in the cache to somewhere else."""
    victim = tmp_path / "victim.txt"
    victim.write_text("precious\n")
    path = _entry_path(tmp_path / "cache", KEY)
    path.parent.mkdir(parents=True)
    path.symlink_to(victim)
    store = SummaryStore(tmp_path / "cache")
    store.put(KEY, "summary")
    assert victim.read_text() == "precious\n"
    assert not path.is_symlink()
    assert store.get(KEY) == "summary"


# --------------------------------------------------------------------------------------------
# The verdict book (astoken._runtime guarantee 4) keeps guarantees 2-4 as summaries do.
# --------------------------------------------------------------------------------------------


def test_verdicts_round_trip_and_every_kind_of_miss(tmp_path: Path) -> None:
    book = _store.VerdictStore(tmp_path)
    key = "ab" * 32
    assert not book.known(key)
    book.record(key)
    assert book.known(key)
    path = tmp_path / "verdicts" / "ab" / key
    assert path.read_text() == key
    path.write_text(key[:-1])  # truncated
    assert not book.known(key)
    path.unlink()
    os.mkfifo(path)  # not a regular file: a miss that never blocks
    assert not book.known(key)
    # Keys that are not 64 alphanumerics never become paths; a disabled book knows nothing.
    for bad in ("../" + "a" * 61, "a" * 63, ""):
        book.record(bad)
        assert not book.known(bad)
    assert sorted(p.name for p in (tmp_path / "verdicts").iterdir()) == ["ab"]
    _store.VerdictStore(None).record(key)
    assert not _store.VerdictStore(None).known(key)


def test_a_verdict_that_cannot_be_written_is_silently_not_kept(tmp_path: Path) -> None:
    (tmp_path / "verdicts").write_text("a file where the directory would go")
    book = _store.VerdictStore(tmp_path)
    book.record("cd" * 32)
    assert not book.known("cd" * 32)


# --------------------------------------------------------------------------------------------
# The code-token book (astoken._hashing._code's code book, on disk).
# --------------------------------------------------------------------------------------------

_KEY, _TOKEN = "1" * 64, "2" * 64


def _shard_files(directory: Path) -> list[Path]:
    return sorted(p for p in (directory / "codes").rglob("*.json"))


def test_code_tokens_reach_the_next_process_only_after_flush(tmp_path: Path) -> None:
    book = _store.CodeTokenBook(tmp_path)
    assert book.get("/p/m.py", _KEY) is None
    book.put("/p/m.py", _KEY, _TOKEN)
    assert (book.dirty, book.get("/p/m.py", _KEY)) == (True, _TOKEN)
    assert _store.CodeTokenBook(tmp_path).get("/p/m.py", _KEY) is None
    book.flush()
    assert not book.dirty
    assert _store.CodeTokenBook(tmp_path).get("/p/m.py", _KEY) == _TOKEN
    # Shards are per file name: another file's shard does not hold it.
    assert _store.CodeTokenBook(tmp_path).get("/p/other.py", _KEY) is None
    assert len(_shard_files(tmp_path)) == 1


@pytest.mark.parametrize(
    "damage",
    [
        pytest.param(lambda d: {**d, "tokens": {_KEY: "3" * 64}}, id="token-edited"),
        pytest.param(lambda d: {**d, "key": "0" * 64}, id="other-key"),
        pytest.param(lambda d: {**d, "format": "astoken-code-tokens-0"}, id="other-format"),
        pytest.param(lambda d: [d], id="not-a-dict"),
    ],
)
def test_a_damaged_code_shard_is_a_miss(tmp_path: Path, damage: Any) -> None:
    book = _store.CodeTokenBook(tmp_path)
    book.put("/p/m.py", _KEY, _TOKEN)
    book.flush()
    (shard,) = _shard_files(tmp_path)
    shard.write_text(json.dumps(damage(json.loads(shard.read_text()))))
    assert _store.CodeTokenBook(tmp_path).get("/p/m.py", _KEY) is None
    shard.write_text(shard.read_text()[:-10])  # truncated
    assert _store.CodeTokenBook(tmp_path).get("/p/m.py", _KEY) is None


def test_code_shards_belong_to_one_code_hasher(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another build of the code hasher (its fingerprint) never reads these tokens."""
    book = _store.CodeTokenBook(tmp_path)
    book.put("/p/m.py", _KEY, _TOKEN)
    book.flush()
    monkeypatch.setattr(_store, "code_hasher_fingerprint", lambda: "another-hasher")
    assert _store.CodeTokenBook(tmp_path).get("/p/m.py", _KEY) is None


def test_code_shards_keep_what_was_used_first_up_to_the_cap(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(_store, "MAX_SHARD_TOKENS", 3)
    old = _store.CodeTokenBook(tmp_path)
    for digit in "abcd":
        old.put("/p/m.py", digit * 64, _TOKEN)
    old.flush()
    kept = json.loads(_shard_files(tmp_path)[0].read_text())["tokens"]
    assert sorted(kept) == ["a" * 64, "b" * 64, "c" * 64]  # the cap, in key order
    new = _store.CodeTokenBook(tmp_path)
    assert new.get("/p/m.py", "c" * 64) == _TOKEN
    new.put("/p/m.py", "e" * 64, _TOKEN)
    new.flush()
    kept = json.loads(_shard_files(tmp_path)[0].read_text())["tokens"]
    assert sorted(kept) == ["a" * 64, "c" * 64, "e" * 64]  # used ones first, then older


def test_disabled_or_unwritable_code_books_change_nothing(tmp_path: Path) -> None:
    disabled = _store.CodeTokenBook(None)
    disabled.put("/p/m.py", _KEY, _TOKEN)
    disabled.flush()
    assert disabled.get("/p/m.py", _KEY) == _TOKEN  # this process still remembers
    (tmp_path / "codes").write_text("a file where the directory would go")
    book = _store.CodeTokenBook(tmp_path)
    book.put("/p/m.py", _KEY, _TOKEN)
    book.flush()  # silently not written
    assert _store.CodeTokenBook(tmp_path).get("/p/m.py", _KEY) is None


# --------------------------------------------------------------------------------------------
# Guarantee 5: a cache others can write is not trusted.
# --------------------------------------------------------------------------------------------

_BUILD_KEY = "cd" * 32
_FOREIGN_UID = 65534  # nobody: "owned by another user" (the tests run as root or as its owner)


def _fill(root: Path) -> None:
    """One entry of each kind of store under ``root``."""
    SummaryStore(root).put(KEY, "summary")
    _store.VerdictStore(root).record("ab" * 32)
    book = _store.CodeTokenBook(root)
    book.put("/p/m.py", _KEY, _TOKEN)
    book.flush()
    _store.BuildStore(root).put(_BUILD_KEY, "build")


def _read_all(root: Path) -> list[object]:
    return [
        SummaryStore(root).get(KEY),
        _store.VerdictStore(root).known("ab" * 32),
        _store.CodeTokenBook(root).get("/p/m.py", _KEY),
        _store.BuildStore(root).get(_BUILD_KEY),
    ]


@pytest.fixture
def fresh_trust(monkeypatch: pytest.MonkeyPatch) -> None:
    """This test's own record of checked directories and reported distrust."""
    monkeypatch.setattr(_store, "_TRUSTED", set())
    monkeypatch.setattr(_store, "_REPORTED", set())


def _as_a_new_process() -> None:
    """Forget what this process checked (a directory is checked once per process)."""
    _store._TRUSTED.clear()
    _store._REPORTED.clear()


def test_cache_files_are_private_whatever_the_umask(tmp_path: Path, fresh_trust: None) -> None:
    """Made 0o777/0o666 under ``umask 000`` before, so any local user could rewrite them."""
    root = tmp_path / "made" / "by" / "astoken"
    previous = os.umask(0)
    try:
        _fill(root)
    finally:
        os.umask(previous)
    directories = [root.parent.parent, root.parent, *(p for p in root.rglob("*") if p.is_dir())]
    files = [p for p in root.rglob("*") if p.is_file()]
    assert len(files) == 4
    assert {oct(p.stat().st_mode & 0o777) for p in [root, *directories]} == {"0o700"}
    assert {oct(p.stat().st_mode & 0o777) for p in files} == {"0o600"}
    assert _read_all(root) == ["summary", True, _TOKEN, "build"]


def _summary_entry(root: Path) -> Path:
    return _entry_path(root, KEY)


@pytest.mark.parametrize(
    ("make_untrusted", "reason"),
    [
        pytest.param(lambda root: root.chmod(0o777), "writable by group or others", id="root-0777"),
        pytest.param(lambda root: root.chmod(0o770), "writable by group or others", id="root-0770"),
        pytest.param(
            lambda root: os.chown(root, _FOREIGN_UID, -1), "owned by uid 65534", id="root-foreign"
        ),
        pytest.param(
            lambda root: _summary_entry(root).parent.chmod(0o777),
            "writable by group or others",
            id="shard-directory-0777",
        ),
        pytest.param(
            lambda root: _summary_entry(root).chmod(0o666),
            "writable by group or others",
            id="entry-0666",
        ),
        pytest.param(
            lambda root: os.chown(_summary_entry(root), _FOREIGN_UID, -1),
            "owned by uid 65534",
            id="entry-foreign",
        ),
    ],
)
def test_a_cache_others_can_write_is_not_used(
    tmp_path: Path, fresh_trust: None, make_untrusted: Any, reason: str
) -> None:
    """Guarantee 5, with one warning per process and cache directory."""
    root = tmp_path / "cache"
    _fill(root)
    make_untrusted(root)
    _as_a_new_process()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        summary = SummaryStore(root).get(KEY)
        SummaryStore(root).get(KEY)
    assert summary is None
    assert [w.category for w in caught] == [UntrustedCacheWarning]
    assert reason in str(caught[0].message)
    assert f"its cache in {root} is only used where nobody else can write" in str(caught[0].message)


def test_nothing_is_written_where_others_can_write(tmp_path: Path, fresh_trust: None) -> None:
    root = tmp_path / "cache"
    root.mkdir()
    root.chmod(0o777)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        _fill(root)
        assert _read_all(root) == [None, False, None, None]
    assert len(caught) == 1
    assert [p for p in root.rglob("*") if p.is_file()] == []


def test_each_store_checks_its_entries(tmp_path: Path, fresh_trust: None) -> None:
    """Verdicts, code-token shards and snapshot builds, as summaries."""
    root = tmp_path / "cache"
    _fill(root)
    for entry in root.rglob("*"):
        if entry.is_file():
            os.chown(entry, _FOREIGN_UID, -1)
    _as_a_new_process()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert _read_all(root) == [None, False, None, None]
    assert len(caught) == 1


_TRUST_PACKAGE = {
    "trusty/__init__.py": "",
    "trusty/helpers.py": "def helper(x):\n    return x + 1\n",
    "trusty/mod.py": "from trusty.helpers import helper\n\ndef f(x):\n    return helper(x) * 2\n",
}


def _token_cli(root: Path, cache: Path) -> subprocess.CompletedProcess[str]:
    return run_astoken("token", "trusty.mod:f", cwd=root, paths=[root], cache_dir=cache)


def _forge_code_tokens(cache: Path) -> int:
    """Rewrite every code-token shard as another local user could: other tokens, and the
    shard's own check recomputed so that it is a well-formed shard."""
    shards = sorted((cache / "codes").rglob("*.json"))
    for shard in shards:
        document = json.loads(shard.read_text())
        document["tokens"] = dict.fromkeys(document["tokens"], "f" * 64)
        document["check"] = _store._tokens_check(document["tokens"])
        shard.write_text(json.dumps(document, sort_keys=True))
    return len(shards)


@pytest.mark.parametrize(
    "make_untrusted",
    [
        pytest.param(lambda cache: cache.chmod(0o777), id="cache-directory-0777"),
        pytest.param(
            lambda cache: [os.chown(p, _FOREIGN_UID, -1) for p in cache.rglob("codes/*/*.json")],
            id="shards-of-another-user",
        ),
        pytest.param(
            lambda cache: [p.chmod(0o666) for p in cache.rglob("codes/*/*.json")],
            id="shards-writable-by-others",
        ),
    ],
)
def test_astoken_token_ignores_code_tokens_others_rewrote(
    tmp_path: Path, make_untrusted: Any
) -> None:
    """The reported case: with the cache directory mode 0777, another user rewrote
    ``codes/*/*.json`` and ``astoken token`` printed a different token, exit 0, no warning."""
    root, cache = tmp_path / "project", tmp_path / "cache"
    for relative, source in _TRUST_PACKAGE.items():
        (root / relative).parent.mkdir(parents=True, exist_ok=True)
        (root / relative).write_text(source)
    first = _token_cli(root, cache)
    assert first.returncode == 0, first.stderr
    assert _forge_code_tokens(cache) >= 2
    make_untrusted(cache)
    forged = _token_cli(root, cache)
    assert (forged.returncode, forged.stdout) == (0, first.stdout)
    assert forged.stderr.count("astoken: warning:") == 1
    assert "astoken does not use it" in forged.stderr
