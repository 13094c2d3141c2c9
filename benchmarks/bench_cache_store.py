"""The store behind ``@astoken.cache``: diskcache against joblib.Memory's store, measured.

For each result (a float, a dict of 1000 entries, an 80 MB numpy array, a 20 MB DataFrame),
the median of 5 writes, reads and membership checks of one entry under a 64-hex key, through
each library's own API: ``diskcache.Cache.set/get/__contains__`` and joblib's
``FileSystemStoreBackend.dump_item/load_item/contains_item`` (what ``joblib.Memory`` uses for
one call's result). Prints milliseconds; asserts nothing.

Usage::

    python benchmarks/bench_cache_store.py
"""

from __future__ import annotations

import statistics
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


def main() -> int:
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
