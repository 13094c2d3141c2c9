"""On-disk cache of module summaries, keyed by content (never by path or mtime).

Guarantees (tests cite them by number):

1. The key depends only on the source bytes, the *summarizer fingerprint* (a SHA-256 of the
   source of every module that produces a summary or its JSON form: the summary step, module
   or package, its codec among them, and ``_model``; see :func:`summarizer_fingerprint`), the
   installed libcst version and the Python minor version (libcst's grammar choice can depend
   on it). So an entry written by another build of astoken is never read, even when nobody
   remembered to bump a version number.
2. Writes are atomic: an entry is written to a temporary file in its own shard directory and
   moved into place with :func:`os.replace`, so concurrent processes sharing one cache only
   ever see a complete entry (last writer wins; both wrote the same text). A link planted in
   the cache is replaced, never written through.
3. A missing, unreadable, truncated, corrupt or too deeply nested entry, one that is not a
   regular file (a FIFO, a device, a link to ``/dev/zero``) or is larger than
   :data:`MAX_ENTRY_BYTES`, or one whose stored key differs from the key asked for, is a miss:
   :meth:`SummaryStore.get` returns None, never raises and never blocks.
4. Failing to write (read-only directory, disk full) is silent: the cache is an optimisation
   only and deleting or corrupting it changes no token.
5. A cache others can write is not trusted: directories astoken creates are ``0o700`` and
   entries ``0o600`` whatever the umask, and a directory on the way from the cache directory
   to an entry, or an entry, that is writable by group or others or owned by another user
   (root excepted) is neither read nor written, with one
   :class:`~astoken.errors.UntrustedCacheWarning` per process and cache directory (as ssh
   and pip treat such files). An entry is checked on the file it opened, so a link planted
   in its place cannot pass for it.

The store holds text only; the caller validates it (``summary_from_json`` raising ValueError
is a miss too).
"""

from __future__ import annotations

import errno
import functools
import hashlib
import importlib.util
import json
import os
import re
import stat
import sys
import threading
import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

from ._files import read_regular, replace_atomic
from ._framing import framed_digest
from .errors import UntrustedCacheWarning

__all__ = [
    "MAX_ENTRY_BYTES",
    "BranchStore",
    "BuildStore",
    "CodeTokenBook",
    "CombinedStore",
    "SummaryStore",
    "VerdictStore",
    "default_cache_dir",
    "make_private_dirs",
    "summarizer_fingerprint",
    "summary_key",
    "untrusted_reason",
]

#: Environment variable that moves the cache (checked by :func:`default_cache_dir`).
CACHE_DIR_ENV = "ASTOKEN_CACHE_DIR"


# A wheel-installed distribution's metadata directory: name and version (PEP 427, PEP 491).
_LIBCST_DIST_INFO = re.compile(r"libcst-([^-]+)\.dist-info", re.IGNORECASE)

#: An entry larger than this is a miss (the summary of a 50,000-line module is a few MB).
MAX_ENTRY_BYTES = 64 << 20

#: The modules whose code decides what a summary (or its JSON form) is. A name may be a module
#: or a package (every ``.py`` file below it counts): the summary step may become a package.
_SUMMARIZER_MODULES = ("astoken._summary", "astoken._model")

#: The modules whose code decides a code object's token (:class:`CodeTokenBook`): the code
#: hasher, the byte primitives it uses, and the token format version in ``_model``.
_CODE_HASHER_MODULES = ("astoken._hashing._code", "astoken._hashing._walk", "astoken._model")


def default_cache_dir() -> str:
    """``$ASTOKEN_CACHE_DIR`` when set (and not empty), else the platform's user cache dir."""
    configured = os.environ.get(CACHE_DIR_ENV)
    if configured:
        return configured
    import platformdirs  # noqa: PLC0415 - ~6 ms of imports a run with $ASTOKEN_CACHE_DIR skips

    return platformdirs.user_cache_dir("astoken")


@functools.lru_cache(maxsize=1)
def _libcst_version() -> str:
    """The installed libcst's version, read from the one ``libcst-*.dist-info`` directory
    beside the package: ``importlib.metadata`` would cost ~20 ms of imports (email, zipfile)
    on every warm run. Anything unusual (no spec, no or several dist-info directories) asks
    ``importlib.metadata``, which also knows eggs and editable installs."""
    spec = importlib.util.find_spec("libcst")
    if spec is not None and spec.submodule_search_locations:
        for location in spec.submodule_search_locations:
            parent = os.path.dirname(os.path.abspath(location))
            try:
                infos = [m for n in os.listdir(parent) if (m := _LIBCST_DIST_INFO.fullmatch(n))]
            except OSError:
                continue
            if len(infos) == 1:
                return infos[0].group(1)
    from importlib import metadata  # noqa: PLC0415 - see the docstring: only when the above fails

    try:
        return metadata.version("libcst")
    except metadata.PackageNotFoundError:  # pragma: no cover - libcst is required
        return "unknown"


def _module_files(name: str) -> list[str]:
    """The files of module or package ``name`` (found without importing it: importing the
    summary step would import libcst, which a warm run never needs)."""
    spec = importlib.util.find_spec(name)
    if spec is None or not spec.origin or not spec.has_location:
        raise LookupError(name)
    if spec.submodule_search_locations is None:
        return [spec.origin]
    found: list[str] = []
    for root in spec.submodule_search_locations:
        for directory, dirnames, filenames in os.walk(root):
            dirnames[:] = sorted(d for d in dirnames if d != "__pycache__")
            found.extend(os.path.join(directory, f) for f in sorted(filenames) if f.endswith(".py"))
    return found


@functools.lru_cache(maxsize=1)
def summarizer_fingerprint() -> str:
    """SHA-256 of the code that produces summaries (guarantee 1); computed once per process.

    Names inside the package and the bytes of each file are hashed, so a change to any of them
    (even a comment) gives new keys. When a file cannot be read the fingerprint is unique to
    this process: the cache then never serves an entry it cannot vouch for.
    """
    return _code_fingerprint(b"astoken-summarizer\0", _SUMMARIZER_MODULES)


@functools.lru_cache(maxsize=1)
def code_hasher_fingerprint() -> str:
    """SHA-256 of the code that turns a code object into its token (:class:`CodeTokenBook`),
    computed like :func:`summarizer_fingerprint`."""
    return _code_fingerprint(b"astoken-code-hasher\0", _CODE_HASHER_MODULES)


def _code_fingerprint(label: bytes, modules: tuple[str, ...]) -> str:
    digest = hashlib.sha256(label)
    try:
        for name in modules:
            files = _module_files(name)
            base = os.path.dirname(files[0]) if files else ""
            digest.update(b"%d:%s\0" % (len(files), name.encode()))
            for file in files:
                with open(file, "rb") as handle:
                    data = handle.read()
                relative = os.path.relpath(file, base).replace(os.sep, "/").encode()
                digest.update(b"%d:%s%d:" % (len(relative), relative, len(data)) + data)
    except (OSError, LookupError, ImportError, ValueError):
        return "unverifiable-" + os.urandom(16).hex()
    return digest.hexdigest()


@functools.lru_cache(maxsize=1)
def astoken_fingerprint() -> str:
    """SHA-256 of every module of astoken, computed like :func:`summarizer_fingerprint`: a
    cached build (:class:`BuildStore`) depends on how the whole pipeline asks and answers."""
    return _code_fingerprint(b"astoken-package\0", ("astoken",))


def summary_key(source: bytes) -> str:
    """The cache key of a module's source bytes (guarantee 1): a 64-hex SHA-256."""
    digest = hashlib.sha256()
    digest.update(source)
    # A separator that cannot be confused with the end of the source: the suffix is hashed
    # into a second, fixed-layout block.
    meta = (
        f"\0summarizer={summarizer_fingerprint()};libcst={_libcst_version()};"
        f"python={sys.version_info[0]}.{sys.version_info[1]}"
    )
    digest.update(hashlib.sha256(meta.encode()).digest())
    return digest.hexdigest()


# ---- trust (guarantee 5) -------------------------------------------------------------------

#: Modes of what astoken creates in a cache: only its owner may read, enter or write it.
DIRECTORY_MODE = 0o700
ENTRY_MODE = 0o600
_FOREIGN_WRITE = stat.S_IWGRP | stat.S_IWOTH

# Directories found trustworthy in this process (each is checked once: a directory that others
# can write only afterwards can at most hold entries of theirs, which the entry check refuses),
# and the cache directories whose distrust was already reported.
_TRUSTED: set[str] = set()
_REPORTED: set[str] = set()
_TRUST_LOCK = threading.Lock()


def untrusted_reason(status: os.stat_result) -> str | None:
    """Why a cache file or directory with this status cannot be trusted (writable by group or
    others, or owned by another user than this process's or root), or None when it can.
    Nothing is checked where files have no POSIX owner and mode (Windows reports every
    directory as mode 0o777; its access lists are another matter)."""
    if os.name != "posix":
        return None
    if status.st_mode & _FOREIGN_WRITE:
        return f"writable by group or others (mode {stat.S_IMODE(status.st_mode):04o})"
    user = os.geteuid()
    if status.st_uid not in (user, 0):
        return f"owned by uid {status.st_uid}, not by this user (uid {user})"
    return None


def _distrust(root: str, path: str, reason: str) -> None:
    """Report once per process and cache directory that ``path`` in it is not used."""
    with _TRUST_LOCK:
        if root in _REPORTED:
            return
        _REPORTED.add(root)
    warnings.warn(
        f"{path} is {reason}: astoken does not use it (its cache in {root} is only used where "
        "nobody else can write); make it yours and run 'chmod go-w' on it, or delete it",
        UntrustedCacheWarning,
        stacklevel=2,
    )


def _trusted_directories(root: str, directory: str) -> bool:
    """Whether every existing directory from ``root`` down to ``directory`` (which is under
    ``root``) can be trusted; reports the first that cannot. An absent one is trusted: it is
    created private (:func:`make_private_dirs`) or there is nothing in it to read."""
    if directory in _TRUSTED:  # its parents up to root were found trustworthy before it
        return True
    relative = os.path.relpath(directory, root)
    parts = [] if relative == os.curdir else relative.split(os.sep)
    current = root
    for part in [None, *parts]:
        if part is not None:
            current = os.path.join(current, part)
        if current in _TRUSTED:
            continue
        try:
            status = os.stat(current)
        except OSError:
            return True  # absent (or unreachable): nothing to read, made private on write
        reason = untrusted_reason(status)
        if reason is not None:
            _distrust(root, current, reason)
            return False
        with _TRUST_LOCK:
            _TRUSTED.add(current)
    return True


def make_private_dirs(path: str) -> None:
    """Create directory ``path`` and its missing parents with mode ``0o700`` whatever the
    umask (``os.makedirs`` leaves the parents to the umask). Raises ``OSError``."""
    missing: list[str] = []
    current = os.path.abspath(path)
    while not os.path.isdir(current):
        missing.append(current)
        parent = os.path.dirname(current)
        if parent == current:
            break
        current = parent
    for directory in reversed(missing):
        try:
            os.mkdir(directory, DIRECTORY_MODE)
        except FileExistsError:
            if not os.path.isdir(directory):  # a file where a directory should be
                raise NotADirectoryError(
                    errno.ENOTDIR, os.strerror(errno.ENOTDIR), directory
                ) from None
            continue  # made meanwhile by another process: its mode is its maker's
        # mkdir's mode passes through the umask (which may take the owner's own bits away).
        os.chmod(directory, DIRECTORY_MODE)


def _read_document(root: str, path: str) -> dict[str, Any] | None:
    """The JSON object stored at ``path`` under cache directory ``root``, or None when it is
    absent, unreadable, not a regular file, larger than :data:`MAX_ENTRY_BYTES`, not UTF-8,
    not JSON, so deeply nested that the parser gives up, or not an object (guarantee 3; the
    caller checks what is inside), or when it or a directory on its way from ``root`` is
    not trusted (guarantee 5)."""
    raw = _read_trusted(root, path, MAX_ENTRY_BYTES)
    if raw is None:
        return None
    try:
        document = json.loads(raw.decode("utf-8"))
    except (ValueError, RecursionError):
        return None
    return document if isinstance(document, dict) else None


def _read_trusted(root: str, path: str, limit: int) -> bytes | None:
    """The bytes of entry ``path`` under ``root`` (as :func:`read_regular`, errors a miss),
    or None when it or a directory on its way is not trusted (guarantee 5)."""
    if not _trusted_directories(root, os.path.dirname(path)):
        return None

    def accept(status: os.stat_result) -> bool:
        reason = untrusted_reason(status)
        if reason is not None:
            _distrust(root, path, reason)
        return reason is None

    try:
        return read_regular(path, limit, accept=accept)
    except OSError:
        return None


def _write_quietly(root: str, path: str, data: bytes) -> None:
    """Put ``data`` at ``path`` under ``root`` atomically, mode ``0o600``, its directories made
    private first; failing is silent (guarantees 2 and 4: the cache is an optimisation only),
    and so is not writing where others could write (guarantee 5)."""
    directory = os.path.dirname(path)
    try:
        make_private_dirs(directory)
        if _trusted_directories(root, directory):
            replace_atomic(path, data, mode=ENTRY_MODE)
    except OSError:
        pass


@dataclass(frozen=True, slots=True)
class Envelope:
    """The one JSON envelope of a text entry (summaries, cached builds): its format name (the
    version of the envelope, not of the text inside), the key it was written for, the text
    under ``field`` and, when ``checked``, a SHA-256 of the text. :meth:`open` is the one check
    every such entry goes through (guarantee 3)."""

    format: str
    field: str
    checked: bool = False

    def make(self, key: str, text: str) -> bytes:
        """The bytes of the entry of ``text`` under ``key``."""
        document = {"format": self.format, "key": key, self.field: text}
        if self.checked:
            document["check"] = hashlib.sha256(text.encode("utf-8")).hexdigest()
        return json.dumps(document).encode("utf-8")

    def open(self, document: dict[str, Any] | None, key: str) -> str | None:
        """The text of ``document`` read for ``key``, or None when it is not this envelope's,
        was written for another key, or (``checked``) its text does not match its check."""
        if document is None:
            return None
        text = document.get(self.field)
        if (
            document.get("format") != self.format
            or document.get("key") != key
            or not isinstance(text, str)
        ):
            return None
        if self.checked and document.get("check") != hashlib.sha256(text.encode()).hexdigest():
            return None
        return text


# Version of the summary entry envelope itself (not of the summary inside it).
_SUMMARY_ENVELOPE = Envelope("astoken-summary-1", "summary")


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

    def has(self, key: str) -> bool:
        """Whether an entry exists for ``key`` (not whether it is valid: :meth:`get` decides)."""
        path = self._path(key)
        return path is not None and os.path.isfile(path)

    def get(self, key: str) -> str | None:
        """The text stored under ``key``, or None on any kind of miss (guarantee 3)."""
        path = self._path(key)
        if path is None:
            return None
        return _SUMMARY_ENVELOPE.open(_read_document(self._directory or "", path), key)

    def put(self, key: str, text: str) -> None:
        """Store ``text`` under ``key`` atomically; failures are swallowed (guarantees 2, 4)."""
        path = self._path(key)
        if path is None:
            return
        _write_quietly(self._directory or "", path, _SUMMARY_ENVELOPE.make(key, text))


class VerdictStore:
    """Facts astoken checked once and may rely on afterwards, each kept as a file named by a
    SHA-256 of everything the fact depends on, holding that key (so a truncated, corrupt or
    planted-by-accident file is a miss); ``None`` disables it.

    The one fact today: "this bytecode cache file holds exactly the code that compiling this
    source gives" (:func:`astoken._runtime.check_source`), keyed by both files' bytes and the
    interpreter. Guarantees 2-4 of this module hold for it as for summaries.
    """

    __slots__ = ("_directory", "_root")

    def __init__(self, directory: str | os.PathLike[str] | None) -> None:
        self._root = "" if directory is None else os.fspath(directory)
        self._directory = None if directory is None else os.path.join(directory, "verdicts")

    def _path(self, key: str) -> str | None:
        if self._directory is None or len(key) != 64 or not key.isalnum():
            return None
        return os.path.join(self._directory, key[:2], key)

    def known(self, key: str) -> bool:
        """Whether the fact ``key`` names was recorded (any kind of miss is False)."""
        path = self._path(key)
        if path is None:
            return False
        return _read_trusted(self._root, path, len(key)) == key.encode("ascii")

    def record(self, key: str) -> None:
        """Record the fact ``key`` names; failures are swallowed (the cache is optional)."""
        path = self._path(key)
        if path is not None:
            _write_quietly(self._root, path, key.encode("ascii"))


# Version of a code-token shard's layout.
_CODE_SHARD = "astoken-code-tokens-1"
#: A shard keeps at most this many tokens: those used by the process that wrote it first, then
#: older ones (a file edited many times does not grow its shard without bound).
MAX_SHARD_TOKENS = 4096
_HEX = frozenset("0123456789abcdef")


def _is_digest(value: object) -> bool:
    return isinstance(value, str) and len(value) == 64 and _HEX.issuperset(value)


class CodeTokenBook:
    """Tokens of code objects kept across processes (the code book of
    :func:`astoken._hashing.code_book`); ``None`` disables it.

    One JSON *shard* per source file name, named by a SHA-256 of that name, the interpreter
    (version, bytecode magic number) and :func:`code_hasher_fingerprint`, mapping the SHA-256
    of a code object's marshal bytes to its token. A shard carries a SHA-256 of its tokens, so
    a damaged one (truncated, edited, a flipped character) is a miss, like any entry the
    summary store cannot vouch for (guarantees 2-4 of this module). Shards are read on first
    use and written by :meth:`flush`; thread-safe.
    """

    __slots__ = ("_directory", "_dirty", "_lock", "_root", "_shards", "_used")

    def __init__(self, directory: str | os.PathLike[str] | None) -> None:
        self._root = "" if directory is None else os.fspath(directory)
        self._directory = None if directory is None else os.path.join(directory, "codes")
        self._shards: dict[str, dict[str, str]] = {}
        self._used: dict[str, set[str]] = {}
        self._dirty: set[str] = set()
        self._lock = threading.Lock()

    def _path(self, filename: str) -> tuple[str, str] | None:
        if self._directory is None:
            return None
        parts = (
            sys.version.encode(),
            importlib.util.MAGIC_NUMBER,
            code_hasher_fingerprint().encode(),
            filename.encode("utf-8", "surrogatepass"),
        )
        key = framed_digest(b"%s\0" % _CODE_SHARD.encode(), parts)
        return key, os.path.join(self._directory, key[:2], f"{key}.json")

    def _shard(self, filename: str) -> dict[str, str]:
        shard = self._shards.get(filename)
        if shard is None:
            shard = self._shards[filename] = self._read(filename)
            self._used[filename] = set()
        return shard

    def _read(self, filename: str) -> dict[str, str]:
        located = self._path(filename)
        if located is None:
            return {}
        key, path = located
        document = _read_document(self._root, path)
        if document is None:
            return {}
        tokens = document.get("tokens")
        if (
            document.get("format") != _CODE_SHARD
            or document.get("key") != key
            or not isinstance(tokens, dict)
            or document.get("check") != _tokens_check(tokens)
        ):
            return {}
        return {k: v for k, v in tokens.items() if _is_digest(k) and _is_digest(v)}

    @property
    def dirty(self) -> bool:
        """Whether tokens computed in this process wait for :meth:`flush`."""
        return bool(self._dirty)

    def get(self, filename: str, key: str) -> str | None:
        """The token of the code object whose marshal digest is ``key``, if kept."""
        with self._lock:
            token = self._shard(filename).get(key)
            if token is not None:
                self._used[filename].add(key)
            return token

    def put(self, filename: str, key: str, token: str) -> None:
        """Keep a token computed in this process (written by :meth:`flush`)."""
        if not (_is_digest(key) and _is_digest(token)):
            return
        with self._lock:
            shard = self._shard(filename)
            if shard.get(key) != token:
                shard[key] = token
                self._dirty.add(filename)
            self._used[filename].add(key)

    def flush(self) -> None:
        """Write the shards that gained tokens (atomically; failures are swallowed)."""
        with self._lock:
            pending = [(f, dict(self._shards[f]), set(self._used[f])) for f in self._dirty]
            self._dirty.clear()
        for filename, shard, used in sorted(pending, key=lambda item: item[0]):
            located = self._path(filename)
            if located is None:
                continue
            key, path = located
            # The tokens this process used first, then older ones, up to the cap.
            order = sorted(shard, key=lambda k: (k not in used, k))[:MAX_SHARD_TOKENS]
            tokens = {k: shard[k] for k in sorted(order)}
            document = {
                "check": _tokens_check(tokens),
                "format": _CODE_SHARD,
                "key": key,
                "tokens": tokens,
            }
            _write_quietly(self._root, path, json.dumps(document, sort_keys=True).encode("utf-8"))


def _tokens_check(tokens: Mapping[str, object]) -> str:
    return hashlib.sha256(json.dumps(tokens, sort_keys=True).encode("utf-8")).hexdigest()


# Version of a cached build's envelope.
_BUILD_ENVELOPE = Envelope("astoken-build-1", "build", checked=True)
# Version of a kept closure-token table's envelope.
_COMBINED_ENVELOPE = Envelope("astoken-combined-1", "combined", checked=True)
# Version of a kept branch-definitions entry's envelope.
_BRANCHES_ENVELOPE = Envelope("astoken-branches-1", "branches", checked=True)


class _KeptTextStore:
    """Text kept for the next run under a caller's 64-hex key, one file per key in a directory
    of the cache; ``None`` disables it. An entry carries a SHA-256 of its text, so a damaged
    one is a miss; guarantees 2-4 of this module hold for it as for summaries."""

    __slots__ = ("_directory", "_root")

    #: The cache's subdirectory and the envelope of its entries: each store says its own.
    _SUBDIRECTORY: ClassVar[str]
    _ENVELOPE: ClassVar[Envelope]

    def __init__(self, directory: str | os.PathLike[str] | None) -> None:
        self._root = "" if directory is None else os.fspath(directory)
        self._directory = None if directory is None else os.path.join(directory, self._SUBDIRECTORY)

    def _path(self, key: str) -> str | None:
        if self._directory is None or len(key) != 64 or not key.isalnum():
            return None
        return os.path.join(self._directory, key[:2], f"{key}.json")

    def get(self, key: str) -> str | None:
        """The text stored under ``key``, or None on any kind of miss."""
        path = self._path(key)
        if path is None:
            return None
        return self._ENVELOPE.open(_read_document(self._root, path), key)

    def put(self, key: str, text: str) -> None:
        """Store ``text`` under ``key`` atomically; failures are swallowed."""
        path = self._path(key)
        if path is None:
            return
        data = self._ENVELOPE.make(key, text)
        if len(data) <= MAX_ENTRY_BYTES:  # a larger entry would never be read: not written
            _write_quietly(self._root, path, data)


class BuildStore(_KeptTextStore):
    """Snapshot builds kept for the next run (``astoken._graph.CachedBuild`` as JSON text), one
    file per key in ``builds/``; ``None`` disables it. The caller's key names everything the
    build read besides what its journal replays. An entry carries a SHA-256 of its text, so a
    damaged one is a miss; guarantees 2-4 of this module hold for it as for summaries."""

    __slots__ = ()

    _SUBDIRECTORY = "builds"
    _ENVELOPE = _BUILD_ENVELOPE


class BranchStore(_KeptTextStore):
    """What a source file defines in several branches of one ``if`` (``astoken._runtime.
    branch_names``), kept for the next run under a key of the file's bytes, the interpreter
    and astoken's code, one file per key in ``branches/``; ``None`` disables it. Checked like
    :class:`BuildStore`'s entries."""

    __slots__ = ()

    _SUBDIRECTORY = "branches"
    _ENVELOPE = _BRANCHES_ENVELOPE


class CombinedStore(_KeptTextStore):
    """Closure tokens kept for the next run with the own tokens they were combined from
    (``astoken._pipeline._combined``), one file per key in ``combined/``; ``None`` disables
    it. Checked like :class:`BuildStore`'s entries."""

    __slots__ = ()

    _SUBDIRECTORY = "combined"
    _ENVELOPE = _COMBINED_ENVELOPE
