"""The exhaustion alert (issue 16): fires when the budget left would be gone within the horizon
at the recent burn rate; hand-checked timing, and scored beside the burn-rate rules."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from srekit.analysis.alerting.analyze import analyze_alerting
from srekit.analysis.alerting.exhaustion import exhaustion_rule
from srekit.analysis.alerting.policy import AlertPolicy, design_policy
from srekit.analysis.alerting.replay import firing_intervals, replay_policy
from srekit.core.spec import SLOSpec
from srekit.inputs.config import parse_config
from srekit.report import tables

START = pd.Timestamp("2024-01-01", tz="UTC")
SPEC = SLOSpec("checkout-availability", "checkout", "availability", 0.999, window=pd.Timedelta(days=30))
CFG = parse_config({"service": "shop", "data": {"telemetry": "t.parquet"}, "oncall": {"coverage": "24x7"}})
ERRORS_FROM = 33 * 1440  # minute the steady errors start


def events(days: int = 37) -> pd.DataFrame:
    """100 requests a minute; from day 33 one failed request every 2 minutes (0.5 %, burn 5×)."""
    n = days * 1440
    bad = np.zeros(n, dtype=np.int64)
    bad[ERRORS_FROM::2] = 1
    idx = pd.date_range(START, periods=n, freq="min", name="interval_start")
    return pd.DataFrame({"total": np.full(n, 100, dtype=np.int64), "bad": bad}, index=idx)


def test_the_rule_by_hand():
    r = exhaustion_rule(SPEC)
    assert r.name == "checkout-availability/exhaustion/6h" and r.severity == "ticket"
    assert r.burn_rate == 10.0 and r.threshold == pytest.approx(0.01)  # 30 d / 3 d, × 0.1 %
    assert r.budget_window == pd.Timedelta(days=30)


def test_fires_when_the_budget_left_would_last_less_than_three_days():
    """At 0.5 % errors the 30-day window's budget drains at t / 6 per day (t days in): after
    3 days half is left, and at 5× the rest lasts 0.5 × 30 / 5 = 3 days — the horizon. The rule
    fires then, not before; a burn-rate page at 14.4× never fires on a 5× burn."""
    policy = design_policy(SPEC, CFG)
    ev = events()
    rep = replay_policy(AlertPolicy(SPEC, (exhaustion_rule(SPEC),)), ev)
    runs = firing_intervals(rep.fired["checkout-availability/exhaustion/6h"])
    first = runs["start"].iloc[0]
    three_days = START + pd.Timedelta(minutes=ERRORS_FROM) + pd.Timedelta(days=3)
    assert three_days <= first <= three_days + pd.Timedelta(minutes=3)
    assert len(runs) == 1 and bool(runs["open"].iloc[0])  # it keeps firing while the burn goes on
    burn = replay_policy(policy, ev)
    assert not burn.fired["checkout-availability/page/1h"].any()


def test_quiet_history_never_fires_and_the_backtest_table_shows_it():
    ev = events()
    ev["bad"] = 0
    tel = pd.DataFrame(
        {"journey": "checkout", "interval_start": ev.index, "total": ev["total"].to_numpy(), "errors": 0}
    )
    rep = analyze_alerting(tel, None, [SPEC], None, None, CFG)
    (score,) = rep.exhaustion
    assert score.rule == "checkout-availability/exhaustion/6h" and score.firings == 0
    d = rep.to_dict()
    assert d["backtest"]["exhaustion"][0]["rule"] == score.rule
    rows = tables.backtest_table({"alerting": d})["rule"].tolist()
    assert "checkout-availability/exhaustion/6h (offered, not in force)" in rows
    assert not any(p["rule"].endswith("exhaustion/6h") for p in d["policy"])  # offered, not in force
