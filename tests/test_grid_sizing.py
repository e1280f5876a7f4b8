"""Grids sized by the data (srekit.analysis.slo.grid): a long empty run costs the trailing
windows read across it, not its length, and every number in report.json is the one the dense
grid gives; the interval-count limit is the backstop."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import SAMPLES
from hypothesis import given, settings
from hypothesis import strategies as st

import srekit.analysis.slo.grid as grid_module
from srekit.analysis.alerting.events import events_per_hour, median_with_zeros, regularise
from srekit.analysis.slo.grid import GridSettings, journey_grids, kept_count, kept_positions
from srekit.analysis.slo.history import past_windows
from srekit.core.errors import LimitError
from srekit.inputs.config import load_config
from srekit.report.cache import Analysis

GEN = pd.Timestamp("2026-11-01", tz="UTC")


@given(
    st.lists(st.integers(0, 400), min_size=1, max_size=30, unique=True).map(sorted),
    st.one_of(st.none(), st.integers(1, 40)),
)
@settings(max_examples=300, deadline=None)
def test_kept_positions_follow_the_rule(points: list[int], pad: int | None) -> None:
    """Kept: every point and the pad positions after it up to the next point (none after the last)."""
    p = np.array(points, np.int64)
    got = kept_positions(p, pad)
    if pad is None:
        want = set(range(points[0], points[-1] + 1))
    else:
        want = {
            q for a, b in zip(points, [*points[1:], points[-1] + 1], strict=True) for q in range(a, min(b, a + pad + 1))
        }
    assert got.tolist() == sorted(want) and kept_count(p, pad) == len(want)


def _trailing(values: np.ndarray, n: int) -> np.ndarray:
    cs = np.concatenate([[0], np.cumsum(values)])
    return cs[n:] - cs[:-n] if len(values) >= n else np.array([], np.int64)


@given(
    st.lists(st.integers(0, 3000), min_size=1, max_size=25, unique=True).map(sorted),
    st.integers(1, 30),
)
@settings(max_examples=200, deadline=None)
def test_trailing_sums_on_a_kept_grid_are_the_dense_ones(points: list[int], n: int) -> None:
    """The property the replay relies on: a trailing sum over n ≤ pad rows at any kept row equals
    the dense grid's at that position, and the positions not kept have zero trailing sums."""
    pad = 30
    values = np.zeros(points[-1] + 1, np.int64)
    values[points] = np.arange(1, len(points) + 1)
    kept = kept_positions(np.array(points, np.int64), pad)
    dense = np.concatenate([np.cumsum(values)[: n - 1], _trailing(values, n)])  # sums over the last ≤ n rows
    cs = np.concatenate([[0], np.cumsum(values[kept])])
    rows = np.arange(len(kept))
    compact = cs[rows + 1] - cs[np.maximum(rows + 1 - n, 0)]
    assert np.array_equal(compact, dense[kept])
    skipped = np.setdiff1d(np.arange(points[-1] + 1), kept)
    assert not dense[skipped].any()


def test_median_of_hours_counts_the_empty_ones() -> None:
    idx = pd.DatetimeIndex(["2026-01-01 00:00", "2026-01-01 00:30", "2026-01-01 05:00", "2026-01-02 00:00"], tz="UTC")
    events = pd.DataFrame({"total": [3, 4, 10, 1], "bad": [0, 0, 1, 0]}, index=idx)
    assert events_per_hour(events) == events["total"].resample("1h").sum().median() == 0.0
    assert median_with_zeros(np.array([5.0, 1.0, 9.0]), 0) == 5.0
    assert median_with_zeros(np.array([5.0, 1.0]), 1) == 1.0


def test_past_windows_sum_as_the_membership_matrix() -> None:
    days = pd.date_range("2026-01-17", periods=100, freq="D", tz="UTC")
    values = np.random.default_rng(3).integers(0, 1000, (100, 4)).astype(float)
    rolling = past_windows(days, pd.Timedelta(days=28), "rolling")
    matrix = np.zeros((73, 100))
    for i in range(73):
        matrix[i, i : i + 28] = 1.0
    assert np.array_equal(rolling.sums(values), matrix @ values)
    months = past_windows(days, pd.Timedelta(days=28), "calendar_month")
    keys = np.asarray(days.year * 12 + days.month)
    member = (keys[None, :] == np.unique(keys)[:, None]).astype(float)
    assert np.array_equal(months.sums(values), member @ values)
    short = past_windows(days[:10], pd.Timedelta(days=28), "rolling")
    assert np.array_equal(short.sums(values[:10]), values[:10].sum(axis=0, keepdims=True))


def _gapped_samples(root: Path) -> Path:
    """The samples with holes: checkout loses 12 days (longer than every window read), browse 2
    days (shorter: kept as zero rows), the series 9 days."""
    for name in ("incidents.csv", "pages.csv", "toil.csv", "deploys.csv", "service.yaml"):
        shutil.copy(SAMPLES / name, root / name)
    tel = pd.read_parquet(SAMPLES / "telemetry.parquet")
    t = tel["interval_start"]
    hole = {
        "checkout": (pd.Timestamp("2026-09-01", tz="UTC"), pd.Timestamp("2026-09-13", tz="UTC")),
        "browse": (pd.Timestamp("2026-10-03", tz="UTC"), pd.Timestamp("2026-10-05", tz="UTC")),
    }
    drop = np.zeros(len(tel), bool)
    for journey, (a, b) in hole.items():
        drop |= (tel["journey"] == journey).to_numpy() & (t >= a).to_numpy() & (t < b).to_numpy()
    before = (tel["journey"] == "checkout").to_numpy() & (t >= hole["checkout"][0] - pd.Timedelta(hours=2)).to_numpy()
    before &= (t < hole["checkout"][0]).to_numpy()
    tel.loc[before, "errors"] = tel.loc[before, "total"]  # an outage just before the hole
    tel[~drop].to_parquet(root / "telemetry.parquet", index=False)
    series = pd.read_csv(SAMPLES / "series.csv")
    stamp = pd.to_datetime(series["timestamp"], utc=True, format="mixed")
    gone = (stamp >= pd.Timestamp("2026-08-20", tz="UTC")) & (stamp < pd.Timestamp("2026-08-29", tz="UTC"))
    series[~gone].to_csv(root / "series.csv", index=False)
    return root / "service.yaml"


#: An SLO defined in full with an imported single-window policy reading 4 days back, more than the
#: grid keeps after data by default (3 days): the replay gets the skipped zeros back for it (else
#: the outage before checkout's hole would still be in its window when the data resumes).
IMPORTED_SLO = """
slos:
  - name: checkout-imported
    journey: checkout
    sli: availability
    target: 0.999
    alerting:
      source: pyrra
      rules:
        - {severity: ticket, long_window: 4d, burn_rate: 1}
"""


@pytest.mark.slow
@pytest.mark.xdist_group("gaps")
def test_report_on_gapped_history_equals_the_dense_grid(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every report.json number (SLO proposals, budgets, the replayed alerts and their scores,
    incident impact, the forecast) is the same whether empty runs are skipped or not."""
    path = _gapped_samples(tmp_path)
    path.write_text(path.read_text() + IMPORTED_SLO)
    config = load_config(path)

    def report() -> dict:
        analysis = Analysis(config, seed=7, generated_at=GEN)
        out = analysis.report.to_dict()
        assert not out["meta"]["sections_failed"]
        return out

    sized = report()
    assert "checkout-imported" in json.dumps(sized["alerting"])
    grids = journey_grids(pd.read_parquet(tmp_path / "telemetry.parquet"), GridSettings())
    assert grids["checkout"].offsets is not None and grids["browse"].offsets is None  # only the long hole is skipped
    skipped = len(grids["checkout"].offsets) - (int(grids["checkout"].offsets[-1]) + 1)
    assert skipped < -10_000  # 12 days of minutes minus the 3 days kept
    monkeypatch.setattr(grid_module, "GAP_LOOKBACK", None)
    dense = report()
    assert json.dumps(sized, sort_keys=True, default=str) == json.dumps(dense, sort_keys=True, default=str)


def test_rows_centuries_apart_cost_the_windows_around_them() -> None:
    tel = pd.DataFrame(
        {
            "journey": "checkout",
            "interval_start": pd.to_datetime(
                ["2026-01-01T00:00Z", "2026-01-01T00:01Z", "2250-01-01T00:00Z"], utc=True
            ).as_unit("us"),
            "total": [100, 100, 100],
            "errors": [1, 1, 1],
            "le_100": [90, 90, 90],
        }
    )
    grid = journey_grids(tel)["checkout"]
    assert len(grid.total) == 3 + 3 * 1440  # the three rows and three days of minutes after the second
    assert int(grid.positions[-1]) == 117_812_161 - 1  # the dense grid it stands for
    assert grid.total.sum() == 300
    days = grid.blocks("D")
    span_days = (pd.Timestamp("2250-01-01") - pd.Timestamp("2026-01-01")).days + 1
    assert len(days.index) == span_days and days.total.sum() == 300  # days are cheap: 81,817 of them


def test_a_microsecond_interval_is_refused_naming_the_limit() -> None:
    tel = pd.DataFrame(
        {
            "journey": "checkout",
            "interval_start": pd.to_datetime(
                ["2026-01-01T00:00:00.000000Z", "2026-01-01T00:00:00.000001Z", "2026-01-02T00:00:00.000000Z"], utc=True
            ).as_unit("us"),
            "total": [1, 1, 1],
            "errors": [0, 0, 0],
        }
    )
    with pytest.raises(
        LimitError, match=r"journey 'checkout'.*1us.*limits\.max_intervals = 5,270,400.*--limit max_intervals=N"
    ):
        journey_grids(tel)


def test_regularise_skips_long_empty_runs() -> None:
    idx = pd.DatetimeIndex(["2026-01-01 00:00", "2026-01-01 00:01", "2026-03-01 00:00"], tz="UTC")
    events = pd.DataFrame({"total": [5, 6, 7], "bad": [0, 1, 0]}, index=idx)
    out = regularise(events)
    assert len(out) == 3 + 3 * 1440 and out["total"].sum() == 18
    assert out.index[-1] == idx[-1] and (out.loc[idx, "total"].to_numpy() == [5, 6, 7]).all()


def test_regular_frame_drops_only_zero_rows_beyond_its_pad() -> None:
    """A frame already holding more empty rows than this grid keeps (padding for a longer window):
    the extra zero rows go, every count stays where it was."""
    from srekit.analysis.slo.grid import regular_frame

    idx = pd.date_range("2026-01-01", periods=10, freq="1D", tz="UTC")
    frame = pd.DataFrame({"total": [5, 0, 0, 0, 0, 0, 0, 0, 0, 7], "bad": [1] + [0] * 9}, index=idx)
    out = regular_frame(frame, pd.Timedelta(days=1), GridSettings(), "a test frame")
    assert out["total"].tolist() == [5, 0, 0, 0, 7] and out["bad"].tolist() == [1, 0, 0, 0, 0]
    assert out.index[-1] == idx[-1] and out.index[3] == idx[3]
