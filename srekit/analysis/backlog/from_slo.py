"""Backlog items of SLO work: steady background burn (the forecast's model), exhausted budgets
(the budget policy) and journeys without telemetry (the SLO section's instrumentation plan).
Items of an SLO cite who spent its budget (``error_budget_policy.attribution``: incidents, deploy
hours, background) and where its bad events came from (``breakdown``: a region, a status class)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from srekit.analysis.backlog.model import QUARTER_DAYS, Draft
from srekit.analysis.backlog.read import mapping, num, seq
from srekit.analysis.breakdown import label_sentences

BACKGROUND_SHARE_MIN = 0.25
"""Background burn becomes an item when quiet days alone use this share of the budget…"""
BACKGROUND_P_EXHAUST_MIN = 0.10
"""…or when the forecast gives the budget at least this chance of running out."""


#: A source is named in an item's evidence when it spent at least this share of the bad events.
CITED_SHARE = 0.1


def spent_by(budget: Mapping[str, Any], slo: str) -> str:
    """``"; spent by: background 62%, incident I13 25%; 71% of the bad events in the current
    window came from region eu-west-1"``: the attribution's sources of ``slo`` holding at least
    :data:`CITED_SHARE` of its bad events in the current window (over the history when the window
    has none), and every label value holding most of them; empty when nothing is known."""
    parts = []
    for a in seq(budget.get("attribution")):
        a = mapping(a)
        if a.get("slo") != slo:
            continue
        key = "share_window" if a.get("bad_events_window") else "share"
        cited = [(mapping(s), num(mapping(s).get(key))) for s in seq(a.get("sources"))]
        cited = [(s, share) for s, share in cited if share is not None and share >= CITED_SHARE]
        listed = any(s.get("kind") == "deploy" for s, _ in cited)
        named = [f"{_source_words(s, listed)} {share:.0%}" for s, share in cited]
        if named:
            where = "in the current window" if key == "share_window" else "over the history"
            parts.append(f"spent {where} by: " + ", ".join(named))
    parts += label_sentences([mapping(b) for b in seq(budget.get("breakdown"))], slo)
    return "".join(f"; {p}" for p in parts)


def _source_words(src: Mapping[str, Any], listed_deploys: bool) -> str:
    """An attribution source in the evidence's words (``listed_deploys``: some deploy hour is
    cited on its own, so the rest are the *other* deploys)."""
    kind = src.get("kind")
    if kind == "incident":
        return f"incident {src.get('id')}"
    if kind == "deploy":
        return f"the hour after deploy {src.get('id')}"
    if kind == "other_deploys" and not listed_deploys:
        return "the hours after deploys"
    return "the hours after other deploys" if kind == "other_deploys" else "background"


def forecast_items(forecast: Mapping[str, Any], policy: Mapping[str, Any] | None = None) -> list[Draft]:
    """Reduce the steady background burn of an SLO whose quiet days use much of its budget
    (``policy``: the budget policy payload, whose attribution the evidence cites)."""
    models = mapping(mapping(forecast.get("model")).get("per_slo"))
    spending = mapping(policy)
    out = []
    for f in seq(forecast.get("per_slo")):
        f = mapping(f)
        name = str(f.get("slo"))
        bg = num(mapping(models.get(name)).get("background_budget_minutes_per_day_median"))
        budget, days = num(f.get("budget_minutes")), num(f.get("window_days"))
        if bg is None or bg <= 0 or not budget or not days:
            continue
        share = bg * days / budget
        p = num(f.get("p_exhaust"))
        if share < BACKGROUND_SHARE_MIN and (p is None or p < BACKGROUND_P_EXHAUST_MIN):
            continue
        out.append(
            Draft(
                f"Reduce the steady background error burn of {name}",
                "slo",
                bg * QUARTER_DAYS,
                "budget_minutes_per_quarter",
                "M",
                f"quiet days burn {bg:.2f} budget minutes/day (median), {share:.0%} of the {days:g}-day budget "
                f"of {budget:.1f} min"
                + (f"; forecast exhaustion probability {p:.0%}" if p is not None else "")
                + spent_by(spending, name),
                "error_budget_policy",
                journey=str(f.get("journey")) if f.get("journey") else None,
                slo_budget_per_quarter=budget * QUARTER_DAYS / days,
            )
        )
    return out


def slo_items(slo: Mapping[str, Any], budget: Mapping[str, Any]) -> list[Draft]:
    """Exhausted budgets, then journeys the SLO section could not measure."""
    return [*_exhausted_items(budget), *_instrumentation_items(slo)]


def _exhausted_items(budget: Mapping[str, Any]) -> list[Draft]:
    """Exhausted budgets from the budget policy payload (``consumed`` ≥ 1 in the current window):
    impact = the overspend scaled to a quarter."""
    out = []
    for b in seq(budget.get("slos")) + seq(budget.get("budgets")):
        b = mapping(b)
        consumed = num(b.get("consumed"))
        minutes = num(b.get("allowed_outage_minutes"))
        if minutes is None:
            minutes = num(b.get("budget_minutes"))
        window_s = num(b.get("window_s"))
        days = window_s / 86400.0 if window_s else num(b.get("window_days"))
        name = b.get("slo") or b.get("name")
        if consumed is None or minutes is None or not days or not name or consumed < 1.0:
            continue
        out.append(
            Draft(
                f"Apply the error budget policy for {name}: budget exhausted",
                "slo",
                (consumed - 1.0) * minutes * QUARTER_DAYS / days,
                "budget_minutes_per_quarter",
                "S",
                f"{consumed:.0%} of the {days:g}-day budget ({minutes:.1f} full-outage minutes) consumed in the "
                "current window; the overspend is the impact" + spent_by(budget, str(name)),
                "error_budget_policy",
                journey=str(b.get("journey")) if b.get("journey") else None,
                slo_budget_per_quarter=minutes * QUARTER_DAYS / days,
            )
        )
    return out


def _instrumentation_items(slo: Mapping[str, Any]) -> list[Draft]:
    """Journeys in the SLO section's instrumentation plan: impact unknown until measured, so 0."""
    out = []
    for step in seq(slo.get("instrumentation_plan")):
        step = mapping(step)
        journey = step.get("journey")
        if not journey:
            continue
        out.append(
            Draft(
                f"Instrument journey '{journey}': emit {step.get('counter')} and {step.get('histogram')}",
                "slo",
                0.0,
                "budget_minutes_per_quarter",
                "S",
                f"no telemetry for this journey, so its SLO is provisional and its budget impact cannot be measured "
                f"yet (impact 0 until it is); {step.get('why') or ''}".rstrip("; "),
                "slo_proposal",
                journey=str(journey),
            )
        )
    return out
