"""Hostile telemetry files (issue 12): no input makes the loader raise anything but a SrekitError,
no accepted count changes value, and every silent-wrong-number example of the issue is a reject
or an error with its reason."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hostile_inputs import (
    check_ledger,
    check_names,
    check_stamps,
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

from srekit.core.errors import InputError
from srekit.core.limits import DEFAULT_LIMITS, MAX_SUM, Limits
from srekit.inputs import loaders as io
from srekit.inputs import telemetry as tm

HEADER = ["journey", "interval_start", "total", "errors", "le_100", "le_250"]
MAX = DEFAULT_LIMITS.max_count


def write(tmp: Path, text: str, name: str = "t.csv") -> Path:
    p = tmp / name
    p.write_text(text)
    return p


@st.composite
def valid_row(draw: st.DrawFn) -> list[str]:
    total = draw(st.integers(0, 10**6))
    les = sorted(draw(st.lists(st.integers(0, total), min_size=2, max_size=2)))
    errors = draw(st.integers(0, total))
    stamp = draw(stamps_strategy()).floor("min")
    return [draw(names), iso(stamp), str(total), str(errors), str(les[0]), str(les[1])]


def check_frame(got: io.Loaded) -> None:
    frame = got.frame
    tm.check(frame)
    assert list(frame.columns[:4]) == tm.KEY + tm.COUNTS
    assert all(frame[c].dtype == np.int64 for c in tm.COUNTS)
    assert all(frame[c].dtype in (np.dtype(np.int64), *tm.BUCKET_DTYPES) for c in tm.le_columns(frame))
    assert int(frame[frame.columns[2:]].to_numpy().max(initial=0)) <= MAX
    check_stamps(frame["interval_start"])
    check_names(frame["journey"], allow_missing=False)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=mangled_csv(HEADER, valid_row()))
def test_mangled_csv_loads_or_refuses_cleanly(tmp_path_factory: pytest.TempPathFactory, data: object) -> None:
    p = write_bytes(tmp_path_factory.mktemp("tel"), "t.csv", data.data)  # type: ignore[attr-defined]
    got = load_or_refuse(io.load_telemetry, p)
    if got is not None:
        check_ledger(got, data.rows)  # type: ignore[attr-defined]
        check_frame(got)


@settings(max_examples=40, deadline=None)
@given(lines=raw_lines)
def test_arbitrary_text_never_crashes(tmp_path_factory: pytest.TempPathFactory, lines: list[str]) -> None:
    p = write_bytes(tmp_path_factory.mktemp("raw"), "t.csv", (",".join(HEADER) + "\n" + "\n".join(lines)).encode())
    got = load_or_refuse(io.load_telemetry, p)
    if got is not None:
        check_ledger(got)
        check_frame(got)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(frame=typed_parquet(HEADER, valid_row()))
def test_typed_parquet_never_crashes(tmp_path_factory: pytest.TempPathFactory, frame: pd.DataFrame) -> None:
    """Parquet columns of any type (uint64 beyond int64, NaN, infinities, any year, durations,
    bytes, categories) load or are refused with a SrekitError."""
    p = write_parquet(tmp_path_factory.mktemp("pq"), frame)
    got = None if p is None else load_or_refuse(io.load_telemetry, p)
    if got is not None:
        check_ledger(got, len(frame))
        check_frame(got)


@st.composite
def valid_frame(draw: st.DrawFn) -> pd.DataFrame:
    n = draw(st.integers(1, 20))
    total = np.array(draw(st.lists(st.integers(0, MAX), min_size=n, max_size=n)), dtype=np.int64)
    frac = np.array(draw(st.lists(st.floats(0, 1), min_size=3 * n, max_size=3 * n))).reshape(n, 3)
    parts = np.sort((total[:, None] * frac).astype(np.int64), axis=1)
    start = pd.Timestamp("2024-01-01", tz="UTC")
    minutes = draw(st.lists(st.integers(0, 10**6), min_size=n, max_size=n, unique=True))
    return pd.DataFrame(
        {
            "journey": pd.array(
                draw(st.lists(st.sampled_from(["a", "b,c", 'q"uote', "é x"]), min_size=n, max_size=n)), dtype="str"
            ),
            "interval_start": (start + pd.to_timedelta(minutes, unit="min")).astype("datetime64[us, UTC]"),
            "total": total,
            "errors": parts[:, 0],
            "le_100": parts[:, 1],
            "le_250": parts[:, 2],
        }
    )


@settings(max_examples=40, deadline=None)
@given(df=valid_frame(), parquet=st.booleans())
def test_round_trip_counts_are_exact(tmp_path_factory: pytest.TempPathFactory, df: pd.DataFrame, parquet: bool) -> None:
    """Counts up to limits.max_count (10**15) come back exactly — no float on the way."""
    d = tmp_path_factory.mktemp("rt")
    if parquet:
        path = d / "t.parquet"
        df.to_parquet(path)
    else:
        path = d / "t.csv"
        df.assign(interval_start=df["interval_start"].map(iso)).to_csv(path, index=False)
    got = io.load_telemetry(path)
    pd.testing.assert_frame_equal(got.frame, tm.compact(tm.canonical(df)), check_exact=True)
    as_text = got.frame.assign(journey=got.frame["journey"].astype("str"))
    pd.testing.assert_frame_equal(as_text, tm.canonical(df), check_exact=True, check_dtype=False)
    assert got.entry.rows_accepted == len(df) and not got.entry.rejected


# ------------------------------------------------------------------------- the examples


def test_extra_comma_in_first_row_rejects_that_row_and_shifts_nothing(tmp_path: Path) -> None:
    p = write(
        tmp_path,
        ",".join(HEADER) + "\n"
        "a,2024-01-01T00:00:00Z,10,1,5,9,\n"  # one field too many
        "b,2024-01-01T00:01:00Z,20,2,15,19\n",
    )
    got = io.load_telemetry(p)
    assert got.frame["journey"].tolist() == ["b"] and got.frame["total"].tolist() == [20]
    assert dict(got.entry.rejected) == {"wrong number of fields": 1}
    assert got.rejects.loc[0, "row"] == 1 and got.rejects.loc[0, "line"] == "a,2024-01-01T00:00:00Z,10,1,5,9,"


@pytest.mark.parametrize(
    ("cell", "reason"),
    [
        ("1e20", "too large total"),
        ("9223372036854775808", "too large total"),
        ("18446744073709551616", "too large total"),
        (str(MAX + 1), "too large total"),
        ("1,5", "decimal comma in total"),
        ("0,132", "decimal comma in total"),
        ("2.5", "non-integer total"),
        ("-3", "negative total"),
        ("inf", "infinite total"),
        ("many", "non-numeric total"),
        ("NA", "missing total"),
    ],
)
def test_bad_counts_reject_their_row(tmp_path: Path, cell: str, reason: str) -> None:
    p = write(tmp_path, ",".join(HEADER) + f'\na,2024-01-01T00:00:00Z,"{cell}",0,0,0\na,2024-01-01T00:01:00Z,5,0,1,2\n')
    got = io.load_telemetry(p)
    assert dict(got.entry.rejected) == {reason: 1}
    assert got.frame["total"].tolist() == [5]


def test_counts_are_exact_integers_up_to_the_maximum(tmp_path: Path) -> None:
    big = MAX  # 10**15: exact as int64 and float64
    p = write(
        tmp_path,
        ",".join(HEADER) + f"\na,2024-01-01T00:00:00Z,{big},{big - 1},{big - 3},{big}\n"
        'a,2024-01-01T00:01:00Z,"1,234",0,1000,1234\n',
    )
    got = io.load_telemetry(p)
    assert got.frame["total"].tolist() == [big, 1234]  # a count cannot be 1.234: the comma groups thousands
    assert got.frame["errors"].tolist() == [big - 1, 0] and got.frame["le_100"].tolist() == [big - 3, 1000]


def test_parquet_counts_beyond_int64_and_floats(tmp_path: Path) -> None:
    df = pd.DataFrame(
        {
            "interval_start": pd.to_datetime(["2024-01-01 00:00", "2024-01-01 00:01", "2024-01-01 00:02"], utc=True),
            "total": np.array([2**63, 5, 7], dtype=np.uint64),
            "errors": [0.0, 2.5, 1e20],
            "le_100": [0, 1, 1],
        }
    )
    df.to_parquet(tmp_path / "t.parquet")
    with pytest.raises(InputError, match="no usable rows") as e:
        io.load_telemetry(tmp_path / "t.parquet")
    assert "too large total: 1" in str(e.value) and "non-integer errors: 1" in str(e.value)
    assert "too large errors: 1" in str(e.value)


def test_duplicate_rows_sum_exactly_and_never_overflow(tmp_path: Path) -> None:
    half = MAX // 2 + 1  # two of them exceed no row's maximum: the merged row holds their exact sum
    rows = "".join(f"a,2024-01-01T00:00:00Z,{half},0,0,{half}\n" for _ in range(2))
    got = io.load_telemetry(write(tmp_path, ",".join(HEADER) + "\n" + rows))
    assert got.frame["total"].tolist() == [2 * half] and got.entry.notes["duplicate_intervals_merged"] == 1
    # 5000 rows at the maximum add up beyond 2**62: refused before any sum can wrap around
    n = MAX_SUM // MAX + 1
    many = "".join(f"a,2024-01-01T00:00:00Z,{MAX},0,0,0\n" for _ in range(n))
    with pytest.raises(InputError, match=r"add up to .*at least 2\*\*62"):
        io.load_telemetry(write(tmp_path, ",".join(HEADER) + "\n" + many, "many.csv"))


@pytest.mark.parametrize(
    ("header", "named"),
    [
        ("journey,interval_start,total,errors,le_100,le_100.0", ["'le_100' (column 5)", "'le_100.0' (column 6)"]),
        ("journey,interval_start,total,errors,le_100,LE_100", ["'le_100' (column 5)", "'LE_100' (column 6)"]),
        ("journey,interval_start,total,errors,le_100,le_100", ["'le_100' (column 5)", "'le_100' (column 6)"]),
        ("journey,interval_start,total,Total,errors,le_100", ["'total' (column 3)", "'Total' (column 4)"]),
        ("journey,interval_start,total,total,errors,le_100", ["'total' (column 3)", "'total' (column 4)"]),
        ("journey,Journey,interval_start,total,errors,le_100", ["'journey' (column 1)", "'Journey' (column 2)"]),
    ],
)
def test_duplicate_columns_are_errors_naming_both(tmp_path: Path, header: str, named: list[str]) -> None:
    p = write(tmp_path, header + "\na,a,2024-01-01T00:00:00Z,1,0,1\n")
    with pytest.raises(InputError) as e:
        io.load_telemetry(p)
    assert all(n in str(e.value) for n in named), str(e.value)


def test_a_mapping_chooses_between_two_spellings(tmp_path: Path) -> None:
    p = write(tmp_path, "journey,interval_start,total,Total,errors,le_100\na,2024-01-01T00:00:00Z,3,9,0,3\n")
    got = io.load_telemetry(p, columns={"total": "total"})
    assert got.frame["total"].tolist() == [3]


@pytest.mark.parametrize("blank", ["", "NA", "none", "null", "-", "N/A"])
def test_blank_journey_is_unknown_and_noted(tmp_path: Path, blank: str) -> None:
    p = write(tmp_path, ",".join(HEADER) + f"\n{blank},2024-01-01T00:00:00Z,1,0,1,1\nb,2024-01-01T00:00:00Z,1,0,1,1\n")
    got = io.load_telemetry(p)
    assert sorted(got.frame["journey"]) == ["b", "unknown"]
    assert got.entry.notes["journey_missing"] == 1


def test_long_journey_rejects_its_row(tmp_path: Path) -> None:
    long = "x" * (DEFAULT_LIMITS.max_name_chars + 1)
    ok = "y" * DEFAULT_LIMITS.max_name_chars
    p = write(
        tmp_path, ",".join(HEADER) + f"\n{long},2024-01-01T00:00:00Z,1,0,1,1\n{ok},2024-01-01T00:00:00Z,1,0,1,1\n"
    )
    got = io.load_telemetry(p)
    assert got.frame["journey"].tolist() == [ok] and dict(got.entry.rejected) == {"too long journey": 1}


def test_too_many_journeys_is_an_error_naming_the_limit(tmp_path: Path) -> None:
    rows = "".join(f"j{i},2024-01-01T00:00:00Z,1,0,1,1\n" for i in range(30))
    p = write(tmp_path, ",".join(HEADER) + "\n" + rows)
    small = Limits(max_journeys=29)
    with pytest.raises(InputError, match="limits.max_journeys = 29") as e:
        io.load_telemetry(p, limits=small)
    assert "--limit max_journeys=N" in str(e.value) and "limits: {max_journeys: N}" in str(e.value)
    assert io.load_telemetry(p, limits=Limits(max_journeys=30)).frame["journey"].nunique() == 30


def test_a_span_too_long_for_its_interval_is_an_error(tmp_path: Path) -> None:
    p = write(
        tmp_path,
        ",".join(HEADER)
        + "\na,1991-01-01T00:00:00Z,1,0,1,1\na,1991-01-01T00:00:01Z,1,0,1,1\na,2098-01-01T00:00:00Z,1,0,1,1\n",
    )
    with pytest.raises(InputError, match="limits.max_intervals"):
        io.load_telemetry(p)


@pytest.mark.parametrize(
    ("stamp", "reason"),
    [
        ("12345678901234", "interval_start out of range"),  # 14 digits: milliseconds of the year 2361
        ("-1", "unparseable interval_start"),
        ("12:00", "unparseable interval_start"),  # no date: it would take the day the file is read
        ("9999-12-31T23:59:59Z", "interval_start out of range"),
        ("0", "interval_start out of range"),
        ("2024-02-30T00:00:00Z", "unparseable interval_start"),
    ],
)
def test_odd_stamps_reject_their_row(tmp_path: Path, stamp: str, reason: str) -> None:
    p = write(tmp_path, ",".join(HEADER) + f"\na,{stamp},1,0,1,1\na,2024-01-01T00:00:00Z,2,0,1,1\n")
    got = io.load_telemetry(p)
    assert dict(got.entry.rejected) == {reason: 1} and got.frame["total"].tolist() == [2]
