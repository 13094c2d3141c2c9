"""Locating targets (guarantees in astoken/_targets.py's docstring)."""

from __future__ import annotations

import functools
import importlib.util
import json
import os
import sys
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

import astoken
from astoken import render
from astoken.errors import ImportFailedError, TargetNotFoundError

if TYPE_CHECKING:
    from conftest import ImportFrom, MakePackage

UTIL_A = "def f():\n    return 'A'\n"
UTIL_B = "def f():\n    return 'B'\n"
SCRIPT = "def dumps(value):\n    return 'my own ' + repr(value)\n"


@pytest.fixture(autouse=True)
def _no_leftovers() -> object:
    """Every test here must leave sys.path and the standard library's json as it found them."""
    path = list(sys.path)
    yield
    assert sys.path == path
    assert sys.modules["json"] is json
    for name in ("util", "mine"):
        sys.modules.pop(name, None)


def test_same_module_name_in_two_directories(make_package: MakePackage) -> None:
    """Guarantee 1: ``A/util.py:f`` then ``B/util.py:f`` are two files, two tokens."""
    root = make_package({"A/util.py": UTIL_A, "B/util.py": UTIL_B, "C/util.py": UTIL_A})
    first = astoken.behavior_token(f"{root}/A/util.py:f")
    second = astoken.behavior_token(f"{root}/B/util.py:f")
    assert first != second
    assert astoken.behavior_token(f"{root}/A/util.py:f") == first
    # Same code in a third directory: the same token (the directory is not part of it).
    assert astoken.behavior_token(f"{root}/C/util.py:f") == first
    assert astoken.dependencies(f"{root}/B/util.py:f") == ()


def test_relative_path_targets_follow_the_working_directory(
    make_package: MakePackage, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = make_package({"A/util.py": UTIL_A, "B/util.py": UTIL_B})
    monkeypatch.chdir(root / "A")
    first = astoken.behavior_token("util.py:f")
    monkeypatch.chdir(root / "B")
    assert astoken.behavior_token("util.py:f") != first


def test_script_named_like_a_standard_module(make_package: MakePackage) -> None:
    """Guarantee 1: ``scripts/json.py:dumps`` is that file, not the standard library's json."""
    root = make_package({"scripts/json.py": SCRIPT, "other/mine.py": SCRIPT})
    token = astoken.behavior_token(f"{root}/scripts/json.py:dumps")
    assert token == astoken.behavior_token(f"{root}/other/mine.py:dumps")
    assert astoken.dependencies(f"{root}/scripts/json.py:dumps", static=True) == ()
    assert json.dumps([1]) == "[1]"


def test_a_name_the_interpreter_owns_is_refused(make_package: MakePackage) -> None:
    root = make_package({"scripts/sys.py": SCRIPT})
    with pytest.raises(TargetNotFoundError, match="interpreter's own 'sys' module"):
        astoken.behavior_token(f"{root}/scripts/sys.py:dumps")


def test_path_targets_in_threads(make_package: MakePackage) -> None:
    """Guarantee 2 under threads: every call's root is on sys.path while it runs, and taken
    off when the last one is done."""
    files = {f"d{i}/pkg{i}/__init__.py": "" for i in range(8)}
    files.update({f"d{i}/pkg{i}/mod.py": f"def f():\n    return {i}\n" for i in range(8)})
    root = make_package(files)
    specs = [f"{root}/d{i}/pkg{i}/mod.py:f" for i in range(8)]
    expected = [astoken.explain(spec).token for spec in specs]
    for i in range(8):
        sys.modules.pop(f"pkg{i}.mod", None)
        sys.modules.pop(f"pkg{i}", None)
    results: dict[int, str | None] = {}
    errors: list[BaseException] = []

    def work(i: int) -> None:
        try:
            results[i] = astoken.explain(specs[i]).token
        except BaseException as exc:  # reported by the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)
    assert errors == []
    assert [results[i] for i in range(8)] == expected
    for i in range(8):
        sys.modules.pop(f"pkg{i}.mod", None)
        sys.modules.pop(f"pkg{i}", None)


def test_sys_path_holds_still_while_an_import_searches_it(make_package: MakePackage) -> None:
    """The race behind a rare "no module named" under threads: a path target taking its root
    off ``sys.path`` while another thread's import walked the list made that walk skip an
    entry. Roots now go on and off only between searches."""
    root = make_package({"d/pkgz/__init__.py": "", "d/pkgz/mod.py": "def f():\n    return 1\n"})
    spec = f"{root}/d/pkgz/mod.py:f"
    searching, worker_started = threading.Event(), threading.Event()
    seen: list[tuple[list[str], list[str]]] = []

    class Probe:
        """A finder that stays in its search until the path target's call has begun."""

        def find_spec(self, name: str, path: object = None, target: object = None) -> None:
            if name == "astoken_probe_module":
                before = list(sys.path)
                searching.set()
                worker_started.wait(30)
                time.sleep(0.5)  # the call would have put its root on sys.path by now
                seen.append((before, list(sys.path)))

    def search() -> None:
        assert importlib.util.find_spec("astoken_probe_module") is None

    def token() -> None:
        worker_started.set()
        tokens.append(astoken.behavior_token(spec))

    tokens: list[str | None] = []
    probe = Probe()
    sys.meta_path.insert(0, probe)
    try:
        searcher = threading.Thread(target=search)
        searcher.start()
        assert searching.wait(30)
        worker = threading.Thread(target=token)
        worker.start()
        searcher.join(60)
        worker.join(60)
    finally:
        sys.meta_path.remove(probe)
        sys.modules.pop("pkgz.mod", None)
        sys.modules.pop("pkgz", None)
    assert len(seen) == 1
    assert seen[0][0] == seen[0][1]
    assert tokens == [astoken.behavior_token(spec)]
    sys.modules.pop("pkgz.mod", None)
    sys.modules.pop("pkgz", None)


@pytest.mark.parametrize(
    ("source", "shown"),
    [
        pytest.param("import sys\nsys.exit(0)\n", "SystemExit", id="sys-exit"),
        pytest.param("raise SystemExit('bye')\n", "SystemExit", id="system-exit-text"),
        pytest.param(
            "import pytest\npytest.importorskip('astoken_no_such_module')\n",
            "Skipped",
            id="pytest-skip",
        ),
        pytest.param("raise ValueError('bad config')\n", "ValueError: bad config", id="error"),
        pytest.param(
            "import astoken_no_such_dependency\n",
            "ModuleNotFoundError: No module named 'astoken_no_such_dependency'",
            id="missing-dependency",
        ),
    ],
)
def test_anything_raised_at_import_is_an_import_failure(
    make_package: MakePackage, source: str, shown: str
) -> None:
    """Guarantee 3: an astoken error naming the module, never SystemExit escaping."""
    root = make_package(
        {"quits/__init__.py": "", "quits/mod.py": source + "\ndef f():\n    pass\n"}
    )
    with pytest.raises(ImportFailedError) as caught:
        astoken.behavior_token(f"{root}/quits/mod.py:f")
    assert caught.value.module == "quits.mod"
    assert shown in str(caught.value)
    assert "quits.mod" not in sys.modules
    sys.modules.pop("quits", None)


def test_keyboard_interrupt_passes_through_the_api(make_package: MakePackage) -> None:
    """Guarantee 3: the API cannot tell a Ctrl-C from a raise, so it never swallows one."""
    root = make_package({"stops/__init__.py": "", "stops/mod.py": "raise KeyboardInterrupt\n"})
    with pytest.raises(KeyboardInterrupt):
        astoken.behavior_token(f"{root}/stops/mod.py:f")
    sys.modules.pop("stops", None)


def test_spec_paths_are_not_left_on_sys_path(make_package: MakePackage) -> None:
    root = make_package({"lib/tool.py": "def f():\n    return 1\n"})
    before = list(sys.path)
    astoken.behavior_token(f"{root}/lib/tool.py:f")
    astoken.dependency_graph(f"{root}/lib/tool.py")
    assert sys.path == before
    assert str(root / "lib") not in sys.path
    assert os.fspath(root / "lib") not in sys.path
    sys.modules.pop("tool", None)


def test_a_path_that_is_not_python_is_named_and_leaves_no_trace(tmp_path: Path) -> None:
    """Issue 8, item 16: ``/etc/passwd:x`` is not a module named 'pas', and sys.path is kept."""
    passwd = tmp_path / "etc" / "passwd"
    passwd.parent.mkdir()
    passwd.write_text("root:x:0:0:root:/root:/bin/sh\n")
    before = list(sys.path)
    with pytest.raises(TargetNotFoundError, match=r"passwd is not a \.py file"):
        astoken.behavior_token(f"{passwd}:x")
    assert sys.path == before


_PARTIALS = """\
import functools


def helper(x):
    return x + 1


def f(x, y=2):
    return helper(x) * y


def apply(fn, x, y=1):
    return fn(x) + y


def bound_helper(x):
    return x * 2


def declared_helper(x):
    return x - 1


def g(x):
    return x


part = functools.partial(f, y=3)
bound = functools.partial(apply, bound_helper, y=3)
"""


def test_a_partial_is_one_target_however_it_is_named(
    make_package: MakePackage, import_from: ImportFrom
) -> None:
    """Guarantee 4 (issue 8, item 17): the object and the string naming it agree."""
    root = make_package({"parts/__init__.py": "", "parts/mod.py": _PARTIALS})
    mod = import_from(root, "parts.mod")
    token = astoken.behavior_token(mod.part)
    assert token is not None
    assert astoken.behavior_token("parts.mod:part") == token
    assert astoken.behavior_token(functools.partial(mod.f, y=3)) == token
    assert astoken.behavior_token(functools.partial(mod.f, y=4)) != token
    assert astoken.dependencies("parts.mod:part") == astoken.dependencies(mod.part)
    # A function bound as an argument is called: it is a dependency of the partial.
    assert astoken.behavior_token("parts.mod:bound") == astoken.behavior_token(mod.bound)
    assert astoken.dependencies("parts.mod:bound") == ("parts.mod:bound_helper",)


def test_a_partial_declares_what_its_function_declares(
    make_package: MakePackage, import_from: ImportFrom
) -> None:
    root = make_package({"parts2/__init__.py": "", "parts2/mod.py": _PARTIALS})
    mod = import_from(root, "parts2.mod")
    astoken.depends_on(mod.declared_helper)(mod.g)
    assert astoken.dependencies(mod.g) == ("parts2.mod:declared_helper",)
    assert astoken.dependencies(functools.partial(mod.g, 1)) == ("parts2.mod:declared_helper",)


_HINTS = """\
def attrs(x):
    return x


class Model:
    def fit(self):
        return 1
"""


@pytest.mark.parametrize(
    ("spec", "static", "hint"),
    [
        pytest.param(
            "hints.mod.attrs", False, "did you mean 'hints.mod:attrs'?", id="dot-for-colon"
        ),
        pytest.param(
            "hints.mod.attrs", True, "did you mean 'hints.mod:attrs'?", id="dot-for-colon-static"
        ),
        pytest.param(
            "hints.mod.Model.fit",
            False,
            "did you mean 'hints.mod:Model.fit'?",
            id="dot-for-colon-method",
        ),
        pytest.param("hints.mod:atrs", False, "did you mean 'attrs'?", id="misspelt-name"),
        pytest.param("hints.mod:Model.fti", False, "did you mean 'fit'?", id="misspelt-member"),
    ],
)
def test_a_wrong_target_suggests_the_right_one(
    make_package: MakePackage, import_from: ImportFrom, spec: str, static: bool, hint: str
) -> None:
    """Issue 23, item 12: a near miss names the target that exists."""
    root = make_package({"hints/__init__.py": "", "hints/mod.py": _HINTS})
    import_from(root, "hints")
    with pytest.raises(TargetNotFoundError) as caught:
        astoken.dependencies(spec, static=static)
    assert hint in str(caught.value)


def test_a_dot_for_the_colon_is_not_suggested_when_that_does_not_exist(
    make_package: MakePackage, import_from: ImportFrom
) -> None:
    root = make_package({"hints2/__init__.py": "", "hints2/mod.py": _HINTS})
    import_from(root, "hints2")
    with pytest.raises(TargetNotFoundError) as caught:
        astoken.behavior_token("hints2.mod.nothing")
    assert "did you mean" not in str(caught.value)
    assert "no module named 'hints2.mod.nothing'" in str(caught.value)


_NESTED = """\
def helper(x):
    return x + 1


def other(x):
    return x * 2


def outer(n):
    def inner(y):
        return helper(y) + n

    def sibling(y):
        return y - n

    return inner, sibling


def deep():
    def mid():
        def leaf():
            return other(1)

        return leaf

    return mid


class Model:
    def fit(self):
        def step(x):
            return helper(x)

        return step
"""

INNER = "nest/mod.py:outer.<locals>.inner"
#: The targets that change with anything in ``outer``: it and the functions nested in it.
_OUTER = frozenset({"inner", "sibling", "outer"})


def _nested_tokens(make_package: MakePackage, source: str) -> dict[str, str | None]:
    root = make_package({"nest/__init__.py": "", "nest/mod.py": source})
    specs = {
        "inner": INNER,
        "sibling": "nest/mod.py:outer.<locals>.sibling",
        "leaf": "nest/mod.py:deep.<locals>.mid.<locals>.leaf",
        "step": "nest/mod.py:Model.fit.<locals>.step",
        "outer": "nest/mod.py:outer",
    }
    try:
        return {key: astoken.behavior_token(f"{root}/{spec}") for key, spec in specs.items()}
    finally:
        for name in ("nest.mod", "nest"):
            sys.modules.pop(name, None)


@pytest.mark.parametrize(
    ("edit", "changed"),
    [
        pytest.param(("    return x + 1", "    return x + 2"), {*_OUTER, "step"}, id="helper"),
        pytest.param(("helper(y) + n", "helper(y) - n"), _OUTER, id="own"),
        pytest.param(("return inner, sibling", "return sibling, inner"), _OUTER, id="enclosing"),
        pytest.param(("return other(1)", "return other(2)"), frozenset({"leaf"}), id="deeper"),
        pytest.param(
            ("    return x * 2", "    return x * 3"), frozenset({"leaf"}), id="deeper-helper"
        ),
        pytest.param(
            ("def inner(y):\n", "def inner(y):\n        # why\n"), frozenset(), id="comment"
        ),
    ],
)
def test_a_nested_function_is_a_target(
    make_package: MakePackage, edit: tuple[str, str], changed: frozenset[str]
) -> None:
    """Issue 23, item 12: ``pkg.mod:outer.<locals>.inner`` is a target. Its token covers its
    own code and its closure, which holds the enclosing function (whose code it is part of
    and whose values it closes over) and so what the enclosing function reaches: editing
    either, or a helper of a sibling, changes it."""
    before = _nested_tokens(make_package, _NESTED)
    assert None not in before.values()
    assert len(set(before.values())) == len(before)
    assert _nested_tokens(make_package, _NESTED) == before  # another directory: the same
    after = _nested_tokens(make_package, _NESTED.replace(*edit))
    assert {key for key in before if before[key] != after[key]} == changed


def test_a_nested_target_lists_what_it_covers(
    make_package: MakePackage, import_from: ImportFrom
) -> None:
    root = make_package({"nest2/__init__.py": "", "nest2/mod.py": _NESTED})
    mod = import_from(root, "nest2.mod")
    spec = "nest2.mod:outer.<locals>.inner"
    assert astoken.dependencies(spec) == (
        "nest2.mod:helper",
        "nest2.mod:outer",
        "nest2.mod:outer.<locals>.sibling",
    )
    explained = astoken.explain(spec)
    assert explained.target == spec
    assert explained.token == astoken.behavior_token(spec)
    # Reached without an edge: the enclosing function, and what it reaches from there.
    rows = render.render_explanation(explained, "text").splitlines()
    assert any(
        r.startswith("nest2.mod:outer ") and r.endswith("  (encloses the target)") for r in rows
    )
    assert any(
        r.startswith("nest2.mod:outer.<locals>.sibling ")
        and r.endswith("  enclosing nest2.mod:outer → nested nest2.mod:outer.<locals>.sibling")
        for r in rows
    )
    # The function object of one call also covers the values it closes over (n), which the
    # name alone cannot: the two differ, and two calls' objects differ from each other.
    three, four = mod.outer(3)[0], mod.outer(4)[0]
    assert astoken.behavior_token(three) != astoken.behavior_token(four)
    assert astoken.dependencies(three) == astoken.dependencies(spec)
    with pytest.raises(TargetNotFoundError, match=r"did you mean 'inner'\?"):
        astoken.behavior_token("nest2.mod:outer.<locals>.innr")
    with pytest.raises(TargetNotFoundError, match="is not a qualified name"):
        astoken.behavior_token("nest2.mod:outer.<locals>")


_REEXPORT = {
    "reexp/__init__.py": "from .core import Model, run\n",
    "reexp/core.py": """\
def helper(x):
    return x + 1


def run(x):
    return helper(x)


class Model:
    def fit(self):
        return helper(2)
""",
}


def test_static_mode_follows_a_re_exported_target_to_its_definition(
    make_package: MakePackage, import_from: ImportFrom
) -> None:
    """Nothing is imported in static mode, so ``pkg:run`` (a package re-exporting ``run``) is
    found through the package's import: it depends on what ``run`` depends on, as in live
    mode, not on nothing."""
    root = make_package(_REEXPORT)
    import_from(root, "reexp")
    assert "reexp.core:helper" in astoken.dependencies("reexp:run", static=True)
    assert "reexp.core:helper" in astoken.dependencies("reexp:Model.fit", static=True)
    assert "reexp.core:helper" in astoken.dependencies("reexp:run")


@pytest.mark.parametrize("spec", ["reexp.core:nothing", "reexp.core:Model.nothing", "reexp:nope"])
def test_static_mode_refuses_a_name_the_source_does_not_bind(
    make_package: MakePackage, import_from: ImportFrom, spec: str
) -> None:
    """A name its module neither defines nor imports is an error in static mode too (it was
    an empty dependency list and exit 0), with the CLI's not-found exit code."""
    from astoken import cli

    root = make_package(_REEXPORT)
    import_from(root, "reexp")
    with pytest.raises(TargetNotFoundError) as caught:
        astoken.dependencies(spec, static=True)
    assert spec in str(caught.value)
    assert "neither defines nor imports" in str(caught.value)
    assert cli.main(["--static", "deps", spec]) == 3
