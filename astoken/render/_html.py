"""The html page of ``astoken graph --format html``: one self-contained file (no network).

The page is ``_assets/graph.html`` with the stylesheet, the script and the graph's data put in
its placeholders. The data is the render model, sorted: modules, nodes (with the module each is
drawn in, its own token and what ``--depth`` cut below it) and the merged edges as triples of
indexes (see :func:`page_data`). The script (``_assets/graph.js``) lays the graph out by
package and module, a level at a time: packages open a level at a time while at most
:data:`MAX_VISIBLE` boxes show (a closed package is one box, its edges merged), so a whole
package's graph starts as its subpackages; then boxes of modules with more than
:data:`COLLAPSE_ABOVE` shown definitions start collapsed, and more are collapsed (the largest
first) until at most :data:`MAX_VISIBLE` boxes and rows show. A module's definitions are drawn
when it is opened.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

from ._common import EXTERNAL_KINDS
from ._view import GraphView, cluster_of

#: A module box with more shown definitions than this starts collapsed.
COLLAPSE_ABOVE = 8
#: The first view shows at most this many boxes and rows (the root's row always shows).
MAX_VISIBLE = 60


def _asset(name: str) -> str:
    # Imported here: ``importlib.resources`` (and the ``tempfile`` it imports) costs ~3 ms at
    # every start of the CLI, which only the HTML page needs (issue 11, item 2).
    import importlib.resources  # noqa: PLC0415

    assets = importlib.resources.files("astoken").joinpath("_assets")
    return assets.joinpath(name).read_text(encoding="utf-8")


def page_data(view: GraphView, tokens: Mapping[str, str | None]) -> dict[str, Any]:
    """What the page's script draws (the JSON inside the page), in a compact form that keeps a
    whole package's graph small (networkx: 9,098 nodes and 152,245 edges):

    - ``modules``: the boxes, ``[name, file]`` sorted by name (a module's definitions share its
      file; ``(third-party)`` and ``(standard library)`` have none);
    - ``nodes``: ``[name, kind, module index, line]``, plus ``{"file", "token", "cut",
      "version"}`` with only what a node has besides (a file other than its module's);
    - ``edge_kinds``: the distinct sorted kind lists; ``edges``: one flat list of ``source,
      target, edge_kinds index`` triples (node indexes).
    """
    index = {node.name: i for i, node in enumerate(view.nodes)}
    cut = view.cut_counts()
    files: dict[str, str | None] = {}
    for node in view.nodes:
        if node.kind not in EXTERNAL_KINDS and node.file is not None:
            files.setdefault(cluster_of(node), node.file)
    clusters = sorted({cluster_of(node) for node in view.nodes})
    place = {name: i for i, name in enumerate(clusters)}
    nodes: list[list[Any]] = []
    for node in view.nodes:
        cluster = cluster_of(node)
        row: list[Any] = [node.name, node.kind.value, place[cluster], node.line]
        extra: dict[str, Any] = {}
        if node.file != files.get(cluster):
            extra["file"] = node.file
        if tokens.get(node.name):
            extra["token"] = tokens[node.name]
        if cut.get(node.name):
            extra["cut"] = cut[node.name]
        if node.version:
            extra["version"] = node.version
        if extra:
            row.append(extra)
        nodes.append(row)
    kinds = sorted({edge.kinds for edge in view.edges})
    kind_index = {k: i for i, k in enumerate(kinds)}
    edges: list[int] = []
    for edge in view.edges:
        edges += (index[edge.source], index[edge.target], kind_index[edge.kinds])
    return {
        "collapse_above": COLLAPSE_ABOVE,
        "edge_kinds": [list(k) for k in kinds],
        "edges": edges,
        "max_visible": MAX_VISIBLE,
        "modules": [[name, files.get(name)] for name in clusters],
        "nodes": nodes,
        "root": view.root,
        "summary": view.summary(),
        "unresolved": [u.describe() for u in view.unresolved],
    }


def render_html(view: GraphView, tokens: Mapping[str, str | None]) -> str:
    data = page_data(view, tokens)
    # "</" inside a <script> element would end it early; JSON allows "<\/" as an escape of "/".
    payload = json.dumps(data, sort_keys=True, ensure_ascii=True, separators=(",", ":"))
    payload = payload.replace("</", "<\\/")
    title = view.root.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    values = {
        "/*ASTOKEN_CSS*/": _asset("graph.css"),
        "/*ASTOKEN_JS*/": _asset("graph.js"),
        "ASTOKEN_TITLE": title,
        "ASTOKEN_DATA": payload,
    }
    # One pass, so a placeholder-like string inside the data is never substituted again.
    pattern = re.compile("|".join(re.escape(key) for key in values))
    return pattern.sub(lambda match: values[match.group(0)], _asset("graph.html"))
