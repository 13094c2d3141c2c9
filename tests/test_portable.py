"""Portable tokens (issue 18, part 1) and tokens in worker processes (part 3).

Guarantees cited: ``astoken._summary._canonical`` 1-5 (the canonical source),
``astoken._hashing._source`` 1-4 (what a function contributes), ``astoken._combine`` 6 (the
header). The before/after scenario suite runs in portable mode too (``test_scenarios.py``).
"""

from __future__ import annotations

import json
import os
import subprocess
import textwrap
import warnings
from pathlib import Path

import libcst as cst
import pytest
from _fresh import REPO_ROOT, run_fresh
from _interpreters import MINORS, interpreters

import astoken
from astoken._summary._canonical import function_sources
from astoken._summary._lines import node_lines
from astoken.errors import NoSourceError, UnresolvedReferenceWarning

# ---- a multi-module sample package -----------------------------------------------------------

_SAMPLE = {
    "shop/__init__.py": "from .pricing import total\n",
    "shop/rates.py": """\
        import enum

        TAX = 0.2
        LIMITS = {"small": 10, "large": 1000}


        class Tier(enum.Enum):
            BASIC = 1
            GOLD = 2
        """,
    "shop/model.py": """\
        from dataclasses import dataclass, field

        from .rates import TAX, Tier


        @dataclass(frozen=True)
        class Item:
            name: str
            price: float
            tags: tuple[str, ...] = field(default=())
            tier: Tier = Tier.BASIC

            def gross(self) -> float:
                return self.price * (1 + TAX)

            @property
            def label(self):
                return f"{self.name!r}: {self.price:.2f}"
        """,
    "shop/pricing.py": """\
        import functools
        import math

        from . import rates
        from .model import Item


        def cached(function):
            memo = {}

            @functools.wraps(function)
            def wrapper(*args):
                if args not in memo:
                    memo[args] = function(*args)
                return memo[args]

            return wrapper


        def discount(n, *, rate=0.1, floor=lambda x: max(x, 0)):
            factor = 1 - rate
            return floor(n * factor)


        @cached
        def total(names, price=2.5):
            items = [Item(n, price) for n in names]
            subtotal = sum(item.gross() for item in items)
            if subtotal > rates.LIMITS["large"]:
                subtotal = discount(subtotal)
            async def _unused():
                return None
            by_name = sorted(items, key=lambda i: i.name)
            return math.floor(subtotal), [i.label for i in items], by_name
        """,
    "shop/jobs.py": """\
        import astoken

        from .model import Item
        from .pricing import discount


        @astoken.cache(portable=True)
        def priced(item, rule=discount):
            return rule(item.gross())
        """,
}
_TARGETS = ("shop.pricing:total", "shop.model:Item", "shop.pricing:discount")


def _write(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text), encoding="utf-8")
    return root


_CHILD = """\
import json, sys
import astoken
from shop.jobs import priced
from shop.model import Item
from shop.pricing import cached, discount
targets = json.loads(sys.argv[1])
values = [discount, Item("a", 2.0), {"rule": cached}]
print(json.dumps({
    "portable": [astoken.behavior_token(t, portable=True) for t in targets]
    + [astoken.data_token(v, portable=True) for v in values]
    + [priced.cache_key(Item("a", 2.0)), priced.cache_key(Item("a", 2.0), rule=abs)],
    "bytecode": [astoken.behavior_token(t) for t in targets]
    + [astoken.data_token(v) for v in values],
}))
"""


def test_portable_tokens_equal_on_every_minor(tmp_path: Path, pytestconfig: pytest.Config) -> None:
    """The sample package's portable tokens are the same on CPython 3.10-3.13 (each child in
    its own directory, hash seed and cache); its bytecode tokens differ on every minor. So do
    portable data tokens of values holding functions and first-party objects, and the keys of
    a portable ``@astoken.cache`` function called with them."""
    found = interpreters(pytestconfig)
    children = {}
    # The four children run at once (each in its own directory, seed and cache): the test
    # waits for the slowest, not for their sum.
    for seed, minor in enumerate(MINORS, 1):
        root = _write(tmp_path.joinpath(f"dir{seed}", *["deeper"] * seed), _SAMPLE)
        env = {
            **os.environ,
            "PYTHONPATH": os.pathsep.join([str(root), str(REPO_ROOT)]),
            "PYTHONHASHSEED": str(seed),
            "ASTOKEN_CACHE_DIR": str(tmp_path / f"cache{seed}"),
            "PYTHONDONTWRITEBYTECODE": "1",
        }
        children[minor] = subprocess.Popen(
            [found[minor], "-c", _CHILD, json.dumps(_TARGETS)],
            cwd=root,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
    results = {}
    for minor, child in children.items():
        out, err = child.communicate(timeout=600)
        assert child.returncode == 0, f"python{minor} failed:\n{err}"
        results[minor] = json.loads(out.strip().splitlines()[-1])
    portable = {minor: tuple(r["portable"]) for minor, r in results.items()}
    bytecode = {minor: tuple(r["bytecode"]) for minor, r in results.items()}
    assert all(None not in tokens for tokens in portable.values())
    assert len(set(portable.values())) == 1, portable
    assert len(set(bytecode.values())) == len(MINORS), bytecode
    assert set(portable[MINORS[0]]).isdisjoint(bytecode[MINORS[0]])


# ---- canonical source (guarantees of astoken._summary._canonical) ---------------------------


def _digests(source: str) -> dict[str, str]:
    module = cst.parse_module(textwrap.dedent(source))
    return {f.name: f.digest for f in function_sources(module, node_lines(module))}


_BASE = """\
    import os

    LIMIT = 3


    def f(a, b=2, *, c: int = 3) -> int:
        total = a * b + LIMIT
        for item in range(c):
            total += item
        def inner(y):
            return y + total
        return os.path.join(str(total)), inner
    """

#: (id, edited source, same digest of ``f``?, guarantee)
_EDITS = [
    ("comment", _BASE.replace("LIMIT\n", "LIMIT  # why\n"), True, 1),
    ("docstring", _BASE.replace("-> int:\n", '-> int:\n        """Doc."""\n'), True, 1),
    ("pass", _BASE.replace("return y", "pass\n            return y"), True, 1),
    ("reflowed", _BASE.replace("a * b + LIMIT", "(a *\n             b) + LIMIT"), True, 1),
    ("renamed_local", _BASE.replace("total", "acc").replace("item", "i"), True, 3),
    ("annotation", _BASE.replace("c: int", "c: str").replace("-> int", "-> str"), True, 2),
    ("default_value", _BASE.replace("b=2", "b=5"), True, 2),
    ("operator", _BASE.replace("a * b", "a - b"), False, 4),
    ("constant", _BASE.replace("range(c)", "range(c + 1)"), False, 4),
    ("global_name", _BASE.replace("+ LIMIT", "+ LIMIT2"), False, 3),
    ("attribute", _BASE.replace("path.join", "path.split"), False, 3),
    ("parameter_renamed", _BASE.replace("(a, b=2", "(x, b=2").replace("a * b", "x * b"), False, 3),
    (
        "nested_parameter",
        _BASE.replace("inner(y)", "inner(z)").replace("y + total", "z + total"),
        False,
        3,
    ),
    ("kwonly_to_positional", _BASE.replace("*, c", "c"), False, 2),
    ("async", _BASE.replace("def f", "async def f"), False, 2),
]


@pytest.mark.parametrize(
    ("edited", "same"), [(e[1], e[2]) for e in _EDITS], ids=[e[0] for e in _EDITS]
)
def test_canonical_source_of_a_function(edited: str, same: bool) -> None:
    before, after = _digests(_BASE)["f"], _digests(edited)["f"]
    assert (before == after) is same


def test_a_closure_variable_renamed_in_both_functions_is_the_same_inner_code() -> None:
    """Guarantee 3: the nested function's free variable is the enclosing function's local."""
    renamed = _BASE.replace("total", "acc")
    assert _digests(_BASE)["inner"] == _digests(renamed)["inner"]
    assert _digests(_BASE)["inner"] != _digests(_BASE.replace("y + total", "y - total"))["inner"]


def test_a_global_read_is_not_a_local_of_a_nested_scope() -> None:
    """A name bound only in a nested function stays a global where the outer one reads it."""
    source = """\
        def f():
            def g():
                helper = 1
                return helper
            return helper(), g
        """
    other = source.replace("return helper(), g", "return other(), g")
    assert _digests(source)["f"] != _digests(other)["f"]


# ---- the API -------------------------------------------------------------------------------


def test_portable_token_differs_from_bytecode_token_and_follows_edits(tmp_path: Path) -> None:
    root = _write(tmp_path / "one", _SAMPLE)
    code = """\
import json, astoken
t = "shop.pricing:total"
print(json.dumps([astoken.behavior_token(t, portable=True), astoken.behavior_token(t)]))
"""
    portable, bytecode = run_fresh(code, paths=[root], seed=1, cwd=root, cache_dir=tmp_path / "c1")
    assert portable != bytecode
    helper = root / "shop" / "pricing.py"
    helper.write_text(helper.read_text().replace("1 - rate", "1 + rate"), encoding="utf-8")
    edited = run_fresh(code, paths=[root], seed=2, cwd=root, cache_dir=tmp_path / "c1")
    assert edited[0] != portable
    helper.write_text(helper.read_text().replace("1 + rate", "(1 + rate)  # kept"), "utf-8")
    cosmetic = run_fresh(code, paths=[root], seed=3, cwd=root, cache_dir=tmp_path / "c2")
    assert cosmetic[0] == edited[0]


def test_code_without_source_is_an_error_naming_it_unless_bytecode_is_allowed() -> None:
    """Guarantee 3 of astoken._hashing._source."""
    namespace: dict[str, object] = {"__name__": "astoken_exec_sample"}
    exec("def made(x):\n    return x + 1\n", namespace)
    made = namespace["made"]
    with warnings.catch_warnings():
        # Code without source also has references astoken cannot follow: said, not tested here.
        warnings.simplefilter("ignore", UnresolvedReferenceWarning)
        with pytest.raises(NoSourceError, match="astoken_exec_sample:made"):
            astoken.behavior_token(made, portable=True, use_cache=False)
        allowed = astoken.behavior_token(made, portable=True, allow_bytecode=True, use_cache=False)
        bytecode = astoken.behavior_token(made, use_cache=False)
    assert allowed is not None
    assert allowed != bytecode


# ---- part 3: the same token in every worker ------------------------------------------------

_WORKERS = """\
import concurrent.futures, json, multiprocessing, os, sys
import astoken

TARGETS = {targets!r}


def tokens(cwd, path_order):
    os.chdir(cwd)
    if path_order == "reversed":
        sys.path[:] = list(reversed(sys.path))
    out = []
    for target in TARGETS:
        out.append(astoken.behavior_token(target))
        out.append(astoken.behavior_token(target, portable=True))
    return out


if __name__ == "__main__":
    parent = tokens(os.getcwd(), "as is")
    found = {{}}
    for method in ("spawn", "fork"):
        context = multiprocessing.get_context(method)
        with concurrent.futures.ProcessPoolExecutor(2, mp_context=context) as pool:
            jobs = [pool.submit(tokens, {other!r}, order) for order in ("as is", "reversed")]
            found[method] = [job.result() for job in jobs]
    print(json.dumps({{"parent": parent, "workers": found}}))
"""


def test_tokens_in_spawned_and_forked_workers_equal_the_parents(tmp_path: Path) -> None:
    """Part 3: workers started by spawn and by fork, in another working directory and with
    another sys.path order, compute the parent's tokens, in both modes."""
    root = _write(tmp_path / "code", _SAMPLE)
    other = tmp_path / "elsewhere"
    other.mkdir()
    script = tmp_path / "workers.py"
    script.write_text(_WORKERS.format(targets=_TARGETS, other=str(other)), encoding="utf-8")
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(root), str(REPO_ROOT)]),
        "ASTOKEN_CACHE_DIR": str(tmp_path / "cache"),
        "PYTHONHASHSEED": "random",
    }
    import sys

    done = subprocess.run(
        [sys.executable, str(script)],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout.strip().splitlines()[-1])
    parent = result["parent"]
    assert None not in parent
    assert len(set(parent)) == len(parent)  # portable and bytecode tokens never collide
    for method, runs in result["workers"].items():
        for tokens in runs:
            assert tokens == parent, method


def test_a_function_hashed_from_its_own_lines_has_its_whole_file_digest(tmp_path: Path) -> None:
    """A function that reads no enclosing function's variable is hashed from its own lines
    when its file's digests are not at hand (a function reached only through a value): the
    digest is the one its whole file gives it, whichever way it is computed first."""
    from astoken import _store
    from astoken._pipeline._sources import SourceTables

    module = tmp_path / "lone_sample.py"
    module.write_text(
        textwrap.dedent(
            '''\
            import functools


            class Shape:
                @functools.lru_cache(maxsize=None)  # decorated, multi-line
                def area(
                    self,
                    scale=2,
                ):
                    text = """
            a string at column 0
            """
                    return (self.w *
                            scale), text

                def other(self):
                    return 1


            def top(x):
                return [y for y in x]
            '''
        ),
        encoding="utf-8",
    )
    namespace: dict[str, object] = {}
    exec(compile(module.read_text(), str(module), "exec"), namespace)
    shape = namespace["Shape"]
    codes = [shape.area.__wrapped__.__code__, shape.other.__code__, namespace["top"].__code__]  # type: ignore[attr-defined]
    lone = SourceTables(_store.SummaryStore(None), allow_bytecode=False)
    from_lines = [lone.digests(code) for code in codes]
    whole = SourceTables(_store.SummaryStore(None), allow_bytecode=False)
    assert whole._known_table(str(module)) is None  # the file was not parsed whole
    assert whole.table(str(module)) is not None
    assert from_lines == [whole.digests(code) for code in codes]
    assert all(len(digests) == 1 for digests in from_lines)


def test_a_portable_snapshot_reads_back_with_its_tokens(tmp_path: Path) -> None:
    """A portable lock file records ``python: portable``; its reader makes the portable
    behavior tokens again from the own tokens, equal to ``behavior_token(..., portable=True)``."""
    root = _write(tmp_path / "code", _SAMPLE)
    code = f"""\
import json, astoken
snap = astoken.snapshot(["shop"], portable=True)
snap.save({str(tmp_path / "lock.json")!r})
back = astoken.Snapshot.load({str(tmp_path / "lock.json")!r})
print(json.dumps({{
    "python": back.python,
    "read": {{e.target: e.token for e in back.entries}},
    "made": {{e.target: e.token for e in snap.entries}},
    "total": astoken.behavior_token("shop.pricing:total", portable=True),
}}))
"""
    found = run_fresh(code, paths=[root], seed=5, cwd=root, cache_dir=tmp_path / "cache")
    assert found["python"] == "portable"
    assert found["read"] == found["made"]
    assert found["read"]["shop.pricing:total"] == found["total"]


def test_a_portable_snapshot_with_jobs_has_its_workers_compute_the_digests(tmp_path: Path) -> None:
    """``--jobs`` workers leave each module's function digests in the cache beside its
    summary (the parent parses no file again for them); the tokens are those of one job."""
    from astoken import _store
    from astoken._pipeline._sources import sources_key

    root = _write(tmp_path / "code", _SAMPLE)
    code = """\
import json, astoken
snap = astoken.snapshot(["shop"], portable=True, jobs=JOBS)
print(json.dumps({e.target: e.token for e in snap.entries}))
"""
    tokens = {}
    for jobs in (2, 1):
        cache = tmp_path / f"cache{jobs}"
        tokens[jobs] = run_fresh(
            code.replace("JOBS", str(jobs)), paths=[root], seed=jobs, cwd=root, cache_dir=cache
        )
    assert tokens[2] == tokens[1]
    assert "shop.pricing:total" in tokens[2]
    store = _store.SummaryStore(str(tmp_path / "cache2"))
    files = sorted((root / "shop").glob("*.py"))
    assert len(files) == 5
    for file in files:
        assert store.has(sources_key(_store.summary_key(file.read_bytes()))), file.name
