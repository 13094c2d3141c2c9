"""Expressions: the references they make, the scopes lambdas and comprehensions open, and the
names assignment targets bind. Dispatch is on the node's exact type, into one method each."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, cast

import libcst as cst

from astoken._model import RefKind

from ._reader import Reader, WalkParts
from ._scopes import UNKNOWN, Sym
from ._syntax import (
    STRING_ANNOTATION,
    all_params,
    dotted,
    generic_fields,
    is_node,
    is_super_call,
    string_value,
)
from ._tables import (
    BINARY_OPS,
    CALLS_KEY,
    CALLS_POSITIONAL,
    COMPARISONS,
    CONTAINER_STORES,
    TYPE_CHECKS,
    UNARY_OPS,
)

_CONVERSIONS = {"r": "__repr__", "s": "__str__", "a": "__repr__"}


class ExpressionReader(Reader):
    """Reads expressions and assignment targets into the walk's current definition."""

    def __init__(self, parts: WalkParts) -> None:
        super().__init__(parts)
        skip = _skip
        self.dispatch: dict[type[cst.CSTNode], Callable[[Any], None]] = {
            cst.Name: self.name,
            cst.Attribute: self.attribute,
            cst.Call: self.call,
            cst.Subscript: self.subscript,
            cst.BinaryOperation: self.binary,
            cst.UnaryOperation: self.unary,
            cst.BooleanOperation: self.boolean,
            cst.Comparison: self.comparison,
            cst.IfExp: self.ifexp,
            cst.Lambda: self.lambda_,
            cst.Await: self.await_,
            cst.NamedExpr: self.named,
            cst.ListComp: self.comprehension,
            cst.SetComp: self.comprehension,
            cst.GeneratorExp: self.comprehension,
            cst.DictComp: self.comprehension,
            cst.FormattedString: self.fstring,
            cst.StarredElement: self.starred,
            cst.Yield: self.yield_,
            cst.Integer: skip,
            cst.Float: skip,
            cst.Imaginary: skip,
            cst.SimpleString: self.string,
            cst.Ellipsis: skip,
        }

    def expr(self, node: cst.CSTNode | None) -> None:
        """Read one expression (None: nothing to read)."""
        if node is None:
            return
        handler = self.dispatch.get(type(node))
        if handler is not None:
            handler(node)
        else:
            self.generic(node)

    def generic(self, node: cst.CSTNode) -> None:
        """A node without a handler: every field that can hold code."""
        for name in generic_fields(type(node)):
            value = getattr(node, name)
            if is_node(value):
                self.expr(value)
            elif isinstance(value, (tuple, list)):
                for item in value:
                    if is_node(item):
                        self.expr(item)

    # -- names and members -------------------------------------------------------------------

    def string(self, node: cst.SimpleString) -> None:
        """A string annotation (``x: "Foo"``) names types; other strings name nothing."""
        if self.ctx.mode is RefKind.ANNOTATION:
            text = string_value(node) or ""
            line = self.ctx.line(node)
            for found in STRING_ANNOTATION.findall(text):
                self.refs.chain(found.split("."), line, called=False)

    def name(self, node: cst.Name) -> None:
        self.refs.chain([node.value], self.ctx.line(node), called=False)

    def attribute(self, node: cst.Attribute) -> None:
        parts = dotted(node)
        if parts is not None:
            self.refs.chain(parts, self.ctx.line(node), called=False)
        else:
            self.attribute_of_expression(node, called=False)

    def attribute_of_expression(self, node: cst.Attribute, *, called: bool) -> None:
        """``f().x``, ``super().x``, ``"".join``: the value, then the member."""
        ctx = self.ctx
        value = node.value
        line = ctx.line(node)
        attr = node.attr.value
        if is_super_call(value):
            assert isinstance(value, cst.Call)
            for arg in value.args:
                self.expr(arg.value)
            if ctx.mode is None:
                ctx.emit(line, ((RefKind.SUPER_ATTR, attr, ""),))
            return
        self.expr(value)
        if ctx.mode is not None:
            return
        if called:
            self.refs.on_value(RefKind.METHOD, attr, value, line)
        else:
            self.refs.on_value(RefKind.ATTRIBUTE, f".{attr}", value, line)

    def call(self, node: cst.Call) -> None:
        ctx = self.ctx
        refs = self.refs
        func = node.func
        line = ctx.line(func)  # not the call's own: that starts at its parentheses, if any
        parts = dotted(func)
        if parts is not None:
            if not (len(parts) == 1 and parts[0] == "super"):
                refs.chain(parts, line, called=True)
            if ctx.mode is None:
                refs.special_call(parts, node, line)
        elif isinstance(func, cst.Attribute):
            self.attribute_of_expression(func, called=True)
        else:
            self.expr(func)
            if not isinstance(func, cst.Lambda):
                refs.protocol(func, ("__call__",), line)
        type_check = (
            parts is not None
            and len(parts) == 1
            and parts[0] in TYPE_CHECKS
            and not (ctx.scope is not None and ctx.scope.is_local(parts[0]))
        )
        higher_order = (
            parts[0]
            if parts is not None
            and len(parts) == 1
            and ctx.mode is None
            and (parts[0] in CALLS_POSITIONAL or parts[0] in CALLS_KEY)
            and not (ctx.scope is not None and ctx.scope.is_local(parts[0]))
            else ""
        )
        for index, arg in enumerate(node.args):
            if type_check and index == 1 and not arg.keyword and not arg.star:
                # ``isinstance(x, C)`` runs none of C's code (only its metaclass's
                # ``__instancecheck__``): C is named like an annotation, not used as a value.
                with ctx.using(mode=RefKind.ANNOTATION):
                    self.expr(arg.value)
                continue
            if higher_order and _called_by(higher_order, arg):
                called = dotted(arg.value)
                if called is not None:  # ``map(f, xs)`` calls ``f`` here
                    refs.chain(called, ctx.line(arg.value), called=True)
                    continue
            self.expr(arg.value)
            if arg.star == "*":
                refs.protocol(arg.value, ("__iter__", "__next__"), line)
        if parts is not None and ctx.mode is None:
            refs.passed(parts, node, line)
            stored = CONTAINER_STORES.get(parts[-1]) if len(parts) in (2, 3) else None
            if stored is not None:  # ``NAME.append(v)``, ``cls.NAME.append(v)``: into NAME
                positional = [a.value for a in node.args if not a.keyword and not a.star]
                value = positional[stored] if len(positional) > stored else None
                assert isinstance(func, cst.Attribute)
                self.ctx.store(func.value, self.origins.origin_of(value))

    def subscript(self, node: cst.Subscript) -> None:
        self.expr(node.value)
        for element in node.slice:
            self.generic(element.slice)
        self.refs.protocol(node.value, ("__getitem__",), self.ctx.line(node))

    # -- operators ---------------------------------------------------------------------------

    def binary(self, node: cst.BinaryOperation) -> None:
        # Iterative over the left spine: long ``a + b + c + ...`` chains are common.
        spine: list[cst.BinaryOperation] = []
        left: cst.CSTNode = node
        while isinstance(left, cst.BinaryOperation):
            spine.append(left)
            left = left.left
        self.expr(left)
        for op_node in reversed(spine):
            self.expr(op_node.right)
            names = BINARY_OPS.get(type(op_node.operator))
            if names is not None:
                line = self.ctx.line(op_node)
                self.refs.protocol(op_node.left, (names[0],), line)
                self.refs.protocol(op_node.right, (names[1],), line)

    def unary(self, node: cst.UnaryOperation) -> None:
        self.expr(node.expression)
        names = UNARY_OPS.get(type(node.operator))
        if names is None:
            return
        if isinstance(node.operator, cst.Not):
            self.refs.truth(node.expression, self.ctx.line(node))
        else:
            self.refs.protocol(node.expression, names, self.ctx.line(node))

    def boolean(self, node: cst.BooleanOperation) -> None:
        operands: list[cst.CSTNode] = []
        stack: list[cst.CSTNode] = [node]
        while stack:
            item = stack.pop()
            if isinstance(item, cst.BooleanOperation):
                stack.extend((item.right, item.left))
            else:
                operands.append(item)
        line = self.ctx.line(node)
        for operand in operands:
            self.expr(operand)
            self.refs.truth(operand, line)

    def comparison(self, node: cst.Comparison) -> None:
        self.expr(node.left)
        left = node.left
        line = self.ctx.line(node)
        protocol = self.refs.protocol
        for target in node.comparisons:
            right = target.comparator
            self.expr(right)
            op = type(target.operator)
            if op in (cst.In, cst.NotIn):
                protocol(right, ("__contains__",), line)
            else:
                names = COMPARISONS.get(op)
                if names is not None:
                    protocol(left, (names[0],), line)
                    protocol(right, (names[1],), line)
            left = right

    def ifexp(self, node: cst.IfExp) -> None:
        self.expr(node.body)
        self.expr(node.test)
        self.refs.truth(node.test, self.ctx.line(node))
        self.expr(node.orelse)

    def await_(self, node: cst.Await) -> None:
        self.expr(node.expression)
        if not isinstance(node.expression, cst.Call):
            self.refs.protocol(node.expression, ("__await__",), self.ctx.line(node))

    def starred(self, node: cst.StarredElement) -> None:
        self.expr(node.value)
        self.refs.protocol(node.value, ("__iter__", "__next__"), self.ctx.line(node))

    def fstring(self, node: cst.FormattedString) -> None:
        self.fstring_parts(node.parts)

    def fstring_parts(self, parts: Sequence[cst.BaseFormattedStringContent]) -> None:
        for part in parts:
            if isinstance(part, cst.FormattedStringExpression):
                self.expr(part.expression)
                conversion = _CONVERSIONS.get(part.conversion or "", "__format__")
                self.refs.protocol(part.expression, (conversion,), self.ctx.line(part))
                if part.format_spec:
                    self.fstring_parts(part.format_spec)

    # -- expressions that bind or open a scope -----------------------------------------------

    def named(self, node: cst.NamedExpr) -> None:
        self.expr(node.value)
        target = node.target
        if isinstance(target, cst.Name):
            self.scopes.bind_walrus(target.value, self.origins.origin_of(node.value))

    def yield_(self, node: cst.Yield) -> None:
        ctx = self.ctx
        generator = ctx.scope is not None and not ctx.scope.comprehension
        if generator:
            ctx.sink.generator = True
        value = node.value
        if isinstance(value, cst.From):
            self.expr(value.item)
            self.refs.protocol(value.item, ("__iter__",), ctx.line(node))
            if generator:
                ctx.sink.yields.extend(o.then("*") for o in self.origins.origin_of(value.item))
        else:
            self.expr(value)
            if generator and value is not None:
                ctx.sink.yields.extend(self.origins.origin_of(value))

    def parameters(self, params: cst.Parameters) -> None:
        """Defaults and annotations, evaluated where the function is defined."""
        using = self.ctx.using
        for param in all_params(params):
            if param.default is not None:
                with using(mode=RefKind.DEFAULT):
                    self.expr(param.default)
            if param.annotation is not None:
                with using(mode=RefKind.ANNOTATION):
                    self.expr(param.annotation.annotation)

    def lambda_(self, node: cst.Lambda) -> None:
        ctx = self.ctx
        self.parameters(node.params)
        scope = self.scopes.new_scope(node.params)
        if ctx.scope is None or ctx.mode is not None:
            # At module or class level a lambda is part of the value it builds (a constant's
            # value or a default): its code is hashed with that value.
            with ctx.using(scope=scope):
                self.expr(node.body)
            return
        sink, prefix = self.scopes.nested_sink("<lambda>", ctx.line(node))
        with ctx.using(sink=sink, scope=scope, nested_prefix=prefix):
            self.expr(node.body)
            sink.returns.extend(self.origins.origin_of(node.body))

    def comprehension(
        self, node: cst.ListComp | cst.SetComp | cst.GeneratorExp | cst.DictComp
    ) -> None:
        ctx = self.ctx
        origin_of = self.origins.origin_of
        comp = node.for_in
        self.expr(comp.iter)  # the first iterable is evaluated in the enclosing scope
        self.refs.iteration(
            comp.iter, asynchronous=comp.asynchronous is not None, line=ctx.line(comp)
        )
        first_origins = tuple(o.then("*") for o in origin_of(comp.iter))
        with ctx.using(scope=self.scopes.new_scope(None, comprehension=True)):
            first = True
            current: cst.CompFor | None = comp
            while current is not None:
                if first:
                    origins = first_origins
                else:
                    self.expr(current.iter)
                    self.refs.iteration(
                        current.iter,
                        asynchronous=current.asynchronous is not None,
                        line=ctx.line(current),
                    )
                    origins = tuple(o.then("*") for o in origin_of(current.iter))
                first = False
                self.target(current.target, origins)
                for condition in current.ifs:
                    self.expr(condition.test)
                    self.refs.truth(condition.test, ctx.line(condition))
                current = current.inner_for_in
            if isinstance(node, cst.DictComp):
                self.expr(node.key)
                self.expr(node.value)
            else:
                self.expr(node.elt)

    def declared(self, value: cst.CSTNode) -> None:
        """``__astoken_deps__ = [a, b.c]`` in a class body: DECLARED references."""
        elements: Sequence[cst.CSTNode]
        if isinstance(value, (cst.List, cst.Tuple, cst.Set)):
            elements = [e.value for e in value.elements]
        else:
            elements = [value]
        for element in elements:
            self.declared_one(element)

    def declared_one(self, element: cst.CSTNode) -> None:
        """One declared dependency: a string or a dotted name (anything else is read as
        code)."""
        line = self.ctx.line(element)
        text = string_value(element)
        if text is not None:
            self.ctx.emit(line, ((RefKind.DECLARED, text, ""),))
            return
        parts = dotted(element)
        if parts is not None:
            with self.ctx.using(mode=RefKind.DECLARED):
                self.refs.chain(parts, line, called=False)
        else:
            self.expr(element)

    def target(
        self, node: cst.CSTNode, origins: tuple[Sym, ...] = (UNKNOWN,), *, delete: bool = False
    ) -> None:
        """An assignment (or ``for``/``with``/``del``) target receiving values of ``origins``."""
        kind = type(node)  # exact types: see _syntax.IS_NODE
        if kind is cst.Name:
            self.scopes.bind(cast(cst.Name, node).value, origins)
        elif kind is cst.Tuple or kind is cst.List:
            elements = tuple(o.then("*") for o in origins)
            for item in cast(cst.Tuple | cst.List, node).elements:
                self.target(item.value, elements, delete=delete)
        elif kind is cst.StarredElement:
            self.target(cast(cst.StarredElement, node).value, (Sym("B:list"),), delete=delete)
        elif kind is cst.Attribute:
            assert isinstance(node, cst.Attribute)  # exact type (checked above): no ABC walk
            self.attribute(node)
            self.scopes.store_attribute(node, origins)
        elif isinstance(node, cst.Subscript):
            self.expr(node.value)
            for element in node.slice:
                self.generic(element.slice)
            if not delete:
                self.ctx.store(node.value, origins)
            name = "__delitem__" if delete else "__setitem__"
            self.refs.protocol(node.value, (name,), self.ctx.line(node))
        else:
            self.expr(node)


def _called_by(builtin: str, arg: cst.Arg) -> bool:
    """Whether ``builtin`` calls what ``arg`` passes (see ``CALLS_POSITIONAL``)."""
    if arg.star:
        return False
    if arg.keyword is None:
        return builtin in CALLS_POSITIONAL
    return builtin in CALLS_KEY and arg.keyword.value == "key"


def _skip(node: cst.CSTNode) -> None:
    """Literals: no references."""
