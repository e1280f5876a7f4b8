"""Hostile series files (issue 12): decimal commas, odd stamps, ragged rows, blank journeys; no
input raises anything but a SrekitError, and valid values round-trip exactly."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hostile_inputs import (
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

from srekit.core.errors import InputError
from srekit.core.limits import Limits
from srekit.inputs import loaders as io
from srekit.inputs.timeparse import parse_utc

HEADER = ["timestamp", "value", "journey"]


def write(tmp: Path, text: str, name: str = "s.csv") -> Path:
    p = tmp / name
    p.write_text(text)
    return p


@st.composite
def valid_row(draw: st.DrawFn) -> list[str]:
    return [iso(draw(stamps_strategy())), repr(draw(exact_floats())), draw(names)]


def check_frame(got: io.Loaded) -> None:
    f = got.frame
    assert list(f.columns) == ["timestamp", "value", "journey"] and f["value"].dtype == np.float64
    assert np.isfinite(f["value"]).all() and (f["value"] >= 0).all()
    check_stamps(f["timestamp"])
    check_names(f["journey"], allow_missing=False)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=mangled_csv(HEADER, valid_row()))
def test_mangled_csv_loads_or_refuses_cleanly(tmp_path_factory: pytest.TempPathFactory, data: object) -> None:
    p = write_bytes(tmp_path_factory.mktemp("ser"), "s.csv", data.data)  # type: ignore[attr-defined]
    got = load_or_refuse(io.load_series, p)
    if got is not None:
        check_ledger(got, data.rows)  # type: ignore[attr-defined]
        check_frame(got)


@settings(max_examples=40, deadline=None)
@given(lines=raw_lines, tz=st.sampled_from(["UTC", "Europe/Berlin", "America/New_York"]))
def test_arbitrary_text_never_crashes(tmp_path_factory: pytest.TempPathFactory, lines: list[str], tz: str) -> None:
    p = write_bytes(tmp_path_factory.mktemp("raw"), "s.csv", ("timestamp,value\n" + "\n".join(lines)).encode())
    got = load_or_refuse(lambda path: io.load_series(path, tz=tz), p)
    if got is not None:
        check_ledger(got)
        check_frame(got)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(frame=typed_parquet(HEADER, valid_row()))
def test_typed_parquet_never_crashes(tmp_path_factory: pytest.TempPathFactory, frame: pd.DataFrame) -> None:
    """Parquet columns of any type (uint64 beyond int64, NaN, infinities, any year, durations,
    bytes, categories) load or are refused with a SrekitError."""
    p = write_parquet(tmp_path_factory.mktemp("pq"), frame)
    got = None if p is None else load_or_refuse(io.load_series, p)
    if got is not None:
        check_ledger(got, len(frame))
        check_frame(got)


@settings(max_examples=40, deadline=None)
@given(
    rows=st.lists(st.tuples(stamps_strategy(), exact_floats(), names), min_size=1, max_size=20),
    parquet=st.booleans(),
)
def test_round_trip_values_are_exact(
    tmp_path_factory: pytest.TempPathFactory, rows: list[tuple[pd.Timestamp, float, str]], parquet: bool
) -> None:
    """Any finite value written with repr() (or as a Parquet double) and any stamp to the
    microsecond load back unchanged."""
    df = pd.DataFrame(rows, columns=["timestamp", "value", "journey"])
    df["timestamp"] = df["timestamp"].astype("datetime64[us, UTC]")
    df["journey"] = df["journey"].astype("str")
    d = tmp_path_factory.mktemp("rt")
    if parquet:
        path = d / "s.parquet"
        df.to_parquet(path)
    else:
        path = d / "s.csv"
        df.assign(timestamp=df["timestamp"].map(iso), value=df["value"].map(repr)).to_csv(path, index=False)
    got = io.load_series(path)
    want = df.sort_values(["journey", "timestamp"], kind="stable").reset_index(drop=True)
    pd.testing.assert_frame_equal(got.frame, want, check_exact=True)


# ------------------------------------------------------------------------- the examples


@pytest.mark.parametrize(
    ("cell", "reason"),
    [
        ("0,132", "decimal comma in value"),  # was read as 132
        ("1,5", "decimal comma in value"),  # was read as 15
        ("1.234,5", "decimal comma in value"),
        ("1,234", "ambiguous comma in value"),  # 1234 or 1.234: a decimal column cannot tell
        ("inf", "infinite value"),
        ("-0.5", "negative value"),
        ("n/a", "missing value"),
        ("fast", "non-numeric value"),
    ],
)
def test_numbers_with_commas_are_rejected_not_misread(tmp_path: Path, cell: str, reason: str) -> None:
    p = write(tmp_path, f'timestamp,value\n2024-01-01T00:00:00Z,"{cell}"\n2024-01-01T00:05:00Z,0.25\n')
    got = io.load_series(p)
    assert dict(got.entry.rejected) == {reason: 1} and got.frame["value"].tolist() == [0.25]
    assert got.rejects["value"].tolist() == [cell]


def test_unambiguous_thousands_separators_are_read(tmp_path: Path) -> None:
    p = write(tmp_path, 'timestamp,value\n2024-01-01T00:00:00Z,"1,234,567"\n2024-01-01T00:05:00Z,"1,234.5"\n')
    assert io.load_series(p).frame["value"].tolist() == [1234567.0, 1234.5]


@pytest.mark.parametrize(
    ("stamp", "reason", "want"),
    [
        ("1704067200", None, "2024-01-01T00:00:00Z"),  # epoch seconds (10 digits)
        ("1704067200123", None, "2024-01-01T00:00:00.123Z"),  # milliseconds (13 digits)
        ("1704067200123456", None, "2024-01-01T00:00:00.123456Z"),  # microseconds (16)
        ("1704067200123456789", None, "2024-01-01T00:00:00.123456Z"),  # nanoseconds (19), cut to µs
        ("2024-01-01", None, "2024-01-01T00:00:00Z"),
        ("2024-01-01T10", None, "2024-01-01T10:00:00Z"),
        ("2024-01-01 10:00:00 UTC", None, "2024-01-01T10:00:00Z"),
        ("2024-01-01t10:00:00z", None, "2024-01-01T10:00:00Z"),
        ("2024-01-01T10:00:00+0200", None, "2024-01-01T08:00:00Z"),
        ("12345678901234", "timestamp out of range", None),  # 14 digits: ms of the year 2361
        ("99999999999999999999", "timestamp out of range", None),
        ("-1", "unparseable timestamp", None),  # was year -1
        ("12:00", "unparseable timestamp", None),  # was today at noon: results depended on the clock
        ("9999-12-31T23:59:59Z", "timestamp out of range", None),  # was a traceback
        ("0", "timestamp out of range", None),  # epoch 0: a default, not a date
        ("1989-12-31T23:59:59Z", "timestamp out of range", None),
        ("2100-01-01T00:00:00Z", "timestamp out of range", None),
        ("01/02/2024", "unparseable timestamp", None),  # January 2 or February 1?
        ("2024-1-5", "unparseable timestamp", None),
        ("2024-02-30", "unparseable timestamp", None),
        ("1.7e9", "unparseable timestamp", None),
    ],
)
def test_timestamp_forms_and_range(tmp_path: Path, stamp: str, reason: str | None, want: str | None) -> None:
    p = write(tmp_path, f"timestamp,value\n{stamp},1\n2024-06-01T00:00:00Z,2\n")
    got = io.load_series(p)
    if reason is None:
        assert not got.entry.rejected
        assert got.frame["timestamp"].iloc[0] == pd.Timestamp(want)
    else:
        assert dict(got.entry.rejected) == {reason: 1}


def test_year_range_is_a_limit(tmp_path: Path) -> None:
    p = write(tmp_path, "timestamp,value\n1985-06-01T00:00:00Z,1\n2024-06-01T00:00:00Z,2\n")
    assert io.load_series(p).entry.rejected == {"timestamp out of range": 1}
    assert not io.load_series(p, limits=Limits(min_year=1980)).entry.rejected


def test_stamps_do_not_depend_on_the_clock() -> None:
    """A bare time of day used to take the date of the run; no accepted form reads the clock."""
    got = parse_utc(pd.Series(["12:00", "noon", "today", "now"], dtype="str"))
    assert got.unparseable.all()


@pytest.mark.parametrize("blank", ["", "NA", "none", "null"])
def test_blank_journey_is_unknown_and_noted(tmp_path: Path, blank: str) -> None:
    p = write(tmp_path, f"timestamp,value,journey\n2024-01-01T00:00:00Z,1,{blank}\n2024-01-01T00:00:00Z,2,b\n")
    got = io.load_series(p)
    assert sorted(got.frame["journey"]) == ["b", "unknown"] and got.entry.notes["journey_missing"] == 1


def test_without_journey_column_everything_is_all(tmp_path: Path) -> None:
    got = io.load_series(write(tmp_path, "timestamp,value\n2024-01-01T00:00:00Z,1\n"))
    assert got.frame["journey"].tolist() == ["all"] and "journey_missing" not in got.entry.notes


def test_extra_comma_in_first_row(tmp_path: Path) -> None:
    p = write(tmp_path, "timestamp,value,journey\n2024-01-01T00:00:00Z,1,a,\n2024-01-01T00:05:00Z,2,b\n")
    got = io.load_series(p)
    assert got.frame[["value", "journey"]].values.tolist() == [[2.0, "b"]]
    assert dict(got.entry.rejected) == {"wrong number of fields": 1}


def test_too_many_journeys(tmp_path: Path) -> None:
    rows = "".join(f"2024-01-01T00:00:00Z,1,j{i}\n" for i in range(5))
    with pytest.raises(InputError, match="limits.max_journeys = 4"):
        io.load_series(write(tmp_path, "timestamp,value,journey\n" + rows), limits=Limits(max_journeys=4))
