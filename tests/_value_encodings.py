"""A table of representative values and the SHA-256 of their encoded bytes (see
``tests/test_value_encodings.py``, which ties them to ``FORMAT_VERSION``).

Every value is built the same way by every supported Python minor and library version: dtypes
are explicit (numpy's default integer, pandas's default string and datetime resolution vary),
and nothing here holds code (a function's or a first-party class's token is bytecode, which
differs between minors; classes below are encoded by name and fields only, with no behavior
hook). Numeric buffers are hashed in native byte order: the recorded digests are those of a
little-endian machine.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import decimal
import enum
import hashlib
import math
import pathlib
import re
import types
import uuid
import weakref
from collections import OrderedDict, defaultdict, deque
from collections.abc import Callable
from typing import NamedTuple

import numpy as np
import pandas as pd
import polars as pl
import pyarrow as pa
from pygments.token import Token

from astoken._hashing import encode_value


class Colour(enum.Enum):
    RED = "red"
    BLUE = "blue"


class Level(enum.IntEnum):
    LOW = 1


class Perm(enum.Flag):
    R = 4
    W = 2


@dataclasses.dataclass(frozen=True)
class Point:
    x: float
    y: float
    tags: tuple[str, ...] = ()


class Pair(NamedTuple):
    left: int
    right: str


class Money:
    """A type with the ``__astoken__`` protocol."""

    def __init__(self, amount: str, currency: str) -> None:
        self.amount = decimal.Decimal(amount)
        self.currency = currency

    def __astoken__(self) -> object:
        return (self.amount, self.currency)


def _structured() -> np.ndarray:
    kind = np.dtype([("id", "<i4"), ("score", "<f8"), ("code", "S2")])
    return np.array([(1, 0.5, b"ab"), (2, -1.25, b"cd")], dtype=kind)


def _cycle() -> list[object]:
    """A list that contains itself."""
    cell: list[object] = [1]
    cell.append(cell)
    return cell


def _frame() -> pd.DataFrame:
    frame = pd.DataFrame(
        {
            "n": np.array([1, 2, 3], dtype="int64"),
            "x": np.array([0.5, np.nan, -2.0], dtype="float64"),
            "ok": np.array([True, False, True]),
            "at": np.array(["2024-01-01", "2024-02-29", "2024-12-31"], dtype="datetime64[ns]"),
            "label": pd.Series(["a", "b", None], dtype=object),
            "cat": pd.Categorical(
                ["lo", "hi", "lo"], categories=pd.Index(["lo", "hi"], dtype=object), ordered=True
            ),
            "nullable": pd.array([1, None, 3], dtype="Int64"),
        },
        index=pd.Index(np.array([10, 20, 30], dtype="int64"), name="key"),
    )
    # Text labels are inferred as object (pandas 2) or str (pandas 3): say which.
    frame.columns = pd.Index(list(frame.columns), dtype=object)
    return frame


#: id -> a function building the value (called afresh for every encoding).
VALUES: dict[str, Callable[[], object]] = {
    "none": lambda: None,
    "bools": lambda: (True, False),
    "int": lambda: 42,
    "int-negative": lambda: -(2**63),
    "int-huge": lambda: 3**500,
    "float": lambda: 1.5,
    "float-specials": lambda: (-0.0, math.inf, -math.inf, math.nan),
    "complex": lambda: complex(1.5, -2.0),
    "str": lambda: "héllo wörld ✓ \U0001f600",
    "bytes": lambda: b"\x00\xffbytes",
    "bytearray": lambda: bytearray(b"abc"),
    "tuple-and-list": lambda: ((1, 2), [1, 2], (), []),
    "dict-nested": lambda: {"b": [1, {"c": (2.5, None)}], "a": {1: "x", "k": {3, 4}}, 2: b"y"},
    "set-frozenset": lambda: ({3, 1, 2}, frozenset({"a", "b"})),
    "ordered-and-proxy": lambda: (
        OrderedDict([("z", 1), ("a", 2)]),
        types.MappingProxyType({1: 2}),
    ),
    "defaultdict-deque": lambda: (defaultdict(list, {"a": [1]}), deque([1, 2], maxlen=5)),
    "defaultdict-read": lambda: defaultdict(set, {"a": {1}, "read": set()}),
    "range-slice-singletons": lambda: (range(1, 10, 2), slice(None, 5, -1), ..., NotImplemented),
    "cycle": _cycle,
    "decimal-uuid": lambda: (
        decimal.Decimal("-1.250"),
        uuid.UUID("12345678-1234-5678-1234-567812345678"),
    ),
    "datetime": lambda: (
        dt.datetime(2024, 2, 29, 13, 45, 1, 250),
        dt.datetime(2024, 11, 3, 1, 30, fold=1, tzinfo=dt.timezone(dt.timedelta(hours=-5), "EST")),
        dt.datetime(2024, 1, 1, tzinfo=dt.timezone.utc),
        dt.date(1999, 12, 31),
        dt.time(23, 59, 59, 999999),
        dt.timedelta(days=-1, seconds=5, microseconds=7),
    ),
    "paths-pattern": lambda: (
        pathlib.PurePosixPath("/data/a.csv"),
        pathlib.PureWindowsPath(r"C:\data\a.csv"),
        re.compile(r"^a+\d$", re.IGNORECASE | re.MULTILINE),
    ),
    "module-class-generics": lambda: (math, int, list[int], dict[str, tuple[int, ...]]),
    "enum-members": lambda: (Colour.RED, Level.LOW, Perm.R),
    "dataclass": lambda: Point(1.0, -2.5, ("a", "b")),
    "namedtuple": lambda: Pair(1, "one"),
    "astoken-protocol": lambda: Money("9.99", "EUR"),
    "weak-container": weakref.WeakValueDictionary,
    "numpy-int64": lambda: np.arange(12, dtype="<i8").reshape(3, 4),
    "numpy-float32-fortran": lambda: np.asfortranarray(
        np.linspace(0, 1, 6, dtype="<f4").reshape(2, 3)
    ),
    "numpy-view": lambda: np.arange(20, dtype="<i2")[::3],
    "numpy-bool-complex": lambda: (
        np.array([True, False]),
        np.array([1 + 2j, -0.5j], dtype="<c16"),
    ),
    "numpy-datetime": lambda: np.array(["2024-01-01T00:00", "NaT"], dtype="<M8[ns]"),
    "numpy-text": lambda: (np.array(["ab", "cde"], dtype="<U3"), np.array([b"x"], dtype="S2")),
    "numpy-object": lambda: np.array([1, "a", None, (2, 3)], dtype=object),
    "numpy-structured": _structured,
    "numpy-masked": lambda: np.ma.masked_array(
        np.array([1.0, 2.0, 3.0], dtype="<f8"), mask=[False, True, False], fill_value=-1.0
    ),
    "numpy-scalars-dtype": lambda: (
        np.float64(1.5),
        np.int8(-3),
        np.bool_(True),
        np.dtype("<f8"),
        np.dtype([("a", "<i4"), ("b", "<f4")]),
    ),
    "pandas-frame": _frame,
    "pandas-series": lambda: pd.Series(
        np.array([1.5, 2.5], dtype="float64"), index=pd.RangeIndex(2), name="s"
    ),
    "pandas-multiindex": lambda: pd.MultiIndex.from_arrays(
        [np.array([1, 1, 2], dtype="int64"), pd.Index(["a", "b", "a"], dtype=object)],
        names=["i", "j"],
    ),
    "pandas-scalars": lambda: (
        pd.Timestamp("2024-03-10 02:30", tz="UTC"),
        pd.Timedelta(days=1, nanoseconds=5),
        pd.NaT,
    ),
    "pyarrow-table": lambda: pa.table(
        {
            "n": pa.array([1, None, 3], type=pa.int64()),
            "s": pa.array(["a", "bc", None], type=pa.string()),
            "l": pa.array([[1], [], None], type=pa.list_(pa.int32())),
        }
    ),
    "polars-frame": lambda: pl.DataFrame(
        {"n": pl.Series([1, None, 3], dtype=pl.Int64), "s": pl.Series(["a", None, "c"])}
    ),
    # By path, whatever child types the process has created (astoken/_hashing/_pygments.py).
    "pygments-token-types": lambda: (Token, Token.Name.Builtin, Token.Literal.String.Doc),
}


def digests() -> dict[str, str]:
    """id -> SHA-256 of the value's encoded bytes, for every row of :data:`VALUES`."""
    return {name: hashlib.sha256(encode_value(make())).hexdigest() for name, make in VALUES.items()}
