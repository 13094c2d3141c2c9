"""Snapshot files (``astoken snapshot -o astoken.lock.json``): read, write and diff.

The file is UTF-8 JSON, written with sorted keys, two-space indentation and a final newline,
so two equal snapshots are byte-identical files and a VCS diff of two snapshots is readable::

    {
      "astoken_snapshot": 1,                 # layout version of this file
      "entries": {                           # one per function, class and method, by name
        "app.train:fit": {
          "dependencies": ["app.features:scale", "numpy"],   # sorted closure, target excluded
          "kind": "function",                # a NodeKind value
          "own_token": "<64 hex>",           # the definition's own code only (or null)
          "token": "<64 hex>"                # its behavior token (or null: nothing to hash)
        }
      },
      "failed": {"app.slow": "importing app.slow failed: ..."},  # only in a partial snapshot
      "format_version": 1,                   # token format (astoken._model.FORMAT_VERSION)
      "own_tokens": {"app.features:scale": "<64 hex>", ...},  # every name in any closure
      "packages": ["app"],                   # what was snapshotted, as given
      "python": "cpython-311"                # interpreter tag (tokens depend on bytecode)
    }

Guarantees (cited by tests/test_lockfile.py):

1. ``read_snapshot(write_snapshot(s))`` equals ``s`` (entries and own tokens sorted by name).
2. Equal snapshots serialise to identical bytes; writes go through
   :func:`astoken._files.write_atomic` (atomic, through links, errors naming the file), so a
   reader never sees a half-written file and a failed write leaves the old file alone.
3. A file that is unreadable, not a regular file, larger than :data:`MAX_SNAPSHOT_BYTES`, not
   JSON, nested too deeply, not a snapshot, of another layout or token-format version, or
   malformed raises :class:`~astoken.errors.SnapshotFormatError` naming the file and what is
   wrong.
4. :func:`diff_snapshots` is pure and its result is sorted. A target of a module that either
   snapshot left out (``failed``) is neither added nor removed: nothing is known about it.
5. A diff filtered to some targets (``targets=``, ``astoken diff --target``) is the diff of
   the selected targets only: the same changes, additions, removals and causes as the full
   diff restricted to them.
6. A lock file is untrusted input (it comes from a branch, a pull request, an artifact): every
   name in it (entries, dependencies, own tokens, packages, modules left out) follows the
   grammar astoken writes (:func:`is_node_name`), every token is one of the forms astoken
   writes (:func:`is_token`, :func:`is_own_token`) and the interpreter tag is a tag; anything
   else raises :class:`~astoken.errors.SnapshotFormatError` naming the entry by its ``repr``.
   So no name read from a lock file carries a newline, a terminal escape or a forged report
   line into ``astoken diff``'s output. (The reasons of ``failed`` are free text, as the
   exceptions they come from: renderers escape them.)
"""

from __future__ import annotations

import fnmatch
import json
import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ._files import read_regular, write_atomic
from ._model import (
    FORMAT_VERSION,
    ChangedTarget,
    NodeKind,
    SnapshotDiff,
    is_unavailable_reason,
)
from .errors import SnapshotFormatError

__all__ = [
    "MAX_SNAPSHOT_BYTES",
    "SNAPSHOT_LAYOUT",
    "Snapshot",
    "SnapshotEntry",
    "diff_snapshots",
    "dumps_snapshot",
    "is_node_name",
    "is_own_token",
    "is_token",
    "loads_snapshot",
    "matches_targets",
    "read_snapshot",
    "write_atomic",
    "write_snapshot",
]

# The values a lock file holds; defined with their file format, so that reading and writing
# them (``Snapshot.load``/``save``) needs no import back from the value objects' module.


@dataclass(frozen=True, slots=True)
class SnapshotEntry:
    """One target of a snapshot: its behavior token, its own token and its dependency names."""

    target: str
    kind: NodeKind
    token: str | None
    own_token: str | None
    dependencies: tuple[str, ...]


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
SNAPSHOT_LAYOUT = 1

#: A snapshot file larger than this is refused rather than read (100k entries take ~50 MB).
MAX_SNAPSHOT_BYTES = 1 << 30


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


def dumps_snapshot(snapshot: Snapshot) -> str:
    """The snapshot as the JSON text described in the module docstring."""
    document: dict[str, Any] = {
        "astoken_snapshot": SNAPSHOT_LAYOUT,
        "entries": {
            entry.target: {
                "dependencies": sorted(entry.dependencies),
                "kind": entry.kind.value,
                "own_token": entry.own_token,
                "token": entry.token,
            }
            for entry in snapshot.entries
        },
        "format_version": snapshot.format_version,
        "own_tokens": dict(snapshot.own_tokens),
        "packages": list(snapshot.packages),
        "python": snapshot.python,
    }
    if snapshot.failed:
        # Only a partial snapshot has the key: a complete one is the same file as before.
        document["failed"] = dict(snapshot.failed)
    return json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


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
    own_tokens = _string_map(source, document.get("own_tokens"), "own_tokens")
    for name, token in own_tokens.items():
        _check(source, is_node_name(name), f"own_tokens: {_shown(name)}", _NAME_FORM)
        _check(source, is_own_token(token), f"own_tokens[{_shown(name)}]", _OWN_TOKEN_FORM)
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
    entries = tuple(_entry(source, target, raw_entries[target]) for target in sorted(raw_entries))
    return Snapshot(
        packages=tuple(packages),
        entries=entries,
        own_tokens=tuple(sorted(own_tokens.items())),
        format_version=FORMAT_VERSION,
        python=python,
        failed=tuple(sorted(failed.items())),
    )


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


def _entry(source: str, target: str, value: object) -> SnapshotEntry:
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
    return SnapshotEntry(
        target=target,
        kind=kind,
        token=_optional_token(source, value.get("token"), f"{where}.token"),
        own_token=_optional_token(source, value.get("own_token"), f"{where}.own_token", own=True),
        dependencies=tuple(sorted(_dependencies(source, value.get("dependencies"), where))),
    )


def _dependencies(source: str, value: object, where: str) -> list[str]:
    names = _string_list(source, value, f"{where}.dependencies")
    for name in names:
        _check(source, is_node_name(name), f"{where}.dependencies: {_shown(name)}", _NAME_FORM)
    return names


def _own_token_lookup(snapshot: Snapshot) -> dict[str, str | None]:
    lookup: dict[str, str | None] = dict(snapshot.own_tokens)
    for entry in snapshot.entries:
        # An entry's own token is authoritative for its own name.
        lookup[entry.target] = entry.own_token
    return lookup


def matches_targets(target: str, patterns: Sequence[str]) -> bool:
    """True when ``target`` is selected by a pattern (guarantee 5): no patterns select
    everything; a pattern selects the target of that name, every target of a module or package
    of that name (``pkg.mod`` selects ``pkg.mod:f`` and ``pkg.mod.sub:g``, ``pkg.mod:C``
    selects ``pkg.mod:C.m``), and any target it matches as a glob (``pkg.*:fit*``)."""
    if not patterns:
        return True
    module, _, qualname = target.partition(":")
    for pattern in patterns:
        if target == pattern or fnmatch.fnmatchcase(target, pattern):
            return True
        if ":" in pattern:
            if target.startswith(pattern + "."):
                return True
        elif (
            module == pattern
            or module.startswith(pattern + ".")
            or (fnmatch.fnmatchcase(module, pattern) and qualname)
        ):
            return True
    return False


def diff_snapshots(old: Snapshot, new: Snapshot, *, targets: Sequence[str] = ()) -> SnapshotDiff:
    """Targets whose behavior token changed, with causes; plus added and removed targets.

    The causes of a changed target are the names in its closure (itself and its dependencies)
    whose own token differs between the snapshots, or that joined or left the closure. A
    target can change with no cause when only the interpreter or token format differs. With
    ``targets``, only the targets they select are compared (see :func:`matches_targets`).
    """
    old_entries: Mapping[str, SnapshotEntry] = {
        e.target: e for e in old.entries if matches_targets(e.target, targets)
    }
    new_entries: Mapping[str, SnapshotEntry] = {
        e.target: e for e in new.entries if matches_targets(e.target, targets)
    }
    old_own = _own_token_lookup(old)
    new_own = _own_token_lookup(new)
    changed: list[ChangedTarget] = []
    unchanged = 0
    for target in sorted(old_entries.keys() & new_entries.keys()):
        before, after = old_entries[target], new_entries[target]
        if before.token == after.token:
            unchanged += 1
            continue
        old_closure = {target, *before.dependencies}
        new_closure = {target, *after.dependencies}
        causes = {
            name for name in new_closure & old_closure if old_own.get(name) != new_own.get(name)
        }
        causes |= old_closure ^ new_closure
        changed.append(
            ChangedTarget(
                target=target,
                old_token=before.token,
                new_token=after.token,
                causes=tuple(sorted(causes)),
            )
        )
    left_out = {module for module, _ in (*old.failed, *new.failed)}

    def known(target: str) -> bool:
        return target not in left_out and target.partition(":")[0] not in left_out

    return SnapshotDiff(
        changed=tuple(changed),
        added=tuple(sorted(t for t in new_entries.keys() - old_entries.keys() if known(t))),
        removed=tuple(sorted(t for t in old_entries.keys() - new_entries.keys() if known(t))),
        unchanged=unchanged,
    )
