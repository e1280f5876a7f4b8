"""What each incident cost on the telemetry: impact windows and error-budget minutes.

Error-budget minutes of an incident: the bad events above the background rate during the
incident divided by the mean requests per minute ("minutes of full outage"; SRE Workbook,
"Implementing SLOs" — a 99.9% 30-day SLO allows 43.2 such minutes). See ``docs/incidents.md``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from srekit.analysis.incidents.counts import SliCounts
from srekit.analysis.incidents.log import to_us
from srekit.core.spec import SLOSpec

IMPACT_COLUMNS = (
    "id",
    "cause",
    "start",
    "duration_minutes",
    "detect_minutes",
    "bad",
    "total",
    "excess_bad",
    "budget_minutes",
    "intensity",
)


def impact_windows(df: pd.DataFrame, as_of: pd.Timestamp | None) -> pd.DataFrame:
    """When each incident hurt users: ``started_at`` to ``mitigated_at`` (else ``resolved_at``,
    else the log end for open incidents), with its time to detect in minutes (NaN when unknown
    or inconsistent). Rows without a usable window are left out."""
    end = df["mitigated_at"].fillna(df["resolved_at"])
    if as_of is not None:
        end = end.where(end.notna() | df["resolved_at"].notna(), as_of)
    detect = (df["detected_at"] - df["started_at"]).dt.total_seconds().astype("float64") / 60.0
    out = pd.DataFrame(
        {
            "id": df["id"],
            "journey": df["journey"],
            "cause": df["cause"],
            "start": df["started_at"],
            "end": end,
            "detect_minutes": detect.where(detect >= 0),
        }
    )
    ok = out["start"].notna() & out["end"].notna() & (out["end"] > out["start"])
    return out[ok].reset_index(drop=True)


def relevant(windows: pd.DataFrame, journey: str) -> pd.DataFrame:
    """Incidents that concern a journey: the same journey, or no journey recorded."""
    j = windows["journey"]
    return windows[j.isna() | (j == journey)].reset_index(drop=True)


def window_rows(grid_us: np.ndarray, windows: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """First and past-the-end row of each window ``[start, end)`` on a sorted grid of
    microsecond stamps (:func:`srekit.analysis.incidents.log.to_us`)."""
    lo = np.searchsorted(grid_us, to_us(windows["start"]), side="left")
    hi = np.searchsorted(grid_us, to_us(windows["end"]), side="left")
    return lo, hi


def covered(rows: int, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """Which of ``rows`` grid rows lie inside at least one window (rows ``lo`` to ``hi``)."""
    inside = np.zeros(rows + 1, np.int64)
    np.add.at(inside, lo, 1)
    np.add.at(inside, hi, -1)
    return np.cumsum(inside)[:-1] > 0


def incident_impact(
    windows: pd.DataFrame, telemetry: pd.DataFrame, spec: SLOSpec, *, counts: pd.DataFrame | None = None
) -> pd.DataFrame:
    """Bad events each incident caused on one SLI, above the background rate.

    Returns one row per incident window overlapping the telemetry: ``id``, ``cause``,
    ``duration_minutes`` (the overlap), ``bad``, ``total``, ``excess_bad`` (bad − background
    ratio × total, ≥ 0), ``budget_minutes`` (excess / mean requests per minute) and
    ``intensity`` (budget minutes per minute of incident: 1.0 = a full outage).
    Background ratio = bad / total over the minutes outside every incident window.
    ``counts`` may pass the SLI's ``telemetry.sli_counts`` grid when the caller has it already.
    """
    if counts is None:
        counts = SliCounts(telemetry)(spec)
    w = relevant(windows, spec.journey)
    if counts.empty or w.empty:
        return pd.DataFrame({c: pd.Series([], dtype="float64") for c in IMPACT_COLUMNS})
    idx = counts.index
    grid_us = to_us(idx)
    step_us = _step_us(grid_us)
    lo, hi = window_rows(grid_us, w)
    bad_all, tot_all = counts["bad"].to_numpy(), counts["total"].to_numpy()
    outside = ~covered(len(idx), lo, hi)
    q_tot = tot_all[outside].sum()
    p0 = bad_all[outside].sum() / q_tot if q_tot > 0 else 0.0
    n_all = (grid_us[-1] - grid_us[0]) // step_us + 1  # intervals spanned, skipped empty ones too
    step_min = step_us / 60_000_000
    per_min = tot_all.sum() / (n_all * step_min)
    bad = _window_sums(counts["bad"], lo, hi)
    tot = _window_sums(counts["total"], lo, hi)
    minutes = (
        _intervals_before(grid_us, step_us, w["end"]) - _intervals_before(grid_us, step_us, w["start"])
    ) * step_min
    excess = np.maximum(bad - p0 * tot, 0.0)
    bmin = excess / per_min if per_min > 0 else np.zeros(len(w))
    out = pd.DataFrame(
        {
            "id": w["id"],
            "cause": w["cause"],
            "start": w["start"],
            "duration_minutes": minutes.astype(float),
            "detect_minutes": w.get("detect_minutes", np.nan),
            "bad": bad.astype(float),
            "total": tot.astype(float),
            "excess_bad": excess,
            "budget_minutes": bmin,
        }
    )
    out["intensity"] = np.where(minutes > 0, bmin / np.where(minutes > 0, minutes, 1.0), 0.0)
    return out[minutes > 0].reset_index(drop=True)


def _step_us(grid_us: np.ndarray) -> int:
    """The grid's interval (µs): the smallest spacing of its stamps (1 min for a single row)."""
    gaps = np.diff(grid_us)
    gaps = gaps[gaps > 0]
    return int(gaps.min()) if gaps.size else 60_000_000


def _intervals_before(grid_us: np.ndarray, step_us: int, stamps: pd.Series) -> np.ndarray:
    """How many intervals of the grid (every one from its first to its last, skipped empty ones
    included) start before each stamp: the grid positions a window ``[start, end)`` covers are
    the difference, the rows it covers on a dense grid."""
    n_all = (grid_us[-1] - grid_us[0]) // step_us + 1
    ahead = np.asarray(to_us(stamps)) - grid_us[0]
    return np.clip(-(-ahead // step_us), 0, n_all)


def _window_sums(values: pd.Series, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """Sum of ``values`` over rows ``lo`` to ``hi`` (exclusive) of each window, exact in int64."""
    cumulative = np.concatenate([[0], np.cumsum(values.to_numpy(np.int64))])
    return np.asarray(cumulative[hi] - cumulative[lo])


def budget_minutes_by_incident(
    windows: pd.DataFrame, telemetry: pd.DataFrame, specs: tuple[SLOSpec, ...], *, counts: SliCounts | None = None
) -> pd.Series:
    """Budget minutes per incident id: the largest over the SLOs the incident concerns.
    ``counts`` may pass the SLIs of ``telemetry`` already measured (:class:`SliCounts`)."""
    sli = counts if counts is not None else SliCounts(telemetry)
    parts = [
        incident_impact(windows, telemetry, s, counts=sli(s)).set_index("id")["budget_minutes"]
        for s in specs
        if s.sli in ("availability", "latency")
    ]
    parts = [p for p in parts if len(p)]
    if not parts:
        return pd.Series([], dtype="float64")
    return pd.concat(parts, axis=1).max(axis=1)
