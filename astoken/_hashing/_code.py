"""Canonical bytes of code objects (guarantee 1 of :mod:`astoken._hashing`).

A code object is hashed as a canonical *instruction stream*, not as raw ``co_code``: each
instruction contributes its opcode and a canonical argument (the encoded constant, the name,
the raw local/cell index, the jump target as a logical instruction index). Constants of code
objects are a closed set of literal types, encoded here with the same bytes the value encoder
gives them, so this module depends on nothing but the byte primitives.

The token cache is keyed by the code object itself, weakly: code objects are immutable (a key
cannot go stale), equal code objects have equal canonical bytes, and an entry goes away with its
code object (the cache is bounded by the code that is alive).

Across processes, a *code book* (:func:`code_book`; the on-disk one is
:class:`astoken._store.CodeTokenBook`) may hold tokens computed before, keyed by the SHA-256 of
``marshal.dumps(code, 2)``: marshal writes every field of a code object, so equal keys mean
equal code objects and therefore equal tokens. Format 2 is the last without back-references
(later formats share an object or not depending on its reference count, so a function compiled
from source and the same function loaded from its pyc gave different bytes); a difference left
would be a miss, never a wrong token. The book itself is keyed by the source of this step, so
another astoken's tokens are never read.
"""

from __future__ import annotations

import contextlib
import contextvars
import dis
import hashlib
import inspect
import marshal
import sys
import threading
import types
import weakref
from collections.abc import Iterator
from typing import Protocol

from astoken._model import FORMAT_VERSION
from astoken.errors import UnhashableValueError

from ._walk import blob, int_bytes, text

__all__ = ["CodeBook", "code_book", "code_token", "decode", "exception_entries", "jump_target"]

_PY311 = sys.version_info >= (3, 11)
_PY312 = sys.version_info >= (3, 12)
_CACHE_OP = dis.opmap["CACHE"] if _PY311 else -1
_EXTENDED_ARG = dis.opmap["EXTENDED_ARG"]
_NOP = dis.opmap["NOP"]
_HASARG = frozenset(getattr(dis, "hasarg", range(dis.HAVE_ARGUMENT, 256)))
_HASCONST = frozenset(dis.hasconst)
_HASNAME = frozenset(dis.hasname)
_HASJREL = frozenset(dis.hasjrel)
_HASJABS = frozenset(dis.hasjabs)
_BACKWARD = frozenset(op for op in dis.hasjrel if "JUMP_BACKWARD" in dis.opname[op])
# Opcodes that pack flag bits next to the name index: shift -> (name index, flags).
_NAME_SHIFT: dict[int, int] = {}
if _PY311:
    _NAME_SHIFT[dis.opmap["LOAD_GLOBAL"]] = 1
if _PY312:
    _NAME_SHIFT[dis.opmap["LOAD_ATTR"]] = 1
    _NAME_SHIFT[dis.opmap["LOAD_SUPER_ATTR"]] = 2

# Flags that change what calling the code does; CO_NESTED, CO_OPTIMIZED, CO_NEWLOCALS,
# CO_NOFREE, future flags and 3.14's CO_HAS_DOCSTRING do not.
_FLAG_MASK = (
    inspect.CO_VARARGS
    | inspect.CO_VARKEYWORDS
    | inspect.CO_GENERATOR
    | inspect.CO_COROUTINE
    | inspect.CO_ITERABLE_COROUTINE
    | inspect.CO_ASYNC_GENERATOR
)

_CODE_CACHE: weakref.WeakKeyDictionary[types.CodeType, str] = weakref.WeakKeyDictionary()
_CODE_LOCK = threading.Lock()


def decode(code: bytes) -> list[tuple[int, int, int, int, int]]:
    """The instructions of ``co_code``: ``(start, offset, opcode, arg, next offset)``.

    ``start`` is the offset of the first EXTENDED_ARG prefix (where jumps land), ``arg`` is -1
    for an opcode without argument, and ``next`` skips the inline CACHE entries (3.11+).
    """
    out = []
    size = len(code)
    i = 0
    ext = 0
    start = -1
    while i < size:
        op = code[i]
        if op == _CACHE_OP:
            i += 2
            continue
        if start < 0:
            start = i
        if op == _EXTENDED_ARG:
            ext = (ext | code[i + 1]) << 8
            i += 2
            continue
        arg = (code[i + 1] | ext) if op in _HASARG else -1
        ext = 0
        nxt = i + 2
        while nxt < size and code[nxt] == _CACHE_OP:
            nxt += 2
        out.append((start, i, op, arg, nxt))
        start = -1
        i = nxt
    return out


def jump_target(offset: int, op: int, arg: int, nxt: int) -> int:
    """Byte offset a jump lands on (the rule of ``dis`` for the running interpreter)."""
    if op in _HASJABS:
        return arg * 2
    if _PY311:
        # 3.11+: relative to the end of the instruction and its inline caches.
        return nxt + (-arg if op in _BACKWARD else arg) * 2
    return offset + 2 + arg * 2


def exception_entries(code: types.CodeType) -> Iterator[tuple[int, int, int, int, int]]:
    """``(start, end, target, depth, lasti)`` byte offsets from ``co_exceptiontable`` (3.11+)."""
    table: bytes = getattr(code, "co_exceptiontable", b"")
    pos = 0

    def varint() -> int:
        nonlocal pos
        byte = table[pos]
        pos += 1
        value = byte & 63
        while byte & 64:
            byte = table[pos]
            pos += 1
            value = (value << 6) | (byte & 63)
        return value

    while pos < len(table):
        start = varint() * 2
        length = varint() * 2
        target = varint() * 2
        depth_lasti = varint()
        yield start, start + length, target, depth_lasti >> 1, depth_lasti & 1


class CodeBook(Protocol):
    """Code tokens kept across processes, by source file name and marshal digest."""

    def get(self, filename: str, key: str) -> str | None: ...

    def put(self, filename: str, key: str, token: str) -> None: ...


_BOOK: contextvars.ContextVar[CodeBook | None] = contextvars.ContextVar("astoken_code_book")


@contextlib.contextmanager
def code_book(book: CodeBook | None) -> Iterator[None]:
    """Let :func:`code_token` read and fill ``book`` while the block runs (in this context)."""
    reset = _BOOK.set(book)
    try:
        yield
    finally:
        _BOOK.reset(reset)


def code_token(code: types.CodeType) -> str:
    """Canonical SHA-256 of a code object (see guarantee 1 of this module)."""
    with _CODE_LOCK:
        token = _CODE_CACHE.get(code)
    if token is None:
        stable = _without_process_constants(code)
        book = _BOOK.get(None)
        # Code with a per-process constant has a per-process marshal key: never in the book.
        key = _book_key(code) if book is not None and stable is code else None
        if book is not None and key is not None:
            token = book.get(code.co_filename, key)
        if token is None:
            token = hashlib.sha256(_canonical_code(stable)).hexdigest()
            if book is not None and key is not None:
                book.put(code.co_filename, key, token)
        with _CODE_LOCK:
            _CODE_CACHE[code] = token
    return token


#: attrs compiles the methods it generates from source it writes, and bakes into ``__hash__``
#: the ``hash()`` of a name it makes for the class: a constant that differs in every process
#: (``PYTHONHASHSEED``). The rest of that code is what the class's fields and options (its
#: ``__attrs_attrs__`` and ``__attrs_props__``, hashed as class members) made of it.
_ATTRS_FILE = "<attrs generated "
_ATTRS_TYPE_HASH = "<attrs: hash of the class's generated name>"


def _without_process_constants(code: types.CodeType) -> types.CodeType:
    """``code`` with the constants a code generator computed from process state replaced by a
    fixed marker (only attrs's type hash is known to exist), else ``code`` itself."""
    name = code.co_filename
    if not (name.startswith(_ATTRS_FILE) and name.endswith(">")):
        return code
    # "<attrs generated methods pkg.mod.Cls>" -> the type hash of "pkg.mod.Cls", as attrs
    # computes it (``hash(_generate_unique_filename(cls, "hash"))``) in this very process.
    owner = name[len(_ATTRS_FILE) : -1].partition(" ")[2]
    type_hash = hash(f"{_ATTRS_FILE}hash {owner}>")

    def stable(const: object) -> object:
        # The compiler folds ``hash((type_hash,))`` of a class without fields into a tuple.
        if type(const) is int and const == type_hash:
            return _ATTRS_TYPE_HASH
        if type(const) is tuple:
            return tuple(stable(item) for item in const)
        return const

    consts = tuple(stable(c) for c in code.co_consts)
    return code if consts == code.co_consts else code.replace(co_consts=consts)


def _book_key(code: types.CodeType) -> str | None:
    # Marshal format 2, the last without back-references: from format 3 on, whether an object
    # is written once and referred back to depends on its reference count, so the same
    # function compiled from source and loaded from its pyc gave two keys.
    try:
        return hashlib.sha256(marshal.dumps(code, 2)).hexdigest()
    except ValueError:  # a constant marshal cannot write (code built with replace())
        return None


# Fused instruction -> the two plain ones it stands for (present only where dis knows them).
_SUPERINSTRUCTIONS: dict[int, tuple[int, int]] = {
    dis.opmap[fused]: (dis.opmap[first], dis.opmap[second])
    for fused, first, second in (
        ("LOAD_FAST_LOAD_FAST", "LOAD_FAST", "LOAD_FAST"),
        ("STORE_FAST_LOAD_FAST", "STORE_FAST", "LOAD_FAST"),
        ("STORE_FAST_STORE_FAST", "STORE_FAST", "STORE_FAST"),
    )
    if fused in dis.opmap
}


def _canonical_code(code: types.CodeType) -> bytes:
    # NOPs only keep line events (3.11+ emits one for ``pass`` or a bare constant statement):
    # dropped, and whatever pointed at one points at the next real instruction instead.
    instructions: list[tuple[int, int, int, int, int]] = []
    index: dict[int, int] = {}
    pending: list[int] = []
    for start, offset, op, arg, nxt in decode(code.co_code):
        pending.append(start)
        pending.append(offset)
        if op == _NOP:
            continue
        for pos in pending:
            index[pos] = len(instructions)
        pending.clear()
        pair = _SUPERINSTRUCTIONS.get(op)
        if pair is not None:
            # 3.13 fuses two local loads/stores into one instruction only when both sit on the
            # same source line: split them so a line break changes nothing.
            instructions.append((start, offset, pair[0], arg >> 4, nxt))
            instructions.append((start, offset, pair[1], arg & 15, nxt))
            continue
        instructions.append((start, offset, op, arg, nxt))
    pending.append(len(code.co_code))
    for pos in pending:
        index.setdefault(pos, len(instructions))

    consts = code.co_consts
    names = code.co_names
    const_bytes: dict[int, bytes] = {}
    parts = []
    nparams = (
        code.co_argcount
        + code.co_kwonlyargcount
        + bool(code.co_flags & inspect.CO_VARARGS)
        + bool(code.co_flags & inspect.CO_VARKEYWORDS)
    )
    parts.append(
        b"astoken-code\x00%d\x00%d,%d,%d,%d,%d,%d;"
        % (
            FORMAT_VERSION,
            code.co_argcount,
            code.co_posonlyargcount,
            code.co_kwonlyargcount,
            code.co_flags & _FLAG_MASK,
            len(code.co_cellvars),
            len(code.co_freevars),
        )
    )
    parts.append(_const_seq(b"", code.co_varnames[:nparams]))
    parts.append(b"%d|" % len(instructions))
    for _start, offset, op, arg, nxt in instructions:
        if arg < 0:
            parts.append(b"%d;" % op)
        elif op in _HASCONST:
            encoded = const_bytes.get(arg)
            if encoded is None:
                encoded = _const(consts[arg], code)
                const_bytes[arg] = encoded
            parts.append(b"%dc%s;" % (op, encoded))
        elif op in _HASNAME:
            shift = _NAME_SHIFT.get(op, 0)
            name = names[arg >> shift].encode("utf-8", "surrogatepass")
            flags = arg & ((1 << shift) - 1)
            parts.append(b"%dn%d,%d:%s;" % (op, flags, len(name), name))
        elif op in _HASJREL or op in _HASJABS:
            target = jump_target(offset, op, arg, nxt)
            logical = index.get(target)
            if logical is None:  # pragma: no cover - a jump into the middle of an instruction
                parts.append(b"%do%d;" % (op, target))
            else:
                parts.append(b"%dj%d;" % (op, logical))
        else:
            # Locals, cells and frees by raw index (their names must not matter), compare
            # operators, call counts, flags...
            parts.append(b"%d %d;" % (op, arg))
    for start, end, target, depth, lasti in exception_entries(code):
        parts.append(
            b"x%d,%d,%d,%d,%d;"
            % (
                index.get(start, -1 - start),
                index.get(end, -1 - end),
                index.get(target, -1 - target),
                depth,
                lasti,
            )
        )
    return b"".join(parts)


def _const_seq(tag: bytes, items: tuple[object, ...], code: types.CodeType | None = None) -> bytes:
    parts = [_const(item, code) for item in items]
    return b"%s%d:%s" % (tag, len(parts), b"".join(parts))


def _const(value: object, code: types.CodeType | None) -> bytes:
    """A code constant, with the bytes the value encoder gives the same value (the compiler
    only emits these types, never subclasses)."""
    if value is None:
        return b"N"
    if isinstance(value, bool):
        return b"T" if value else b"F"
    if isinstance(value, int):
        return blob(b"i", int_bytes(value))
    if isinstance(value, float):
        return text(b"f", float.hex(value))
    if isinstance(value, complex):
        return b"j" + text(b"", float.hex(value.real)) + text(b"", float.hex(value.imag))
    if isinstance(value, str):
        return text(b"s", value)
    if isinstance(value, bytes):
        return blob(b"b", value)
    if isinstance(value, tuple):
        return _const_seq(b"(", value, code)
    if isinstance(value, frozenset):
        parts = sorted(_const(item, code) for item in value)
        return b">%d:%s" % (len(parts), b"".join(parts))
    if value is Ellipsis:
        return b"."
    if isinstance(value, types.CodeType):
        return text(b"K", code_token(value))
    owner = f"<code {code.co_name}>" if code is not None else "<code>"  # pragma: no cover
    tp = type(value)
    raise UnhashableValueError(
        owner=owner, value_type=f"{tp.__module__}.{tp.__qualname__}", path=""
    )
