"""NumPy ↔ Arrow for plain arrays, without pandas.

pyarrow's own conversions (``pa.array``, ``pa.scalar``, ``Array.to_numpy``, a compute function
given a Python number) import pandas the first time any of them runs, to recognise pandas
objects and pandas' missing values. That is 0.2–0.5 s, a third of ``srekit aggregate`` on a
1 M-row log, which otherwise needs nothing from pandas (``srekit.core.lazy``). These functions
move the same bytes through Arrow buffers instead: numeric and boolean arrays, and lists of
strings.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pyarrow as pa


def numpy_of(values: pa.Array | pa.ChunkedArray, null: float | None = None) -> np.ndarray:
    """``values.to_numpy(zero_copy_only=False)`` for an integer, float or boolean array: a
    read-only view of Arrow's buffer where there is one (numbers without nulls), else a new
    array. Nulls become ``null``; by default NaN in a float array, and refused in another."""
    if isinstance(values, pa.ChunkedArray):
        if values.num_chunks == 1:
            return numpy_of(values.chunk(0), null)
        parts = [numpy_of(c, null) for c in values.chunks]
        return np.concatenate(parts) if parts else np.empty(0, _dtype(values.type))
    kind, n, offset = values.type, len(values), values.offset
    if null is None and pa.types.is_floating(kind):
        null = np.nan
    if values.null_count and null is None:
        raise ValueError(f"a {kind} array with {values.null_count} null(s) has no NumPy form; say what a null is")
    if n == 0:
        return np.empty(0, _dtype(kind))
    validity, data = values.buffers()[:2]
    if pa.types.is_boolean(kind):
        out = _bits(data, offset, n)
    else:
        dtype = _dtype(kind)
        out = np.frombuffer(data, dtype, count=n, offset=offset * dtype.itemsize)
    if values.null_count:
        out = out.copy()
        out[~_bits(validity, offset, n)] = null
    return out


def arrow_of(values: np.ndarray, kind: pa.DataType | None = None) -> pa.Array:
    """``pa.array(values, type=kind)`` for a 1-d integer, float or boolean NumPy array (no
    nulls). The Arrow array shares the NumPy array's memory when it can, so do not write into
    ``values`` afterwards. A temporal ``kind`` of the integers' width is a relabelling (int64
    microseconds → ``timestamp("us", tz="UTC")``), any other ``kind`` a cast."""
    values = np.ascontiguousarray(values, dtype=values.dtype.newbyteorder("="))  # native order
    if values.ndim != 1:
        raise ValueError(f"arrow_of takes a 1-d array, got shape {values.shape}")
    if values.dtype == np.bool_:
        own, buffer = pa.bool_(), pa.py_buffer(np.packbits(values, bitorder="little"))
    else:
        own, buffer = pa.from_numpy_dtype(values.dtype), pa.py_buffer(values)
    if (
        kind is not None
        and pa.types.is_temporal(kind)
        and pa.types.is_signed_integer(own)
        and kind.bit_width == own.bit_width
    ):
        own = kind
    out = pa.Array.from_buffers(own, len(values), [None, buffer])
    return out if kind is None or kind == own else out.cast(kind)


def strings_of(texts: Sequence[str], kind: pa.DataType | None = None) -> pa.Array:
    """``pa.array(texts, type=kind)`` for Python strings (no nulls); ``kind`` is
    ``pa.string()`` or ``pa.large_string()`` (the default)."""
    kind = pa.large_string() if kind is None else kind
    if kind not in (pa.string(), pa.large_string()):
        raise ValueError(f"strings_of makes string or large_string arrays, not {kind}")
    encoded = [t.encode("utf-8") for t in texts]
    ends = np.cumsum(np.fromiter(map(len, encoded), np.int64, len(encoded)))
    if kind == pa.string() and ends.size and ends[-1] > np.iinfo(np.int32).max:
        raise ValueError(f"{ends[-1]:,} bytes of text do not fit a string array; use pa.large_string()")
    offsets = np.zeros(len(encoded) + 1, np.int64 if kind == pa.large_string() else np.int32)
    offsets[1:] = ends
    data = pa.py_buffer(b"".join(encoded))
    return pa.Array.from_buffers(kind, len(encoded), [None, pa.py_buffer(offsets), data])


def _dtype(kind: pa.DataType) -> np.dtype:
    if not (pa.types.is_integer(kind) or pa.types.is_floating(kind) or pa.types.is_boolean(kind)):
        raise TypeError(f"no plain NumPy form for Arrow type {kind}")
    return np.dtype(kind.to_pandas_dtype())  # a NumPy scalar type for these kinds: pandas is not asked


def _bits(buffer: pa.Buffer, offset: int, n: int) -> np.ndarray:
    """Arrow's bit-packed booleans (least significant bit first) as a bool array."""
    bits = np.unpackbits(np.frombuffer(buffer, np.uint8), count=offset + n, bitorder="little")
    return bits[offset:].view(np.bool_)
