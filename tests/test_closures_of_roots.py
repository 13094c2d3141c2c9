"""A snapshot's closures, one walk per distinct closure (``_closure.closures_of_roots``).

Roots that reach each other by unconditional edges and start with the same conditions have
one closure: it is walked once for all of them. Every root's closure must still be exactly
what walking from it alone gives, conditional edges (created, instantiated, named, escaped)
and nested functions included.
"""

from __future__ import annotations

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


@settings(max_examples=300, deadline=None)
@given(graph=graphs())
def test_each_roots_closure_is_what_walking_from_it_alone_gives(graph: Digraph) -> None:
    roots = tuple(NAMES)
    shared = _closure.closures_of_roots(graph, roots, frozenset)
    for root in roots:
        assert shared[root] == _closure.closure(graph, root)[0], root


def test_roots_calling_one_another_are_walked_once(monkeypatch: pytest.MonkeyPatch) -> None:
    # Forty functions in a ring (sympy's expression methods call one another), each also
    # reaching a helper: one walk for all forty; the helper, outside the ring, has its own.
    graph = Digraph()
    ring = [f"m:f{i}" for i in range(40)]
    for i, name in enumerate(ring):
        graph.add_edge(name, ring[(i + 1) % len(ring)])
        graph.add_edge(name, "m:helper")
    walks: list[tuple[str, ...]] = []
    real = _closure._reach

    def counting(graph: Digraph, roots: tuple[str, ...], **kwargs: bool) -> object:
        walks.append(roots)
        return real(graph, roots, **kwargs)

    monkeypatch.setattr(_closure, "_reach", counting)
    shared = _closure.closures_of_roots(graph, (*ring, "m:helper"), frozenset)
    assert len(walks) == 2
    assert all(shared[name] == frozenset({*ring, "m:helper"}) for name in ring)
    assert shared["m:helper"] == frozenset({"m:helper"})


def test_methods_of_two_classes_in_one_ring_are_walked_apart() -> None:
    # The same component, other starting conditions: a method root's class is instantiated,
    # which makes other edges live.
    graph = Digraph()
    graph.add_edge("m:A.run", "m:B.run")
    graph.add_edge("m:B.run", "m:A.run")
    graph.add_edge("m:A.run", "m:only_if_b", conds={instantiated("m:B")})
    graph.self_classes["m:A.run"] = "m:A"
    graph.self_classes["m:B.run"] = "m:B"
    shared = _closure.closures_of_roots(graph, ("m:A.run", "m:B.run"), frozenset)
    assert "m:only_if_b" in shared["m:B.run"]
    assert "m:only_if_b" not in shared["m:A.run"]
