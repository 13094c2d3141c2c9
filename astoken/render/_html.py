"""The html page of ``astoken graph --format html``: one self-contained file (no network).

The page is ``_assets/graph.html`` with the stylesheet, the script and the graph's data put in
its placeholders. The data is the render model, sorted: nodes (with the box each is drawn in,
its name there, its own token and what ``--depth`` cut below it) and the merged edges as
pairs of node indexes. The script (``_assets/graph.js``) lays the graph out by module: boxes
of modules with more than :data:`COLLAPSE_ABOVE` shown definitions start collapsed, and more
are collapsed (the largest first) until at most :data:`MAX_VISIBLE` boxes and rows show.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

from ._view import GraphView, cluster_of, short_name

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
    """What the page's script draws (the JSON inside the page)."""
    index = {node.name: i for i, node in enumerate(view.nodes)}
    cut = view.cut_counts()
    return {
        "collapse_above": COLLAPSE_ABOVE,
        "edges": [[index[e.source], index[e.target], list(e.kinds)] for e in view.edges],
        "max_visible": MAX_VISIBLE,
        "nodes": [
            {
                "cut": cut.get(node.name, 0),
                "file": node.file,
                "kind": node.kind.value,
                "label": short_name(node),
                "line": node.line,
                "module": cluster_of(node),
                "name": node.name,
                "token": tokens.get(node.name),
                "version": node.version,
            }
            for node in view.nodes
        ],
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
