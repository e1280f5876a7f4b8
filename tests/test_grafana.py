"""Grafana dashboards: every query is valid PromQL (promtool), reads only recorded series of the
exported rules, the JSON loads in the SDK's dashboard model unchanged; the samples' dashboard is
the golden snapshot; the checks catch what they claim to. The dashboards' queries are run
against real backfilled data in ``tests/test_backfill.py``."""

from __future__ import annotations

import copy
import functools
import json
import os
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest
from conftest import ROOT, require_tool

from srekit.analysis.alerting.policy import AlertPolicy, policy_for
from srekit.analysis.alerting.runbooks import runbook_index
from srekit.exports.dashboard_check import (
    dashboard_queries,
    model_problems,
    promtool_problems,
    record_problems,
)
from srekit.exports.grafana import ALL_VALUE, ServiceSLOs, dashboard_text, overview_dashboard, service_dashboard
from srekit.exports.prometheus import prometheus_rules
from srekit.inputs.config import ServiceConfig, load_config
from srekit.inputs.openslo import read_openslo_specs

GOLDEN = ROOT / "tests/golden/samples/rules"
ALL = {"journey": ALL_VALUE, "service": ".*"}


@functools.cache
def samples() -> tuple[ServiceConfig, list[AlertPolicy]]:
    """The samples' config and the policies `srekit analyze` exported: the golden OpenSLO files
    reproduce the specs exactly, and the analysis gives the policy in force for each (the
    Workbook's, or a low-traffic remedy chosen by replay: the samples' refunds journey)."""
    import re

    import pandas as pd

    from srekit.report.cache import Analysis

    config = load_config(ROOT / "data/samples/service.yaml")
    listed = re.findall(r"`(openslo/[^`]+\.yaml)`", (GOLDEN / "README.md").read_text())  # in export order
    specs = read_openslo_specs([GOLDEN / rel for rel in listed])
    in_force = {
        p.spec.name: p for p in Analysis(config, generated_at=pd.Timestamp("2000-01-01", tz="UTC")).alerting.policies
    }
    assert sorted(in_force) == sorted(s.name for s in specs)
    return config, [in_force[s.name] for s in specs]


@pytest.fixture(scope="module")
def dashboard() -> dict:
    config, policies = samples()
    doc = service_dashboard(config, policies)
    assert doc is not None
    return doc


def test_samples_dashboard_is_the_golden_snapshot(dashboard: dict) -> None:
    """The file `srekit analyze` writes into rules/grafana (compared as a whole by test_golden)."""
    golden = GOLDEN / "grafana/srekit-shopfront.json"
    assert dashboard_text(dashboard) == golden.read_text(encoding="utf-8")


def test_every_query_is_valid_promql(dashboard: dict, tmp_path: Path) -> None:
    queries = dashboard_queries(dashboard)
    assert len(queries) == 18  # 6 table + 3 SLI + 1 budget + 4 burn + 2 alert queries, the variable, the annotation
    assert promtool_problems(queries, ALL, require_tool("promtool"), tmp_path) == []


def test_every_selected_series_is_an_exported_recording_rule(dashboard: dict) -> None:
    config, policies = samples()
    rules = prometheus_rules(policies, config)
    assert record_problems(dashboard_queries(dashboard), rules, ALL) == []
    exported = json.loads(json.dumps(rules))
    golden = __import__("yaml").safe_load((GOLDEN / "prometheus/rules.yml").read_text())
    assert exported == golden  # the rules checked against are the ones exported


def test_dashboard_loads_in_the_grafana_model_unchanged(dashboard: dict) -> None:
    assert model_problems(dashboard) == []


def test_panels_variables_units_and_links(dashboard: dict) -> None:
    config, policies = samples()
    panels = {p["title"]: p for p in dashboard["panels"]}
    assert list(panels) == [
        "SLOs",
        "Journey $journey",
        "SLI against the objective",
        "Error budget left",
        "Burn rate",
        "Alerts firing",
    ]
    assert panels["Journey $journey"]["repeat"] == "journey"
    variables = {v["name"]: v for v in dashboard["templating"]["list"]}
    assert variables["datasource"]["type"] == "datasource" and variables["datasource"]["query"] == "prometheus"
    assert (
        variables["journey"]["query"] == 'label_values(slo:objective:ratio{srekit_service="shopfront"}, srekit_journey)'
    )
    assert variables["journey"]["includeAll"] and variables["journey"]["multi"]
    # no hard-coded data source: every reference is the variable
    refs = [m for m in _walk(dashboard) if isinstance(m, dict) and "uid" in m and "type" in m and m is not dashboard]
    assert refs and all(r == {"type": "prometheus", "uid": "${datasource}"} for r in refs)
    # units: percent for SLIs and budgets, × for burn rates
    assert panels["SLI against the objective"]["fieldConfig"]["defaults"]["unit"] == "percentunit"
    assert panels["Error budget left"]["fieldConfig"]["defaults"]["unit"] == "percentunit"
    assert panels["Burn rate"]["fieldConfig"]["defaults"]["unit"] == "suffix:×"
    table_units = [
        p["value"] for o in panels["SLOs"]["fieldConfig"]["overrides"] for p in o["properties"] if p["id"] == "unit"
    ]
    assert table_units == ["percentunit", "percentunit", "percentunit", "suffix:×"]
    # the burn-rate thresholds are the rules' burn rates, drawn as dashed lines
    steps = panels["Burn rate"]["fieldConfig"]["defaults"]["thresholds"]["steps"]
    assert sorted(s["value"] for s in steps[1:]) == sorted({round(r.burn_rate, 4) for p in policies for r in p.rules})
    assert panels["Burn rate"]["fieldConfig"]["defaults"]["custom"]["thresholdsStyle"] == {"mode": "dashed"}
    # runbooks: every alert's runbook from the table and the alert panel; each bar links its own
    urls = {e["url"] for e in runbook_index([p for p in policies if p.spec.sli != "timeslice"], config)}
    assert {link["url"] for link in panels["SLOs"]["links"]} == urls
    assert {link["url"] for link in panels["Alerts firing"]["links"]} == urls
    bar = panels["Alerts firing"]["fieldConfig"]["defaults"]["links"][0]["url"]
    assert bar == "https://runbooks.example.invalid/${__field.labels.alertname}.md"
    alert_exprs = " ".join(t["expr"] for t in panels["Alerts firing"]["targets"])
    assert all(
        f'"alertname", "{e["alert"]}"' in alert_exprs
        for e in runbook_index(policies, config)
        if "Timeslice" not in e["alert"]
    )


def _walk(node: object) -> list[object]:
    out = [node]
    if isinstance(node, dict):
        out += [x for v in node.values() for x in _walk(v)]
    elif isinstance(node, list):
        out += [x for v in node for x in _walk(v)]
    return out


def test_checks_catch_a_missing_record_a_broken_query_and_an_unknown_field(dashboard: dict, tmp_path: Path) -> None:
    config, policies = samples()
    rules = prometheus_rules(policies, config)
    broken = copy.deepcopy(dashboard)
    burn = next(p for p in broken["panels"] if p["title"] == "Burn rate")
    burn["targets"][0]["expr"] = burn["targets"][0]["expr"].replace("ratio_rate1h", "ratio_rate45m")
    sli = next(p for p in broken["panels"] if p["title"] == "Error budget left")
    sli["targets"][0]["expr"] = sli["targets"][0]["expr"].replace("ratio_rate28d", "ratio_rate30d")
    problems = record_problems(dashboard_queries(broken), rules, ALL)
    assert any("'Burn rate' query A: no recording rule records slo:sli_error:ratio_rate45m" in p for p in problems)
    assert any('ratio_rate30d{srekit_service="shopfront",srekit_slo="browse-availability"' in p for p in problems)

    burn["targets"][1]["expr"] += " / (("
    problems = promtool_problems(dashboard_queries(broken), ALL, require_tool("promtool"), tmp_path)
    assert len(problems) == 1 and problems[0].startswith("panel 'Burn rate' query B:")

    broken["panels"][0]["fieldConfig"]["defaults"]["colour"] = "red"
    assert "$.panels[0].fieldConfig.defaults.colour" in model_problems(broken)[0]
    broken["panels"][0]["type"] = "no-such-panel"
    assert any("unknown panel type 'no-such-panel'" in p for p in model_problems(broken))


def test_overview_over_two_services_is_one_call(tmp_path: Path) -> None:
    """A fleet overview from the same panels: both services' SLOs in the table and the budget
    chart, a service variable, links to each service's dashboard, and the same checks pass."""
    config, policies = samples()
    other = replace(config, service="payments")
    theirs = [policy_for(replace(p.spec, name=f"pay-{p.spec.name}"), other) for p in policies[:2]]
    doc = overview_dashboard([ServiceSLOs.of(config, policies), ServiceSLOs.of(other, theirs)])
    assert doc is not None
    assert model_problems(doc) == []
    rules = {"groups": prometheus_rules(policies, config)["groups"] + prometheus_rules(theirs, other)["groups"]}
    assert record_problems(dashboard_queries(doc), rules, ALL) == []
    assert promtool_problems(dashboard_queries(doc), ALL, require_tool("promtool"), tmp_path) == []
    table = doc["panels"][0]["targets"][0]["expr"]
    assert 'srekit_service="shopfront",srekit_service=~"$service"' in table
    assert 'srekit_service="payments",srekit_service=~"$service"' in table
    assert [v["name"] for v in doc["templating"]["list"]] == ["datasource", "service", "journey"]
    assert {link["url"] for link in doc["links"]} == {"/d/srekit-shopfront", "/d/srekit-payments"}


def test_no_exportable_slo_no_dashboard() -> None:
    config, policies = samples()
    timeslice = [p for p in policies if p.spec.sli == "timeslice"]
    assert timeslice and service_dashboard(config, timeslice) is None


def test_cli_rules_grafana_writes_the_checked_dashboard(tmp_path: Path) -> None:
    require_tool("promtool")
    res = subprocess.run(
        [sys.executable, "-m", "srekit.cli", "rules", "--config", str(ROOT / "data/samples/service.yaml")]
        + ["--format", "grafana", "--out", str(tmp_path)],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        timeout=600,
    )
    assert res.returncode == 0, res.stderr
    assert sorted(p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*") if p.is_file()) == [
        "README.md",
        "grafana/srekit-shopfront.json",
    ]
    assert "promtool check rules: all 18 dashboard queries are valid PromQL" in res.stdout
    assert (tmp_path / "grafana/srekit-shopfront.json").read_text() == (
        GOLDEN / "grafana/srekit-shopfront.json"
    ).read_text()


def test_imported_policies_single_window_rounded_and_waiting_alerts(tmp_path: Path) -> None:
    """Specs imported from real Pyrra (waiting `for:` tiers, a 4-day window) and slo-generator
    (single-window steps, rounded burn rates) files: the dashboard passes every check and its
    alert panel carries the exported expressions verbatim (rounding included)."""
    from conftest import external

    from srekit.inputs.slo_import.read import import_specs

    pyrra = import_specs("pyrra", [external("pyrra", "examples", "caddy-response-latency.yaml")]).specs
    slogen_dir = external("slo-generator", "samples")
    slogen = import_specs("slo-generator", [slogen_dir / "prometheus", slogen_dir / "config.yaml"]).specs
    config, _ = samples()
    policies = [policy_for(s, config) for s in (*pyrra, *slogen)]
    doc = service_dashboard(config, policies)
    assert doc is not None
    rules = prometheus_rules(policies, config)
    queries = dashboard_queries(doc)
    assert model_problems(doc) == [] and record_problems(queries, rules, ALL) == []
    assert promtool_problems(queries, ALL, require_tool("promtool"), tmp_path) == []
    panel = next(p for p in doc["panels"] if p["title"] == "Alerts firing")
    alerts = " ".join(t["expr"] for t in panel["targets"])
    exported = [r for g in rules["groups"] for r in g["rules"] if "alert" in r]
    assert any("round(" in r["expr"] for r in exported) and any("for" in r for r in exported)
    assert all("\n  ".join(r["expr"].splitlines()) in alerts for r in exported)
    burn = next(p for p in doc["panels"] if p["title"] == "Burn rate")
    assert "slo:sli_error:ratio_rate4d" in " ".join(t["expr"] for t in burn["targets"])
    # the table: one fast-burn state per SLO, even where an import splits a speed into several alerts
    table = next(t["expr"] for p in doc["panels"] if p["title"] == "SLOs" for t in p["targets"] if t["refId"] == "E")
    split = [p for p in policies if sum(rules[0].speed == "fast" for _, _, rules in p.alerts()) > 1]
    assert split  # Pyrra's tiers wait differently: one alert each
    assert table.count("count without ()") == sum(any(r.speed == "fast" for r in p.rules) for p in policies)
