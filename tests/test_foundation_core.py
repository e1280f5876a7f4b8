"""Core model: bucket edges, telemetry checks and window sums, timestamps, config."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from srekit.core.errors import ConfigError, InputError
from srekit.core.timeutil import epoch_ints, format_duration, parse_duration
from srekit.inputs import telemetry as tm
from srekit.inputs.config import parse_config
from srekit.inputs.timeparse import parse_utc


def test_default_edges_span_and_spacing() -> None:
    e = np.array(tm.DEFAULT_EDGES_MS)
    assert e[0] == 1 and e[-1] == 60000
    assert (e[1:] / e[:-1]).max() <= 1.1 + 1e-12
    assert (np.diff(e) > 0).all()


def test_edge_labels_round_trip() -> None:
    assert tm.edge_label(250) == "le_250"
    assert tm.edge_label(1.5) == "le_1.5"
    assert tm.parse_edge("le_1.5") == 1.5


def test_request_weighted_window_known_case() -> None:
    # kubernetes-mixin case: 6/10 bad then 1/102 bad -> 7/112 = 0.0625 (not the 0.3049 mean).
    idx = pd.date_range("2024-01-01", periods=2, freq="1min", tz="UTC")
    counts = pd.DataFrame({"total": [10, 102], "errors": [6, 1]}, index=idx)
    w = tm.window_sums(counts, pd.Timedelta(minutes=2))
    assert tm.ratio(w["errors"].iloc[-1], w["total"].iloc[-1]) == pytest.approx(0.0625)


def test_ratio_is_bad_over_total_as_floats_and_zero_without_traffic() -> None:
    big = np.array([2**60 + 1, 3, -5, 7], dtype=np.int64)
    cases = [
        (big, np.array([3, 0, 7, 2**55], dtype=np.int64)),
        (np.array([1, 2], dtype=np.int32), 4),
        (np.float32(1.5), np.float32(3.1)),
        (np.nan, 3),
        (1, np.nan),
        (np.array([[1, 2]]), np.array([[0], [3]])),
        (np.array([1.0, 2.0]), np.array([np.inf, -1.0])),
    ]
    for bad, total in cases:
        b, t = np.asarray(bad, dtype=float), np.asarray(total, dtype=float)
        with np.errstate(divide="ignore", invalid="ignore"):
            want = np.where(t > 0, b / np.where(t > 0, t, 1.0), 0.0)
        got = tm.ratio(bad, total)
        assert got.dtype == np.float64 and got.shape == want.shape and np.array_equal(got, want, equal_nan=True)


def test_check_rejects_non_cumulative_buckets() -> None:
    df = pd.DataFrame(
        {
            "journey": ["a"],
            "interval_start": [pd.Timestamp("2024-01-01", tz="UTC")],
            "total": [10],
            "errors": [0],
            "le_100": [8],
            "le_200": [5],
        }
    )
    with pytest.raises(InputError, match="decrease"):
        tm.check(df, source="t.csv")


def _sli_counts_via_regular(
    df: pd.DataFrame, journey: str, kind: str, thr: float | None, **kw: pd.Timestamp
) -> pd.DataFrame:
    """The definition sli_counts must match: telemetry.regular on every column, then the SLI."""
    part = df[df["journey"] == journey]
    grid = tm.regular(part, journey, tm.infer_interval(part), kw.get("start"), kw.get("end"))
    bad = (
        grid["errors"]
        if kind == "availability"
        else grid["total"] - grid[tm.edge_label(tm.snap_edge(tm.edges_of(part), thr or 0))]
    )
    return pd.DataFrame({"total": grid["total"].astype("int64"), "bad": bad.astype("int64")}, index=grid.index)


def test_sli_counts_equals_regular_grid_on_messy_frames() -> None:
    rng = np.random.default_rng(3)
    idx = pd.date_range("2024-01-01", periods=300, freq="1min", tz="UTC")
    le = np.sort(rng.integers(0, 50, (600, 3)), axis=1)
    df = pd.DataFrame(
        {
            "journey": np.repeat(["a", "b"], 300),
            "interval_start": np.tile(idx, 2),
            "total": le[:, -1] + rng.integers(0, 5, 600),
            "errors": rng.integers(0, 3, 600),
            "le_100": le[:, 0],
            "le_250": le[:, 1],
            "le_500": le[:, 2],
        }
    )
    off = df.iloc[[5, 17]].assign(interval_start=lambda d: d["interval_start"] + pd.Timedelta(seconds=20))
    messy = pd.concat([df.drop(index=range(40, 70)), df.iloc[[3, 3, 450]], off]).sample(frac=1.0, random_state=2)
    t0 = idx[0]
    for kind, thr in (("availability", None), ("latency", 250.0), ("latency", 300.0)):
        for kw in (
            {},
            {"start": t0 - pd.Timedelta(minutes=9), "end": t0 + pd.Timedelta(hours=2, seconds=30)},
            {"start": t0 + pd.Timedelta(minutes=3, seconds=20)},
        ):
            got = tm.sli_counts(messy, "a", kind, threshold_ms=thr, **kw)
            pd.testing.assert_frame_equal(got, _sli_counts_via_regular(messy, "a", kind, thr, **kw))
            assert got.index.freq == pd.Timedelta(seconds=20)  # the off-grid rows set the interval
    assert tm.sli_counts(messy, "zzz", "availability").empty


def test_quantile_interpolates_like_prometheus() -> None:
    df = pd.DataFrame({"le_100": [50], "le_200": [100]})
    assert tm.quantile_ms(df, np.array([100]), 0.75)[0] == pytest.approx(150.0)


def test_dst_repeat_and_gap() -> None:
    s = pd.Series(["2017-11-05 01:00:00", "2017-11-05 01:00:00", "2014-03-09 02:30:00"])
    p = parse_utc(s, "America/New_York")
    assert p.utc.iloc[0] == pd.Timestamp("2017-11-05 05:00", tz="UTC")
    assert p.utc.iloc[1] == pd.Timestamp("2017-11-05 06:00", tz="UTC")
    assert p.utc.iloc[2] == pd.Timestamp("2014-03-09 07:00", tz="UTC")
    assert p.ambiguous_resolved == 2 and p.nonexistent_shifted == 1


@pytest.mark.parametrize("unit", ["us", "ns", "s"])
@pytest.mark.parametrize("tz", ["UTC", "Europe/Berlin"])
def test_aware_stamps_parse_as_before_whatever_their_unit_and_zone(unit: str, tz: str) -> None:
    """Aware UTC µs columns (Parquet written by srekit) are checked in place, others converted;
    the result, the masks and the counts are the same either way."""
    stamps = pd.to_datetime(["2024-01-01T00:00:00Z", None, "2099-12-31T23:59:00Z", "2100-01-01T00:00:00Z"], utc=True)
    s = pd.Series(stamps.tz_convert(tz).as_unit(unit), index=[4, 5, 6, 7])
    p = parse_utc(s)
    assert str(p.utc.dtype) == "datetime64[us, UTC]"
    assert p.utc.index.tolist() == [4, 5, 6, 7]
    assert p.utc.iloc[0] == pd.Timestamp("2024-01-01", tz="UTC") and p.utc.iloc[2] == pd.Timestamp(
        "2099-12-31 23:59", tz="UTC"
    )
    assert p.utc.iloc[[1, 3]].isna().all()  # missing; past limits.max_year
    assert p.range_mask.tolist() == [False, False, False, True]
    assert p.unparseable.tolist() == [False] * 4
    assert (p.with_offset, p.naive, p.ambiguous_resolved, p.nonexistent_shifted) == (3, 0, 0, 0)
    inside = parse_utc(s.iloc[:3].rename("interval_start"))  # nothing out of range: UTC µs read in place
    assert inside.utc.equals(p.utc.iloc[:3]) and not inside.range_mask.any() and inside.with_offset == 2
    assert inside.utc.name is None and inside.utc is not s  # a Series of its own, as the converted ones


def test_durations() -> None:
    assert parse_duration("28d") == pd.Timedelta(days=28)
    assert format_duration(pd.Timedelta(minutes=5)) == "5m"


def test_config_requires_service_and_source() -> None:
    with pytest.raises(ConfigError, match="service"):
        parse_config({"data": {"telemetry": "x.parquet"}})
    with pytest.raises(ConfigError, match="no data source"):
        parse_config({"service": "x"})
    with pytest.raises(ConfigError, match="sloo: unknown key.*valid keys under"):
        parse_config({"service": "x", "data": {"telemetry": "t"}, "sloo": {}})
    cfg = parse_config(
        {"service": "x", "data": {"telemetry": "t"}, "journeys": [{"name": "a", "slos": {"availability": 99.9}}]}
    )
    assert cfg.journeys[0].availability_target == pytest.approx(0.999)


def test_public_api_resolves() -> None:
    import srekit

    for name in srekit.__all__:
        assert getattr(srekit, name) is not None, name
    with pytest.raises(AttributeError):
        _ = srekit.no_such_thing  # type: ignore[attr-defined]


def test_epoch_ints_read_the_stamps_in_place_when_held_in_the_unit() -> None:
    s = pd.Series(pd.to_datetime(["2024-01-01T00:00:01Z", None], utc=True).as_unit("us"))
    got = epoch_ints(s)
    assert got.tolist() == [1_704_067_201_000_000, np.iinfo(np.int64).min]
    assert np.shares_memory(got, pd.DatetimeIndex(s).asi8)  # no copy of a 26 M-row column
    with pytest.raises(ValueError, match="read-only"):
        got[0] = 0  # never a write into the caller's frame
    assert epoch_ints(s, "ns")[0] == 1_704_067_201_000_000_000 and epoch_ints(s, "s")[0] == 1_704_067_201
    assert epoch_ints(s.dt.tz_convert("Asia/Kolkata"))[0] == got[0]  # aware stamps: UTC
