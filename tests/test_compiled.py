"""Compiled code (issue 8, item 19): a callable or class with no Python code to hash.

Its token covers its name and what ships the code: the leaf of its distribution, with the
version, or of the standard library (which the interpreter tag in every token covers). explain
shows that leaf as a dependency; ``strict=True`` warns that the compiled code itself is not
hashed.
"""

from __future__ import annotations

import collections
import importlib.metadata
import io
import math
import warnings
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path
from typing import TYPE_CHECKING

import numpy
import pytest
from _scenario_harness import token_in_fresh_interpreter

import astoken
from astoken import cli
from astoken.errors import CompiledCodeWarning

if TYPE_CHECKING:
    from conftest import ImportFrom, MakePackage

_NUMPY_VERSION = importlib.metadata.version("numpy")

COMPILED = [
    pytest.param("builtins:len", "builtins", astoken.NodeKind.STDLIB, "", id="builtins-len"),
    pytest.param(len, "builtins", astoken.NodeKind.STDLIB, "", id="len-object"),
    pytest.param("math:sqrt", "math", astoken.NodeKind.STDLIB, "", id="math-sqrt"),
    pytest.param(math.sqrt, "math", astoken.NodeKind.STDLIB, "", id="math-sqrt-object"),
    pytest.param(collections.deque, "collections", astoken.NodeKind.STDLIB, "", id="c-class-deque"),
    pytest.param(
        "numpy:dot", "numpy", astoken.NodeKind.EXTERNAL, _NUMPY_VERSION, id="numpy-dispatcher"
    ),
    pytest.param(
        numpy.ndarray, "numpy", astoken.NodeKind.EXTERNAL, _NUMPY_VERSION, id="numpy-c-class"
    ),
]


@pytest.mark.parametrize(("target", "leaf", "kind", "version"), COMPILED)
def test_explain_says_what_the_token_of_compiled_code_covers(
    target: object, leaf: str, kind: astoken.NodeKind, version: str
) -> None:
    explanation = astoken.explain(target)
    covered = {d.name: d for d in explanation.dependencies}
    assert leaf in covered
    assert covered[leaf].kind is kind
    assert covered[leaf].path[-1].kind is astoken.RefKind.EXTERNAL
    node = astoken.dependency_graph(target).node(leaf)
    assert node.version == version
    if version:
        assert covered[leaf].token == f"external:{leaf}=={version}"
        without = astoken.dependency_graph(target, external_versions=False).node(leaf)
        assert without.version == ""


@pytest.mark.parametrize(("target", "leaf", "kind", "version"), COMPILED)
def test_strict_warns_that_compiled_code_is_not_hashed(
    target: object, leaf: str, kind: astoken.NodeKind, version: str
) -> None:
    covers = version or "the interpreter"
    with pytest.warns(CompiledCodeWarning, match=f"no Python code to hash.*{covers}"):
        token = astoken.behavior_token(target, strict=True)
    assert token == astoken.behavior_token(target)  # no warning without strict


def test_a_compiled_decorator_around_python_code_does_not_warn(
    make_package: MakePackage, import_from: ImportFrom
) -> None:
    """``functools.lru_cache`` is compiled, but the function it wraps is hashed."""
    root = make_package(
        {
            "cached_pkg/__init__.py": "",
            "cached_pkg/mod.py": (
                "import functools\n\n\n@functools.lru_cache(maxsize=None)\n"
                "def f(x):\n    return x + 1\n"
            ),
        }
    )
    mod = import_from(root, "cached_pkg.mod")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        astoken.behavior_token(mod.f, strict=True)
    assert "functools" in astoken.dependencies(mod.f)


def test_the_token_of_compiled_code_follows_its_distribution_version(tmp_path: Path) -> None:
    """Upgrading numpy changes ``numpy:dot``'s token (its C code is not hashed); a fresh
    interpreter is told another numpy version by its package metadata."""
    other_version = (
        "import importlib.metadata as _md\n"
        "_real = _md.version\n"
        "_md.version = lambda name: '0.0.1' if name == 'numpy' else _real(name)\n"
    )
    cache = tmp_path / "cache"
    installed = token_in_fresh_interpreter(tmp_path, "numpy:dot", seed=1, cache_dir=cache)
    again = token_in_fresh_interpreter(tmp_path, "numpy:dot", seed=2, cache_dir=cache)
    upgraded = token_in_fresh_interpreter(
        tmp_path, "numpy:dot", seed=1, cache_dir=cache, extra_code=other_version
    )
    assert installed == again
    assert upgraded != installed


def test_explain_on_the_command_line_shows_the_leaf_and_strict_warns() -> None:
    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        code = cli.main(["explain", "--strict", "builtins:len"])
    assert code == 0
    assert "builtins  stdlib" in out.getvalue()
    assert "astoken: warning: builtins:len: no Python code to hash" in err.getvalue()
