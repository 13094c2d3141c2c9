"""Type flow: what a receiver can be, from the origins the summary pass wrote.

An origin (grammar in ``astoken._model``, "Origins") is evaluated to a set of abstract
values: an instance of a first-party class, a class object, a function (bound to a class or
not), a module, a builtin value, an external value, the caller's object, or unknown.
Evaluation follows constructor calls, ``cls(...)``, return values of first-party functions and
methods (a memoised fixpoint over ``Definition.returns``), property getters, attributes that
methods assign to ``self``, class and module constants, descriptors' ``__get__`` and the
``__call__`` of callable instances. Nothing here adds edges; the builder does.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from astoken._model import (
    ORIGIN_ARGUMENT,
    ORIGIN_CLS,
    ORIGIN_SELF,
    ORIGIN_UNKNOWN,
    DefKind,
    ImportBinding,
    NodeKind,
    RefKind,
    split_origin,
)

from ._classes import assigned_attributes, is_property, lookup_member, resolve_dotted
from ._program import BUILTIN, EXTERNAL, MODULE, NODE, Program, Res

#: Deeper evaluations give up (unknown) rather than recurse without bound.
_MAX_DEPTH = 40


class ValueKind(enum.Enum):
    """What an abstract :class:`Value` is."""

    INST = "inst"  #: an instance of class ``name``
    CLASS = "class"  #: the class object ``name``
    FUNC = "func"  #: the function or method node ``name``, bound to class ``bound``
    MODULE = "module"  #: the module ``name``
    #: marks that a value came from constant ``name``: its elements are the names its
    #: definition lists
    CONST = "const"
    BUILTIN = "builtin"  #: a builtin value
    #: the generator a call of generator function ``name`` (bound to ``bound``) returns: a
    #: builtin value whose elements are what the function yields
    GENERATOR = "generator"
    BUILTIN_CALLABLE = "builtin_callable"  #: a builtin function or type (``dict``, ``len``)
    EXTERNAL = "external"  #: a third-party value
    ARGUMENT = "argument"  #: the caller's object
    UNKNOWN = "unknown"  #: nothing the flow can name


@dataclass(frozen=True, slots=True)
class Value:
    """One abstract value: a :class:`ValueKind` and, for some kinds, a node name (and the class
    a method is bound to)."""

    kind: ValueKind
    name: str = ""
    bound: str = ""


UNKNOWN = Value(ValueKind.UNKNOWN)
ARGUMENT = Value(ValueKind.ARGUMENT)
BUILTIN_VALUE = Value(ValueKind.BUILTIN)
#: A builtin function or type (``dict``, ``len``): calling it gives a builtin value.
BUILTIN_CALLABLE = Value(ValueKind.BUILTIN_CALLABLE)
EXTERNAL_VALUE = Value(ValueKind.EXTERNAL)

Values = frozenset[Value]
#: What :meth:`Flow.memoised` memoises: a kind of evaluation and its arguments.
Key = tuple[str, str, str]


@dataclass(frozen=True, slots=True)
class Context:
    """Where an origin is evaluated: the module, imports in scope, and ``self``'s class."""

    module: str
    imports: tuple[ImportBinding, ...]
    self_class: str


class Flow:
    """Evaluates origins over a :class:`~astoken._graph._program.Program` (memoised)."""

    def __init__(self, program: Program) -> None:
        self.program = program
        self.memo: dict[Key, Values] = {}
        # The fixpoint of :meth:`memoised`: keys being computed (their depth), the value a
        # cycle back to one of them sees, keys computed inside a cycle that is not settled
        # yet (the depth of the outermost key they read, and their value), those keys by that
        # depth, the outermost depth the current computation read, the depths read by a cycle,
        # and whether the current computation gave up for depth.
        self.position: dict[Key, int] = {}
        self.provisional: dict[Key, Values] = {}
        self.pending: dict[Key, tuple[int, Values]] = {}
        self.members: dict[int, list[Key]] = {}
        self.low = 0
        self.read: set[int] = set()
        self.truncated = False

    def context(self, node: str, self_class: str | None = None) -> Context:
        program = self.program
        owner = program.owner_class(node) if self_class is None else self_class
        return Context(node.partition(":")[0], program.local_imports(node), owner)

    # -- evaluation ------------------------------------------------------------------------

    def evaluate(self, origin: str, ctx: Context) -> Values:
        base, ops = split_origin(origin)
        values = self.base(base, ctx)
        for op in ops:
            if not values:
                break
            values = self.apply(values, op)
        return values

    def base(self, base: str, ctx: Context) -> Values:
        if base == ORIGIN_UNKNOWN:
            return frozenset((UNKNOWN,))
        if base == ORIGIN_ARGUMENT:
            return frozenset((ARGUMENT,))
        if base in (ORIGIN_SELF, ORIGIN_CLS):
            if not ctx.self_class:
                return frozenset((UNKNOWN,))
            kind = ValueKind.INST if base == ORIGIN_SELF else ValueKind.CLASS
            return frozenset((Value(kind, ctx.self_class),))
        prefix, _, text = base.partition(":")
        if prefix == "B":
            return frozenset((BUILTIN_VALUE,))
        if prefix == "N":
            return frozenset((Value(ValueKind.FUNC, f"{ctx.module}:{text}"),))
        res = resolve_dotted(self.program, ctx.module, ctx.imports, text)
        if prefix == "T":
            if res.what is NODE and self.program.node_kind(res.name) is NodeKind.CLASS:
                return frozenset((Value(ValueKind.INST, res.name),))
            if res.what in (EXTERNAL, BUILTIN):
                return frozenset((BUILTIN_VALUE,))
            return frozenset((ARGUMENT,))  # a declared type we cannot see: the caller's
        return self.resolved(res)

    def resolved(self, res: Res) -> Values:
        """The values a resolved name holds."""
        if res.what is BUILTIN:
            return frozenset((BUILTIN_CALLABLE,))
        if res.what is MODULE and not res.partial:
            return frozenset((Value(ValueKind.MODULE, res.name),))
        if res.what is EXTERNAL:
            return frozenset((EXTERNAL_VALUE,))
        if res.what is not NODE or res.partial:
            return frozenset((UNKNOWN,))
        kind = self.program.node_kind(res.name)
        if kind is NodeKind.CLASS:
            return frozenset((Value(ValueKind.CLASS, res.name),))
        if kind is NodeKind.CONSTANT:
            return self.constant(res.name)
        if kind in (NodeKind.FUNCTION, NodeKind.METHOD, NodeKind.NESTED):
            return frozenset((Value(ValueKind.FUNC, res.name),))
        return frozenset((UNKNOWN,))

    def constant(self, node: str) -> Values:
        """A constant's value(s), marked with the constant itself."""
        definition = self.program.definition(node)
        mark = Value(ValueKind.CONST, node)
        if definition is None:
            return frozenset((mark, UNKNOWN))
        module, _, qualname = node.partition(":")
        rebound = self.program.rebound(module, qualname)
        if rebound is not None:
            # The live value is another definition (a class attribute the condition of its
            # expression chose): that definition, not every name the expression holds.
            return self.resolved(rebound) | {mark}
        ctx = self.context(node)
        found = self.memoised(
            ("const", node, ""),
            lambda: self.union(definition.returns, ctx) if definition.returns else (UNKNOWN,),
        )
        return found | {mark}

    def union(self, origins: tuple[str, ...], ctx: Context) -> Values:
        out: set[Value] = set()
        for origin in origins:
            out |= self.evaluate(origin, ctx)
        return frozenset(out)

    def memoised(self, key: Key, compute: Callable[[], Iterable[Value]]) -> Values:
        """``compute()``, once per key: a least fixpoint over keys that depend on each other
        (``f`` returns ``g()``, ``g`` returns ``f()`` or ``A()``).

        A key met again while it is being computed gives the value it has so far (nothing in
        the first round). The outermost key of such a cycle computes again until a round adds
        nothing; then it and every key computed inside the cycle are memoised with the values
        of that last round, in which each of them was computed once. Evaluations deeper than
        ``_MAX_DEPTH`` give up (unknown), and nothing computed above them is memoised."""
        cached = self.memo.get(key)
        if cached is not None:
            return cached
        at = self.position.get(key)
        if at is not None:
            self.read.add(at)
            self.low = min(self.low, at)
            return self.provisional.get(key, frozenset())
        found = self.pending.get(key)
        if found is not None:
            self.read.add(found[0])
            self.low = min(self.low, found[0])
            return found[1]
        if len(self.position) > _MAX_DEPTH:
            self.truncated = True
            return frozenset((UNKNOWN,))
        here = len(self.position)
        self.position[key] = here
        outer_low, outer_truncated = self.low, self.truncated
        try:
            while True:
                self.low, self.truncated = here, False
                self.read.discard(here)
                result = frozenset(compute())
                if (
                    self.low < here
                    or here not in self.read
                    or result == self.provisional.get(key, frozenset())
                ):
                    break
                self.provisional[key] = result
                for member in self.members.pop(here, ()):
                    del self.pending[member]
        finally:
            del self.position[key]
            self.read.discard(here)
            self.provisional.pop(key, None)
        low, truncated = self.low, self.truncated
        members = self.members.pop(here, [])
        if low < here:
            # Read a key further out that is still being computed: valid until that key's
            # round ends, with the keys computed inside this one.
            self.pending[key] = (low, result)
            members.append(key)
            for member in members:  # each now waits for the round of ``low``
                self.pending[member] = (low, self.pending[member][1])
            self.members.setdefault(low, []).extend(members)
        else:
            for member in members:
                value = self.pending.pop(member)[1]
                if not truncated:
                    self.memo[member] = value
            if not truncated:
                self.memo[key] = result
        self.low = min(outer_low, low)
        self.truncated = outer_truncated or truncated
        return result

    def returns(self, func: str, bound: str) -> Values:
        """What calling function/method ``func`` (on an instance of ``bound``) returns."""
        definition = self.program.definition(func)
        if definition is None:
            return frozenset((UNKNOWN,))
        if definition.kind is DefKind.CLASS:
            return frozenset((Value(ValueKind.INST, func),))
        if definition.yields:
            return frozenset((Value(ValueKind.GENERATOR, func, bound),))
        if not definition.returns:
            return frozenset((BUILTIN_VALUE,))  # falls off the end: None
        ctx = self.context(func, bound or None)
        return self.memoised(("returns", func, bound), lambda: self.union(definition.returns, ctx))

    # -- operations ------------------------------------------------------------------------

    def apply(self, values: Values, op: str) -> Values:
        out: set[Value] = set()
        for value in values:
            if value.kind in (ValueKind.ARGUMENT, ValueKind.UNKNOWN):
                out.add(value)
            elif value.kind is ValueKind.CONST:
                if op in ("[]", "*"):
                    out |= self.elements(value.name)
            elif op.startswith("."):
                out |= self.attribute(value, op[1:])
            elif op == "()":
                out |= self.call(value)
            elif op == "[]" and value.kind is ValueKind.INST:
                getitem = lookup_member(self.program, value.name, "__getitem__")
                out |= self.returns(getitem, value.name) if getitem else {UNKNOWN}
            elif op == "[]" and value.kind is ValueKind.CLASS:
                out.add(value)  # ``C[int]``: a generic alias of the class
            elif op == "*" and value.kind is ValueKind.INST:
                out |= self.iterated(value.name)
            elif op == "*" and value.kind is ValueKind.GENERATOR:
                out |= self.yielded(value.name, value.bound)
            else:
                out.add(UNKNOWN)
        return frozenset(out)

    def yielded(self, func: str, bound: str) -> Values:
        """What generator function ``func`` (on an instance of ``bound``) yields."""
        definition = self.program.definition(func)
        if definition is None:
            return frozenset((UNKNOWN,))
        ctx = self.context(func, bound or None)
        return self.memoised(("yields", func, bound), lambda: self.union(definition.yields, ctx))

    def iterated(self, klass: str) -> Values:
        """The elements of iterating an instance of ``klass``: what ``__next__`` returns on
        each iterator ``__iter__`` returns, or what ``__iter__`` yields when it is a generator.
        An iterator the flow cannot type (a builtin's) gives unknown elements."""
        iter_ = lookup_member(self.program, klass, "__iter__")
        if iter_ is None:
            return frozenset((UNKNOWN,))
        out: set[Value] = set()
        for iterator in self.returns(iter_, klass):
            if iterator.kind is ValueKind.GENERATOR:  # ``def __iter__(self): yield ...``
                out |= self.yielded(iterator.name, iterator.bound)
                continue
            next_ = (
                lookup_member(self.program, iterator.name, "__next__")
                if iterator.kind is ValueKind.INST
                else None
            )
            if next_ is None:
                out.add(UNKNOWN)
            else:
                out |= self.returns(next_, iterator.name)
        return frozenset(out)

    def elements(self, constant: str) -> Values:
        """Elements of a constant container (a registry): the functions and classes its
        definition names (``{"a": f, "b": g}``) and, from the live value, those registered
        into it at import (``REGISTRY[name] = func`` in a decorator)."""
        definition = self.program.definition(constant)
        if definition is None:
            return frozenset((UNKNOWN,))
        module = constant.partition(":")[0]
        out: set[Value] = set()
        for ref in definition.references:
            if ref.kind is RefKind.VALUE:
                res = resolve_dotted(self.program, module, (), ref.name)
                out |= self.resolved(res) - {UNKNOWN}
        # A constant that depends on the process (a cache its module fills at run time) holds
        # what this process did so far: its live entries would make the graph another in
        # another process.
        live = self.program.request.elements if not definition.volatile else None
        for name in live(constant) if live is not None else ():
            # By name, without reading the module: a registry of every algorithm of a package
            # must not load the package; only the entries that end up called are expanded.
            if self.program.is_first_party(name.partition(":")[0]):
                out.add(Value(ValueKind.FUNC, name))
        return frozenset(out) | {UNKNOWN}

    def attribute(self, value: Value, attr: str) -> Values:
        program = self.program
        if value.kind is ValueKind.MODULE:
            return self.resolved(program.module_attribute(value.name, attr))
        if value.kind is ValueKind.INST:
            if attr == "__class__":
                return frozenset((Value(ValueKind.CLASS, value.name),))
            member = lookup_member(program, value.name, attr)
            if member is None:
                return self.instance_state(value.name, attr)
            return self.member_value(member, value.name, on_instance=True)
        if value.kind is ValueKind.CLASS:
            member = lookup_member(program, value.name, attr)
            if member is None:
                return frozenset((UNKNOWN,))
            return self.member_value(member, value.name, on_instance=False)
        return frozenset((UNKNOWN,))

    def member_value(self, member: str, klass: str, *, on_instance: bool) -> Values:
        """The value of ``klass.member`` read on an instance or on the class."""
        kind = self.program.node_kind(member)
        if kind is NodeKind.METHOD:
            if on_instance and is_property(self.program, member):
                return self.returns(member, klass)
            return frozenset((Value(ValueKind.FUNC, member, klass),))
        if kind is NodeKind.CONSTANT:
            found = self.constant(member)
            if on_instance:
                # A descriptor gives its ``__get__``; otherwise an instance attribute of the
                # same name (assigned by a method, or by a data descriptor's ``__set__``)
                # shadows the class attribute.
                attr = member.rpartition(".")[2]
                shadowed = assigned_attributes(self.program, klass).get(attr)
                state = self.instance_state(klass, attr) if shadowed else frozenset()
                return self.descriptor_get(found) | state
            return found
        if kind is NodeKind.CLASS:
            return frozenset((Value(ValueKind.CLASS, member),))
        return frozenset((UNKNOWN,))

    def descriptor_get(self, values: Values) -> Values:
        """Class attributes read through an instance: a descriptor gives its ``__get__``."""
        out: set[Value] = set()
        for value in values:
            if value.kind is ValueKind.INST:
                get = lookup_member(self.program, value.name, "__get__")
                if get is not None:
                    out |= self.returns(get, value.name)
                    continue
            out.add(value)
        return frozenset(out)

    def instance_state(self, klass: str, attr: str) -> Values:
        """``obj.attr`` not defined in the class: what the class's methods assign to it."""
        assigned = assigned_attributes(self.program, klass).get(attr)
        if not assigned:
            return frozenset((UNKNOWN,))

        def compute() -> Values:
            out: set[Value] = set()
            for method, origin in assigned:
                out |= self.evaluate(origin, self.context(method, klass))
            return frozenset(out)

        return self.memoised(("state", klass, attr), compute)

    def call(self, value: Value) -> Values:
        if value.kind is ValueKind.BUILTIN_CALLABLE:
            return frozenset((BUILTIN_VALUE,))
        if value.kind is ValueKind.CLASS:
            return frozenset((Value(ValueKind.INST, value.name),))
        if value.kind is ValueKind.FUNC:
            return self.returns(value.name, value.bound)
        if value.kind is ValueKind.INST:
            call = lookup_member(self.program, value.name, "__call__")
            return self.returns(call, value.name) if call else frozenset((UNKNOWN,))
        return frozenset((UNKNOWN,))
