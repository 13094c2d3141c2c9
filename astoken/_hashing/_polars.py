"""polars: DataFrames and Series, through their Arrow form (which needs pyarrow installed).

A frame is its schema as polars names it (column names and polars dtypes, in order) and the
logical content of each column (see :mod:`astoken._hashing._arrow`), so the token does not
depend on how polars chunks the data or which Arrow string layout it exports. A LazyFrame is a
query, not data: it has no encoding (collect it first).
"""

from __future__ import annotations

from typing import Any

import polars as pl

from ._arrow import array_content, table_content
from ._walk import Fail, Handler, Walk, text, type_name

__all__ = ["handlers"]


def _arrow(v: Any) -> Any:
    try:
        return v.to_arrow()
    except (ImportError, TypeError, ValueError, pl.exceptions.PolarsError) as exc:
        # No pyarrow, or a column of dtype Object (Python objects Arrow cannot hold).
        raise Fail(type_name(type(v))) from exc


def _frame(v: Any, w: Walk) -> bytes:
    schema = v.schema
    head = text(b"lf", type_name(type(v))) + b"%d:" % len(schema)
    head += b"".join(text(b"", name) + text(b"", str(dtype)) for name, dtype in schema.items())
    return head + table_content(_arrow(v), w)


def _series(v: Any, w: Walk) -> bytes:
    head = text(b"ls", type_name(type(v))) + text(b"", v.name) + text(b"", str(v.dtype))
    return head + array_content(_arrow(v), w)


def handlers() -> dict[type, Handler]:
    return {pl.DataFrame: _frame, pl.Series: _series}
