"""The bytes of one stored result: a checked (and optionally signed) envelope around a pickle.

Layout: the magic ``ASTOKENR``, a format byte, the length of the header (4 bytes, big-endian),
the header (JSON, UTF-8), then the payload (the result pickled with protocol 5, which every
supported Python reads). The header names the entry's key, the behavior token it was computed
under, astoken's version, the token mode (``bytecode`` or ``portable``), the interpreter's tag,
the time written, the payload's length, a SHA-256 and, when written with a secret, an
HMAC-SHA256 (both over the header's other fields and the payload).

Guarantees (cited by ``tests/test_result_store.py``):

1. :func:`open_entry` returns the payload only when the magic, format, key, length and
   checksum all agree: a truncated object, a flipped byte anywhere, an object written for
   another key, or any other file is a :class:`Rejected` (a miss), never an exception;
2. with a secret, an entry without an HMAC is rejected (reason ``"unsigned"``), and one whose
   HMAC does not match its bytes under that secret (another secret, or damage) too
   (``"bad signature"``);
3. without a secret, a signed entry is read as any other (its checksum still checked);
4. :func:`read_meta` reads the header alone (its first bytes suffice), for listings.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import pickle
import struct
import sys
import time
from dataclasses import dataclass

__all__ = [
    "HEADER_PREFIX_BYTES",
    "EntryMeta",
    "Rejected",
    "load_payload",
    "make_entry",
    "open_entry",
    "python_tag",
    "read_meta",
]

_MAGIC = b"ASTOKENR"
_FORMAT = 1
_PREFIX = struct.Struct(">8sBI")  # magic, format, header length
#: A header longer than this is not one of ours (a few hundred bytes in practice).
_MAX_HEADER = 1 << 16
#: Bytes to read to be sure of holding the header of an entry (listings read only these).
HEADER_PREFIX_BYTES = 4096
#: Pickle protocol 5: read by every Python astoken supports, and out-of-band-buffer capable.
_PROTOCOL = 5


@dataclass(frozen=True, slots=True)
class EntryMeta:
    """What an entry's header says about it."""

    key: str
    behavior: str
    astoken: str
    mode: str
    python: str
    written: float
    size: int
    signed: bool


@dataclass(frozen=True, slots=True)
class Rejected:
    """Why the bytes read for a key are not a usable entry (a miss)."""

    reason: str


def python_tag() -> str:
    """The interpreter's tag (``cpython-311``): recorded, never compared."""
    return sys.implementation.cache_tag or sys.implementation.name


def _signed_bytes(
    fields: dict[str, object], payload: memoryview | bytes
) -> list[bytes | memoryview]:
    """What the checksum and the HMAC cover: the header's fields (canonical JSON) and the
    payload, each preceded by its length so that no byte can move from one to the other."""
    text = json.dumps(fields, sort_keys=True, separators=(",", ":")).encode("utf-8")
    return [b"%d:" % len(text), text, b"%d:" % len(payload), payload]


def _digest(parts: list[bytes | memoryview], secret: bytes | None) -> str:
    digest = hmac.new(secret, digestmod="sha256") if secret is not None else hashlib.sha256()
    for part in parts:
        digest.update(part)
    return digest.hexdigest()


def make_entry(
    key: str,
    value: object,
    *,
    behavior: str,
    astoken_version: str,
    mode: str,
    secret: bytes | None,
) -> bytes:
    """The envelope of ``value`` stored under ``key``. Raises whatever pickling raises."""
    payload = pickle.dumps(value, protocol=_PROTOCOL)
    fields: dict[str, object] = {
        "astoken": astoken_version,
        "behavior": behavior,
        "key": key,
        "mode": mode,
        "python": python_tag(),
        "size": len(payload),
        "written": round(time.time(), 3),
    }
    parts = _signed_bytes(fields, payload)
    header = dict(fields, sha256=_digest(parts, None))
    if secret is not None:
        header["hmac"] = _digest(parts, secret)
    text = json.dumps(header, sort_keys=True, separators=(",", ":")).encode("utf-8")
    return b"".join((_PREFIX.pack(_MAGIC, _FORMAT, len(text)), text, payload))


def _header(raw: memoryview) -> tuple[dict[str, object], int] | Rejected:
    """The header of ``raw`` and where its payload starts."""
    if len(raw) < _PREFIX.size:
        return Rejected("truncated")
    magic, fmt, length = _PREFIX.unpack_from(raw)
    if magic != _MAGIC:
        return Rejected("not an astoken result")
    if fmt != _FORMAT:
        return Rejected(f"entry format {fmt}, not {_FORMAT}")
    end = _PREFIX.size + length
    if length > _MAX_HEADER or len(raw) < end:
        return Rejected("truncated")
    try:
        header = json.loads(bytes(raw[_PREFIX.size : end]).decode("utf-8"))
    except (ValueError, RecursionError):
        return Rejected("damaged header")
    if not isinstance(header, dict):
        return Rejected("damaged header")
    return header, end


_TEXT_FIELDS = ("astoken", "behavior", "key", "mode", "python", "sha256")


def _meta(header: dict[str, object]) -> EntryMeta | Rejected:
    text = {name: header.get(name) for name in _TEXT_FIELDS}
    size, written = header.get("size"), header.get("written")
    if (
        not all(isinstance(value, str) for value in text.values())
        or not isinstance(size, int)
        or isinstance(size, bool)
        or not isinstance(written, (int, float))
        or isinstance(written, bool)
    ):
        return Rejected("damaged header")
    return EntryMeta(
        key=str(text["key"]),
        behavior=str(text["behavior"]),
        astoken=str(text["astoken"]),
        mode=str(text["mode"]),
        python=str(text["python"]),
        written=float(written),
        size=size,
        signed=isinstance(header.get("hmac"), str),
    )


def read_meta(raw: bytes) -> EntryMeta | Rejected:
    """The metadata in the header at the start of ``raw`` (guarantee 4; nothing is checked
    against the payload)."""
    found = _header(memoryview(raw))
    if isinstance(found, Rejected):
        return found
    return _meta(found[0])


def open_entry(
    raw: bytes, key: str, secret: bytes | None
) -> tuple[EntryMeta, memoryview] | Rejected:
    """The metadata and the payload (the pickle) of the entry ``raw`` read for ``key``, or why
    it is not one (guarantees 1-3)."""
    view = memoryview(raw)
    found = _header(view)
    if isinstance(found, Rejected):
        return found
    header, start = found
    meta = _meta(header)
    if isinstance(meta, Rejected):
        return meta
    if meta.key != key:
        return Rejected("written for another key")
    payload = view[start:]
    if len(payload) != meta.size:
        return Rejected("truncated" if len(payload) < meta.size else "trailing bytes")
    fields = {k: v for k, v in header.items() if k not in ("sha256", "hmac")}
    parts = _signed_bytes(fields, payload)
    if secret is None:
        if not hmac.compare_digest(_digest(parts, None), str(header["sha256"])):
            return Rejected("checksum mismatch")
        return meta, payload
    # With a secret the HMAC is the check (one pass over the payload, not two): damage and a
    # foreign signer look alike, and both are misses.
    signature = header.get("hmac")
    if not isinstance(signature, str):
        return Rejected("unsigned")
    if not hmac.compare_digest(_digest(parts, secret), signature):
        return Rejected("bad signature")
    return meta, payload


def load_payload(payload: memoryview) -> object:
    """The result in a checked payload. Raises whatever unpickling raises (a class that no
    longer exists, a module that is not installed)."""
    return pickle.loads(payload)
