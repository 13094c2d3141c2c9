"""Dask keys that follow behavior: ``astoken.dask.register()``.

``dask.base.tokenize`` names a module-level function by its module and name (a pickle by
reference), so ``delayed(f, pure=True)(3).key``, ``map_blocks``/``map_partitions`` names and
anything persisted or cached under them stay the same when a helper ``f`` calls is edited.
While registered, dask's ``normalize_token`` hands first-party callables to astoken:

1. the normalised form of a first-party Python function is its module, qualified name and
   behavior token (:func:`astoken.behavior_token`, with the ``[tool.astoken]`` options of its
   project): an edit of the function or of any first-party helper, constant or default it
   reaches changes the key, an edit of a comment, docstring or formatting does not;
2. a bound method of a first-party function, and a ``functools.partial`` of one, keep dask's
   own form (which covers the instance and the bound arguments) and add the behavior token
   of the function they call;
3. third-party, standard-library and builtin callables (and every other value) are
   normalised by dask exactly as before, so their keys do not change;
4. when the token cannot be computed (a target that cannot be resolved, a closure value with no
   deterministic encoding, strict mode and an unresolved reference), dask's own normalisation
   is used and one :class:`~astoken.errors.TokenUnavailableWarning` per callable and process
   gives astoken's reason: graph construction never fails because of astoken;
5. :func:`register` is idempotent and :func:`unregister` restores dask's dispatch table as it
   was (entries dask had cached included), so tokens are dask's own again.

First-party is astoken's scope rule (``astoken._scope``): a module in the standard library or
installed in site-packages is not first-party; a project on ``sys.path``, an editable install
and ``__main__`` are. A project's ``[tool.astoken]`` ``include``/``exclude`` patterns apply.

A token is computed once per function and process (astoken's in-process memo), so a warm
registered ``tokenize`` costs a few dictionary look-ups more than dask's own
(``benchmarks/bench_dask.py``). Workers that build graphs or tokenize themselves must register
too: :func:`register_workers` does it on a ``distributed`` cluster, present and future workers.

``import astoken`` never imports this module, and this module imports dask only when
:func:`register` is called.
"""

from __future__ import annotations

import functools
import threading
import types
import warnings
import weakref
from collections.abc import Callable
from typing import Any

from . import _api
from ._scope import Origin, Scope
from .errors import TokenUnavailableWarning

__all__ = ["is_registered", "register", "register_workers", "unregister"]

#: Marks the normalised form of a first-party callable, so it never equals a form dask makes.
_TAG = "astoken.dask"

_lock = threading.RLock()
#: While registered: the dispatch table's entries for the types we replaced, as they were
#: (``_ABSENT`` when the type had no entry of its own), to be put back by ``unregister``.
_saved: dict[type, Any] = {}
_ABSENT = object()

#: Module name -> (first-party?, the keyword options of its project's ``[tool.astoken]``).
_modules: dict[str, tuple[bool, dict[str, Any]]] = {}
#: Functions whose token could not be computed -> the reason (warned once, not retried).
_failed: weakref.WeakKeyDictionary[Callable[..., Any], str] = weakref.WeakKeyDictionary()


def _normalize_token() -> Any:
    """dask's ``normalize_token`` dispatcher (dask is imported here, never at import)."""
    from dask.base import normalize_token  # noqa: PLC0415 - import astoken must not load dask

    return normalize_token


def is_registered() -> bool:
    """Whether dask's ``tokenize`` currently includes behavior tokens in this process."""
    with _lock:
        return bool(_saved)


def register() -> None:
    """Make ``dask.base.tokenize`` of first-party functions, bound methods and partials include
    their behavior token (see the module docstring). Calling it again changes nothing."""
    with _lock:
        if _saved:
            return
        dispatcher = _normalize_token()
        table: dict[type, Any] = dispatcher._lookup  # dask's one dispatch table
        handlers: dict[type, Callable[[Any], Any]] = {}
        replaced: tuple[tuple[type, Callable[[Any], Callable[[Any], Any]]], ...] = (
            (types.FunctionType, _function_handler),
            (types.MethodType, _method_handler),
            (functools.partial, _partial_handler),
        )
        for kind, make in replaced:
            # What dask would do for this type now (its own entry, or the one its MRO finds).
            handlers[kind] = make(dispatcher.dispatch(kind))
        for kind, handler in handlers.items():
            _saved[kind] = table.get(kind, _ABSENT)
            table[kind] = handler


def unregister() -> None:
    """Give dask back its own normalisation of callables (a no-op when not registered)."""
    with _lock:
        if not _saved:
            return
        table: dict[type, Any] = _normalize_token()._lookup
        ours = {id(table.get(kind)) for kind in _saved}
        # dask caches the handler it found for a subclass (a partial subclass) under that
        # subclass: those entries point at our handlers and go too.
        for kind in [k for k, v in table.items() if id(v) in ours and k not in _saved]:
            del table[kind]
        for kind, previous in _saved.items():
            if previous is _ABSENT:
                table.pop(kind, None)
            else:
                table[kind] = previous
        _saved.clear()


def register_workers(client: Any) -> None:
    """Register on every worker of a ``distributed.Client``'s cluster, present and future
    (a worker plugin), and in this process."""
    from ._dask_plugin import RegisterPlugin  # noqa: PLC0415 - needs distributed

    register()
    client.register_plugin(RegisterPlugin(register, unregister))


# ---- normalisation ----------------------------------------------------------------------


def _function_handler(dask_own: Callable[[Any], Any]) -> Callable[[Any], Any]:
    def normalize_function(func: types.FunctionType) -> object:
        token = _token(func)
        if token is None:
            return dask_own(func)
        return (_TAG, func.__module__, func.__qualname__, token)

    return normalize_function


def _method_handler(dask_own: Callable[[Any], Any]) -> Callable[[Any], Any]:
    def normalize_method(method: types.MethodType) -> object:
        func = method.__func__
        token = _token(func) if isinstance(func, types.FunctionType) else None
        own = dask_own(method)
        return own if token is None else (_TAG, own, token)

    return normalize_method


def _partial_handler(dask_own: Callable[[Any], Any]) -> Callable[[Any], Any]:
    def normalize_partial(partial: functools.partial[Any]) -> object:
        func: object = partial
        while isinstance(func, functools.partial):
            func = func.func
        if isinstance(func, types.MethodType):
            func = func.__func__
        token = _token(func) if isinstance(func, types.FunctionType) else None
        # dask's own form of a partial covers the bound arguments (and, on dask >= 2024.2,
        # the function through this dispatcher again); the token is added for older dask,
        # which pickled the function by reference.
        own = dask_own(partial)
        return own if token is None else (_TAG, own, token)

    return normalize_partial


def _module_facts(func: types.FunctionType, module: str) -> tuple[bool, dict[str, Any]]:
    """Whether ``module`` is first-party, and its project's options (read once per module)."""
    facts = _modules.get(module)
    if facts is None:
        options = _api.project_options(func)
        scope = Scope(
            include=tuple(options.get("include") or ()),
            exclude=tuple(options.get("exclude") or ()),
        )
        facts = (scope.classify(module) is Origin.FIRST_PARTY, options)
        _modules[module] = facts
    return facts


def _token(func: types.FunctionType) -> str | None:
    """``func``'s behavior token, or None for a callable dask keeps normalising itself (not
    first-party, or no token: reported once)."""
    module: object = getattr(func, "__module__", None)  # None for some generated functions
    if not isinstance(module, str):
        return None
    try:
        first_party, options = _module_facts(func, module)
    except Exception as exc:  # a broken pyproject.toml must not break a graph
        _warn_once(func, _reason(exc))
        return None
    if not first_party or func in _failed:
        return None
    try:
        return _api.behavior_token(func, **options)
    except Exception as exc:  # point 4: dask's own key, never a failed graph
        _warn_once(func, _reason(exc))
        return None


def _reason(exc: Exception) -> str:
    return f"{type(exc).__name__}: {exc}"


def _warn_once(func: Callable[..., Any], reason: str) -> None:
    try:
        first = func not in _failed
        _failed[func] = reason
    except TypeError:  # not weakly referenceable: warn every time rather than never
        first = True
    if first:
        name = f"{getattr(func, '__module__', '?')}:{getattr(func, '__qualname__', func)!s}"
        warnings.warn(
            TokenUnavailableWarning(name, reason, "dask's own tokenize is used"),
            stacklevel=2,
        )
