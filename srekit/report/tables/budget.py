"""Display tables of the error-budget policy."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd

from srekit.report.tables.format import fmt_pct, frame, records, section


def budget_table(report: Mapping[str, Any]) -> pd.DataFrame:
    """Error budget per SLO at the end of the data."""
    rows = [
        {
            "SLO": b.get("slo"),
            "target": fmt_pct(b.get("target"), 2),
            "budget used": fmt_pct(b.get("consumed"), 0),
            "budget left": fmt_pct(b.get("remaining"), 0),
            "full outage allowed": f"{b['allowed_outage_minutes']:.0f} min"
            if b.get("allowed_outage_minutes") is not None
            else "–",
            "state": b.get("status"),
        }
        for b in records(section(report, "error_budget_policy"), "slos")
    ]
    return frame(rows, ["SLO", "target", "budget used", "budget left", "full outage allowed", "state"])


def budget_consumed(report: Mapping[str, Any]) -> pd.DataFrame:
    """Numbers behind the budget chart: slo, consumed (ratio, may exceed 1), status."""
    rows = [
        {"slo": str(b.get("slo")), "consumed": float(b.get("consumed") or 0.0), "status": str(b.get("status"))}
        for b in records(section(report, "error_budget_policy"), "slos")
    ]
    return frame(rows, ["slo", "consumed", "status"])


def actions_table(report: Mapping[str, Any]) -> pd.DataFrame:
    """What the team does in each budget state."""
    policy = section(report, "error_budget_policy")
    states = policy.get("states") or {}
    rows = []
    for state, actions in (policy.get("actions") or {}).items():
        bounds = states.get(state) or {}
        parts = []
        if "consumed_from" in bounds:
            parts.append(f"from {fmt_pct(bounds['consumed_from'], 0)} used")
        if "consumed_below" in bounds:
            parts.append(f"below {fmt_pct(bounds['consumed_below'], 0)} used")
        when = " and ".join(parts)
        rows.append(
            {
                "state": state,
                "when": when,
                "what the team does": " ".join(actions) if isinstance(actions, list) else str(actions),
            }
        )
    return frame(rows, ["state", "when", "what the team does"])
