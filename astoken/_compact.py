"""Closures written compactly, for lock files: each by the targets whose closures it contains.

A snapshot's closures overlap: a function's closure holds the closures of the functions it
calls (networkx: 2,099 closures, 336,000 names, 2,300 distinct). A lock file writes each
closure as *bases*, targets whose closure (and the target itself) it contains, and *extra*
names, the rest:

    closure(t) = extra(t) | {b} | closure(b) for every b in bases(t), without t

(a base in a cycle with ``t`` reaches ``t``; a target is never in its own closure).

Guarantees (cited by ``tests/test_lockfile_layout.py``):

1. :func:`expand_closures` of :func:`compact_closures` gives back every closure exactly.
2. The result depends only on the closures (not on the order of the mapping), so equal
   snapshots give equal files; a base is always smaller than what it is a base of (fewer
   names, then the name first in sorted order), so bases never form a cycle.
3. An edit that adds a call adds the callee's names to the closures that reach the caller;
   those whose base is the caller (directly or through bases) hold the change there, so the
   lines of a lock file that change are few.
4. :func:`expand_closures` reads untrusted input: a base that is not a target, a cycle of
   bases, or closures whose masks take more than ``limit`` bytes in all raise
   :class:`CompactError`.
5. Both work on bit masks over one :class:`~astoken._nameset.NameTable` (see
   :mod:`astoken._nameset`), never a set of strings per closure: sympy's 21,264 closures of a
   median 13,649 names each are 72 MB of masks (as sets of strings, they took 16 GB).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping

from ._nameset import NameSet, NameTable

__all__ = ["CompactClosure", "CompactError", "compact_closures", "expand_closures"]

#: A closure as written: its bases and its extra names, each sorted.
CompactClosure = tuple[tuple[str, ...], tuple[str, ...]]


class CompactError(ValueError):
    """Internal: compact closures that do not expand (the lock file reader names the file)."""


def _shared_table(closures: Collection[Collection[str]]) -> NameTable | None:
    """The one table every closure is a :class:`NameSet` of, if there is one (a lock file
    read back): its masks are then carried over without listing any name."""
    table: NameTable | None = None
    for closure in closures:
        if not isinstance(closure, NameSet) or (table is not None and closure.table is not table):
            return None
        table = closure.table
    return table


def compact_closures(closures: Mapping[str, Collection[str]]) -> dict[str, CompactClosure]:
    """Each closure as its bases and extra names (see the module docstring); a closure that
    holds its own target is taken without it.

    The bases of a target are chosen largest first among the targets in its closure whose own
    closure it contains (a greedy cover): a base is taken when it covers at least two names
    not covered yet, so it is never longer than listing them.
    """
    sizes = {t: len(names) - (t in names) for t, names in closures.items()}
    order = sorted(closures, key=lambda t: (-sizes[t], t))
    # The table puts the targets first, in ``order``: the lowest set bit of a closure's
    # remaining targets is then the next base candidate, largest first (guarantee 2).
    shared = _shared_table(closures.values())
    if shared is not None:
        others = sorted(name for name in shared.names_at if name not in closures)
    else:
        others = sorted(set().union(*closures.values()) - closures.keys())
    table = NameTable([*order, *others])
    masks = []
    for at, target in enumerate(order):
        names = closures[target]
        if shared is not None and isinstance(names, NameSet):
            mask = shared.translate(names.mask, table)
        else:
            mask = table.mask(names)
        masks.append(mask & ~(1 << at))
    covers = [mask | 1 << at for at, mask in enumerate(masks)]
    targets = (1 << len(order)) - 1
    compact: dict[str, CompactClosure] = {}
    for here, target in enumerate(order):
        mine = masks[here]
        # Smaller targets only (guarantee 2): those after the target in ``order``.
        candidates = mine & targets & ~((2 << here) - 1)
        itself = ~(1 << here)
        covered = 0
        bases: list[str] = []
        while candidates:
            lowest = candidates & -candidates
            candidates ^= lowest
            # A base in a cycle with the target reaches it: the target is never in its own
            # closure, so that one name does not count against the base.
            cover = covers[lowest.bit_length() - 1] & itself
            if not cover & ~mine and (cover & ~covered).bit_count() > 1:
                bases.append(order[lowest.bit_length() - 1])
                covered |= cover
                candidates &= ~covered
        compact[target] = (tuple(sorted(bases)), tuple(table.names(mine & ~covered)))
    return compact


def expand_closures(
    table: NameTable, compact: Mapping[str, CompactClosure], *, limit: int
) -> dict[str, int]:
    """Every closure from its bases and extra names, as a mask of ``table`` (which holds
    every name of ``compact``; guarantees 1 and 4); a target is never in its own closure."""
    closures: dict[str, int] = {}
    index = table.index
    total = 0
    for target in sorted(compact):
        if target in closures:
            continue
        # Depth first over the bases, without recursion (a long chain of bases is legitimate):
        # a target's closure is made once every base of it has one.
        stack = [(target, iter(compact[target][0]))]
        visiting = {target}
        while stack:
            current, bases = stack[-1]
            for base in bases:
                if base in closures:
                    continue
                if base not in compact:
                    raise CompactError(f"base {base!r} of {current!r} is not a target")
                if base in visiting:
                    raise CompactError(f"the bases of {current!r} form a cycle through {base!r}")
                visiting.add(base)
                stack.append((base, iter(compact[base][0])))
                break
            else:
                stack.pop()
                visiting.discard(current)
                own_bases, extra = compact[current]
                mask = table.mask(extra)
                for base in own_bases:
                    mask |= closures[base] | 1 << index[base]
                mask &= ~(1 << index[current])
                total += (mask.bit_length() + 7) // 8
                if total > limit:
                    raise CompactError(f"the closures take more than {limit} bytes in all")
                closures[current] = mask
    return closures
