"""Display tables of the summary, the inputs and the open questions."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import PurePath
from typing import Any

import pandas as pd

from srekit.analysis.period import LABELS, NOUNS
from srekit.report.contract import SECTION_TITLES, nines_pct, period_sentence, unused_sentence
from srekit.report.tables.format import fmt_duration_s, fmt_pct, frame, records, section


def summary_figures_table(report: Mapping[str, Any]) -> pd.DataFrame:
    """The headline figures in plain words."""
    f = section(report, "summary").get("figures") or {}
    rows = [("Period analysed (UTC)", _period_cell(f))]
    if f.get("requests") or not f.get("samples"):
        rows += [
            ("Requests served", f"{f['requests']:,}" if f.get("requests") else "none measured (no request telemetry)"),
            ("Requests that succeeded", "–" if f.get("success_ratio") is None else nines_pct(f["success_ratio"])),
        ]
    if f.get("samples"):
        rows.append(("Series samples measured (one value per interval, not requests)", f"{int(f['samples']):,}"))
    clipped = f.get("clipped") or {}
    if clipped:
        rows.append(("Left out: outside the period", "; ".join(f"{int(n):,} {_noun(k)}" for k, n in clipped.items())))
    rows += [
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
            "Incidents in the period (still open)",
            f"{f['incidents']} ({f.get('open_incidents') or 0})" if f.get("incidents") is not None else "–",
        ),
        ("Median time to resolve an incident", fmt_duration_s(f.get("ttr_median_s"))),
        ("Backlog items", str(f.get("backlog_items", "–"))),
        ("Assumptions to confirm", str(f.get("open_questions", 0))),
    ]
    return frame([{"figure": a, "value": b} for a, b in rows], ["figure", "value"])


def _period_cell(f: Mapping[str, Any]) -> str:
    if not f.get("period_start") or not f.get("period_end"):
        return "–"
    start, end = pd.Timestamp(f["period_start"]), pd.Timestamp(f["period_end"])
    days = (end - start) / pd.Timedelta(days=1)
    return f"{start:%Y-%m-%d %H:%M} → {end:%Y-%m-%d %H:%M} ({days:,.1f} days)"


def _noun(kind: str) -> str:
    return NOUNS.get(kind, kind)


def _ms(value: Any) -> str:
    return "–" if value is None or value != value else f"{float(value):,.0f}"


def period_text(report: Mapping[str, Any]) -> str:
    """The analysed period and what was left outside it, in one or two sentences (from
    ``meta.period``): the first line of every page."""
    period = section(section(report, "meta"), "period")
    return " ".join(s for s in (period_sentence(period), unused_sentence(period)) if s)


def _kept(r: Mapping[str, Any]) -> str:
    rows, kept = int(r.get("rows") or 0), r.get("kept")
    if kept is None or int(kept) == rows:
        return "all"
    return "none" if not kept else f"{int(kept):,} of {rows:,}"


def ranges_table(report: Mapping[str, Any]) -> pd.DataFrame:
    """The time range each input covers on its own, and how much of it the analysed period kept."""
    rows = [
        {
            "input": LABELS.get(str(r.get("kind")), r.get("kind")),
            "rows": f"{int(r.get('rows') or 0):,}",
            "from (UTC)": _stamp(r.get("start")),
            "to (UTC)": _stamp(r.get("end")),
            "days": "–" if r.get("days") is None else f"{float(r['days']):,.1f}",
            "in the analysed period": _kept(r),
        }
        for r in (section(report, "inputs").get("ranges") or {}).values()
        if isinstance(r, Mapping)
    ]
    return frame(
        rows,
        ["input", "rows", "from (UTC)", "to (UTC)", "days", "in the analysed period"],
        empty="No input with dates was given.",
    )


def series_table(report: Mapping[str, Any]) -> pd.DataFrame:
    """Per gauge series journey over the analysed period: how many samples, one per how long,
    and what the statistic did (its percentiles are of the per-interval values, not of requests)."""
    rows = [
        {
            "journey": f.get("journey"),
            "samples": f"{int(f.get('samples') or 0):,}",
            "one sample per": "–" if f.get("interval_s") is None else fmt_duration_s(f["interval_s"]),
            "median value (ms)": _ms(f.get("median_value")),
            "99% of samples at or below (ms)": _ms(f.get("p99_value")),
            "highest (ms)": _ms(f.get("max_value")),
            "samples of exactly 0": f"{int(f.get('zero_samples') or 0):,}",
        }
        for f in records(section(report, "inputs"), "series")
    ]
    columns = ["journey", "samples", "one sample per", "median value (ms)", "99% of samples at or below (ms)"]
    columns.append("highest (ms)")
    return frame(rows, [*columns, "samples of exactly 0"], empty="No series was given.")


def _no_journeys(report: Mapping[str, Any]) -> str:
    if records(section(report, "inputs"), "series"):
        return (
            "There is no request telemetry, so no journey has request counts; the series below are per-interval "
            "statistics (one value per interval), not requests."
        )
    return "There is no request telemetry, so there is no traffic per journey yet (see the instrumentation plan)."


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
    if not any(int(j.get("requests") or 0) for j in records(section(report, "inputs"), "journeys")):
        rows = []
    return frame(rows, [*columns, "99% answered within (ms)", "critical"], empty=_no_journeys(report))


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
    return frame(
        rows,
        ["input", "file", "rows read", "accepted", "rejected", "why rejected", "notes"],
        empty="No input file was read.",
    )


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
    return frame(
        rows,
        ["section", "question", "assumed meanwhile"],
        empty="No open questions: every input this page needed was given.",
    )
