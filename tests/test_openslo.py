"""OpenSLO v1: exported documents pass the official JSON Schemas; the in-code validator
reproduces the upstream schema test's 40 verdicts; SLO files read back into SLOSpecs."""

from __future__ import annotations

import copy
import datetime
import json

import pandas as pd
import pytest
import yaml
from conftest import external

from srekit.analysis.alerting.policy import design_policy
from srekit.core.errors import ConfigError
from srekit.core.spec import SLOSpec
from srekit.exports.openslo import openslo_documents
from srekit.inputs.config import parse_config
from srekit.inputs.openslo import load_documents, read_openslo_specs, validate_document

SPECS = (
    SLOSpec("checkout-availability", "checkout", "availability", 0.999, window=pd.Timedelta(days=30)),
    SLOSpec("checkout-latency", "checkout", "latency", 0.99, threshold_ms=300),
    SLOSpec("checkout-p95", "checkout", "timeslice", 0.95, threshold_ms=600),
    SLOSpec(
        "search-slices",
        "search",
        "availability",
        0.99,
        budgeting="Timeslices",
        timeslice_target=0.95,
        timeslice_window=pd.Timedelta(minutes=5),
        window=pd.Timedelta(days=7),
    ),
)


def config(**extra):
    return parse_config(
        {"service": "Shop Front", "data": {"telemetry": "t.parquet"}, "oncall": {"coverage": "24x7"}, **extra}
    )


@pytest.fixture(scope="module")
def schema_validator():
    import jsonschema
    import referencing
    from referencing.jsonschema import DRAFT7

    root = external("openslo", "schemas", "v1")
    resources = []
    for p in sorted(root.rglob("*.json")):
        s = json.loads(p.read_text())
        resources.append((s["$id"], referencing.Resource.from_contents(s, default_specification=DRAFT7)))
    registry = referencing.Registry().with_resources(resources)
    schema = json.loads((root / "openslo.schema.json").read_text())
    return jsonschema.Draft7Validator(schema, registry=registry)


def _docs():
    c = config()
    return [d for s in SPECS for d in openslo_documents(design_policy(s, c), c)]


def test_exported_documents_pass_the_official_schemas(schema_validator):
    docs = _docs()
    kinds = {d["kind"] for d in docs}
    assert kinds == {"SLI", "SLO", "AlertPolicy", "AlertCondition", "AlertNotificationTarget"}
    for d in docs:
        errors = [e.message for e in schema_validator.iter_errors(d)]
        assert not errors, (d["kind"], d["metadata"]["name"], errors)
        assert validate_document(d) == [], d


def test_burnrate_conditions_carry_the_policy():
    docs = _docs()
    conds = [
        d for d in docs if d["kind"] == "AlertCondition" and d["metadata"]["name"].startswith("checkout-availability")
    ]
    got = [
        (
            c["spec"]["severity"],
            c["spec"]["condition"]["lookbackWindow"],
            c["spec"]["condition"]["alertAfter"],
            round(c["spec"]["condition"]["threshold"], 6),
        )
        for c in conds
    ]
    assert got == [
        ("page", "1h", "5m", 14.4),
        ("page", "6h", "30m", 6.0),
        ("ticket", "1d", "2h", 3.0),
        ("ticket", "3d", "6h", 1.0),
    ]
    policies = [d for d in docs if d["kind"] == "AlertPolicy"]
    assert all(len(p["spec"]["conditions"]) == 1 for p in policies)  # the spec allows exactly one


def test_validator_reproduces_the_upstream_verdicts(schema_validator):
    root = external("openslo")
    expected = json.loads((root / "expected-validity.json").read_text())
    base = root / expected["spec_files_dir"]
    cases = [(f, True) for f in expected["valid"]] + [(f, False) for f in expected["invalid"]]
    assert len(cases) == 40
    for rel, valid in cases:
        (doc,) = load_documents(base / rel)
        assert (validate_document(doc) == []) is valid, (rel, validate_document(doc))
        assert schema_validator.is_valid(doc) is valid, rel
    # and it agrees with the schemas on the spec files outside the table too
    for path in sorted(base.rglob("*.yaml")):
        (doc,) = load_documents(path)
        assert (validate_document(doc) == []) is schema_validator.is_valid(doc), path.name


def test_timestamps_stay_text():
    # PyYAML would turn this into a datetime; the schema's pattern needs the text
    path = external("openslo", "schema-test", "spec-files", "v1", "slo", "slo-indicatorref-calendar-alerts.yaml")
    (doc,) = load_documents(path)
    assert doc["spec"]["timeWindow"][0]["calendar"]["startTime"] == "2020-01-21 12:30:00"
    assert isinstance(
        yaml.safe_load(path.read_text())["spec"]["timeWindow"][0]["calendar"]["startTime"], datetime.datetime
    )


@pytest.mark.parametrize(
    "mutate, problem",
    [
        (lambda d: d["spec"]["timeWindow"][0].update(duration="30s"), "does not match"),
        (lambda d: d["spec"]["timeWindow"][0].update(duration="0d"), "does not match"),
        (lambda d: d["spec"]["objectives"][0].update(target=1.0), "[0, 1)"),
        (lambda d: d["spec"].update(budgetingMethod="Ratio"), "Occurrences or Timeslices"),
        (lambda d: d["spec"].update(budgetingMethod="Timeslices"), "timeSliceWindow"),
        (lambda d: d["spec"].update(indicator={"metadata": {"name": "x"}}), "exactly one of"),
        (lambda d: d["metadata"].update(name="Checkout SLO"), "does not match"),
    ],
)
def test_validator_rules(mutate, problem, schema_validator):
    slo = next(d for d in _docs() if d["kind"] == "SLO")
    bad = copy.deepcopy(slo)
    mutate(bad)
    problems = validate_document(bad)
    assert any(problem in p for p in problems), problems
    assert not schema_validator.is_valid(bad)


def test_round_trip_through_files(tmp_path):
    c = config()
    paths = []
    for s in SPECS:
        p = tmp_path / f"{s.name}.yaml"
        p.write_text(yaml.safe_dump_all(openslo_documents(design_policy(s, c), c), sort_keys=False))
        paths.append(p)
    assert read_openslo_specs(paths) == SPECS


def test_read_upstream_slo_with_inline_indicator():
    path = external("openslo", "schema-test", "spec-files", "v1", "slo", "slo-no-indicatorref-rolling-alerts.yaml")
    (s,) = read_openslo_specs([path])
    assert (s.name, s.journey, s.sli, s.target) == ("test-slo", "the-service-name", "availability", 0.98)
    assert s.window == pd.Timedelta(days=30) and s.window_kind == "rolling"  # 1M ≈ 30 days


def test_unresolved_indicator_ref_names_the_file():
    path = external("openslo", "schema-test", "spec-files", "v1", "slo", "slo-indicatorref-rolling-alerts.yaml")
    with pytest.raises(ConfigError, match="indicatorRef"):
        read_openslo_specs([path])


def test_upstream_examples_are_rejected_with_the_reason(schema_validator):
    # the upstream examples folder has typos (`objective`, `ratioMethic`): invalid by the schema too
    path = external("openslo", "examples", "budgeting-method", "occurences-slo.yaml")
    (doc,) = load_documents(path)
    assert not schema_validator.is_valid(doc)
    with pytest.raises(ConfigError, match=r"occurences-slo.yaml.*objectives"):
        read_openslo_specs([path])


def test_missing_file_is_a_config_error(tmp_path):
    with pytest.raises(ConfigError, match="does not exist"):
        read_openslo_specs([tmp_path / "nope.yaml"])


def _exported(spec: SLOSpec) -> list[dict]:
    c = config()
    return openslo_documents(design_policy(spec, c), c)


def test_calendar_window_other_than_a_month_is_refused(tmp_path):
    """Review: a calendar window of ``1d`` or ``1w`` (``isRolling: false``) was read as a
    calendar *month*: a daily budget judged over a month. srekit budgets calendar months only,
    so anything else must be a ConfigError naming the file, not a silent month."""
    s = SLOSpec("a", "checkout", "availability", 0.999, window=pd.Timedelta(days=30), window_kind="calendar_month")
    docs = _exported(s)
    slo = next(d for d in docs if d["kind"] == "SLO")
    assert slo["spec"]["timeWindow"][0]["duration"] == "1M"
    ok = tmp_path / "month.yaml"
    ok.write_text(yaml.safe_dump_all(docs, sort_keys=False))
    assert read_openslo_specs([ok])[0].window_kind == "calendar_month"
    slo["spec"]["timeWindow"][0]["duration"] = "1w"
    bad = tmp_path / "week.yaml"
    bad.write_text(yaml.safe_dump_all(docs, sort_keys=False))
    with pytest.raises(ConfigError, match=r"week.yaml.*calendar"):
        read_openslo_specs([bad])


def test_threshold_objective_with_a_lower_bound_is_refused(tmp_path):
    """Review: srekit counts a threshold (timeslice) sample as bad when it is above the
    objective's ``value`` (``op: lte``). An objective with ``op: gte``/``gt`` (good when at or
    above, e.g. throughput) was read with the comparison silently inverted."""
    s = SLOSpec("p95", "checkout", "timeslice", 0.99, threshold_ms=600)
    docs = _exported(s)
    slo = next(d for d in docs if d["kind"] == "SLO")
    assert slo["spec"]["objectives"][0]["op"] == "lte"
    slo["spec"]["objectives"][0]["op"] = "gte"
    path = tmp_path / "gte.yaml"
    path.write_text(yaml.safe_dump_all(docs, sort_keys=False))
    with pytest.raises(ConfigError, match=r"gte.yaml.*op"):
        read_openslo_specs([path])
