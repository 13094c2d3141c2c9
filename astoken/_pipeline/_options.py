"""What every call is given: the token options (checked once, here), the caches they select,
and the progress callback of the long queries."""

from __future__ import annotations

import enum
import os
import threading
from collections.abc import Callable
from typing import Any

from astoken import _store
from astoken._model import TOKEN_OPTIONS, OptionKind, Options, OptionSpec
from astoken.errors import OptionError

__all__ = [
    "DEFAULT_OPTIONS",
    "Progress",
    "Stage",
    "cache_dir",
    "code_book_for",
    "make_options",
    "report",
    "store_for",
]

#: A progress callback of the long queries: ``(stage, done, total)``, total 0 while unknown;
#: ``stage`` is the value of a :class:`Stage`.
Progress = Callable[[str, int, int], None]


class Stage(enum.Enum):
    """The stages a :data:`Progress` callback is told about (by their values, the strings the
    API reference documents)."""

    READING = "reading modules"  #: after each module read (total 0: not known in advance)
    HASHING = "hashing"  #: after each definition hashed
    TARGETS = "targets"  #: after each target of a shared graph (``behavior_tokens``...)
    SNAPSHOT = "snapshot"  #: after each target of a snapshot


def report(progress: Progress | None, stage: Stage, done: int, total: int) -> None:
    """Tell ``progress`` (when there is one) that ``done`` of ``total`` steps of ``stage`` are
    done."""
    if progress is not None:
        progress(stage.value, done, total)


#: The options of a call that gives none (the common call: no Options to build for a memo hit).
DEFAULT_OPTIONS = Options()


#: The token options' declarations by keyword.
_BY_NAME = {spec.name: spec for spec in TOKEN_OPTIONS}


def make_options(**given: Any) -> Options:
    """The options of a public call's keywords, each checked as its declaration's kind says
    (:data:`~astoken._model.TOKEN_OPTIONS`): TypeError for an unknown keyword or for one str
    where patterns go, OptionError for an empty path."""
    for name in sorted(given.keys() - _BY_NAME.keys()):
        known = ", ".join(_BY_NAME)
        raise TypeError(f"unexpected keyword argument {name!r} (token options: {known})")
    return Options(**{name: _checked(_BY_NAME[name], value) for name, value in given.items()})


def _checked(spec: OptionSpec, value: Any) -> Any:
    if spec.kind is OptionKind.PATTERNS:
        if isinstance(value, str):
            raise TypeError(f"{spec.name} must be a sequence of module patterns, not a str")
        return tuple(value)
    if spec.kind is OptionKind.PATH and value is not None:
        if not os.fspath(value):
            raise OptionError(f"{spec.name} is empty: give a directory, or None for the default")
        return os.fspath(value)
    return value


def cache_dir(options: Options) -> str | None:
    """The on-disk cache's directory for these options; None when the cache is off."""
    if not options.use_cache:
        return None
    return options.cache_dir or _store.default_cache_dir()


def store_for(options: Options) -> _store.SummaryStore:
    """The summary store of these options (disabled when the cache is off)."""
    return _store.SummaryStore(cache_dir(options))


# Cache directory -> its code-token book: one per process, so shards read once serve every
# later call; what a call computed is written when its token is done (see
# ``_session.closure_token``).
_CODE_BOOKS: dict[str, _store.CodeTokenBook] = {}
_CODE_BOOKS_LOCK = threading.Lock()


def code_book_for(options: Options) -> _store.CodeTokenBook | None:
    """The process's code-token book of these options' cache; None when the cache is off."""
    directory = cache_dir(options)
    if directory is None:
        return None
    with _CODE_BOOKS_LOCK:
        book = _CODE_BOOKS.get(directory)
        if book is None:
            book = _CODE_BOOKS[directory] = _store.CodeTokenBook(directory)
        return book
