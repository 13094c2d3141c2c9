"""Seeded data of a few MB for the data-token tests, built the same way in any process.

``frames(rows)`` returns named values (pandas, numpy, pyarrow, polars); a child interpreter
imports this module and builds the very same data, so tokens can be compared across
processes and hash seeds without shipping the data.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

__all__ = ["ROWS", "frames"]

#: About 4 MB of pandas data per frame.
ROWS = 60_000


def _pandas(rows: int) -> dict[str, Any]:
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(20240611)
    words = np.array(["alpha", "beta", "gamma", "delta", "épsilon", ""], dtype=object)
    ints = rng.integers(-(10**9), 10**9, rows)
    frame = pd.DataFrame(
        {
            "int": ints,
            "float": rng.standard_normal(rows),
            "text": words[rng.integers(0, len(words), rows)].astype(str),
            "object": pd.Series(
                [("t", i % 7) if i % 3 else {"k": i % 5} for i in range(rows)], dtype=object
            ),
            "category": pd.Categorical(words[rng.integers(0, 4, rows)].astype(str)),
            "when": pd.date_range("2024-01-01", periods=rows, freq="min", tz="Europe/Paris"),
            "nullable": pd.array(
                [None if i % 11 == 0 else int(v) for i, v in enumerate(ints)], dtype="Int64"
            ),
            "flag": rng.integers(0, 2, rows).astype(bool),
            "period": pd.period_range("2020-01", periods=rows, freq="D"),
        },
        index=pd.Index(np.arange(rows) * 3, name="row"),
    )
    multi = frame.set_index("text", append=True)
    return {
        "frame": frame,
        "series": frame["float"].rename("value"),
        "index": frame.index,
        "multi": multi,
        "categorical": frame["category"].array,
        "arrow_strings": frame["text"].astype("string[pyarrow]"),
        "interval": pd.Series(pd.interval_range(0, rows, periods=rows // 10)),
        "timestamp": pd.Timestamp("2024-01-02 03:04:05.000000123", tz="UTC"),
        "timedelta": pd.Timedelta(nanoseconds=123),
        "nat_and_na": [pd.NaT, pd.NA],
    }


def _numpy(rows: int) -> dict[str, Any]:
    import numpy as np

    rng = np.random.default_rng(7)
    matrix = rng.standard_normal((rows, 8))
    structured = np.zeros(rows, dtype=[("id", "i8"), ("score", "f4"), ("tag", "U4")])
    structured["id"] = np.arange(rows)
    structured["score"] = rng.standard_normal(rows)
    structured["tag"] = "ab"
    objects = np.empty(2000, dtype=object)
    for i in range(2000):
        objects[i] = ("x", i) if i % 2 else dt.date(2024, 1, 1 + i % 28)
    return {
        "matrix": matrix,
        "transposed": matrix.T,
        "structured": structured,
        "objects": objects,
        "datetimes": np.arange("2024-01-01", rows, dtype="datetime64[s]").astype("M8[ns]"),
    }


def _arrow(rows: int) -> dict[str, Any]:
    import pyarrow as pa

    ids = pa.array(range(rows), type=pa.int64())
    names = pa.array([None if i % 13 == 0 else f"name-{i % 997}" for i in range(rows)])
    amounts = pa.array([None if i % 17 == 0 else i * 0.25 for i in range(rows)])
    lists = pa.array([[i, i + 1] if i % 5 else None for i in range(rows // 10)])
    table = pa.table({"id": ids, "name": names, "amount": amounts})
    return {"table": table, "lists": lists}


def _polars(rows: int) -> dict[str, Any]:
    import polars as pl

    frame = pl.DataFrame(
        {
            "id": list(range(rows)),
            "name": [None if i % 13 == 0 else f"name-{i % 997}" for i in range(rows)],
            "amount": [i * 0.5 for i in range(rows)],
            "kind": pl.Series([["a", "b", "c"][i % 3] for i in range(rows)], dtype=pl.Categorical),
        }
    )
    return {"polars_frame": frame, "polars_series": frame["name"]}


def frames(rows: int = ROWS) -> dict[str, Any]:
    """Every value of the data-token tests, by name."""
    return {**_pandas(rows), **_numpy(rows), **_arrow(rows), **_polars(rows)}
