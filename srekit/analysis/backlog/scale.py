"""What the team has in a quarter, the scale every impact is weighed against: error-budget
minutes per SLO and engineer hours (docs/backlog.md, "The ranking scale")."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from srekit.analysis.backlog import SECTION
from srekit.analysis.backlog.model import QUARTER_DAYS, QUARTER_WEEKS
from srekit.analysis.backlog.read import mapping, minutes_between, num, seq
from srekit.core.questions import OpenQuestion
from srekit.inputs.config import ServiceConfig

DEFAULT_TARGET = 0.999
DEFAULT_TEAM_SIZE = 8
DEFAULT_HOURS_PER_WEEK = 40.0


@dataclass(frozen=True, slots=True)
class Scale:
    budget_per_quarter: float  # default budget minutes per quarter (strictest known SLO)
    per_slo: Mapping[str, float]
    team_hours: float
    history_days: float | None


def quarterly_budget(target: float, window_days: float | None = None, budget_minutes: float | None = None) -> float:
    """Budget minutes per quarter: ``(1 − target) × 91 days × 1440`` (SRE Workbook, "Implementing
    SLOs": a 99.9% SLO allows 43.2 minutes in 30 days), or a window's budget scaled to 91 days."""
    if budget_minutes is not None and window_days:
        return budget_minutes * QUARTER_DAYS / window_days
    return (1.0 - target) * QUARTER_DAYS * 1440.0


def quarter_scale(
    config: ServiceConfig,
    forecast: Mapping[str, Any],
    toil: Mapping[str, Any],
    alerting: Mapping[str, Any],
    slo: Mapping[str, Any],
) -> tuple[Scale, tuple[OpenQuestion, ...]]:
    """The quarter's budget minutes (per SLO and the strictest), team hours and history length,
    with the open questions the defaults among them raise."""
    per_slo = _slo_budgets(forecast, slo)
    budget, budget_questions = _default_budget(per_slo, config)
    hours_per_week, team_questions = _team_hours_per_week(toil, config)
    scale = Scale(budget, per_slo, hours_per_week * QUARTER_WEEKS, _history_days(forecast, alerting))
    return scale, (*budget_questions, *team_questions)


def per_quarter(value_over_history: float, scale: Scale) -> float:
    """A total over the history scaled to a quarter; the total itself when the history length is
    unknown (the draft then says ``scaled_by_history`` and the backlog asks about it)."""
    if scale.history_days:
        return value_over_history * QUARTER_DAYS / scale.history_days
    return value_over_history


def history_questions(scale: Scale, scaled: bool) -> tuple[OpenQuestion, ...]:
    """Ask for the history length when some impact is a history total and the length is unknown."""
    if scale.history_days or not scaled:
        return ()
    return (
        OpenQuestion(
            "backlog_history",
            "How long a period does the incident log cover?",
            "History length unknown (no telemetry span): incident totals are taken as one quarter's worth.",
            SECTION,
        ),
    )


def _slo_budgets(forecast: Mapping[str, Any], slo: Mapping[str, Any]) -> dict[str, float]:
    """Budget minutes per quarter by SLO name: the forecast's windows, else the SLO targets."""
    per_slo: dict[str, float] = {}
    for f in seq(forecast.get("per_slo")):
        f = mapping(f)
        b, w, name = num(f.get("budget_minutes")), num(f.get("window_days")), f.get("slo")
        if b and w and name:
            per_slo[str(name)] = quarterly_budget(0.0, w, b)
    for s in seq(slo.get("slos")) + seq(slo.get("proposals")):
        s = mapping(s)
        t, name = num(s.get("target")), s.get("name") or s.get("slo")
        if t is not None and 0 < t < 1 and name and str(name) not in per_slo:
            per_slo[str(name)] = quarterly_budget(t)
    return per_slo


def _default_budget(per_slo: Mapping[str, float], config: ServiceConfig) -> tuple[float, tuple[OpenQuestion, ...]]:
    """The strictest known SLO's quarterly budget, else the strictest configured target's, else
    a 99.9% SLO's (with an open question)."""
    targets = [j.availability_target for j in config.journeys if j.availability_target] + list(
        j.latency_target for j in config.journeys if j.latency_target
    )
    if per_slo:
        return min(per_slo.values()), ()
    if targets:
        return quarterly_budget(max(targets)), ()
    budget = quarterly_budget(DEFAULT_TARGET)
    question = OpenQuestion(
        "backlog_budget_scale",
        "Which SLO target should rank budget-saving work?",
        f"No SLO target known: budget impacts are weighed against a {DEFAULT_TARGET:.1%} SLO "
        f"({budget:.0f} budget minutes per quarter).",
        SECTION,
    )
    return budget, (question,)


def _team_hours_per_week(toil: Mapping[str, Any], config: ServiceConfig) -> tuple[float, tuple[OpenQuestion, ...]]:
    """The toil section's capacity, else the configured team × hours, else 8 × 40 h (asked)."""
    cap = num(mapping(toil.get("team")).get("capacity_hours_per_week"))
    if cap is not None:
        return cap, ()
    size = config.toil.team_size or config.oncall.engineers
    if size:
        return size * config.toil.hours_per_week, ()
    question = OpenQuestion(
        "backlog_team_scale",
        "How many engineers does the team have?",
        f"Team size unknown: hour impacts are weighed against {DEFAULT_TEAM_SIZE} engineers × "
        f"{DEFAULT_HOURS_PER_WEEK:g} h/week.",
        SECTION,
    )
    return DEFAULT_TEAM_SIZE * DEFAULT_HOURS_PER_WEEK, (question,)


def _history_days(forecast: Mapping[str, Any], alerting: Mapping[str, Any]) -> float | None:
    """Days of history: the longest forecast model history, else the alerting backtest span;
    None when unknown."""
    models = mapping(mapping(forecast.get("model")).get("per_slo"))
    history = [h for m in models.values() if (h := num(mapping(m).get("history_days")))]
    if history:
        return max(history)
    bt = mapping(alerting.get("backtest"))
    span = minutes_between(bt.get("start"), bt.get("end"))
    return span / 1440.0 if span else None
