"""``srekit alerts explain`` and ``srekit rules`` through the real command line entry point."""

from __future__ import annotations

import json
import subprocess

import pandas as pd
import pytest
import yaml
from conftest import require_tool

from srekit.analysis.alerting.policy import design_policy
from srekit.cli import main
from srekit.core.spec import SLOSpec
from srekit.exports.openslo import openslo_documents
from srekit.inputs.config import parse_config


def test_explain_table_shows_the_workbook_figures(capsys):
    assert main(["alerts", "explain", "--target", "0.999", "--period", "30d"]) == 0
    out = capsys.readouterr().out
    assert "51.84 s" in out  # 14.4x over 1h
    assert "2 min 10 s" in out  # 36 h window at the SLO, and 36x over 1h
    assert "57 min 50 s" in out  # 1 h window at 36x resets after ~58 min
    assert "6. multiwindow" in out


def test_explain_json_with_percent_target_and_partial_outage(capsys):
    assert main(["alerts", "explain", "--target", "99.9", "--period", "28d", "--error-ratio", "0.01", "--json"]) == 0
    d = json.loads(capsys.readouterr().out)
    assert d["period_s"] == 28 * 86400
    fast, slow = d["rules"][0], d["rules"][1]
    assert fast["burn_rate"] == pytest.approx(13.44) and fast["fires"] is False  # 1 % < 1.344 %
    # 5.6x over 6h: fires after 6 h × 0.0056 / 0.01 = 3.36 h, having spent 5 % of the budget
    assert slow["fires_after_s"] == pytest.approx(3.36 * 3600)
    assert slow["budget_spent_at_fire"] == pytest.approx(0.05)


def test_explain_bad_period_exits_2(capsys):
    assert main(["alerts", "explain", "--target", "0.999", "--period", "soon"]) == 2
    assert "--period" in capsys.readouterr().err


def test_rules_from_openslo_files(tmp_path, capsys):
    specs = [SLOSpec("api-availability", "api", "availability", 0.995, window=pd.Timedelta(days=28))]
    c = parse_config({"service": "api", "data": {"telemetry": "t.parquet"}, "oncall": {"coverage": "24x7"}})
    (tmp_path / "slo.yaml").write_text(yaml.safe_dump_all(openslo_documents(design_policy(specs[0], c), c)))
    (tmp_path / "service.yaml").write_text(
        yaml.safe_dump({"service": "api", "oncall": {"coverage": "business-hours"}, "slo": {"openslo": ["slo.yaml"]}})
    )
    out = tmp_path / "out"
    assert main(["rules", "--config", str(tmp_path / "service.yaml"), "--format", "prometheus", "--out", str(out)]) == 0
    printed = capsys.readouterr().out.split()
    assert str(out / "prometheus" / "rules.yml") in printed
    assert not (out / "openslo").exists()
    res = subprocess.run(
        [require_tool("promtool"), "test", "rules", "rules_test.yml"],
        cwd=out / "prometheus",
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert res.returncode == 0, res.stdout + res.stderr
    rules = (out / "prometheus" / "rules.yml").read_text()
    assert "ApiAvailabilityBudgetBurnFast" in rules and "(13.44 * 0.005)" in rules


def test_rules_missing_config_exits_2(tmp_path, capsys):
    assert main(["rules", "--config", str(tmp_path / "none.yaml"), "--out", str(tmp_path)]) == 2
    assert "does not exist" in capsys.readouterr().err


def test_explain_uses_the_config_windows(tmp_path, capsys):
    (tmp_path / "service.yaml").write_text(
        yaml.safe_dump(
            {
                "service": "api",
                "data": {"telemetry": "t.parquet"},
                "alerting": {"page_long_windows": ["2h"], "ticket_long_windows": [], "budget_shares": {"2h": 0.04}},
            }
        )
    )
    assert main(["alerts", "explain", "--target", "0.999", "--config", str(tmp_path / "service.yaml"), "--json"]) == 0
    d = json.loads(capsys.readouterr().out)
    (rule,) = d["rules"]
    assert rule["long_window"] == "2h" and rule["short_window"] == "10m"
    assert rule["burn_rate"] == pytest.approx(14.4) and rule["name"].startswith("ticket")  # no on-call: ticket
