"""Per-root closures over a built graph, with conditional edges (see ``_builder``)."""

from __future__ import annotations

import bisect
from collections.abc import Callable
from typing import NamedTuple, TypeVar

from astoken._model import (
    ArgumentUse,
    DependencyGraph,
    Edge,
    MemberReason,
    Membership,
    Node,
    RefKind,
    Unresolved,
)

from ._digraph import Condition, Digraph, Trigger, created_conditions, escaped, instantiated

_T = TypeVar("_T")

#: Edges of one (source, target) pair are listed by the value of their kind.
_KIND_ORDER = {kind: rank for rank, kind in enumerate(sorted(RefKind, key=lambda k: k.value))}


def closure(
    graph: Digraph, root: str, *, fold_nested: bool = True
) -> tuple[set[str], set[Condition]]:
    """(nodes reachable from ``root``, conditions that hold in that closure).

    An edge conditional on ``instantiated(C)`` is followed once class C is instantiated in the
    closure (its class node is reached) or is the class a method root is named through; one
    conditional on ``created(C)`` only in the first case; one conditional on ``named(a)`` once
    code of the closure names attribute ``a``; one conditional on ``escaped(C)`` once code of
    the closure lets an object of C escape. A nested function's node brings the
    definition it is nested in (its code is part of it), unless ``fold_nested`` is false:
    ccflow's contract hashes a local class by its live methods, never by the function that
    defines it.
    """
    return _reach(graph, (root,), fold_nested=fold_nested)


def closure_of_all(graph: Digraph, roots: tuple[str, ...]) -> set[str]:
    """Every node reachable from any of ``roots``, conditions pooled over them (a superset of the
    union of their closures, computed in one walk)."""
    return _reach(graph, roots)[0]


#: Below this many roots each is walked alone (:func:`closures_of_roots`).
_WALK_ALONE = 8


def closures_of_roots(
    graph: Digraph, roots: tuple[str, ...], names: tuple[str, ...], keep: Callable[[bytearray], _T]
) -> dict[str, _T]:
    """``keep`` of :func:`closure` of each of ``roots`` (a snapshot's every definition), each
    distinct one walked and kept once (``keep`` packs it: only what it returns is held). A
    closure is given to ``keep`` as a byte per name of ``names`` (sorted, every node of the
    graph among them): 1 for the names it holds, else 0.

    Two roots that reach each other by unconditional edges (one strongly connected component
    of them: sympy's expression methods call one another) and start with the same conditions
    (:func:`_initial`) have the same closure: each walk reaches the other root, and
    conditions only ever add edges, so each closure holds the other's. Closures are taken per
    component and starting conditions; before, every root walked its closure (sympy: tens of
    thousands of roots, most with a closure of most of the package). The walks run over
    positions in ``names`` (:class:`_Indexed`), not over the names."""
    if len(roots) < _WALK_ALONE:
        # A token's few targets: finding the components would cost more than the walks.
        position = {name: at for at, name in enumerate(names)}
        closures: dict[str, _T] = {}
        for root in roots:
            flags = bytearray(len(names))
            for name in _reach(graph, (root,))[0]:
                flags[position[name]] = 1
            closures[root] = keep(flags)
        return closures
    indexed = _Indexed(graph, names)
    shared = _Shared(indexed)
    found: dict[tuple[int, frozenset[Condition]], _T] = {}
    closures = {}
    for root in roots:
        initial = _initial(graph, (root,))
        at = indexed.position.get(root, -1)
        number = indexed.component[at] if at >= 0 else -1
        key = (number, frozenset(initial))
        kept = found.get(key) if number >= 0 else None
        if kept is None:
            walked = _walk_indexed(indexed, (at,) if at >= 0 else (), initial, shared=shared)
            kept = keep(walked.reached)
            if number >= 0:
                found[key] = kept
        closures[root] = kept
    return closures


def _components(graph: Digraph) -> tuple[dict[str, int], list[int]]:
    """Each node's strongly connected component over the edges a closure always follows (the
    unconditional ones, and a nested function's to the definition it is nested in), by an
    iterative Tarjan: a number per component, and the numbers in the order Tarjan finished
    them (a component after every component its edges lead to)."""
    free = graph.split()[0]
    nodes = graph.nodes

    def successors(name: str) -> list[str]:
        enclosing = _enclosing(name, nodes)
        return [*free.get(name, ()), enclosing] if enclosing else list(free.get(name, ()))

    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    component: dict[str, int] = {}
    order: list[int] = []
    counter = 0
    for start in sorted(nodes):
        if start in index:
            continue
        work = [(start, iter(successors(start)))]
        index[start] = low[start] = counter
        counter += 1
        stack.append(start)
        on_stack.add(start)
        while work:
            name, pending = work[-1]
            advanced = False
            for target in pending:
                if target not in index:
                    index[target] = low[target] = counter
                    counter += 1
                    stack.append(target)
                    on_stack.add(target)
                    work.append((target, iter(successors(target))))
                    advanced = True
                    break
                if target in on_stack:
                    low[name] = min(low[name], index[target])
            if advanced:
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[name])
            if low[name] == index[name]:
                number = index[name]
                order.append(number)
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component[member] = number
                    if member == name:
                        break
    return component, order


def _enclosing(name: str, nodes: dict[str, None]) -> str | None:
    """The definition a nested function's node is nested in (its code is part of it), when
    the graph has it."""
    if ".<locals>." not in name:
        return None
    enclosing = name.partition(".<locals>.")[0]
    return enclosing if enclosing in nodes else None


def _initial(graph: Digraph, roots: tuple[str, ...]) -> set[Condition]:
    """The conditions a closure of ``roots`` starts with: a method root's class is
    instantiated (it is named through it), and a class as a root stands for all of its
    behavior (``data_token`` of an instance, a class target), its nested classes' included:
    as if their objects escaped."""
    self_classes = graph.self_classes
    active: set[Condition] = {instantiated(self_classes[r]) for r in roots if r in self_classes}
    active |= {escaped(c) for r in roots if r in graph.creators for c in _nested(graph, r)}
    return active


def _reach(
    graph: Digraph, roots: tuple[str, ...], *, fold_nested: bool = True
) -> tuple[set[str], set[Condition]]:
    return _walk(graph, roots, _initial(graph, roots), fold_nested=fold_nested)


class _Indexed:
    """A graph over the positions of its nodes in a sorted table of names (a snapshot's
    closures are walked here: a byte per node marks what a walk reached, and a large
    component's walk is taken over by OR-ing its bytes, in C). Per position: the unconditional
    targets (a nested function's enclosing definition among them, see :func:`closure`), the
    conditional ``(target, conditions)``, the conditions the node makes hold, and its strongly
    connected component over the unconditional edges (:func:`_components`)."""

    __slots__ = ("activators", "bound", "component", "free", "order", "position", "size")

    def __init__(self, graph: Digraph, names: tuple[str, ...]) -> None:
        position = {name: at for at, name in enumerate(names)}
        free, bound, activators = graph.split()
        nodes = graph.nodes
        self.position = position
        self.size = len(names)
        self.free: list[tuple[int, ...]] = [()] * self.size
        self.bound: list[tuple[tuple[int, frozenset[Condition | None]], ...]] = [()] * self.size
        self.activators: list[tuple[Condition, ...]] = [()] * self.size
        for name in nodes:
            at = position[name]
            targets = [position[t] for t in free.get(name, ())]
            enclosing = _enclosing(name, nodes)
            if enclosing:
                targets.append(position[enclosing])
            self.free[at] = tuple(targets)
            self.bound[at] = tuple((position[t], conds) for t, conds in bound.get(name, ()))
            self.activators[at] = activators.get(name, ())
        component, order = _components(graph)
        self.component = [-1] * self.size
        for name, number in component.items():
            self.component[position[name]] = number
        self.order = order


#: A component of at least this many nodes is walked once (without starting conditions) and
#: that walk taken over by every closure of :func:`closures_of_roots` that reaches it.
_SHARED_SIZE = 16


class _Walked(NamedTuple):
    """A finished walk over an :class:`_Indexed` graph: a byte per position (1: reached), the
    conditions that held, and the targets of the conditional edges still waiting for a
    condition (keyed by it)."""

    reached: bytearray
    active: set[Condition]
    waiting: dict[Condition, list[int]]


class _Shared:
    """The walks of the large components of a graph (see :func:`closures_of_roots`), each
    taken from any of its members with no starting conditions (every member reaches every
    other unconditionally: the same walk from each). They are walked in the order Tarjan's
    algorithm finishes the components, those an unconditional edge leads to first, so a walk
    takes over the components below it; one it meets before its walk exists (through a
    conditional edge) it walks itself. Nothing recurses. A walk's reached bytes are held as
    one ``int`` (little-endian), OR-ed into the walk that takes it over."""

    def __init__(self, indexed: _Indexed) -> None:
        members: dict[int, list[int]] = {}
        for at, number in enumerate(indexed.component):
            if number >= 0:
                members.setdefault(number, []).append(at)
        self.walks: dict[int, tuple[int, frozenset[Condition], dict[Condition, list[int]]]] = {}
        for number in indexed.order:
            positions = members[number]
            if len(positions) < _SHARED_SIZE:
                continue
            walked = _walk_indexed(
                indexed, (min(positions),), set(), shared=self, inside=number, waits=True
            )
            self.walks[number] = (
                int.from_bytes(walked.reached, "little"),
                frozenset(walked.active),
                walked.waiting,
            )


def _walk_indexed(
    indexed: _Indexed,
    roots: tuple[int, ...],
    active: set[Condition],
    *,
    shared: _Shared,
    inside: int = -1,
    waits: bool = False,
) -> _Walked:
    """:func:`_walk` over positions, taking over the large components of ``shared`` (other
    than ``inside``, the one being walked) it enters: all of such a component's walk is
    reached (it holds every node its members lead to under the conditions that walk made
    hold), its conditions hold, and its waiting edges wait here, or are followed at once where
    a condition of this walk holds. That is what walking it again would do: conditions only
    ever add edges. A taken-over walk's waiting edges are looked up where they are, not copied
    (a closure of sympy's takes over thousands); ``waits``: gather the edges still waiting into
    the result (a walk that is itself taken over later)."""
    size = indexed.size
    free, bound, activators = indexed.free, indexed.bound, indexed.activators
    component = indexed.component
    walks = shared.walks
    reached = bytearray(size)
    stack: list[int] = []
    for at in roots:
        if not reached[at]:
            reached[at] = 1
            stack.append(at)
    waiting: dict[Condition, list[int]] = {}
    # The waiting edges of the walks taken over, each a dict of its own.
    elsewhere: list[dict[Condition, list[int]]] = []
    taken: set[int] = {inside}

    def follow(targets: list[int]) -> None:
        for target in targets:
            if not reached[target]:
                reached[target] = 1
                stack.append(target)

    def activate(cond: Condition) -> None:
        if cond not in active:
            active.add(cond)
            targets = waiting.pop(cond, None)
            if targets:
                follow(targets)
            for edges in elsewhere:
                targets = edges.get(cond)
                if targets:
                    follow(targets)

    while stack:
        current = stack.pop()
        number = component[current]
        if number not in taken:
            walked = walks.get(number)
            if walked is not None:
                taken.add(number)
                bits, conds, edges = walked
                reached[:] = (int.from_bytes(reached, "little") | bits).to_bytes(size, "little")
                new = conds - active
                if new:
                    active |= new
                    for cond in new & waiting.keys():
                        follow(waiting.pop(cond))
                    for other in elsewhere:
                        for cond in new & other.keys():
                            follow(other[cond])
                for cond in edges.keys() & active:
                    follow(edges[cond])
                elsewhere.append(edges)
                continue
        for cond in activators[current]:
            activate(cond)
        for target in free[current]:
            if not reached[target]:
                reached[target] = 1
                stack.append(target)
        for target, needs in bound[current]:
            if reached[target]:
                continue
            if active.isdisjoint(needs):
                for waited in needs:
                    # ``bound`` holds the conditional edges only: None is not among ``needs``.
                    waiting.setdefault(waited, []).append(target)  # type: ignore[arg-type]
            else:
                reached[target] = 1
                stack.append(target)
    if waits:
        for edges in elsewhere:
            for cond, targets in edges.items():
                if cond not in active:
                    waiting.setdefault(cond, []).extend(targets)
    return _Walked(reached, active, waiting)


def _walk(
    graph: Digraph,
    roots: tuple[str, ...],
    active: set[Condition],
    *,
    fold_nested: bool = True,
) -> tuple[set[str], set[Condition]]:
    """The closure of ``roots`` from the conditions ``active`` (which it extends)."""
    nodes = graph.nodes
    free, bound, activators = graph.split()
    reached = {r for r in roots if r in nodes}
    stack = list(reached)
    waiting: dict[Condition | None, list[str]] = {}

    def activate(cond: Condition | None) -> None:
        if cond is not None and cond not in active:
            active.add(cond)
            for name in waiting.pop(cond, ()):
                if name not in reached:
                    reached.add(name)
                    stack.append(name)

    while stack:
        current = stack.pop()
        for cond in activators.get(current, ()):
            activate(cond)
        enclosing = _enclosing(current, nodes) if fold_nested else None
        if enclosing and enclosing not in reached:
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


def _nested(graph: Digraph, klass: str) -> list[str]:
    """``klass`` and the classes of the graph nested in its body (``mod:C.Inner``)."""
    creators = graph.sorted_creators()
    start = bisect.bisect_left(creators, f"{klass}.")
    found = [klass]
    for name in creators[start:]:
        if not name.startswith(f"{klass}."):
            break
        if ".<locals>." not in name:
            found.append(name)
    return found


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
        active |= {cond for conds in graph.activators().values() for cond in conds}
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
        memberships=memberships(graph, root, keep, active, nodes),
    )


def memberships(
    graph: Digraph, root: str, keep: set[str], active: set[Condition], nodes: dict[str, Node]
) -> tuple[Membership, ...]:
    """Why each member edge of a class in ``keep`` is live (coverage.md rule 1): the reason
    the builder gave an unconditional one; for a conditional one, the code of ``keep`` nearest
    the root (then first by name) that names the member or lets an object of the class escape.
    Nearest, not first by name: a member's own code may name it too (``DiGraph.clear`` calls
    ``self._succ.clear()``), and it is reached after whatever made the member live."""
    namers: dict[str, tuple[str, int]] = {}
    escapers: dict[str, tuple[str, int]] = {}
    depth = _depths(graph, root, keep, active)
    for name in sorted(keep, key=lambda n: (depth.get(n, len(depth)), n)):
        for attr, line in graph.named_by.get(name, {}).items():
            namers.setdefault(attr, (name, line))
        for klass, line in graph.escaped_by.get(name, {}).items():
            escapers.setdefault(klass, (name, line))
    found = []
    for klass in sorted(keep & graph.creators):
        for member, data in sorted(graph.succ[klass].items()):
            if member not in keep or RefKind.MEMBER not in data.kinds:
                continue
            if None in data.conds:
                reason, detail = graph.member_reasons.get(
                    (klass, member), (MemberReason.PROTOCOL, "")
                )
                found.append(Membership(member, klass, reason, detail=detail))
                continue
            live = sorted(
                (c for c in data.conds if c is not None and c in active),
                key=lambda c: (c.trigger is not Trigger.NAMED, c.klass),
            )
            if not live:
                continue
            cond = live[0]
            if cond.trigger is Trigger.ESCAPED and cond.klass not in escapers:
                found.append(Membership(member, klass, MemberReason.TARGET))
                continue
            if cond.trigger is Trigger.NAMED:
                reason, (where, line) = MemberReason.NAMED, namers.get(cond.klass, ("", 0))
            else:
                reason, (where, line) = MemberReason.ESCAPED, escapers.get(cond.klass, ("", 0))
            file = nodes[where].file if where in nodes else None
            found.append(Membership(member, klass, reason, where, file, line or None))
    return tuple(sorted(found, key=lambda m: (m.member, m.klass)))


def _depths(graph: Digraph, root: str, keep: set[str], active: set[Condition]) -> dict[str, int]:
    """Each node of ``keep``'s number of live edges from ``root`` (breadth first)."""
    depth = {root: 0}
    frontier = [root]
    succ = graph.succ
    while frontier:
        reached = []
        for source in frontier:
            for target, data in succ[source].items():
                if target in depth or target not in keep:
                    continue
                if None in data.conds or not active.isdisjoint(data.conds):
                    depth[target] = depth[source] + 1
                    reached.append(target)
        frontier = reached
    return depth


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
