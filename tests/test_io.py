"""Loaders on malformed and tricky files: each with its exact outcome (error text or ledger)."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from srekit.core.errors import InputError
from srekit.inputs import loaders as io
from srekit.inputs import telemetry as tm

UTC = "UTC"


def write(tmp_path: Path, name: str, text: str, *, encoding: str = "utf-8", newline: str = "\n") -> Path:
    p = tmp_path / name
    p.write_bytes(text.replace("\n", newline).encode(encoding))
    return p


def ts(s: str) -> pd.Timestamp:
    return pd.Timestamp(s, tz="UTC")


# ----------------------------------------------------------------------------- telemetry

TEL_HEADER = "journey,interval_start,total,errors,le_100,le_250\n"


def test_telemetry_good_file_is_canonical(tmp_path: Path) -> None:
    p = write(tmp_path, "t.csv", TEL_HEADER + "b,2024-01-01T00:01:00Z,5,1,3,5\na,2024-01-01 00:00:00,10,0,8,9\n")
    got = io.load_telemetry(p)
    tm.check(got.frame)
    assert list(got.frame.columns) == ["journey", "interval_start", "total", "errors", "le_100", "le_250"]
    assert got.frame["journey"].tolist() == ["a", "b"]
    assert str(got.frame["interval_start"].dtype) == "datetime64[us, UTC]"
    assert got.frame["total"].dtype == np.int64
    assert got.entry.rows_read == 2 and got.entry.rows_accepted == 2 and got.entry.rejected == {}
    assert got.entry.start == ts("2024-01-01 00:00") and got.entry.end == ts("2024-01-01 00:01")


def test_telemetry_sorted_and_shuffled_files_load_the_same(tmp_path: Path) -> None:
    stamps = pd.date_range("2024-01-01", periods=50, freq="1min", tz="UTC")
    df = pd.DataFrame(
        {
            "journey": np.repeat(["a", "b"], 50),
            "interval_start": np.tile(stamps, 2),
            "total": np.arange(100, dtype=np.int64) + 5,
            "errors": np.arange(100, dtype=np.int64) % 3,
            "le_100": np.arange(100, dtype=np.int64),
            "le_250": np.arange(100, dtype=np.int64) + 1,
        }
    )
    df.to_parquet(tmp_path / "sorted.parquet")
    df.sample(frac=1.0, random_state=3).to_parquet(tmp_path / "shuffled.parquet")
    pd.concat([df, df.iloc[[7]]]).to_parquet(tmp_path / "repeat.parquet")
    got = io.load_telemetry(tmp_path / "sorted.parquet")
    assert io._is_canonical(got.frame) and got.entry.notes == {}
    pd.testing.assert_frame_equal(got.frame, tm.compact(tm.canonical(got.frame)), check_exact=True)
    assert got.frame["le_250"].dtype == np.uint8  # buckets held in the smallest dtype their counts fit
    pd.testing.assert_frame_equal(io.load_telemetry(tmp_path / "shuffled.parquet").frame, got.frame, check_exact=True)
    rep = io.load_telemetry(tmp_path / "repeat.parquet")
    assert (
        rep.entry.notes == {"duplicate_intervals_merged": 1} and rep.frame["total"].iloc[7] == 2 * df["total"].iloc[7]
    )
    assert not io._is_canonical(pd.concat([df, df.iloc[[7]]], ignore_index=True))
    assert not io._is_canonical(df.iloc[::-1].reset_index(drop=True))


def test_telemetry_missing_errors_column(tmp_path: Path) -> None:
    p = write(tmp_path, "t.csv", "journey,interval_start,total,le_100\na,2024-01-01,1,1\n")
    with pytest.raises(InputError) as e:
        io.load_telemetry(p)
    msg = str(e.value)
    assert "missing required column 'errors'" in msg and str(p) in msg and "data.telemetry_columns" in msg


def test_telemetry_misspelled_column_suggests_closest(tmp_path: Path) -> None:
    p = write(tmp_path, "t.csv", "journey,intervl_start,total,errors,le_100\na,2024-01-01,1,0,1\n")
    with pytest.raises(
        InputError, match=r"missing required column 'interval_start' \(did you mean 'intervl_start'\?\)"
    ):
        io.load_telemetry(p)


def test_telemetry_without_buckets(tmp_path: Path) -> None:
    p = write(tmp_path, "t.csv", "journey,interval_start,total,errors\na,2024-01-01,1,0\n")
    with pytest.raises(InputError, match="no latency bucket columns"):
        io.load_telemetry(p)


def test_telemetry_row_rejects_by_reason(tmp_path: Path) -> None:
    body = (
        "a,2024-01-01T00:00:00Z,10,0,8,9\n"  # ok
        "a,2024-01-01T00:01:00Z,10,11,8,9\n"  # errors > total
        "a,2024-01-01T00:02:00Z,10,0,9,8\n"  # not cumulative
        "a,2024-01-01T00:03:00Z,10,0,8,12\n"  # bucket > total
        "a,2024-01-01T00:04:00Z,-1,0,0,0\n"  # negative
        "a,2024-01-01T00:05:00Z,ten,0,0,0\n"  # non-numeric
        "a,2024-01-01T00:06:00Z,NaN,0,0,0\n"  # NaN
        "a,not a time,10,0,8,9\n"  # unparseable
        "a,2024-01-01T00:08:00Z,10.5,0,8,9\n"  # fractional count
    )
    got = io.load_telemetry(write(tmp_path, "t.csv", TEL_HEADER + body))
    assert dict(got.entry.rejected) == {
        "errors exceed total": 1,
        "buckets not cumulative": 1,
        "bucket exceeds total": 1,
        "negative total": 1,
        "non-numeric total": 1,
        "missing total": 1,
        "unparseable interval_start": 1,
        "non-integer total": 1,
    }
    assert got.entry.rows_accepted == 1 and len(got.frame) == 1
    assert got.rejects["row"].tolist() == [2, 3, 4, 5, 6, 7, 8, 9]
    assert got.rejects.loc[got.rejects["row"] == 6, "total"].item() == "ten"


def test_telemetry_all_rows_non_cumulative_is_unusable(tmp_path: Path) -> None:
    p = write(tmp_path, "t.csv", TEL_HEADER + "a,2024-01-01T00:00:00Z,10,0,6,4\na,2024-01-01T00:01:00Z,10,0,7,3\n")
    with pytest.raises(InputError) as e:
        io.load_telemetry(p)
    assert (
        "no usable rows" in str(e.value) and "rows 1, 2" in str(e.value) and "buckets not cumulative: 2" in str(e.value)
    )


def test_telemetry_duplicate_keys_are_merged(tmp_path: Path) -> None:
    p = write(tmp_path, "t.csv", TEL_HEADER + "a,2024-01-01T00:00:00Z,10,1,8,9\na,2024-01-01T00:00:00Z,5,0,5,5\n")
    got = io.load_telemetry(p)
    assert got.frame[["total", "errors", "le_100", "le_250"]].iloc[0].tolist() == [15, 1, 13, 14]
    assert got.entry.notes["duplicate_intervals_merged"] == 1 and got.entry.rows_accepted == 2


def test_telemetry_parquet_and_default_journey(tmp_path: Path) -> None:
    df = pd.DataFrame(
        {
            "interval_start": pd.date_range("2024-01-01", periods=3, freq="min", tz="UTC"),
            "total": [4, 5, 6],
            "errors": [0, 1, 0],
            "le_50": [1, 2, 3],
            "le_100.5": [4, 5, 6],
        }
    )
    p = tmp_path / "t.parquet"
    df.to_parquet(p)
    got = io.load_telemetry(p)
    assert got.frame["journey"].unique().tolist() == ["all"]
    assert tm.le_columns(got.frame) == ["le_50", "le_100.5"]
    assert got.entry.notes["journey_defaulted_to_all"] == 3


def test_corrupt_parquet(tmp_path: Path) -> None:
    p = write(tmp_path, "t.parquet", "this is not parquet at all\n")
    with pytest.raises(InputError, match="not a readable Parquet file"):
        io.load_telemetry(p)


# ----------------------------------------------------------------------------- whole-file problems


def test_empty_file(tmp_path: Path) -> None:
    p = tmp_path / "s.csv"
    p.write_bytes(b"")
    with pytest.raises(InputError, match=r"file is empty \(0 bytes\)"):
        io.load_series(p)


def test_header_only(tmp_path: Path) -> None:
    p = write(tmp_path, "s.csv", "timestamp,value\n")
    with pytest.raises(InputError, match="file has a header but no data rows") as e:
        io.load_series(p)
    assert "header timestamp, value" in str(e.value)


def test_blank_lines_only(tmp_path: Path) -> None:
    p = write(tmp_path, "s.csv", "\n\n\n")
    with pytest.raises(InputError, match="file has no header row"):
        io.load_series(p)


def test_ragged_csv_rows_are_rejected_not_shifted(tmp_path: Path) -> None:
    p = write(tmp_path, "s.csv", "timestamp,value\n2024-01-01,1\n2024-01-02,2,3,4\n2024-01-03\n2024-01-04,5\n")
    got = io.load_series(p)
    assert got.frame["value"].tolist() == [1.0, 5.0]
    assert dict(got.entry.rejected) == {"wrong number of fields": 2}
    assert got.rejects["row"].tolist() == [2, 3]
    assert got.rejects["line"].tolist() == ["2024-01-02,2,3,4", "2024-01-03"]


def test_not_utf8(tmp_path: Path) -> None:
    p = write(tmp_path, "s.csv", "timestamp,value\n2024-01-01,1\n", encoding="utf-16")
    with pytest.raises(InputError, match="not UTF-8"):
        io.load_series(p)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="does not exist"):
        io.load_toil(tmp_path / "nope.csv")


def test_unknown_format(tmp_path: Path) -> None:
    p = write(tmp_path, "d.csv", "timestamp,result\n2024-01-01,success\n")
    with pytest.raises(InputError, match="unknown format 'xlsx' for deploys"):
        io.load_deploys(p, fmt="xlsx")


def test_bad_column_mapping(tmp_path: Path) -> None:
    p = write(tmp_path, "s.csv", "ts,v\n2024-01-01,1\n")
    with pytest.raises(InputError, match=r"mapped column 'vv' for 'value' is not in the file \(did you mean 'v'\?\)"):
        io.load_series(p, columns={"timestamp": "ts", "value": "vv"})
    got = io.load_series(p, columns={"timestamp": "ts", "value": "v"})
    assert got.frame["value"].tolist() == [1.0]


# ----------------------------------------------------------------------------- series


def test_series_bom_crlf_quoted(tmp_path: Path) -> None:
    text = '"TimeStamp","Value","Label"\n"2018-04-25T00:00:00Z","0","0"\n"2018-04-25T00:01:00Z","3","1"\n'
    p = write(tmp_path, "u.csv", "\ufeff" + text, newline="\r\n")
    assert p.read_bytes()[:3] == b"\xef\xbb\xbf" and b"\r\n" in p.read_bytes()
    got = io.load_series(p)
    assert got.frame["value"].tolist() == [0.0, 3.0]
    assert got.frame["timestamp"].tolist() == [ts("2018-04-25 00:00"), ts("2018-04-25 00:01")]
    assert got.entry.notes == {"zero_values": 1}


def test_series_value_rejects(tmp_path: Path) -> None:
    body = (
        "2024-01-01 00:00,1.5\n2024-01-01 00:05,\n2024-01-01 00:10,NaN\n2024-01-01 00:15,abc\n"
        "2024-01-01 00:20,-3\n32/13/2024,2\n2024-01-01 00:30,inf\n"
    )
    got = io.load_series(write(tmp_path, "s.csv", "timestamp,value\n" + body))
    assert dict(got.entry.rejected) == {
        "missing value": 2,
        "non-numeric value": 1,
        "negative value": 1,
        "unparseable timestamp": 1,
        "infinite value": 1,
    }
    assert got.entry.rows_accepted == 1
    assert got.rejects["reason"].tolist() == [
        "missing value",
        "missing value",
        "non-numeric value",
        "negative value",
        "unparseable timestamp",
        "infinite value",
    ]


def test_series_mixed_offsets(tmp_path: Path) -> None:
    body = "2024-01-01T12:00:00+02:00,1\n2024-01-01T10:05:00Z,2\n2024-01-01 11:10:00,3\n"
    got = io.load_series(write(tmp_path, "s.csv", "timestamp,value\n" + body), tz="Europe/Berlin")
    assert got.frame["timestamp"].tolist() == [ts("2024-01-01 10:00"), ts("2024-01-01 10:05"), ts("2024-01-01 10:10")]
    assert got.entry.notes == {"naive_stamps_read_in_Europe/Berlin": 1}


def test_series_dst_repeat_duplicates_and_gaps(tmp_path: Path) -> None:
    # Europe/Berlin 2024-10-27: 02:00-03:00 happens twice; 2024-03-31: 02:00-03:00 does not exist.
    body = "2024-10-27 01:30,1\n2024-10-27 02:30,2\n2024-10-27 02:30,3\n2024-10-27 03:30,4\n2024-03-31 02:30,5\n"
    got = io.load_series(write(tmp_path, "s.csv", "timestamp,value\n" + body), tz="Europe/Berlin")
    stamps = got.frame["timestamp"].tolist()
    assert ts("2024-10-27 00:30") in stamps and ts("2024-10-27 01:30") in stamps
    assert got.entry.notes["dst_ambiguous_resolved"] == 2
    assert got.entry.notes["dst_nonexistent_shifted"] == 1
    assert "duplicate_timestamps" not in got.entry.notes  # the repeated wall time is two instants


def test_series_duplicate_stamps_and_gap_counted(tmp_path: Path) -> None:
    stamps = ["00:00", "00:05", "00:05", "00:10", "00:30", "00:35"]
    body = "".join(f"2024-01-01 {s},{i}\n" for i, s in enumerate(stamps))
    got = io.load_series(write(tmp_path, "s.csv", "timestamp,value\n" + body))
    assert got.entry.notes == {"duplicate_timestamps": 1, "gaps": 1, "zero_values": 1}
    assert got.entry.rows_accepted == 6


def test_epoch_seconds_and_millis(tmp_path: Path) -> None:
    got = io.load_series(write(tmp_path, "s.csv", "timestamp,value\n1704067200,1\n1704067260000,2\n"))
    assert got.frame["timestamp"].tolist() == [ts("2024-01-01 00:00"), ts("2024-01-01 00:01")]


# ----------------------------------------------------------------------------- incidents

INC_HEADER = "id,title,started_at,detected_at,resolved_at,severity,detection,postmortem,action_items_open\n"


def test_incidents_generic(tmp_path: Path) -> None:
    body = (
        "I-1,db down,2024-01-01T10:00:00Z,2024-01-01T10:05:00Z,2024-01-01T11:00:00Z,SEV-1,alert,done,2\n"
        "I-2,slow,2024-01-02T10:00:00Z,,,sev 3,Customer report,pending,\n"  # open
        "I-3,blip,2024-01-03T10:00:00Z,,2024-01-03T10:00:00Z,P4,internal,none,0\n"  # zero duration
    )
    got = io.load_incidents(write(tmp_path, "i.csv", INC_HEADER + body))
    f = got.frame
    assert f["severity"].tolist() == ["SEV1", "SEV3", "SEV4"]
    assert f["detection"].tolist() == ["alert", "customer", "internal"]
    assert f["postmortem"].tolist() == ["done", "pending", "none"]
    assert f["action_items_open"].tolist()[0] == 2 and pd.isna(f["action_items_open"].iloc[1])
    assert pd.isna(f["resolved_at"].iloc[1]) and pd.isna(f["mitigated_at"]).all()
    assert dict(got.entry.notes) == {"open_incidents": 1, "zero_duration": 1}
    assert got.entry.rows_accepted == 3


def test_incidents_row_rejects(tmp_path: Path) -> None:
    body = (
        "I-1,ok,2024-01-01T10:00:00Z,,2024-01-01T11:00:00Z,SEV2,alert,done,1\n"
        "I-2,backwards,2024-01-02T10:00:00Z,,2024-01-02T09:00:00Z,SEV2,alert,done,1\n"
        "I-3,odd sev,2024-01-03T10:00:00Z,,2024-01-03T11:00:00Z,urgent!!,alert,done,1\n"
        "I-4,odd det,2024-01-04T10:00:00Z,,2024-01-04T11:00:00Z,SEV2,telepathy,done,1\n"
        "I-5,no start,,,2024-01-05T11:00:00Z,SEV2,alert,done,1\n"
        ",no id,2024-01-06T10:00:00Z,,2024-01-06T11:00:00Z,SEV2,alert,done,1\n"
        "I-7,bad items,2024-01-07T10:00:00Z,,2024-01-07T11:00:00Z,SEV2,alert,done,-2\n"
        "I-8,bad pm,2024-01-08T10:00:00Z,,2024-01-08T11:00:00Z,SEV2,alert,maybe,1\n"
        "I-9,bad detected,2024-01-09T10:00:00Z,yesterday-ish,2024-01-09T11:00:00Z,SEV2,alert,done,1\n"
    )
    got = io.load_incidents(write(tmp_path, "i.csv", INC_HEADER + body))
    assert dict(got.entry.rejected) == {
        "resolved before started": 1,
        "unknown severity value": 1,
        "unknown detection value": 1,
        "missing started_at": 1,
        "missing id": 1,
        "negative action_items_open": 1,
        "unknown postmortem value": 1,
        "unparseable detected_at": 1,
    }
    assert got.frame["id"].tolist() == ["I-1"]


def test_incidents_duplicate_ids(tmp_path: Path) -> None:
    body = (
        "A,x,2024-01-01T10:00:00Z,,2024-01-01T11:00:00Z,,,,\nB,y,2024-01-02T10:00:00Z,,,,,,\n"
        "A,z,2024-01-03T10:00:00Z,,,,,,\n"
    )
    with pytest.raises(InputError) as e:
        io.load_incidents(write(tmp_path, "i.csv", INC_HEADER + body))
    msg = str(e.value)
    assert "duplicate incident ids (e.g. 'A')" in msg and "rows 1, 3" in msg and "column 'id'" in msg


def test_incidents_missing_resolved_column_and_misspelling(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="missing required column 'resolved_at'"):
        io.load_incidents(write(tmp_path, "i.csv", "id,started_at\nA,2024-01-01\n"))
    with pytest.raises(InputError, match=r"missing required column 'started_at' \(did you mean 'start_at'\?\)"):
        io.load_incidents(write(tmp_path, "j.csv", "id,start_at,resolved_at\nA,2024-01-01,\n"))


def test_incidents_strict(tmp_path: Path) -> None:
    body = "A,x,2024-01-01T10:00:00Z,,2024-01-01T09:00:00Z,,,,\nB,y,2024-01-02T10:00:00Z,,,,,,\n"
    p = write(tmp_path, "i.csv", INC_HEADER + body)
    assert io.load_incidents(p).entry.rejected == {"resolved before started": 1}
    with pytest.raises(InputError, match=r"strict mode: rows were rejected \(file .*; row 1\)"):
        io.load_incidents(p, strict=True)


def test_statuspage_wrapped_document(tmp_path: Path) -> None:
    doc = {
        "incidents": [
            {
                "id": "s1",
                "name": "API errors",
                "status": "resolved",
                "impact": "major",
                "created_at": "2024-01-01T10:05:00Z",
                "started_at": "2024-01-01T10:00:00Z",
                "monitoring_at": "2024-01-01T10:40:00Z",
                "resolved_at": "2024-01-01T11:00:00Z",
                "incident_updates": [{"status": "identified", "created_at": "2024-01-01T10:20:00Z"}],
                "components": [{"name": "API"}],
            },
            {
                "id": "s2",
                "name": "Ongoing",
                "status": "investigating",
                "impact": "none",
                "created_at": "2024-01-02T10:00:00Z",
                "started_at": None,
                "resolved_at": None,
                "incident_updates": [],
            },
        ]
    }
    p = write(tmp_path, "sp.json", json.dumps(doc))
    got = io.load_incidents(p)
    f = got.frame
    assert f["severity"].tolist() == ["SEV2", "SEV4"]
    r = f.iloc[0]
    assert (r["started_at"], r["detected_at"], r["acknowledged_at"], r["mitigated_at"], r["resolved_at"]) == (
        ts("2024-01-01 10:00"),
        ts("2024-01-01 10:05"),
        ts("2024-01-01 10:20"),
        ts("2024-01-01 10:40"),
        ts("2024-01-01 11:00"),
    )
    assert r["journey"] == "API"
    assert f["started_at"].iloc[1] == ts("2024-01-02 10:00") and pd.isna(f["resolved_at"].iloc[1])
    assert got.entry.notes == {"preset_statuspage": 2, "open_incidents": 1}


def test_opsgenie_alerts(tmp_path: Path) -> None:
    doc = {
        "data": [
            {
                "id": "uuid-1",
                "tinyId": "11",
                "message": "disk full",
                "status": "closed",
                "createdAt": "2024-01-01T10:00:00Z",
                "updatedAt": "2024-01-01T12:00:00Z",
                "priority": "P1",
                "report": {"ackTime": 120000, "closeTime": 3600000},
            },
            {
                "id": "uuid-2",
                "tinyId": "12",
                "message": "cpu",
                "status": "closed",
                "createdAt": "2024-01-02T10:00:00Z",
                "updatedAt": "2024-01-02T10:30:00Z",
                "priority": "P5",
            },
            {
                "id": "uuid-3",
                "tinyId": "13",
                "message": "open one",
                "status": "open",
                "createdAt": "2024-01-03T10:00:00Z",
                "updatedAt": "2024-01-03T10:01:00Z",
                "priority": "P3",
                "acknowledged": True,
            },
        ]
    }
    got = io.load_incidents(write(tmp_path, "og.json", json.dumps(doc)))
    f = got.frame
    assert f["id"].tolist() == ["11", "12", "13"]
    assert f["severity"].tolist() == ["SEV1", "SEV4", "SEV3"]
    assert f["acknowledged_at"].iloc[0] == ts("2024-01-01 10:02") and f["resolved_at"].iloc[0] == ts("2024-01-01 11:00")
    assert f["resolved_at"].iloc[1] == ts("2024-01-02 10:30")  # closed, no report: updatedAt
    assert pd.isna(f["resolved_at"].iloc[2])
    assert got.entry.notes == {"preset_opsgenie": 3, "open_incidents": 1}


def test_pagerduty_csv_preset(tmp_path: Path) -> None:
    body = (
        "id,description,created_at,resolved_at,seconds_to_first_ack,priority_name,urgency,status,service_name,major\n"
        "P1,fire,2024-01-01T10:00:00,2024-01-01T11:00:00,90,SEV-2,high,resolved,Checkout,false\n"
        "P2,smoke,2024-01-02T10:00:00,,,,low,triggered,Search,true\n"
    )
    got = io.load_incidents(write(tmp_path, "pd.csv", body), fmt="pagerduty", tz="America/New_York")
    f = got.frame
    assert f["started_at"].iloc[0] == ts("2024-01-01 15:00")  # naive, read in New York (EST)
    assert f["acknowledged_at"].iloc[0] == ts("2024-01-01 15:01:30")
    assert f["severity"].tolist() == ["SEV2", "SEV1"] and f["journey"].tolist() == ["Checkout", "Search"]
    assert pd.isna(f["resolved_at"].iloc[1]) and got.entry.notes["open_incidents"] == 1


def test_generic_json_incidents(tmp_path: Path) -> None:
    doc = [
        {"id": 7, "started_at": "2024-01-01T10:00:00Z", "resolved_at": None, "severity": 2, "detection": "Monitoring"}
    ]
    got = io.load_incidents(write(tmp_path, "i.json", json.dumps(doc)))
    assert got.frame[["id", "severity", "detection"]].iloc[0].tolist() == ["7", "SEV2", "alert"]
    assert got.entry.notes == {"open_incidents": 1}


def test_unknown_timezone(tmp_path: Path) -> None:
    p = write(tmp_path, "s.csv", "timestamp,value\n2024-01-01T00:00:00Z,1\n")
    with pytest.raises(InputError, match="unknown timezone 'Mars/Base'"):
        io.load_series(p, tz="Mars/Base")
    with pytest.raises(InputError, match="unknown timezone"):
        io.load_incidents(write(tmp_path, "i.csv", "id,started_at,resolved_at\nA,2024-01-01,\n"), tz="Europe/Nowhere")


def test_invalid_json(tmp_path: Path) -> None:
    p = write(tmp_path, "x.json", '[{"id": "a", ')
    with pytest.raises(InputError, match="not valid JSON"):
        io.load_incidents(p)


# ----------------------------------------------------------------------------- toil, alerts, deploys


def test_toil_rejects_and_notes(tmp_path: Path) -> None:
    body = (
        "2024-01-01,restart jobs,30,ops,ann,yes\n"
        "2024-01-02,restart jobs,0,ops,ann,no\n"
        "2024-01-03,,10,ops,bob,yes\n"
        "2024-01-04,rotate certs,-5,ops,bob,yes\n"
        "2024-01-05,rotate certs,15,ops,bob,perhaps\n"
        "someday,rotate certs,15,ops,bob,\n"
    )
    got = io.load_toil(write(tmp_path, "toil.csv", "date,task,minutes,category,engineer,automatable\n" + body))
    assert dict(got.entry.rejected) == {
        "missing task": 1,
        "negative minutes": 1,
        "unknown automatable value": 1,
        "unparseable date": 1,
    }
    assert got.frame["automatable"].tolist() == [True, False]
    assert got.entry.notes == {"zero_minutes": 1}


def test_toil_misspelled_minutes(tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"missing required column 'minutes' \(did you mean 'minuts'\?\)"):
        io.load_toil(write(tmp_path, "toil.csv", "date,task,minuts\n2024-01-01,x,3\n"))


def test_alerts(tmp_path: Path) -> None:
    body = (
        "2024-01-01T00:00:00Z,HighErrorRate,PAGE,yes,I-1\n2024-01-01T01:00:00Z,DiskSpace,ticket,no,\n"
        "2024-01-01T02:00:00Z,,page,,\n2024-01-01T03:00:00Z,X,page,sometimes,\n"
    )
    got = io.load_alerts(write(tmp_path, "pages.csv", "timestamp,alert,severity,actionable,incident_id\n" + body))
    assert got.frame["severity"].tolist() == ["page", "ticket"]
    assert got.frame["actionable"].tolist() == [True, False]
    assert dict(got.entry.rejected) == {"missing alert": 1, "unknown actionable value": 1}
    assert got.entry.notes == {"linked_to_incident": 1}


def test_alerts_missing_severity_column(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="missing required column 'severity'"):
        io.load_alerts(write(tmp_path, "pages.csv", "timestamp,alert\n2024-01-01,x\n"))


def test_deploys_synonyms_and_unknown(tmp_path: Path) -> None:
    body = (
        "2024-01-01T00:00:00Z,Succeeded,api\n2024-01-02T00:00:00Z,rolled back,api\n"
        "2024-01-03T00:00:00Z,FAILURE,\n2024-01-04T00:00:00Z,exploded,api\n2024-01-05T00:00:00Z,,api\n"
    )
    got = io.load_deploys(write(tmp_path, "d.csv", "timestamp,result,service\n" + body))
    assert got.frame["result"].tolist() == ["success", "rollback", "failed"]
    assert dict(got.entry.rejected) == {"unknown result value": 1, "missing result": 1}


def test_deploys_gzip_and_parquet_agree(tmp_path: Path) -> None:
    text = "timestamp,result,service\n2024-01-01T00:00:00Z,success,api\n2024-01-02T00:00:00Z,rollback,web\n"
    gz = tmp_path / "d.csv.gz"
    gz.write_bytes(gzip.compress(text.encode()))
    a = io.load_deploys(gz)
    pq = tmp_path / "d.parquet"
    pd.DataFrame(
        {
            "timestamp": pd.to_datetime(["2024-01-01", "2024-01-02"], utc=True),
            "result": ["success", "rollback"],
            "service": ["api", "web"],
        }
    ).to_parquet(pq)
    b = io.load_deploys(pq)
    pd.testing.assert_frame_equal(a.frame, b.frame)


# ----------------------------------------------------------------------------- quarantine


def test_write_quarantine(tmp_path: Path) -> None:
    p = write(tmp_path, "s.csv", "timestamp,value\n2024-01-01,1\n2024-01-02,-1\n2024-01-03,x\n")
    got = io.load_series(p)
    q = io.write_quarantine(got, tmp_path / "q")
    assert q is not None and q.name == "series-s.rejects.csv"
    back = pd.read_csv(q, dtype=str)
    assert back["row"].tolist() == ["2", "3"] and back["value"].tolist() == ["-1", "x"]
    assert back["reason"].tolist() == ["negative value", "non-numeric value"]
    clean = io.load_series(write(tmp_path, "ok.csv", "timestamp,value\n2024-01-01,1\n"))
    assert io.write_quarantine(clean, tmp_path / "q2") is None


# ----------------------------------------------------------------------------- properties


@settings(max_examples=40, deadline=None)
@given(
    st.lists(
        st.one_of(st.integers(-5, 1000).map(str), st.sampled_from(["", "NaN", "x", "1e3", "2.5", "inf"])),
        min_size=1,
        max_size=30,
    )
)
def test_ledger_always_adds_up(tmp_path_factory: pytest.TempPathFactory, values: list[str]) -> None:
    d = tmp_path_factory.mktemp("prop")
    body = "".join(f"2024-01-01T00:{i:02d}:00Z,{v}\n" for i, v in enumerate(values))
    p = write(d, "s.csv", "timestamp,value\n" + body)
    try:
        got = io.load_series(p)
    except InputError as exc:
        assert "no usable rows" in str(exc)
        return
    e = got.entry
    assert e.rows_read == len(values) == e.rows_accepted + e.rows_rejected
    assert len(got.frame) == e.rows_accepted and len(got.rejects) == e.rows_rejected
    assert (got.frame["value"] >= 0).all() and np.isfinite(got.frame["value"]).all()


@settings(max_examples=25, deadline=None)
@given(st.integers(1, 12), st.integers(0, 2**31 - 1), st.booleans())
def test_telemetry_round_trip_any_order(
    tmp_path_factory: pytest.TempPathFactory, n: int, seed: int, parquet: bool
) -> None:
    """Valid aggregated rows written in any order (CSV or Parquet) load back as exactly their
    canonical form; the ledger accepts every row."""
    rng = np.random.default_rng(seed)
    journeys = rng.choice(["a", "b"], size=n)
    starts = pd.Timestamp("2024-01-01", tz="UTC") + pd.to_timedelta(rng.permutation(n * 3)[:n], unit="min")
    total = rng.integers(0, 1000, size=n)
    errors = (total * rng.random(n)).astype(int)
    split = np.sort((total[:, None] * rng.random((n, 3))).astype(int), axis=1)  # cumulative ≤ total
    df = pd.DataFrame(
        {
            "journey": journeys,
            "interval_start": starts,
            "total": total,
            "errors": errors,
            "le_10": split[:, 0],
            "le_100": split[:, 1],
            "le_1000": split[:, 2],
        }
    )
    d = tmp_path_factory.mktemp("rt")
    if parquet:
        path = d / "t.parquet"
        df.to_parquet(path)
    else:
        path = d / "t.csv"
        df.assign(interval_start=df["interval_start"].dt.strftime("%Y-%m-%dT%H:%M:%SZ")).to_csv(path, index=False)
    got = io.load_telemetry(path)
    expected = tm.compact(tm.merge([df]))
    pd.testing.assert_frame_equal(got.frame, expected)
    assert got.entry.rows_accepted == n and got.entry.rejected == {}


def test_parquet_typed_columns(tmp_path: Path) -> None:
    df = pd.DataFrame(
        {
            "timestamp": pd.to_datetime(["2024-01-01 10:00", "2024-01-01 11:00"]),  # naive
            "alert": ["A", "B"],
            "severity": ["page", "ticket"],
            "actionable": [True, False],
        }
    )
    p = tmp_path / "pages.parquet"
    df.to_parquet(p)
    got = io.load_alerts(p, tz="America/New_York")
    assert got.frame["actionable"].tolist() == [True, False]
    assert got.frame["timestamp"].tolist() == [ts("2024-01-01 15:00"), ts("2024-01-01 16:00")]
