"""Low traffic (issue 16): the traffic in each rule's windows, one bad request paging, the
remedies replayed side by side and the choice, in report.json and in the exported rules."""

from __future__ import annotations

import subprocess

import numpy as np
import pandas as pd
import pytest
import yaml
from conftest import require_tool
from hypothesis import given, settings
from hypothesis import strategies as st

from srekit.analysis.alerting.analyze import analyze_alerting
from srekit.analysis.alerting.lowtraffic import bad_to_fire
from srekit.core.spec import SLOSpec
from srekit.exports.bundle import export_all
from srekit.inputs.config import parse_config

START = pd.Timestamp("2024-03-04", tz="UTC")
DAYS = 21
CFG = parse_config({"service": "shop", "data": {"telemetry": "t.parquet"}, "oncall": {"coverage": "24x7"}})
SPEC = SLOSpec("refunds-availability", "refunds", "availability", 0.999, window=pd.Timedelta(days=28))
#: 20 isolated failed requests, days apart from the outages (a retry storm, a client bug…)
STRAYS = tuple(int(m) for m in np.linspace(700, DAYS * 1440 - 700, 20))
OUTAGES = ((9 * 1440 + 600, 30), (16 * 1440 + 800, 45))  # (start minute, minutes); no stray within 6h after


def refunds(per_min: int = 1) -> pd.DataFrame:
    """A journey with ``per_min`` requests a minute (≤ 5): stray single errors and two outages."""
    n = DAYS * 1440
    total = np.full(n, per_min, dtype=np.int64)
    errors = np.zeros(n, dtype=np.int64)
    errors[list(STRAYS)] = 1
    for a, m in OUTAGES:
        errors[a : a + m] = per_min
    idx = pd.date_range(START, periods=n, freq="min")
    return pd.DataFrame({"journey": "refunds", "interval_start": idx, "total": total, "errors": errors})


def incidents() -> pd.DataFrame:
    starts = [START + pd.Timedelta(minutes=a) for a, _ in OUTAGES]
    ends = [START + pd.Timedelta(minutes=a + m) for a, m in OUTAGES]
    return pd.DataFrame(
        {"id": ["R1", "R2"], "journey": "refunds", "started_at": starts, "mitigated_at": ends, "resolved_at": ends}
    )


def test_bad_events_to_fire_by_hand():
    # 99.9 % over 28 d, 1h page: θ = 13.44 × 0.001; 60 requests an hour → one bad request (1/60 > θ)
    assert bad_to_fire(0.01344, 60, 5) == 1
    assert bad_to_fire(0.01344, 600, 50) == 9  # 8/600 = 1.33 % is not above 1.344 %, 9/600 is
    assert bad_to_fire(0.01344, 0, 0) == 1  # an empty window: the failed request is the traffic
    assert bad_to_fire(1.44, 1000, 100) is None  # 14.4 × 10 %: never


@settings(max_examples=200, deadline=None)
@given(
    theta=st.floats(1e-5, 0.99),
    long_n=st.floats(0, 1e6, allow_nan=False),
    frac=st.floats(0, 1),
)
def test_bad_events_to_fire_is_the_smallest_count_above_the_threshold(theta, long_n, frac):
    short_n = long_n * frac
    k = bad_to_fire(theta, long_n, short_n)
    assert k is not None
    base = max(long_n, 1.0)
    assert k / base > theta and (k - 1) / base <= theta


def test_a_low_traffic_journey_gets_fewer_false_pages_at_equal_recall():
    """1 request a minute at 99.9 %: the 1h page's window holds 60 requests, so each stray failed
    request pages as designed (20 false pages). Asking for 3 bad requests in the window silences
    them and still pages for both outages; the traffic guard never pages (its 1h window never
    holds the 224 requests it asks for) and longer windows still page on one request."""
    rep = analyze_alerting(refunds(), None, [SPEC], incidents(), None, CFG)
    (lt,) = rep.low_traffic
    page_1h = next(r for r in lt.rules if r.rule == "refunds-availability/page/1h")
    assert page_1h.long_window_events_p10 == 60 and page_1h.short_window_events_p10 == 5
    assert page_1h.bad_events_to_fire == 1 and page_1h.one_bad_event_fires and lt.low
    by = {o.remedy: o for o in lt.remedies}
    assert list(by) == ["as_designed", "min_bad_events", "min_events", "longer_windows"]
    assert (by["as_designed"].pages, by["as_designed"].false_pages, by["as_designed"].incidents_paged) == (22, 20, 2)
    assert (by["min_bad_events"].pages, by["min_bad_events"].false_pages) == (2, 0)
    assert by["min_bad_events"].incidents_paged == 2 == by["min_bad_events"].incidents
    assert by["min_events"].pages == 0 and by["min_events"].incidents_paged == 0  # silent: loses recall
    assert by["longer_windows"].false_pages == 20  # 1 of 240 > 0.336 %: still one request
    assert lt.chosen == "min_bad_events" and lt.adopted
    assert "0 false of 2 pages instead of 20 of 22" in lt.why
    # the policy in force carries it: the backtest scores it and report.json says so
    policy = rep.to_dict()["policy"]
    pages = [p for p in policy if p["severity"] == "page"]
    assert pages and all(p["min_bad_events"] == 3 and p["remedy"] == "min_bad_events" for p in pages)
    assert all(p["min_bad_events"] == 0 and p["remedy"] is None for p in policy if p["severity"] == "ticket")
    pages_score = next(s for s in rep.scores if s.rule == "refunds-availability/page/1h")
    assert pages_score.firings == 2 and pages_score.recall == 1.0


def test_busy_journeys_are_left_as_designed():
    """60 requests a minute: 9 bad requests are needed in the 1h window; nothing is replayed."""
    busy = refunds(per_min=60)
    rep = analyze_alerting(busy, None, [SPEC], incidents(), None, CFG)
    (lt,) = rep.low_traffic
    assert not lt.low and lt.remedies == () and lt.chosen == "as_designed" and not lt.adopted
    assert next(r for r in lt.rules if r.rule.endswith("page/1h")).bad_events_to_fire == 49  # θ·3600 = 48.4


def test_exported_rules_carry_the_remedy_and_promtool_agrees(tmp_path):
    """The adopted remedy is in rules.yml: the page fires on a full outage (the generated
    test), and one failed request among 60 an hour does not page (a test written here)."""
    rep = analyze_alerting(refunds(), None, [SPEC], incidents(), None, CFG)
    export_all([SPEC], CFG, tmp_path, formats=("prometheus",), policies=rep.policies)
    d = tmp_path / "prometheus"
    text = (d / "rules.yml").read_text()
    assert "slo:sli_errors:count1h" in text and ">= 3" in text
    promtool = require_tool("promtool")
    assert subprocess.run([promtool, "check", "rules", "rules.yml"], cwd=d, capture_output=True).returncode == 0
    res = subprocess.run([promtool, "test", "rules", "rules_test.yml"], cwd=d, capture_output=True, text=True)
    assert res.returncode == 0, res.stdout + res.stderr
    tests = yaml.safe_load((d / "rules_test.yml").read_text())
    ok, err = (s["series"] for s in tests["tests"][0]["input_series"])
    one_bad = {
        "name": "one failed request in an hour at 1 request a minute: no page",
        "interval": "1m",
        "input_series": [
            {"series": ok, "values": "0+1x89 89 90+1x59"},  # minute 90 fails
            {"series": err, "values": "0x89 1x60"},
        ],
        "alert_rule_test": [
            {"eval_time": f"{m}m", "alertname": "RefundsAvailabilityBudgetBurnFast", "exp_alerts": []}
            for m in (92, 100, 120, 150)
        ],
    }
    (d / "one_bad_test.yml").write_text(yaml.safe_dump({**tests, "tests": [one_bad]}, sort_keys=False))
    res = subprocess.run([promtool, "test", "rules", "one_bad_test.yml"], cwd=d, capture_output=True, text=True)
    assert res.returncode == 0, res.stdout + res.stderr
    designed = tmp_path / "designed"
    export_all([SPEC], CFG, designed, formats=("prometheus",))  # without the remedy: the same request pages
    (designed / "prometheus" / "one_bad_test.yml").write_text(yaml.safe_dump({**tests, "tests": [one_bad]}))
    res = subprocess.run(
        [promtool, "test", "rules", "one_bad_test.yml"], cwd=designed / "prometheus", capture_output=True, text=True
    )
    assert res.returncode != 0


@pytest.mark.parametrize(("per_min", "to_fire"), [(1, 1), (2, 2), (5, 5)])
def test_report_json_fields_for_low_traffic(per_min, to_fire):
    """≤ 5 requests a minute at 99.9 %: the 1h page needs floor(0.01344 × 60·r) + 1 bad requests;
    only at 1 a minute does one bad request page (and only then are remedies replayed)."""
    rep = analyze_alerting(refunds(per_min), None, [SPEC], incidents(), None, CFG)
    (entry,) = rep.to_dict()["low_traffic"]
    assert set(entry) == {"slo", "journey", "one_bad_event_pages", "rules", "remedies", "chosen", "adopted", "why"}
    page_1h = next(r for r in entry["rules"] if r["rule"].endswith("/page/1h"))
    assert page_1h["long_window_events_p10"] == 60 * per_min and page_1h["bad_events_to_fire"] == to_fire
    assert entry["one_bad_event_pages"] is (per_min == 1) and bool(entry["remedies"]) is (per_min == 1)


def test_srekit_rules_exports_the_adopted_remedy(tmp_path):
    """`srekit rules` replays the proposed SLOs on the loaded history too, so its rules.yml
    carries the remedy `srekit analyze` adopts."""
    import sys

    tel = refunds()
    tel.assign(le_100=tel["total"] - tel["errors"], le_1000=tel["total"]).to_parquet(tmp_path / "t.parquet")
    inc = incidents()
    inc.to_csv(tmp_path / "incidents.csv", index=False)
    doc = {
        "service": "shop",
        "data": {"telemetry": "t.parquet", "incidents": "incidents.csv"},
        "journeys": [{"name": "refunds", "slos": {"availability": 99.9}}],
        "slo": {"window": "28d"},
        "oncall": {"coverage": "24x7"},
    }
    (tmp_path / "service.yaml").write_text(yaml.safe_dump(doc))
    cmd = [sys.executable, "-m", "srekit.cli", "rules", "--config", str(tmp_path / "service.yaml")]
    res = subprocess.run(
        [*cmd, "--format", "prometheus", "--out", str(tmp_path / "out")], capture_output=True, text=True
    )
    assert res.returncode == 0, res.stderr
    text = (tmp_path / "out" / "prometheus" / "rules.yml").read_text()
    assert "slo:sli_errors:count1h" in text and "slo:sli_errors:count6h" in text and ">= 3" in text


@settings(max_examples=200, deadline=None)
@given(
    values=st.lists(st.integers(0, 10_000), max_size=50),
    zeros=st.integers(0, 60),
    q=st.floats(0, 1),
)
def test_quantile_with_zeros_is_numpys_quantile_of_the_dense_grid(values, zeros, q):
    from srekit.analysis.alerting.lowtraffic import quantile_with_zeros

    dense = np.concatenate([np.zeros(zeros), np.asarray(values, dtype=float)])
    expected = float(np.quantile(dense, q)) if len(dense) else 0.0
    assert quantile_with_zeros(np.asarray(values, dtype=float), zeros, q) == pytest.approx(expected, abs=1e-9)
