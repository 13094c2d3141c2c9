"""The expression half of the summary walk: references made by expressions, and the origin of
the value an expression produces (:meth:`ExpressionWalker.origin_of`, pure: it emits nothing).

The statement half (:mod:`._statements`) subclasses this and owns definitions and bindings.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import libcst as cst

from astoken._model import ORIGIN_CLS, ORIGIN_SELF, DefKind, RefKind

from ._scopes import ARGUMENT, UNKNOWN, ClassContext, PendingRef, Scope, Sink, Sym
from ._syntax import (
    STRING_ANNOTATION,
    all_params,
    annotation_type,
    dotted,
    generic_fields,
    is_super_call,
    literal_type,
    string_value,
)
from ._tables import (
    ATTR_BUILTINS,
    BINARY_OPS,
    BOOL_OPERANDS,
    BUILTIN_PROTOCOLS,
    BUILTIN_RESULTS,
    COMPARISONS,
    IMPLICIT_NAMES,
    TYPE_CHECKS,
    UNARY_OPS,
)

_SELF = Sym(ORIGIN_SELF)
_CLS = Sym(ORIGIN_CLS)


class ExpressionWalker:
    """State of one module walk, and the handlers for expressions."""

    def __init__(self, lines: dict[int, int]) -> None:
        self.lines = lines
        self.defs: dict[str, Sink] = {}
        self.module_sink = Sink("", None, 0)
        self.sink = self.module_sink
        self.scope: Scope | None = None
        self.cls: ClassContext | None = None
        self.mode: RefKind | None = None  # DEFAULT/ANNOTATION/DECLARED/DECORATOR in such code
        # Qualified-name prefix of definitions nested in the current function ("f.<locals>.").
        self.nested_prefix = ""
        self.expr_dispatch: dict[type[cst.CSTNode], Callable[[Any], None]] = {
            cst.Name: self.expr_name,
            cst.Attribute: self.expr_attribute,
            cst.Call: self.expr_call,
            cst.Subscript: self.expr_subscript,
            cst.BinaryOperation: self.expr_binary,
            cst.UnaryOperation: self.expr_unary,
            cst.BooleanOperation: self.expr_boolean,
            cst.Comparison: self.expr_comparison,
            cst.IfExp: self.expr_ifexp,
            cst.Lambda: self.expr_lambda,
            cst.Await: self.expr_await,
            cst.NamedExpr: self.expr_named,
            cst.ListComp: self.expr_comprehension,
            cst.SetComp: self.expr_comprehension,
            cst.GeneratorExp: self.expr_comprehension,
            cst.DictComp: self.expr_comprehension,
            cst.FormattedString: self.expr_fstring,
            cst.StarredElement: self.expr_starred,
            cst.Yield: self.expr_yield,
            cst.Integer: self.skip,
            cst.Float: self.skip,
            cst.Imaginary: self.skip,
            cst.SimpleString: self.expr_string,
            cst.Ellipsis: self.skip,
        }

    # -- helpers -----------------------------------------------------------------------------

    def line(self, node: cst.CSTNode) -> int:
        return self.lines.get(id(node), 0)

    def skip(self, node: cst.CSTNode) -> None:
        pass

    def emit(self, line: int, refs: tuple[PendingRef, ...]) -> None:
        if refs:
            self.sink.pending.append((line, None, "", refs, ()))

    def emit_dep(
        self,
        line: int,
        root: str,
        if_global: tuple[PendingRef, ...],
        if_local: tuple[PendingRef, ...],
    ) -> None:
        scope = self.scope
        if scope is None or root in scope.globals:
            self.emit(line, if_global)
        elif if_global or if_local:
            self.sink.pending.append((line, scope, root, if_global, if_local))

    def global_name(self, parts: Sequence[str]) -> str:
        """A dotted name as the graph should resolve it: class-body names get the class prefix
        (class bodies see their own earlier names, as Python does)."""
        name = ".".join(parts)
        if self.scope is None and self.cls is not None and parts[0] in self.cls.names:
            return f"{self.cls.qualname}.{name}"
        return name

    def definition(self, qualname: str, kind: DefKind, line: int) -> Sink:
        sink = self.defs.get(qualname)
        if sink is None:
            sink = Sink(qualname, kind, line)
            self.defs[qualname] = sink
        return sink

    @contextmanager
    def using(
        self,
        *,
        sink: Sink | None = None,
        scope: Scope | bool | None = False,
        cls: ClassContext | bool | None = False,
        mode: RefKind | bool | None = False,
        nested_prefix: str | None = None,
    ) -> Iterator[None]:
        saved = (self.sink, self.scope, self.cls, self.mode, self.nested_prefix)
        if sink is not None:
            self.sink = sink
        if scope is not False:
            self.scope = scope if isinstance(scope, Scope) else None
        if cls is not False:
            self.cls = cls if isinstance(cls, ClassContext) else None
        if mode is not False:
            self.mode = mode if isinstance(mode, RefKind) else None
        if nested_prefix is not None:
            self.nested_prefix = nested_prefix
        try:
            yield
        finally:
            self.sink, self.scope, self.cls, self.mode, self.nested_prefix = saved

    # -- origins (pure) ----------------------------------------------------------------------

    def name_origin(self, name: str) -> Sym:
        """The origin of the value a bare name holds here."""
        if name in ("None", "True", "False"):
            return Sym("B:NoneType" if name == "None" else "B:bool")
        scope = self.scope
        if scope is not None and name == scope.self_name and scope.self_kind is not None:
            return _CLS if scope.self_kind is RefKind.CLS_ATTR else _SELF
        if name in IMPLICIT_NAMES:
            return UNKNOWN
        base = f"V:{self.global_name([name])}"
        if scope is None:
            return Sym(base)
        return Sym(base, local=name, scope=scope)

    def origin_of(self, node: cst.CSTNode | None) -> tuple[Sym, ...]:
        """The origins of the value ``node`` evaluates to (a union; never empty)."""
        if node is None:
            return (UNKNOWN,)
        parts = dotted(node)
        if parts is not None:
            return (self.name_origin(parts[0]).then(*(f".{p}" for p in parts[1:])),)
        kind = type(node)
        if isinstance(node, cst.Call):
            return self.call_origin(node)
        if kind is cst.Attribute:
            assert isinstance(node, cst.Attribute)
            if is_super_call(node.value):
                return (_SELF.then(f".{node.attr.value}"),)
            return tuple(o.then(f".{node.attr.value}") for o in self.origin_of(node.value))
        if kind is cst.Subscript:
            assert isinstance(node, cst.Subscript)
            return tuple(o.then("[]") for o in self.origin_of(node.value))
        literal = literal_type(node)
        if literal is not None:
            return (Sym(f"B:{literal}"),)
        if kind is cst.BooleanOperation:
            assert isinstance(node, cst.BooleanOperation)
            return (*self.origin_of(node.left), *self.origin_of(node.right))
        if kind is cst.IfExp:
            assert isinstance(node, cst.IfExp)
            return (*self.origin_of(node.body), *self.origin_of(node.orelse))
        if kind is cst.NamedExpr:
            assert isinstance(node, cst.NamedExpr)
            return self.origin_of(node.value)
        if kind is cst.Comparison or (
            kind is cst.UnaryOperation and isinstance(getattr(node, "operator", None), cst.Not)
        ):
            return (Sym("B:bool"),)
        return (UNKNOWN,)

    def call_origin(self, node: cst.Call) -> tuple[Sym, ...]:
        parts = dotted(node.func)
        if parts is not None and len(parts) == 1:
            name = parts[0]
            if name == "super":
                return (_SELF,)
            if name in BUILTIN_RESULTS:
                positional = [a.value for a in node.args if not a.keyword and not a.star]
                args = self.origin_of(positional[0]) if positional else ()
                local = self.name_origin(name)
                return (
                    Sym(local.base, local=local.local, scope=local.scope, builtin=name, args=args),
                )
        return tuple(o.then("()") for o in self.origin_of(node.func))

    def parameter_origins(self, param: cst.Param, *, star: bool) -> tuple[Sym, ...]:
        """A parameter holds the caller's object, or its declared type, or its default."""
        origins: list[Sym] = []
        declared = "" if star else annotation_type(param.annotation)
        origins.append(Sym(f"T:{declared}") if declared else ARGUMENT)
        if param.default is not None:
            origins.extend(self.origin_of(param.default))
        return tuple(origins)

    # -- expressions -------------------------------------------------------------------------

    def expr(self, node: cst.CSTNode | None) -> None:
        if node is None:
            return
        handler = self.expr_dispatch.get(type(node))
        if handler is not None:
            handler(node)
        else:
            self.generic(node)

    def generic(self, node: cst.CSTNode) -> None:
        for name in generic_fields(type(node)):
            value = getattr(node, name)
            if isinstance(value, cst.CSTNode):
                self.expr(value)
            elif isinstance(value, (tuple, list)):
                for item in value:
                    if isinstance(item, cst.CSTNode):
                        self.expr(item)

    def chain(self, parts: list[str], line: int, *, called: bool) -> None:
        """References of a name or dotted chain, loaded, stored or called."""
        root = parts[0]
        if root in IMPLICIT_NAMES:
            return
        mode = self.mode
        scope = self.scope
        if (
            scope is not None
            and root == scope.self_name
            and scope.self_kind is not None
            and mode is not RefKind.ANNOTATION
        ):
            self.self_chain(scope, parts, line, called=called)
            return
        if mode is not None:
            self.emit_dep(line, root, ((mode, self.global_name(parts), ""),), ())
            return
        last = len(parts) - 1
        kind = RefKind.CALL if called else RefKind.VALUE if last == 0 else RefKind.ATTRIBUTE
        if_global: tuple[PendingRef, ...] = ((kind, self.global_name(parts), ""),)
        if_local: tuple[PendingRef, ...] = ()
        if scope is not None:
            local = Sym(local=root, scope=scope)
            if last == 0:
                if called:
                    if_local = ((RefKind.PROTOCOL, "__call__", local),)
            else:
                if_local = self.member_refs(local, parts[1:], called=called)
        self.emit_dep(line, root, if_global, if_local)

    @staticmethod
    def member_refs(base: Sym, attrs: Sequence[str], *, called: bool) -> tuple[PendingRef, ...]:
        """``x.a.b.c`` on a receiver of origin ``base``: attribute reads, then the final read
        or call, each on the origin of what precedes it."""
        refs: list[PendingRef] = []
        receiver = base
        for i, attr in enumerate(attrs):
            if i == len(attrs) - 1 and called:
                refs.append((RefKind.METHOD, attr, receiver))
            else:
                refs.append((RefKind.ATTRIBUTE, f".{attr}", receiver))
            receiver = receiver.then(f".{attr}")
        return tuple(refs)

    def self_chain(self, scope: Scope, parts: list[str], line: int, *, called: bool) -> None:
        kind = scope.self_kind
        assert kind is not None
        own = _CLS if kind is RefKind.CLS_ATTR else _SELF
        if len(parts) == 1:
            if called and kind is RefKind.CLS_ATTR and scope.class_qualname:
                self.emit(line, ((RefKind.CALL, scope.class_qualname, ""),))
            elif called:
                self.emit(line, ((RefKind.PROTOCOL, "__call__", own),))
            return
        refs: tuple[PendingRef, ...] = ((kind, parts[1], ""),)
        if len(parts) > 2:
            refs += self.member_refs(own.then(f".{parts[1]}"), parts[2:], called=called)
        elif called:
            # ``self.handler()`` where handler is data (a callable stored in __init__).
            refs += ((RefKind.PROTOCOL, "__call__", own.then(f".{parts[1]}")),)
        self.emit(line, refs)

    def expr_string(self, node: cst.SimpleString) -> None:
        """A string annotation (``x: "Foo"``) names types; other strings name nothing."""
        if self.mode is RefKind.ANNOTATION:
            text = string_value(node) or ""
            line = self.line(node)
            for found in STRING_ANNOTATION.findall(text):
                self.chain(found.split("."), line, called=False)

    def expr_name(self, node: cst.Name) -> None:
        self.chain([node.value], self.line(node), called=False)

    def expr_attribute(self, node: cst.Attribute) -> None:
        parts = dotted(node)
        if parts is not None:
            self.chain(parts, self.line(node), called=False)
        else:
            self.attribute_of_expression(node, called=False)

    def attribute_of_expression(self, node: cst.Attribute, *, called: bool) -> None:
        """``f().x``, ``super().x``, ``"".join``: the value, then the member."""
        value = node.value
        line = self.line(node)
        attr = node.attr.value
        if is_super_call(value):
            assert isinstance(value, cst.Call)
            for arg in value.args:
                self.expr(arg.value)
            if self.mode is None:
                self.emit(line, ((RefKind.SUPER_ATTR, attr, ""),))
            return
        self.expr(value)
        if self.mode is not None:
            return
        kind = RefKind.METHOD if called else RefKind.ATTRIBUTE
        name = attr if called else f".{attr}"
        self.emit(line, tuple((kind, name, o) for o in self.origin_of(value)))

    def protocol(self, operand: cst.CSTNode, names: tuple[str, ...], line: int) -> None:
        """Protocol methods invoked on ``operand`` (none for literals)."""
        if self.mode is not None or literal_type(operand) is not None:
            return
        origins = self.origin_of(operand)
        self.emit(line, tuple((RefKind.PROTOCOL, n, o) for n in names for o in origins))

    def expr_call(self, node: cst.Call) -> None:
        func = node.func
        line = self.line(func)  # not the call's own: that starts at its parentheses, if any
        parts = dotted(func)
        if parts is not None:
            if not (len(parts) == 1 and parts[0] == "super"):
                self.chain(parts, line, called=True)
            if self.mode is None:
                self.special_call(parts, node, line)
        elif isinstance(func, cst.Attribute):
            self.attribute_of_expression(func, called=True)
        else:
            self.expr(func)
            if not isinstance(func, cst.Lambda):
                self.protocol(func, ("__call__",), line)
        type_check = (
            parts is not None
            and len(parts) == 1
            and parts[0] in TYPE_CHECKS
            and not (self.scope is not None and self.scope.is_local(parts[0]))
        )
        for index, arg in enumerate(node.args):
            if type_check and index == 1 and not arg.keyword and not arg.star:
                # ``isinstance(x, C)`` runs none of C's code (only its metaclass's
                # ``__instancecheck__``): C is named like an annotation, not used as a value.
                with self.using(mode=RefKind.ANNOTATION):
                    self.expr(arg.value)
                continue
            self.expr(arg.value)
            if arg.star == "*":
                self.protocol(arg.value, ("__iter__", "__next__"), line)

    def special_call(self, parts: list[str], node: cst.Call, line: int) -> None:
        """Builtins and library calls that stand for protocols, attributes or imports."""
        name = parts[-1]
        args = node.args
        positional = [a.value for a in args if not a.keyword and not a.star]
        if len(parts) == 1 and self.scope is not None and self.scope.is_local(name):
            return  # a local that shadows the builtin
        if len(parts) == 1 and name in BUILTIN_PROTOCOLS and positional:
            self.protocol(positional[0], BUILTIN_PROTOCOLS[name], line)
        elif len(parts) == 1 and name in ATTR_BUILTINS and len(positional) >= 2:
            target, attr = positional[0], string_value(positional[1])
            if attr is None or not attr.isidentifier():
                self.emit(line, ((RefKind.DYNAMIC, name, ""),))
                return
            target_parts = dotted(target)
            if target_parts is not None:
                self.chain([*target_parts, attr], line, called=False)
            elif is_super_call(target):
                self.emit(line, ((RefKind.SUPER_ATTR, attr, ""),))
            else:
                self.emit(
                    line, tuple((RefKind.ATTRIBUTE, f".{attr}", o) for o in self.origin_of(target))
                )
        elif len(parts) == 1 and name in ("eval", "exec"):
            self.emit(line, ((RefKind.DYNAMIC, name, ""),))
        elif (len(parts) == 1 and name == "__import__") or (
            name == "import_module" and parts[:-1] in ([], ["importlib"])
        ):
            module = string_value(positional[0]) if positional else None
            package = string_value(positional[1]) if len(positional) > 1 else None
            if module is not None and module.startswith(".") and package is not None:
                # ``import_module(".x", "pkg")``: absolute here; relative to ``__package__`` or
                # ``__name__`` stays relative, for the graph to resolve in this module.
                level = len(module) - len(module.lstrip("."))
                base = package.rsplit(".", level - 1)[0] if level > 1 else package
                module = f"{base}.{module[level:]}" if module[level:] else base
            if module is None:
                self.emit(line, ((RefKind.DYNAMIC, "import_module", ""),))
            else:
                self.emit(line, ((RefKind.IMPORT, module, ""),))

    def expr_subscript(self, node: cst.Subscript) -> None:
        self.expr(node.value)
        for element in node.slice:
            self.generic(element.slice)
        self.protocol(node.value, ("__getitem__",), self.line(node))

    def expr_binary(self, node: cst.BinaryOperation) -> None:
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
                line = self.line(op_node)
                self.protocol(op_node.left, (names[0],), line)
                self.protocol(op_node.right, (names[1],), line)

    def expr_unary(self, node: cst.UnaryOperation) -> None:
        self.expr(node.expression)
        names = UNARY_OPS.get(type(node.operator))
        if names is None:
            return
        if isinstance(node.operator, cst.Not):
            self.truth(node.expression, self.line(node))
        else:
            self.protocol(node.expression, names, self.line(node))

    def truth(self, operand: cst.CSTNode, line: int) -> None:
        """``if x`` / ``not x`` / ``x and y``: __bool__ and __len__ of plain values only
        (a comparison or call result is almost always a builtin bool or object)."""
        if isinstance(operand, BOOL_OPERANDS):
            self.protocol(operand, ("__bool__", "__len__"), line)

    def expr_boolean(self, node: cst.BooleanOperation) -> None:
        operands: list[cst.CSTNode] = []
        stack: list[cst.CSTNode] = [node]
        while stack:
            item = stack.pop()
            if isinstance(item, cst.BooleanOperation):
                stack.extend((item.right, item.left))
            else:
                operands.append(item)
        line = self.line(node)
        for operand in operands:
            self.expr(operand)
            self.truth(operand, line)

    def expr_comparison(self, node: cst.Comparison) -> None:
        self.expr(node.left)
        left = node.left
        line = self.line(node)
        for target in node.comparisons:
            right = target.comparator
            self.expr(right)
            op = type(target.operator)
            if op in (cst.In, cst.NotIn):
                self.protocol(right, ("__contains__",), line)
            else:
                names = COMPARISONS.get(op)
                if names is not None:
                    self.protocol(left, (names[0],), line)
                    self.protocol(right, (names[1],), line)
            left = right

    def expr_ifexp(self, node: cst.IfExp) -> None:
        self.expr(node.body)
        self.expr(node.test)
        self.truth(node.test, self.line(node))
        self.expr(node.orelse)

    def expr_await(self, node: cst.Await) -> None:
        self.expr(node.expression)
        if not isinstance(node.expression, cst.Call):
            self.protocol(node.expression, ("__await__",), self.line(node))

    def expr_named(self, node: cst.NamedExpr) -> None:
        self.expr(node.value)
        target = node.target
        if isinstance(target, cst.Name):
            if self.scope is not None:
                self.scope.binding_scope().add_origins(target.value, self.origin_of(node.value))
            else:
                self.bind(target.value, self.origin_of(node.value))

    def expr_starred(self, node: cst.StarredElement) -> None:
        self.expr(node.value)
        self.protocol(node.value, ("__iter__", "__next__"), self.line(node))

    def expr_yield(self, node: cst.Yield) -> None:
        if self.scope is not None and not self.scope.comprehension:
            self.sink.generator = True
        value = node.value
        if isinstance(value, cst.From):
            self.expr(value.item)
            self.protocol(value.item, ("__iter__",), self.line(node))
        else:
            self.expr(value)

    def expr_fstring(self, node: cst.FormattedString) -> None:
        self.fstring_parts(node.parts)

    def fstring_parts(self, parts: Sequence[cst.BaseFormattedStringContent]) -> None:
        for part in parts:
            if isinstance(part, cst.FormattedStringExpression):
                self.expr(part.expression)
                conversion = {"r": "__repr__", "s": "__str__", "a": "__repr__"}.get(
                    part.conversion or "", "__format__"
                )
                self.protocol(part.expression, (conversion,), self.line(part))
                if part.format_spec:
                    self.fstring_parts(part.format_spec)

    # -- scopes ------------------------------------------------------------------------------

    def bind(self, name: str, origins: tuple[Sym, ...] = (UNKNOWN,)) -> None:
        """``name`` is bound here to a value of ``origins`` (a local in a function)."""
        scope = self.scope
        if scope is not None:
            scope.add_origins(name, origins)
        elif self.cls is not None:
            self.cls.names.add(name)

    def new_scope(self, params: cst.Parameters | None, *, comprehension: bool = False) -> Scope:
        """A scope for a function/lambda (with ``params``) or a comprehension. Parameter
        origins (declared type, caller's object, default) are read in the enclosing scope."""
        parent = self.scope
        origins: list[tuple[str, tuple[Sym, ...]]] = []
        if params is not None:
            stars = {id(params.star_arg), id(params.star_kwarg)}
            for param in all_params(params):
                origins.append(
                    (param.name.value, self.parameter_origins(param, star=id(param) in stars))
                )
        scope = Scope(parent, comprehension=comprehension)
        if parent is not None:
            scope.self_name = parent.self_name
            scope.self_kind = parent.self_kind
            scope.class_qualname = parent.class_qualname
        for name, found in origins:
            scope.add_origins(name, found)
            if name == scope.self_name:
                scope.self_name = None
                scope.self_kind = None
        return scope

    def parameters(self, params: cst.Parameters) -> None:
        """Defaults and annotations, evaluated where the function is defined."""
        for param in all_params(params):
            if param.default is not None:
                with self.using(mode=RefKind.DEFAULT):
                    self.expr(param.default)
            if param.annotation is not None:
                with self.using(mode=RefKind.ANNOTATION):
                    self.expr(param.annotation.annotation)

    def nested_sink(self, name: str, line: int) -> tuple[Sink, str]:
        """A definition for a function or lambda nested in the current one, and its prefix
        for what it nests in turn; the enclosing definition gets a NESTED reference to it."""
        parent = self.sink
        if name == "<lambda>":
            parent.lambdas += 1
            if parent.lambdas > 1:
                name = f"<lambda>#{parent.lambdas}"
        qualname = f"{self.nested_prefix}{name}"
        sink = self.definition(qualname, DefKind.NESTED, line)
        self.emit(line, ((RefKind.NESTED, qualname, ""),))
        return sink, f"{qualname}.<locals>."

    def expr_lambda(self, node: cst.Lambda) -> None:
        self.parameters(node.params)
        scope = self.new_scope(node.params)
        if self.scope is None or self.mode is not None:
            # At module or class level a lambda is part of the value it builds (a constant's
            # value or a default): its code is hashed with that value.
            with self.using(scope=scope):
                self.expr(node.body)
            return
        sink, prefix = self.nested_sink("<lambda>", self.line(node))
        with self.using(sink=sink, scope=scope, nested_prefix=prefix):
            self.expr(node.body)
            sink.returns.extend(self.origin_of(node.body))

    def expr_comprehension(
        self, node: cst.ListComp | cst.SetComp | cst.GeneratorExp | cst.DictComp
    ) -> None:
        comp = node.for_in
        self.expr(comp.iter)  # the first iterable is evaluated in the enclosing scope
        self.iteration(comp.iter, asynchronous=comp.asynchronous is not None, line=self.line(comp))
        first_origins = tuple(o.then("*") for o in self.origin_of(comp.iter))
        with self.using(scope=self.new_scope(None, comprehension=True)):
            first = True
            current: cst.CompFor | None = comp
            while current is not None:
                if first:
                    origins = first_origins
                else:
                    self.expr(current.iter)
                    self.iteration(
                        current.iter,
                        asynchronous=current.asynchronous is not None,
                        line=self.line(current),
                    )
                    origins = tuple(o.then("*") for o in self.origin_of(current.iter))
                first = False
                self.target(current.target, origins)
                for condition in current.ifs:
                    self.expr(condition.test)
                    self.truth(condition.test, self.line(condition))
                current = current.inner_for_in
            if isinstance(node, cst.DictComp):
                self.expr(node.key)
                self.expr(node.value)
            else:
                self.expr(node.elt)

    def iteration(self, iterable: cst.CSTNode, *, asynchronous: bool, line: int) -> None:
        names = ("__aiter__", "__anext__") if asynchronous else ("__iter__", "__next__")
        self.protocol(iterable, names, line)

    # -- assignment targets ------------------------------------------------------------------

    def target(
        self, node: cst.CSTNode, origins: tuple[Sym, ...] = (UNKNOWN,), *, delete: bool = False
    ) -> None:
        """An assignment (or ``for``/``with``/``del``) target receiving values of ``origins``."""
        if isinstance(node, cst.Name):
            self.bind(node.value, origins)
        elif isinstance(node, (cst.Tuple, cst.List)):
            elements = tuple(o.then("*") for o in origins)
            for item in node.elements:
                self.target(item.value, elements, delete=delete)
        elif isinstance(node, cst.StarredElement):
            self.target(node.value, (Sym("B:list"),), delete=delete)
        elif isinstance(node, cst.Attribute):
            self.expr_attribute(node)
            self.attribute_store(node, origins)
        elif isinstance(node, cst.Subscript):
            self.expr(node.value)
            for element in node.slice:
                self.generic(element.slice)
            name = "__delitem__" if delete else "__setitem__"
            self.protocol(node.value, (name,), self.line(node))
        else:
            self.expr(node)

    def attribute_store(self, node: cst.Attribute, origins: tuple[Sym, ...]) -> None:
        """``self.x = value`` in a method: state of the class, typed by ``origins``."""
        scope = self.scope
        parts = dotted(node)
        if (
            scope is not None
            and parts is not None
            and len(parts) == 2
            and parts[0] == scope.self_name
            and scope.self_kind is not None
        ):
            self.sink.assigns.extend((parts[1], o) for o in origins)
