"""Writing an objective into service.yaml (srekit.inputs.config_edit): only the keys that change
are touched, comments, order, quoting and indentation stay, the result passes the schema, and
SLOs that live elsewhere are refused."""

from __future__ import annotations

import difflib
from pathlib import Path

import pandas as pd
import pytest
import yaml

from srekit.core.errors import ConfigError
from srekit.inputs.config import parse_config
from srekit.inputs.config_edit import Objective, keep_slo, set_slo

DOC = """\
# checkout's service (comments stay where they are)
service: shopfront                 # required
data:
  telemetry: telemetry.parquet
journeys:
  - name: checkout
    owner: payments-team
    slos:
      availability: 99.9           # 0.999 and 99.9 both mean 99.9 %
      latency: {threshold_ms: 1500, target: 0.99}
  - browse                         # a bare name is a journey without targets
  - name: "search"
    critical: false
slo:
  window: 28d
"""


def changed(before: str, after: str) -> list[str]:
    return [
        line
        for line in difflib.unified_diff(before.splitlines(), after.splitlines(), lineterm="", n=0)
        if line[:1] in "+-" and not line.startswith(("---", "+++"))
    ]


def parsed(text: str) -> object:
    return parse_config(yaml.safe_load(text))


def test_a_percentage_stays_a_percentage_and_nothing_else_moves() -> None:
    after, notes = set_slo(DOC, Objective("checkout", "availability", 0.9995))
    assert changed(DOC, after) == [
        "-      availability: 99.9           # 0.999 and 99.9 both mean 99.9 %",
        "+      availability: 99.95          # 0.999 and 99.9 both mean 99.9 %",
    ]
    assert notes == ()
    assert parsed(after).journey("checkout").availability_target == pytest.approx(0.9995)  # type: ignore[attr-defined]


def test_a_flow_mapping_is_updated_in_place() -> None:
    after, _ = set_slo(DOC, Objective("checkout", "latency", 0.995, threshold_ms=750.0))
    assert changed(DOC, after) == [
        "-      latency: {threshold_ms: 1500, target: 0.99}",
        "+      latency: {threshold_ms: 750, target: 0.995}",
    ]


def test_a_bare_name_becomes_a_mapping_keeping_its_comment() -> None:
    after, _ = set_slo(DOC, Objective("browse", "latency", 0.99, threshold_ms=300.0))
    assert changed(DOC, after) == [
        "-  - browse                         # a bare name is a journey without targets",
        "+  - name: browse                   # a bare name is a journey without targets",
        "+    slos:",
        "+      latency:",
        "+        threshold_ms: 300",
        "+        target: 0.99",
    ]


def test_a_non_critical_journey_becomes_critical_and_quotes_stay() -> None:
    after, notes = set_slo(DOC, Objective("search", "availability", 0.99))
    assert '  - name: "search"' in after and "    critical: true" in after
    assert any("critical: true" in n for n in notes)
    assert parsed(after).journey("search").critical  # type: ignore[attr-defined]


def test_the_window_is_written_once_and_said_to_apply_to_every_slo() -> None:
    after, notes = set_slo(DOC, Objective("checkout", "availability", 0.999, window=pd.Timedelta(days=30)))
    assert changed(DOC, after) == ["-  window: 28d", "+  window: 30d"]  # 99.9 is kept as written
    assert notes == ("Set slo.window to 30d: it applies to every SLO of the service.",)
    same, none = set_slo(DOC, Objective("checkout", "availability", 0.999, window=pd.Timedelta(weeks=4)))
    assert same == DOC and none == ()  # 4w is 28d: nothing to change
    month, _ = set_slo(DOC, Objective("checkout", "availability", 0.999, window_kind="calendar_month"))
    assert changed(DOC, month) == ["+  window_kind: calendar_month"]


def test_without_a_journeys_list_the_analysed_journeys_are_listed_too() -> None:
    doc = "service: s\ndata: {telemetry: t.parquet}\nslo:\n  window: 28d\n"
    after, notes = set_slo(doc, Objective("search", "availability", 0.995), list_also=["checkout", "browse", "search"])
    config = parsed(after)
    assert [j.name for j in config.journeys] == ["checkout", "browse", "search"]  # type: ignore[attr-defined]
    assert config.journey("search").availability_target == 0.995  # type: ignore[attr-defined]
    assert after.index("journeys:") < after.index("slo:") and "busiest journeys" in notes[0]


def test_other_indentation_styles_are_kept() -> None:
    doc = "service: s\ndata:\n    telemetry: t.parquet\njourneys:\n- name: a\n  slos:\n      availability: 0.99\n"
    after, _ = set_slo(doc, Objective("a", "availability", 0.995))
    assert changed(doc, after) == ["-      availability: 0.99", "+      availability: 0.995"]


def test_slos_defined_in_full_are_updated_there(tmp_path: Path) -> None:
    doc = DOC + (
        "slos:\n"
        "  - name: checkout-avail\n"
        "    journey: checkout\n"
        "    sli: availability\n"
        "    target: 0.999\n"
        "    alerting:                      # Sloth's policy\n"
        "      source: sloth\n"
        "      rules:\n"
        "        - {severity: page, long_window: 1h, short_window: 5m, burn_rate: 14.4}\n"
    )
    after, notes = set_slo(doc, Objective("checkout", "availability", 0.995, name="checkout-avail"))
    assert changed(doc, after) == ["-    target: 0.999", "+    target: 0.995"] and notes == ()
    added, notes = set_slo(doc, Objective("browse", "latency", 0.99, threshold_ms=300.0))
    assert "  - name: browse-latency" in added and notes == ("Added browse-latency to the slos: list.",)
    assert len(parsed(added).slos) == 2  # type: ignore[attr-defined]
    with pytest.raises(ConfigError, match="calendar-month"):
        set_slo(doc, Objective("checkout", "availability", 0.99, window_kind="calendar_month"))


@pytest.mark.parametrize("key", ["openslo", "import"])
def test_slos_from_other_files_are_refused(key: str) -> None:
    doc = DOC + f"  {key}: [specs/]\n"
    with pytest.raises(ConfigError, match=f"remove slo.{key}"):
        set_slo(doc, Objective("checkout", "availability", 0.995))


def test_keep_validates_before_it_writes_and_returns_the_diff(tmp_path: Path) -> None:
    path = tmp_path / "service.yaml"
    path.write_text("\ufeff" + DOC)
    edit = keep_slo(path, Objective("checkout", "availability", 0.9995))
    assert edit.changed and path.read_text().startswith("\ufeff") and "99.95" in path.read_text()
    assert edit.diff().startswith("--- a/service.yaml\n+++ b/service.yaml\n")
    assert edit.config.journey("checkout").availability_target == pytest.approx(0.9995)  # type: ignore[union-attr]
    bad = tmp_path / "bad.yaml"
    bad.write_text(DOC.replace("  - browse ", '  - "bro\\twse" '))  # a tab: a name the schema refuses
    before = bad.read_text()
    with pytest.raises(ConfigError):
        keep_slo(bad, Objective("checkout", "availability", 0.9995))
    assert bad.read_text() == before  # nothing written
    with pytest.raises(ValueError, match="fraction"):
        Objective("checkout", "availability", 1.5)
