"""Small pure readings of libcst nodes: dotted names, literals, annotations, parameters."""

from __future__ import annotations

import dataclasses
import functools
import re
from collections.abc import Iterator, Sequence
from typing import TypeGuard, cast

import libcst as cst

from ._tables import LITERAL_TYPES, SKIP_FIELDS, TRANSPARENT_GENERICS

STRING_ANNOTATION = re.compile(r"[A-Za-z_][\w.]*")

#: Fields that only hold layout (whitespace, comments, brackets, separators): those the summary
#: walk skips, less those that carry meaning in source (an operator, a ``*``, a keyword name,
#: ``async``), plus a block's indentation.
_LAYOUT_FIELDS = (SKIP_FIELDS - {"operator", "star", "keyword", "asynchronous"}) | {"indent"}
#: Literals that canonical source writes by value.
LITERALS = (cst.Integer, cst.Float, cst.Imaginary, cst.SimpleString)


#: Type -> whether it is a libcst node. ``isinstance`` against a libcst class goes through
#: ``ABCMeta.__instancecheck__`` unless the type is the class itself, and the walks ask it of
#: every field of every node they pass; libcst's concrete node classes have no subclasses, so
#: the readers test those by exact type (``type(node) is cst.Name``) and ask this of the rest.
IS_NODE: dict[type, bool] = {}


def is_node(value: object) -> TypeGuard[cst.CSTNode]:
    """``isinstance(value, cst.CSTNode)``, memoised per type."""
    kind = type(value)
    known = IS_NODE.get(kind)
    if known is None:
        known = IS_NODE[kind] = issubclass(kind, cst.CSTNode)
    return known


@functools.cache
def generic_fields(kind: type[cst.CSTNode]) -> tuple[str, ...]:
    """The fields of a node type that can hold code (memoised per type)."""
    return tuple(
        f.name
        for f in dataclasses.fields(kind)
        if f.name not in SKIP_FIELDS and not f.name.startswith("whitespace")
    )


@functools.cache
def source_fields(kind: type[cst.CSTNode]) -> tuple[str, ...]:
    """The fields of a node type that carry meaning in source, layout left out (memoised per
    type): what canonical source is written from."""
    return tuple(
        f.name
        for f in dataclasses.fields(kind)
        if f.name not in _LAYOUT_FIELDS and not f.name.startswith("whitespace")
    )


def dotted(node: cst.CSTNode) -> list[str] | None:
    """``a.b.c`` -> ["a", "b", "c"]; None when not a chain of names."""
    parts: list[str] = []
    while type(node) is cst.Attribute:  # exact types: see IS_NODE
        parts.append(node.attr.value)
        node = node.value
    if type(node) is cst.Name:
        parts.append(node.value)
        parts.reverse()
        return parts
    return None


def literal_type(node: cst.CSTNode) -> str | None:
    """The builtin type of a literal expression; None if the node is not a literal."""
    found = LITERAL_TYPES.get(type(node))
    if found is not None:
        return found
    kind = type(node)  # exact types: see IS_NODE
    if kind is cst.SimpleString:
        return "bytes" if "b" in cast(cst.SimpleString, node).prefix.lower() else "str"
    if kind is cst.ConcatenatedString:
        return literal_type(cast(cst.ConcatenatedString, node).left)
    if kind is cst.Name:
        value = cast(cst.Name, node).value
        if value in ("True", "False", "None"):
            return "NoneType" if value == "None" else "bool"
    return None


def string_value(node: cst.CSTNode) -> str | None:
    """The value of a plain string literal; None for anything else."""
    if isinstance(node, (cst.SimpleString, cst.ConcatenatedString)):
        try:
            value = node.evaluated_value
        except (SyntaxError, ValueError, TypeError):  # e.g. an unknown \N{...} escape
            return None
        return value if isinstance(value, str) else None
    return None


def is_super_call(node: cst.CSTNode) -> bool:
    return (
        isinstance(node, cst.Call)
        and isinstance(node.func, cst.Name)
        and node.func.value == "super"
    )


def annotation_type(node: cst.CSTNode | None) -> str:
    """The receiver type an annotation names: ``Foo``, ``mod.Foo``, ``Optional[Foo]``,
    ``Foo | None``, ``"Foo"``; "" for anything else (containers, unions of several types)."""
    if node is None:
        return ""
    if isinstance(node, cst.Annotation):
        node = node.annotation
    parts = dotted(node)
    if parts is not None:
        return "" if parts[-1] == "None" else ".".join(parts)
    text = string_value(node)
    if text is not None:
        text = text.strip()
        if STRING_ANNOTATION.fullmatch(text):
            return text
        try:
            return annotation_type(cst.parse_expression(text))
        except (cst.ParserSyntaxError, RecursionError, ValueError):
            return ""
    if isinstance(node, cst.Subscript):
        base = dotted(node.value)
        if base is None:
            return ""
        elements = [e.slice.value for e in node.slice if isinstance(e.slice, cst.Index)]
        if base[-1] in TRANSPARENT_GENERICS and elements:
            return annotation_type(elements[0])
        if base[-1] == "Union":
            return _single_type(elements)
        return ""
    if isinstance(node, cst.BinaryOperation) and isinstance(node.operator, cst.BitOr):
        operands: list[cst.CSTNode] = []
        stack: list[cst.CSTNode] = [node]
        while stack:
            item = stack.pop()
            if isinstance(item, cst.BinaryOperation) and isinstance(item.operator, cst.BitOr):
                stack.extend((item.right, item.left))
            else:
                operands.append(item)
        return _single_type(operands)
    return ""


def _single_type(operands: Sequence[cst.CSTNode]) -> str:
    """The one non-None member of a union; "" when there are several."""
    real = [o for o in operands if not (isinstance(o, cst.Name) and o.value == "None")]
    return annotation_type(real[0]) if len(real) == 1 else ""


def all_params(params: cst.Parameters) -> Iterator[cst.Param]:
    yield from params.posonly_params
    yield from params.params
    if isinstance(params.star_arg, cst.Param):
        yield params.star_arg
    yield from params.kwonly_params
    if params.star_kwarg is not None:
        yield params.star_kwarg


def target_names(target: cst.CSTNode) -> list[cst.Name]:
    """The names a module/class-level assignment target binds (``A, B = ...`` gives two)."""
    if isinstance(target, cst.Name):
        return [target]
    if isinstance(target, (cst.Tuple, cst.List)):
        found: list[cst.Name] = []
        for element in target.elements:
            value = element.value
            found.extend(
                target_names(value.value if isinstance(value, cst.StarredElement) else value)
            )
        return found
    return []


_DISPLAYS = (cst.Tuple, cst.List)


def paired_elements(
    target: cst.CSTNode, value: cst.CSTNode
) -> list[tuple[cst.CSTNode, cst.CSTNode]]:
    """What each part of an assignment target receives: ``a, (b, c) = x, (y, z)`` gives
    ``[(a, x), (b, y), (c, z)]``. The walk descends only where both sides are tuple or list
    displays of the same length without starred elements; elsewhere the pair is the target and
    the whole value it unpacks (``a, b = pair`` gives ``[((a, b), pair)]``)."""
    if type(target) in _DISPLAYS and type(value) in _DISPLAYS:
        left = cast(cst.Tuple | cst.List, target).elements
        right = cast(cst.Tuple | cst.List, value).elements
        if len(left) == len(right) and not any(
            type(e) is cst.StarredElement for e in (*left, *right)
        ):
            pairs: list[tuple[cst.CSTNode, cst.CSTNode]] = []
            for receiving, given in zip(left, right, strict=True):
                pairs.extend(paired_elements(receiving.value, given.value))
            return pairs
    return [(target, value)]


def literal_strings(value: cst.CSTNode) -> list[str] | None:
    """The strings of a list/tuple literal of plain strings; None for anything else."""
    if not isinstance(value, (cst.List, cst.Tuple)):
        return None
    names = []
    for element in value.elements:
        if isinstance(element, cst.StarredElement):
            return None
        text = string_value(element.value)
        if text is None:
            return None
        names.append(text)
    return names
