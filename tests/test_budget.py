"""Error budgets, burn rates and states: hand-computed cases, exact decisions, properties."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from srekit.analysis.budget import (
    ACTIONS,
    STATES,
    budget_policy,
    burn_down,
    burn_rate_history,
    burn_rates,
    error_budget,
    exact_consumed,
    state_of,
)
from srekit.analysis.slo.events import sli_events
from srekit.core.spec import SLOSpec
from srekit.inputs import telemetry as tm
from srekit.inputs.config import parse_config
from srekit.report import tables

T0 = pd.Timestamp("2024-01-01", tz="UTC")


def events(totals, bads, *, start=T0, freq="1min") -> pd.DataFrame:
    idx = pd.date_range(start, periods=len(totals), freq=freq, name="interval_start")
    return pd.DataFrame({"total": np.asarray(totals, dtype="int64"), "bad": np.asarray(bads, dtype="int64")}, index=idx)


def spec(target: float = 0.999, **kw) -> SLOSpec:
    return SLOSpec(
        name=kw.pop("name", "j-availability"),
        journey=kw.pop("journey", "j"),
        sli=kw.pop("sli", "availability"),
        target=target,
        **kw,
    )


def telemetry(journey: str, totals, errors, *, start=T0, freq="1min") -> pd.DataFrame:
    totals = np.asarray(totals, dtype="int64")
    idx = pd.date_range(start, periods=len(totals), freq=freq)
    return pd.DataFrame(
        {
            "journey": journey,
            "interval_start": idx,
            "total": totals,
            "errors": np.asarray(errors, dtype="int64"),
            "le_100": totals,
            "le_500": totals,
        }
    )


def test_request_weighted_window_known_case() -> None:
    # kubernetes-mixin case: 6/10 bad then 1/102 bad → 7/112 = 0.0625, not the 0.3049 mean.
    ev = events([10, 102], [6, 1])
    b = error_budget(ev, spec(0.9))
    assert (b.total_events, b.bad_events) == (112, 7)
    assert b.consumed == pytest.approx(0.0625 / 0.1, rel=1e-12)
    assert b.burn_rates["1h"] == pytest.approx(0.625, rel=1e-12)
    # the same through the telemetry path
    ev2 = sli_events(telemetry("j", [10, 102], [6, 1]), None, spec(0.9))
    assert error_budget(ev2, spec(0.9)).consumed == pytest.approx(0.625, rel=1e-12)


def test_hand_computed_budget_over_28_days() -> None:
    n = 28 * 1440
    totals = np.full(n, 100)
    bads = np.zeros(n, dtype=int)
    bads[: 2016 - 60] = 1  # early errors
    bads[-60:] = 1  # 60 bad requests in the last hour (6000 requests)
    b = error_budget(events(totals, bads), spec(0.999))
    assert b.total_events == 4_032_000
    assert b.allowed_bad_events == pytest.approx(4032.0)
    assert b.bad_events == 2016
    assert b.consumed == 0.5 and b.remaining == 0.5
    assert b.status == "healthy"
    assert b.to_dict()["allowed_outage_minutes"] == pytest.approx(40.32)
    assert b.burn_rates["1h"] == pytest.approx((60 / 6000) / 0.001)
    assert b.burn_rates["6h"] == pytest.approx((60 / 36000) / 0.001)
    assert b.window_end == T0 + pd.Timedelta(days=28)
    assert b.window_start == T0


def test_slo_generator_rounding_case_is_critical() -> None:
    # Google slo-generator rounds the burn rate 1.016 to 1.0 and reports "on track";
    # 42,695,770 good + 43,430 bad at 99.9% over 28 days consumes 101.6%: exhausted.
    good, bad = 42_695_770, 43_430
    days = 28
    tot = np.full(days, (good + bad) // days)
    tot[-1] += (good + bad) - tot.sum()
    bads = np.full(days, bad // days)
    bads[-1] += bad - bads.sum()
    b = error_budget(events(tot, bads, freq="1D"), spec(0.999))
    assert (b.good_events, b.bad_events) == (good, bad)
    assert b.consumed == pytest.approx(1.01616, abs=1e-5)
    assert round(b.consumed, 1) == 1.0  # what a rounding tool would compare
    assert b.status == "critical"
    assert b.remaining == 0.0


def test_calendar_month_window() -> None:
    idx_start = pd.Timestamp("2024-01-20", tz="UTC")
    n = int((pd.Timestamp("2024-03-10", tz="UTC") - idx_start) / pd.Timedelta(hours=1))
    ev = events(np.full(n, 1000), np.ones(n, dtype=int), start=idx_start, freq="1h")
    s = spec(0.99, window=pd.Timedelta(days=30), window_kind="calendar_month")
    b = error_budget(ev, s)
    assert b.window_start == pd.Timestamp("2024-03-01", tz="UTC")
    assert b.window_end == pd.Timestamp("2024-03-10", tz="UTC")
    assert b.window == pd.Timedelta(days=31)
    assert b.total_events == 9 * 24 * 1000 and b.bad_events == 9 * 24
    assert b.to_dict()["allowed_outage_minutes"] == pytest.approx(31 * 1440 * 0.01)
    # data ending exactly at a month boundary is judged on the month that just ended (Feb 2024: 29 days)
    feb = ev[ev.index < pd.Timestamp("2024-03-01", tz="UTC")]
    b2 = error_budget(feb, s)
    assert b2.window_start == pd.Timestamp("2024-02-01", tz="UTC") and b2.window == pd.Timedelta(days=29)
    assert b2.total_events == 29 * 24 * 1000


def test_timeslices_count_slices() -> None:
    # three 5-minute slices: 95% good (good slice), 80% good (bad slice), no traffic (not counted)
    totals = [20] * 5 + [20] * 5 + [0] * 5
    bads = [1] * 5 + [4] * 5 + [0] * 5
    tel = telemetry("j", totals, bads)
    s = spec(0.5, budgeting="Timeslices", timeslice_target=0.9, timeslice_window=pd.Timedelta(minutes=5))
    ev = sli_events(tel, None, s)
    assert ev["total"].tolist() == [1, 1, 0] and ev["bad"].tolist() == [0, 1, 0]
    b = error_budget(ev, s)
    assert b.event_unit == "slices" and (b.total_events, b.bad_events) == (2, 1)
    assert b.consumed == 1.0 and b.status == "critical"  # exactly at the 50% objective


def test_exact_objective_decides_on_unrounded_ratios() -> None:
    assert state_of(exact_consumed(1, 1000, 0.999)) == "critical"
    assert state_of(exact_consumed(999, 1_000_000, 0.999)) == "warning"
    assert state_of(exact_consumed(749, 1_000_000, 0.999)) == "healthy"
    assert exact_consumed(0, 0, 0.999) == 0


@settings(max_examples=60, deadline=None)
@given(
    total=st.integers(1, 10**9),
    a=st.integers(0, 10**9),
    b=st.integers(0, 10**9),
    target=st.sampled_from([0.9, 0.95, 0.99, 0.995, 0.999, 0.9999]),
)
def test_consumed_is_monotone_in_bad_events(total: int, a: int, b: int, target: float) -> None:
    lo, hi = sorted((min(a, total), min(b, total)))
    c_lo, c_hi = exact_consumed(lo, total, target), exact_consumed(hi, total, target)
    assert c_lo <= c_hi
    assert STATES.index(state_of(c_lo)) <= STATES.index(state_of(c_hi))
    e = error_budget(events([total], [hi]), spec(target))
    assert e.consumed == pytest.approx(float(c_hi), rel=1e-12)


@settings(max_examples=40, deadline=None)
@given(
    k=st.integers(1, 10**6), target=st.sampled_from([0.9, 0.95, 0.99, 0.995, 0.999, 0.9999]), rows=st.integers(1, 50)
)
def test_window_at_exactly_the_objective_burns_at_rate_one(k: int, target: float, rows: int) -> None:
    total = k * 10_000
    bad = round(total * (1 - target))  # exact: total is a multiple of 10^4
    tot = np.full(rows, total // rows)
    tot[-1] += total - tot.sum()
    bads = np.zeros(rows, dtype=int)
    bads[0] = bad
    ev = events(tot, bads, freq="1min")
    b = error_budget(ev, spec(target))
    assert b.consumed == 1.0
    assert b.burn_rates["1h"] == 1.0  # all rows lie within the last hour
    assert b.status == "critical"


def test_burn_rates_on_empty_and_windows() -> None:
    assert burn_rates(events([], []), spec()) == {"1h": 0.0, "6h": 0.0, "1d": 0.0, "3d": 0.0}
    ev = events(np.full(3 * 1440, 10), np.r_[np.zeros(3 * 1440 - 60, int), np.ones(60, int)])
    r = burn_rates(ev, spec(0.99))
    assert r["1h"] == pytest.approx(10.0) and r["3d"] == pytest.approx(60 / (3 * 14400) / 0.01)


def test_burn_down_and_history_end_at_the_budget_figures() -> None:
    n = 2 * 1440
    rng = np.random.default_rng(3)
    tot = rng.integers(50, 150, n)
    bad = rng.binomial(tot, 0.0008)
    ev = events(tot, bad)
    s = spec(0.999, window=pd.Timedelta(days=1))
    b = error_budget(ev, s)
    down = burn_down(ev, s)
    assert down["time"].iloc[-1] == b.window_end
    assert down["consumed"].iloc[-1] == pytest.approx(b.consumed)
    assert down["consumed"].is_monotonic_increasing
    hist = burn_rate_history(ev, s)
    last = hist[hist["time"] == hist["time"].max()].set_index("window")["burn_rate"]
    for w, v in b.burn_rates.items():
        assert last[w] == pytest.approx(v)


def test_budget_policy_end_to_end() -> None:
    cfg = parse_config({"service": "s", "data": {"telemetry": "t.parquet"}})
    n = 3 * 1440
    tel = pd.concat(
        [
            telemetry("a", np.full(n, 100), np.r_[np.zeros(n - 10, int), np.full(10, 50)]),
            telemetry("b", np.full(n - 60, 10), np.zeros(n - 60, int)),
        ],
        ignore_index=True,
    )
    specs = [
        spec(0.999, name="a-availability", journey="a"),
        spec(0.99, name="b-availability", journey="b"),
        spec(0.99, name="ghost-availability", journey="ghost"),
    ]
    pol = budget_policy(tel, None, specs, cfg)
    assert pol.as_of == T0 + pd.Timedelta(days=3)  # end of the data, not the clock
    by = {b.slo: b for b in pol.budgets}
    assert by["a-availability"].bad_events == 500 and by["a-availability"].total_events == n * 100
    assert by["a-availability"].status == "critical"  # 500 bad > 0.001 × 432,000 = 432 allowed
    assert by["b-availability"].window_end == pol.as_of  # padded to the common end
    assert by["b-availability"].burn_rates["1h"] == 0.0
    assert by["ghost-availability"].total_events == 0
    assert any(q.topic == "no_events:ghost-availability" for q in pol.open_questions)
    d = pol.to_dict()
    json.dumps(d, allow_nan=False)
    assert set(d) == {"as_of", "slos", "states", "actions", "calendar", "corrections", "attribution", "breakdown"}
    assert d["corrections"] == []  # none configured
    assert d["states"]["critical"] == {"consumed_from": 1.0}
    assert set(d["actions"]) == set(STATES) and d["actions"]["critical"] == list(ACTIONS["critical"])
    assert set(pol.burn_down["slo"]) == {s.name for s in specs} - {"ghost-availability"}
    short = tables.budget_table({"error_budget_policy": d})
    full = tables.budget_table({"error_budget_policy": d}, detail=True)
    assert len(short) == len(full) == 3 and list(full["SLO"]) == [s.name for s in specs]
    assert set(full.columns) - set(short.columns) == {
        "window (UTC)",
        "bad / allowed events",
        "burn rate 1h / 6h / 1d / 3d",
    }
    assert full["bad / allowed events"][0] == "500 / 432 requests" and short["state"][0] == "critical"
    assert full["window (UTC)"][0] == "2023-12-07 00:00 → 2024-01-04 00:00"  # 28 days before the end of the data


def test_budget_policy_without_data() -> None:
    cfg = parse_config({"service": "s", "data": {"incidents": "i.csv"}})
    pol = budget_policy(None, None, [spec()], cfg)
    assert pol.as_of is None and pol.budgets == ()
    assert pol.open_questions[0].topic == "no_budget_data"
    d = pol.to_dict()
    json.dumps(d, allow_nan=False)
    assert d["as_of"] is None and d["slos"] == [] and set(d["actions"]) == set(STATES)


def test_latency_budget_uses_the_bucket_edge() -> None:
    tel = telemetry("j", [100, 100], [0, 0])
    tel["le_100"] = [90, 99]
    s = SLOSpec(name="j-latency", journey="j", sli="latency", target=0.9, threshold_ms=250)  # snaps to 100
    b = error_budget(sli_events(tel, None, s), s)
    assert b.bad_events == 11 and b.consumed == pytest.approx(11 / 20)
    assert tm.snap_edge([100, 500], 250) == 100


def test_threshold_below_the_smallest_edge_is_an_open_question_not_a_crash() -> None:
    from srekit.analysis.slo.propose import propose_slos

    cfg = parse_config(
        {
            "service": "s",
            "data": {"telemetry": "t.parquet"},
            "journeys": [{"name": "j", "slos": {"latency": {"threshold_ms": 50, "target": 0.99}}}],
        }
    )
    tel = telemetry("j", np.full(120, 10), np.zeros(120, int))
    prop = propose_slos(tel, None, cfg)
    lat = next(s for s in prop.slos if s.spec.sli == "latency")
    assert lat.spec.threshold_ms == 50.0 and "could not be evaluated" in lat.rationale
    pol = budget_policy(tel, None, prop.specs, cfg)
    assert any(q.topic == "budget_unavailable:j-latency" for q in pol.open_questions)
    assert "j-latency" not in {b.slo for b in pol.budgets}


def test_calendar_month_follows_the_service_timezone() -> None:
    """Review: calendar months began at UTC midnight while the OpenSLO export declares the
    service's ``timezone`` for the same calendar window. In Europe/Berlin March 2024 starts at
    2024-02-29 23:00 UTC and lasts 31 days − 1 hour (the DST switch on 31 March): its
    allowed outage at 99.9 % is 0.001 × 743 h = 44.58 min. The bad hour at 23:00 UTC on
    29 February belongs to March in Berlin."""
    cfg = parse_config(
        {
            "service": "s",
            "timezone": "Europe/Berlin",
            "data": {"telemetry": "t.parquet"},
            "slo": {"window_kind": "calendar_month", "window": "30d"},
        }
    )
    start = pd.Timestamp("2024-02-29 12:00", tz="UTC")
    n = 4 * 24  # to 2024-03-04 12:00 UTC
    errors = np.zeros(n, dtype=np.int64)
    errors[11] = 5  # 2024-02-29 23:00 UTC = 1 March 00:00 in Berlin
    tel = telemetry("a", np.full(n, 100), errors, start=start, freq="1h")
    s = spec(0.999, name="a-availability", journey="a", window=pd.Timedelta(days=30), window_kind="calendar_month")
    (b,) = budget_policy(tel, None, [s], cfg).budgets
    assert b.window_start == pd.Timestamp("2024-02-29 23:00", tz="UTC")
    assert b.window == pd.Timedelta(days=31) - pd.Timedelta(hours=1)
    assert b.allowed_outage.total_seconds() / 60 == pytest.approx(0.001 * 743 * 60)
    assert b.total_events == (n - 11) * 100 and b.bad_events == 5
    utc = budget_policy(tel, None, [s], parse_config({"service": "s", "data": {"telemetry": "t.parquet"}})).budgets[0]
    assert utc.window_start == pd.Timestamp("2024-03-01", tz="UTC") and utc.bad_events == 0  # UTC months as before


def test_allowed_bad_events_carry_no_float_noise() -> None:
    """Review: allowed bad events were (1.0 − 0.999) × 42,739,200 = 42,739.20000000004 in
    report.json; with the target read as its decimal (as ``exact_consumed``) it is 42,739.2."""
    b = error_budget(events([42_739_200], [43_430], freq="1D"), spec(0.999))
    assert b.allowed_bad_events == 42_739.2
    assert error_budget(events([100], [10]), spec(0.9)).allowed_bad_events == 10.0
