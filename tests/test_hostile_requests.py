"""Hostile raw request logs (issue 12): the request reader (``read_requests``, ``aggregate_files``,
``srekit validate requests``, ``srekit aggregate``) rejects with reasons, never crashes, and agrees
with the loaders on stamps, numbers and journeys."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hostile_inputs import (
    NASTY,
    check_ledger,
    check_names,
    check_stamps,
    exact_floats,
    iso,
    load_or_refuse,
    mangled_csv,
    names,
    raw_lines,
    stamps_strategy,
    typed_parquet,
    write_bytes,
    write_parquet,
)
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from srekit.cli import main
from srekit.core.errors import InputError
from srekit.core.limits import Limits
from srekit.inputs import aggregate as ag
from srekit.inputs import loaders as io
from srekit.inputs import numbers as num
from srekit.inputs import telemetry as tm
from srekit.inputs.timeparse import parse_utc

HEADER = ["timestamp", "latency_ms", "status", "journey"]
EDGES = (10.0, 100.0, 1000.0)


def write(tmp: Path, text: str, name: str = "r.csv") -> Path:
    p = tmp / name
    p.write_text(text)
    return p


@st.composite
def valid_row(draw: st.DrawFn) -> list[str]:
    status = draw(st.sampled_from(["200", "204", "404", "500", "503"]))
    return [iso(draw(stamps_strategy())), repr(draw(exact_floats())), status, draw(names)]


def check_frame(got: io.Loaded) -> None:
    f = got.frame
    check_stamps(f["timestamp"])
    assert np.isfinite(f["latency_ms"]).all() and (f["latency_ms"] >= 0).all()
    assert f["error"].dtype == bool
    check_names(f["journey"], allow_missing=False)


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=mangled_csv(HEADER, valid_row()))
def test_mangled_csv_reads_or_refuses_cleanly(tmp_path_factory: pytest.TempPathFactory, data: object) -> None:
    d = tmp_path_factory.mktemp("req")
    p = write_bytes(d, "r.csv", data.data)  # type: ignore[attr-defined]
    got = load_or_refuse(ag.read_requests, p)
    if got is None:
        return
    check_ledger(got, data.rows)  # type: ignore[attr-defined]
    check_frame(got)
    # the streaming aggregate sees the same rows and the same ledger
    wide = Limits(max_intervals=10**12)  # random stamps span a century: the grid bound is tested below
    frame, entry = ag.aggregate_files(p, edges=EDGES, quarantine=d / "q.csv", limits=wide)
    assert (entry.rows_read, entry.rows_accepted, dict(entry.rejected)) == (
        got.entry.rows_read,
        got.entry.rows_accepted,
        dict(got.entry.rejected),
    )
    tm.check(frame)
    assert int(frame["total"].sum()) == got.entry.rows_accepted
    if entry.rows_rejected:
        assert len(pd.read_csv(d / "q.csv", dtype=str, keep_default_na=False)) == entry.rows_rejected


@settings(max_examples=40, deadline=None)
@given(lines=raw_lines)
def test_arbitrary_text_never_crashes(tmp_path_factory: pytest.TempPathFactory, lines: list[str]) -> None:
    p = write_bytes(tmp_path_factory.mktemp("raw"), "r.csv", (",".join(HEADER) + "\n" + "\n".join(lines)).encode())
    got = load_or_refuse(ag.read_requests, p)
    if got is not None:
        check_ledger(got)
        check_frame(got)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(frame=typed_parquet(HEADER, valid_row()))
def test_typed_parquet_never_crashes(tmp_path_factory: pytest.TempPathFactory, frame: pd.DataFrame) -> None:
    """Parquet columns of any type (uint64 beyond int64, NaN, infinities, any year, durations,
    bytes, categories) load or are refused with a SrekitError."""
    p = write_parquet(tmp_path_factory.mktemp("pq"), frame)
    got = None if p is None else load_or_refuse(ag.read_requests, p)
    if got is not None:
        check_ledger(got, len(frame))
        check_frame(got)


@settings(max_examples=30, deadline=None)
@given(
    rows=st.lists(
        st.tuples(stamps_strategy(), exact_floats(), st.sampled_from([200, 503]), names), min_size=1, max_size=30
    ),
    fmt=st.sampled_from(["csv", "parquet"]),
)
def test_round_trip_rows_are_exact(tmp_path_factory: pytest.TempPathFactory, rows: list[tuple], fmt: str) -> None:
    df = pd.DataFrame(rows, columns=["timestamp", "latency_ms", "status", "journey"])
    df["timestamp"] = df["timestamp"].astype("datetime64[us, UTC]")
    d = tmp_path_factory.mktemp("rt")
    path = d / f"r.{fmt}"
    if fmt == "parquet":
        df.to_parquet(path)
    else:
        df.assign(timestamp=df["timestamp"].map(iso), latency_ms=df["latency_ms"].map(repr)).to_csv(path, index=False)
    got = ag.read_requests(path)
    want = pd.DataFrame(
        {
            "timestamp": df["timestamp"],
            "latency_ms": df["latency_ms"].astype(float),
            "error": df["status"] >= 500,
            "journey": df["journey"].astype("str"),
        }
    )
    key = ["timestamp", "journey", "latency_ms"]
    pd.testing.assert_frame_equal(
        got.frame.sort_values(key).reset_index(drop=True),
        want.sort_values(key).reset_index(drop=True),
        check_exact=True,
    )


@settings(max_examples=40, deadline=None)
@given(stamps=st.lists(st.one_of(st.sampled_from(NASTY), stamps_strategy().map(iso)), min_size=1, max_size=15))
def test_stamps_read_as_the_loaders_read_them(tmp_path_factory: pytest.TempPathFactory, stamps: list[str]) -> None:
    """One rule for every input: the request reader accepts, rejects and converts stamps exactly
    as timeparse.parse_utc (the loaders) does."""
    d = tmp_path_factory.mktemp("st")
    body = "".join(f'"{s.replace(chr(34), chr(34) * 2)}",1,200\n' for s in stamps)
    p = write(d, "timestamp,latency_ms,status\n" + body)
    want = parse_utc(pd.Series(stamps, dtype="str").str.strip())
    good = want.utc.notna().to_numpy()
    if not good.any():
        with pytest.raises(InputError, match="no usable rows"):
            ag.read_requests(p)
        return
    got = ag.read_requests(p)
    assert sorted(got.frame["timestamp"]) == sorted(want.utc[good])
    assert got.entry.rejected.get("timestamp out of range", 0) == int(want.range_mask.sum())


@settings(max_examples=40, deadline=None)
@given(values=st.lists(st.one_of(st.sampled_from(NASTY), exact_floats().map(repr)), min_size=1, max_size=15))
def test_latencies_read_as_the_loaders_read_numbers(
    tmp_path_factory: pytest.TempPathFactory, values: list[str]
) -> None:
    d = tmp_path_factory.mktemp("lat")
    body = "".join(f'2024-01-01T00:00:{i:02d}Z,"{v.replace(chr(34), chr(34) * 2)}",200\n' for i, v in enumerate(values))
    p = write(d, "timestamp,latency_ms,status\n" + body)
    parsed = num.parse_numbers(pd.Series(values, dtype="str"))
    bad = np.zeros(len(values), bool)
    for _, mask in parsed.masks:
        bad |= mask
    if bad.all():
        with pytest.raises(InputError, match="no usable rows"):
            ag.read_requests(p)
        return
    got = ag.read_requests(p)
    assert got.frame["latency_ms"].tolist() == parsed.values[~bad].tolist()
    assert got.entry.rows_rejected == int(bad.sum())


# ------------------------------------------------------------------------- the examples


def test_extra_comma_rejects_only_that_row(tmp_path: Path) -> None:
    p = write(
        tmp_path, "timestamp,latency_ms,status,journey\n2024-01-01T00:00:00Z,5,200,a,\n2024-01-01T00:00:01Z,6,200,b\n"
    )
    got = ag.read_requests(p)
    assert got.frame["journey"].tolist() == ["b"] and dict(got.entry.rejected) == {"wrong number of fields": 1}


@pytest.mark.parametrize(
    ("stamp", "reason"),
    [
        ("12345678901234", "timestamp out of range"),  # aggregate wrote the year 294247, exit 0
        ("-1", "unparseable timestamp"),
        ("12:00", "unparseable timestamp"),
        ("9999-12-31T23:59:59Z", "timestamp out of range"),  # was a traceback
        ("0", "timestamp out of range"),
    ],
)
def test_odd_stamps(tmp_path: Path, stamp: str, reason: str) -> None:
    p = write(tmp_path, f"timestamp,latency_ms,status\n{stamp},1,200\n2024-01-01T00:00:00Z,2,200\n")
    got = ag.read_requests(p)
    assert dict(got.entry.rejected) == {reason: 1}
    frame, _ = ag.aggregate_files(p, edges=EDGES)
    assert frame["interval_start"].tolist() == [pd.Timestamp("2024-01-01", tz="UTC")]


def test_typed_epoch_columns_follow_the_magnitude_rule(tmp_path: Path) -> None:
    """An integer column of epoch milliseconds was read as seconds (year 55,970)."""
    df = pd.DataFrame({"timestamp": [1704067200000, 1704067260000], "latency_ms": [1.0, 2.0], "status": [200, 200]})
    df.to_parquet(tmp_path / "r.parquet")
    (tmp_path / "r.csv").write_text(df.to_csv(index=False))
    want = [pd.Timestamp("2024-01-01 00:00", tz="UTC"), pd.Timestamp("2024-01-01 00:01", tz="UTC")]
    for name in ("r.parquet", "r.csv"):
        assert ag.read_requests(tmp_path / name).frame["timestamp"].tolist() == want


@pytest.mark.parametrize(
    ("cell", "reason"),
    [
        ("1,5", "decimal comma in latency_ms"),
        ("0,132", "decimal comma in latency_ms"),
        ("1,234", "ambiguous comma in latency_ms"),
    ],
)
def test_decimal_commas_in_latency(tmp_path: Path, cell: str, reason: str) -> None:
    p = write(tmp_path, f'timestamp,latency_ms,status\n2024-01-01T00:00:00Z,"{cell}",200\n2024-01-01T00:00:01Z,2,200\n')
    assert dict(ag.read_requests(p).entry.rejected) == {reason: 1}


@pytest.mark.parametrize("blank", ["", "NA", "none", "null", "N/A"])
def test_blank_journey_is_unknown_as_in_the_loaders(tmp_path: Path, blank: str) -> None:
    p = write(
        tmp_path,
        f"timestamp,latency_ms,status,journey\n2024-01-01T00:00:00Z,1,200,{blank}\n2024-01-01T00:00:01Z,1,200,b\n",
    )
    got = ag.read_requests(p)
    assert sorted(got.frame["journey"]) == ["b", "unknown"] and got.entry.notes["journey_missing"] == 1


def test_long_journey_is_rejected(tmp_path: Path) -> None:
    p = write(
        tmp_path,
        f"timestamp,latency_ms,status,journey\n2024-01-01T00:00:00Z,1,200,{'j' * 300}\n2024-01-01T00:00:01Z,1,200,b\n",
    )
    got = ag.read_requests(p)
    assert got.frame["journey"].tolist() == ["b"] and dict(got.entry.rejected) == {"too long journey": 1}


@pytest.mark.parametrize(
    "header",
    [
        "timestamp,latency_ms,latency_ms,status",
        "timestamp,latency_ms,Latency_MS,status",
        "timestamp,journey,latency_ms,status,Journey",
    ],
)
def test_duplicate_headers_are_errors(tmp_path: Path, header: str) -> None:
    fields = header.count(",") + 1
    p = write(tmp_path, header + "\n" + ",".join(["2024-01-01T00:00:00Z"] + ["1"] * (fields - 2) + ["200"]) + "\n")
    with pytest.raises(InputError, match="columns match") as e:
        ag.read_requests(p)
    assert "(column" in str(e.value)


def test_too_many_journeys_stops_reading(tmp_path: Path) -> None:
    rows = "".join(f"2024-01-01T00:00:{i % 60:02d}Z,1,200,route-{i}\n" for i in range(3000))
    p = write(tmp_path, "timestamp,latency_ms,status,journey\n" + rows)
    with pytest.raises(InputError, match="limits.max_journeys = 100") as e:
        ag.aggregate_files(p, edges=EDGES, limits=Limits(max_journeys=100))
    assert "--columns journey=service" in str(e.value)
    frame, _ = ag.aggregate_files(p, edges=EDGES, limits=Limits(max_journeys=3000))
    assert frame["journey"].nunique() == 3000


def test_span_beyond_max_intervals(tmp_path: Path) -> None:
    p = write(tmp_path, "timestamp,latency_ms,status\n1991-01-01T00:00:00Z,1,200\n2098-01-01T00:00:00Z,1,200\n")
    with pytest.raises(InputError, match="limits.max_intervals"):
        ag.aggregate_files(p, edges=EDGES, interval=pd.Timedelta("1s"))
    assert len(ag.aggregate_files(p, edges=EDGES, interval=pd.Timedelta("1D"))[0]) == 2


def test_all_rows_rejected_is_exit_2_for_validate_and_aggregate(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    p = write(tmp_path, "timestamp,latency_ms,status\nyesterday,1,200\n2024-01-01T00:00:00Z,fast,200\n12:00,1,200\n")
    assert main(["validate", "requests", str(p)]) == 2
    err = capsys.readouterr().err
    assert "no usable rows" in err and "unparseable timestamp: 2" in err and "rows 1, 3" in err
    out = tmp_path / "t.parquet"
    q = tmp_path / "q.csv"
    assert main(["aggregate", str(p), "--out", str(out), "--quarantine", str(q), "--no-progress"]) == 2
    assert "no usable rows" in capsys.readouterr().err
    assert not out.exists()  # no empty parquet
    assert pd.read_csv(q)["reason"].tolist() == [
        "unparseable timestamp",
        "non-numeric latency_ms",
        "unparseable timestamp",
    ]


def test_limit_option_on_the_command_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rows = "".join(f"2024-01-01T00:00:0{i}Z,1,200,j{i}\n" for i in range(3))
    p = write(tmp_path, "timestamp,latency_ms,status,journey\n" + rows)
    out = tmp_path / "t.parquet"
    assert main(["aggregate", str(p), "--out", str(out), "--limit", "max_journeys=2", "--no-progress"]) == 2
    assert "limits.max_journeys = 2" in capsys.readouterr().err
    assert main(["aggregate", str(p), "--out", str(out), "--limit", "max_journeys=3", "--no-progress"]) == 0
    assert main(["validate", "requests", str(p), "--limit", "max_jurneys=3"]) == 2
    assert "unknown limit" in capsys.readouterr().err


def test_aggregate_frame_refuses_what_the_reader_rejects() -> None:
    """The pure reduction over canonical rows holds the same rules: stamps in range, missing
    journeys as ``unknown``, names bounded."""
    rows = pd.DataFrame(
        {
            "timestamp": pd.to_datetime(["2024-01-01T00:00:00Z", "2024-01-01T00:00:01Z"], utc=True),
            "latency_ms": [1.0, 2.0],
            "error": [False, True],
            "journey": ["NA", "checkout"],
        }
    )
    out = ag.aggregate_frame(rows, edges=EDGES)
    assert sorted(out["journey"]) == ["checkout", "unknown"]
    far = rows.assign(timestamp=pd.to_datetime(["1970-01-01T00:00:00Z", "2024-01-01T00:00:00Z"], utc=True))
    with pytest.raises(InputError, match="out-of-range stamp"):
        ag.aggregate_frame(far, edges=EDGES)
    with pytest.raises(InputError, match="longer than limits.max_name_chars"):
        ag.aggregate_frame(rows.assign(journey=["x" * 129, "y"]), edges=EDGES)
    with pytest.raises(InputError, match="limits.max_journeys = 1"):
        ag.aggregate_frame(rows, edges=EDGES, limits=Limits(max_journeys=1))
