"""The public functions: each checks its arguments and options, then hands the work to the
orchestration (``astoken._pipeline``), which calls the steps; the work lives in the step
modules (see docs/explanation/architecture.md)."""

from __future__ import annotations

import contextvars
import dataclasses
import os
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from . import _combine, _config, _diff, _files, _hashing, _lockfile, _pipeline, _targets
from ._lockfile import Snapshot
from ._model import TOKEN_OPTIONS, DependencyGraph, Explanation, SnapshotDiff
from ._pipeline import Progress, Stage, _memo
from .errors import LiveCode, OptionError, TargetTypeError

__all__ = [
    "Progress",
    "Stage",
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

register_encoder = _hashing.register_encoder

#: The token options' keywords and defaults, in the order of their declarations.
_TOKEN_NAMES = tuple(spec.name for spec in TOKEN_OPTIONS)
_TOKEN_DEFAULTS = tuple(spec.default for spec in TOKEN_OPTIONS)


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
    portable: bool = False,
    allow_bytecode: bool = False,
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

    ``portable=True`` hashes each definition by its canonical source instead of its bytecode:
    the token is then the same on every CPython minor (3.10-3.13), never equal to a bytecode
    token, and a definition without source (``exec``, a REPL) raises
    :class:`~astoken.errors.NoSourceError` unless ``allow_bytecode=True`` lets its bytecode
    stand in (marked: such a token holds on one Python minor only).
    """
    # The keywords in the order of their declarations (a test holds the signature to them);
    # as a tuple, so that the common call, which gives none, builds no Options for a memo hit.
    given = (
        strict,
        static,
        include,
        exclude,
        external_versions,
        cache_dir,
        use_cache,
        portable,
        allow_bytecode,
    )
    if given == _TOKEN_DEFAULTS:
        options = _pipeline.DEFAULT_OPTIONS
    else:
        options = _pipeline.make_options(**dict(zip(_TOKEN_NAMES, given, strict=True)))
        if options.static:
            raise OptionError.static_mode("behavior_token")
    key = _memo.memo_key(obj, options)
    cached = _memo.lookup(key, obj)
    if cached is not None:
        return cached.token
    analysis = _pipeline.analyze(obj, options)
    _memo.remember(key, obj, analysis.files, analysis.token)
    return analysis.token


def explain(obj: object, *, progress: Progress | None = None, **options: Any) -> Explanation:
    """The token of ``obj``, each dependency with its own token and how it was reached, and the
    references static analysis could not resolve.

    ``progress`` (optional) is called as ``progress(stage, done, total)`` while the modules
    are read (total 0: not known in advance) and the definitions hashed.
    """
    opts = _pipeline.make_options(**options)
    return _pipeline.explanation(_pipeline.analyze(obj, opts, progress, provenance=True))


def dependencies(
    obj: object, *, progress: Progress | None = None, **options: Any
) -> tuple[str, ...]:
    """Sorted qualified names of everything ``obj``'s token covers (the target excluded); a
    module has no token, and is refused as :func:`behavior_token` refuses it."""
    return dependency_lists([obj], progress=progress, **options)[0]


def dependency_graph(
    obj: object, *, progress: Progress | None = None, **options: Any
) -> DependencyGraph:
    """The dependency graph of a target, or of every definition in a package/module name
    (``"pkg"``, ``"pkg.module"``, a directory or a ``.py`` path). ``progress`` as for
    :func:`explain`."""
    opts = _pipeline.make_options(**options)
    with _targets.target_environment(obj, prepare=_pipeline.prepare_steps):
        return _pipeline.dependency_graph_loaded(obj, opts, progress)


def project_options(target: object = None, **given: Any) -> dict[str, Any]:
    """The keyword options of the ``[tool.astoken]`` table of ``target``'s project (the
    working directory's when ``target`` is None), with the ``given`` ones winning: include and
    exclude patterns are added, other options replaced (None means "not given").

    ``astoken.behavior_token(f, **astoken.project_options(f))`` computes a token as the
    command line does; the API functions themselves read no file.
    """
    start = _config.start_directory(target)  # target None: the working directory's project
    return _config.find_config(start).options(given)


def data_token(value: object, *, portable: bool = False, allow_bytecode: bool = False) -> str:
    """The deterministic token of a plain value (see docs/reference/token-format.md).

    An instance of a first-party class (and such a class given as a value) also carries its
    class's behavior token: an object's methods run on the code its caller's cache key is
    computed for, so editing them must change the key (parameters are the caller's).

    ``portable=True`` makes the functions inside the value (a callback, a default) count by
    their canonical source and the classes by their portable behavior token, so that the token
    is the same on every CPython minor, as :func:`behavior_token`'s ``portable`` (with its
    ``allow_bytecode``); plain values encode alike in both modes.

    Raises :class:`~astoken.errors.UnhashableValueError` for a value with no deterministic
    encoding.
    """
    if not portable:
        return _hashing.value_token(value, owner="data_token()", behavior=_class_behavior)
    options = _pipeline.make_options(portable=True, allow_bytecode=allow_bytecode)
    hook = _PortableBehavior(allow_bytecode)
    with _hashing.source_book(_pipeline.source_tables_for(options)):
        return _hashing.value_token(value, owner="data_token()", behavior=hook)


def _class_behavior(cls: type, **options: Any) -> str | None:
    """The behavior token of a class whose instance is data (the hook of :func:`data_token`)."""
    active = _CLASS_BEHAVIOR_ACTIVE.get()
    if cls in active:
        return None  # a class whose behavior reaches an instance of itself: counted once
    reset = _CLASS_BEHAVIOR_ACTIVE.set(active | {cls})
    try:
        return behavior_token(cls, **options)
    finally:
        _CLASS_BEHAVIOR_ACTIVE.reset(reset)


@dataclasses.dataclass(frozen=True)
class _PortableBehavior:
    """The behavior hook of a portable :func:`data_token`: portable class tokens."""

    allow_bytecode: bool

    def __call__(self, cls: type) -> str | None:
        return _class_behavior(cls, portable=True, allow_bytecode=self.allow_bytecode)


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
    portable: bool = False,
    allow_bytecode: bool = False,
) -> str:
    """Combine data values and behavior objects, in order, into one token.

    ``data`` and ``behavior`` are lists or tuples (one value is ``data=[value]``): anything
    else raises TypeError, since iterating it would key on its parts (a DataFrame's column
    names, a dict's keys, a string's characters) instead of on the value. Behavior objects
    whose token is None (nothing to hash) are skipped, like ccflow's ``compute_cache_token``.
    ``portable`` and ``allow_bytecode`` apply to both kinds (see :func:`data_token`).
    """
    for argument, given in (("data", data), ("behavior", behavior)):
        if not isinstance(given, (list, tuple)):
            raise TypeError(
                f"cache_token({argument}=...) takes a list or tuple of values, got "
                f"{_type_name(given)}; for one value pass {argument}=[value]"
            )
    tokens = [data_token(v, portable=portable, allow_bytecode=allow_bytecode) for v in data]
    for obj in behavior:
        token = behavior_token(obj, portable=portable, allow_bytecode=allow_bytecode)
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
    opts = _pipeline.make_options(**options)
    if isinstance(packages, str):
        raise TypeError("packages must be a sequence of package names, not a str")
    if opts.static:
        raise OptionError.static_mode("snapshot", LiveCode.SNAPSHOT)
    return _pipeline.snapshot_packages(
        packages, opts, jobs=jobs, progress=progress, include_tests=include_tests
    )


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
        _diff.diff_snapshots(old, new, targets=targets),
        pythons=(old.python, new.python),
        left_out=tuple(left_out),
    )


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
    opts = _pipeline.make_options(**options)
    if opts.static:
        raise OptionError.static_mode("behavior_tokens")

    def token(
        target: _targets.Target,
        graph: DependencyGraph,
        session: _pipeline.Session,
        progress: Progress | None,
    ) -> str | None:
        return _pipeline.finish(target, graph, session, progress).token

    return tuple(_pipeline.for_each_target(targets, opts, progress, token, edges=False))


def dependency_lists(
    targets: Sequence[object], *, progress: Progress | None = None, **options: Any
) -> tuple[tuple[str, ...], ...]:
    """For each target, in the order given, what :func:`dependencies` gives for it alone,
    from one analysis of all of them (as :func:`behavior_tokens`)."""
    if isinstance(targets, str):
        raise TypeError("targets must be a sequence of targets, not a str")
    opts = _pipeline.make_options(**options)

    def names(
        target: _targets.Target,
        graph: DependencyGraph,
        session: _pipeline.Session,
        progress: Progress | None,
    ) -> tuple[str, ...]:
        _pipeline.refuse_unresolved(target.spec, graph, opts)
        return _pipeline.dependency_names(graph)

    return tuple(_pipeline.for_each_target(targets, opts, progress, names, edges=False))


def graph_with_tokens(
    obj: object, *, tokens: bool = True, progress: Progress | None = None, **options: Any
) -> tuple[DependencyGraph, dict[str, str | None]]:
    """The dependency graph of ``obj`` (as :func:`dependency_graph`) and, from the same
    analysis, each node's own token with the target's behavior token under its own name (as
    :func:`explain` computes them). No tokens (an empty mapping) when ``tokens`` is false, in
    static mode, or for a package graph, which has no target to hash."""
    opts = _pipeline.make_options(**options)
    with _targets.target_environment(obj, prepare=_pipeline.prepare_steps):
        target = _targets.load_target(obj, static=opts.static)
        if not tokens or opts.static or target.is_module:
            return _pipeline.dependency_graph_loaded(obj, opts, progress), {}
        analysis = _pipeline.analyze(obj, opts, progress, provenance=True, entered=True)
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
    ``(done, total)``: as :attr:`Stage.SNAPSHOT`; none without ``progress``."""
    if progress is None:
        return {}
    report = progress

    def counted(done: int, total: int) -> None:
        report(Stage.SNAPSHOT.value, done, total)

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
        _pipeline.make_options(**options)  # the same checks as everywhere; nothing here uses them
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
