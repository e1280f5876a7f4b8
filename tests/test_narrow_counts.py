"""Bucket counts held narrow (issue 13): the loaded ``le_`` columns are uint8/16/32 when the
counts fit (srekit.inputs.telemetry.narrow_buckets), and every reader gives the numbers the
int64 frame gives — no difference or sum wraps, even at the top of the dtype."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from srekit.analysis.incidents.counts import SliCounts
from srekit.analysis.overview import golden_signals, traffic_mix
from srekit.analysis.slo.grid import journey_grid, journey_grids
from srekit.core.errors import InputError
from srekit.core.spec import SLOSpec
from srekit.inputs import loaders
from srekit.inputs import telemetry as tm

EDGES = (10.0, 100.0, 1000.0)


@st.composite
def telemetry(draw: st.DrawFn) -> pd.DataFrame:
    """Valid telemetry with counts up to the top of a narrow dtype, rows in any order, with
    repeated intervals (summed by the grids: a sum may not fit the narrow dtype)."""
    top = draw(st.sampled_from([3, 255, 65_535, 2**32 - 1]))
    n = draw(st.integers(1, 40))
    rng = np.random.default_rng(draw(st.integers(0, 2**31 - 1)))
    total = rng.integers(0, top, n, endpoint=True)
    total[rng.random(n) < 0.3] = top  # often at the very top
    les = np.sort((total[:, None] * rng.random((n, len(EDGES)))).astype(np.int64), axis=1)
    les[:, -1] = np.where(rng.random(n) < 0.5, total, les[:, -1])
    minute = rng.integers(0, 30, n)  # repeats: rows sharing an interval
    frame = pd.DataFrame(
        {
            "journey": pd.array(rng.choice(["a", "b", "c"], n), dtype="str"),
            "interval_start": pd.Timestamp("2026-01-01", tz="UTC") + pd.to_timedelta(minute, unit="min"),
            "total": total,
            "errors": (total * rng.random(n)).astype(np.int64),
            **{tm.edge_label(e): les[:, k] for k, e in enumerate(EDGES)},
        }
    )
    return frame if draw(st.booleans()) else tm.canonical(frame)


def _grid_numbers(frame: pd.DataFrame) -> dict[str, object]:
    out: dict[str, object] = {}
    for name, g in journey_grids(frame).items():
        for edge in EDGES:
            ev = g.events("latency", edge)
            assert ev["bad"].dtype == np.int64 and (ev["bad"] >= 0).all()
            out[f"{name} latency {edge}"] = ev
        out[f"{name} availability"] = g.events("availability")
        b = g.blocks("h")
        out[f"{name} blocks"] = (b.total, b.errors, b.le)
        one = journey_grid(frame, name, "latency", EDGES[0])
        assert one is not None
        out[f"{name} one"] = one.events("latency", EDGES[0])
    return out


@settings(max_examples=60, deadline=None)
@given(telemetry())
def test_narrow_buckets_read_as_int64(frame: pd.DataFrame) -> None:
    narrow = tm.narrow_buckets(frame)
    top = int(frame[tm.le_columns(frame)].to_numpy().max())
    assert {narrow[c].dtype for c in tm.le_columns(narrow)} == {tm.bucket_dtype(top)}
    assert list(narrow.columns) == list(frame.columns) and narrow["total"].dtype == np.int64
    pd.testing.assert_frame_equal(narrow, frame, check_dtype=False)
    tm.check(narrow)
    wide, got = _grid_numbers(frame), _grid_numbers(narrow)
    assert wide.keys() == got.keys()
    for key, value in wide.items():
        if isinstance(value, pd.DataFrame):
            pd.testing.assert_frame_equal(got[key], value, check_exact=True)  # type: ignore[arg-type]
        else:
            for a, b in zip(value, got[key], strict=True):  # type: ignore[call-overload]
                np.testing.assert_array_equal(a, b)
    pd.testing.assert_frame_equal(traffic_mix(narrow), traffic_mix(frame), check_exact=True)
    pd.testing.assert_frame_equal(golden_signals(narrow, freq="h"), golden_signals(frame, freq="h"), check_exact=True)


def test_bucket_dtype_boundaries() -> None:
    assert tm.bucket_dtype(0) == np.uint8 and tm.bucket_dtype(255) == np.uint8
    assert tm.bucket_dtype(256) == np.uint16 and tm.bucket_dtype(65_535) == np.uint16
    assert tm.bucket_dtype(65_536) == np.uint32 and tm.bucket_dtype(2**32 - 1) == np.uint32
    assert tm.bucket_dtype(2**32) == np.int64 and tm.bucket_dtype(-1) == np.int64


def test_differences_at_the_top_do_not_wrap() -> None:
    """total − le where le is 0 and total is the dtype's maximum, and a repeated interval whose
    sum passes it: the exact int64 numbers."""
    top = 65_535
    frame = pd.DataFrame(
        {
            "journey": pd.array(["a", "a", "a"], dtype="str"),
            "interval_start": pd.to_datetime(["2026-01-01 00:00", "2026-01-01 00:00", "2026-01-01 00:01"], utc=True),
            "total": [top, top, 5],
            "errors": [top, 0, 5],
            "le_10": [0, top, 0],
            "le_100": [top, top, 5],
        }
    ).astype({"interval_start": "datetime64[us, UTC]"})
    narrow = tm.narrow_buckets(frame)
    assert narrow["le_10"].dtype == np.uint16
    ev = journey_grids(narrow)["a"].events("latency", 10.0)
    assert ev["bad"].tolist() == [top, 5] and ev["total"].tolist() == [2 * top, 5]
    counts = SliCounts(narrow)
    spec = SLOSpec(name="a-latency", journey="a", sli="latency", target=0.99, threshold_ms=10.0)
    assert counts(spec)["bad"].tolist() == [top, 5]
    mix = traffic_mix(narrow)
    assert mix["requests"].tolist() == [2 * top + 5]


def test_extended_grid_keeps_the_narrow_dtype() -> None:
    frame = tm.narrow_buckets(
        pd.DataFrame(
            {
                "journey": pd.array(["a"], dtype="str"),
                "interval_start": pd.to_datetime(["2026-01-01"], utc=True).astype("datetime64[us, UTC]"),
                "total": [3],
                "errors": [1],
                "le_10": [2],
            }
        )
    )
    g = journey_grids(frame)["a"].extended(pd.Timestamp("2026-01-01 00:05", tz="UTC"))
    assert g.le.dtype == np.uint8 and g.le[:, 0].tolist() == [2, 0, 0, 0, 0, 0]


def test_check_refuses_decreasing_narrow_buckets() -> None:
    frame = pd.DataFrame(
        {
            "journey": pd.array(["a"], dtype="str"),
            "interval_start": pd.to_datetime(["2026-01-01"], utc=True),
            "total": [9],
            "errors": [0],
            "le_10": np.array([5], dtype=np.uint8),
            "le_100": np.array([4], dtype=np.uint8),  # np.diff would wrap to 255, not -1
        }
    )
    with pytest.raises(InputError, match="decrease"):
        tm.check(frame)


def test_journeys_read_once_per_distinct_cell(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A journey column of few distinct cells is read once per cell: the same frame and ledger as
    cell by cell (stripped names, missing tokens as ``unknown``, too long names rejected)."""
    cells = [" a ", "NA", "", "b", "x" * 300, "a"] * 20
    lines = [f"{c},2026-01-01T00:{i % 60:02d}:00Z,5,1,3,5" for i, c in enumerate(cells)]
    path = tmp_path / "t.csv"
    path.write_text("journey,interval_start,total,errors,le_100,le_250\n" + "\n".join(lines) + "\n")
    once = loaders.load_telemetry(path)
    assert once.entry.rejected == {"too long journey": 20}
    assert set(once.frame["journey"]) == {"a", "b", "unknown"}
    monkeypatch.setattr(loaders, "_distinct_first", lambda *a, **k: None)
    cell_by_cell = loaders.load_telemetry(path)
    pd.testing.assert_frame_equal(once.frame, cell_by_cell.frame, check_exact=True)
    assert once.entry == cell_by_cell.entry
