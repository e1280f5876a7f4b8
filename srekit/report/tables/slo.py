"""Display tables of the SLO proposal (``slo_proposal`` in report.json, fields in docs/slo.md):
one function per table, read by report.md, the report notebook and notebook 02. ``detail=True``
adds the columns the SLO notebook shows beyond the report's."""

from __future__ import annotations

import math
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


#: Where an SLO in force came from, in words (``slos[].source``).
SOURCES = {
    "service.yaml": "set in service.yaml",
    "given": "given (OpenSLO or imported)",
    "option:balanced": "proposed: the balanced option",
    "provisional": "provisional: no data yet",
}


def measures(s: Mapping[str, Any]) -> str:
    """What an SLO counts, in words that follow the data: requests, or samples of a series."""
    kind, t = str(s.get("sli", "")), s.get("threshold_ms")
    if kind == "availability":
        return "availability: requests that succeed"
    if kind == "latency" and t is not None:
        return f"latency: requests answered within {t:g} ms"
    if kind == "timeslice" and t is not None:
        return f"series samples at or below {t:g} ms"
    return kind


def _no_slos(report: Mapping[str, Any]) -> str:
    return "No SLO is in force: there is no telemetry, series or target in service.yaml to base one on."


def slo_table(report: Mapping[str, Any], *, detail: bool = False) -> pd.DataFrame:
    """The SLOs in force: what is measured, the target, the window and why (``detail``: also
    the window kind and the budgeting method)."""
    rows = []
    for s in records(section(report, "slo_proposal"), "slos"):
        what = measures(s)
        rows.append(
            {
                "SLO": s.get("name"),
                "journey": s.get("journey"),
                "measures": what,
                "target": fmt_pct(s.get("target"), 2),
                "window": s.get("window"),
                "window kind": str(s.get("window_kind", "")).replace("_", " "),
                "budgeting": _budgeting(s),
                "source": SOURCES.get(str(s.get("source")), s.get("source")),
                "why": s.get("rationale"),
            }
        )
    extra = ["window kind", "budgeting"] if detail else []
    return frame(rows, ["SLO", "journey", "measures", "target", "window", *extra, "source", "why"], _no_slos(report))


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
    return frame(rows, ["SLI", "definition", "query", "user impact", "provisional"], _no_slos(report))


def windows_met(r: Mapping[str, Any]) -> str:
    """Share of past windows met; with too little history, the count and that it is too little."""
    if not r.get("too_little_history"):
        return fmt_pct(r.get("windows_met"), 0)
    n = int(r.get("windows") or 0)
    met = round(float(r.get("windows_met") or 0.0) * n)
    return f"{met} of {n} (too little history)"


def _enough(p: Mapping[str, Any], window: Any) -> str:
    """Whether a threshold proposal rests on enough history and events, and if not, why."""
    reasons = []
    if p.get("too_little_history"):
        reasons.append(f"{float(p.get('history_days') or 0):.0f} days of history, under two {window} windows")
    if p.get("too_little_data"):
        unit = "samples" if p.get("kind") == "timeslice" else "requests"
        need = 10.0 / max(1.0 - float(p.get("target") or 0.0), 1e-12)
        reasons.append(
            f"{int(p.get('min_window_events') or 0):,} {unit} in the smallest window, {need:,.0f} needed to count ten "
            f"bad ones at {fmt_pct(p.get('target'), 1)}"
        )
    return "no: " + "; ".join(reasons) if reasons else "yes"


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
                "past windows met": windows_met(p),
                "budget used (median / p90)": _budget_used(p),
                "enough data": _enough(p, section(report, "slo_proposal").get("window")),
            }
        )
    columns = ["journey", "kind", "target", "threshold (ms)", "95% interval (ms)", "past windows met"]
    return frame(
        rows,
        [*columns, "budget used (median / p90)", "enough data"],
        "No threshold is proposed: there is no latency history (request telemetry or a series) to read one from.",
    )


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
                "past windows met": windows_met(o),
                "past windows": o.get("windows"),
                "budget used (median / p90)": _budget_used(o),
                "trade-off": o.get("tradeoff"),
            }
        )
    extra = ["past windows", "budget used (median / p90)"] if detail else []
    return frame(
        rows,
        ["journey", "option", "recommended", "objectives", "past windows met", *extra, "trade-off"],
        "No options: there is no telemetry or series history to judge targets on, so the SLOs are provisional.",
    )


def instrumentation_table(report: Mapping[str, Any]) -> pd.DataFrame:
    """What to emit per journey when there is no telemetry yet."""
    rows = [
        {
            "journey": r.get("journey"),
            "counter": r.get("counter"),
            "histogram": r.get("histogram"),
            "bucket edges (ms)": ", ".join(f"{float(e):g}" for e in r.get("bucket_edges_ms") or []),
            "why": r.get("why"),
        }
        for r in records(section(report, "slo_proposal"), "instrumentation_plan")
    ]
    return frame(
        rows,
        ["journey", "counter", "histogram", "bucket edges (ms)", "why"],
        "No instrumentation plan is needed: the service already has request telemetry.",
    )


def percentile_words(share: float) -> str:
    """A share of requests as the percentile it is: ``p99.2``, ``p100`` (every request),
    ``p99.95`` — rounded down, with the decimals it needs to differ from 100."""
    if share >= 1.0:
        return "p100"
    p = 100.0 * share
    for digits in range(1, 6):
        shown = math.floor(p * 10**digits) / 10**digits
        if shown < 100.0:
            return f"p{shown:.{digits}f}".rstrip("0").rstrip(".")
    return "p99.99999"


def _under_load(t: Mapping[str, Any]) -> str:
    parts = [
        f"{x.get('slo')}: {float(x['threshold_ms']):g} ms is {percentile_words(float(x['share_within']))}"
        + ("" if x.get("meets_target") else f", below its {fmt_pct(x.get('target'), 1)} target")
        for x in records(t, "slos")
        if x.get("threshold_ms") is not None and x.get("share_within") is not None
    ]
    return "; ".join(parts) or "–"


def loadtest_table(report: Mapping[str, Any]) -> pd.DataFrame:
    """Each load test: its size and load, its latency percentiles, and where each latency
    threshold in force falls in it (no time axis: never a budget)."""
    rows = []
    for t in records(section(report, "slo_proposal"), "loadtests"):
        pct = {float(p["share"]): p.get("value_ms") for p in records(t, "percentiles")}
        rate, length = t.get("requests_per_s"), t.get("duration_s")
        rows.append(
            {
                "load test": t.get("file"),
                "requests": f"{int(t.get('requests') or 0):,}",
                "load": "–" if rate is None else f"{float(rate):,.0f} requests/s",
                "length": "–" if length is None else fmt_duration_s(length),
                "median (ms)": _ms(pct.get(0.5)),
                "99% within (ms)": _ms(pct.get(0.99)),
                "99.9% within (ms)": _ms(pct.get(0.999)),
                "slowest (ms)": _ms(t.get("max_ms")),
                "latency thresholds in force under this load": _under_load(t),
            }
        )
    columns = ["load test", "requests", "load", "length", "median (ms)", "99% within (ms)", "99.9% within (ms)"]
    return frame(
        rows, [*columns, "slowest (ms)", "latency thresholds in force under this load"], "No load test was given."
    )


def _ms(value: Any) -> str:
    return "–" if value is None else f"{float(value):,.3g}"
