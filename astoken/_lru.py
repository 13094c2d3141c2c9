"""One bounded memo for the whole package: :class:`Lru`, a thread-safe map that forgets its
least recently used entries (module summaries, source tables, modules verified against their
source). Every user holds values that are pure functions of their key, or facts it checks
again when they are gone, so forgetting costs time, never a different answer."""

from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Generic, TypeVar

__all__ = ["Lru"]

_K = TypeVar("_K")
_V = TypeVar("_V")


class Lru(Generic[_K, _V]):
    """A bounded, thread-safe map that forgets its least recently used entries first: reading
    an entry (:meth:`get`) or writing it (:meth:`put`) makes it the most recently used."""

    def __init__(self, size: int) -> None:
        self._size = size
        self._data: OrderedDict[_K, _V] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: _K) -> _V | None:
        """The value of ``key``, or None when it is not (or no longer) held."""
        with self._lock:
            value = self._data.get(key)
            if value is not None:
                self._data.move_to_end(key)
            return value

    def put(self, key: _K, value: _V) -> None:
        """Hold ``value`` under ``key``, forgetting the least recently used beyond the size."""
        with self._lock:
            self._data[key] = value
            self._data.move_to_end(key)
            while len(self._data) > self._size:
                self._data.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._data.clear()

    def __len__(self) -> int:
        return len(self._data)
