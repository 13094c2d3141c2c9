"""Pooled tokens for ``pytest --astoken-select``: the token of each test's roots taken together,
from one graph build per first-party scope that is kept in the build cache and replayed on the
next run while nothing it asked has changed (``astoken._graph._journal``).

What a run costs, in the order a warm run with nothing changed meets it:

1. The kept build of the scope (key: astoken's code, the interpreter, the options, the scope
   and the project) is replayed: every module file it read is read and hashed again, every
   live fact it asked is asked again. Any different answer, or a test whose roots the entry
   has no closure for, builds the graph again and keeps the new build (one entry per scope,
   options and project: an edit replaces it, never adds one).
2. The pooled closures of the tests come from the entry (an index string per distinct set
   of roots); walking the graph happens only when it was built in this run.
3. Own tokens are computed once per definition in the union of the closures, live values
   hashed again every run (code tokens come from the code-token cache, as for
   ``behavior_token``), each pair encoded once.
4. A closure shared by several tests (parametrizations, tests with the same fixtures) is
   combined into a token once; and not at all when the last run with the same build kept its
   token and none of its members has another own token now (``_combined``: each own token is
   still computed, only the 2.2 million pairs of networkx's suite are not hashed again).
"""

from __future__ import annotations

from array import array
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from itertools import compress
from typing import TYPE_CHECKING, Any

from astoken import _combine, _hashing, _store, _targets
from astoken._model import Options
from astoken._scope import Scope
from astoken.errors import AstokenError

from . import _combined, _steps
from ._graphs import scope_for
from ._kept import build_key, record, replayed
from ._options import cache_dir, code_book_for, make_options
from ._session import Session, check_running_code, first_party

if TYPE_CHECKING:
    from astoken._graph import CachedBuild

__all__ = ["PooledTokens", "PooledWork", "pooled_tokens"]


@dataclass(frozen=True, slots=True)
class PooledWork:
    """What one :func:`pooled_tokens` call did, counted (tests assert on work, not time):
    graphs built, kept builds replayed and used, pooled closures walked in a graph, own
    tokens computed, distinct closures combined into a token, and those whose token the last
    run kept (``_combined``) and were not combined."""

    built: int = 0
    replayed: int = 0
    walked: int = 0
    hashed: int = 0
    combined: int = 0
    reused: int = 0

    def describe(self) -> str:
        """One line for pytest's header (``--astoken-select``)."""
        return (
            f"graphs built {self.built}, replayed {self.replayed}; closures walked "
            f"{self.walked}; definitions hashed {self.hashed}; tokens combined {self.combined}, "
            f"reused {self.reused}"
        )


@dataclass(frozen=True, slots=True)
class PooledTokens:
    """Group key -> its token (None when it cannot be computed), and the work it took."""

    tokens: dict[str, str | None]
    work: PooledWork


@dataclass
class _Counts:
    built: int = 0
    replayed: int = 0
    walked: int = 0
    hashed: int = 0
    combined: int = 0
    reused: int = 0

    def frozen(self) -> PooledWork:
        return PooledWork(
            self.built, self.replayed, self.walked, self.hashed, self.combined, self.reused
        )


def pooled_tokens(
    groups: Mapping[str, Sequence[str]], *, project: str | None = None, **options: Any
) -> PooledTokens:
    """Group key -> the token of its roots taken together, for ``pytest --astoken-select``
    (a test's roots: its function, fixtures and setups run in one test). The closure is
    pooled (coverage.md rule 1): an object one root creates has the members another root
    names, which the union of the roots' own closures would miss (a fixture makes a Graph, the
    test calls ``.subgraph``). None when a root does not load, a value in the closure has no
    encoding or the first-party code does not run its source. One graph build per first-party
    scope; with ``project`` (the directory the tests run from) and the cache on, the build is
    kept for the next call and replayed (see the module docstring)."""
    opts = make_options(**options)
    counts = _Counts()
    names = sorted({name for roots in groups.values() for name in roots})
    node_of, scope_of, targets = _load(names, opts)
    # Per test, its roots (node names) by scope; a root that did not load fails the test.
    wanted: dict[str, dict[Scope, tuple[str, ...]] | None] = {}
    per_scope: dict[Scope, set[tuple[str, ...]]] = {}
    for key, given in groups.items():
        if not given or any(name not in node_of for name in given):
            wanted[key] = None
            continue
        by_scope: dict[Scope, set[str]] = {}
        for name in given:
            by_scope.setdefault(scope_of[node_of[name]], set()).add(node_of[name])
        split = {scope: tuple(sorted(roots)) for scope, roots in by_scope.items()}
        wanted[key] = split
        for scope, roots in split.items():
            per_scope.setdefault(scope, set()).add(roots)
    scopes = {
        scope: _ScopeTokens.load(
            scope, sorted(sets), targets[scope], opts=opts, project=project, counts=counts
        )
        for scope, sets in per_scope.items()
    }
    for scope, group in scopes.items():
        group.prepare(per_scope[scope], counts)
    tokens: dict[str, str | None] = {}
    for key, in_scopes in wanted.items():
        if in_scopes is None:
            tokens[key] = None
            continue
        parts = [
            (repr(scope), scopes[scope].token(roots, counts))
            for scope, roots in sorted(in_scopes.items(), key=lambda item: repr(item[0]))
        ]
        if any(token is None for _, token in parts):
            tokens[key] = None
        elif len(parts) == 1:
            tokens[key] = parts[0][1]
        else:
            tokens[key] = _combine.combine(parts, portable=opts.portable)
    for group in scopes.values():
        group.flush()
    return PooledTokens(tokens, counts.frozen())


def _load(
    names: list[str], opts: Options
) -> tuple[dict[str, str], dict[str, Scope], dict[Scope, dict[str, object]]]:
    """Root name -> node name (for the roots that load and are no modules), node -> scope,
    scope -> its roots' live objects."""
    node_of: dict[str, str] = {}
    scope_of: dict[str, Scope] = {}
    objects: dict[Scope, dict[str, object]] = {}
    for name in names:
        try:
            target = _targets.load_target(name, static=False)
        except AstokenError:
            continue
        if target.is_module:
            continue
        node_of[name] = target.node
        scope = scope_of.setdefault(target.node, scope_for(target.module, opts))
        found = objects.setdefault(scope, {})
        if target.obj is not None:
            found[target.node] = target.obj
    return node_of, scope_of, objects


def _group_key(roots: tuple[str, ...]) -> str:
    """The entry's name of a set of roots (node names never hold a newline)."""
    return "\n".join(roots)


def _build_key(scope: Scope, opts: Options, project: str) -> str | None:
    """The build cache key of a selection's scope (``_kept.build_key``): the scope and the
    project it is for. The sets of roots are in the entry: another set is a miss whose new
    build replaces the entry."""
    return build_key("select", opts, repr(scope), project)


@dataclass
class _ScopeTokens:
    """One first-party scope of a selection: its session, its build (None when it failed) and
    what is computed once per run, by index into the build's names: whether a node's own
    token is still to compute (``pending``), its encoded pair (empty: no token), its state as
    ``_combined`` compares it (None: not hashed), the nodes whose value has no encoding
    (``refused``); the token of each distinct closure, and of each closure key. With ``key``
    (the build's cache key) the tokens the last run kept are read (``kept``, ``changed``: the
    indexes hashed to another state since), and this run's are kept for the next."""

    session: Session
    build: CachedBuild | None
    key: str | None = None
    pairs: list[bytes] = field(default_factory=list)
    pending: bytearray = field(default_factory=bytearray)
    states: list[str | None] = field(default_factory=list)
    refused: set[int] = field(default_factory=set)
    combined: dict[bytes, str | None] = field(default_factory=dict)
    by_key: dict[str, str | None] = field(default_factory=dict)
    prepared: set[str] = field(default_factory=set)
    digest: str = ""
    kept: _combined.KeptTokens | None = None
    changed: set[int] | None = None
    fresh: bool = False

    @classmethod
    def load(
        cls,
        scope: Scope,
        sets: list[tuple[str, ...]],
        objects: dict[str, object],
        *,
        opts: Options,
        project: str | None,
        counts: _Counts,
    ) -> _ScopeTokens:
        """The scope's build: kept and replayed when it can be, else built (and kept)."""
        session = Session(opts, scope, dict(objects), {})
        key = _build_key(scope, opts, project) if project is not None else None
        store = _store.BuildStore(cache_dir(opts))  # disabled, like the key, without the cache
        build: CachedBuild | None = None
        try:
            text = store.get(key) if key is not None else None
            if text is not None:
                build = _replayed(text, sets, session, opts)
            if build is not None:
                counts.replayed += 1
            else:
                build, complete = _built(sets, session, opts, counts)
                if key is not None and complete:
                    store.put(key, _steps.graph.encode_build(build))
            check_running_code(first_party(build.nodes.values()), opts)
        except AstokenError:
            build = None
        if build is None or key is None:
            return cls(session, build)
        digest = _combined.build_digest(build.names, build.closures)
        text = _store.CombinedStore(cache_dir(opts)).get(key)
        kept = _combined.decode(text, sorted(build.closures)) if text is not None else None
        return cls(session, build, key, digest=digest, kept=kept)

    def prepare(self, sets: set[tuple[str, ...]], counts: _Counts) -> None:
        """Hash every definition in the closures of ``sets`` not hashed yet, then compare the
        states with the kept ones (``changed``)."""
        if self.build is None:
            return
        if not self.pairs:
            size = len(self.build.names)
            self.pairs = [b""] * size
            self.pending = bytearray(b"\x01" * size)
            self.states = [None] * size
        book = code_book_for(self.session.options)
        with (
            _hashing.code_book(book),
            _hashing.value_memo(self.session.values),
            _hashing.source_book(self.session.sources),
        ):
            for roots in sorted(sets):
                key = _group_key(roots)
                self.prepared.add(key)
                order = self.build.closures[key]
                # At C speed: the suite's closures hold millions of indexes, nearly all hashed
                # already.
                for i in list(compress(order, map(self.pending.__getitem__, order))):
                    self._hash(i, counts)
        if self.kept is not None:
            self.changed = self.kept.changed(self.digest, self.states)

    def token(self, roots: tuple[str, ...], counts: _Counts) -> str | None:
        """The token of ``roots``' pooled closure (None: see :func:`pooled_tokens`)."""
        if self.build is None:
            return None
        key = _group_key(roots)
        order = self.build.closures[key]
        if not order:  # nothing reached has a node: no pairs, no token
            return None
        if key in self.by_key:
            return self.by_key[key]
        distinct = order.tobytes()
        if distinct in self.combined:
            self.by_key[key] = self.combined[distinct]
            return self.by_key[key]
        if key not in self.prepared:
            self.prepare({roots}, counts)  # a set of roots prepare() was not given
        token: str | None = None
        kept = self.kept
        if (
            kept is not None
            and self.changed is not None
            and key in kept.tokens
            and self.changed.isdisjoint(order)
        ):
            # The last run combined the same pairs (guarantee 1 of ``_combined``).
            token = kept.tokens[key]
            counts.reused += 1
        else:
            self.fresh = True
            if not self.refused or self.refused.isdisjoint(order):
                # Indexes ascend into sorted names: the pairs come in the combiner's order.
                encoded = list(filter(None, map(self.pairs.__getitem__, order)))
                token = _combine.combine_sorted(encoded, portable=self.session.options.portable)
                counts.combined += 1
        self.combined[distinct] = self.by_key[key] = token
        return token

    def _hash(self, index: int, counts: _Counts) -> None:
        assert self.build is not None
        name = self.build.names[index]
        self.pending[index] = 0
        counts.hashed += 1
        try:
            own = self.session.own_token(self.build.nodes[name])
        except AstokenError:
            self.refused.add(index)
            self.states[index] = _combined.REFUSED
            return
        self.states[index] = own or ""
        self.pairs[index] = b"" if own is None else _combine.encode_pair(name, own)

    def flush(self) -> None:
        """Write the code tokens and source digests computed in this run to the cache, and
        this run's closure tokens when one of them was combined (else the kept ones stand)."""
        book = code_book_for(self.session.options)
        if book is not None and book.dirty:
            book.flush()
        if self.session.sources is not None:
            self.session.sources.flush()
        if self.build is None or self.key is None or not (self.fresh or self.changed):
            return
        kept = _combined.KeptTokens(self.digest, tuple(self.states), dict(self.by_key))
        store = _store.CombinedStore(cache_dir(self.session.options))
        store.put(self.key, _combined.encode(kept, sorted(self.build.closures)))


def _built(
    sets: list[tuple[str, ...]], session: Session, opts: Options, counts: _Counts
) -> tuple[CachedBuild, bool]:
    """The graph of every root of ``sets`` built once (its journal recorded), with the pooled
    closure of each set; and whether the journal is complete (else the build is not kept)."""
    graph_step = _steps.graph
    built = record(tuple(sorted({root for roots in sets for root in roots})), session, opts)
    counts.built += 1
    names = tuple(sorted(built.nodes))
    index = {name: i for i, name in enumerate(names)}
    closures: dict[str, array[int] | int] = {}
    for members in sets:
        reached = graph_step.closure_of_all(built.graph, members)
        counts.walked += 1
        closures[_group_key(members)] = graph_step.closure_indexes(
            sorted(index[name] for name in reached if name in index), len(names)
        )
    build = graph_step.CachedBuild(
        tuple(closures),
        built.nodes,
        built.unresolved,
        names,
        graph_step.Closures(closures, len(names)),
        built.journal,
    )
    return build, built.complete


def _replayed(
    text: str, sets: list[tuple[str, ...]], session: Session, opts: Options
) -> CachedBuild | None:
    """The kept build ``text`` when it has a closure for every set of roots and its journal
    replays with the same answers (lines that only moved taken over), else None."""
    kept = replayed(
        text,
        session,
        opts,
        usable=lambda cached: all(_group_key(roots) in cached.closures for roots in sets),
    )
    return None if kept is None else kept.build
