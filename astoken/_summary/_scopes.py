"""Scopes, origins and where references go, for the summary walk.

A name used in a function is only known to be local once the whole function has been read (it
may be assigned further down), and the origins of a local are every value assigned to it
anywhere in its scope (flow-insensitive: sound for any order of execution). So the walk records
*symbolic* references and origins (:class:`Sym`) and :class:`OriginResolver` turns them into
final :class:`~astoken._model.Reference` values when the module is done.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from astoken._model import (
    ORIGIN_ARGUMENT,
    ORIGIN_UNKNOWN,
    DefKind,
    ImportBinding,
    Reference,
    RefKind,
    join_origin,
    split_origin,
)

from ._tables import BUILTIN_RESULTS, CONTAINER_OF_ARGUMENT, ELEMENT_OF_ARGUMENT

#: A local has at most this many distinct origins; more are folded into "unknown".
MAX_ORIGINS = 8


@dataclass(frozen=True, slots=True, eq=False)
class Sym:
    """An origin as written, resolved when the walk is over.

    ``base`` is a final origin base (see ``astoken._model``, "Origins"). When ``local`` is set,
    the origin is that of name ``local`` if it turns out local to ``scope`` (its assigned
    values), else ``base`` (the name as a module-level value). When ``builtin`` is set, it is
    the result of calling that builtin (unless the name is bound: then it is a call of what the
    name holds), whose first argument has the origins ``args``. ``ops`` apply after the result
    in every case.
    """

    base: str = ORIGIN_UNKNOWN
    ops: tuple[str, ...] = ()
    local: str = ""
    scope: Scope | None = None
    builtin: str = ""
    args: tuple[Sym, ...] = ()

    def then(self, *ops: str) -> Sym:
        """This origin followed by more operations."""
        if self.base in (ORIGIN_UNKNOWN, ORIGIN_ARGUMENT) and not self.local and not self.builtin:
            return self
        # The constructor, not dataclasses.replace: a tenth of the summary walk went to
        # replace's field-by-field copy.
        return Sym(self.base, self.ops + ops, self.local, self.scope, self.builtin, self.args)


UNKNOWN = Sym()
ARGUMENT = Sym(ORIGIN_ARGUMENT)


@dataclass(slots=True, eq=False)
class Scope:
    """A function, lambda or comprehension scope."""

    parent: Scope | None
    comprehension: bool = False
    locals: set[str] = field(default_factory=set)
    globals: set[str] = field(default_factory=set)
    nonlocals: set[str] = field(default_factory=set)
    origins: dict[str, list[Sym]] = field(default_factory=dict)
    # The method's first parameter (``self``/``cls``), inherited by nested scopes.
    self_name: str | None = None
    self_kind: RefKind | None = None
    class_qualname: str = ""

    def is_local(self, name: str) -> bool:
        return self.binding(name) is not None

    def names_own_class(self, receiver: str) -> bool:
        """Whether ``receiver`` names the class whose method this is: ``cls`` in a class
        method, or the class's own name (``Owner.count``)."""
        owner = self.class_qualname
        return bool(owner) and (
            (receiver == self.self_name and self.self_kind is RefKind.CLS_ATTR)
            or receiver == owner.rpartition(".")[2]
        )

    def binding(self, name: str) -> Scope | None:
        """The scope in which ``name`` is local, or None when it is a module-level name."""
        scope: Scope | None = self
        while scope is not None:
            if name in scope.globals:
                return None
            if name in scope.locals and name not in scope.nonlocals:
                return scope
            scope = scope.parent
        return None

    def binding_scope(self) -> Scope:
        """Where a walrus binds: the nearest scope that is not a comprehension."""
        scope = self
        while scope.comprehension and scope.parent is not None:
            scope = scope.parent
        return scope

    def add_origins(self, name: str, origins: tuple[Sym, ...]) -> None:
        if name in self.globals:
            return
        if name in self.nonlocals and self.parent is not None:
            owner = self.parent.binding(name)
            if owner is not None:
                owner.add_origins(name, origins)
                return
        self.locals.add(name)
        self.origins.setdefault(name, []).extend(origins)


# A reference before its receiver and locality are known: (kind, name, receiver), the receiver
# a final origin string or a symbolic one. A plain tuple: the walk builds one for nearly every
# name it reads.
PendingRef = tuple[RefKind, str, "str | Sym"]


@dataclass(frozen=True, slots=True, eq=False)
class PendingReference:
    """References made at ``line``, resolved when the walk is over: a name assigned anywhere in
    a function is local everywhere in it, so which variant applies is known only then.

    ``if_local`` applies when ``root`` is local to ``scope``, else ``if_global``; with no
    ``scope`` (module or class code, a ``global`` name, a reference that does not depend on a
    name) it is always ``if_global``.
    """

    line: int
    scope: Scope | None
    root: str
    if_global: tuple[PendingRef, ...]
    if_local: tuple[PendingRef, ...] = ()


@dataclass(slots=True, eq=False)
class Sink:
    """Where references go: a definition being built, or the module's own code."""

    qualname: str
    kind: DefKind | None
    line: int
    pending: list[PendingReference] = field(default_factory=list)
    imports: list[ImportBinding] = field(default_factory=list)
    bases: list[str] = field(default_factory=list)
    decorators: list[str] = field(default_factory=list)
    returns: list[Sym] = field(default_factory=list)
    yields: list[Sym] = field(default_factory=list)
    assigns: list[tuple[str, Sym]] = field(default_factory=list)
    generator: bool = False
    lambdas: int = 0  # lambdas named so far in this definition (for ``<lambda>#2``)


@dataclass(slots=True, eq=False)
class ClassContext:
    qualname: str
    sink: Sink
    names: set[str] = field(default_factory=set)  # bound in the class body so far


class OriginResolver:
    """Turns symbolic origins into final origin strings once every scope is complete."""

    def __init__(self, module_names: set[str]) -> None:
        self.module_names = module_names
        self.memo: dict[tuple[int, str], tuple[str, ...]] = {}

    def resolve(self, sym: Sym) -> tuple[str, ...]:
        """The distinct origins of ``sym`` (at most MAX_ORIGINS, plus unknown beyond that)."""
        found = self._resolve(sym, frozenset())
        unique = list(dict.fromkeys(found)) or [ORIGIN_UNKNOWN]
        if len(unique) > MAX_ORIGINS:
            unique = [*unique[:MAX_ORIGINS], ORIGIN_UNKNOWN]
            unique = list(dict.fromkeys(unique))
        return tuple(unique)

    def _resolve(self, sym: Sym, active: frozenset[tuple[int, str]]) -> list[str]:
        called = ("()",) if sym.builtin else ()
        if sym.local and sym.scope is not None:
            owner = sym.scope.binding(sym.local)
            if owner is not None:
                bases = self._local(owner, sym.local, active)
                return [_extend(base, called + sym.ops) for base in bases]
        if sym.builtin and sym.builtin not in self.module_names:
            return self._builtin(sym, active)
        return [join_origin(sym.base, called + sym.ops)]

    def _local(
        self, owner: Scope, name: str, active: frozenset[tuple[int, str]]
    ) -> tuple[str, ...]:
        key = (id(owner), name)
        cached = self.memo.get(key)
        if cached is not None:
            return cached
        if key in active:
            return ()  # ``x = x.next`` in a loop: the other assignments give x's origins
        inner = active | {key}
        out: list[str] = []
        for origin in owner.origins.get(name, ()):
            out.extend(self._resolve(origin, inner))
        result = tuple(dict.fromkeys(out)) or (ORIGIN_UNKNOWN,)
        if not active:  # only a complete (outermost) answer is kept
            self.memo[key] = result
        return result

    def _builtin(self, sym: Sym, active: frozenset[tuple[int, str]]) -> list[str]:
        name = sym.builtin
        args: list[str] = []
        for arg in sym.args:
            args.extend(self._resolve(arg, active))
        if (
            args
            and all(a == ORIGIN_ARGUMENT for a in args)
            and (name in ELEMENT_OF_ARGUMENT or name in CONTAINER_OF_ARGUMENT)
        ):
            return [ORIGIN_ARGUMENT]
        if name in ELEMENT_OF_ARGUMENT:
            return [_extend(a, ("*", *sym.ops)) for a in args] or [ORIGIN_UNKNOWN]
        result = BUILTIN_RESULTS.get(name, "")
        return [join_origin(f"B:{result}" if result else ORIGIN_UNKNOWN, sym.ops)]


def _extend(origin: str, ops: tuple[str, ...]) -> str:
    if not ops:
        return origin
    base, before = split_origin(origin)
    return join_origin(base, before + ops)


def resolve_references(
    pending: list[PendingReference], resolver: OriginResolver
) -> tuple[Reference, ...]:
    """Pick each pending reference's local/global variant, resolve receivers, de-duplicate on
    ``(kind, name, receiver)`` keeping the first line."""
    seen: set[tuple[RefKind, str, str]] = set()
    out: list[Reference] = []
    for entry in pending:
        scope = entry.scope
        line = entry.line
        local = scope is not None and scope.is_local(entry.root)
        for kind, name, receiver in entry.if_local if local else entry.if_global:
            receivers = resolver.resolve(receiver) if isinstance(receiver, Sym) else (receiver,)
            for one in receivers:
                key = (kind, name, one)
                if key not in seen:
                    seen.add(key)
                    out.append(Reference(kind, name, line, one))
    return tuple(out)


def resolve_origins(syms: list[Sym], resolver: OriginResolver) -> tuple[str, ...]:
    """The distinct final origins of a list of symbolic origins (empty list -> empty)."""
    out: list[str] = []
    for sym in syms:
        out.extend(resolver.resolve(sym))
    return tuple(dict.fromkeys(out))
