"""Raw request logs → aggregated telemetry (docs/architecture.md, "The aggregated telemetry model"; docs/aggregate.md).

A request log has one row per request: ``timestamp``, ``latency_ms`` and either ``status`` (an
HTTP code; 5xx is an error by default) or ``success`` (a boolean), plus an optional ``journey``
(else ``endpoint`` or ``route``, else every request belongs to the journey ``"all"``).
:func:`aggregate_files` reduces such logs to one row per (journey, interval start) with
``total``, ``errors`` and Prometheus-style cumulative buckets ``le_<edge_ms>`` (requests with
latency ≤ edge; a latency exactly on an edge counts in that edge's bucket, as Prometheus' ``le``
label does — Prometheus docs, "Histograms and summaries").

Engines
-------
``local`` (default) streams each file with pyarrow's CSV reader (``pyarrow.csv.open_csv``,
chosen over DuckDB by measurement, see ``docs/aggregate.md``) or Parquet batch iterator, in
bounded memory: every batch is reduced to per-(journey, interval) bucket counts with
``np.searchsorted`` on the edges and ``np.bincount`` over (group, bucket) codes, and partial
counts are summed as :func:`srekit.inputs.telemetry.merge` does. ``dask`` runs the same reduction per
partition (a byte range of a CSV file, a Parquet row group, a whole gzip file) on a
``dask.distributed`` cluster and merges the partial counts: the output is identical.

Rows that cannot be used are rejected with a reason, counted in the ledger and optionally written
to a quarantine CSV; ``strict=True`` turns the first reject into an :class:`InputError`, and a
file whose every row is rejected is one too. Timestamps follow :mod:`srekit.inputs.timeparse`
(ISO 8601 with a date or epoch numbers by magnitude, within ``limits.min_year``..``max_year``;
offsets converted exactly; naive stamps read in ``tz``; the first occurrence of a repeated DST
wall time is the earlier instant, later ones the later instant; skipped wall times shift
forward), with a vectorised pyarrow fast path; latencies follow :mod:`srekit.inputs.numbers` (no
decimal commas). Journeys are bounded by ``limits.max_name_chars`` and ``limits.max_journeys``
(:mod:`srekit.core.limits`).
"""

from __future__ import annotations

import contextlib
import difflib
import functools
import gzip
import io
import os
import queue
import re
import sys
import threading
from collections import Counter
from collections.abc import Callable, Generator, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypedDict, Unpack
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pcsv
import pyarrow.parquet as pq

from srekit.core.arrays import arrow_of, numpy_of, strings_of
from srekit.core.errors import ConfigError, InputError, input_error, require_columns
from srekit.core.files import atomic_target, csv_text
from srekit.core.lazy import LazyModule
from srekit.core.limits import DEFAULT_LIMITS, Limits
from srekit.core.timeutil import parse_timedelta
from srekit.inputs import numbers as num
from srekit.inputs import sparse_telemetry as st
from srekit.inputs import telemetry as tm
from srekit.inputs import timeparse
from srekit.inputs.columns import (
    DEFAULT_JOURNEY,
    MISSING_JOURNEY,
    MISSING_TOKENS,
    REQUESTS,
    find_header,
    folded,
    text_cells,
)
from srekit.inputs.ledger import LedgerEntry, Loaded
from srekit.inputs.parquet_file import open_file

if TYPE_CHECKING:
    import pandas as pd
else:
    pd = LazyModule("pandas")

KIND = "requests"
CANONICAL = ("timestamp", "latency_ms", "status", "success", "journey")
JOURNEY_FALLBACKS = ("journey", "endpoint", "route")
DEFAULT_ERROR_STATUS = "5.."
ONE_MINUTE = timedelta(minutes=1)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
FORMATS = ("csv", "csv.gz", "parquet")
QUARANTINE_COLUMNS = ("file", "row", *CANONICAL, "line", "reason")

# Reject reasons, in precedence order (a row gets the first reason that applies).
R_TIME = "unparseable timestamp"
R_TIME_RANGE = "timestamp out of range"
R_LAT_MISSING = "missing latency_ms"
R_LAT_TEXT = "non-numeric latency_ms"
R_LAT_COMMA = "decimal comma in latency_ms"
R_LAT_AMBIGUOUS = "ambiguous comma in latency_ms"
R_LAT_INF = "infinite latency_ms"
R_LAT_NEG = "negative latency_ms"
R_STATUS_MISSING = "missing status"
R_STATUS_UNKNOWN = "unknown status code"
R_SUCCESS_MISSING = "missing success"
R_SUCCESS_TEXT = "unparseable success"
R_JOURNEY_LONG = "too long journey"
R_LABEL_LONG = "too long label"
R_FIELDS = "wrong number of fields"
REASONS = (
    "",
    R_TIME,
    R_TIME_RANGE,
    R_LAT_MISSING,
    R_LAT_TEXT,
    R_LAT_COMMA,
    R_LAT_AMBIGUOUS,
    R_LAT_INF,
    R_LAT_NEG,
    R_STATUS_MISSING,
    R_STATUS_UNKNOWN,
    R_SUCCESS_MISSING,
    R_SUCCESS_TEXT,
    R_JOURNEY_LONG,
    R_LABEL_LONG,
)
_REASON_CODE = {r: i for i, r in enumerate(REASONS)}
_REASON_COLUMN = {
    R_TIME: "timestamp",
    R_TIME_RANGE: "timestamp",
    R_LAT_MISSING: "latency_ms",
    R_LAT_TEXT: "latency_ms",
    R_LAT_COMMA: "latency_ms",
    R_LAT_AMBIGUOUS: "latency_ms",
    R_LAT_INF: "latency_ms",
    R_LAT_NEG: "latency_ms",
    R_STATUS_MISSING: "status",
    R_STATUS_UNKNOWN: "status",
    R_SUCCESS_MISSING: "success",
    R_SUCCESS_TEXT: "success",
    R_JOURNEY_LONG: "journey",
    R_LABEL_LONG: "first_label",
}
_REASON_FIX = {
    R_TIME: "use ISO-8601 stamps with a date such as 2026-03-01T12:00:00Z (naive stamps are read in --timezone) "
    "or epoch seconds/milliseconds",
    R_TIME_RANGE: "stamps must lie within limits.min_year..max_year (default 1990..2099); check the epoch unit",
    R_LAT_MISSING: "every request needs its latency in milliseconds",
    R_LAT_TEXT: "latency_ms must be a number of milliseconds, e.g. 12.5",
    R_LAT_COMMA: "write latencies with a decimal point (0.132, not 0,132)",
    R_LAT_AMBIGUOUS: "1,234 could be 1234 or 1.234: write 1234 or 1.234",
    R_LAT_INF: "latency_ms must be a finite number of milliseconds",
    R_LAT_NEG: "latency_ms cannot be negative; check the clock source of the log",
    R_STATUS_MISSING: "every request needs its HTTP status code",
    R_STATUS_UNKNOWN: "status must be an HTTP code between 100 and 599",
    R_SUCCESS_MISSING: "every request needs success true/false",
    R_SUCCESS_TEXT: "success must be true/false, yes/no or 1/0",
    R_JOURNEY_LONG: "journey names have at most limits.max_name_chars characters (default 128)",
    R_LABEL_LONG: "label values (--by) have at most limits.max_name_chars characters (default 128)",
    R_FIELDS: "every CSV line needs as many fields as the header",
}
_NA_TOKENS = tuple(sorted(MISSING_TOKENS))
_TRUE = ("true", "t", "yes", "y", "1")
_FALSE = ("false", "f", "no", "n", "0")
_CSV_BLOCK = 1 << 21  # 2 MiB blocks: 5-12 % faster than 1 MiB for 40-50 MB more RSS (docs/aggregate.md)
_PARQUET_BATCH = 65536
_COMPACT_ENTRIES = 1_000_000  # sparse (code, count) entries (12 MB) before a merge
_DISTINCT_SHARE = 0.9  # a merge that keeps more of its entries makes the next ones wait for 4× more (_Acc)
_DENSE_CELLS = 1 << 20  # (journey, interval, slot) cells (8 MB of int64) up to which a batch is counted densely
# a source whose batches all cover the same box of cells (shuffled requests) is counted into one uint32
# grid of that box (:class:`_Grid`) when it holds at most 3 cells per request the source is expected to
# hold (12 B a request: what its sparse entries would take were every request its own cell) and at most
# _GRID_CELLS cells (128 MB)
_GRID_CELLS_PER_ROW = 3
_GRID_CELLS = 1 << 25
_GRID_OVERLAP = 0.8  # share of two batches' joint box both must cover for their source to be gridded
_GRID_MAX_ROWS = (1 << 32) - 1  # requests (and errors) a uint32 grid counts before it joins the sparse runs
_CHUNK_ROWS = 16_384  # output rows made at a time (≈ 19 MB as int64 with the 140 default edges)
_SCAN_ENTRIES = 1 << 20  # entries scanned at a time for row starts
# CSV batches the reader may parse ahead of the reduction (about 1.5 MB each): enough to keep parsing
# through a merge of the partial counts (0.5 s at 8 M entries). 4 -> 32: -12 % wall on shuffled 35- and
# 90-day logs for +35 MB RSS, sorted logs unchanged (docs/aggregate.md). Parquet batches decode faster
# than they are reduced and are twice as large: 4 of them (32 cost 70 MB RSS and no time)
_READ_AHEAD = {"csv": 32, "csv.gz": 32, "parquet": 4}
# a byte range of a time-sorted file (_local_sources; Dask partitions): its batches reduce fast, without
# long merges to parse through, and two are read at once: 32 -> 8 batches, as fast, 44 MB less peak RSS
# on 1 day × 3 journeys sorted (none on 35 days × 3 journeys)
_RANGE_READ_AHEAD = 8
_WRITE_AHEAD = 1  # output tables queued for the writer (one more is made while it waits)
_SPARSE_CHUNK_ENTRIES = 1 << 19  # (row, bucket) entries of the sparse layout made at a time, on average
_BLOCK_ENTRIES = 1 << 20  # entries of the runs summed at a time while the output is written (:class:`_Runs`)
LAYOUTS = ("sparse", "wide")
_DASK_BLOCK = 64 << 20
# the local engine reads a time-sorted CSV file from this size on (below, the probe and the quote scan
# cost about what a cut saves) as _READERS byte ranges at once, where its reduction is light: one reader
# thread parsing at a time was the slowest step (docs/aggregate.md)
_SPLIT_BYTES = 128 << 20
_SPLIT_CELLS_PER_ROW = 8  # cells a request of the first block spreads over, at most, for a cut (_worth_cutting)
_QUOTE_SCAN = 4 << 20  # bytes searched for a quote at a time
_READERS = 2
_DASK_CONNECT_TIMEOUT = "20s"


# --------------------------------------------------------------------------- options, layout


@dataclass(frozen=True, slots=True)
class _Options:
    """How to read and reduce requests (validated once, shipped to Dask workers)."""

    tz: str
    interval_us: int
    edges: tuple[float, ...]
    error_status: str
    strict: bool
    columns: tuple[tuple[str, str], ...]
    fmt: str | None
    limits: Limits = DEFAULT_LIMITS
    by: tuple[str, ...] = ()  # extra label columns kept in the output (``--by``), as named in the output

    @property
    def stamp_bounds(self) -> tuple[int, int]:
        """[lo, hi) of accepted stamps, UTC µs (limits.min_year .. max_year)."""
        return timeparse.stamp_bounds_us(self.limits)

    @property
    def edges_arr(self) -> np.ndarray:
        return np.asarray(self.edges, dtype=float)

    @property
    def error_table(self) -> np.ndarray:
        rx = re.compile(self.error_status)
        return np.array([bool(rx.fullmatch(str(c))) for c in range(600)], dtype=bool)


def _options(
    *,
    interval: Any,  # a timedelta (pd.Timedelta too), text, or anything pd.Timedelta reads
    edges: Sequence[float],
    tz: str,
    columns: Mapping[str, str] | None,
    fmt: str | None,
    strict: bool,
    error_status: str,
    limits: Limits = DEFAULT_LIMITS,
    by: Sequence[str] = (),
) -> _Options:
    if isinstance(interval, str):
        td: Any = parse_timedelta(interval)
    else:  # a pd.Timedelta (ns possible) is a timedelta; anything else as pandas reads it
        td = interval if isinstance(interval, timedelta) else pd.Timedelta(interval)
    whole = isinstance(td, timedelta) and td % timedelta(microseconds=1) == timedelta(0)  # NaT is not one
    if not whole or td < timedelta(seconds=1):
        raise ConfigError(f"aggregation interval must be at least 1s, got {interval!s}. fix: --interval 1min")
    arr = np.asarray(list(edges), dtype=float)
    if arr.size == 0 or not np.isfinite(arr).all() or (arr <= 0).any() or (np.diff(arr) <= 0).any():
        raise ConfigError(
            f"bucket edges must be positive, finite and strictly increasing (ms), got {list(edges)[:8]}. "
            "fix: --edges 50,100,250,500,1000"
        )
    try:
        ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ConfigError(f"unknown timezone {tz!r}. fix: use an IANA name such as UTC or Europe/Berlin") from exc
    try:
        re.compile(error_status)
    except re.error as exc:
        raise ConfigError(f"error_status {error_status!r} is not a valid regular expression: {exc}") from exc
    cols = dict(columns or {})
    unknown = sorted(set(cols) - set(CANONICAL))
    if unknown:
        raise ConfigError(
            f"unknown canonical column(s) {unknown} in the requests column mapping. "
            f"valid: {list(CANONICAL)} (mapping is canonical=source, e.g. timestamp=time)"
        )
    if fmt is not None and fmt not in FORMATS:
        raise ConfigError(f"unknown requests format {fmt!r}. valid: {list(FORMATS)}")
    return _Options(
        tz,
        td // timedelta(microseconds=1),
        tuple(float(e) for e in arr),
        error_status,
        strict,
        tuple(sorted(cols.items())),
        fmt,
        limits,
        _label_names(by, limits),
    )


def _label_names(by: Sequence[str], limits: Limits) -> tuple[str, ...]:
    """The ``--by`` label columns, as the output names them (stripped, lower case): distinct, not a
    canonical column, at most ``limits.max_labels``."""
    names = tuple(str(b).strip().lower() for b in by)
    # (matched as readers match columns, ignoring case, spaces and punctuation: columns.folded;
    # "buckets" is the sparse layout's map)
    taken = {folded(c) for c in (*tm.KEY, *tm.COUNTS, *CANONICAL, "interval_s", "interval_end", st.BUCKETS)}
    bad = [
        n
        for n in names
        # (and a path inside the map: pyarrow reads "buckets.key_value.key" as its part)
        if not n or folded(n) in taken or n.startswith(("le_", st.BUCKETS + "."))
    ]
    if bad:
        raise ConfigError(
            f"--by names a column srekit already keeps or an empty name: {bad}. "
            "fix: --by extra label columns only, e.g. --by region,status_class"
        )
    if len(set(names)) != len(names):
        raise ConfigError(f"--by repeats a column: {list(by)}. fix: name each label column once")
    if len(names) > limits.max_labels:
        raise ConfigError(
            f"--by names {len(names)} label columns, more than limits.max_labels = {limits.max_labels}. "
            "fix: keep the labels you break SLOs down by; " + Limits.raise_hint("max_labels", limits.max_labels)
        )
    return names


@dataclass(frozen=True, slots=True)
class _Layout:
    """Which source column feeds each canonical column (None when absent)."""

    timestamp: str
    latency_ms: str
    status: str | None
    success: str | None
    journey: str | None
    labels: tuple[str, ...] = ()  # the file's columns for ``opts.by``, in that order

    @property
    def first_label(self) -> str | None:
        """The first ``--by`` column (named in strict-mode messages about label values)."""
        return self.labels[0] if self.labels else None

    def sources(self) -> list[str]:
        found = [self.timestamp, self.latency_ms, self.status, self.success, self.journey, *self.labels]
        return list(dict.fromkeys(c for c in found if c is not None))

    def canonical_of(self) -> dict[str, str]:
        """source column → canonical name (for the quarantine file)."""
        out: dict[str, str] = {}
        for canon in CANONICAL:
            src = getattr(self, canon)
            if src is not None and src not in out:
                out[src] = canon
        return out


def _resolve_layout(header: Sequence[str], opts: _Options, source: str) -> _Layout:
    """Match the file's header to the canonical columns (case-insensitively); missing ones raise
    with a suggestion, and two headers for one column (``latency_ms`` twice, ``Journey`` beside
    ``journey``) raise naming both."""
    names = [str(h) for h in header]
    mapping = dict(opts.columns)

    def fold(name: str) -> str:
        return name.strip().lower()

    def find(canon: str) -> str | None:
        if canon in mapping:
            want = mapping[canon]
            exact = find_header(names, canon, fold, mapped=want, source=source, kind=KIND)
            found = exact or find_header(names, want, fold, source=source, kind=KIND)
            if found is None:
                raise _missing(source, canon, names, mapped=want)
            return found
        return find_header(names, canon, fold, source=source, kind=KIND)

    ts, lat = find("timestamp"), find("latency_ms")
    status, success = find("status"), find("success")
    if "journey" in mapping:
        journey = find("journey")
    else:
        journey = next((j for c in JOURNEY_FALLBACKS if (j := find(c)) is not None), None)
    if ts is None:
        raise _missing(source, "timestamp", names)
    if lat is None:
        raise _missing(source, "latency_ms", names)
    if status is None and success is None:
        raise _missing(source, "status", names, alternative="or a boolean `success` column")
    labels = []
    for label in opts.by:
        found = find_header(names, label, fold, source=source, kind=KIND)
        if found is None:
            raise input_error(
                f"requests file has no column {label!r} to keep as a label (--by)",
                file=source,
                column=label,
                got=", ".join(names[:12]) or "no columns",
                fix=f"leave {label!r} out of --by, or export the log with that column",
            )
        labels.append(found)
    return _Layout(ts, lat, status, success if status is None else None, journey, tuple(labels))


def _missing(
    source: str, canon: str, names: Sequence[str], *, mapped: str | None = None, alternative: str = ""
) -> InputError:
    """Missing column: names the closest header (difflib) and the mapping that would fix it."""
    wanted = mapped or canon
    close = difflib.get_close_matches(wanted.lower(), [n.lower() for n in names], n=1, cutoff=0.6)
    if close:
        original = next(n for n in names if n.lower() == close[0])
        fix = f"did you mean {original!r}? rename it to {canon!r} or pass --columns {canon}={original}"
    else:
        fix = f"add a {canon!r} column or map yours with --columns {canon}=YOUR_COLUMN"
    problem = (
        f"requests file has no column {mapped!r} (mapped to {canon})"
        if mapped
        else "requests file is missing a required column"
    )
    return input_error(
        problem,
        file=source,
        column=wanted,
        expected=f"columns timestamp, latency_ms, status {alternative}".strip() + "; optional journey/endpoint/route",
        got=", ".join(names[:12]) or "no columns",
        fix=fix,
    )


# --------------------------------------------------------------------------- column parsing


def _as_array(col: pa.Array | pa.ChunkedArray) -> pa.Array:
    return col.combine_chunks() if isinstance(col, pa.ChunkedArray) else col


def _text(arr: pa.Array) -> pd.Series:
    """A column as pandas text (slow path only)."""
    if not (pa.types.is_string(arr.type) or pa.types.is_large_string(arr.type)):
        arr = pc.cast(arr, pa.string())
    return pd.Series(arr.to_pandas(), dtype="str")


def _na_like(text: pd.Series) -> np.ndarray:
    low = text.str.strip().str.lower()
    return (text.isna() | low.isin(_NA_TOKENS)).to_numpy(dtype=bool)


def _parse_float(arr: pa.Array) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Values (float64), missing mask (empty/NaN/null) and non-numeric mask."""
    n = len(arr)
    t = arr.type
    if pa.types.is_integer(t) or pa.types.is_floating(t) or pa.types.is_decimal(t):
        vals = numpy_of(pc.cast(arr, pa.float64()))
        return vals, np.isnan(vals), np.zeros(n, bool)
    if pa.types.is_string(t) or pa.types.is_large_string(t):
        try:
            vals = numpy_of(pc.cast(arr, pa.float64()))
            return vals, np.isnan(vals), np.zeros(n, bool)
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            pass
    text = _text(arr)
    missing = _na_like(text)
    values = pd.to_numeric(text.str.strip(), errors="coerce").to_numpy(dtype=float)
    nonnum = np.isnan(values) & ~missing
    return values, missing, nonnum


def _parse_latency(arr: pa.Array) -> tuple[np.ndarray, tuple[tuple[str, np.ndarray], ...]]:
    """Latencies (float64) and the reject masks that explain a NaN: missing, non-numeric, decimal
    comma, ambiguous comma. Text that pyarrow's float cast refuses is read by
    :func:`srekit.inputs.numbers.parse_numbers` (the loaders' rules for every number)."""
    t = arr.type
    plain = pa.types.is_integer(t) or pa.types.is_floating(t) or pa.types.is_decimal(t)
    if plain or pa.types.is_string(t) or pa.types.is_large_string(t):
        try:
            vals = numpy_of(pc.cast(arr, pa.float64()))
            return vals, ((R_LAT_MISSING, np.isnan(vals)),)
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            pass
    parsed = num.parse_numbers(_text(arr))
    reasons = {num.MISSING: R_LAT_MISSING, num.NON_NUMERIC: R_LAT_TEXT, num.DECIMAL_COMMA: R_LAT_COMMA}
    reasons[num.AMBIGUOUS] = R_LAT_AMBIGUOUS
    return parsed.values, tuple((reasons[r], m) for r, m in parsed.masks if r in reasons)


def _parse_bool(arr: pa.Array) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """True/False values, missing mask and unparseable mask. Text is matched in Arrow after
    trimming ASCII white space and lowering ASCII letters; the rows that match no token then
    (other white space, other case) are read by :func:`_parse_bool_text`, the exact rules."""
    if pa.types.is_boolean(arr.type):
        return numpy_of(arr, null=False), numpy_of(arr.is_null()), np.zeros(len(arr), bool)
    if not (pa.types.is_string(arr.type) or pa.types.is_large_string(arr.type)):
        arr = pc.cast(arr, pa.string())
    low = pc.ascii_lower(pc.utf8_trim(arr, characters=" \t\n\r\x0b\x0c"))

    def among(tokens: Sequence[str]) -> np.ndarray:
        return numpy_of(pc.is_in(low, value_set=strings_of(tokens, low.type)), null=False)

    true, false = among(_TRUE), among(_FALSE)
    missing = (numpy_of(arr.is_null()) | among(_NA_TOKENS)) & ~false
    odd = ~(true | false | missing)
    if odd.any():
        rows = np.flatnonzero(odd)
        true[rows], missing[rows], odd[rows] = _parse_bool_text(_text(arr.take(arrow_of(rows))))
    return true, missing, odd


def _parse_bool_text(text: pd.Series) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """:func:`_parse_bool` of text, by pandas' white space and case rules."""
    low = text.str.strip().str.lower()
    missing = _na_like(text) & ~low.isin(_FALSE).to_numpy()
    true = low.isin(_TRUE).to_numpy()
    false = low.isin(_FALSE).to_numpy()
    return true, missing, ~(true | false | missing)


def _i8(values: pd.Series) -> np.ndarray:
    """Datetime series (tz-aware or naive) → int64 µs since the epoch (UTC for aware)."""
    return pd.DatetimeIndex(values).as_unit("us").asi8.copy()


def _localize(naive_us: np.ndarray, tz: str, seen: dict[int, int]) -> tuple[np.ndarray, int, int]:
    """Naive wall times (int64 µs, NaT-free) in ``tz`` → UTC µs, by the timeutil DST rule.

    ``seen`` counts how often each ambiguous wall time already occurred in earlier batches of
    the same file, so "first occurrence in file order" holds across batches.
    """
    if tz == "UTC" or naive_us.size == 0:
        return naive_us, 0, 0
    s = pd.Series(naive_us.astype("datetime64[us]"))
    probe = s.dt.tz_localize(tz, ambiguous="NaT", nonexistent="NaT")
    problem = probe.isna().to_numpy()
    if not problem.any():
        return _i8(probe), 0, 0
    earlier = s[problem].dt.tz_localize(tz, ambiguous=True, nonexistent="NaT")
    amb_pos = np.flatnonzero(problem)[earlier.notna().to_numpy()]
    flags = np.ones(len(s), dtype=bool)
    if amb_pos.size:
        walls = naive_us[amb_pos]
        within = pd.Series(walls).groupby(walls).cumcount().to_numpy()
        before = np.array([seen.get(int(w), 0) for w in walls], dtype=np.int64)
        flags[amb_pos] = (within + before) == 0
        for w, c in Counter(walls.tolist()).items():
            seen[w] = seen.get(w, 0) + c
    out = s.dt.tz_localize(tz, ambiguous=flags, nonexistent="shift_forward").dt.tz_convert("UTC")
    n_amb = int(amb_pos.size)
    return _i8(out), n_amb, int(problem.sum()) - n_amb


@dataclass(slots=True)
class _Times:
    us: np.ndarray  # int64 UTC microseconds (garbage where bad)
    bad: np.ndarray
    ambiguous: int = 0
    nonexistent: int = 0
    with_offset: int = 0
    naive: int = 0
    out_of_range: np.ndarray | None = None


def _parse_times(arr: pa.Array, tz: str, seen: dict[int, int], bounds: tuple[int, int]) -> _Times:
    """Timestamps → UTC µs by :mod:`srekit.inputs.timeparse`'s rules, and the range check
    (``bounds``: [lo, hi) in µs, from limits.min_year .. max_year)."""
    times = _parse_stamps(arr, tz, seen)
    lo, hi = bounds
    times.out_of_range = ~times.bad & ((times.us < lo) | (times.us >= hi))
    return times


def _parse_stamps(arr: pa.Array, tz: str, seen: dict[int, int]) -> _Times:
    """Fast paths: all stamps with offsets, or all naive, parsed by pyarrow's ISO-8601 cast;
    anything else goes through :func:`srekit.inputs.timeparse.parse_text` (exact forms)."""
    t = arr.type
    if pa.types.is_timestamp(t):
        # safe=False: finer units are cut to whole microseconds (the model's resolution)
        if t.tz is not None:
            return _aware_times(pc.cast(arr, pa.timestamp("us", tz="UTC"), safe=False))
        return _naive_times(pc.cast(arr, pa.timestamp("us"), safe=False), tz, seen)
    if pa.types.is_integer(t) or pa.types.is_floating(t):  # epochs by magnitude, as timeparse
        missing = numpy_of(arr.is_null())
        us, bad = timeparse.epoch_number_us(numpy_of(arr, null=0))
        bad |= missing
        return _Times(np.where(bad, 0, us), bad, with_offset=int((~bad).sum()))
    if not (pa.types.is_string(t) or pa.types.is_large_string(t)):
        arr = pc.cast(arr, pa.string())
    try:
        return _aware_times(pc.cast(arr, pa.timestamp("us", tz="UTC")))
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        pass
    try:
        return _naive_times(pc.cast(arr, pa.timestamp("us")), tz, seen)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        pass
    return _slow_times(_text(arr), tz, seen)


def _int_values(a: pa.Array) -> tuple[np.ndarray, np.ndarray]:
    """int64 view of a timestamp array (0 where null) and its null mask."""
    ints = pc.cast(a, pa.int64())
    nulls = numpy_of(ints.is_null()) if ints.null_count else np.zeros(len(ints), dtype=bool)
    return numpy_of(ints, null=0), nulls


def _aware_times(a: pa.Array) -> _Times:
    us, bad = _int_values(a)
    return _Times(us, bad, with_offset=len(a) - int(bad.sum()))


def _naive_times(a: pa.Array, tz: str, seen: dict[int, int]) -> _Times:
    raw, bad = _int_values(a)
    raw = raw.copy()
    # beyond pandas' range: left as is, out of range
    ok = ~bad & (raw > timeparse.WALL_FLOOR_US) & (raw < timeparse.WALL_CEILING_US)
    out, amb, nonex = _localize(raw[ok], tz, seen)
    raw[ok] = out
    return _Times(raw, bad, amb, nonex, naive=int((~bad).sum()))


def _slow_times(text: pd.Series, tz: str, seen: dict[int, int]) -> _Times:
    """Mixed or partly broken stamps by :func:`srekit.inputs.timeparse.parse_text`: offsets and
    epochs exactly, naive ones in ``tz`` (DST rule across batches), anything else bad."""
    parsed = timeparse.parse_text(text)
    us = parsed.us.copy()
    amb = nonex = 0
    if parsed.naive.any():
        us[parsed.naive], amb, nonex = _localize(us[parsed.naive], tz, seen)
    bad = parsed.bad | parsed.missing
    return _Times(us, bad, amb, nonex, with_offset=parsed.with_offset, naive=int(parsed.naive.sum()))


# --------------------------------------------------------------------------- reduction core


_CELL_SHIFT = np.uint64(43)  # float64 bits >> 43: 9 mantissa bits, cells ≈ 0.4 % wide
_CELLS = (0x7FF0000000000000 >> 43) + 1  # the last cell (inf/NaN, and -0.0 clipped) is never trusted


@functools.lru_cache(maxsize=8)
def _bucket_table(edges: tuple[float, ...]) -> np.ndarray:
    """Bucket of every float64 "cell" (values sharing their top 21 bits), or -1 where an edge
    falls inside the cell. Non-negative doubles order like their bit patterns (IEEE 754), so a
    cell is an interval of values."""
    arr = np.asarray(edges, dtype=float)
    cell = arr.view(np.uint64) >> _CELL_SHIFT  # the cell of each edge (edges are positive)
    inside = np.bincount(np.minimum(cell, _CELLS - 1).astype(np.int64), minlength=_CELLS)
    table = np.zeros(_CELLS, dtype=np.int16)
    np.cumsum(inside[:-1], out=table[1:])  # edges in the cells below: the bucket of every value in the cell …
    table[inside > 0] = -1  # … unless an edge falls inside it
    table[-1] = -1
    return table


def _bucket_index(latency: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """``np.searchsorted(edges, latency, side="left")`` (the Prometheus ``le`` bucket: a value
    equal to an edge belongs to that edge), answered from a lookup table of float64 bit cells
    for the ~98 % of values whose cell holds no edge, and by ``searchsorted`` for the rest —
    exact, and about 3× faster than ``searchsorted`` alone (docs/aggregate.md)."""
    if len(edges) >= np.iinfo(np.int16).max:
        return np.searchsorted(edges, latency, side="left")
    table = _bucket_table(tuple(edges.tolist()))
    cell = np.ascontiguousarray(latency, dtype=np.float64).view(np.uint64) >> _CELL_SHIFT
    np.minimum(cell, _CELLS - 1, out=cell)
    bucket = table[cell].astype(np.int64)
    unsure = bucket < 0
    if unsure.any():
        bucket[unsure] = np.searchsorted(edges, latency[unsure], side="left")
    return bucket


@dataclass(frozen=True, slots=True)
class _Codec:
    """(journey, interval, slot) packed into one int64, most significant first, so that sorting
    codes sorts by journey, then time, then slot; slots ``0 .. len(edges)`` are latency buckets
    (what :func:`_bucket_index` returns), slot ``len(edges) + 1`` the errors. The interval is
    counted from the first interval of ``limits.min_year``, so every accepted stamp fits and the
    codes of all sources (and Dask partitions) of one run agree."""

    origin: int  # interval index of the earliest accepted stamp
    idx_bits: int
    slot_bits: int

    @classmethod
    def of(cls, opts: _Options) -> _Codec:
        lo, hi = opts.stamp_bounds
        origin = lo // opts.interval_us
        idx_bits = int((hi - 1) // opts.interval_us - origin).bit_length()
        slot_bits = (len(opts.edges) + 1).bit_length()
        if idx_bits + slot_bits > 53:
            raise ConfigError(
                f"{len(opts.edges)} bucket edges over the years {opts.limits.min_year}..{opts.limits.max_year} at "
                f"{pd.Timedelta(opts.interval_us, unit='us')} leave too few journeys in one aggregate. "
                "fix: fewer --edges, a longer --interval, or a narrower limits year range"
            )
        return cls(origin, idx_bits, slot_bits)

    @property
    def journey_cap(self) -> int:
        """Journey codes must stay below this (2**31 with the defaults)."""
        return 1 << (63 - self.idx_bits - self.slot_bits)

    @property
    def row_shift(self) -> int:
        return self.idx_bits + self.slot_bits

    def rows(self, jcode: np.ndarray, idx: np.ndarray) -> np.ndarray:
        """Row code (journey, interval) of each request: ``code >> slot_bits``."""
        return (jcode.astype(np.int64, copy=False) << self.idx_bits) + (idx - self.origin)

    def journey(self, codes: np.ndarray) -> np.ndarray:
        return codes >> self.row_shift

    def interval(self, codes: np.ndarray) -> np.ndarray:
        return ((codes >> self.slot_bits) & ((1 << self.idx_bits) - 1)) + self.origin

    def slot(self, codes: np.ndarray) -> np.ndarray:
        return codes & ((1 << self.slot_bits) - 1)


def _sparse_counts(parts: list[tuple[np.ndarray, np.ndarray]]) -> tuple[np.ndarray, np.ndarray]:
    """Sum the counts of equal codes over (codes, counts) parts: ascending unique codes and their
    counts (summed in uint32 while the sum of all counts fits, else in int64; counts of codes
    that were all distinct keep their type). ``parts`` is emptied as the entries are gathered, so
    that about one copy of them is alive while they are sorted."""
    if not parts:
        return np.zeros(0, np.int64), np.zeros(0, np.uint32)
    if len(parts) == 1:
        codes, counts = parts.pop()
    else:
        codes, counts = _gather(parts)
        if not (codes[1:] >= codes[:-1]).all():
            _sort_in_place(codes, counts)
    new = np.empty(codes.size, dtype=bool)
    new[:1] = True
    np.not_equal(codes[1:], codes[:-1], out=new[1:])
    if new.all():
        return codes, counts
    dtype = np.uint32 if int(counts.sum(dtype=np.uint64)) <= np.iinfo(np.uint32).max else np.int64
    unique = int(np.count_nonzero(new))
    if 2 * unique < codes.size:  # mostly repeats: few starts to gather
        starts = np.flatnonzero(new)
        return codes[starts], np.add.reduceat(counts, starts, dtype=dtype)
    # mostly new codes (shuffled requests over long spans): each repeat's count goes to the last
    # new code before it (repeat k, 0-based, at entry p belongs to unique entry p - k - 1); a
    # boolean mask and np.add.at instead of gathering the starts for np.add.reduceat: 0.19 ->
    # 0.05 s on 10 M entries with 14 % repeats
    repeats = np.flatnonzero(~new)
    np.subtract(repeats, np.arange(1, repeats.size + 1), out=repeats)
    sums = counts[new].astype(dtype, copy=False)
    np.add.at(sums, repeats, counts[~new].astype(dtype, copy=False))
    return codes[new], sums


def _gather(parts: list[tuple[np.ndarray, np.ndarray]]) -> tuple[np.ndarray, np.ndarray]:
    """The parts' entries in one (codes, counts) pair, each part released once copied."""
    n = sum(p[0].size for p in parts)
    codes = np.empty(n, np.int64)
    counts = np.empty(n, np.result_type(*(p[1].dtype for p in parts)))
    at = 0
    while parts:
        c, k = parts.pop(0)
        codes[at : at + c.size] = c
        counts[at : at + c.size] = k
        at += c.size
    return codes, counts


def _sort_in_place(codes: np.ndarray, counts: np.ndarray) -> None:
    """Order (codes, counts) by code, in place: the concatenation of ascending runs (the parts
    merged). When the codes' range and the largest count fit 63 bits together (always in
    practice: a few dozen bits of codes, counts of one batch), each pair is packed into its int64
    code and sorted in place (no array beyond the two); otherwise a stable argsort. Both sorts
    are numpy's stable one, a timsort: it finds the runs and merges them, 4-12× faster on such
    input than the default quicksort (which treated them as random: 2.2 of 6.1 s for 10 M
    shuffled requests over 90 days)."""
    lo = int(codes.min())
    code_bits = (int(codes.max()) - lo).bit_length()
    count_bits = max(1, int(counts.max()).bit_length())
    if code_bits + count_bits > 63:
        order = np.argsort(codes, kind="stable")
        codes[:] = codes[order]
        counts[:] = counts[order]
        return
    codes -= lo
    codes <<= count_bits
    codes |= counts
    codes.sort(kind="stable")
    np.bitwise_and(codes, (1 << count_bits) - 1, out=counts, casting="unsafe")
    codes >>= count_bits
    codes += lo


def _reduce_rows(
    jcode: np.ndarray,
    ts_us: np.ndarray,
    latency: np.ndarray,
    error: np.ndarray,
    opts: _Options,
    codec: _Codec,
) -> tuple[np.ndarray, np.ndarray]:
    """Sparse counts of one batch of accepted rows: ascending codes (see :class:`_Codec`) and how
    many requests each holds, non-zero only. A latency equal to an edge falls into that edge's
    bucket (Prometheus ``le``). See :func:`_reduce_cells`."""
    if ts_us.size == 0:
        return np.zeros(0, np.int64), np.zeros(0, np.uint32)
    return _reduce_cells(
        jcode, np.floor_divide(ts_us, opts.interval_us), _bucket_index(latency, opts.edges_arr), error, opts, codec
    )


def _reduce_cells(
    jcode: np.ndarray, idx: np.ndarray, slot: np.ndarray, error: np.ndarray, opts: _Options, codec: _Codec
) -> tuple[np.ndarray, np.ndarray]:
    """:func:`_reduce_rows` of rows already cut into intervals ``idx`` and bucket slots ``slot``.
    Memory and time follow the batch's rows, never its span: a batch confined to few (journey,
    interval) cells (sorted logs) is counted with ``np.bincount`` over those cells, any other
    batch by sorting its codes: numbered within the batch's box of cells as ``uint32`` where they
    fit (every box of at most 2**32 cells × slots: 30 journeys over 700 days of minutes with the
    140 default edges), which numpy sorts in 30 % less time than the ``int64`` codes (0.48 ->
    0.33 s over the 240 batches of 10 M requests shuffled over 90 days for 30 journeys), else as
    those codes (``np.unique``)."""
    if idx.size == 0:
        return np.zeros(0, np.int64), np.zeros(0, np.uint32)
    _check_journeys(jcode, codec)
    errs = len(opts.edges) + 1
    width = len(opts.edges) + 2  # the slots: buckets, then errors
    box = _Box.of(jcode, idx)
    if box.cells * width > 1 << 32:
        row = codec.rows(jcode, idx)
        both = np.concatenate([(row << codec.slot_bits) + slot, (row[error] << codec.slot_bits) + errs])
        codes, counts = np.unique(both, return_counts=True)
        return codes, counts.astype(np.uint32)
    cell = box.cell(jcode, idx)
    if box.cells * width <= max(_DENSE_CELLS, 4 * idx.size):  # few cells: count straight into them
        grid = np.bincount(cell * width + slot, minlength=box.cells * width)
        grid[errs::width] = np.bincount(cell[error], minlength=box.cells)
        nz = np.flatnonzero(grid != 0)  # (faster on a bool mask than on the int64 counts)
        return _box_codes(nz, box, width, codec), grid[nz].astype(np.uint32)
    cell *= width
    local = np.empty(idx.size + int(np.count_nonzero(error)), np.uint32)
    np.add(cell, slot, out=local[: idx.size], casting="unsafe")
    np.add(cell[error], errs, out=local[idx.size :], casting="unsafe")
    local.sort()
    new = np.empty(local.size, dtype=bool)
    new[:1] = True
    np.not_equal(local[1:], local[:-1], out=new[1:])
    starts = np.flatnonzero(new)
    counts = np.diff(starts, append=local.size).astype(np.uint32)
    return _box_codes(local[starts].astype(np.int64), box, width, codec), counts


def _box_codes(flat: np.ndarray, box: _Box, width: int, codec: _Codec) -> np.ndarray:
    """The codes (:class:`_Codec`) of positions ``flat`` in ``box`` × ``width`` slots, numbered
    row-major (``box.cell(...) * width + slot``)."""
    at, slot = np.divmod(flat, width)
    j_off, i_off = np.divmod(at, box.intervals)
    base = codec.rows(np.asarray(box.j0), np.asarray(box.i0))
    return ((base + (j_off << codec.idx_bits) + i_off) << codec.slot_bits) + slot


def _check_journeys(jcode: np.ndarray, codec: _Codec) -> None:
    if int(jcode.max()) >= codec.journey_cap:
        raise ConfigError(f"more than {codec.journey_cap:,} journeys in one aggregate. fix: fewer journeys")


@dataclass(frozen=True, slots=True)
class _Box:
    """The (journey, interval) cells a batch of rows falls in: journeys ``j0 .. j1``, intervals
    ``i0 .. i1``, inclusive."""

    j0: int
    j1: int
    i0: int
    i1: int

    @classmethod
    def of(cls, jcode: np.ndarray, idx: np.ndarray) -> _Box:
        return cls(int(jcode.min()), int(jcode.max()), int(idx.min()), int(idx.max()))

    @property
    def intervals(self) -> int:
        return self.i1 - self.i0 + 1

    @property
    def cells(self) -> int:
        return (self.j1 - self.j0 + 1) * self.intervals

    def cell(self, jcode: np.ndarray, idx: np.ndarray) -> np.ndarray:
        """The box's cell of each row, numbered row-major (journey, then interval), as int64."""
        return (jcode.astype(np.int64, copy=False) - self.j0) * self.intervals + (idx - self.i0)

    def joint(self, other: _Box) -> _Box:
        return _Box(min(self.j0, other.j0), max(self.j1, other.j1), min(self.i0, other.i0), max(self.i1, other.i1))

    def common(self, other: _Box) -> int:
        """Cells in both boxes."""
        j = min(self.j1, other.j1) - max(self.j0, other.j0) + 1
        i = min(self.i1, other.i1) - max(self.i0, other.i0) + 1
        return max(j, 0) * max(i, 0)


@dataclass(slots=True)
class _Grid:
    """Dense uint32 counts of one box of (journey, interval) cells × slots, for a source whose
    batches all fall in the same box (shuffled requests): each request is one ``np.add.at``
    into it, where the sparse path sorts every batch and merges the sorted runs again and again
    (:class:`_Acc`). Only made when it is no larger than the source's sparse entries could be
    (``_GRID_CELLS_PER_ROW``); requests outside the box take the sparse path."""

    box: _Box
    width: int
    codec: _Codec
    counts: np.ndarray
    rows: int = 0  # requests counted (with their errors): below 2**32, so no cell overflows

    @classmethod
    def of(cls, box: _Box, width: int, codec: _Codec) -> _Grid:
        return cls(box, width, codec, np.zeros(box.cells * width, np.uint32))

    def covers(self, jcode: np.ndarray, idx: np.ndarray) -> np.ndarray:
        b = self.box
        inside = (idx >= b.i0) & (idx <= b.i1)
        if int(jcode.min()) < b.j0 or int(jcode.max()) > b.j1:
            inside &= (jcode >= b.j0) & (jcode <= b.j1)
        return inside

    def room(self, n: int) -> bool:
        return self.rows + 2 * n <= _GRID_MAX_ROWS  # a request and its error: no cell can overflow

    def add(self, jcode: np.ndarray, idx: np.ndarray, slot: np.ndarray, error: np.ndarray) -> None:
        cell = self.box.cell(jcode, idx)
        cell *= self.width
        np.add.at(self.counts, cell + slot, np.uint32(1))
        np.add.at(self.counts, cell[error] + (self.width - 1), np.uint32(1))
        self.rows += idx.size + int(np.count_nonzero(error))

    def run(self) -> tuple[np.ndarray, np.ndarray]:
        """The non-zero cells as one sorted run of (code, count), a journey at a time, made in
        place (every fresh array this large costs page faults: 0.34 -> 0.14 s for 6 M cells)."""
        b, w = self.box, self.width
        per = b.intervals * w
        codes = np.empty(int(np.count_nonzero(self.counts)), np.int64)
        counts = np.empty(codes.size, np.uint32)
        at = 0
        for j in range(b.j0, b.j1 + 1):
            part = self.counts[(j - b.j0) * per : (j - b.j0 + 1) * per]
            nz = np.flatnonzero(part)
            code = codes[at : at + nz.size]
            np.take(part, nz, out=counts[at : at + nz.size])
            np.floor_divide(nz, w, out=code)  # the interval, from the box's first
            np.subtract(nz, code * w, out=nz)  # the slot
            code += int(self.codec.rows(np.asarray(j), np.asarray(b.i0)))
            code <<= self.codec.slot_bits
            code += nz
            at += nz.size
        return codes, counts


@dataclass(slots=True)
class _Acc:
    """Sparse partial counts of one source: sorted (code, count) runs, summed into one compacted
    base once the new entries outnumber ``spread`` times it (and at least ``_COMPACT_ENTRIES``),
    so memory stays within ``spread + 1`` times the number of distinct (journey, interval, slot)
    cells seen, and merging is O(n log n) overall (a stable sort of sorted runs is a merge).

    ``spread`` is 1 until a merge keeps more than ``_DISTINCT_SHARE`` of its entries (shuffled
    requests over a long span: nearly every request its own cell; or a time-sorted log, whose
    batches hold disjoint cells): such merges save no memory, they only move entries. It is 4
    from then on, so such a source is merged about twice per 10 M requests instead of at every
    doubling, and the rest is left to the last merge, which :class:`_Runs` overlaps with the
    write (docs/aggregate.md).

    A source whose batches all cover one box of cells (shuffled requests over a span small enough
    for the rows: ``_GRID_CELLS_PER_ROW``) is counted into a dense :class:`_Grid` instead, from its
    second batch on: neither sorted nor merged (:meth:`add_rows`)."""

    parts: list[tuple[np.ndarray, np.ndarray]] = field(default_factory=list)
    pending: int = 0  # entries added since the last compaction
    base: int = 0  # entries in the compacted base
    spread: int = 1
    grid: _Grid | None = None
    last: _Box | None = None  # the box of the batch before, while no grid is made

    def add_rows(
        self,
        jcode: np.ndarray,
        ts_us: np.ndarray,
        latency: np.ndarray,
        error: np.ndarray,
        opts: _Options,
        codec: _Codec,
        expected_rows: int,
    ) -> None:
        """Count one batch of accepted rows (see :func:`_reduce_rows`): into the grid where it
        has one and the rows fall in it, else as sparse entries. The grid is made when two
        batches in a row cover nearly the same box (``_GRID_OVERLAP``: never for time-sorted
        logs, whose batches follow each other in time) and the box is within the budget for
        ``expected_rows`` requests."""
        if ts_us.size == 0:
            return
        _check_journeys(jcode, codec)
        idx = np.floor_divide(ts_us, opts.interval_us)
        slot = _bucket_index(latency, opts.edges_arr)
        width = len(opts.edges) + 2
        if self.grid is None and self.last is not None:
            box = _Box.of(jcode, idx)
            joint = box.joint(self.last)
            budget = min(_GRID_CELLS, _GRID_CELLS_PER_ROW * expected_rows)
            if box.common(self.last) >= _GRID_OVERLAP * joint.cells and joint.cells * width <= budget:
                self.grid = _Grid.of(joint, width, codec)
            self.last = None if self.grid is not None else box
        elif self.grid is None:
            self.last = _Box.of(jcode, idx)
        if self.grid is not None:
            if not self.grid.room(idx.size):  # full: its counts join the sparse runs
                self.add(*self.grid.run())
                self.grid = None
            else:
                inside = self.grid.covers(jcode, idx)
                if inside.all():
                    self.grid.add(jcode, idx, slot, error)
                    return
                self.grid.add(jcode[inside], idx[inside], slot[inside], error[inside])
                out = ~inside
                jcode, idx, slot, error = jcode[out], idx[out], slot[out], error[out]
        self.add(*_reduce_cells(jcode, idx, slot, error, opts, codec))

    def add(self, codes: np.ndarray, counts: np.ndarray) -> None:
        self.parts.append((codes, counts))
        self.pending += codes.size
        if self.pending > max(_COMPACT_ENTRIES, self.spread * self.base) and len(self.parts) > 1:
            self._merge()

    def _merge(self) -> None:
        entries = self.base + self.pending
        codes, counts = _sparse_counts(self.parts)
        self.parts = [(codes, counts)]
        if codes.size > _DISTINCT_SHARE * entries:
            self.spread = 4
        self.base = codes.size
        self.pending = 0

    def runs(self) -> list[tuple[np.ndarray, np.ndarray]]:
        """Everything added, as sorted runs of unique codes not yet summed into one: the last
        merge is left to :class:`_Runs`, which does it a block at a time while the output is
        written."""
        if self.grid is not None and self.grid.rows:
            self.parts.append(self.grid.run())
        self.grid = None
        runs, self.parts = self.parts, []
        return runs


@dataclass(frozen=True, slots=True)
class _Sparse:
    """The aggregate of a run, or a block of its whole rows (:meth:`_Runs.blocks`), sparse:
    ascending unique codes (journeys numbered in name order) and counts. Its memory follows the
    distinct (journey, interval, bucket) cells, not the span × the edges; the canonical tables are
    made in chunks of rows (:meth:`tables`, :meth:`sparse_tables`)."""

    codes: np.ndarray
    counts: np.ndarray
    journeys: list[Any]  # by code, sorted: journey names, or (journey, *label values) with ``--by``
    codec: _Codec
    opts: _Options

    def row_starts(self) -> np.ndarray:
        """Index of the first entry of every output row, found ``_SCAN_ENTRIES`` entries at a time
        (the whole array of row codes was 72 MB beside the 9 M entries of a 90-day aggregate)."""
        found = [np.zeros(min(1, self.codes.size), np.int64)]
        for at in range(0, self.codes.size - 1, _SCAN_ENTRIES):
            rows = self.codes[at : at + _SCAN_ENTRIES + 1] >> self.codec.slot_bits
            found.append(np.flatnonzero(rows[1:] != rows[:-1]) + (at + 1))
        return np.concatenate(found)

    def schema(self) -> pa.Schema:
        """The canonical frame's Arrow schema, with the pandas metadata ``DataFrame.to_parquet`` writes;
        the ``--by`` label columns (text) follow ``journey``."""
        return pa.Schema.from_pandas(tm.empty(self.opts.edges, labels=self.opts.by), preserve_index=False)

    def _name_arrays(self, schema: pa.Schema) -> list[pa.Array]:
        """The journey column's names by code, then one per label column."""
        if not self.opts.by:
            return [strings_of(self.journeys, schema.field("journey").type)]
        keys = ["journey", *self.opts.by]
        return [strings_of([t[i] for t in self.journeys], schema.field(k).type) for i, k in enumerate(keys)]

    def tables(self, chunk_rows: int | None = None) -> Iterator[pa.Table]:
        """The canonical table (journey, then time), ``chunk_rows`` (``_CHUNK_ROWS``) rows at a time."""
        schema = self.schema()
        names = self._name_arrays(schema)
        for codes, counts, starts in self._chunks(chunk_rows or _CHUNK_ROWS):
            yield self._table(codes, counts, starts, schema, names)

    def _table(
        self, codes: np.ndarray, counts: np.ndarray, starts: np.ndarray, schema: pa.Schema, names: list[pa.Array]
    ) -> pa.Table:
        """Rows of whole (journey, interval) entries: ``starts`` = first entry of each row."""
        nb = len(self.opts.edges)
        row = _entry_rows(codes.size, starts)
        dense = np.zeros((starts.size, nb + 2), dtype=np.int64, order="F")  # columns contiguous: Arrow zero-copy
        dense.T.reshape(-1)[self.codec.slot(codes) * starts.size + row] = counts  # a flat index: 2× faster
        le = dense[:, :nb]
        for k in range(1, nb):  # cumulative le_ buckets, column by contiguous column (10× np.cumsum's axis=1)
            np.add(le[:, k], le[:, k - 1], out=le[:, k])
        columns = [
            *self._key_arrays(codes[starts], schema, names),
            arrow_of(le[:, nb - 1] + dense[:, nb]),  # total: up to the last edge, plus above it
            arrow_of(dense[:, nb + 1]),
            *(arrow_of(le[:, k]) for k in range(nb)),
        ]
        return pa.Table.from_arrays(columns, schema=schema)

    def sparse_tables(self, schema: pa.Schema) -> Iterator[pa.Table]:
        """The rows of :meth:`tables` in the sparse layout (``schema``: :meth:`_Runs.sparse_schema`):
        non-zero, non-cumulative buckets only."""
        names = self._name_arrays(schema)
        dtype = schema.field("total").type.to_pandas_dtype()
        les = np.r_[np.asarray(self.opts.edges, dtype=np.float64), np.inf]
        errs = len(self.opts.edges) + 1
        for codes, counts, starts in self._chunks(None):
            row = _entry_rows(codes.size, starts)
            slot = self.codec.slot(codes)
            failed = slot == errs
            bucket = ~failed
            counts = counts.astype(dtype, copy=False)
            buckets = st.buckets_array(row[bucket], slot[bucket], counts[bucket], starts.size, les)
            total = np.add.reduceat(counts[bucket], numpy_of(buckets.offsets)[:-1], dtype=dtype)  # ≥ 1 bucket a row
            errors = np.zeros(starts.size, dtype)
            errors[row[failed]] = counts[failed]
            columns = [*self._key_arrays(codes[starts], schema, names), arrow_of(total), arrow_of(errors), buckets]
            yield pa.Table.from_arrays(columns, schema=schema)

    def _chunks(self, chunk_rows: int | None) -> Iterator[tuple[np.ndarray, np.ndarray, np.ndarray]]:
        """(codes, counts, first entry of each row) of ``chunk_rows`` whole rows at a time (None:
        as many rows as hold about ``_SPARSE_CHUNK_ENTRIES`` entries on average)."""
        starts = self.row_starts()
        if chunk_rows is None:
            chunk_rows = max(1, starts.size * _SPARSE_CHUNK_ENTRIES // max(1, self.codes.size))
        for r0 in range(0, starts.size, chunk_rows):
            e0 = int(starts[r0])
            e1 = int(starts[r0 + chunk_rows]) if r0 + chunk_rows < starts.size else self.codes.size
            yield self.codes[e0:e1], self.counts[e0:e1], starts[r0 : r0 + chunk_rows] - e0

    def _key_arrays(self, first: np.ndarray, schema: pa.Schema, names: list[pa.Array]) -> list[pa.Array]:
        """The journey, label and ``interval_start`` columns of rows whose first entries are ``first``."""
        series = arrow_of(self.codec.journey(first))
        stamps = self.codec.interval(first) * self.opts.interval_us
        return [
            names[0].take(series),
            *(label.take(series) for label in names[1:]),
            arrow_of(stamps, schema.field("interval_start").type),
        ]

    def frame(self) -> pd.DataFrame:
        """The whole canonical frame (``tm.empty`` when there are no rows)."""
        if self.codes.size == 0:
            return tm.empty(self.opts.edges, labels=self.opts.by)
        return next(self.tables(chunk_rows=self.codes.size)).to_pandas()


@dataclass(frozen=True, slots=True)
class _Run:
    """Sorted unique (code, count) entries of one partial, its journeys numbered as it met them,
    and where each output journey's entries are: ``codes[lo[j]:hi[j]]`` (empty where it has none)."""

    codes: np.ndarray
    counts: np.ndarray
    lo: np.ndarray
    hi: np.ndarray


@dataclass(frozen=True, slots=True)
class _Runs:
    """The aggregate of a run before its last merge: the sorted runs of every partial, journeys
    renumbered by name on the fly. :meth:`blocks` sums them a block of output rows at a time, so
    that the output's first row group is written while the later blocks are merged (on the
    thread that makes the tables) instead of after one merge of everything (13-20 % off the
    35- and 90-day logs with 30 journeys, docs/aggregate.md)."""

    runs: list[_Run]
    journeys: list[Any]  # output journeys in name order: names, or (journey, *label values) with ``--by``
    codec: _Codec
    opts: _Options

    @classmethod
    def of(cls, parts: list[tuple[list[tuple[np.ndarray, np.ndarray]], list[Any]]], opts: _Options) -> _Runs:
        """The runs of every partial (its sorted runs, its journey names by code); ``parts`` is
        emptied as they are taken."""
        codec = _Codec.of(opts)
        journeys = sorted({nm for _, names in parts for nm in names})
        rank = {nm: i for i, nm in enumerate(journeys)}
        runs = []
        while parts:
            pieces, names = parts.pop(0)
            own = np.full(len(journeys), len(names), np.int64)  # journeys it lacks: the empty range at the end
            own[[rank[nm] for nm in names]] = np.arange(len(names))
            first = np.arange(len(names) + 2, dtype=np.int64) << codec.row_shift
            for c, k in pieces:
                if c.size:
                    starts = np.searchsorted(c, first)
                    runs.append(_Run(c, k, starts[own], starts[own + 1]))
        return cls(runs, journeys, codec, opts)

    def _sizes(self) -> np.ndarray:
        """Entries of each output journey, over all runs (before summing)."""
        sizes = np.zeros(len(self.journeys), np.int64)
        for run in self.runs:
            sizes += run.hi - run.lo
        return sizes

    def _spans(self, j: int) -> list[tuple[_Run, int, int]]:
        """Each run's entries of output journey ``j``: (run, first, end), non-empty only."""
        return [(run, int(run.lo[j]), int(run.hi[j])) for run in self.runs if run.hi[j] > run.lo[j]]

    def _used_codes(self) -> np.ndarray:
        """The output journey codes with entries, ascending."""
        return np.flatnonzero(self._sizes())

    @property
    def empty(self) -> bool:
        return not self.runs

    def used_journeys(self) -> list[str]:
        used = [self.journeys[int(c)] for c in self._used_codes()]
        return list(dict.fromkeys(u[0] for u in used)) if self.opts.by else used

    def used_series(self) -> int:
        """Distinct (journey, label values) with requests: the journeys without ``--by``."""
        return int(self._used_codes().size)

    def interval_range(self) -> tuple[int, int]:
        """The first and last interval with entries (not :attr:`empty`): each journey's first and
        last entries in each run, since a journey's entries run in time order."""
        ends = []
        for run in self.runs:
            used = run.hi > run.lo
            ends.append(self.codec.interval(run.codes[np.r_[run.lo[used], run.hi[used] - 1]]))
        both = np.concatenate(ends)
        return int(both.min()), int(both.max())

    def sparse_schema(self) -> pa.Schema:
        """The schema of the sparse layout (:mod:`srekit.inputs.sparse_telemetry`): counts as
        uint32 when every total fits (the sum of all counts does), else int64."""
        total = sum(int(run.counts.sum(dtype=np.uint64)) for run in self.runs)
        fits = total <= np.iinfo(np.uint32).max
        return st.schema(pa.schema(key_fields(self.opts.by)), self.opts.edges, pa.uint32() if fits else pa.int64())

    def schema(self) -> pa.Schema:
        return self._sparse(np.zeros(0, np.int64), np.zeros(0, np.uint32)).schema()

    def _sparse(self, codes: np.ndarray, counts: np.ndarray) -> _Sparse:
        return _Sparse(codes, counts, self.journeys, self.codec, self.opts)

    def blocks(self, entries: int | None = None) -> Iterator[_Sparse]:
        """The aggregate in blocks of whole rows, in output order, each about ``entries``
        (``_BLOCK_ENTRIES``) entries of the runs summed: small journeys together, a large one cut
        by time at row boundaries (:meth:`_cut`)."""
        entries = entries or _BLOCK_ENTRIES
        group: list[tuple[int, _Run, int, int]] = []
        size = 0
        sizes = self._sizes()
        for j in np.flatnonzero(sizes).tolist():
            spans = self._spans(j)
            n = int(sizes[j])
            if n > entries:
                if group:
                    yield self._block(group)
                    group, size = [], 0
                for piece in self._cut(j, spans, -(-n // entries)):
                    yield self._block(piece)
                continue
            group += [(j, run, a, b) for run, a, b in spans]
            size += n
            if size >= entries:
                yield self._block(group)
                group, size = [], 0
        if group:
            yield self._block(group)

    def _cut(
        self, j: int, spans: list[tuple[_Run, int, int]], pieces: int
    ) -> Iterator[list[tuple[int, _Run, int, int]]]:
        """Journey ``j``'s spans cut into about ``pieces`` time ranges of whole rows, at quantiles
        of all its entries (estimated from ``4 * pieces`` evenly spaced entries of each span, each
        standing for its share: runs of shuffled rows cover the whole span, runs of daily files or
        of Dask partitions of a sorted log a slice of it)."""
        local = (1 << self.codec.row_shift) - 1
        step = 4 * pieces
        picks = [(run, a + (b - a) * np.arange(step) // step, (b - a) / step) for run, a, b in spans]
        sample = np.concatenate([run.codes[at] & local for run, at, _ in picks])
        weight = np.concatenate([np.full(at.size, share) for _, at, share in picks])
        order = np.argsort(sample, kind="stable")
        below = np.cumsum(weight[order]) - weight[order]  # entries before each sampled one, about
        at = np.searchsorted(below, sum(b - a for _, a, b in spans) * np.arange(1, pieces) / pieces)
        cuts = np.unique(sample[order][np.minimum(at, sample.size - 1)] >> self.codec.slot_bits << self.codec.slot_bits)
        ranges = [
            (run, a, b, np.searchsorted(run.codes[a:b], (run.codes[a] & ~local) + cuts) + a) for run, a, b in spans
        ]
        for k in range(cuts.size + 1):
            piece = []
            for run, a, b, at_cuts in ranges:
                lo = int(at_cuts[k - 1]) if k else a
                hi = int(at_cuts[k]) if k < cuts.size else b
                if hi > lo:
                    piece.append((j, run, lo, hi))
            if piece:
                yield piece

    def _block(self, group: list[tuple[int, _Run, int, int]]) -> _Sparse:
        """The entries of ``group`` (output journey, run, first, end), journeys renumbered, summed."""
        shift = self.codec.row_shift
        parts = []
        for j, run, a, b in group:
            codes = run.codes[a:b]
            if run.codes[a] >> shift != j:
                codes = (codes & ((1 << shift) - 1)) | (j << shift)
            parts.append((codes, run.counts[a:b]))
        return self._sparse(*_sparse_counts(parts))

    def merged(self) -> _Sparse:
        """The whole aggregate as one :class:`_Sparse`."""
        blocks = list(self.blocks())
        if not blocks:
            return self._sparse(np.zeros(0, np.int64), np.zeros(0, np.uint32))
        return self._sparse(np.concatenate([b.codes for b in blocks]), np.concatenate([b.counts for b in blocks]))

    def tables(self) -> Iterator[pa.Table]:
        """The canonical (wide) tables, block by block."""
        for block in self.blocks():
            yield from block.tables()

    def sparse_tables(self, schema: pa.Schema) -> Iterator[pa.Table]:
        """The sparse layout's tables (``schema``: :meth:`sparse_schema`), block by block."""
        for block in self.blocks():
            yield from block.sparse_tables(schema)


def key_fields(by: Sequence[str] = ()) -> list[pa.Field]:
    """The key columns of the canonical schema (``journey``, the ``by`` labels,
    ``interval_start``) as ``pa.Schema.from_pandas(tm.empty(...))`` gives them, made without
    pandas: the sparse layout needs nothing else from it (``srekit.core.lazy``)."""
    text = pa.large_string()  # pandas' str dtype in Arrow
    keys = [pa.field(name, text) for name in ("journey", *by)]
    return [*keys, pa.field("interval_start", pa.timestamp("us", tz="UTC"))]


def _entry_rows(n: int, starts: np.ndarray) -> np.ndarray:
    """The row of each of ``n`` entries, rows starting at ``starts`` (the first is 0)."""
    row = np.zeros(n, np.int64)
    row[starts[1:]] = 1
    return np.cumsum(row, out=row)


# --------------------------------------------------------------------------- reading sources


@dataclass(frozen=True, slots=True)
class _Source:
    """One unit of work: a whole file, a byte range of a CSV file, or a Parquet row group."""

    path: str
    fmt: str
    start: int | None = None  # byte range [start, end) of a CSV file (after the header)
    end: int | None = None
    row_group: int | None = None


@dataclass(slots=True)
class _Partial:
    """What reducing one source produced (picklable: it travels back from Dask workers)."""

    source: str
    runs: list[tuple[np.ndarray, np.ndarray]]  # sorted runs of unique codes, counts; journeys as in ``journeys``
    journeys: list[Any]  # names, or (journey, *label values) tuples with ``--by``
    rows_read: int
    rejected: Counter[str]
    notes: Counter[str]
    tmin: int | None
    tmax: int | None
    rejects: pd.DataFrame | None  # local row numbers when not streamed to a sink
    rows: list[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]] | None = None
    first_rows: dict[str, list[int]] = field(default_factory=dict)  # up to 5 row numbers per reject reason
    stamps: tuple[int, int] = (0, 0)  # accepted stamps without and with an offset (notes, per file: _entry)


def _sniff(path: str, fmt: str | None) -> str:
    if fmt is not None:
        return fmt
    p = Path(path)
    try:
        with open(p, "rb") as fh:
            head = fh.read(4)
    except FileNotFoundError as exc:
        raise input_error(
            "requests file not found",
            file=path,
            fix="check the path (relative paths are resolved from the current folder)",
        ) from exc
    except (IsADirectoryError, PermissionError) as exc:
        raise input_error(
            f"requests file cannot be opened: {exc.strerror}", file=path, fix="pass a readable file"
        ) from exc
    if head == b"PAR1" or p.suffix.lower() in (".parquet", ".pq"):
        return "parquet"
    if head[:2] == b"\x1f\x8b":
        return "csv.gz"
    return "csv"


def _unreadable(path: str, fmt: str, exc: Exception) -> InputError:
    text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    if "empty" in text.lower():
        return input_error(
            "requests file is empty",
            file=path,
            expected="a header line (timestamp,latency_ms,status,...) and data rows",
            got="0 bytes",
            fix="export the request log again; an empty file has nothing to aggregate",
        )
    if "straddl" in text.lower():
        return input_error(
            f"a line of the requests file is too long to read (lines may be up to {_CSV_BLOCK >> 20} MiB)",
            file=path,
            got=text,
            fix="check that the file is a request log in CSV (an unterminated quote swallows the lines after it)",
        )
    return input_error(
        f"requests file cannot be read as {fmt}",
        file=path,
        got=text,
        fix="check the file is a "
        + {"csv": "UTF-8 CSV", "csv.gz": "gzip-compressed CSV", "parquet": "Parquet file"}[fmt]
        + " or pass --format",
    )


class _TypedReadFailed(Exception):
    """A value did not convert to the type inferred from the first block (fast mode only)."""


def _fast_types(layout: _Layout, inferred: pa.Schema) -> dict[str, pa.DataType]:
    """Column types for the fast pass, from pyarrow's inference on the first block: the CSV
    reader's threads then parse stamps and numbers; text columns stay text (slow, exact path)."""

    def kind(col: str) -> pa.DataType:
        return inferred.field(col).type if col in inferred.names else pa.string()

    types: dict[str, pa.DataType] = {}
    t = kind(layout.timestamp)
    if pa.types.is_timestamp(t):  # ns: stamps may carry 9 fractional digits (cut to µs later)
        types[layout.timestamp] = pa.timestamp("ns", tz="UTC" if t.tz is not None else None)
    else:
        types[layout.timestamp] = pa.string()
    lat = kind(layout.latency_ms)
    types[layout.latency_ms] = pa.float64() if pa.types.is_integer(lat) or pa.types.is_floating(lat) else pa.string()
    if layout.status is not None:
        st = kind(layout.status)
        types[layout.status] = (
            pa.int64() if pa.types.is_integer(st) else pa.float64() if pa.types.is_floating(st) else pa.string()
        )
    if layout.success is not None:
        types[layout.success] = pa.string()
    for text in (layout.journey, *layout.labels):
        if text is not None:
            types[text] = pa.dictionary(pa.int32(), pa.string())
    return types


class _RangeFile(io.RawIOBase):
    """A CSV file's header line, then its bytes [start, end): one byte range read as a file of its
    own, streamed (a range used to be read whole: 64 MB a Dask partition, and two copies)."""

    def __init__(self, path: str, start: int, end: int) -> None:
        super().__init__()
        with open(path, "rb") as fh:
            self._head = fh.readline()
        self.header_bytes = len(self._head)
        self._fd = os.open(path, os.O_RDONLY)
        self._at, self._end, self._told = start, end, 0

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        cut = len(self._head) if size < 0 else min(size, len(self._head))
        head, self._head = self._head[:cut], self._head[cut:]
        want = self._end - self._at if size < 0 else min(size - len(head), self._end - self._at)
        body = os.pread(self._fd, want, self._at) if want > 0 else b""
        self._at += len(body)
        self._told += len(head) + len(body)
        return head + body if head else body

    def tell(self) -> int:
        return self._told

    def close(self) -> None:
        if not self.closed:
            os.close(self._fd)
        super().close()


class _Reader:
    """Yields record batches of the needed columns of one source.

    CSV is read in one of two modes. *fast* (default): pyarrow's multi-threaded streaming reader
    converts stamps and numbers itself, using the types inferred from the first block.
    *exact*: single-threaded, every column as text (converted row by row in ``_convert``, so a
    bad value is a row-level reject) and exact line numbers for malformed lines. A source starts
    fast and switches to exact where the fast mode cannot go on (see ``_Restart``).
    """

    def __init__(self, src: _Source, opts: _Options, *, exact_rows: bool = False) -> None:
        self.src = src
        self.opts = opts
        self.exact_rows = exact_rows
        self.invalid: list[tuple[int | None, str]] = []  # (data row number or None, text)
        self._raw: pa.NativeFile | None = None
        self._header_again = 0  # header bytes a byte range reads that an earlier range read too
        self._read = 0  # position() once the file is closed
        # position() runs on the reducing thread, _close_raw on the reader's: a tell() on a file
        # being closed raised "I/O operation on closed file" (or read a reused descriptor)
        self._closing = threading.Lock()
        self.inferred: pa.Schema = pa.schema([])
        self.rows_hint: int | None = None  # a Parquet source's rows

    def _csv_stream(self) -> pa.NativeFile:
        if self.src.start is not None:
            assert self.src.end is not None
            part = _RangeFile(self.src.path, self.src.start, self.src.end)
            raw: pa.NativeFile = pa.PythonFile(part, mode="r")
            self._raw = raw
            # the progress bar counts the header once a file: in the range right after it
            self._header_again = 0 if self.src.start == part.header_bytes else part.header_bytes
            return raw
        raw = pa.OSFile(self.src.path, "rb")
        self._raw = raw
        if self.src.fmt == "csv.gz":
            return pa.CompressedInputStream(raw, "gzip")
        return raw

    def position(self) -> int:
        """Bytes of the source read so far, as the progress bar counts them."""
        with self._closing:
            return self._told() if self._raw is not None else self._read

    def _told(self) -> int:
        assert self._raw is not None
        return max(self._raw.tell() - self._header_again, 0)

    def expected_rows(self, first_rows: int) -> int:
        """About how many rows the source holds, after a first batch of ``first_rows``: a
        Parquet file's metadata; a CSV file's bytes ÷ the bytes per row of its first block (for
        gzip the compressed bytes: an underestimate). Only budgets :class:`_Grid`."""
        if self.rows_hint is not None:
            return self.rows_hint
        if self.src.start is not None and self.src.end is not None:
            size = self.src.end - self.src.start
        else:
            size = os.path.getsize(self.src.path)
        return max(first_rows, size * first_rows // _CSV_BLOCK)

    def header(self) -> list[str]:
        """Column names (and, for CSV, the types pyarrow infers from the first block)."""
        try:
            if self.src.fmt == "parquet":
                self.inferred = pq.ParquetFile(self.src.path).schema_arrow
                return list(self.inferred.names)
            rd = pcsv.open_csv(
                self._csv_stream(),
                read_options=pcsv.ReadOptions(block_size=_CSV_BLOCK),
                parse_options=pcsv.ParseOptions(invalid_row_handler=lambda _r: "skip", newlines_in_values=True),
            )
            self.inferred = rd.schema
            rd.close()
            return list(self.inferred.names)
        except (pa.ArrowInvalid, OSError, pa.ArrowException) as exc:
            raise _unreadable(self.src.path, self.src.fmt, exc) from exc
        finally:
            self._close_raw()

    def _close_raw(self) -> None:
        with self._closing:
            if self._raw is not None:
                if not self._raw.closed:  # (a gzip stream that failed closed it)
                    self._read = self._told()  # the reader thread closes it before the last batch is counted
                self._raw.close()
                self._raw = None

    def batches(self, layout: _Layout):  # type: ignore[no-untyped-def]
        cols = layout.sources()
        fast = not self.exact_rows
        rd: Any = None
        try:
            if self.src.fmt == "parquet":
                pf = open_file(self.src.path)  # (no pre-buffering: it would cache the whole file)
                groups = None if self.src.row_group is None else [self.src.row_group]
                meta = pf.metadata
                self.rows_hint = meta.num_rows if groups is None else meta.row_group(groups[0]).num_rows
                size = os.path.getsize(self.src.path)
                done = 0
                for batch in pf.iter_batches(batch_size=_PARQUET_BATCH, columns=cols, row_groups=groups):
                    done += batch.num_rows
                    self._read = size * done // max(self.rows_hint, 1)  # the file's share its rows are
                    yield batch
                return

            def on_invalid(row: Any) -> str:
                number = None if row.number is None else int(row.number) - 1
                self.invalid.append((number, str(row.text)))
                return "skip"

            types = _fast_types(layout, self.inferred) if fast else dict.fromkeys(cols, pa.string())
            try:  # open_csv already converts the first block
                rd = pcsv.open_csv(
                    self._csv_stream(),
                    read_options=pcsv.ReadOptions(block_size=_CSV_BLOCK, use_threads=fast),
                    # a line break inside a quoted cell: the fast pass stops where a block ends inside
                    # one (pyarrow: "out of sync with chunker"), the exact pass reads it
                    parse_options=pcsv.ParseOptions(invalid_row_handler=on_invalid, newlines_in_values=not fast),
                    convert_options=pcsv.ConvertOptions(
                        include_columns=cols,
                        column_types=types,
                        strings_can_be_null=False,
                        quoted_strings_can_be_null=False,
                    ),
                )
            except pa.ArrowInvalid as exc:
                if fast:
                    raise _TypedReadFailed(str(exc)) from exc
                raise
            while True:
                try:
                    batch = rd.read_next_batch()
                except StopIteration:
                    break
                except pa.ArrowInvalid as exc:
                    if fast:
                        raise _TypedReadFailed(str(exc)) from exc
                    raise
                yield batch
        except (pa.ArrowInvalid, OSError, pa.ArrowException) as exc:
            raise _unreadable(self.src.path, self.src.fmt, exc) from exc
        finally:
            if rd is not None:  # stop the reader's read-ahead threads before the file closes under them
                rd.close()
            self._close_raw()


def _prefetch(items: Iterator[Any], depth: int, name: str = "srekit-aggregate-reader") -> Generator[Any, None, None]:
    """Iterate ``items`` in a background thread: ``depth`` items queued, and one more made
    while the queue is full.

    pyarrow's reader and writer and numpy release the GIL, so reading the next batch overlaps
    reducing the current one, and making the next output table overlaps writing the current
    one (measured: wall time about the larger of the two instead of their sum). Errors raised
    by ``items`` are re-raised here, in order; leaving early stops the thread.
    """
    q: queue.Queue[tuple[Any, BaseException | None]] = queue.Queue(maxsize=depth)
    stop = threading.Event()
    done = object()

    def put(entry: tuple[Any, BaseException | None]) -> bool:
        while not stop.is_set():
            try:
                q.put(entry, timeout=0.05)
                return True
            except queue.Full:
                continue
        return False

    def work() -> None:
        try:
            for item in items:
                if not put((item, None)):
                    return
            put((done, None))
        except BaseException as exc:  # forwarded to the consumer, re-raised there
            put((done, exc))
        finally:
            close = getattr(items, "close", None)
            if close is not None:
                close()

    thread = threading.Thread(target=work, name=name, daemon=True)
    thread.start()
    try:
        while True:
            item, exc = q.get()
            if item is done:
                if exc is not None:
                    raise exc
                return
            yield item
    finally:
        stop.set()
        thread.join()


class _Restart(Exception):
    """The fast pass cannot go on: a malformed CSV line (its row number is unknown with threads)
    or a value that does not convert to the inferred type. The source is read again in exact mode,
    skipping the ``done_rows`` rows already reduced into ``state``/``acc``."""

    def __init__(self, done_rows: int, state: _State, acc: _Acc, rows: list[Any], kept: list[pd.DataFrame]) -> None:
        super().__init__(done_rows)
        self.done_rows = done_rows
        self.state, self.acc, self.rows, self.kept = state, acc, rows, kept


@dataclass(slots=True)
class _State:
    journeys: dict[Any, int] = field(default_factory=dict)  # name (or tuple with --by) → code
    seen: dict[int, int] = field(default_factory=dict)
    rejected: Counter[str] = field(default_factory=Counter)
    notes: Counter[str] = field(default_factory=Counter)
    rows_read: int = 0
    tmin: int | None = None
    tmax: int | None = None
    offset_stamps: int = 0
    naive_stamps: int = 0
    used: set[int] = field(default_factory=set)  # journey codes with accepted rows
    first_rows: dict[str, list[int]] = field(default_factory=dict)
    reported: int = 0  # bytes of the source counted on the progress bar (a restart reads them again)

    def remember(self, rows: Sequence[int], reasons: Sequence[str]) -> None:
        """Keep the first few row numbers of each reject reason (for the error messages)."""
        for row, why in zip(rows, reasons, strict=True):
            kept = self.first_rows.setdefault(why, [])
            if len(kept) < 5:
                kept.append(int(row))

    def code(self, name: Any) -> int:
        if name not in self.journeys:
            self.journeys[name] = len(self.journeys)
        return self.journeys[name]


def _names(
    batch: pa.RecordBatch, column: str, max_chars: int
) -> tuple[list[str], np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """One text column of a batch as (distinct names, each row's index into them, rows whose
    value is too long, rows whose value is missing, rows whose value lost white space at its
    ends). Empty and missing-token values (``NA``, ``none``, …) and values longer than
    ``max_chars`` are named ``unknown``; ``" checkout "`` is ``checkout`` (and its rows counted)."""
    arr = _as_array(batch.column(column))
    if not pa.types.is_dictionary(arr.type):
        if not (pa.types.is_string(arr.type) or pa.types.is_large_string(arr.type)):
            arr = pc.cast(arr, pa.string())
        arr = pc.dictionary_encode(arr)
    raw = ["" if v is None else str(v) for v in arr.dictionary.to_pylist()]
    names = [v.strip() for v in raw]
    trimmed_name = np.array([v != nm for v, nm in zip(raw, names, strict=True)] or [False], dtype=bool)
    missing_name = np.array([nm.lower() in MISSING_TOKENS for nm in names] or [False], dtype=bool)
    long_name = np.array([len(nm) > max_chars for nm in names] or [False], dtype=bool)
    usable = [MISSING_JOURNEY if nm.lower() in MISSING_TOKENS or len(nm) > max_chars else nm for nm in names]
    idx = arr.indices
    if idx.null_count:
        is_null = numpy_of(idx.is_null())
        ind = numpy_of(idx, null=0).astype(np.int64)
    else:
        is_null = np.zeros(len(idx), dtype=bool)
        ind = numpy_of(idx).astype(np.int64)
    missing = is_null | missing_name[ind]
    trimmed = trimmed_name[ind] & ~missing
    ind = np.where(missing, len(usable), ind)  # the last name: unknown
    return [*usable, MISSING_JOURNEY], ind, long_name[np.minimum(ind, len(names) - 1)] & ~missing, missing, trimmed


def _journey_codes(
    batch: pa.RecordBatch, layout: _Layout, st: _State, reason: np.ndarray, max_chars: int
) -> np.ndarray:
    """Global series codes of a batch: the journey's (with ``--by``, of the journey and its label
    values together, a tuple); empty and missing-token names (``NA``, ``none``, …) become
    ``unknown`` (noted for accepted rows); a name longer than ``max_chars`` rejects its row."""
    n = batch.num_rows
    if layout.journey is None:
        journeys, jind, missing = [DEFAULT_JOURNEY], np.zeros(n, dtype=np.int64), np.zeros(n, dtype=bool)
    else:
        journeys, jind, too_long, missing, trimmed = _names(batch, layout.journey, max_chars)
        reason[(reason == 0) & too_long] = _REASON_CODE[R_JOURNEY_LONG]
        if missing.any():
            st.notes["journey_missing"] += int((missing & (reason == 0)).sum())
        if trimmed.any():
            st.notes["journey_trimmed"] += int((trimmed & (reason == 0)).sum())
    if not layout.labels:
        lookup = np.zeros(len(journeys), dtype=np.int64)
        for i in np.flatnonzero(np.bincount(jind, minlength=len(journeys))).tolist():  # names in use only
            lookup[i] = st.code(journeys[i])
        return lookup[jind]
    values, key = [journeys], jind
    for column in layout.labels:
        names, ind, too_long, gone, trimmed = _names(batch, column, max_chars)
        reason[(reason == 0) & too_long] = _REASON_CODE[R_LABEL_LONG]
        if gone.any():
            st.notes["label_missing"] += int((gone & (reason == 0)).sum())
        if trimmed.any():
            st.notes["label_trimmed"] += int((trimmed & (reason == 0)).sum())
        values.append(names)
        key = key * len(names) + ind
    combos, inverse = np.unique(key, return_inverse=True)
    codes = np.empty(combos.size, dtype=np.int64)
    for k, combo in enumerate(combos.tolist()):
        parts = []
        for names in reversed(values):
            combo, i = divmod(combo, len(names))
            parts.append(names[i])
        codes[k] = st.code(tuple(reversed(parts)))
    return codes[inverse.reshape(-1)]


def _convert(
    batch: pa.RecordBatch, layout: _Layout, opts: _Options, st: _State, table: np.ndarray, edges: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """One batch → (reason code per row, journey code, UTC µs, latency, error)."""
    n = batch.num_rows
    reason = np.zeros(n, dtype=np.int8)

    def mark(mask: np.ndarray, r: str) -> None:
        if mask.any():
            reason[(reason == 0) & mask] = _REASON_CODE[r]

    times = _parse_times(_as_array(batch.column(layout.timestamp)), opts.tz, st.seen, opts.stamp_bounds)
    st.notes["dst_ambiguous_resolved"] += times.ambiguous
    st.notes["dst_nonexistent_shifted"] += times.nonexistent
    st.offset_stamps += times.with_offset
    st.naive_stamps += times.naive
    mark(times.bad, R_TIME)
    if times.out_of_range is not None:
        mark(times.out_of_range, R_TIME_RANGE)
    lat, lat_masks = _parse_latency(_as_array(batch.column(layout.latency_ms)))
    with np.errstate(invalid="ignore"):
        if not ((lat >= 0) & (lat < np.inf)).all():  # NaN, inf and negatives all fail this
            for why, mask in lat_masks:
                mark(mask, why)
            mark(np.isinf(lat), R_LAT_INF)
            mark(lat < 0, R_LAT_NEG)
    if layout.status is not None:
        status = _as_array(batch.column(layout.status))
        if pa.types.is_integer(status.type) and status.null_count == 0:  # the fast pass's common case
            ints = numpy_of(status).astype(np.int64, copy=False)
            valid = (ints >= 100) & (ints <= 599)
            mark(~valid, R_STATUS_UNKNOWN)
            error = table[np.clip(ints, 0, 599)] & valid
        else:
            code, smiss, stext = _parse_float(status)
            with np.errstate(invalid="ignore"):
                valid = np.isfinite(code) & (code == np.round(code)) & (code >= 100) & (code <= 599)
            mark(smiss, R_STATUS_MISSING)
            mark(stext | ~valid, R_STATUS_UNKNOWN)
            error = np.zeros(n, dtype=bool)
            error[valid] = table[code[valid].astype(np.int64)]
    else:
        assert layout.success is not None
        ok, bmiss, btext = _parse_bool(_as_array(batch.column(layout.success)))
        mark(bmiss, R_SUCCESS_MISSING)
        mark(btext, R_SUCCESS_TEXT)
        error = ~ok
    jcode = _journey_codes(batch, layout, st, reason, opts.limits.max_name_chars)
    return reason, jcode, times.us, lat, error


def _true_rows(parser_rows: np.ndarray, invalid_rows: Sequence[int]) -> np.ndarray:
    """Data row numbers (1-based) of parser rows when malformed lines were skipped before them."""
    if not invalid_rows:
        return parser_rows
    skipped = np.sort(np.asarray(invalid_rows, dtype=np.int64))
    rows = parser_rows.copy()
    for _ in range(len(skipped) + 1):
        nxt = parser_rows + np.searchsorted(skipped, rows, side="right")
        if np.array_equal(nxt, rows):
            break
        rows = nxt
    return rows


RejectSink = Callable[["pd.DataFrame"], None]


def _reject_frame(
    file: str,
    rows: np.ndarray,
    batch: pa.RecordBatch | None,
    positions: np.ndarray,
    reasons: Sequence[str],
    layout: _Layout | None,
    by: Sequence[str] = (),
) -> pd.DataFrame:
    """Rejected rows as the quarantine holds them (:func:`quarantine_columns`): the file's values
    of the canonical columns and of the ``--by`` label columns (``by``: their output names, the
    layout's ``labels`` their columns in the file), as text."""
    columns = quarantine_columns(by)
    data: dict[str, Any] = {c: [pd.NA] * len(rows) for c in columns}
    data |= {"file": [file] * len(rows), "row": rows.astype(np.int64), "reason": list(reasons)}
    if batch is not None and layout is not None and len(positions):
        taken = batch.take(pa.array(positions))
        sources = [*layout.canonical_of().items(), *zip(layout.labels, columns[2 + len(CANONICAL) : -2], strict=True)]
        for src, name in sources:
            data[name] = _text(_as_array(taken.column(src))).tolist()
    return pd.DataFrame(data, columns=columns)


def quarantine_columns(by: Sequence[str] = ()) -> list[str]:
    """The quarantine's columns: ``QUARANTINE_COLUMNS`` with the ``--by`` label columns after
    the canonical ones (a label named like one of the quarantine's own columns as
    ``<name> (file)``)."""
    own = set(QUARANTINE_COLUMNS)
    labels = [f"{b} (file)" if b in own else b for b in by]
    return ["file", "row", *CANONICAL, *labels, "line", "reason"]


def _raise_strict(source: str, reason: str, rows: Sequence[int], got: str) -> InputError:
    return input_error(
        f"rejected rows in strict mode: {reason}",
        file=source,
        column=_REASON_COLUMN.get(reason),
        rows=list(rows),
        got=got,
        fix=_REASON_FIX.get(reason, "fix the rows") + "; or drop --strict to quarantine them",
    )


def _reduce_source(
    src: _Source,
    opts: _Options,
    *,
    sink: RejectSink | None = None,
    collect: bool = False,
    tick: Callable[[int], None] | None = None,
) -> _Partial:
    """Stream one source into a partial aggregate (the map step of both engines)."""
    label = src.path
    reader = _Reader(src, opts)
    layout = _resolve_layout(reader.header(), opts, label)
    try:
        return _reduce_pass(src, opts, layout, reader, sink=sink, collect=collect, tick=tick, skip_rows=0)
    except _Restart as again:
        exact = _Reader(src, opts, exact_rows=True)
        return _reduce_pass(
            src, opts, layout, exact, sink=sink, collect=collect, tick=tick, skip_rows=again.done_rows, resumed=again
        )


def _reduce_pass(
    src: _Source,
    opts: _Options,
    layout: _Layout,
    reader: _Reader,
    *,
    sink: RejectSink | None,
    collect: bool,
    tick: Callable[[int], None] | None,
    skip_rows: int,
    resumed: _Restart | None = None,
) -> _Partial:
    edges = opts.edges_arr
    table = opts.error_table
    st = resumed.state if resumed else _State()
    acc = resumed.acc if resumed else _Acc()
    codec = _Codec.of(opts)
    rows_out: list[Any] = resumed.rows if resumed else []
    kept: list[pd.DataFrame] = resumed.kept if resumed else []
    parser_rows = 0  # rows delivered by the CSV parser (excludes malformed lines)
    expected: int | None = None  # rows the source is thought to hold (_Reader.expected_rows)
    depth = _READ_AHEAD[src.fmt] if src.start is None else _RANGE_READ_AHEAD
    with contextlib.closing(_prefetch(reader.batches(layout), depth=depth)) as batches:
        while True:
            try:
                batch = next(batches)
            except StopIteration:
                break
            except _TypedReadFailed as exc:
                raise _Restart(parser_rows, st, acc, rows_out, kept) from exc
            n = batch.num_rows
            first = parser_rows
            parser_rows += n
            if reader.invalid and not reader.exact_rows and reader.invalid[-1][0] is None:
                batches.close()
                raise _Restart(first, st, acc, rows_out, kept)
            if parser_rows <= skip_rows:
                continue
            if first < skip_rows:
                batch = batch.slice(skip_rows - first)
                first = skip_rows
                n = batch.num_rows
            fast_csv = not reader.exact_rows and src.fmt != "parquet"
            if fast_csv:
                saved = (Counter(st.notes), dict(st.seen), st.offset_stamps, st.naive_stamps)
            reason, jcode, ts_us, lat, error = _convert(batch, layout, opts, st, table, edges)
            bad = reason != 0
            if fast_csv and bad.any():
                # The fast pass parsed stamps and numbers, so the rejected rows' original text is
                # gone: redo this batch and the rest of the file in exact mode (text kept).
                st.notes, st.seen, st.offset_stamps, st.naive_stamps = saved
                batches.close()
                raise _Restart(first, st, acc, rows_out, kept)
            if bad.any():
                pos = np.flatnonzero(bad)
                invalid_rows = [r for r, _ in reader.invalid if r is not None]
                rows = _true_rows(first + pos + 1, invalid_rows)
                names = [REASONS[c] for c in reason[pos]]
                reason_counts = Counter(names)
                if opts.strict:
                    worst = names[0]
                    hit = np.array([nm == worst for nm in names])
                    sel = rows[hit].tolist()
                    col = getattr(layout, _REASON_COLUMN[worst])
                    got = ", ".join(repr(v) for v in _text(_as_array(batch.column(col))).iloc[pos[hit][:3]].tolist())
                    raise _raise_strict(src.path, worst, sel, got)
                st.rejected.update(reason_counts)
                st.remember(rows.tolist(), names)
                frame = _reject_frame(src.path, rows, batch, pos, names, layout, opts.by)
                if sink is not None:
                    sink(frame)
                else:
                    kept.append(frame)
            ok = ~bad
            if not ok.all():
                jcode, ts_us, lat, error = jcode[ok], ts_us[ok], lat[ok], error[ok]
            _count_journeys(st, jcode, src.path, layout, opts.limits)
            if ts_us.size:
                lo, hi = int(ts_us.min()), int(ts_us.max())
                st.tmin = lo if st.tmin is None else min(st.tmin, lo)
                st.tmax = hi if st.tmax is None else max(st.tmax, hi)
            if expected is None:
                expected = reader.expected_rows(n)
            acc.add_rows(jcode, ts_us, lat, error, opts, codec, expected)
            if collect:
                rows_out.append((jcode, ts_us, lat, error))
            if tick is not None:
                pos_now = reader.position()
                if pos_now > st.reported:
                    tick(pos_now - st.reported)
                    st.reported = pos_now
    malformed = [(r, t) for r, t in reader.invalid if r is None or r > skip_rows]
    if malformed:
        st.rejected[R_FIELDS] += len(malformed)
        st.remember([r for r, _ in malformed if r is not None], [R_FIELDS] * sum(r is not None for r, _ in malformed))
        if opts.strict:
            raise _raise_strict(src.path, R_FIELDS, [r for r, _ in malformed if r is not None], malformed[0][1][:80])
        frame = _reject_frame(
            src.path,
            np.array([-1 if r is None else r for r, _ in malformed]),
            None,
            np.zeros(0, np.int64),
            [R_FIELDS] * len(malformed),
            None,
            opts.by,
        )
        frame["line"] = [t for _, t in malformed]  # the raw CSV line
        if sink is not None:
            sink(frame)
        else:
            kept.append(frame)
    st.rows_read = parser_rows + len(reader.invalid)
    accepted = st.rows_read - sum(st.rejected.values())
    if layout.journey is None:
        st.notes[f"no_journey_column_all_as_{DEFAULT_JOURNEY}"] += accepted
    elif "journey" not in dict(opts.columns) and layout.journey.strip().lower() != "journey":
        st.notes[f"journey_from_{layout.journey.strip().lower()}"] += accepted
    names_by_code = sorted(st.journeys, key=st.journeys.__getitem__)
    rejects = pd.concat(kept, ignore_index=True) if kept else None
    return _Partial(
        source=src.path,
        runs=acc.runs(),
        journeys=names_by_code,
        rows_read=st.rows_read,
        rejected=st.rejected,
        notes=Counter({k: v for k, v in st.notes.items() if v}),
        tmin=st.tmin,
        tmax=st.tmax,
        rejects=rejects,
        rows=rows_out if collect else None,
        first_rows=st.first_rows,
        stamps=(st.naive_stamps, st.offset_stamps),
    )


def _count_journeys(st: _State, jcode: np.ndarray, source: str, layout: _Layout, limits: Limits) -> None:
    """Stop reading as soon as accepted rows name more than ``limits.max_journeys`` journeys."""
    if jcode.size == 0 or len(st.journeys) <= limits.max_journeys:  # used ⊆ named: nothing to count
        return
    st.used.update(np.flatnonzero(np.bincount(jcode)).tolist())
    if len(st.used) > limits.max_journeys:
        names = sorted(st.journeys, key=st.journeys.__getitem__)
        some = [names[c] for c in sorted(st.used)][:5]
        raise _journey_limit(source, layout.journey, len(st.used), limits, some, labels=bool(layout.labels))


def _journey_limit(
    source: str, column: str | None, n: int, limits: Limits, some: Sequence[Any], *, labels: bool = False
) -> InputError:
    """Too many journeys (with ``--by``: journey × label value combinations, each a series)."""
    what = "journey × label combinations (--by)" if labels else "journeys"
    shown = [" / ".join(j) if isinstance(j, tuple) else str(j) for j in some]
    return input_error(
        f"more than limits.max_journeys = {limits.max_journeys} distinct {what} ({n} so far)",
        file=source,
        column=column,
        expected=f"at most {limits.max_journeys} {what} (each costs a row per interval)",
        got=", ".join(repr(j[:40]) for j in shown) + ", …",
        fix="map a coarser column as the journey (--columns journey=service), keep fewer --by labels, "
        + Limits.raise_hint("max_journeys", limits.max_journeys),
    )


def _check_usable(name: str, partials: Sequence[_Partial]) -> None:
    """A file whose every row was rejected is unusable (exit 2): the most common reason and its
    first rows, as the loaders say it."""
    rejected: Counter[str] = Counter()
    for p in partials:
        rejected.update(p.rejected)
    read = sum(p.rows_read for p in partials)
    if read == 0 or sum(rejected.values()) < read:
        return
    top = max(rejected, key=lambda k: rejected[k])
    rows = sorted(r for p in partials for r in p.first_rows.get(top, []) if r > 0)
    raise input_error(
        "no usable rows: every row was rejected",
        file=name,
        column=_REASON_COLUMN.get(top),
        rows=rows[:5],
        expected="valid request rows",
        got="; ".join(f"{k}: {v}" for k, v in rejected.most_common()),
        fix=f"correct the rows (most common problem: {top}: {_REASON_FIX.get(top, 'see the quarantine file')}); "
        "check the column mapping (--columns) and the --format",
    )


def _check_nonempty(src: _Source, partial: _Partial) -> None:
    if partial.rows_read == 0 and src.start is None and src.row_group is None:
        raise input_error(
            "requests file has a header but no data rows",
            file=src.path,
            expected="one row per request after the header",
            got="0 data rows",
            fix="export the request log again, or leave this file out",
        )


# --------------------------------------------------------------------------- merging partials


def _entry(source: str, partials: Sequence[_Partial], quarantine: str | None) -> LedgerEntry:
    rejected: Counter[str] = Counter()
    notes: Counter[str] = Counter()
    stamps: dict[str, tuple[int, int]] = {}
    for p in partials:
        rejected.update(p.rejected)
        notes.update(p.notes)
        naive, offset = stamps.get(p.source, (0, 0))
        stamps[p.source] = (naive + p.stamps[0], offset + p.stamps[1])
    for naive, offset in stamps.values():  # a file's parts (byte ranges, Dask partitions) together
        if naive and offset:
            notes["mixed_naive_and_offset_timestamps"] += naive
    rows_read = sum(p.rows_read for p in partials)
    lows = [p.tmin for p in partials if p.tmin is not None]
    highs = [p.tmax for p in partials if p.tmax is not None]
    start = _EPOCH + timedelta(microseconds=min(lows)) if lows else None
    end = _EPOCH + timedelta(microseconds=max(highs)) if highs else None
    rej = {k: int(v) for k, v in rejected.items() if v}
    return LedgerEntry(
        kind=KIND,
        source=source,
        rows_read=rows_read,
        rows_accepted=rows_read - sum(rej.values()),
        rejected=rej,
        notes={k: int(v) for k, v in notes.items() if v},
        start=start,
        end=end,
        quarantine=quarantine if rej else None,
    )


class _QuarantineWriter:
    """Appends rejected rows to a CSV (header once); written to a temp name, renamed at the end."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self.tmp = self.path.with_name(self.path.name + ".part")
        self.rows = 0

    def __call__(self, frame: pd.DataFrame) -> None:
        # spreadsheet-safe like every CSV srekit writes (a rejected row's text is the file's own)
        with open(self.tmp, "a" if self.rows else "w", encoding="utf-8", newline="") as fh:
            fh.write(csv_text(frame, header=self.rows == 0))
        self.rows += len(frame)

    def finish(self) -> str | None:
        if self.rows == 0:
            self.tmp.unlink(missing_ok=True)
            return None
        os.replace(self.tmp, self.path)
        return str(self.path)

    def abort(self) -> None:
        self.tmp.unlink(missing_ok=True)


# --------------------------------------------------------------------------- public API


def read_requests(
    path: str | os.PathLike[str],
    *,
    fmt: str | None = None,
    tz: str = "UTC",
    columns: Mapping[str, str] | None = None,
    strict: bool = False,
    error_status: str = DEFAULT_ERROR_STATUS,
    limits: Limits = DEFAULT_LIMITS,
) -> Loaded:
    """Read a raw request log into canonical rows (``timestamp, latency_ms, error, journey``).

    Meant for validation and small files; large logs go through :func:`aggregate_files`, which
    never holds the rows in memory.

    Parameters
    ----------
    path : CSV, CSV.gz or Parquet file.
    fmt : ``"csv"``, ``"csv.gz"`` or ``"parquet"``; sniffed from magic bytes / extension if None.
    tz : IANA timezone for naive timestamps.
    columns : canonical → source column names, e.g. ``{"timestamp": "time"}``.
    strict : raise :class:`InputError` on the first rejected row instead of quarantining.
    error_status : regular expression over the 3-digit status code that marks an error
        (default ``5..``, as Prometheus' ``code=~"5.."`` convention).

    Returns
    -------
    Loaded : ``frame`` sorted by time (stable), ``entry`` (ledger), ``rejects`` (the original
        values, the 1-based data row number in ``row`` and a ``reason``).
    """
    opts = _options(
        interval=pd.Timedelta("1min"),
        edges=tm.DEFAULT_EDGES_MS,
        tz=tz,
        columns=columns,
        fmt=fmt,
        strict=strict,
        error_status=error_status,
        limits=limits,
    )
    name = str(path)
    src = _Source(name, _sniff(name, opts.fmt))
    partial = _reduce_source(src, opts, collect=True)
    _check_nonempty(src, partial)
    _check_usable(name, [partial])
    rows = partial.rows or []
    names = np.asarray(partial.journeys or [DEFAULT_JOURNEY], dtype=object)
    if rows:
        jcode = np.concatenate([r[0] for r in rows])
        ts = np.concatenate([r[1] for r in rows])
        lat = np.concatenate([r[2] for r in rows])
        err = np.concatenate([r[3] for r in rows])
    else:
        jcode, ts, lat, err = (np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0), np.zeros(0, bool))
    frame = pd.DataFrame(
        {
            "timestamp": pd.to_datetime(ts, unit="us", utc=True).astype("datetime64[us, UTC]"),
            "latency_ms": lat.astype(float),
            "error": err.astype(bool),
            "journey": pd.array(names[jcode] if jcode.size else [], dtype="str"),
        }
    )[list(REQUESTS)]
    frame = frame.sort_values("timestamp", kind="stable").reset_index(drop=True)
    rejects = partial.rejects if partial.rejects is not None else pd.DataFrame(columns=quarantine_columns(opts.by))
    return Loaded(frame=frame, entry=_entry(name, [partial], None), rejects=rejects)


def aggregate_frame(
    requests: pd.DataFrame,
    *,
    interval: timedelta = ONE_MINUTE,
    edges: Sequence[float] = tm.DEFAULT_EDGES_MS,
    limits: Limits = DEFAULT_LIMITS,
) -> pd.DataFrame:
    """Reduce canonical request rows to the aggregated telemetry form.

    One row per (journey, interval start) with ``total``, ``errors`` and cumulative
    ``le_<edge>`` = requests with latency ≤ edge (Prometheus histogram ``le`` semantics,
    Prometheus docs "Histograms and summaries"). Interval starts are ``floor(t / interval)``
    aligned to the Unix epoch, in UTC. Column order as :func:`srekit.inputs.telemetry.canonical`.

    Parameters
    ----------
    requests : frame with ``timestamp`` (tz-aware), ``latency_ms`` (≥ 0, finite), ``error``
        (bool) and optional ``journey`` (``"all"`` when absent).
    interval : aggregation interval (≥ 1 s).
    edges : ascending bucket edges in ms.
    limits : stamps outside ``min_year``..``max_year``, journeys longer than ``max_name_chars``
        and more than ``max_journeys`` journeys are refused, as :func:`read_requests` refuses them.
    """
    opts = _options(
        interval=interval,
        edges=edges,
        tz="UTC",
        columns=None,
        fmt=None,
        strict=True,
        error_status=DEFAULT_ERROR_STATUS,
        limits=limits,
    )
    require_columns(
        requests.columns,
        ("timestamp", "latency_ms", "error"),
        what="request rows",
        expected="timestamp, latency_ms, error[, journey]",
        fix="load raw logs with srekit.inputs.aggregate.read_requests",
    )
    ts = pd.to_datetime(requests["timestamp"])
    if getattr(ts.dt, "tz", None) is None:
        raise input_error(
            "request timestamps are naive",
            column="timestamp",
            expected="timezone-aware (UTC) stamps",
            fix="load with read_requests (naive stamps are read in the configured timezone)",
        )
    ts_us = ts.dt.tz_convert("UTC").astype("datetime64[us, UTC]")
    lat = pd.to_numeric(requests["latency_ms"], errors="coerce").to_numpy(dtype=float)
    lo, hi = opts.stamp_bounds
    stamps = _i8(ts_us)
    out = ts_us.isna().to_numpy() | (stamps < lo) | (stamps >= hi)
    bad = np.flatnonzero(out | ~np.isfinite(lat) | (np.nan_to_num(lat, nan=-1.0) < 0))
    if bad.size:
        raise input_error(
            "request rows with a missing or out-of-range stamp or a missing, negative or infinite latency",
            rows=(bad + 1).tolist(),
            fix="reject such rows on load (read_requests quarantines them)",
        )
    errors = requests["error"]
    if errors.isna().any():
        raise input_error(
            "request rows with a missing error flag",
            column="error",
            rows=(np.flatnonzero(errors.isna().to_numpy()) + 1).tolist(),
            fix="error is True/False",
        )
    if "journey" in requests.columns:
        names, codes = _factorize(requests["journey"], limits)
    else:
        names, codes = [DEFAULT_JOURNEY], np.zeros(len(requests), np.int64)
    counted = _reduce_rows(codes, stamps, lat, errors.to_numpy(dtype=bool), opts, _Codec.of(opts))
    return _Runs.of([([counted], names)], opts).merged().frame()


def _factorize(journey: pd.Series, limits: Limits) -> tuple[list[str], np.ndarray]:
    """Journey codes as the file path makes them: missing tokens are ``unknown``; a name too long,
    or too many journeys, is an error."""
    text = text_cells(journey).str.strip()
    gone = text.isna() | text.str.lower().isin(MISSING_TOKENS)
    filled = text.mask(gone, MISSING_JOURNEY)
    long = np.flatnonzero((filled.str.len() > limits.max_name_chars).to_numpy())
    if long.size:
        raise input_error(
            f"journey names longer than limits.max_name_chars = {limits.max_name_chars}",
            column="journey",
            rows=(long + 1).tolist(),
            fix="reject such rows on load (read_requests quarantines them)",
        )
    codes, uniques = pd.factorize(filled)
    if len(uniques) > limits.max_journeys:
        raise _journey_limit("request rows", "journey", len(uniques), limits, [str(u) for u in uniques[:5]])
    return [str(u) for u in uniques], codes.astype(np.int64)


def _dask_sources(paths: Sequence[str], opts: _Options) -> list[_Source]:
    """The Dask engine's units of work: uncompressed CSV files cut into byte ranges at line ends
    and Parquet files into row groups, so one big file still runs in parallel (the local engine's
    are :func:`_local_sources`).

    Files read in a local timezone are never split: the DST rule ("first occurrence of a repeated
    wall time in file order is the earlier instant") needs the whole file in order, so the Dask
    engine's output stays identical to the local engine's.
    """
    out: list[_Source] = []
    for p in paths:
        fmt = _sniff(p, opts.fmt)
        if opts.tz != "UTC":
            out.append(_Source(p, fmt))
            continue
        if fmt == "parquet":
            try:
                n = pq.ParquetFile(p).num_row_groups
            except (pa.ArrowInvalid, OSError) as exc:
                raise _unreadable(p, fmt, exc) from exc
            out.extend(_Source(p, fmt, row_group=i) for i in range(n))
        elif fmt == "csv" and os.path.getsize(p) > _DASK_BLOCK and not _has_quotes(p):
            out.extend(_Source(p, fmt, start=a, end=b) for a, b in _line_ranges(p, _DASK_BLOCK))
        else:
            out.append(_Source(p, fmt))
    return out


def _local_sources(paths: Sequence[str], opts: _Options) -> list[list[_Source]]:
    """The local engine's work, a list of sources per file: the whole file, except a large
    time-sorted CSV file, cut into ``_READERS`` byte ranges at line ends, read at once by as many
    threads (:func:`_reduce_ranges`)."""
    readers = min(_READERS, os.cpu_count() or 1)
    out: list[list[_Source]] = []
    for p in paths:
        fmt = _sniff(p, opts.fmt)
        size = os.path.getsize(p)
        ranges = _line_ranges(p, -(-size // readers)) if fmt == "csv" and size >= _SPLIT_BYTES else []
        if (
            len(ranges) > 1
            and opts.tz == "UTC"
            and not opts.strict
            and _worth_cutting(p, opts)
            and not _has_quotes(p, ranges[-1][0])
        ):
            out.append([_Source(p, fmt, start=a, end=b) for a, b in ranges])
        else:
            out.append([_Source(p, fmt)])
    return out


def _reduce_ranges(
    ranges: list[_Source], opts: _Options, sink: RejectSink | None, tick: Callable[[int], None] | None
) -> list[_Partial]:
    """The byte ranges of one file reduced at once, a thread each (pyarrow's reader and numpy
    release the GIL), rows numbered in the file and rejects passed to ``sink`` in file order.
    Such a file's reduction is light (each batch a few minutes of cells), so one thread parsing
    the CSV was the slowest step: 1.84 -> 1.57 s on 10 M requests over 35 days (docs/aggregate.md).
    Cut only where that is safe and changes nothing (:func:`_local_sources`): UTC (the DST rule
    needs the file in order), not ``--strict`` (its error names the first bad row), no ``"``
    before the last cut (a quoted cell could span it), two CPUs. Shuffled files are read whole,
    by one thread: their batches all cover the same cells, which :class:`_Grid` counts densely
    once, not once a range."""
    shared = _serialised(tick) if tick is not None else None  # the progress bar's count is not thread-safe
    with ThreadPoolExecutor(len(ranges), thread_name_prefix="srekit-aggregate-range") as pool:
        partials = list(pool.map(lambda s: _reduce_source(s, opts, tick=shared), ranges))
    _renumber(ranges, partials)  # (each range holds lines: a cut file is never empty)
    for p in partials:
        if sink is not None and p.rejects is not None and len(p.rejects):
            sink(p.rejects)
            p.rejects = None
    return partials


def _serialised(tick: Callable[[int], None]) -> Callable[[int], None]:
    """``tick`` called by one thread at a time."""
    lock = threading.Lock()

    def locked(n: int) -> None:
        with lock:
            tick(n)

    return locked


def _worth_cutting(path: str, opts: _Options) -> bool:
    """Whether a CSV file's first two blocks cover mostly different times (a log written in time
    order, or in journey then time order), not the same span (shuffled), and its first block is
    light to reduce: at most ``_SPLIT_CELLS_PER_ROW`` (journey, interval, slot) cells per request.
    Where each batch spreads over many cells (30 journeys over 35 days: 22 a request) the
    reduction keeps both CPUs busy already, and two readers only added work (2.55 -> 2.71 s).
    From the stamps and journeys of two blocks, about 30 ms; anything unreadable says no (the
    file is then read whole, as before)."""
    try:
        layout = _resolve_layout(_Reader(_Source(path, "csv"), opts).header(), opts, path)
        cols = [layout.timestamp] + ([layout.journey] if layout.journey is not None else [])
        rd = pcsv.open_csv(
            path,
            read_options=pcsv.ReadOptions(block_size=_CSV_BLOCK, use_threads=False),
            parse_options=pcsv.ParseOptions(invalid_row_handler=lambda _r: "skip"),
            convert_options=pcsv.ConvertOptions(
                include_columns=cols,
                column_types={layout.timestamp: pa.string()}
                | ({layout.journey: pa.dictionary(pa.int32(), pa.string())} if layout.journey is not None else {}),
            ),
        )
        with contextlib.closing(rd):
            blocks = [rd.read_next_batch() for _ in range(2)]
        spans = []
        for block in blocks:
            times = _parse_stamps(_as_array(block.column(0)), "UTC", {})
            us = times.us[~times.bad]
            if us.size == 0:
                return False
            spans.append((int(us.min()), int(us.max())))
        journeys = len(_as_array(blocks[0].column(1)).dictionary) if layout.journey is not None else 1
    except (InputError, ConfigError, StopIteration, pa.ArrowException, OSError):
        return False
    (a0, a1), (b0, b1) = spans
    if min(a1, b1) - max(a0, b0) >= 0.5 * (max(a1, b1) - min(a0, b0)):
        return False
    intervals = a1 // opts.interval_us - a0 // opts.interval_us + 1
    return journeys * intervals * (len(opts.edges) + 2) <= _SPLIT_CELLS_PER_ROW * blocks[0].num_rows


def _has_quotes(path: str, end: int | None = None) -> bool:
    """Whether a CSV file holds a ``"`` anywhere (or before byte ``end``): a quoted cell may span
    lines, so a cut at a line end could fall inside it; such a file is one unit of work, read as
    the local engine reads it. Read through one 4 MiB buffer: 0.03-0.06 s for 250 MB in the page
    cache, as fast as a memory map, which counted every page it searched in the peak RSS (a
    1.5 GB file: 876 MB instead of 340)."""
    size = os.path.getsize(path) if end is None else end
    buf = bytearray(_QUOTE_SCAN)
    view = memoryview(buf)
    fd = os.open(path, os.O_RDONLY)
    try:
        at = 0
        while at < size:
            n = os.preadv(fd, [view[: min(len(buf), size - at)]], at)
            if n <= 0:
                return False
            if buf.find(b'"', 0, n) >= 0:
                return True
            at += n
        return False
    finally:
        os.close(fd)


def _line_ranges(path: str, block: int) -> list[tuple[int, int]]:
    """Byte ranges [a, b) of the body of a CSV file, each ending at a line end (for a file without
    quotes, :func:`_has_quotes`: no cell spans lines)."""
    size = os.path.getsize(path)
    with open(path, "rb") as fh:
        fh.readline()
        start = fh.tell()
        cuts = [start]
        pos = start + block
        while pos < size:
            fh.seek(pos)
            fh.readline()
            nxt = fh.tell()
            if nxt >= size:
                break
            cuts.append(nxt)
            pos = nxt + block
    cuts.append(size)
    return [(a, b) for a, b in zip(cuts[:-1], cuts[1:], strict=True) if b > a]


def _reduce_task(src: _Source, opts: _Options) -> _Partial:
    """The map step run on a Dask worker (module-level so workers can import it)."""
    return _reduce_source(src, opts)


def _run_dask(sources: list[_Source], opts: _Options, scheduler: str | None, progress: bool) -> list[_Partial]:
    try:
        from dask.distributed import Client, LocalCluster, as_completed
    except ImportError as exc:  # pragma: no cover - dask is a declared extra
        raise ConfigError("the dask engine needs dask[distributed]. fix: pip install 'srekit[dask]'") from exc
    cluster = None
    if scheduler:
        try:
            client = Client(scheduler, timeout=_DASK_CONNECT_TIMEOUT)
        except (OSError, TimeoutError, ValueError) as exc:
            raise ConfigError(
                f"cannot reach the Dask scheduler at {scheduler!r}: {exc}. fix: check --scheduler "
                "(e.g. tcp://host:8786) and that the scheduler runs, or drop it for a local cluster"
            ) from exc
    else:
        cluster = LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None)
        client = Client(cluster)
    try:
        futures = client.map(_reduce_task, sources, opts=opts, pure=False)
        bar = _bar(len(sources), "partitions", progress)
        for _ in as_completed(futures):
            if bar is not None:
                bar.update(1)
        if bar is not None:
            bar.close()
        results: list[_Partial] = client.gather(futures)
    finally:
        client.close()
        if cluster is not None:
            cluster.close()
    return results


def _bar(total: int, unit: str, progress: bool) -> Any:
    if not progress or not sys.stderr.isatty():
        return None
    from tqdm import tqdm

    return tqdm(total=total, unit=unit, unit_scale=unit == "B", file=sys.stderr, leave=False)


class AggregateOptions(TypedDict, total=False):
    """The keyword options of :func:`aggregate_files` and :func:`aggregate_to_file`."""

    interval: timedelta  # a pd.Timedelta too
    edges: Sequence[float]
    tz: str
    columns: Mapping[str, str] | None
    fmt: str | None
    strict: bool
    engine: str
    scheduler: str | None
    progress: bool
    quarantine: str | os.PathLike[str] | None
    error_status: str
    limits: Limits
    by: Sequence[str]


def aggregate_files(
    paths: Sequence[str | os.PathLike[str]] | str | os.PathLike[str], **options: Unpack[AggregateOptions]
) -> tuple[pd.DataFrame, LedgerEntry]:
    """Aggregate raw request logs (several files are merged) into telemetry.

    Parameters
    ----------
    paths : one or more CSV, CSV.gz or Parquet request logs.
    interval, edges : the reduction (see :func:`aggregate_frame`), keyword-only as all options.
    tz, columns, fmt, strict, error_status : how to read rows (see :func:`read_requests`).
    engine : ``"local"`` (streaming, bounded memory) or ``"dask"`` (map per partition + merge).
    scheduler : Dask scheduler address; a 2-worker ``LocalCluster`` when None.
    progress : show a tqdm bar when stderr is a terminal.
    quarantine : CSV path for rejected rows (``file, row, <canonical columns>, reason``).
    limits : the run's :class:`srekit.core.limits.Limits`.
    by : extra label columns of the logs to keep (``--by region,status_class``): one output row per
        (journey, label values, interval), the label columns after ``journey``. Missing values are
        ``unknown`` (note ``label_missing``); values longer than ``limits.max_name_chars`` reject
        their row (``too long label``); journey × label combinations count against
        ``limits.max_journeys``.

    Returns
    -------
    (telemetry, entry) : the canonical aggregated frame and one ledger entry for all files.
    The frame holds journeys × intervals × (edges + 2) integers; :func:`aggregate_to_file` writes
    the same table without ever holding it whole.
    """
    runs, entry = _aggregate(paths, **options)
    return runs.merged().frame(), entry


@dataclass(frozen=True, slots=True)
class Written:
    """What :func:`aggregate_to_file` wrote: the file, its rows and journeys, the ledger entry."""

    path: Path
    rows: int
    journeys: list[str]
    entry: LedgerEntry


def aggregate_to_file(
    paths: Sequence[str | os.PathLike[str]] | str | os.PathLike[str],
    out: str | os.PathLike[str],
    *,
    layout: str | None = None,
    **options: Unpack[AggregateOptions],
) -> Written:
    """:func:`aggregate_files` written to ``out``, chunk by chunk of rows: memory follows the
    sparse aggregate, not the output's rows × edges. ``layout``: ``sparse`` (the default for
    Parquet: :mod:`srekit.inputs.sparse_telemetry`) or ``wide`` (one cumulative ``le_`` column
    per edge, as :func:`write_telemetry` writes it; the only layout of CSV)."""
    layout = output_layout(out, layout)
    runs, entry = _aggregate(paths, **options)
    if layout == "sparse":
        schema = runs.sparse_schema()
        path, rows = _write_tables(runs.sparse_tables(schema), schema, out)
    else:
        path, rows = _write_tables(runs.tables(), runs.schema(), out)
    return Written(path, rows, runs.used_journeys(), entry)


def aggregate_held(
    paths: Sequence[str | os.PathLike[str]] | str | os.PathLike[str], **options: Unpack[AggregateOptions]
) -> tuple[pd.DataFrame, LedgerEntry]:
    """:func:`aggregate_files` held as the loader holds the file :func:`aggregate_to_file`
    writes: the sparse layout made in memory and read back by
    :func:`srekit.inputs.sparse_telemetry.read_sparse` (the buckets sparse when that pays, the
    journey and ``by`` label columns categoricals, kept as they are, numbers included), never
    the whole dense frame (10 M requests over 90 days: 0.54 GB, where the dense int64 frame took
    `srekit analyze` to 7.8 GB). For ``load_inputs``' ``data.requests``."""
    runs, entry = _aggregate(paths, **options)
    schema = runs.sparse_schema()
    sink = pa.BufferOutputStream()
    with pq.ParquetWriter(sink, schema, **_parquet_encoding(schema)) as writer:
        for table in runs.sparse_tables(schema):
            writer.write_table(table)
    texts = ["journey", *runs.opts.by]
    del runs  # the entries: the encoded file is a fraction of them
    pf = pq.ParquetFile(pa.BufferReader(sink.getvalue()), read_dictionary=texts, pre_buffer=False)
    return st.read_sparse(entry.source, pf, narrow=True), entry


def output_layout(out: str | os.PathLike[str], layout: str | None) -> str:
    """The layout ``out`` gets: ``sparse`` for Parquet unless ``wide`` is asked for; CSV is wide."""
    csv = Path(out).name.lower().endswith((".csv", ".csv.gz"))
    if layout is not None and layout not in LAYOUTS:
        raise ConfigError(f"unknown output layout {layout!r}. fix: --layout sparse or --layout wide")
    if csv and layout == "sparse":
        raise ConfigError(
            f"{out}: the sparse layout is Parquet only (a map column per row). fix: write a .parquet file, "
            "or leave --layout out for the wide CSV"
        )
    return "wide" if csv else (layout or "sparse")


def _aggregate(
    paths: Sequence[str | os.PathLike[str]] | str | os.PathLike[str],
    *,
    interval: timedelta = ONE_MINUTE,
    edges: Sequence[float] = tm.DEFAULT_EDGES_MS,
    tz: str = "UTC",
    columns: Mapping[str, str] | None = None,
    fmt: str | None = None,
    strict: bool = False,
    engine: str = "local",
    scheduler: str | None = None,
    progress: bool = False,
    quarantine: str | os.PathLike[str] | None = None,
    error_status: str = DEFAULT_ERROR_STATUS,
    limits: Limits = DEFAULT_LIMITS,
    by: Sequence[str] = (),
) -> tuple[_Runs, LedgerEntry]:
    """The sparse aggregate of request logs and their ledger entry (see :func:`aggregate_files`)."""
    opts = _options(
        interval=interval,
        edges=edges,
        tz=tz,
        columns=columns,
        fmt=fmt,
        strict=strict,
        error_status=error_status,
        limits=limits,
        by=by,
    )
    items = [paths] if isinstance(paths, (str, os.PathLike)) else list(paths)
    if not items:
        raise ConfigError("no request files given. fix: srekit aggregate FILE... --out OUT.parquet")
    names = [str(p) for p in items]
    if engine not in ("local", "dask"):
        raise ConfigError(f"unknown engine {engine!r}. valid: local, dask")
    writer = _QuarantineWriter(quarantine) if quarantine is not None else None
    try:
        if engine == "local":
            units = _local_sources(names, opts)
            sources = [s for unit in units for s in unit]
            bar = _bar(sum(os.path.getsize(unit[0].path) for unit in units), "B", progress)
            tick = bar.update if bar is not None else None
            partials = []
            for unit in units:
                if len(unit) > 1:
                    partials.extend(_reduce_ranges(unit, opts, writer, tick))
                    continue
                part = _reduce_source(unit[0], opts, sink=writer, tick=tick)
                _check_nonempty(unit[0], part)
                partials.append(part)
            if bar is not None:
                bar.close()
        else:
            sources = _dask_sources(names, opts)
            partials = _run_dask(sources, opts, scheduler, progress)
            _renumber(sources, partials)
            for name in dict.fromkeys(names):
                if sum(p.rows_read for s, p in zip(sources, partials, strict=True) if s.path == name) == 0:
                    raise input_error(
                        "requests file has a header but no data rows",
                        file=name,
                        got="0 data rows",
                        fix="export the request log again, or leave this file out",
                    )
            if writer is not None:
                for p in partials:
                    if p.rejects is not None and len(p.rejects):
                        writer(p.rejects)
        where = writer.finish() if writer is not None else None
        for name in dict.fromkeys(names):  # the quarantine is kept: it shows why
            _check_usable(name, [p for s, p in zip(sources, partials, strict=True) if s.path == name])
    except BaseException:
        if writer is not None:
            writer.abort()
        raise
    parts = [(p.runs, p.journeys) for p in partials]
    for p in partials:  # the runs hold the only copy of the counts
        p.runs = []
    runs = _Runs.of(parts, opts)
    source = ", ".join(dict.fromkeys(names))
    used = runs.used_journeys()
    if len(used) > opts.limits.max_journeys:
        raise _journey_limit(source, "journey", len(used), opts.limits, used[:5])
    if runs.used_series() > opts.limits.max_journeys:
        raise _journey_limit(source, "journey", runs.used_series(), opts.limits, runs.journeys[:5], labels=True)
    _check_grid(runs, source)
    return runs, _entry(source, partials, where)


def _check_grid(runs: _Runs, source: str) -> None:
    """The output's time grid (first to last interval) within ``limits.max_intervals``."""
    if runs.empty:
        return
    opts = runs.opts
    lo, hi = runs.interval_range()
    cells = hi - lo + 1
    if cells > opts.limits.max_intervals:
        first, last = (pd.Timestamp(i * opts.interval_us, unit="us", tz="UTC") for i in (lo, hi))
        raise input_error(
            f"the requests span {cells:,} intervals of {pd.Timedelta(opts.interval_us, unit='us')} "
            f"({first} .. {last}), more than limits.max_intervals = {opts.limits.max_intervals:,}",
            file=source,
            column="timestamp",
            expected="history on one regular grid of a sensible size (every analysis builds it per journey)",
            fix="check for stray stamps far from the rest, or aggregate with a longer --interval; "
            + Limits.raise_hint("max_intervals", opts.limits.max_intervals),
        )


def _renumber(sources: Sequence[_Source], partials: Sequence[_Partial]) -> None:
    """Dask partials number rows from 1 within their partition; make them file row numbers."""
    offset: dict[str, int] = {}
    for s, p in zip(sources, partials, strict=True):
        base = offset.get(s.path, 0)
        if p.rejects is not None and base:
            rows = p.rejects["row"].to_numpy()
            p.rejects["row"] = np.where(rows > 0, rows + base, rows)
        if base:
            p.first_rows = {why: [r + base if r > 0 else r for r in rs] for why, rs in p.first_rows.items()}
        offset[s.path] = base + p.rows_read


def write_telemetry(frame: pd.DataFrame, out: str | os.PathLike[str]) -> Path:
    """Write aggregated telemetry atomically (temp name + rename): Parquet, or CSV when the name
    ends in ``.csv`` / ``.csv.gz``."""
    target = Path(out)
    lower = target.name.lower()
    with atomic_target(target) as tmp:
        if lower.endswith(".csv") or lower.endswith(".csv.gz"):
            frame.to_csv(tmp, index=False, compression="gzip" if lower.endswith(".gz") else None)
        else:
            frame.to_parquet(tmp, index=False)
    return target


def _write_tables(tables: Iterator[pa.Table], schema: pa.Schema, out: str | os.PathLike[str]) -> tuple[Path, int]:
    """Write canonical tables one after the other into one file, atomically: one Parquet row
    group per table (the file ``DataFrame.to_parquet`` writes, in row groups), or CSV as
    ``DataFrame.to_csv`` writes it (gzip when the name ends in ``.gz``). The file and its rows."""
    target = Path(out)
    lower = target.name.lower()
    rows = 0
    with atomic_target(target) as tmp:
        if lower.endswith(".csv") or lower.endswith(".csv.gz"):
            with gzip.open(tmp, "wt", newline="") if lower.endswith(".gz") else open(tmp, "w", newline="") as fh:
                schema.empty_table().to_pandas().to_csv(fh, index=False)
                for table in tables:
                    table.to_pandas().to_csv(fh, index=False, header=False)
                    rows += table.num_rows
        else:
            with pq.ParquetWriter(tmp, schema, **_parquet_encoding(schema)) as writer:
                ahead = _prefetch(tables, depth=_WRITE_AHEAD, name="srekit-aggregate-tables")
                with contextlib.closing(ahead):  # a failed write stops the thread making tables
                    for table in ahead:
                        writer.write_table(table)
                        rows += table.num_rows
    return target, rows


def _parquet_encoding(schema: pa.Schema) -> dict[str, Any]:
    """Writer options for the counts: delta encoding of the integer and time columns (their
    dictionaries rarely fit a page, so the default spends time building them for nothing): 25 %
    less writing CPU and 7 % smaller files than the defaults on a 90-day, 30-journey aggregate
    (docs/aggregate.md). Text columns (journey, labels) keep their dictionaries."""
    numeric = [f.name for f in schema if pa.types.is_integer(f.type) or pa.types.is_timestamp(f.type)]
    # the sparse layout's map (few distinct edges, mostly small counts) keeps its dictionaries too;
    # Parquet names a map's columns by their paths (a bare "buckets" matched none of them, so both
    # were written plain: 28 MB instead of 15 for the 90-day, 30-journey aggregate, no faster)
    text = []
    for f in schema:
        if pa.types.is_map(f.type):
            text += [f"{f.name}.key_value.key", f"{f.name}.key_value.value"]
        elif f.name not in numeric:
            text.append(f.name)
    return {"use_dictionary": text, "column_encoding": dict.fromkeys(numeric, "DELTA_BINARY_PACKED")}
