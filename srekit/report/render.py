"""Output rendering: ``report.json``/``report.md``, notebook HTML (stakeholder and engineer
views), the run index, CSV exports, and the atomic file writes they all use.

Safety rules applied here:

* Self-contained and offline: nbconvert's CDN MathJax / require.js / mermaid URLs are blanked
  and every ``<script>`` block is dropped (the reports need no JavaScript); images are inline
  data URIs. :func:`offline_problems` is the post-check (no ``http(s)`` resource reference).
* Data-derived text is escaped (HTML entities in HTML and Markdown; ``|``, brackets and
  emphasis characters backslash-escaped in Markdown) so an incident titled
  ``<img src=x onerror=alert(1)>`` renders as text.
* Spreadsheet formula injection (OWASP "CSV Injection"): a text cell starting with ``=``, ``+``,
  ``-``, ``@``, tab or carriage return gets a leading ``'`` in CSV and Markdown exports.
"""

from __future__ import annotations

import functools
import html
import io
import json
import os
import re
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")

# --------------------------------------------------------------------------------------------
# atomic writes
# --------------------------------------------------------------------------------------------


def atomic_write(path: str | Path, data: str | bytes) -> Path:
    """Write ``data`` to a temporary sibling, fsync it and rename it over ``path``.

    A reader (or a crash) sees either the old file or the complete new one, never a half-written
    file at ``path`` (POSIX ``rename`` is atomic within a filesystem).
    """
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    tmp = p.parent / f".{p.name}.tmp-{os.getpid()}"
    raw = data.encode("utf-8") if isinstance(data, str) else data
    with open(tmp, "wb") as fh:
        fh.write(raw)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, p)
    return p


def report_json_text(report: Mapping[str, Any]) -> str:
    """``report.json`` text: strict JSON (no NaN/Infinity), UTF-8, stable key order."""
    return json.dumps(report, indent=2, ensure_ascii=False, allow_nan=False) + "\n"


# --------------------------------------------------------------------------------------------
# escaping and formula neutralisation
# --------------------------------------------------------------------------------------------


def neutralize(value: Any) -> Any:
    """Prefix ``'`` to text that a spreadsheet would run as a formula; other values unchanged."""
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


def csv_text(df: pd.DataFrame) -> str:
    """CSV of a frame with every text cell (and header) neutralised against formula injection."""
    out = df.copy()
    out.columns = [neutralize(str(c)) for c in out.columns]
    for c in out.columns:
        col = out[c]
        if col.dtype == object or pd.api.types.is_string_dtype(col):
            out[c] = col.map(neutralize)
    buf = io.StringIO()
    out.to_csv(buf, index=False, lineterminator="\n")
    return buf.getvalue()


_MD_SPECIAL = re.compile(r"([\\`*_\[\]|#])")


def md_text(value: Any) -> str:
    """Data-derived text for Markdown: formulas neutralised, HTML escaped, Markdown syntax
    characters backslash-escaped, newlines flattened."""
    if value is None:
        return "–"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        return _num(value)
    text = str(neutralize(str(value))).replace("\r", " ").replace("\n", " ")
    return _MD_SPECIAL.sub(r"\\\1", html.escape(text, quote=False))


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


# --------------------------------------------------------------------------------------------
# report.md
# --------------------------------------------------------------------------------------------


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
        ("forecast_table", "Forecast for the next window"),
    ),
    "alerting": (
        ("alert_policy_table", "Burn-rate alert rules"),
        ("backtest_table", "How the rules would have behaved on history"),
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


def report_markdown(report: Mapping[str, Any]) -> str:
    """``report.md``: the Output Contract as Markdown, for pasting into documents. Each section
    shows the same worded tables as the report notebook; all fields are in ``report.json``."""
    from srekit.report.contract import SECTION_KEYS, SECTION_TITLES

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
                lines += ["", *md_table(summary_figures_table(report).to_dict("records"), titles=False)]
        elif key == "inputs":
            lines += _inputs_markdown(payload or {})
        elif key == "meta":
            lines += md_payload(payload or {})
        elif section_status(report, key) != "ok":
            lines.append(f"_This section could not be computed in this run: {md_text(section_status(report, key))}_")
        elif not payload:
            lines.append(
                "No open questions: every input the analysis needed was given."
                if key == "open_questions"
                else "_Not computed in this run._"
            )
        else:
            shown = 0
            for func, caption in SECTION_TABLES.get(key, ()):
                table = globals()[func](report)
                if len(table):
                    lines += [f"### {caption}", "", *md_table(table.to_dict("records"), titles=False), ""]
                    shown += 1
            if not shown:
                lines += md_payload(payload)
    return "\n".join(lines).rstrip() + "\n"


def _inputs_markdown(inputs: Mapping[str, Any]) -> list[str]:
    lines: list[str] = []
    ranges = list((inputs.get("ranges") or {}).values())
    if ranges:
        lines += ["### Time ranges", ""] + md_table(ranges) + [""]
    if inputs.get("missing"):
        lines += ["Inputs not given: " + ", ".join(md_text(m) for m in inputs["missing"]) + ".", ""]
    if inputs.get("journeys"):
        lines += ["### Journeys", ""] + md_table(inputs["journeys"]) + [""]
    lines.append(
        "Critical journeys: "
        + (", ".join(md_text(j) for j in inputs.get("critical_journeys", [])) or "none")
        + f" ({md_text(inputs.get('critical_source', ''))})."
    )
    ledger = inputs.get("ledger") or []
    if ledger:
        rows = [
            {k: e[k] for k in ("kind", "source", "rows_read", "rows_accepted", "rows_rejected")}
            | {"reasons": "; ".join(f"{k}: {v}" for k, v in e["rejected"].items())}
            for e in ledger
        ]
        lines += ["", "### Data-quality ledger", ""] + md_table(rows)
    return lines


# --------------------------------------------------------------------------------------------
# notebook → HTML
# --------------------------------------------------------------------------------------------

REMOVE_CELL = "remove_cell"
REMOVE_INPUT = "remove_input"
REMOVE_OUTPUT = "remove_output"
HIDDEN_CELL_TAGS = ("parameters", "injected-parameters")

_EXTRA_CSS = """
<style id="srekit-css">
body { margin: 0; }
main { max-width: 60rem; margin: 0 auto; padding: 0 1rem 2rem; }
img { max-width: 100%; height: auto; }
table { display: block; overflow-x: auto; max-width: 100%; }
table.srekit-table th, table.srekit-table td { text-align: left !important; vertical-align: top; min-width: 4rem; max-width: 28rem; white-space: normal !important; overflow-wrap: anywhere; }
nav.srekit-toc { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; border: 1px solid #ccc; border-radius: 4px; padding: .5rem 1rem; margin: 1rem 0; font-size: .95rem; }
nav.srekit-toc ul { margin: .25rem 0; padding-left: 1.2rem; }
nav.srekit-toc .toc-h3 { margin-left: 1rem; }
@media (max-width: 600px) {
  main { padding: 0 .5rem 1rem; }
  table.srekit-table { width: max-content; max-width: none; }
  table.srekit-table th, table.srekit-table td { max-width: 16rem; }
  .jp-InputPrompt, .jp-OutputPrompt { display: none; }
  .jp-Cell { padding: 0; }
  body { font-size: 15px; }
}
</style>
"""


def _tags(cell: Any) -> list[str]:
    return list(cell.get("metadata", {}).get("tags", []))


def _set_tag(cell: Any, tag: str) -> None:
    tags = _tags(cell)
    if tag not in tags:
        cell.setdefault("metadata", {})["tags"] = [*tags, tag]


def stakeholder_view(nb: Any) -> Any:
    """A copy of an executed notebook tagged for the stakeholder HTML: parameter cells removed,
    code hidden, stray outputs (stdout/stderr text, bare ``repr`` results) tagged for removal.
    A cell that raised keeps its code and traceback so the failure is visible."""
    import copy

    out = copy.deepcopy(nb)
    for cell in out.cells:
        if cell.cell_type != "code":
            continue
        if any(t in _tags(cell) for t in HIDDEN_CELL_TAGS):
            _set_tag(cell, REMOVE_CELL)
            continue
        failed = any(o.get("output_type") == "error" for o in cell.get("outputs", []))
        if failed:
            continue
        _set_tag(cell, REMOVE_INPUT)
        kept = 0
        for o in cell.get("outputs", []):
            kind = o.get("output_type")
            plain_only = kind == "execute_result" and set(o.get("data", {})) <= {"text/plain"}
            if kind == "stream" or plain_only:
                meta = o.setdefault("metadata", {})
                meta["tags"] = [*meta.get("tags", []), REMOVE_OUTPUT]
            else:
                kept += 1
        if kept == 0:
            _set_tag(cell, REMOVE_CELL)
    return out


_SCRIPT = re.compile(r"<script\b[^>]*>.*?</script\s*>", re.S | re.I)
_HEADING = re.compile(r'<h([1-3]) id="([^"]+)"[^>]*>(.*?)(?:<a class="anchor-link"[^>]*>.*?</a>)?</h\1>', re.S)
#: What makes an address a resource to fetch: an attribute, CSS ``url(``, ``@import`` or a JS
#: ``import``, ending in ``//`` (``http://``, ``https://`` or protocol-relative).
_RESOURCE_BEFORE = re.compile(
    r"""(?:\b(?:src|href|srcset|poster|data)\s*=\s*["']?\s*|url\(\s*["']?\s*|@import\s+["']|import\s*\(?\s*["'])(?:https?:)?//\Z""",
    re.I,
)
#: How far before a ``//`` the attribute or keyword that makes it a resource is looked for.
_RESOURCE_REACH = 200


def offline_problems(text: str) -> list[str]:
    """Every reference to a remote resource (``src``/``href``/CSS ``url()``/``@import``/JS
    ``import`` of an ``http(s)://`` or protocol-relative address) — empty when the page is
    self-contained. Plain text mentioning a URL is not a resource and is not reported.

    Only the places where ``//`` occurs are examined (a fast literal search), each against what
    precedes it: a page is mostly base64 image data, which a pattern tried at every position
    would crawl through.
    """
    found = []
    at = text.find("//")
    while at >= 0:
        m = _RESOURCE_BEFORE.search(text, max(0, at - _RESOURCE_REACH), at + 2)
        if m:
            found.append(text[max(0, m.start() - 40) : m.end() + 60].replace("\n", " "))
        at = text.find("//", at + 2)
    return found


def _toc(body: str) -> str:
    items = []
    for level, anchor, inner in _HEADING.findall(body):
        label = re.sub(r"<[^>]+>", "", inner).strip()
        if label:
            items.append(f'<li class="toc-h{level}"><a href="#{anchor}">{label}</a></li>')
    if len(items) < 2:
        return ""
    return (
        '<nav class="srekit-toc" aria-label="Table of contents"><strong>Contents</strong><ul>'
        + "".join(items)
        + "</ul></nav>"
    )


def finish_html(body: str, *, title: str) -> str:
    """Post-process nbconvert output: drop every script, add the phone-width CSS, the title
    and a table of contents; raise if a remote resource reference remains."""
    body = _SCRIPT.sub("", body)
    body = re.sub(r"<title>.*?</title>", f"<title>{html.escape(title)}</title>", body, count=1, flags=re.S)
    body = body.replace("</head>", _EXTRA_CSS + "</head>", 1)
    toc = _toc(body)
    if toc:
        body = body.replace("<main>", "<main>" + toc, 1)
    problems = offline_problems(body)
    if problems:
        raise RuntimeError(f"rendered HTML {title!r} references remote resources: {problems[:3]}")
    return body


def notebook_html(nb: Any, *, audience: str, title: str) -> str:
    """Self-contained HTML of an executed notebook.

    ``audience="stakeholder"``: no code, no parameters, no stray outputs (cell tags applied by
    :func:`stakeholder_view`, removed by nbconvert's ``TagRemovePreprocessor``).
    ``audience="engineer"``: everything, with code.
    """
    if audience not in ("stakeholder", "engineer"):
        raise ValueError(f"audience is stakeholder or engineer, not {audience!r}")
    if audience == "stakeholder":
        nb = stakeholder_view(nb)
    body, _ = _exporter(audience).from_notebook_node(nb)
    return finish_html(body, title=title)


_IMG_WITHOUT_ALT = re.compile(r"<img\b(?![^>]*\balt\s*=)", re.I)
_FOCUSABLE = re.compile(r'(<div\b[^>]*\bclass="[^"]*\b(?:jp-Cell-inputWrapper|jp-OutputArea-output)\b[^"]*")', re.I)
MISSING_ALT = "No description has been provided for this image"


def accessible(body: str) -> str:
    """What nbconvert's ``HTMLExporter`` does to its page with BeautifulSoup (alt text for an
    image without one; code inputs and outputs focusable from the keyboard), done with two
    regular expressions instead of parsing and re-serialising the page: most of a report page is
    base64 image data, and the parse was half of the rendering time."""
    body = _IMG_WITHOUT_ALT.sub(f'<img alt="{MISSING_ALT}"', body)
    return _FOCUSABLE.sub(r'\1 tabindex="0"', body)


@functools.cache
def _exporter(audience: str) -> Any:
    """One configured nbconvert exporter per audience and process (its templates are compiled
    once, not for every notebook a report worker renders)."""
    from nbconvert import HTMLExporter
    from nbconvert.exporters.templateexporter import TemplateExporter
    from nbconvert.filters.highlight import Highlight2HTML
    from nbconvert.filters.widgetsdatatypefilter import WidgetsDataTypeFilter
    from nbconvert.preprocessors import TagRemovePreprocessor
    from traitlets.config import Config

    class Exporter(HTMLExporter):  # type: ignore[misc]
        def from_notebook_node(self, nb: Any, resources: Any = None, **kw: Any) -> Any:
            """``HTMLExporter.from_notebook_node`` (nbconvert 7) with :func:`accessible` in
            place of its BeautifulSoup pass."""
            langinfo = nb.metadata.get("language_info", {})
            lexer = langinfo.get("pygments_lexer", langinfo.get("name", None))
            self.register_filter(
                "highlight_code", self.filters.get("highlight_code", Highlight2HTML(pygments_lexer=lexer, parent=self))
            )
            resources = self._init_resources(resources)
            self.register_filter(
                "filter_data_type",
                WidgetsDataTypeFilter(notebook_metadata=self._nb_metadata, parent=self, resources=resources),
            )
            body, resources = TemplateExporter.from_notebook_node(self, nb, resources, **kw)
            return accessible(body), resources

    c = Config()
    c.HTMLExporter.mathjax_url = ""
    c.HTMLExporter.require_js_url = ""
    c.HTMLExporter.mermaid_js_url = ""
    c.HTMLExporter.mermaid_layout_elk_js_url = ""
    c.HTMLExporter.jquery_url = ""
    c.HTMLExporter.widget_renderer_url = ""
    c.HTMLExporter.jupyter_widgets_base_url = ""
    exporter = Exporter(config=c, template_name="lab")
    if audience == "stakeholder":
        trp = TagRemovePreprocessor(
            remove_cell_tags={REMOVE_CELL},
            remove_input_tags={REMOVE_INPUT},
            remove_single_output_tags={REMOVE_OUTPUT},
        )
        exporter.register_preprocessor(trp, enabled=True)
        exporter.exclude_input_prompt = True
        exporter.exclude_output_prompt = True
    return exporter


# --------------------------------------------------------------------------------------------
# the run index
# --------------------------------------------------------------------------------------------

_INDEX_HEAD = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>srekit reports</title>
<style>
body { font-family: system-ui, sans-serif; margin: 0 auto; max-width: 60rem; padding: 1rem; }
table { border-collapse: collapse; width: 100%; display: block; overflow-x: auto; }
th, td { text-align: left; padding: .35rem .6rem; border-bottom: 1px solid #ddd; vertical-align: top; }
.ok { color: #17663a; } .failed { color: #a11; font-weight: bold; }
</style></head><body><main>
<h1>Reliability reports</h1>
"""


def index_html(runs: Iterable[Mapping[str, Any]]) -> str:
    """``reports/index.html``: every run, latest first, with status and headline figures.

    Each run is its ``run.json`` mapping plus ``href`` (the run folder relative to the index).
    """
    ordered = sorted(runs, key=lambda r: str(r.get("generated_at", "")), reverse=True)
    e = html.escape
    rows = []
    for r in ordered:
        status = str(r.get("status", "unknown"))
        cls = "ok" if status == "ok" else "failed"
        href = str(r.get("href", "")).rstrip("/")
        links = [
            f'<a href="{e(href)}/{e(n["name"])}.html">{e(n["name"])}</a>'
            + ("" if n.get("status") == "ok" else " (failed)")
            for n in r.get("notebooks", [])
        ]
        links.append(f'<a href="{e(href)}/report.md">report.md</a>')
        links.append(f'<a href="{e(href)}/report.json">report.json</a>')
        figures = r.get("headline") or {}
        fig_text = "; ".join(
            f"{e(HEADLINE_LABELS.get(str(k), str(k).replace('_', ' ')))}: {e(_fmt_headline(str(k), v))}"
            for k, v in figures.items()
        )
        rows.append(
            f"<tr><td>{e(_when(r.get('generated_at')))}</td><td>{e(str(r.get('service', '')))}</td>"
            f'<td class="{cls}">{e(status)}</td><td>{fig_text}</td><td>{" · ".join(links)}</td></tr>'
        )
    table = (
        "<table><thead><tr><th>Generated (UTC)</th><th>Service</th><th>Status</th><th>Headline</th><th>Reports</th></tr></thead><tbody>"
        + "".join(rows)
        + "</tbody></table>"
    )
    if not rows:
        table = "<p>No runs yet.</p>"
    return _INDEX_HEAD + table + "\n</main></body></html>\n"


def _when(stamp: Any) -> str:
    try:
        return pd.Timestamp(str(stamp)).tz_convert("UTC").strftime("%Y-%m-%d %H:%M")
    except (ValueError, TypeError):
        return str(stamp or "")


HEADLINE_LABELS: Mapping[str, str] = {
    "requests": "requests",
    "success_ratio": "succeeded",
    "slos": "SLOs",
    "slos_at_risk": "SLOs at risk",
    "budget_remaining_min": "lowest budget left",
    "incidents": "incidents",
    "backlog_items": "backlog items",
    "open_questions": "open questions",
}


def _fmt_headline(key: str, v: Any) -> str:
    if isinstance(v, bool) or v is None:
        return str(v)
    if key == "success_ratio" and isinstance(v, int | float):
        return fmt_pct(v, 3)
    if key == "budget_remaining_min" and isinstance(v, int | float):
        return fmt_pct(v, 0)
    if isinstance(v, int):
        return f"{v:,}"
    if isinstance(v, float):
        return f"{v:.4g}"
    if isinstance(v, list):
        return ", ".join(map(str, v))
    return str(v)


# --------------------------------------------------------------------------------------------
# display tables for the report notebook (presentation only: rounding happens here)
# --------------------------------------------------------------------------------------------


def fmt_pct(x: Any, digits: int = 1) -> str:
    """A ratio as a percentage; '–' when unknown."""
    if x is None or (isinstance(x, float) and x != x):
        return "–"
    return f"{100.0 * float(x):.{digits}f}%"


def fmt_duration_s(x: Any) -> str:
    """Seconds in the unit a reader expects: ``45 s``, ``12 min``, ``3.5 h``, ``2.1 days``."""
    if x is None or (isinstance(x, float) and x != x):
        return "–"
    s = float(x)
    if abs(s) < 120:
        return f"{s:.0f} s"
    if abs(s) < 2 * 3600:
        return f"{s / 60:.0f} min"
    if abs(s) < 2 * 86400:
        return f"{s / 3600:.1f} h"
    return f"{s / 86400:.1f} days"


def _sec(report: Mapping[str, Any], key: str) -> Mapping[str, Any]:
    value = report.get(key)
    return value if isinstance(value, Mapping) else {}


def _rows(payload: Mapping[str, Any], key: str) -> list[Mapping[str, Any]]:
    value = payload.get(key)
    return [v for v in value if isinstance(v, Mapping)] if isinstance(value, list) else []


def _frame(rows: list[dict[str, Any]], columns: Sequence[str]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=list(columns))


def section_status(report: Mapping[str, Any], key: str) -> str:
    """``ok``, or the error text when the section's analysis failed in this run."""
    payload = _sec(report, key)
    if payload.get("status") == "failed":
        return str(payload.get("error", "failed"))
    return "ok"


def summary_figures_table(report: Mapping[str, Any]) -> pd.DataFrame:
    """The headline figures in plain words."""
    f = _sec(report, "summary").get("figures") or {}
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
    return _frame([{"figure": a, "value": b} for a, b in rows], ["figure", "value"])


def slo_table(report: Mapping[str, Any]) -> pd.DataFrame:
    """The SLOs in force: what is measured, the target, the window and why."""
    rows = []
    for s in _rows(_sec(report, "slo_proposal"), "slos"):
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
    return _frame(rows, ["SLO", "journey", "measures", "target", "window", "source", "why"])


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
        for s in _rows(_sec(report, "slo_proposal"), "slis")
    ]
    return _frame(rows, ["SLI", "definition", "query", "user impact", "provisional"])


def options_table(report: Mapping[str, Any]) -> pd.DataFrame:
    """SLO options per journey with their trade-offs."""
    rows = []
    for o in _rows(_sec(report, "slo_proposal"), "options"):
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
    return _frame(rows, ["journey", "option", "recommended", "objectives", "past windows met", "trade-off"])


def budget_table(report: Mapping[str, Any]) -> pd.DataFrame:
    """Error budget per SLO at the end of the data."""
    rows = [
        {
            "SLO": b.get("slo"),
            "target": fmt_pct(b.get("target"), 2),
            "budget used": fmt_pct(b.get("consumed"), 0),
            "budget left": fmt_pct(b.get("remaining"), 0),
            "full outage allowed": f"{b['allowed_outage_minutes']:.0f} min"
            if b.get("allowed_outage_minutes") is not None
            else "–",
            "state": b.get("status"),
        }
        for b in _rows(_sec(report, "error_budget_policy"), "slos")
    ]
    return _frame(rows, ["SLO", "target", "budget used", "budget left", "full outage allowed", "state"])


def budget_consumed(report: Mapping[str, Any]) -> pd.DataFrame:
    """Numbers behind the budget chart: slo, consumed (ratio, may exceed 1), status."""
    rows = [
        {"slo": str(b.get("slo")), "consumed": float(b.get("consumed") or 0.0), "status": str(b.get("status"))}
        for b in _rows(_sec(report, "error_budget_policy"), "slos")
    ]
    return _frame(rows, ["slo", "consumed", "status"])


def actions_table(report: Mapping[str, Any]) -> pd.DataFrame:
    """What the team does in each budget state."""
    policy = _sec(report, "error_budget_policy")
    states = policy.get("states") or {}
    rows = []
    for state, actions in (policy.get("actions") or {}).items():
        bounds = states.get(state) or {}
        parts = []
        if "consumed_from" in bounds:
            parts.append(f"from {fmt_pct(bounds['consumed_from'], 0)} used")
        if "consumed_below" in bounds:
            parts.append(f"below {fmt_pct(bounds['consumed_below'], 0)} used")
        when = " and ".join(parts)
        rows.append(
            {
                "state": state,
                "when": when,
                "what the team does": " ".join(actions) if isinstance(actions, list) else str(actions),
            }
        )
    return _frame(rows, ["state", "when", "what the team does"])


def forecast_table(report: Mapping[str, Any]) -> pd.DataFrame:
    """Monte Carlo forecast of each SLO's next window."""
    fc = _sec(report, "error_budget_policy").get("forecast") or {}
    rows = []
    for f in _rows(fc, "per_slo") if isinstance(fc, Mapping) else []:
        q = f.get("consumed_quantiles") or {}
        rows.append(
            {
                "SLO": f.get("slo"),
                "chance of running out": fmt_pct(f.get("p_exhaust"), 0),
                "budget used (likely)": fmt_pct(q.get("p50"), 0),
                "range (10%–90%)": f"{fmt_pct(q.get('p10'), 0)} – {fmt_pct(q.get('p90'), 0)}",
                "days in window": f.get("window_days"),
            }
        )
    return _frame(rows, ["SLO", "chance of running out", "budget used (likely)", "range (10%–90%)", "days in window"])


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
        for p in _rows(_sec(report, "alerting"), "policy")
    ]
    return _frame(rows, ["alert", "SLO", "sends", "windows", "fires when budget burns at"])


def backtest_table(report: Mapping[str, Any]) -> pd.DataFrame:
    """How the rules would have behaved on history (overall, pages only, each rule)."""
    bt = _sec(report, "alerting").get("backtest") or {}
    recs = [bt[k] for k in ("overall", "overall_pages") if isinstance(bt.get(k), Mapping)] + _rows(bt, "rules")
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
    return _frame(
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
        for r in _rows(_sec(report, "alerting"), "runbooks")
    ]
    return _frame(rows, ["alert", "sends", "runbook"])


def toil_table(report: Mapping[str, Any], *, top: int = 10) -> pd.DataFrame:
    """The biggest toil drivers."""
    rows = [
        {
            "task": t.get("task"),
            "category": t.get("category"),
            "hours per week": f"{float(t.get('hours_per_week') or 0):.1f}",
            "share of toil": fmt_pct(t.get("share_of_toil"), 0),
            "can be automated": "yes" if t.get("automatable") else "no",
            "trend": (t.get("trend") or {}).get("direction") if isinstance(t.get("trend"), Mapping) else t.get("trend"),
        }
        for t in _rows(_sec(report, "toil"), "inventory")[:top]
    ]
    return _frame(rows, ["task", "category", "hours per week", "share of toil", "can be automated", "trend"])


def toil_hours(report: Mapping[str, Any], *, top: int = 10) -> pd.DataFrame:
    """Numbers behind the toil chart: task, hours_per_week (busiest first)."""
    rows = [
        {"task": str(t.get("task")), "hours_per_week": float(t.get("hours_per_week") or 0.0)}
        for t in _rows(_sec(report, "toil"), "inventory")[:top]
    ]
    return _frame(rows, ["task", "hours_per_week"])


def candidates_table(report: Mapping[str, Any]) -> pd.DataFrame:
    """Automation candidates with their return on investment under uncertainty."""
    rows = []
    for c in _rows(_sec(report, "toil"), "candidates"):
        roi = c.get("roi") or {}
        pay = roi.get("payback_weeks") or {}
        cost = c.get("cost_hours") or {}
        rows.append(
            {
                "task": c.get("task"),
                "saves hours per week": f"{float(c.get('saved_hours_per_week') or 0):.1f}",
                "build cost (likely hours)": cost.get("likely"),
                "pays back in (weeks, likely)": f"{pay['p50']:.0f}" if pay.get("p50") is not None else "–",
                "chance it pays back": fmt_pct(roi.get("p_payback_within_horizon"), 0),
            }
        )
    return _frame(
        rows,
        [
            "task",
            "saves hours per week",
            "build cost (likely hours)",
            "pays back in (weeks, likely)",
            "chance it pays back",
        ],
    )


def instrumentation_table(report: Mapping[str, Any]) -> pd.DataFrame:
    """What to emit per journey when there is no telemetry yet (field names as the SLO area
    gives them)."""
    rows = [
        {
            str(k).replace("_", " "): (v if v is None or isinstance(v, str | int | float | bool) else json.dumps(v))
            for k, v in r.items()
        }
        for r in _rows(_sec(report, "slo_proposal"), "instrumentation_plan")
    ]
    return pd.DataFrame(rows)


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
        for r in _rows(_sec(report, "incident_response"), "follow_up")
    ]
    return _frame(rows, ["incident", "title", "severity", "postmortem", "open action items", "owner", "next step"])


def incident_metrics_table(report: Mapping[str, Any]) -> pd.DataFrame:
    """Time to detect / acknowledge / mitigate / resolve, with uncertainty."""
    rows = []
    for m in (_sec(report, "incident_response").get("metrics") or {}).values():
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
    return _frame(rows, ["measure", "incidents", "median", "likely range of the median", "slowest 10% take over"])


def recommendations_table(report: Mapping[str, Any]) -> pd.DataFrame:
    """Process changes and the metric that tracks each."""
    rows = [
        {"change": r.get("title"), "why": r.get("evidence"), "track with": r.get("metric_to_track")}
        for r in _rows(_sec(report, "incident_response"), "recommendations")
    ]
    return _frame(rows, ["change", "why", "track with"])


def backlog_table(report: Mapping[str, Any], *, top: int = 15) -> pd.DataFrame:
    """The ranked reliability backlog."""
    rows = []
    for b in _rows(_sec(report, "backlog"), "items")[:top]:
        impact = b.get("impact") or {}
        shown = (
            f"{float(impact['value']):,.0f} {str(impact.get('unit', '')).replace('_', ' ')}"
            if isinstance(impact, Mapping) and impact.get("value") is not None
            else str(impact)
        )
        rows.append(
            {
                "rank": b.get("rank"),
                "item": b.get("title"),
                "owner": b.get("owner"),
                "effort": b.get("effort"),
                "impact": shown,
                "evidence": b.get("evidence"),
            }
        )
    return _frame(rows, ["rank", "item", "owner", "effort", "impact", "evidence"])


def questions_table(report: Mapping[str, Any]) -> pd.DataFrame:
    """Open questions / assumptions in plain words."""
    from srekit.report.contract import SECTION_TITLES

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
    return _frame(rows, ["section", "question", "assumed meanwhile"])


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


def forecast_risk(report: Mapping[str, Any]) -> pd.DataFrame:
    """Numbers behind the forecast chart: slo, p_exhaust (chance the next window's budget runs out)."""
    fc = _sec(report, "error_budget_policy").get("forecast") or {}
    rows = [
        {"slo": str(f.get("slo")), "p_exhaust": float(f.get("p_exhaust") or 0.0)}
        for f in (_rows(fc, "per_slo") if isinstance(fc, Mapping) else [])
    ]
    return _frame(rows, ["slo", "p_exhaust"])
