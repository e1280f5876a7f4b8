"""Raw requests → aggregated telemetry: hand-checked reductions, malformed files, formats, DST,
the CLI as a subprocess, and the committed samples."""

from __future__ import annotations

import gzip
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from conftest import SAMPLES

from srekit.core.errors import ConfigError, InputError
from srekit.inputs import aggregate as ag
from srekit.inputs import telemetry as tm
from srekit.inputs.parquet_frame import read_parquet_frame
from srekit.inputs.timeparse import parse_utc

HEADER = "timestamp,latency_ms,status,journey\n"


def write(tmp_path: Path, text: str, name: str = "r.csv", *, raw: bytes | None = None) -> Path:
    p = tmp_path / name
    p.write_bytes(raw if raw is not None else text.encode())
    return p


def agg(path: Path, **kw: object) -> tuple[pd.DataFrame, ag.LedgerEntry]:
    kw.setdefault("edges", (5, 10, 100))
    return ag.aggregate_files([path], **kw)  # type: ignore[arg-type]


# --------------------------------------------------------------------------- hand-checked reductions


def test_edge_equality_counts_in_that_bucket(tmp_path: Path) -> None:
    rows = [
        "2026-01-01T00:00:01Z,5,200,a",
        "2026-01-01T00:00:02Z,5.000001,200,a",
        "2026-01-01T00:00:03Z,10,200,a",
        "2026-01-01T00:00:04Z,10.5,200,a",
        "2026-01-01T00:00:05Z,0,200,a",
        "2026-01-01T00:00:06Z,100,500,a",
        "2026-01-01T00:00:07Z,250,200,a",
    ]
    df, entry = agg(write(tmp_path, HEADER + "\n".join(rows) + "\n"))
    assert list(df.columns) == ["journey", "interval_start", "total", "errors", "le_5", "le_10", "le_100"]
    r = df.iloc[0]
    # 0 and 5 are ≤ 5; 5.000001 and 10 add at 10; 10.5 and 100 at 100; 250 only in total.
    assert (r["total"], r["errors"], r["le_5"], r["le_10"], r["le_100"]) == (7, 1, 2, 4, 6)
    assert entry.rows_read == entry.rows_accepted == 7 and entry.rows_rejected == 0
    assert entry.start == pd.Timestamp("2026-01-01T00:00:01Z") and entry.end == pd.Timestamp("2026-01-01T00:00:07Z")
    tm.check(df)


def test_interval_boundaries(tmp_path: Path) -> None:
    rows = [
        "2026-01-01T00:00:59.999999Z,1,200,a",
        "2026-01-01T00:01:00Z,1,200,a",
        "2026-01-01T00:01:59.5Z,1,503,a",
        "2026-01-01T00:05:00Z,1,200,a",
    ]
    df, _ = agg(write(tmp_path, HEADER + "\n".join(rows) + "\n"))
    assert df["interval_start"].tolist() == [pd.Timestamp(f"2026-01-01T00:0{m}:00Z") for m in (0, 1, 5)]
    assert df["total"].tolist() == [1, 2, 1] and df["errors"].tolist() == [0, 1, 0]
    assert str(df["interval_start"].dtype) == "datetime64[us, UTC]"
    # 5-minute intervals align to the epoch: 00:00 holds the first three, 00:05 the last.
    df5, _ = agg(write(tmp_path, HEADER + "\n".join(rows) + "\n"), interval=pd.Timedelta("5min"))
    assert df5["total"].tolist() == [3, 1]


def test_errors_from_status_default_and_custom(tmp_path: Path) -> None:
    codes = [200, 404, 429, 499, 500, 503, 599, 301]
    rows = [f"2026-01-01T00:00:0{i}Z,1,{c},a" for i, c in enumerate(codes)]
    p = write(tmp_path, HEADER + "\n".join(rows) + "\n")
    df, _ = agg(p)
    assert df["errors"].tolist() == [3]
    df2, _ = agg(p, error_status="5..|429")
    assert df2["errors"].tolist() == [4]


def test_errors_from_success_column(tmp_path: Path) -> None:
    text = "timestamp,latency_ms,success\n" + "".join(
        f"2026-01-01T00:00:0{i}Z,1,{v}\n" for i, v in enumerate(["true", "False", "yes", "no", "1", "0", "TRUE"])
    )
    df, entry = agg(write(tmp_path, text))
    assert df["journey"].tolist() == ["all"]
    assert (df["total"].iloc[0], df["errors"].iloc[0]) == (7, 3)
    assert entry.rows_rejected == 0
    assert dict(entry.notes) == {"no_journey_column_all_as_all": 7}


@pytest.mark.parametrize("col", ["journey", "endpoint", "route"])
def test_journey_fallbacks(tmp_path: Path, col: str) -> None:
    text = f"timestamp,latency_ms,status,{col}\n2026-01-01T00:00:00Z,1,200,/pay\n2026-01-01T00:00:01Z,1,200,/home\n"
    df, entry = agg(write(tmp_path, text))
    assert df["journey"].tolist() == ["/home", "/pay"]
    assert dict(entry.notes) == ({} if col == "journey" else {f"journey_from_{col}": 2})


def test_journey_missing_value_goes_to_unknown_and_is_noted(tmp_path: Path) -> None:
    text = HEADER + (
        "2026-01-01T00:00:00Z,1,200,a\n2026-01-01T00:00:01Z,1,200,\n2026-01-01T00:00:02Z,1,200, a \n"
        "2026-01-01T00:00:03Z,-1,200,\n"
    )  # the last is rejected: not a missing journey
    df, entry = agg(write(tmp_path, text))
    assert dict(zip(df["journey"], df["total"], strict=True)) == {"a": 2, "unknown": 1}
    assert dict(entry.notes) == {"journey_missing": 1, "journey_trimmed": 1}  # " a " is a


def test_column_mapping_and_case(tmp_path: Path) -> None:
    text = "Time,Duration,Code,Service\n2026-01-01T00:00:00Z,3,500,x\n"
    df, _ = agg(
        write(tmp_path, text),
        columns={"timestamp": "Time", "latency_ms": "Duration", "status": "code", "journey": "Service"},
    )
    assert (df["journey"].iloc[0], df["errors"].iloc[0], df["le_5"].iloc[0]) == ("x", 1, 1)
    with pytest.raises(ConfigError, match="unknown canonical column"):
        agg(write(tmp_path, text), columns={"time": "Time"})


def test_aggregate_frame_matches_naive_reference() -> None:
    rng = np.random.default_rng(3)
    n = 3000
    edges = (1.0, 2.5, 10.0, 100.0)
    req = pd.DataFrame(
        {
            "timestamp": pd.Timestamp("2026-01-01T00:00:00Z")
            + pd.to_timedelta(rng.integers(0, 3600 * 10**6, n), unit="us"),
            "latency_ms": rng.choice([0.5, 1.0, 2.5, 3.0, 10.0, 99.0, 100.0, 250.0], n),
            "error": rng.random(n) < 0.1,
            "journey": rng.choice(["a", "b", "c"], n),
        }
    )
    out = ag.aggregate_frame(req, interval=pd.Timedelta("5min"), edges=edges)
    ref = req.assign(interval_start=req["timestamp"].dt.floor("5min"))
    for e in edges:
        ref[tm.edge_label(e)] = (req["latency_ms"] <= e).astype("int64")
    ref = ref.assign(total=1, errors=req["error"].astype("int64"))
    want = tm.canonical(ref.groupby(["journey", "interval_start"]).sum(numeric_only=True).reset_index())
    pd.testing.assert_frame_equal(out, want)


def test_aggregate_frame_names_journeys_like_the_file_path(tmp_path: Path) -> None:
    req = pd.DataFrame(
        {
            "timestamp": pd.to_datetime(["2026-01-01T00:00:00Z"] * 4),
            "latency_ms": [1.0] * 4,
            "error": [False, True, False, False],
            "journey": ["a", " a ", "", None],
        }
    )
    out = ag.aggregate_frame(req, edges=(5,))
    assert out[["journey", "total", "errors"]].values.tolist() == [["a", 2, 1], ["unknown", 2, 0]]
    p = write(
        tmp_path,
        HEADER + "2026-01-01T00:00:00Z,1,200,a\n2026-01-01T00:00:00Z,1,500, a \n"
        "2026-01-01T00:00:00Z,1,200,\n2026-01-01T00:00:00Z,1,200,\n",
    )
    pd.testing.assert_frame_equal(agg(p, edges=(5,))[0], out)


def test_aggregate_frame_rejects_bad_rows() -> None:
    req = pd.DataFrame(
        {"timestamp": pd.to_datetime(["2026-01-01T00:00:00Z"] * 2), "latency_ms": [1.0, -2.0], "error": [False, True]}
    )
    with pytest.raises(InputError, match="row 2"):
        ag.aggregate_frame(req)


# --------------------------------------------------------------------------- malformed files


def test_missing_column_names_closest(tmp_path: Path) -> None:
    p = write(tmp_path, "timestamp,latncy_ms,status\n2026-01-01T00:00:00Z,1,200\n")
    with pytest.raises(InputError) as exc:
        agg(p)
    msg = str(exc.value)
    assert "missing a required column" in msg and "'latency_ms'" in msg and str(p) in msg
    assert "did you mean 'latncy_ms'" in msg and "--columns latency_ms=latncy_ms" in msg


def test_missing_status_and_success(tmp_path: Path) -> None:
    p = write(tmp_path, "timestamp,latency_ms\n2026-01-01T00:00:00Z,1\n")
    with pytest.raises(InputError, match="'status'.*success"):
        agg(p)


def test_empty_file(tmp_path: Path) -> None:
    p = write(tmp_path, "")
    with pytest.raises(InputError, match="requests file is empty") as exc:
        agg(p)
    assert str(p) in str(exc.value)


def test_header_only(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="header but no data rows"):
        agg(write(tmp_path, HEADER))


def test_not_a_csv(tmp_path: Path) -> None:
    p = write(tmp_path, "", name="r.csv.gz", raw=b"\x1f\x8b\x08\x00garbage-not-gzip" * 10)
    with pytest.raises(InputError, match="cannot be read as csv.gz"):
        agg(p)


def test_row_level_rejects_counted_quarantined_with_rows(tmp_path: Path) -> None:
    rows = [
        "2026-01-01T00:00:00Z,5,200,a",  # 1 ok
        "2026-01-01T00:00:01Z,-3,200,a",  # 2 negative
        "2026-01-01T00:00:02Z,NaN,200,a",  # 3 missing (NaN)
        "2026-01-01T00:00:03Z,,200,a",  # 4 missing (empty)
        "2026-01-01T00:00:04Z,fast,200,a",  # 5 non-numeric
        "yesterday,5,200,a",  # 6 unparseable stamp
        "2026-01-01T00:00:06Z,5,0,a",  # 7 unknown status
        "2026-01-01T00:00:07Z,5,999,a",  # 8 unknown status
        "2026-01-01T00:00:08Z,5,OK,a",  # 9 unknown status
        "2026-01-01T00:00:09Z,5,200,a,x",  # 10 wrong number of fields
        "2026-01-01T00:00:10Z,inf,200,a",  # 11 infinite
        "2026-01-01T00:00:11Z,7,503,a",  # 12 ok
    ]
    q = tmp_path / "rejects.csv"
    df, entry = agg(write(tmp_path, HEADER + "\n".join(rows) + "\n"), quarantine=q)
    assert dict(entry.rejected) == {
        "negative latency_ms": 1,
        "missing latency_ms": 2,
        "non-numeric latency_ms": 1,
        "unparseable timestamp": 1,
        "unknown status code": 3,
        "wrong number of fields": 1,
        "infinite latency_ms": 1,
    }
    assert (entry.rows_read, entry.rows_accepted) == (12, 2)
    assert (df["total"].sum(), df["errors"].sum()) == (2, 1)
    assert entry.quarantine == str(q)
    rej = pd.read_csv(q, keep_default_na=False)
    assert dict(zip(rej["row"], rej["reason"], strict=True)) == {
        2: "negative latency_ms",
        3: "missing latency_ms",
        4: "missing latency_ms",
        5: "non-numeric latency_ms",
        6: "unparseable timestamp",
        7: "unknown status code",
        8: "unknown status code",
        9: "unknown status code",
        10: "wrong number of fields",
        11: "infinite latency_ms",
    }
    assert rej.loc[rej["row"] == 5, "latency_ms"].item() == "fast"
    assert rej.loc[rej["row"] == 10, "line"].item() == "2026-01-01T00:00:09Z,5,200,a,x"
    assert not (tmp_path / "rejects.csv.part").exists()


def test_strict_raises_with_rows(tmp_path: Path) -> None:
    text = HEADER + "2026-01-01T00:00:00Z,5,200,a\n2026-01-01T00:00:01Z,-3,200,a\n2026-01-01T00:00:02Z,-4,200,a\n"
    with pytest.raises(InputError) as exc:
        agg(write(tmp_path, text), strict=True)
    msg = str(exc.value)
    assert "negative latency_ms" in msg and "rows 2, 3" in msg and "'latency_ms'" in msg and "'-3'" in msg


def test_no_quarantine_file_when_nothing_rejected(tmp_path: Path) -> None:
    q = tmp_path / "q.csv"
    _, entry = agg(write(tmp_path, HEADER + "2026-01-01T00:00:00Z,5,200,a\n"), quarantine=q)
    assert entry.quarantine is None and not q.exists()


def test_bom_and_crlf_read_like_plain(tmp_path: Path) -> None:
    body = "2026-01-01T00:00:00Z,5,200,a\n2026-01-01T00:00:01Z,50,503,b\n"
    plain, _ = agg(write(tmp_path, HEADER + body, "plain.csv"))
    bom, e1 = agg(write(tmp_path, "", "bom.csv", raw=b"\xef\xbb\xbf" + (HEADER + body).encode()))
    crlf, e2 = agg(write(tmp_path, (HEADER + body).replace("\n", "\r\n"), "crlf.csv"))
    pd.testing.assert_frame_equal(bom, plain)
    pd.testing.assert_frame_equal(crlf, plain)
    assert e1.rows_rejected == e2.rows_rejected == 0


def test_mixed_offsets_convert_exactly(tmp_path: Path) -> None:
    rows = [
        "2026-01-01T02:00:30+02:00,1,200,a",
        "2026-01-01T00:00:10Z,1,200,a",
        "2025-12-31T19:00:20-05:00,1,200,a",
        "2026-01-01T00:00:40,1,200,a",
    ]  # the last is naive (UTC)
    df, entry = agg(write(tmp_path, HEADER + "\n".join(rows) + "\n"))
    assert df["interval_start"].tolist() == [pd.Timestamp("2026-01-01T00:00:00Z")]
    assert df["total"].tolist() == [4]
    assert entry.notes["mixed_naive_and_offset_timestamps"] == 1
    loaded = ag.read_requests(write(tmp_path, HEADER + "\n".join(rows) + "\n"))
    assert loaded.frame["timestamp"].dt.second.tolist() == [10, 20, 30, 40]


def test_epoch_seconds_stamps(tmp_path: Path) -> None:
    df, _ = agg(write(tmp_path, HEADER + "1767225600,1,200,a\n1767225661.5,1,200,a\n"))
    assert df["interval_start"].tolist() == [pd.Timestamp("2026-01-01T00:00:00Z"), pd.Timestamp("2026-01-01T00:01:00Z")]


# --------------------------------------------------------------------------- formats, order, DST


def _random_requests(n: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    us = np.sort(rng.integers(0, 3 * 3600 * 10**6, n))
    ts = pd.Timestamp("2026-02-01T00:00:00Z") + pd.to_timedelta(us, unit="us")
    return pd.DataFrame(
        {
            "timestamp": ts.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
            "latency_ms": np.round(rng.lognormal(3.5, 1.0, n), 3),
            "status": rng.choice([200, 200, 200, 404, 500, 503], n),
            "journey": rng.choice(["checkout", "search", "login"], n),
        }
    )


def test_csv_gz_parquet_identical(tmp_path: Path) -> None:
    req = _random_requests(5000, 1)
    csv = tmp_path / "r.csv"
    req.to_csv(csv, index=False)
    gz = tmp_path / "r.csv.gz"
    with gzip.open(gz, "wt") as fh:
        req.to_csv(fh, index=False)
    pqt = tmp_path / "r.parquet"
    typed = req.assign(timestamp=pd.to_datetime(req["timestamp"], utc=True))
    pq.write_table(pa.Table.from_pandas(typed, preserve_index=False), pqt, row_group_size=1500)
    text_pq = tmp_path / "text.parquet"
    req.to_parquet(text_pq, index=False)
    a, ea = ag.aggregate_files([csv])
    b, eb = ag.aggregate_files([gz])
    c, ec = ag.aggregate_files([pqt])
    d, _ = ag.aggregate_files([text_pq])
    for other in (b, c, d):
        pd.testing.assert_frame_equal(a, other)
    assert ea.rows_accepted == eb.rows_accepted == ec.rows_accepted == 5000
    assert a["total"].sum() == 5000
    assert a["errors"].sum() == int(req["status"].isin([500, 503]).sum())


def test_unsorted_equals_sorted_and_small_batches(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    req = _random_requests(4000, 2)
    sorted_p = tmp_path / "s.csv"
    req.to_csv(sorted_p, index=False)
    shuffled = tmp_path / "u.csv"
    req.sample(frac=1.0, random_state=5).to_csv(shuffled, index=False)
    a, _ = ag.aggregate_files([sorted_p])
    b, _ = ag.aggregate_files([shuffled])
    pd.testing.assert_frame_equal(a, b)
    monkeypatch.setattr(ag, "_CSV_BLOCK", 4096)  # ~100 batches: partial merges exercised
    monkeypatch.setattr(ag, "_COMPACT_ENTRIES", 50)
    c, _ = ag.aggregate_files([shuffled])
    pd.testing.assert_frame_equal(a, c)


def test_several_files_merge(tmp_path: Path) -> None:
    req = _random_requests(3000, 4)
    whole = tmp_path / "whole.csv"
    req.to_csv(whole, index=False)
    parts = []
    shuffled = req.sample(frac=1.0, random_state=1)
    for i, lo in enumerate((0, 1000, 2000)):
        p = tmp_path / f"part{i}.csv"
        shuffled.iloc[lo : lo + 1000].to_csv(p, index=False)
        parts.append(p)
    a, ea = ag.aggregate_files([whole])
    b, eb = ag.aggregate_files(parts)
    pd.testing.assert_frame_equal(a, b)
    assert eb.rows_read == 3000 and eb.source == ", ".join(map(str, parts))


def test_dst_repeats_and_gaps_follow_timeutil_rule(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Europe/Berlin: 2026-10-25 02:00-03:00 happens twice; 2026-03-29 02:00-03:00 never happens.
    stamps = [
        "2026-10-25 01:59:00",
        "2026-10-25 02:30:00",
        "2026-10-25 02:45:00",
        "2026-10-25 02:30:00",
        "2026-10-25 02:45:00",
        "2026-10-25 03:10:00",
        "2026-03-29 02:30:00",
    ]
    text = HEADER + "".join(f"{s},1,200,a\n" for s in stamps)
    p = write(tmp_path, text)
    loaded = ag.read_requests(p, tz="Europe/Berlin")
    want = parse_utc(pd.Series(stamps), tz="Europe/Berlin")
    got = ag.read_requests(p, tz="Europe/Berlin").frame
    assert sorted(got["timestamp"].tolist()) == sorted(want.utc.tolist())
    # first 02:30 = 00:30 UTC (summer time), the repeat = 01:30 UTC; the gap shifts to 03:00 CEST.
    assert pd.Timestamp("2026-10-25T00:30:00Z") in got["timestamp"].tolist()
    assert pd.Timestamp("2026-10-25T01:30:00Z") in got["timestamp"].tolist()
    assert pd.Timestamp("2026-03-29T01:00:00Z") in got["timestamp"].tolist()
    assert loaded.entry.notes["dst_ambiguous_resolved"] == 4 == want.ambiguous_resolved
    assert loaded.entry.notes["dst_nonexistent_shifted"] == 1 == want.nonexistent_shifted
    # the rule holds across streaming batches too
    monkeypatch.setattr(ag, "_CSV_BLOCK", 64)
    small, entry = ag.aggregate_files([p], tz="Europe/Berlin")
    whole = ag.aggregate_frame(got)
    pd.testing.assert_frame_equal(small, whole)
    assert entry.notes["dst_ambiguous_resolved"] == 4


def test_read_requests_canonical(tmp_path: Path) -> None:
    text = HEADER + "2026-01-01T00:00:02Z,5,503,b\n2026-01-01T00:00:01Z,7.5,200,a\n2026-01-01T00:00:03Z,-1,200,a\n"
    loaded = ag.read_requests(write(tmp_path, text))
    f = loaded.frame
    assert list(f.columns) == ["timestamp", "latency_ms", "error", "journey"]
    assert f["latency_ms"].tolist() == [7.5, 5.0] and f["error"].tolist() == [False, True]
    assert f["journey"].tolist() == ["a", "b"] and str(f["journey"].dtype) == "str"
    assert str(f["timestamp"].dtype) == "datetime64[us, UTC]"
    assert loaded.rejects["row"].tolist() == [3] and loaded.entry.rejected == {"negative latency_ms": 1}


def test_bad_parameters() -> None:
    with pytest.raises(ConfigError, match="interval"):
        ag.aggregate_files(["x.csv"], interval=pd.Timedelta("10ms"))
    with pytest.raises(ConfigError, match="edges"):
        ag.aggregate_files(["x.csv"], edges=(10, 5))
    with pytest.raises(ConfigError, match="timezone"):
        ag.aggregate_files(["x.csv"], tz="Mars/Olympus")
    with pytest.raises(InputError, match="not found"):
        ag.aggregate_files(["/nonexistent/x.csv"])


# --------------------------------------------------------------------------- CLI and samples


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "srekit.cli", "aggregate", *args], capture_output=True, text=True, timeout=120
    )


def test_cli_writes_parquet_and_csv(tmp_path: Path) -> None:
    req = _random_requests(2000, 6)
    src = tmp_path / "r.csv"
    req.to_csv(src, index=False)
    with src.open("a") as fh:
        fh.write("2026-02-01T00:00:00Z,-1,200,search\n")
    out = tmp_path / "t.parquet"
    q = tmp_path / "q.csv"
    r = _cli(str(src), "--out", str(out), "--edges", "50,100,250", "--quarantine", str(q))
    assert r.returncode == 0, r.stderr
    assert "rows read 2001, accepted 2000, rejected 1" in r.stdout and "negative latency_ms: 1" in r.stdout
    got = read_parquet_frame(out)  # the sparse layout (the default), read wide
    want, _ = ag.aggregate_files([src], edges=(50, 100, 250))
    pd.testing.assert_frame_equal(got, want)
    assert pq.ParquetFile(out).schema_arrow.names == ["journey", "interval_start", "total", "errors", "buckets"]
    assert len(pd.read_csv(q)) == 1
    wide = tmp_path / "wide.parquet"
    assert _cli(str(src), "--out", str(wide), "--edges", "50,100,250", "--layout", "wide").returncode == 0
    pd.testing.assert_frame_equal(pd.read_parquet(wide), want)
    r = _cli(str(src), "--out", str(tmp_path / "s.csv"), "--layout", "sparse")
    assert r.returncode == 2 and "sparse layout is Parquet only" in r.stderr and not (tmp_path / "s.csv").exists()
    out_csv = tmp_path / "t.csv"
    r = _cli(str(src), "--out", str(out_csv), "--edges", "50,100,250", "--interval", "5m")
    assert r.returncode == 0, r.stderr
    assert list(pd.read_csv(out_csv).columns) == [
        "journey",
        "interval_start",
        "total",
        "errors",
        "le_50",
        "le_100",
        "le_250",
    ]
    assert not [p.name for p in tmp_path.iterdir() if ".tmp-" in p.name]


def test_cli_errors_exit_2(tmp_path: Path) -> None:
    bad = write(tmp_path, "timestamp,latency,status\n2026-01-01T00:00:00Z,1,200\n")
    r = _cli(str(bad), "--out", str(tmp_path / "o.parquet"))
    assert r.returncode == 2 and "latency_ms" in r.stderr and "Traceback" not in r.stderr
    assert not (tmp_path / "o.parquet").exists()
    strict = write(tmp_path, HEADER + "2026-01-01T00:00:00Z,-1,200,a\n", "s.csv")
    r = _cli(str(strict), "--out", str(tmp_path / "o.parquet"), "--strict")
    assert r.returncode == 2 and "row 1" in r.stderr


def test_samples_requests_aggregate(tmp_path: Path) -> None:
    src = SAMPLES / "requests_1d.csv.gz"
    df, entry = ag.aggregate_files([src])
    tm.check(df, source=str(src))
    assert df["total"].sum() == entry.rows_accepted > 0
    assert df["journey"].nunique() >= 3
    span = entry.end - entry.start  # type: ignore[operator]
    assert pd.Timedelta(hours=20) < span <= pd.Timedelta(days=1)
    loaded = ag.read_requests(src)
    pd.testing.assert_frame_equal(ag.aggregate_frame(loaded.frame), df)


def test_typed_fast_pass_rejects_like_text_pass(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # All-numeric columns: pyarrow infers int/float types, so the fast pass sees typed values;
    # a text value later in the file sends the rest of the file to the exact pass.
    rows = [
        "2026-01-01T00:00:00Z,5,200,a",
        "2026-01-01T00:00:01Z,5,0,a",
        "2026-01-01T00:00:02Z,5,999,a",
        "2026-01-01T00:00:03Z,-1,503,a",
        "2026-01-01T00:00:04Z,inf,503,a",
        "2026-01-01T00:00:05Z,,200,a",
    ]
    rows += [f"2026-01-01T00:01:{i:02d}Z,7,200,b" for i in range(40)] + [
        "2026-01-01T00:02:00Z,slow,200,b",
        "2026-01-01T00:02:01Z,7,OK,b",
    ]
    p = write(tmp_path, HEADER + "\n".join(rows) + "\n")
    monkeypatch.setattr(ag, "_CSV_BLOCK", 256)  # first block holds only typed-looking rows
    q = tmp_path / "q.csv"
    df, entry = agg(p, quarantine=q)
    assert dict(entry.rejected) == {
        "unknown status code": 3,
        "negative latency_ms": 1,
        "infinite latency_ms": 1,
        "missing latency_ms": 1,
        "non-numeric latency_ms": 1,
    }
    rej = pd.read_csv(q, dtype=str, keep_default_na=False)
    assert rej["row"].tolist() == ["2", "3", "4", "5", "6", "47", "48"]
    # the original text, not values re-rendered from the fast pass's parsed types
    assert rej["timestamp"].iloc[0] == "2026-01-01T00:00:01Z"
    assert rej["latency_ms"].tolist() == ["5", "5", "-1", "inf", "", "slow", "7"]
    assert rej["status"].tolist() == ["0", "999", "503", "503", "200", "200", "OK"]
    assert dict(zip(df["journey"], df["total"], strict=True)) == {"a": 1, "b": 40}
    monkeypatch.setattr(ag, "_CSV_BLOCK", 1 << 20)
    df2, entry2 = agg(p)
    pd.testing.assert_frame_equal(df, df2)
    assert entry2.rejected == entry.rejected


def test_malformed_line_mid_file_restart_keeps_exact_rows(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    rows = [f"2026-01-01T00:{i // 60:02d}:{i % 60:02d}Z,{i % 50},200,a" for i in range(300)]
    rows[150] = "2026-01-01T00:02:30Z,5,200,a,EXTRA"  # malformed line (row 151)
    rows[200] = "2026-01-01T00:03:20Z,-7,200,a"  # negative latency (row 201)
    rows[290] = "2026-01-01T00:04:50Z,3,200"  # too few fields (row 291)
    p = write(tmp_path, HEADER + "\n".join(rows) + "\n")
    monkeypatch.setattr(ag, "_CSV_BLOCK", 512)  # ~15 blocks: the restart happens mid-file
    q = tmp_path / "q.csv"
    df, entry = agg(p, quarantine=q)
    rej = pd.read_csv(q, keep_default_na=False)
    assert dict(zip(rej["row"], rej["reason"], strict=True)) == {
        151: "wrong number of fields",
        201: "negative latency_ms",
        291: "wrong number of fields",
    }
    assert (entry.rows_read, entry.rows_accepted) == (300, 297)
    assert df["total"].sum() == 297 and df["interval_start"].nunique() == 5
    monkeypatch.setattr(ag, "_CSV_BLOCK", 1 << 20)
    whole, entry2 = agg(p)
    pd.testing.assert_frame_equal(df, whole)
    assert entry2.rejected == entry.rejected


def test_cli_bad_options_exit_2(tmp_path: Path) -> None:
    src = write(tmp_path, HEADER + "2026-01-01T00:00:00Z,5,200,a\n")
    for args, needle in (
        (["--edges", "5,x"], "--edges"),
        (["--columns", "timestamp"], "--columns"),
        (["--interval", "soon"], "--interval"),
        (["--timezone", "Nowhere/City"], "timezone"),
    ):
        r = _cli(str(src), "--out", str(tmp_path / "o.parquet"), *args)
        assert r.returncode == 2 and needle in r.stderr and "Traceback" not in r.stderr, (args, r.stderr)


def test_nanosecond_stamps_cut_to_microseconds(tmp_path: Path) -> None:
    rows = [
        "2026-01-01T00:00:59.999999999Z,1,200,a",
        "2026-01-01T00:01:00.000000001Z,1,200,a",
        "2026-01-01 00:02:00.123456789Z,1,200,a",
    ]
    df, entry = agg(write(tmp_path, HEADER + "\n".join(rows) + "\n"))
    assert df["interval_start"].tolist() == [pd.Timestamp(f"2026-01-01T00:0{m}:00Z") for m in (0, 1, 2)]
    assert entry.rows_rejected == 0 and entry.end == pd.Timestamp("2026-01-01T00:02:00.123456Z")


def test_line_breaks_inside_quoted_cells_are_read(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Journey names with a line break, quoted as CSV allows, in a log of several 1 MiB blocks
    (pyarrow's fast reader loses the row boundaries where a block ends inside such a cell): the
    aggregate equals that of the same log with plain names, and the names are kept."""
    monkeypatch.setattr(ag, "_CSV_BLOCK", 1 << 20)
    rng = np.random.default_rng(1)
    n = 60_000
    stamps = pd.Timestamp("2026-01-01", tz="UTC") + pd.to_timedelta(np.sort(rng.integers(0, 86_400_000_000, n)), "us")
    names = {"check\nout": "a", "bro\r\nwse": "b", "plain": "plain"}
    log = pd.DataFrame(
        {
            "timestamp": stamps.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
            "latency_ms": rng.lognormal(4, 1, n).round(3),
            "status": rng.choice([200, 503], n, p=[0.99, 0.01]),
            "journey": rng.choice(list(names), n),
        }
    )
    log.to_csv(tmp_path / "multi.csv", index=False)
    log.assign(journey=log["journey"].map(names)).to_csv(tmp_path / "plain.csv", index=False)
    assert (tmp_path / "multi.csv").stat().st_size > 2 * ag._CSV_BLOCK
    got, entry = agg(tmp_path / "multi.csv")
    want, _ = agg(tmp_path / "plain.csv")
    assert entry.rows_accepted == n and set(got["journey"]) == set(names)
    got["journey"] = got["journey"].map(names)
    key = ["journey", "interval_start"]
    pd.testing.assert_frame_equal(
        got.sort_values(key, ignore_index=True), want.sort_values(key, ignore_index=True), check_dtype=False
    )


def test_written_counts_use_the_encodings_chosen_for_them(tmp_path: Path) -> None:
    """The sparse layout's map columns (few distinct edges, small counts) are dictionary-encoded
    and the integer and time columns delta-encoded: the map is named by its column paths, which
    a bare ``buckets`` does not match (the file then held the map plain, nearly twice the size)."""
    rng = np.random.default_rng(3)
    n = 5_000
    stamps = pd.Timestamp("2026-01-01", tz="UTC") + pd.to_timedelta(np.sort(rng.integers(0, 6 * 3600 * 10**6, n)), "us")
    log = pd.DataFrame(
        {
            "timestamp": stamps.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
            "latency_ms": rng.lognormal(4, 1, n).round(3),
            "status": rng.choice([200, 503], n, p=[0.99, 0.01]),
            "journey": rng.choice(["a", "b"], n),
        }
    )
    log.to_csv(tmp_path / "r.csv", index=False)
    written = ag.aggregate_to_file([tmp_path / "r.csv"], tmp_path / "out.parquet")
    group = pq.ParquetFile(written.path).metadata.row_group(0)
    columns = {group.column(i).path_in_schema: group.column(i) for i in range(group.num_columns)}
    assert {p for p, c in columns.items() if c.has_dictionary_page} == {
        "journey",
        "buckets.key_value.key",
        "buckets.key_value.value",
    }
    assert all("DELTA_BINARY_PACKED" in columns[p].encodings for p in ("interval_start", "total", "errors"))


def test_a_failed_write_stops_the_tables_being_made_and_leaves_no_file(tmp_path: Path) -> None:
    """The output's tables are made on a thread while the writer writes: when a write fails, that
    thread stops at once (not when the failure's traceback is let go) and no file is left."""
    import threading

    schema = pa.schema([("n", pa.int64())])
    made: list[int] = []

    def tables():  # type: ignore[no-untyped-def]
        for i in range(1000):
            made.append(i)
            yield pa.table({"n": [i]}) if i < 3 else pa.table({"other": ["not the schema"]})

    with pytest.raises(ValueError) as failed:
        ag._write_tables(tables(), schema, tmp_path / "out.parquet")
    assert failed.value is not None  # the traceback (and the frames it holds) still alive here
    assert not [t for t in threading.enumerate() if t.name == "srekit-aggregate-tables"]
    assert len(made) <= 3 + 2 + ag._WRITE_AHEAD and not list(tmp_path.iterdir())


def test_the_quarantine_keeps_label_columns_and_is_spreadsheet_safe(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A rejected row of ``--by`` labelled requests keeps its label values (the rows are
    to be fixed and fed again), and its text cannot run as a formula in a spreadsheet: the
    quarantine is written like every CSV srekit writes (``core.files.csv_text``)."""
    text = (
        "timestamp,latency_ms,status,journey,Region,reason\n"
        "2026-01-01T00:00:00Z,5,200,a,eu,x\n"
        '2026-01-01T00:00:01Z,fast,200,"=HYPERLINK(""http://x"")",us,+cmd\n'
        "2026-01-01T00:00:02Z,-1,200,b,@eu,y\n"
    )
    monkeypatch.setattr(ag, "_CSV_BLOCK", 64)  # a batch a row: the quarantine written in chunks
    q = tmp_path / "q.csv"
    _, entry = agg(write(tmp_path, text), quarantine=q, by=["region", "reason"])
    assert entry.rows_rejected == 2
    lines = q.read_bytes().split(b"\r\n")  # one header, every row ending as csv_text ends them
    assert lines[0].startswith(b"file,row,") and lines[-1] == b"" and len(lines) == 4
    assert b"\n" not in b"".join(lines)
    rej = pd.read_csv(q, keep_default_na=False, dtype=str)
    assert rej.columns.tolist() == [*ag.quarantine_columns(("region", "reason"))]
    assert rej.columns.tolist()[7:9] == ["region", "reason (file)"]
    assert rej["region"].tolist() == ["us", "'@eu"] and rej["reason (file)"].tolist() == ["'+cmd", "y"]
    assert rej["journey"].tolist() == ['\'=HYPERLINK("http://x")', "b"]
    assert rej["reason"].tolist() == ["non-numeric latency_ms", "negative latency_ms"]
