"""Locating modules (guarantee 6 of astoken/_scope.py): namespace portions at every level.

Each layout is located, analysed statically and tokenized in a fresh interpreter in which
nothing of the tree is imported yet, because that is where the import system's namespace
machinery would need a parent package that is not in ``sys.modules``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from _fresh import run_astoken

import astoken
from astoken import _scope
from astoken._scope import iter_package_modules, locate_module

if TYPE_CHECKING:
    from conftest import ImportFrom, MakePackage

_REPO_ROOT = Path(__file__).resolve().parents[1]

_CORE = """\
def helper(x):
    return x + 1


def f(x):
    return helper(x)
"""
_TEST = """\
from {core} import f


def test_f():
    assert f(1) == 2
"""

_CHILD = """\
import json, sys
from astoken._scope import locate_module
target = sys.argv[1]
module = target.partition(":")[0]
location = locate_module(module)
top = module.partition(".")[0]
imported = sorted(m for m in sys.modules if m == top or m.startswith(top + "."))
import astoken
static = astoken.dependencies(target, static=True)
token = astoken.behavior_token(target)
print(json.dumps({
    "file": location.file if location else None,
    "imported_by_locating": imported,
    "static": list(static),
    "live": list(astoken.dependencies(target)),
    "token": token,
}))
"""


@dataclass(frozen=True)
class Layout:
    """A tree, the directories put on the import path, a target in it, the file the target's
    module must be located at, and the dependencies expected."""

    files: dict[str, str]
    roots: list[str]
    target: str
    located: str
    expected: list[str]


LAYOUTS = [
    pytest.param(
        Layout(
            {
                "src/pkg/__init__.py": "",
                "src/pkg/core.py": _CORE,
                "src/pkg/tests/test_core.py": _TEST.format(core="pkg.core"),
            },
            ["src"],
            "pkg.tests.test_core:test_f",
            "src/pkg/tests/test_core.py",
            ["pkg.core:f", "pkg.core:helper"],
        ),
        id="namespace-dir-inside-regular-package",
    ),
    pytest.param(
        Layout(
            {"src/nsa/core.py": _CORE},
            ["src"],
            "nsa.core:f",
            "src/nsa/core.py",
            ["nsa.core:helper"],
        ),
        id="top-level-namespace-package",
    ),
    pytest.param(
        Layout(
            {
                "src/pkg/__init__.py": "",
                "src/pkg/ns/sub/__init__.py": "",
                "src/pkg/ns/sub/core.py": _CORE,
            },
            ["src"],
            "pkg.ns.sub.core:f",
            "src/pkg/ns/sub/core.py",
            ["pkg.ns.sub.core:helper"],
        ),
        id="regular-package-inside-namespace-inside-regular",
    ),
    pytest.param(
        Layout(
            {
                "src/nsb/inner/core.py": _CORE,
                "src/nsb/inner/tests/test_core.py": _TEST.format(core="nsb.inner.core"),
            },
            ["src"],
            "nsb.inner.tests.test_core:test_f",
            "src/nsb/inner/tests/test_core.py",
            ["nsb.inner.core:f", "nsb.inner.core:helper"],
        ),
        id="namespace-inside-namespace-inside-namespace",
    ),
    pytest.param(
        Layout(
            {
                "one/nsc/inner/core.py": _CORE,
                "two/nsc/inner/test_core.py": _TEST.format(core="nsc.inner.core"),
            },
            ["one", "two"],
            "nsc.inner.test_core:test_f",
            "two/nsc/inner/test_core.py",
            ["nsc.inner.core:f", "nsc.inner.core:helper"],
        ),
        id="portions-of-two-levels-in-two-directories",
    ),
]


def _run_child(root: Path, roots: list[str], target: str, tmp_path: Path) -> dict[str, object]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([*(str(root / r) for r in roots), str(_REPO_ROOT)])
    env["ASTOKEN_CACHE_DIR"] = str(tmp_path / "cache")
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    proc = subprocess.run(
        [sys.executable, "-c", _CHILD, target],
        capture_output=True,
        text=True,
        check=False,
        env=env,
        cwd=tmp_path,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    result: dict[str, object] = json.loads(proc.stdout.strip().splitlines()[-1])
    return result


@pytest.mark.parametrize("layout", LAYOUTS)
def test_namespace_portions_are_located_before_anything_is_imported(
    make_package: MakePackage, tmp_path: Path, layout: Layout
) -> None:
    """Guarantee 6: found without importing, analysed statically and live, in a fresh process."""
    root = make_package(layout.files)
    result = _run_child(root, layout.roots, layout.target, tmp_path)
    assert result["file"] == str(root / layout.located)
    assert result["imported_by_locating"] == []
    assert result["static"] == layout.expected
    assert result["live"] == layout.expected
    assert isinstance(result["token"], str)
    assert len(result["token"]) == 64


def test_the_command_line_tokenizes_a_test_in_a_namespace_directory(
    make_package: MakePackage, tmp_path: Path
) -> None:
    """The reported crash: ``astoken token pkg.tests.test_core:test_f`` exited 70."""
    root = make_package(
        {
            "pkg/__init__.py": "",
            "pkg/core.py": _CORE,
            "pkg/tests/test_core.py": _TEST.format(core="pkg.core"),
        }
    )
    proc = run_astoken(
        "token",
        "pkg.tests.test_core:test_f",
        cwd=tmp_path,
        paths=[root],
        cache_dir=tmp_path / "cache",
    )
    assert proc.returncode == 0, proc.stderr
    assert len(proc.stdout.strip()) == 64


def test_locating_in_process_does_not_import_the_parent(
    make_package: MakePackage, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = make_package(
        {
            "loc_pkg/__init__.py": "raise RuntimeError('must not be imported')\n",
            "loc_pkg/data/inner/mod.py": "X = 1\n",
        }
    )
    monkeypatch.syspath_prepend(str(root))
    location = locate_module("loc_pkg.data.inner.mod")
    assert location is not None
    assert location.file == str(root / "loc_pkg/data/inner/mod.py")
    namespace = locate_module("loc_pkg.data")
    assert namespace is not None
    assert (namespace.file, namespace.is_package) == (None, True)
    assert namespace.search == (str(root / "loc_pkg" / "data"),)
    assert locate_module("loc_pkg.data.missing") is None
    assert "loc_pkg" not in sys.modules


def test_a_namespace_package_lists_the_modules_of_every_portion(
    make_package: MakePackage, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = make_package(
        {
            "one/ns_list/a.py": "",
            "two/ns_list/b.py": "",
            "two/ns_list/sub/__init__.py": "",
            "two/ns_list/sub/c.py": "",
        }
    )
    monkeypatch.syspath_prepend(str(root / "two"))
    monkeypatch.syspath_prepend(str(root / "one"))
    assert iter_package_modules("ns_list") == (
        "ns_list.a",
        "ns_list.b",
        "ns_list.sub",
        "ns_list.sub.c",
    )
    assert "ns_list" not in sys.modules


def test_a_distribution_without_top_level_txt_still_has_a_version(
    make_package: MakePackage, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Wheels built by meson, flit or hatch (numpy's among them) ship no ``top_level.txt``:
    the import names come from the files installed. (Python 3.10's own lookup read
    ``top_level.txt`` only, so numpy's leaves had no version there and upgrading numpy left
    tokens unchanged.)"""
    site = make_package(
        {
            "site/nt_mod/__init__.py": "",
            "site/nt_single.py": "",
            "site/nt_dist-2.5.dist-info/METADATA": (
                "Metadata-Version: 2.1\nName: nt-dist\nVersion: 2.5\n"
            ),
            "site/nt_dist-2.5.dist-info/RECORD": (
                "nt_mod/__init__.py,,\nnt_single.py,,\n../../bin/nt-tool,,\n"
                "nt_dist-2.5.dist-info/METADATA,,\nnt_dist-2.5.dist-info/RECORD,,\n"
            ),
        }
    )
    monkeypatch.syspath_prepend(str(site / "site"))
    _scope._packages_distributions.cache_clear()
    _scope.distribution_version.cache_clear()
    try:
        assert _scope.distribution_version("nt_mod") == ("nt-dist", "2.5")
        assert _scope.distribution_version("nt_single") == ("nt-dist", "2.5")
        assert _scope.distribution_version("bin") == ("", "")
    finally:
        _scope._packages_distributions.cache_clear()
        _scope.distribution_version.cache_clear()


def test_a_directory_twice_on_sys_path_is_read_once(
    make_package: MakePackage, monkeypatch: pytest.MonkeyPatch
) -> None:
    """pytest's rootdir insertion can put site-packages on ``sys.path`` several times (three
    in a run over networkx's installed tests): each distribution's metadata is read once."""
    site = make_package(
        {
            "site/tw_mod/__init__.py": "",
            "site/tw_dist-1.0.dist-info/METADATA": "Metadata-Version: 2.1\nName: tw-dist\n",
            "site/tw_dist-1.0.dist-info/top_level.txt": "tw_mod\n",
        }
    )
    for _ in range(3):
        monkeypatch.syspath_prepend(str(site / "site"))
    read: list[str] = []
    original = _scope._distribution_name

    def counting(dist: Any) -> str | None:
        name = original(dist)
        if name == "tw-dist":
            read.append(name)
        return name

    monkeypatch.setattr(_scope, "_distribution_name", counting)
    _scope._packages_distributions.cache_clear()
    try:
        assert _scope._packages_distributions()["tw_mod"] == ["tw-dist"]
    finally:
        _scope._packages_distributions.cache_clear()
    assert read == ["tw-dist"]


def test_top_levels_read_from_record_are_those_of_the_file_list() -> None:
    """The fast RECORD reading gives what ``dist.files`` gives, for every installed wheel."""
    import importlib.metadata

    compared = 0
    for dist in importlib.metadata.distributions():
        record = dist.read_text("RECORD")
        if record is None:
            continue
        from_files = _scope._top_levels(str(path) for path in dist.files or ())
        assert _scope._top_levels(_scope._record_paths(record)) == from_files, dist.metadata["Name"]
        compared += 1
    assert compared >= 10  # this environment has pytest, libcst, networkx, ... as wheels
    quoted = '"odd,dir/__init__.py",sha256=x,1\nplain.py,,\n_ext.abi3.so,,\n'
    assert _scope._top_levels(_scope._record_paths(quoted)) == {"plain", "_ext"}


def test_distribution_names_read_from_the_metadata_top_are_the_parsed_ones() -> None:
    """The ``Name`` header read from the top of each installed distribution's metadata file
    is what the e-mail parser of ``dist.metadata`` gives, for every one installed."""
    import importlib.metadata

    dists = list(importlib.metadata.distributions())
    assert len(dists) >= 10
    for dist in dists:
        assert _scope._distribution_name(dist) == (dist.metadata["Name"] or None)


@pytest.mark.parametrize(
    ("module", "is_test"),
    [
        pytest.param("app.tests", True, id="tests-package"),
        pytest.param("app.tests.helpers", True, id="inside-tests"),
        pytest.param("app.test", True, id="test-package"),
        pytest.param("app.test_core", True, id="test_-module"),
        pytest.param("app.core_test", True, id="_test-module"),
        pytest.param("conftest", True, id="conftest"),
        pytest.param("app.testing", False, id="testing-is-library-code"),
        pytest.param("app.testing.fakes", False, id="inside-testing"),
        pytest.param("app.contest", False, id="not-a-test-word"),
        pytest.param("app.latest", False, id="test-inside-a-word"),
    ],
)
def test_one_test_module_rule(module: str, is_test: bool) -> None:
    """One rule for what is test code (coverage.md rule 4, snapshots leaving tests out)."""
    assert _scope.is_test_module(module) is is_test


def test_snapshot_and_guesses_share_the_test_module_rule(
    make_package: MakePackage, import_from: ImportFrom
) -> None:
    """A ``testing`` module is library code for both uses of the rule: a snapshot takes it
    (and leaves ``tests`` out), and a guess from library code (coverage.md rule 4) reaches a
    class of it."""
    root = make_package(
        {
            "tmrule/__init__.py": "",
            "tmrule/testing.py": "class Fake:\n    def check(self):\n        return 1\n",
            "tmrule/tests/__init__.py": "",
            "tmrule/tests/test_core.py": "def test_it():\n    assert True\n",
            "tmrule/core.py": (
                "import json\n"
                "from tmrule.testing import Fake\n"
                "def run():\n"
                "    Fake()\n"
                "    return json.loads('1').check()\n"
            ),
        }
    )
    import_from(root, "tmrule.core")
    targets = {entry.target for entry in astoken.snapshot(["tmrule"]).entries}
    assert "tmrule.testing:Fake.check" in targets
    assert not any(t.startswith("tmrule.tests") for t in targets)
    graph = astoken.dependency_graph("tmrule.core:run")
    guessed = {(e.source, e.target) for e in graph.edges if e.source == "tmrule.core:run"}
    assert ("tmrule.core:run", "tmrule.testing:Fake.check") in guessed
