"""Pure graph transformations and the render model every graph renderer starts from."""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

from astoken._model import DependencyGraph, Edge, Node, NodeKind, RefKind, Unresolved

from ._common import EXTERNAL_KINDS, EdgeSet, sorted_unresolved

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


#: References that run their target where they are made: calls, protocols (``len(x)``, ``for``)
#: and ``super().m`` (nearly always called). ``self.m()`` is a CALL besides its SELF_ATTR read,
#: which is left out with the other reads (``return self.m`` runs nothing).
_RUNS = frozenset(
    {
        RefKind.CALL,
        RefKind.METHOD,
        RefKind.PROTOCOL,
        RefKind.SUPER_ATTR,
        RefKind.OVERRIDE,
    }
)
#: What code runs in: functions, methods, nested functions and lambdas, module bodies, class
#: bodies; and the leaves, whose code runs when they are called.
_CODE = frozenset(
    {NodeKind.FUNCTION, NodeKind.METHOD, NodeKind.NESTED, NodeKind.MODULE, *EXTERNAL_KINDS}
)
_FUNCTIONS = frozenset({NodeKind.FUNCTION, NodeKind.METHOD, NodeKind.NESTED})
#: What calling a class runs of its own (PyCG's view: ``C()`` calls ``C.__init__``).
_CONSTRUCTION = ("__new__", "__init__")


def _defining_scope(name: str) -> str:
    """Where the code defining ``name`` runs (and its decorators and default values): the
    enclosing function of a nested one, the class of a method, the module of the rest."""
    module, sep, qualname = name.partition(":")
    if not sep:
        return name
    head, found, _ = qualname.rpartition(".<locals>.")
    if found:
        return f"{module}:{head}"
    head = qualname.rpartition(".")[0]
    return f"{module}:{head}" if head else module


def _passed_and_called(
    graph: DependencyGraph, kind: Callable[[str], NodeKind]
) -> list[tuple[str, str]]:
    """``(g, f)`` where a call ``g(..., f, ...)`` passes the function ``f`` to a ``g`` that calls
    one of its parameters: the graph leaves that call to the caller (design rule 3, the caller's
    closure holds ``f``), a call graph draws it where it runs. A function passed on the line of
    a call to such a ``g`` counts as passed to it, and so does a function ``g`` decorates
    (``@g`` calls ``g(f)``)."""
    calls_argument = {use.owner for use in graph.arguments if "__call__" in use.members}
    called: dict[tuple[str, int], set[str]] = {}
    passed: dict[tuple[str, int], set[str]] = {}
    decorated: set[tuple[str, str]] = set()
    for edge in graph.edges:
        if edge.kind is RefKind.DECORATOR:
            if edge.target in calls_argument and kind(edge.source) in _FUNCTIONS:
                decorated.add((edge.target, edge.source))
            continue
        if edge.line <= 0:
            continue
        where = (edge.source, edge.line)
        if edge.kind is RefKind.CALL and edge.target in calls_argument:
            called.setdefault(where, set()).add(edge.target)
        elif edge.kind is RefKind.VALUE and kind(edge.target) in _FUNCTIONS:
            passed.setdefault(where, set()).add(edge.target)
    pairs = decorated | {
        (callee, value)
        for where, callees in called.items()
        for callee in callees
        for value in passed.get(where, ())
        if value != callee
    }
    return sorted(pairs)


def calls_only(graph: DependencyGraph) -> DependencyGraph:
    """The call graph: an edge ``a -> b`` when running ``a`` can run ``b`` where it is written.

    Membership, nesting, base classes, annotations, plain reads, state, declared and import
    edges go. Code in a module or class body that the graph files under a constant (``x =
    f()``) is the module's (the class's); a decorator runs where the decorated definition is
    made. Instantiating a class calls its first-party ``__new__`` and ``__init__`` (over the
    MRO); a class with neither runs nothing first-party. Calling a constant runs what it holds,
    which the graph already has as edges of their own. Every function, method, nested
    function and module of ``graph`` stays a node; a class only while its body calls.
    """
    known = {n.name: n for n in graph.nodes}

    def kind(name: str) -> NodeKind:
        node = known.get(name)
        return node.kind if node is not None else NodeKind.EXTERNAL

    def scope(name: str) -> str:
        # A constant's code is its scope's (a class constant's: its class body's).
        while kind(name) is NodeKind.CONSTANT:
            name = _defining_scope(name)
        return name

    construction: dict[str, list[str]] = {}
    for edge in graph.edges:
        if edge.kind is RefKind.MEMBER and kind(edge.source) is NodeKind.CLASS:
            short = edge.target.rpartition(":")[2].rpartition(".")[2]
            if short in _CONSTRUCTION:
                construction.setdefault(edge.source, []).append(edge.target)
    edges: dict[tuple[str, str], Edge] = {}

    def add(source: str, target: str, ref: RefKind, line: int) -> None:
        if kind(target) in _CODE and kind(target) is not NodeKind.MODULE:
            edges.setdefault((source, target), Edge(source, target, ref, line))

    for callee, passed in _passed_and_called(graph, kind):
        add(callee, passed, RefKind.CALL, 0)
    # What a decorator expression runs (``@factory()``, ``@a`` where ``a = dec``) is filed
    # under the decorated definition on the decorator's line; it runs where that is defined.
    decorating = {(e.source, e.line) for e in graph.edges if e.kind is RefKind.DECORATOR}
    for edge in graph.edges:
        source = scope(edge.source)
        if (edge.source, edge.line) in decorating:
            source = scope(_defining_scope(edge.source))
        if edge.kind is RefKind.INSTANTIATION:
            for target in sorted(construction.get(edge.target, ())):
                add(source, target, RefKind.CALL, edge.line)
        elif edge.kind is RefKind.DECORATOR:
            add(scope(_defining_scope(edge.source)), edge.target, RefKind.CALL, edge.line)
        elif edge.kind in _RUNS or (
            edge.kind is RefKind.EXTERNAL and kind(edge.target) in EXTERNAL_KINDS
        ):
            add(source, edge.target, edge.kind, edge.line)
    root = scope(graph.root)
    ends = {name for pair in edges for name in pair}
    nodes = [
        n
        for n in graph.nodes
        if n.name in ends or n.name == root or (n.kind in _CODE and n.kind not in EXTERNAL_KINDS)
    ]
    return DependencyGraph(
        root=root,
        nodes=tuple(nodes),
        edges=tuple(edges[key] for key in sorted(edges)),
        unresolved=graph.unresolved,
        arguments=graph.arguments,
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
    edges: EdgeSet | str = EdgeSet.ALL,
) -> Selection:
    """``graph`` reduced to its calls (``edges="calls"``), collapsed to modules (``modules``),
    without third-party and standard-library leaves (unless ``externals``), and cut ``depth``
    edges from the root; in that order."""
    if EdgeSet(edges) is EdgeSet.CALLS:
        graph = calls_only(graph)
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
