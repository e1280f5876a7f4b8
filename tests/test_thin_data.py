"""Confidence is shown, not implied: options and thresholds on too little history say so in the
sentence, rules whose windows are shorter than the data's interval are not proposed (and the
report says why), and advice follows the data kind. Hand-checkable synthetic histories."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import yaml

from srekit.inputs.config import load_config
from srekit.report import tables
from srekit.report.cache import Analysis
from srekit.report.runner import write_analysis

GEN = pd.Timestamp("2030-01-01", tz="UTC")
START = pd.Timestamp("2024-05-01T00:00Z")


def hourly_telemetry(path: Path, days: int) -> Path:
    """One journey, one row per hour, 1000 requests each, 1 error in every 10th hour."""
    n = days * 24
    t = pd.date_range(START, periods=n, freq="1h")
    errors = np.where(np.arange(n) % 10 == 0, 1, 0)
    frame = pd.DataFrame(
        {
            "journey": "api",
            "interval_start": t.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "total": 1000,
            "errors": errors,
            "le_100": 990,
            "le_500": 1000,
        }
    )
    frame.to_csv(path, index=False)
    return path


def analysis(tmp_path: Path, days: int, extra: str = "") -> Analysis:
    hourly_telemetry(tmp_path / "t.csv", days)
    (tmp_path / "service.yaml").write_text("service: shop\ndata:\n  telemetry: t.csv\njourneys: [api]\n" + extra)
    return Analysis(load_config(tmp_path / "service.yaml"), generated_at=GEN)


def test_thirty_days_of_28d_windows_are_too_little_history_to_call_a_target_kept(tmp_path: Path) -> None:
    report = analysis(tmp_path, 30).report_dict
    balanced = next(o for o in report["slo_proposal"]["options"] if o["name"] == "balanced")
    # 30 day blocks, 28-day windows at daily steps: windows starting on days 1, 2 and 3
    assert balanced["windows"] == 3 and balanced["history_days"] == 30 and balanced["too_little_history"]
    assert balanced["tradeoff"].startswith("Recommended as a start: it held in 3 of 3 overlapping 28d windows of 30 ")
    assert "too little history to call it kept; check it again with 56d of history." in balanced["tradeoff"]
    assert "a promise the service already keeps" not in balanced["tradeoff"]
    shown = tables.options_table(report)
    assert set(shown["past windows met"]) == {"3 of 3 (too little history)"}
    for p in report["slo_proposal"]["threshold_proposals"]:
        assert (
            p["too_little_history"]
            and tables.threshold_table(report)["enough data"]
            .str.startswith("no: 30 days of history, under two 28d windows")
            .all()
        )


def test_a_history_shorter_than_one_window_says_so_and_enough_history_does_not(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    short = analysis(tmp_path / "a", 10)
    balanced = next(o for o in short.report_dict["slo_proposal"]["options"] if o["name"] == "balanced")
    assert "over the whole 10 calendar days of history, shorter than one 28d window, it used" in balanced["tradeoff"]
    (tmp_path / "b").mkdir()
    long = analysis(tmp_path / "b", 60).report_dict  # 60 days ≥ two 28-day windows: judged as before
    balanced = next(o for o in long["slo_proposal"]["options"] if o["name"] == "balanced")
    assert not balanced["too_little_history"] and balanced["tradeoff"].startswith("Recommended: it would have held in")


def test_rules_with_windows_shorter_than_an_hourly_interval_are_not_proposed_nor_exported(tmp_path: Path) -> None:
    a = analysis(tmp_path, 60, "oncall: {coverage: 24x7}\n")
    report = a.report_dict
    windows = {(p["long_window"], p["short_window"]) for p in report["alerting"]["policy"]}
    # the Workbook's 1h/5m and 6h/30m rules need 5- and 30-minute windows: under one hourly row
    assert windows == {("1d", "2h"), ("3d", "6h")}
    dropped = {
        (d["long_window"], d["short_window"])
        for d in report["alerting"]["not_proposed"]
        if d["slo"] == "api-availability"
    }
    assert dropped == {("1h", "5m"), ("6h", "30m")}
    reason = report["alerting"]["not_proposed"][0]["reason"]
    assert "5m window is shorter than the data's 1-hour interval, so it would hold less than one sample" in reason
    topics = [q["topic"] for q in report["open_questions"]]
    assert "alert_windows_coarse:api-availability" in topics
    write_analysis(a.report, tmp_path / "out", config=a.config)
    rules = yaml.safe_load((tmp_path / "out" / "rules" / "prometheus" / "rules.yml").read_text())
    fors = {r["alert"] for g in rules["groups"] for r in g["rules"] if "alert" in r}
    assert fors == {"ApiAvailabilityBudgetBurnSlow", "ApiLatencyBudgetBurnSlow"}  # no fast alert without its rules


def test_a_series_gets_series_advice_not_synthetic_traffic(tmp_path: Path) -> None:
    t = pd.date_range(START, periods=60 * 24, freq="1h")
    pd.DataFrame({"timestamp": t.strftime("%Y-%m-%dT%H:%M:%SZ"), "value": 40.0}).to_csv(tmp_path / "s.csv", index=False)
    (tmp_path / "service.yaml").write_text("service: shop\ndata:\n  series: s.csv\n")
    report = Analysis(load_config(tmp_path / "service.yaml"), generated_at=GEN).report_dict
    warnings = " ".join(report["alerting"]["warnings"])
    assert "synthetic" not in warnings and "probe" not in warnings
    # one hourly sample of a 28-day window at 99%: 1 / (672 × 0.01) = 14.9% of the budget
    assert "the series has one sample per hour: one bad sample spends 14.9% of the budget" in warnings
    assert "no_telemetry" in [q["topic"] for q in report["open_questions"]]
    no_tel = next(q for q in report["open_questions"] if q["topic"] == "no_telemetry")
    assert "hides the slow tail" in no_tel["assumption"]
    assert report["slo_proposal"]["slis"][0]["provisional"] is False  # measured on the series, not provisional
    assert "provisional" not in report["summary"]["text"]
