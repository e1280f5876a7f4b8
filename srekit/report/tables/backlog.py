"""Display tables of the reliability backlog."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd

from srekit.report.tables.format import frame, records, section


def backlog_table(report: Mapping[str, Any], *, top: int = 15) -> pd.DataFrame:
    """The ranked reliability backlog."""
    rows = []
    for b in records(section(report, "backlog"), "items")[:top]:
        impact = b.get("impact") or {}
        shown = (
            f"{float(impact['value']):,.0f} {str(impact.get('unit', '')).replace('_', ' ')}"
            if isinstance(impact, Mapping) and impact.get("value") is not None
            else str(impact)
        )
        rows.append(
            {
                "rank": b.get("rank"),
                "item": b.get("title"),
                "owner": b.get("owner"),
                "effort": b.get("effort"),
                "impact": shown,
                "evidence": b.get("evidence"),
            }
        )
    return frame(rows, ["rank", "item", "owner", "effort", "impact", "evidence"])
