"""Pygments' token types, by path: ``Token.Name.Builtin`` is the tuple ``("Name", "Builtin")``.

A token type is a tuple subclass whose instance state holds its ``parent`` (the path less its
last part) and ``subtypes``, the set of the child types created *so far*: pygments makes one on
first attribute access (``Name.Whatever``), so that set depends on which lexer modules the
process imported. Encoded by that state, a lexer's token changed with unrelated imports, and
every table naming a token type walked the whole tree of types (a cycle through ``parent`` and
``subtypes`` that no memo could keep): pygments' lexer tables cost most of a snapshot. The path
is what a token type is; the rest is derived from it or is process history.
"""

from __future__ import annotations

from typing import Any

from pygments.token import _TokenType

from ._walk import Handler, Walk, text

__all__ = ["handlers"]


def _token_type(v: Any, w: Walk) -> bytes:
    return text(b"Pt", ".".join(("Token", *v)))


def handlers() -> dict[type, Handler]:
    return {_TokenType: _token_type}
