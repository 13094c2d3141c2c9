"""The graph step's own directed graph: plain dicts, so that computing a token never imports
networkx (about 0.2 s of a warm command). :meth:`DependencyGraph.to_networkx` is the way to
networkx for users who want graph algorithms.

What the builder records on the graph is typed here, not kept under string keys: each edge's
:class:`EdgeData` (its reference kinds and the :class:`Condition`\\ s it waits for), the nodes
that instantiate a class (``creators``), the class each method root is named through
(``self_classes``) and the operations on the caller's objects (``arguments``).
"""

from __future__ import annotations

import enum
from typing import NamedTuple

from astoken._model import MemberReason, RefKind


class Trigger(enum.Enum):
    """What makes a conditional edge live for its class C."""

    #: C is instantiated in the closure, or is the class a method root is named through.
    INSTANTIATED = "instantiated"
    #: C itself is created in the closure (its class node is reached): an edge guessed for a
    #: receiver of unknown origin, which the caller's object of a method root does not make.
    CREATED = "created"
    #: Code of the closure names an attribute called C (``Condition.klass`` holds the name):
    #: the members of that name of the classes the closure creates.
    NAMED = "named"
    #: An object of class C escapes in the closure into code it cannot see (a third-party
    #: callable, ``getattr`` with a computed name): every member of the classes created.
    ESCAPED = "escaped"


class Condition(NamedTuple):
    """An edge's condition: ``trigger`` holds for class ``klass`` (for NAMED: an attribute
    name) (a tuple, hashed in C: the closures test these for every conditional edge)."""

    klass: str
    trigger: Trigger


def instantiated(klass: str) -> Condition:
    """The condition "``klass`` is instantiated (or a method root is named through it)"."""
    return Condition(klass, Trigger.INSTANTIATED)


def created(klass: str) -> Condition:
    """The condition "``klass`` itself is created in the closure"."""
    return Condition(klass, Trigger.CREATED)


def named(attr: str) -> Condition:
    """The condition "code of the closure names an attribute ``attr``"."""
    return Condition(attr, Trigger.NAMED)


def escaped(klass: str) -> Condition:
    """The condition "an object of ``klass`` escapes in the closure"."""
    return Condition(klass, Trigger.ESCAPED)


def created_conditions(classes: set[str] | frozenset[str]) -> set[Condition]:
    """The conditions that hold once each of ``classes`` is created: both triggers."""
    return {c for klass in classes for c in (instantiated(klass), created(klass))}


class EdgeData:
    """One edge's attributes: each reference kind with the first line it is made at, and the
    conditions it waits for (None in ``conds``: unconditional)."""

    __slots__ = ("conds", "kinds")

    def __init__(self, kinds: dict[RefKind, int], conds: set[Condition | None]) -> None:
        self.kinds = kinds
        self.conds = conds


#: (unconditional targets per node, conditional (target, conditions) per node, the conditions
#: each node makes hold once it is reached).
Split = tuple[
    dict[str, tuple[str, ...]],
    dict[str, tuple[tuple[str, frozenset[Condition | None]], ...]],
    dict[str, tuple[Condition, ...]],
]


class Digraph:
    """A directed graph over string node names, with typed attributes (see the module
    docstring)."""

    __slots__ = (
        "_sorted",
        "_split",
        "arguments",
        "creators",
        "escaped_by",
        "member_reasons",
        "named_by",
        "nodes",
        "self_classes",
        "succ",
    )

    def __init__(self) -> None:
        self.nodes: dict[str, None] = {}
        self.succ: dict[str, dict[str, EdgeData]] = {}
        #: Nodes that instantiate a class (class nodes whose members were expanded).
        self.creators: set[str] = set()
        #: Method root -> the class it is named through (``Sub.run``: ``self`` is a ``Sub``).
        self.self_classes: dict[str, str] = {}
        #: Node -> {member as written: first line}: operations on the caller's objects.
        self.arguments: dict[str, dict[str, int]] = {}
        #: Node -> {attribute name its code names: first line} (the NAMED conditions).
        self.named_by: dict[str, dict[str, int]] = {}
        #: Node -> {class whose objects its code lets escape: first line} (ESCAPED).
        self.escaped_by: dict[str, dict[str, int]] = {}
        #: (class, member) -> why an unconditional member edge is there, and for an object
        #: that is third-party at birth, the base that makes it so.
        self.member_reasons: dict[tuple[str, str], tuple[MemberReason, str]] = {}
        self._split: Split | None = None
        self._sorted: list[str] = []

    def __contains__(self, name: object) -> bool:
        return name in self.nodes

    def __len__(self) -> int:
        return len(self.nodes)

    def add_node(self, name: str) -> None:
        if name not in self.nodes:
            self.nodes[name] = None
            self.succ[name] = {}
            self._split = None

    def mark_creator(self, name: str) -> None:
        """``name`` instantiates a class (see :attr:`creators`)."""
        self.add_node(name)
        self.creators.add(name)
        self._split = None

    def mark_named(self, name: str, attr: str, line: int) -> bool:
        """``name``'s code names attribute ``attr`` (first at ``line``); False if known."""
        names = self.named_by.setdefault(name, {})
        if attr in names:
            return False
        names[attr] = line
        self._split = None
        return True

    def mark_escaped(self, name: str, klass: str, line: int) -> bool:
        """``name``'s code lets an object of ``klass`` escape; False if known."""
        classes = self.escaped_by.setdefault(name, {})
        if klass in classes:
            return False
        classes[klass] = line
        self._split = None
        return True

    def activators(self) -> dict[str, tuple[Condition, ...]]:
        """The conditions each node makes hold once a closure reaches it."""
        found: dict[str, list[Condition]] = {}
        for name in self.creators:
            found.setdefault(name, []).extend((instantiated(name), created(name)))
        for name, attrs in self.named_by.items():
            found.setdefault(name, []).extend(named(attr) for attr in attrs)
        for name, classes in self.escaped_by.items():
            found.setdefault(name, []).extend(escaped(klass) for klass in classes)
        return {name: tuple(conds) for name, conds in found.items()}

    def sorted_creators(self) -> list[str]:
        """:attr:`creators`, sorted (kept until a creator is added: none is ever removed)."""
        if len(self._sorted) != len(self.creators):
            self._sorted = sorted(self.creators)
        return self._sorted

    def add_edge(
        self,
        source: str,
        target: str,
        *,
        kinds: dict[RefKind, int] | None = None,
        conds: set[Condition | None] | None = None,
    ) -> None:
        """Add ``source -> target`` (and both nodes), or replace the attributes given."""
        self.add_node(source)
        self.add_node(target)
        data = self.succ[source].get(target)
        if data is None:
            self.succ[source][target] = EdgeData(
                dict(kinds or {}), set(conds) if conds is not None else {None}
            )
        else:
            if kinds is not None:
                data.kinds = dict(kinds)
            if conds is not None:
                data.conds = set(conds)
        self._split = None

    def split(self) -> Split:
        """Per node: the targets of its unconditional edges, and ``(target, conditions)`` of its
        conditional ones; and the conditions it makes hold (:meth:`activators`). Computed once
        per graph state (any change to the graph drops it): closures walk this instead of the
        edge data."""
        if self._split is None:
            free: dict[str, tuple[str, ...]] = {}
            bound: dict[str, tuple[tuple[str, frozenset[Condition | None]], ...]] = {}
            for source, targets in self.succ.items():
                plain = []
                conditional = []
                for target, data in targets.items():
                    if None in data.conds:
                        plain.append(target)
                    else:
                        conditional.append((target, frozenset(data.conds)))
                free[source] = tuple(plain)
                bound[source] = tuple(conditional)
            self._split = (free, bound, self.activators())
        return self._split

    def get_edge_data(self, source: str, target: str) -> EdgeData | None:
        return self.succ.get(source, {}).get(target)
