"""Snapshot files (``astoken snapshot -o astoken.lock.json``): read and write (layout 2).

The file is UTF-8 JSON with sorted keys and a final newline, one line per definition and per
entry, so two equal snapshots are byte-identical files and a one-function edit changes a few
lines of a version-control diff. It holds what the behavior tokens are made of, not the
tokens: each definition's own token once, and each entry's closure written compactly (the
entries whose closures it contains, see :mod:`astoken._compact`, and the other names)::

    {
      "astoken_snapshot": 2,                 # layout version of this file
      "definitions": {                       # the own token of every name in any closure
        "app.features:scale": "<64 hex>",
        "app.train:fit": "<64 hex>",
        "numpy": "external:numpy==2.1.0"
      },
      "entries": {                           # one per function, class and method, by name
        "app.train:fit": {"bases": ["app.features:scale"], "deps": ["numpy"], "kind": "function"}
      },
      "failed": {"app.slow": "importing app.slow failed: ..."},  # only in a partial snapshot
      "format_version": 3,                   # token format (astoken._model.FORMAT_VERSION)
      "packages": ["app"],                   # what was snapshotted, as given
      "python": "cpython-311"                # interpreter tag (tokens depend on bytecode), or
                                             # "portable" (tokens hash source: any interpreter)
    }

An entry's dependencies are its ``deps`` and, for each of its ``bases``, that entry and its
dependencies. Its own token is its name's definition (null: none). Its behavior token is made
again by the combiner, from the own tokens of its closure and the interpreter tag, when it is
first asked for: a read entry holds its closure as a mask over the file's names (see
:mod:`astoken._nameset`), so reading lists and hashes no closure. An entry whose token that
would not give (only data attributes, own tokens from several packages' analyses), or whose
own token is not its definition's, says so: ``"token"``, ``"own"``. Layout 1 (every closure
and token written out: networkx's file was 20 MB) is refused with the advice to run
``astoken snapshot`` again.

Guarantees (cited by tests/test_lockfile.py and tests/test_lockfile_layout.py):

1. ``read_snapshot(write_snapshot(s))`` equals ``s`` (entries and own tokens sorted by name).
2. Equal snapshots serialise to identical bytes; writes go through
   :func:`astoken._files.write_atomic` (atomic, through links, errors naming the file), so a
   reader never sees a half-written file and a failed write leaves the old file alone.
3. A file that is unreadable, not a regular file, larger than :data:`MAX_SNAPSHOT_BYTES`, not
   JSON, nested too deeply, not a snapshot, of another layout or token-format version, or
   malformed raises :class:`~astoken.errors.SnapshotFormatError` naming the file and what is
   wrong; a file of an older layout says to run ``astoken snapshot`` again.
4. An edit of one definition's code changes its line under ``definitions`` and no other; an
   edit that adds or removes a reference also changes the lines of the entries that do not
   reach the edited definition through their bases (few: see :mod:`astoken._compact`).
5. (Diffing is :mod:`astoken._diff`'s.)
6. A lock file is untrusted input (it comes from a branch, a pull request, an artifact): every
   name in it (entries, bases, dependencies, definitions, packages, modules left out) follows
   the grammar astoken writes (:func:`is_node_name`), every token is one of the forms astoken
   writes (:func:`is_token`, :func:`is_own_token`), the interpreter tag is a tag, bases are
   entries without a cycle, and the closures take at most :data:`MAX_CLOSURE_BYTES` bytes
   as masks; anything else raises :class:`~astoken.errors.SnapshotFormatError` naming the entry by
   its ``repr``. So no name read from a lock file carries a newline, a terminal escape or a
   forged report line into ``astoken diff``'s output, and a small file cannot expand into
   closures that fill the memory. (The reasons of ``failed`` are free text, as the exceptions
   they come from: renderers escape them.)
"""

from __future__ import annotations

import bisect
import json
import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from . import _combine
from ._compact import CompactError, compact_closures, expand_closures
from ._files import read_regular, write_atomic
from ._model import FORMAT_VERSION, PORTABLE_TAG, Immutable, NodeKind, is_unavailable_reason
from ._nameset import NameSet, NameTable
from .errors import SnapshotFormatError

__all__ = [
    "MAX_SNAPSHOT_BYTES",
    "SNAPSHOT_LAYOUT",
    "Snapshot",
    "SnapshotEntry",
    "dumps_snapshot",
    "is_node_name",
    "is_own_token",
    "is_token",
    "loads_snapshot",
    "read_snapshot",
    "write_atomic",
    "write_snapshot",
]

# The values a lock file holds; defined with their file format, so that reading and writing
# them (``Snapshot.load``/``save``) needs no import back from the value objects' module.


class SnapshotEntry(Immutable):
    """One target of a snapshot: its behavior token, its own token and its dependency names.

    Immutable. An entry read from a lock file holds its dependencies as a
    :class:`~astoken._nameset.NameSet` (a mask over the file's names, equal to the tuple of
    them) and makes its token from the file's own tokens when it is first asked for, so that
    reading a file of tens of thousands of large closures neither lists nor hashes them all.
    An entry a snapshot made is marked with the own tokens its token was made from
    (:meth:`_made`), so that a lock file of those own tokens is written without making it
    again.
    """

    __slots__ = ("_made_by", "_made_from", "_token", "dependencies", "kind", "own_token", "target")
    _FIELDS = ("target", "kind", "token", "own_token", "dependencies")

    target: str
    kind: NodeKind
    own_token: str | None
    dependencies: Sequence[str]
    _token: str | None
    _made_by: FileTokens | None
    _made_from: FileTokens | None

    def __init__(
        self,
        target: str,
        kind: NodeKind,
        token: str | None,
        own_token: str | None,
        dependencies: Sequence[str],
    ) -> None:
        set_ = object.__setattr__
        set_(self, "target", target)
        set_(self, "kind", kind)
        set_(self, "_token", token)
        set_(self, "own_token", own_token)
        set_(self, "dependencies", dependencies)
        set_(self, "_made_by", None)
        set_(self, "_made_from", None)

    @classmethod
    def _deferred(
        cls,
        target: str,
        kind: NodeKind,
        own_token: str | None,
        dependencies: Sequence[str],
        made_by: FileTokens,
    ) -> SnapshotEntry:
        """An entry whose token ``made_by`` makes from its own token and dependencies."""
        entry = cls(target, kind, None, own_token, dependencies)
        object.__setattr__(entry, "_made_by", made_by)
        return entry

    @classmethod
    def _made(
        cls,
        target: str,
        kind: NodeKind,
        token: str,
        own_token: str | None,
        dependencies: Sequence[str],
        *,
        made_from: FileTokens,
    ) -> SnapshotEntry:
        """An entry whose ``token`` was made the way ``made_from`` makes one, from its own
        token and the pairs of ``made_from``'s own tokens for its dependencies (a snapshot's
        entries: a lock file holding those own tokens needs no token written, and its writer
        need not make it again to know)."""
        entry = cls(target, kind, token, own_token, dependencies)
        object.__setattr__(entry, "_made_from", made_from)
        return entry

    @property
    def token(self) -> str | None:
        """The behavior token of the target (None: no behavior of its own)."""
        made_by: FileTokens | None = self._made_by
        if made_by is not None:
            object.__setattr__(self, "_token", made_by.token(self.own_token, self.dependencies))
            object.__setattr__(self, "_made_by", None)
        token: str | None = self._token
        return token

    @property
    def made_by(self) -> FileTokens | None:
        """The own tokens of the lock file the entry was read from, while its token is not
        made yet (:mod:`astoken._diff` compares such entries without making it)."""
        return self._made_by


@dataclass(frozen=True, slots=True)
class Snapshot:
    """Tokens of every function, class and method in some packages (``astoken snapshot``).

    ``own_tokens`` maps every node name seen in any entry's closure to its own token, so that a
    diff can say which changed definition caused a target to change. ``failed`` lists the
    modules left out because they could not be summarised or imported, and the definitions
    left out because a value their token covers has no deterministic encoding (named
    ``module:qualname``), as sorted ``(name, reason)`` pairs: a snapshot with failures is
    partial, unless every module left out is :attr:`unavailable` on this platform by design
    (it is listed all the same, so that a diff with a snapshot from another platform neither
    adds nor removes its targets).
    """

    packages: tuple[str, ...]
    entries: tuple[SnapshotEntry, ...]
    own_tokens: tuple[tuple[str, str], ...]
    format_version: int = FORMAT_VERSION
    python: str = ""
    failed: tuple[tuple[str, str], ...] = ()

    @property
    def is_partial(self) -> bool:
        """True when some modules of the packages were left out (see ``failed``) for a reason
        other than being written for another platform."""
        return any(not is_unavailable_reason(reason) for _, reason in self.failed)

    @property
    def unavailable(self) -> tuple[str, ...]:
        """The modules left out because they cannot be imported on this platform by design
        (their reason starts with :data:`~astoken._model.UNAVAILABLE_REASON`)."""
        return tuple(module for module, reason in self.failed if is_unavailable_reason(reason))

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> Snapshot:
        """Read a snapshot file (``astoken snapshot -o FILE``); raises
        :class:`~astoken.errors.SnapshotFormatError` when it is unreadable or malformed."""
        return read_snapshot(path)

    def save(self, path: str | os.PathLike[str]) -> None:
        """Write this snapshot to ``path`` atomically (equal snapshots, identical bytes)."""
        write_snapshot(self, path)

    def summary(self) -> str:
        """One line: how many targets, of which packages, and how many modules left out."""
        text = f"{len(self.entries)} targets in {', '.join(self.packages) or 'no package'}"
        unavailable = len(self.unavailable)
        if len(self.failed) > unavailable:
            text += f"; {len(self.failed) - unavailable} modules left out (partial)"
        if unavailable:
            text += f"; {unavailable} modules for another platform left out"
        return text


#: Version of the JSON layout of a snapshot file (bump when keys change meaning).
SNAPSHOT_LAYOUT = 2

#: A snapshot file larger than this is refused rather than read.
MAX_SNAPSHOT_BYTES = 1 << 30

#: The most memory the closures of one file may expand to, in all: they are held as bit
#: masks over the file's names (:mod:`astoken._nameset`; sympy's 21,264 closures take 72 MB),
#: so a small file whose bases nest cannot make the reader fill the memory.
MAX_CLOSURE_BYTES = MAX_SNAPSHOT_BYTES


#: A behavior token or a code/value own token: SHA-256 in lowercase hex.
_HEX_TOKEN = re.compile(r"[0-9a-f]{64}")
#: A qualified-name part Python writes itself: ``<locals>``, ``<lambda>`` and astoken's
#: ``<lambda>#2`` for the second lambda of a function (see ``Definition`` in ``_model``).
_SPECIAL_PART = re.compile(r"<[a-z]+>(?:#[0-9]+)?")
#: An interpreter tag (``sys.implementation.cache_tag``, e.g. ``cpython-311``); empty: unknown.
_PYTHON_TAG = re.compile(r"[A-Za-z0-9_.+-]*")
#: How much of a rejected name an error message shows.
_SHOWN_CHARS = 80


def _is_module_name(text: str) -> bool:
    return bool(text) and all(part.isidentifier() for part in text.split("."))


def is_node_name(text: str) -> bool:
    """True when ``text`` is a graph node name as astoken writes it: a dotted module name
    (``pkg.mod``), optionally ``:`` and a dotted qualified name whose parts are identifiers or
    ``<locals>``, ``<lambda>``, ``<lambda>#N`` (``pkg.mod:C.m``, ``pkg.mod:f.<locals>.g``)."""
    module, sep, qualname = text.partition(":")
    if not _is_module_name(module):
        return False
    if not sep:
        return True
    return bool(qualname) and all(
        part.isidentifier() or _SPECIAL_PART.fullmatch(part) is not None
        for part in qualname.split(".")
    )


def is_token(text: str) -> bool:
    """True when ``text`` is a behavior token (64 lowercase hex digits)."""
    return _HEX_TOKEN.fullmatch(text) is not None


def is_own_token(text: str) -> bool:
    """True when ``text`` is an own token in one of the forms astoken writes (the hashing
    step's ``node_token`` and ``leaf_token``): 64 hex digits (code or value), ``external:NAME``
    or ``external:NAME==VERSION`` (a third-party leaf), ``stdlib:NAME`` (a standard-library
    leaf), ``opaque:TYPE:DIGEST`` (a value with no deterministic encoding, by its type and the
    hex digest of the source that built it, or ``no-source``)."""
    if is_token(text):
        return True
    form, _, rest = text.partition(":")
    if form == "stdlib":
        return is_node_name(rest)
    if form == "external":
        name, sep, version = rest.partition("==")
        # A distribution's version is whatever its metadata says: any printable word.
        return is_node_name(name) and (
            not sep or (bool(version) and version.isprintable() and " " not in version)
        )
    if form == "opaque":
        # The type is ``module.qualname`` of a live type, which may be any printable text.
        type_name, _, digest = rest.rpartition(":")
        return (
            bool(type_name)
            and type_name.isprintable()
            and (digest == "no-source" or is_token(digest))
        )
    return False


def _shown(text: str) -> str:
    """``text`` as an error message names it: its ``repr`` (escaped, never raw), shortened."""
    if len(text) <= _SHOWN_CHARS:
        return repr(text)
    return f"{text[:_SHOWN_CHARS]!r}... ({len(text)} characters)"


def _sorted_snapshot(snapshot: Snapshot) -> Snapshot:
    entries = tuple(sorted(snapshot.entries, key=lambda e: e.target))
    own = tuple(sorted(dict(snapshot.own_tokens).items()))
    return Snapshot(
        packages=snapshot.packages,
        entries=entries,
        own_tokens=own,
        format_version=snapshot.format_version,
        python=snapshot.python,
        failed=tuple(sorted(snapshot.failed)),
    )


class FileTokens:
    """Behavior tokens made from the own tokens of a file's definitions, the way the combiner
    makes them in an analysis (the pairs of a closure's names with an own token, the entry's
    own token as ``<target>``, the file's interpreter tag)."""

    def __init__(self, definitions: Mapping[str, str], python: str) -> None:
        self.python = python
        self.definitions = definitions
        self._pairs: dict[str, bytes] | None = None

    @property
    def pairs(self) -> dict[str, bytes]:
        """Each definition's encoded pair, by name (encoded when first needed)."""
        if self._pairs is None:
            self._pairs = {
                name: _combine.encode_pair(name, tok) for name, tok in self.definitions.items()
            }
        return self._pairs

    def token(self, own: str | None, names: Sequence[str]) -> str | None:
        """The token of a closure (``names`` sorted): the pairs are taken in the order of
        their names, ``<target>`` in its place, without a sort per closure."""
        dependencies = tuple(names)
        get = self.pairs.get
        if own is None:
            pairs = list(filter(None, map(get, dependencies)))
        else:
            at = bisect.bisect_left(dependencies, _combine.TARGET)
            pairs = list(filter(None, map(get, dependencies[:at])))
            pairs.append(_combine.encode_pair(_combine.TARGET, own))
            pairs.extend(filter(None, map(get, dependencies[at:])))
        # A portable snapshot's tag says its own tokens hash source: no interpreter in them.
        portable = self.python == PORTABLE_TAG
        return _combine.combine_sorted(pairs, portable=portable, interpreter=self.python)


def _line(value: object) -> str:
    return json.dumps(value, sort_keys=True, ensure_ascii=False)


def _table(rows: Mapping[str, object]) -> str:
    """A JSON object with one sorted key a line (an empty one on one line)."""
    if not rows:
        return "{}"
    lines = ",\n".join(f"    {_line(key)}: {_line(rows[key])}" for key in sorted(rows))
    return "{\n" + lines + "\n  }"


def _made_again(entry: SnapshotEntry, tokens: FileTokens, same: dict[int, bool]) -> bool:
    """True when ``tokens`` make the entry's token (so the file need not write it). An entry
    read from a file and not asked for its token is made by that file's own tokens, and a
    snapshot's entry was made from its own tokens the same way (:meth:`SnapshotEntry._made`):
    when those are these (a lock file written again, or a snapshot's file; checked once per
    table, ``same`` by its id), nothing is hashed."""
    for made in (entry.made_by, entry._made_from):
        if made is not None:
            known = same.get(id(made))
            if known is None:
                known = same[id(made)] = (
                    made.python == tokens.python and made.definitions == tokens.definitions
                )
            if known:
                return True
    return tokens.token(entry.own_token, entry.dependencies) == entry.token


def dumps_snapshot(snapshot: Snapshot) -> str:
    """The snapshot as the JSON text described in the module docstring."""
    definitions = dict(snapshot.own_tokens)
    compact = compact_closures({e.target: e.dependencies for e in snapshot.entries})
    tokens = FileTokens(definitions, snapshot.python)
    same_tokens: dict[int, bool] = {}
    entries: dict[str, dict[str, object]] = {}
    for entry in snapshot.entries:
        bases, extra = compact[entry.target]
        row: dict[str, object] = {"kind": entry.kind.value}
        if bases:
            row["bases"] = list(bases)
        if extra:
            row["deps"] = list(extra)
        if entry.target in entry.dependencies:
            row["self"] = True  # a closure that holds its own target (never written by astoken)
        if entry.own_token != definitions.get(entry.target):
            row["own"] = entry.own_token
        if not _made_again(entry, tokens, same_tokens):
            row["token"] = entry.token
        entries[entry.target] = row
    fields = {
        "astoken_snapshot": str(SNAPSHOT_LAYOUT),
        "definitions": _table(definitions),
        "entries": _table(entries),
        "format_version": _line(snapshot.format_version),
        "packages": _line(list(snapshot.packages)),
        "python": _line(snapshot.python),
    }
    if snapshot.failed:
        # Only a partial snapshot has the key: a complete one is the same file as before.
        fields["failed"] = _table(dict(snapshot.failed))
    body = ",\n".join(f"  {_line(key)}: {fields[key]}" for key in sorted(fields))
    return "{\n" + body + "\n}\n"


def write_snapshot(snapshot: Snapshot, path: str | os.PathLike[str]) -> None:
    """Write ``snapshot`` to ``path`` atomically (raises ``OSError`` if it cannot)."""
    write_atomic(path, dumps_snapshot(_sorted_snapshot(snapshot)).encode("utf-8"))


def read_snapshot(path: str | os.PathLike[str]) -> Snapshot:
    """Read a snapshot file; :class:`SnapshotFormatError` if it is unreadable or malformed."""
    name = os.fspath(path)
    try:
        raw = read_regular(name, MAX_SNAPSHOT_BYTES)
    except OSError as exc:
        raise SnapshotFormatError(name, f"cannot read: {exc.strerror or exc}") from exc
    if raw is None:
        raise SnapshotFormatError(
            name, f"not a regular file of at most {MAX_SNAPSHOT_BYTES} bytes; cannot read it"
        )
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise SnapshotFormatError(name, f"not UTF-8 text (byte {exc.start})") from exc
    return loads_snapshot(text, source=name)


def loads_snapshot(text: str, *, source: str = "<string>") -> Snapshot:
    """Parse snapshot JSON text; ``source`` names it in :class:`SnapshotFormatError` messages."""
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        raise SnapshotFormatError(
            source, f"not JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})"
        ) from exc
    except RecursionError as exc:
        raise SnapshotFormatError(source, "JSON nested too deeply to be a snapshot") from exc
    if not isinstance(document, dict) or "astoken_snapshot" not in document:
        raise SnapshotFormatError(source, "not an astoken snapshot (no 'astoken_snapshot' key)")
    layout = document["astoken_snapshot"]
    if isinstance(layout, int) and not isinstance(layout, bool) and 0 < layout < SNAPSHOT_LAYOUT:
        raise SnapshotFormatError(
            source,
            f"snapshot layout version {layout} is older than this astoken's {SNAPSHOT_LAYOUT} "
            "(which writes each definition once, not every closure out): "
            "run astoken snapshot again",
        )
    if layout != SNAPSHOT_LAYOUT:
        raise SnapshotFormatError(
            source,
            f"snapshot layout version {layout!r} is not supported "
            f"(this astoken reads version {SNAPSHOT_LAYOUT}); regenerate it with astoken snapshot",
        )
    fmt = document.get("format_version")
    if fmt != FORMAT_VERSION:
        raise SnapshotFormatError(
            source,
            f"token format version {fmt!r} differs from this astoken's {FORMAT_VERSION}; "
            "tokens are not comparable, regenerate the snapshot",
        )
    packages = _string_list(source, document.get("packages"), "packages")
    for package in packages:
        _check(source, _is_module_name(package), f"packages: {_shown(package)}", "a module name")
    python = document.get("python", "")
    if not isinstance(python, str):
        raise SnapshotFormatError(source, "python must be a string")
    _check(
        source,
        _PYTHON_TAG.fullmatch(python) is not None,
        f"python {_shown(python)}",
        "an interpreter tag (such as 'cpython-311')",
    )
    definitions = _string_map(source, document.get("definitions"), "definitions")
    for name, token in definitions.items():
        _check(source, is_node_name(name), f"definitions: {_shown(name)}", _NAME_FORM)
        _check(source, is_own_token(token), f"definitions[{_shown(name)}]", _OWN_TOKEN_FORM)
    failed = _string_map(source, document.get("failed", {}), "failed")
    for left_out in failed:
        # A module that could not be imported, or a definition whose value has no encoding.
        _check(
            source,
            is_node_name(left_out),
            f"failed: {_shown(left_out)}",
            "a module name or " + _NAME_FORM.removeprefix("a "),
        )
    raw_entries = document.get("entries")
    if not isinstance(raw_entries, dict):
        raise SnapshotFormatError(source, "entries must be an object")
    rows = {target: _row(source, target, raw_entries[target]) for target in sorted(raw_entries)}
    _check_names(source, rows)
    table = NameTable.sorted_from(_names_of(definitions, rows))
    try:
        closures = expand_closures(
            table,
            {target: (row.bases, row.deps) for target, row in rows.items()},
            limit=MAX_CLOSURE_BYTES,
        )
    except CompactError as exc:
        raise SnapshotFormatError(source, f"entries: {exc}") from None
    tokens = FileTokens(definitions, python)
    entries = []
    for target, row in rows.items():
        own = row.own if row.has_own else definitions.get(target)
        mask = closures[target] | table.bit(target) if row.itself else closures[target]
        dependencies = NameSet(table, mask)
        if row.has_token:
            entries.append(SnapshotEntry(target, row.kind, row.token, own, dependencies))
        else:
            entries.append(SnapshotEntry._deferred(target, row.kind, own, dependencies, tokens))
    return Snapshot(
        packages=tuple(packages),
        entries=tuple(entries),
        own_tokens=tuple(sorted(definitions.items())),
        format_version=FORMAT_VERSION,
        python=python,
        failed=tuple(sorted(failed.items())),
    )


def _names_of(definitions: Mapping[str, str], rows: Mapping[str, _Row]) -> set[str]:
    """Every name a file holds: its definitions, entries and their bases and dependencies."""
    names = set(definitions)
    names.update(rows)
    for row in rows.values():
        names.update(row.deps)
    return names


def _string_list(source: str, value: object, where: str) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise SnapshotFormatError(source, f"{where} must be a list of strings")
    return list(value)


def _string_map(source: str, value: object, where: str) -> dict[str, str]:
    if not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values()):
        raise SnapshotFormatError(source, f"{where} must be an object of strings")
    return dict(value)


_NAME_FORM = "a name of the form module:qualified.name"
_OWN_TOKEN_FORM = "a token (64 hex digits, external:..., stdlib:... or opaque:...)"


def _check(source: str, valid: bool, where: str, form: str) -> None:
    """Raise :class:`SnapshotFormatError` saying that ``where`` is not ``form`` unless valid."""
    if not valid:
        raise SnapshotFormatError(source, f"{where} is not {form}")


def _optional_token(source: str, value: object, where: str, *, own: bool = False) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise SnapshotFormatError(source, f"{where} must be a string or null")
    if own:
        _check(source, is_own_token(value), f"{where} {_shown(value)}", _OWN_TOKEN_FORM)
    else:
        _check(source, is_token(value), f"{where} {_shown(value)}", "64 lowercase hex digits")
    return value


@dataclass(frozen=True, slots=True)
class _Row:
    """One line of ``entries`` as read (checked, not yet expanded)."""

    kind: NodeKind
    bases: tuple[str, ...]
    deps: tuple[str, ...]
    itself: bool
    has_own: bool
    own: str | None
    has_token: bool
    token: str | None


def _row(source: str, target: str, value: object) -> _Row:
    where = f"entries[{_shown(target)}]"
    _check(source, is_node_name(target), where, _NAME_FORM)
    if not isinstance(value, dict):
        raise SnapshotFormatError(source, f"{where} must be an object")
    kind_value = value.get("kind")
    try:
        kind = NodeKind(kind_value)
    except ValueError:
        raise SnapshotFormatError(
            source, f"{where}.kind {kind_value!r} is not a node kind"
        ) from None
    itself = value.get("self", False)
    if not isinstance(itself, bool):
        raise SnapshotFormatError(source, f"{where}.self must be true or false")
    return _Row(
        kind=kind,
        bases=_names(source, value.get("bases", []), f"{where}.bases"),
        deps=_names(source, value.get("deps", []), f"{where}.deps"),
        itself=itself,
        has_own="own" in value,
        own=_optional_token(source, value.get("own"), f"{where}.own", own=True),
        has_token="token" in value,
        token=_optional_token(source, value.get("token"), f"{where}.token"),
    )


def _names(source: str, value: object, where: str) -> tuple[str, ...]:
    """A list of names (checked by :func:`_check_names`, once each)."""
    return tuple(_string_list(source, value, where))


def _check_names(source: str, rows: Mapping[str, _Row]) -> None:
    """Every name of every entry's bases and deps is a node name: each distinct name is checked
    once (a closure's names recur across entries); a bad one is named with the first entry
    that holds it."""
    names: set[str] = set()
    for row in rows.values():
        names.update(row.bases, row.deps)
    bad = sorted(name for name in names if not is_node_name(name))
    if not bad:
        return
    for target, row in rows.items():
        for field, listed in (("bases", row.bases), ("deps", row.deps)):
            if bad[0] in listed:
                where = f"entries[{_shown(target)}].{field}: {_shown(bad[0])}"
                _check(source, False, where, _NAME_FORM)
