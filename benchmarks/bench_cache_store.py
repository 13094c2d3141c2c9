"""The store behind ``@astoken.cache``: diskcache against joblib.Memory's store, measured.

For each result (a float, a dict of 1000 entries, an 80 MB numpy array, a 20 MB DataFrame),
the median of 5 writes, reads and membership checks of one entry under a 64-hex key, through
each library's own API: ``diskcache.Cache.set/get/__contains__`` and joblib's
``FileSystemStoreBackend.dump_item/load_item/contains_item`` (what ``joblib.Memory`` uses for
one call's result). Prints milliseconds; asserts nothing.

``--hits`` measures instead what issue 18 (part 2) targets: a hit of ``@astoken.cache`` on a
1 MB result (``bytes``, so that what is timed is the store, not unpickling) from the local
diskcache store and from a ``file://`` shared store, each the median of many calls in this
process (both read and check one entry: SHA-256 over its bytes, then unpickle), and prints one
JSON object.

Usage::

    python benchmarks/bench_cache_store.py
    python benchmarks/bench_cache_store.py --hits
"""

from __future__ import annotations

import json
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from typing import Any


def _median_ms(fn: Callable[[], object], repeat: int = 5) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1000


def _values() -> dict[str, Any]:
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(0)
    rows = 1_000_000
    return {
        "float": 1.5,
        "dict of 1000": {str(i): i for i in range(1000)},
        "numpy 80 MB": rng.standard_normal(10_000_000),
        "pandas 20 MB": pd.DataFrame(
            {
                "a": rng.standard_normal(rows),
                "b": rng.integers(0, 9, rows),
                "s": np.array(["x", "yy"])[rng.integers(0, 2, rows)],
            }
        ),
    }


_KEY = "0" * 64


def _joblib(backend: Any, value: Any) -> tuple[float, float, float]:
    call_id = ["astoken", "f", _KEY]
    return (
        _median_ms(lambda: backend.dump_item(call_id, value, verbose=0)),
        _median_ms(lambda: backend.load_item(call_id, verbose=0)),
        _median_ms(lambda: backend.contains_item(call_id)),
    )


def _diskcache(cache: Any, value: Any) -> tuple[float, float, float]:
    try:
        return (
            _median_ms(lambda: cache.set(_KEY, value)),
            _median_ms(lambda: cache.get(_KEY)),
            _median_ms(lambda: _KEY in cache),
        )
    finally:
        cache.close()


#: Calls per measured hit series (after one call that computes and stores the result).
HIT_CALLS = 200


def _one_megabyte(seed: int) -> bytes:
    return bytes([seed]) * (1 << 20)


def _hit_us(cached: Any, repeat: int = HIT_CALLS) -> float:
    cached(1)  # computed and stored
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        cached(1)
        times.append(time.perf_counter() - start)
    info = cached.cache_info()
    assert info.misses == 1, info  # every timed call was a hit
    return statistics.median(times) * 1e6


def hits() -> dict[str, float]:
    """Median µs of a hit on the local store and on a file:// store, 1 MB result, alternated
    in rounds so that a shared machine's load falls on both alike."""
    import pickle

    import astoken

    local: list[float] = []
    shared: list[float] = []
    with tempfile.TemporaryDirectory() as scratch:
        for round_ in range(3):
            local.append(
                _hit_us(astoken.cache(directory=f"{scratch}/local-{round_}")(_one_megabyte))
            )
            shared.append(
                _hit_us(astoken.cache(store=f"file://{scratch}/shared-{round_}")(_one_megabyte))
            )
    return {
        "pickled_bytes": len(pickle.dumps(_one_megabyte(1), protocol=5)),
        "local_us": min(local),
        "file_store_us": min(shared),
        "difference_us": min(shared) - min(local),
        "calls": HIT_CALLS,
    }


def main() -> int:
    if "--hits" in sys.argv[1:]:
        print(json.dumps(hits()))
        return 0
    import diskcache
    from joblib import Memory

    print(f"{'result':<14} {'store':<10} {'write ms':>9} {'read ms':>9} {'contains ms':>12}")
    for name, value in _values().items():
        with tempfile.TemporaryDirectory() as first, tempfile.TemporaryDirectory() as second:
            rows = {
                "joblib": _joblib(Memory(first, verbose=0).store_backend, value),
                "diskcache": _diskcache(diskcache.Cache(second), value),
            }
        for store, (write, read, contains) in rows.items():
            print(f"{name:<14} {store:<10} {write:>9.2f} {read:>9.2f} {contains:>12.3f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
