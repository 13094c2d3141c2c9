"""``astoken cache info`` and ``astoken cache clear`` over a whole store URL.

Figures come from the store's listing (sizes and modification times), never from reading the
entries, so a store of a million objects costs one listing and no downloads. Only astoken's
objects count: entries (named by their 64-hex key) and the temporary files a killed write left
behind; anything else under the URL is neither counted nor removed. A store that cannot be
listed or cleared raises :class:`~astoken.errors.ResultStoreError`.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from astoken.errors import MissingExtraError, OptionError, ResultStoreError

from ._common import describe
from ._fsspec import ENTRY_NAME, FsspecLocation, StoredObject

__all__ = ["StoreClearing", "StoreInfo", "clear_store", "store_info"]

#: ``progress(stage, done, total)``: total 0 while it is not known.
Progress = Callable[[str, int, int], None]
#: Objects removed per request (S3's DeleteObjects takes at most 1000).
_REMOVE_BATCH = 1000
_DAY = 86400.0


@dataclass(frozen=True, slots=True)
class StoreInfo:
    """What a result store holds: its entries, their bytes and when the oldest and the newest
    were written (seconds since the epoch; None for an empty store, or a file system whose
    listing has no times)."""

    store: str
    entries: int
    size_bytes: int
    functions: int
    oldest: float | None
    newest: float | None


@dataclass(frozen=True, slots=True)
class StoreClearing:
    """What ``clear_store`` removed (entries and leftover temporary files) and kept."""

    store: str
    removed: int
    removed_bytes: int
    kept: int


def _listing(location: FsspecLocation, progress: Progress | None) -> list[StoredObject]:
    def found(count: int) -> None:
        if progress is not None:
            progress("listing store", count, 0)

    try:
        return list(location.walk("", found))
    except (OptionError, MissingExtraError):
        raise
    except Exception as exc:  # the file system's faults
        raise ResultStoreError(location.url, describe(exc)) from exc


def store_info(
    url: str,
    *,
    storage_options: Mapping[str, Any] | None = None,
    progress: Progress | None = None,
) -> StoreInfo:
    """Entries, bytes, functions and the oldest and newest entry of the store at ``url``."""
    location = FsspecLocation(url, storage_options)
    entries = [
        item
        for item in _listing(location, progress)
        if ENTRY_NAME.fullmatch(item.path.rsplit("/", 1)[-1])
    ]
    times = [item.modified for item in entries if item.modified is not None]
    functions = {item.path.rsplit("/", 2)[-2] for item in entries if item.path.count("/") >= 1}
    return StoreInfo(
        store=location.url,
        entries=len(entries),
        size_bytes=sum(item.size for item in entries),
        functions=len(functions),
        oldest=min(times) if times else None,
        newest=max(times) if times else None,
    )


def clear_store(
    url: str,
    *,
    older_than_days: float | None = None,
    storage_options: Mapping[str, Any] | None = None,
    progress: Progress | None = None,
    now: float | None = None,
) -> StoreClearing:
    """Remove astoken's objects from the store at ``url``: all of them, or (with
    ``older_than_days``) those last written more than that many days ago (an object whose
    listing has no time is kept)."""
    location = FsspecLocation(url, storage_options)
    listing = _listing(location, progress)
    if older_than_days is None:
        doomed = listing
    else:
        cutoff = (time.time() if now is None else now) - older_than_days * _DAY
        doomed = [item for item in listing if item.modified is not None and item.modified < cutoff]
    removed = 0
    for start in range(0, len(doomed), _REMOVE_BATCH):
        batch = doomed[start : start + _REMOVE_BATCH]
        try:
            location.remove([item.path for item in batch])
        except Exception as exc:  # the file system's faults
            raise ResultStoreError(location.url, describe(exc)) from exc
        removed += len(batch)
        if progress is not None:
            progress("removing", removed, len(doomed))
    kept = sum(1 for item in listing if ENTRY_NAME.fullmatch(item.path.rsplit("/", 1)[-1]))
    kept -= sum(1 for item in doomed if ENTRY_NAME.fullmatch(item.path.rsplit("/", 1)[-1]))
    return StoreClearing(
        store=location.url,
        removed=len(doomed),
        removed_bytes=sum(item.size for item in doomed),
        kept=kept,
    )
