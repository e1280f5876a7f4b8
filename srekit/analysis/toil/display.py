"""Display tables of the toil result (moving to :mod:`srekit.report.tables.toil`)."""

from __future__ import annotations

import pandas as pd

from srekit.analysis.toil.analyze import ToilReport


def inventory_table(report: ToilReport, *, top: int = 15) -> pd.DataFrame:
    """The inventory as a display table (rounded for reading only)."""
    rows = [
        {
            "task": t.task,
            "category": t.category,
            "hours per week": round(t.hours_per_week, 1),
            "times per week": round(t.occurrences_per_week, 1),
            "share of team time": f"{t.share_of_team_time:.1%}",
            "trend (h/week per week)": "too few weeks"
            if t.trend is None
            else f"{t.trend.slope:+.2f} [{t.trend.low:+.2f}, {t.trend.high:+.2f}] {t.trend.direction}",
        }
        for t in report.inventory[:top]
    ]
    return pd.DataFrame(
        rows,
        columns=[
            "task",
            "category",
            "hours per week",
            "times per week",
            "share of team time",
            "trend (h/week per week)",
        ],
    )


def candidates_table(report: ToilReport) -> pd.DataFrame:
    """Automation candidates as a display table (rounded for reading only)."""

    def weeks(v: float | None) -> str:
        return "never" if v is None else f"{v:.0f}"

    rows = [
        {
            "task": c.task,
            "hours per week now": round(c.hours_per_week, 1),
            "build cost (h, likely)": round(c.cost_hours.likely, 0),
            "break-even effort (h)": round(c.break_even_hours, 0),
            "chance it pays back": f"{c.roi.p_payback_within_horizon:.0%}",
            "payback weeks (p10/p50/p90)": "/".join(weeks(v) for v in c.roi.payback_weeks),
            "net hours saved (p50)": round(c.roi.net_hours_saved[1], 0),
            "estimates": c.estimates_source,
            "self-healing rollback": c.self_healing.rollback if c.self_healing else "–",
        }
        for c in report.candidates
    ]
    return pd.DataFrame(
        rows,
        columns=[
            "task",
            "hours per week now",
            "build cost (h, likely)",
            "break-even effort (h)",
            "chance it pays back",
            "payback weeks (p10/p50/p90)",
            "net hours saved (p50)",
            "estimates",
            "self-healing rollback",
        ],
    )


def weekly_top(report: ToilReport, n: int = 5) -> pd.DataFrame:
    """Weekly hours of the ``n`` biggest tasks (columns in inventory order), for the trend chart."""
    names = [t.task for t in report.inventory[:n] if t.task in report.weekly.columns]
    return report.weekly.loc[:, names]


def summary(report: ToilReport) -> str:
    """One or two plain sentences for readers who only read the headline."""
    if report.source == "none":
        return (
            "There is no toil log and no pages log, so toil could not be measured. "
            "Keeping a simple log (date, task, minutes) for a few weeks is the first step."
        )
    basis = "logged" if report.source == "toil_log" else "estimated from pages"
    top = report.inventory[0] if report.inventory else None
    text = (
        f"The team spends about {report.toil_hours_per_week:.1f} hours a week on toil ({basis}), "
        f"{report.share_of_team_time:.0%} of its working time; the SRE book's cap is {report.cap:.0%}"
        + (" — this is over the cap." if report.over_cap else ".")
    )
    if top is not None:
        text += f" The biggest task is '{top.task}' at {top.hours_per_week:.1f} hours a week."
    good = [c for c in report.candidates if c.roi.p_payback_within_horizon >= 0.5]
    if good:
        text += (
            f" {len(good)} automation candidate(s) would more likely than not pay back within "
            f"{report.horizon_weeks} weeks."
        )
    return text
