"""The monthly compliance calendar: every SLO's attainment per calendar month over the whole
history (met / missed / budget used), the view Datadog's SLO calendar and Sloth's users
(sloth#242) ask for.

Entry point: :func:`monthly_compliance` → a tuple of :class:`MonthCompliance`, one per month the
SLO's history touches (``error_budget_policy.calendar`` in report.json).

Definitions (docs/slo.md, "Compliance calendar"):

* a month is a calendar month of the service's ``timezone`` (as ``window_kind: calendar_month``
  and the OpenSLO export's ``calendar.timeZone``), whatever the SLO's own window: a 28-day rolling
  SLO is judged month by month here, its budget state in its own window;
* an interval belongs to the month its start lies in;
* attainment = good / total events of the month, request-weighted (events are slices for
  ``Timeslices`` budgeting, samples for timeslice SLIs); budget used = bad / ((1 − target) × total),
  exact (:func:`srekit.analysis.budget.exact_consumed`); **met** when attainment ≥ target, i.e.
  budget used ≤ 1 (a month exactly at the objective is met); ``no_data`` without events;
* ``coverage``: the share of the month inside the SLO's history (its first interval to the end
  of the data); the first and last months are usually partial and are judged on what there is.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import numpy as np
import pandas as pd

from srekit.core.spec import SLOSpec

MONTH_STATES = ("met", "missed", "no_data")


@dataclass(frozen=True, slots=True)
class MonthCompliance:
    """One SLO in one calendar month."""

    slo: str
    journey: str
    target: float
    month: str  # YYYY-MM in the service's timezone
    start: pd.Timestamp  # the local month's first instant (UTC)
    end: pd.Timestamp  # the next month's first instant (UTC, exclusive)
    coverage: float  # share of the month inside the SLO's history, (0, 1]
    total_events: int
    bad_events: int
    consumed: float | None  # budget used: bad / ((1 − target) × total); None without events
    met: bool | None  # attainment ≥ target; None without events

    def __post_init__(self) -> None:
        if not 0 <= self.bad_events <= self.total_events:
            raise ValueError(f"{self.slo} {self.month}: need 0 ≤ bad_events ≤ total_events")
        if not 0.0 < self.coverage <= 1.0:
            raise ValueError(f"{self.slo} {self.month}: coverage must be in (0, 1], got {self.coverage}")
        if (self.total_events == 0) != (self.met is None):
            raise ValueError(f"{self.slo} {self.month}: met is None exactly when the month has no events")

    @property
    def attainment(self) -> float | None:
        """Good / total events of the month (None without events)."""
        if self.total_events == 0:
            return None
        return (self.total_events - self.bad_events) / self.total_events

    @property
    def status(self) -> str:
        if self.met is None:
            return "no_data"
        return "met" if self.met else "missed"

    def to_dict(self) -> dict[str, Any]:
        return {
            "slo": self.slo,
            "journey": self.journey,
            "month": self.month,
            "start": self.start.isoformat(),
            "end": self.end.isoformat(),
            "coverage": self.coverage,
            "target": self.target,
            "total_events": self.total_events,
            "bad_events": self.bad_events,
            "attainment": self.attainment,
            "consumed": self.consumed,
            "met": self.met,
            "status": self.status,
        }


def month_bounds(start: pd.Timestamp, end: pd.Timestamp, tz: str) -> list[tuple[str, pd.Timestamp, pd.Timestamp]]:
    """``(YYYY-MM, first instant, next month's first instant)`` of every local calendar month of
    ``tz`` that [start, end) touches; instants in UTC. A local midnight skipped by DST starts the
    month at the first valid instant (as :func:`srekit.analysis.budget.current_window`)."""
    first = start.tz_convert(tz).tz_localize(None)
    last = (end - pd.Timedelta(microseconds=1)).tz_convert(tz).tz_localize(None)
    local = pd.date_range(
        pd.Timestamp(year=first.year, month=first.month, day=1),
        pd.Timestamp(year=last.year, month=last.month, day=1) + pd.offsets.MonthBegin(1),
        freq="MS",
    )
    utc = [t.tz_localize(tz, ambiguous=True, nonexistent="shift_forward").tz_convert("UTC") for t in local]
    return [(local[i].strftime("%Y-%m"), utc[i], utc[i + 1]) for i in range(len(local) - 1)]


def _month_sums(events: pd.DataFrame, bounds: list[tuple[str, pd.Timestamp, pd.Timestamp]]) -> np.ndarray:
    """Total and bad events per month (rows), by the month each interval starts in."""
    idx = pd.DatetimeIndex(events.index)
    cuts = np.array([idx.searchsorted(b[1], side="left") for b in bounds] + [len(idx)], dtype=np.int64)
    cuts[-1] = idx.searchsorted(bounds[-1][2], side="left")
    cum = np.zeros((len(idx) + 1, 2), dtype=np.int64)
    cum[1:] = np.cumsum(events[["total", "bad"]].to_numpy(dtype=np.int64), axis=0)
    return cum[cuts[1:]] - cum[cuts[:-1]]


def _judged(bad: int, total: int, target: float) -> tuple[float | None, bool | None]:
    """Budget used and met of one month, decided on the exact fraction (the decimal target)."""
    if total == 0:
        return None, None
    used = Fraction(bad) / ((1 - Fraction(repr(float(target)))) * total)
    return float(used), used <= 1


def monthly_compliance(
    events: pd.DataFrame, spec: SLOSpec, *, end: pd.Timestamp, tz: str = "UTC"
) -> tuple[MonthCompliance, ...]:
    """The calendar of one SLO from its events (``sli_events`` / ``grid_events`` output: a UTC
    interval index, ``total`` and ``bad``), from its first interval to ``end`` (the end of the
    data), in the months of ``tz``. Empty when there are no events."""
    if events.empty:
        return ()
    start = pd.Timestamp(events.index[0])
    if end <= start:
        return ()
    bounds = month_bounds(start, end, tz)
    sums = _month_sums(events, bounds)
    out = []
    for (label, m_start, m_end), (total, bad) in zip(bounds, sums.tolist(), strict=True):
        inside = min(m_end, end) - max(m_start, start)
        consumed, met = _judged(int(bad), int(total), spec.target)
        out.append(
            MonthCompliance(
                slo=spec.name,
                journey=spec.journey,
                target=spec.target,
                month=label,
                start=m_start,
                end=m_end,
                coverage=min(1.0, inside / (m_end - m_start)),
                total_events=int(total),
                bad_events=int(bad),
                consumed=consumed,
                met=met,
            )
        )
    return tuple(out)
