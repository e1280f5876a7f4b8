"""Load-test latency spectra (data.loadtest): wrk2 -L output and HdrHistogram percentile
distributions read into a distribution with no time axis; checked by hand against the file."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from conftest import ROOT, external

from srekit.core.errors import InputError
from srekit.inputs.loadtest import load_loadtest

SPECTRUM = """       Value     Percentile TotalCount 1/(1-Percentile)

       1.000 0.000000000000          2           1.00
       2.000 0.500000000000         50           2.00
       4.000 0.900000000000         90          10.00
       8.000 0.990000000000         99         100.00
      16.000 1.000000000000        100          inf
#[Mean    =        3.000, StdDeviation   =        2.000]
"""


def test_the_wrk2_output_of_hdr_plot_reads_as_its_spectrum() -> None:
    path = external("hdr-plot", "sample", "file1.out")
    test, loaded = load_loadtest(path)
    # the footer: "Total count = 5394558"; the header: "Running 180m test"; "5400039 requests in 180.00m"
    assert (test.tool, test.requests, test.requests_reported) == ("wrk2", 5_394_558, 5_400_039)
    assert (test.duration_s, test.requests_per_s, test.unit, test.unit_known) == (10_800.0, 500.0, "ms", True)
    assert loaded.entry.rows_read == loaded.entry.rows_accepted == 115 and not loaded.entry.notes
    # 99% of 5,394,558 is 5,340,612.42: the first row at or above it is "2.007 0.990625 5344086"
    assert test.threshold_for(0.99) == 2.007
    # 2 ms lies between the rows 1.984 (5,335,907) and 2.007: at least 5,335,907 requests, 98.91%
    assert test.share_within(2.0) == pytest.approx(5_335_907 / 5_394_558)
    assert test.share_within(300.0) == 1.0 and test.share_within(0.1) == 0.0


def test_an_hdrhistogram_distribution_without_wrk2_assumes_milliseconds_and_says_so(tmp_path: Path) -> None:
    path = tmp_path / "h.txt"
    path.write_text(SPECTRUM)
    test, loaded = load_loadtest(path)
    assert (test.tool, test.requests, test.unit_known) == ("hdrhistogram", 100, False)
    assert dict(loaded.entry.notes) == {"unit_assumed_ms": 1}
    assert test.threshold_for(0.5) == 2.0 and test.threshold_for(0.95) == 8.0
    seconds, _ = load_loadtest(path, unit="s")
    assert seconds.threshold_for(0.5) == 2000.0 and seconds.unit_known
    csv = tmp_path / "h.csv"
    csv.write_text(
        '"Value","Percentile","TotalCount","1/(1-Percentile)"\n1.0,0.0,2,1.0\n2.0,0.5,50,2.0\n3.0,1.0,100,Infinity\n'
    )
    with pytest.raises(InputError, match="the load-test output does not exist"):
        load_loadtest(tmp_path / "missing.csv")
    test2, loaded2 = load_loadtest(csv)
    # HdrHistogram's CSV writes the last row's 1/(1-Percentile) as "Infinity": read, not rejected
    assert test2.requests == 100 and not loaded2.entry.rejected and test2.threshold_for(0.99) == 3.0


def test_broken_spectra_are_rejected_rows_or_a_clear_error(tmp_path: Path) -> None:
    bad = tmp_path / "bad.txt"
    bad.write_text(SPECTRUM.replace("4.000 0.900000000000         90", "3.000 0.900000000000         40"))
    _, loaded = load_loadtest(bad)  # the count goes backwards: that row is rejected, the rest kept
    assert dict(loaded.entry.rejected) == {"spectrum not increasing": 1} and loaded.entry.rows_accepted == 4
    empty = tmp_path / "plain.txt"
    empty.write_text("Running 30s test @ http://x\n  Latency 1ms\n")
    with pytest.raises(InputError, match=r"no HdrHistogram percentile spectrum.*fix: run wrk2 with -L"):
        load_loadtest(empty)


def test_validate_loadtest_prints_what_was_read() -> None:
    path = external("hdr-plot", "sample", "file3.out")
    proc = subprocess.run(
        [sys.executable, "-m", "srekit.cli", "validate", "loadtest", str(path)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    assert "values read as milliseconds (wrk2 prints milliseconds)" in proc.stdout
    assert "no time axis: a load test is compared with thresholds, never counted as budget" in proc.stdout
