"""``astoken graph --edges calls`` and ``--format pycg`` (issue 20, item 5): the call-graph view
(what can run what) and PyCG's JSON, on a small package written to disk and analysed from
source (``--static``), through the CLI as a user runs it.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import MakePackage

from astoken import cli
from astoken._model import DependencyGraph, Edge, Node, NodeKind, RefKind
from astoken.render import calls_only
from astoken.render._pycg import pycg_name

SHOP = {
    "shop/__init__.py": "",
    "shop/prices.py": """\
        RATE = 0.2


        def tax(amount):
            return amount * RATE


        def log(func):
            return func


        class Cart:
            LIMIT = 10

            def __init__(self):
                self.items = []

            def add(self, price):
                self.items.append(price)
                return self.check

            def check(self):
                return len(self.items) <= self.LIMIT

            def total(self):
                def gross(x):
                    return x + tax(x)
                return sum(map(lambda p: gross(p), self.items))


        @log
        def checkout(prices):
            cart = Cart()
            for price in prices:
                cart.add(price)
            return cart.total()
        """,
    "shop/api.py": """\
        from shop.prices import checkout

        DEFAULT = checkout([1.0])


        def handle(request):
            return checkout(request)


        def apply(fn, value):
            return fn(value)


        def discount(request):
            from shop.prices import tax

            return apply(tax, request)
        """,
}


def _graph(capsys: pytest.CaptureFixture[str], target: str, *args: str) -> tuple[int, str]:
    code = cli.main(["-q", "graph", target, "--static", *args])
    return code, capsys.readouterr().out


def _installed(
    make_package: MakePackage, monkeypatch: pytest.MonkeyPatch, files: dict[str, str]
) -> Path:
    """The package written, importable and the working directory."""
    root = make_package(files)
    monkeypatch.chdir(root)
    monkeypatch.syspath_prepend(str(root))
    return root


@pytest.fixture
def shop(make_package: MakePackage, monkeypatch: pytest.MonkeyPatch) -> Path:
    return _installed(make_package, monkeypatch, SHOP)


def test_edges_calls_keeps_only_what_runs(shop: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out = _graph(capsys, "shop", "--edges", "calls", "--format", "json")
    assert code == 0
    document = json.loads(out)
    edges = {(e["source"], e["target"]) for e in document["edges"]}
    assert edges == {
        # module code (a constant's defining call is its module's) and the decorator it applies
        ("shop.api", "shop.prices:checkout"),
        ("shop.prices", "shop.prices:log"),
        ("shop.api:handle", "shop.prices:checkout"),
        # a function passed to one that calls its parameter runs there (not in the caller)
        ("shop.api:discount", "shop.api:apply"),
        ("shop.api:apply", "shop.prices:tax"),
        # instantiation calls __init__; method calls on a typed receiver
        ("shop.prices:checkout", "shop.prices:Cart.__init__"),
        ("shop.prices:checkout", "shop.prices:Cart.add"),
        ("shop.prices:checkout", "shop.prices:Cart.total"),
        ("shop.prices:Cart.total.<locals>.gross", "shop.prices:tax"),
        ("shop.prices:Cart.total.<locals>.<lambda>", "shop.prices:Cart.total.<locals>.gross"),
    }
    kinds = {e["kind"] for e in document["edges"]}
    assert kinds <= {"call", "method", "protocol", "super_attr", "override"}
    # Membership (module -> definitions, class -> methods), nesting, reads (``return
    # self.check``, ``RATE``, ``self.LIMIT``) and constants are not calls.
    names = {n["name"] for n in document["nodes"]}
    assert "shop.prices:RATE" not in names
    assert "shop.prices:Cart.LIMIT" not in names
    assert ("shop.prices:Cart.add", "shop.prices:Cart.check") not in edges


def test_pycg_format_is_pycgs_json(shop: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out = _graph(capsys, "shop", "--format", "pycg")
    assert code == 0
    document = json.loads(out)
    assert out == json.dumps(document, indent=2, sort_keys=True) + "\n"
    assert all(isinstance(v, list) and v == sorted(v) for v in document.values())
    assert document["shop.prices.checkout"] == [
        "shop.prices.Cart.__init__",
        "shop.prices.Cart.add",
        "shop.prices.Cart.total",
    ]
    assert document["shop.api"] == ["shop.prices.checkout"]
    assert document["shop.prices"] == ["shop.prices.log"]
    assert document["shop.prices.Cart.total.gross"] == ["shop.prices.tax"]
    assert document["shop.prices.Cart.total.<lambda1>"] == ["shop.prices.Cart.total.gross"]
    # Every function, method and module is a key (PyCG lists callees-only nodes too); classes
    # and constants are not code of their own.
    assert document["shop.prices.Cart.check"] == []
    assert document["shop"] == []
    assert "shop.prices.Cart" not in document
    assert "shop.prices.RATE" not in document


def test_pycg_format_ignores_edges_all(shop: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert _graph(capsys, "shop", "--format", "pycg", "--edges", "all") == _graph(
        capsys, "shop", "--format", "pycg"
    )


@pytest.mark.parametrize(
    ("name", "dotted"),
    [
        pytest.param("pkg.mod", "pkg.mod", id="module"),
        pytest.param("pkg.mod:C.m", "pkg.mod.C.m", id="method"),
        pytest.param("pkg.mod:f.<locals>.g", "pkg.mod.f.g", id="nested"),
        pytest.param("m:f.<locals>.<lambda>", "m.f.<lambda1>", id="first-lambda"),
        pytest.param("m:f.<locals>.<lambda>#3", "m.f.<lambda3>", id="third-lambda"),
    ],
)
def test_pycg_names(name: str, dotted: str) -> None:
    assert pycg_name(name) == dotted


def test_calls_only_without_constructor_runs_nothing_first_party() -> None:
    # ``Plain()`` runs no first-party code (no __init__/__new__ over its MRO); ``Made()`` runs
    # the __init__ it inherits.
    graph = DependencyGraph(
        root="m:f",
        nodes=(
            Node("m:Base", NodeKind.CLASS),
            Node("m:Base.__init__", NodeKind.METHOD),
            Node("m:Made", NodeKind.CLASS),
            Node("m:Plain", NodeKind.CLASS),
            Node("m:f", NodeKind.FUNCTION),
        ),
        edges=(
            Edge("m:Base", "m:Base.__init__", RefKind.MEMBER),
            Edge("m:Made", "m:Base.__init__", RefKind.MEMBER),
            Edge("m:f", "m:Made", RefKind.INSTANTIATION, 3),
            Edge("m:f", "m:Plain", RefKind.INSTANTIATION, 4),
        ),
    )
    calls = calls_only(graph)
    assert [(e.source, e.target) for e in calls.edges] == [("m:f", "m:Base.__init__")]
    assert [n.name for n in calls.nodes] == ["m:Base.__init__", "m:f"]


FLOWS = {
    "flows/__init__.py": "",
    "flows/core.py": """\
        def one():
            pass


        def two():
            pass


        def three():
            pass


        def key(x):
            return x


        class Failed(Exception):
            def __init__(self):
                super().__init__("failed")


        class Job:
            def run(self):
                pass


        class Batch:
            def run(self):
                pass

            def __iter__(self):
                return self

            def __next__(self):
                return Job()


        a, (b, c) = one, (two, three)
        first, second = Job(), Batch()


        def module_level():
            a()
            c()


        def nested():
            p, (q, r) = Job(), [Batch(), one]
            q.run()
            r()


        def unpacked_whole(pair):
            x, y = pair
            return x


        def raising():
            raise Failed


        def higher_order(xs):
            list(map(one, xs))
            return sorted(xs, key=key)


        def iterating():
            for job in Batch():
                job.run()


        def jobs(n):
            yield Job()
            yield from batches(n)


        def batches(n):
            for _ in range(n):
                yield Batch()


        class Queue:
            def __iter__(self):
                yield from jobs(1)


        class Idle:
            def run(self):
                pass


        def from_generators():
            idle = Idle()
            for item in jobs(2):
                item.run()
            return idle


        def from_a_generator_iter():
            idle = Idle()
            for item in Queue():
                item.run()
            return idle


        def calls_what_it_decorates(f):
            f()
            return f


        def factory():
            def decorate(f):
                return f

            return decorate


        @calls_what_it_decorates
        def decorated():
            pass


        @factory()
        def made():
            two()
        """,
}


@pytest.fixture
def flows(make_package: MakePackage, monkeypatch: pytest.MonkeyPatch) -> Path:
    return _installed(make_package, monkeypatch, FLOWS)


def test_calls_follow_unpacking_raise_builtins_and_iteration(
    flows: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out = _graph(capsys, "flows", "--edges", "calls", "--format", "json")
    assert code == 0
    edges = {(e["source"], e["target"]) for e in json.loads(out)["edges"]}

    def callees(function: str) -> set[str]:
        return {t.partition(":")[2] for s, t in edges if s == f"flows.core:{function}"}

    # A display unpacked into a target of its shape gives each name its own element, at module
    # level (constants) and in a function; a value of another shape gives unknown elements.
    assert callees("module_level") == {"one", "three"}
    assert callees("nested") == {"Batch.run", "one"}
    assert callees("unpacked_whole") == set()
    # ``raise Failed`` raises ``Failed()``; ``map`` and ``key=`` call what they are given.
    assert callees("raising") == {"Failed.__init__"}
    assert callees("higher_order") == {"one", "key"}
    # Iterating an instance: what ``__next__`` returns on what ``__iter__`` returns.
    assert callees("iterating") == {"Batch.__iter__", "Batch.__next__", "Job.run"}
    # A generator's elements are what it yields (``yield from``: the elements of what it
    # delegates to), also where ``__iter__`` is the generator.
    # (``Idle``, created there too, is not iterated: its ``run`` is not reached.)
    assert callees("from_generators") == {"jobs", "Job.run", "Batch.run"}
    assert callees("from_a_generator_iter") == {"Queue.__iter__", "Job.run", "Batch.run"}
    # A decorator runs where the decorated definition is made, with what its expression calls
    # (``@factory()`` calls ``factory`` and then what it returned); one that calls its
    # parameter calls the function it decorates.
    assert callees("calls_what_it_decorates") == {"decorated"}
    assert callees("made") == {"two"}
    assert {
        "calls_what_it_decorates",
        "factory",
        "factory.<locals>.decorate",
    } <= {t.partition(":")[2] for s, t in edges if s == "flows.core"}
