"""A snapshot's closures taken as bit masks over its build's table of names.

A snapshot of a large package takes thousands of closures that each hold most of it (sympy:
13,350 distinct closures of about 8,500 names over a table of 27,000, 21,330 roots). Taking
each closure's parts name by name (a set of its names, the names not prepared yet, its pairs
looked up one by one, its leaves and unresolved references by set operations) costs as much
per closure as its size, 110 million steps in all for sympy. Here a closure is its mask over
the build's table (``CachedBuild.closure_mask``); what the session knows of each name (its
encoded pair, whether it was prepared, whether its live object runs compiled code, the
unresolved references it owns) is laid over the same table once, so a closure's parts are a
few operations on masks, its pairs one pass in C over the table, and a root's place among
its closure's pairs a count of bits.

Guarantee (``tests/test_snapshot.py`` compares every entry with ``behavior_token``): each
root's own token, token, leaves and unresolved references (as a set) are those of
:func:`~._session.closure_token` of the same closure: the same pairs in the same order, the
same leaves, the same rule for a class of data attributes only.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterator
from itertools import compress
from typing import TYPE_CHECKING, NamedTuple, cast

from astoken import _combine, _hashing
from astoken._model import Node, Unresolved
from astoken._nameset import NameTable, mask_of, positions_of
from astoken.errors import UnhashableValueError, ValueTooDeepError

from ._options import code_book_for
from ._session import Session, leaf_in, root_token

if TYPE_CHECKING:
    from astoken._graph import CachedBuild

__all__ = ["BuildTable", "Taken"]


class Taken(NamedTuple):
    """What a snapshot keeps of one root: its own token, its token, and its closure's
    compiled-code leaves (name -> token) and unresolved references (in no particular
    order)."""

    root_token: str | None
    token: str | None
    leaves: dict[str, str | None]
    unresolved: tuple[Unresolved, ...]


class BuildTable:
    """A session's own tokens laid over a build's table of names (the build's positions): per
    position the encoded pair (None without one), and as masks the positions prepared, those
    with a pair and those whose live object runs compiled code (a leaf); the build's
    unresolved references by the position of their owner."""

    def __init__(self, build: CachedBuild, session: Session) -> None:
        self.build = build
        self.session = session
        self.table = NameTable(build.names)
        size = len(build.names)
        self.pairs: list[bytes | None] = [None] * size
        self.prepared = 0
        self.paired = 0
        self.with_leaf = 0
        self.owned: dict[int, list[Unresolved]] = {}
        index = self.table.index
        for item in build.unresolved:
            at = index.get(item.owner)
            if at is not None:
                self.owned.setdefault(at, []).append(item)
        self.owners = mask_of(self.owned, size)

    def tokens(
        self, group: list[tuple[str, object]], mask: int
    ) -> Iterator[tuple[str, Taken]] | None:
        """Each ``(root, live object)`` of ``group``, roots whose closure is ``mask``, with what
        the snapshot keeps of it, made one at a time as the caller takes them. None when a
        value of the closure has no deterministic encoding (the caller takes the roots one by
        one, for each one's error)."""
        session = self.session
        nodes = self.build.nodes
        book = code_book_for(session.options)
        own: dict[str, str | None] = {}
        try:
            with (
                _hashing.code_book(book),
                _hashing.value_memo(session.values),
                _hashing.source_book(session.sources),
            ):
                self._prepare(mask)
                added = self._leaves(mask)
                for root, obj in group:
                    own[root] = root_token(root, nodes, session, root_obj=obj, owner=root)
        except (UnhashableValueError, ValueTooDeepError):
            return None
        leaves = {leaf.name: _hashing.leaf_token(leaf) for leaf in added}
        unresolved = self._unresolved(mask)
        return self._each(own, mask, leaves, unresolved)

    def _each(
        self,
        own: dict[str, str | None],
        mask: int,
        leaves: dict[str, str | None],
        unresolved: tuple[Unresolved, ...],
    ) -> Iterator[tuple[str, Taken]]:
        table, nodes = self.table, self.build.nodes
        paired = mask & self.paired
        # Every position of ``paired`` has a pair (not None).
        pairs = cast("list[bytes]", list(compress(self.pairs, table.flags(paired))))
        # The leaves' pairs go among the nodes' in the order of their names.
        leaf_pairs = sorted(
            (name, _combine.encode_pair(name, tok))
            for name, tok in leaves.items()
            if tok is not None
        )
        leaf_names = [name for name, _pair in leaf_pairs]
        for k, (name, pair) in enumerate(leaf_pairs):
            pairs.insert(self._before(paired, name) + k, pair)

        def place(name: str) -> int:
            """Where ``name``'s pair is, or would go, among the closure's pairs."""
            return self._before(paired, name) + bisect.bisect_left(leaf_names, name)

        target_at = place(_combine.TARGET)
        portable = self.session.options.portable
        for root, root_own in own.items():
            at = table.index[root]
            token = _combine.closure_token_sorted(
                root,
                root_own,
                pairs,
                target_at,
                self._members(mask & ~(1 << at), nodes),
                leaves=bool(leaves),
                portable=portable,
                without=place(root) if paired >> at & 1 else None,
            )
            yield root, Taken(root_own, token, leaves, unresolved)

    def _before(self, paired: int, name: str) -> int:
        """How many names of ``paired`` sort before ``name``."""
        return (paired & ((1 << bisect.bisect_left(self.table.names_at, name)) - 1)).bit_count()

    def _members(self, mask: int, nodes: dict[str, Node]) -> Iterator[Node]:
        names = self.table.names_at
        return (nodes[names[at]] for at in positions_of(mask, len(names)))

    def _prepare(self, mask: int) -> None:
        """Prepare the names of ``mask`` the session has not (their own tokens, pairs and
        leaves), and lay what it knows of them over the table (also of those prepared before
        it raised, when it does)."""
        todo = mask & ~self.prepared
        if not todo:
            return
        session = self.session
        names = self.table.names_at
        listed = [names[at] for at in positions_of(todo, len(names))]
        try:
            session.prepare([n for n in listed if n not in session.prepared], self.build.nodes)
        finally:
            done = [self.table.index[n] for n in listed if n in session.prepared]
            for at in done:
                pair = session.pairs.get(names[at])
                self.pairs[at] = pair[1] if pair is not None else None
            size = len(names)
            self.prepared |= mask_of(done, size)
            self.paired |= mask_of((at for at in done if self.pairs[at] is not None), size)
            self.with_leaf |= mask_of((at for at in done if names[at] in session.leaves), size)

    def _leaves(self, mask: int) -> list[Node]:
        """The compiled-code leaves the closure ``mask`` adds (``compiled_leaves``), every
        name of it prepared."""
        if self.session.options.static:
            return []
        table, session, nodes = self.table, self.session, self.build.nodes

        def contains(name: str) -> bool:
            at = table.index.get(name)
            return at is not None and bool(mask >> at & 1)

        added: dict[str, Node] = {}
        for at in positions_of(mask & self.with_leaf, len(table)):
            found = leaf_in(table.names_at[at], contains, nodes, session)
            if found is not None and found[1]:
                added[found[0].name] = found[0]
        return list(added.values())

    def _unresolved(self, mask: int) -> tuple[Unresolved, ...]:
        """The unresolved references of the closure ``mask``, the session's notes included, in
        no particular order (the snapshot reports their union, sorted once: sorting each of
        sympy's 13,350 closures' took about 3 s)."""
        table = self.table
        found = [
            item for at in positions_of(mask & self.owners, len(table)) for item in self.owned[at]
        ]
        for item in self.session.notes.values():
            at = table.index.get(item.owner)
            if at is not None and mask >> at & 1:
                found.append(item)
        return tuple(found)
