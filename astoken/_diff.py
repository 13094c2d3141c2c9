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
"""

from __future__ import annotations

import fnmatch
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

from ._model import ChangedTarget, SnapshotDiff

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
    for target in sorted(old_entries.keys() & new_entries.keys()):
        before, after = old_entries[target], new_entries[target]
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
