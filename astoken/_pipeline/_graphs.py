"""The seam to the graph step: what it is asked (:func:`graph_request`), what it gives back
(:class:`BuiltGraph`), and one root's dependency graph as users see it (:func:`root_graph`)."""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from astoken import _runtime, _store
from astoken._model import DependencyGraph, Node, Options, Unresolved
from astoken._scope import Scope
from astoken.errors import TargetNotFoundError

from . import _steps
from ._options import cache_dir
from ._session import Session, compiled_leaves

if TYPE_CHECKING:
    from astoken._graph import CachedBuild, Digraph, GraphRequest

    from ._summaries import ModuleLoader

__all__ = [
    "BuiltGraph",
    "build",
    "closure_graph",
    "graph_request",
    "package_graph",
    "root_graph",
    "scope_for",
]


@dataclass(frozen=True, slots=True)
class BuiltGraph:
    """What the graph step built for some roots: the graph (see ``astoken._graph.build_graph``
    for its edge attributes), the unresolved references of nodes reachable from a root
    (sorted), and a Node for every graph node."""

    graph: Digraph
    unresolved: tuple[Unresolved, ...]
    nodes: dict[str, Node]


def scope_for(module: str, options: Options) -> Scope:
    """The first-party scope of a target in ``module`` under ``options``."""
    return Scope((), options.include, options.exclude).with_root(module)


def graph_request(
    roots: tuple[str, ...],
    session: Session,
    loader: ModuleLoader,
    *,
    provenance: bool = False,
) -> GraphRequest:
    """What the graph step is asked to build for ``roots`` (see :func:`build`)."""
    return _steps.graph.GraphRequest(
        roots=roots,
        scope=session.scope,
        modules=loader,
        runtime=session.runtime,
        declared=session.declared,
        registered=session.registered,
        elements=session.elements,
        locate=None if session.options.static else _runtime.locate_name,
        branches=None if session.options.static else _branches(session.options),
        external_versions=session.options.external_versions,
        provenance=provenance,
    )


def _branches(options: Options) -> Callable[[str], tuple[tuple[str, tuple[str, ...]], ...]]:
    """The ``branches`` question of a graph request: ``_runtime.branch_names`` with what each
    file defines in branches kept in the cache (``_store.BranchStore``)."""
    book = _store.BranchStore(cache_dir(options))
    return functools.partial(_runtime.branch_names, book=book, salt=_store.astoken_fingerprint())


def build(
    roots: tuple[str, ...],
    session: Session,
    loader: ModuleLoader,
    *,
    provenance: bool = False,
) -> BuiltGraph:
    """The graph of ``roots``; with ``provenance``, also the edges that only show a second way a
    node is reached (for pictures and ``explain``; tokens and closures are the same without)."""
    if session.sources is not None:
        loader.sources = session.sources  # one parse gives the summary and the digests
    request = graph_request(roots, session, loader, provenance=provenance)
    built = BuiltGraph(*_steps.graph.build_graph(request))
    if session.options.static:
        _refuse_missing_roots(roots, built)
    return built


def _refuse_missing_roots(roots: tuple[str, ...], built: BuiltGraph) -> None:
    """In static mode nothing is imported, so a target's name is checked here: a root that
    its module's source neither defines nor binds by an import is a TargetNotFoundError, not
    an empty dependency list."""
    for root in roots:
        module, _, qualname = root.partition(":")
        if not qualname:
            continue
        node = built.nodes.get(root)
        if node is None or (node.line is None and not built.graph.succ.get(root)):
            raise TargetNotFoundError(
                root,
                f"the source of {module} neither defines nor imports {qualname!r} "
                "(static mode reads source only)",
            )


def package_graph(package: str, modules: tuple[str, ...], built: BuiltGraph) -> DependencyGraph:
    """The dependency graph of a package or module target whose ``modules`` (``package`` and
    its submodules) were the roots of ``built``: every node, the package reaching each
    module."""
    return _steps.graph.package_graph(package, modules, built.graph, built.nodes, built.unresolved)


def root_graph(
    root: str,
    built: BuiltGraph,
    session: Session,
    *,
    fold_nested: bool = True,
) -> DependencyGraph:
    """The dependency graph of one root as ``explain`` and ``dependency_graph`` show it: its
    closure in the built graph (``fold_nested``: see ``_graph.closure``), the unresolved
    references of that closure, and an edge from each node running compiled code to what
    ships it (``_session.compiled_leaves``)."""
    nodes = built.nodes
    graph = _steps.graph.to_dependency_graph(root, built.graph, nodes, (), fold_nested=fold_nested)
    names = [node.name for node in graph.nodes]
    closure = set(names)
    graph = replace(graph, unresolved=tuple(u for u in built.unresolved if u.owner in closure))
    leaves, edges = compiled_leaves(names, nodes, session)
    edges -= set(graph.edges)
    if not edges:
        return graph
    return replace(
        graph,
        nodes=tuple(sorted((*graph.nodes, *leaves.values()), key=lambda n: n.name)),
        edges=tuple(
            sorted((*graph.edges, *edges), key=lambda e: (e.source, e.target, e.kind.value))
        ),
    )


def closure_graph(root: str, build: CachedBuild, session: Session) -> DependencyGraph:
    """One root's dependency graph without edges, from a build that kept its closure
    (``_kept.kept_closures``): the nodes, compiled-code leaves and unresolved references of
    :func:`root_graph`, which are all a token or a dependency list reads; no edges, argument
    uses or memberships (``explain`` and ``graph``, which show them, build with provenance)."""
    names = build.closure(root)
    nodes = build.nodes
    leaves, _edges = compiled_leaves(names, nodes, session)
    found = [nodes[name] for name in names if name in nodes]
    found.extend(leaves.values())
    return DependencyGraph(
        root=root,
        nodes=tuple(sorted(found, key=lambda n: n.name)),
        edges=(),
        unresolved=tuple(u for u in build.unresolved if u.owner in names),
    )
