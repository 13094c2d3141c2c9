"""The ``astoken`` command line: parse, call one API function, render, return an exit code.

Commands: ``token``, ``explain``, ``deps``, ``graph``, ``snapshot``, ``diff``, ``stamp``,
``audit`` (``astoken COMMAND --help`` for each). Results go to stdout (or to ``-o FILE``, written
atomically and only after success, through a symbolic link to its target, directly into a
device or FIFO); diagnostics go to stderr as one line ``astoken: error: <message>``;
``--debug`` adds the traceback. Whatever the code under analysis prints while it is imported
goes to stderr, so stdout holds exactly the result.

Exit codes (:class:`ExitCode`):

====  ==================  ============================================================
code  name                meaning
====  ==================  ============================================================
0     OK                  success; ``diff``: no target changed, appeared or disappeared
                          (``diff --update``: the lock file was refreshed)
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
15    RECALL_BELOW        ``audit --fail-under``: the pooled recall is below the threshold
70    INTERNAL            a bug in astoken: please report it with the ``--debug`` output
130   INTERRUPTED         interrupted (Ctrl-C)
====  ==================  ============================================================
"""

from __future__ import annotations

import argparse
import contextlib
import enum
import errno
import json
import os
import signal
import sys
import traceback
import types
import warnings
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import IO, Any

from . import __version__, _api, render
from ._files import read_regular, write_atomic
from ._lockfile import dumps_snapshot, read_snapshot, write_snapshot
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
    RECALL_BELOW = 15
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
    ExitCode.RECALL_BELOW: "audit --fail-under: pooled recall below the threshold",
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
    if isinstance(exc, SystemExit):
        return ExitCode.ERROR
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
    if isinstance(exc, SystemExit):
        return f"the code under analysis called sys.exit({exc.code!r})"
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
        help="build the graph from source only, without importing user code (explain, deps, "
        "graph and diff of two files; refused by the commands that need the live code)",
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
        type=_non_empty,
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

    def include_tests(sub: argparse.ArgumentParser) -> None:
        sub.add_argument(
            "--include-tests",
            action="store_true",
            help="also snapshot test modules (test_*.py, *_test.py, tests/, conftest.py)",
        )

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
    sub.add_argument(
        "-o", "--output", metavar="FILE", type=_non_empty, help="write to FILE instead of stdout"
    )
    sub.add_argument("--depth", type=_non_negative, metavar="N", help="only N edges deep")
    sub.add_argument("--modules", action="store_true", help="collapse to a module-level graph")
    sub.add_argument("--externals", action="store_true", help="show third-party and stdlib leaves")

    sub = command("snapshot", "write the tokens of every function, class and method")
    sub.add_argument("packages", nargs="+", metavar="PACKAGE_OR_PATH")
    sub.add_argument(
        "-o", "--output", metavar="FILE", type=_non_empty, help="write to FILE instead of stdout"
    )
    sub.add_argument("--jobs", "-j", type=_positive, default=1, metavar="N", help="processes")
    include_tests(sub)

    sub = command("diff", "list targets whose behavior changed between two snapshots")
    sub.add_argument("old", metavar="OLD.json")
    sub.add_argument(
        "new", nargs="?", metavar="NEW.json", help="default: a fresh snapshot of OLD's packages"
    )
    sub.add_argument(
        "--target",
        dest="diff_targets",
        action="append",
        metavar="PATTERN",
        default=[],
        help="compare only these targets: a name, a module or package (everything in it), "
        "or a glob (repeatable)",
    )
    sub.add_argument(
        "--summary",
        action="store_true",
        help="text: end with one line of counts (changed, added, removed, unchanged)",
    )
    sub.add_argument(
        "--update",
        action="store_true",
        help="then write the fresh snapshot to OLD.json (refresh the lock file); exit 0",
    )
    sub.add_argument("--jobs", "-j", type=_positive, default=1, metavar="N", help="processes")
    include_tests(sub)
    text_or_json(sub)

    sub = command("stamp", "write a target's token to FILE only when it changed (for make)")
    sub.add_argument("target", metavar="TARGET")
    sub.add_argument("-o", "--output", metavar="FILE", type=_non_empty, required=True)

    sub = command(
        "audit",
        "run pytest and report first-party functions that ran outside each test's closure",
    )
    sub.usage = "astoken audit [OPTIONS] [--] [PYTEST_ARG ...]"
    text_or_json(sub)
    sub.add_argument(
        "-o", "--output", metavar="FILE", type=_non_empty, help="write to FILE instead of stdout"
    )
    sub.add_argument(
        "--fail-under",
        type=_recall,
        metavar="RECALL",
        help="exit 15 when the pooled recall is below RECALL (0 to 1)",
    )
    sub.add_argument(
        "--top", type=_non_negative, metavar="N", help="text: list only the N most missed"
    )
    sub.add_argument(
        "pytest_args",
        nargs=argparse.REMAINDER,
        metavar="PYTEST_ARG",
        help="arguments for pytest (after '--' when the first one starts with '-')",
    )
    return parser


def _non_empty(text: str) -> str:
    if not text:
        raise argparse.ArgumentTypeError("empty path")
    return text


def _non_negative(text: str) -> int:
    value = int(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"{text} is negative")
    return value


def _recall(text: str) -> float:
    value = float(text)
    if not 0.0 <= value <= 1.0:
        raise argparse.ArgumentTypeError(f"{text} is not between 0 and 1")
    return value


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text} is not a positive number")
    return value


# --------------------------------------------------------------------------------------------
# Commands. Each calls the API, renders, and returns an exit code; errors propagate to main.
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Streams:
    """Where one run of :func:`main` writes: ``out`` is the standard output as main found it
    (user code's prints go to stderr meanwhile); either is None when that stream is closed."""

    out: IO[str] | None
    err: IO[str] | None

    def diagnose(self, line: str) -> None:
        if self.err is not None:
            with contextlib.suppress(OSError, ValueError):
                self.err.write(line + "\n")
                self.err.flush()


def _options(args: argparse.Namespace) -> dict[str, Any]:
    """The API options of the command line over those of the target's ``[tool.astoken]``."""
    given = {
        "strict": True if args.strict else None,
        "static": args.static,
        "include": tuple(args.include),
        "exclude": tuple(args.exclude),
        "external_versions": None if args.external_versions else False,
        "cache_dir": args.cache_dir,
        "use_cache": args.use_cache,
    }
    first = getattr(args, "target", None) or next(
        iter(getattr(args, "targets", None) or getattr(args, "packages", None) or ()), None
    )
    defaults = {"strict": False, "include": (), "exclude": (), "external_versions": True}
    return {**defaults, "cache_dir": None, **_api.project_options(first, **given)}


def _emit(args: argparse.Namespace, streams: _Streams, data: str | bytes) -> None:
    """Write a result to ``-o FILE`` (atomically) or to stdout."""
    raw = data.encode("utf-8") if isinstance(data, str) else data
    output = getattr(args, "output", None)
    if output:
        write_atomic(output, raw)
        _info(args, streams, f"wrote {output}")
        return
    out = streams.out
    if out is None:
        raise OSError(errno.EBADF, "standard output is closed", "<stdout>")
    try:
        if isinstance(data, str):
            out.write(data)
            out.flush()
        else:
            out.flush()
            out.buffer.write(raw)  # type: ignore[attr-defined]
            out.buffer.flush()  # type: ignore[attr-defined]
    except (OSError, ValueError) as exc:  # a closed pipe or file descriptor
        if isinstance(exc, BrokenPipeError):
            _silence(out)
        code = getattr(exc, "errno", None) or errno.EBADF
        raise OSError(code, os.strerror(code), "<stdout>") from exc


def _silence(out: IO[str]) -> None:
    """Point a broken stdout at /dev/null, so that flushing it again at exit neither prints a
    second error nor turns the exit code into 120."""
    with contextlib.suppress(OSError, ValueError):
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, out.fileno())
        os.close(devnull)


def _info(args: argparse.Namespace, streams: _Streams, message: str) -> None:
    if args.verbosity > 0:
        streams.diagnose(f"astoken: {message}")


def _cmd_token(args: argparse.Namespace, streams: _Streams) -> ExitCode:
    options = _options(args)
    tokens = [(spec, _api.behavior_token(spec, **options)) for spec in args.targets]
    if args.format == render.OutputFormat.TEXT.value:
        for spec, token in tokens:
            if token is None:
                raise _NothingToHash(spec)
    _emit(args, streams, render.render_tokens(tokens, args.format))
    return ExitCode.OK


def _cmd_explain(args: argparse.Namespace, streams: _Streams) -> ExitCode:
    explanation = _api.explain(args.target, **_options(args))
    _emit(args, streams, render.render_explanation(explanation, args.format))
    return ExitCode.OK


def _cmd_deps(args: argparse.Namespace, streams: _Streams) -> ExitCode:
    names = _api.dependencies(args.target, **_options(args))
    _emit(args, streams, render.render_dependencies(names, args.format))
    return ExitCode.OK


def _cmd_graph(args: argparse.Namespace, streams: _Streams) -> ExitCode:
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
        _emit(args, streams, render.render_graph_image(graph, fmt))
        return ExitCode.OK
    tokens: dict[str, str | None] = {}
    if fmt is render.GraphFormat.HTML and ":" in args.target and not (args.modules or args.static):
        # The html side panel shows each node's own token; only explain computes those.
        explanation = _api.explain(args.target, **options)
        tokens = {d.name: d.token for d in explanation.dependencies}
        tokens.setdefault(explanation.target, explanation.token)
    _emit(args, streams, render.render_graph(graph, fmt, tokens=tokens))
    return ExitCode.OK


@contextmanager
def _progress_bar(
    args: argparse.Namespace, streams: _Streams, what: str
) -> Iterator[Callable[[int, int], None] | None]:
    """A tqdm bar on stderr when it is a terminal (and not -q); None otherwise."""
    err = streams.err
    if args.verbosity < 0 or err is None or not err.isatty():
        yield None
        return
    from tqdm import tqdm  # noqa: PLC0415 - only interactive snapshots pay for importing it

    bar = tqdm(total=0, desc=what, unit="module", file=err, leave=False)

    def update(done: int, total: int) -> None:
        if bar.total != total:
            bar.total = total
        bar.n = done
        bar.refresh()

    try:
        yield update
    finally:
        bar.close()


def _take_snapshot(
    args: argparse.Namespace, streams: _Streams, packages: Sequence[str]
) -> Snapshot:
    with _progress_bar(args, streams, "snapshot") as progress:
        extra: dict[str, Any] = {} if progress is None else {"progress": progress}
        if args.include_tests:
            extra["include_tests"] = True
        return _api.snapshot(list(packages), jobs=args.jobs, **extra, **_options(args))


def _report_left_out(
    args: argparse.Namespace, streams: _Streams, snap: Snapshot, which: str = ""
) -> None:
    if args.verbosity < 0:
        return
    for module, reason in snap.failed:
        streams.diagnose(f"astoken: warning: {which}snapshot left out {module}: {reason}")


def _cmd_snapshot(args: argparse.Namespace, streams: _Streams) -> ExitCode:
    snap = _take_snapshot(args, streams, args.packages)
    if args.output:
        write_snapshot(snap, args.output)
        _info(args, streams, f"wrote {args.output} ({len(snap.entries)} targets)")
    else:
        _emit(args, streams, dumps_snapshot(snap))
    _report_left_out(args, streams, snap)
    return ExitCode.PARTIAL if snap.is_partial else ExitCode.OK


def _cmd_diff(args: argparse.Namespace, streams: _Streams) -> ExitCode:
    old = read_snapshot(args.old)
    new = read_snapshot(args.new) if args.new else _take_snapshot(args, streams, old.packages)
    if old.python != new.python and args.verbosity >= 0:
        streams.diagnose(
            f"astoken: warning: the snapshots come from different interpreters "
            f"({old.python or '?'} and {new.python or '?'}): tokens may all differ"
        )
    result = _api.diff(old, new, targets=args.diff_targets)
    text = render.render_diff(result, args.format)
    if args.summary and args.format == "text":
        text += result.summary() + "\n"
    _emit(args, streams, text)
    _report_left_out(args, streams, old, "the old ")
    _report_left_out(args, streams, new, "the new " if args.new else "the fresh ")
    if args.update:
        write_snapshot(new, args.old)
        _info(args, streams, f"updated {args.old} ({len(new.entries)} targets)")
        return ExitCode.PARTIAL if new.is_partial else ExitCode.OK
    if not result.is_empty:
        return ExitCode.CHANGED
    return ExitCode.PARTIAL if old.is_partial or new.is_partial else ExitCode.OK


# A token file is 65 bytes: anything much larger is not one of ours, and is simply rewritten.
_STAMP_READ_LIMIT = 4096


def _cmd_stamp(args: argparse.Namespace, streams: _Streams) -> ExitCode:
    token = _api.behavior_token(args.target, **_options(args))
    if token is None:
        raise _NothingToHash(args.target)
    content = f"{token}\n".encode("ascii")
    try:
        # Only a regular file is compared (reading /dev/zero or a FIFO would never end).
        current = read_regular(args.output, _STAMP_READ_LIMIT)
    except FileNotFoundError:
        current = None
    if current == content:
        # Leaving the file (and its mtime) alone is the point: make sees nothing new.
        _info(args, streams, f"{args.output} is up to date")
        return ExitCode.OK
    write_atomic(args.output, content)
    _info(args, streams, f"updated {args.output}")
    return ExitCode.OK


#: pytest's exit codes (pytest.ExitCode) that mean no report can be trusted, and what to say.
_PYTEST_FAILURES = {
    2: "pytest was interrupted (collection errors or Ctrl-C)",
    3: "pytest had an internal error",
    4: "pytest was given a bad command line",
    5: "pytest collected no tests",
}


def _pytest_command(args: argparse.Namespace, report_path: str) -> list[str]:
    """The pytest run of ``astoken audit``: the plugin by module name (it is also the entry
    point's name, so an installed entry point is not registered twice), the closure options
    as plugin options, and the user's arguments last."""
    command = [sys.executable, "-m", "pytest", "-p", "astoken.pytest_plugin"]
    command += ["--astoken-audit-json", report_path, "--astoken-audit-no-summary"]
    command += [f"--astoken-audit-include={glob}" for glob in args.include]
    command += [f"--astoken-audit-exclude={glob}" for glob in args.exclude]
    if args.static:
        command.append("--astoken-audit-static")
    if not args.use_cache:
        command.append("--astoken-audit-no-cache")
    pytest_args = list(args.pytest_args)
    if pytest_args[:1] == ["--"]:
        pytest_args = pytest_args[1:]
    return command + pytest_args


def _cmd_audit(args: argparse.Namespace, streams: _Streams) -> ExitCode:
    """Run pytest with the audit plugin in a child interpreter, then render its report.

    A child rather than ``pytest.main()`` in this process: the audited run must be the run
    ``python -m pytest`` would do (its own ``sys.path``, imports, warning filters and
    interpreter state, none of which this process has touched), and a test that crashes or
    calls ``os._exit`` cannot take the report down with it. It costs one interpreter start.
    pytest's own output goes to stderr, so stdout carries only the report.
    """
    import importlib.util  # noqa: PLC0415 - audit only
    import subprocess  # noqa: PLC0415 - audit only
    import tempfile  # noqa: PLC0415 - audit only

    from ._audit_codec import report_from_dict  # noqa: PLC0415 - audit only

    if importlib.util.find_spec("pytest") is None:
        raise AstokenError(f"audit runs pytest, which is not installed for {sys.executable}")
    env = dict(os.environ)
    if args.cache_dir:
        env["ASTOKEN_CACHE_DIR"] = os.fspath(args.cache_dir)
    with tempfile.TemporaryDirectory(prefix="astoken-audit-") as tmp:
        report_path = os.path.join(tmp, "report.json")
        sys.stdout.flush()
        sys.stderr.flush()
        try:
            # pytest's output streams straight to our stderr when it is a real file...
            target: int = sys.stderr.fileno()
        except (AttributeError, OSError, ValueError):
            target = subprocess.PIPE  # ...and is copied over when it is not (captured)
        result = subprocess.run(
            _pytest_command(args, report_path),
            stdout=target,
            env=env,
            check=False,
            text=True,
        )
        if result.stdout:
            sys.stderr.write(result.stdout)
        code = result.returncode
        if code in _PYTEST_FAILURES or not os.path.exists(report_path):
            reason = _PYTEST_FAILURES.get(code, "pytest wrote no audit report")
            raise AstokenError(f"{reason} (pytest exit code {code})")
        with open(report_path, encoding="utf-8") as handle:
            report = report_from_dict(json.load(handle))
    if code != 0 and args.verbosity >= 0:
        streams.diagnose(
            f"astoken: warning: some tests failed (pytest exit code {code}); "
            "the figures cover what ran"
        )
    _emit(args, streams, render.render_audit(report, args.format, top=args.top))
    recall = report.summary.pooled_recall
    if args.fail_under is not None and recall is not None and recall < args.fail_under:
        return ExitCode.RECALL_BELOW
    return ExitCode.OK


_COMMANDS: dict[str, Callable[[argparse.Namespace, _Streams], ExitCode]] = {
    "token": _cmd_token,
    "explain": _cmd_explain,
    "deps": _cmd_deps,
    "graph": _cmd_graph,
    "snapshot": _cmd_snapshot,
    "diff": _cmd_diff,
    "stamp": _cmd_stamp,
    "audit": _cmd_audit,
}

#: Commands that need the live code, hence refuse ``--static`` (``diff`` only when it takes a
#: fresh snapshot, i.e. without NEW.json).
_NEEDS_LIVE_CODE = {
    "token": "a token hashes the running code",
    "stamp": "a stamp holds a token, which hashes the running code",
    "snapshot": "a snapshot records tokens, which hash the running code",
    "diff": "without NEW.json, diff takes a fresh snapshot, which imports the packages",
}


# --------------------------------------------------------------------------------------------
# Entry point.
# --------------------------------------------------------------------------------------------


def _report_warnings(
    caught: Sequence[warnings.WarningMessage], verbosity: int, streams: _Streams
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
            streams.diagnose(f"astoken: warning: {text}")


@contextmanager
def _cwd_on_path() -> Iterator[None]:
    """Make ``astoken token pkg.mod:f`` find ``pkg`` in the current directory, as
    ``python -m`` does (a console script's ``sys.path`` starts at its own directory); taken
    off again when the command is done."""
    cwd = os.getcwd()
    added = "" not in sys.path and cwd not in sys.path
    if added:
        sys.path.insert(0, cwd)
    try:
        yield
    finally:
        if added and cwd in sys.path:
            sys.path.remove(cwd)


class _CtrlC(KeyboardInterrupt):
    """The KeyboardInterrupt of a real SIGINT (one raised by code under analysis is not)."""


def _on_sigint(signum: int, frame: types.FrameType | None) -> None:
    raise _CtrlC


@contextmanager
def _sigint_marked() -> Iterator[bool]:
    """While the command runs, a real Ctrl-C raises :class:`_CtrlC`; yields whether it could be
    arranged (only the main thread can, and a SIGINT that was ignored stays ignored)."""
    try:
        installed = signal.getsignal(signal.SIGINT) is signal.default_int_handler
        if installed:
            signal.signal(signal.SIGINT, _on_sigint)
    except ValueError:  # not the main thread
        installed = False
    try:
        yield installed
    finally:
        if installed:
            signal.signal(signal.SIGINT, signal.default_int_handler)


def _module_raising(exc: BaseException) -> str:
    """The module whose top-level code raised ``exc`` (innermost ``<module>`` frame)."""
    name = "?"
    tb = exc.__traceback__
    while tb is not None:
        frame = tb.tb_frame
        if frame.f_code.co_name == "<module>":
            candidate = frame.f_globals.get("__name__")
            if isinstance(candidate, str):
                name = candidate
        tb = tb.tb_next
    return name


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``astoken`` command line with ``argv`` (default ``sys.argv[1:]``).

    Returns an :class:`ExitCode`; never raises except ``SystemExit`` from ``--help``/
    ``--version`` (code 0) and from usage errors (code 2), as argparse does.
    """
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command == "diff" and args.update and args.new:
        parser.error("argument --update: refreshes OLD.json from a fresh snapshot; not with NEW")
    reason = _NEEDS_LIVE_CODE.get(args.command)
    if args.static and reason and not (args.command == "diff" and args.new):
        parser.error(f"argument --static: {args.command} cannot honour it: {reason}")
    streams = _Streams(out=sys.stdout, err=sys.stderr)
    with contextlib.ExitStack() as stack:
        stack.enter_context(_cwd_on_path())
        marked = stack.enter_context(_sigint_marked())
        # User code imported from here on prints to stderr: stdout carries the result only.
        quiet = sys.stderr
        if quiet is None:
            quiet = stack.enter_context(open(os.devnull, "w", encoding="utf-8"))
        stack.enter_context(contextlib.redirect_stdout(quiet))
        caught = stack.enter_context(warnings.catch_warnings(record=True))
        warnings.simplefilter("always")
        try:
            code = _COMMANDS[args.command](args, streams)
        except KeyboardInterrupt as exc:
            if isinstance(exc, _CtrlC) or not marked:
                streams.diagnose("astoken: interrupted")
                return ExitCode.INTERRUPTED
            # Raised by the code under analysis, not by a Ctrl-C: a failed import.
            error = ImportFailedError(
                _module_raising(exc), "KeyboardInterrupt", "raised by the code, not by Ctrl-C"
            )
            error.__cause__ = exc
            return _fail(args, streams, error)
        except (Exception, SystemExit) as exc:
            return _fail(args, streams, exc)
    _report_warnings(caught, args.verbosity, streams)
    return code


def _fail(args: argparse.Namespace, streams: _Streams, exc: BaseException) -> ExitCode:
    code = _exit_code_for(exc)
    if args.debug and streams.err is not None:
        traceback.print_exception(type(exc), exc, exc.__traceback__, file=streams.err)
    # Warnings are left out on error: the diagnostic stays one line (the strict-mode
    # error already lists the unresolved references).
    streams.diagnose(f"astoken: error: {_error_message(exc)}")
    return code


if __name__ == "__main__":  # pragma: no cover - `python -m astoken.cli`
    sys.exit(main())
