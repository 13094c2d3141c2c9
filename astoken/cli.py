"""The ``astoken`` command line: parse, call one API function, render, return an exit code.

Commands: ``token``, ``explain``, ``deps``, ``graph``, ``snapshot``, ``diff``, ``stamp``,
``audit``, ``cache`` (``astoken COMMAND --help`` for each). Results go to stdout (or to
``-o FILE``, written atomically and only after success, through a symbolic link to its target,
directly into a device or FIFO); diagnostics go to stderr as one line ``astoken: error: <message>``;
``--debug`` adds the traceback. Whatever the code under analysis prints while it is imported
goes to stderr, so stdout holds exactly the result. Every path on the command line (outputs,
snapshot files, path targets, directories, ``--cache-dir``) is made absolute before any code
under analysis runs, so a module that calls ``os.chdir`` at import moves none of them.

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
8     BAD_SNAPSHOT        a snapshot file is unreadable, malformed (including a name or
                          token astoken would not write) or of another version
9     GRAPHVIZ_MISSING    ``--format svg|png`` without Graphviz's ``dot`` on PATH
10    IO_ERROR            an output file or directory cannot be written or read (also a
                          closed standard output, a result store ``cache`` cannot list or
                          clear, and a relative path given while the working directory no
                          longer exists)
11    ERROR               any other astoken error (e.g. a cycle of declared dependencies)
12    IMPORT_FAILED       importing a module of the target raised (any exception,
                          including ``sys.exit()`` and ``pytest.importorskip``)
13    STALE_CODE          a module runs code that is not its source file (a stale
                          ``__pycache__`` entry, or a file edited after it was imported)
14    PARTIAL             ``snapshot``/``diff``: some modules could not be imported and
                          were left out (listed on stderr); the result is incomplete.
                          Modules written for another platform (``rich._win32_console``
                          on Linux) are left out without it
15    RECALL_BELOW        ``audit --fail-under``: the pooled recall is below the threshold
16    NO_SOURCE           ``--portable``: a definition the token covers has no source
                          (``exec``, a REPL); ``--allow-bytecode`` hashes its bytecode
                          instead
70    INTERNAL            a bug in astoken: please report it with the ``--debug`` output
130   INTERRUPTED         interrupted (Ctrl-C) or terminated (SIGTERM); the ``--jobs``
                          workers are stopped first, and no output file is written
====  ==================  ============================================================
"""

from __future__ import annotations

import argparse
import contextlib
import enum
import errno
import json
import os
import shutil
import signal
import sys
import textwrap
import traceback
import types
import warnings
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import IO, Any

from . import __version__, _api, render
from ._files import write_atomic
from ._lockfile import dumps_snapshot, write_snapshot
from ._model import TOKEN_OPTIONS, OptionKind, is_unavailable_reason
from ._targets import canonical_spec
from .errors import (
    AstokenError,
    AstokenWarning,
    GraphvizNotFoundError,
    ImportFailedError,
    LiveCode,
    NoSourceError,
    OptionError,
    ResultStoreError,
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
    NO_SOURCE = 16
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
    ExitCode.IO_ERROR: "a file, result store, stdout or deleted working dir is unusable",
    ExitCode.ERROR: "any other astoken error",
    ExitCode.IMPORT_FAILED: "importing a module raised (also sys.exit, pytest.skip)",
    ExitCode.STALE_CODE: "running code is not its source file (stale __pycache__?)",
    ExitCode.PARTIAL: "snapshot/diff: some modules could not be imported (left out)",
    ExitCode.RECALL_BELOW: "audit --fail-under: pooled recall below the threshold",
    ExitCode.NO_SOURCE: "--portable: a definition has no source (see --allow-bytecode)",
    ExitCode.INTERNAL: "internal error (a bug: report it with --debug output)",
    ExitCode.INTERRUPTED: "interrupted (Ctrl-C) or terminated (SIGTERM)",
}

#: The most specific class first: the first match decides the exit code.
_ERROR_CODES: tuple[tuple[type[BaseException], ExitCode], ...] = (
    (ImportFailedError, ExitCode.IMPORT_FAILED),
    (StaleCodeError, ExitCode.STALE_CODE),
    (NoSourceError, ExitCode.NO_SOURCE),
    (ValueTooDeepError, ExitCode.UNHASHABLE_VALUE),
    (TargetNotFoundError, ExitCode.TARGET_NOT_FOUND),
    (TargetTypeError, ExitCode.NOT_A_TARGET),
    (TargetError, ExitCode.TARGET_NOT_FOUND),
    (SourceSyntaxError, ExitCode.SOURCE_SYNTAX),
    (UnhashableValueError, ExitCode.UNHASHABLE_VALUE),
    (StrictModeError, ExitCode.STRICT_UNRESOLVED),
    (SnapshotFormatError, ExitCode.BAD_SNAPSHOT),
    (GraphvizNotFoundError, ExitCode.GRAPHVIZ_MISSING),
    (ResultStoreError, ExitCode.IO_ERROR),
    (AstokenError, ExitCode.ERROR),
    (OSError, ExitCode.IO_ERROR),
)


def _exit_code_for(exc: BaseException) -> ExitCode:
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

    group: Any = parser.add_argument_group("global options") if top else _Hidden(parser)
    for spec in TOKEN_OPTIONS:  # the token options, as their declarations spell them
        arguments: dict[str, Any] = dict(_FLAG_ACTIONS[spec.kind])
        if spec.metavar:
            arguments["metavar"] = spec.metavar
        if spec.kind is OptionKind.PATH:
            arguments["type"] = _non_empty
        # Patterns gather into a list of the parser's own (argparse appends to its default).
        initial = [] if spec.kind is OptionKind.PATTERNS else spec.default
        group.add_argument(
            spec.flag, dest=spec.name, default=default(initial), help=spec.help, **arguments
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


#: The argparse action of a token option's flag, by its kind (a PATH takes a value, which
#: must not be empty: ``_non_empty``).
_FLAG_ACTIONS: dict[OptionKind, dict[str, str]] = {
    OptionKind.SWITCH: {"action": "store_true"},
    OptionKind.SWITCH_OFF: {"action": "store_false"},
    OptionKind.PATTERNS: {"action": "append"},
    OptionKind.PATH: {},
}

#: What the command line gives the API for a token option, by its kind: None where the flag
#: was not given, so that ``[tool.astoken]`` decides (``project_options``).
_GIVEN: dict[OptionKind, Callable[[Any], Any]] = {
    OptionKind.SWITCH: lambda value: True if value else None,
    OptionKind.SWITCH_OFF: lambda value: None if value else False,
    OptionKind.PATTERNS: tuple,
    OptionKind.PATH: lambda value: value,
}


class _Hidden:
    """Adds arguments that a sub-command accepts but its ``--help`` does not list (the global
    options, listed once by ``astoken --help``)."""

    def __init__(self, parser: argparse.ArgumentParser) -> None:
        self.parser = parser

    def add_argument(self, *names: str, **kwargs: Any) -> None:
        kwargs["help"] = argparse.SUPPRESS
        self.parser.add_argument(*names, **kwargs)


_TARGETS_HELP = (
    "targets: pkg.module:Qual.name (a function, method or class), path/to/file.py:name; "
    "graph and snapshot also take a package or module (pkg.module) or a directory"
)


def _subcommand_epilog() -> str:
    """The last lines of every sub-command's --help: where the rest is."""
    flags = [f"{spec.flag} {spec.metavar}" if spec.metavar else spec.flag for spec in TOKEN_OPTIONS]
    named = ", ".join([*flags, "--debug", "-q", "-v"])
    text = f"global options ({named}) go before or after the command;"
    codes = (
        "exit codes: 0 success, 2 usage error, 3 and up other errors ('astoken --help' lists them)"
    )
    return "\n".join([*textwrap.wrap(text, width=90, break_on_hyphens=False), codes])


_SUBCOMMAND_EPILOG = _subcommand_epilog()


def _epilog() -> str:
    rows = "\n".join(
        f"  {int(code):>3}  {code.name:<18} {text}" for code, text in _EXIT_HELP.items()
    )
    return f"{_TARGETS_HELP}\n\nexit codes:\n{rows}"


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

    def command(name: str, help_text: str, details: str = "") -> argparse.ArgumentParser:
        sub = commands.add_parser(
            name,
            help=help_text,
            description=help_text + (f"\n\n{details}" if details else ""),
            epilog=_SUBCOMMAND_EPILOG,
            formatter_class=formatter,
        )
        _add_common(sub, top=False)
        return sub

    def targets(sub: argparse.ArgumentParser, what: str, *, many: bool) -> None:
        sub.add_argument(
            "targets" if many else "target",
            nargs="+" if many else None,
            metavar="TARGET",
            help=f"{what}: pkg.module:Qual.name or path/to/file.py:name"
            + ("; several are analysed together, one result each" if many else ""),
        )

    def text_or_json(sub: argparse.ArgumentParser, text: str, json: str) -> None:
        sub.add_argument(
            "--format",
            choices=[f.value for f in render.OutputFormat],
            default="text",
            help=f"text: {text} (default); json: {json}",
        )

    def width(sub: argparse.ArgumentParser, otherwise: str) -> None:
        sub.add_argument(
            "--width",
            type=_non_negative,
            metavar="COLUMNS",
            help=f"wrap text to COLUMNS characters (default: the terminal's width; {otherwise} "
            "when writing to a file or pipe; 0: no limit)",
        )

    def output(sub: argparse.ArgumentParser) -> None:
        sub.add_argument(
            "-o",
            "--output",
            metavar="FILE",
            type=_non_empty,
            help="write to FILE (atomically, only on success) instead of stdout",
        )

    def include_tests(sub: argparse.ArgumentParser) -> None:
        sub.add_argument(
            "--include-tests",
            action="store_true",
            help="also snapshot test modules (test_*.py, *_test.py, tests/, conftest.py)",
        )

    def jobs(sub: argparse.ArgumentParser) -> None:
        sub.add_argument(
            "--jobs",
            "-j",
            type=_positive,
            default=1,
            metavar="N",
            help="parse in N processes (the result does not depend on N)",
        )

    sub = command(
        "token",
        "print the behavior token of each target, one per line",
        "One target prints exactly 64 hex digits and a newline (safe in $(...)).",
    )
    targets(sub, "what to hash", many=True)
    text_or_json(sub, "one token per line, in order", "{target: token}")

    sub = command("explain", "show a target's token, every dependency and how it was reached")
    sub.add_argument(
        "targets",
        nargs="+",
        metavar="TARGET",
        help="what to explain: pkg.module:Qual.name or path/to/file.py:name; several: one "
        "report each, in order",
    )
    text_or_json(
        sub,
        "the token, a table of dependencies, unresolved references",
        "the same as an object; several targets: {target: object}",
    )
    width(sub, f"one line a row, long paths shortened to {render.FILE_WIDTH} columns,")

    sub = command("deps", "list the qualified names each target's token covers")
    targets(sub, "whose dependencies to list", many=True)
    text_or_json(
        sub,
        "one name per line; several targets: 'TARGET: NAME NAME ...' per target",
        "a list; several targets: {target: [names]}",
    )

    sub = command(
        "graph",
        "draw the dependency graph of a target or package",
        "Large graphs: the html page starts with big modules collapsed; svg/png pictures are "
        "drawn by module\nor refused with the --depth that fits; the text tree prints each "
        "subtree once.",
    )
    sub.add_argument(
        "target",
        metavar="TARGET",
        help="pkg.module:Qual.name, path/to/file.py:name, or a package, module or directory "
        "(every definition in it)",
    )
    sub.add_argument(
        "--format",
        choices=[f.value for f in render.GraphFormat],
        default="text",
        help="text: a tree (default); json; dot (Graphviz source); mermaid; svg, png (drawn "
        "by Graphviz's dot); html (one offline page: search, filters, collapsible modules); "
        "pycg (PyCG's JSON: caller -> callees, dotted names)",
    )
    output(sub)
    sub.add_argument(
        "--depth", type=_non_negative, metavar="N", help="only N edges deep (cut nodes are marked)"
    )
    sub.add_argument(
        "--edges",
        choices=[e.value for e in render.EdgeSet],
        default="all",
        help="all: every reference a token covers (default); calls: what can run what (no "
        "membership, structure or data edges; --format pycg always draws these)",
    )
    sub.add_argument("--modules", action="store_true", help="collapse to a module-level graph")
    sub.add_argument("--externals", action="store_true", help="show third-party and stdlib leaves")
    width(sub, f"{render.FILE_WIDTH}")
    sub.add_argument(
        "--dot-timeout",
        type=_positive_seconds,
        default=render.DOT_TIMEOUT,
        metavar="SECONDS",
        help=f"svg/png: give up when dot takes longer (default {render.DOT_TIMEOUT:g})",
    )

    sub = command("snapshot", "write the tokens of every function, class and method")
    sub.add_argument(
        "packages",
        nargs="+",
        metavar="PACKAGE_OR_PATH",
        help="package or module names (pkg, pkg.module), directories or .py files",
    )
    output(sub)
    jobs(sub)
    include_tests(sub)

    sub = command("diff", "list targets whose behavior changed between two snapshots")
    sub.add_argument("old", metavar="OLD.json", help="a snapshot file (astoken snapshot -o)")
    sub.add_argument(
        "new", nargs="?", metavar="NEW.json", help="default: a fresh snapshot of OLD's packages"
    )
    jobs(sub)
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
        help="then write the new snapshot (fresh, or NEW.json) to OLD.json, refreshing the "
        "lock file; exit 0 (14 when the fresh snapshot left modules out)",
    )
    include_tests(sub)
    text_or_json(
        sub,
        "one line per changed, added or removed target",
        "{changed, added, removed, left_out, python}",
    )

    sub = command(
        "stamp",
        "write targets' tokens to files only when they changed (for make)",
        "One -o: the file holds every token, one per line in order. One -o per target: each\n"
        "target's token goes to its own file (the first -o for the first target, and so on).",
    )
    targets(sub, "what to hash", many=True)
    sub.add_argument(
        "-o",
        "--output",
        metavar="FILE",
        type=_non_empty,
        action="append",
        required=True,
        help="stamp file (repeat it: one per target)",
    )

    sub = command(
        "audit",
        "run pytest and report first-party functions that ran outside each test's closure",
    )
    sub.usage = "astoken audit [OPTIONS] [--] [PYTEST_ARG ...]"
    text_or_json(sub, "figures, missed functions and the fix for each", "the whole report")
    output(sub)
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

    sub = command(
        "cache",
        "inspect or clear a shared result store of @astoken.cache",
        "STORE is an fsspec URL (s3://bucket/prefix, gs://..., az://..., file:///dir) or a\n"
        "directory; default: $ASTOKEN_CACHE_STORE, else cache-store in [tool.astoken].",
    )
    actions = sub.add_subparsers(dest="cache_command", metavar="ACTION", required=True)
    for action, text in (
        ("info", "print the entries, bytes and oldest and newest entry of a store"),
        ("clear", "remove a store's entries (all, or those older than --older-than DAYS)"),
    ):
        nested = actions.add_parser(
            action,
            help=text,
            description=text,
            epilog=_SUBCOMMAND_EPILOG,
            formatter_class=formatter,
        )
        _add_common(nested, top=False)
        nested.add_argument("--store", metavar="URL", type=_non_empty, help="the store")
        nested.add_argument(
            "--storage-options",
            metavar="JSON",
            type=_json_object,
            default={},
            help="fsspec options of the store, a JSON object (e.g. '{\"anon\": true}')",
        )
        if action == "clear":
            nested.add_argument(
                "--older-than",
                type=_non_negative_days,
                metavar="DAYS",
                help="only entries last written more than DAYS days ago (fractions allowed)",
            )
        text_or_json(nested, "one line per figure" if action == "info" else "one line", "{...}")
    return parser


def _json_object(text: str) -> dict[str, Any]:
    try:
        value = json.loads(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"not JSON: {exc}") from None
    if not isinstance(value, dict):
        raise argparse.ArgumentTypeError("not a JSON object")
    return value


def _non_negative_days(text: str) -> float:
    value = float(text)
    if not value >= 0:
        raise argparse.ArgumentTypeError(f"{text} is not a number of days (0 or more)")
    return value


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


def _positive_seconds(text: str) -> float:
    value = float(text)
    if not value > 0:
        raise argparse.ArgumentTypeError(f"{text} is not a positive number of seconds")
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
    given = {spec.name: _GIVEN[spec.kind](getattr(args, spec.name)) for spec in TOKEN_OPTIONS}
    first = getattr(args, "target", None) or next(
        iter(getattr(args, "targets", None) or getattr(args, "packages", None) or ()), None
    )
    defaults = {spec.name: spec.default for spec in TOKEN_OPTIONS}
    return {**defaults, **_api.project_options(first, **given)}


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


#: Seconds a command runs before its progress bar appears (a quick one shows none).
_PROGRESS_DELAY = 0.5
#: What each stage of a long command counts.
_PROGRESS_UNITS = {
    _api.Stage.READING.value: " modules",
    _api.Stage.HASHING.value: " definitions",
    _api.Stage.TARGETS.value: " targets",
    _api.Stage.SNAPSHOT.value: " targets",
    "listing store": " objects",  # astoken cache
    "removing": " objects",
}


@contextmanager
def _progress_bar(args: argparse.Namespace, streams: _Streams) -> Iterator[_api.Progress | None]:
    """A tqdm bar on stderr when it is a terminal (and not -q); None otherwise. One bar for the
    whole command: each stage the API reports renames it and sets what it counts."""
    err = streams.err
    if args.verbosity < 0 or err is None or not err.isatty():
        yield None
        return
    from tqdm import tqdm  # noqa: PLC0415 - only interactive commands pay for importing it

    bar = tqdm(total=None, file=err, leave=False, delay=_PROGRESS_DELAY, dynamic_ncols=True)
    stage_now = [""]

    def update(stage: str, done: int, total: int) -> None:
        if stage != stage_now[0]:
            stage_now[0] = stage
            bar.set_description_str(stage, refresh=False)
            bar.unit = _PROGRESS_UNITS.get(stage, " steps")
            bar.n = bar.last_print_n = 0
            changed = True
        else:
            changed = False
        bar.total = total or None
        bar.update(done - bar.n)
        if changed or (total and done >= total):
            # A new stage and the last step are drawn even inside tqdm's minimum interval.
            bar.refresh()

    try:
        yield update
    finally:
        bar.close()


def _width(args: argparse.Namespace, streams: _Streams, otherwise: int | None = None) -> int | None:
    """Columns to wrap text to: ``--width`` (0: none), else the terminal's when the result goes
    to one, else ``otherwise``."""
    if args.width is not None:
        return args.width or None
    out = streams.out
    if getattr(args, "output", None) or out is None or not out.isatty():
        return otherwise
    return shutil.get_terminal_size().columns


def _cmd_token(args: argparse.Namespace, streams: _Streams) -> ExitCode:
    with _progress_bar(args, streams) as progress:
        tokens = _api.behavior_tokens(args.targets, progress=progress, **_options(args))
    pairs = list(zip(args.given_targets, tokens, strict=True))
    _emit(args, streams, render.render_tokens(pairs, args.format))
    return ExitCode.OK


def _cmd_explain(args: argparse.Namespace, streams: _Streams) -> ExitCode:
    options = _options(args)
    with _progress_bar(args, streams) as progress:
        explanations = [_api.explain(t, progress=progress, **options) for t in args.targets]
    width = _width(args, streams)
    # Not to a terminal and no --width: rows stay whole lines, their paths are shortened.
    elide_to = render.FILE_WIDTH if args.width is None and width is None else None
    pairs = list(zip(args.given_targets, explanations, strict=True))
    text = render.render_explanations(pairs, args.format, width=width, elide_to=elide_to)
    _emit(args, streams, text)
    return ExitCode.OK


def _cmd_deps(args: argparse.Namespace, streams: _Streams) -> ExitCode:
    with _progress_bar(args, streams) as progress:
        lists = _api.dependency_lists(args.targets, progress=progress, **_options(args))
    pairs = list(zip(args.given_targets, lists, strict=True))
    _emit(args, streams, render.render_dependency_lists(pairs, args.format))
    return ExitCode.OK


def _cmd_graph(args: argparse.Namespace, streams: _Streams) -> ExitCode:
    fmt = render.GraphFormat(args.format)
    with _progress_bar(args, streams) as progress:
        graph, tokens = _api.graph_with_tokens(
            args.target,
            tokens=render.shows_tokens(fmt, modules=args.modules),
            progress=progress,
            **_options(args),
        )
    picture = render.draw_graph(
        graph,
        fmt,
        tokens=tokens,
        modules=args.modules,
        externals=args.externals,
        depth=args.depth,
        width=_width(args, streams, render.FILE_WIDTH),
        timeout=args.dot_timeout,
        edges=args.edges,
    )
    _emit(args, streams, picture)
    return ExitCode.OK


def _cmd_snapshot(args: argparse.Namespace, streams: _Streams) -> ExitCode:
    extra: dict[str, Any] = {"include_tests": True} if args.include_tests else {}
    with _progress_bar(args, streams) as progress:
        snap = _api.snapshot(
            list(args.packages),
            jobs=args.jobs,
            **_api.snapshot_progress(progress),
            **extra,
            **_options(args),
        )
    if args.output:
        write_snapshot(snap, args.output)
        _info(args, streams, f"wrote {args.output} ({len(snap.entries)} targets)")
    else:
        _emit(args, streams, dumps_snapshot(snap))
    if args.verbosity >= 0:
        unavailable = set(snap.unavailable)
        for module, reason in snap.failed:
            if module not in unavailable:
                streams.diagnose(f"astoken: warning: snapshot left out {module}: {reason}")
        for note in render.unavailable_notes(snap.failed):
            streams.diagnose(f"astoken: note: {note}")
    return ExitCode.PARTIAL if snap.is_partial else ExitCode.OK


def _cmd_diff(args: argparse.Namespace, streams: _Streams) -> ExitCode:
    with _progress_bar(args, streams) as progress:
        result = _api.diff_files(
            args.old,
            args.new,
            jobs=args.jobs,
            include_tests=args.include_tests,
            targets=args.diff_targets,
            update=args.update,
            progress=progress,
            **_options(args),
        )
    if args.verbosity >= 0:
        for note in render.diff_notes(result):
            streams.diagnose(f"astoken: warning: {note}")
    text = render.render_diff(result, args.format)
    if args.summary and args.format == "text":
        text += result.summary() + "\n"
    _emit(args, streams, text)
    if args.update:
        _info(args, streams, f"updated {args.old}")
        fresh_left_out = any(
            which != "old" and not is_unavailable_reason(reason)
            for which, _module, reason in result.left_out
        )
        return ExitCode.PARTIAL if fresh_left_out else ExitCode.OK
    if not result.is_empty:
        return ExitCode.CHANGED
    return ExitCode.PARTIAL if result.is_partial else ExitCode.OK


def _cmd_stamp(args: argparse.Namespace, streams: _Streams) -> ExitCode:
    with _progress_bar(args, streams) as progress:
        written = _api.stamp(args.targets, args.output, progress=progress, **_options(args))
    for output, changed in zip(args.output, written, strict=True):
        _info(args, streams, f"updated {output}" if changed else f"{output} is up to date")
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

    from ._audit._codec import report_from_dict  # noqa: PLC0415 - audit only

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


def _cmd_cache(args: argparse.Namespace, streams: _Streams) -> ExitCode:
    """``astoken cache info|clear``: the figures of a shared result store, or clear it."""
    from . import _config, _resultstore  # noqa: PLC0415 - only this command uses them
    from .render import _store as render_store  # noqa: PLC0415 - only this command renders it

    url = args.store or os.environ.get(_resultstore.STORE_ENV)
    if not url:
        url = _config.find_config(_config.start_directory(None)).cache_store
    if not url:
        raise OptionError(
            "no store: give --store URL, or set $ASTOKEN_CACHE_STORE or cache-store in "
            "[tool.astoken]"
        )
    with _progress_bar(args, streams) as progress:
        if args.cache_command == "info":
            info = _resultstore.store_info(
                url, storage_options=args.storage_options, progress=progress
            )
            text = render_store.render_store_info(info, args.format)
        else:
            clearing = _resultstore.clear_store(
                url,
                older_than_days=args.older_than,
                storage_options=args.storage_options,
                progress=progress,
            )
            text = render_store.render_store_clearing(clearing, args.format)
    _emit(args, streams, text)
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
    "cache": _cmd_cache,
}

#: Commands that need the live code, hence refuse ``--static`` (``diff`` only when it takes a
#: fresh snapshot, i.e. without NEW.json).
_NEEDS_LIVE_CODE = {
    "token": LiveCode.TOKEN,
    "stamp": LiveCode.STAMP,
    "snapshot": LiveCode.SNAPSHOT,
    "diff": LiveCode.FRESH_SNAPSHOT,
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


def _working_directory() -> str | None:
    """The working directory, or None when it no longer exists (a shell can still be in a
    directory that was deleted, and ``os.getcwd()`` then fails)."""
    try:
        return os.getcwd()
    except OSError:
        return None


#: Arguments that name files or directories.
_PATH_ARGUMENTS = ("output", "old", "new", "cache_dir")
#: Arguments that are targets, which may be paths (``path/to/file.py:name``, a directory).
_TARGET_ARGUMENTS = ("target", "targets", "packages")


def _absolute(path: str, cwd: str | None) -> str:
    if os.path.isabs(path):
        return path
    if cwd is None:
        raise OSError(
            errno.ENOENT,
            "the working directory no longer exists, so this relative path names nothing "
            "(give an absolute path, or cd to a directory that exists)",
            path,
        )
    return os.path.join(cwd, path)


def _absolute_target(spec: str) -> str:
    try:
        return canonical_spec(spec)  # unchanged unless it is a path
    except OSError:  # a relative path, and the working directory no longer exists
        return _absolute(spec, None)  # raises, naming the target


def _absolute_paths(args: argparse.Namespace, cwd: str | None) -> None:
    """Make every path on the command line absolute against ``cwd``, before any code under
    analysis runs: a module that calls ``os.chdir`` at import must not move where ``-o``
    writes, which lock file ``diff --update`` refreshes or which file a later path target
    names (issue 23, item 5). ``args.given_targets`` keeps the targets as typed, for output.
    Raises ``OSError`` for a relative path when the working directory no longer exists."""
    for name in _PATH_ARGUMENTS:
        value = getattr(args, name, None)
        if isinstance(value, str):
            setattr(args, name, _absolute(value, cwd))
        elif isinstance(value, list):
            setattr(args, name, [_absolute(path, cwd) for path in value])
    for name in _TARGET_ARGUMENTS:
        value = getattr(args, name, None)
        if isinstance(value, str):
            setattr(args, name, _absolute_target(value))
        elif isinstance(value, list):
            args.given_targets = list(value)
            setattr(args, name, [_absolute_target(spec) for spec in value])


@contextmanager
def _cwd_on_path(cwd: str | None) -> Iterator[None]:
    """Make ``astoken token pkg.mod:f`` find ``pkg`` in the working directory ``cwd``, as
    ``python -m`` does (a console script's ``sys.path`` starts at its own directory); taken
    off again when the command is done. The directory goes in by its absolute name, where
    ``""`` is when that is on the path: ``""`` follows an ``os.chdir`` made at import, and
    later targets would be looked for in the other directory. No directory: nothing added."""
    added = cwd is not None and cwd not in sys.path
    if cwd is not None and added:
        sys.path.insert(sys.path.index("") if "" in sys.path else 0, cwd)
    try:
        yield
    finally:
        if cwd is not None and added and cwd in sys.path:
            sys.path.remove(cwd)


class _CtrlC(KeyboardInterrupt):
    """The KeyboardInterrupt of a real SIGINT (one raised by code under analysis is not)."""


class _Terminated(_CtrlC):
    """A SIGTERM, turned into an interrupt so that the command stops in order: worker
    processes are stopped, no partial output file is written, exit code INTERRUPTED."""


def _on_sigint(signum: int, frame: types.FrameType | None) -> None:
    raise _CtrlC


def _on_sigterm(signum: int, frame: types.FrameType | None) -> None:
    # Once: a second SIGTERM while the first is being handled ends the process at once (the
    # workers still exit with it, see astoken._workers).
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    raise _Terminated


@contextmanager
def _sigint_marked() -> Iterator[bool]:
    """While the command runs, a real Ctrl-C raises :class:`_CtrlC` and a SIGTERM
    :class:`_Terminated`; yields whether Ctrl-C could be arranged (only the main thread can,
    and a signal that was ignored or handled by the embedding program stays so)."""
    try:
        installed = signal.getsignal(signal.SIGINT) is signal.default_int_handler
        if installed:
            signal.signal(signal.SIGINT, _on_sigint)
        terminate = signal.getsignal(signal.SIGTERM) == signal.SIG_DFL
        if terminate:
            signal.signal(signal.SIGTERM, _on_sigterm)
    except ValueError:  # not the main thread
        installed = terminate = False
    try:
        yield installed
    finally:
        if installed:
            signal.signal(signal.SIGINT, signal.default_int_handler)
        if terminate:
            signal.signal(signal.SIGTERM, signal.SIG_DFL)


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
        parser.error(str(OptionError.static_mode(args.command, reason, option="--static")))
    if args.command == "stamp" and len(args.output) not in (1, len(args.targets)):
        parser.error(
            f"argument -o/--output: {len(args.targets)} targets and {len(args.output)} "
            "outputs: give one -o for all targets, or one per target"
        )
    streams = _Streams(out=sys.stdout, err=sys.stderr)
    cwd = _working_directory()
    try:
        _absolute_paths(args, cwd)
    except OSError as exc:
        return _fail(args, streams, exc)
    with contextlib.ExitStack() as stack:
        stack.enter_context(_cwd_on_path(cwd))
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
                terminated = isinstance(exc, _Terminated)
                streams.diagnose("astoken: terminated" if terminated else "astoken: interrupted")
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
