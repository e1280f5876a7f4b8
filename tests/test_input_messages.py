"""Messages about inputs name what to do: a vendor export read as a generic CSV names its
--format, and `srekit validate` says how it read what it had to assume (the timezone of stamps
without an offset, the interval, the unit of a series value)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from conftest import ROOT, external

from srekit.core.errors import InputError
from srekit.inputs.loaders import load_incidents


def validate(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "srekit.cli", "validate", *args], capture_output=True, text=True, cwd=ROOT, timeout=120
    )


def test_the_google_cloud_csv_read_as_generic_names_the_gcp_preset() -> None:
    path = external("cloud-status-history", "gcp_incidents.derived.csv")
    with pytest.raises(InputError) as err:
        load_incidents(path)
    text = str(err.value)
    assert "the fields of a Google Cloud status export" in text
    assert "fix: read it with the gcp preset: data.incidents_format: gcp in service.yaml (CLI: --format gcp)" in text
    assert "rename" not in text  # no longer: "rename 'status_impact' to 'started_at'"
    proc = validate("incidents", str(path), "--format", "gcp")
    assert proc.returncode == 0 and "rows accepted: 157" in proc.stdout


def test_a_csv_with_the_generic_columns_is_not_taken_for_a_preset() -> None:
    # GitHub's flat CSV carries Statuspage's field names *and* started_at/resolved_at: generic works
    loaded = load_incidents(external("github-incident-history", "github_incidents.derived.csv"))
    assert loaded.entry.rows_accepted == 1279


def test_validate_series_says_the_timezone_interval_and_unit_it_assumed(tmp_path: Path) -> None:
    nab = external("nab", "data", "realKnownCause", "ec2_request_latency_system_failure.csv")
    utc = validate("series", str(nab))
    assert utc.returncode == 0
    assert (
        "stamps without an offset: 4,032, read as wall time in UTC (the default: pass --timezone (service.yaml: "
        "timezone) if they are local time)" in utc.stdout
    )
    assert "interval: 5 minutes, inferred from the spacing of the stamps (state it: data.series_interval" in utc.stdout
    assert "value: read as milliseconds, the unit thresholds are in (assumed; set data.series_unit" in utc.stdout
    ny = validate("series", str(nab), "--timezone", "America/New_York")
    assert "read as wall time in America/New_York" in ny.stdout
    offset = tmp_path / "s.csv"
    offset.write_text("timestamp,value\n2024-05-01T10:00:00Z,3\n2024-05-01T10:01:00Z,4\n")
    assert "stamps without an offset" not in validate("series", str(offset)).stdout
