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

What ``astoken graph`` draws is chosen by :func:`select` (``--edges``, ``--modules``,
``--externals``, ``--depth``); :func:`calls_only`, :func:`collapse_modules`,
:func:`hide_externals` and :func:`limit_depth` are its pure steps,
``DependencyGraph -> DependencyGraph``.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ._audit import AUDIT_FIX_NAMES, render_audit
    from ._common import (
        DOT_TIMEOUT,
        FILE_WIDTH,
        SHORT_TOKEN,
        EdgeSet,
        GraphFormat,
        OutputFormat,
    )
    from ._dot import DRAW_EDGES, DRAW_NODES
    from ._graphs import draw_graph, render_graph, render_graph_image, shows_tokens
    from ._results import (
        diff_notes,
        render_dependencies,
        render_dependency_lists,
        render_diff,
        render_explanation,
        render_explanations,
        render_tokens,
        unavailable_notes,
    )
    from ._view import Selection, calls_only, collapse_modules, hide_externals, limit_depth, select

__all__ = [
    "AUDIT_FIX_NAMES",
    "DOT_TIMEOUT",
    "DRAW_EDGES",
    "DRAW_NODES",
    "FILE_WIDTH",
    "SHORT_TOKEN",
    "EdgeSet",
    "GraphFormat",
    "OutputFormat",
    "Selection",
    "calls_only",
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
    "render_explanations",
    "render_graph",
    "render_graph_image",
    "render_tokens",
    "select",
    "shows_tokens",
    "unavailable_notes",
]

#: Where each public name lives. The package imports a submodule when one of its names is
#: first used (PEP 562): ``astoken token`` renders tokens only, and the graph views, Graphviz
#: runner and HTML page cost ~25 million instructions at every start of the CLI (issue 11,
#: item 2).
_HOME: dict[str, str] = {
    "AUDIT_FIX_NAMES": "_audit",
    "render_audit": "_audit",
    "DOT_TIMEOUT": "_common",
    "FILE_WIDTH": "_common",
    "SHORT_TOKEN": "_common",
    "EdgeSet": "_common",
    "GraphFormat": "_common",
    "OutputFormat": "_common",
    "DRAW_EDGES": "_dot",
    "DRAW_NODES": "_dot",
    "draw_graph": "_graphs",
    "render_graph": "_graphs",
    "render_graph_image": "_graphs",
    "shows_tokens": "_graphs",
    "diff_notes": "_results",
    "render_dependencies": "_results",
    "render_dependency_lists": "_results",
    "render_diff": "_results",
    "render_explanation": "_results",
    "render_explanations": "_results",
    "render_tokens": "_results",
    "unavailable_notes": "_results",
    "Selection": "_view",
    "calls_only": "_view",
    "collapse_modules": "_view",
    "hide_externals": "_view",
    "limit_depth": "_view",
    "select": "_view",
}


def __getattr__(name: str) -> Any:
    home = _HOME.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{home}"), name)
    globals()[name] = value  # the next lookup is an ordinary global
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_HOME})
