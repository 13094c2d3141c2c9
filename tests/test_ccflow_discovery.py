"""astoken.ccflow through the real orchestrator: the helpers astoken discovers for a class are
added to ccflow's token, on packages on disk (no fake of ``astoken._pipeline``)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any

import pytest
from _fresh import run_fresh

from astoken import _api, _pipeline
from astoken.ccflow import compute_behavior_token
from astoken.errors import TargetTypeError, UnresolvedReferenceWarning

if TYPE_CHECKING:
    from conftest import ImportFrom, MakePackage

_MODULE = """\
def helper_a():
    return 1


def helper_b():
    return 2


class Base:
    def __call__(self):
        return helper_a()


class Inherits(Base):
    pass


class Overrides(Base):
    def __call__(self):
        return helper_b()


class Parent:
    __ccflow_tokenizer_deps__ = (helper_a,)

    def f(self):
        return 1


class Child(Parent):
    __ccflow_tokenizer_deps__ = (helper_b,)


class Both:
    __ccflow_tokenizer_deps__ = (helper_b, helper_a)

    def f(self):
        return 1


class InitOnly:
    def __init__(self):
        self.value = helper_a()


class Plain:
    def __init__(self):
        self.value = 1
"""


@pytest.fixture
def mod(make_package: MakePackage, import_from: ImportFrom) -> ModuleType:
    root = make_package({"ccd_pkg/__init__.py": "", "ccd_pkg/mod.py": _MODULE})
    return import_from(root, "ccd_pkg.mod")


def test_helpers_are_discovered_by_the_orchestrator(mod: ModuleType) -> None:
    assert [name for name, _ in _pipeline.discovered_dependency_tokens(mod.Base)] == [
        "ccd_pkg.mod:helper_a"
    ]


def test_inherited_members_are_methods_not_discovered_helpers(mod: ModuleType) -> None:
    """ccflow collects methods over the MRO: a subclass that adds nothing has its base's
    token, and the base's members are not counted a second time as discovered helpers."""
    assert compute_behavior_token(mod.Inherits) == compute_behavior_token(mod.Base)
    assert compute_behavior_token(mod.Overrides) != compute_behavior_token(mod.Base)
    assert _pipeline.discovered_dependency_tokens(mod.Inherits) == (
        _pipeline.discovered_dependency_tokens(mod.Base)
    )


def test_declared_deps_over_the_mro_with_discovery(mod: ModuleType) -> None:
    assert compute_behavior_token(mod.Child) == compute_behavior_token(mod.Both)
    assert compute_behavior_token(mod.Child) != compute_behavior_token(mod.Parent)


def test_a_helper_called_from_skipped_boilerplate_still_counts(mod: ModuleType) -> None:
    """``__init__`` is not one of ccflow's methods, but what it calls is behavior."""
    assert compute_behavior_token(mod.Plain) is None
    assert compute_behavior_token(mod.InitOnly) is not None


def test_a_class_without_source_has_ccflow_token() -> None:
    """A class built at runtime has no source for the graph: its methods alone count."""

    def build() -> type:
        namespace: dict[str, object] = {"__name__": "ccd_generated"}
        exec("class Dyn:\n    def f(self):\n        return 1\n", namespace)
        built = namespace["Dyn"]
        assert isinstance(built, type)
        return built

    first, second = build(), build()
    assert first is not second
    # Its code is hashed from the live methods; what they call on objects cannot be read.
    with pytest.warns(UnresolvedReferenceWarning, match="no source"):
        token = compute_behavior_token(first)
    with pytest.warns(UnresolvedReferenceWarning, match="no source"):
        again = compute_behavior_token(second)
    assert token is not None
    assert token == again


@pytest.mark.parametrize(
    "value",
    [pytest.param(len, id="builtin"), pytest.param(_api.behavior_token, id="function")],
)
def test_anything_but_a_class_is_a_type_error(value: object) -> None:
    """ccflow's contract takes classes: a clear TypeError, not ``AttributeError: __mro__``."""
    with pytest.raises(TypeError, match="not a class") as info:
        compute_behavior_token(value)  # type: ignore[arg-type]
    assert isinstance(info.value, TargetTypeError)


# --------------------------------------------------------------------------------------------
# End to end, in fresh interpreters (no state shared with this one)
# --------------------------------------------------------------------------------------------

_PACKAGE_MODULE = """
def helper(x):
    {comment}
    return x + {increment}


class Model:
    def __call__(self, x):
        return helper(x)
"""

_PRINT_TOKEN = (
    "import sys\nsys.path.insert(0, sys.argv[1])\nimport ccflow_e2e_pkg.mod as m\n"
    "from astoken.ccflow import compute_behavior_token\nprint(compute_behavior_token(m.Model))\n"
)


def _token_in_fresh_interpreter(tmp_path: Path, name: str, increment: int, comment: str) -> str:
    root = tmp_path / name
    package = root / "ccflow_e2e_pkg"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text("", encoding="utf-8")
    source = _PACKAGE_MODULE.format(increment=increment, comment=comment)
    (package / "mod.py").write_text(source, encoding="utf-8")
    repo = str(Path(__file__).resolve().parent.parent)
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [repo, env.get("PYTHONPATH", "")]))
    proc = subprocess.run(
        [sys.executable, "-c", _PRINT_TOKEN, str(root)],
        capture_output=True,
        text=True,
        check=False,
        env=env,
        cwd=tmp_path,
    )
    assert proc.returncode == 0, proc.stderr
    return proc.stdout.strip()


def test_discovered_helper_change_reaches_the_token(tmp_path: Path) -> None:
    """A helper no ``__ccflow_tokenizer_deps__`` lists still counts: astoken finds it."""
    before = _token_in_fresh_interpreter(tmp_path, "before", 1, "")
    cosmetic = _token_in_fresh_interpreter(tmp_path, "cosmetic", 1, "# a comment")
    after = _token_in_fresh_interpreter(tmp_path, "after", 2, "")
    assert len(before) == 64
    assert before == cosmetic
    assert before != after


# --------------------------------------------------------------------------------------------
# Classes defined in a function (issue 23, item 1)
# --------------------------------------------------------------------------------------------

_LOCAL_CLASSES = """
def helper():
    return {helper}


def unrelated():
    return 0


def make():
    {around}

    class Base:
        def __call__(self):
            return helper()

    class Sub(Base):
        pass

    class Sibling(Base):
        def other(self):
            return 2

    return Base, Sub
"""

_LOCAL_TOKENS = """
import json, sys
import ccflow_local_pkg.mod as m
from astoken import _pipeline
from astoken.ccflow import compute_behavior_token
base, sub = m.make()
print(json.dumps({
    "base": compute_behavior_token(base),
    "sub": compute_behavior_token(sub),
    "discovered": [[n for n, _ in _pipeline.discovered_dependency_tokens(c)] for c in (base, sub)],
}))
"""


def _local_class_tokens(tmp_path: Path, name: str, helper: int, around: str) -> dict[str, Any]:
    root = tmp_path / name
    package = root / "ccflow_local_pkg"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text("", encoding="utf-8")
    source = _LOCAL_CLASSES.format(helper=helper, around=around)
    (package / "mod.py").write_text(source, encoding="utf-8")
    result: dict[str, Any] = run_fresh(_LOCAL_TOKENS, paths=[root], cwd=tmp_path)
    return result


def test_a_class_defined_in_a_function_is_hashed_as_ccflow_does(tmp_path: Path) -> None:
    """ccflow's contract holds for classes defined in a function: a subclass that only
    inherits ``__call__`` has its base's token and reaches the base's helpers, and the code
    around the classes (the function defining them, a sibling class) is not part of it."""
    before = _local_class_tokens(tmp_path, "before", 1, "unrelated()")
    assert before["discovered"] == [["ccflow_local_pkg.mod:helper"]] * 2
    assert before["sub"] == before["base"]
    helper_edited = _local_class_tokens(tmp_path, "helper", 2, "unrelated()")
    assert helper_edited["base"] != before["base"]
    assert helper_edited["sub"] != before["sub"]
    around_edited = _local_class_tokens(tmp_path, "around", 1, "unrelated() + 1")
    assert (around_edited["base"], around_edited["sub"]) == (before["base"], before["sub"])
