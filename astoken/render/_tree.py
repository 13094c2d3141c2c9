"""The text tree of ``astoken graph``.

The tree is the breadth-first tree from the root: each node is expanded once, under the node
that reaches it in the fewest edges (ties: the first by name), so a node's place in the tree is
a shortest path to it and the tree is as shallow as the graph allows. A node's other edges do
not repeat subtrees: after its children, one line lists the nodes ``shown above``, one the nodes
``shown below`` (expanded further down), and one those it reaches back to on its own path
(``cycle to``), each name followed by the edge's kinds.
"""

from __future__ import annotations

from collections import deque

from ._common import wrap
from ._view import GraphView, ViewEdge, kind_label, start_nodes


def _tree_parents(starts: list[str], children: dict[str, list[ViewEdge]]) -> dict[str, str | None]:
    parent: dict[str, str | None] = {}
    for start in starts:
        if start in parent:
            continue
        parent[start] = None
        queue = deque([start])
        while queue:
            name = queue.popleft()
            for edge in children.get(name, ()):
                if edge.target not in parent:
                    parent[edge.target] = name
                    queue.append(edge.target)
    return parent


def _preorder(
    starts: list[str], tree: dict[str, list[ViewEdge]]
) -> tuple[dict[str, int], dict[str, int]]:
    """Where each node's expansion is printed (its index in preorder) and where its subtree
    ends (one past the last index in it)."""
    first: dict[str, int] = {}
    end: dict[str, int] = {}
    for start in starts:
        stack: list[tuple[str, bool]] = [(start, False)]
        while stack:
            name, done = stack.pop()
            if done:
                end[name] = len(first)
                continue
            first[name] = len(first)
            stack.append((name, True))
            stack.extend((edge.target, False) for edge in reversed(tree.get(name, [])))
    return first, end


def render_tree(view: GraphView, width: int | None = None) -> str:
    """The tree (see the module docstring), a summary line, then the unresolved references;
    lines are wrapped to ``width`` characters when it is given."""
    if not view.nodes:
        return f"{view.root} (empty graph)\n"
    nodes = {n.name: n for n in view.nodes}
    children = view.children()
    cut = view.cut_counts()
    starts = start_nodes(view.root, nodes, ((e.source, e.target) for e in view.edges))
    parent = _tree_parents(starts, children)
    tree = {
        name: [edge for edge in edges if parent.get(edge.target) == name]
        for name, edges in children.items()
    }
    first, end = _preorder(starts, tree)

    def groups(name: str) -> list[str]:
        """The lines that refer to nodes expanded elsewhere, after the node's subtree."""
        above: list[str] = []
        below: list[str] = []
        cycle: list[str] = []
        for edge in children.get(name, []):
            if parent.get(edge.target) == name:
                continue
            where = first[edge.target]
            entry = f"{edge.target} ({edge.label})"
            if where <= first[name] < end[edge.target]:
                cycle.append(entry)
            elif where < end[name]:
                above.append(entry)
            else:
                below.append(entry)
        return [
            f"{title}: {', '.join(entries)}"
            for title, entries in (
                ("shown above", above),
                ("shown below", below),
                ("cycle to", cycle),
            )
            if entries
        ]

    lines: list[str] = []
    # An explicit stack instead of recursion: real graphs can be deeper than the recursion limit.
    # Items: (node name or "" for a text line, the text's edge label or text, first-line
    # prefix, prefix of what comes below it).
    stack: list[tuple[str, str, str, str]] = [(name, "", "", "") for name in reversed(starts)]
    while stack:
        name, label, head, prefix = stack.pop()
        if not name:
            lines.extend(wrap(head, label, prefix + "    ", width))
            continue
        count = cut.get(name, 0)
        text = f"{name} [{kind_label(nodes[name])}]"
        text += f" ({label})" if label else ""
        text += f" (+{count} cut by --depth)" if count else ""
        lines.extend(wrap(head, text, prefix + "  ", width))
        below = [(edge.target, edge.label) for edge in tree.get(name, [])]
        below += [("", line) for line in groups(name)]
        pending = []
        for index, (target, text) in enumerate(below):
            last = index == len(below) - 1
            pending.append(
                (
                    target,
                    text,
                    prefix + ("└── " if last else "├── "),
                    prefix + ("    " if last else "│   "),
                )
            )
        stack.extend(reversed(pending))
    lines.extend(["", view.summary()])
    if view.unresolved:
        lines.append("")
        lines.append(f"unresolved references ({len(view.unresolved)}):")
        for item in view.unresolved:
            lines.extend(wrap("  ", item.describe(), "    ", width))
    return "\n".join(lines) + "\n"
