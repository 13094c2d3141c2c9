"""Class facts over the loaded program: bases, MRO, members, properties, the attributes
methods assign, and the class a module-level instance was built by."""

from __future__ import annotations

from astoken._model import DefKind, NodeKind, RefKind

from ._program import EXTERNAL, NODE, Program

_PROPERTY_DECORATORS = frozenset({"property", "cached_property", "functools.cached_property"})
_ACCESSOR_SUFFIXES = (".setter", ".getter", ".deleter")


def bases(program: Program, class_node: str) -> tuple[list[str], list[str]]:
    """(first-party base class nodes, external top-level names) of a class."""
    definition = program.definition(class_node)
    module = class_node.partition(":")[0]
    first, external = [], []
    for base in definition.bases if definition is not None else ():
        res = program.resolve_dotted(module, (), base)
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
    definition = program.definition(node)
    if definition is None or definition.kind is not DefKind.METHOD:
        return False
    return any(
        d in _PROPERTY_DECORATORS or d.endswith(_ACCESSOR_SUFFIXES) for d in definition.decorators
    )


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
            res = program.resolve_dotted(module, (), ref.name)
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
            res = program.resolve_dotted(module, (), ref.name)
            if (
                res.what is NODE
                and not res.partial
                and program.node_kind(res.name) is NodeKind.CLASS
            ):
                found = res.name
            break
    program.constant_classes[node] = found
    return found
