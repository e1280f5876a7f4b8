"""Notebook HTML (stakeholder and engineer views) and the run index.

Self-contained, offline and script-free: nbconvert's CDN MathJax / require.js / mermaid URLs are
blanked and every ``<script>`` block of its template is dropped (the reports need no JavaScript,
in either audience); images are inline data URIs. Every page carries a Content-Security-Policy
(:data:`CSP`) that forbids scripts, event handlers, frames, plugins and any fetch but inline
images and styles. The post-check parses the finished page (:mod:`srekit.report.htmlscan`): a
resource that is not embedded (:func:`offline_problems`) or anything that could run code
(:func:`active_content`) is a srekit bug and stops the page; escaped data that merely mentions
``href=https://…`` is text.
"""

from __future__ import annotations

import copy
import functools
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any
from urllib.parse import quote

import pandas as pd

from srekit.core.escape import html_text
from srekit.report.htmlscan import Heading, scan_page
from srekit.report.tables import fmt_pct

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
table.srekit-table th, table.srekit-table td { text-align: left !important; vertical-align: top; min-width: 4rem;
  max-width: 28rem; white-space: normal !important; overflow-wrap: break-word; }
nav.srekit-toc { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; border: 1px solid #ccc;
  border-radius: 4px; padding: .5rem 1rem; margin: 1rem 0; font-size: .95rem; }
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


#: The pages' Content-Security-Policy: nothing runs (no script, inline or not, no event handler,
#: no ``javascript:`` URL), nothing is fetched but the page's own ``data:`` images and inline
#: styles, no frames, plugins, forms or ``<base>``. Both audiences need exactly this (their
#: scripts are removed); links to the other pages are navigation and stay allowed.
CSP = "default-src 'none'; img-src data:; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'"


CSP_META = f'<meta http-equiv="Content-Security-Policy" content="{CSP}">'


def with_csp(page: str) -> str:
    """``page`` with :data:`CSP_META` as the first element of its ``<head>``."""
    return re.sub(r"<head\b[^>]*>", lambda m: m.group(0) + "\n" + CSP_META, page, count=1)


def offline_problems(text: str) -> list[str]:
    """Every resource of the parsed page a browser would fetch from outside it (``src``,
    ``srcset``, ``poster``, ``<link href>``, SVG ``href``, CSS ``url()``/``@import``, remote or
    relative) — empty when the page is self-contained. Text mentioning a URL or ``src=//…`` is
    text, not a resource."""
    return scan_page(text).remote


def active_content(text: str) -> list[str]:
    """Everything in the parsed page that could run code: ``<script>``, frames and plugins,
    ``on*`` event handlers, ``javascript:`` (and HTML ``data:``) URLs, ``srcdoc``, refresh
    redirects — empty for a srekit page."""
    return scan_page(text).active


def _toc(headings: Sequence[Heading]) -> str:
    items = [
        f'<li class="toc-h{h.level}"><a href="#{html_text(h.anchor)}">{html_text(h.text)}</a></li>'
        for h in headings
        if h.text
    ]
    if len(items) < 2:
        return ""
    return (
        '<nav class="srekit-toc" aria-label="Table of contents"><strong>Contents</strong><ul>'
        + "".join(items)
        + "</ul></nav>"
    )


def finish_html(body: str, *, title: str) -> str:
    """Post-process nbconvert output: drop the template's scripts, add the CSP, the phone-width
    CSS, the title and a table of contents; raise if the parsed page fetches anything from
    outside it or holds anything that could run code."""
    body = _SCRIPT.sub("", body)
    body = re.sub(r"<title>.*?</title>", lambda _: f"<title>{html_text(title)}</title>", body, count=1, flags=re.S)
    body = with_csp(body).replace("</head>", _EXTRA_CSS + "</head>", 1)
    scan = scan_page(body)
    problems = scan.remote + scan.active
    if problems:
        raise RuntimeError(f"rendered HTML {title!r} is not self-contained and script-free: {problems[:3]}")
    toc = _toc(scan.headings)
    if toc:
        body = body.replace("<main>", "<main>" + toc, 1)
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


_INDEX_HEAD = f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
{CSP_META}
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>srekit reports</title>
<style>
body {{ font-family: system-ui, sans-serif; margin: 0 auto; max-width: 60rem; padding: 1rem; }}
table {{ border-collapse: collapse; width: 100%; display: block; overflow-x: auto; }}
th, td {{ text-align: left; padding: .35rem .6rem; border-bottom: 1px solid #ddd; vertical-align: top; }}
.ok {{ color: #17663a; }} .failed {{ color: #a11; font-weight: bold; }}
</style></head><body><main>
<h1>Reliability reports</h1>
"""


def relative_url(*paths: str) -> str:
    """A relative URL of a file path (``/``-separated parts), every segment percent-encoded: a
    folder named ``javascript:x`` or ``a#b`` stays a path (``javascript%3Ax``), never a scheme or
    a fragment."""
    return "/".join(quote(seg, safe="") for p in paths for seg in str(p).split("/") if seg)


def index_html(runs: Iterable[Mapping[str, Any]]) -> str:
    """``reports/index.html``: every run, latest first, with status and headline figures.

    Each run is its ``run.json`` mapping plus ``href`` (the run folder relative to the index).
    """
    ordered = sorted(runs, key=lambda r: str(r.get("generated_at", "")), reverse=True)
    e = html_text
    rows = []
    for r in ordered:
        status = str(r.get("status", "unknown"))
        cls = "ok" if status == "ok" else "failed"
        href = str(r.get("href", ""))
        links = [
            f'<a href="{e(relative_url(href, str(n["name"]) + ".html"))}">{e(n["name"])}</a>'
            + ("" if n.get("status") == "ok" else " (failed)")
            for n in r.get("notebooks", [])
        ]
        links.append(f'<a href="{e(relative_url(href, "report.md"))}">report.md</a>')
        links.append(f'<a href="{e(relative_url(href, "report.json"))}">report.json</a>')
        figures = dict(r.get("headline") or {})
        period = _period(figures.pop("period_start", None), figures.pop("period_end", None))
        fig_text = "; ".join(
            f"{e(HEADLINE_LABELS.get(str(k), str(k).replace('_', ' ')))}: {e(_fmt_headline(str(k), v))}"
            for k, v in figures.items()
        )
        rows.append(
            f"<tr><td>{e(_when(r.get('generated_at')))}</td><td>{e(str(r.get('service', '')))}</td>"
            f'<td>{e(period)}</td><td class="{cls}">{e(status)}</td><td>{fig_text}</td>'
            f"<td>{' · '.join(links)}</td></tr>"
        )
    table = (
        "<table><thead><tr><th>Generated (UTC)</th><th>Service</th><th>Period analysed (UTC)</th><th>Status</th>"
        "<th>Headline</th><th>Reports</th></tr></thead><tbody>" + "".join(rows) + "</tbody></table>"
    )
    if not rows:
        table = "<p>No runs yet.</p>"
    return _INDEX_HEAD + table + "\n</main></body></html>\n"


def _period(start: Any, end: Any) -> str:
    """The analysed period of a run, ``2026-08-02 → 2026-10-31`` (``–`` for runs made before it was recorded)."""
    if not start or not end:
        return "–"
    return f"{_when(start)[:10]} → {_when(end)[:10]}"


def _when(stamp: Any) -> str:
    try:
        return pd.Timestamp(str(stamp)).tz_convert("UTC").strftime("%Y-%m-%d %H:%M")
    except (ValueError, TypeError):
        return str(stamp or "")


HEADLINE_LABELS: Mapping[str, str] = {
    "requests": "requests",
    "samples": "series samples",
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
