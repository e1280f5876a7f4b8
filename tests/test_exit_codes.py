"""The README's exit-code table, row by row: each test runs the row's command(s) the way a user
does (the installed ``srekit`` script in a subprocess, on real files) and checks the exit code,
that stderr names what is wrong, and that no traceback is printed. ``test_every_row_is_tested``
keeps the table and the tests in step: a row without a test, or a test without a row, fails.

Two rows have no input that reaches them without a bug (an unexpected error, a failed analysis
section): their tests run the same CLI in a subprocess with one function replaced by a failing
one (``_with_fault``), the only place a fault is injected.
"""

from __future__ import annotations

import ast
import json
import os
import re
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import nbformat
import numpy as np
import pandas as pd
import pytest
from conftest import ROOT, SAMPLES

SREKIT = str(Path(sys.executable).parent / "srekit")
README = ROOT / "README.md"
KERNEL = {"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}}

#: README row (command, exit, start of "when") → the test that runs it.
ROWS: dict[tuple[str, str, str], str] = {}
#: Rows tested where their command is: README row → "file::test".
ELSEWHERE: dict[tuple[str, str, str], str] = {
    ("`pull prometheus`", "0", "the telemetry was pulled"): "tests/test_prometheus.py::test_cli_pull_writes_parquet",
    (
        "`import`",
        "0",
        "service.yaml was written",
    ): "tests/test_slo_import.py::test_import_cli_exit_codes_and_written_service_yaml",
    (
        "`import`",
        "1",
        "no SLO could be mapped",
    ): "tests/test_slo_import.py::test_import_cli_exit_codes_and_written_service_yaml",
    (
        "`import`",
        "2",
        "unknown format",
    ): "tests/test_slo_import.py::test_import_cli_exit_codes_and_written_service_yaml",
    ("`diff`", "0", "no `--fail-on` rule holds"): "tests/test_slo_import.py::test_diff_exit_codes",
    ("`diff`", "1", "a `--fail-on` rule holds"): "tests/test_slo_import.py::test_diff_exit_codes",
    ("`diff`", "2", "unknown rule"): "tests/test_slo_import.py::test_diff_exit_codes",
    ("`gate`", "0", "the release may go"): "tests/test_slo_import.py::test_gate_exit_codes",
    ("`gate`", "1", "freeze"): "tests/test_slo_import.py::test_gate_exit_codes",
    ("`gate`", "2", "unknown `--slo`"): "tests/test_slo_import.py::test_gate_exit_codes",
    (
        "`fleet report`",
        "0",
        "every service rendered",
    ): "tests/test_fleet.py::test_dask_scheduler_and_two_workers_give_the_local_fleet_json",
    (
        "`fleet report`",
        "1",
        "some service failed",
    ): "tests/test_fleet.py::test_twelve_services_one_broken_eleven_reports_exit_1",
    (
        "`fleet report`",
        "2",
        "an unusable fleet",
    ): "tests/test_fleet.py::test_an_unusable_fleet_exits_2_before_anything_runs",
}


def row(command: str, code: int, when: str) -> Callable[[Callable[..., None]], Callable[..., None]]:
    """Register the decorated test as the one for README row (command, code, when…)."""

    def register(test: Callable[..., None]) -> Callable[..., None]:
        key = (command, str(code), when)
        assert key not in ROWS, f"two tests for one row: {key}"
        ROWS[key] = test.__name__
        return test

    return register


def srekit(*args: object, cwd: Path | None = None, env: dict[str, str] | None = None, timeout: float = 300):
    return subprocess.run(
        [SREKIT, *map(str, args)],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=timeout,
        env={**os.environ, **(env or {})},
    )


def expect(res: subprocess.CompletedProcess[str], code: int, *needles: str) -> None:
    """Exit ``code``, no traceback, and every needle in stderr (a one-line error for exit 2)."""
    assert "Traceback" not in res.stderr, res.stderr
    assert res.returncode == code, (res.returncode, res.stdout[-2000:], res.stderr[-2000:])
    for needle in needles:
        assert needle in res.stderr, (needle, res.stderr)
    if code == 2:
        assert "error:" in res.stderr


def _with_fault(target: str, argv: Sequence[object], *, env: dict[str, str] | None = None):
    """The srekit CLI in a subprocess with ``target`` (module:function) raising a plain
    RuntimeError, as a bug would: the only way to reach the exit-1 rows without a bug."""
    module, name = target.split(":")
    code = textwrap.dedent(
        f"""
        import sys, importlib
        def broken(*args, **kwargs):
            raise RuntimeError("an injected fault")
        setattr(importlib.import_module({module!r}), {name!r}, broken)
        from srekit.cli import main
        sys.exit(main({[str(a) for a in argv]!r}))
        """
    )
    return subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=300, env={**os.environ, **(env or {})}
    )


def tiny(root: Path, extra: str = "") -> Path:
    """Two days of 5-minute telemetry of two journeys, and a service.yaml naming it."""
    rng = np.random.default_rng(3)
    stamps = pd.date_range("2024-03-01", periods=576, freq="5min", tz="UTC")
    frames = []
    for journey, rate in (("pay", 50), ("look", 200)):
        total = rng.poisson(rate, len(stamps))
        le100 = rng.binomial(total, 0.9)
        frames.append(
            pd.DataFrame(
                {
                    "journey": journey,
                    "interval_start": stamps.strftime("%Y-%m-%dT%H:%M:%SZ"),
                    "total": total,
                    "errors": rng.binomial(total, 0.002),
                    "le_100": le100,
                    "le_1000": le100 + rng.binomial(total - le100, 0.9),
                }
            )
        )
    root.mkdir(parents=True, exist_ok=True)
    pd.concat(frames).to_csv(root / "telemetry.csv", index=False)
    (root / "service.yaml").write_text("service: tiny\ndata:\n  telemetry: telemetry.csv\n" + extra)
    return root / "service.yaml"


def notebook(path: Path, body: str, params: str = 'config_path = ""') -> Path:
    nb = nbformat.v4.new_notebook(metadata=KERNEL)
    nb.cells = [
        nbformat.v4.new_markdown_cell(f"# {path.stem}"),
        nbformat.v4.new_code_cell(params, metadata={"tags": ["parameters"]}),
        nbformat.v4.new_code_cell(body),
    ]
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, str(path))
    return path


# ----------------------------------------------------------------------------- every command


@row("every command", 2, "the command line")
def test_usage_errors_exit_2(tmp_path: Path) -> None:
    cfg = tiny(tmp_path)
    for args in (
        ("analyze", "--config", cfg, "--seed", "-1"),
        ("report", "--config", cfg, "--jobs", "0"),
        ("samples", "--out", tmp_path / "s", "--days", "0"),
        ("alerts", "explain", "--target", "abc"),
        ("validate", "nonsense", cfg),
        ("aggregate", "--out", tmp_path / "t.parquet"),
        ("pull", "prometheus", "--url", "http://127.0.0.1:9"),
        ("rules", "--config", cfg),
        ("schema", "--no-such-option"),
        ("no-such-command",),
    ):
        expect(srekit(*args), 2)


@row("every command taking `--limit`", 2, "`--limit NAME=VALUE`")
def test_unusable_limit_option_exits_2(tmp_path: Path) -> None:
    cfg = tiny(tmp_path)
    for args, needle in (
        (("analyze", "--config", cfg, "--limit", "nope=3"), "unknown limit(s) ['nope']"),
        (("report", "--config", cfg, "--limit", "max_intervals=many"), "expected NAME=INTEGER"),
        (("rules", "--config", cfg, "--out", tmp_path / "r", "--limit", "pull_points=0"), "positive integer"),
        (("pull", "prometheus", "--url", "http://x", "--out", tmp_path / "t.parquet", "--limit", "x"), "--limit"),
        (("samples", "--out", tmp_path / "s", "--limit", "monte_carlo_draws=-1"), "positive integer"),
        (("validate", "telemetry", tmp_path / "telemetry.csv", "--limit", "nope=1"), "nope"),
    ):
        expect(srekit(*args), 2, needle)


@row("every command", 1, "an unexpected error")
def test_an_unexpected_error_is_one_line_and_exit_1(tmp_path: Path) -> None:
    res = _with_fault("srekit.cli.schema:json_schema", ["schema"])
    expect(res, 1, "srekit schema: failed: RuntimeError: an injected fault", "SREKIT_DEBUG=1")
    assert len(res.stderr.strip().splitlines()) == 1
    debug = _with_fault("srekit.cli.schema:json_schema", ["schema"], env={"SREKIT_DEBUG": "1"})
    assert debug.returncode == 1 and "Traceback" in debug.stderr  # asked for


@pytest.mark.slow
@row("every command", 130, "interrupted")
def test_interrupt_exits_130_and_leaves_no_partial_run(tmp_path: Path) -> None:
    out = tmp_path / "reports"
    run = subprocess.Popen(
        [SREKIT, "report", "--config", SAMPLES / "service.yaml", "--out", out, "--no-progress"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,  # its own process group: Ctrl-C reaches every process of the run
    )
    _wait_for(lambda: (out / ".srekit-report.lock").exists(), run)
    time.sleep(2.0)  # analysing, notebooks starting
    os.killpg(run.pid, signal.SIGINT)
    _, err = run.communicate(timeout=120)
    assert run.returncode == 130 and err.strip() == "srekit report: interrupted", err
    assert not (out / ".srekit-report.lock").exists()
    assert [p for p in out.rglob("*") if p.is_file()] == []  # no partial run, no index
    analyze = subprocess.Popen(
        [SREKIT, "analyze", "--config", SAMPLES / "service.yaml", "--out", tmp_path / "a"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    time.sleep(1.0)  # importing or analysing (a whole run takes ~3 s): either way an interruption
    os.killpg(analyze.pid, signal.SIGINT)
    _, err = analyze.communicate(timeout=60)
    assert analyze.returncode == 130 and "Traceback" not in err, err


def _wait_for(done: Callable[[], bool], proc: subprocess.Popen[str], timeout: float = 60) -> None:
    t0 = time.monotonic()
    while not done():
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() - t0 < timeout, "timed out"
        time.sleep(0.05)


BAD_SERVICE_YAML = {
    "data-list.yaml": "service: x\ndata:\n  - telemetry.csv\n",
    "window-0d.yaml": "service: x\ndata: {telemetry: telemetry.csv}\nslo: {window: 0d}\n",
    "threshold.yaml": (
        "service: x\ndata: {telemetry: telemetry.csv}\n"
        "journeys: [{name: pay, slos: {latency: {threshold_ms: -5, target: 0.99}}}]\n"
    ),
    "targets.yaml": "service: x\ndata: {telemetry: telemetry.csv}\nslo: {targets: []}\n",
    "team.yaml": "service: x\ndata: {telemetry: telemetry.csv}\ntoil: {team_size: five}\n",
    "keep-neg.yaml": "service: x\ndata: {telemetry: telemetry.csv}\nreport: {keep: -1}\n",
    "keep-text.yaml": 'service: x\ndata: {telemetry: telemetry.csv}\nreport: {keep: "2"}\n',
    "unknown-key.yaml": "service: x\ndata: {telemetry: telemetry.csv}\nslo: {windwo: 28d}\n",
    "not-yaml.yaml": "service: x\ndata: {telemetry: [\n",
}


@row("every command reading service.yaml", 2, "`service.yaml` missing")
def test_unusable_service_yaml_exits_2(tmp_path: Path) -> None:
    tiny(tmp_path)
    (tmp_path / "latin1.yaml").write_bytes(b"service: caf\xe9\ndata: {telemetry: telemetry.csv}\n")
    (tmp_path / "folder.yaml").mkdir()
    for name, text in BAD_SERVICE_YAML.items():
        (tmp_path / name).write_text(text)
    names = [*BAD_SERVICE_YAML, "latin1.yaml", "folder.yaml", "missing.yaml"]
    for name in names:  # every example with analyze
        expect(srekit("analyze", "--config", tmp_path / name, "--out", tmp_path / "o"), 2, name)
    out = tmp_path / "o"
    for name in ("data-list.yaml", "keep-text.yaml", "latin1.yaml"):  # and with every other command reading it
        for args in (
            ("report", "--config", tmp_path / name, "--out", out),
            ("rules", "--config", tmp_path / name, "--out", out),
            ("pull", "prometheus", "--config", tmp_path / name, "--out", out / "t.parquet", "--start", "now-1d"),
            ("alerts", "explain", "--target", "0.999", "--config", tmp_path / name),
            ("gate", "--config", tmp_path / name),
        ):
            expect(srekit(*args), 2, name)
    assert not (out / "report.json").exists()


@row("every command writing files", 2, "`--out` (or `report.out`) unusable")
def test_unusable_output_path_exits_2(tmp_path: Path) -> None:
    cfg = tiny(tmp_path)
    a_file = tmp_path / "a-file"
    a_file.write_text("keep me\n")
    folder = tmp_path / "a-folder"
    folder.mkdir()
    for args in (
        ("analyze", "--config", cfg, "--out", a_file),
        ("report", "--config", cfg, "--out", a_file),
        ("rules", "--config", cfg, "--out", a_file),
        ("samples", "--out", a_file, "--days", "1"),
        ("analyze", "--config", cfg, "--out", a_file / "inside"),  # under a file: cannot be created
    ):
        expect(srekit(*args), 2, "--out", "a-file")
    for args in (
        ("aggregate", SAMPLES / "requests_1d.csv.gz", "--out", folder),
        ("pull", "prometheus", "--url", "http://127.0.0.1:9", "--start", "now-1d", "--out", folder),
        ("schema", "--out", folder),
    ):
        expect(srekit(*args), 2, "--out", "is a folder")
    (tmp_path / "out-file.yaml").write_text(
        f"service: x\ndata: {{telemetry: telemetry.csv}}\nreport: {{out: {a_file.name}}}\n"
    )
    expect(srekit("report", "--config", tmp_path / "out-file.yaml"), 2, "report.out in service.yaml")
    assert a_file.read_text() == "keep me\n"


# ----------------------------------------------------------------------------- samples, validate, aggregate


@row("`samples`", 0, "the sample files were written")
def test_samples_written(tmp_path: Path) -> None:
    res = srekit("samples", "--out", tmp_path / "new" / "s", "--days", "2", "--rps", "0.2", "--raw-format", "csv")
    expect(res, 0)
    assert (tmp_path / "new" / "s" / "telemetry.parquet").is_file() and "wrote" in res.stdout


@row("`samples`", 2, "`--raw-days` above `--days`")
def test_samples_unusable_days_exit_2(tmp_path: Path) -> None:
    expect(srekit("samples", "--out", tmp_path, "--days", "2", "--raw-days", "3"), 2, "--raw-days 3 is more than")
    expect(srekit("samples", "--out", tmp_path, "--days", "100000"), 2, "limits.max_intervals", "--limit max_intervals")
    assert not (tmp_path / "telemetry.parquet").exists()


@row("`validate`", 0, "the file is usable")
def test_validate_usable_file(tmp_path: Path) -> None:
    res = srekit("validate", "toil", SAMPLES / "toil.csv")
    expect(res, 0)
    assert "rows" in res.stdout


@row("`validate`", 2, "the file is missing or unusable")
def test_validate_unusable_file_exits_2(tmp_path: Path) -> None:
    (tmp_path / "cols.csv").write_text("a,b\n1,2\n")
    (tmp_path / "one-bad.csv").write_text("date,task,minutes\n2026-10-01,deploy,30\n2026-10-02,deploy,banana\n")
    expect(srekit("validate", "toil", tmp_path / "missing.csv"), 2, "missing.csv")
    expect(srekit("validate", "toil", tmp_path / "cols.csv"), 2, "cols.csv")
    expect(srekit("validate", "toil", tmp_path / "one-bad.csv", "--strict"), 2, "one-bad.csv")
    expect(srekit("validate", "toil", tmp_path / "one-bad.csv"), 0)  # without --strict: usable


@row("`aggregate`", 0, "the telemetry was written")
def test_aggregate_into_a_new_folder(tmp_path: Path) -> None:
    out = tmp_path / "new" / "deeper" / "telemetry.parquet"
    expect(srekit("aggregate", SAMPLES / "requests_1d.csv.gz", "--out", out, "--no-progress"), 0)
    assert len(pd.read_parquet(out)) > 0


@row("`aggregate`", 2, "an input file missing or unusable")
def test_aggregate_unusable_input_exits_2(tmp_path: Path) -> None:
    out = tmp_path / "t.parquet"
    (tmp_path / "cols.csv").write_text("a,b\n1,2\n")
    expect(srekit("aggregate", tmp_path / "missing.csv", "--out", out), 2, "missing.csv")
    expect(srekit("aggregate", tmp_path / "cols.csv", "--out", out), 2, "cols.csv")
    expect(srekit("aggregate", SAMPLES / "requests_1d.csv.gz", "--out", out, "--interval", "banana"), 2, "--interval")
    expect(srekit("aggregate", SAMPLES / "requests_1d.csv.gz", "--out", out, "--edges", "a,b"), 2, "--edges")
    csv = tmp_path / "t.csv"
    expect(srekit("aggregate", SAMPLES / "requests_1d.csv.gz", "--out", csv, "--layout", "sparse"), 2, "Parquet only")
    assert not out.exists() and not csv.exists()


# ----------------------------------------------------------------------------- pull


@row("`pull prometheus`", 2, "no URL")
def test_pull_unusable_request_exits_2(tmp_path: Path) -> None:
    out = tmp_path / "t.parquet"
    unreachable = tmp_path / "service.yaml"
    unreachable.write_text("service: x\nprometheus: {url: 'http://127.0.0.1:9', retries: 0, timeout_s: 2}\n")
    for args, needle in (
        (("--start", "now-1d"), "no Prometheus URL"),
        (("--url", "http://127.0.0.1:9", "--start", "banana"), "start 'banana' is not a time"),
        (("--url", "http://127.0.0.1:9", "--start", "now-1d", "--end", "now-2d"), "is not after start"),
        (("--url", "http://127.0.0.1:9", "--start", "now-1d", "--interval", "banana"), "--interval 'banana'"),
        (("--url", "http://127.0.0.1:9", "--start", "0001-01-01", "--end", "9999-01-01"), "limits.pull_points"),
        (("--config", unreachable, "--start", "now-1h"), "127.0.0.1:9"),  # nothing listens there
    ):
        expect(srekit("pull", "prometheus", "--out", out, "--no-progress", *args), 2, needle)
    assert not out.exists()


# ----------------------------------------------------------------------------- analyze


@row("`analyze`", 0, "report.json, report.md")
def test_analyze_writes_the_report(tmp_path: Path) -> None:
    res = srekit("analyze", "--config", SAMPLES / "service.yaml", "--out", tmp_path / "new")
    expect(res, 0)
    d = json.loads((tmp_path / "new" / "report.json").read_text())
    assert d["meta"]["sections_failed"] == [] and (tmp_path / "new" / "report.md").is_file()


@row("`analyze`", 1, "an analysis section failed")
def test_analyze_failed_section_exits_1(tmp_path: Path) -> None:
    out = tmp_path / "o"
    res = _with_fault(
        "srekit.analysis.toil.analyze:analyze_toil", ["analyze", "--config", SAMPLES / "service.yaml", "--out", out]
    )
    expect(res, 1, "analysis section failed: toil: RuntimeError: an injected fault")
    d = json.loads((out / "report.json").read_text())
    assert d["toil"]["status"] == "failed" and d["slo_proposal"].get("status") != "failed"


@row("`analyze`, `report`, `rules`", 2, "a data file named in service.yaml")
def test_unusable_data_file_exits_2(tmp_path: Path) -> None:
    missing = tmp_path / "missing.yaml"
    missing.write_text("service: x\ndata: {telemetry: nope.parquet}\n")
    (tmp_path / "requests.csv").write_text("timestamp,latency_ms,status\nbanana,5,200\nnot a time,7,500\n")
    rejected = tmp_path / "rejected.yaml"
    rejected.write_text("service: x\ndata: {requests: requests.csv}\n")
    (tmp_path / "cols.csv").write_text("journey,when,total\npay,2024-03-01T00:00Z,5\n")
    columns = tmp_path / "columns.yaml"
    columns.write_text("service: x\ndata: {telemetry: cols.csv}\n")
    out = tmp_path / "o"
    for cfg, needle in ((missing, "nope.parquet"), (rejected, "requests.csv"), (columns, "cols.csv")):
        expect(srekit("analyze", "--config", cfg, "--out", out), 2, needle)
        expect(srekit("report", "--config", cfg, "--out", out), 2, needle)
        expect(srekit("rules", "--config", cfg, "--out", out), 2, needle)
    expect(srekit("analyze", "--config", rejected, "--out", out), 2, "every row was rejected")
    (tmp_path / "toil.csv").write_text("date,task,minutes\nnot a date,deploy,30\n2026-10-01,deploy,-5\n")
    toil = tmp_path / "toil.yaml"
    toil.write_text(f"service: x\ndata: {{telemetry: {SAMPLES / 'telemetry.parquet'}, toil: toil.csv}}\n")
    expect(srekit("analyze", "--config", toil, "--out", out), 2, "every row was rejected", "toil.csv")
    assert not (out / "report.json").exists() and not (out / "index.html").exists()


def _wide(root: Path) -> Path:
    """Three telemetry rows 73 years apart at a 1-minute interval."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "telemetry.csv").write_text(
        "journey,interval_start,total,errors,le_100,le_250\n"
        "pay,2026-01-01T00:00:00Z,100,1,90,99\npay,2026-01-01T00:01:00Z,100,1,90,99\n"
        "pay,2099-06-01T00:00:00Z,100,1,90,99\n"
    )
    (root / "service.yaml").write_text("service: wide\ndata: {telemetry: telemetry.csv}\n")
    return root / "service.yaml"


@row("`analyze`, `report`", 2, "the data needs more than a resource limit allows")
def test_resource_limit_exits_2_naming_it(tmp_path: Path) -> None:
    cfg = _wide(tmp_path)
    out = tmp_path / "o"
    for command in ("analyze", "report"):
        expect(
            srekit(command, "--config", cfg, "--out", out, "--limit", "max_intervals=1000"),
            2,
            "limits.max_intervals = 1,000",
            "--limit max_intervals=N",
        )
    decade = tmp_path / "decade.yaml"
    decade.write_text(f"service: x\ndata: {{telemetry: {SAMPLES / 'telemetry.parquet'}}}\nslo: {{window: 3650d}}\n")
    for command in ("analyze", "report"):
        expect(srekit(command, "--config", decade, "--out", out), 2, "limits.monte_carlo_draws", "3650-day window")
    assert not (out / "report.json").exists() and not (out / ".srekit-report.lock").exists()


# ----------------------------------------------------------------------------- report


#: The report's notebooks: every one but the interactive explorer (metadata ``srekit.in_report: false``).
REPORT_NOTEBOOKS = sorted(p.stem for p in (ROOT / "notebooks").glob("*.ipynb") if p.stem != "07_explore")


@pytest.mark.slow
@row("`report`", 0, "every notebook rendered")
def test_report_with_a_relative_config_as_the_readme_shows(tmp_path: Path) -> None:
    """The README's own usage, from the folder holding service.yaml: `srekit report --config
    service.yaml -p freq=1d` (a relative --config used to break the notebooks' parameters)."""
    work = tmp_path / "svc"
    work.mkdir()
    for p in SAMPLES.iterdir():
        if p.suffix in (".csv", ".parquet", ".json", ".gz"):
            (work / p.name).symlink_to(p)
    (work / "service.yaml").write_text((SAMPLES / "service.yaml").read_text())
    res = srekit("report", "--config", "service.yaml", "--out", "reports", "-p", "freq=1d", "--no-progress", cwd=work)
    expect(res, 0)
    run = next((work / "reports" / "shopfront").iterdir())
    info = json.loads((run / "run.json").read_text())
    assert info["status"] == "ok" and [n["name"] for n in info["notebooks"]] == REPORT_NOTEBOOKS
    telemetry = nbformat.read(str(run / "notebooks" / "01_telemetry.ipynb"), as_version=4)
    params = next(c for c in telemetry.cells if "injected-parameters" in c.get("metadata", {}).get("tags", []))
    assert f'config_path = "{work / "service.yaml"}"' in params.source and 'freq = "1d"' in params.source
    assert (work / "reports" / "index.html").is_file()


@pytest.mark.slow
@row("`report`", 1, "a notebook failed")
def test_report_failing_notebook_exits_1(tmp_path: Path) -> None:
    cfg = tiny(tmp_path)
    notebook(tmp_path / "nbs" / "01_fine.ipynb", "print('fine')")
    notebook(tmp_path / "nbs" / "02_broken.ipynb", "raise ValueError('the cell that fails')")
    res = srekit("report", "--config", cfg, "--out", tmp_path / "out", "--notebooks", tmp_path / "nbs", "--no-progress")
    expect(res, 1, "notebook 02_broken failed", "the cell that fails")
    run = next((tmp_path / "out" / "tiny").iterdir())
    assert json.loads((run / "run.json").read_text())["status"] == "failed"
    assert (run / "01_fine.html").is_file() and "the cell that fails" in (run / "02_broken.html").read_text()


@row("`report`", 2, "a `-p NAME=VALUE`")
def test_report_unusable_parameter_exits_2_before_any_work(tmp_path: Path) -> None:
    cfg = SAMPLES / "service.yaml"
    out = tmp_path / "out"
    for args, needle in (
        (("-p", "freq=banana"), "-p freq='banana': the time step of the telemetry charts"),
        (("-p", "runs=1e9"), "limits.monte_carlo_draws"),
        (("-p", "runs=0"), "simulated windows per SLO"),
        (("-p", "seed=-1"), "-p seed=-1: the random seed"),
        (("-p", "burn_rate_window=2d"), "one of 1h, 6h, 1d, 3d"),
        (("-p", "error_ratio=2"), "a number from 0 to 1"),
        (("-p", "top_tasks=0"), "a whole number from 1 to 100"),
        (("-p", "prometheus_url=ftp://x"), "http:// or https:// URL"),
        (("-p", "no_such=1"), "unknown notebook parameter(s) no_such"),
        (("-p", "config_path=/x"), "set by the runner"),
        (("--only", "99"), "--only '99' matches no notebook"),
    ):
        expect(srekit("report", "--config", cfg, "--out", out, *args), 2, needle)
    notebook(tmp_path / "nbs" / "01_x.ipynb", "pass")
    (tmp_path / "nbs" / "02_y.ipynb").write_text("{not json")
    expect(srekit("report", "--config", cfg, "--out", out, "--notebooks", tmp_path / "nbs"), 2, "02_y.ipynb")
    assert not out.exists() or [p for p in out.rglob("*") if p.is_file()] == []


@pytest.mark.slow
@row("`report`", 3, "another run holds the lock")
def test_report_locked_by_a_run_in_the_same_an_inner_or_an_outer_folder(tmp_path: Path) -> None:
    """Two real concurrent runs: the first (a notebook that takes a while) holds its folder; a
    second run into the same folder, into a folder inside it or around it exits 3 naming the
    holder, and the first run's temporary folder survives and is placed when it finishes (a run
    into `out/` used to delete a run in `out/inner`'s temporary folder)."""
    cfg = tiny(tmp_path)
    nbs = tmp_path / "nbs"
    release = tmp_path / "release"  # the first run's notebook holds on until the test has checked (load-proof)
    wait = (
        f"import os, time\nt0 = time.time()\nwhile not os.path.exists({str(release)!r}) and time.time() - t0 < 120:\n"
    )
    notebook(nbs / "01_slow.ipynb", wait + "    time.sleep(0.05)\nprint('done')")
    out = tmp_path / "out"
    for first, second in ((out / "inner", out), (out, out / "inner"), (out, out)):
        release.unlink(missing_ok=True)
        first_run = subprocess.Popen(
            [SREKIT, "report", "--config", cfg, "--out", first, "--notebooks", nbs, "--no-progress"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        _wait_for(lambda f=first: any(f.glob("**/.*.partial-*")), first_run)
        partial = next(first.glob("**/.*.partial-*"))
        res = srekit("report", "--config", cfg, "--out", second, "--notebooks", nbs, "--no-progress")
        expect(res, 3, f"pid {first_run.pid}", str(first / ".srekit-report.lock"))
        assert partial.is_dir(), "the second run removed the first run's temporary folder"
        release.touch()
        _, err = first_run.communicate(timeout=120)
        assert first_run.returncode == 0, err
        assert (
            not partial.exists()
            and json.loads((first / "tiny").glob("*/run.json").__next__().read_text())["status"] == "ok"
        )
        assert not list(out.rglob(".srekit-report.lock"))


# ----------------------------------------------------------------------------- alerts, rules, schema


@row("`alerts explain`", 0, "the table")
def test_alerts_explain_prints(tmp_path: Path) -> None:
    res = srekit("alerts", "explain", "--target", "99.9", "--period", "30d", "--json")
    expect(res, 0)
    assert json.loads(res.stdout)


@row("`alerts explain`", 2, "`--target`, `--period` or `--error-ratio` unusable")
def test_alerts_explain_unusable_arguments_exit_2(tmp_path: Path) -> None:
    for args, needle in (
        (("--target", "abc"), "--target"),
        (("--target", "5"), "percentage from 50 to 100"),
        (("--target", "0.999", "--period", "banana"), "--period 'banana'"),
        (("--target", "0.999", "--period", "0d"), "--period must be positive"),
        (("--target", "0.999", "--error-ratio", "2"), "error ratio must be in [0, 1]"),
        (("--target", "0.999", "--error-ratio", "nan"), "finite"),
    ):
        expect(srekit("alerts", "explain", *args), 2, needle)


@row("`rules`", 0, "the rules, promtool tests")
def test_rules_written(tmp_path: Path) -> None:
    res = srekit("rules", "--config", SAMPLES / "service.yaml", "--out", tmp_path / "new" / "rules")
    expect(res, 0)
    assert (tmp_path / "new" / "rules" / "prometheus" / "rules.yml").is_file()


@row("`rules`", 2, "no SLOs to export")
def test_rules_without_slos_exits_2(tmp_path: Path) -> None:
    (tmp_path / "service-only.yaml").write_text(
        "apiVersion: openslo/v1\nkind: Service\nmetadata: {name: x}\nspec: {}\n"
    )
    cfg = tmp_path / "service.yaml"
    cfg.write_text("service: x\nslo: {openslo: [service-only.yaml]}\n")
    expect(srekit("rules", "--config", cfg, "--out", tmp_path / "r"), 2, "no SLOs to export", "service-only.yaml")
    assert not (tmp_path / "r" / "prometheus").exists()


@row("`schema`", 0, "the JSON Schema")
def test_schema_printed_and_written(tmp_path: Path) -> None:
    res = srekit("schema")
    expect(res, 0)
    assert json.loads(res.stdout)["title"] == "srekit service.yaml"
    expect(srekit("schema", "--out", tmp_path / "new" / "schema.json"), 0)
    assert json.loads((tmp_path / "new" / "schema.json").read_text())


# ----------------------------------------------------------------------------- the table itself


def readme_rows() -> list[tuple[str, str, str]]:
    text = README.read_text(encoding="utf-8")
    section = text[text.index("### Exit codes") :]
    section = section[: section.index("\n## ")]
    rows = []
    for line in section.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")] if line.startswith("| ") else []
        if len(cells) == 3 and cells[1].isdigit():
            rows.append((cells[0], cells[1], cells[2]))
    return rows


def _test_names(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return {n.name for n in tree.body if isinstance(n, ast.FunctionDef)}


def test_every_row_is_tested() -> None:
    rows = readme_rows()
    assert len(rows) >= 30
    registered = {**ROWS, **ELSEWHERE}
    untested = [r for r in rows if not any(r[0] == k[0] and r[1] == k[1] and r[2].startswith(k[2]) for k in registered)]
    assert not untested, f"README rows without a test: {untested}"
    stale = [k for k in registered if not any(r[0] == k[0] and r[1] == k[1] and r[2].startswith(k[2]) for r in rows)]
    assert not stale, f"tests for rows the README no longer has: {stale}"
    assert set(ROWS.values()) <= _test_names(Path(__file__))
    for ref in ELSEWHERE.values():
        file, name = ref.split("::")
        assert name in _test_names(ROOT / file), ref
    codes = {r[1] for r in rows}
    assert codes == {"0", "1", "2", "3", "130"}
    assert all(re.fullmatch(r"(every command.*|`[a-z ]+`(, `[a-z ]+`)*)", r[0]) for r in rows)


def test_a_process_pool_broken_by_ctrl_c_is_an_interruption() -> None:
    """Ctrl-C reaches every process of the group: a notebook worker exits at once and may break
    the pool before `srekit report` handles its own interrupt (once seen as "failed:
    BrokenProcessPool", exit 1). Such a failure, or one raised while an interrupt was being
    handled, is an interruption (exit 130); any other stays a failure."""
    import _thread
    import threading
    from concurrent.futures.process import BrokenProcessPool

    from srekit.cli import interrupted

    try:
        try:
            raise KeyboardInterrupt
        except KeyboardInterrupt:
            raise BrokenProcessPool("a worker exited") from None  # __context__ is kept
    except BrokenProcessPool as exc:
        assert interrupted(exc, wait=0)
    assert not interrupted(ValueError("a bug"), wait=0)
    assert not interrupted(BrokenProcessPool("a worker crashed"), wait=0.05)  # no interrupt came
    timer = threading.Timer(0.1, _thread.interrupt_main)  # the interrupt arriving late
    timer.start()
    assert interrupted(BrokenProcessPool("a worker exited"), wait=10)
    timer.join()
