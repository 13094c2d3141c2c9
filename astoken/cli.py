"""The ``astoken`` command line: parse, call one API function, render, return an exit code.

Commands: ``token``, ``explain``, ``deps``, ``graph``, ``snapshot``, ``diff``, ``stamp``
(``astoken COMMAND --help`` for each). Results go to stdout (or to ``-o FILE``, written
atomically and only after success); diagnostics go to stderr as one line
``astoken: error: <message>``; ``--debug`` adds the traceback.

Exit codes (:class:`ExitCode`):

====  ==================  ============================================================
code  name                meaning
====  ==================  ============================================================
0     OK                  success; ``diff``: no target changed, appeared or disappeared
1     CHANGED             ``diff`` only: some target changed, was added or was removed
2     USAGE               bad command line (unknown option, missing argument, an option
                          the command cannot honour such as ``--static`` on ``token``)
3     TARGET_NOT_FOUND    module, file, path or attribute of a target does not exist
4     NOT_A_TARGET        target is not a function, method or class, or has nothing to
                          hash (a class with only data attributes)
5     SOURCE_SYNTAX       a first-party source file does not parse
6     UNHASHABLE_VALUE    a value reached by the target has no deterministic encoding, or
                          is nested too deeply to encode
7     STRICT_UNRESOLVED   ``--strict`` and some references could not be resolved
8     BAD_SNAPSHOT        a snapshot file is unreadable, malformed or of another version
9     GRAPHVIZ_MISSING    ``--format svg|png`` without Graphviz's ``dot`` on PATH
10    IO_ERROR            an output file or directory cannot be written or read (also a
                          closed standard output)
11    ERROR               any other astoken error (e.g. a cycle of declared dependencies)
12    IMPORT_FAILED       importing a module of the target raised (any exception,
                          including ``sys.exit()`` and ``pytest.importorskip``)
13    STALE_CODE          a module runs code that is not its source file (a stale
                          ``__pycache__`` entry, or a file edited after it was imported)
14    PARTIAL             ``snapshot``/``diff``: some modules could not be imported and
                          were left out (listed on stderr); the result is incomplete
70    INTERNAL            a bug in astoken: please report it with the ``--debug`` output
130   INTERRUPTED         interrupted (Ctrl-C)
====  ==================  ============================================================
"""

from __future__ import annotations

import argparse
import enum
import os
import sys
import traceback
import warnings
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import IO, Any

from . import __version__, _api, render
from ._lockfile import dumps_snapshot, read_snapshot, write_atomic, write_snapshot
from ._model import Snapshot
from .errors import (
    AstokenError,
    AstokenWarning,
    GraphvizNotFoundError,
    ImportFailedError,
    SnapshotFormatError,
    SourceSyntaxError,
    StaleCodeError,
    StrictModeError,
    TargetError,
    TargetNotFoundError,
    TargetTypeError,
    UnhashableValueError,
    ValueTooDeepError,
)

__all__ = ["ExitCode", "build_parser", "main"]


class ExitCode(enum.IntEnum):
    """The process exit codes of ``astoken`` (see the module docstring for the table)."""

    OK = 0
    CHANGED = 1
    USAGE = 2
    TARGET_NOT_FOUND = 3
    NOT_A_TARGET = 4
    SOURCE_SYNTAX = 5
    UNHASHABLE_VALUE = 6
    STRICT_UNRESOLVED = 7
    BAD_SNAPSHOT = 8
    GRAPHVIZ_MISSING = 9
    IO_ERROR = 10
    ERROR = 11
    IMPORT_FAILED = 12
    STALE_CODE = 13
    PARTIAL = 14
    INTERNAL = 70
    INTERRUPTED = 130


_EXIT_HELP: dict[ExitCode, str] = {
    ExitCode.OK: "success; diff: nothing changed",
    ExitCode.CHANGED: "diff: some target changed, was added or removed",
    ExitCode.USAGE: "bad command line (or an option the command cannot honour)",
    ExitCode.TARGET_NOT_FOUND: "target's module, file or attribute does not exist",
    ExitCode.NOT_A_TARGET: "target is not a function/method/class, or has nothing to hash",
    ExitCode.SOURCE_SYNTAX: "a first-party source file does not parse",
    ExitCode.UNHASHABLE_VALUE: "a value has no deterministic encoding (or is too deep)",
    ExitCode.STRICT_UNRESOLVED: "--strict and some references are unresolved",
    ExitCode.BAD_SNAPSHOT: "snapshot file unreadable, malformed or of another version",
    ExitCode.GRAPHVIZ_MISSING: "--format svg/png but Graphviz 'dot' is not on PATH",
    ExitCode.IO_ERROR: "a file (or stdout) cannot be read or written",
    ExitCode.ERROR: "any other astoken error",
    ExitCode.IMPORT_FAILED: "importing a module raised (also sys.exit, pytest.skip)",
    ExitCode.STALE_CODE: "running code is not its source file (stale __pycache__?)",
    ExitCode.PARTIAL: "snapshot/diff: some modules could not be imported (left out)",
    ExitCode.INTERNAL: "internal error (a bug: report it with --debug output)",
    ExitCode.INTERRUPTED: "interrupted",
}

#: The most specific class first: the first match decides the exit code.
_ERROR_CODES: tuple[tuple[type[BaseException], ExitCode], ...] = (
    (ImportFailedError, ExitCode.IMPORT_FAILED),
    (StaleCodeError, ExitCode.STALE_CODE),
    (ValueTooDeepError, ExitCode.UNHASHABLE_VALUE),
    (TargetNotFoundError, ExitCode.TARGET_NOT_FOUND),
    (TargetTypeError, ExitCode.NOT_A_TARGET),
    (TargetError, ExitCode.TARGET_NOT_FOUND),
    (SourceSyntaxError, ExitCode.SOURCE_SYNTAX),
    (UnhashableValueError, ExitCode.UNHASHABLE_VALUE),
    (StrictModeError, ExitCode.STRICT_UNRESOLVED),
    (SnapshotFormatError, ExitCode.BAD_SNAPSHOT),
    (GraphvizNotFoundError, ExitCode.GRAPHVIZ_MISSING),
    (AstokenError, ExitCode.ERROR),
    (OSError, ExitCode.IO_ERROR),
)


class _NothingToHash(AstokenError):
    """A target whose token is None (nothing to hash) where a token must be printed."""

    def __init__(self, target: str) -> None:
        super().__init__(
            f"{target}: has nothing to hash (a class with only data attributes has no "
            "behavior token)"
        )


def _exit_code_for(exc: BaseException) -> ExitCode:
    if isinstance(exc, _NothingToHash):
        return ExitCode.NOT_A_TARGET
    for cls, code in _ERROR_CODES:
        if isinstance(exc, cls):
            return code
    return ExitCode.INTERNAL


def _error_message(exc: BaseException) -> str:
    if isinstance(exc, OSError) and not isinstance(exc, AstokenError):
        where = f"{exc.filename}: " if exc.filename else ""
        return f"{where}{exc.strerror or exc}"
    if isinstance(exc, AstokenError):
        return " ".join(str(exc).split())
    return f"internal error: {type(exc).__name__}: {exc} (rerun with --debug and report it)"


# --------------------------------------------------------------------------------------------
# Parser.
# --------------------------------------------------------------------------------------------


def _add_common(parser: argparse.ArgumentParser, *, top: bool) -> None:
    """Options accepted before and after the command name.

    On sub-commands the defaults are SUPPRESS so that an option given before the command is
    not reset by the sub-parser's default.
    """

    def default(value: object) -> object:
        return value if top else argparse.SUPPRESS

    group = parser.add_argument_group("global options")
    group.add_argument(
        "--strict",
        action="store_true",
        default=default(False),
        help="unresolved references are an error (exit 7)",
    )
    group.add_argument(
        "--static",
        action="store_true",
        default=default(False),
        help="build the graph from source only, without importing user code",
    )
    group.add_argument(
        "--include",
        action="append",
        metavar="GLOB",
        default=default([]),
        help="also treat modules matching GLOB as first-party (repeatable)",
    )
    group.add_argument(
        "--exclude",
        action="append",
        metavar="GLOB",
        default=default([]),
        help="never treat modules matching GLOB as first-party (repeatable)",
    )
    group.add_argument(
        "--no-external-versions",
        dest="external_versions",
        action="store_false",
        default=default(True),
        help="third-party leaves do not contribute their distribution version",
    )
    group.add_argument(
        "--cache-dir",
        metavar="DIR",
        default=default(None),
        help="summary cache directory (default: $ASTOKEN_CACHE_DIR or the user cache dir)",
    )
    group.add_argument(
        "--no-cache",
        dest="use_cache",
        action="store_false",
        default=default(True),
        help="do not read or write the on-disk summary cache",
    )
    group.add_argument(
        "--debug",
        action="store_true",
        default=default(False),
        help="print tracebacks of errors",
    )
    group.add_argument(
        "-q",
        "--quiet",
        dest="verbosity",
        action="store_const",
        const=-1,
        default=default(0),
        help="no warnings and no progress bar",
    )
    group.add_argument(
        "-v",
        "--verbose",
        dest="verbosity",
        action="store_const",
        const=1,
        default=default(0),
        help="also show non-astoken warnings and what was written",
    )


def _epilog() -> str:
    rows = "\n".join(
        f"  {int(code):>3}  {code.name:<18} {text}" for code, text in _EXIT_HELP.items()
    )
    return (
        "targets: pkg.module:Qual.name, pkg.module (graph, snapshot), path/to/file.py:func\n\n"
        f"exit codes:\n{rows}"
    )


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``astoken`` command."""
    formatter = argparse.RawDescriptionHelpFormatter
    parser = argparse.ArgumentParser(
        prog="astoken",
        description="Deterministic behavior tokens for Python functions and classes.",
        epilog=_epilog(),
        formatter_class=formatter,
    )
    parser.add_argument("--version", action="version", version=f"astoken {__version__}")
    _add_common(parser, top=True)
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    def command(name: str, help_text: str) -> argparse.ArgumentParser:
        sub = commands.add_parser(
            name, help=help_text, description=help_text, epilog=_epilog(), formatter_class=formatter
        )
        _add_common(sub, top=False)
        return sub

    def text_or_json(sub: argparse.ArgumentParser) -> None:
        sub.add_argument("--format", choices=[f.value for f in render.OutputFormat], default="text")

    sub = command("token", "print the behavior token of each target, one per line")
    sub.add_argument("targets", nargs="+", metavar="TARGET")
    text_or_json(sub)

    sub = command("explain", "show a target's token, every dependency and how it was reached")
    sub.add_argument("target", metavar="TARGET")
    text_or_json(sub)

    sub = command("deps", "list the qualified names a target's token covers")
    sub.add_argument("target", metavar="TARGET")
    text_or_json(sub)

    sub = command("graph", "draw the dependency graph of a target or package")
    sub.add_argument("target", metavar="TARGET|PACKAGE")
    sub.add_argument("--format", choices=[f.value for f in render.GraphFormat], default="text")
    sub.add_argument("-o", "--output", metavar="FILE", help="write to FILE instead of stdout")
    sub.add_argument("--depth", type=_non_negative, metavar="N", help="only N edges deep")
    sub.add_argument("--modules", action="store_true", help="collapse to a module-level graph")
    sub.add_argument("--externals", action="store_true", help="show third-party and stdlib leaves")

    sub = command("snapshot", "write the tokens of every function, class and method")
    sub.add_argument("packages", nargs="+", metavar="PACKAGE_OR_PATH")
    sub.add_argument("-o", "--output", metavar="FILE", help="write to FILE instead of stdout")
    sub.add_argument("--jobs", "-j", type=_positive, default=1, metavar="N", help="processes")

    sub = command("diff", "list targets whose behavior changed between two snapshots")
    sub.add_argument("old", metavar="OLD.json")
    sub.add_argument(
        "new", nargs="?", metavar="NEW.json", help="default: a fresh snapshot of OLD's packages"
    )
    sub.add_argument("--jobs", "-j", type=_positive, default=1, metavar="N", help="processes")
    text_or_json(sub)

    sub = command("stamp", "write a target's token to FILE only when it changed (for make)")
    sub.add_argument("target", metavar="TARGET")
    sub.add_argument("-o", "--output", metavar="FILE", required=True)
    return parser


def _non_negative(text: str) -> int:
    value = int(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"{text} is negative")
    return value


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text} is not a positive number")
    return value


# --------------------------------------------------------------------------------------------
# Commands. Each calls the API, renders, and returns an exit code; errors propagate to main.
# --------------------------------------------------------------------------------------------


def _options(args: argparse.Namespace) -> dict[str, Any]:
    return {
        "strict": args.strict,
        "static": args.static,
        "include": tuple(args.include),
        "exclude": tuple(args.exclude),
        "external_versions": args.external_versions,
        "cache_dir": args.cache_dir,
        "use_cache": args.use_cache,
    }


def _emit(args: argparse.Namespace, data: str | bytes) -> None:
    """Write a result to ``-o FILE`` (atomically) or to stdout."""
    raw = data.encode("utf-8") if isinstance(data, str) else data
    output = getattr(args, "output", None)
    if output:
        write_atomic(output, raw)
        _info(args, f"wrote {output}")
    elif isinstance(data, str):
        sys.stdout.write(data)
        sys.stdout.flush()
    else:
        sys.stdout.flush()
        sys.stdout.buffer.write(raw)
        sys.stdout.buffer.flush()


def _info(args: argparse.Namespace, message: str) -> None:
    if args.verbosity > 0:
        print(f"astoken: {message}", file=sys.stderr)


def _cmd_token(args: argparse.Namespace) -> ExitCode:
    options = _options(args)
    tokens = [(spec, _api.behavior_token(spec, **options)) for spec in args.targets]
    if args.format == render.OutputFormat.TEXT.value:
        for spec, token in tokens:
            if token is None:
                raise _NothingToHash(spec)
    _emit(args, render.render_tokens(tokens, args.format))
    return ExitCode.OK


def _cmd_explain(args: argparse.Namespace) -> ExitCode:
    explanation = _api.explain(args.target, **_options(args))
    _emit(args, render.render_explanation(explanation, args.format))
    return ExitCode.OK


def _cmd_deps(args: argparse.Namespace) -> ExitCode:
    names = _api.dependencies(args.target, **_options(args))
    _emit(args, render.render_dependencies(names, args.format))
    return ExitCode.OK


def _cmd_graph(args: argparse.Namespace) -> ExitCode:
    fmt = render.GraphFormat(args.format)
    options = _options(args)
    graph = _api.dependency_graph(args.target, **options)
    if args.modules:
        graph = render.collapse_modules(graph)
    if not args.externals:
        graph = render.hide_externals(graph)
    if args.depth is not None:
        graph = render.limit_depth(graph, args.depth)
    if fmt in (render.GraphFormat.SVG, render.GraphFormat.PNG):
        _emit(args, render.render_graph_image(graph, fmt))
        return ExitCode.OK
    tokens: dict[str, str | None] = {}
    if fmt is render.GraphFormat.HTML and ":" in args.target and not (args.modules or args.static):
        # The html side panel shows each node's own token; only explain computes those.
        explanation = _api.explain(args.target, **options)
        tokens = {d.name: d.token for d in explanation.dependencies}
        tokens.setdefault(explanation.target, explanation.token)
    _emit(args, render.render_graph(graph, fmt, tokens=tokens))
    return ExitCode.OK


@contextmanager
def _progress_bar(
    args: argparse.Namespace, what: str
) -> Iterator[Callable[[int, int], None] | None]:
    """A tqdm bar on stderr when it is a terminal (and not -q); None otherwise."""
    if args.verbosity < 0 or not sys.stderr.isatty():
        yield None
        return
    from tqdm import tqdm  # noqa: PLC0415 - only interactive snapshots pay for importing it

    bar = tqdm(total=0, desc=what, unit="module", file=sys.stderr, leave=False)

    def update(done: int, total: int) -> None:
        if bar.total != total:
            bar.total = total
        bar.n = done
        bar.refresh()

    try:
        yield update
    finally:
        bar.close()


def _take_snapshot(args: argparse.Namespace, packages: Sequence[str]) -> Snapshot:
    with _progress_bar(args, "snapshot") as progress:
        extra: dict[str, Any] = {} if progress is None else {"progress": progress}
        return _api.snapshot(list(packages), jobs=args.jobs, **extra, **_options(args))


def _cmd_snapshot(args: argparse.Namespace) -> ExitCode:
    snap = _take_snapshot(args, args.packages)
    if args.output:
        write_snapshot(snap, args.output)
        _info(args, f"wrote {args.output} ({len(snap.entries)} targets)")
    else:
        sys.stdout.write(dumps_snapshot(snap))
    return ExitCode.OK


def _cmd_diff(args: argparse.Namespace) -> ExitCode:
    old = read_snapshot(args.old)
    new = read_snapshot(args.new) if args.new else _take_snapshot(args, old.packages)
    if old.python != new.python and args.verbosity >= 0:
        print(
            f"astoken: warning: the snapshots come from different interpreters "
            f"({old.python or '?'} and {new.python or '?'}): tokens may all differ",
            file=sys.stderr,
        )
    result = _api.diff(old, new)
    _emit(args, render.render_diff(result, args.format))
    return ExitCode.OK if result.is_empty else ExitCode.CHANGED


def _cmd_stamp(args: argparse.Namespace) -> ExitCode:
    token = _api.behavior_token(args.target, **_options(args))
    if token is None:
        raise _NothingToHash(args.target)
    content = f"{token}\n".encode("ascii")
    try:
        with open(args.output, "rb") as handle:
            current: bytes | None = handle.read()
    except FileNotFoundError:
        current = None
    if current == content:
        # Leaving the file (and its mtime) alone is the point: make sees nothing new.
        _info(args, f"{args.output} is up to date")
        return ExitCode.OK
    write_atomic(args.output, content)
    _info(args, f"updated {args.output}")
    return ExitCode.OK


_COMMANDS: dict[str, Callable[[argparse.Namespace], ExitCode]] = {
    "token": _cmd_token,
    "explain": _cmd_explain,
    "deps": _cmd_deps,
    "graph": _cmd_graph,
    "snapshot": _cmd_snapshot,
    "diff": _cmd_diff,
    "stamp": _cmd_stamp,
}


# --------------------------------------------------------------------------------------------
# Entry point.
# --------------------------------------------------------------------------------------------


def _report_warnings(
    caught: Sequence[warnings.WarningMessage], verbosity: int, err: IO[str]
) -> None:
    if verbosity < 0:
        return
    seen: set[str] = set()
    for item in caught:
        is_ours = isinstance(item.message, AstokenWarning)
        if not is_ours and verbosity < 1:
            continue
        text = " ".join(str(item.message).split())
        if text not in seen:
            seen.add(text)
            err.write(f"astoken: warning: {text}\n")


def _put_cwd_on_path() -> None:
    """Make ``astoken token pkg.mod:f`` find ``pkg`` in the current directory, as
    ``python -m`` does (a console script's ``sys.path`` starts at its own directory)."""
    cwd = os.getcwd()
    if "" not in sys.path and cwd not in sys.path:
        sys.path.insert(0, cwd)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``astoken`` command line with ``argv`` (default ``sys.argv[1:]``).

    Returns an :class:`ExitCode`; never raises except ``SystemExit`` from ``--help``/
    ``--version`` (code 0) and from usage errors (code 2), as argparse does.
    """
    parser = build_parser()
    args = parser.parse_args(argv)
    _put_cwd_on_path()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            code = _COMMANDS[args.command](args)
        except KeyboardInterrupt:
            print("astoken: interrupted", file=sys.stderr)
            return ExitCode.INTERRUPTED
        except Exception as exc:
            code = _exit_code_for(exc)
            if args.debug:
                traceback.print_exception(type(exc), exc, exc.__traceback__, file=sys.stderr)
            # Warnings are left out on error: the diagnostic stays one line (the strict-mode
            # error already lists the unresolved references).
            print(f"astoken: error: {_error_message(exc)}", file=sys.stderr)
            return code
    _report_warnings(caught, args.verbosity, sys.stderr)
    return code


if __name__ == "__main__":  # pragma: no cover - `python -m astoken.cli`
    sys.exit(main())
