"""Analysis of targets: one target (``behavior_token``, ``explain``, ``dependency_graph``),
several sharing one graph build (``behavior_tokens``, ``dependency_lists``, ``stamp``), and
the closures and tokens other parts of astoken ask for (``astoken audit``,
``pytest --astoken-select``, ``astoken.ccflow``)."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any, TypeVar

from astoken import _combine, _hashing, _runtime, _targets
from astoken._model import (
    Dependency,
    DependencyGraph,
    Explanation,
    NodeKind,
    Options,
    Unresolved,
)
from astoken._scope import Scope, iter_package_modules
from astoken.errors import AstokenError, StrictModeError, TargetNotFoundError, TargetTypeError

from . import _steps
from ._graphs import BuiltGraph, build, closure_graph, package_graph, root_graph, scope_for
from ._kept import build_key, kept_closures
from ._memo import FileSignature
from ._options import Progress, Stage, make_options, report, store_for
from ._session import (
    Session,
    check_running_code,
    closure_token,
    first_party,
    own_token,
    report_unresolved,
    sorted_unresolved,
    warn_compiled,
)
from ._summaries import ModuleLoader

__all__ = [
    "Analysis",
    "analyze",
    "closure_tokens",
    "closures",
    "dependency_graph_loaded",
    "dependency_names",
    "discovered_dependency_tokens",
    "explanation",
    "finish",
    "for_each_target",
    "refuse_unresolved",
    "targets_not_found",
]

_T = TypeVar("_T")

#: Why a module is no target where a token is (token, explain, deps): it has no token.
_MODULE_TARGET = "is a module; give a function or class (module:name), or graph or snapshot it"


@dataclass(frozen=True, slots=True)
class Analysis:
    """One target analysed: its dependency graph, the own token of each node (the compiled-code
    leaves included), the target's own token and behavior token, and what stayed unresolved."""

    target: _targets.Target
    graph: DependencyGraph
    own_tokens: dict[str, str | None]
    target_token: str | None
    token: str | None
    unresolved: tuple[Unresolved, ...]
    #: The files its graph read (what the token memo checks); only :func:`analyze` records
    #: them, a graph from a shared build (:func:`for_each_target`) has none.
    files: tuple[FileSignature, ...] = ()


def analyze(
    obj: object,
    options: Options,
    progress: Progress | None = None,
    *,
    provenance: bool = False,
    fold_nested: bool = True,
    entered: bool = False,
) -> Analysis:
    """The analysis of one target (a function, class, method or their spec), with the files
    its graph read. ``entered``: the caller already holds the target's environment
    (``_targets.target_environment``), so it is not entered again."""
    environment = (
        contextlib.nullcontext()
        if entered
        else _targets.target_environment(obj, prepare=_steps.prepare_steps)
    )
    with environment:
        target = _targets.load_target(obj, static=options.static)
        if target.is_module:
            raise TargetTypeError(target.spec, _MODULE_TARGET)
        session = Session(options, scope_for(target.module, options), {}, {})
        if target.obj is not None:
            session.objects[target.node] = target.obj
        if not provenance and fold_nested and not options.static:
            # A token reads the closure's nodes only: from a build kept across runs.
            roots = (target.node,)
            key = _targets_key(roots, session.scope, options)
            kept, files = kept_closures(key, roots, session, options, progress=progress)
            graph = closure_graph(target.node, kept, session)
            return replace(finish(target, graph, session, progress), files=files)
        loader = ModuleLoader(store_for(options), progress=progress)
        built = build((target.node,), session, loader, provenance=provenance)
        graph = root_graph(target.node, built, session, fold_nested=fold_nested)
        analysis = finish(target, graph, session, progress)
        return replace(analysis, files=loader.read_files())


def _targets_key(roots: tuple[str, ...], scope: Scope, opts: Options) -> str | None:
    """The cache key of the kept build of some targets (``_kept.build_key``): their node names
    and first-party scope. One entry per set of targets and options: an edit replaces it."""
    return build_key("targets", opts, repr(scope), "\n".join(roots))


def finish(
    target: _targets.Target,
    graph: DependencyGraph,
    session: Session,
    progress: Progress | None = None,
) -> Analysis:
    """The tokens of a target whose dependency graph is ``graph`` (none in static mode), its
    unresolved references reported (``_session.report_unresolved``)."""
    if session.options.static:
        own: dict[str, str | None] = {}
        target_token = token = None
        unresolved = sorted_unresolved(graph.unresolved)
    else:
        check_running_code([target.module, *first_party(graph.nodes)], session.options)
        result = closure_token(
            graph.root,
            [node.name for node in graph.nodes],
            {node.name: node for node in graph.nodes},
            session,
            unresolved=graph.unresolved,
            root_obj=target.obj,
            owner=target.spec,
            progress=progress,
        )
        own = {name: session.own.get(name) for name in result.dependencies}
        own.update(result.leaves)
        own[graph.root] = target_token = result.root_token
        token, unresolved = result.token, result.unresolved
        if session.options.strict and not _runtime.has_python_code(target.obj):
            warn_compiled(target.spec, target.obj, session.options)
    report_unresolved(target.spec, unresolved, session.options)
    return Analysis(target, graph, own, target_token, token, unresolved)


def explanation(analysis: Analysis) -> Explanation:
    """What ``explain`` shows of an analysis (made with ``provenance``): each dependency with
    its own token and the shortest path that reaches it."""
    paths = _steps.graph.paths_from_root(analysis.graph)
    enclosing = analysis.graph.root.partition(".<locals>.")[0]
    if enclosing != analysis.graph.root:
        # A nested target reaches the function it is nested in without an edge (its code is
        # part of that function's): what only that function reaches is shown from it.
        around = replace(analysis.graph, root=enclosing)
        paths = {**_steps.graph.paths_from_root(around), **paths}
    membership = {m.member: m for m in reversed(analysis.graph.memberships)}
    deps = []
    for node in analysis.graph.nodes:
        if node.name == analysis.graph.root:
            continue
        token = analysis.own_tokens.get(node.name)
        deps.append(
            Dependency(
                name=node.name,
                kind=node.kind,
                token=token or "",
                path=paths.get(node.name, ()),
                file=node.file,
                line=node.line,
                volatile=node.volatile,
                membership=membership.get(node.name),
            )
        )
    return Explanation(
        target=analysis.target.node,
        token=analysis.token,
        dependencies=tuple(deps),
        unresolved=analysis.unresolved,
        arguments=analysis.graph.arguments,
    )


def dependency_names(graph: DependencyGraph) -> tuple[str, ...]:
    """The names a graph's root depends on (every node but the root), in the graph's order."""
    return tuple(n.name for n in graph.nodes if n.name != graph.root)


def refuse_unresolved(spec: str, graph: DependencyGraph, opts: Options) -> None:
    """Under ``strict``, a graph with unresolved references is a StrictModeError."""
    if opts.strict and graph.unresolved:
        raise StrictModeError(spec, tuple(u.describe() for u in graph.unresolved))


def targets_not_found(spec: str, module: str) -> AstokenError:
    return TargetNotFoundError(spec, f"no source files found for module {module!r}")


def dependency_graph_loaded(
    obj: object, opts: Options, progress: Progress | None = None
) -> DependencyGraph:
    """The dependency graph of a target or of every definition of a package or module, inside
    the target's environment."""
    target = _targets.load_target(obj, static=opts.static)
    session = Session(opts, scope_for(target.module, opts), {}, {})
    if target.obj is not None:
        session.objects[target.node] = target.obj
    loader = ModuleLoader(store_for(opts), progress=progress)
    if target.is_module:
        modules = iter_package_modules(target.module)
        if not modules:
            raise targets_not_found(target.spec, target.module)
        roots = tuple(modules)
        built = build(roots, session, loader, provenance=True)
        graph = package_graph(target.module, roots, built)
    else:
        built = build((target.node,), session, loader, provenance=True)
        graph = root_graph(target.node, built, session)
    refuse_unresolved(target.spec, graph, opts)
    return graph


def _environment_key(obj: object) -> str:
    """Targets with one key are analysed under one target environment. A file-path target
    rebinds its module name to that file (see ``_targets.target_environment``), so each file
    has its own key; every other target shares the key ``""``."""
    if not isinstance(obj, str):
        return ""
    canonical = _targets.canonical_spec(obj)
    if not os.path.isabs(canonical):
        return ""
    location, _, qualname = canonical.rpartition(":")
    return location if qualname and os.path.isabs(location) else canonical


def for_each_target(
    objs: Sequence[object],
    opts: Options,
    progress: Progress | None,
    each: Callable[[_targets.Target, DependencyGraph, Session, Progress | None], _T],
    module: Callable[[object], _T] | None = None,
    *,
    edges: bool = True,
) -> list[_T]:
    """``each(target, graph, session, progress)`` for every target, in the order given, where
    ``graph`` is the target's own dependency graph (what ``dependency_graph`` gives) and
    the graphs of all targets that share a first-party scope come from one build. Without
    ``edges`` (a token or a dependency list reads only the nodes and unresolved references),
    a graph has none (``_graphs.closure_graph``), and the build is kept across runs
    (``_kept``) unless in static mode.

    Each target gets a session of its own over the shared live objects, so what one target's
    hashing notes about a blind spot is never reported for another. A module target gives
    ``module(target)`` (on its own), or is refused (:class:`~astoken.errors.TargetTypeError`)
    when ``module`` is None.
    """
    by_environment: dict[str, list[int]] = {}
    for index, obj in enumerate(objs):
        by_environment.setdefault(_environment_key(obj), []).append(index)
    results: dict[int, _T] = {}
    for indexes in by_environment.values():
        with _targets.target_environment(objs[indexes[0]], prepare=_steps.prepare_steps):
            groups: dict[Scope, list[tuple[int, _targets.Target]]] = {}
            for index in indexes:
                target = _targets.load_target(objs[index], static=opts.static)
                if target.is_module and module is not None:
                    results[index] = module(objs[index])
                    continue
                if target.is_module:
                    raise TargetTypeError(target.spec, _MODULE_TARGET)
                groups.setdefault(scope_for(target.module, opts), []).append((index, target))
            for scope, members in groups.items():
                objects: dict[str, object] = {}
                for _, target in members:
                    if target.obj is not None:
                        objects[target.node] = target.obj
                shared = Session(opts, scope, objects, {})
                roots = tuple(sorted({target.node for _, target in members}))
                graph_of = _graphs_of(roots, shared, opts, progress, edges=edges)
                single = len(members) == 1
                for done, (index, target) in enumerate(members, 1):
                    session = Session(opts, scope, objects, {})
                    graph = graph_of(target.node, session)
                    results[index] = each(target, graph, session, progress if single else None)
                    if not single:
                        report(progress, Stage.TARGETS, done, len(members))
    return [results[index] for index in range(len(objs))]


def _graphs_of(
    roots: tuple[str, ...],
    session: Session,
    opts: Options,
    progress: Progress | None,
    *,
    edges: bool,
) -> Callable[[str, Session], DependencyGraph]:
    """One build of ``roots``, and how to take one root's dependency graph from it (see
    :func:`for_each_target` for ``edges``)."""
    if edges or opts.static:
        built = build(roots, session, ModuleLoader(store_for(opts), progress=progress))
        return lambda root, session: root_graph(root, built, session)
    key = _targets_key(roots, session.scope, opts)
    kept, _files = kept_closures(key, roots, session, opts, progress=progress)
    return lambda root, session: closure_graph(root, kept, session)


def closures(targets: Sequence[object], **options: Any) -> dict[str, frozenset[str]]:
    """Target node name -> the FUNCTION/METHOD nodes of its closure (itself included).

    Each closure is what ``dependencies`` gives for that target alone, but the graph is
    built once for all targets that share a first-party scope (usually one build in all), not
    once per target. For tools that measure discovery (``astoken audit``); errors are those of
    ``behavior_token`` (a module target is a :class:`TargetTypeError`).
    """
    opts = make_options(**options)
    scopes, _ = _load_by_scope(targets, opts, strict=True)
    executable = (NodeKind.FUNCTION, NodeKind.METHOD)
    found: dict[str, frozenset[str]] = {}
    for group in scopes.values():
        assert group.built is not None  # strict: a failed build raised
        nodes = group.built.nodes
        for root in group.roots:
            reached, _conditions = _steps.graph.closure(group.built.graph, root)
            found[root] = frozenset(
                name for name in reached if name in nodes and nodes[name].kind in executable
            )
    return found


def closure_tokens(targets: Sequence[object], **options: Any) -> dict[str, str | None]:
    """Target node name -> its behavior token, for many targets with one graph build per
    first-party scope (as :func:`closures`). A target whose token cannot be computed (a value
    with no encoding anywhere in its closure, a target that does not load) maps to None; the
    others are what ``snapshot`` gives them."""
    opts = make_options(**options)
    scopes, tokens = _load_by_scope(targets, opts, strict=False)
    for group in scopes.values():
        if group.built is None:
            tokens.update(dict.fromkeys(group.roots))
            continue
        for root in group.roots:
            reached, _conditions = _steps.graph.closure(group.built.graph, root)
            pairs = group.pairs(sorted(reached))
            if pairs is None:
                tokens[root] = None
                continue
            mine = [pair for pair in pairs if pair[0] != root]
            own = dict(pairs).get(root)
            tokens[root] = _combine.combine([(_combine.TARGET, own), *mine], portable=opts.portable)
    return tokens


@dataclass
class _ScopeGroup:
    """The targets of one first-party scope, their one graph build (None when it failed) and
    the own tokens computed so far (None for a node whose value has no encoding)."""

    roots: tuple[str, ...]
    session: Session
    built: BuiltGraph | None
    own: dict[str, str | None]
    failed: set[str]

    def pairs(self, names: list[str]) -> list[tuple[str, str | None]] | None:
        """(name, own token) of ``names`` (None for a name with no node); None if a node's
        value has no encoding."""
        assert self.built is not None
        nodes = self.built.nodes
        pairs: list[tuple[str, str | None]] = []
        for name in names:
            if name in nodes and name not in self.own and name not in self.failed:
                try:
                    with _hashing.source_book(self.session.sources):
                        self.own[name] = own_token(nodes[name], self.session)
                except AstokenError:
                    self.failed.add(name)
            if name in self.failed:
                return None
            pairs.append((name, self.own.get(name)))
        return pairs


def _load_by_scope(
    targets: Sequence[object], opts: Options, *, strict: bool
) -> tuple[dict[Scope, _ScopeGroup], dict[str, str | None]]:
    """The targets grouped by first-party scope, each group's graph built once; and the
    targets that did not load (or are modules), mapped to None.

    ``strict`` (for :func:`closures`; not ``Options.strict``): a target that does not load, a
    module target and a failed build raise, as ``behavior_token`` would; the options' static
    mode applies, and the running code is not checked, since nothing is hashed. Otherwise (the
    token loaders) such targets are in the second mapping and such a group has no build, nor
    has a group whose first-party code does not run what its source says.
    """
    loaded: dict[Scope, dict[str, _targets.Target]] = {}
    failed: dict[str, str | None] = {}
    for obj in targets:
        try:
            # A token needs the live objects: the token loaders import even in static mode.
            target = _targets.load_target(obj, static=strict and opts.static)
        except AstokenError:
            if strict:
                raise
            failed[str(obj)] = None
            continue
        if target.is_module:
            if strict:
                raise TargetTypeError(target.spec, "is a module; give a function or class")
            failed[target.node] = None
            continue
        loaded.setdefault(scope_for(target.module, opts), {}).setdefault(target.node, target)
    scopes: dict[Scope, _ScopeGroup] = {}
    for scope, group in loaded.items():
        session = Session(opts, scope, {}, {})
        for target in group.values():
            if target.obj is not None:
                session.objects[target.node] = target.obj
        roots = tuple(sorted(group))
        built: BuiltGraph | None
        try:
            built = build(roots, session, ModuleLoader(store_for(opts)))
            if not strict:
                check_running_code(first_party(built.nodes.values()), opts)
        except AstokenError:
            if strict:
                raise
            built = None
        scopes[scope] = _ScopeGroup(roots, session, built, {}, set())
    return scopes, failed


def discovered_dependency_tokens(cls: type) -> tuple[tuple[str, str], ...]:
    """(name, own token) of everything ``cls`` reaches outside the classes of its MRO and
    their members (which ccflow's contract hashes as methods already), sorted.

    Used by :mod:`astoken.ccflow` to add discovered helpers to the declared ones. A class
    defined in a function does not bring that function: ccflow's contract hashes a class by
    its methods (live objects, closure cells included), never by the code around it.
    """
    analysis = analyze(cls, make_options(), fold_nested=False)
    own_classes = set()
    for klass in cls.__mro__:
        name = _targets.object_name(klass)
        if name is not None:
            own_classes.add(f"{name[0]}:{name[1]}")
    own_classes.add(analysis.graph.root)

    def is_own(node: str) -> bool:
        return node in own_classes or any(node.startswith(k + ".") for k in own_classes)

    return tuple(
        sorted(
            (name, tok)
            for name, tok in analysis.own_tokens.items()
            if tok is not None and not is_own(name)
        )
    )
