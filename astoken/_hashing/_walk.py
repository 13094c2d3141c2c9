"""State of one walk over a value or object graph, and the byte primitives every encoder uses.

A walk is created by an entry point of :mod:`astoken._hashing` and reused by nested calls on
the same thread (so cycles through public entry points are still seen). It carries what the
encoders need from their caller: the first-party scope, the behavior hook of ``data_token``,
the graph's by-reference mode, the module a function's defaults and closure come from (where a
sentinel is looked up by name), and the two object hashers (functions, classes), which the
value encoder calls back into without importing them.
"""

from __future__ import annotations

import hashlib
import sys
import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from astoken._model import FORMAT_VERSION
from astoken._scope import Origin, Scope
from astoken.errors import UnhashableValueError, ValueTooDeepError

__all__ = [
    "MEMO_BYTES",
    "MEMO_BYTES_PER_OBJECT",
    "MEMO_ENTRY_BYTES",
    "BehaviorHook",
    "ClassCycles",
    "Fail",
    "Handler",
    "Kernel",
    "PendingClass",
    "ValueMemo",
    "Walk",
    "blob",
    "default_scope",
    "detached",
    "digest",
    "guarded",
    "int_bytes",
    "is_first_party",
    "is_stdlib",
    "obj_name",
    "opt",
    "text",
    "too_deep",
    "type_name",
    "unhashable",
    "value_memo",
    "walk_scope",
]

#: Gives the behavior token of a first-party class whose instance is encoded as data.
BehaviorHook = Callable[[type], "str | None"]


class Fail(Exception):
    """Internal: a value with no encoding; containers add their path segment on the way out."""

    def __init__(self, value_type: str) -> None:
        super().__init__(value_type)
        self.value_type = value_type
        self.segments: list[str] = []

    def path(self) -> str:
        return "".join(reversed(self.segments))


@dataclass(frozen=True, slots=True)
class Kernel:
    """The object hashers the value encoder calls back into (functions and classes live in
    modules that themselves encode values: passing them in keeps the imports one-way)."""

    function: Callable[[object, Walk], str | None]
    klass: Callable[[type, Walk, Scope], str | None]


#: An encoding up to this long is kept by a :class:`ValueMemo`; a longer one only when it
#: entered at least one object afresh per :data:`MEMO_BYTES_PER_OBJECT` bytes.
MEMO_ENTRY_BYTES = 64 << 10
#: See :data:`MEMO_ENTRY_BYTES`.
MEMO_BYTES_PER_OBJECT = 512
#: What one :class:`ValueMemo` keeps at most, encodings and the ids they entered together.
MEMO_BYTES = 256 << 20


class ValueMemo:
    """Encodings of the values one run has encoded, by identity (guarantee 8 of
    :mod:`astoken._hashing`).

    A run is one walk, or everything between entering and leaving :func:`value_memo` (one
    token session: a ``behavior_token`` call, a snapshot), so a value that many closures reach
    (pygments' token tables, a registry) is encoded once per run however many own tokens
    contain it. An entry keeps its value alive, so its ``id`` cannot be reused by another
    object while the entry exists, and is served only when

    - the value is the same object and, for a mutable container, has the same length (within a
      run values are not expected to change; encoding can fill a cache, which this notices);
    - the walk's context is the same (scope, by-reference mode, the modules sentinels are
      looked up in, the expressions standing for process state, the encoder tables);
    - its encoding was self-contained: no back-reference pointed above the value (a cycle
      through an object the walk was already in) and it did not meet the walk's root; and
      none of the objects its encoding entered is on the current walk's stack, where a fresh
      encoding would write a back-reference instead.

    Those are exactly the conditions under which encoding the value again gives the same bytes,
    so the memo changes no token. A later run starts empty, so a long-lived process sees a
    module constant mutated between two ``behavior_token`` calls.

    What the memo holds is bounded: a long encoding made mostly of kept parts is not kept
    (a table repeating a large value: encoding it again only joins the parts, see
    :data:`MEMO_ENTRY_BYTES`), and a run keeps at most :data:`MEMO_BYTES` of encodings and
    ids in all (pygments' lexers kept 2.5 GB without the bounds).
    """

    __slots__ = ("entries", "generation", "keep", "pinned", "room")

    def __init__(self, *, keep: bool = True) -> None:
        #: False: keep nothing (every value encoded afresh; the tests' reference encoding).
        self.keep = keep
        #: How many more bytes of encodings (and ids, at 64 bytes each) the memo may keep.
        self.room = MEMO_BYTES
        #: The encoder tables' generation the entries were computed with (``_values``).
        self.generation = 0
        #: ``(id(value), context) -> (value, length, bytes, ids the encoding entered)``.
        self.entries: dict[tuple[int, tuple[object, ...]], MemoEntry] = {}
        #: Unhashable context objects (the expressions mapping) by id, kept alive so that an id
        #: in a key always names the same object.
        self.pinned: dict[int, object] = {}


#: A memo entry: the value (kept alive), its length (-1: not a sized container), its encoding
#: and the ids of the objects its encoding entered.
MemoEntry = tuple[object, int, bytes, frozenset[int]]


class PendingClass:
    """A class whose token a walk has started (an entry of :class:`ClassCycles`): the mode it
    is hashed in (``code``), the walk depth it entered at, whether the walk is still inside it
    (``active``), whether a class inside it named it again (``named``) and, once its members
    are encoded, their bytes and whether they carry behaviour."""

    __slots__ = ("active", "behaviour", "cls", "code", "depth", "named", "parts")

    def __init__(self, cls: type, code: bool, depth: int) -> None:
        self.cls = cls
        self.code = code
        self.depth = depth
        self.active = True
        self.named = False
        self.behaviour = False
        self.parts: list[bytes] = []


class ClassCycles:
    """Tarjan's bookkeeping over the classes one walk hashes (guarantee 5 of
    :mod:`astoken._hashing`): a class whose members lead back to a class still being hashed
    belongs to a strongly connected set of classes, hashed as a whole when the first of them
    finishes, so that no class's token depends on which class of the set the walk met first.

    ``index`` maps ``(id(cls), code)`` to its position in ``stack``, the classes started and
    not yet part of a finished set; ``low`` is the lowest position a class inside the one
    being hashed led back to."""

    __slots__ = ("index", "low", "stack")

    def __init__(self) -> None:
        self.index: dict[tuple[int, bool], int] = {}
        self.stack: list[PendingClass] = []
        self.low = sys.maxsize

    def enclosing_depth(self, position: int) -> int:
        """The walk depth of the innermost class still being walked at or below ``position``:
        an encoding that names a class of an unfinished set depends on it from there up."""
        stack = self.stack
        while position > 0 and not stack[position].active:
            position -= 1
        return stack[position].depth


class Walk:
    """The objects currently being encoded (for cycles) and the context of the walk.

    ``active`` maps ``id(obj)`` to its depth on the walk; the ids are never emitted, only the
    depth difference of a back-reference is. ``low`` is the shallowest depth any
    back-reference has pointed at: a class token whose computation pointed above the class
    itself depends on where the walk started and must not be cached. ``homes`` is the stack of
    modules whose functions' defaults and closures are being encoded (innermost last);
    ``root`` is the value the walk was started for (never replaced by a name of its own).
    ``memo`` holds the encodings of the run (see :class:`ValueMemo`); ``entered`` logs the
    objects entered (an id, or a memo entry's ids on a hit) so a value's encoding knows which
    objects it went through; ``root_hits`` counts the times the root was met inside a value,
    ``contextual`` the times an encoder read more of the context than the scope and hook;
    ``cycles`` the classes being hashed, for sets of classes that lead to one another.
    """

    __slots__ = (
        "_context",
        "active",
        "base",
        "behavior",
        "by_reference",
        "contextual",
        "cycles",
        "entered",
        "expressions",
        "homes",
        "kernel",
        "low",
        "memo",
        "root",
        "root_hits",
        "scope",
    )

    def __init__(
        self,
        kernel: Kernel,
        scope: Scope | None,
        behavior: BehaviorHook | None = None,
        *,
        by_reference: bool = False,
        root: object = None,
        expressions: Mapping[str, str] | None = None,
        memo: ValueMemo | None = None,
    ) -> None:
        self.kernel = kernel
        self.expressions = expressions
        self.root = root
        self.active: dict[int, int] = {}
        self.base = 0
        self.low = sys.maxsize
        self.scope = scope
        self.behavior = behavior
        self.by_reference = by_reference
        self.homes: list[str] = []
        self.memo = memo if memo is not None else ValueMemo()
        self.entered: list[int | frozenset[int]] = []
        self.root_hits = 0
        self.contextual = 0
        self.cycles = ClassCycles()
        self._context: tuple[object, ...] | None = None

    def plain_context(self) -> tuple[object, ...]:
        """What the encoding of plain data depends on besides the value: the scope and the
        behavior hook (an encoding that read nothing else is kept under this key)."""
        return (self.scope, self.behavior)

    def context(self) -> tuple[object, ...]:
        """What any encoding depends on besides the value: also the by-reference mode, the
        modules sentinels are looked up in and the expressions standing for process state."""
        context = self._context
        if context is None:
            expressions = self.expressions
            if expressions is not None:
                self.memo.pinned.setdefault(id(expressions), expressions)
            context = self._context = (
                self.scope,
                self.behavior,
                self.by_reference,
                tuple(self.homes),
                id(expressions),
            )
        return context

    def enter(self, obj: object) -> bytes | None:
        """Mark ``obj`` active; returns a back-reference marker if it already is."""
        key = id(obj)
        depth = self.active.get(key)
        if depth is not None:
            self.low = min(self.low, depth)
            return b"@%d;" % (self.base + len(self.active) - depth)
        self.active[key] = self.base + len(self.active)
        self.entered.append(key)
        return None

    def leave(self, obj: object) -> None:
        del self.active[id(obj)]

    def depth(self) -> int:
        """How deep the walk is (objects entered, those of enclosing classes included)."""
        return self.base + len(self.active)

    @contextmanager
    def members_of(self) -> Iterator[None]:
        """While a class's members are encoded: the objects entered outside the class are not
        seen as active (guarantee 4 of :mod:`astoken._hashing`), so a back-reference never
        leaves the class and its members encode alike from wherever the walk met it (a
        handler table that several classes of a cycle share, sympy's). A cycle through
        classes ends at a class (:class:`ClassCycles`); any other cycle stays inside one
        class's members, where its back-references count from the class."""
        saved, saved_base = self.active, self.base
        self.base, self.active = self.base + len(self.active), {}
        try:
            yield
        finally:
            self.active, self.base = saved, saved_base

    @contextmanager
    def home(self, module: str | None) -> Iterator[None]:
        """While encoding a function's defaults and closure: the module it was defined in."""
        if not module:
            yield
            return
        self.homes.append(module)
        self._context = None
        try:
            yield
        finally:
            self.homes.pop()
            self._context = None


_LOCAL = threading.local()


@contextmanager
def value_memo(memo: ValueMemo | None = None) -> Iterator[ValueMemo]:
    """Share one :class:`ValueMemo` between the walks started on this thread inside the block
    (a run: one token session), instead of one memo per walk. Walks with a behavior hook
    (``data_token``) keep a memo of their own: what the hook returns depends on the classes
    whose behavior is being computed at the time."""
    saved = getattr(_LOCAL, "memo", None)
    current = _LOCAL.memo = memo if memo is not None else ValueMemo()
    try:
        yield current
    finally:
        _LOCAL.memo = saved


@contextmanager
def walk_scope(
    kernel: Kernel,
    scope: Scope | None = None,
    behavior: BehaviorHook | None = None,
    *,
    by_reference: bool = False,
    root: object = None,
    expressions: Mapping[str, str] | None = None,
) -> Iterator[Walk]:
    """The walk of the enclosing call on this thread, or a new one for the outermost call."""
    current: Walk | None = getattr(_LOCAL, "walk", None)
    if current is not None:
        yield current
        return
    created = Walk(
        kernel,
        scope,
        behavior,
        by_reference=by_reference,
        root=root,
        expressions=expressions,
        memo=getattr(_LOCAL, "memo", None) if behavior is None else None,
    )
    _LOCAL.walk = created
    try:
        yield created
    finally:
        _LOCAL.walk = None


@contextmanager
def detached() -> Iterator[None]:
    """Run a computation that starts a walk of its own (a class's behavior token)."""
    saved = getattr(_LOCAL, "walk", None)
    _LOCAL.walk = None
    try:
        yield
    finally:
        _LOCAL.walk = saved


Handler = Callable[[Any, Walk], bytes]


# ---- names for messages ----------------------------------------------------------------------


def type_name(tp: type) -> str:
    return f"{getattr(tp, '__module__', None) or '?'}.{getattr(tp, '__qualname__', tp.__name__)}"


def obj_name(obj: object) -> str:
    """``module:qualname`` of a function/class-like object, for error messages."""
    target = getattr(obj, "__func__", None) or getattr(obj, "fget", None) or obj
    module = getattr(target, "__module__", None)
    qualname = getattr(target, "__qualname__", None) or getattr(target, "__name__", None)
    if isinstance(module, str) and isinstance(qualname, str):
        return f"{module}:{qualname}"
    return type_name(type(obj))


def unhashable(exc: Fail, owner: str) -> UnhashableValueError:
    return UnhashableValueError(owner=owner, value_type=exc.value_type, path=exc.path())


def too_deep(owner: str, value: object) -> ValueTooDeepError:
    # Caught where the walk started, with the stack unwound: a clear error, never a
    # RecursionError from somewhere inside the walk.
    return ValueTooDeepError(owner=owner, value_type=type_name(type(value)))


# ---- byte primitives -------------------------------------------------------------------------


def blob(tag: bytes, raw: bytes) -> bytes:
    return b"%s%d:%s" % (tag, len(raw), raw)


def text(tag: bytes, value: str) -> bytes:
    return blob(tag, value.encode("utf-8", "surrogatepass"))


def int_bytes(value: int) -> bytes:
    # int.to_bytes avoids str(int)'s digit limit (sys.set_int_max_str_digits) for huge ints.
    return value.to_bytes((value.bit_length() + 8) // 8, "big", signed=True)


def digest(tag: bytes, *parts: bytes) -> str:
    h = hashlib.sha256(b"astoken-%s\x00%d\x00" % (tag, FORMAT_VERSION))
    for part in parts:
        h.update(part)
    return h.hexdigest()


def opt(token: str | None) -> bytes:
    return b"N" if token is None else text(b"", token)


def guarded(v: object, w: Walk, build: Callable[[], bytes]) -> bytes:
    """Encode a mutable container (or any object that may contain itself) with cycle detection."""
    back = w.enter(v)
    if back is not None:
        return back
    try:
        return build()
    finally:
        w.leave(v)


# ---- scope -----------------------------------------------------------------------------------


def default_scope(cls: type) -> Scope:
    """The scope of a class hashed on its own: the top-level package of its module (with the
    other import packages of its distribution, as for any root)."""
    module = getattr(cls, "__module__", None) or ""
    return Scope().with_root(module)


def is_stdlib(module: str) -> bool:
    top = module.partition(".")[0]
    return top in sys.stdlib_module_names or top in sys.builtin_module_names


def is_first_party(module: str, scope: Scope | None = None) -> bool:
    # A class or function without a module name is code nobody else owns: follow it.
    if not module:
        return True
    if scope is None:
        return not is_stdlib(module) and Scope().classify(module) is Origin.FIRST_PARTY
    return scope.is_first_party(module)
