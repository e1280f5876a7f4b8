"""`srekit aggregate` on a clean log never imports pandas (0.2–0.5 s of start-up, a third of a
1 M-row run), and the pandas-free conversions it uses give what pyarrow's own give."""

from __future__ import annotations

import copy
import gzip
import json
import os
import pickle
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import given, settings
from hypothesis import strategies as hs
from hypothesis.extra import numpy as hnp

from srekit.core.arrays import arrow_of, numpy_of, strings_of
from srekit.core.errors import ConfigError
from srekit.core.lazy import LazyModule
from srekit.core.timeutil import parse_duration, parse_timedelta
from srekit.inputs import aggregate as ag
from srekit.inputs import telemetry as tm
from srekit.inputs.aggregate import aggregate_files, key_fields
from srekit.inputs.loaders import load_telemetry

_RUN = """
import json, os, sys
from srekit.cli import main
code = main(sys.argv[1:])
print(json.dumps({"code": code, "pandas": "pandas" in sys.modules, "blas": os.environ.get("OPENBLAS_NUM_THREADS")}))
"""


def _log(n: int = 3000, *, success: bool = False) -> pd.DataFrame:
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
    ).pipe(lambda df: df.drop(columns="status").assign(success=_outcomes(rng, n)) if success else df)


def _outcomes(rng: np.random.Generator, n: int) -> np.ndarray:
    """A success column as logs write it: mixed spellings, some padded, a few other white spaces."""
    return rng.choice(["true", "false", "True", " yes", "0", "F", "true\u00a0"], n)


def _run(argv: list[str], blas: str | None = None) -> tuple[dict[str, object], str]:
    """``srekit`` in a fresh interpreter (``OPENBLAS_NUM_THREADS`` set to ``blas``, or unset): its
    exit code, whether it imported pandas, the OpenBLAS threads asked for, and its output."""
    env = {k: v for k, v in os.environ.items() if k != "OPENBLAS_NUM_THREADS"}
    if blas is not None:
        env["OPENBLAS_NUM_THREADS"] = blas
    done = subprocess.run([sys.executable, "-c", _RUN, *argv], capture_output=True, text=True, check=True, env=env)
    return json.loads(done.stdout.strip().splitlines()[-1]), done.stdout + done.stderr


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
    ("name", "by", "success"),
    [
        ("log.csv", "", False),
        ("log.csv.gz", "", False),
        ("log.parquet", "", False),
        ("log.csv", "region", False),
        ("log.csv", "", True),
    ],
)
def test_a_clean_log_is_aggregated_without_importing_pandas(tmp_path: Path, name: str, by: str, success: bool) -> None:
    log = _log(success=success)
    src = _write(log, tmp_path / name)
    out = tmp_path / "out.parquet"
    argv = ["aggregate", str(src), "--out", str(out), "--no-progress", *(["--by", by] if by else [])]
    result, output = _run(argv)
    # a success cell with a white space other than ASCII's is read by the exact (pandas) rules
    assert result == {"code": 0, "pandas": success, "blas": "1"}, output
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
    result, output = _run(argv)
    assert result == {"code": 0, "pandas": True, "blas": "1"}
    assert "rejected: negative latency_ms: 1" in output


@pytest.mark.parametrize(("argv", "blas", "want"), [(["aggregate"], "3", "3"), (["schema"], None, None)])
def test_only_aggregate_asks_openblas_for_one_thread_and_a_user_s_setting_stays(
    tmp_path: Path, argv: list[str], blas: str | None, want: str | None
) -> None:
    """`srekit aggregate` does no linear algebra, so it asks numpy's OpenBLAS for one thread (one
    per core would spin for 0.1 s at import); a value the user set is kept, and other commands
    (`srekit analyze` fits distributions) keep OpenBLAS's default."""
    if argv == ["aggregate"]:
        src = _write(_log(200), tmp_path / "log.csv")
        argv = [*argv, str(src), "--out", str(tmp_path / "out.parquet"), "--no-progress"]
    result, output = _run(argv, blas)
    assert result["code"] == 0, output
    assert result["blas"] == want


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
    _run(["aggregate", str(src), "--out", str(out), "--no-progress"])
    schema = pq.read_schema(out)
    assert schema.names == ["journey", "interval_start", "total", "errors", "buckets"]
    assert schema.field("journey").type == pa.large_string()
    assert schema.field("interval_start").type == pa.timestamp("us", tz="UTC")
    assert schema.field("buckets").type == pa.map_(pa.float64(), pa.uint32())
    assert set(schema.metadata) == {b"srekit.telemetry"}


_BOOLISH = hs.text(
    alphabet=hs.sampled_from([*"tTrRuUeEfFaAlLsSyYnNoO01-/ ", "\t", "\u00a0", "\u3000", "\x1c", "K"]), max_size=7
)


@settings(max_examples=300, deadline=None)
@given(
    values=hs.lists(
        hs.one_of(hs.none(), _BOOLISH, hs.sampled_from(["true", " NA ", "none", "n/a", "Yes"])), max_size=30
    )
)
def test_success_text_is_read_as_the_exact_rules_read_it(values: list[str | None]) -> None:
    """Arrow matches ASCII-trimmed, ASCII-lowered tokens; every other row goes to pandas' rules."""
    arr = pa.array(values, pa.string())
    for ours, exact in zip(ag._parse_bool(arr), ag._parse_bool_text(ag._text(arr)), strict=True):
        np.testing.assert_array_equal(ours, exact)


_OPTIONS: dict[str, Any] = dict(edges=(10.0,), tz="UTC", columns=None, fmt=None, strict=False, error_status="5..")
_INTERVALS = ["1min", "5m", "90s", "1h", "1.5m", "1d", "2w", "0.5s", "1.0000005s", "60.0000004s", "PT5M", "10 min"]


@pytest.mark.parametrize("text", [*_INTERVALS, "", "nat", "999999999d", "1e400s"])
def test_an_interval_is_read_as_pandas_reads_it(text: str) -> None:
    """``--interval`` text without pandas where it can be, and the same answer (or refusal) as
    ``parse_duration`` (pandas) everywhere."""
    try:
        want: object = parse_duration(text)
    except (ValueError, OverflowError):
        with pytest.raises((ValueError, OverflowError)):
            parse_timedelta(text)
        return
    usable = (
        want is not pd.NaT
        and want >= pd.Timedelta(seconds=1)
        and want % pd.Timedelta(microseconds=1) == pd.Timedelta(0)
    )
    if not usable:
        with pytest.raises(ConfigError, match="at least 1s"):
            ag._options(interval=text, **_OPTIONS)
        return
    assert ag._options(interval=text, **_OPTIONS).interval_us == want // pd.Timedelta(microseconds=1)
    assert parse_timedelta(text) == want


@pytest.mark.parametrize(
    ("interval", "us"),
    [
        (pd.Timedelta("5min"), 300_000_000),
        (np.timedelta64(60, "s"), 60_000_000),
        (pd.offsets.Minute(5), 300_000_000),
        (pd.NaT, None),
        (pd.Timedelta("1min 1ns"), None),
    ],
)
def test_an_interval_from_python_is_read_as_pandas_reads_it(interval: object, us: int | None) -> None:
    if us is None:
        with pytest.raises(ConfigError, match="at least 1s"):
            ag._options(interval=interval, **_OPTIONS)
    else:
        assert ag._options(interval=interval, **_OPTIONS).interval_us == us


def test_a_lazy_module_copies_and_pickles_as_itself() -> None:
    lazy = LazyModule("json")
    for other in (copy.copy(lazy), copy.deepcopy(lazy), pickle.loads(pickle.dumps(lazy))):
        assert other.dumps([1]) == "[1]"
    with pytest.raises(AttributeError):
        LazyModule("json").no_such_name  # noqa: B018


def test_arrow_of_refuses_to_misread_bytes() -> None:
    np.testing.assert_array_equal(numpy_of(arrow_of(np.arange(3, dtype=">i8"))), [0, 1, 2])  # big-endian input
    with pytest.raises(pa.ArrowNotImplementedError):  # uint64 is no timestamp: cast (refused), not relabelled
        arrow_of(np.array([2**63], np.uint64), pa.timestamp("us"))


def test_epoch_nanoseconds_with_a_null_are_read_exactly(tmp_path: Path) -> None:
    """pyarrow's ``to_numpy`` made an int64 column with a null float64 (steps of 256 ns near
    2026): 16:15:59.999999999 fell into 16:16. The column is now read as integers."""
    stamps = [1_774_887_359_999_999_999, None, 1_774_887_300_000_000_000]
    frame = pd.DataFrame({"timestamp": pd.array(stamps, "Int64"), "latency_ms": [5.0, 5.0, 5.0], "status": 200})
    src = tmp_path / "epochs.parquet"
    frame.to_parquet(src, index=False)
    got, entry = aggregate_files([str(src)])
    assert got["interval_start"].tolist() == [pd.Timestamp("2026-03-30T16:15:00Z")]
    assert int(got["total"].sum()) == 2
    assert entry.end == pd.Timestamp("2026-03-30T16:15:59.999999Z")
