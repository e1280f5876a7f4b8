"""`srekit validate` as a subprocess: exit codes and printed ledger; and load_inputs from
service.yaml."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import yaml
from conftest import SAMPLES

from srekit.core.errors import InputError
from srekit.inputs import loaders as io
from srekit.inputs.config import load_config


def validate(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "srekit.cli", "validate", *args], capture_output=True, text=True, timeout=60, cwd=cwd
    )


@pytest.fixture
def incidents_csv(tmp_path: Path) -> Path:
    p = tmp_path / "inc.csv"
    p.write_text(
        "id,begin,end,severity\n"
        "A,2024-03-10 01:30,2024-03-10 03:30,SEV2\n"  # New York: 03:30 EDT = 07:30 UTC
        "B,2024-03-11 10:00,2024-03-11 09:00,SEV3\n"  # resolved before started
        "C,2024-03-12 10:00,,bogus\n"  # unknown severity
        "D,2024-03-13 10:00,,SEV1\n"  # open
    )
    return p


def test_validate_ok_prints_ledger(incidents_csv: Path, tmp_path: Path) -> None:
    r = validate(
        "incidents",
        str(incidents_csv),
        "--columns",
        "started_at=begin,resolved_at=end",
        "--timezone",
        "America/New_York",
        "--quarantine",
        str(tmp_path / "q"),
    )
    assert r.returncode == 0, r.stderr
    out = r.stdout
    assert "rows read:     4" in out and "rows accepted: 2" in out and "rows rejected: 2" in out
    assert "resolved before started: 1" in out and "unknown severity value: 1" in out
    assert "open_incidents: 1" in out
    assert "time range (UTC): 2024-03-10T06:30:00+00:00 .. 2024-03-13T14:00:00+00:00" in out
    q = tmp_path / "q" / "incidents-inc.rejects.csv"
    assert f"quarantine: {q}" in out
    assert pd.read_csv(q)["reason"].tolist() == ["resolved before started", "unknown severity value"]


def test_validate_strict_exits_2(incidents_csv: Path) -> None:
    r = validate("incidents", str(incidents_csv), "--columns", "started_at=begin,resolved_at=end", "--strict")
    assert r.returncode == 2
    assert "strict mode: rows were rejected" in r.stderr and "Traceback" not in r.stderr
    assert "row 2)" in r.stderr and "resolved before started: 1; unknown severity value: 1" in r.stderr


def test_validate_unusable_exits_2_without_traceback(tmp_path: Path) -> None:
    p = tmp_path / "pages.csv"
    p.write_text("timestamp,alert,sevrity\n2024-01-01,x,page\n")
    r = validate("alerts", str(p))
    assert r.returncode == 2
    assert r.stdout == "" and "Traceback" not in r.stderr
    assert "missing required column 'severity' (did you mean 'sevrity'?)" in r.stderr and str(p) in r.stderr
    assert "fix:" in r.stderr


def test_validate_empty_and_bad_columns_argument(tmp_path: Path) -> None:
    p = tmp_path / "t.csv"
    p.write_text("")
    r = validate("telemetry", str(p))
    assert r.returncode == 2 and "file is empty" in r.stderr
    r = validate("series", str(p), "--columns", "timestamp")
    assert r.returncode == 2 and "bad --columns item 'timestamp'" in r.stderr


def test_validate_unknown_kind_is_usage_error(tmp_path: Path) -> None:
    r = validate("widgets", str(tmp_path))
    assert r.returncode == 2 and "invalid choice" in r.stderr


# ----------------------------------------------------------------------------- load_inputs


def _service(tmp_path: Path, data: dict[str, str], **extra: object) -> Path:
    cfg = {"service": "demo", "data": data, **extra}
    p = tmp_path / "service.yaml"
    p.write_text(yaml.safe_dump(cfg))
    return p


def test_load_inputs_all_kinds(tmp_path: Path) -> None:
    (tmp_path / "tel.csv").write_text(
        "route,ts,total,errors,le_100,le_500\ncheckout,2024-01-01 00:00,10,1,7,9\ncheckout,2024-01-01 "
        "00:01,10,0,10,10\n"
    )
    (tmp_path / "inc.csv").write_text(
        "id,started_at,resolved_at\nI1,2024-01-01 00:00,2024-01-01 00:30\nI2,2024-01-01 01:00,2024-01-01 00:30\n"
    )
    (tmp_path / "toil.csv").write_text("date,task,minutes\n2024-01-01,restart,20\n")
    (tmp_path / "pages.csv").write_text(
        "timestamp,alert,severity,incident_id\n2024-01-01 00:05,HighErrors,page,I1\n2024-01-01 "
        "00:07,HighErrors,page,I9\n"
    )
    (tmp_path / "deploys.csv").write_text("timestamp,result\n2023-12-31 23:50,success\n")
    (tmp_path / "series.csv").write_text("timestamp,value\n2024-01-01 00:00,120\n")
    cfg = load_config(
        _service(
            tmp_path,
            {
                "telemetry": "tel.csv",
                "telemetry_columns": {"journey": "route", "interval_start": "ts"},
                "incidents": "inc.csv",
                "toil": "toil.csv",
                "alerts": "pages.csv",
                "deploys": "deploys.csv",
                "series": "series.csv",
            },
            timezone="Europe/Berlin",
        )
    )
    inputs = io.load_inputs(cfg, quarantine_dir=tmp_path / "q")
    assert inputs.present() == io.KINDS
    assert inputs.telemetry is not None and inputs.telemetry["interval_start"].iloc[0] == pd.Timestamp(
        "2023-12-31 23:00", tz="UTC"
    )
    assert inputs.telemetry["journey"].tolist() == ["checkout", "checkout"]
    assert [e.kind for e in inputs.ledger] == list(io.KINDS)
    inc = next(e for e in inputs.ledger if e.kind == "incidents")
    assert inc.rejected == {"resolved before started": 1}
    assert inc.quarantine == str(tmp_path / "q" / "incidents-inc.rejects.csv") and Path(inc.quarantine).exists()
    assert all(e.quarantine is None for e in inputs.ledger if e.kind != "incidents")
    pages = next(e for e in inputs.ledger if e.kind == "alerts")
    assert dict(pages.notes) == {"linked_to_incident": 2, "incident_id_not_in_incidents": 1}  # I9 does not exist


def test_load_inputs_missing_listed_file_names_the_key(tmp_path: Path) -> None:
    (tmp_path / "tel.csv").write_text("journey,interval_start,total,errors,le_100\na,2024-01-01,1,0,1\n")
    cfg = load_config(_service(tmp_path, {"telemetry": "tel.csv", "toil": "missing/toil.csv"}))
    with pytest.raises(InputError, match=r"the file listed under data.toil does not exist") as e:
        io.load_inputs(cfg)
    assert "service.yaml" in str(e.value) and "toil.csv" in str(e.value)


def test_load_inputs_only_incidents(tmp_path: Path) -> None:
    (tmp_path / "inc.csv").write_text("id,started_at,resolved_at\nI1,2024-01-01 00:00,\n")
    inputs = io.load_inputs(load_config(_service(tmp_path, {"incidents": "inc.csv"})))
    assert inputs.telemetry is None and inputs.toil is None and inputs.incidents is not None
    assert inputs.present() == ("incidents",) and inputs.ledger[0].notes == {"open_incidents": 1}


def test_load_inputs_aggregates_requests_folder(tmp_path: Path) -> None:
    logs = tmp_path / "logs"
    logs.mkdir()
    (logs / "a.csv").write_text(
        "timestamp,latency_ms,status,journey\n2024-01-01T00:00:10Z,120,200,api\n2024-01-01T00:00:20Z,900,503,api\n"
    )
    (logs / "b.csv").write_text(
        "timestamp,latency_ms,status,journey\n2024-01-01T00:01:05Z,80,200,api\n2024-01-01T00:01:06Z,-5,200,api\n"
    )
    (tmp_path / "inc.csv").write_text("id,started_at,resolved_at\nI1,2024-01-01 00:00,\n")
    cfg = load_config(_service(tmp_path, {"requests": "logs", "incidents": "inc.csv"}))
    inputs = io.load_inputs(cfg, quarantine_dir=tmp_path / "q")
    tel = inputs.telemetry
    assert tel is not None
    assert tel[["total", "errors"]].to_numpy().tolist() == [[2, 1], [1, 0]]
    assert tel["interval_start"].tolist() == [
        pd.Timestamp("2024-01-01 00:00", tz="UTC"),
        pd.Timestamp("2024-01-01 00:01", tz="UTC"),
    ]
    req = inputs.ledger[0]
    assert req.kind == "requests" and req.rows_read == 4 and req.rows_accepted == 3 and req.rows_rejected == 1
    assert req.quarantine is not None and Path(req.quarantine).exists()
    assert [e.kind for e in inputs.ledger] == ["requests", "incidents"]


def test_validate_requests_kind(tmp_path: Path) -> None:
    p = tmp_path / "r.csv"
    p.write_text("timestamp,latency_ms,status\n2024-01-01T00:00:10Z,120,200\n2024-01-01T00:00:20Z,abc,200\n")
    r = validate("requests", str(p))
    assert r.returncode == 0, r.stderr
    assert "rows read:     2" in r.stdout and "rows accepted: 1" in r.stdout and "rows rejected: 1" in r.stdout


def test_load_inputs_routes_to_prometheus_with_configured_range(tmp_path: Path) -> None:
    # no telemetry or requests file: the pull is attempted with prometheus.start/end (here an
    # inverted range, which the puller rejects before any network call).
    cfg = load_config(
        _service(
            tmp_path,
            {},
            prometheus={"url": "http://127.0.0.1:9", "start": "2024-01-02T00:00:00Z", "end": "2024-01-01T00:00:00Z"},
        )
    )
    with pytest.raises(InputError, match=r"end 2024-01-01 00:00:00\+00:00 is not after start 2024-01-02"):
        io.load_inputs(cfg)


def test_inputs_type_checked() -> None:
    with pytest.raises(TypeError, match="Inputs.toil must be a DataFrame"):
        io.Inputs(toil="toil.csv")  # type: ignore[arg-type]


def test_samples_load_when_present() -> None:
    cfg_path = SAMPLES / "service.yaml"
    inputs = io.load_inputs(load_config(cfg_path))
    assert inputs.telemetry is not None and len(inputs.telemetry) > 0
    for e in inputs.ledger:
        assert e.rows_read == e.rows_accepted + e.rows_rejected
    assert inputs.incidents is not None and inputs.incidents["resolved_at"].isna().sum() >= 1  # one open incident
