"""Snapshots: every function, class and method of some packages with its token, from one graph
build per package (kept in the build cache and replayed when nothing it asked has changed),
the modules left out with the reason, and where a package that defines nothing has its code."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from astoken import _combine, _targets
from astoken._lockfile import FileTokens, Snapshot, SnapshotEntry
from astoken._model import (
    PORTABLE_TAG,
    UNAVAILABLE_REASON,
    DefKind,
    NodeKind,
    Options,
    Unresolved,
)
from astoken._nameset import NameIndex, NameSet
from astoken._platform import unavailable_on_this_platform
from astoken._scope import Scope, is_test_module, iter_package_modules, sibling_packages
from astoken.errors import (
    AstokenError,
    AstokenWarning,
    ImportFailedError,
    SourceSyntaxError,
    TargetNotFoundError,
    TargetTypeError,
    UnhashableValueError,
    ValueTooDeepError,
)

from . import _steps
from ._analysis import targets_not_found
from ._grouped import BuildTable, Taken
from ._kept import build_key, kept_closures
from ._options import code_book_for
from ._session import (
    Session,
    check_running_code,
    closure_token,
    first_party,
    report_unresolved,
    sorted_unresolved,
    warn,
)
from ._summaries import summarize_modules

if TYPE_CHECKING:
    from astoken._graph import CachedBuild, GraphRequest

__all__ = ["SnapshotBuild", "snapshot_packages"]

#: The definitions a snapshot records a token for (constants and nested code are covered by
#: the tokens of what uses them).
_TARGET_KINDS = frozenset({DefKind.FUNCTION, DefKind.CLASS, DefKind.METHOD})

#: A snapshot's progress callback: ``(done, total)`` definitions hashed.
SnapshotProgress = Callable[[int, int], None]


@dataclass(frozen=True, slots=True)
class SnapshotBuild:
    """A package's snapshot build: the session its live objects are looked up in, and the build
    (roots, nodes, unresolved references and every root's closure)."""

    session: Session
    build: CachedBuild


def snapshot_packages(
    packages: Sequence[str],
    opts: Options,
    *,
    jobs: int,
    progress: SnapshotProgress | None,
    include_tests: bool,
) -> Snapshot:
    """The snapshot of ``packages`` (see ``astoken.snapshot``), and of the packages of the same
    distribution that hold the code of one that defines nothing."""
    entries: list[SnapshotEntry] = []
    own_all: dict[str, str] = {}
    names: list[str] = []
    failed: dict[str, str] = {}
    specs = list(packages)
    for spec in specs:  # grows when a package only re-exports its distribution's other ones
        with _targets.target_environment(spec, prepare=_steps.prepare_steps):
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
        python=_python_tag(opts),
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
        warn(
            f"{package} defines no function or class itself: the names it exports are defined "
            f"in {', '.join(added)}, installed by the same distribution, so the snapshot "
            "includes it too",
            AstokenWarning,
        )
    if elsewhere:
        warn(
            f"{package} defines no function or class itself: the names it exports are defined "
            f"in {', '.join(elsewhere)} (snapshot that to record them)",
            AstokenWarning,
        )
    if not origins:
        warn(
            f"{package} defines no function, class or method: the snapshot of it is empty",
            AstokenWarning,
        )
    return added


def _python_tag(opts: Options) -> str:
    """A snapshot's interpreter tag: a portable snapshot's tokens hold on every interpreter
    (``diff`` compares the tags)."""
    return PORTABLE_TAG if opts.portable else _combine.interpreter_tag()


def _package_modules(spec: str, opts: Options, include_tests: bool) -> tuple[str, tuple[str, ...]]:
    """A snapshot spec's package (or module) and the modules of it that the snapshot takes."""
    target = _targets.load_target(spec, static=True)
    if not target.is_module:
        raise TargetTypeError(spec, "snapshot takes packages or modules, not module:name")
    modules = iter_package_modules(target.module)
    if not modules:
        raise targets_not_found(spec, target.module)
    # ``__main__`` modules are programs: importing one runs it.
    modules = tuple(m for m in modules if m.rpartition(".")[2] != "__main__")
    if not include_tests and not is_test_module(target.module):
        modules = tuple(m for m in modules if not is_test_module(m))
    if opts.exclude:  # excluded modules are not the package's code: no entries of their own
        excluded = Scope((), (), opts.exclude)
        modules = tuple(m for m in modules if m == target.module or not excluded.excludes(m))
    return target.module, modules


def _snapshot_package(
    spec: str,
    opts: Options,
    jobs: int,
    progress: SnapshotProgress | None,
    include_tests: bool,
) -> tuple[str, list[SnapshotEntry], dict[str, str | None], dict[str, str]]:
    """One package of a snapshot: its name, entries, own tokens and the modules left out."""
    package, modules = _package_modules(spec, opts, include_tests)
    problems: dict[str, AstokenError] = summarize_modules(modules, opts, jobs)
    for module in modules:
        if module in problems:
            continue
        try:
            _targets.import_module(spec, module)
        except (ImportFailedError, SourceSyntaxError, TargetNotFoundError) as exc:
            problems[module] = exc
    imported = tuple(m for m in modules if m not in problems)
    check_running_code(imported, opts)
    scope = Scope((), opts.include, opts.exclude).with_root(package)
    key = _snapshot_build_key(package, imported, frozenset(problems), opts)
    snapshot_build = _snapshot_build(key, scope, frozenset(problems), imported, opts)
    session, build = snapshot_build.session, snapshot_build.build
    nodes = build.nodes
    check_running_code(first_party(nodes.values()), opts)
    leaves: dict[str, str | None] = {}
    unresolved: set[Unresolved] = set()
    # Each closure is kept as a mask over one index of the graph's names (and the leaves the
    # closures add), not a tuple: sympy's 21,264 closures hold 181 million names. The graph's
    # names take the positions they have in the build's table, so that a closure's mask is
    # made from its indexes.
    names = NameIndex(build.names)
    made: list[tuple[str, NodeKind, str | None, str | None, int]] = []
    consistent = True  # no name was given two own tokens
    refused: dict[str, str] = {}
    # Roots that share one closure (they reach one another: sympy's 21,330 roots have 13,350
    # distinct closures) take its parts once.
    groups: dict[int, list[tuple[str, object]]] = {}
    for root in sorted(build.roots):
        obj = session.lookup(root)
        if obj is not None:
            groups.setdefault(build.closures.key(root), []).append((root, obj))
    total, done = sum(map(len, groups.values())), 0
    laid = BuildTable(build, session)
    for group in groups.values():
        group_mask = None
        for root, result in _group_tokens(group, build, session, laid):
            done += 1
            if isinstance(result, str):
                # No token rather than a wrong one, for this definition (and every one whose
                # closure holds the value) only: the others' entries stand.
                refused[root] = result
                continue
            if group_mask is None:
                # The leaves and unresolved references are the closure's, the same for every
                # root of the group; each root has the group's closure less itself.
                for leaf, leaf_token in result.leaves.items():
                    consistent &= leaves.setdefault(leaf, leaf_token) == leaf_token
                unresolved.update(result.unresolved)
                names.add(result.leaves)
                # The closure (the root in it) and its leaves: each root's dependencies and
                # the root itself.
                group_mask = build.closure_mask(root) | names.mask(result.leaves)
            consistent &= session.own.get(root, result.root_token) == result.root_token
            mask = group_mask & ~names.bit(root)
            made.append((root, nodes[root].kind, result.token, result.root_token, mask))
            if progress is not None:
                progress(done, total)
    book = code_book_for(opts)
    if book is not None:
        book.flush()
    if session.sources is not None:
        session.sources.flush()
    report_unresolved(spec, sorted_unresolved(unresolved), opts)
    # Every own token computed for some closure (the roots' are their entries' own tokens).
    own = {**session.own, **leaves}
    consistent &= all(session.own.get(leaf, tok) == tok for leaf, tok in leaves.items())
    for root, _kind, _token, root_token, _mask in made:
        own[root] = root_token
    table = names.table()
    # Each token was made from the pairs of these own tokens for the entry's dependencies, in
    # the order of their names, the entry's own token as ``<target>``: the way a lock file's
    # reader makes it (``FileTokens``), unless a name was given two own tokens (checked
    # above) or the token is None (a class of data attributes only: ccflow's rule). Such an
    # entry is marked so, and a lock file of these own tokens is written without making its
    # token again (sympy: 21,330 tokens of about 8,500 pairs each).
    made_from = (
        FileTokens({n: t for n, t in own.items() if t is not None}, _python_tag(opts))
        if consistent
        else None
    )
    entries = [
        SnapshotEntry(target, kind, token, own_token, NameSet(table, mask))
        if made_from is None or token is None
        else SnapshotEntry._made(
            target, kind, token, own_token, NameSet(table, mask), made_from=made_from
        )
        for target, kind, token, own_token, mask in made
    ]
    reasons = {module: _failure_reason(exc) for module, exc in problems.items()}
    return package, entries, own, {**reasons, **refused}


def _group_tokens(
    group: list[tuple[str, object]], build: CachedBuild, session: Session, table: BuildTable
) -> Iterator[tuple[str, Taken | str]]:
    """What the snapshot keeps of each root of ``group`` (or why it has no token), roots whose
    closure is one, made as they are taken: the same as ``behavior_token(root)`` and
    ``dependencies(root)`` give, computed from the graph built once for every root, the
    closure taken as a mask over the build's table (``_grouped``). A group whose closure holds
    a value with no deterministic encoding is taken a root at a time on the one path of
    ``behavior_token``, for each root's own error."""
    root = group[0][0]
    taken = table.tokens(group, build.closure_mask(root))
    if taken is not None:
        yield from taken
        return
    # The closure's names come sorted from the build (its table is): not sorted again.
    ordered = build.closure_names(root)
    closure = frozenset(ordered)
    for name, obj in group:
        try:
            result = closure_token(
                name,
                closure,
                build.nodes,
                session,
                unresolved=build.unresolved,
                root_obj=obj,
                owner=name,
                keep_code_tokens=False,
                ordered=ordered,
            )
        except (UnhashableValueError, ValueTooDeepError) as exc:
            yield name, _failure_reason(exc)
            continue
        yield name, Taken(result.root_token, result.token, result.leaves, result.unresolved)


def _snapshot_build_key(
    package: str,
    imported: tuple[str, ...],
    skipped: frozenset[str],
    opts: Options,
) -> str | None:
    """The cache key of a package's snapshot build (``_kept.build_key``): the package, the
    modules imported and those left out. The files read, those whose definitions are the roots
    included, are in the journal: an edit makes the entry a miss, and the new build replaces
    it (one entry per package and options, not one per edit). None when the cache is off."""
    return build_key("snapshot", opts, package, repr(sorted(skipped)), repr(imported))


def _snapshot_build(
    key: str | None,
    scope: Scope,
    skipped: frozenset[str],
    imported: tuple[str, ...],
    opts: Options,
) -> SnapshotBuild:
    """The session and build of a package's snapshot: its roots are the functions, classes and
    methods of the ``imported`` modules, found through the request the build records through
    (so the journal holds every file they come from). Kept under ``key`` and replayed
    (``_kept.kept_closures``)."""

    def roots_of(request: GraphRequest) -> tuple[str, ...]:
        defs: list[str] = []
        for module in imported:
            source = request.modules(module)
            if source is None:
                continue
            for definition in source.summary.definitions:
                if definition.kind in _TARGET_KINDS:
                    defs.append(f"{module}:{definition.qualname}")
        return tuple(defs)

    session = Session(opts, scope, {}, {})
    build, _files = kept_closures(key, roots_of, session, opts, skipped=skipped)
    return SnapshotBuild(session, build)


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
