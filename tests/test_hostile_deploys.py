"""Hostile deploy logs (issue 12): ragged rows, odd stamps, long service names, BOMs and CRLF;
nothing but a SrekitError escapes, valid rows round-trip exactly."""

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

HEADER = ["timestamp", "result", "service"]


@st.composite
def valid_row(draw: st.DrawFn) -> list[str]:
    result = draw(st.sampled_from(["success", "rolled back", "failure", "ok"]))
    return [iso(draw(stamps_strategy())), result, draw(names)]


def check_frame(got: io.Loaded) -> None:
    f = got.frame
    check_stamps(f["timestamp"])
    assert set(f["result"]) <= {"success", "rollback", "failed"}
    check_names(f["service"])


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=mangled_csv(HEADER, valid_row()))
def test_mangled_csv_loads_or_refuses_cleanly(tmp_path_factory: pytest.TempPathFactory, data: object) -> None:
    p = write_bytes(tmp_path_factory.mktemp("dep"), "deploys.csv", data.data)  # type: ignore[attr-defined]
    got = load_or_refuse(io.load_deploys, p)
    if got is not None:
        check_ledger(got, data.rows)  # type: ignore[attr-defined]
        check_frame(got)


@settings(max_examples=30, deadline=None)
@given(lines=raw_lines)
def test_arbitrary_text_never_crashes(tmp_path_factory: pytest.TempPathFactory, lines: list[str]) -> None:
    p = write_bytes(tmp_path_factory.mktemp("raw"), "deploys.csv", ("timestamp,result\n" + "\n".join(lines)).encode())
    got = load_or_refuse(io.load_deploys, p)
    if got is not None:
        check_ledger(got)
        check_frame(got)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(frame=typed_parquet(HEADER, valid_row()))
def test_typed_parquet_never_crashes(tmp_path_factory: pytest.TempPathFactory, frame: pd.DataFrame) -> None:
    """Parquet columns of any type (uint64 beyond int64, NaN, infinities, any year, durations,
    bytes, categories) load or are refused with a SrekitError."""
    p = write_parquet(tmp_path_factory.mktemp("pq"), frame)
    got = None if p is None else load_or_refuse(io.load_deploys, p)
    if got is not None:
        check_ledger(got, len(frame))
        check_frame(got)


@settings(max_examples=30, deadline=None)
@given(rows=st.lists(valid_row(), min_size=1, max_size=15), crlf=st.booleans(), bom=st.booleans())
def test_round_trip(tmp_path_factory: pytest.TempPathFactory, rows: list[list[str]], crlf: bool, bom: bool) -> None:
    df = pd.DataFrame(rows, columns=HEADER)
    text = df.to_csv(index=False, lineterminator="\r\n" if crlf else "\n")
    p = tmp_path_factory.mktemp("rt") / "deploys.csv"
    p.write_bytes((b"\xef\xbb\xbf" if bom else b"") + text.encode())
    got = io.load_deploys(p)
    assert not got.entry.rejected
    want = sorted(zip(pd.to_datetime(df["timestamp"]), df["service"], strict=True))
    assert sorted(zip(got.frame["timestamp"], got.frame["service"], strict=True)) == want


def test_extra_comma_long_service_and_odd_stamps(tmp_path: Path) -> None:
    p = tmp_path / "deploys.csv"
    p.write_text(
        "timestamp,result,service\n"
        "2024-01-01T00:00:00Z,success,api,\n"
        f"2024-01-01T00:01:00Z,success,{'s' * 129}\n"
        "-1,success,api\n"
        "2024-01-01T00:03:00Z,rolled back,api\n"
    )
    got = io.load_deploys(p)
    assert got.frame["result"].tolist() == ["rollback"]
    assert dict(got.entry.rejected) == {
        "wrong number of fields": 1,
        "too long service": 1,
        "unparseable timestamp": 1,
    }


def test_every_row_ragged_is_no_usable_rows(tmp_path: Path) -> None:
    p = tmp_path / "deploys.csv"
    p.write_text("timestamp,result\n2024-01-01T00:00:00Z,success,x\n2024-01-01T00:01:00Z\n")
    with pytest.raises(InputError, match="no usable rows.*wrong number of fields: 2"):
        io.load_deploys(p)
