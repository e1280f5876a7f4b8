"""Reading a Parquet file into pandas with its integer columns in column-major blocks.

``pd.read_parquet`` holds a file twice at its peak: the Arrow table, then the pandas blocks
consolidated from it. Aggregated telemetry is mostly int64 counts (``total``, ``errors`` and one
``le_`` column per bucket edge: 142 columns with the default edges), so a 90-day, 20-journey
file at 1 minute (2.6 M rows, 3 GB of counts) peaked at 6 GB before any analysis. Here the
integer columns are decoded one at a time straight into one preallocated column-major int64
block, which pandas uses as it is (no consolidation copy). With ``narrow`` (the telemetry
loader passes ``le_``) the bucket columns go into a second block of the smallest unsigned dtype
the file's statistics say they fit (uint8/16/32: 0.73 GB instead of 2.9 GB for that file);
journey grids and SLI columns are views of the blocks (``srekit.analysis.slo.grid.journey_grids``,
docs/architecture.md). Without ``narrow`` the frame equals ``pd.read_parquet``'s; with it, the
same values (``tests/test_parquet_frame.py``).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from srekit.core import memory
from srekit.inputs import buckets as bk
from srekit.inputs import sparse_telemetry
from srekit.inputs.parquet_file import open_file
from srekit.inputs.telemetry import LE_PREFIX, bucket_dtype, file_buckets


def _block_columns(pf: pq.ParquetFile) -> list[str]:
    """The int64 columns without nulls (per the row group statistics) that go into the block;
    none when the file stores a pandas index (``pd.read_parquet`` restores it, so it reads the
    file)."""
    meta = pf.schema_arrow.pandas_metadata or {}
    if any(not isinstance(ix, dict) for ix in meta.get("index_columns", [])):
        return []
    if len(set(pf.schema_arrow.names)) != len(pf.schema_arrow.names):
        return []
    names = [f.name for f in pf.schema_arrow if pa.types.is_int64(f.type)]
    pos = {name: i for i, name in enumerate(pf.schema_arrow.names)}
    keep = []
    for name in names:
        stats = [pf.metadata.row_group(g).column(pos[name]).statistics for g in range(pf.num_row_groups)]
        if all(s is not None and s.has_null_count and s.null_count == 0 for s in stats):
            keep.append(name)
    return keep


def _narrow_dtype(pf: pq.ParquetFile, names: list[str]) -> np.dtype | None:
    """The smallest unsigned dtype (:func:`srekit.inputs.telemetry.bucket_dtype`) holding every
    value of ``names`` per the row group statistics; None when one lacks them, holds a negative
    value or needs int64."""
    pos = {name: i for i, name in enumerate(pf.schema_arrow.names)}
    top = 0
    for name in names:
        for g in range(pf.num_row_groups):
            s = pf.metadata.row_group(g).column(pos[name]).statistics
            if s is None or not s.has_min_max or s.min < 0:
                return None
            top = max(top, int(s.max))
    dtype = bucket_dtype(top)
    return None if dtype == np.int64 else dtype


def _decode(pf: pq.ParquetFile, names: list[str], dtype: np.dtype, index: pd.Index) -> pd.DataFrame:
    """``names`` decoded one column at a time into one column-major block of ``dtype``."""
    block = np.empty((pf.metadata.num_rows, len(names)), dtype=dtype, order="F")
    for j, name in enumerate(names):
        column = pf.read(columns=[name]).column(0)
        block[:, j] = column.to_numpy()
        del column
    return pd.DataFrame(block, index=index, columns=pd.Index(names), copy=False)


def read_parquet_frame(path: str | Path, *, narrow: str | None = None, total: str | None = None) -> pd.DataFrame:
    """``pd.read_parquet(path)``, with the file's null-free int64 columns in one column-major
    int64 block (decoded column by column: the counts are in memory once).

    ``narrow``: a column-name prefix (``le_``, compared in lower case); those int64 columns go
    into a second block of the smallest unsigned dtype their values fit, per the file's
    statistics (uint8 … uint32; int64 when a value is negative, above ``uint32`` or a row group
    has no statistics). The values are the same integers; only the dtype differs. Text columns
    are then read as categoricals (the same values).

    ``total`` (with ``narrow``: the telemetry loader): the column of each row's requests. A large
    file's cumulative ``le_<edge>`` columns are then held sparse when that pays: one ``in_le_``
    column of per-bucket counts per edge, after the file's other columns
    (:func:`srekit.inputs.sparse_telemetry.wide_as_sparse`; :mod:`srekit.inputs.buckets`).

    A file in the sparse layout (``srekit aggregate``'s default) is read into the same frame
    (:func:`srekit.inputs.sparse_telemetry.read_sparse`)."""
    pf = open_file(path)
    if sparse_telemetry.is_sparse(pf):
        texts = [f.name for f in pf.schema_arrow if narrow is not None and _is_text(f.type)]
        return sparse_telemetry.read_sparse(str(path), pf, narrow=narrow is not None, texts=texts)
    ints = _block_columns(pf)
    if len(ints) < 2:
        return pd.read_parquet(path)
    narrowed = [c for c in ints if narrow is not None and c.lower().startswith(narrow)]
    dtype = _narrow_dtype(pf, narrowed) if narrowed else None
    if dtype is None:
        narrowed = []
    wide = [c for c in ints if c not in set(narrowed)]
    rest = [c for c in pf.schema_arrow.names if c not in set(ints)]
    index = _index(pf)
    parts = []
    if rest:  # first, while little else is held: Arrow's table and pandas' copy of it side by side
        texts = [c for c in rest if narrow is not None and _is_text(pf.schema_arrow.field(c).type)]
        parts.append((open_file(path, texts) if texts else pf).read(columns=rest).to_pandas().set_axis(index))
        memory.release()
    if wide:
        parts.append(_decode(pf, wide, np.dtype(np.int64), index))
    les = _sparse_buckets(pf.schema_arrow.names, narrowed) if dtype is not None and total in wide else []
    held = sparse_telemetry.wide_as_sparse(pf, les, parts[-1][total].to_numpy(), dtype) if les and dtype else None
    gone = {c for c, _ in les} if held is not None else set()  # read as in_le_ columns, after the file's
    if narrowed and dtype is not None and set(narrowed) - gone:
        parts.append(_decode(pf, [c for c in narrowed if c not in gone], dtype, index))  # (le_+Inf beside sparse)
    frame = parts[0] if len(parts) == 1 else pd.concat(parts, axis=1)
    order = [c for c in pf.schema_arrow.names if c not in gone]
    frame = frame if list(frame.columns) == order else frame[order]
    return frame if held is None else pd.concat([frame, held.set_axis(index)], axis=1)


def _index(pf: pq.ParquetFile) -> pd.RangeIndex:
    """The index ``pd.read_parquet`` gives the file: the RangeIndex its pandas metadata stores
    (a frame written from a slice starts past 0), else 0 … n - 1."""
    n = pf.metadata.num_rows
    for ix in (pf.schema_arrow.pandas_metadata or {}).get("index_columns", []):
        if isinstance(ix, dict) and ix.get("kind") == "range":
            stored = pd.RangeIndex(ix["start"], ix["stop"], ix["step"], name=ix.get("name"))
            if len(stored) == n:
                return stored
    return pd.RangeIndex(n)


def _sparse_buckets(names: list[str], narrowed: list[str]) -> list[tuple[str, float]]:
    """The finite ``le_`` columns of a telemetry file (name and edge, ascending) to hold sparse;
    none unless every one is in the narrowed block, named well, one per edge, and the file has
    no ``in_le_`` column of its own (otherwise the loader reads the dense columns and says what
    is wrong with them)."""
    by_edge, _, bad = file_buckets(names)
    finite = {c for cs in by_edge.values() for c in cs}
    clash = any(len(cs) > 1 for cs in by_edge.values())
    own = any(c.lower().startswith(bk.PREFIX + LE_PREFIX) for c in names)
    if bad or clash or own or not finite <= set(narrowed):
        return []
    return sorted(((cs[0], e) for e, cs in by_edge.items()), key=lambda ce: ce[1])


def _is_text(kind: pa.DataType) -> bool:
    """A string column: read as categorical with ``narrow`` (a journey name per row is millions of
    copies of a few names; the loader validates each name once and builds the text column)."""
    return bool(pa.types.is_string(kind) or pa.types.is_large_string(kind))
