"""`srekit aggregate` on a clean log never imports pandas (0.2–0.5 s of start-up, a third of a
1 M-row run), and the pandas-free conversions it uses give what pyarrow's own give."""

from __future__ import annotations

import gzip
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import given, settings
from hypothesis import strategies as hs
from hypothesis.extra import numpy as hnp

from srekit.core.arrays import arrow_of, numpy_of, strings_of
from srekit.inputs import telemetry as tm
from srekit.inputs.aggregate import aggregate_files, key_fields
from srekit.inputs.loaders import load_telemetry

_RUN = """
import json, sys
from srekit.cli import main
code = main(sys.argv[1:])
print(json.dumps({"code": code, "pandas": "pandas" in sys.modules}))
"""


def _log(n: int = 3000) -> pd.DataFrame:
    rng = np.random.default_rng(7)
    start = pd.Timestamp("2026-03-29T00:30:00Z")
    stamps = start + pd.to_timedelta(rng.integers(0, 3 * 86_400_000_000, n), unit="us")
    return pd.DataFrame(
        {
            "timestamp": stamps.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
            "latency_ms": rng.lognormal(3, 1, n).round(3),
            "status": rng.choice([200, 200, 200, 404, 503], n),
            "journey": rng.choice(["checkout", "search", "login"], n),
            "region": rng.choice(["eu", "us"], n),
        }
    )


def _write(log: pd.DataFrame, path: Path) -> Path:
    if path.name.endswith(".parquet"):
        log.to_parquet(path, index=False)
    elif path.name.endswith(".gz"):
        with gzip.open(path, "wt", encoding="utf-8", newline="") as fh:
            log.to_csv(fh, index=False)
    else:
        log.to_csv(path, index=False)
    return path


@pytest.mark.parametrize(
    ("name", "by"), [("log.csv", ""), ("log.csv.gz", ""), ("log.parquet", ""), ("log.csv", "region")]
)
def test_a_clean_log_is_aggregated_without_importing_pandas(tmp_path: Path, name: str, by: str) -> None:
    log = _log()
    src = _write(log, tmp_path / name)
    out = tmp_path / "out.parquet"
    argv = ["aggregate", str(src), "--out", str(out), "--no-progress", *(["--by", by] if by else [])]
    done = subprocess.run([sys.executable, "-c", _RUN, *argv], capture_output=True, text=True, check=True)
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result == {"code": 0, "pandas": False}, done.stderr
    # the file is the one the Python API makes (which may use pandas)
    loaded, (want, _) = load_telemetry(out), aggregate_files([str(src)], by=(by,) if by else ())
    got = tm.dense(loaded.labels if by else loaded.frame)
    keys = ["journey", *([by] if by else []), "interval_start"]
    pd.testing.assert_frame_equal(
        got[list(want.columns)].sort_values(keys).reset_index(drop=True),
        want.sort_values(keys).reset_index(drop=True),
        check_dtype=False,
        check_categorical=False,
    )
    assert int(want["total"].sum()) == len(log)


def test_a_log_with_rejected_rows_still_aggregates(tmp_path: Path) -> None:
    """Rejected rows are the path that uses pandas (the quarantine frame): it is loaded then."""
    log = _log()
    log.loc[5, "latency_ms"] = -1
    src = _write(log, tmp_path / "log.csv")
    out = tmp_path / "out.parquet"
    argv = ["aggregate", str(src), "--out", str(out), "--no-progress"]
    done = subprocess.run([sys.executable, "-c", _RUN, *argv], capture_output=True, text=True, check=True)
    assert json.loads(done.stdout.strip().splitlines()[-1]) == {"code": 0, "pandas": True}
    assert "rejected: negative latency_ms: 1" in done.stdout


@pytest.mark.parametrize("by", [(), ("region",), ("region", "地域")])
def test_key_fields_are_the_pandas_schema_s(by: tuple[str, ...]) -> None:
    wide = pa.Schema.from_pandas(tm.empty(labels=by), preserve_index=False)
    assert key_fields(by) == [wide.field(name) for name in ("journey", *by, "interval_start")]


_NUMBERS = hs.sampled_from(["int8", "int16", "int32", "int64", "uint8", "uint32", "uint64", "float32", "float64"])


@settings(max_examples=200, deadline=None)
@given(
    values=hnp.arrays(hs.one_of(_NUMBERS.map(np.dtype), hs.just(np.dtype(bool))), hs.integers(0, 40)),
    cut=hs.integers(0, 9),
    nulls=hs.lists(hs.booleans(), min_size=40, max_size=40),
)
def test_numpy_of_and_arrow_of_agree_with_pyarrow(values: np.ndarray, cut: int, nulls: list[bool]) -> None:
    ours = arrow_of(values)
    theirs = pa.array(values)
    assert ours.type == theirs.type and ours.null_count == theirs.null_count == 0
    np.testing.assert_array_equal(ours.to_numpy(zero_copy_only=False), theirs.to_numpy(zero_copy_only=False))  # NaN too
    part = ours[min(cut, len(ours)) :]  # a non-zero offset into the buffers
    np.testing.assert_array_equal(numpy_of(part), part.to_numpy(zero_copy_only=False))
    mask = np.array(nulls[: len(values)], dtype=bool)
    with_nulls = pa.array(values, mask=mask)[min(cut, len(values)) :]
    if values.dtype.kind == "f":
        np.testing.assert_array_equal(numpy_of(with_nulls), with_nulls.to_numpy(zero_copy_only=False))
    elif with_nulls.null_count:
        with pytest.raises(ValueError, match="null"):
            numpy_of(with_nulls)
        zero = values.dtype.type(0)
        filled = numpy_of(with_nulls, null=zero)
        np.testing.assert_array_equal(
            filled, with_nulls.fill_null(pa.scalar(zero, with_nulls.type)).to_numpy(zero_copy_only=False)
        )
    chunked = pa.chunked_array([ours, ours[:cut]], ours.type)
    np.testing.assert_array_equal(numpy_of(chunked), chunked.to_numpy(zero_copy_only=False))


def test_arrow_of_relabels_integers_as_times_and_casts_the_rest() -> None:
    us = np.array([0, 1_700_000_000_123_456], dtype=np.int64)
    stamps = arrow_of(us, pa.timestamp("us", tz="UTC"))
    assert stamps.equals(pa.array(us, type=pa.timestamp("us", tz="UTC")))
    assert arrow_of(np.array([1, 2], np.int64), pa.float64()).equals(pa.array([1.0, 2.0]))  # a cast, not the bits
    assert arrow_of(np.array([1, 2], np.int64), pa.uint32()).equals(pa.array([1, 2], pa.uint32()))
    with pytest.raises(ValueError, match="1-d"):
        arrow_of(np.zeros((2, 2)))
    with pytest.raises(TypeError, match="no plain NumPy form"):
        numpy_of(pa.array(["a"]))


@settings(max_examples=100, deadline=None)
@given(texts=hs.lists(hs.text(alphabet=hs.characters(blacklist_categories=("Cs",)), max_size=6), max_size=12))
def test_strings_of_agrees_with_pyarrow(texts: list[str]) -> None:
    for kind in (pa.string(), pa.large_string()):
        ours = strings_of(texts, kind)
        ours.validate(full=True)
        assert ours.equals(pa.array(texts, type=kind))
    with pytest.raises(ValueError, match="string"):
        strings_of(texts, pa.binary())


def test_the_sparse_file_keeps_its_schema(tmp_path: Path) -> None:
    """The schema the pandas-free path writes: the one the loaders and `srekit pull` read."""
    src = _write(_log(200), tmp_path / "log.csv")
    out = tmp_path / "out.parquet"
    subprocess.run([sys.executable, "-c", _RUN, "aggregate", str(src), "--out", str(out), "--no-progress"], check=True)
    schema = pq.read_schema(out)
    assert schema.names == ["journey", "interval_start", "total", "errors", "buckets"]
    assert schema.field("journey").type == pa.large_string()
    assert schema.field("interval_start").type == pa.timestamp("us", tz="UTC")
    assert schema.field("buckets").type == pa.map_(pa.float64(), pa.uint32())
    assert set(schema.metadata) == {b"srekit.telemetry"}
