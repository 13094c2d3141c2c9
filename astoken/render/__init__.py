"""Render astoken's results as text, JSON, Graphviz DOT, Mermaid, SVG/PNG and HTML.

Rendering has no analysis in it. Each renderer first builds a small *render model* (nodes
and merged edges, sorted by name) and then writes it out in that order, so:

1. rendering the same value twice gives byte-identical output;
2. the output does not depend on the order of ``nodes``/``edges`` in the input value;
3. every node and edge of the (selected) graph appears exactly once in dot/mermaid/json/html;
4. the text tree expands each node once, at its shortest path from the root; a node met again
   is marked ``(see above)`` or ``(see below)``, one met again on its own path ``(cycle)``;
   a summary line counts nodes, edges and modules;
5. ``--depth`` marks each node whose dependencies it cut, with how many (text, dot, mermaid,
   html);
6. an SVG/PNG picture is drawn whole, or by module when the whole is too large to read, or
   refused with the ``--depth`` that makes it fit; ``dot`` runs under a time limit;
7. with a ``width``, text lines are wrapped to it (a deep tree prefix or a long name still
   keeps at least 24 characters a line).

What ``astoken graph`` draws is chosen by :func:`select` (``--modules``, ``--externals``,
``--depth``); :func:`collapse_modules`, :func:`hide_externals` and :func:`limit_depth` are its
pure steps, ``DependencyGraph -> DependencyGraph``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from astoken._model import DependencyGraph

from ._audit import AUDIT_FIX_NAMES, render_audit
from ._common import (
    SHORT_TOKEN,
    GraphFormat,
    OutputFormat,
    dumps,
    edge_json,
    node_json,
    unresolved_json,
)
from ._dot import DOT_TIMEOUT, DRAW_EDGES, DRAW_NODES, render_dot, render_image, render_mermaid
from ._html import render_html
from ._results import (
    diff_notes,
    render_dependencies,
    render_dependency_lists,
    render_diff,
    render_explanation,
    render_tokens,
)
from ._tree import render_tree
from ._view import (
    GraphView,
    Selection,
    collapse_modules,
    hide_externals,
    limit_depth,
    select,
)

#: Columns ``astoken graph`` wraps its text tree to when it does not write to a terminal.
FILE_WIDTH = 120

__all__ = [
    "AUDIT_FIX_NAMES",
    "DOT_TIMEOUT",
    "DRAW_EDGES",
    "DRAW_NODES",
    "FILE_WIDTH",
    "SHORT_TOKEN",
    "GraphFormat",
    "OutputFormat",
    "Selection",
    "collapse_modules",
    "diff_notes",
    "draw_graph",
    "hide_externals",
    "limit_depth",
    "render_audit",
    "render_dependencies",
    "render_dependency_lists",
    "render_diff",
    "render_explanation",
    "render_graph",
    "render_graph_image",
    "render_tokens",
    "select",
    "shows_tokens",
]


def _graph_json(selection: Selection) -> str:
    graph = selection.graph
    view = GraphView.of(graph, selection.cut)
    edges = sorted(graph.edges, key=lambda e: (e.source, e.target, e.kind.value, e.line))
    document: dict[str, Any] = {
        "edges": [edge_json(e) for e in edges],
        "nodes": [node_json(n) for n in view.nodes],
        "root": graph.root,
        "unresolved": [unresolved_json(u) for u in view.unresolved],
    }
    if selection.cut:
        document["cut"] = dict(selection.cut)
    return dumps(document)


def render_graph(
    graph: DependencyGraph,
    fmt: GraphFormat | str,
    *,
    tokens: Mapping[str, str | None] | None = None,
    modules: bool = False,
    externals: bool = True,
    depth: int | None = None,
    width: int | None = None,
) -> str:
    """Render ``graph`` as text, json, dot, mermaid or html (svg/png: :func:`render_graph_image`).

    ``modules``, ``externals`` and ``depth`` select what is drawn (:func:`select`). ``tokens``
    (node name -> own token, e.g. from :func:`astoken.explain`) is shown in the html side panel;
    nodes without one show "not computed". ``width`` wraps the text tree's lines.
    """
    fmt = GraphFormat(fmt)
    if fmt.is_image:
        raise ValueError(f"{fmt.value} is an image format: use render_graph_image")
    selection = select(graph, modules=modules, externals=externals, depth=depth)
    if fmt is GraphFormat.JSON:
        return _graph_json(selection)
    view = GraphView.of(selection.graph, selection.cut)
    if fmt is GraphFormat.TEXT:
        return render_tree(view, width)
    if fmt is GraphFormat.DOT:
        return render_dot(view)
    if fmt is GraphFormat.MERMAID:
        return render_mermaid(view)
    return render_html(view, tokens or {})


def render_graph_image(
    graph: DependencyGraph,
    fmt: GraphFormat | str,
    *,
    modules: bool = False,
    externals: bool = True,
    depth: int | None = None,
    timeout: float = DOT_TIMEOUT,
) -> bytes:
    """Render ``graph`` to SVG or PNG bytes with Graphviz's ``dot`` program (guarantee 6).

    Raises :class:`~astoken.errors.GraphvizNotFoundError` when ``dot`` is not on PATH and
    :class:`~astoken.errors.GraphTooLargeError` when the graph cannot be drawn readably or
    ``dot`` takes more than ``timeout`` seconds.
    """
    fmt = GraphFormat(fmt)
    if not fmt.is_image:
        raise ValueError(f"{fmt.value} is not an image format")
    return render_image(
        graph, fmt, modules=modules, externals=externals, depth=depth, timeout=timeout
    )


def shows_tokens(fmt: GraphFormat | str, *, modules: bool = False) -> bool:
    """Whether a graph drawn in ``fmt`` shows each node's token (the html side panel does,
    except for a module-level graph, whose nodes have none)."""
    return GraphFormat(fmt) is GraphFormat.HTML and not modules


def draw_graph(
    graph: DependencyGraph,
    fmt: GraphFormat | str,
    *,
    tokens: Mapping[str, str | None] | None = None,
    modules: bool = False,
    externals: bool = True,
    depth: int | None = None,
    width: int | None = None,
    timeout: float = DOT_TIMEOUT,
) -> str | bytes:
    """What ``astoken graph`` writes: :func:`render_graph_image` for svg/png (bytes),
    :func:`render_graph` otherwise (text)."""
    fmt = GraphFormat(fmt)
    if fmt.is_image:
        return render_graph_image(
            graph, fmt, modules=modules, externals=externals, depth=depth, timeout=timeout
        )
    return render_graph(
        graph, fmt, tokens=tokens, modules=modules, externals=externals, depth=depth, width=width
    )
