"""Display tables of the summary, the inputs and the open questions."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd

from srekit.report.contract import SECTION_TITLES
from srekit.report.tables.format import fmt_duration_s, fmt_pct, frame, section


def summary_figures_table(report: Mapping[str, Any]) -> pd.DataFrame:
    """The headline figures in plain words."""
    f = section(report, "summary").get("figures") or {}
    rows = [
        ("Requests served", f"{f['requests']:,}" if f.get("requests") else "–"),
        ("Requests that succeeded", fmt_pct(f.get("success_ratio"), 3)),
        ("SLOs healthy", f"{f['slos'] - f['slos_at_risk']} of {f['slos']}" if f.get("slos") else "–"),
        (
            "Most-used error budget",
            f"{f.get('worst_slo')}: {fmt_pct(f.get('worst_slo_consumed'), 0)} used" if f.get("worst_slo") else "–",
        ),
        (
            "Highest chance of running out of budget next window",
            f"{f.get('forecast_slo')}: {fmt_pct(f.get('forecast_p_exhaust'), 0)}" if f.get("forecast_slo") else "–",
        ),
        (
            "Incidents (still open)",
            f"{f['incidents']} ({f.get('open_incidents') or 0})" if f.get("incidents") is not None else "–",
        ),
        ("Median time to resolve an incident", fmt_duration_s(f.get("ttr_median_s"))),
        ("Backlog items", str(f.get("backlog_items", "–"))),
        ("Assumptions to confirm", str(f.get("open_questions", 0))),
    ]
    return frame([{"figure": a, "value": b} for a, b in rows], ["figure", "value"])


def journeys_display(mix: pd.DataFrame) -> pd.DataFrame:
    """:func:`srekit.analysis.overview.traffic_mix` in plain words and rounded for reading."""
    return pd.DataFrame(
        {
            "journey": mix["journey"].astype(str),
            "requests": [f"{int(v):,}" for v in mix["requests"]],
            "share of traffic": [fmt_pct(v, 1) for v in mix["traffic_share"]],
            "failed": [fmt_pct(v, 3) for v in mix["error_ratio"]],
            "median response (ms)": [("–" if v != v else f"{v:,.0f}") for v in mix["p50_ms"]],
            "99% answered within (ms)": [("–" if v != v else f"{v:,.0f}") for v in mix["p99_ms"]],
        }
    )


def questions_table(report: Mapping[str, Any]) -> pd.DataFrame:
    """Open questions / assumptions in plain words."""
    qs = report.get("open_questions") or []
    rows = [
        {
            "section": SECTION_TITLES.get(str(q.get("section")), q.get("section")),
            "question": q.get("question"),
            "assumed meanwhile": q.get("assumption"),
        }
        for q in qs
        if isinstance(q, Mapping)
    ]
    return frame(rows, ["section", "question", "assumed meanwhile"])
