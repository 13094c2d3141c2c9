"""``pytest --astoken-select`` on a real project, run by pytest in a child process (rules 1-5
of ``astoken._pytest_select``)."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from _fresh import REPO_ROOT

PROJECT = {
    "lib/__init__.py": "",
    "lib/core.py": """
        from lib.deep import double

        def area(w, h):
            # width times height
            return double(w * h) // 2
    """,
    "lib/deep.py": """
        def double(x):
            return x * 2
    """,
    "lib/util.py": """
        def make_box():
            return {"w": 2, "h": 3}
    """,
    "tests/conftest.py": """
        import pytest
        from lib.util import make_box

        @pytest.fixture
        def box():
            return make_box()
    """,
    "tests/test_shapes.py": """
        import pytest
        from lib.core import area

        def test_area():
            assert area(2, 3) == 6

        def test_box(box):
            assert box["w"] == 2

        def test_plain():
            assert 1 + 1 == 2

        @pytest.mark.parametrize("n", [1, 2], ids=["one", "two"])
        def test_param(n):
            assert n > 0

        class TestGroup:
            def setup_method(self):
                self.value = area(1, 1)

            def test_value(self):
                assert self.value == 1
    """,
}

ALL = {
    "tests/test_shapes.py::test_area",
    "tests/test_shapes.py::test_box",
    "tests/test_shapes.py::test_plain",
    "tests/test_shapes.py::test_param[one]",
    "tests/test_shapes.py::test_param[two]",
    "tests/test_shapes.py::TestGroup::test_value",
}


def _write_project(root: Path, files: dict[str, str]) -> Path:
    """The project's files under ``root``, with pytest told to import from it."""
    for relative, source in files.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(source), encoding="utf-8")
    (root / "pyproject.toml").write_text(
        '[tool.pytest.ini_options]\npythonpath = ["."]\n', encoding="utf-8"
    )
    return root


@pytest.fixture
def project(tmp_path: Path) -> Path:
    return _write_project(tmp_path, PROJECT)


def _pytest(root: Path, *args: str) -> tuple[int, set[str], str]:
    """Run pytest on the project; the exit code, the tests that ran, the output."""
    env = dict(os.environ)
    env["PYTHONPATH"] = str(REPO_ROOT)
    env["PYTHONDONTWRITEBYTECODE"] = "1"  # equal-size edits within a second stay visible
    env["ASTOKEN_CACHE_DIR"] = str(root / ".summaries")
    # Only the plugins named with -p: the other installed pytest plugins (hypothesis, hydra,
    # testmon, ...) play no part in what these tests check, and importing them cost each of
    # the ~40 child runs about two seconds of its three.
    env["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = "1"
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "astoken.pytest_plugin", "-rA", "-q", *args],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    ran = set(re.findall(r"^(?:PASSED|FAILED|ERROR|XFAIL|SKIPPED) (\S+)", done.stdout, re.M))
    return done.returncode, ran, done.stdout + done.stderr


def _edit(root: Path, relative: str, old: str, new: str) -> None:
    path = root / relative
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new), encoding="utf-8")


def _recorded(root: Path) -> dict[str, str]:
    path = root / ".pytest_cache" / "v" / "astoken" / "select"
    return json.loads(path.read_text()) if path.exists() else {}


def test_only_changed_tests_run(project: Path) -> None:
    code, ran, out = _pytest(project, "--astoken-select")
    assert (code, ran) == (0, ALL), out
    assert "astoken: 0 tests unchanged since they last passed, deselected" in out
    assert set(_recorded(project)) == ALL
    code, ran, out = _pytest(project, "--astoken-select")
    assert (code, ran) == (0, set()), out  # nothing changed is a success, not "no tests"
    assert "6 deselected" in out
    # A comment: nothing runs.
    _edit(project, "lib/core.py", "# width times height", "# the area")
    assert _pytest(project, "--astoken-select")[1] == set()
    # A helper two modules away from the tests that use it.
    _edit(project, "lib/deep.py", "x * 2", "x + x")
    code, ran, out = _pytest(project, "--astoken-select")
    assert ran == {"tests/test_shapes.py::test_area", "tests/test_shapes.py::TestGroup::test_value"}
    # A fixture's helper (conftest -> lib.util): the test using the fixture.
    _edit(project, "lib/util.py", '"w": 2', '"w": 2.0')
    assert _pytest(project, "--astoken-select")[1] == {"tests/test_shapes.py::test_box"}
    # A parameter value under the same id.
    _edit(project, "tests/test_shapes.py", "[1, 2]", "[1, 3]")
    assert _pytest(project, "--astoken-select")[1] == {"tests/test_shapes.py::test_param[two]"}


def test_a_failed_test_runs_until_it_passes(project: Path) -> None:
    assert _pytest(project, "--astoken-select")[0] == 0
    _edit(project, "lib/deep.py", "x * 2", "x * 3")
    code, ran, _ = _pytest(project, "--astoken-select")
    assert code == 1
    assert "tests/test_shapes.py::test_area" in ran
    assert "tests/test_shapes.py::test_area" not in _recorded(project)
    _edit(project, "lib/deep.py", "x * 3", "x * 2")  # back to the code that passed
    code, ran, _ = _pytest(project, "--astoken-select")
    assert code == 0
    assert ran == {"tests/test_shapes.py::test_area", "tests/test_shapes.py::TestGroup::test_value"}


def test_inert_without_the_option(project: Path) -> None:
    code, ran, _ = _pytest(project)
    assert (code, ran) == (0, ALL)
    assert _recorded(project) == {}
    assert "astoken" not in " ".join(
        sys.modules.get("astoken._pytest_select", "").__class__.__name__
    )


def test_under_xdist_the_controller_records(project: Path) -> None:
    xdist = ("-p", "xdist", "-n", "2")  # named: the child loads no plugin by itself
    code, ran, out = _pytest(project, "--astoken-select", *xdist)
    assert code == 0, out
    assert set(_recorded(project)) == ALL
    code, ran, out = _pytest(project, "--astoken-select", *xdist)
    assert ran == set(), out
    _edit(project, "lib/util.py", '"w": 2', '"w": 2.0')
    assert _pytest(project, "--astoken-select", *xdist)[1] == {"tests/test_shapes.py::test_box"}


def test_a_suite_whose_warnings_are_errors(project: Path) -> None:
    """Unresolved references warn while tokens are computed (here: a parameter's class that
    calls through getattr); a suite with ``filterwarnings = error`` must still run."""
    (project / "lib" / "dyn.py").write_text(
        "class Op:\n    def __init__(self, name):\n        self.name = name\n\n"
        "    def run(self, x):\n        return getattr(self, self.name)(x)\n\n"
        "    def neg(self, x):\n        return -x\n",
        encoding="utf-8",
    )
    (project / "tests" / "test_dyn.py").write_text(
        "import pytest\nfrom lib.dyn import Op\n\n"
        "@pytest.mark.parametrize('op', [Op('neg')])\n"
        "def test_op(op):\n    assert op.run(1) == -1\n",
        encoding="utf-8",
    )
    (project / "pyproject.toml").write_text(
        '[tool.pytest.ini_options]\npythonpath = ["."]\nfilterwarnings = ["error"]\n',
        encoding="utf-8",
    )
    code, ran, out = _pytest(project, "--astoken-select", "tests/test_dyn.py")
    assert (code, ran) == (0, {"tests/test_dyn.py::test_op[op0]"}), out
    assert _pytest(project, "--astoken-select", "tests/test_dyn.py")[:2] == (0, set())


def test_closure_tokens_are_behavior_tokens(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The one-build tokens of the selection are each target's behavior token."""
    import astoken
    from astoken import _pipeline

    monkeypatch.syspath_prepend(str(project))
    before = set(sys.modules)
    try:
        targets = [
            "tests.test_shapes:test_area",
            "tests.test_shapes:TestGroup.setup_method",
            "tests.conftest:box",
            "lib.core:area",
        ]
        tokens = _pipeline.closure_tokens(targets)
        assert tokens == {t: astoken.behavior_token(t) for t in targets}
        assert None not in tokens.values()
    finally:
        for name in set(sys.modules) - before:
            del sys.modules[name]


POOLED = {
    "lib/__init__.py": "",
    "lib/shapes.py": """
        class Rect:
            def __init__(self, w, h):
                self.w, self.h = w, h

            def area(self):
                return self.w * self.h

            def scaled(self, k):
                return Rect(self.w * k, self.h * k)
    """,
    "tests/conftest.py": """
        import pytest
        from lib.shapes import Rect

        @pytest.fixture
        def rect():
            return Rect(2, 3)
    """,
    "tests/test_rect.py": """
        class TestRect:
            def setup_method(self):
                from lib.shapes import Rect
                self.made = Rect(1, 1)

            def test_scaled(self, rect):
                assert rect.scaled(2).w == 4

            def test_made(self):
                assert self.made.scaled(3).h == 3
    """,
}


def test_a_method_named_by_the_test_on_an_object_its_fixture_made(tmp_path: Path) -> None:
    """Rule 1: the roots are taken together. The fixture (or xunit setup) creates the Rect, the
    test names ``.scaled``: neither root's own closure holds ``Rect.scaled`` (coverage.md rule
    1: a method runs on an object only where code names it), so an edit of it must still
    select both tests, and then fail them, not skip them."""
    _write_project(tmp_path, POOLED)
    both = {"tests/test_rect.py::TestRect::test_scaled", "tests/test_rect.py::TestRect::test_made"}
    assert _pytest(tmp_path, "--astoken-select")[:2] == (0, both)
    assert _pytest(tmp_path, "--astoken-select")[:2] == (0, set())
    _edit(tmp_path, "lib/shapes.py", "Rect(self.w * k, self.h * k)", "Rect(self.w + k, self.h)")
    code, ran, out = _pytest(tmp_path, "--astoken-select")
    assert (code, ran) == (1, both), out


def _work(out: str) -> dict[str, int]:
    """The work line of ``--astoken-select``: graphs built and replayed, closures walked,
    definitions hashed, tokens combined."""
    found = re.search(
        r"astoken: graphs built (\d+), replayed (\d+); closures walked (\d+); "
        r"definitions hashed (\d+); tokens combined (\d+)",
        out,
    )
    assert found is not None, out
    keys = ("built", "replayed", "walked", "hashed", "combined")
    return dict(zip(keys, map(int, found.groups()), strict=True))


def test_a_warm_run_replays_the_kept_build(project: Path) -> None:
    """Nothing changed: the build kept by the last run is replayed (no graph built, no closure
    walked) and each definition is hashed once, however many closures hold it. An edit that
    changes no reference keeps the build; one that adds a reference builds the graph again.
    Either way the tests whose closure holds the edited function run."""
    code, ran, out = _pytest(project, "--astoken-select")
    assert (code, ran) == (0, ALL), out
    first = _work(out)
    scopes = first["built"]  # one build per first-party scope: the test module, the conftest
    assert (scopes, first["replayed"], first["walked"]) == (2, 0, 6)
    code, ran, out = _pytest(project, "--astoken-select")
    assert (code, ran) == (0, set()), out
    warm = _work(out)
    assert (warm["built"], warm["replayed"], warm["walked"]) == (0, scopes, 0)
    assert warm["hashed"] == first["hashed"]
    assert warm["combined"] <= len(ALL)
    users = {"tests/test_shapes.py::test_area", "tests/test_shapes.py::TestGroup::test_value"}
    _edit(project, "lib/deep.py", "x * 2", "x * 2.0")  # same references, same summary
    code, ran, out = _pytest(project, "--astoken-select")
    assert (ran, _work(out)["built"], _work(out)["replayed"]) == (users, 0, scopes), out
    # A new reference: the scope whose build read lib/deep.py builds again, the other not.
    _edit(project, "lib/deep.py", "x * 2.0", "abs(x) * 2")
    code, ran, out = _pytest(project, "--astoken-select")
    assert (ran, _work(out)["built"], _work(out)["replayed"]) == (users, 1, scopes - 1), out
    assert _work(_pytest(project, "--astoken-select")[2])["replayed"] == scopes


PARAMETERS = {
    "lib/__init__.py": "",
    "lib/ops.py": """
        class Double:
            def apply(self, x):
                return x * 2

        class Square:
            def apply(self, x):
                return x * x
    """,
    "tests/test_ops.py": """
        import pytest
        from lib.ops import Double, Square

        @pytest.mark.parametrize("op", [Double(), Square()], ids=["double", "square"])
        def test_op(op):
            assert op.apply(2) == 4

        @pytest.mark.parametrize("cls", [Square, Double], ids=["square", "double"])
        def test_class(cls):
            assert cls is not None
    """,
}


def test_a_parameter_class_is_a_root_of_the_test(tmp_path: Path) -> None:
    """Rule 1: a first-party class in a parameter value (given, or an instance's) is covered
    by its behavior, taken among the test's roots: an edit of one of its methods selects the
    tests it is a parameter of, and no graph is built for it alone (one build per scope: the
    test module's, and lib's for the classes)."""
    _write_project(tmp_path, PARAMETERS)
    code, ran, out = _pytest(tmp_path, "--astoken-select")
    assert (code, len(ran), _work(out)["built"]) == (0, 4, 2), out
    assert _pytest(tmp_path, "--astoken-select")[:2] == (0, set())
    _edit(tmp_path, "lib/ops.py", "return x * x", "return x ** 2")
    code, ran, out = _pytest(tmp_path, "--astoken-select")
    # test_op's decorator makes both objects and the test names .apply on its parameter: its
    # closure holds every apply (coverage.md rule 4), whichever object it is given.
    assert ran == {
        "tests/test_ops.py::test_op[square]",
        "tests/test_ops.py::test_op[double]",
        "tests/test_ops.py::test_class[square]",
    }
    assert _work(out)["built"] + _work(out)["replayed"] == 2
