"""Real, messy files from ../shared/external load with their quirks in the ledger (exact counts)."""

from __future__ import annotations

import pandas as pd
import pytest
from conftest import external

from srekit.inputs import loaders as io

pytestmark = pytest.mark.external

NAB = ("nab", "data", "realKnownCause", "ec2_request_latency_system_failure.csv")
MS = ("microsoft-cloud-monitoring-dataset", "data")


def test_nab_latency_in_new_york_time() -> None:
    got = io.load_series(external(*NAB), tz="America/New_York")
    e = got.entry
    assert (e.rows_read, e.rows_accepted, dict(e.rejected)) == (4032, 4032, {})
    # 12 rows share the stamp 2014-03-09 03:00 (11 repeats); in New York time the 64-minute
    # jump at the DST start is a 4-minute step, so only the 10-minute gap of 2014-03-16 remains.
    assert dict(e.notes) == {"duplicate_timestamps": 11, "gaps": 1}
    assert e.start == pd.Timestamp("2014-03-07 08:41", tz="UTC")
    assert e.end == pd.Timestamp("2014-03-21 07:41", tz="UTC")
    assert (got.frame["timestamp"] == pd.Timestamp("2014-03-09 07:00", tz="UTC")).sum() == 12


def test_nab_latency_read_as_utc_shows_the_dst_jump_as_a_gap() -> None:
    e = io.load_series(external(*NAB)).entry
    assert dict(e.notes) == {"duplicate_timestamps": 11, "gaps": 2}


def test_microsoft_api_series_duplicate_at_dst_end() -> None:
    got = io.load_series(external(*MS, "ecommerce-api-incoming-rps", "api-01.csv"))
    e = got.entry
    assert (e.rows_read, e.rows_accepted) == (6192, 6192)
    assert e.notes["duplicate_timestamps"] == 1
    dup = got.frame.loc[got.frame["timestamp"].duplicated(), "timestamp"].item()
    assert dup == pd.Timestamp("2017-11-05 01:00", tz="UTC")
    # ... and its one gap is the missing 02:00 "Z" hour of the US DST start on 2018-03-11.
    assert e.notes["gaps"] == 1
    stamps = got.frame["timestamp"]
    gap_end = stamps[stamps.diff() > pd.Timedelta(hours=1)].item()
    assert gap_end == pd.Timestamp("2018-03-11 03:00", tz="UTC")


def test_microsoft_unavailable_crlf_quoted() -> None:
    p = external(*MS, "service-unavailable", "unavail-01.csv")
    assert b"\r\n" in p.read_bytes()[:200]
    got = io.load_series(p)
    e = got.entry
    assert (e.rows_read, e.rows_accepted, dict(e.rejected)) == (15840, 15840, {})
    assert dict(e.notes) == {"zero_values": 15838}
    assert got.frame["value"].sum() > 0


def test_github_statuspage_json() -> None:
    got = io.load_incidents(external("github-incident-history", "incidents.statuspage.json"))
    e = got.entry
    assert (e.rows_read, e.rows_accepted) == (1282, 1279)
    assert dict(e.rejected) == {"resolved before started": 3}
    assert sorted(got.rejects["id"]) == ["nk9gdvl03ztg", "qb2vmff9bnf5", "qrrdvssfmrs2"]
    # 13 were first posted before their recorded start: that detection stamp is cleared (a
    # negative time to detect is not a measurement), the incidents are kept
    assert dict(e.notes) == {"preset_statuspage": 1282, "zero_duration": 836, "cleared_detected_before_started": 13}
    assert got.frame["detected_at"].isna().sum() == 13
    assert ((got.frame["detected_at"] - got.frame["started_at"]).dropna() >= pd.Timedelta(0)).all()
    assert got.frame["severity"].value_counts().to_dict() == {
        "SEV3": 1046,
        "SEV2": 199,
        "SEV4": 32,
        "SEV1": 2,
    }  # impact minor/major/none/critical minus the 3 rejected (2 minor, 1 none)


def test_github_derived_csv_matches_json() -> None:
    cols = {"title": "name", "severity": "impact", "detected_at": "created_at", "mitigated_at": "monitoring_at"}
    csv = io.load_incidents(external("github-incident-history", "github_incidents.derived.csv"), columns=cols)
    js = io.load_incidents(external("github-incident-history", "incidents.statuspage.json"))
    assert csv.entry.rejected == js.entry.rejected
    assert csv.frame["id"].tolist() == js.frame["id"].tolist()
    pd.testing.assert_series_equal(csv.frame["resolved_at"], js.frame["resolved_at"])
    # the same flat CSV through the statuspage preset (components as a text cell)
    pre = io.load_incidents(external("github-incident-history", "github_incidents.derived.csv"), fmt="statuspage")
    assert pre.entry.rejected == js.entry.rejected and dict(pre.entry.notes) == dict(js.entry.notes)
    pd.testing.assert_series_equal(pre.frame["severity"], js.frame["severity"])
    # journey = first entry of the CSV's `components` cell ("Issues;Issues" -> "Issues")
    j = pre.frame.set_index("id")["journey"]
    assert (j["1qhyzvdmm4mz"], j["pkzmfdxt5jpf"]) == ("Git Operations", "Issues") and pd.isna(j["rcwk6twq397d"])


def test_gcp_incidents_json_and_csv() -> None:
    js = io.load_incidents(external("cloud-status-history", "app", "public", "incidents.json"))
    assert (js.entry.rows_read, js.entry.rows_accepted, dict(js.entry.rejected)) == (157, 157, {})
    assert dict(js.entry.notes) == {"preset_gcp": 157, "cleared_detected_before_started": 1}
    # the one posted 20 min 8 s before its begin keeps its begin; its detection stamp is cleared
    assert js.rejects.empty and js.frame["detected_at"].isna().sum() == 1
    raw = io.read_json(external("cloud-status-history", "app", "public", "incidents.json"))
    gone = js.frame.loc[js.frame["detected_at"].isna(), "id"].item()
    rec = next(r for r in raw if str(r["id"]) == gone)
    assert pd.Timestamp(rec["begin"]) - pd.Timestamp(rec["created"]) == pd.Timedelta(minutes=20, seconds=8)
    assert js.frame["severity"].value_counts().to_dict() == {"SEV3": 118, "SEV2": 20, "SEV4": 19}
    cols = {
        "started_at": "begin",
        "detected_at": "created",
        "resolved_at": "end",
        "title": "external_desc",
        "journey": "service_name",
    }
    csv = io.load_incidents(external("cloud-status-history", "gcp_incidents.derived.csv"), columns=cols)
    assert dict(csv.entry.notes) == {"cleared_detected_before_started": 1}
    assert sorted(csv.frame["id"]) == sorted(js.frame["id"])


def test_pagerduty_vendor_examples() -> None:
    import json

    doc = json.loads(external("pagerduty-api-schema", "pagerduty_incident_examples.extracted.json").read_text())
    records = doc["post_/analytics/raw/incidents_200_examples"]["Example Response"]["value"]["data"]
    assert presets_detect(records) == "pagerduty"


def presets_detect(records: list[dict]) -> str | None:
    from srekit.inputs import presets

    return presets.detect(records)


def test_pagerduty_vendor_examples_load(tmp_path: pytest.TempPathFactory) -> None:
    import json

    doc = json.loads(external("pagerduty-api-schema", "pagerduty_incident_examples.extracted.json").read_text())
    body = doc["post_/analytics/raw/incidents_200_examples"]["Example Response"]["value"]
    p = tmp_path / "pd.json"  # type: ignore[operator]
    p.write_text(json.dumps(body))
    got = io.load_incidents(p)
    n = len(body["data"])
    # the vendor's second example resolves a day before it was created: rejected with its reason
    assert got.entry.rows_read == n and dict(got.entry.rejected) == {"resolved before started": 1}
    assert got.rejects["id"].tolist() == ["PCOOHCY"]
    first = got.frame.set_index("id").loc["PYC0H08"]
    assert first["acknowledged_at"] - first["started_at"] == pd.Timedelta(seconds=5)


def test_pagerduty_rest_incidents_example(tmp_path: pytest.TempPathFactory) -> None:
    import json

    doc = json.loads(external("pagerduty-api-schema", "pagerduty_incident_examples.extracted.json").read_text())
    body = doc["get_/incidents_200_examples"]["response"]["value"]  # {"incidents": [...], "limit": 1, ...}
    p = tmp_path / "pd_rest.json"  # type: ignore[operator]
    p.write_text(json.dumps(body))
    got = io.load_incidents(p)
    row = got.frame.iloc[0]
    assert (row["id"], row["title"], row["severity"], row["journey"]) == (
        "PT4KHLK",
        "The server is on fire.",
        "SEV2",
        "My Mail Service",
    )
    assert row["resolved_at"] - row["started_at"] == pd.Timedelta(minutes=7, seconds=41)
    assert dict(got.entry.notes) == {"preset_pagerduty": 1}
