"""analysis.py: the lazy, memoised Analysis shared by report.json and every notebook, and its
saved form (one pickle per value, streamed while the runner computes)."""

from __future__ import annotations

import json
import os
import pickle
import subprocess
import sys
import threading
import time
from pathlib import Path

import pandas as pd
import pytest
from conftest import SAMPLES

from srekit.inputs import telemetry as tm
from srekit.inputs.config import parse_config
from srekit.inputs.loaders import Inputs
from srekit.report.cache import (
    BASE_FILE,
    COMPLETE_FILE,
    FORECAST_RUNS,
    PENDING_FILE,
    Analysis,
    AnalysisCacheError,
    build_report,
    load,
    mark_failed,
    mark_pending,
)

T0 = pd.Timestamp("2024-03-01", tz="UTC")
GEN = pd.Timestamp("2024-04-01T06:00:00", tz="UTC")


def telemetry(minutes: int = 6 * 60) -> pd.DataFrame:
    """Two journeys, one request bucket layout; every 7th minute of "pay" has 3 failures."""
    rows = []
    for j, base in (("pay", 100), ("browse", 300)):
        for m in range(minutes):
            errors = 3 if j == "pay" and m % 7 == 0 else 0
            rows.append(
                {
                    "journey": j,
                    "interval_start": T0 + pd.Timedelta(minutes=m),
                    "total": base,
                    "errors": errors,
                    "le_100": base - 10,
                    "le_250": base - 2,
                    "le_1000": base,
                }
            )
    return tm.canonical(pd.DataFrame(rows))


def toil() -> pd.DataFrame:
    days = pd.date_range(T0, periods=28, freq="D")
    return pd.DataFrame(
        {
            "date": days,
            "task": pd.Series(["restart workers" if i % 2 else "rotate certs" for i in range(28)], dtype="str"),
            "minutes": [30.0 + i for i in range(28)],
            "category": pd.Series(["manual"] * 28, dtype="str"),
            "engineer": pd.Series(["ana" if i % 3 else "bo" for i in range(28)], dtype="str"),
            "automatable": [True] * 28,
        }
    )


def config() -> object:
    return parse_config({"service": "shop", "data": {"telemetry": "t.parquet", "toil": "toil.csv"}})


def analysis(**kw: object) -> Analysis:
    inputs = kw.pop("inputs", None) or Inputs(telemetry=telemetry(), toil=toil())
    return Analysis(config(), seed=11, generated_at=GEN, inputs=inputs, **kw)  # type: ignore[arg-type]


def test_build_report_is_the_analysis_report() -> None:
    """One wiring: build_report and Analysis.report give the same report.json."""
    inputs = Inputs(telemetry=telemetry(), toil=toil())
    one = build_report(config(), inputs, seed=11, generated_at=GEN).to_dict()  # type: ignore[arg-type]
    two = Analysis(config(), seed=11, generated_at=GEN, inputs=inputs).report_dict  # type: ignore[arg-type]
    assert json.dumps(one, sort_keys=True) == json.dumps(two, sort_keys=True)
    assert one["meta"]["seed"] == 11 and one["slo_proposal"]["slos"]


def test_sections_are_computed_on_first_use_only() -> None:
    a = analysis()
    toil_result = a.toil
    assert "section:toil" in a._memo and "section:slo_proposal" not in a._memo  # the toil page needs no SLOs
    assert a.toil is toil_result  # memoised
    assert a.result("toil") is toil_result
    policy = a.policy  # needs the SLOs: computes the proposal first
    assert "section:slo_proposal" in a._memo and policy is a.policy
    with pytest.raises(KeyError, match="unknown section"):
        a.result("nope")


def test_same_seed_same_numbers_in_every_notebook() -> None:
    """Each section draws from its own stream: a notebook computing one section alone gets the
    numbers of report.json."""
    full = analysis().report_dict
    alone = analysis().toil.to_dict()
    assert json.dumps(alone, sort_keys=True) == json.dumps(full["toil"], sort_keys=True)
    assert analysis().forecast_for(FORECAST_RUNS) is not None
    a = analysis()
    assert a.forecast_for(FORECAST_RUNS) is a.forecast
    small = a.forecast_for(200)
    assert small is a.forecast_for(200) and small is not a.forecast


def test_report_view_is_report_json_cut_down_and_computes_only_its_sections() -> None:
    """A notebook's tables read report_view(...): the same values as report.json, and a
    notebook run alone computes only the sections it shows."""
    full = analysis().report_dict
    a = analysis()
    view = a.report_view("toil")
    assert "section:slo_proposal" not in a._memo and "section:incident_response" not in a._memo
    assert json.dumps(view["toil"], sort_keys=True) == json.dumps(full["toil"], sort_keys=True)
    assert {q["topic"] for q in view["open_questions"]} <= {q["topic"] for q in full["open_questions"]}
    assert all(q["section"] == "toil" for q in view["open_questions"])
    both = analysis().report_view("error_budget_policy", "slo_proposal")
    for key in ("error_budget_policy", "slo_proposal"):
        assert json.dumps(both[key], sort_keys=True) == json.dumps(full[key], sort_keys=True)
    assert "forecast" in both["error_budget_policy"]
    with pytest.raises(KeyError, match="unknown report section"):
        a.report_view("summary")


def test_failing_section_is_recorded_and_reraised() -> None:
    # a frame the loader would never pass on: the toil section fails with a plain error (a bug's stand-in)
    broken = pd.DataFrame(
        {"date": pd.to_datetime(["2024-03-01"], utc=True), "task": ["x"], "minutes": [5.0], "engineer": [["a", "b"]]}
    )
    a = analysis(inputs=Inputs(telemetry=telemetry(), toil=broken))
    assert a.result("toil") is None
    assert [s for s, _ in a.failures] == ["toil"] and "unhashable" in a.failures[0][1]
    with pytest.raises(TypeError, match="unhashable"):
        _ = a.toil
    d = a.report_dict
    assert d["toil"]["status"] == "failed" and d["meta"]["sections_failed"][0].startswith("toil: ")
    assert d["backlog"].get("status") != "failed"  # the others still render


def test_golden_signals_views_are_request_weighted_hourly_sums() -> None:
    a = analysis()
    hourly = a.golden_signals("1h")
    pay = hourly[hourly["journey"] == "pay"].reset_index(drop=True)
    assert len(pay) == 6 and (pay["requests"] == 6000).all()
    # minutes 0, 7, …, 56 fail in the first hour: 9 × 3 errors of 6000 requests
    assert pay.loc[0, "errors"] == 27 and pay.loc[0, "error_ratio"] == pytest.approx(27 / 6000)
    assert a.golden_signals("1h") is hourly
    assert list(a.traffic_mix["journey"]) == ["browse", "pay"]


def test_save_and_load_round_trip(tmp_path: Path) -> None:
    a = analysis()
    a.save(tmp_path / "cache")
    names = {p.name for p in (tmp_path / "cache").iterdir()}
    assert {BASE_FILE, COMPLETE_FILE, "section-toil.pickle", "report_dict.pickle"} <= names
    assert "inputs.pickle" not in names  # the raw history is never saved (NOT_SAVED)
    b = load(tmp_path / "cache")
    assert b.report_dict == a.report_dict
    assert b.toil.to_dict() == a.toil.to_dict()
    assert "inputs" not in b._memo  # read value by value: the toil page never touches the telemetry
    assert b.seed == 11 and b.config.service == "shop"


def test_unusable_input_in_a_section_is_the_answer_not_a_failed_section() -> None:
    """An InputError (or ConfigError, LimitError) inside a section is the run's answer: it
    propagates (the command exits 2) instead of being recorded as that section's failure."""
    from srekit.core.errors import InputError

    missing = pd.DataFrame({"date": pd.to_datetime(["2024-03-01"], utc=True), "task": pd.Series(["x"], dtype="str")})
    a = analysis(inputs=Inputs(telemetry=telemetry(), toil=missing))
    with pytest.raises(InputError, match="minutes"):
        a.result("toil")
    assert a.failures == ()


def test_failed_section_survives_save_and_load(tmp_path: Path) -> None:
    # a frame the loader would never pass on: the toil section fails with a plain error (a bug's stand-in)
    broken = pd.DataFrame(
        {"date": pd.to_datetime(["2024-03-01"], utc=True), "task": ["x"], "minutes": [5.0], "engineer": [["a", "b"]]}
    )
    analysis(inputs=Inputs(telemetry=telemetry(), toil=broken)).save(tmp_path / "c")
    b = load(tmp_path / "c")
    assert b.result("toil") is None
    with pytest.raises(Exception, match="unhashable"):
        _ = b.toil


def test_reader_waits_for_values_still_being_computed(tmp_path: Path) -> None:
    """The runner starts notebooks while it computes: a reader waits for each value it needs."""
    folder = tmp_path / "c"
    mark_pending(folder)  # this (live) process is the writer
    writer = analysis()

    def compute_later() -> None:
        time.sleep(0.3)
        writer.save(folder)

    thread = threading.Thread(target=compute_later)
    thread.start()
    try:
        t0 = time.perf_counter()
        b = load(folder)
        assert b.toil.to_dict() == writer.toil.to_dict()
        assert time.perf_counter() - t0 >= 0.25
    finally:
        thread.join()


def test_reader_stops_waiting_when_the_writer_failed_or_died(tmp_path: Path) -> None:
    failed = tmp_path / "failed"
    mark_pending(failed)
    mark_failed(failed, "InputError: telemetry.csv is empty")
    with pytest.raises(AnalysisCacheError, match="telemetry.csv is empty"):
        load(failed)

    gone = tmp_path / "gone"
    gone.mkdir()
    proc = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True, check=True
    )
    (gone / PENDING_FILE).write_text(proc.stdout.strip())  # a process that has exited
    t0 = time.perf_counter()
    with pytest.raises(AnalysisCacheError, match="gone"):
        load(gone)
    assert time.perf_counter() - t0 < 5

    with pytest.raises(AnalysisCacheError, match="no saved analysis"):
        load(tmp_path / "never")


def test_other_version_is_refused(tmp_path: Path) -> None:
    folder = tmp_path / "c"
    analysis().save(folder)
    base = folder / BASE_FILE
    data = base.read_bytes()
    header_len = len(pickle.dumps(pickle.loads(data)))
    base.write_bytes(pickle.dumps((999, "0.0.0")) + data[header_len:])
    with pytest.raises(AnalysisCacheError, match="another srekit version"):
        load(folder)


def test_lazy_load_reads_only_what_is_used(tmp_path: Path) -> None:
    """Values are unpickled on first use; a file never touched may even be unreadable."""
    folder = tmp_path / "c"
    a = analysis()
    a.save(folder)
    (folder / "inputs.pickle").write_bytes(b"not a pickle")  # as if it had been saved
    b = load(folder)
    assert b.report_dict["meta"]["service"] == "shop"
    assert b.toil.to_dict() == a.toil.to_dict()
    with pytest.raises(AnalysisCacheError, match="cannot read.*UnpicklingError"):
        _ = b.inputs


@pytest.mark.slow
def test_samples_analysis_matches_report_and_loads_fast(tmp_path: Path) -> None:
    from srekit.inputs.config import load_config
    from srekit.inputs.loaders import load_inputs

    cfg = load_config(SAMPLES / "service.yaml")
    a = Analysis(cfg, seed=7, generated_at=GEN)
    a.save(tmp_path / "c")
    expected = build_report(cfg, load_inputs(cfg), seed=7, generated_at=GEN).to_dict()
    b = load(tmp_path / "c")
    assert json.dumps(b.report_dict, sort_keys=True) == json.dumps(expected, sort_keys=True)
    sizes = {p.name: p.stat().st_size for p in (tmp_path / "c").iterdir()}
    assert "inputs.pickle" not in sizes and sizes["report_dict.pickle"] < 1_000_000  # the raw history is not saved
    assert b.golden_signals("6h").equals(
        a.golden_signals("6h")
    )  # not saved: the reader loads the files and computes it
    assert os.path.getsize(tmp_path / "c" / "signals-1h.pickle") < 5_000_000
