"""Own tokens of functions and function-like objects (descriptors, partials, wrappers...).

Functions contribute their canonical code (:mod:`astoken._hashing._code`), positional and
keyword defaults and closure cells (encoded as values, with the function's module as the place
where a sentinel default is looked up by name); decorated functions every layer of their
``__wrapped__`` chain; bound methods their function (the instance is data); descriptors their
functions, each slot tagged; builtins their module and qualified name (and a bound builtin its
``__self__``); ``singledispatch`` functions their registry; networkx's lazily compiled
``argmap`` wrappers their decorator and wrapped function; callable instances their class.
"""

from __future__ import annotations

import functools
import types

from ._code import code_token
from ._source import current_source_book, generated_method, portable_code
from ._values import enc, wrapped_of
from ._walk import Fail, Walk, default_scope, digest, opt, text, type_name

__all__ = ["function"]


def _function_layer(f: types.FunctionType, w: Walk) -> bytes:
    """One function's own code (its source in a portable session), defaults, keyword defaults
    and closure cells."""
    book = current_source_book()
    parts = [text(b"", code_token(f.__code__)) if book is None else portable_code(f, book)]
    module = f.__globals__.get("__name__") if isinstance(f.__globals__, dict) else None
    # Defaults read from process state (``def main(args=sys.argv)``): their source instead.
    defaults = (w.expressions or {}).get(f"{f.__module__}:{f.__qualname__}")
    with w.home(module if isinstance(module, str) else None):
        parts.extend(_function_values(f, w, defaults))
    return b"".join(parts)


def _function_values(f: types.FunctionType, w: Walk, defaults: str | None) -> list[bytes]:
    parts = []
    if defaults is not None:
        parts.append(text(b"X", defaults))
    else:
        try:
            parts.append(enc(f.__defaults__, w))
        except Fail as exc:
            exc.segments.append(".__defaults__")
            raise
        kwdefaults = f.__kwdefaults__
        try:
            parts.append(enc(None if kwdefaults is None else dict(kwdefaults), w))
        except Fail as exc:
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
            parts.append(enc(contents, w))
        except Fail as exc:
            if type(contents) is object:
                # A bare ``object()`` bound in an enclosing function (``sentinel = object()``
                # in a decorator) and at no module level: known by where it is bound.
                parts.append(text(b"o", f"{f.__qualname__}.{name}"))
                continue
            exc.segments.append(f".__closure__[{name!r}]")
            raise
    return parts


def _foreign_wrapper_layer(obj: object, w: Walk) -> bytes:
    """A wrapper that is not a Python function (``functools.lru_cache``...): type + settings."""
    parts = [text(b"W", type_name(type(obj)))]
    params = getattr(obj, "cache_parameters", None)
    if callable(params):
        try:
            parts.append(enc(params(), w))
        except Fail as exc:  # pragma: no cover - cache_parameters() returns plain values
            exc.segments.append(".cache_parameters()")
            raise
    return b"".join(parts)


#: What a function with no defaults, keyword defaults or closure cells adds after its code:
#: ``enc(None)`` for each kind of default and no cells (see :func:`_function_values`).
_NO_VALUES = b"NN0:"


def _plain_function(f: types.FunctionType, w: Walk) -> str | None:
    """The token of a function that holds nothing but its code (no defaults, keyword defaults,
    closure cells or attributes; not a portable session; no defaults read from process state),
    computed without the walk's cycle guard and context: nothing in it can lead back to a value
    being encoded. The same bytes as :func:`_wrapped_chain` gives for it (one layer); None for
    any other function. Most of sympy's 30,000 methods are such functions."""
    if (
        f.__defaults__ is not None
        or f.__kwdefaults__ is not None
        or f.__closure__
        or f.__dict__
        or current_source_book() is not None
    ):
        return None
    if w.expressions and f"{f.__module__}:{f.__qualname__}" in w.expressions:
        return None
    layer = b"L" + text(b"", code_token(f.__code__)) + _NO_VALUES
    return digest(b"function", b"1:", layer)


def function(obj: object, w: Walk) -> str | None:
    if type(obj) is types.FunctionType:
        plain = _plain_function(obj, w)
        if plain is not None:
            return plain
    if isinstance(obj, type):
        # A class's token finds its own cycles (``hash_class``): entered here, it would meet
        # itself there as a back-reference.
        return w.kernel.klass(obj, w, w.scope or default_scope(obj))
    back = w.enter(obj)
    if back is not None:
        return "cycle:" + back.decode()
    try:
        return _function_unguarded(obj, w)
    finally:
        w.leave(obj)


#: Types with ``__get__`` and a ``func`` that are hashed by their own rule: a partial's bound
#: arguments are behaviour (since 3.13 ``functools.partial`` has a ``__get__`` too).
_NOT_HELD: tuple[type, ...] = (
    type,
    types.FunctionType,
    functools.partial,
    functools.partialmethod,
    functools.singledispatchmethod,
)


def held_function(obj: object) -> types.FunctionType | None:
    """The Python function a non-Python descriptor object wraps (its ``func`` or ``fget``),
    or None: an object whose type defines ``__get__`` and is not one of the types above."""
    if isinstance(obj, _NOT_HELD) or not hasattr(type(obj), "__get__"):
        return None
    for attr in ("func", "fget"):
        try:
            held = getattr(obj, attr, None)
        except Exception:  # a proxy raising from __getattr__: not a function holder
            return None
        if isinstance(held, types.FunctionType):
            return held
    return None


def _function_unguarded(obj: object, w: Walk) -> str | None:
    if isinstance(obj, types.MethodType):
        # The bound instance is data, not behaviour.
        return function(obj.__func__, w)
    if isinstance(obj, (staticmethod, classmethod)):
        tag = b"staticmethod" if isinstance(obj, staticmethod) else b"classmethod"
        inner = function(obj.__func__, w)
        return None if inner is None else digest(tag, opt(inner))
    if isinstance(obj, property):
        slots = [function(f, w) if f is not None else None for f in (obj.fget, obj.fset, obj.fdel)]
        if all(s is None for s in slots):
            return None
        return digest(b"property", *(opt(s) for s in slots))
    if isinstance(obj, functools.cached_property):
        inner = function(obj.func, w)
        return None if inner is None else digest(b"cached_property", opt(inner))
    if isinstance(obj, (functools.partial, functools.partialmethod)):
        tag = b"partial" if isinstance(obj, functools.partial) else b"partialmethod"
        try:
            args = enc(tuple(obj.args), w)
        except Fail as exc:
            exc.segments.append(".args")
            raise
        try:
            keywords = enc(dict(obj.keywords), w)
        except Fail as exc:
            exc.segments.append(".keywords")
            raise
        return digest(tag, opt(function(obj.func, w)), args, keywords)
    held = held_function(obj)
    if held is not None:
        # A descriptor written in C around a Python function (pandas's ``cache_readonly``,
        # Cython properties): the function's code, tagged with the descriptor's type.
        inner = function(held, w)
        return (
            None
            if inner is None
            else digest(b"descriptor", text(b"", type_name(type(obj))), opt(inner))
        )
    if isinstance(obj, type):
        return w.kernel.klass(obj, w, w.scope or default_scope(obj))
    if isinstance(obj, types.BuiltinFunctionType):
        owner = obj.__self__
        module = obj.__module__
        if not module and owner is not None and not isinstance(owner, types.ModuleType):
            module = getattr(type(owner), "__module__", "")
        head = text(b"", module or "") + text(b"", obj.__qualname__)
        if owner is None or isinstance(owner, types.ModuleType):
            return digest(b"builtin", head)
        try:
            return digest(b"builtin", head, enc(owner, w))
        except Fail as exc:
            exc.segments.append(".__self__")
            raise
    if isinstance(
        obj,
        (types.MethodDescriptorType, types.WrapperDescriptorType, types.ClassMethodDescriptorType),
    ):
        owner_type: type = obj.__objclass__
        return digest(b"builtin", text(b"", owner_type.__module__), text(b"", obj.__qualname__))
    if isinstance(obj, types.MethodWrapperType):
        bound = obj.__self__
        head = text(b"", type(bound).__module__) + text(b"", obj.__qualname__)
        try:
            return digest(b"builtin", head, enc(bound, w))
        except Fail as exc:
            exc.segments.append(".__self__")
            raise
    if isinstance(obj, functools.singledispatchmethod):
        return function(obj.dispatcher, w)
    if _is_singledispatch(obj):
        return _singledispatch(obj, w)
    if _is_argmap(obj):
        return _argmap(obj, w)
    if isinstance(obj, types.FunctionType) or wrapped_of(obj) is not None:
        if current_source_book() is not None and generated_method(obj) is not None:
            # Nothing of its own: which methods a generator writes differs between minors
            # (3.13's __replace__), and its class's token covers what it writes them from.
            return None
        return _wrapped_chain(obj, w)
    if callable(obj):
        # A callable instance behaves like its class; a named C-level callable (a ufunc...)
        # adds its own name.
        tok = w.kernel.klass(type(obj), w, w.scope or default_scope(type(obj)))
        name = getattr(obj, "__name__", None)
        extra = text(b"", name) if isinstance(name, str) else b""
        if tok is None:
            # A class outside the scope (a ufunc, operator.itemgetter): known by type and name.
            return digest(b"instance", text(b"t", type_name(type(obj))), extra)
        return tok if not extra else digest(b"instance", opt(tok), extra)
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


def _singledispatch(obj: object, w: Walk) -> str | None:
    """The default implementation and every registered one, by the type it is registered
    for; not the wrapper's dispatch cache (weak references, filled by calls)."""
    own = obj.__dict__
    parts = [opt(function(own["__wrapped__"], w))]
    registry = own["registry"]
    entries = sorted(
        (
            (type_name(tp) if isinstance(tp, type) else repr(tp), impl)
            for tp, impl in registry.items()
        ),
        key=lambda item: item[0],
    )
    parts.append(b"%d:" % len(entries))
    for name, impl in entries:
        parts.append(text(b"", name))
        parts.append(b"=" if impl is own["__wrapped__"] else opt(function(impl, w)))
    return digest(b"singledispatch", *parts)


def _is_argmap(obj: object) -> bool:
    """A function decorated by networkx's ``argmap``: a stub that, on its first call, compiles
    the real wrapper from generated source and replaces its own ``__code__`` (and adds to its
    ``__dict__`` and globals), with names numbered by a process-wide counter."""
    own = getattr(obj, "__dict__", None)
    return (
        isinstance(obj, types.FunctionType)
        and isinstance(own, dict)
        and "__argmap__" in own
        and "__wrapped__" in own
        and own.get("__self__") is obj
    )


def _argmap(obj: object, w: Walk) -> str | None:
    """The decorator object (its class's code and what it maps arguments with) and the wrapped
    function: what the generated wrapper is compiled from. Not the function's current code,
    which is the stub until the first call and generated code after it, so the token would
    depend on whether the process had called the function."""
    own = obj.__dict__
    try:
        decorator = enc(own["__argmap__"], w)
    except Fail as exc:
        exc.segments.append(".__argmap__")
        raise
    return digest(b"argmap", decorator, opt(function(own["__wrapped__"], w)))


def _wrapped_chain(obj: object, w: Walk) -> str | None:
    """Every layer of a ``__wrapped__`` chain (wrappers' code counts), innermost last."""
    layers = []
    seen = {id(obj)}
    current: object = obj
    while True:
        if current is not obj and _is_argmap(current):
            # An argmap wrapper inside the chain: its own rule (its code is process history).
            layers.append(b"I" + opt(function(current, w)))
            break
        if isinstance(current, types.FunctionType):
            layers.append(b"L" + _function_layer(current, w))
        elif current is obj:
            layers.append(_foreign_wrapper_layer(current, w))
        else:
            layers.append(b"I" + opt(function(current, w)))
            break
        nxt = wrapped_of(current)
        if nxt is None or id(nxt) in seen:
            break
        seen.add(id(nxt))
        current = nxt
    return digest(b"function", b"%d:" % len(layers), *layers)
