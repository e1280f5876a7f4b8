"""Constant-error-ratio maths against the SRE Workbook ch. 5 "Alerting on SLOs" figures, and
the replay on real minute data agreeing with the formulas."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from srekit.analysis.alerting.policy import BurnRateRule
from srekit.analysis.alerting.replay import firing_intervals, replay
from srekit.analysis.explain import explain, explain_rule, human_duration, six_approaches
from srekit.report.tables.explain import explain_table

D30 = pd.Timedelta(days=30)
H1 = pd.Timedelta(hours=1)


def test_workbook_14_4x_over_one_hour_fires_after_51_84_seconds():
    # Workbook ch. 5, approach 5: "14.4x burn rate over 1 hour ... 100% outage ... 51.84 s"
    b = explain_rule(target=0.999, period=D30, long_window=H1, burn_rate=14.4)
    assert b.fires_after is not None
    assert b.fires_after.total_seconds() == pytest.approx(51.84, abs=1e-6)
    assert b.budget_spent_at_fire == pytest.approx(0.02)  # 2 % of the 30-day budget


def test_workbook_36_hour_window_at_slo_fires_after_about_2min10s():
    # Workbook ch. 5, approach 2: 36 h window, error rate ≥ SLO → "2 minutes 10 seconds"
    b = explain_rule(target=0.999, period=D30, long_window=pd.Timedelta(hours=36), burn_rate=1.0)
    assert b.fires_after is not None
    assert b.fires_after.total_seconds() == pytest.approx(129.6)
    assert human_duration(b.fires_after) == "2 min 10 s"
    assert b.resets_after > pd.Timedelta(hours=35)  # "reset time: 36 hours"


def test_workbook_one_hour_window_at_36x_resets_after_about_58_minutes():
    # Workbook ch. 5, approach 4: 1 h window, 36x burn rate (5 % of budget) → reset "58 minutes"
    b = explain_rule(target=0.999, period=D30, long_window=H1, burn_rate=36)
    assert b.resets_after.total_seconds() == pytest.approx(3600 * (1 - 0.036))
    assert round(b.resets_after.total_seconds() / 60) == 58
    assert b.fires_after is not None and b.fires_after.total_seconds() == pytest.approx(129.6)


def test_six_approaches_side_by_side():
    rows = {b.name.split(".")[0]: b for b in six_approaches(0.999, D30)}
    assert set(rows) == {"1", "2", "3", "4", "5", "6"}
    assert rows["1"].fires_after.total_seconds() == pytest.approx(0.6)  # 10 min × 0.001
    assert rows["3"].fires_after >= H1  # "for: 1h" waits an hour even for a full outage
    assert rows["3"].budget_spent_at_fire > 1.0  # more than the whole budget
    # the multiwindow rule fires as fast as approach 5 but resets within its short window
    assert rows["6"].fires_after == rows["5"].fires_after
    assert rows["6"].resets_after < pd.Timedelta(minutes=5) < rows["5"].resets_after


def test_default_policy_explained_30d():
    e = explain(0.999, D30)
    rates = [round(b.burn_rate, 6) for b in e.rules]
    assert rates == [14.4, 6.0, 3.0, 1.0]
    assert [round(b.budget_spent_at_fire, 6) for b in e.rules] == [0.02, 0.05, 0.1, 0.1]
    d = e.to_dict()
    assert d["rules"][0]["fires_after_s"] == pytest.approx(51.84)
    assert len(d["approaches"]) == 6
    assert list(explain_table(e).columns)[:2] == ["kind", "alert"]


def test_error_ratio_below_threshold_never_fires():
    b = explain_rule(target=0.999, period=D30, long_window=H1, burn_rate=14.4, error_ratio=0.01)
    assert b.fires_after is None and not b.fires
    assert b.budget_spent_at_fire == 0.0
    assert b.to_dict()["fires_after_s"] is None


@settings(max_examples=40, deadline=None)
@given(
    target=st.sampled_from([0.99, 0.995, 0.999, 0.9995]),
    burn=st.floats(min_value=1.0, max_value=20.0),
    e1=st.floats(min_value=0.0, max_value=1.0),
    e2=st.floats(min_value=0.0, max_value=1.0),
)
def test_higher_error_ratio_fires_no_later(target, burn, e1, e2):
    lo, hi = sorted((e1, e2))
    a = explain_rule(target=target, period=D30, long_window=H1, short_window=H1 / 12, burn_rate=burn, error_ratio=lo)
    b = explain_rule(target=target, period=D30, long_window=H1, short_window=H1 / 12, burn_rate=burn, error_ratio=hi)
    if a.fires:
        assert b.fires and b.fires_after <= a.fires_after
    assert b.resets_after >= a.resets_after


def _constant(error_ratio: float, minutes: int, clean: int, per_min: int = 1000) -> pd.DataFrame:
    idx = pd.date_range("2024-03-01", periods=clean + minutes, freq="min", tz="UTC", name="interval_start")
    bad = np.zeros(len(idx), dtype=np.int64)
    bad[clean:] = round(error_ratio * per_min)
    return pd.DataFrame({"total": np.full(len(idx), per_min, dtype=np.int64), "bad": bad}, index=idx)


@pytest.mark.parametrize("error_ratio", [1.0, 0.2, 0.05])
def test_replay_on_minute_data_matches_the_formula(error_ratio):
    """The discrete replay fires in the first evaluation at or after the formula's time."""
    rule = BurnRateRule(
        slo="s",
        journey="j",
        severity="page",
        speed="fast",
        long_window=H1,
        short_window=pd.Timedelta(minutes=5),
        burn_rate=14.4,
        budget_share=0.02,
        threshold=14.4 * 0.001,
    )
    clean = 180
    ev = _constant(error_ratio, 120, clean)
    fired = replay(ev, [rule])[rule.name]
    runs = firing_intervals(fired)
    assert len(runs) == 1
    onset = ev.index[clean]  # the first bad interval starts here
    expected = explain_rule(
        target=0.999,
        period=D30,
        long_window=H1,
        short_window=pd.Timedelta(minutes=5),
        burn_rate=14.4,
        error_ratio=error_ratio,
    ).fires_after
    got = runs.loc[0, "start"] - onset
    assert expected is not None
    assert expected <= got < expected + pd.Timedelta(minutes=1)
    assert math.isclose(got.total_seconds() % 60, 0.0)
