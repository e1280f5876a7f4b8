"""The toil inventory: the observed period, hours per task and per category, and weekly hours
per task with their Theil–Sen trend (docs/toil.md, "Where the numbers come from" and "Trend")."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from srekit.analysis.toil import SECTION
from srekit.core.questions import OpenQuestion

MIN_TREND_WEEKS = 3
TREND_CONFIDENCE = 0.90
SHORT_LOG_WEEKS = 4.0
"""Less data than this many weeks is flagged (open question ``toil_period``)."""
MAX_WEEKS = 156
"""Weekly hours (the chart and the trend) cover at most this many most recent weeks (three years)."""


@dataclass(frozen=True, slots=True)
class TaskTrend:
    """Theil–Sen slope of weekly hours (hours/week per week) with its confidence interval."""

    weeks: int
    slope: float
    low: float
    high: float
    confidence: float = TREND_CONFIDENCE

    def __post_init__(self) -> None:
        if self.weeks < MIN_TREND_WEEKS:
            raise ValueError(f"a trend needs at least {MIN_TREND_WEEKS} weeks, got {self.weeks}")
        if not self.low <= self.slope <= self.high:
            raise ValueError(f"trend interval [{self.low}, {self.high}] must contain the slope {self.slope}")

    @property
    def direction(self) -> str:
        if self.low > 0:
            return "growing"
        if self.high < 0:
            return "shrinking"
        return "flat"

    def to_dict(self) -> dict[str, Any]:
        return {
            "weeks": self.weeks,
            "slope_hours_per_week_per_week": float(self.slope),
            "low": float(self.low),
            "high": float(self.high),
            "confidence": float(self.confidence),
            "direction": self.direction,
        }


@dataclass(frozen=True, slots=True)
class TaskToil:
    """One task of the inventory."""

    task: str
    category: str
    hours_per_week: float
    occurrences_per_week: float
    minutes_per_occurrence: float
    share_of_team_time: float
    share_of_toil: float
    automatable: bool | None
    engineers: int
    trend: TaskTrend | None

    def __post_init__(self) -> None:
        if self.hours_per_week < 0 or self.occurrences_per_week < 0 or self.minutes_per_occurrence < 0:
            raise ValueError(f"task {self.task}: hours and counts cannot be negative")
        for name in ("share_of_team_time", "share_of_toil"):
            v = getattr(self, name)
            if not 0.0 <= v <= 1.0:
                raise ValueError(f"task {self.task}: {name} must be in [0, 1], got {v}")

    def to_dict(self) -> dict[str, Any]:
        return {
            "task": self.task,
            "category": self.category,
            "hours_per_week": float(self.hours_per_week),
            "occurrences_per_week": float(self.occurrences_per_week),
            "minutes_per_occurrence": float(self.minutes_per_occurrence),
            "share_of_team_time": float(self.share_of_team_time),
            "share_of_toil": float(self.share_of_toil),
            "automatable": self.automatable,
            "engineers": int(self.engineers),
            "trend": None if self.trend is None else self.trend.to_dict(),
        }


@dataclass(frozen=True, slots=True)
class CategoryToil:
    category: str
    hours_per_week: float
    share_of_team_time: float
    share_of_toil: float
    tasks: int

    def __post_init__(self) -> None:
        if self.hours_per_week < 0 or not (0 <= self.share_of_team_time <= 1 and 0 <= self.share_of_toil <= 1):
            raise ValueError(f"category {self.category}: invalid hours or shares")

    def to_dict(self) -> dict[str, Any]:
        return {
            "category": self.category,
            "hours_per_week": float(self.hours_per_week),
            "share_of_team_time": float(self.share_of_team_time),
            "share_of_toil": float(self.share_of_toil),
            "tasks": int(self.tasks),
        }


@dataclass(frozen=True, slots=True)
class Period:
    """The observed period: first local day to the day after the last one (exclusive)."""

    start: pd.Timestamp
    end: pd.Timestamp

    @property
    def days(self) -> int:
        return int((self.end - self.start).days)

    @property
    def weeks(self) -> float:
        return self.days / 7.0


def observed_period(events: pd.DataFrame) -> Period:
    """The period the events cover (naive local days)."""
    return Period(events["day"].min(), events["day"].max() + pd.Timedelta(days=1))


def period_questions(period: Period) -> tuple[OpenQuestion, ...]:
    """Ask whether a log shorter than ``SHORT_LOG_WEEKS`` is typical (its rates are extrapolated)."""
    if period.weeks >= SHORT_LOG_WEEKS:
        return ()
    return (
        OpenQuestion(
            "toil_period",
            "Is this short log typical of a normal week?",
            f"Rates are extrapolated from {period.days} day(s) of data ({period.weeks:.1f} weeks).",
            SECTION,
        ),
    )


def weekly_trend(hours: Sequence[float] | np.ndarray, *, confidence: float = TREND_CONFIDENCE) -> TaskTrend | None:
    """Theil–Sen slope of a weekly hours series (hours/week per week) with its interval.

    Robust to single heavy weeks (Sen 1968, via ``scipy.stats.theilslopes``). Fewer than
    ``MIN_TREND_WEEKS`` weeks carry no trend: ``None``.
    """
    y = np.asarray(hours, dtype=float)
    if y.size < MIN_TREND_WEEKS:
        return None
    from scipy import stats  # lazy: report kernels only unpickle results

    res = stats.theilslopes(y, np.arange(y.size, dtype=float), alpha=confidence)
    slope, low, high = float(res.slope), float(res.low_slope), float(res.high_slope)
    low, high = min(low, slope), max(high, slope)
    return TaskTrend(weeks=int(y.size), slope=slope, low=low, high=high, confidence=confidence)


def weekly_hours(events: pd.DataFrame, period: Period) -> tuple[pd.DataFrame, np.ndarray]:
    """Hours per week per task in 7-day bins from the period's start, the most recent
    :data:`MAX_WEEKS` bins at most (the chart and the trend; the rates cover the whole period);
    returns the frame and the number of days each bin covers (the last bin may be short; its
    hours are scaled to a week). Sized by the bins shown, not by the period: one entry stamped
    decades early costs no more than a recent log."""
    start, days = period.start, period.days
    n_all = max(1, math.ceil(days / 7))
    first = max(0, n_all - MAX_WEEKS)
    n_bins = n_all - first
    covered = np.minimum(7, days - 7 * (first + np.arange(n_bins))).astype(float)
    k = ((events["day"] - start).dt.days // 7).to_numpy() - first
    shown = k >= 0
    tasks = sorted(events["task"].unique())
    pos = {t: i for i, t in enumerate(tasks)}
    grid = np.zeros((n_bins, len(tasks)))
    task_pos = events["task"].map(pos).to_numpy().astype(int)
    np.add.at(grid, (k[shown], task_pos[shown]), events["minutes"].to_numpy()[shown] / 60.0)
    grid = grid * (7.0 / covered)[:, None]
    index = pd.DatetimeIndex([start + pd.Timedelta(days=7 * (first + i)) for i in range(n_bins)], name="week_start")
    return pd.DataFrame(grid, index=index, columns=pd.Index(tasks, name="task")), covered


def toil_hours_per_week(events: pd.DataFrame, weeks: float) -> float:
    """All toil: logged hours over the period's weeks (quiet weeks count as zero)."""
    return float(events["minutes"].sum()) / 60.0 / weeks


def task_inventory(
    events: pd.DataFrame, weeks: float, capacity: float, weekly: pd.DataFrame, covered: np.ndarray
) -> tuple[TaskToil, ...]:
    """One :class:`TaskToil` per task, biggest first; the trend is fitted on the full weeks."""
    total_hours = toil_hours_per_week(events, weeks)
    full = weekly.loc[covered == 7]
    tasks = []
    for task, g in events.groupby("task", sort=False):
        hours = float(g["minutes"].sum()) / 60.0 / weeks
        auto = g["automatable"].dropna()
        tasks.append(
            TaskToil(
                task=str(task),
                category=str(g["category"].value_counts().index[0]),
                hours_per_week=hours,
                occurrences_per_week=len(g) / weeks,
                minutes_per_occurrence=float(g["minutes"].mean()),
                share_of_team_time=min(1.0, hours / capacity),
                share_of_toil=hours / total_hours if total_hours > 0 else 0.0,
                automatable=None if auto.empty else bool(auto.mode().iloc[0]),
                engineers=int(g["engineer"].dropna().nunique()),
                trend=weekly_trend(full[task].to_numpy()),
            )
        )
    return tuple(sorted(tasks, key=lambda t: (-t.hours_per_week, t.task)))


def category_inventory(events: pd.DataFrame, weeks: float, capacity: float) -> tuple[CategoryToil, ...]:
    """Hours and shares per category, biggest first."""
    total_hours = toil_hours_per_week(events, weeks)
    cats = []
    for cat, g in events.groupby("category", sort=False):
        hours = float(g["minutes"].sum()) / 60.0 / weeks
        cats.append(
            CategoryToil(
                category=str(cat),
                hours_per_week=hours,
                share_of_team_time=min(1.0, hours / capacity),
                share_of_toil=hours / total_hours if total_hours > 0 else 0.0,
                tasks=int(g["task"].nunique()),
            )
        )
    return tuple(sorted(cats, key=lambda c: (-c.hours_per_week, c.category)))
