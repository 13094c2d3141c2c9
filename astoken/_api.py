"""Orchestration of the pipeline: locate -> parse -> graph -> resolve -> hash -> combine.

Each public function here only wires the steps together; the work lives in the step modules.
"""

from __future__ import annotations

import contextvars
import dataclasses
import functools
import hashlib
import importlib
import os
import sys
import threading
import time
import warnings
from collections import OrderedDict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from . import (
    _combine,
    _config,
    _files,
    _hashing,
    _lockfile,
    _runtime,
    _store,
    _summary_codec,
    _targets,
)
from ._model import (
    UNAVAILABLE_REASON,
    Dependency,
    DependencyGraph,
    Edge,
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
from ._platform import unavailable_on_this_platform
from ._scope import (
    Scope,
    distribution_version,
    iter_package_modules,
    locate_module,
    sibling_packages,
)
from .errors import (
    AstokenError,
    AstokenWarning,
    CompiledCodeWarning,
    ImportFailedError,
    OptionError,
    SourceSyntaxError,
    StrictModeError,
    TargetNotFoundError,
    TargetTypeError,
    UnhashableValueError,
    UnresolvedReferenceWarning,
    ValueTooDeepError,
)

__all__ = [
    "Progress",
    "behavior_token",
    "behavior_tokens",
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
    from types import FrameType, ModuleType


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
_K = TypeVar("_K")
_V = TypeVar("_V")


class _Lru(Generic[_K, _V]):
    """A bounded, thread-safe map that forgets its least recently used entries: the
    in-process memos. Each holds values that are pure functions of their key, so forgetting
    costs time, never a different answer."""

    def __init__(self, size: int) -> None:
        self._size = size
        self._data: OrderedDict[_K, _V] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: _K) -> _V | None:
        with self._lock:
            value = self._data.get(key)
            if value is not None:
                self._data.move_to_end(key)
            return value

    def put(self, key: _K, value: _V) -> None:
        with self._lock:
            self._data[key] = value
            self._data.move_to_end(key)
            while len(self._data) > self._size:
                self._data.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._data.clear()

    def __len__(self) -> int:
        return len(self._data)


# Summary cache key (the file's bytes, the summarizer, libcst, Python) -> summary: the disk
# cache's key, so this memo can no more serve a summary of other content than the disk can.
# A file is read (not parsed) on every call; reading is cheap next to parsing.
_SUMMARIES: _Lru[str, ModuleSummary] = _Lru(4096)


# Cache directory -> its code-token book: one per process, so shards read once serve every
# later call; what a call computed is written when its token is done (see _closure_token).
_CODE_BOOKS: dict[str, _store.CodeTokenBook] = {}
_CODE_BOOKS_LOCK = threading.Lock()


def _cache_dir(options: Options) -> str | None:
    """The on-disk cache's directory for these options; None when the cache is off."""
    if not options.use_cache:
        return None
    return options.cache_dir or _store.default_cache_dir()


def _code_book_for(options: Options) -> _store.CodeTokenBook | None:
    directory = _cache_dir(options)
    if directory is None:
        return None
    with _CODE_BOOKS_LOCK:
        book = _CODE_BOOKS.get(directory)
        if book is None:
            book = _CODE_BOOKS[directory] = _store.CodeTokenBook(directory)
        return book


def _store_for(options: Options) -> _store.SummaryStore:
    return _store.SummaryStore(_cache_dir(options))


# A file as the token memo checks it: path, size, and the modification time, change time and
# identity of the file. The change time is what restoring a modification time cannot put
# back (os.utime sets it to now), so an edit that keeps size and mtime is still seen.
_Signature = tuple[str, int, int, int, int, int]


def _file_signature(file: str) -> _Signature | None:
    try:
        st = os.stat(file)
    except OSError:
        return None
    return (file, st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino, st.st_dev)


def _read_keyed(file: str) -> tuple[bytes, str]:
    """A source file's bytes and their summary key."""
    with open(file, "rb") as handle:
        data = handle.read()
    return data, _store.summary_key(data)


def _summarize_file(file: str, store: _store.SummaryStore) -> ModuleSummary:
    data, key = _read_keyed(file)
    return _summary_of(file, data, key, store)


def _summary_of(file: str, data: bytes, key: str, store: _store.SummaryStore) -> ModuleSummary:
    """The summary of ``data`` (``file``'s bytes, whose key is ``key``): memo, disk, or parse."""
    summary = _known_summary(key, store)
    if summary is None:
        summary = _lazy("_summary").summarize_source(data, filename=file)
        store.put(key, _summary_codec.summary_to_json(summary))
        _SUMMARIES.put(key, summary)
    return summary


def _known_summary(key: str, store: _store.SummaryStore) -> ModuleSummary | None:
    """The summary under ``key`` in the memo or the disk cache (kept in the memo), else None: a
    corrupt entry is a miss."""
    summary = _SUMMARIES.get(key)
    if summary is not None:
        return summary
    text = store.get(key)
    if text is None:
        return None
    try:
        summary = _summary_codec.summary_from_json(text)
    except ValueError:
        return None
    _SUMMARIES.put(key, summary)
    return summary


#: A module as the graph's provider found it: (file, package or not, summary key).
_ModuleFingerprint = tuple["str | None", bool, "str | None"]

#: A progress callback of the long queries: ``(stage, done, total)``, total 0 while unknown.
Progress = Callable[[str, int, int], None]


class _ModuleLoader:
    """Module name -> ModuleSource for the graph step; records the files it read. Modules in
    ``skip`` (left out of a snapshot) are treated as not found. ``progress`` hears of each
    module read (how many modules a closure reaches is known only at the end)."""

    def __init__(
        self,
        store: _store.SummaryStore,
        skip: frozenset[str] = frozenset(),
        progress: Progress | None = None,
    ) -> None:
        self.store = store
        self.skip = skip
        self.progress = progress
        self.files: dict[str, _Signature | None] = {}
        self.fingerprints: dict[str, _ModuleFingerprint | None] = {}

    def __call__(self, name: str) -> ModuleSource | None:
        found, data = self._find(name)
        self.fingerprints[name] = found
        if found is None:
            return None
        file, is_package, key = found
        if file is None or data is None or key is None:
            # A namespace package: nothing defined, submodules only.
            return ModuleSource(name, None, True, _EMPTY_SUMMARY)
        summary = _summary_of(file, data, key, self.store)
        self.files[file] = _file_signature(file)
        if self.progress is not None:
            self.progress("reading modules", len(self.files), 0)
        return ModuleSource(name, file, is_package, summary)

    def fingerprint(self, name: str) -> _ModuleFingerprint | None:
        """What :meth:`__call__` finds for ``name`` without decoding a summary: (file, package
        or not, summary key), ``(None, True, None)`` for a namespace package, None when not
        found. What this loader served is answered as it was served."""
        if name in self.fingerprints:
            return self.fingerprints[name]
        return self._find(name)[0]

    def _find(self, name: str) -> tuple[_ModuleFingerprint | None, bytes | None]:
        """``name``'s fingerprint (see :meth:`fingerprint`) and its source's bytes, if any."""
        if name in self.skip:
            return None, None
        location = locate_module(name)
        if location is None or location.file is None:
            namespace = location is not None and location.is_package
            return ((None, True, None) if namespace else None), None
        data, key = _read_keyed(location.file)
        return (location.file, location.is_package, key), data


def _summarize_modules(
    modules: Sequence[str], options: Options, jobs: int
) -> dict[str, AstokenError]:
    """Summarise every module whose summary is neither in memory nor in the disk cache (in
    ``jobs`` processes when the disk cache can carry the results back); the modules whose
    source cannot be summarised, with the error. The outcome does not depend on ``jobs``:
    workers only warm the cache. Cached summaries are not decoded here: the graph's loader
    decodes those it reads (a warm snapshot whose build replays decodes none)."""
    files = {}
    for name in modules:
        location = locate_module(name)
        if location is not None and location.file is not None:
            files[name] = location.file
    store = _store_for(options)
    missing = {name: file for name, file in files.items() if not _has_summary(file, store)}
    problems: dict[str, AstokenError] = {}
    if jobs > 1 and len(missing) > 1 and options.use_cache:
        cache_dir = options.cache_dir or _store.default_cache_dir()
        # Imported here: ``concurrent.futures.process`` costs ~14 ms, paid only with --jobs.
        from ._workers import process_pool  # noqa: PLC0415

        with process_pool(jobs) as pool:
            # Largest first, so that no large file is left for one worker at the end.
            names = sorted(missing, key=lambda n: -_file_size(missing[n]))
            results = pool.map(
                _summarize_in_worker, [files[n] for n in names], [cache_dir] * len(names)
            )
            for name, error in zip(names, results, strict=True):
                if error is not None:
                    problems[name] = error
                else:
                    missing.pop(name)
    for name, file in missing.items():
        if name not in problems:
            try:
                _summarize_file(file, store)
            except AstokenError as exc:
                problems[name] = exc
    return problems


def _has_summary(file: str, store: _store.SummaryStore) -> bool:
    """Whether ``file``'s summary is in memory or in the disk cache (unreadable: False, so that
    summarising it reports why)."""
    try:
        key = _read_keyed(file)[1]
    except OSError:
        return False
    return _SUMMARIES.get(key) is not None or store.has(key)


def _file_size(file: str) -> int:
    try:
        return os.stat(file).st_size
    except OSError:
        return 0


def _summarize_in_worker(file: str, cache_dir: str) -> AstokenError | None:
    try:
        _summarize_file(file, _store.SummaryStore(cache_dir))
    except AstokenError as exc:
        return exc  # astoken's errors pickle with their attributes: re-raised as they were
    _prepare_code_checks(file, cache_dir)
    return None


def _prepare_code_checks(file: str, cache_dir: str) -> None:
    """Answer ahead, in a worker, what the parent asks of ``file``'s code once imported: the
    pyc verdict of the stale-code check and the code tokens of its functions (code book).
    Both are keyed by content, so what changes in between is a miss, never a wrong answer."""
    compiled = _runtime.precheck_source(file, _store.VerdictStore(cache_dir))
    if compiled is None:
        return
    hashing = _lazy("_hashing")
    book = _store.CodeTokenBook(cache_dir)
    with hashing.code_book(book):
        for code in _runtime.function_codes(compiled):
            hashing.code_token(code)
    book.flush()


def _prepare_steps() -> None:
    """Import the heavy steps (and what they import) before a path target's module name is
    rebound (see ``_targets.target_environment``): their imports must see the real modules."""
    _lazy("_graph")
    _lazy("_summary")


def _first_party(nodes: Iterable[Node]) -> list[str]:
    """Names of the nodes whose code is hashed (leaves are hashed by name and version)."""
    return [n.name for n in nodes if n.kind not in (NodeKind.EXTERNAL, NodeKind.STDLIB)]


def _check_running_code(names: Iterable[str], options: Options) -> None:
    """StaleCodeError when a loaded module among ``names`` (node names or module names) does
    not run the code of its source file: its objects are about to be hashed."""
    verdicts = _store.VerdictStore(_cache_dir(options))
    for module_name in sorted({name.partition(":")[0] for name in names}):
        module = sys.modules.get(module_name)
        if module is not None:
            _runtime.check_source(module, verdicts)


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
    own: dict[str, str | None] = field(default_factory=dict)

    # Per graph node, computed once per analysis (a snapshot's closures overlap): the pair the
    # combiner encodes for its own token (absent when it has none), and the leaf of what ships
    # the compiled code its live object runs (absent when it runs Python code first).
    pairs: dict[str, tuple[str, bytes]] = field(default_factory=dict)
    leaves: dict[str, Node] = field(default_factory=dict)
    prepared: set[str] = field(default_factory=set)
    looked_for_leaf: set[str] = field(default_factory=set)
    # The constants hashed by their defining source (they read process state), for the class
    # hasher; taken from the node table the session was last prepared with.
    expressions: dict[str, str] = field(default_factory=dict)
    expressions_of: object = None
    refused: dict[str, UnhashableValueError | ValueTooDeepError] = field(default_factory=dict)

    def own_token(self, node: Node) -> str | None:
        """A node's own token, computed once per analysis (many roots share nodes); a node
        whose value has no deterministic encoding raises the same error every time."""
        if node.name not in self.own:
            refused = self.refused.get(node.name)
            if refused is not None:
                raise refused
            try:
                self.own[node.name] = _own_token(node, self)
            except (UnhashableValueError, ValueTooDeepError) as exc:
                self.refused[node.name] = exc
                raise
        return self.own[node.name]

    def prepare(
        self, names: Iterable[str], nodes: dict[str, Node], progress: Progress | None = None
    ) -> None:
        """Own tokens, encoded pairs and compiled-code leaves of the graph nodes ``names``
        (``progress("hashing", done, total)`` as they are hashed)."""
        if self.expressions_of is not nodes:
            self.expressions_of = nodes
            self.expressions = {n: node.expression for n, node in nodes.items() if node.expression}
        todo = sorted(names)
        for done, name in enumerate(todo, 1):
            if progress is not None:
                progress("hashing", done, len(todo))
            node = nodes.get(name)
            if node is None:
                continue
            token = self.own_token(node)
            if token is not None:
                self.pairs[name] = (name, _combine.encode_pair(name, token))
            self.find_leaf(node)
            self.prepared.add(name)

    def find_leaf(self, node: Node) -> None:
        """Record the leaf of what ships the compiled code ``node``'s live object runs."""
        if node.name in self.looked_for_leaf:
            return
        self.looked_for_leaf.add(node.name)
        if node.kind not in _CODE_KINDS or self.options.static:
            return
        obj = self.lookup(node.name)
        module = _runtime.compiled_module(obj) if obj is not None else None
        if module is not None:
            self.leaves[node.name] = _provider_leaf(module, self.options)

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
        """What a node's live object dispatches to or has bound (``singledispatch``
        implementations, a ``functools.partial``'s function arguments)."""
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


def _graph_request(
    roots: tuple[str, ...],
    session: _Session,
    loader: _ModuleLoader,
    *,
    provenance: bool = False,
) -> Any:
    """What the graph step is asked to build for ``roots`` (see :func:`_build`)."""
    return _lazy("_graph").GraphRequest(
        roots=roots,
        scope=session.scope,
        modules=loader,
        runtime=session.runtime,
        declared=session.declared,
        registered=session.registered,
        elements=session.elements,
        locate=None if session.options.static else _runtime.locate_name,
        branches=None if session.options.static else _runtime.branch_names,
        external_versions=session.options.external_versions,
        provenance=provenance,
    )


def _build(
    roots: tuple[str, ...],
    session: _Session,
    loader: _ModuleLoader,
    *,
    provenance: bool = False,
) -> tuple[Any, tuple[Unresolved, ...], dict[str, Node]]:
    """The graph of ``roots``; with ``provenance``, also the edges that only show a second way a
    node is reached (for pictures and ``explain``; tokens and closures are the same without)."""
    request = _graph_request(roots, session, loader, provenance=provenance)
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
    if node.expression and node.kind is NodeKind.CONSTANT:
        # A constant computed from process state at import (the working directory, hash(),
        # the clock...): its defining source, never its value (DESIGN.md). A function's
        # expression stands for its defaults, in its code's token (``session.expressions``).
        return node.expression
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
    return _hashing.object_token(
        obj, scope=session.scope, owner=node.name, expressions=session.expressions
    )


def _analyze(
    obj: object,
    options: Options,
    progress: Progress | None = None,
    *,
    provenance: bool = False,
    fold_nested: bool = True,
) -> _Analysis:
    return _analyze_with_files(
        obj, options, progress, provenance=provenance, fold_nested=fold_nested
    )[0]


def _finish(
    target: _targets.Target,
    graph: DependencyGraph,
    session: _Session,
    progress: Progress | None = None,
) -> _Analysis:
    if session.options.static:
        own: dict[str, str | None] = {}
        target_token = token = None
        unresolved = _sorted_unresolved(graph.unresolved)
    else:
        _check_running_code([target.module, *_first_party(graph.nodes)], session.options)
        result = _closure_token(
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
            _warn_compiled(target.spec, target.obj, session.options)
    _report_unresolved(target.spec, unresolved, session.options)
    return _Analysis(target, graph, own, target_token, token, unresolved)


@dataclass(frozen=True, slots=True)
class _Closure:
    """A root's token and what it was computed from: the root's own token, the tokens of the
    compiled-code leaves its closure adds (the other own tokens are in the session's
    ``own``), the names of its dependencies (sorted, root excluded) and its unresolved
    references."""

    root_token: str | None
    token: str | None
    leaves: dict[str, str | None]
    dependencies: tuple[str, ...]
    unresolved: tuple[Unresolved, ...]


def _closure_token(
    root: str,
    names: Iterable[str],
    nodes: dict[str, Node],
    session: _Session,
    *,
    unresolved: Iterable[Unresolved],
    root_obj: object,
    owner: str,
    progress: Progress | None = None,
    keep_code_tokens: bool = True,
) -> _Closure:
    """The one path from a root's closure (``names``, the root included, as
    ``to_dependency_graph`` or ``closure`` of the built graph give it) to its token, shared
    by :func:`behavior_token`, :func:`explain` and every entry of :func:`snapshot`. What a
    node contributes is computed once per session (a snapshot's closures overlap), so each
    closure costs a few set operations. Code tokens computed on the way are written to the
    cache at the end unless ``keep_code_tokens`` is false (a snapshot writes them once)."""
    closure = names if isinstance(names, (set, frozenset)) else set(names)
    members = (closure & nodes.keys()) - {root}
    book = _code_book_for(session.options)
    with _hashing.code_book(book):
        session.prepare(members - session.prepared, nodes, progress)
        pairs = [session.pairs[name] for name in members & session.pairs.keys()]
        leaves: dict[str, str | None] = {}
        for leaf in _compiled_leaves(closure, nodes, session)[0].values():
            # A leaf's own token is its name and version (or "stdlib:name").
            leaf_token = leaves[leaf.name] = _own_token(leaf, session)
            if leaf_token is not None:
                pairs.append((leaf.name, _combine.encode_pair(leaf.name, leaf_token)))
        root_node = nodes.get(root)
        if (
            root_node is not None
            and root_node.kind in _DEFINITION_KINDS
            and owner == root
            and session.lookup(root) is root_obj
        ):
            # The same call as its own token (a snapshot's roots are each other's members).
            root_token = session.own_token(root_node)
        else:
            root_token = _hashing.object_token(
                root_obj, scope=session.scope, owner=owner, expressions=session.expressions
            )
    if keep_code_tokens and book is not None and book.dirty:
        book.flush()
    if root_token is not None:
        pairs.append(("<target>", _combine.encode_pair("<target>", root_token)))
    token = _combine.combine_encoded(pairs)
    if root_token is None and not leaves:
        prefix = root + "."
        if all(nodes[n].kind is NodeKind.CONSTANT and n.startswith(prefix) for n in members):
            # A class with only data attributes has no behavior of its own (ccflow's rule);
            # the code that reads its constants depends on them through its own graph.
            token = None
    found = [u for u in unresolved if u.owner in closure]
    found.extend(u for u in session.notes.values() if u.owner in closure)
    return _Closure(
        root_token,
        token,
        leaves,
        tuple(sorted((*members, *leaves))),
        _sorted_unresolved(found),
    )


def _sorted_unresolved(unresolved: Iterable[Unresolved]) -> tuple[Unresolved, ...]:
    return tuple(sorted(set(unresolved), key=lambda u: (u.owner, u.line, u.expression, u.reason)))


def _report_unresolved(spec: str, unresolved: tuple[Unresolved, ...], options: Options) -> None:
    """StrictModeError under ``strict``, else one warning (per spec and references)."""
    if not unresolved:
        return
    if options.strict:
        raise StrictModeError(spec, tuple(u.describe() for u in unresolved))
    _warn_unresolved(spec, unresolved)


def _root_graph(
    root: str,
    nxgraph: Any,
    nodes: dict[str, Node],
    session: _Session,
    *,
    unresolved: tuple[Unresolved, ...],
    fold_nested: bool = True,
) -> DependencyGraph:
    """The dependency graph of one root as :func:`explain` and :func:`dependency_graph` show
    it: its closure in the built graph (``fold_nested``: see ``_graph.closure``), the
    unresolved references of that closure, and an edge from each node running compiled code
    to what ships it (:func:`_compiled_leaves`)."""
    graph: DependencyGraph = _lazy("_graph").to_dependency_graph(
        root, nxgraph, nodes, (), fold_nested=fold_nested
    )
    names = [node.name for node in graph.nodes]
    closure = set(names)
    graph = replace(graph, unresolved=tuple(u for u in unresolved if u.owner in closure))
    leaves, edges = _compiled_leaves(names, nodes, session)
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


_CODE_KINDS = (NodeKind.FUNCTION, NodeKind.METHOD, NodeKind.CLASS, NodeKind.CONSTANT)
_LEAF_KINDS = (NodeKind.EXTERNAL, NodeKind.STDLIB)
#: Kinds whose own token is the token of their live object (:func:`_own_token`).
_DEFINITION_KINDS = (NodeKind.FUNCTION, NodeKind.METHOD, NodeKind.CLASS)


def _compiled_leaves(
    names: Iterable[str], nodes: dict[str, Node], session: _Session
) -> tuple[dict[str, Node], set[Edge]]:
    """What ships the compiled code in a closure (``names``): for every node whose live object
    runs compiled code first (``len``, ``math.sqrt``, numpy's dispatchers, an ``lru_cache``
    wrapper, a C class), the leaf of the standard library (covered by the interpreter tag in
    every token) or of the third-party distribution, with its version, and an edge to it.
    There is no bytecode to hash in compiled code; this is what its token covers. Returns the
    leaves not already in the closure, and the edges. A leaf whose name is first-party in the
    closure is not added: that code has no version to stand for it."""
    leaves: dict[str, Node] = {}
    edges: set[Edge] = set()
    if session.options.static:
        return leaves, edges
    closure = names if isinstance(names, (set, frozenset)) else set(names)
    for name in closure - session.looked_for_leaf:
        node = nodes.get(name)
        if node is not None:
            session.find_leaf(node)
    for name in closure & session.leaves.keys():
        leaf = session.leaves[name]
        present = nodes[leaf.name] if leaf.name in closure and leaf.name in nodes else None
        if present is not None and present.kind not in _LEAF_KINDS:
            continue
        if present is None:
            leaves[leaf.name] = leaf
        edges.add(Edge(name, leaf.name, RefKind.EXTERNAL, 0))
    return leaves, edges


def _provider_leaf(module: str, options: Options) -> Node:
    """The leaf standing for what ships ``module``'s compiled code."""
    top = module.partition(".")[0] or "builtins"
    if top in sys.stdlib_module_names or top in sys.builtin_module_names:
        return Node(top, NodeKind.STDLIB)
    version = distribution_version(top)[1] if options.external_versions else ""
    return Node(top, NodeKind.EXTERNAL, version=version)


def _warn_compiled(spec: str, obj: object, options: Options) -> None:
    """Under ``strict``: say what the token of a target with no Python code covers."""
    module = _runtime.compiled_module(obj)
    if module is None:
        covers = "its name only"
    else:
        leaf = _provider_leaf(module, options)
        if leaf.kind is NodeKind.STDLIB:
            covers = f"its name and the interpreter ({_combine.interpreter_tag()})"
        elif leaf.version:
            covers = f"its name and {leaf.name} {leaf.version}, the distribution that ships it"
        else:
            covers = f"its name only (no distribution version found for {leaf.name})"
    _warn(
        f"{spec}: no Python code to hash; its token covers {covers}, not the compiled code",
        CompiledCodeWarning,
    )


def _warn_unresolved(spec: str, unresolved: tuple[Unresolved, ...]) -> None:
    first = unresolved[0].describe()
    more = ""
    if len(unresolved) > 1:
        more = f" (and {len(unresolved) - 1} more: {_targets.listing_command(spec)} lists them)"
    _warn(f"{spec}: unresolved reference {first}{more}", UnresolvedReferenceWarning)


def _warn(message: str, category: type[Warning]) -> None:
    """Issue a warning attributed to the first caller outside astoken. astoken keeps no
    record of what it warned about: the caller's warning filters decide (the default filter
    shows a message once per calling line; ``error`` raises every time)."""
    level = 2  # 1 is this function
    frame: FrameType | None = sys._getframe(1)
    while frame is not None and frame.f_globals.get("__name__", "").partition(".")[0] == "astoken":
        level += 1
        frame = frame.f_back
    warnings.warn(message, category, stacklevel=level)


# ---------------------------------------------------------------------------------------------
# In-process memo for behavior_token: (target identity, options) -> token. A hit costs a dict
# lookup; the files the graph read are looked at again at most once per MEMO_RECHECK_SECONDS.
# ---------------------------------------------------------------------------------------------

#: A remembered token is served without looking at the source files again for this long.
MEMO_RECHECK_SECONDS = 1.0
#: At most this many targets are remembered (the oldest half is dropped beyond it).
_MEMO_LIMIT = 4096
_DEFAULT_OPTIONS = Options()
_FileSignature = _Signature | None


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
    obj: object,
    options: Options,
    progress: Progress | None = None,
    *,
    provenance: bool = False,
    fold_nested: bool = True,
) -> tuple[_Analysis, tuple[_FileSignature, ...]]:
    with _targets.target_environment(obj, prepare=_prepare_steps):
        return _analyze_loaded(
            obj, options, progress, provenance=provenance, fold_nested=fold_nested
        )


#: Why a module is no target where a token is (token, explain, deps): it has no token.
_MODULE_TARGET = "is a module; give a function or class (module:name), or graph or snapshot it"


def _analyze_loaded(
    obj: object,
    options: Options,
    progress: Progress | None = None,
    *,
    provenance: bool = False,
    fold_nested: bool = True,
) -> tuple[_Analysis, tuple[_FileSignature, ...]]:
    target = _targets.load_target(obj, static=options.static)
    if target.is_module:
        raise TargetTypeError(target.spec, _MODULE_TARGET)
    session = _Session(options, _scope_for(target.module, options), {}, {})
    if target.obj is not None:
        session.objects[target.node] = target.obj
    loader = _ModuleLoader(_store_for(options), progress=progress)
    nxgraph, unresolved, nodes = _build((target.node,), session, loader, provenance=provenance)
    graph = _root_graph(
        target.node, nxgraph, nodes, session, unresolved=unresolved, fold_nested=fold_nested
    )
    analysis = _finish(target, graph, session, progress)
    return analysis, tuple(sorted(loader.files.values(), key=lambda s: s[0] if s else ""))


def explain(obj: object, *, progress: Progress | None = None, **options: Any) -> Explanation:
    """The token of ``obj``, each dependency with its own token and how it was reached, and the
    references static analysis could not resolve.

    ``progress`` (optional) is called as ``progress(stage, done, total)`` while the modules
    are read (total 0: not known in advance) and the definitions hashed.
    """
    opts = _options(**options)
    analysis = _analyze(obj, opts, progress, provenance=True)
    paths = _lazy("_graph").paths_from_root(analysis.graph)
    enclosing = analysis.graph.root.partition(".<locals>.")[0]
    if enclosing != analysis.graph.root:
        # A nested target reaches the function it is nested in without an edge (its code is
        # part of that function's): what only that function reaches is shown from it.
        around = dataclasses.replace(analysis.graph, root=enclosing)
        paths = {**_lazy("_graph").paths_from_root(around), **paths}
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
            )
        )
    return Explanation(
        target=analysis.target.node,
        token=analysis.token,
        dependencies=tuple(deps),
        unresolved=analysis.unresolved,
        arguments=analysis.graph.arguments,
    )


def dependencies(
    obj: object, *, progress: Progress | None = None, **options: Any
) -> tuple[str, ...]:
    """Sorted qualified names of everything ``obj``'s token covers (the target excluded); a
    module has no token, and is refused as :func:`behavior_token` refuses it."""
    return dependency_lists([obj], progress=progress, **options)[0]


def _dependency_names(graph: DependencyGraph) -> tuple[str, ...]:
    """The names a graph's root depends on (every node but the root), in the graph's order."""
    return tuple(n.name for n in graph.nodes if n.name != graph.root)


def _refuse_unresolved(spec: str, graph: DependencyGraph, opts: Options) -> None:
    """Under ``strict``, a graph with unresolved references is a StrictModeError."""
    if opts.strict and graph.unresolved:
        raise StrictModeError(spec, tuple(u.describe() for u in graph.unresolved))


def dependency_graph(
    obj: object, *, progress: Progress | None = None, **options: Any
) -> DependencyGraph:
    """The dependency graph of a target, or of every definition in a package/module name
    (``"pkg"``, ``"pkg.module"``, a directory or a ``.py`` path). ``progress`` as for
    :func:`explain`."""
    opts = _options(**options)
    with _targets.target_environment(obj, prepare=_prepare_steps):
        return _dependency_graph_loaded(obj, opts, progress)


def _dependency_graph_loaded(
    obj: object, opts: Options, progress: Progress | None = None
) -> DependencyGraph:
    target = _targets.load_target(obj, static=opts.static)
    session = _Session(opts, _scope_for(target.module, opts), {}, {})
    if target.obj is not None:
        session.objects[target.node] = target.obj
    loader = _ModuleLoader(_store_for(opts), progress=progress)
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
        graph = _root_graph(target.node, nxgraph, nodes, session, unresolved=unresolved)
    assert isinstance(graph, DependencyGraph)
    _refuse_unresolved(target.spec, graph, opts)
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
            _check_running_code(_first_party(nodes.values()), opts)
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
    start = _config.start_directory(target)  # target None: the working directory's project
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
    active = _CLASS_BEHAVIOR_ACTIVE.get()
    if cls in active:
        return None  # a class whose behavior reaches an instance of itself: counted once
    reset = _CLASS_BEHAVIOR_ACTIVE.set(active | {cls})
    try:
        return behavior_token(cls)
    finally:
        _CLASS_BEHAVIOR_ACTIVE.reset(reset)


# Classes whose behavior token is being computed for a data token, in this thread or task: a
# re-entrancy guard. Context-local, not process-wide: another thread asking for the same
# class meanwhile must get its behavior, not the guard's None.
_CLASS_BEHAVIOR_ACTIVE: contextvars.ContextVar[frozenset[type]] = contextvars.ContextVar(
    "astoken_class_behavior_active", default=frozenset()
)


def cache_token(
    *,
    data: list[object] | tuple[object, ...] = (),
    behavior: list[object] | tuple[object, ...] = (),
) -> str:
    """Combine data values and behavior objects, in order, into one token.

    ``data`` and ``behavior`` are lists or tuples (one value is ``data=[value]``): anything
    else raises TypeError, since iterating it would key on its parts (a DataFrame's column
    names, a dict's keys, a string's characters) instead of on the value. Behavior objects
    whose token is None (nothing to hash) are skipped, like ccflow's ``compute_cache_token``.
    """
    for argument, given in (("data", data), ("behavior", behavior)):
        if not isinstance(given, (list, tuple)):
            raise TypeError(
                f"cache_token({argument}=...) takes a list or tuple of values, got "
                f"{_type_name(given)}; for one value pass {argument}=[value]"
            )
    tokens = [data_token(value) for value in data]
    for obj in behavior:
        token = behavior_token(obj)
        if token is not None:
            tokens.append(token)
    return _combine.combine_ordered(tokens)


def _type_name(value: object) -> str:
    tp = type(value)
    module = getattr(tp, "__module__", "") or ""
    return tp.__qualname__ if module == "builtins" else f"{module}.{tp.__qualname__}"


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
    """(name, own token) of everything ``cls`` reaches outside the classes of its MRO and
    their members (which ccflow's contract hashes as methods already), sorted.

    Used by :mod:`astoken.ccflow` to add discovered helpers to the declared ones. A class
    defined in a function does not bring that function: ccflow's contract hashes a class by
    its methods (live objects, closure cells included), never by the code around it.
    """
    analysis = _analyze(cls, _options(), fold_nested=False)
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
    specs = list(packages)
    for spec in specs:  # grows when a package only re-exports its distribution's other ones
        with _targets.target_environment(spec, prepare=_prepare_steps):
            name, spec_entries, own, problems = _snapshot_package(
                spec, opts, jobs, progress, include_tests
            )
        if not spec_entries and not problems:
            specs.extend(_code_elsewhere(name, (*specs, *names)))
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


def _code_elsewhere(package: str, known: Sequence[str]) -> list[str]:
    """For a package that defines no function or class (``attrs`` re-exports ``attr``): the
    other import packages of its distribution that define the names it exports, which the
    snapshot then takes too, and a warning that says where its code is. Packages already in
    ``known`` are neither added nor named again."""
    origins: set[str] = set()
    for module_name in sorted(sys.modules):
        if module_name != package and not module_name.startswith(package + "."):
            continue
        module = sys.modules[module_name]
        exported = getattr(module, "__all__", None)
        names = exported if isinstance(exported, (list, tuple)) else vars(module)
        for attribute in names:
            if not isinstance(attribute, str) or attribute.startswith("_"):
                continue
            try:
                defined_in = getattr(getattr(module, attribute, None), "__module__", None)
            except Exception:  # a lazy attribute (PEP 562) that fails is no origin
                continue
            if isinstance(defined_in, str):
                origins.add(defined_in.partition(".")[0])
    top = package.partition(".")[0]
    origins -= {top, "builtins", *sys.stdlib_module_names}
    siblings = set(sibling_packages(top))
    added = sorted(o for o in origins & siblings if o not in known)
    elsewhere = sorted(o for o in origins - siblings if o not in known)
    if added:
        _warn(
            f"{package} defines no function or class itself: the names it exports are defined "
            f"in {', '.join(added)}, installed by the same distribution, so the snapshot "
            "includes it too",
            AstokenWarning,
        )
    if elsewhere:
        _warn(
            f"{package} defines no function or class itself: the names it exports are defined "
            f"in {', '.join(elsewhere)} (snapshot that to record them)",
            AstokenWarning,
        )
    if not origins:
        _warn(
            f"{package} defines no function, class or method: the snapshot of it is empty",
            AstokenWarning,
        )
    return added


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
    _check_running_code(imported, opts)
    scope = Scope((), opts.include, opts.exclude).with_root(target.module)
    key = _snapshot_build_key(target.module, imported, frozenset(problems), opts)
    session, build = _snapshot_build(key, scope, frozenset(problems), imported, opts)
    defs, nodes, graph_unresolved = build.roots, build.nodes, build.unresolved
    _check_running_code(_first_party(nodes.values()), opts)
    leaves: dict[str, str | None] = {}
    unresolved: set[Unresolved] = set()
    entries: list[SnapshotEntry] = []
    refused: dict[str, str] = {}
    total = len(defs)
    for index, root in enumerate(sorted(defs)):
        obj = session.lookup(root)
        if obj is None:
            continue
        reached = build.closure(root)
        # The same path as behavior_token(root) and dependencies(root): the entry is their
        # answer, computed from the graph built once for every root.
        try:
            result = _closure_token(
                root,
                reached,
                nodes,
                session,
                unresolved=graph_unresolved,
                root_obj=obj,
                owner=root,
                keep_code_tokens=False,
            )
        except (UnhashableValueError, ValueTooDeepError) as exc:
            # No token rather than a wrong one, for this definition (and every one whose
            # closure holds the value) only: the others' entries stand.
            refused[root] = _failure_reason(exc)
            continue
        leaves.update(result.leaves)
        unresolved.update(result.unresolved)
        entries.append(
            SnapshotEntry(
                target=root,
                kind=nodes[root].kind,
                token=result.token,
                own_token=result.root_token,
                dependencies=result.dependencies,
            )
        )
        if progress is not None:
            progress(index + 1, total)
    book = _code_book_for(opts)
    if book is not None:
        book.flush()
    _report_unresolved(spec, _sorted_unresolved(unresolved), opts)
    # Every own token computed for some closure (the roots' are their entries' own tokens).
    own = {**session.own, **leaves}
    for entry in entries:
        own[entry.target] = entry.own_token
    reasons = {module: _failure_reason(exc) for module, exc in problems.items()}
    return target.module, entries, own, {**reasons, **refused}


def _snapshot_build_key(
    package: str,
    imported: tuple[str, ...],
    skipped: frozenset[str],
    opts: Options,
) -> str | None:
    """The cache key of a package's snapshot build: everything the build depends on that its
    journal does not replay (astoken's own code, the interpreter, the options that shape the
    graph, the modules imported and those left out). The files read, those whose definitions
    are the roots included, are in the journal: an edit makes the entry a miss, and the new
    build replaces it (one entry per package and options, not one per edit). None when the
    cache is off."""
    if not opts.use_cache:
        return None
    digest = hashlib.sha256(b"astoken-snapshot-build\0")
    for part in (
        _store.astoken_fingerprint(),
        sys.version,
        _combine.interpreter_tag(),
        package,
        repr((opts.include, opts.exclude, opts.external_versions)),
        repr(sorted(skipped)),
        repr(imported),
    ):
        data = part.encode("utf-8", "surrogatepass")
        digest.update(b"%d:" % len(data) + data)
    return digest.hexdigest()


def _snapshot_build(
    key: str | None,
    scope: Scope,
    skipped: frozenset[str],
    imported: tuple[str, ...],
    opts: Options,
) -> tuple[_Session, Any]:
    """The session and build (``astoken._graph.CachedBuild``) of a package's snapshot: its
    roots are the functions, classes and methods of the ``imported`` modules. A build kept
    under ``key`` whose journal replays with the same answers is used as it is (what building
    again would give, see ``astoken._graph._journal``); otherwise the graph is built, its
    closures taken, and the result kept under ``key``."""
    graph_step = _lazy("_graph")
    store = _store.BuildStore(_cache_dir(opts))  # disabled, like ``key``, without the cache
    text = store.get(key) if key is not None else None
    if text is not None:
        try:
            cached = graph_step.decode_build(text)
        except ValueError:
            cached = None
        if cached is not None:
            session = _Session(opts, scope, {}, {})
            loader = _ModuleLoader(_store_for(opts), skip=skipped)
            request = _graph_request(cached.roots, session, loader)
            moves = graph_step.replay(
                cached.journal, request, loader.fingerprint, _stored_summary(opts)
            )
            kept = graph_step.with_moves(cached, moves) if moves is not None else None
            if kept is not None:
                if moves and key is not None:
                    store.put(key, graph_step.encode_build(kept))
                return session, kept
    session = _Session(opts, scope, {}, {})
    loader = _ModuleLoader(_store_for(opts), skip=skipped)
    journal = graph_step.Journal()
    request = graph_step.recording(_graph_request((), session, loader), journal, loader.fingerprint)
    defs: list[str] = []
    for module in imported:
        source = request.modules(module)
        if source is None:
            continue
        for definition in source.summary.definitions:
            if definition.kind.value in ("function", "class", "method"):
                defs.append(f"{module}:{definition.qualname}")
    roots = tuple(defs)
    nxgraph, graph_unresolved, nodes = graph_step.build_graph(replace(request, roots=roots))
    build = graph_step.cached_build(roots, nxgraph, nodes, graph_unresolved, journal.as_list())
    if key is not None and journal.complete:
        store.put(key, graph_step.encode_build(build))
    return session, build


def _stored_summary(opts: Options) -> Callable[[str], ModuleSummary | None]:
    """``summary key -> summary`` from the memo or the disk cache only (never parsing: the
    source the key was made from may be gone)."""
    return functools.partial(_known_summary, store=_store_for(opts))


def _failure_reason(exc: AstokenError) -> str:
    """Why a module was left out of a snapshot, without the file's absolute path (the reason
    is stored in lock files, which are compared across machines)."""
    if isinstance(exc, SourceSyntaxError):
        return f"syntax error at line {exc.line}: {exc.message}"
    if isinstance(exc, ImportFailedError):
        if unavailable_on_this_platform(exc.__cause__):
            # Not a broken module: one for another platform (rich._win32_console on Linux),
            # which leaves the snapshot complete for this one (Snapshot.is_partial).
            described = f"{exc.error_type}: {exc.detail}" if exc.detail else exc.error_type
            return f"{UNAVAILABLE_REASON}{sys.platform}: {described}"
        return f"import failed: {exc.error_type}: {exc.detail}" if exc.detail else exc.error_type
    return " ".join(str(exc).split())


def diff(old: Snapshot, new: Snapshot, *, targets: Sequence[str] = ()) -> SnapshotDiff:
    """Targets whose behavior changed between two snapshots, with the definitions that caused it.

    ``targets`` restricts the comparison to some targets: names, modules or packages (with
    everything in them), or globs (``"app.train:*"``). The result also names both interpreters
    (``pythons``) and the modules either snapshot left out (``left_out``, with
    ``"old"``/``"new"``).
    """
    if isinstance(targets, str):
        raise TypeError("targets must be a sequence of target patterns, not a str")
    return _compared(old, new, "new", tuple(targets))


def _compared(
    old: Snapshot, new: Snapshot, which_new: str, targets: tuple[str, ...] = ()
) -> SnapshotDiff:
    left_out = [("old", module, reason) for module, reason in old.failed]
    left_out += [(which_new, module, reason) for module, reason in new.failed]
    return dataclasses.replace(
        _lockfile.diff_snapshots(old, new, targets=targets),
        pythons=(old.python, new.python),
        left_out=tuple(left_out),
    )


def _python_version() -> str:
    return ".".join(map(str, sys.version_info[:2]))


# ---------------------------------------------------------------------------------------------
# Several targets in one analysis; the actions behind `astoken stamp` and `astoken diff`
# ---------------------------------------------------------------------------------------------


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


def _for_each_target(
    objs: Sequence[object],
    opts: Options,
    progress: Progress | None,
    each: Callable[[_targets.Target, DependencyGraph, _Session, Progress | None], _T],
    module: Callable[[object], _T] | None = None,
) -> list[_T]:
    """``each(target, graph, session, progress)`` for every target, in the order given, where
    ``graph`` is the target's own dependency graph (what :func:`dependency_graph` gives) and
    the graphs of all targets that share a first-party scope come from one build.

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
        with _targets.target_environment(objs[indexes[0]], prepare=_prepare_steps):
            groups: dict[Scope, list[tuple[int, _targets.Target]]] = {}
            for index in indexes:
                target = _targets.load_target(objs[index], static=opts.static)
                if target.is_module and module is not None:
                    results[index] = module(objs[index])
                    continue
                if target.is_module:
                    raise TargetTypeError(target.spec, _MODULE_TARGET)
                groups.setdefault(_scope_for(target.module, opts), []).append((index, target))
            for scope, members in groups.items():
                objects: dict[str, object] = {}
                for _, target in members:
                    if target.obj is not None:
                        objects[target.node] = target.obj
                shared = _Session(opts, scope, objects, {})
                loader = _ModuleLoader(_store_for(opts), progress=progress)
                roots = tuple(sorted({target.node for _, target in members}))
                nxgraph, unresolved, nodes = _build(roots, shared, loader)
                single = len(members) == 1
                for done, (index, target) in enumerate(members, 1):
                    session = _Session(opts, scope, objects, {})
                    graph = _root_graph(target.node, nxgraph, nodes, session, unresolved=unresolved)
                    results[index] = each(target, graph, session, progress if single else None)
                    if progress is not None and not single:
                        progress("targets", done, len(members))
    return [results[index] for index in range(len(objs))]


def behavior_tokens(
    targets: Sequence[object], *, progress: Progress | None = None, **options: Any
) -> tuple[str | None, ...]:
    """The behavior token of each target, in the order given: each is what
    :func:`behavior_token` gives for that target alone, but the targets are analysed together
    (one graph for all targets that share a first-party scope, each module read once), which
    is several times faster than one call per target.

    Options are those of :func:`behavior_token`; ``progress`` as for :func:`explain`.
    """
    if isinstance(targets, str):
        raise TypeError("targets must be a sequence of targets, not a str")
    opts = _options(**options)
    if opts.static:
        raise OptionError(
            "behavior tokens need the live code: static=True is for graphs and dependencies"
        )

    def token(
        target: _targets.Target,
        graph: DependencyGraph,
        session: _Session,
        progress: Progress | None,
    ) -> str | None:
        return _finish(target, graph, session, progress).token

    return tuple(_for_each_target(targets, opts, progress, token))


def dependency_lists(
    targets: Sequence[object], *, progress: Progress | None = None, **options: Any
) -> tuple[tuple[str, ...], ...]:
    """For each target, in the order given, what :func:`dependencies` gives for it alone,
    from one analysis of all of them (as :func:`behavior_tokens`)."""
    if isinstance(targets, str):
        raise TypeError("targets must be a sequence of targets, not a str")
    opts = _options(**options)

    def names(
        target: _targets.Target,
        graph: DependencyGraph,
        session: _Session,
        progress: Progress | None,
    ) -> tuple[str, ...]:
        _refuse_unresolved(target.spec, graph, opts)
        return _dependency_names(graph)

    return tuple(_for_each_target(targets, opts, progress, names))


def graph_with_tokens(
    obj: object, *, tokens: bool = True, progress: Progress | None = None, **options: Any
) -> tuple[DependencyGraph, dict[str, str | None]]:
    """The dependency graph of ``obj`` (as :func:`dependency_graph`) and, from the same
    analysis, each node's own token with the target's behavior token under its own name (as
    :func:`explain` computes them). No tokens (an empty mapping) when ``tokens`` is false, in
    static mode, or for a package graph, which has no target to hash."""
    opts = _options(**options)
    with _targets.target_environment(obj, prepare=_prepare_steps):
        target = _targets.load_target(obj, static=opts.static)
        if not tokens or opts.static or target.is_module:
            return _dependency_graph_loaded(obj, opts, progress), {}
        analysis = _analyze_loaded(obj, opts, progress, provenance=True)[0]
    own = dict(analysis.own_tokens)
    own[analysis.graph.root] = analysis.token
    return analysis.graph, own


def stamp(
    targets: Sequence[object],
    outputs: Sequence[str | os.PathLike[str]],
    *,
    progress: Progress | None = None,
    **options: Any,
) -> tuple[bool, ...]:
    """Write behavior tokens to stamp files, leaving a file alone when it already holds
    exactly what would be written, so that its modification time moves only when behavior
    changed (what make and Snakemake look at).

    With one output, it receives every token, one line each in the order of ``targets`` (for
    one target: the 64 hex digits and a newline); with as many outputs as targets, each gets
    its target's token. Returns, for each output, whether it was written. A target with nothing
    to hash is a :class:`~astoken.errors.TargetTypeError`; on any error nothing is written.
    """
    if isinstance(targets, str) or isinstance(outputs, str | os.PathLike):
        raise TypeError("targets and outputs must be sequences, not a single str")
    if len(outputs) not in (1, len(targets)) or not targets:
        raise OptionError(
            f"{len(targets)} target(s) and {len(outputs)} output file(s): give one output for "
            "all targets or one output per target"
        )
    tokens = behavior_tokens(targets, progress=progress, **options)
    lines: list[str] = []
    for obj, token in zip(targets, tokens, strict=True):
        if token is None:
            spec = obj if isinstance(obj, str) else _targets.repr_target(obj)
            raise TargetTypeError.nothing_to_hash(spec)
        lines.append(f"{token}\n")
    contents = ["".join(lines)] if len(outputs) == 1 else lines
    return tuple(
        _write_if_changed(output, content.encode("ascii"))
        for output, content in zip(outputs, contents, strict=True)
    )


def _write_if_changed(path: str | os.PathLike[str], content: bytes) -> bool:
    try:
        # Only a regular file is compared (reading /dev/zero or a FIFO would never end); one
        # longer than the content differs anyway.
        current = _files.read_regular(path, len(content))
    except FileNotFoundError:
        current = None
    if current == content:
        return False
    _files.write_atomic(path, content)
    return True


def snapshot_progress(progress: Progress | None) -> dict[str, Any]:
    """The keyword arguments that pass ``progress`` on to :func:`snapshot`, which reports
    ``(done, total)``: as the stage ``"snapshot"``; none without ``progress``."""
    if progress is None:
        return {}
    report = progress

    def counted(done: int, total: int) -> None:
        report("snapshot", done, total)

    return {"progress": counted}


def diff_files(
    old: str | os.PathLike[str],
    new: str | os.PathLike[str] | None = None,
    *,
    jobs: int = 1,
    include_tests: bool = False,
    targets: Sequence[str] = (),
    update: bool = False,
    progress: Progress | None = None,
    **options: Any,
) -> SnapshotDiff:
    """:func:`diff` of two snapshot files; without ``new``, of ``old`` and a fresh
    :func:`snapshot` of the packages it lists (``jobs``, ``include_tests`` and the options are
    that snapshot's, and ``left_out`` names its modules as ``"fresh"``). ``targets`` as for
    :func:`diff`. With ``update``, the new snapshot (the fresh one, or ``new``'s) is then written
    to ``old`` (refreshing a lock file).

    Raises :class:`~astoken.errors.SnapshotFormatError` for a file that is not a snapshot.
    """
    if isinstance(targets, str):
        raise TypeError("targets must be a sequence of target patterns, not a str")
    before = _lockfile.read_snapshot(old)
    if new is not None:
        _options(**options)  # the same checks as everywhere; nothing here uses them
        after = _lockfile.read_snapshot(new)
        result = _compared(before, after, "new", tuple(targets))
        if update:
            _lockfile.write_snapshot(after, old)
        return result
    fresh = snapshot(
        list(before.packages),
        jobs=jobs,
        include_tests=include_tests,
        **snapshot_progress(progress),
        **options,
    )
    result = _compared(before, fresh, "fresh", tuple(targets))
    if update:
        _lockfile.write_snapshot(fresh, old)
    return result
