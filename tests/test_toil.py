"""Toil inventory, on-call floor and automation ROI (srekit.analysis.toil)."""

from __future__ import annotations

import json

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from srekit.analysis.toil.analyze import analyze_toil
from srekit.analysis.toil.inventory import weekly_trend
from srekit.analysis.toil.roi import Estimate, break_even_hours, simulate_roi
from srekit.analysis.toil.share import CAP, DEFAULT_TEAM_SIZE
from srekit.core.errors import ConfigError, InputError
from srekit.inputs.config import parse_config
from srekit.report import tables


def cfg(**toil):
    raw = {"service": "svc", "data": {"toil": "toil.csv"}}
    oncall = toil.pop("oncall", None)
    if oncall:
        raw["oncall"] = oncall
    if toil:
        raw["toil"] = toil
    return parse_config(raw)


def daily_log(task="restart", days=28, minutes=30.0, start="2026-01-05", **extra):
    dates = pd.date_range(start, periods=days, freq="D", tz="UTC")
    return pd.DataFrame({"date": dates, "task": task, "minutes": minutes, **extra})


def payload(report):
    out = report.to_dict()
    json.dumps(out, allow_nan=False)  # JSON-ready: no NaN/inf, no timestamps
    return out


# ---------------------------------------------------------------- deterministic break-even


def test_break_even_matches_xkcd_1205():
    # xkcd 1205: shave 1 minute off a task done 5 times a day, over 5 years → about 6 days.
    h = 1 * 5 * 7 / 60  # hours per week the saving is worth
    hours = break_even_hours(h, 1.0, 0.0, 5 * 365 / 7)
    assert hours == pytest.approx(9125 / 60)  # 1 min × 5/day × 1825 days
    assert hours / 24 == pytest.approx(6.34, abs=0.01)


def test_break_even_nets_maintenance_and_never_goes_negative():
    assert break_even_hours(2.0, 0.5, 0.25, 52) == pytest.approx((1.0 - 0.25) * 52)
    assert break_even_hours(1.0, 0.1, 0.5, 52) == 0.0


def test_candidate_break_even_equals_formula_hand_checked():
    # 30 min a day for 4 weeks = 3.5 h/week; reduction 0.8, upkeep 0.5 h/week, 52 weeks:
    # (3.5 × 0.8 − 0.5) × 52 = 2.3 × 52 = 119.6 hours.
    config = cfg(
        team_size=5,
        automation={
            "restart": {"cost_hours": [10, 20, 40], "expected_reduction": 0.8, "maintenance_hours_per_week": 0.5}
        },
    )
    rep = analyze_toil(daily_log(), None, config, rng=np.random.default_rng(0), runs=500)
    (c,) = rep.candidates
    assert c.hours_per_week == pytest.approx(3.5)
    assert c.break_even_hours == pytest.approx(119.6)
    assert payload(rep)["candidates"][0]["break_even_hours"] == pytest.approx(119.6)
    assert c.estimates_source == "config"


# ---------------------------------------------------------------- Monte Carlo ROI


def test_roi_deterministic_for_a_seed():
    log = pd.concat([daily_log("restart"), daily_log("rotate certs", minutes=15.0)])
    a = payload(analyze_toil(log, None, cfg(team_size=4), rng=np.random.default_rng(7), runs=2000))
    b = payload(analyze_toil(log, None, cfg(team_size=4), rng=np.random.default_rng(7), runs=2000))
    c = payload(analyze_toil(log, None, cfg(team_size=4), rng=np.random.default_rng(8), runs=2000))
    assert a == b
    assert a["candidates"] != c["candidates"]


def test_roi_without_uncertainty_equals_deterministic_case():
    h, cost, r, m, horizon = 3.5, 40.0, 0.8, 0.5, 52
    u = np.random.default_rng(1).random((1000, 3))
    roi, net, payback = simulate_roi(h, Estimate(cost, cost, cost), Estimate(r, r, r), Estimate(m, m, m), horizon, u)
    saved = h * r - m  # 2.3 h/week
    assert roi.p_payback_within_horizon == 1.0
    assert roi.p_never_pays_back == 0.0
    assert roi.payback_weeks == pytest.approx((cost / saved,) * 3)
    assert roi.net_hours_saved == pytest.approx((break_even_hours(h, r, m, horizon) - cost,) * 3)
    assert np.allclose(net, saved * horizon - cost)
    # a cost above the break-even never pays back within the horizon
    big = break_even_hours(h, r, m, horizon) + 1
    roi2, _, _ = simulate_roi(h, Estimate(big, big, big), Estimate(r, r, r), Estimate(m, m, m), horizon, u)
    assert roi2.p_payback_within_horizon == 0.0


def test_roi_never_pays_back_when_upkeep_exceeds_saving():
    u = np.random.default_rng(2).random((500, 3))
    roi, _, payback = simulate_roi(0.5, Estimate(10, 10, 10), Estimate(0.5, 0.5, 0.5), Estimate(1, 1, 1), 52, u)
    assert roi.p_never_pays_back == 1.0 and roi.p_payback_within_horizon == 0.0
    assert roi.payback_weeks == (None, None, None)
    assert np.isinf(payback).all()
    json.dumps(roi.to_dict(), allow_nan=False)


def test_pert_samples_stay_in_range_with_the_pert_mean():
    est = Estimate(8, 24, 80)
    x = est.ppf(np.random.default_rng(3).random(50_000))
    assert x.min() >= 8 and x.max() <= 80
    assert x.mean() == pytest.approx((8 + 4 * 24 + 80) / 6, rel=0.02)  # PERT mean (a + 4m + b)/6


U = np.random.default_rng(11).random((400, 3))


@settings(max_examples=40, deadline=None)
@given(
    h=st.floats(0.1, 20),
    extra=st.floats(0.0, 20),
    low=st.floats(0, 100),
    d1=st.floats(0, 100),
    d2=st.floats(0, 100),
)
def test_more_hours_saved_never_lowers_p_payback(h, extra, low, d1, d2):
    cost = Estimate(low, low + d1, low + d1 + d2)
    red, maint = Estimate(0.3, 0.7, 0.9), Estimate(0.0, 0.5, 2.0)
    base, _, _ = simulate_roi(h, cost, red, maint, 52, U)
    more, _, _ = simulate_roi(h + extra, cost, red, maint, 52, U)
    assert more.p_payback_within_horizon >= base.p_payback_within_horizon
    assert more.net_hours_saved[1] >= base.net_hours_saved[1] - 1e-9


@settings(max_examples=40, deadline=None)
@given(
    h=st.floats(0.1, 20),
    low=st.floats(0, 100),
    d1=st.floats(0, 100),
    d2=st.floats(0, 100),
    shift=st.floats(0, 200),
    scale=st.floats(1, 5),
)
def test_higher_cost_never_raises_p_payback(h, low, d1, d2, shift, scale):
    cheap = Estimate(low, low + d1, low + d1 + d2)
    dear = Estimate(cheap.low * scale + shift, cheap.likely * scale + shift, cheap.high * scale + shift)
    red, maint = Estimate(0.3, 0.7, 0.9), Estimate(0.0, 0.5, 2.0)
    a, _, _ = simulate_roi(h, cheap, red, maint, 52, U)
    b, _, _ = simulate_roi(h, dear, red, maint, 52, U)
    assert b.p_payback_within_horizon <= a.p_payback_within_horizon


# ---------------------------------------------------------------- inventory and trend


def test_inventory_hours_and_shares_hand_checked():
    # restart: 30 min/day for 28 days = 3.5 h/week; certs: 2 h every Monday = 2 h/week.
    log = pd.concat(
        [
            daily_log("restart", category="ops", engineer="ann", automatable=True),
            pd.DataFrame(
                {
                    "date": pd.date_range("2026-01-05", periods=4, freq="7D", tz="UTC"),
                    "task": "certs",
                    "minutes": 120.0,
                    "category": "maintenance",
                    "engineer": "bob",
                    "automatable": False,
                }
            ),
        ]
    )
    rep = analyze_toil(log, None, cfg(team_size=2, hours_per_week=40), rng=np.random.default_rng(0), runs=100)
    out = payload(rep)
    assert out["source"] == "toil_log"
    assert out["period"]["weeks"] == pytest.approx(4.0)
    inv = {t["task"]: t for t in out["inventory"]}
    assert inv["restart"]["hours_per_week"] == pytest.approx(3.5)
    assert inv["restart"]["occurrences_per_week"] == pytest.approx(7.0)
    assert inv["certs"]["hours_per_week"] == pytest.approx(2.0)
    assert inv["restart"]["share_of_team_time"] == pytest.approx(3.5 / 80)
    assert inv["restart"]["share_of_toil"] == pytest.approx(3.5 / 5.5)
    assert out["toil_hours_per_week"] == pytest.approx(5.5)
    assert out["share_of_team_time"] == pytest.approx(5.5 / 80)
    assert out["cap"] == CAP == 0.5 and out["over_cap"] is False
    assert [c["category"] for c in out["by_category"]] == ["ops", "maintenance"]
    # certs is marked not automatable: only restart is a candidate
    assert [c["task"] for c in out["candidates"]] == ["restart"]
    assert out["inventory"][0]["task"] == "restart"  # biggest first
    view = {"toil": out}
    assert len(tables.toil_table(view)) == 2 and len(tables.candidates_table(view)) == 1
    detail = tables.toil_table(view, detail=True).set_index("task")
    assert detail.loc["restart", "times per week"] == "7.0"
    assert detail.loc["restart", "share of team time"] == "4.4%"  # 3.5 / 80 h
    assert detail.loc["certs", "can be automated"] == "no"
    assert detail.loc["restart", "trend"] == "flat"  # the same 3.5 h every week
    assert detail.loc["restart", "change (h/week per week, 90% interval)"] == "+0.00 [+0.00, +0.00]"


def test_trend_on_a_growing_task():
    rng = np.random.default_rng(5)
    rows = []
    for week in range(10):  # 2 h/week growing by 1 h/week, spread over the week's days, with noise
        for day in range(7):
            minutes = (2 + week) * 60 / 7 + rng.normal(0, 3)
            rows.append(
                {
                    "date": pd.Timestamp("2026-01-05", tz="UTC") + pd.Timedelta(days=7 * week + day),
                    "task": "grow",
                    "minutes": max(minutes, 0.0),
                }
            )
    rows += [
        {"date": pd.Timestamp("2026-01-05", tz="UTC") + pd.Timedelta(days=d), "task": "steady", "minutes": 60.0}
        for d in range(0, 70, 7)
    ]
    rep = analyze_toil(pd.DataFrame(rows), None, cfg(team_size=3), rng=np.random.default_rng(0), runs=100)
    inv = {t.task: t for t in rep.inventory}
    tr = inv["grow"].trend
    assert tr is not None and tr.weeks == 10
    assert tr.slope == pytest.approx(1.0, abs=0.1)
    assert tr.low <= 1.0 <= tr.high and tr.direction == "growing"
    assert inv["steady"].trend.direction == "flat" and inv["steady"].trend.slope == 0.0
    import matplotlib.pyplot as plt

    from srekit.report.plots.toil import plot_toil_trend

    ax = plot_toil_trend(rep, top=1)  # the chart's weekly hours: the biggest task only
    assert [line.get_label() for line in ax.get_lines()] == ["grow"]
    assert ax.get_lines()[0].get_ydata() == pytest.approx(rep.weekly["grow"].to_numpy())
    plt.close(ax.figure)


def test_trend_needs_three_full_weeks():
    assert weekly_trend([1.0, 2.0]) is None
    rep = analyze_toil(daily_log(days=16), None, cfg(team_size=3), rng=np.random.default_rng(0), runs=10)
    assert rep.inventory[0].trend is None  # 2 full weeks + 2 days
    assert payload(rep)["inventory"][0]["trend"] is None
    assert "toil_period" in {q.topic for q in rep.open_questions}


def test_short_last_week_is_scaled_to_a_week():
    rep = analyze_toil(daily_log(days=10, minutes=60.0), None, cfg(team_size=3), rng=np.random.default_rng(0), runs=10)
    assert rep.weekly["restart"].tolist() == pytest.approx([7.0, 7.0])  # 3 days × 1 h scaled ×7/3


# ---------------------------------------------------------------- pages, on-call floor, defaults


def pages(n_days=14, per_day=2, severity="page"):
    ts = [
        pd.Timestamp("2026-02-02 03:00", tz="UTC") + pd.Timedelta(days=d, hours=h)
        for d in range(n_days)
        for h in range(per_day)
    ]
    return pd.DataFrame(
        {
            "timestamp": ts,
            "alert": ["HighErrorRate", "DiskFull"] * (len(ts) // 2),
            "severity": severity,
            "actionable": True,
            "incident_id": pd.NA,
        }
    )


def test_estimate_from_pages_when_no_toil_log():
    config = cfg(team_size=4, oncall={"coverage": "24x7", "handling_minutes_per_page": 30})
    rep = analyze_toil(None, pages(), config, rng=np.random.default_rng(0), runs=200)
    out = payload(rep)
    assert out["source"] == "estimated_from_pages"
    # 28 pages in 14 days = 14 pages/week × 30 min = 7 h/week; 2 alert names, 3.5 h/week each
    assert out["toil_hours_per_week"] == pytest.approx(7.0)
    assert {t["task"]: t["hours_per_week"] for t in out["inventory"]} == pytest.approx(
        {"HighErrorRate": 3.5, "DiskFull": 3.5}
    )
    assert out["oncall_floor"]["pages_per_week"] == pytest.approx(14.0)
    assert out["oncall_floor"]["share"] == pytest.approx(7.0 / 160)
    assert out["oncall_floor"]["rotation_share"] == pytest.approx(0.25)
    q = {q.topic: q for q in rep.open_questions}
    assert "toil_source" in q and "30 minutes" in q["toil_source"].assumption
    assert "automation_estimates" in q
    assert len(out["candidates"]) == 2


def test_oncall_floor_lifts_share_above_a_thin_log():
    config = cfg(team_size=2, oncall={"handling_minutes_per_page": 60})
    log = daily_log(days=14, minutes=6.0)  # 0.7 h/week logged
    rep = analyze_toil(log, pages(per_day=2), config, rng=np.random.default_rng(0), runs=50)
    out = payload(rep)
    assert out["logged_share_of_team_time"] == pytest.approx(0.7 / 80)
    assert out["oncall_floor"]["hours_per_week"] == pytest.approx(14.0)
    assert out["share_of_team_time"] == pytest.approx(14.0 / 80)
    assert "toil_oncall_floor" in {q.topic for q in rep.open_questions}


def test_over_cap_is_flagged():
    log = daily_log(days=28, minutes=8 * 60.0)  # 56 h/week for one engineer team
    rep = analyze_toil(log, None, cfg(team_size=1), rng=np.random.default_rng(0), runs=10)
    out = payload(rep)
    assert out["share_of_team_time"] == 1.0 and out["over_cap"] is True
    assert "toil_capacity" in {q.topic for q in rep.open_questions}


def test_no_inputs_is_not_a_crash():
    rep = analyze_toil(None, None, cfg(), rng=np.random.default_rng(0))
    out = payload(rep)
    assert out["source"] == "none" and out["inventory"] == [] and out["candidates"] == []
    assert out["team"]["size"] == DEFAULT_TEAM_SIZE
    assert {"toil_source", "toil_team_size"} <= {q.topic for q in rep.open_questions}


def test_team_size_falls_back_to_engineers_in_the_log():
    log = pd.concat([daily_log(engineer="ann"), daily_log(engineer="bob"), daily_log(engineer="cy")])
    rep = analyze_toil(log, None, cfg(), rng=np.random.default_rng(0), runs=10)
    assert rep.team_size == 3 and rep.team_size_source == "engineers in the toil log"


# ---------------------------------------------------------------- self-healing, config, input errors


def test_self_healing_only_with_a_named_rollback():
    auto = {
        "restart": {"self_healing": "restart the worker pool", "rollback": "feature flag pool_autorestart=off"},
        "rotate certs": {"self_healing": "renew certificates automatically"},
    }
    log = pd.concat([daily_log("restart"), daily_log("rotate certs", minutes=20.0)])
    rep = analyze_toil(log, None, cfg(team_size=3, automation=auto), rng=np.random.default_rng(0), runs=50)
    out = {c["task"]: c for c in payload(rep)["candidates"]}
    assert out["restart"]["self_healing"] == {
        "action": "restart the worker pool",
        "rollback": "feature flag pool_autorestart=off",
    }
    assert "self_healing" not in out["rotate certs"]
    assert "self_healing_rollback" in {q.topic for q in rep.open_questions}


@pytest.mark.parametrize(
    "spec",
    [
        {"cost_hours": [30, 20, 10]},
        {"cost_hours": [1, 2]},
        {"expected_reduction": 1.5},
        {"maintenance_hours_per_week": -1},
        {"budget": 3},
    ],
)
def test_bad_automation_config_is_a_config_error(spec):
    with pytest.raises(ConfigError, match=r"toil\.automation"):
        analyze_toil(
            daily_log(), None, cfg(team_size=2, automation={"restart": spec}), rng=np.random.default_rng(0), runs=10
        )


def test_bad_toil_frame_is_an_input_error():
    bad = daily_log().assign(minutes=[-5.0] + [30.0] * 27)
    with pytest.raises(InputError, match="row 1"):
        analyze_toil(bad, None, cfg(), rng=np.random.default_rng(0))
    with pytest.raises(InputError, match="task"):
        analyze_toil(daily_log().drop(columns="task"), None, cfg(), rng=np.random.default_rng(0))
    with pytest.raises(InputError, match="automatable"):
        analyze_toil(daily_log(automatable="maybe"), None, cfg(), rng=np.random.default_rng(0))


# ---------------------------------------------------------------- plots


def test_plots_draw_the_report():
    import matplotlib.pyplot as plt

    from srekit.report import tables
    from srekit.report.contract import jsonable
    from srekit.report.plots.toil import plot_roi, plot_share_vs_cap, plot_toil_hours, plot_toil_trend

    log = pd.concat([daily_log("restart", days=35), daily_log("rotate certs", days=35, minutes=20.0)])
    rep = analyze_toil(log, pages(), cfg(team_size=3), rng=np.random.default_rng(0), runs=300)
    hours = tables.toil_hours({"toil": jsonable(rep.to_dict())})
    for fn, data in [
        (plot_toil_hours, hours),
        (plot_toil_trend, rep),
        (plot_share_vs_cap, rep),
        (plot_roi, rep),
    ]:
        ax = fn(data)
        assert ax.get_title() and ax.get_xlabel()
        plt.close(ax.figure)
    ax = plot_toil_hours(hours)
    assert sorted(p.get_width() for p in ax.patches) == pytest.approx([20 / 60 * 7, 3.5])
    plt.close(ax.figure)


def test_days_are_counted_in_the_service_timezone():
    # io stores a Berlin date 2026-08-03 as 2026-08-02 22:00 UTC (CEST, UTC+2)
    dates = pd.date_range("2026-08-03", periods=14, freq="D", tz="Europe/Berlin").tz_convert("UTC")
    log = pd.DataFrame({"date": dates, "task": "restart", "minutes": 60.0})
    config = parse_config(
        {"service": "s", "timezone": "Europe/Berlin", "data": {"toil": "t.csv"}, "toil": {"team_size": 2}}
    )
    out = payload(analyze_toil(log, None, config, rng=np.random.default_rng(0), runs=10))
    assert out["period"] == {"start": "2026-08-03", "end": "2026-08-17", "weeks": 2.0}
    assert out["inventory"][0]["hours_per_week"] == pytest.approx(7.0)


def test_configured_automation_overrides_the_log_flag():
    log = daily_log(automatable=False)
    plain = analyze_toil(log, None, cfg(team_size=2), rng=np.random.default_rng(0), runs=10)
    assert plain.candidates == ()
    rep = analyze_toil(
        log,
        None,
        cfg(team_size=2, automation={"restart": {"cost_hours": [4, 8, 16]}}),
        rng=np.random.default_rng(0),
        runs=10,
    )
    assert [c.task for c in rep.candidates] == ["restart"]


def test_headline_and_candidate_table_read_the_payload():
    auto = {
        "restart": {
            "cost_hours": [10, 20, 40],
            "expected_reduction": 0.8,
            "maintenance_hours_per_week": 0.5,
            "self_healing": "restart the worker pool",
            "rollback": "feature flag pool_autorestart=off",
        }
    }
    rep = analyze_toil(daily_log(), None, cfg(team_size=5, automation=auto), rng=np.random.default_rng(0), runs=500)
    view = {"toil": payload(rep)}
    text = tables.toil_summary(view)
    assert "about 3.5 hours a week on toil (logged), 2% of its working time; the SRE book's cap is 50%." in text
    assert "The biggest task is 'restart' at 3.5 hours a week." in text
    assert "1 automation candidate(s) would more likely than not pay back within 52 weeks." in text
    row = tables.candidates_table(view, detail=True).iloc[0]
    assert row["break-even effort (hours)"] == "120"  # (3.5 × 0.8 − 0.5) × 52 = 119.6
    assert row["saves hours per week"] == "2.3" and row["hours per week now"] == "3.5"
    assert row["estimates"] == "config" and row["self-healing rollback"] == "feature flag pool_autorestart=off"
    assert list(tables.candidates_table(view).columns) == [
        "task",
        "saves hours per week",
        "build cost (likely hours)",
        "break-even effort (hours)",
        "pays back in (weeks, likely)",
        "chance it pays back",
    ]
    nothing = {"toil": payload(analyze_toil(None, None, cfg(), rng=np.random.default_rng(0)))}
    assert tables.toil_summary(nothing).startswith("There is no toil log and no pages log")
    assert tables.toil_table(nothing).empty and tables.candidates_table(nothing, detail=True).empty
    assert tables.toil_summary({"toil": {"status": "failed", "error": "InputError: bad"}}) == (
        "Toil could not be analysed in this run: InputError: bad."
    )
