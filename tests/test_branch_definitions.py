"""A function defined in both branches of an ``if`` reaches the helpers of the branch that ran.

The summary merges the definitions of one name (guarantee 1 of ``astoken._summary``); the graph
follows only the references the live code can make (``astoken._runtime.branch_names``), as it
follows the import a ``try`` took. Each case builds a package on disk where the two branches
call different helpers and compares tokens in fresh interpreters.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from _fresh import run_fresh

from astoken import _runtime, _store

_HELPERS = """\
def if_helper(x):
    return x + {if_helper}


def else_helper(x):
    return x + {else_helper}


def common(x):
    return x * {common}
"""

_FUNCTION = """\
import sys

from branchpkg import helpers
from branchpkg.helpers import common, else_helper, if_helper

if sys.version_info {test}:
    def target(x):
        return if_helper(x) + common(x)
else:
    def target(x):
        return else_helper(x) + helpers.common(x)
"""

_METHOD = """\
import sys

from branchpkg.helpers import common, else_helper, if_helper


class Target:
    if sys.version_info {test}:
        def run(self, x):
            return if_helper(x) + common(x)
    else:
        def run(self, x):
            return else_helper(x) + common(x)
"""

_TOKEN = """\
import json
import astoken
from branchpkg import mod
print(json.dumps(astoken.behavior_token({target})))
"""

_IF_RUNS, _ELSE_RUNS = ">= (3, 0)", "< (3, 0)"


def _token(root: Path, module: str, test: str, target: str, edit: dict[str, int]) -> str:
    package = root / "branchpkg"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text("", encoding="utf-8")
    values = {"if_helper": 1, "else_helper": 2, "common": 3, **edit}
    (package / "helpers.py").write_text(_HELPERS.format(**values), encoding="utf-8")
    (package / "mod.py").write_text(module.format(test=test), encoding="utf-8")
    token: str = run_fresh(_TOKEN.format(target=target), paths=[root], cwd=root)
    return token


@pytest.mark.parametrize(
    ("module", "test", "target"),
    [
        pytest.param(_FUNCTION, _IF_RUNS, "mod.target", id="function-if-branch-ran"),
        pytest.param(_FUNCTION, _ELSE_RUNS, "mod.target", id="function-else-branch-ran"),
        pytest.param(_METHOD, _IF_RUNS, "mod.Target.run", id="method-if-branch-ran"),
        pytest.param(_METHOD, _ELSE_RUNS, "mod.Target.run", id="method-else-branch-ran"),
    ],
)
def test_only_the_branch_that_ran_counts(
    tmp_path: Path, module: str, test: str, target: str
) -> None:
    """Editing the helper only the other branch calls leaves the token; editing the helper the
    branch that ran calls, or the one both call, changes it."""
    ran, other = ("if_helper", "else_helper") if test == _IF_RUNS else ("else_helper", "if_helper")

    def token(name: str, edit: dict[str, int]) -> str:
        return _token(tmp_path / name, module, test, target, edit)

    before = token("before", {})
    assert token("other-edited", {other: 20}) == before
    assert token("ran-edited", {ran: 10}) != before
    assert token("common-edited", {"common": 30}) != before


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        pytest.param(
            "if A:\n    def f(): pass\nelif B:\n    @deco\n    def f(): pass\nelse:\n"
            "    def f(): pass\n",
            {"f": {2, 4, 7}},
            id="if-elif-else-first-line-of-decorator",
        ),
        pytest.param(
            "class C:\n    if A:\n        def m(self): pass\n"
            "    else:\n        def m(self): pass\n",
            {"C.m": {3, 5}},
            id="method",
        ),
        pytest.param(
            "match A:\n    case 1:\n        def f(): pass\n    case _:\n        def f(): pass\n",
            {"f": {3, 5}},
            id="match-cases",
        ),
        pytest.param("def f(): pass\ndef f(): pass\n", {}, id="in-sequence-both-run"),
        pytest.param(
            "@f.register\ndef _(x): pass\n@f.register\ndef _(x): pass\n",
            {},
            id="singledispatch-style-both-registered",
        ),
        pytest.param(
            "try:\n    def f(): pass\nexcept E:\n    def f(): pass\n", {}, id="try-both-may-run"
        ),
        pytest.param(
            "if A:\n    def f(): pass\nif B:\n    def f(): pass\n", {}, id="two-ifs-both-may-run"
        ),
        pytest.param(
            "if A:\n    def f(): pass\n    def f(): pass\nelse:\n    def f(): pass\n",
            {},
            id="twice-in-one-branch",
        ),
    ],
)
def test_which_definitions_exclude_each_other(
    tmp_path: Path, source: str, expected: dict[str, set[int]]
) -> None:
    """Only definitions in different branches of one ``if``/``match`` exclude each other: where
    several may run (a registry may hold the first), every definition keeps counting."""
    file = tmp_path / "mod.py"
    file.write_text(source, encoding="utf-8")
    found = _runtime._branch_definitions(str(file), (0, len(source)))
    assert {name: set(lines) for name, lines in found} == expected


@pytest.mark.parametrize("package", ["networkx", "rich", "pygments", "toolz", "attr", "click"])
def test_the_cheap_look_never_misses_a_redefinition_on_a_real_package(package: str) -> None:
    """Every file in which the full parse finds a function defined in branches of one ``if``
    passes the cheap look (which lets most files skip the parse)."""
    import importlib

    root = Path(importlib.import_module(package).__file__ or "").parent
    files = sorted(root.rglob("*.py"))
    parsed = skipped = 0
    for file in files:
        source = file.read_bytes()
        try:
            tree = ast.parse(source)
        except SyntaxError:
            continue
        found = _runtime._branch_definitions_in(tree)
        if _runtime._may_redefine(source):
            parsed += 1
        else:
            skipped += 1
            assert found == (), file
    assert parsed + skipped >= 10
    if package == "networkx":
        assert skipped > 10 * parsed  # the point of the look: most files are not parsed


def test_the_cheap_look_names_definitions_by_their_enclosing_classes() -> None:
    one_each = b"class A:\n    def __init__(self): ...\nclass B:\n    def __init__(self): ...\n"
    branches = (
        b"class A:\n    if X:\n        def f(self): ...\n    else:\n        def f(self): ...\n"
    )
    assert not _runtime._may_redefine(one_each)
    assert _runtime._may_redefine(branches)
    assert _runtime._may_redefine(b"if X:\n    def f(): ...\nelse:\n\tdef f(): ...\n")
    # An ``if`` at a class's level closes the method above it (distributed's diskutils).
    after_method = (
        b"class W:\n    def g(self): ...\n    if X:\n\n        def f(self): ...\n"
        b"    else:\n\n        def f(self):\n            def inner(): ...\n"
    )
    assert _runtime._may_redefine(after_method)
    assert _runtime._def_names(b"async  def f(): ...\nx = 'def g'\n\tdef\th(): ...\n") == [
        b"f",
        b"h",
    ]
    nested_twice = b"def a():\n    def h(): ...\ndef b():\n    def h(): ...\n"
    assert not _runtime._may_redefine(nested_twice)  # functions' own helpers: never branches


_CHOSEN = """\
HAVE_FAST_PATH = False


def outside(x):
    return x


class Runner:
    def _fast(self, x):
        return x

    def _slow(self, x):
        return x

    __call__ = _fast if HAVE_FAST_PATH else _slow
    borrowed = outside
    wrapped = staticmethod(outside)
    number = 3
"""


def test_a_class_attribute_is_located_at_the_definition_its_expression_chose(
    tmp_path: Path,
) -> None:
    """``locate_name`` reads a dotted name through each class's own ``__dict__``: a class
    attribute whose live value is a function or class defined under its own name is located
    there (the graph follows that definition only, as it does for a module-level name), and
    anything it cannot say for sure is None."""
    (tmp_path / "chosenpkg").mkdir()
    (tmp_path / "chosenpkg" / "__init__.py").write_text("")
    (tmp_path / "chosenpkg" / "engine.py").write_text(_CHOSEN)
    script = """\
import json
from astoken import _runtime
import chosenpkg.engine

names = ["Runner.__call__", "Runner.borrowed", "Runner.wrapped", "Runner.number",
         "Runner._slow", "Runner.missing", "outside.attr", "Runner", "absent.x"]
print(json.dumps({n: _runtime.locate_name("chosenpkg.engine", n) for n in names}))
"""
    found = run_fresh(script, paths=[tmp_path], cwd=tmp_path)
    assert found == {
        "Runner.__call__": "node:chosenpkg.engine:Runner._slow",
        "Runner.borrowed": "node:chosenpkg.engine:outside",
        "Runner.wrapped": None,  # a staticmethod object is not the function it wraps
        "Runner.number": None,
        "Runner._slow": "node:chosenpkg.engine:Runner._slow",  # itself: not rebound
        "Runner.missing": None,
        "outside.attr": None,  # attributes of a function are not class attributes
        "Runner": "node:chosenpkg.engine:Runner",
        "absent.x": None,
    }


def test_networkx_dispatcher_reaches_the_call_path_that_is_installed() -> None:
    """networkx 3.5+ binds ``_dispatchable.__call__`` at import to the path for installed
    backends or the one for none: a closure reaches the one that runs, not the backend
    conversion machinery of the other (which names most graph methods). Older networkx defines
    ``__call__`` as a method: the closure reaches that method."""
    script = """\
import json
import astoken
from networkx.algorithms.traversal.breadth_first_search import bfs_edges
print(json.dumps(list(astoken.dependencies(bfs_edges))))
"""
    from networkx.utils import backends

    dispatcher = backends._dispatchable
    chosen = dispatcher.__dict__["__call__"].__qualname__
    paths = {"_call_if_any_backends_installed", "_call_if_no_backends_installed"}
    deps = run_fresh(script)
    assert f"networkx.utils.backends:{chosen}" in deps
    for other in sorted(paths & set(dispatcher.__dict__)):
        if f"_dispatchable.{other}" != chosen:
            assert f"networkx.utils.backends:_dispatchable.{other}" not in deps


_BRANCHED = """\
import sys

if sys.version_info >= (3, 9):
    def f(x):
        return x + 1
else:
    def f(x):
        return x - 1
"""


def test_what_a_file_defines_in_branches_is_kept_across_processes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A warm token of sympy parsed 22 files with ``ast`` on every run to answer this. Kept in
    the cache (``_store.BranchStore``) under the file's bytes: a new process (its in-process
    memo empty) parses none, an edited file is parsed again, a damaged entry is a miss."""
    parsed: list[str] = []
    real_parse = ast.parse

    def counting(source: bytes, filename: str = "<unknown>", **kwargs: object) -> object:
        parsed.append(filename)
        return real_parse(source, filename=filename)

    monkeypatch.setattr(ast, "parse", counting)
    file = tmp_path / "mod.py"
    file.write_text(_BRANCHED, encoding="utf-8")
    book = _store.BranchStore(tmp_path / "cache")

    def fresh_process(signature: tuple[int, int]) -> dict[str, set[int]]:
        monkeypatch.setattr(_runtime, "_BRANCHES", type(_runtime._BRANCHES)(16))
        found = _runtime._branch_definitions(str(file), signature, book, "salt")
        return {name: set(lines) for name, lines in found}

    expected = {"f": {4, 7}}
    assert fresh_process((1, 1)) == expected
    assert fresh_process((2, 1)) == expected
    assert len(parsed) == 1
    # Another salt (astoken's code changed) is another key.
    monkeypatch.setattr(_runtime, "_BRANCHES", type(_runtime._BRANCHES)(16))
    assert {n: set(x) for n, x in _runtime._branch_definitions(str(file), (3, 1), book, "new")} == (
        expected
    )
    assert len(parsed) == 2
    # An edit is another key: parsed again, answered from the new source.
    file.write_text(_BRANCHED.replace("import sys\n", "import sys\n\n\n"), encoding="utf-8")
    assert fresh_process((4, 1)) == {"f": {6, 9}}
    assert len(parsed) == 3
    # A damaged entry is a miss, never a wrong answer.
    for entry in (tmp_path / "cache" / "branches").glob("*/*.json"):
        entry.write_text(entry.read_text().replace("6", "5"))
    assert fresh_process((5, 1)) == {"f": {6, 9}}
    assert len(parsed) == 4
