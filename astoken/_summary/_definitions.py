"""Functions and classes: their definitions (or, nested in a function, NESTED definitions and
code of the enclosing one), decorators, bases and the scopes their bodies are read in."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import libcst as cst

from astoken._model import DefKind, RefKind

from ._expressions import ExpressionReader
from ._reader import Reader, WalkParts
from ._scopes import ClassContext, Sink, Sym
from ._syntax import all_params, dotted


class DefinitionReader(Reader):
    """Reads ``def`` and ``class`` statements; their bodies go back to ``read_body`` (the
    statement reader)."""

    def __init__(
        self,
        parts: WalkParts,
        *,
        expressions: ExpressionReader,
        read_body: Callable[[cst.CSTNode], None],
    ) -> None:
        super().__init__(parts)
        self.expressions = expressions
        self.read_body = read_body

    def function(self, node: cst.FunctionDef) -> None:
        ctx = self.ctx
        name = node.name.value
        line = self.def_line(node)
        if ctx.scope is not None or not ctx.at_definition_level():
            self.nested_function(node, name, line)
            return
        cls = ctx.cls
        if cls is not None:
            cls.names.add(name)
            qualname = f"{cls.qualname}.{name}"
            sink = ctx.definition(qualname, DefKind.METHOD, line)
        else:
            qualname = name
            sink = ctx.definition(name, DefKind.FUNCTION, line)
        with ctx.using(sink=sink):
            self.decorators(node.decorators, sink)
            self.expressions.parameters(node.params)
            self.return_annotation(node)
        for param in all_params(node.params):
            if param.default is not None:
                # Defaults are evaluated once, at definition: ``def main(args=sys.argv)``.
                ctx.defaults.add(qualname, param.default)
        scope = self.scopes.new_scope(node.params)
        if cls is not None:
            self.scopes.method_self(node, scope, cls)
        with ctx.using(sink=sink, scope=scope, cls=None, nested_prefix=f"{qualname}.<locals>."):
            self.read_body(node.body)
        _finish_function(sink, node)

    def nested_function(self, node: cst.FunctionDef, name: str, line: int) -> None:
        """A function nested in a function (or in a class inside one): its own NESTED
        definition; decorators, defaults and annotations belong to the enclosing code."""
        ctx = self.ctx
        self.decorators(node.decorators, Sink("", None, 0))
        self.expressions.parameters(node.params)
        self.return_annotation(node)
        scope = self.scopes.new_scope(node.params)
        if ctx.scope is None:  # not inside a function: keep it in the current definition
            self.scopes.bind(name)
            with ctx.using(scope=scope):
                self.read_body(node.body)
            return
        sink, prefix = self.scopes.nested_sink(name, line)
        if not ctx.in_local_class:
            self.scopes.bind(name, (Sym(f"N:{sink.qualname}"),))
        with (
            ctx.flag(in_local_class=False),
            ctx.using(sink=sink, scope=scope, nested_prefix=prefix),
        ):
            self.read_body(node.body)
        _finish_function(sink, node)

    def return_annotation(self, node: cst.FunctionDef) -> None:
        if node.returns is not None:
            with self.ctx.using(mode=RefKind.ANNOTATION):
                self.expressions.expr(node.returns.annotation)

    def class_(self, node: cst.ClassDef) -> None:
        ctx = self.ctx
        name = node.name.value
        line = self.def_line(node)
        if ctx.scope is not None or not ctx.at_definition_level():
            self.local_class(node, name)
            return
        outer = ctx.cls
        qualname = f"{outer.qualname}.{name}" if outer is not None else name
        if outer is not None:
            outer.names.add(name)
        sink = ctx.definition(qualname, DefKind.CLASS, line)
        with ctx.using(sink=sink):
            self.decorators(node.decorators, sink)
            for arg in node.bases:
                self.base(arg, sink)
            for arg in node.keywords:
                keyword = arg.keyword.value if arg.keyword is not None else ""
                parts = dotted(arg.value)
                if keyword == "metaclass" and parts is not None:
                    ctx.emit(
                        ctx.line(arg.value),
                        ((RefKind.METACLASS, ctx.global_name(parts), ""),),
                    )
                else:
                    self.expressions.expr(arg.value)
        with ctx.using(sink=sink, cls=ClassContext(qualname, sink)):
            self.read_body(node.body)

    def local_class(self, node: cst.ClassDef, name: str) -> None:
        """A class inside a function: its code is part of the function's; its methods are
        nested definitions (``f.<locals>.C.m``)."""
        ctx = self.ctx
        expr = self.expressions.expr
        self.decorators(node.decorators, Sink("", None, 0))
        for arg in node.bases:
            expr(arg.value)
        for arg in node.keywords:
            expr(arg.value)
        if not ctx.in_local_class:
            self.scopes.bind(name)
        with ctx.flag(in_local_class=True), ctx.using(nested_prefix=f"{ctx.nested_prefix}{name}."):
            self.read_body(node.body)

    def base(self, arg: cst.Arg, sink: Sink) -> None:
        ctx = self.ctx
        value = arg.value
        generic = value
        if isinstance(generic, cst.Subscript):
            generic = generic.value
        parts = dotted(generic)
        if parts is None or arg.star:
            self.expressions.expr(value)
            return
        name = ctx.global_name(parts)
        sink.bases.append(name)
        ctx.emit(ctx.line(value), ((RefKind.BASE_CLASS, name, ""),))
        if isinstance(value, cst.Subscript):
            for element in value.slice:
                with ctx.using(mode=RefKind.ANNOTATION):
                    self.expressions.generic(element.slice)

    def decorators(self, decorators: Sequence[cst.Decorator], sink: Sink) -> None:
        ctx = self.ctx
        expressions = self.expressions
        for decorator in decorators:
            expression = decorator.decorator
            line = ctx.line(expression)
            callee = expression.func if isinstance(expression, cst.Call) else expression
            parts = dotted(callee)
            if parts is None:
                expressions.expr(expression)
                continue
            sink.decorators.append(".".join(parts))
            if ctx.scope is None:
                ctx.emit(line, ((RefKind.DECORATOR, ctx.global_name(parts), ""),))
            else:
                with ctx.using(mode=RefKind.DECORATOR):
                    self.refs.chain(parts, line, called=False)
            if isinstance(expression, cst.Call):
                declares = parts[-1] == "depends_on"
                for arg in expression.args:
                    if declares and not arg.keyword and not arg.star:
                        expressions.declared_one(arg.value)
                    else:
                        expressions.expr(arg.value)
                if not declares:
                    # ``@factory(...)``: the object the factory returns is called with the
                    # function (and, for a wrapper object, called again on every call).
                    self.refs.on_value(RefKind.PROTOCOL, "__call__", expression, line)

    def def_line(self, node: cst.FunctionDef | cst.ClassDef) -> int:
        if node.decorators:
            return self.ctx.line(node.decorators[0].decorator)
        return self.ctx.line(node.name)


def _finish_function(sink: Sink, node: cst.FunctionDef) -> None:
    """A generator or coroutine function returns a builtin object, not its return values."""
    if sink.generator:
        sink.returns[:] = [Sym("B:generator")]
    elif node.asynchronous is not None:
        sink.returns[:] = [Sym("B:coroutine")]
