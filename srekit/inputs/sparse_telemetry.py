"""The sparse Parquet layout of aggregated telemetry (docs/aggregate.md, "Output layouts").

The canonical (wide) file holds one row per (journey, interval_start) with ``total``, ``errors``
and one cumulative ``le_<edge>`` column per bucket edge: 142 integers per row with the default
edges, whatever the traffic. A busy minute fills a handful of buckets, a quiet one one or two,
so over long spans and many journeys writing (and reading) the zeros costs more than reading
the request log. The sparse layout keeps the same rows and the same ``journey`` (label columns),
``interval_start``, ``total`` and ``errors`` columns, and replaces the ``le_`` columns by one
column ``buckets``: a Parquet map from a bucket's upper edge in ms (``le``; ``inf`` for the
requests above the last edge) to the requests in that bucket, **not cumulative**, non-zero
buckets only. The file's schema metadata (``srekit.telemetry``) names the layout and every
edge, so edges that no request fell into are kept. ``pd.read_parquet`` reads it (the map as a
list of ``(le, count)`` pairs per row); srekit's loaders read it into the same frame as the wide
file (:func:`read_sparse`), the buckets made cumulative as they are scattered.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from srekit.core import memory
from srekit.core.arrays import arrow_of
from srekit.core.errors import InputError, input_error
from srekit.core.lazy import LazyModule
from srekit.inputs import buckets as bk
from srekit.inputs import telemetry as tm
from srekit.inputs.parquet_file import open_file

if TYPE_CHECKING:
    import pandas as pd
else:
    pd = LazyModule("pandas")

META_KEY = b"srekit.telemetry"
_MAX_TOTAL = 2**62  # a row's total × its bucket entries stays below this: its sum cannot wrap
BUCKETS = "buckets"
_RELEASE_EVERY = 64 << 20  # bytes of pieces joined between two memory.release() calls
#: Bucket entries of the map decoded at a time (on average; at least ``_MAP_MIN_ROWS`` rows) from
#: a row group holding more (:func:`_map_batches`).
_MAP_ENTRIES = 1 << 21
_MAP_MIN_ROWS = 1024
_BLOCK_BYTES = 32 << 20  # a wide file's cumulative buckets read into sparse ones this many bytes at a time
LAYOUT = "sparse"


def schema(wide: pa.Schema, edges: Sequence[float], count_type: pa.DataType) -> pa.Schema:
    """The sparse schema of a wide one (``tm.empty``'s): its key columns, ``total`` and
    ``errors`` as ``count_type``, then ``buckets``; the edges in the metadata."""
    keys = [f for f in wide if f.name not in set(tm.COUNTS) and not f.name.startswith(tm.LE_PREFIX)]
    fields = [*keys, pa.field("total", count_type), pa.field("errors", count_type)]
    fields.append(pa.field(BUCKETS, pa.map_(pa.float64(), count_type)))
    meta = {"layout": LAYOUT, "version": 1, "edges_ms": [float(e) for e in edges]}
    return pa.schema(fields, metadata={META_KEY: json.dumps(meta).encode()})


def buckets_array(rows: np.ndarray, slots: np.ndarray, counts: np.ndarray, n_rows: int, les: np.ndarray) -> pa.Array:
    """The ``buckets`` map of ``n_rows`` rows from entries sorted by row then slot: ``rows``
    (the row of each entry), ``slots`` (index into ``les``: the edges, then ``inf``), ``counts``."""
    offsets = np.zeros(n_rows + 1, np.int32)
    np.cumsum(np.bincount(rows, minlength=n_rows), out=offsets[1:])
    return pa.MapArray.from_arrays(arrow_of(offsets), arrow_of(les[slots]), arrow_of(counts))


def is_sparse(pf: pq.ParquetFile) -> bool:
    """A file in the sparse layout: it has a map column ``buckets`` (the metadata alone is not
    enough: a wide file keeping a copied schema's metadata is read as wide)."""
    names = pf.schema_arrow.names
    return BUCKETS in names and pa.types.is_map(pf.schema_arrow.field(BUCKETS).type)


def _edges(pf: pq.ParquetFile, source: str) -> np.ndarray:
    """The file's edges from its metadata (or, without it, the finite keys it uses): ascending,
    positive, finite."""
    raw = (pf.schema_arrow.metadata or {}).get(META_KEY)
    if raw is None:
        keys = _all_keys(pf)
        edges = np.unique(keys[np.isfinite(keys)])
        if edges.size and edges[0] <= 0:
            raise _bad(source, "a bucket edge that is not a positive number of ms", f"le {edges[0]:g}")
        return edges
    try:
        meta = json.loads(raw)
        edges = np.asarray(meta["edges_ms"], dtype=np.float64)
        ok = meta.get("layout") == LAYOUT and edges.ndim == 1 and edges.size > 0
        version = meta.get("version", 1)
    except (ValueError, KeyError, TypeError) as exc:
        raise _bad(source, "the srekit.telemetry metadata is not valid JSON naming the edges", str(exc)[:80]) from exc
    if not ok or not np.isfinite(edges).all() or (edges <= 0).any() or (np.diff(edges) <= 0).any():
        got = raw[:120].decode(errors="replace")
        raise _bad(source, "the srekit.telemetry metadata does not list ascending positive edges", got)
    if version != 1:
        raise _bad(source, f"sparse layout version {version!r} is not one this srekit reads (1)", str(version))
    return edges


def _all_keys(pf: pq.ParquetFile) -> np.ndarray:
    """Every distinct ``le`` key of the file's ``buckets`` column."""
    keys = [np.unique(_flat(b)[1]) for b in _map_batches(pf)]
    return np.unique(np.concatenate(keys)) if keys else np.zeros(0)


def _flat(column: pa.ChunkedArray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A map column's (entries per row, keys, items) as numpy arrays (items as int64);
    :class:`_EmptyCells` naming the rows with a null map, key or count."""
    arr = column.combine_chunks() if isinstance(column, pa.ChunkedArray) else column
    offsets = arr.offsets.to_numpy()
    lo, hi = int(offsets[0]), int(offsets[-1])  # the entries of these rows (a slice's children are whole)
    key_arr, item_arr = arr.keys.slice(lo, hi - lo), arr.items.slice(lo, hi - lo)
    if arr.null_count or key_arr.null_count or item_arr.null_count:
        empty = ~arr.is_valid().to_numpy(zero_copy_only=False)
        for part in (key_arr, item_arr):
            at = np.flatnonzero(~part.is_valid().to_numpy(zero_copy_only=False)) + lo
            empty[np.searchsorted(offsets, at, side="right") - 1] = True
        raise _EmptyCells(np.flatnonzero(empty))
    keys = key_arr.to_numpy(zero_copy_only=False).astype(np.float64, copy=False)
    items = item_arr.to_numpy(zero_copy_only=False).astype(np.int64, copy=False)
    return np.diff(offsets), keys, items


class _EmptyCells(Exception):
    def __init__(self, rows: np.ndarray) -> None:
        self.rows = rows


def _bad(source: str, problem: str, got: str, rows: Sequence[int] = ()) -> InputError:
    return input_error(
        problem,
        file=source,
        column=BUCKETS,
        rows=rows,
        got=got,
        expected="a map per row from a bucket's upper edge in ms (inf above the last edge) to the requests in it, "
        "each edge once in ascending order, integer counts ≥ 0 adding up to total",
        fix="write the file with `srekit aggregate` (or `--layout wide` for one le_<edge> column per edge)",
    )


def read_sparse(path: str, pf: pq.ParquetFile, *, narrow: bool, texts: Sequence[str] = ()) -> pd.DataFrame:
    """The frame of a sparse file: the key columns as the file has them (text as categoricals:
    ``texts``), ``total`` and ``errors`` as int64, then the buckets: the cumulative ``le_``
    columns in one column-major block (of the smallest unsigned dtype the totals fit with
    ``narrow``, else int64), or, with ``narrow`` when that block would be large and the entries
    much smaller (:func:`_sparse_pays`), one sparse ``in_le_`` column of per-bucket counts per
    edge (:mod:`srekit.inputs.buckets`). Row numbers in errors are 1-based data rows."""
    names = [n for n in pf.schema_arrow.names if n != BUCKETS]
    stray = [n for n in names if n.lower().startswith(tm.LE_PREFIX)]
    if stray:
        raise input_error(
            "le_ columns beside the buckets map: which of them holds the requests is unknowable",
            file=path,
            column=stray[0],
            got=", ".join(stray[:5]),
            fix="drop the le_ columns (the buckets map holds every bucket), or write the file with --layout wide",
        )
    for need in ("total", "errors"):
        if need not in names or not pa.types.is_integer(pf.schema_arrow.field(need).type):
            raise _bad(path, f"a sparse telemetry file needs an integer {need!r} column", ", ".join(names))
    kind = pf.schema_arrow.field(BUCKETS).type
    if not (pa.types.is_floating(kind.key_type) or pa.types.is_integer(kind.key_type)):
        raise _bad(path, "bucket keys must be numbers (ms)", str(kind))
    if not pa.types.is_integer(kind.item_type):
        raise _bad(path, "bucket counts must be integers", str(kind))
    edges = _edges(pf, path)
    les = np.r_[edges, np.inf]
    keyed = open_file(path, texts) if texts else pf
    keys = keyed.read(columns=[n for n in names if n not in tm.COUNTS]).to_pandas()
    keys.index = pd.RangeIndex(len(keys))  # beside the blocks below (a stored index may start past 0)
    memory.release()  # the decoded pages: Arrow's allocator kept 0.45 GB after 26 M rows
    n = pf.metadata.num_rows
    counts = np.empty((n, 2), dtype=np.int64, order="F")
    for j, c in enumerate(tm.COUNTS):
        column = pf.read(columns=[c]).column(0)
        if column.null_count:
            raise input_error(f"{c} has empty cells", file=path, column=c, fix="fill them (0 when there were none)")
        values = column.to_numpy()
        out = np.flatnonzero((values < 0) | (values > _MAX_TOTAL // les.size))
        if out.size:
            raise input_error(
                f"{c} out of range",
                file=path,
                column=c,
                rows=(out[:20] + 1).tolist(),
                got=str(values[out[0]]),
                expected=f"requests: 0 .. {_MAX_TOTAL // les.size:,}",
                fix="write the counts as whole numbers of requests",
            )
        counts[:, j] = values
        del column, values  # 0.2 GB each for 26 M rows, not kept through the buckets
    total = counts[:, 0]
    dtype = tm.bucket_dtype(int(total.max()) if n else 0) if narrow else np.dtype(np.int64)
    keep_sparse = narrow and _sparse_pays(pf, n, edges.size, dtype)
    block = np.zeros((n, 0 if keep_sparse else edges.size), dtype=dtype, order="F")
    flat = block.T.reshape(-1)
    parts: list[list[tuple[np.ndarray, np.ndarray]]] = [[] for _ in range(edges.size)]  # each bucket's entries
    row0 = 0
    for batch in _map_batches(pf):
        try:
            per_row, keys_g, items = _flat(batch)
        except _EmptyCells as empty:
            raise _bad(
                path, "empty cells in buckets", "a null map, key or count", (empty.rows + row0 + 1).tolist()
            ) from None
        rows = np.repeat(np.arange(row0, row0 + per_row.size), per_row)
        first = np.cumsum(per_row) - per_row  # each row's first entry
        slot = np.searchsorted(les, keys_g)
        wrong = (slot >= les.size) | (les[np.minimum(slot, les.size - 1)] != keys_g) | (items < 0)
        wrong |= items > total[rows]  # with the keys ascending: the sums below cannot wrap
        back = slot[1:] <= slot[:-1]  # a key repeated or out of order, within a row (not across rows)
        starts = first[(per_row > 0) & (first > 0)]
        back[starts - 1] = False
        wrong[1:] |= back
        if wrong.any():
            at = np.flatnonzero(wrong)
            got = f"le {keys_g[at[0]]:g} → {items[at[0]]}"
            raise _bad(
                path,
                "a bucket that is not one of the file's edges, repeated or out of order, or a count below 0 or above "
                "total",
                got,
                np.unique(rows[at] + 1).tolist(),
            )
        sums = np.zeros(per_row.size, np.int64)  # rows without entries (no requests) sum to 0
        if items.size:
            sums[per_row > 0] = np.add.reduceat(items, first[per_row > 0])
        off = sums != total[row0 : row0 + per_row.size]
        if off.any():
            at = np.flatnonzero(off)
            got = f"buckets add up to {int(sums[at[0]])}, total {int(total[row0 + at[0]])}"
            raise _bad(path, "the buckets do not add up to total", got, (at + row0 + 1).tolist())
        inside = slot < edges.size  # the requests above the last edge are in total only
        if keep_sparse:
            _collect(parts, rows[inside], slot[inside], items[inside].astype(dtype))
        else:
            flat[slot[inside] * n + rows[inside]] = items[inside]
        row0 += per_row.size
    names = [tm.edge_label(e) for e in edges]
    head = [keys, pd.DataFrame(counts, columns=pd.Index(tm.COUNTS), copy=False)]
    if keep_sparse:
        return pd.concat([*head, joined(parts, names, n, dtype)], axis=1)
    for k in range(1, edges.size):  # cumulative, column by contiguous column
        np.add(block[:, k], block[:, k - 1], out=block[:, k])
    if (
        narrow and n and edges.size
    ):  # the dtype the wide file's le_ columns would get (requests above the last edge aside)
        fits = tm.bucket_dtype(int(block[:, -1].max()))
        if fits.itemsize < dtype.itemsize:
            block = block.astype(fits, order="F")
    return pd.concat([*head, pd.DataFrame(block, columns=pd.Index(names), copy=False)], axis=1)


def joined(
    parts: list[list[tuple[np.ndarray, np.ndarray]]], names: Sequence[str], n: int, dtype: np.dtype
) -> pd.DataFrame:
    """The sparse ``in_le_`` columns (:mod:`srekit.inputs.buckets`) of ``n`` rows from each
    bucket's entries (:func:`_collect`; ``names``: the ``le_`` names by edge), joined and freed
    one bucket at a time."""
    memory.release()  # the temporaries of reading, freed between the entries kept
    columns, freed = {}, 0
    for k, name in enumerate(names):
        pieces, parts[k] = parts[k], []
        rows_k = np.concatenate([r for r, _ in pieces]) if pieces else np.zeros(0, np.int32)
        counts_k = np.concatenate([c for _, c in pieces]) if pieces else np.zeros(0, dtype)
        del pieces
        freed += rows_k.nbytes + counts_k.nbytes
        if freed > _RELEASE_EVERY:  # the small pieces, freed between kept arrays: 0.5 GB in all
            memory.release()
            freed = 0
        columns[bk.name(name)] = bk.sparse_column(n, rows_k, counts_k)
    memory.release()  # the last pieces and the columns' temporaries (scipy's, pandas' copies)
    return pd.DataFrame(columns)


def wide_as_sparse(
    pf: pq.ParquetFile, les: Sequence[tuple[str, float]], total: np.ndarray, dtype: np.dtype
) -> pd.DataFrame | None:
    """A wide file's cumulative ``le_`` columns (``les``: name and edge, ascending; null-free
    int64 per the statistics) as sparse ``in_le_`` columns of ``dtype`` (the per-bucket
    counts, :mod:`srekit.inputs.buckets`), read ``_BLOCK_BYTES`` of rows at a time: the dense
    buckets are never all in memory. ``total``: each row's requests.

    None when the loader should read them dense instead: the block would be small
    (``buckets.DENSE_BELOW``); the entries outgrow ``buckets.SPARSE_SHARE`` of it (checked as
    they come: past a quarter of the rows, a pace 25 % above that share gives up early, so a busy
    file is not read twice over); or a row's buckets decrease or exceed its total (the loader
    rejects that row and quarantines it as written, from the dense columns)."""
    n = total.size
    if not les or n >= 2**31 or n * len(les) * dtype.itemsize < bk.DENSE_BELOW:
        return None
    most = n * len(les) * dtype.itemsize * bk.SPARSE_SHARE / (4 + dtype.itemsize)  # entries that pay
    parts: list[list[tuple[np.ndarray, np.ndarray]]] = [[] for _ in les]
    row0 = stored = 0
    step = max(1024, _BLOCK_BYTES // (8 * len(les)))
    buffer = np.empty(step, np.int64)  # one per-bucket column at a time, reused (no page faults)
    for batch in pf.iter_batches(batch_size=step, columns=[c for c, _ in les], use_threads=False):
        below = np.zeros(batch.num_rows, np.int64)  # the requests at or below the previous edge
        per = buffer[: batch.num_rows]
        for k in range(len(les)):  # column by column: each bucket's rows come out ascending
            cum = batch.column(k).to_numpy()
            np.subtract(cum, below, out=per)
            at = np.flatnonzero(per != 0)  # (numpy finds a bool array's non-zeros 2× faster than an int64's)
            counts = per[at]
            if counts.size and counts.min() < 0:
                return _given_up(parts)
            stored += at.size
            rows = at.astype(np.int32)
            rows += row0
            parts[k].append((rows, counts.astype(dtype)))
            below = cum
        if (below > total[row0 : row0 + batch.num_rows]).any():
            return _given_up(parts)
        row0 += batch.num_rows
        if stored > (most if row0 < n // 4 else most * min(1.0, 1.25 * row0 / n)):
            return _given_up(parts)
        del batch, cum, per, below
    return joined(parts, [tm.edge_label(e) for _, e in les], n, dtype)


def _given_up(parts: list[list[tuple[np.ndarray, np.ndarray]]]) -> pd.DataFrame | None:
    """None, for :func:`wide_as_sparse` to return, once the entries collected are dropped and
    their memory handed back (the dense block comes next)."""
    for bucket in parts:
        bucket.clear()
    memory.release()
    return None


def _sparse_pays(pf: pq.ParquetFile, n: int, n_edges: int, dtype: np.dtype) -> bool:
    """Whether the loader holds this file's buckets sparse (:mod:`srekit.inputs.buckets`): their
    dense block would take at least ``buckets.DENSE_BELOW`` bytes and the entries (a row number
    and a count each, counted from the file's metadata) at most ``buckets.SPARSE_SHARE`` of it."""
    dense_bytes = n * n_edges * dtype.itemsize
    if dense_bytes < bk.DENSE_BELOW or n >= 2**31:
        return False
    return _stored(pf) * (4 + dtype.itemsize) <= dense_bytes * bk.SPARSE_SHARE


def _stored(pf: pq.ParquetFile, groups: Sequence[int] | None = None) -> int:
    """The bucket entries of the file (or of its row ``groups``), from its metadata."""
    meta = pf.metadata
    if not meta.num_row_groups:
        return 0
    key = next(
        i for i in range(meta.num_columns) if meta.row_group(0).column(i).path_in_schema.startswith(BUCKETS + ".")
    )
    return sum(
        meta.row_group(g).column(key).num_values for g in (range(meta.num_row_groups) if groups is None else groups)
    )


def _map_batches(pf: pq.ParquetFile) -> Iterator[pa.Array]:
    """The buckets map column, in file order: a row group at a time (the fastest, and what
    ``srekit aggregate`` writes is about 1 M entries a group), but a group of more than
    ``_MAP_ENTRIES`` entries about that many at a time (pyarrow writes 1 Mi-row groups: one of a
    140-edge file held 2.5 GB of temporaries at once)."""
    meta = pf.metadata
    for g in range(meta.num_row_groups):
        rows, entries = meta.row_group(g).num_rows, _stored(pf, [g])
        if entries <= _MAP_ENTRIES:
            yield pf.read_row_group(g, columns=[BUCKETS]).column(0)
            continue
        step = max(_MAP_MIN_ROWS, int(_MAP_ENTRIES * rows / entries))
        for batch in pf.iter_batches(batch_size=step, row_groups=[g], columns=[BUCKETS]):
            yield batch.column(0)


def _collect(
    parts: list[list[tuple[np.ndarray, np.ndarray]]], rows: np.ndarray, slots: np.ndarray, counts: np.ndarray
) -> None:
    """Append a row group's entries (rows ascending) to each bucket's list, rows kept ascending."""
    small = slots.astype(np.uint8 if len(parts) < 256 else np.uint16)  # a radix sort
    order = np.argsort(small, kind="stable")
    bounds = np.searchsorted(small[order], np.arange(len(parts) + 1))
    rows, counts = rows[order].astype(np.int32), counts[order]
    for k in np.flatnonzero(np.diff(bounds)):
        a, b = bounds[k], bounds[k + 1]
        parts[k].append((rows[a:b].copy(), counts[a:b].copy()))  # copies: each bucket frees its own
