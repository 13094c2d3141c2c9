"""``@astoken.cache`` (diskcache) and ``astoken.joblib_cache`` (joblib.Memory), with the real
stores: keys normalised through the signature, ``ignore=``, invalidation by behavior token
(across processes, after edits two modules away), inspection and clearing."""

from __future__ import annotations

import gc
import sys
import textwrap
import warnings
from collections.abc import Iterator
from pathlib import Path

import pytest
from _fresh import run_fresh

import astoken
from astoken.errors import UnhashableValueError

PACKAGE = {
    "shop/__init__.py": "",
    "shop/deep.py": """
        RATE = 2

        def scale(x):
            # how much a unit costs
            return x * RATE
    """,
    "shop/helpers.py": """
        from shop.deep import scale

        def price(x):
            return scale(x) + 1
    """,
    "shop/core.py": """
        import os
        import astoken
        from shop.helpers import price

        LOG = os.environ["CALLS_LOG"]

        def _record():
            with open(LOG, "a") as log:
                log.write("call\\n")

        {decorator}
        def total(items, discount=0.0, verbose=False):
            _record()
            return sum(price(x) for x in items) - discount
    """,
}

DISKCACHE = '@astoken.cache(directory=os.environ["RESULTS"], ignore=("verbose",))'
JOBLIB = (
    'import joblib\nmemory = joblib.Memory(os.environ["RESULTS"], verbose=0)\n'
    '@astoken.joblib_cache(memory, ignore=["verbose"])'
)
PLAIN_JOBLIB = (
    'import joblib\nmemory = joblib.Memory(os.environ["RESULTS"], verbose=0)\n'
    '@memory.cache(ignore=["verbose"])'
)

CHILD = """
import json
from shop.core import total
print(json.dumps([total([1, 2, 3]), total([1, 2, 3], 0.0, verbose=True)]))
"""


def _write(root: Path, decorator: str) -> None:
    for relative, source in PACKAGE.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        text = textwrap.dedent(source)
        if "{decorator}" in text:
            text = text.replace("{decorator}", textwrap.dedent(decorator))
        path.write_text(text, encoding="utf-8")


def _run(root: Path) -> tuple[list[float], int]:
    env = {
        "RESULTS": str(root / "results"),
        "CALLS_LOG": str(root / "calls.log"),
        "PYTHONDONTWRITEBYTECODE": "1",  # edits of equal size in one second stay visible
    }
    result = run_fresh(CHILD, paths=[root], cwd=root, env=env, cache_dir=root / ".summaries")
    log = root / "calls.log"
    calls = len(log.read_text().splitlines()) if log.exists() else 0
    return result, calls


def _edit(root: Path, relative: str, old: str, new: str) -> None:
    path = root / relative
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new), encoding="utf-8")


@pytest.mark.parametrize("decorator", [DISKCACHE, JOBLIB], ids=["astoken.cache", "joblib_cache"])
def test_an_edit_two_modules_away_recomputes_and_a_comment_reuses(
    tmp_path: Path, decorator: str
) -> None:
    _write(tmp_path, decorator)
    # Keyword, positional and default spellings of one call, and an ignored argument: one run.
    assert _run(tmp_path) == ([15.0, 15.0], 1)
    assert _run(tmp_path) == ([15.0, 15.0], 1)  # another process: from the store
    _edit(tmp_path, "shop/deep.py", "# how much a unit costs", "# the unit price")
    assert _run(tmp_path) == ([15.0, 15.0], 1)  # a comment: reused
    _edit(tmp_path, "shop/deep.py", "x * RATE", "x * RATE * RATE")
    assert _run(tmp_path) == ([27.0, 27.0], 2)  # a helper two modules away: recomputed
    _edit(tmp_path, "shop/deep.py", "RATE = 2", "RATE = 3")
    assert _run(tmp_path) == ([57.0, 57.0], 3)  # a constant it reads: recomputed


def test_plain_joblib_memory_misses_the_helper_edit(tmp_path: Path) -> None:
    """Why joblib_cache exists: joblib.Memory alone serves the old result."""
    _write(tmp_path, PLAIN_JOBLIB)
    assert _run(tmp_path) == ([15.0, 15.0], 1)
    _edit(tmp_path, "shop/deep.py", "x * RATE", "x * RATE * RATE")
    assert _run(tmp_path) == ([15.0, 15.0], 1)  # stale: the helper changed, joblib did not see


# --------------------------------------------------------------------------------------------
# In one process: keys, inspection, clearing, errors.
# --------------------------------------------------------------------------------------------


@pytest.fixture
def pkg(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setenv("CALLS_LOG", str(tmp_path / "calls.log"))
    monkeypatch.setenv("RESULTS", str(tmp_path / "results"))
    before = set(sys.modules)
    yield tmp_path
    for name in set(sys.modules) - before:
        del sys.modules[name]


def test_arguments_are_normalised_through_the_signature(pkg: Path) -> None:
    _write(pkg, DISKCACHE)
    from shop.core import total

    key = total.cache_key([1, 2], 0.0)
    assert total.cache_key([1, 2]) == key  # default applied
    assert total.cache_key(items=[1, 2], discount=0.0) == key  # keyword = positional
    assert total.cache_key([1, 2], verbose=True) == key  # ignored
    assert total.cache_key([1, 2], 0.5) != key
    assert total.cache_key([2, 1]) != key
    assert total([1, 2]) == total(items=[1, 2], discount=0.0)
    info = total.cache_info()
    assert (info.hits, info.misses, info.entries, info.current_entries) == (1, 1, 1, 1)
    assert info.behavior_token == astoken.behavior_token(total.__wrapped__)
    assert info.size_bytes > 0


def test_clear_all_or_only_stale_entries(pkg: Path) -> None:
    _write(pkg, DISKCACHE)
    import shop.core

    shop.core.total([1])
    shop.core.total([2])
    # A store written by an older version of the code: entries of another behavior token.
    stale = shop.core.total._open()
    stale.set("old-key", 1.0, tag="0" * 64)
    assert shop.core.total.cache_info().entries == 3
    assert shop.core.total.cache_info().current_entries == 2
    assert shop.core.total.cache_clear(stale=True) == 1
    assert shop.core.total.cache_info().entries == 2
    assert shop.core.total.cache_clear() == 2
    assert shop.core.total.cache_info().entries == 0


def test_an_unencodable_argument_is_an_error_naming_it(pkg: Path) -> None:
    _write(pkg, DISKCACHE)
    from shop.core import total

    with pytest.raises(UnhashableValueError) as info:
        total([1], discount=object())
    assert "total(): argument 'discount'" in str(info.value)
    assert total.cache_info().misses == 0  # nothing ran, nothing stored


def test_ignore_must_name_parameters(pkg: Path) -> None:
    with pytest.raises(TypeError, match="ignore= names no parameter"):
        astoken.cache(ignore=("nope",))(lambda x: x)
    with pytest.raises(TypeError, match="not a str"):
        astoken.cache(ignore="x")


def test_a_cached_method_keys_on_its_instance(pkg: Path) -> None:
    (pkg / "meth").mkdir()
    (pkg / "meth" / "__init__.py").write_text("")
    (pkg / "meth" / "m.py").write_text(
        textwrap.dedent(
            """
            import os
            import astoken

            class Model:
                def __init__(self, k):
                    self.k = k

                @astoken.cache(directory=os.environ["RESULTS"])
                def predict(self, x):
                    return self.k * x
            """
        )
    )
    from meth.m import Model

    assert Model(2).predict(3) == 6
    assert Model(3).predict(3) == 9  # another instance, another key
    assert Model(2).predict(3) == 6
    assert Model.predict.cache_info().hits == 1


def test_the_store_closes_with_the_function(
    pkg: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    # A cached function dropped with its module must not leave its SQLite connection to the
    # garbage collector (an unclosed-database ResourceWarning, reported by whatever runs then).
    reported: list[object] = []
    monkeypatch.setattr(sys, "unraisablehook", reported.append)
    import astoken._memoize as memoize

    def add(x: int) -> int:
        return x + 1

    cached = memoize.cache(directory=tmp_path / "results")(add)
    assert cached(1) == 2
    with warnings.catch_warnings():
        warnings.simplefilter("error", ResourceWarning)  # raised in a finalizer: reported
        del cached
        gc.collect()
    assert reported == []
