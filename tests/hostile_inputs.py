"""Hostile input for the loaders: Hypothesis strategies that build CSV text from random rows with
injected garbage (extra commas, missing fields, quotes, huge numbers, decimal commas, odd stamps,
duplicate and blank headers, BOMs, CRLF), and the checks every load must pass.

Used by the ``tests/test_hostile_<kind>.py`` modules (one per input kind)."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
from hypothesis import strategies as st

from srekit.core.errors import SrekitError
from srekit.core.limits import DEFAULT_LIMITS
from srekit.inputs.ledger import Loaded

LO = pd.Timestamp(f"{DEFAULT_LIMITS.min_year}-01-01", tz="UTC")
HI = pd.Timestamp(f"{DEFAULT_LIMITS.max_year + 1}-01-01", tz="UTC")

#: Cells that break naive readers: missing tokens, huge and non-finite numbers, decimal commas,
#: stamps without a date or out of range, quotes, long names, unicode, blanks.
NASTY = (
    "",
    " ",
    "NA",
    "none",
    "None",
    "null",
    "-",
    "nan",
    "NaT",
    "inf",
    "-inf",
    "1e20",
    "1e400",
    "-1",
    "0",
    "-0",
    "9223372036854775807",
    "9223372036854775808",
    "18446744073709551616",
    "5000000000000000000",
    "1,5",
    "0,132",
    "1,234",
    "1.234,5",
    "12,345,678",
    "0x10",
    "1_000",
    "+7",
    ".5",
    "5.",
    "1e-3",
    "12:00",
    "12345678901234",
    "99999999999999999999",
    "9999-12-31T23:59:59Z",
    "0001-01-01",
    "1969-12-31T23:59:59Z",
    "2024-02-30",
    "2024-01-01T25:00",
    "2024-13-01",
    "2024-01-01T10:00:00+25:00",
    "2024-1-1",
    "01/02/2024",
    "yesterday",
    "2024-03-10 02:30",
    "2024-11-03 01:30",
    "2024-01-01T00:00:00.123456789Z",
    'quo"te',
    '"',
    "a,b",
    "x" * 300,
    "é",
    "😀",
    "\u200b",
    "TRUE",
    "sev 2",
    "P1",
)

one_line = st.characters(exclude_characters="\r\n\x00", exclude_categories=("Cs",))
cell_text = st.text(alphabet=one_line, max_size=12)
#: Free text on one line (csv.writer quotes commas and quotes, but a bare CR would end the row).
free_text = st.text(alphabet=one_line, max_size=30)
cell = st.one_of(st.sampled_from(NASTY), cell_text)


def csv_text(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """Properly quoted CSV (every row keeps its own field count)."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(header)
    for r in rows:
        w.writerow(r)
    return buf.getvalue()


@dataclass(frozen=True)
class Mangled:
    """A CSV file as bytes and how many data rows it holds."""

    data: bytes
    rows: int


@st.composite
def mangled_csv(
    draw: st.DrawFn, header: Sequence[str], valid_row: st.SearchStrategy[list[str]], *, max_rows: int = 12
) -> Mangled:
    """A CSV of valid rows with garbage injected: cells replaced by nasty values, fields added
    (the extra comma) or removed, headers repeated or blanked, a BOM, CRLF line ends."""
    rows = draw(st.lists(valid_row, min_size=1, max_size=max_rows))
    rows = [list(r) for r in rows]
    for r in rows:
        for i in range(len(r)):
            if draw(st.integers(0, 5)) == 0:
                r[i] = draw(cell)
        shape = draw(st.integers(0, 9))
        if shape == 0:
            r.append(draw(cell))  # the extra comma
        elif shape == 1 and r:
            r.pop()
    head = list(header)
    if draw(st.integers(0, 6)) == 0:
        head.append(head[draw(st.integers(0, len(head) - 1))])  # a repeated header
        for r in rows:
            r.append(draw(cell))
    if draw(st.integers(0, 6)) == 0:
        head[draw(st.integers(0, len(head) - 1))] = draw(st.sampled_from(["", " ", head[0].upper(), "le_100.0"]))
    text = csv_text(head, rows)
    if draw(st.booleans()):
        text = text.replace("\n", "\r\n")
    data = text.encode("utf-8")
    if draw(st.booleans()):
        data = b"\xef\xbb\xbf" + data
    return Mangled(data, len(rows))


raw_lines = st.lists(
    st.text(alphabet=st.characters(exclude_characters="\x00", exclude_categories=("Cs",)), max_size=40),
    min_size=1,
    max_size=8,
)


def load_or_refuse(load: Callable[[Path], Loaded], path: Path) -> Loaded | None:
    """Run a loader: it returns a Loaded, or raises a SrekitError — anything else fails the test."""
    try:
        return load(path)
    except SrekitError as exc:
        assert str(exc), "an error must say what went wrong"
        return None


def check_ledger(got: Loaded, rows_written: int | None = None) -> None:
    """The ledger adds up, and matches the file when the number of data rows is known."""
    e = got.entry
    assert e.rows_read == e.rows_accepted + e.rows_rejected
    assert len(got.rejects) == e.rows_rejected
    assert sorted(set(got.rejects["reason"])) == sorted(e.rejected) if len(got.rejects) else not e.rejected
    if rows_written is not None:
        assert e.rows_read == rows_written
        assert got.rejects["row"].between(1, rows_written).all()


def check_stamps(values: pd.Series, *, allow_missing: bool = False) -> None:
    """UTC microsecond stamps inside the accepted year range."""
    assert str(values.dtype) == "datetime64[us, UTC]"
    present = values.dropna()
    if not allow_missing:
        assert len(present) == len(values)
    assert ((present >= LO) & (present < HI)).all()


def check_names(values: pd.Series, *, allow_missing: bool = True) -> None:
    present = values.dropna()
    if not allow_missing:
        assert len(present) == len(values)
    assert (present.str.len() <= DEFAULT_LIMITS.max_name_chars).all()
    assert (present.str.strip() == present).all()


def write_bytes(tmp: Path, name: str, data: bytes) -> Path:
    p = tmp / name
    p.write_bytes(data)
    return p


def stamps_strategy(last: str = "2099-12-30") -> st.SearchStrategy[pd.Timestamp]:
    """Valid stamps (whole microseconds, within range, away from the edges)."""
    lo, hi = pd.Timestamp("1990-01-02", tz="UTC"), pd.Timestamp(last, tz="UTC")
    span_us = int((hi - lo) / pd.Timedelta(microseconds=1))
    return st.integers(0, span_us).map(lambda us: lo + pd.Timedelta(microseconds=us))


def iso(ts: pd.Timestamp) -> str:
    return ts.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


names = (
    st.text(alphabet="abcdefghijklmnopqrstuvwxyzABCXYZ0123456789 -_.é", min_size=1, max_size=20)
    .map(str.strip)
    .filter(lambda s: bool(s) and s.lower() not in {"na", "n/a", "nan", "nat", "null", "none", "-"})
)


def frame_equal(a: pd.DataFrame, b: pd.DataFrame) -> None:
    pd.testing.assert_frame_equal(a.reset_index(drop=True), b.reset_index(drop=True), check_exact=True)


def exact_floats() -> st.SearchStrategy[float]:
    """Non-negative finite floats (as a report or exporter would write them)."""
    return st.floats(min_value=0, max_value=1e12, allow_nan=False, allow_infinity=False)


def as_int64(values: Any) -> np.ndarray:
    return np.asarray(values, dtype=np.int64)


@st.composite
def typed_column(draw: st.DrawFn, n: int) -> pd.Series:
    """A column of a random Parquet type holding hostile values: huge and negative integers,
    uint64 beyond int64, NaN and infinities, booleans, nasty text, datetimes of any year (naive,
    UTC, a local zone), durations, bytes, nullable integers, categories."""
    kind = draw(st.integers(0, 10))
    ints = st.integers(-(2**63), 2**63 - 1)
    if kind == 0:
        return pd.Series(draw(st.lists(ints, min_size=n, max_size=n)), dtype="int64")
    if kind == 1:
        return pd.Series(draw(st.lists(st.integers(0, 2**64 - 1), min_size=n, max_size=n)), dtype="uint64")
    if kind == 2:
        return pd.Series(draw(st.lists(st.floats(allow_nan=True, allow_infinity=True), min_size=n, max_size=n)))
    if kind == 3:
        return pd.Series(draw(st.lists(st.booleans(), min_size=n, max_size=n)), dtype=bool)
    if kind == 4:
        return pd.Series(draw(st.lists(st.one_of(st.none(), cell), min_size=n, max_size=n)), dtype="str")
    if kind in (5, 6, 7):
        us = draw(st.lists(st.integers(-(2**62), 2**62), min_size=n, max_size=n))
        stamps = pd.Series(np.asarray(us, dtype="datetime64[us]"))
        if kind == 6:
            return stamps.dt.tz_localize("UTC")
        if kind == 7:
            near = pd.Series(pd.to_datetime(np.asarray(us, dtype=np.int64) % (4 * 10**15), unit="us"))
            return near.dt.tz_localize("Europe/Berlin", ambiguous="NaT", nonexistent="NaT")
        return stamps
    if kind == 8:
        return pd.Series(
            pd.to_timedelta(draw(st.lists(st.integers(-(10**15), 10**15), min_size=n, max_size=n)), unit="us")
        )
    if kind == 9:
        return pd.Series(
            draw(st.lists(st.one_of(st.none(), st.integers(-(2**63), 2**63 - 1)), min_size=n, max_size=n)),
            dtype="Int64",
        )
    return pd.Series(draw(st.lists(st.sampled_from(NASTY[:20]), min_size=n, max_size=n)), dtype="category")


@st.composite
def typed_parquet(draw: st.DrawFn, columns: Sequence[str], valid_row: st.SearchStrategy[list[str]]) -> pd.DataFrame:
    """Valid rows (as text) with about a third of the columns replaced by a column of a random
    type (see :func:`typed_column`)."""
    rows = draw(st.lists(valid_row, min_size=1, max_size=8))
    frame = pd.DataFrame([r[: len(columns)] for r in rows], columns=list(columns), dtype="str")
    for c in columns:
        if draw(st.integers(0, 2)) == 0:
            frame[c] = draw(typed_column(len(frame))).to_numpy()
    return frame


def write_parquet(tmp: Path, frame: pd.DataFrame) -> Path | None:
    """The frame as Parquet, or None when pyarrow refuses to store it (nothing to read then)."""
    p = tmp / "typed.parquet"
    try:
        frame.to_parquet(p)
    except (pa.ArrowException, ValueError, TypeError, OverflowError):
        return None
    return p
