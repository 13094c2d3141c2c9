"""Closure tokens kept between runs, so that a warm run does not combine them again.

A closure's token is the SHA-256 of its members' encoded pairs in the order of their names
(``astoken._combine``): which names there are and which of them a closure holds come from the
build, each pair from its member's own token. So while the build has the same names and
closures, and none of a closure's members has another own token than in the run that kept its
token, combining its pairs again gives the kept token. networkx's suite under ``pytest
--astoken-select`` has 4,876 distinct closures of 2.2 million pairs in all (about 250 MB
hashed again at every run); with nothing changed, none is combined.

Guarantees (cited by ``tests/test_combined_memo.py``):

1. A kept token is used only for a closure of a build whose names and closures have the same
   digest (:func:`build_digest`) as the build it was kept for, and only when every member of
   the closure was hashed in this run to the same *state* as in that run: its own token, no
   own token (``""``) or a value with no encoding (:data:`REFUSED`).
2. Own tokens are computed at every run (live values are hashed again, as always): only the
   combining is skipped.
3. An entry is checked (``astoken._store.CombinedStore``: a damaged one is a miss) and read for
   its caller's key, which covers astoken's code, the interpreter and the options; one that
   does not decode to what :func:`encode` writes, or was kept for another build, is a miss.
"""

from __future__ import annotations

import hashlib
import json
import sys
from array import array
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from astoken._framing import frame, frame_text

__all__ = ["REFUSED", "KeptTokens", "build_digest", "decode", "encode"]

#: The state of a member whose value has no deterministic encoding (no own token at all).
REFUSED = "!"
#: Version of the layout :func:`encode` writes.
_LAYOUT = 1


def build_digest(names: Sequence[str], closures: Mapping[str, array[int]]) -> str:
    """A SHA-256 of a build's table of names and of every closure (by key) as indexes into it:
    what, besides the own tokens, its closure tokens are combined from."""
    digest = hashlib.sha256(b"astoken-closures\0%d\0" % _LAYOUT)
    digest.update(frame(sys.byteorder.encode()))
    digest.update(frame(b"%d" % len(names)))
    for name in names:
        digest.update(frame_text(name))
    for key in sorted(closures):
        indexes = closures[key]
        digest.update(frame_text(key))
        digest.update(frame(b"%d" % indexes.itemsize))
        digest.update(frame(indexes.tobytes()))
    return digest.hexdigest()


@dataclass(frozen=True, slots=True)
class KeptTokens:
    """The closure tokens of one run: the build they are for (:func:`build_digest`), the state
    of each name (by index; None: not hashed in that run) and the token of each closure it
    combined or reused (by the closure's key; None: the closure has no token)."""

    build: str
    states: tuple[str | None, ...]
    tokens: dict[str, str | None]

    def changed(self, build: str, states: Sequence[str | None]) -> set[int] | None:
        """The indexes hashed now (``states``) whose state differs from the kept one; None when
        the tokens were kept for another build (none of them can be used)."""
        if build != self.build or len(states) != len(self.states):
            return None
        kept = self.states
        return {i for i, state in enumerate(states) if state is not None and state != kept[i]}


def encode(kept: KeptTokens, keys: Sequence[str]) -> str:
    """``kept`` as JSON text; ``keys`` are the build's closure keys, sorted (the tokens are
    written in their order, not under their keys)."""
    tokens: list[str | None] = []
    for key in keys:
        if key not in kept.tokens:
            tokens.append(None)  # not kept
        else:
            token = kept.tokens[key]
            tokens.append("" if token is None else token)  # "": the closure has no token
    document = {
        "build": kept.build,
        "layout": _LAYOUT,
        "states": list(kept.states),
        "tokens": tokens,
    }
    return json.dumps(document, separators=(",", ":"))


def decode(text: str, keys: Sequence[str]) -> KeptTokens | None:
    """What :func:`encode` wrote for the build whose sorted closure keys are ``keys``, or None
    for anything else."""
    try:
        document = json.loads(text)
    except (ValueError, RecursionError):
        return None
    if not isinstance(document, dict) or document.get("layout") != _LAYOUT:
        return None
    build, states, tokens = document.get("build"), document.get("states"), document.get("tokens")
    if not (isinstance(build, str) and isinstance(states, list) and isinstance(tokens, list)):
        return None
    if len(tokens) != len(keys) or not all(s is None or isinstance(s, str) for s in states):
        return None
    kept: dict[str, str | None] = {}
    for key, token in zip(keys, tokens, strict=True):
        if token is None:
            continue
        if not isinstance(token, str) or (token and not _is_token(token)):
            return None
        kept[key] = token or None
    return KeptTokens(build, tuple(states), kept)


_HEX = frozenset("0123456789abcdef")


def _is_token(text: str) -> bool:
    return len(text) == 64 and _HEX.issuperset(text)
