"""Graph: module summaries -> a networkx dependency graph over qualified names.

Node names are ``"pkg.module:Qual.name"`` for first-party definitions, ``"pkg.module"`` for
modules, and the top-level import name for standard-library and third-party leaves.

Guarantees (tests cite them by number):

1. Only modules reachable from the roots are summarised, except when a reference has a receiver
   of unknown type: then every first-party package in scope is indexed once (method-name index).
2. Resolution follows imports, ``import a.b as m``, ``from pkg import m``, relative imports of
   any depth, re-exports through ``__init__``, star imports (honouring ``__all__``), and imports
   inside function bodies, to the module that *defines* a name.
3. ``self.x``/``cls.x`` resolve over the static MRO of the method's class, plus every override
   of ``x`` in a known first-party subclass; ``super().x`` resolves over the MRO after the class.
4. Calling a class depends on its ``__init__``/``__new__``/``__post_init__`` (over the MRO), its
   metaclass's ``__call__``, and its class-level constants (dataclass field defaults).
5. A class depends on every member it has over its first-party MRO (first definition wins).
6. Standard-library and third-party names become leaf nodes; nothing inside them is followed.
7. What cannot be resolved statically is recorded as :class:`Unresolved`, never dropped silently.
8. The result depends only on the code: nodes and edges are a fixpoint, emitted sorted.
"""

from __future__ import annotations

import builtins
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

import networkx as nx

from ._model import (
    Definition,
    DefKind,
    DependencyGraph,
    Edge,
    ImportBinding,
    ModuleSource,
    Node,
    NodeKind,
    Reference,
    RefKind,
    RuntimeInfo,
    Unresolved,
)
from ._scope import Origin, Scope, distribution_version
from .errors import SourceSyntaxError

__all__ = ["GraphRequest", "build_graph", "paths_from_root", "to_dependency_graph"]

ModuleProvider = Callable[[str], "ModuleSource | None"]
RuntimeProvider = Callable[[str], "RuntimeInfo | None"]
PackageLister = Callable[[str], "tuple[str, ...]"]

_BUILTINS = frozenset(dir(builtins))
_CONSTRUCTORS = ("__init__", "__new__", "__post_init__")
_DECORATOR_CLASS_HOOKS = ("__call__", "__get__", "__set_name__")
_PROPERTY_DECORATORS = ("property", "cached_property", "functools.cached_property")
_DEF_NODE_KIND = {
    DefKind.FUNCTION: NodeKind.FUNCTION,
    DefKind.CLASS: NodeKind.CLASS,
    DefKind.METHOD: NodeKind.METHOD,
    DefKind.CONSTANT: NodeKind.CONSTANT,
}


@dataclass(frozen=True, slots=True)
class GraphRequest:
    """What to build: roots, scope, and the callbacks that supply modules and runtime facts."""

    roots: tuple[str, ...]
    scope: Scope
    modules: ModuleProvider
    runtime: RuntimeProvider | None = None
    declared: Callable[[str], tuple[str, ...]] | None = None
    list_package: PackageLister | None = None
    external_versions: bool = True


# ---------------------------------------------------------------------------------------------
# Per-module index
# ---------------------------------------------------------------------------------------------


@dataclass(slots=True)
class _Module:
    name: str
    file: str | None
    is_package: bool
    definitions: dict[str, Definition] = field(default_factory=dict)
    imports: dict[str, ImportBinding] = field(default_factory=dict)
    stars: tuple[tuple[int, str], ...] = ()
    all_names: tuple[str, ...] | None = None
    members: dict[str, dict[str, str]] = field(default_factory=dict)


def _index_module(source: ModuleSource) -> _Module:
    mod = _Module(source.name, source.file, source.is_package)
    summary = source.summary
    for definition in summary.definitions:
        mod.definitions[definition.qualname] = definition
        owner, _, attr = definition.qualname.rpartition(".")
        if owner:
            mod.members.setdefault(owner, {})[attr] = definition.qualname
    for binding in summary.imports:
        mod.imports[binding.name] = binding
    mod.stars = summary.star_imports
    mod.all_names = summary.all_names
    return mod


def absolute_module(current: str, is_package: bool, level: int, module: str) -> str:
    """The absolute name of ``from <level dots><module> import ...`` inside ``current``."""
    if level == 0:
        return module
    base = current if is_package else current.rpartition(".")[0]
    for _ in range(level - 1):
        base = base.rpartition(".")[0]
    if module:
        return f"{base}.{module}" if base else module
    return base


# ---------------------------------------------------------------------------------------------
# Resolution results
# ---------------------------------------------------------------------------------------------

_NODE, _MODULE, _EXTERNAL, _BUILTIN, _UNKNOWN = "node", "module", "external", "builtin", "unknown"


@dataclass(frozen=True, slots=True)
class _Res:
    what: str
    name: str = ""
    partial: bool = False  # a dotted path stopped early at this node
    via: tuple[str, ...] = ()  # module-level instances passed through (``model.predict``)


_UNKNOWN_RES = _Res(_UNKNOWN)
_BUILTIN_RES = _Res(_BUILTIN)


class _Builder:
    def __init__(self, request: GraphRequest) -> None:
        self.request = request
        self.scope = request.scope
        self.graph: nx.DiGraph = nx.DiGraph()
        self.modules: dict[str, _Module | None] = {}
        self.unresolved: dict[tuple[str, str, int], Unresolved] = {}
        self.queue: deque[str] = deque()
        self.expanded: set[str] = set()
        self.self_refs: list[tuple[str, str, str, RefKind, int]] = []
        self.index_refs: list[tuple[str, Reference]] = []
        self.method_index: dict[str, list[str]] | None = None
        self.property_index: dict[str, list[str]] | None = None
        self.mro_cache: dict[str, tuple[str, ...]] = {}
        self.constant_classes: dict[str, str | None] = {}
        self.classes: list[str] = []
        self.classes_epoch = -1
        self.subclasses: dict[str, list[str]] | None = None

    # -- modules ---------------------------------------------------------------------------

    def module(self, name: str) -> _Module | None:
        if name in self.modules:
            return self.modules[name]
        info: _Module | None = None
        if self.scope.classify(name) is Origin.FIRST_PARTY:
            source = self.request.modules(name)
            if source is not None:
                info = _index_module(source)
        self.modules[name] = info
        return info

    def is_first_party(self, module: str) -> bool:
        return self.scope.classify(module) is Origin.FIRST_PARTY

    def external(self, module: str) -> _Res:
        top = module.partition(".")[0]
        return _Res(_EXTERNAL, top)

    # -- name resolution (guarantee 2) -----------------------------------------------------

    def resolve_binding(self, mod: _Module, binding: ImportBinding, depth: int = 0) -> _Res:
        target = absolute_module(mod.name, mod.is_package, binding.level, binding.module)
        if binding.attr is None:
            if binding.level == 0 and target.startswith(binding.name + "."):
                target = binding.name
            return self.module_res(target)
        if not target:
            return _UNKNOWN_RES
        if not self.is_first_party(target):
            return self.external(target)
        res = self.resolve_in_module(target, binding.attr, depth + 1)
        if res.what == _UNKNOWN:
            sub = f"{target}.{binding.attr}"
            if self.module(sub) is not None:
                return _Res(_MODULE, sub)
        return res

    def module_res(self, name: str) -> _Res:
        if not name:
            return _UNKNOWN_RES
        if not self.is_first_party(name):
            return self.external(name)
        return _Res(_MODULE, name)

    def resolve_in_module(self, module: str, name: str, depth: int = 0) -> _Res:
        if depth > 50:  # a re-export loop: Python itself would fail to import it
            return _UNKNOWN_RES
        if not self.is_first_party(module):
            return self.external(module)
        mod = self.module(module)
        if mod is None:
            return _UNKNOWN_RES
        if name in mod.definitions:
            return _Res(_NODE, f"{module}:{name}")
        binding = mod.imports.get(name)
        if binding is not None:
            return self.resolve_binding(mod, binding, depth + 1)
        for level, star in mod.stars:
            star_module = absolute_module(module, mod.is_package, level, star)
            if not self.is_first_party(star_module):
                continue
            star_mod = self.module(star_module)
            if star_mod is None:
                continue
            exported = (
                name in star_mod.all_names
                if star_mod.all_names is not None
                else not name.startswith("_")
            )
            if exported:
                res = self.resolve_in_module(star_module, name, depth + 1)
                if res.what != _UNKNOWN:
                    return res
        for level, star in mod.stars:
            star_module = absolute_module(module, mod.is_package, level, star)
            if not self.is_first_party(star_module):
                # A name from a third-party star import: attribute it to that package.
                return self.external(star_module)
        if mod.is_package and self.module(f"{module}.{name}") is not None:
            return _Res(_MODULE, f"{module}.{name}")
        if name in _BUILTINS:
            return _BUILTIN_RES
        return _UNKNOWN_RES

    def resolve_dotted(
        self, module: str, local_imports: Iterable[ImportBinding], dotted: str
    ) -> _Res:
        parts = dotted.split(".")
        mod = self.module(module)
        res = _UNKNOWN_RES
        local = {b.name: b for b in local_imports}
        if parts[0] in local and mod is not None:
            res = self.resolve_binding(mod, local[parts[0]])
        elif mod is not None:
            res = self.resolve_in_module(module, parts[0])
        for part in parts[1:]:
            if res.what == _MODULE:
                nxt = self.resolve_in_module(res.name, part)
                if nxt.what == _UNKNOWN:
                    return res if self.module(res.name) is not None else _UNKNOWN_RES
                res = nxt
            elif res.what == _NODE:
                kind = self.node_kind(res.name)
                via = res.via
                klass = res.name if kind is NodeKind.CLASS else None
                if kind is NodeKind.CONSTANT and not res.via:
                    # A module-level instance: its attributes are its class's members.
                    klass = self.constant_class(res.name)
                    via = (res.name,)
                if klass is None:
                    return _Res(_NODE, res.name, partial=True, via=res.via)
                member = self.lookup_member(klass, part)
                if member is None:
                    return _Res(_NODE, res.name, partial=True, via=res.via)
                res = _Res(_NODE, member, via=via)
            else:
                return res
        return res

    # -- definitions and classes -----------------------------------------------------------

    def definition(self, node: str) -> Definition | None:
        module, _, qualname = node.partition(":")
        mod = self.module(module)
        if mod is None or not qualname:
            return None
        return mod.definitions.get(qualname)

    def node_kind(self, node: str) -> NodeKind | None:
        definition = self.definition(node)
        if definition is None:
            return None
        kind = getattr(definition, "kind", None)
        return _DEF_NODE_KIND.get(kind) if isinstance(kind, DefKind) else None

    def constant_class(self, node: str) -> str | None:
        """The first-party class a module/class-level constant was built by (``x = C(...)``)."""
        if node in self.constant_classes:
            return self.constant_classes[node]
        self.constant_classes[node] = None  # guards ``x = x.copy()`` style self-reference
        definition = self.definition(node)
        if getattr(definition, "kind", None) is not DefKind.CONSTANT:
            return None
        module = node.partition(":")[0]
        found = None
        for ref in getattr(definition, "references", ()):
            if ref.kind is RefKind.CALL:
                res = self.resolve_dotted(module, (), ref.name)
                if (
                    res.what == _NODE
                    and not res.partial
                    and self.node_kind(res.name) is NodeKind.CLASS
                ):
                    found = res.name
                break
        self.constant_classes[node] = found
        return found

    def bases(self, class_node: str) -> tuple[list[str], list[str]]:
        """(first-party base class nodes, external top-level names) of a class."""
        definition = self.definition(class_node)
        module = class_node.partition(":")[0]
        first, external = [], []
        for base in getattr(definition, "bases", ()):
            res = self.resolve_dotted(module, (), base)
            if res.what == _NODE and self.node_kind(res.name) is NodeKind.CLASS:
                first.append(res.name)
            elif res.what == _EXTERNAL:
                external.append(res.name)
        return first, external

    def mro(self, class_node: str, stack: tuple[str, ...] = ()) -> tuple[str, ...]:
        cached = self.mro_cache.get(class_node)
        if cached is not None:
            return cached
        if class_node in stack:
            return (class_node,)
        bases, _ = self.bases(class_node)
        seqs = [list(self.mro(b, (*stack, class_node))) for b in bases] + [list(bases)]
        result = [class_node]
        while True:
            seqs = [s for s in seqs if s]
            if not seqs:
                break
            for seq in seqs:
                head = seq[0]
                if not any(head in s[1:] for s in seqs):
                    break
            else:  # inconsistent hierarchy: fall back to depth-first, first occurrence
                for seq in seqs:
                    result.extend(x for x in seq if x not in result)
                break
            result.append(head)
            for s in seqs:
                if s and s[0] == head:
                    del s[0]
        value = tuple(result)
        self.mro_cache[class_node] = value
        return value

    def members(self, class_node: str) -> dict[str, str]:
        module, _, qualname = class_node.partition(":")
        mod = self.module(module)
        if mod is None:
            return {}
        return mod.members.get(qualname, {})

    def lookup_member(self, class_node: str, attr: str, *, skip_self: bool = False) -> str | None:
        mro = self.mro(class_node)
        for klass in mro[1:] if skip_self else mro:
            member = self.members(klass).get(attr)
            if member is not None:
                return f"{klass.partition(':')[0]}:{member}"
        return None

    def known_classes(self) -> list[str]:
        if self.classes_epoch != len(self.modules):
            out = []
            for name, mod in sorted(self.modules.items()):
                if mod is None:
                    continue
                for qualname, definition in mod.definitions.items():
                    if definition.kind is DefKind.CLASS:
                        out.append(f"{name}:{qualname}")
            self.classes = out
            self.subclasses = None
            self.classes_epoch = len(self.modules)
        return self.classes

    def subclass_map(self) -> dict[str, list[str]]:
        """class node -> the known first-party classes that have it in their MRO."""
        classes = self.known_classes()
        if self.subclasses is None:
            mapping: dict[str, list[str]] = {}
            for klass in classes:
                for base in self.mro(klass)[1:]:
                    mapping.setdefault(base, []).append(klass)
            self.subclasses = mapping
        return self.subclasses

    def overrides(self, class_node: str, attr: str) -> list[str]:
        found = []
        for klass in self.subclass_map().get(class_node, ()):
            member = self.members(klass).get(attr)
            if member is not None:
                found.append(f"{klass.partition(':')[0]}:{member}")
        return found

    # -- method-name index (guarantee 1) ---------------------------------------------------

    def ensure_index(self) -> None:
        if self.method_index is not None:
            return
        lister = self.request.list_package
        names: set[str] = set()
        if lister is not None:
            for root in sorted({*self.scope.roots, *self.scope.include}):
                names.update(lister(root))
        for name in sorted(names):
            try:
                self.module(name)
            except SourceSyntaxError as exc:
                # A broken module nobody imports must not stop every target of the package;
                # its methods cannot run, but say that the index is incomplete.
                self.modules[name] = None
                for root in self.request.roots:
                    self.unresolved.setdefault(
                        (root, name, exc.line),
                        Unresolved(root, name, f"not indexed: {exc}", exc.file, exc.line),
                    )
        methods: dict[str, list[str]] = {}
        properties: dict[str, list[str]] = {}
        for name, mod in sorted(self.modules.items()):
            if mod is None:
                continue
            for qualname, definition in mod.definitions.items():
                if getattr(definition, "kind", None) is not DefKind.METHOD:
                    continue
                attr = qualname.rpartition(".")[2]
                node = f"{name}:{qualname}"
                methods.setdefault(attr, []).append(node)
                decorators = getattr(definition, "decorators", ())
                if any(
                    d in _PROPERTY_DECORATORS or d.endswith((".setter", ".getter", ".deleter"))
                    for d in decorators
                ):
                    properties.setdefault(attr, []).append(node)
        self.method_index = methods
        self.property_index = properties

    # -- graph construction ----------------------------------------------------------------

    def add_node(self, name: str) -> None:
        if name not in self.graph:
            self.graph.add_node(name)
            self.queue.append(name)

    def add_edge(self, source: str, target: str, kind: RefKind, line: int) -> None:
        if source == target:
            return
        self.add_node(target)
        data = self.graph.get_edge_data(source, target)
        if data is None:
            self.graph.add_edge(source, target, kinds={kind: line})
        else:
            data["kinds"].setdefault(kind, line)

    def note_unresolved(self, owner: str, expression: str, reason: str, line: int) -> None:
        module = owner.partition(":")[0]
        mod = self.modules.get(module)
        file = mod.file if mod is not None else None
        key = (owner, expression, line)
        self.unresolved.setdefault(key, Unresolved(owner, expression, reason, file, line))

    def run(self) -> None:
        for root in self.request.roots:
            self.add_node(root)
        while True:
            while self.queue:
                node = self.queue.popleft()
                if node not in self.expanded:
                    self.expanded.add(node)
                    self.expand(node)
            if not self.settle():
                break

    def settle(self) -> bool:
        """Re-resolve ``self.x`` overrides and unknown receivers against everything now known;
        True when that added edges (the fixpoint of guarantee 8)."""
        before = self.graph.number_of_edges()
        for node, class_node, attr, _kind, line in self.self_refs:
            for override in self.overrides(class_node, attr):
                self.add_edge(node, override, RefKind.OVERRIDE, line)
        if self.index_refs:
            self.ensure_index()
            for node, ref in self.index_refs:
                for target in self.index_targets(ref):
                    self.add_edge(node, target, ref.kind, ref.line)
        return self.graph.number_of_edges() != before or bool(self.queue)

    def index_targets(self, ref: Reference) -> list[str]:
        assert self.method_index is not None
        assert self.property_index is not None
        if ref.kind is RefKind.ATTRIBUTE:
            return list(self.property_index.get(ref.name.lstrip("."), ()))
        return list(self.method_index.get(ref.name, ()))

    def expand(self, node: str) -> None:
        module, sep, qualname = node.partition(":")
        if not sep:
            self.expand_module_node(node)
            return
        if not self.is_first_party(module):
            return
        definition = self.definition(node)
        if definition is None:
            self.expand_without_source(node, module, qualname)
            return
        kind = getattr(definition, "kind", None)
        if kind is DefKind.CLASS:
            self.expand_class(node)
        refs: tuple[Reference, ...] = getattr(definition, "references", ())
        local_imports: tuple[ImportBinding, ...] = getattr(definition, "imports", ())
        owner_class = None
        if kind is DefKind.METHOD:
            owner_class = f"{module}:{qualname.rpartition('.')[0]}"
        runtime_declared = self.request.declared(node) if self.request.declared else ()
        for name in runtime_declared:
            # Declared on the live object (``depends_on`` with computed objects): by node name.
            res = self.resolve_declared(module, name)
            self.add_resolved(node, res, Reference(RefKind.DECLARED, name, 0), local_imports)
        declared = bool(runtime_declared) or any(ref.kind is RefKind.DECLARED for ref in refs)
        for ref in refs:
            if declared and ref.kind is RefKind.DYNAMIC:
                # The author declared what the dynamic call reaches (``@depends_on``): the
                # blind spot is covered by hand, so it is not reported.
                continue
            self.expand_reference(node, module, local_imports, owner_class, ref)

    def resolve_declared(self, module: str, name: str) -> _Res:
        """A declared dependency: a name in the module, ``"pkg.mod:Qual.name"`` or an absolute
        dotted path ``"pkg.mod.Qual.name"``."""
        if ":" in name:
            target_module, _, qualname = name.partition(":")
            res = self.module_res(target_module)
            if res.what != _MODULE or not qualname:
                return res
            return self.resolve_dotted(target_module, (), qualname)
        res = self.resolve_dotted(module, (), name)
        if res.what != _UNKNOWN:
            return res
        parts = name.split(".")
        for cut in range(len(parts) - 1, 0, -1):
            prefix = ".".join(parts[:cut])
            if self.is_first_party(prefix) and self.module(prefix) is not None:
                return self.resolve_dotted(prefix, (), ".".join(parts[cut:]))
        return res

    def expand_module_node(self, node: str) -> None:
        """A module root (package graphs): every top-level definition it makes."""
        mod = self.module(node)
        if mod is None:
            return
        for qualname in mod.definitions:
            if "." not in qualname:
                self.add_edge(node, f"{node}:{qualname}", RefKind.MEMBER, 0)

    def expand_without_source(self, node: str, module: str, qualname: str) -> None:
        # An inherited member named through a subclass ("mod:Sub.run" with run in Base).
        owner, _, attr = qualname.rpartition(".")
        if owner and self.node_kind(f"{module}:{owner}") is NodeKind.CLASS:
            member = self.lookup_member(f"{module}:{owner}", attr)
            if member is not None:
                self.add_edge(node, member, RefKind.MEMBER, 0)
                return
        runtime = self.request.runtime
        info = runtime(node) if runtime is not None else None
        if info is None:
            return
        self.graph.nodes[node]["runtime"] = info
        for target, kind in info.references:
            target_module = target.partition(":")[0]
            if target_module == "builtins":
                continue  # like a builtin name in source: part of the interpreter tag
            if self.is_first_party(target_module):
                self.add_edge(node, target, kind, 0)
            else:
                self.add_edge(node, target_module.partition(".")[0], RefKind.EXTERNAL, 0)

    def expand_class(self, node: str) -> None:
        seen: set[str] = set()
        for klass in self.mro(node):
            for attr in self.members(klass):
                if attr in seen:
                    continue
                seen.add(attr)
                self.add_edge(node, self.lookup_member(node, attr) or node, RefKind.MEMBER, 0)
        for klass in self.mro(node):
            _, external = self.bases(klass)
            for top in external:
                self.add_edge(node, top, RefKind.EXTERNAL, 0)

    def constructor_targets(self, class_node: str) -> list[str]:
        targets = []
        for name in _CONSTRUCTORS:
            member = self.lookup_member(class_node, name)
            if member is not None:
                targets.append(member)
        definition = self.definition(class_node)
        decorated = definition is not None and bool(definition.decorators)
        if "__init__" not in {t.rpartition(".")[2] for t in targets} and decorated:
            # A class decorator (dataclass, attrs...) may generate __init__: the runtime step
            # hashes the generated code.
            targets.append(f"{class_node}.__init__")
        for klass in self.mro(class_node):
            for attr, member in self.members(klass).items():
                member_def = self.definition(f"{klass.partition(':')[0]}:{member}")
                if getattr(member_def, "kind", None) is DefKind.CONSTANT:
                    found = self.lookup_member(class_node, attr)
                    if found is not None and found not in targets:
                        targets.append(found)
        module = class_node.partition(":")[0]
        for ref in getattr(definition, "references", ()):
            if ref.kind is RefKind.METACLASS:
                res = self.resolve_dotted(module, (), ref.name)
                if res.what == _NODE:
                    call = self.lookup_member(res.name, "__call__")
                    if call is not None:
                        targets.append(call)
        return targets

    def expand_reference(
        self,
        node: str,
        module: str,
        local_imports: tuple[ImportBinding, ...],
        owner_class: str | None,
        ref: Reference,
    ) -> None:
        kind = ref.kind
        if kind is RefKind.ANNOTATION:
            return
        if kind is RefKind.DYNAMIC:
            self.note_unresolved(node, ref.name, "dynamic; declare it with depends_on", ref.line)
            return
        if kind in (RefKind.SELF_ATTR, RefKind.CLS_ATTR, RefKind.SUPER_ATTR):
            if owner_class is None:
                return
            skip = kind is RefKind.SUPER_ATTR
            member = self.lookup_member(owner_class, ref.name, skip_self=skip)
            if member is not None:
                self.add_edge(node, member, kind, ref.line)
            if not skip:
                self.self_refs.append((node, owner_class, ref.name, kind, ref.line))
            return
        if kind in (RefKind.METHOD, RefKind.PROTOCOL) or (
            kind is RefKind.ATTRIBUTE and ref.name.startswith(".")
        ):
            self.expand_receiver_reference(node, module, local_imports, ref)
            return
        if kind is RefKind.IMPORT:
            res = self.module_res(ref.name)
            if res.what == _EXTERNAL:
                self.add_edge(node, res.name, RefKind.EXTERNAL, ref.line)
            elif self.module(ref.name) is not None:
                self.add_edge(node, ref.name, RefKind.IMPORT, ref.line)
            return
        if kind is RefKind.DECLARED:
            res = self.resolve_declared(module, ref.name)
        else:
            res = self.resolve_dotted(module, local_imports, ref.name)
        self.add_resolved(node, res, ref, local_imports)

    def add_resolved(
        self, node: str, res: _Res, ref: Reference, local_imports: tuple[ImportBinding, ...]
    ) -> None:
        for instance in res.via:
            self.add_edge(node, instance, RefKind.ATTRIBUTE, ref.line)
        if res.what == _NODE:
            kind = self.node_kind(res.name)
            if kind is NodeKind.CONSTANT and ref.kind is RefKind.CALL and not res.partial:
                klass = self.constant_class(res.name)
                call = self.lookup_member(klass, "__call__") if klass is not None else None
                if call is not None:
                    self.add_edge(node, call, RefKind.CALL, ref.line)
            is_class = kind is NodeKind.CLASS
            if is_class and ref.kind is RefKind.CALL and not res.partial:
                for target in self.constructor_targets(res.name):
                    self.add_edge(node, target, RefKind.INSTANTIATION, ref.line)
                return
            if is_class and ref.kind is RefKind.DECORATOR and not res.partial:
                # ``@SomeClass`` builds an instance around the function, and calling the
                # function calls the instance (``__call__``, or ``__get__`` first for a method).
                targets = self.constructor_targets(res.name)
                for hook in _DECORATOR_CLASS_HOOKS:
                    member = self.lookup_member(res.name, hook)
                    if member is not None:
                        targets.append(member)
                for target in targets:
                    self.add_edge(node, target, RefKind.DECORATOR, ref.line)
                return
            if is_class and ref.kind is RefKind.BASE_CLASS:
                return  # members are reached through the MRO (guarantee 5)
            self.add_edge(node, res.name, ref.kind, ref.line)
        elif res.what == _EXTERNAL:
            self.add_edge(node, res.name, RefKind.EXTERNAL, ref.line)
        elif res.what == _MODULE:
            return
        elif res.what == _UNKNOWN:
            first = ref.name.split(".")[0]
            if first in {b.name for b in local_imports}:
                return
            if self.node_kind(node) in (NodeKind.FUNCTION, NodeKind.METHOD):
                # Module- and class-level code binds names in loops and ``with`` blocks that
                # are not definitions; only a function's missing global is a real blind spot.
                self.note_unresolved(node, ref.name, "name not found", ref.line)

    def expand_receiver_reference(
        self,
        node: str,
        module: str,
        local_imports: tuple[ImportBinding, ...],
        ref: Reference,
    ) -> None:
        attr = ref.name.lstrip(".")
        if ref.kind is RefKind.PROTOCOL and attr == "__call__" and not ref.receiver:
            # Calling a parameter or a computed value: what is called is a function (or a
            # callable object) chosen by whoever passed it, and that caller's own graph names
            # it. Indexing every first-party ``__call__`` here would pull in unrelated classes.
            return
        if ref.receiver:
            res = self.resolve_dotted(module, local_imports, ref.receiver)
            if res.what == _NODE and self.node_kind(res.name) is NodeKind.CLASS:
                member = self.lookup_member(res.name, attr)
                if member is not None:
                    self.add_edge(node, member, ref.kind, ref.line)
                for override in self.overrides(res.name, attr):
                    self.add_edge(node, override, RefKind.OVERRIDE, ref.line)
                self.self_refs.append((node, res.name, attr, RefKind.OVERRIDE, ref.line))
                return
            if res.what in (_EXTERNAL, _BUILTIN):
                if res.what == _EXTERNAL:
                    self.add_edge(node, res.name, RefKind.EXTERNAL, ref.line)
                return
        self.index_refs.append((node, ref))


# ---------------------------------------------------------------------------------------------
# Public functions of the step
# ---------------------------------------------------------------------------------------------


def build_graph(
    request: GraphRequest,
) -> tuple[nx.DiGraph, tuple[Unresolved, ...], dict[str, Node]]:
    """Build the dependency graph of ``request.roots``.

    Returns the networkx graph (edge attribute ``kinds``: {RefKind: first line}), the sorted
    unresolved references of nodes reachable from a root, and a Node for every graph node.
    """
    builder = _Builder(request)
    builder.run()
    graph = builder.graph
    reachable: set[str] = set()
    for root in request.roots:
        reachable |= {root, *nx.descendants(graph, root)}
    nodes: dict[str, Node] = {}
    for name in sorted(graph.nodes):
        nodes[name] = _make_node(builder, name, request)
    unresolved = tuple(
        sorted(
            (u for u in builder.unresolved.values() if u.owner in reachable),
            key=lambda u: (u.owner, u.line, u.expression),
        )
    )
    return graph, unresolved, nodes


def _make_node(builder: _Builder, name: str, request: GraphRequest) -> Node:
    module, sep, qualname = name.partition(":")
    if not sep:
        origin = builder.scope.classify(name)
        if origin is Origin.STDLIB:
            return Node(name, NodeKind.STDLIB)
        if origin is Origin.THIRD_PARTY:
            version = distribution_version(name)[1] if request.external_versions else ""
            return Node(name, NodeKind.EXTERNAL, version=version)
        mod = builder.modules.get(name)
        return Node(name, NodeKind.MODULE, file=mod.file if mod else None, line=None)
    mod = builder.modules.get(module)
    definition = mod.definitions.get(qualname) if mod is not None else None
    if definition is not None:
        kind = _DEF_NODE_KIND[getattr(definition, "kind")]  # noqa: B009 - typed as object
        return Node(name, kind, file=mod.file if mod else None, line=getattr(definition, "line"))  # noqa: B009
    info = builder.graph.nodes[name].get("runtime")
    if isinstance(info, RuntimeInfo):
        return Node(name, info.kind, file=info.file, line=info.line)
    kind = NodeKind.METHOD if "." in qualname else NodeKind.FUNCTION
    return Node(name, kind, file=mod.file if mod else None)


def to_dependency_graph(
    root: str,
    graph: nx.DiGraph,
    nodes: dict[str, Node],
    unresolved: tuple[Unresolved, ...],
    *,
    reachable_only: bool = True,
) -> DependencyGraph:
    """Freeze a built graph into a DependencyGraph (sorted nodes and edges)."""
    keep = {root, *nx.descendants(graph, root)} if reachable_only and root in graph else set(graph)
    edges = []
    for source, target, data in graph.edges(data=True):
        if source in keep and target in keep:
            for kind, line in data["kinds"].items():
                edges.append(Edge(source, target, kind, line))
    edges.sort(key=lambda e: (e.source, e.target, e.kind.value))
    return DependencyGraph(
        root=root,
        nodes=tuple(nodes[n] for n in sorted(keep) if n in nodes),
        edges=tuple(edges),
        unresolved=unresolved,
    )


def paths_from_root(graph: DependencyGraph) -> dict[str, tuple[Edge, ...]]:
    """Shortest edge path from the root to every node (ties broken by sorted names/kinds)."""
    by_source: dict[str, list[Edge]] = {}
    for edge in graph.edges:
        by_source.setdefault(edge.source, []).append(edge)
    paths: dict[str, tuple[Edge, ...]] = {graph.root: ()}
    frontier = [graph.root]
    while frontier:
        nxt = []
        for source in frontier:
            for edge in sorted(by_source.get(source, ()), key=lambda e: (e.target, e.kind.value)):
                if edge.target not in paths:
                    paths[edge.target] = (*paths[source], edge)
                    nxt.append(edge.target)
        frontier = sorted(nxt)
    return paths
