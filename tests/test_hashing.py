"""The runtime hasher: code, function and class tokens (guarantees of ``astoken._hashing``).

Each case writes a *before* and an *after* module to disk, imports both as fresh modules and
asserts that the token of the named object stayed the same or changed.
"""

from __future__ import annotations

import dataclasses
import dis
import enum
import functools
import importlib.util
import itertools
import json
import os
import subprocess
import sys
import textwrap
import types
import weakref
from pathlib import Path
from typing import Any

import pytest
from _fresh import COUNT_WORK, run_fresh

from astoken import _hashing
from astoken._hashing import _code
from astoken._scope import Scope
from astoken.errors import UnhashableValueError

_COUNTER = itertools.count()


def load(tmp_path: Path, source: str, name: str = "astoken_hashcase") -> types.ModuleType:
    """Import ``source`` as a fresh first-party module (same name: "before" and "after")."""
    directory = tmp_path / f"v{next(_COUNTER)}"
    directory.mkdir()
    path = directory / f"{name}.py"
    path.write_text(textwrap.dedent(source), encoding="utf-8")
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def resolve(module: types.ModuleType, dotted: str) -> Any:
    obj: Any = module
    for part in dotted.split("."):
        obj = obj.__dict__[part] if isinstance(obj, type) else getattr(obj, part)
    return obj


# (id, before, after, target) -- the token of ``target`` must stay the same.
FUNCTION_SAME = [
    (
        "docstring_added",
        "def f(a):\n    return a + 1\n",
        'def f(a):\n    """Add one."""\n    return a + 1\n',
        "f",
    ),
    (
        "docstring_removed",
        'def f(a):\n    """Add one."""\n    return a + 1\n',
        "def f(a):\n    return a + 1\n",
        "f",
    ),
    (
        "docstring_changed",
        'def f(a):\n    """Add one."""\n    x = 2\n    return a + x\n',
        'def f(a):\n    """Adds two, really."""\n    x = 2\n    return a + x\n',
        "f",
    ),
    (
        "docstring_with_constants_used",
        'def f(a):\n    return (a, "k", 3.5)\n',
        'def f(a):\n    """Doc."""\n    return (a, "k", 3.5)\n',
        "f",
    ),
    (
        "comment_added",
        "def f(a):\n    return a * 2\n",
        "def f(a):\n    # double it\n    return a * 2  # trailing\n",
        "f",
    ),
    (
        "blank_lines_added",
        "def f(a):\n    b = a\n    return b\n",
        "def f(a):\n\n    b = a\n\n\n    return b\n",
        "f",
    ),
    (
        "function_moved_down",
        "def f(a):\n    return g(a)\ndef g(a):\n    return a\n",
        "def g(a):\n    return a\n\n\n\n\ndef f(a):\n    return g(a)\n",
        "f",
    ),
    (
        "local_renamed",
        "def f(a):\n    total = a + 1\n    return total * total\n",
        "def f(a):\n    result = a + 1\n    return result * result\n",
        "f",
    ),
    (
        "formatting_reflowed",
        "def f(a, b):\n    return max(a, b) + min(a, b)\n",
        "def f(\n    a,\n    b,\n):\n    return (\n        max(a, b)\n        + min(a, b)\n    )\n",
        "f",
    ),
    (
        "inner_function_docstring",
        "def f():\n    def g(x):\n        return x\n    return g(1)\n",
        'def f():\n    def g(x):\n        """Identity."""\n        return x\n    return g(1)\n',
        "f",
    ),
    (
        "method_docstring_and_position",
        "class C:\n    def m(self):\n        return self.a\n",
        (
            'X = 1\n\n\nclass C:\n    """A class."""\n\n'
            '    def m(self):\n        """Read a."""\n        return self.a\n'
        ),
        "C.m",
    ),
    (
        "pass_statement_added",
        "def f(a):\n    if a:\n        a = 1\n    return a\n",
        "def f(a):\n    pass\n    if a:\n        pass\n        a = 1\n    ...\n    return a\n",
        "f",
    ),
    (
        "unrelated_function_changed",
        "def f(a):\n    return a\ndef other():\n    return 1\n",
        "def f(a):\n    return a\ndef other():\n    return 2\n",
        "f",
    ),
    (
        "try_block_moved_down",
        "def f(a):\n    try:\n        return int(a)\n    except ValueError:\n        return 0\n",
        (
            "\n\n\ndef f(a):\n    try:\n        return int(a)\n"
            "    except ValueError:  # bad\n        return 0\n"
        ),
        "f",
    ),
    (
        "closure_local_renamed",
        "def make():\n    k = 3\n    def f(x):\n        return x * k\n    return f\nf = make()\n",
        "def make():\n    n = 3\n    def f(x):\n        return x * n\n    return f\nf = make()\n",
        "make",
    ),
]

# (id, before, after, target) -- the token of ``target`` must change.
FUNCTION_CHANGED = [
    (
        "attribute_name",
        "def f(self):\n    return self.a\n",
        "def f(self):\n    return self.b\n",
        "f",
    ),
    ("int_constant", "def f():\n    return 1\n", "def f():\n    return 2\n", "f"),
    ("str_constant", "def f():\n    return 'a'\n", "def f():\n    return 'b'\n", "f"),
    ("int_to_float", "def f():\n    return 1\n", "def f():\n    return 1.0\n", "f"),
    ("plus_to_minus", "def f(a, b):\n    return a + b\n", "def f(a, b):\n    return a - b\n", "f"),
    ("lt_to_le", "def f(a, b):\n    return a < b\n", "def f(a, b):\n    return a <= b\n", "f"),
    (
        "global_called",
        "def f(a):\n    return g(a)\n",
        "def f(a):\n    return h(a)\n",
        "f",
    ),
    (
        "lambda_body",
        "def f(xs):\n    return sorted(xs, key=lambda x: x[0])\n",
        "def f(xs):\n    return sorted(xs, key=lambda x: x[1])\n",
        "f",
    ),
    (
        "comprehension_body",
        "def f(xs):\n    return [x + 1 for x in xs]\n",
        "def f(xs):\n    return [x + 2 for x in xs]\n",
        "f",
    ),
    (
        "comprehension_filter",
        "def f(xs):\n    return {x for x in xs if x}\n",
        "def f(xs):\n    return {x for x in xs if not x}\n",
        "f",
    ),
    (
        "generator_expression_body",
        "def f(xs):\n    return sum(x * x for x in xs)\n",
        "def f(xs):\n    return sum(x * 3 for x in xs)\n",
        "f",
    ),
    (
        "inner_function_body",
        "def f():\n    def g(x):\n        return x\n    return g(1)\n",
        "def f():\n    def g(x):\n        return -x\n    return g(1)\n",
        "f",
    ),
    (
        "parameter_renamed",
        "def f(a):\n    return a\n",
        "def f(b):\n    return b\n",
        "f",
    ),
    (
        "parameter_added",
        "def f(a):\n    return a\n",
        "def f(a, b=None):\n    return a\n",
        "f",
    ),
    ("made_async", "def f(a):\n    return a\n", "async def f(a):\n    return a\n", "f"),
    ("varargs_added", "def f(a):\n    return a\n", "def f(a, *args):\n    return a\n", "f"),
    ("kwargs_added", "def f(a):\n    return a\n", "def f(a, **kw):\n    return a\n", "f"),
    (
        "positional_only_marker",
        "def f(a, b):\n    return a\n",
        "def f(a, /, b):\n    return a\n",
        "f",
    ),
    (
        "keyword_only_marker",
        "def f(a, b):\n    return a\n",
        "def f(a, *, b):\n    return a\n",
        "f",
    ),
    ("became_generator", "def f(a):\n    return a\n", "def f(a):\n    yield a\n", "f"),
    ("default_value", "def f(a=1):\n    return a\n", "def f(a=2):\n    return a\n", "f"),
    (
        "kwonly_default",
        "def f(*, a=1, b=2):\n    return a\n",
        "def f(*, a=1, b=3):\n    return a\n",
        "f",
    ),
    (
        "keyword_argument_name",
        "def f(g):\n    return g(x=1)\n",
        "def f(g):\n    return g(y=1)\n",
        "f",
    ),
    (
        "frozenset_constant",
        "def f(a):\n    return a in {'x', 'y', 'z'}\n",
        "def f(a):\n    return a in {'x', 'y', 'w'}\n",
        "f",
    ),
    (
        "control_flow_if_to_while",
        "def f(a):\n    if a:\n        a = a - 1\n    return a\n",
        "def f(a):\n    while a:\n        a = a - 1\n    return a\n",
        "f",
    ),
    (
        "statement_moved_into_try",
        (
            "def f(a):\n    b = int(a)\n    try:\n        c = b + 1\n    except ValueError:\n"
            "        c = 0\n    return c\n"
        ),
        (
            "def f(a):\n    try:\n        b = int(a)\n        c = b + 1\n    except ValueError:\n"
            "        c = 0\n    return c\n"
        ),
        "f",
    ),
    (
        "exception_type",
        "def f(a):\n    try:\n        return int(a)\n    except ValueError:\n        return 0\n",
        "def f(a):\n    try:\n        return int(a)\n    except TypeError:\n        return 0\n",
        "f",
    ),
    (
        "closure_cell_value",
        "def make():\n    k = 3\n    def f(x):\n        return x * k\n    return f\nf = make()\n",
        "def make():\n    k = 4\n    def f(x):\n        return x * k\n    return f\nf = make()\n",
        "f",
    ),
    (
        "method_attribute",
        "class C:\n    def m(self):\n        return self.a\n",
        "class C:\n    def m(self):\n        return self.b\n",
        "C.m",
    ),
    (
        "super_attribute",
        (
            "class B:\n    def m(self):\n        return 1\nclass C(B):\n    def m(self):\n"
            "        return super().m()\n"
        ),
        (
            "class B:\n    def m(self):\n        return 1\nclass C(B):\n    def m(self):\n"
            "        return super().n()\n"
        ),
        "C.m",
    ),
    (
        "many_locals_extended_arg",
        "def f():\n" + "".join(f"    v{i} = {i}\n" for i in range(300)) + "    return v0\n",
        "def f():\n" + "".join(f"    v{i} = {i}\n" for i in range(300)) + "    return v1\n",
        "f",
    ),
]

DECORATORS = """
import functools

def deco(fn):
    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        return fn(*args, **kwargs){wrapper_extra}
    return wrapper

def deco_factory(n):
    def decorate(fn):
        @functools.wraps(fn)
        def wrapper(*args):
            return fn(*args) * n
        return wrapper
    return decorate

@deco
def f(a):
    return a + {inner}

@deco_factory({factor})
def g(a):
    return a
"""

DECORATOR_CASES = [
    ("wrapped_function_body", {"inner": "2"}, "f"),
    ("wrapper_body", {"wrapper_extra": " or None"}, "f"),
    ("decorator_factory_argument", {"factor": "3"}, "g"),
]


def _decorated(**overrides: str) -> str:
    values = {"wrapper_extra": "", "inner": "1", "factor": "2"} | overrides
    return DECORATORS.format(**values)


@pytest.mark.parametrize(
    ("case", "before", "after", "target"), FUNCTION_SAME, ids=[c[0] for c in FUNCTION_SAME]
)
def test_function_token_same(
    tmp_path: Path, case: str, before: str, after: str, target: str
) -> None:
    """Guarantee 1: cosmetic edits keep the token of a function."""
    old = _hashing.function_token(resolve(load(tmp_path, before), target))
    new = _hashing.function_token(resolve(load(tmp_path, after), target))
    assert old is not None
    assert old == new, case


@pytest.mark.parametrize(
    ("case", "before", "after", "target"), FUNCTION_CHANGED, ids=[c[0] for c in FUNCTION_CHANGED]
)
def test_function_token_changed(
    tmp_path: Path, case: str, before: str, after: str, target: str
) -> None:
    """Guarantee 1: edits to behaviour change the token of a function."""
    old = _hashing.function_token(resolve(load(tmp_path, before), target))
    new = _hashing.function_token(resolve(load(tmp_path, after), target))
    assert old is not None
    assert new is not None
    assert old != new, case


@pytest.mark.parametrize(
    ("case", "overrides", "target"), DECORATOR_CASES, ids=[c[0] for c in DECORATOR_CASES]
)
def test_every_decorator_layer_counts(
    tmp_path: Path, case: str, overrides: dict[str, str], target: str
) -> None:
    """Every layer of a ``__wrapped__`` chain (wrapper code and closure) is hashed."""
    old = _hashing.function_token(resolve(load(tmp_path, _decorated()), target))
    same = _hashing.function_token(resolve(load(tmp_path, _decorated()), target))
    new = _hashing.function_token(resolve(load(tmp_path, _decorated(**overrides)), target))
    assert old == same
    assert old != new, case


def test_code_token_ignores_name_and_filename() -> None:
    """co_name, co_qualname, co_filename and line numbers are not hashed."""
    first = compile("def f(a):\n    return a\n", "one.py", "exec")
    second = compile("\n\n\ndef g(a):\n    return a\n", "/elsewhere/two.py", "exec")
    code_f = next(c for c in first.co_consts if isinstance(c, types.CodeType))
    code_g = next(c for c in second.co_consts if isinstance(c, types.CodeType))
    assert _hashing.code_token(code_f) == _hashing.code_token(code_g)


def test_code_token_is_cached_per_code_object() -> None:
    code = compile("x = 1\n", "m.py", "exec")
    assert _hashing.code_token(code) is _hashing.code_token(code)


def _all_code(code: types.CodeType) -> list[types.CodeType]:
    found = [code]
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            found.extend(_all_code(const))
    return found


@pytest.mark.parametrize("module", [json.decoder, dataclasses, functools, enum], ids=str)
def test_decoder_agrees_with_dis(module: types.ModuleType) -> None:
    """The hand-rolled decoder sees the instructions, names and jump targets ``dis`` sees."""
    assert module.__file__ is not None
    source = Path(module.__file__).read_text(encoding="utf-8")
    for code in _all_code(compile(source, module.__file__, "exec")):
        mine = _code.decode(code.co_code)
        ref = [i for i in dis.get_instructions(code) if i.opname not in ("CACHE", "EXTENDED_ARG")]
        assert len(mine) == len(ref)
        for (_start, offset, op, arg, nxt), ins in zip(mine, ref, strict=True):
            assert (offset, dis.opname[op]) == (ins.offset, ins.opname)
            if op in _code._HASJREL or op in _code._HASJABS:
                assert _code.jump_target(offset, op, arg, nxt) == ins.argval
            elif op in _code._HASNAME:
                assert code.co_names[arg >> _code._NAME_SHIFT.get(op, 0)] == ins.argval
        if sys.version_info >= (3, 11):
            expected = [tuple(e)[:5] for e in dis.Bytecode(code).exception_entries]
            assert list(_code.exception_entries(code)) == expected


# --------------------------------------------------------------------------------------------
# Function-like objects
# --------------------------------------------------------------------------------------------


def _f(a: int, b: int = 1) -> int:
    return a + b


def _g(a: int, b: int = 1) -> int:
    return a * b


class _Holder:
    def method(self) -> int:
        return 1

    @staticmethod
    def static() -> int:
        return 1

    @classmethod
    def klass(cls) -> int:
        return 1


def test_bound_method_is_its_function() -> None:
    """The bound instance is data, not behaviour."""
    assert _hashing.function_token(_Holder().method) == _hashing.function_token(_Holder.method)
    assert _hashing.function_token(_Holder().method) == _hashing.function_token(
        _Holder.__dict__["method"]
    )


def test_descriptors_are_tagged() -> None:
    static = _hashing.function_token(_Holder.__dict__["static"])
    klass = _hashing.function_token(_Holder.__dict__["klass"])
    plain = _hashing.function_token(_Holder.__dict__["static"].__func__)
    assert len({static, klass, plain}) == 3


def test_property_slots() -> None:
    def get(self: object) -> int:
        return 1

    def put(self: object, value: int) -> None:
        return None

    getter_only = property(get)
    setter_only = property(None, get)
    both = property(get, put)
    tokens = [_hashing.function_token(p) for p in (getter_only, setter_only, both)]
    assert None not in tokens
    assert len(set(tokens)) == 3
    assert _hashing.function_token(property()) is None


def test_cached_property_and_partials() -> None:
    assert _hashing.function_token(functools.cached_property(_f)) != _hashing.function_token(
        functools.cached_property(_g)
    )
    p1 = functools.partial(_f, 1, b=2)
    p2 = functools.partial(_f, 1, b=3)
    p3 = functools.partial(_g, 1, b=2)
    tokens = [_hashing.function_token(p) for p in (p1, p2, p3, _f)]
    assert len(set(tokens)) == 4
    assert _hashing.function_token(functools.partial(_f, 1, b=2)) == tokens[0]
    # functools flattens a partial of a partial: the same callable, the same token.
    nested = functools.partial(functools.partial(_f, 1), b=2)
    assert _hashing.function_token(nested) == tokens[0]


def test_builtins() -> None:
    import math

    tokens = {
        "len": _hashing.function_token(len),
        "math.sin": _hashing.function_token(math.sin),
        "list.append": _hashing.function_token(list.append),
        "bound [1].append": _hashing.function_token([1].append),
        "bound [2].append": _hashing.function_token([2].append),
        "dict.__init__": _hashing.function_token(dict.__init__),
        "{}.__init__": _hashing.function_token({}.__init__),
    }
    assert None not in tokens.values()
    assert len(set(tokens.values())) == len(tokens)
    assert _hashing.function_token([1].append) == tokens["bound [1].append"]


def test_callable_instance_uses_its_class() -> None:
    class Adder:
        def __call__(self, x: int) -> int:
            return x + 1

    class Subtracter:
        def __call__(self, x: int) -> int:
            return x - 1

    assert _hashing.function_token(Adder()) == _hashing.class_token(Adder)
    assert _hashing.function_token(Adder()) != _hashing.function_token(Subtracter())


def test_lru_cache_wrapper_layers() -> None:
    small = functools.lru_cache(maxsize=2)(_f)
    large = functools.lru_cache(maxsize=8)(_f)
    other = functools.lru_cache(maxsize=2)(_g)
    tokens = {_hashing.function_token(x) for x in (small, large, other, _f)}
    assert len(tokens) == 4


def test_recursive_inner_function_and_empty_cell() -> None:
    def outer() -> Any:
        def rec(n: int) -> int:
            return rec(n - 1) if n else 0

        return rec

    def early() -> Any:
        def use() -> Any:
            return later

        token = _hashing.function_token(use)
        later = 1
        return token, use

    assert _hashing.function_token(outer()) == _hashing.function_token(outer())
    empty_token, use = early()
    assert empty_token is not None
    assert empty_token != _hashing.function_token(use)


def test_unhashable_default_names_owner_and_path() -> None:
    def f(a: object = object()) -> object:
        return a

    with pytest.raises(UnhashableValueError) as info:
        _hashing.function_token(f, owner="pkg.mod:f")
    assert info.value.owner == "pkg.mod:f"
    assert info.value.value_type == "builtins.object"
    assert info.value.path == ".__defaults__[0]"


def test_unhashable_closure_cell_path() -> None:
    import threading

    lock = threading.Lock()

    def f() -> bool:
        return lock.locked()

    with pytest.raises(UnhashableValueError) as info:
        _hashing.function_token(f)
    assert info.value.path == ".__closure__['lock']"
    assert "test_unhashable_closure_cell_path" in info.value.owner


# --------------------------------------------------------------------------------------------
# Classes
# --------------------------------------------------------------------------------------------

CLASS_SAME = [
    (
        "class_docstring",
        "class C:\n    def m(self):\n        return 1\n",
        'class C:\n    """Doc."""\n    def m(self):\n        return 1\n',
    ),
    (
        "methods_reordered_and_commented",
        "class C:\n    def a(self):\n        return 1\n    def b(self):\n        return 2\n",
        (
            "class C:\n    # b first\n    def b(self):\n        return 2\n\n    def a(self):\n"
            "        return 1\n"
        ),
    ),
    (
        "class_moved_and_renamed_local",
        "class C:\n    def m(self, x):\n        y = x\n        return y\n",
        "Z = 3\n\n\nclass C:\n    def m(self, x):\n        z = x\n        return z\n",
    ),
    (
        "unrelated_class_changed",
        "class C:\n    def m(self):\n        return 1\nclass D:\n    def m(self):\n        pass\n",
        "class C:\n    def m(self):\n        return 1\nclass D:\n    def m(self):\n        1\n",
    ),
    (
        "dataclass_docstring",
        "import dataclasses\n@dataclasses.dataclass\nclass C:\n    x: int = 1\n",
        'import dataclasses\n@dataclasses.dataclass\nclass C:\n    """Doc."""\n    x: int = 1\n',
    ),
    (
        "super_call_method_docstring",
        (
            "class B:\n    def m(self):\n        return 1\nclass C(B):\n    def m(self):\n"
            "        return super().m()\n"
        ),
        (
            "class B:\n    def m(self):\n        return 1\nclass C(B):\n    def m(self):\n"
            '        """Doc."""\n        return super().m()\n'
        ),
    ),
]

CLASS_CHANGED = [
    (
        "class_constant",
        "class C:\n    FEE = 0.02\n    def m(self):\n        return self.FEE\n",
        "class C:\n    FEE = 0.03\n    def m(self):\n        return self.FEE\n",
    ),
    (
        "method_body",
        "class C:\n    def m(self):\n        return 1\n",
        "class C:\n    def m(self):\n        return 2\n",
    ),
    (
        "method_added",
        "class C:\n    def m(self):\n        return 1\n",
        "class C:\n    def m(self):\n        return 1\n    def n(self):\n        return 1\n",
    ),
    (
        "method_renamed",
        "class C:\n    def m(self):\n        return 1\n",
        "class C:\n    def n(self):\n        return 1\n",
    ),
    (
        "init_body",
        "class C:\n    def __init__(self):\n        self.a = 1\n",
        "class C:\n    def __init__(self):\n        self.a = 2\n",
    ),
    (
        "dunder_method",
        "class C:\n    def __add__(self, o):\n        return 1\n",
        "class C:\n    def __add__(self, o):\n        return 2\n",
    ),
    (
        "property_getter",
        "class C:\n    @property\n    def p(self):\n        return 1\n",
        "class C:\n    @property\n    def p(self):\n        return 2\n",
    ),
    (
        "property_setter",
        (
            "class C:\n    @property\n    def p(self):\n        return 1\n    @p.setter\n"
            "    def p(self, v):\n        self.x = v\n"
        ),
        (
            "class C:\n    @property\n    def p(self):\n        return 1\n    @p.setter\n"
            "    def p(self, v):\n        self.y = v\n"
        ),
    ),
    (
        "classmethod_body",
        "class C:\n    @classmethod\n    def m(cls):\n        return 1\n",
        "class C:\n    @classmethod\n    def m(cls):\n        return 2\n",
    ),
    (
        "staticmethod_body",
        "class C:\n    @staticmethod\n    def m():\n        return 1\n",
        "class C:\n    @staticmethod\n    def m():\n        return 2\n",
    ),
    (
        "cached_property_body",
        (
            "import functools\nclass C:\n    @functools.cached_property\n    def m(self):\n"
            "        return 1\n"
        ),
        (
            "import functools\nclass C:\n    @functools.cached_property\n    def m(self):\n"
            "        return 2\n"
        ),
    ),
    (
        "nested_class_method",
        (
            "class C:\n    class Inner:\n        def m(self):\n            return 1\n"
            "    def m(self):\n        return 1\n"
        ),
        (
            "class C:\n    class Inner:\n        def m(self):\n            return 2\n"
            "    def m(self):\n        return 1\n"
        ),
    ),
    (
        "inherited_base_method",
        (
            "class B:\n    def n(self):\n        return 1\nclass C(B):\n    def m(self):\n"
            "        return 1\n"
        ),
        (
            "class B:\n    def n(self):\n        return 2\nclass C(B):\n    def m(self):\n"
            "        return 1\n"
        ),
    ),
    (
        "annotation",
        "class C:\n    x: int\n    def m(self):\n        return 1\n",
        "class C:\n    x: str\n    def m(self):\n        return 1\n",
    ),
    (
        "dataclass_field_default",
        "import dataclasses\n@dataclasses.dataclass\nclass C:\n    x: int = 1\n",
        "import dataclasses\n@dataclasses.dataclass\nclass C:\n    x: int = 2\n",
    ),
    (
        "dataclass_default_factory",
        (
            "import dataclasses\n@dataclasses.dataclass\nclass C:\n"
            "    x: list = dataclasses.field(default_factory=list)\n"
        ),
        (
            "import dataclasses\n@dataclasses.dataclass\nclass C:\n"
            "    x: list = dataclasses.field(default_factory=dict)\n"
        ),
    ),
    (
        "dataclass_frozen",
        "import dataclasses\n@dataclasses.dataclass\nclass C:\n    x: int = 1\n",
        "import dataclasses\n@dataclasses.dataclass(frozen=True)\nclass C:\n    x: int = 1\n",
    ),
    (
        "dataclass_field_compare_flag",
        (
            "import dataclasses\n@dataclasses.dataclass(eq=False)\nclass C:\n"
            "    x: int = dataclasses.field(default=1)\n"
        ),
        (
            "import dataclasses\n@dataclasses.dataclass(eq=False)\nclass C:\n"
            "    x: int = dataclasses.field(default=1, compare=False)\n"
        ),
    ),
    (
        "enum_member_value",
        "import enum\nclass C(enum.Enum):\n    A = 1\n    def m(self):\n        return 1\n",
        "import enum\nclass C(enum.Enum):\n    A = 2\n    def m(self):\n        return 1\n",
    ),
    (
        "non_callable_shadows_parent_method",
        (
            "class B:\n    def m(self):\n        return 1\nclass C(B):\n    def n(self):\n"
            "        return 1\n"
        ),
        (
            "class B:\n    def m(self):\n        return 1\nclass C(B):\n    m = None\n"
            "    def n(self):\n        return 1\n"
        ),
    ),
    (
        "set_constant",
        "class C:\n    NAMES = {'a', 'b'}\n    def m(self):\n        return 1\n",
        "class C:\n    NAMES = {'a', 'c'}\n    def m(self):\n        return 1\n",
    ),
]


@pytest.mark.parametrize(("case", "before", "after"), CLASS_SAME, ids=[c[0] for c in CLASS_SAME])
def test_class_token_same(tmp_path: Path, case: str, before: str, after: str) -> None:
    """Guarantee 5: cosmetic edits keep the class token."""
    old = _hashing.class_token(load(tmp_path, before).C)
    new = _hashing.class_token(load(tmp_path, after).C)
    assert old is not None
    assert old == new, case


@pytest.mark.parametrize(
    ("case", "before", "after"), CLASS_CHANGED, ids=[c[0] for c in CLASS_CHANGED]
)
def test_class_token_changed(tmp_path: Path, case: str, before: str, after: str) -> None:
    """Guarantee 5: edits to members, constants, fields and bases change the class token."""
    old = _hashing.class_token(load(tmp_path, before).C)
    new = _hashing.class_token(load(tmp_path, after).C)
    assert old is not None
    assert new is not None
    assert old != new, case


def test_class_token_none_for_data_only_class(tmp_path: Path) -> None:
    module = load(tmp_path, "class C:\n    X = 1\n    Y = 'two'\n")
    assert _hashing.class_token(module.C) is None


def test_class_token_pydantic_model(tmp_path: Path) -> None:
    pytest.importorskip("pydantic")
    source = (
        "import pydantic\nclass C(pydantic.BaseModel):\n    x: int = {default}\n"
        "    def run(self):\n        return self.x\n"
    )
    one = _hashing.class_token(load(tmp_path, source.format(default=1)).C)
    same = _hashing.class_token(load(tmp_path, source.format(default=1)).C)
    two = _hashing.class_token(load(tmp_path, source.format(default=2)).C)
    assert one is not None
    assert one == same
    assert one != two


def test_class_cache_is_own_and_not_inherited(tmp_path: Path) -> None:
    module = load(
        tmp_path,
        "class B:\n    def m(self):\n        return 1\nclass C(B):\n    def n(self):\n"
        "        return 2\n",
    )
    parent = _hashing.class_token(module.B)
    assert "__astoken_cache__" in module.B.__dict__
    assert "__astoken_cache__" not in module.C.__dict__
    child = _hashing.class_token(module.C)
    assert child != parent
    assert "__astoken_cache__" in module.C.__dict__
    assert _hashing.class_token(module.C) == child


def test_third_party_and_stdlib_bases_are_not_walked(tmp_path: Path) -> None:
    source = (
        "import collections\n"
        "class C(collections.OrderedDict):\n    def m(self):\n        return 1\n"
    )
    plain = "class C:\n    def m(self):\n        return 1\n"
    assert _hashing.class_token(load(tmp_path, source).C) == _hashing.class_token(
        load(tmp_path, plain).C
    )


def test_scope_decides_which_bases_are_walked(tmp_path: Path) -> None:
    base = load(tmp_path, "class B:\n    def n(self):\n        return 1\n", "astoken_base1")
    changed_base = load(tmp_path, "class B:\n    def n(self):\n        return 2\n", "astoken_base2")
    child_src = "from {mod} import B\nclass C(B):\n    def m(self):\n        return 1\n"
    child = load(tmp_path, child_src.format(mod=base.__name__)).C
    child2 = load(tmp_path, child_src.format(mod=changed_base.__name__)).C
    narrow = Scope(roots=(child.__module__,), exclude=("astoken_base*",))
    wide = Scope(roots=(child.__module__, base.__name__, changed_base.__name__))
    assert _hashing.class_token(child, scope=narrow) == _hashing.class_token(child2, scope=narrow)
    assert _hashing.class_token(child, scope=wide) != _hashing.class_token(child2, scope=wide)


def test_class_constant_referring_to_its_class(tmp_path: Path) -> None:
    """Guarantee 4: a class reachable from itself encodes a back-reference, deterministically."""
    source = (
        "class C:\n    def m(self):\n        return 1\nclass D:\n    def m(self):\n"
        "        return 1\nC.partner = D\nD.partner = C\n"
    )
    first = load(tmp_path, source)
    second = load(tmp_path, source)
    # Opposite orders: a token cached while its partner was being hashed must not leak.
    first_c, first_d = _hashing.class_token(first.C), _hashing.class_token(first.D)
    second_d, second_c = _hashing.class_token(second.D), _hashing.class_token(second.C)
    assert (first_c, first_d) == (second_c, second_d)
    assert first_c is not None
    assert first_c != first_d


def test_opaque_class_constant_is_hashed_by_type(tmp_path: Path) -> None:
    # A class-level object with no encoding is hashed by its type (the graph hashes the
    # assignment's source as a constant node); swapping the type still changes the token.
    lock = load(tmp_path, "class C:\n    LOCK = object()\n    def m(self):\n        return 1\n")
    other = load(
        tmp_path,
        "import threading\nclass C:\n    LOCK = threading.Lock()\n"
        "    def m(self):\n        return 1\n",
    )
    assert _hashing.class_token(lock.C) is not None
    assert _hashing.class_token(lock.C) != _hashing.class_token(other.C)


def test_object_token_dispatch(tmp_path: Path) -> None:
    module = load(
        tmp_path, "class C:\n    def m(self):\n        return 1\ndef f():\n    return 1\n"
    )
    assert _hashing.object_token(module.C) == _hashing.class_token(module.C)
    assert _hashing.object_token(module.f) == _hashing.function_token(module.f)
    assert _hashing.object_token(json) == _hashing.value_token(json)
    assert _hashing.object_token(3) == _hashing.value_token(3)
    assert _hashing.object_token(module.C.__dict__["m"]) == _hashing.function_token(module.C.m)


# --------------------------------------------------------------------------------------------
# Hash seeds: tokens are equal in fresh interpreters with different PYTHONHASHSEED
# --------------------------------------------------------------------------------------------

SEED_MODULE = """
import dataclasses

NAMES = frozenset({"alpha", "beta", "gamma", "delta", "epsilon"})

def f(x, options={"b": 1, "a": 2, "c": {"z", "y", "x"}}, *, tags=frozenset({"p", "q", "r"})):
    if x in {"one", "two", "three", "four"}:
        return options
    return [k for k in sorted(NAMES) if k not in {"alpha", "omega"}]

@dataclasses.dataclass
class C:
    KINDS = {"red", "green", "blue", "cyan"}
    labels: frozenset = frozenset({"a", "b", "c", "d"})

    def m(self, v):
        return v in {"u", "v", "w", "x"}
"""

SEED_SCRIPT = """
import importlib, json, sys
sys.path.insert(0, sys.argv[1])
from astoken import _hashing
from astoken._hashing import _code
module = importlib.import_module("seeded_module")
print(json.dumps([
    _hashing.function_token(module.f),
    _hashing.class_token(module.C),
    _hashing.value_token(module.NAMES),
    _hashing.value_token(module.C()),
]))
"""


def test_tokens_equal_across_hash_seeds(tmp_path: Path) -> None:
    """Guarantee 2: sets and dicts in constants and defaults do not leak the hash seed."""
    (tmp_path / "seeded_module.py").write_text(SEED_MODULE, encoding="utf-8")
    root = str(Path(__file__).resolve().parent.parent)
    results = []
    for seed in ("1", "12345"):
        env = dict(os.environ, PYTHONHASHSEED=seed)
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [root, env.get("PYTHONPATH", "")]))
        proc = subprocess.run(
            [sys.executable, "-c", SEED_SCRIPT, str(tmp_path)],
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        assert proc.returncode == 0, proc.stderr
        results.append(json.loads(proc.stdout))
    assert None not in results[0]
    assert results[0] == results[1]


def test_line_breaks_inside_a_statement_keep_the_token(tmp_path: Path) -> None:
    # 3.13 fuses two local loads/stores into one instruction only when they share a line.
    one_line = load(
        tmp_path,
        "def f(a, b, c):\n    x, y = b, a\n    return {'a': a, 'b': b, 'c': c, 'x': x, 'y': y}\n",
    )
    reflowed = load(
        tmp_path,
        "def f(\n    a,\n    b,\n    c,\n):\n    x, y = (\n        b,\n        a,\n    )\n"
        "    return {\n        'a': a,\n        'b': b,\n        'c': c,\n        'x': x,\n"
        "        'y': y,\n    }\n",
    )
    assert _hashing.function_token(one_line.f) == _hashing.function_token(reflowed.f)


# --------------------------------------------------------------------------------------------
# The code book: code tokens kept across processes (astoken._hashing._code's docstring).
# --------------------------------------------------------------------------------------------


class _DictBook:
    """A code book in memory: what the on-disk one does, minus the disk."""

    def __init__(self) -> None:
        self.tokens: dict[tuple[str, str], str] = {}
        self.asked: list[str] = []

    def get(self, filename: str, key: str) -> str | None:
        self.asked.append(key)
        return self.tokens.get((filename, key))

    def put(self, filename: str, key: str, token: str) -> None:
        self.tokens[(filename, key)] = token


def _fresh_code(source: str) -> types.CodeType:
    code = compile(textwrap.dedent(source), "/somewhere/m.py", "exec").co_consts[0]
    assert isinstance(code, types.CodeType)
    return code


def test_the_book_is_filled_then_read_instead_of_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    source = "def f(x):\n    return [y * 2 for y in x]\n"
    book = _DictBook()
    monkeypatch.setattr(_code, "_CODE_CACHE", weakref.WeakKeyDictionary())
    with _hashing.code_book(book):
        token = _code.code_token(_fresh_code(source))
    assert token == _code.code_token(_fresh_code(source))  # no book: the same token
    # Every code object hashed (the function's and its comprehension's) went into the book.
    assert len(book.tokens) == (1 if sys.version_info >= (3, 12) else 2)

    # A new process: nothing in memory, the book answers, nothing is canonicalised.
    monkeypatch.setattr(_code, "_CODE_CACHE", weakref.WeakKeyDictionary())
    monkeypatch.setattr(_code, "_canonical_code", lambda code: pytest.fail("hashed again"))
    with _hashing.code_book(book):
        assert _code.code_token(_fresh_code(source)) == token


@pytest.mark.parametrize(
    "other",
    [
        pytest.param("def f(x):\n    return [y * 3 for y in x]\n", id="constant"),
        pytest.param("def f(x):\n    return [y * 2 for y in x if y]\n", id="nested-code"),
        pytest.param("def f(z):\n    return [y * 2 for y in z]\n", id="parameter-name"),
    ],
)
def test_book_keys_cover_the_whole_code_object(other: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Any difference a token sees is a different key: the book never answers for other code."""
    source = "def f(x):\n    return [y * 2 for y in x]\n"
    key = _code._book_key(_fresh_code(source))
    assert key is not None
    assert key == _code._book_key(_fresh_code(source))
    assert _code._book_key(_fresh_code(other)) != key
    # Even a book that holds a (wrong) token under the first key leaves the other alone.
    book = _DictBook()
    book.tokens[("/somewhere/m.py", key)] = "0" * 64
    monkeypatch.setattr(_code, "_CODE_CACHE", weakref.WeakKeyDictionary())
    with _hashing.code_book(book):
        assert _code.code_token(_fresh_code(other)) != "0" * 64


_COUNT_CANONICAL = (
    "import json\nimport astoken\n"
    + COUNT_WORK
    + """\
use_cache = USE_CACHE
import shop.prices
token = astoken.behavior_token(shop.prices.price, use_cache=use_cache)
lock = astoken.snapshot(["shop"], use_cache=use_cache)
mine = sum("shop" in name for name in hashed)
print(json.dumps([token, [e.token for e in lock.entries], mine]))
"""
)

_SHOP = {
    "shop/__init__.py": "",
    "shop/prices.py": """\
        from shop.rates import rate

        def price(x):
            return [x * rate(y) for y in range(3)]

        class Basket:
            def total(self, items):
                return sum(price(i)[0] for i in items)
        """,
    "shop/rates.py": "def rate(y):\n    return y + 1\n",
}


def test_a_warm_process_canonicalises_no_code(make_package: Any, tmp_path: Path) -> None:
    """Issue 11: code tokens come from the code book in the next process; the same tokens."""
    root = make_package(_SHOP)
    cache = tmp_path / "cache"

    def probe(use_cache: bool, seed: int) -> list[Any]:
        script = _COUNT_CANONICAL.replace("USE_CACHE", repr(use_cache))
        # With bytecode caches (empty means unset): the first process compiles the source and
        # writes the pycs, the next ones load the pycs, and the same code must be the same key.
        writes = {"PYTHONDONTWRITEBYTECODE": ""}
        result: list[Any] = run_fresh(script, paths=[root], cache_dir=cache, seed=seed, env=writes)
        return result

    cold = probe(True, 1)
    assert cold[2] > 0
    assert list((root / "shop" / "__pycache__").glob("prices.*.pyc"))
    assert probe(True, 7) == [cold[0], cold[1], 0]
    uncached = probe(False, 3)
    assert uncached[:2] == cold[:2]
    assert uncached[2] > 0


# Workers keep counts of their own: these are the parent's.
_COUNT_PARENT_WORK = (
    "import json\nimport astoken\n"
    + COUNT_WORK
    + """\
lock = astoken.snapshot(["shop"], jobs=JOBS)
mine = [sum("shop" in name for name in names) for names in (compiled, hashed)]
print(json.dumps([[e.token for e in lock.entries], *mine]))
"""
)


def test_snapshot_workers_leave_the_parent_no_code_to_compile_or_hash(
    make_package: Any, tmp_path: Path
) -> None:
    """Issue 11: in a cold ``snapshot --jobs 2`` the workers, which read every file anyway,
    also record its pyc verdict and the code tokens of its functions; the parent then compiles
    and canonicalises none of the package's code, and its entries are those of one job."""
    root = make_package(_SHOP)
    argv = [sys.executable, "-m", "compileall", "-q", str(root / "shop")]
    subprocess.run(argv, check=True, capture_output=True)  # pycs, as an installed package has

    def probe(jobs: int, cache: str) -> list[Any]:
        script = _COUNT_PARENT_WORK.replace("JOBS", str(jobs))
        result: list[Any] = run_fresh(script, paths=[root], cache_dir=tmp_path / cache)
        return result

    entries, compiled, hashed = probe(1, "one-job")
    assert len(entries) == 4  # price, Basket, Basket.total, rate
    assert compiled == 3  # the stale-code check compiled each module
    assert hashed > 0
    assert probe(2, "two-jobs") == [entries, 0, 0]
