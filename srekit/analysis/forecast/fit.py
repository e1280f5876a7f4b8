"""Fitting the burn model of one request-based SLO from telemetry and the incident log.

* History: the span of the journey's telemetry; incidents counted for the rate are those
  concerning the journey (same journey or none recorded) that start inside it.
* Impact: each such incident measured on the telemetry as a (duration, intensity) pair,
  intensity = excess bad events per minute ÷ mean requests per minute
  (:func:`srekit.analysis.incidents.impact.incident_impact`).
* Background burn: whole days of history without any incident ("quiet days"); with fewer than
  :data:`MIN_QUIET_DAYS` of them, every day's burn outside incident windows, scaled to a full day.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np
import pandas as pd

from srekit.analysis.forecast.model import BurnModel
from srekit.analysis.incidents.counts import SliCounts
from srekit.analysis.incidents.impact import covered, impact_windows, incident_impact, relevant, window_rows
from srekit.analysis.incidents.log import log_end, prepare, to_us
from srekit.core.spec import SLOSpec

MIN_QUIET_DAYS = 7
QUIET_DAYS = "quiet days"
SCALED_DAYS = "every day's burn outside incident windows, scaled to a full day (fewer than 7 quiet days)"


def incident_windows(incidents: pd.DataFrame | None) -> pd.DataFrame:
    """Impact windows of every incident of the log (``incidents.impact.impact_windows``, open
    ones censored at the log end); no rows without a log."""
    if incidents is None or not len(incidents):
        return pd.DataFrame(columns=["id", "journey", "cause", "start", "end"])
    df = prepare(incidents)
    return impact_windows(df, log_end(df))


def daily_sums(idx: pd.DatetimeIndex, stamps_us: np.ndarray, bad_out: np.ndarray, n_out: np.ndarray) -> pd.DataFrame:
    """``bad_out``, ``n_out`` and the interval count ``n`` summed per day (``idx.floor("D")``):
    on a sorted UTC grid by ``np.add.reduceat`` over each day's run of rows, else a groupby."""
    frame = pd.DataFrame({"bad_out": bad_out, "n_out": n_out, "n": 1}, index=idx)
    if len(idx) == 0 or str(idx.tz) != "UTC" or not bool((np.diff(stamps_us) > 0).all()):
        return frame.groupby(idx.floor("D")).sum()
    day_us = 86_400_000_000
    day = stamps_us // day_us
    starts = np.concatenate(([0], np.flatnonzero(np.diff(day)) + 1))
    days = pd.DatetimeIndex(pd.to_datetime(day[starts] * day_us, unit="us", utc=True)).as_unit(idx.unit)
    return pd.DataFrame(
        {
            "bad_out": np.add.reduceat(bad_out.astype(np.int64), starts),
            "n_out": np.add.reduceat(n_out.astype(np.int64), starts),
            "n": np.diff(np.append(starts, len(day))),
        },
        index=days,
    )


class History(NamedTuple):
    """The span of one journey's SLI grid."""

    idx: pd.DatetimeIndex
    step: pd.Timedelta
    start: pd.Timestamp
    end: pd.Timestamp  # past the last interval
    per_min: float  # mean requests per minute

    @classmethod
    def of(cls, grid: pd.DataFrame) -> History:
        idx = pd.DatetimeIndex(grid.index)
        step = idx[1] - idx[0] if len(idx) > 1 else pd.Timedelta(minutes=1)
        start, end = idx[0], idx[-1] + step
        return cls(idx, step, start, end, grid["total"].sum() / ((end - start) / pd.Timedelta(minutes=1)))

    @property
    def days(self) -> float:
        return float((self.end - self.start) / pd.Timedelta(days=1))


def day_sums(grid_us: np.ndarray, step_us: int, bad_out: np.ndarray, windows: pd.DataFrame) -> pd.DataFrame:
    """Per UTC day of the grid's span: ``bad_out`` summed over the day's rows, ``n`` the day's
    intervals and ``n_out`` those outside every incident window in ``windows`` — counted over
    every interval from the grid's first to its last, so a grid that skips long empty runs
    (:mod:`srekit.analysis.slo.grid`) gives what its dense form gives (:func:`daily_sums`)."""
    n_all = int((grid_us[-1] - grid_us[0]) // step_us) + 1
    d0, d1 = int(grid_us[0] // DAY_US), int(grid_us[-1] // DAY_US)
    bounds = np.arange(d0, d1 + 2, dtype=np.int64) * DAY_US
    first = _positions_before(bounds, grid_us[0], step_us, n_all)  # first interval at or after each day start
    n = np.diff(first)
    if len(windows):
        lo = _positions_before(to_us(windows["start"]), grid_us[0], step_us, n_all)
        hi = _positions_before(to_us(windows["end"]), grid_us[0], step_us, n_all)
        n_out = n - np.diff(_covered_before(first, lo, hi))
    else:
        n_out = n
    bad = np.zeros(len(n), np.int64)
    np.add.at(bad, grid_us // DAY_US - d0, bad_out)
    days = pd.DatetimeIndex(pd.to_datetime(bounds[:-1], unit="us", utc=True))
    frame = pd.DataFrame({"bad_out": bad, "n_out": n_out, "n": n}, index=days)
    return frame[frame["n"] > 0]


DAY_US = 86_400_000_000


def _positions_before(stamps_us: np.ndarray, origin_us: int, step_us: int, n_all: int) -> np.ndarray:
    """Intervals of a grid (``n_all`` from ``origin_us``) starting before each stamp."""
    return np.clip(-(-(np.asarray(stamps_us, np.int64) - origin_us) // step_us), 0, n_all)


def _covered_before(points: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """How many grid positions before each of ``points`` lie in at least one range ``[lo, hi)``."""
    merged: list[list[int]] = []
    for a, b in sorted(zip(lo.tolist(), hi.tolist(), strict=True)):  # one range per incident
        if merged and a <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], b)
        elif b > a:
            merged.append([a, b])
    ranges = np.asarray(merged, np.int64).reshape(-1, 2)
    ra, rb = ranges[:, 0], ranges[:, 1]
    full = np.concatenate([[0], np.cumsum(rb - ra)])  # positions in the ranges before range k
    k = np.searchsorted(ra, points, side="left")  # ranges starting before each point
    j = np.maximum(k - 1, 0)
    inside = np.minimum(points, rb[j]) - ra[j] if len(ra) else np.zeros(len(points), np.int64)
    return np.where(k > 0, full[j] + inside, 0)


def background_burn(grid: pd.DataFrame, windows: pd.DataFrame, history: History) -> tuple[np.ndarray, str]:
    """Budget minutes per day outside every incident window, and where they come from: the
    quiet days when there are enough of them, else every day's outside burn scaled to a day."""
    idx, step = history.idx, history.step
    grid_us = to_us(idx)
    outside = ~covered(len(idx), *window_rows(grid_us, windows)) if len(windows) else np.ones(len(idx), bool)
    bad_out = np.where(outside, grid["bad"].to_numpy(np.int64), 0)
    per_day = day_sums(grid_us, int(step / pd.Timedelta(microseconds=1)), bad_out, windows)
    full = per_day["n"] == round(pd.Timedelta(days=1) / step)
    quiet = per_day[full & (per_day["n_out"] == per_day["n"])]
    if len(quiet) >= MIN_QUIET_DAYS:
        return quiet["bad_out"].to_numpy() / history.per_min, QUIET_DAYS
    usable = per_day[(full if full.any() else True) & (per_day["n_out"] >= per_day["n"] / 2)]
    if usable.empty:
        usable = per_day[per_day["n_out"] > 0]
    if not len(usable):
        return np.zeros(1), SCALED_DAYS
    intervals_per_day = pd.Timedelta(days=1) / step
    return (usable["bad_out"] / usable["n_out"] * intervals_per_day).to_numpy() / history.per_min, SCALED_DAYS


def impact_pairs(impact: pd.DataFrame | None) -> tuple[tuple[float, ...], tuple[float, ...], tuple[float, ...]]:
    """Durations, intensities and times to detect (inf when unknown) of the measured incidents."""
    if impact is None or not len(impact):
        return (), (), ()
    return (
        tuple(float(x) for x in impact["duration_minutes"]),
        tuple(float(x) for x in impact["intensity"]),
        tuple(float(x) for x in impact["detect_minutes"].astype("float64").fillna(np.inf)),
    )


def fit_model(
    telemetry: pd.DataFrame,
    incidents: pd.DataFrame | None,
    spec: SLOSpec,
    *,
    counts: SliCounts | None = None,
    windows: pd.DataFrame | None = None,
) -> BurnModel:
    """Fit the burn model of one request-based SLO from telemetry and the incident log.

    History = the span of the journey's telemetry. Incidents counted for the rate are those
    concerning the journey (same journey or none recorded) that start inside the history.
    ``counts`` (the SLIs of ``telemetry``) and ``windows`` (:func:`incident_windows` of
    ``incidents``) may pass what the caller has computed already.
    """
    grid = (counts if counts is not None else SliCounts(telemetry))(spec)
    if grid.empty or grid["total"].sum() == 0:
        raise ValueError(f"SLO {spec.name}: no traffic for journey {spec.journey!r} in the telemetry")
    history = History.of(grid)
    window_days = max(math.ceil(spec.window / pd.Timedelta(days=1)), 1)
    if windows is None:
        windows = incident_windows(incidents)
    windows = relevant(windows, spec.journey) if len(windows) else windows
    in_hist = (
        windows[(windows["start"] >= history.start) & (windows["start"] < history.end)] if len(windows) else windows
    )
    impact = incident_impact(in_hist, telemetry, spec, counts=grid) if len(in_hist) else None
    background, source = background_burn(grid, windows, history)
    durations, intensities, detect = impact_pairs(impact)
    return BurnModel(
        slo=spec.name,
        window_days=window_days,
        budget_minutes=window_days * 1440.0 * spec.error_budget,
        incidents=len(in_hist),
        history_days=history.days,
        durations_minutes=durations,
        intensities=intensities,
        background_daily=tuple(float(x) for x in background),
        background_source=source,
        detect_minutes=detect,
    )
