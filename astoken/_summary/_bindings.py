"""Scopes and what names are bound to, as the walk enters functions, lambdas and
comprehensions (guarantees 4, 6 and 7 of the package)."""

from __future__ import annotations

import libcst as cst

from astoken._model import DefKind, RefKind

from ._context import WalkContext
from ._origins import OriginReader
from ._scopes import UNKNOWN, ClassContext, Scope, Sink, Sym
from ._syntax import all_params, dotted
from ._tables import CLS_METHODS


class ScopeTracker:
    """Opens scopes and binds names in the innermost one (or in the class body being read)."""

    def __init__(self, ctx: WalkContext, origins: OriginReader) -> None:
        self.ctx = ctx
        self.origins = origins

    def bind(self, name: str, origins: tuple[Sym, ...] = (UNKNOWN,)) -> None:
        """``name`` is bound here to a value of ``origins`` (a local in a function)."""
        ctx = self.ctx
        scope = ctx.scope
        if scope is not None:
            if name in scope.globals:
                # ``global COUNT; COUNT += 1``: the module constant is state the code changes.
                ctx.volatile.rebind(name, ctx.sink.qualname)
            scope.add_origins(name, origins)
        elif ctx.cls is not None:
            ctx.cls.names.add(name)

    def bind_walrus(self, name: str, origins: tuple[Sym, ...]) -> None:
        """``(name := value)``: bound in the nearest scope that is not a comprehension."""
        scope = self.ctx.scope
        if scope is not None:
            scope.binding_scope().add_origins(name, origins)
        else:
            self.bind(name, origins)

    def declare_global(self, names: list[str]) -> None:
        scope = self.ctx.scope
        if scope is not None:
            for name in names:
                scope.globals.add(name)
                scope.locals.discard(name)

    def declare_nonlocal(self, names: list[str]) -> None:
        scope = self.ctx.scope
        if scope is not None:
            for name in names:
                scope.nonlocals.add(name)
                scope.locals.add(name)

    def new_scope(self, params: cst.Parameters | None, *, comprehension: bool = False) -> Scope:
        """A scope for a function/lambda (with ``params``) or a comprehension. Parameter
        origins (declared type, caller's object, default) are read in the enclosing scope."""
        parent = self.ctx.scope
        origins: list[tuple[str, tuple[Sym, ...]]] = []
        if params is not None:
            stars = {id(params.star_arg), id(params.star_kwarg)}
            parameter_origins = self.origins.parameter_origins
            for param in all_params(params):
                origins.append(
                    (param.name.value, parameter_origins(param, star=id(param) in stars))
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

    def nested_sink(self, name: str, line: int) -> tuple[Sink, str]:
        """A definition for a function or lambda nested in the current one, and its prefix
        for what it nests in turn; the enclosing definition gets a NESTED reference to it."""
        ctx = self.ctx
        parent = ctx.sink
        if name == "<lambda>":
            parent.lambdas += 1
            if parent.lambdas > 1:
                name = f"<lambda>#{parent.lambdas}"
        qualname = f"{ctx.nested_prefix}{name}"
        sink = ctx.definition(qualname, DefKind.NESTED, line)
        ctx.emit(line, ((RefKind.NESTED, qualname, ""),))
        return sink, f"{qualname}.<locals>."

    def store_attribute(self, node: cst.Attribute, origins: tuple[Sym, ...]) -> None:
        """``self.x = value`` in a method: state of the class, typed by ``origins``."""
        ctx = self.ctx
        scope = ctx.scope
        parts = dotted(node)
        if scope is None or parts is None or len(parts) != 2:
            return
        if parts[0] == scope.self_name and scope.self_kind is not None:
            ctx.sink.assigns.extend((parts[1], o) for o in origins)
        if scope.names_own_class(parts[0]):
            # ``cls.count += 1`` / ``Owner.count = n`` in the class's own code: the class
            # constant is state the code changes at run time.
            ctx.volatile.rebind(f"{scope.class_qualname}.{parts[1]}", ctx.sink.qualname)
