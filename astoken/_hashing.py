"""Canonical bytes of code objects, functions, classes and values (the runtime hasher).

Guarantees (cited by ``tests/test_hashing.py`` and ``tests/test_encoder.py``):

1. A code object is hashed as a canonical *instruction stream*, not as raw ``co_code``: each
   instruction contributes its opcode and a canonical argument (the encoded constant, the
   name, the raw local/cell index, the jump target as a logical instruction index). So a
   docstring (an unreferenced constant), comments, blank lines, the position in the file and
   the names of non-argument locals never reach the token; attribute and global names,
   constants, operators, nested code, parameter names, the argument layout and the
   generator/coroutine flags do.
2. Nothing that is hashed contains a memory address, an ``id()``, a ``hash()`` value, a
   pickle or a file path; ``id()`` is used only to notice re-entry (cycles) while walking.
   Sets, frozensets and dicts are encoded in an order that does not depend on
   ``PYTHONHASHSEED`` (sorted by the encoded bytes of their elements or keys).
3. The value encoding is type-tagged and length-prefixed, so ``1``, ``True``, ``1.0``,
   ``"1"`` and ``b"1"`` (and ``(1,)`` and ``[1]``) all differ. A value with no deterministic
   encoding raises :class:`~astoken.errors.UnhashableValueError` naming the owner, the type
   and where inside the value it sits; one nested deeper than the stack allows (a few hundred
   levels) raises :class:`~astoken.errors.ValueTooDeepError`. Containers are copied before
   they are walked, so one that the walk itself changes (a cache) cannot break it.
4. Cycles (a list containing itself, a recursive inner function closing over itself, a class
   constant referring back to its class) encode a back-reference marker that counts how far up
   the walk the repeated object sits, so the result does not depend on addresses.
5. A class token covers the members of the class and of its first-party bases with override
   semantics (the first definition of a name in the MRO wins), sorted by name, and stops at
   the first base outside the first-party scope. It is cached in the class's *own*
   ``__dict__`` as ``__astoken_cache__`` (never inherited), keyed by format version and
   scope; a class on a reference cycle is not cached, so that its token does not depend on
   which class of the cycle was hashed first.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as _dt
import decimal
import dis
import enum
import functools
import hashlib
import inspect
import pathlib
import re
import sys
import threading
import types
import typing
import uuid
from collections import OrderedDict, defaultdict, deque
from collections.abc import Callable, Iterator
from typing import Any

from ._model import FORMAT_VERSION
from ._scope import Origin, Scope
from .errors import UnhashableValueError, ValueTooDeepError

__all__ = [
    "class_token",
    "code_token",
    "encode_value",
    "function_token",
    "object_token",
    "register_encoder",
    "value_token",
]

Handler = Callable[[Any, "_Walk"], bytes]
#: Gives the behavior token of a first-party class whose instance is encoded as data.
BehaviorHook = Callable[[type], "str | None"]


# ---------------------------------------------------------------------------------------------
# Walk state: cycle detection and error paths
# ---------------------------------------------------------------------------------------------


class _Fail(Exception):
    """Internal: a value with no encoding; containers add their path segment on the way out."""

    def __init__(self, value_type: str) -> None:
        super().__init__(value_type)
        self.value_type = value_type
        self.segments: list[str] = []

    def path(self) -> str:
        return "".join(reversed(self.segments))


class _Walk:
    """The objects currently being encoded (for cycles) and the scope of the walk.

    ``active`` maps ``id(obj)`` to its depth on the walk; the ids are never emitted, only the
    depth difference of a back-reference is. ``low`` is the shallowest depth any
    back-reference has pointed at: a class token whose computation pointed above the class
    itself depends on where the walk started and must not be cached.
    """

    __slots__ = ("active", "behavior", "by_reference", "keep", "low", "scope")

    def __init__(
        self,
        scope: Scope | None,
        behavior: BehaviorHook | None = None,
        *,
        by_reference: bool = False,
    ) -> None:
        self.active: dict[int, int] = {}
        self.keep: list[object] = []
        self.low = sys.maxsize
        self.scope = scope
        self.behavior = behavior
        self.by_reference = by_reference

    def enter(self, obj: object) -> bytes | None:
        """Mark ``obj`` active; returns a back-reference marker if it already is."""
        key = id(obj)
        depth = self.active.get(key)
        if depth is not None:
            self.low = min(self.low, depth)
            return b"@%d;" % (len(self.active) - depth)
        self.active[key] = len(self.active)
        return None

    def leave(self, obj: object) -> None:
        del self.active[id(obj)]


_LOCAL = threading.local()


class _WalkScope:
    """Reuse the walk of the enclosing call (so cycles through public entry points are seen)."""

    __slots__ = ("behavior", "by_reference", "created", "scope", "walk")

    def __init__(
        self,
        scope: Scope | None = None,
        behavior: BehaviorHook | None = None,
        *,
        by_reference: bool = False,
    ) -> None:
        self.scope = scope
        self.behavior = behavior
        self.by_reference = by_reference

    def __enter__(self) -> _Walk:
        current: _Walk | None = getattr(_LOCAL, "walk", None)
        self.created = current is None
        if current is None:
            current = _Walk(self.scope, self.behavior, by_reference=self.by_reference)
            _LOCAL.walk = current
        self.walk = current
        return current

    def __exit__(self, *exc: object) -> None:
        if self.created:
            _LOCAL.walk = None


def _type_name(tp: type) -> str:
    return f"{getattr(tp, '__module__', None) or '?'}.{getattr(tp, '__qualname__', tp.__name__)}"


def _obj_name(obj: object) -> str:
    """``module:qualname`` of a function/class-like object, for error messages."""
    target = getattr(obj, "__func__", None) or getattr(obj, "fget", None) or obj
    module = getattr(target, "__module__", None)
    qualname = getattr(target, "__qualname__", None) or getattr(target, "__name__", None)
    if isinstance(module, str) and isinstance(qualname, str):
        return f"{module}:{qualname}"
    return _type_name(type(obj))


def _unhashable(exc: _Fail, owner: str) -> UnhashableValueError:
    return UnhashableValueError(owner=owner, value_type=exc.value_type, path=exc.path())


def _too_deep(owner: str, value: object) -> ValueTooDeepError:
    # Caught where the walk started, with the stack unwound: a clear error, never a
    # RecursionError from somewhere inside the walk.
    return ValueTooDeepError(owner=owner, value_type=_type_name(type(value)))


# ---------------------------------------------------------------------------------------------
# Primitive encodings
# ---------------------------------------------------------------------------------------------


def _blob(tag: bytes, raw: bytes) -> bytes:
    return b"%s%d:%s" % (tag, len(raw), raw)


def _text(tag: bytes, text: str) -> bytes:
    return _blob(tag, text.encode("utf-8", "surrogatepass"))


def _int_bytes(value: int) -> bytes:
    # int.to_bytes avoids str(int)'s digit limit (sys.set_int_max_str_digits) for huge ints.
    return value.to_bytes((value.bit_length() + 8) // 8, "big", signed=True)


def _enc_none(v: None, w: _Walk) -> bytes:
    return b"N"


def _enc_bool(v: bool, w: _Walk) -> bytes:
    return b"T" if v else b"F"


def _enc_int(v: int, w: _Walk) -> bytes:
    return _blob(b"i", _int_bytes(v))


def _enc_float(v: float, w: _Walk) -> bytes:
    # float.hex is exact, keeps -0.0 apart from 0.0 and spells every NaN the same way.
    return _text(b"f", float.hex(v))


def _enc_complex(v: complex, w: _Walk) -> bytes:
    return b"j" + _text(b"", float.hex(v.real)) + _text(b"", float.hex(v.imag))


def _enc_str(v: str, w: _Walk) -> bytes:
    return _text(b"s", v)


def _enc_bytes(v: bytes, w: _Walk) -> bytes:
    return _blob(b"b", bytes(v))


def _enc_bytearray(v: bytearray, w: _Walk) -> bytes:
    return _blob(b"B", bytes(v))


def _key_segment(key: object) -> str:
    if type(key) in (str, int, bool, float, type(None)):
        return f"[{key!r}]"
    return f"[<{_type_name(type(key))} key>]"


def _seq(tag: bytes, items: typing.Iterable[object], w: _Walk) -> bytes:
    parts = []
    for index, item in enumerate(items):
        try:
            parts.append(_enc(item, w))
        except _Fail as exc:
            exc.segments.append(f"[{index}]")
            raise
    return b"%s%d:%s" % (tag, len(parts), b"".join(parts))


def _enc_tuple(v: tuple[object, ...], w: _Walk) -> bytes:
    return _seq(b"(", v, w)


def _guarded(v: object, w: _Walk, build: Callable[[], bytes]) -> bytes:
    """Encode a mutable container with cycle detection."""
    back = w.enter(v)
    if back is not None:
        return back
    try:
        return build()
    finally:
        w.leave(v)


# Containers are copied before they are walked: encoding an element can run code (a class token,
# a code token filling a cache) that changes the very container being encoded.


def _enc_list(v: list[object], w: _Walk) -> bytes:
    return _guarded(v, w, lambda: _seq(b"[", tuple(v), w))


def _pairs(items: typing.Iterable[tuple[object, object]], w: _Walk) -> list[bytes]:
    out = []
    for key, value in items:
        try:
            encoded_key = _enc(key, w)
        except _Fail as exc:
            exc.segments.append(f"[<key {_type_name(type(key))}>]")
            raise
        try:
            out.append(encoded_key + _enc(value, w))
        except _Fail as exc:
            exc.segments.append(_key_segment(key))
            raise
    return out


def _mapping(tag: bytes, items: typing.Iterable[tuple[object, object]], w: _Walk) -> bytes:
    # Keys are distinct objects whose encodings are distinct (the encoding is injective), so
    # sorting the entry bytes orders by key: the result does not depend on insertion order.
    entries = sorted(_pairs(items, w))
    return b"%s%d:%s" % (tag, len(entries), b"".join(entries))


def _ordered(tag: bytes, items: typing.Iterable[tuple[object, object]], w: _Walk) -> bytes:
    entries = _pairs(items, w)
    return b"%s%d:%s" % (tag, len(entries), b"".join(entries))


def _enc_dict(v: dict[object, object], w: _Walk) -> bytes:
    return _guarded(v, w, lambda: _mapping(b"{", list(v.items()), w))


def _enc_ordereddict(v: OrderedDict[object, object], w: _Walk) -> bytes:
    return _guarded(v, w, lambda: _ordered(b"O", list(v.items()), w))


def _enc_mappingproxy(v: types.MappingProxyType[object, object], w: _Walk) -> bytes:
    # A proxy keeps its mapping's order (it may wrap an OrderedDict); tagged apart from dict.
    return _guarded(v, w, lambda: _ordered(b"P", list(v.items()), w))


def _set_items(tag: bytes, v: typing.AbstractSet[object], w: _Walk) -> bytes:
    parts = []
    for item in list(v):
        try:
            parts.append(_enc(item, w))
        except _Fail as exc:
            exc.segments.append("{<element>}")
            raise
    parts.sort()
    return b"%s%d:%s" % (tag, len(parts), b"".join(parts))


def _enc_set(v: set[object], w: _Walk) -> bytes:
    return _set_items(b"<", v, w)


def _enc_frozenset(v: frozenset[object], w: _Walk) -> bytes:
    return _set_items(b">", v, w)


def _enc_range(v: range, w: _Walk) -> bytes:
    return b"r" + _enc_int(v.start, w) + _enc_int(v.stop, w) + _enc_int(v.step, w)


def _enc_slice(v: slice, w: _Walk) -> bytes:
    return b"z" + _seq(b"", (v.start, v.stop, v.step), w)


def _enc_ellipsis(v: object, w: _Walk) -> bytes:
    return b"."


def _enc_notimplemented(v: object, w: _Walk) -> bytes:
    return b"!"


def _enc_decimal(v: decimal.Decimal, w: _Walk) -> bytes:
    return _text(b"d", str(v))


def _enc_uuid(v: uuid.UUID, w: _Walk) -> bytes:
    return _blob(b"u", v.bytes)


def _enc_tzinfo(tz: _dt.tzinfo | None, w: _Walk) -> bytes:
    if tz is None:
        return b"N"
    if type(tz) is _dt.timezone:
        offset = tz.utcoffset(None)
        return b"Z" + _enc_timedelta(offset, w) + _text(b"", tz.tzname(None) or "")
    key = getattr(tz, "key", None)  # zoneinfo.ZoneInfo
    if isinstance(key, str):
        return _text(b"Zk", key)
    zone = getattr(tz, "zone", None)  # pytz
    if isinstance(zone, str):
        return _text(b"Zz", zone)
    return b"Zx" + _enc(tz, w)


def _enc_datetime(v: _dt.datetime, w: _Walk) -> bytes:
    naive = v.replace(tzinfo=None).isoformat()
    return _text(b"D", naive) + b"%d" % v.fold + _enc_tzinfo(v.tzinfo, w)


def _enc_date(v: _dt.date, w: _Walk) -> bytes:
    return _text(b"y", v.isoformat())


def _enc_time(v: _dt.time, w: _Walk) -> bytes:
    naive = v.replace(tzinfo=None).isoformat()
    return _text(b"t", naive) + b"%d" % v.fold + _enc_tzinfo(v.tzinfo, w)


def _enc_timedelta(v: _dt.timedelta | None, w: _Walk) -> bytes:
    if v is None:
        return b"N"
    return b"%s%d,%d,%d;" % (b"e", v.days, v.seconds, v.microseconds)


def _enc_path(v: pathlib.PurePath, w: _Walk) -> bytes:
    flavour = b"w" if isinstance(v, pathlib.PureWindowsPath) else b"p"
    return _text(b"p" + flavour, str(v))


def _enc_pattern(v: re.Pattern[Any], w: _Walk) -> bytes:
    return b"x" + _enc(v.pattern, w) + _enc_int(v.flags, w)


def _enc_module(v: types.ModuleType, w: _Walk) -> bytes:
    return _text(b"M", v.__name__)


def _enc_code(v: types.CodeType, w: _Walk) -> bytes:
    return _text(b"K", code_token(v))


def _reference(v: object, w: _Walk) -> bytes | None:
    """In a graph constant's value, a first-party function or class found again under its own
    qualified name is encoded by that name: the graph covers its code as a node of its own (a
    registry's entries when the registry is called through), so an edit to one registered
    function does not change every token that reads the registry."""
    if not w.by_reference:
        return None
    module = getattr(v, "__module__", None)
    qualname = getattr(v, "__qualname__", None)
    if not isinstance(module, str) or not isinstance(qualname, str) or "<" in qualname:
        return None
    if not _is_first_party(module, w.scope):
        return None
    found: object = sys.modules.get(module)
    for part in qualname.split("."):
        found = getattr(found, part, None) if found is not None else None
    if found is not v:
        return None
    return _text(b"R", f"{module}:{qualname}")


def _enc_function_like(v: object, w: _Walk) -> bytes:
    reference = _reference(v, w)
    if reference is not None:
        return reference
    token = _function(v, w)
    return b"f" if token is None else _text(b"G", token)


def _behavior_of(cls: type, w: _Walk) -> bytes:
    """With a behavior hook (``data_token``): the behavior token of a first-party class whose
    instance is data, so a cache key covers what the instance's methods do (rule 3)."""
    hook = w.behavior
    module = getattr(cls, "__module__", None) or ""
    if hook is None or not module or module == "builtins":
        return b""
    if not (w.scope or Scope()).is_first_party(module):
        return b""
    saved = getattr(_LOCAL, "walk", None)
    _LOCAL.walk = None  # the class's own token is computed by a walk of its own
    try:
        token = hook(cls)
    finally:
        _LOCAL.walk = saved
    return _text(b"B", token or "")


def _enc_class(v: type, w: _Walk) -> bytes:
    reference = _reference(v, w)
    if reference is not None:
        return reference
    head = _text(b"C", _type_name(v))
    scope = w.scope or Scope()
    module = getattr(v, "__module__", None) or ""
    if module and module != "builtins" and scope.is_first_party(module):
        token = _class(v, w, scope)
        return head + (b"N" if token is None else _text(b"", token)) + _behavior_of(v, w)
    return head


def _enc_enum(v: enum.Enum, w: _Walk) -> bytes:
    # The value counts too: ``FAST = "fast"`` -> ``"quick"`` changes what code reading
    # ``Mode.FAST.value`` does.
    return _guarded(
        v,
        w,
        lambda: (
            _text(b"E", _type_name(type(v)))
            + _text(b"", v.name)
            + _enc(v.value, w)
            + _behavior_of(type(v), w)
        ),
    )


def _enc_dataclass(v: object, w: _Walk) -> bytes:
    def build() -> bytes:
        parts = [_text(b"Q", _type_name(type(v))), _behavior_of(type(v), w)]
        for field in dataclasses.fields(v):  # type: ignore[arg-type]
            try:
                parts.append(_text(b"", field.name) + _enc(getattr(v, field.name), w))
            except _Fail as exc:
                exc.segments.append(f".{field.name}")
                raise
            except AttributeError as exc:  # an init=False field never assigned
                raise _Fail(_type_name(type(v))) from exc
        return b"".join(parts)

    return _guarded(v, w, build)


def _enc_namedtuple(v: tuple[object, ...], w: _Walk) -> bytes:
    fields: tuple[str, ...] = type(v)._fields  # type: ignore[attr-defined]
    parts = [_text(b"U", _type_name(type(v))), _behavior_of(type(v), w), b"%d:" % len(fields)]
    for name, item in zip(fields, v, strict=True):
        try:
            parts.append(_text(b"", name) + _enc(item, w))
        except _Fail as exc:
            exc.segments.append(f".{name}")
            raise
    return b"".join(parts)


def _enc_defaultdict(v: defaultdict[object, object], w: _Walk) -> bytes:
    return _guarded(
        v, w, lambda: b"V" + _enc(v.default_factory, w) + _mapping(b"", list(v.items()), w)
    )


def _enc_deque(v: deque[object], w: _Walk) -> bytes:
    return _guarded(v, w, lambda: b"W" + _enc(v.maxlen, w) + _seq(b"", tuple(v), w))


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
    decimal.Decimal: _enc_decimal,
    uuid.UUID: _enc_uuid,
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

_FUNCTION_TYPES: tuple[type, ...] = (
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
for _tp in _FUNCTION_TYPES:
    _EXACT[_tp] = _enc_function_like

# Built-in handlers reached through the MRO (subclasses of the types above, plus optional
# libraries registered lazily once they are imported by someone else).
_BY_MRO: dict[type, Handler] = {tp: fn for tp, fn in _EXACT.items() if tp is not type}
_BY_MRO[pathlib.PurePath] = _enc_path
_BY_MRO[_dt.tzinfo] = _enc_tzinfo

# Handlers for optional libraries' types; they handle their own subclasses (a pydantic model
# is encoded by its fields, not as "a subclass of BaseModel" plus its __dict__).
_LIBRARY: dict[type, Handler] = {}

_REGISTERED: dict[type, Callable[[Any], object]] = {}
_RESOLVED: dict[type, Handler] = {}
_LAZY_DONE: set[str] = set()


def register_encoder(tp: type, fn: Callable[[Any], object]) -> None:
    """Teach the value encoder a type: ``fn(value)`` returns a plain encodable value.

    The most specific registered type in the value's MRO wins; registered encoders take
    precedence over astoken's own handlers except for exact built-in types (``int``, ``str``,
    ``dict``...). The encoding is tagged with the value's type, so two types mapping to the
    same plain value still differ.
    """
    if not isinstance(tp, type):
        raise TypeError(f"register_encoder() needs a type, got {type(tp).__name__}")
    if not callable(fn):
        raise TypeError("register_encoder() needs a callable")
    _REGISTERED[tp] = fn
    _RESOLVED.clear()


def _enc(v: object, w: _Walk) -> bytes:
    handler = _EXACT.get(type(v))
    if handler is not None:
        return handler(v, w)
    handler = _RESOLVED.get(type(v))
    if handler is None:
        handler = _resolve(type(v))
    return handler(v, w)


def _resolve(tp: type) -> Handler:
    _register_lazy()
    handler = _resolve_uncached(tp)
    _RESOLVED[tp] = handler
    return handler


def _resolve_uncached(tp: type) -> Handler:
    mro = getattr(tp, "__mro__", (tp,))
    for klass in mro:
        fn = _REGISTERED.get(klass)
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
    if issubclass(tp, _FUNCTION_TYPES):
        return _enc_function_like
    for klass in mro:
        library = _LIBRARY.get(klass)
        if library is not None:
            return library
        base = _BY_MRO.get(klass)
        if base is not None:
            return base if klass is tp else _subclass_handler(base)
    return _enc_fallback


def _registered_handler(fn: Callable[[Any], object]) -> Handler:
    def handle(v: object, w: _Walk) -> bytes:
        return _guarded(v, w, lambda: _text(b"R", _type_name(type(v))) + _enc(fn(v), w))

    return handle


def _enc_astoken_protocol(v: object, w: _Walk) -> bytes:
    def build() -> bytes:
        plain = type(v).__astoken__(v)  # type: ignore[attr-defined]
        return _text(b"A", _type_name(type(v))) + _enc(plain, w)

    return _guarded(v, w, build)


def _subclass_handler(base: Handler) -> Handler:
    """A subclass of a known type: the base encoding tagged with the subclass (and its state)."""

    def handle(v: object, w: _Walk) -> bytes:
        def build() -> bytes:
            state = getattr(v, "__dict__", None)
            extra = _mapping(b"", list(state.items()), w) if state else b""
            return _text(b"S", _type_name(type(v))) + base(v, w) + extra

        return _guarded(v, w, build)

    return handle


def _enc_fallback(v: object, w: _Walk) -> bytes:
    typing_bytes = _typing_construct(v, w)
    if typing_bytes is not None:
        return typing_bytes
    name = _library_global(v)
    if name is not None:
        return _text(b"g", name)
    if callable(v) and _wrapped_of(v) is not None:
        # A wrapper object around a function (functools.lru_cache...): a function-like value.
        return _enc_function_like(v, w)
    state = _plain_instance_state(v)
    if state is not None:
        return _guarded(v, w, lambda: _enc_class(type(v), w) + _mapping(b"O", iter(state), w))
    raise _Fail(_type_name(type(v)))


# A class statement makes a heap type that is mutable; C types (static ones, and the heap types
# the standard library builds from specs: locks, io objects, sockets...) are immutable.
_HEAPTYPE = 1 << 9  # Py_TPFLAGS_HEAPTYPE
_IMMUTABLETYPE = 1 << 8  # Py_TPFLAGS_IMMUTABLETYPE (3.10+)


def _plain_instance_state(v: object) -> list[tuple[object, object]] | None:
    """The complete state of an instance of a pure-Python class, or None.

    Only when every class of the MRO except ``object`` is a Python-level class is all of the
    instance's state in its ``__dict__`` and ``__slots__``; a C base (a lock, a socket, an io
    object, ``object()`` itself) may hide state, so those stay unencodable.
    """
    mro = type(v).__mro__
    if mro[-1] is not object or len(mro) < 2:
        return None
    if not all(
        klass.__flags__ & _HEAPTYPE and not klass.__flags__ & _IMMUTABLETYPE for klass in mro[:-1]
    ):
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


def _wrapped_of(obj: object) -> object | None:
    """``obj.__wrapped__`` when really set on it (not conjured up by a ``__getattr__``)."""
    own = getattr(obj, "__dict__", None)
    if isinstance(own, dict):
        return own.get("__wrapped__")
    return None


# ---- optional libraries: registered only once someone else has imported them --------------


def _register_lazy() -> None:
    if "numpy" not in _LAZY_DONE and "numpy" in sys.modules:
        _LAZY_DONE.add("numpy")
        _register_numpy(sys.modules["numpy"])
    if "pydantic" not in _LAZY_DONE and "pydantic" in sys.modules:
        _LAZY_DONE.add("pydantic")
        _register_pydantic()
    if "logging" not in _LAZY_DONE and "logging" in sys.modules:
        _LAZY_DONE.add("logging")
        logging = sys.modules["logging"]
        # A logger is canonical by name: logging.getLogger(name) always returns the same one.
        _LIBRARY[logging.Logger] = lambda v, w: _text(b"L", v.name)
        _RESOLVED.clear()


def _register_numpy(np: Any) -> None:
    def dtype_bytes(dt: Any) -> bytes:
        if dt.fields is not None or dt.subdtype is not None:
            return _text(b"", dt.str) + _enc(_plain_descr(dt.descr), _Walk(None))
        return _text(b"", dt.str)

    def ndarray(v: Any, w: _Walk) -> bytes:
        head = b"A" + dtype_bytes(v.dtype) + _seq(b"", v.shape, w)
        if isinstance(v, np.ma.MaskedArray):
            mask = np.ma.getmaskarray(v)
            return (
                b"Am"
                + ndarray(np.asarray(v.data), w)
                + ndarray(np.asarray(mask), w)
                + _enc(_fill_value(v), w)
            )
        if v.dtype.hasobject:
            # Object arrays hold pointers: encode the elements, never the buffer.
            return _guarded(v, w, lambda: head + _enc(v.tolist(), w))
        if v.dtype.names is not None:
            # Structured arrays may carry padding bytes that are never written: per field.
            return head + b"".join(_text(b"", n) + ndarray(v[n], w) for n in v.dtype.names)
        return head + _blob(b"", np.ascontiguousarray(v).tobytes())

    def scalar(v: Any, w: _Walk) -> bytes:
        if v.dtype.names is not None:
            return b"a" + dtype_bytes(v.dtype) + _enc(v.item(), w)
        return b"a" + dtype_bytes(v.dtype) + _blob(b"", v.tobytes())

    def dtype(v: Any, w: _Walk) -> bytes:
        return b"y" + dtype_bytes(v)

    _LIBRARY[np.ndarray] = ndarray
    _LIBRARY[np.generic] = scalar
    _LIBRARY[np.dtype] = dtype
    _RESOLVED.clear()


def _fill_value(masked: Any) -> object:
    try:
        return masked.fill_value
    except AttributeError:  # numpy.ma.masked refuses to compute its default fill value
        return None


def _plain_descr(descr: Any) -> object:
    if isinstance(descr, list):
        return tuple(_plain_descr(item) for item in descr)
    if isinstance(descr, tuple):
        return tuple(_plain_descr(item) for item in descr)
    return descr


def _register_pydantic() -> None:
    try:
        # Imported only once the user has imported pydantic (never at our import time).
        from pydantic import BaseModel  # noqa: PLC0415
        from pydantic_core import PydanticUndefinedType  # noqa: PLC0415
    except ImportError:  # pragma: no cover - a half-installed pydantic
        return

    def model(v: Any, w: _Walk) -> bytes:
        def build() -> bytes:
            cls = type(v)
            parts = [_text(b"m", _type_name(cls)), _behavior_of(cls, w)]
            for name, info in cls.model_fields.items():
                if info.exclude:
                    continue
                try:
                    parts.append(_text(b"", name) + _enc(getattr(v, name), w))
                except _Fail as exc:
                    exc.segments.append(f".{name}")
                    raise
            extra = getattr(v, "__pydantic_extra__", None) or {}
            parts.append(_mapping(b"", list(extra.items()), w))
            return b"".join(parts)

        return _guarded(v, w, build)

    _LIBRARY[BaseModel] = model
    _LIBRARY[PydanticUndefinedType] = lambda v, w: b"_"
    _RESOLVED.clear()


# ---- typing constructs and standard-library singletons -------------------------------------

_TYPING_MODULES = frozenset({"typing", "types", "typing_extensions", "collections.abc"})


def _typing_construct(v: object, w: _Walk) -> bytes | None:
    module = getattr(type(v), "__module__", "")
    if module not in _TYPING_MODULES:
        return None
    if typing.get_origin(v) is not None or isinstance(
        v, (typing.TypeVar, typing.ForwardRef, typing.ParamSpec)
    ):
        return _annotation(v, w)
    return None


_GLOBALS_CACHE: dict[str, tuple[int, dict[int, tuple[object, str]]]] = {}


def _library_global(v: object) -> str | None:
    """``module.name`` of a module-level object of the standard library or a third-party
    package, found by identity (``dataclasses.MISSING``, ``numpy._NoValue``, ``numpy.sum``).

    First-party modules are never searched: their module-level objects are graph nodes whose
    *content* must be hashed, not their name.
    """
    candidates = [getattr(type(v), "__module__", None)]
    own_module = getattr(v, "__module__", None)
    if own_module != candidates[0]:
        candidates.append(own_module)
    for module_name in candidates:
        if isinstance(module_name, str) and module_name and not _is_first_party(module_name):
            name = _global_name(v, module_name)
            if name is not None:
                return name
    return None


def _is_first_party(module: str, scope: Scope | None = None) -> bool:
    # A class or function without a module name is code nobody else owns: follow it.
    if not module:
        return True
    if scope is None:
        return not _is_stdlib(module) and Scope().classify(module) is Origin.FIRST_PARTY
    return scope.is_first_party(module)


def _global_name(v: object, module_name: str) -> str | None:
    module = sys.modules.get(module_name)
    if module is None:
        return None
    namespace = dict(vars(module))  # a copy: another thread may be importing into it
    cached = _GLOBALS_CACHE.get(module_name)
    if cached is None or cached[0] != len(namespace):
        # Keep the objects alive next to their ids, so an id cannot be reused while cached.
        index: dict[int, tuple[object, str]] = {}
        for name in sorted(namespace, reverse=True):
            index[id(namespace[name])] = (namespace[name], name)
        cached = (len(namespace), index)
        _GLOBALS_CACHE[module_name] = cached
    hit = cached[1].get(id(v))
    if hit is None or hit[0] is not v:
        return None
    return f"{module_name}.{hit[1]}"


def _is_stdlib(module: str) -> bool:
    top = module.partition(".")[0]
    return top in sys.stdlib_module_names or top in sys.builtin_module_names


def _annotation(a: object, w: _Walk) -> bytes:
    """Encode an annotation: classes by name (never by token), typing constructs structurally."""
    if a is None or isinstance(a, str):
        return _enc(a, w)
    origin = typing.get_origin(a)
    if origin is not None:
        args = typing.get_args(a)
        return b"Y" + _annotation(origin, w) + _annotation_seq(args, w)
    if isinstance(a, type):
        return _text(b"c", _type_name(a))
    if isinstance(a, (list, tuple)):
        return _annotation_seq(a, w)
    if isinstance(a, typing.ForwardRef):
        return _text(b"Fr", a.__forward_arg__)
    if isinstance(a, (typing.TypeVar, typing.ParamSpec)):
        bound = getattr(a, "__bound__", None)
        constraints = getattr(a, "__constraints__", ())
        return _text(b"Tv", a.__name__) + _annotation(bound, w) + _annotation_seq(constraints, w)
    name = _library_global(a)
    if name is not None:
        return _text(b"g", name)
    try:
        return _enc(a, w)
    except _Fail:
        # An annotation that is neither a type nor a value we can encode (a third-party
        # marker object): its type still counts. Annotations never make a token fail.
        return _text(b"?", _type_name(type(a)))


def _annotation_seq(items: typing.Iterable[object], w: _Walk) -> bytes:
    parts = [_annotation(item, w) for item in items]
    return b"%d:%s" % (len(parts), b"".join(parts))


# ---------------------------------------------------------------------------------------------
# Code objects
# ---------------------------------------------------------------------------------------------

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

_CODE_CACHE: dict[types.CodeType, str] = {}
_CODE_LOCK = threading.Lock()


def _decode(code: bytes) -> list[tuple[int, int, int, int, int]]:
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


def _jump_target(offset: int, op: int, arg: int, nxt: int) -> int:
    """Byte offset a jump lands on (the rule of ``dis`` for the running interpreter)."""
    if op in _HASJABS:
        return arg * 2
    if _PY311:
        # 3.11+: relative to the end of the instruction and its inline caches.
        return nxt + (-arg if op in _BACKWARD else arg) * 2
    return offset + 2 + arg * 2


def _exception_entries(code: types.CodeType) -> Iterator[tuple[int, int, int, int, int]]:
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


def code_token(code: types.CodeType) -> str:
    """Canonical SHA-256 of a code object (see guarantee 1 of this module)."""
    token = _CODE_CACHE.get(code)
    if token is None:
        token = hashlib.sha256(_canonical_code(code)).hexdigest()
        with _CODE_LOCK:
            _CODE_CACHE[code] = token
    return token


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
    for start, offset, op, arg, nxt in _decode(code.co_code):
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
    walk = _Walk(None)
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
    parts.append(_seq(b"", code.co_varnames[:nparams], walk))
    parts.append(b"%d|" % len(instructions))
    for _start, offset, op, arg, nxt in instructions:
        if arg < 0:
            parts.append(b"%d;" % op)
        elif op in _HASCONST:
            encoded = const_bytes.get(arg)
            if encoded is None:
                try:
                    encoded = _enc(consts[arg], walk)
                except _Fail as exc:  # pragma: no cover - constants are always encodable
                    raise _unhashable(exc, f"<code {code.co_name}>") from None
                const_bytes[arg] = encoded
            parts.append(b"%dc%s;" % (op, encoded))
        elif op in _HASNAME:
            shift = _NAME_SHIFT.get(op, 0)
            name = names[arg >> shift].encode("utf-8", "surrogatepass")
            flags = arg & ((1 << shift) - 1)
            parts.append(b"%dn%d,%d:%s;" % (op, flags, len(name), name))
        elif op in _HASJREL or op in _HASJABS:
            target = _jump_target(offset, op, arg, nxt)
            logical = index.get(target)
            if logical is None:  # pragma: no cover - a jump into the middle of an instruction
                parts.append(b"%do%d;" % (op, target))
            else:
                parts.append(b"%dj%d;" % (op, logical))
        else:
            # Locals, cells and frees by raw index (their names must not matter), compare
            # operators, call counts, flags...
            parts.append(b"%d %d;" % (op, arg))
    for start, end, target, depth, lasti in _exception_entries(code):
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


# ---------------------------------------------------------------------------------------------
# Functions and function-like objects
# ---------------------------------------------------------------------------------------------


def _digest(tag: bytes, *parts: bytes) -> str:
    h = hashlib.sha256(b"astoken-%s\x00%d\x00" % (tag, FORMAT_VERSION))
    for part in parts:
        h.update(part)
    return h.hexdigest()


def _opt(token: str | None) -> bytes:
    return b"N" if token is None else _text(b"", token)


def _function_layer(f: types.FunctionType, w: _Walk) -> bytes:
    """One function's own code, defaults, keyword defaults and closure cells."""
    parts = [_text(b"", code_token(f.__code__))]
    try:
        parts.append(_enc(f.__defaults__, w))
    except _Fail as exc:
        exc.segments.append(".__defaults__")
        raise
    kwdefaults = f.__kwdefaults__
    try:
        parts.append(_enc(None if kwdefaults is None else dict(kwdefaults), w))
    except _Fail as exc:
        exc.segments.append(".__kwdefaults__")
        raise
    closure = f.__closure__ or ()
    parts.append(b"%d:" % len(closure))
    for name, cell in zip(f.__code__.co_freevars, closure, strict=True):
        try:
            contents = cell.cell_contents
        except ValueError:  # an empty cell (a variable not assigned yet)
            parts.append(b"-")
            continue
        if name == "__class__" and isinstance(contents, type):
            # The implicit cell of super()/__class__ always holds the class the function is
            # defined in: a marker is enough (hashing the class here would put every method
            # inside its own class's token, and its name would make renames count).
            parts.append(b"c")
            continue
        try:
            parts.append(_enc(contents, w))
        except _Fail as exc:
            exc.segments.append(f".__closure__[{name!r}]")
            raise
    return b"".join(parts)


def _foreign_wrapper_layer(obj: object, w: _Walk) -> bytes:
    """A wrapper that is not a Python function (``functools.lru_cache``...): type + settings."""
    parts = [_text(b"W", _type_name(type(obj)))]
    params = getattr(obj, "cache_parameters", None)
    if callable(params):
        try:
            parts.append(_enc(params(), w))
        except _Fail as exc:  # pragma: no cover - cache_parameters() returns plain values
            exc.segments.append(".cache_parameters()")
            raise
    return b"".join(parts)


def _function(obj: object, w: _Walk) -> str | None:
    back = w.enter(obj)
    if back is not None:
        return "cycle:" + back.decode()
    try:
        return _function_unguarded(obj, w)
    finally:
        w.leave(obj)


def _function_unguarded(obj: object, w: _Walk) -> str | None:
    if isinstance(obj, types.MethodType):
        # The bound instance is data, not behaviour.
        return _function(obj.__func__, w)
    if isinstance(obj, (staticmethod, classmethod)):
        tag = b"staticmethod" if isinstance(obj, staticmethod) else b"classmethod"
        inner = _function(obj.__func__, w)
        return None if inner is None else _digest(tag, _opt(inner))
    if isinstance(obj, property):
        slots = [_function(f, w) if f is not None else None for f in (obj.fget, obj.fset, obj.fdel)]
        if all(s is None for s in slots):
            return None
        return _digest(b"property", *(_opt(s) for s in slots))
    if isinstance(obj, functools.cached_property):
        inner = _function(obj.func, w)
        return None if inner is None else _digest(b"cached_property", _opt(inner))
    if isinstance(obj, (functools.partial, functools.partialmethod)):
        tag = b"partial" if isinstance(obj, functools.partial) else b"partialmethod"
        try:
            args = _enc(tuple(obj.args), w)
        except _Fail as exc:
            exc.segments.append(".args")
            raise
        try:
            keywords = _enc(dict(obj.keywords), w)
        except _Fail as exc:
            exc.segments.append(".keywords")
            raise
        return _digest(tag, _opt(_function(obj.func, w)), args, keywords)
    if isinstance(obj, type):
        return _class(obj, w, w.scope or _default_scope(obj))
    if isinstance(obj, types.BuiltinFunctionType):
        owner = obj.__self__
        module = obj.__module__
        if not module and owner is not None and not isinstance(owner, types.ModuleType):
            module = getattr(type(owner), "__module__", "")
        head = _text(b"", module or "") + _text(b"", obj.__qualname__)
        if owner is None or isinstance(owner, types.ModuleType):
            return _digest(b"builtin", head)
        try:
            return _digest(b"builtin", head, _enc(owner, w))
        except _Fail as exc:
            exc.segments.append(".__self__")
            raise
    if isinstance(
        obj,
        (types.MethodDescriptorType, types.WrapperDescriptorType, types.ClassMethodDescriptorType),
    ):
        owner_type: type = obj.__objclass__
        return _digest(b"builtin", _text(b"", owner_type.__module__), _text(b"", obj.__qualname__))
    if isinstance(obj, types.MethodWrapperType):
        bound = obj.__self__
        head = _text(b"", type(bound).__module__) + _text(b"", obj.__qualname__)
        try:
            return _digest(b"builtin", head, _enc(bound, w))
        except _Fail as exc:
            exc.segments.append(".__self__")
            raise
    if isinstance(obj, functools.singledispatchmethod):
        return _function(obj.dispatcher, w)
    if _is_singledispatch(obj):
        return _singledispatch(obj, w)
    if isinstance(obj, types.FunctionType) or _wrapped_of(obj) is not None:
        return _wrapped_chain(obj, w)
    if callable(obj):
        # A callable instance behaves like its class; a named C-level callable (a ufunc...)
        # adds its own name.
        tok = _class(type(obj), w, w.scope or _default_scope(type(obj)))
        name = getattr(obj, "__name__", None)
        extra = _text(b"", name) if isinstance(name, str) else b""
        if tok is None:
            # A class outside the scope (a ufunc, operator.itemgetter): known by type and name.
            return _digest(b"instance", _text(b"t", _type_name(type(obj))), extra)
        return tok if not extra else _digest(b"instance", _opt(tok), extra)
    return None


def _is_singledispatch(obj: object) -> bool:
    """A ``functools.singledispatch`` function (its wrapper holds the registry)."""
    own = getattr(obj, "__dict__", None)
    return (
        isinstance(obj, types.FunctionType)
        and isinstance(own, dict)
        and isinstance(own.get("registry"), types.MappingProxyType)
        and callable(own.get("dispatch"))
        and "__wrapped__" in own
    )


def _singledispatch(obj: object, w: _Walk) -> str | None:
    """The default implementation and every registered one, by the type it is registered
    for; not the wrapper's dispatch cache (weak references, filled by calls)."""
    own = obj.__dict__
    parts = [_opt(_function(own["__wrapped__"], w))]
    registry = own["registry"]
    entries = sorted(
        (
            (_type_name(tp) if isinstance(tp, type) else repr(tp), impl)
            for tp, impl in registry.items()
        ),
        key=lambda item: item[0],
    )
    parts.append(b"%d:" % len(entries))
    for name, impl in entries:
        parts.append(_text(b"", name))
        parts.append(b"=" if impl is own["__wrapped__"] else _opt(_function(impl, w)))
    return _digest(b"singledispatch", *parts)


def _wrapped_chain(obj: object, w: _Walk) -> str | None:
    """Every layer of a ``__wrapped__`` chain (wrappers' code counts), innermost last."""
    layers = []
    seen = {id(obj)}
    current: object = obj
    while True:
        if isinstance(current, types.FunctionType):
            layers.append(b"L" + _function_layer(current, w))
        elif current is obj:
            layers.append(_foreign_wrapper_layer(current, w))
        else:
            layers.append(b"I" + _opt(_function(current, w)))
            break
        nxt = _wrapped_of(current)
        if nxt is None or id(nxt) in seen:
            break
        seen.add(id(nxt))
        current = nxt
    return _digest(b"function", b"%d:" % len(layers), *layers)


def function_token(obj: object, *, owner: str = "", scope: Scope | None = None) -> str | None:
    """The own token of a callable-ish object (function, method, descriptor, partial...).

    Functions contribute their canonical code, positional and keyword defaults and closure
    cells; decorated functions every layer of their ``__wrapped__`` chain; bound methods their
    function (the instance is data); descriptors their functions, each slot tagged; builtins
    their module and qualified name (and a bound builtin its ``__self__``); callable instances
    their class. None when there is nothing to hash (a property with no accessor).
    """
    with _WalkScope(scope) as w:
        try:
            return _function(obj, w)
        except _Fail as exc:
            raise _unhashable(exc, owner or _obj_name(obj)) from None
        except RecursionError:
            raise _too_deep(owner or _obj_name(obj), obj) from None


# ---------------------------------------------------------------------------------------------
# Classes
# ---------------------------------------------------------------------------------------------

_BOOKKEEPING = frozenset(
    {
        "__dict__",
        "__weakref__",
        "__module__",
        "__qualname__",
        "__doc__",
        "__dataclass_fields__",
        "__dataclass_params__",
        "__abstractmethods__",
        "_abc_impl",
        "__parameters__",
        "__orig_bases__",
        "__annotations__",
        "__annotate__",
        "__annotate_func__",
        "__firstlineno__",
        "__static_attributes__",
        "__ccflow_tokenizer_cache__",
        "__ccflow_tokenizer_deps__",
        "__astoken_cache__",
        "__astoken_deps__",
        "__class_vars__",
        "__private_attributes__",
        "__signature__",
        "model_fields",
        "model_computed_fields",
    }
)
_SKIPPED_DESCRIPTORS: tuple[type, ...] = (types.MemberDescriptorType, types.GetSetDescriptorType)
_DATACLASS_PARAMS = (
    "init",
    "repr",
    "eq",
    "order",
    "unsafe_hash",
    "frozen",
    "match_args",
    "kw_only",
    "slots",
    "weakref_slot",
)


def _default_scope(cls: type) -> Scope:
    module = getattr(cls, "__module__", None) or ""
    top = module.partition(".")[0]
    return Scope(roots=(top,)) if top else Scope()


def _skip_member(klass: type, name: str, value: object) -> bool:
    if name in _BOOKKEEPING or name.startswith("__pydantic_"):
        return True
    if isinstance(value, _SKIPPED_DESCRIPTORS) or type(value).__name__ == "_tuplegetter":
        # Slots and named-tuple fields: their names are already in __slots__ / _fields.
        return True
    if isinstance(klass, enum.EnumMeta) and issubclass(klass, enum.Enum):
        if isinstance(value, klass):
            return True  # a member: encoded with its value in the synthetic member list
        is_sunder = name.startswith("_") and name.endswith("_") and not name.startswith("__")
        return (
            is_sunder and not callable(value) and not isinstance(value, (classmethod, staticmethod))
        )
    return False


def _member(value: object, w: _Walk, scope: Scope) -> tuple[bytes, bool]:
    """Encoded member and whether it carries behaviour (a callable with code)."""
    if isinstance(value, type):
        head = _text(b"C", _type_name(value))
        if not _is_first_party(getattr(value, "__module__", None) or "", scope):
            return head, False
        token = _class(value, w, scope)
        return head + _opt(token), token is not None
    if isinstance(value, _FUNCTION_TYPES):
        inner = getattr(value, "__func__", value)
        if isinstance(inner, types.FunctionType) and not _is_first_party(
            inner.__module__ or "", scope
        ):
            # A function from a module outside the scope (enum's __new__ copied into an Enum
            # class, json.dumps bound as a class attribute): a leaf, known by name.
            name = f"{inner.__module__}.{inner.__qualname__}"
            return _text(b"X", type(value).__name__) + _text(b"", name), True
        token = _function(value, w)
        return _opt(token), token is not None
    typing_bytes = _typing_construct(value, w)
    if typing_bytes is not None:
        return typing_bytes, False
    if callable(value):
        # A callable instance: its data when it has an encoding, and its class's behaviour.
        try:
            data = _enc(value, w)
        except _Fail:
            data = b"-"
        token = _function(value, w)
        return b"I" + data + _opt(token), token is not None
    if any(hasattr(type(value), hook) for hook in ("__get__", "__set__", "__delete__")):
        # A custom descriptor: its value if it has one, else the behaviour of its class and
        # its own state when that is encodable.
        try:
            return _enc(value, w), False
        except _Fail:
            tp = type(value)
            head = _text(b"D", _type_name(tp))
            if not _is_first_party(getattr(tp, "__module__", "") or "", scope):
                return head, False
            state = getattr(value, "__dict__", None)
            try:
                data = _mapping(b"", list(state.items()), w) if isinstance(state, dict) else b"-"
            except _Fail:
                data = b"?"
            token = _class(tp, w, scope)
            return head + _opt(token) + data, token is not None
    try:
        return _enc(value, w), False
    except _Fail:
        # A class-level object with no value encoding (a lock, a client): its type here; the
        # graph hashes it as a constant node, with the source of the assignment that built it.
        return _text(b"U", _type_name(type(value))), False


def _class_members(cls: type, w: _Walk, scope: Scope) -> tuple[list[bytes], bool]:
    seen: set[str] = set()
    members: list[tuple[str, bytes]] = []
    annotations: list[bytes] = []
    has_behaviour = False
    for klass in cls.__mro__:
        if klass is object or not _is_first_party(getattr(klass, "__module__", "") or "", scope):
            break
        own = klass.__dict__
        own_annotations = own.get("__annotations__")
        if isinstance(own_annotations, dict):
            annotations.append(
                b"".join(
                    _text(b"", str(name)) + _annotation(own_annotations[name], w)
                    for name in sorted(own_annotations, key=str)
                )
            )
        for name, value in list(own.items()):
            if name in seen:
                continue
            seen.add(name)
            if _skip_member(klass, name, value):
                continue
            try:
                encoded, behaviour = _member(value, w, scope)
            except _Fail as exc:
                exc.segments.append(f".{name}")
                raise
            has_behaviour = has_behaviour or behaviour
            members.append((name, encoded))
    members.sort(key=lambda item: item[0])
    parts = [b"%d:" % len(members)]
    parts.extend(_text(b"", name) + encoded for name, encoded in members)
    parts.append(b"a%d:" % len(annotations) + b"".join(_blob(b"", a) for a in annotations))
    parts.append(_dataclass_section(cls, w))
    parts.append(_pydantic_section(cls, w))
    parts.append(_enum_section(cls, w))
    return parts, has_behaviour


def _dataclass_section(cls: type, w: _Walk) -> bytes:
    fields = getattr(cls, "__dataclass_fields__", None)
    if not isinstance(fields, dict):
        return b""
    parts = [b"dc"]
    params = getattr(cls, "__dataclass_params__", None)
    parts.append(_enc(tuple(getattr(params, flag, None) for flag in _DATACLASS_PARAMS), w))
    for name, field in fields.items():
        try:
            parts.append(
                _text(b"", name)
                + _annotation(field.type, w)
                + _enc(field.default, w)
                + _enc(field.default_factory, w)
                + _enc(
                    (
                        field.init,
                        field.repr,
                        field.compare,
                        field.hash,
                        getattr(field, "kw_only", None),
                    ),
                    w,
                )
                + _text(b"", str(getattr(field, "_field_type", "")))
            )
        except _Fail as exc:
            exc.segments.append(f".__dataclass_fields__[{name!r}]")
            raise
    return b"".join(parts)


def _pydantic_section(cls: type, w: _Walk) -> bytes:
    pydantic_main = sys.modules.get("pydantic.main")
    base = getattr(pydantic_main, "BaseModel", None)
    if base is None or not issubclass(cls, base):
        return b""
    parts = [b"pd"]
    fields = getattr(cls, "__pydantic_fields__", None) or {}
    for name, info in fields.items():
        try:
            parts.append(
                _text(b"", name)
                + _annotation(info.annotation, w)
                + _enc(info.default, w)
                + _enc(info.default_factory, w)
                + _enc((info.alias, info.exclude), w)
            )
        except _Fail as exc:
            exc.segments.append(f".model_fields[{name!r}]")
            raise
    private = getattr(cls, "__private_attributes__", None) or {}
    for name in sorted(private):
        attr = private[name]
        try:
            parts.append(
                _text(b"p", name)
                + _enc(getattr(attr, "default", None), w)
                + _enc(getattr(attr, "default_factory", None), w)
            )
        except _Fail as exc:
            exc.segments.append(f".__private_attributes__[{name!r}]")
            raise
    return b"".join(parts)


def _enum_section(cls: type, w: _Walk) -> bytes:
    if not (isinstance(cls, enum.EnumMeta) and issubclass(cls, enum.Enum)):
        return b""
    parts = [b"en"]
    for name, member in cls.__members__.items():
        try:
            parts.append(_text(b"", name) + _enc(member._value_, w))
        except _Fail as exc:
            exc.segments.append(f".{name}")
            raise
    return b"".join(parts)


def _class(cls: type, w: _Walk, scope: Scope) -> str | None:
    key = (FORMAT_VERSION, scope)
    cache = cls.__dict__.get("__astoken_cache__")
    if isinstance(cache, dict) and key in cache:
        cached: str | None = cache[key]
        return cached
    back = w.enter(cls)
    if back is not None:
        return "cycle:" + back.decode()
    depth = len(w.active) - 1
    outer_low = w.low
    w.low = sys.maxsize
    try:
        parts, has_behaviour = _class_members(cls, w, scope)
    finally:
        w.leave(cls)
        inner_low = w.low
        w.low = min(outer_low, inner_low)
    token = _digest(b"class", *parts) if has_behaviour else None
    if inner_low > depth:
        # Only a token that does not depend on where the walk started may be cached: a class
        # on a cycle (a back-reference to itself or above) is recomputed on every walk, so
        # tokens do not depend on which member of the cycle was hashed first.
        new_cache = dict(cache) if isinstance(cache, dict) else {}
        new_cache[key] = token
        # Built-in and extension classes refuse attributes: they are recomputed next time.
        with contextlib.suppress(TypeError, AttributeError):
            cls.__astoken_cache__ = new_cache  # type: ignore[attr-defined]
    return token


def class_token(cls: type, *, scope: Scope | None = None) -> str | None:
    """astoken's own token of a class: its members and those of its first-party bases.

    See guarantee 5 of this module. ``scope`` decides which bases are walked (default: the
    top-level package of ``cls.__module__``). None when the walked classes have no member
    with behaviour (only data attributes).
    """
    effective = scope or _default_scope(cls)
    with _WalkScope(effective) as w:
        try:
            return _class(cls, w, effective)
        except _Fail as exc:
            raise _unhashable(exc, f"{cls.__module__}:{cls.__qualname__}") from None
        except RecursionError:
            raise _too_deep(f"{cls.__module__}:{cls.__qualname__}", cls) from None


# ---------------------------------------------------------------------------------------------
# Values and dispatch
# ---------------------------------------------------------------------------------------------


def encode_value(
    value: object,
    *,
    owner: str = "",
    behavior: BehaviorHook | None = None,
    by_reference: bool = False,
    scope: Scope | None = None,
) -> bytes:
    """The canonical bytes of a value (see guarantees 2-4 of this module). With ``behavior``,
    instances of first-party classes also carry their class's behavior token; with
    ``by_reference``, see :func:`value_token`."""
    with _WalkScope(scope, behavior=behavior, by_reference=by_reference) as w:
        try:
            return _enc(value, w)
        except _Fail as exc:
            raise _unhashable(exc, owner or "value") from None
        except RecursionError:
            raise _too_deep(owner or "value", value) from None


def value_token(
    value: object,
    *,
    owner: str = "",
    behavior: BehaviorHook | None = None,
    by_reference: bool = False,
    scope: Scope | None = None,
) -> str:
    """SHA-256 of :func:`encode_value` (with the format version). With ``by_reference`` (a
    graph constant's own token), first-party functions and classes inside the value that can be
    found again by their qualified name are encoded by that name."""
    return _digest(
        b"value",
        encode_value(value, owner=owner, behavior=behavior, by_reference=by_reference, scope=scope),
    )


_DESCRIPTOR_TYPES = (
    staticmethod,
    classmethod,
    property,
    functools.cached_property,
    functools.partialmethod,
)


def object_token(obj: object, *, scope: Scope | None = None, owner: str = "") -> str | None:
    """The own token of any resolved graph node: class, callable, module or plain value."""
    if isinstance(obj, type):
        effective = scope or _default_scope(obj)
        with _WalkScope(effective) as w:
            try:
                return _class(obj, w, effective)
            except _Fail as exc:
                raise _unhashable(exc, owner or _obj_name(obj)) from None
            except RecursionError:
                raise _too_deep(owner or _obj_name(obj), obj) from None
    if isinstance(obj, types.ModuleType):
        return value_token(obj, owner=owner)
    if callable(obj) or isinstance(obj, _DESCRIPTOR_TYPES):
        return function_token(obj, owner=owner, scope=scope)
    return value_token(obj, owner=owner)
