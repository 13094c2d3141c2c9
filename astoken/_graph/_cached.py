"""A built graph as a snapshot needs it later, in JSON: its nodes, unresolved references, the
closure of every root, and the journal its build recorded (``_journal``).

A snapshot of a package never walks its graph except to take closures, so the graph itself is
not kept: a cache hit gives every root's closure at once. Names are written once (a table) and
closures as lists of indexes into it, identical closures once: a networkx snapshot's 2,100
closures of ~150 names take ~1 MB.

:func:`decode_build` raises ValueError for anything that is not what :func:`encode_build`
wrote (a damaged entry is a miss to its caller, never a wrong graph).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from astoken._model import Node, NodeKind, Unresolved

#: Version of the layout below (bump when it changes meaning).
LAYOUT = 1


@dataclass(frozen=True, slots=True)
class CachedBuild:
    """What a snapshot takes from its build: roots, nodes by name, the unresolved references,
    each root's closure (the root included) and the build's journal."""

    roots: tuple[str, ...]
    nodes: dict[str, Node]
    unresolved: tuple[Unresolved, ...]
    closures: dict[str, frozenset[str]]
    journal: list[list[Any]]


def encode_build(build: CachedBuild) -> str:
    """``build`` as JSON text (see the module docstring)."""
    names = sorted(build.nodes)
    index = {name: i for i, name in enumerate(names)}
    files = sorted({node.file for node in build.nodes.values() if node.file is not None})
    file_index = {file: i for i, file in enumerate(files)}
    sets: dict[tuple[int, ...], int] = {}
    closures = []
    for root in build.roots:
        members = tuple(sorted(index[name] for name in build.closures[root]))
        closures.append(sets.setdefault(members, len(sets)))
    document = {
        "layout": LAYOUT,
        "names": names,
        "files": files,
        "nodes": [
            [
                node.kind.value,
                -1 if node.file is None else file_index[node.file],
                node.line,
                node.version,
            ]
            for node in (build.nodes[name] for name in names)
        ],
        "unresolved": [[u.owner, u.expression, u.reason, u.file, u.line] for u in build.unresolved],
        "roots": list(build.roots),
        "sets": [list(members) for members in sets],
        "closures": closures,
        "journal": build.journal,
    }
    return json.dumps(document, separators=(",", ":"))


def decode_build(text: str) -> CachedBuild:
    """The build :func:`encode_build` wrote as ``text``; ValueError ("malformed cached build:
    ...") for anything else."""
    try:
        document = json.loads(text)
        if not isinstance(document, dict) or document.get("layout") != LAYOUT:
            raise ValueError("not a cached build of this layout")
        names = _strings(document["names"])
        files = _strings(document["files"])
        nodes: dict[str, Node] = {}
        rows = document["nodes"]
        if not isinstance(rows, list) or len(rows) != len(names):
            raise ValueError("nodes do not match names")
        for name, (kind, file, line, version) in zip(names, rows, strict=True):
            if not isinstance(line, (int, type(None))) or not isinstance(version, str):
                raise ValueError(f"malformed node {name!r}")
            where = None if file == -1 else files[file]
            nodes[name] = Node(name, NodeKind(kind), where, line, version)
        unresolved = tuple(
            Unresolved(_text(owner), _text(expression), _text(reason), _file(file), _int(line))
            for owner, expression, reason, file, line in document["unresolved"]
        )
        roots = _strings(document["roots"])
        sets = [frozenset(names[i] for i in members) for members in document["sets"]]
        closures = dict(zip(roots, (sets[i] for i in document["closures"]), strict=True))
        journal = document["journal"]
        if not isinstance(journal, list) or not all(isinstance(e, list) for e in journal):
            raise ValueError("malformed journal")
    except (ValueError, KeyError, IndexError, TypeError, RecursionError) as exc:
        raise ValueError(f"malformed cached build: {exc}") from exc
    return CachedBuild(tuple(roots), nodes, unresolved, closures, journal)


def _strings(value: object) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise ValueError("expected a list of strings")
    return value


def _text(value: object) -> str:
    if not isinstance(value, str):
        raise ValueError(f"expected a string, not {type(value).__name__}")
    return value


def _file(value: object) -> str | None:
    return None if value is None else _text(value)


def _int(value: object) -> int:
    if not isinstance(value, int):
        raise ValueError(f"expected an int, not {type(value).__name__}")
    return value
