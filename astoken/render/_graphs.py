"""What ``astoken graph`` draws: a dependency graph, selected (:func:`select`), as text, json,
dot, mermaid or html (:func:`render_graph`), or as an SVG/PNG picture (:func:`render_graph_image`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from astoken._model import DependencyGraph

from ._common import (
    DOT_TIMEOUT,
    EdgeSet,
    GraphFormat,
    dumps,
    edge_json,
    node_json,
    unresolved_json,
)
from ._dot import render_dot, render_image, render_mermaid
from ._html import render_html
from ._pycg import render_pycg
from ._tree import render_tree
from ._view import GraphView, Selection, select

__all__ = ["draw_graph", "render_graph", "render_graph_image", "shows_tokens"]


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
    edges: EdgeSet | str = EdgeSet.ALL,
) -> str:
    """Render ``graph`` as text, json, dot, mermaid, html or pycg (svg/png:
    :func:`render_graph_image`).

    ``edges``, ``modules``, ``externals`` and ``depth`` select what is drawn (:func:`select`);
    pycg (PyCG's JSON: caller -> callees) always draws the calls. ``tokens`` (node name -> own
    token, e.g. from :func:`astoken.explain`) is shown in the html side panel; nodes without
    one show "not computed". ``width`` wraps the text tree's lines.
    """
    fmt = GraphFormat(fmt)
    if fmt.is_image:
        raise ValueError(f"{fmt.value} is an image format: use render_graph_image")
    if fmt is GraphFormat.PYCG:
        edges = EdgeSet.CALLS
    selection = select(graph, modules=modules, externals=externals, depth=depth, edges=edges)
    if fmt is GraphFormat.PYCG:
        return render_pycg(selection.graph)
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
    edges: EdgeSet | str = EdgeSet.ALL,
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
        graph,
        fmt,
        modules=modules,
        externals=externals,
        depth=depth,
        timeout=timeout,
        edges=EdgeSet(edges),
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
    edges: EdgeSet | str = EdgeSet.ALL,
) -> str | bytes:
    """What ``astoken graph`` writes: :func:`render_graph_image` for svg/png (bytes),
    :func:`render_graph` otherwise (text)."""
    fmt = GraphFormat(fmt)
    if fmt.is_image:
        return render_graph_image(
            graph,
            fmt,
            modules=modules,
            externals=externals,
            depth=depth,
            timeout=timeout,
            edges=edges,
        )
    return render_graph(
        graph,
        fmt,
        tokens=tokens,
        modules=modules,
        externals=externals,
        depth=depth,
        width=width,
        edges=edges,
    )
