"""Per-journey telemetry on a regular grid, and its sums per time block.

A :class:`JourneyGrid` holds one journey's counts as numpy arrays (zero rows where no interval
was recorded), built once per journey and read by every SLO of it (and by the budget and
alerting sections). :class:`Blocks` are the sums per day (or per hour, for short histories) the
threshold proposals and the historical SLO windows are computed from.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from srekit.inputs import telemetry as tm


@dataclass(frozen=True, slots=True)
class Blocks:
    """Sums per time block (contiguous, zero-filled): total, errors, cumulative le per edge."""

    index: pd.DatetimeIndex
    total: np.ndarray  # (B,)
    errors: np.ndarray  # (B,)
    le: np.ndarray  # (B, E)
    edges: np.ndarray  # (E,)


@dataclass(frozen=True, slots=True)
class JourneyGrid:
    """One journey's telemetry on a regular grid as numpy arrays (zero rows where no interval
    was recorded): what ``telemetry.regular`` gives, built once for every SLO of the journey."""

    journey: str
    start: pd.Timestamp  # first interval start (aligned to the interval)
    interval: pd.Timedelta
    total: np.ndarray  # (N,) int64
    errors: np.ndarray  # (N,) int64
    le: np.ndarray  # (N, E) int64 cumulative buckets
    edges: np.ndarray  # (E,) ms

    @property
    def index(self) -> pd.DatetimeIndex:
        return pd.date_range(self.start, periods=len(self.total), freq=self.interval, name="interval_start")

    def extended(self, end: pd.Timestamp | None) -> JourneyGrid:
        """The grid padded with zero rows up to the interval starting at ``end``."""
        if end is None:
            return self
        n = int((end - self.start) // self.interval) + 1
        if n <= len(self.total):
            return self
        pad = n - len(self.total)
        return JourneyGrid(
            self.journey,
            self.start,
            self.interval,
            np.concatenate([self.total, np.zeros(pad, np.int64)]),
            np.concatenate([self.errors, np.zeros(pad, np.int64)]),
            np.vstack([self.le, np.zeros((pad, self.le.shape[1]), np.int64)]),
            self.edges,
        )

    def events(self, sli: str, threshold_ms: float | None = None) -> pd.DataFrame:
        """total and bad per interval: bad = errors (availability) or total − le_T with T
        snapped down to a bucket edge (latency), as ``telemetry.sli_counts``."""
        if sli == "availability":
            bad = self.errors
        elif sli == "latency":
            if threshold_ms is None:
                raise ValueError("a latency SLI needs threshold_ms")
            edge = tm.snap_edge(self.edges, threshold_ms)
            bad = self.total - self.le[:, int(np.flatnonzero(self.edges == edge)[0])]
        else:
            raise ValueError(f"telemetry gives availability and latency SLIs, not {sli!r}")
        return pd.DataFrame({"total": self.total, "bad": bad}, index=self.index)

    def blocks(self, freq: str) -> Blocks:
        """Sums per day (``"D"``) or hour (``"h"``), contiguous."""
        size = pd.Timedelta(freq if freq[0].isdigit() else f"1{freq}").value // 1000  # µs
        step = self.interval.value // 1000  # µs
        t = self.start.value // 1000 + np.arange(len(self.total), dtype=np.int64) * step
        key = t // size
        cuts = np.flatnonzero(np.diff(key)) + 1
        starts, stops = np.concatenate([[0], cuts]), np.concatenate([cuts, [len(key)]])
        if size % step == 0 and t[0] % step == 0:  # the usual case: whole intervals per block
            lead, per = int((t[0] % size) // step), size // step
            total, errors, le = (
                _whole_block_sums(a, lead, per, len(starts)) for a in (self.total, self.errors, self.le)
            )
        else:
            total, errors, le = (_ragged_block_sums(a, starts, stops) for a in (self.total, self.errors, self.le))
        first = pd.Timestamp(int(key[0] * size), unit="us", tz="UTC")
        index = pd.date_range(first, periods=int(key[-1] - key[0]) + 1, freq=freq)
        if len(index) != len(starts):  # interval longer than the block: spread onto the block grid
            pos = (key[starts] - key[0]).astype(np.intp)
            total, errors, le = (_spread(a, pos, len(index)) for a in (total, errors, le))
        return Blocks(index, total, errors, le, self.edges)


def _whole_block_sums(a: np.ndarray, lead: int, per: int, n_blocks: int) -> np.ndarray:
    """Block sums when every block holds ``per`` whole intervals: pad to whole blocks (``lead``
    empty intervals before the first one), reshape and sum."""
    if lead == 0 and len(a) == n_blocks * per:
        padded = a
    else:
        padded = np.zeros((n_blocks * per,) + a.shape[1:], dtype=a.dtype)
        padded[lead : lead + len(a)] = a
    return padded.reshape((n_blocks, per) + a.shape[1:]).sum(axis=1).astype(float)


def _ragged_block_sums(a: np.ndarray, starts: np.ndarray, stops: np.ndarray) -> np.ndarray:
    """Block sums of rows ``starts[i]:stops[i]`` from cumulative sums (blocks of any length)."""
    cs = np.cumsum(a, axis=0)
    before = np.where((starts > 0).reshape((-1,) + (1,) * (a.ndim - 1)), cs[np.maximum(starts - 1, 0)], 0)
    return (cs[stops - 1] - before).astype(float)


def _spread(sums: np.ndarray, pos: np.ndarray, n: int) -> np.ndarray:
    """Block sums placed at their positions on a grid of ``n`` blocks (zeros elsewhere)."""
    full = np.zeros((n,) + sums.shape[1:])
    full[pos] = sums
    return full


def series_blocks(part: pd.DataFrame, freq: str, edges: np.ndarray) -> Blocks:
    """A gauge series as pseudo-histograms: each sample is one event, counted in every
    bucket edge ≥ its value (values above the largest edge fall in no bucket)."""
    key = pd.DatetimeIndex(part["timestamp"]).floor(freq)
    grid = pd.date_range(key.min(), key.max(), freq=freq, tz="UTC")
    pos = grid.get_indexer(key)
    first = np.searchsorted(edges, part["value"].to_numpy(), side="left")  # first edge ≥ value
    hist = np.zeros((len(grid), len(edges) + 1))
    np.add.at(hist, (pos, first), 1.0)
    le = np.cumsum(hist[:, :-1], axis=1)
    total = hist.sum(axis=1)
    return Blocks(grid, total, np.zeros(len(grid)), le, edges)


def journey_grids(telemetry: pd.DataFrame) -> dict[str, JourneyGrid]:
    """Every journey of an aggregated telemetry frame on its own regular grid (one pass;
    rows sharing an interval are summed, as ``telemetry.merge``)."""
    les = tm.le_columns(telemetry)
    edges = np.array([tm.parse_edge(c) for c in les])
    codes, names = pd.factorize(telemetry["journey"], sort=True)
    stamps = pd.DatetimeIndex(telemetry["interval_start"]).as_unit("us").asi8
    contiguous = bool((np.diff(codes) >= 0).all())  # canonical frames are sorted by journey
    order = np.arange(len(codes)) if contiguous else np.argsort(codes, kind="stable")
    bounds = np.searchsorted(codes[order], np.arange(len(names) + 1))
    values = telemetry[tm.COUNTS + les]
    out: dict[str, JourneyGrid] = {}
    for k, name in enumerate(names):
        rows: slice | np.ndarray = slice(bounds[k], bounds[k + 1]) if contiguous else order[bounds[k] : bounds[k + 1]]
        out[str(name)] = _grid_of(str(name), stamps[rows], values.iloc[rows].to_numpy(np.int64), edges)
    return out


def journey_grid(
    telemetry: pd.DataFrame, journey: str, sli: str, threshold_ms: float | None = None
) -> JourneyGrid | None:
    """``journey_grids(telemetry)[journey]`` (None when the journey has no rows) holding only
    the buckets ``sli`` needs: none for availability, the threshold's snapped edge for latency
    (:meth:`JourneyGrid.events` gives the same events). For one SLO's events."""
    mask = (telemetry["journey"] == journey).to_numpy(dtype=bool)
    if not mask.any():
        return None
    les = tm.le_columns(telemetry)
    edges = np.array([tm.parse_edge(c) for c in les])
    if sli == "latency" and threshold_ms is not None:
        edge = tm.snap_edge(edges, threshold_ms)
        keep = [i for i, e in enumerate(edges) if e == edge][:1]
        les, edges = [les[i] for i in keep], edges[keep]
    elif sli != "latency":
        les, edges = [], edges[:0]
    stamps = pd.DatetimeIndex(telemetry["interval_start"]).as_unit("us").asi8[mask]
    cols = [telemetry[c].to_numpy(dtype=np.int64)[mask] for c in tm.COUNTS + les]
    return _grid_of(journey, stamps, np.column_stack(cols), edges)


def _grid_of(name: str, t: np.ndarray, vals: np.ndarray, edges: np.ndarray) -> JourneyGrid:
    """One journey's grid from its stamps (µs) and count rows (total, errors, buckets)."""
    increasing = bool((np.diff(t) > 0).all())
    srt = t if increasing else np.sort(t)
    d = np.diff(srt)
    d = d[d > 0]
    step = int(d.min()) if d.size else 60_000_000
    t0 = (srt[0] // step) * step
    pos = (t - t0) // step
    n = int(pos.max()) + 1
    if increasing and n == len(pos):  # one row per interval, no gaps: already the grid
        grid = vals
    elif increasing and (np.diff(pos) > 0).all():
        grid = np.zeros((n, vals.shape[1]), np.int64)
        grid[pos] = vals
    else:  # unsorted or several rows per interval: sum them
        grid = np.zeros((n, vals.shape[1]), np.int64)
        np.add.at(grid, pos, vals)
    return JourneyGrid(
        name,
        pd.Timestamp(int(t0), unit="us", tz="UTC"),
        pd.Timedelta(step, unit="us"),
        grid[:, 0],
        grid[:, 1],
        grid[:, 2:],
        edges,
    )
