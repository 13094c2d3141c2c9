"""Name sets as masks (astoken._nameset guarantees 1-3), lock files read into them
(astoken._lockfile), and diffs of such files made without their tokens (astoken._diff
guarantee 4)."""

from __future__ import annotations

import random
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from astoken import _lockfile
from astoken._diff import diff_snapshots
from astoken._lockfile import FileTokens, Snapshot, SnapshotEntry, read_snapshot, write_snapshot
from astoken._model import NodeKind
from astoken._nameset import NameIndex, NameSet, NameTable
from astoken.errors import SnapshotFormatError

NAMES = [f"m:f{i}" for i in range(12)] + ["os", "m:C", "m:C.run"]


@given(st.lists(st.sampled_from(NAMES), unique=True), st.randoms(use_true_random=False))
def test_mask_and_names_are_inverse_whatever_the_table_order(
    chosen: list[str], rnd: random.Random
) -> None:
    """Guarantees 1 and 2: sorted names out, in any table order; len and in from the mask."""
    order = list(NAMES)
    rnd.shuffle(order)
    table = NameTable(order)
    mask = table.mask(chosen)
    assert table.names(mask) == sorted(chosen)
    names = NameSet(table, mask)
    assert names == tuple(sorted(chosen))
    assert hash(names) == hash(tuple(sorted(chosen)))
    assert len(names) == len(chosen)
    assert all(name in names for name in chosen)
    assert not any(name in names for name in set(NAMES) - set(chosen))
    assert "not in the table" not in names
    assert list(names) == sorted(chosen)
    if chosen:
        assert names[0] == min(chosen)
        assert names[-1] == max(chosen)


@given(st.lists(st.sampled_from(NAMES), unique=True), st.lists(st.sampled_from(NAMES)))
def test_translate_keeps_every_name(chosen: list[str], more: list[str]) -> None:
    """Guarantee 3: a mask carried to a larger table of other order has the same names."""
    table = NameTable.sorted_from([*chosen, "m:zz"])
    other = NameTable(sorted({*chosen, *more, "m:zz"}, reverse=True))
    mask = table.mask(chosen)
    assert other.names(table.translate(mask, other)) == table.names(mask)
    assert NameSet(table, mask) == NameSet(other, table.translate(mask, other))


@given(st.lists(st.lists(st.sampled_from(NAMES))))
def test_an_index_filled_as_names_come_makes_masks_of_its_final_table(
    batches: list[list[str]],
) -> None:
    """Guarantee 4: masks made while the index grows are masks of the table it ends as."""
    index = NameIndex(["m:C"])
    masks = []
    for batch in batches:
        index.add(batch)
        masks.append((index.mask(batch), sorted(set(batch))))
    table = index.table()
    assert table.names_at[0] == "m:C"
    for mask, names in masks:
        assert table.names(mask) == names
        assert NameSet(table, mask) == tuple(names)


def test_a_name_not_in_the_table_is_a_key_error() -> None:
    """Guarantee 1."""
    with pytest.raises(KeyError, match="m:nope"):
        NameTable(["m:a"]).mask(["m:a", "m:nope"])
    with pytest.raises(ValueError, match="distinct"):
        NameTable(["m:a", "m:a"])


# ---- lock files read into masks; diffs without tokens --------------------------------------

TARGETS = [f"app.m:f{i}" for i in range(8)]
OTHERS = ["app.m:LIMIT", "numpy", "app.m:C"]


def _snapshot(closures: dict[str, frozenset[str]], own: dict[str, str], python: str) -> Snapshot:
    """A snapshot whose tokens are the ones the combiner makes (as astoken snapshot's are); a
    closure may hold its own target (a lock file says so with ``"self"``)."""
    tokens = FileTokens(own, python)
    entries = []
    for target in sorted(closures):
        deps = tuple(sorted(closures[target]))
        token = tokens.token(own.get(target), deps)
        entries.append(SnapshotEntry(target, NodeKind.FUNCTION, token, own.get(target), deps))
    return Snapshot(
        packages=("app",),
        entries=tuple(entries),
        own_tokens=tuple(sorted(own.items())),
        python=python,
    )


closure_maps = st.dictionaries(
    st.sampled_from(TARGETS), st.frozensets(st.sampled_from(TARGETS + OTHERS)), min_size=1
)
own_maps = st.dictionaries(
    st.sampled_from(TARGETS + OTHERS), st.sampled_from(["a" * 64, "b" * 64, "stdlib:os"])
)


@settings(max_examples=150, deadline=None)
@given(
    old=st.tuples(closure_maps, own_maps),
    new=st.tuples(closure_maps, own_maps),
    python=st.sampled_from(["cpython-311", "portable"]),
)
def test_diff_of_files_equals_the_diff_of_their_tokens(
    tmp_path_factory: pytest.TempPathFactory,
    old: tuple[dict[str, frozenset[str]], dict[str, str]],
    new: tuple[dict[str, frozenset[str]], dict[str, str]],
    python: str,
) -> None:
    """diff guarantee 4: two files read back are diffed from their masks (no token made) to
    the same result as the snapshots whose tokens are all written out."""
    before, after = _snapshot(*old, python), _snapshot(*new, python)
    folder = tmp_path_factory.mktemp("locks")
    write_snapshot(before, folder / "old.json")
    write_snapshot(after, folder / "new.json")
    old_file, new_file = read_snapshot(folder / "old.json"), read_snapshot(folder / "new.json")
    expected = diff_snapshots(before, after)
    found = diff_snapshots(old_file, new_file)
    # No token was made to find what changed: a changed target's are made when read.
    assert all(e.made_by is not None for e in (*old_file.entries, *new_file.entries))
    assert found == expected
    # And a file diffed against the in-memory snapshot (its tokens made) agrees too.
    assert diff_snapshots(read_snapshot(folder / "old.json"), after) == expected


def test_a_closure_that_comes_to_hold_its_own_target_changes_its_token(
    tmp_path: Path,
) -> None:
    """diff guarantee 4 counts the target's own name in its closure like any other name."""
    own = {"app.m:f0": "a" * 64, "app.m:f1": "b" * 64}
    closures = {"app.m:f0": frozenset({"app.m:f1"})}
    looped = {"app.m:f0": frozenset({"app.m:f0", "app.m:f1"})}
    write_snapshot(_snapshot(closures, own, "cpython-311"), tmp_path / "old.json")
    write_snapshot(_snapshot(looped, own, "cpython-311"), tmp_path / "new.json")
    found = diff_snapshots(
        read_snapshot(tmp_path / "old.json"), read_snapshot(tmp_path / "new.json")
    )
    assert [c.target for c in found.changed] == ["app.m:f0"]
    assert found.changed[0].old_token != found.changed[0].new_token


def test_entries_read_back_hold_masks_and_make_tokens_when_asked(tmp_path: Path) -> None:
    """A lock file's entries share one table of its names; a token is made on first use, equal
    to the one written out, and writing the file again hashes nothing and changes no byte."""
    own = dict.fromkeys(TARGETS, "a" * 64)
    closures = {t: frozenset(TARGETS[: i + 1]) | {"numpy"} for i, t in enumerate(TARGETS)}
    snapshot = _snapshot(closures, own, "cpython-311")
    path = tmp_path / "lock.json"
    write_snapshot(snapshot, path)
    read = read_snapshot(path)
    tables = {id(e.dependencies.table) for e in read.entries if isinstance(e.dependencies, NameSet)}
    assert len(tables) == 1
    assert len(read.entries) == len(snapshot.entries)
    written = path.read_bytes()
    write_snapshot(read, tmp_path / "again.json")
    assert (tmp_path / "again.json").read_bytes() == written
    assert all(e.made_by is not None for e in read.entries)
    assert read == snapshot
    assert all(e.made_by is None for e in read.entries)
    with pytest.raises(AttributeError, match="immutable"):
        read.entries[0].target = "app.m:other"


def test_closures_that_expand_beyond_the_memory_bound_are_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """_lockfile guarantee 6: nested bases that expand past MAX_CLOSURE_BYTES raise a
    SnapshotFormatError naming the file (the bound is made small here; the file is real)."""
    own = dict.fromkeys(TARGETS, "a" * 64)
    closures = {t: frozenset(TARGETS[:i]) | {"numpy"} for i, t in enumerate(TARGETS)}
    path = tmp_path / "lock.json"
    write_snapshot(_snapshot(closures, own, "cpython-311"), path)
    assert len(read_snapshot(path).entries) == len(TARGETS)
    monkeypatch.setattr(_lockfile, "MAX_CLOSURE_BYTES", 4)
    with pytest.raises(SnapshotFormatError, match=r"lock\.json.*more than 4 bytes"):
        read_snapshot(path)
