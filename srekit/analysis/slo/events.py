"""Good and bad events of one SLO on a regular UTC grid (:func:`sli_events`), the piece the
budget, alerting and forecast sections reuse.

Request SLIs read aggregated telemetry through a :class:`~srekit.analysis.slo.grid.JourneyGrid`;
timeslice SLIs read a gauge series (one event per sample). ``Timeslices`` budgeting turns the
events into slices (OpenSLO v1 ``budgetingMethod``). Definitions: docs/slo.md.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from srekit.analysis.slo.grid import GridSettings, JourneyGrid, journey_grid, regular_frame, show_step
from srekit.core.spec import SLOSpec
from srekit.inputs.intervals import smallest_spacing


def series_interval(stamps: pd.Series) -> pd.Timedelta:
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
    there is nothing to infer from), in whole µs. Same rule as ``telemetry.infer_interval``."""
    return smallest_spacing(stamps, "us") or pd.Timedelta(minutes=1)


def usable_series(series: pd.DataFrame, journey: str) -> pd.DataFrame:
    """One journey's samples with a value: NaN and zero values are "no data". A zero latency
    statistic means no calls (or an outage the statistic cannot show); it is neither good nor
    bad evidence (docs/slo.md, "Definitions and formulas")."""
    part = series[series["journey"] == journey]
    vals = pd.to_numeric(part["value"], errors="coerce")
    keep = vals.notna() & (vals != 0)
    return pd.DataFrame({"timestamp": part["timestamp"][keep], "value": vals[keep].astype(float)})


def _series_events(
    series: pd.DataFrame,
    spec: SLOSpec,
    start: pd.Timestamp | None,
    end: pd.Timestamp | None,
    settings: GridSettings,
) -> pd.DataFrame:
    """Gauge timeslice SLI: every sample is one event, bad when ``value > threshold_ms``
    (OpenSLO Timeslices over a per-slice metric). Samples sharing an interval (DST repeats)
    all count; intervals without samples are zero rows (sized by the data: :func:`regular_frame`)."""
    assert spec.threshold_ms is not None
    part = usable_series(series, spec.journey)
    interval = series_interval(series.loc[series["journey"] == spec.journey, "timestamp"])
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
    what = f"SLO {spec.name}: the series of journey {spec.journey!r} on its {show_step(interval)} interval"
    return regular_frame(frame, interval, settings, what, first=pd.Timestamp(lo).floor(interval), last=hi)


def _empty_events() -> pd.DataFrame:
    idx = pd.DatetimeIndex([], tz="UTC", name="interval_start")
    return pd.DataFrame({"total": pd.Series([], dtype="int64"), "bad": pd.Series([], dtype="int64")}, index=idx)


def _to_timeslices(events: pd.DataFrame, spec: SLOSpec, settings: GridSettings) -> pd.DataFrame:
    """OpenSLO Timeslices: a slice of ``timeslice_window`` (aligned to the epoch) is good when
    its own good ratio ≥ ``timeslice_target``; slices without events are not counted (total 0).
    Slices are sums of the intervals in them, on a grid sized by the data (:func:`regular_frame`)."""
    assert spec.timeslice_window is not None and spec.timeslice_target is not None
    if events.empty:
        return events
    width = spec.timeslice_window
    width_us = max(width.value // 1000, 1)
    key = pd.DatetimeIndex(events.index).as_unit("us").asi8 // width_us
    starts = np.flatnonzero(np.diff(key, prepend=key[0] - 1))  # events are sorted: one run per slice
    slice_index = pd.DatetimeIndex(pd.to_datetime(key[starts] * width_us, unit="us", utc=True))
    sums = pd.DataFrame(
        {c: np.add.reduceat(events[c].to_numpy(np.int64), starts) for c in ("total", "bad")}, index=slice_index
    )
    sums = regular_frame(sums, width, settings, f"SLO {spec.name} in slices of {show_step(width)}")
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
    settings: GridSettings | None = None,
) -> pd.DataFrame:
    """Per-interval valid (``total``) and ``bad`` events of one SLO on a regular UTC grid.

    ``availability`` / ``latency`` read aggregated telemetry (``telemetry.sli_counts``: bad =
    errors, or total − le_T with T snapped down to a bucket edge); ``timeslice`` reads a gauge
    series (one event per sample, bad when the value exceeds the threshold). With
    ``budgeting="Timeslices"`` the events become slices of ``timeslice_window`` (OpenSLO v1
    ``budgetingMethod: Timeslices``): one event per slice with traffic, bad when the slice's
    good ratio is below ``timeslice_target``. ``start``/``end`` extend the grid with zero rows
    (interval starts, inclusive). ``grids`` may pass
    :func:`~srekit.analysis.slo.grid.journey_grids` of ``telemetry`` when the caller has it
    already. The grid is sized by the data (``settings``, :mod:`srekit.analysis.slo.grid`): long
    empty runs are skipped, which changes no trailing sum the analyses read.
    """
    settings = settings or GridSettings()
    if spec.sli == "timeslice":
        events = (
            _empty_events() if series is None or series.empty else _series_events(series, spec, start, end, settings)
        )
    elif grids is not None and telemetry is not None and not telemetry.empty:
        given = grids.get(spec.journey)
        if given is not None:
            return grid_events(given, spec, start=start, end=end, settings=settings)
        events = _empty_events()
    elif telemetry is None or telemetry.empty or not (telemetry["journey"] == spec.journey).any():
        events = _empty_events()
    else:
        grid = journey_grid(telemetry, spec.journey, spec.sli, spec.threshold_ms, settings)
        assert grid is not None
        return grid_events(grid, spec, start=start, end=end, settings=settings)
    if spec.budgeting == "Timeslices":
        events = _to_timeslices(events, spec, settings)
    return events


def grid_events(
    grid: JourneyGrid,
    spec: SLOSpec,
    *,
    start: pd.Timestamp | None = None,
    end: pd.Timestamp | None = None,
    settings: GridSettings | None = None,
) -> pd.DataFrame:
    """``sli_events`` for a request SLO from a prepared :class:`JourneyGrid`: the grid runs from
    ``start`` (floored to the interval) to ``end`` (inclusive interval starts), zero-filled,
    dropping intervals outside them, as ``telemetry.regular`` (empty runs longer than the grid's
    ``pad`` skipped)."""
    settings = settings or GridSettings(max_intervals=grid.max_intervals)
    events = grid.extended(end).events(spec.sli, spec.threshold_ms)
    first = None if start is None else pd.Timestamp(start).floor(grid.interval)
    if first is not None or (end is not None and end < events.index[-1]):
        what = f"SLO {spec.name} on the {show_step(grid.interval)} grid of journey {spec.journey!r}"
        events = regular_frame(events, grid.interval, settings, what, first=first, last=end)
    if spec.budgeting == "Timeslices":
        events = _to_timeslices(events, spec, settings)
    return events
