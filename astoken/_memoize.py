"""``@astoken.cache``: results on disk, keyed by behavior and arguments.

The key of a call is ``cache_token(data=[the arguments], behavior=[the function])``:

1. arguments are normalised through the function's signature first: defaults are applied,
   and an argument passed by position or by keyword is the same argument, so ``f(1)``,
   ``f(x=1)`` and ``f(1, threshold=0.5)`` (0.5 being the default) share one entry;
   ``*args`` are a tuple and ``**kwargs`` a mapping whose order does not matter;
2. arguments named in ``ignore`` are left out of the key (a logger, a progress flag);
3. the function's behavior token is part of the key, so editing the function, a helper it
   reaches (in any module), a constant or a default recomputes, while editing a comment or a
   docstring reuses the stored result; an argument that is an instance of a first-party class
   carries that class's behavior token too (see ``data_token``);
4. an argument with no deterministic encoding raises
   :class:`~astoken.errors.UnhashableValueError` naming the argument: never a key that
   silently ignores part of a call (use ``ignore=`` for such arguments).

Results are stored with diskcache (one ``diskcache.Cache`` per function, in a directory of its
own under the cache directory), chosen by measurement over ``joblib.Memory``'s store
(``benchmarks/bench_cache_store.py``, median of 5): a hit reads a float 4x, a dict of 1000
entries 13x and a 20 MB DataFrame 3x faster, small results are written 6-30x faster, and every
operation is an SQLite transaction, safe across threads and processes, with size limits and
eviction built in. joblib writes large results 1.3-2.5x faster and reads an 80 MB numpy array
2.7x faster (memory maps): :func:`astoken.joblib_cache` keeps joblib's store for that case.
"""

from __future__ import annotations

import functools
import inspect
import os
import threading
import weakref
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, Generic, ParamSpec, TypeVar, overload

from . import _api
from .errors import UnhashableValueError

__all__ = ["CacheInfo", "CachedFunction", "cache"]

P = ParamSpec("P")
R = TypeVar("R")

#: Where results go when no directory is given (under the platform's user cache directory).
_RESULTS = "results"
_MISS = object()


@dataclass(frozen=True, slots=True)
class CacheInfo:
    """What a cached function's store holds, and this process's hits and misses."""

    directory: str
    behavior_token: str | None
    entries: int
    current_entries: int
    size_bytes: int
    hits: int
    misses: int


class CachedFunction(Generic[P, R]):
    """A function whose results are stored on disk under :func:`cache`'s keys.

    Call it as the function; ``cache_key(*args, **kwargs)`` is the key a call would use,
    ``cache_info()`` what the store holds, ``cache_clear()`` empties it (``stale=True``: only
    the entries of other behavior tokens, i.e. of older versions of the code).
    """

    def __init__(
        self,
        func: Callable[P, R],
        directory: str | os.PathLike[str] | None,
        ignore: Iterable[str],
        options: dict[str, Any],
    ) -> None:
        self.__wrapped__ = func
        functools.update_wrapper(self, func)
        self._signature = inspect.signature(func)
        self._ignore = frozenset(ignore)
        unknown = self._ignore - set(self._signature.parameters)
        if unknown:
            raise TypeError(
                f"ignore= names no parameter of {func.__qualname__}: {', '.join(sorted(unknown))}"
            )
        self._options = options
        self._root = directory
        self._store: Any = None
        self._lock = threading.Lock()
        self._hits = 0
        self._misses = 0

    # ---- keys ----------------------------------------------------------------------------

    def _arguments(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> list[tuple[str, object]]:
        bound = self._signature.bind(*args, **kwargs)
        bound.apply_defaults()
        data: list[tuple[str, object]] = []
        for name, given in bound.arguments.items():
            if name in self._ignore:
                continue
            kind = self._signature.parameters[name].kind
            if kind is inspect.Parameter.VAR_POSITIONAL:
                data.append((name, tuple(given)))
            elif kind is inspect.Parameter.VAR_KEYWORD:
                data.append((name, dict(given)))
            else:
                data.append((name, given))
        return data

    def _behavior(self) -> str | None:
        return _api.behavior_token(self.__wrapped__, **self._options)

    def cache_key(self, *args: P.args, **kwargs: P.kwargs) -> str:
        """The key of ``self(*args, **kwargs)``: its arguments and the behavior token."""
        return self._key(args, kwargs, self._behavior())

    def _key(self, args: tuple[Any, ...], kwargs: dict[str, Any], behavior: str | None) -> str:
        tokens = []
        for name, value in self._arguments(args, kwargs):
            try:
                tokens.append(_api.data_token((name, value)))
            except UnhashableValueError as exc:
                raise UnhashableValueError(
                    owner=f"{self.__wrapped__.__qualname__}(): argument {name!r}",
                    value_type=exc.value_type,
                    path=exc.path.removeprefix("[1]"),
                ) from None
        return _api.cache_token(data=[tuple(tokens), behavior])

    # ---- store ---------------------------------------------------------------------------

    @property
    def directory(self) -> str:
        """The directory of this function's entries."""
        root = os.fspath(self._root) if self._root is not None else _default_root()
        func = self.__wrapped__
        name = f"{func.__module__}.{func.__qualname__}".replace("<", "_").replace(">", "_")
        return os.path.join(root, name)

    def _open(self) -> Any:
        with self._lock:
            if self._store is None:
                import diskcache  # noqa: PLC0415 - only a cached call needs the store

                self._store = diskcache.Cache(self.directory)
                # The store's SQLite connection closes with the function (a cached function
                # defined in a module that is dropped, or in a test, would leave it open).
                weakref.finalize(self, self._store.close)
            return self._store

    def __call__(self, *args: P.args, **kwargs: P.kwargs) -> R:
        return self._call(*args, **kwargs)

    def _call(self, *args: Any, **kwargs: Any) -> R:
        behavior = self._behavior()
        key = self._key(args, kwargs, behavior)
        store = self._open()
        found = store.get(key, default=_MISS, retry=True)
        if found is not _MISS:
            self._hits += 1
            return found  # type: ignore[no-any-return]
        self._misses += 1
        result = self.__wrapped__(*args, **kwargs)
        store.set(key, result, tag=behavior or "", retry=True)
        return result

    def __get__(self, instance: object, owner: type | None = None) -> Any:
        """On a class, a method: the instance is the first argument (and part of the key)."""
        if instance is None:
            return self
        return functools.partial(self._call, instance)

    def cache_info(self) -> CacheInfo:
        """Entries, entries of the current behavior token, bytes on disk, hits and misses."""
        store = self._open()
        behavior = self._behavior()
        entries = 0
        current = 0
        for key in list(store.iterkeys()):
            found = store.get(key, default=_MISS, tag=True, read=True, retry=True)
            if found is _MISS:
                continue  # removed meanwhile
            entries += 1
            value, tag = found
            if hasattr(value, "close"):
                value.close()  # a file handle: large values are files
            current += tag == (behavior or "")
        return CacheInfo(
            directory=self.directory,
            behavior_token=behavior,
            entries=entries,
            current_entries=current,
            size_bytes=int(store.volume()),
            hits=self._hits,
            misses=self._misses,
        )

    def cache_clear(self, *, stale: bool = False) -> int:
        """Remove the stored results (with ``stale``, only those of other behavior tokens);
        returns how many were removed."""
        store = self._open()
        if not stale:
            return int(store.clear(retry=True))
        behavior = self._behavior() or ""
        removed = 0
        for key in list(store.iterkeys()):
            found = store.get(key, default=_MISS, tag=True, read=True, retry=True)
            if found is _MISS:
                continue
            value, tag = found
            if hasattr(value, "close"):
                value.close()
            if tag != behavior:
                removed += bool(store.delete(key, retry=True))
        return removed


def _default_root() -> str:
    from ._store import default_cache_dir  # noqa: PLC0415 - the summary cache's location

    return os.path.join(os.path.dirname(default_cache_dir()), _RESULTS)


@overload
def cache(func: Callable[P, R], /) -> CachedFunction[P, R]: ...


@overload
def cache(
    *,
    directory: str | os.PathLike[str] | None = None,
    ignore: Iterable[str] = (),
    **options: Any,
) -> Callable[[Callable[P, R]], CachedFunction[P, R]]: ...


def cache(
    func: Callable[P, R] | None = None,
    /,
    *,
    directory: str | os.PathLike[str] | None = None,
    ignore: Iterable[str] = (),
    **options: Any,
) -> CachedFunction[P, R] | Callable[[Callable[P, R]], CachedFunction[P, R]]:
    """Store the results of a function on disk, keyed by its arguments and behavior token.

    ``@astoken.cache`` or ``@astoken.cache(directory=..., ignore=("verbose",))``. The other
    keyword options are those of :func:`astoken.behavior_token` (``include``, ``exclude``,
    ``strict``...), over the ``[tool.astoken]`` table of the function's project. See the module
    docstring for the rules of the key.
    """
    ignored = tuple(ignore)
    if isinstance(ignore, str):
        raise TypeError("ignore must be a sequence of parameter names, not a str")

    def decorate(target: Callable[P, R]) -> CachedFunction[P, R]:
        merged = _api.project_options(target, **options)
        return CachedFunction(target, directory, ignored, merged)

    return decorate(func) if func is not None else decorate
