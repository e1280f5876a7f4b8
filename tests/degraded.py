"""Degraded services for the end-to-end matrix (tests/test_degraded.py): each case is a folder
with a service.yaml over thin, partial or mismatched inputs, built from a small generated sample
(``srekit.inputs.samples``) or from the real files of ``../shared/external`` (pointed at, never
copied)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
from conftest import journey_telemetry

from srekit.inputs import samples as S

#: The generated sample the synthetic cases are cut from: small, deterministic.
SAMPLE_DAYS = 14
SAMPLE_SEED = 5


@dataclass(frozen=True)
class Case:
    """One degraded service: how to build it, and what its report must ask or show."""

    name: str
    build: Callable[[Path, Path], str]  # (sample folder, case folder) -> service.yaml text
    questions: tuple[str, ...] = ()  # open-question topics (prefixes) the report must hold
    phrases: tuple[str, ...] = ()  # text the stakeholder page must show
    external: tuple[str, ...] = ()  # parts of a ../shared/external path it needs
    marks: tuple[str, ...] = field(default_factory=tuple)


def write_sample(folder: Path) -> Path:
    """The shared generated sample (telemetry, series, incidents, pages, toil, deploys)."""
    S.write_samples(folder, days=SAMPLE_DAYS, seed=SAMPLE_SEED, rps=0.2, raw_days=1)
    return folder


def _yaml(service: str, data: dict[str, str], extra: str = "") -> str:
    lines = [f"service: {service}", "data:"] + [f"  {k}: {v}" for k, v in data.items()]
    return "\n".join(lines) + "\n" + extra


def _journeys(targets: bool) -> str:
    if not targets:
        return "journeys: [checkout, browse, search]\n"
    return (
        "journeys:\n"
        "  - name: checkout\n"
        "    slos: {availability: 0.999, latency: {threshold_ms: 1500, target: 0.99}}\n"
        "  - browse\n"
        "  - search\n"
    )


ONCALL = "oncall: {coverage: 24x7, engineers: 5}\n"


def series_5min(sample: Path, case: Path) -> str:
    return _yaml("series-5min", {"series": str(sample / "series.csv")})


def series_hourly(sample: Path, case: Path) -> str:
    s = pd.read_csv(sample / "series.csv", parse_dates=["timestamp"])
    hourly = s.set_index("timestamp").groupby("journey")["value"].resample("1h").mean().dropna().reset_index()
    hourly.to_csv(case / "series_hourly.csv", index=False)
    return _yaml("series-hourly", {"series": "series_hourly.csv"}, "timezone: Europe/Berlin\n")


def incidents_only(sample: Path, case: Path) -> str:
    return _yaml("incidents-only", {"incidents": str(sample / "incidents.csv")}, "timezone: Europe/Berlin\n")


def telemetry_only(sample: Path, case: Path) -> str:
    return _yaml("telemetry-only", {"telemetry": str(sample / "telemetry.parquet")}, ONCALL)


def _full(sample: Path) -> dict[str, str]:
    return {
        "telemetry": str(sample / "telemetry.parquet"),
        "series": str(sample / "series.csv"),
        "incidents": str(sample / "incidents.csv"),
        "alerts": str(sample / "pages.csv"),
        "toil": str(sample / "toil.csv"),
        "deploys": str(sample / "deploys.csv"),
    }


def no_oncall(sample: Path, case: Path) -> str:
    return _yaml("no-oncall", _full(sample), "timezone: Europe/Berlin\n" + _journeys(True))


def no_targets(sample: Path, case: Path) -> str:
    return _yaml("no-targets", _full(sample), "timezone: Europe/Berlin\n" + _journeys(False) + ONCALL)


def single_day(sample: Path, case: Path) -> str:
    tel = pd.read_parquet(sample / "telemetry.parquet")
    last = tel["interval_start"].max().floor("D")
    tel[tel["interval_start"] >= last].to_parquet(case / "telemetry_1d.parquet", index=False)
    data = {**_full(sample), "telemetry": "telemetry_1d.parquet"}
    data.pop("series")
    return _yaml("single-day", data, "timezone: Europe/Berlin\n" + _journeys(True) + ONCALL)


def _shift_years(src: Path, dst: Path, columns: tuple[str, ...], years: int) -> None:
    frame = pd.read_csv(src, dtype=str, keep_default_na=False)
    for c in columns:
        stamps = pd.to_datetime(frame[c].where(frame[c] != ""), format="mixed", utc=True)
        frame[c] = (stamps - pd.DateOffset(years=years)).dt.strftime("%Y-%m-%dT%H:%M:%SZ").fillna("")
    frame.to_csv(dst, index=False)


def different_years(sample: Path, case: Path) -> str:
    """Telemetry of one time, every event log four years earlier (a wrong file, or a wrong service)."""
    stamps = ("started_at", "detected_at", "acknowledged_at", "mitigated_at", "resolved_at")
    _shift_years(sample / "incidents.csv", case / "incidents.csv", stamps, 4)
    _shift_years(sample / "pages.csv", case / "pages.csv", ("timestamp",), 4)
    _shift_years(sample / "deploys.csv", case / "deploys.csv", ("timestamp",), 4)
    toil = pd.read_csv(sample / "toil.csv", dtype=str)
    toil["date"] = (pd.to_datetime(toil["date"]) - pd.DateOffset(years=4)).dt.strftime("%Y-%m-%d")
    toil.to_csv(case / "toil.csv", index=False)
    data = {
        "telemetry": str(sample / "telemetry.parquet"),
        "incidents": "incidents.csv",
        "alerts": "pages.csv",
        "toil": "toil.csv",
        "deploys": "deploys.csv",
    }
    return _yaml("different-years", data, "timezone: Europe/Berlin\n" + _journeys(True) + ONCALL)


def _one_row(sample: Path, case: Path, *, declared: bool) -> Path:
    """One telemetry row holding three hours of a journey's traffic (a load test's totals)."""
    tel = journey_telemetry(sample / "telemetry.parquet")
    part = tel[tel["journey"] == "checkout"].head(180)
    counts = part.drop(columns=["journey", "interval_start"]).sum()
    row = {"journey": "checkout", "interval_start": part["interval_start"].iloc[0], **counts.to_dict()}
    if declared:
        row["interval_s"] = 3 * 3600
    out = case / ("one_row_declared.csv" if declared else "one_row.csv")
    frame = pd.DataFrame([row])
    frame["interval_start"] = pd.to_datetime(frame["interval_start"], utc=True).dt.strftime("%Y-%m-%dT%H:%M:%SZ")
    frame.to_csv(out, index=False)
    return out


def single_row(sample: Path, case: Path) -> str:
    return _yaml("single-row", {"telemetry": _one_row(sample, case, declared=False).name}, ONCALL)


def single_row_declared(sample: Path, case: Path) -> str:
    return _yaml("single-row-declared", {"telemetry": _one_row(sample, case, declared=True).name}, ONCALL)


def external_path(root: Path, *parts: str) -> str:
    return str(root.joinpath(*parts))


def nab_github(external: Path) -> Callable[[Path, Path], str]:
    def build(sample: Path, case: Path) -> str:
        data = {
            "series": external_path(
                external, "nab", "data", "realKnownCause", "ec2_request_latency_system_failure.csv"
            ),
            "incidents": external_path(external, "github-incident-history", "incidents.statuspage.json"),
            "incidents_format": "statuspage",
        }
        return _yaml("ec2-nab", data, "timezone: America/New_York\n")

    return build


def ms_gcp(external: Path) -> Callable[[Path, Path], str]:
    def build(sample: Path, case: Path) -> str:
        data = {
            "series": external_path(
                external,
                "microsoft-cloud-monitoring-dataset",
                "data",
                "middle-tier-api-dependency-latency",
                "outbound-01.csv",
            ),
            "incidents": external_path(external, "cloud-status-history", "gcp_incidents.derived.csv"),
            "incidents_format": "gcp",
        }
        return _yaml("ms-api", data)

    return build


def wrk2(external: Path) -> Callable[[Path, Path], str]:
    def build(sample: Path, case: Path) -> str:
        data = {"loadtest": external_path(external, "hdr-plot", "sample", "file1.out")}
        extra = "journeys:\n  - name: api\n    slos: {latency: {threshold_ms: 2, target: 0.99}}\n"
        return _yaml("wrk2-loadtest", data, extra)

    return build
