"""Statements: the dispatch over statement types, control flow and ``match`` patterns; the
assignments, imports and definitions they hold go to their own readers."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import libcst as cst

from astoken._model import RefKind

from ._assignments import AssignmentReader
from ._definitions import DefinitionReader
from ._expressions import ExpressionReader
from ._reader import Reader, WalkParts
from ._scopes import UNKNOWN, Sym
from ._syntax import dotted, generic_fields


class StatementReader(Reader):
    """Reads statements, handing each kind to the reader that owns it."""

    def __init__(
        self, parts: WalkParts, *, expressions: ExpressionReader, assignments: AssignmentReader
    ) -> None:
        super().__init__(parts)
        self.expressions = expressions
        self.assignments = assignments
        definitions = DefinitionReader(parts, expressions=expressions, read_body=self.stmt)
        self.dispatch: dict[type[cst.CSTNode], Callable[[Any], None]] = {
            cst.SimpleStatementLine: self.simple_line,
            cst.SimpleStatementSuite: self.simple_line,
            cst.IndentedBlock: self.block,
            cst.FunctionDef: definitions.function,
            cst.ClassDef: definitions.class_,
            cst.If: self.if_,
            cst.Else: self.block,
            cst.Finally: self.block,
            cst.For: self.for_,
            cst.While: self.while_,
            cst.Try: self.try_,
            cst.TryStar: self.try_,
            cst.With: self.with_,
            cst.Expr: self.expression,
            cst.Assign: assignments.assign,
            cst.AnnAssign: assignments.annotated,
            cst.AugAssign: assignments.augmented,
            cst.Del: self.del_,
            cst.Return: self.return_,
            cst.Raise: self.raise_,
            cst.Import: self.names.import_,
            cst.ImportFrom: self.names.import_from,
            cst.Global: self.global_,
            cst.Nonlocal: self.nonlocal_,
            cst.Pass: _skip,
            cst.Break: _skip,
            cst.Continue: _skip,
        }

    def stmt(self, node: cst.CSTNode) -> None:
        """Read one statement (or block)."""
        handler = self.dispatch.get(type(node))
        if handler is not None:
            handler(node)
        elif isinstance(node, cst.Match):
            self.match(node)
        else:
            self.generic(node)

    def generic(self, node: cst.CSTNode) -> None:
        """Statements without a handler (raise, assert, type aliases...)."""
        expr = self.expressions.expr
        if isinstance(node, cst.Assert):
            expr(node.test)
            self.refs.truth(node.test, self.ctx.line(node))
            expr(node.msg)
            return
        for name in generic_fields(type(node)):
            value = getattr(node, name)
            if isinstance(value, cst.BaseSuite):
                self.stmt(value)
            elif isinstance(value, cst.CSTNode):
                expr(value)
            elif isinstance(value, (tuple, list)):
                for item in value:
                    if isinstance(item, (cst.BaseStatement, cst.BaseSmallStatement)):
                        self.stmt(item)
                    elif isinstance(item, cst.CSTNode):
                        expr(item)

    def block(self, node: cst.IndentedBlock | cst.Else | cst.Finally) -> None:
        body = node.body
        if isinstance(body, cst.BaseSuite):
            self.stmt(body)
            return
        for statement in body:
            self.stmt(statement)

    def simple_line(self, node: cst.SimpleStatementLine | cst.SimpleStatementSuite) -> None:
        for statement in node.body:
            self.stmt(statement)

    def expression(self, node: cst.Expr) -> None:
        ctx = self.ctx
        value = node.value
        if ctx.scope is None and ctx.cls is None and ctx.sink is ctx.module_sink:
            self.names.all_call(value)
            if isinstance(value, cst.Call) and isinstance(value.func, cst.Attribute):
                # ``HANDLERS.append(f)``: module code that changes constant HANDLERS.
                with self.assignments.mutating(value.func.value):
                    self.expressions.expr(value)
                return
        self.expressions.expr(value)

    def return_(self, node: cst.Return) -> None:
        self.expressions.expr(node.value)
        if node.value is not None and self.ctx.scope is not None:
            self.ctx.sink.returns.extend(self.origins.origin_of(node.value))

    def raise_(self, node: cst.Raise) -> None:
        exc = node.exc
        parts = dotted(exc) if exc is not None else None
        if parts is not None and self.ctx.mode is None:
            assert exc is not None
            self.refs.chain(parts, self.ctx.line(exc), called=False, raised=True)
        else:
            self.expressions.expr(exc)
        if node.cause is not None:
            self.expressions.expr(node.cause.item)

    def if_(self, node: cst.If) -> None:
        self.expressions.expr(node.test)
        self.refs.truth(node.test, self.ctx.line(node.test))
        self.stmt(node.body)
        if node.orelse is not None:
            self.stmt(node.orelse)

    def while_(self, node: cst.While) -> None:
        self.expressions.expr(node.test)
        self.refs.truth(node.test, self.ctx.line(node.test))
        self.stmt(node.body)
        if node.orelse is not None:
            self.stmt(node.orelse)

    def for_(self, node: cst.For) -> None:
        self.expressions.expr(node.iter)
        asynchronous = node.asynchronous is not None
        self.refs.iteration(node.iter, asynchronous=asynchronous, line=self.ctx.line(node.iter))
        origins = (
            (UNKNOWN,)
            if asynchronous
            else tuple(o.then("*") for o in self.origins.origin_of(node.iter))
        )
        self.expressions.target(node.target, origins)
        self.stmt(node.body)
        if node.orelse is not None:
            self.stmt(node.orelse)

    def try_(self, node: cst.Try | cst.TryStar) -> None:
        ctx = self.ctx
        self.stmt(node.body)
        for handler in node.handlers:
            # ``except C`` only compares types: no code of C runs (like ``isinstance``).
            with ctx.using(mode=RefKind.ANNOTATION):
                self.expressions.expr(handler.type)
            if handler.name is not None:
                self.expressions.target(handler.name.name, _exception_origins(handler.type))
            with ctx.flag(in_handler=True):
                self.stmt(handler.body)
        if node.orelse is not None:
            self.stmt(node.orelse)
        if node.finalbody is not None:
            self.stmt(node.finalbody)

    def with_(self, node: cst.With) -> None:
        asynchronous = bool(node.asynchronous)
        names = ("__aenter__", "__aexit__") if asynchronous else ("__enter__", "__exit__")
        for item in node.items:
            self.expressions.expr(item.item)
            self.refs.protocol(item.item, names, self.ctx.line(item))
            if item.asname is not None:
                origins = (
                    (UNKNOWN,)
                    if asynchronous
                    else tuple(
                        o.then(".__enter__", "()") for o in self.origins.origin_of(item.item)
                    )
                )
                self.expressions.target(item.asname.name, origins)
        self.stmt(node.body)

    def match(self, node: cst.Match) -> None:
        self.expressions.expr(node.subject)
        for case in node.cases:
            self.pattern(case.pattern)
            self.expressions.expr(case.guard)
            self.stmt(case.body)

    def pattern(self, node: cst.CSTNode) -> None:
        expr = self.expressions.expr
        bind = self.scopes.bind
        if isinstance(node, cst.MatchAs):
            if node.pattern is not None:
                self.pattern(node.pattern)
            if node.name is not None:
                bind(node.name.value)
        elif isinstance(node, cst.MatchStar):
            if node.name is not None:
                bind(node.name.value)
        elif isinstance(node, cst.MatchMapping):
            for element in node.elements:
                expr(element.key)
                self.pattern(element.pattern)
            if node.rest is not None:
                bind(node.rest.value)
        elif isinstance(node, cst.MatchClass):
            expr(node.cls)
            for pattern in node.patterns:
                self.pattern(pattern.value)
            for keyword in node.kwds:
                self.pattern(keyword.pattern)
        elif isinstance(node, cst.MatchValue):
            expr(node.value)
        elif isinstance(node, (cst.MatchSequence, cst.MatchList, cst.MatchTuple)):
            for item in node.patterns:
                self.pattern(item.value if isinstance(item, cst.MatchSequenceElement) else item)
        elif isinstance(node, cst.MatchOr):
            for alternative in node.patterns:
                self.pattern(alternative.pattern)
        elif isinstance(node, cst.CSTNode):
            expr(node)

    def global_(self, node: cst.Global) -> None:
        self.scopes.declare_global([item.name.value for item in node.names])

    def nonlocal_(self, node: cst.Nonlocal) -> None:
        self.scopes.declare_nonlocal([item.name.value for item in node.names])

    def del_(self, node: cst.Del) -> None:
        self.expressions.target(node.target, delete=True)


def _skip(node: cst.CSTNode) -> None:
    """``pass``, ``break``, ``continue``: nothing to read."""


def _exception_origins(node: cst.CSTNode | None) -> tuple[Sym, ...]:
    """``except E as e`` / ``except (E, F) as e``: an instance of one of the named types."""
    items = node.elements if isinstance(node, cst.Tuple) else [node] if node else []
    found: list[Sym] = []
    for item in items:
        value = item.value if isinstance(item, cst.Element) else item
        parts = dotted(value) if isinstance(value, cst.CSTNode) else None
        found.append(Sym(f"T:{'.'.join(parts)}") if parts else UNKNOWN)
    return tuple(found) or (UNKNOWN,)
