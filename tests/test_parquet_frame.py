"""inputs.parquet_frame: the frame pd.read_parquet gives, with the null-free int64 columns in one
column-major block that the loaded telemetry and the journey grids use without copying."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from srekit.analysis.slo.grid import journey_grids
from srekit.inputs import loaders
from srekit.inputs.parquet_frame import read_parquet_frame


def _telemetry(n: int = 500) -> pd.DataFrame:
    rng = np.random.default_rng(3)
    total = rng.integers(0, 50, n)
    le = np.minimum.accumulate(np.sort(rng.integers(0, 50, (n, 4)), axis=1)[:, ::-1], axis=1)[:, ::-1]
    le = np.minimum(np.sort(le, axis=1), total[:, None])
    stamps = pd.date_range("2026-01-01", periods=n // 2, freq="1min", tz="UTC").as_unit("us")
    return pd.DataFrame(
        {
            "journey": pd.array(["a"] * (n // 2) + ["b"] * (n - n // 2), dtype="str"),
            "interval_start": list(stamps) + list(stamps[: n - n // 2]),
            "total": total,
            "errors": np.minimum(rng.integers(0, 3, n), total),
            **{f"le_{e}": le[:, k] for k, e in enumerate((10, 50, 100, 500))},
        }
    )


@pytest.mark.parametrize(
    "frame",
    [
        _telemetry(),
        _telemetry().set_index("journey"),  # a stored index: read by pandas
        _telemetry().assign(total=pd.array([None] + [1] * 499, dtype="Int64")),  # nulls in an int column
        _telemetry().astype({"total": "int32"}),
        _telemetry()[["journey", "interval_start"]],  # no integer column
        _telemetry()[["total", "errors"]],  # nothing but integers
    ],
)
def test_equals_pandas(tmp_path: Path, frame: pd.DataFrame) -> None:
    path = tmp_path / "t.parquet"
    frame.to_parquet(path)
    pd.testing.assert_frame_equal(read_parquet_frame(path), pd.read_parquet(path))


def test_several_row_groups_and_a_file_written_by_pyarrow(tmp_path: Path) -> None:
    frame = _telemetry(3000)
    path = tmp_path / "t.parquet"
    pq.write_table(pa.Table.from_pandas(frame, preserve_index=False), path, row_group_size=700)
    assert pq.ParquetFile(path).num_row_groups == 5
    pd.testing.assert_frame_equal(read_parquet_frame(path), pd.read_parquet(path))
    bare = tmp_path / "bare.parquet"  # no pandas metadata
    pq.write_table(pa.Table.from_pandas(frame, preserve_index=False).replace_schema_metadata(None), bare)
    pd.testing.assert_frame_equal(read_parquet_frame(bare), pd.read_parquet(bare))


def test_counts_held_once_and_grids_are_views(tmp_path: Path) -> None:
    path = tmp_path / "t.parquet"
    _telemetry().to_parquet(path, index=False)
    loaded = loaders.load_telemetry(path).frame
    counts = loaded[["total", "errors"]].to_numpy()
    buckets = loaded[["le_10", "le_50", "le_100", "le_500"]].to_numpy()
    assert counts.dtype == np.int64 and buckets.dtype == np.uint8  # counts below 256: one byte per bucket
    assert counts.flags.f_contiguous and np.shares_memory(counts, loaded["errors"].to_numpy())
    assert buckets.flags.f_contiguous and np.shares_memory(buckets, loaded["le_500"].to_numpy())
    grids = journey_grids(loaded)
    assert all(np.shares_memory(g.le, buckets) and np.shares_memory(g.total, counts) for g in grids.values())


def _written(tmp_path: Path, frame: pd.DataFrame, **kw: object) -> Path:
    path = tmp_path / "t.parquet"
    pq.write_table(pa.Table.from_pandas(frame, preserve_index=False), path, **kw)  # type: ignore[arg-type]
    return path


@pytest.mark.parametrize(
    ("top", "dtype"),
    [
        (255, np.uint8),
        (256, np.uint16),
        (65_535, np.uint16),
        (65_536, np.uint32),
        (2**32 - 1, np.uint32),
        (2**32, np.int64),
    ],
)
def test_buckets_narrowed_to_the_file_max(tmp_path: Path, top: int, dtype: type) -> None:
    frame = _telemetry()
    frame.loc[7, ["total", "le_10", "le_50", "le_100", "le_500"]] = top
    path = _written(tmp_path, frame)
    got = read_parquet_frame(path, narrow="le_")
    assert {got[c].dtype for c in ("le_10", "le_500")} == {np.dtype(dtype)}
    assert got["total"].dtype == np.int64  # only the named prefix is narrowed
    assert isinstance(got["journey"].dtype, pd.CategoricalDtype)  # text read as categorical: the same values
    pd.testing.assert_frame_equal(got.astype({"journey": "str"}), pd.read_parquet(path), check_dtype=False)
    loaded = loaders.load_telemetry(path).frame
    assert loaded["le_500"].dtype == np.dtype(dtype) and int(loaded["le_500"].max()) == top


def test_negative_or_unknown_bounds_stay_int64(tmp_path: Path) -> None:
    negative = _telemetry()
    negative.loc[3, "le_10"] = -1
    got = read_parquet_frame(_written(tmp_path, negative), narrow="le_")
    assert got["le_10"].dtype == np.int64 and got.loc[3, "le_10"] == -1  # the loader rejects the row
    loaded = loaders.load_telemetry(_written(tmp_path, negative))
    assert loaded.entry.rejected == {"negative le_10": 1} and loaded.frame["le_10"].dtype == np.uint8
    no_stats = _written(tmp_path, _telemetry(), write_statistics=False)
    assert read_parquet_frame(no_stats, narrow="le_")["le_10"].dtype == np.int64
    assert loaders.load_telemetry(no_stats).frame["le_10"].dtype == np.uint8  # narrowed after the checks


def test_a_frame_written_from_a_slice_keeps_its_rows_together(tmp_path: Path) -> None:
    """A frame written from a slice stores a RangeIndex starting past 0: every column is read on
    that index (the count block on 0 … n - 1 beside the key columns on 5 … misaligned the rows:
    600 rows out of 595, most totals beside another minute's journey)."""
    frame = _telemetry().iloc[5:]
    frame.to_parquet(tmp_path / "t.parquet")
    pd.testing.assert_frame_equal(read_parquet_frame(tmp_path / "t.parquet"), pd.read_parquet(tmp_path / "t.parquet"))
    loaded = loaders.load_telemetry(tmp_path / "t.parquet").frame
    want = frame.sort_values(["journey", "interval_start"], kind="stable")
    assert len(loaded) == len(frame)
    np.testing.assert_array_equal(loaded["total"].to_numpy(), want["total"].to_numpy())
