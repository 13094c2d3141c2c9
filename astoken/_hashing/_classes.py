"""Own tokens of classes (guarantee 5 of :mod:`astoken._hashing`).

A class token covers the members of the class and of its first-party bases with override
semantics (the first definition of a name in the MRO wins, :func:`mro_members`, the one walk of
class members that :mod:`astoken.ccflow` uses too), sorted by name, and stops at the first base
outside the first-party scope. It is cached in the class's *own* ``__dict__`` as
``__astoken_cache__`` (never inherited), keyed by format version, scope and the walk's mode.
Classes whose members lead to one another are hashed as one strongly connected set
(:func:`hash_class`), so that no token depends on which class of the set was hashed first.

Members with no value encoding (rule, cited by ``tests/test_hashing.py``): a class-level object
that is neither code nor encodable data (a lock, a client, a descriptor or callable instance
holding one) contributes its *type* to the class's own token, and its construction is covered
by the graph, where ``module:Class.attr`` is a constant node hashed from the source of the
assignment that built it. So a behavior token still changes when such a member's construction
is edited; :func:`astoken._hashing.class_token` alone (no graph) does not see that edit.
An annotation object with no value encoding (a third-party marker) likewise counts by its type:
annotations never make a token fail.
"""

from __future__ import annotations

import contextlib
import enum
import sys
import types
from collections.abc import Callable, Iterator

from astoken._model import FORMAT_VERSION
from astoken._scope import Scope

from ._functions import function
from ._lazy import lazy_class_attributes
from ._library_state import as_set, order_free_names, process_state_names, rewritten_names
from ._source import current_source_book, generated_member
from ._values import (
    FUNCTION_TYPES,
    annotation,
    enc,
    is_own_identity,
    mapping,
    own_dict,
    typing_construct,
)
from ._walk import Fail, PendingClass, Walk, blob, digest, is_first_party, opt, text, type_name

__all__ = ["hash_class", "mro_members"]


def mro_members(cls: type, stop: Callable[[type], bool]) -> Iterator[tuple[type, str, object]]:
    """``(defining class, name, value)`` of every member visible on ``cls``: the classes of
    its MRO in order until ``stop(klass)`` is true, each name from the first class that
    defines it (override semantics). Names come in each class's definition order."""
    seen: set[str] = set()
    for owner in cls.__mro__:
        if stop(owner):
            return
        for name, value in list(owner.__dict__.items()):
            if name in seen:
                continue
            seen.add(name)
            yield owner, name, value


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


def _member(value: object, w: Walk, scope: Scope) -> tuple[bytes, bool]:
    """Encoded member and whether it carries behaviour (a callable with code)."""
    if isinstance(value, type):
        head = text(b"C", type_name(value))
        if not is_first_party(getattr(value, "__module__", None) or "", scope):
            return head, False
        token = hash_class(value, w, scope)
        return head + opt(token), token is not None
    if isinstance(value, FUNCTION_TYPES):
        inner = getattr(value, "__func__", value)
        if isinstance(inner, types.FunctionType) and not is_first_party(
            inner.__module__ or "", scope
        ):
            # A function from a module outside the scope (enum's __new__ copied into an Enum
            # class, json.dumps bound as a class attribute): a leaf, known by name.
            name = f"{inner.__module__}.{inner.__qualname__}"
            return text(b"X", type(value).__name__) + text(b"", name), True
        token = function(value, w)
        return opt(token), token is not None
    typing_bytes = typing_construct(value, w)
    if typing_bytes is not None:
        return typing_bytes, False
    if callable(value):
        # A callable instance: its data when it has an encoding, and its class's behaviour.
        try:
            data = enc(value, w)
        except Fail:
            data = b"-"
        token = function(value, w)
        return b"I" + data + opt(token), token is not None
    if any(hasattr(type(value), hook) for hook in ("__get__", "__set__", "__delete__")):
        # A custom descriptor: its value if it has one, else the behaviour of its class and
        # its own state when that is encodable.
        try:
            return enc(value, w), False
        except Fail:
            tp = type(value)
            head = text(b"D", type_name(tp))
            if not is_first_party(getattr(tp, "__module__", "") or "", scope):
                return head, False
            state = own_dict(value)
            try:
                data = mapping(b"", list(state.items()), w) if isinstance(state, dict) else b"-"
            except Fail:
                data = b"?"
            token = hash_class(tp, w, scope)
            return head + opt(token) + data, token is not None
    try:
        return enc(value, w), False
    except Fail:
        # A class-level object with no value encoding (a lock, a client): its type here; the
        # graph hashes it as a constant node, with the source of the assignment that built it.
        return text(b"U", type_name(type(value))), False


def _class_members(
    cls: type, w: Walk, scope: Scope, *, code: bool = True
) -> tuple[list[bytes], bool]:
    def outside(owner: type) -> bool:
        return owner is object or not is_first_party(getattr(owner, "__module__", "") or "", scope)

    members: list[tuple[str, bytes]] = []
    annotations: list[bytes] = []
    has_behaviour = False
    for owner in cls.__mro__:
        if outside(owner):
            break
        own = owner.__dict__  # the class's own annotations, as written (never evaluated)
        own_annotations = own.get("__annotations__")
        # An empty dict is what reading ``cls.__annotations__`` leaves on a class that has
        # none: the process's history, not the class's.
        if isinstance(own_annotations, dict) and own_annotations:
            annotations.append(
                b"".join(
                    text(b"", str(name)) + annotation(own_annotations[name], w)
                    for name in sorted(own_annotations, key=str)
                )
            )
    expressions = w.expressions or {}
    portable = current_source_book() is not None
    order_free = order_free_names(cls)
    process_state = process_state_names(cls) | rewritten_names(cls) | lazy_class_attributes(cls)
    for owner, name, held in mro_members(cls, outside):
        if _skip_member(owner, name, held) or name in process_state:
            continue
        if is_own_identity(owner, held):
            continue  # the class's address, as a marker that code processed it
        # A set kept as a tuple: its order is process history.
        value = as_set(held) if name in order_free else held
        if not code and isinstance(value, (type, *FUNCTION_TYPES)):
            # A node of its own (see ``hash_class``); a method is behaviour all the same.
            has_behaviour = has_behaviour or not isinstance(value, type)
            continue
        if portable and generated_member(owner, value) is not None:
            continue  # what the generator wrote it from is hashed (``_source``, guarantee 2)
        expression = expressions.get(
            f"{owner.__module__}:{owner.__qualname__}.{_source_name(owner, name)}"
        )
        if expression is not None and not (callable(value) or isinstance(value, FUNCTION_TYPES)):
            # A constant computed from process state at import: its defining source stands in
            # (a method's entry is its defaults', used by the function hasher).
            members.append((name, text(b"X", expression)))
            continue
        try:
            with w.home(getattr(owner, "__module__", None)):
                encoded, behaviour = _member(value, w, scope)
        except Fail as exc:
            exc.segments.append(f".{name}")
            raise
        has_behaviour = has_behaviour or behaviour
        members.append((name, encoded))
    members.sort(key=lambda item: item[0])
    parts = [b"%d:" % len(members)]
    parts.extend(text(b"", name) + encoded for name, encoded in members)
    parts.append(b"a%d:" % len(annotations) + b"".join(blob(b"", a) for a in annotations))
    with w.home(cls.__module__):  # where a sentinel field default is looked up by name
        parts.append(_dataclass_section(cls, w))
        parts.append(_pydantic_section(cls, w))
        parts.append(_enum_section(cls, w))
    return parts, has_behaviour


def _dataclass_section(cls: type, w: Walk) -> bytes:
    fields = getattr(cls, "__dataclass_fields__", None)
    if not isinstance(fields, dict):
        return b""
    parts = [b"dc"]
    params = getattr(cls, "__dataclass_params__", None)
    # Portable: the options every minor records (3.12 added kw_only, slots... to the record;
    # what they do shows in the fields and members anyway).
    flags = _DATACLASS_PARAMS if current_source_book() is None else _DATACLASS_PARAMS[:6]
    parts.append(enc(tuple(getattr(params, flag, None) for flag in flags), w))
    for name, field in fields.items():
        try:
            parts.append(
                text(b"", name)
                + annotation(field.type, w)
                + enc(field.default, w)
                + enc(field.default_factory, w)
                + enc(
                    (
                        field.init,
                        field.repr,
                        field.compare,
                        field.hash,
                        getattr(field, "kw_only", None),
                    ),
                    w,
                )
                + text(b"", str(getattr(field, "_field_type", "")))
            )
        except Fail as exc:
            exc.segments.append(f".__dataclass_fields__[{name!r}]")
            raise
    return b"".join(parts)


def _pydantic_section(cls: type, w: Walk) -> bytes:
    pydantic_main = sys.modules.get("pydantic.main")
    base = getattr(pydantic_main, "BaseModel", None)
    if base is None or not issubclass(cls, base):
        return b""
    parts = [b"pd"]
    fields = getattr(cls, "__pydantic_fields__", None) or {}
    for name, info in fields.items():
        try:
            parts.append(
                text(b"", name)
                + annotation(info.annotation, w)
                + enc(info.default, w)
                + enc(info.default_factory, w)
                + enc((info.alias, info.exclude), w)
            )
        except Fail as exc:
            exc.segments.append(f".model_fields[{name!r}]")
            raise
    private = getattr(cls, "__private_attributes__", None) or {}
    for name in sorted(private):
        attr = private[name]
        try:
            parts.append(
                text(b"p", name)
                + enc(getattr(attr, "default", None), w)
                + enc(getattr(attr, "default_factory", None), w)
            )
        except Fail as exc:
            exc.segments.append(f".__private_attributes__[{name!r}]")
            raise
    return b"".join(parts)


def _enum_section(cls: type, w: Walk) -> bytes:
    if not (isinstance(cls, enum.EnumMeta) and issubclass(cls, enum.Enum)):
        return b""
    parts = [b"en"]
    for name, member in cls.__members__.items():
        value = member._value_
        if type(value) is object:
            # ``UNSET = object()`` (the sentinel-enum idiom): the member's name is its identity.
            parts.append(text(b"", name) + b"!")
            continue
        try:
            parts.append(text(b"", name) + enc(value, w))
        except Fail as exc:
            exc.segments.append(f".{name}")
            raise
    return b"".join(parts)


def hash_class(cls: type, w: Walk, scope: Scope, *, code: bool = True) -> str | None:
    """The token of a class's members and those of its first-party bases (module docstring);
    None when none of them has behaviour. Without ``code``, as a node of a graph closure: its
    data only (its methods, properties and nested classes are nodes of their own, in a closure
    only where they can run: coverage.md rule 1).

    Classes whose members lead to one another (``A.peers = (A, B)``, ``B.peers = (A, B)``;
    sympy's predicates and handler tables) form a strongly connected set, found by Tarjan's
    algorithm over the walk (:class:`~astoken._hashing._walk.ClassCycles`): inside the set a
    class names the others (``scc:module.Qual``), and each class's token is the digest of the
    whole set's members with its own name, once the first class of the set finishes. So a
    token does not depend on which class of the set the walk met first, each class is
    encoded once, and the set's tokens are cached like any other (before, each path into such
    a set encoded it afresh: factorial in the size of the set)."""
    # The mode of the walk is part of the key: by reference, first-party classes and functions
    # inside members are names; with a behavior hook, instances carry their class's token; with
    # the graph's expressions, process-state constants are their source.
    # A portable session hashes code by its source: another key (and bytecode stand-ins too).
    book = current_source_book()
    mode = 0 if book is None else 2 if book.allow_bytecode else 1
    key = (FORMAT_VERSION, scope, w.by_reference, w.behavior, w.expressions is not None, mode)
    cache = cls.__dict__.get("__astoken_cache__")
    own_key = (*key, code)
    if isinstance(cache, dict) and own_key in cache:
        cached: str | None = cache[own_key]
        return cached
    cycles = w.cycles
    position = cycles.index.get((id(cls), code))
    if position is not None:
        # Started and not finished: a member of the set being hashed, named.
        cycles.stack[position].named = True
        cycles.low = min(cycles.low, position)
        w.low = min(w.low, cycles.enclosing_depth(position))
        return _set_name(cls, code)
    # A class's data (``code`` false) is only ever a walk's root: nothing leads back to it, and
    # its class hashed with code inside it is another entry.
    if code:
        back = w.enter(cls)
        if back is not None:  # pragma: no cover - every class a walk enters is in ``cycles``
            return "cycle:" + back.decode()
        depth = w.depth() - 1
    else:
        depth = w.depth()
    position = len(cycles.stack)
    pending = PendingClass(cls, code, depth)
    cycles.index[(id(cls), code)] = position
    cycles.stack.append(pending)
    outer_low, outer_cycle_low = w.low, cycles.low
    w.low, cycles.low = sys.maxsize, position
    try:
        with w.members_of():
            pending.parts, pending.behaviour = _class_members(cls, w, scope, code=code)
    except BaseException:
        for started in cycles.stack[position:]:
            del cycles.index[(id(started.cls), started.code)]
        del cycles.stack[position:]
        raise
    finally:
        if code:
            w.leave(cls)
        pending.active = False
        inner_low, inner_cycle_low = w.low, cycles.low
        w.low, cycles.low = min(outer_low, inner_low), min(outer_cycle_low, inner_cycle_low)
    if inner_cycle_low < position:
        # Led back to a class started before it: that class finishes the set.
        w.low = min(w.low, cycles.enclosing_depth(inner_cycle_low))
        return _set_name(cls, code)
    members = cycles.stack[position:]
    del cycles.stack[position:]
    for member in members:
        del cycles.index[(id(member.cls), member.code)]
    tokens = _set_tokens(members)
    if inner_low >= depth:
        # Nothing inside pointed above the class (its set named only its own members): the
        # tokens do not depend on where the walk started and are kept.
        for member in members:
            _keep(member.cls, (*key, member.code), tokens[id(member)])
    return tokens[id(pending)]


def _set_name(cls: type, code: bool) -> str:
    """How a class of an unfinished set is named inside it (its token comes with the set)."""
    return f"scc:{type_name(cls)}" + ("" if code else ":data")


def _set_tokens(members: list[PendingClass]) -> dict[int, str | None]:
    """The tokens of a finished set of classes, by ``id`` of their entry: a class alone and
    never named inside itself has the digest of its members; the classes of a set have the
    digest of every member of the set (sorted by name, then bytes: the order the walk met them
    in does not count) with their own name."""
    if len(members) == 1 and not members[0].named:
        only = members[0]
        tag = b"class" if only.code else b"class-data"
        return {id(only): digest(tag, *only.parts) if only.behaviour else None}
    rows = sorted(
        (
            text(b"", _set_name(member.cls, member.code))
            + blob(b"", b"".join(member.parts))
            + (b"1" if member.behaviour else b"0")
        )
        for member in members
    )
    whole = digest(b"class-set", b"%d:" % len(rows), *rows)
    return {
        id(member): digest(
            b"class-in-set", text(b"", whole), text(b"", _set_name(member.cls, member.code))
        )
        if member.behaviour
        else None
        for member in members
    }


def _keep(cls: type, key: tuple[object, ...], token: str | None) -> None:
    cache = cls.__dict__.get("__astoken_cache__")
    new_cache = dict(cache) if isinstance(cache, dict) else {}
    new_cache[key] = token
    # Built-in and extension classes refuse attributes: they are recomputed next time.
    with contextlib.suppress(TypeError, AttributeError):
        cls.__astoken_cache__ = new_cache  # type: ignore[attr-defined]


def _source_name(owner: type, name: str) -> str:
    """The name a class member has in its source: ``__count`` for the ``_argmap__count`` that
    Python's private-name mangling stores."""
    prefix = f"_{owner.__name__.lstrip('_')}__"
    if name.startswith(prefix) and not name.endswith("__") and len(name) > len(prefix):
        return "__" + name[len(prefix) :]
    return name
