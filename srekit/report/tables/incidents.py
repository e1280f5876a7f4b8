"""Display tables of the incident-response section."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd

from srekit.report.tables.format import fmt_duration_s, frame, records, section


def follow_up_table(report: Mapping[str, Any]) -> pd.DataFrame:
    """Incidents whose postmortem or action items are still open."""
    rows = [
        {
            "incident": r.get("incident_id"),
            "title": r.get("title"),
            "severity": r.get("severity"),
            "postmortem": r.get("postmortem"),
            "open action items": r.get("action_items_open"),
            "owner": r.get("owner"),
            "next step": r.get("next_step"),
        }
        for r in records(section(report, "incident_response"), "follow_up")
    ]
    return frame(rows, ["incident", "title", "severity", "postmortem", "open action items", "owner", "next step"])


def incident_metrics_table(report: Mapping[str, Any]) -> pd.DataFrame:
    """Time to detect / acknowledge / mitigate / resolve, with uncertainty."""
    rows = []
    for m in (section(report, "incident_response").get("metrics") or {}).values():
        if not isinstance(m, Mapping):
            continue
        ci = m.get("median_ci_s") or [None, None]
        rows.append(
            {
                "measure": m.get("label"),
                "incidents": m.get("n"),
                "median": fmt_duration_s(m.get("median_s")),
                "likely range of the median": f"{fmt_duration_s(ci[0])} – {fmt_duration_s(ci[1])}",
                "slowest 10% take over": fmt_duration_s(m.get("p90_s")),
            }
        )
    return frame(rows, ["measure", "incidents", "median", "likely range of the median", "slowest 10% take over"])


def recommendations_table(report: Mapping[str, Any]) -> pd.DataFrame:
    """Process changes and the metric that tracks each."""
    rows = [
        {"change": r.get("title"), "why": r.get("evidence"), "track with": r.get("metric_to_track")}
        for r in records(section(report, "incident_response"), "recommendations")
    ]
    return frame(rows, ["change", "why", "track with"])
