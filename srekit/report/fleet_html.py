"""The fleet overview page (``fleet/<date>/index.html``) from ``fleet.json``: headline figures,
the services that failed, the SLOs at risk, every SLO grouped by team and tier with a link to its
service's report, and the compliance calendar as a heat map and a table.

Self-contained and script-free like every srekit page: the picture is a PNG data URI, every text
goes through :func:`srekit.core.escape.html_text`, links through
:func:`srekit.report.html.relative_url`, and :func:`srekit.report.html.finish_html` adds the CSP
and refuses the page if it would fetch or run anything."""

from __future__ import annotations

import base64
from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd

from srekit.core.escape import html_text
from srekit.report.html import finish_html, relative_url
from srekit.report.nbshow import figure_png
from srekit.report.plots.fleet import plot_compliance_calendar
from srekit.report.tables import fleet as tables

#: The page a service's link opens (the stakeholder summary of its run).
SERVICE_PAGE = "00_reliability_report.html"
#: The overview page in its folder.
FLEET_PAGE = "index.html"

_CSS = """<style>
body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; line-height: 1.4; }
body main { max-width: 92rem; }
.cards { display: flex; flex-wrap: wrap; gap: .5rem; margin: .5rem 0 1rem; padding: 0; list-style: none; }
.cards li { border: 1px solid #ccc; border-radius: 4px; padding: .4rem .8rem; min-width: 8rem; }
.cards strong { display: block; font-size: 1.4rem; }
.critical { color: #8e1b1b; font-weight: bold; } .warning { color: #8a5a00; font-weight: bold; }
.failed { color: #8e1b1b; font-weight: bold; }
.scroll { overflow-x: auto; max-width: 100%; }
table.fleet { border-collapse: collapse; font-size: .85rem; }
table.fleet th, table.fleet td { text-align: left; padding: .3rem .5rem; border-bottom: 1px solid #ddd;
  vertical-align: top; min-width: 3rem; max-width: 22rem; overflow-wrap: break-word; }
table.fleet td:first-child, table.fleet td:nth-child(2) { min-width: 7rem; }
table.fleet td:last-child { min-width: 11rem; }
</style>"""


def _e(value: Any) -> str:
    return html_text("" if value is None else value)


def _table(df: pd.DataFrame, *, root: str, link: str | None = "service", caption: str = "") -> str:
    """An HTML table of a display frame, every cell escaped; ``link``: the column whose text links
    to the service's report (its folder in the hidden ``report`` column, relative to ``root``)."""
    shown = [c for c in df.columns if c != "report"]
    head = "".join(f"<th>{_e(c)}</th>" for c in shown)
    body = []
    for rec in df.to_dict("records"):
        cells = []
        for c in shown:
            text = _e(rec.get(c))
            if c == "state" and str(rec.get(c)).split(" ")[0] in ("critical", "warning", "failed"):
                text = f'<span class="{str(rec[c]).split(" ")[0]}">{text}</span>'
            if c == link and rec.get("report"):
                href = relative_url(root, str(rec["report"]), SERVICE_PAGE)
                text = f'<a href="{html_text(href)}">{text}</a>'
            cells.append(f"<td>{text}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    cap = f"<caption>{_e(caption)}</caption>" if caption else ""
    return (
        f'<div class="scroll"><table class="fleet">{cap}<thead><tr>{head}</tr></thead>'
        f"<tbody>{''.join(body)}</tbody></table></div>"
    )


def _cards(fleet: Mapping[str, Any]) -> str:
    h = fleet.get("headline") or {}
    by = h.get("slos_by_status") or {}
    cards = [
        ("SLOs healthy", by.get("healthy", 0)),
        ("SLOs warning", by.get("warning", 0)),
        ("SLOs critical", by.get("critical", 0)),
        ("SLOs with no data", by.get("no_data", 0)),
        ("services at risk", f"{h.get('services_at_risk', 0)} of {h.get('services', 0)}"),
        ("services failed", h.get("services_failed", 0)),
    ]
    if h.get("services_partial"):
        cards.append(("services partly rendered", h["services_partial"]))
    items = "".join(f"<li><strong>{_e(v)}</strong>{_e(k)}</li>" for k, v in cards)
    return f'<ul class="cards" aria-label="Headline figures">{items}</ul>'


def _calendar(fleet: Mapping[str, Any], root: str) -> str:
    cells = tables.calendar_cells(fleet)
    ax = plot_compliance_calendar(cells)
    data = base64.b64encode(figure_png(ax.figure)).decode("ascii")
    months = sorted(cells["month"].unique()) if not cells.empty else []
    alt = (
        f"Heat map of error budget used per calendar month for {cells['row'].nunique()} service SLOs over "
        f"{len(months)} months; green within budget, orange and red missed. The table below has every value."
    )
    img = f'<img src="data:image/png;base64,{data}" alt="{html_text(alt)}">'
    table = _table(tables.calendar_table(fleet), root=root, link=None)
    return f"<h2>Compliance calendar</h2>\n<p>{img}</p>\n{table}"


def _groups(fleet: Mapping[str, Any], root: str) -> str:
    parts = ["<h2>Every SLO, by team and tier</h2>"]
    for title, rows in tables.grouped_rows(fleet):
        parts.append(f"<h3>{_e(title)}</h3>")
        parts.append(_table(tables.rows_table(rows), root=root))
    return "\n".join(parts)


def _sections(fleet: Mapping[str, Any], root: str) -> Sequence[str]:
    failed = tables.failed_table(fleet)
    risky = tables.at_risk_rows(fleet)
    out = []
    if not failed.empty:
        out.append("<h2>Services that failed</h2>\n" + _table(failed, root=root))
    out.append(
        "<h2>SLOs at risk</h2>\n"
        + (_table(tables.rows_table(risky), root=root) if risky else "<p>No SLO is at risk.</p>")
        + f"<p>At risk: critical or warning, or a forecast chance of at least "
        f"{fleet.get('at_risk_p_exhaust', 0.5):.0%} of exhausting the budget in the next window. Pages per week, "
        "incidents, time to resolve and the top backlog item are the service's.</p>"
    )
    out.append(_groups(fleet, root))
    out.append(_calendar(fleet, root))
    return out


def fleet_html(fleet: Mapping[str, Any], *, root: str) -> str:
    """The overview page of ``fleet`` (fleet.json's mapping); ``root``: the reports root relative
    to the page's folder (``../..`` for ``fleet/<date>/``)."""
    name = str(fleet.get("fleet", "fleet"))
    when = pd.Timestamp(str(fleet.get("generated_at"))).tz_convert("UTC").strftime("%Y-%m-%d %H:%M UTC")
    links = " · ".join(
        f'<a href="{html_text(h)}">{_e(t)}</a>'
        for h, t in (
            ("fleet.json", "fleet.json"),
            ("fleet.csv", "fleet.csv"),
            (relative_url(root, "index.html"), "every run"),
        )
    )
    body = "\n".join(
        [
            f"<h1>Fleet overview: {_e(name)}</h1>",
            f"<p>Generated {_e(when)} · {links}</p>",
            _cards(fleet),
            *_sections(fleet, root),
        ]
    )
    page = (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>fleet</title>{_CSS}</head><body><main>\n{body}\n</main></body></html>\n"
    )
    return finish_html(page, title=f"Fleet overview: {name}")


def overviews_html(overviews: Sequence[Mapping[str, Any]]) -> str:
    """The list of every fleet overview, newest first (``fleet/index.html``): a stable page to
    bookmark. Each entry: ``href`` (the overview folder relative to the list), ``fleet``,
    ``generated_at`` and ``headline`` of its fleet.json."""
    rows = []
    for o in sorted(overviews, key=lambda o: str(o.get("generated_at", "")), reverse=True):
        h = o.get("headline") or {}
        by = h.get("slos_by_status") or {}
        try:
            when = pd.Timestamp(str(o.get("generated_at"))).tz_convert("UTC").strftime("%Y-%m-%d %H:%M")
        except (ValueError, TypeError):
            when = str(o.get("generated_at"))
        href = html_text(relative_url(str(o.get("href", "")), FLEET_PAGE))
        figures = (
            f"{by.get('critical', 0)} critical, {by.get('warning', 0)} warning, {by.get('no_data', 0)} no data, "
            f"{by.get('healthy', 0)} healthy SLOs; {h.get('services_at_risk', 0)} of {h.get('services', 0)} services "
            f"at risk, {h.get('services_failed', 0)} failed"
        )
        rows.append(
            f'<tr><td><a href="{href}">{_e(when)}</a></td><td>{_e(o.get("fleet"))}</td><td>{_e(figures)}</td></tr>'
        )
    table = (
        '<div class="scroll"><table class="fleet"><thead><tr><th>generated (UTC)</th><th>fleet</th><th>headline</th>'
        f"</tr></thead><tbody>{''.join(rows)}</tbody></table></div>"
        if rows
        else "<p>No fleet overview yet.</p>"
    )
    page = (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>fleet</title>{_CSS}</head><body><main>\n<h1>Fleet overviews</h1>\n{table}\n</main></body></html>\n"
    )
    return finish_html(page, title="Fleet overviews")
