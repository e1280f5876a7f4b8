"""The smallest spacing of stamps (the telemetry interval inferred from the data), read a chunk at
a time, equals the smallest positive difference of the distinct stamps, whatever their order."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from srekit.analysis.forecast.analyze import _days_of
from srekit.analysis.slo.events import grid_interval
from srekit.inputs import intervals as iv
from srekit.inputs import telemetry as tm
from srekit.inputs.telemetry import infer_interval


def _reference(stamps: pd.Series) -> pd.Timedelta | None:
    d = np.diff(np.unique(pd.DatetimeIndex(stamps.dropna()).as_unit("us").asi8))
    d = d[d > 0]
    return pd.Timedelta(int(d.min()), unit="us") if d.size else None


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("chunk", [1, 2, 3, 7, 1 << 20])
def test_smallest_spacing_equals_the_distinct_stamps(monkeypatch: pytest.MonkeyPatch, seed: int, chunk: int) -> None:
    monkeypatch.setattr(iv, "_SPACING_CHUNK", chunk)
    rng = np.random.default_rng(seed)
    for _ in range(40):
        n = int(rng.integers(0, 30))
        us = rng.integers(0, 40, n) * 30_000_000 + int(rng.integers(0, 2)) * 7_000_000 * (np.arange(n) % 2)
        shape = rng.integers(0, 3)  # shuffled, sorted, journeys one after another (two sorted runs)
        us = us if shape == 0 else np.sort(us) if shape == 1 else np.r_[np.sort(us[: n // 2]), np.sort(us[n // 2 :])]
        stamps = pd.Series(pd.to_datetime(us, unit="us", utc=True).as_unit("us"))
        if n and rng.random() < 0.3:
            stamps.iloc[int(rng.integers(0, n))] = pd.NaT
        want = _reference(stamps)
        for unit in ("s", "ms", "us", "ns"):  # read in the unit held (whole seconds here: the same spacing)
            held = stamps.astype(f"datetime64[{unit}, UTC]")
            assert iv.smallest_spacing(held) == want
            assert grid_interval(held) == (want or pd.Timedelta(minutes=1))
            assert infer_interval(pd.DataFrame({"interval_start": held})) == (want or pd.Timedelta(minutes=1))
            got = iv.infer(held)
            assert (got.length, got.source) == ((want, "inferred") if want is not None else (iv.ASSUMED, "assumed"))


def test_hand_checked_spacings() -> None:
    t = pd.Series(pd.to_datetime(["2024-01-01T00:02:00", "2024-01-01T00:00:00", None, "2024-01-01T00:00:30"], utc=True))
    assert iv.smallest_spacing(t) == pd.Timedelta(seconds=30)
    assert iv.infer(t, rule="median").length == pd.Timedelta(seconds=60)  # spacings 30 s and 90 s
    assert iv.smallest_spacing(t.iloc[:1]) is None
    assert grid_interval(t.iloc[:1]) == pd.Timedelta(minutes=1)
    # a journey at :00 and one at :30 of each minute: the stamps' grid is 30 s, not either journey's minute
    two = pd.Series(pd.date_range("2024-01-01", periods=4, freq="1min", tz="UTC").as_unit("us"))
    assert iv.smallest_spacing(pd.concat([two, two + pd.Timedelta(seconds=30)], ignore_index=True)) == pd.Timedelta(
        seconds=30
    )


def test_days_of_counts_utc_calendar_days() -> None:
    stamps = pd.to_datetime(
        ["2024-03-30 23:59", "2024-03-31 00:00", "2024-03-31 12:00", "2023-12-31 23:00", "1969-12-31 23:00"],
        utc=True,
        format="%Y-%m-%d %H:%M",
    )
    frame = pd.DataFrame({"interval_start": pd.Series(stamps).dt.as_unit("us")})
    assert _days_of(frame) == 4
    assert _days_of(frame.iloc[:0]) == 0


@pytest.mark.parametrize("order", ["sorted", "shuffled"])
def test_journey_sums_equal_a_groupby_in_any_row_order(order: str) -> None:
    rng = np.random.default_rng(5)
    n = 400
    frame = pd.DataFrame(
        {
            "journey": pd.array(rng.choice(["b", "a", "é", "Z"], n), dtype="str"),
            "total": rng.integers(0, 1000, n).astype(np.int64),
            "le_10": rng.integers(0, 60_000, n).astype(np.uint16),
            "share": rng.random(n) * 0.9,  # not a count: summed as it is, never truncated
        }
    )
    frame = frame.sort_values("journey", kind="stable") if order == "sorted" else frame
    got = tm.journey_sums(frame, ["total", "le_10", "share"])
    want = frame.groupby("journey").agg({"total": "sum", "le_10": "sum", "share": "sum"})
    assert got.index.tolist() == sorted(want.index) and str(got.index.dtype) == "str"
    assert (got["total"].dtype, got["le_10"].dtype) == (np.dtype(np.int64), np.dtype(np.int64))
    assert got["total"].tolist() == want["total"].tolist() and got["le_10"].tolist() == want["le_10"].tolist()
    assert np.allclose(got["share"], want["share"])


def test_sub_microsecond_spacing_is_read_as_each_rule_always_read_it() -> None:
    """ns stamps 1.5 µs apart: the telemetry interval (``infer_interval``) in ns, the grids'
    interval (``grid_interval``, ``infer``) in whole µs, as they always were."""
    stamps = pd.Series(pd.to_datetime(1_704_067_200_000_000_000 + np.array([0, 1500, 3000]), unit="ns", utc=True))
    assert infer_interval(pd.DataFrame({"interval_start": stamps})) == pd.Timedelta(1500, unit="ns")
    assert grid_interval(stamps) == pd.Timedelta(1, unit="us") and iv.infer(stamps).length == pd.Timedelta(1, unit="us")
