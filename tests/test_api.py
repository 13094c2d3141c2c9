"""The public API end to end on small packages written to tmp_path."""

from __future__ import annotations

import json
import sys
import textwrap
import warnings
from collections.abc import Iterator
from pathlib import Path

import pytest
from _fresh import run_child

import astoken
from astoken import NodeKind, RefKind
from astoken.errors import (
    SourceSyntaxError,
    StrictModeError,
    TargetNotFoundError,
    TargetTypeError,
    UnhashableValueError,
    UnresolvedReferenceWarning,
)


def _write(root: Path, files: dict[str, str]) -> Path:
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text))
    return root


@pytest.fixture
def pkg(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A scratch directory on sys.path whose top-level package names are unique per test."""
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setenv("ASTOKEN_CACHE_DIR", str(tmp_path / ".cache"))
    before = set(sys.modules)
    yield tmp_path
    for name in set(sys.modules) - before:
        del sys.modules[name]


def _fresh_token(root: Path, target: str, seed: int, code: str = "") -> str:
    script = code or f"import astoken; print(astoken.behavior_token({target!r}))"
    command = [sys.executable, "-c", script]
    done = run_child(command, cwd=root, paths=[root], seed=seed, cache_dir=root / ".cache")
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def test_token_is_64_hex_and_repeatable(pkg: Path):
    _write(pkg, {"apia/__init__.py": "", "apia/m.py": "def f(x):\n    return x + 1\n"})
    token = astoken.behavior_token("apia.m:f")
    assert token is not None
    assert len(token) == 64
    assert int(token, 16) >= 0
    assert astoken.behavior_token("apia.m:f") == token

    import apia.m

    assert astoken.behavior_token(apia.m.f) == token


def test_explain_lists_dependencies_with_paths_and_own_tokens(pkg: Path):
    _write(
        pkg,
        {
            "apib/__init__.py": "",
            "apib/settings.py": "LIMIT = 3\n",
            "apib/m.py": """
                from .settings import LIMIT
                def helper(x):
                    return min(x, LIMIT)
                def f(x):
                    return helper(x)
            """,
        },
    )
    explanation = astoken.explain("apib.m:f")
    assert explanation.token == astoken.behavior_token("apib.m:f")
    by_name = {d.name: d for d in explanation.dependencies}
    assert set(by_name) == {"apib.m:helper", "apib.settings:LIMIT"}
    assert by_name["apib.settings:LIMIT"].kind is NodeKind.CONSTANT
    assert [e.kind for e in by_name["apib.settings:LIMIT"].path] == [RefKind.CALL, RefKind.VALUE]
    assert by_name["apib.settings:LIMIT"].token == astoken.data_token(3)
    assert astoken.dependencies("apib.m:f") == ("apib.m:helper", "apib.settings:LIMIT")


def test_dependency_graph_to_networkx(pkg: Path):
    _write(pkg, {"apic/__init__.py": "", "apic/m.py": "def g(): pass\ndef f():\n    g()\n"})
    graph = astoken.dependency_graph("apic.m:f").to_networkx()
    assert set(graph.nodes) == {"apic.m:f", "apic.m:g"}
    assert graph.edges["apic.m:f", "apic.m:g"]["kinds"] == ("call",)


def test_static_mode_does_not_import(pkg: Path):
    _write(
        pkg,
        {
            "apid/__init__.py": "",
            "apid/m.py": (
                "raise RuntimeError('must not be imported')\ndef g(): pass\ndef f():\n    g()\n"
            ),
        },
    )
    assert astoken.dependencies("apid.m:f", static=True) == ("apid.m:g",)
    assert "apid.m" not in sys.modules
    with pytest.raises(ValueError, match="live code"):
        astoken.behavior_token("apid.m:f", static=True)


def test_unresolved_reference_warns_and_strict_raises(pkg: Path):
    _write(
        pkg,
        {
            "apie/__init__.py": "",
            "apie/m.py": "def f(obj, name):\n    return getattr(obj, name)()\n",
        },
    )
    with pytest.warns(UnresolvedReferenceWarning, match=r"m\.py:2"):
        assert astoken.behavior_token("apie.m:f") is not None
    with pytest.raises(StrictModeError, match="getattr"):
        astoken.behavior_token("apie.m:f", strict=True)


def test_depends_on_declares_a_dependency(pkg: Path):
    _write(
        pkg,
        {
            "apif/__init__.py": "",
            "apif/plugins.py": "def plugin():\n    return 1\n",
            "apif/m.py": """
                import astoken
                from .plugins import plugin
                @astoken.depends_on(plugin)
                def f(registry, name):
                    return registry[name]()
            """,
        },
    )
    assert "apif.plugins:plugin" in astoken.dependencies("apif.m:f")


@pytest.mark.parametrize(
    ("target", "error", "match"),
    [
        pytest.param(
            "nosuchpkg_xyz.m:f", TargetNotFoundError, "nosuchpkg_xyz", id="missing-module"
        ),
        pytest.param("apig.m:nope", TargetNotFoundError, "nope", id="missing-attribute"),
        pytest.param("apig.m:VALUE", TargetTypeError, "builtins.int", id="not-a-function"),
        pytest.param("apig.bad:f", SourceSyntaxError, r"bad\.py:2", id="syntax-error"),
        pytest.param("apig/none.py:f", TargetNotFoundError, "no such file", id="missing-path"),
    ],
)
def test_bad_targets_name_what_is_wrong(
    pkg: Path, monkeypatch: pytest.MonkeyPatch, target: str, error: type, match: str
):
    _write(
        pkg,
        {
            "apig/__init__.py": "",
            "apig/m.py": "VALUE = 1\ndef f(): pass\n",
            "apig/bad.py": "def f():\n    return (\n",
        },
    )
    monkeypatch.chdir(pkg)  # restored afterwards: later tests must not run from here
    with pytest.raises(error, match=match):
        astoken.behavior_token(target)


def test_unhashable_default_is_an_error_naming_function_and_type(pkg: Path):
    source = "import threading\ndef f(x=threading.Lock()):\n    return x\n"
    _write(pkg, {"apih/__init__.py": "", "apih/m.py": source})
    with pytest.raises(UnhashableValueError, match=r"apih\.m:f.*_thread\.lock"):
        astoken.behavior_token("apih.m:f")


def test_path_target_for_code_that_is_not_installed(tmp_path: Path):
    _write(
        tmp_path, {"scripts/tool.py": "def helper(): return 1\ndef main():\n    return helper()\n"}
    )
    token = _fresh_token(
        tmp_path,
        "",
        1,
        code="import astoken; print(astoken.behavior_token('scripts/tool.py:main'))",
    )
    assert len(token) == 64


def test_runtime_fallback_for_code_without_source(pkg: Path):
    # exec-built code has no file: helpers are discovered from its code object and globals.
    def build(helper_body: str) -> str | None:
        namespace: dict[str, object] = {"__name__": "apij_generated"}
        exec(
            textwrap.dedent(
                f"""
                def helper():
                    return {helper_body}
                def f():
                    return helper()
                """
            ),
            namespace,
        )
        return astoken.behavior_token(namespace["f"])

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UnresolvedReferenceWarning)
        assert build("1") == build("1")
        assert build("1") != build("2")


def test_cache_corruption_changes_no_token(pkg: Path):
    _write(
        pkg, {"apik/__init__.py": "", "apik/m.py": "def g(): return 1\ndef f():\n    return g()\n"}
    )
    first = _fresh_token(pkg, "apik.m:f", 1)
    entries = sorted(p for p in (pkg / ".cache").rglob("*.json") if p.is_file())
    assert entries, "the first run must have written cache entries"
    for path in entries:
        path.write_text("{not json")
    assert _fresh_token(pkg, "apik.m:f", 2) == first
    # The corrupt entries were read as misses and written again (the cache was in use).
    assert all(json.loads(path.read_text())["format"] for path in entries)
    assert _fresh_token(pkg, "apik.m:f", 3) == first


def test_cache_token_combines_in_order(pkg: Path):
    _write(
        pkg, {"apil/__init__.py": "", "apil/m.py": "class C:\n    def f(self):\n        return 1\n"}
    )
    import apil.m

    one = astoken.cache_token(data=[1, 2], behavior=[apil.m.C])
    assert one == astoken.cache_token(data=[1, 2], behavior=[apil.m.C])
    assert one != astoken.cache_token(data=[2, 1], behavior=[apil.m.C])
    assert one != astoken.cache_token(data=[1, 2])


def test_dependencies_declared_at_runtime_are_followed(pkg: Path):
    # depends_on applied to objects the source cannot name statically (computed at import).
    _write(
        pkg,
        {
            "apim/__init__.py": "",
            "apim/plugins.py": "def plug():\n    return 1\n",
            "apim/m.py": """
                import importlib
                import astoken
                PLUGINS = [getattr(importlib.import_module("apim.plugins"), "plug")]
                def f(name):
                    return name
                astoken.depends_on(*PLUGINS)(f)
            """,
        },
    )
    assert "apim.plugins:plug" in astoken.dependencies("apim.m:f")


def test_declared_string_targets_resolve_and_cover_dynamic_calls(pkg: Path):
    _write(
        pkg,
        {
            "apin/__init__.py": "",
            "apin/plugins.py": (
                "def plug():\n    return 1\nclass P:\n    def run(self):\n        return 2\n"
            ),
            "apin/m.py": """
                import astoken
                @astoken.depends_on("apin.plugins:plug", "apin.plugins.P.run")
                def f(obj, name):
                    return getattr(obj, name)()
            """,
        },
    )
    deps = astoken.dependencies("apin.m:f")
    assert {"apin.plugins:plug", "apin.plugins:P.run"} <= set(deps)
    assert astoken.behavior_token("apin.m:f", strict=True) is not None  # no unresolved left


def test_data_only_class_has_no_token_but_its_readers_do(pkg: Path):
    _write(
        pkg,
        {
            "apio/__init__.py": "",
            "apio/m.py": """
                class Config:
                    RATE = 2
                def scaled(x):
                    return x * Config.RATE
            """,
        },
    )
    assert astoken.behavior_token("apio.m:Config") is None
    assert "apio.m:Config.RATE" in astoken.dependencies("apio.m:scaled")


def test_modules_outside_the_closure_are_never_read_or_imported(pkg: Path):
    # Issue 7: the method-name guess used to index (and import) the whole package, so a script
    # that exits at import and merely defines a method of the same name ended the program.
    _write(
        pkg,
        {
            "nix/__init__.py": "",
            "nix/core.py": """
                import copy

                def f(x):
                    return copy.copy(x).run()
            """,
            "nix/script.py": """
                import sys

                class Job:
                    def run(self):
                        return 1

                sys.exit(0)
            """,
            "nix/broken.py": "def run(:\n",
        },
    )
    from nix import core

    assert astoken.behavior_token(core.f) is not None
    assert astoken.dependencies(core.f) == ("copy",)
    assert "nix.script" not in sys.modules


def test_data_token_of_an_instance_covers_its_class(pkg: Path):
    # Rule 3: a parameter's methods are the caller's, so a cache key over an instance must
    # change when the instance's class (or a helper its methods call) changes.
    _write(
        pkg,
        {
            "inst/__init__.py": "",
            "inst/util.py": "def scale(x):\n    return x * 2\n",
            "inst/model.py": """
                from .util import scale

                class Model:
                    def __init__(self, k):
                        self.k = k

                    def predict(self, x):
                        return scale(x) + self.k
            """,
        },
    )
    code = "import astoken\nfrom inst.model import Model\nprint(astoken.data_token(Model(1)))\n"
    before = _fresh_token(pkg, "", 1, code)
    util = pkg / "inst" / "util.py"
    util.write_text(util.read_text().replace("x * 2", "x * 3"))
    after = _fresh_token(pkg, "", 2, code)
    assert before != after
    util.write_text(util.read_text().replace("x * 3", "x * 3  # a comment"))
    assert _fresh_token(pkg, "", 3, code) == after


class _Clock:
    """A stand-in for ``time`` in astoken._pipeline._memo: ``monotonic()`` moves only when told."""

    def __init__(self) -> None:
        self.now = 1000.0

    def monotonic(self) -> float:
        return self.now


def test_memo_hit_looks_at_no_file(pkg: Path, monkeypatch: pytest.MonkeyPatch):
    # Issue 11: a repeat call on unchanged code is a dict lookup, no file system access.
    from astoken._pipeline import _memo

    _write(pkg, {"memo1/__init__.py": "", "memo1/m.py": "def f():\n    return 1\n"})
    from memo1 import m

    first = astoken.behavior_token(m.f)
    assert astoken.behavior_token("memo1.m:f") == first  # a string target: its own entry

    def no_stat(file: str) -> None:
        raise AssertionError(f"a memo hit looked at {file}")

    monkeypatch.setattr(_memo, "file_signature", no_stat)
    assert astoken.behavior_token(m.f) == first
    assert astoken.behavior_token("memo1.m:f") == first


def test_memo_looks_at_the_files_again_after_the_window(pkg: Path, monkeypatch: pytest.MonkeyPatch):
    # A file edited after import is seen once MEMO_RECHECK_SECONDS have passed: the running code
    # is not its source any more, which is an error (issue 8), not a stale token.
    from astoken._pipeline import _memo
    from astoken.errors import StaleCodeError

    clock = _Clock()
    monkeypatch.setattr(_memo, "time", clock)
    _write(pkg, {"memo2/__init__.py": "", "memo2/m.py": "def f():\n    return 1\n"})
    from memo2 import m

    first = astoken.behavior_token(m.f)
    (pkg / "memo2" / "m.py").write_text("def f():\n    return 22\n")
    clock.now += _memo.MEMO_RECHECK_SECONDS / 2
    assert astoken.behavior_token(m.f) == first  # within the window: the running code's token
    clock.now += _memo.MEMO_RECHECK_SECONDS
    with pytest.raises(StaleCodeError):
        astoken.behavior_token(m.f)


def test_objects_that_raise_on_any_attribute_are_inspected_safely(pkg: Path):
    # pydantic puts mocks on BaseModel that raise their own error from __getattr__; reading a
    # live object must never let that escape (it used to crash behavior_token).
    _write(
        pkg,
        {
            "mocky/__init__.py": "",
            "mocky/m.py": """
                class Boom(Exception):
                    pass

                class Mock:
                    __slots__ = ()  # no __dict__: reading one goes to __getattr__

                    def __getattr__(self, name):
                        raise Boom(name)

                class Model:
                    validator = Mock()

                    def dump(self):
                        return self.validator
            """,
        },
    )
    from mocky import m

    assert astoken.behavior_token(m.Model.dump) is not None
    assert "mocky.m:Model.validator" in astoken.dependencies(m.Model.dump)


_FALLBACKS = """
    try:
        from json import dumps as encode
    except ImportError:

        def _slow_quote(x):
            return '"' + str(x) + '"'

        def encode(x):
            return _slow_quote(x)

    try:
        from fbk.fast import tidy
    except ImportError:

        def tidy(x):
            return x

    def encode_all(values):
        return [tidy(encode(v)) for v in values]
"""


def test_a_definition_in_the_branch_an_import_did_not_take_is_not_what_runs(pkg: Path):
    # more_itertools defines ``_fsumprod`` under ``except ImportError`` after trying
    # ``from math import sumprod``: on 3.12+ the import wins and the fallback's helpers exist
    # only in source. What the live module binds is what the closure follows.
    _write(
        pkg,
        {
            "fbk/__init__.py": "",
            "fbk/fast.py": "def tidy(x):\n    return x.strip()\n",
            "fbk/m.py": _FALLBACKS,
        },
    )
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        deps = astoken.dependencies("fbk.m:encode_all")
        assert deps == ("fbk.fast:tidy", "json")
        # Named directly, the rebound name stands for what it is bound to.
        assert astoken.dependencies("fbk.m:encode") == ("json",)
        entries = {e.target: e for e in astoken.snapshot(["fbk"]).entries}
    assert "fbk.m:_slow_quote" not in entries  # not in the live module
    assert entries["fbk.m:encode_all"].dependencies == deps
    # Statically (no live module to ask) the source definitions are all there is.
    static = astoken.dependencies("fbk.m:encode_all", static=True)
    assert "fbk.m:_slow_quote" in static
