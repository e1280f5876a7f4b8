"""``report.md`` and Markdown text: every value written with :func:`md_text` (data-derived text
shows as itself: :func:`srekit.core.escape.md_text`); each section shows the same worded tables
as the report notebook (:mod:`srekit.report.tables`)."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from srekit.core import escape
from srekit.report import tables
from srekit.report.contract import SECTION_KEYS, SECTION_TITLES


def md_text(value: Any) -> str:
    """Any report.json value as Markdown text: ``–`` for none, yes/no, numbers with thousands
    separators, text escaped by :func:`srekit.core.escape.md_text` (renders as itself; a number
    shown as text, e.g. ``-0.2``, stays as it is: Markdown is not a spreadsheet)."""
    if value is None:
        return "–"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        return _num(value)
    return escape.md_text(value)


def _num(x: float) -> str:
    if x != x:  # NaN
        return "–"
    if x == int(x) and abs(x) < 1e15:
        return f"{int(x):,}"
    if abs(x) >= 100:
        return f"{x:,.1f}"
    return f"{x:.4g}"


def _title(key: str) -> str:
    return key.replace("_", " ").strip().capitalize()


def _is_records(value: Any) -> bool:
    return isinstance(value, list) and bool(value) and all(isinstance(v, Mapping) for v in value)


def _scalar(v: Any) -> bool:
    return v is None or isinstance(v, str | int | float | bool)


def md_table(records: Sequence[Mapping[Any, Any]], *, max_rows: int = 50, titles: bool = True) -> list[str]:
    """A Markdown table of records; nested values are summarised, text is escaped.
    ``titles=False`` keeps the column names as given (display tables are already worded)."""
    cols: list[str] = []
    for r in records:
        cols += [k for k in r if k not in cols]
    lines = ["| " + " | ".join(md_text(_title(c) if titles else c) for c in cols) + " |", "|" + "---|" * len(cols)]
    for r in records[:max_rows]:
        cells = []
        for c in cols:
            v = r.get(c)
            if _scalar(v):
                cells.append(md_text(v))
            elif isinstance(v, list) and all(_scalar(x) for x in v):
                cells.append(", ".join(md_text(x) for x in v))
            else:
                cells.append(md_text(json.dumps(v, ensure_ascii=False)[:120]))
        lines.append("| " + " | ".join(cells) + " |")
    if len(records) > max_rows:
        lines.append(f"\n_{len(records) - max_rows} more rows in report.json._")
    return lines


def md_payload(payload: Any, *, depth: int = 3) -> list[str]:
    """Render any JSON-ready payload as Markdown: scalars as a bullet list, lists of records as
    tables, nested mappings as sub-headings."""
    lines: list[str] = []
    if _scalar(payload):
        return [md_text(payload)]
    if _is_records(payload):
        return md_table(payload)
    if isinstance(payload, list):
        return [f"- {md_text(v) if _scalar(v) else md_text(json.dumps(v, ensure_ascii=False)[:200])}" for v in payload]
    scalars = {k: v for k, v in payload.items() if _scalar(v) or (isinstance(v, list) and all(_scalar(x) for x in v))}
    for k, v in scalars.items():
        shown = ", ".join(md_text(x) for x in v) if isinstance(v, list) else md_text(v)
        lines.append(f"- **{md_text(_title(k))}**: {shown if shown else '–'}")
    for k, v in payload.items():
        if k in scalars:
            continue
        if isinstance(v, list | Mapping) and not v:
            continue
        lines += ["", "#" * min(depth, 6) + " " + md_text(_title(k)), ""]
        lines += md_payload(v, depth=depth + 1)
    return lines


#: The worded tables each section shows, in report.md and in the report notebook.
SECTION_TABLES: Mapping[str, tuple[tuple[str, str], ...]] = {
    "slo_proposal": (
        ("slo_table", "The SLOs in force"),
        ("sli_table", "How each indicator is measured"),
        ("options_table", "Options and their trade-offs"),
        ("instrumentation_table", "Instrumentation plan"),
    ),
    "error_budget_policy": (
        ("budget_table", "Error budget per SLO"),
        ("actions_table", "What the team does in each budget state"),
        ("attribution_table", "Who spent the budget in the current window"),
        ("breakdown_table", "Where the bad events came from, by label"),
        ("corrections_table", "Corrections and maintenance windows: the budget each returned"),
        ("forecast_table", "Forecast for the next window"),
    ),
    "alerting": (
        ("alert_policy_table", "Burn-rate alert rules"),
        ("backtest_table", "How the rules would have behaved on history"),
        ("low_traffic_table", "Low traffic: where one bad request pages"),
        ("remedies_table", "Low-traffic remedies replayed on history"),
        ("incident_scope_table", "Which incidents the backtest is scored on"),
        ("runbooks_table", "Runbooks"),
    ),
    "toil": (("toil_table", "Top toil drivers"), ("candidates_table", "Automation candidates")),
    "incident_response": (
        ("incident_metrics_table", "Incident response times"),
        ("recommendations_table", "Process changes and how to track them"),
        ("follow_up_table", "Postmortem follow-up tracker"),
    ),
    "backlog": (("backlog_table", "Ranked backlog"),),
    "open_questions": (("questions_table", "Assumptions to confirm"),),
}


#: Tables shown only when they have rows (an instrumentation plan only without telemetry).
OPTIONAL_TABLES = frozenset({"instrumentation_table", "corrections_table", "low_traffic_table", "remedies_table"})


def report_markdown(report: Mapping[str, Any]) -> str:
    """``report.md``: the Output Contract as Markdown, for pasting into documents. Each section
    shows the same worded tables as the report notebook; all fields are in ``report.json``."""
    meta = report.get("meta", {})
    lines = [
        f"# Reliability report: {md_text(meta.get('service', ''))}",
        "",
        f"_Generated {md_text(meta.get('generated_at', ''))} by srekit {md_text(meta.get('srekit_version', ''))}. "
        "Every figure and field is also in report.json._",
    ]
    for n, key in enumerate(SECTION_KEYS, start=1):
        payload = report.get(key)
        lines += ["", f"## {n}. {SECTION_TITLES[key]}", ""]
        if key == "summary":
            lines.append(md_text(payload.get("text", "")) if isinstance(payload, Mapping) else md_text(payload))
            if isinstance(payload, Mapping):
                lines += ["", *md_table(tables.summary_figures_table(report).to_dict("records"), titles=False)]
        elif key == "inputs":
            lines += _inputs_markdown(report)
        elif key == "meta":  # the period is in "Inputs and data quality" (all of it in report.json)
            lines += md_payload({k: v for k, v in (payload or {}).items() if k != "period"})
        elif tables.section_status(report, key) != "ok":
            lines.append(
                f"_This section could not be computed in this run: {md_text(tables.section_status(report, key))}_"
            )
        elif not payload:
            lines.append(
                "No open questions: every input the analysis needed was given."
                if key == "open_questions"
                else "_Not computed in this run._"
            )
        else:
            for func, caption in SECTION_TABLES.get(key, ()):
                table = getattr(tables, func)(report)
                if len(table) or func not in OPTIONAL_TABLES:
                    lines += [f"### {caption}", "", *md_display(table), ""]
    return "\n".join(lines).rstrip() + "\n"


def md_display(table: Any) -> list[str]:
    """A display table as Markdown, or the sentence saying why it is empty."""
    if not len(table):
        return [md_text(tables.empty_text(table))]
    return md_table(table.to_dict("records"), titles=False)


def _inputs_markdown(report: Mapping[str, Any]) -> list[str]:
    inputs = report.get("inputs") or {}
    lines: list[str] = [md_text(tables.period_text(report)), ""]
    for caption, table in (
        ("Time ranges", tables.ranges_table(report)),
        ("Journeys", tables.journeys_table(report)),
        ("Series", tables.series_table(report)),
        ("Load tests", tables.loadtest_table(report)),
    ):
        if len(table):
            lines += [f"### {caption}", "", *md_table(table.to_dict("records"), titles=False), ""]
    if inputs.get("missing"):
        lines += ["Inputs not given: " + ", ".join(md_text(m) for m in inputs["missing"]) + ".", ""]
    lines.append(
        "Critical journeys: "
        + (", ".join(md_text(j) for j in inputs.get("critical_journeys", [])) or "none")
        + f" ({md_text(inputs.get('critical_source', ''))})."
    )
    ledger = tables.ledger_table(report)
    if len(ledger):
        lines += ["", "### Data-quality ledger", "", *md_table(ledger.to_dict("records"), titles=False)]
    return lines
