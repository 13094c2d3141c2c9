"""Per-root closures over a built graph, with conditional edges (see ``_builder``)."""

from __future__ import annotations

from astoken._model import ArgumentUse, DependencyGraph, Edge, Node, RefKind, Unresolved

from ._digraph import Condition, Digraph, created, created_conditions, instantiated

#: Edges of one (source, target) pair are listed by the value of their kind.
_KIND_ORDER = {kind: rank for rank, kind in enumerate(sorted(RefKind, key=lambda k: k.value))}


def closure(
    graph: Digraph, root: str, *, fold_nested: bool = True
) -> tuple[set[str], set[Condition]]:
    """(nodes reachable from ``root``, conditions that hold in that closure).

    An edge conditional on ``instantiated(C)`` is followed once class C is instantiated in the
    closure (its class node is reached) or is the class a method root is named through; one
    conditional on ``created(C)`` only in the first case. A nested function's node brings the
    definition it is nested in (its code is part of it), unless ``fold_nested`` is false:
    ccflow's contract hashes a local class by its live methods, never by the function that
    defines it.
    """
    return _reach(graph, (root,), fold_nested=fold_nested)


def closure_of_all(graph: Digraph, roots: tuple[str, ...]) -> set[str]:
    """Every node reachable from any of ``roots``, conditions pooled over them (a superset of the
    union of their closures, computed in one walk)."""
    return _reach(graph, roots)[0]


def _reach(
    graph: Digraph, roots: tuple[str, ...], *, fold_nested: bool = True
) -> tuple[set[str], set[Condition]]:
    self_classes = graph.self_classes
    active: set[Condition] = {instantiated(self_classes[r]) for r in roots if r in self_classes}
    nodes = graph.nodes
    free, bound, creators = graph.split()
    reached = {r for r in roots if r in nodes}
    stack = list(reached)
    waiting: dict[Condition | None, list[str]] = {}

    while stack:
        current = stack.pop()
        if current in creators:
            for cond in (instantiated(current), created(current)):
                if cond not in active:
                    active.add(cond)
                    for name in waiting.pop(cond, ()):
                        if name not in reached:
                            reached.add(name)
                            stack.append(name)
        if fold_nested and ".<locals>." in current:
            enclosing = current.partition(".<locals>.")[0]
            if enclosing not in reached and enclosing in nodes:
                reached.add(enclosing)
                stack.append(enclosing)
        for target in free[current]:
            if target not in reached:
                reached.add(target)
                stack.append(target)
        for target, conds in bound[current]:
            if target in reached:
                continue
            if active.isdisjoint(conds):
                for waited in conds:
                    waiting.setdefault(waited, []).append(target)
            else:
                reached.add(target)
                stack.append(target)
    return reached, active


def to_dependency_graph(
    root: str,
    graph: Digraph,
    nodes: dict[str, Node],
    unresolved: tuple[Unresolved, ...],
    *,
    reachable_only: bool = True,
    fold_nested: bool = True,
) -> DependencyGraph:
    """Freeze a built graph into a DependencyGraph (sorted nodes and edges): the closure of
    ``root`` (see :func:`closure` for ``fold_nested``) and the edges that are live in it."""
    if reachable_only and root in graph:
        keep, active = closure(graph, root, fold_nested=fold_nested)
    else:
        keep = set(graph.nodes)
        active = created_conditions(graph.creators)
        active |= {instantiated(klass) for klass in graph.self_classes.values()}
    edges = []
    succ = graph.succ
    for source in sorted(keep):
        for target in sorted(succ[source]):
            if target not in keep:
                continue
            data = succ[source][target]
            if None not in data.conds and active.isdisjoint(data.conds):
                continue
            kinds = data.kinds
            for kind in sorted(kinds, key=_KIND_ORDER.__getitem__):
                edges.append(Edge(source, target, kind, kinds[kind]))
    uses = graph.arguments
    arguments = tuple(
        ArgumentUse(
            owner,
            tuple(sorted(uses[owner])),
            nodes[owner].file if owner in nodes else None,
            min(uses[owner].values()),
        )
        for owner in sorted(keep & uses.keys())
    )
    return DependencyGraph(
        root=root,
        nodes=tuple(nodes[n] for n in sorted(keep) if n in nodes),
        edges=tuple(edges),
        unresolved=unresolved,
        arguments=arguments,
    )


def package_graph(
    package: str,
    modules: tuple[str, ...],
    graph: Digraph,
    nodes: dict[str, Node],
    unresolved: tuple[Unresolved, ...],
) -> DependencyGraph:
    """The dependency graph of a package (or module) whose ``modules`` (``package`` and its
    submodules) were the build's roots: the package reaches each module as a member
    (unconditionally), so that every node the build made is in its closure. Adds those edges
    to ``graph``."""
    for module in modules:
        if module != package:
            graph.add_edge(package, module, kinds={RefKind.MEMBER: 0}, conds={None})
    return to_dependency_graph(package, graph, nodes, unresolved)


def paths_from_root(graph: DependencyGraph) -> dict[str, tuple[Edge, ...]]:
    """Shortest edge path from the root to every node (ties broken by sorted names/kinds)."""
    by_source: dict[str, list[Edge]] = {}
    for edge in graph.edges:
        by_source.setdefault(edge.source, []).append(edge)
    paths: dict[str, tuple[Edge, ...]] = {graph.root: ()}
    frontier = [graph.root]
    while frontier:
        nxt = []
        for source in frontier:
            for edge in sorted(by_source.get(source, ()), key=lambda e: (e.target, e.kind.value)):
                if edge.target not in paths:
                    paths[edge.target] = (*paths[source], edge)
                    nxt.append(edge.target)
        frontier = sorted(nxt)
    return paths
