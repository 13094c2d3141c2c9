"""Graphviz DOT and Mermaid text, and SVG/PNG pictures drawn by Graphviz's ``dot``.

A picture has a size limit (:data:`DRAW_NODES` boxes, :data:`DRAW_EDGES` arrows): ``dot``'s
time grows much faster than the graph (measured: 104 nodes and 368 labelled edges take 6 s,
178 nodes and 2,037 edges do not finish in 100 s), and a picture beyond it is unreadable
anyway. A graph over the limit is drawn by module (one box per module, arrows counting the
references between them); one that is over the limit even then is refused with the
``--depth`` that makes it fit. ``dot`` always runs under a time limit.
"""

from __future__ import annotations

import math
import shutil
from collections.abc import Mapping

from astoken._model import DependencyGraph, NodeKind, RefKind
from astoken.errors import GraphTooLargeError, GraphvizNotFoundError

from ._common import DOT_TIMEOUT, EXTERNAL_KINDS, EdgeSet, GraphFormat
from ._view import (
    STDLIB,
    THIRD_PARTY,
    GraphView,
    calls_only,
    cluster_of,
    distances,
    select,
    short_name,
)

#: At most this many boxes and arrows in a picture (more is refused or drawn by module).
DRAW_NODES = 120
DRAW_EDGES = 300
#: Edge labels (the reference kinds) are written up to this many arrows: they cost ``dot``
#: about ten times the time of the arrows themselves.
LABELLED_EDGES = 100

#: (dot shape, fill colour, border colour, mermaid open/close brackets) per node kind.
NODE_STYLE: Mapping[NodeKind, tuple[str, str, str, str, str]] = {
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
EDGE_STYLE: Mapping[str, str] = {
    RefKind.BASE_CLASS.value: "bold",
    RefKind.METACLASS.value: "bold",
    RefKind.DECLARED.value: "dashed",
    RefKind.METHOD.value: "dashed",
    RefKind.OVERRIDE.value: "dashed",
    RefKind.DYNAMIC.value: "dotted",
    RefKind.RUNTIME.value: "dotted",
    RefKind.MEMBER.value: "dotted",
}


def _quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def _header(title: str, layout: str = "rankdir=LR") -> list[str]:
    return [
        "digraph astoken {",
        f"  graph [{layout}, fontname=Helvetica, label={_quote(title)}, labelloc=t];",
        "  node [fontname=Helvetica, fontsize=10, style=filled];",
        '  edge [fontname=Helvetica, fontsize=9, color="#555555"];',
    ]


def render_dot(view: GraphView, *, edge_labels: bool = True) -> str:
    """The whole graph; the definitions of a module with more than one node are drawn in a
    box of their own (a DOT cluster) and named there without the module."""
    lines = _header(view.root)
    cut = view.cut_counts()
    members: dict[str, list[str]] = {}
    for node in view.nodes:
        if node.kind not in EXTERNAL_KINDS and node.kind is not NodeKind.MODULE:
            members.setdefault(cluster_of(node), []).append(node.name)
    boxed = {name for names in members.values() if len(names) > 1 for name in names}
    statements: dict[str, str] = {}
    for node in view.nodes:
        shape, fill, border, _, _ = NODE_STYLE[node.kind]
        label = short_name(node) if node.name in boxed else node.name
        if node.version:
            label += f"\n{node.version}"
        if cut.get(node.name):
            label += f"\n(+{cut[node.name]} cut by --depth)"
        extra = ", penwidth=2.5" if node.name == view.root else ""
        where = f"{node.file}:{node.line}" if node.line is not None else f"{node.file}"
        tooltip = f"{node.name} ({node.kind.value}" + (f", {where})" if node.file else ")")
        statements[node.name] = (
            f"{_quote(node.name)} [label={_quote(label)}, shape={shape}, "
            f'fillcolor="{fill}", color="{border}", tooltip={_quote(tooltip)}{extra}];'
        )
    for index, (module, names) in enumerate(sorted(members.items())):
        if len(names) < 2:
            continue
        lines.append(f"  subgraph cluster_{index} {{")
        lines.append(
            f'    graph [label={_quote(module)}, style="rounded", color="#94a3b8", fontsize=11];'
        )
        lines.extend(f"    {statements.pop(name)}" for name in names)
        lines.append("  }")
    lines.extend(f"  {statement}" for statement in statements.values())
    for edge in view.edges:
        style = next((EDGE_STYLE[k] for k in edge.kinds if k in EDGE_STYLE), "solid")
        label = f"label={_quote(edge.label)}, " if edge_labels else ""
        tooltip = f"{edge.source} → {edge.target} ({edge.label})"
        lines.append(
            f"  {_quote(edge.source)} -> {_quote(edge.target)} "
            f"[{label}style={style}, tooltip={_quote(tooltip)}];"
        )
    lines.append("}")
    return "\n".join(lines) + "\n"


def _by_module(view: GraphView) -> tuple[dict[str, list[str]], dict[tuple[str, str], int]]:
    """The nodes of each box of a by-module picture, and the references between boxes."""
    owner = {node.name: cluster_of(node) for node in view.nodes}
    members: dict[str, list[str]] = {}
    for node in view.nodes:
        members.setdefault(owner[node.name], []).append(node.name)
    between: dict[tuple[str, str], int] = {}
    for edge in view.edges:
        pair = (owner[edge.source], owner[edge.target])
        if pair[0] != pair[1]:
            between[pair] = between.get(pair, 0) + 1
    return members, between


def render_module_dot(view: GraphView) -> str:
    """One box per module (third-party and standard-library leaves: one box each kind) with the
    number of its definitions; an arrow per pair of boxes with the number of references."""
    members, between = _by_module(view)
    note = "drawn by module: --depth N or --format html shows the definitions"
    # Top to bottom with parallel arrows merged: measured to draw module graphs (dense, with
    # cycles) about half as wide and in half the time of left to right.
    lines = _header(f"{view.root}\n{view.summary()}\n{note}", "rankdir=TB, concentrate=true")
    root_box = next((cluster_of(n) for n in view.nodes if n.name == view.root), "")
    for box in sorted(members):
        count = len(members[box])
        if box == THIRD_PARTY:
            kind, what = NodeKind.EXTERNAL, "package"
        elif box == STDLIB:
            kind, what = NodeKind.STDLIB, "module"
        else:
            kind, what = NodeKind.MODULE, "definition"
        shape, fill, border, _, _ = NODE_STYLE[kind]
        label = f"{box}\n{count} {what}{'' if count == 1 else 's'}"
        extra = ", penwidth=2.5" if box == root_box else ""
        lines.append(
            f"  {_quote(box)} [label={_quote(label)}, shape={shape}, "
            f'fillcolor="{fill}", color="{border}"{extra}];'
        )
    for (source, target), count in sorted(between.items()):
        width = min(1 + math.log2(count) / 2, 4)
        lines.append(
            f'  {_quote(source)} -> {_quote(target)} [label="{count}", penwidth={width:.2f}];'
        )
    lines.append("}")
    return "\n".join(lines) + "\n"


def _mermaid_text(text: str) -> str:
    # Mermaid has no backslash escapes inside quoted labels; it uses HTML entity codes.
    return (
        text.replace("&", "#amp;").replace('"', "#quot;").replace("<", "#lt;").replace(">", "#gt;")
    )


def render_mermaid(view: GraphView) -> str:
    ids = {node.name: f"n{index}" for index, node in enumerate(view.nodes)}
    cut = view.cut_counts()
    lines = ["flowchart LR"]
    for node in view.nodes:
        _, _, _, opening, closing = NODE_STYLE[node.kind]
        label = node.name if not node.version else f"{node.name} {node.version}"
        if cut.get(node.name):
            label += f" (+{cut[node.name]} cut by --depth)"
        lines.append(f"  {ids[node.name]}{opening}{_mermaid_text(label)}{closing}")
    for edge in view.edges:
        lines.append(f'  {ids[edge.source]} -->|"{edge.label}"| {ids[edge.target]}')
    for kind in NodeKind:
        members = [ids[n.name] for n in view.nodes if n.kind is kind]
        if members:
            _, fill, border, _, _ = NODE_STYLE[kind]
            lines.append(f"  classDef {kind.value} fill:{fill},stroke:{border},color:#111111;")
            lines.append(f"  class {','.join(members)} {kind.value};")
    if view.root in ids:
        lines.append("  classDef root stroke-width:3px;")
        lines.append(f"  class {ids[view.root]} root;")
    return "\n".join(lines) + "\n"


# --------------------------------------------------------------------------------------------
# Pictures.
# --------------------------------------------------------------------------------------------


def _fits(boxes: int, arrows: int) -> bool:
    return boxes <= DRAW_NODES and arrows <= DRAW_EDGES


def drawable_dot(view: GraphView) -> str | None:
    """The DOT text of the picture of ``view``: the whole graph when it fits the limits, else
    the graph by module when that fits, else None."""
    if _fits(len(view.nodes), len(view.edges)):
        return render_dot(view, edge_labels=len(view.edges) <= LABELLED_EDGES)
    members, between = _by_module(view)
    if _fits(len(members), len(between)):
        return render_module_dot(view)
    return None


def _advice(graph: DependencyGraph, modules: bool, externals: bool, depth: int | None) -> str:
    """Which ``--depth`` makes the picture fit (the deepest that does), if any."""
    whole = select(graph, modules=modules, externals=externals).graph
    levels = max(distances(whole).values(), default=0)
    deepest = min(levels - 1, depth - 1) if depth is not None else levels - 1
    for level in range(deepest, 0, -1):
        selection = select(graph, modules=modules, externals=externals, depth=level)
        if drawable_dot(GraphView.of(selection.graph)) is not None:
            return f"--depth {level} makes it fit; --format html shows any size"
    return "--format html shows any size"


def render_image(
    graph: DependencyGraph,
    fmt: GraphFormat,
    *,
    modules: bool = False,
    externals: bool = True,
    depth: int | None = None,
    timeout: float = DOT_TIMEOUT,
    edges: EdgeSet = EdgeSet.ALL,
) -> bytes:
    """The SVG or PNG picture of the selected graph (see the module docstring)."""
    if edges is EdgeSet.CALLS:
        graph = calls_only(graph)  # first, so the advice on a --depth is about the calls too
    selection = select(graph, modules=modules, externals=externals, depth=depth)
    view = GraphView.of(selection.graph, selection.cut)
    text = drawable_dot(view)
    if text is None:
        members, between = _by_module(view)
        reason = (
            f"{len(view.nodes)} nodes and {len(view.edges)} edges in {len(members)} modules "
            f"({len(between)} edges between them) are more than a picture shows "
            f"({DRAW_NODES} boxes and {DRAW_EDGES} arrows)"
        )
        raise GraphTooLargeError(fmt.value, reason, _advice(graph, modules, externals, depth))
    dot = shutil.which("dot")
    if dot is None:
        raise GraphvizNotFoundError(fmt.value)
    # Imported here: ``subprocess`` costs ~5 ms at every start of the CLI, which only pictures
    # need (issue 11, item 2).
    import subprocess  # noqa: PLC0415

    try:
        result = subprocess.run(
            [dot, f"-T{fmt.value}"],
            input=text.encode("utf-8"),
            capture_output=True,
            check=False,
            timeout=timeout,
        )
    except subprocess.TimeoutExpired as exc:
        reason = (
            f"Graphviz dot did not finish within {timeout:g} s "
            f"({len(view.nodes)} nodes, {len(view.edges)} edges)"
        )
        advice = "a smaller --depth, or --modules, draws faster; --format html shows any size"
        raise GraphTooLargeError(fmt.value, reason, advice) from exc
    if result.returncode != 0:
        # The DOT text is ours, so a failure here is an astoken bug, not a user error.
        message = result.stderr.decode("utf-8", "replace").strip()
        raise RuntimeError(f"Graphviz dot failed (exit {result.returncode}): {message}")
    return result.stdout
