"""On-disk cache of module summaries, keyed by content (never by path or mtime).

Guarantees (tests cite them by number):

1. The key depends only on the source bytes, :data:`SUMMARY_VERSION`, the installed libcst
   version and the Python minor version (libcst's grammar choice can depend on it).
2. Writes are atomic: an entry is written to a temporary file in its own shard directory and
   moved into place with :func:`os.replace`, so concurrent processes sharing one cache only
   ever see a complete entry (last writer wins; both wrote the same text).
3. A missing, unreadable, truncated or corrupt entry, or one whose stored key differs from the
   key asked for, is a miss: :meth:`SummaryStore.get` returns None and never raises.
4. Failing to write (read-only directory, disk full) is silent: the cache is an optimisation
   only and deleting or corrupting it changes no token.

The store holds text only; the caller validates it (``summary_from_json`` raising ValueError
is a miss too).
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import importlib.metadata
import json
import os
import sys
import tempfile

import platformdirs

from ._model import SUMMARY_VERSION

__all__ = ["SummaryStore", "default_cache_dir", "summary_key"]

#: Environment variable that moves the cache (checked by :func:`default_cache_dir`).
CACHE_DIR_ENV = "ASTOKEN_CACHE_DIR"

# Version of the entry envelope itself (not of the summary inside it).
_ENVELOPE = "astoken-summary-1"


def default_cache_dir() -> str:
    """``$ASTOKEN_CACHE_DIR`` when set (and not empty), else the platform's user cache dir."""
    configured = os.environ.get(CACHE_DIR_ENV)
    if configured:
        return configured
    return platformdirs.user_cache_dir("astoken")


@functools.lru_cache(maxsize=1)
def _libcst_version() -> str:
    # Reading package metadata costs ~3 ms; it cannot change while the process runs.
    try:
        return importlib.metadata.version("libcst")
    except importlib.metadata.PackageNotFoundError:  # pragma: no cover - libcst is required
        return "unknown"


def summary_key(source: bytes) -> str:
    """The cache key of a module's source bytes (guarantee 1): a 64-hex SHA-256."""
    digest = hashlib.sha256()
    digest.update(source)
    # A separator that cannot be confused with the end of the source: the suffix is hashed
    # into a second, fixed-layout block.
    meta = (
        f"\0summary={SUMMARY_VERSION};libcst={_libcst_version()};"
        f"python={sys.version_info[0]}.{sys.version_info[1]}"
    )
    digest.update(hashlib.sha256(meta.encode()).digest())
    return digest.hexdigest()


class SummaryStore:
    """A directory of JSON summaries sharded by key prefix; ``None`` disables it."""

    __slots__ = ("_directory",)

    def __init__(self, directory: str | os.PathLike[str] | None) -> None:
        self._directory = None if directory is None else os.fspath(directory)

    @property
    def directory(self) -> str | None:
        """The cache directory, or None when the store is disabled."""
        return self._directory

    def _path(self, key: str) -> str | None:
        # Keys come from summary_key (hex); anything else could escape the directory.
        if self._directory is None or len(key) < 3 or not key.isalnum():
            return None
        return os.path.join(self._directory, key[:2], f"{key}.json")

    def get(self, key: str) -> str | None:
        """The text stored under ``key``, or None on any kind of miss (guarantee 3)."""
        path = self._path(key)
        if path is None:
            return None
        try:
            with open(path, encoding="utf-8") as handle:
                envelope = json.load(handle)
        except (OSError, ValueError):  # absent, unreadable, truncated, not UTF-8, not JSON
            return None
        if not isinstance(envelope, dict):
            return None
        text = envelope.get("summary")
        if (
            envelope.get("format") != _ENVELOPE
            or envelope.get("key") != key
            or not isinstance(text, str)
        ):
            return None
        return text

    def put(self, key: str, text: str) -> None:
        """Store ``text`` under ``key`` atomically; failures are swallowed (guarantees 2, 4)."""
        path = self._path(key)
        if path is None:
            return
        payload = json.dumps({"format": _ENVELOPE, "key": key, "summary": text})
        shard = os.path.dirname(path)
        tmp: str | None = None
        try:
            os.makedirs(shard, exist_ok=True)
            fd, tmp = tempfile.mkstemp(prefix=f".{key[:8]}-", suffix=".tmp", dir=shard)
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                handle.write(payload)
            os.replace(tmp, path)
            tmp = None
        except OSError:
            pass  # the cache is an optimisation only
        finally:
            if tmp is not None:
                with contextlib.suppress(OSError):
                    os.unlink(tmp)
