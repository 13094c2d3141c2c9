"""The summary pass itself: parse a module with libcst (Python's own parser as the guard
against nesting that would overflow libcst's), walk it once (``_walk``) and give the
:class:`~astoken._model.ModuleSummary`; the guarantees are the package's (``astoken._summary``).
Loaded on first use of one of its functions, so that a process that only reads cached
summaries never imports libcst."""

from __future__ import annotations

import ast
import os
import re
import subprocess
import sys
import unicodedata

import libcst as cst

from astoken._model import FunctionSource, ModuleSummary
from astoken.errors import SourceSyntaxError, SourceTooDeepError

from ._canonical import SNIPPET_HEADER, function_sources, snippet_digest
from ._codec import summary_from_json
from ._lines import node_lines
from ._walk import walk_module

__all__ = [
    "function_digest",
    "summarize_source",
    "summarize_with_sources",
]


# Python's parser refuses nesting this deep (brackets: 200; operators and blocks: a few
# thousand); libcst's native parser, given the same source, can overflow its stack and take the
# whole process down, so such a source never reaches it.
_TOO_DEEP_MESSAGES = ("too many nested", "too complex", "too many levels", "too deeply nested")
_MAX_BRACKET_DEPTH = 200
_OPENERS = frozenset(b"([{")
_CLOSERS = frozenset(b")]}")


def _python_verdict(source: str | bytes, filename: str) -> tuple[SourceSyntaxError, bool] | None:
    """Python's own parser on the source: None when it parses, else the error it gives (with
    the line and message an import would show) and whether it is about nesting depth. About 8%
    of a libcst parse."""
    try:
        compile(source, filename, "exec", ast.PyCF_ONLY_AST, dont_inherit=True)
    except SyntaxError as exc:
        message = (exc.msg or "invalid syntax").splitlines()[0]
        deep = any(marker in message for marker in _TOO_DEEP_MESSAGES)
        return SourceSyntaxError(file=filename, line=exc.lineno or 1, message=message), deep
    except (RecursionError, MemoryError):
        error = SourceSyntaxError(file=filename, line=1, message="too deeply nested for Python")
        return error, True
    except ValueError as exc:  # null bytes; UnicodeDecodeError for a bad encoding
        return SourceSyntaxError(file=filename, line=1, message=str(exc)), False
    return None


def _bracket_depth(source: str | bytes) -> int:
    """An estimate of the deepest bracket nesting (brackets in strings and comments count)."""
    data = source.encode("utf-8", "surrogatepass") if isinstance(source, str) else source
    depth = deepest = 0
    for byte in data:
        if byte in _OPENERS:
            depth += 1
            deepest = max(deepest, depth)
        elif byte in _CLOSERS:
            depth = max(depth - 1, 0)
    return deepest


def _parse(source: str | bytes, filename: str) -> tuple[cst.Module, bool]:
    """The tree, and whether Python's parser accepted the source too."""
    verdict = _python_verdict(source, filename)
    if verdict is not None:
        error, deep = verdict
        # A source Python rejects for another reason may still be one libcst reads (a string
        # escape Python refuses, say), unless it is deep enough to endanger libcst's parser.
        if deep or _bracket_depth(source) > _MAX_BRACKET_DEPTH:
            raise error
    try:
        return cst.parse_module(source), verdict is None
    except cst.ParserSyntaxError as exc:
        if verdict is not None:
            raise verdict[0] from exc  # Python's line and message: what an import would show
        # Python accepted it: a construct libcst does not know (yet).
        message = (str(exc.message).strip() or "invalid syntax").splitlines()[0]
        raise SourceSyntaxError(file=filename, line=exc.raw_line, message=message) from exc
    except (UnicodeDecodeError, LookupError, SyntaxError) as exc:  # bad encoding or cookie
        if verdict is not None:
            raise verdict[0] from exc
        raise SourceSyntaxError(file=filename, line=1, message=str(exc)) from exc


class _FoldIdentifiers(cst.CSTTransformer):
    """Every identifier NFKC-normalised, as Python's compiler reads it (PEP 3131): ``µ``
    (micro sign) and ``μ`` (Greek mu) are one name at run time, and a fullwidth letter is its
    ASCII one. Names, attributes, definitions, parameters and import names are all ``Name``
    nodes; string literals are not, and keep their characters (``getattr(x, "µ")`` does not
    fold either at run time)."""

    def leave_Name(self, original_node: cst.Name, updated_node: cst.Name) -> cst.Name:
        value = updated_node.value
        if value.isascii() or unicodedata.is_normalized("NFKC", value):
            return updated_node
        return updated_node.with_changes(value=unicodedata.normalize("NFKC", value))


# A run of characters that identifiers are made of (ASCII letters, digits and ``_``, and every
# non-ASCII character), at least one of them non-ASCII.
_NON_ASCII_WORDS = re.compile(r"[0-9A-Z_a-z]*[^\x00-\x7f][0-9A-Z_a-z\x80-\U0010ffff]*")


def _may_fold(source: str | bytes, module: cst.Module, python_accepts: bool) -> bool:
    """Whether an identifier of ``module`` may change under NFKC (whether the tree needs
    :class:`_FoldIdentifiers`, which rebuilds all of it, in about the time of a parse; 88 of
    networkx's 580 files hold non-ASCII characters, none of them in an identifier).

    In a source Python accepts, a non-ASCII character outside strings and comments is part of
    an identifier, and an identifier is bounded by ASCII characters that are not letters,
    digits or ``_``: each identifier holding a non-ASCII character is a whole run matched by
    ``_NON_ASCII_WORDS``, so it folds only if one of those runs is not in NFKC and is an
    identifier in NFKC (Python checks an identifier's NFKC form). Runs in strings and comments
    can only say yes needlessly; any doubt (a source only libcst accepts, bytes in an encoding
    that does not decode) says yes."""
    if source.isascii():
        return False
    if not python_accepts:
        return True
    if isinstance(source, bytes):
        try:
            text = source.decode(module.encoding)
        except (LookupError, UnicodeDecodeError):
            return True
    else:
        text = source
    return any(
        not unicodedata.is_normalized("NFKC", run)
        # What is no identifier once folded is no identifier: Python refuses it in code.
        and unicodedata.normalize("NFKC", run).isidentifier()
        for run in _NON_ASCII_WORDS.findall(text)
    )


def _tree(source: str | bytes, filename: str) -> tuple[cst.Module, dict[int, int]]:
    module, python_accepts = _parse(source, filename)
    if _may_fold(source, module, python_accepts):
        module = module.visit(_FoldIdentifiers())
    return module, node_lines(module)


def _walk(source: str | bytes, filename: str) -> ModuleSummary:
    module, lines = _tree(source, filename)
    return walk_module(module, lines)


# The child that walks a module too deep for the caller's stack: a process of its own, so that
# raising the recursion limit there changes nothing for the caller (or its other threads).
_DEEP_CHILD = """
import sys, threading
sys.path.insert(0, sys.argv[1])
from astoken._summary import _codec, _pass
source = sys.stdin.buffer.read()
out = {}
def work():
    try:
        out["json"] = _codec.summary_to_json(_pass._walk(source, sys.argv[2]))
    except BaseException as exc:
        out["error"] = type(exc).__name__ + ": " + str(exc)
sys.setrecursionlimit(400_000)
try:
    threading.stack_size(1 << 30)
except (ValueError, RuntimeError):
    threading.stack_size(1 << 27)
worker = threading.Thread(target=work)
worker.start()
worker.join()
if "json" in out:
    sys.stdout.write(out["json"])
else:
    sys.stderr.write(out.get("error", "no result"))
    sys.exit(1)
"""


def _walk_in_child(source: str | bytes, filename: str) -> ModuleSummary:
    data = source.encode("utf-8", "surrogatepass") if isinstance(source, str) else source
    # The directory holding the astoken package (this file is astoken/_summary/__init__.py).
    package_parent = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    try:
        done = subprocess.run(
            [sys.executable, "-I", "-c", _DEEP_CHILD, package_parent, filename],
            input=data,
            capture_output=True,
            check=False,
        )
    except OSError as exc:
        raise SourceTooDeepError(filename, f"cannot start {sys.executable}: {exc}") from exc
    if done.returncode != 0:
        detail = done.stderr.decode("utf-8", "replace").strip().splitlines()
        raise SourceTooDeepError(filename, detail[-1] if detail else f"exit {done.returncode}")
    try:
        return summary_from_json(done.stdout.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise SourceTooDeepError(filename, f"unreadable result: {exc}") from exc


def summarize_source(source: str | bytes, *, filename: str = "<unknown>") -> ModuleSummary:
    """Summarise one module's source (see the package docstring for what is recorded).

    Raises :class:`~astoken.errors.SourceSyntaxError` when the source does not parse (Python's
    parser decides, then libcst's). Thread-safe, and no process-wide state is changed: a module
    nested deeper than the calling thread's recursion limit allows (a few hundred ``elif``
    branches or operands) is walked again in a child process with a large stack, giving the
    same summary; :class:`~astoken.errors.SourceTooDeepError` if even that fails.
    """
    try:
        return _walk(source, filename)
    except RecursionError:
        pass  # the stack is unwound here: start the child with room to spare
    return _walk_in_child(source, filename)


def summarize_with_sources(
    source: str | bytes, *, filename: str = "<unknown>", summary: bool = True
) -> tuple[ModuleSummary | None, tuple[FunctionSource, ...] | None]:
    """The summary (unless ``summary`` is false) and the canonical source digest of every
    function of one module (``astoken._summary._canonical``; what a portable token hashes),
    from one parse. The digests are None for a module nested too deep for the calling
    thread's stack (its functions then have no source to a portable token); errors as
    :func:`summarize_source`."""
    try:
        module, lines = _tree(source, filename)
        found = walk_module(module, lines) if summary else None
    except RecursionError:
        return (summarize_source(source, filename=filename) if summary else None), None
    try:
        return found, function_sources(module, lines)
    except RecursionError:
        return found, None


def function_digest(lines: str, name: str) -> str | None:
    """The canonical source digest of function ``name`` from its own ``lines`` (decorators
    first, at its indentation in its file): what :func:`summarize_with_sources` gives that
    function, when it reads no variable of an enclosing function, without parsing the rest
    of the file.
    None when the lines hold no complete ``def name`` (cut too short) or do not parse."""
    source = SNIPPET_HEADER + lines if lines[:1] in (" ", "\t") else lines
    try:
        # Identifiers are folded name by name by the digest (rebuilding the tree with
        # _FoldIdentifiers costs more than the parse).
        return snippet_digest(cst.parse_module(source), unicodedata.normalize("NFKC", name))
    except (cst.ParserSyntaxError, RecursionError, SyntaxError, ValueError):
        return None
