"""``fleet.yaml`` (``srekit.inputs.fleet``): paths, globs and folders; defaults under every
service with the service's own keys winning; team and tier; what makes the whole fleet unusable
(exit 2) and what only fails one service; and ``srekit samples --fleet``."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import yaml
from conftest import ROOT

from srekit.core.errors import ConfigError
from srekit.inputs.config import parse_config
from srekit.inputs.fleet import MAX_SERVICES, fleet_json_schema, load_fleet, merge
from srekit.inputs.samples import FLEET_SERVICES, fleet_service, write_fleet_samples


def service(folder: Path, name: str, **extra: object) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    p = folder / "service.yaml"
    p.write_text(yaml.safe_dump({"service": name, "data": {"telemetry": "t.parquet"}, **extra}))
    return p


def fleet_file(root: Path, doc: object) -> Path:
    p = root / "fleet.yaml"
    p.write_text(yaml.safe_dump(doc, sort_keys=False))
    return p


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    service(tmp_path / "pay" / "api", "pay-api", tier=2, owners={"slo": "dan"})
    service(tmp_path / "pay" / "ledger", "ledger")
    service(tmp_path / "web", "web", team="storefront", slo={"window": "7d"})
    return tmp_path


def test_paths_globs_folders_defaults_team_and_tier(tree: Path) -> None:
    """Defaults under every service, the entry's team and tier over the defaults, the
    service's own keys over both; mappings merge key by key."""
    path = fleet_file(
        tree,
        {
            "fleet": "shop",
            "services": [{"path": "pay/*/service.yaml", "team": "payments", "tier": 1}, "web"],
            "defaults": {
                "timezone": "Europe/Berlin",
                "slo": {"window": "30d", "window_kind": "rolling"},
                "owners": {"default": "sre"},
                "team": "platform",
                "oncall": {"coverage": "24x7"},
            },
            "report": {"keep": 4},
        },
    )
    fleet = load_fleet(path)
    assert fleet.name == "shop" and fleet.report.keep == 4 and fleet.report.out == tree / "reports"
    by = {m.name: m for m in fleet.members}
    assert [m.label for m in fleet.members] == ["pay/api/service.yaml", "pay/ledger/service.yaml", "web/service.yaml"]
    api, ledger, web = by["pay-api"], by["ledger"], by["web"]
    assert (api.team, api.tier, ledger.team, ledger.tier, web.team, web.tier) == (
        "payments",
        2,  # its service.yaml says tier 2: the service wins over its entry
        "payments",
        1,
        "storefront",  # its own team over the defaults' platform
        None,
    )
    assert api.config is not None and web.config is not None and ledger.config is not None
    assert dict(api.config.owners) == {"default": "sre", "slo": "dan"}  # merged key by key
    assert api.config.slo.window == pd.Timedelta(days=30) and web.config.slo.window == pd.Timedelta(days=7)
    assert web.config.timezone == "Europe/Berlin" and web.config.oncall.coverage == "24x7"
    assert api.config.path == tree / "pay" / "api" / "service.yaml"
    assert api.config.data["telemetry"] == tree / "pay" / "api" / "t.parquet"  # relative to its service.yaml


def test_a_folder_is_a_fleet_of_every_service_yaml_below_it(tree: Path) -> None:
    (tree / ".hidden").mkdir()
    service(tree / ".hidden", "ghost")
    fleet = load_fleet(tree)
    assert fleet.path is None and fleet.name == tree.name and fleet.defaults == {}
    assert sorted(m.name for m in fleet.members) == ["ledger", "pay-api", "web"]


def test_an_unusable_service_fails_alone(tree: Path) -> None:
    (tree / "pay" / "ledger" / "service.yaml").write_text(
        "service: ledger\ndata: {telemetry: t.parquet}\nslo: {window: 0d}\n"
    )
    (tree / "broken").mkdir()
    (tree / "broken" / "service.yaml").write_text("service: [unclosed\n")
    fleet = load_fleet(fleet_file(tree, {"services": ["pay", "web", "broken"], "defaults": {"owner": "sre"}}))
    assert [m.name for m in fleet.usable] == ["pay-api", "web"]
    bad = {m.label: m.error or "" for m in fleet.unusable}
    assert "slo.window: a duration must be positive" in bad["pay/ledger/service.yaml"]
    assert "read with the defaults of" in bad["pay/ledger/service.yaml"]
    assert "not valid YAML" in bad["broken/service.yaml"]


@pytest.mark.parametrize(
    ("doc", "message"),
    [
        ({"services": []}, "services: List should have at least 1 item"),
        ({"services": ["nowhere/*/service.yaml"]}, r"services\[0\] 'nowhere/\*/service.yaml' matches no file"),
        ({"services": ["web/missing.yaml"]}, "matches no file"),
        ({"services": ["web", "web/service.yaml"]}, r"listed twice \(services\[0\] and services\[1\]\)"),
        (
            {"services": ["web"], "defaults": {"service": "x"}},
            "defaults.service: unknown key.*valid keys under defaults",
        ),
        ({"services": ["web"], "defaults": {"data": {"telemetry": "x"}}}, "defaults.data: unknown key"),
        ({"services": ["web"], "defaults": {"slo": {"window": "0d"}}}, "defaults.slo.window: a duration must be"),
        ({"services": ["web"], "defaults": {"tier": 100}}, "defaults.tier: a numbered tier is a whole number"),
        ({"services": [{"path": "web", "team": 5}]}, r"services\[0\].team: a name is text"),
        (
            {"services": [{"path": "web", "colour": "red"}]},
            "unknown key.*valid keys under services.0: path, team, tier",
        ),
        ({"services": ["web"], "report": {"path_template": "x/{service}"}}, r"\{service\} is not allowed"),
        ({"services": ["web"], "report": {"path_template": "fleet"}}, r"needs \{date\}"),
        ({"services": ["web"], "report": {"keep": "2"}}, "report.keep"),
        ({"servics": ["web"]}, "servics: unknown key.*valid keys under the top level: fleet, services"),
        (["web"], "expected a mapping at the top level"),
    ],
)
def test_an_unusable_fleet_file_names_the_key_and_the_fix(tree: Path, doc: object, message: str) -> None:
    with pytest.raises(ConfigError, match=message) as err:
        load_fleet(fleet_file(tree, doc))
    assert "fleet.yaml" in str(err.value) and "fix:" in str(err.value)


def test_duplicate_names_and_colliding_folders_make_the_fleet_unusable(tree: Path) -> None:
    service(tree / "copy", "web")
    with pytest.raises(ConfigError, match="'web' .* and 'web' .* have the same name"):
        load_fleet(fleet_file(tree, {"services": ["web", "copy"]}))
    service(tree / "copy", "Web")  # the same folder name on a case-insensitive disk
    with pytest.raises(ConfigError, match=r"the same report folder name \(web\)"):
        load_fleet(fleet_file(tree, {"services": ["web", "copy"]}))


def test_no_usable_service_is_the_fleets_problem(tree: Path) -> None:
    (tree / "web" / "service.yaml").write_text("service: web\n")  # no data source
    with pytest.raises(ConfigError, match="no usable service .*web/service.yaml: .*no data source"):
        load_fleet(fleet_file(tree, {"services": ["web"]}))
    with pytest.raises(ConfigError, match="fleet file .* does not exist. fix: pass --config path/to/fleet.yaml"):
        load_fleet(tree / "nope.yaml")


def test_too_many_services(tree: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import srekit.inputs.fleet as fl

    monkeypatch.setattr(fl, "MAX_SERVICES", 2)
    with pytest.raises(ConfigError, match="3 services is more than the 2 one fleet may have"):
        load_fleet(tree)
    assert MAX_SERVICES >= 1000


def test_merge_is_deep_for_mappings_only() -> None:
    assert merge({"a": {"b": 1, "c": [1]}, "d": 1}, {"a": {"c": [2]}, "e": 2}) == {
        "a": {"b": 1, "c": [2]},
        "d": 1,
        "e": 2,
    }


def test_team_and_tier_in_service_yaml() -> None:
    c = parse_config({"service": "s", "data": {"telemetry": "t"}, "team": "payments", "tier": 1})
    assert (c.team, c.tier) == ("payments", 1)
    assert parse_config({"service": "s", "data": {"telemetry": "t"}, "tier": "gold"}).tier == "gold"
    for bad in (True, 1.5, 100, "", ["1"]):
        with pytest.raises(ConfigError, match="tier"):
            parse_config({"service": "s", "data": {"telemetry": "t"}, "tier": bad})


def test_schema_command_prints_the_fleet_schema(tmp_path: Path) -> None:
    out = subprocess.run(
        [sys.executable, "-m", "srekit.cli", "schema", "--fleet"], capture_output=True, text=True, check=True, cwd=ROOT
    )
    schema = json.loads(out.stdout)
    assert schema == json.loads(json.dumps(fleet_json_schema()))
    assert schema["title"] == "srekit fleet.yaml" and schema["required"] == ["services"]
    assert "service" not in schema["$defs"]["DefaultsDoc"]["properties"]
    assert {"slo", "oncall", "owners", "prometheus", "tier"} <= set(schema["$defs"]["DefaultsDoc"]["properties"])


def test_sample_fleet_is_deterministic_and_varied(tmp_path: Path) -> None:
    """Service k is the same whatever the size of the fleet; the services differ in traffic,
    errors, incidents and owners; the fleet file reads back with every service usable."""
    a, b = tmp_path / "a", tmp_path / "b"
    write_fleet_samples(a, services=3, days=14, seed=5)
    write_fleet_samples(b, services=2, days=14, seed=5)
    for rel in ("payments/payments-api/telemetry.parquet", "storefront/storefront-web/incidents.csv"):
        assert (a / rel).read_bytes() == (b / rel).read_bytes()
    fleet = load_fleet(a / "fleet.yaml")
    assert [m.name for m in fleet.members] == ["search-api", "payments-api", "storefront-web"]
    assert {m.team for m in fleet.members} == {"discovery", "payments", "storefront"}
    assert all(m.config is not None and m.config.slo.window == pd.Timedelta(days=28) for m in fleet.members)
    services = [fleet_service(i, days=90, seed=7) for i in range(len(FLEET_SERVICES) + 1)]
    assert len({s.rpm for s in services}) == len(services) and len({s.owner for s in services}) > 4
    assert len({len(s.events) for s in services}) > 3 and services[-1].name == "storefront-web-2"
    truth = json.loads((a / "ground_truth.json").read_text())
    assert [s["service"] for s in truth["services"]] == ["storefront-web", "payments-api", "search-api"]
    tel = pd.read_parquet(a / "payments/payments-api/telemetry.parquet")
    assert sorted(tel["journey"].unique()) == ["authorize", "capture", "refund"]


def test_samples_fleet_cli_refuses_raw_log_options(tmp_path: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "srekit.cli", "samples", "--fleet", "2", "--rps", "3", "--out", str(tmp_path)],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert proc.returncode == 2 and "--rps cannot be used with --fleet" in proc.stderr
