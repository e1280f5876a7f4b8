"""Display tables of the alerting section."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd

from srekit.report.tables.format import fmt_duration_s, fmt_pct, frame, records, section


def alert_policy_table(report: Mapping[str, Any]) -> pd.DataFrame:
    """The burn-rate rules: which alert, page or ticket, over which windows."""
    rows = [
        {
            "alert": p.get("alert"),
            "SLO": p.get("slo"),
            "sends": p.get("severity"),
            "windows": f"{p.get('long_window')} and {p.get('short_window')}",
            "fires when budget burns at": f"{float(p['burn_rate']):.1f}× the sustainable rate"
            if p.get("burn_rate") is not None
            else "–",
        }
        for p in records(section(report, "alerting"), "policy")
    ]
    return frame(rows, ["alert", "SLO", "sends", "windows", "fires when budget burns at"])


def backtest_table(report: Mapping[str, Any]) -> pd.DataFrame:
    """How the rules would have behaved on history (overall, pages only, each rule)."""
    bt = section(report, "alerting").get("backtest") or {}
    recs = [bt[k] for k in ("overall", "overall_pages") if isinstance(bt.get(k), Mapping)] + records(bt, "rules")
    rows = [
        {
            "rule": r.get("rule"),
            "sends": r.get("severity"),
            "fired": r.get("firings"),
            "fired for a real problem": fmt_pct(r.get("precision"), 0),
            "incidents caught": f"{r.get('incidents_detected')} of {r.get('incidents')}",
            "median time to fire": fmt_duration_s(r.get("median_detection_s")),
            "pages per week": "–" if r.get("pages_per_week") is None else f"{float(r['pages_per_week']):.1f}",
        }
        for r in recs
    ]
    return frame(
        rows,
        [
            "rule",
            "sends",
            "fired",
            "fired for a real problem",
            "incidents caught",
            "median time to fire",
            "pages per week",
        ],
    )


def runbooks_table(report: Mapping[str, Any]) -> pd.DataFrame:
    """The runbook each alert needs (files are in the run's rules folder)."""
    rows = [
        {"alert": r.get("alert"), "sends": r.get("severity"), "runbook": r.get("file")}
        for r in records(section(report, "alerting"), "runbooks")
    ]
    return frame(rows, ["alert", "sends", "runbook"])
