"""Display tables of the budget forecast."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd

from srekit.report.tables.format import fmt_pct, frame, records, section


def forecast_table(report: Mapping[str, Any]) -> pd.DataFrame:
    """Monte Carlo forecast of each SLO's next window."""
    fc = section(report, "error_budget_policy").get("forecast") or {}
    rows = []
    for f in records(fc, "per_slo") if isinstance(fc, Mapping) else []:
        q = f.get("consumed_quantiles") or {}
        rows.append(
            {
                "SLO": f.get("slo"),
                "chance of running out": fmt_pct(f.get("p_exhaust"), 0),
                "budget used (likely)": fmt_pct(q.get("p50"), 0),
                "range (10%–90%)": f"{fmt_pct(q.get('p10'), 0)} – {fmt_pct(q.get('p90'), 0)}",
                "days in window": f.get("window_days"),
            }
        )
    return frame(rows, ["SLO", "chance of running out", "budget used (likely)", "range (10%–90%)", "days in window"])


def forecast_risk(report: Mapping[str, Any]) -> pd.DataFrame:
    """Numbers behind the forecast chart: slo, p_exhaust (chance the next window's budget runs out)."""
    fc = section(report, "error_budget_policy").get("forecast") or {}
    rows = [
        {"slo": str(f.get("slo")), "p_exhaust": float(f.get("p_exhaust") or 0.0)}
        for f in (records(fc, "per_slo") if isinstance(fc, Mapping) else [])
    ]
    return frame(rows, ["slo", "p_exhaust"])
