"""Per-journey telemetry on a regular grid, and its sums per time block.

A :class:`JourneyGrid` holds one journey's counts as numpy arrays (zero rows where no interval
was recorded), built once per journey and read by every SLO of it (and by the budget and
alerting sections). :class:`Blocks` are the sums per day (or per hour, for short histories) the
threshold proposals and the historical SLO windows are computed from.

**Sized by the data.** A grid keeps every interval with data and the ``pad`` intervals after each
(:data:`GAP_LOOKBACK`, the longest trailing window any analysis reads row by row); longer runs
of empty intervals are skipped. Every trailing sum over at most ``pad`` rows, every sum between
two instants and every firing of a replayed rule is then what the dense grid gives (rows skipped
are zeros that no window reaching data covers), so three rows 200 years apart cost a few thousand
rows instead of 117 million. :func:`kept_positions` is the rule; a grid holding more than
``limits.max_intervals`` rows anyway (a 1 µs interval over days) is a
:class:`~srekit.core.errors.LimitError`.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from srekit.core.limits import DEFAULT_LIMITS, check_limit
from srekit.core.timeutil import epoch_ints, format_duration, parse_duration
from srekit.inputs import buckets as bk
from srekit.inputs import telemetry as tm
from srekit.inputs.config import ServiceConfig

#: The longest trailing window any analysis reads row by row on an SLI grid: the burn-rate
#: windows (1h, 6h, 1d, 3d), the default alert rules' long windows (up to 3d), the burn episodes
#: (1h). Grids keep this much after every interval with data and skip longer empty runs;
#: :func:`lookback` raises it for longer configured alert windows. ``None``: dense grids from the
#: first to the last interval (the previous behaviour, for comparison).
GAP_LOOKBACK: pd.Timedelta | None = pd.Timedelta(days=3)


def lookback(windows: tuple[pd.Timedelta, ...] = ()) -> pd.Timedelta | None:
    """The gap kept after data: :data:`GAP_LOOKBACK`, or the longest of ``windows`` (e.g. the
    configured alert windows) when longer; ``None`` (dense) when :data:`GAP_LOOKBACK` is None."""
    if GAP_LOOKBACK is None:
        return None
    return max((GAP_LOOKBACK, *windows))


def pad_rows(look: pd.Timedelta | None, step: pd.Timedelta) -> int | None:
    """Empty intervals kept after each interval with data: ``look`` in intervals of ``step``."""
    if look is None:
        return None
    return max(int(-(-look.value // max(step.value, 1))), 1)


def kept_count(points: np.ndarray, pad: int | None) -> int:
    """How many positions :func:`kept_positions` keeps (computed before allocating them)."""
    if len(points) == 0:
        return 0
    if pad is None:
        return int(points[-1] - points[0]) + 1
    return int(np.minimum(np.diff(points), pad + 1).sum()) + 1


def kept_positions(points: np.ndarray, pad: int | None) -> np.ndarray:
    """The positions (interval numbers) a grid keeps, given the sorted unique ``points`` with
    data (or that must be present, such as a requested end): each point and the ``pad`` positions
    after it, up to the next point; the last point ends the grid. ``pad=None``: every position
    from the first point to the last."""
    if len(points) == 0:
        return np.asarray(points, dtype=np.int64)
    if pad is None:
        return np.arange(points[0], points[-1] + 1, dtype=np.int64)
    lengths = np.append(np.minimum(np.diff(points), pad + 1), 1).astype(np.int64)
    firsts = np.cumsum(lengths) - lengths
    return np.repeat(points.astype(np.int64), lengths) + (np.arange(int(lengths.sum())) - np.repeat(firsts, lengths))


@dataclass(frozen=True, slots=True)
class GridSettings:
    """How SLI grids are sized: the trailing windows read on them (beyond :data:`GAP_LOOKBACK`)
    and the most rows one grid may hold (``limits.max_intervals``)."""

    windows: tuple[pd.Timedelta, ...] = ()
    max_intervals: int = DEFAULT_LIMITS.max_intervals
    interval: pd.Timedelta | None = None  # the telemetry's declared interval (else the smallest spacing)

    @classmethod
    def of(cls, config: ServiceConfig) -> GridSettings:
        """The configured alert windows (longer ones keep more after data) and limits."""
        texts = (*config.alerting.page_long_windows, *config.alerting.ticket_long_windows)
        windows = []
        for text in texts:
            try:
                windows.append(parse_duration(text))
            except (ValueError, TypeError):
                continue  # the policy reports an unusable window itself
        return cls(tuple(w for w in windows if not pd.isna(w)), config.limits.max_intervals)

    @property
    def look(self) -> pd.Timedelta | None:
        return lookback(self.windows)


def regular_frame(
    frame: pd.DataFrame,
    step: pd.Timedelta,
    settings: GridSettings,
    what: str,
    *,
    first: pd.Timestamp | None = None,
    last: pd.Timestamp | None = None,
) -> pd.DataFrame:
    """``frame`` (integer counts indexed by sorted interval starts of ``step``) on its regular
    grid sized by the data (:func:`kept_positions` of the intervals with counts), from ``first``
    to ``last`` when given (rows outside are dropped; both ends are kept) else from its first row
    to its last; missing intervals are zero rows, rows sharing an interval are summed. A frame
    already sized by the data for a shorter window gets the empty intervals back a longer one
    reads (they are zeros)."""
    idx = pd.DatetimeIndex(frame.index)
    keep = np.ones(len(idx), bool)
    if first is not None:
        keep &= np.asarray(idx >= first)
    if last is not None:
        keep &= np.asarray(idx <= last)
    frame, idx = frame[keep], idx[keep]
    if not len(idx) and (first is None or last is None):
        return frame
    step_us = max(step.value // 1000, 1)
    origin = (first if first is not None else idx[0]).value // 1000  # µs (Timestamp.value is ns)
    pos = (idx.as_unit("us").asi8 - origin) // step_us
    end = (last.value // 1000 - origin) // step_us if last is not None else int(pos[-1])
    # the intervals with counts, and both ends: a row of zeros (padding kept earlier) is no data
    counted = pos[frame.to_numpy(np.int64).any(axis=1)] if len(pos) else pos
    points = np.concatenate([[0], counted, [end]]).astype(np.int64)
    points = (
        points[np.concatenate([[True], np.diff(points) > 0])] if (np.diff(points) >= 0).all() else np.unique(points)
    )
    pad = pad_rows(settings.look, step)
    check_intervals(kept_count(points, pad), settings.max_intervals, what, "check the stamps far from the rest")
    kept = kept_positions(points, pad)
    values = np.zeros((len(kept), frame.shape[1]), np.int64)
    rows = np.searchsorted(kept, pos)
    on = kept[np.minimum(rows, len(kept) - 1)] == pos  # rows not kept are zeros (padding beyond this grid's)
    data = frame.to_numpy(np.int64)
    if (np.diff(pos) > 0).all():
        values[rows[on]] = data[on]
    else:  # several rows in one interval: sum them
        np.add.at(values, rows[on], data[on])
    index = pd.DatetimeIndex(pd.to_datetime(origin + kept * step_us, unit="us", utc=True), name="interval_start")
    return pd.DataFrame(values, index=index, columns=frame.columns)


def show_step(step: pd.Timedelta) -> str:
    """An interval for a message: ``1m``, ``5m``, ``90s``, or ``250ms`` / ``1us`` below a second."""
    if step.value % 1_000_000_000 == 0:
        return format_duration(step)
    return f"{step.value // 1_000_000}ms" if step.value % 1_000_000 == 0 else f"{step.value // 1000}us"


def check_intervals(count: int, limit: int, what: str, fix: str) -> None:
    """:class:`~srekit.core.errors.LimitError` when a grid of ``count`` rows exceeds ``limit``
    (``limits.max_intervals``)."""
    check_limit(replace(DEFAULT_LIMITS, max_intervals=limit), "max_intervals", count, what, fix, "intervals")


@dataclass(frozen=True, slots=True)
class Blocks:
    """Sums per time block (contiguous, zero-filled): total, errors, cumulative le per edge."""

    index: pd.DatetimeIndex
    total: np.ndarray  # (B,)
    errors: np.ndarray  # (B,)
    le: np.ndarray  # (B, E)
    edges: np.ndarray  # (E,)


@dataclass(frozen=True, slots=True, eq=False)
class LazyBuckets:
    """A journey's cumulative buckets on its grid, made from telemetry holding them sparse
    (:mod:`srekit.inputs.buckets`) each time they are read: ``telemetry``'s rows ``rows`` placed
    at grid rows ``at`` of an ``n``-row grid (``whole``: the rows are the grid)."""

    telemetry: pd.DataFrame
    rows: slice
    at: np.ndarray | None  # None when whole
    n: int
    whole: bool

    def dense(self) -> np.ndarray:
        block = tm.bucket_block(self.telemetry, self.rows)
        if self.at is None:
            return block
        return _place(block, self.at, self.n, self.whole)

    def padded(self, pad: int) -> LazyBuckets:
        """The same buckets on a grid ``pad`` zero rows longer (still made when read)."""
        at = np.arange(self.n, dtype=np.int64) if self.at is None else self.at
        return replace(self, at=at, n=self.n + pad, whole=False)

    def column(self, k: int) -> np.ndarray:
        col = bk.at(self.telemetry, k, self.rows)[:, None]  # int64
        return (col if self.at is None else _place(col, self.at, self.n, self.whole))[:, 0]


@dataclass(frozen=True, slots=True)
class JourneyGrid:
    """One journey's telemetry on a regular grid as numpy arrays (zero rows where no interval
    was recorded): what ``telemetry.regular`` gives, built once for every SLO of the journey.

    ``offsets`` are the interval numbers of the rows (from ``start``) when long empty runs are
    skipped (see the module docstring), ``None`` when every interval is a row; ``pad`` is how
    many empty intervals follow data before a run is skipped (``None``: none are skipped) and
    ``max_intervals`` the most rows a grid derived from this one may hold."""

    journey: str
    start: pd.Timestamp  # first interval start (aligned to the interval)
    interval: pd.Timedelta
    total: np.ndarray  # (N,) int64
    errors: np.ndarray  # (N,) int64
    buckets: np.ndarray | LazyBuckets  # (N, E) cumulative (see le), or made so when read
    edges: np.ndarray  # (E,) ms
    offsets: np.ndarray | None = None  # (N,) int64 interval numbers; None = 0..N-1
    pad: int | None = None
    max_intervals: int = DEFAULT_LIMITS.max_intervals

    @property
    def le(self) -> np.ndarray:
        """(N, E) cumulative buckets: int64 or unsigned (tm.BUCKET_DTYPES), cast before arithmetic.
        Of telemetry holding its buckets sparse, made when read (not kept: 200 journeys' grids
        would hold the dense history again)."""
        return self.buckets if isinstance(self.buckets, np.ndarray) else self.buckets.dense()

    def le_column(self, k: int) -> np.ndarray:
        """The cumulative bucket of edge number ``k`` per row (``le[:, k]``)."""
        return self.buckets[:, k] if isinstance(self.buckets, np.ndarray) else self.buckets.column(k)

    @property
    def positions(self) -> np.ndarray:
        """Interval number of every row (from ``start``)."""
        return np.arange(len(self.total), dtype=np.int64) if self.offsets is None else self.offsets

    @property
    def index(self) -> pd.DatetimeIndex:
        if self.offsets is None:
            return pd.date_range(self.start, periods=len(self.total), freq=self.interval, name="interval_start")
        stamps = self.start.value // 1000 + self.offsets * (self.interval.value // 1000)
        return pd.DatetimeIndex(pd.to_datetime(stamps, unit="us", utc=True), name="interval_start")

    def extended(self, end: pd.Timestamp | None) -> JourneyGrid:
        """The grid padded with zero rows up to the interval starting at ``end`` (empty runs
        longer than ``pad`` skipped, as when the grid was built)."""
        if end is None:
            return self
        last = int(self.positions[-1]) if len(self.total) else -1
        p_end = int((end - self.start) // self.interval)
        if p_end <= last:
            return self
        added = kept_positions(np.array([last, p_end], np.int64), self.pad)[1:]
        check_intervals(
            len(self.total) + len(added),
            self.max_intervals,
            f"journey {self.journey!r} extended to {end.isoformat()} on its {show_step(self.interval)} grid",
            "check the end of the data (the series or telemetry stamps far ahead of the rest)",
        )
        offsets = (
            None if self.offsets is None and len(added) == p_end - last else np.concatenate([self.positions, added])
        )
        pad = len(added)
        return replace(
            self,
            total=np.concatenate([self.total, np.zeros(pad, np.int64)]),
            errors=np.concatenate([self.errors, np.zeros(pad, np.int64)]),
            buckets=self.buckets.padded(pad)
            if isinstance(self.buckets, LazyBuckets)
            else np.vstack([self.buckets, np.zeros((pad, self.buckets.shape[1]), self.buckets.dtype)]),
            offsets=offsets,
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
            # int64 before the difference: unsigned buckets must not wrap
            bad = self.total.astype(np.int64) - self.le_column(int(np.flatnonzero(self.edges == edge)[0])).astype(
                np.int64
            )
        else:
            raise ValueError(f"telemetry gives availability and latency SLIs, not {sli!r}")
        return pd.DataFrame({"total": self.total, "bad": bad}, index=self.index)

    def blocks(self, freq: str) -> Blocks:
        """Sums per day (``"D"``) or hour (``"h"``), contiguous from the first block to the last."""
        size = pd.Timedelta(freq if freq[0].isdigit() else f"1{freq}").value // 1000  # µs
        step = self.interval.value // 1000  # µs
        t = self.start.value // 1000 + self.positions * step
        key = t // size
        check_intervals(
            int(key[-1] - key[0]) + 1,
            self.max_intervals,
            f"journey {self.journey!r} in blocks of {freq} from {self.index[0].isoformat()}",
            "check the journey's interval_start stamps (one far from the rest stretches every grid)",
        )
        cuts = np.flatnonzero(np.diff(key)) + 1
        starts, stops = np.concatenate([[0], cuts]), np.concatenate([cuts, [len(key)]])
        if self.offsets is None and size % step == 0 and t[0] % step == 0:  # the usual case: whole intervals
            lead, per = int((t[0] % size) // step), size // step
            total, errors, le = (
                _whole_block_sums(a, lead, per, len(starts)) for a in (self.total, self.errors, self.le)
            )
        else:
            total, errors, le = (_ragged_block_sums(a, starts, stops) for a in (self.total, self.errors, self.le))
        first = pd.Timestamp(int(key[0] * size), unit="us", tz="UTC")
        index = pd.date_range(first, periods=int(key[-1] - key[0]) + 1, freq=freq)
        if len(index) != len(starts):  # blocks without rows (or interval longer than the block): spread
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
    return padded.reshape((n_blocks, per) + a.shape[1:]).sum(axis=1, dtype=np.int64).astype(float)


def _ragged_block_sums(a: np.ndarray, starts: np.ndarray, stops: np.ndarray) -> np.ndarray:
    """Block sums of rows ``starts[i]:stops[i]`` from cumulative sums (blocks of any length)."""
    cs = np.cumsum(a, axis=0, dtype=np.int64)
    before = np.where((starts > 0).reshape((-1,) + (1,) * (a.ndim - 1)), cs[np.maximum(starts - 1, 0)], 0)
    return (cs[stops - 1] - before).astype(float)


def _spread(sums: np.ndarray, pos: np.ndarray, n: int) -> np.ndarray:
    """Block sums placed at their positions on a grid of ``n`` blocks (zeros elsewhere)."""
    full = np.zeros((n,) + sums.shape[1:])
    full[pos] = sums
    return full


def series_blocks(
    part: pd.DataFrame, freq: str, edges: np.ndarray, max_intervals: int = DEFAULT_LIMITS.max_intervals
) -> Blocks:
    """A gauge series as pseudo-histograms: each sample is one event, counted in every
    bucket edge ≥ its value (values above the largest edge fall in no bucket)."""
    key = pd.DatetimeIndex(part["timestamp"]).floor(freq)
    check_intervals(
        int((key.max() - key.min()) // pd.Timedelta(freq if freq[0].isdigit() else f"1{freq}")) + 1,
        max_intervals,
        f"the series from {key.min().isoformat()} to {key.max().isoformat()} in blocks of {freq}",
        "check the series' timestamps (one far from the rest stretches every grid)",
    )
    grid = pd.date_range(key.min(), key.max(), freq=freq, tz="UTC")
    pos = grid.get_indexer(key)
    first = np.searchsorted(edges, part["value"].to_numpy(), side="left")  # first edge ≥ value
    hist = np.zeros((len(grid), len(edges) + 1))
    np.add.at(hist, (pos, first), 1.0)
    le = np.cumsum(hist[:, :-1], axis=1)
    total = hist.sum(axis=1)
    return Blocks(grid, total, np.zeros(len(grid)), le, edges)


def journey_grids(telemetry: pd.DataFrame, settings: GridSettings | None = None) -> dict[str, JourneyGrid]:
    """Every journey of an aggregated telemetry frame on its own regular grid (one pass;
    rows sharing an interval are summed, as ``telemetry.merge``), sized by the data: empty runs
    longer than ``settings.look`` are skipped; more than ``settings.max_intervals`` rows in one
    grid is a :class:`~srekit.core.errors.LimitError`."""
    settings = settings or GridSettings()
    edges = tm.edges_of(telemetry)
    stamps = epoch_ints(telemetry["interval_start"])
    counts = telemetry[tm.COUNTS]
    sparse = bk.is_sparse(telemetry)
    out: dict[str, JourneyGrid] = {}
    for name, rows in tm.journey_rows(telemetry).items():
        held: np.ndarray | slice = rows if sparse and isinstance(rows, slice) else tm.bucket_block(telemetry, rows)
        vals = counts.iloc[rows].to_numpy(np.int64), held
        out[name] = _grid_of(name, stamps[rows], vals, edges, settings, telemetry)
    return out


def journey_grid(
    telemetry: pd.DataFrame,
    journey: str,
    sli: str,
    threshold_ms: float | None = None,
    settings: GridSettings | None = None,
) -> JourneyGrid | None:
    """``journey_grids(telemetry)[journey]`` (None when the journey has no rows) holding only
    the buckets ``sli`` needs: none for availability, the threshold's snapped edge for latency
    (:meth:`JourneyGrid.events` gives the same events). For one SLO's events."""
    mask = (telemetry["journey"] == journey).to_numpy(dtype=bool)
    if not mask.any():
        return None
    edges = tm.edges_of(telemetry)
    keep: list[int] = []
    if sli == "latency" and threshold_ms is not None:
        edge = tm.snap_edge(edges, threshold_ms)
        keep = [i for i, e in enumerate(edges) if e == edge][:1]
    stamps = epoch_ints(telemetry["interval_start"])[mask]
    counts = np.column_stack([telemetry[c].to_numpy()[mask].astype(np.int64) for c in tm.COUNTS])
    if bk.is_sparse(telemetry):
        buckets = np.column_stack([bk.at(telemetry, k, mask) for k in keep]) if keep else np.zeros((len(stamps), 0))
    else:
        buckets = tm.bucket_block(telemetry, mask, [tm.bucket_names(telemetry)[k] for k in keep])
    return _grid_of(journey, stamps, (counts, buckets), edges[keep], settings or GridSettings())


def _grid_of(
    name: str,
    t: np.ndarray,
    vals: tuple[np.ndarray, np.ndarray | slice],
    edges: np.ndarray,
    settings: GridSettings,
    telemetry: pd.DataFrame | None = None,
) -> JourneyGrid:
    """One journey's grid from its stamps (µs) and count rows (total and errors; buckets): every
    interval with data and ``settings.look`` after it (:func:`kept_positions`). The step is
    ``settings.interval`` when declared, else the smallest spacing (1 minute for a single row)."""
    increasing = bool((np.diff(t) > 0).all())
    srt = t if increasing else np.sort(t)
    d = np.diff(srt)
    d = d[d > 0]
    if settings.interval is not None:
        step = int(settings.interval / pd.Timedelta(microseconds=1))
    else:
        step = int(d.min()) if d.size else 60_000_000
    t0 = (srt[0] // step) * step
    pos = (t - t0) // step
    interval = pd.Timedelta(step, unit="us")
    pad = pad_rows(settings.look, interval)
    points = pos if increasing else np.unique(pos)  # sorted unique interval numbers
    count = kept_count(points, pad)
    check_intervals(
        count,
        settings.max_intervals,
        f"journey {name!r}: {len(t):,} rows from {_iso(srt[0])} to {_iso(srt[-1])} on a {show_step(interval)} "
        "interval (the smallest spacing of its stamps)",
        "check the journey's interval_start stamps (stamps closer together than the aggregation interval, or "
        "rows that are not aggregated: srekit aggregate --interval 1min)",
    )
    offsets = None if count == int(points[-1]) + 1 else kept_positions(points, pad)
    rows = pos if offsets is None else np.searchsorted(offsets, pos)
    whole = increasing and offsets is None and count == len(pos)
    counts = _place(vals[0], rows, count, whole)
    le: np.ndarray | LazyBuckets
    if isinstance(vals[1], slice):  # sparse buckets of telemetry rows vals[1]: made when read
        assert telemetry is not None
        le = LazyBuckets(telemetry, vals[1], None if whole else rows, count, whole)
    else:
        le = _place(vals[1], rows, count, whole)
    return JourneyGrid(
        name,
        pd.Timestamp(int(t0), unit="us", tz="UTC"),
        interval,
        counts[:, 0],
        counts[:, 1],
        le,
        edges,
        offsets,
        pad,
        settings.max_intervals,
    )


def _place(vals: np.ndarray, rows: np.ndarray, n: int, whole: bool) -> np.ndarray:
    """Count rows at grid rows ``rows`` of an ``n``-row grid, zeros elsewhere: ``vals`` itself
    when it is the grid already (``whole``), in its own dtype when no two rows share an
    interval, else summed in int64 (a sum may not fit a narrow dtype)."""
    if whole:
        return vals
    if (np.diff(rows) > 0).all():
        grid = np.zeros((n, vals.shape[1]), vals.dtype)
        grid[rows] = vals
        return grid
    summed = np.zeros((n, vals.shape[1]), np.int64)
    np.add.at(summed, rows, vals)
    return summed


def _iso(us: int) -> str:
    return pd.Timestamp(int(us), unit="us", tz="UTC").isoformat()
