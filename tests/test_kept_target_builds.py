"""A token's graph build is kept across runs (issue 22, item 6: a warm ``astoken token`` of
sympy's ``simplify`` spent 15.8 of 22.7 s building again the graph it had built the run
before). ``behavior_token``, ``behavior_tokens`` and ``dependencies`` read only a closure's
nodes: the build of their targets is kept under a key of the targets, their scope and the
options, and replayed while every question it asked gets the same answer
(``astoken._pipeline._kept``, ``astoken._graph._journal``). Each test runs fresh
interpreters, counts the graphs built, and compares with the same call made without the
cache."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from _fresh import COUNT_BUILDS, run_fresh
from _samples import DISPATCH_PACKAGE

import astoken

if TYPE_CHECKING:
    from conftest import MakePackage

#: The child: every token answer for ``TARGETS`` with ``OPTIONS``; prints the graphs built,
#: the tokens, the first target's dependencies, and the files the first target's analysis
#: read (what ``behavior_token``'s in-process memo checks).
_CHILD = (
    COUNT_BUILDS
    + """\
import json
import os

import astoken
from astoken import _pipeline

targets = TARGETS
options = OPTIONS
analysis = _pipeline.analyze(targets[0], _pipeline.make_options(**options))
single = [astoken.behavior_token(t, **options) for t in targets]
together = list(astoken.behavior_tokens(targets, **options))
deps = list(astoken.dependencies(targets[0], **options))
files = sorted(os.path.basename(s[0]) for s in analysis.files if s is not None)
print(json.dumps({
    "built": built, "analysis": analysis.token, "single": single, "together": together,
    "deps": deps, "files": files,
}))
"""
)

_PACKAGE = {
    "shop/__init__.py": "",
    "shop/prices.py": """\
        import threading

        from shop.util import rounded
        from vendor.rates import rate

        TAX = 0.2
        GUARD = threading.Lock()


        class Basket:
            def __init__(self, items):
                self.items = items

            def total(self):
                with GUARD:
                    return rounded(sum(self.items) * (1 + TAX) * rate())


        def checkout(items):
            return Basket(items).total()


        def unrelated():
            return 0
        """,
    # A function behind a C wrapper: its closure has the leaf of what ships that code.
    "shop/util.py": """\
        import functools


        @functools.lru_cache
        def rounded(x):
            return round(x, 2)
        """,
    # First-party code outside the target's package: the build reads it, the key does not.
    "vendor/__init__.py": "",
    "vendor/rates.py": """\
        def rate():
            return 1.0
        """,
}

_TARGETS = ["shop.prices:checkout", "shop.prices:Basket"]


def _run(root: Path, cache: Path, seed: int, **options: Any) -> dict[str, Any]:
    code = _CHILD.replace("TARGETS", repr(_TARGETS)).replace("OPTIONS", repr(options))
    result: dict[str, Any] = run_fresh(code, paths=[root], seed=seed, cache_dir=cache)
    return result


def _reference(root: Path, tmp_path: Path, **options: Any) -> dict[str, Any]:
    """The same calls without the cache: every one builds its graph."""
    result = _run(root, tmp_path / "unused-cache", 9, use_cache=False, **options)
    assert len(result["built"]) == 1 + len(_TARGETS) + 1 + 1
    return result


def _answers(result: dict[str, Any]) -> tuple[Any, ...]:
    return result["analysis"], result["single"], result["together"], result["deps"]


def test_a_warm_token_builds_no_graph_and_gives_the_same_answers(
    make_package: MakePackage, tmp_path: Path
) -> None:
    root = make_package(_PACKAGE)
    cache = tmp_path / "cache"
    cold = _run(root, cache, seed=1)
    warm = _run(root, cache, seed=2)
    # Cold: one build per set of targets (the first target alone, the second alone, both
    # together); the later calls for the first target replay its kept build in-process.
    assert sorted(map(tuple, cold["built"])) == sorted(
        [(_TARGETS[0],), (_TARGETS[1],), tuple(sorted(_TARGETS))]
    )
    assert warm["built"] == []
    assert _answers(warm) == _answers(cold) == _answers(_reference(root, tmp_path))
    assert warm["analysis"] == warm["single"][0] == warm["together"][0]
    assert "vendor.rates:rate" in warm["deps"]
    assert "functools" in warm["deps"]
    # A replayed build still names every file the token read, for the in-process memo.
    assert warm["files"] == cold["files"]
    assert {"prices.py", "util.py", "rates.py"} <= set(warm["files"])


@pytest.mark.parametrize(
    "edit",
    [
        # In the target's package: a new function and a call to it.
        (
            "shop/util.py",
            "return round(x, 2)",
            "return round(x, digits())\n\n\ndef digits():\n    return 3",
            "shop.util:digits",
        ),
        # Outside it: only the journal knows the file.
        (
            "vendor/rates.py",
            "return 1.0",
            "return 1.0 * bonus()\n\n\ndef bonus():\n    return 2",
            "vendor.rates:bonus",
        ),
    ],
)
def test_an_edit_that_changes_references_builds_again(
    make_package: MakePackage, tmp_path: Path, edit: tuple[str, str, str, str]
) -> None:
    relative, old, new, added = edit
    root = make_package(_PACKAGE)
    cache = tmp_path / "cache"
    before = _run(root, cache, seed=1)
    path = root / relative
    path.write_text(path.read_text().replace(old, new))
    after = _run(root, cache, seed=2)
    again = _run(root, cache, seed=3)
    assert len(after["built"]) == 3
    assert again["built"] == []
    assert _answers(after) == _answers(again) == _answers(_reference(root, tmp_path))
    assert after["analysis"] != before["analysis"]
    assert added in after["deps"]
    assert added not in before["deps"]


@pytest.mark.parametrize(
    ("old", "new", "changes"),
    [
        # A statement at the top of a body: every later line moves, ``GUARD``'s among them
        # (its own token reads its assignment at its line).
        ("        with GUARD:", "        x = 0\n        with GUARD:", True),
        # A comment and a docstring above everything.
        ("import threading", '"""Prices."""\n\n# note\nimport threading', False),
        # An edit to code no target reaches.
        ("    return 0", "    return 1", False),
    ],
)
def test_an_edit_that_only_moves_lines_keeps_the_build(
    make_package: MakePackage, tmp_path: Path, old: str, new: str, changes: bool
) -> None:
    root = make_package(_PACKAGE)
    cache = tmp_path / "cache"
    before = _run(root, cache, seed=1)
    path = root / "shop/prices.py"
    assert old in path.read_text()
    path.write_text(path.read_text().replace(old, new))
    after = _run(root, cache, seed=2)
    assert after["built"] == []
    assert _answers(after) == _answers(_reference(root, tmp_path))
    assert (after["analysis"] != before["analysis"]) is changes


def test_a_live_answer_that_changes_without_an_edit_builds_again(
    make_package: MakePackage, tmp_path: Path
) -> None:
    """No file changes; the live program registers one more implementation: replaying the
    kept build's ``registered`` question gets another answer."""
    root = make_package(DISPATCH_PACKAGE)
    cache = tmp_path / "cache"
    code = (
        COUNT_BUILDS
        + """\
import json
import astoken

token = astoken.behavior_token("reg.core:show", **OPTIONS)
deps = astoken.dependencies("reg.core:show", **OPTIONS)
print(json.dumps({"built": len(built), "token": token, "deps": list(deps)}))
"""
    )

    def run(seed: int, ints: bool, **options: Any) -> dict[str, Any]:
        env = {"REG_INTS": "1"} if ints else {}
        script = code.replace("OPTIONS", repr(options))
        result: dict[str, Any] = run_fresh(
            script, paths=[root], seed=seed, cache_dir=cache, env=env
        )
        return result

    plain = run(1, ints=False)
    with_ints = run(2, ints=True)
    reference = run(3, ints=True, use_cache=False)
    assert plain["built"] == with_ints["built"] == 1
    assert (with_ints["token"], with_ints["deps"]) == (reference["token"], reference["deps"])
    assert "reg.core:shout" not in plain["deps"]
    assert "reg.core:shout" in with_ints["deps"]


def test_options_that_shape_the_graph_are_part_of_the_key(
    make_package: MakePackage, tmp_path: Path
) -> None:
    root = make_package(_PACKAGE)
    cache = tmp_path / "cache"
    full = _run(root, cache, seed=1)
    narrowed = _run(root, cache, seed=2, exclude=("vendor.*",))
    assert len(narrowed["built"]) == 3
    assert _answers(narrowed) == _answers(_reference(root, tmp_path, exclude=("vendor.*",)))
    assert "vendor.rates:rate" in full["deps"]
    assert "vendor.rates:rate" not in narrowed["deps"]


@pytest.mark.parametrize("target", ["math:sqrt", "numpy:dot"])
def test_a_compiled_target_lists_what_ships_its_code_from_a_kept_build(
    target: str, tmp_path: Path
) -> None:
    """The leaf of what ships compiled code is found from the live object on every run, not
    kept: the kept build's answer lists it as the build made without the cache does."""
    cold = astoken.dependencies(target, cache_dir=tmp_path)
    warm = astoken.dependencies(target, cache_dir=tmp_path)
    assert cold == warm == astoken.dependencies(target, use_cache=False)
    assert target.partition(":")[0] in warm
    assert len(list((tmp_path / "builds").glob("*/*.json"))) == 1
