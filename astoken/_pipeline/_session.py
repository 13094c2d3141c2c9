"""The token session: what one analysis learns of the live program (objects, own tokens,
blind spots), the one path from a closure to its token, the compiled-code leaves, and how
unresolved references and other blind spots are reported (errors under ``strict``, else
warnings attributed to the caller)."""

from __future__ import annotations

import bisect
import operator
import sys
import warnings
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from astoken import _combine, _hashing, _runtime, _store, _targets
from astoken._model import Edge, Node, NodeKind, Options, RefKind, RuntimeInfo, Unresolved
from astoken._scope import Scope, distribution_version
from astoken.errors import (
    CompiledCodeWarning,
    StrictModeError,
    UnhashableValueError,
    UnresolvedReferenceWarning,
    ValueTooDeepError,
)

from ._options import Progress, Stage, cache_dir, code_book_for, report
from ._sources import SourceTables, source_tables_for

if TYPE_CHECKING:
    from types import FrameType

__all__ = [
    "Closure",
    "Session",
    "check_running_code",
    "closure_token",
    "compiled_leaves",
    "first_party",
    "leaf_in",
    "own_token",
    "report_unresolved",
    "root_token",
    "sorted_unresolved",
    "warn",
    "warn_compiled",
]

_LEAF_KINDS = (NodeKind.EXTERNAL, NodeKind.STDLIB)
#: Kinds whose own token is the token of their live object (:func:`own_token`).
_DEFINITION_KINDS = (NodeKind.FUNCTION, NodeKind.METHOD, NodeKind.CLASS)


@dataclass(slots=True)
class Session:
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
    # Names looked up and not found at run time (a value of None is found: see ``lookup``).
    absent: set[str] = field(default_factory=set)
    # The encodings of the values hashed in this analysis (a snapshot's lexers share their
    # token tables): one session is one run of the value memo (``astoken._hashing``, 8).
    values: _hashing.ValueMemo = field(default_factory=_hashing.ValueMemo)
    # A portable analysis's source book (the canonical source digests its functions are hashed
    # by); None for bytecode tokens.
    sources: SourceTables | None = None

    def __post_init__(self) -> None:
        if self.sources is None:
            self.sources = source_tables_for(self.options)

    def own_token(self, node: Node) -> str | None:
        """A node's own token, computed once per analysis (many roots share nodes); a node
        whose value has no deterministic encoding raises the same error every time."""
        if node.name not in self.own:
            refused = self.refused.get(node.name)
            if refused is not None:
                raise refused
            try:
                self.own[node.name] = own_token(node, self)
            except (UnhashableValueError, ValueTooDeepError) as exc:
                self.refused[node.name] = exc
                raise
        return self.own[node.name]

    def prepare(
        self, names: Iterable[str], nodes: dict[str, Node], progress: Progress | None = None
    ) -> None:
        """Own tokens, encoded pairs and compiled-code leaves of the graph nodes ``names``
        (reported to ``progress`` as :attr:`Stage.HASHING` as they are hashed)."""
        if self.expressions_of is not nodes:
            self.expressions_of = nodes
            self.expressions = {n: node.expression for n, node in nodes.items() if node.expression}
        todo = sorted(names)
        for done, name in enumerate(todo, 1):
            report(progress, Stage.HASHING, done, len(todo))
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
        if node.kind not in _hashing.LIVE_KINDS or self.options.static:
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
        """The live object named, or None: absent (the name is then in ``absent``), or a
        constant whose value is None (``_table = None``, set later by the code that needs it)."""
        if name in self.objects:
            return self.objects[name]
        if name in self.absent:
            return None
        try:
            obj = _runtime.resolve_node(name)
        except LookupError:
            self.absent.add(name)
            return None
        self.objects[name] = obj
        return obj


def own_token(node: Node, session: Session) -> str | None:
    """A node's own token: its code or value only (its dependencies are separate nodes), as
    the hashing step computes it from the live object the session finds; a node found in
    source but not at runtime has none, and is noted."""
    if node.kind not in _hashing.LIVE_KINDS:
        return _hashing.leaf_token(node)
    if node.expression and node.kind is NodeKind.CONSTANT:
        # Hashed by its defining source, whatever the process holds now: a lazily built global
        # (``global _table; _table = Table()``) is None until the code that builds it has run.
        return node.expression
    obj = session.lookup(node.name)
    if obj is None and node.name in session.absent:
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
    return _hashing.node_token(
        node,
        obj,
        scope=session.scope,
        expressions=session.expressions,
        assignment=lambda: _runtime.assignment_digest(node.file, node.line),
    )


@dataclass(frozen=True, slots=True)
class Closure:
    """A root's token and what it was computed from: the root's own token, the tokens of the
    compiled-code leaves its closure adds (the other own tokens are in the session's
    ``own``), the names of its dependencies (sorted, root excluded) and its unresolved
    references."""

    root_token: str | None
    token: str | None
    leaves: dict[str, str | None]
    dependencies: tuple[str, ...]
    unresolved: tuple[Unresolved, ...]


@dataclass(frozen=True, slots=True)
class _Parts:
    """A closure less its root: its graph nodes (sorted), the names of its pairs (nodes with
    an own token and compiled-code leaves, sorted) and the pairs in that order, its
    compiled-code leaves (name -> token), and its dependencies (nodes and leaves, sorted)."""

    ordered: list[str]
    paired: list[str]
    pairs: list[bytes]
    leaves: dict[str, str | None]
    dependencies: list[str]


_NAME = operator.itemgetter(0)
_PAIR = operator.itemgetter(1)


def _parts(
    closure: set[str] | frozenset[str],
    nodes: dict[str, Node],
    session: Session,
    *,
    root: str,
    progress: Progress | None,
    ordered: Sequence[str] | None = None,
) -> _Parts:
    """The parts of ``closure`` less ``root`` (its nodes prepared: own tokens, pairs and
    leaves). ``ordered``: the closure's names, sorted, when the caller has them so and every
    one is a node (a build's closure): then they are not sorted again. Call inside the hashing
    step's books (see :func:`closure_token`)."""
    if ordered is None:
        # Sorted once: the pairs then come in the combiner's order, and so do the dependencies.
        listed = sorted((closure & nodes.keys()) - {root})
    else:
        listed = _without(list(ordered), root)
    session.prepare(((closure - session.prepared) & nodes.keys()) - {root}, nodes, progress)
    items = list(filter(None, map(session.pairs.get, listed)))
    leaves: dict[str, str | None] = {}
    dependencies = listed
    for leaf in compiled_leaves(closure, nodes, session)[0].values():
        leaf_token = leaves[leaf.name] = _hashing.leaf_token(leaf)
        if leaf_token is not None:
            pair = (leaf.name, _combine.encode_pair(leaf.name, leaf_token))
            bisect.insort(items, pair, key=_NAME)
        if dependencies is listed:
            dependencies = list(listed)
        bisect.insort(dependencies, leaf.name)
    return _Parts(listed, list(map(_NAME, items)), list(map(_PAIR, items)), leaves, dependencies)


def _without(names: list[str], name: str) -> list[str]:
    """``names`` (sorted) without ``name``, a copy only when it is there."""
    at = bisect.bisect_left(names, name)
    if at < len(names) and names[at] == name:
        return [*names[:at], *names[at + 1 :]]
    return names


def root_token(
    root: str, nodes: dict[str, Node], session: Session, *, root_obj: object, owner: str
) -> str | None:
    """The root's own token. Call inside the hashing step's books."""
    root_node = nodes.get(root)
    if (
        root_node is not None
        and root_node.kind in _DEFINITION_KINDS
        and owner == root
        and session.lookup(root) is root_obj
    ):
        # The same call as its own token (a snapshot's roots are each other's members).
        return session.own_token(root_node)
    return _hashing.object_token(
        root_obj, scope=session.scope, owner=owner, expressions=session.expressions
    )


def _for_root(
    root: str, root_token: str | None, parts: _Parts, nodes: dict[str, Node], session: Session
) -> tuple[str | None, tuple[str, ...]]:
    """A root's token and dependencies from the parts of its closure less itself."""
    token = _combine.closure_token_sorted(
        root,
        root_token,
        parts.pairs,
        bisect.bisect_left(parts.paired, _combine.TARGET),
        map(nodes.__getitem__, parts.ordered),
        leaves=bool(parts.leaves),
        portable=session.options.portable,
    )
    return token, tuple(parts.dependencies)


def _found(
    closure: set[str] | frozenset[str], unresolved: Iterable[Unresolved], session: Session
) -> tuple[Unresolved, ...]:
    """The unresolved references of a closure, the session's notes included."""
    found = [u for u in unresolved if u.owner in closure]
    found.extend(u for u in session.notes.values() if u.owner in closure)
    return sorted_unresolved(found)


def closure_token(
    root: str,
    names: Iterable[str],
    nodes: dict[str, Node],
    session: Session,
    *,
    unresolved: Iterable[Unresolved],
    root_obj: object,
    owner: str,
    progress: Progress | None = None,
    keep_code_tokens: bool = True,
    ordered: Sequence[str] | None = None,
) -> Closure:
    """The one path from a root's closure (``names``, the root included, as
    ``to_dependency_graph`` or ``closure`` of the built graph give it) to its token, shared
    by ``behavior_token``, ``explain`` and every entry of ``snapshot`` (which takes it for
    several roots of one closure at once: ``_grouped.BuildTable``). What a node contributes is
    computed once per session (a snapshot's closures overlap), so each closure costs a few
    set operations. Code tokens computed on the way are written to the cache at the end
    unless ``keep_code_tokens`` is false (a snapshot writes them once). ``ordered``: the
    closure's names sorted, every one a node, when the caller has them so (a build's
    closure)."""
    closure = names if isinstance(names, (set, frozenset)) else set(names)
    book = code_book_for(session.options)
    with (
        _hashing.code_book(book),
        _hashing.value_memo(session.values),
        _hashing.source_book(session.sources),
    ):
        parts = _parts(closure, nodes, session, root=root, progress=progress, ordered=ordered)
        own = root_token(root, nodes, session, root_obj=root_obj, owner=owner)
    if keep_code_tokens and book is not None and book.dirty:
        book.flush()
    if keep_code_tokens and session.sources is not None:
        session.sources.flush()
    token, dependencies = _for_root(root, own, parts, nodes, session)
    found = _found(closure, unresolved, session)
    return Closure(own, token, parts.leaves, dependencies, found)


def compiled_leaves(
    names: Iterable[str], nodes: dict[str, Node], session: Session
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
        found = leaf_in(name, closure.__contains__, nodes, session)
        if found is None:
            continue
        leaf, added = found
        if added:
            leaves[leaf.name] = leaf
        edges.add(Edge(name, leaf.name, RefKind.EXTERNAL, 0))
    return leaves, edges


def leaf_in(
    name: str, contains: Callable[[str], bool], nodes: dict[str, Node], session: Session
) -> tuple[Node, bool] | None:
    """The leaf of the compiled code node ``name`` runs (it has one: ``session.leaves``) in a
    closure (``contains`` says which names it holds), and whether the closure adds it (it is
    not a node of the closure already); None when the closure has first-party code under the
    leaf's name (that code has no version to stand for it)."""
    leaf = session.leaves[name]
    present = nodes[leaf.name] if leaf.name in nodes and contains(leaf.name) else None
    if present is not None and present.kind not in _LEAF_KINDS:
        return None
    return leaf, present is None


def _provider_leaf(module: str, options: Options) -> Node:
    """The leaf standing for what ships ``module``'s compiled code."""
    top = module.partition(".")[0] or "builtins"
    if top in sys.stdlib_module_names or top in sys.builtin_module_names:
        return Node(top, NodeKind.STDLIB)
    version = distribution_version(top)[1] if options.external_versions else ""
    return Node(top, NodeKind.EXTERNAL, version=version)


def first_party(nodes: Iterable[Node]) -> list[str]:
    """Names of the nodes whose code is hashed (leaves are hashed by name and version)."""
    return [n.name for n in nodes if n.kind not in (NodeKind.EXTERNAL, NodeKind.STDLIB)]


def check_running_code(names: Iterable[str], options: Options) -> None:
    """StaleCodeError when a loaded module among ``names`` (node names or module names) does
    not run the code of its source file: its objects are about to be hashed."""
    verdicts = _store.VerdictStore(cache_dir(options))
    for module_name in sorted({name.partition(":")[0] for name in names}):
        module = sys.modules.get(module_name)
        if module is not None:
            _runtime.check_source(module, verdicts)


def sorted_unresolved(unresolved: Iterable[Unresolved]) -> tuple[Unresolved, ...]:
    return tuple(sorted(set(unresolved), key=lambda u: (u.owner, u.line, u.expression, u.reason)))


def report_unresolved(spec: str, unresolved: tuple[Unresolved, ...], options: Options) -> None:
    """StrictModeError under ``strict``, else one warning (per spec and references)."""
    if not unresolved:
        return
    if options.strict:
        raise StrictModeError(spec, tuple(u.describe() for u in unresolved))
    first = unresolved[0].describe()
    more = ""
    if len(unresolved) > 1:
        more = f" (and {len(unresolved) - 1} more: {_targets.listing_command(spec)} lists them)"
    warn(f"{spec}: unresolved reference {first}{more}", UnresolvedReferenceWarning)


def warn_compiled(spec: str, obj: object, options: Options) -> None:
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
    warn(
        f"{spec}: no Python code to hash; its token covers {covers}, not the compiled code",
        CompiledCodeWarning,
    )


def warn(message: str, category: type[Warning]) -> None:
    """Issue a warning attributed to the first caller outside astoken. astoken keeps no
    record of what it warned about: the caller's warning filters decide (the default filter
    shows a message once per calling line; ``error`` raises every time)."""
    level = 2  # 1 is this function
    frame: FrameType | None = sys._getframe(1)
    while frame is not None and frame.f_globals.get("__name__", "").partition(".")[0] == "astoken":
        level += 1
        frame = frame.f_back
    warnings.warn(message, category, stacklevel=level)
