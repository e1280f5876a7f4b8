"""An SLO's SLI events (``total``/``bad`` per interval) on a regular grid: what the alert
rules are replayed on, and the period's error budget counted in events."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from srekit.analysis.slo.events import sli_events as slo_sli_events
from srekit.analysis.slo.grid import JourneyGrid
from srekit.core.spec import SLOSpec


def sli_events(
    telemetry: pd.DataFrame | None,
    series: pd.DataFrame | None,
    spec: SLOSpec,
    *,
    grids: Mapping[str, JourneyGrid] | None = None,
) -> pd.DataFrame:
    """Per-interval ``total``/``bad`` SLI events of ``spec`` on a regular grid
    (:func:`srekit.analysis.slo.events.sli_events`: request SLIs from the aggregated telemetry, timeslice SLIs
    from the gauge series, OpenSLO Timeslices budgeting as slices). Missing intervals are zero
    rows; duplicate stamps are summed. Empty when the needed input is absent. ``grids`` may
    pass ``journey_grids(telemetry)`` when the caller has it already."""
    has = series if spec.sli == "timeslice" else telemetry
    if has is None or has.empty or not (has["journey"] == spec.journey).any():
        return pd.DataFrame(
            {"total": pd.Series([], dtype="int64"), "bad": pd.Series([], dtype="int64")},
            index=pd.DatetimeIndex([], tz="UTC", name="interval_start"),
        )
    return regularise(slo_sli_events(telemetry, series, spec, grids=grids))


def regularise(events: pd.DataFrame) -> pd.DataFrame:
    """Sum duplicate stamps and fill missing intervals with zeros on the smallest spacing."""
    ev = events if events.index.is_unique else events.groupby(level=0).sum()
    if len(ev) < 2:
        return ev.astype("int64")
    ev = ev.sort_index()
    gaps = np.diff(pd.DatetimeIndex(ev.index).as_unit("ns").asi8)  # int64 stamps: fast for tz-aware indexes
    if gaps.min() == gaps.max():
        return ev.astype("int64")
    step = pd.Timedelta(int(gaps.min()), unit="ns")
    grid = pd.date_range(ev.index[0], ev.index[-1], freq=step, name="interval_start")
    return ev.reindex(grid, fill_value=0).astype("int64")


def step_of(events: pd.DataFrame) -> pd.Timedelta:
    """Spacing of a regular event grid (1 min when it cannot be told)."""
    if len(events) < 2:
        return pd.Timedelta(minutes=1)
    return pd.Timedelta(events.index[1] - events.index[0])


def events_per_hour(events: pd.DataFrame) -> float | None:
    """Typical SLI events per hour: the median of the hourly totals (``None`` without two intervals)."""
    if len(events) <= 1:
        return None
    return float(events["total"].resample("1h").sum().median())


def period_budget_events(events: pd.DataFrame, spec: SLOSpec) -> float:
    """Bad events the whole period may hold: ``(1 − target) × mean events per interval ×
    intervals per period`` (the error budget in events, Workbook ch. 2)."""
    if events.empty:
        return 0.0
    per_period = spec.window / step_of(events)
    return float(spec.error_budget * events["total"].mean() * per_period)


def trailing(cs: np.ndarray, n: int) -> np.ndarray:
    """Trailing sums over ``n`` rows from a cumulative sum (row t: rows t−n+1..t)."""
    out = np.empty_like(cs)
    out[:n] = cs[:n]
    np.subtract(cs[n:], cs[:-n], out=out[n:])
    return out
