"""Small hostile files do not take the machine down (issue 12, "Bounded resources"): each example
runs the real ``srekit`` command in a child process guarded by ``RLIMIT_AS`` (so a regression
fails here instead of swapping), and must finish in under 10 s of CPU time and 500 MB of peak
resident memory (``getrusage(RUSAGE_CHILDREN)`` of a fresh measuring process) — refused with exit 2
naming the limit, or, where the grids are sized by the data, answered with exit 0 and correct
numbers.

Before: three telemetry rows 2026–2250 built a 117 M-row grid (8 GB); a 1 µs interval asked for
3 TiB; a page stamped in 1969 made the toil trend a Theil–Sen over 2,970 weeks (year −1: 83 GiB);
a pull over the years 1–9999 asked for 39 GiB; ``-p runs=1e9`` for 7.5 GiB.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import SAMPLES

pytestmark = pytest.mark.xdist_group("resources")  # one at a time: the timings are the point

SREKIT = str(Path(sys.executable).parent / "srekit")
#: The work allowed: CPU seconds (user + system) of the command, which does not depend on what
#: else the machine runs; the wall-clock bound only catches a hang (the test machine is shared).
SECONDS, WALL_SECONDS, RSS_MB = 10.0, 60.0, 500.0
GUARD_BYTES = 4 * 2**30  # address space: a regression fails with MemoryError instead of swapping

MEASURE = """
import json, resource, subprocess, sys, time
guard = int(sys.argv[1])
def limit():
    resource.setrlimit(resource.RLIMIT_AS, (guard, guard))
t0 = time.perf_counter()
run = subprocess.run(sys.argv[2:], preexec_fn=limit, capture_output=True, text=True, timeout=120)
wall = time.perf_counter() - t0
usage = resource.getrusage(resource.RUSAGE_CHILDREN)
cpu, peak = usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024  # ru_maxrss in kB on Linux
out = {"rc": run.returncode, "cpu_s": cpu, "wall_s": wall, "rss_mb": peak, "stdout": run.stdout, "stderr": run.stderr}
json.dump(out, sys.stdout)
"""


def measured(*args: object) -> dict:
    """Run ``srekit ARGS`` as the only child of a fresh process and return its exit code, wall
    time, peak RSS and output."""
    res = subprocess.run(
        [sys.executable, "-c", MEASURE, str(GUARD_BYTES), SREKIT, *map(str, args)],
        capture_output=True,
        text=True,
        timeout=180,
        check=True,
    )
    out = json.loads(res.stdout)
    assert "Traceback" not in out["stderr"], out["stderr"]
    assert out["cpu_s"] < SECONDS, f"{out['cpu_s']:.1f} s of CPU: {args}"
    assert out["wall_s"] < WALL_SECONDS, f"{out['wall_s']:.1f} s: {args}"
    assert out["rss_mb"] < RSS_MB, f"{out['rss_mb']:.0f} MB: {args}"
    return out


def refused(out: dict, limit: str) -> None:
    assert out["rc"] == 2, out["stderr"]
    assert f"limits.{limit}" in out["stderr"] and f"--limit {limit}=N" in out["stderr"], out["stderr"]


def telemetry(root: Path, *stamps: str) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    rows = "".join(f"checkout,{s},100,1,90,99\n" for s in stamps)
    (root / "telemetry.csv").write_text("journey,interval_start,total,errors,le_100,le_250\n" + rows)
    (root / "service.yaml").write_text("service: hostile\ndata: {telemetry: telemetry.csv}\n")
    return root / "service.yaml"


def test_three_rows_nine_years_apart_cost_a_few_thousand_rows(tmp_path: Path) -> None:
    """Inside every loader bound (years 1990–2099, ten years of minutes per source), so the
    analysis gets it: sized by the data, exit 0 with the three rows' numbers. The dense grids
    took 7.3 s of CPU and 1.4 GB for the same report.json."""
    cfg = telemetry(tmp_path, "2017-01-01T00:00:00Z", "2017-01-01T00:01:00Z", "2026-01-01T00:00:00Z")
    out = measured("analyze", "--config", cfg, "--out", tmp_path / "out")
    assert out["rc"] == 0, out["stderr"]
    d = json.loads((tmp_path / "out" / "report.json").read_text())
    assert d["meta"]["sections_failed"] == [] and d["inputs"]["requests"] == 300 and d["inputs"]["errors"] == 3
    budget = d["error_budget_policy"]["slos"][0]
    assert budget["total_events"] == 100 and budget["bad_events"] == 1  # the last 28 days hold the last row
    assert d["alerting"]["backtest"]["overall"]["firings"] >= 0  # replayed over nine years


def test_three_rows_224_years_apart(tmp_path: Path) -> None:
    """The issue's example: the loader rejects the row in 2250 (``limits.max_year``); what is left
    is analysed (exit 0)."""
    cfg = telemetry(tmp_path, "2026-01-01T00:00:00Z", "2026-01-01T00:01:00Z", "2250-01-01T00:00:00Z")
    out = measured("analyze", "--config", cfg, "--out", tmp_path / "out")
    assert out["rc"] == 0, out["stderr"]
    d = json.loads((tmp_path / "out" / "report.json").read_text())
    ledger = d["inputs"]["ledger"][0]
    assert ledger["rows_read"] == 3 and ledger["rows_accepted"] == 2 and d["meta"]["sections_failed"] == []
    assert d["error_budget_policy"]["slos"][0]["total_events"] == 200


def test_three_rows_73_years_apart_are_refused_by_the_span_bound(tmp_path: Path) -> None:
    """Within the accepted years, but 38 M one-minute intervals from the first to the last: the
    loader's span bound on a telemetry source refuses it, naming ``limits.max_intervals``."""
    cfg = telemetry(tmp_path, "2026-01-01T00:00:00Z", "2026-01-01T00:01:00Z", "2099-06-01T00:00:00Z")
    refused(measured("analyze", "--config", cfg, "--out", tmp_path / "out"), "max_intervals")


def test_a_one_microsecond_interval_is_refused(tmp_path: Path) -> None:
    cfg = telemetry(
        tmp_path, "2026-01-01T00:00:00.000000Z", "2026-01-01T00:00:00.000001Z", "2026-01-02T00:00:00.000000Z"
    )
    refused(measured("analyze", "--config", cfg, "--out", tmp_path / "out"), "max_intervals")
    assert not (tmp_path / "out" / "report.json").exists()


def test_a_page_stamped_in_1969(tmp_path: Path) -> None:
    """Toil estimated from the pages log: the weekly grid and its trend cover the most recent
    156 weeks whatever the span, so a page from 1969 costs nothing; the rates still cover the
    whole period (or the loader drops the 1969 row as out of range)."""
    (tmp_path / "pages.csv").write_text(
        "timestamp,alert,severity\n1969-12-31T23:59:59Z,CPUHigh,page\n"
        "2026-10-01T10:00:00Z,CPUHigh,page\n2026-10-02T10:00:00Z,DiskFull,ticket\n"
    )
    (tmp_path / "service.yaml").write_text("service: t\ndata: {alerts: pages.csv}\noncall: {coverage: 24x7}\n")
    out = measured("analyze", "--config", tmp_path / "service.yaml", "--out", tmp_path / "out")
    assert out["rc"] == 0, out["stderr"]
    toil = json.loads((tmp_path / "out" / "report.json").read_text())["toil"]
    pages = json.loads((tmp_path / "out" / "report.json").read_text())["inputs"]["ledger"][0]["rows_accepted"]
    weeks = toil["period"]["weeks"]
    assert toil["toil_hours_per_week"] == pytest.approx(pages * 20 / 60 / weeks)  # 20 min per page, whole period
    assert all(t["trend"] is None or t["trend"]["weeks"] <= 156 for t in toil["inventory"])


def test_pull_over_the_years_1_to_9999_is_refused_before_any_query(tmp_path: Path) -> None:
    out = measured(
        "pull", "prometheus", "--url", "http://127.0.0.1:9", "--start", "0001-01-01", "--end", "9999-01-01",
        "--out", tmp_path / "t.parquet",
    )  # fmt: skip
    refused(out, "pull_points")
    assert "5,258,439,361 values" in out["stderr"] and not (tmp_path / "t.parquet").exists()


def test_a_billion_forecast_runs_are_refused_before_the_report_starts(tmp_path: Path) -> None:
    out = measured("report", "--config", SAMPLES / "service.yaml", "--out", tmp_path / "r", "-p", "runs=1e9")
    assert out["rc"] == 2 and "limits.monte_carlo_draws" in out["stderr"] and "-p runs=" in out["stderr"]
    assert not (tmp_path / "r").exists() or not any((tmp_path / "r").rglob("*.html"))


def test_sample_data_of_a_hundred_thousand_days_is_refused(tmp_path: Path) -> None:
    refused(measured("samples", "--out", tmp_path / "s", "--days", "100000"), "max_intervals")
