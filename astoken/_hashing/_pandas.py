"""pandas: DataFrames, Series, Index (MultiIndex included), extension arrays and scalars.

Everything is encoded by content, in order, so equal data gives equal tokens and a changed
cell, index label, column name, dtype or column/row order gives a different one:

- a DataFrame is its column index, its row index, each column's values (by position, so
  duplicate column names are fine), its ``attrs`` and its ``allows_duplicate_labels`` flag;
- a Series is its name, index, values and ``attrs``; an Index its name(s), dtype and values (a
  RangeIndex as the integers it stands for, a MultiIndex level by level, as the full-length
  values of each level, so unused levels and level order do not matter);
- values by dtype: numpy dtypes through the numpy encoder (raw element bytes, or element by
  element for ``object``); categoricals as categories, order flag and codes; tz-aware
  datetimes and periods as their int64 values plus the dtype; Arrow-backed arrays (the
  ``str`` dtype of pandas 3 included) through the pyarrow encoder; masked arrays (``Int64``,
  ``boolean``, ``Float64``) as mask and values with the masked slots zeroed; intervals as
  left, right and closed side; any other extension array element by element.

The dtype is part of every column's encoding (its string and its class), so ``int64`` and
``Int64`` holding the same numbers differ. pandas's own classes are named by their public
name (``pandas.Series``, ``pandas.Int64Dtype``) and numpy dtypes by the numpy encoder's bytes,
never by the module that defines them: pandas 3 and numpy 1.25 moved those, and the same data
must keep its token across such an upgrade.
"""

from __future__ import annotations

import sys
from typing import Any

import numpy as np
import pandas as pd

from ._numpy import buffer_digest, dtype_bytes, ndarray
from ._values import enc
from ._walk import Fail, Handler, Walk, guarded, text, type_name

__all__ = ["handlers"]


def _class_name(tp: type) -> str:
    """``pandas.<qualname>`` for a class of pandas (``pandas.core.series.Series`` in pandas 2 is
    ``pandas.Series`` in pandas 3); any other class (a user's subclass) by its own name."""
    module = getattr(tp, "__module__", None) or ""
    if module == "pandas" or module.startswith("pandas."):
        return f"pandas.{tp.__qualname__}"
    return type_name(tp)


def _dtype_bytes(dtype: Any, w: Walk) -> bytes:
    if isinstance(dtype, np.dtype):
        # Its class (numpy.dtypes.Int64DType, numpy.dtype[int64] before numpy 1.25) adds
        # nothing to what the numpy encoder writes.
        return b"n" + dtype_bytes(dtype, w)
    return text(b"", _class_name(type(dtype))) + text(b"", str(dtype))


def _values(arr: Any, w: Walk) -> bytes:
    """A column's or an index's values, with their dtype."""
    if isinstance(arr, pd.arrays.NumpyExtensionArray):
        arr = arr.to_numpy()  # a numpy array in an ExtensionArray's clothes: the array itself
    dtype = arr.dtype
    head = _dtype_bytes(dtype, w)
    if isinstance(arr, np.ndarray):
        return head + ndarray(arr, w)
    if isinstance(dtype, np.dtype):  # NumpyExtensionArray, DatetimeArray, TimedeltaArray
        return head + ndarray(np.asarray(arr), w)
    if isinstance(dtype, pd.CategoricalDtype):
        ordered = b"T" if dtype.ordered else b"F"
        codes = np.asarray(arr.codes)
        return head + b"c" + ordered + _index(dtype.categories, w) + buffer_digest(codes)
    if isinstance(dtype, (pd.DatetimeTZDtype, pd.PeriodDtype)):
        return head + buffer_digest(np.asarray(arr.asi8))
    if isinstance(dtype, pd.IntervalDtype):
        return head + text(b"i", str(arr.closed)) + _values(arr.left, w) + _values(arr.right, w)
    if isinstance(dtype, pd.SparseDtype):
        return head + _values(np.asarray(arr), w)
    arrow = getattr(arr, "__arrow_array__", None)
    if arrow is not None and "pyarrow" in sys.modules:
        from ._arrow import array_content  # noqa: PLC0415 - pyarrow is loaded by now

        return head + array_content(arrow(), w)
    data, mask = getattr(arr, "_data", None), getattr(arr, "_mask", None)
    if isinstance(data, np.ndarray) and isinstance(mask, np.ndarray) and mask.dtype == np.bool_:
        if mask.any():
            data = data.copy()
            data[mask] = 0
        return head + b"m" + buffer_digest(mask) + ndarray(data, w)
    return head + guarded(arr, w, lambda: enc(list(arr), w))


def _index(idx: Any, w: Walk) -> bytes:
    if isinstance(idx, pd.MultiIndex):
        parts = [b"pM", enc(tuple(idx.names), w), b"%d:" % idx.nlevels]
        parts.extend(_values(idx.get_level_values(i).array, w) for i in range(idx.nlevels))
        return b"".join(parts)
    return b"pI" + enc(idx.name, w) + _values(idx.array, w)


def _index_handler(v: Any, w: Walk) -> bytes:
    return guarded(v, w, lambda: _index(v, w))


def _series(v: Any, w: Walk) -> bytes:
    def build() -> bytes:
        return (
            text(b"pS", _class_name(type(v)))
            + enc(v.name, w)
            + _index(v.index, w)
            + _values(v.array, w)
            + enc(dict(v.attrs), w)
        )

    return guarded(v, w, build)


def _frame(v: Any, w: Walk) -> bytes:
    def build() -> bytes:
        parts = [
            text(b"pD", _class_name(type(v))),
            _index(v.columns, w),
            _index(v.index, w),
            b"%d:" % v.shape[1],
        ]
        for position in range(v.shape[1]):
            try:
                parts.append(_values(v.iloc[:, position].array, w))
            except Fail as exc:
                exc.segments.append(f".iloc[:, {position}]")
                raise
        parts.append(enc(dict(v.attrs), w))
        parts.append(enc(bool(v.flags.allows_duplicate_labels), w))
        return b"".join(parts)

    return guarded(v, w, build)


def _extension_array(v: Any, w: Walk) -> bytes:
    return text(b"pA", _class_name(type(v))) + _values(v, w)


def _extension_dtype(v: Any, w: Walk) -> bytes:
    if isinstance(v, pd.CategoricalDtype):
        ordered = b"T" if v.ordered else b"F"
        categories = b"N" if v.categories is None else _index(v.categories, w)
        return b"pc" + ordered + categories
    return b"pd" + _dtype_bytes(v, w)


def _timestamp(v: Any, w: Walk) -> bytes:
    # ``value`` is nanoseconds since the epoch in UTC; the zone is kept apart.
    return b"pt" + enc(int(v.value), w) + text(b"", str(v.tz))


def _timedelta(v: Any, w: Walk) -> bytes:
    return b"pe" + enc(int(v.value), w)


def _period(v: Any, w: Walk) -> bytes:
    return b"pp" + enc(int(v.ordinal), w) + text(b"", v.freqstr)


def _interval(v: Any, w: Walk) -> bytes:
    return b"pi" + enc(v.left, w) + enc(v.right, w) + text(b"", str(v.closed))


def _offset(v: Any, w: Walk) -> bytes:
    return text(b"po", _class_name(type(v))) + text(b"", repr(v))


def _nat(v: Any, w: Walk) -> bytes:
    return b"pN"


def _base_offset() -> type:
    """``BaseOffset``, the base class of every date offset (``pd.offsets.Day``...)."""
    found: type = next(c for c in pd.DateOffset.__mro__ if c.__name__ == "BaseOffset")
    return found


def handlers() -> dict[type, Handler]:
    return {
        pd.DataFrame: _frame,
        pd.Series: _series,
        pd.Index: _index_handler,
        pd.api.extensions.ExtensionArray: _extension_array,
        pd.api.extensions.ExtensionDtype: _extension_dtype,
        pd.Timestamp: _timestamp,
        pd.Timedelta: _timedelta,
        type(pd.NaT): _nat,
        pd.Period: _period,
        pd.Interval: _interval,
        _base_offset(): _offset,
    }
