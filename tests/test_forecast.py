"""Monte Carlo budget forecast: hand-checkable means, determinism, monotonicity in the incident
rate, what-ifs, fitting from telemetry, and calibration against a known process."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from srekit.analysis.forecast.analyze import forecast_budget
from srekit.analysis.forecast.fit import daily_sums, fit_model
from srekit.analysis.forecast.model import BurnModel, WhatIf
from srekit.analysis.forecast.simulate import simulate
from srekit.analysis.incidents.counts import SliCounts
from srekit.analysis.incidents.log import to_us
from srekit.core.spec import SLOSpec
from srekit.inputs.config import ServiceConfig
from srekit.inputs.telemetry import sli_counts

CFG = ServiceConfig(service="shop")
T0 = pd.Timestamp("2024-01-01", tz="UTC")
SPEC = SLOSpec("checkout-availability", "checkout", "availability", 0.999)


def _model(
    incidents: int = 6,
    history_days: float = 60.0,
    bg: tuple[float, ...] = (0.5, 1.0),
    pairs: tuple[tuple[float, float], ...] = ((30.0, 0.3), (60.0, 0.2)),
) -> BurnModel:
    return BurnModel(
        slo="s",
        window_days=28,
        budget_minutes=40.32,
        incidents=incidents,
        history_days=history_days,
        durations_minutes=tuple(p[0] for p in pairs),
        intensities=tuple(p[1] for p in pairs),
        background_daily=bg,
    )


def test_background_only_is_exact() -> None:
    m = BurnModel("s", 28, 40.32, 0, 60.0, (), (), (1.0,))
    sim = simulate(m, rng=np.random.default_rng(0), runs=50)
    assert np.allclose(sim.cumulative[:, -1], 28 / 40.32)
    assert np.allclose(sim.cumulative[:, 0], 1 / 40.32)


def test_mean_consumption_matches_the_compound_poisson_mean() -> None:
    # E[incidents per window] = W·(n + ½)/H (Gamma–Poisson), E[impact] = mean of duration×intensity
    m = _model()
    sim = simulate(m, rng=np.random.default_rng(1), runs=20_000)
    expected = (28 * 0.75 + 28 * 6.5 / 60 * (30 * 0.3 + 60 * 0.2) / 2) / 40.32
    assert sim.cumulative[:, -1].mean() == pytest.approx(expected, rel=0.02)


def test_same_seed_same_forecast() -> None:
    tel, inc = _history()
    a = forecast_budget(tel, inc, (SPEC,), CFG, rng=np.random.default_rng(5), runs=2000).to_dict()
    b = forecast_budget(tel, inc, (SPEC,), CFG, rng=np.random.default_rng(5), runs=2000).to_dict()
    c = forecast_budget(tel, inc, (SPEC,), CFG, rng=np.random.default_rng(6), runs=2000).to_dict()
    assert a == b
    assert a != c
    json.dumps(a)


@settings(max_examples=20, deadline=None)
@given(
    st.integers(min_value=0, max_value=30),
    st.integers(min_value=1, max_value=30),
    st.integers(min_value=0, max_value=2**32 - 1),
)
def test_exhaustion_probability_rises_with_the_incident_rate(n: int, extra: int, seed: int) -> None:
    lo = simulate(_model(incidents=n), rng=np.random.default_rng(seed), runs=4000).cumulative[:, -1]
    hi = simulate(_model(incidents=n + extra), rng=np.random.default_rng(seed), runs=4000).cumulative[:, -1]
    assert (hi >= 1).mean() >= (lo >= 1).mean() - 0.01  # Monte Carlo noise ≤ 1 point at 4000 runs
    assert hi.mean() > lo.mean()


def test_what_ifs_use_common_random_numbers() -> None:
    m = _model(incidents=20)
    wis = (
        WhatIf("none"),
        WhatIf("fewer", fewer_incidents=0.5),
        WhatIf("faster", faster_resolution=0.5),
        WhatIf("detect", faster_detection=pd.Timedelta(minutes=10)),
    )
    sim = simulate(m, rng=np.random.default_rng(2), runs=5000, what_ifs=wis)
    base = sim.cumulative[:, -1]
    assert np.allclose(sim.what_if_final["none"], base)
    bg = base - (base - sim.what_if_final["faster"]) * 2  # halving durations halves incident burn
    inc_part = base - bg
    assert np.all(sim.what_if_final["faster"] <= base + 1e-12)
    assert sim.what_if_final["fewer"].mean() == pytest.approx(base.mean() - 0.5 * inc_part.mean(), rel=0.03)
    # −10 min from 30- and 60-min incidents with intensities 0.3 / 0.2: −3 and −2 budget minutes each
    assert np.all(sim.what_if_final["detect"] <= base + 1e-12)


def test_faster_detection_is_capped_by_each_incidents_time_to_detect() -> None:
    # one kind of incident: 30 min at half the traffic failing, detected after 4 minutes
    m = BurnModel("s", 28, 40.32, 10, 60.0, (30.0,), (0.5,), (0.0,), detect_minutes=(4.0,))
    sim = simulate(
        m, rng=np.random.default_rng(3), runs=2000, what_ifs=(WhatIf("d", faster_detection=pd.Timedelta(minutes=10)),)
    )
    base, faster = sim.cumulative[:, -1], sim.what_if_final["d"]
    hit = base > 0
    assert hit.any()
    assert np.allclose(faster[hit] / base[hit], 26 / 30)  # 4 of 30 minutes saved, not 10
    unknown = BurnModel("s", 28, 40.32, 10, 60.0, (30.0,), (0.5,), (0.0,))
    sim2 = simulate(
        unknown,
        rng=np.random.default_rng(3),
        runs=2000,
        what_ifs=(WhatIf("d", faster_detection=pd.Timedelta(minutes=10)),),
    )
    assert np.allclose(sim2.what_if_final["d"][hit] / base[hit], 20 / 30)


def _history(
    days: int = 60, starts: tuple[int, ...] = (3, 10, 11, 25, 40, 52), share: float = 0.3, seed: int = 1
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """One-minute telemetry with Poisson traffic (mean 100/min), background errors 0.05% and
    outages of known error share starting at 10:00 on the given days."""
    rng = np.random.default_rng(seed)
    n = days * 1440
    idx = pd.date_range(T0, periods=n, freq="min", tz="UTC")
    tot = rng.poisson(100, n)
    err = rng.binomial(tot, 0.0005)
    rows = []
    for i, d in enumerate(starts):
        s, length = d * 1440 + 600, 20 + 10 * i
        err[s : s + length] = rng.binomial(tot[s : s + length], share)
        rows.append(
            {
                "id": f"I{i}",
                "started_at": idx[s],
                "detected_at": idx[s] + pd.Timedelta(minutes=5),
                "resolved_at": idx[s] + pd.Timedelta(minutes=length),
                "journey": "checkout",
            }
        )
    tel = pd.DataFrame(
        {"journey": "checkout", "interval_start": idx, "total": tot, "errors": err, "le_100": tot, "le_250": tot}
    )
    return tel, pd.DataFrame(rows)


def test_fit_recovers_the_injected_process() -> None:
    tel, inc = _history()
    m = fit_model(tel, inc, SPEC)
    assert m.incidents == 6 and m.history_days == 60
    assert m.budget_minutes == pytest.approx(28 * 1440 * 0.001)
    assert m.durations_minutes == (20, 30, 40, 50, 60, 70)
    assert m.detect_minutes == (5,) * 6
    assert np.median(m.intensities) == pytest.approx(0.3 - 0.0005, abs=0.02)
    assert len(m.background_daily) == 60 - 6  # quiet days (day 10 and 11 each hold one incident)
    assert np.median(m.background_daily) == pytest.approx(0.0005 * 1440, rel=0.15)
    lo, hi = m.rate_interval()
    assert lo < 6 / 60 < hi


def test_forecast_payload_and_what_ifs() -> None:
    tel, inc = _history()
    f = forecast_budget(tel, inc, (SPEC,), CFG, rng=np.random.default_rng(0), runs=5000)
    d = f.to_dict()
    s = d["per_slo"][0]
    assert d["runs"] == 5000 and d["window_days"] == 28
    assert 0 < s["p_exhaust"] < 1
    q = s["consumed_quantiles"]
    assert q["p10"] <= q["p50"] <= q["p90"]
    assert 1 <= s["exhaustion_day_median"] <= 28
    assert list(s["fan"]) == [str(i) for i in range(1, 29)]
    assert s["fan"]["28"]["p50"] == pytest.approx(q["p50"])
    assert all(s["fan"][str(i)]["p50"] <= s["fan"][str(i + 1)]["p50"] for i in range(1, 28))
    wi = {w["name"]: w for w in d["what_ifs"]}
    assert set(wi) == {"fewer incidents", "faster resolution", "faster detection"}
    for w in wi.values():
        assert w["delta_p_exhaust"] <= 0 and w["delta_budget_minutes"] < 0
        assert w["budget_minutes"] == pytest.approx(s["expected_budget_minutes"] + w["delta_budget_minutes"])
    assert d["model"]["per_slo"]["checkout-availability"]["impacts_measured"] == 6
    json.dumps(d)


def test_shared_sli_counts_change_nothing() -> None:
    tel, inc = _history()
    lat = SLOSpec("checkout-latency", "checkout", "latency", 0.98, threshold_ms=100)
    counts = SliCounts(tel)
    alone = forecast_budget(tel, inc, (SPEC, lat), CFG, rng=np.random.default_rng(3), runs=500)
    shared = forecast_budget(tel, inc, (SPEC, lat), CFG, rng=np.random.default_rng(3), runs=500, counts=counts)
    assert json.dumps(shared.to_dict()) == json.dumps(alone.to_dict())
    assert counts(SPEC) is counts(SLOSpec("other-name", "checkout", "availability", 0.9))  # one per SLI
    pd.testing.assert_frame_equal(counts(lat), sli_counts(tel, "checkout", "latency", threshold_ms=100))
    assert fit_model(tel, inc, SPEC, counts=counts) == fit_model(tel, inc, SPEC)


def test_sli_counts_keep_the_last_few_slos_only() -> None:
    """Hundreds of SLOs: SliCounts holds at most KEEP grids (not one per SLO through the whole
    report), the recently used ones shared, the others measured again with the same result."""
    tel, _ = _history()
    counts = SliCounts(tel)
    specs = [SLOSpec(f"l{t}", "checkout", "latency", 0.98, threshold_ms=float(t)) for t in range(100, 100 + 3 * 16)]
    first = [counts(s) for s in specs]
    assert len(counts._memo) == SliCounts.KEEP < len(specs)
    assert counts(specs[-1]) is first[-1]  # kept: shared
    again = counts(specs[0])  # dropped: measured again, the same counts
    assert again is not first[0]
    pd.testing.assert_frame_equal(again, first[0])
    pd.testing.assert_frame_equal(again, sli_counts(tel, "checkout", "latency", threshold_ms=100.0))
    assert counts(specs[-1]) is first[-1] and len(counts._memo) == SliCounts.KEEP


def test_daily_sums_equal_the_groupby_by_floored_day() -> None:
    rng = np.random.default_rng(1)
    for idx in (
        pd.date_range("2026-08-02 00:03", periods=3000, freq="1min", tz="UTC"),
        pd.date_range("1969-12-30 13:00", periods=300, freq="17min", tz="UTC"),  # before the epoch
        pd.date_range("2026-03-28", periods=500, freq="10min", tz="Europe/Berlin"),
    ):  # local days: groupby
        bad = rng.integers(0, 5, len(idx))
        out = rng.integers(0, 2, len(idx)).astype(bool)
        ref = (
            pd.DataFrame({"bad_out": np.where(out, bad, 0), "n_out": out.astype(int), "n": 1}, index=idx)
            .groupby(idx.floor("D"))
            .sum()
        )
        got = daily_sums(idx, to_us(idx), np.where(out, bad, 0), out.astype(int))
        pd.testing.assert_frame_equal(got, ref, check_exact=True, check_freq=False)


def test_latency_slo_and_missing_inputs() -> None:
    tel, inc = _history(days=10, starts=(2, 5))
    tel["le_100"] = tel["total"] - 1  # one request a minute slower than 100 ms: 1% of ~100/min
    lat = SLOSpec("checkout-latency", "checkout", "latency", 0.98, threshold_ms=100)
    f = forecast_budget(tel, inc, (lat,), CFG, rng=np.random.default_rng(0), runs=1000)
    # background alone burns half the budget (1% bad of a 2% budget); no latency incidents
    assert f.per_slo[0].consumed_quantiles()["p50"] == pytest.approx(0.5, rel=0.05)
    kept = f.per_slo[0].consumed  # one value per run, not a view holding every run's every day
    assert kept.shape == (1000,) and (kept.base is None or kept.base.nbytes == kept.nbytes)
    none = forecast_budget(None, inc, (lat,), CFG, rng=np.random.default_rng(0))
    assert none.per_slo == () and [q.topic for q in none.open_questions] == ["forecast_inputs"]
    no_inc = forecast_budget(tel, None, (SPEC,), CFG, rng=np.random.default_rng(0), runs=1000)
    assert {w.delta_p_exhaust for w in no_inc.what_ifs} == {0.0}
    assert "forecast_incidents" in [q.topic for q in no_inc.open_questions]
    other = SLOSpec("search", "search", "availability", 0.99)
    ts = SLOSpec("ts", "checkout", "timeslice", 0.99, threshold_ms=300)
    skipped = forecast_budget(tel, inc, (other, ts), CFG, rng=np.random.default_rng(0), runs=100)
    assert skipped.per_slo == () and len(skipped.open_questions) == 2
    json.dumps(skipped.to_dict())


def test_calibration_against_a_known_process() -> None:
    """Histories from a known compound process → fitted forecast → one realised future window.

    Tolerance: the mean predicted exhaustion probability must match the realised frequency
    within 3 binomial standard errors, overall and in each third of the predictions.
    """
    rng = np.random.default_rng(2024)
    trials, horizon, history, budget = 300, 28, 120, 40.32
    predicted, realised = [], []

    def impacts(k: int) -> tuple[np.ndarray, np.ndarray]:
        return rng.lognormal(3.5, 0.8, k), rng.beta(2, 5, k)

    for _ in range(trials):
        lam, bg_mean = rng.uniform(0.03, 0.4), rng.uniform(0.2, 1.0)
        n = int(rng.poisson(lam * history))
        dur, inten = impacts(n)
        bg = rng.gamma(4.0, bg_mean / 4.0, history)
        m = BurnModel("s", horizon, budget, n, float(history), tuple(dur), tuple(inten), tuple(bg))
        predicted.append((simulate(m, rng=rng, runs=1000).cumulative[:, -1] >= 1).mean())
        d2, i2 = impacts(int(rng.poisson(lam * horizon)))
        realised.append(rng.gamma(4.0, bg_mean / 4.0, horizon).sum() + (d2 * i2).sum() >= budget)
    p, r = np.array(predicted), np.array(realised, float)
    se = np.sqrt(np.sum(p * (1 - p))) / len(p)
    assert abs(p.mean() - r.mean()) <= 3 * se
    for part in np.array_split(np.argsort(p), 3):
        se_b = np.sqrt(np.sum(p[part] * (1 - p[part]))) / len(part)
        assert abs(p[part].mean() - r[part].mean()) <= max(3 * se_b, 0.02)
    assert p.min() < 0.2 and p.max() > 0.8  # the trials cover the whole range


def test_journey_without_traffic_is_skipped_with_a_question() -> None:
    tel, inc = _history(days=7, starts=(1,))
    quiet = tel.assign(journey="idle", total=0, errors=0, le_100=0, le_250=0)
    f = forecast_budget(
        pd.concat([tel, quiet]),
        inc,
        (SPEC, SLOSpec("idle", "idle", "availability", 0.99)),
        CFG,
        rng=np.random.default_rng(0),
        runs=500,
    )
    assert [p.slo for p in f.per_slo] == ["checkout-availability"]
    assert [q.topic for q in f.open_questions] == ["forecast_journey_idle"]
    json.dumps(f.to_dict(), allow_nan=False)


def test_fewer_than_seven_days_of_telemetry_are_not_forecast_and_say_why() -> None:
    tel, inc = _history(days=3, starts=(1,))
    f = forecast_budget(tel, inc, (SPEC,), CFG, rng=np.random.default_rng(0), runs=500)
    assert f.per_slo == () and [q.topic for q in f.open_questions] == ["forecast_history"]
    ((slo, why),) = f.skipped
    assert slo == "checkout-availability"
    assert "the telemetry touches 3 days, too few to simulate a 28-day window (at least 7 are needed" in why
    assert f.to_dict()["skipped"] == [{"slo": slo, "reason": why}]


def test_display_tables_read_the_payload() -> None:
    """The forecast page and the report page show the same tables, built from report.json's section."""
    from srekit.report import tables

    tel, inc = _history()
    fc = forecast_budget(tel, inc, (SPEC,), CFG, rng=np.random.default_rng(0), runs=2000).to_dict()
    view = {"error_budget_policy": {"forecast": fc}}
    short, long = tables.forecast_table(view), tables.forecast_table(view, detail=True)
    assert short.columns.tolist() == [
        "SLO",
        "chance of running out",
        "budget used (likely)",
        "range (10%–90%)",
        "days in window",
    ]
    assert set(short.columns) < set(long.columns)
    assert long.loc[0, "target"] == "99.90%" and long.loc[0, "budget (minutes of full outage)"] == "40.3"
    assert long.loc[0, "chance of running out"] == f"{100 * fc['per_slo'][0]['p_exhaust']:.0f}%"
    what_ifs = tables.what_if_table(view)
    assert what_ifs["improvement"].tolist() == ["fewer incidents", "faster resolution", "faster detection"]
    saved = -fc["what_ifs"][0]["delta_budget_minutes"]
    assert what_ifs.loc[0, "budget minutes saved"] == f"{saved:,.1f}"
    model = tables.model_table(view)
    assert model.loc[0, "incidents in history"] == 6 and model.loc[0, "incidents measured on telemetry"] == 6
    empty = {
        "error_budget_policy": {
            "forecast": forecast_budget(None, None, (), CFG, rng=np.random.default_rng(0)).to_dict()
        }
    }
    for table in (tables.forecast_table, tables.what_if_table, tables.model_table):
        assert table(empty).empty and len(table(empty).columns)
