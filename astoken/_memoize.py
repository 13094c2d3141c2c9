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
   :class:`~astoken.errors.UnhashableValueError` (one nested too deeply to encode,
   :class:`~astoken.errors.ValueTooDeepError`) naming the function and the argument: never a
   key that silently ignores part of a call (use ``ignore=`` for such arguments).

The store never costs a result (:class:`_ResultStore`):

5. a store fault (a directory that cannot be made or written, a directory under a regular
   file, a full disk, a store busy beyond diskcache's timeout) makes the call a miss and its
   result not kept: the result is returned, and one :class:`~astoken.errors.CacheWarning` per
   process and directory names the directory;
6. a damaged store (its SQLite file overwritten or truncated: "file is not a database",
   "database disk image is malformed") is set aside as ``<directory>.damaged-<n>`` and a new,
   empty one started; an entry that cannot be read back (a damaged value file, a class that no
   longer unpickles) is a miss and is removed; a result that cannot be pickled is returned,
   not kept;
7. results are pickles, and reading a pickle runs code: a store directory, or its database,
   that is writable by group or others or owned by another user is not used
   (:class:`~astoken.errors.UntrustedCacheWarning`), and the directories astoken makes for it
   are ``0o700`` whatever the umask;
8. every entry is a checked envelope (:mod:`astoken._resultstore._envelope`: a SHA-256 over
   its metadata and pickle, an HMAC with a secret), in this store as in a shared one
   (``store=``, :mod:`astoken._resultstore._fsspec`), so a damaged value file is a miss
   whatever the result's type (diskcache keeps large ``bytes`` and ``str`` as raw files).

Results are stored with diskcache (one ``diskcache.Cache`` per function, in a directory of its
own under ``results/`` in astoken's cache directory, or under ``directory=``), chosen by
measurement over ``joblib.Memory``'s store (``benchmarks/bench_cache_store.py``, median of
5): a hit reads a float 4x, a dict of 1000 entries 13x and a 20 MB DataFrame 3x faster, small
results are written 6-30x faster, and every operation is an SQLite transaction, safe across
threads and processes, with size limits and eviction built in. joblib writes large results
1.3-2.5x faster and reads an 80 MB numpy array 2.7x faster (memory maps):
:func:`astoken.joblib_cache` keeps joblib's store for that case.
"""

from __future__ import annotations

import contextlib
import functools
import inspect
import os
import sys
import threading
import weakref
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from types import ModuleType
from typing import Any, Generic, ParamSpec, TypeVar, overload

from . import _api, _config, _store
from ._resultstore import (
    MISS,
    EntryCodec,
    FaultPolicy,
    FsspecLocation,
    SharedStore,
    StoreSettings,
    describe,
    import_extra,
    report_once,
)
from .errors import (
    UnhashableValueError,
    UntrustedCacheWarning,
    ValueTooDeepError,
)

__all__ = ["CacheInfo", "CachedFunction", "cache"]

P = ParamSpec("P")
R = TypeVar("R")
T = TypeVar("T")

#: Where results go when no directory is given: this subdirectory of astoken's cache directory.
_RESULTS = "results"
_MISS = MISS
#: SQLite's primary result codes for a file that is not a database or is malformed.
_SQLITE_CORRUPT = 11
_SQLITE_NOTADB = 26
#: diskcache's database file in a store's directory.
_DATABASE = "cache.db"


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
        settings: StoreSettings | None = None,
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
        self._settings = settings or StoreSettings()
        self._store: _ResultStore | SharedStore | None = None
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
            owner = f"{self.__wrapped__.__qualname__}(): argument {name!r}"
            try:
                tokens.append(_api.data_token((name, value), **self._mode))
            except UnhashableValueError as exc:
                raise UnhashableValueError(
                    owner=owner, value_type=exc.value_type, path=exc.path.removeprefix("[1]")
                ) from None
            except ValueTooDeepError:
                # The error names the (name, value) pair the key encodes; the user passed value.
                kind = type(value)
                raise ValueTooDeepError(
                    owner=owner, value_type=f"{kind.__module__}.{kind.__qualname__}"
                ) from None
        return _api.cache_token(data=[tuple(tokens), behavior])

    @property
    def _mode(self) -> dict[str, bool]:
        """The token mode arguments are encoded in: a portable function's key holds on every
        Python minor, so the functions and first-party classes in its arguments count by
        source too."""
        return {
            "portable": bool(self._options.get("portable")),
            "allow_bytecode": bool(self._options.get("allow_bytecode")),
        }

    # ---- store ---------------------------------------------------------------------------

    @property
    def _name(self) -> str:
        func = self.__wrapped__
        return f"{func.__module__}.{func.__qualname__}".replace("<", "_").replace(">", "_")

    @property
    def directory(self) -> str:
        """Where this function's entries are: a directory, or the URL of a shared store
        followed by ``/<module>.<qualified name>``."""
        url = self._settings.url
        if url is not None:
            return f"{url.rstrip('/') or url}/{self._name}"
        if self._root is not None:
            root = os.fspath(self._root)
        else:  # results/ in the cache directory the options name (or the default one)
            cache_dir = self._options.get("cache_dir") or _store.default_cache_dir()
            root = os.path.join(cache_dir, _RESULTS)
        return os.path.join(root, self._name)

    def _open(self) -> _ResultStore | SharedStore:
        with self._lock:
            if self._store is None:
                settings = self._settings
                where = self.directory
                policy = FaultPolicy(where, settings.raise_errors)
                mode = "portable" if self._options.get("portable") else "bytecode"
                codec = EntryCodec(where, mode, settings.secret)
                if settings.url is not None:
                    location = FsspecLocation(settings.url, settings.storage_options)
                    self._store = SharedStore(location, self._name, codec, policy)
                else:
                    self._store = _ResultStore(where, codec, policy)
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
        found = store.get(key)
        if found is not _MISS:
            self._hits += 1
            return found  # type: ignore[return-value]  # what the function returned for this key
        self._misses += 1
        result = self.__wrapped__(*args, **kwargs)
        store.set(key, result, behavior or "")
        return result

    def __reduce__(self) -> str | tuple[Any, ...]:
        """Pickled as a function is, by reference (module and qualified name), where it can be
        imported so: a task sent to a dask or multiprocessing worker runs the function that
        the worker's own import decorates, with its own store handle (a lock and an SQLite
        connection do not travel). Otherwise by its parts: the function and the options."""
        func = self.__wrapped__
        found: object = sys.modules.get(func.__module__)
        for part in func.__qualname__.split("."):
            found = getattr(found, part, None)
        if found is self:
            return func.__qualname__
        parts = (func, self._root, tuple(self._ignore), self._options, self._settings)
        return (CachedFunction, parts)

    def __get__(self, instance: object, owner: type | None = None) -> Any:
        """On a class, a method: the instance is the first argument (and part of the key)."""
        if instance is None:
            return self
        return functools.partial(self._call, instance)

    def cache_info(self) -> CacheInfo:
        """Entries, entries of the current behavior token, bytes stored, hits and misses (a
        store that cannot be used counts as empty)."""
        behavior = self._behavior() or ""
        entries, current, size = self._open().count(behavior)
        return CacheInfo(
            directory=self.directory,
            behavior_token=behavior or None,
            entries=entries,
            current_entries=current,
            size_bytes=size,
            hits=self._hits,
            misses=self._misses,
        )

    def cache_clear(self, *, stale: bool = False) -> int:
        """Remove the stored results (with ``stale``, only those of other behavior tokens);
        returns how many were removed."""
        return self._open().clear((self._behavior() or "") if stale else None)


def _entry_tag(cache: Any, key: object) -> object:
    """The tag of entry ``key``, ``_MISS`` when it was removed meanwhile, None when its value
    cannot be read back (it is an entry all the same, of no behavior token)."""
    try:
        found = cache.get(key, default=_MISS, tag=True, read=True, retry=True)
    except Exception:  # unpickling a damaged value raises anything
        return None
    if found is _MISS:
        return _MISS
    value, tag = found
    if hasattr(value, "close"):
        value.close()  # a file handle: large values are files
    return tag


def _diskcache() -> ModuleType:
    """The diskcache module (only a cached call needs the store), or an error that says which
    extra installs it."""
    return import_extra("diskcache", "astoken.cache", "cache")


def _faults(diskcache: ModuleType) -> tuple[type[Exception], ...]:
    """What a failing store raises: the file system's errors, SQLite's, diskcache's timeout."""
    import sqlite3  # noqa: PLC0415 - diskcache imported it already

    return (OSError, sqlite3.Error, diskcache.Timeout)


def _is_damage(exc: BaseException) -> bool:
    """Whether SQLite found the store's file not a database or malformed (not merely
    unwritable, locked or full)."""
    import sqlite3  # noqa: PLC0415 - diskcache imported it already

    if not isinstance(exc, sqlite3.DatabaseError):
        return False
    code = getattr(exc, "sqlite_errorcode", None)  # Python 3.11+
    if code is None:
        return type(exc) is sqlite3.DatabaseError  # what SQLITE_CORRUPT and _NOTADB raise
    return code & 0xFF in (_SQLITE_CORRUPT, _SQLITE_NOTADB)


class _ResultStore:
    """One function's diskcache store, opened on first use, whose faults cost a recomputation
    and never a result (guarantees 5-7 of this module). Values are the checked entries of
    ``codec`` (a damaged value file is a miss, whatever the result's type)."""

    def __init__(
        self, directory: str, codec: EntryCodec | None = None, policy: FaultPolicy | None = None
    ) -> None:
        self.directory = directory
        self._codec = codec or EntryCodec(directory)
        self._policy = policy or FaultPolicy(directory)
        self._cache: Any = None
        # The (device, inode) of the database file the open store reads: a damaged store is
        # set aside only while it is still the one in place (another process may have done it).
        self._identity: tuple[int, int] | None = None
        self._lock = threading.Lock()

    def close(self) -> None:
        """Close this thread's connection to the store (diskcache's connections are per
        thread)."""
        with self._lock:
            if self._cache is not None:
                with contextlib.suppress(Exception):
                    self._cache.close()

    # ---- the three operations ------------------------------------------------------------

    def get(self, key: str) -> object:
        """The result stored under ``key``, or ``_MISS`` (also on any fault)."""
        diskcache = _diskcache()
        faults = _faults(diskcache)
        for attempt in (0, 1):
            cache = self._connect(diskcache)
            if cache is None:
                return _MISS
            try:
                raw = cache.get(key, default=_MISS, retry=True)
            except faults as exc:
                if attempt == 0 and self._recover(cache, exc):
                    continue
                self._fault(exc)
                return _MISS
            except Exception:  # an entry of an older astoken that no longer unpickles
                raw = None
            if raw is _MISS:
                return _MISS
            found = self._codec.unpack(raw, key)
            if found is _MISS:  # damaged, foreign or unsigned: the new result replaces it
                with contextlib.suppress(*faults):
                    cache.delete(key, retry=True)
            return found
        return _MISS  # pragma: no cover - the loop returns

    def set(self, key: str, value: object, tag: str) -> None:
        """Keep ``value`` under ``key``; a fault or a value that cannot be pickled is reported
        and the value not kept."""
        diskcache = _diskcache()
        faults = _faults(diskcache)
        data = self._codec.pack(key, value, tag)
        if data is None:
            return
        for attempt in (0, 1):
            cache = self._connect(diskcache)
            if cache is None:
                return
            try:
                cache.set(key, data, tag=tag, retry=True)
            except faults as exc:
                if attempt == 0 and self._recover(cache, exc):
                    continue
                self._fault(exc)
            return

    def count(self, behavior: str) -> tuple[int, int, int]:
        """(entries, entries of ``behavior``, bytes); zeros when the store cannot be used."""

        def count(cache: Any) -> tuple[int, int, int]:
            tags = [_entry_tag(cache, key) for key in list(cache.iterkeys())]
            entries = [tag for tag in tags if tag is not _MISS]  # not removed meanwhile
            return len(entries), entries.count(behavior), int(cache.volume())

        return self.use(count, (0, 0, 0))

    def clear(self, keep_behavior: str | None) -> int:
        """Remove the entries (with ``keep_behavior``, only those of other behavior tokens);
        how many were removed."""
        if keep_behavior is None:
            return self.use(lambda cache: int(cache.clear(retry=True)), 0)

        def clear_stale(cache: Any) -> int:
            removed = 0
            for key in list(cache.iterkeys()):
                tag = _entry_tag(cache, key)
                if tag is not _MISS and tag != keep_behavior:
                    removed += bool(cache.delete(key, retry=True))
            return removed

        return self.use(clear_stale, 0)

    def use(self, operation: Callable[[Any], T], default: T) -> T:
        """``operation(store)``, or ``default`` when the store cannot be used."""
        diskcache = _diskcache()
        faults = _faults(diskcache)
        for attempt in (0, 1):
            cache = self._connect(diskcache)
            if cache is None:
                return default
            try:
                return operation(cache)
            except faults as exc:
                if attempt == 0 and self._recover(cache, exc):
                    continue
                self._fault(exc)
                return default
        return default  # pragma: no cover - the loop returns

    # ---- opening, faults and damage --------------------------------------------------------

    def _connect(self, diskcache: ModuleType) -> Any:
        """The open store, or None when it cannot be used now (reported)."""
        with self._lock:
            if self._cache is not None:
                return self._cache
            faults = _faults(diskcache)
            try:
                _store.make_private_dirs(self.directory)
            except OSError as exc:
                self._fault(exc)
                return None
            if not self._trusted():
                return None
            for attempt in (0, 1):
                identity = self._database_identity()
                try:
                    cache = _open_cache(diskcache, self.directory)
                except faults as exc:
                    if attempt == 0 and _is_damage(exc) and self._set_aside(identity, exc):
                        continue
                    self._fault(exc)
                    return None
                self._cache = cache
                self._identity = self._database_identity()
                return cache
            return None  # pragma: no cover - the loop returns

    def _trusted(self) -> bool:
        """Whether the store's directory and database are this user's alone (guarantee 7)."""
        for path in (self.directory, os.path.join(self.directory, _DATABASE)):
            try:
                status = os.stat(path)
            except OSError:
                continue  # no database yet: diskcache makes it in the directory just checked
            reason = _store.untrusted_reason(status)
            if reason is not None:
                report_once(
                    self.directory,
                    "untrusted",
                    f"{path} is {reason}: results stored there are not used, since reading "
                    "one runs code (pickle); make it yours and run 'chmod go-w' on it, or "
                    "delete it",
                    UntrustedCacheWarning,
                )
                return False
        return True

    def _database_identity(self) -> tuple[int, int] | None:
        try:
            status = os.stat(os.path.join(self.directory, _DATABASE))
        except OSError:
            return None
        return (status.st_dev, status.st_ino)

    def _recover(self, cache: Any, exc: BaseException) -> bool:
        """After ``exc`` from ``cache``: whether a fresh store may be tried (the damaged one was
        set aside, here or meanwhile by another thread or process)."""
        if not _is_damage(exc):
            return False
        with self._lock:
            if self._cache is cache:
                self._cache = None
                with contextlib.suppress(Exception):
                    cache.close()
                if self._database_identity() == self._identity:
                    return self._set_aside(self._identity, exc)
            return True  # replaced meanwhile: the next attempt opens what is there now

    def _set_aside(self, identity: tuple[int, int] | None, exc: BaseException) -> bool:
        """Rename the damaged store to ``<directory>.damaged-<n>`` (when its database is still
        ``identity``); whether a new one may be started."""
        if identity is not None and self._database_identity() != identity:
            return True  # set aside meanwhile by another process
        for n in range(1, 1000):
            aside = f"{self.directory}.damaged-{n}"
            if os.path.lexists(aside):
                continue
            try:
                os.rename(self.directory, aside)
            except FileNotFoundError:
                return True  # set aside meanwhile by another process
            except OSError as error:
                self._fault(error)
                return False
            report_once(
                self.directory,
                "damaged",
                f"the results store in {self.directory} is damaged ({describe(exc)}): set "
                f"aside as {aside} and a new, empty one started",
            )
            return True
        return False

    def _fault(self, exc: BaseException) -> None:
        self._policy.fault(exc)


def _open_cache(diskcache: ModuleType, directory: str) -> Any:
    """``diskcache.Cache(directory)``, its connection closed when opening fails half-way."""
    cache = diskcache.Cache.__new__(diskcache.Cache)
    try:
        cache.__init__(directory)
    except BaseException:
        with contextlib.suppress(Exception):
            cache.close()
        raise
    return cache


@overload
def cache(func: Callable[P, R], /) -> CachedFunction[P, R]: ...


@overload
def cache(
    *,
    directory: str | os.PathLike[str] | None = None,
    store: str | None = None,
    storage_options: Mapping[str, Any] | None = None,
    secret: str | bytes | None = None,
    on_store_error: str = "warn",
    ignore: Iterable[str] = (),
    **options: Any,
) -> Callable[[Callable[P, R]], CachedFunction[P, R]]: ...


def cache(
    func: Callable[P, R] | None = None,
    /,
    *,
    directory: str | os.PathLike[str] | None = None,
    store: str | None = None,
    storage_options: Mapping[str, Any] | None = None,
    secret: str | bytes | None = None,
    on_store_error: str = "warn",
    ignore: Iterable[str] = (),
    **options: Any,
) -> CachedFunction[P, R] | Callable[[Callable[P, R]], CachedFunction[P, R]]:
    """Store the results of a function, keyed by its arguments and behavior token.

    ``@astoken.cache`` or ``@astoken.cache(directory=..., ignore=("verbose",))``. Results go
    to a local diskcache store (in ``directory``, or under astoken's cache directory), or to
    the shared store at ``store``, an fsspec URL (``s3://bucket/prefix``, ``gs://...``,
    ``az://...``, ``file:///shared/dir``, ``memory://...``) opened with ``storage_options``;
    without ``store=`` or ``directory=``, ``$ASTOKEN_CACHE_STORE`` or ``cache-store`` in
    ``[tool.astoken]`` names it. With a ``secret`` (or ``$ASTOKEN_CACHE_SECRET``) entries are
    signed and unsigned ones are misses. A store fault warns once and the result is returned
    (``on_store_error="raise"``: :class:`~astoken.errors.ResultStoreError`). The other keyword
    options are those of :func:`astoken.behavior_token` (``include``, ``exclude``,
    ``strict``...), over the ``[tool.astoken]`` table of the function's project. See the module
    docstring for the rules of the key.
    """
    ignored = tuple(ignore)
    if isinstance(ignore, str):
        raise TypeError("ignore must be a sequence of parameter names, not a str")

    def decorate(target: Callable[P, R]) -> CachedFunction[P, R]:
        merged = _api.project_options(target, **options)
        configured = _config.find_config(_config.start_directory(target)).cache_store
        settings = StoreSettings.resolve(
            store=store,
            directory_given=directory is not None,
            configured=configured,
            storage_options=storage_options,
            secret=secret,
            on_store_error=on_store_error,
        )
        return CachedFunction(target, directory, ignored, merged, settings)

    return decorate(func) if func is not None else decorate
