"""Lock files a team can commit (issue 22, item 4): small, stable, few lines per edit.

Cites astoken._lockfile's guarantees 1, 3 and 4 and astoken._compact's. Snapshots of packages
generated on disk are taken by ``astoken snapshot`` in fresh interpreters (an edit is a new
process, as in CI); sizes and changed lines are counted, never timed.
"""

from __future__ import annotations

import difflib
import json
from pathlib import Path

import pytest
from _fresh import run_astoken
from hypothesis import given, settings
from hypothesis import strategies as st

from astoken import cli
from astoken._compact import CompactError, compact_closures, expand_closures
from astoken._diff import diff_snapshots
from astoken._lockfile import read_snapshot
from astoken._nameset import NameSet, NameTable

#: Functions in the generated package: each calls the one before it and a shared helper, so
#: closures grow with the position (the sum of their sizes grows as the square).
COUNT = 120


def _generated(helper_body: str = "return x + 1", extra_call: str = "") -> dict[str, str]:
    lines = [
        "LIMIT = 10",
        "",
        "def helper(x):",
        f"    {helper_body}",
        "",
        "def other(x):",
        "    return x * 3",
        "",
        "def f0(x):",
        f"    {extra_call}return helper(x) + LIMIT",
    ]
    for i in range(1, COUNT):
        lines += ["", f"def f{i}(x):", f"    return f{i - 1}(helper(x))"]
    lines += ["", "class Model:", "    def fit(self, x):", f"        return f{COUNT - 1}(x)"]
    return {"gen/__init__.py": "", "gen/core.py": "\n".join(lines) + "\n"}


def _snapshot(root: Path, out: Path) -> Path:
    done = run_astoken("snapshot", "gen", "-o", str(out), "-q", cwd=root, paths=[root])
    assert done.returncode == 0, done.stderr
    return out


def _changed_lines(before: Path, after: Path) -> list[str]:
    diff = difflib.unified_diff(
        before.read_text("utf-8").splitlines(), after.read_text("utf-8").splitlines(), n=0
    )
    return [line for line in diff if line[:1] in "+-" and not line.startswith(("+++", "---"))]


@pytest.fixture(scope="module")
def lock_files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The generated package's lock file, and after three edits of it."""
    base = tmp_path_factory.mktemp("layout")
    variants = {
        "before": _generated(),
        "body": _generated(helper_body="return x + 2"),
        "call": _generated(extra_call="other(x)\n    "),
    }
    files: dict[str, Path] = {}
    for name, tree in variants.items():
        root = base / name
        for relative, source in tree.items():
            path = root / relative
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(source, encoding="utf-8")
        files[name] = _snapshot(root, base / f"{name}.json")
    return files


def test_the_size_grows_with_the_definitions_not_with_the_closures(
    lock_files: dict[str, Path],
) -> None:
    """Closures are written by the entries they contain: the file is linear in the package
    while the names of all closures grow as its square (layout 1 wrote them all out)."""
    snapshot = read_snapshot(lock_files["before"])
    listed = sum(len(entry.dependencies) for entry in snapshot.entries)
    assert len(snapshot.entries) == COUNT + 4  # f0..f119, helper, other, Model, Model.fit
    assert listed > COUNT * COUNT / 2
    size = lock_files["before"].stat().st_size
    assert size < 200 * (len(snapshot.entries) + len(snapshot.own_tokens))
    assert size < listed * 4  # layout 1 wrote at least 20 bytes per listed name
    document = json.loads(lock_files["before"].read_text("utf-8"))
    written = sum(
        len(row.get("bases", ())) + len(row.get("deps", ())) for row in document["entries"].values()
    )
    assert written <= 3 * len(snapshot.entries)


def test_one_line_per_definition_and_entry(lock_files: dict[str, Path]) -> None:
    snapshot = read_snapshot(lock_files["before"])
    lines = lock_files["before"].read_text("utf-8").splitlines()
    # The braces and the top-level keys, then one line per definition and per entry.
    assert len(lines) == len(snapshot.entries) + len(snapshot.own_tokens) + 10


def test_a_body_edit_changes_one_definition_line_and_diff_names_it(
    lock_files: dict[str, Path],
) -> None:
    """Guarantee 4: the helper every function calls is edited; one line changes, while every
    entry's behavior token changes and the diff names the helper as the cause."""
    changed = _changed_lines(lock_files["before"], lock_files["body"])
    assert len(changed) == 2, changed
    assert all('"gen.core:helper"' in line for line in changed)
    diff = diff_snapshots(read_snapshot(lock_files["before"]), read_snapshot(lock_files["body"]))
    assert len(diff.changed) == COUNT + 3  # every entry but `other`
    assert {change.causes for change in diff.changed} == {("gen.core:helper",)}


def test_an_added_call_changes_a_handful_of_lines(lock_files: dict[str, Path]) -> None:
    """Guarantee 4: f0 now also calls ``other``; every entry that reaches f0 gains it in its
    closure, held by its bases: the lines that change are f0's and a few more."""
    changed = _changed_lines(lock_files["before"], lock_files["call"])
    assert 2 <= len(changed) <= 8, changed
    diff = diff_snapshots(read_snapshot(lock_files["before"]), read_snapshot(lock_files["call"]))
    assert len(diff.changed) == COUNT + 2  # f0..f119, Model, Model.fit
    assert all("gen.core:other" in change.causes for change in diff.changed)


@pytest.mark.parametrize("variant", ["body", "call"])
def test_a_diff_of_read_files_needs_no_token_and_tokens_are_the_analysis_ones(
    lock_files: dict[str, Path], variant: str
) -> None:
    """diff guarantee 4 on files astoken wrote: which targets changed is found without making
    a token, the same diff as with every token made first, and a token made from the read
    file is the one ``astoken token`` gives for that target in the edited package."""
    before, after = read_snapshot(lock_files["before"]), read_snapshot(lock_files[variant])
    found = diff_snapshots(before, after)
    assert found.changed
    assert all(e.made_by is not None for e in (*before.entries, *after.entries))
    forced_before, forced_after = (
        read_snapshot(lock_files["before"]),
        read_snapshot(lock_files[variant]),
    )
    for entry in (*forced_before.entries, *forced_after.entries):
        assert entry.token is not None  # every function and method of gen has behavior
        assert entry.made_by is None
    assert diff_snapshots(forced_before, forced_after) == found
    targets = ["gen.core:f0", f"gen.core:f{COUNT - 1}", "gen.core:Model.fit"]
    root = lock_files[variant].parent / variant
    done = run_astoken("token", *targets, "--format", "json", cwd=root, paths=[root])
    assert done.returncode == 0, done.stderr
    tokens = {e.target: e for e in after.entries}
    analysed = json.loads(done.stdout)
    assert {t: tokens[t].token for t in targets} == {t: analysed[t] for t in targets}


def test_an_older_layout_is_refused_with_the_advice(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Guarantee 3: a layout-1 file (every closure written out) is not read: exit code 8 and
    "run astoken snapshot again"."""
    old = tmp_path / "old.json"
    old.write_text(
        json.dumps(
            {
                "astoken_snapshot": 1,
                "entries": {},
                "format_version": 2,
                "own_tokens": {},
                "packages": ["app"],
                "python": "cpython-311",
            }
        ),
        encoding="utf-8",
    )
    assert cli.main(["diff", str(old), str(old)]) == cli.ExitCode.BAD_SNAPSHOT
    err = capsys.readouterr().err
    assert "snapshot layout version 1 is older" in err
    assert "run astoken snapshot again" in err


# ---- astoken._compact ----------------------------------------------------------------------

closure_maps = st.dictionaries(
    st.sampled_from([f"m:t{i}" for i in range(8)]),
    st.frozensets(st.sampled_from([f"m:t{i}" for i in range(8)] + ["m:C", "os"])),
    max_size=8,
)


@settings(max_examples=200, deadline=None)
@given(closures=closure_maps)
def test_compact_closures_expand_to_themselves(closures: dict[str, frozenset[str]]) -> None:
    """_compact guarantees 1-2 (cycles between targets included)."""
    closures = {target: names - {target} for target, names in closures.items()}
    compact = compact_closures(closures)
    table = NameTable.sorted_from([*closures, *(n for names in closures.values() for n in names)])
    masks = expand_closures(table, compact, limit=10_000)
    assert {target: frozenset(table.names(mask)) for target, mask in masks.items()} == closures
    assert compact_closures(dict(reversed(closures.items()))) == compact
    # Closures already held as name sets of one table are written to the same bases and names.
    shared = {target: NameSet(table, table.mask(names)) for target, names in closures.items()}
    assert compact_closures(shared) == compact


def test_expansion_beyond_the_limit_is_refused() -> None:
    """_compact guarantee 4: a chain of bases that nests into many names stops at the limit."""
    chain = {f"m:t{i}": ((f"m:t{i - 1}",) if i else (), (f"m:x{i}",)) for i in range(200)}
    table = NameTable.sorted_from([*chain, *(f"m:x{i}" for i in range(200))])
    assert expand_closures(table, chain, limit=200 * 400)["m:t199"].bit_count() == 399
    # 200 closures of up to 400 bits: about 10,000 bytes of masks in all.
    with pytest.raises(CompactError, match="more than 1000 bytes"):
        expand_closures(table, chain, limit=1000)
