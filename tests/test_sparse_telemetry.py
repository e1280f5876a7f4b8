"""The sparse Parquet layout (srekit.inputs.sparse_telemetry): `srekit aggregate`'s default output
reads back into the same telemetry as the wide file, through every loader; a hand-made or damaged
sparse file is a clear input error naming the file, the column and the rows."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from srekit.core.errors import InputError
from srekit.inputs import aggregate as ag
from srekit.inputs import sparse_telemetry as st
from srekit.inputs.loaders import load_telemetry
from srekit.inputs.parquet_frame import read_parquet_frame

EDGES = (10.0, 50.0, 100.0, 250.0)


def _requests(n: int, seed: int) -> pd.DataFrame:
    """Requests over 3 hours, 3 journeys, 2 regions; latencies on and around the edges, some
    above the last one, 5 % errors."""
    rng = np.random.default_rng(seed)
    start = np.datetime64("2026-03-01T00:00:00", "us")
    return pd.DataFrame(
        {
            "timestamp": pd.Series(start + rng.integers(0, 3 * 3600 * 10**6, n).astype("timedelta64[us]")).dt.strftime(
                "%Y-%m-%dT%H:%M:%S.%fZ"
            ),
            "latency_ms": np.where(rng.random(n) < 0.3, rng.choice([*EDGES, 400.0], n), rng.exponential(60, n)),
            "status": np.where(rng.random(n) < 0.05, 503, 200),
            "journey": rng.choice(["browse", "search", "checkout"], n),
            "region": rng.choice(["eu", "us"], n),
        }
    )


@pytest.mark.parametrize("seed", [1, 2, 3])
@pytest.mark.parametrize("by", [(), ("region",)])
def test_sparse_reads_back_as_the_wide_file(tmp_path: Path, seed: int, by: tuple[str, ...]) -> None:
    src = tmp_path / "requests.csv"
    _requests(5000, seed).to_csv(src, index=False)
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(ag, "_SPARSE_CHUNK_ENTRIES", 300)  # several row groups, rows of one journey split across them
        sparse = ag.aggregate_to_file([src], tmp_path / "s.parquet", edges=EDGES, by=by)
    wide = ag.aggregate_to_file([src], tmp_path / "w.parquet", edges=EDGES, by=by, layout="wide")
    assert pq.ParquetFile(sparse.path).num_row_groups > 2
    assert (sparse.rows, sparse.journeys) == (wide.rows, wide.journeys)
    pd.testing.assert_frame_equal(read_parquet_frame(sparse.path), pd.read_parquet(wide.path))
    narrow = read_parquet_frame(sparse.path, narrow="le_")
    pd.testing.assert_frame_equal(narrow, read_parquet_frame(wide.path, narrow="le_"))
    assert narrow["le_10"].dtype == np.uint8 and narrow["journey"].dtype == "category"
    a, b = load_telemetry(sparse.path), load_telemetry(wide.path)
    pd.testing.assert_frame_equal(a.frame, b.frame)
    assert a.entry.rows_accepted == b.entry.rows_accepted == wide.rows
    if by:
        assert a.labels is not None and b.labels is not None
        pd.testing.assert_frame_equal(a.labels, b.labels)


def test_the_file_is_small_plain_parquet(tmp_path: Path) -> None:
    """What a user sees with pandas alone: the counts, and a list of (le, requests) per row, not
    cumulative, non-zero only; the edges in the metadata."""
    src = tmp_path / "requests.csv"
    pd.DataFrame(
        {
            "timestamp": [
                "2026-03-01T00:00:05Z",
                "2026-03-01T00:00:30Z",
                "2026-03-01T00:00:40Z",
                "2026-03-01T00:01:00Z",
            ],
            "latency_ms": [10, 70, 900, 5],
            "status": [200, 503, 200, 200],
            "journey": ["a", "a", "a", "a"],
        }
    ).to_csv(src, index=False)
    out = ag.aggregate_to_file([src], tmp_path / "t.parquet", edges=EDGES).path
    got = pd.read_parquet(out)
    assert got[["total", "errors"]].to_numpy().tolist() == [[3, 1], [1, 0]]
    assert [list(m) for m in got["buckets"]] == [[(10.0, 1), (100.0, 1), (np.inf, 1)], [(10.0, 1)]]
    meta = json.loads(pq.read_schema(out).metadata[st.META_KEY])
    assert meta == {"layout": "sparse", "version": 1, "edges_ms": list(EDGES)}
    wide = read_parquet_frame(out)
    assert wide[["le_10", "le_50", "le_100", "le_250"]].to_numpy().tolist() == [[1, 1, 2, 2], [1, 1, 1, 1]]


def _write(path: Path, buckets: list[list[tuple[float, int]] | None], total: list[int], **kw: object) -> Path:
    count, item = kw.get("count", pa.uint32()), kw.get("item", kw.get("count", pa.uint32()))
    assert isinstance(count, pa.DataType) and isinstance(item, pa.DataType)
    n = len(total)
    table = pa.table(
        {
            "journey": pa.array(["a"] * n),
            "interval_start": pa.array(pd.date_range("2026-03-01", periods=n, freq="1min", tz="UTC").as_unit("us")),
            "total": pa.array(total, type=count),
            "errors": pa.array([0] * n, type=count),
            "buckets": pa.array(buckets, type=pa.map_(pa.float64(), item)),
        }
    )
    meta = kw.get("meta", {"layout": "sparse", "version": 1, "edges_ms": list(EDGES)})
    if meta is not None:
        table = table.replace_schema_metadata(
            {st.META_KEY: json.dumps(meta).encode() if isinstance(meta, dict) else meta}
        )
    pq.write_table(table, path)
    return path


def test_rows_without_requests(tmp_path: Path) -> None:
    """An empty map (a minute without requests) at the start, in the middle and at the end."""
    buckets: list[list[tuple[float, int]] | None] = [[], [(10.0, 2), (np.inf, 1)], [], [(250.0, 4)], [], []]
    path = _write(tmp_path / "gaps.parquet", buckets, [0, 3, 0, 4, 0, 0])
    got = read_parquet_frame(path)
    assert got[["total", "le_10", "le_250"]].to_numpy().tolist() == [
        [0, 0, 0],
        [3, 2, 2],
        [0, 0, 0],
        [4, 0, 4],
        [0, 0, 0],
        [0, 0, 0],
    ]
    bad = _write(tmp_path / "bad.parquet", buckets, [0, 3, 0, 4, 0, 1])
    with pytest.raises(InputError, match="do not add up.*row 6"):
        read_parquet_frame(bad)


def test_narrow_dtype_as_the_wide_file(tmp_path: Path) -> None:
    """The bucket dtype follows the largest bucket, not the total: 290 of 300 requests above the
    last edge leave uint8 buckets, as the wide file of the same counts gets."""
    path = _write(tmp_path / "tail.parquet", [[(10.0, 10), (np.inf, 290)]], [300])
    sparse = load_telemetry(path).frame
    wide = read_parquet_frame(path)
    wide_file = tmp_path / "wide.parquet"
    wide.to_parquet(wide_file)
    assert sparse["le_10"].dtype == load_telemetry(wide_file).frame["le_10"].dtype == np.uint8
    pd.testing.assert_frame_equal(sparse, load_telemetry(wide_file).frame)


def test_big_counts_and_a_file_without_metadata(tmp_path: Path) -> None:
    big = 5_000_000_000  # above uint32: int64 counts, int64 buckets
    path = _write(tmp_path / "big.parquet", [[(10.0, big), (np.inf, 1)], [(50.0, 2)]], [big + 1, 2], count=pa.int64())
    frame = read_parquet_frame(path, narrow="le_")
    assert frame["le_250"].tolist() == [big, 2] and frame["le_250"].dtype == np.int64
    bare = _write(tmp_path / "bare.parquet", [[(10.0, 1), (np.inf, 1)], [(50.0, 2)]], [2, 2], meta=None)
    got = read_parquet_frame(bare)  # no metadata: the edges are the finite keys used
    assert [c for c in got.columns if c.startswith("le_")] == ["le_10", "le_50"]
    assert got[["le_10", "le_50"]].to_numpy().tolist() == [[1, 1], [0, 2]]


@pytest.mark.parametrize(
    ("buckets", "total", "kw", "message"),
    [
        ([[(10.0, 1)], [(75.0, 1)]], [1, 1], {}, "not one of the file's edges"),
        ([[(10.0, 1)], [(50.0, 1), (50.0, 1)]], [1, 2], {}, "repeated"),
        ([[(50.0, 1), (10.0, 1)]], [2], {}, "repeated"),
        ([[(10.0, 1)], [(10.0, 1)]], [1, 3], {}, "do not add up to total"),
        ([[(10.0, 1)], None], [1, 0], {}, "empty cells in buckets"),
        ([[(10.0, 1)], [(10.0, None)]], [1, 0], {}, "empty cells in buckets"),
        ([[(10.0, -1)]], [0], {"count": pa.int64()}, "a count below 0"),
        ([[(10.0, 2**62), (50.0, 2**62), (np.inf, -(2**63))]], [0], {"count": pa.int64()}, "a count below 0"),
        ([[(10.0, 2**61), (50.0, 2**61)]], [2**61], {"count": pa.int64()}, "total out of range"),
        ([[(10.0, 1), (50.0, 1)]], [3], {}, "do not add up"),
        ([[(10.0, 1.5)]], [1], {"item": pa.float64(), "meta": None}, "counts must be integers"),
        ([[(10.0, 1)]], [1], {"meta": {"layout": "sparse", "version": 2, "edges_ms": [10]}}, "version 2"),
        ([[(10.0, 1)]], [1], {"meta": b"{not json"}, "not valid JSON"),
        ([[(10.0, 1)]], [1], {"meta": {"layout": "sparse", "edges_ms": [50, 10]}}, "ascending positive edges"),
    ],
)
def test_a_damaged_sparse_file_is_a_clear_error(
    tmp_path: Path, buckets: list[list[tuple[float, int]] | None], total: list[int], kw: dict[str, object], message: str
) -> None:
    path = _write(tmp_path / "bad.parquet", buckets, total, **kw)
    with pytest.raises(InputError, match=message) as err:
        load_telemetry(path)
    text = str(err.value)
    assert str(path) in text and "fix:" in text
    if "meta" not in kw:
        assert ("row 2" if len(total) == 2 else "row 1") in text
    r = subprocess.run(
        [sys.executable, "-m", "srekit.cli", "validate", "telemetry", str(path)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert r.returncode == 2 and message.split()[0] in r.stderr + r.stdout
