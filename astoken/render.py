"""Render astoken's results as text, JSON, Graphviz DOT, Mermaid, SVG/PNG and HTML.

Rendering has no analysis in it. Each renderer first builds a small *render model* (nodes
and merged edges, sorted by name) and then writes it out in that order, so:

1. rendering the same value twice gives byte-identical output;
2. the output does not depend on the order of ``nodes``/``edges`` in the input value;
3. every node and edge of the (filtered) graph appears exactly once in dot/mermaid/json/html;
4. the text tree expands each node once: a node met again is marked ``(see above)`` and a
   node met again on its own path is marked ``(cycle)``.

Graph transformations the CLI offers (:func:`collapse_modules`, :func:`hide_externals`,
:func:`limit_depth`) are pure functions ``DependencyGraph -> DependencyGraph``.
"""

from __future__ import annotations

import enum
import importlib.resources
import json
import re
import shutil
import subprocess
from collections import deque
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ._audit_codec import report_to_dict
from ._model import (
    AuditedTest,
    AuditReport,
    DependencyGraph,
    Edge,
    Explanation,
    MissedFunction,
    Node,
    NodeKind,
    RefKind,
    SnapshotDiff,
    Unresolved,
)
from .errors import GraphvizNotFoundError

__all__ = [
    "AUDIT_FIX_NAMES",
    "GraphFormat",
    "OutputFormat",
    "collapse_modules",
    "hide_externals",
    "limit_depth",
    "render_audit",
    "render_dependencies",
    "render_diff",
    "render_explanation",
    "render_graph",
    "render_graph_image",
    "render_tokens",
]

#: Length of the short token form shown in tables.
SHORT_TOKEN = 12


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

    @property
    def is_binary(self) -> bool:
        """True for formats whose output is bytes (PNG)."""
        return self is GraphFormat.PNG


_EXTERNAL_KINDS = frozenset({NodeKind.EXTERNAL, NodeKind.STDLIB})


# --------------------------------------------------------------------------------------------
# Pure graph transformations.
# --------------------------------------------------------------------------------------------


def _module_of(node: Node) -> str:
    if node.kind in _EXTERNAL_KINDS or node.kind is NodeKind.MODULE:
        return node.name
    return node.name.partition(":")[0]


def collapse_modules(graph: DependencyGraph) -> DependencyGraph:
    """The module-level graph: each definition is replaced by its module.

    External and standard-library leaves stay as they are; edges between definitions of one
    module disappear; parallel edges of one kind are merged (their line becomes 0).
    """
    module_of = {node.name: _module_of(node) for node in graph.nodes}
    nodes: dict[str, Node] = {}
    for node in sorted(graph.nodes, key=lambda n: n.name):
        name = module_of[node.name]
        if node.kind in _EXTERNAL_KINDS:
            nodes[name] = node
            continue
        known = nodes.get(name)
        if known is None or (known.file is None and node.file is not None):
            nodes[name] = Node(name=name, kind=NodeKind.MODULE, file=node.file, line=None)
    root = module_of.get(graph.root, graph.root.partition(":")[0])
    edges = {
        (module_of.get(e.source, e.source), module_of.get(e.target, e.target), e.kind)
        for e in graph.edges
    }
    return DependencyGraph(
        root=root,
        nodes=tuple(nodes[name] for name in sorted(nodes)),
        edges=tuple(
            Edge(source=s, target=t, kind=k)
            for s, t, k in sorted(edges, key=lambda x: (x[0], x[1], x[2].value))
            if s != t
        ),
        unresolved=graph.unresolved,
    )


def hide_externals(graph: DependencyGraph) -> DependencyGraph:
    """The graph without third-party and standard-library leaves (and edges to them)."""
    keep = {n.name for n in graph.nodes if n.kind not in _EXTERNAL_KINDS}
    return DependencyGraph(
        root=graph.root,
        nodes=tuple(n for n in graph.nodes if n.name in keep),
        edges=tuple(e for e in graph.edges if e.source in keep and e.target in keep),
        unresolved=graph.unresolved,
    )


def _start_nodes(root: str, names: Iterable[str], pairs: Iterable[tuple[str, str]]) -> list[str]:
    """Where a walk over the whole graph starts: the root (when it is a node), then, for what
    the root does not reach (a package graph), the nodes nothing points to, then one node of
    each remaining cycle. Every node is reachable from the result; the order is by name."""
    ordered = sorted(set(names))
    successors: dict[str, set[str]] = {}
    pointed_to: set[str] = set()
    for source, target in pairs:
        successors.setdefault(source, set()).add(target)
        if source != target:
            pointed_to.add(target)
    starts: list[str] = []
    reached: set[str] = set()

    def visit(start: str) -> None:
        starts.append(start)
        stack = [start]
        reached.add(start)
        while stack:
            for nxt in successors.get(stack.pop(), ()):
                if nxt not in reached:
                    reached.add(nxt)
                    stack.append(nxt)

    if root in ordered:
        visit(root)
    for name in ordered:
        if name not in reached and name not in pointed_to:
            visit(name)
    for name in ordered:
        if name not in reached:
            visit(name)
    return starts


def limit_depth(graph: DependencyGraph, depth: int) -> DependencyGraph:
    """Only the nodes at most ``depth`` edges from the root (and, in a package graph, from the
    nodes nothing points to)."""
    successors: dict[str, set[str]] = {}
    for edge in graph.edges:
        successors.setdefault(edge.source, set()).add(edge.target)
    starts = _start_nodes(
        graph.root, (n.name for n in graph.nodes), ((e.source, e.target) for e in graph.edges)
    )
    distance = dict.fromkeys(starts, 0)
    queue = deque(distance)
    while queue:
        name = queue.popleft()
        if distance[name] >= depth:
            continue
        for nxt in sorted(successors.get(name, ())):
            if nxt not in distance:
                distance[nxt] = distance[name] + 1
                queue.append(nxt)
    return DependencyGraph(
        root=graph.root,
        nodes=tuple(n for n in graph.nodes if n.name in distance),
        edges=tuple(e for e in graph.edges if e.source in distance and e.target in distance),
        unresolved=graph.unresolved,
    )


# --------------------------------------------------------------------------------------------
# The render model of a graph.
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _ViewEdge:
    source: str
    target: str
    kinds: tuple[str, ...]

    @property
    def label(self) -> str:
        return ", ".join(self.kinds)


@dataclass(frozen=True, slots=True)
class _GraphView:
    """Sorted nodes, edges merged per (source, target) with sorted kinds, and adjacency."""

    root: str
    nodes: tuple[Node, ...]
    edges: tuple[_ViewEdge, ...]
    unresolved: tuple[Unresolved, ...]

    @classmethod
    def of(cls, graph: DependencyGraph) -> _GraphView:
        known = {n.name: n for n in graph.nodes}
        kinds: dict[tuple[str, str], set[str]] = {}
        for edge in graph.edges:
            for name in (edge.source, edge.target):
                # An edge to a name with no node still gets drawn: invent a bare node for it.
                known.setdefault(name, Node(name=name, kind=NodeKind.EXTERNAL))
            kinds.setdefault((edge.source, edge.target), set()).add(edge.kind.value)
        return cls(
            root=graph.root,
            nodes=tuple(known[name] for name in sorted(known)),
            edges=tuple(
                _ViewEdge(source=s, target=t, kinds=tuple(sorted(k)))
                for (s, t), k in sorted(kinds.items())
            ),
            unresolved=tuple(
                sorted(
                    graph.unresolved,
                    key=lambda u: (u.owner, u.file or "", u.line, u.expression, u.reason),
                )
            ),
        )

    def children(self) -> dict[str, list[_ViewEdge]]:
        out: dict[str, list[_ViewEdge]] = {}
        for edge in self.edges:
            out.setdefault(edge.source, []).append(edge)
        return out


def _kind_label(node: Node) -> str:
    if node.version:
        return f"{node.kind.value} {node.version}"
    return node.kind.value


# --------------------------------------------------------------------------------------------
# Graph renderers.
# --------------------------------------------------------------------------------------------


def _render_tree(view: _GraphView) -> str:
    if not view.nodes:
        return f"{view.root} (empty graph)\n"
    nodes = {n.name: n for n in view.nodes}
    children = view.children()
    expanded: set[str] = set()
    lines: list[str] = []
    starts = _start_nodes(view.root, nodes, ((e.source, e.target) for e in view.edges))
    # An explicit stack instead of recursion: real graphs can be deeper than the recursion limit.
    # Items: (name, prefix for its children, line text, ancestors on the current path).
    stack: list[tuple[str, str, str, frozenset[str]]] = [
        (name, "", f"{name} [{_kind_label(nodes[name])}]", frozenset()) for name in reversed(starts)
    ]
    while stack:
        name, prefix, text, ancestors = stack.pop()
        kids = children.get(name, [])
        if name in ancestors:
            lines.append(f"{text} (cycle)")
            continue
        if name in expanded and kids:
            lines.append(f"{text} (see above)")
            continue
        lines.append(text)
        expanded.add(name)
        path = ancestors | {name}
        pending = []
        for index, edge in enumerate(kids):
            last = index == len(kids) - 1
            connector = "└── " if last else "├── "
            child = nodes[edge.target]
            line = f"{prefix}{connector}{child.name} [{_kind_label(child)}] ({edge.label})"
            pending.append((child.name, prefix + ("    " if last else "│   "), line, path))
        stack.extend(reversed(pending))
    if view.unresolved:
        lines.append("")
        lines.append(f"unresolved references ({len(view.unresolved)}):")
        lines.extend(f"  {u.describe()}" for u in view.unresolved)
    return "\n".join(lines) + "\n"


def _node_json(node: Node) -> dict[str, Any]:
    return {
        "file": node.file,
        "kind": node.kind.value,
        "line": node.line,
        "name": node.name,
        "version": node.version,
    }


def _unresolved_json(item: Unresolved) -> dict[str, Any]:
    return {
        "expression": item.expression,
        "file": item.file,
        "line": item.line,
        "owner": item.owner,
        "reason": item.reason,
    }


def _edge_json(edge: Edge) -> dict[str, Any]:
    return {
        "kind": edge.kind.value,
        "line": edge.line,
        "source": edge.source,
        "target": edge.target,
    }


def _dumps(document: object) -> str:
    return json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def _render_graph_json(graph: DependencyGraph) -> str:
    edges = sorted(graph.edges, key=lambda e: (e.source, e.target, e.kind.value, e.line))
    return _dumps(
        {
            "edges": [_edge_json(e) for e in edges],
            "nodes": [_node_json(n) for n in _GraphView.of(graph).nodes],
            "root": graph.root,
            "unresolved": [_unresolved_json(u) for u in _GraphView.of(graph).unresolved],
        }
    )


#: (dot shape, fill colour, border colour, mermaid open/close brackets) per node kind.
_NODE_STYLE: Mapping[NodeKind, tuple[str, str, str, str, str]] = {
    NodeKind.FUNCTION: ("box", "#dbeafe", "#2563eb", '("', '")'),
    NodeKind.METHOD: ("box", "#e0e7ff", "#4f46e5", '("', '")'),
    NodeKind.NESTED: ("box", "#f0f9ff", "#7dd3fc", '("', '")'),
    NodeKind.CLASS: ("component", "#dcfce7", "#16a34a", '[["', '"]]'),
    NodeKind.CONSTANT: ("note", "#fef9c3", "#ca8a04", '[/"', '"/]'),
    NodeKind.MODULE: ("folder", "#f3e8ff", "#9333ea", '{{"', '"}}'),
    NodeKind.EXTERNAL: ("ellipse", "#fee2e2", "#dc2626", '(["', '"])'),
    NodeKind.STDLIB: ("ellipse", "#f3f4f6", "#6b7280", '(["', '"])'),
}

#: Line style per edge kind in DOT (others are solid).
_EDGE_STYLE: Mapping[str, str] = {
    RefKind.BASE_CLASS.value: "bold",
    RefKind.METACLASS.value: "bold",
    RefKind.DECLARED.value: "dashed",
    RefKind.METHOD.value: "dashed",
    RefKind.OVERRIDE.value: "dashed",
    RefKind.DYNAMIC.value: "dotted",
    RefKind.RUNTIME.value: "dotted",
    RefKind.MEMBER.value: "dotted",
}


def _dot_quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def _render_dot(view: _GraphView) -> str:
    lines = [
        "digraph astoken {",
        f"  graph [rankdir=LR, fontname=Helvetica, label={_dot_quote(view.root)}, labelloc=t];",
        "  node [fontname=Helvetica, fontsize=10, style=filled];",
        '  edge [fontname=Helvetica, fontsize=9, color="#555555"];',
    ]
    for node in view.nodes:
        shape, fill, border, _, _ = _NODE_STYLE[node.kind]
        label = node.name if not node.version else f"{node.name}\n{node.version}"
        extra = ", penwidth=2.5" if node.name == view.root else ""
        where = f"{node.file}:{node.line}" if node.line is not None else f"{node.file}"
        tooltip = f"{node.kind.value}" + (f" {where}" if node.file else "")
        lines.append(
            f"  {_dot_quote(node.name)} [label={_dot_quote(label)}, shape={shape}, "
            f'fillcolor="{fill}", color="{border}", tooltip={_dot_quote(tooltip)}{extra}];'
        )
    for edge in view.edges:
        style = next((_EDGE_STYLE[k] for k in edge.kinds if k in _EDGE_STYLE), "solid")
        lines.append(
            f"  {_dot_quote(edge.source)} -> {_dot_quote(edge.target)} "
            f"[label={_dot_quote(edge.label)}, style={style}];"
        )
    lines.append("}")
    return "\n".join(lines) + "\n"


def _mermaid_text(text: str) -> str:
    # Mermaid has no backslash escapes inside quoted labels; it uses HTML entity codes.
    return (
        text.replace("&", "#amp;").replace('"', "#quot;").replace("<", "#lt;").replace(">", "#gt;")
    )


def _render_mermaid(view: _GraphView) -> str:
    ids = {node.name: f"n{index}" for index, node in enumerate(view.nodes)}
    lines = ["flowchart LR"]
    for node in view.nodes:
        _, _, _, opening, closing = _NODE_STYLE[node.kind]
        label = node.name if not node.version else f"{node.name} {node.version}"
        lines.append(f"  {ids[node.name]}{opening}{_mermaid_text(label)}{closing}")
    for edge in view.edges:
        lines.append(f'  {ids[edge.source]} -->|"{edge.label}"| {ids[edge.target]}')
    for kind in NodeKind:
        members = [ids[n.name] for n in view.nodes if n.kind is kind]
        if members:
            _, fill, border, _, _ = _NODE_STYLE[kind]
            lines.append(f"  classDef {kind.value} fill:{fill},stroke:{border},color:#111111;")
            lines.append(f"  class {','.join(members)} {kind.value};")
    if view.root in ids:
        lines.append("  classDef root stroke-width:3px;")
        lines.append(f"  class {ids[view.root]} root;")
    return "\n".join(lines) + "\n"


def _asset(name: str) -> str:
    assets = importlib.resources.files("astoken").joinpath("_assets")
    return assets.joinpath(name).read_text(encoding="utf-8")


def _render_html(view: _GraphView, tokens: Mapping[str, str | None]) -> str:
    data = {
        "edges": [
            {"kinds": list(e.kinds), "source": e.source, "target": e.target} for e in view.edges
        ],
        "nodes": [{**_node_json(n), "token": tokens.get(n.name)} for n in view.nodes],
        "root": view.root,
        "unresolved": [u.describe() for u in view.unresolved],
    }
    # "</" inside a <script> element would end it early; JSON allows "<\/" as an escape of "/".
    payload = json.dumps(data, indent=1, sort_keys=True, ensure_ascii=True).replace("</", "<\\/")
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


def render_graph(
    graph: DependencyGraph,
    fmt: GraphFormat | str,
    *,
    tokens: Mapping[str, str | None] | None = None,
) -> str:
    """Render ``graph`` as text, json, dot, mermaid or html (svg/png: :func:`render_graph_image`).

    ``tokens`` (node name -> own token, e.g. from :func:`astoken.explain`) is shown in the html
    side panel; nodes without one show "not computed".
    """
    fmt = GraphFormat(fmt)
    view = _GraphView.of(graph)
    if fmt is GraphFormat.TEXT:
        return _render_tree(view)
    if fmt is GraphFormat.JSON:
        return _render_graph_json(graph)
    if fmt is GraphFormat.DOT:
        return _render_dot(view)
    if fmt is GraphFormat.MERMAID:
        return _render_mermaid(view)
    if fmt is GraphFormat.HTML:
        return _render_html(view, tokens or {})
    raise ValueError(f"{fmt.value} is an image format: use render_graph_image")


def render_graph_image(graph: DependencyGraph, fmt: GraphFormat | str) -> bytes:
    """Render ``graph`` to SVG or PNG bytes with Graphviz's ``dot`` program.

    Raises :class:`~astoken.errors.GraphvizNotFoundError` when ``dot`` is not on PATH.
    """
    fmt = GraphFormat(fmt)
    if fmt not in (GraphFormat.SVG, GraphFormat.PNG):
        raise ValueError(f"{fmt.value} is not an image format")
    dot = shutil.which("dot")
    if dot is None:
        raise GraphvizNotFoundError(fmt.value)
    result = subprocess.run(
        [dot, f"-T{fmt.value}"],
        input=_render_dot(_GraphView.of(graph)).encode("utf-8"),
        capture_output=True,
        check=False,
    )
    if result.returncode != 0:
        # The DOT text is ours, so a failure here is an astoken bug, not a user error.
        message = result.stderr.decode("utf-8", "replace").strip()
        raise RuntimeError(f"Graphviz dot failed (exit {result.returncode}): {message}")
    return result.stdout


# --------------------------------------------------------------------------------------------
# Other results.
# --------------------------------------------------------------------------------------------


def render_tokens(tokens: Sequence[tuple[str, str | None]], fmt: OutputFormat | str) -> str:
    """``astoken token``: one token per line (text) or ``{target: token}`` (json).

    In text a None token (nothing to hash) prints as ``none``; the CLI refuses it before.
    """
    fmt = OutputFormat(fmt)
    if fmt is OutputFormat.JSON:
        return _dumps(dict(tokens))
    return "".join(f"{token or 'none'}\n" for _, token in tokens)


def render_dependencies(names: Iterable[str], fmt: OutputFormat | str) -> str:
    """``astoken deps``: sorted names, one per line (text) or a JSON list."""
    fmt = OutputFormat(fmt)
    ordered = sorted(set(names))
    if fmt is OutputFormat.JSON:
        return _dumps(ordered)
    return "".join(f"{name}\n" for name in ordered)


def _describe_path(path: Sequence[Edge]) -> str:
    if not path:
        return "(target)"
    return " → ".join(f"{edge.kind.value} {edge.target}" for edge in path)


def _table(rows: Sequence[Sequence[str]]) -> list[str]:
    widths = [max(len(row[col]) for row in rows) for col in range(len(rows[0]))]
    return [
        "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        for row in rows
    ]


def render_explanation(explanation: Explanation, fmt: OutputFormat | str) -> str:
    """``astoken explain``: the token, a table of dependencies, unresolved references, then
    what the target's code does to its arguments (covered by the caller)."""
    fmt = OutputFormat(fmt)
    dependencies = sorted(explanation.dependencies, key=lambda d: d.name)
    unresolved = _GraphView.of(
        DependencyGraph(root="", nodes=(), edges=(), unresolved=explanation.unresolved)
    ).unresolved
    if fmt is OutputFormat.JSON:
        return _dumps(
            {
                "dependencies": [
                    {
                        "file": d.file,
                        "kind": d.kind.value,
                        "line": d.line,
                        "name": d.name,
                        "path": [_edge_json(e) for e in d.path],
                        "token": d.token,
                    }
                    for d in dependencies
                ],
                "target": explanation.target,
                "token": explanation.token,
                "unresolved": [_unresolved_json(u) for u in unresolved],
                "via_argument": [
                    {"file": a.file, "line": a.line, "members": list(a.members), "owner": a.owner}
                    for a in explanation.arguments
                ],
            }
        )
    if explanation.token is not None:
        shown = explanation.token
    elif explanation.dependencies and not any(d.token for d in explanation.dependencies):
        shown = "not computed (static analysis: nothing was imported)"
    else:
        shown = "none (nothing to hash)"
    lines = [f"{explanation.target}  {shown}", ""]
    if dependencies:
        rows = [("NAME", "KIND", "TOKEN", "REACHED VIA")]
        rows.extend(
            (d.name, d.kind.value, d.token[:SHORT_TOKEN], _describe_path(d.path))
            for d in dependencies
        )
        lines.append(f"dependencies ({len(dependencies)}):")
        lines.extend(_table(rows))
    else:
        lines.append("dependencies: none")
    lines.append("")
    if unresolved:
        lines.append(f"unresolved references ({len(unresolved)}):")
        lines.extend(f"  {u.describe()}" for u in unresolved)
    else:
        lines.append("unresolved references: none")
    if explanation.arguments:
        # Operations on the caller's objects: covered by the caller's closure or cache key.
        lines.append("")
        lines.append(f"via argument, covered by the caller ({len(explanation.arguments)}):")
        lines.extend(f"  {a.describe()}" for a in explanation.arguments)
    return "\n".join(lines) + "\n"


def _join_names(names: Sequence[str]) -> str:
    if len(names) <= 1:
        return "".join(names)
    return ", ".join(names[:-1]) + " and " + names[-1]


def _diff_reason(target: str, causes: Sequence[str]) -> str:
    if not causes:
        return f"{target} changed (no changed definition: the interpreter or settings differ)"
    parts = ["its own code"] if target in causes else []
    parts.extend(name for name in causes if name != target)
    return f"{target} changed because {_join_names(parts)} changed"


def render_diff(diff: SnapshotDiff, fmt: OutputFormat | str) -> str:
    """``astoken diff``: one line per changed target with its causes, then added/removed.

    Text output is empty when nothing changed (like ``git diff``).
    """
    fmt = OutputFormat(fmt)
    changed = sorted(diff.changed, key=lambda c: c.target)
    if fmt is OutputFormat.JSON:
        return _dumps(
            {
                "added": sorted(diff.added),
                "changed": [
                    {
                        "causes": sorted(c.causes),
                        "new_token": c.new_token,
                        "old_token": c.old_token,
                        "target": c.target,
                    }
                    for c in changed
                ],
                "removed": sorted(diff.removed),
            }
        )
    lines = [_diff_reason(c.target, sorted(c.causes)) for c in changed]
    lines.extend(f"{name} added" for name in sorted(diff.added))
    lines.extend(f"{name} removed" for name in sorted(diff.removed))
    return "".join(f"{line}\n" for line in lines)


# --------------------------------------------------------------------------------------------
# Audit reports.
# --------------------------------------------------------------------------------------------

#: How many callers a missed-function line names before "and N more".
AUDIT_FIX_NAMES = 3


def _fraction(value: float | None, digits: int) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def _where(file: str | None, line: int | None) -> str:
    if file is None:
        return "?"
    return f"{file}:{line}" if line is not None else file


def _some(names: Sequence[str]) -> str:
    shown = list(names[:AUDIT_FIX_NAMES])
    if len(names) > AUDIT_FIX_NAMES:
        shown.append(f"{len(names) - AUDIT_FIX_NAMES} more")
    return _join_names(shown)


def _audit_header(report: AuditReport) -> list[str]:
    s = report.summary
    if not report.tests:
        return [f"astoken audit: no test was audited ({s.skipped} not audited)"]
    plural = "" if s.missed_functions == 1 else "s"
    recall, ratio = _fraction(s.pooled_recall, 3), _fraction(s.median_ratio, 1)
    mean = _fraction(s.mean_recall, 3)
    return [
        f"astoken audit: {s.tests} tests, pooled recall {recall}, median closure/ran {ratio}",
        (
            f"  first-party functions that ran: {s.ran} (summed over tests); covered {s.covered}; "
            f"missed {s.missed} ({s.missed_functions} distinct function{plural})"
        ),
        (
            f"  mean recall per test {mean}; generated code that ran {s.generated}; "
            f"ran outside the tests' roots {s.outside}"
        ),
        (
            f"  not audited {s.skipped} (skipped, or not a Python test function); "
            f"closure errors {s.errors}"
        ),
    ]


def _missed_lines(missed: MissedFunction) -> list[str]:
    plural = "" if missed.tests == 1 else "s"
    where = _where(missed.file, missed.line)
    lines = [f"  {missed.function}  {where}  missed in {missed.tests} test{plural}"]
    if missed.fix_on:
        fix = f'@astoken.depends_on("{missed.function}")'
        lines.append(f"    add {fix} to {_some(missed.fix_on)}")
    if missed.through:
        lines.append(f"    reached through missed {_some(missed.through)}")
    return lines


def _test_lines(test: AuditedTest) -> list[str]:
    if test.error:
        # Its closure is incomplete: figures and misses would mislead.
        return [f"  {test.test}  error: {test.error}"]
    recall, ratio = _fraction(test.recall, 3), _fraction(test.ratio, 1)
    lines = [
        (
            f"  {test.test}  recall {recall}  ran {test.ran}  covered {test.covered}  "
            f"closure {test.closure}  ratio {ratio}"
        )
    ]
    for miss in test.misses:
        lines.append(f"    missed {miss.function}  {_where(miss.file, miss.line)}")
        for caller in miss.callers:
            state = "in the closure" if caller.in_closure else "itself missed"
            where = _where(caller.file, caller.line)
            lines.append(f"      called from {caller.function} at {where} ({state})")
        if miss.fix_on:
            lines.append(f"      fix: {miss.decorator} on {_join_names(list(miss.fix_on))}")
    return lines


def render_audit(
    report: AuditReport, fmt: OutputFormat | str, *, top: int | None = None, details: bool = True
) -> str:
    """``astoken audit`` / ``pytest --astoken-audit``: the figures, the missed functions (most
    often missed first; only ``top`` of them when given) and, with ``details``, each test that
    missed something or has an error, with its figures, misses, callers and fixes. JSON is the
    whole report, every test included (``top``/``details`` do not apply).
    """
    fmt = OutputFormat(fmt)
    if fmt is OutputFormat.JSON:
        return _dumps(report_to_dict(report))
    lines = _audit_header(report)
    shown = report.missed if top is None else report.missed[: max(top, 0)]
    if shown:
        count = len(report.missed)
        which = f"{len(shown)} of {count}" if len(shown) < count else f"{count}"
        lines.extend(["", f"missed functions ({which}, most often missed first):"])
        for missed in shown:
            lines.extend(_missed_lines(missed))
    listed = [t for t in report.tests if t.misses or t.error] if details else []
    if listed:
        lines.extend(["", f"tests with misses or errors ({len(listed)} of {len(report.tests)}):"])
        for test in listed:
            lines.extend(_test_lines(test))
    return "\n".join(lines) + "\n"
