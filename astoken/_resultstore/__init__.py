"""Where ``@astoken.cache`` keeps results: checked entries (:mod:`._envelope`) in the local
diskcache store or at any fsspec URL (:mod:`._fsspec`), and the store-wide ``astoken cache``
commands (:mod:`._admin`).

Entries are pickles, and loading a pickle runs code: a store that others can write is only as
trustworthy as they are. With a secret (``secret=`` or ``ASTOKEN_CACHE_SECRET``) every entry is
signed (HMAC-SHA256) and an entry without a valid signature is a miss.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ._admin import StoreClearing, StoreInfo, clear_store, store_info
from ._common import MISS, EntryCodec, FaultPolicy, describe, import_extra, report_once
from ._fsspec import RETRY_SECONDS, FsspecLocation, SharedStore, protocol_of

__all__ = [
    "MISS",
    "RETRY_SECONDS",
    "SECRET_ENV",
    "STORE_ENV",
    "EntryCodec",
    "FaultPolicy",
    "FsspecLocation",
    "SharedStore",
    "StoreClearing",
    "StoreInfo",
    "StoreSettings",
    "clear_store",
    "describe",
    "import_extra",
    "protocol_of",
    "report_once",
    "store_info",
]

#: The environment variable naming the store of every ``@astoken.cache`` without ``store=``
#: or ``directory=`` (over ``cache-store`` in ``[tool.astoken]``).
STORE_ENV = "ASTOKEN_CACHE_STORE"
#: The environment variable holding the secret entries are signed with (without ``secret=``).
SECRET_ENV = "ASTOKEN_CACHE_SECRET"

_ON_STORE_ERROR = ("warn", "raise")


@dataclass(frozen=True, slots=True)
class StoreSettings:
    """Where a cached function keeps its results and how: ``url`` None is the local diskcache
    store (in ``directory`` or astoken's cache directory)."""

    url: str | None = None
    storage_options: Mapping[str, Any] = field(default_factory=dict)
    secret: bytes | None = field(default=None, repr=False)
    raise_errors: bool = False
    #: Whether ``secret`` was read from ``$ASTOKEN_CACHE_SECRET`` (not given as ``secret=``).
    secret_from_env: bool = False

    def __reduce__(self) -> tuple[Any, ...]:
        """A secret read from the environment does not travel in a pickle (a cached function
        sent to a worker by its parts): the worker reads its own ``$ASTOKEN_CACHE_SECRET``,
        as the fleet's processes do. A secret given as ``secret=`` is carried, as the code that
        gave it is."""
        if self.secret_from_env:
            return (_settings_in_worker, (self.url, dict(self.storage_options), self.raise_errors))
        return (
            StoreSettings,
            (self.url, dict(self.storage_options), self.secret, self.raise_errors, False),
        )

    @classmethod
    def resolve(
        cls,
        *,
        store: str | None,
        directory_given: bool,
        configured: str | None,
        storage_options: Mapping[str, Any] | None,
        secret: str | bytes | None,
        on_store_error: str,
    ) -> StoreSettings:
        """The settings of one ``@astoken.cache``: ``store=`` wins, then ``directory=`` (the
        local store), then ``$ASTOKEN_CACHE_STORE``, then ``cache-store`` of the project."""
        if store is not None and directory_given:
            raise TypeError("give store= (a URL) or directory= (a local directory), not both")
        if on_store_error not in _ON_STORE_ERROR:
            raise ValueError(f"on_store_error must be 'warn' or 'raise', not {on_store_error!r}")
        if store is not None and not (isinstance(store, str) and store):
            raise TypeError("store must be a non-empty URL string")
        url = store
        if url is None and not directory_given:
            url = os.environ.get(STORE_ENV) or configured or None
        from_env = secret is None
        if secret is None:
            secret = os.environ.get(SECRET_ENV) or None
        key = secret.encode("utf-8") if isinstance(secret, str) else secret
        return cls(
            url=url,
            storage_options=dict(storage_options or {}),
            secret=key or None,
            raise_errors=on_store_error == "raise",
            secret_from_env=from_env and bool(key),
        )


def _settings_in_worker(
    url: str | None, storage_options: Mapping[str, Any], raise_errors: bool
) -> StoreSettings:
    """Settings unpickled in another process: the secret is that process's
    ``$ASTOKEN_CACHE_SECRET`` (see :meth:`StoreSettings.__reduce__`)."""
    secret = os.environ.get(SECRET_ENV) or None
    return StoreSettings(
        url=url,
        storage_options=dict(storage_options),
        secret=secret.encode("utf-8") if secret else None,
        raise_errors=raise_errors,
        secret_from_env=secret is not None,
    )
