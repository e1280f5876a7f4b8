"""Display tables of the SLO proposal."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import pandas as pd

from srekit.report.tables.format import fmt_pct, frame, records, section


def slo_table(report: Mapping[str, Any]) -> pd.DataFrame:
    """The SLOs in force: what is measured, the target, the window and why."""
    rows = []
    for s in records(section(report, "slo_proposal"), "slos"):
        what = s.get("sli", "")
        if s.get("threshold_ms") is not None:
            what = f"{what} (≤ {s['threshold_ms']:g} ms)"
        rows.append(
            {
                "SLO": s.get("name"),
                "journey": s.get("journey"),
                "measures": what,
                "target": fmt_pct(s.get("target"), 2),
                "window": s.get("window"),
                "source": s.get("source"),
                "why": s.get("rationale"),
            }
        )
    return frame(rows, ["SLO", "journey", "measures", "target", "window", "source", "why"])


def sli_table(report: Mapping[str, Any]) -> pd.DataFrame:
    """Each SLI: its definition, the query that measures it, and what users feel."""
    rows = [
        {
            "SLI": s.get("name"),
            "definition": s.get("definition"),
            "query": (s.get("source") or {}).get("promql") if isinstance(s.get("source"), Mapping) else s.get("source"),
            "user impact": s.get("user_impact"),
            "provisional": "yes" if s.get("provisional") else "no",
        }
        for s in records(section(report, "slo_proposal"), "slis")
    ]
    return frame(rows, ["SLI", "definition", "query", "user impact", "provisional"])


def options_table(report: Mapping[str, Any]) -> pd.DataFrame:
    """SLO options per journey with their trade-offs."""
    rows = []
    for o in records(section(report, "slo_proposal"), "options"):
        targets = "; ".join(
            f"{ob.get('sli')} {fmt_pct(ob.get('target'), 2)}"
            + (f" ≤ {ob['threshold_ms']:g} ms" if ob.get("threshold_ms") is not None else "")
            for ob in o.get("objectives", [])
            if isinstance(ob, Mapping)
        )
        rows.append(
            {
                "journey": o.get("journey"),
                "option": o.get("name"),
                "recommended": "yes" if o.get("recommended") else "",
                "objectives": targets,
                "past windows met": fmt_pct(o.get("windows_met"), 0),
                "trade-off": o.get("tradeoff"),
            }
        )
    return frame(rows, ["journey", "option", "recommended", "objectives", "past windows met", "trade-off"])


def instrumentation_table(report: Mapping[str, Any]) -> pd.DataFrame:
    """What to emit per journey when there is no telemetry yet (field names as the SLO area
    gives them)."""
    rows = [
        {
            str(k).replace("_", " "): (v if v is None or isinstance(v, str | int | float | bool) else json.dumps(v))
            for k, v in r.items()
        }
        for r in records(section(report, "slo_proposal"), "instrumentation_plan")
    ]
    return pd.DataFrame(rows)
