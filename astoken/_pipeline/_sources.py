"""The source book of portable tokens: the canonical source digests of the functions of each
file, by code object (``astoken._hashing._source`` reads them through it).

A file's digests are a pure function of its bytes, so they are kept like summaries: in a
process-wide memo and in the on-disk summary store, keyed by the SHA-256 of the summary key of
the file's bytes (the summary pass, libcst and the Python minor that computed them). They are
computed with the summary when a portable analysis parses a module anyway (one parse), else by
parsing the file when a function of it is first hashed.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import threading
import tokenize
import types

from astoken import _store
from astoken._lru import Lru
from astoken._model import FunctionSource, Options
from astoken.errors import AstokenError

from . import _steps
from ._options import store_for

__all__ = ["SourceTables", "lone_digest", "source_tables_for", "sources_key"]

#: Functions of one file by (first line, name) -> their digests, in source order.
Table = dict[tuple[int, str], tuple[str, ...]]

#: Sources key -> the file's table (pure functions of the key, so never stale).
_TABLES: Lru[str, Table] = Lru(4096)


def sources_key(summary_key: str) -> str:
    """The store key of the digests of the file whose summary key is ``summary_key``."""
    return hashlib.sha256(b"astoken-function-sources\x00" + summary_key.encode()).hexdigest()


def _table(entries: tuple[FunctionSource, ...]) -> Table:
    table: dict[tuple[int, str], list[str]] = {}
    for entry in entries:
        table.setdefault((entry.line, entry.name), []).append(entry.digest)
    return {key: tuple(digests) for key, digests in table.items()}


def _encode(entries: tuple[FunctionSource, ...]) -> str:
    return json.dumps([[e.line, e.name, e.digest] for e in entries], separators=(",", ":"))


def _decode(text: str) -> tuple[FunctionSource, ...] | None:
    try:
        raw = json.loads(text)
        entries = tuple(
            FunctionSource(int(line), str(name), str(digest)) for line, name, digest in raw
        )
    except (ValueError, TypeError):
        return None
    if not all(len(e.digest) == 64 for e in entries):
        return None
    return entries


class SourceTables:
    """The :class:`~astoken._hashing._source.SourceBook` of one portable analysis."""

    def __init__(self, store: _store.SummaryStore, *, allow_bytecode: bool) -> None:
        self.store = store
        self._allow_bytecode = allow_bytecode
        self._by_file: dict[str, Table | None] = {}
        self._data: dict[str, tuple[bytes, str] | None] = {}
        self._dirty: set[str] = set()
        self._not_stored: set[str] = set()
        self._lock = threading.Lock()

    def _keyed(self, filename: str) -> tuple[bytes, str] | None:
        """A file's bytes and their summary key, read once per book."""
        with self._lock:
            if filename in self._data:
                return self._data[filename]
        data = _read(filename)
        found = None if data is None else (data, _store.summary_key(data))
        with self._lock:
            self._data[filename] = found
        return found

    @property
    def allow_bytecode(self) -> bool:
        return self._allow_bytecode

    def wanted(self, summary_key: str) -> bool:
        """Whether the digests of the file with this summary key are still to be computed."""
        key = sources_key(summary_key)
        return _TABLES.get(key) is None and not self.store.has(key)

    def put(self, summary_key: str, entries: tuple[FunctionSource, ...] | None) -> None:
        """Keep the digests computed for the file with this summary key."""
        if entries is None:
            return
        key = sources_key(summary_key)
        _TABLES.put(key, _table(entries))
        self.store.put(key, _encode(entries))

    def digests(self, code: types.CodeType) -> tuple[str, ...]:
        if not code.co_freevars and code.co_name != "<lambda>":
            # A function that reads no variable of an enclosing function (module-level
            # functions and methods, mostly): its own lines give the digest its whole file
            # gives it, so they are enough unless the file's digests are at hand already.
            found = self._known_table(code.co_filename)
            if found is None:
                digest = self._lone(code)
                if digest is not None:
                    return (digest,)
        table = self.table(code.co_filename)
        if table is None:
            return ()
        return table.get((code.co_firstlineno, code.co_name), ())

    def _known_table(self, filename: str) -> Table | None:
        """The file's digests if they were computed before (this book, the process memo or
        the disk cache), without parsing the file."""
        with self._lock:
            if filename in self._by_file:
                return self._by_file[filename]
            if filename in self._not_stored:
                return None
        keyed = self._keyed(filename)
        table = self._stored(keyed[1]) if keyed is not None else None
        with self._lock:
            if table is None:
                self._not_stored.add(filename)
            else:
                self._by_file[filename] = table
        return table

    def _stored(self, summary_key: str) -> Table | None:
        key = sources_key(summary_key)
        table = _TABLES.get(key)
        if table is not None:
            return table
        text = self.store.get(key)
        entries = _decode(text) if text is not None else None
        if entries is None:
            return None
        table = _table(entries)
        _TABLES.put(key, table)
        return table

    def _lone(self, code: types.CodeType) -> str | None:
        """The digest of one function that reads no enclosing function's variable, from its
        own lines (from its first decorator to the end of its block), kept by file content
        (one entry per file: ``"line:name" -> digest``, written by :meth:`flush`); None when
        they do not parse alone (the whole file is read then)."""
        keyed = self._keyed(code.co_filename)
        if keyed is None:
            return None
        data, summary_key = keyed
        key = _lone_key(summary_key)
        table = self._lone_table(key)
        entry = f"{code.co_firstlineno}:{code.co_name}"
        with self._lock:
            known = table.get(entry)
        if known is not None:
            return known
        digest = lone_digest(data, code)
        if digest is not None:
            with self._lock:
                table[entry] = digest
                self._dirty.add(key)
        return digest

    def _lone_table(self, key: str) -> dict[str, str]:
        table = _LONE.get(key)
        if table is not None:
            return table
        text = self.store.get(key)
        found: dict[str, str] = {}
        if text is not None:
            try:
                raw = json.loads(text)
            except ValueError:
                raw = None
            if isinstance(raw, dict):
                found = {k: v for k, v in raw.items() if isinstance(v, str) and len(v) == 64}
        _LONE.put(key, found)
        return found

    def flush(self) -> None:
        """Write the per-file tables of the functions hashed from their own lines."""
        with self._lock:
            dirty = [(key, dict(table)) for key in self._dirty if (table := _LONE.get(key))]
            self._dirty.clear()
        for key, table in dirty:
            self.store.put(key, json.dumps(table, sort_keys=True, separators=(",", ":")))

    def table(self, filename: str) -> Table | None:
        """The digests of the functions of ``filename`` (None: not a readable Python file)."""
        with self._lock:
            if filename in self._by_file:
                return self._by_file[filename]
        found = self._read(filename)
        with self._lock:
            self._by_file[filename] = found
        return found

    def _read(self, filename: str) -> Table | None:
        keyed = self._keyed(filename)
        if keyed is None:
            return None
        data, summary_key = keyed
        table = self._stored(summary_key)
        if table is not None:
            return table
        try:
            entries = _steps.summary.summarize_with_sources(data, filename=filename, summary=False)[
                1
            ]
        except AstokenError:  # a file that does not parse has no source to hash
            return None
        if entries is None:
            return None
        self.put(summary_key, entries)
        return _table(entries)


#: Lone-function table key -> ``{"line:name": digest}`` of a file's functions hashed from their
#: own lines.
_LONE: Lru[str, dict[str, str]] = Lru(4096)


def _lone_key(summary_key: str) -> str:
    return hashlib.sha256(b"astoken-lone-functions\x00" + summary_key.encode()).hexdigest()


def _read(filename: str) -> bytes | None:
    if not filename.endswith((".py", ".pyw")) or not os.path.isfile(filename):
        return None  # "<string>", "<stdin>", a generated name: no source
    try:
        with open(filename, "rb") as handle:
            return handle.read()
    except OSError:
        return None


def _last_line(code: types.CodeType) -> int:
    """The last line any instruction of ``code`` or of the code nested in it comes from."""
    last = code.co_firstlineno
    for _start, _end, line in code.co_lines():
        if line is not None and line > last:
            last = line
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            last = max(last, _last_line(const))
    return last


def _block(data: bytes, code: types.CodeType) -> str | None:
    """A function's own lines: from its first line (its first decorator) to the end of its
    block, that is past its last line of code over blank lines, comments and lines indented
    deeper than its first line. A cut inside a string or brackets does not parse, and then the
    whole file is read: never a digest of part of a function."""
    try:
        encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
        lines = data.decode(encoding).splitlines(keepends=True)
    except (SyntaxError, UnicodeDecodeError, LookupError):
        return None
    first = code.co_firstlineno - 1
    if not 0 <= first < len(lines):
        return None
    head = lines[first]
    indent = len(head) - len(head.lstrip(" \t"))
    end = min(_last_line(code), len(lines))
    while end < len(lines):
        text = lines[end]
        stripped = text.strip()
        deeper = len(text) - len(text.lstrip(" \t")) > indent
        if stripped and not stripped.startswith("#") and not deeper:
            break
        end += 1
    return "".join(lines[first:end])


def lone_digest(data: bytes, code: types.CodeType) -> str | None:
    """The digest of the function of ``code`` (which reads no variable of an enclosing
    function) from its own lines of the file whose bytes are ``data``: the digest the whole
    file's parse gives it, or None when its lines do not parse alone."""
    lines = _block(data, code)
    return _steps.summary.function_digest(lines, code.co_name) if lines else None


def source_tables_for(options: Options) -> SourceTables | None:
    """The source book of a portable analysis with these options; None for bytecode tokens."""
    if not options.portable:
        return None
    return SourceTables(store_for(options), allow_bytecode=options.allow_bytecode)
