"""Graph: module summaries -> a dependency graph over qualified names.

Node names are ``"pkg.module:Qual.name"`` for first-party definitions, ``"pkg.module"`` for
modules, and the top-level import name for standard-library and third-party leaves. One concern
per module: ``_request`` (what is asked), ``_digraph`` (the graph structure: plain dicts, no
networkx), ``_program`` (modules, definitions, name resolution),
``_classes`` (MRO, members, state), ``_flow`` (what a receiver can be), ``_builder`` (edges,
Rapid Type Analysis, the names and escapes that conditions wait for), ``_closure`` (per-root
reachability, why each member is in), ``_journal`` (the questions a build asked the live
program, to replay) and ``_cached`` (a snapshot's build as the cache keeps it).

Guarantees (tests cite them by number). The rules of what a token covers are numbered once, in
``docs/explanation/coverage.md``, and cited as "coverage.md rule N" in code and tests:

1. Only modules the closure reaches are summarised: nothing is indexed package-wide, so a module
   the static closure does not contain is never read (nor imported by the runtime step).
2. Resolution follows imports, ``import a.b as m``, ``from pkg import m``, relative imports of
   any depth, re-exports through ``__init__``, star imports (honouring ``__all__``), and imports
   inside function bodies, to the module that *defines* a name.
3. ``self.x``/``cls.x`` resolve over the static MRO of the method's class; ``super().x`` over
   the MRO after the class; an override in a subclass counts only where that subclass is
   instantiated (or the root is a method named through it) (coverage.md rule 7). Reading
   ``self.x`` that is not a member reaches the methods of the class that assign ``self.x``
   (coverage.md rule 5).
4. Instantiating a class (calling it, decorating with it, passing it as a value, ``raise C``)
   reaches the class node, which reaches what can run on its objects over its first-party MRO
   (first definition wins; coverage.md rule 1): construction, dunders (and ``_sunder_``
   hooks), properties, its metaclass's ``__call__`` and a generated ``__init__`` always; any
   other member once code of the closure names it (``.name``, ``self.name``, a literal
   ``getattr``, a dotted global ``m.C.name``), or once an object of the class or of a base
   *escapes* in the closure (handed to a third-party or standard-library callable, directly or
   in a display or comprehension, except the standard-library modules that run only
   protocols; ``getattr`` with a computed name); a parameter is the caller's (coverage.md
   rule 3). An object with a third-party base other than ``abc``, ``typing``,
   ``collections``, ``enum``, ``numbers`` or ``dataclasses`` is third-party at birth, and a
   class given as a root stands for all of its behavior: every member. Class constants are
   reached like methods, unless a class decorator or a third-party base reads them (fields).
   A class node's own token is its data: its code is in its members' nodes.
5. Receivers get types from flow (coverage.md rule 2: constructors, ``cls(...)``, return
   values, annotations, attributes assigned in methods, properties, decorator factories,
   literals). A receiver that is the caller's object (a parameter) adds no edge (coverage.md
   rule 3); one of unknown origin reaches the member of that name of every class the closure
   instantiates, never in a test module unless the code making the call is test code
   (coverage.md rule 4; test code as ``astoken._scope.is_test_module`` says). A registry's
   live contents and a ``singledispatch`` function's implementations are reached (coverage.md
   rule 6).
6. Standard-library and third-party names become leaf nodes; nothing inside them is followed.
7. What cannot be resolved statically is recorded as :class:`Unresolved`, never dropped silently.
8. The result depends only on the code and on the answers of the request's callbacks (what
   ``_journal`` records): nodes and edges are a fixpoint, emitted sorted.
9. Functions nested in a function are nodes of their own (kind NESTED); reaching one reaches
   the definition it is nested in.
10. Line numbers are carried into nodes, edges and unresolved references, never compared or
    used to decide anything: a summary whose lines alone moved gives the same graph with those
    lines moved (what ``_journal.replay`` relies on to keep a build across such an edit).
"""

from __future__ import annotations

from astoken._model import Node, NodeKind, Unresolved
from astoken._scope import Origin

from ._builder import Builder
from ._cached import (
    LAYOUT,
    CachedBuild,
    Closures,
    cached_build,
    closure_indexes,
    decode_build,
    encode_build,
    with_moves,
)
from ._closure import (
    closure,
    closure_of_all,
    package_graph,
    paths_from_root,
    to_dependency_graph,
)
from ._digraph import Digraph
from ._journal import Journal, Moved, moved_lines, recording, replay
from ._program import DEF_NODE_KIND
from ._request import GraphRequest

__all__ = [
    "LAYOUT",
    "CachedBuild",
    "Closures",
    "Digraph",
    "GraphRequest",
    "Journal",
    "Moved",
    "build_graph",
    "cached_build",
    "closure",
    "closure_indexes",
    "closure_of_all",
    "decode_build",
    "encode_build",
    "moved_lines",
    "package_graph",
    "paths_from_root",
    "recording",
    "replay",
    "to_dependency_graph",
    "with_moves",
]


def build_graph(
    request: GraphRequest,
) -> tuple[Digraph, tuple[Unresolved, ...], dict[str, Node]]:
    """Build the dependency graph of ``request.roots``.

    Returns the graph (each edge's :class:`~._digraph.EdgeData`: its reference kinds with
    their first line and the conditions it waits for), the sorted
    unresolved references of nodes reachable from a root, and a Node for every graph node.
    """
    builder = Builder(request)
    builder.run()
    graph = builder.graph
    reachable = closure_of_all(graph, request.roots)
    nodes: dict[str, Node] = {}
    for name in sorted(graph.nodes):
        nodes[name] = _make_node(builder, name, request)
    unresolved = tuple(
        sorted(
            (u for u in builder.unresolved.values() if u.owner in reachable),
            key=lambda u: (u.owner, u.line, u.expression),
        )
    )
    return graph, unresolved, nodes


def _make_node(builder: Builder, name: str, request: GraphRequest) -> Node:
    module, sep, qualname = name.partition(":")
    program = builder.program
    if not sep:
        origin = program.classify(name)
        if origin is Origin.STDLIB:
            return Node(name, NodeKind.STDLIB)
        if origin is Origin.THIRD_PARTY:
            version = request.version_of(name) if request.external_versions else ""
            return Node(name, NodeKind.EXTERNAL, version=version)
        mod = program.modules.get(name)
        return Node(name, NodeKind.MODULE, file=mod.file if mod else None, line=None)
    mod = program.modules.get(module)
    definition = mod.definitions.get(qualname) if mod is not None else None
    if definition is not None:
        kind = DEF_NODE_KIND[definition.kind]
        return Node(
            name,
            kind,
            file=mod.file if mod else None,
            line=definition.line,
            volatile=definition.volatile,
            expression=definition.expression,
        )
    info = builder.runtime_info.get(name)
    if info is not None:
        return Node(name, info.kind, file=info.file, line=info.line)
    kind = NodeKind.METHOD if "." in qualname else NodeKind.FUNCTION
    return Node(name, kind, file=mod.file if mod else None)
