"""Result stores at any fsspec URL (``file://``, ``memory://``, ``s3://``, ``gs://``,
``az://``...), beside the local diskcache store of ``@astoken.cache``.

Guarantees (cited by ``tests/test_result_store.py``):

1. An entry is the object ``<url>/<function>/<key>`` (the key is the call's 64-hex cache key)
   holding one envelope (:mod:`._envelope`), and it appears whole or not at all: on a local
   file system it is written to a temporary file in its directory and renamed into place; on
   any other file system it is written with one ``pipe_file`` of the finished bytes (one PUT
   on an object store, whose multipart uploads too become visible only when complete).
   Concurrent writers of one key each publish a complete entry; the last one stays.
2. Reading an entry that is absent, damaged, foreign or unsigned (with a secret) is a miss.
3. A store fault (an unreachable endpoint, a missing bucket, permission denied, a quota, a full
   disk: any exception from the file system but "no such object" on a read) never costs a
   result: the call computes and returns it, one :class:`~astoken.errors.CacheWarning` per
   process names the store, and the store is not asked again for :data:`RETRY_SECONDS` (an
   unreachable endpoint is not waited for on every call); with ``on_store_error="raise"`` the
   fault raises :class:`~astoken.errors.ResultStoreError` instead.
4. A URL whose protocol fsspec does not know is an :class:`~astoken.errors.OptionError`, and
   one whose file system needs a library that is not installed (s3fs, gcsfs, adlfs) a
   :class:`~astoken.errors.MissingExtraError` naming astoken's extra: configuration errors,
   raised before the function runs.
5. ``fsspec`` and the cloud clients are imported on first use, never by ``import astoken``.
"""

from __future__ import annotations

import os
import re
import stat
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from types import ModuleType
from typing import Any

from astoken._files import replace_atomic
from astoken.errors import MissingExtraError, OptionError

from ._common import MISS, EntryCodec, FaultPolicy, import_extra
from ._envelope import HEADER_PREFIX_BYTES, Rejected, read_meta

__all__ = ["RETRY_SECONDS", "FsspecLocation", "SharedStore", "StoredObject"]

#: After a fault, the store is left alone for this long (guarantee 3).
RETRY_SECONDS = 60.0
#: The name of an entry: its 64-hex cache key.
ENTRY_NAME = re.compile(r"[0-9a-f]{64}")
#: The name of a temporary file a local write leaves behind when it is killed half-way.
TEMP_NAME = re.compile(r"\.astoken-[0-9a-f]+\.tmp")
#: The extra that installs each protocol's file system (guarantee 4).
_EXTRAS = {
    "s3": ("s3fs", "s3"),
    "s3a": ("s3fs", "s3"),
    "gs": ("gcsfs", "gcs"),
    "gcs": ("gcsfs", "gcs"),
    "az": ("adlfs", "azure"),
    "abfs": ("adlfs", "azure"),
    "abfss": ("adlfs", "azure"),
    "adl": ("adlfs", "azure"),
}


def protocol_of(url: str) -> str:
    """The protocol of a store URL (``file`` for a plain path)."""
    scheme, separator, _ = url.partition("://")
    return scheme.lower() if separator else "file"


def _fsspec() -> ModuleType:
    """fsspec, imported only when a shared store is opened (guarantee 5)."""
    return import_extra("fsspec", "a shared result store", "cache")


@dataclass(frozen=True, slots=True)
class StoredObject:
    """One object of a store, as its listing describes it."""

    path: str
    size: int
    modified: float | None  # seconds since the epoch; None when the listing does not say


def _timestamp(info: Mapping[str, Any]) -> float | None:
    """When an object was last written, from what each file system's listing calls it."""
    for name in ("mtime", "LastModified", "last_modified", "updated", "mtime_ns", "created"):
        value = info.get(name)
        if value is None:
            continue
        if hasattr(value, "timestamp"):  # a datetime (s3fs, adlfs)
            return float(value.timestamp())
        if isinstance(value, (int, float)):
            return float(value) / (1e9 if name == "mtime_ns" else 1.0)
        if isinstance(value, str):  # gcsfs: an ISO 8601 time
            import datetime  # noqa: PLC0415 - gcsfs listings only

            try:
                return datetime.datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()
            except ValueError:
                continue
    return None


def _read_local(path: str, limit: int | None) -> bytes:
    """The bytes of a local entry (its first ``limit``), read with one allocation of the
    file's size (a hit on a large result is dominated by the copies). Not a regular file
    (a FIFO, a device): no bytes, which no entry is."""
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0)
    fd = os.open(path, flags)
    with os.fdopen(fd, "rb", buffering=0) as handle:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            return b""
        data = handle.read(limit) if limit is not None else handle.readall()
        return data or b""


class FsspecLocation:
    """A store URL's file system, opened on first use: bytes in and out, faults raised."""

    def __init__(self, url: str, storage_options: Mapping[str, Any] | None = None) -> None:
        self.url = url.rstrip("/") or url
        self.storage_options = dict(storage_options or {})
        self._opened: tuple[Any, str, bool] | None = None
        self._lock = threading.Lock()

    def open(self) -> tuple[Any, str, bool]:
        """(file system, root path, whether it is the local file system); raises the
        configuration errors of guarantee 4, and whatever the file system's constructor
        raises (a fault)."""
        with self._lock:
            if self._opened is None:
                fsspec = _fsspec()
                protocol = protocol_of(self.url)
                if protocol not in fsspec.available_protocols():
                    raise OptionError(
                        f"result store {self.url}: fsspec knows no protocol {protocol!r}"
                    )
                try:
                    fs, root = fsspec.core.url_to_fs(self.url, **self.storage_options)
                except ImportError as exc:
                    needed = _EXTRAS.get(protocol)
                    if needed is None:
                        raise OptionError(f"result store {self.url}: {exc}") from exc
                    module, extra = needed
                    raise MissingExtraError(f"the result store {self.url}", module, extra) from exc
                from fsspec.implementations.local import LocalFileSystem  # noqa: PLC0415

                self._opened = (fs, root.rstrip("/"), isinstance(fs, LocalFileSystem))
            return self._opened

    def read(self, path: str, head: bool = False) -> bytes | None:
        """The bytes of ``path`` (with ``head``: enough of them for the header), or None when
        there is no such object."""
        fs, _root, local = self.open()
        try:
            if local:
                return _read_local(path, HEADER_PREFIX_BYTES if head else None)
            if head:
                return bytes(fs.cat_file(path, start=0, end=HEADER_PREFIX_BYTES))
            return bytes(fs.cat_file(path))
        except FileNotFoundError:
            return None

    def write(self, path: str, data: bytes) -> None:
        """Publish ``data`` at ``path`` whole (guarantee 1)."""
        fs, _root, local = self.open()
        if local:
            directory = os.path.dirname(path)
            os.makedirs(directory, exist_ok=True)
            replace_atomic(path, data)
        else:
            fs.pipe_file(path, data)

    def walk(
        self, under: str, found: Callable[[int], None] | None = None
    ) -> Iterator[StoredObject]:
        """The objects below ``under`` (a path the root is prefixed to), entries and leftover
        temporary files only; ``found(n)`` is told how many so far."""
        fs, root, _local = self.open()
        top = f"{root}/{under}".rstrip("/") if under else root
        count = 0
        # Other processes write the store: a listing fsspec remembers would be out of date.
        fs.invalidate_cache(top)
        try:
            listing = fs.find(top, detail=True)
        except FileNotFoundError:
            return
        for path, info in sorted(listing.items()):
            name = path.rsplit("/", 1)[-1]
            if info.get("type", "file") != "file":
                continue
            if not (ENTRY_NAME.fullmatch(name) or TEMP_NAME.fullmatch(name)):
                continue
            count += 1
            if found is not None and count % 100 == 0:
                found(count)
            yield StoredObject(path, int(info.get("size") or 0), _timestamp(info))
        if found is not None:
            found(count)

    def remove(self, paths: list[str]) -> None:
        """Remove ``paths`` (one request per batch on object stores)."""
        if not paths:
            return
        fs, _root, local = self.open()
        if local:
            for path in paths:
                try:
                    os.remove(path)
                except FileNotFoundError:
                    continue  # removed meanwhile
            return
        fs.rm(paths)


class SharedStore:
    """One cached function's entries at a store URL: ``<url>/<name>/<key>`` (guarantees 1-3)."""

    def __init__(
        self,
        location: FsspecLocation,
        name: str,
        codec: EntryCodec,
        policy: FaultPolicy,
    ) -> None:
        self._location = location
        self._name = name
        self._codec = codec
        self._policy = policy
        self._resume_at = 0.0
        self.directory = f"{location.url}/{name}"

    def close(self) -> None:
        """Nothing to close: the file system's connections are fsspec's."""

    def _path(self, key: str) -> str:
        _fs, root, _local = self._location.open()
        return f"{root}/{self._name}/{key}"

    def _available(self) -> bool:
        return time.monotonic() >= self._resume_at

    def _fault(self, exc: BaseException) -> None:
        self._resume_at = time.monotonic() + RETRY_SECONDS
        self._policy.fault(exc)

    def _guarded(self, operation: Callable[[], Any], default: Any) -> Any:
        if not self._available():
            return default
        try:
            return operation()
        except (OptionError, MissingExtraError):
            raise  # configuration, not a fault (guarantee 4)
        except Exception as exc:  # any file system's fault (guarantee 3)
            self._fault(exc)
            return default

    def get(self, key: str) -> object:
        """The result stored under ``key``, or :data:`MISS`."""
        raw = self._guarded(lambda: self._location.read(self._path(key)), None)
        if raw is None:
            return MISS
        return self._codec.unpack(raw, key)

    def set(self, key: str, value: object, behavior: str) -> None:
        """Publish ``value`` under ``key``; a fault is reported and the value not kept."""
        if not self._available():
            return
        data = self._codec.pack(key, value, behavior)
        if data is not None:
            self._guarded(lambda: self._location.write(self._path(key), data), None)

    def count(self, behavior: str) -> tuple[int, int, int]:
        """(entries, entries of ``behavior``, bytes); zeros when the store cannot be used."""

        def tally() -> tuple[int, int, int]:
            entries = current = size = 0
            for item in self._location.walk(self._name):
                if not ENTRY_NAME.fullmatch(item.path.rsplit("/", 1)[-1]):
                    continue
                entries += 1
                size += item.size
                current += self._behavior_of(item.path) == behavior
            return entries, current, size

        found: tuple[int, int, int] = self._guarded(tally, (0, 0, 0))
        return found

    def _behavior_of(self, path: str) -> str | None:
        head = self._location.read(path, head=True)
        meta = read_meta(head) if head is not None else Rejected("gone")
        return None if isinstance(meta, Rejected) else meta.behavior

    def clear(self, keep_behavior: str | None) -> int:
        """Remove this function's entries (with ``keep_behavior``, only those of other behavior
        tokens); how many were removed."""

        def remove() -> int:
            doomed = [
                item.path
                for item in self._location.walk(self._name)
                if keep_behavior is None or self._behavior_of(item.path) != keep_behavior
            ]
            self._location.remove(doomed)
            return len(doomed)

        removed: int = self._guarded(remove, 0)
        return removed
