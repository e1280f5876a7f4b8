"""Display tables and the headline sentence of the toil section (report.json ``toil``; docs/toil.md)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd

from srekit.report.tables.format import fmt_pct, frame, left_out, records, section, section_status

_TASK_COLUMNS = ["task", "category", "hours per week", "share of toil", "can be automated", "trend"]
_TASK_DETAIL = [
    "task",
    "category",
    "hours per week",
    "times per week",
    "share of team time",
    "share of toil",
    "can be automated",
    "trend",
    "change (h/week per week, 90% interval)",
]
_CANDIDATE_COLUMNS = [
    "task",
    "saves hours per week",
    "build cost (likely hours)",
    "break-even effort (hours)",
    "pays back in (weeks, likely)",
    "chance it pays back",
]
_CANDIDATE_DETAIL = [
    "task",
    "hours per week now",
    "saves hours per week",
    "build cost (likely hours)",
    "break-even effort (hours)",
    "pays back in (weeks, likely)",
    "pays back in (weeks, 10%–90%)",
    "chance it pays back",
    "net hours saved over the horizon (median)",
    "estimates",
    "self-healing rollback",
]


def toil_summary(report: Mapping[str, Any]) -> str:
    """One or two plain sentences for readers who only read the headline."""
    toil = section(report, "toil")
    if section_status(report, "toil") != "ok":
        return f"Toil could not be analysed in this run: {section_status(report, 'toil')}."
    if not toil:
        return "Toil was not analysed in this run."
    if toil.get("source") == "none":
        return (
            "There is no toil log and no pages log, so toil could not be measured. "
            "Keeping a simple log (date, task, minutes) for a few weeks is the first step."
        )
    basis = "logged" if toil.get("source") == "toil_log" else "estimated from pages"
    text = (
        f"The team spends about {_num(toil.get('toil_hours_per_week')):.1f} hours a week on toil ({basis}), "
        f"{fmt_pct(toil.get('share_of_team_time'), 0)} of its working time; the SRE book's cap is "
        f"{fmt_pct(toil.get('cap'), 0)}" + (" — this is over the cap." if toil.get("over_cap") else ".")
    )
    inventory = records(toil, "inventory")
    if inventory:
        top = inventory[0]
        text += f" The biggest task is '{top.get('task')}' at {_num(top.get('hours_per_week')):.1f} hours a week."
    good = [c for c in records(toil, "candidates") if _num(section(c, "roi").get("p_payback_within_horizon")) >= 0.5]
    if good:
        text += (
            f" {len(good)} automation candidate(s) would more likely than not pay back within "
            f"{toil.get('horizon_weeks')} weeks."
        )
    return text


def toil_table(report: Mapping[str, Any], *, top: int = 10, detail: bool = False) -> pd.DataFrame:
    """The biggest toil drivers; ``detail`` adds how often, the share of team time and the
    trend's slope with its interval."""
    rows = []
    for t in records(section(report, "toil"), "inventory")[:top]:
        trend = section(t, "trend")
        rows.append(
            {
                "task": t.get("task"),
                "category": t.get("category"),
                "hours per week": f"{_num(t.get('hours_per_week')):.1f}",
                "times per week": f"{_num(t.get('occurrences_per_week')):.1f}",
                "share of team time": fmt_pct(t.get("share_of_team_time")),
                "share of toil": fmt_pct(t.get("share_of_toil"), 0),
                "can be automated": _yes_no(t.get("automatable")),
                "trend": trend.get("direction") or "too few weeks",
                "change (h/week per week, 90% interval)": _slope(trend),
            }
        )
    return frame(rows, _TASK_DETAIL if detail else _TASK_COLUMNS, no_toil(report))


def no_toil(report: Mapping[str, Any]) -> str:
    """Why the toil tables are empty."""
    toil = section(report, "toil")
    why = left_out(report, "toil", "toil entries")
    if why and toil.get("source") == "none":
        return why
    if toil.get("source") == "none" or not toil:
        return (
            "There is no toil log and no pages log, so toil could not be measured. Keeping a simple log (date, task, "
            "minutes) for a few weeks is the first step."
        )
    return "No toil task was recorded in the analysed period."


def toil_hours(report: Mapping[str, Any], *, top: int = 10) -> pd.DataFrame:
    """Numbers behind the toil chart: task, hours_per_week (busiest first)."""
    rows = [
        {"task": str(t.get("task")), "hours_per_week": _num(t.get("hours_per_week"))}
        for t in records(section(report, "toil"), "inventory")[:top]
    ]
    return frame(rows, ["task", "hours_per_week"], no_toil(report))


def candidates_table(report: Mapping[str, Any], *, detail: bool = False) -> pd.DataFrame:
    """Automation candidates with their return on investment under uncertainty; ``detail`` adds
    the task's hours now, the payback range, the net hours saved, where the estimates come from
    and the rollback of a self-healing."""
    rows = []
    for c in records(section(report, "toil"), "candidates"):
        roi = section(c, "roi")
        pay, net = section(roi, "payback_weeks"), section(roi, "net_hours_saved")
        rows.append(
            {
                "task": c.get("task"),
                "hours per week now": f"{_num(c.get('hours_per_week')):.1f}",
                "saves hours per week": f"{_num(c.get('saved_hours_per_week')):.1f}",
                "build cost (likely hours)": f"{_num(section(c, 'cost_hours').get('likely')):.0f}",
                "break-even effort (hours)": f"{_num(c.get('break_even_hours')):.0f}",
                "pays back in (weeks, likely)": _weeks(pay.get("p50")),
                "pays back in (weeks, 10%–90%)": _weeks_range(pay.get("p10"), pay.get("p90")),
                "chance it pays back": fmt_pct(roi.get("p_payback_within_horizon"), 0),
                "net hours saved over the horizon (median)": f"{_num(net.get('p50')):.0f}",
                "estimates": c.get("estimates_source"),
                "self-healing rollback": section(c, "self_healing").get("rollback") or "–",
            }
        )
    toil = section(report, "toil")
    why = (
        "No automation candidate: toil could not be measured (see above)."
        if toil.get("source") == "none" or not records(toil, "inventory")
        else "No task is an automation candidate (none is marked automatable, or none takes enough time)."
    )
    return frame(rows, _CANDIDATE_DETAIL if detail else _CANDIDATE_COLUMNS, why)


def _num(x: Any) -> float:
    return float(x or 0.0)


def _yes_no(flag: Any) -> str:
    """``automatable``: true, false, or unknown (null: treated as a candidate, docs/toil.md)."""
    return "unknown" if flag is None else "yes" if flag else "no"


def _weeks(x: Any) -> str:
    return "never" if x is None else f"{float(x):.0f}"


def _weeks_range(low: Any, high: Any) -> str:
    return "never" if low is None else f"{_weeks(low)}–{_weeks(high)}"


def _slope(trend: Mapping[str, Any]) -> str:
    if trend.get("slope_hours_per_week_per_week") is None:
        return "–"
    slope, low, high = (_num(trend.get(k)) for k in ("slope_hours_per_week_per_week", "low", "high"))
    return f"{slope:+.2f} [{low:+.2f}, {high:+.2f}]"
