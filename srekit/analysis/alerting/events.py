"""An SLO's SLI events (``total``/``bad`` per interval) on a regular grid: what the alert
rules are replayed on, and the period's error budget counted in events."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from srekit.analysis.slo.events import sli_events as slo_sli_events
from srekit.analysis.slo.grid import GridSettings, JourneyGrid, regular_frame
from srekit.core.spec import SLOSpec

HOUR_US = 3_600_000_000


def sli_events(
    telemetry: pd.DataFrame | None,
    series: pd.DataFrame | None,
    spec: SLOSpec,
    *,
    grids: Mapping[str, JourneyGrid] | None = None,
    settings: GridSettings | None = None,
) -> pd.DataFrame:
    """Per-interval ``total``/``bad`` SLI events of ``spec`` on a regular grid
    (:func:`srekit.analysis.slo.events.sli_events`: request SLIs from the aggregated telemetry, timeslice SLIs
    from the gauge series, OpenSLO Timeslices budgeting as slices). Missing intervals are zero
    rows; duplicate stamps are summed. Empty when the needed input is absent. ``grids`` may
    pass ``journey_grids(telemetry)`` when the caller has it already. The grid is sized by the
    data (``settings``; :mod:`srekit.analysis.slo.grid`)."""
    has = series if spec.sli == "timeslice" else telemetry
    if grids is not None and has is telemetry and has is not None and not has.empty:
        present = spec.journey in grids  # the grids of every journey of the telemetry: no pass over its rows
    else:
        present = has is not None and not has.empty and bool((has["journey"] == spec.journey).any())
    if not present:
        return pd.DataFrame(
            {"total": pd.Series([], dtype="int64"), "bad": pd.Series([], dtype="int64")},
            index=pd.DatetimeIndex([], tz="UTC", name="interval_start"),
        )
    settings = settings or GridSettings()
    return regularise(slo_sli_events(telemetry, series, spec, grids=grids, settings=settings), settings)


def regularise(events: pd.DataFrame, settings: GridSettings | None = None) -> pd.DataFrame:
    """Sum duplicate stamps and fill missing intervals with zeros on the smallest spacing (runs
    of missing intervals longer than ``settings.look`` are skipped:
    :func:`~srekit.analysis.slo.grid.regular_frame`)."""
    ev = events if events.index.is_unique else events.groupby(level=0).sum()
    if len(ev) < 2:
        return ev.astype("int64")
    ev = ev.sort_index()
    step = grid_step(ev)
    gaps = np.diff(pd.DatetimeIndex(ev.index).as_unit("us").asi8)  # int64 stamps: fast for tz-aware indexes
    if (gaps == step.value // 1000).all():
        return ev.astype("int64")
    return regular_frame(ev.astype("int64"), step, settings or GridSettings(), "the SLI events")


def grid_step(events: pd.DataFrame) -> pd.Timedelta:
    """The interval of an event grid: the smallest spacing of its stamps (1 min when it cannot
    be told). A grid sized by the data skips long empty runs, so the spacing between two rows is
    a multiple of it."""
    if len(events) < 2:
        return pd.Timedelta(minutes=1)
    freq = getattr(events.index, "freq", None)
    if freq is not None:  # a dense grid says its step
        return pd.Timedelta(freq)
    gaps = np.diff(pd.DatetimeIndex(events.index).as_unit("us").asi8)
    gaps = gaps[gaps > 0]
    return pd.Timedelta(int(gaps.min()), unit="us") if gaps.size else pd.Timedelta(minutes=1)


def step_of(events: pd.DataFrame) -> pd.Timedelta:
    """Spacing of a regular event grid (1 min when it cannot be told)."""
    return grid_step(events)


def intervals_spanned(events: pd.DataFrame) -> int:
    """Intervals from the first row to the last, skipped ones included (what a dense grid holds)."""
    if events.empty:
        return 0
    span = pd.Timedelta(events.index[-1] - events.index[0])
    return int(span // step_of(events)) + 1


def events_per_hour(events: pd.DataFrame) -> float | None:
    """Typical SLI events per hour: the median of the hourly totals over every hour from the
    first interval's to the last's (hours without rows count as zero; ``None`` without two
    intervals). Computed from the hours with rows and a count of the others, so a grid sized by
    the data is not expanded to every hour of its span."""
    if len(events) <= 1:
        return None
    hour = pd.DatetimeIndex(events.index).as_unit("us").asi8 // HOUR_US
    starts = np.flatnonzero(np.diff(hour, prepend=hour[0] - 1))
    sums = np.add.reduceat(events["total"].to_numpy(np.int64), starts)
    zeros = int(hour[-1] - hour[0] + 1) - len(sums)
    return median_with_zeros(sums.astype(float), zeros)


def median_with_zeros(values: np.ndarray, zeros: int) -> float:
    """``np.median`` of the non-negative ``values`` together with ``zeros`` more zeros, without
    building them."""
    ordered = np.sort(values)
    n = len(ordered) + zeros

    def kth(k: int) -> float:  # the k-th smallest of the whole multiset: the zeros come first
        return 0.0 if k < zeros else float(ordered[k - zeros])

    return (kth((n - 1) // 2) + kth(n // 2)) / 2.0


def period_budget_events(events: pd.DataFrame, spec: SLOSpec) -> float:
    """Bad events the whole period may hold: ``(1 − target) × mean events per interval ×
    intervals per period`` (the error budget in events, Workbook ch. 2); the mean is over every
    interval from the first to the last, skipped empty ones included."""
    if events.empty:
        return 0.0
    per_period = spec.window / step_of(events)
    mean = float(events["total"].sum()) / intervals_spanned(events)
    return float(spec.error_budget * mean * per_period)


def trailing(cs: np.ndarray, n: int) -> np.ndarray:
    """Trailing sums over ``n`` rows from a cumulative sum (row t: rows t−n+1..t)."""
    out = np.empty_like(cs)
    out[:n] = cs[:n]
    np.subtract(cs[n:], cs[:-n], out=out[n:])
    return out
