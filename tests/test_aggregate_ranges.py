"""The local engine reads a large time-sorted CSV file as byte ranges at once (issue 13): the
output, ledger and quarantine (row numbers included) are exactly those of reading it whole, and
files where a cut could change anything are read whole."""

from __future__ import annotations

import os
import threading
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest

from srekit.inputs import aggregate as ag

N = 30_000


def request_log(path: Path, *, shuffled: bool = False, quote_at: int | None = None) -> Path:
    """``N`` requests over two days in time order (or shuffled), with rows rejected for a negative
    latency or a bad stamp, and malformed lines (a field too many), in both halves of the file."""
    rng = np.random.default_rng(5)
    us = np.sort(rng.integers(0, 2 * 86_400 * 10**6, N))
    if shuffled:
        us = rng.permutation(us)
    stamps = (pd.Timestamp("2026-03-01T00:00:00Z") + pd.to_timedelta(us, unit="us")).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    latency = np.round(rng.lognormal(3.0, 1.0, N), 3).astype(str)
    status = rng.choice(["200", "200", "404", "503"], N)
    journey = rng.choice(["checkout", "search", "cart"], N)
    lines = [f"{t},{x},{s},{j}" for t, x, s, j in zip(stamps, latency, status, journey, strict=True)]
    for at in (100, 12_000, 21_000, 29_000):
        lines[at] = lines[at].replace(",", ",-", 1)  # a negative latency
    for at in (5_000, 25_000):
        lines[at] = "not a time" + lines[at][lines[at].index(",") :]
    for at in (7_000, 23_000):
        lines[at] += ",extra"  # malformed: one field too many
    if quote_at is not None:
        lines[quote_at] = lines[quote_at].replace("checkout", '"checkout"').replace("search", '"search"')
    path.write_text("timestamp,latency_ms,status,journey\n" + "\n".join(lines) + "\n")
    return path


OPTS = ag._options(
    interval=pd.Timedelta("1min").to_pytimedelta(),
    edges=ag.tm.DEFAULT_EDGES_MS,
    tz="UTC",
    columns=None,
    fmt=None,
    strict=False,
    error_status=ag.DEFAULT_ERROR_STATUS,
)


@pytest.fixture
def small_blocks(monkeypatch: pytest.MonkeyPatch) -> None:
    """Blocks of 64 KiB (the file is ~1.7 MB) and files cut from any size on, however many cells a
    request spreads over, on two CPUs."""
    monkeypatch.setattr(ag, "_CSV_BLOCK", 64 << 10)
    monkeypatch.setattr(ag, "_SPLIT_BYTES", 0)
    monkeypatch.setattr(ag, "_SPLIT_CELLS_PER_ROW", 10**6)
    monkeypatch.setattr(os, "cpu_count", lambda: 2)


def run(path: Path, out: Path, **options: object) -> tuple[pd.DataFrame, dict[str, object], pd.DataFrame]:
    quarantine = out.with_suffix(".rejects.csv")
    written = ag.aggregate_to_file([path], out, quarantine=quarantine, **options)  # type: ignore[arg-type]
    rejects = pd.read_csv(quarantine).sort_values("row", kind="stable").reset_index(drop=True)
    return pq.read_table(out).to_pandas(), written.entry.to_dict() | {"quarantine": None}, rejects


@pytest.mark.usefixtures("small_blocks")
def test_a_time_sorted_file_read_in_ranges_gives_the_whole_file_s_output(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = request_log(tmp_path / "sorted.csv")
    cut: list[list[ag._Source]] = []
    reduce_ranges = ag._reduce_ranges

    def spy(ranges: list[ag._Source], *args: object) -> list[ag._Partial]:
        cut.append(ranges)
        return reduce_ranges(ranges, *args)  # type: ignore[arg-type]

    monkeypatch.setattr(ag, "_reduce_ranges", spy)
    split = run(path, tmp_path / "split.parquet")
    assert [len(r) for r in cut] == [2]
    assert cut[0][0].end == cut[0][1].start and path.read_bytes()[cut[0][0].end - 1 : cut[0][0].end] == b"\n"

    monkeypatch.setattr(ag, "_SPLIT_BYTES", 1 << 40)
    whole = run(path, tmp_path / "whole.parquet")
    assert len(cut) == 1  # read whole this time
    pd.testing.assert_frame_equal(split[0], whole[0])
    assert split[1] == whole[1]
    pd.testing.assert_frame_equal(split[2], whole[2])
    assert whole[1]["rows_read"] == N and sum(whole[1]["rejected"].values()) == 8  # type: ignore[union-attr]
    assert sorted(whole[2]["row"]) == [101, 5001, 7001, 12001, 21001, 23001, 25001, 29001]


@pytest.mark.usefixtures("small_blocks")
@pytest.mark.parametrize(
    ("shuffled", "quote_at", "options"),
    [
        (True, None, {}),  # shuffled: its batches cover the same cells (one grid, not two)
        (False, 3_000, {}),  # a quote before the cut: a quoted cell could span it
        (False, 20_000, {}),  # a quote after the cut only: cut
        (False, None, {"tz": "Europe/Berlin"}),  # the DST rule reads in file order
        (False, None, {"strict": True}),  # the error names the first bad row
        (False, None, {"cells": 8}),  # a block's requests spread over 39 cells each: heavy to reduce
        (False, None, {"cells": 40}),  # ... within 40: cut
    ],
)
def test_files_a_cut_could_change_are_read_whole(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, shuffled: bool, quote_at: int | None, options: dict[str, object]
) -> None:
    if "cells" in options:
        monkeypatch.setattr(ag, "_SPLIT_CELLS_PER_ROW", options["cells"])
    path = request_log(tmp_path / "r.csv", shuffled=shuffled, quote_at=quote_at)
    opts = replace(OPTS, tz=str(options.get("tz", "UTC")), strict=bool(options.get("strict", False)))
    units = ag._local_sources([str(path)], opts)
    assert [len(u) for u in units] == [2 if quote_at == 20_000 or options.get("cells") == 40 else 1]


@pytest.mark.usefixtures("small_blocks")
def test_one_cpu_reads_whole(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(os, "cpu_count", lambda: 1)
    path = request_log(tmp_path / "r.csv")
    assert [len(u) for u in ag._local_sources([str(path)], OPTS)] == [1]


@pytest.mark.parametrize("size", [1, 7, 4096, -1])
def test_range_file_is_the_header_then_the_range(tmp_path: Path, size: int) -> None:
    path = tmp_path / "r.csv"
    path.write_bytes(b"timestamp,latency_ms\n" + b"".join(b"2026-01-01T00:00:%02dZ,%d\n" % (i, i) for i in range(60)))
    body = path.read_bytes()
    start = body.index(b"\n", 300) + 1
    end = body.index(b"\n", 900) + 1
    f = ag._RangeFile(str(path), start, end)
    got = b""
    while chunk := f.read(size):
        got += chunk
        assert size < 0 or len(chunk) <= size
    assert got == b"timestamp,latency_ms\n" + body[start:end] and f.tell() == len(got)
    f.close()


@pytest.mark.usefixtures("small_blocks")
def test_a_file_mixing_naive_and_offset_stamps_across_its_halves_gets_its_note(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The note is per file: naive stamps in one range and offset stamps in the other still make
    ``mixed_naive_and_offset_timestamps`` (counting the naive rows), as reading it whole does."""
    path = request_log(tmp_path / "r.csv")
    lines = path.read_text().splitlines()
    naive = len(lines) // 4
    lines[1 : 1 + naive] = [line.replace("Z,", ",", 1) for line in lines[1 : 1 + naive]]
    path.write_text("\n".join(lines) + "\n")
    split = run(path, tmp_path / "split.parquet")
    monkeypatch.setattr(ag, "_SPLIT_BYTES", 1 << 40)
    whole = run(path, tmp_path / "whole.parquet")
    assert ag._local_sources([str(path)], OPTS)[0][0].end is None  # (whole, with the split size patched)
    monkeypatch.setattr(ag, "_SPLIT_BYTES", 0)
    assert len(ag._local_sources([str(path)], OPTS)[0]) == 2  # the first run was cut: naive stamps in range 1 only
    # every naive stamp but two: row 5001's is not a time, line 7001 is malformed
    assert split[1]["notes"]["mixed_naive_and_offset_timestamps"] == naive - 2  # type: ignore[index]
    assert split[1] == whole[1]
    pd.testing.assert_frame_equal(split[0], whole[0])


@pytest.mark.usefixtures("small_blocks")
def test_the_progress_of_a_cut_file_is_counted_one_thread_at_a_time(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Both ranges' threads report their bytes to the one progress bar, whose count is not
    thread-safe: one call at a time, and together the file's size (its header counted once)."""
    monkeypatch.setattr(ag, "_RANGE_READ_AHEAD", 1)  # small blocks, the reader one ahead: many calls
    monkeypatch.setattr(ag, "_CSV_BLOCK", 8 << 10)
    path = request_log(tmp_path / "sorted.csv")
    (unit,) = ag._local_sources([str(path)], OPTS)
    assert len(unit) == 2
    inside = overlaps = total = calls = 0

    def tick(n: int) -> None:
        nonlocal inside, overlaps, total, calls
        inside += 1
        overlaps += inside > 1
        time.sleep(0.002)  # a window for the other thread
        total += n
        calls += 1
        inside -= 1

    ag._reduce_ranges(unit, OPTS, None, tick)
    assert calls > 4 and overlaps == 0
    assert total == path.stat().st_size


def test_the_progress_of_a_file_read_again_in_exact_mode_counts_its_bytes_once(tmp_path: Path) -> None:
    """A malformed line sends the reader back to the file's start in exact mode: the bytes it
    reads again are not counted again, so the bar ends at the file's size, not past it."""
    path = request_log(tmp_path / "r.csv")  # malformed lines: read fast, then again exactly
    (unit,) = ag._local_sources([str(path)], OPTS)
    assert len(unit) == 1
    seen: list[int] = []
    part = ag._reduce_source(unit[0], OPTS, tick=seen.append)
    assert part.rejected[ag.R_FIELDS] == 2 and sum(seen) == path.stat().st_size


def test_the_progress_of_a_parquet_file_ends_at_its_size(tmp_path: Path) -> None:
    """Parquet is read in row batches, not bytes: the bar moves by each batch's share of the rows
    and ends at the file's size."""
    csv = request_log(tmp_path / "r.csv")
    frame = pd.read_csv(csv, on_bad_lines="skip", dtype=str)
    path = tmp_path / "r.parquet"
    frame.to_parquet(path, index=False, row_group_size=4000)
    (unit,) = ag._local_sources([str(path)], OPTS)
    seen: list[int] = []
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(ag, "_PARQUET_BATCH", 4000)
        ag._reduce_source(unit[0], OPTS, tick=seen.append)
    assert len(seen) > 1 and sum(seen) == path.stat().st_size


def test_the_read_position_can_be_asked_while_the_reader_closes_the_file(tmp_path: Path) -> None:
    """The reducing thread asks the reader for its position (the progress bar) while the reader's
    own thread closes the file at its end: that must give a position, never "I/O operation on
    closed file" (before the lock, about a third of these trials raised)."""
    path = request_log(tmp_path / "r.csv")
    failures: list[BaseException] = []
    for _ in range(300):
        reader = ag._Reader(ag._Source(str(path), "csv"), OPTS)
        reader._csv_stream().read(1000)
        stop = threading.Event()

        def poll(reader: ag._Reader = reader, stop: threading.Event = stop) -> None:
            while not stop.is_set():
                try:
                    assert reader.position() >= 0
                except BaseException as exc:  # what the race raised, kept to report
                    failures.append(exc)
                    return

        watcher = threading.Thread(target=poll)
        watcher.start()
        time.sleep(0.0002)
        reader._close_raw()
        stop.set()
        watcher.join()
        assert reader.position() == 1000
    assert failures == []
