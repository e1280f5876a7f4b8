"""The whole report on the committed samples: one full `srekit report` run (every notebook) shared
by the checks below, then the rendered pages opened in headless Chromium over the DevTools
protocol. Two incident titles are made hostile in a copy of the samples: one is HTML that would
run script, one is a spreadsheet formula."""

from __future__ import annotations

import base64
import html
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pandas as pd
import pytest
from conftest import ROOT, SAMPLES, require_tool

from srekit.report.contract import SECTION_KEYS
from srekit.report.html import offline_problems
from srekit.report.runner import in_report

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("report_samples")]

XSS_TITLE = "<img src=x onerror=alert(1)>"
FORMULA_TITLE = '=HYPERLINK("http://evil.invalid","x")'
ARTIFACTS = ROOT / "tests" / "artifacts"


@pytest.fixture(scope="module")
def sample_run(tmp_path_factory: pytest.TempPathFactory) -> dict:
    root = tmp_path_factory.mktemp("samples_report")
    data = root / "samples"
    shutil.copytree(SAMPLES, data)
    inc = pd.read_csv(data / "incidents.csv", dtype=str, keep_default_na=False)
    inc.loc[0, "title"] = XSS_TITLE
    inc.loc[3, "title"] = FORMULA_TITLE
    inc.to_csv(data / "incidents.csv", index=False)
    out = root / "reports"
    t0 = time.perf_counter()
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "srekit.cli",
            "report",
            "--config",
            str(data / "service.yaml"),
            "--out",
            str(out),
            "--no-progress",
        ],
        capture_output=True,
        text=True,
        timeout=900,
        cwd=ROOT,
    )
    runs = [p.parent for p in out.glob("*/*/run.json")]
    return {"proc": proc, "out": out, "run": runs[0] if runs else None, "seconds": time.perf_counter() - t0}


def test_every_notebook_rendered_ok(sample_run: dict) -> None:
    proc = sample_run["proc"]
    assert proc.returncode == 0, proc.stderr[-3000:]
    run: Path = sample_run["run"]
    info = json.loads((run / "run.json").read_text())
    expected = sorted(p.stem for p in (ROOT / "notebooks").glob("*.ipynb") if in_report(p))  # not 07, the explorer
    assert [n["name"] for n in info["notebooks"]] == expected
    assert all(n["status"] == "ok" for n in info["notebooks"]), info["notebooks"]
    for name in expected:
        assert (run / f"{name}.html").stat().st_size > 10_000
        assert (run / "engineer" / f"{name}.html").exists()
        assert (run / "notebooks" / f"{name}.ipynb").exists()
    assert "notebooks ok" in proc.stdout and str(sample_run["out"] / "index.html") in proc.stdout


def test_report_json_contract_on_samples(sample_run: dict) -> None:
    run: Path = sample_run["run"]
    d = json.loads((run / "report.json").read_text())
    assert tuple(d) == SECTION_KEYS
    assert d["meta"]["sections_failed"] == [] and d["meta"]["service"] == "shopfront"
    # DESIGN's 1-3 sentences, led by the analysed period (issue 19): at most 4
    sentences = d["summary"]["sentences"]
    assert 2 <= len(sentences) <= 4 and sentences[0].startswith("This report covers 2026-08-02 00:00 to 2026-10-31")
    for key in SECTION_KEYS[1:7]:
        assert d[key], f"section {key} is blank"
    assert {j["name"] for j in d["inputs"]["journeys"]} >= {"checkout", "browse", "search"}
    assert sum(j["traffic_share"] for j in d["inputs"]["journeys"]) == pytest.approx(1.0)
    assert d["inputs"]["critical_source"] == "configured"
    assert all(q.keys() == {"topic", "question", "assumption", "section"} for q in d["open_questions"])
    md = (run / "report.md").read_text()
    assert md.index("## 1. Summary") < md.index("## 7. Reliability Backlog") < md.index("## 8. Open Questions")


def test_rules_runbooks_and_csv_exports(sample_run: dict) -> None:
    run: Path = sample_run["run"]
    assert (run / "rules" / "prometheus" / "rules.yml").exists()
    assert list((run / "rules" / "runbooks").glob("*.md"))
    follow = (run / "incident_follow_up.csv").read_text()
    assert "'" + FORMULA_TITLE.replace('"', '""') in follow  # neutralised (and CSV-quoted)
    assert not re.search(r'(^|,)"?=HYPERLINK', follow, flags=re.M)
    assert (run / "backlog.csv").exists() and (run / "open_questions.csv").exists()


def test_html_offline_alt_text_and_escaping(sample_run: dict) -> None:
    run: Path = sample_run["run"]
    pages = sorted(run.glob("*.html")) + sorted((run / "engineer").glob("*.html")) + [sample_run["out"] / "index.html"]
    for page in pages:
        text = page.read_text()
        assert offline_problems(text) == [], page
        assert "<script" not in text.lower(), page
        assert XSS_TITLE not in text, page  # never raw markup
        for img in re.findall(r"<img\b[^>]*>", text):
            assert re.search(r'alt="[^"]{5,}"', img), (page, img[:120])
    stake = (run / "00_reliability_report.html").read_text()
    assert (
        "report_for_notebook" not in stake
        and "import" not in re.sub(r"<[^>]+>", "", stake).split("Reliability report", 1)[1][:2000]
    )
    assert '<nav class="srekit-toc"' in stake
    assert html.escape(XSS_TITLE) in (run / "report.md").read_text() or XSS_TITLE not in (run / "report.md").read_text()


def test_index_lists_the_run(sample_run: dict) -> None:
    index = (sample_run["out"] / "index.html").read_text()
    run: Path = sample_run["run"]
    rel = run.relative_to(sample_run["out"]).as_posix()
    assert f'href="{rel}/00_reliability_report.html"' in index and 'class="ok">ok' in index
    # requests outside the sample's maintenance windows (corrections: 18,996 requests cleared),
    # the low-traffic journey (refunds) included
    assert "requests: 74,788,615" in index and "succeeded: 99.9" in index


# ------------------------------------------------------------------------------------------
# headless Chromium over the DevTools protocol
# ------------------------------------------------------------------------------------------


class Browser:
    """A fresh headless Chromium driven over CDP (websocket-client)."""

    def __init__(self, tmp: Path, width: int, height: int) -> None:
        import websocket

        chromium = require_tool("chromium")
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        env = {**os.environ, "XDG_CONFIG_HOME": str(tmp / "xdg-config"), "XDG_CACHE_HOME": str(tmp / "xdg-cache")}
        self.proc = subprocess.Popen(
            [
                chromium,
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                f"--window-size={width},{height}",
                f"--user-data-dir={tmp / 'profile'}",
                f"--remote-debugging-port={port}",
                "about:blank",
            ],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 60
        targets = []
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list", timeout=2) as r:
                    targets = [t for t in json.loads(r.read()) if t.get("type") == "page"]
                if targets:
                    break
            except OSError:
                time.sleep(0.2)
        assert targets, "chromium did not open a DevTools endpoint"
        self.ws = websocket.create_connection(targets[0]["webSocketDebuggerUrl"], timeout=60, suppress_origin=True)
        self.next_id = 0
        self.events: list[dict] = []
        for method in ("Page.enable", "Runtime.enable", "Log.enable"):
            self.call(method)
        # headless windows have a minimum width; emulate the device so phone width is real
        self.call(
            "Emulation.setDeviceMetricsOverride", width=width, height=height, deviceScaleFactor=1, mobile=width < 600
        )

    def call(self, method: str, **params: object) -> dict:
        self.next_id += 1
        self.ws.send(json.dumps({"id": self.next_id, "method": method, "params": params}))
        while True:
            msg = json.loads(self.ws.recv())
            if msg.get("id") == self.next_id:
                assert "error" not in msg, msg
                return msg.get("result", {})
            self.events.append(msg)
            if msg.get("method") == "Page.javascriptDialogOpening":
                self.ws.send(
                    json.dumps(
                        {
                            "id": 10**6 + self.next_id,
                            "method": "Page.handleJavaScriptDialog",
                            "params": {"accept": True},
                        }
                    )
                )

    def open(self, url: str) -> None:
        self.events.clear()
        self.call("Page.navigate", url=url)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not any(e.get("method") == "Page.loadEventFired" for e in self.events):
            self.events.append(json.loads(self.ws.recv()))
        self.call("Runtime.evaluate", expression="new Promise(r => setTimeout(r, 300))", awaitPromise=True)

    def evaluate(self, expression: str) -> object:
        res = self.call("Runtime.evaluate", expression=expression, returnByValue=True)
        return res["result"].get("value")

    def errors(self) -> list[dict]:
        def bad(e: dict) -> bool:
            m, p = e.get("method"), e.get("params", {})
            return (
                m in ("Runtime.exceptionThrown", "Page.javascriptDialogOpening")
                or (m == "Runtime.consoleAPICalled" and p.get("type") == "error")
                or (m == "Log.entryAdded" and p.get("entry", {}).get("level") == "error")
            )

        return [e for e in self.events if bad(e)]

    def screenshot(self, path: Path) -> None:
        data = self.call("Page.captureScreenshot", format="png", captureBeyondViewport=True)["data"]
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(base64.b64decode(data))

    def close(self) -> None:
        try:
            self.ws.close()
        finally:
            self.proc.kill()
            self.proc.wait(timeout=30)


PROBE = """(() => ({
  images: [...document.images].map(i => ({w: i.naturalWidth, alt: i.alt, complete: i.complete})),
  xss: typeof window.__srekit_xss !== 'undefined',
  injected: document.querySelectorAll('img[src="x"]').length,
  overflow: document.documentElement.scrollWidth - window.innerWidth,
  width: window.innerWidth,
  text: document.body.innerText.length,
  split: (() => {  // plain words of table cells broken across lines (a column squeezed below a word)
    const out = [];
    for (const cell of document.querySelectorAll('table th, table td')) {
      const walk = document.createTreeWalker(cell, NodeFilter.SHOW_TEXT);
      for (let node; (node = walk.nextNode()); ) {
        for (const token of node.textContent.matchAll(/\\S+/g)) {
          if (token[0].length > 24) continue;  // a long token (code, a URL) may break where it overflows
          for (const m of token[0].matchAll(/[A-Za-z]+/g)) {
            const r = document.createRange();
            r.setStart(node, token.index + m.index);
            r.setEnd(node, token.index + m.index + m[0].length);
            const tops = new Set([...r.getClientRects()].filter(x => x.width > 0).map(x => Math.round(x.top)));
            if (tops.size > 1) out.push(m[0]);
          }
        }
      }
    }
    return out;
  })(),
}))()"""


@pytest.mark.parametrize("width,height,label", [(390, 844, "phone"), (1280, 900, "desktop")])
def test_browser_renders_reports(sample_run: dict, tmp_path: Path, width: int, height: int, label: str) -> None:
    run: Path = sample_run["run"]
    pages = sorted(run.glob("*.html")) + [sample_run["out"] / "index.html"]
    browser = Browser(tmp_path, width, height)
    try:
        for page in pages:
            browser.open(page.as_uri())
            probe = browser.evaluate(PROBE)
            assert isinstance(probe, dict)
            assert browser.errors() == [], (page.name, browser.errors()[:3])
            assert probe["injected"] == 0 and not probe["xss"], page.name  # no markup or script from data
            assert all(i["complete"] and i["w"] > 0 and i["alt"] for i in probe["images"]), (page.name, probe["images"])
            assert probe["text"] > 200, page.name
            assert probe["width"] == width
            assert probe["split"] == [], f"{page.name}: table words broken mid-word: {probe['split'][:8]}"
            if label == "phone":
                assert probe["overflow"] <= 2, f"{page.name} scrolls sideways by {probe['overflow']} px at phone width"
            if page.name in ("00_reliability_report.html", "01_telemetry.html"):
                assert probe["images"], f"{page.name} shows no charts"
        for name in ("00_reliability_report", "04_incidents"):
            browser.open((run / f"{name}.html").as_uri())
            browser.screenshot(ARTIFACTS / f"{name}-{label}.png")
        browser.open((sample_run["out"] / "index.html").as_uri())
        browser.screenshot(ARTIFACTS / f"index-{label}.png")
    finally:
        browser.close()
    assert (ARTIFACTS / f"00_reliability_report-{label}.png").stat().st_size > 10_000
