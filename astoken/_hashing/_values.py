"""Canonical bytes of values (guarantees 2-4 of :mod:`astoken._hashing`).

Dispatch: the exact type first (the common types never reach an isinstance chain), then the
per-type resolution of anything else, cached per type: a registered encoder (most specific in
the MRO), the ``__astoken__`` protocol, classes, enums, dataclasses, named tuples, function-like
objects, an optional library's encoder (see :mod:`astoken._hashing._optional`), subclasses of
the built-in types, and last the fallback (typing constructs, library singletons by name, the
state of a pure-Python instance, and sentinels by name).
"""

from __future__ import annotations

import dataclasses
import datetime as _dt
import enum
import functools
import operator
import pathlib
import re
import sys
import threading
import types
import typing
import weakref
from collections import OrderedDict, defaultdict, deque
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import decimal
    import uuid

from astoken._scope import Scope, own_namespace
from astoken.errors import EncoderConflictError

from . import _optional
from ._code import code_token
from ._lazy import lazy_instance_attributes
from ._library_state import as_set, order_free_names
from ._names import library_name, sentinel_name
from ._source import current_source_book, portable_code_object
from ._walk import (
    MEMO_BYTES_PER_OBJECT,
    MEMO_ENTRY_BYTES,
    Fail,
    Handler,
    Walk,
    blob,
    detached,
    guarded,
    int_bytes,
    is_first_party,
    text,
    type_name,
)

__all__ = [
    "FUNCTION_TYPES",
    "annotation",
    "behavior_of",
    "enc",
    "is_own_identity",
    "mapping",
    "own_dict",
    "register_encoder",
    "typing_construct",
    "wrapped_of",
]


def _enc_none(v: None, w: Walk) -> bytes:
    return b"N"


def _enc_bool(v: bool, w: Walk) -> bytes:
    return b"T" if v else b"F"


def _enc_int(v: int, w: Walk) -> bytes:
    return blob(b"i", int_bytes(v))


def _enc_float(v: float, w: Walk) -> bytes:
    # float.hex is exact, keeps -0.0 apart from 0.0 and spells every NaN the same way.
    return text(b"f", float.hex(v))


def _enc_complex(v: complex, w: Walk) -> bytes:
    return b"j" + text(b"", float.hex(v.real)) + text(b"", float.hex(v.imag))


def _enc_str(v: str, w: Walk) -> bytes:
    return text(b"s", v)


def _enc_bytes(v: bytes, w: Walk) -> bytes:
    return blob(b"b", bytes(v))


def _enc_bytearray(v: bytearray, w: Walk) -> bytes:
    return blob(b"B", bytes(v))


def _key_segment(key: object) -> str:
    if type(key) in (str, int, bool, float, type(None)):
        return f"[{key!r}]"
    return f"[<{type_name(type(key))} key>]"


def _seq(tag: bytes, items: typing.Iterable[object], w: Walk) -> bytes:
    parts = []
    for index, item in enumerate(items):
        try:
            parts.append(_enc(item, w))
        except Fail as exc:
            exc.segments.append(f"[{index}]")
            raise
    return b"%s%d:%s" % (tag, len(parts), b"".join(parts))


def _enc_tuple(v: tuple[object, ...], w: Walk) -> bytes:
    return _seq(b"(", v, w)


# Containers are copied before they are walked: encoding an element can run code (a class token,
# a code token filling a cache) that changes the very container being encoded.


def _enc_list(v: list[object], w: Walk) -> bytes:
    return guarded(v, w, lambda: _seq(b"[", tuple(v), w))


def _pairs(items: typing.Iterable[tuple[object, object]], w: Walk) -> list[bytes]:
    out = []
    for key, value in items:
        try:
            encoded_key = _enc(key, w)
        except Fail as exc:
            exc.segments.append(f"[<key {type_name(type(key))}>]")
            raise
        try:
            out.append(encoded_key + _enc(value, w))
        except Fail as exc:
            exc.segments.append(_key_segment(key))
            raise
    return out


def mapping(tag: bytes, items: typing.Iterable[tuple[object, object]], w: Walk) -> bytes:
    # Keys are distinct objects whose encodings are distinct (the encoding is injective), so
    # sorting the entry bytes orders by key: the result does not depend on insertion order.
    entries = sorted(_pairs(items, w))
    return b"%s%d:%s" % (tag, len(entries), b"".join(entries))


def _ordered(tag: bytes, items: typing.Iterable[tuple[object, object]], w: Walk) -> bytes:
    entries = _pairs(items, w)
    return b"%s%d:%s" % (tag, len(entries), b"".join(entries))


def _enc_dict(v: dict[object, object], w: Walk) -> bytes:
    return guarded(v, w, lambda: mapping(b"{", list(v.items()), w))


def _enc_ordereddict(v: OrderedDict[object, object], w: Walk) -> bytes:
    return guarded(v, w, lambda: _ordered(b"O", list(v.items()), w))


def _enc_mappingproxy(v: types.MappingProxyType[object, object], w: Walk) -> bytes:
    # A proxy keeps its mapping's order (it may wrap an OrderedDict); tagged apart from dict.
    return guarded(v, w, lambda: _ordered(b"P", list(v.items()), w))


def _set_items(tag: bytes, v: typing.AbstractSet[object], w: Walk) -> bytes:
    parts = []
    for item in list(v):
        try:
            parts.append(_enc(item, w))
        except Fail as exc:
            exc.segments.append("{<element>}")
            raise
    parts.sort()
    return b"%s%d:%s" % (tag, len(parts), b"".join(parts))


def _enc_set(v: set[object], w: Walk) -> bytes:
    return _set_items(b"<", v, w)


def _enc_frozenset(v: frozenset[object], w: Walk) -> bytes:
    return _set_items(b">", v, w)


def _enc_range(v: range, w: Walk) -> bytes:
    return b"r" + _enc_int(v.start, w) + _enc_int(v.stop, w) + _enc_int(v.step, w)


def _enc_slice(v: slice, w: Walk) -> bytes:
    return b"z" + _seq(b"", (v.start, v.stop, v.step), w)


def _enc_ellipsis(v: object, w: Walk) -> bytes:
    return b"."


def _enc_notimplemented(v: object, w: Walk) -> bytes:
    return b"!"


def _enc_decimal(v: decimal.Decimal, w: Walk) -> bytes:
    return text(b"d", str(v))


def _enc_uuid(v: uuid.UUID, w: Walk) -> bytes:
    return blob(b"u", v.bytes)


def _enc_tzinfo(tz: _dt.tzinfo | None, w: Walk) -> bytes:
    if tz is None:
        return b"N"
    if type(tz) is _dt.timezone:
        offset = tz.utcoffset(None)
        return b"Z" + _enc_timedelta(offset, w) + text(b"", tz.tzname(None) or "")
    key = getattr(tz, "key", None)  # zoneinfo.ZoneInfo
    if isinstance(key, str):
        return text(b"Zk", key)
    zone = getattr(tz, "zone", None)  # pytz
    if isinstance(zone, str):
        return text(b"Zz", zone)
    return b"Zx" + _enc(tz, w)


def _enc_datetime(v: _dt.datetime, w: Walk) -> bytes:
    naive = v.replace(tzinfo=None).isoformat()
    return text(b"D", naive) + b"%d" % v.fold + _enc_tzinfo(v.tzinfo, w)


def _enc_date(v: _dt.date, w: Walk) -> bytes:
    return text(b"y", v.isoformat())


def _enc_time(v: _dt.time, w: Walk) -> bytes:
    naive = v.replace(tzinfo=None).isoformat()
    return text(b"t", naive) + b"%d" % v.fold + _enc_tzinfo(v.tzinfo, w)


def _enc_timedelta(v: _dt.timedelta | None, w: Walk) -> bytes:
    if v is None:
        return b"N"
    return b"%s%d,%d,%d;" % (b"e", v.days, v.seconds, v.microseconds)


def _enc_path(v: pathlib.PurePath, w: Walk) -> bytes:
    flavour = b"w" if isinstance(v, pathlib.PureWindowsPath) else b"p"
    return text(b"p" + flavour, str(v))


def _enc_pattern(v: re.Pattern[Any], w: Walk) -> bytes:
    return b"x" + _enc(v.pattern, w) + _enc_int(v.flags, w)


def _enc_module(v: types.ModuleType, w: Walk) -> bytes:
    return text(b"M", v.__name__)


def _enc_code(v: types.CodeType, w: Walk) -> bytes:
    book = current_source_book()
    if book is not None:
        return b"K" + portable_code_object(v, book)
    return text(b"K", code_token(v))


def _reference(v: object, w: Walk) -> bytes | None:
    """In a graph constant's value, a first-party function or class found again under its own
    qualified name is encoded by that name: the graph covers its code as a node of its own (a
    registry's entries when the registry is called through), so an edit to one registered
    function does not change every token that reads the registry."""
    # Functions and classes are encoded by what the context says (by reference, with the
    # expressions that stand for process state): not plain data for the memo.
    w.contextual += 1
    if not w.by_reference:
        return None
    module = getattr(v, "__module__", None)
    qualname = getattr(v, "__qualname__", None)
    if not isinstance(module, str) or not isinstance(qualname, str) or "<" in qualname:
        return None
    if not is_first_party(module, w.scope):
        return None
    found: object = sys.modules.get(module)
    for part in qualname.split("."):
        found = getattr(found, part, None) if found is not None else None
    if found is not v:
        return None
    return text(b"R", f"{module}:{qualname}")


def _enc_function_like(v: object, w: Walk) -> bytes:
    reference = _reference(v, w)
    if reference is not None:
        return reference
    token = w.kernel.function(v, w)
    return b"f" if token is None else text(b"G", token)


def behavior_of(cls: type, w: Walk) -> bytes:
    """With a behavior hook (``data_token``): the behavior token of a first-party class whose
    instance is data, so a cache key covers what the instance's methods do (coverage.md
    rule 3)."""
    hook = w.behavior
    module = getattr(cls, "__module__", None) or ""
    if hook is None or not module or module == "builtins":
        return b""
    if not (w.scope or Scope()).is_first_party(module):
        return b""
    with detached():  # the class's own token is computed by a walk of its own
        token = hook(cls)
    return text(b"B", token or "")


def _enc_class(v: type, w: Walk) -> bytes:
    reference = _reference(v, w)
    if reference is not None:
        return reference
    head = text(b"C", type_name(v))
    scope = w.scope or Scope()
    module = getattr(v, "__module__", None) or ""
    if module and module != "builtins" and scope.is_first_party(module):
        token = w.kernel.klass(v, w, scope)
        return head + (b"N" if token is None else text(b"", token)) + behavior_of(v, w)
    return head


def _enc_enum(v: enum.Enum, w: Walk) -> bytes:
    # The value counts too: ``FAST = "fast"`` -> ``"quick"`` changes what code reading
    # ``Mode.FAST.value`` does. A value with no encoding of its own (``UNSET = object()``, the
    # sentinel-enum idiom) only makes the member distinct: the member's name is its identity.
    def build() -> bytes:
        value = b"!" if type(v.value) is object else _enc(v.value, w)
        # A Flag is its value: a combination (``R | W``) has no name on 3.10 and "R|W" later.
        name = "" if isinstance(v, enum.Flag) else v.name
        return text(b"E", type_name(type(v))) + text(b"", name) + value + behavior_of(type(v), w)

    return guarded(v, w, build)


def _enc_dataclass(v: object, w: Walk) -> bytes:
    def build() -> bytes:
        parts = [text(b"Q", type_name(type(v))), behavior_of(type(v), w)]
        for field in dataclasses.fields(v):  # type: ignore[arg-type]
            if not field.init and not field.compare:
                # Neither given to the constructor nor compared: state the instance derives
                # (griffe's ``prefixes``, a tuple made in ``__post_init__`` by iterating a
                # frozenset, in another order with every hash seed) or caches.
                continue
            try:
                parts.append(text(b"", field.name) + _enc(getattr(v, field.name), w))
            except Fail as exc:
                exc.segments.append(f".{field.name}")
                raise
            except AttributeError as exc:  # an init=False field never assigned
                raise Fail(type_name(type(v))) from exc
        return b"".join(parts)

    with w.home(type(v).__module__):  # where a sentinel field value is looked up by name
        return guarded(v, w, build)


def _enc_namedtuple(v: tuple[object, ...], w: Walk) -> bytes:
    fields: tuple[str, ...] = type(v)._fields  # type: ignore[attr-defined]
    parts = [text(b"U", type_name(type(v))), behavior_of(type(v), w), b"%d:" % len(fields)]
    with w.home(type(v).__module__):
        for name, item in zip(fields, v, strict=True):
            try:
                parts.append(text(b"", name) + _enc(item, w))
            except Fail as exc:
                exc.segments.append(f".{name}")
                raise
    return b"".join(parts)


#: Factories of a ``defaultdict`` whose value a read of a missing key stores: calling one has no
#: effect, and what it returns compares by content.
_EMPTY_FACTORIES: frozenset[object] = frozenset(
    {set, frozenset, list, tuple, dict, str, bytes, int, float, complex, bool}
)


def _enc_defaultdict(v: defaultdict[object, object], w: Walk) -> bytes:
    """The factory and the entries, less those holding the factory's empty value: reading a
    missing key stores one, so they record which keys code read, not data, and that differs
    between processes (sympy's assumption rules read their ``defaultdict(set)`` tables in
    set order at import: which empty entries exist depends on the hash seed)."""
    factory = v.default_factory

    def build() -> bytes:
        items = list(v.items())
        if factory is not None and factory in _EMPTY_FACTORIES:
            empty = factory()
            items = [
                (key, value)
                for key, value in items
                if not (type(value) is factory and value == empty)
            ]
        return b"V" + _enc(factory, w) + mapping(b"", items, w)

    return guarded(v, w, build)


def _enc_deque(v: deque[object], w: Walk) -> bytes:
    return guarded(v, w, lambda: b"W" + _enc(v.maxlen, w) + _seq(b"", tuple(v), w))


# Exact-type dispatch first: the common types never reach an isinstance chain.
_EXACT: dict[type, Handler] = {
    type(None): _enc_none,
    bool: _enc_bool,
    int: _enc_int,
    float: _enc_float,
    complex: _enc_complex,
    str: _enc_str,
    bytes: _enc_bytes,
    bytearray: _enc_bytearray,
    tuple: _enc_tuple,
    list: _enc_list,
    dict: _enc_dict,
    set: _enc_set,
    frozenset: _enc_frozenset,
    OrderedDict: _enc_ordereddict,
    types.MappingProxyType: _enc_mappingproxy,
    range: _enc_range,
    slice: _enc_slice,
    type(Ellipsis): _enc_ellipsis,
    type(NotImplemented): _enc_notimplemented,
    _dt.datetime: _enc_datetime,
    _dt.date: _enc_date,
    _dt.time: _enc_time,
    _dt.timedelta: _enc_timedelta,
    _dt.timezone: _enc_tzinfo,
    pathlib.PurePosixPath: _enc_path,
    pathlib.PureWindowsPath: _enc_path,
    pathlib.PosixPath: _enc_path,
    pathlib.WindowsPath: _enc_path,
    re.Pattern: _enc_pattern,
    types.ModuleType: _enc_module,
    types.CodeType: _enc_code,
    type: _enc_class,
    defaultdict: _enc_defaultdict,
    deque: _enc_deque,
}

FUNCTION_TYPES: tuple[type, ...] = (
    types.FunctionType,
    types.MethodType,
    types.BuiltinFunctionType,
    types.MethodDescriptorType,
    types.WrapperDescriptorType,
    types.MethodWrapperType,
    types.ClassMethodDescriptorType,
    staticmethod,
    classmethod,
    property,
    functools.cached_property,
    functools.partial,
    functools.partialmethod,
)
for _tp in FUNCTION_TYPES:
    _EXACT[_tp] = _enc_function_like


def _enc_operator_getter(v: object, w: Walk) -> bytes:
    """``operator.itemgetter(0, 1)``, ``attrgetter("a.b")``, ``methodcaller("m", 2)``: C
    callables fully described by how they pickle (their class and arguments)."""
    return guarded(v, w, lambda: text(b"og", type_name(type(v))) + _enc(v.__reduce__(), w))


for _tp in (operator.itemgetter, operator.attrgetter, operator.methodcaller):
    _EXACT[_tp] = _enc_operator_getter


def _enc_runtime_state(v: object, w: Walk) -> bytes:
    """A weak container or a thread-local: state of the running process (what the garbage
    collector or the current thread left in it), never the code's behaviour. Known by its type
    only, so caches such as ``functools``-style weak memos in a closure do not make a function
    unhashable or its token depend on what ran before."""
    return text(b"w", type_name(type(v)))


_RUNTIME_STATE_TYPES: tuple[type, ...] = (
    weakref.WeakKeyDictionary,
    weakref.WeakValueDictionary,
    weakref.WeakSet,
    threading.local,
)
for _tp in _RUNTIME_STATE_TYPES:
    _EXACT[_tp] = _enc_runtime_state

# Built-in handlers reached through the MRO (subclasses of the types above).
_BY_MRO: dict[type, Handler] = {tp: fn for tp, fn in _EXACT.items() if tp is not type}
_BY_MRO[pathlib.PurePath] = _enc_path
_BY_MRO[_dt.tzinfo] = _enc_tzinfo

#: Standard-library types encoded as exactly as the types above, whose modules astoken does not
#: import itself: ``uuid`` imports ``platform`` (and on 3.10 ``subprocess``), ~5 ms at every
#: start. A value of one exists only once its module is imported, so the type joins ``_EXACT``
#: and ``_BY_MRO`` the first time the encoder meets a type it has not resolved yet
#: (:meth:`_Dispatch.load_libraries`), before that type is resolved: the same handler, with the
#: same precedence, as if it had been there from the start.
_STDLIB_TYPES: dict[str, tuple[str, Handler]] = {
    "decimal": ("Decimal", _enc_decimal),
    "uuid": ("UUID", _enc_uuid),
}


def _new_stdlib_types(loaded: set[str]) -> dict[type, Handler]:
    """The types of :data:`_STDLIB_TYPES` whose module was imported since the names in
    ``loaded`` were; adds those modules to ``loaded``."""
    found: dict[type, Handler] = {}
    for module_name in _optional.newly_imported(_STDLIB_TYPES, loaded):
        attribute, handler = _STDLIB_TYPES[module_name]
        tp = getattr(sys.modules[module_name], attribute, None)
        if isinstance(tp, type):
            found[tp] = handler
    return found


class _Dispatch:
    """What the encoder knows beyond the exact built-in types, and the per-type resolution.

    ``registered`` holds :func:`register_encoder`'s encoders; ``library`` the optional
    libraries' encoders, added once the library is imported by someone else (they handle their
    own subclasses: a pydantic model is encoded by its fields, not as "a subclass of BaseModel"
    plus its ``__dict__``). ``resolved`` caches the resolution per type, weakly (a class that is
    garbage-collected leaves it), and is emptied whenever either table changes, so a cached
    answer is never older than the tables it was computed from. ``generation`` counts those
    changes: a run's memo of encodings (``ValueMemo``) made under another one is dropped.
    """

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.registered: dict[type, Callable[[Any], object]] = {}
        self.library: dict[type, Handler] = {}
        self.loaded: set[str] = set()
        self.resolved: weakref.WeakKeyDictionary[type, Handler] = weakref.WeakKeyDictionary()
        self.generation = 0

    def load_libraries(self) -> None:
        """Add the encoders of optional libraries, and the standard-library types of
        :data:`_STDLIB_TYPES`, imported since the last call."""
        found = _optional.new_handlers(self.loaded)
        stdlib = _new_stdlib_types(self.loaded)
        if found or stdlib:
            with self.lock:
                _EXACT.update(stdlib)
                _BY_MRO.update(stdlib)
                self.library.update(found)
                self.resolved.clear()
                self.generation += 1


_DISPATCH = _Dispatch()


def register_encoder(tp: type, fn: Callable[[Any], object]) -> None:
    """Teach the value encoder a type: ``fn(value)`` returns a plain encodable value.

    The most specific registered type in the value's MRO wins; registered encoders take
    precedence over astoken's own handlers except for exact built-in types (``int``, ``str``,
    ``dict``...). The encoding is tagged with the value's type, so two types mapping to the
    same plain value still differ.

    A type has one encoder per process: registering the same function again does nothing, and
    registering another function for a type that has one raises
    :class:`~astoken.errors.EncoderConflictError`, so a token never depends on which of two
    registrations ran first. Register next to the type's definition, before any value of it
    is encoded.
    """
    if not isinstance(tp, type):
        raise TypeError(f"register_encoder() needs a type, got {type(tp).__name__}")
    if not callable(fn):
        raise TypeError("register_encoder() needs a callable")
    with _DISPATCH.lock:
        current = _DISPATCH.registered.get(tp)
        if current is fn:
            return
        if current is not None:
            raise EncoderConflictError(type_name(tp))
        _DISPATCH.registered[tp] = fn
        _DISPATCH.resolved.clear()
        _DISPATCH.generation += 1


def unregister_encoder(tp: type) -> None:
    """Forget the encoder registered for ``tp`` (for tests that must leave no trace)."""
    with _DISPATCH.lock:
        _DISPATCH.registered.pop(tp, None)
        _DISPATCH.resolved.clear()
        _DISPATCH.generation += 1


def enc(v: object, w: Walk) -> bytes:
    """The canonical bytes of ``v`` (raises :class:`Fail` for a value with no encoding)."""
    tp = type(v)
    handler = _EXACT.get(tp)
    if handler is not None:
        if tp not in _SIZED or len(v) < _MEMO_MIN_LENGTH:  # type: ignore[arg-type]
            return handler(v, w)
        return _memoized(v, handler, len(v), w)  # type: ignore[arg-type]
    handler = _DISPATCH.resolved.get(tp)
    if handler is None:
        _DISPATCH.load_libraries()
        handler = _EXACT.get(tp)  # a standard-library type the call just added
        if handler is None:
            handler = _resolve(tp)
            with _DISPATCH.lock:
                _DISPATCH.resolved[tp] = handler
    return _memoized(v, handler, -1, w)


_enc = enc

#: The containers the memo keeps (from this length on: a shorter one costs less to encode
#: again than to look up, and the long values inside it are memoised themselves), with the
#: ones whose length is their cheap change check (see ``ValueMemo``). Every value of a type
#: outside the exact table (instances, enum members, subclasses of built-in types) is kept.
_SIZED: frozenset[type] = frozenset(
    {tuple, list, dict, set, frozenset, OrderedDict, defaultdict, deque, types.MappingProxyType}
)
_MEMO_MIN_LENGTH = 8


def _memoized(v: object, handler: Handler, length: int, w: Walk) -> bytes:
    """``handler(v, w)``, served from the run's memo when a fresh encoding would give the
    same bytes, and kept there when those bytes do not depend on where the walk met ``v``
    (guarantee 8 of :mod:`astoken._hashing`, :class:`~astoken._hashing._walk.ValueMemo`).

    An encoding that read no more of the walk's context than the scope and the behavior hook
    (plain data: no function or class, no sentinel, no instance encoded by its state) is kept
    under that smaller key, so a constant's value and the same value in a class token share it.
    """
    memo = w.memo
    if memo.generation != _DISPATCH.generation:
        memo.entries.clear()  # an encoder was registered: older encodings may be stale
        memo.generation = _DISPATCH.generation
    entries = memo.entries
    plain_key = (id(v), w.plain_context())
    entry = entries.get(plain_key)
    contextual_entry = entry is None
    if contextual_entry:
        entry = entries.get((id(v), w.context()))
    if entry is not None and entry[0] is v and entry[1] == length and entry[3].isdisjoint(w.active):
        w.entered.append(entry[3])
        if contextual_entry:
            w.contextual += 1  # what encoded it read the context: so does whatever holds it
        return entry[2]
    depth = w.depth()
    start = len(w.entered)
    outer_low, w.low = w.low, sys.maxsize
    root_hits, contextual = w.root_hits, w.contextual
    try:
        data = handler(v, w)
    finally:
        inner_low = w.low
        w.low = min(outer_low, inner_low)
    if inner_low >= depth and w.root_hits == root_hits and memo.keep and memo.room > 0:
        ids: set[int] = set()
        fresh = 0
        for item in w.entered[start:]:
            if isinstance(item, int):
                ids.add(item)
                fresh += 1
            else:
                ids.update(item)
        # A long encoding made mostly of kept parts (a table repeating a large value) costs
        # little to make again and much to keep: kept only when short, or when it took work.
        if len(data) <= MEMO_ENTRY_BYTES or len(data) <= MEMO_BYTES_PER_OBJECT * fresh:
            kept = plain_key if w.contextual == contextual else (id(v), w.context())
            entries[kept] = (v, length, data, frozenset(ids))
            memo.room -= len(data) + 64 * len(ids)
    return data


def _resolve(tp: type) -> Handler:
    mro = getattr(tp, "__mro__", (tp,))
    for klass in mro:
        fn = _DISPATCH.registered.get(klass)
        if fn is not None:
            return _registered_handler(fn)
    if callable(getattr(tp, "__astoken__", None)):
        return _enc_astoken_protocol
    if issubclass(tp, type):
        return _enc_class  # a class whose metaclass is not ``type``
    if issubclass(tp, enum.Enum):
        return _enc_enum
    if dataclasses.is_dataclass(tp):
        return _enc_dataclass
    if issubclass(tp, tuple) and isinstance(getattr(tp, "_fields", None), tuple):
        return _enc_namedtuple
    if issubclass(tp, FUNCTION_TYPES):
        return _enc_function_like
    for klass in mro:
        library = _DISPATCH.library.get(klass)
        if library is not None:
            return library
        base = _BY_MRO.get(klass)
        if base is not None:
            return base if klass is tp else _subclass_handler(base)
    return _enc_fallback


def _registered_handler(fn: Callable[[Any], object]) -> Handler:
    def handle(v: object, w: Walk) -> bytes:
        return guarded(v, w, lambda: text(b"R", type_name(type(v))) + _enc(fn(v), w))

    return handle


def _enc_astoken_protocol(v: object, w: Walk) -> bytes:
    def build() -> bytes:
        plain = type(v).__astoken__(v)  # type: ignore[attr-defined]
        return text(b"A", type_name(type(v))) + _enc(plain, w)

    return guarded(v, w, build)


def _is_hash_cache(v: object, name: object, value: object) -> bool:
    """Whether an attribute of ``v`` caches ``hash(v)``: an int under a name that says so
    (``_hash``, ``_mhash``...) equal to the object's hash. sympy's polynomial rings and their
    elements keep one; ``hash()`` of strings differs with every hash seed, and what it is
    computed from is the rest of the state, encoded as ever."""
    if type(value) is not int or not isinstance(name, str) or "hash" not in name.lower():
        return False
    try:
        return hash(v) == value
    except Exception:  # an unhashable object (or a failing __hash__) caches no hash
        return False


def is_own_identity(v: object, value: object) -> bool:
    """Whether ``value`` is ``id(v)``, an address: SQLAlchemy marks each collection class it
    instrumented with ``cls._sa_instrumented = id(cls)``. What it records (that this object was
    processed) is the running process's state, another number in every process."""
    return type(value) is int and value == id(v)


def _without_process_marks(
    v: object, state: list[tuple[object, object]]
) -> list[tuple[object, object]]:
    """``v``'s state without the attributes that cache its hash (:func:`_is_hash_cache`),
    hold its address (:func:`is_own_identity`) or are filled in as it is used
    (:func:`~astoken._hashing._lazy.lazy_instance_attributes`)."""
    lazy = lazy_instance_attributes(type(v))
    return [
        (name, value)
        for name, value in state
        if name not in lazy and not _is_hash_cache(v, name, value) and not is_own_identity(v, value)
    ]


def _is_hash_of_own_text(v: object, state: dict[str, object] | None) -> bool:
    """Whether ``v`` is an int whose value is the ``hash()`` of a string it holds itself
    (SQLAlchemy's ``symbol("APPEND")`` is ``hash("APPEND")``, with the name as an attribute):
    the number differs with every hash seed, the string it was made from does not."""
    if not isinstance(v, int) or not state:
        return False
    number = int(v)
    return any(isinstance(x, str) and hash(x) == number for x in state.values())


def _subclass_handler(base: Handler) -> Handler:
    """A subclass of a known type: the base encoding tagged with the subclass (and its state),
    without what is the ``hash()`` of its own state (:func:`_is_hash_cache`,
    :func:`_is_hash_of_own_text`)."""

    def handle(v: object, w: Walk) -> bytes:
        def build() -> bytes:
            state = own_dict(v)
            items = _without_process_marks(v, list(state.items())) if state else []
            extra = mapping(b"", items, w) if items else b""
            own = b"#" if _is_hash_of_own_text(v, state) else base(v, w)
            return text(b"S", type_name(type(v))) + own + extra

        return guarded(v, w, build)

    return handle


def _enc_fallback(v: object, w: Walk) -> bytes:
    w.contextual += 1  # by-reference mode, sentinels by name: see ``_memoized``
    typing_bytes = typing_construct(v, w)
    if typing_bytes is not None:
        return typing_bytes
    name = library_name(v)
    if name is not None:
        return text(b"g", name)
    if callable(v) and wrapped_of(v) is not None:
        # A wrapper object around a function (functools.lru_cache...): a function-like value.
        return _enc_function_like(v, w)
    state = _plain_instance_state(v)
    if state is not None and w.by_reference and not is_first_party(type(v).__module__, w.scope):
        # In a graph constant, another library's object (``joblib.Memory(...)``, a client) is
        # not data of the code: its state holds timestamps and caches of its own. The graph
        # hashes the constant by the source of the assignment that built it instead.
        state = None
    if state is not None:
        state = _without_process_marks(v, state)
        order_free = order_free_names(type(v))
        if order_free:  # a set kept as a tuple: its order is process history
            state = [(k, as_set(x) if k in order_free else x) for k, x in state]
        with w.home(type(v).__module__):
            try:
                return guarded(v, w, lambda: _enc_class(type(v), w) + mapping(b"O", iter(state), w))
            except Fail:
                # A module-level singleton whose state has no encoding (a context object
                # holding a thread-local or a lock): known by the name it is bound to, like a
                # sentinel; otherwise the failure stands.
                if v is w.root:
                    w.root_hits += 1  # refused here, named elsewhere: see ``_memoized``
                    raise
                name = sentinel_name(v, w.homes)
                if name is None:
                    raise
                return text(b"g", name)
    if v is w.root:
        w.root_hits += 1  # refused here, named anywhere else: see ``_memoized``
    else:
        # A sentinel (``_MISSING = object()`` used as a default, in a closure or inside a
        # value): known by the module-level name it is bound to (see _names). The value a
        # token is asked for is never replaced by its own name.
        name = sentinel_name(v, w.homes)
        if name is not None:
            return text(b"g", name)
    raise Fail(type_name(type(v)))


# A class statement makes a heap type that is mutable; C types (static ones, and the heap types
# the standard library builds from specs: locks, io objects, sockets...) are immutable.
_HEAPTYPE = 1 << 9  # Py_TPFLAGS_HEAPTYPE
_IMMUTABLETYPE = 1 << 8  # Py_TPFLAGS_IMMUTABLETYPE (3.10+)


_POINTER = 8 if sys.maxsize > 2**32 else 4


def _python_level(klass: type) -> bool:
    """True for a class made by a class statement, whose instances keep all their state in
    ``__dict__`` and ``__slots__``.

    A mutable heap type is not enough: extension types built from specs (pyo3's, Cython's
    heap types) are mutable heap types too, with their state in C fields. The instance layout
    tells them apart: a class statement adds only slot pointers, and a dict and weakref
    pointer, to its base's layout.
    """
    flags = klass.__flags__
    if not flags & _HEAPTYPE or flags & _IMMUTABLETYPE:
        return False
    base = klass.__base__ or object
    own = klass.__dict__
    slots = own.get("__slots__", ())
    names = (slots,) if isinstance(slots, str) else tuple(slots)
    fields = sum(1 for name in names if name not in ("__dict__", "__weakref__"))
    extra = klass.__basicsize__ - base.__basicsize__ - fields * _POINTER
    if extra not in (0, _POINTER, 2 * _POINTER):
        return False
    if "__slots__" in own:
        return True
    # Without __slots__ a class statement gives instances a __dict__ (its own descriptor, or
    # the one it inherits from a base that has it).
    return "__dict__" in own or base.__dictoffset__ != 0


def _plain_instance_state(v: object) -> list[tuple[object, object]] | None:
    """The complete state of an instance of a pure-Python class, or None.

    Only when every class of the MRO except ``object`` is a Python-level class is all of the
    instance's state in its ``__dict__`` and ``__slots__``; a C base (a lock, a socket, an io
    object, ``object()`` itself) may hide state, so those stay unencodable.
    """
    mro = type(v).__mro__
    if mro[-1] is not object or len(mro) < 2:
        return None
    if not all(_python_level(klass) for klass in mro[:-1]):
        return None
    state: list[tuple[object, object]] = []
    try:
        own = object.__getattribute__(v, "__dict__")
    except AttributeError:
        own = None
    if isinstance(own, dict):
        state.extend(own.items())
    for klass in mro[:-1]:
        slots = klass.__dict__.get("__slots__", ())
        for slot in (slots,) if isinstance(slots, str) else slots:
            if slot in ("__dict__", "__weakref__"):
                continue
            descriptor = klass.__dict__.get(slot)
            try:
                value = descriptor.__get__(v, klass) if descriptor is not None else None
            except AttributeError:
                state.append((slot, _UNSET_SLOT))
                continue
            state.append((slot, value))
    return state


class _UnsetSlot(enum.Enum):
    """Marks a ``__slots__`` attribute that was never assigned."""

    UNSET = "unset"


_UNSET_SLOT = _UnsetSlot.UNSET


def own_dict(obj: object) -> dict[str, object] | None:
    """``obj.__dict__`` when it is a dict, read without running a ``__getattr__`` (objects that
    raise from it, such as pydantic's mocks, must not break a token): ``_scope.own_namespace``
    less a class's mapping proxy."""
    own = own_namespace(obj)
    return own if isinstance(own, dict) else None


def wrapped_of(obj: object) -> object | None:
    """``obj.__wrapped__`` when really set on it (not conjured up by a ``__getattr__``)."""
    own = own_dict(obj)
    return own.get("__wrapped__") if own is not None else None


# ---- typing constructs and standard-library singletons -------------------------------------

_TYPING_MODULES = frozenset({"typing", "types", "typing_extensions", "collections.abc"})


def typing_construct(v: object, w: Walk) -> bytes | None:
    module = getattr(type(v), "__module__", "")
    if module not in _TYPING_MODULES:
        return None
    if typing.get_origin(v) is not None or isinstance(
        v, (typing.TypeVar, typing.ForwardRef, typing.ParamSpec)
    ):
        return annotation(v, w)
    return None


def annotation(a: object, w: Walk) -> bytes:
    """Encode an annotation: classes by name (never by token), typing constructs structurally."""
    if a is None or isinstance(a, str):
        return _enc(a, w)
    origin = typing.get_origin(a)
    if origin is not None:
        args = typing.get_args(a)
        return b"Y" + annotation(origin, w) + annotation_seq(args, w)
    if isinstance(a, type):
        return text(b"c", type_name(a))
    if isinstance(a, (list, tuple)):
        return annotation_seq(a, w)
    if isinstance(a, typing.ForwardRef):
        return text(b"Fr", a.__forward_arg__)
    if isinstance(a, (typing.TypeVar, typing.ParamSpec)):
        bound = getattr(a, "__bound__", None)
        constraints = getattr(a, "__constraints__", ())
        return text(b"Tv", a.__name__) + annotation(bound, w) + annotation_seq(constraints, w)
    name = library_name(a)
    if name is not None:
        return text(b"g", name)
    try:
        return _enc(a, w)
    except Fail:
        # An annotation that is neither a type nor a value we can encode (a third-party
        # marker object): its type still counts. Annotations never make a token fail.
        return text(b"?", type_name(type(a)))


def annotation_seq(items: typing.Iterable[object], w: Walk) -> bytes:
    parts = [annotation(item, w) for item in items]
    return b"%d:%s" % (len(parts), b"".join(parts))
