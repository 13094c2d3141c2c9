"""A snapshot's closures, one walk per distinct closure (``_closure.closures_of_roots``).

Roots that reach each other by unconditional edges and start with the same conditions have
one closure: it is walked once for all of them. Every root's closure must still be exactly
what walking from it alone gives, conditional edges (created, instantiated, named, escaped)
and nested functions included.
"""

from __future__ import annotations

from itertools import compress

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from astoken._graph import _closure
from astoken._graph._digraph import Digraph, created, escaped, instantiated, named

NAMES = [
    "m:f",
    "m:g",
    "m:h",
    "m:A",
    "m:A.run",
    "m:A.stop",
    "m:B",
    "m:B.run",
    "m:g.<locals>.inner",
    "m:k",
]
CLASSES = ["m:A", "m:B"]
CONDITIONS = [
    None,
    instantiated("m:A"),
    created("m:B"),
    named("run"),
    escaped("m:A"),
]


@st.composite
def graphs(draw: st.DrawFn) -> Digraph:
    graph = Digraph()
    for name in NAMES:
        graph.add_node(name)
    for klass in draw(st.lists(st.sampled_from(CLASSES), unique=True)):
        graph.mark_creator(klass)
    edges = draw(
        st.lists(
            st.tuples(st.sampled_from(NAMES), st.sampled_from(NAMES), st.sampled_from(CONDITIONS)),
            max_size=30,
        )
    )
    for source, target, condition in edges:
        graph.add_edge(source, target, conds={condition})
    for name in draw(st.lists(st.sampled_from(NAMES), max_size=3)):
        graph.mark_named(name, "run", 1)
    for name in draw(st.lists(st.sampled_from(NAMES), max_size=2)):
        graph.mark_escaped(name, "m:A", 1)
    for method in draw(st.lists(st.sampled_from(["m:A.run", "m:A.stop", "m:B.run"]))):
        graph.self_classes[method] = method.rpartition(".")[0]
    return graph


def closures(graph: Digraph, roots: tuple[str, ...]) -> dict[str, frozenset[str]]:
    """Each root's closure as a set of names (``closures_of_roots`` gives a byte per name)."""
    names = tuple(sorted(graph.nodes))
    return _closure.closures_of_roots(
        graph, roots, names, lambda flags: frozenset(compress(names, flags))
    )


@settings(max_examples=300, deadline=None)
@given(graph=graphs(), shared_size=st.sampled_from([1, 2, 3, 16]))
def test_each_roots_closure_is_what_walking_from_it_alone_gives(
    graph: Digraph, shared_size: int
) -> None:
    # With components of every size walked once and taken over by the walks that reach them.
    roots = tuple(NAMES)
    saved = _closure._SHARED_SIZE
    _closure._SHARED_SIZE = shared_size
    try:
        shared = closures(graph, roots)
    finally:
        _closure._SHARED_SIZE = saved
    for root in roots:
        assert shared[root] == _closure.closure(graph, root)[0], root
    # A token's few targets are walked alone: the same closures.
    few = roots[: _closure._WALK_ALONE - 1]
    assert closures(graph, few) == {r: shared[r] for r in few}


def test_roots_calling_one_another_are_walked_once(monkeypatch: pytest.MonkeyPatch) -> None:
    # Forty functions in a ring (sympy's expression methods call one another), each also
    # reaching a helper, and ten callers of the ring from outside it: the ring is walked once
    # (for its first root, which takes it over), every other root of the ring takes that
    # closure, and each caller and the helper walk only themselves.
    graph = Digraph()
    ring = [f"m:f{i}" for i in range(40)]
    for i, name in enumerate(ring):
        graph.add_edge(name, ring[(i + 1) % len(ring)])
        graph.add_edge(name, "m:helper")
    callers = [f"m:caller{i}" for i in range(10)]
    for caller in callers:
        graph.add_edge(caller, ring[0])
    expanded: list[str] = []
    real_init = _closure._Indexed.__init__

    def counting_init(self: _closure._Indexed, graph: Digraph, names: tuple[str, ...]) -> None:
        real_init(self, graph, names)

        class Counting(list):  # type: ignore[type-arg]
            def __getitem__(self, at: int) -> object:  # type: ignore[override]
                expanded.append(names[at])
                return super().__getitem__(at)

        self.free = Counting(self.free)

    monkeypatch.setattr(_closure._Indexed, "__init__", counting_init)
    shared = closures(graph, (*ring, "m:helper", *callers))
    assert all(shared[name] == frozenset({*ring, "m:helper"}) for name in ring)
    assert shared["m:helper"] == frozenset({"m:helper"})
    assert all(shared[c] == frozenset({c, *ring, "m:helper"}) for c in callers)
    # Each ring node and the helper expanded once in all; each caller once.
    assert sorted(expanded) == sorted([*ring, "m:helper", "m:helper", *callers])


def test_methods_of_two_classes_in_one_ring_are_walked_apart() -> None:
    # The same component, other starting conditions: a method root's class is instantiated,
    # which makes other edges live.
    graph = Digraph()
    graph.add_edge("m:A.run", "m:B.run")
    graph.add_edge("m:B.run", "m:A.run")
    graph.add_edge("m:A.run", "m:only_if_b", conds={instantiated("m:B")})
    graph.self_classes["m:A.run"] = "m:A"
    graph.self_classes["m:B.run"] = "m:B"
    shared = closures(graph, ("m:A.run", "m:B.run"))
    assert "m:only_if_b" in shared["m:B.run"]
    assert "m:only_if_b" not in shared["m:A.run"]
