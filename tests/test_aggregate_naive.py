"""The aggregate against a naive pandas groupby, on shuffled, duplicated and gappy request logs
(issue 13): every streaming path of the reduction — batches counted densely or by sorting,
partial counts merged, journeys renumbered, the output written in chunks of rows — must give
exactly what one ``groupby`` over all rows gives."""

from __future__ import annotations

from collections import Counter
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from srekit.inputs import aggregate as ag
from srekit.inputs import telemetry as tm
from srekit.inputs.parquet_frame import read_parquet_frame

EDGES = (1.0, 2.5, 10.0, 100.0, 1000.0)
T0 = pd.Timestamp("2026-01-01T00:00:00Z")
#: Clusters of traffic far apart (minutes, days, a year): long empty runs between them.
CLUSTERS_US = (0, 90 * 10**6, 3 * 86_400 * 10**6, 35 * 86_400 * 10**6, 365 * 86_400 * 10**6)

request = st.tuples(
    st.sampled_from(CLUSTERS_US),
    st.integers(min_value=0, max_value=20 * 60 * 10**6),  # within 20 minutes of the cluster start
    st.one_of(st.sampled_from([0.0, *EDGES, 5000.0]), st.floats(min_value=0, max_value=2000, allow_nan=False)),
    st.booleans(),
    st.sampled_from(["checkout", "search", "b", "a", "é", "z z"]),
)


def naive(req: pd.DataFrame, interval: pd.Timedelta) -> pd.DataFrame:
    """The reference: one pandas groupby over every row."""
    df = req.assign(interval_start=req["timestamp"].dt.floor(interval))
    for e in EDGES:
        df[tm.edge_label(e)] = (df["latency_ms"] <= e).astype(np.int64)
    df["total"] = 1
    df["errors"] = df["error"].astype(np.int64)
    out = df.groupby(["journey", "interval_start"], as_index=False)[
        ["total", "errors", *(tm.edge_label(e) for e in EDGES)]
    ].sum()
    return tm.canonical(out)


def log(rows: list[tuple[int, int, float, bool, str]], copies: int, seed: int) -> pd.DataFrame:
    """Request rows, each repeated ``copies`` times, in an order drawn from ``seed``."""
    base, off, lat, err, journey = (list(c) for c in zip(*rows, strict=True))
    us = np.asarray(base, dtype=np.int64) + np.asarray(off, dtype=np.int64)
    req = pd.DataFrame(
        {
            "timestamp": (T0 + pd.to_timedelta(us, unit="us")).astype("datetime64[us, UTC]"),
            "latency_ms": np.asarray(lat, dtype=float),
            "error": np.asarray(err, dtype=bool),
            "journey": pd.array(journey, dtype="str"),
        }
    )
    req = pd.concat([req] * copies, ignore_index=True)
    return req.iloc[np.random.default_rng(seed).permutation(len(req))].reset_index(drop=True)


def write_csv(req: pd.DataFrame, path: Path) -> None:
    req.assign(
        timestamp=req["timestamp"].dt.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
        latency_ms=[repr(float(x)) for x in req["latency_ms"]],
        status=np.where(req["error"], 503, 200),
    ).drop(columns="error").to_csv(path, index=False)


@settings(max_examples=30, deadline=None)
@given(
    rows=st.lists(request, min_size=1, max_size=150),
    copies=st.integers(min_value=1, max_value=3),
    seed=st.integers(min_value=0, max_value=2**32 - 1),
    minutes=st.sampled_from([1, 5, 1440]),
    small=st.booleans(),
    gridded=st.booleans(),
)
def test_aggregate_equals_naive_groupby(
    tmp_path_factory: pytest.TempPathFactory,
    rows: list[tuple[int, int, float, bool, str]],
    copies: int,
    seed: int,
    minutes: int,
    small: bool,
    gridded: bool,
) -> None:
    interval = pd.Timedelta(minutes=minutes)
    req = log(rows, copies, seed)
    want = naive(req, interval)
    tmp = tmp_path_factory.mktemp("naive")
    path = tmp / "requests.csv"
    write_csv(req, path)
    with pytest.MonkeyPatch.context() as mp:
        if small:  # many tiny batches: sorted-code batches, early merges, a chunk per row or two
            mp.setattr(ag, "_CSV_BLOCK", 512)
            mp.setattr(ag, "_COMPACT_ENTRIES", 7)
            mp.setattr(ag, "_DENSE_CELLS", 0)
            mp.setattr(ag, "_CHUNK_ROWS", 2)
            mp.setattr(ag, "_SPARSE_CHUNK_ENTRIES", 5)
            mp.setattr(ag, "_BLOCK_ENTRIES", 4)
            if gridded:  # the second batch's box and the first's make a grid; rows outside it go sparse
                mp.setattr(ag, "_GRID_OVERLAP", 0.0)
                mp.setattr(ag, "_GRID_CELLS_PER_ROW", 10**9)
                mp.setattr(ag, "_GRID_MAX_ROWS", 300)  # and it joins the sparse runs when full
        got, entry = ag.aggregate_files([path], interval=interval, edges=EDGES)
        written = ag.aggregate_to_file([path], tmp / "out.parquet", interval=interval, edges=EDGES)
        wide = ag.aggregate_to_file([path], tmp / "wide.parquet", layout="wide", interval=interval, edges=EDGES)
        ag.aggregate_to_file([path], tmp / "out.csv", interval=interval, edges=EDGES)
    pd.testing.assert_frame_equal(got, want)
    pd.testing.assert_frame_equal(ag.aggregate_frame(req, interval=interval, edges=EDGES), want)
    pd.testing.assert_frame_equal(pd.read_parquet(wide.path), want)
    pd.testing.assert_frame_equal(read_parquet_frame(written.path), want)  # the sparse layout, made wide
    assert pq.ParquetFile(written.path).schema_arrow.names[-1] == "buckets"
    pd.testing.assert_frame_equal(tm.canonical(pd.read_csv(tmp / "out.csv", parse_dates=["interval_start"])), want)
    assert written.rows == len(want) and written.journeys == sorted(set(want["journey"]))
    assert entry.rows_accepted == len(req)


def test_files_split_anywhere_merge_to_naive(tmp_path: Path) -> None:
    """Several files, each shuffled, journeys first seen in different orders: renumbered and
    merged, the same as one groupby."""
    rng = np.random.default_rng(13)
    n = 20_000
    us = rng.integers(0, 40 * 86_400 * 10**6, n)
    req = pd.DataFrame(
        {
            "timestamp": (T0 + pd.to_timedelta(us, unit="us")).astype("datetime64[us, UTC]"),
            "latency_ms": np.round(rng.lognormal(3, 1.5, n), 3),
            "error": rng.random(n) < 0.05,
            "journey": pd.array(rng.choice(["d", "c", "b", "a"], n), dtype="str"),
        }
    )
    paths = []
    for i, part in enumerate(np.array_split(np.arange(n), 3)):
        p = tmp_path / f"part{i}.csv"
        write_csv(req.iloc[part[::-1]], p)
        paths.append(p)
    got, _ = ag.aggregate_files(paths, edges=EDGES)
    pd.testing.assert_frame_equal(got, naive(req, pd.Timedelta(minutes=1)))


def test_written_parquet_reads_as_the_frame(tmp_path: Path) -> None:
    """The chunked Parquet file holds what DataFrame.to_parquet writes: same schema, same pandas
    metadata, the frame back."""
    rng = np.random.default_rng(1)
    n = 5_000
    req = pd.DataFrame(
        {
            "timestamp": (T0 + pd.to_timedelta(rng.integers(0, 3 * 86_400 * 10**6, n), unit="us")).astype(
                "datetime64[us, UTC]"
            ),
            "latency_ms": rng.uniform(0, 2000, n),
            "error": rng.random(n) < 0.1,
            "journey": pd.array(rng.choice(["x", "y"], n), dtype="str"),
        }
    )
    path = tmp_path / "r.csv"
    write_csv(req, path)
    frame, _ = ag.aggregate_files([path])
    ref = tmp_path / "ref.parquet"
    frame.to_parquet(ref, index=False)
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(ag, "_CHUNK_ROWS", 1000)
        mp.setattr(ag, "_SPARSE_CHUNK_ENTRIES", 700)
        written = ag.aggregate_to_file([path], tmp_path / "out.parquet", layout="wide")
        sparse = ag.aggregate_to_file([path], tmp_path / "sparse.parquet")
    got = pq.ParquetFile(written.path)
    assert got.schema_arrow == pq.read_schema(ref)
    assert got.metadata.num_row_groups == -(-len(frame) // 1000)
    pd.testing.assert_frame_equal(pd.read_parquet(written.path), frame)
    assert pq.ParquetFile(sparse.path).metadata.num_row_groups >= n // 700  # a bucket entry per request, at most
    pd.testing.assert_frame_equal(read_parquet_frame(sparse.path), frame)


#: Options of a 1-minute aggregate over EDGES, for the tests that build codes and runs by hand.
_MINUTE_OPTS = ag._options(
    interval=pd.Timedelta(minutes=1), edges=EDGES, tz="UTC", columns=None, fmt=None, strict=False, error_status="5"
)


@settings(max_examples=200, deadline=None)
@given(
    parts=st.lists(
        st.lists(st.tuples(st.integers(0, 10**6), st.integers(1, 3_000_000_000)), max_size=30), min_size=1, max_size=6
    ),
    spread=st.sampled_from([5, 10**6]),  # codes mostly repeated, or mostly distinct
)
def test_sparse_counts_sum_equal_codes_over_parts(parts: list[list[tuple[int, int]]], spread: int) -> None:
    """Merging sorted (code, count) runs, whether most codes repeat (summed over their starts) or
    most are new (repeats added to the code before them): each code once, ascending, with the
    exact sum of its counts, summed in int64 once the counts' total passes 2**32 - 1 (counts near
    2**32 reach both)."""
    want: dict[int, int] = {}
    runs = []
    for part in parts:
        ordered = sorted((c % spread, k) for c, k in part)
        codes = np.asarray([c for c, _ in ordered], dtype=np.int64)
        counts = np.asarray([k for _, k in ordered], dtype=np.uint32)
        for c, k in ordered:
            want[c] = want.get(c, 0) + k
        runs.append((codes, counts))
    entries = sum(c.size for c, _ in runs)
    codes, counts = ag._sparse_counts(runs)
    assert runs == []  # taken out as gathered
    assert codes.tolist() == sorted(want) and counts.tolist() == [want[c] for c in sorted(want)]
    if len(want) < entries:  # some counts were summed
        assert counts.dtype == (np.uint32 if sum(want.values()) <= np.iinfo(np.uint32).max else np.int64)


@pytest.mark.parametrize(("distinct", "want_merges", "want_spread"), [(True, 2, 4), (False, 10, 1)])
def test_acc_merges_less_often_once_merging_stops_shrinking_the_entries(
    monkeypatch: pytest.MonkeyPatch, distinct: bool, want_merges: int, want_spread: int
) -> None:
    """20 batches of 10 codes, merged from 10 entries on: every code new (a shuffled long span)
    or the same 10 each time (a short span). Merges that keep (nearly) every entry make the next
    merge wait for 4× more (2 merges, instead of one at every doubling); merges that shrink the
    entries go on as before (every other batch here), so memory stays near the 10 cells. Either
    way the runs hold every count once."""
    monkeypatch.setattr(ag, "_COMPACT_ENTRIES", 10)
    merges = 0
    merge = ag._Acc._merge

    def counted(self: ag._Acc) -> None:
        nonlocal merges
        merges += 1
        merge(self)

    monkeypatch.setattr(ag._Acc, "_merge", counted)
    acc = ag._Acc()
    for b in range(20):
        codes = np.arange(10, dtype=np.int64) * 20 + (b if distinct else 0)
        acc.add(codes, np.ones(10, dtype=np.uint32))
        assert acc.base + acc.pending <= 30 or distinct
    assert (merges, acc.spread) == (want_merges, want_spread)
    codes, counts = ag._sparse_counts(acc.runs())
    if distinct:
        assert codes.tolist() == sorted(k * 20 + b for k in range(10) for b in range(20))
        assert set(counts.tolist()) == {1}
    else:
        assert codes.tolist() == [k * 20 for k in range(10)] and counts.tolist() == [20] * 10


MINUTE = ag._options(
    interval=pd.Timedelta(minutes=1).to_pytimedelta(),
    edges=EDGES,
    tz="UTC",
    columns=None,
    fmt=None,
    strict=False,
    error_status=ag.DEFAULT_ERROR_STATUS,
    limits=ag.DEFAULT_LIMITS,
    by=(),
)


def batch(rng: np.random.Generator, n: int, minutes: tuple[int, int]) -> tuple[np.ndarray, ...]:
    """``n`` requests of journeys 0..2, uniformly over ``minutes`` (first, last) after T0."""
    us = rng.integers(minutes[0] * 60 * 10**6, (minutes[1] + 1) * 60 * 10**6, n) + T0.value // 1000
    return rng.integers(0, 3, n), us, rng.choice([0.5, 1.0, 2.5, 7.0, 150.0, 5000.0], n), rng.random(n) < 0.1


def reference(batches: list[tuple[np.ndarray, ...]], codec: ag._Codec) -> tuple[list[int], list[int]]:
    """Every batch's rows in one ``np.unique``: the exact sparse counts."""
    parts = [ag._reduce_rows(*b, MINUTE, codec) for b in batches]
    codes, counts = ag._sparse_counts(parts)
    return codes.tolist(), counts.tolist()


@pytest.mark.parametrize(
    ("spans", "expected", "want"),
    [
        # shuffled: a grid from the second batch on, full at the sixth, made again at the eighth;
        # then rows partly and wholly outside it
        ([(0, 99)] * 8 + [(50, 149), (300, 310)], 10**6, "FTTTTFFTTT"),
        ([(100 * b, 100 * b + 99) for b in range(8)], 10**6, "FFFFFFFF"),  # time-sorted: boxes follow each other
        ([(0, 99)] * 8, 100, "FFFFFFFF"),  # shuffled, but the box is large for the requests expected
    ],
)
def test_acc_counts_batches_covering_one_box_into_a_grid(
    monkeypatch: pytest.MonkeyPatch, spans: list[tuple[int, int]], expected: int, want: str
) -> None:
    """Batches whose boxes of (journey, minute) cells coincide (shuffled requests) are counted
    into one dense grid from the second on, when the grid (3 journeys × 100 minutes × 7 slots)
    is within 3 cells per expected request; requests outside it, time-sorted batches and a grid
    over budget go the sparse way. A grid full to ``_GRID_MAX_ROWS`` joins the sparse runs.
    Whatever the path, the runs sum to what one ``np.unique`` of every row gives."""
    monkeypatch.setattr(ag, "_GRID_MAX_ROWS", 2_500)
    codec = ag._Codec.of(MINUTE)
    rng = np.random.default_rng(7)
    batches = [batch(rng, 400, span) for span in spans]
    acc = ag._Acc()
    made = ""
    for b in batches:
        acc.add_rows(*b, MINUTE, codec, expected)
        made += "FT"[acc.grid is not None]
    assert made == want
    codes, counts = ag._sparse_counts(acc.runs())
    assert (codes.tolist(), counts.tolist()) == reference(batches, codec)


@settings(max_examples=100, deadline=None)
@given(
    cells=st.sets(st.tuples(st.integers(0, 4), st.integers(0, 50), st.integers(0, len(EDGES) + 1)), max_size=60),
    scan=st.integers(1, 8),
)
def test_row_starts_and_interval_range_match_a_pass_over_the_entries(
    cells: set[tuple[int, int, int]], scan: int
) -> None:
    """The first entry of each (journey, interval) row, scanned a few entries at a time, and the
    first and last interval, from each journey's first and last entries: what one pass over all
    entries gives, whichever journey holds the earliest or latest interval."""
    opts = _MINUTE_OPTS
    codec = ag._Codec.of(opts)
    ordered = sorted(cells)
    j, i, s = (np.asarray([c[k] for c in ordered], dtype=np.int64) for k in range(3))
    codes = (codec.rows(j, i + codec.origin) << codec.slot_bits) + s
    ones = np.ones(codes.size, np.uint32)
    sparse = ag._Sparse(codes, ones, ["a", "b", "c", "d", "e"], codec, opts)
    rows = [(a, b) for a, b, _ in ordered]
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(ag, "_SCAN_ENTRIES", scan)
        assert sparse.row_starts().tolist() == [k for k, r in enumerate(rows) if k == 0 or r != rows[k - 1]]
    half = codes.size // 2  # two runs of one partial
    runs = ag._Runs.of([([(codes[:half], ones[:half]), (codes[half:], ones[half:])], list("abcde"))], opts)
    assert runs.used_journeys() == [["a", "b", "c", "d", "e"][x] for x in sorted(set(j.tolist()))]
    series = [("a", "eu"), ("a", "us"), ("b", "eu"), ("c", "eu"), ("c", "us")]  # --by region
    labelled = ag._Runs.of([([(codes, ones)], series)], replace(opts, by=("region",)))
    assert labelled.used_series() == len(set(j.tolist()))
    assert labelled.used_journeys() == list(dict.fromkeys(series[x][0] for x in sorted(set(j.tolist()))))
    assert runs.empty == (not ordered)
    if ordered:
        assert runs.interval_range() == (codec.origin + int(i.min()), codec.origin + int(i.max()))


@settings(max_examples=150, deadline=None)
@given(
    partials=st.lists(
        st.tuples(
            st.permutations(["a", "b", "c", "d"]),  # the partial's journey numbering (first met)
            st.lists(  # its runs: (journey code, interval, slot, count)
                st.lists(
                    st.tuples(st.integers(0, 3), st.integers(0, 40), st.integers(0, len(EDGES) + 1), st.integers(1, 9)),
                    max_size=25,
                ),
                max_size=4,
            ),
        ),
        min_size=1,
        max_size=4,
    ),
    entries=st.integers(1, 30),
)
def test_blocks_sum_the_runs_of_every_partial_in_whole_rows(
    partials: list[tuple[list[str], list[list[tuple[int, int, int, int]]]]], entries: int
) -> None:
    """The last merge, a block at a time: the blocks, one after the other, are every partial's
    runs with journeys renumbered by name and equal codes summed (what one merge of everything
    gives), ascending, and no (journey, interval) row is split between two blocks, however small
    the blocks and whichever journey is large."""
    opts = _MINUTE_OPTS
    codec = ag._Codec.of(opts)
    want: dict[tuple[str, int, int], int] = {}
    parts = []
    for names, runs in partials:
        arrays = []
        for run in runs:
            cells: dict[tuple[int, int, int], int] = {}
            for j, i, s, k in run:
                cells[(j, i, s)] = cells.get((j, i, s), 0) + k  # a run's codes are unique
                want[(names[j], i, s)] = want.get((names[j], i, s), 0) + k
            ordered = sorted(cells)
            jj, ii, ss = (np.asarray([c[x] for c in ordered], dtype=np.int64) for x in range(3))
            arrays.append(
                (
                    (codec.rows(jj, ii + codec.origin) << codec.slot_bits) + ss,
                    np.asarray([cells[c] for c in ordered], np.uint32),
                )
            )
        parts.append((arrays, list(names)))
    merged = ag._Runs.of(parts, opts)
    blocks = list(merged.blocks(entries))
    codes = np.concatenate([b.codes for b in blocks]) if blocks else np.zeros(0, np.int64)
    counts = np.concatenate([b.counts for b in blocks]) if blocks else np.zeros(0, np.int64)
    got = {
        (merged.journeys[int(c >> codec.row_shift)], int(codec.interval(c)) - codec.origin, int(codec.slot(c))): int(k)
        for c, k in zip(codes.tolist(), counts.tolist(), strict=True)
    }
    assert got == want and len(got) == codes.size and (np.diff(codes) > 0).all()
    rows = [b.codes >> codec.slot_bits for b in blocks]
    assert all(a[-1] != b[0] for a, b in zip(rows, rows[1:], strict=False))
    assert merged.merged().codes.tolist() == codes.tolist()


def test_blocks_cut_a_journey_spread_over_time_sliced_runs_evenly() -> None:
    """A journey whose runs each hold one slice of its time (daily files, Dask partitions of a
    sorted log) is cut at quantiles of all its entries, not of one run's: about ``entries`` a
    block, every entry once."""
    opts = _MINUTE_OPTS
    codec = ag._Codec.of(opts)
    runs = []
    for day in range(8):  # 8 runs of 120 rows × 1 slot, each on its own day
        minutes = day * 1440 + np.arange(120, dtype=np.int64)
        codes = codec.rows(np.zeros(120, np.int64), minutes + codec.origin) << codec.slot_bits
        runs.append((codes, np.ones(120, np.uint32)))
    merged = ag._Runs.of([(runs, ["a"])], opts)
    sizes = [b.codes.size for b in merged.blocks(entries=120)]
    assert sum(sizes) == 960 and len(sizes) >= 6 and max(sizes) <= 240, sizes


def test_expected_rows_of_a_source_from_its_first_batch(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The grid's budget (:class:`ag._Grid`) rests on the rows a source is expected to hold: a
    CSV file's size ÷ the bytes per row of its first block (within a quarter of the truth on a
    uniform log), a Parquet file's metadata (exact)."""
    monkeypatch.setattr(ag, "_CSV_BLOCK", 4096)
    rng = np.random.default_rng(3)
    rows = [
        (0, int(o), float(x), bool(e), "checkout")
        for o, x, e in zip(rng.integers(0, 10**9, 3000), rng.random(3000) * 900, rng.random(3000) < 0.1, strict=True)
    ]
    req = log(rows, 1, 0)
    write_csv(req, tmp_path / "r.csv")
    pd.read_csv(tmp_path / "r.csv").to_parquet(tmp_path / "r.parquet", row_group_size=700)
    for name, fmt in (("r.csv", "csv"), ("r.parquet", "parquet")):
        reader = ag._Reader(ag._Source(str(tmp_path / name), fmt), MINUTE)
        layout = ag._resolve_layout(reader.header(), MINUTE, name)
        first = next(reader.batches(layout)).num_rows
        got = reader.expected_rows(first)
        if fmt == "parquet":
            assert got == 3000
        else:
            assert first < 3000 and 0.75 * 3000 <= got <= 1.25 * 3000


@pytest.mark.parametrize(
    ("journeys", "span", "branch"),
    [
        (3, 20, "dense"),  # few cells: np.bincount over the box
        (16, 300_000, "uint32"),  # a box of 33.6 M cells × 7 slots: codes numbered within it, uint32
        (16, 40_000_000, "int64"),  # 4.5 G cells × slots, past 2**32: the int64 codes sorted
    ],
)
def test_reduce_cells_counts_each_cell_whatever_the_size_of_the_box(journeys: int, span: int, branch: str) -> None:
    """One batch of requests over a box of journeys × intervals counted three ways (densely, by
    sorting uint32 codes numbered within the box, by sorting the int64 codes): each (journey,
    interval, slot) cell and each cell's errors once, ascending, with its count, as a Counter
    over the rows gives them."""
    opts = _MINUTE_OPTS
    codec = ag._Codec.of(opts)
    width = len(EDGES) + 2
    rng = np.random.default_rng(span)
    n = 4000
    jcode = rng.integers(0, journeys, n)
    jcode[:2] = [0, journeys - 1]  # the box's corners, so its size is the one named
    idx = codec.origin + 1000 + rng.integers(0, span, n)
    idx[:2] = [codec.origin + 1000, codec.origin + 1000 + span - 1]
    idx[2:400] = idx[400:798]  # repeated cells
    jcode[2:400] = jcode[400:798]
    slot = rng.integers(0, width - 1, n)
    slot[2:400] = slot[400:798]
    error = rng.random(n) < 0.3
    box = journeys * span * width
    assert branch == ("dense" if box <= max(ag._DENSE_CELLS, 4 * n) else "uint32" if box <= 1 << 32 else "int64")
    want = Counter(zip(jcode.tolist(), idx.tolist(), slot.tolist(), strict=True))
    want.update((j, i, width - 1) for j, i in zip(jcode[error].tolist(), idx[error].tolist(), strict=True))
    codes, counts = ag._reduce_cells(jcode, idx, slot, error, opts, codec)
    parts = (codec.journey(codes), codec.interval(codes), codec.slot(codes))
    got = list(zip(*(p.tolist() for p in parts), strict=True))
    assert got == sorted(want) and counts.tolist() == [want[c] for c in got]
    assert counts.dtype == np.uint32 and (codes[1:] > codes[:-1]).all()
