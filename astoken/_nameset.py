"""Sets of names as bit masks over one table: the closures of a lock file, shared.

A lock file of a large package holds tens of thousands of closures over one set of names
(sympy: 21,264 closures adding up to 181 million names, over 27,000 distinct names). Held as
tuples or sets of strings they need gigabytes; held as one Python ``int`` each, a bit per name
of a shared :class:`NameTable`, they need a few kilobytes each (sympy: 72 MB in all), and
union, difference and subset tests run in C over whole words.

Guarantees (cited by ``tests/test_nameset.py``):

1. :meth:`NameTable.mask` and :meth:`NameTable.names` are inverse: ``table.names(
   table.mask(names))`` is ``sorted(set(names))`` for names of the table; a name not in the
   table raises ``KeyError``.
2. A :class:`NameSet` is an immutable sequence of names in sorted order (``sorted`` order of
   the strings, whatever the table's order) that equals, and hashes as, the tuple of those
   names; ``len`` and ``in`` do not list its names.
3. :meth:`NameTable.translate` carries a mask to another table holding every name set in it,
   bit for bit: ``other.names(table.translate(mask, other)) == table.names(mask)``.
4. A :class:`NameIndex` gives names positions as they come; the masks it makes are masks of
   the table it ends as (:meth:`NameIndex.table`), with the same names.
"""

from __future__ import annotations

import operator
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from itertools import compress, repeat
from typing import overload

__all__ = ["NameIndex", "NameSet", "NameTable", "mask_of", "mask_of_flags", "positions_of"]

# ``format(mask, "b")`` reversed gives bit i at character i; this maps those characters to the
# bytes 0 and 1 that ``itertools.compress`` and ``int(..., 2)`` read.
_FROM_DIGITS = bytes.maketrans(b"01", b"\x00\x01")
_TO_DIGITS = bytes.maketrans(b"\x00\x01", b"01")
#: Up to this many names, a mask is made a bit at a time (cheaper than a byte per position).
_FEW = 24


class NameTable:
    """An ordered table of distinct names; a set of them is an ``int`` with bit ``i`` set for
    the name at position ``i``. Immutable once made. ``ordered`` says whether the positions
    follow the sorted order of the names (then a mask's names come out sorted with no sort)."""

    __slots__ = ("_gathers", "index", "names_at", "ordered")

    def __init__(self, names: Iterable[str]) -> None:
        self._gathers: dict[int, tuple[NameTable, Callable[[bytes], tuple[int, ...]] | None]] = {}
        self.names_at: tuple[str, ...] = tuple(names)
        self.index: dict[str, int] = {name: at for at, name in enumerate(self.names_at)}
        if len(self.index) != len(self.names_at):
            raise ValueError("a name table's names must be distinct")
        self.ordered = all(map(operator.lt, self.names_at, self.names_at[1:]))

    @classmethod
    def sorted_from(cls, names: Iterable[str]) -> NameTable:
        """The table of the distinct ``names``, in sorted order."""
        return cls(sorted(set(names)))

    def __len__(self) -> int:
        return len(self.names_at)

    def bit(self, name: str) -> int:
        """The mask of one name (``KeyError`` when the table lacks it)."""
        return 1 << self.index[name]

    def mask(self, names: Iterable[str]) -> int:
        """The mask of ``names`` (``KeyError`` naming one the table lacks)."""
        return _mask(self.index, len(self.names_at), names)

    def flags(self, mask: int) -> bytes:
        """A byte per position of the table, 1 where ``mask`` has the bit, else 0."""
        return _flags(mask, len(self.names_at))

    def names(self, mask: int) -> list[str]:
        """The names of ``mask``, sorted."""
        if mask.bit_count() <= _FEW:
            found = list(map(self.names_at.__getitem__, positions_of(mask, len(self.names_at))))
        else:
            found = list(compress(self.names_at, self.flags(mask)))
        if not self.ordered:
            found.sort()
        return found

    def translate(self, mask: int, other: NameTable) -> int:
        """``mask`` as a mask of ``other`` (which holds each of its names; guarantee 3). The
        bits are gathered in C, a byte per position of ``other``, by a permutation made once
        for the pair of tables."""
        if other is self or other.names_at == self.names_at:
            return mask
        if not mask or not other.names_at:
            return 0
        if mask.bit_count() <= _FEW:
            return other.mask(self.names(mask))
        gather = self._gathers.get(id(other))
        if gather is None or gather[0] is not other:
            missing = len(self.names_at)  # the position of a 0 byte added after the flags
            positions = [self.index.get(name, missing) for name in other.names_at]
            gather = (other, operator.itemgetter(*positions) if len(positions) > 1 else None)
            self._gathers[id(other)] = gather
        flags = self.flags(mask) + b"\0"
        picked = gather[1]
        if picked is None:  # a table of one name: itemgetter would give an int, not a tuple
            return int(flags[self.index.get(other.names_at[0], len(self.names_at))])
        return int(bytes(picked(flags)).translate(_TO_DIGITS)[::-1], 2)


class NameIndex:
    """A table being filled: names get positions as they come, masks of the names seen so far
    are final (guarantee 4). For a producer that learns the names as it goes (a snapshot:
    every node of its graph, then the compiled-code leaves its closures add)."""

    __slots__ = ("_names", "index")

    def __init__(self, names: Iterable[str] = ()) -> None:
        self._names: list[str] = []
        self.index: dict[str, int] = {}
        self.add(names)

    def add(self, names: Iterable[str]) -> None:
        """Give the names not seen yet the next positions, in the order given."""
        for name in names:
            if name not in self.index:
                self.index[name] = len(self._names)
                self._names.append(name)

    def bit(self, name: str) -> int:
        """The mask of one name already added (``KeyError`` otherwise)."""
        return 1 << self.index[name]

    def mask(self, names: Iterable[str]) -> int:
        """The mask of ``names``, every one of them already added (``KeyError`` otherwise)."""
        return _mask(self.index, len(self._names), names)

    def table(self) -> NameTable:
        """The table of the names added, in their positions."""
        return NameTable(self._names)


def _mask(index: dict[str, int], size: int, names: Iterable[str]) -> int:
    """The mask of ``names`` under ``index`` (positions below ``size``)."""
    return mask_of(map(index.__getitem__, names), size)


def mask_of(positions: Iterable[int], size: int) -> int:
    """The mask with the bits at ``positions`` (each below ``size``) set. A few positions are
    set a bit at a time; more run in C per position: a byte per position is set, then read as
    one binary number (a lock file's extra names are mostly few, its closures many)."""
    listed = list(positions)
    if len(listed) <= _FEW:
        mask = 0
        for at in listed:
            mask |= 1 << at
        return mask
    flags = bytearray(size)
    deque(map(flags.__setitem__, listed, repeat(1)), maxlen=0)
    return mask_of_flags(flags)


def mask_of_flags(flags: bytes | bytearray) -> int:
    """The mask with bit ``i`` set where ``flags[i]`` is 1 (each byte 0 or 1), in C."""
    return int(flags.translate(_TO_DIGITS)[::-1], 2) if flags else 0


def _flags(mask: int, size: int) -> bytes:
    """A byte per position below ``size``, 1 where ``mask`` has the bit, else 0."""
    if mask >> size:
        raise ValueError("a mask with bits beyond its table")
    if not size:
        return b""
    return format(mask, f"0{size}b").encode("ascii")[::-1].translate(_FROM_DIGITS)


def positions_of(mask: int, size: int) -> Iterator[int]:
    """The positions of ``mask``'s bits, ascending (``ValueError`` for a bit at ``size`` or
    beyond). A few bits are taken one at a time; more by a byte per position, in C."""
    if mask.bit_count() <= _FEW:
        if mask >> size:
            raise ValueError("a mask with bits beyond its table")
        return iter(_bits(mask))
    return compress(range(size), _flags(mask, size))


def _bits(mask: int) -> list[int]:
    """The positions of ``mask``'s bits, ascending, a bit at a time."""
    found = []
    while mask:
        lowest = mask & -mask
        found.append(lowest.bit_length() - 1)
        mask ^= lowest
    return found


class NameSet(Sequence[str]):
    """Names of a :class:`NameTable` held as one mask: a sorted, immutable sequence of names
    (guarantee 2) that lists them only when iterated or indexed."""

    __slots__ = ("mask", "table")

    def __init__(self, table: NameTable, mask: int) -> None:
        self.table = table
        self.mask = mask

    def _names(self) -> tuple[str, ...]:
        # Listed again each time, not kept: a lock file's entries hold millions of names.
        return tuple(self.table.names(self.mask))

    def __len__(self) -> int:
        return self.mask.bit_count()

    def __contains__(self, name: object) -> bool:
        at = self.table.index.get(name) if isinstance(name, str) else None
        return at is not None and bool(self.mask >> at & 1)

    def __iter__(self) -> Iterator[str]:
        return iter(self._names())

    @overload
    def __getitem__(self, index: int) -> str: ...

    @overload
    def __getitem__(self, index: slice) -> tuple[str, ...]: ...

    def __getitem__(self, index: int | slice) -> str | tuple[str, ...]:
        return self._names()[index]

    def __eq__(self, other: object) -> bool:
        if isinstance(other, NameSet):
            if other.table is self.table:
                return other.mask == self.mask
            return self._names() == other._names()
        if isinstance(other, tuple):
            return self._names() == other
        return NotImplemented

    def __hash__(self) -> int:
        return hash(self._names())

    def __repr__(self) -> str:
        return f"NameSet({self._names()!r})"
