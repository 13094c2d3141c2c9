"""Combine per-object tokens into one behavior token (the last step of the pipeline).

Guarantees (cited by ``tests/test_combine.py``):

1. :func:`combine` is independent of the order of its input pairs: they are sorted by name.
2. A name and its token are length-prefixed, so no two different pair lists share their bytes.
3. The token covers :data:`~astoken._model.FORMAT_VERSION` and the interpreter's cache tag
   (bytecode differs between Python minors, so a token is only comparable on one of them).
4. Pairs whose token is None (nothing to hash) are dropped; if nothing is left the result is
   None. The same name given twice with different tokens is a caller bug: ``ValueError``.
5. :func:`closure_token`: the root's own token enters under ``"<target>"``, so a target's
   qualified name is not part of its token; a class with only data attributes (no own token,
   no compiled-code leaf, every member a constant of the class) has no behavior token
   (ccflow's rule).
6. A portable token (pairs hashed from source, ``portable=True``) starts from another header
   (``astoken-portable`` and :data:`~astoken._model.PORTABLE_FORMAT_VERSION`) and carries no
   interpreter tag: it never equals a bytecode token, and is the same on every Python minor.
"""

from __future__ import annotations

import bisect
import hashlib
import operator
import sys
from collections.abc import Iterable

from ._framing import frame_text
from ._model import FORMAT_VERSION, PORTABLE_FORMAT_VERSION, Node, NodeKind

__all__ = [
    "TARGET",
    "closure_token",
    "closure_token_sorted",
    "combine",
    "combine_encoded",
    "combine_ordered",
    "combine_sorted",
    "encode_pair",
    "interpreter_tag",
]


def interpreter_tag() -> str:
    """The interpreter's bytecode cache tag, e.g. ``"cpython-311"``."""
    tag: str | None = sys.implementation.cache_tag
    # cache_tag is None only when the interpreter cannot cache bytecode; fall back to a name
    # that still separates implementations and minors.
    if tag is None:  # pragma: no cover - no such interpreter in CI
        major, minor = sys.version_info[:2]
        return f"{sys.implementation.name}-{major}{minor}"
    return tag


def encode_pair(name: str, token: str) -> bytes:
    """The bytes one ``(name, own token)`` pair contributes (for :func:`combine_encoded`)."""
    return frame_text(name) + frame_text(token)


_NAME = operator.itemgetter(0)
#: The name a closure's root enters under (guarantee 5).
TARGET = "<target>"


def combine_encoded(
    encoded: list[tuple[str, bytes]], *, portable: bool = False, interpreter: str | None = None
) -> str | None:
    """The behavior token of pairs already encoded by :func:`encode_pair`, as ``(name,
    bytes)``; the same as :func:`combine` of those pairs (which it implements). For callers
    that combine many overlapping closures (a snapshot) and encode each pair once.
    ``portable``: the pairs hash code by its source (guarantee 6). ``interpreter``: the tag of
    the interpreter the own tokens were computed on, when not this one (a lock file's)."""
    if not encoded:
        return None
    encoded = sorted(encoded, key=_NAME)
    return combine_sorted([item[1] for item in encoded], portable=portable, interpreter=interpreter)


def combine_sorted(
    pairs: list[bytes], *, portable: bool = False, interpreter: str | None = None
) -> str | None:
    """:func:`combine_encoded` of pairs given as their bytes only, already in the order of
    their names (a lock file's reader, which has them in that order)."""
    if not pairs:
        return None
    digest = hashlib.sha256()
    if portable:
        digest.update(b"astoken-portable\x00%d\x00" % PORTABLE_FORMAT_VERSION)
    else:
        digest.update(b"astoken-behavior\x00%d\x00" % FORMAT_VERSION)
        digest.update(frame_text(interpreter_tag() if interpreter is None else interpreter))
    digest.update(b"%d\x00" % len(pairs))
    digest.update(b"".join(pairs))
    return digest.hexdigest()


def closure_token(
    root: str,
    root_token: str | None,
    encoded: list[tuple[str, bytes]],
    members: Iterable[Node],
    *,
    leaves: bool,
    portable: bool = False,
) -> str | None:
    """The behavior token of ``root``'s closure (guarantee 5): ``encoded``, the pairs of its
    members and compiled-code leaves (:func:`encode_pair`), and the root's own token.
    ``members`` are the closure's nodes, the root and the leaves excluded; ``leaves`` says
    whether the closure has compiled-code leaves."""
    ordered = sorted(encoded, key=_NAME)
    names = [name for name, _pair in ordered]
    return closure_token_sorted(
        root,
        root_token,
        [pair for _name, pair in ordered],
        bisect.bisect_left(names, TARGET),
        members,
        leaves=leaves,
        portable=portable,
    )


def closure_token_sorted(
    root: str,
    root_token: str | None,
    encoded: list[bytes],
    target_at: int,
    members: Iterable[Node],
    *,
    leaves: bool,
    portable: bool = False,
    without: int | None = None,
) -> str | None:
    """:func:`closure_token` of pairs given as their bytes, in the order of their names, with
    ``target_at`` the place of ``"<target>"`` among those names (a snapshot's closures, whose
    pairs are kept in that order: no sort per root). ``without``: the place of the root's own
    pair among them, left out (a closure shared by several roots holds each one's pair).
    ``members`` is read only for ccflow's rule (no own token, no leaf)."""
    if without is not None:
        encoded = [*encoded[:without], *encoded[without + 1 :]]
        if without < target_at:
            target_at -= 1
    if root_token is None:
        if not leaves:
            prefix = root + "."
            if all(
                node.kind is NodeKind.CONSTANT and node.name.startswith(prefix) for node in members
            ):
                # A class with only data attributes has no behavior of its own (ccflow's
                # rule); the code that reads its constants depends on them through its own
                # graph.
                return None
        return combine_sorted(encoded, portable=portable)
    pairs = [*encoded[:target_at], encode_pair(TARGET, root_token), *encoded[target_at:]]
    return combine_sorted(pairs, portable=portable)


def combine(pairs: Iterable[tuple[str, str | None]], *, portable: bool = False) -> str | None:
    """The behavior token of ``(name, own token)`` pairs; see the module guarantees 1-4.

    The caller passes the target's own entry under the name ``"<target>"`` so that the
    target's qualified name is not part of its token.
    """
    chosen: dict[str, str | None] = {}
    for name, token in pairs:
        if name in chosen and chosen[name] != token:
            raise ValueError(f"combine(): {name!r} given twice with different tokens")
        chosen[name] = token
    return combine_encoded(
        [(name, encode_pair(name, token)) for name, token in chosen.items() if token is not None],
        portable=portable,
    )


def combine_ordered(tokens: Iterable[str]) -> str:
    """A cache token over ``tokens`` in the order given (order matters, duplicates count).

    The interpreter tag is not added here: data tokens are portable between interpreters and
    behavior tokens already carry it.
    """
    items = list(tokens)
    digest = hashlib.sha256()
    digest.update(b"astoken-cache\x00%d\x00" % FORMAT_VERSION)
    digest.update(b"%d\x00" % len(items))
    for token in items:
        digest.update(frame_text(token))
    return digest.hexdigest()
