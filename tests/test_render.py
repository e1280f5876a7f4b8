"""tables.py: escaping, formula neutralisation, offline HTML, stakeholder view, index, atomic writes."""

from __future__ import annotations

import io
import json
import re

import nbformat
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from safety import csp_of, html_problems, md_plain, md_problems, page_text

from srekit.core import escape, files
from srekit.report import contract, html, markdown, tables
from srekit.report.contract import SECTION_KEYS
from srekit.report.nbshow import table_html

EVIL = "<img src=x onerror=alert(1)>"


def minimal_report(**over) -> dict:
    rep = {
        "summary": {"text": "All good.", "sentences": ["All good."], "figures": {"requests": 10}},
        "slo_proposal": {},
        "error_budget_policy": {},
        "alerting": {},
        "toil": {},
        "incident_response": {
            "follow_up": [
                {"incident_id": "I1", "title": EVIL, "postmortem": "pending"},
                {"incident_id": "I2", "title": '=HYPERLINK("http://x")', "postmortem": "pending"},
            ]
        },
        "backlog": {
            "items": [
                {
                    "rank": 1,
                    "title": "@SUM(A1:A9) fix | pipes",
                    "owner": "-alice",
                    "effort": "M",
                    "impact": {"value": 3.0},
                }
            ]
        },
        "open_questions": [{"topic": "t", "question": "q?", "assumption": "+a", "section": "inputs"}],
        "inputs": {
            "ranges": {},
            "missing": [],
            "journeys": [{"name": EVIL, "requests": 5}],
            "critical_journeys": [EVIL],
            "critical_source": "configured",
            "ledger": [],
        },
        "meta": {"service": "shop<script>", "generated_at": "2024-01-01T00:00:00+00:00", "srekit_version": "0.1.0"},
    }
    rep.update(over)
    return rep


def test_neutralize_formula_prefixes_only_on_text() -> None:
    for s in ("=1+1", "+A1", "-A1+1", "-2+3", "@A1", "\tx", "\rx", "-", "+", "-inf"):
        assert files.neutralize(s) == "'" + s
    assert files.neutralize("plain") == "plain"
    for number in ("-1", "+1", "-0.2", "-1,234.5", "-1e-05", "-5%", "-.5"):
        assert files.neutralize(number) == number  # a number is not a formula
    assert files.neutralize(-5) == -5
    assert files.neutralize(1.5) == 1.5


def test_csv_text_neutralizes_cells_and_headers_but_not_numbers() -> None:
    df = pd.DataFrame({"title": ["=cmd|' /C calc'!A0", "ok", "-2+3"], "=h": ["x", "@y", "-0.2"], "n": [-5, 2, 3]})
    back = pd.read_csv(io.StringIO(files.csv_text(df)), dtype=str)
    assert list(back.columns) == ["title", "'=h", "n"]
    assert back["title"].tolist() == ["'=cmd|' /C calc'!A0", "ok", "'-2+3"]
    assert back["'=h"].tolist() == ["x", "'@y", "-0.2"]
    assert back["n"].tolist() == ["-5", "2", "3"]


def test_md_text_escapes_html_and_markdown() -> None:
    out = markdown.md_text(EVIL)
    assert out == r"\<img src\=x onerror\=alert(1)\>"
    assert markdown.md_text("a|b [x](y) *z*") == r"a\|b \[x\](y) \*z\*"
    assert markdown.md_text("=SUM(A1)") == r"\=SUM(A1)"  # Markdown is no spreadsheet: no ' prefix
    assert markdown.md_text("-0.2") == "-0.2" and markdown.md_text("2026-08-05 10:12") == "2026-08-05 10:12"
    assert markdown.md_text(None) == "–" and markdown.md_text(True) == "yes" and markdown.md_text(1234) == "1,234"


def test_report_markdown_has_every_section_in_order_and_is_escaped() -> None:
    md = markdown.report_markdown(minimal_report())
    heads = re.findall(r"^## \d+\. (.+)$", md, flags=re.M)
    assert heads[:8] == [
        "Summary",
        "SLO Proposal",
        "Error Budget Policy",
        "Alerting + Runbooks",
        "Toil + Automation",
        "Incident Response Improvements",
        "Reliability Backlog",
        "Open Questions / Assumptions",
    ]
    assert len(heads) == len(SECTION_KEYS)
    assert md_problems(md) == [] and "<img src=x onerror=alert(1)>" in md_plain(md)
    assert r"\<img src\=x onerror\=alert(1)\>" in md
    assert r"\@SUM(A1\:A9) fix \| pipes" in md  # Markdown syntax escaped, table pipe escaped
    assert r"\=HYPERLINK" in md and r"\-alice" in md and r"\+a" in md  # text, not ' prefixed formulas
    assert "'" not in md.replace("what-if '", "")
    assert "_Not computed in this run._" in md  # empty sections say so, never a silent blank


def test_offline_problems_finds_resources_not_text() -> None:
    assert html.offline_problems("<p>see https://example.com for more</p>") == []
    assert html.offline_problems('<script src="https://cdn.x/y.js"></script>')
    assert html.offline_problems('<link rel="stylesheet" href="http://x/y.css">')
    assert html.offline_problems("<style>body{background:url( 'https://x/a.png')}</style>")
    assert html.offline_problems('<img src="//cdn.x/a.png">')
    assert html.offline_problems('<style>@import "https://fonts.x/css";</style>')
    assert html.offline_problems('<img src="data:image/png;base64,AAAA">') == []


def executed_notebook(error: bool = False) -> nbformat.NotebookNode:
    """An executed notebook built by hand (what papermill writes), no kernel needed."""
    nb = nbformat.v4.new_notebook()
    params = nbformat.v4.new_code_cell("config_path = 'x'", metadata={"tags": ["parameters"]})
    injected = nbformat.v4.new_code_cell("config_path = '/abs/x'", metadata={"tags": ["injected-parameters"]})
    show = nbformat.v4.new_code_cell("SECRET_CODE_TEXT = 1\nshow_table(df)")
    show.outputs = [
        nbformat.v4.new_output("stream", name="stdout", text="STRAY_PRINT\n"),
        nbformat.v4.new_output(
            "display_data", data={"text/html": table_html(pd.DataFrame({"title": [EVIL]})), "text/plain": "T"}
        ),
        nbformat.v4.new_output("execute_result", data={"text/plain": "<Axes: STRAY_REPR>"}, execution_count=1),
    ]
    quiet = nbformat.v4.new_code_cell("QUIET_CELL = 2")
    cells = [
        nbformat.v4.new_markdown_cell("# Title\n\nintro"),
        params,
        injected,
        nbformat.v4.new_markdown_cell("## Part one"),
        show,
        nbformat.v4.new_markdown_cell("## Part two"),
        quiet,
    ]
    if error:
        bad = nbformat.v4.new_code_cell("FAILING_CELL_CODE = 1 / 0")
        bad.outputs = [
            nbformat.v4.new_output(
                "error",
                ename="ZeroDivisionError",
                evalue="division by zero",
                traceback=["ZeroDivisionError: division by zero"],
            )
        ]
        cells.append(bad)
    nb.cells = cells
    return nb


def test_stakeholder_html_has_no_code_no_stray_outputs_and_escapes_data() -> None:
    out = html.notebook_html(executed_notebook(), audience="stakeholder", title="T <x>")
    assert "SECRET_CODE_TEXT" not in out and "config_path" not in out and "QUIET_CELL" not in out
    assert "STRAY_PRINT" not in out and "STRAY_REPR" not in out
    assert "&lt;img src=x onerror=alert(1)&gt;" in out and EVIL not in out
    assert "<script" not in out.lower()
    assert html.offline_problems(out) == []
    assert '<nav class="srekit-toc"' in out and 'href="#Part-one"' in out
    assert "<title>T &lt;x&gt;</title>" in out
    assert 'name="viewport"' in out and "@media (max-width: 600px)" in out


def test_engineer_html_keeps_code_and_failing_cell_shows_in_both() -> None:
    eng = html.notebook_html(executed_notebook(error=True), audience="engineer", title="T")
    assert "SECRET_CODE_TEXT" in eng and "FAILING_CELL_CODE" in eng
    st = html.notebook_html(executed_notebook(error=True), audience="stakeholder", title="T")
    assert "FAILING_CELL_CODE" in st and "ZeroDivisionError" in st
    assert "SECRET_CODE_TEXT" not in st
    with pytest.raises(ValueError, match="audience"):
        html.notebook_html(executed_notebook(), audience="everyone", title="T")


def test_data_in_tracebacks_streams_and_code_stays_text_in_both_audiences() -> None:
    """A failing cell whose error names hostile data, a stray print of it and a parameter cell
    holding it: escaped by nbconvert in both pages, which carry the CSP."""
    nb = executed_notebook(error=True)
    nb.cells[2].source = f"config_path = {EVIL!r}"
    nb.cells[-1].outputs[0]["evalue"] = EVIL
    nb.cells[-1].outputs[0]["traceback"] = [f"\x1b[31mValueError\x1b[0m: {EVIL}"]
    nb.cells[4].outputs[0]["text"] = EVIL
    for audience in ("stakeholder", "engineer"):
        out = html.notebook_html(nb, audience=audience, title=EVIL)
        assert html.active_content(out) == [] and html.offline_problems(out) == [], audience
        assert html_problems(out) == [] and csp_of(out) == [html.CSP], audience
        assert EVIL in page_text(out), audience  # shown, as text


def test_index_html_latest_first_escaped_with_status() -> None:
    runs = [
        {
            "service": "a",
            "generated_at": "2024-01-01T00:00:00+00:00",
            "status": "ok",
            "href": "a/2024-01-01",
            "notebooks": [{"name": "00_reliability_report", "status": "ok"}],
            "headline": {"requests": 5000},
        },
        {
            "service": EVIL,
            "generated_at": "2024-02-01T00:00:00+00:00",
            "status": "failed",
            "href": "b/2024-02-01",
            "notebooks": [{"name": "01_telemetry", "status": "failed"}],
            "headline": {"success_ratio": 0.99912},
        },
    ]
    out = html.index_html(runs)
    assert out.index("2024-02-01") < out.index("2024-01-01")
    assert EVIL not in out and "&lt;img" in out
    assert 'class="failed">failed' in out and "01_telemetry</a> (failed)" in out
    assert 'href="a/2024-01-01/00_reliability_report.html"' in out and "requests: 5,000" in out
    assert "succeeded: 99.912%" in out
    assert html.offline_problems(out) == []
    assert "No runs yet" in html.index_html([])
    assert html.CSP_META in out and html.active_content(out) == []


def test_index_links_are_relative_paths_whatever_the_folder_is_called() -> None:
    run = {"service": "s", "href": "javascript:alert(1)/2024 #x", "notebooks": [{"name": "00_r", "status": "ok"}]}
    out = html.index_html([run])
    assert 'href="javascript%3Aalert%281%29/2024%20%23x/00_r.html"' in out
    assert html.active_content(out) == [] and html.offline_problems(out) == []


def test_atomic_write_replaces_and_leaves_no_temp(tmp_path) -> None:
    p = tmp_path / "sub" / "report.json"
    files.atomic_write(p, "old")
    files.atomic_write(p, json.dumps({"a": 1}))
    assert json.loads(p.read_text()) == {"a": 1}
    assert sorted(x.name for x in p.parent.iterdir()) == ["report.json"]


def test_report_json_text_rejects_nan() -> None:
    with pytest.raises(ValueError):
        contract.report_json_text({"x": float("nan")})


def test_display_tables_survive_empty_and_failed_sections() -> None:
    rep = minimal_report(alerting={"status": "failed", "error": "KeyError: 'x'"})
    assert tables.section_status(rep, "alerting") == "KeyError: 'x'"
    assert tables.section_status(rep, "toil") == "ok"
    for f in (
        tables.slo_table,
        tables.budget_table,
        tables.forecast_table,
        tables.alert_policy_table,
        tables.backtest_table,
        tables.toil_table,
        tables.candidates_table,
        tables.incident_metrics_table,
        tables.backlog_table,
        tables.questions_table,
    ):
        assert isinstance(f(rep), pd.DataFrame)
    assert tables.backlog_table(rep)["item"].tolist() == ["@SUM(A1:A9) fix | pipes"]  # HTML tables escape on display


def test_duration_and_percent_formatting() -> None:
    assert tables.fmt_duration_s(45) == "45 s"
    assert tables.fmt_duration_s(300) == "5 min"
    assert tables.fmt_duration_s(19560) == "5.4 h"
    assert tables.fmt_duration_s(3 * 86400) == "3.0 days"
    assert tables.fmt_duration_s(None) == "–"
    assert tables.fmt_pct(0.99948, 3) == "99.948%"


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.sampled_from(
            [
                'src="',
                "href='",
                "url(",
                "@import '",
                'import("',
                "data=",
                "http:",
                "https:",
                "//",
                "/",
                " ",
                "x",
                "=",
                '"',
                "a//b",
                "SRC = ",
                "\n",
                "srcset=",
                "<",
                ">",
                "<img ",
                "<script>",
                "on",
                "error=",
                "javascript:",
            ]
        ),
        max_size=30,
    )
)
def test_escaped_text_is_never_a_resource_or_code(parts: list[str]) -> None:
    """Whatever data says (``href=https://…``, ``<img src=//…>``), once escaped it is text: the
    parsed page has no resource and nothing that runs; the same text as markup is found."""
    text = "".join(parts)
    page = f'<p>{escape.html_text(text)}</p><table><td title="{escape.html_text(text)}">x</td></table>'
    assert html.offline_problems(page) == [] and html.active_content(page) == []
    assert html.offline_problems(f'<img src="//{escape.html_text(text)}">')  # the same text as a resource


def test_accessible_matches_nbconverts_soup_pass() -> None:
    """srekit's exporter skips nbconvert's BeautifulSoup pass; the page is the same once both are
    normalised by the same parser (alt text added where missing, inputs/outputs focusable)."""
    from bs4 import BeautifulSoup
    from nbconvert import HTMLExporter

    nb = nbformat.v4.new_notebook(metadata={"language_info": {"name": "python"}})
    png = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="
    nb.cells = [
        nbformat.v4.new_markdown_cell("# Title\n\nSome *text* and an <img src='x.png'> inline"),
        nbformat.v4.new_code_cell(
            "x = 1",
            outputs=[
                nbformat.v4.new_output("display_data", data={"image/png": png, "text/plain": "<Figure>"}),
                nbformat.v4.new_output(
                    "display_data",
                    data={
                        "text/html": '<img src="data:image/png;base64,AAAA" alt="a chart"><div '
                        'class="jp-OutputArea-output">x</div>'
                    },
                ),
                nbformat.v4.new_output("stream", name="stdout", text="hello\n"),
            ],
        ),
    ]
    ours, _ = html._exporter("engineer").from_notebook_node(nb)
    stock, _ = HTMLExporter(config=html._exporter("engineer").config, template_name="lab").from_notebook_node(nb)
    assert str(BeautifulSoup(ours, "html.parser")) == str(BeautifulSoup(stock, "html.parser"))
    assert html.MISSING_ALT in ours and 'alt="a chart"' in ours and ours.count('tabindex="0"') >= 3
