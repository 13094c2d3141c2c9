"""``astoken.dask``: dask keys that follow behavior, with the real dask and distributed.

Guarantees cited are those of the ``astoken.dask`` module docstring. Keys are compared in fresh
interpreters (each edit of the scenario package is a new process, as a new run of a pipeline
is); the cluster runs in a script of its own, so distributed's start-up warnings stay out of
this process (``filterwarnings = error``).
"""

from __future__ import annotations

import functools
import json
import pickle
import sys
import types
import warnings
from pathlib import Path
from typing import Any

import pytest
from _fresh import run_child, run_fresh
from _samples import HELPER_EDITS, write_sample

import astoken
import astoken.dask
from astoken.errors import TokenUnavailableWarning

PACKAGE = {
    "calc/__init__.py": "",
    "calc/helpers.py": """
        def helper(x):
            return x * 3
    """,
    "calc/core.py": """
        import functools

        from calc.helpers import helper


        def f(x):
            return helper(x) + 1


        class Model:
            def __init__(self, k):
                self.k = k

            def predict(self, x):
                return helper(x) + self.k


        add_two = functools.partial(f, 2)
    """,
    "calc/cached.py": """
        import os

        import astoken
        from calc.helpers import helper


        @astoken.cache(cache_dir=os.environ["SHARED_CACHE"])
        def square(x):
            with open(os.environ["RUNS_LOG"], "a") as log:
                log.write(f"{x}\\n")
            return helper(x) * x
    """,
}


def write_package(root: Path, edit: str | None = None) -> Path:
    """The package under ``root``, its calc/helpers.py edited by ``HELPER_EDITS[edit]``."""
    return write_sample(root, PACKAGE, helper="calc/helpers.py", edit=edit)


KEYS = """
import functools, json, operator, sys
import toolz
import dask.array as da
from dask import delayed
from dask.base import normalize_token, tokenize
import astoken.dask
from calc import core

def first_party():
    return {
        "tokenize": tokenize(core.f),
        "delayed": delayed(core.f, pure=True)(3).key,
        "map_blocks": da.ones(4, chunks=2).map_blocks(core.f).name,
        "method": tokenize(core.Model(1).predict),
        "partial": tokenize(core.add_two),
        "partial_made_here": tokenize(functools.partial(core.f, 5)),
    }

def others():
    return [tokenize(c) for c in (len, operator.add, toolz.identity, json.dumps, sum)] + [
        delayed(toolz.identity, pure=True)(3).key, tokenize(functools.partial(json.dumps, 1))]

own, own_others = first_party(), others()
table = dict(normalize_token._lookup)
astoken.dask.register()
astoken.dask.register()
registered, registered_others = first_party(), others()
astoken.dask.unregister()
after = first_party()
print(json.dumps({
    "own": own, "registered": registered,
    "others_kept": own_others == registered_others,
    "restored": after == own and normalize_token._lookup == table,
}))
"""


@pytest.fixture(scope="module")
def keys(tmp_path_factory: pytest.TempPathFactory) -> dict[str | None, Any]:
    """The keys of the scenario's callables, before and after each edit, one process each."""
    root = tmp_path_factory.mktemp("dask-keys")
    cache = root / "astoken-cache"
    return {
        edit: run_fresh(
            KEYS, paths=[write_package(root / str(edit), edit)], cache_dir=cache, timeout=120
        )
        for edit in (None, *HELPER_EDITS)
    }


def test_import_astoken_imports_no_dask() -> None:
    """``import astoken`` and ``import astoken.dask`` load no dask; register() does."""
    loaded = run_fresh(
        "import json, sys, astoken, astoken.dask\n"
        "before = sorted(m for m in sys.modules if m.split('.')[0] in ('dask', 'distributed'))\n"
        "astoken.dask.register()\n"
        "print(json.dumps([before, 'dask' in sys.modules]))\n"
    )
    assert loaded == [[], True]


def test_keys_follow_helper_code(keys: dict[str | None, Any]) -> None:
    """Points 1-2: every first-party key changes when a helper in another module does."""
    base, edited = keys[None]["registered"], keys["helper"]["registered"]
    assert {name: base[name] != edited[name] for name in base} == dict.fromkeys(base, True)


def test_keys_stay_under_a_comment_edit(keys: dict[str | None, Any]) -> None:
    """Point 1: a comment in the helper changes no key."""
    assert keys["comment"]["registered"] == keys[None]["registered"]


def test_dask_alone_misses_the_helper_edit(keys: dict[str | None, Any]) -> None:
    """Why the integration exists: unregistered, dask's keys ignore the helper's code; and
    registering changes them (they are astoken's, not dask's)."""
    assert keys["helper"]["own"] == keys[None]["own"]
    own, registered = keys[None]["own"], keys[None]["registered"]
    assert {name: own[name] != registered[name] for name in own} == dict.fromkeys(own, True)


def test_other_callables_keep_dask_keys_and_unregister_restores(
    keys: dict[str | None, Any],
) -> None:
    """Points 3 and 5: builtins, standard-library and third-party callables keep dask's keys;
    register() twice then unregister() gives dask's keys and dispatch table back."""
    assert [(run["others_kept"], run["restored"]) for run in keys.values()] == [(True, True)] * 3


# ---- point 4 and the dispatch table, in this process ------------------------------------


def _closure_over(value: object) -> types.FunctionType:
    def uses(x: int) -> tuple[object, int]:
        return value, x

    return uses  # type: ignore[return-value]


class _Partial(functools.partial):  # type: ignore[type-arg]
    """A partial subclass: dask caches the handler it finds for it under this class."""


@pytest.fixture
def unregistered() -> Any:
    yield
    astoken.dask.unregister()


def test_token_unavailable_falls_back_with_one_warning(unregistered: None) -> None:
    """Point 4: a closure value with no encoding gives dask's own key and one warning naming
    the function and astoken's reason; building the graph does not fail."""
    from dask import delayed
    from dask.base import tokenize

    func = _closure_over(types.SimpleNamespace(a=1))
    own = (tokenize(func), delayed(func, pure=True)(3).key)
    astoken.dask.register()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        registered = (tokenize(func), delayed(func, pure=True)(3).key, tokenize(func))
    assert registered == (*own, own[0])
    assert [w.category for w in caught] == [TokenUnavailableWarning]
    message = str(caught[0].message)
    assert "_closure_over.<locals>.uses" in message
    assert "types.SimpleNamespace" in message


def test_unregister_restores_the_dispatch_table(unregistered: None) -> None:
    """Point 5, exactly: entries dask cached for subclasses while registered go too."""
    from dask.base import normalize_token, tokenize

    def probe() -> list[str]:
        return [tokenize(_closure_over(1)), tokenize(_Partial(_closure_over, 2))]

    own = probe()
    table = dict(normalize_token._lookup)
    assert astoken.dask.is_registered() is False
    astoken.dask.register()
    astoken.dask.register()
    assert astoken.dask.is_registered() is True
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert probe() != own
    astoken.dask.unregister()
    astoken.dask.unregister()
    assert normalize_token._lookup == table
    assert probe() == own


# ---- @astoken.cache'd functions travel to workers as functions do ----------------------


@astoken.cache(directory="unused-no-call-is-made")
def _cached_here(x: int) -> int:
    return x + 1


def test_cached_function_pickles_by_reference() -> None:
    """A module-level cached function pickles as its name (its store and lock stay home); one
    defined in a function pickles (cloudpickle, as distributed does) by its parts."""
    import cloudpickle

    assert pickle.loads(pickle.dumps(_cached_here)) is _cached_here

    @astoken.cache(directory="unused-no-call-is-made")
    def local(x: int) -> int:
        return x + 2

    copy = cloudpickle.loads(cloudpickle.dumps(local))
    assert isinstance(copy, astoken.CachedFunction)
    assert (copy.directory, copy.__wrapped__(1)) == (local.directory, 3)


# ---- a distributed cluster ----------------------------------------------------------------

CLUSTER = """
import json, os, sys
from distributed import Client, LocalCluster
from dask import delayed
from dask.base import tokenize
import astoken.dask
from calc import cached, core


def keys():
    return [astoken.dask.is_registered(), tokenize(core.f), delayed(core.f, pure=True)(3).key,
            tokenize(core.Model(1).predict)]


if __name__ == "__main__":
    with LocalCluster(n_workers=2, processes=True, threads_per_worker=1,
                      dashboard_address=None) as cluster, Client(cluster) as client:
        astoken.dask.register_workers(client)
        here = keys()
        there = client.run(keys)
        workers = sorted(there)
        results = []
        for worker in workers:  # every argument on each worker in turn: the second reuses
            futures = client.map(cached.square, [1, 2, 3], workers=[worker], pure=False)
            results.append(client.gather(futures))
    with open(os.environ["RUNS_LOG"]) as log:
        runs = sorted(log.read().split())
    print(json.dumps({"here": here, "there": [there[w] for w in workers], "results": results,
                      "runs": runs}))
"""


def test_cluster_workers_agree_and_share_a_cache(tmp_path: Path) -> None:
    """On a two-process LocalCluster: workers registered by register_workers compute the
    client's keys, and an @astoken.cache'd function run as tasks on both workers with one
    shared cache directory computes each argument once."""
    package = write_package(tmp_path / "src")
    script = tmp_path / "cluster_run.py"
    script.write_text(CLUSTER)
    done = run_child(
        [sys.executable, str(script)],
        cwd=tmp_path,
        paths=[package],
        cache_dir=tmp_path / "astoken-cache",
        env={"SHARED_CACHE": str(tmp_path / "shared"), "RUNS_LOG": str(tmp_path / "runs.log")},
        timeout=180,
    )
    assert done.returncode == 0, done.stderr[-4000:]
    out = json.loads(done.stdout.strip().splitlines()[-1])
    assert out["here"][0] is True
    assert out["there"] == [out["here"], out["here"]]
    assert out["results"] == [[3, 12, 27], [3, 12, 27]]
    assert out["runs"] == ["1", "2", "3"]
