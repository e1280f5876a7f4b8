"""Latency buckets held sparse in memory (issue 13, docs/architecture.md "The aggregated
telemetry model").

A telemetry frame holds its buckets in one of two forms:

* **dense**: one cumulative ``le_<edge>`` column per edge, requests at or below the edge (every
  frame built in memory, CSV, and small or busy files);
* **sparse**: one ``in_le_<edge>`` column per edge, the requests *in* that bucket (above the
  previous edge, at most this one), not cumulative, each a pandas ``SparseArray`` holding its
  non-zero rows only. The loader holds a large Parquet file this way, in the sparse layout
  (:func:`srekit.inputs.sparse_telemetry.read_sparse`) or wide
  (:func:`srekit.inputs.sparse_telemetry.wide_as_sparse`): 200 journeys × 90 days × 24 edges are
  0.5 GB of entries instead of 1.2 GB of dense ``uint16`` cumulative buckets.

The two forms give the same numbers. Readers of a frame's buckets call
:func:`srekit.inputs.telemetry` functions (``edges_of``, ``bucket_block``, ``bad_counts``,
``journey_sums``, ``check``), which read either form; a sparse frame's buckets are made
cumulative for the rows a reader asks for (one journey, one edge), never for the whole history.
A frame with sparse buckets is canonical (sorted by journey and time, no repeated key); the
functions here read the entries directly (a ``SparseArray`` slice would scan every entry).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from srekit.core import memory
from srekit.core.lazy import LazyModule

if TYPE_CHECKING:
    import pandas as pd
else:
    pd = LazyModule("pandas")

PREFIX = "in_"  # "in_le_100": requests in the bucket ending at 100 ms
#: A Parquet telemetry file is held sparse when its dense buckets would take at least
#: ``DENSE_BELOW`` bytes (a small file gains nothing) and its entries at most ``SPARSE_SHARE``
#: of that (a busy service fills most buckets: dense is then smaller).
DENSE_BELOW = 64 << 20
SPARSE_SHARE = 0.5
_BLOCK = 1 << 20  # rows or entries handled at a time where a whole column's temporaries would add up

Rows = slice | np.ndarray


def columns(df: pd.DataFrame) -> list[str]:
    """The sparse bucket columns (``in_le_<edge>`` holding a ``SparseArray``) of ``df``, by
    ascending edge. A file's own column of that name (not sparse) is not one."""
    found = [
        c
        for c, dtype in df.dtypes.items()
        if isinstance(c, str) and c.startswith(PREFIX + "le_") and isinstance(dtype, pd.SparseDtype)
    ]
    return sorted(found, key=lambda c: float(c[len(PREFIX + "le_") :]))  # cumulative sums go by edge


def is_sparse(df: pd.DataFrame) -> bool:
    return bool(columns(df))


def name(le: str) -> str:
    """The sparse column of the cumulative column ``le`` (``le_100`` → ``in_le_100``)."""
    return PREFIX + le


def le_name(column: str) -> str:
    """The cumulative column a sparse one stands for (``in_le_100`` → ``le_100``)."""
    return column[len(PREFIX) :]


def entries(df: pd.DataFrame) -> list[tuple[np.ndarray, np.ndarray]]:
    """Each sparse column's (row positions ascending, counts): views of the frame's arrays."""
    out: list[tuple[np.ndarray, np.ndarray]] = []
    for c in columns(df):
        arr = df[c].array
        assert isinstance(arr, pd.arrays.SparseArray)
        out.append((arr.sp_index.indices, arr.sp_values))
    return out


def sparse_column(n: int, rows: np.ndarray, counts: np.ndarray) -> pd.arrays.SparseArray:
    """A column of ``n`` rows holding ``counts`` at ``rows`` (ascending, unique), 0 elsewhere."""
    from_indices = getattr(pd.arrays.SparseArray, "from_indices", None)
    if from_indices is not None:  # pandas ≥ 3.1: the arrays kept as they are (a bucket of 26 M rows:
        # 0.02 s and no copy, where the way through scipy took 0.8 s and 0.3 GB of copies)
        return from_indices(counts, rows.astype(np.int32, copy=False), n, fill_value=0)  # type: ignore[no-any-return]
    import scipy.sparse  # here, not at import: report kernels import telemetry, never scipy

    indptr = np.array([0, len(rows)], dtype=np.int64)
    matrix = scipy.sparse.csc_array((counts, rows.astype(np.int32, copy=False), indptr), shape=(n, 1))
    return pd.arrays.SparseArray.from_spmatrix(matrix)  # type: ignore[attr-defined]  # (pandas-stubs)


def sliced(df: pd.DataFrame, a: int, b: int) -> pd.DataFrame:
    """``df.iloc[a:b]``: its sparse columns cut by their entries (pandas scans every entry of
    every bucket for a slice: 0.1 s a journey at 26 M rows), the others sliced as pandas does."""
    names = columns(df)
    if not names:
        return df.iloc[a:b]
    rest = df.drop(columns=names).iloc[a:b]
    cut = {}
    for c, (idx, val) in zip(names, entries(df), strict=True):
        lo, hi = _between(idx, a, b)
        cut[c] = sparse_column(max(b - a, 0), idx[lo:hi] - a, val[lo:hi])
    return pd.concat([rest, pd.DataFrame(cut, index=rest.index)], axis=1)


def taken(df: pd.DataFrame, order: np.ndarray, *, consume: bool = False) -> pd.DataFrame:
    """``df``'s rows in ``order`` (a permutation of its positions), with a fresh index: each
    sparse column by its entries, never made dense, the other columns taken as pandas does (the
    dense cumulative ``le_`` columns as one block, the rest one by one). A sparse column's
    entries are put at their new rows in one reused row-long buffer and read back in row order
    (a pass over the rows instead of sorting the entries: 0.7 s instead of 5 s for 140 columns
    of 2.6 M rows). With ``consume``, each column leaves ``df`` once moved (the caller's frame is
    used up): one copy of the frame and one column are alive, not two frames. Sorting a
    shuffled 20-journey × 90-day × 140-edge file this way, `srekit analyze` peaks at 0.9 GB
    instead of the 7.2 GB of making it dense and int64 first."""
    names, everything = columns(df), list(df.columns)
    index = pd.RangeIndex(len(df))
    block = [c for c in everything if c not in set(names) and isinstance(c, str) and c.startswith("le_")]
    moved_parts: list[pd.DataFrame | pd.Series] = []
    if block:
        moved_parts.append(df[block].take(order).set_axis(index))
        if consume:
            for c in block:
                del df[c]
    # last column first: total and errors share one block, freed whole after both (the copies of
    # the key columns then do not stack on it: 0.2 GB less for 26 M rows)
    for c in reversed([c for c in everything if c not in set(names) and c not in set(block)]):
        moved_parts.append(_in_order(df[c], order, index))
        if consume:
            del df[c]
            memory.release()  # (a file's columns come from Arrow's pool, which keeps what is freed)
    if names:
        moved = np.empty(len(df), np.int32 if len(df) < 2**31 else np.int64)
        moved[order] = np.arange(len(df), dtype=moved.dtype)  # the new position of each row
        moved_parts.append(_moved_entries(df, names, moved, len(df), None, consume=consume))
    return pd.concat(moved_parts, axis=1)[everything]


def _in_order(col: pd.Series, order: np.ndarray, index: pd.RangeIndex) -> pd.Series:
    """``col``'s values in ``order``. A numpy column, or a categorical's codes, by numpy's
    indexing, which casts an int32 ``order`` a block at a time: pandas' take casts all of it to
    intp first (an int64 column of 26 M rows: 0.4 GB at the peak instead of the 0.2 GB result)."""
    if isinstance(col.dtype, np.dtype):
        return pd.Series(col.to_numpy()[order], index=index, name=col.name, copy=False)
    if isinstance(col.dtype, pd.CategoricalDtype):
        codes = col.cat.codes.to_numpy()[order]
        return pd.Series(pd.Categorical.from_codes(codes, dtype=col.dtype), index=index, name=col.name, copy=False)
    if isinstance(col.dtype, pd.DatetimeTZDtype) and str(col.dtype.tz) == "UTC":  # pandas' take: 3× the column
        stamps = col.array.asi8[order].view(f"datetime64[{col.dtype.unit}]")
        return pd.Series(stamps, index=index, name=col.name, dtype=col.dtype)
    return col.take(order).set_axis(index)


def merged(
    df: pd.DataFrame,
    order: np.ndarray,
    starts: np.ndarray,
    keys: Sequence[str],
    dtype: np.dtype,
    *,
    consume: bool = False,
) -> pd.DataFrame:
    """``df``'s rows in ``order``, the rows from each of ``starts`` (ascending positions in
    ``order``, the first 0) to the next summed into one row: the ``keys`` columns as in the
    run's first row, the other dense columns summed in int64, each sparse column summed by its
    entries into ``dtype`` (which must hold every summed row's total), never made dense.
    ``consume`` as for :func:`taken`."""
    names, everything = columns(df), list(df.columns)
    index = pd.RangeIndex(len(starts))
    parts: list[pd.DataFrame | pd.Series] = []
    for c in [c for c in everything if c not in set(names)]:
        col = df[c]
        if c in keys:
            parts.append(col.take(order[starts]).set_axis(index))
        else:
            sums = np.add.reduceat(col.to_numpy()[order], starts, dtype=np.int64)
            parts.append(pd.Series(sums, index=index, name=c))
        del col
        if consume:
            del df[c]
    if names:
        run = np.zeros(len(df), np.int32 if len(df) < 2**31 else np.int64)
        run[starts[1:]] = 1
        into = np.empty_like(run)
        into[order] = np.cumsum(run, out=run)  # the summed row of each row
        del run
        parts.append(_moved_entries(df, names, into, len(starts), dtype, consume=consume))
    return pd.concat(parts, axis=1)[everything]


def _moved_entries(
    df: pd.DataFrame, names: list[str], into: np.ndarray, size: int, dtype: np.dtype | None, *, consume: bool
) -> pd.DataFrame:
    """The sparse columns ``names`` of ``df`` with each row's entries moved to row ``into[row]``
    of ``size`` rows: put there (each row moves alone: ``dtype`` None, each column keeps its own),
    or summed in ``dtype`` where rows meet. Through one reused ``size``-long buffer per dtype, read
    back in row order; with ``consume`` each column leaves ``df`` once moved."""
    held: dict[str, pd.arrays.SparseArray] = {}
    buffers: dict[np.dtype, np.ndarray] = {}
    for c in names:
        arr = df[c].array
        assert isinstance(arr, pd.arrays.SparseArray)
        kind = np.dtype(dtype) if dtype is not None else arr.sp_values.dtype
        if kind not in buffers:
            buffers[kind] = np.zeros(size, kind)
        buf = buffers[kind]
        idx, values = arr.sp_index.indices, arr.sp_values
        for a in range(0, idx.size, _BLOCK):  # a block at a time: no entry-long temporaries
            at = into[idx[a : a + _BLOCK]]
            if dtype is None:
                buf[at] = values[a : a + _BLOCK]
            else:
                np.add.at(buf, at, values[a : a + _BLOCK].astype(kind, copy=False))
        rows = _nonzero_rows(buf)
        held[c] = sparse_column(size, rows, buf[rows])
        buf[rows] = 0
        del arr
        if consume:
            del df[c]
    # (a frame made from a dict copies its arrays unless told not to: 2× the entries at the peak)
    return pd.DataFrame(held, index=pd.RangeIndex(size), copy=False)


def _nonzero_rows(buf: np.ndarray) -> np.ndarray:
    """The positions of ``buf``'s non-zero values, ascending, int32 below 2**31 rows: found a
    block at a time, where ``np.flatnonzero`` makes a mask and an int64 array as long as the
    buffer and its entries (a bucket of 26 M rows: 0.3 GB at the peak)."""
    out = np.empty(np.count_nonzero(buf), np.int32 if buf.size < 2**31 else np.int64)
    k = 0
    for a in range(0, buf.size, _BLOCK):
        hit = np.flatnonzero(buf[a : a + _BLOCK] != 0)  # (an entry of 0 is no entry; a mask scans 2.5× faster)
        hit += a
        out[k : k + hit.size] = hit
        k += hit.size
    return out


def _between(idx: np.ndarray, a: int, b: int) -> tuple[int, int]:
    """The entries of rows ``a`` to ``b`` (excluded): ``idx[lo:hi]``. The bounds in the entries'
    own dtype: numpy would otherwise cast all of them to int64 first (5 ms a call at 26 M rows)."""
    lo, hi = np.searchsorted(idx, np.array([a, b]).astype(idx.dtype, casting="unsafe"))
    return int(lo), int(hi)


def _positions(rows: Rows, n: int) -> tuple[int, int] | np.ndarray:
    """``rows`` (a slice, a boolean mask or positions, negative ones from the end) as (start,
    stop) when contiguous and ascending, else the positions."""
    if isinstance(rows, slice):
        start, stop, step = rows.indices(n)
        if step == 1:
            return start, max(stop, start)
        rows = np.arange(start, stop, step)
    rows = np.asarray(rows)
    pos = np.flatnonzero(rows) if rows.dtype == bool else np.where(rows < 0, rows + n, rows).astype(np.int64)
    if len(pos) == 0:
        return 0, 0
    if bool((np.diff(pos) == 1).all()):
        return int(pos[0]), int(pos[-1]) + 1
    return pos


def block(df: pd.DataFrame, rows: Rows, dtype: np.dtype | type, upto: int | None = None) -> np.ndarray:
    """The cumulative buckets of ``rows`` (order kept), ``(rows, edges)`` in ``dtype`` (which must
    hold the rows' totals), column-major; only the first ``upto`` edges when given."""
    cols = entries(df)[:upto]
    where = _positions(rows, len(df))
    if isinstance(where, tuple):
        a, b = where
        out = np.zeros((b - a, len(cols)), dtype=dtype, order="F")
        for k, (idx, val) in enumerate(cols):
            lo, hi = _between(idx, a, b)
            out[idx[lo:hi] - a, k] = val[lo:hi]
    else:
        srt, back = np.unique(where, return_inverse=True)  # repeated positions give their row again
        out = np.zeros((len(srt), len(cols)), dtype=dtype, order="F")
        for k, (idx, val) in enumerate(cols):
            lo, hi = _between(idx, srt[0], srt[-1] + 1)
            at = np.searchsorted(srt, idx[lo:hi].astype(srt.dtype))
            hit = srt[np.minimum(at, len(srt) - 1)] == idx[lo:hi]
            out[at[hit], k] = val[lo:hi][hit]
        out = np.asfortranarray(out[back])
        return np.cumsum(out, axis=1, dtype=dtype) if out.shape[1] else out
    for k in range(1, out.shape[1]):  # cumulative, column by contiguous column
        np.add(out[:, k], out[:, k - 1], out=out[:, k])
    return out


def at(df: pd.DataFrame, k: int, rows: Rows) -> np.ndarray:
    """The cumulative bucket of edge number ``k`` (requests at or below it) for ``rows``, int64."""
    where = _positions(rows, len(df))
    if not isinstance(where, tuple):
        return block(df, where, np.int64, upto=k + 1)[:, k].copy()
    a, b = where
    out = np.zeros(b - a, dtype=np.int64)
    for idx, val in entries(df)[: k + 1]:
        lo, hi = _between(idx, a, b)
        out[idx[lo:hi] - a] += val[lo:hi]  # a column holds each row once
    return out


def run_sums(df: pd.DataFrame, starts: np.ndarray) -> np.ndarray:
    """The cumulative buckets summed over the runs of rows ``starts[i]:starts[i + 1]`` (the last to
    the end), ``(runs, edges)`` int64: one pass over each column's entries."""
    cols = entries(df)
    out = np.zeros((len(starts), len(cols)), dtype=np.int64)
    for k, (idx, val) in enumerate(cols):
        if not len(idx):
            continue
        run = np.searchsorted(starts.astype(idx.dtype), idx, side="right") - 1  # ascending: entries are
        heads = np.concatenate(([0], np.flatnonzero(run[1:] != run[:-1]) + 1))
        out[run[heads], k] = np.add.reduceat(val, heads, dtype=np.int64)
    return np.cumsum(out, axis=1) if out.shape[1] else out


def row_sums(df: pd.DataFrame) -> np.ndarray:
    """Each row's requests in the buckets (at or below the last edge), int64."""
    out = np.zeros(len(df), dtype=np.int64)
    for idx, val in entries(df):
        out[idx] += val  # a column holds each row once
    return out


def cleared(df: pd.DataFrame, mask: np.ndarray) -> pd.DataFrame:
    """``df`` with the buckets of the rows in ``mask`` emptied (as a correction clears them)."""
    out = df.copy(deep=False)
    for c, (idx, val) in zip(columns(df), entries(df), strict=True):
        keep = ~mask[idx]
        out[c] = sparse_column(len(df), idx[keep], val[keep])
    return out


def densified(df: pd.DataFrame, dtype: np.dtype | type) -> pd.DataFrame:
    """``df`` with cumulative ``le_`` columns in ``dtype`` in place of its sparse ones (the dense
    form)."""
    names = columns(df)
    if not names:
        return df
    les = pd.Index([le_name(c) for c in names])
    dense = pd.DataFrame(block(df, slice(None), dtype), index=df.index, columns=les, copy=False)
    rest = [c for c in df.columns if c not in set(names)]
    return pd.concat([df[rest], dense], axis=1)
