"""The runtime hasher: canonical bytes of code objects, functions, classes and values.

One concern per module, in the order a token is built from the bottom up:

- :mod:`._walk` — the state of one walk (cycles, scope, hooks) and the byte primitives;
- :mod:`._code` — code objects as canonical instruction streams;
- :mod:`._values` — values, with the dispatch table and :func:`register_encoder`;
- :mod:`._names` — objects known by their module-level name (sentinels, library singletons);
- :mod:`._optional` — the one table of encoders for optional libraries (numpy, pandas, pyarrow,
  polars, pydantic), each in a module of its own, imported only once the library is;
- :mod:`._functions` and :mod:`._classes` — the own tokens of functions and classes.

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
   and where inside the value it sits — unless it is bound to a module-level name (a
   sentinel such as ``_MISSING = object()`` used as a default, in a closure or inside a
   value), which is then encoded as that qualified name (see :mod:`._names`). One nested
   deeper than the stack allows (a few hundred levels) raises
   :class:`~astoken.errors.ValueTooDeepError`. Containers are copied before they are walked,
   so one that the walk itself changes (a cache) cannot break it.
4. Cycles (a list containing itself, a recursive inner function closing over itself) encode a
   back-reference marker that counts how far up the walk the repeated object sits, so the
   result does not depend on addresses. A class's members are a walk of their own: no
   back-reference points outside the class, and a cycle through classes ends at a class
   (guarantee 5).
5. A class token covers the members of the class and of its first-party bases with override
   semantics (the first definition of a name in the MRO wins), sorted by name, and stops at
   the first base outside the first-party scope. It is cached in the class's *own*
   ``__dict__`` as ``__astoken_cache__`` (never inherited), keyed by format version, scope and
   the mode of the walk. Classes whose members lead to one another (a strongly connected set)
   are hashed as a set: inside it a class is named, and each class's token is the digest of
   the whole set with its own name, so it does not depend on which class of the set was hashed
   first, and each class is encoded once.
6. The hasher's process-wide state cannot make a token depend on history: code tokens are
   cached by the (immutable) code object, weakly; the per-type dispatch cache is weak and
   emptied whenever an encoder table changes; module-level names are looked up afresh; a
   type has at most one registered encoder (:func:`register_encoder`).
7. Nothing a process computed for itself reaches a token: a class constant whose defining
   expression reads process state, and the defaults of a function whose default expressions
   do (``def main(args=sys.argv)``), are hashed by the digest of that source (which the
   summary pass computes, ``astoken._summary._volatile``); the ``hash()`` constant attrs bakes into
   the code it generates is replaced by a marker; a bare ``object()`` is known by the name it
   is bound to (a module-level name, an enum member, a closure cell's function and name).
8. A value is encoded once per run, however many own tokens reach it: a run is one walk, or
   the block of :func:`value_memo` (one token session). The memo keeps each value alive and
   serves its bytes only where encoding it again would give the same bytes (the same object,
   a container of the same length, the same walk context, an encoding that did not depend on
   the walk's stack), so it changes no token; a later run encodes afresh and sees a mutated
   constant (:class:`~astoken._hashing._walk.ValueMemo`).
"""

from __future__ import annotations

import functools
import hashlib
import types
from collections.abc import Callable, Mapping

from astoken._model import Node, NodeKind
from astoken._scope import Scope
from astoken.errors import UnhashableValueError

from ._classes import hash_class, mro_members
from ._code import CodeBook, code_book, code_token
from ._functions import function, held_function
from ._library_state import rewritten_member
from ._source import SourceBook, current_source_book, source_book
from ._values import FUNCTION_TYPES, enc, register_encoder, unregister_encoder, wrapped_of
from ._walk import (
    BehaviorHook,
    Fail,
    Kernel,
    ValueMemo,
    default_scope,
    digest,
    obj_name,
    text,
    too_deep,
    unhashable,
    value_memo,
    walk_scope,
)

__all__ = [
    "LIVE_KINDS",
    "BehaviorHook",
    "CodeBook",
    "SourceBook",
    "ValueMemo",
    "class_token",
    "code_book",
    "code_token",
    "current_source_book",
    "encode_value",
    "function_token",
    "is_data",
    "leaf_token",
    "mro_members",
    "node_token",
    "object_token",
    "pairs_token",
    "register_encoder",
    "source_book",
    "texts_token",
    "unregister_encoder",
    "value_memo",
    "value_token",
]

_KERNEL = Kernel(function=function, klass=hash_class)


def encode_value(
    value: object,
    *,
    owner: str = "",
    behavior: BehaviorHook | None = None,
    by_reference: bool = False,
    home: str | None = None,
    scope: Scope | None = None,
) -> bytes:
    """The canonical bytes of a value (see guarantees 2-4 of this module). With ``behavior``,
    instances of first-party classes also carry their class's behavior token; with
    ``by_reference``, see :func:`value_token`; ``home`` is the module a sentinel inside the
    value is looked up in first (a graph constant's own module); ``scope`` is the analysis's
    first-party scope (default: decided per module)."""
    with walk_scope(_KERNEL, scope, behavior=behavior, by_reference=by_reference, root=value) as w:
        try:
            with w.home(home):
                return enc(value, w)
        except Fail as exc:
            raise unhashable(exc, owner or "value") from None
        except RecursionError:
            raise too_deep(owner or "value", value) from None


def value_token(
    value: object,
    *,
    owner: str = "",
    behavior: BehaviorHook | None = None,
    by_reference: bool = False,
    home: str | None = None,
    scope: Scope | None = None,
) -> str:
    """SHA-256 of :func:`encode_value` (with the format version). With ``by_reference`` (a
    graph constant's own token), first-party functions and classes inside the value that can be
    found again by their qualified name are encoded by that name."""
    return digest(
        b"value",
        encode_value(
            value,
            owner=owner,
            behavior=behavior,
            by_reference=by_reference,
            home=home,
            scope=scope,
        ),
    )


def pairs_token(pairs: tuple[tuple[str, str | None], ...]) -> str:
    """:func:`value_token` of a tuple of ``(text, text or None)`` pairs, built without a walk:
    the same bytes the encoder gives them (a tuple, a string, None), for a caller that makes
    one such token per item of thousands (``pytest --astoken-select``: one per test)."""
    parts = [b"(%d:" % len(pairs)]
    for name, value in pairs:
        parts.append(b"(2:" + text(b"s", name) + (b"N" if value is None else text(b"s", value)))
    return digest(b"value", b"".join(parts))


def texts_token(texts: tuple[str, ...]) -> str:
    """:func:`value_token` of a tuple of strings, built without a walk: the encoder's bytes
    for them (``pytest --astoken-select``: the parameters of each parametrized test, names and
    value tokens, thousands in a session)."""
    parts = [b"(%d:" % len(texts)]
    parts.extend(text(b"s", item) for item in texts)
    return digest(b"value", b"".join(parts))


def function_token(
    obj: object,
    *,
    owner: str = "",
    scope: Scope | None = None,
    expressions: Mapping[str, str] | None = None,
) -> str | None:
    """The own token of a callable-ish object (function, method, descriptor, partial...).

    Functions contribute their canonical code, positional and keyword defaults and closure
    cells; decorated functions every layer of their ``__wrapped__`` chain; bound methods their
    function (the instance is data); descriptors their functions, each slot tagged; builtins
    their module and qualified name (and a bound builtin its ``__self__``); callable instances
    their class. None when there is nothing to hash (a property with no accessor).
    ``expressions`` maps ``"module:qualname"`` of functions whose defaults read process state
    to the digest of their source, which stands in for those defaults (guarantee 7).
    """
    with walk_scope(_KERNEL, scope, root=obj, expressions=expressions) as w:
        try:
            return function(obj, w)
        except Fail as exc:
            raise unhashable(exc, owner or obj_name(obj)) from None
        except RecursionError:
            raise too_deep(owner or obj_name(obj), obj) from None


def class_token(
    cls: type,
    *,
    scope: Scope | None = None,
    owner: str = "",
    expressions: Mapping[str, str] | None = None,
    code: bool = True,
) -> str | None:
    """astoken's own token of a class: its members and those of its first-party bases (without
    ``code``: its data only, see :func:`~astoken._hashing._classes.hash_class`).

    See guarantee 5 of this module. ``scope`` decides which bases are walked (default: the
    top-level package of ``cls.__module__``). ``expressions`` maps ``"module:Class.attr"`` of
    the class constants whose value depends on the process to the digest of their defining
    source, which stands in for the value (guarantee 7). None when the walked classes have no
    member with behaviour (only data attributes).
    """
    effective = scope or default_scope(cls)
    name = owner or f"{cls.__module__}:{cls.__qualname__}"
    with walk_scope(_KERNEL, effective, root=cls, expressions=expressions) as w:
        try:
            return hash_class(cls, w, effective, code=code)
        except Fail as exc:
            raise unhashable(exc, name) from None
        except RecursionError:
            raise too_deep(name, cls) from None


def is_data(obj: object) -> bool:
    """True for an object whose own token is its value (``value_token``), false for code:
    classes, modules, functions, methods, descriptors, partials and function wrappers.

    A callable *instance* (``scorer = Scorer(0.5)``) is data: its class's code is a node of the
    graph of its own, and its state (``0.5``) must reach the token.
    """
    return not (
        isinstance(obj, (type, types.ModuleType, *FUNCTION_TYPES, *_DESCRIPTOR_TYPES))
        or wrapped_of(obj) is not None
    )


_DESCRIPTOR_TYPES = (
    staticmethod,
    classmethod,
    property,
    functools.cached_property,
    functools.partialmethod,
)


def object_token(
    obj: object,
    *,
    scope: Scope | None = None,
    owner: str = "",
    expressions: Mapping[str, str] | None = None,
) -> str | None:
    """The own token of any resolved graph node: class, callable, module or plain value
    (``expressions``: see :func:`class_token`)."""
    if isinstance(obj, type):
        return class_token(obj, scope=scope, owner=owner or obj_name(obj), expressions=expressions)
    if isinstance(obj, types.ModuleType):
        return value_token(obj, owner=owner)
    if callable(obj) or isinstance(obj, _DESCRIPTOR_TYPES) or held_function(obj) is not None:
        return function_token(obj, owner=owner, scope=scope, expressions=expressions)
    return value_token(obj, owner=owner)


# --------------------------------------------------------------------------------------------
# Own tokens of graph nodes: what one node contributes by itself (its dependencies are nodes of
# their own). The forms, which ``astoken._lockfile.is_own_token`` accepts and the explain table
# shows: 64 hex digits (code or value); ``external:NAME`` or ``external:NAME==VERSION`` (a
# third-party leaf: its version stands for its code); ``stdlib:NAME`` (a standard-library leaf:
# the interpreter tag in every token stands for it); ``opaque:TYPE:DIGEST`` (a value with no
# deterministic encoding, by its type and the digest of the source that built it, or
# ``no-source``).

#: The kinds whose own token is computed from their live object (:func:`node_token`); the
#: others have a token without one (:func:`leaf_token`).
LIVE_KINDS = frozenset({NodeKind.FUNCTION, NodeKind.METHOD, NodeKind.CLASS, NodeKind.CONSTANT})


def leaf_token(node: Node) -> str | None:
    """The own token of a node that is not hashed through a live object: a third-party leaf by
    its name and version, a standard-library leaf by its name; None for a module (its code is in
    the nodes of its definitions) and a nested function (hashed as part of the code it is nested
    in)."""
    if node.kind is NodeKind.EXTERNAL:
        return f"external:{node.name}=={node.version}" if node.version else f"external:{node.name}"
    if node.kind is NodeKind.STDLIB:
        return f"stdlib:{node.name}"
    return None


def node_token(
    node: Node,
    obj: object,
    *,
    scope: Scope,
    expressions: Mapping[str, str],
    assignment: Callable[[], str | None],
) -> str | None:
    """The own token of a node of one of the :data:`LIVE_KINDS` from ``obj``, its live object.

    A constant computed from process state at import (the working directory, ``hash()``, the
    clock...) is its defining source (``node.expression``), never its value (guarantee 7); a
    function's expression stands for its defaults, in its code's token (``expressions``). A
    constant whose value has no deterministic encoding (a logger, a lock, a client instance)
    is its type and the digest of the canonical source of the assignment that built it
    (``assignment()``, read only then), so editing how it is built still changes the token.
    So is a class attribute its library rewrites in place on first use (pygments' lexer
    ``tokens``: ``_library_state``), without the type.
    """
    if node.expression and node.kind is NodeKind.CONSTANT:
        return node.expression
    if node.kind is NodeKind.CONSTANT and rewritten_member(node.name):
        # Rewritten in place by its library on first use (``_library_state``): its source,
        # when it can be read (else its value, as any constant).
        written = assignment()
        if written:
            return hashlib.sha256(b"rewritten\x00" + written.encode()).hexdigest()
    if node.kind is NodeKind.CONSTANT and is_data(obj):
        try:
            return value_token(
                obj,
                owner=node.name,
                by_reference=True,
                home=node.name.partition(":")[0],
                scope=scope,
            )
        except UnhashableValueError as exc:
            built_by = assignment() or ""
            source = hashlib.sha256(built_by.encode()).hexdigest() if built_by else "no-source"
            return f"opaque:{exc.value_type}:{source}"
    if node.kind is NodeKind.CLASS and isinstance(obj, type):
        # Its methods and nested classes are nodes of their own, in the closure only where they
        # can run (coverage.md rule 1): the class's own token is its data.
        return class_token(obj, scope=scope, owner=node.name, expressions=expressions, code=False)
    return object_token(obj, scope=scope, owner=node.name, expressions=expressions)
