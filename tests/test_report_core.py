"""report.py: inputs summary, traffic mix, golden signals, critical journeys, report shape."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from srekit.analysis.overview import choose_critical, golden_signals, summarize_inputs, traffic_mix
from srekit.inputs import telemetry as tm
from srekit.inputs.config import parse_config
from srekit.inputs.ledger import LedgerEntry
from srekit.inputs.loaders import Inputs
from srekit.report.cache import build_report
from srekit.report.contract import SECTION_KEYS
from srekit.report.nbshow import NO_DATA_LABEL, NO_DATA_SEP, figure_html

T0 = pd.Timestamp("2024-03-01", tz="UTC")
GEN = pd.Timestamp("2024-04-01T06:00:00", tz="UTC")


def frame(rows: list[tuple[str, int, int, int, list[int]]], edges=(100.0, 250.0, 1000.0)) -> pd.DataFrame:
    """rows: (journey, minute offset, total, errors, cumulative bucket counts)."""
    data = {
        "journey": [r[0] for r in rows],
        "interval_start": [T0 + pd.Timedelta(minutes=r[1]) for r in rows],
        "total": [r[2] for r in rows],
        "errors": [r[3] for r in rows],
    }
    for i, e in enumerate(edges):
        data[tm.edge_label(e)] = [r[4][i] for r in rows]
    return tm.canonical(pd.DataFrame(data))


def cfg(**extra) -> object:
    raw = {"service": "shop", "data": {"telemetry": "t.parquet"}, **extra}
    return parse_config(raw)


def test_traffic_mix_hand_checked() -> None:
    df = frame(
        [
            ("checkout", 0, 10, 6, [5, 8, 10]),
            ("checkout", 1, 102, 1, [90, 100, 102]),
            ("search", 0, 300, 0, [300, 300, 300]),
            ("login", 0, 88, 8, [80, 88, 88]),
        ]
    )
    mix = traffic_mix(df)
    assert list(mix["journey"]) == ["search", "checkout", "login"]
    assert list(mix["requests"]) == [300, 112, 88]
    assert mix["traffic_share"].tolist() == pytest.approx([0.6, 0.224, 0.176])
    # request-weighted: (6 + 1) / (10 + 102), not the mean of 0.6 and 0.0098
    assert mix.set_index("journey").loc["checkout", "error_ratio"] == pytest.approx(0.0625)


def test_golden_signals_sums_buckets_before_percentiles() -> None:
    df = frame(
        [
            ("a", 0, 100, 10, [50, 100, 100]),
            ("a", 1, 100, 0, [0, 0, 100]),
            ("a", 61, 10, 1, [10, 10, 10]),
        ]
    )
    g = golden_signals(df, freq="1h")
    first = g.iloc[0]
    assert first["requests"] == 200 and first["errors"] == 10
    assert first["error_ratio"] == pytest.approx(0.05)
    # summed buckets le_100=50, le_250=100, le_1000=200; p50 = rank 100 -> exactly at 250 ms
    assert first["p50_ms"] == pytest.approx(250.0)
    # p90 = rank 180 -> 250 + 750 * (180 - 100) / 100 = 850
    assert first["p90_ms"] == pytest.approx(850.0)
    assert g.iloc[1]["p50_ms"] == pytest.approx(50.0)  # 5 of 10 in [0,100] -> 50 ms
    assert list(g.columns) == [
        "journey",
        "period_start",
        "requests",
        "errors",
        "error_ratio",
        "p50_ms",
        "p90_ms",
        "p99_ms",
    ]


def test_golden_signals_same_for_sorted_and_shuffled_rows() -> None:
    rng = np.random.default_rng(4)
    rows = [
        (j, m, int(t), int(t) // 10, sorted(rng.integers(0, int(t) + 1, 3).tolist()))
        for j in ("b", "a")
        for m in range(0, 300, 7)
        for t in [rng.integers(1, 50)]
    ]
    shuffled = frame(rows)
    ordered = shuffled.sort_values(["journey", "interval_start"]).reset_index(drop=True)
    for freq in ("1h", "15min"):
        got = golden_signals(ordered, freq=freq)  # contiguous runs: summed without a groupby
        pd.testing.assert_frame_equal(got, golden_signals(shuffled, freq=freq), check_exact=True)
        assert got["requests"].sum() == shuffled["total"].sum() and got["journey"].tolist()[0] == "a"


def test_critical_journeys_top3_recorded_as_assumption() -> None:
    mix = pd.DataFrame(
        {
            "journey": ["a", "b", "c", "d"],
            "requests": [40, 30, 20, 10],
            "errors": [0] * 4,
            "traffic_share": [0.4, 0.3, 0.2, 0.1],
            "error_ratio": [0.0] * 4,
        }
    )
    names, source, qs = choose_critical(cfg(), mix)
    assert names == ("a", "b", "c") and source == "top_by_traffic"
    assert [q.topic for q in qs] == ["critical_journeys"]
    assert "a 40%" in qs[0].assumption


def test_critical_journeys_configured_and_unknown_named() -> None:
    mix = pd.DataFrame(
        {
            "journey": ["a", "b"],
            "requests": [40, 30],
            "errors": [0, 0],
            "traffic_share": [0.57, 0.43],
            "error_ratio": [0.0, 0.0],
        }
    )
    c = cfg(journeys=[{"name": "b"}, {"name": "ghost"}, {"name": "a", "critical": False}])
    names, source, qs = choose_critical(c, mix)
    assert names == ("b", "ghost") and source == "configured"
    assert [q.topic for q in qs] == ["journeys_without_telemetry"]
    assert "ghost" in qs[0].question


def test_summarize_inputs_ranges_missing_and_ledger() -> None:
    df = frame([("a", 0, 10, 1, [5, 9, 10]), ("a", 5, 20, 0, [20, 20, 20])])
    entry = LedgerEntry(
        kind="telemetry", source="t.parquet", rows_read=3, rows_accepted=2, rejected={"negative total": 1}
    )
    s = summarize_inputs(cfg(), Inputs(telemetry=df, ledger=(entry,)))
    d = s.to_dict()
    assert d["missing"] == ["series", "incidents", "toil", "alerts", "deploys"]
    assert d["ranges"]["telemetry"] == {
        "kind": "telemetry",
        "rows": 2,
        "start": "2024-03-01T00:00:00+00:00",
        "end": "2024-03-01T00:05:00+00:00",
        "days": pytest.approx(5 / 1440),
        "kept": 2,
        "clipped_before": 0,
        "clipped_after": 0,
    }
    assert d["requests"] == 30 and d["errors"] == 1
    assert d["telemetry_interval_s"] == 300.0
    assert d["rows_rejected"] == 1 and d["ledger"][0]["rejected"] == {"negative total": 1}
    assert d["critical_journeys"] == ["a"] and d["critical_source"] == "top_by_traffic"


def test_report_without_any_telemetry_is_not_blank() -> None:
    rep = build_report(cfg(), Inputs(), generated_at=GEN)
    d = rep.to_dict()
    assert "no request telemetry" in d["summary"]["text"]
    topics = {q["topic"] for q in d["open_questions"]}
    assert {"critical_journeys", "no_telemetry"} <= topics


def test_report_json_keys_and_round_trip() -> None:
    df = frame([("a", 0, 1000, 1, [900, 990, 1000]), ("b", 0, 500, 5, [400, 480, 500])])
    rep = build_report(cfg(), Inputs(telemetry=df), generated_at=GEN, seed=11, parameters={"x": 1})
    d = rep.to_dict()
    assert tuple(d) == SECTION_KEYS
    again = json.loads(json.dumps(d, allow_nan=False))
    assert again == d
    assert d["meta"]["generated_at"] == "2024-04-01T06:00:00+00:00"
    assert d["meta"]["seed"] == 11 and d["meta"]["parameters"] == {"x": 1}
    assert d["summary"]["figures"]["requests"] == 1500
    assert d["summary"]["figures"]["success_ratio"] == pytest.approx(1 - 6 / 1500)
    assert 2 <= len(d["summary"]["sentences"]) <= 4
    assert d["summary"]["sentences"][0].startswith("This report covers 2024-03-01 00:00 to 2024-03-01 00:01 UTC")
    assert "in a single interval of unknown length (assumed 1 minute)" in d["summary"]["sentences"][1]


def test_generated_at_must_be_given_and_is_utc() -> None:
    naive = pd.Timestamp("2024-04-01T06:00:00")
    rep = build_report(cfg(), Inputs(), generated_at=naive)
    assert rep.meta.generated_at.tz is not None
    with pytest.raises(TypeError):
        build_report(cfg(), Inputs())  # type: ignore[call-arg]


@settings(max_examples=25, deadline=None)
@given(
    st.lists(
        st.tuples(st.sampled_from(["x", "y", "z", "w"]), st.integers(0, 30), st.integers(0, 1000)),
        min_size=1,
        max_size=30,
    )
)
def test_traffic_shares_sum_to_one(rows) -> None:
    rng = np.random.default_rng(0)
    recs = []
    for j, m, total in rows:
        errs = int(rng.integers(0, total + 1))
        b1 = int(rng.integers(0, total + 1))
        recs.append((j, m, total, errs, [b1, total, total]))
    df = tm.merge([frame(recs)])
    mix = traffic_mix(df)
    if mix["requests"].sum() > 0:
        assert mix["traffic_share"].sum() == pytest.approx(1.0)
    assert ((mix["error_ratio"] >= 0) & (mix["error_ratio"] <= 1)).all()
    assert mix["requests"].is_monotonic_decreasing


def test_every_section_renders_from_missing_inputs() -> None:
    """No input at all, then telemetry only: every area renders its fallback, none raises."""
    for inputs in (Inputs(), Inputs(telemetry=frame([("a", m, 100, m % 3, [80, 95, 100]) for m in range(120)]))):
        rep = build_report(cfg(), inputs, generated_at=GEN)
        d = rep.to_dict()
        assert d["meta"]["sections_failed"] == []
        for key in SECTION_KEYS[1:7]:
            assert d[key] and d[key].get("status") != "failed", key


def test_seed_makes_reports_reproducible() -> None:
    df = frame([("a", m, 100, m % 3, [80, 95, 100]) for m in range(120)])
    one = build_report(cfg(), Inputs(telemetry=df), generated_at=GEN, seed=5).to_dict()
    two = build_report(cfg(), Inputs(telemetry=df), generated_at=GEN, seed=5).to_dict()
    assert json.dumps(one, sort_keys=True) == json.dumps(two, sort_keys=True)


def test_plots_have_plain_titles_and_survive_empty_data() -> None:
    import matplotlib.pyplot as plt

    from srekit.report.plots import incidents as incident_plots
    from srekit.report.plots import slo as slo_plots
    from srekit.report.plots import telemetry as pt
    from srekit.report.plots import toil as toil_plots

    df = frame([("a", m, 100, m % 3, [80, 95, 100]) for m in range(180)])
    signals = golden_signals(df, freq="1h")
    for ax in (
        pt.plot_traffic(signals),
        pt.plot_error_ratio(signals),
        pt.plot_latency(signals, "p99_ms"),
        pt.plot_traffic_mix(traffic_mix(df)),
    ):
        assert ax.get_title() and ax.get_xlabel() and ax.get_ylabel()
        plt.close(ax.figure)
    assert pt.plot_latency(signals, "p50_ms").get_yscale() == "log"
    risk = incident_plots.plot_forecast_risk(pd.DataFrame({"slo": ["a-availability"], "p_exhaust": [0.26]}))
    assert risk.get_title() and [t.get_text() for t in risk.texts] == ["26%"]
    plt.close(risk.figure)
    empty = golden_signals(None)
    assert empty.empty and list(empty.columns)[:3] == ["journey", "period_start", "requests"]
    for ax in (
        pt.plot_traffic(empty),
        pt.plot_traffic_mix(traffic_mix(None)),
        slo_plots.plot_budget_consumed(pd.DataFrame(columns=["slo", "consumed", "status"])),
        toil_plots.plot_toil_hours(pd.DataFrame(columns=["task", "hours_per_week"])),
        incident_plots.plot_forecast_risk(pd.DataFrame(columns=["slo", "p_exhaust"])),
    ):
        # an empty chart says why, and the page shows that sentence instead of the picture
        assert ax.texts and ax.texts[0].get_text().endswith(".")
        assert ax.figure.get_label().startswith(NO_DATA_LABEL + ax.get_title() + NO_DATA_SEP)
        assert figure_html(ax.figure, "alt").startswith('<p class="srekit-empty">')
        plt.close(ax.figure)
