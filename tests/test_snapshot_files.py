"""Snapshots from Python (``Snapshot.load/save``, summaries, ``diff(targets=...)``) and the
command line's ``diff --update`` and ``diff --target`` (issue 9, item 7)."""

from __future__ import annotations

import itertools
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import astoken
from astoken import NodeKind, Snapshot, SnapshotEntry, cli
from astoken._diff import matches_targets
from astoken.errors import SnapshotFormatError

NAMES = ("app.a:f", "app.a:C", "app.a:C.m", "app.b:g", "app.b.sub:h", "lib.x:k")


def _snapshot(tokens: dict[str, str]) -> Snapshot:
    entries = tuple(
        SnapshotEntry(name, NodeKind.FUNCTION, token, token, ())
        for name, token in sorted(tokens.items())
    )
    return Snapshot(packages=("app",), entries=entries, own_tokens=tuple(sorted(tokens.items())))


def test_save_and_load_round_trip(tmp_path: Path) -> None:
    snap = _snapshot({name: f"{i:064x}" for i, name in enumerate(NAMES)})
    path = tmp_path / "lock.json"
    snap.save(path)
    assert Snapshot.load(path) == snap
    first = path.read_bytes()
    Snapshot.load(path).save(path)
    assert path.read_bytes() == first  # equal snapshots, identical files


def test_load_of_a_bad_file_names_it(tmp_path: Path) -> None:
    path = tmp_path / "lock.json"
    path.write_text("{}")
    with pytest.raises(SnapshotFormatError) as info:
        Snapshot.load(path)
    assert str(path) in str(info.value)


def test_summaries() -> None:
    old = _snapshot(dict.fromkeys(NAMES, "0" * 64))
    new = _snapshot({**dict.fromkeys(NAMES[:-1], "0" * 64), "app.a:f": "1" * 64, "new:x": "2" * 64})
    result = astoken.diff(old, new)
    assert result.summary() == "1 changed, 1 added, 1 removed, 4 unchanged"
    assert old.summary() == "6 targets in app"


@pytest.mark.parametrize(
    ("pattern", "selected"),
    [
        ("app.a:f", {"app.a:f"}),
        ("app.a:C", {"app.a:C", "app.a:C.m"}),
        ("app.a", {"app.a:f", "app.a:C", "app.a:C.m"}),
        ("app.b", {"app.b:g", "app.b.sub:h"}),
        ("app", {n for n in NAMES if n.startswith("app")}),
        ("app.*:g", {"app.b:g"}),
        ("*:h", {"app.b.sub:h"}),
        ("app.b.*", {"app.b.sub:h"}),
        ("nothing", set()),
    ],
)
def test_target_patterns(pattern: str, selected: set[str]) -> None:
    assert {n for n in NAMES if matches_targets(n, (pattern,))} == selected


@settings(max_examples=50, deadline=None)
@given(
    st.dictionaries(st.sampled_from(NAMES), st.sampled_from(["0" * 64, "1" * 64])),
    st.dictionaries(st.sampled_from(NAMES), st.sampled_from(["0" * 64, "1" * 64])),
    st.lists(st.sampled_from(["app.a", "app.b:g", "app.*:C*", "lib", "*:h"]), max_size=3),
)
def test_a_filtered_diff_is_the_full_diff_restricted(
    old: dict[str, str], new: dict[str, str], patterns: list[str]
) -> None:
    """Guarantee 2 of astoken._diff."""
    full = astoken.diff(_snapshot(old), _snapshot(new))
    part = astoken.diff(_snapshot(old), _snapshot(new), targets=patterns)

    def keep(name: str) -> bool:
        return matches_targets(name, patterns)

    assert part.changed == tuple(c for c in full.changed if keep(c.target))
    assert part.added == tuple(t for t in full.added if keep(t))
    assert part.removed == tuple(t for t in full.removed if keep(t))
    compared = [t for t in old.keys() & new.keys() if keep(t)]
    assert part.unchanged == len(compared) - len(part.changed)


def test_targets_must_not_be_a_string() -> None:
    with pytest.raises(TypeError):
        astoken.diff(_snapshot({}), _snapshot({}), targets="app")


# --------------------------------------------------------------------------------------------
# The command line, on a real package.
# --------------------------------------------------------------------------------------------


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    (tmp_path / "upd").mkdir()
    (tmp_path / "upd" / "__init__.py").write_text("")
    (tmp_path / "upd" / "a.py").write_text("def f(x):\n    return x + 1\n")
    (tmp_path / "upd" / "b.py").write_text("def g(x):\n    return x * 2\n")
    monkeypatch.chdir(tmp_path)
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setenv("PYTHONDONTWRITEBYTECODE", "1")
    before = set(sys.modules)
    yield tmp_path
    for name in set(sys.modules) - before:
        del sys.modules[name]


def _edit(root: Path, module: str, old: str, new: str) -> None:
    path = root / "upd" / f"{module}.py"
    path.write_text(path.read_text().replace(old, new))
    for name in [n for n in sys.modules if n.startswith("upd")]:
        del sys.modules[name]


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = cli.main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_diff_update_refreshes_the_lock_file(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert _run(capsys, "snapshot", "upd", "-o", "lock.json")[0] == 0
    _edit(project, "a", "x + 1", "x + 2")
    code, out, _ = _run(capsys, "diff", "lock.json", "--summary")
    assert code == cli.ExitCode.CHANGED
    assert out == (
        "upd.a:f changed because its own code changed\n1 changed, 0 added, 0 removed, 1 unchanged\n"
    )
    code, out, _ = _run(capsys, "diff", "lock.json", "--update")
    assert (code, out) == (cli.ExitCode.OK, "upd.a:f changed because its own code changed\n")
    assert Snapshot.load(project / "lock.json") == astoken.snapshot(["upd"])
    assert _run(capsys, "diff", "lock.json")[:2] == (cli.ExitCode.OK, "")


def test_diff_target_filters(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert _run(capsys, "snapshot", "upd", "-o", "lock.json")[0] == 0
    _edit(project, "a", "x + 1", "x + 2")
    _edit(project, "b", "x * 2", "x * 3")
    code, out, _ = _run(capsys, "diff", "lock.json", "--target", "upd.b", "--summary")
    assert code == cli.ExitCode.CHANGED
    assert out == (
        "upd.b:g changed because its own code changed\n1 changed, 0 added, 0 removed, 0 unchanged\n"
    )
    code, out, _ = _run(capsys, "-q", "diff", "lock.json", "--target", "upd.*:f", "--target", "x")
    assert (code, out) == (cli.ExitCode.CHANGED, "upd.a:f changed because its own code changed\n")


def test_diff_update_with_two_files_is_a_usage_error(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as info:
        cli.main(["diff", "a.json", "b.json", "--update"])
    assert info.value.code == 2
    assert "--update" in capsys.readouterr().err


def test_a_saved_snapshot_diffs_like_the_cli(project: Path) -> None:
    """The Python workflow of a CI gate: save, edit, compare."""
    astoken.snapshot(["upd"]).save(project / "lock.json")
    _edit(project, "b", "x * 2", "x * 3")
    result = astoken.diff(Snapshot.load(project / "lock.json"), astoken.snapshot(["upd"]))
    assert [c.target for c in result.changed] == ["upd.b:g"]
    assert list(itertools.chain(result.added, result.removed)) == []
    assert textwrap.dedent(result.summary()) == "1 changed, 0 added, 0 removed, 1 unchanged"
