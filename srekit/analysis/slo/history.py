"""How objectives would have fared over past SLO windows.

Past windows are rolling windows of the SLO window length at daily steps, or calendar months
(:func:`window_matrix`); in each, budget consumed = bad / ((1 − target) × valid) (Google SRE
Workbook, chapter 2 "Implementing SLOs": error budget = 1 − SLO). An objective held in a
window when it consumed at most its budget, decided on unrounded ratios. docs/slo.md,
"Threshold proposals".
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction

import numpy as np
import pandas as pd

from srekit.analysis.slo.grid import Blocks
from srekit.analysis.slo.results import WindowStats
from srekit.inputs import telemetry as tm


def window_matrix(days: pd.DatetimeIndex, window: pd.Timedelta, kind: str) -> np.ndarray:
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


def shorter_than_window(days: pd.DatetimeIndex, window: pd.Timedelta, kind: str) -> bool:
    """A rolling window longer than the history: :func:`window_matrix` judges it all as one
    window, a weak signal."""
    return kind == "rolling" and len(days) < round(window / pd.Timedelta(days=1))


def window_stats(consumed: np.ndarray, has_traffic: np.ndarray) -> WindowStats:
    """Windows met and budget consumption over windows with traffic. Budget consumed in a
    window = bad / ((1 − target) × total) (SRE Workbook, "Implementing SLOs": error budget
    = 1 − SLO); the objective held when consumed ≤ 1, decided on unrounded ratios."""
    c = consumed[has_traffic]
    if c.size == 0:
        return WindowStats(0, 0.0, 0.0, 0.0)
    return WindowStats(int(c.size), float(np.mean(c <= 1.0)), float(np.median(c)), float(np.quantile(c, 0.9)))


def combined(parts: Sequence[np.ndarray], has: np.ndarray) -> WindowStats:
    """Several objectives together: a window is met when all held; its consumption is the
    largest share any objective used."""
    return window_stats(np.max(np.vstack(parts), axis=0), has)


def budget_ratio(target: float) -> float:
    """1 − target computed on the decimal the target was written as (``0.9`` → 1/10), then
    rounded once: ``1.0 - 0.9`` is 0.09999999999999998, which made a window exactly at a
    90 % objective read as 100.0000000000002 % consumed (missed). With the correctly rounded
    budget, a ratio exactly at the objective divides to exactly 1 (as
    :func:`srekit.analysis.budget.exact_consumed`)."""
    return float(1 - Fraction(repr(float(target))))


def consumed(win_total: np.ndarray, win_bad: np.ndarray, target: float) -> np.ndarray:
    """Budget consumed per window (any trailing shape of ``win_bad``)."""
    tot = win_total.reshape(win_total.shape + (1,) * (win_bad.ndim - win_total.ndim))
    return tm.ratio(win_bad, np.broadcast_to(tot, win_bad.shape)) / budget_ratio(target)


@dataclass(frozen=True, slots=True)
class JourneyHistory:
    """Everything the options need for one journey, from its daily blocks."""

    journey: str
    kind: str  # latency | timeslice
    days: Blocks
    windows: np.ndarray
    win_total: np.ndarray
    win_bad_le: np.ndarray  # (W, E) bad events per window for each edge
    win_errors: np.ndarray  # (W,)

    @property
    def has(self) -> np.ndarray:
        return self.win_total > 0


def journey_history(journey: str, kind: str, days: Blocks, windows: np.ndarray) -> JourneyHistory:
    """Valid, bad-per-edge and error events of each past window (``windows`` × daily sums)."""
    return JourneyHistory(
        journey,
        kind,
        days,
        windows,
        windows @ days.total,
        windows @ (days.total[:, None] - days.le),
        windows @ days.errors,
    )
