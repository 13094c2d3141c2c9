"""The audit (astoken._audit, astoken.pytest_plugin, ``astoken audit``).

Three layers: the pure parts (qualified names, sites, figures, the JSON codec) on values made
here; the tracer in-process on a package written to tmp_path; then real pytest runs in a
child interpreter on small projects with their own tests, where the misses, recall and
suggested fixes are asserted exactly (closure *sizes* are the discovery engine's business
and are only checked for consistency).
"""

from __future__ import annotations

import inspect
import json
import os
import re
import subprocess
import sys
import textwrap
import types
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pytest
from conftest import ImportFrom, MakePackage, write_tree
from hypothesis import given, settings
from hypothesis import strategies as st

from astoken import _audit, cli
from astoken._audit import Caller, RanFunction, Recording, Root
from astoken._audit._codec import report_from_dict, report_to_dict
from astoken._audit._sites import SiteKind, fold_qualname, qualnames_in_source
from astoken._model import AuditCaller, AuditedTest, AuditMiss, AuditReport
from astoken.errors import TargetNotFoundError

# --------------------------------------------------------------------------------------------
# Qualified names and sites (astoken._audit._sites, rules 1-5).
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("qualname", "expected"),
    [
        pytest.param("f", ("f", True), id="function"),
        pytest.param("C.m", ("C.m", True), id="method-rule-1"),
        pytest.param("f.<locals>.g", ("f", False), id="nested-rule-2"),
        pytest.param("C.m.<locals>.<lambda>", ("C.m", False), id="lambda-in-method-rule-2"),
        pytest.param("f.<locals>.C.m", ("f", False), id="class-in-function-rule-2"),
        pytest.param("f.<locals>.<genexpr>", ("f", False), id="comprehension-rule-2"),
        pytest.param("f.<locals>.<listcomp>.<lambda>", ("f", False), id="in-comprehension"),
        pytest.param("<listcomp>.<lambda>", (None, False), id="module-comprehension-rule-3"),
        pytest.param("<lambda>", (None, False), id="module-lambda-rule-3"),
        pytest.param("C.<listcomp>", (None, False), id="class-body-comprehension-rule-3"),
    ],
)
def test_fold_qualname(qualname: str, expected: tuple[str | None, bool]) -> None:
    assert fold_qualname(qualname) == expected


TRICKY = """\
import functools


def deco(f):
    @functools.wraps(f)
    def wrapper(*args):
        return f(*args)
    return wrapper


@deco
def decorated(x=lambda: 1):
    return [y for y in (z for z in range(x()))]


class Outer:
    key = staticmethod(lambda v: v)

    class Inner:
        def method(self):
            def local():
                return {k: v for k, v in {}.items()}
            return local

    @property
    def prop(self):
        return 1

    async def run(self):
        return [lambda: n for n in range(3)]


def factory():
    class Made:
        def go(self):
            return 1
    return Made
"""

#: (first line, co_name) -> qualified name, as CPython names the code objects of TRICKY.
TRICKY_QUALNAMES = {
    (4, "deco"): "deco",
    (5, "wrapper"): "deco.<locals>.wrapper",
    (11, "decorated"): "decorated",
    (12, "<lambda>"): "<lambda>",
    (13, "<listcomp>"): "decorated.<locals>.<listcomp>",
    (13, "<genexpr>"): "decorated.<locals>.<genexpr>",
    (17, "<lambda>"): "Outer.<lambda>",
    (20, "method"): "Outer.Inner.method",
    (21, "local"): "Outer.Inner.method.<locals>.local",
    (22, "<dictcomp>"): "Outer.Inner.method.<locals>.local.<locals>.<dictcomp>",
    (25, "prop"): "Outer.prop",
    (29, "run"): "Outer.run",
    (30, "<listcomp>"): "Outer.run.<locals>.<listcomp>",
    (30, "<lambda>"): "Outer.run.<locals>.<listcomp>.<lambda>",
    (33, "factory"): "factory",
    (35, "go"): "factory.<locals>.Made.go",
}


def _code_objects(code: types.CodeType) -> list[types.CodeType]:
    found = [code]
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            found.extend(_code_objects(const))
    return found


def test_qualnames_from_source_follow_cpython_rules(tmp_path: Path) -> None:
    """Rule 5: the 3.10 fallback names every function-like scope as CPython does (defaults
    and decorators in the enclosing scope, comprehensions and lambdas nested)."""
    path = tmp_path / "tricky.py"
    path.write_text(TRICKY)
    assert qualnames_in_source(str(path)) == TRICKY_QUALNAMES
    # Every code object the compiler makes is found under its (first line, name); on 3.11+
    # the name agrees with co_qualname. 3.12+ inlines list, set and dict comprehensions (PEP
    # 709): fewer code objects, and what is nested in one is named without it.
    for code in _code_objects(compile(TRICKY, str(path), "exec")):
        if not code.co_flags & inspect.CO_OPTIMIZED:
            continue  # the module and class bodies: not functions
        expected = TRICKY_QUALNAMES[(code.co_firstlineno, code.co_name)]
        if sys.version_info >= (3, 12):
            expected = re.sub(r"\.<(listcomp|setcomp|dictcomp)>", "", expected)
        assert getattr(code, "co_qualname", expected) == expected


def test_qualnames_of_an_unreadable_file_are_empty(tmp_path: Path) -> None:
    (tmp_path / "broken.py").write_text("def broken(:\n")
    assert qualnames_in_source(str(tmp_path / "broken.py")) == {}
    assert qualnames_in_source(str(tmp_path / "missing.py")) == {}


SITES = {
    "sitepkg/__init__.py": "",
    "sitepkg/mod.py": """\
        from dataclasses import dataclass

        named = lambda v: v  # noqa: E731


        def outer():
            def inner():
                return 1
            return inner


        class Box:
            def method(self):
                return [n for n in range(2)]


        @dataclass
        class Point:
            x: int = 0
        """,
}


def test_sites_name_first_party_code_like_tokens(
    make_package: MakePackage, import_from: ImportFrom
) -> None:
    """Rules 1-4 on live code objects."""
    mod = import_from(make_package(SITES), "sitepkg.mod")
    sites = _audit.SiteIndex()
    scope = _audit.scope_for("sitepkg")

    def site(code: types.CodeType, module: str | None = "sitepkg.mod") -> tuple[str, str]:
        found = sites.site(code, module, scope)
        return found.kind.value, found.node

    function = SiteKind.FUNCTION.value
    assert site(mod.outer.__code__) == (function, "sitepkg.mod:outer")
    assert site(mod.outer().__code__) == (function, "sitepkg.mod:outer")  # rule 2
    assert site(mod.Box.method.__code__) == (function, "sitepkg.mod:Box.method")
    assert site(mod.named.__code__) == (function, "sitepkg.mod:named")  # rule 3, bound lambda
    module_code = compile("x = 1", mod.__file__, "exec")
    assert site(module_code) == (SiteKind.OTHER.value, "")  # rule 3, a module body
    assert site(mod.Point.__init__.__code__)[0] == SiteKind.GENERATED.value  # rule 4
    assert site(json_dumps_code(), "json")[0] == SiteKind.OTHER.value  # standard library
    assert site(mod.outer.__code__, None)[0] == SiteKind.OTHER.value  # no module name
    node = sites.site(mod.Box.method.__code__, "sitepkg.mod", scope)
    assert (Path(node.file).name, node.line, node.exact) == ("mod.py", 13, True)


def json_dumps_code() -> types.CodeType:
    import json as json_module

    code = json_module.dumps.__code__
    assert isinstance(code, types.CodeType)
    return code


# --------------------------------------------------------------------------------------------
# The tracer in-process (astoken._audit._trace, astoken._audit._record).
# --------------------------------------------------------------------------------------------

TRACED = {
    "tracedpkg/__init__.py": "",
    "tracedpkg/work.py": """\
        import functools


        def key(value):
            return -value


        def helper():
            return 1


        class Cached:
            @functools.cached_property
            def value(self):
                return helper()


        def entry():
            ordered = sorted([1, 2], key=key)
            def nested():
                return helper()
            nested()
            return Cached().value, ordered


        def replace_profiler():
            import sys
            sys.setprofile(None)
            helper()
        """,
}


def traced_recording(
    make_package: MakePackage, import_from: ImportFrom, function: str
) -> tuple[Recording, bool]:
    work = import_from(make_package(TRACED), "tracedpkg.work")
    sites = _audit.SiteIndex()
    # This test module is on sys.path, so first-party too (scope rule 5): left out here.
    scope = _audit.scope_for("tracedpkg", exclude=[__name__])
    tracer = _audit.CallTracer()
    tracer.start(_audit.classifier(sites, scope))
    try:
        getattr(work, function)()
    finally:
        tracer.stop()
    replaced = tracer.replaced
    edges, generated = tracer.take()
    root = Root(f"tracedpkg.work:{function}", f"tracedpkg.work:{function}")
    return _audit.record("t", [root], edges, scope, sites, generated=generated), replaced


def test_tracer_names_the_nearest_first_party_caller(
    make_package: MakePackage, import_from: ImportFrom
) -> None:
    """_record guarantees 1-3: through sorted(key=...) and functools.cached_property the
    caller is the first-party function below, at the line of its call; nested() is entry."""
    recording, replaced = traced_recording(make_package, import_from, "entry")
    assert not replaced
    callers = {
        f.function.partition(":")[2]: [(c.function.partition(":")[2], c.line) for c in f.callers]
        for f in recording.functions
    }
    assert callers == {
        "entry": [],
        "key": [("entry", 19)],
        "helper": [("Cached.value", 15), ("entry", 21)],
        "Cached.value": [("entry", 23)],
    }
    assert recording.generated == 0


def test_tracer_notices_a_replaced_profiler(
    make_package: MakePackage, import_from: ImportFrom
) -> None:
    """A test that installs its own profile hook ends the record on 3.10/3.11, and says so;
    sys.monitoring (3.12+) is independent of sys.setprofile and keeps recording."""
    recording, replaced = traced_recording(make_package, import_from, "replace_profiler")
    ran = [f.function.partition(":")[2] for f in recording.functions]
    if sys.version_info >= (3, 12):
        assert (replaced, ran) == (False, ["helper", "replace_profiler"])
    else:
        assert (replaced, ran) == (True, ["replace_profiler"])


# --------------------------------------------------------------------------------------------
# Figures (astoken._audit._figures guarantees 1-5) with fake closures.
# --------------------------------------------------------------------------------------------


def ran(name: str, *callers: str) -> RanFunction:
    return RanFunction(
        name, f"{name.partition(':')[0]}.py", 1, tuple(Caller(c, "c.py", 7) for c in callers)
    )


def fake_closures(
    table: Mapping[str, frozenset[str]], failing: Sequence[str] = ()
) -> tuple[_audit.Closures, list[list[str]]]:
    calls: list[list[str]] = []

    def closures(targets: Sequence[str]) -> Mapping[str, frozenset[str]]:
        calls.append(list(targets))
        bad = [t for t in targets if t in failing]
        if bad:
            raise TargetNotFoundError(bad[0], "no attribute")
        return {t: table[t] for t in targets}

    return closures, calls


RECORDING = Recording(
    test="tests/test_a.py::TestSub::test_x",
    roots=(Root("t:TestSub.test_x", "b:Base.test_x"), Root("t:fixture", "t:fixture")),
    functions=(
        ran("b:Base.test_x"),
        ran("t:fixture"),
        ran("app:run", "b:Base.test_x"),
        ran("app:dynamic", "app:run"),
        ran("app:deeper", "app:dynamic"),
        ran("conftest:pytest_runtest_setup"),
        ran("app:hooked", "conftest:pytest_runtest_setup", "app:run"),
    ),
    generated=2,
)
CLOSURES = {
    "t:TestSub.test_x": frozenset({"t:TestSub.test_x", "b:Base.test_x", "app:run", "app:x"}),
    "t:fixture": frozenset({"t:fixture", "app:hooked"}),
}


def test_figures_of_one_test() -> None:
    """Guarantees 1-3: alias dropped, hook code outside, misses with their callers."""
    closures, calls = fake_closures(CLOSURES)
    report = _audit.audit([RECORDING], closures)
    assert calls == [["t:TestSub.test_x", "t:fixture"]]  # guarantee 4: one call for all
    (test,) = report.tests
    assert (test.ran, test.covered, test.closure, test.outside, test.generated) == (6, 4, 5, 1, 2)
    assert (test.recall, test.ratio) == (4 / 6, 5 / 6)
    assert test.misses == (
        AuditMiss("app:deeper", "app.py", 1, (AuditCaller("app:dynamic", "c.py", 7, False),)),
        AuditMiss("app:dynamic", "app.py", 1, (AuditCaller("app:run", "c.py", 7, True),)),
    )
    assert [m.fix_on for m in test.misses] == [(), ("app:run",)]
    assert test.misses[1].decorator == '@astoken.depends_on("app:dynamic")'
    assert [(m.function, m.tests, m.fix_on, m.through) for m in report.missed] == [
        ("app:deeper", 1, (), ("app:dynamic",)),
        ("app:dynamic", 1, ("app:run",), ()),
    ]


def test_failing_roots_are_isolated() -> None:
    """Guarantee 4: only tests needing a failing root report an error and leave the figures."""
    other = Recording(
        "tests/test_b.py::test_y", (Root("t:test_y", "t:test_y"),), (ran("t:test_y"),)
    )
    table = {**CLOSURES, "t:test_y": frozenset({"t:test_y"})}
    closures, calls = fake_closures(table, failing=["t:fixture"])
    report = _audit.audit([RECORDING, other], closures)
    assert calls[0] == ["t:TestSub.test_x", "t:fixture", "t:test_y"]
    assert len(calls) <= 1 + 2 * 2  # halving, not one call per root
    broken, fine = report.tests
    assert broken.error == "closure of t:fixture unavailable: t:fixture: no attribute"
    assert not fine.error
    assert (report.summary.tests, report.summary.errors) == (1, 1)
    assert (report.summary.ran, report.summary.pooled_recall) == (1, 1.0)


def test_summary_is_pooled_and_order_independent() -> None:
    """Guarantees 3 and 5."""
    tests = [
        AuditedTest("b", ("b",), ran=4, covered=2, closure=20, misses=()),
        AuditedTest("a", ("a",), ran=2, covered=2, closure=2, misses=()),
        AuditedTest("c", ("c",), ran=0, covered=0, closure=5, misses=()),
    ]
    report = _audit.summarize(tests, skipped=3, python="cpython-311")
    assert report == _audit.summarize(list(reversed(tests)), skipped=3, python="cpython-311")
    assert [t.test for t in report.tests] == ["a", "b", "c"]
    s = report.summary
    assert (s.tests, s.ran, s.covered, s.skipped) == (3, 6, 4, 3)
    assert s.pooled_recall == 4 / 6
    assert s.mean_recall == (1.0 + 0.5) / 2  # the test where nothing ran has no recall
    assert s.median_ratio == (1.0 + 5.0) / 2
    empty = _audit.summarize([], skipped=1)
    assert (empty.summary.pooled_recall, empty.summary.median_ratio) == (None, None)


NAMES = [f"m:f{i}" for i in range(6)]


@st.composite
def recordings(draw: st.DrawFn) -> list[Recording]:
    found = []
    for index in range(draw(st.integers(1, 4))):
        ran_names = draw(st.lists(st.sampled_from(NAMES), unique=True, max_size=6))
        functions = tuple(
            ran(name, *draw(st.lists(st.sampled_from(NAMES), unique=True, max_size=3)))
            for name in sorted(ran_names)
        )
        roots = draw(st.lists(st.sampled_from(NAMES), unique=True, min_size=1, max_size=2))
        root_values = tuple(Root(r, r) for r in sorted(roots))
        found.append(Recording(f"t{index}", root_values, functions))
    return found


@settings(max_examples=200, deadline=None)
@given(
    recorded=recordings(),
    closure_sets=st.dictionaries(
        st.sampled_from(NAMES), st.frozensets(st.sampled_from(NAMES)), min_size=len(NAMES)
    ),
    data=st.data(),
)
def test_figures_are_consistent_and_order_independent(
    recorded: list[Recording], closure_sets: dict[str, frozenset[str]], data: st.DataObject
) -> None:
    """Guarantees 2, 3 and 5 as properties: ran and outside split what was recorded, covered
    and missed split what ran, recall is a fraction, and the order of tests does not matter."""
    closures, _ = fake_closures(closure_sets)
    report = _audit.audit(recorded, closures)
    for recording, test in zip(sorted(recorded, key=lambda r: r.test), report.tests, strict=True):
        assert test.ran + test.outside == len(recording.functions)
        assert test.covered + len(test.misses) == test.ran
        assert test.recall is None or 0.0 <= test.recall <= 1.0
        closure = set().union(*(closure_sets[r.target] for r in recording.roots))
        assert all(m.function not in closure for m in test.misses)
        assert all(c.in_closure == (c.function in closure) for m in test.misses for c in m.callers)
    shuffled = data.draw(st.permutations(recorded))
    assert _audit.audit(shuffled, closures) == report


def test_json_codec_round_trip() -> None:
    closures, _ = fake_closures(CLOSURES)
    report = _audit.audit([RECORDING], closures, python="cpython-311")
    data = json.loads(json.dumps(report_to_dict(report)))
    assert report_from_dict(data) == report
    with pytest.raises(ValueError, match="layout 1"):
        report_from_dict({"astoken_audit": 2})
    with pytest.raises(ValueError, match="malformed"):
        report_from_dict({**data, "tests": [{"test": "x"}]})


# --------------------------------------------------------------------------------------------
# Real pytest runs with the plugin, in a child interpreter.
# --------------------------------------------------------------------------------------------

SHOP = {
    "pytest.ini": "[pytest]\n",
    "shop/__init__.py": "",
    "shop/ops.py": """\
        def double(x):
            return 2 * x


        def square(x):
            return x * x


        def base_price():
            return 10
        """,
    "shop/run.py": """\
        from dataclasses import dataclass

        from shop import ops


        class Runner:
            def run(self, name, x):
                return getattr(ops, name)(x)


        def outer(x):
            def inner(y):
                return ops.square(y)
            return inner(x)


        @dataclass
        class Point:
            x: int = 0

            def norm(self):
                return abs(self.x)
        """,
    "tests/__init__.py": "",
    "tests/conftest.py": """\
        import pytest

        from shop import ops


        @pytest.fixture
        def price():
            return ops.base_price()
        """,
    "tests/test_shop.py": """\
        from shop.run import Point, Runner, outer


        def test_dynamic():
            assert Runner().run("double", 2) == 4


        def test_fixture(price):
            assert price == 10


        def test_dynamic_fixture(request):
            assert request.getfixturevalue("price") == 10


        def test_nested():
            assert outer(3) == 9


        def test_generated():
            assert Point(-2).norm() == 2
        """,
}

#: Runner.run with the dependency declared, as the report suggests.
FIXED_RUN = (
    textwrap.dedent(SHOP["shop/run.py"])
    .replace("class Runner:\n", 'class Runner:\n    @astoken.depends_on("shop.ops:double")\n')
    .replace("from shop import ops\n", "from shop import ops\nimport astoken\n")
)


@pytest.fixture(autouse=True)
def _only_named_pytest_plugins(monkeypatch: pytest.MonkeyPatch) -> None:
    """Child pytest runs (ours and ``astoken audit``'s) load only the plugins named with -p:
    the other installed ones (hypothesis, hydra, testmon, ...) play no part in what these
    tests check, and importing them cost each child about two seconds."""
    monkeypatch.setenv("PYTEST_DISABLE_PLUGIN_AUTOLOAD", "1")


def run_pytest(
    project: Path, *args: str
) -> tuple[subprocess.CompletedProcess[str], dict[str, Any]]:
    """pytest with the plugin (by module name, as without an installed entry point)."""
    report = project / "audit.json"
    command = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", *args]
    command += ["-p", "astoken.pytest_plugin", f"--astoken-audit-json={report}"]
    result = subprocess.run(
        command, cwd=project, capture_output=True, text=True, timeout=300, check=False
    )
    data = json.loads(report.read_text()) if report.exists() else {}
    return result, data


def by_test(data: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {t["test"].rpartition("::")[2]: t for t in data["tests"]}


def figures(test: dict[str, Any]) -> tuple[int, int, list[str]]:
    return test["ran"], test["covered"], [m["function"] for m in test["misses"]]


@pytest.fixture(scope="module")
def shop_audited(
    tmp_path_factory: pytest.TempPathFactory,
) -> tuple[subprocess.CompletedProcess[str], dict[str, Any]]:
    """One audited pytest run of SHOP, read by the tests that check its report (the child
    only reads the project, so they can share it)."""
    return run_pytest(write_tree(tmp_path_factory.mktemp("audited") / "shop", SHOP))


def test_plugin_reports_a_dynamic_call_with_caller_and_fix(
    shop_audited: tuple[subprocess.CompletedProcess[str], dict[str, Any]],
) -> None:
    result, data = shop_audited
    assert result.returncode == 0, result.stdout + result.stderr
    tests = by_test(data)
    assert figures(tests["test_dynamic"]) == (3, 2, ["shop.ops:double"])
    (miss,) = tests["test_dynamic"]["misses"]
    assert miss["file"] == os.path.join("shop", "ops.py")
    assert miss["line"] == 1
    assert miss["callers"] == [
        {
            "file": os.path.join("shop", "run.py"),
            "function": "shop.run:Runner.run",
            "in_closure": True,
            "line": 8,
        }
    ]
    assert miss["fix_on"] == ["shop.run:Runner.run"]
    assert miss["decorator"] == '@astoken.depends_on("shop.ops:double")'
    # A fixture's helpers are covered, also for a fixture requested at run time.
    assert figures(tests["test_fixture"]) == (3, 3, [])
    assert "tests.conftest:price" in tests["test_fixture"]["roots"]
    assert figures(tests["test_dynamic_fixture"]) == (3, 3, [])
    # inner() ran as part of outer(); the dataclass __init__ is generated, not missed.
    assert figures(tests["test_nested"]) == (3, 3, [])
    assert figures(tests["test_generated"]) == (2, 2, [])
    assert tests["test_generated"]["generated"] == 1
    summary = data["summary"]
    assert (summary["tests"], summary["ran"], summary["covered"]) == (5, 14, 13)
    assert summary["pooled_recall"] == 13 / 14
    assert all(t["closure"] >= t["covered"] for t in data["tests"])
    # The terminal summary names the miss and the fix.
    assert "astoken audit: 5 tests, pooled recall 0.929" in result.stdout
    assert '    add @astoken.depends_on("shop.ops:double") to shop.run:Runner.run' in result.stdout


def test_declaring_the_dependency_covers_it(tmp_path: Path) -> None:
    project = write_tree(tmp_path / "shop", {**SHOP, "shop/run.py": FIXED_RUN})
    result, data = run_pytest(project, "-k", "test_dynamic and not fixture")
    assert result.returncode == 0, result.stdout + result.stderr
    assert figures(by_test(data)["test_dynamic"]) == (3, 3, [])
    assert data["summary"]["pooled_recall"] == 1.0


def test_the_analysis_ignores_the_suites_warning_filters(tmp_path: Path) -> None:
    """A module only the closure step imports may warn; the suite's ``error`` filter, still
    active when the session ends, must not make that import fail (the analysis would then
    lose the module's live objects)."""
    run = textwrap.dedent(SHOP["shop/run.py"])
    run = run.replace(
        "class Runner:\n    def run(self, name, x):\n",
        "class Runner:\n    def legacy(self):\n        from shop import legacy\n\n"
        "        return legacy.old()\n\n    def run(self, name, x):\n"
        '        if name == "old":\n            return self.legacy()\n',
    )
    files = {
        **SHOP,
        "pytest.ini": "[pytest]\nfilterwarnings = error\n",
        "shop/run.py": run,
        "shop/legacy.py": """\
            import warnings

            warnings.warn("shop.legacy is deprecated", DeprecationWarning, stacklevel=1)


            def old():
                return 1
            """,
        "tests/conftest.py": textwrap.dedent(SHOP["tests/conftest.py"])
        + "\n\ndef pytest_unconfigure(config):\n"
        + "    import sys\n\n    print('LEGACY', 'shop.legacy' in sys.modules)\n",
    }
    project = write_tree(tmp_path / "strict", files)
    result, data = run_pytest(project, "-s", "-k", "test_dynamic and not fixture")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "LEGACY True" in result.stdout
    assert figures(by_test(data)["test_dynamic"]) == (3, 2, ["shop.ops:double"])


SETUPS = {
    "pytest.ini": "[pytest]\n",
    "lib/__init__.py": "",
    "lib/core.py": '''\
        def make_state():
            return {"n": 1}


        def read_state(state):
            return state["n"]


        def hook_helper():
            return None


        def module_helper():
            return 0


        def unittest_helper():
            return 2


        def base_helper():
            return 3


        def documented():
            """
            >>> documented()
            1
            """
            return 1
        ''',
    "tests/__init__.py": "",
    "tests/conftest.py": """\
        from lib import core


        def pytest_runtest_setup(item):
            core.hook_helper()
        """,
    "tests/base.py": """\
        from lib import core


        class BaseChecks:
            def test_inherited(self):
                assert core.base_helper() == 3
        """,
    "tests/test_setups.py": """\
        import unittest

        import pytest

        from lib import core
        from tests.base import BaseChecks


        def setup_module(module):
            core.module_helper()


        class TestState:
            def setup_method(self, method):
                self.state = core.make_state()

            def test_reads_state(self):
                assert core.read_state(self.state) == 1


        class TestInherits(BaseChecks):
            pass


        class TestCaseStyle(unittest.TestCase):
            def setUp(self):
                self.value = core.unittest_helper()

            def test_value(self):
                self.assertEqual(self.value, 2)


        @pytest.mark.skip(reason="not audited")
        def test_skipped():
            core.make_state()
        """,
}


def test_plugin_roots_xunit_unittest_inheritance_hooks_and_skips(tmp_path: Path) -> None:
    project = write_tree(tmp_path / "setups", SETUPS)
    result, data = run_pytest(project, "--doctest-modules", "lib", "tests")
    assert result.returncode == 0, result.stdout + result.stderr
    tests = by_test(data)
    assert set(tests) == {"test_reads_state", "test_inherited", "test_value"}
    # setup_module ran in the first test of the module; setup_method before each test.
    assert figures(tests["test_reads_state"]) == (6, 6, [])
    assert "tests.test_setups:setup_module" in tests["test_reads_state"]["roots"]
    assert "tests.test_setups:TestState.setup_method" in tests["test_reads_state"]["roots"]
    # An inherited test runs as BaseChecks.test_inherited, analysed through the subclass.
    assert figures(tests["test_inherited"]) == (2, 2, [])
    assert "tests.test_setups:TestInherits.test_inherited" in tests["test_inherited"]["roots"]
    assert figures(tests["test_value"]) == (3, 3, [])
    assert "tests.test_setups:TestCaseStyle.setUp" in tests["test_value"]["roots"]
    # The conftest hook and its helper ran in every test, but not from the test: outside.
    assert {t["outside"] for t in data["tests"]} == {2}
    # The skipped test and the doctest are not audited.
    assert data["summary"]["skipped"] == 2
    assert data["summary"]["pooled_recall"] == 1.0


def test_plugin_under_xdist_gives_the_same_report(
    shop_audited: tuple[subprocess.CompletedProcess[str], dict[str, Any]], tmp_path: Path
) -> None:
    _, plain = shop_audited
    assert plain  # the plain run wrote its report
    project = write_tree(tmp_path / "shop", SHOP)
    result, distributed = run_pytest(project, "-p", "xdist", "-n", "2")
    assert result.returncode == 0, result.stdout + result.stderr
    assert distributed == plain


def test_plugin_is_inert_without_its_option(tmp_path: Path) -> None:
    project = write_tree(tmp_path / "shop", SHOP)
    probe = textwrap.dedent(
        """\
        import sys
        import pytest
        code = pytest.main(["-q", "-p", "no:cacheprovider", "-p", "astoken.pytest_plugin"])
        loaded = sorted(m for m in sys.modules if m.startswith(("astoken._audit", "libcst",
                        "networkx", "astoken.render")))
        print("LOADED", int(code), loaded, sys.getprofile())
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", probe],
        cwd=project,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert "LOADED 0 [] None" in result.stdout, result.stdout + result.stderr
    assert "astoken audit" not in result.stdout
    assert not (project / "audit.json").exists()


# --------------------------------------------------------------------------------------------
# astoken audit (the command line runs pytest in a child interpreter).
# --------------------------------------------------------------------------------------------


def run_cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = cli.main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def shop(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    project = write_tree(tmp_path / "shop", SHOP)
    monkeypatch.chdir(project)
    return project


def test_cli_audit_prints_the_report_and_pytest_goes_to_stderr(
    shop: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # A recall above --fail-under is OK (below it: test_cli_audit_json_to_file_and_fail_under).
    code, out, err = run_cli(
        capsys, "audit", "--fail-under", "0.9", "--", "-p", "no:cacheprovider", "-q"
    )
    assert code == cli.ExitCode.OK, err
    assert out.startswith("astoken audit: 5 tests, pooled recall 0.929, median closure/ran ")
    assert "tests with misses or errors (1 of 5):\n  tests/test_shop.py::test_dynamic" in out
    assert "      called from shop.run:Runner.run at shop/run.py:8 (in the closure)\n" in out
    assert "5 passed" in err  # pytest's own output
    assert "pooled recall" not in err  # the plugin's terminal section is left out


def test_cli_audit_json_to_file_and_fail_under(
    shop: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    output = shop / "report.json"
    code, out, _ = run_cli(
        capsys,
        "audit",
        "--format",
        "json",
        "-o",
        str(output),
        "--fail-under",
        "0.95",
        "--",
        "-p",
        "no:cacheprovider",
    )
    assert (code, out) == (cli.ExitCode.RECALL_BELOW, "")
    report = report_from_dict(json.loads(output.read_text()))
    assert isinstance(report, AuditReport)
    assert report.summary.missed == 1


def test_cli_audit_warns_about_failing_tests(
    shop: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (shop / "tests" / "test_fails.py").write_text("def test_fails():\n    assert False\n")
    code, out, err = run_cli(capsys, "audit", "--", "-p", "no:cacheprovider")
    assert code == cli.ExitCode.OK
    assert out.startswith("astoken audit: 6 tests")
    assert err.splitlines()[-1] == (
        "astoken: warning: some tests failed (pytest exit code 1); the figures cover what ran"
    )


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        pytest.param(
            ["no_such_dir"], "pytest was given a bad command line (pytest exit code 4)", id="usage"
        ),
        pytest.param(
            ["-k", "nothing_matches"],
            "pytest collected no tests (pytest exit code 5)",
            id="no-tests",
        ),
    ],
)
def test_cli_audit_pytest_failures_are_errors(
    shop: Path, capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    code, out, err = run_cli(capsys, "audit", "--", "-p", "no:cacheprovider", *argv)
    assert (code, out) == (cli.ExitCode.ERROR, "")
    assert err.splitlines()[-1] == f"astoken: error: {message}"


def test_cli_audit_passes_options_to_the_plugin(tmp_path: Path) -> None:
    args = cli.build_parser().parse_args(
        ["--include", "a.*", "--exclude", "b", "--static", "--no-cache", "audit", "--", "-x", "t"]
    )
    command = cli._pytest_command(args, str(tmp_path / "r.json"))
    assert command[:5] == [sys.executable, "-m", "pytest", "-p", "astoken.pytest_plugin"]
    assert command[5:] == [
        "--astoken-audit-json",
        str(tmp_path / "r.json"),
        "--astoken-audit-no-summary",
        "--astoken-audit-include=a.*",
        "--astoken-audit-exclude=b",
        "--astoken-audit-static",
        "--astoken-audit-no-cache",
        "-x",
        "t",
    ]


#: The project of docs/how-to/audit.md: a package next to a tests/ folder with no __init__.py,
#: which finds the package only when the directory pytest runs from is on the import path.
HOW_TO = {
    "calc/__init__.py": "",
    "calc/ops.py": "def double(x):\n    return 2 * x\n\n\ndef square(x):\n    return x * x\n",
    "calc/run.py": (
        "from calc import ops\n\n\ndef apply(name, x):\n    return getattr(ops, name)(x)\n\n\n"
        "def total(values):\n    return sum(ops.square(v) for v in values)\n"
    ),
    "tests/test_run.py": (
        "from calc.run import apply, total\n\n\ndef test_apply():\n"
        '    assert apply("double", 2) == 4\n\n\ndef test_total():\n'
        "    assert total([1, 2]) == 5\n"
    ),
}


def test_pytest_audit_finds_what_astoken_audit_finds(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Issue 23, item 12: ``pytest --astoken-audit`` (the console script, whose import path
    does not start at the working directory) audits the how-to's project as ``astoken audit``
    (``python -m pytest``) does: the audit puts the directory pytest runs from first on the
    import path, as ``python -m pytest`` and the astoken command do."""
    project = write_tree(tmp_path / "howto", HOW_TO)
    report = project / "audit.json"
    # -I: no working directory on sys.path, as in the ``pytest`` console script.
    script = [
        sys.executable,
        "-I",
        "-B",
        "-c",
        "import sys, pytest; sys.exit(pytest.console_main())",
    ]
    plain = subprocess.run(
        [*script, "-p", "no:cacheprovider", "-p", "astoken.pytest_plugin"],
        cwd=project,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert "No module named 'calc'" in plain.stdout  # pytest alone: the how-to's layout fails
    audited = subprocess.run(
        [
            *script,
            "-p",
            "no:cacheprovider",
            "-p",
            "astoken.pytest_plugin",
            f"--astoken-audit-json={report}",
        ],
        cwd=project,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert audited.returncode == 0, audited.stdout + audited.stderr
    monkeypatch.chdir(project)
    code, out, err = run_cli(capsys, "audit", "--format", "json", "--", "-p", "no:cacheprovider")
    assert code == cli.ExitCode.OK, err
    assert json.loads(report.read_text())["summary"] == json.loads(out)["summary"]
    assert json.loads(out)["summary"]["pooled_recall"] == 5 / 6
