"""Display tables of the summary, the inputs and the open questions."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import PurePath
from typing import Any

import pandas as pd

from srekit.report.contract import SECTION_TITLES
from srekit.report.tables.format import fmt_duration_s, fmt_pct, frame, records, section


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


def _ms(value: Any) -> str:
    return "–" if value is None or value != value else f"{float(value):,.0f}"


def ranges_table(report: Mapping[str, Any]) -> pd.DataFrame:
    """The time range each input covers."""
    rows = [
        {
            "input": r.get("kind"),
            "rows": f"{int(r.get('rows') or 0):,}",
            "from (UTC)": _stamp(r.get("start")),
            "to (UTC)": _stamp(r.get("end")),
            "days": "–" if r.get("days") is None else f"{float(r['days']):,.1f}",
        }
        for r in (section(report, "inputs").get("ranges") or {}).values()
        if isinstance(r, Mapping)
    ]
    return frame(rows, ["input", "rows", "from (UTC)", "to (UTC)", "days"])


def journeys_table(report: Mapping[str, Any]) -> pd.DataFrame:
    """Requests, failures and response times per journey over the whole period, busiest first."""
    rows = [
        {
            "journey": j.get("name"),
            "requests": f"{int(j.get('requests') or 0):,}",
            "share of traffic": fmt_pct(j.get("traffic_share"), 1),
            "failed": fmt_pct(j.get("error_ratio"), 3),
            "median response (ms)": _ms(j.get("p50_ms")),
            "99% answered within (ms)": _ms(j.get("p99_ms")),
            "critical": "yes" if j.get("critical") else "no",
        }
        for j in records(section(report, "inputs"), "journeys")
    ]
    columns = ["journey", "requests", "share of traffic", "failed", "median response (ms)"]
    return frame(rows, [*columns, "99% answered within (ms)", "critical"])


def ledger_table(report: Mapping[str, Any]) -> pd.DataFrame:
    """The data-quality ledger: one row per input file, with what was rejected and why."""
    rows = [
        {
            "input": e.get("kind"),
            "file": PurePath(str(e.get("source") or "")).name,
            "rows read": f"{int(e.get('rows_read') or 0):,}",
            "accepted": f"{int(e.get('rows_accepted') or 0):,}",
            "rejected": f"{int(e.get('rows_rejected') or 0):,}",
            "why rejected": _counts(e.get("rejected")),
            "notes": _counts(e.get("notes")),
        }
        for e in records(section(report, "inputs"), "ledger")
    ]
    return frame(rows, ["input", "file", "rows read", "accepted", "rejected", "why rejected", "notes"])


def _counts(counts: Any) -> str:
    if not isinstance(counts, Mapping) or not counts:
        return "–"
    return "; ".join(
        f"{str(k).replace('_', ' ')}: {v:,}" if isinstance(v, int) else f"{k}: {v}" for k, v in counts.items()
    )


def _stamp(value: Any) -> str:
    if not value:
        return "–"
    try:
        return pd.Timestamp(str(value)).tz_convert("UTC").strftime("%Y-%m-%d %H:%M")
    except (ValueError, TypeError):
        return str(value)


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
