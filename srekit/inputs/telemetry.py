"""The aggregated telemetry model (docs/architecture.md, "The aggregated telemetry model"; docs/aggregate.md).

One row per (journey, interval_start): ``total``, ``errors`` and Prometheus-style cumulative
latency buckets ``le_<edge_ms>`` (requests with latency ≤ edge). The form is mergeable (sum rows
with the same key); thresholds snap to bucket edges; window ratios are request-weighted sums,
never means of per-interval ratios.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from srekit.core.errors import input_error, require_columns
from srekit.core.lazy import LazyModule
from srekit.inputs import buckets as bk

if TYPE_CHECKING:
    import pandas as pd
else:
    pd = LazyModule("pandas")

LE_PREFIX = "le_"
KEY = ["journey", "interval_start"]
COUNTS = ["total", "errors"]


def _default_edges() -> tuple[float, ...]:
    """Bucket edges from 1 ms to 60 s, each at most 10% above the previous one.

    Greedy on two significant digits: the next edge is the largest 2-digit number ≤ 1.1 × the
    previous one, so consecutive edges are ≤ 10% apart and stay readable (1, 1.1, 1.2, … 9.4,
    10, 11, …, 60000).
    """
    edges = [1.0]
    while edges[-1] < 60000:
        limit = edges[-1] * 1.1
        exp = math.floor(math.log10(limit)) - 1
        step = 10.0**exp
        nxt = math.floor(limit / step + 1e-9) * step
        edges.append(min(round(nxt, 6), 60000.0))
    return tuple(edges)


DEFAULT_EDGES_MS: tuple[float, ...] = _default_edges()


def edge_label(ms: float) -> str:
    """Column name for an edge: 250 → ``le_250``, 1.5 → ``le_1.5``."""
    if ms <= 0 or not math.isfinite(ms):
        raise ValueError(f"bucket edge must be a positive finite number of ms, got {ms}")
    text = f"{ms:.6f}".rstrip("0").rstrip(".")
    return LE_PREFIX + text


def parse_edge(column: str) -> float:
    """``le_250`` → 250.0."""
    return float(column[len(LE_PREFIX) :])


def file_buckets(names: Iterable[str]) -> tuple[dict[float, list[str]], list[str], list[str]]:
    """A file's bucket column names (``le_`` in any case) read: the finite edges with the
    columns naming each (more than one is a clash), the ``le_+Inf`` columns, and the names that
    are no ``le_<positive ms>``."""
    by_edge: dict[float, list[str]] = {}
    inf: list[str] = []
    bad: list[str] = []
    for c in (c for c in names if c.lower().startswith(LE_PREFIX)):
        tail = c[len(LE_PREFIX) :]
        if tail.lower().lstrip("+") in ("inf", "infinity"):
            inf.append(c)
            continue
        try:
            edge = float(tail)
            edge_label(edge)
        except ValueError:
            bad.append(c)
            continue
        by_edge.setdefault(edge, []).append(c)
    return by_edge, inf, bad


def le_columns(df: pd.DataFrame) -> list[str]:
    """The ``le_`` columns of a frame, sorted by edge."""
    cols = [c for c in df.columns if isinstance(c, str) and c.startswith(LE_PREFIX)]
    return sorted(cols, key=parse_edge)


def edges_of(df: pd.DataFrame) -> np.ndarray:
    """Bucket edges (ms) present in a frame, ascending (dense or sparse buckets)."""
    return np.array([parse_edge(c) for c in bucket_names(df)], dtype=float)


def bucket_names(df: pd.DataFrame) -> list[str]:
    """The cumulative bucket columns a frame holds or stands for: its ``le_`` columns, or the
    ``le_`` names of its sparse buckets (:mod:`srekit.inputs.buckets`), ascending by edge."""
    sparse = bk.columns(df)
    return [bk.le_name(c) for c in sparse] if sparse else le_columns(df)


def held_buckets(df: pd.DataFrame) -> list[str]:
    """The bucket columns a frame holds: its sparse ``in_le_`` columns, else its ``le_`` ones."""
    return bk.columns(df) or le_columns(df)


def dense(df: pd.DataFrame) -> pd.DataFrame:
    """``df`` with dense cumulative ``le_`` buckets (itself when they are), in the smallest
    unsigned dtype holding its totals. For a part of a frame (one journey), not a whole history."""
    if not bk.is_sparse(df):
        return df
    return bk.densified(df, bucket_dtype(int(df["total"].max()) if len(df) else 0))


def bucket_block(df: pd.DataFrame, rows: slice | np.ndarray, names: Sequence[str] | None = None) -> np.ndarray:
    """The cumulative buckets of ``rows`` (a slice, boolean mask or positions), ``(rows, edges)``:
    a view of a dense frame's block as it is held (narrow or int64; int64 when the columns'
    dtypes differ), or a sparse frame's made cumulative for these rows in the smallest unsigned
    dtype holding their totals. ``names``: these ``le_`` columns only (of a dense frame)."""
    if bk.is_sparse(df):
        total = df["total"].to_numpy()[rows]
        return bk.block(df, rows, bucket_dtype(int(total.max()) if len(total) else 0))
    les = le_columns(df) if names is None else list(names)
    part = df[les]
    part = part.iloc[rows] if isinstance(rows, slice) else part[rows] if rows.dtype == bool else part.iloc[rows]
    dtypes = {part[c].dtype for c in les}
    keep = len(dtypes) == 1 and next(iter(dtypes)) in (np.dtype(np.int64), *BUCKET_DTYPES)
    return part.to_numpy() if keep else part.to_numpy(np.int64)


def snap_edge(edges: Sequence[float] | np.ndarray, threshold_ms: float, *, direction: str = "down") -> float:
    """The bucket edge to use for a threshold: exact if it is an edge, else the nearest edge
    below (``down``, the conservative choice for a promise) or above (``up``)."""
    arr = np.asarray(edges, dtype=float)
    if arr.size == 0:
        raise ValueError("no latency buckets in the telemetry")
    hit = np.isclose(arr, threshold_ms, rtol=1e-9, atol=1e-9)
    if hit.any():
        return float(arr[hit][0])
    if direction == "down":
        below = arr[arr < threshold_ms]
        if below.size == 0:
            raise ValueError(f"threshold {threshold_ms} ms is below the smallest bucket edge {arr[0]} ms")
        return float(below[-1])
    above = arr[arr > threshold_ms]
    if above.size == 0:
        raise ValueError(f"threshold {threshold_ms} ms is above the largest bucket edge {arr[-1]} ms")
    return float(above[0])


#: The dtypes loaded ``le_`` columns are held in, smallest first: a bucket counts at most the
#: interval's requests, so the largest value in the file picks one for the whole block
#: (:func:`bucket_dtype`; int64 above ``uint32``). Arithmetic on them casts to int64 or float
#: first (a difference such as ``total - le`` must never wrap): ``JourneyGrid.events`` and
#: ``JourneyGrid.blocks`` do (docs/architecture.md, "The aggregated telemetry model").
BUCKET_DTYPES = (np.dtype(np.uint8), np.dtype(np.uint16), np.dtype(np.uint32))


def bucket_dtype(max_count: int) -> np.dtype:
    """The smallest of :data:`BUCKET_DTYPES` holding counts up to ``max_count``; int64 above."""
    for dtype in BUCKET_DTYPES:
        if 0 <= max_count <= np.iinfo(dtype).max:
            return dtype
    return np.dtype(np.int64)


def narrow_buckets(df: pd.DataFrame) -> pd.DataFrame:
    """``df`` (valid counts: none negative) with its ``le_`` columns in one column-major block of
    :func:`bucket_dtype` of their largest value, after the other columns; unchanged when they
    are in :data:`BUCKET_DTYPES` already or need int64. The values stay the same integers."""
    les = le_columns(df)
    if not les or all(df[c].dtype in BUCKET_DTYPES for c in les):
        return df
    if any(not pd.api.types.is_integer_dtype(df[c]) for c in les) or len(set(df.columns)) != len(df.columns):
        return df
    lo = min(int(df[c].min()) for c in les) if len(df) else 0
    dtype = bucket_dtype(max(int(df[c].max()) for c in les) if len(df) else 0)
    if lo < 0 or dtype == np.int64:
        return df
    block = np.empty((len(df), len(les)), dtype=dtype, order="F")
    for j, c in enumerate(les):
        block[:, j] = df[c].to_numpy()
    rest = [c for c in df.columns if c not in set(les)]
    out = pd.concat([df[rest], pd.DataFrame(block, index=df.index, columns=pd.Index(les), copy=False)], axis=1)
    return out if list(df.columns) == rest + les else out[list(df.columns)]


def compact(df: pd.DataFrame) -> pd.DataFrame:
    """``df`` (canonical telemetry) as the loader holds it: buckets narrow
    (:func:`narrow_buckets`) and the journeys a categorical of the names with rows, ascending
    (:func:`categorical_journeys`). The same values, a fraction of the memory."""
    out = narrow_buckets(df)
    return out.assign(journey=categorical_journeys(out["journey"]))


def categorical_journeys(journey: pd.Series) -> pd.Series:
    """Journey names as a categorical of the names that have rows, in ascending order: a small
    code per row instead of the text (26 M rows of 200 journeys held 0.5 GB of text);
    :func:`sorted_runs` reads the runs from the codes. Names are never missing here."""
    if not isinstance(journey.dtype, pd.CategoricalDtype):
        return journey.astype(pd.CategoricalDtype(pd.Index(sorted(journey.unique()), dtype="str")))
    codes = journey.cat.codes.to_numpy()
    used = np.zeros(len(journey.cat.categories), bool)
    for a in range(0, len(codes), _RUN_CHUNK):  # a chunk at a time: no row-long index array
        used[codes[a : a + _RUN_CHUNK]] = True
    if used.all():
        return journey
    renumber = (np.cumsum(used) - 1).astype(codes.dtype)  # pandas' remove_unused_categories took 0.7 GB here
    return pd.Series(pd.Categorical.from_codes(renumber[codes], journey.cat.categories[used]), index=journey.index)


def empty(edges: Sequence[float] = DEFAULT_EDGES_MS, *, labels: Sequence[str] = ()) -> pd.DataFrame:
    """An empty aggregated frame with the canonical columns and dtypes (and text ``labels``
    columns after ``journey``: what ``srekit aggregate --by`` keeps)."""
    cols: dict[str, pd.Series] = {
        "journey": pd.Series([], dtype="str"),
        **{label: pd.Series([], dtype="str") for label in labels},
        "interval_start": pd.Series([], dtype="datetime64[us, UTC]"),
        "total": pd.Series([], dtype="int64"),
        "errors": pd.Series([], dtype="int64"),
    }
    for e in edges:
        cols[edge_label(e)] = pd.Series([], dtype="int64")
    return pd.DataFrame(cols)


def canonical(df: pd.DataFrame) -> pd.DataFrame:
    """Column order (key, counts, edges ascending), int64 counts, sorted rows, fresh index."""
    df = dense(df)
    cols = KEY + COUNTS + le_columns(df)
    out = df[cols].copy()
    out["journey"] = out["journey"].astype("str")
    out["interval_start"] = pd.to_datetime(out["interval_start"], utc=True).astype("datetime64[us, UTC]")
    for c in cols[2:]:
        out[c] = out[c].astype("int64")
    return out.sort_values(KEY, kind="stable").reset_index(drop=True)


def journey_rows(telemetry: pd.DataFrame) -> dict[str, slice | np.ndarray]:
    """The rows of each journey (by name, sorted), in frame order: a slice when the frame is
    sorted by journey (canonical telemetry), else row positions. One pass over the names, so
    a caller reading many journeys compares no name per row per journey. On a sorted frame of
    Arrow text the runs are found by comparing neighbours a million rows at a time (no array of
    codes as long as the frame: 26 M rows held 0.8 GB of them)."""
    journey = telemetry["journey"]
    slices = sorted_runs(journey)
    if slices is not None:
        return dict(slices)
    codes, names = pd.factorize(journey, sort=True)
    if bool((codes[1:] >= codes[:-1]).all()):
        bounds = np.searchsorted(codes, np.arange(len(names) + 1))
        return {str(name): slice(int(bounds[k]), int(bounds[k + 1])) for k, name in enumerate(names)}
    order = np.argsort(codes, kind="stable")
    bounds = np.searchsorted(codes[order], np.arange(len(names) + 1))
    return {str(name): order[bounds[k] : bounds[k + 1]] for k, name in enumerate(names)}


_RUN_CHUNK = 1 << 20  # neighbours compared at a time by sorted_runs


def sorted_runs(journey: pd.Series) -> dict[str, slice] | None:
    """Each name's slice when ``journey`` (Arrow-backed text, or a categorical of text: how the
    loader holds it, no empty cell) holds every name in one run and the runs in ascending name
    order; else None."""
    if isinstance(journey.dtype, pd.CategoricalDtype):
        return _category_runs(journey)
    if not isinstance(journey.dtype, pd.StringDtype) or journey.dtype.storage != "pyarrow" or journey.hasnans:
        return None
    names = pa.array(journey)  # zero-copy
    n, step = len(names), _RUN_CHUNK
    if n == 0:
        return {}
    starts = [np.zeros(1, np.int64)]
    last = pa.array([names[0].as_py()], type=names.type)  # the latest run's name
    for a in range(0, n - 1, step):
        m = min(step, n - 1 - a)
        change = np.flatnonzero(pc.not_equal(names.slice(a, m), names.slice(a + 1, m)).to_numpy(zero_copy_only=False))
        if not change.size:
            continue
        heads = names.take(pa.array(change + 1 + a))  # the names of the runs starting in this chunk
        if isinstance(heads, pa.ChunkedArray):
            heads = heads.combine_chunks()
        before = pa.concat_arrays([last, heads.slice(0, len(heads) - 1)])
        if not pc.all(pc.less(before, heads)).as_py():  # a name back again, or out of order: stop here
            return None
        last = heads.slice(len(heads) - 1)
        starts.append(change + 1 + a)
    first = np.concatenate(starts)
    run_names = [str(x) for x in names.take(pa.array(first)).to_pylist()]
    ends = [*first[1:].tolist(), n]
    return {name: slice(int(b), int(e)) for name, b, e in zip(run_names, first.tolist(), ends, strict=True)}


def _category_runs(journey: pd.Series) -> dict[str, slice] | None:
    """:func:`sorted_runs` of a categorical: its codes non-decreasing (no empty cell) and its
    categories text in ascending order (then every name is one run, in name order)."""
    cats = journey.cat.categories
    if cats.dtype != pd.api.types.pandas_dtype("str") or not (cats.is_monotonic_increasing and cats.is_unique):
        return None
    codes = journey.cat.codes.to_numpy()
    if len(codes) == 0:
        return {}
    if codes[0] < 0 or bool((codes[1:] < codes[:-1]).any()):
        return None
    first = np.concatenate(([0], np.flatnonzero(codes[1:] != codes[:-1]) + 1))
    ends = [*first[1:].tolist(), len(codes)]
    names = [str(cats[c]) for c in codes[first]]
    return {name: slice(int(b), int(e)) for name, b, e in zip(names, first.tolist(), ends, strict=True)}


def journey_sums(telemetry: pd.DataFrame, cols: Sequence[str]) -> pd.DataFrame:
    """``cols`` summed per journey (index ``journey`` as text, names ascending; rows without one
    left out), integer columns exact in int64. On a frame sorted by journey (canonical telemetry)
    one column at a time over the journeys' runs (:func:`sorted_runs`): no grouping of the
    journey text, and narrow bucket columns are never widened as a whole block; otherwise one
    groupby."""
    rows = sorted_runs(telemetry["journey"])
    if rows is None:  # not sorted by journey (or not Arrow text): one grouping pass
        frame = dense(telemetry)
        grouped = frame.groupby(frame["journey"].astype("str"), observed=True, sort=True)[list(cols)].sum()
        return grouped.astype({c: np.int64 for c in cols if grouped[c].dtype.kind in "iub"})
    sums: dict[str, np.ndarray] = {}
    sparse = set(bucket_names(telemetry)) & set(cols) if bk.is_sparse(telemetry) else set()
    if sparse:  # each journey's buckets summed from the entries, then made cumulative
        starts = np.array([r.start for r in rows.values()], dtype=np.int64)
        summed = bk.run_sums(telemetry, starts)
        sums |= {c: summed[:, k] for k, c in enumerate(bucket_names(telemetry)) if c in sparse}
    for c in (c for c in cols if c not in sparse):
        values = telemetry[c].to_numpy()
        exact = np.int64 if values.dtype.kind in "iub" else None  # counts exact in int64, others as they are
        sums[c] = np.array([values[r].sum(dtype=exact) for r in rows.values()], dtype=exact)
    return pd.DataFrame({c: sums[c] for c in cols}, index=pd.Index(list(rows), name="journey", dtype="str"))


def _name_ranks(column: pd.Series) -> tuple[np.ndarray, int]:
    """Each row's rank of its name among the column's names (ascending), int64, and how many ranks."""
    if isinstance(column.dtype, pd.CategoricalDtype):  # codes ranked by their names
        names = column.cat.categories
        rank = np.empty(len(names), np.int64)
        rank[np.argsort(np.asarray(names, dtype=object), kind="stable")] = np.arange(len(names))
        return rank[column.cat.codes.to_numpy()], len(names)
    codes, uniques = pd.factorize(column, sort=True)
    return codes.astype(np.int64), len(uniques)


def key_order(frame: pd.DataFrame, names: Sequence[str] = ("journey",)) -> tuple[np.ndarray, np.ndarray | None]:
    """The positions of ``frame``'s rows by the ``names`` columns (journey, then any labels: by
    name, not category code), then interval_start, and where in that order each distinct key
    starts (None when no key repeats; else ``duplicated().sum()`` is the rows less the starts:
    read off the sorted keys, where hashing 26 M keys took 1.5 s and 0.7 GB). When the (series,
    interval) grid of the stamps' common step is at most about twice the rows (a few series over
    a regular grid) and no key repeats, the rows are placed by counting over its cells (26 M
    rows: 0.5 s instead of 5 s to sort them); otherwise sorted."""
    t = pd.DatetimeIndex(frame["interval_start"]).asi8
    n = len(t)
    if not n:
        return np.zeros(0, np.int64), None
    key, size = _name_ranks(frame[names[0]])
    for name in names[1:]:  # one series code, in (journey, label, …) order
        rank, more = _name_ranks(frame[name])
        if size * more >= 2**62:  # numbered afresh by the series present: at most n
            uniques, inverse = np.unique(key, return_inverse=True)
            key, size = inverse.astype(np.int64), len(uniques)
        key = key * more + rank
        size *= more
    off = t - int(t.min())
    step = int(np.gcd.reduce(off)) or 1
    slots = int(off.max()) // step + 1
    cells = (int(key.max()) + 1) * slots
    if cells >= 2**63:  # the two keys do not fit one int64
        order = np.lexsort((t, key))
        k, t = key[order], t[order]
        return order, _run_starts((k[1:] != k[:-1]) | (t[1:] != t[:-1]))
    cell = np.floor_divide(off, step, out=off)  # in place: 26 M rows are 0.2 GB an array
    key *= slots
    cell += key
    del key
    if cells <= 2 * n + (1 << 20):
        seen = np.zeros(cells, bool)
        seen[cell] = True
        rows = np.cumsum(seen, dtype=np.int32 if n < 2**31 else np.int64)
        del seen
        if int(rows[-1]) == n:  # each cell once: its rank among the cells seen
            rank = rows[cell]
            del rows, cell, off  # (off is cell) before the order's arrays: 0.3 GB less at 26 M rows
            np.subtract(rank, 1, out=rank)
            order = np.empty(n, rank.dtype)
            order[rank] = np.arange(n, dtype=rank.dtype)
            return order, None
        del rows
    order = np.argsort(cell, kind="stable")
    cell = cell[order]
    return order, _run_starts(cell[1:] != cell[:-1])


def _run_starts(new: np.ndarray) -> np.ndarray | None:
    """Where each distinct key starts among sorted keys (``new``: a key differs from the one
    before it, for every key but the first); None when every key does."""
    if bool(new.all()):
        return None
    return np.flatnonzero(np.r_[True, new])


def label_columns(df: pd.DataFrame) -> list[str]:
    """The label columns of a labelled frame (:func:`labelled`): the text columns between
    ``journey`` and ``interval_start``."""
    cols = list(df.columns)
    return cols[1 : cols.index("interval_start")] if "interval_start" in cols and cols[:1] == ["journey"] else []


def sorted_held(
    df: pd.DataFrame, names: Sequence[str] = ("journey",), *, consume: bool = False
) -> tuple[pd.DataFrame | None, int]:
    """``df`` sorted by the ``names`` columns then interval_start (:func:`key_order`), a fresh
    index, the rows of a repeated key summed, its buckets as they are held (sparse ones by their
    entries, never made dense: :func:`srekit.inputs.buckets.taken` and ``merged``); left as it is
    when it already is. With the repeated rows it summed; None for the frame when dense buckets
    repeat a key (:func:`merge` sums those). ``consume`` as for ``buckets.taken``."""
    order, starts = key_order(df, names)
    if starts is None:
        if bool((order[1:] > order[:-1]).all()):  # in order already
            fresh = isinstance(df.index, pd.RangeIndex) and df.index.name is None
            return (df if fresh and df.index.equals(pd.RangeIndex(len(df))) else df.reset_index(drop=True)), 0
        return bk.taken(df, order, consume=consume), 0
    if not bk.is_sparse(df):
        return None, len(df) - len(starts)
    totals = np.add.reduceat(df["total"].to_numpy()[order], starts, dtype=np.int64)
    keys = [*names, "interval_start"]
    return bk.merged(df, order, starts, keys, bucket_dtype(int(totals.max())), consume=consume), len(df) - len(starts)


def labelled(df: pd.DataFrame, labels: Sequence[str], *, consume: bool = False) -> pd.DataFrame:
    """Telemetry keyed by (journey, ``labels``, interval_start): the label columns after
    ``journey``, rows of a repeated key summed, sorted (left as they are when they already are),
    integer counts (narrow buckets kept narrow), a fresh index. Sparse buckets stay sparse
    (:func:`sorted_held`): a labelled 90-day file is never made dense; with ``consume`` a frame
    of exactly these columns is used up as it is sorted (see ``buckets.taken``)."""
    key = ["journey", *labels, "interval_start"]
    if bk.is_sparse(df):
        cols = key + COUNTS + bk.columns(df)
        whole = list(df.columns) == cols
        held, _ = sorted_held(df if whole else df[cols], key[:-1], consume=consume and whole)
        assert held is not None  # (sparse buckets are always summed as held)
        return held
    df = dense(df)
    cols = key + COUNTS + le_columns(df)
    out = df[cols]
    if out.duplicated(key).any():
        out = out.groupby(key, sort=False, observed=True).sum(numeric_only=True).reset_index()[cols]
    casts = {c: "str" for c in ["journey", *labels] if out[c].dtype != pd.api.types.pandas_dtype("str")}
    casts |= {c: "int64" for c in cols[len(key) :] if not pd.api.types.is_integer_dtype(out[c])}
    out = out.astype(casts) if casts else out
    stamps = pd.to_datetime(out["interval_start"], utc=True).astype("datetime64[us, UTC]")
    if out["interval_start"].dtype != stamps.dtype:
        out = out.assign(interval_start=stamps)
    keys = [pd.factorize(out[c], sort=True)[0] for c in reversed(key[:-1])]
    order = np.lexsort([pd.DatetimeIndex(stamps).asi8, *keys])  # last key (journey) first
    if (order[1:] < order[:-1]).any():
        out = out.take(order)
    return out.reset_index(drop=True)


def split_labels(df: pd.DataFrame, *, consume: bool = False) -> tuple[pd.DataFrame, pd.DataFrame | None]:
    """A frame that may carry label columns (:func:`label_columns`) as (the canonical frame
    summed per journey and interval, the labelled frame); (``df``, None) without labels.
    ``consume``: ``df`` may be used up (:func:`labelled`)."""
    labels = label_columns(df)
    if not labels:
        return df, None
    keyed = labelled(df, labels, consume=consume)
    if bk.is_sparse(keyed):  # summed over the labels as held: the labels are left out, then each
        summed, _ = sorted_held(keyed.drop(columns=labels))  # (journey, interval) key summed
        assert summed is not None
        return summed, keyed
    return merge([keyed]), keyed  # merge reads the key and count columns only: the labels sum away


def merge(frames: Iterable[pd.DataFrame]) -> pd.DataFrame:
    """Merge partial aggregates: rows with the same (journey, interval_start) are summed; other
    columns (labels) are left out. Frames must share the same bucket edges.

    One sort of the row keys, then each count column summed by runs in int64: memory follows one
    column at a time, not pandas' groupby copies of the whole frame (a 1 M-row labelled file took
    the load to 969 MB that way, 577 MB this way).
    """
    parts = [dense(f) for f in frames if len(f)]
    if not parts:
        return empty()
    edges = [tuple(le_columns(f)) for f in parts]
    if len(set(edges)) != 1:
        raise ValueError("cannot merge aggregates with different bucket edges")
    both = parts[0] if len(parts) == 1 else pd.concat(parts, ignore_index=True)
    jcodes, jnames = pd.factorize(both["journey"], sort=True)
    tcodes, tvals = pd.factorize(pd.to_datetime(both["interval_start"], utc=True), sort=True)
    group = jcodes.astype(np.int64) * len(tvals) + tcodes
    keep = (jcodes >= 0) & (tcodes >= 0)  # a missing key drops its row, as a groupby does
    order = np.flatnonzero(keep)[np.argsort(group[keep], kind="stable")]
    ordered = group[order]
    starts = np.flatnonzero(np.r_[True, ordered[1:] != ordered[:-1]])
    first = ordered[starts]
    out: dict[str, Any] = {
        "journey": pd.array(np.asarray(jnames, dtype=object)[first // len(tvals)], dtype="str"),
        "interval_start": pd.DatetimeIndex(tvals).take(first % len(tvals)).as_unit("us"),
    }
    for c in [*COUNTS, *edges[0]]:
        out[c] = np.add.reduceat(both[c].to_numpy()[order].astype(np.int64), starts)
    return pd.DataFrame(out)


def check(df: pd.DataFrame, *, source: str = "telemetry") -> None:
    """Raise :class:`InputError` unless ``df`` is a valid aggregated frame.

    Checks: key and count columns present, at least one ``le_`` column, no negative counts,
    ``errors ≤ total``, buckets non-decreasing in the edge and never above ``total``.
    """
    require_columns(
        df.columns,
        KEY + COUNTS,
        what="telemetry",
        expected="journey, interval_start, total, errors, le_<ms>...",
        fix="write telemetry with `srekit aggregate` or rename the columns",
        file=source,
    )
    les = bucket_names(df)
    if not les:
        raise input_error(
            "telemetry has no latency bucket columns",
            file=source,
            expected="cumulative columns named le_<edge_ms>, e.g. le_100, le_250",
            fix="add bucket columns or aggregate raw requests with `srekit aggregate`",
        )
    sparse = bk.is_sparse(df)
    counts = df[COUNTS + ([] if sparse else les)].to_numpy()
    neg = np.flatnonzero((counts < 0).any(axis=1))
    if sparse:  # entries ≥ 0 (unsigned); cumulative by construction
        neg = np.union1d(neg, np.concatenate([idx[val < 0] for idx, val in bk.entries(df)]))
    if neg.size:
        raise input_error(
            "negative counts",
            file=source,
            rows=(neg + 1).tolist(),
            fix="counts are request counts per interval; they cannot be negative",
        )
    over = np.flatnonzero(df["errors"].to_numpy() > df["total"].to_numpy())
    if over.size:
        raise input_error(
            "errors exceed total",
            file=source,
            column="errors",
            rows=(over + 1).tolist(),
            fix="errors counts a subset of total",
        )
    if sparse:
        top = np.flatnonzero(bk.row_sums(df) > df["total"].to_numpy())
        if top.size:
            raise input_error(
                "the latency buckets add up to more than total",
                file=source,
                rows=(top + 1).tolist(),
                fix="buckets count requests with latency ≤ the last edge, a subset of total",
            )
        return
    b = df[les].to_numpy()
    dec = np.flatnonzero((b[:, 1:] < b[:, :-1]).any(axis=1)) if b.shape[1] > 1 else np.array([], int)  # no wrap
    if dec.size:
        raise input_error(
            "latency buckets decrease with the edge",
            file=source,
            rows=(dec + 1).tolist(),
            expected="cumulative buckets: le_a ≤ le_b when a < b",
            fix="bucket columns must be cumulative (Prometheus style), not per-bucket counts",
        )
    top = np.flatnonzero(b[:, -1] > df["total"].to_numpy())
    if top.size:
        raise input_error(
            "a latency bucket exceeds total",
            file=source,
            column=les[-1],
            rows=(top + 1).tolist(),
            fix="le_<edge> counts requests with latency ≤ edge, a subset of total",
        )


def ratio(bad: float | np.ndarray, total: float | np.ndarray) -> np.ndarray:
    """Request-weighted bad ratio; 0 where there is no traffic (no traffic burns no budget)."""
    bad_a, tot_a = np.asarray(bad), np.asarray(total)
    if bad_a.dtype not in _EXACT:  # int64 divides as float64 (each value cast first) without a copy
        bad_a = bad_a.astype(float)
    if tot_a.dtype not in _EXACT:
        tot_a = tot_a.astype(float)
    out = np.zeros(np.broadcast_shapes(bad_a.shape, tot_a.shape))
    np.divide(bad_a, tot_a, out=out, where=tot_a > 0)
    return out


_EXACT = (np.dtype(np.int64), np.dtype(np.float64))


def regular(
    df: pd.DataFrame,
    journey: str,
    interval: pd.Timedelta,
    start: pd.Timestamp | None = None,
    end: pd.Timestamp | None = None,
) -> pd.DataFrame:
    """One journey on a regular grid indexed by interval_start; missing intervals are zero rows
    (no requests observed). Columns: total, errors, le_*.
    """
    part = dense(df[df["journey"] == journey]).set_index("interval_start")[COUNTS + bucket_names(df)]
    part = part.groupby(level=0).sum()
    lo = start if start is not None else (part.index.min() if len(part) else None)
    hi = end if end is not None else (part.index.max() if len(part) else None)
    if lo is None or hi is None:
        return part
    grid = pd.date_range(lo.floor(interval), hi, freq=interval, tz="UTC", name="interval_start")
    return part.reindex(grid, fill_value=0).astype("int64")


def window_sums(counts: pd.DataFrame, window: pd.Timedelta) -> pd.DataFrame:
    """Trailing sums over ``window`` on a regular grid (``regular`` output).

    Row t holds the sum over intervals starting in (t − window, t]. Request-weighted ratios are
    formed from these sums, never by averaging per-interval ratios.
    """
    if counts.empty:
        return counts
    step = counts.index[1] - counts.index[0] if len(counts) > 1 else window
    n = max(int(window / step), 1)
    values = counts.to_numpy(dtype=np.int64)
    cs = np.cumsum(values, axis=0)
    out = cs.copy()
    out[n:] = cs[n:] - cs[:-n]
    return pd.DataFrame(out, index=counts.index, columns=counts.columns)


def quantile_ms(buckets: pd.DataFrame, total: pd.Series | np.ndarray, q: float) -> np.ndarray:
    """Latency quantile per row from cumulative buckets, as Prometheus' ``histogram_quantile``:
    linear interpolation inside the bucket that holds the q-th request (the lowest bucket from 0).
    NaN where the row has no requests or the quantile lies above the largest edge.
    """
    les = le_columns(buckets)
    edges = np.array([parse_edge(c) for c in les])
    b = buckets[les].to_numpy(dtype=float)
    tot = np.asarray(total, dtype=float)
    rank = q * tot
    idx = (b < rank[:, None]).sum(axis=1)  # first bucket whose cumulative count reaches rank
    out = np.full(len(tot), np.nan)
    ok = (tot > 0) & (idx < len(edges))
    i = idx[ok]
    lower_edge = np.where(i > 0, edges[np.maximum(i - 1, 0)], 0.0)
    lower_cnt = np.where(i > 0, b[ok, np.maximum(i - 1, 0)], 0.0)
    upper_cnt = b[ok, i]
    width = np.where(upper_cnt > lower_cnt, upper_cnt - lower_cnt, 1.0)
    out[ok] = lower_edge + (edges[i] - lower_edge) * (rank[ok] - lower_cnt) / width
    return out


def sli_counts(
    telemetry: pd.DataFrame,
    journey: str,
    kind: str,
    *,
    threshold_ms: float | None = None,
    interval: pd.Timedelta | None = None,
    start: pd.Timestamp | None = None,
    end: pd.Timestamp | None = None,
) -> pd.DataFrame:
    """Per-interval ``total`` and ``bad`` events of one request-based SLI on a regular grid.

    ``availability``: bad = errors. ``latency``: bad = total − le_T, with T snapped to a bucket
    edge (``snap_edge``, conservative: the edge at or below the threshold). Missing intervals are
    zeros. ``interval`` defaults to the smallest spacing in the data.
    """
    if kind == "latency" and threshold_ms is None:
        raise ValueError("a latency SLI needs threshold_ms")
    if kind not in ("availability", "latency"):
        raise ValueError(f"sli_counts handles availability and latency, not {kind!r}")
    mask = (telemetry["journey"] == journey).to_numpy(dtype=bool)
    if mask.any():
        return _sli_grid(telemetry, mask, kind, threshold_ms, interval, start, end)
    part = telemetry[mask]
    if interval is None:
        interval = infer_interval(part)
    grid = regular(part, journey, interval, start, end)
    if kind == "availability":
        bad = grid["errors"]
    elif kind == "latency":
        if threshold_ms is None:
            raise ValueError("a latency SLI needs threshold_ms")
        edge = snap_edge(edges_of(part), threshold_ms)
        bad = grid["total"] - grid[edge_label(edge)]
    else:
        raise ValueError(f"sli_counts handles availability and latency, not {kind!r}")
    return pd.DataFrame({"total": grid["total"].astype("int64"), "bad": bad.astype("int64")}, index=grid.index)


def bad_counts(
    frame: pd.DataFrame, kind: str, threshold_ms: float | None = None, rows: np.ndarray | None = None
) -> np.ndarray:
    """Bad events of a request SLI per row of ``frame`` (``rows``: a boolean mask of the rows to
    read, else all), int64: ``errors`` for availability; ``total − le_T`` for latency, T snapped
    down to a bucket edge (:func:`snap_edge`, which raises below the smallest edge)."""
    sel: Any = slice(None) if rows is None else rows
    if kind == "availability":
        return frame["errors"].to_numpy()[sel].astype(np.int64)
    if threshold_ms is None:
        raise ValueError("a latency SLI needs threshold_ms")
    edges = edges_of(frame)
    edge = snap_edge(edges, threshold_ms)
    if bk.is_sparse(frame):
        fast = bk.at(frame, int(np.flatnonzero(edges == edge)[0]), sel)
    else:
        fast = frame[edge_label(edge)].to_numpy()[sel].astype(np.int64)
    return frame["total"].to_numpy()[sel].astype(np.int64) - fast


def _sli_grid(
    telemetry: pd.DataFrame,
    mask: np.ndarray,
    kind: str,
    threshold_ms: float | None,
    interval: pd.Timedelta | None,
    start: pd.Timestamp | None,
    end: pd.Timestamp | None,
) -> pd.DataFrame:
    """:func:`sli_counts` for a journey with rows (``mask``), reading only the two columns the
    SLI needs: the grid of :func:`regular` (duplicate stamps summed, rows off the grid or
    outside ``start``/``end`` dropped, missing intervals zero) without its per-column
    groupby and reindex."""
    stamps = pd.DatetimeIndex(telemetry["interval_start"])[mask]
    if interval is None:
        interval = infer_interval(pd.DataFrame({"interval_start": stamps}))
    total = telemetry["total"].to_numpy(dtype=np.int64)[mask]
    bad = bad_counts(telemetry, kind, threshold_ms, mask)
    lo = start if start is not None else stamps.min()
    hi = end if end is not None else stamps.max()
    grid = pd.date_range(lo.floor(interval), hi, freq=interval, tz="UTC", name="interval_start")
    pos = grid.get_indexer(stamps)
    keep = pos >= 0
    out_total = np.zeros(len(grid), dtype=np.int64)
    out_bad = np.zeros(len(grid), dtype=np.int64)
    if stamps.is_unique:
        out_total[pos[keep]] = total[keep]
        out_bad[pos[keep]] = bad[keep]
    else:
        np.add.at(out_total, pos[keep], total[keep])
        np.add.at(out_bad, pos[keep], bad[keep])
    return pd.DataFrame({"total": out_total, "bad": out_bad}, index=grid)


def infer_interval(df: pd.DataFrame) -> pd.Timedelta:
    """The aggregation interval: the smallest positive spacing of interval_start (1 min if
    there is nothing to infer from), exact in the unit the stamps are held in (ns at most)."""
    from srekit.inputs.intervals import smallest_spacing  # pandas at import: not on `srekit aggregate`'s path

    return smallest_spacing(df["interval_start"]) or pd.Timedelta(minutes=1)


def burn_rate(bad: float | np.ndarray, total: float | np.ndarray, target: float) -> np.ndarray:
    """Burn rate = observed bad ratio / allowed bad ratio (1 − target) (SRE Workbook,
    "Alerting on SLOs"). A window exactly at the objective burns at rate 1."""
    return ratio(bad, total) / (1.0 - target)
