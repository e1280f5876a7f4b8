"""Corrections and maintenance windows (issue 16): validation, known answers on hand-built
histories, conservation of events (hypothesis), the alert replay, and the exported rules'
``unless srekit_maintenance`` in promtool."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from conftest import require_tool
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from srekit.analysis.alerting.analyze import analyze_alerting
from srekit.analysis.budget import budget_policy
from srekit.core.errors import ConfigError
from srekit.core.spec import SLOSpec
from srekit.exports.bundle import export_all
from srekit.exports.prometheus import MAINTENANCE_METRIC
from srekit.inputs.config import load_config, parse_config
from srekit.inputs.corrections import apply
from srekit.inputs.loaders import load_inputs

START = pd.Timestamp("2024-03-01", tz="UTC")
WEEK = pd.Timedelta(days=7)
BASE = {"service": "shop", "data": {"telemetry": "t.parquet"}, "oncall": {"coverage": "24x7"}}


def telemetry(minutes: int, outages: dict[tuple[int, int], int], per_min: int = 60, journey: str = "checkout"):
    """``per_min`` requests a minute; ``outages[(a, b)] = n``: n errors in each minute a..b-1."""
    idx = pd.date_range(START, periods=minutes, freq="min")
    err = np.zeros(minutes, dtype=np.int64)
    for (a, b), n in outages.items():
        err[a:b] = n
    tot = np.full(minutes, per_min, dtype=np.int64)
    return pd.DataFrame(
        {"journey": journey, "interval_start": idx, "total": tot, "errors": err, "le_100": tot - err, "le_1000": tot}
    )


def at(minute: int) -> str:
    return (START + pd.Timedelta(minutes=minute)).isoformat()


def cfg(*corrections, **extra):
    return parse_config({**BASE, **extra, "corrections": list(corrections)})


def spec(target=0.999, journey="checkout", window=WEEK):
    return SLOSpec(f"{journey}-availability", journey, "availability", target, window=window)


# ------------------------------------------------------------------------------ validation


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ({"start": "2024-03-02", "end": "2024-03-01", "reason": "x"}, "inverted window"),
        ({"start": "2024-03-02", "end": "2024-03-02", "reason": "x"}, "is not after start"),
        ({"start": "2024-03-02", "reason": "x"}, "exactly one of `end` and `duration`"),
        ({"start": "2024-03-02", "end": "2024-03-03", "duration": "1h", "reason": "x"}, "exactly one of"),
        ({"start": "2024-03-02", "rrule": "FREQ=WEEKLY", "reason": "x"}, "needs `duration`"),
        ({"start": "2024-03-02", "rrule": "FREQ=SOMETIMES", "duration": "1h", "reason": "x"}, "RFC 5545"),
        (
            {"start": "2024-03-02", "rrule": "DTSTART:20240101\nRRULE:FREQ=DAILY", "duration": "1h", "reason": "x"},
            "DTSTART",
        ),
        ({"start": "yesterday", "end": "2024-03-03", "reason": "x"}, "corrections[0].start"),
        ({"start": "2024-03-02", "end": "2024-03-03"}, "corrections[0].reason"),
        ({"start": "2024-03-02", "end": "2024-03-03", "reason": "x", "kind": "oops"}, "corrections[0].kind"),
        ({"start": "2024-03-02", "end": "2024-03-03", "reason": "x", "slos": []}, "corrections[0].slos"),
        ({"start": "2024-03-02", "end": "2024-03-03", "reason": "x", "color": "red"}, "unknown key"),
    ],
)
def test_bad_corrections_are_config_errors_naming_the_entry(entry, message):
    with pytest.raises(ConfigError) as err:
        cfg(entry)
    assert message in str(err.value)
    assert "corrections[0]" in str(err.value)


def test_overlapping_one_off_windows_are_refused_when_they_share_an_slo():
    a = {"start": at(0), "duration": "2h", "reason": "a", "slos": ["checkout"]}
    b = {"start": at(60), "duration": "2h", "reason": "b", "slos": ["checkout", "search"]}
    with pytest.raises(ConfigError, match=r"corrections\[0\] and corrections\[1\] overlap"):
        cfg(a, b)
    cfg(a, {**b, "slos": ["search"]})  # other journeys: fine


def test_unknown_slo_names_and_self_overlapping_rules_are_refused_against_the_data():
    tel = telemetry(3 * 1440, {})
    bad = cfg({"start": at(0), "duration": "1h", "reason": "x", "slos": ["checkout-availabilty"]})
    with pytest.raises(ConfigError, match=r"checkout-availabilty.*fix: use one of .*checkout-availability"):
        apply(bad, tel, None)
    hourly = cfg({"start": at(0), "rrule": "FREQ=HOURLY", "duration": "90m", "reason": "x"})
    with pytest.raises(ConfigError, match=r"longer than the time between occurrences"):
        apply(hourly, tel, None)
    once = {"start": at(30), "duration": "1h", "reason": "once"}
    daily = {"start": at(0), "rrule": "FREQ=DAILY", "duration": "1h", "reason": "daily"}
    with pytest.raises(ConfigError, match=r"overlap on journey 'checkout'"):
        apply(cfg(once, daily), tel, None)


def test_corrections_outside_the_data_are_a_counted_note(tmp_path):
    telemetry(1440, {}).to_parquet(tmp_path / "t.parquet")
    doc = {
        **BASE,
        "corrections": [
            {"start": "2020-01-01T00:00Z", "duration": "1h", "reason": "long ago"},
            {"start": at(60), "duration": "1h", "reason": "in the data"},
        ],
    }
    (tmp_path / "service.yaml").write_text(yaml.safe_dump(doc))
    inputs = load_inputs(load_config(tmp_path / "service.yaml"))
    entry = inputs.ledger[-1]
    assert entry.kind == "corrections"
    assert dict(entry.notes) == {
        "windows_in_data": 1,
        "corrections_outside_data": 1,
        "telemetry_rows_cleared": 60,
        "series_samples_cleared": 0,
    }
    assert inputs.telemetry["total"].sum() == (1440 - 60) * 60  # rows kept, counts cleared
    assert len(inputs.telemetry) == 1440


def test_recurring_maintenance_follows_local_wall_time_across_dst():
    """Sundays 03:00 Europe/Berlin: 01:00 UTC in summer time, 02:00 UTC after 27 October 2024."""
    idx = pd.date_range("2024-10-13", "2024-11-04", freq="min", tz="UTC")
    tel = pd.DataFrame({"journey": "checkout", "interval_start": idx, "total": 1, "errors": 0})
    c = cfg(
        {"start": "2024-10-13T03:00", "rrule": "FREQ=WEEKLY;BYDAY=SU", "duration": "30m", "reason": "db"},
        timezone="Europe/Berlin",
    )
    _, _, applied = apply(c, tel, None)
    assert [w.start.isoformat() for w in applied.windows] == [
        "2024-10-13T01:00:00+00:00",
        "2024-10-20T01:00:00+00:00",
        "2024-10-27T02:00:00+00:00",
        "2024-11-03T02:00:00+00:00",
    ]
    assert all(w.end - w.start == pd.Timedelta(minutes=30) for w in applied.windows)


# ------------------------------------------------------------------------------ known answers


def test_a_correction_covering_an_outage_returns_exactly_its_bad_events():
    """7 days at 60 requests/min, a 30-minute outage (40 errors/min = 1,200 bad) and a
    background of 1 error/min in minutes 100..199 (100 bad). A correction over the outage."""
    tel = telemetry(7 * 1440, {(5000, 5030): 40, (100, 200): 1})
    c = cfg({"start": at(5000), "end": at(5030), "reason": "failover test", "kind": "false_positive"})
    fixed, _, applied = apply(c, tel, None)
    s = spec()
    before = budget_policy(tel, None, [s], c).budgets[0]
    policy = budget_policy(fixed, None, [s], c, corrections=applied)
    after = policy.budgets[0]
    assert (before.bad_events, after.bad_events) == (1300, 100)
    assert (before.total_events, after.total_events) == (7 * 1440 * 60, (7 * 1440 - 30) * 60)
    (effect,) = policy.corrections
    (ret,) = effect.per_slo
    assert (ret.bad_events, ret.total_events, ret.bad_events_window) == (1200, 1800, 1200)
    allowed = (7 * 1440 - 30) * 60 * 0.001
    assert ret.budget_returned == pytest.approx(1200 / allowed, rel=1e-12)
    assert after.consumed == pytest.approx(100 / allowed, rel=1e-12)
    assert effect.windows == 1 and effect.excluded_minutes == 30.0
    json.dumps(policy.to_dict(), allow_nan=False)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    windows=st.lists(st.tuples(st.integers(0, 2000), st.integers(1, 300)), min_size=1, max_size=4),
    outages=st.lists(st.tuples(st.integers(0, 2100), st.integers(1, 200), st.integers(0, 60)), max_size=4),
)
def test_corrections_move_events_without_creating_or_losing_any(windows, outages):
    """Corrected bad + bad returned by every correction = uncorrected bad (and the same for all
    events), whatever the windows and outages; each returned event belongs to one correction."""
    spans = sorted(windows)
    disjoint, last = [], -1
    for a, n in spans:
        if a >= last:
            disjoint.append((a, n))
            last = a + n
    tel = telemetry(2400, {(a, a + n): e for a, n, e in outages})
    c = cfg(*({"start": at(a), "duration": f"{n}m", "reason": f"w{a}"} for a, n in disjoint))
    fixed, _, applied = apply(c, tel, None)
    s = spec(window=pd.Timedelta(days=2))
    before = budget_policy(tel, None, [s], c).budgets[0]
    policy = budget_policy(fixed, None, [s], c, corrections=applied)
    returned = [r for e in policy.corrections for r in e.per_slo]
    assert policy.budgets[0].bad_events + sum(r.bad_events_window for r in returned) == before.bad_events
    assert policy.budgets[0].total_events + sum(r.total_events_window for r in returned) == before.total_events
    covered = min(sum(min(n, 2400 - a) for a, n in disjoint if a < 2400), 2400)
    assert sum(e.excluded_minutes for e in policy.corrections) == covered


def test_no_alert_fires_in_a_maintenance_window_and_the_planned_incident_is_not_scored():
    """A 40-minute full outage pages within minutes; inside a maintenance window it does not, and
    the incident recorded for it is planned work, not a miss."""
    tel = telemetry(4 * 1440, {(3000, 3040): 60})
    incidents = pd.DataFrame(
        {
            "id": ["MAINT-1"],
            "journey": ["checkout"],
            "started_at": [START + pd.Timedelta(minutes=3000)],
            "mitigated_at": [START + pd.Timedelta(minutes=3040)],
            "resolved_at": [START + pd.Timedelta(minutes=3040)],
        }
    )
    s = spec(window=pd.Timedelta(days=30))
    plain = cfg()
    loud = analyze_alerting(tel, None, [s], incidents, None, plain)
    assert loud.overall is not None and loud.overall.firings >= 1 and loud.overall.recall == 1.0
    c = cfg({"start": at(2990), "end": at(3060), "reason": "planned failover", "slos": ["checkout-availability"]})
    fixed, _, applied = apply(c, tel, None)
    quiet = analyze_alerting(fixed, None, [s], incidents, None, c, corrections=applied)
    assert quiet.overall is not None and quiet.overall.firings == 0
    assert [(n.incident_id, n.reason) for n in quiet.not_scored] == [("MAINT-1", "corrected")]
    assert quiet.detections == ()
    d = quiet.to_dict()
    assert d["backtest"]["incident_scope"]["corrected"] == 1 and d["backtest"]["incident_scope"]["scored"] == 0


# ------------------------------------------------------------------------------ Prometheus


def _promtool(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([require_tool("promtool"), *args], cwd=cwd, capture_output=True, text=True, timeout=120)


def _export(tmp_path: Path) -> Path:
    c = parse_config({**BASE, "journeys": [{"name": "checkout", "slos": {"availability": 99.9}}]})
    export_all([spec(window=pd.Timedelta(days=28))], c, tmp_path, formats=("prometheus",))
    return tmp_path / "prometheus"


def test_exported_alerts_are_silent_during_maintenance_in_promtool(tmp_path):
    """The generated rules_test.yml replays an outage twice: paging, then silent with
    srekit_maintenance = 1; with the `unless` removed from the rules the second case fails."""
    d = _export(tmp_path)
    tests = yaml.safe_load((d / "rules_test.yml").read_text())
    names = [t["name"] for t in tests["tests"]]
    assert names == [
        "checkout-availability: quiet hour, then a full outage",
        f"checkout-availability: the same outage during maintenance ({MAINTENANCE_METRIC} = 1), no alert",
    ]
    assert _promtool("check", "rules", "rules.yml", cwd=d).returncode == 0
    ok = _promtool("test", "rules", "rules_test.yml", cwd=d)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    text = (d / "rules.yml").read_text()
    assert text.count("unless on()") == 2
    (d / "rules.yml").write_text(text.replace("unless on()", "or on()"))  # the guard turned into nothing
    broken = _promtool("test", "rules", "rules_test.yml", cwd=d)
    assert broken.returncode != 0 and "during maintenance" in broken.stdout + broken.stderr


def test_maintenance_of_the_whole_service_silences_and_of_another_journey_does_not(tmp_path):
    d = _export(tmp_path)
    tests = yaml.safe_load((d / "rules_test.yml").read_text())
    case = tests["tests"][1]
    flag = case["input_series"][-1]
    assert flag["series"] == 'srekit_maintenance{srekit_service="shop",srekit_journey="checkout"}'
    whole = {
        **case,
        "input_series": [*case["input_series"][:-1], {**flag, "series": 'srekit_maintenance{srekit_service="shop"}'}],
    }
    other = {
        **tests["tests"][0],
        "name": "other journey",
        "input_series": [
            *tests["tests"][0]["input_series"],
            {**flag, "series": 'srekit_maintenance{srekit_service="shop",srekit_journey="search"}'},
        ],
    }
    doc = {**tests, "tests": [whole, other]}
    (d / "scope_test.yml").write_text(yaml.safe_dump(doc, sort_keys=False))
    res = _promtool("test", "rules", "scope_test.yml", cwd=d)
    assert res.returncode == 0, res.stdout + res.stderr


def test_incidents_inside_maintenance_are_planned_and_left_out_of_response_metrics():
    """Three incidents resolved in 100, 120 and 140 minutes and one of 10 minutes inside a
    maintenance window: the median time to resolve is 120 minutes without it (100 with it). A
    data_loss window is not planned work."""
    from srekit.analysis.incidents.analyze import analyze_incidents
    from srekit.analysis.incidents.planned import planned_ids

    starts = [100, 1000, 2000, 3000]
    lengths = [10, 100, 120, 140]
    log = pd.DataFrame(
        {
            "id": ["PLANNED", "A", "B", "C"],
            "journey": "checkout",
            "started_at": [START + pd.Timedelta(minutes=m) for m in starts],
            "resolved_at": [START + pd.Timedelta(minutes=m + n) for m, n in zip(starts, lengths, strict=True)],
            "severity": "SEV2",
        }
    )
    tel = telemetry(3 * 1440, {})
    maint = cfg({"start": at(90), "end": at(150), "reason": "migration"})
    _, _, applied = apply(maint, tel, None)
    assert planned_ids(log, applied.windows) == ("PLANNED",)
    lost = cfg({"start": at(90), "end": at(150), "reason": "exporter down", "kind": "data_loss"})
    assert planned_ids(log, apply(lost, tel, None)[2].windows) == ()
    d = analyze_incidents(log, maint, rng=np.random.default_rng(1), planned=("PLANNED",)).to_dict()
    assert d["incidents"] == 3 and d["planned_incidents"] == ["PLANNED"]
    assert d["metrics"]["ttr"]["median_s"] == 120 * 60 and d["metrics"]["ttr"]["n"] == 3
    everything = analyze_incidents(log, maint, rng=np.random.default_rng(1)).to_dict()
    # Kaplan–Meier median of 10, 100, 120, 140 min: the first time survival reaches 0.5
    assert everything["incidents"] == 4 and everything["metrics"]["ttr"]["median_s"] == 100 * 60


def test_the_samples_maintenance_windows_reach_every_section():
    """The sample service.yaml's planned failover drill (E12) and weekly maintenance, through
    `Analysis` as `srekit analyze` runs it: the drill returns exactly the checkout errors of its
    30 minutes in the telemetry file, and no alert fires inside a window."""
    from conftest import SAMPLES

    from srekit.report.cache import Analysis

    config = load_config(SAMPLES / "service.yaml")
    assert [c.kind for c in config.corrections] == ["maintenance", "maintenance"]
    a = Analysis(config, generated_at=pd.Timestamp("2026-11-01", tz="UTC"))
    raw = pd.read_parquet(SAMPLES / "telemetry.parquet")
    drill = config.corrections[0]
    end = drill.start + drill.duration
    inside = (raw["journey"] == "checkout") & (raw["interval_start"] >= drill.start) & (raw["interval_start"] < end)
    report = a.report_dict
    first, weekly = report["error_budget_policy"]["corrections"]
    avail = next(r for r in first["slos_affected"] if r["slo"] == "checkout-availability")
    assert avail["bad_events"] == int(raw.loc[inside, "errors"].sum()) > 0
    assert weekly["windows_in_data"] == 13 and weekly["rrule"] == "FREQ=WEEKLY;BYDAY=SU"
    windows = a.inputs.corrections.windows
    firings = a.alerting.firings
    for w in windows:
        assert not ((firings["start"] >= w.start) & (firings["start"] < w.end)).any()


def test_a_hostile_reason_is_shown_as_text_in_html_and_markdown():
    """The reason is user text: escaped where it lands (HTML tables, report.md), kept as it came
    in report.json."""
    from srekit.report import tables
    from srekit.report.markdown import md_display
    from srekit.report.nbshow import table_html

    reason = "<img src=x onerror=alert(1)> | *bold* [link](javascript:alert(1))"
    tel = telemetry(2 * 1440, {(100, 110): 50})
    c = cfg({"start": at(90), "duration": "1h", "reason": reason})
    fixed, _, applied = apply(c, tel, None)
    report = {"error_budget_policy": budget_policy(fixed, None, [spec()], c, corrections=applied).to_dict()}
    assert report["error_budget_policy"]["corrections"][0]["reason"] == reason
    table = tables.corrections_table(report)
    html = table_html(table)
    assert "<img" not in html and "&lt;img src=x onerror=alert(1)&gt;" in html
    md = "\n".join(md_display(table))
    assert "\\<img src\\=x" in md and "\\[link\\](javascript" in md and "\\| \\*bold\\*" in md  # literal text
