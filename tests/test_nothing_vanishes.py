"""Guarantee 7 of astoken._graph (every reference the source pass records ends as a dependency,
a report or a named reason: docs/explanation/coverage.md, "Reported blind spots"), on in-memory
modules, and on a package whose attribute is served lazily by a module-level ``__getattr__``
(PEP 562) end to end."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
from _fresh import run_fresh

from astoken._graph import GraphRequest, build_graph, to_dependency_graph
from astoken._graph._builder import Builder, Outcome
from astoken._model import DependencyGraph, ModuleSource, RefKind
from astoken._scope import Scope
from astoken._summary import summarize_source


def _sources(modules: dict[str, str]) -> dict[str, ModuleSource]:
    sources = {}
    for name, text in modules.items():
        # A package is a module some other module is inside of.
        is_package = any(other.startswith(f"{name}.") for other in modules)
        summary = summarize_source(textwrap.dedent(text), filename=f"{name}.py")
        sources[name] = ModuleSource(name, f"/virtual/{name}.py", is_package, summary)
    return sources


def _request(
    modules: dict[str, str],
    root: str,
    branches: dict[str, tuple[tuple[str, tuple[str, ...]], ...]] | None = None,
) -> GraphRequest:
    sources = _sources(modules)
    table = branches or {}
    return GraphRequest(
        roots=(root,),
        scope=Scope(roots=("app",)),
        modules=sources.get,
        external_versions=False,
        # What the live module says of a function defined in several ``if`` branches.
        branches=lambda module: table.get(module, ()),
    )


def _graph(modules: dict[str, str], root: str) -> DependencyGraph:
    nxgraph, unresolved, nodes = build_graph(_request(modules, root))
    return to_dependency_graph(root, nxgraph, nodes, unresolved)


# -- PEP 562: a package's module-level __getattr__ ---------------------------------------------

_LAZY_IMPL = {
    "app._impl": "",
    "app._impl.slowmath": "def dot(a, b):\n    return 0\n",
    "app._impl.fast": "def dot(a, b):\n    return 1\n",
    "app.fastmath": "def dot(a, b):\n    return 2\n",
}
_USE = "import app\n\ndef f(a, b):\n    return app.{name}.dot(a, b)\n"

LAZY_CASES = [
    pytest.param(
        """
        def __getattr__(name):
            if name == "slow":
                from ._impl import slowmath
                return slowmath
            raise AttributeError(name)
        """,
        "slow",
        {"app:__getattr__", "app._impl.slowmath:dot"},
        id="function-level-from-import-returned",
    ),
    pytest.param(
        """
        import importlib

        def __getattr__(name):
            return importlib.import_module("app._impl.fast")
        """,
        "fast",
        {"app:__getattr__", "app._impl.fast:dot"},
        id="import-module-absolute-literal",
    ),
    pytest.param(
        """
        import importlib

        def __getattr__(name):
            if name == "fastmath":
                return importlib.import_module(".fastmath", __name__)
            raise AttributeError(name)
        """,
        "fastmath",
        {"app:__getattr__", "app.fastmath:dot"},
        id="import-module-relative-literal-same-name-submodule",
    ),
    pytest.param(
        """
        import importlib

        def __getattr__(name):
            return importlib.import_module("._impl.fast", __package__)
        """,
        "fast",
        {"app:__getattr__", "app._impl.fast:dot"},
        id="import-module-relative-to-package",
    ),
]


@pytest.mark.parametrize(("init", "name", "expected"), LAZY_CASES)
def test_module_getattr_is_followed(init: str, name: str, expected: set[str]) -> None:
    # Guarantee 2 and 7: ``app.<name>`` that app does not bind runs app's __getattr__; its code
    # and the modules it can return are dependencies.
    modules = {"app": init, **_LAZY_IMPL, "app.use": _USE.format(name=name)}
    graph = _graph(modules, "app.use:f")
    names = {n.name for n in graph.nodes}
    assert expected <= names
    assert graph.unresolved == ()


def test_module_getattr_reached_by_from_import() -> None:
    # ``from app import slow`` also asks app's __getattr__.
    init = "def __getattr__(name):\n    from ._impl import slowmath\n    return slowmath\n"
    use = "from app import slow\n\ndef f(a, b):\n    return slow.dot(a, b)\n"
    graph = _graph({"app": init, **_LAZY_IMPL, "app.use": use}, "app.use:f")
    assert {"app:__getattr__", "app._impl.slowmath:dot"} <= {n.name for n in graph.nodes}


@pytest.mark.parametrize(
    ("use", "hook_runs"),
    [
        pytest.param(
            "from app import fastmath\n\ndef f(a, b):\n    return fastmath.dot(a, b)\n",
            False,
            id="module-level-from-import",
        ),
        pytest.param(
            "from app import fastmath as fm\n\ndef f(a, b):\n    return fm.dot(a, b)\n",
            False,
            id="module-level-from-import-as",
        ),
        pytest.param(
            "def f(a, b):\n    from app import fastmath\n    return fastmath.dot(a, b)\n",
            True,
            id="function-level-from-import",
        ),
        pytest.param(_USE.format(name="fastmath"), True, id="attribute-read-when-f-runs"),
    ],
)
def test_module_getattr_runs_where_a_submodule_is_imported(use: str, hook_runs: bool) -> None:
    # ``from app import fastmath`` asks app's __getattr__ before importing the submodule: a
    # module-level import does so when the module is imported, and the function only reads the
    # module object it bound; an import or an attribute read in the function does so when the
    # function runs (until the submodule is imported).
    init = "def __getattr__(name):\n    raise AttributeError(name)\n"
    graph = _graph({"app": init, **_LAZY_IMPL, "app.use": use}, "app.use:f")
    names = {n.name for n in graph.nodes}
    assert "app.fastmath:dot" in names
    assert ("app:__getattr__" in names) is hook_runs
    assert graph.unresolved == ()


def test_module_getattr_computing_its_module_is_reported() -> None:
    # What __getattr__ imports by a computed name is reported where it is computed.
    init = """
        import importlib
        _LAZY = {"fast": "app._impl.fast"}

        def __getattr__(name):
            return importlib.import_module(_LAZY[name])
        """
    graph = _graph({"app": init, **_LAZY_IMPL, "app.use": _USE.format(name="fast")}, "app.use:f")
    assert "app:__getattr__" in {n.name for n in graph.nodes}
    assert [(u.owner, u.expression) for u in graph.unresolved] == [
        ("app:__getattr__", "import_module")
    ]


@pytest.mark.parametrize(
    ("use", "expression"),
    [
        pytest.param(_USE.format(name="missing"), "app.missing.dot", id="dotted-path"),
        pytest.param(
            "from app import missing\n\ndef f(a, b):\n    return missing.dot(a, b)\n",
            "missing.dot",
            id="from-import",
        ),
        pytest.param(
            "def f(a, b):\n    from app import missing\n    return missing.dot(a, b)\n",
            "missing.dot",
            id="function-level-from-import",
        ),
        pytest.param(
            "import importlib\n\ndef f():\n    return importlib.import_module('app.nowhere')\n",
            "app.nowhere",
            id="import-module-of-no-module",
        ),
    ],
)
def test_a_name_a_module_does_not_bind_is_reported(use: str, expression: str) -> None:
    # Guarantee 7: without __getattr__, a name the module does not bind is a blind spot.
    graph = _graph({"app": "X = 1\n", **_LAZY_IMPL, "app.use": use}, "app.use:f")
    assert [(u.owner, u.expression) for u in graph.unresolved] == [("app.use:f", expression)]


# -- Every reference kind the summary pass emits ends resolved or reported ---------------------

#: Kinds only the graph step makes (see RefKind): the summary pass never records them.
GRAPH_ONLY = frozenset(
    {
        RefKind.INSTANTIATION,
        RefKind.MEMBER,
        RefKind.STATE,
        RefKind.OVERRIDE,
        RefKind.RUNTIME,
        RefKind.EXTERNAL,
    }
)

#: A sample package using every kind of reference, resolvable and not, each on its own line.
SAMPLE = {
    "app": """
        import importlib
        from . import base

        def __getattr__(name):
            return importlib.import_module("app.lazy")
        """,
    "app.lazy": """
        def lazy_helper():
            return 1

        for _name in ["x"]:
            _name.upper()
        """,
    "app.base": """
        import json

        class Meta(type):
            def __call__(cls, *args):
                return super().__call__(*args)

        class Base(metaclass=Meta):
            LIMIT = 3

            def __init__(self):
                self.size = 1

            def run(self):
                return self.size

            @classmethod
            def make(cls):
                return cls.LIMIT

        class Ext(json.JSONEncoder):
            def encode(self, o):
                return self.indent
        """,
    "app.m": """
        import os
        import importlib
        import json
        import app
        import astoken
        from app import base
        from app.base import Base, Ext

        DEFAULT = 2
        TABLE = {"a": len}

        def deco(func):
            return func

        def spin():
            return spin()

        if os.name == "nt":
            def pick():
                return windows_only()
        else:
            def pick():
                return spin()

        def helper(x: Base, y=DEFAULT) -> int:
            return x.run() + y

        @deco
        class Child(Base):
            def run(self):
                value = super().run()
                return value + self.size + self.missing_state

            @classmethod
            def again(cls):
                return cls.make()

        @astoken.depends_on("app.lazy:lazy_helper")
        def declared(name):
            return getattr(os, name)

        def target(items, name):
            obj = Child()
            obj.run()
            obj.nothing_defines_this
            Child.again()
            helper(obj)
            json.dumps(obj)
            len(items)
            items.append(1)
            base.Base.make()
            base.not_in_base
            app.lazy_thing.lazy_helper()
            importlib.import_module("app.lazy")
            importlib.import_module(name)
            getattr(obj, name)
            sorted(items, key=helper)
            declared("sep")
            TABLE["a"](items)
            Ext().encode(1)
            undefined_global()
            isinstance(items, Base)
            os.path.join("a", "b")
            obj.run.__name__
            spin().anything
            encoder = json
            encoder.dumps(1)
            print(base)
            pick()
            fn = lambda: helper(1)
            def inner():
                return DEFAULT
            return inner() + fn()
        """,
}


def _walk(request: GraphRequest) -> Builder:
    builder = Builder(request, trace=True)
    builder.run()
    return builder


def test_every_summary_reference_kind_is_in_the_sample() -> None:
    # So that the test below walks every kind: a new kind must join the sample.
    emitted = {
        ref.kind
        for source in _sources(SAMPLE).values()
        for refs in (
            source.summary.module_references,
            *(d.references for d in source.summary.definitions),
        )
        for ref in refs
    }
    assert emitted == set(RefKind) - GRAPH_ONLY


def test_every_reference_ends_resolved_or_reported() -> None:
    # Guarantee 7: each reference of every node the graph expanded has an outcome; an edge or
    # a report where the outcome says so, and otherwise one of the reasons Outcome names.
    # ``pick`` ran from its ``else`` branch: the live code names ``spin`` only.
    request = _request(SAMPLE, "app.m:target", {"app.m": (("pick", ("spin",)),)})
    builder = _walk(request)
    traced: dict[tuple[str, int, RefKind, str, str], list[tuple[Outcome, tuple[str, ...]]]] = {}
    for node, ref, outcome, targets in builder.trace or ():
        key = (node, ref.line, ref.kind, ref.name, ref.receiver)
        traced.setdefault(key, []).append((outcome, targets))
    edges = {
        (source, target) for source, targets in builder.graph.succ.items() for target in targets
    }
    waiting = {(s, t) for pending in builder.waiting.values() for s, t, _, _ in pending}
    reported = {(u.owner, u.line) for u in builder.unresolved.values()}

    program = builder.program
    walked = 0
    for node in builder.expanded:
        if ":" in node:
            definition = program.definition(node)
            references = definition.references if definition is not None else ()
        else:
            module = program.module(node)
            references = module.references if module is not None else ()
        for ref in references:
            walked += 1
            found = traced.get((node, ref.line, ref.kind, ref.name, ref.receiver))
            assert found, f"{node}: {ref} vanished"
            for outcome, targets in found:
                if outcome is Outcome.EDGE:
                    assert targets, f"{node}: {ref}: no edge"
                    # (a recursive call is an edge to itself, which the graph leaves out)
                    assert {(node, t) for t in targets if t != node} <= edges | waiting
                if outcome is Outcome.REPORTED:
                    assert (node, ref.line) in reported, f"{node}: {ref}: not reported"
                if outcome is Outcome.ARGUMENT:
                    assert ref.line in builder.arguments.get(node, {}).values()
    assert walked > 60

    # Every outcome occurs, and the sample's blind spots are the ones reported.
    assert {outcome for _, _, outcome, _ in builder.trace or ()} == set(Outcome)
    assert sorted((u.owner, u.expression, u.reason) for u in builder.unresolved.values()) == [
        ("app.m:target", "base.not_in_base", "not found in module app.base"),
        ("app.m:target", "getattr", "dynamic; declare it with depends_on"),
        ("app.m:target", "import_module", "dynamic; declare it with depends_on"),
        ("app.m:target", "undefined_global", "name not found"),
    ]
    # And what the lazy attribute reaches is in the graph.
    assert {"app:__getattr__", "app.lazy", "app.lazy:lazy_helper"} <= set(builder.graph.nodes)


# -- End to end: editing the lazily loaded module changes the token ----------------------------


def _write(root: Path, files: dict[str, str]) -> None:
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text))


def test_editing_a_lazily_loaded_module_changes_the_token(tmp_path: Path) -> None:
    _write(
        tmp_path,
        {
            "lazyapp/__init__.py": """
                def __getattr__(name):
                    if name == "fastmath":
                        from ._impl import fast
                        return fast
                    raise AttributeError(name)
            """,
            "lazyapp/_impl/__init__.py": "",
            "lazyapp/_impl/fast.py": "def dot(a, b):\n    return sum(map(float.__mul__, a, b))\n",
            "lazyapp/use.py": """
                import lazyapp

                def f(a, b):
                    return lazyapp.fastmath.dot(a, b)
            """,
        },
    )
    code = (
        "import json, astoken\n"
        "e = astoken.explain('lazyapp.use:f', strict=True)\n"
        "print(json.dumps([e.token, sorted(d.name for d in e.dependencies)]))\n"
    )
    before, deps = run_fresh(code, paths=[tmp_path], cache_dir=tmp_path / ".cache")
    assert {"lazyapp:__getattr__", "lazyapp._impl.fast:dot"} <= set(deps)
    _write(tmp_path, {"lazyapp/_impl/fast.py": "def dot(a, b):\n    return 0\n"})
    after, _ = run_fresh(code, paths=[tmp_path], cache_dir=tmp_path / ".cache")
    assert after != before
