"""References made by names, dotted chains, protocols and the builtins that stand for them
(guarantee 3 of the package: where the source does not say exactly what runs, a reference is
recorded anyway)."""

from __future__ import annotations

import builtins
from collections.abc import Sequence

import libcst as cst

from astoken._model import RefKind

from ._context import WalkContext
from ._origins import CLS, SELF, OriginReader
from ._scopes import UNKNOWN, PendingRef, Scope, Sym
from ._syntax import dotted, is_super_call, literal_type, string_value
from ._tables import ATTR_BUILTINS, BOOL_OPERANDS, BUILTIN_PROTOCOLS, IMPLICIT_NAMES

#: Builtin names: objects handed to them do not escape (see ``ReferenceRecorder.passed``).
_BUILTIN_NAMES = frozenset(dir(builtins))
#: What ``passed_origins`` hands on the elements of, by exact type.
_DISPLAYS = frozenset({cst.List, cst.Tuple, cst.Set})
_ELEMENT_COMPREHENSIONS = frozenset({cst.ListComp, cst.SetComp, cst.GeneratorExp})


class ReferenceRecorder:
    """Records what a name, a chain or an operation on a value refers to."""

    def __init__(self, ctx: WalkContext, origins: OriginReader) -> None:
        self.ctx = ctx
        self.origins = origins

    def chain(self, parts: list[str], line: int, *, called: bool, raised: bool = False) -> None:
        """References of a name or dotted chain, loaded, stored or called. ``raised``: the
        operand of ``raise``, a call where it names a class (Python raises ``E()``) and a plain
        read where it is a local (which holds an instance)."""
        root = parts[0]
        if root in IMPLICIT_NAMES:
            return
        ctx = self.ctx
        mode = ctx.mode
        scope = ctx.scope
        if (
            scope is not None
            and root == scope.self_name
            and scope.self_kind is not None
            and mode is not RefKind.ANNOTATION
        ):
            self.self_chain(scope, parts, line, called=called)
            return
        if mode is not None:
            ctx.emit_dep(line, root, ((mode, ctx.global_name(parts), ""),), ())
            return
        last = len(parts) - 1
        kind = (
            RefKind.CALL if called or raised else RefKind.VALUE if last == 0 else RefKind.ATTRIBUTE
        )
        if_global: tuple[PendingRef, ...] = ((kind, ctx.global_name(parts), ""),)
        if_local: tuple[PendingRef, ...] = ()
        if scope is not None:
            local = Sym(local=root, scope=scope)
            if last == 0:
                if called:
                    if_local = ((RefKind.PROTOCOL, "__call__", local),)
            else:
                if_local = member_refs(local, parts[1:], called=called)
        ctx.emit_dep(line, root, if_global, if_local)

    def self_chain(self, scope: Scope, parts: list[str], line: int, *, called: bool) -> None:
        kind = scope.self_kind
        assert kind is not None
        own = CLS if kind is RefKind.CLS_ATTR else SELF
        emit = self.ctx.emit
        if len(parts) == 1:
            if called and kind is RefKind.CLS_ATTR and scope.class_qualname:
                emit(line, ((RefKind.CALL, scope.class_qualname, ""),))
            elif called:
                emit(line, ((RefKind.PROTOCOL, "__call__", own),))
            return
        refs: tuple[PendingRef, ...] = ((kind, parts[1], ""),)
        if len(parts) > 2:
            refs += member_refs(own.then(f".{parts[1]}"), parts[2:], called=called)
        elif called:
            # ``self.handler()`` where handler is data (a callable stored in __init__).
            refs += ((RefKind.PROTOCOL, "__call__", own.then(f".{parts[1]}")),)
        emit(line, refs)

    def on_value(self, kind: RefKind, name: str, value: cst.CSTNode, line: int) -> None:
        """A member ``name`` of whatever ``value`` evaluates to."""
        self.ctx.emit(line, tuple((kind, name, o) for o in self.origins.origin_of(value)))

    def protocol(self, operand: cst.CSTNode, names: tuple[str, ...], line: int) -> None:
        """Protocol methods invoked on ``operand`` (none for literals)."""
        if self.ctx.mode is not None or literal_type(operand) is not None:
            return
        origins = self.origins.origin_of(operand)
        self.ctx.emit(line, tuple((RefKind.PROTOCOL, n, o) for n in names for o in origins))

    def truth(self, operand: cst.CSTNode, line: int) -> None:
        """``if x`` / ``not x`` / ``x and y``: __bool__ and __len__ of plain values only
        (a comparison or call result is almost always a builtin bool or object)."""
        if isinstance(operand, BOOL_OPERANDS):
            self.protocol(operand, ("__bool__", "__len__"), line)

    def iteration(self, iterable: cst.CSTNode, *, asynchronous: bool, line: int) -> None:
        names = ("__aiter__", "__anext__") if asynchronous else ("__iter__", "__next__")
        self.protocol(iterable, names, line)

    def special_call(self, parts: list[str], node: cst.Call, line: int) -> None:
        """Builtins and library calls that stand for protocols, attributes or imports."""
        name = parts[-1]
        positional = [a.value for a in node.args if not a.keyword and not a.star]
        scope = self.ctx.scope
        if len(parts) == 1 and scope is not None and scope.is_local(name):
            return  # a local that shadows the builtin
        if len(parts) == 1 and name in BUILTIN_PROTOCOLS and positional:
            self.protocol(positional[0], BUILTIN_PROTOCOLS[name], line)
        elif len(parts) == 1 and name in ATTR_BUILTINS and len(positional) >= 2:
            self.attribute_builtin(name, positional[0], positional[1], line)
        elif len(parts) == 1 and name in ("eval", "exec"):
            self.ctx.emit(line, ((RefKind.DYNAMIC, name, ""),))
        elif (len(parts) == 1 and name == "__import__") or (
            name == "import_module" and parts[:-1] in ([], ["importlib"])
        ):
            self.import_call(positional, line)

    def attribute_builtin(
        self, name: str, target: cst.CSTNode, attr_node: cst.CSTNode, line: int
    ) -> None:
        """``getattr(x, "a")``, ``setattr``, ``hasattr``...: the attribute, if it is named."""
        attr = string_value(attr_node)
        if attr is None or not attr.isidentifier():
            # With the receiver's origin: an object whose attribute is computed escapes.
            self.on_value(RefKind.DYNAMIC, name, target, line)
            return
        target_parts = dotted(target)
        if target_parts is not None:
            self.chain([*target_parts, attr], line, called=False)
        elif is_super_call(target):
            self.ctx.emit(line, ((RefKind.SUPER_ATTR, attr, ""),))
        else:
            self.on_value(RefKind.ATTRIBUTE, f".{attr}", target, line)

    def passed(self, parts: list[str], node: cst.Call, line: int) -> None:
        """The objects handed to a call of a global (dotted) name: where the graph resolves
        that name to third-party code, they escape the closure (coverage.md rule 1). Objects
        of unknown origin say nothing; a builtin runs only protocols on what it is given (a
        module that binds a builtin's name to something else is the rare case left out); a
        local callee (``q.put(x)``) is not followed."""
        root = parts[0]
        scope = self.ctx.scope
        if root in IMPLICIT_NAMES or (scope is not None and root == scope.self_name):
            return
        if len(parts) == 1 and root in _BUILTIN_NAMES:
            return
        callee = self.ctx.global_name(parts)
        refs = tuple(
            (RefKind.PASSED, callee, origin)
            for arg in node.args
            for origin in self.passed_origins(arg.value)
            if origin is not UNKNOWN
        )
        if refs:
            self.ctx.emit_dep(line, root, refs, ())

    def passed_origins(self, value: cst.BaseExpression) -> tuple[Sym, ...]:
        """The origins of what an argument hands over: the elements of a display or the
        element of a comprehension (``f([Item(w) for w in ws])``), else the value itself;
        literals and lambdas hand over no object of a first-party class."""
        kind = type(value)  # exact types (see _syntax.IS_NODE); isinstance(exact) is cheap
        if kind in _DISPLAYS:
            assert isinstance(value, (cst.List, cst.Tuple, cst.Set))
            return tuple(o for e in value.elements for o in self.passed_origins(e.value))
        if kind is cst.Dict:
            assert isinstance(value, cst.Dict)
            return tuple(
                o
                for e in value.elements
                if type(e) is cst.DictElement
                for o in self.passed_origins(e.value)
            )
        if kind in _ELEMENT_COMPREHENSIONS:
            assert isinstance(value, (cst.ListComp, cst.SetComp, cst.GeneratorExp))
            return self.passed_origins(value.elt)
        if kind is cst.DictComp:
            assert isinstance(value, cst.DictComp)
            return self.passed_origins(value.value)
        if literal_type(value) is not None or kind is cst.Lambda:
            return ()
        return self.origins.origin_of(value)

    def import_call(self, positional: list[cst.BaseExpression], line: int) -> None:
        """``__import__("m")`` / ``importlib.import_module("m", package)``."""
        module = string_value(positional[0]) if positional else None
        package = string_value(positional[1]) if len(positional) > 1 else None
        if module is not None and module.startswith(".") and package is not None:
            # ``import_module(".x", "pkg")``: absolute here; relative to ``__package__`` or
            # ``__name__`` stays relative, for the graph to resolve in this module.
            level = len(module) - len(module.lstrip("."))
            base = package.rsplit(".", level - 1)[0] if level > 1 else package
            module = f"{base}.{module[level:]}" if module[level:] else base
        if module is None:
            self.ctx.emit(line, ((RefKind.DYNAMIC, "import_module", ""),))
        else:
            self.ctx.emit(line, ((RefKind.IMPORT, module, ""),))


def member_refs(base: Sym, attrs: Sequence[str], *, called: bool) -> tuple[PendingRef, ...]:
    """``x.a.b.c`` on a receiver of origin ``base``: attribute reads, then the final read or
    call, each on the origin of what precedes it."""
    refs: list[PendingRef] = []
    receiver = base
    for i, attr in enumerate(attrs):
        if i == len(attrs) - 1 and called:
            refs.append((RefKind.METHOD, attr, receiver))
        else:
            refs.append((RefKind.ATTRIBUTE, f".{attr}", receiver))
        receiver = receiver.then(f".{attr}")
    return tuple(refs)
