"""Prometheus rules, promtool unit tests, runbooks: checked by the real promtool and against
Sloth's golden output."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pandas as pd
import pytest
import yaml
from conftest import external, require_tool

from srekit.analysis.alerting.policy import design_policy
from srekit.analysis.alerting.runbooks import runbook_file
from srekit.core.errors import ConfigError
from srekit.core.files import MAX_NAME_BYTES
from srekit.core.spec import SLOSpec
from srekit.exports.bundle import export_all
from srekit.exports.prometheus import prometheus_rules, promtool_tests
from srekit.inputs.config import parse_config
from srekit.inputs.promql import le_text

D30 = pd.Timedelta(days=30)


def config(**extra):
    return parse_config(
        {"service": "shop", "data": {"telemetry": "t.parquet"}, "oncall": {"coverage": "24x7"}, **extra}
    )


SPECS = (
    SLOSpec("checkout-availability", "checkout", "availability", 0.999, window=D30),
    SLOSpec("checkout-latency", "checkout", "latency", 0.99, window=pd.Timedelta(days=28), threshold_ms=300),
    SLOSpec("browse-availability", "browse", "availability", 0.995, window=D30),
    SLOSpec("checkout-p95", "checkout", "timeslice", 0.99, threshold_ms=600),
)


def promtool(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([require_tool("promtool"), *args], cwd=cwd, capture_output=True, text=True, timeout=120)


def test_export_all_writes_rules_tests_runbooks_openslo(tmp_path):
    paths = export_all(SPECS, config(), tmp_path)
    rel = sorted(str(p.relative_to(tmp_path)) for p in paths)
    assert "prometheus/rules.yml" in rel and "prometheus/rules_test.yml" in rel
    assert "runbooks/CheckoutAvailabilityBudgetBurnFast.md" in rel
    assert "openslo/checkout-latency.yaml" in rel and "README.md" in rel
    assert all(p.exists() and p.stat().st_size > 0 for p in paths)
    readme = (tmp_path / "README.md").read_text()
    assert "checkout-p95: timeslice SLIs are not exported to Prometheus" in readme


def test_promtool_checks_and_unit_tests_pass(tmp_path):
    export_all(SPECS, config(), tmp_path, formats=("prometheus",))
    d = tmp_path / "prometheus"
    check = promtool("check", "rules", "rules.yml", cwd=d)
    assert check.returncode == 0, check.stdout + check.stderr
    assert "SUCCESS" in check.stdout
    test = promtool("test", "rules", "rules_test.yml", cwd=d)
    assert test.returncode == 0, test.stdout + test.stderr
    doc = yaml.safe_load((d / "rules_test.yml").read_text())
    assert len(doc["tests"]) == 6  # two per exportable SLO: outage pages, quiet hour silent; silent in maintenance
    assert all(t["alert_rule_test"][-1]["exp_alerts"] == [] for t in doc["tests"][1::2])
    first = doc["tests"][0]["alert_rule_test"]
    assert first[0]["eval_time"] == "30m" and first[0]["exp_alerts"] == []
    assert first[-1]["exp_alerts"][0]["exp_labels"]["severity"] == "page"


def test_promtool_catches_a_wrong_expectation(tmp_path):
    """The generated tests have teeth: claiming the page fires in the quiet hour fails."""
    export_all(SPECS[:1], config(), tmp_path, formats=("prometheus",))
    d = tmp_path / "prometheus"
    doc = yaml.safe_load((d / "rules_test.yml").read_text())
    checks = doc["tests"][0]["alert_rule_test"]
    checks[0]["exp_alerts"] = checks[-1]["exp_alerts"]
    (d / "bad_test.yml").write_text(yaml.safe_dump(doc))
    res = promtool("test", "rules", "bad_test.yml", cwd=d)
    assert res.returncode != 0
    assert "FAILED" in res.stdout + res.stderr


def test_custom_metric_names_selector_and_ms_histogram(tmp_path):
    c = config(
        prometheus={
            "request_counter": "shop_requests_total",
            "status_label": "status",
            "error_status_regex": "5..|429",
            "latency_histogram": "shop_latency_ms",
            "latency_unit": "milliseconds",
            "journey_label": "route",
            "selector": 'job="shop"',
        },
        alerting={"labels": {"team": "storefront"}},
    )
    export_all(SPECS[:2], c, tmp_path, formats=("prometheus",))
    text = (tmp_path / "prometheus" / "rules.yml").read_text()
    assert 'shop_requests_total{job="shop",route="checkout",status=~"5..|429"}' in text
    assert 'shop_latency_ms_bucket{job="shop",route="checkout",le="300"}' in text
    assert "team: storefront" in text
    d = tmp_path / "prometheus"
    assert promtool("check", "rules", "rules.yml", cwd=d).returncode == 0
    res = promtool("test", "rules", "rules_test.yml", cwd=d)
    assert res.returncode == 0, res.stdout + res.stderr


def test_le_label_text():
    assert le_text(250, "seconds") == "0.25"
    assert le_text(1000, "seconds") == "1"
    assert le_text(1500, "milliseconds") == "1500"


def test_period_ratio_is_request_weighted():
    rules = prometheus_rules([design_policy(SPECS[0], config())], config())
    rec = {r["record"]: r["expr"] for r in rules["groups"][0]["rules"]}
    period = rec["slo:sli_error:ratio_rate30d"]
    # sum of bad rates over sum of total rates (request-weighted), not an average of ratios
    assert period.startswith("sum_over_time(slo:sli_errors:rate5m")
    assert "sum_over_time(slo:sli_requests:rate5m" in period and "count_over_time" not in period
    assert rec["slo:sli_error:ratio_rate1h"].count("sum(rate(") == 2


def _sloth_pairs(text: str) -> set[tuple[str, str, str, float]]:
    """(severity, short, long, factor) from Sloth's generated alert expressions."""
    docs = [d for d in yaml.safe_load_all(text) if d]
    out = set()
    for g in docs[0]["groups"]:
        for r in g["rules"]:
            if "alert" not in r:
                continue
            sev = r["labels"]["sloth_severity"]
            found = re.findall(r"ratio_rate(\w+)\{[^}]*\} > \(([\d.]+) \*", r["expr"])
            for (w1, f1), (w2, _f2) in zip(found[::2], found[1::2], strict=True):
                out.add((sev, w1, w2, round(float(f1), 4)))
    return out


def _ours(window: pd.Timedelta) -> set[tuple[str, str, str, float]]:
    from srekit.core.timeutil import format_duration

    p = design_policy(SLOSpec("x", "x", "availability", 0.999, window=window), config())
    return {
        (r.severity, format_duration(r.short_window), format_duration(r.long_window), round(r.burn_rate, 4))
        for r in p.rules
    }


def test_same_windows_and_factors_as_sloth_30d():
    text = external("sloth", "examples", "_gen", "getting-started.yml").read_text()
    sloth = _sloth_pairs(text)
    assert sloth == _ours(D30)
    assert ("page", "5m", "1h", 14.4) in sloth
    # Sloth's period ratio averages 5-minute ratios (count_over_time); ours is request-weighted
    assert "count_over_time(slo:sli_error:ratio_rate5m" in text


def test_same_windows_and_factors_as_sloth_28d():
    text = external("sloth", "test", "integration", "prometheus", "testdata", "out-base-28d.yaml.tpl").read_text()
    text = re.sub(r"\{\{[^}]*\}\}", "x", text)  # template placeholders
    assert _sloth_pairs(text) == _ours(pd.Timedelta(days=28))


def test_promtool_tests_skip_what_cannot_be_synthesised():
    c = config(prometheus={"selector": 'job=~"shop.*"'})
    doc, skipped = promtool_tests([design_policy(s, c) for s in SPECS], c)
    assert doc["tests"] == []
    assert any("equality matchers" in s for s in skipped)
    assert any("timeslice" in s for s in skipped)


def test_runbook_sections_and_queries(tmp_path):
    export_all(SPECS[:2], config(), tmp_path, formats=("prometheus",))
    text = (tmp_path / "runbooks" / "CheckoutLatencyBudgetBurnFast.md").read_text()
    for heading in ("## What it means", "## User impact", "## First checks", "## Mitigation", "## Escalation"):
        assert heading in text
    assert "slo:sli_error:ratio_rate1h" in text and "```promql" in text
    assert "Roll back" in text and "300 ms" in text
    assert "13.44x" in text  # the 28-day page factor
    rules = yaml.safe_load((tmp_path / "prometheus" / "rules.yml").read_text())
    alerts = [r for g in rules["groups"] for r in g["rules"] if "alert" in r]
    assert {a["annotations"]["runbook_url"].rsplit("/", 1)[1] for a in alerts} == {
        p.name for p in (tmp_path / "runbooks").iterdir()
    }


def test_period_ratio_request_weighted_in_prometheus(tmp_path):
    """In the real rule engine: 30 min at 6/10 bad per minute, then 30 min at 1/102. Our period
    ratio lands in (0.06, 0.07] around 7/112 = 0.0625 (request-weighted); Sloth's average of
    5-minute ratios is above 0.2."""
    spec = SLOSpec("api-availability", "api", "availability", 0.999, window=D30)
    c = config()
    export_all([spec], c, tmp_path, formats=("prometheus",))
    d = tmp_path / "prometheus"
    sel = '{srekit_slo="api-availability"}'
    checks = {
        "groups": [
            {
                "name": "checks",
                "rules": [
                    {"alert": "WeightedAbove6", "expr": f"slo:sli_error:ratio_rate30d{sel} > 0.06"},
                    {"alert": "WeightedAbove7", "expr": f"slo:sli_error:ratio_rate30d{sel} > 0.07"},
                    {"alert": "AveragedAbove20", "expr": f"avg_over_time(slo:sli_error:ratio_rate5m{sel}[30d]) > 0.20"},
                ],
            }
        ]
    }
    (d / "checks.yml").write_text(yaml.safe_dump(checks))
    labels = {"srekit_service": "shop", "srekit_slo": "api-availability", "srekit_journey": "api"}
    test = {
        "rule_files": ["rules.yml", "checks.yml"],
        "evaluation_interval": "1m",
        "tests": [
            {
                "interval": "1m",
                "input_series": [
                    {"series": 'http_requests_total{handler="api",code="200"}', "values": "0+4x30 221+101x29"},
                    {"series": 'http_requests_total{handler="api",code="500"}', "values": "0+6x30 181+1x29"},
                ],
                "alert_rule_test": [
                    {"eval_time": "60m", "alertname": "WeightedAbove6", "exp_alerts": [{"exp_labels": labels}]},
                    {"eval_time": "60m", "alertname": "WeightedAbove7", "exp_alerts": []},
                    {"eval_time": "60m", "alertname": "AveragedAbove20", "exp_alerts": [{"exp_labels": labels}]},
                ],
            }
        ],
    }
    (d / "weighted_test.yml").write_text(yaml.safe_dump(test))
    res = promtool("test", "rules", "weighted_test.yml", cwd=d)
    assert res.returncode == 0, res.stdout + res.stderr


def test_runbook_queries_are_valid_promql(tmp_path):
    """Every query in every runbook parses in Prometheus (checked as recording rules)."""
    export_all(SPECS, config(), tmp_path, formats=("prometheus",))
    queries = []
    for md in sorted((tmp_path / "runbooks").glob("*.md")):
        for block in re.findall(r"```promql\n(.*?)```", md.read_text(), flags=re.S):
            queries += [q.strip() for q in block.splitlines() if q.strip() and not q.strip().startswith("#")]
    assert len(queries) > 20
    rules = {
        "groups": [
            {"name": "runbook", "rules": [{"record": f"runbook:q{i}", "expr": q} for i, q in enumerate(queries)]}
        ]
    }
    (tmp_path / "runbook_queries.yml").write_text(yaml.safe_dump(rules))
    res = promtool("check", "rules", "runbook_queries.yml", cwd=tmp_path)
    assert res.returncode == 0, res.stdout + res.stderr


def test_odd_names_are_quoted(tmp_path):
    odd = SLOSpec('api "v2" / pay', 'api "v2"', "availability", 0.999, window=D30)
    paths = export_all([odd], config(), tmp_path)
    assert (tmp_path / "openslo" / "api-v2-pay.yaml") in paths
    d = tmp_path / "prometheus"
    for args in (("check", "rules", "rules.yml"), ("test", "rules", "rules_test.yml")):
        res = promtool(*args, cwd=d)
        assert res.returncode == 0, res.stdout + res.stderr


def test_le_label_unit_aliases_match_the_prometheus_pull():
    """Review: ``latency_unit: s`` is read as seconds by the Prometheus pull
    (``srekit.inputs.prometheus.le_to_ms``), so the exported rules must query le="0.3" for 300 ms,
    not le="300" (a bucket that does not exist: every request would count as slow)."""
    import pytest

    from srekit.core.errors import ConfigError
    from srekit.inputs.prometheus import le_to_ms
    from srekit.inputs.promql import sli_queries

    assert le_text(300, "s") == "0.3" and le_to_ms(le_text(300, "s"), "s") == 300
    assert le_text(300, "ms") == "300" and le_to_ms(le_text(300, "ms"), "ms") == 300
    c = config(prometheus={"latency_unit": "s"})
    bad, _ = sli_queries(SPECS[1], c.prometheus, "5m")
    assert 'le="0.3"' in bad
    with pytest.raises(ConfigError, match="latency_unit"):
        le_text(300, "second")


def test_error_regex_with_backslashes_is_escaped_in_promql(tmp_path):
    r"""Review: ``error_status_regex: 5\d\d`` went into the PromQL string literal unescaped
    and promtool rejected every rule ("unknown escape sequence U+0064 'd'"). The regex must be
    written as a PromQL string (backslashes doubled), and still match only 5xx."""
    c = config(prometheus={"error_status_regex": r"5\d\d"})
    export_all(SPECS[:1], c, tmp_path, formats=("prometheus",))
    d = tmp_path / "prometheus"
    assert 'code=~"5\\\\d\\\\d"' in (d / "rules.yml").read_text()
    check = promtool("check", "rules", "rules.yml", cwd=d)
    assert check.returncode == 0, check.stdout + check.stderr
    res = promtool("test", "rules", "rules_test.yml", cwd=d)  # the outage (code 500) still pages
    assert res.returncode == 0, res.stdout + res.stderr


def test_two_services_with_the_same_slo_name_do_not_cross_alert(tmp_path):
    """Review: recorded series carry ``srekit_service``, but the alert and period-ratio
    selectors matched only ``srekit_slo``: with the rules of two services loaded in one
    Prometheus, an outage of service b also fired service a's alert (a duplicate page). Both
    services here name their SLO ``checkout-availability``; only b has an outage."""
    s = SPECS[0]
    for svc in ("a", "b"):
        c = parse_config(
            {
                "service": svc,
                "data": {"telemetry": "t.parquet"},
                "oncall": {"coverage": "24x7"},
                "prometheus": {"selector": f'job="{svc}"'},
            }
        )
        export_all([s], c, tmp_path / svc, formats=("prometheus",))
        assert (
            f'{{srekit_service="{svc}",srekit_slo="checkout-availability"}}'
            in (tmp_path / svc / "prometheus" / "rules.yml").read_text()
        )
    doc = yaml.safe_load((tmp_path / "b" / "prometheus" / "rules_test.yml").read_text())
    doc["rule_files"] = ["a/prometheus/rules.yml", "b/prometheus/rules.yml"]
    doc["tests"][0]["input_series"].append(  # service a: clean traffic throughout
        {"series": 'http_requests_total{job="a",handler="checkout",code="200"}', "values": "0+100x200"}
    )
    (tmp_path / "both_test.yml").write_text(yaml.safe_dump(doc))
    res = promtool("test", "rules", "both_test.yml", cwd=tmp_path)
    assert res.returncode == 0, res.stdout + res.stderr  # exactly one alert: service b's


def test_period_equal_to_an_alert_window_records_it_once(tmp_path):
    """Review: a 3-day SLO's period ratio and its 3d ticket window both recorded
    ``slo:sli_error:ratio_rate3d`` with the same labels: promtool's lint found a duplicate rule
    and evaluation failed ("duplicate sample for timestamp")."""
    s = SLOSpec("a", "checkout", "availability", 0.999, window=pd.Timedelta(days=3))
    export_all([s], config(), tmp_path, formats=("prometheus",))
    d = tmp_path / "prometheus"
    assert (d / "rules.yml").read_text().count("record: slo:sli_error:ratio_rate3d") == 1
    check = promtool("check", "rules", "rules.yml", cwd=d)
    assert check.returncode == 0 and "duplicate" not in check.stdout + check.stderr, check.stdout + check.stderr
    res = promtool("test", "rules", "rules_test.yml", cwd=d)
    assert res.returncode == 0, res.stdout + res.stderr


def test_slos_whose_names_collide_as_files_are_refused_not_overwritten(tmp_path):
    """``a-b`` and ``A b`` are different journeys but the same alert and OpenSLO file name."""
    specs = (
        SLOSpec("a-b-availability", "a-b", "availability", 0.999, window=D30),
        SLOSpec("A b-availability", "A b", "availability", 0.999, window=D30),
    )
    with pytest.raises(ConfigError, match=r"SLO 'a-b-availability' and the SLO 'A b-availability' would both be"):
        export_all(specs, config(), tmp_path)
    assert not any(tmp_path.iterdir())  # nothing half-written


def test_long_journey_names_keep_one_file_per_slo_and_alert(tmp_path):
    """Names longer than a file name keep their start and a hash of the whole: the fast and slow
    alerts of an 80-character journey get a runbook each, and the availability and latency SLOs
    of a 128-character journey (the longest name the loader takes) an OpenSLO file each."""
    specs = tuple(
        SLOSpec(f"{j}-{sli}", j, sli, 0.99, window=D30, threshold_ms=300.0 if sli == "latency" else None)
        for j in ("a" * 80, "b" * 128)
        for sli in ("availability", "latency")
    )
    policies = [design_policy(s, config()) for s in specs]
    export_all(specs, config(), tmp_path, policies=policies)
    alerts = [a for p in policies for a, _, _ in p.alerts()]
    assert len({runbook_file(a) for a in alerts}) == len(alerts) == len(list((tmp_path / "runbooks").iterdir()))
    assert len(list((tmp_path / "openslo").glob("*.yaml"))) == 4
    assert all(len(p.stem) <= MAX_NAME_BYTES for p in tmp_path.rglob("*"))  # a stem, then .md or .yaml


def test_export_file_names_stay_inside_the_folder(tmp_path):
    specs = (SLOSpec("../../x/..-availability", "../../x/..", "availability", 0.999, window=D30),)
    paths = export_all(specs, config(service="../../etc"), tmp_path / "out")
    assert paths and all((tmp_path / "out").resolve() in p.resolve().parents for p in paths)
    assert sorted(p.name for p in (tmp_path / "out" / "openslo").iterdir()) == ["x-..-availability.yaml"]
