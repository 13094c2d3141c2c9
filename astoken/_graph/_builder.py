"""The graph builder: expands nodes from the roots, resolving each reference to edges.

Edges may be *conditional* on a class being instantiated (Rapid Type Analysis): a method
reached through the method-name index, or an override in a subclass, only counts for a root
whose closure creates an instance of that class. An edge carries the set of conditions
(:class:`~._digraph.Condition`) it waits for (``None`` in the set: unconditional);
:mod:`._closure` follows an edge when one of its conditions holds. The builder only adds a
conditional edge once its class is instantiated somewhere in the graph, so a single-root graph
holds nothing that root cannot reach.
"""

from __future__ import annotations

import enum
import unicodedata
from collections import deque

from astoken._model import (
    DefKind,
    MemberReason,
    NodeKind,
    Reference,
    RefKind,
    RuntimeInfo,
    Unresolved,
)
from astoken._scope import is_test_module
from astoken.errors import SourceSyntaxError

from ._classes import (
    all_member_names,
    assigned_attributes,
    bases,
    is_classlike_decorated,
    is_property,
    lookup_member,
    members,
    metaclass_calls,
    mro,
    resolve_declared,
    resolve_dotted,
)
from ._digraph import Condition, Digraph, Trigger, created, escaped, instantiated, named
from ._flow import Context, Flow, Value, ValueKind
from ._program import BUILTIN, EXTERNAL, MODULE, NODE, Program, Res
from ._request import GraphRequest

_RECEIVER_KINDS = (RefKind.METHOD, RefKind.PROTOCOL)
_SELF_KINDS = (RefKind.SELF_ATTR, RefKind.CLS_ATTR, RefKind.SUPER_ATTR)
#: Values the flow cannot type: any object the closure creates may be one of them.
_OPEN_VALUES = frozenset((ValueKind.ARGUMENT, ValueKind.UNKNOWN))
#: References written as a dotted global name (``m.f``, ``C.attr``): every part after the
#: first is an attribute name the code uses.
_DOTTED_KINDS = (
    RefKind.CALL,
    RefKind.ATTRIBUTE,
    RefKind.VALUE,
    RefKind.DECORATOR,
    RefKind.DEFAULT,
)
#: Members that run when an object is made.
_CONSTRUCTION = frozenset(
    {"__new__", "__init__", "__post_init__", "__attrs_pre_init__", "__attrs_post_init__"}
)
#: Non-dunder hooks the protocol-only bases below call by name (``collections.abc`` set
#: mixins build results with ``_from_iterable`` and hash with ``_hash``).
_ABC_HOOKS = frozenset({"_from_iterable", "_hash"})
#: Third-party-looking bases whose code calls only protocols on an object (dunders, enum's
#: ``_sunder_`` hooks, the hooks above): the object does not escape at birth.
_PROTOCOL_ONLY_BASES = frozenset(
    {"abc", "typing", "typing_extensions", "collections", "enum", "numbers", "dataclasses"}
)

#: Standard-library modules whose callables run only protocols (dunders) on the objects they
#: are given, or call what they are given as functions: an object handed to them does not
#: escape (``itertools.chain(g)``, ``functools.partial(f, g)``, ``copy.deepcopy(g)``, whose
#: ``__deepcopy__`` is reached anyway). Any other library may call a method by name.
_PROTOCOL_ONLY_MODULES = frozenset(
    {
        "abc",
        "array",
        "bisect",
        "builtins",
        "cmath",
        "collections",
        "copy",
        "copyreg",
        "dataclasses",
        "datetime",
        "decimal",
        "enum",
        "fractions",
        "functools",
        "heapq",
        "inspect",
        "itertools",
        "math",
        "numbers",
        "operator",
        "pickle",
        "pprint",
        "random",
        "re",
        "reprlib",
        "statistics",
        "string",
        "textwrap",
        "types",
        "typing",
        "typing_extensions",
        "warnings",
        "weakref",
    }
)

# (source, target, kind, line) of an edge waiting for its condition class.
_Pending = tuple[str, str, RefKind, int]


class Builder:
    """Builds the dependency graph of ``request.roots`` (see the package guarantees)."""

    def __init__(self, request: GraphRequest, *, trace: bool = False) -> None:
        self.request = request
        #: With ``trace`` (tests): for every reference expanded, (node, reference, outcome,
        #: the targets of the edges its expansion added or queued).
        self.trace: list[tuple[str, Reference, Outcome, tuple[str, ...]]] | None = (
            [] if trace else None
        )
        self.traced: list[str] = []
        self.program = Program(request)
        self.flow = Flow(self.program)
        self.graph = Digraph()
        self.queue: deque[str] = deque()
        self.expanded: set[str] = set()
        self.unresolved: dict[tuple[str, str, int], Unresolved] = {}
        # Rapid Type Analysis state: classes created (class node expanded), and those plus the
        # classes method roots are named through.
        self.created: set[str] = set()
        self.instantiated: set[str] = set()
        self.waiting: dict[Condition, list[_Pending]] = {}
        self.subclasses: dict[str, list[str]] = {}  # base -> instantiated proper subclasses
        self.by_member: dict[str, list[str]] = {}  # attribute -> instantiated classes having it
        self.overridable: dict[str, list[tuple[str, str, RefKind, int]]] = {}
        self.overridable_seen: set[tuple[str, str, str, RefKind]] = set()
        self.index_refs: dict[str, list[tuple[str, RefKind, int]]] = {}
        self.index_seen: set[tuple[str, str, RefKind]] = set()
        # Rule 1 state: attribute names named in code of the graph, classes whose objects
        # escape, and the class roots (``"module:Root."``), which stand for all they hold.
        self.named: set[str] = set()
        self.escaped: set[str] = set()
        #: "module:Class." of every class root (see ``held_whole``).
        self.whole: set[str] = set()
        #: node -> {member as written: first line}: operations on the caller's objects.
        self.arguments: dict[str, dict[str, int]] = self.graph.arguments
        #: node -> what the runtime step read from its live object (code with no source).
        self.runtime_info: dict[str, RuntimeInfo] = {}

    # -- graph primitives -------------------------------------------------------------------

    def add_node(self, name: str) -> None:
        if name not in self.graph.nodes:
            self.graph.add_node(name)
            self.queue.append(name)

    def add_edge(
        self, source: str, target: str, kind: RefKind, line: int, cond: Condition | None = None
    ) -> None:
        """An edge, unconditional or conditional on ``cond``."""
        if self.trace is not None:
            self.traced.append(target)
        if source == target:
            return
        if cond is not None and not self.cond_met(cond):
            self.waiting.setdefault(cond, []).append((source, target, kind, line))
            return
        self.add_node(target)
        data = self.graph.get_edge_data(source, target)
        if data is None:
            self.graph.add_edge(source, target, kinds={kind: line}, conds={cond})
        else:
            data.kinds.setdefault(kind, line)
            data.conds.add(cond)

    def cond_met(self, cond: Condition) -> bool:
        """Whether ``cond`` holds in the graph built so far (see :class:`Trigger`)."""
        if cond.trigger is Trigger.CREATED:
            return cond.klass in self.created
        if cond.trigger is Trigger.NAMED:
            return cond.klass in self.named
        if cond.trigger is Trigger.ESCAPED:
            klass = cond.klass
            return klass in self.escaped or self.held_whole(klass)
        return cond.klass in self.instantiated

    def held_whole(self, klass: str) -> bool:
        """Whether ``klass`` is a class root or nested in one (what a class root stands for):
        one look-up per enclosing class, not one per root (a snapshot's roots are every class
        of the package: 700 lexers of pygments)."""
        if not self.whole:
            return False
        module, _, qualname = klass.partition(":")
        prefix = f"{module}:"
        for part in qualname.split("."):
            prefix = f"{prefix}{part}."
            if prefix in self.whole:
                return True
        return False

    def release(self, cond: Condition) -> None:
        """``cond`` holds from now on: add the edges that waited for it."""
        for source, target, kind, line in self.waiting.pop(cond, ()):
            self.add_edge(source, target, kind, line, cond)

    def name_attribute(self, node: str, attr: str, line: int) -> None:
        """``node``'s code names attribute ``attr``: the members of that name of the classes
        the closure creates are reached (coverage.md rule 1)."""
        if self.graph.mark_named(node, attr, line) and attr not in self.named:
            self.named.add(attr)
            self.release(named(attr))

    def escape(self, node: str, klass: str, line: int) -> None:
        """``node``'s code lets an object of ``klass`` escape: every member (coverage.md rule 1)."""
        if self.graph.mark_escaped(node, klass, line) and klass not in self.escaped:
            self.escaped.add(klass)
            self.release(escaped(klass))

    def escape_values(self, node: str, values: tuple[Value, ...], line: int) -> bool:
        """Objects that escape from ``node``: instances and classes (a class handed over is
        instantiated there). The caller's objects (parameters) are the caller's (coverage.md
        rule 3): its closure or cache key covers them. True if any value was first-party."""
        found = False
        for value in values:
            if value.kind in (ValueKind.INST, ValueKind.CLASS):
                self.escape(node, value.name, line)
                found = True
        return found

    def note_unresolved(self, owner: str, expression: str, reason: str, line: int) -> None:
        module = owner.partition(":")[0]
        mod = self.program.modules.get(module)
        file = mod.file if mod is not None else None
        key = (owner, expression, line)
        self.unresolved.setdefault(key, Unresolved(owner, expression, reason, file, line))

    # -- the walk ---------------------------------------------------------------------------

    def run(self) -> None:
        for root in self.request.roots:
            self.add_node(root)
            if self.program.node_kind(root) is NodeKind.CLASS:
                # A class root stands for all of its behavior, its nested classes' included
                # (see ``_closure``).
                self.whole.add(f"{root}.")
        for root in self.request.roots:
            klass = self.root_class(root)
            if klass:
                # A method named through a class (``Sub.run``): ``self`` is an instance of it.
                self.graph.self_classes[root] = klass
                self.instantiate(klass)
        while self.queue:
            node = self.queue.popleft()
            if node not in self.expanded:
                self.expanded.add(node)
                try:
                    self.expand(node)
                except SourceSyntaxError as exc:
                    if node in self.request.roots:
                        raise
                    self.note_unresolved(node, node, f"not analysed: {exc}", exc.line)

    def root_class(self, root: str) -> str:
        module, sep, qualname = root.partition(":")
        owner = qualname.rpartition(".")[0]
        if not sep or not owner or ".<locals>" in qualname:
            return ""
        klass = f"{module}:{owner}"
        return klass if self.program.node_kind(klass) is NodeKind.CLASS else ""

    def expand(self, node: str) -> None:
        module, sep, qualname = node.partition(":")
        if not sep:
            self.expand_module_node(node)
            return
        if not self.program.is_first_party(module):
            return
        definition = self.program.definition(node)
        if definition is None:
            self.expand_without_source(node, module, qualname)
            return
        rebound = self.program.rebound(module, qualname)
        if rebound is not None:
            # The name runs as something else (the import a ``try`` took): that is what the
            # node stands for, not the source definition's code.
            self.add_resolved(node, rebound, Reference(RefKind.RUNTIME, qualname, 0))
            return
        if definition.kind is DefKind.CLASS:
            self.expand_class(node)
        elif definition.kind is DefKind.NESTED:
            # A nested function's code is part of the function it is nested in.
            self.add_node(self.program.enclosing(node))
        elif qualname == "__getattr__" and definition.kind is DefKind.FUNCTION:
            self.lazy_modules(node)
        ctx = self.flow.context(node)
        runtime_declared = self.request.declared(node) if self.request.declared else ()
        for name in runtime_declared:
            # Declared on the live object (``depends_on`` with computed objects): by node name.
            res = resolve_declared(self.program, module, name)
            self.add_resolved(node, res, Reference(RefKind.DECLARED, name, 0))
        for name in self.request.registered(node) if self.request.registered else ():
            # Registries are data (coverage.md rule 6): what a singledispatch function
            # dispatches to.
            res = resolve_declared(self.program, module, name)
            self.add_resolved(node, res, Reference(RefKind.RUNTIME, name, 0))
        declared = bool(runtime_declared) or any(
            ref.kind is RefKind.DECLARED for ref in definition.references
        )
        branch = (
            self.program.branch_names(node)
            if definition.kind in (DefKind.FUNCTION, DefKind.METHOD)
            else None
        )
        for ref in definition.references:
            if branch is not None and not _in_branch(ref, branch):
                # The summary merges the branches of the ``if`` defining this function; only
                # another branch than the one that ran makes this reference.
                self.account(node, ref, Outcome.OTHER_BRANCH)
                continue
            if declared and ref.kind is RefKind.DYNAMIC:
                # The author declared what the dynamic call reaches (``@depends_on``): the
                # blind spot is covered by hand, so it is not reported.
                self.account(node, ref, Outcome.DECLARED)
                continue
            self.expand_reference(node, ctx, ref)

    def expand_module_node(self, node: str) -> None:
        """A module: its top-level definitions, and what its top-level code uses."""
        mod = self.program.module(node)
        if mod is None:
            return
        for qualname, definition in mod.definitions.items():
            if "." not in qualname and definition.kind is not DefKind.NESTED:
                self.add_edge(node, f"{node}:{qualname}", RefKind.MEMBER, 0)
        ctx = Context(node, (), "")
        for ref in mod.references:
            self.expand_reference(node, ctx, ref)

    def expand_without_source(self, node: str, module: str, qualname: str) -> None:
        # An inherited member named through a subclass ("mod:Sub.run" with run in Base).
        owner, _, attr = qualname.rpartition(".")
        if owner and self.program.node_kind(f"{module}:{owner}") is NodeKind.CLASS:
            member = lookup_member(self.program, f"{module}:{owner}", attr)
            if member is not None:
                self.add_edge(node, member, RefKind.MEMBER, 0)
                return
        runtime = self.request.runtime
        info = runtime(node) if runtime is not None else None
        if info is None:
            self.static_alias(node, module, qualname)
            return
        self.runtime_info[node] = info
        generated = bool(owner) and self.program.node_kind(f"{module}:{owner}") is NodeKind.CLASS
        if (
            info.kind in (NodeKind.FUNCTION, NodeKind.METHOD)
            and not _is_source_file(info.file)
            and not generated
        ):
            # Defined in a REPL, a piped script or exec'd text: its global names are followed
            # (below), but what it calls on objects and attributes cannot be read (guarantee 7).
            # (A method a class decorator generated, such as a dataclass's ``__init__``, is
            # made from the class's fields, which the class's token covers as data.)
            self.unresolved.setdefault(
                (node, qualname, info.line or 0),
                Unresolved(
                    node,
                    qualname,
                    "no source: only the global names its code uses are followed, not "
                    "methods or attributes of objects",
                    info.file,
                    info.line or 0,
                ),
            )
        for target, kind in info.references:
            target_module = target.partition(":")[0]
            if target_module == "builtins":
                continue  # like a builtin name in source: part of the interpreter tag
            if self.program.is_first_party(target_module):
                self.add_edge(node, target, kind, 0)
            else:
                self.add_edge(node, target_module.partition(".")[0], RefKind.EXTERNAL, 0)

    def static_alias(self, node: str, module: str, qualname: str) -> None:
        """A name with no definition and no live object (static mode) that its module binds by
        an import (a package re-exporting ``run``, ``pkg:Model.fit`` through an imported
        class) stands for what the import binds, read from the summaries: whole, as a declared
        dependency."""
        head, _, rest = qualname.partition(".")
        res = self.program.resolve_in_module(module, head)
        if res.what is NODE and res.name != f"{module}:{head}":
            name = f"{res.name}.{rest}" if rest else res.name
        elif res.what is MODULE and rest:
            name = f"{res.name}:{rest}"
        elif res.what is EXTERNAL and res.name:
            self.add_edge(node, res.name, RefKind.EXTERNAL, 0)
            return
        else:
            return
        if self.program.node_kind(name) is not None:
            self.add_resolved(node, Res(NODE, name), Reference(RefKind.DECLARED, qualname, 0))

    def expand_class(self, node: str) -> None:
        """Creating an object of a class reaches what can run on it (coverage.md rule 1):
        construction, dunders and descriptors over its first-party MRO, its metaclass's
        ``__call__`` and a generated ``__init__``; every other member once code of the closure
        names it or lets an object of the class (or of a base) escape. An object whose
        third-party base's code runs on it is third-party at birth: every member."""
        program = self.program
        self.graph.mark_creator(node)
        order = mro(program, node)
        externals = [top for klass in order for top in bases(program, klass)[1]]
        foreign = next((top for top in externals if top not in _PROTOCOL_ONLY_BASES), "")
        framework = bool(externals) or is_classlike_decorated(program, node)
        escapes = [escaped(klass) for klass in order]
        seen: set[str] = set()
        for klass in order:
            for attr in members(program, klass):
                if attr in seen:
                    continue
                seen.add(attr)
                member = lookup_member(program, node, attr)
                if member is None:
                    continue
                reason = MemberReason.ESCAPED if foreign else self.implicit(member, attr, framework)
                if reason is not None:
                    self.add_edge(node, member, RefKind.MEMBER, 0)
                    self.graph.member_reasons.setdefault((node, member), (reason, foreign))
                    continue
                self.add_edge(node, member, RefKind.MEMBER, 0, named(attr))
                for cond in escapes:
                    self.add_edge(node, member, RefKind.MEMBER, 0, cond)
        for top in externals:
            self.add_edge(node, top, RefKind.EXTERNAL, 0)
        if "__init__" not in seen and is_classlike_decorated(program, node):
            # A class decorator (dataclass, attrs...) may generate __init__: the runtime step
            # hashes the generated code.
            self.add_edge(node, f"{node}.__init__", RefKind.MEMBER, 0)
            self.graph.member_reasons[(node, f"{node}.__init__")] = (MemberReason.CONSTRUCTION, "")
        for call in metaclass_calls(program, node):
            self.add_edge(node, call, RefKind.METACLASS, 0)
        self.created.add(node)
        self.release(created(node))
        self.instantiate(node)

    def implicit(self, member: str, attr: str, framework: bool) -> MemberReason | None:
        """Why ``member`` runs on an object without being named, or None (coverage.md rule
        1): made at construction, a protocol (dunder, ``_sunder_`` hook) or descriptor
        (property), or class-level data that a class decorator or third-party base reads
        (``framework``)."""
        if attr in _CONSTRUCTION:
            return MemberReason.CONSTRUCTION
        if _is_dunder(attr) or _is_sunder(attr) or attr in _ABC_HOOKS:
            return MemberReason.PROTOCOL
        if is_property(self.program, member):
            return MemberReason.PROTOCOL
        if framework and self.program.node_kind(member) is NodeKind.CONSTANT:
            return MemberReason.FIELD
        return None

    # -- Rapid Type Analysis ----------------------------------------------------------------

    def instantiate(self, klass: str) -> None:
        """``klass`` is created somewhere: release what waited for it."""
        if klass in self.instantiated:
            return
        self.instantiated.add(klass)
        self.release(instantiated(klass))
        names = all_member_names(self.program, klass)
        for attr in names:
            self.by_member.setdefault(attr, []).append(klass)
        for base in mro(self.program, klass)[1:]:
            self.subclasses.setdefault(base, []).append(klass)
            for node, attr, kind, line in list(self.overridable.get(base, ())):
                self.override(node, base, klass, attr, kind=kind, line=line)
        for attr in sorted(names):
            for node, kind, line in list(self.index_refs.get(attr, ())):
                self.index_edge(node, klass, attr, kind, line)

    def overridable_use(self, node: str, owner: str, attr: str, kind: RefKind, line: int) -> None:
        """``attr`` used on an instance of ``owner`` or of a subclass: overrides in subclasses
        count once the subclass is instantiated."""
        key = (node, owner, attr, kind)
        if key in self.overridable_seen:
            return
        self.overridable_seen.add(key)
        self.overridable.setdefault(owner, []).append((node, attr, kind, line))
        for klass in list(self.subclasses.get(owner, ())):
            self.override(node, owner, klass, attr, kind=kind, line=line)

    def override(
        self, node: str, owner: str, klass: str, attr: str, *, kind: RefKind, line: int
    ) -> None:
        member = lookup_member(self.program, klass, attr)
        if member is None or member == lookup_member(self.program, owner, attr):
            return
        if kind in _SELF_KINDS:
            self.add_edge(node, member, RefKind.OVERRIDE, line, instantiated(klass))
        else:
            self.member_use(node, klass, attr, kind, line, cond=instantiated(klass))

    def index_use(self, node: str, attr: str, kind: RefKind, line: int) -> None:
        """A method/attribute/protocol on a receiver of unknown origin: the member of that name
        of every class the closure instantiates (coverage.md rule 4)."""
        if not self.request.provenance:
            return  # every class the index could name reaches its own members (coverage.md rule 1)
        key = (node, attr, kind)
        if key in self.index_seen:
            return
        self.index_seen.add(key)
        self.index_refs.setdefault(attr, []).append((node, kind, line))
        for klass in list(self.by_member.get(attr, ())):
            self.index_edge(node, klass, attr, kind, line)

    def index_edge(self, node: str, klass: str, attr: str, kind: RefKind, line: int) -> None:
        source_module = node.partition(":")[0]
        if is_test_module(klass.partition(":")[0]) and not is_test_module(source_module):
            return  # library code never reaches test code through a guess
        # Conditional on the class really being created in the closure: the class a method
        # root is named through is the caller's object, not something the closure made.
        self.member_use(node, klass, attr, kind, line, cond=created(klass), index=True)

    # -- references -------------------------------------------------------------------------

    def expand_reference(self, node: str, ctx: Context, ref: Reference) -> None:
        """Guarantee 7: a reference ends as edges, an Unresolved entry, an operation on the
        caller's object, or one of the reasons :class:`Outcome` names for reaching no code;
        one that would end as none of these is reported rather than dropped."""
        self.traced.clear()
        if not _uses_receiver(ref) and (ref.kind not in _SELF_KINDS or not ctx.self_class):
            # Rule 1, "named": a dotted name or ``self.x`` outside a method names its
            # attributes on objects the flow cannot type; receivers are named where their
            # values are known (``expand_receiver``), ``self`` reaches its owner's member.
            self.name_attributes(node, ref)
        outcome = self.follow(node, ctx, ref)
        if outcome is None:
            self.note_unresolved(node, ref.name, "not resolved", ref.line)
            outcome = Outcome.REPORTED
        self.account(node, ref, outcome)

    def name_attributes(self, node: str, ref: Reference) -> None:
        for attr in _named_attributes(ref):
            self.name_attribute(node, attr, ref.line)

    def account(self, node: str, ref: Reference, outcome: Outcome) -> None:
        if self.trace is not None:
            self.trace.append((node, ref, outcome, tuple(self.traced)))
            self.traced.clear()

    def follow(self, node: str, ctx: Context, ref: Reference) -> Outcome | None:
        kind = ref.kind
        if kind is RefKind.ANNOTATION:
            return Outcome.TYPE
        if kind is RefKind.DYNAMIC:
            if ref.receiver:
                # ``getattr(obj, name)``: any member of obj's class may be read.
                values = tuple(sorted(self.flow.evaluate(ref.receiver, ctx), key=_value_key))
                self.escape_values(node, values, ref.line)
            self.note_unresolved(node, ref.name, "dynamic; declare it with depends_on", ref.line)
            return Outcome.REPORTED
        if kind is RefKind.PASSED:
            return self.passed(node, ctx, ref)
        if kind is RefKind.NESTED:
            self.add_edge(node, f"{ctx.module}:{ref.name}", RefKind.NESTED, ref.line)
            return Outcome.EDGE
        if kind in _SELF_KINDS:
            return self.self_reference(node, ctx, ref)
        if _uses_receiver(ref):
            return self.expand_receiver(node, ctx, ref)
        if kind is RefKind.IMPORT:
            return self.import_reference(node, ctx, ref)
        if kind is RefKind.DECLARED:
            res = resolve_declared(self.program, ctx.module, ref.name)
        else:
            res = resolve_dotted(self.program, ctx.module, ctx.imports, ref.name)
        return self.add_resolved(node, res, ref, ctx)

    def passed(self, node: str, ctx: Context, ref: Reference) -> Outcome:
        """``f(obj)``: handed to third-party or standard-library code, ``obj`` escapes
        (coverage.md rule 1), unless that code runs only protocols on it; a first-party
        callable names what it uses on it."""
        res = resolve_dotted(self.program, ctx.module, ctx.imports, ref.name)
        if res.what is not EXTERNAL or res.name in _PROTOCOL_ONLY_MODULES:
            return Outcome.PASSED
        values = tuple(sorted(self.flow.evaluate(ref.receiver, ctx), key=_value_key))
        return Outcome.ESCAPED if self.escape_values(node, values, ref.line) else Outcome.PASSED

    def import_reference(self, node: str, ctx: Context, ref: Reference) -> Outcome:
        """``importlib.import_module("literal")``: the module, all of it (its code runs)."""
        name = self.program.import_name(ctx.module, ref.name)
        res = self.program.module_res(name)
        if res.what is EXTERNAL:
            self.add_edge(node, res.name, RefKind.EXTERNAL, ref.line)
            return Outcome.EDGE
        if res.what is MODULE and self.program.module(name) is not None:
            self.add_edge(node, name, RefKind.IMPORT, ref.line)
            return Outcome.EDGE
        self.note_unresolved(node, ref.name, "no such first-party module", ref.line)
        return Outcome.REPORTED

    def self_reference(self, node: str, ctx: Context, ref: Reference) -> Outcome | None:
        """``self.x`` / ``cls.x`` / ``super().x`` in a method (or a function nested in one)."""
        owner = ctx.self_class
        if not owner:
            return None
        program = self.program
        skip = ref.kind is RefKind.SUPER_ATTR
        member = lookup_member(program, owner, ref.name, skip_self=skip)
        outcome = Outcome.EDGE
        if member is not None:
            self.add_edge(node, member, ref.kind, ref.line)
        elif not skip:
            # State (coverage.md rule 5): reading ``self.x`` reaches the methods that assign it.
            assigners = {
                program.enclosing(method)
                for method, _origin in assigned_attributes(program, owner).get(ref.name, ())
            }
            for method in sorted(assigners - {node}):
                self.add_edge(node, method, RefKind.STATE, ref.line)
            if not assigners:
                outcome = self.missing_member(node, owner, ref.name, ref.kind, ref.line)
            elif assigners == {node}:
                outcome = Outcome.DATA  # state only this method assigns
        else:
            outcome = self.missing_member(node, owner, ref.name, ref.kind, ref.line)
        if not skip:
            self.overridable_use(node, owner, ref.name, ref.kind, ref.line)
        return outcome

    def missing_member(self, node: str, klass: str, attr: str, kind: RefKind, line: int) -> Outcome:
        """An attribute no class of ``klass``'s first-party MRO defines or assigns: its
        third-party bases may provide it; otherwise it is data set from outside the class
        (which runs no code of the class; a subclass's override counts where it is made)."""
        program = self.program
        outcome = Outcome.BUILTIN if _is_dunder(attr) else Outcome.DATA
        fallback = lookup_member(program, klass, "__getattr__")
        if fallback is not None:
            self.add_edge(node, fallback, kind, line)
            outcome = Outcome.EDGE
        for base in mro(program, klass):
            for top in bases(program, base)[1]:
                self.add_edge(node, top, RefKind.EXTERNAL, line)
                outcome = Outcome.EDGE
        return outcome

    def expand_receiver(self, node: str, ctx: Context, ref: Reference) -> Outcome | None:
        """``receiver.attr``: the member on each value the flow gives the receiver. The name
        is named (coverage.md rule 1) only where the receiver may be an object the flow
        cannot type (a parameter, an unknown value): there it may be any object the closure
        creates. A receiver typed completely (an instance of a class the flow constructed, a
        builtin, module, function or class object) reaches that type's member only."""
        attr = ref.name.lstrip(".")
        values = sorted(self.flow.evaluate(ref.receiver, ctx), key=_value_key)
        if not ref.receiver or not values or any(v.kind in _OPEN_VALUES for v in values):
            self.name_attributes(node, ref)
        outcomes = [
            self.value_use(node, value, attr, ref.kind, line=ref.line, ctx=ctx) for value in values
        ]
        if not outcomes:
            return Outcome.NO_VALUE
        if None in outcomes:
            return None
        return min((o for o in outcomes if o is not None), key=_OUTCOME_ORDER.index)

    def value_use(
        self, node: str, value: Value, attr: str, kind: RefKind, *, line: int, ctx: Context
    ) -> Outcome | None:
        """``attr`` (a method call, attribute read or protocol) used on ``value``."""
        calling = kind is RefKind.PROTOCOL and attr == "__call__"
        if value.kind is ValueKind.INST:
            outcome = self.member_use(node, value.name, attr, kind, line)
            self.overridable_use(node, value.name, attr, kind, line)
            return outcome
        if value.kind is ValueKind.CLASS:
            if calling:
                self.add_edge(node, value.name, RefKind.INSTANTIATION, line)
                return Outcome.EDGE
            member = lookup_member(self.program, value.name, attr)
            if member is not None:
                self.add_edge(node, member, kind, line)
                return Outcome.EDGE
            if _is_dunder(attr):
                return Outcome.BUILTIN  # ``C.__name__``, ``C.__mro__``: type's own
            return self.missing_member(node, value.name, attr, kind, line)
        if value.kind is ValueKind.FUNC:
            if calling:
                self.add_edge(node, value.name, RefKind.CALL, line)
                return Outcome.EDGE
            if _is_dunder(attr):
                return Outcome.BUILTIN  # ``f.__name__``: the function object's own
            # ``f.cache_clear()``: what a decorator attached, so the decorated function.
            self.add_edge(node, value.name, kind, line)
            return Outcome.EDGE
        if value.kind is ValueKind.MODULE:
            res = self.program.module_attribute(value.name, attr)
            as_kind = RefKind.CALL if kind is RefKind.METHOD else RefKind.ATTRIBUTE
            return self.add_resolved(
                node, res, Reference(as_kind, f"{value.name}.{attr}", line), ctx
            )
        if value.kind is ValueKind.ARGUMENT:
            written = f".{attr}()" if kind is RefKind.METHOD else attr
            if kind is RefKind.ATTRIBUTE:
                written = f".{attr}"
            self.arguments.setdefault(node, {}).setdefault(written, line)
            return Outcome.ARGUMENT
        if value.kind is ValueKind.UNKNOWN:
            self.index_use(node, attr, kind, line)
            return Outcome.GUESSED
        if value.kind in (ValueKind.BUILTIN, ValueKind.BUILTIN_CALLABLE, ValueKind.GENERATOR):
            return Outcome.BUILTIN
        if value.kind is ValueKind.EXTERNAL:
            return Outcome.EXTERNAL
        # ValueKind.CONST, the last kind: the mark of a constant's value; its other values say
        # more.
        return Outcome.DATA

    def member_use(
        self,
        node: str,
        klass: str,
        attr: str,
        kind: RefKind,
        line: int,
        *,
        cond: Condition | None = None,
        index: bool = False,
    ) -> Outcome:
        """``attr`` used on an instance of ``klass``: the member's edge, and for a called
        property or class attribute, the ``__call__`` of what it holds."""
        program = self.program
        member = lookup_member(program, klass, attr)
        if member is None:
            if not attr.startswith("__"):
                fallback = lookup_member(program, klass, "__getattr__")
                if fallback is not None:
                    self.add_edge(node, fallback, kind, line, cond)
                    return Outcome.EDGE
            return Outcome.DATA
        member_kind = program.node_kind(member)
        holds_value = member_kind is NodeKind.CONSTANT or is_property(program, member)
        if index and kind is RefKind.ATTRIBUTE and not holds_value:
            return Outcome.GUESSED  # a guessed plain read of a method name: nothing runs
        self.add_edge(node, member, kind, line, cond)
        if kind is RefKind.METHOD and holds_value:
            values = self.flow.member_value(member, klass, on_instance=True)
            for value in sorted(values, key=_value_key):
                self.call_value(node, value, line, cond)
        return Outcome.EDGE

    def call_value(self, node: str, value: Value, line: int, cond: Condition | None) -> None:
        """``value`` is called."""
        if value.kind is ValueKind.INST:
            call = lookup_member(self.program, value.name, "__call__")
            if call is not None:
                self.add_edge(node, call, RefKind.CALL, line, cond)
        elif value.kind is ValueKind.CLASS:
            self.add_edge(node, value.name, RefKind.INSTANTIATION, line, cond)
        elif value.kind is ValueKind.FUNC:
            self.add_edge(node, value.name, RefKind.CALL, line, cond)

    def add_resolved(
        self, node: str, res: Res, ref: Reference, ctx: Context | None = None
    ) -> Outcome | None:
        outcome: Outcome | None = None
        for instance in res.via:
            self.add_edge(node, instance, RefKind.ATTRIBUTE, ref.line)
            outcome = Outcome.EDGE
        if res.what is NODE:
            kind = self.program.node_kind(res.name)
            if kind is NodeKind.CLASS and not res.partial:
                if ref.kind is RefKind.BASE_CLASS:
                    # Members are reached through the MRO of the subclass.
                    return Outcome.EDGE if outcome else Outcome.BASE
                edge = RefKind.INSTANTIATION if ref.kind is RefKind.CALL else ref.kind
                self.add_edge(node, res.name, edge, ref.line)
                if ref.kind is RefKind.DECLARED:
                    # A class declared as a dependency is declared whole: all of its behavior.
                    self.escape(node, res.name, ref.line)
                return Outcome.EDGE
            self.add_edge(node, res.name, ref.kind, ref.line)
            if (
                kind is NodeKind.CONSTANT
                and ref.kind in (RefKind.CALL, RefKind.DECORATOR)
                and not res.partial
            ):
                # Calling a module-level object: its class's ``__call__`` (or the function or
                # class it holds).
                for value in sorted(self.flow.constant(res.name), key=_value_key):
                    self.call_value(node, value, ref.line, None)
            return Outcome.EDGE
        if res.what is EXTERNAL:
            self.add_edge(node, res.name, RefKind.EXTERNAL, ref.line)
            return Outcome.EDGE
        if res.what is MODULE:
            if res.partial:
                self.note_unresolved(node, ref.name, f"not found in module {res.name}", ref.line)
                return Outcome.REPORTED
            # A module as a value: what is used on it is followed where it is used.
            return outcome or Outcome.MODULE
        if res.what is BUILTIN:
            return outcome or Outcome.BUILTIN
        if self.program.node_kind(node) in (NodeKind.FUNCTION, NodeKind.METHOD, NodeKind.NESTED):
            self.note_unresolved(node, ref.name, "name not found", ref.line)
            return Outcome.REPORTED
        # Module- and class-level code binds names in loops and ``with`` blocks that are not
        # definitions; what that code computes is hashed as the live values it produced.
        return outcome or Outcome.LIVE_VALUE

    def lazy_modules(self, hook: str) -> None:
        """A module's ``__getattr__`` (PEP 562) serves the attributes the module does not
        bind: the modules it returns are what those attributes are, whole (its
        ``import_module`` literals reach theirs as its own references)."""
        for value in sorted(self.flow.returns(hook, ""), key=_value_key):
            if value.kind is ValueKind.MODULE and self.program.module(value.name) is not None:
                self.add_edge(hook, value.name, RefKind.IMPORT, 0)


class Outcome(enum.Enum):
    """What became of one reference (guarantee 7). Besides an edge and a report, each names why
    the reference reaches no first-party code."""

    EDGE = "edge"  #: edges (some may wait for a class to be instantiated)
    REPORTED = "reported"  #: an Unresolved entry
    ARGUMENT = "argument"  #: an operation on the caller's object, listed "via argument"
    TYPE = "type"  #: an annotation or type check: no code of the type runs
    BASE = "base"  #: a base class: its members are reached through the subclass's MRO
    BUILTIN = "builtin"  #: a builtin, or a dunder of a type, function or module object
    EXTERNAL = "external"  #: an operation on a third-party value (its leaf is already reached)
    DATA = "data"  #: an attribute no first-party class defines: data set from outside
    GUESSED = "guessed"  #: an unknown receiver: the method-name index decides (coverage.md rule 4)
    MODULE = "module"  #: a module as a value: what is used on it is followed where it is used
    NO_VALUE = "no_value"  #: the flow finds no value the receiver can hold
    LIVE_VALUE = "live_value"  #: a name in module- or class-level code: its values are hashed
    DECLARED = "declared"  #: a dynamic reference the author declared with ``depends_on``
    OTHER_BRANCH = "other_branch"  #: made only in an ``if`` branch that did not define the code
    #: objects handed to third-party code escape: every member of their classes (coverage.md rule 1)
    ESCAPED = "escaped"
    #: objects handed to first-party code (which names what it uses on them), or no object
    #: a first-party class made
    PASSED = "passed"


_OUTCOME_ORDER = list(Outcome)


#: References whose name the code making them loads (a global, an attribute, a nested code
#: object's name); the others (decorators and defaults, run where the function is defined,
#: operators, imports...) are kept whichever branch makes them.
_NAMED_IN_CODE = frozenset(
    {
        RefKind.CALL,
        RefKind.ATTRIBUTE,
        RefKind.VALUE,
        RefKind.SELF_ATTR,
        RefKind.CLS_ATTR,
        RefKind.SUPER_ATTR,
        RefKind.METHOD,
        RefKind.NESTED,
    }
)


def _in_branch(ref: Reference, names: frozenset[str]) -> bool:
    """Whether the live code of a function defined in several ``if`` branches can make
    ``ref``: it loads the name ``ref`` starts with (see ``Program.branch_names``)."""
    if ref.kind not in _NAMED_IN_CODE:
        return True
    if ref.kind is RefKind.NESTED:
        word = ref.name.rpartition(".<locals>.")[2].partition("#")[0]
    else:
        word = ref.name.lstrip(".").partition(".")[0]
    # Python folds identifiers to NFKC; the code's names are folded.
    return unicodedata.normalize("NFKC", word) in names


def _is_dunder(name: str) -> bool:
    return name.startswith("__") and name.endswith("__")


def _is_sunder(name: str) -> bool:
    """``_missing_``, ``_generate_next_value_``: hooks enum (and others) call by name."""
    return len(name) > 2 and name[0] == name[-1] == "_" and name[1] != "_" and name[-2] != "_"


def _uses_receiver(ref: Reference) -> bool:
    """``receiver.attr`` / ``receiver.attr()``: an attribute of a value the flow evaluates."""
    kind = ref.kind
    return kind in _RECEIVER_KINDS or (kind is RefKind.ATTRIBUTE and ref.name.startswith("."))


def _named_attributes(ref: Reference) -> tuple[str, ...]:
    """The attribute names a reference's code uses (dunders aside: always reached)."""
    kind = ref.kind
    if kind is RefKind.METHOD or kind in _SELF_KINDS:
        names: tuple[str, ...] = (ref.name,)
    elif kind is RefKind.ATTRIBUTE and ref.name.startswith("."):
        names = (ref.name[1:],)
    elif kind in _DOTTED_KINDS:
        names = tuple(ref.name.split(".")[1:])
    else:
        return ()
    return tuple(name for name in names if not _is_dunder(name))


def _value_key(value: Value) -> tuple[str, str, str]:
    return (value.kind.value, value.name, value.bound)


def _is_source_file(file: str | None) -> bool:
    """False for the pseudo-files of code with no source: ``<stdin>``, ``<string>``..."""
    return file is not None and bool(file) and not (file.startswith("<") and file.endswith(">"))
