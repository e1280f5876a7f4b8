"""service.yaml is validated against a strict schema: wrong types, shapes and values are a
ConfigError naming the key path, never a silently different configuration or a traceback."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from srekit.core.errors import ConfigError
from srekit.inputs.config import MAX_YAML_BYTES, json_schema, load_config, parse_config
from tests.conftest import SAMPLES

BASE: dict[str, Any] = {"service": "shop", "data": {"telemetry": "t.parquet"}}


def with_(**changes: Any) -> dict[str, Any]:
    return {**BASE, **changes}


@pytest.mark.parametrize(
    ("raw", "where"),
    [
        (with_(journeys="checkout"), r"journeys: Input should be a valid list"),
        (
            with_(journeys=[{"name": "a", "critical": "no"}]),
            r"journeys\[0\]\.critical: Input should be a valid boolean",
        ),
        (with_(journeys=[{"name": "a", "slos": {"availability": 1.5}}]), r"availability: 1\.5 is ambiguous"),
        (with_(journeys=[{"name": "a", "slos": {"availability": "99.9"}}]), r"availability: a target is a number"),
        (with_(journeys=[{"name": "a", "slos": {"latency": {"threshold_ms": -5}}}]), r"threshold_ms: Input should be"),
        (with_(journeys=[{"name": "a"}, "a"]), r"appear more than once"),
        (with_(journeys=[{"name": "x" * 300}]), r"journeys\[0\]\.name: a name has at most 128"),
        (with_(journeys=[{"name": "a\nb"}]), r"control characters"),
        (with_(journeys=[{"name": "a\x85b"}]), r"control characters or line breaks"),  # NEL: YAML folds it
        (with_(journeys=[{"name": "a\u2028b"}]), r"control characters or line breaks"),
        (with_(service="svc\x9b"), r"control characters or line breaks"),  # a C1 control
        (with_(slo={"window": "0d"}), r"slo\.window: a duration must be positive"),
        (with_(slo={"window": 28}), r"slo\.window: a duration is text"),
        (with_(slo={"targets": []}), r"slo\.targets: .*at least 1"),
        (with_(slo={"targets": {"a": 0.99}}), r"slo\.targets: Input should be a valid tuple"),
        (with_(slo={"window_kind": "weekly"}), r"slo\.window_kind: Input should be 'rolling' or 'calendar_month'"),
        (with_(toil={"team_size": "five"}), r"toil\.team_size: Input should be a valid integer"),
        (with_(report={"keep": -1}), r"report\.keep: Input should be greater than or equal to 1"),
        (with_(report={"keep": "2"}), r"report\.keep: Input should be a valid integer"),
        (
            with_(report={"path_template": "{service.__class__}"}),
            r"path_template: \{service\.__class__\} is not allowed",
        ),
        (with_(report={"path_template": "../{service}"}), r"must stay inside the output folder"),
        (with_(report={"path_template": "{service!r}"}), r"is not allowed"),
        (with_(data=["t.parquet"]), r"data: Input should be a valid dictionary"),
        # a list of series files is refused (one file per kind), not read as its first file
        (with_(data={"series": ["a.csv", "b.csv"]}), r"data\.series: Input should be a valid string"),
        (with_(data={"telemetry": "t.parquet", "telemetry_interval": "0m"}), r"data\.telemetry_interval: a duration"),
        (with_(data={"telemetry": "t.parquet", "telemetry_interval": 60}), r"data\.telemetry_interval: a duration"),
        (with_(data={"series": "s.csv", "series_unit": "minutes"}), r"data\.series_unit: Input should be"),
        (with_(data={"loadtest": "x.out", "loadtest_unit": "ns"}), r"data\.loadtest_unit: Input should be"),
        (with_(data={"telemetry": "t.parquet", "incidents_format": "pagerdooty"}), r"data\.incidents_format"),
        (with_(data={"telemetri": "t.parquet"}), r"data\.telemetri: unknown key.*valid keys under data"),
        (with_(timezone="Mars/Olympus"), r"timezone: unknown time zone"),
        (with_(oncall={"engineers": 0}), r"oncall\.engineers"),
        (with_(alerting={"budget_shares": {"1h": 2}}), r"budget_shares\.1h"),
        (with_(prometheus={"latency_unit": "furlongs"}), r"prometheus\.latency_unit"),
        (with_(service=""), r"service: a name cannot be empty"),
        (with_(service=["a"]), r"service: a name is text"),
        ({"service": "x"}, r"no data source"),
        ([1, 2], r"expected a mapping at the top level"),
    ],
)
def test_bad_config_names_the_key(raw: Any, where: str) -> None:
    with pytest.raises(ConfigError, match=where) as err:
        parse_config(raw)
    assert "fix:" in str(err.value)


def test_targets_as_fraction_or_percent() -> None:
    cfg = parse_config(
        with_(
            journeys=[{"name": "a", "slos": {"availability": 99.9, "latency": {"target": 0.99, "threshold_ms": 300}}}]
        )
    )
    j = cfg.journeys[0]
    assert j.availability_target == pytest.approx(0.999) and j.latency_target == 0.99 and j.latency_threshold_ms == 300
    assert parse_config(with_(slo={"targets": [99, 0.995]})).slo.targets == pytest.approx((0.99, 0.995))


def test_relative_paths_resolve_against_the_file(tmp_path: Path) -> None:
    (tmp_path / "service.yaml").write_text("service: s\ndata: {telemetry: t.parquet}\nslo: {openslo: [o.yaml]}\n")
    cfg = load_config(tmp_path / "service.yaml")
    assert cfg.data["telemetry"] == tmp_path / "t.parquet"
    assert cfg.slo.openslo == (tmp_path / "o.yaml",) and cfg.report.out == tmp_path / "reports"


def test_relative_config_path_is_made_absolute(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "service.yaml").write_text("service: s\ndata: {telemetry: t.parquet}\n")
    monkeypatch.chdir(tmp_path)
    cfg = load_config("service.yaml")
    assert cfg.path is not None and cfg.path.is_absolute() and cfg.data["telemetry"].is_absolute()


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"service: s\ndata: {telemetry: t}\nowner: \xff\xfe\n", "not UTF-8"),
        (b"service: [unclosed\n", "not valid YAML"),
        (b"service: s\ndata: {telemetry: t}\nx: !!python/object/apply:os.system ['true']\n", "not valid YAML"),
    ],
)
def test_unreadable_files(tmp_path: Path, content: bytes, message: str) -> None:
    p = tmp_path / "service.yaml"
    p.write_bytes(content)
    with pytest.raises(ConfigError, match=message):
        load_config(p)


def test_folder_and_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="is a folder"):
        load_config(tmp_path)
    with pytest.raises(ConfigError, match="does not exist"):
        load_config(tmp_path / "nope.yaml")


def test_alias_bomb_is_refused_fast(tmp_path: Path) -> None:
    """A few hundred bytes of nested aliases (the "billion laughs") would expand to 10^9 values."""
    lines = ['a0: &a0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for i in range(1, 10):
        lines.append(f"a{i}: &a{i} [" + ",".join([f"*a{i - 1}"] * 10) + "]")
    p = tmp_path / "service.yaml"
    p.write_text("\n".join(lines) + "\nservice: s\n")
    assert p.stat().st_size < 1000
    t0 = time.perf_counter()
    with pytest.raises(ConfigError, match="expands to more than"):
        load_config(p)
    assert time.perf_counter() - t0 < 5


def test_shared_anchor_within_bounds_is_fine(tmp_path: Path) -> None:
    p = tmp_path / "service.yaml"
    p.write_text(
        "service: s\ndata: {telemetry: t}\njourneys: [{name: a, critical: &c false}, {name: b, critical: *c}]\n"
    )
    assert [j.critical for j in load_config(p).journeys] == [False, False]


def test_oversized_file_is_refused(tmp_path: Path) -> None:
    p = tmp_path / "service.yaml"
    p.write_text("service: s\n# " + "x" * MAX_YAML_BYTES + "\n")
    with pytest.raises(ConfigError, match="more than the 1,000,000"):
        load_config(p)


def test_schema_validates_the_samples_and_rejects_what_parse_rejects() -> None:
    schema = json_schema()
    validator = jsonschema.Draft202012Validator(schema)
    sample = yaml.safe_load((SAMPLES / "service.yaml").read_text())
    assert not list(validator.iter_errors(sample))
    assert list(validator.iter_errors({**sample, "journeys": "checkout"}))
    assert list(validator.iter_errors({**sample, "sloo": {}}))
    assert json.loads(json.dumps(schema)) == schema  # plain JSON, no Python objects


# a JSON-like value: what yaml.safe_load can produce
_json = st.recursive(
    st.none() | st.booleans() | st.integers(-(10**20), 10**20) | st.floats(allow_nan=True) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4),
    max_leaves=25,
)
_keys = st.sampled_from(
    ["service", "data", "journeys", "slo", "oncall", "alerting", "toil", "report", "owners", "timezone"]
)


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(_keys, _json, max_size=6))
def test_any_yaml_value_gives_a_config_or_a_config_error(raw: dict[str, Any]) -> None:
    try:
        cfg = parse_config(raw)
    except ConfigError:
        return
    assert cfg.service == raw["service"].strip()
