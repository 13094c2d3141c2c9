"""Module summaries for the graph step: the disk store and an in-process memo in front of the
parser, the loader the graph reads modules through, and the worker pool that warms the cache
(``--jobs``)."""

from __future__ import annotations

import functools
import os
from collections.abc import Callable, Sequence
from typing import Protocol

from astoken import _hashing, _runtime, _store
from astoken._lru import Lru
from astoken._model import FunctionSource, ModuleSource, ModuleSummary, Options
from astoken._scope import locate_module
from astoken._summary import _codec as summary_codec
from astoken.errors import AstokenError

from . import _steps
from ._memo import FileSignature, file_signature
from ._options import Progress, Stage, report, store_for
from ._sources import SourceTables, source_tables_for

__all__ = [
    "SUMMARIES",
    "ModuleFingerprint",
    "ModuleLoader",
    "SourceSink",
    "known_summary",
    "stored_summary",
    "summarize_modules",
]

_EMPTY_SUMMARY = ModuleSummary(definitions=(), imports=())

# Summary cache key (the file's bytes, the summarizer, libcst, Python) -> summary: the disk
# cache's key, so this memo can no more serve a summary of other content than the disk can.
# A file is read (not parsed) on every call; reading is cheap next to parsing.
SUMMARIES: Lru[str, ModuleSummary] = Lru(4096)


def _read_keyed(file: str) -> tuple[bytes, str]:
    """A source file's bytes and their summary key."""
    with open(file, "rb") as handle:
        data = handle.read()
    return data, _store.summary_key(data)


def _summarize_file(
    file: str, store: _store.SummaryStore, sources: SourceSink | None = None
) -> ModuleSummary:
    """``file``'s summary, and with ``sources`` (a portable analysis) its functions' digests,
    each from the memo, the disk cache or one parse."""
    data, key = _read_keyed(file)
    summary = _summary_of(file, data, key, store, sources)
    if sources is not None and sources.wanted(key):  # the summary was known, the digests not
        sources.put(
            key, _steps.summary.summarize_with_sources(data, filename=file, summary=False)[1]
        )
    return summary


def _summary_of(
    file: str,
    data: bytes,
    key: str,
    store: _store.SummaryStore,
    sources: SourceSink | None = None,
) -> ModuleSummary:
    """The summary of ``data`` (``file``'s bytes, whose key is ``key``): memo, disk, or parse.
    A portable analysis passes its ``sources``: a module parsed here gives them its functions'
    canonical source digests from the same parse."""
    summary = known_summary(key, store)
    if summary is None:
        if sources is not None and sources.wanted(key):
            found, entries = _steps.summary.summarize_with_sources(data, filename=file)
            assert found is not None  # asked for
            summary = found
            sources.put(key, entries)
        else:
            summary = _steps.summary.summarize_source(data, filename=file)
        store.put(key, summary_codec.summary_to_json(summary))
        SUMMARIES.put(key, summary)
    return summary


class SourceSink(Protocol):
    """Where a portable analysis keeps the function digests of the modules it parses
    (``_sources.SourceTables``)."""

    def wanted(self, summary_key: str) -> bool: ...

    def put(self, summary_key: str, entries: tuple[FunctionSource, ...] | None) -> None: ...


def known_summary(key: str, store: _store.SummaryStore) -> ModuleSummary | None:
    """The summary under ``key`` in the memo or the disk cache (kept in the memo), else None: a
    corrupt entry is a miss."""
    summary = SUMMARIES.get(key)
    if summary is not None:
        return summary
    text = store.get(key)
    if text is None:
        return None
    try:
        summary = summary_codec.summary_from_json(text)
    except ValueError:
        return None
    SUMMARIES.put(key, summary)
    return summary


def stored_summary(opts: Options) -> Callable[[str], ModuleSummary | None]:
    """``summary key -> summary`` from the memo or the disk cache only (never parsing: the
    source the key was made from may be gone)."""
    return functools.partial(known_summary, store=store_for(opts))


#: A module as the graph's provider found it: (file, package or not, summary key).
ModuleFingerprint = tuple["str | None", bool, "str | None"]


class ModuleLoader:
    """Module name -> ModuleSource for the graph step; records the files it read. Modules in
    ``skip`` (left out of a snapshot) are treated as not found. ``progress`` hears of each
    module read (how many modules a closure reaches is known only at the end). ``sources``, set
    by a portable analysis, keeps the function digests of the modules parsed on the way."""

    sources: SourceSink | None = None

    def __init__(
        self,
        store: _store.SummaryStore,
        skip: frozenset[str] = frozenset(),
        progress: Progress | None = None,
    ) -> None:
        self.store = store
        self.skip = skip
        self.progress = progress
        self.files: dict[str, FileSignature] = {}
        self.fingerprints: dict[str, ModuleFingerprint | None] = {}

    def __call__(self, name: str) -> ModuleSource | None:
        found, data = self._find(name)
        self.fingerprints[name] = found
        if found is None:
            return None
        file, is_package, key = found
        if file is None or data is None or key is None:
            # A namespace package: nothing defined, submodules only.
            return ModuleSource(name, None, True, _EMPTY_SUMMARY)
        summary = _summary_of(file, data, key, self.store, self.sources)
        report(self.progress, Stage.READING, len(self.files), 0)
        return ModuleSource(name, file, is_package, summary)

    def fingerprint(self, name: str) -> ModuleFingerprint | None:
        """What :meth:`__call__` finds for ``name`` without decoding a summary: (file, package
        or not, summary key), ``(None, True, None)`` for a namespace package, None when not
        found. What this loader served is answered as it was served."""
        if name in self.fingerprints:
            return self.fingerprints[name]
        return self._find(name)[0]

    def read_files(self) -> tuple[FileSignature, ...]:
        """The signatures of the files read, served or fingerprinted, each taken just after
        reading it, sorted by path (what the token memo checks)."""
        return tuple(sorted(self.files.values(), key=lambda s: s[0] if s else ""))

    def _find(self, name: str) -> tuple[ModuleFingerprint | None, bytes | None]:
        """``name``'s fingerprint (see :meth:`fingerprint`) and its source's bytes, if any."""
        if name in self.skip:
            return None, None
        location = locate_module(name)
        if location is None or location.file is None:
            namespace = location is not None and location.is_package
            return ((None, True, None) if namespace else None), None
        data, key = _read_keyed(location.file)
        self.files[location.file] = file_signature(location.file)
        return (location.file, location.is_package, key), data


def summarize_modules(
    modules: Sequence[str], options: Options, jobs: int
) -> dict[str, AstokenError]:
    """Summarise every module whose summary is neither in memory nor in the disk cache (in
    ``jobs`` processes when the disk cache can carry the results back); the modules whose
    source cannot be summarised, with the error. The outcome does not depend on ``jobs``:
    workers only warm the cache. Cached summaries are not decoded here: the graph's loader
    decodes those it reads (a warm snapshot whose build replays decodes none)."""
    files = {}
    for name in modules:
        location = locate_module(name)
        if location is not None and location.file is not None:
            files[name] = location.file
    store = store_for(options)
    # A portable snapshot also wants each module's function digests (one parse gives both).
    sources = source_tables_for(options)
    missing = {name: file for name, file in files.items() if not _has_summary(file, store, sources)}
    problems: dict[str, AstokenError] = {}
    if jobs > 1 and len(missing) > 1 and options.use_cache:
        cache_dir = options.cache_dir or _store.default_cache_dir()
        # Imported here: ``concurrent.futures.process`` costs ~14 ms, paid only with --jobs.
        from astoken._workers import process_pool  # noqa: PLC0415

        with process_pool(jobs) as pool:
            # Largest first, so that no large file is left for one worker at the end.
            names = sorted(missing, key=lambda n: -_file_size(missing[n]))
            # Submitted one by one, not through ``pool.map``: when a signal stops the command,
            # map's results cancel the futures from this thread while the pool's own thread
            # marks them failed, and CPython 3.11 prints that thread's InvalidStateError. The
            # pool cancels what has not started itself (``_workers``, guarantee 1).
            futures = [
                pool.submit(summarize_in_worker, files[n], cache_dir, options.portable)
                for n in names
            ]
            for name, future in zip(names, futures, strict=True):
                error = future.result()
                if error is not None:
                    problems[name] = error
                else:
                    missing.pop(name)
    for name, file in missing.items():
        if name not in problems:
            try:
                _summarize_file(file, store, sources)
            except AstokenError as exc:
                problems[name] = exc
    return problems


def _has_summary(file: str, store: _store.SummaryStore, sources: SourceSink | None = None) -> bool:
    """Whether ``file``'s summary (and with ``sources``, its digests) is in memory or in the
    disk cache (unreadable: False, so that summarising it reports why)."""
    try:
        key = _read_keyed(file)[1]
    except OSError:
        return False
    if sources is not None and sources.wanted(key):
        return False
    return SUMMARIES.get(key) is not None or store.has(key)


def _file_size(file: str) -> int:
    try:
        return os.stat(file).st_size
    except OSError:
        return 0


def summarize_in_worker(file: str, cache_dir: str, portable: bool = False) -> AstokenError | None:
    """A worker's job (``--jobs``): summarise ``file`` into the disk cache (``portable``: with
    its functions' digests) and answer ahead what the parent will ask of its code; the error
    that stops it, else None."""
    store = _store.SummaryStore(cache_dir)
    try:
        _summarize_file(
            file, store, SourceTables(store, allow_bytecode=False) if portable else None
        )
    except AstokenError as exc:
        return exc  # astoken's errors pickle with their attributes: re-raised as they were
    _prepare_code_checks(file, cache_dir)
    return None


def _prepare_code_checks(file: str, cache_dir: str) -> None:
    """Answer ahead, in a worker, what the parent asks of ``file``'s code once imported: the
    pyc verdict of the stale-code check and the code tokens of its functions (code book).
    Both are keyed by content, so what changes in between is a miss, never a wrong answer."""
    compiled = _runtime.precheck_source(file, _store.VerdictStore(cache_dir))
    if compiled is None:
        return
    book = _store.CodeTokenBook(cache_dir)
    with _hashing.code_book(book):
        for code in _runtime.function_codes(compiled):
            _hashing.code_token(code)
    book.flush()
