"""The origin of the value an expression produces (see ``astoken._model``, "Origins"): pure
readings of the walk's position, which record nothing."""

from __future__ import annotations

import libcst as cst

from astoken._model import ORIGIN_CLS, ORIGIN_SELF, RefKind

from ._context import WalkContext
from ._scopes import ARGUMENT, UNKNOWN, Sym
from ._syntax import annotation_type, dotted, is_super_call, literal_type
from ._tables import BUILTIN_RESULTS, IMPLICIT_NAMES

SELF = Sym(ORIGIN_SELF)
CLS = Sym(ORIGIN_CLS)


class OriginReader:
    """Symbolic origins of names and expressions where the walk is."""

    def __init__(self, ctx: WalkContext) -> None:
        self.ctx = ctx

    def name_origin(self, name: str) -> Sym:
        """The origin of the value a bare name holds here."""
        if name in ("None", "True", "False"):
            return Sym("B:NoneType" if name == "None" else "B:bool")
        scope = self.ctx.scope
        if scope is not None and name == scope.self_name and scope.self_kind is not None:
            return CLS if scope.self_kind is RefKind.CLS_ATTR else SELF
        if name in IMPLICIT_NAMES:
            return UNKNOWN
        base = f"V:{self.ctx.global_name([name])}"
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
        kind = type(node)  # exact types: see _syntax.IS_NODE
        if kind is cst.Call:
            assert isinstance(node, cst.Call)  # exact type (checked above): no ABC walk
            return self.call_origin(node)
        if kind is cst.Attribute:
            assert isinstance(node, cst.Attribute)
            if is_super_call(node.value):
                return (SELF.then(f".{node.attr.value}"),)
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
            kind is cst.UnaryOperation and type(getattr(node, "operator", None)) is cst.Not
        ):
            return (Sym("B:bool"),)
        return (UNKNOWN,)

    def call_origin(self, node: cst.Call) -> tuple[Sym, ...]:
        parts = dotted(node.func)
        if parts is not None and len(parts) == 1:
            name = parts[0]
            if name == "super":
                return (SELF,)
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
