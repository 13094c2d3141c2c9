"""Per-root closures over a built graph, with conditional edges (see ``_builder``)."""

from __future__ import annotations

from astoken._model import ArgumentUse, DependencyGraph, Edge, Node, Unresolved

from ._digraph import Digraph


def closure(graph: Digraph, root: str) -> tuple[set[str], set[str]]:
    """(nodes reachable from ``root``, conditions that hold in that closure).

    An edge conditional on ``"C"`` is followed once class C is instantiated in the closure (its
    class node is reached) or is the class a method root is named through; one conditional on
    ``"~C"`` only in the first case. A nested function's node brings the definition it is
    nested in (its code is part of it).
    """
    self_class = graph.graph.get("self_classes", {}).get(root)
    active: set[str] = {self_class} if self_class else set()  # conditions "C" that hold
    reached = {root}
    stack = [root]
    waiting: dict[str, list[str]] = {}
    succ = graph.succ
    nodes = graph.nodes

    def reach(name: str) -> None:
        if name not in reached and name in nodes:
            reached.add(name)
            stack.append(name)

    while stack:
        current = stack.pop()
        if nodes[current].get("instantiates"):
            for cond in (current, f"~{current}"):
                if cond not in active:
                    active.add(cond)
                    for name in waiting.pop(cond, ()):
                        reach(name)
        if ".<locals>." in current:
            reach(current.partition(".<locals>.")[0])
        for target, data in succ[current].items():
            if target in reached:
                continue
            conds = data["conds"]
            if None in conds or not active.isdisjoint(conds):
                reach(target)
            else:
                for cond in conds:
                    if cond in active:
                        reach(target)
                        break
                    waiting.setdefault(cond, []).append(target)
    return reached, active


def to_dependency_graph(
    root: str,
    graph: Digraph,
    nodes: dict[str, Node],
    unresolved: tuple[Unresolved, ...],
    *,
    reachable_only: bool = True,
) -> DependencyGraph:
    """Freeze a built graph into a DependencyGraph (sorted nodes and edges): the closure of
    ``root`` and the edges that are live in it."""
    if reachable_only and root in graph:
        keep, active = closure(graph, root)
    else:
        keep = set(graph.nodes)
        created = {n for n, data in graph.nodes.items() if data.get("instantiates")}
        active = created | {f"~{n}" for n in created}
        active |= set(graph.graph.get("self_classes", {}).values())
    edges = []
    for source, target, data in graph.edges(data=True):
        if source not in keep or target not in keep:
            continue
        conds = data["conds"]
        if None not in conds and active.isdisjoint(conds):
            continue
        for kind, line in data["kinds"].items():
            edges.append(Edge(source, target, kind, line))
    edges.sort(key=lambda e: (e.source, e.target, e.kind.value))
    uses: dict[str, dict[str, int]] = graph.graph.get("arguments", {})
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
