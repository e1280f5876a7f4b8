"""How objectives would have fared over past SLO windows.

Past windows are rolling windows of the SLO window length at daily steps, or calendar months
(:func:`past_windows`); in each, budget consumed = bad / ((1 − target) × valid) (Google SRE
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


@dataclass(frozen=True, slots=True)
class Windows:
    """The historical SLO windows over D days, each a run of consecutive days ``starts[w]`` to
    ``stops[w]`` (exclusive): rolling windows at daily steps, or calendar months. Sums over them
    come from one cumulative sum, so they cost the days, not days × windows (a W × D membership
    matrix was 5.6 GB for 73 years of days)."""

    starts: np.ndarray  # (W,) first day of each window
    stops: np.ndarray  # (W,) past its last day

    def __len__(self) -> int:
        return len(self.starts)

    def sums(self, values: np.ndarray) -> np.ndarray:
        """Per-window sums of per-day ``values`` (shape (D,) or (D, E) → (W,) or (W, E)); exact
        for integer counts below 2**53, as the membership product was."""
        values = np.asarray(values, dtype=float)
        cs = np.concatenate([np.zeros((1,) + values.shape[1:]), np.cumsum(values, axis=0)])
        return cs[self.stops] - cs[self.starts]


def past_windows(days: pd.DatetimeIndex, window: pd.Timedelta, kind: str) -> Windows:
    """The historical SLO windows over ``days`` (consecutive, ascending): rolling windows of
    ``window`` at daily steps, or calendar months. A history shorter than one window gives a
    single window over everything."""
    n_days = len(days)
    if kind == "calendar_month":
        keys = np.asarray(days.year * 12 + days.month)
        cuts = np.flatnonzero(np.diff(keys)) + 1
        return Windows(np.concatenate([[0], cuts]).astype(np.intp), np.concatenate([cuts, [n_days]]).astype(np.intp))
    n = max(1, round(window / pd.Timedelta(days=1)))
    if n_days <= n:
        return Windows(np.zeros(1, np.intp), np.full(1, n_days, np.intp))
    starts = np.arange(n_days - n + 1, dtype=np.intp)
    return Windows(starts, starts + n)


def shorter_than_window(days: pd.DatetimeIndex, window: pd.Timedelta, kind: str) -> bool:
    """A rolling window longer than the history: :func:`past_windows` judges it all as one
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
    windows: Windows
    win_total: np.ndarray
    win_bad_le: np.ndarray  # (W, E) bad events per window for each edge
    win_errors: np.ndarray  # (W,)

    @property
    def has(self) -> np.ndarray:
        return self.win_total > 0


def journey_history(journey: str, kind: str, days: Blocks, windows: Windows) -> JourneyHistory:
    """Valid, bad-per-edge and error events of each past window (sums of the daily blocks)."""
    return JourneyHistory(
        journey,
        kind,
        days,
        windows,
        windows.sums(days.total),
        windows.sums(days.total[:, None] - days.le),
        windows.sums(days.errors),
    )
