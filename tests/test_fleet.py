"""``srekit fleet report`` end to end: 12 sample services (one with a broken telemetry file) →
11 reports, the broken one listed with its reason, exit 1; the overview's figures against each
service's own report.json; the compliance calendar against a month summed by hand from a
service's telemetry; the Dask path on a real scheduler and two workers against the local pool;
the page in headless Chromium at desktop and phone width; and the pure overview on hand cases."""

from __future__ import annotations

import csv
import io
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import yaml

from srekit.analysis.fleet import AT_RISK_P_EXHAUST, ServiceRun, fleet_overview, risk_key
from srekit.report.fleet_html import fleet_html

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("fleet")]

BIN = Path(sys.executable).parent
ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
SRKIT = [sys.executable, "-m", "srekit.cli"]
BROKEN = "inventory"  # service 5 of the sample fleet: its telemetry file is overwritten with junk
DAYS = 35  # 2026-09-26 → 2026-10-31 UTC: every service's history crosses a month boundary


def srekit(*args: str, timeout: float = 600) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(BIN / "srekit"), *args], capture_output=True, text=True, timeout=timeout, check=False)


def _fleet_samples(root: Path, n: int) -> Path:
    done = srekit("samples", "--fleet", str(n), "--days", str(DAYS), "--out", str(root))
    assert done.returncode == 0, done.stderr
    return root / "fleet.yaml"


def _overviews(out: Path) -> list[Path]:
    """The overview folders under ``out/fleet`` (beside them: index.html, the list of overviews)."""
    return sorted(p for p in (out / "fleet").iterdir() if p.is_dir())


@pytest.fixture(scope="module")
def fleet_run(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    root = tmp_path_factory.mktemp("fleet")
    config = _fleet_samples(root / "fleet", 12)
    broken = root / "fleet" / "fulfilment" / BROKEN / "telemetry.parquet"
    broken.write_bytes(b"this is not a parquet file\n")
    out = root / "reports"
    t0 = time.perf_counter()
    done = srekit("fleet", "report", "--config", str(config), "--out", str(out), "--jobs", "2")
    seconds = time.perf_counter() - t0
    folders = _overviews(out)
    assert len(folders) == 1, folders
    data = json.loads((folders[0] / "fleet.json").read_text())
    return {"done": done, "out": out, "folder": folders[0], "fleet": data, "root": root, "seconds": seconds}


def test_twelve_services_one_broken_eleven_reports_exit_1(fleet_run: dict[str, Any]) -> None:
    done, out, d = fleet_run["done"], fleet_run["out"], fleet_run["fleet"]
    assert done.returncode == 1, done.stderr
    runs = sorted(p.parent.parent.name for p in out.glob("*/*/run.json"))
    assert len(runs) == 11 and BROKEN not in runs, runs
    for name in runs:
        (run_dir,) = (out / name).iterdir()
        assert (run_dir / "00_reliability_report.html").is_file() and (run_dir / "report.json").is_file()
        assert json.loads((run_dir / "run.json").read_text())["status"] == "ok"
    failed = [s for s in d["services"] if s["status"] != "ok"]
    assert [s["service"] for s in failed] == [BROKEN] and failed[0]["report_dir"] is None
    assert "telemetry.parquet" in failed[0]["reason"] and "fix:" in failed[0]["reason"], failed[0]["reason"]
    assert d["services"][0]["service"] == BROKEN  # failed services first
    assert d["headline"]["services"] == 12 and d["headline"]["services_failed"] == 1
    assert f"{BROKEN} failed" in done.stderr and "11/12 services ok" in done.stdout
    page = (fleet_run["folder"] / "index.html").read_text()
    assert "Services that failed" in page and BROKEN in page
    rows = list(csv.DictReader(io.StringIO((fleet_run["folder"] / "fleet.csv").read_text(), newline="")))
    assert [r["service_status"] for r in rows if r["service"] == BROKEN] == ["failed"]
    assert len(rows) == len(d["rows"]) + 1
    assert not list(out.rglob(".*partial*")), "a scratch folder stayed behind"
    assert (out / "index.html").read_text().count("00_reliability_report.html") == 11
    overviews = (out / "fleet" / "index.html").read_text()  # the page to bookmark: every overview
    assert f'href="{fleet_run["folder"].name}/index.html"' in overviews and "1 failed" in overviews


def _expected_rows(out: Path, d: dict[str, Any]) -> list[dict[str, Any]]:
    """Every SLO row read straight from each service's report.json (an independent reading)."""
    expected = []
    for s in d["services"]:
        if s["status"] == "failed":
            continue
        report = json.loads((out / s["report_dir"] / "report.json").read_text())
        policy = report["error_budget_policy"]
        forecast = {f["slo"]: f for f in policy["forecast"]["per_slo"]}
        alerting = report["alerting"]
        pages = alerting["backtest"]["overall_pages"]
        ttr = report["incident_response"]["metrics"].get("ttr") or {}
        for b in policy["slos"]:
            expected.append(
                {
                    "service": s["service"],
                    "slo": b["slo"],
                    "status": b["status"],
                    "consumed": b["consumed"],
                    "remaining": b["remaining"],
                    "target": b["target"],
                    "p_exhaust": forecast[b["slo"]]["p_exhaust"],
                    "pages_per_week_now": alerting["existing_pages"]["pages_per_week"],
                    "pages_per_week_policy": pages["pages_per_week"] if pages else 0.0,
                    "incidents": report["incident_response"]["incidents"],
                    "ttr_median_s": ttr.get("median_s"),
                    "top_backlog_item": report["backlog"]["items"][0]["title"],
                    "team": s["team"],
                    "tier": s["tier"],
                }
            )
    return expected


def test_overview_figures_equal_each_services_report_json(fleet_run: dict[str, Any]) -> None:
    d = fleet_run["fleet"]
    expected = _expected_rows(fleet_run["out"], d)
    got = {(r["service"], r["slo"]): r for r in d["rows"]}
    assert len(got) == len(d["rows"]) == len(expected) == d["headline"]["slos"]
    for e in expected:
        row = got[(e["service"], e["slo"])]
        assert {k: row[k] for k in e} == e
    counts = pd.Series([e["status"] for e in expected]).value_counts().to_dict()
    assert {k: v for k, v in d["headline"]["slos_by_status"].items() if v} == counts
    risky = {e["service"] for e in expected if e["status"] in ("critical", "warning") or e["p_exhaust"] >= 0.5}
    assert d["headline"]["services_at_risk"] == len(risky)
    keys = [risk_key_of(r) for r in d["rows"]]
    assert keys == sorted(keys), "rows are not in risk order"
    teams = {s["service"]: s["team"] for s in d["services"]}
    assert teams["payments-api"] == "payments" and teams["storefront-web"] == "storefront"  # from fleet.yaml
    page = (fleet_run["folder"] / "index.html").read_text()
    assert page.count('href="../../storefront-web/') >= 2  # at risk or in its group, linked to its report
    assert "storefront · tier 1" in page


def risk_key_of(r: dict[str, Any]) -> tuple[Any, ...]:
    """The documented risk order, written out again: critical, at risk, no data, healthy; then
    the chance of exhaustion and the budget used, highest first."""
    at_risk = r["status"] in ("critical", "warning") or (r["p_exhaust"] or 0) >= AT_RISK_P_EXHAUST
    level = 0 if r["status"] == "critical" else 1 if at_risk else 2 if r["status"] == "no_data" else 3
    return (level, -(r["p_exhaust"] if r["p_exhaust"] is not None else -1), -(r["consumed"] or 0))


def test_calendar_month_equals_a_month_summed_by_hand(fleet_run: dict[str, Any]) -> None:
    """storefront-web (America/New_York): its checkout availability in September and October,
    local months, summed from its telemetry file."""
    root = fleet_run["root"] / "fleet" / "storefront" / "storefront-web"
    spec = yaml.safe_load((root / "service.yaml").read_text())
    assert spec["timezone"] == "America/New_York"
    target = spec["journeys"][0]["slos"]["availability"]
    t = pd.read_parquet(root / "telemetry.parquet")
    t = t[t["journey"] == "checkout"]
    local = pd.DatetimeIndex(t["interval_start"]).tz_convert("America/New_York")
    cells = {
        c["month"]: c
        for c in fleet_run["fleet"]["calendar"]
        if c["service"] == "storefront-web" and c["slo"] == "checkout-availability"
    }
    assert sorted(cells) == ["2026-09", "2026-10"]
    for month in ("2026-09", "2026-10"):
        part = t[local.strftime("%Y-%m") == month]
        total, bad = int(part["total"].sum()), int(part["errors"].sum())
        assert total > 0
        cell = cells[month]
        assert cell["attainment"] == pytest.approx(1 - bad / total, abs=1e-12)
        assert cell["consumed"] == pytest.approx(bad / ((1 - target) * total), rel=1e-9)
        assert cell["status"] == ("met" if bad <= (1 - target) * total else "missed")
    # September: 2026-09-25 20:00 local (the first interval) to the month's end: 5 days 4 h of 30 days
    assert cells["2026-09"]["coverage"] == pytest.approx((5 * 24 + 4) / (30 * 24))
    page = (fleet_run["folder"] / "index.html").read_text()
    assert "Compliance calendar" in page and 'src="data:image/png;base64,' in page
    sept = cells["2026-09"]
    assert f"{100 * sept['attainment']:.3f}% {sept['status']}" in page


# ------------------------------------------------------------------------------ Dask against local


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _stop(procs: list[subprocess.Popen[bytes]]) -> None:
    for p in procs:
        if p.poll() is None:
            os.kill(p.pid, signal.SIGTERM)
    for p in procs:
        try:
            p.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.kill(p.pid, signal.SIGKILL)
            p.wait(timeout=10)


def _comparable(folder: Path) -> dict[str, Any]:
    d = json.loads((folder / "fleet.json").read_text())
    d.pop("generated_at")
    for s in d["services"]:
        s.pop("seconds")
    return d


def test_dask_scheduler_and_two_workers_give_the_local_fleet_json(tmp_path: Path) -> None:
    config = _fleet_samples(tmp_path / "fleet", 2)
    port = _free_port()
    address = f"tcp://127.0.0.1:{port}"
    log = open(tmp_path / "dask.log", "wb")  # noqa: SIM115 - closed below
    procs = [
        subprocess.Popen(
            [str(BIN / "dask"), "scheduler", "--host", "127.0.0.1", "--port", str(port), "--no-dashboard"],
            stdout=log,
            stderr=log,
        )
    ]
    try:
        for _ in range(2):
            procs.append(
                subprocess.Popen(
                    [str(BIN / "dask"), "worker", address, "--nworkers", "1", "--nthreads", "1", "--no-dashboard"],
                    stdout=log,
                    stderr=log,
                )
            )
        from dask.distributed import Client

        with Client(address, timeout="30s") as client:
            client.wait_for_workers(2, timeout=60)
            assert len(client.scheduler_info()["workers"]) == 2
        dist = srekit(
            "fleet", "report", "--config", str(config), "--out", str(tmp_path / "dask"), "--scheduler", address
        )
    finally:
        _stop(procs)
        log.close()
    assert all(p.returncode is not None for p in procs)
    assert dist.returncode == 0, dist.stderr + (tmp_path / "dask.log").read_text()[-3000:]
    local = srekit("fleet", "report", "--config", str(config), "--out", str(tmp_path / "local"), "--jobs", "2")
    assert local.returncode == 0, local.stderr
    (d_folder,) = _overviews(tmp_path / "dask")
    (l_folder,) = _overviews(tmp_path / "local")
    assert _comparable(d_folder) == _comparable(l_folder)
    assert len(_comparable(d_folder)["rows"]) == 12
    assert (d_folder / "fleet.csv").read_text() == (l_folder / "fleet.csv").read_text()
    for s in _comparable(l_folder)["services"]:
        a = json.loads((tmp_path / "local" / s["report_dir"] / "report.json").read_text())
        b = json.loads((tmp_path / "dask" / s["report_dir"] / "report.json").read_text())
        for r in (a, b):
            r["meta"].pop("generated_at")
            r["meta"].pop("config_path", None)
            r["inputs"].pop("ledger")
        assert a == b


# ------------------------------------------------------------------------------ the page in Chromium


def test_overview_page_in_chromium_desktop_and_phone(fleet_run: dict[str, Any], tmp_path: Path) -> None:
    from playwright import sync_api

    chromium = shutil.which("chromium")
    if chromium is None:
        if os.environ.get("CI"):
            pytest.fail("chromium is not installed")
        pytest.skip("chromium not installed")
    page_path = fleet_run["folder"] / "index.html"
    events: list[str] = []
    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=chromium, args=["--no-sandbox"])
        try:
            for name, width in (("desktop", 1280), ("phone", 390)):
                page = browser.new_page(viewport={"width": width, "height": 900})
                page.on("console", lambda msg: events.append(f"console {msg.type}: {msg.text[:200]}"))
                page.on("pageerror", lambda exc: events.append(f"pageerror {exc}"))
                page.on(
                    "request",
                    lambda req: None if req.url.startswith(("data:", "file:")) else events.append(req.url),
                )
                page.goto(page_path.as_uri(), wait_until="load")
                probe = page.evaluate(
                    """() => ({
                      scroll: document.documentElement.scrollWidth, inner: window.innerWidth,
                      scripts: document.querySelectorAll('script, iframe, object, embed').length,
                      images: [...document.images].map(i => [i.naturalWidth, i.alt.length]),
                      links: [...document.querySelectorAll('a[href$="00_reliability_report.html"]')].length,
                    })"""
                )
                shot = tmp_path / f"fleet-{name}.png"
                page.screenshot(path=str(shot), full_page=True)
                assert shot.stat().st_size > 20_000
                ARTIFACTS.mkdir(exist_ok=True)
                shutil.copy(shot, ARTIFACTS / shot.name)  # kept for a person to look at
                assert probe["scripts"] == 0 and probe["links"] >= 11, probe
                assert probe["images"] and all(w > 100 and alt > 20 for w, alt in probe["images"]), probe
                assert probe["scroll"] <= probe["inner"], f"horizontal overflow at {name} width: {probe}"
                page.close()
        finally:
            browser.close()
    assert events == [], events[:5]


# ------------------------------------------------------------------------------ a partly rendered service


def _notebook(path: Path, body: str) -> None:
    import nbformat

    nb = nbformat.v4.new_notebook(
        metadata={"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}}
    )
    nb.cells = [
        nbformat.v4.new_markdown_cell(f"# {path.stem}"),
        nbformat.v4.new_code_cell('config_path = ""', metadata={"tags": ["parameters"]}),
        nbformat.v4.new_code_cell(body),
    ]
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, str(path))


def test_a_failing_notebook_leaves_the_service_partial_and_linked(tmp_path: Path) -> None:
    config = _fleet_samples(tmp_path / "fleet", 2)
    _notebook(tmp_path / "nbs" / "00_reliability_report.ipynb", "print('fine')")
    _notebook(tmp_path / "nbs" / "02_broken.ipynb", "raise ValueError('the cell that fails')")
    out = tmp_path / "out"
    done = srekit("fleet", "report", "--config", str(config), "--out", str(out), "--notebooks", str(tmp_path / "nbs"))
    assert done.returncode == 1, done.stderr
    (folder,) = _overviews(out)
    d = json.loads((folder / "fleet.json").read_text())
    assert [s["status"] for s in d["services"]] == ["partial", "partial"]
    assert all("notebook 02_broken failed" in s["reason"] and s["report_dir"] for s in d["services"])
    assert d["headline"]["services_partial"] == 2 and len(d["rows"]) == 12  # the analysis is complete
    page = (folder / "index.html").read_text()
    assert "partly rendered" in page and page.count("/00_reliability_report.html") >= 12
    for s in d["services"]:
        assert (out / s["report_dir"] / "00_reliability_report.html").is_file()


# ------------------------------------------------------------------------------ an unusable fleet


def test_an_unusable_fleet_exits_2_before_anything_runs(tmp_path: Path) -> None:
    config = _fleet_samples(tmp_path / "fleet", 2)
    copy = tmp_path / "fleet" / "payments" / "copy"
    shutil.copytree(tmp_path / "fleet" / "payments" / "payments-api", copy)
    done = srekit("fleet", "report", "--config", str(config), "--out", str(tmp_path / "out"))
    assert done.returncode == 2 and "have the same name" in done.stderr and "fix:" in done.stderr
    assert "Traceback" not in done.stderr and not (tmp_path / "out" / "fleet").exists()
    shutil.rmtree(copy)
    doc = yaml.safe_load(config.read_text())
    doc["services"].append("nowhere/*/service.yaml")
    config.write_text(yaml.safe_dump(doc))
    done = srekit("fleet", "report", "--config", str(config), "--out", str(tmp_path / "out"))
    assert done.returncode == 2 and "matches no file" in done.stderr
    done = srekit("fleet", "report", "--config", str(config), "--jobs", "2", "--scheduler", "tcp://127.0.0.1:1")
    assert done.returncode == 2 and "--jobs is for the local process pool" in done.stderr
    doc["services"].pop()
    config.write_text(yaml.safe_dump(doc))
    done = srekit(
        "fleet",
        "report",
        "--config",
        str(config),
        "--out",
        str(tmp_path / "out"),
        "--scheduler",
        f"tcp://127.0.0.1:{_free_port()}",
    )
    assert done.returncode == 2 and "cannot reach the Dask scheduler" in done.stderr, done.stderr
    assert "Traceback" not in done.stderr and not (tmp_path / "out" / "fleet").exists()
    done = srekit("fleet", "report", "--config", str(config), "--out", str(tmp_path / "out"), "--notebooks", "nowhere")
    assert done.returncode == 2 and "nowhere" in done.stderr and not (tmp_path / "out" / "fleet").exists()
    for telemetry in (tmp_path / "fleet").glob("*/*/telemetry.parquet"):
        telemetry.write_bytes(b"junk")
    done = srekit("fleet", "report", "--config", str(config), "--out", str(tmp_path / "out"))
    assert done.returncode == 2 and "no service of the fleet could be rendered" in done.stderr, done.stderr
    (overview,) = _overviews(tmp_path / "out")
    d = json.loads((overview / "fleet.json").read_text())
    assert [s["status"] for s in d["services"]] == ["failed", "failed"] and d["rows"] == []
    assert all("telemetry.parquet" in s["reason"] for s in d["services"])


# ------------------------------------------------------------------------------ the pure overview, by hand


def test_old_overviews_are_pruned_to_report_keep(tmp_path: Path) -> None:
    from srekit.inputs.fleet import load_fleet
    from srekit.report.fleet import prune_overviews

    (tmp_path / "svc").mkdir()
    (tmp_path / "svc" / "service.yaml").write_text("service: a\ndata: {telemetry: t.parquet}\n")
    config = tmp_path / "fleet.yaml"
    config.write_text(yaml.safe_dump({"fleet": "shop", "services": ["svc"], "report": {"keep": 2}}))
    fleet = load_fleet(config)
    out = tmp_path / "reports"
    for day, name in (("01", "shop"), ("02", "shop"), ("03", "shop"), ("04", "other")):
        folder = out / "fleet" / f"2026-01-{day}"
        folder.mkdir(parents=True)
        (folder / "fleet.json").write_text(json.dumps({"fleet": name, "generated_at": f"2026-01-{day}T00:00:00+00:00"}))
    (out / "fleet" / "notes").mkdir()
    (out / "fleet" / "notes" / "fleet.json").write_text(json.dumps({"fleet": "shop", "generated_at": "2027"}))
    assert prune_overviews(fleet, out) == ["fleet/2026-01-01"]
    assert sorted(p.name for p in (out / "fleet").iterdir()) == ["2026-01-02", "2026-01-03", "2026-01-04", "notes"]


def _report(statuses: dict[str, tuple[str, float, float]], pages: float | None = 3.0) -> dict[str, Any]:
    """A minimal report.json: SLO -> (status, consumed, p_exhaust)."""
    return {
        "error_budget_policy": {
            "slos": [
                {"slo": s, "journey": "j", "sli": "availability", "target": 0.999, "status": st, "consumed": c}
                for s, (st, c, _) in statuses.items()
            ],
            "forecast": {
                "per_slo": [{"slo": s, "p_exhaust": p, "window_days": 28} for s, (_, _, p) in statuses.items()]
            },
            "calendar": [],
        },
        "alerting": {
            "existing_pages": {"pages_per_week": 12.0},
            "backtest": {"start": "2026-01-01", "overall_pages": None if pages is None else {"pages_per_week": pages}},
        },
        "incident_response": {"incidents": 4, "open_incidents": 1, "metrics": {"ttr": {"median_s": 3600.0}}},
        "backlog": {"items": [{"title": "=cmd|' /C calc'!A0"}]},
    }


def test_risk_order_headline_and_service_figures_by_hand() -> None:
    runs = [
        ServiceRun("a", "a/service.yaml", "t1", 1, "ok", None, "a/2026-01-01"),
        ServiceRun("b", "b/service.yaml", "t2", 2, "ok", None, "b/2026-01-01"),
        ServiceRun("c", "c/service.yaml", None, None, "failed", "no data", None),
    ]
    reports = {
        "a": _report({"a-ok": ("healthy", 0.2, 0.1), "a-likely": ("healthy", 0.4, 0.6)}),
        "b": _report(
            {"b-crit": ("critical", 1.3, 1.0), "b-warn": ("warning", 0.8, 0.2), "b-nd": ("no_data", 0.0, 0.0)}, None
        ),
    }
    o = fleet_overview("f", runs, reports, generated_at=pd.Timestamp("2026-01-02", tz="UTC"))
    assert [r.slo for r in o.rows] == ["b-crit", "a-likely", "b-warn", "b-nd", "a-ok"]
    assert [r.at_risk for r in o.rows] == [True, True, True, False, False]
    h = o.headline.to_dict()
    assert h["slos_by_status"] == {"critical": 1, "warning": 1, "no_data": 1, "healthy": 2}
    assert (h["services"], h["services_failed"], h["services_at_risk"], h["slos_at_risk"]) == (3, 1, 2, 3)
    a = next(r for r in o.rows if r.service == "a")
    b = next(r for r in o.rows if r.service == "b")
    assert (a.pages_per_week_now, a.pages_per_week_policy, b.pages_per_week_policy) == (12.0, 3.0, 0.0)
    assert (a.incidents, a.open_incidents, a.ttr_median_s) == (4, 1, 3600.0)
    assert [s.service for s in o.services] == ["c", "a", "b"]
    assert risk_key(o.rows[0]) < risk_key(o.rows[1])


class _Elements(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.hrefs: list[str] = []
        self.handlers: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        self.hrefs += [v or "" for k, v in attrs if k == "href"]
        self.handlers += [k for k, _ in attrs if k.startswith("on")]


def test_hostile_names_stay_text_on_the_page_and_in_the_csv() -> None:
    from srekit.core.files import csv_text
    from srekit.report.tables.fleet import csv_frame

    evil = '<img src=x onerror=alert(1)>"'
    runs = [
        ServiceRun(evil, "x/service.yaml", "<b>team</b>", "<i>", "ok", None, "javascript:alert(1)/2026-01-01"),
        ServiceRun("=SUM(A1)", "y/service.yaml", None, None, "failed", f"bad {evil}", None),
    ]
    reports = {evil: _report({f"{evil}-slo": ("critical", 2.0, 1.0)})}
    d = fleet_overview(evil, runs, reports, generated_at=pd.Timestamp("2026-01-02", tz="UTC")).to_dict()
    page = fleet_html(d, root="../..")
    parsed = _Elements()
    parsed.feed(page)
    assert parsed.tags.count("img") == 1 and "b" not in parsed.tags and "i" not in parsed.tags  # only the heat map
    assert parsed.handlers == [] and "&lt;b&gt;team&lt;/b&gt;" in page
    assert all(not h.lower().startswith("javascript") for h in parsed.hrefs)
    assert "../../javascript%3Aalert%281%29/2026-01-01/00_reliability_report.html" in parsed.hrefs
    rows = list(csv.reader(io.StringIO(csv_text(csv_frame(d)), newline="")))
    cells = [c for r in rows for c in r]
    assert "'=SUM(A1)" in cells and "'=cmd|' /C calc'!A0" in cells and "=SUM(A1)" not in cells
