"""The explorer's headline table, built from the report.json-shaped form of one explored choice
(:meth:`srekit.analysis.explore.evaluate.Outcome.to_dict`): the objective, how it held in past
windows, the budget now and what its alerts would have done. The explorer's other tables are
the report's own (``budget_table``, ``backtest_table``, ``alert_detection_table``) on the same
form."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd

from srekit.report.tables.format import fmt_duration_s, fmt_pct, frame, records, section

COLUMNS = ("figure", "value", "what it means")


def objective_text(choice: Mapping[str, Any]) -> str:
    """``99.9% of checkout requests succeed, over 28d rolling windows`` and the like."""
    target = f"{100.0 * float(choice.get('target', 0.0)):.4g}%"
    journey, sli, ms = choice.get("journey"), choice.get("sli"), choice.get("threshold_ms")
    what = {
        "availability": f"of {journey} requests succeed",
        "latency": f"of {journey} requests answer within {ms:g} ms" if ms is not None else "",
        "timeslice": f"of {journey} gauge samples stay at or below {ms:g} ms" if ms is not None else "",
    }.get(str(sli), "")
    window = (
        "calendar months"
        if choice.get("window_kind") == "calendar_month"
        else f"{choice.get('window')} rolling windows"
    )
    slices = " (counted in good time slices)" if choice.get("budgeting") == "Timeslices" else ""
    return f"{target} {what}, over {window}{slices}"


def explore_summary_table(explored: Mapping[str, Any]) -> pd.DataFrame:
    """The explorer's figures: the objective, the SLI over the range, past windows met, budget
    used and left now, the full outage the window allows, and the alerts' pages and tickets per
    week, incidents caught, median delay and precision."""
    choice, past, alerts = (section(explored, k) for k in ("choice", "past_windows", "alerts"))
    budget = next(iter(records(section(explored, "error_budget_policy"), "slos")), {})
    rows = [
        ("Objective", objective_text(choice), f"from {_day(choice.get('start'))} to {_day(choice.get('end'))} (UTC)"),
        ("SLI over the range", fmt_pct(explored.get("sli_ratio"), 3), "good events / valid events"),
        ("Past windows met", _met(past), "past SLO windows (daily steps) in which the objective held"),
        ("Budget used now", fmt_pct(budget.get("consumed"), 1), _state(budget)),
        ("Budget left now", fmt_pct(budget.get("remaining"), 1), "of the current window's error budget"),
        ("Allowed outage", _minutes(budget.get("allowed_outage_minutes")), "full outage the window's budget allows"),
        ("Pages per week", _per_week(alerts, "pages"), "fast-burn alert firings that would wake someone"),
        ("Tickets per week", _per_week(alerts, "tickets"), "slow-burn alert firings"),
        ("Incidents caught", _caught(alerts), "incidents of this journey with an alert during the impact"),
        ("Median delay", fmt_duration_s(alerts.get("median_detection_s")), "incident start to the first alert"),
        ("Precision (pages)", fmt_pct(alerts.get("page_precision"), 0), "pages that fired for a real problem"),
        ("Precision (all alerts)", fmt_pct(alerts.get("precision"), 0), "alerts that fired for a real problem"),
    ]
    return frame([dict(zip(COLUMNS, r, strict=True)) for r in rows], COLUMNS)


def _day(stamp: Any) -> str:
    return "–" if stamp is None else str(stamp)[:16].replace("T", " ")


def _met(past: Mapping[str, Any]) -> str:
    n = int(past.get("windows") or 0)
    if n == 0:
        return "–"
    share = float(past.get("windows_met") or 0.0)
    return f"{round(share * n)} of {n} ({fmt_pct(share, 0)})"


def _state(budget: Mapping[str, Any]) -> str:
    bad, allowed = budget.get("bad_events"), budget.get("allowed_bad_events")
    unit = budget.get("event_unit", "events")
    if bad is None or allowed is None:
        return "–"
    return f"{budget.get('status', '')}: {int(bad):,} bad {unit} of {float(allowed):,.0f} allowed"


def _minutes(value: Any) -> str:
    return "–" if value is None else f"{float(value):,.1f} min"


def _per_week(alerts: Mapping[str, Any], key: str) -> str:
    rate, count = alerts.get(f"{key}_per_week"), alerts.get(key)
    if rate is None:
        return "–"
    return f"{float(rate):.2f} ({int(count or 0)} in {float(alerts.get('weeks') or 0.0):.1f} weeks)"


def _caught(alerts: Mapping[str, Any]) -> str:
    total = alerts.get("incidents")
    return "–" if total is None else f"{alerts.get('incidents_detected')} of {total}"
