"""Class facts over the loaded program: bases, MRO, members, properties, the attributes
methods assign, and the class a module-level instance was built by; and names resolved
through class members (``Model.fit``, ``model.predict`` for ``model = Model()``), which the
facts need in turn (a base class is a dotted name): :func:`resolve_dotted`.

:mod:`._program` knows modules and names bound in them; this module builds on it, never the
other way round."""

from __future__ import annotations

from collections.abc import Iterable

from astoken._model import DefKind, ImportBinding, NodeKind, RefKind

from ._program import EXTERNAL, MODULE, NODE, UNKNOWN, UNKNOWN_RES, Program, Res

_PROPERTY_DECORATORS = frozenset({"property", "cached_property", "functools.cached_property"})
_ACCESSOR_SUFFIXES = (".setter", ".getter", ".deleter")


def bases(program: Program, class_node: str) -> tuple[list[str], list[str]]:
    """(first-party base class nodes, external top-level names) of a class."""
    definition = program.definition(class_node)
    module = class_node.partition(":")[0]
    first, external = [], []
    for base in definition.bases if definition is not None else ():
        res = resolve_dotted(program, module, (), base)
        if res.what is NODE and program.node_kind(res.name) is NodeKind.CLASS:
            first.append(res.name)
        elif res.what is EXTERNAL:
            external.append(res.name)
    return first, external


def mro(program: Program, class_node: str, stack: tuple[str, ...] = ()) -> tuple[str, ...]:
    """The C3 linearisation over first-party bases (depth-first on inconsistency)."""
    cached = program.mro_cache.get(class_node)
    if cached is not None:
        return cached
    if class_node in stack:
        return (class_node,)
    first, _ = bases(program, class_node)
    seqs = [list(mro(program, b, (*stack, class_node))) for b in first] + [list(first)]
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
    program.mro_cache[class_node] = value
    return value


def members(program: Program, class_node: str) -> dict[str, str]:
    """attribute -> member qualname, for the members defined in the class body itself."""
    module, _, qualname = class_node.partition(":")
    mod = program.module(module)
    if mod is None:
        return {}
    return mod.members.get(qualname, {})


def lookup_member(
    program: Program, class_node: str, attr: str, *, skip_self: bool = False
) -> str | None:
    """The node of ``attr`` found over the class's first-party MRO (first definition wins).

    Memoised per program: the MRO is, and a loaded module's members never change (a whole
    package's graph asks ~375,000 times, for a few thousand distinct answers)."""
    key = (class_node, attr, skip_self)
    if key in program.member_cache:
        return program.member_cache[key]
    found = None
    order = mro(program, class_node)
    for klass in order[1:] if skip_self else order:
        member = members(program, klass).get(attr)
        if member is not None:
            found = f"{klass.partition(':')[0]}:{member}"
            break
    program.member_cache[key] = found
    return found


def all_member_names(program: Program, class_node: str) -> set[str]:
    names: set[str] = set()
    for klass in mro(program, class_node):
        names.update(members(program, klass))
    return names


def is_property(program: Program, node: str) -> bool:
    """True for a method read as an attribute: ``property``/``cached_property`` and accessors."""
    found = program.property_cache.get(node)
    if found is None:
        definition = program.definition(node)
        found = (
            definition is not None
            and definition.kind is DefKind.METHOD
            and any(
                d in _PROPERTY_DECORATORS or d.endswith(_ACCESSOR_SUFFIXES)
                for d in definition.decorators
            )
        )
        program.property_cache[node] = found
    return found


def is_classlike_decorated(program: Program, class_node: str) -> bool:
    definition = program.definition(class_node)
    return definition is not None and bool(definition.decorators)


def metaclass_calls(program: Program, class_node: str) -> list[str]:
    """``__call__`` of the first-party metaclass a class declares."""
    definition = program.definition(class_node)
    module = class_node.partition(":")[0]
    found = []
    for ref in definition.references if definition is not None else ():
        if ref.kind is RefKind.METACLASS:
            res = resolve_dotted(program, module, (), ref.name)
            if res.what is NODE:
                call = lookup_member(program, res.name, "__call__")
                if call is not None:
                    found.append(call)
    return found


def assigned_attributes(program: Program, class_node: str) -> dict[str, list[tuple[str, str]]]:
    """attribute -> [(method node, origin)] for ``self.attr = value`` in the methods (and the
    functions nested in them) of every class of the MRO."""
    cached = program.assigns_cache.get(class_node)
    if cached is not None:
        return cached
    found: dict[str, list[tuple[str, str]]] = {}
    for klass in mro(program, class_node):
        module = klass.partition(":")[0]
        for member in members(program, klass).values():
            node = f"{module}:{member}"
            stack = [node]
            while stack:
                current = stack.pop()
                definition = program.definition(current)
                if definition is None or definition.kind not in (DefKind.METHOD, DefKind.NESTED):
                    continue
                for attr, origin in definition.assigns:
                    found.setdefault(attr, []).append((current, origin))
                stack.extend(program.nested_of(current))
    program.assigns_cache[class_node] = found
    return found


def constant_class(program: Program, node: str) -> str | None:
    """The first-party class a module/class-level constant was built by (``x = C(...)``)."""
    if node in program.constant_classes:
        return program.constant_classes[node]
    program.constant_classes[node] = None  # guards ``x = x.copy()`` style self-reference
    definition = program.definition(node)
    if definition is None or definition.kind is not DefKind.CONSTANT:
        return None
    module = node.partition(":")[0]
    found = None
    for ref in definition.references:
        if ref.kind is RefKind.CALL:
            res = resolve_dotted(program, module, (), ref.name)
            if (
                res.what is NODE
                and not res.partial
                and program.node_kind(res.name) is NodeKind.CLASS
            ):
                found = res.name
            break
    program.constant_classes[node] = found
    return found


# -- names through class members --------------------------------------------------------


def resolve_dotted(
    program: Program, module: str, local_imports: Iterable[ImportBinding], dotted: str
) -> Res:
    """Resolve a dotted expression as written in ``module`` (inside a definition with
    ``local_imports``): through modules, then class members and module-level instances."""
    parts = dotted.split(".")
    mod = program.module(module)
    res = UNKNOWN_RES
    local = {b.name: b for b in local_imports}
    if parts[0] in local and mod is not None:
        res = program.resolve_binding(mod, local[parts[0]])
    elif mod is not None:
        res = program.resolve_in_module(module, parts[0])
    for part in parts[1:]:
        if res.what is MODULE:
            nxt = program.module_attribute(res.name, part)
            if nxt.what is UNKNOWN:
                # The module does not bind the name: the path stops at the module (a
                # blind spot the builder reports).
                if program.module(res.name) is None:
                    return UNKNOWN_RES
                return Res(MODULE, res.name, partial=True, via=res.via)
            if res.via:  # the __getattr__ hooks passed on the way run too
                nxt = Res(nxt.what, nxt.name, nxt.partial, (*res.via, *nxt.via))
            res = nxt
        elif res.what is NODE:
            res = member_of(program, res, part)
            if res.partial:
                return res
        else:
            return res
    return res


def member_of(program: Program, res: Res, part: str) -> Res:
    """``X.part`` for a resolved node X: a class member, or a member of the class that
    built a module-level instance."""
    kind = program.node_kind(res.name)
    via = res.via
    klass = res.name if kind is NodeKind.CLASS else None
    if kind is NodeKind.CONSTANT and not res.via:
        klass = constant_class(program, res.name)
        via = (res.name,)
    if klass is None:
        return Res(NODE, res.name, partial=True, via=res.via)
    member = lookup_member(program, klass, part)
    if member is None:
        return Res(NODE, res.name, partial=True, via=res.via)
    return Res(NODE, member, via=via)


def resolve_declared(program: Program, module: str, name: str) -> Res:
    """A declared dependency: a name in the module, ``"pkg.mod:Qual.name"`` or an absolute
    dotted path ``"pkg.mod.Qual.name"``."""
    if ":" in name:
        target_module, _, qualname = name.partition(":")
        res = program.module_res(target_module)
        if res.what is not MODULE or not qualname:
            return res
        return resolve_dotted(program, target_module, (), qualname)
    res = resolve_dotted(program, module, (), name)
    if res.what is not UNKNOWN:
        return res
    parts = name.split(".")
    for cut in range(len(parts) - 1, 0, -1):
        prefix = ".".join(parts[:cut])
        if program.is_first_party(prefix) and program.module(prefix) is not None:
            return resolve_dotted(program, prefix, (), ".".join(parts[cut:]))
    return res
