"""The program as the graph sees it: first-party modules (summarised on demand), their
definitions, and name resolution through imports, re-exports and star imports."""

from __future__ import annotations

import builtins
import enum
from collections.abc import Callable
from dataclasses import dataclass, field

from astoken._model import (
    Definition,
    DefKind,
    ImportBinding,
    ModuleSource,
    NodeKind,
    Reference,
)
from astoken._scope import Origin

from ._request import GraphRequest

BUILTIN_NAMES = frozenset(dir(builtins))
DEF_NODE_KIND = {
    DefKind.FUNCTION: NodeKind.FUNCTION,
    DefKind.CLASS: NodeKind.CLASS,
    DefKind.METHOD: NodeKind.METHOD,
    DefKind.CONSTANT: NodeKind.CONSTANT,
    DefKind.NESTED: NodeKind.NESTED,
}


@dataclass(slots=True)
class ModuleInfo:
    """One first-party module, indexed for lookups."""

    name: str
    file: str | None
    is_package: bool
    definitions: dict[str, Definition] = field(default_factory=dict)
    imports: dict[str, ImportBinding] = field(default_factory=dict)
    stars: tuple[tuple[int, str], ...] = ()
    all_names: tuple[str, ...] | None = None
    # class qualname -> {attribute: member qualname} (direct members only)
    members: dict[str, dict[str, str]] = field(default_factory=dict)
    # enclosing qualname -> qualnames of definitions nested in it (methods of local classes too)
    nested: dict[str, list[str]] = field(default_factory=dict)
    references: tuple[Reference, ...] = ()


def _index_module(source: ModuleSource) -> ModuleInfo:
    mod = ModuleInfo(source.name, source.file, source.is_package)
    summary = source.summary
    for definition in summary.definitions:
        qualname = definition.qualname
        mod.definitions[qualname] = definition
        if definition.kind is DefKind.NESTED:
            owner = qualname.rpartition(".<locals>.")[0]
            mod.nested.setdefault(owner, []).append(qualname)
            continue
        owner, _, attr = qualname.rpartition(".")
        if owner:
            mod.members.setdefault(owner, {})[attr] = qualname
    for binding in summary.imports:
        mod.imports[binding.name] = binding
    mod.stars = summary.star_imports
    mod.all_names = summary.all_names
    mod.references = summary.module_references
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


class Found(enum.Enum):
    """What a name resolves to."""

    NODE = "node"  #: a graph node (``Res.name``)
    MODULE = "module"  #: a module (``Res.name``)
    EXTERNAL = "external"  #: a third-party or stdlib package (``Res.name``, its top level)
    BUILTIN = "builtin"  #: a builtin
    UNKNOWN = "unknown"  #: nothing this pass can name


# The members by their short names, as the graph step's modules compare them.
NODE, MODULE, EXTERNAL = Found.NODE, Found.MODULE, Found.EXTERNAL
BUILTIN, UNKNOWN = Found.BUILTIN, Found.UNKNOWN


@dataclass(frozen=True, slots=True)
class Res:
    """A resolved name: a graph node, a module, an external package, a builtin, or unknown."""

    what: Found
    name: str = ""
    # A dotted path stopped early at this node (for a module: at a name it does not bind).
    partial: bool = False
    # Nodes passed through that run too: module-level instances (``model.predict``), module
    # ``__getattr__`` hooks (``pkg.lazy_submodule``).
    via: tuple[str, ...] = ()


UNKNOWN_RES = Res(UNKNOWN)
BUILTIN_RES = Res(BUILTIN)


class Program:
    """First-party modules, loaded lazily through the request's module provider."""

    def __init__(self, request: GraphRequest) -> None:
        self.request = request
        self.classify: Callable[[str], Origin] = request.origin
        self.modules: dict[str, ModuleInfo | None] = {}
        # Caches of the class facts in ``_classes`` (pure functions of the loaded modules).
        self.mro_cache: dict[str, tuple[str, ...]] = {}
        self.member_cache: dict[tuple[str, str, bool], str | None] = {}
        self.constant_classes: dict[str, str | None] = {}
        self.assigns_cache: dict[str, dict[str, list[tuple[str, str]]]] = {}
        self.rebound_cache: dict[str, Res | None] = {}
        self.branch_cache: dict[str, dict[str, frozenset[str]]] = {}
        self.property_cache: dict[str, bool] = {}

    # -- modules ---------------------------------------------------------------------------

    def module(self, name: str) -> ModuleInfo | None:
        if name in self.modules:
            return self.modules[name]
        info: ModuleInfo | None = None
        if self.classify(name) is Origin.FIRST_PARTY:
            source = self.request.modules(name)
            if source is not None:
                info = _index_module(source)
        self.modules[name] = info
        return info

    def is_first_party(self, module: str) -> bool:
        return self.classify(module) is Origin.FIRST_PARTY

    @staticmethod
    def external(module: str) -> Res:
        return Res(EXTERNAL, module.partition(".")[0])

    def module_res(self, name: str) -> Res:
        if not name:
            return UNKNOWN_RES
        if not self.is_first_party(name):
            return self.external(name)
        return Res(MODULE, name)

    # -- definitions -----------------------------------------------------------------------

    def definition(self, node: str) -> Definition | None:
        module, _, qualname = node.partition(":")
        mod = self.module(module) if qualname else None
        if mod is None:
            return None
        return mod.definitions.get(qualname)

    def node_kind(self, node: str) -> NodeKind | None:
        definition = self.definition(node)
        return DEF_NODE_KIND.get(definition.kind) if definition is not None else None

    def enclosing(self, node: str) -> str:
        """The top-level definition a nested one lives in (``m:C.f.<locals>.g`` -> ``m:C.f``)."""
        return node.partition(".<locals>.")[0]

    def owner_class(self, node: str) -> str:
        """The class whose ``self`` a definition's code sees ("" for none)."""
        top = self.enclosing(node)
        module, _, qualname = top.partition(":")
        definition = self.definition(top)
        if definition is None:
            return ""
        if definition.kind in (DefKind.METHOD, DefKind.CONSTANT) and "." in qualname:
            return f"{module}:{qualname.rpartition('.')[0]}"
        if definition.kind is DefKind.CLASS:
            return top
        return ""

    def local_imports(self, node: str) -> tuple[ImportBinding, ...]:
        """Imports made inside a definition and the definitions it is nested in."""
        found: list[ImportBinding] = []
        current = node
        while True:
            definition = self.definition(current)
            if definition is not None:
                found.extend(definition.imports)
            if ".<locals>." not in current:
                return tuple(found)
            current = current.rpartition(".<locals>.")[0]

    def nested_of(self, node: str) -> list[str]:
        module, _, qualname = node.partition(":")
        mod = self.module(module)
        if mod is None:
            return []
        return [f"{module}:{q}" for q in mod.nested.get(qualname, ())]

    # -- name resolution -------------------------------------------------------------------

    def resolve_binding(self, mod: ModuleInfo, binding: ImportBinding, depth: int = 0) -> Res:
        target = absolute_module(mod.name, mod.is_package, binding.level, binding.module)
        if binding.attr is None:
            if binding.level == 0 and target.startswith(binding.name + "."):
                target = binding.name
            return self.module_res(target)
        if not target:
            return UNKNOWN_RES
        if not self.is_first_party(target):
            return self.external(target)
        res = self.module_attribute(target, binding.attr, depth + 1)
        if res.what is UNKNOWN:
            sub = f"{target}.{binding.attr}"
            if self.module(sub) is not None:
                return Res(MODULE, sub)
        return res

    def module_attribute(self, module: str, name: str, depth: int = 0) -> Res:
        """``module.name`` read from outside the module (an attribute, ``from module import
        name``), where Python asks the module's ``__getattr__`` (PEP 562) for a name the module
        does not bind: that function's code runs, and what it returns is its business (the
        builder follows the modules it imports or returns). A dunder the module does not define
        is the import system's (``__file__``, ``__path__``): no code."""
        res = self.resolve_in_module(module, name, depth)
        mod = self.modules.get(module)
        if mod is None or name in mod.definitions or name in mod.imports:
            return res
        hook = mod.definitions.get("__getattr__")
        if hook is not None and hook.kind in (DefKind.FUNCTION, DefKind.CONSTANT):
            node = f"{module}:__getattr__"
            if res.what is UNKNOWN:
                return Res(NODE, node, partial=True)
            if res.what is MODULE and res.name == f"{module}.{name}":
                # A submodule the package does not import itself: until something imports
                # it, reading it runs __getattr__.
                return Res(MODULE, res.name, via=(*res.via, node))
        if res.what is UNKNOWN and name.startswith("__") and name.endswith("__"):
            return BUILTIN_RES
        return res

    def import_name(self, module: str, name: str) -> str:
        """The absolute module ``importlib.import_module(name, __package__)`` names from
        ``module`` (a leading dot is relative to the package, as ``from . import`` is)."""
        level = len(name) - len(name.lstrip("."))
        if not level:
            return name
        mod = self.module(module)
        is_package = mod is not None and mod.is_package
        return absolute_module(module, is_package, level, name[level:])

    def resolve_in_module(self, module: str, name: str, depth: int = 0) -> Res:
        if depth > 50:  # a re-export loop: Python itself would fail to import it
            return UNKNOWN_RES
        if not self.is_first_party(module):
            return self.external(module)
        mod = self.module(module)
        if mod is None:
            return UNKNOWN_RES
        if name in mod.definitions:
            rebound = self.rebound(module, name)
            return rebound if rebound is not None else Res(NODE, f"{module}:{name}")
        binding = mod.imports.get(name)
        if binding is not None:
            res = self.resolve_binding(mod, binding, depth + 1)
            # A module-level import ran when the module was imported: a PEP 562 hook it passed
            # (``from . import submodule`` asks the package's ``__getattr__`` first) ran then,
            # not when code reads the name it bound.
            return Res(res.what, res.name, res.partial) if res.via else res
        if mod.stars and self.request.locate is not None:
            located = self.located(module, name)
            if located is not None:
                return located
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
                if res.what is not UNKNOWN:
                    return res
        for level, star in mod.stars:
            star_module = absolute_module(module, mod.is_package, level, star)
            if not self.is_first_party(star_module):
                # A name from a third-party star import: attribute it to that package.
                return self.external(star_module)
        if mod.is_package and self.module(f"{module}.{name}") is not None:
            return Res(MODULE, f"{module}.{name}")
        if name in BUILTIN_NAMES:
            return BUILTIN_RES
        return UNKNOWN_RES

    def rebound(self, module: str, name: str) -> Res | None:
        """What a module-level name defined in source is bound to at run time when that is not
        its definition (None: the definition, or the live module cannot say). A definition in
        the branch an import did not take (``try: from math import sumprod as f`` ... ``except
        ImportError: def f``), or replaced by a later binding, is not the code that runs.
        A class attribute bound by an expression (``__call__ = _any if backends else _none``)
        is located too: its live value is the function or class the expression chose, and the
        others it names never run as it (coverage.md rule 6, constants are their live values)."""
        if self.request.locate is None:
            return None
        key = f"{module}:{name}"
        if "." in name:
            definition = self.definition(key)
            if definition is None or definition.kind is not DefKind.CONSTANT:
                return None
        if key in self.rebound_cache:
            return self.rebound_cache[key]
        hint = self.request.locate(module, name)
        found: Res | None = None
        if hint is not None and hint.startswith(("node:", "module:")) and hint != f"node:{key}":
            # (A name missing from the live module is not read as rebound: the module may be
            # importing still, with its later definitions yet to run.)
            found = self.located(module, name, hint)
        self.rebound_cache[key] = found
        return found

    def branch_names(self, node: str) -> frozenset[str] | None:
        """The names the live code of a function defined in several branches of one ``if``
        uses (the branch that ran: see ``astoken._runtime.branch_names``); None for a function
        defined once, or when the live module cannot say. The summary merges the branches'
        references into one definition; a reference only another branch makes is not code
        that runs."""
        module, _, qualname = node.partition(":")
        found = self.branch_cache.get(module)
        if found is None:
            answer = self.request.branches(module) if self.request.branches else ()
            found = self.branch_cache[module] = {q: frozenset(n) for q, n in answer}
        return found.get(qualname)

    def located(self, module: str, name: str, hint: str | None = None) -> Res | None:
        """A name of a module with star imports, answered by the live module (None: scan)."""
        if hint is None:
            assert self.request.locate is not None
            hint = self.request.locate(module, name)
        if hint is None:
            return None
        kind, _, where = hint.partition(":")
        if kind == "module":
            return self.module_res(where)
        if kind == "node":
            target_module = where.partition(":")[0]
            if not self.is_first_party(target_module):
                return self.external(target_module)
            if self.definition(where) is not None:
                return Res(NODE, where)
            return None
        # Not in the live module: no star import provides it (a submodule or a builtin may).
        mod = self.module(module)
        if mod is not None and mod.is_package and self.module(f"{module}.{name}") is not None:
            return Res(MODULE, f"{module}.{name}")
        return BUILTIN_RES if name in BUILTIN_NAMES else UNKNOWN_RES
