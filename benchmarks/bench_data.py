"""What a data token costs next to ``joblib.hash`` and dask's ``tokenize``, on the same data.

Prints one table, asserts nothing. For each value, each hasher runs ``--repeat`` times in this
one process (after one warm-up call that imports what it needs) and the median is reported,
with the throughput over the value's in-memory size (``deep`` for pandas). The values:

- ``numpy float64``: an 8 MB matrix; ``numpy object``: 100k short tuples;
- ``pandas numeric``: 500k rows of int64 / float64 / bool (about 8.5 MB);
- ``pandas mixed``: the same with a ``str`` column, a categorical and tz-aware datetimes;
- ``pandas object``: 100k rows with a column of Python tuples;
- ``pyarrow table`` and ``polars frame``: the mixed columns, converted.

What each one hashes differs, and the table says it: joblib pickles the value (so it follows
pickle's layout: a frame rebuilt in other blocks can give another hash), dask's ``tokenize``
hashes pandas data through ``pandas.util.hash_pandas_object`` where it can, and astoken encodes
the logical content (see ``astoken._hashing._pandas``).

Usage::

    python benchmarks/bench_data.py               # the table (about a minute on 2 cores)
    python benchmarks/bench_data.py --repeat 3
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable
from typing import Any


def _values() -> dict[str, Any]:
    import numpy as np
    import pandas as pd
    import polars as pl
    import pyarrow as pa

    rng = np.random.default_rng(1)
    rows = 500_000
    numeric = pd.DataFrame(
        {
            "i": rng.integers(0, 10**9, rows),
            "f": rng.standard_normal(rows),
            "b": rng.integers(0, 2, rows).astype(bool),
        }
    )
    words = np.array(["alpha", "beta", "gamma", "delta"])
    mixed = numeric.assign(
        s=words[rng.integers(0, 4, rows)],
        c=pd.Categorical(words[rng.integers(0, 4, rows)]),
        t=pd.date_range("2024-01-01", periods=rows, freq="s", tz="UTC"),
    )
    objects = pd.DataFrame({"o": [(i % 7, "x") for i in range(100_000)], "i": range(100_000)})
    object_array = np.empty(100_000, dtype=object)
    for i in range(100_000):
        object_array[i] = (i % 7, "x")
    table = pa.Table.from_pandas(mixed, preserve_index=False)
    return {
        "numpy float64 (8 MB)": rng.standard_normal((1000, 1000)),
        "numpy object (100k tuples)": object_array,
        "pandas numeric (500k rows)": numeric,
        "pandas mixed (500k rows)": mixed,
        "pandas object (100k rows)": objects,
        "pyarrow table (500k rows)": table,
        "polars frame (500k rows)": pl.from_arrow(table),
    }


def _size_mb(value: Any) -> float:
    import pandas as pd

    if isinstance(value, pd.DataFrame):
        return float(value.memory_usage(deep=True).sum()) / 1e6
    for attribute in ("nbytes", "estimated_size"):
        size = getattr(value, attribute, None)
        if callable(size):
            size = size()
        if isinstance(size, int):
            return size / 1e6
    return float("nan")


def _hashers() -> dict[str, Callable[[Any], str]]:
    import joblib
    from dask.base import tokenize

    import astoken

    return {"astoken": astoken.data_token, "joblib.hash": joblib.hash, "dask tokenize": tokenize}


def _time(fn: Callable[[Any], str], value: Any, repeat: int) -> float | None:
    try:
        fn(value)  # warm-up: imports, registrations
    except Exception:
        return None
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn(value)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args(argv)
    values = _values()
    hashers = _hashers()
    names = list(hashers)
    print(f"{'value':<30} {'MB':>6}  " + "  ".join(f"{n:>22}" for n in names))
    for label, value in values.items():
        size = _size_mb(value)
        cells = []
        for name in names:
            seconds = _time(hashers[name], value, args.repeat)
            if seconds is None:
                cells.append(f"{'fails':>22}")
            else:
                cells.append(f"{seconds * 1000:>9.1f} ms {size / seconds:>7.0f} MB/s")
        print(f"{label:<30} {size:>6.1f}  " + "  ".join(cells))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
