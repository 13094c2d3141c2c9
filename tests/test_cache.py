"""``@astoken.cache`` (diskcache) and ``astoken.joblib_cache`` (joblib.Memory), with the real
stores: keys normalised through the signature, ``ignore=``, invalidation by behavior token
(across processes, after edits two modules away), inspection and clearing, and store faults
(a damaged, unwritable, read-only or full store never costs a computed result)."""

from __future__ import annotations

import gc
import os
import subprocess
import sys
import textwrap
import threading
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from _fresh import run_fresh

import astoken
from astoken.errors import (
    CacheWarning,
    UnhashableValueError,
    UntrustedCacheWarning,
    ValueTooDeepError,
)

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


# --------------------------------------------------------------------------------------------
# Store faults: a computed result is never lost (guarantees 5-7 of astoken/_memoize.py), with
# real diskcache stores damaged or made unusable on disk, each run in a fresh interpreter.
# --------------------------------------------------------------------------------------------

FAULT_PACKAGE = {
    "calc/__init__.py": "",
    "calc/core.py": """
        import os
        import astoken

        @astoken.cache(directory=os.environ.get("RESULTS"))
        def compute(x, size=1):
            with open(os.environ["CALLS_LOG"], "a") as log:
                log.write("call\\n")
            return [x] * size
    """,
}

# The child makes its calls (``CALLS`` below) with every warning recorded (``always``: the
# once-per-process rule must be astoken's, not the default filter's) and prints what it got.
FAULT_CHILD = """
import json, os, warnings
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    from calc.core import compute
    results = []
    for step in CALLS:
        if step == "limit":  # a full disk: writes fail with EFBIG from here on
            import resource, signal
            signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
            resource.setrlimit(resource.RLIMIT_FSIZE, (1 << 14, 1 << 14))
            continue
        results.append(len(compute(*step)))
print(json.dumps({
    "results": results,
    "warnings": [[w.category.__name__, str(w.message)] for w in caught],
}))
"""


def _fault_child(root: Path, calls: list[Any], **env: str) -> tuple[list[int], list[str], int]:
    """Run ``calls`` in a fresh interpreter: (lengths of the results, the warnings as
    "Category: message", how many times ``compute`` ran so far)."""
    for relative, source in FAULT_PACKAGE.items():
        path = root / relative
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(textwrap.dedent(source), encoding="utf-8")
    environ = {"CALLS_LOG": str(root / "calls.log"), "RESULTS": str(root / "results"), **env}
    code = FAULT_CHILD.replace("CALLS", repr(calls), 1)
    out = run_fresh(code, paths=[root], cwd=root, env=environ, cache_dir=root / ".summaries")
    log = root / "calls.log"
    ran = len(log.read_text().splitlines()) if log.exists() else 0
    return out["results"], [f"{c}: {m}" for c, m in out["warnings"]], ran


def _store_directory(root: Path) -> Path:
    (store,) = (root / "results").iterdir()
    return store


def _truncate_half(db: Path) -> None:
    os.truncate(db, db.stat().st_size // 2)


def _overwrite(db: Path) -> None:
    db.write_bytes(b"not a database, written over the store " * 2000)


@pytest.mark.parametrize(
    ("damage", "reason"),
    [
        pytest.param(_truncate_half, "database disk image is malformed", id="truncated"),
        pytest.param(_overwrite, "file is not a database", id="overwritten"),
    ],
)
def test_a_damaged_store_is_set_aside_and_a_new_one_started(
    tmp_path: Path, damage: Any, reason: str
) -> None:
    """Guarantee 6: every later call used to raise sqlite3.DatabaseError."""
    # A store of several pages (so that half of it is a damaged file), closed by its process.
    assert _fault_child(tmp_path, [(x, 50) for x in range(200)])[0] == [50] * 200
    store = _store_directory(tmp_path)
    damage(store / "cache.db")
    results, warned, ran = _fault_child(tmp_path, [(7, 3), (7, 3)])
    assert (results, ran) == ([3, 3], 201)  # computed once, then served by the new store
    aside = store.with_name(store.name + ".damaged-1")
    expected = (
        f"CacheWarning: the results store in {store} is damaged (DatabaseError: {reason}): set "
        f"aside as {aside} and a new, empty one started"
    )
    assert warned == [expected]
    assert aside.is_dir()
    assert (store / "cache.db").is_file()
    assert _fault_child(tmp_path, [(7, 3)]) == ([3], [], 201)  # the next process: a hit


def test_a_store_under_a_regular_file_costs_recomputation_not_the_result(tmp_path: Path) -> None:
    """Guarantee 5: used to raise NotADirectoryError after the function ran."""
    (tmp_path / "file").write_text("a regular file where a directory should be")
    store = tmp_path / "file" / "results"
    results, warned, ran = _fault_child(tmp_path, [(1, 4), (1, 4)], RESULTS=str(store))
    assert (results, ran) == ([4, 4], 2)
    assert len(warned) == 1  # once per process
    assert warned[0].startswith(f"CacheWarning: the results store in {store / 'calc.core.compute'}")
    assert warned[0].endswith(": results are returned but not kept")
    assert "NotADirectoryError" in warned[0]


def test_a_full_disk_costs_recomputation_not_the_result(tmp_path: Path) -> None:
    """Guarantee 5: a result written when the file size limit (RLIMIT_FSIZE, as a full disk
    does) makes writes fail used to raise OSError after the function ran."""
    big = (2, 100_000)  # a value file of 100 kB, over the limit
    results, warned, ran = _fault_child(tmp_path, [(1, 1), "limit", big, big, (1, 1)])
    assert (results, ran) == ([1, 100_000, 100_000, 1], 3)  # small one stored before the limit
    assert len(warned) == 1
    assert "File too large" in warned[0]
    assert warned[0].endswith(": results are returned but not kept")


def _make_read_only(path: Path) -> None:
    # Root ignores permission bits: an immutable directory and file refuse root too.
    if os.geteuid() == 0:
        subprocess.run(["chattr", "+i", str(path), str(path / "cache.db")], check=True)
    else:
        path.chmod(0o500)
        (path / "cache.db").chmod(0o400)


def _make_writable(path: Path) -> None:
    if os.geteuid() == 0:
        subprocess.run(["chattr", "-i", str(path), str(path / "cache.db")], check=True)
    else:
        path.chmod(0o700)
        (path / "cache.db").chmod(0o600)


def test_a_read_only_store_costs_recomputation_not_the_result(tmp_path: Path) -> None:
    """Guarantee 5: an immutable (or read-only) store used to raise OperationalError."""
    assert _fault_child(tmp_path, [(1, 2)])[0] == [2]
    store = _store_directory(tmp_path)
    _make_read_only(store)
    try:
        results, warned, ran = _fault_child(tmp_path, [(3, 2), (3, 2)])
    finally:
        _make_writable(store)
    assert (results, ran) == ([2, 2], 3)
    assert len(warned) == 1
    assert warned[0].startswith(f"CacheWarning: the results store in {store} cannot be used")


def test_an_entry_that_cannot_be_read_back_is_a_miss(tmp_path: Path) -> None:
    """Guarantee 6: a damaged value file (large results are files) is recomputed and replaced."""
    big = (5, 100_000)
    assert _fault_child(tmp_path, [big]) == ([100_000], [], 1)
    (value,) = _store_directory(tmp_path).rglob("*.val")
    value.write_bytes(b"garbage!" + value.read_bytes()[8:])
    results, warned, ran = _fault_child(tmp_path, [big, big])
    assert (results, ran) == ([100_000, 100_000], 2)
    assert len(warned) == 1
    assert "could not be read back" in warned[0]
    assert _fault_child(tmp_path, [big]) == ([100_000], [], 2)


def test_a_result_that_cannot_be_pickled_is_returned(pkg: Path) -> None:
    cached = astoken.cache(directory=pkg / "results")(_returns_a_lock)
    with pytest.warns(CacheWarning, match="cannot be kept in .*: it is returned, not stored"):
        assert cached(1)[0] == 1
    assert cached(1)[0] == 1  # reported once
    assert cached.cache_info().entries == 0


def _returns_a_lock(x: int) -> tuple[int, object]:
    return x, threading.Lock()


def test_an_argument_nested_too_deeply_is_named(pkg: Path) -> None:
    """Used to name astoken's internal (name, value) tuple: "data_token(): value of type
    builtins.tuple is nested too deeply"."""

    def compute(x: object) -> int:
        return 1

    cached = astoken.cache(directory=pkg / "results")(compute)
    deep: list[object] = []
    for _ in range(100_000):
        deep = [deep]
    with pytest.raises(ValueTooDeepError) as info:
        cached(deep)
    assert str(info.value).startswith(
        "test_an_argument_nested_too_deeply_is_named.<locals>.compute(): argument 'x': "
        "value of type builtins.list is nested too deeply"
    )


def test_without_diskcache_the_error_names_the_extra(tmp_path: Path) -> None:
    """``pip install .`` without the extra used to give a bare ModuleNotFoundError."""
    code = """
import json, sys
sys.modules["diskcache"] = None  # what an environment without diskcache gives: not importable
from calc.core import compute
try:
    compute(1)
except ModuleNotFoundError as exc:
    print(json.dumps([type(exc).__name__, str(exc), exc.name]))
"""
    _fault_child(tmp_path, [])  # writes the package
    env = {"CALLS_LOG": str(tmp_path / "calls.log"), "RESULTS": str(tmp_path / "results")}
    got = run_fresh(code, paths=[tmp_path], env=env, cache_dir=tmp_path / ".summaries")
    assert got == [
        "MissingExtraError",
        (
            "astoken.cache needs diskcache, which is not installed: "
            "pip install 'astoken[cache]' (or pip install diskcache)"
        ),
        "diskcache",
    ]
    assert not (tmp_path / "calls.log").exists()  # refused before the function ran


def test_results_go_under_the_astoken_cache_directory(
    pkg: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Used to be ``$ASTOKEN_CACHE_DIR/../results`` (``~/.cache/results`` by default)."""
    chosen = pkg / "chosen"
    monkeypatch.setenv("ASTOKEN_CACHE_DIR", str(chosen))
    cached = astoken.cache(_returns_a_number)
    assert cached(2) == 3
    assert cached.cache_info().directory == str(
        chosen / "results" / f"{__name__}._returns_a_number"
    )
    assert (chosen / "results").stat().st_mode & 0o777 == 0o700
    assert sorted(p.name for p in pkg.iterdir()) == ["chosen"]
    # The cache directory an option or [tool.astoken] names holds them as well.
    elsewhere = astoken.cache(cache_dir=str(pkg / "elsewhere"))(_returns_a_number)
    expected = pkg / "elsewhere" / "results" / f"{__name__}._returns_a_number"
    assert elsewhere.directory == str(expected)


def _returns_a_number(x: int) -> int:
    return x + 1


@pytest.mark.parametrize(
    "make_untrusted",
    [
        pytest.param(lambda store: store.chmod(0o777), id="directory-0777"),
        pytest.param(lambda store: os.chown(store / "cache.db", 65534, -1), id="foreign-database"),
    ],
)
def test_a_store_others_can_write_is_not_read(pkg: Path, make_untrusted: Any) -> None:
    """Guarantee 7: reading a pickle runs code, so a result someone else could have written
    is never read (the issue's 'a cache others can write is not trusted')."""
    trusting = astoken.cache(directory=pkg / "results")(_returns_a_number)
    assert trusting(1) == 2
    (store,) = (pkg / "results").iterdir()
    assert store.stat().st_mode & 0o777 == 0o700
    trusting._open().set(trusting.cache_key(1), "planted", "")
    make_untrusted(store)
    cached = astoken.cache(directory=pkg / "results")(_returns_a_number)  # a new process's view
    with pytest.warns(UntrustedCacheWarning, match="results stored there are not used"):
        assert cached(1) == 2
    assert cached.cache_info().misses == 1
