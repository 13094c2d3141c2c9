"""The graph step on in-memory modules (no import, no disk): guarantees of astoken._graph."""

from __future__ import annotations

import textwrap
from typing import Any

import pytest

from astoken._graph import (
    GraphRequest,
    build_graph,
    paths_from_root,
    to_dependency_graph,
)
from astoken._graph._program import absolute_module
from astoken._model import ModuleSource, NodeKind, RefKind
from astoken._scope import Scope
from astoken._summary import summarize_source


def _graph(modules: dict[str, str], root: str, *, packages: tuple[str, ...] = ("app",)):
    sources: dict[str, ModuleSource] = {}
    for name, text in modules.items():
        is_package = name in packages
        summary = summarize_source(textwrap.dedent(text), filename=f"{name}.py")
        sources[name] = ModuleSource(name, f"/virtual/{name}.py", is_package, summary)

    def provider(name: str) -> ModuleSource | None:
        return sources.get(name)

    request = GraphRequest(
        roots=(root,),
        scope=Scope(roots=("app",)),
        modules=provider,
        external_versions=False,
    )
    nxgraph, unresolved, nodes = build_graph(request)
    return to_dependency_graph(root, nxgraph, nodes, unresolved)


def _deps(modules: dict[str, str], root: str) -> set[str]:
    graph = _graph(modules, root)
    return {n.name for n in graph.nodes} - {root}


@pytest.mark.parametrize(
    ("current", "is_package", "level", "module", "expected"),
    [
        pytest.param("app.a", False, 1, "b", "app.b", id="sibling"),
        pytest.param("app", True, 1, "b", "app.b", id="from-package-init"),
        pytest.param("app.x.y", False, 2, "z", "app.z", id="two-levels"),
        pytest.param("app.x.y", False, 1, "", "app.x", id="from-dot-import"),
        pytest.param("app.x", False, 0, "os.path", "os.path", id="absolute"),
    ],
)
def test_absolute_module(current: str, is_package: bool, level: int, module: str, expected: str):
    # Guarantee 2: relative imports of any depth.
    assert absolute_module(current, is_package, level, module) == expected


CASES = [
    pytest.param(
        {"app": "", "app.m": "def helper(): pass\ndef f():\n    return helper()\n"},
        "app.m:f",
        {"app.m:helper"},
        id="same-module-call",
    ),
    pytest.param(
        {
            "app": "from .impl import helper\n",
            "app.impl": "def helper(): pass\n",
            "app.m": "from app import helper\ndef f():\n    return helper()\n",
        },
        "app.m:f",
        {"app.impl:helper"},
        id="re-export-through-init",
    ),
    pytest.param(
        {
            "app": "",
            "app.impl": "__all__ = ['helper']\ndef helper(): pass\ndef other(): pass\n",
            "app.m": "from .impl import *\ndef f():\n    return helper()\n",
        },
        "app.m:f",
        {"app.impl:helper"},
        id="star-import-with-all",
    ),
    pytest.param(
        {
            "app": "",
            "app.impl": "def helper(): pass\n",
            "app.m": "import app.impl as impl\ndef f():\n    return impl.helper()\n",
        },
        "app.m:f",
        {"app.impl:helper"},
        id="import-as-module-alias",
    ),
    pytest.param(
        {
            "app": "",
            "app.impl": "def helper(): pass\n",
            "app.m": "def f():\n    from .impl import helper\n    return helper()\n",
        },
        "app.m:f",
        {"app.impl:helper"},
        id="import-inside-function",
    ),
    pytest.param(
        {
            "app": "",
            "app.m": (
                "class Base:\n"
                "    def run(self):\n        return self.step()\n"
                "    def step(self):\n        return 1\n"
                "class Sub(Base):\n"
                "    def step(self):\n        return 2\n"
            ),
        },
        "app.m:Base.run",
        {"app.m:Base.step"},
        id="self-call-ignores-override-in-a-subclass-nobody-instantiates",
    ),
    pytest.param(
        {
            "app": "",
            "app.m": (
                "class Base:\n"
                "    def run(self):\n        return self.step()\n"
                "    def step(self):\n        return 1\n"
                "class Sub(Base):\n"
                "    def step(self):\n        return 2\n"
                "class Other(Base):\n"
                "    def step(self):\n        return 3\n"
                "def main():\n    return Sub().run()\n"
            ),
        },
        "app.m:main",
        {"app.m:Sub", "app.m:Base.run", "app.m:Base.step", "app.m:Sub.step"},
        id="self-call-reaches-override-of-the-instantiated-subclass",
    ),
    pytest.param(
        {
            "app": "",
            "app.m": (
                "class Base:\n"
                "    def run(self):\n        return self.step()\n"
                "    def step(self):\n        return 1\n"
                "class Sub(Base):\n"
                "    def step(self):\n        return 2\n"
            ),
        },
        "app.m:Sub.run",
        {"app.m:Base.run", "app.m:Base.step", "app.m:Sub.step"},
        id="method-named-through-a-subclass-sees-its-overrides",
    ),
    pytest.param(
        {
            "app": "",
            "app.m": (
                "class Base:\n    def step(self):\n        return 1\n"
                "class Sub(Base):\n    def step(self):\n        return super().step() + 1\n"
            ),
        },
        "app.m:Sub.step",
        {"app.m:Base.step"},
        id="super-call",
    ),
    pytest.param(
        {
            "app": "",
            "app.m": (
                "class C:\n    def __init__(self):\n        self.x = 1\n"
                "    def unused(self):\n        pass\n"
                "def f():\n    return C()\n"
            ),
        },
        "app.m:f",
        {"app.m:C", "app.m:C.__init__"},
        id="instantiation-reaches-construction-not-unnamed-members",
    ),
    # Guarantee 4 (DESIGN rule 1): what can run on an object the closure creates.
    pytest.param(
        {
            "app": "",
            "app.m": (
                "class C:\n    def area(self):\n        return 1\n"
                "    def perimeter(self):\n        return 2\n"
                "    def __len__(self):\n        return 3\n"
                "    @property\n    def size(self):\n        return 4\n"
                "def f():\n    return C().area()\n"
            ),
        },
        "app.m:f",
        {"app.m:C", "app.m:C.area", "app.m:C.__len__", "app.m:C.size"},
        id="instantiation-reaches-named-members-dunders-and-properties",
    ),
    pytest.param(
        {
            "app": "",
            "app.m": (
                "class C:\n    def area(self):\n        return 1\n"
                "    def perimeter(self):\n        return 2\n"
                "def use(shape):\n    return shape.perimeter()\n"
                "def f():\n    return use(C())\n"
            ),
        },
        "app.m:f",
        {"app.m:C", "app.m:use", "app.m:C.perimeter"},
        id="member-named-on-a-parameter-of-a-callee",
    ),
    pytest.param(
        {
            "app": "",
            "app.m": (
                "import thirdparty\n"
                "class Est:\n    def fit(self):\n        return 1\n"
                "def f():\n    return thirdparty.run(Est())\n"
            ),
        },
        "app.m:f",
        {"app.m:Est", "app.m:Est.fit", "thirdparty"},
        id="object-escaping-to-third-party-reaches-every-member",
    ),
    pytest.param(
        {
            "app": "",
            "app.m": (
                "import thirdparty\n"
                "class Est:\n    def fit(self):\n        return 1\n"
                "def hand_over(est):\n    return thirdparty.run(est)\n"
                "def f():\n    return hand_over(Est())\n"
            ),
        },
        "app.m:f",
        # hand_over's parameter is its caller's object (coverage.md rule 3): f's closure holds
        # what f itself can see; a cache key holding the object covers its class.
        {"app.m:Est", "app.m:hand_over", "thirdparty"},
        id="object-handed-on-by-a-first-party-callee-is-the-callers",
    ),
    pytest.param(
        {
            "app": "",
            "app.m": (
                "class C:\n    def a(self):\n        return 1\n"
                "def f(name):\n    return getattr(C(), name)()\n"
            ),
        },
        "app.m:f",
        {"app.m:C", "app.m:C.a"},
        id="computed-getattr-reaches-every-member",
    ),
    pytest.param(
        {
            "app": "",
            "app.m": (
                "import json\n"
                "class Enc(json.JSONEncoder):\n    def default(self, o):\n        return 1\n"
                "def f():\n    return Enc()\n"
            ),
        },
        "app.m:f",
        {"app.m:Enc", "app.m:Enc.default", "json"},
        id="third-party-base-object-is-third-party-at-birth",
    ),
    pytest.param(
        {
            "app": "",
            "app.m": (
                "class C:\n    def area(self):\n        return 1\n"
                "    def perimeter(self):\n        return 2\n"
                "class Sub(C):\n    def area(self):\n        return self.perimeter()\n"
                "def f():\n    return C().area()\n"
            ),
        },
        "app.m:f",
        {"app.m:C", "app.m:C.area"},
        id="member-named-only-in-an-uncreated-subclass",
    ),
    pytest.param(
        {
            "app": "",
            "app.m": (
                "class Model:\n    def __call__(self, x):\n        return x\n"
                "model = Model()\n"
                "def f(x):\n    return model(x)\n"
            ),
        },
        "app.m:f",
        {"app.m:model", "app.m:Model", "app.m:Model.__call__"},
        id="module-level-instance-called",
    ),
    pytest.param(
        {
            "app": "",
            "app.m": (
                "class Node:\n    def visit(self):\n        return 1\n"
                "def f(x):\n    return isinstance(x, Node)\n"
            ),
        },
        "app.m:f",
        set(),
        id="isinstance-runs-no-code-of-the-class",
    ),
    pytest.param(
        {
            "app": "",
            "app.m": (
                "class Deco:\n    def __init__(self, fn):\n        self.fn = fn\n"
                "    def __call__(self, *a):\n        return self.fn(*a)\n"
                "    def unrelated(self):\n        return 2\n"
                "@Deco\ndef f(x):\n    return x\n"
            ),
        },
        "app.m:f",
        {"app.m:Deco", "app.m:Deco.__init__", "app.m:Deco.__call__"},
        id="class-decorator-instantiates-the-class",
    ),
    pytest.param(
        {
            "app": "",
            "app.m": (
                "class Tool:\n    def __call__(self):\n        return 1\n"
                "    def update(self, x):\n        return x\n"
                "def apply(callback, xs):\n    seen = set()\n    seen.update(xs)\n"
                "    return callback()\n"
            ),
        },
        "app.m:apply",
        set(),
        id="called-parameter-and-builtin-receiver-not-indexed",
    ),
    pytest.param(
        {"app": "", "app.m": "import json\ndef f(x):\n    return json.dumps(x)\n"},
        "app.m:f",
        {"json"},
        id="stdlib-leaf",
    ),
]


@pytest.mark.parametrize(("modules", "root", "expected"), CASES)
def test_resolution(modules: dict[str, str], root: str, expected: set[str]):
    assert _deps(modules, root) == expected


def test_parameter_receiver_is_the_callers():
    # Guarantee 5: a method on a parameter adds no edge (the caller's closure has the class).
    modules = {
        "app": "",
        "app.shapes": "class Square:\n    def area(self):\n        return 4\n",
        "app.m": "def total(shape):\n    return shape.area()\n",
    }
    assert _deps(modules, "app.m:total") == set()


def test_unknown_receiver_reaches_only_instantiated_classes():
    # Guarantee 5: an unknown receiver (a third-party call's result) reaches the members of
    # that name of the classes the closure instantiates, and only those.
    modules = {
        "app": "",
        "app.shapes": (
            "class Square:\n    def area(self):\n        return 4\n"
            "class Circle:\n    def area(self):\n        return 3\n"
        ),
        "app.m": (
            "import copy\nfrom .shapes import Square\n"
            "def total():\n    shape = copy.copy(Square())\n    return shape.area()\n"
        ),
    }
    deps = _deps(modules, "app.m:total")
    assert "app.shapes:Square.area" in deps
    assert "app.shapes:Circle.area" not in deps


def test_dynamic_reference_is_reported():
    # Guarantee 7: a blind spot is recorded with its line.
    modules = {"app": "", "app.m": "def f(obj, name):\n    return getattr(obj, name)()\n"}
    graph = _graph(modules, "app.m:f")
    assert [(u.owner, u.line) for u in graph.unresolved] == [("app.m:f", 2)]


def test_class_reaches_members_over_mro_with_override():
    # Guarantee 5.
    modules = {
        "app": "",
        "app.m": (
            "class Base:\n    def a(self): pass\n    def b(self): pass\n"
            "class Sub(Base):\n    def b(self): pass\n"
        ),
    }
    deps = _deps(modules, "app.m:Sub")
    assert {"app.m:Base.a", "app.m:Sub.b"} <= deps
    assert "app.m:Base.b" not in deps


def test_paths_name_how_a_node_was_reached():
    modules = {
        "app": "",
        "app.m": "LIMIT = 3\ndef g():\n    return LIMIT\ndef f():\n    return g()\n",
    }
    graph = _graph(modules, "app.m:f")
    path = paths_from_root(graph)["app.m:LIMIT"]
    assert [(e.target, e.kind) for e in path] == [
        ("app.m:g", RefKind.CALL),
        ("app.m:LIMIT", RefKind.VALUE),
    ]
    assert graph.node("app.m:LIMIT").kind is NodeKind.CONSTANT


def test_graph_is_sorted_and_repeatable():
    # Guarantee 8.
    modules = {
        "app": "",
        "app.m": "def c(): pass\ndef b(): c()\ndef a(): b(); c()\n",
    }
    first = _graph(modules, "app.m:a")
    second = _graph(modules, "app.m:a")
    assert first == second
    assert [n.name for n in first.nodes] == sorted(n.name for n in first.nodes)


FLOW_CASES = [
    pytest.param(
        {
            "app": "",
            "app.model": "class Model:\n    def predict(self):\n        return 1\n",
            "app.build": "from .model import Model\ndef make():\n    return Model()\n",
            "app.m": "from .build import make\ndef f():\n    return make().predict()\n",
        },
        "app.m:f",
        {"app.build:make", "app.model:Model.predict"},
        set(),
        id="return-value-types-the-receiver",
    ),
    pytest.param(
        {
            "app": "",
            "app.m": (
                "class View:\n    def __call__(self, data=False):\n        return data\n"
                "class G:\n    @property\n    def edges(self):\n        return View()\n"
                "def f(g: G):\n    return g.edges(data=True)\n"
            ),
        },
        "app.m:f",
        {"app.m:G.edges", "app.m:View.__call__"},
        set(),
        id="called-property-value",
    ),
    pytest.param(
        {
            "app": "",
            "app.m": (
                "class T:\n"
                "    def setup_method(self):\n        self.items = build()\n"
                "    def test_a(self):\n        return self.items\n"
                "    def helper(self):\n        return 0\n"
                "def build():\n    return [1]\n"
            ),
        },
        "app.m:T.test_a",
        {"app.m:T.setup_method", "app.m:build"},
        {"app.m:T.helper"},
        id="state-reaches-the-assigning-method",
    ),
    pytest.param(
        {
            "app": "",
            "app.m": (
                "class Checker:\n    def __call__(self, func):\n        return func\n"
                "def check(kind):\n    return Checker()\n"
                "@check('x')\ndef f():\n    return 1\n"
            ),
        },
        "app.m:f",
        {"app.m:check", "app.m:Checker", "app.m:Checker.__call__"},
        set(),
        id="decorator-factory-result-is-called",
    ),
    pytest.param(
        {
            "app": "",
            "app.m": (
                "class G:\n"
                "    def add(self, u):\n        d = self.data.get(u)\n        d.update(u)\n"
                "    def update(self, other):\n        return self.add(other)\n"
            ),
        },
        "app.m:G.add",
        set(),
        {"app.m:G.update"},
        id="unknown-receiver-never-guesses-the-roots-own-class",
    ),
    pytest.param(
        {
            "app": "",
            "app.m": (
                "def f(xs):\n    def key(x):\n        return helper(x)\n"
                "    return sorted(xs, key=key)\n"
                "def helper(x):\n    return x\n"
            ),
        },
        "app.m:f",
        {"app.m:f.<locals>.key", "app.m:helper"},
        set(),
        id="nested-function-is-a-node",
    ),
    pytest.param(
        {
            "app": "",
            "app.tests": "",
            "app.tests.test_m": "class Fake:\n    def run(self):\n        return 1\n"
            "def test_x():\n    return Fake()\n",
            "app.m": "import copy\ndef f():\n    return copy.copy(1).run()\n",
        },
        "app.m:f",
        set(),
        {"app.tests.test_m:Fake.run"},
        id="library-code-never-reaches-test-code",
    ),
]


FLOW_CASES.append(
    pytest.param(
        {
            "app": "",
            "app.m": (
                "class Oops(Exception):\n    def __str__(self):\n        return fmt()\n"
                "def fmt():\n    return 'x'\n"
                "def f():\n    raise Oops\n"
                "def g():\n    try:\n        f()\n    except Oops:\n        pass\n"
            ),
        },
        "app.m:f",
        {"app.m:Oops", "app.m:Oops.__str__", "app.m:fmt"},
        set(),
        id="raise-constructs",
    )
)
FLOW_CASES.append(
    pytest.param(
        {
            "app": "",
            "app.m": (
                "class Oops(Exception):\n    def __str__(self):\n        return 'x'\n"
                "def g():\n    try:\n        return 1\n    except Oops:\n        return 2\n"
            ),
        },
        "app.m:g",
        set(),
        {"app.m:Oops", "app.m:Oops.__str__"},
        id="except-only-compares-types",
    )
)


@pytest.mark.parametrize(("modules", "root", "present", "absent"), FLOW_CASES)
def test_flow(modules: dict[str, str], root: str, present: set[str], absent: set[str]) -> None:
    # Guarantees 3, 4, 5 and 9: receivers typed by flow; state; RTA; nested nodes.
    deps = _deps(modules, root)
    assert present <= deps, sorted(present - deps)
    assert not (absent & deps), sorted(absent & deps)


def test_operations_on_arguments_are_listed_not_followed() -> None:
    # Guarantee 5: the caller's objects add no edge, and the graph says what was used on them.
    modules = {"app": "", "app.m": "def f(g):\n    g.add(1)\n    return len(g)\n"}
    graph = _graph(modules, "app.m:f")
    assert {n.name for n in graph.nodes} == {"app.m:f"}
    (use,) = graph.arguments
    assert (use.owner, use.members, use.line) == ("app.m:f", (".add()", "__len__"), 2)


def _recursive_returns(count: int) -> str:
    """``count`` functions that return one another's results (each reaches every other one
    through two calls and a call back to the first), and one class each ends in."""
    lines = []
    for i in range(count):
        lines += [f"class C{i}:", "    def run(self):", f"        return {i}", ""]
    for i in range(count):
        one, two = (i + 1) % count, (i + 2) % count
        lines += [
            f"def f{i}(n):",
            "    if n > 2:",
            f"        return f{one}(n - 1)",
            "    if n > 1:",
            f"        return f{two}(n - 2)",
            "    if n:",
            "        return f0(n - 1)",
            f"    return C{i}()",
            "",
        ]
    lines += ["def target():", f"    return f{count - 1}(9).run()", ""]
    return "\n".join(lines)


def test_mutually_recursive_returns_reach_a_fixpoint_computing_each_once_a_round(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # What a function returns is a least fixpoint over the functions whose results it returns:
    # ``f(...).run()`` reaches ``run`` of every class any of them can return. Computed as one
    # (each function's returns evaluated at most once per round of the outermost), not again
    # for every path into the cycle (sympy's returns made that hours of work).
    from astoken._graph import _flow

    computed: list[tuple[str, str, str]] = []
    memoised = _flow.Flow.memoised

    def counting(self: _flow.Flow, key: _flow.Key, compute: Any) -> _flow.Values:
        def counted() -> Any:
            computed.append(key)
            return compute()

        return memoised(self, key, counted)

    monkeypatch.setattr(_flow.Flow, "memoised", counting)
    count = 24
    deps = _deps({"app": "", "app.m": _recursive_returns(count)}, "app.m:target")
    assert {f"app.m:C{i}.run" for i in range(count)} <= deps
    returns = [key for key in computed if key[0] == "returns"]
    assert len(set(returns)) == count
    # Rounds of the outermost function: a first one, one that adds, one that adds nothing.
    assert len(returns) <= 3 * count
