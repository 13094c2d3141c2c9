"""What every renderer shares: the formats, JSON helpers, tables and line wrapping."""

from __future__ import annotations

import enum
import json
from collections.abc import Sequence
from typing import Any

from astoken._model import Edge, Node, NodeKind, Unresolved

#: Length of the short token form shown in tables.
SHORT_TOKEN = 12
#: Seconds ``dot`` may take by default.
DOT_TIMEOUT = 60.0
#: Columns ``astoken graph`` wraps its text tree to when it does not write to a terminal.
FILE_WIDTH = 120

#: Kinds of the leaves outside the first-party scope.
EXTERNAL_KINDS = frozenset({NodeKind.EXTERNAL, NodeKind.STDLIB})

#: The narrowest column a wrapped text is given, however deep it is indented.
MIN_COLUMN = 24


class OutputFormat(enum.Enum):
    """Formats of the non-graph results (token, explain, deps, diff)."""

    TEXT = "text"
    JSON = "json"


class GraphFormat(enum.Enum):
    """Formats of ``astoken graph``; SVG and PNG need Graphviz's ``dot`` program."""

    TEXT = "text"
    JSON = "json"
    DOT = "dot"
    MERMAID = "mermaid"
    SVG = "svg"
    PNG = "png"
    HTML = "html"
    PYCG = "pycg"

    @property
    def is_binary(self) -> bool:
        """True for formats whose output is bytes (PNG)."""
        return self is GraphFormat.PNG

    @property
    def is_image(self) -> bool:
        """True for the formats Graphviz draws (SVG, PNG)."""
        return self in (GraphFormat.SVG, GraphFormat.PNG)


class EdgeSet(enum.Enum):
    """Which edges ``astoken graph`` draws: every reference (``all``, what a token covers) or
    only what can run what (``calls``: no membership, structure, type or data edges)."""

    ALL = "all"
    CALLS = "calls"


def dumps(document: object) -> str:
    """Sorted, indented JSON with a final newline: equal values give identical text.

    Characters that are not printable are written as JSON escapes: ``json`` escapes only
    the C0 controls, and a DEL, a C1 control (``\\x9b`` starts an escape sequence in some
    terminals), a line separator or a bidirectional override read from a lock file or a
    module must not reach a terminal raw either.
    """
    text = json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
    if text.replace("\n", "").isprintable():
        return text
    # Such characters only occur inside JSON strings, where an escape means the same.
    return "".join(c if c == "\n" or c.isprintable() else json.dumps(c)[1:-1] for c in text)


def printable(text: str) -> str:
    """``text`` with every character that is not printable (a newline, a terminal escape, a
    line separator, a bidirectional override) written as its Python escape (``\\n``,
    ``\\x1b``, ``\\u202e``): text that may come from a lock file or the code under analysis
    never starts a line of its own or drives the terminal."""
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


def node_json(node: Node) -> dict[str, Any]:
    return {
        "file": node.file,
        "kind": node.kind.value,
        "line": node.line,
        "name": node.name,
        "version": node.version,
    }


def unresolved_json(item: Unresolved) -> dict[str, Any]:
    return {
        "expression": item.expression,
        "file": item.file,
        "line": item.line,
        "owner": item.owner,
        "reason": item.reason,
    }


def edge_json(edge: Edge) -> dict[str, Any]:
    return {
        "kind": edge.kind.value,
        "line": edge.line,
        "source": edge.source,
        "target": edge.target,
    }


def sorted_unresolved(items: Sequence[Unresolved]) -> tuple[Unresolved, ...]:
    return tuple(
        sorted(items, key=lambda u: (u.owner, u.file or "", u.line, u.expression, u.reason))
    )


def join_names(names: Sequence[str]) -> str:
    if len(names) <= 1:
        return "".join(names)
    return ", ".join(names[:-1]) + " and " + names[-1]


def _chunks(text: str, size: int) -> list[str]:
    """``text`` cut into pieces of at most ``size`` characters, at spaces where there are
    some and anywhere in a word longer than ``size``."""
    pieces: list[str] = []
    line = ""
    for whole in text.split(" "):
        word = whole
        while len(word) > size:
            if line:
                pieces.append(line)
                line = ""
            pieces.append(word[:size])
            word = word[size:]
        if not line:
            line = word
        elif len(line) + 1 + len(word) <= size:
            line = f"{line} {word}"
        else:
            pieces.append(line)
            line = word
    pieces.append(line)
    return pieces


def wrap(first: str, text: str, rest: str, width: int | None) -> list[str]:
    """``first + text`` as lines of at most ``width`` characters: ``text`` is broken at spaces
    (a longer word anywhere) and continued after ``rest``. No limit when ``width`` is None;
    text is never given less than :data:`MIN_COLUMN` characters a line, so a very deep prefix
    can still exceed a narrow width."""
    if width is None or len(first) + len(text) <= width:
        return [first + text]
    head = _chunks(text, max(width - len(first), MIN_COLUMN))[0]
    lines = [(first + head).rstrip()]
    tail = text[len(head) :].removeprefix(" ")
    if tail:
        size = max(width - len(rest), MIN_COLUMN)
        lines.extend(rest + piece for piece in _chunks(tail, size))
    return lines


def table(rows: Sequence[Sequence[str]]) -> list[str]:
    """Left-aligned columns two spaces apart, trailing spaces removed."""
    widths = [max(len(row[col]) for row in rows) for col in range(len(rows[0]))]
    return [
        "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        for row in rows
    ]
