"""The analysed period (srekit.analysis.period): which input defines it, what is clipped and
counted, the interval lengths, and what report.json and the summary say about it. Small files
written here, loaded through service.yaml like a user's; every expected number is countable by
hand from the rows below."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from srekit.analysis.period import analysed_period, clip_inputs
from srekit.core.errors import InputError
from srekit.inputs.config import load_config
from srekit.inputs.loaders import load_inputs
from srekit.report.cache import Analysis

GEN = pd.Timestamp("2030-01-01", tz="UTC")

# Telemetry: 3 hours of one journey, 10:00..12:59 on 2024-05-01 (UTC), one row per minute.
TELEMETRY_START = pd.Timestamp("2024-05-01T10:00Z")


def telemetry_csv(path: Path, minutes: int = 180, start: pd.Timestamp = TELEMETRY_START) -> Path:
    rows = ["journey,interval_start,total,errors,le_100,le_500"]
    for i in range(minutes):
        t = start + pd.Timedelta(minutes=i)
        rows.append(f"api,{t:%Y-%m-%dT%H:%M:%SZ},100,{1 if i % 60 == 0 else 0},95,100")
    path.write_text("\n".join(rows) + "\n")
    return path


INCIDENTS = """id,title,started_at,resolved_at,severity
old,before the period,2024-04-30T08:00Z,2024-04-30T09:00Z,SEV2
across,starts before and ends inside,2024-05-01T09:30Z,2024-05-01T10:30Z,SEV2
inside,inside,2024-05-01T11:00Z,2024-05-01T11:20Z,SEV1
late,after the period,2024-05-02T08:00Z,2024-05-02T09:00Z,SEV3
open-old,still open but its log ends before,2024-04-29T08:00Z,,SEV3
"""
PAGES = """timestamp,alert,severity
2024-05-01T09:59:59Z,HighCPU,page
2024-05-01T10:00:00Z,CheckoutBurn,page
2024-05-01T12:59:00Z,CheckoutBurn,page
2024-05-01T13:00:00Z,HighCPU,page
"""
TOIL = """date,task,minutes
2024-04-30,rotate certs,30
2024-05-01,restart workers,15
2024-05-02,restart workers,15
"""
DEPLOYS = """timestamp,result
2024-05-01T11:00:00Z,success
2025-05-01T11:00:00Z,success
"""


def service(tmp_path: Path, data: dict[str, str], extra: str = "") -> Path:
    lines = ["service: shop", "data:"] + [f"  {k}: {v}" for k, v in data.items()]
    cfg = tmp_path / "service.yaml"
    cfg.write_text("\n".join(lines) + "\n" + extra)
    return cfg


def write(tmp_path: Path, name: str, text: str) -> str:
    (tmp_path / name).write_text(text)
    return name


@pytest.fixture
def full(tmp_path: Path) -> Path:
    telemetry_csv(tmp_path / "t.csv")
    data = {
        "telemetry": "t.csv",
        "incidents": write(tmp_path, "i.csv", INCIDENTS),
        "alerts": write(tmp_path, "p.csv", PAGES),
        "toil": write(tmp_path, "toil.csv", TOIL),
        "deploys": write(tmp_path, "d.csv", DEPLOYS),
    }
    return service(tmp_path, data)


def test_telemetry_defines_the_period_and_every_other_input_is_clipped_and_counted(full: Path) -> None:
    inputs = load_inputs(load_config(full))
    period = analysed_period(inputs)
    # 180 one-minute intervals from 10:00: the period ends when the last interval does, 13:00
    assert (period.basis, period.start, period.end) == (
        "telemetry",
        TELEMETRY_START,
        pd.Timestamp("2024-05-01T13:00Z"),
    )
    assert period.intervals["telemetry"].length == pd.Timedelta(minutes=1)
    assert period.intervals["telemetry"].source == "inferred"
    spans = {s.kind: (s.rows, s.kept, s.before, s.after) for s in period.spans}
    # incidents: "old" ended before 10:00, "late" starts after 13:00; "across" overlaps the start,
    # "open-old" is open and its log runs on to 2024-05-02 (the next test: a log that ends before)
    assert spans["incidents"] == (5, 3, 1, 1)
    assert spans["alerts"] == (4, 2, 1, 1)  # 09:59:59 before, 13:00 after (the end is exclusive)
    assert spans["deploys"] == (2, 1, 0, 1)
    # toil days are UTC midnights here: 04-30 ends at the period's start (before), 05-02 starts after it
    assert spans["toil"] == (3, 1, 1, 1)
    clipped = clip_inputs(inputs, period)
    assert sorted(clipped.incidents["id"]) == ["across", "inside", "open-old"]
    assert list(clipped.alerts["alert"]) == ["CheckoutBurn", "CheckoutBurn"]
    assert clipped.telemetry is inputs.telemetry  # never clipped: it defines the period


def test_an_open_incident_is_known_to_last_only_until_its_log_ends(tmp_path: Path) -> None:
    telemetry_csv(tmp_path / "t.csv")
    log = "id,started_at,resolved_at\nopen,2024-04-01T08:00Z,\nlast,2024-04-02T08:00Z,2024-04-02T09:00Z\n"
    inputs = load_inputs(
        load_config(service(tmp_path, {"telemetry": "t.csv", "incidents": write(tmp_path, "i.csv", log)}))
    )
    period = analysed_period(inputs)
    span = period.span("incidents")
    assert span is not None and (span.kept, span.before) == (0, 2)  # the log ends 2024-04-02T09:00
    assert [q.topic for q in period.open_questions] == ["period_mismatch:incidents"]
    assert "does not overlap the analysed period (2024-05-01 to 2024-05-01" in period.open_questions[0].question


def test_without_telemetry_the_series_then_the_incidents_define_the_period(tmp_path: Path) -> None:
    series = "timestamp,value\n2024-05-01T10:00Z,12\n2024-05-01T10:05Z,14\n2024-05-01T10:10Z,13\n"
    write(tmp_path, "s.csv", series)
    write(tmp_path, "i.csv", INCIDENTS)
    both = analysed_period(load_inputs(load_config(service(tmp_path, {"series": "s.csv", "incidents": "i.csv"}))))
    # three samples 5 minutes apart: 10:00 .. 10:15 (the last sample's interval included)
    assert (both.basis, both.start, both.end) == ("series", TELEMETRY_START, pd.Timestamp("2024-05-01T10:15Z"))
    assert both.intervals["series"].length == pd.Timedelta(minutes=5)
    # "across" (09:30..10:30) and "open-old" (open since 04-29, its log ends 05-02 09:00) overlap 10:00..10:15
    assert both.span("incidents").kept == 2  # type: ignore[union-attr]
    only = analysed_period(load_inputs(load_config(service(tmp_path, {"incidents": "i.csv"}))))
    # the incident log's own range: first start to the last stamp (the open incident's log ends 05-02 09:00)
    assert (only.basis, only.start, only.end) == (
        "incidents",
        pd.Timestamp("2024-04-29T08:00Z"),
        pd.Timestamp("2024-05-02T09:00Z"),
    )
    assert only.span("incidents").kept == 5  # type: ignore[union-attr]


def test_a_single_row_is_an_assumed_minute_with_a_question_or_a_declared_length(tmp_path: Path) -> None:
    one = "journey,interval_start,total,errors,le_100\napi,2024-05-01T10:00Z,5400000,12,5300000\n"
    write(tmp_path, "one.csv", one)
    period = analysed_period(load_inputs(load_config(service(tmp_path, {"telemetry": "one.csv"}))))
    assert period.intervals["telemetry"].source == "assumed"
    assert period.end - period.start == pd.Timedelta(minutes=1)  # type: ignore[operator]
    assert [q.topic for q in period.open_questions] == ["interval:telemetry"]
    assert "Assumed 1 minute; set data.telemetry_interval" in period.open_questions[0].assumption
    # declared in service.yaml: 180 minutes, no question
    declared = load_config(service(tmp_path, {"telemetry": "one.csv", "telemetry_interval": "180m"}))
    p2 = analysed_period(load_inputs(declared))
    assert (p2.intervals["telemetry"].source, p2.end - p2.start) == ("service.yaml", pd.Timedelta(hours=3))  # type: ignore[operator]
    assert not p2.open_questions
    # declared by the file: an interval_s column
    write(tmp_path, "col.csv", one.replace("le_100\n", "le_100,interval_s\n").replace("5300000\n", "5300000,10800\n"))
    p3 = analysed_period(load_inputs(load_config(service(tmp_path, {"telemetry": "col.csv"}))))
    assert (p3.intervals["telemetry"].source, p3.intervals["telemetry"].length) == ("file", pd.Timedelta(hours=3))


def test_interval_columns_reject_rows_that_disagree_and_a_declaration_the_stamps_contradict(tmp_path: Path) -> None:
    rows = (
        "journey,interval_start,interval_end,total,errors,le_100\n"
        "api,2024-05-01T10:00Z,2024-05-01T10:05Z,10,0,10\n"
        "api,2024-05-01T10:05Z,2024-05-01T10:10Z,10,0,10\n"
        "api,2024-05-01T10:10Z,2024-05-01T10:11Z,10,0,10\n"  # a 1-minute row in a 5-minute file
        "api,2024-05-01T10:15Z,2024-05-01T10:15Z,10,0,10\n"  # ends where it starts
    )
    write(tmp_path, "t.csv", rows)
    inputs = load_inputs(load_config(service(tmp_path, {"telemetry": "t.csv"})))
    entry = inputs.ledger[0]
    assert dict(entry.rejected) == {
        "interval differs from the file's (300 s)": 1,
        "interval_end not after interval_start": 1,
    }
    assert inputs.intervals["telemetry"].length == pd.Timedelta(minutes=5)
    telemetry_csv(tmp_path / "m.csv", minutes=10)  # rows one minute apart
    with pytest.raises(
        InputError, match=r"1 minute apart contradict the declared interval of 5 minutes.*data\.telemetry_interval"
    ):
        load_inputs(load_config(service(tmp_path, {"telemetry": "m.csv", "telemetry_interval": "5m"})))


def test_report_json_and_the_summary_state_the_period_and_what_was_left_out(full: Path) -> None:
    analysis = Analysis(load_config(full), generated_at=GEN)
    report = analysis.report_dict
    period = report["meta"]["period"]
    assert (period["start"], period["end"], period["basis"]) == (
        "2024-05-01T10:00:00+00:00",
        "2024-05-01T13:00:00+00:00",
        "telemetry",
    )
    assert period["clipped"] == {"incidents": 2, "toil": 2, "alerts": 2, "deploys": 1}
    assert period["inputs"]["incidents"] == {
        "kind": "incidents",
        "rows": 5,
        "start": "2024-04-29T08:00:00+00:00",
        "end": "2024-05-02T09:00:00+00:00",
        "kept": 3,
        "clipped_before": 1,
        "clipped_after": 1,
    }
    assert report["inputs"]["ranges"]["alerts"]["kept"] == 2
    first = report["summary"]["sentences"][0]
    assert first == (
        "This report covers 2024-05-01 10:00 to 2024-05-01 13:00 UTC (3 hours), the range of the request telemetry; "
        "2 of 5 incidents, 2 of 3 toil entries, 2 of 4 pages and 1 of 2 deploys fall outside it and were left out."
    )
    # the sections see only what is inside: 3 incidents, 2 pages
    assert report["incident_response"]["incidents"] == 3
    assert report["summary"]["figures"]["clipped"] == {"incidents": 2, "toil": 2, "alerts": 2, "deploys": 1}


def test_an_input_outside_the_period_is_an_open_question_and_a_summary_sentence(tmp_path: Path) -> None:
    telemetry_csv(tmp_path / "t.csv")
    write(tmp_path, "d.csv", "timestamp,result\n2019-05-01T11:00:00Z,success\n2019-06-01T11:00:00Z,rollback\n")
    analysis = Analysis(load_config(service(tmp_path, {"telemetry": "t.csv", "deploys": "d.csv"})), generated_at=GEN)
    report = analysis.report_dict
    assert "period_mismatch:deploys" in [q["topic"] for q in report["open_questions"]]
    assert (
        "The deploy log (2019-05-01 to 2019-06-01) does not overlap this period and was left out (see Open Questions)."
        in report["summary"]["sentences"]
    )
    assert analysis.inputs.deploys is not None and analysis.inputs.deploys.empty  # given, but nothing in the period
