"""Snapshot files (astoken._lockfile) and their diff (astoken._diff); numbers cite the module
docstrings (diff guarantees as "diff N")."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from astoken._diff import diff_snapshots
from astoken._lockfile import (
    Snapshot,
    SnapshotEntry,
    dumps_snapshot,
    read_snapshot,
    write_atomic,
    write_snapshot,
)
from astoken._model import FORMAT_VERSION, ChangedTarget, NodeKind
from astoken.errors import SnapshotFormatError

FIT, SCALE, LIMIT, NEW = "app.train:fit", "app.features:scale", "app.features:LIMIT", "app.x:new"


def tok(char: str) -> str:
    return char * 64


def entry(target: str, token: str, own: str, *deps: str) -> SnapshotEntry:
    return SnapshotEntry(target, NodeKind.FUNCTION, tok(token), tok(own), tuple(sorted(deps)))


def snap(entries: list[SnapshotEntry], own: dict[str, str]) -> Snapshot:
    return Snapshot(
        packages=("app",),
        entries=tuple(entries),
        own_tokens=tuple(sorted((k, tok(v)) for k, v in own.items())),
        python="cpython-311",
    )


BASE = snap(
    [entry(SCALE, "2", "b", LIMIT), entry(FIT, "1", "a", SCALE, LIMIT)],  # sorted, as read back
    {FIT: "a", SCALE: "b", LIMIT: "c"},
)


def test_round_trip(tmp_path: Path) -> None:
    """Guarantee 1."""
    path = tmp_path / "astoken.lock.json"
    write_snapshot(BASE, path)
    assert read_snapshot(path) == BASE


def test_equal_snapshots_are_identical_bytes(tmp_path: Path) -> None:
    """Guarantee 2: entry and own-token order in the value does not reach the file."""
    reordered = Snapshot(
        packages=BASE.packages,
        entries=tuple(reversed(BASE.entries)),
        own_tokens=tuple(reversed(BASE.own_tokens)),
        python=BASE.python,
    )
    write_snapshot(BASE, tmp_path / "a.json")
    write_snapshot(reordered, tmp_path / "b.json")
    assert (tmp_path / "a.json").read_bytes() == (tmp_path / "b.json").read_bytes()
    document = json.loads((tmp_path / "a.json").read_text("utf-8"))
    assert list(document["entries"]) == sorted(document["entries"])
    assert document["astoken_snapshot"] == 2
    assert document["format_version"] == FORMAT_VERSION


def test_failed_write_leaves_old_file_and_no_temp_files(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Guarantee 2: atomic writes."""
    path = tmp_path / "stamp"
    path.write_bytes(b"old\n")

    def broken_replace(src: str, dst: str) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", broken_replace)
    with pytest.raises(OSError, match="No space"):
        write_atomic(path, b"new\n")
    assert path.read_bytes() == b"old\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["stamp"]


def valid_document() -> dict[str, Any]:
    result: dict[str, Any] = json.loads(dumps_snapshot(BASE))
    return result


def mutate(change: Any) -> str:
    document = valid_document()
    change(document)
    return json.dumps(document)


MALFORMED = [
    pytest.param(b"\xff\xfe{", "not UTF-8", id="not-utf8"),
    pytest.param(b"{", "not JSON (line 1", id="not-json"),
    pytest.param(b"[1, 2]", "not an astoken snapshot", id="not-an-object"),
    pytest.param(b'{"packages": []}', "not an astoken snapshot", id="no-marker"),
    pytest.param(
        mutate(lambda d: d.update(astoken_snapshot=99)).encode(),
        "layout version 99",
        id="future-layout",
    ),
    pytest.param(
        mutate(lambda d: d.update(format_version=FORMAT_VERSION + 1)).encode(),
        "token format version",
        id="other-token-format",
    ),
    pytest.param(
        mutate(lambda d: d.update(entries=[])).encode(), "entries must be an object", id="entries"
    ),
    pytest.param(
        mutate(lambda d: d["entries"][FIT].update(kind="gadget")).encode(),
        "entries['app.train:fit'].kind 'gadget' is not a node kind",
        id="bad-kind",
    ),
    pytest.param(
        mutate(lambda d: d["entries"][FIT].update(token=5)).encode(),
        "entries['app.train:fit'].token must be a string or null",
        id="bad-token",
    ),
    pytest.param(
        mutate(lambda d: d["entries"][FIT].update(deps="x")).encode(),
        "entries['app.train:fit'].deps must be a list of strings",
        id="bad-dependencies",
    ),
    pytest.param(
        mutate(lambda d: d["entries"][FIT].update(bases=[NEW])).encode(),
        "base 'app.x:new' of 'app.train:fit' is not a target",
        id="base-not-a-target",
    ),
    pytest.param(
        mutate(
            lambda d: (
                d["entries"][FIT].update(bases=[SCALE]),
                d["entries"][SCALE].update(bases=[FIT]),
            )
        ).encode(),
        "form a cycle",
        id="bases-in-a-cycle",
    ),
    pytest.param(
        mutate(lambda d: d.update(definitions={"x": 1})).encode(),
        "definitions must be an object of strings",
        id="bad-own-tokens",
    ),
    pytest.param(
        mutate(lambda d: d.update(packages="app")).encode(),
        "packages must be a list of strings",
        id="bad-packages",
    ),
]


@pytest.mark.parametrize(("content", "reason"), MALFORMED)
def test_malformed_files_name_file_and_problem(tmp_path: Path, content: bytes, reason: str) -> None:
    """Guarantee 3."""
    path = tmp_path / "bad.json"
    path.write_bytes(content)
    with pytest.raises(SnapshotFormatError) as caught:
        read_snapshot(path)
    assert caught.value.file == str(path)
    assert reason in caught.value.reason
    assert str(path) in str(caught.value)


def test_missing_file_is_a_snapshot_format_error(tmp_path: Path) -> None:
    with pytest.raises(SnapshotFormatError, match="cannot read"):
        read_snapshot(tmp_path / "nope.json")


DIFFS = [
    pytest.param(BASE, [], [], [], id="identical"),
    pytest.param(
        snap(
            [entry(FIT, "9", "a", SCALE, LIMIT), entry(SCALE, "8", "b", LIMIT)],
            {FIT: "a", SCALE: "b", LIMIT: "d"},
        ),
        [(SCALE, (LIMIT,)), (FIT, (LIMIT,))],  # sorted by target name
        [],
        [],
        id="constant-changed-reaches-both",
    ),
    pytest.param(
        snap(
            [entry(FIT, "9", "a", SCALE, LIMIT), entry(SCALE, "8", "e", LIMIT)],
            {FIT: "a", SCALE: "e", LIMIT: "c"},
        ),
        [(SCALE, (SCALE,)), (FIT, (SCALE,))],
        [],
        [],
        id="helper-changed-own-code",
    ),
    pytest.param(
        snap(
            [entry(FIT, "9", "a", SCALE, LIMIT, NEW), entry(SCALE, "2", "b", LIMIT)],
            {FIT: "a", SCALE: "b", LIMIT: "c", NEW: "f"},
        ),
        [(FIT, (NEW,))],
        [],
        [],
        id="dependency-joined-closure",
    ),
    pytest.param(
        snap(
            [entry(FIT, "9", "a", SCALE), entry(SCALE, "2", "b", LIMIT)],
            {FIT: "a", SCALE: "b", LIMIT: "c"},
        ),
        [(FIT, (LIMIT,))],
        [],
        [],
        id="dependency-left-closure",
    ),
    pytest.param(
        snap([entry(FIT, "1", "a", SCALE, LIMIT), entry(NEW, "3", "f")], {FIT: "a", NEW: "f"}),
        [],
        [NEW],
        [SCALE],
        id="added-and-removed-targets",
    ),
    pytest.param(
        snap(
            [entry(FIT, "7", "a", SCALE, LIMIT), entry(SCALE, "2", "b", LIMIT)],
            {FIT: "a", SCALE: "b", LIMIT: "c"},
        ),
        [(FIT, ())],
        [],
        [],
        id="token-changed-without-a-cause",
    ),
]


@pytest.mark.parametrize(("new", "changed", "added", "removed"), DIFFS)
def test_diff_snapshots(
    new: Snapshot,
    changed: list[tuple[str, tuple[str, ...]]],
    added: list[str],
    removed: list[str],
) -> None:
    """Diff 1, and causes = changed own tokens plus closure members that came or went (diff 3)."""
    result = diff_snapshots(BASE, new)
    assert [(c.target, c.causes) for c in result.changed] == changed
    assert list(result.added) == added
    assert list(result.removed) == removed
    assert result.is_empty == (not changed and not added and not removed)


def test_diff_records_both_tokens_and_is_pure() -> None:
    new = snap([entry(FIT, "9", "a", SCALE, LIMIT)], {FIT: "a", SCALE: "b", LIMIT: "d"})
    first = diff_snapshots(BASE, new)
    assert first == diff_snapshots(BASE, new)
    assert first.changed == (ChangedTarget(FIT, tok("1"), tok("9"), (LIMIT,)),)
    assert first.removed == (SCALE,)


def test_written_files_get_the_usual_mode_and_errors_name_the_target(tmp_path: Path) -> None:
    path = tmp_path / "graph.html"
    write_atomic(path, b"x")
    mask = os.umask(0o022)
    os.umask(mask)
    assert path.stat().st_mode & 0o777 == 0o666 & ~mask
    missing = tmp_path / "no" / "such" / "dir" / "out.txt"
    with pytest.raises(FileNotFoundError) as caught:
        write_atomic(missing, b"x")
    assert caught.value.filename == str(missing)


def test_partial_snapshot_round_trip_and_complete_files_unchanged(tmp_path: Path) -> None:
    """Guarantees 1-2: the modules left out are kept; a complete snapshot has no such key."""
    partial = Snapshot(
        packages=BASE.packages,
        entries=BASE.entries,
        own_tokens=BASE.own_tokens,
        python=BASE.python,
        failed=(("app.slow", "import failed: ModuleNotFoundError: No module named 'scipy'"),),
    )
    write_snapshot(partial, tmp_path / "partial.json")
    assert read_snapshot(tmp_path / "partial.json") == partial
    assert read_snapshot(tmp_path / "partial.json").is_partial
    write_snapshot(BASE, tmp_path / "complete.json")
    assert "failed" not in json.loads((tmp_path / "complete.json").read_text("utf-8"))
    assert not read_snapshot(tmp_path / "complete.json").is_partial


def test_targets_of_left_out_modules_are_neither_added_nor_removed() -> None:
    """Diff 1: nothing is known about a module one side could not import."""
    gone = snap([entry(FIT, "1", "a", SCALE, LIMIT)], {FIT: "a", SCALE: "b", LIMIT: "c"})
    partial = Snapshot(
        packages=gone.packages,
        entries=gone.entries,
        own_tokens=gone.own_tokens,
        python=gone.python,
        failed=(("app.features", "import failed: RuntimeError: boom"),),
    )
    assert diff_snapshots(BASE, partial).removed == ()
    assert diff_snapshots(partial, BASE).added == ()
    assert diff_snapshots(BASE, gone).removed == (SCALE,)


_READ_IN_A_BOX = """
import resource, sys
# A regression (an endless read) must fail fast, not take the machine's memory.
resource.setrlimit(resource.RLIMIT_AS, (1 << 30, 1 << 30))
from astoken._lockfile import read_snapshot
from astoken.errors import SnapshotFormatError
try:
    read_snapshot(sys.argv[1])
except SnapshotFormatError as exc:
    print(exc)
"""


@pytest.mark.skipif(not Path("/dev/zero").exists(), reason="needs /dev/zero")
def test_lock_file_linked_to_dev_zero_is_refused(tmp_path: Path) -> None:
    """Guarantee 3: read only regular files, bounded (never an endless read)."""
    link = tmp_path / "lock.json"
    link.symlink_to("/dev/zero")
    result = subprocess.run(
        [sys.executable, "-c", _READ_IN_A_BOX, str(link)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(f"{link}: not a regular file")
