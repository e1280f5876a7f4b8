"""Honest on thin, partial and mismatched data (issue 19): a matrix of degraded services, each
rendered once end to end (`srekit report`: real papermill, every notebook) and checked on the
stakeholder HTML with BeautifulSoup. Every page states the period; no page shows Python's None,
NaN, a field name as a header or a number with more digits than anyone acts on; every section
has content or the sentence saying why not; every open question the seed's rules require is
asked. The real-data cases (NAB + GitHub, Microsoft + Google Cloud, a wrk2 load test) read
../shared/external and skip without it; their figures are checked against numbers worked out
from the files by hand (in the test, independently of srekit).
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from conftest import EXTERNAL, ROOT, external
from degraded import (
    Case,
    different_years,
    incidents_only,
    ms_gcp,
    nab_github,
    no_oncall,
    no_targets,
    series_5min,
    series_hourly,
    single_day,
    single_row,
    single_row_declared,
    telemetry_only,
    write_sample,
    wrk2,
)
from pagecheck import RAW_MISSING, empty_sections, problems, prose, soup

pytestmark = pytest.mark.slow

CASES: tuple[Case, ...] = (
    Case(
        "series-5min",
        series_5min,
        questions=("no_telemetry", "short_history"),
        phrases=("its SLOs count", "5-minute samples of a per-interval statistic, which hides the slow tail"),
    ),
    Case(
        "series-hourly", series_hourly, questions=("no_telemetry", "alert_windows_coarse:"), phrases=("1-hour samples",)
    ),
    Case(
        "incidents-only",
        incidents_only,
        questions=("no_telemetry", "provisional_slos", "oncall_coverage", "toil_source", "no_budget_data"),
        phrases=("the range of the incident log (no telemetry or series)", "What to measure: the instrumentation plan"),
    ),
    Case("telemetry-only", telemetry_only, questions=("critical_journeys", "incident_log", "toil_source")),
    Case("no-oncall", no_oncall, questions=("oncall_coverage",)),
    Case("no-targets", no_targets, questions=("slo_targets",)),
    Case(
        "single-day",
        single_day,
        questions=("short_history", "forecast_history"),
        phrases=("fall outside it and were left out", "too little history to call it kept"),
    ),
    Case(
        "different-years",
        different_years,
        questions=(
            "period_mismatch:incidents",
            "period_mismatch:alerts",
            "period_mismatch:toil",
            "period_mismatch:deploys",
        ),
        phrases=("do not overlap this period and were left out",),
    ),
    Case(
        "single-row",
        single_row,
        questions=("interval:telemetry",),
        phrases=("in a single interval of unknown length (assumed 1 minute)",),
    ),
    Case(
        "single-row-declared",
        single_row_declared,
        questions=("alert_windows_coarse:",),
        phrases=("in a single 3-hour interval (declared by the file's interval column)",),
    ),
)
#: The real-data cases: name, builder of the external folder, questions, phrases, corpus paths.
REAL: tuple[tuple[str, Callable[[Path], Callable[[Path, Path], str]], tuple[str, ...], tuple[str, ...]], ...] = (
    ("nab-github", nab_github, ("no_telemetry", "detection_time"), ("1,276 of 1,279 incidents fall outside it",)),
    (
        "ms-gcp",
        ms_gcp,
        ("period_mismatch:incidents", "alert_windows_coarse:all-timeslice", "coarse_series"),
        ("The incident log (2021-07-07 to 2022-07-01) does not overlap this period",),
    ),
    ("wrk2", wrk2, ("no_telemetry", "provisional_slos"), ("This report has no time period", "2 ms is p98.9")),
)
_RENDERED: dict[str, dict[str, Any]] = {}


@pytest.fixture(scope="session")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("degraded")


def render(name: str, build: Callable[[Path, Path], str], root: Path) -> dict[str, Any]:
    """The case's report, rendered once per test process (`srekit report` in a subprocess)."""
    if name not in _RENDERED:
        sample = root / "sample"
        if not (sample / "service.yaml").exists():
            write_sample(sample)
        case = root / name
        case.mkdir(exist_ok=True)
        (case / "service.yaml").write_text(build(sample, case))
        proc = subprocess.run(
            [sys.executable, "-m", "srekit.cli", "report", "--config", str(case / "service.yaml")]
            + ["--out", str(case / "out"), "--no-progress"],
            capture_output=True,
            text=True,
            timeout=900,
            cwd=ROOT,
        )
        runs = [p.parent for p in (case / "out").glob("*/*/run.json")]
        _RENDERED[name] = {"proc": proc, "run": runs[0] if runs else None, "index": case / "out" / "index.html"}
    return _RENDERED[name]


def _params() -> list[Any]:
    synthetic = [
        pytest.param(c.name, c.build, c.questions, c.phrases, id=c.name, marks=pytest.mark.xdist_group(f"deg-{c.name}"))
        for c in CASES
    ]
    real = [
        pytest.param(n, b, q, p, id=n, marks=[pytest.mark.xdist_group(f"deg-{n}"), pytest.mark.external])
        for n, b, q, p in REAL
    ]
    return synthetic + real


def _builder(name: str, build: Any) -> Callable[[Path, Path], str]:
    """Synthetic builders take (sample, case); real ones first get the corpus folder."""
    if name in {n for n, *_ in REAL}:
        external()  # skips cleanly without ../shared/external
        return build(EXTERNAL)  # type: ignore[no-any-return]
    return build  # type: ignore[no-any-return]


def pages(run: Path) -> list[Path]:
    """The stakeholder pages (no code): the run folder's HTML, not engineer/."""
    return sorted(run.glob("*.html"))


@pytest.mark.parametrize(("name", "build", "questions", "phrases"), _params())
def test_degraded_service_reads_honestly(
    name: str, build: Any, questions: tuple[str, ...], phrases: tuple[str, ...], workdir: Path
) -> None:
    got = render(name, _builder(name, build), workdir)
    proc, run = got["proc"], got["run"]
    assert proc.returncode == 0 and run is not None, proc.stderr[-3000:]
    info = json.loads((run / "run.json").read_text())
    assert all(n["status"] == "ok" for n in info["notebooks"]), info["notebooks"]
    report = json.loads((run / "report.json").read_text())
    html = {p.name: p.read_text(encoding="utf-8") for p in pages(run)}
    assert len(html) == 7
    for page, text in html.items():
        assert not problems(text), f"{name}/{page}: {problems(text)[:5]}"
        assert not empty_sections(text), f"{name}/{page}: sections with nothing in them: {empty_sections(text)}"
        shown = prose(soup(text))
        assert "This report covers" in shown or "This report has no time period" in shown, f"{name}/{page}: no period"
    topics = [q["topic"] for q in report["open_questions"]]
    for wanted in questions:
        assert any(t.startswith(wanted) for t in topics), f"{name}: open question {wanted!r} missing from {topics}"
    main = prose(soup(html["00_reliability_report.html"]))
    for q in report["open_questions"]:  # every question is on the stakeholder page, worded
        assert " ".join(q["question"].split()) in main, q["topic"]
    for phrase in phrases:
        assert phrase in " ".join(prose(soup(t)) for t in html.values()), f"{name}: {phrase!r} not on any page"
    md = (run / "report.md").read_text(encoding="utf-8")
    assert not RAW_MISSING.search(md) and "This report" in md
    index = prose(soup(got["index"].read_text(encoding="utf-8")))
    start = report["meta"]["period"]["start"]
    assert (start[:10] in index) if start else ("–" in index)
    if report["summary"]["figures"].get("samples") and not report["summary"]["figures"].get("requests"):
        assert "requests: 0" not in index and "series samples:" in index


# ------------------------------------------------------------------- real data, checked by hand


def _nab_range() -> tuple[pd.Timestamp, pd.Timestamp]:
    """NAB's EC2 latency read as New York wall time: first stamp, last stamp + 5 minutes."""
    nab = pd.read_csv(external("nab", "data", "realKnownCause", "ec2_request_latency_system_failure.csv"))
    local = pd.to_datetime(nab["timestamp"]).dt.tz_localize(
        "America/New_York", ambiguous="NaT", nonexistent="shift_forward"
    )
    utc = local.dropna().dt.tz_convert("UTC")
    return utc.min(), utc.max() + pd.Timedelta(minutes=5)


@pytest.mark.external
@pytest.mark.xdist_group("deg-nab-github")
def test_nab_with_github_keeps_only_the_incidents_of_its_two_weeks(workdir: Path) -> None:
    got = render("nab-github", _builder("nab-github", nab_github), workdir)
    report = json.loads((got["run"] / "report.json").read_text())
    start, end = _nab_range()
    # by hand from GitHub's Statuspage JSON: incidents whose [started_at, resolved_at] touch the range
    docs = json.loads(external("github-incident-history", "incidents.statuspage.json").read_text())
    docs = [d.get("incident", d) for d in docs]
    s = pd.to_datetime([d.get("started_at") or d.get("created_at") for d in docs], utc=True, format="ISO8601")
    r = pd.to_datetime([d.get("resolved_at") for d in docs], utc=True, format="ISO8601")
    valid = ~(r < s)  # the loader rejects the 3 resolved before they started
    inside = valid & (s < end) & (r >= start)
    assert int(inside.sum()) == 3  # by hand too: resolved 2014-03-11 01:14, 2014-03-11 21:29 and 2014-03-12 16:09 UTC
    period = report["meta"]["period"]
    assert pd.Timestamp(period["start"]) == start and pd.Timestamp(period["end"]) == end
    assert period["inputs"]["incidents"]["kept"] == 3 and report["incident_response"]["incidents"] == 3
    assert period["inputs"]["incidents"]["rows"] == 1279  # 1282 documents, 3 rejected
    assert report["inputs"]["samples"] == 4032
    ttd = report["incident_response"]["metrics"].get("ttd")
    assert ttd is None or ttd["label"] == "time to first public post"
    # no incident of another decade is budget: the backlog's incident minutes are those 3 incidents'
    assert "22,840" not in (got["run"] / "00_reliability_report.html").read_text()


@pytest.mark.external
@pytest.mark.xdist_group("deg-ms-gcp")
def test_microsoft_hourly_latency_with_google_incidents_shares_no_time(workdir: Path) -> None:
    got = render("ms-gcp", _builder("ms-gcp", ms_gcp), workdir)
    report = json.loads((got["run"] / "report.json").read_text())
    series = pd.read_csv(
        external("microsoft-cloud-monitoring-dataset", "data", "middle-tier-api-dependency-latency", "outbound-01.csv")
    )
    stamps = pd.to_datetime(series["TimeStamp"], utc=True)
    assert len(series) == 720  # 30 days of hourly means
    period = report["meta"]["period"]
    assert pd.Timestamp(period["start"]) == stamps.min() and pd.Timestamp(period["end"]) == stamps.max() + pd.Timedelta(
        hours=1
    )
    assert period["inputs"]["incidents"]["kept"] == 0 and period["inputs"]["incidents"]["clipped_after"] == 157
    assert report["incident_response"]["incidents"] == 0
    # hourly samples: only the rules whose short window holds at least one sample (2h and 6h)
    assert {(p["long_window"], p["short_window"]) for p in report["alerting"]["policy"]} == {("1d", "2h"), ("3d", "6h")}
    budget = report["error_budget_policy"]["slos"][0]
    threshold = report["slo_proposal"]["slos"][0]["threshold_ms"]
    # the current 28-day window ends with the last hour: its non-zero samples are the events, those
    # above the threshold the bad ones (a 0 is "no calls", no data)
    as_of = stamps.max() + pd.Timedelta(hours=1)
    window = series[(stamps >= as_of - pd.Timedelta(days=28)) & (stamps < as_of) & (series["Value"] != 0)]
    assert budget["event_unit"] == "samples" and budget["total_events"] == len(window) <= 672
    assert budget["bad_events"] == int((window["Value"] > threshold).sum())
    assert not (got["run"] / "rules" / "prometheus" / "rules.yml").exists()  # a gauge: nothing to export


@pytest.mark.external
@pytest.mark.xdist_group("deg-wrk2")
def test_a_wrk2_load_test_is_a_distribution_not_a_budget(workdir: Path) -> None:
    got = render("wrk2", _builder("wrk2", wrk2), workdir)
    report = json.loads((got["run"] / "report.json").read_text())
    test = report["slo_proposal"]["loadtests"][0]
    assert (test["requests"], test["requests_reported"], test["duration_s"]) == (5_394_558, 5_400_039, 10_800.0)
    p99 = next(p["value_ms"] for p in test["percentiles"] if p["share"] == 0.99)
    assert p99 == 2.007  # the first row with TotalCount ≥ 0.99 × 5,394,558 = 5,340,612.4
    latency = next(x for x in test["slos"] if x["slo"] == "api-latency")
    assert latency["share_within"] == pytest.approx(5_335_907 / 5_394_558)  # row "1.984 … 5335907"
    assert not latency["meets_target"]
    assert report["meta"]["period"]["start"] is None and report["error_budget_policy"]["slos"] == []
    assert report["alerting"]["backtest"]["start"] is None  # nothing replayed on a load test
