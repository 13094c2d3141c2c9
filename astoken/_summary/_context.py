"""What the readers of one module walk share: the module being read, where the walk is, and
what it has collected so far."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field

import libcst as cst

from astoken._model import DefKind, RefKind

from ._scopes import ClassContext, PendingRef, PendingReference, Scope, Sink, Sym
from ._volatile import VolatileIndex


@dataclass(slots=True, eq=False)
class WalkContext:
    """The state of one module walk; every reader holds the same one.

    Position fields change only through :meth:`using`, which restores them on the way out.
    """

    lines: dict[int, int]  # node id -> line (see ``._lines``)
    # -- collected -----------------------------------------------------------------------
    defs: dict[str, Sink] = field(default_factory=dict)  # definitions by qualified name
    module_sink: Sink = field(default_factory=lambda: Sink("", None, 0))  # module-level code
    volatile: VolatileIndex = field(default_factory=VolatileIndex)  # constants' expressions
    defaults: VolatileIndex = field(default_factory=VolatileIndex)  # functions' defaults
    #: Values function code stores into a container by name (``NAME[k] = v``,
    #: ``NAME.append(v)``): the name, the scope it was read in, the function, the value's
    #: origins, and whether it was reached through ``self`` (then an attribute the instance
    #: sets itself hides the class's). Decided once every scope is complete (``_walk``): see
    #: ``_volatile``, guarantee 7.
    stores: list[tuple[str, Scope, str, tuple[Sym, ...], bool]] = field(default_factory=list)
    # -- position ------------------------------------------------------------------------
    sink: Sink = field(init=False)  # where references go
    scope: Scope | None = None  # the innermost function, lambda or comprehension
    cls: ClassContext | None = None  # the class whose body is being read (not its methods)
    mode: RefKind | None = None  # DEFAULT/ANNOTATION/DECLARED/DECORATOR in such code
    # Qualified-name prefix of definitions nested in the current function ("f.<locals>.").
    nested_prefix: str = ""
    in_handler: bool = False  # inside a module-level ``except`` body
    in_local_class: bool = False  # inside a class body nested in a function

    def __post_init__(self) -> None:
        self.sink = self.module_sink

    def store(self, container: cst.CSTNode, origins: tuple[Sym, ...]) -> None:
        """Function code stores a value of ``origins`` into ``container`` in place: a module
        constant by name, or a constant of the class whose method it is (``cls.CACHE``,
        ``self.CACHE`` or ``Owner.CACHE``: sympy's ``factorial._small_factorials``)."""
        scope = self.scope
        if scope is None:
            return
        if isinstance(container, cst.Name):
            self.stores.append((container.value, scope, self.sink.qualname, origins, False))
        elif isinstance(container, cst.Attribute) and isinstance(container.value, cst.Name):
            owner, receiver = scope.class_qualname, container.value.value
            through_self = receiver == scope.self_name and scope.self_kind is RefKind.SELF_ATTR
            if owner and (through_self or scope.names_own_class(receiver)):
                name = f"{owner}.{container.attr.value}"
                self.stores.append((name, scope, self.sink.qualname, origins, through_self))

    def line(self, node: cst.CSTNode) -> int:
        return self.lines.get(id(node), 0)

    def emit(self, line: int, refs: tuple[PendingRef, ...]) -> None:
        """References that do not depend on whether a name is local."""
        if refs:
            self.sink.pending.append(PendingReference(line, None, "", refs))

    def emit_dep(
        self,
        line: int,
        root: str,
        if_global: tuple[PendingRef, ...],
        if_local: tuple[PendingRef, ...],
    ) -> None:
        """References that depend on whether ``root`` is local here (known once the function
        has been read)."""
        scope = self.scope
        if scope is None or root in scope.globals:
            self.emit(line, if_global)
        elif if_global or if_local:
            self.sink.pending.append(PendingReference(line, scope, root, if_global, if_local))

    def global_name(self, parts: Sequence[str]) -> str:
        """A dotted name as the graph should resolve it: class-body names get the class prefix
        (class bodies see their own earlier names, as Python does)."""
        name = ".".join(parts)
        if self.scope is None and self.cls is not None and parts[0] in self.cls.names:
            return f"{self.cls.qualname}.{name}"
        return name

    def definition(self, qualname: str, kind: DefKind, line: int) -> Sink:
        """The definition named ``qualname``, created on first sight (a name defined several
        times is one definition)."""
        sink = self.defs.get(qualname)
        if sink is None:
            sink = Sink(qualname, kind, line)
            self.defs[qualname] = sink
        return sink

    def at_definition_level(self) -> bool:
        """True in module code or a class body directly inside one (where names define)."""
        return self.scope is None and (
            self.sink is self.module_sink or (self.cls is not None and self.sink is self.cls.sink)
        )

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
        """Move the walk (False / None for "unchanged" as each field's type allows; ``scope``,
        ``cls`` and ``mode`` take None to clear them)."""
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

    @contextmanager
    def flag(
        self, *, in_handler: bool | None = None, in_local_class: bool | None = None
    ) -> Iterator[None]:
        """Set the ``except``-body / local-class flags for a while."""
        saved = (self.in_handler, self.in_local_class)
        if in_handler is not None:
            self.in_handler = in_handler
        if in_local_class is not None:
            self.in_local_class = in_local_class
        try:
            yield
        finally:
            self.in_handler, self.in_local_class = saved
