"""SLIs, threshold proposals and SLO options: known distributions, hand-checked windows,
decision rules, missing inputs, real data."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from conftest import SAMPLES, external
from hypothesis import given, settings
from hypothesis import strategies as st

from srekit.analysis.budget import budget_policy
from srekit.analysis.slo.events import sli_events
from srekit.analysis.slo.grid import journey_grids
from srekit.analysis.slo.propose import propose_slos
from srekit.core.errors import ConfigError
from srekit.core.spec import SLOSpec
from srekit.inputs import telemetry as tm
from srekit.inputs.aggregate import aggregate_frame
from srekit.inputs.config import parse_config
from srekit.report import tables

T0 = pd.Timestamp("2024-01-01", tz="UTC")
EDGES = (10.0, 25.0, 50.0, 75.0, 100.0, 150.0, 200.0, 250.0, 300.0, 400.0, 500.0, 750.0, 1000.0, 2000.0, 5000.0)


def cfg(**extra):
    raw = {"service": "s", "data": {"telemetry": "t.parquet"}}
    raw.update(extra)
    return parse_config(raw)


def constant_telemetry(
    journey: str, days: int, per_interval: int, err_per_interval: int, *, freq: str = "1min", fast_share: float = 1.0
) -> pd.DataFrame:
    """Every interval: the same total and errors; a share of requests ≤ 100 ms, the rest ≤ 500."""
    idx = pd.date_range(T0, T0 + pd.Timedelta(days=days), freq=freq, inclusive="left")
    n = len(idx)
    fast = int(round(per_interval * fast_share))
    return pd.DataFrame(
        {
            "journey": journey,
            "interval_start": idx,
            "total": np.full(n, per_interval),
            "errors": np.full(n, err_per_interval),
            "le_100": np.full(n, fast),
            "le_500": np.full(n, per_interval),
        }
    )


def raw_requests(rng: np.random.Generator, n: int, days: int, sigma: float, median_ms: float) -> pd.DataFrame:
    ts = T0 + pd.to_timedelta(rng.uniform(0, days * 86400, n), unit="s")
    lat = rng.lognormal(np.log(median_ms), sigma, n)
    return pd.DataFrame({"timestamp": ts, "latency_ms": lat, "error": rng.random(n) < 0.001, "journey": "api"})


def check_thresholds(req: pd.DataFrame, tel: pd.DataFrame, targets=(0.95, 0.99, 0.995, 0.999)) -> None:
    prop = propose_slos(tel, None, cfg(slo={"targets": list(targets)}))
    edges = tm.edges_of(tel)
    lat = req["latency_ms"].to_numpy()
    seen = 0
    for p in prop.threshold_proposals:
        exact = np.quantile(lat, p.target, method="inverted_cdf")  # smallest x with share ≤ x ≥ target
        i = int(np.flatnonzero(edges == p.threshold_ms)[0])
        assert p.threshold_ms >= exact and (i == 0 or edges[i - 1] < exact)  # within one bucket edge
        assert p.pooled_fraction == pytest.approx(np.mean(lat <= p.threshold_ms))
        assert p.pooled_fraction >= p.target
        assert p.threshold_ci_ms[0] <= p.threshold_ms <= p.threshold_ci_ms[1]
        assert p.threshold_ci_ms[0] in edges and p.threshold_ci_ms[1] in edges
        seen += 1
    assert seen == len(targets)


def test_threshold_within_one_edge_of_the_exact_quantile() -> None:
    rng = np.random.default_rng(7)
    req = raw_requests(rng, 150_000, 10, 0.7, 120.0)
    tel = aggregate_frame(req, edges=tm.DEFAULT_EDGES_MS)
    check_thresholds(req, tel)


@settings(max_examples=8, deadline=None)
@given(seed=st.integers(0, 10**6), sigma=st.floats(0.2, 1.5), median=st.floats(5.0, 800.0))
def test_threshold_property_on_known_distributions(seed: int, sigma: float, median: float) -> None:
    rng = np.random.default_rng(seed)
    req = raw_requests(rng, 20_000, 3, sigma, median)
    tel = aggregate_frame(req, interval=pd.Timedelta(minutes=5), edges=EDGES + (20000.0, 60000.0))
    lat = req["latency_ms"].to_numpy()
    reachable = [t for t in (0.9, 0.99) if np.mean(lat <= 60000.0) >= t]
    check_thresholds(req, tel, tuple(reachable))


def test_windows_met_and_consumption_hand_computed() -> None:
    # 30 days, 1000 requests a day, no errors except 500 on the last day; 28-day windows at daily
    # steps: 3 windows, the last one holds 500 bad of 28,000 (allowed at 99%: 280).
    tel = constant_telemetry("a", 30, 1000, 0, freq="1D")
    tel.loc[tel.index[-1], "errors"] = 500
    c = cfg(journeys=[{"name": "a", "slos": {"availability": 0.99}}])
    prop = propose_slos(tel, None, c)
    given_opt = next(o for o in prop.options if o.name == "given")
    obj = given_opt.objective("availability")
    assert obj is not None and obj.history.windows == 3
    assert obj.history.windows_met == pytest.approx(2 / 3)
    assert obj.history.budget_consumed_median == 0.0
    assert obj.history.budget_consumed_p90 == pytest.approx(0.8 * 500 / 280)
    assert [s.source for s in prop.slos] == ["service.yaml", "option:balanced"]  # latency not configured
    assert prop.specs[0].target == 0.99


def test_option_ladder_on_a_constant_error_rate() -> None:
    # 0.2% errors everywhere: 99.9% never holds, 99.5% always does → balanced 99.5%,
    # ambitious 99.9%, relaxed 99%; latency: 98% ≤ 100 ms, so 99% needs the 500 ms edge.
    tel = constant_telemetry("a", 35, 1000, 2, fast_share=0.98)
    prop = propose_slos(tel, None, cfg())
    opts = {o.name: o for o in prop.options}
    assert set(opts) == {"relaxed", "balanced", "ambitious"}
    assert opts["balanced"].objective("availability").target == 0.995
    assert opts["ambitious"].objective("availability").target == 0.999
    assert opts["ambitious"].objective("availability").history.windows_met == 0.0
    assert opts["relaxed"].objective("availability").target == 0.99
    lat = opts["balanced"].objective("latency")
    assert (lat.target, lat.threshold_ms) == (0.99, 500.0)
    assert opts["balanced"].recommended and not opts["ambitious"].recommended
    assert "Recommended" in opts["balanced"].tradeoff
    assert {s.name for s in prop.specs} == {"a-availability", "a-latency"}
    assert any(q.topic == "slo_targets" for q in prop.open_questions)
    assert any(q.topic == "critical_journeys" for q in prop.open_questions)
    table = tables.options_table({"slo_proposal": prop.to_dict()})
    assert list(table["journey"]) == ["a"] * 3


def test_too_little_data_flag() -> None:
    # one request per 10 minutes: 4032 per 28-day window; 10/(1−t) needs 200, 1000, 2000, 10000.
    tel = constant_telemetry("a", 30, 1, 0, freq="10min")
    prop = propose_slos(tel, None, cfg())
    flags = {p.target: p.too_little_data for p in prop.threshold_proposals}
    assert flags == {0.95: False, 0.99: False, 0.995: False, 0.999: True}
    assert {p.min_window_events for p in prop.threshold_proposals} == {4032}
    assert any(q.topic == "too_little_data" for q in prop.open_questions)


def test_short_history_bootstraps_over_hours() -> None:
    rng = np.random.default_rng(1)
    req = raw_requests(rng, 20_000, 2, 0.5, 100.0)
    tel = aggregate_frame(req, edges=EDGES)
    prop = propose_slos(tel, None, cfg())
    assert {p.ci_block for p in prop.threshold_proposals} == {"hour"}
    assert {q.topic for q in prop.open_questions} >= {"short_history", "bootstrap_block"}
    assert all(p.history.windows == 1 for p in prop.threshold_proposals)


def test_top_three_journeys_by_traffic_and_configured_ones() -> None:
    tel = pd.concat([constant_telemetry(j, 2, n, 0) for j, n in (("a", 5), ("b", 50), ("c", 20), ("d", 30))])
    prop = propose_slos(tel, None, cfg())
    assert prop.critical_journeys == ("b", "d", "c")
    c = cfg(journeys=[{"name": "a"}, {"name": "b", "critical": False}, {"name": "zz"}])
    prop2 = propose_slos(tel, None, c)
    assert prop2.critical_journeys == ("a", "zz")
    assert any(q.topic == "journey_without_telemetry:zz" for q in prop2.open_questions)
    assert {s.journey for s in prop2.specs} == {"a"}


def test_no_telemetry_gives_an_instrumentation_plan() -> None:
    c = parse_config(
        {
            "service": "s",
            "data": {"incidents": "i.csv"},
            "journeys": [{"name": "checkout", "slos": {"latency": {"threshold_ms": 800, "target": 0.95}}}],
            "prometheus": {"request_counter": "reqs_total", "journey_label": "route"},
        }
    )
    prop = propose_slos(None, None, c)
    d = prop.to_dict()
    json.dumps(d, allow_nan=False)
    (step,) = d["instrumentation_plan"]
    assert step["journey"] == "checkout" and 800.0 in step["bucket_edges_ms"]
    assert step["counter"].startswith('reqs_total{route="checkout"')
    assert all(s["provisional"] for s in d["slis"]) and len(d["slis"]) == 2
    lat = next(s for s in prop.specs if s.sli == "latency")
    assert (lat.threshold_ms, lat.target) == (800.0, 0.95)
    assert {q.topic for q in prop.open_questions} >= {"no_telemetry", "provisional_slos"}
    assert d["threshold_proposals"] == [] and d["options"] == []
    # nothing configured at all: still a plan for "all"
    bare = propose_slos(None, None, parse_config({"service": "s", "data": {"incidents": "i.csv"}}))
    assert [s.journey for s in bare.instrumentation_plan] == ["all"]
    shown = tables.instrumentation_table({"slo_proposal": d})
    assert list(shown["journey"]) == ["checkout"] and "800" in shown["bucket edges (ms)"][0].split(", ")


def test_given_specs_are_in_force_and_evaluated() -> None:
    tel = constant_telemetry("a", 30, 100, 0, fast_share=0.9)
    given_ = (SLOSpec(name="a-fast", journey="a", sli="latency", target=0.95, threshold_ms=100.0),)
    prop = propose_slos(tel, None, cfg(), given_specs=given_)
    assert prop.specs == given_
    (opt,) = [o for o in prop.options if o.name == "given"]
    assert opt.history.windows_met == 0.0  # 90% fast < 95%
    assert opt.history.budget_consumed_median == pytest.approx(0.1 / 0.05)


def test_configured_threshold_snaps_down_to_an_edge() -> None:
    tel = constant_telemetry("a", 3, 100, 0)
    c = cfg(journeys=[{"name": "a", "slos": {"latency": {"threshold_ms": 300, "target": 0.99}}}])
    prop = propose_slos(tel, None, c)
    lat = next(s for s in prop.specs if s.sli == "latency")
    assert lat.threshold_ms == 100.0
    assert any(q.topic == "threshold_snapped:a" for q in prop.open_questions)


def test_sli_text_and_promql_use_the_prometheus_names() -> None:
    tel = constant_telemetry("checkout", 2, 100, 0)
    c = cfg(
        journeys=[
            {"name": "checkout", "slos": {"availability": 0.999, "latency": {"threshold_ms": 500, "target": 0.99}}}
        ],
        prometheus={"latency_histogram": "lat_seconds", "selector": 'job="shop"'},
    )
    slis = {s.kind: s for s in propose_slos(tel, None, c).slis}
    assert slis["availability"].promql == (
        'sum(rate(http_requests_total{handler="checkout",job="shop",code!~"5.."}[28d]))'
        ' / sum(rate(http_requests_total{handler="checkout",job="shop"}[28d]))'
    )
    assert 'lat_seconds_bucket{handler="checkout",job="shop",le="0.5"}' in slis["latency"].promql
    assert slis["latency"].columns == ("total", "le_500")
    assert "500 ms" in slis["latency"].definition and slis["latency"].user_impact


def test_grid_events_equal_telemetry_sli_counts() -> None:
    rng = np.random.default_rng(5)
    req = raw_requests(rng, 5000, 1, 0.8, 100.0)
    tel = aggregate_frame(req, edges=EDGES)
    tel = tel.drop(index=tel.index[10:40]).sample(frac=1.0, random_state=1)  # gaps, shuffled rows
    doubled = pd.concat([tel, tel.assign(total=0, errors=0, **{c: 0 for c in tm.le_columns(tel)})])
    for kind, thr in (("availability", None), ("latency", 240.0)):
        s = SLOSpec(name="x", journey="api", sli=kind, target=0.9, threshold_ms=thr)  # type: ignore[arg-type]
        ref = tm.sli_counts(tel, "api", kind, threshold_ms=thr)
        for frame in (tel, doubled):
            ev = sli_events(frame, None, s)
            pd.testing.assert_frame_equal(ev, ref, check_freq=False, check_names=False)
        t_min = tel["interval_start"].min()
        for lo, hi in (
            (t_min - pd.Timedelta(minutes=90), None),
            (t_min + pd.Timedelta(minutes=7), None),
            (None, t_min + pd.Timedelta(hours=30)),
            (None, t_min + pd.Timedelta(hours=3)),
        ):
            ref = tm.sli_counts(tel, "api", kind, threshold_ms=thr, start=lo, end=hi)
            ev = sli_events(tel, None, s, start=lo, end=hi)
            pd.testing.assert_frame_equal(ev, ref, check_freq=False, check_names=False)
    assert journey_grids(tel)["api"].interval == pd.Timedelta(minutes=1)


def test_sections_given_journey_grids_match_their_own() -> None:
    from srekit.analysis.alerting.analyze import analyze_alerting

    rng = np.random.default_rng(8)
    a = constant_telemetry("a", 3, 50, 1, fast_share=0.9)
    b = constant_telemetry("b", 2, 20, 0)
    b.loc[b.index[100:160], "errors"] = 15  # an outage on b
    tel = pd.concat([a, b.drop(index=b.index[300:400])]).sample(frac=1.0, random_state=int(rng.integers(9)))
    grids = journey_grids(tel)
    c = cfg(journeys=[{"name": "a"}, {"name": "b"}])
    specs = (
        SLOSpec("a-lat", "a", "latency", 0.9, threshold_ms=120.0),
        SLOSpec("b-av", "b", "availability", 0.99),
        SLOSpec("z-av", "z", "availability", 0.99),
    )
    for s in specs:
        pd.testing.assert_frame_equal(sli_events(tel, None, s, grids=grids), sli_events(tel, None, s))
    assert propose_slos(tel, None, c, grids=grids).to_dict() == propose_slos(tel, None, c).to_dict()
    assert budget_policy(tel, None, specs, c, grids=grids).to_dict() == budget_policy(tel, None, specs, c).to_dict()
    with_grids = analyze_alerting(tel, None, specs, None, None, c, grids=grids).to_dict()
    assert json.dumps(with_grids, default=str) == json.dumps(
        analyze_alerting(tel, None, specs, None, None, c).to_dict(), default=str
    )


def test_series_timeslice_events_count_repeats_and_skip_zeros() -> None:
    stamps = pd.to_datetime(
        ["2024-01-01 00:00", "2024-01-01 00:05", "2024-01-01 00:05", "2024-01-01 00:10", "2024-01-01 00:20"], utc=True
    )
    series = pd.DataFrame({"timestamp": stamps, "value": [50.0, 150.0, 90.0, 0.0, 120.0], "journey": "all"})
    s = SLOSpec(name="all-timeslice", journey="all", sli="timeslice", target=0.9, threshold_ms=100.0)
    ev = sli_events(None, series, s)
    assert ev["total"].tolist() == [1, 2, 0, 0, 1] and ev["bad"].tolist() == [0, 1, 0, 0, 1]


def test_series_only_gives_timeslice_proposals_and_budgets() -> None:
    rng = np.random.default_rng(2)
    stamps = pd.date_range(T0, periods=12 * 24 * 40, freq="5min")
    series = pd.DataFrame({"timestamp": stamps, "value": rng.gamma(20, 5, len(stamps)), "journey": "api"})
    c = parse_config({"service": "s", "data": {"series": "s.csv"}})
    prop = propose_slos(None, series, c)
    assert {p.kind for p in prop.threshold_proposals} == {"timeslice"}
    vals = series["value"].to_numpy()
    for p in prop.threshold_proposals:
        assert p.pooled_fraction == pytest.approx(np.mean(vals <= p.threshold_ms)) and p.pooled_fraction >= p.target
    (spec,) = [s for s in prop.specs if s.sli == "timeslice"]
    pol = budget_policy(None, series, prop.specs, c)
    b = next(b for b in pol.budgets if b.slo == spec.name)
    assert b.event_unit == "samples" and b.total_events == 28 * 24 * 12
    assert "5-minute samples" in next(s for s in prop.slis if s.kind == "timeslice").definition
    assert "provisional_slos" not in {q.topic for q in prop.open_questions}  # the series SLO is measured
    assert [s.journey for s in prop.instrumentation_plan] == ["api"]


@pytest.mark.slow
def test_samples_end_to_end() -> None:
    from srekit.inputs.config import load_config
    from srekit.inputs.loaders import load_inputs

    c = load_config(SAMPLES / "service.yaml")
    inp = load_inputs(c)
    prop = propose_slos(inp.telemetry, inp.series, c)
    pol = budget_policy(inp.telemetry, inp.series, prop.specs, c)
    json.dumps(prop.to_dict(), allow_nan=False)
    json.dumps(pol.to_dict(), allow_nan=False)
    by = {s.spec.name: s for s in prop.slos}
    assert by["checkout-availability"].source == "service.yaml" and by["checkout-availability"].spec.target == 0.999
    assert by["checkout-latency"].spec.threshold_ms == 1500.0
    assert {"browse-availability", "search-latency"} <= set(by)
    assert pol.as_of == inp.telemetry["interval_start"].max() + pd.Timedelta(minutes=1)
    assert len(pol.budgets) == len(prop.specs)


def _real_series(path: str) -> pd.DataFrame:
    from srekit.inputs.loaders import load_series

    return load_series(path).frame


@pytest.mark.external
def test_nab_request_latency_proposals_and_timeslice_budgets() -> None:
    p = external("nab", "data", "realKnownCause", "ec2_request_latency_system_failure.csv")
    series = _real_series(str(p))
    assert series["timestamp"].duplicated().sum() == 11  # the DST repeat kept, not dropped
    c = parse_config(
        {
            "service": "ec2",
            "data": {"series": str(p)},
            "slo": {"window": "7d", "budgeting": "Timeslices", "timeslice_target": 0.9, "timeslice_window": "1h"},
        }
    )
    prop = propose_slos(None, series, c)
    assert len(prop.threshold_proposals) == 4 and all(p.kind == "timeslice" for p in prop.threshold_proposals)
    pol = budget_policy(None, series, prop.specs, c)
    (b,) = pol.budgets
    assert b.event_unit == "slices" and 0 < b.total_events <= 7 * 24
    ev = sli_events(None, series, prop.specs[0])
    assert int(ev["total"].sum()) <= 14 * 24 + 1
    json.dumps(prop.to_dict(), allow_nan=False)
    json.dumps(pol.to_dict(), allow_nan=False)


@pytest.mark.external
def test_microsoft_outbound_latency_zeros_are_no_data() -> None:
    p = external("microsoft-cloud-monitoring-dataset", "data", "middle-tier-api-dependency-latency", "outbound-01.csv")
    series = _real_series(str(p))
    c = parse_config(
        {
            "service": "ms",
            "data": {"series": str(p)},
            "journeys": [{"name": "all", "slos": {"latency": {"threshold_ms": 150, "target": 0.95}}}],
        }
    )
    prop = propose_slos(None, series, c)
    assert any(q.topic == "series_zeros:all" for q in prop.open_questions)
    (spec,) = [s for s in prop.specs if s.sli == "timeslice"]
    assert (spec.threshold_ms, prop.slos[0].source) == (150.0, "service.yaml")
    pol = budget_policy(None, series, prop.specs, c)
    (b,) = [b for b in pol.budgets if b.slo == spec.name]
    nonzero = series[(series["timestamp"] >= b.window_start) & (series["value"] != 0)]
    assert b.total_events == len(nonzero)  # hourly samples, the zero sample excluded
    assert b.bad_events == int((nonzero["value"] > 150).sum())
    assert prop.threshold_proposals and all(p.threshold_ms > 0 for p in prop.threshold_proposals)


def test_calendar_month_windows_in_the_history() -> None:
    tel = constant_telemetry("a", 92, 100, 0, freq="1h")  # Jan, Feb, Mar 2024 + 1 day of April
    days = journey_grids(tel)["a"].blocks("D")
    assert days.index[0] == T0 and days.index[-1] == pd.Timestamp("2024-04-01", tz="UTC")
    prop = propose_slos(tel, None, cfg(slo={"window_kind": "calendar_month", "window": "30d"}))
    assert {p.history.windows for p in prop.threshold_proposals} == {4}
    assert {p.min_window_events for p in prop.threshold_proposals} == {24 * 100}  # 1 April
    assert all(s.window_kind == "calendar_month" for s in prop.specs)


def test_given_specs_beyond_the_critical_journeys() -> None:
    tel = pd.concat([constant_telemetry(j, 3, n, 0) for j, n in (("a", 50), ("b", 40), ("c", 30), ("d", 1))])
    given_ = (
        SLOSpec(name="d-availability", journey="d", sli="availability", target=0.99),
        SLOSpec(name="gone-availability", journey="gone", sli="availability", target=0.99),
    )
    prop = propose_slos(tel, None, cfg(), given_specs=given_)
    assert prop.specs == given_
    assert any(o.journey == "d" and o.name == "given" for o in prop.options)
    with pytest.raises(ConfigError, match="unique"):
        propose_slos(tel, None, cfg(), given_specs=(given_[0], given_[0]))


def test_configured_slos_of_a_journey_without_telemetry_stay_in_force() -> None:
    tel = constant_telemetry("a", 3, 50, 0)
    c = cfg(journeys=[{"name": "a"}, {"name": "new", "slos": {"availability": 0.995}}])
    prop = propose_slos(tel, None, c)
    new = next(s for s in prop.slos if s.spec.journey == "new")
    assert (new.spec.target, new.source) == (0.995, "service.yaml")
    pol = budget_policy(tel, None, prop.specs, c)
    assert next(b for b in pol.budgets if b.journey == "new").total_events == 0


def test_bootstrap_interval_reflects_day_to_day_variation() -> None:
    rng = np.random.default_rng(3)
    parts = []
    for d in range(20):  # every third day is three times slower
        r = raw_requests(rng, 2000, 1, 0.5, 100.0 if d % 3 else 300.0)
        r["timestamp"] = r["timestamp"] + pd.Timedelta(days=d)
        parts.append(r)
    tel = aggregate_frame(pd.concat(parts))
    for p in propose_slos(tel, None, cfg()).threshold_proposals:
        lo, hi = p.threshold_ci_ms
        assert lo < p.threshold_ms < hi or (lo < hi and lo <= p.threshold_ms <= hi)
        assert p.ci_block == "day"
    # identical days: no variation to resample, the interval is the threshold itself
    flat = propose_slos(constant_telemetry("a", 10, 100, 0, fast_share=0.97), None, cfg())
    assert all(p.threshold_ci_ms == (p.threshold_ms, p.threshold_ms) for p in flat.threshold_proposals)


def test_sli_promql_le_follows_the_histogram_unit_aliases():
    """Review: the SLI's PromQL uses the same ``le`` text as the exported rules (seconds/s →
    0.3 for 300 ms; milliseconds/ms → 300)."""
    from srekit.analysis.slo.sli import make_sli
    from srekit.core.spec import SLOSpec
    from srekit.inputs.config import parse_config

    spec = SLOSpec("checkout-latency", "checkout", "latency", 0.99, threshold_ms=300)
    for unit, le in (("seconds", "0.3"), ("s", "0.3"), ("milliseconds", "300"), ("ms", "300")):
        c = parse_config({"service": "shop", "data": {"telemetry": "t.parquet"}, "prometheus": {"latency_unit": unit}})
        assert f'le="{le}"' in make_sli(spec, c).promql, unit


def test_window_exactly_at_the_objective_is_met_for_any_decimal_target():
    """Review: 1 − 0.9 is 0.09999999999999998 in floating point, so 10 bad of 100 at a 90 %
    target read as 100.0000000000002 % consumed: the window counted as missed and 100 events
    as "too little data" (< 10 / (1 − 0.9)). The budget module decides the same case exactly
    (consumed = 1, ``budget.exact_consumed``); history and proposals must agree with it."""
    import numpy as np
    import pandas as pd

    from srekit.analysis.budget import exact_consumed
    from srekit.inputs.config import parse_config

    idx = pd.date_range("2024-01-01", periods=10, freq="1min", tz="UTC")
    tel = pd.DataFrame({"journey": "a", "interval_start": idx, "total": 10, "errors": 1, "le_100": 9, "le_200": 10})
    c = parse_config({"service": "shop", "data": {"telemetry": "t.parquet"}, "slo": {"targets": [0.9]}})
    p = propose_slos(tel, None, c, rng=np.random.default_rng(0))
    assert exact_consumed(10, 100, 0.9) == 1
    (prop,) = p.threshold_proposals
    assert prop.threshold_ms == 100.0 and prop.pooled_fraction == 0.9
    assert prop.history.windows_met == 1.0 and prop.history.budget_consumed_median == 1.0
    assert prop.min_window_events == 100 and not prop.too_little_data  # exactly 10 allowed bad events
    (opt,) = p.options
    assert opt.objective("availability").history.windows_met == 1.0  # 10 % errors at a 90 % target: met
    assert opt.objective("latency").threshold_ms == 100.0  # the smallest edge that held


def test_sli_promql_escapes_the_error_regex():
    r"""Review: a regex with backslashes (``5\d\d``) must be a valid PromQL string literal."""
    from srekit.analysis.slo.sli import make_sli
    from srekit.core.spec import SLOSpec
    from srekit.inputs.config import parse_config

    c = parse_config(
        {"service": "shop", "data": {"telemetry": "t.parquet"}, "prometheus": {"error_status_regex": r"5\d\d"}}
    )
    q = make_sli(SLOSpec("a", "checkout", "availability", 0.999), c).promql
    assert 'code!~"5\\\\d\\\\d"' in q


def test_sli_promql_tolerates_a_selector_with_a_trailing_comma():
    """Review: ``selector: 'job="shop",'`` gave ``…,job="shop",,code!~…`` (invalid PromQL);
    the exported rules already strip it (``export_prometheus.base_matchers``)."""
    from srekit.analysis.slo.sli import make_sli
    from srekit.core.spec import SLOSpec
    from srekit.inputs.config import parse_config

    c = parse_config(
        {"service": "shop", "data": {"telemetry": "t.parquet"}, "prometheus": {"selector": ' job="shop", '}}
    )
    for s in (
        SLOSpec("a", "checkout", "availability", 0.999),
        SLOSpec("l", "checkout", "latency", 0.99, threshold_ms=300),
    ):
        q = make_sli(s, c).promql
        assert ",," not in q and '{handler="checkout",job="shop"' in q, q


def test_display_tables_show_the_report_json_figures() -> None:
    """One table per figure set, built from report.json: the report's columns by default, the
    SLO notebook's extra columns with ``detail=True``, the same rows either way."""
    tel = constant_telemetry("a", 35, 1000, 2, fast_share=0.98)
    rep = {
        "slo_proposal": propose_slos(
            tel, None, cfg(slo={"budgeting": "Timeslices", "timeslice_window": "5m"})
        ).to_dict()
    }
    short, full = tables.options_table(rep), tables.options_table(rep, detail=True)
    assert list(short.columns) == ["journey", "option", "recommended", "objectives", "past windows met", "trade-off"]
    assert set(full.columns) - set(short.columns) == {"past windows", "budget used (median / p90)"}
    assert len(short) == len(full) == 3 and list(full["past windows"]) == [8, 8, 8]  # 35 days, 28-day windows
    slos = tables.slo_table(rep, detail=True)
    assert set(slos.columns) - set(tables.slo_table(rep).columns) == {"window kind", "budgeting"}
    assert list(slos["budgeting"]) == ["Timeslices (5 min slices, good at ≥ 99.0%)"] * 2
    assert list(slos["window kind"]) == ["rolling"] * 2
    thresholds = tables.threshold_table(rep)
    first = rep["slo_proposal"]["threshold_proposals"][0]
    assert len(thresholds) == len(rep["slo_proposal"]["threshold_proposals"])
    assert thresholds["threshold (ms)"][0] == f"{first['threshold_ms']:g}" and thresholds["kind"][0] == "latency"
    for table in (tables.slo_table, tables.sli_table, tables.options_table, tables.threshold_table):
        assert table({}).empty  # no section: an empty table with its columns
