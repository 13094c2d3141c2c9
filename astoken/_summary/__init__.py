"""Summary pass: one libcst walk over a module -> :class:`~astoken._model.ModuleSummary`.

This package is the only place that imports libcst. It records, for every definition of a
module, the references its code makes, as written (names are resolved later by the graph
step), and the *origins* of values (see ``astoken._model``, "Origins"): what functions return
(and generators yield), what methods assign to ``self``, and the receiver of every method
call, attribute read and protocol. One concern per module: ``_pass`` (the entry points: parse,
guard, walk; loaded on first use, so that reading a cached summary with ``_codec`` never
imports libcst), ``_lines`` (line numbers), ``_tables`` (vocabularies), ``_syntax`` (pure
readings of nodes), ``_scopes`` (scopes, symbolic origins, pending references and their
resolution), ``_volatile`` (constants computed from process state), and the walk:

- ``_walk``: wires the readers below over one :class:`~._context.WalkContext` (the module's
  lines, where the walk is, what it has collected) and builds the summary from what they
  collected;
- ``_statements`` (:class:`StatementReader`): the dispatch over statements, control flow and
  ``match`` patterns, handing ``def``/``class`` to ``_definitions``, assignments to
  ``_assignments`` and imports to ``_module_names`` (which also reads ``__all__``);
- ``_expressions`` (:class:`ExpressionReader`): the dispatch over expressions and assignment
  targets;
- ``_references`` (names, chains, protocols, the builtins that stand for them), ``_origins``
  (what an expression evaluates to; records nothing) and ``_bindings`` (scopes opened and
  names bound), which the readers share, handed to each together with the context by
  ``_reader`` (:class:`~._reader.WalkParts`).

Guarantees (tests cite them by number):

1. The summary depends only on the source text: definitions in source order (a name defined
   several times -- property setters, ``if``/``else`` variants -- is one definition with its
   references merged), references in source order, de-duplicated per definition on
   ``(kind, name, receiver)`` keeping the first line.
2. Comments, docstrings and formatting change nothing but line numbers.
3. Over-approximation over omission: where the source does not say exactly what runs
   (receivers of unknown origin, operators, protocols), a reference is recorded anyway;
   what cannot be named statically is recorded as a DYNAMIC reference.
4. A name is local when the innermost function scope, or an enclosing one, binds it
   (parameters, assignments, loop/with/except targets, walrus, comprehension variables, ``del``,
   nested ``def``/``class``, ``nonlocal``), unless it is declared ``global``; names bound by an
   import inside a function are not locals (they resolve through :attr:`Definition.imports`).
   Class bodies do not create scopes for their methods.
5. :func:`summary_to_json` and :func:`summary_from_json` round-trip exactly;
   :func:`summary_from_json` raises ValueError on anything malformed.
6. Origins are flow-insensitive: a local's origins are every value assigned to it anywhere in
   its function (at most a few; more fold into "unknown"). A parameter's origins are its
   declared type (or the caller's object) plus its default; anything derived from the caller's
   object stays the caller's.
7. Functions and lambdas nested in a function are NESTED definitions with Python's qualified
   names; the enclosing definition holds a NESTED reference to each and keeps its decorators,
   defaults and annotations (evaluated where it is defined).
8. Every identifier recorded (names, attributes, definitions, parameters, import names) is
   NFKC-normalised, as Python's compiler reads it; string literals are left as written.

Performance: the tree is walked once by a hand-written dispatcher that only descends into the
fields that can hold code (libcst's own visitor rebuilds every node it leaves, which costs most
of a parse). Line numbers come from one line-counting code generation pass instead of
``PositionProvider``. Measured on networkx's 580 files, relative to ``parse_module``: the walk
0.1x, the line counting 0.25x, ``PositionProvider`` (even with ``unsafe_skip_copy``) 1.1-1.9x.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

from ._codec import summary_from_json, summary_to_json

if TYPE_CHECKING:
    from ._pass import function_digest, summarize_source, summarize_with_sources

__all__ = [
    "function_digest",
    "summarize_source",
    "summarize_with_sources",
    "summary_from_json",
    "summary_to_json",
]

_PASS = frozenset({"function_digest", "summarize_source", "summarize_with_sources"})


def __getattr__(name: str) -> object:
    """The pass's entry points, imported from ``_pass`` (and libcst) on first use. Looked up
    in ``sys.modules`` on every access, never kept here: a test suite that drops the modules
    it imported (libcst and ``_pass`` among them) gets a fresh, consistent pair next time,
    not an old ``_pass`` over a re-imported libcst."""
    if name in _PASS:
        return getattr(importlib.import_module("astoken._summary._pass"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
