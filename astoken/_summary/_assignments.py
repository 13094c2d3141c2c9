"""Assignments: definitions of constants at module and class level, bindings in functions, and
module code that changes a constant."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager

import libcst as cst

from astoken._model import DefKind, RefKind

from ._expressions import ExpressionReader
from ._reader import Reader, WalkParts
from ._scopes import Sink, Sym
from ._syntax import annotation_type, paired_elements
from ._syntax import target_names as _target_names
from ._tables import AUGMENTED_OPS, DECLARED_DEPS


class AssignmentReader(Reader):
    """Reads ``=``, annotated and augmented assignments."""

    def __init__(self, parts: WalkParts, *, expressions: ExpressionReader) -> None:
        super().__init__(parts)
        self.expressions = expressions

    def assign(self, node: cst.Assign) -> None:
        ctx = self.ctx
        expressions = self.expressions
        value = node.value
        targets = [t.target for t in node.targets]
        line = ctx.line(node)
        if not ctx.at_definition_level():
            expressions.expr(value)
            self.unpacking(targets, value, line)
            # Every part's origins before any binding: ``a, b = b, a`` reads the old ones.
            bound = self.bound_parts(targets, value)
            for part, origins in bound:
                expressions.target(part, origins)
            return
        if ctx.cls is not None and any(
            isinstance(t, cst.Name) and t.value in DECLARED_DEPS for t in targets
        ):
            expressions.declared(value)
            return
        if ctx.cls is None and any(
            isinstance(t, cst.Name) and t.value == "__all__" for t in targets
        ):
            self.names.set_all(value, extend=False)
        other_targets = [t for t in targets if not _target_names(t)]
        if all(not _target_names(t) for t in targets) and other_targets and ctx.cls is None:
            # ``REGISTRY[key] = f`` / ``obj.attr = f``: module code that changes a constant.
            with self.mutating(other_targets[0]):
                expressions.expr(value)
                for target in other_targets:
                    expressions.target(target)
            return
        sinks: list[Sink] = []
        for part, origins in self.bound_parts(targets, value):
            unpacked = not isinstance(part, cst.Name)
            for name in _target_names(part):
                sink = self.constant_sink(
                    name.value, ctx.line(name), lambda_value=isinstance(value, cst.Lambda)
                )
                if sink is not None:
                    sinks.append(sink)
                    sink.returns.extend(o.then("*") if unpacked else o for o in origins)
                    self.defines(sink, value)
        self.value_into(sinks, value, line, targets)
        for target in other_targets:
            expressions.target(target)

    def bound_parts(
        self, targets: Sequence[cst.CSTNode], value: cst.CSTNode
    ) -> list[tuple[cst.CSTNode, tuple[Sym, ...]]]:
        """Each part of each target with the origins it receives: a tuple or list display
        unpacked into a target of its shape gives each name its own element's origins
        (``a, b = f, g``: ``a`` holds ``f``), anything else the whole value's."""
        whole = self.origins.origin_of(value)
        return [
            (part, whole if given is value else self.origins.origin_of(given))
            for target in targets
            for part, given in paired_elements(target, value)
        ]

    def annotated(self, node: cst.AnnAssign) -> None:
        ctx = self.ctx
        expressions = self.expressions
        target = node.target
        if not ctx.at_definition_level():
            with ctx.using(mode=RefKind.ANNOTATION):
                expressions.expr(node.annotation.annotation)
            if node.value is not None:
                expressions.expr(node.value)
                declared = annotation_type(node.annotation)
                origins = (
                    (Sym(f"T:{declared}"),) if declared else self.origins.origin_of(node.value)
                )
                expressions.target(target, origins)
            elif not isinstance(target, cst.Name):
                expressions.target(target)
            return
        if not isinstance(target, cst.Name) or node.value is None:
            with ctx.using(mode=RefKind.ANNOTATION):
                expressions.expr(node.annotation.annotation)
            if node.value is not None:
                expressions.expr(node.value)
            if not isinstance(target, cst.Name):
                expressions.target(target)
            return
        if ctx.cls is not None and target.value in DECLARED_DEPS:
            expressions.declared(node.value)
            return
        if ctx.cls is None and target.value == "__all__":
            self.names.set_all(node.value, extend=False)
        sink = self.constant_sink(
            target.value, ctx.line(target), lambda_value=isinstance(node.value, cst.Lambda)
        )
        if sink is not None:
            sink.returns.extend(self.origins.origin_of(node.value))
            self.defines(sink, node.value)
        with ctx.using(sink=sink or ctx.sink):
            with ctx.using(mode=RefKind.ANNOTATION):
                expressions.expr(node.annotation.annotation)
            expressions.expr(node.value)

    def augmented(self, node: cst.AugAssign) -> None:
        ctx = self.ctx
        expressions = self.expressions
        target = node.target
        names = AUGMENTED_OPS.get(type(node.operator), ())
        line = ctx.line(node)
        sink: Sink | None = None
        if ctx.at_definition_level() and isinstance(target, cst.Name):
            if ctx.cls is None and target.value == "__all__":
                self.names.set_all(node.value, extend=True)
            sink = self.constant_sink(target.value, ctx.line(target), lambda_value=False)
            if sink is not None:
                self.defines(sink, node)  # the operator counts: ``X += getpid()``
        with ctx.using(sink=sink or ctx.sink):
            if sink is None:  # (with a sink, the name is the definition being extended)
                if isinstance(target, cst.Name):
                    expressions.expr(target)
                    self.scopes.bind(target.value, ())  # keeps the origins it had
                elif isinstance(target, cst.Attribute):
                    # ``self.x += y`` keeps x's origins, and is an assignment of x.
                    expressions.target(target, self.origins.origin_of(target))
                else:
                    expressions.target(target)
            expressions.expr(node.value)
            if names and sink is None:  # a constant's value is hashed, not its operators
                self.refs.protocol(target, names[:2], line)
                self.refs.protocol(node.value, names[2:], line)

    def constant_sink(self, name: str, line: int, *, lambda_value: bool) -> Sink | None:
        """The definition an assignment to ``name`` at module/class level goes to."""
        ctx = self.ctx
        if ctx.cls is not None:
            if name in DECLARED_DEPS:
                return None
            ctx.cls.names.add(name)
            return ctx.definition(f"{ctx.cls.qualname}.{name}", DefKind.CONSTANT, line)
        if ctx.in_handler and name in self.names.import_names:
            return None  # ``except ImportError: x = None``: the import stays the binding
        kind = DefKind.FUNCTION if lambda_value else DefKind.CONSTANT
        return ctx.definition(name, kind, line)

    def defines(self, sink: Sink, value: cst.CSTNode) -> None:
        """``value`` is (part of) the definition of constant ``sink``."""
        if sink.kind is DefKind.CONSTANT:
            self.ctx.volatile.add(sink.qualname, value)

    def value_into(
        self, sinks: list[Sink], value: cst.CSTNode, line: int, targets: Sequence[cst.CSTNode]
    ) -> None:
        """Walk a module/class-level value once, into every definition it binds."""
        if not sinks:
            sinks = [self.ctx.sink]
        first, rest = sinks[0], sinks[1:]
        start = len(first.pending)
        with self.ctx.using(sink=first):
            self.expressions.expr(value)
            self.unpacking(targets, value, line)
        for other in rest:
            other.pending.extend(first.pending[start:])

    def unpacking(self, targets: Sequence[cst.CSTNode], value: cst.CSTNode, line: int) -> None:
        if any(isinstance(t, (cst.Tuple, cst.List)) for t in targets):
            self.refs.protocol(value, ("__iter__", "__next__"), line)

    @contextmanager
    def mutating(self, target: cst.CSTNode) -> Iterator[None]:
        """Module code that changes a module-level constant (``NAME[k] = v``, ``NAME.attr = v``,
        ``NAME.append(v)``): its references stay module references and, for recall, are also
        merged into constant NAME's definition."""
        while isinstance(target, (cst.Subscript, cst.Attribute)):
            target = target.value
        constant = None
        if isinstance(target, cst.Name):
            constant = self.ctx.defs.get(target.value)
        start = len(self.ctx.sink.pending)
        yield
        if constant is not None and constant.kind is DefKind.CONSTANT:
            constant.pending.extend(self.ctx.sink.pending[start:])
