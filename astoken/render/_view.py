"""Pure graph transformations and the render model every graph renderer starts from."""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from astoken._model import DependencyGraph, Edge, Node, NodeKind, Unresolved

from ._common import EXTERNAL_KINDS, sorted_unresolved

#: The cluster of third-party leaves and of standard-library leaves in pictures.
THIRD_PARTY = "(third-party)"
STDLIB = "(standard library)"


def module_of(node: Node) -> str:
    """The module a node belongs to (a module and a leaf are their own)."""
    if node.kind in EXTERNAL_KINDS or node.kind is NodeKind.MODULE:
        return node.name
    return node.name.partition(":")[0]


def cluster_of(node: Node) -> str:
    """The box a node is drawn in: its module; all third-party leaves share one, as do all
    standard-library leaves."""
    if node.kind is NodeKind.EXTERNAL:
        return THIRD_PARTY
    if node.kind is NodeKind.STDLIB:
        return STDLIB
    return module_of(node)


def short_name(node: Node) -> str:
    """A node's name inside its module's box: the qualified name after ``module:``."""
    module, sep, qualname = node.name.partition(":")
    return qualname if sep and node.kind not in EXTERNAL_KINDS else module


# --------------------------------------------------------------------------------------------
# Pure transformations DependencyGraph -> DependencyGraph.
# --------------------------------------------------------------------------------------------


def collapse_modules(graph: DependencyGraph) -> DependencyGraph:
    """The module-level graph: each definition is replaced by its module.

    External and standard-library leaves stay as they are; edges between definitions of one
    module disappear; parallel edges of one kind are merged (their line becomes 0).
    """
    owner = {node.name: module_of(node) for node in graph.nodes}
    nodes: dict[str, Node] = {}
    for node in sorted(graph.nodes, key=lambda n: n.name):
        name = owner[node.name]
        if node.kind in EXTERNAL_KINDS:
            nodes[name] = node
            continue
        known = nodes.get(name)
        if known is None or (known.file is None and node.file is not None):
            nodes[name] = Node(name=name, kind=NodeKind.MODULE, file=node.file, line=None)
    root = owner.get(graph.root, graph.root.partition(":")[0])
    edges = {
        (owner.get(e.source, e.source), owner.get(e.target, e.target), e.kind) for e in graph.edges
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
    keep = {n.name for n in graph.nodes if n.kind not in EXTERNAL_KINDS}
    return DependencyGraph(
        root=graph.root,
        nodes=tuple(n for n in graph.nodes if n.name in keep),
        edges=tuple(e for e in graph.edges if e.source in keep and e.target in keep),
        unresolved=graph.unresolved,
    )


def start_nodes(root: str, names: Iterable[str], pairs: Iterable[tuple[str, str]]) -> list[str]:
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


def distances(graph: DependencyGraph, depth: int | None = None) -> dict[str, int]:
    """Edges from the start nodes (see :func:`start_nodes`) to each node, up to ``depth``."""
    successors: dict[str, set[str]] = {}
    for edge in graph.edges:
        successors.setdefault(edge.source, set()).add(edge.target)
    starts = start_nodes(
        graph.root, (n.name for n in graph.nodes), ((e.source, e.target) for e in graph.edges)
    )
    distance = dict.fromkeys(starts, 0)
    queue = deque(distance)
    while queue:
        name = queue.popleft()
        if depth is not None and distance[name] >= depth:
            continue
        for nxt in sorted(successors.get(name, ())):
            if nxt not in distance:
                distance[nxt] = distance[name] + 1
                queue.append(nxt)
    return distance


def limit_depth(graph: DependencyGraph, depth: int) -> DependencyGraph:
    """Only the nodes at most ``depth`` edges from the root (and, in a package graph, from the
    nodes nothing points to)."""
    return select(graph, depth=depth).graph


@dataclass(frozen=True, slots=True)
class Selection:
    """The part of a graph ``astoken graph`` draws, and what ``--depth`` cut from it.

    ``cut`` maps a node whose dependencies were cut by the depth limit to how many of its
    direct dependencies are not shown (sorted by name).
    """

    graph: DependencyGraph
    cut: tuple[tuple[str, int], ...] = ()


def select(
    graph: DependencyGraph,
    *,
    modules: bool = False,
    externals: bool = True,
    depth: int | None = None,
) -> Selection:
    """``graph`` collapsed to modules (``modules``), without third-party and standard-library
    leaves (unless ``externals``), and cut ``depth`` edges from the root; in that order."""
    if modules:
        graph = collapse_modules(graph)
    if not externals:
        graph = hide_externals(graph)
    if depth is None:
        return Selection(graph)
    distance = distances(graph, depth)
    hidden: dict[str, set[str]] = {}
    for edge in graph.edges:
        if edge.source in distance and edge.target not in distance:
            hidden.setdefault(edge.source, set()).add(edge.target)
    limited = DependencyGraph(
        root=graph.root,
        nodes=tuple(n for n in graph.nodes if n.name in distance),
        edges=tuple(e for e in graph.edges if e.source in distance and e.target in distance),
        unresolved=graph.unresolved,
    )
    return Selection(limited, tuple(sorted((name, len(names)) for name, names in hidden.items())))


# --------------------------------------------------------------------------------------------
# The render model of a graph.
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ViewEdge:
    source: str
    target: str
    kinds: tuple[str, ...]

    @property
    def label(self) -> str:
        return ", ".join(self.kinds)


@dataclass(frozen=True, slots=True)
class GraphView:
    """Sorted nodes, edges merged per (source, target) with sorted kinds, the unresolved
    references sorted, and what a depth limit cut."""

    root: str
    nodes: tuple[Node, ...]
    edges: tuple[ViewEdge, ...]
    unresolved: tuple[Unresolved, ...]
    cut: tuple[tuple[str, int], ...] = ()

    @classmethod
    def of(cls, graph: DependencyGraph, cut: Iterable[tuple[str, int]] = ()) -> GraphView:
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
                ViewEdge(source=s, target=t, kinds=tuple(sorted(k)))
                for (s, t), k in sorted(kinds.items())
            ),
            unresolved=sorted_unresolved(graph.unresolved),
            cut=tuple(sorted((name, count) for name, count in cut if name in known)),
        )

    def children(self) -> dict[str, list[ViewEdge]]:
        out: dict[str, list[ViewEdge]] = {}
        for edge in self.edges:
            out.setdefault(edge.source, []).append(edge)
        return out

    def cut_counts(self) -> Mapping[str, int]:
        return dict(self.cut)

    def modules(self) -> list[str]:
        """The distinct first-party modules of the nodes, sorted."""
        return sorted({module_of(n) for n in self.nodes if n.kind not in EXTERNAL_KINDS})

    def summary(self) -> str:
        """One line: how many nodes, edges and modules (and leaves, when there are some)."""
        leaves = sum(1 for n in self.nodes if n.kind in EXTERNAL_KINDS)
        nodes = f"{len(self.nodes)} node{'' if len(self.nodes) == 1 else 's'}"
        if leaves:
            nodes += f" ({leaves} third-party or standard-library)"
        edges = f"{len(self.edges)} edge{'' if len(self.edges) == 1 else 's'}"
        count = len(self.modules())
        return f"{nodes}, {edges}, {count} module{'' if count == 1 else 's'}"


def kind_label(node: Node) -> str:
    if node.version:
        return f"{node.kind.value} {node.version}"
    return node.kind.value
