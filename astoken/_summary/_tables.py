"""The fixed vocabularies of the summary pass: implicit names, protocols behind operators and
builtins, and what builtin calls return."""

from __future__ import annotations

import libcst as cst

# Module globals that are never definitions of the module itself.
IMPLICIT_NAMES = frozenset(
    {
        "True",
        "False",
        "None",
        "__name__",
        "__file__",
        "__doc__",
        "__spec__",
        "__package__",
        "__loader__",
        "__path__",
        "__builtins__",
        "__debug__",
        "__class__",
        "__annotations__",
        "__dict__",
        "__module__",
        "__qualname__",
    }
)
DECLARED_DEPS = frozenset({"__astoken_deps__", "__ccflow_tokenizer_deps__"})
#: Methods whose first parameter is the class even without ``@classmethod``.
CLS_METHODS = frozenset({"__new__", "__init_subclass__", "__class_getitem__"})
TRANSPARENT_GENERICS = frozenset(
    {"Optional", "Annotated", "Final", "ClassVar", "Required", "NotRequired", "ReadOnly"}
)
#: Decorators whose method is read as an attribute (its getter runs on ``obj.name``).
PROPERTY_DECORATORS = frozenset({"property", "cached_property", "functools.cached_property"})

# Builtin calls that invoke a protocol method on their first argument.
BUILTIN_PROTOCOLS: dict[str, tuple[str, ...]] = {
    "len": ("__len__",),
    "iter": ("__iter__", "__next__"),
    "next": ("__next__",),
    "abs": ("__abs__",),
    "hash": ("__hash__",),
    "str": ("__str__",),
    "repr": ("__repr__",),
    "format": ("__format__",),
    "bool": ("__bool__", "__len__"),
    "reversed": ("__reversed__", "__len__", "__getitem__"),
}
ATTR_BUILTINS = frozenset({"getattr", "hasattr", "setattr", "delattr"})
TYPE_CHECKS = frozenset({"isinstance", "issubclass"})

#: Builtins that call functions they are given, by how: every positional argument (``map``,
#: ``filter``: their iterables are not callable, so a function among the arguments is the one
#: called), or the ``key=`` argument. Such a function is called where the builtin is.
CALLS_POSITIONAL = frozenset({"map", "filter"})
CALLS_KEY = frozenset({"sorted", "min", "max"})

#: Methods that store a value into the container they are called on, with the position of
#: that value among the positional arguments (``d.update(other)``: the whole mapping).
CONTAINER_STORES: dict[str, int] = {
    "append": 0,
    "appendleft": 0,
    "add": 0,
    "extend": 0,
    "extendleft": 0,
    "update": 0,
    "insert": 1,
}

#: What a builtin call returns (a builtin type's name). Two refinements keep a parameter's
#: objects the caller's: a call in ELEMENT_OF_ARGUMENT returns an element of its first argument
#: (``min(G)``), one in CONTAINER_OF_ARGUMENT a builtin container of its elements
#: (``sorted(G)``), so both stay the caller's objects when the argument is.
BUILTIN_RESULTS: dict[str, str] = {
    **{
        name: name
        for name in (
            "set",
            "frozenset",
            "dict",
            "list",
            "tuple",
            "str",
            "bytes",
            "bytearray",
            "int",
            "float",
            "complex",
            "bool",
            "range",
            "enumerate",
            "zip",
            "map",
            "filter",
            "slice",
            "memoryview",
            "object",
        )
    },
    "sorted": "list",
    "reversed": "list",
    "iter": "iterator",
    **dict.fromkeys(("len", "hash", "id", "ord", "round"), "int"),
    **dict.fromkeys(("isinstance", "issubclass", "callable", "hasattr", "all", "any"), "bool"),
    **dict.fromkeys(("repr", "format", "chr", "ascii", "bin", "hex", "oct", "input"), "str"),
    **dict.fromkeys(("min", "max", "next", "sum"), ""),
}
ELEMENT_OF_ARGUMENT = frozenset({"min", "max", "next", "sum"})
CONTAINER_OF_ARGUMENT = frozenset(
    {"list", "tuple", "set", "frozenset", "sorted", "reversed", "enumerate", "zip", "map"}
    | {"filter", "iter", "dict"}
)

BINARY_OPS: dict[type[cst.CSTNode], tuple[str, str]] = {
    cst.Add: ("__add__", "__radd__"),
    cst.Subtract: ("__sub__", "__rsub__"),
    cst.Multiply: ("__mul__", "__rmul__"),
    cst.Divide: ("__truediv__", "__rtruediv__"),
    cst.FloorDivide: ("__floordiv__", "__rfloordiv__"),
    cst.Modulo: ("__mod__", "__rmod__"),
    cst.Power: ("__pow__", "__rpow__"),
    cst.MatrixMultiply: ("__matmul__", "__rmatmul__"),
    cst.LeftShift: ("__lshift__", "__rlshift__"),
    cst.RightShift: ("__rshift__", "__rrshift__"),
    cst.BitAnd: ("__and__", "__rand__"),
    cst.BitOr: ("__or__", "__ror__"),
    cst.BitXor: ("__xor__", "__rxor__"),
}
AUGMENTED_OPS: dict[type[cst.CSTNode], tuple[str, str, str]] = {
    cst.AddAssign: ("__iadd__", "__add__", "__radd__"),
    cst.SubtractAssign: ("__isub__", "__sub__", "__rsub__"),
    cst.MultiplyAssign: ("__imul__", "__mul__", "__rmul__"),
    cst.DivideAssign: ("__itruediv__", "__truediv__", "__rtruediv__"),
    cst.FloorDivideAssign: ("__ifloordiv__", "__floordiv__", "__rfloordiv__"),
    cst.ModuloAssign: ("__imod__", "__mod__", "__rmod__"),
    cst.PowerAssign: ("__ipow__", "__pow__", "__rpow__"),
    cst.MatrixMultiplyAssign: ("__imatmul__", "__matmul__", "__rmatmul__"),
    cst.LeftShiftAssign: ("__ilshift__", "__lshift__", "__rlshift__"),
    cst.RightShiftAssign: ("__irshift__", "__rshift__", "__rrshift__"),
    cst.BitAndAssign: ("__iand__", "__and__", "__rand__"),
    cst.BitOrAssign: ("__ior__", "__or__", "__ror__"),
    cst.BitXorAssign: ("__ixor__", "__xor__", "__rxor__"),
}
# Comparison operator -> (left operand's method, right operand's reflected method).
COMPARISONS: dict[type[cst.CSTNode], tuple[str, str]] = {
    cst.Equal: ("__eq__", "__eq__"),
    cst.NotEqual: ("__ne__", "__ne__"),
    cst.LessThan: ("__lt__", "__gt__"),
    cst.LessThanEqual: ("__le__", "__ge__"),
    cst.GreaterThan: ("__gt__", "__lt__"),
    cst.GreaterThanEqual: ("__ge__", "__le__"),
}
UNARY_OPS: dict[type[cst.CSTNode], tuple[str, ...]] = {
    cst.Minus: ("__neg__",),
    cst.Plus: ("__pos__",),
    cst.BitInvert: ("__invert__",),
    cst.Not: ("__bool__", "__len__"),
}
LITERAL_TYPES: dict[type[cst.CSTNode], str] = {
    cst.Integer: "int",
    cst.Float: "float",
    cst.Imaginary: "complex",
    cst.FormattedString: "str",
    cst.List: "list",
    cst.ListComp: "list",
    cst.Tuple: "tuple",
    cst.Set: "set",
    cst.SetComp: "set",
    cst.Dict: "dict",
    cst.DictComp: "dict",
    cst.GeneratorExp: "generator",
    cst.Ellipsis: "ellipsis",
}
BOOL_OPERANDS = (cst.Name, cst.Attribute, cst.Subscript)

# Fields that never hold code (whitespace, punctuation): skipped by the generic descent.
SKIP_FIELDS = frozenset(
    {
        "lpar",
        "rpar",
        "comma",
        "semicolon",
        "leading_lines",
        "lines_after_decorators",
        "header",
        "footer",
        "trailing_whitespace",
        "newline",
        "equal",
        "colon",
        "dot",
        "star",
        "asynchronous",
        "operator",
        "lbracket",
        "rbracket",
        "lbrace",
        "rbrace",
        "whitespace_before",
        "whitespace_after",
        "first_colon",
        "second_colon",
        "keyword",
    }
)
