"""Display tables of the SLO proposal (``slo_proposal`` in report.json, fields in docs/slo.md):
one function per table, read by report.md, the report notebook and notebook 02. ``detail=True``
adds the columns the SLO notebook shows beyond the report's."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import pandas as pd

from srekit.report.tables.format import fmt_duration_s, fmt_pct, frame, records, section


def _budgeting(s: Mapping[str, Any]) -> str:
    """The budgeting method; for Timeslices, how long a slice is and when it is good."""
    method = str(s.get("budgeting", ""))
    if method != "Timeslices" or s.get("timeslice_window_s") is None:
        return method
    return (
        f"{method} ({fmt_duration_s(s['timeslice_window_s'])} slices, good at ≥ {fmt_pct(s.get('timeslice_target'))})"
    )


def slo_table(report: Mapping[str, Any], *, detail: bool = False) -> pd.DataFrame:
    """The SLOs in force: what is measured, the target, the window and why (``detail``: also
    the window kind and the budgeting method)."""
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
                "window kind": str(s.get("window_kind", "")).replace("_", " "),
                "budgeting": _budgeting(s),
                "source": s.get("source"),
                "why": s.get("rationale"),
            }
        )
    extra = ["window kind", "budgeting"] if detail else []
    return frame(rows, ["SLO", "journey", "measures", "target", "window", *extra, "source", "why"])


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


def _budget_used(r: Mapping[str, Any]) -> str:
    """Median and 90th percentile of the budget past windows consumed."""
    return f"{fmt_pct(r.get('budget_consumed_median'), 0)} / {fmt_pct(r.get('budget_consumed_p90'), 0)}"


def threshold_table(report: Mapping[str, Any]) -> pd.DataFrame:
    """Latency thresholds the history supports, per journey and target, with their bootstrap
    interval and how they would have fared in past SLO windows."""
    rows = []
    for p in records(section(report, "slo_proposal"), "threshold_proposals"):
        ci = p.get("threshold_ci_ms") or [None, None]
        rows.append(
            {
                "journey": p.get("journey"),
                "kind": p.get("kind"),
                "target": fmt_pct(p.get("target"), 1),
                "threshold (ms)": f"{p['threshold_ms']:g}" if p.get("threshold_ms") is not None else "–",
                "95% interval (ms)": f"{ci[0]:g} – {ci[1]:g}" if None not in ci else "–",
                "past windows met": fmt_pct(p.get("windows_met"), 0),
                "budget used (median / p90)": _budget_used(p),
                "enough data": "no" if p.get("too_little_data") else "yes",
            }
        )
    columns = ["journey", "kind", "target", "threshold (ms)", "95% interval (ms)", "past windows met"]
    return frame(rows, [*columns, "budget used (median / p90)", "enough data"])


def options_table(report: Mapping[str, Any], *, detail: bool = False) -> pd.DataFrame:
    """SLO options per journey with their trade-offs (``detail``: also how many past windows
    they were judged on and the budget those windows used)."""
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
                "past windows": o.get("windows"),
                "budget used (median / p90)": _budget_used(o),
                "trade-off": o.get("tradeoff"),
            }
        )
    extra = ["past windows", "budget used (median / p90)"] if detail else []
    return frame(rows, ["journey", "option", "recommended", "objectives", "past windows met", *extra, "trade-off"])


def instrumentation_table(report: Mapping[str, Any]) -> pd.DataFrame:
    """What to emit per journey when there is no telemetry yet."""
    rows = [
        {
            "journey": r.get("journey"),
            "counter": r.get("counter"),
            "histogram": r.get("histogram"),
            "bucket edges ms": json.dumps(r.get("bucket_edges_ms")),
            "why": r.get("why"),
        }
        for r in records(section(report, "slo_proposal"), "instrumentation_plan")
    ]
    return frame(rows, ["journey", "counter", "histogram", "bucket edges ms", "why"])
