"""pyarrow: tables, record batches, arrays, chunked arrays, schemas, types and scalars.

A column is encoded by its logical content, not by its buffers, so the same data gives the same
token however it is chunked, sliced or dictionary-encoded, and whatever the unused bytes under
its null slots hold:

- the validity (which slots are null), when there is a null;
- fixed-width values (integers, floats, temporal types, fixed-size binary): the value bytes of
  the array's own slots, with null slots zeroed;
- booleans: one byte per slot; strings and binaries: the lengths and the concatenated bytes of
  the values (nulls as empty);
- anything else (lists, structs, maps, unions, decimals): element by element, as Python values.

A table or record batch is its schema (field names, types and nullability, in order; the schema
metadata, where writers put their own version strings, is left out) and its columns.
"""

from __future__ import annotations

import hashlib
import sys
from typing import Any

from ._values import enc
from ._walk import Fail, Handler, Walk, blob, guarded, text, type_name

__all__ = ["array_content", "handlers", "schema_bytes", "table_content"]


def _pa() -> Any:
    return sys.modules["pyarrow"]


def _np() -> Any:
    import numpy  # noqa: PLC0415 - pyarrow's to_numpy needs numpy; imported by then

    return numpy


def _digest(*parts: Any) -> bytes:
    h = hashlib.sha256()
    for part in parts:
        h.update(part)
    return blob(b"h", h.digest())


def array_content(arr: Any, w: Walk) -> bytes:
    """The logical content of a pyarrow Array or ChunkedArray (its type excluded)."""
    pa = _pa()
    np = _np()
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks() if arr.num_chunks != 1 else arr.chunk(0)
    types = pa.types
    if types.is_dictionary(arr.type):
        arr = arr.dictionary_decode()
    length = len(arr)
    parts = [b"%d:" % length]
    valid = None
    if arr.null_count:
        valid = np.asarray(arr.is_valid().to_numpy(zero_copy_only=False), dtype=np.bool_)
        parts.append(_digest(valid.view(np.uint8)))
    else:
        parts.append(b"-")
    kind = arr.type
    if types.is_boolean(kind):
        filled = arr.fill_null(False) if valid is not None else arr
        values = np.asarray(filled.to_numpy(zero_copy_only=False), dtype=np.bool_)
        parts.append(_digest(values.view(np.uint8)))
    elif (width := _byte_width(kind)) is not None:
        buffer = arr.buffers()[1]
        start = arr.offset * width
        raw = np.frombuffer(buffer, dtype=np.uint8, count=length * width, offset=start)
        if valid is not None:
            raw = raw.reshape(length, width).copy()
            raw[~valid] = 0
        parts.append(_digest(np.ascontiguousarray(raw)))
    elif (
        types.is_string(kind)
        or types.is_large_string(kind)
        or types.is_binary(kind)
        or types.is_large_binary(kind)
        or getattr(types, "is_string_view", lambda _: False)(kind)
        or getattr(types, "is_binary_view", lambda _: False)(kind)
    ):
        filled = arr.cast(pa.large_binary())
        if valid is not None:
            filled = filled.fill_null(b"")
        offsets_buffer, data_buffer = filled.buffers()[1:3]
        offsets = np.frombuffer(
            offsets_buffer, dtype=np.int64, count=length + 1, offset=filled.offset * 8
        )
        lengths = np.diff(offsets)
        first, last = int(offsets[0]), int(offsets[-1])
        data = memoryview(data_buffer)[first:last] if data_buffer is not None else b""
        parts.append(_digest(np.ascontiguousarray(lengths).view(np.uint8), data))
    else:
        parts.append(guarded(arr, w, lambda: enc(arr.to_pylist(), w)))
    return b"".join(parts)


def _byte_width(kind: Any) -> int | None:
    """Bytes per value of a fixed-width type whose value bytes are canonical, else None."""
    types = _pa().types
    if not (
        types.is_integer(kind)
        or types.is_floating(kind)
        or types.is_temporal(kind)
        or types.is_fixed_size_binary(kind)
        or types.is_decimal(kind)
    ):
        return None
    try:
        bits = int(kind.bit_width)
    except ValueError:  # an interval type: no single width
        return None
    return bits // 8 if bits % 8 == 0 and bits > 0 else None


def field_bytes(field: Any) -> bytes:
    return text(b"", field.name) + text(b"", str(field.type)) + (b"T" if field.nullable else b"F")


def schema_bytes(schema: Any) -> bytes:
    return b"%d:" % len(schema) + b"".join(field_bytes(field) for field in schema)


def table_content(table: Any, w: Walk) -> bytes:
    """Columns of a Table or RecordBatch in order (the schema excluded)."""
    parts = []
    for index in range(table.num_columns):
        try:
            parts.append(array_content(table.column(index), w))
        except Fail as exc:
            exc.segments.append(f"[{table.schema.names[index]!r}]")
            raise
    return b"%d:" % table.num_rows + b"".join(parts)


def _table(v: Any, w: Walk) -> bytes:
    tag = text(b"pt", type_name(type(v)))
    return tag + schema_bytes(v.schema) + table_content(v, w)


def _array(v: Any, w: Walk) -> bytes:
    return text(b"pa", type_name(type(v))) + text(b"", str(v.type)) + array_content(v, w)


def _schema(v: Any, w: Walk) -> bytes:
    return b"ps" + schema_bytes(v)


def _data_type(v: Any, w: Walk) -> bytes:
    return text(b"py", str(v))


def _scalar(v: Any, w: Walk) -> bytes:
    return text(b"pv", str(v.type)) + array_content(_pa().array([v], type=v.type), w)


def handlers() -> dict[type, Handler]:
    pa = _pa()
    return {
        pa.Table: _table,
        pa.RecordBatch: _table,
        pa.Array: _array,
        pa.ChunkedArray: _array,
        pa.Schema: _schema,
        pa.DataType: _data_type,
        pa.Field: lambda v, w: b"pf" + field_bytes(v),
        pa.Scalar: _scalar,
    }
