"""The in-process memo of ``behavior_token``: (target identity, options) -> token.

A hit costs a dict lookup; the files the graph read are looked at again at most once per
:data:`MEMO_RECHECK_SECONDS`.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass

from astoken import _targets
from astoken._model import Options

__all__ = [
    "MEMO",
    "MEMO_LIMIT",
    "MEMO_RECHECK_SECONDS",
    "FileSignature",
    "MemoEntry",
    "MemoKey",
    "file_signature",
    "lookup",
    "memo_key",
    "remember",
]

#: A remembered token is served without looking at the source files again for this long.
MEMO_RECHECK_SECONDS = 1.0
#: At most this many targets are remembered (the oldest half is dropped beyond it).
MEMO_LIMIT = 4096

# A file as the token memo checks it: path, size, and the modification time, change time and
# identity of the file. The change time is what restoring a modification time cannot put
# back (os.utime sets it to now), so an edit that keeps size and mtime is still seen.
_Signature = tuple[str, int, int, int, int, int]
#: A file's signature, None when the file could not be looked at.
FileSignature = _Signature | None
MemoKey = tuple[object, Options]


def file_signature(file: str) -> FileSignature:
    """What the memo compares of ``file`` (see ``_Signature``); None when it cannot stat it."""
    try:
        st = os.stat(file)
    except OSError:
        return None
    return (file, st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino, st.st_dev)


@dataclass(slots=True)
class MemoEntry:
    target: object  # the object asked about (identity is checked for object targets)
    files: tuple[FileSignature, ...]
    token: str | None
    checked: float  # time.monotonic() when the files were last found unchanged


MEMO: dict[MemoKey, MemoEntry] = {}


def memo_key(obj: object, options: Options) -> MemoKey:
    """The memo's key of a target: the object's identity, or a spec's text or file."""
    if not isinstance(obj, str):
        return (id(obj), options)
    if "/" in obj or os.sep in obj or ".py" in obj:
        # A path spec is keyed by the file it names, not by the text (relative to the cwd).
        return (_targets.canonical_spec(obj), options)
    return (obj, options)


def _valid(files: tuple[FileSignature, ...]) -> bool:
    return all(sig is not None and file_signature(sig[0]) == sig for sig in files)


def lookup(key: MemoKey, obj: object) -> MemoEntry | None:
    """The entry remembered for ``obj`` under ``key`` while its files are unchanged, else None."""
    entry = MEMO.get(key)
    if entry is None or not (entry.target is obj or isinstance(obj, str)):
        return None
    now = time.monotonic()
    if now - entry.checked < MEMO_RECHECK_SECONDS:
        return entry
    if not _valid(entry.files):
        return None
    entry.checked = now
    return entry


def remember(
    key: MemoKey, obj: object, files: tuple[FileSignature, ...], token: str | None
) -> None:
    """Remember ``obj``'s token, computed from ``files`` just now."""
    if len(MEMO) >= MEMO_LIMIT:
        for old in list(MEMO)[: MEMO_LIMIT // 2]:
            del MEMO[old]
    MEMO[key] = MemoEntry(obj, files, token, time.monotonic())
