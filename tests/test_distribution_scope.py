"""A distribution's own top-level import packages are first-party together (rule 2 of
astoken/_scope.py; issue 23, item 12).

The distribution ``attrs`` installs two import packages: ``attr``, which has the code, and
``attrs``, which re-exports it. ``attrs:define`` and ``attr:define`` are one object, so they
have one token, and ``snapshot attrs`` records the code it exports rather than an empty lock.
Tested on a distribution written on disk (a ``site-packages`` directory with a ``.dist-info``,
in fresh interpreters) and on the real attrs.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from _fresh import run_astoken, run_fresh

if TYPE_CHECKING:
    from conftest import MakePackage

#: One distribution, ``duo``, installing ``duo`` (re-exports only) and ``duo_core`` (the code);
#: ``other`` is another distribution's package that the code calls; ``shared`` is a namespace
#: that both distributions install, so neither owns it.
_SITE = {
    "duo/__init__.py": "from duo_core import define\n\n__all__ = ['define']\n",
    "duo/helpers.py": "from duo_core.impl import helper\n",
    "duo_core/__init__.py": "from duo_core.impl import define\n",
    "duo_core/impl.py": (
        "import other\n\n\ndef helper(x):\n    return x + 1\n\n\n"
        "def define(x):\n    return other.thing(helper(x))\n"
    ),
    "shared/duo_part.py": "",
    "other/__init__.py": "def thing(x):\n    return x\n",
    "shared/other_part.py": "",
    "duo-1.0.dist-info/METADATA": "Metadata-Version: 2.1\nName: duo\nVersion: 1.0\n",
    "duo-1.0.dist-info/RECORD": (
        "duo/__init__.py,,\nduo/helpers.py,,\nduo_core/__init__.py,,\nduo_core/impl.py,,\n"
        "shared/duo_part.py,,\nduo-1.0.dist-info/METADATA,,\nduo-1.0.dist-info/RECORD,,\n"
    ),
    "other-2.0.dist-info/METADATA": "Metadata-Version: 2.1\nName: other\nVersion: 2.0\n",
    "other-2.0.dist-info/top_level.txt": "other\nshared\n",
}

_CHILD = """\
import json, warnings
import astoken
from astoken._scope import sibling_packages

with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    snap = astoken.snapshot(["duo"])
print(json.dumps({
    "siblings": {top: list(sibling_packages(top)) for top in ("duo", "duo_core", "other")},
    "via_duo": astoken.behavior_token("duo:define"),
    "via_core": astoken.behavior_token("duo_core:define"),
    "defined": astoken.behavior_token("duo_core.impl:define"),
    "deps": list(astoken.dependencies("duo:define")),
    "packages": list(snap.packages),
    "entries": {entry.target: entry.token for entry in snap.entries},
    "warnings": [str(w.message) for w in caught],
}))
"""


def _site(make_package: MakePackage, helper_returns: str = "x + 1") -> Path:
    files = {f"lib/site-packages/{path}": text for path, text in _SITE.items()}
    impl = "lib/site-packages/duo_core/impl.py"
    files[impl] = files[impl].replace("x + 1", helper_returns)
    return make_package(files) / "lib" / "site-packages"


def test_the_import_packages_of_one_distribution_are_first_party_together(
    make_package: MakePackage, tmp_path: Path
) -> None:
    """Rule 2: ``duo`` re-exports ``duo_core``, both installed by ``duo``; a target named
    through either is one closure and one token, which follows an edit of ``duo_core`` (when
    ``duo_core`` was third-party to ``duo:define``, the edit left its token unchanged)."""
    before: Any = run_fresh(_CHILD, paths=[_site(make_package)], cache_dir=tmp_path / "c1")
    assert before["via_duo"] == before["via_core"] == before["defined"]
    assert before["siblings"] == {"duo": ["duo_core"], "duo_core": ["duo"], "other": []}
    # The other distribution stays a leaf, and the namespace both install is no one's.
    assert before["deps"] == ["duo_core.impl:helper", "other"]

    after: Any = run_fresh(_CHILD, paths=[_site(make_package, "x + 2")], cache_dir=tmp_path / "c2")
    assert after["via_duo"] == after["via_core"]
    assert after["via_duo"] != before["via_duo"]


def test_a_snapshot_of_a_package_that_only_re_exports_records_its_distribution(
    make_package: MakePackage, tmp_path: Path
) -> None:
    """``snapshot duo`` finds no definition in ``duo``: it says where the code is and records
    ``duo_core`` too (it wrote an empty lock, exit 0, before)."""
    result: Any = run_fresh(_CHILD, paths=[_site(make_package)], cache_dir=tmp_path / "cache")
    assert result["packages"] == ["duo", "duo_core"]
    assert sorted(result["entries"]) == ["duo_core.impl:define", "duo_core.impl:helper"]
    assert result["entries"]["duo_core.impl:define"] == result["via_duo"]
    assert result["warnings"] == [
        (
            "duo defines no function or class itself: the names it exports are defined in "
            "duo_core, installed by the same distribution, so the snapshot includes it too"
        )
    ]


def test_a_package_that_re_exports_another_distribution_names_it(
    make_package: MakePackage, tmp_path: Path
) -> None:
    """A package re-exporting another distribution's code is not extended: the warning names
    where the code is, and a package with nothing at all says the snapshot is empty."""
    site = _site(make_package)
    (site / "shim").mkdir()
    (site / "shim" / "__init__.py").write_text("from other import thing\n")
    (site / "consts").mkdir()
    (site / "consts" / "__init__.py").write_text("LIMIT = 3\n")
    code = """\
import json, warnings
import astoken
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    shim = astoken.snapshot(["shim"])
    consts = astoken.snapshot(["consts"])
print(json.dumps({
    "packages": [list(shim.packages), list(consts.packages)],
    "warnings": [str(w.message) for w in caught],
}))
"""
    result: Any = run_fresh(code, paths=[site], cache_dir=tmp_path / "cache")
    assert result["packages"] == [["shim"], ["consts"]]
    assert result["warnings"] == [
        (
            "shim defines no function or class itself: the names it exports are defined in "
            "other (snapshot that to record them)"
        ),
        "consts defines no function, class or method: the snapshot of it is empty",
    ]


def test_the_real_attrs_is_one_scope_with_attr(tmp_path: Path) -> None:
    """The installed attrs: ``attrs:define`` is ``attr:define``, and ``astoken snapshot
    attrs`` records attr's code (exit 0, one warning saying so)."""
    code = """\
import json
import astoken
print(json.dumps([astoken.behavior_token(t) for t in ("attrs:define", "attr:define")]))
"""
    via_attrs, via_attr = run_fresh(code, cache_dir=tmp_path / "cache")
    assert via_attrs == via_attr

    locks, stderr = {}, {}
    for package in ("attrs", "attr"):
        lock = tmp_path / f"{package}.json"
        done = run_astoken(
            "snapshot", package, "-o", str(lock), cwd=tmp_path, cache_dir=tmp_path / "cache"
        )
        assert done.returncode == 0, done.stderr
        locks[package], stderr[package] = json.loads(lock.read_text()), done.stderr
    assert (
        "astoken: warning: attrs defines no function or class itself: the names it exports are "
        "defined in attr, installed by the same distribution, so the snapshot includes it too"
    ) in stderr["attrs"].splitlines()
    assert "defines no function" not in stderr["attr"]
    assert locks["attrs"]["packages"] == ["attrs", "attr"]
    # attr's definitions: every one a snapshot of attr itself records.
    assert "attr._next_gen:define" in locks["attrs"]["entries"]
    assert sorted(locks["attrs"]["entries"]) == sorted(locks["attr"]["entries"])
