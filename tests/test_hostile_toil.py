"""Hostile toil logs (issue 12): minutes with decimal commas, dates without a year range, long
names, ragged rows; nothing but a SrekitError escapes, valid rows round-trip exactly."""

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

from srekit.inputs import loaders as io

HEADER = ["date", "task", "minutes", "category", "engineer", "automatable"]


def write(tmp: Path, text: str) -> Path:
    p = tmp / "toil.csv"
    p.write_text(text)
    return p


@st.composite
def valid_row(draw: st.DrawFn) -> list[str]:
    day = draw(stamps_strategy()).strftime("%Y-%m-%d")
    flag = draw(st.sampled_from(["yes", "no", "true", "0", ""]))
    return [day, draw(names), repr(draw(exact_floats())), draw(names), draw(names), flag]


def check_frame(got: io.Loaded) -> None:
    f = got.frame
    check_stamps(f["date"])
    assert f["minutes"].dtype == np.float64 and np.isfinite(f["minutes"]).all() and (f["minutes"] >= 0).all()
    check_names(f["task"], allow_missing=False)
    for c in ("category", "engineer"):
        check_names(f[c])
    assert str(f["automatable"].dtype) == "boolean"


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=mangled_csv(HEADER, valid_row()))
def test_mangled_csv_loads_or_refuses_cleanly(tmp_path_factory: pytest.TempPathFactory, data: object) -> None:
    p = write_bytes(tmp_path_factory.mktemp("toil"), "toil.csv", data.data)  # type: ignore[attr-defined]
    got = load_or_refuse(io.load_toil, p)
    if got is not None:
        check_ledger(got, data.rows)  # type: ignore[attr-defined]
        check_frame(got)


@settings(max_examples=30, deadline=None)
@given(lines=raw_lines)
def test_arbitrary_text_never_crashes(tmp_path_factory: pytest.TempPathFactory, lines: list[str]) -> None:
    p = write_bytes(tmp_path_factory.mktemp("raw"), "toil.csv", ("date,task,minutes\n" + "\n".join(lines)).encode())
    got = load_or_refuse(io.load_toil, p)
    if got is not None:
        check_ledger(got)
        check_frame(got)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(frame=typed_parquet(HEADER, valid_row()))
def test_typed_parquet_never_crashes(tmp_path_factory: pytest.TempPathFactory, frame: pd.DataFrame) -> None:
    """Parquet columns of any type (uint64 beyond int64, NaN, infinities, any year, durations,
    bytes, categories) load or are refused with a SrekitError."""
    p = write_parquet(tmp_path_factory.mktemp("pq"), frame)
    got = None if p is None else load_or_refuse(io.load_toil, p)
    if got is not None:
        check_ledger(got, len(frame))
        check_frame(got)


@settings(max_examples=30, deadline=None)
@given(rows=st.lists(valid_row(), min_size=1, max_size=15), tz=st.sampled_from(["UTC", "Europe/Berlin"]))
def test_round_trip(tmp_path_factory: pytest.TempPathFactory, rows: list[list[str]], tz: str) -> None:
    df = pd.DataFrame(rows, columns=HEADER)
    p = tmp_path_factory.mktemp("rt") / "toil.csv"
    df.to_csv(p, index=False)
    got = io.load_toil(p, tz=tz)
    assert not got.entry.rejected
    f = got.frame
    want_dates = pd.to_datetime(df["date"]).dt.tz_localize(tz).dt.tz_convert("UTC").astype("datetime64[us, UTC]")
    assert sorted(zip(f["date"], f["minutes"], f["task"], strict=True)) == sorted(
        zip(want_dates, df["minutes"].astype(float), df["task"], strict=True)
    )


@pytest.mark.parametrize(
    ("cell", "reason"),
    [
        ("1,5", "decimal comma in minutes"),
        ("0,25", "decimal comma in minutes"),
        ("1,234", "ambiguous comma in minutes"),
        ("inf", "infinite minutes"),
        ("-5", "negative minutes"),
        ("", "missing minutes"),
    ],
)
def test_minutes(tmp_path: Path, cell: str, reason: str) -> None:
    got = io.load_toil(
        write(tmp_path, f'date,task,minutes\n2024-05-01,restart,"{cell}"\n2024-05-02,restart,"1,234.5"\n')
    )
    assert dict(got.entry.rejected) == {reason: 1} and got.frame["minutes"].tolist() == [1234.5]


@pytest.mark.parametrize(
    ("day", "reason"),
    [
        ("12:00", "unparseable date"),
        ("05/01/2024", "unparseable date"),
        ("1970-01-01", "date out of range"),
        ("9999-01-01", "date out of range"),
    ],
)
def test_dates(tmp_path: Path, day: str, reason: str) -> None:
    got = io.load_toil(write(tmp_path, f"date,task,minutes\n{day},restart,5\n2024-05-02,restart,5\n"))
    assert dict(got.entry.rejected) == {reason: 1}


def test_ragged_row_and_long_task(tmp_path: Path) -> None:
    got = io.load_toil(
        write(
            tmp_path, f"date,task,minutes\n2024-05-01,restart,5,extra\n2024-05-02,{'t' * 129},5\n2024-05-03,restart,7\n"
        )
    )
    assert got.frame["minutes"].tolist() == [7.0]
    assert dict(got.entry.rejected) == {"wrong number of fields": 1, "too long task": 1}
