"""Length-prefix framing: the one way astoken puts several byte strings into one digest or
token (the combiner's pairs, cache keys of the stores, the snapshot build and the bytecode
verdicts).

A framed part is its length in decimal, a colon and the part (``b"5:hello"``, a netstring
without the trailing comma). A sequence of framed parts has one reading, so two different
sequences never share their bytes: ``("ab", "c")`` and ``("a", "bc")`` give different keys.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable

__all__ = ["frame", "frame_text", "framed_digest"]


def frame(part: bytes) -> bytes:
    """``part`` with its length in front."""
    return b"%d:" % len(part) + part


def frame_text(text: str) -> bytes:
    """``text`` as UTF-8 (lone surrogates kept, as names may hold them), framed."""
    return frame(text.encode("utf-8", "surrogatepass"))


def framed_digest(label: bytes, parts: Iterable[bytes]) -> str:
    """The SHA-256 hex digest of ``label`` (what the digest is of, ending in a separator)
    followed by each of ``parts`` framed."""
    digest = hashlib.sha256(label)
    for part in parts:
        digest.update(frame(part))
    return digest.hexdigest()
