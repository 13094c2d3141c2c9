"""The libcst summary pass (guarantees in astoken/_summary.py's docstring)."""

from __future__ import annotations

import dataclasses
import json
import subprocess
import sys
import textwrap

import pytest

from astoken._model import Definition, DefKind, ModuleSummary, RefKind
from astoken._summary import summarize_source, summary_from_json, summary_to_json
from astoken.errors import SourceSyntaxError

C, A, V = RefKind.CALL, RefKind.ATTRIBUTE, RefKind.VALUE
M, P = RefKind.METHOD, RefKind.PROTOCOL
S, CL, SU = RefKind.SELF_ATTR, RefKind.CLS_ATTR, RefKind.SUPER_ATTR

Triple = tuple[RefKind, str, str]


def summarize(source: str) -> ModuleSummary:
    return summarize_source(textwrap.dedent(source), filename="mod.py")


def definition(summary: ModuleSummary, qualname: str) -> Definition:
    found = [d for d in summary.definitions if d.qualname == qualname]
    assert len(found) == 1, [d.qualname for d in summary.definitions]
    return found[0]


def refs_of(source: str, qualname: str) -> set[Triple]:
    """References of a definition and of the functions nested in it (guarantee 7: those are
    definitions of their own, reached from the enclosing one)."""
    summary = summarize(source)
    if qualname == "<module>":
        refs = summary.module_references
    else:
        definition(summary, qualname)
        refs = tuple(
            r
            for d in summary.definitions
            if d.qualname == qualname or d.qualname.startswith(qualname + ".<locals>.")
            for r in d.references
        )
    return {(r.kind, r.name, r.receiver) for r in refs if r.kind is not RefKind.NESTED}


# (id, source, definition, references that must be there, references that must not)
REFERENCE_CASES: list[tuple[str, str, str, set[Triple], set[Triple]]] = [
    # -- calls, attributes, values ------------------------------------------------------------
    ("call-name", "def f():\n    helper()\n", "f", {(C, "helper", "")}, set()),
    (
        "call-dotted",
        "def f():\n    m.f()\n    pkg.sub.g()\n",
        "f",
        {(C, "m.f", ""), (C, "pkg.sub.g", "")},
        set(),
    ),
    (
        "builtins-recorded",
        "def f(xs):\n    return sorted(xs), len(xs)\n",
        "f",
        {(C, "sorted", ""), (C, "len", "")},
        set(),
    ),
    (
        "attribute-load",
        "def f():\n    return m.CONST + pkg.sub.X\n",
        "f",
        {(A, "m.CONST", ""), (A, "pkg.sub.X", "")},
        set(),
    ),
    (
        "values",
        """
        def f(xs):
            d = {"a": handler}
            sorted(xs, key=keyfn)
            map(mapper, xs)
            use(callback)
            return result_fn
        """,
        "f",
        {(V, "handler", ""), (V, "callback", ""), (V, "result_fn", "")},
        {(V, "xs", ""), (V, "d", ""), (V, "keyfn", ""), (V, "mapper", "")},
    ),
    (
        # Builtins that call what they are given call it here: ``map``/``filter``'s
        # functions, the ``key=`` of ``sorted``/``min``/``max``; a local is called through
        # ``__call__``, and a local named ``map`` is not the builtin.
        "builtins-that-call-their-arguments",
        """
        def f(xs, fn):
            sorted(xs, key=keyfn)
            min(xs, key=mod.key, default=fallback)
            map(mapper, xs)
            list(filter(pred, xs))
            map(fn, xs)

        def g(map):
            map(notcalled, [])
        """,
        "f",
        {(C, "keyfn", ""), (C, "mod.key", ""), (C, "mapper", ""), (C, "pred", "")}
        | {(V, "fallback", ""), (P, "__call__", "?")},
        {(C, "fallback", ""), (V, "keyfn", ""), (V, "mapper", ""), (V, "pred", "")},
    ),
    (
        "a-shadowed-map-passes-values",
        "def g(map):\n    map(passed, [])\n",
        "g",
        {(V, "passed", "")},
        {(C, "passed", "")},
    ),
    (
        # ``raise E`` raises ``E()``: a class raised by name is called; a local holds an
        # instance, and raising it calls nothing.
        "raise-calls-a-class-named",
        """
        def f(flag):
            if flag:
                raise errors.Failed
            err = make()
            raise err from Cause
        """,
        "f",
        {(C, "errors.Failed", ""), (V, "Cause", ""), (C, "make", "")},
        {(A, "errors.Failed", ""), (P, "__call__", "V:make|()")},
    ),
    (
        "values-in-fstring-and-comprehension",
        "def f(xs):\n    s = f'{LIMIT}'\n    return [conv(x) for x in xs if x > FLOOR]\n",
        "f",
        {(V, "LIMIT", ""), (C, "conv", ""), (V, "FLOOR", "")},
        {(V, "x", ""), (V, "s", "")},
    ),
    (
        "parameters-and-locals-are-not-references",
        """
        def f(a, /, b, *args, c, **kw):
            d = 1
            for e in a:
                pass
            with b as g:
                pass
            try:
                pass
            except E as h:
                pass
            if (i := 3):
                pass
            del d
            return a, b, args, c, kw, e, g, h, i
        """,
        "f",
        {(RefKind.ANNOTATION, "E", "")},
        {(V, n, "") for n in ("a", "b", "args", "c", "kw", "d", "e", "g", "h", "i", "E")},
    ),
    (
        "local-assigned-after-use-is-still-local",
        "def f():\n    print(x)\n    x = 1\n",
        "f",
        {(C, "print", "")},
        {(V, "x", "")},
    ),
    (
        "global-declaration",
        "def f():\n    global X\n    X = 1\n    return X\n",
        "f",
        {(V, "X", "")},
        set(),
    ),
    (
        "nonlocal-is-local",
        "def f():\n    n = 0\n    def g():\n        nonlocal n\n        n = 2\n    return g\n",
        "f",
        set(),
        {(V, "n", ""), (V, "g", "")},
    ),
    (
        "enclosing-function-locals",
        "def f(a):\n    def g():\n        return a.x + helper()\n    return g\n",
        "f",
        {(A, ".x", "?"), (C, "helper", "")},
        {(A, "a.x", "")},
    ),
    (
        "nested-function-and-lambda-references-belong-to-enclosing",
        (
            "def f():\n    def inner(q):\n        return h1(q)\n"
            "    g = lambda t: h2(t)\n    return inner, g\n"
        ),
        "f",
        {(C, "h1", ""), (C, "h2", "")},
        {(V, "q", ""), (V, "t", ""), (V, "inner", "")},
    ),
    # -- defaults, annotations, decorators ----------------------------------------------------
    (
        "defaults",
        "def f(a=DEFAULT, b=mod.VALUE, c=make()):\n    pass\n",
        "f",
        {(RefKind.DEFAULT, n, "") for n in ("DEFAULT", "mod.VALUE", "make")},
        set(),
    ),
    (
        "annotations",
        "def f(a: Foo, b: 'mod.Bar', c: Optional[Baz] = None) -> Result:\n    pass\n",
        "f",
        {(RefKind.ANNOTATION, n, "") for n in ("Foo", "mod.Bar", "Optional", "Baz", "Result")},
        set(),
    ),
    (
        "decorators",
        "@deco\n@mod.deco2\n@factory(arg, k=kwarg)\ndef f():\n    pass\n",
        "f",
        {(RefKind.DECORATOR, n, "") for n in ("deco", "mod.deco2", "factory")}
        | {(V, "arg", ""), (V, "kwarg", "")},
        set(),
    ),
    # -- classes --------------------------------------------------------------------------------
    (
        "class-bases-metaclass-keywords",
        "class C(Base[int], mod.Mixin, metaclass=Meta, flag=FLAG):\n    pass\n",
        "C",
        {
            (RefKind.BASE_CLASS, "Base", ""),
            (RefKind.BASE_CLASS, "mod.Mixin", ""),
            (RefKind.METACLASS, "Meta", ""),
            (V, "FLAG", ""),
        },
        set(),
    ),
    (
        "class-body-statements",
        "class C:\n    FEE = 3\n    register(FEE)\n    def m(self):\n        pass\n",
        "C",
        {(C, "register", ""), (V, "C.FEE", "")},
        set(),
    ),
    (
        "class-decorator",
        "@dataclass(frozen=True)\nclass C:\n    pass\n",
        "C",
        {(RefKind.DECORATOR, "dataclass", "")},
        set(),
    ),
    (
        "class-constant-refers-to-earlier-class-name",
        "class C:\n    A = 1\n    B = A + other\n",
        "C.B",
        {(V, "C.A", ""), (V, "other", "")},
        {(V, "A", "")},
    ),
    (
        "method-refers-to-class-level-name-at-module-level",
        "class C:\n    A = 1\n    def m(self):\n        return A\n",
        "C.m",
        {(V, "A", "")},
        {(V, "C.A", "")},
    ),
    # -- self / cls / super -------------------------------------------------------------------
    (
        "self-attributes",
        "class C:\n    def m(this):\n        this.a = this.b\n        this.c()\n",
        "C.m",
        {(S, "a", ""), (S, "b", ""), (S, "c", "")},
        set(),
    ),
    (
        "self-attr-then-method",
        "class C:\n    def m(self):\n        self.a.b()\n",
        "C.m",
        {(S, "a", ""), (M, "b", "S|.a")},
        set(),
    ),
    (
        "self-closure",
        (
            "class C:\n    def m(self):\n        def g():\n            return self.x\n"
            "        return [self.y for _ in ()], (lambda: self.z)\n"
        ),
        "C.m",
        {(S, "x", ""), (S, "y", ""), (S, "z", "")},
        set(),
    ),
    (
        "classmethod-cls",
        "class C:\n    @classmethod\n    def make(klass):\n        return klass.build(klass.X)\n",
        "C.make",
        {(CL, "build", ""), (CL, "X", "")},
        {(S, "build", "")},
    ),
    (
        "new-is-cls",
        "class C:\n    def __new__(cls):\n        return cls.base\n",
        "C.__new__",
        {(CL, "base", "")},
        set(),
    ),
    (
        "init-subclass-is-cls",
        "class C:\n    def __init_subclass__(cls):\n        cls.registry\n",
        "C.__init_subclass__",
        {(CL, "registry", "")},
        set(),
    ),
    (
        "class-getitem-is-cls",
        "class C:\n    def __class_getitem__(cls, item):\n        cls.alias\n",
        "C.__class_getitem__",
        {(CL, "alias", "")},
        set(),
    ),
    (
        "metaclass-methods-are-cls",
        "class Meta(type):\n    def __call__(cls, *a):\n        return cls.build()\n",
        "Meta.__call__",
        {(CL, "build", "")},
        set(),
    ),
    (
        "staticmethod-has-no-self",
        "class C:\n    @staticmethod\n    def st(self):\n        return self.go()\n",
        "C.st",
        {(M, "go", "?")},
        {(S, "go", "")},
    ),
    (
        "calling-cls-instantiates-the-class",
        "class C:\n    @classmethod\n    def make(cls):\n        return cls()\n",
        "C.make",
        {(C, "C", "")},
        set(),
    ),
    (
        "super",
        "class C(B):\n    def m(self):\n        super().m()\n        super(C, self).n\n",
        "C.m",
        {(SU, "m", ""), (SU, "n", "")},
        set(),
    ),
    # -- methods and attributes on local receivers --------------------------------------------
    (
        "receiver-from-annotation",
        """
        def f(a: Foo, b: mod.Foo, c: "Foo", d: Optional[Foo], e: Foo | None, g: list[Foo], h):
            a.m1(); b.m2(); c.m3(); d.m4(); e.m5(); g.m6(); h.m7()
        """,
        "f",
        {(M, "m1", "T:Foo"), (M, "m2", "T:mod.Foo"), (M, "m3", "T:Foo"), (M, "m4", "T:Foo")}
        | {(M, "m5", "T:Foo"), (M, "m6", "?"), (M, "m7", "?")},
        set(),
    ),
    (
        "receiver-from-assignment",
        """
        def f():
            a = Foo(1)
            b = mod.Foo()
            c: Foo = make()
            d = make()
            a.m1(); b.m2(); c.m3(); d.m4()
            a = other()
            a.m5()
        """,
        "f",
        {(M, "m1", "V:Foo|()"), (M, "m2", "V:mod|.Foo|()"), (M, "m3", "T:Foo")}
        | {(M, "m4", "V:make|()"), (M, "m5", "V:other|()"), (M, "m1", "V:other|()")},
        set(),
    ),
    (
        "receiver-of-literal-is-its-builtin-type",
        "def f(xs):\n    out = []\n    out.append(xs)\n    return ', '.join(xs)\n",
        "f",
        {(M, "append", "B:list"), (M, "join", "B:str")},
        set(),
    ),
    (
        "receiver-of-star-parameters",
        "def f(*args: Foo, **kw: Foo):\n    kw.pop('a')\n    args.index(1)\n",
        "f",
        {(M, "pop", "?"), (M, "index", "?")},
        set(),
    ),
    (
        "call-result-receiver",
        "def f():\n    return make().run()\n",
        "f",
        {(C, "make", ""), (M, "run", "V:make|()")},
        set(),
    ),
    (
        "attribute-read-and-store-on-local",
        "def f(obj: Foo):\n    obj.x = obj.total\n    del obj.y\n",
        "f",
        {(A, ".x", "T:Foo"), (A, ".total", "T:Foo"), (A, ".y", "T:Foo")},
        set(),
    ),
    (
        "local-chain",
        "def f(obj: Foo):\n    return obj.a.b()\n",
        "f",
        {(A, ".a", "T:Foo"), (M, "b", "T:Foo|.a")},
        set(),
    ),
    (
        "calling-a-local-is-call-protocol",
        "def f(cb: Handler, other):\n    cb(1)\n    other()\n",
        "f",
        {(P, "__call__", "T:Handler"), (P, "__call__", "?")},
        {(C, "cb", "")},
    ),
    # -- protocols ----------------------------------------------------------------------------
    (
        "protocol-builtins",
        (
            "def f(x: Foo):\n    len(x); iter(x); next(x); abs(x); hash(x); str(x); repr(x)\n"
            "    format(x, ''); bool(x)\n"
        ),
        "f",
        {
            (P, n, "T:Foo")
            for n in (
                "__len__",
                "__iter__",
                "__next__",
                "__abs__",
                "__hash__",
                "__str__",
                "__repr__",
                "__format__",
                "__bool__",
            )
        },
        set(),
    ),
    (
        "protocol-iteration",
        """
        async def f(x: Foo, y, z):
            for _ in x:
                pass
            [a for a in y]
            print(*z)
            async for _ in x:
                pass
        """,
        "f",
        {(P, "__iter__", "T:Foo"), (P, "__next__", "T:Foo"), (P, "__iter__", "?")}
        | {(P, "__aiter__", "T:Foo"), (P, "__anext__", "T:Foo")},
        set(),
    ),
    (
        "protocol-subscript",
        "def f(x: Foo, k):\n    x[k]\n    x[k] = 1\n    del x[k]\n",
        "f",
        {(P, "__getitem__", "T:Foo"), (P, "__setitem__", "T:Foo"), (P, "__delitem__", "T:Foo")},
        set(),
    ),
    (
        "protocol-contains-with-await",
        """
        async def f(x: Foo, k):
            k in x
            with x:
                pass
            async with x:
                pass
            await x
        """,
        "f",
        {(P, "__contains__", "T:Foo"), (P, "__enter__", "T:Foo"), (P, "__exit__", "T:Foo")}
        | {(P, "__aenter__", "T:Foo"), (P, "__aexit__", "T:Foo"), (P, "__await__", "T:Foo")},
        set(),
    ),
    (
        "protocol-binary-ops",
        (
            "def f(a: Foo, b):\n    a + b; a - b; a * b; a / b; a // b; a % b; a ** b\n"
            "    a @ b; a << b; a >> b; a & b; a | b; a ^ b\n"
        ),
        "f",
        {
            (P, f"__{n}__", "T:Foo")
            for n in (
                "add",
                "sub",
                "mul",
                "truediv",
                "floordiv",
                "mod",
                "pow",
                "matmul",
                "lshift",
                "rshift",
                "and",
                "or",
                "xor",
            )
        }
        | {(P, "__radd__", "?"), (P, "__rxor__", "?")},
        set(),
    ),
    (
        "protocol-augmented",
        "def f(a: Foo, b):\n    a += b\n",
        "f",
        {(P, "__iadd__", "T:Foo"), (P, "__add__", "T:Foo")},
        set(),
    ),
    (
        "protocol-comparisons",
        "def f(a: Foo, b):\n    a == b; a != b; a < b; a <= b; a > b; a >= b\n",
        "f",
        {(P, f"__{n}__", "T:Foo") for n in ("eq", "ne", "lt", "le", "gt", "ge")},
        set(),
    ),
    (
        "protocol-unary-and-truth",
        "def f(a: Foo):\n    -a; +a; ~a\n    if a:\n        pass\n",
        "f",
        {(P, n, "T:Foo") for n in ("__neg__", "__pos__", "__invert__", "__bool__", "__len__")},
        set(),
    ),
    (
        "protocol-not",
        "def f(a: Foo):\n    return not a\n",
        "f",
        {(P, "__bool__", "T:Foo"), (P, "__len__", "T:Foo")},
        set(),
    ),
    (
        "protocol-fstring-format",
        "def f(a: Foo):\n    return f'{a}'\n",
        "f",
        {(P, "__format__", "T:Foo")},
        set(),
    ),
    (
        "protocol-self-receiver-is-the-class",
        "class C:\n    def m(self):\n        return len(self)\n",
        "C.m",
        {(P, "__len__", "S")},
        set(),
    ),
    (
        "protocol-skipped-for-literals",
        (
            "def f():\n    len('abc'); 1 + 2; [1] * 3; 'a' in 'abc'\n    for _ in (1, 2):\n"
            "        pass\n"
        ),
        "f",
        {(C, "len", "")},
        {(P, n, "") for n in ("__len__", "__add__", "__mul__", "__contains__", "__iter__")},
    ),
    # -- dynamic -----------------------------------------------------------------------------
    (
        "getattr-literal-is-attribute",
        (
            "def f(x: Foo):\n    getattr(x, 'name'); hasattr(x, 'h'); setattr(x, 's', 1)\n"
            "    getattr(mod, 'CONST')\n"
        ),
        "f",
        {(A, ".name", "T:Foo"), (A, ".h", "T:Foo"), (A, ".s", "T:Foo"), (A, "mod.CONST", "")},
        {(RefKind.DYNAMIC, "getattr", "")},
    ),
    (
        "getattr-on-self-literal",
        "class C:\n    def m(self):\n        return getattr(self, 'x')\n",
        "C.m",
        {(S, "x", "")},
        set(),
    ),
    (
        "dynamic",
        "def f(x, name):\n    getattr(x, name)\n    eval('1')\n    exec(code)\n",
        "f",
        # getattr keeps the origin of the object whose attribute is computed (it escapes).
        {(RefKind.DYNAMIC, "getattr", "?"), *((RefKind.DYNAMIC, n, "") for n in ("eval", "exec"))},
        set(),
    ),
    (
        "dynamic-imports",
        (
            "import importlib\ndef f(n):\n    importlib.import_module('a.b')\n"
            "    __import__('c')\n    importlib.import_module(n)\n"
        ),
        "f",
        {
            (RefKind.IMPORT, "a.b", ""),
            (RefKind.IMPORT, "c", ""),
            (RefKind.DYNAMIC, "import_module", ""),
        },
        set(),
    ),
    (
        "function-level-imports-are-not-locals",
        "def f():\n    import numpy as np\n    from .sib import tool\n    np.sum(tool)\n",
        "f",
        {(C, "np.sum", ""), (V, "tool", "")},
        {(M, "sum", "")},
    ),
    # -- declared dependencies ----------------------------------------------------------------
    (
        "declared-astoken-deps",
        "class C:\n    __astoken_deps__ = [helper, mod.other, 'pkg.mod:f']\n",
        "C",
        {(RefKind.DECLARED, n, "") for n in ("helper", "mod.other", "pkg.mod:f")},
        {(V, "helper", "")},
    ),
    (
        "declared-ccflow-deps",
        "class C:\n    __ccflow_tokenizer_deps__ = (helper,)\n",
        "C",
        {(RefKind.DECLARED, "helper", "")},
        set(),
    ),
    (
        "declared-depends-on",
        "@astoken.depends_on(a, b.c)\ndef f():\n    pass\n",
        "f",
        {
            (RefKind.DECORATOR, "astoken.depends_on", ""),
            (RefKind.DECLARED, "a", ""),
            (RefKind.DECLARED, "b.c", ""),
        },
        set(),
    ),
    # -- constants and module code ------------------------------------------------------------
    (
        "constant-value-references",
        "LIMIT = compute(BASE) + settings.X\n",
        "LIMIT",
        {(C, "compute", ""), (V, "BASE", ""), (A, "settings.X", "")},
        set(),
    ),
    (
        "module-references",
        "register(f)\napp.add(handler)\natexit.register(cleanup)\n",
        "<module>",
        {(C, "register", ""), (V, "f", ""), (C, "app.add", ""), (V, "handler", "")}
        | {(C, "atexit.register", ""), (V, "cleanup", "")},
        set(),
    ),
    (
        "module-mutation-of-constant-is-merged",
        "HANDLERS = {}\nHANDLERS['x'] = on_x\nHANDLERS.update(y=on_y)\n",
        "HANDLERS",
        {(V, "on_x", ""), (V, "on_y", "")},
        set(),
    ),
    (
        "property-setter-and-deleter-merged",
        """
        class C:
            @property
            def x(self):
                return self._get()
            @x.setter
            def x(self, v):
                self._set(v)
            @x.deleter
            def x(self):
                self._del()
        """,
        "C.x",
        {(S, "_get", ""), (S, "_set", ""), (S, "_del", "")},
        set(),
    ),
]


@pytest.mark.parametrize(
    ("source", "qualname", "present", "absent"),
    [pytest.param(src, q, p, a, id=i) for i, src, q, p, a in REFERENCE_CASES],
)
def test_references(source: str, qualname: str, present: set[Triple], absent: set[Triple]) -> None:
    """Guarantees 3 and 4: what each construct records, and what locals do not."""
    found = refs_of(source, qualname)
    assert present <= found, sorted(present - found, key=str)
    assert not (absent & found), sorted(absent & found, key=str)


DEFINITIONS_SOURCE = """
import sys

LIMIT = 5
X: int = 3
A, B = 1, 2
LIMIT += 1
handler = lambda e: e

def f():
    def nested():
        pass
    class Local:
        def m(self):
            pass
    return nested, Local

async def g():
    pass

class C:
    FEE = 1
    def m(self):
        pass
    class Inner:
        def m(self):
            pass

if sys.version_info >= (3, 11):
    def h():
        pass
else:
    def h():
        pass

try:
    from fast import impl
except ImportError:
    impl = None
    class Fallback:
        pass

with context():
    Y = 2
"""


def test_definitions_in_source_order() -> None:
    """Guarantee 1: definitions in source order, repeated names merged."""
    summary = summarize(DEFINITIONS_SOURCE)
    assert [(d.qualname, d.kind) for d in summary.definitions] == [
        ("LIMIT", DefKind.CONSTANT),
        ("X", DefKind.CONSTANT),
        ("A", DefKind.CONSTANT),
        ("B", DefKind.CONSTANT),
        ("handler", DefKind.FUNCTION),
        ("f", DefKind.FUNCTION),
        ("f.<locals>.nested", DefKind.NESTED),
        ("f.<locals>.Local.m", DefKind.NESTED),
        ("g", DefKind.FUNCTION),
        ("C", DefKind.CLASS),
        ("C.FEE", DefKind.CONSTANT),
        ("C.m", DefKind.METHOD),
        ("C.Inner", DefKind.CLASS),
        ("C.Inner.m", DefKind.METHOD),
        ("h", DefKind.FUNCTION),
        ("Fallback", DefKind.CLASS),
        ("Y", DefKind.CONSTANT),
    ]


def test_augmented_assignment_merges_into_the_constant() -> None:
    summary = summarize("LIMIT = base()\nLIMIT += extra()\n")
    (limit,) = summary.definitions
    assert limit.line == 1
    assert [(r.kind, r.name) for r in limit.references] == [(C, "base"), (C, "extra")]


def test_definition_fields() -> None:
    summary = summarize(
        """
        @deco
        @x.y(1)
        class C(Base, mod.Other):
            @property
            def p(self):
                import json
                return json
            @p.setter
            def p(self, v):
                pass
        """
    )
    klass = definition(summary, "C")
    assert klass.bases == ("Base", "mod.Other")
    assert klass.decorators == ("deco", "x.y")
    assert klass.line == 2
    prop = definition(summary, "C.p")
    assert prop.decorators == ("property", "p.setter")
    assert prop.line == 5
    assert [(b.name, b.module, b.level, b.attr) for b in prop.imports] == [
        ("json", "json", 0, None)
    ]
    assert (RefKind.DECORATOR, "C.p.setter") in {(r.kind, r.name) for r in prop.references}


IMPORTS_SOURCE = """
import a.b.c
import a.b as c
from ..x import y as z
from . import w
from .m import *
from pkg.n import *
from typing import TYPE_CHECKING
if TYPE_CHECKING:
    from pkg import Foo
try:
    import fast
except ImportError:
    fast = None
"""


def test_module_imports() -> None:
    summary = summarize(IMPORTS_SOURCE)
    assert [(b.name, b.module, b.level, b.attr, b.line) for b in summary.imports] == [
        ("a", "a.b.c", 0, None, 2),
        ("c", "a.b", 0, None, 3),
        ("z", "x", 2, "y", 4),
        ("w", "", 1, "w", 5),
        ("TYPE_CHECKING", "typing", 0, "TYPE_CHECKING", 8),
        ("Foo", "pkg", 0, "Foo", 10),
        ("fast", "fast", 0, None, 12),
    ]
    assert summary.star_imports == ((1, "m"), (0, "pkg.n"))
    # The except-ImportError fallback does not shadow the import with a constant.
    assert [d.qualname for d in summary.definitions] == []


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        pytest.param("x = 1\n", None, id="absent"),
        pytest.param("__all__ = ['a', 'b']\n", ("a", "b"), id="list"),
        pytest.param("__all__ = ('a',)\n", ("a",), id="tuple"),
        pytest.param("__all__ = ['a']\n__all__ += ['b']\n", ("a", "b"), id="augmented"),
        pytest.param(
            "__all__ = ['a']\n__all__.extend(['b'])\n__all__.append('c')\n",
            ("a", "b", "c"),
            id="extend-append",
        ),
        pytest.param("__all__ = names()\n", None, id="not-literal"),
        pytest.param("__all__ = ['a']\n__all__ += other.__all__\n", None, id="extended-by-name"),
    ],
)
def test_all_names(source: str, expected: tuple[str, ...] | None) -> None:
    assert summarize(source).all_names == expected


def test_references_are_deduplicated_keeping_the_first_line() -> None:
    """Guarantee 1."""
    summary = summarize("def f():\n    helper()\n    helper()\n    other()\n")
    refs = definition(summary, "f").references
    assert [(r.kind, r.name, r.line) for r in refs] == [(C, "helper", 2), (C, "other", 4)]


def test_line_numbers() -> None:
    source = """\
# comment
import os


@deco
def f(
    a,
    b=DEFAULT,
):
    x = (
        helper()
    )
    return other(
        x,
        value,
    )
"""
    summary = summarize_source(source)
    f = definition(summary, "f")
    assert f.line == 5
    assert summary.imports[0].line == 2
    lines = {r.name: r.line for r in f.references}
    assert lines == {"deco": 5, "DEFAULT": 8, "helper": 11, "other": 13, "value": 15}


# -- JSON --------------------------------------------------------------------------------------

EVERY_KIND_SOURCE = """
import importlib

@deco
class C(Base, metaclass=Meta):
    __astoken_deps__ = [declared_dep]
    FEE = 1

    def m(self, x: Foo = DEFAULT):
        super().m()
        self.a = x.run()
        getattr(x, name)
        importlib.import_module("pkg.mod")
        def inner():
            return x
        return len(x), helper, mod.CONST, call(self), inner

    @classmethod
    def k(cls):
        return cls.FEE

    def g(self):
        yield from self.k()

__all__ = ["C"]
register(C)
"""


def test_json_round_trip_with_every_kind() -> None:
    """Guarantee 5, on a summary holding every reference kind the pass emits."""
    summary = summarize(EVERY_KIND_SOURCE)
    emitted = {r.kind for d in summary.definitions for r in d.references}
    assert emitted == set(RefKind) - {
        RefKind.INSTANTIATION,
        RefKind.MEMBER,
        RefKind.OVERRIDE,
        RefKind.RUNTIME,
        RefKind.EXTERNAL,
        RefKind.STATE,
    }
    assert any(r.receiver for d in summary.definitions for r in d.references)
    assert any(d.returns for d in summary.definitions)
    assert any(d.yields for d in summary.definitions)
    assert any(d.assigns for d in summary.definitions)
    assert summary.module_references
    assert summary.all_names == ("C",)
    text = summary_to_json(summary)
    assert summary_from_json(text) == summary
    assert summary_to_json(summary_from_json(text)) == text


def test_json_round_trip_of_imports_and_stars() -> None:
    summary = summarize(IMPORTS_SOURCE + "def f():\n    from . import q\n")
    assert summary_from_json(summary_to_json(summary)) == summary


def _corrupt(mutate: str) -> str:
    data = json.loads(summary_to_json(summarize(EVERY_KIND_SOURCE)))
    if mutate == "version":
        data["version"] = -1
    elif mutate == "extra-field":
        data["extra"] = 1
    elif mutate == "missing-field":
        del data["imports"]
    elif mutate == "bad-kind":
        data["definitions"][0]["references"][0][0] = "nope"
    elif mutate == "bad-defkind":
        data["definitions"][0]["kind"] = "nope"
    elif mutate == "line-is-string":
        data["definitions"][0]["line"] = "3"
    elif mutate == "line-is-bool":
        data["definitions"][0]["line"] = True
    elif mutate == "reference-arity":
        data["definitions"][0]["references"][0].append(1)
    elif mutate == "reference-line-is-bool":
        data["definitions"][0]["references"][0][2] = True
    elif mutate == "reference-kind-is-list":
        data["definitions"][0]["references"][0][0] = ["call"]
    elif mutate == "reference-receiver-is-null":
        data["definitions"][0]["references"][0][3] = None
    elif mutate == "import-attr":
        data["imports"][0][3] = 5
    elif mutate == "all-names":
        data["all_names"] = [1]
    elif mutate == "star-arity":
        data["star_imports"] = [[0]]
    elif mutate == "definition-not-object":
        data["definitions"][0] = []
    return json.dumps(data)


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("", id="empty"),
        pytest.param("{", id="truncated"),
        pytest.param("[]", id="not-an-object"),
        pytest.param("null", id="null"),
        *(
            pytest.param(_corrupt(m), id=m)
            for m in (
                "version",
                "extra-field",
                "missing-field",
                "bad-kind",
                "bad-defkind",
                "line-is-string",
                "line-is-bool",
                "reference-arity",
                "reference-line-is-bool",
                "reference-kind-is-list",
                "reference-receiver-is-null",
                "import-attr",
                "all-names",
                "star-arity",
                "definition-not-object",
            )
        ),
    ],
)
def test_malformed_json_is_a_value_error(text: str) -> None:
    """Guarantee 5: the caller treats ValueError as a cache miss."""
    with pytest.raises(ValueError, match=r"^malformed summary"):
        summary_from_json(text)


# -- errors, cosmetics, determinism ----------------------------------------------------------


def test_syntax_error_names_file_and_line() -> None:
    with pytest.raises(SourceSyntaxError) as info:
        summarize_source("x = 1\ny = 2\ndef f(:\n    pass\n", filename="pkg/bad.py")
    error = info.value
    assert error.file == "pkg/bad.py"
    assert error.line == 3
    assert str(error).startswith("pkg/bad.py:3: syntax error: ")
    assert error.__cause__ is not None


def _without_lines(summary: ModuleSummary) -> ModuleSummary:
    def strip_refs(refs: tuple[object, ...]) -> tuple[object, ...]:
        return tuple(dataclasses.replace(r, line=0) for r in refs)  # type: ignore[type-var]

    return ModuleSummary(
        definitions=tuple(
            dataclasses.replace(
                d,
                line=0,
                references=strip_refs(d.references),  # type: ignore[arg-type]
                imports=tuple(dataclasses.replace(b, line=0) for b in d.imports),
            )
            for d in summary.definitions
        ),
        imports=tuple(dataclasses.replace(b, line=0) for b in summary.imports),
        star_imports=summary.star_imports,
        all_names=summary.all_names,
        module_references=strip_refs(summary.module_references),  # type: ignore[arg-type]
    )


ORIGINAL = """
import os
LIMIT = 5
class C(Base):
    def m(self, x: Foo):
        return helper(x.run(), self.a, LIMIT)
def f(a, b=DEFAULT):
    return [g(i) for i in a if i] + {k: v for k, v in b.items()}
"""

COSMETIC = '''
"""Module docstring."""
# A comment.
import os


LIMIT = 5  # the limit


class C(Base):
    """Class docstring."""

    def m(self, x: Foo):
        """Method docstring."""
        # comment inside
        return helper(
            x.run(),
            self.a,
            LIMIT,
        )


def f(a, b=DEFAULT):
    return [g(i) for i in a if i] + {
        k: v
        for k, v in b.items()
    }
'''


def test_cosmetic_changes_change_only_line_numbers() -> None:
    """Guarantee 2."""
    before = summarize_source(ORIGINAL)
    after = summarize_source(COSMETIC)
    assert before != after  # the lines moved
    assert _without_lines(before) == _without_lines(after)


def test_output_depends_only_on_the_text() -> None:
    """Guarantee 1: not on the file name, nor on str versus bytes input."""
    text = textwrap.dedent(EVERY_KIND_SOURCE)
    first = summarize_source(text, filename="a.py")
    assert summarize_source(text.encode(), filename="elsewhere/b.py") == first
    assert summary_to_json(summarize_source(text)) == summary_to_json(first)


def test_strings_python_would_reject_do_not_crash_the_pass() -> None:
    summary = summarize_source(
        "class C:\n    __astoken_deps__ = ['\\N{NO SUCH NAME}', '\\ud800']\n"
    )
    declared = [r.name for r in definition(summary, "C").references]
    assert declared == ["\ud800"]  # the undecodable escape names nothing
    assert summary_from_json(summary_to_json(summary)) == summary


def test_deeply_nested_expressions() -> None:
    source = "X = " + " + ".join(f"v{i}" for i in range(600)) + "\n"
    source += "Y = " + "(" * 150 + "z" + ")" * 150 + "\n"
    summary = summarize_source(source)
    values = [r for r in definition(summary, "X").references if r.kind is RefKind.VALUE]
    assert len(values) == 600
    assert {r.name for r in definition(summary, "Y").references} == {"z"}


def test_type_checks_and_builtin_constructors_name_types_not_values() -> None:
    source = (
        "import m\n"
        "def f(x):\n"
        "    seen = set()\n"
        "    seen.update(x)\n"
        "    return isinstance(x, (m.A, B)) and issubclass(type(x), C)\n"
    )
    refs = {
        (r.kind, r.name, r.receiver) for r in summarize_source(source).definitions[0].references
    }
    assert {
        (RefKind.ANNOTATION, "m.A", ""),
        (RefKind.ANNOTATION, "B", ""),
        (RefKind.ANNOTATION, "C", ""),
        (RefKind.METHOD, "update", "B:set"),
    } <= refs
    assert not {name for kind, name, _ in refs if kind is RefKind.VALUE} & {"B", "C"}


# -- origins (guarantees 6 and 7) -------------------------------------------------------------


def _definition_of(source: str, qualname: str) -> Definition:
    return definition(summarize(source), qualname)


ORIGIN_CASES = [
    pytest.param("def f():\n    return Model()\n", "f", ("V:Model|()",), id="constructor-call"),
    pytest.param("def f(x):\n    return x.parent\n", "f", ("?",), id="derived-from-a-parameter"),
    pytest.param(
        "def f(g=Graph):\n    return g()\n",
        "f",
        ("?", "V:Graph|()"),
        id="parameter-default-is-a-possible-value",
    ),
    pytest.param("def f(m: Model):\n    return m\n", "f", ("T:Model",), id="annotated-parameter"),
    pytest.param(
        "def f():\n    x = make()\n    x = other()\n    return x\n",
        "f",
        ("V:make|()", "V:other|()"),
        id="every-assignment-of-a-local",
    ),
    pytest.param(
        "def f(G):\n    return min(G), sorted(G)\n", "f", ("B:tuple",), id="tuple-literal"
    ),
    pytest.param("def f(G):\n    return min(G)\n", "f", ("?",), id="element-of-an-argument"),
    pytest.param("def f():\n    return set()\n", "f", ("B:set",), id="builtin-constructor"),
    pytest.param(
        "set = make\ndef f():\n    return set()\n",
        "f",
        ("V:set|()",),
        id="shadowed-builtin-is-a-module-name",
    ),
    pytest.param(
        "def f():\n    yield Model()\n", "f", ("B:generator",), id="generator-returns-a-generator"
    ),
    pytest.param(
        "class C:\n    @classmethod\n    def make(cls):\n        return cls(1)\n",
        "C.make",
        ("K|()",),
        id="cls-call",
    ),
    pytest.param(
        "class C:\n    def copy(self):\n        return self.__class__()\n",
        "C.copy",
        ("S|.__class__|()",),
        id="self-chain",
    ),
    pytest.param(
        "def f():\n    with open_thing() as t:\n        return t\n",
        "f",
        ("V:open_thing|()|.__enter__|()",),
        id="with-as-is-enter-result",
    ),
    pytest.param(
        "def f():\n    try:\n        pass\n"
        "    except (KeyError, mod.Err) as e:\n        return e\n",
        "f",
        ("T:KeyError", "T:mod.Err"),
        id="except-as-is-an-instance",
    ),
    pytest.param("LIMIT = Limits(3)\n", "LIMIT", ("V:Limits|()",), id="constant-value"),
    pytest.param(
        "class C:\n    D = dict\n    E = D\n",
        "C.E",
        ("V:C.D",),
        id="class-constant-earlier-name",
    ),
]


@pytest.mark.parametrize(("source", "qualname", "expected"), ORIGIN_CASES)
def test_return_origins(source: str, qualname: str, expected: tuple[str, ...]) -> None:
    """Guarantee 6: what a function returns (a constant: holds), as origin expressions."""
    assert _definition_of(source, qualname).returns == expected


@pytest.mark.parametrize(
    ("source", "qualname", "expected"),
    [
        pytest.param(
            "def f(xs):\n    yield Model()\n    yield from make(xs)\n    yield\n",
            "f",
            ("V:Model|()", "V:make|()|*"),
            id="yield-and-yield-from",
        ),
        pytest.param(
            "def f():\n    return [x for x in (yield Model())]\n",
            "f",
            ("V:Model|()",),
            id="a-yield-expression",
        ),
        pytest.param(
            "def f():\n    return Model()\n", "f", (), id="a-plain-function-yields-nothing"
        ),
        pytest.param(
            "def f():\n    def g():\n        yield Model()\n    return g\n",
            "f",
            (),
            id="a-nested-generator-yields-for-itself",
        ),
    ],
)
def test_yield_origins(source: str, qualname: str, expected: tuple[str, ...]) -> None:
    """What a generator function yields, as origin expressions (its call returns a
    generator)."""
    definition = _definition_of(source, qualname)
    assert definition.yields == expected
    if expected:
        assert definition.returns == ("B:generator",)


@pytest.mark.parametrize(
    ("source", "qualname", "expected"),
    [
        pytest.param(
            "def f():\n    a, (b, c) = Model(), [make(), other]\n    return c\n",
            "f",
            ("V:other",),
            id="nested-displays-pair-up",
        ),
        pytest.param(
            "def f(pair):\n    a, b = pair\n    return b\n",
            "f",
            ("?",),
            id="a-value-of-another-shape-unpacks-whole",
        ),
        pytest.param(
            "def f():\n    a, *b = Model(), make()\n    return a\n",
            "f",
            ("",),
            id="a-starred-target-does-not-pair",
        ),
        pytest.param(
            "A, B = Model(), make()\n", "B", ("V:make|()",), id="module-constants-pair-up"
        ),
    ],
)
def test_unpacking_origins(source: str, qualname: str, expected: tuple[str, ...]) -> None:
    """A tuple or list display unpacked into a target of its shape gives each name its own
    element's origins; another value gives the whole value's elements (unknown for a
    builtin display)."""
    assert _definition_of(source, qualname).returns == expected


def test_method_assignments_to_self_are_state() -> None:
    """Guarantee 6: ``self.x = value`` in methods and functions nested in them."""
    source = """
        class C:
            def __init__(self, data: Data):
                self.data = data
                self.view = View(self)
                self.count: int = 0
            def reset(self):
                def inner():
                    self.view = None
                inner()
                self.count += 1
    """
    summary = summarize(source)
    assert definition(summary, "C.__init__").assigns == (
        ("data", "T:Data"),
        ("view", "V:View|()"),
        ("count", "T:int"),
    )
    assert definition(summary, "C.reset.<locals>.inner").assigns == (("view", "B:NoneType"),)
    assert definition(summary, "C.reset").assigns == (("count", "S|.count"),)


def test_nested_definitions_are_their_own() -> None:
    """Guarantee 7: nested functions and lambdas are NESTED definitions; the enclosing one keeps
    decorators and defaults and holds a NESTED reference to each."""
    source = """
        def outer(x):
            @deco
            def inner(y=DEFAULT):
                return helper(y)
            first = lambda a: one(a)
            second = lambda b: two(b)
            return inner, first, second
    """
    summary = summarize(source)
    names = [d.qualname for d in summary.definitions]
    assert names == [
        "outer",
        "outer.<locals>.inner",
        "outer.<locals>.<lambda>",
        "outer.<locals>.<lambda>#2",
    ]
    outer = {(r.kind, r.name) for r in definition(summary, "outer").references}
    assert {
        (RefKind.DECORATOR, "deco"),
        (RefKind.DEFAULT, "DEFAULT"),
        (RefKind.NESTED, "outer.<locals>.inner"),
        (RefKind.NESTED, "outer.<locals>.<lambda>"),
        (RefKind.NESTED, "outer.<locals>.<lambda>#2"),
    } <= outer
    assert (RefKind.CALL, "helper") not in outer
    inner = definition(summary, "outer.<locals>.inner")
    assert inner.kind is DefKind.NESTED
    assert {(r.kind, r.name) for r in inner.references} == {
        (RefKind.CALL, "helper"),
        (RefKind.PASSED, "helper"),  # y is handed to helper
    }
    assert definition(summary, "outer").returns == ("B:tuple",)


def test_calling_a_decorator_factory_calls_its_result() -> None:
    """A ``@factory(...)`` decorator: the factory's result is called with the function."""
    refs = refs_of("@check('graph')\ndef run(x):\n    return x\n", "run")
    assert (RefKind.DECORATOR, "check", "") in refs
    assert (P, "__call__", "V:check|()") in refs


def test_origins_are_bounded() -> None:
    """Guarantee 6: more distinct origins than the bound fold into unknown."""
    assignments = "".join(f"    x = make{i}()\n" for i in range(12))
    source = f"def f():\n{assignments}    return x\n"
    returns = _definition_of(source, "f").returns
    assert len(returns) == 9
    assert returns[-1] == ""


def test_reading_a_summary_never_imports_libcst() -> None:
    """The codec lives in the summary package, whose entry points (and libcst) load on first
    use: a warm run that only decodes cached summaries pays no libcst import (~0.5 s)."""
    script = (
        "import sys\n"
        "from astoken._summary import summary_from_json, summary_to_json\n"
        "assert 'libcst' not in sys.modules, 'codec import loaded libcst'\n"
        "from astoken import _summary\n"
        "s = _summary.summarize_source('def f():\\n    return g()\\n')\n"
        "assert 'libcst' in sys.modules\n"
        "assert summary_from_json(summary_to_json(s)) == s\n"
        "print('ok')\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "ok"
