"""What every call is given: the token options (checked once, here), the caches they select,
and the progress callback of the long queries."""

from __future__ import annotations

import enum
import os
import threading
from collections.abc import Callable, Sequence

from astoken import _store
from astoken._model import Options
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


def make_options(
    *,
    strict: bool = False,
    static: bool = False,
    include: Sequence[str] = (),
    exclude: Sequence[str] = (),
    external_versions: bool = True,
    cache_dir: str | os.PathLike[str] | None = None,
    use_cache: bool = True,
) -> Options:
    """The options of a public call's keywords, checked (TypeError, OptionError)."""
    for name, patterns in (("include", include), ("exclude", exclude)):
        if isinstance(patterns, str):
            raise TypeError(f"{name} must be a sequence of module patterns, not a str")
    if cache_dir is not None and not os.fspath(cache_dir):
        raise OptionError("cache_dir is empty: give a directory, or None for the default")
    return Options(
        strict=strict,
        static=static,
        include=tuple(include),
        exclude=tuple(exclude),
        external_versions=external_versions,
        cache_dir=os.fspath(cache_dir) if cache_dir is not None else None,
        use_cache=use_cache,
    )


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
