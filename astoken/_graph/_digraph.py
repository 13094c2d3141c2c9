"""The graph step's own directed graph: plain dicts, so that computing a token never imports
networkx (about 0.2 s of a warm command). :meth:`DependencyGraph.to_networkx` is the way to
networkx for users who want graph algorithms.

The interface is the small part of ``networkx.DiGraph`` the pipeline uses: ``graph`` (graph
attributes), ``nodes[name]`` (a node's attribute dict), ``succ[name]`` (``{target: edge
attributes}``), ``add_node``, ``add_edge``, ``get_edge_data``, ``edges(data=True)``.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

#: (unconditional targets per node, conditional (target, conditions) per node, the nodes whose
#: attribute ``instantiates`` is set).
Split = tuple[
    dict[str, tuple[str, ...]],
    dict[str, tuple[tuple[str, frozenset[str]], ...]],
    frozenset[str],
]


class Digraph:
    """A directed graph over string node names with attribute dicts on graph, nodes, edges."""

    __slots__ = ("_split", "graph", "nodes", "succ")

    def __init__(self, **attrs: Any) -> None:
        self.graph: dict[str, Any] = dict(attrs)
        self.nodes: dict[str, dict[str, Any]] = {}
        self.succ: dict[str, dict[str, dict[str, Any]]] = {}
        self._split: Split | None = None

    def __contains__(self, name: object) -> bool:
        return name in self.nodes

    def __len__(self) -> int:
        return len(self.nodes)

    def add_node(self, name: str) -> None:
        if name not in self.nodes:
            self.nodes[name] = {}
            self.succ[name] = {}
            self._split = None

    def set_node_attribute(self, name: str, key: str, value: Any) -> None:
        self.add_node(name)
        self.nodes[name][key] = value
        self._split = None

    def add_edge(self, source: str, target: str, **attrs: Any) -> None:
        """Add ``source -> target`` (and both nodes), or update its attributes."""
        self.add_node(source)
        self.add_node(target)
        data = self.succ[source].get(target)
        if data is None:
            self.succ[source][target] = dict(attrs)
        else:
            data.update(attrs)
        self._split = None

    def split(self) -> Split:
        """Per node: the targets of its unconditional edges, and ``(target, conditions)`` of its
        conditional ones (edge attribute ``conds``: a set where None means unconditional); and
        the nodes marked ``instantiates``. Computed once per graph state (any change to the
        graph drops it): closures walk this instead of the attribute dicts."""
        if self._split is None:
            free: dict[str, tuple[str, ...]] = {}
            bound: dict[str, tuple[tuple[str, frozenset[str]], ...]] = {}
            for source, targets in self.succ.items():
                plain = []
                conditional = []
                for target, attrs in targets.items():
                    conds = attrs.get("conds", {None})
                    if None in conds:
                        plain.append(target)
                    else:
                        conditional.append((target, frozenset(conds)))
                free[source] = tuple(plain)
                bound[source] = tuple(conditional)
            creators = frozenset(n for n, attrs in self.nodes.items() if attrs.get("instantiates"))
            self._split = (free, bound, creators)
        return self._split

    def get_edge_data(self, source: str, target: str) -> dict[str, Any] | None:
        return self.succ.get(source, {}).get(target)

    def edges(self, *, data: bool = True) -> Iterator[tuple[str, str, dict[str, Any]]]:
        """Every edge as ``(source, target, attributes)``."""
        del data  # always with attributes: the only form the pipeline uses
        for source, targets in self.succ.items():
            for target, attrs in targets.items():
                yield source, target, attrs
