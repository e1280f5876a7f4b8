"""What each correction (``corrections:`` in service.yaml) gave back: per SLO, the good and bad
events in its windows, over the whole history and in the SLO's current budget window, and the
share of the budget that is (``error_budget_policy.corrections`` in report.json).

The corrections are applied where the inputs are loaded (:mod:`srekit.inputs.corrections`), so
every section already works on the corrected history; this module only measures the rows they
cleared, with the SLO's own event definition (:func:`~srekit.analysis.slo.events.sli_events`).
``budget_returned`` = bad events of the correction inside the current window ÷ the window's
allowed bad events (after corrections): what the SLO's ``consumed`` would grow by without it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd

from srekit.analysis.slo.events import sli_events
from srekit.core.spec import SLOSpec
from srekit.core.timeutil import format_duration
from srekit.inputs.config import Correction
from srekit.inputs.corrections import Applied, Window


@dataclass(frozen=True, slots=True)
class SloReturn:
    """One correction's effect on one SLO."""

    slo: str
    journey: str
    bad_events: int  # over the whole history
    total_events: int
    bad_events_window: int  # in the SLO's current budget window
    total_events_window: int
    budget_returned: float | None  # bad_events_window / allowed bad events of the window; None: no budget

    def to_dict(self) -> dict[str, Any]:
        return {
            "slo": self.slo,
            "journey": self.journey,
            "bad_events": self.bad_events,
            "total_events": self.total_events,
            "bad_events_window": self.bad_events_window,
            "total_events_window": self.total_events_window,
            "budget_returned": self.budget_returned,
        }


@dataclass(frozen=True, slots=True)
class CorrectionEffect:
    """One correction as configured, its windows inside the data and what it gave back."""

    correction: Correction
    windows: int
    excluded_minutes: float
    first_window: pd.Timestamp | None
    last_window: pd.Timestamp | None
    per_slo: tuple[SloReturn, ...]

    def to_dict(self) -> dict[str, Any]:
        c = self.correction
        return {
            "index": c.index,
            "kind": c.kind,
            "reason": c.reason,
            "slos": "all" if c.slos is None else list(c.slos),
            "start": c.start.isoformat(),
            "end": None if c.end is None else c.end.isoformat(),
            "duration": None if c.duration is None else format_duration(c.duration),
            "rrule": c.rrule,
            "windows_in_data": self.windows,
            "excluded_minutes": self.excluded_minutes,
            "first_window": None if self.first_window is None else self.first_window.isoformat(),
            "last_window": None if self.last_window is None else self.last_window.isoformat(),
            "slos_affected": [r.to_dict() for r in self.per_slo],
        }


def _events(applied: Applied, index: int, spec: SLOSpec) -> pd.DataFrame:
    """The SLO's events in the rows correction ``index`` cleared."""
    tel, ser = applied.excluded_telemetry, applied.excluded_series
    tel = None if tel is None else tel[tel["correction"] == index].drop(columns="correction")
    ser = None if ser is None else ser[ser["correction"] == index].drop(columns="correction")
    try:
        return sli_events(tel, ser, spec)
    except ValueError:  # a latency threshold below the smallest edge: the budget says so itself
        return pd.DataFrame({"total": [], "bad": []})


def _slo_return(
    applied: Applied, index: int, spec: SLOSpec, window: tuple[pd.Timestamp, pd.Timestamp, float] | None
) -> SloReturn:
    ev = _events(applied, index, spec)
    bad, total = int(ev["bad"].sum()), int(ev["total"].sum())
    if window is None:
        return SloReturn(spec.name, spec.journey, bad, total, 0, 0, None)
    lo, hi, allowed = window
    inside = ev[(ev.index >= lo) & (ev.index < hi)] if len(ev) else ev
    bad_w, total_w = int(inside["bad"].sum()), int(inside["total"].sum())
    returned = bad_w / allowed if allowed > 0 else None
    return SloReturn(spec.name, spec.journey, bad, total, bad_w, total_w, returned)


def _minutes(windows: Sequence[Window]) -> float:
    return float(sum((w.end - w.start).total_seconds() for w in windows) / 60.0)


def correction_effects(
    applied: Applied | None,
    specs: Sequence[SLOSpec],
    budget_windows: dict[str, tuple[pd.Timestamp, pd.Timestamp, float]],
) -> tuple[CorrectionEffect, ...]:
    """Every configured correction with what it returned to each SLO it covers.

    ``budget_windows`` maps an SLO name to its current window (start, end) and the window's
    allowed bad events after corrections (from the error-budget section)."""
    if applied is None:
        return ()
    out = []
    for c in applied.corrections:
        mine = [w for w in applied.windows if w.correction == c.index]
        journeys = {j for w in mine for j in w.journeys}
        covered = [s for s in specs if s.journey in journeys]
        per_slo = tuple(_slo_return(applied, c.index, s, budget_windows.get(s.name)) for s in covered)
        first = mine[0].start if mine else None
        last = mine[-1].start if mine else None
        out.append(CorrectionEffect(c, len(mine), _minutes(mine), first, last, per_slo))
    return tuple(out)
