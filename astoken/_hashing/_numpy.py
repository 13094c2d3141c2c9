"""numpy: arrays (numeric, object, structured, masked), scalars and dtypes, by content.

An array is its dtype (``dtype.str``, and the fields of a structured dtype), its shape and its
elements in C order: numeric buffers are hashed as they are (a view on a non-contiguous array
is copied to C order first), object arrays element by element (they hold pointers), structured
arrays field by field (padding bytes are never written, so never read), masked arrays as data,
mask and fill value. Equal arrays of one dtype give one token whatever their memory layout.
"""

from __future__ import annotations

import hashlib
from typing import Any

import numpy as np

from ._values import enc
from ._walk import Handler, Walk, blob, guarded, text

__all__ = ["buffer_digest", "handlers"]


def buffer_digest(array: Any) -> bytes:
    """SHA-256 of a numeric array's elements in C order (no copy when already contiguous)."""
    flat = np.ascontiguousarray(array).reshape(-1)
    return blob(b"h", hashlib.sha256(flat.view(np.uint8).data).digest())


def _plain_descr(descr: Any) -> object:
    if isinstance(descr, (list, tuple)):
        return tuple(_plain_descr(item) for item in descr)
    return descr


def dtype_bytes(dt: Any, w: Walk) -> bytes:
    if dt.fields is not None or dt.subdtype is not None:
        return text(b"", dt.str) + enc(_plain_descr(dt.descr), w)
    return text(b"", dt.str)


def _fill_value(masked: Any) -> object:
    try:
        return masked.fill_value
    except AttributeError:  # numpy.ma.masked refuses to compute its default fill value
        return None


def ndarray(v: Any, w: Walk) -> bytes:
    if isinstance(v, np.ma.MaskedArray):
        mask = np.ma.getmaskarray(v)
        return (
            b"Am"
            + ndarray(np.asarray(v.data), w)
            + ndarray(np.asarray(mask), w)
            + enc(_fill_value(v), w)
        )
    head = b"A" + dtype_bytes(v.dtype, w) + enc(tuple(v.shape), w)
    if v.dtype.hasobject and v.dtype.names is None:
        # Object arrays hold pointers: encode the elements, never the buffer.
        return guarded(v, w, lambda: head + enc(v.tolist(), w))
    if v.dtype.names is not None:
        # Structured arrays may carry padding bytes that are never written: per field.
        return head + b"".join(text(b"", n) + ndarray(v[n], w) for n in v.dtype.names)
    return head + buffer_digest(v)


def _scalar(v: Any, w: Walk) -> bytes:
    if v.dtype.names is not None or v.dtype.hasobject:
        return b"a" + dtype_bytes(v.dtype, w) + enc(v.item(), w)
    return b"a" + dtype_bytes(v.dtype, w) + blob(b"", v.tobytes())


def _dtype(v: Any, w: Walk) -> bytes:
    return b"y" + dtype_bytes(v, w)


def handlers() -> dict[type, Handler]:
    return {np.ndarray: ndarray, np.generic: _scalar, np.dtype: _dtype}
