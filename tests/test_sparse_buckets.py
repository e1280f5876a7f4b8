"""Buckets held sparse in memory (srekit.inputs.buckets, issue 13): a large telemetry file (sparse
layout, or wide with cumulative le_ columns) is loaded with one SparseArray of per-bucket counts
per edge instead of the dense cumulative block,
and every reader gives the same numbers as on the dense frame: the bucket functions, the grids,
the overview, the corrections and a whole ``srekit analyze`` (report.json and rules identical)."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from conftest import SAMPLES
from hypothesis import given, settings
from hypothesis import strategies as st_

from srekit.analysis import overview
from srekit.analysis.breakdown import break_down
from srekit.analysis.slo.grid import GridSettings, LazyBuckets, journey_grid, journey_grids
from srekit.cli import main
from srekit.core.errors import InputError
from srekit.core.spec import SLOSpec
from srekit.inputs import buckets as bk
from srekit.inputs import sparse_telemetry as st
from srekit.inputs import telemetry as tm
from srekit.inputs.loaders import load_telemetry

EDGES = (10.0, 25.0, 50.0, 100.0, 250.0)


def _dense(seed: int, journeys: int = 3, minutes: int = 300, gaps: bool = True) -> pd.DataFrame:
    """Canonical telemetry with gaps (unless not ``gaps``), quiet minutes and requests above the
    last edge."""
    rng = np.random.default_rng(seed)
    start = pd.Timestamp("2026-03-01", tz="UTC")
    parts = []
    for j in range(journeys):
        keep = np.sort(rng.choice(minutes, size=minutes * 2 // 3, replace=False)) if gaps else np.arange(minutes)
        per = rng.poisson(rng.uniform(0, 4, len(EDGES) + 1), size=(len(keep), len(EDGES) + 1))
        per[rng.random(len(keep)) < 0.2] = 0  # minutes without requests
        total = per.sum(axis=1)
        frame = pd.DataFrame(
            {
                "journey": f"j{j}",
                "interval_start": start + pd.to_timedelta(keep, unit="min"),
                "total": total,
                "errors": rng.binomial(total, 0.1),
            }
        )
        for k, e in enumerate(EDGES):
            frame[tm.edge_label(e)] = per[:, : k + 1].sum(axis=1)
        parts.append(frame)
    return tm.canonical(pd.concat(parts, ignore_index=True))


def _sparse(dense: pd.DataFrame) -> pd.DataFrame:
    """``dense`` with its buckets as the loader holds a large sparse file's."""
    les = tm.le_columns(dense)
    cum = dense[les].to_numpy(np.int64)
    per = np.diff(np.concatenate([np.zeros((len(dense), 1), np.int64), cum], axis=1), axis=1)
    columns = {}
    for k, le in enumerate(les):
        rows = np.flatnonzero(per[:, k])
        columns[bk.name(le)] = bk.sparse_column(len(dense), rows, per[rows, k].astype(np.uint16))
    return tm.compact(pd.concat([dense.drop(columns=les), pd.DataFrame(columns)], axis=1))


def write_sparse(frame: pd.DataFrame, path: Path, row_group_size: int = 50_000) -> None:
    """``frame`` (wide, canonical) written in the sparse layout, as ``srekit aggregate`` writes it."""
    les, edges = tm.le_columns(frame), tm.edges_of(frame)
    cum = frame[les].to_numpy(np.int64)
    total = frame["total"].to_numpy(np.int64)
    per = np.diff(np.concatenate([np.zeros((len(frame), 1), np.int64), cum, total[:, None]], axis=1), axis=1)
    rows, slots = np.nonzero(per)  # by row, then slot
    buckets = st.buckets_array(rows, slots, per[rows, slots], len(frame), np.r_[edges, np.inf])
    keys = [c for c in frame.columns if c not in les and c not in tm.COUNTS]
    schema = st.schema(pa.Schema.from_pandas(frame[keys + tm.COUNTS], preserve_index=False), edges, pa.int64())
    arrays = [pa.array(frame[c]) for c in keys] + [pa.array(total), pa.array(frame["errors"].to_numpy(np.int64))]
    table = pa.Table.from_arrays([*arrays, buckets], schema=schema.remove_metadata())
    pq.write_table(table.replace_schema_metadata(schema.metadata), path, row_group_size=row_group_size)


def _write(frame: pd.DataFrame, path: Path, layout: str) -> None:
    """``frame`` written in the sparse layout, or wide as pandas writes it."""
    if layout == "sparse":
        write_sparse(frame, path)
    else:
        frame.to_parquet(path, index=False)


@pytest.fixture
def always_sparse(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(bk, "DENSE_BELOW", 0)
    monkeypatch.setattr(bk, "SPARSE_SHARE", float("inf"))


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_every_bucket_reader_gives_the_dense_numbers(seed: int) -> None:
    dense = tm.compact(_dense(seed))
    sparse = _sparse(dense)
    les = tm.le_columns(dense)
    assert bk.is_sparse(sparse) and tm.bucket_names(sparse) == les and tm.edges_of(sparse).tolist() == list(EDGES)
    block = dense[les].to_numpy(np.int64)
    rng = np.random.default_rng(seed)
    mask = rng.random(len(dense)) < 0.3
    shuffled = rng.permutation(len(dense))[:50]
    repeated = np.array([5, 5, 3, -1, 0, 5])  # repeated and from the end, as iloc takes them
    for rows in (slice(None), slice(10, 140), mask, np.flatnonzero(mask), shuffled, repeated, np.zeros(0, np.int64)):
        np.testing.assert_array_equal(tm.bucket_block(sparse, rows).astype(np.int64), block[rows])
        for k in range(len(les)):
            np.testing.assert_array_equal(bk.at(sparse, k, rows), block[rows, k])
    for kind, threshold in (("availability", None), ("latency", 30.0), ("latency", 250.0)):
        np.testing.assert_array_equal(tm.bad_counts(sparse, kind, threshold), tm.bad_counts(dense, kind, threshold))
        np.testing.assert_array_equal(
            tm.bad_counts(sparse, kind, threshold, mask), tm.bad_counts(dense, kind, threshold, mask)
        )
    pd.testing.assert_frame_equal(tm.dense(sparse), dense)
    for a, b in ((0, len(dense)), (13, 200), (40, 40), (len(dense) - 5, len(dense))):
        part = bk.sliced(sparse, a, b)
        assert bk.is_sparse(part)
        pd.testing.assert_frame_equal(tm.dense(part), tm.compact(dense.iloc[a:b]), check_categorical=False)
    pd.testing.assert_frame_equal(tm.journey_sums(sparse, ["total", *les]), tm.journey_sums(dense, ["total", *les]))
    pd.testing.assert_frame_equal(overview.traffic_mix(sparse), overview.traffic_mix(dense))
    pd.testing.assert_frame_equal(overview.golden_signals(sparse), overview.golden_signals(dense))
    starts = np.array([0, 7, 7, 100, len(dense) - 1])
    np.testing.assert_array_equal(
        bk.run_sums(sparse, starts),
        np.add.reduceat(block, starts, axis=0) * (np.diff(np.r_[starts, len(dense)]) > 0)[:, None],
    )
    np.testing.assert_array_equal(bk.row_sums(sparse), block[:, -1])
    cleared = bk.cleared(sparse, mask)
    np.testing.assert_array_equal(
        tm.bucket_block(cleared, slice(None)).astype(np.int64), np.where(mask[:, None], 0, block)
    )
    tm.check(sparse)


@pytest.mark.parametrize("gaps", [True, False])  # a grid placed from its rows, or its rows themselves
def test_journey_grids_are_made_when_read_and_equal(always_sparse: None, gaps: bool) -> None:
    dense = tm.compact(_dense(4, gaps=gaps))
    sparse = _sparse(dense)
    settings = GridSettings()
    a, b = journey_grids(sparse, settings), journey_grids(dense, settings)
    assert a.keys() == b.keys()
    for name in a:
        assert isinstance(a[name].buckets, LazyBuckets)  # no dense block kept per journey
        np.testing.assert_array_equal(a[name].le.astype(np.int64), b[name].le.astype(np.int64))
        for sli, t in (("availability", None), ("latency", 50.0)):
            pd.testing.assert_frame_equal(a[name].events(sli, t), b[name].events(sli, t), check_dtype=False)
            one, other = journey_grid(sparse, name, sli, t), journey_grid(dense, name, sli, t)
            assert one is not None and other is not None
            np.testing.assert_array_equal(one.le.astype(np.int64), other.le.astype(np.int64))
        for freq in ("D", "h"):
            x, y = a[name].blocks(freq), b[name].blocks(freq)
            np.testing.assert_array_equal(x.le, y.le)
            np.testing.assert_array_equal(x.total, y.total)
        end = a[name].index[-1] + pd.Timedelta(days=5)
        longer = a[name].extended(end)
        assert isinstance(longer.buckets, LazyBuckets)  # still made when read
        np.testing.assert_array_equal(longer.le, b[name].extended(end).le)
        np.testing.assert_array_equal(longer.le_column(2), b[name].extended(end).le[:, 2])
        pd.testing.assert_frame_equal(longer.events("latency", 50.0), b[name].extended(end).events("latency", 50.0))


def test_a_check_finds_buckets_above_total() -> None:
    sparse = _sparse(tm.compact(_dense(5)))
    total = sparse["total"].to_numpy().copy()
    row = int(np.flatnonzero(total > 0)[0])
    total[row] = 0
    with pytest.raises(InputError, match="add up to more than total") as exc:
        tm.check(sparse.assign(total=total, errors=np.minimum(sparse["errors"].to_numpy(), total)), source="t.parquet")
    assert f"{row + 1}" in str(exc.value)


def _load_dense(path: Path) -> pd.DataFrame:
    """The frame the loader holds with the buckets dense (a file too small to hold sparse)."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(bk, "DENSE_BELOW", 1 << 62)
        frame = load_telemetry(path).frame
    assert not bk.is_sparse(frame)
    return frame


def test_a_large_sparse_file_loads_sparse_and_reads_as_the_wide_one(tmp_path: Path, always_sparse: None) -> None:
    dense = _dense(6)
    dense.to_parquet(tmp_path / "wide.parquet", index=False)
    write_sparse(dense, tmp_path / "sparse.parquet", row_group_size=97)  # journeys split across row groups
    wide, held = _load_dense(tmp_path / "wide.parquet"), load_telemetry(tmp_path / "sparse.parquet")
    assert bk.is_sparse(held.frame) and isinstance(held.frame[bk.columns(held.frame)[0]].dtype, pd.SparseDtype)
    pd.testing.assert_frame_equal(tm.dense(held.frame), wide)
    tm.check(held.frame)
    assert held.entry.rows_accepted == len(dense)
    # an unsorted sparse file is put in order as the wide one is, its buckets still sparse (made
    # dense and int64 to be sorted, a shuffled 20-journey × 90-day × 140-edge file held 7.2 GB)
    shuffled = dense.sample(frac=1.0, random_state=1).reset_index(drop=True)
    write_sparse(shuffled, tmp_path / "shuffled.parquet")
    got = load_telemetry(tmp_path / "shuffled.parquet")
    assert bk.is_sparse(got.frame) and not got.entry.notes
    pd.testing.assert_frame_equal(tm.dense(got.frame), wide)
    tm.check(got.frame)
    shuffled.to_parquet(tmp_path / "shuffled_wide.parquet", index=False)  # the wide file shuffled
    got = load_telemetry(tmp_path / "shuffled_wide.parquet")
    assert bk.is_sparse(got.frame)
    pd.testing.assert_frame_equal(tm.dense(got.frame), wide)


@pytest.mark.parametrize("entries", [1 << 21, 7])  # the whole map at once, or a row or two at a time
@pytest.mark.parametrize("metadata", [True, False])  # edges from the metadata, or from the keys
def test_a_sparse_file_is_decoded_a_few_entries_at_a_time(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, entries: int, metadata: bool
) -> None:
    """The buckets map is decoded about ``_MAP_ENTRIES`` entries at a time, not a row group at a
    time (a 1 Mi-row group of a 140-edge file held 2.5 GB): the same frame, held sparse or dense,
    and a bad row named by its file row however the batches fall."""
    monkeypatch.setattr(st, "_MAP_ENTRIES", entries)
    monkeypatch.setattr(st, "_MAP_MIN_ROWS", 1)
    batches: list[int] = []
    real = pq.ParquetFile.iter_batches

    def counted(self: pq.ParquetFile, *args: object, **kw: object):  # type: ignore[no-untyped-def]
        for batch in real(self, *args, **kw):  # type: ignore[arg-type]
            batches.append(batch.num_rows)
            yield batch

    monkeypatch.setattr(pq.ParquetFile, "iter_batches", counted)

    def written(frame: pd.DataFrame, path: Path) -> Path:
        write_sparse(frame, path, row_group_size=10**6)
        if not metadata:
            pq.write_table(pq.read_table(path).replace_schema_metadata(None), path)
        return path

    dense = _dense(8)
    one = written(dense, tmp_path / "one_group.parquet")
    wide = tm.canonical(dense)
    pd.testing.assert_frame_equal(_load_dense(one), _load_dense_of(wide))
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(bk, "DENSE_BELOW", 0)
        patch.setattr(bk, "SPARSE_SHARE", float("inf"))
        held = load_telemetry(one).frame
    assert bk.is_sparse(held)
    pd.testing.assert_frame_equal(tm.dense(held), _load_dense_of(wide))
    assert (len(batches) > 100) == (entries == 7)  # a row or two at a time, or all at once
    bad = dense.copy()
    les = tm.le_columns(bad)
    bad.loc[400, les[1]] = bad.loc[400, les[0]] - 1  # a bucket of -1 requests in the map
    with pytest.raises(InputError, match="a count below 0") as err:
        load_telemetry(written(bad, tmp_path / "bad.parquet"))
    assert "401" in str(err.value) and "400" not in str(err.value)


def _load_dense_of(frame: pd.DataFrame) -> pd.DataFrame:
    """What the loader holds for ``frame`` written wide (dense buckets)."""
    with tempfile.TemporaryDirectory() as d:
        frame.to_parquet(Path(d) / "wide.parquet", index=False)
        return _load_dense(Path(d) / "wide.parquet")


@settings(max_examples=40, deadline=None)
@given(seed=st_.integers(0, 2**32 - 1), journeys=st_.integers(1, 4))
def test_rows_taken_in_any_order_keep_their_sparse_buckets(seed: int, journeys: int) -> None:
    """``buckets.taken``: a sparse frame's rows in a new order, the buckets moved by their
    entries, are the dense frame's rows in that order."""
    dense = _dense(seed, journeys=journeys, minutes=60)
    order = np.random.default_rng(seed).permutation(len(dense))
    got = bk.taken(_sparse(dense), order)
    assert bk.is_sparse(got) and list(got.columns) == list(_sparse(dense).columns)
    want = tm.compact(dense.take(order).reset_index(drop=True))
    pd.testing.assert_frame_equal(tm.dense(got), tm.dense(want), check_categorical=False)


@pytest.mark.parametrize("block", [1 << 20, 64])  # one block of rows, or many (with journeys across them)
def test_a_large_wide_file_is_read_into_sparse_buckets(
    tmp_path: Path, always_sparse: None, monkeypatch: pytest.MonkeyPatch, block: int
) -> None:
    """A wide file's cumulative le_ columns are read block by block into the sparse form: the
    same numbers, notes and accepted rows as read dense, its le_+Inf column dropped as before."""
    monkeypatch.setattr(st, "_BLOCK_BYTES", block)
    dense = _dense(9, minutes=3000)  # 6,000 rows: six blocks of 1,024 rows with the smaller block
    dense.insert(4, "LE_+Inf", dense["total"])  # a Prometheus export's last bucket, read as one
    path = tmp_path / "wide.parquet"
    dense.to_parquet(path, index=False)
    held = load_telemetry(path)
    assert bk.is_sparse(held.frame)
    pd.testing.assert_frame_equal(tm.dense(held.frame), _load_dense(path))
    assert held.entry.notes["le_inf_column_dropped"] == 1
    assert held.entry.rows_accepted == len(dense) and not held.entry.rejected
    tm.check(held.frame)


@pytest.mark.parametrize(
    ("column", "reason"), [("le_25", "buckets not cumulative"), ("le_250", "bucket exceeds total")]
)
def test_a_wide_file_with_bad_bucket_rows_is_read_dense_and_quarantines_them(
    tmp_path: Path, always_sparse: None, monkeypatch: pytest.MonkeyPatch, column: str, reason: str
) -> None:
    """A row the loader rejects for its buckets makes the file read dense: the row quarantined
    with its cumulative counts as written, the other rows as before (the row in the last of
    several blocks of rows)."""
    monkeypatch.setattr(st, "_BLOCK_BYTES", 64)
    dense = _dense(10, minutes=3000)
    row = int(np.flatnonzero(dense["le_10"] > 0)[-1])
    bad = dense["le_10"].iloc[row] - 1 if column == "le_25" else dense["total"].iloc[row] + 1
    dense.loc[row, column] = bad
    path = tmp_path / "wide.parquet"
    dense.to_parquet(path, index=False)
    got = load_telemetry(path)
    assert not bk.is_sparse(got.frame)
    assert got.entry.rows_accepted == len(dense) - 1 and dict(got.entry.rejected) == {reason: 1}
    assert got.rejects["row"].tolist() == [row + 1] and got.rejects[column].tolist() == [bad]


@pytest.mark.parametrize("case", ["float column", "malformed name", "two names for one edge", "own in_le_ column"])
def test_a_wide_file_whose_le_columns_are_not_all_held_sparse_reads_as_dense(
    tmp_path: Path, always_sparse: None, case: str
) -> None:
    """Bucket columns outside the reader's typed block, or named so that the loader must say
    something, keep the file dense: the same rejects, errors and frame as read dense (a sparse
    read had dropped a float le_50 column, with its edge, without a word)."""
    dense = _dense(11)
    if case == "float column":
        dense["le_50"] = dense["le_50"].astype("float64")
        dense.loc[5, "le_50"] = np.nan
    elif case == "malformed name":
        dense["le_x"] = 0
    elif case == "two names for one edge":
        dense["LE_50.0"] = dense["le_50"]
    else:
        dense["in_le_10"] = dense["le_10"]
    path = tmp_path / "w.parquet"
    dense.to_parquet(path, index=False)
    try:
        want: object = _load_dense(path)
    except InputError as exc:
        want = str(exc)
    try:
        got = load_telemetry(path)
    except InputError as exc:
        assert str(exc) == want
        return
    assert not bk.is_sparse(got.frame)
    assert isinstance(want, pd.DataFrame)
    pd.testing.assert_frame_equal(got.frame, want)
    if case == "float column":
        assert dict(got.entry.rejected) == {"missing le_50": 1}


def test_a_wide_file_checks_its_buckets_against_the_mapped_total(tmp_path: Path, always_sparse: None) -> None:
    """With ``total`` mapped to another column, a row whose last bucket exceeds that column is
    rejected, whatever the file's own ``total`` column holds."""
    dense = _dense(12).rename(columns={"total": "requests"})
    dense["total"] = dense["requests"] + 100  # an unrelated column of that name
    row = int(np.flatnonzero(dense["le_250"] > 0)[0])
    dense.loc[row, "requests"] = dense.loc[row, "le_250"] - 1
    dense.loc[row, "errors"] = 0
    path = tmp_path / "w.parquet"
    dense.to_parquet(path, index=False)
    got = load_telemetry(path, columns={"total": "requests"})
    assert dict(got.entry.rejected) == {"bucket exceeds total": 1}
    assert got.rejects["row"].tolist() == [row + 1]
    tm.check(got.frame)


def test_a_sparse_file_written_from_a_slice_keeps_its_rows_together(tmp_path: Path) -> None:
    """A stored RangeIndex starting past 0 (the metadata of a frame written from a slice) does
    not shift the key columns against the counts."""
    dense = _dense(13)
    path = tmp_path / "s.parquet"
    write_sparse(dense, path)
    buckets = pq.read_table(path)
    sliced = dense.set_axis(pd.RangeIndex(5, 5 + len(dense)))[["journey", "interval_start", "total", "errors"]]
    table = pa.Table.from_pandas(sliced).append_column(st.BUCKETS, buckets.column(st.BUCKETS))
    assert b"range" in table.schema.metadata[b"pandas"] and b'"start": 5' in table.schema.metadata[b"pandas"]
    meta = {**table.schema.metadata, st.META_KEY: buckets.schema.metadata[st.META_KEY]}
    pq.write_table(table.replace_schema_metadata(meta), path)
    got = load_telemetry(path).frame
    np.testing.assert_array_equal(got["total"].to_numpy(), dense["total"].to_numpy())
    assert len(got) == len(dense)


def test_a_wide_file_written_from_a_slice_is_held_sparse_on_its_rows(tmp_path: Path, always_sparse: None) -> None:
    """The sparse columns of a wide file take the index its other columns are read on (a frame
    written from a slice stores one starting past 0): the same frame as read dense."""
    path = tmp_path / "w.parquet"
    _dense(3).iloc[5:].to_parquet(path)
    got = load_telemetry(path).frame
    assert bk.is_sparse(got)
    pd.testing.assert_frame_equal(tm.dense(got), _load_dense(path))


@pytest.mark.parametrize("busy_first", [True, False])
def test_entries_bunched_at_the_start_give_up_early_with_the_same_numbers(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, busy_first: bool
) -> None:
    """Entries within the share (3,441 of 4,096) but all in the first rows: past a quarter of
    the rows their pace is above the share, so the file is read dense; the same rows last are
    held sparse. Either way the numbers are those of the dense read."""
    monkeypatch.setattr(bk, "DENSE_BELOW", 0)
    monkeypatch.setattr(bk, "SPARSE_SHARE", 0.5)
    monkeypatch.setattr(st, "_BLOCK_BYTES", 64)  # blocks of 1,024 rows
    n, busy = 8192, 1147
    per = np.zeros((n, len(EDGES)), np.int64)
    per[:busy, [0, 2, 4]] = 1
    per = per if busy_first else per[::-1]
    frame = pd.DataFrame(
        {
            "journey": "j",
            "interval_start": pd.date_range("2026-03-01", periods=n, freq="min", tz="UTC"),
            "total": per.sum(axis=1),
            "errors": 0,
            **{tm.edge_label(e): per[:, : k + 1].sum(axis=1) for k, e in enumerate(EDGES)},
        }
    )
    path = tmp_path / "w.parquet"
    frame.to_parquet(path, index=False)
    got = load_telemetry(path).frame
    assert bk.is_sparse(got) == (not busy_first)
    pd.testing.assert_frame_equal(tm.dense(got), _load_dense(path))


def test_le_columns_beside_the_buckets_map_are_refused(tmp_path: Path) -> None:
    """Held dense or sparse, the same answer: which of them holds the requests is unknowable."""
    path = tmp_path / "s.parquet"
    write_sparse(_dense(8), path)
    table = pq.read_table(path)
    pq.write_table(table.add_column(2, "le_999", pa.array(np.zeros(len(table), np.int64))), path)
    with pytest.raises(InputError, match="le_ columns beside the buckets map") as exc:
        load_telemetry(path)
    assert "le_999" in str(exc.value) and "fix:" in str(exc.value)


def test_small_or_busy_files_stay_dense(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    dense = _dense(7)
    write_sparse(dense, tmp_path / "s.parquet")
    assert not bk.is_sparse(load_telemetry(tmp_path / "s.parquet").frame)  # below DENSE_BELOW
    monkeypatch.setattr(bk, "DENSE_BELOW", 0)
    monkeypatch.setattr(bk, "SPARSE_SHARE", 0.01)  # the entries would not save enough
    assert not bk.is_sparse(load_telemetry(tmp_path / "s.parquet").frame)
    monkeypatch.setattr(bk, "SPARSE_SHARE", 10.0)  # uint8 counts: 5 bytes an entry against 1 a dense cell
    assert bk.is_sparse(load_telemetry(tmp_path / "s.parquet").frame)
    dense.to_parquet(tmp_path / "w.parquet", index=False)  # a wide file: the same choice, made as it is read
    assert bk.is_sparse(load_telemetry(tmp_path / "w.parquet").frame)
    monkeypatch.setattr(bk, "SPARSE_SHARE", 0.01)
    assert not bk.is_sparse(load_telemetry(tmp_path / "w.parquet").frame)
    monkeypatch.setattr(bk, "SPARSE_SHARE", 10.0)
    dense.rename(columns={"le_25": "le_25.0"}).assign(le_25=dense["le_25"]).to_parquet(tmp_path / "w.parquet")
    with pytest.raises(InputError, match="2 bucket columns for the same edge 25 ms"):  # named wrong: read dense
        load_telemetry(tmp_path / "w.parquet")


@pytest.mark.slow
@pytest.mark.parametrize("labelled", [False, True])
def test_analyze_on_sparse_buckets_writes_the_same_report(
    tmp_path: Path, always_sparse: None, monkeypatch: pytest.MonkeyPatch, labelled: bool
) -> None:
    """The samples (with their corrections, incidents and series) as a wide file held dense, the
    same file held sparse, and a sparse-layout file held sparse: report.json (each SLO's
    breakdown by region included, when the file keeps it), the rules and the dashboards are
    identical."""
    telemetry = pd.read_parquet(SAMPLES / "telemetry.parquet")  # labelled by region
    if not labelled:
        telemetry = tm.merge([telemetry])  # the region label summed away
    outs = {}
    for run, layout in (("dense", "wide"), ("wide", "wide"), ("sparse", "sparse")):
        data = tmp_path / run
        shutil.copytree(SAMPLES, data)
        if layout == "wide":
            telemetry.to_parquet(data / "telemetry.parquet", index=False)
        else:
            write_sparse(telemetry, data / "telemetry.parquet")
        monkeypatch.setattr(bk, "DENSE_BELOW", 1 << 62 if run == "dense" else 0)
        assert bk.is_sparse(load_telemetry(data / "telemetry.parquet").frame) == (run != "dense")
        outs[run] = tmp_path / f"out-{run}"
        assert main(["analyze", "--config", str(data / "service.yaml"), "--out", str(outs[run])]) == 0
        policy = json.loads((outs[run] / "report.json").read_text(encoding="utf-8"))["error_budget_policy"]
        assert "error" not in policy and bool(policy["breakdown"]) == labelled, run

    def report(out: Path, run: str) -> str:  # the folder's name and the time of the run aside
        doc = json.loads((out / "report.json").read_text(encoding="utf-8"))
        del doc["meta"]["generated_at"]
        return json.dumps(doc, sort_keys=True).replace(str(out.parent / run), str(out.parent / "dense"))

    files = sorted(p.relative_to(outs["dense"]) for p in outs["dense"].rglob("*") if p.is_file())
    for run in ("wide", "sparse"):
        assert report(outs[run], run) == report(outs["dense"], "dense"), run
        assert files == sorted(p.relative_to(outs[run]) for p in outs[run].rglob("*") if p.is_file())
        for name in files:
            if name.suffix not in (".json", ".md"):
                assert (outs[run] / name).read_bytes() == (outs["dense"] / name).read_bytes(), (run, name)


def test_the_report_kernels_preload_imports_no_scipy() -> None:
    """The notebooks only unpickle results (srekit.report.kernels.PRELOAD): the bucket module
    imports scipy when it builds a column, not when telemetry is imported."""
    code = (
        "import importlib, sys\n"
        "from srekit.report.kernels import PRELOAD\n"
        "[importlib.import_module(m) for m in PRELOAD if m.startswith('srekit')]\n"
        "print('scipy' in sys.modules)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0 and done.stdout.strip() == "False", done.stderr[-2000:]


@settings(max_examples=80, deadline=None)
@given(
    seed=st_.integers(0, 2**32 - 1),
    shape=st_.sampled_from(["grid", "spread", "huge"]),
    categorical=st_.booleans(),
    repeat=st_.booleans(),
    labels=st_.integers(0, 2),
)
def test_the_key_order_sorts_by_journey_name_then_time_and_counts_repeats(
    seed: int, shape: str, categorical: bool, repeat: bool, labels: int
) -> None:
    """The loader's order of a shuffled frame, whichever way it is found — counting over a small
    (series, interval) grid, one sort of a combined key, or a sort by both keys when they do
    not fit one int64 —: rows by journey name (not category code), then each label's value,
    then time, and where each distinct key starts when some repeat (as many repeats as
    ``duplicated().sum()`` counts)."""
    rng = np.random.default_rng(seed)
    n = 40
    names = np.array(["b", "a", "é", "c"] if shape != "huge" else [f"j{k:04d}" for k in range(4000)][::-1])
    pick = rng.choice([0, len(names) - 1, 1], n)
    if shape == "grid":  # minutes of one day
        us = rng.integers(0, 1440, n) * 60_000_000
    elif shape == "spread":  # seconds over ten years: a grid far larger than the rows
        us = rng.integers(0, 10 * 365 * 86_400, n) * 1_000_000
    else:  # microseconds over 95 years and 4,000 journeys: 2**63 cells and more
        us = np.r_[0, 95 * 365 * 86_400 * 10**6 + 1, rng.integers(0, 95 * 365 * 86_400 * 10**6, n - 2)]
    values = [rng.choice(["z", "eu", "ap", "é"], n) for _ in range(labels)]
    if repeat:
        pick[-1], us[-1] = pick[0], us[0]
        for v in values:
            v[-1] = v[0]
    journey = pd.Series(names[pick], dtype="str")
    frame = pd.DataFrame(
        {
            "journey": journey.astype(pd.CategoricalDtype(pd.Index(names, dtype="str"))) if categorical else journey,
            **{f"l{k}": pd.Series(v, dtype="str") for k, v in enumerate(values)},
            "interval_start": pd.Timestamp("1990-01-01", tz="UTC") + pd.to_timedelta(us, unit="us"),
        }
    )
    series = ["journey", *(f"l{k}" for k in range(labels))]
    order, starts = tm.key_order(frame, series)
    dup = 0 if starts is None else n - len(starts)
    assert dup == int(frame.duplicated([*series, "interval_start"]).sum())
    got = frame.take(order)
    keys = list(zip(*(got[c].astype(str) for c in series), got["interval_start"], strict=True))
    assert keys == sorted(keys) and sorted(order.tolist()) == list(range(n))
    if starts is not None:  # where each distinct key starts
        assert starts.tolist() == [k for k in range(n) if k == 0 or keys[k] != keys[k - 1]]


@pytest.mark.parametrize("layout", ["sparse", "wide"])
def test_repeated_keys_are_summed_as_held(tmp_path: Path, always_sparse: None, layout: str) -> None:
    """A large file with repeated (journey, interval) keys, shuffled (two overlapping exports):
    the repeats' counts summed by their sparse entries, the buckets never made dense (that held
    7.4 GB for 1,000 repeated rows of a 20-journey × 90-day × 140-edge file), and the frame the
    merge of the dense rows gives, counts near a small dtype's top included."""
    dense = _dense(5)
    dense.loc[3, ["total", *tm.le_columns(dense)]] = 250  # repeated 3 times: 750 > 255 (uint8)
    dense.loc[3, "errors"] = 0
    again = dense.iloc[[3, 3, 10, 20, 20]]
    both = pd.concat([dense, again], ignore_index=True).sample(frac=1.0, random_state=4).reset_index(drop=True)
    path = tmp_path / "repeats.parquet"
    _write(both, path, layout)
    got = load_telemetry(path)
    assert bk.is_sparse(got.frame) and got.entry.notes["duplicate_intervals_merged"] == 5
    want = tm.merge([both])
    pd.testing.assert_frame_equal(tm.dense(got.frame), tm.compact(want), check_dtype=False)
    assert got.frame.loc[got.frame["total"] == 750].shape[0] == 1
    tm.check(got.frame)


def _load_labelled_dense(path: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(frame, labels) the loader holds for a labelled file with its buckets dense."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(bk, "DENSE_BELOW", 1 << 62)
        got = load_telemetry(path)
    assert got.labels is not None and not bk.is_sparse(got.labels)
    return got.frame, got.labels


@pytest.mark.parametrize("layout", ["sparse", "wide"])
def test_a_labelled_file_is_sorted_and_summed_as_held(tmp_path: Path, always_sparse: None, layout: str) -> None:
    """A large labelled file (``srekit aggregate --by region``), shuffled and with repeated
    (journey, region, interval) keys: the labelled frame and its sum per (journey, interval)
    both held sparse (a labelled 5-journey × 4-region × 90-day × 140-edge file took `srekit
    analyze` to 3.3 GB made dense), with the dense frames' numbers and breakdown."""
    dense = _dense(11, journeys=2, minutes=200)
    regions = ["us-east-1", "eu-west-1", "ap-south-1"]  # each its own requests above the last edge:
    labelled = pd.concat([dense.assign(region=r, total=dense["total"] + k) for k, r in enumerate(regions)])
    labelled = labelled[["journey", "region", *[c for c in labelled.columns if c not in ("journey", "region")]]]
    again = labelled.iloc[[0, 5, 5, 300]]
    both = pd.concat([labelled, again], ignore_index=True).sample(frac=1.0, random_state=3).reset_index(drop=True)
    both["journey"] = both["journey"].astype(str)
    path = tmp_path / "labelled.parquet"
    _write(both, path, layout)
    got = load_telemetry(path)
    assert got.labels is not None and bk.is_sparse(got.labels) and bk.is_sparse(got.frame)
    assert got.entry.notes["duplicate_intervals_merged"] == 4
    want_frame, want_labels = _load_labelled_dense(path)
    pd.testing.assert_frame_equal(tm.dense(got.frame), want_frame, check_dtype=False)
    shown = tm.dense(got.labels).astype({"journey": "str"})
    pd.testing.assert_frame_equal(shown, want_labels, check_dtype=False)
    assert list(got.labels.columns[:3]) == ["journey", "region", "interval_start"]
    tm.check(got.frame)
    spec = SLOSpec("j1-latency", "j1", "latency", 0.99, threshold_ms=25.0)
    window = (pd.Timestamp("2026-03-01 01:00", tz="UTC"), pd.Timestamp("2026-03-01 03:00", tz="UTC"))
    end = pd.Timestamp("2026-03-01 04:00", tz="UTC")
    held = break_down(got.labels, spec, window=window, end=end)
    assert held and held == break_down(want_labels, spec, window=window, end=end)
    assert sum(v.bad_events for v in held[0].values) == held[0].bad_events > 0


def test_a_request_log_in_service_yaml_is_held_as_its_aggregate_file(tmp_path: Path, always_sparse: None) -> None:
    """``data.requests`` is held as the file ``srekit aggregate`` writes would be loaded: its
    buckets sparse when large (the whole aggregate as a dense int64 frame took `srekit analyze`
    on 10 M requests over 90 days to 7.8 GB), the same numbers, every ``requests_by`` label kept
    as it is (a label of numbers too: reading the file back as a user's telemetry would take it
    for an exported index and drop it), the aggregate's ledger entry."""
    from srekit.inputs.aggregate import aggregate_files
    from srekit.inputs.config import load_config
    from srekit.inputs.loaders import load_inputs

    log = pd.read_csv(SAMPLES / "requests_1d.csv.gz")
    log["shard"] = np.arange(len(log)) % 3 + 1
    path = tmp_path / "requests.csv"
    log.to_csv(path, index=False)
    config = tmp_path / "service.yaml"
    config.write_text(f"service: shop\ndata:\n  requests: {path}\n  requests_by: [region, shard]\n", encoding="utf-8")
    inputs = load_inputs(load_config(config))
    assert inputs.telemetry is not None and inputs.labels is not None
    assert bk.is_sparse(inputs.telemetry) and bk.is_sparse(inputs.labels)
    assert tm.label_columns(inputs.labels) == ["region", "shard"]
    assert sorted(inputs.labels["shard"].astype(str).unique()) == ["1", "2", "3"]
    frame, entry = aggregate_files([path], by=("region", "shard"))
    plain, labelled = tm.split_labels(frame)
    assert labelled is not None
    text = {c: "str" for c in ["journey", "region", "shard"]}
    pd.testing.assert_frame_equal(tm.dense(inputs.telemetry).astype({"journey": "str"}), plain, check_dtype=False)
    pd.testing.assert_frame_equal(tm.dense(inputs.labels).astype(text), labelled, check_dtype=False)
    assert inputs.ledger[0] == entry
