"""Hostile pages logs (issue 12): a 50 MB alert name, ragged rows, duplicate headers, odd
stamps; nothing but a SrekitError escapes, valid rows round-trip exactly."""

from __future__ import annotations

from pathlib import Path

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
from srekit.inputs import loaders as io

HEADER = ["timestamp", "alert", "severity", "actionable", "incident_id"]


def write(tmp: Path, text: str) -> Path:
    p = tmp / "pages.csv"
    p.write_text(text)
    return p


@st.composite
def valid_row(draw: st.DrawFn) -> list[str]:
    return [
        iso(draw(stamps_strategy())),
        draw(names),
        draw(st.sampled_from(["page", "ticket", "info"])),
        draw(st.sampled_from(["true", "no", ""])),
        draw(st.one_of(st.just(""), names)),
    ]


def check_frame(got: io.Loaded) -> None:
    f = got.frame
    check_stamps(f["timestamp"])
    check_names(f["alert"], allow_missing=False)
    check_names(f["severity"], allow_missing=False)
    check_names(f["incident_id"])
    assert (f["severity"] == f["severity"].str.lower()).all()


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=mangled_csv(HEADER, valid_row()))
def test_mangled_csv_loads_or_refuses_cleanly(tmp_path_factory: pytest.TempPathFactory, data: object) -> None:
    p = write_bytes(tmp_path_factory.mktemp("al"), "pages.csv", data.data)  # type: ignore[attr-defined]
    got = load_or_refuse(io.load_alerts, p)
    if got is not None:
        check_ledger(got, data.rows)  # type: ignore[attr-defined]
        check_frame(got)


@settings(max_examples=30, deadline=None)
@given(lines=raw_lines)
def test_arbitrary_text_never_crashes(tmp_path_factory: pytest.TempPathFactory, lines: list[str]) -> None:
    p = write_bytes(
        tmp_path_factory.mktemp("raw"), "pages.csv", ("timestamp,alert,severity\n" + "\n".join(lines)).encode()
    )
    got = load_or_refuse(io.load_alerts, p)
    if got is not None:
        check_ledger(got)
        check_frame(got)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(frame=typed_parquet(HEADER, valid_row()))
def test_typed_parquet_never_crashes(tmp_path_factory: pytest.TempPathFactory, frame: pd.DataFrame) -> None:
    """Parquet columns of any type (uint64 beyond int64, NaN, infinities, any year, durations,
    bytes, categories) load or are refused with a SrekitError."""
    p = write_parquet(tmp_path_factory.mktemp("pq"), frame)
    got = None if p is None else load_or_refuse(io.load_alerts, p)
    if got is not None:
        check_ledger(got, len(frame))
        check_frame(got)


@settings(max_examples=30, deadline=None)
@given(rows=st.lists(valid_row(), min_size=1, max_size=15), parquet=st.booleans())
def test_round_trip(tmp_path_factory: pytest.TempPathFactory, rows: list[list[str]], parquet: bool) -> None:
    df = pd.DataFrame(rows, columns=HEADER)
    d = tmp_path_factory.mktemp("rt")
    p = d / ("pages.parquet" if parquet else "pages.csv")
    df.to_parquet(p) if parquet else df.to_csv(p, index=False)
    got = io.load_alerts(p)
    assert not got.entry.rejected
    want = sorted(zip(pd.to_datetime(df["timestamp"]), df["alert"], strict=True))
    assert sorted(zip(got.frame["timestamp"], got.frame["alert"], strict=True)) == want


def test_a_50_mb_alert_name_rejects_its_row(tmp_path: Path) -> None:
    """It made a 250 MB report.json: names are bounded by limits.max_name_chars."""
    p = write(
        tmp_path,
        "timestamp,alert,severity\n2024-01-01T00:00:00Z,"
        + "A" * 50_000_000
        + ",page\n2024-01-01T00:01:00Z,Real,page\n",
    )
    got = io.load_alerts(p)
    assert got.frame["alert"].tolist() == ["Real"] and dict(got.entry.rejected) == {"too long alert": 1}


def test_a_row_beyond_the_reader_block_is_a_clear_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Rows longer than the reader's block (64 MiB; 1 MiB here to keep the test small) stop the
    file with a clear error instead of exhausting memory."""
    monkeypatch.setattr(io, "CSV_BLOCK_BYTES", 1 << 20)
    p = write(tmp_path, 'timestamp,alert,severity\n2024-01-01T00:00:00Z,"' + "A" * (3 << 20) + '",page\n')
    with pytest.raises(InputError, match=r"too long to read \(rows may be up to 1 MiB\)"):
        io.load_alerts(p)


def test_extra_comma_and_odd_stamps(tmp_path: Path) -> None:
    p = write(
        tmp_path,
        "timestamp,alert,severity\n2024-01-01T00:00:00Z,A,page,\n12:00,B,page\n12345678901234,C,page\n2024-01-01T00:01:00Z,D,page\n",
    )
    got = io.load_alerts(p)
    assert got.frame["alert"].tolist() == ["D"]
    assert dict(got.entry.rejected) == {
        "wrong number of fields": 1,
        "unparseable timestamp": 1,
        "timestamp out of range": 1,
    }


def test_duplicate_header(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="2 columns match 'alert'"):
        io.load_alerts(write(tmp_path, "timestamp,alert,Alert,severity\n2024-01-01T00:00:00Z,a,b,page\n"))
