"""SLIs, latency threshold proposals and SLO options with their trade-offs (issue 3).

Entry point: :func:`propose_slos` → :class:`SloProposal` (the ``slo_proposal`` section of
``report.json``). Lower-level pieces other sections reuse: :func:`sli_events` (good/bad events
of any :class:`~srekit.core.spec.SLOSpec` on a regular grid).

Definitions follow the Google SRE Workbook, chapter 2 "Implementing SLOs" (an SLI is the ratio
of good events to valid events, counted over the SLO window, request-weighted) and the OpenSLO
v1 spec (``ratioMetric`` good/total; ``budgetingMethod`` Occurrences / Timeslices; rolling or
calendar windows). Latency thresholds snap to histogram bucket edges, exactly as a Prometheus
``_bucket{le}`` query must.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any, cast

import numpy as np
import pandas as pd

from srekit.core.errors import ConfigError
from srekit.core.questions import OpenQuestion
from srekit.core.spec import Budgeting, SliKind, SLOSpec, WindowKind
from srekit.core.timeutil import format_duration
from srekit.inputs import telemetry as tm
from srekit.inputs.config import JourneyConfig, ServiceConfig
from srekit.inputs.promql import le_text, quote

SECTION = "slo_proposal"
RUNGS = ("relaxed", "balanced", "ambitious")
MET_SHARE = 0.9  # a target is "defensible" when it held in ≥ 90 % of past SLO windows
LATENCY_ANCHOR = 0.99  # the balanced latency objective promises this share of fast requests
TOP_JOURNEYS = 3  # critical journeys when none are configured: the top 3 by traffic
BOOTSTRAP_RESAMPLES = 999
CONFIDENCE = 0.95
MIN_DAYS_FOR_DAY_BLOCKS = 7  # fewer days of history: bootstrap over hours instead
DEFAULT_TIMESLICE_TARGET = 0.99
PROVISIONAL_AVAILABILITY = 0.999
PROVISIONAL_LATENCY_MS = 300.0
PROVISIONAL_LATENCY_TARGET = 0.99
# Histogram buckets to emit when there is no telemetry yet (ms): dense around common
# interactive thresholds, Prometheus client defaults scaled to milliseconds and extended.
INSTRUMENT_EDGES_MS = (5.0, 10.0, 25.0, 50.0, 100.0, 200.0, 300.0, 500.0, 750.0, 1000.0, 2500.0, 5000.0, 10000.0)


# --------------------------------------------------------------------------------------------
# result types


@dataclass(frozen=True, slots=True)
class SLI:
    """A service level indicator: good events / valid events for one journey."""

    name: str
    journey: str
    kind: str  # availability | latency | timeslice
    definition: str
    columns: tuple[str, ...]
    promql: str
    user_impact: str
    threshold_ms: float | None = None  # latency and timeslice SLIs only
    provisional: bool = False

    def __post_init__(self) -> None:
        if self.kind not in ("availability", "latency", "timeslice"):
            raise ValueError(f"unknown SLI kind {self.kind!r}")
        if self.kind != "availability" and (self.threshold_ms is None or self.threshold_ms <= 0):
            raise ValueError(f"SLI {self.name}: a {self.kind} SLI needs a positive threshold_ms")

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "name": self.name,
            "journey": self.journey,
            "kind": self.kind,
            "definition": self.definition,
            "source": {"columns": list(self.columns), "promql": self.promql},
            "user_impact": self.user_impact,
            "provisional": self.provisional,
        }
        if self.threshold_ms is not None:
            out["threshold_ms"] = float(self.threshold_ms)
        return out


@dataclass(frozen=True, slots=True)
class WindowStats:
    """How an objective would have fared over past SLO windows (request-weighted)."""

    windows: int  # evaluation windows with traffic
    windows_met: float  # share of those windows in which the objective held
    budget_consumed_median: float  # median share of the error budget the windows consumed
    budget_consumed_p90: float

    def __post_init__(self) -> None:
        if self.windows < 0 or not 0.0 <= self.windows_met <= 1.0:
            raise ValueError("windows must be ≥ 0 and windows_met in [0, 1]")
        if self.budget_consumed_median < 0 or self.budget_consumed_p90 < 0:
            raise ValueError("budget consumption cannot be negative")

    def to_dict(self) -> dict[str, Any]:
        return {
            "windows": self.windows,
            "windows_met": self.windows_met,
            "budget_consumed_median": self.budget_consumed_median,
            "budget_consumed_p90": self.budget_consumed_p90,
        }


@dataclass(frozen=True, slots=True)
class ThresholdProposal:
    """The latency threshold the history supports for one journey and target."""

    journey: str
    kind: str  # latency (request histograms) | timeslice (a per-interval statistic)
    target: float
    threshold_ms: float
    threshold_ci_ms: tuple[float, float]
    ci_block: str  # day | hour | none (what the bootstrap resampled)
    pooled_fraction: float  # share of all requests (or intervals) ≤ threshold over the range
    history: WindowStats
    min_window_events: int
    too_little_data: bool

    def __post_init__(self) -> None:
        if not 0.0 < self.target < 1.0:
            raise ValueError("target must be in (0, 1)")
        lo, hi = self.threshold_ci_ms
        if not lo <= self.threshold_ms <= hi:
            raise ValueError(f"threshold {self.threshold_ms} outside its interval {self.threshold_ci_ms}")
        if not 0.0 <= self.pooled_fraction <= 1.0:
            raise ValueError("pooled_fraction must be in [0, 1]")

    def to_dict(self) -> dict[str, Any]:
        return {
            "journey": self.journey,
            "kind": self.kind,
            "target": self.target,
            "threshold_ms": self.threshold_ms,
            "threshold_ci_ms": [self.threshold_ci_ms[0], self.threshold_ci_ms[1]],
            "ci_block": self.ci_block,
            "pooled_fraction": self.pooled_fraction,
            **self.history.to_dict(),
            "min_window_events": self.min_window_events,
            "too_little_data": self.too_little_data,
        }


@dataclass(frozen=True, slots=True)
class Objective:
    """One objective inside an option: an SLI kind, its target and (for latency) threshold."""

    sli: str
    target: float
    history: WindowStats
    threshold_ms: float | None = None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"sli": self.sli, "target": self.target}
        if self.threshold_ms is not None:
            out["threshold_ms"] = self.threshold_ms
        return out | self.history.to_dict()


@dataclass(frozen=True, slots=True)
class SloOption:
    """A named set of objectives for one journey with its historical record and trade-off."""

    journey: str
    name: str  # relaxed | balanced | ambitious | given
    objectives: tuple[Objective, ...]
    history: WindowStats  # all objectives together (a window counts as met when all held)
    tradeoff: str
    recommended: bool

    def __post_init__(self) -> None:
        if self.name not in (*RUNGS, "given"):
            raise ValueError(f"unknown option name {self.name!r}")
        if not self.objectives:
            raise ValueError("an option needs at least one objective")

    def objective(self, sli: str) -> Objective | None:
        return next((o for o in self.objectives if o.sli == sli), None)

    def to_dict(self) -> dict[str, Any]:
        return {
            "journey": self.journey,
            "name": self.name,
            "recommended": self.recommended,
            "objectives": [o.to_dict() for o in self.objectives],
            **self.history.to_dict(),
            "tradeoff": self.tradeoff,
        }


@dataclass(frozen=True, slots=True)
class InstrumentationStep:
    """What to emit for a journey that has no telemetry yet."""

    journey: str
    counter: str
    histogram: str
    bucket_edges_ms: tuple[float, ...]
    why: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "journey": self.journey,
            "counter": self.counter,
            "histogram": self.histogram,
            "bucket_edges_ms": list(self.bucket_edges_ms),
            "why": self.why,
        }


@dataclass(frozen=True, slots=True)
class SloInForce:
    """An SLO the rest of the report uses, where it came from and why."""

    spec: SLOSpec
    source: str  # service.yaml | given | option:balanced | provisional
    rationale: str

    def to_dict(self) -> dict[str, Any]:
        return spec_to_dict(self.spec) | {"source": self.source, "rationale": self.rationale}


@dataclass(frozen=True, slots=True)
class SloProposal:
    """The ``slo_proposal`` section: SLIs, threshold proposals, options and the SLOs in force."""

    slos: tuple[SloInForce, ...]
    slis: tuple[SLI, ...]
    threshold_proposals: tuple[ThresholdProposal, ...]
    options: tuple[SloOption, ...]
    instrumentation_plan: tuple[InstrumentationStep, ...]
    critical_journeys: tuple[str, ...]
    window: pd.Timedelta
    window_kind: str
    open_questions: tuple[OpenQuestion, ...]
    # per journey × edge pooled cumulative share (plots only, not in report.json)
    distributions: pd.DataFrame = field(default_factory=pd.DataFrame, compare=False, repr=False)

    def __post_init__(self) -> None:
        if self.window <= pd.Timedelta(0):
            raise ValueError("window must be positive")
        names = [s.spec.name for s in self.slos]
        if len(set(names)) != len(names):
            raise ValueError(f"SLO names must be unique, got {names}")

    @property
    def specs(self) -> tuple[SLOSpec, ...]:
        """The SLOs in force."""
        return tuple(s.spec for s in self.slos)

    def to_dict(self) -> dict[str, Any]:
        return {
            "critical_journeys": list(self.critical_journeys),
            "window": format_duration(self.window),
            "window_s": int(self.window.total_seconds()),
            "window_kind": self.window_kind,
            "slis": [s.to_dict() for s in self.slis],
            "threshold_proposals": [p.to_dict() for p in self.threshold_proposals],
            "options": [o.to_dict() for o in self.options],
            "slos": [s.to_dict() for s in self.slos],
            "instrumentation_plan": [s.to_dict() for s in self.instrumentation_plan],
        }

    def options_table(self) -> pd.DataFrame:
        """The trade-off table in plain words (one row per journey × option)."""
        rows = []
        for o in self.options:
            a = o.objective("availability")
            lat = o.objective("latency") or o.objective("timeslice")
            rows.append(
                {
                    "journey": o.journey,
                    "option": o.name + (" (recommended)" if o.recommended else ""),
                    "availability": f"{a.target:.2%}" if a else "–",
                    "latency promise": f"{lat.target:.1%} within {lat.threshold_ms:g} ms"
                    if lat and lat.threshold_ms
                    else "–",
                    "past windows met": f"{o.history.windows_met:.0%} of {o.history.windows}",
                    "typical budget used": f"{o.history.budget_consumed_median:.0%}",
                    "trade-off": o.tradeoff,
                }
            )
        return pd.DataFrame(rows)

    def thresholds_frame(self) -> pd.DataFrame:
        """Proposed thresholds for plotting: journey, kind, label, target, threshold_ms, slower_share."""
        return pd.DataFrame(
            {
                "journey": pd.Series([p.journey for p in self.threshold_proposals], dtype="str"),
                "kind": pd.Series([p.kind for p in self.threshold_proposals], dtype="str"),
                "label": pd.Series([_label(p.journey, p.kind) for p in self.threshold_proposals], dtype="str"),
                "target": pd.Series([p.target for p in self.threshold_proposals], dtype=float),
                "threshold_ms": pd.Series([p.threshold_ms for p in self.threshold_proposals], dtype=float),
                "slower_share": pd.Series([1.0 - p.pooled_fraction for p in self.threshold_proposals], dtype=float),
            }
        )

    def slis_table(self) -> pd.DataFrame:
        """The SLIs in plain words."""
        return pd.DataFrame(
            [
                {
                    "SLI": s.name,
                    "what it counts": s.definition,
                    "why it matters": s.user_impact,
                    "query (Prometheus)": s.promql,
                    "status": "provisional" if s.provisional else "measured",
                }
                for s in self.slis
            ]
        )

    def slos_table(self) -> pd.DataFrame:
        """The SLOs in force in plain words."""
        rows = []
        for s in self.slos:
            sp = s.spec
            promise = (
                f"{sp.target:.2%} of requests succeed"
                if sp.sli == "availability"
                else (
                    f"{sp.target:.2%} of requests within {sp.threshold_ms:g} ms"
                    if sp.sli == "latency"
                    else f"{sp.target:.2%} of intervals at or below {sp.threshold_ms:g}"
                )
            )
            rows.append(
                {
                    "SLO": sp.name,
                    "promise": promise,
                    "window": f"{format_duration(sp.window)} {sp.window_kind.replace('_', ' ')}",
                    "budgeting": sp.budgeting,
                    "from": s.source,
                    "why": s.rationale,
                }
            )
        return pd.DataFrame(rows)

    def proposals_table(self) -> pd.DataFrame:
        """Threshold proposals in plain words."""
        rows = [
            {
                "journey": p.journey,
                "target": f"{p.target:.1%}",
                "threshold (ms)": f"{p.threshold_ms:g}",
                "95% interval (ms)": f"{p.threshold_ci_ms[0]:g} – {p.threshold_ci_ms[1]:g}",
                "past windows met": f"{p.history.windows_met:.0%}",
                "budget used (median / p90)": f"{p.history.budget_consumed_median:.0%} / {p.history.budget_consumed_p90:.0%}",
                "enough data": "no" if p.too_little_data else "yes",
            }
            for p in self.threshold_proposals
        ]
        return pd.DataFrame(rows)


def _label(journey: str, kind: str) -> str:
    """Plot label: request journeys by name, gauge series marked as such."""
    return journey if kind == "latency" else f"{journey} (per-interval series)"


def questions_table(questions: Sequence[OpenQuestion]) -> pd.DataFrame:
    """Open questions in plain words (one row each)."""
    return pd.DataFrame(
        [
            {"question": q.question, "what srekit assumed meanwhile": q.assumption, "section": q.section}
            for q in questions
        ]
    )


def spec_to_dict(spec: SLOSpec) -> dict[str, Any]:
    """JSON-ready form of an :class:`SLOSpec` (durations in seconds)."""
    out: dict[str, Any] = {
        "name": spec.name,
        "journey": spec.journey,
        "sli": spec.sli,
        "target": spec.target,
        "window": format_duration(spec.window),
        "window_s": int(spec.window.total_seconds()),
        "window_kind": spec.window_kind,
        "budgeting": spec.budgeting,
    }
    if spec.threshold_ms is not None:
        out["threshold_ms"] = float(spec.threshold_ms)
    if spec.budgeting == "Timeslices" and spec.timeslice_window is not None:
        out["timeslice_target"] = spec.timeslice_target
        out["timeslice_window_s"] = int(spec.timeslice_window.total_seconds())
    return out


# --------------------------------------------------------------------------------------------
# events of one SLO


def _series_interval(stamps: pd.Series) -> pd.Timedelta:
    """Sampling interval of a gauge series: the median positive spacing (robust to the DST
    repeats and clock jumps real exports carry)."""
    arr = np.sort(pd.DatetimeIndex(stamps.dropna()).as_unit("us").asi8)
    diffs = np.diff(arr)
    diffs = diffs[diffs > 0]
    if diffs.size == 0:
        return pd.Timedelta(minutes=1)
    return pd.Timedelta(float(np.median(diffs)), unit="us").round("s")


def grid_interval(stamps: pd.Series | pd.Index) -> pd.Timedelta:
    """The aggregation interval: the smallest positive spacing of the stamps (1 min when
    there is nothing to infer from). Same rule as ``telemetry.infer_interval``, computed on
    integer stamps (tz-aware stamps as objects are slow)."""
    arr = pd.DatetimeIndex(stamps).as_unit("us").asi8
    d = np.diff(arr)
    if (d < 0).any():
        d = np.diff(np.sort(arr))
    d = d[d > 0]
    if d.size == 0:
        return pd.Timedelta(minutes=1)
    return pd.Timedelta(int(d.min()), unit="us")


def _usable_series(series: pd.DataFrame, journey: str) -> pd.DataFrame:
    """One journey's samples with a value: NaN and zero values are "no data". A zero latency
    statistic means no calls (or an outage the statistic cannot show); it is neither good nor
    bad evidence (external corpus README: Microsoft latency series)."""
    part = series[series["journey"] == journey]
    vals = pd.to_numeric(part["value"], errors="coerce")
    keep = vals.notna() & (vals != 0)
    return pd.DataFrame({"timestamp": part["timestamp"][keep], "value": vals[keep].astype(float)})


def _series_events(
    series: pd.DataFrame, spec: SLOSpec, start: pd.Timestamp | None, end: pd.Timestamp | None
) -> pd.DataFrame:
    """Gauge timeslice SLI: every sample is one event, bad when ``value > threshold_ms``
    (OpenSLO Timeslices over a per-slice metric). Samples sharing an interval (DST repeats)
    all count; intervals without samples are zero rows."""
    assert spec.threshold_ms is not None
    part = _usable_series(series, spec.journey)
    interval = _series_interval(series.loc[series["journey"] == spec.journey, "timestamp"])
    slot = pd.DatetimeIndex(part["timestamp"]).floor(interval)
    frame = pd.DataFrame(
        {
            "total": np.ones(len(part), dtype="int64"),
            "bad": (part["value"].to_numpy() > spec.threshold_ms).astype("int64"),
        },
        index=slot,
    )
    frame = frame.groupby(level=0).sum()
    lo = start if start is not None else (frame.index.min() if len(frame) else None)
    hi = end if end is not None else (frame.index.max() if len(frame) else None)
    if lo is None or hi is None:
        return _empty_events()
    grid = pd.date_range(pd.Timestamp(lo).floor(interval), hi, freq=interval, name="interval_start")
    return frame.reindex(grid, fill_value=0).astype("int64")


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

    def blocks(self, freq: str) -> _Blocks:
        """Sums per day (``"D"``) or hour (``"h"``), contiguous."""
        size = pd.Timedelta(freq if freq[0].isdigit() else f"1{freq}").value // 1000  # µs
        t = self.start.value // 1000 + np.arange(len(self.total), dtype=np.int64) * (self.interval.value // 1000)  # µs
        key = t // size
        cuts = np.flatnonzero(np.diff(key)) + 1
        starts = np.concatenate([[0], cuts])
        stops = np.concatenate([cuts, [len(key)]])

        step = self.interval.value // 1000
        if size % step == 0 and t[0] % step == 0:  # the usual case: whole intervals per block
            per = size // step
            lead = int((t[0] % size) // step)
            n_blocks = len(starts)

            def block_sums(a: np.ndarray) -> np.ndarray:
                if lead == 0 and len(a) == n_blocks * per:
                    padded = a
                else:
                    padded = np.zeros((n_blocks * per,) + a.shape[1:], dtype=a.dtype)
                    padded[lead : lead + len(a)] = a
                return padded.reshape((n_blocks, per) + a.shape[1:]).sum(axis=1).astype(float)
        else:

            def block_sums(a: np.ndarray) -> np.ndarray:
                cs = np.cumsum(a, axis=0)
                return (
                    cs[stops - 1]
                    - np.where((starts > 0).reshape((-1,) + (1,) * (a.ndim - 1)), cs[np.maximum(starts - 1, 0)], 0)
                ).astype(float)

        total, errors, le = block_sums(self.total), block_sums(self.errors), block_sums(self.le)
        first = pd.Timestamp(int(key[0] * size), unit="us", tz="UTC")
        index = pd.date_range(first, periods=int(key[-1] - key[0]) + 1, freq=freq)
        if len(index) != len(starts):  # interval longer than the block: spread onto the block grid
            pos = (key[starts] - key[0]).astype(np.intp)
            full_t, full_e, full_le = np.zeros(len(index)), np.zeros(len(index)), np.zeros((len(index), le.shape[1]))
            full_t[pos], full_e[pos], full_le[pos] = total, errors, le
            total, errors, le = full_t, full_e, full_le
        return _Blocks(index, total, errors, le, self.edges)


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


def _empty_events() -> pd.DataFrame:
    idx = pd.DatetimeIndex([], tz="UTC", name="interval_start")
    return pd.DataFrame({"total": pd.Series([], dtype="int64"), "bad": pd.Series([], dtype="int64")}, index=idx)


def _to_timeslices(events: pd.DataFrame, spec: SLOSpec) -> pd.DataFrame:
    """OpenSLO Timeslices: a slice of ``timeslice_window`` is good when its own good ratio
    ≥ ``timeslice_target``; slices without events are not counted (total 0)."""
    assert spec.timeslice_window is not None and spec.timeslice_target is not None
    if events.empty:
        return events
    sums = events.resample(spec.timeslice_window, origin="epoch", label="left", closed="left").sum()
    tot = sums["total"].to_numpy()
    good_ratio = np.where(tot > 0, (tot - sums["bad"].to_numpy()) / np.where(tot > 0, tot, 1), 1.0)
    out = pd.DataFrame(
        {"total": (tot > 0).astype("int64"), "bad": ((tot > 0) & (good_ratio < spec.timeslice_target)).astype("int64")},
        index=sums.index,
    )
    out.index.name = "interval_start"
    return out


def sli_events(
    telemetry: pd.DataFrame | None,
    series: pd.DataFrame | None,
    spec: SLOSpec,
    *,
    start: pd.Timestamp | None = None,
    end: pd.Timestamp | None = None,
    grids: Mapping[str, JourneyGrid] | None = None,
) -> pd.DataFrame:
    """Per-interval valid (``total``) and ``bad`` events of one SLO on a regular UTC grid.

    ``availability`` / ``latency`` read aggregated telemetry (``telemetry.sli_counts``: bad =
    errors, or total − le_T with T snapped down to a bucket edge); ``timeslice`` reads a gauge
    series (one event per sample, bad when the value exceeds the threshold). With
    ``budgeting="Timeslices"`` the events become slices of ``timeslice_window`` (OpenSLO v1
    ``budgetingMethod: Timeslices``): one event per slice with traffic, bad when the slice's
    good ratio is below ``timeslice_target``. ``start``/``end`` extend the grid with zero rows
    (interval starts, inclusive). ``grids`` may pass :func:`journey_grids` of ``telemetry``
    when the caller has it already.
    """
    if spec.sli == "timeslice":
        events = _empty_events() if series is None or series.empty else _series_events(series, spec, start, end)
    elif grids is not None and telemetry is not None and not telemetry.empty:
        given = grids.get(spec.journey)
        if given is not None:
            return grid_events(given, spec, start=start, end=end)
        events = _empty_events()
    elif telemetry is None or telemetry.empty or not (telemetry["journey"] == spec.journey).any():
        events = _empty_events()
    else:
        grid = journey_grid(telemetry, spec.journey, spec.sli, spec.threshold_ms)
        assert grid is not None
        return grid_events(grid, spec, start=start, end=end)
    if spec.budgeting == "Timeslices":
        events = _to_timeslices(events, spec)
    return events


def grid_events(
    grid: JourneyGrid, spec: SLOSpec, *, start: pd.Timestamp | None = None, end: pd.Timestamp | None = None
) -> pd.DataFrame:
    """``sli_events`` for a request SLO from a prepared :class:`JourneyGrid`: the grid runs from
    ``start`` (floored to the interval) to ``end`` (inclusive interval starts), zero-filled,
    dropping intervals outside them, as ``telemetry.regular``."""
    events = grid.extended(end).events(spec.sli, spec.threshold_ms)
    if start is not None:
        first = pd.Timestamp(start).floor(grid.interval)
        if first < events.index[0]:
            lead = pd.date_range(first, events.index[0], freq=grid.interval, inclusive="left", name="interval_start")
            events = pd.concat([pd.DataFrame({"total": 0, "bad": 0}, index=lead, dtype="int64"), events])
        else:
            events = events[events.index >= first]
    if end is not None:
        events = events[events.index <= end]
    if spec.budgeting == "Timeslices":
        events = _to_timeslices(events, spec)
    return events


# --------------------------------------------------------------------------------------------
# per-journey block sums (days, or hours for short histories)


@dataclass(frozen=True, slots=True)
class _Blocks:
    """Sums per time block (contiguous, zero-filled): total, errors, cumulative le per edge."""

    index: pd.DatetimeIndex
    total: np.ndarray  # (B,)
    errors: np.ndarray  # (B,)
    le: np.ndarray  # (B, E)
    edges: np.ndarray  # (E,)


def _series_blocks(part: pd.DataFrame, freq: str, edges: np.ndarray) -> _Blocks:
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
    return _Blocks(grid, total, np.zeros(len(grid)), le, edges)


def _window_matrix(days: pd.DatetimeIndex, window: pd.Timedelta, kind: str) -> np.ndarray:
    """Membership (W × D) of days in the historical SLO windows: rolling windows of
    ``window`` at daily steps, or calendar months. A history shorter than one window gives a
    single window over everything."""
    n_days = len(days)
    if kind == "calendar_month":
        keys = np.asarray(days.year * 12 + days.month)
        uniq = np.unique(keys)
        return (keys[None, :] == uniq[:, None]).astype(float)
    n = max(1, round(window / pd.Timedelta(days=1)))
    if n_days <= n:
        return np.ones((1, n_days))
    w = n_days - n + 1
    m = np.zeros((w, n_days))
    for i in range(w):  # W ≤ days of history; tiny
        m[i, i : i + n] = 1.0
    return m


def _history(consumed: np.ndarray, has_traffic: np.ndarray) -> WindowStats:
    """Windows met and budget consumption over windows with traffic. Budget consumed in a
    window = bad / ((1 − target) × total) (SRE Workbook, "Implementing SLOs": error budget
    = 1 − SLO); the objective held when consumed ≤ 1, decided on unrounded ratios."""
    c = consumed[has_traffic]
    if c.size == 0:
        return WindowStats(0, 0.0, 0.0, 0.0)
    return WindowStats(int(c.size), float(np.mean(c <= 1.0)), float(np.median(c)), float(np.quantile(c, 0.9)))


def _error_budget(target: float) -> float:
    """1 − target computed on the decimal the target was written as (``0.9`` → 1/10), then
    rounded once: ``1.0 - 0.9`` is 0.09999999999999998, which made a window exactly at a
    90 % objective read as 100.0000000000002 % consumed (missed). With the correctly rounded
    budget, a ratio exactly at the objective divides to exactly 1 (as ``budget.exact_consumed``)."""
    return float(1 - Fraction(repr(float(target))))


def _consumed(win_total: np.ndarray, win_bad: np.ndarray, target: float) -> np.ndarray:
    """Budget consumed per window (any trailing shape of ``win_bad``)."""
    tot = win_total.reshape(win_total.shape + (1,) * (win_bad.ndim - win_total.ndim))
    return tm.ratio(win_bad, np.broadcast_to(tot, win_bad.shape)) / _error_budget(target)


# --------------------------------------------------------------------------------------------
# threshold proposals


def _first_reaching(frac: np.ndarray, target: float) -> int:
    """Index of the smallest edge whose cumulative share ≥ target (−1 when none)."""
    hit = np.flatnonzero(frac >= target)
    return int(hit[0]) if hit.size else -1


def _bootstrap_thresholds(
    blocks: _Blocks, targets: Sequence[float], rng: np.random.Generator
) -> list[tuple[float, float]]:
    """Percentile bootstrap (``scipy.stats.bootstrap``) of the threshold over resampled time
    blocks: each resample draws blocks with replacement, sums their bucket counts and takes the
    smallest edge whose pooled share reaches the target. Bounds are snapped outward to edges;
    a resample that never reaches the target counts as the largest edge."""
    counts = np.column_stack([blocks.total, blocks.le])
    n = counts.shape[0]
    edges = blocks.edges
    tgt = np.asarray(targets, dtype=float)

    def statistic(idx: np.ndarray, axis: int = -1) -> np.ndarray:
        idx = np.asarray(idx, dtype=np.intp)
        flat = idx.reshape(-1, idx.shape[-1])
        weights = np.zeros((flat.shape[0], n))
        np.add.at(weights, (np.arange(flat.shape[0])[:, None], flat), 1.0)
        sums = weights @ counts
        tot = sums[:, :1]
        with np.errstate(divide="ignore", invalid="ignore"):
            frac = np.where(tot > 0, sums[:, 1:] / np.where(tot > 0, tot, 1.0), 0.0)
        reach = frac[None, :, :] >= tgt[:, None, None]  # (K, R, E)
        first = np.where(reach.any(axis=2), reach.argmax(axis=2), len(edges) - 1)
        return edges[first].reshape((len(tgt),) + idx.shape[:-1])

    from scipy import stats  # lazy: report kernels only unpickle results

    res = stats.bootstrap(
        (np.arange(n),),
        statistic,
        n_resamples=BOOTSTRAP_RESAMPLES,
        vectorized=True,
        method="percentile",
        confidence_level=CONFIDENCE,
        batch=250,
        rng=rng,
    )
    lo = np.atleast_1d(res.confidence_interval.low)
    hi = np.atleast_1d(res.confidence_interval.high)
    return [
        (
            tm.snap_edge(edges, float(a), direction="down") if a >= edges[0] else float(edges[0]),
            tm.snap_edge(edges, float(b), direction="up") if b <= edges[-1] else float(edges[-1]),
        )
        for a, b in zip(lo, hi, strict=True)
    ]


def _proposals(
    journey: str,
    kind: str,
    days: _Blocks,
    boot: _Blocks | None,
    windows: np.ndarray,
    targets: Sequence[float],
    rng: np.random.Generator,
) -> tuple[list[ThresholdProposal], list[float]]:
    """Threshold proposals for each reachable target; returns also the unreachable targets."""
    total = days.total.sum()
    frac = days.le.sum(axis=0) / total if total > 0 else np.zeros(len(days.edges))
    win_total = windows @ days.total
    win_bad = windows @ (days.total[:, None] - days.le)
    has = win_total > 0
    min_events = int(win_total.min()) if win_total.size else 0
    reachable = [(t, _first_reaching(frac, t)) for t in targets]
    ok = [(t, i) for t, i in reachable if i >= 0]
    unreachable = [t for t, i in reachable if i < 0]
    if boot is not None and len(boot.index) >= 2 and ok:
        cis = _bootstrap_thresholds(boot, [t for t, _ in ok], rng)
        block = "day" if boot is days else "hour"
    else:
        cis = [(float(days.edges[i]), float(days.edges[i])) for _, i in ok]
        block = "none"
    out = []
    for (t, i), ci in zip(ok, cis, strict=True):
        edge = float(days.edges[i])
        lo, hi = min(ci[0], edge), max(ci[1], edge)
        consumed = _consumed(win_total, win_bad[:, i], t)
        out.append(
            ThresholdProposal(
                journey=journey,
                kind=kind,
                target=t,
                threshold_ms=edge,
                threshold_ci_ms=(lo, hi),
                ci_block=block,
                pooled_fraction=float(frac[i]),
                history=_history(consumed, has),
                min_window_events=min_events,
                too_little_data=bool(min_events < 10.0 / _error_budget(t)),
            )
        )
    return out, unreachable


# --------------------------------------------------------------------------------------------
# options


def _ladder_index(targets: Sequence[float], met: Sequence[float]) -> int:
    """Balanced rung: the strictest target that held in ≥ MET_SHARE of past windows (the
    loosest candidate when none did)."""
    ok = [i for i, m in enumerate(met) if m >= MET_SHARE]
    return max(ok) if ok else 0


def _defensible_edge(consumed: np.ndarray, has: np.ndarray) -> int:
    """Smallest edge whose objective held in ≥ MET_SHARE of windows (else the best edge)."""
    share = (consumed[has] <= 1.0).mean(axis=0) if has.any() else np.zeros(consumed.shape[1])
    hit = np.flatnonzero(share >= MET_SHARE)
    return int(hit[0]) if hit.size else int(np.argmax(share))


def _combined(parts: Sequence[np.ndarray], has: np.ndarray) -> WindowStats:
    """Several objectives together: a window is met when all held; its consumption is the
    largest share any objective used."""
    return _history(np.max(np.vstack(parts), axis=0), has)


def _pct(x: float) -> str:
    return f"{x:.0%}"


def _tradeoff(rung: str, h: WindowStats, window: pd.Timedelta) -> str:
    """One plain sentence on what an option trades, from its historical record."""
    w = format_duration(window)
    record = (
        f"it would have held in {_pct(h.windows_met)} of past {w} windows, typically using "
        f"{_pct(h.budget_consumed_median)} of the error budget (p90 {_pct(h.budget_consumed_p90)})"
    )
    if rung == "ambitious":
        cost = (
            "expect release freezes and reliability work first"
            if h.windows_met < MET_SHARE
            else "little budget is left for risky releases"
            if h.budget_consumed_p90 > 0.5
            else "the history supports it, so this is the promise to grow into"
        )
        return f"Strongest promise to users: {record}; {cost}."
    if rung == "balanced":
        if h.windows_met >= MET_SHARE:
            return f"Recommended: {record}, a promise the service already keeps with room for normal releases."
        return f"Recommended as a start: {record}; even this was often missed, so reliability work comes first."
    return f"Easiest to keep: {record}; releases can move fast, but users may notice errors or slowness before this SLO does."


def _latency_anchor(targets: Sequence[float]) -> int:
    return int(np.argmin([abs(t - LATENCY_ANCHOR) for t in targets]))


@dataclass(frozen=True, slots=True)
class _JourneyHistory:
    """Everything the options need for one journey, from its daily blocks."""

    journey: str
    kind: str  # latency | timeslice
    days: _Blocks
    windows: np.ndarray
    win_total: np.ndarray
    win_bad_le: np.ndarray  # (W, E) bad events per window for each edge
    win_errors: np.ndarray  # (W,)

    @property
    def has(self) -> np.ndarray:
        return self.win_total > 0


def _journey_history(journey: str, kind: str, days: _Blocks, windows: np.ndarray) -> _JourneyHistory:
    return _JourneyHistory(
        journey,
        kind,
        days,
        windows,
        windows @ days.total,
        windows @ (days.total[:, None] - days.le),
        windows @ days.errors,
    )


def _options(h: _JourneyHistory, targets: Sequence[float], window: pd.Timedelta) -> list[SloOption]:
    """Relaxed / balanced / ambitious: one rung looser and stricter than balanced on the
    ladder of candidate targets. Availability: balanced is the strictest target that held in
    ≥ 90 % of past windows. Latency: balanced promises the target closest to 99 %, with the
    smallest bucket edge that held in ≥ 90 % of past windows at that target."""
    ts = sorted(targets)
    has = h.has
    avail = [_consumed(h.win_total, h.win_errors, t) for t in ts]
    b = _ladder_index(ts, [_history(c, has).windows_met for c in avail])
    a = _latency_anchor(ts)
    options: list[SloOption] = []
    seen: set[tuple[int, int]] = set()
    for step, rung in zip((-1, 0, 1), RUNGS, strict=True):
        ai = min(max(b + step, 0), len(ts) - 1)
        li = min(max(a + step, 0), len(ts) - 1)
        key = (ai if h.kind == "latency" else -1, li)
        if key in seen:
            continue
        seen.add(key)
        lat_t = ts[li]
        lat_consumed_all = _consumed(h.win_total, h.win_bad_le, lat_t)
        e = _defensible_edge(lat_consumed_all, has)
        lat_c = lat_consumed_all[:, e]
        objectives = []
        parts = []
        if h.kind == "latency":
            objectives.append(Objective("availability", ts[ai], _history(avail[ai], has)))
            parts.append(avail[ai])
        objectives.append(Objective(h.kind, lat_t, _history(lat_c, has), float(h.days.edges[e])))
        parts.append(lat_c)
        hist = _combined(parts, has)
        options.append(
            SloOption(h.journey, rung, tuple(objectives), hist, _tradeoff(rung, hist, window), rung == "balanced")
        )
    if not any(o.recommended for o in options):  # a one-rung ladder: the single option is balanced
        o = options[0]
        options[0] = SloOption(
            o.journey, "balanced", o.objectives, o.history, _tradeoff("balanced", o.history, window), True
        )
    return options


def _evaluate_specs(
    journey: str,
    specs: Sequence[SLOSpec],
    grid: JourneyGrid | None,
    series: pd.DataFrame | None,
    window: pd.Timedelta,
    window_kind: str,
    origin: str = "As configured",
) -> SloOption | None:
    """How given SLOs would have fared: their own events, summed per day, over past windows."""
    objectives = []
    parts = []
    has_all: np.ndarray | None = None
    for spec in specs:
        if spec.sli == "timeslice" or grid is None:
            ev = sli_events(None, series, spec)
        else:
            try:
                ev = grid_events(grid, spec)
            except ValueError:  # threshold below the smallest edge: cannot be evaluated
                continue
        if ev.empty:
            continue
        daily = ev.groupby(pd.DatetimeIndex(ev.index).floor("D")).sum()
        day_index = pd.date_range(daily.index.min(), daily.index.max(), freq="D")
        daily = daily.reindex(day_index, fill_value=0)
        m = _window_matrix(day_index, window, window_kind)
        wt = m @ daily["total"].to_numpy(float)
        c = _consumed(wt, m @ daily["bad"].to_numpy(float), spec.target)
        has = wt > 0
        objectives.append(Objective(spec.sli, spec.target, _history(c, has), spec.threshold_ms))
        if has_all is None or len(has_all) == len(has):
            parts.append(c)
            has_all = has if has_all is None else (has_all | has)
    if not objectives or has_all is None:
        return None
    hist = _combined(parts, has_all)
    w = format_duration(window)
    text = (
        f"{origin}: these objectives would have held together in {_pct(hist.windows_met)} of past {w} windows, "
        f"typically using {_pct(hist.budget_consumed_median)} of the budget (p90 {_pct(hist.budget_consumed_p90)})."
    )
    return SloOption(journey, "given", tuple(objectives), hist, text, True)


# --------------------------------------------------------------------------------------------
# SLIs and instrumentation


def _promql(
    config: ServiceConfig,
    journey: str,
    kind: str,
    threshold_ms: float | None,
    window: pd.Timedelta,
    interval: pd.Timedelta | None = None,
) -> str:
    """The SLI as PromQL over the request counter and latency histogram named in
    ``config.prometheus`` (good / valid, rates over the SLO window)."""
    p = config.prometheus
    w = format_duration(window)
    selector = p.selector.strip().strip(",").strip()
    matchers = f'{p.journey_label}="{quote(journey)}"' + (f",{selector}" if selector else "")
    if kind == "availability":
        return (
            f'sum(rate({p.request_counter}{{{matchers},{p.status_label}!~"{quote(p.error_status_regex)}"}}[{w}]))'
            f" / sum(rate({p.request_counter}{{{matchers}}}[{w}]))"
        )
    assert threshold_ms is not None
    if kind == "latency":
        le = le_text(threshold_ms, p.latency_unit)
        return (
            f'sum(rate({p.latency_histogram}_bucket{{{matchers},le="{le}"}}[{w}]))'
            f" / sum(rate({p.latency_histogram}_count{{{matchers}}}[{w}]))"
        )
    step = format_duration(interval or pd.Timedelta(minutes=1))
    return f"avg_over_time((<gauge>{{{matchers}}} <= bool {threshold_ms:g})[{w}:{step}])"


def make_sli(
    spec: SLOSpec, config: ServiceConfig, *, provisional: bool = False, interval: pd.Timedelta | None = None
) -> SLI:
    """Describe the SLI behind an SLO: definition in words, source and user impact."""
    j = spec.journey
    t = spec.threshold_ms
    if spec.sli == "availability":
        definition = (
            f"Share of {j} requests that succeeded (not counted as errors, e.g. HTTP 5xx) out of all {j} "
            "requests, counted over the SLO window."
        )
        columns: tuple[str, ...] = ("total", "errors")
        impact = f"When it drops, users see failed {j} requests."
    elif spec.sli == "latency":
        assert t is not None
        definition = (
            f"Share of {j} requests answered within {t:g} ms out of all {j} requests, counted over the SLO window."
        )
        columns = ("total", tm.edge_label(t))
        impact = f"When it drops, {j} feels slow: more requests take longer than {t:g} ms."
    else:
        assert t is not None
        every = format_duration(interval) if interval is not None else "interval"
        definition = (
            f"Share of {every} intervals in which the recorded {j} statistic stayed at or below {t:g} "
            "(zero or missing values count as no data)."
        )
        columns = ("timestamp", "value")
        impact = f"When it drops, {j} was slow for whole intervals at a time."
    name = spec.name
    return SLI(
        name,
        j,
        spec.sli,
        definition,
        columns,
        _promql(config, j, spec.sli, t, spec.window, interval),
        impact,
        t if spec.sli != "availability" else None,
        provisional,
    )


def _instrumentation(journeys: Sequence[str], config: ServiceConfig) -> tuple[InstrumentationStep, ...]:
    p = config.prometheus
    steps = []
    for j in journeys:
        jc = config.journey(j)
        edges = set(INSTRUMENT_EDGES_MS)
        if jc and jc.latency_threshold_ms:
            edges.add(float(jc.latency_threshold_ms))
        lv = quote(j)
        steps.append(
            InstrumentationStep(
                journey=j,
                counter=f'{p.request_counter}{{{p.journey_label}="{lv}",{p.status_label}="<status>"}}',
                histogram=f'{p.latency_histogram}_bucket{{{p.journey_label}="{lv}",le="<edge>"}}',
                bucket_edges_ms=tuple(sorted(edges)),
                why=(
                    f"Count every {j} request with its status code and observe its latency into these buckets, so "
                    "availability and latency SLIs can be computed request-weighted and thresholds snap to real edges."
                ),
            )
        )
    return tuple(steps)


# --------------------------------------------------------------------------------------------
# the entry point


def _critical(telemetry: pd.DataFrame | None, config: ServiceConfig) -> tuple[list[str], list[OpenQuestion]]:
    qs: list[OpenQuestion] = []
    configured = [j.name for j in config.journeys if j.critical]
    if configured:
        return configured, qs
    if telemetry is None or telemetry.empty:
        return [], qs
    traffic = telemetry.groupby("journey")["total"].sum()
    traffic = traffic.sort_index().sort_values(ascending=False, kind="stable")
    top = [str(j) for j in traffic.index[:TOP_JOURNEYS]]
    qs.append(
        OpenQuestion(
            "critical_journeys",
            "Which user journeys are critical? service.yaml lists none as critical.",
            f"Took the top {len(top)} journeys by traffic: {', '.join(top)}.",
            SECTION,
        )
    )
    return top, qs


def _make_spec(
    name: str, journey: str, sli: str, target: float, config: ServiceConfig, threshold_ms: float | None = None
) -> SLOSpec:
    s = config.slo
    ts = s.budgeting == "Timeslices"
    return SLOSpec(
        name=name,
        journey=journey,
        sli=cast(SliKind, sli),
        target=target,
        window=s.window,
        window_kind=cast(WindowKind, s.window_kind),
        budgeting=cast(Budgeting, s.budgeting),
        threshold_ms=threshold_ms,
        timeslice_target=(s.timeslice_target or DEFAULT_TIMESLICE_TARGET) if ts else None,
        timeslice_window=s.timeslice_window if ts else None,
    )


def _given_for(
    jc: JourneyConfig | None, journey: str, config: ServiceConfig, edges: np.ndarray | None, qs: list[OpenQuestion]
) -> list[SLOSpec]:
    """SLOs service.yaml sets for a journey (latency threshold snapped down to a bucket edge)."""
    if jc is None:
        return []
    out = []
    if jc.availability_target is not None:
        out.append(_make_spec(f"{journey}-availability", journey, "availability", jc.availability_target, config))
    if jc.latency_threshold_ms is not None and jc.latency_target is not None:
        t = float(jc.latency_threshold_ms)
        if edges is not None and edges.size and t >= edges[0]:
            snapped = tm.snap_edge(edges, t)
            if snapped != t:
                qs.append(
                    OpenQuestion(
                        f"threshold_snapped:{journey}",
                        f"The {journey} latency threshold {t:g} ms is not a histogram bucket edge; add a bucket at {t:g} ms?",
                        f"Used the nearest edge below, {snapped:g} ms (stricter), as a Prometheus query must.",
                        SECTION,
                    )
                )
            t = snapped
        out.append(_make_spec(f"{journey}-latency", journey, "latency", jc.latency_target, config, t))
    return out


def propose_slos(
    telemetry: pd.DataFrame | None,
    series: pd.DataFrame | None,
    config: ServiceConfig,
    *,
    given_specs: tuple[SLOSpec, ...] = (),
    rng: np.random.Generator | None = None,
    grids: Mapping[str, JourneyGrid] | None = None,
) -> SloProposal:
    """SLIs, threshold proposals, SLO options and the SLOs in force for a service.

    Parameters
    ----------
    telemetry : aggregated telemetry (``srekit.inputs.telemetry``) or None.
    series : gauge series (timestamp, value, journey) or None; gives timeslice SLIs.
    config : the service configuration (journeys, targets, ``slo`` defaults, Prometheus names).
    given_specs : SLOs defined elsewhere (e.g. OpenSLO files); when given they are the SLOs in
        force and are evaluated on history instead of proposing options.
    rng : randomness for the bootstrap intervals (default: a fixed seed, reproducible reports).
    grids : :func:`journey_grids` of ``telemetry`` when the caller has it already.

    Notes
    -----
    Threshold for target p: the smallest bucket edge T whose pooled share of requests with
    latency ≤ T over the whole range is ≥ p (SRE Workbook, "Implementing SLOs": latency SLI =
    share of requests faster than a threshold). Budget consumed in a window = bad / ((1 − p) ×
    valid). ``too_little_data`` when some window holds fewer than 10 / (1 − p) events (fewer
    than ten allowed bad events makes the objective a coin toss).
    """
    rng = rng if rng is not None else np.random.default_rng(0)
    qs: list[OpenQuestion] = []
    window, window_kind = config.slo.window, config.slo.window_kind
    targets = tuple(sorted(set(config.slo.targets)))
    has_tel = telemetry is not None and not telemetry.empty
    has_series = series is not None and not series.empty
    critical, cq = _critical(telemetry if has_tel else None, config)
    qs += cq

    proposals: list[ThresholdProposal] = []
    options: list[SloOption] = []
    dists: list[pd.DataFrame] = []
    slos: list[SloInForce] = []
    slis: list[SLI] = []
    names = [x.name for x in given_specs]
    if len(set(names)) != len(names):
        dup = sorted({n for n in names if names.count(n) > 1})
        raise ConfigError(
            f"SLO names must be unique; {dup} appear more than once. fix: rename the SLOs (OpenSLO metadata.name)"
        )
    given_by_journey: dict[str, list[SLOSpec]] = {}
    for s in given_specs:
        given_by_journey.setdefault(s.journey, []).append(s)
    short_history = False

    def analyse(journey: str, kind: str, days: _Blocks, boot: _Blocks | None) -> list[SloOption]:
        nonlocal short_history
        windows = _window_matrix(days.index, window, window_kind)
        if window_kind == "rolling" and len(days.index) < round(window / pd.Timedelta(days=1)):
            short_history = True
        props, unreachable = _proposals(journey, kind, days, boot, windows, targets, rng)
        proposals.extend(props)
        for t in unreachable:
            qs.append(
                OpenQuestion(
                    f"unreachable_target:{journey}:{t}",
                    f"Fewer than {t:.1%} of {journey} events fall below the largest bucket edge "
                    f"({days.edges[-1]:g} ms): add larger buckets or accept a looser latency target?",
                    f"No latency threshold proposed for {t:.1%} on {journey}.",
                    SECTION,
                )
            )
        tot = days.total.sum()
        frac = days.le.sum(axis=0) / tot if tot > 0 else np.zeros(len(days.edges))
        dists.append(
            pd.DataFrame(
                {
                    "journey": journey,
                    "kind": kind,
                    "label": _label(journey, kind),
                    "edge_ms": days.edges,
                    "cumulative_share": frac,
                    "slower_share": 1.0 - frac,
                }
            )
        )
        return _options(_journey_history(journey, kind, days, windows), targets, window) if tot > 0 else []

    # request telemetry
    tel_groups: Mapping[str, JourneyGrid] = {}
    if has_tel:
        assert telemetry is not None
        tel_groups = grids if grids is not None else journey_grids(telemetry)
    edges_all = tm.edges_of(telemetry) if has_tel and telemetry is not None else None
    extra = [j for j, ss in given_by_journey.items() if j not in critical and any(x.sli != "timeslice" for x in ss)]
    for j in [*critical, *extra]:
        part = tel_groups.get(j)
        jc = config.journey(j)
        given = [x for x in given_by_journey.get(j, []) if x.sli != "timeslice"] or (
            [] if given_specs else _given_for(jc, j, config, edges_all, qs)
        )
        if part is None or part.total.sum() == 0:
            if has_tel:
                qs.append(
                    OpenQuestion(
                        f"journey_without_telemetry:{j}",
                        f"Journey {j} has no requests in the telemetry: is it named differently there?",
                        f"No proposal for {j}; its SLOs from the configuration are kept without a history check.",
                        SECTION,
                    )
                )
                slos.extend(
                    SloInForce(
                        x,
                        "given" if given_specs else "service.yaml",
                        "Configured; no requests for this journey in the telemetry, so not evaluated.",
                    )
                    for x in given
                )
            continue
        days = part.blocks("D")
        boot = days if len(days.index) >= MIN_DAYS_FOR_DAY_BLOCKS else part.blocks("h")
        rung_opts = analyse(j, "latency", days, boot)
        origin = "given" if given_specs else "service.yaml"
        said = "As given" if given_specs else "As set in service.yaml"
        evaluated = _evaluate_specs(j, given, part, None, window, window_kind, said) if given else None
        if evaluated is not None:
            options.append(evaluated)
            slos.extend(SloInForce(s, origin, evaluated.tradeoff) for s in given)
        else:
            options.extend(rung_opts)
            slos.extend(SloInForce(s, origin, f"{said}; it could not be evaluated on this history.") for s in given)
        missing = {"availability", "latency"} - {s.sli for s in given}
        bal = next((o for o in rung_opts if o.recommended), None)
        if bal is not None and not given_specs:
            for o in bal.objectives:
                if o.sli in missing:
                    spec = _make_spec(f"{j}-{o.sli}", j, o.sli, o.target, config, o.threshold_ms)
                    slos.append(SloInForce(spec, "option:balanced", bal.tradeoff))

    # gauge series → timeslice SLOs
    series_journeys: list[str] = []
    if has_series:
        assert series is not None
        counts = series.groupby("journey")["value"].count()
        given_ts = [
            j for j, ss in given_by_journey.items() if j in counts.index and any(x.sli == "timeslice" for x in ss)
        ]
        wanted = [j for j in critical if j in counts.index and j not in tel_groups]
        wanted += [j for j in given_ts if j not in wanted]
        series_journeys = wanted or [
            str(j) for j in counts.sort_index().sort_values(ascending=False, kind="stable").index[:TOP_JOURNEYS]
        ]
        for j in series_journeys:
            samples = _usable_series(series, j)
            zeros = int((pd.to_numeric(series.loc[series["journey"] == j, "value"], errors="coerce") == 0).sum())
            if zeros:
                qs.append(
                    OpenQuestion(
                        f"series_zeros:{j}",
                        f"{zeros} samples of the {j} series are exactly 0: no calls, or an outage?",
                        "Counted as no data (neither good nor bad intervals).",
                        SECTION,
                    )
                )
            if samples.empty:
                continue
            edges = np.asarray(tm.DEFAULT_EDGES_MS)
            days = _series_blocks(samples, "D", edges)
            boot = days if len(days.index) >= MIN_DAYS_FOR_DAY_BLOCKS else _series_blocks(samples, "h", edges)
            rung_opts = analyse(j, "timeslice", days, boot)
            name = f"{j}-timeslice"
            given = [s for s in given_by_journey.get(j, []) if s.sli == "timeslice"]
            jc = config.journey(j)
            if (
                not given
                and not given_specs
                and j not in tel_groups
                and jc is not None
                and jc.latency_threshold_ms is not None
            ):
                given = [
                    _make_spec(
                        name, j, "timeslice", jc.latency_target or LATENCY_ANCHOR, config, jc.latency_threshold_ms
                    )
                ]
            evaluated = (
                _evaluate_specs(
                    j, given, None, series, window, window_kind, "As given" if given_specs else "As set in service.yaml"
                )
                if given
                else None
            )
            if evaluated is not None:
                options.append(evaluated)
                slos.extend(
                    SloInForce(s, "given" if given_specs else "service.yaml", evaluated.tradeoff) for s in given
                )
            else:
                options.extend(rung_opts)
                bal = next((o for o in rung_opts if o.recommended), None)
                if bal is not None and not given_specs and name not in {s.spec.name for s in slos}:
                    o = bal.objectives[0]
                    slos.append(
                        SloInForce(
                            _make_spec(name, j, "timeslice", o.target, config, o.threshold_ms),
                            "option:balanced",
                            bal.tradeoff,
                        )
                    )

    # given specs for journeys the data does not cover are still in force
    covered = {s.spec.name for s in slos}
    for s in given_specs:
        if s.name not in covered:
            slos.append(SloInForce(s, "given", "Given; no history for it in the inputs, so it could not be evaluated."))

    plan: tuple[InstrumentationStep, ...] = ()
    if not has_tel:
        journeys = critical or [j.name for j in config.journeys] or series_journeys or ["all"]
        plan = _instrumentation(journeys, config)
        qs.append(
            OpenQuestion(
                "no_telemetry",
                "There is no request telemetry: can the service emit a request counter and a latency histogram?",
                "Wrote an instrumentation plan; SLIs below are provisional until data arrives.",
                SECTION,
            )
        )
        if not given_specs:
            in_force = {s.spec.name for s in slos}
            for j in journeys:
                if j in series_journeys:
                    continue
                jc = config.journey(j)
                avail = jc.availability_target if jc and jc.availability_target else PROVISIONAL_AVAILABILITY
                lt = jc.latency_threshold_ms if jc and jc.latency_threshold_ms else PROVISIONAL_LATENCY_MS
                ltt = jc.latency_target if jc and jc.latency_target else PROVISIONAL_LATENCY_TARGET
                for spec in (
                    _make_spec(f"{j}-availability", j, "availability", avail, config),
                    _make_spec(f"{j}-latency", j, "latency", ltt, config, lt),
                ):
                    if spec.name not in in_force:
                        slos.append(
                            SloInForce(spec, "provisional", "Provisional until telemetry exists; confirm the numbers.")
                        )
        if any(x.source == "provisional" for x in slos):
            qs.append(
                OpenQuestion(
                    "provisional_slos",
                    "Are the provisional SLOs (from service.yaml, else 99.9% availability and 99% within 300 ms) right?",
                    "Used them for budgets and alert rules until telemetry exists.",
                    SECTION,
                )
            )

    if short_history:
        qs.append(
            OpenQuestion(
                "short_history",
                f"The history is shorter than one {format_duration(window)} SLO window: wait for more data?",
                "Evaluated the whole history as a single window; windows_met is a weak signal.",
                SECTION,
            )
        )
    undecided = list(
        dict.fromkeys(
            _label(o.journey, "timeslice" if o.objective("timeslice") else "latency")
            for o in options
            if o.name != "given"
        )
    )
    if undecided:
        qs.append(
            OpenQuestion(
                "slo_targets",
                f"Which SLO option should {', '.join(undecided)} adopt (relaxed, balanced or ambitious)? "
                "service.yaml sets no targets for them.",
                f"Used the balanced option: the strictest availability target met in ≥ {MET_SHARE:.0%} of past windows, and "
                f"{LATENCY_ANCHOR:.0%} of requests within the smallest bucket edge that held in ≥ {MET_SHARE:.0%} of them.",
                SECTION,
            )
        )
    if config.slo.budgeting == "Timeslices" and config.slo.timeslice_target is None:
        qs.append(
            OpenQuestion(
                "timeslice_target",
                "Timeslices budgeting is set but slo.timeslice_target is not: what makes a slice good?",
                f"A slice is good when ≥ {DEFAULT_TIMESLICE_TARGET:.0%} of its events are good.",
                SECTION,
            )
        )
    if any(p.too_little_data for p in proposals):
        qs.append(
            OpenQuestion(
                "too_little_data",
                "Some targets have fewer than 10 allowed bad events per window: is the traffic enough?",
                "Those threshold proposals are flagged too_little_data; treat them as indicative.",
                SECTION,
            )
        )
    if any(p.ci_block == "hour" for p in proposals):
        qs.append(
            OpenQuestion(
                "bootstrap_block",
                f"Under {MIN_DAYS_FOR_DAY_BLOCKS} days of history: are hours independent enough to resample?",
                "Bootstrapped the threshold intervals over hours instead of days.",
                SECTION,
            )
        )

    intervals = (
        {j: _series_interval(series.loc[series["journey"] == j, "timestamp"]) for j in series_journeys}
        if has_series and series is not None
        else {}
    )
    for slo in slos:
        slis.append(
            make_sli(
                slo.spec, config, provisional=slo.source == "provisional", interval=intervals.get(slo.spec.journey)
            )
        )
    dist = (
        pd.concat(dists, ignore_index=True)
        if dists
        else pd.DataFrame(
            {
                "journey": pd.Series([], dtype="str"),
                "kind": pd.Series([], dtype="str"),
                "label": pd.Series([], dtype="str"),
                "edge_ms": pd.Series([], dtype=float),
                "cumulative_share": pd.Series([], dtype=float),
                "slower_share": pd.Series([], dtype=float),
            }
        )
    )
    return SloProposal(
        slos=tuple(slos),
        slis=tuple(slis),
        threshold_proposals=tuple(proposals),
        options=tuple(options),
        instrumentation_plan=plan,
        critical_journeys=tuple(critical or series_journeys),
        window=window,
        window_kind=window_kind,
        open_questions=tuple(qs),
        distributions=dist,
    )
