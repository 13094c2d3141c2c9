"""``data_token`` of pandas, numpy, pyarrow and polars data, with the real libraries (issue 9).

Content-based: the same token in every process and hash seed, the same for equal data however
it is laid out in memory (copies, views, chunks, slices, concatenations), and a different one
for a changed cell, index label, column name, dtype or order. The data is a few MB per frame
(``tests/_frames.py``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
import polars as pl
import pyarrow as pa
import pytest
from _frames import frames
from _fresh import TESTS_DIR, run_fresh

import astoken


@pytest.fixture(scope="module")
def data() -> dict[str, Any]:
    return frames()


_CHILD = """
import json, sys
sys.path.insert(0, sys.argv[1] if len(sys.argv) > 1 else {tests!r})
import _frames, astoken
print(json.dumps({{name: astoken.data_token(value) for name, value in _frames.frames().items()}}))
"""


def test_tokens_agree_across_processes_and_hash_seeds(data: dict[str, Any]) -> None:
    here = {name: astoken.data_token(value) for name, value in data.items()}
    for seed in (1, 2024):
        assert run_fresh(_CHILD.format(tests=str(TESTS_DIR)), seed=seed) == here
    assert len(set(here.values())) == len(here)  # every value has a token of its own


def _same(a: object, b: object) -> None:
    assert astoken.data_token(a) == astoken.data_token(b)


def _changed(a: object, b: object) -> None:
    assert astoken.data_token(a) != astoken.data_token(b)


# ---- equal data, other layout: the same token -------------------------------------------

EQUAL: list[tuple[str, Callable[[dict[str, Any]], tuple[object, object]]]] = [
    ("frame copy", lambda d: (d["frame"], d["frame"].copy(deep=True))),
    (
        "frame from two halves",
        lambda d: (d["frame"], pd.concat([d["frame"].iloc[:1000], d["frame"].iloc[1000:]])),
    ),
    (
        "frame rebuilt column by column",
        lambda d: (d["frame"], pd.DataFrame({c: d["frame"][c] for c in d["frame"].columns})),
    ),
    ("frame through a reversed view", lambda d: (d["frame"], d["frame"].iloc[::-1].iloc[::-1])),
    ("series copy", lambda d: (d["series"], d["series"].copy())),
    (
        "multiindex without unused levels",
        lambda d: (
            d["multi"].iloc[:500],
            d["multi"].iloc[:500].set_axis(d["multi"].index[:500].remove_unused_levels()),
        ),
    ),
    ("range index and its integers", lambda d: (pd.RangeIndex(5), pd.Index(np.arange(5)))),
    ("transposed view and its copy", lambda d: (d["transposed"], d["transposed"].copy())),
    ("fortran order", lambda d: (d["matrix"], np.asfortranarray(d["matrix"]))),
    (
        "arrow table in chunks",
        lambda d: (
            d["table"],
            pa.concat_tables([d["table"].slice(0, 777), d["table"].slice(777)]),
        ),
    ),
    (
        "arrow slice and fresh array",
        lambda d: (
            d["table"]["name"].combine_chunks().slice(5, 10),
            pa.array(d["table"]["name"].combine_chunks().slice(5, 10).to_pylist()),
        ),
    ),
    ("arrow garbage under nulls", lambda d: _nulls_over_garbage()),
    (
        "arrow dictionaries with other codes",
        lambda d: (
            pa.DictionaryArray.from_arrays(pa.array([0, 1, 0]), pa.array(["a", "b"])),
            pa.DictionaryArray.from_arrays(pa.array([1, 0, 1]), pa.array(["b", "a"])),
        ),
    ),
    (
        "polars frame in chunks",
        lambda d: (
            d["polars_frame"],
            pl.concat([d["polars_frame"][:1000], d["polars_frame"][1000:]], rechunk=False),
        ),
    ),
]


def _nulls_over_garbage() -> tuple[object, object]:
    values = np.array([1, 999, 3], dtype=np.int64)
    validity = pa.py_buffer(np.packbits([1, 0, 1], bitorder="little").tobytes())
    garbage = pa.Array.from_buffers(pa.int64(), 3, [validity, pa.py_buffer(values.tobytes())])
    return garbage, pa.array([1, None, 3], type=pa.int64())


@pytest.mark.parametrize(("name", "build"), EQUAL, ids=[n for n, _ in EQUAL])
def test_equal_data_gives_the_same_token(
    name: str, build: Callable[[dict[str, Any]], tuple[object, object]], data: dict[str, Any]
) -> None:
    _same(*build(data))


# ---- one change: another token -----------------------------------------------------------


def _with_cell(frame: pd.DataFrame, column: str, value: object) -> pd.DataFrame:
    changed = frame.copy()
    changed.at[changed.index[123], column] = value
    return changed


CHANGED: list[tuple[str, Callable[[dict[str, Any]], tuple[object, object]]]] = [
    ("int cell", lambda d: (d["frame"], _with_cell(d["frame"], "int", 7))),
    ("float cell", lambda d: (d["frame"], _with_cell(d["frame"], "float", 0.5))),
    ("text cell", lambda d: (d["frame"], _with_cell(d["frame"], "text", "zeta"))),
    ("nullable cell to NA", lambda d: (d["frame"], _with_cell(d["frame"], "nullable", pd.NA))),
    ("object cell", lambda d: (d["frame"], _with_cell(d["frame"], "object", ("t", 99)))),
    (
        "datetime cell",
        lambda d: (
            d["frame"],
            _with_cell(d["frame"], "when", pd.Timestamp("2020-01-01", tz="Europe/Paris")),
        ),
    ),
    ("index label", lambda d: (d["frame"], d["frame"].rename(index={0: -1}))),
    ("index name", lambda d: (d["frame"], d["frame"].rename_axis("other"))),
    ("column name", lambda d: (d["frame"], d["frame"].rename(columns={"float": "real"}))),
    ("column order", lambda d: (d["frame"], d["frame"][list(reversed(d["frame"].columns))])),
    ("row order", lambda d: (d["frame"], d["frame"].iloc[::-1])),
    ("dtype int64 to Int64", lambda d: (d["frame"], d["frame"].astype({"int": "Int64"}))),
    ("dtype int64 to float64", lambda d: (d["frame"], d["frame"].astype({"int": "float64"}))),
    (
        "categories reordered",
        lambda d: (
            d["categorical"],
            d["categorical"].reorder_categories(list(reversed(d["categorical"].categories))),
        ),
    ),
    ("timezone", lambda d: (d["frame"]["when"], d["frame"]["when"].dt.tz_convert("UTC"))),
    ("attrs", lambda d: (d["frame"], _with_attrs(d["frame"]))),
    ("series name", lambda d: (d["series"], d["series"].rename("other"))),
    (
        "multiindex level value",
        lambda d: (d["multi"], d["multi"].rename(index={"alpha": "omega"}, level="text")),
    ),
    ("timestamp nanosecond", lambda d: (d["timestamp"], d["timestamp"] + pd.Timedelta(1))),
    ("numpy element", lambda d: (d["matrix"], _with_element(d["matrix"]))),
    ("numpy dtype", lambda d: (d["matrix"], d["matrix"].astype(np.float32))),
    ("numpy shape", lambda d: (d["matrix"], d["matrix"].reshape(-1, 4))),
    (
        "structured field name",
        lambda d: (
            d["structured"],
            d["structured"].astype([("ident", "i8"), ("score", "f4"), ("tag", "U4")]),
        ),
    ),
    ("object array element", lambda d: (d["objects"], _with_element(d["objects"], ("x", -1)))),
    ("arrow cell", lambda d: (d["table"], _arrow_cell(d["table"]))),
    ("arrow null moved", lambda d: (pa.array([1, None, 3]), pa.array([1, 3, None]))),
    (
        "arrow column name",
        lambda d: (d["table"], d["table"].rename_columns(["id", "label", "amount"])),
    ),
    (
        "arrow type",
        lambda d: (d["table"], d["table"].set_column(0, "id", d["table"]["id"].cast(pa.int32()))),
    ),
    ("arrow nested list", lambda d: (d["lists"], pa.array([[0, 2], *d["lists"].to_pylist()[1:]]))),
    (
        "polars cell",
        lambda d: (
            d["polars_frame"],
            d["polars_frame"].with_columns(
                pl.when(pl.col("id") == 5).then(-5).otherwise(pl.col("id")).alias("id")
            ),
        ),
    ),
    (
        "polars column name",
        lambda d: (d["polars_frame"], d["polars_frame"].rename({"amount": "total"})),
    ),
    (
        "polars dtype",
        lambda d: (d["polars_frame"], d["polars_frame"].with_columns(pl.col("id").cast(pl.Int32))),
    ),
    ("polars series name", lambda d: (d["polars_series"], d["polars_series"].alias("label"))),
]


def _with_attrs(frame: pd.DataFrame) -> pd.DataFrame:
    changed = frame.copy()
    changed.attrs["source"] = "elsewhere"
    return changed


def _with_element(array: np.ndarray, value: object = 42.0) -> np.ndarray:
    changed = array.copy()
    changed.flat[77] = value
    return changed


def _arrow_cell(table: pa.Table) -> pa.Table:
    amounts = table["amount"].to_pylist()
    amounts[3] = -1.0
    return table.set_column(2, "amount", pa.array(amounts))


@pytest.mark.parametrize(("name", "build"), CHANGED, ids=[n for n, _ in CHANGED])
def test_a_change_gives_another_token(
    name: str, build: Callable[[dict[str, Any]], tuple[object, object]], data: dict[str, Any]
) -> None:
    _changed(*build(data))


def test_a_polars_lazy_frame_is_not_data() -> None:
    """A query plan, held in a Rust object (a mutable heap type with C state: never mistaken
    for a plain Python instance with no state)."""
    with pytest.raises(astoken.errors.UnhashableValueError):
        astoken.data_token(pl.DataFrame({"a": [1]}).lazy())


def test_encoders_are_loaded_only_with_their_library() -> None:
    """Encoding plain values imports none of the libraries, nor their encoders."""
    code = (
        "import json, sys, astoken\n"
        "astoken.data_token([1, {'a': 2.5}])\n"
        "names = ['numpy', 'pandas', 'pyarrow', 'polars', 'astoken._hashing._pandas']\n"
        "print(json.dumps([n in sys.modules for n in names]))\n"
    )
    assert run_fresh(code) == [False] * 5
