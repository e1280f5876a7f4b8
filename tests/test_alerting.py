"""Policy design, replay and backtest: hand-checkable synthetic histories, the samples' ground
truth and NAB's labelled failure windows."""

from __future__ import annotations

import json
import subprocess

import numpy as np
import pandas as pd
import pytest
from conftest import SAMPLES, external, require_tool
from hypothesis import given, settings
from hypothesis import strategies as st

from srekit.analysis.alerting.analyze import analyze_alerting
from srekit.analysis.alerting.pages import classify_alert, summarize_pages
from srekit.analysis.alerting.policy import BurnRateRule, design_policy
from srekit.analysis.alerting.replay import burn_episodes, firing_intervals, replay
from srekit.core.errors import ConfigError
from srekit.core.spec import SLOSpec
from srekit.core.timeutil import format_duration
from srekit.exports.bundle import export_all
from srekit.inputs.config import parse_config

PAGED = {"service": "shop", "data": {"telemetry": "t.parquet"}, "oncall": {"coverage": "24x7"}}
D30 = pd.Timedelta(days=30)


def cfg(**extra):
    return parse_config({**PAGED, **extra})


def spec(window=D30, target=0.999, journey="checkout", sli="availability", **kw):
    return SLOSpec(f"{journey}-{sli}", journey, sli, target, window=window, **kw)


def telemetry(
    minutes: int,
    errors: dict[tuple[int, int], int],
    per_min: int = 100,
    journey: str = "checkout",
    start: str = "2024-01-01",
) -> pd.DataFrame:
    """Aggregated telemetry with ``per_min`` requests a minute; ``errors[(a, b)] = n`` puts n
    errors in each minute a..b-1. Latency: everything within 100 ms except errors (slow)."""
    idx = pd.date_range(start, periods=minutes, freq="min", tz="UTC")
    err = np.zeros(minutes, dtype=np.int64)
    for (a, b), n in errors.items():
        err[a:b] = n
    tot = np.full(minutes, per_min, dtype=np.int64)
    return pd.DataFrame(
        {"journey": journey, "interval_start": idx, "total": tot, "errors": err, "le_100": tot - err, "le_1000": tot}
    )


# ------------------------------------------------------------------------------------ policy


def test_policy_30d_matches_workbook_and_sloth():
    p = design_policy(spec(), cfg())
    got = [(r.severity, r.long_window, r.short_window, round(r.burn_rate, 6), r.budget_share) for r in p.rules]
    h = pd.Timedelta
    assert got == [
        ("page", h(hours=1), h(minutes=5), 14.4, 0.02),
        ("page", h(hours=6), h(minutes=30), 6.0, 0.05),
        ("ticket", h(days=1), h(hours=2), 3.0, 0.10),
        ("ticket", h(days=3), h(hours=6), 1.0, 0.10),
    ]
    assert p.rules[0].threshold == pytest.approx(14.4 * 0.001)
    assert not p.open_questions


def test_policy_28d_factors():
    p = design_policy(spec(window=pd.Timedelta(days=28)), cfg())
    assert [r.burn_rate for r in p.rules] == pytest.approx([13.44, 5.6, 2.8, 0.9333333], rel=1e-6)


def test_no_oncall_coverage_makes_every_rule_a_ticket_and_asks():
    c = parse_config({"service": "shop", "data": {"telemetry": "t.parquet"}})
    p = design_policy(spec(), c)
    assert {r.severity for r in p.rules} == {"ticket"}
    assert [q.topic for q in p.open_questions] == ["oncall_coverage"]
    assert p.open_questions[0].section == "alerting"


def test_configurable_windows_and_shares():
    c = cfg(
        alerting={"page_long_windows": ["2h"], "ticket_long_windows": ["1d"], "budget_shares": {"2h": 0.04, "1d": 0.2}}
    )
    p = design_policy(spec(), c)
    assert [(r.severity, r.burn_rate) for r in p.rules] == [
        ("page", pytest.approx(14.4)),
        ("ticket", pytest.approx(6.0)),
    ]
    assert p.rules[0].short_window == pd.Timedelta(minutes=10)


def test_missing_budget_share_is_a_config_error():
    c = cfg(alerting={"page_long_windows": ["2h"], "budget_shares": {"1h": 0.02}})
    with pytest.raises(ConfigError, match="budget_shares"):
        design_policy(spec(), c)


def test_short_period_with_default_shares_warns():
    p = design_policy(spec(window=pd.Timedelta(days=7)), cfg())
    assert [round(r.burn_rate, 4) for r in p.rules] == [3.36, 1.4, 0.7, 0.2333]
    assert any("3d (0.233x)" in w for w in p.warnings)
    assert "alert_budget_shares" in [q.topic for q in p.open_questions]
    assert not design_policy(spec(window=pd.Timedelta(days=28)), cfg()).warnings  # 0.933x is Sloth's too


def test_low_traffic_warning():
    # 10 requests an hour at 99.9 % / 30 d: a single failure spends 1/7.2 = 13.9 % of the
    # budget (the Workbook's own example), far above the fastest page's 2 %.
    p = design_policy(spec(), cfg(), events_per_hour=10)
    assert p.warnings and "13.9%" in p.warnings[0]
    assert "synthetic" in p.warnings[0]
    assert [q.topic for q in p.open_questions] == ["low_traffic"]
    busy = design_policy(spec(), cfg(), events_per_hour=100_000)
    assert not busy.warnings


# ------------------------------------------------------------------------------------ replay


def test_window_ratios_are_request_weighted():
    """6/10 bad then 1/102 bad: the 2-minute window ratio is 7/112 = 0.0625 (the kubernetes-
    mixin example); a mean of the two ratios would be 0.3049 and fire the 0.1 rule."""
    idx = pd.date_range("2024-01-01", periods=3, freq="min", tz="UTC")
    ev = pd.DataFrame({"total": [0, 10, 102], "bad": [0, 6, 1]}, index=idx)  # minute 0: no traffic
    two = pd.Timedelta(minutes=2)

    def rule(thr, short=two):
        return BurnRateRule(
            slo=f"s{thr}-{short}",
            journey="j",
            severity="page",
            speed="fast",
            long_window=two,
            short_window=short,
            burn_rate=thr / 0.001,
            budget_share=0.5,
            threshold=thr,
        )

    out = replay(ev, [rule(0.0626), rule(0.0624), rule(0.1)])
    assert out.iloc[2].tolist() == [False, True, False]  # 7/112 = 0.0625: request-weighted
    assert out.iloc[1].tolist() == [True, True, True]  # 6/10 over minutes 0–1
    assert not out.iloc[0].any()  # warm-up: the first long window is not full yet
    # both windows must agree: the last minute alone is 1/102 ≈ 0.0098, under 0.0624
    short = rule(0.0624, short=pd.Timedelta(minutes=1))
    assert replay(ev, [short])[short.name].tolist() == [False, True, False]


def test_firing_intervals_start_end_open():
    idx = pd.date_range("2024-01-01", periods=6, freq="min", tz="UTC")
    runs = firing_intervals(pd.Series([False, True, True, False, True, True], index=idx))
    assert runs["start"].tolist() == [idx[1], idx[4]]
    assert runs["end"].tolist() == [idx[3], idx[5]]
    assert runs["open"].tolist() == [False, True]


@settings(max_examples=30, deadline=None)
@given(data=st.data(), n=st.integers(min_value=1, max_value=80))
def test_replay_matches_a_minute_by_minute_reference(data, n):
    """The vectorised replay equals a plain loop over minutes (request-weighted sums)."""
    total = data.draw(st.lists(st.integers(0, 50), min_size=n, max_size=n))
    bad = [data.draw(st.integers(0, t)) for t in total]
    idx = pd.date_range("2024-01-01", periods=n, freq="min", tz="UTC")
    ev = pd.DataFrame({"total": total, "bad": bad}, index=idx)
    long_m = data.draw(st.integers(1, 30))
    short_m = data.draw(st.integers(1, long_m))
    thr = data.draw(st.sampled_from([0.01, 0.05, 0.2, 0.5]))
    rule = BurnRateRule(
        slo="s",
        journey="j",
        severity="page",
        speed="fast",
        long_window=pd.Timedelta(minutes=long_m),
        short_window=pd.Timedelta(minutes=short_m),
        burn_rate=thr / 0.001,
        budget_share=0.5,
        threshold=thr,
    )
    got = replay(ev, [rule])[rule.name].tolist()

    def window_ratio(t, w):
        b, tot = sum(bad[max(0, t - w + 1) : t + 1]), sum(total[max(0, t - w + 1) : t + 1])
        return b / tot if tot else 0.0

    expected = [t >= long_m - 1 and window_ratio(t, long_m) > thr and window_ratio(t, short_m) > thr for t in range(n)]
    assert got == expected


@settings(max_examples=25, deadline=None)
@given(st.lists(st.booleans(), min_size=1, max_size=60))
def test_firing_intervals_cover_exactly_the_true_rows(flags):
    idx = pd.date_range("2024-01-01", periods=len(flags), freq="min", tz="UTC")
    runs = firing_intervals(pd.Series(flags, index=idx))
    covered = np.zeros(len(flags), dtype=bool)
    for r in runs.itertuples():
        lo, hi = idx.get_loc(r.start), idx.get_loc(r.end)
        covered[lo : hi + (1 if r.open else 0)] = True
    assert covered.tolist() == flags


# ------------------------------------------------------------------------------------ backtest


def _incidents(rows):
    df = pd.DataFrame(rows, columns=["id", "started_at", "mitigated_at", "resolved_at", "detected_at", "journey"])
    for c in ("started_at", "mitigated_at", "resolved_at", "detected_at"):
        df[c] = pd.to_datetime(df[c], utc=True)
    return df


def test_backtest_outage_slow_burn_and_quiet_weeks():
    """Four weeks, 100 req/min. Day 3: 30-minute full outage (incident). Days 10–12: 1 %
    errors = 10x burn (open incident). Everything else clean."""
    day = 1440
    tel = telemetry(28 * day, {(3 * day, 3 * day + 30): 100, (10 * day, 12 * day): 1})
    t0 = tel["interval_start"].iloc[0]
    at = lambda m: t0 + pd.Timedelta(minutes=m)  # noqa: E731
    inc = _incidents(
        [
            ("I1", at(3 * day), at(3 * day + 30), at(3 * day + 90), at(3 * day + 20), "checkout"),
            ("I2", at(10 * day), None, None, at(11 * day), None),  # open: censored at the end of data
        ]
    )
    rep = analyze_alerting(tel, None, [spec()], inc, None, cfg())
    det = {d.incident_id: d for d in rep.detections}
    # full outage: the 14.4x/1h page fires in the first minute (51.84 s, rounded up to the minute)
    assert det["I1"].detected_by == "checkout-availability/page/1h"
    assert det["I1"].delay == pd.Timedelta(minutes=1)
    assert det["I1"].page_delay == pd.Timedelta(minutes=1)
    # it resets one short window (5 min) after the errors stop at mitigation
    assert det["I1"].reset == pd.Timedelta(minutes=5)
    # 100 bad of a 30-day budget of 0.001 × 100 × 43200 = 4320 events → 2.3 %
    assert det["I1"].budget_before_detection == pytest.approx(100 / 4320)
    assert det["I1"].recorded_delay == pd.Timedelta(minutes=20)
    # 1 % errors (10x): 14.4x never fires; 6x over 6h fires after 6h × 0.006 / 0.01 = 3.6 h
    assert det["I2"].censored and det["I2"].reset is None
    assert det["I2"].detected_by == "checkout-availability/page/6h"
    assert det["I2"].delay == pd.Timedelta(hours=3.6) + pd.Timedelta(minutes=1)
    scores = {s.rule: s for s in rep.scores}
    assert scores["checkout-availability/page/1h"].firings == 1
    assert scores["checkout-availability/page/1h"].recall == 0.5
    assert all(s.precision == 1.0 for s in rep.scores)  # nothing fires outside the two events
    assert rep.overall is not None and rep.overall.recall == 1.0 and rep.overall.episode_recall == 1.0
    # quiet weeks are quiet: no firing in the last two weeks (after the burn's 3-day window)
    assert (rep.firings["start"] < t0 + pd.Timedelta(days=16)).all()
    # the single-window baseline (approach 1) fires too, and keeps firing on every bad minute
    assert rep.baseline is not None and rep.baseline.recall == 1.0
    d = rep.to_dict()
    assert d["incidents"][0]["delay_s"] == 60.0
    assert d["backtest"]["rules"][0]["pages_per_week"] == pytest.approx(0.25)
    assert {r["severity"] for r in d["policy"]} == {"page", "ticket"}
    json.dumps(d)  # JSON-ready


def test_display_tables_read_the_report_json_section():
    """Notebook 03's tables and the pages chart come from report.json's ``alerting`` section
    (:mod:`srekit.report.tables.alerting`), with the figures the analysis computed."""
    from srekit.report import tables

    day = 1440
    tel = telemetry(14 * day, {(3 * day, 3 * day + 30): 100})
    t0 = tel["interval_start"].iloc[0]
    at = lambda m: t0 + pd.Timedelta(minutes=m)  # noqa: E731
    inc = _incidents([("I1", at(3 * day), at(3 * day + 30), at(3 * day + 90), at(3 * day + 20), "checkout")])
    pages = pd.DataFrame(
        {"timestamp": [at(day), at(2 * day)], "alert": ["CPUHigh", "CPUHigh"], "severity": ["page", "page"]}
    )
    rep = analyze_alerting(tel, None, [spec()], inc, pages, cfg())
    view = {"alerting": json.loads(json.dumps(rep.to_dict()))}
    policy = tables.alert_policy_table(view, detail=True)
    assert len(policy) == 4 and policy["budget spent when it fires"].tolist() == ["2.0%", "5.0%", "10.0%", "10.0%"]
    assert policy["fires above this error ratio"].iloc[0] == "1.44%"  # 14.4 × 0.1 %
    assert list(tables.alert_policy_table(view).columns) == list(policy.columns[:5])
    backtest = tables.backtest_table(view, detail=True)
    assert backtest["rule"].tolist()[:2] == ["all rules", "all page rules"]
    assert backtest["rule"].iloc[-1] == "single window at the SLO (10m)"  # detail adds the baseline
    assert len(tables.backtest_table(view)) == len(backtest) - 1
    (row,) = tables.alert_detection_table(view).to_dict("records")
    assert row["first rule to fire"] == "checkout-availability/page/1h" and row["time to fire"] == "60 s"
    assert row["team noticed after (incident log)"] == "20 min"
    assert tables.existing_pages_table(view).to_dict("records") == [
        {"alert": "CPUHigh", "fires on": "cause", "pages": 2, "needed no action": "–"}
    ]
    chart = tables.pages_per_week(view)
    per_week = dict(zip(chart["source"], chart["per_week"], strict=True))
    assert rep.overall is not None and rep.baseline is not None and rep.existing_pages is not None
    assert per_week["pages today"] == rep.existing_pages.pages / rep.existing_pages.weeks
    assert per_week["burn-rate policy (all alerts)"] == rep.overall.firings / rep.overall.weeks
    assert per_week["error ratio above the SLO for 10 min"] == rep.baseline.firings / rep.baseline.weeks


def test_baseline_pages_on_blips_the_policy_ignores():
    """Ten scattered one-minute blips at 5 % errors: approach 1 (10 min at the SLO) pages on
    every one; the multiwindow policy stays quiet (a 5 % minute is 0.08 % of an hour)."""
    blips = {(600 + 500 * i, 601 + 500 * i): 5 for i in range(10)}
    rep = analyze_alerting(telemetry(7 * 1440, blips), None, [spec()], None, None, cfg())
    assert rep.baseline is not None and rep.baseline.firings == 10
    assert rep.overall is not None and rep.overall.firings == 0
    assert [q.topic for q in rep.open_questions] == ["alerting_no_incidents"]


def test_burn_episodes_from_telemetry():
    tel = telemetry(3 * 1440, {(1440, 1460): 100, (2000, 2001): 1})
    from srekit.analysis.alerting.events import sli_events

    ev = sli_events(tel, None, spec())
    eps = burn_episodes(ev, spec())
    assert len(eps) == 1  # the single bad request is no episode
    assert eps.loc[0, "bad"] == 2000
    assert eps.loc[0, "budget_share"] == pytest.approx(2000 / 4320)


def test_no_telemetry_designs_but_does_not_replay():
    rep = analyze_alerting(None, None, [spec()], None, None, cfg())
    assert rep.scores == () and rep.overall is None
    assert "alerting_no_telemetry" in [q.topic for q in rep.open_questions]
    d = rep.to_dict()
    assert len(d["policy"]) == 4 and d["backtest"]["rules"] == []
    assert [r["alert"] for r in d["runbooks"]] == [
        "CheckoutAvailabilityBudgetBurnFast",
        "CheckoutAvailabilityBudgetBurnSlow",
    ]


def test_no_slos_is_an_open_question_not_a_crash():
    rep = analyze_alerting(None, None, [], None, None, cfg())
    assert rep.to_dict()["policy"] == []
    assert [q.topic for q in rep.open_questions] == ["alerting_no_slos"]


def test_existing_pages_summary():
    ts = pd.to_datetime(["2024-01-01", "2024-01-02", "2024-01-03", "2024-01-08", "2024-01-14"], utc=True)
    pages = pd.DataFrame(
        {
            "timestamp": ts,
            "alert": ["CPUHigh", "CPUHigh", "CheckoutHighErrorRate", "DiskFull", "Backup"],
            "severity": ["page", "page", "page", "page", "ticket"],
            "actionable": pd.array([False, False, True, pd.NA, True], dtype="boolean"),
            "incident_id": [None, None, "I1", None, None],
        }
    )
    s = summarize_pages(pages, weeks=2.0).to_dict()
    assert s["pages"] == 4 and s["tickets"] == 1 and s["pages_per_week"] == 2.0
    assert s["share_non_actionable"] == pytest.approx(2 / 3)  # among pages with a known flag
    assert s["share_linked_to_incident"] == 0.25
    assert s["cause_based_alerts"] == ["CPUHigh", "DiskFull"]
    assert s["share_cause_based"] == 0.75
    assert classify_alert("CheckoutLatencyHigh") == "symptom" and classify_alert("MemoryPressure") == "cause"


# ------------------------------------------------------------------------------------ proof


@pytest.fixture(scope="module")
def samples_report():
    from srekit.analysis.slo.propose import propose_slos
    from srekit.inputs.config import load_config
    from srekit.inputs.loaders import load_inputs

    config = load_config(SAMPLES / "service.yaml")
    inputs = load_inputs(config)
    specs = propose_slos(inputs.telemetry, inputs.series, config).specs
    rep = analyze_alerting(inputs.telemetry, inputs.series, specs, inputs.incidents, inputs.alerts, config)
    truth = json.loads((SAMPLES / "ground_truth.json").read_text())
    return rep, truth, specs, config


def _firings_during(rep, journey, start, end, severity=None):
    f = rep.firings[rep.firings["slo"].str.startswith(journey + "-")]
    if severity:
        f = f[f["severity"] == severity]
    return f[(f["start"] <= end) & (f["end"] >= start)]


def test_samples_hard_outages_paged_within_minutes(samples_report):
    rep, truth, _, _ = samples_report
    outages = [e for e in truth["events"] if e["kind"] == "hard_outage"]
    assert len(outages) >= 3
    for e in outages:
        start = pd.Timestamp(e["start"])
        f = _firings_during(rep, e["journey"], start, pd.Timestamp(e["end"]), "page")
        assert len(f), f"{e['id']} not paged"
        assert f["start"].min() - start <= pd.Timedelta(minutes=3), e["id"]


def test_samples_slow_burns_ticketed_not_paged(samples_report):
    rep, truth, _, _ = samples_report
    burns = [e for e in truth["events"] if e["kind"] == "slow_burn"]
    assert burns
    for e in burns:
        lo, hi = pd.Timestamp(e["start"]), pd.Timestamp(e["end"])
        assert len(_firings_during(rep, e["journey"], lo, hi, "ticket")), f"{e['id']} not ticketed"
        avail = _firings_during(rep, e["journey"], lo, hi, "page")
        assert avail[avail["slo"].str.endswith("availability")].empty, f"{e['id']} paged for a slow burn"


def test_samples_quiet_weeks_are_quiet(samples_report):
    rep, truth, _, _ = samples_report
    events = [(pd.Timestamp(e["start"]), pd.Timestamp(e["end"])) for e in truth["events"]]
    weeks = pd.date_range(rep.start.ceil("D"), rep.end, freq="7D")
    quiet = [w for w in weeks if all(e < w or s > w + pd.Timedelta(days=7) for s, e in events)]
    assert quiet, "the samples should have at least one week without injected events"
    for w in quiet:
        f = rep.firings[(rep.firings["start"] >= w) & (rep.firings["start"] < w + pd.Timedelta(days=7))]
        assert f.empty, f"alerts in quiet week {w.date()}: {f['rule'].tolist()}"


def test_samples_policy_pages_far_less_than_existing_pages(samples_report):
    rep, _, _, _ = samples_report
    d = rep.to_dict()
    ex = d["existing_pages"]
    assert ex["policy_pages_per_week"] < ex["pages_per_week"] / 5
    assert ex["share_cause_based"] > 0.5 and "CPUHigh" in ex["cause_based_alerts"]
    assert d["backtest"]["single_window_baseline"]["alerts_per_week"] > 10 * d["backtest"]["overall"]["alerts_per_week"]


@pytest.mark.external
def test_nab_latency_timeslice_slo_catches_known_failures():
    """NAB ec2 request latency (5-min means) with its three labelled failure windows; a
    timeslice SLO with the threshold the SLO proposals pick, replayed on the series."""
    from srekit.analysis.slo.propose import propose_slos
    from srekit.inputs.loaders import load_series

    path = external("nab", "data", "realKnownCause", "ec2_request_latency_system_failure.csv")
    labels = json.loads(external("nab", "labels", "combined_windows.json").read_text())
    windows = labels["realKnownCause/ec2_request_latency_system_failure.csv"]
    series = load_series(path).frame
    config = parse_config(
        {"service": "ec2", "data": {"series": str(path)}, "slo": {"window": "7d"}, "oncall": {"coverage": "24x7"}}
    )
    specs = propose_slos(None, series, config).specs
    assert [s.sli for s in specs] == ["timeslice"]
    inc = pd.DataFrame(
        {
            "id": [f"W{i + 1}" for i in range(len(windows))],
            "started_at": pd.to_datetime([a for a, _ in windows], utc=True),
            "resolved_at": pd.to_datetime([b for _, b in windows], utc=True),
            "journey": pd.Series([pd.NA] * len(windows), dtype="str"),
        }
    )
    rep = analyze_alerting(None, series, specs, inc, None, config)
    caught = {d.incident_id for d in rep.detections if d.detected_by}
    # 12 samples an hour: one slow sample spends more than the fast rule's share; the policy says
    # so in the words of a series (no "add synthetic traffic": probes do not change a gauge)
    assert any("one sample per 5 minutes: one bad sample spends" in w for w in rep.warnings)
    assert not any("synthetic" in w for w in rep.warnings)
    assert caught == {"W2", "W3"}  # the first window's latency rise is too mild for the rules
    assert rep.overall is not None and rep.overall.recall == pytest.approx(2 / 3)


def test_samples_rules_pass_promtool(samples_report, tmp_path):
    """The rules exported for the samples' SLOs (as `srekit rules` writes them) pass
    `promtool check rules` and their generated unit tests."""
    _, _, specs, config = samples_report
    export_all(specs, config, tmp_path)
    for args in (("check", "rules", "rules.yml"), ("test", "rules", "rules_test.yml")):
        res = subprocess.run(
            [require_tool("promtool"), *args], cwd=tmp_path / "prometheus", capture_output=True, text=True, timeout=120
        )
        assert res.returncode == 0, res.stdout + res.stderr
    assert len(list((tmp_path / "openslo").glob("*.yaml"))) == len(specs)
    assert (tmp_path / "runbooks" / "CheckoutAvailabilityBudgetBurnFast.md").exists()


def test_latency_and_timeslice_budgeting_slos_replay():
    """A latency SLO (bad = slower than 100 ms) and an OpenSLO Timeslices SLO (5-minute slices
    good when ≥ 99 % of their requests are good) both catch a 30-minute outage."""
    day = 1440
    tel = telemetry(7 * day, {(3 * day, 3 * day + 30): 100})
    lat = SLOSpec("checkout-latency", "checkout", "latency", 0.99, window=D30, threshold_ms=100)
    ts = SLOSpec(
        "checkout-slices",
        "checkout",
        "availability",
        0.99,
        window=D30,
        budgeting="Timeslices",
        timeslice_target=0.99,
        timeslice_window=pd.Timedelta(minutes=5),
    )
    rep = analyze_alerting(tel, None, [lat, ts], None, None, cfg())
    first = rep.firings.groupby("slo")["start"].min()
    onset = tel["interval_start"].iloc[3 * day]
    assert set(first.index) == {"checkout-latency", "checkout-slices"}
    assert first["checkout-latency"] - onset == pd.Timedelta(minutes=9)  # 14.4 × 1 % × 60 min ≈ 8.6 min
    assert first["checkout-slices"] - onset <= pd.Timedelta(minutes=15)  # 5-minute slices: coarser
    assert rep.firings["start"].min() >= onset


def test_alert_that_cleared_as_the_incident_started_did_not_detect_it():
    """Review: a firing run ends at its first false evaluation (the alert has cleared). A
    one-minute blip at 11:50 pages 11:51 → clears 11:56; an outage starting 11:56 is first
    caught at 11:57 (60 s: one full bad minute beats 14.4 × 0.1 % over 1 h and 5 min). The
    cleared run must not count as detecting it with a 0 s delay."""

    idx = pd.date_range("2024-01-01", periods=2 * 1440, freq="1min", tz="UTC")
    tot = np.full(len(idx), 1000)
    err = np.zeros(len(idx), dtype=np.int64)
    err[idx.get_loc(pd.Timestamp("2024-01-02 11:50", tz="UTC"))] = 1000
    t0 = pd.Timestamp("2024-01-02 11:56", tz="UTC")
    i0 = idx.get_loc(t0)
    err[i0 : i0 + 30] = 1000
    tel = pd.DataFrame({"journey": "a", "interval_start": idx, "total": tot, "errors": err, "le_100": tot})
    s = SLOSpec("a-avail", "a", "availability", 0.999, window=D30)
    inc = pd.DataFrame(
        {
            "id": ["I1"],
            "started_at": [t0],
            "mitigated_at": [t0 + pd.Timedelta(minutes=30)],
            "resolved_at": [t0 + pd.Timedelta(hours=2)],
            "journey": ["a"],
        }
    )
    rep = analyze_alerting(tel, None, [s], inc, None, cfg())
    runs = rep.firings[rep.firings["rule"] == "a-avail/page/1h"]
    assert list(runs["end"]) == [t0, pd.Timestamp("2024-01-02 12:31", tz="UTC")]  # blip run, outage run
    (d,) = rep.detections
    assert d.delay == pd.Timedelta(minutes=1) and d.page_delay == pd.Timedelta(minutes=1)
    assert d.budget_before_detection == pytest.approx(1000 / (0.001 * 1000 * 43200))  # one bad minute
    score = next(x for x in rep.scores if x.rule == "a-avail/page/1h")
    assert score.firings == 2 and score.median_detection == pd.Timedelta(minutes=1)


def test_rule_whose_threshold_no_error_ratio_can_exceed_is_flagged():
    """Review: at 90 % over 30 d the 1 h page needs an error ratio above 14.4 × 10 % = 144 %:
    it can never fire (even a full outage is a ratio of 1). Such a rule must not pass silently."""
    p = design_policy(spec(target=0.9), cfg())
    assert not any(r.long_window == pd.Timedelta(hours=1) for r in p.rules)  # left out, not replayed as if it worked
    (gone,) = [d for d in p.not_proposed if d.long_window == pd.Timedelta(hours=1)]
    assert "can never fire" in gone.reason and "1.44" in gone.reason  # 14.4 × 10 % = 144 %
    assert [format_duration(r.long_window) for r in p.rules] == ["6h", "1d", "3d"]  # 6 × 10 % = 60 %: kept
    assert any("never fire" in w and "1h" in w for w in p.warnings)
    assert any(q.topic == "alert_unreachable_threshold" for q in p.open_questions)
    quiet = design_policy(spec(target=0.999), cfg())
    assert not any("never fire" in w for w in quiet.warnings) and not quiet.not_proposed


def test_rules_that_can_never_fire_are_not_exported(tmp_path):
    """An imported policy keeps its rules for the replay, but the export leaves the one that can
    never fire out of rules.yml and says why in the README; promtool still passes."""
    from srekit.core.spec import AlertPolicySpec, AlertWindowSpec

    rules = (
        AlertWindowSpec("page", pd.Timedelta(hours=1), 14.4, pd.Timedelta(minutes=5)),
        AlertWindowSpec("page", pd.Timedelta(hours=6), 6.0, pd.Timedelta(minutes=30)),
    )
    imported = spec(target=0.9, alerting=AlertPolicySpec(source="sloth", rules=rules))
    export_all([imported], cfg(), tmp_path, formats=("prometheus",))
    text = (tmp_path / "prometheus" / "rules.yml").read_text()
    assert "ratio_rate6h" in text and "ratio_rate1h" not in text and "(14.4 * 0.1)" not in text
    readme = (tmp_path / "README.md").read_text()
    assert "can never fire" in readme and "1h/5m" in readme
    d = tmp_path / "prometheus"
    res = subprocess.run(
        [require_tool("promtool"), "test", "rules", "rules_test.yml"], cwd=d, capture_output=True, text=True
    )
    assert res.returncode == 0, res.stdout + res.stderr


def test_reset_time_is_never_negative():
    """Review: reset = impact end → the detecting alert clears. Errors for 10 min of an
    incident logged as mitigated after 60 min: the 1 h page clears at 12:15 (5 min after the
    errors stop), 45 min before the recorded mitigation. That is a 0 s reset (it had already
    cleared), not −2,700 s, which would pull the median reset below what any alert achieves."""

    idx = pd.date_range("2024-01-01", periods=2 * 1440, freq="1min", tz="UTC")
    tot = np.full(len(idx), 1000)
    err = np.zeros(len(idx), dtype=np.int64)
    t0 = pd.Timestamp("2024-01-02 12:00", tz="UTC")
    i0 = idx.get_loc(t0)
    err[i0 : i0 + 10] = 1000
    tel = pd.DataFrame({"journey": "a", "interval_start": idx, "total": tot, "errors": err, "le_100": tot})
    s = SLOSpec("a-avail", "a", "availability", 0.999, window=D30)
    inc = pd.DataFrame(
        {
            "id": ["I1"],
            "started_at": [t0],
            "mitigated_at": [t0 + pd.Timedelta(minutes=60)],
            "resolved_at": [t0 + pd.Timedelta(hours=2)],
            "journey": ["a"],
        }
    )
    rep = analyze_alerting(tel, None, [s], inc, None, cfg())
    runs = rep.firings[rep.firings["rule"] == "a-avail/page/1h"]
    assert list(runs["end"]) == [pd.Timestamp("2024-01-02 12:15", tz="UTC")]
    (d,) = rep.detections
    assert d.detected_by == "a-avail/page/1h" and d.reset == pd.Timedelta(0)
    assert all(x.median_reset is None or x.median_reset >= pd.Timedelta(0) for x in rep.scores)
