"""Error budgets, burn rates, budget states and the actions each state calls for.

Entry point: :func:`budget_policy` → :class:`ErrorBudgetPolicy` (the ``error_budget_policy``
section of ``report.json``). Reusable pieces: :func:`error_budget` (one SLO's budget in its
current window), :func:`burn_rates` (burn rates over trailing windows), :func:`burn_down` and
:func:`burn_rate_history` (time series for plots).

Sources: Google SRE Workbook, chapter 2 "Implementing SLOs" (error budget = 1 − SLO, budget
consumed, the error budget policy) and its appendix "Example Error Budget Policy"; chapter 5
"Alerting on SLOs" (burn rate = observed bad ratio / (1 − SLO)); OpenSLO v1 (``Occurrences``:
good events / total events over the window; ``Timeslices``: good slices / total slices, a slice
being good when its ratio meets ``timeSliceTarget``; ``rolling`` and ``calendar`` windows).
Every state is decided on unrounded ratios (an SLO at 101.6 % consumed is exhausted, even
though a burn rate rounded to one decimal would read 1.0). Fields and formulas: docs/slo.md.
Display tables of the policy: :mod:`srekit.report.tables.budget`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from types import MappingProxyType
from typing import Any

import numpy as np
import pandas as pd

from srekit.analysis.attribution import Attribution, attribute
from srekit.analysis.breakdown import Breakdown, break_down
from srekit.analysis.calendar import MonthCompliance, monthly_compliance
from srekit.analysis.corrections import CorrectionEffect, correction_effects
from srekit.analysis.slo.events import grid_events, grid_interval, series_interval, sli_events
from srekit.analysis.slo.grid import GridSettings, JourneyGrid, journey_grids
from srekit.core.questions import OpenQuestion
from srekit.core.spec import SLOSpec
from srekit.core.timeutil import format_duration, parse_duration
from srekit.inputs import telemetry as tm
from srekit.inputs.config import ServiceConfig
from srekit.inputs.corrections import Applied

SECTION = "error_budget_policy"
BURN_WINDOWS = ("1h", "6h", "1d", "3d")
STATES = ("healthy", "warning", "critical", "no_data")
# Budget consumed (fraction of the window's error budget) at which a state starts.
STATE_THRESHOLDS: Mapping[str, float] = MappingProxyType({"warning": 0.75, "critical": 1.0})
ACTIONS: Mapping[str, tuple[str, ...]] = MappingProxyType(
    {
        "healthy": (
            "Release normally; the remaining budget may be spent on planned risk (experiments, migrations, "
            "load or chaos tests).",
            "Review the budget once a week in the team meeting.",
        ),
        "warning": (
            "Review risky changes for reliability before release (canary, rollback plan, feature flag).",
            "Schedule the top reliability backlog items into the next sprint.",
            "Check burn rates daily until less than three quarters of the budget is consumed.",
        ),
        "critical": (
            "Freeze risky deploys and feature launches until the budget recovers; only fixes, security patches "
            "and reliability work ship.",
            "Put the team on reliability work: open postmortem action items and the top sources of bad events.",
            "Agree with the product owner whether to invest in reliability or relax the SLO, and record the decision.",
        ),
        "no_data": (
            "Do not treat the SLO as met: its window holds no events. Check that the journey is live and its SLI is "
            "measured (metric names, labels, the telemetry export) before releasing on its strength.",
        ),
    }
)


def exact_consumed(bad: int, total: int, target: float) -> Fraction:
    """Budget consumed = bad / ((1 − target) × total) as an exact fraction (0 without events).

    The target is read as the decimal it was written as (``0.999`` → 999/1000), so a window
    exactly at the objective consumes exactly 1 and the state decision never hangs on a
    floating-point rounding of 1 − target.
    """
    if total <= 0:
        return Fraction(0)
    return Fraction(int(bad)) / ((1 - Fraction(repr(float(target)))) * int(total))


def state_of(consumed: float | Fraction, total_events: int | None = None) -> str:
    """State from the share of the error budget consumed in the current window (unrounded):
    critical when exhausted (≥ 1), warning from three quarters consumed, healthy below;
    ``no_data`` when the window has no events (``total_events`` = 0): an SLO nobody measured
    is not healthy."""
    if total_events == 0:
        return "no_data"
    if consumed >= Fraction(repr(STATE_THRESHOLDS["critical"])):
        return "critical"
    if consumed >= Fraction(repr(STATE_THRESHOLDS["warning"])):
        return "warning"
    return "healthy"


@dataclass(frozen=True, slots=True)
class BudgetStatus:
    """One SLO's error budget in its current window.

    Events are requests (Occurrences on request SLIs), samples (gauge timeslice SLIs) or
    slices (Timeslices budgeting).
    """

    slo: str
    journey: str
    sli: str
    target: float
    budgeting: str
    window_kind: str
    window: pd.Timedelta  # nominal length (the month's length for calendar windows)
    window_start: pd.Timestamp
    window_end: pd.Timestamp  # exclusive: the end of the data
    total_events: int
    bad_events: int
    allowed_bad_events: float  # (1 − target) × total_events
    consumed: float  # bad / allowed; ≥ 0, above 1 when overspent
    allowed_outage: pd.Timedelta  # full-outage time the budget allows: window × (1 − target)
    burn_rates: Mapping[str, float]
    status: str
    event_unit: str  # requests | samples | slices

    def __post_init__(self) -> None:
        if self.total_events < 0 or self.bad_events < 0 or self.bad_events > self.total_events:
            raise ValueError(f"{self.slo}: need 0 ≤ bad_events ≤ total_events")
        if self.consumed < 0 or self.allowed_bad_events < 0:
            raise ValueError(f"{self.slo}: consumed and allowed_bad_events cannot be negative")
        if self.status not in STATES:
            raise ValueError(f"{self.slo}: unknown status {self.status!r}")
        if self.window_end < self.window_start:
            raise ValueError(f"{self.slo}: window ends before it starts")
        object.__setattr__(self, "burn_rates", MappingProxyType(dict(self.burn_rates)))

    @property
    def remaining(self) -> float:
        """Share of the budget left, in [0, 1] (0 once exhausted)."""
        return max(0.0, 1.0 - self.consumed)

    @property
    def good_events(self) -> int:
        return self.total_events - self.bad_events

    def to_dict(self) -> dict[str, Any]:
        return {
            "slo": self.slo,
            "journey": self.journey,
            "sli": self.sli,
            "target": self.target,
            "budgeting": self.budgeting,
            "window_kind": self.window_kind,
            "window_s": int(self.window.total_seconds()),
            "window_start": self.window_start.isoformat(),
            "window_end": self.window_end.isoformat(),
            "event_unit": self.event_unit,
            "total_events": self.total_events,
            "good_events": self.good_events,
            "bad_events": self.bad_events,
            "allowed_bad_events": self.allowed_bad_events,
            "consumed": self.consumed,
            "remaining": self.remaining,
            "allowed_outage_minutes": self.allowed_outage.total_seconds() / 60.0,
            "burn_rates": dict(self.burn_rates),
            "status": self.status,
        }


def _step(events: pd.DataFrame, spec: SLOSpec) -> pd.Timedelta:
    freq = getattr(events.index, "freq", None)
    if freq is not None:
        return pd.Timedelta(freq)
    if len(events) > 1:
        return grid_interval(events.index)
    if spec.budgeting == "Timeslices" and spec.timeslice_window is not None:
        return spec.timeslice_window
    return pd.Timedelta(minutes=1)


def _data_end(events: pd.DataFrame, spec: SLOSpec) -> pd.Timestamp:
    return events.index[-1] + _step(events, spec)


def current_window(
    spec: SLOSpec, as_of: pd.Timestamp, tz: str = "UTC"
) -> tuple[pd.Timestamp, pd.Timestamp, pd.Timedelta]:
    """Start, end (= ``as_of``) and nominal length of the window the budget is judged on.

    Rolling: the trailing ``spec.window``. Calendar month: the month holding the last instant
    before ``as_of`` (month to date; the nominal length is the whole month), in the service's
    timezone ``tz`` as the OpenSLO export declares it (``calendar.timeZone``); the start is
    returned in UTC and a month with a DST switch is an hour shorter or longer.
    """
    if spec.window_kind == "calendar_month":
        last = (as_of - pd.Timedelta(microseconds=1)).tz_convert(tz).tz_localize(None)  # local wall time
        first = pd.Timestamp(year=last.year, month=last.month, day=1)
        # a midnight skipped by DST (some zones switch at 00:00) starts at the first valid instant
        start, nxt = (
            x.tz_localize(tz, ambiguous=True, nonexistent="shift_forward").tz_convert("UTC")
            for x in (first, first + pd.offsets.MonthBegin(1))
        )
        return start, as_of, pd.Timedelta(nxt - start)
    return as_of - spec.window, as_of, spec.window


def _event_unit(spec: SLOSpec) -> str:
    if spec.budgeting == "Timeslices":
        return "slices"
    return "samples" if spec.sli == "timeslice" else "requests"


def burn_rates(
    events: pd.DataFrame, spec: SLOSpec, windows: Sequence[str] = BURN_WINDOWS, *, as_of: pd.Timestamp | None = None
) -> dict[str, float]:
    """Burn rate over each trailing window ending at ``as_of`` (default: end of the events):
    (bad / total in the window) / (1 − target) (SRE Workbook, "Alerting on SLOs"), computed
    exactly (:func:`exact_consumed`). 1 means the budget would last exactly the SLO window; 0
    when the window has no events."""
    if events.empty:
        return {w: 0.0 for w in windows}
    end = as_of if as_of is not None else _data_end(events, spec)
    idx = pd.DatetimeIndex(events.index)
    total, bad = events["total"].to_numpy(), events["bad"].to_numpy()
    hi = int(idx.searchsorted(end, side="left"))
    out = {}
    for w in windows:
        lo = int(idx.searchsorted(end - parse_duration(w), side="left"))
        out[w] = float(exact_consumed(int(bad[lo:hi].sum()), int(total[lo:hi].sum()), spec.target))
    return out


def error_budget(
    events: pd.DataFrame,
    spec: SLOSpec,
    *,
    as_of: pd.Timestamp | None = None,
    windows: Sequence[str] = BURN_WINDOWS,
    tz: str = "UTC",
) -> BudgetStatus:
    """The error budget of one SLO in its current window (``sli_events`` output in).

    allowed bad events = (1 − target) × valid events; consumed = bad / allowed (SRE Workbook,
    "Implementing SLOs"); allowed full-outage time = window × (1 − target). Timeslices count
    slices as events (OpenSLO). Consumed is not rounded before the state is decided.
    Calendar months are those of the timezone ``tz`` (:func:`current_window`).
    """
    if as_of is None:
        as_of = _data_end(events, spec) if not events.empty else pd.Timestamp("1970-01-01", tz="UTC")
    start, end, length = current_window(spec, as_of, tz)
    idx = pd.DatetimeIndex(events.index)
    lo, hi = int(idx.searchsorted(start, side="left")), int(idx.searchsorted(end, side="left"))
    tot = int(events["total"].to_numpy()[lo:hi].sum())
    bad = int(events["bad"].to_numpy()[lo:hi].sum())
    allowed = float((1 - Fraction(repr(float(spec.target)))) * tot)  # the decimal target, as exact_consumed
    exact = exact_consumed(bad, tot, spec.target)
    return BudgetStatus(
        slo=spec.name,
        journey=spec.journey,
        sli=spec.sli,
        target=spec.target,
        budgeting=spec.budgeting,
        window_kind=spec.window_kind,
        window=length,
        window_start=start,
        window_end=end,
        total_events=tot,
        bad_events=bad,
        allowed_bad_events=allowed,
        consumed=float(exact),
        allowed_outage=length * (1.0 - spec.target),
        burn_rates=burn_rates(events, spec, windows, as_of=end),
        status=state_of(exact, tot),
        event_unit=_event_unit(spec),
    )


def burn_down(
    events: pd.DataFrame, spec: SLOSpec, *, as_of: pd.Timestamp | None = None, step: str = "1h", tz: str = "UTC"
) -> pd.DataFrame:
    """Budget consumed and remaining through the current window, at every ``step``:
    cumulative bad events since the window start / the window's allowed bad events."""
    cols = {
        "time": pd.Series([], dtype="datetime64[us, UTC]"),
        "consumed": pd.Series([], dtype=float),
        "remaining": pd.Series([], dtype=float),
    }
    if events.empty:
        return pd.DataFrame(cols)
    if as_of is None:
        as_of = _data_end(events, spec)
    start, end, _ = current_window(spec, as_of, tz)
    part = events[(events.index >= start) & (events.index < end)]
    if part.empty:
        return pd.DataFrame(cols)
    allowed = (1.0 - spec.target) * float(part["total"].sum())
    ends = pd.DatetimeIndex(part.index) + _step(events, spec)
    cum_bad = np.cumsum(part["bad"].to_numpy(dtype=float))
    keep = (ends.as_unit("us").asi8 % (parse_duration(step).value // 1000) == 0) | (
        np.arange(len(part)) == len(part) - 1
    )
    consumed = cum_bad[keep] / allowed if allowed > 0 else np.zeros(int(keep.sum()))
    return pd.DataFrame({"time": ends[keep], "consumed": consumed, "remaining": np.clip(1.0 - consumed, 0.0, 1.0)})


def burn_rate_history(
    events: pd.DataFrame, spec: SLOSpec, windows: Sequence[str] = BURN_WINDOWS, *, step: str = "1h"
) -> pd.DataFrame:
    """Trailing burn rates over the whole history, sampled at every ``step`` (long form:
    time, window, burn_rate), from cumulative sums on the regular grid (request-weighted)."""
    if events.empty:
        return pd.DataFrame(
            {
                "time": pd.Series([], dtype="datetime64[us, UTC]"),
                "window": pd.Series([], dtype="str"),
                "burn_rate": pd.Series([], dtype=float),
            }
        )
    interval = _step(events, spec)
    ends = pd.DatetimeIndex(events.index) + interval
    step_us = parse_duration(step).value // 1000
    keep = np.flatnonzero((ends.as_unit("us").asi8 % step_us == 0) | (np.arange(len(events)) == len(events) - 1))
    # trailing sums over (t − window, t] from cumulative sums, as telemetry.window_sums
    cs_total = np.concatenate([[0], np.cumsum(events["total"].to_numpy(dtype=np.int64))])
    cs_bad = np.concatenate([[0], np.cumsum(events["bad"].to_numpy(dtype=np.int64))])
    times = ends[keep]
    parts = []
    for w in windows:
        n = max(int(parse_duration(w) / interval), 1)
        lo = np.maximum(keep + 1 - n, 0)
        rate = tm.burn_rate(cs_bad[keep + 1] - cs_bad[lo], cs_total[keep + 1] - cs_total[lo], spec.target)
        parts.append(
            pd.DataFrame(
                {"time": times, "window": pd.Categorical([w] * len(keep), categories=list(windows)), "burn_rate": rate}
            )
        )
    return pd.concat(parts, ignore_index=True)


@dataclass(frozen=True, slots=True)
class ErrorBudgetPolicy:
    """The ``error_budget_policy`` section: per-SLO budgets, states and actions."""

    as_of: pd.Timestamp | None  # end of the data; None only when there is no data at all
    budgets: tuple[BudgetStatus, ...]
    open_questions: tuple[OpenQuestion, ...]
    states: Mapping[str, float] = field(default_factory=lambda: STATE_THRESHOLDS)
    actions: Mapping[str, tuple[str, ...]] = field(default_factory=lambda: ACTIONS)
    # plots only (not in report.json): long frames with an `slo` column
    burn_down: pd.DataFrame = field(default_factory=pd.DataFrame, compare=False, repr=False)
    burn_rate_history: pd.DataFrame = field(default_factory=pd.DataFrame, compare=False, repr=False)
    # every SLO's attainment per calendar month over the whole history (srekit.analysis.calendar)
    calendar: tuple[MonthCompliance, ...] = ()
    corrections: tuple[CorrectionEffect, ...] = ()  # service.yaml corrections and what each returned
    attribution: tuple[Attribution, ...] = ()  # per SLO: bad events by incident, deploy hour, background
    breakdown: tuple[Breakdown, ...] = ()  # per SLO and label column: bad events by label value

    def __post_init__(self) -> None:
        if set(self.actions) != set(STATES):
            raise ValueError(f"actions must cover the states {STATES}")

    def to_dict(self) -> dict[str, Any]:
        return {
            "as_of": None if self.as_of is None else self.as_of.isoformat(),
            "slos": [b.to_dict() for b in self.budgets],
            "states": {
                "healthy": {"consumed_below": self.states["warning"]},
                "warning": {"consumed_from": self.states["warning"], "consumed_below": self.states["critical"]},
                "critical": {"consumed_from": self.states["critical"]},
                "no_data": {"total_events": 0},
            },
            "actions": {k: list(v) for k, v in self.actions.items()},
            "calendar": [m.to_dict() for m in self.calendar],
            "corrections": [c.to_dict() for c in self.corrections],
            "attribution": [a.to_dict() for a in self.attribution],
            "breakdown": [b.to_dict() for b in self.breakdown],
        }


def _as_of(telemetry: pd.DataFrame | None, series: pd.DataFrame | None) -> pd.Timestamp | None:
    """End of the data: the last telemetry interval's end, or the last series sample's end."""
    ends = []
    if telemetry is not None and not telemetry.empty:
        ends.append(telemetry["interval_start"].max() + grid_interval(telemetry["interval_start"]))
    if series is not None and not series.empty:
        ends.append(series["timestamp"].max() + series_interval(series["timestamp"]))
    return max(ends) if ends else None


def _no_data_policy() -> ErrorBudgetPolicy:
    """The policy without any telemetry or series: states and actions, no budgets."""
    question = OpenQuestion(
        "no_budget_data",
        "There is no telemetry or series: when will the SLIs be measured?",
        "No error budget can be computed yet; the policy's states and actions still apply once data arrives.",
        SECTION,
    )
    return ErrorBudgetPolicy(None, (), (question,))


@dataclass(frozen=True, slots=True)
class _SloBudget:
    """One SLO's part of the policy: its budget (None when it cannot be measured), its plot
    frames and the questions it raises."""

    status: BudgetStatus | None
    burn_down: pd.DataFrame | None = None
    burn_rate_history: pd.DataFrame | None = None
    questions: tuple[OpenQuestion, ...] = ()
    calendar: tuple[MonthCompliance, ...] = ()
    attribution: Attribution | None = None
    breakdown: tuple[Breakdown, ...] = ()


def _slo_budget(
    spec: SLOSpec,
    grid: JourneyGrid | None,
    series: pd.DataFrame | None,
    as_of: pd.Timestamp,
    config: ServiceConfig,
    history: tuple[pd.DataFrame | None, pd.DataFrame | None, pd.DataFrame | None] = (None, None, None),
) -> _SloBudget:
    """The budget, burn-down and burn-rate history of one SLO at ``as_of``, and who spent it
    (``history``: the incident log, the deploys and the labelled telemetry)."""
    settings = GridSettings.of(config)
    try:
        if spec.sli != "timeslice" and grid is not None:
            events = grid_events(grid, spec, end=as_of - grid.interval, settings=settings)
        else:
            events = sli_events(None, series, spec, settings=settings)
    except ValueError as exc:  # e.g. a latency threshold below the smallest bucket edge
        question = OpenQuestion(
            f"budget_unavailable:{spec.name}",
            f"SLO {spec.name} cannot be measured: {exc}",
            "Left it out of the budget figures.",
            SECTION,
        )
        return _SloBudget(None, questions=(question,))
    status = error_budget(events, spec, as_of=as_of, tz=config.timezone)
    idle = OpenQuestion(
        f"no_events:{spec.name}",
        f"SLO {spec.name} had no events in its current window: is the journey live?",
        "Reported its state as no_data (0 bad of 0 events), not healthy.",
        SECTION,
    )
    spent = attribute(
        events,
        spec,
        window=(status.window_start, status.window_end),
        incidents=history[0],
        deploys=history[1],
        service=config.service,
        journeys=tuple(j.name for j in config.journeys),
    )
    return _SloBudget(
        status,
        burn_down(events, spec, as_of=as_of, tz=config.timezone).assign(slo=spec.name),
        burn_rate_history(events, spec).assign(slo=spec.name),
        (idle,) if status.total_events == 0 else (),
        monthly_compliance(events, spec, end=as_of, tz=config.timezone),
        spent,
        break_down(history[2], spec, window=(status.window_start, status.window_end), end=as_of),
    )


def _thresholds_question(config: ServiceConfig) -> OpenQuestion:
    window = f"{format_duration(config.slo.window)} {config.slo.window_kind.replace('_', ' ')}"
    return OpenQuestion(
        "budget_policy_thresholds",
        "Do the default budget states fit the team (warning from 75% consumed, critical when exhausted)?",
        f"Used them; the window is {window}.",
        SECTION,
    )


def _concat(frames: Sequence[pd.DataFrame | None]) -> pd.DataFrame:
    present = [f for f in frames if f is not None]
    return pd.concat(present, ignore_index=True) if present else pd.DataFrame()


def budget_policy(
    telemetry: pd.DataFrame | None,
    series: pd.DataFrame | None,
    specs: Sequence[SLOSpec],
    config: ServiceConfig,
    *,
    grids: Mapping[str, JourneyGrid] | None = None,
    as_of: pd.Timestamp | None = None,
    corrections: Applied | None = None,
    incidents: pd.DataFrame | None = None,
    deploys: pd.DataFrame | None = None,
    labels: pd.DataFrame | None = None,
) -> ErrorBudgetPolicy:
    """Error budget, burn rates and state of every SLO at the end of the data (or ``as_of``).

    All SLOs are judged at the same ``as_of`` (end of the data, never the clock), so their
    windows line up; journeys with no data in the window have zero events (state ``no_data``,
    flagged as an open question). ``grids`` may pass :func:`~srekit.analysis.slo.grid.journey_grids` of
    ``telemetry`` when the caller has it already. ``corrections``: what loading applied
    (:func:`srekit.inputs.corrections.apply`; the frames given are already corrected), reported with
    the budget each correction returned. ``incidents`` and ``deploys``: who spent each budget
    (:mod:`srekit.analysis.attribution`). ``labels``: the telemetry per journey × label values
    (``Inputs.labels``), each SLO's bad events broken down by them (:mod:`srekit.analysis.breakdown`).
    """
    end = _as_of(telemetry, series)
    if end is None:
        return _no_data_policy()
    as_of = end if as_of is None else as_of
    if telemetry is None or telemetry.empty:
        grids = {}
    elif grids is None:
        grids = journey_grids(telemetry, GridSettings.of(config))
    history = (incidents, deploys, labels)
    parts = [_slo_budget(s, grids.get(s.journey), series, as_of, config, history) for s in specs]
    budgets = tuple(p.status for p in parts if p.status is not None)
    windows = {b.slo: (b.window_start, b.window_end, b.allowed_bad_events) for b in budgets}
    return ErrorBudgetPolicy(
        as_of,
        budgets,
        (*(q for p in parts for q in p.questions), _thresholds_question(config)),
        burn_down=_concat([p.burn_down for p in parts]),
        burn_rate_history=_concat([p.burn_rate_history for p in parts]),
        calendar=tuple(m for p in parts for m in p.calendar),
        corrections=correction_effects(corrections, [s for s in specs if s.name in windows], windows),
        attribution=tuple(p.attribution for p in parts if p.attribution is not None),
        breakdown=tuple(b for p in parts for b in p.breakdown),
    )
