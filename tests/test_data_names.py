"""Journey names that only the data carries. ``service.yaml`` refuses control characters and line
breaks in the names it holds, but a telemetry file may hold any text; with no journey named, the
analysis proposes SLOs for the busiest journeys of the file, and their names go into every export.

``srekit analyze`` (as a user runs it) must write all of it, and each format must read back the
names as the data has them. The Prometheus rules must pass promtool's check and their own unit
tests, the OpenSLO files must be read by the importer, and the Grafana dashboard must pass its
self-check (it reads only recorded series). Names with a newline, a NEL (which PyYAML folds to a
space), a line separator, C1 and C0 controls, and an unbalanced regex bracket once stopped the run
with "a bug in srekit".
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import yaml
from conftest import ROOT, SAMPLES, require_tool

from srekit.cli.aggregate import summary
from srekit.inputs.aggregate import aggregate_files
from srekit.inputs.ledger import LedgerEntry
from srekit.inputs.loaders import load_telemetry
from srekit.inputs.openslo import read_openslo_specs, validate_document

NAMES = {
    "checkout": 'check\nout\r "q\\ \t\x1b[0m',
    "browse": "bro\u2028wse \x9b[31m (",
    "search": "se\x85arch",  # NEL alone: PyYAML would write it plain and read it back as a space
    "refunds": "re\u2029funds {{ .Labels }}",
}


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("data-names")
    tel = pd.read_parquet(SAMPLES / "telemetry.parquet")
    tel["journey"] = tel["journey"].map(NAMES).astype("str")
    tel.to_parquet(root / "telemetry.parquet", index=False)
    (root / "service.yaml").write_text("service: names\ndata:\n  telemetry: telemetry.parquet\nslo:\n  window: 28d\n")
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "srekit.cli",
            "analyze",
            "--config",
            str(root / "service.yaml"),
            "--out",
            str(root / "out"),
        ],
        capture_output=True,
        text=True,
        timeout=600,
        cwd=ROOT,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return root / "out"


def _critical(out: Path) -> list[str]:
    names = json.loads((out / "report.json").read_text(encoding="utf-8"))["slo_proposal"]["critical_journeys"]
    assert len(names) >= 3 and set(names) <= set(NAMES.values())  # the hostile names are the ones exported
    return list(names)


def test_rules_pass_promtool_and_read_back_as_the_names(run: Path) -> None:
    promtool = require_tool("promtool")
    prom = run / "rules" / "prometheus"
    for args in (["check", "rules", "rules.yml"], ["test", "rules", "rules_test.yml"]):
        done = subprocess.run([promtool, *args], cwd=prom, capture_output=True, text=True)
        assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    rules = yaml.safe_load((prom / "rules.yml").read_text(encoding="utf-8"))
    labels = {r["labels"]["srekit_journey"] for g in rules["groups"] for r in g["rules"] if "record" in r}
    assert labels == set(_critical(run))


def test_openslo_files_read_back_as_the_names(run: Path) -> None:
    files = sorted((run / "rules" / "openslo").glob("*.yaml"))
    for path in files:
        assert all(validate_document(doc) == [] for doc in yaml.safe_load_all(path.read_text(encoding="utf-8")))
    assert {s.journey for s in read_openslo_specs(files)} == set(_critical(run))


def test_the_dashboard_selects_every_journey(run: Path) -> None:
    doc = json.loads(next((run / "rules" / "grafana").glob("*.json")).read_text(encoding="utf-8"))
    journey = next(v for v in doc["templating"]["list"] if v["name"] == "journey")
    assert journey["allValue"] == "(?s:.*)"  # "All" matches names with a line break on Prometheus 2 as well


def test_command_output_keeps_a_name_on_its_line(run: Path) -> None:
    """``srekit gate`` (read by CI logs): one line per SLO, no control character or line separator
    from a name reaches the terminal (a name cannot fake a PASS line or recolour the log)."""
    done = subprocess.run(
        [sys.executable, "-m", "srekit.cli", "gate", "--config", str(run.parent / "service.yaml")],
        capture_output=True,
        text=True,
        timeout=600,
        cwd=ROOT,
    )
    assert done.returncode in (0, 1), done.stderr[-3000:]
    lines = done.stdout.splitlines()
    slos = json.loads((run / "report.json").read_text(encoding="utf-8"))["error_budget_policy"]["slos"]
    assert len(lines) == 1 + len(slos) and all(line.startswith("  ") for line in lines[1:])
    assert not re.search("[\x00-\x1f\x7f-\x9f\u2028\u2029]", done.stdout.replace("\n", ""))
    assert "check\\nout\\r" in done.stdout  # the name as escapes, readable


def test_the_aggregate_summary_keeps_a_name_on_its_line() -> None:
    entry = LedgerEntry(kind="requests", source="r.csv", rows_read=2, rows_accepted=2)
    text = summary(entry, 2, list(NAMES.values()))
    assert len(text.splitlines()) == 2 and "se\\x85arch" in text


def test_names_trimmed_of_white_space_are_counted(tmp_path: Path) -> None:
    """``"checkout "`` and ``" checkout\\u2028"`` are ``checkout`` (white space at the ends of a
    name is not kept: the spellings become one journey), and the ledger counts the rows: the
    telemetry loader (few distinct names, and a column of many), and ``srekit aggregate``."""
    tel = pd.read_parquet(SAMPLES / "telemetry.parquet")
    tel["journey"] = tel["journey"].astype("str").replace({"search": "checkout ", "browse": " checkout\u2028"})
    tel.to_parquet(tmp_path / "t.parquet", index=False)
    loaded = load_telemetry(tmp_path / "t.parquet")
    moved = int((pd.read_parquet(SAMPLES / "telemetry.parquet")["journey"].isin(["search", "browse"])).sum())
    assert loaded.entry.notes["journey_trimmed"] == moved and set(loaded.frame["journey"]) == {"checkout", "refunds"}
    few = pd.DataFrame(
        {
            "interval_start": pd.date_range("2026-01-01", periods=6, freq="1min", tz="UTC"),
            "journey": [" a", "b ", "c", "d", "e\u2028", None],  # distinct names: read cell by cell
            "total": 1,
            "errors": 0,
            "le_100": 1,
        }
    )
    few.to_csv(tmp_path / "few.csv", index=False)
    assert load_telemetry(tmp_path / "few.csv").entry.notes["journey_trimmed"] == 3
    requests = pd.DataFrame(
        {
            "timestamp": ["2026-01-01T00:00:00Z"] * 4,
            "latency_ms": [1, 2, 3, 4],
            "status": 200,
            "journey": ["a", " a", "a\u2028", "NA"],
            "region": ["eu", "eu ", "eu", "us"],
        }
    )
    requests.to_csv(tmp_path / "r.csv", index=False)
    frame, entry = aggregate_files([tmp_path / "r.csv"], by=["region"])
    assert entry.notes["journey_trimmed"] == 2 and entry.notes["label_trimmed"] == 1
    assert frame.set_index(["journey", "region"])["total"].to_dict() == {("a", "eu"): 3, ("unknown", "us"): 1}
