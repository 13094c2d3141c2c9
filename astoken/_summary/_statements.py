"""The statement half of the summary walk: definitions, bindings, imports and the results."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import libcst as cst

from astoken._model import (
    Definition,
    DefKind,
    ImportBinding,
    ModuleSummary,
    RefKind,
)

from ._expressions import ExpressionWalker
from ._scopes import (
    UNKNOWN,
    ClassContext,
    OriginResolver,
    Scope,
    Sink,
    Sym,
    resolve_origins,
    resolve_references,
)
from ._syntax import (
    all_params,
    annotation_type,
    dotted,
    generic_fields,
    literal_strings,
    string_value,
)
from ._syntax import (
    target_names as _target_names,
)
from ._tables import AUGMENTED_OPS, CLS_METHODS, DECLARED_DEPS
from ._volatile import VolatileIndex


class Walker(ExpressionWalker):
    """Walks one module and collects its definitions, imports and references."""

    def __init__(self, lines: dict[int, int]) -> None:
        super().__init__(lines)
        self.module_imports: list[ImportBinding] = []
        self.import_names: set[str] = set()
        self.star_imports: list[tuple[int, str]] = []
        self.all_names: list[str] | None = None
        self.all_valid = True
        self.in_handler = False  # inside a module-level ``except`` body
        self.in_local_class = False  # inside a class body nested in a function
        self.volatile = VolatileIndex()  # constants' defining expressions
        self.defaults = VolatileIndex()  # functions' and methods' default values
        self.stmt_dispatch: dict[type[cst.CSTNode], Callable[[Any], None]] = {
            cst.SimpleStatementLine: self.stmt_simple_line,
            cst.SimpleStatementSuite: self.stmt_simple_line,
            cst.IndentedBlock: self.stmt_block,
            cst.FunctionDef: self.stmt_function,
            cst.ClassDef: self.stmt_class,
            cst.If: self.stmt_if,
            cst.Else: self.stmt_block,
            cst.Finally: self.stmt_block,
            cst.For: self.stmt_for,
            cst.While: self.stmt_while,
            cst.Try: self.stmt_try,
            cst.TryStar: self.stmt_try,
            cst.With: self.stmt_with,
            cst.Expr: self.stmt_expr,
            cst.Assign: self.stmt_assign,
            cst.AnnAssign: self.stmt_annassign,
            cst.AugAssign: self.stmt_augassign,
            cst.Del: self.stmt_del,
            cst.Return: self.stmt_return,
            cst.Import: self.stmt_import,
            cst.ImportFrom: self.stmt_import_from,
            cst.Global: self.stmt_global,
            cst.Nonlocal: self.stmt_nonlocal,
            cst.Pass: self.skip,
            cst.Break: self.skip,
            cst.Continue: self.skip,
        }

    # -- statements --------------------------------------------------------------------------

    def stmt(self, node: cst.CSTNode) -> None:
        handler = self.stmt_dispatch.get(type(node))
        if handler is not None:
            handler(node)
        elif isinstance(node, cst.Match):
            self.stmt_match(node)
        else:
            self.generic_stmt(node)

    def generic_stmt(self, node: cst.CSTNode) -> None:
        """Statements without a handler (raise, assert, type aliases...)."""
        if isinstance(node, cst.Assert):
            self.expr(node.test)
            self.truth(node.test, self.line(node))
            self.expr(node.msg)
            return
        for name in generic_fields(type(node)):
            value = getattr(node, name)
            if isinstance(value, cst.BaseSuite):
                self.stmt(value)
            elif isinstance(value, cst.CSTNode):
                self.expr(value)
            elif isinstance(value, (tuple, list)):
                for item in value:
                    if isinstance(item, (cst.BaseStatement, cst.BaseSmallStatement)):
                        self.stmt(item)
                    elif isinstance(item, cst.CSTNode):
                        self.expr(item)

    def stmt_block(self, node: cst.IndentedBlock | cst.Else | cst.Finally) -> None:
        body = node.body
        if isinstance(body, cst.BaseSuite):
            self.stmt(body)
            return
        for statement in body:
            self.stmt(statement)

    def stmt_simple_line(self, node: cst.SimpleStatementLine | cst.SimpleStatementSuite) -> None:
        for statement in node.body:
            self.stmt(statement)

    def stmt_expr(self, node: cst.Expr) -> None:
        value = node.value
        if self.scope is None and self.cls is None and self.sink is self.module_sink:
            self.module_all_call(value)
            if isinstance(value, cst.Call) and isinstance(value.func, cst.Attribute):
                # ``HANDLERS.append(f)``: module code that changes constant HANDLERS.
                with self.mutating(value.func.value):
                    self.expr(value)
                return
        self.expr(value)

    def stmt_return(self, node: cst.Return) -> None:
        self.expr(node.value)
        if node.value is not None and self.scope is not None:
            self.sink.returns.extend(self.origin_of(node.value))

    def stmt_if(self, node: cst.If) -> None:
        self.expr(node.test)
        self.truth(node.test, self.line(node.test))
        self.stmt(node.body)
        if node.orelse is not None:
            self.stmt(node.orelse)

    def stmt_while(self, node: cst.While) -> None:
        self.expr(node.test)
        self.truth(node.test, self.line(node.test))
        self.stmt(node.body)
        if node.orelse is not None:
            self.stmt(node.orelse)

    def stmt_for(self, node: cst.For) -> None:
        self.expr(node.iter)
        asynchronous = node.asynchronous is not None
        self.iteration(node.iter, asynchronous=asynchronous, line=self.line(node.iter))
        origins = (
            (UNKNOWN,) if asynchronous else tuple(o.then("*") for o in self.origin_of(node.iter))
        )
        self.target(node.target, origins)
        self.stmt(node.body)
        if node.orelse is not None:
            self.stmt(node.orelse)

    def stmt_try(self, node: cst.Try | cst.TryStar) -> None:
        self.stmt(node.body)
        for handler in node.handlers:
            # ``except C`` only compares types: no code of C runs (like ``isinstance``).
            with self.using(mode=RefKind.ANNOTATION):
                self.expr(handler.type)
            if handler.name is not None:
                self.target(handler.name.name, _exception_origins(handler.type))
            saved = self.in_handler
            self.in_handler = True
            try:
                self.stmt(handler.body)
            finally:
                self.in_handler = saved
        if node.orelse is not None:
            self.stmt(node.orelse)
        if node.finalbody is not None:
            self.stmt(node.finalbody)

    def stmt_with(self, node: cst.With) -> None:
        asynchronous = bool(node.asynchronous)
        names = ("__aenter__", "__aexit__") if asynchronous else ("__enter__", "__exit__")
        for item in node.items:
            self.expr(item.item)
            self.protocol(item.item, names, self.line(item))
            if item.asname is not None:
                origins = (
                    (UNKNOWN,)
                    if asynchronous
                    else tuple(o.then(".__enter__", "()") for o in self.origin_of(item.item))
                )
                self.target(item.asname.name, origins)
        self.stmt(node.body)

    def stmt_match(self, node: cst.Match) -> None:
        self.expr(node.subject)
        for case in node.cases:
            self.pattern(case.pattern)
            self.expr(case.guard)
            self.stmt(case.body)

    def pattern(self, node: cst.CSTNode) -> None:
        if isinstance(node, cst.MatchAs):
            if node.pattern is not None:
                self.pattern(node.pattern)
            if node.name is not None:
                self.bind(node.name.value)
        elif isinstance(node, cst.MatchStar):
            if node.name is not None:
                self.bind(node.name.value)
        elif isinstance(node, cst.MatchMapping):
            for element in node.elements:
                self.expr(element.key)
                self.pattern(element.pattern)
            if node.rest is not None:
                self.bind(node.rest.value)
        elif isinstance(node, cst.MatchClass):
            self.expr(node.cls)
            for pattern in node.patterns:
                self.pattern(pattern.value)
            for keyword in node.kwds:
                self.pattern(keyword.pattern)
        elif isinstance(node, cst.MatchValue):
            self.expr(node.value)
        elif isinstance(node, (cst.MatchSequence, cst.MatchList, cst.MatchTuple)):
            for item in node.patterns:
                self.pattern(item.value if isinstance(item, cst.MatchSequenceElement) else item)
        elif isinstance(node, cst.MatchOr):
            for alternative in node.patterns:
                self.pattern(alternative.pattern)
        elif isinstance(node, cst.CSTNode):
            self.expr(node)

    def stmt_global(self, node: cst.Global) -> None:
        if self.scope is not None:
            for item in node.names:
                self.scope.globals.add(item.name.value)
                self.scope.locals.discard(item.name.value)

    def stmt_nonlocal(self, node: cst.Nonlocal) -> None:
        if self.scope is not None:
            for item in node.names:
                self.scope.nonlocals.add(item.name.value)
                self.scope.locals.add(item.name.value)

    def stmt_del(self, node: cst.Del) -> None:
        self.target(node.target, delete=True)

    # -- assignments: definitions at module/class level, bindings in functions ---------------

    def at_definition_level(self) -> bool:
        """True in module code or a class body directly inside one (where names define)."""
        return self.scope is None and (
            self.sink is self.module_sink or (self.cls is not None and self.sink is self.cls.sink)
        )

    def constant_sink(self, name: str, line: int, *, lambda_value: bool) -> Sink | None:
        """The definition an assignment to ``name`` at module/class level goes to."""
        if self.cls is not None:
            if name in DECLARED_DEPS:
                return None
            self.cls.names.add(name)
            return self.definition(f"{self.cls.qualname}.{name}", DefKind.CONSTANT, line)
        if self.in_handler and name in self.import_names:
            return None  # ``except ImportError: x = None``: the import stays the binding
        kind = DefKind.FUNCTION if lambda_value else DefKind.CONSTANT
        return self.definition(name, kind, line)

    def stmt_assign(self, node: cst.Assign) -> None:
        value = node.value
        targets = [t.target for t in node.targets]
        line = self.line(node)
        if not self.at_definition_level():
            self.expr(value)
            self.unpacking(targets, value, line)
            origins = self.origin_of(value)
            for target in targets:
                self.target(target, origins)
            return
        if self.cls is not None and any(
            isinstance(t, cst.Name) and t.value in DECLARED_DEPS for t in targets
        ):
            self.declared(value)
            return
        if self.cls is None and any(
            isinstance(t, cst.Name) and t.value == "__all__" for t in targets
        ):
            self.set_all(value, extend=False)
        other_targets = [t for t in targets if not _target_names(t)]
        if all(not _target_names(t) for t in targets) and other_targets and self.cls is None:
            # ``REGISTRY[key] = f`` / ``obj.attr = f``: module code that changes a constant.
            with self.mutating(other_targets[0]):
                self.expr(value)
                for target in other_targets:
                    self.target(target)
            return
        origins = self.origin_of(value)
        sinks: list[Sink] = []
        for target in targets:
            unpacked = not isinstance(target, cst.Name)
            for name in _target_names(target):
                sink = self.constant_sink(
                    name.value, self.line(name), lambda_value=isinstance(value, cst.Lambda)
                )
                if sink is not None:
                    sinks.append(sink)
                    sink.returns.extend(o.then("*") if unpacked else o for o in origins)
                    self.defines(sink, value)
        self.value_into(sinks, value, line, targets)
        for target in other_targets:
            self.target(target)

    def defines(self, sink: Sink, value: cst.CSTNode) -> None:
        """``value`` is (part of) the definition of constant ``sink``."""
        if sink.kind is DefKind.CONSTANT:
            self.volatile.add(sink.qualname, value)

    def value_into(
        self, sinks: list[Sink], value: cst.CSTNode, line: int, targets: Sequence[cst.CSTNode]
    ) -> None:
        """Walk a module/class-level value once, into every definition it binds."""
        if not sinks:
            sinks = [self.sink]
        first, rest = sinks[0], sinks[1:]
        start = len(first.pending)
        with self.using(sink=first):
            self.expr(value)
            self.unpacking(targets, value, line)
        for other in rest:
            other.pending.extend(first.pending[start:])

    def unpacking(self, targets: Sequence[cst.CSTNode], value: cst.CSTNode, line: int) -> None:
        if any(isinstance(t, (cst.Tuple, cst.List)) for t in targets):
            self.protocol(value, ("__iter__", "__next__"), line)

    @contextmanager
    def mutating(self, target: cst.CSTNode) -> Iterator[None]:
        """Module code that changes a module-level constant (``NAME[k] = v``, ``NAME.attr = v``,
        ``NAME.append(v)``): its references stay module references and, for recall, are also
        merged into constant NAME's definition."""
        while isinstance(target, (cst.Subscript, cst.Attribute)):
            target = target.value
        constant = None
        if isinstance(target, cst.Name):
            constant = self.defs.get(target.value)
        start = len(self.sink.pending)
        yield
        if constant is not None and constant.kind is DefKind.CONSTANT:
            constant.pending.extend(self.sink.pending[start:])

    def stmt_annassign(self, node: cst.AnnAssign) -> None:
        target = node.target
        if not self.at_definition_level():
            with self.using(mode=RefKind.ANNOTATION):
                self.expr(node.annotation.annotation)
            if node.value is not None:
                self.expr(node.value)
                declared = annotation_type(node.annotation)
                origins = (Sym(f"T:{declared}"),) if declared else self.origin_of(node.value)
                self.target(target, origins)
            elif not isinstance(target, cst.Name):
                self.target(target)
            return
        if not isinstance(target, cst.Name) or node.value is None:
            with self.using(mode=RefKind.ANNOTATION):
                self.expr(node.annotation.annotation)
            if node.value is not None:
                self.expr(node.value)
            if not isinstance(target, cst.Name):
                self.target(target)
            return
        if self.cls is not None and target.value in DECLARED_DEPS:
            self.declared(node.value)
            return
        if self.cls is None and target.value == "__all__":
            self.set_all(node.value, extend=False)
        sink = self.constant_sink(
            target.value, self.line(target), lambda_value=isinstance(node.value, cst.Lambda)
        )
        if sink is not None:
            sink.returns.extend(self.origin_of(node.value))
            self.defines(sink, node.value)
        with self.using(sink=sink or self.sink):
            with self.using(mode=RefKind.ANNOTATION):
                self.expr(node.annotation.annotation)
            self.expr(node.value)

    def stmt_augassign(self, node: cst.AugAssign) -> None:
        target = node.target
        names = AUGMENTED_OPS.get(type(node.operator), ())
        line = self.line(node)
        sink: Sink | None = None
        if self.at_definition_level() and isinstance(target, cst.Name):
            if self.cls is None and target.value == "__all__":
                self.set_all(node.value, extend=True)
            sink = self.constant_sink(target.value, self.line(target), lambda_value=False)
            if sink is not None:
                self.defines(sink, node)  # the operator counts: ``X += getpid()``
        with self.using(sink=sink or self.sink):
            if sink is None:  # (with a sink, the name is the definition being extended)
                if isinstance(target, cst.Name):
                    self.expr(target)
                    self.bind(target.value, ())  # keeps the origins it had
                elif isinstance(target, cst.Attribute):
                    # ``self.x += y`` keeps x's origins, and is an assignment of x.
                    self.target(target, self.origin_of(target))
                else:
                    self.target(target)
            self.expr(node.value)
            if names and sink is None:  # a constant's value is hashed, not its operators
                self.protocol(target, names[:2], line)
                self.protocol(node.value, names[2:], line)

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
        line = self.line(element)
        text = string_value(element)
        if text is not None:
            self.emit(line, ((RefKind.DECLARED, text, ""),))
            return
        parts = dotted(element)
        if parts is not None:
            with self.using(mode=RefKind.DECLARED):
                self.chain(parts, line, called=False)
        else:
            self.expr(element)

    def set_all(self, value: cst.CSTNode, *, extend: bool) -> None:
        names = literal_strings(value)
        if names is None:
            self.all_valid = False
            return
        if extend:
            if self.all_names is None:
                self.all_valid = False
                return
            self.all_names.extend(names)
        else:
            self.all_names = list(names)
            self.all_valid = True

    def module_all_call(self, value: cst.CSTNode) -> None:
        """``__all__.extend([...])`` / ``__all__.append("x")``."""
        if not isinstance(value, cst.Call) or not isinstance(value.func, cst.Attribute):
            return
        func = value.func
        if not (isinstance(func.value, cst.Name) and func.value.value == "__all__"):
            return
        method = func.attr.value
        if method not in ("extend", "append") or len(value.args) != 1:
            self.all_valid = False
            return
        arg = value.args[0].value
        if method == "append":
            text = string_value(arg)
            if text is None or self.all_names is None:
                self.all_valid = False
            else:
                self.all_names.append(text)
        else:
            self.set_all(arg, extend=True)

    # -- imports -----------------------------------------------------------------------------

    def add_import(self, binding: ImportBinding) -> None:
        if self.scope is not None or self.sink is not self.module_sink:
            self.sink.imports.append(binding)
        else:
            self.module_imports.append(binding)
            self.import_names.add(binding.name)
        if self.scope is None and self.cls is not None:
            self.cls.names.add(binding.name)

    def stmt_import(self, node: cst.Import) -> None:
        for alias in node.names:
            module = ".".join(dotted(alias.name) or ())
            line = self.line(alias)
            if alias.asname is not None and isinstance(alias.asname.name, cst.Name):
                name = alias.asname.name.value
            else:
                name = module.partition(".")[0]
            self.add_import(ImportBinding(name, module, 0, None, line))

    def stmt_import_from(self, node: cst.ImportFrom) -> None:
        level = len(node.relative)
        module = ".".join(dotted(node.module) or ()) if node.module is not None else ""
        if isinstance(node.names, cst.ImportStar):
            if self.scope is None:
                self.star_imports.append((level, module))
            return
        for alias in node.names:
            attr = ".".join(dotted(alias.name) or ())
            if alias.asname is not None and isinstance(alias.asname.name, cst.Name):
                name = alias.asname.name.value
            else:
                name = attr
            self.add_import(ImportBinding(name, module, level, attr, self.line(alias)))

    # -- functions and classes ---------------------------------------------------------------

    def decorator_refs(self, decorators: Sequence[cst.Decorator], sink: Sink) -> None:
        for decorator in decorators:
            expression = decorator.decorator
            line = self.line(expression)
            callee = expression.func if isinstance(expression, cst.Call) else expression
            parts = dotted(callee)
            if parts is None:
                self.expr(expression)
                continue
            sink.decorators.append(".".join(parts))
            if self.scope is None:
                self.emit(line, ((RefKind.DECORATOR, self.global_name(parts), ""),))
            else:
                with self.using(mode=RefKind.DECORATOR):
                    self.chain(parts, line, called=False)
            if isinstance(expression, cst.Call):
                declares = parts[-1] == "depends_on"
                for arg in expression.args:
                    if declares and not arg.keyword and not arg.star:
                        self.declared_one(arg.value)
                    else:
                        self.expr(arg.value)
                if not declares:
                    # ``@factory(...)``: the object the factory returns is called with the
                    # function (and, for a wrapper object, called again on every call).
                    self.emit(
                        line,
                        tuple(
                            (RefKind.PROTOCOL, "__call__", o) for o in self.origin_of(expression)
                        ),
                    )

    def def_line(self, node: cst.FunctionDef | cst.ClassDef) -> int:
        if node.decorators:
            return self.line(node.decorators[0].decorator)
        return self.line(node.name)

    def stmt_function(self, node: cst.FunctionDef) -> None:
        name = node.name.value
        line = self.def_line(node)
        if self.scope is not None or not self.at_definition_level():
            self.nested_function(node, name, line)
            return
        cls = self.cls
        if cls is not None:
            cls.names.add(name)
            qualname = f"{cls.qualname}.{name}"
            sink = self.definition(qualname, DefKind.METHOD, line)
        else:
            qualname = name
            sink = self.definition(name, DefKind.FUNCTION, line)
        with self.using(sink=sink):
            self.decorator_refs(node.decorators, sink)
            self.parameters(node.params)
            self.return_annotation(node)
        for param in all_params(node.params):
            if param.default is not None:
                # Defaults are evaluated once, at definition: ``def main(args=sys.argv)``.
                self.defaults.add(qualname, param.default)
        scope = self.new_scope(node.params)
        if cls is not None:
            self.method_self(node, scope, cls)
        with self.using(sink=sink, scope=scope, cls=None, nested_prefix=f"{qualname}.<locals>."):
            self.stmt(node.body)
        _finish_function(sink, node)

    def nested_function(self, node: cst.FunctionDef, name: str, line: int) -> None:
        """A function nested in a function (or in a class inside one): its own NESTED
        definition; decorators, defaults and annotations belong to the enclosing code."""
        self.decorator_refs(node.decorators, Sink("", None, 0))
        self.parameters(node.params)
        self.return_annotation(node)
        scope = self.new_scope(node.params)
        if self.scope is None:  # not inside a function: keep it in the current definition
            self.bind(name)
            with self.using(scope=scope):
                self.stmt(node.body)
            return
        sink, prefix = self.nested_sink(name, line)
        if not self.in_local_class:
            self.bind(name, (Sym(f"N:{sink.qualname}"),))
        saved = self.in_local_class
        self.in_local_class = False
        try:
            with self.using(sink=sink, scope=scope, nested_prefix=prefix):
                self.stmt(node.body)
        finally:
            self.in_local_class = saved
        _finish_function(sink, node)

    def return_annotation(self, node: cst.FunctionDef) -> None:
        if node.returns is not None:
            with self.using(mode=RefKind.ANNOTATION):
                self.expr(node.returns.annotation)

    def method_self(self, node: cst.FunctionDef, scope: Scope, cls: ClassContext) -> None:
        """Mark the method's first positional parameter as ``self`` or ``cls``."""
        params = [*node.params.posonly_params, *node.params.params]
        if not params:
            return
        decorators = {(dotted(d.decorator) or [""])[-1] for d in node.decorators}
        if "staticmethod" in decorators:
            return
        cls_sink = cls.sink
        metaclass = any(b in ("type", "builtins.type") for b in cls_sink.bases)
        is_cls = "classmethod" in decorators or node.name.value in CLS_METHODS or metaclass
        scope.self_name = params[0].name.value
        scope.self_kind = RefKind.CLS_ATTR if is_cls else RefKind.SELF_ATTR
        scope.class_qualname = cls.qualname

    def stmt_class(self, node: cst.ClassDef) -> None:
        name = node.name.value
        line = self.def_line(node)
        if self.scope is not None or not self.at_definition_level():
            # A class inside a function: its code is part of the function's; its methods are
            # nested definitions (``f.<locals>.C.m``).
            self.decorator_refs(node.decorators, Sink("", None, 0))
            for arg in node.bases:
                self.expr(arg.value)
            for arg in node.keywords:
                self.expr(arg.value)
            if not self.in_local_class:
                self.bind(name)
            saved = self.in_local_class
            self.in_local_class = True
            try:
                with self.using(nested_prefix=f"{self.nested_prefix}{name}."):
                    self.stmt(node.body)
            finally:
                self.in_local_class = saved
            return
        outer = self.cls
        qualname = f"{outer.qualname}.{name}" if outer is not None else name
        if outer is not None:
            outer.names.add(name)
        sink = self.definition(qualname, DefKind.CLASS, line)
        with self.using(sink=sink):
            self.decorator_refs(node.decorators, sink)
            for arg in node.bases:
                self.base(arg, sink)
            for arg in node.keywords:
                keyword = arg.keyword.value if arg.keyword is not None else ""
                parts = dotted(arg.value)
                if keyword == "metaclass" and parts is not None:
                    self.emit(
                        self.line(arg.value),
                        ((RefKind.METACLASS, self.global_name(parts), ""),),
                    )
                else:
                    self.expr(arg.value)
        with self.using(sink=sink, cls=ClassContext(qualname, sink)):
            self.stmt(node.body)

    def base(self, arg: cst.Arg, sink: Sink) -> None:
        value = arg.value
        generic = value
        if isinstance(generic, cst.Subscript):
            generic = generic.value
        parts = dotted(generic)
        if parts is None or arg.star:
            self.expr(value)
            return
        name = self.global_name(parts)
        sink.bases.append(name)
        self.emit(self.line(value), ((RefKind.BASE_CLASS, name, ""),))
        if isinstance(value, cst.Subscript):
            for element in value.slice:
                with self.using(mode=RefKind.ANNOTATION):
                    self.generic(element.slice)

    # -- results -----------------------------------------------------------------------------

    def run(self, module: cst.Module) -> ModuleSummary:
        for statement in module.body:
            self.stmt(statement)
        module_names = {q for q in self.defs if "." not in q} | self.import_names
        resolver = OriginResolver(module_names)
        definitions = tuple(
            Definition(
                qualname=sink.qualname,
                kind=sink.kind,
                line=sink.line,
                references=resolve_references(sink.pending, resolver),
                imports=tuple(sink.imports),
                bases=tuple(sink.bases),
                decorators=tuple(sink.decorators),
                returns=resolve_origins(sink.returns, resolver),
                assigns=tuple(
                    dict.fromkeys(
                        (attr, origin)
                        for attr, sym in sink.assigns
                        for origin in resolver.resolve(sym)
                    )
                ),
            )
            for sink in self.defs.values()
            if sink.kind is not None
        )
        functions = {
            d.qualname: (d.references, d.imports) for d in definitions if d.kind is DefKind.FUNCTION
        }
        defined = frozenset(self.defs)
        volatile = {
            **self.volatile.decide(self.module_imports, functions, defined),
            **self.defaults.decide(self.module_imports, functions, defined),
        }
        if volatile:
            definitions = tuple(
                dataclasses.replace(
                    d, volatile=volatile[d.qualname][0], expression=volatile[d.qualname][1]
                )
                if d.qualname in volatile
                else d
                for d in definitions
            )
        all_names = tuple(self.all_names) if self.all_valid and self.all_names is not None else None
        return ModuleSummary(
            definitions=definitions,
            imports=tuple(self.module_imports),
            star_imports=tuple(self.star_imports),
            all_names=all_names,
            module_references=resolve_references(self.module_sink.pending, resolver),
        )


def _finish_function(sink: Sink, node: cst.FunctionDef) -> None:
    """A generator or coroutine function returns a builtin object, not its return values."""
    if sink.generator:
        sink.returns[:] = [Sym("B:generator")]
    elif node.asynchronous is not None:
        sink.returns[:] = [Sym("B:coroutine")]


def _exception_origins(node: cst.CSTNode | None) -> tuple[Sym, ...]:
    """``except E as e`` / ``except (E, F) as e``: an instance of one of the named types."""
    items = node.elements if isinstance(node, cst.Tuple) else [node] if node else []
    found: list[Sym] = []
    for item in items:
        value = item.value if isinstance(item, cst.Element) else item
        parts = dotted(value) if isinstance(value, cst.CSTNode) else None
        found.append(Sym(f"T:{'.'.join(parts)}") if parts else UNKNOWN)
    return tuple(found) or (UNKNOWN,)
