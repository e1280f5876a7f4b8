"""The whole report (``srekit report`` as a user runs it: real papermill, nbconvert, promtool)
on a copy of the samples with hostile text in every piece of user text (``tests/hostile.py``),
then every output checked in the format it is written in, with other parsers than srekit's:
HTML pages (html5lib, and headless Chromium through Playwright), Markdown (markdown-it-py with
GFM, linkify and math), CSV (csv module), YAML and PromQL (promtool, PyYAML, the OpenSLO
checks), file names."""

from __future__ import annotations

import base64
import csv
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from conftest import ROOT, SAMPLES, require_tool
from hostile import CORPUS, JOURNEY_OWNER, JOURNEYS, OWNERS, PARAMETER, REGIONS, SERVICE, TEAM, hostile_samples
from safety import csp_of, csv_problems, html_problems, md_plain, md_problems, page_text

from srekit.core.escape import printable
from srekit.inputs.openslo import read_openslo_specs, validate_document
from srekit.report.html import CSP, active_content, offline_problems
from srekit.report.runner import in_report

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("output_safety")]

SAFE_NAME = re.compile(r"[A-Za-z0-9_-][A-Za-z0-9._-]*")


def shown(text: str) -> str:
    """``text`` as a page or a rendered Markdown shows it: controls as U+FFFD, whitespace runs
    as one space."""
    return " ".join(printable(text).split())


def in_table(text: str) -> str:
    """``text`` as an HTML table cell shows it: pandas writes tab, CR and LF as ``\\t``,
    ``\\r``, ``\\n``."""
    return shown(text.replace("\t", "\\t").replace("\r", "\\r").replace("\n", "\\n"))


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> dict:
    root = tmp_path_factory.mktemp("hostile")
    config = hostile_samples(SAMPLES, root / "data")
    out = root / "reports"
    proc = subprocess.run(
        [sys.executable, "-m", "srekit.cli", "report", "--config", str(config), "--out", str(out), "--no-progress"]
        + ["-p", "burn_rate_window=6h"],
        capture_output=True,
        text=True,
        timeout=900,
        cwd=ROOT,
    )
    runs = [p.parent for p in out.glob("*/*/run.json")]
    return {"proc": proc, "out": out, "run": runs[0] if runs else None}


def test_a_hostile_parameter_is_refused_before_anything_is_written(tmp_path: Path) -> None:
    """``-p`` values are checked against what their notebook does with them (exit 2), so hostile
    text in one never reaches a page, a chart or report.json."""
    out = tmp_path / "reports"
    proc = subprocess.run(
        [sys.executable, "-m", "srekit.cli", "report", "--config", str(SAMPLES / "service.yaml"), "--out", str(out)]
        + ["-p", f"burn_rate_window={PARAMETER}"],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=ROOT,
    )
    assert proc.returncode == 2 and "Traceback" not in proc.stderr, proc.stderr
    assert "burn_rate_window" in proc.stderr and "must be one of 1h, 6h, 1d, 3d" in proc.stderr
    assert not out.exists() or not [p for p in out.rglob("*") if p.is_file()]


def pages(run: dict) -> list[Path]:
    d: Path = run["run"]
    return sorted(d.glob("*.html")) + sorted((d / "engineer").glob("*.html")) + [run["out"] / "index.html"]


def test_the_report_runs_through_and_places_the_run(run: dict) -> None:
    proc = run["proc"]
    assert proc.returncode == 0, proc.stderr[-3000:]
    info = json.loads((run["run"] / "run.json").read_text())
    assert all(n["status"] == "ok" for n in info["notebooks"]), info["notebooks"]
    assert len(info["notebooks"]) == len([p for p in (ROOT / "notebooks").glob("*.ipynb") if in_report(p)])
    assert (run["out"] / "index.html").exists()
    report = json.loads((run["run"] / "report.json").read_text())
    assert report["meta"]["service"] == SERVICE and report["meta"]["parameters"]["burn_rate_window"] == "6h"
    assert {j["name"] for j in report["inputs"]["journeys"]} == set(JOURNEYS.values())


def test_every_page_is_inert_self_contained_and_has_the_csp(run: dict) -> None:
    for page in pages(run):
        text = page.read_text(encoding="utf-8")
        assert html_problems(text) == [], page  # html5lib: what a browser builds
        assert offline_problems(text) == [] and active_content(text) == [], page  # srekit's own check agrees
        assert csp_of(text) == [CSP], page


def test_hostile_text_shows_as_the_text_it_is(run: dict) -> None:
    d: Path = run["run"]
    incidents = page_text((d / "04_incidents.html").read_text(encoding="utf-8"))
    assert f"Postmortem: <incident title> ({SERVICE})" in incidents  # the template's heading, placeholders kept
    for placeholder in ("<YYYY-MM-DD>", "<names>", "<link>", "SEV<1-4>", "<hh:mm>"):
        assert placeholder in incidents
    report = json.loads((d / "report.json").read_text())
    titles = [r["title"] for r in report["incident_response"]["follow_up"]]
    assert titles and all(in_table(t)[:300] in incidents for t in titles)
    assert CORPUS["event handler"] in incidents and CORPUS["href text"] in incidents
    toil = page_text((d / "06_toil.html").read_text(encoding="utf-8"))
    assert any(shown(t) in toil for t in CORPUS.values())
    alerting = page_text((d / "03_alerting.html").read_text(encoding="utf-8"))
    assert JOURNEYS["checkout"] in alerting and sum(shown(t) in alerting for t in CORPUS.values()) >= 5
    slo = page_text((d / "02_sli_slo.html").read_text(encoding="utf-8"))
    assert all(shown(region) in slo for region in REGIONS.values())  # the breakdown's label values


def test_chart_text_is_drawn_as_written(run: dict) -> None:
    """The journeys go into legends: drawn as text, not mathtext (``$\\nosuchmacro$`` would fail
    the chart). A hostile ``-p`` value no longer reaches a chart: it is refused before the run
    (:func:`test_a_hostile_parameter_is_refused_before_anything_is_written`)."""
    page = (run["run"] / "02_sli_slo.html").read_text(encoding="utf-8")
    svgs = [base64.b64decode(m).decode("utf-8") for m in re.findall(r'src="data:image/svg\+xml;base64,([^"]+)"', page)]
    assert any("$\\nosuchmacro$" in svg and "&lt;script&gt;" in svg for svg in svgs)
    assert all("<script" not in svg for svg in svgs)


def markdown_files(run: dict) -> list[Path]:
    d: Path = run["run"]
    return [d / "report.md", d / "rules" / "README.md", *sorted((d / "rules" / "runbooks").glob("*.md"))]


def test_markdown_outputs_render_data_as_text(run: dict) -> None:
    files = markdown_files(run)
    assert len(files) > 4
    for path in files:
        text = path.read_text(encoding="utf-8")
        assert md_problems(text) == [], path
    report = shown(md_plain((run["run"] / "report.md").read_text(encoding="utf-8")))
    assert f"Reliability report: {SERVICE}" in report
    owners = [OWNERS[k] for k in ("slo", "alerting", "incidents", "toil")]
    follow_up = [
        r["title"] for r in json.loads((run["run"] / "report.json").read_text())["incident_response"]["follow_up"]
    ]
    assert any("\n" in t for t in follow_up) and any("\x00" in t for t in follow_up)
    for text in (JOURNEY_OWNER, *owners, *JOURNEYS.values(), *follow_up):
        assert shown(text) in report, text
    assert not re.search(r"\| '[-+]?[0-9]", (run["run"] / "report.md").read_text()), "a number shown as '-0.2"
    runbook = md_plain(files[-1].read_text(encoding="utf-8"))
    assert shown(TEAM) in runbook and SERVICE in runbook
    assert SERVICE in md_plain(files[1].read_text(encoding="utf-8"))


def test_csv_cells_are_neutralised_and_numbers_untouched(run: dict) -> None:
    d: Path = run["run"]
    files = sorted(d.glob("*.csv")) + sorted((d / "quarantine").glob("*.csv"))
    assert any(p.parent.name == "quarantine" for p in files), "the rejected hostile toil rows were quarantined"
    for path in files:
        assert csv_problems(path) == [], path
    text = "\n".join(p.read_text(encoding="utf-8") for p in files)
    assert "'" + CORPUS["formula ="].replace('"', '""') in text and "'-2+3" in text  # formulas neutralised
    assert ",-5," in text  # a rejected negative number stays a number
    report = json.loads((d / "report.json").read_text())
    ranks = [str(r["rank"]) for r in report["backlog"]["items"]]
    scores = [r["score"] for r in report["backlog"]["items"]]
    rows = list(csv.DictReader((d / "backlog.csv").open(encoding="utf-8")))
    assert [r["rank"] for r in rows] == ranks and [float(r["score"]) for r in rows] == pytest.approx(scores)


def test_rules_pass_promtool_and_label_values_round_trip(run: dict) -> None:
    promtool = require_tool("promtool")
    prom = run["run"] / "rules" / "prometheus"
    check = subprocess.run([promtool, "check", "rules", "rules.yml"], cwd=prom, capture_output=True, text=True)
    assert check.returncode == 0, check.stdout + check.stderr
    test = subprocess.run([promtool, "test", "rules", "rules_test.yml"], cwd=prom, capture_output=True, text=True)
    assert test.returncode == 0, test.stdout + test.stderr  # expected labels and expanded annotations match
    rules = yaml.safe_load((prom / "rules.yml").read_text(encoding="utf-8"))
    records = [r for g in rules["groups"] for r in g["rules"] if "record" in r]
    assert records and all(r["labels"]["srekit_service"] == SERVICE for r in records)
    assert {r["labels"]["srekit_journey"] for r in records} == set(JOURNEYS.values())
    alerts = [r for g in rules["groups"] for r in g["rules"] if "alert" in r]
    assert all("{{ .Labels }}" not in a["annotations"]["description"] for a in alerts)  # no live template action
    assert any('{{"{{"}} .Labels }}' in a["annotations"]["description"] for a in alerts)


def test_openslo_documents_are_valid_and_read_back(run: dict) -> None:
    files = sorted((run["run"] / "rules" / "openslo").glob("*.yaml"))
    assert files
    for path in files:
        for doc in yaml.safe_load_all(path.read_text(encoding="utf-8")):
            assert validate_document(doc) == [], (path.name, doc.get("kind"))
    specs = read_openslo_specs(files)
    assert {s.journey for s in specs} == set(JOURNEYS.values())


def test_every_file_name_is_safe_and_inside_the_output_folder(run: dict) -> None:
    out: Path = run["out"].resolve()
    written = [p for p in out.rglob("*")]
    assert len(written) > 40
    seen: set[str] = set()
    for p in written:
        rel = p.resolve().relative_to(out)  # raises when outside
        assert all(SAFE_NAME.fullmatch(part) and len(part) <= 120 for part in rel.parts), rel
        assert rel.as_posix().casefold() not in seen, f"{rel} collides with another file"
        seen.add(rel.as_posix().casefold())
    assert not (out.parent / "etc").exists() and not (out.parent / "pay").exists()


def test_hostile_input_never_runs_in_a_browser(run: dict, tmp_path: Path) -> None:
    """The stakeholder pages, one engineer page and the index in headless Chromium (Playwright):
    no dialog opens, no script runs, no request leaves the page, and the CSP never had to block
    anything (so nothing that could run was in the page to begin with)."""
    from playwright import sync_api

    chromium = require_tool("chromium")  # shutil.which("chromium")
    d: Path = run["run"]
    targets = [*sorted(d.glob("*.html")), d / "engineer" / "04_incidents.html", run["out"] / "index.html"]
    events: list[str] = []
    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=chromium, args=["--no-sandbox"])
        try:
            page = browser.new_page()
            page.on("dialog", lambda dialog: (events.append(f"dialog {dialog.message}"), dialog.dismiss()))
            page.on("console", lambda msg: events.append(f"console {msg.type}: {msg.text[:200]}"))
            page.on("pageerror", lambda exc: events.append(f"pageerror {exc}"))
            page.on(
                "request",
                lambda req: None if req.url.startswith(("data:", "file:")) else events.append(f"request {req.url}"),
            )
            for target in targets:
                page.goto(target.as_uri(), wait_until="load")
                page.wait_for_timeout(200)
                probe = page.evaluate(
                    """() => ({
                      code: document.querySelectorAll('script, iframe, object, embed, base').length,
                      handlers: [...document.querySelectorAll('*')].filter(
                        e => [...e.attributes].some(a => a.name.startsWith('on'))).length,
                      jsLinks: [...document.querySelectorAll('[href], [src]')].filter(
                        e => /^\\s*javascript:/i.test(e.getAttribute('href') || e.getAttribute('src') || '')).length,
                      text: document.body.innerText.length,
                    })"""
                )
                assert probe["code"] == 0 and probe["handlers"] == 0 and probe["jsLinks"] == 0, (target.name, probe)
                assert probe["text"] > 200, (target.name, probe)
            page.goto((d / "04_incidents.html").as_uri(), wait_until="load")
            seen = page.inner_text("body")
            assert "<incident title>" in seen and CORPUS["event handler"] in seen  # shown as text
        finally:
            browser.close()
    assert events == [], events[:5]
