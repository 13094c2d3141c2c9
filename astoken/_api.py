"""Orchestration of the pipeline: locate -> parse -> graph -> resolve -> hash -> combine.

Each public function here only wires the steps together; the work lives in the step modules.
"""

from __future__ import annotations

import hashlib
import importlib
import os
import sys
import time
import warnings
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

from . import (
    _combine,
    _config,
    _hashing,
    _lockfile,
    _runtime,
    _store,
    _summary_codec,
    _targets,
)
from ._model import (
    Dependency,
    DependencyGraph,
    Explanation,
    ModuleSource,
    ModuleSummary,
    Node,
    NodeKind,
    Options,
    RefKind,
    RuntimeInfo,
    Snapshot,
    SnapshotDiff,
    SnapshotEntry,
    Unresolved,
)
from ._scope import Scope, iter_package_modules, locate_module
from .errors import (
    AstokenError,
    ImportFailedError,
    OptionError,
    SourceSyntaxError,
    StrictModeError,
    TargetNotFoundError,
    TargetTypeError,
    UnhashableValueError,
    UnresolvedReferenceWarning,
)

__all__ = [
    "behavior_token",
    "cache_token",
    "data_token",
    "dependencies",
    "dependency_graph",
    "depends_on",
    "diff",
    "explain",
    "project_options",
    "register_encoder",
    "snapshot",
]

_T = TypeVar("_T")

if TYPE_CHECKING:
    from types import ModuleType


def _lazy(name: str) -> ModuleType:
    """Import a heavy step on first use: libcst (~0.35 s) and networkx (~0.3 s) are not needed
    by ``import astoken``, ``astoken --version`` or a summary-cache hit."""
    return importlib.import_module(f"astoken.{name}")


register_encoder = _hashing.register_encoder


# ---------------------------------------------------------------------------------------------
# Options
# ---------------------------------------------------------------------------------------------


def _options(
    *,
    strict: bool = False,
    static: bool = False,
    include: Sequence[str] = (),
    exclude: Sequence[str] = (),
    external_versions: bool = True,
    cache_dir: str | os.PathLike[str] | None = None,
    use_cache: bool = True,
) -> Options:
    for name, patterns in (("include", include), ("exclude", exclude)):
        if isinstance(patterns, str):
            raise TypeError(f"{name} must be a sequence of module patterns, not a str")
    if cache_dir is not None and not os.fspath(cache_dir):
        raise OptionError("cache_dir is empty: give a directory, or None for the default")
    return Options(
        strict=strict,
        static=static,
        include=tuple(include),
        exclude=tuple(exclude),
        external_versions=external_versions,
        cache_dir=os.fspath(cache_dir) if cache_dir is not None else None,
        use_cache=use_cache,
    )


# ---------------------------------------------------------------------------------------------
# Module summaries: disk store + in-process memo
# ---------------------------------------------------------------------------------------------

_EMPTY_SUMMARY = ModuleSummary(definitions=(), imports=())
# (file, mtime_ns, size) -> summary. Process-level memo of an immutable result keyed by what
# would change it; not configuration.
_SUMMARIES: dict[tuple[str, int, int], ModuleSummary] = {}


def _store_for(options: Options) -> _store.SummaryStore:
    if not options.use_cache:
        return _store.SummaryStore(None)
    return _store.SummaryStore(options.cache_dir or _store.default_cache_dir())


def _file_signature(file: str) -> tuple[str, int, int] | None:
    try:
        st = os.stat(file)
    except OSError:
        return None
    return (file, st.st_mtime_ns, st.st_size)


def _summarize_file(file: str, store: _store.SummaryStore) -> ModuleSummary:
    signature = _file_signature(file)
    if signature is not None and signature in _SUMMARIES:
        return _SUMMARIES[signature]
    with open(file, "rb") as handle:
        data = handle.read()
    key = _store.summary_key(data)
    summary: ModuleSummary | None = None
    text = store.get(key)
    if text is not None:
        try:
            summary = _summary_codec.summary_from_json(text)
        except ValueError:
            summary = None  # a corrupt entry is a miss
    if summary is None:
        summary = _lazy("_summary").summarize_source(data, filename=file)
        store.put(key, _summary_codec.summary_to_json(summary))
    if signature is not None:
        _SUMMARIES[signature] = summary
    return summary


class _ModuleLoader:
    """Module name -> ModuleSource for the graph step; records the files it read. Modules in
    ``skip`` (left out of a snapshot) are treated as not found."""

    def __init__(self, store: _store.SummaryStore, skip: frozenset[str] = frozenset()) -> None:
        self.store = store
        self.skip = skip
        self.files: dict[str, tuple[str, int, int] | None] = {}

    def __call__(self, name: str) -> ModuleSource | None:
        if name in self.skip:
            return None
        location = locate_module(name)
        if location is None:
            return None
        if location.file is None:
            if location.is_package:  # a namespace package: nothing defined, submodules only
                return ModuleSource(name, None, True, _EMPTY_SUMMARY)
            return None
        summary = _summarize_file(location.file, self.store)
        self.files[location.file] = _file_signature(location.file)
        return ModuleSource(name, location.file, location.is_package, summary)


def _summarize_modules(
    modules: Sequence[str], options: Options, jobs: int
) -> dict[str, AstokenError]:
    """Summarise every module (in ``jobs`` processes when the disk cache can carry the results
    back); the modules whose source cannot be summarised, with the error. The outcome does not
    depend on ``jobs``: workers only warm the cache, then every module is read here in order."""
    files = {}
    for name in modules:
        location = locate_module(name)
        if location is not None and location.file is not None:
            files[name] = location.file
    problems: dict[str, AstokenError] = {}
    if jobs > 1 and len(files) > 1 and options.use_cache:
        files_to_warm = _uncached(files, _store_for(options))
    else:
        files_to_warm = {}
    if len(files_to_warm) > 1:
        cache_dir = options.cache_dir or _store.default_cache_dir()
        # Imported here: ``concurrent.futures.process`` costs ~14 ms, paid only with --jobs.
        from concurrent.futures import ProcessPoolExecutor  # noqa: PLC0415

        with ProcessPoolExecutor(max_workers=jobs) as pool:
            names = list(files_to_warm)
            results = pool.map(
                _summarize_in_worker, [files[n] for n in names], [cache_dir] * len(names)
            )
            for name, error in zip(names, results, strict=True):
                if error is not None:
                    problems[name] = error
    store = _store_for(options)
    for name, file in files.items():
        if name not in problems:
            try:
                _summarize_file(file, store)
            except AstokenError as exc:
                problems[name] = exc
    return problems


def _uncached(files: dict[str, str], store: _store.SummaryStore) -> dict[str, str]:
    """The modules whose summary is not in the disk cache yet (what workers are started for)."""
    missing = {}
    for name, file in files.items():
        try:
            with open(file, "rb") as handle:
                key = _store.summary_key(handle.read())
        except OSError:
            missing[name] = file  # let the worker report it
            continue
        if not store.has(key):
            missing[name] = file
    return missing


def _summarize_in_worker(file: str, cache_dir: str) -> AstokenError | None:
    try:
        _summarize_file(file, _store.SummaryStore(cache_dir))
    except AstokenError as exc:
        return exc  # astoken's errors pickle with their attributes: re-raised as they were
    return None


def _prepare_steps() -> None:
    """Import the heavy steps (and what they import) before a path target's module name is
    rebound (see ``_targets.target_environment``): their imports must see the real modules."""
    _lazy("_graph")
    _lazy("_summary")


def _first_party(nodes: Iterable[Node]) -> list[str]:
    """Names of the nodes whose code is hashed (leaves are hashed by name and version)."""
    return [n.name for n in nodes if n.kind not in (NodeKind.EXTERNAL, NodeKind.STDLIB)]


def _check_running_code(names: Iterable[str]) -> None:
    """StaleCodeError when a loaded module among ``names`` (node names or module names) does
    not run the code of its source file: its objects are about to be hashed."""
    for module_name in sorted({name.partition(":")[0] for name in names}):
        module = sys.modules.get(module_name)
        if module is not None:
            _runtime.check_source(module)


# ---------------------------------------------------------------------------------------------
# Analysis of one or many roots
# ---------------------------------------------------------------------------------------------


@dataclass(slots=True)
class _Session:
    """State of one analysis: live objects found so far and notes about blind spots."""

    options: Options
    scope: Scope
    objects: dict[str, object]
    notes: dict[tuple[str, str], Unresolved]

    def runtime(self, name: str) -> RuntimeInfo | None:
        if self.options.static:
            return None
        obj = self.lookup(name)
        if obj is None:
            return None
        info, found = _runtime.runtime_info(name, obj)
        for key, value in found.items():
            self.objects.setdefault(key, value)
        return info

    def declared(self, name: str) -> tuple[str, ...]:
        """Dependencies declared on the live object (``__astoken_deps__``, and for classes
        ``__ccflow_tokenizer_deps__`` over the MRO), as node names."""
        if self.options.static:
            return ()
        if ":" not in name:
            return ()
        obj = self.lookup(name)
        if obj is None:
            return ()
        return _runtime.declared_dependencies(obj)

    def registered(self, name: str) -> tuple[str, ...]:
        """What a node's live object dispatches to (``singledispatch`` implementations)."""
        if self.options.static or ":" not in name:
            return ()
        obj = self.lookup(name)
        return _runtime.registered_implementations(obj) if obj is not None else ()

    def elements(self, name: str) -> tuple[str, ...]:
        """The named functions and classes a constant's live container holds (a registry)."""
        if self.options.static or ":" not in name:
            return ()
        obj = self.lookup(name)
        return _runtime.container_elements(obj) if obj is not None else ()

    def lookup(self, name: str) -> object | None:
        if name in self.objects:
            return self.objects[name]
        try:
            obj = _runtime.resolve_node(name)
        except LookupError:
            return None
        self.objects[name] = obj
        return obj


@dataclass(frozen=True, slots=True)
class _Analysis:
    target: _targets.Target
    graph: DependencyGraph
    own_tokens: dict[str, str | None]
    target_token: str | None
    token: str | None
    unresolved: tuple[Unresolved, ...]


def _scope_for(module: str, options: Options) -> Scope:
    return Scope((), options.include, options.exclude).with_root(module)


def _build(
    roots: tuple[str, ...],
    session: _Session,
    loader: _ModuleLoader,
    *,
    provenance: bool = False,
) -> tuple[Any, tuple[Unresolved, ...], dict[str, Node]]:
    """The graph of ``roots``; with ``provenance``, also the edges that only show a second way a
    node is reached (for pictures and ``explain``; tokens and closures are the same without)."""
    request = _lazy("_graph").GraphRequest(
        roots=roots,
        scope=session.scope,
        modules=loader,
        runtime=session.runtime,
        declared=session.declared,
        registered=session.registered,
        elements=session.elements,
        locate=None if session.options.static else _runtime.locate_name,
        external_versions=session.options.external_versions,
        provenance=provenance,
    )
    built: tuple[Any, tuple[Unresolved, ...], dict[str, Node]] = _lazy("_graph").build_graph(
        request
    )
    return built


def _own_token(node: Node, session: _Session) -> str | None:
    """A node's own token: its code or value only (its dependencies are separate nodes)."""
    if node.kind is NodeKind.EXTERNAL:
        return f"external:{node.name}=={node.version}" if node.version else f"external:{node.name}"
    if node.kind is NodeKind.STDLIB:
        return f"stdlib:{node.name}"
    if node.kind in (NodeKind.MODULE, NodeKind.NESTED):
        return None  # a nested function is hashed as part of the code it is nested in
    obj = session.lookup(node.name)
    if obj is None:
        if node.file is not None:
            session.notes.setdefault(
                (node.name, "import"),
                Unresolved(
                    node.name,
                    node.name,
                    "found in source but not at runtime",
                    node.file,
                    node.line or 0,
                ),
            )
        return None
    if node.kind is NodeKind.CONSTANT and _hashing.is_data(obj):
        try:
            return _hashing.value_token(
                obj,
                owner=node.name,
                by_reference=True,
                home=node.name.partition(":")[0],
                scope=session.scope,
            )
        except UnhashableValueError as exc:
            # A module/class-level object with no deterministic encoding (a logger, a lock, a
            # client instance): its type and the canonical source of the assignment that built
            # it are hashed, so editing how it is constructed still changes the token.
            digest = _runtime.assignment_digest(node.file, node.line) or ""
            source = hashlib.sha256(digest.encode()).hexdigest() if digest else "no-source"
            return f"opaque:{exc.value_type}:{source}"
    return _hashing.object_token(obj, scope=session.scope, owner=node.name)


def _analyze(obj: object, options: Options, *, provenance: bool = False) -> _Analysis:
    return _analyze_with_files(obj, options, provenance=provenance)[0]


def _finish(target: _targets.Target, graph: DependencyGraph, session: _Session) -> _Analysis:
    own: dict[str, str | None] = {}
    if session.options.static:
        target_token = None
        token = None
    else:
        _check_running_code([target.module, *_first_party(graph.nodes)])
        for node in graph.nodes:
            if node.name != graph.root:
                own[node.name] = _own_token(node, session)
        target_token = _hashing.object_token(target.obj, scope=session.scope, owner=target.spec)
        own[graph.root] = target_token
        pairs = [("<target>", target_token)] + [
            (name, tok) for name, tok in own.items() if name != graph.root
        ]
        token = _combine.combine(pairs)
        if target_token is None and _only_own_data(graph):
            # A class with only data attributes has no behavior of its own (ccflow's rule);
            # the code that reads its constants depends on them through its own graph.
            token = None
    unresolved = tuple(
        sorted(
            {*graph.unresolved, *session.notes.values()},
            key=lambda u: (u.owner, u.line, u.expression, u.reason),
        )
    )
    if unresolved:
        if session.options.strict:
            raise StrictModeError(target.spec, tuple(u.describe() for u in unresolved))
        _warn_once(target.spec, unresolved)
    return _Analysis(target, graph, own, target_token, token, unresolved)


def _only_own_data(graph: DependencyGraph) -> bool:
    """True when every dependency is a constant member of the root (a data-only class)."""
    prefix = graph.root + "."
    return all(
        node.name == graph.root or (node.kind is NodeKind.CONSTANT and node.name.startswith(prefix))
        for node in graph.nodes
    )


_WARNED: set[tuple[str, tuple[Unresolved, ...]]] = set()


def _warn_once(spec: str, unresolved: tuple[Unresolved, ...]) -> None:
    key = (spec, unresolved)
    if key in _WARNED:
        return
    _WARNED.add(key)
    first = unresolved[0].describe()
    more = f" (and {len(unresolved) - 1} more; see astoken.explain)" if len(unresolved) > 1 else ""
    warnings.warn(
        f"{spec}: unresolved reference {first}{more}",
        UnresolvedReferenceWarning,
        stacklevel=4,
    )


# ---------------------------------------------------------------------------------------------
# In-process memo for behavior_token: (target identity, options) -> token. A hit costs a dict
# lookup; the files the graph read are looked at again at most once per MEMO_RECHECK_SECONDS.
# ---------------------------------------------------------------------------------------------

#: A remembered token is served without looking at the source files again for this long.
MEMO_RECHECK_SECONDS = 1.0
#: At most this many targets are remembered (the oldest half is dropped beyond it).
_MEMO_LIMIT = 4096
_DEFAULT_OPTIONS = Options()
_FileSignature = tuple[str, int, int] | None


@dataclass(slots=True)
class _MemoEntry:
    target: object  # the object asked about (identity is checked for object targets)
    files: tuple[_FileSignature, ...]
    token: str | None
    checked: float  # time.monotonic() when the files were last found unchanged


_MEMO: dict[tuple[object, Options], _MemoEntry] = {}


def _memo_key(obj: object, options: Options) -> tuple[object, Options]:
    if not isinstance(obj, str):
        return (id(obj), options)
    if "/" in obj or os.sep in obj or ".py" in obj:
        # A path spec is keyed by the file it names, not by the text (relative to the cwd).
        return (_targets.canonical_spec(obj), options)
    return (obj, options)


def _memo_valid(files: tuple[_FileSignature, ...]) -> bool:
    return all(sig is not None and _file_signature(sig[0]) == sig for sig in files)


def _memo_lookup(key: tuple[object, Options], obj: object) -> _MemoEntry | None:
    entry = _MEMO.get(key)
    if entry is None or not (entry.target is obj or isinstance(obj, str)):
        return None
    now = time.monotonic()
    if now - entry.checked < MEMO_RECHECK_SECONDS:
        return entry
    if not _memo_valid(entry.files):
        return None
    entry.checked = now
    return entry


def _memo_store(key: tuple[object, Options], entry: _MemoEntry) -> None:
    if len(_MEMO) >= _MEMO_LIMIT:
        for old in list(_MEMO)[: _MEMO_LIMIT // 2]:
            del _MEMO[old]
    _MEMO[key] = entry


# ---------------------------------------------------------------------------------------------
# Public API
# ---------------------------------------------------------------------------------------------


def behavior_token(
    obj: object,
    *,
    strict: bool = False,
    static: bool = False,
    include: Sequence[str] = (),
    exclude: Sequence[str] = (),
    external_versions: bool = True,
    cache_dir: str | os.PathLike[str] | None = None,
    use_cache: bool = True,
) -> str | None:
    """The 64-hex SHA-256 behavior token of ``obj`` and everything it reaches.

    ``obj`` is a function, bound or unbound method, staticmethod/classmethod/property, class,
    ``functools.partial``, or a ``"pkg.module:Qual.name"`` / ``"path/file.py:name"`` string.
    The token covers the target's own code and every first-party helper found by the source
    graph (and, where there is no source, by reading code objects), each hashed by its bytecode,
    defaults, closures and constant values, combined in sorted order.

    Returns None only when there is nothing to hash: a class with only data attributes and no
    dependencies. ``strict=True`` raises :class:`~astoken.errors.StrictModeError` when some
    reference could not be resolved (otherwise an
    :class:`~astoken.errors.UnresolvedReferenceWarning` is issued once). ``static=True`` is not
    accepted here: a token needs the live code; use :func:`dependency_graph` or
    :func:`dependencies` for static analysis.
    """
    if (
        strict
        or static
        or include
        or exclude
        or not external_versions
        or cache_dir is not None
        or not use_cache
    ):
        options = _options(
            strict=strict,
            static=static,
            include=include,
            exclude=exclude,
            external_versions=external_versions,
            cache_dir=cache_dir,
            use_cache=use_cache,
        )
        if options.static:
            raise OptionError(
                "behavior_token needs the live code: static=True is for graphs and dependencies"
            )
    else:
        options = _DEFAULT_OPTIONS  # the common call: no Options to build for a memo hit
    key = _memo_key(obj, options)
    cached = _memo_lookup(key, obj)
    if cached is not None:
        return cached.token
    analysis, files = _analyze_with_files(obj, options)
    _memo_store(key, _MemoEntry(obj, files, analysis.token, time.monotonic()))
    return analysis.token


def _analyze_with_files(
    obj: object, options: Options, *, provenance: bool = False
) -> tuple[_Analysis, tuple[tuple[str, int, int] | None, ...]]:
    with _targets.target_environment(obj, prepare=_prepare_steps):
        return _analyze_loaded(obj, options, provenance=provenance)


def _analyze_loaded(
    obj: object, options: Options, *, provenance: bool = False
) -> tuple[_Analysis, tuple[tuple[str, int, int] | None, ...]]:
    target = _targets.load_target(obj, static=options.static)
    if target.is_module:
        raise TargetTypeError(target.spec, "is a module; give a function or class (module:name)")
    session = _Session(options, _scope_for(target.module, options), {}, {})
    if target.obj is not None:
        session.objects[target.node] = target.obj
    loader = _ModuleLoader(_store_for(options))
    nxgraph, unresolved, nodes = _build((target.node,), session, loader, provenance=provenance)
    graph = _lazy("_graph").to_dependency_graph(target.node, nxgraph, nodes, unresolved)
    analysis = _finish(target, graph, session)
    return analysis, tuple(sorted(loader.files.values(), key=lambda s: s[0] if s else ""))


def explain(obj: object, **options: Any) -> Explanation:
    """The token of ``obj``, each dependency with its own token and how it was reached, and the
    references static analysis could not resolve."""
    opts = _options(**options)
    analysis = _analyze(obj, opts, provenance=True)
    paths = _lazy("_graph").paths_from_root(analysis.graph)
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
            )
        )
    return Explanation(
        target=analysis.target.node,
        token=analysis.token,
        dependencies=tuple(deps),
        unresolved=analysis.unresolved,
        arguments=analysis.graph.arguments,
    )


def dependencies(obj: object, **options: Any) -> tuple[str, ...]:
    """Sorted qualified names of everything ``obj``'s token covers (the target excluded)."""
    graph = dependency_graph(obj, **options)
    return tuple(n.name for n in graph.nodes if n.name != graph.root)


def dependency_graph(obj: object, **options: Any) -> DependencyGraph:
    """The dependency graph of a target, or of every definition in a package/module name
    (``"pkg"``, ``"pkg.module"``, a directory or a ``.py`` path)."""
    opts = _options(**options)
    with _targets.target_environment(obj, prepare=_prepare_steps):
        return _dependency_graph_loaded(obj, opts)


def _dependency_graph_loaded(obj: object, opts: Options) -> DependencyGraph:
    target = _targets.load_target(obj, static=opts.static)
    session = _Session(opts, _scope_for(target.module, opts), {}, {})
    if target.obj is not None:
        session.objects[target.node] = target.obj
    loader = _ModuleLoader(_store_for(opts))
    if target.is_module:
        modules = iter_package_modules(target.module)
        if not modules:
            raise _targets_not_found(target.spec, target.module)
        roots = tuple(modules)
        nxgraph, unresolved, nodes = _build(roots, session, loader, provenance=True)
        for module in roots:
            if module != target.module:
                nxgraph.add_edge(target.module, module, kinds={RefKind.MEMBER: 0}, conds={None})
        graph = _lazy("_graph").to_dependency_graph(target.module, nxgraph, nodes, unresolved)
    else:
        nxgraph, unresolved, nodes = _build((target.node,), session, loader, provenance=True)
        graph = _lazy("_graph").to_dependency_graph(target.node, nxgraph, nodes, unresolved)
    assert isinstance(graph, DependencyGraph)
    if opts.strict and graph.unresolved:
        raise StrictModeError(target.spec, tuple(u.describe() for u in graph.unresolved))
    return graph


def _closures(targets: Sequence[object], **options: Any) -> dict[str, frozenset[str]]:
    """Target node name -> the FUNCTION/METHOD nodes of its closure (itself included).

    Each closure is what :func:`dependencies` gives for that target alone, but the graph is
    built once for all targets that share a first-party scope (usually one build in all), not
    once per target. For tools that measure discovery (``astoken audit``); errors are those of
    :func:`behavior_token` (a module target is a :class:`TargetTypeError`).
    """
    opts = _options(**options)
    groups: dict[Scope, dict[str, _targets.Target]] = {}
    for obj in targets:
        target = _targets.load_target(obj, static=opts.static)
        if target.is_module:
            raise TargetTypeError(target.spec, "is a module; give a function or class")
        groups.setdefault(_scope_for(target.module, opts), {}).setdefault(target.node, target)
    executable = (NodeKind.FUNCTION, NodeKind.METHOD)
    closures: dict[str, frozenset[str]] = {}
    for scope, group in groups.items():
        session = _Session(opts, scope, {}, {})
        for target in group.values():
            if target.obj is not None:
                session.objects[target.node] = target.obj
        roots = tuple(sorted(group))
        nxgraph, _unresolved, nodes = _build(roots, session, _ModuleLoader(_store_for(opts)))
        graph_step = _lazy("_graph")
        for root in roots:
            reached, _conditions = graph_step.closure(nxgraph, root)
            closures[root] = frozenset(
                name for name in reached if name in nodes and nodes[name].kind in executable
            )
    return closures


def _closure_tokens(targets: Sequence[object], **options: Any) -> dict[str, str | None]:
    """Target node name -> its behavior token, for many targets with one graph build per
    first-party scope (as :func:`_closures`). A target whose token cannot be computed (a value
    with no encoding anywhere in its closure, a target that does not load) maps to None; the
    others are what :func:`snapshot` gives them. For ``pytest --astoken-select``."""
    opts = _options(**options)
    groups: dict[Scope, dict[str, _targets.Target]] = {}
    tokens: dict[str, str | None] = {}
    for obj in targets:
        try:
            target = _targets.load_target(obj, static=False)
        except AstokenError:
            tokens[str(obj)] = None
            continue
        if target.is_module:
            tokens[target.node] = None
            continue
        groups.setdefault(_scope_for(target.module, opts), {}).setdefault(target.node, target)
    for scope, group in groups.items():
        session = _Session(opts, scope, {}, {})
        for target in group.values():
            if target.obj is not None:
                session.objects[target.node] = target.obj
        roots = tuple(sorted(group))
        try:
            nxgraph, _unresolved, nodes = _build(roots, session, _ModuleLoader(_store_for(opts)))
            _check_running_code(_first_party(nodes.values()))
        except AstokenError:
            tokens.update(dict.fromkeys(roots))
            continue
        graph_step = _lazy("_graph")
        own: dict[str, str | None] = {}
        failed: set[str] = set()
        for root in roots:
            reached, _conditions = graph_step.closure(nxgraph, root)
            pairs: list[tuple[str, str | None]] = []
            for name in sorted(reached):
                if name not in own and name not in failed and name in nodes:
                    try:
                        own[name] = _own_token(nodes[name], session)
                    except AstokenError:
                        failed.add(name)
                if name in failed:
                    break
                if name != root:
                    pairs.append((name, own.get(name)))
            else:
                tokens[root] = _combine.combine([("<target>", own.get(root)), *pairs])
                continue
            tokens[root] = None
    return tokens


def _targets_not_found(spec: str, module: str) -> AstokenError:
    return TargetNotFoundError(spec, f"no source files found for module {module!r}")


def project_options(target: object = None, **given: Any) -> dict[str, Any]:
    """The keyword options of the ``[tool.astoken]`` table of ``target``'s project (the
    working directory's when ``target`` is None), with the ``given`` ones winning: include and
    exclude patterns are added, other options replaced (None means "not given").

    ``astoken.behavior_token(f, **astoken.project_options(f))`` computes a token as the
    command line does; the API functions themselves read no file.
    """
    start = _config.start_directory(target) if target is not None else os.getcwd()
    return _config.find_config(start).options(given)


def data_token(value: object) -> str:
    """The deterministic token of a plain value (see docs/reference/token-format.md).

    An instance of a first-party class (and such a class given as a value) also carries its
    class's behavior token: an object's methods run on the code its caller's cache key is
    computed for, so editing them must change the key (parameters are the caller's).

    Raises :class:`~astoken.errors.UnhashableValueError` for a value with no deterministic
    encoding.
    """
    return _hashing.value_token(value, owner="data_token()", behavior=_class_behavior)


def _class_behavior(cls: type) -> str | None:
    """The behavior token of a class whose instance is data (the hook of :func:`data_token`)."""
    if cls in _CLASS_BEHAVIOR_ACTIVE:
        return None  # a class whose behavior reaches an instance of itself: counted once
    _CLASS_BEHAVIOR_ACTIVE.add(cls)
    try:
        return behavior_token(cls)
    finally:
        _CLASS_BEHAVIOR_ACTIVE.discard(cls)


# Classes whose behavior token is being computed for a data token (re-entrancy guard).
_CLASS_BEHAVIOR_ACTIVE: set[type] = set()


def cache_token(*, data: Iterable[object] = (), behavior: Iterable[object] = ()) -> str:
    """Combine data values and behavior objects, in order, into one token.

    Behavior objects whose token is None (nothing to hash) are skipped, like ccflow's
    ``compute_cache_token``.
    """
    tokens = [data_token(value) for value in data]
    for obj in behavior:
        token = behavior_token(obj)
        if token is not None:
            tokens.append(token)
    return _combine.combine_ordered(tokens)


def depends_on(*objs: object) -> Callable[[_T], _T]:
    """Decorator declaring extra dependencies of a function or class.

    The objects (functions, classes, or ``"module:name"`` strings) are stored in
    ``__astoken_deps__`` and become graph edges of kind ``declared``. Use it where static
    analysis cannot see a call (``getattr(obj, name)()``, plugins, ``eval``).
    """

    def decorate(target: _T) -> _T:
        existing = tuple(getattr(target, "__dict__", {}).get("__astoken_deps__", ()))
        try:
            target.__astoken_deps__ = existing + objs  # type: ignore[attr-defined]
        except (AttributeError, TypeError) as exc:
            raise TargetTypeError(
                _targets.repr_target(target), "does not accept attributes; cannot declare deps"
            ) from exc
        return target

    return decorate


def _discovered_dependency_tokens(cls: type) -> tuple[tuple[str, str], ...]:
    """(name, own token) of everything ``cls`` reaches outside its own members, sorted.

    Used by :mod:`astoken.ccflow` to add discovered helpers to the declared ones.
    """
    analysis = _analyze(cls, _options())
    prefix = analysis.graph.root + "."
    return tuple(
        sorted(
            (name, tok)
            for name, tok in analysis.own_tokens.items()
            if tok is not None and name != analysis.graph.root and not name.startswith(prefix)
        )
    )


# ---------------------------------------------------------------------------------------------
# Snapshots
# ---------------------------------------------------------------------------------------------


def snapshot(
    packages: Sequence[str],
    *,
    jobs: int = 1,
    progress: Callable[[int, int], None] | None = None,
    include_tests: bool = False,
    **options: Any,
) -> Snapshot:
    """Tokens of every function, class and method in the given packages/modules/paths.

    Test modules (``test_*``, ``*_test``, ``tests``/``test`` packages, ``conftest``) are left
    out unless ``include_tests`` is true or the package given is itself test code. A module
    that cannot be summarised or imported (a syntax error, a missing optional dependency,
    ``pytest.importorskip``, ``sys.exit()``...) is left out and listed in ``Snapshot.failed``
    with the reason; the snapshot is then partial (``Snapshot.is_partial``). The result does
    not depend on ``jobs``.
    """
    opts = _options(**options)
    if isinstance(packages, str):
        raise TypeError("packages must be a sequence of package names, not a str")
    if opts.static:
        raise OptionError(
            "snapshot records tokens, which need the live code: static=True is "
            "for graphs and dependencies"
        )
    entries: list[SnapshotEntry] = []
    own_all: dict[str, str] = {}
    names: list[str] = []
    failed: dict[str, str] = {}
    for spec in packages:
        with _targets.target_environment(spec, prepare=_prepare_steps):
            name, spec_entries, own, problems = _snapshot_package(
                spec, opts, jobs, progress, include_tests
            )
        names.append(name)
        entries.extend(spec_entries)
        for node, tok in own.items():
            if tok is not None:
                own_all[node] = tok
        failed.update(problems)
    entries.sort(key=lambda e: e.target)
    return Snapshot(
        packages=tuple(names),
        entries=tuple(entries),
        own_tokens=tuple(sorted(own_all.items())),
        python=_combine.interpreter_tag(),
        failed=tuple(sorted(failed.items())),
    )


_TEST_PARTS = frozenset({"test", "tests", "conftest"})


def _is_test_module(name: str) -> bool:
    return any(
        part in _TEST_PARTS or part.startswith("test_") or part.endswith("_test")
        for part in name.split(".")
    )


def _snapshot_package(
    spec: str,
    opts: Options,
    jobs: int,
    progress: Callable[[int, int], None] | None,
    include_tests: bool,
) -> tuple[str, list[SnapshotEntry], dict[str, str | None], dict[str, str]]:
    """One package of a snapshot: its name, entries, own tokens and the modules left out."""
    target = _targets.load_target(spec, static=True)
    if not target.is_module:
        raise TargetTypeError(spec, "snapshot takes packages or modules, not module:name")
    modules = iter_package_modules(target.module)
    if not modules:
        raise _targets_not_found(spec, target.module)
    # ``__main__`` modules are programs: importing one runs it.
    modules = tuple(m for m in modules if m.rpartition(".")[2] != "__main__")
    if not include_tests and not _is_test_module(target.module):
        modules = tuple(m for m in modules if not _is_test_module(m))
    if opts.exclude:  # excluded modules are not the package's code: no entries of their own
        excluded = Scope((), (), opts.exclude)
        modules = tuple(m for m in modules if m == target.module or not excluded.excludes(m))
    problems: dict[str, AstokenError] = _summarize_modules(modules, opts, jobs)
    for module in modules:
        if module in problems:
            continue
        try:
            _targets.import_module(spec, module)
        except (ImportFailedError, SourceSyntaxError, TargetNotFoundError) as exc:
            problems[module] = exc
    imported = tuple(m for m in modules if m not in problems)
    _check_running_code(imported)
    scope = Scope((), opts.include, opts.exclude).with_root(target.module)
    session = _Session(opts, scope, {}, {})
    loader = _ModuleLoader(_store_for(opts), skip=frozenset(problems))
    defs: list[str] = []
    for module in imported:
        source = loader(module)
        if source is None:
            continue
        for definition in source.summary.definitions:
            if definition.kind.value in ("function", "class", "method"):
                defs.append(f"{module}:{definition.qualname}")
    nxgraph, _unresolved, nodes = _build(tuple(defs), session, loader)
    _check_running_code(_first_party(nodes.values()))
    own: dict[str, str | None] = {}
    for name, node in nodes.items():
        own[name] = _own_token(node, session)
    # Each pair is encoded once, not once per closure it is in.
    encoded = {
        name: (name, _combine.encode_pair(name, tok))
        for name, tok in own.items()
        if tok is not None
    }
    entries: list[SnapshotEntry] = []
    total = len(defs)
    for index, root in enumerate(sorted(defs)):
        reached, _conditions = _lazy("_graph").closure(nxgraph, root)
        closure = sorted(n for n in reached if n != root and n in nodes)
        obj = session.lookup(root)
        if obj is None:
            continue
        target_token = own.get(root)
        pairs = [encoded[n] for n in closure if n in encoded]
        if target_token is not None:
            pairs.append(("<target>", _combine.encode_pair("<target>", target_token)))
        token = _combine.combine_encoded(pairs)
        entries.append(
            SnapshotEntry(
                target=root,
                kind=nodes[root].kind,
                token=token,
                own_token=target_token,
                dependencies=tuple(closure),
            )
        )
        if progress is not None:
            progress(index + 1, total)
    reasons = {module: _failure_reason(exc) for module, exc in problems.items()}
    return target.module, entries, own, reasons


def _failure_reason(exc: AstokenError) -> str:
    """Why a module was left out of a snapshot, without the file's absolute path (the reason
    is stored in lock files, which are compared across machines)."""
    if isinstance(exc, SourceSyntaxError):
        return f"syntax error at line {exc.line}: {exc.message}"
    if isinstance(exc, ImportFailedError):
        return f"import failed: {exc.error_type}: {exc.detail}" if exc.detail else exc.error_type
    return " ".join(str(exc).split())


def diff(old: Snapshot, new: Snapshot, *, targets: Sequence[str] = ()) -> SnapshotDiff:
    """Targets whose behavior changed between two snapshots, with the definitions that caused it.

    ``targets`` restricts the comparison to some targets: names, modules or packages (with
    everything in them), or globs (``"app.train:*"``).
    """
    if isinstance(targets, str):
        raise TypeError("targets must be a sequence of target patterns, not a str")
    return _lockfile.diff_snapshots(old, new, targets=tuple(targets))


def _python_version() -> str:
    return ".".join(map(str, sys.version_info[:2]))
