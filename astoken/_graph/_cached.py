"""A built graph as a snapshot needs it later, in JSON: its nodes, unresolved references, the
closure of every root, and the journal its build recorded (``_journal``).

A snapshot of a package never walks its graph except to take closures, so the graph itself is
not kept: a cache hit gives every root's closure at once. Names are written once (a table) and
a closure as the ascending indexes of its names, packed as little-endian unsigned integers of
``width`` bytes (2 while the table has at most 65,536 names, else 4) in base64, identical
closures once; a closure holding more than one name in ``8 * width`` is written as bits
instead: ``z:`` and the base64 of the zlib-compressed bit map (a bit per name of the table,
little-endian) of its mask XOR the closure written as bits before it, whichever is shorter.
sympy's build took 199 MB as indexes, more than a cache entry may be read
(``_store.MAX_ENTRY_BYTES``): every snapshot of sympy built its graph again; as plain bit maps
where shorter, 33.6 MB; as changes from the closure before, 9.0 MB. Unpacking is a copy, not a
parse: for networkx's whole test suite (4,848 distinct closures of ~450 names, 2.2 million
indexes) decoding the build takes 0.26 s, most of it checking that each closure ascends, where
the same closures as decimal strings took 0.47 s to decode and as long again to parse a second
time where they were used.

:func:`decode_build` raises ValueError for anything that is not what :func:`encode_build`
wrote (a damaged entry is a miss to its caller, never a wrong graph).
"""

from __future__ import annotations

import base64
import hashlib
import json
import operator
import sys
import zlib
from array import array
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, replace
from itertools import compress, islice
from typing import Any

from astoken._model import Node, NodeKind, Unresolved
from astoken._nameset import mask_of, mask_of_flags, positions_of

from ._closure import closures_of_roots
from ._digraph import Digraph
from ._journal import Moved

#: Version of the layout below (bump when it changes meaning).
LAYOUT = 5

#: Array type codes of 2 and of 4 bytes (C's ``unsigned short`` and the first of
#: ``unsigned int``/``unsigned long`` that has 4 bytes on this platform).
_NARROW = "H"
_WIDE = next(code for code in "IL" if array(code).itemsize == 4)


class Closures(Mapping[str, "array[int]"]):
    """Each root's closure over a table of ``size`` names (root -> its ascending indexes), equal
    closures held once, each as its indexes or, when that is smaller (:func:`_as_bits`), as
    its bit mask (an ``int``): sympy's 13,350 closures of about 8,500 of 27,000 names take
    45 MB as masks, 227 MB as indexes. The indexes of a closure held as a mask are made when
    asked for, not kept."""

    __slots__ = ("_held", "_masks", "_size", "_typecode")

    def __init__(self, held: dict[str, array[int] | int], size: int) -> None:
        self._held = held
        self._size = size
        self._typecode = _typecode(_width(size))
        self._masks: dict[int, int] = {}  # the masks made of closures held as indexes, by id

    def __getitem__(self, root: str) -> array[int]:
        value = self._held[root]
        if isinstance(value, int):
            return array(self._typecode, positions_of(value, self._size))
        return value

    def __iter__(self) -> Iterator[str]:
        return iter(self._held)

    def __len__(self) -> int:
        return len(self._held)

    def __contains__(self, root: object) -> bool:
        return root in self._held

    def held(self, root: str) -> array[int] | int:
        """The closure of ``root`` as it is held: its indexes, or its mask."""
        return self._held[root]

    def key(self, root: str) -> int:
        """One number for each distinct closure held (equal ones are held once)."""
        return id(self._held[root])

    def mask(self, root: str) -> int:
        """The closure of ``root`` as a bit mask over the table (made once from indexes)."""
        value = self._held[root]
        if isinstance(value, int):
            return value
        mask = self._masks.get(id(value))
        if mask is None:
            mask = self._masks[id(value)] = mask_of(value, self._size)
        return mask


@dataclass(frozen=True, slots=True)
class CachedBuild:
    """What a snapshot takes from its build: roots, nodes by name, the unresolved references,
    each root's closure (:class:`Closures`: its indexes in ``names``, identical closures
    held once) and the build's journal: a closure's pairs are taken by index or by mask
    without parsing; :meth:`closure` gives one as a set."""

    roots: tuple[str, ...]
    nodes: dict[str, Node]
    unresolved: tuple[Unresolved, ...]
    names: tuple[str, ...]
    closures: Closures
    journal: list[list[Any]]

    def closure(self, root: str) -> frozenset[str]:
        """The names ``root`` reaches, itself included."""
        return frozenset(map(self.names.__getitem__, self.closures[root]))

    def closure_names(self, root: str) -> list[str]:
        """The names ``root`` reaches, itself included, sorted (the table is)."""
        return list(map(self.names.__getitem__, self.closures[root]))

    def closure_mask(self, root: str) -> int:
        """The names ``root`` reaches, itself included, as a bit mask over :attr:`names`."""
        return self.closures.mask(root)


def closure_indexes(sorted_indexes: list[int], size: int) -> array[int]:
    """A closure's ascending indexes into a table of ``size`` names, as :class:`CachedBuild`
    holds them."""
    return array(_typecode(_width(size)), sorted_indexes)


def _width(size: int) -> int:
    """Bytes per index into a table of ``size`` names."""
    return 2 if size <= 1 << 16 else 4


def _typecode(width: int) -> str:
    return _NARROW if width == 2 else _WIDE


def _as_bits(count: int, width: int, size: int) -> bool:
    """Whether a closure of ``count`` indexes of ``width`` bytes is shorter as its bit map over
    a table of ``size`` names."""
    return count * width > (size + 7) // 8


def cached_build(
    roots: tuple[str, ...],
    graph: Digraph,
    nodes: dict[str, Node],
    unresolved: tuple[Unresolved, ...],
    journal: list[list[Any]],
) -> CachedBuild:
    """The build of ``roots`` as a snapshot keeps it (every root's closure taken now)."""
    names = tuple(sorted(nodes))
    size = len(names)
    width = _width(size)
    positions = range(size)
    # Equal closures reached from different starts (the methods of one cycle, each named
    # through its own class) are held once, as a decoded build holds them: a snapshot then
    # takes each distinct closure's parts once. Found by digest, checked by value.
    held: dict[bytes, array[int] | int] = {}

    def keep(flags: bytearray) -> array[int] | int:
        digest = hashlib.sha256(flags).digest()
        count = flags.count(1)
        same = held.get(digest)
        if same is not None and (
            same == mask_of_flags(flags)
            if isinstance(same, int)
            else count == len(same) and all(map(flags.__getitem__, same))
        ):
            return same
        value: array[int] | int
        if _as_bits(count, width, size):
            value = mask_of_flags(flags)
        else:
            value = closure_indexes(list(compress(positions, flags)), size)
        held.setdefault(digest, value)
        return value

    closures = closures_of_roots(graph, roots, names, keep)
    return CachedBuild(roots, nodes, unresolved, names, Closures(closures, size), journal)


def with_moves(build: CachedBuild, moves: tuple[Moved, ...]) -> CachedBuild | None:
    """``build`` after edits that only moved lines (``_journal.replay``): the nodes of those
    modules take their definitions' new lines, unresolved references in their files their new
    lines, and the journal the modules' new fingerprints. Closures and roots are unchanged.
    None when an unresolved reference's line is not one the map knows (it came from elsewhere:
    build again)."""
    if not moves:
        return build
    by_module = {move.module: move for move in moves}
    by_file = {move.fingerprint[0]: move for move in moves}
    nodes = dict(build.nodes)
    for moved in moves:
        prefix = moved.module + ":"
        lines = {d.qualname: d.line for d in moved.summary.definitions}
        for name, node in build.nodes.items():
            if name.startswith(prefix) and name[len(prefix) :] in lines:
                nodes[name] = replace(node, line=lines[name[len(prefix) :]])
    unresolved = []
    for item in build.unresolved:
        found = by_file.get(item.file)
        if found is None:
            unresolved.append(item)
        elif item.line in found.lines:
            unresolved.append(replace(item, line=found.lines[item.line]))
        else:
            return None
    journal = [
        ["module", entry[1], by_module[entry[1]].fingerprint]
        if entry[0] == "module" and entry[1] in by_module
        else entry
        for entry in build.journal
    ]
    return replace(build, nodes=nodes, unresolved=tuple(unresolved), journal=journal)


def encode_build(build: CachedBuild) -> str:
    """``build`` as JSON text (see the module docstring)."""
    files = sorted({node.file for node in build.nodes.values() if node.file is not None})
    file_index = {file: i for i, file in enumerate(files)}
    size = len(build.names)
    width = _width(size)
    sets: list[str] = []
    at: dict[int, int] = {}  # the set of each distinct closure, by its key
    previous = 0  # the last closure written as bits
    closures = []
    for root in build.roots:
        key = build.closures.key(root)
        if key not in at:
            value = build.closures.held(root)
            if isinstance(value, array) and _as_bits(len(value), width, size):
                value = build.closures.mask(root)
            if isinstance(value, int):
                sets.append(_pack_bits(value ^ previous, size))
                previous = value
            else:
                sets.append(_pack(value, width))
            at[key] = len(sets) - 1
        closures.append(at[key])
    document = {
        "layout": LAYOUT,
        "width": width,
        "names": list(build.names),
        "files": files,
        "nodes": [
            [
                node.kind.value,
                -1 if node.file is None else file_index[node.file],
                node.line,
                node.version,
                list(node.volatile),
                node.expression,
            ]
            for node in (build.nodes[name] for name in build.names)
        ],
        "unresolved": [[u.owner, u.expression, u.reason, u.file, u.line] for u in build.unresolved],
        "roots": list(build.roots),
        "sets": list(sets),
        "closures": closures,
        "journal": build.journal,
    }
    return json.dumps(document, separators=(",", ":"))


#: A closure written as bits starts so (base64 has no colon).
_BITS = "z:"


def _pack(closure: array[int], width: int) -> str:
    """A closure's indexes as base64 of little-endian integers of ``width`` bytes."""
    packed = array(_typecode(width), closure)
    if sys.byteorder != "little":
        packed.byteswap()
    return base64.b64encode(packed.tobytes()).decode("ascii")


def _pack_bits(change: int, size: int) -> str:
    """``z:`` and the base64 of the zlib-compressed bit map (little-endian, a bit per name of a
    table of ``size``) of ``change``: a closure's mask XOR the closure written as bits before
    it (a snapshot's closures mostly differ from the one before in a few names: sympy's 5,447
    closures written as bits take 264 KB so, 18.4 MB as plain bit maps)."""
    bits = change.to_bytes((size + 7) // 8, "little")
    return _BITS + base64.b64encode(zlib.compress(bits)).decode("ascii")


def _unpack(text: str, width: int, size: int, previous: int) -> array[int] | int:
    """The closure :func:`_pack` or :func:`_pack_bits` wrote, checked: ascending indexes below
    ``size``, or a mask (``previous`` is the closure read as bits before it) of no bit at
    ``size`` or beyond; ValueError else."""
    if text.startswith(_BITS):
        length = (size + 7) // 8
        inflate = zlib.decompressobj()
        try:
            bits = inflate.decompress(base64.b64decode(text[len(_BITS) :], validate=True), length)
        except zlib.error as exc:
            raise ValueError(f"malformed closure: {exc}") from exc
        if len(bits) != length or inflate.unconsumed_tail or inflate.unused_data or not inflate.eof:
            raise ValueError("malformed closure")
        mask = previous ^ int.from_bytes(bits, "little")
        if mask >> size:
            raise ValueError("malformed closure")
        return mask
    packed = array(_typecode(width))
    raw = base64.b64decode(text, validate=True)
    if len(raw) % width:
        raise ValueError("malformed closure")
    packed.frombytes(raw)
    if sys.byteorder != "little":
        packed.byteswap()
    # Checks at C speed: the last index is the largest once every index exceeds the one before.
    if packed and (
        packed[-1] >= size or not all(map(operator.lt, packed, islice(packed, 1, None)))
    ):
        raise ValueError("malformed closure")
    return packed


def decode_build(text: str) -> CachedBuild:
    """The build :func:`encode_build` wrote as ``text``; ValueError ("malformed cached build:
    ...") for anything else."""
    try:
        document = json.loads(text)
        if not isinstance(document, dict) or document.get("layout") != LAYOUT:
            raise ValueError("not a cached build of this layout")
        names = _strings(document["names"])
        if names != sorted(set(names)):
            raise ValueError("names are not sorted and distinct")
        files = _strings(document["files"])
        nodes: dict[str, Node] = {}
        rows = document["nodes"]
        if not isinstance(rows, list) or len(rows) != len(names):
            raise ValueError("nodes do not match names")
        for name, (kind, file, line, version, volatile, expression) in zip(
            names, rows, strict=True
        ):
            if not isinstance(line, (int, type(None))) or not isinstance(version, str):
                raise ValueError(f"malformed node {name!r}")
            where = None if file == -1 else files[_index(file, len(files))]
            nodes[name] = Node(
                name,
                NodeKind(kind),
                where,
                line,
                version,
                tuple(_strings(volatile)),
                _text(expression),
            )
        unresolved = tuple(
            Unresolved(_text(owner), _text(expression), _text(reason), _file(file), _int(line))
            for owner, expression, reason, file, line in document["unresolved"]
        )
        roots = _strings(document["roots"])
        width = document["width"]
        if type(width) is not int or width not in (2, 4) or len(names) > 1 << (8 * width):
            raise ValueError(f"closure width {width!r}")
        sets: list[array[int] | int] = []
        previous = 0
        for members in _strings(document["sets"]):
            closure = _unpack(members, width, len(names), previous)
            if isinstance(closure, int):
                previous = closure
            sets.append(closure)
        closures = {
            root: sets[_index(i, len(sets))]
            for root, i in zip(roots, document["closures"], strict=True)
        }
        journal = document["journal"]
        if not isinstance(journal, list) or not all(isinstance(e, list) for e in journal):
            raise ValueError("malformed journal")
    except (ValueError, KeyError, IndexError, TypeError, RecursionError) as exc:
        # (base64's binascii.Error is a ValueError)
        raise ValueError(f"malformed cached build: {exc}") from exc
    return CachedBuild(
        tuple(roots), nodes, unresolved, tuple(names), Closures(closures, len(names)), journal
    )


def _index(value: object, size: int) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value < size:
        raise ValueError(f"index {value!r} out of range")
    return value


def _strings(value: object) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise ValueError("expected a list of strings")
    return value


def _text(value: object) -> str:
    if not isinstance(value, str):
        raise ValueError(f"expected a string, not {type(value).__name__}")
    return value


def _file(value: object) -> str | None:
    return None if value is None else _text(value)


def _int(value: object) -> int:
    if not isinstance(value, int):
        raise ValueError(f"expected an int, not {type(value).__name__}")
    return value
