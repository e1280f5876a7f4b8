"""Display table of the reliability backlog (report.json ``backlog``; docs/backlog.md)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd

from srekit.report.tables.format import frame, records, section

_UNITS = {"budget_minutes_per_quarter": "budget minutes per quarter", "hours_per_quarter": "hours per quarter"}


def backlog_table(report: Mapping[str, Any], *, top: int | None = 15) -> pd.DataFrame:
    """The ranked reliability backlog (the first ``top`` items; ``None``: all). A chaos
    experiment's evidence ends with its burn-rate abort condition."""
    rows = []
    for b in records(section(report, "backlog"), "items")[:top]:
        abort = b.get("abort_condition")
        rows.append(
            {
                "rank": b.get("rank"),
                "item": b.get("title"),
                "category": str(b.get("category") or "").replace("_", " "),
                "owner": b.get("owner"),
                "effort": b.get("effort"),
                "impact": _impact(b.get("impact")),
                "score": "–" if b.get("score") is None else f"{float(b['score']):.2f}",
                "evidence": str(b.get("evidence") or "") + (f". Safety: {abort}" if abort else ""),
            }
        )
    return frame(
        rows,
        ["rank", "item", "category", "owner", "effort", "impact", "score", "evidence"],
        "The backlog is empty: nothing in this report called for reliability work.",
    )


def _impact(impact: Any) -> str:
    if not isinstance(impact, Mapping) or impact.get("value") is None:
        return str(impact)
    unit = str(impact.get("unit", ""))
    return f"{float(impact['value']):,.0f} {_UNITS.get(unit, unit.replace('_', ' '))}"
