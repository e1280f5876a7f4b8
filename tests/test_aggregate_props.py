"""Property tests of the reduction: mergeable (parts + merge = whole), cumulative buckets,
errors ≤ total, and the file path equal to the in-memory path."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from srekit.core.errors import InputError
from srekit.inputs import aggregate as ag
from srekit.inputs import telemetry as tm

EDGES = (1.0, 2.5, 10.0, 100.0, 1000.0)
T0 = pd.Timestamp("2026-05-01T00:00:00Z")

row = st.tuples(
    st.integers(min_value=0, max_value=4 * 3600 * 10**6),  # µs after T0
    st.one_of(st.sampled_from([0.0, *EDGES, 5000.0]), st.floats(min_value=0, max_value=2000, allow_nan=False)),
    st.booleans(),
    st.sampled_from(["a", "b", "c", "B", "é", "a b"]),
)


def frame(rows: list[tuple[int, float, bool, str]]) -> pd.DataFrame:
    us, lat, err, j = zip(*rows, strict=True) if rows else ((), (), (), ())
    return pd.DataFrame(
        {
            "timestamp": (T0 + pd.to_timedelta(np.asarray(us, dtype=np.int64), unit="us")).astype(
                "datetime64[us, UTC]"
            ),
            "latency_ms": np.asarray(lat, dtype=float),
            "error": np.asarray(err, dtype=bool),
            "journey": pd.array(list(j), dtype="str"),
        }
    )


@settings(max_examples=40, deadline=None)
@given(
    rows=st.lists(row, min_size=1, max_size=200),
    cut=st.integers(min_value=0, max_value=200),
    minutes=st.sampled_from([1, 5, 60]),
)
def test_parts_merged_equal_whole(rows: list[tuple[int, float, bool, str]], cut: int, minutes: int) -> None:
    interval = pd.Timedelta(minutes=minutes)
    whole = ag.aggregate_frame(frame(rows), interval=interval, edges=EDGES)
    k = min(cut, len(rows))
    parts = [
        ag.aggregate_frame(frame(rows[:k]), interval=interval, edges=EDGES),
        ag.aggregate_frame(frame(rows[k:]), interval=interval, edges=EDGES),
    ]
    pd.testing.assert_frame_equal(tm.merge(parts), whole)


@settings(max_examples=40, deadline=None)
@given(rows=st.lists(row, min_size=1, max_size=300))
def test_buckets_cumulative_and_bounded(rows: list[tuple[int, float, bool, str]]) -> None:
    out = ag.aggregate_frame(frame(rows), edges=EDGES)
    tm.check(out)
    pd.testing.assert_frame_equal(out, tm.canonical(out))  # canonical order and dtypes
    b = out[tm.le_columns(out)].to_numpy()
    assert (np.diff(b, axis=1) >= 0).all()
    assert (b <= out["total"].to_numpy()[:, None]).all()
    assert (out["errors"] <= out["total"]).all()
    assert out["total"].sum() == len(rows)
    lat = np.array([r[1] for r in rows])
    for e, col in zip(EDGES, tm.le_columns(out), strict=True):
        assert out[col].sum() == int((lat <= e).sum())


@settings(max_examples=10, deadline=None)
@given(rows=st.lists(row, min_size=1, max_size=120))
def test_file_path_equals_frame_path(tmp_path_factory: object, rows: list[tuple[int, float, bool, str]]) -> None:
    tmp = Path(tmp_path_factory.mktemp("props"))  # type: ignore[attr-defined]
    req = frame(rows)
    csv = req.assign(
        timestamp=req["timestamp"].dt.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
        latency_ms=[repr(float(x)) for x in req["latency_ms"]],
        status=np.where(req["error"], 503, 200),
    ).drop(columns="error")
    path = tmp / "r.csv"
    csv.to_csv(path, index=False)
    got, entry = ag.aggregate_files([path], edges=EDGES)
    pd.testing.assert_frame_equal(got, ag.aggregate_frame(req, edges=EDGES))
    assert entry.rows_accepted == len(rows)


@settings(max_examples=60, deadline=None)
@given(
    values=st.lists(
        st.one_of(st.floats(min_value=0, max_value=1e9, allow_nan=False), st.sampled_from(list(tm.DEFAULT_EDGES_MS))),
        min_size=1,
        max_size=200,
    )
)
def test_bucket_lookup_equals_searchsorted(values: list[float]) -> None:
    edges = np.asarray(tm.DEFAULT_EDGES_MS)
    arr = np.asarray(values, dtype=float)
    near = np.concatenate([arr, np.nextafter(arr, np.inf), np.nextafter(arr, 0), [0.0, -0.0, 5e-324, 1e308]])
    np.testing.assert_array_equal(ag._bucket_index(near, edges), np.searchsorted(edges, near, side="left"))
    small = np.asarray(EDGES)
    np.testing.assert_array_equal(ag._bucket_index(near, small), np.searchsorted(small, near, side="left"))


stamp = st.one_of(
    st.builds(lambda m, s: f"2026-10-25 02:{m:02d}:{s:02d}", st.integers(0, 59), st.integers(0, 59)),  # repeated hour
    st.builds(lambda m: f"2026-03-29 02:{m:02d}:00", st.integers(0, 59)),  # skipped hour
    st.builds(lambda h, m: f"2026-10-24T{h:02d}:{m:02d}:00Z", st.integers(0, 23), st.integers(0, 59)),
    st.builds(
        lambda h, o: f"2026-10-24T{h:02d}:30:00{o}", st.integers(0, 23), st.sampled_from(["+02:00", "-05:30", "+0100"])
    ),
    st.sampled_from(["not a time", "2026-13-45 00:00:00", "", "25:00"]),
)


@settings(max_examples=25, deadline=None)
@given(stamps=st.lists(stamp, min_size=1, max_size=40), tz=st.sampled_from(["UTC", "Europe/Berlin"]))
def test_timestamps_follow_timeutil_rule(tmp_path_factory: object, stamps: list[str], tz: str) -> None:
    from srekit.inputs.timeparse import parse_utc

    tmp = Path(tmp_path_factory.mktemp("stamps"))  # type: ignore[attr-defined]
    path = tmp / "r.csv"
    path.write_text("timestamp,latency_ms,status\n" + "".join(f"{s},1,200\n" for s in stamps))
    want = parse_utc(pd.Series(stamps, dtype="str"), tz=tz)
    bad = want.unparseable | want.utc.isna().to_numpy()  # an empty stamp is unparseable to the request reader
    if bad.all():  # no usable row: exit 2 with the reason, not an empty aggregate
        with pytest.raises(InputError, match="no usable rows"):
            ag.read_requests(path, tz=tz)
        return
    loaded = ag.read_requests(path, tz=tz)
    assert loaded.entry.rejected.get("unparseable timestamp", 0) == int(bad.sum())
    assert sorted(loaded.frame["timestamp"].tolist()) == sorted(want.utc[~bad].tolist())
    assert loaded.entry.notes.get("dst_ambiguous_resolved", 0) == want.ambiguous_resolved
    assert loaded.entry.notes.get("dst_nonexistent_shifted", 0) == want.nonexistent_shifted
