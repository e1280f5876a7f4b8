"""Display tables of the toil section."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd

from srekit.report.tables.format import fmt_pct, frame, records, section


def toil_table(report: Mapping[str, Any], *, top: int = 10) -> pd.DataFrame:
    """The biggest toil drivers."""
    rows = [
        {
            "task": t.get("task"),
            "category": t.get("category"),
            "hours per week": f"{float(t.get('hours_per_week') or 0):.1f}",
            "share of toil": fmt_pct(t.get("share_of_toil"), 0),
            "can be automated": "yes" if t.get("automatable") else "no",
            "trend": (t.get("trend") or {}).get("direction") if isinstance(t.get("trend"), Mapping) else t.get("trend"),
        }
        for t in records(section(report, "toil"), "inventory")[:top]
    ]
    return frame(rows, ["task", "category", "hours per week", "share of toil", "can be automated", "trend"])


def toil_hours(report: Mapping[str, Any], *, top: int = 10) -> pd.DataFrame:
    """Numbers behind the toil chart: task, hours_per_week (busiest first)."""
    rows = [
        {"task": str(t.get("task")), "hours_per_week": float(t.get("hours_per_week") or 0.0)}
        for t in records(section(report, "toil"), "inventory")[:top]
    ]
    return frame(rows, ["task", "hours_per_week"])


def candidates_table(report: Mapping[str, Any]) -> pd.DataFrame:
    """Automation candidates with their return on investment under uncertainty."""
    rows = []
    for c in records(section(report, "toil"), "candidates"):
        roi = c.get("roi") or {}
        pay = roi.get("payback_weeks") or {}
        cost = c.get("cost_hours") or {}
        rows.append(
            {
                "task": c.get("task"),
                "saves hours per week": f"{float(c.get('saved_hours_per_week') or 0):.1f}",
                "build cost (likely hours)": cost.get("likely"),
                "pays back in (weeks, likely)": f"{pay['p50']:.0f}" if pay.get("p50") is not None else "–",
                "chance it pays back": fmt_pct(roi.get("p_payback_within_horizon"), 0),
            }
        )
    return frame(
        rows,
        [
            "task",
            "saves hours per week",
            "build cost (likely hours)",
            "pays back in (weeks, likely)",
            "chance it pays back",
        ],
    )
