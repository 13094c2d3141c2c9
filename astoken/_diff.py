"""Differences between two snapshots: which targets changed, and the definitions why.

Pure functions of two :class:`~astoken._lockfile.Snapshot` values; reading and writing lock
files is :mod:`astoken._lockfile`'s. Guarantees (cited by ``tests/test_lockfile.py`` and
``tests/test_snapshot_files.py``):

1. :func:`diff_snapshots` is pure and its result is sorted. A target of a module that either
   snapshot left out (``failed``) is neither added nor removed: nothing is known about it.
2. A diff filtered to some targets (``targets=``, ``astoken diff --target``) is the diff of
   the selected targets only: the same changes, additions, removals and causes as the full
   diff restricted to them.
3. The causes of a changed target are the names in its closure (itself and its dependencies)
   whose own token differs between the snapshots, or that joined or left the closure.
4. Two entries read from lock files of one interpreter tag are compared without making their
   tokens: their tokens are equal exactly when their own tokens are, and their closures hold
   the same names with an own token, each the same in both files (the combiner hashes nothing
   else). A diff of sympy's lock files (21,264 closures, 181 million names) makes only the
   tokens of the targets that changed.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

from ._model import ChangedTarget, SnapshotDiff
from ._nameset import NameSet, NameTable

if TYPE_CHECKING:
    from ._lockfile import Snapshot, SnapshotEntry

__all__ = ["diff_snapshots", "matches_targets"]


def _own_token_lookup(snapshot: Snapshot) -> dict[str, str | None]:
    lookup: dict[str, str | None] = dict(snapshot.own_tokens)
    for entry in snapshot.entries:
        # An entry's own token is authoritative for its own name.
        lookup[entry.target] = entry.own_token
    return lookup


def matches_targets(target: str, patterns: Sequence[str]) -> bool:
    """True when ``target`` is selected by a pattern (guarantee 2): no patterns select
    everything; a pattern selects the target of that name, every target of a module or package
    of that name (``pkg.mod`` selects ``pkg.mod:f`` and ``pkg.mod.sub:g``, ``pkg.mod:C``
    selects ``pkg.mod:C.m``), and any target it matches as a glob (``pkg.*:fit*``)."""
    if not patterns:
        return True
    module, _, qualname = target.partition(":")
    for pattern in patterns:
        if target == pattern or fnmatch.fnmatchcase(target, pattern):
            return True
        if ":" in pattern:
            if target.startswith(pattern + "."):
                return True
        elif (
            module == pattern
            or module.startswith(pattern + ".")
            or (fnmatch.fnmatchcase(module, pattern) and qualname)
        ):
            return True
    return False


class _Masks:
    """The closures of two lock files' entries as masks over one table of both files' names
    (guarantee 4): which names have an own token in each, which differ, which own tokens the
    causes compare."""

    def __init__(
        self,
        *,
        old_table: NameTable,
        new_table: NameTable,
        old_definitions: Mapping[str, str],
        new_definitions: Mapping[str, str],
        old_own: Mapping[str, str | None],
        new_own: Mapping[str, str | None],
    ) -> None:
        if old_table.names_at == new_table.names_at:
            table = old_table
        else:
            table = NameTable.sorted_from((*old_table.names_at, *new_table.names_at))
        self.table = table
        # Each file's masks are carried to the shared table, or taken as they are when the
        # file's names are the table's (compared once here, not per entry).
        self.old_table = None if old_table.names_at == table.names_at else old_table
        self.new_table = None if new_table.names_at == table.names_at else new_table
        names = table.names_at
        self.old_defined = table.mask(n for n in names if n in old_definitions)
        self.new_defined = table.mask(n for n in names if n in new_definitions)
        self.redefined = table.mask(
            n for n in names if old_definitions.get(n) != new_definitions.get(n)
        )
        self.own_changed = table.mask(n for n in names if old_own.get(n) != new_own.get(n))

    def closures(self, before: NameSet, after: NameSet) -> tuple[int, int]:
        """The two closures (as the files hold them) as masks of the shared table."""
        table, old, new = self.table, self.old_table, self.new_table
        return (
            before.mask if old is None else old.translate(before.mask, table),
            after.mask if new is None else new.translate(after.mask, table),
        )

    def same_token(self, old_mask: int, new_mask: int) -> bool:
        """Guarantee 4, for two deferred entries whose own tokens are equal: the closures as
        the files hold them (one that holds its own target pairs it as any other name)."""
        held = old_mask & self.old_defined
        return held == new_mask & self.new_defined and not held & self.redefined

    def causes(self, target: str, old_mask: int, new_mask: int) -> tuple[str, ...]:
        """Guarantee 3's causes, from the two closures' masks (the target itself included)."""
        bit = self.table.bit(target)
        old_mask, new_mask = old_mask | bit, new_mask | bit
        changed = (old_mask & new_mask & self.own_changed) | (old_mask ^ new_mask)
        return tuple(self.table.names(changed))


def _masks_for(
    before: SnapshotEntry,
    after: SnapshotEntry,
    *,
    made: dict[tuple[int, ...], _Masks | None],
    old_own: Mapping[str, str | None],
    new_own: Mapping[str, str | None],
) -> tuple[_Masks, int, int] | None:
    """The shared masks and the two closures of two entries read from lock files of one
    interpreter tag with their tokens not yet made (the masks made once per pair of files,
    kept in ``made``); None otherwise."""
    old_by, new_by = before.made_by, after.made_by
    deps_before, deps_after = before.dependencies, after.dependencies
    if (
        old_by is None
        or new_by is None
        or not isinstance(deps_before, NameSet)
        or not isinstance(deps_after, NameSet)
    ):
        return None
    key = (id(old_by), id(new_by), id(deps_before.table), id(deps_after.table))
    if key not in made:
        made[key] = (
            _Masks(
                old_table=deps_before.table,
                new_table=deps_after.table,
                old_definitions=old_by.definitions,
                new_definitions=new_by.definitions,
                old_own=old_own,
                new_own=new_own,
            )
            if old_by.python == new_by.python
            else None
        )
    masks = made[key]
    if masks is None:
        return None
    return (masks, *masks.closures(deps_before, deps_after))


def diff_snapshots(old: Snapshot, new: Snapshot, *, targets: Sequence[str] = ()) -> SnapshotDiff:
    """Targets whose behavior token changed, with causes; plus added and removed targets.

    The causes of a changed target are the names in its closure (itself and its dependencies)
    whose own token differs between the snapshots, or that joined or left the closure. A
    target can change with no cause when only the interpreter or token format differs. With
    ``targets``, only the targets they select are compared (see :func:`matches_targets`).
    """
    old_entries: Mapping[str, SnapshotEntry] = {
        e.target: e for e in old.entries if matches_targets(e.target, targets)
    }
    new_entries: Mapping[str, SnapshotEntry] = {
        e.target: e for e in new.entries if matches_targets(e.target, targets)
    }
    old_own = _own_token_lookup(old)
    new_own = _own_token_lookup(new)
    changed: list[ChangedTarget] = []
    unchanged = 0
    made: dict[tuple[int, ...], _Masks | None] = {}
    for target in sorted(old_entries.keys() & new_entries.keys()):
        before, after = old_entries[target], new_entries[target]
        shared = _masks_for(before, after, made=made, old_own=old_own, new_own=new_own)
        if shared is not None:
            # Guarantee 4: the tokens differ exactly when this says so; neither is made here.
            masks, old_mask, new_mask = shared
            if before.own_token == after.own_token and masks.same_token(old_mask, new_mask):
                unchanged += 1
                continue
            changed.append(
                ChangedTarget.of(target, before, after, masks.causes(target, old_mask, new_mask))
            )
            continue
        if before.token == after.token:
            unchanged += 1
            continue
        old_closure = {target, *before.dependencies}
        new_closure = {target, *after.dependencies}
        causes = {
            name for name in new_closure & old_closure if old_own.get(name) != new_own.get(name)
        }
        causes |= old_closure ^ new_closure
        changed.append(
            ChangedTarget(
                target=target,
                old_token=before.token,
                new_token=after.token,
                causes=tuple(sorted(causes)),
            )
        )
    left_out = {module for module, _ in (*old.failed, *new.failed)}

    def known(target: str) -> bool:
        return target not in left_out and target.partition(":")[0] not in left_out

    return SnapshotDiff(
        changed=tuple(changed),
        added=tuple(sorted(t for t in new_entries.keys() - old_entries.keys() if known(t))),
        removed=tuple(sorted(t for t in old_entries.keys() - new_entries.keys() if known(t))),
        unchanged=unchanged,
    )
