"""Loading and validating every input kind (docs/inputs.md).

Each ``load_<kind>(path, *, fmt=None, tz="UTC", columns=None, strict=False, limits=DEFAULT_LIMITS)
-> Loaded`` reads one file (CSV through pyarrow, every cell as text), maps its columns onto the
canonical ones of :mod:`srekit.inputs.columns`, parses every stamp to UTC with
:func:`srekit.inputs.timeparse.parse_utc` (accepted forms, the year range, naive stamps in ``tz``,
the documented DST rule), every number with :mod:`srekit.inputs.numbers` (no decimal commas, exact
counts) and checks every row against ``limits`` (:mod:`srekit.core.limits`). The rules:

* Whole-file problems (unreadable or empty file, header only, a missing or ambiguous required
  column, duplicate incident ids, a bound of ``limits`` exceeded, no usable row at all) raise
  :class:`~srekit.core.errors.InputError` naming the file, the column, the first offending rows,
  what was expected and the fix.
* Row-level problems (a line with the wrong number of fields, unparseable or out-of-range stamp,
  missing / non-numeric / decimal-comma / negative value, a name too long, unknown category value,
  resolved before started, …) reject the row: it goes to ``Loaded.rejects``
  (original 1-based row number in ``row``, the original values, a ``reason``) and is counted in
  ``LedgerEntry.rejected`` by reason. The first failing check names the reason. ``strict=True``
  turns any reject into an :class:`InputError`.
* Observations that do not reject rows (DST resolutions, open incidents, zero durations,
  duplicate stamps, gaps, zeros, …) are counted in ``LedgerEntry.notes``.

Nothing is dropped silently: ``rows_read == rows_accepted + sum(rejected)`` always holds.
"""

from __future__ import annotations

import difflib
import json
import lzma
import zipfile
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pcsv

from srekit.core import memory
from srekit.core.errors import InputError, input_error
from srekit.core.files import atomic_write, csv_text, safe_file_name
from srekit.core.limits import DEFAULT_LIMITS, MAX_SUM, Limits
from srekit.inputs import buckets as bk
from srekit.inputs import numbers as num
from srekit.inputs import presets
from srekit.inputs import telemetry as tm
from srekit.inputs.columns import (
    ALERTS,
    DEFAULT_JOURNEY,
    DEPLOYS,
    INCIDENT_TIMES,
    INCIDENTS,
    MISSING_JOURNEY,
    MISSING_TOKENS,
    SERIES,
    TOIL,
    find_header,
    folded,
    text_cells,
)
from srekit.inputs.config import SERIES_UNITS, ServiceConfig
from srekit.inputs.corrections import Applied, clear_windows
from srekit.inputs.corrections import apply as apply_corrections
from srekit.inputs.intervals import Interval, check_declared
from srekit.inputs.ledger import LedgerEntry, Loaded
from srekit.inputs.loadtest import LoadTest, load_loadtest
from srekit.inputs.parquet_frame import read_parquet_frame
from srekit.inputs.timeparse import is_timezone, parse_utc

KINDS = ("telemetry", "series", "incidents", "toil", "alerts", "deploys")
CONTAINERS = ("csv", "parquet", "json")

SEVERITY_MAP: Mapping[str, str] = {
    "sev1": "SEV1",
    "sev2": "SEV2",
    "sev3": "SEV3",
    "sev4": "SEV4",
    "sev5": "SEV4",
    "sev0": "SEV1",
    "1": "SEV1",
    "2": "SEV2",
    "3": "SEV3",
    "4": "SEV4",
    "5": "SEV4",
    "0": "SEV1",
    "p1": "SEV1",
    "p2": "SEV2",
    "p3": "SEV3",
    "p4": "SEV4",
    "p5": "SEV4",
    "p0": "SEV1",
    "critical": "SEV1",
    "high": "SEV2",
    "major": "SEV2",
    "medium": "SEV3",
    "moderate": "SEV3",
    "minor": "SEV3",
    "low": "SEV4",
    "none": "SEV4",
    "info": "SEV4",
    "informational": "SEV4",
    "maintenance": "SEV4",
}
DETECTION_MAP: Mapping[str, str] = {
    "alert": "alert",
    "alerting": "alert",
    "monitoring": "alert",
    "automated": "alert",
    "automatic": "alert",
    "pager": "alert",
    "page": "alert",
    "customer": "customer",
    "customers": "customer",
    "user": "customer",
    "users": "customer",
    "support": "customer",
    "customer report": "customer",
    "external": "customer",
    "internal": "internal",
    "employee": "internal",
    "staff": "internal",
    "manual": "internal",
    "engineer": "internal",
}
POSTMORTEM_MAP: Mapping[str, str] = {
    "done": "done",
    "complete": "done",
    "completed": "done",
    "published": "done",
    "yes": "done",
    "true": "done",
    "pending": "pending",
    "draft": "pending",
    "in progress": "pending",
    "in_progress": "pending",
    "scheduled": "pending",
    "todo": "pending",
    "none": "none",
    "no": "none",
    "false": "none",
    "skipped": "none",
    "not required": "none",
    "n/a": "none",
}
RESULT_MAP: Mapping[str, str] = {
    "success": "success",
    "succeeded": "success",
    "successful": "success",
    "ok": "success",
    "deployed": "success",
    "passed": "success",
    "rollback": "rollback",
    "rolled back": "rollback",
    "rolled_back": "rollback",
    "rolledback": "rollback",
    "reverted": "rollback",
    "revert": "rollback",
    "failed": "failed",
    "failure": "failed",
    "fail": "failed",
    "error": "failed",
    "errored": "failed",
    "aborted": "failed",
}
BOOL_MAP: Mapping[str, bool] = {
    "true": True,
    "t": True,
    "yes": True,
    "y": True,
    "1": True,
    "1.0": True,
    "false": False,
    "f": False,
    "no": False,
    "n": False,
    "0": False,
    "0.0": False,
}


# --------------------------------------------------------------------------- reading files

#: pyarrow CSV block: a row (line) longer than this makes the file unreadable (a clear error).
CSV_BLOCK_BYTES = 64 << 20
_HEADER_BLOCK = 1 << 20
R_FIELDS = "wrong number of fields"
_PA_CODECS = {".gz": "gzip", ".bz2": "bz2", ".zst": "zstd"}
_READ_ERRORS = (pa.ArrowInvalid, OSError, EOFError, UnicodeDecodeError, zipfile.BadZipFile, lzma.LZMAError)


@dataclass(frozen=True, slots=True)
class Raw:
    """A file as read: one frame row per data row of the file (text cells for CSV/JSON, typed for
    Parquet), the rows whose CSV line had the wrong number of fields (all cells missing, rejected
    with reason ``wrong number of fields``) and the raw text of those lines."""

    frame: pd.DataFrame
    malformed: np.ndarray
    lines: pd.Series | None = None

    @staticmethod
    def of(frame: pd.DataFrame) -> Raw:
        return Raw(frame.reset_index(drop=True), np.zeros(len(frame), dtype=bool))


def container_of(path: Path, fmt: str | None) -> str:
    """The file container: ``csv`` (also ``.csv.gz``, ``.txt``), ``parquet`` or ``json``."""
    if fmt in CONTAINERS:
        return fmt
    name = path.name.lower()
    for suffix in (".gz", ".bz2", ".zst", ".xz", ".zip"):
        name = name.removesuffix(suffix)
    if name.endswith((".parquet", ".pq")):
        return "parquet"
    if name.endswith((".json", ".jsonl")):
        return "json"
    return "csv"


def _check_exists(path: Path) -> None:
    if not path.exists():
        raise input_error(
            "input file does not exist",
            file=str(path),
            fix="check the path (relative paths in service.yaml are relative to its folder)",
        )
    if path.is_dir():
        raise input_error("input path is a folder, not a file", file=str(path), fix="point at one file")
    if path.stat().st_size == 0:
        raise input_error(
            "file is empty (0 bytes)",
            file=str(path),
            expected="a header row and at least one data row",
            fix="export the data again",
        )


def _csv_stream(path: Path) -> Any:
    """The (decompressed) bytes of a CSV file as a pyarrow stream, by the file name's suffix."""
    suffix = path.suffix.lower()
    if suffix in _PA_CODECS:
        return pa.input_stream(str(path), compression=_PA_CODECS[suffix])
    if suffix == ".xz":
        return pa.PythonFile(lzma.open(path, "rb"), mode="r")
    if suffix == ".zip":
        archive = zipfile.ZipFile(path)
        members = [m for m in archive.namelist() if not m.endswith("/")]
        if len(members) != 1:
            raise input_error(
                "a zip archive must hold exactly one CSV file",
                file=str(path),
                got=f"{len(members)} files",
                fix="zip one CSV per archive, or unpack it",
            )
        return pa.PythonFile(archive.open(members[0]), mode="r")
    return pa.input_stream(str(path))


def _csv_error(path: Path, exc: Exception) -> InputError:
    """A pyarrow / decompression failure as the uniform InputError."""
    text = str(exc).strip()
    low = text.lower()
    if "empty csv" in low:
        return input_error(
            "file has no header row",
            file=str(path),
            expected="a CSV header row naming the columns",
            got="nothing but blank lines",
            fix="export the data again with a header",
        )
    if "utf8" in low or "utf-8" in low or isinstance(exc, UnicodeDecodeError):
        return input_error("file is not UTF-8 text", file=str(path), got=text, fix="save the file as UTF-8 CSV")
    if "straddl" in low:
        return input_error(
            f"a CSV row is too long to read (rows may be up to {CSV_BLOCK_BYTES >> 20} MiB)",
            file=str(path),
            got=text,
            fix="check that the file is a CSV export (an unterminated quote swallows the rest of the file)",
        )
    if isinstance(exc, pa.ArrowInvalid):
        return input_error(
            "malformed CSV",
            file=str(path),
            got=text,
            fix="every row needs the same number of fields as the header; quote fields that contain commas",
        )
    return input_error(
        "file cannot be read", file=str(path), got=text, fix="check the file is a complete CSV (or CSV.gz)"
    )


def _csv_header(path: Path) -> list[str]:
    """The header names as written (a small first block; a bigger one when a row needs it)."""
    for block in (_HEADER_BLOCK, CSV_BLOCK_BYTES):
        try:
            with _csv_stream(path) as stream:
                reader = pcsv.open_csv(
                    stream,
                    read_options=pcsv.ReadOptions(block_size=block, use_threads=False),
                    parse_options=pcsv.ParseOptions(newlines_in_values=True, invalid_row_handler=lambda _r: "skip"),
                )
                names = list(reader.schema.names)
                reader.close()
                return names
        except _READ_ERRORS as exc:
            if "straddl" in str(exc).lower() and block < CSV_BLOCK_BYTES:
                continue
            raise _csv_error(path, exc) from exc
    raise AssertionError("unreachable")  # pragma: no cover


def read_csv_text(path: Path) -> Raw:
    """A CSV (plain or compressed) as text cells, read by pyarrow: UTF-8 with or without BOM, LF or
    CRLF, quoted fields (also spanning lines). Header names are stripped of blanks.

    A line with more or fewer fields than the header is never shifted into other columns: it
    becomes a row of missing cells marked in ``Raw.malformed`` (its text in ``Raw.lines``), which
    the loaders reject as ``wrong number of fields`` with its data row number."""
    names = _csv_header(path)
    invalid: list[tuple[int, str]] = []

    def on_invalid(row: Any) -> str:
        invalid.append((int(row.number) - 1, str(row.text)))
        return "skip"

    try:
        with _csv_stream(path) as stream:
            table = pcsv.read_csv(
                stream,
                read_options=pcsv.ReadOptions(block_size=CSV_BLOCK_BYTES, use_threads=False),
                parse_options=pcsv.ParseOptions(newlines_in_values=True, invalid_row_handler=on_invalid),
                convert_options=pcsv.ConvertOptions(
                    column_types=dict.fromkeys(names, pa.string()),
                    strings_can_be_null=False,
                    quoted_strings_can_be_null=False,
                ),
            )
    except _READ_ERRORS as exc:
        raise _csv_error(path, exc) from exc
    frame = pd.DataFrame({i: pd.Series(col.to_pandas(), dtype="str") for i, col in enumerate(table.columns)})
    frame = frame.reindex(columns=range(len(names)))  # zero rows: every column still there
    frame.columns = pd.Index([str(n).strip() for n in names], dtype=object)
    n = table.num_rows + len(invalid)
    malformed = np.zeros(n, dtype=bool)
    if not invalid:
        return Raw(frame, malformed)
    bad = np.array([r - 1 for r, _ in invalid], dtype=np.int64)
    malformed[bad] = True
    frame.index = pd.RangeIndex(n)[~malformed]
    frame = frame.reindex(pd.RangeIndex(n))
    lines = pd.Series(pd.NA, index=frame.index, dtype="str")
    lines.iloc[bad] = [t for _, t in invalid]
    return Raw(frame, malformed, lines)


def read_parquet(path: Path, *, narrow: str | None = None, total: str | None = None) -> pd.DataFrame:
    """A Parquet file as typed columns (``narrow``, ``total``: see :func:`read_parquet_frame`)."""
    try:
        return read_parquet_frame(path, narrow=narrow, total=total)  # the file held once (inputs.parquet_frame)
    except InputError:  # a readable file with wrong contents (a damaged sparse layout) says so itself
        raise
    except Exception as exc:  # pyarrow raises several unrelated types for a corrupt file
        raise input_error(
            "not a readable Parquet file",
            file=str(path),
            got=f"{type(exc).__name__}: {exc}",
            fix="write the file again as Parquet, or pass --format csv if it is CSV",
        ) from exc


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """JSON objects with a repeated key are refused (json keeps the last one silently)."""
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise _DuplicateKey(key)
        out[key] = value
    return out


class _DuplicateKey(Exception):
    pass


def read_json(path: Path) -> Any:
    """A JSON document (one array/object) or JSON Lines (one object per line). An object that
    repeats a key, and nesting too deep to read, are errors."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise input_error(
            "file is not UTF-8 text", file=str(path), got=str(exc), fix="save the file as UTF-8 JSON"
        ) from exc
    try:
        try:
            return json.loads(text, object_pairs_hook=_unique_keys)
        except json.JSONDecodeError as first:
            lines = [ln for ln in text.splitlines() if ln.strip()]
            try:
                return [json.loads(ln, object_pairs_hook=_unique_keys) for ln in lines]
            except json.JSONDecodeError:
                raise input_error(
                    "not valid JSON",
                    file=str(path),
                    got=f"{first.msg} at line {first.lineno} column {first.colno}",
                    fix="export the data again as JSON (an array of objects)",
                ) from first
    except _DuplicateKey as dup:
        raise input_error(
            f"a JSON object repeats the key {dup.args[0]!r}",
            file=str(path),
            column=str(dup.args[0])[:80],
            expected="each key once per object",
            fix="export the records again; one of the two values would otherwise be lost silently",
        ) from None
    except RecursionError:
        raise input_error(
            "JSON nested too deeply to read",
            file=str(path),
            fix="export the records as an array of flat objects",
        ) from None


def _json_frame(doc: Any, source: str) -> pd.DataFrame:
    records = presets.records_of(doc, source=source)
    try:
        rows = [
            {k: presets._text(v) if not isinstance(v, dict | list) else json.dumps(v) for k, v in r.items()}
            for r in records
        ]
    except (RecursionError, ValueError) as exc:
        raise input_error("JSON values nested too deeply", file=source, fix="export flat records") from exc
    return pd.DataFrame(rows, dtype="str").fillna("")


def read_table(path: str | Path, fmt: str | None = None, *, narrow: str | None = None, total: str | None = None) -> Raw:
    """Read any supported container (text cells for CSV/JSON, typed for Parquet; ``narrow``: the
    prefix of Parquet count columns held in the smallest unsigned dtype, :func:`read_parquet_frame`)."""
    p = Path(path)
    _check_exists(p)
    kind = container_of(p, fmt)
    if kind == "parquet":
        return Raw.of(read_parquet(p, narrow=narrow, total=total))
    if kind == "json":
        return Raw.of(_json_frame(read_json(p), str(p)))
    return read_csv_text(p)


# --------------------------------------------------------------------------- column mapping


def resolve_columns(
    df: pd.DataFrame,
    *,
    required: tuple[str, ...],
    optional: tuple[str, ...],
    columns: Mapping[str, str] | None,
    source: str,
    kind: str,
) -> dict[str, str]:
    """Map canonical names to the file's columns.

    Order: the explicit mapping (``data.<kind>_columns``), else the one column equal to the name
    ignoring case and punctuation (``TimeStamp`` → ``timestamp``, ``Started At`` → ``started_at``).
    Two columns that both fit (a repeated header, or ``timestamp`` beside ``TimeStamp``) are an
    :class:`InputError` naming them. A missing required column is an :class:`InputError`
    suggesting the closest column name (difflib).
    """
    have = [str(c) for c in df.columns]
    mapping = dict(columns or {})
    unknown = sorted(set(mapping) - set(required) - set(optional))
    if unknown:
        raise input_error(
            f"column mapping names unknown {kind} field(s) {unknown}",
            file=source,
            expected=f"canonical names among {list(required + optional)}",
            fix=f"fix the keys of data.{kind}_columns (canonical name: column in your file)",
        )
    out: dict[str, str] = {}
    for canon in required + optional:
        src = find_header(have, canon, folded, mapped=mapping.get(canon), source=source, kind=kind)
        if canon in mapping and src is None:
            want = mapping[canon]
            close = difflib.get_close_matches(want, have, n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            raise input_error(
                f"mapped column {want!r} for {canon!r} is not in the file{hint}",
                file=source,
                column=want,
                expected=f"a column named {want!r}",
                got=", ".join(have[:15]),
                fix=f"correct data.{kind}_columns.{canon} (or --columns {canon}=COLUMN)",
            )
        if src is not None:
            out[canon] = src
    missing = [c for c in required if c not in out]
    if missing:
        first = missing[0]
        close = difflib.get_close_matches(first, have, n=1, cutoff=0.5)
        hint = f"rename {close[0]!r} to {first!r}" if close else f"add a {first!r} column"
        raise input_error(
            f"missing required column {first!r}" + (f" (did you mean {close[0]!r}?)" if close else ""),
            file=source,
            column=first,
            expected=f"{kind} columns {', '.join(required)}",
            got=", ".join(have[:15]) or "no columns",
            fix=f"{hint}, or map it: data.{kind}_columns: {{{first}: <your column>}} (CLI: --columns {first}=COLUMN)",
        )
    return out


# --------------------------------------------------------------------------- row checks


class _Rows:
    """Collects the first rejection reason per row, and notes (some counted over accepted rows
    only, once the rejects are known)."""

    def __init__(self, n: int, malformed: np.ndarray | None = None) -> None:
        self._reason: np.ndarray | None = None  # made on the first reject: clean files need none
        self.bad = np.zeros(n, dtype=bool)
        self.notes: Counter[str] = Counter()
        self.accepted_notes: list[tuple[str, np.ndarray]] = []
        self.naive = 0  # stamps without an offset, read in the configured timezone
        if malformed is not None:
            self.reject(malformed, R_FIELDS)

    @property
    def reason(self) -> np.ndarray:
        """The first reject reason of each row (None: accepted)."""
        if self._reason is None:
            self._reason = np.full(len(self.bad), None, dtype=object)
        return self._reason

    def reject(self, mask: Any, reason: str) -> None:
        m = np.asarray(mask, dtype=bool) & ~self.bad
        if m.any():
            self.reason[m] = reason
            self.bad |= m

    def note(self, name: str, count: int) -> None:
        if count:
            self.notes[name] += int(count)

    def note_accepted(self, name: str, mask: np.ndarray) -> None:
        """Count ``mask`` rows that end up accepted as note ``name``."""
        self.accepted_notes.append((name, np.asarray(mask, dtype=bool)))

    @property
    def ok(self) -> np.ndarray:
        return ~self.bad

    def final_notes(self) -> dict[str, int]:
        notes = Counter(self.notes)
        for name, mask in self.accepted_notes:
            notes[name] += int((mask & self.ok).sum())
        return {k: v for k, v in notes.items() if v}


def _text(s: pd.Series) -> pd.Series:
    """Cells as stripped text, NA for empty / null-like tokens."""
    t = text_cells(s).str.strip()
    missing = s.isna().to_numpy() | t.str.lower().isin(MISSING_TOKENS).to_numpy()
    return t.mask(pd.Series(missing, index=t.index)).astype("str")


def _time_col(
    raw: pd.DataFrame,
    cols: Mapping[str, str],
    name: str,
    tz: str,
    rows: _Rows,
    *,
    required: bool,
    limits: Limits = DEFAULT_LIMITS,
) -> pd.Series:
    """UTC stamps of one column by :func:`srekit.inputs.timeparse.parse_utc`; rejects ``missing
    <name>`` (when required), ``unparseable <name>``, ``<name> out of range``; DST notes."""
    if name not in cols:
        return pd.Series(pd.NaT, index=raw.index, dtype="datetime64[us, UTC]")
    s = raw[cols[name]]
    if not pd.api.types.is_datetime64_any_dtype(s) and not (
        pd.api.types.is_numeric_dtype(s) and not pd.api.types.is_bool_dtype(s)
    ):
        s = _text(s)
    p = parse_utc(s, tz, limits)
    missing = s.isna().to_numpy()
    if required:
        rows.reject(missing, f"missing {name}")
    rows.reject(p.unparseable, f"unparseable {name}")
    rows.reject(p.range_mask, f"{name} out of range")
    rows.note("dst_ambiguous_resolved", p.ambiguous_resolved)
    rows.note("dst_nonexistent_shifted", p.nonexistent_shifted)
    rows.naive += int(p.naive)
    if p.with_offset and p.naive:
        rows.note(f"naive_stamps_read_in_{tz}", p.naive)
    return p.utc


def _apply(parsed: num.Numbers, name: str, rows: _Rows, *, required: bool = True, negative_ok: bool = False) -> None:
    for template, mask in parsed.masks:
        if (template == num.MISSING and not required) or (template == num.NEGATIVE and negative_ok):
            continue
        rows.reject(mask, template.format(name))


def _number(raw: pd.DataFrame, src: str, name: str, rows: _Rows, *, required: bool = True) -> pd.Series:
    """A decimal column (value, minutes) by :func:`srekit.inputs.numbers.parse_numbers`."""
    parsed = num.parse_numbers(raw[src])
    _apply(parsed, name, rows, required=required)
    return pd.Series(parsed.values, index=raw.index, dtype="float64")


def _count(
    raw: pd.DataFrame, src: str, name: str, rows: _Rows, limits: Limits, *, required: bool = True
) -> num.Numbers:
    """An exact count column by :func:`srekit.inputs.numbers.parse_counts`."""
    parsed = num.parse_counts(raw[src], limits.max_count)
    _apply(parsed, name, rows, required=required)
    return parsed


def _category(
    raw: pd.DataFrame,
    cols: Mapping[str, str],
    name: str,
    mapping: Mapping[str, Any],
    rows: _Rows,
    *,
    required: bool = False,
) -> pd.Series:
    if name not in cols:
        return pd.Series(pd.NA, index=raw.index, dtype="str")
    s = raw[cols[name]]
    t = _text(s)
    plain = text_cells(s).str.strip().str.lower()
    t = t.where(t.notna() | ~plain.isin(list(mapping)), plain)  # e.g. impact "none" is a value
    key = t.str.lower().str.replace(r"[\s\-_]+", " ", regex=True).str.strip()
    key2 = key.str.replace(" ", "", regex=False)
    mapped = key.map(mapping)
    mapped = mapped.where(mapped.notna(), key2.map(mapping))
    missing = t.isna().to_numpy()
    if required:
        rows.reject(missing, f"missing {name}")
    rows.reject(mapped.isna().to_numpy() & ~missing, f"unknown {name} value")
    return mapped


def _bool(raw: pd.DataFrame, cols: Mapping[str, str], name: str, rows: _Rows) -> pd.Series:
    if name not in cols:
        return pd.Series(pd.NA, index=raw.index, dtype="boolean")
    return _category(raw, cols, name, BOOL_MAP, rows).astype("boolean")


def _str_col(
    raw: pd.DataFrame,
    cols: Mapping[str, str],
    name: str,
    rows: _Rows,
    *,
    required: bool = False,
    limits: Limits = DEFAULT_LIMITS,
) -> pd.Series:
    """A name column (id, alert, task, journey of an incident, …): NA where missing; ``missing
    <name>`` when required; longer than ``limits.max_name_chars`` rejects the row (``too long
    <name>``: names are identifiers, a cut one could merge with another)."""
    if name not in cols:
        return pd.Series(pd.NA, index=raw.index, dtype="str")
    t = _text(raw[cols[name]])
    if required:
        rows.reject(t.isna().to_numpy(), f"missing {name}")
    rows.reject((t.str.len() > limits.max_name_chars).to_numpy(dtype=bool, na_value=False), f"too long {name}")
    return t


def _free_text(raw: pd.DataFrame, cols: Mapping[str, str], name: str, rows: _Rows, limits: Limits) -> pd.Series:
    """Display-only text (title, cause): cut to ``limits.max_text_chars`` (ending in ``…``), noted
    as ``<name>_truncated`` over accepted rows."""
    if name not in cols:
        return pd.Series(pd.NA, index=raw.index, dtype="str")
    t = _text(raw[cols[name]])
    long = (t.str.len() > limits.max_text_chars).to_numpy(dtype=bool, na_value=False)
    if long.any():
        cut = t.str.slice(0, max(limits.max_text_chars - 1, 0)) + "…"
        t = t.where(~pd.Series(long, index=t.index), cut)
        rows.note_accepted(f"{name}_truncated", long)
    return t


def _journey_col(
    raw: pd.DataFrame, cols: Mapping[str, str], rows: _Rows, limits: Limits, *, categorical: bool = False
) -> pd.Series:
    """The journey of telemetry and series rows, as the request reader does it: no journey column
    → ``all``; an empty or missing-token cell (``NA``, ``none``, …) → ``unknown`` (note
    ``journey_missing`` over accepted rows); longer than ``limits.max_name_chars`` → ``too long
    journey``. ``categorical``: a column of few names as a categorical (:func:`_name_col`)."""
    if "journey" not in cols:
        if categorical:
            return pd.Series(
                pd.Categorical.from_codes(np.zeros(len(raw), np.int8), pd.Index([DEFAULT_JOURNEY], dtype="str")),
                index=raw.index,
            )
        return pd.Series(DEFAULT_JOURNEY, index=raw.index, dtype="str")
    return _name_col(raw, cols["journey"], "journey", rows, limits, categorical=categorical)


def _name_col(
    raw: pd.DataFrame, column: str, name: str, rows: _Rows, limits: Limits, *, categorical: bool = False
) -> pd.Series:
    """A journey or label column: empty and missing-token cells → ``unknown`` (note
    ``<name>_missing`` over accepted rows, ``label_missing`` for labels), longer than
    ``limits.max_name_chars`` → ``too long <name>``. With ``categorical``, a column of few
    distinct cells is a categorical of its names in ascending order (a small code per row instead
    of the text: 26 M rows of 200 journeys held 0.5 GB of text), else text."""
    distinct = _distinct_first(raw[column], name, rows, limits)
    if distinct is None:
        t = _str_col(raw, {name: column}, name, rows, limits=limits)
        cells = text_cells(raw[column])
        changed = (cells != cells.str.strip()).fillna(False).to_numpy(dtype=bool)
        rows.note_accepted(_trimmed_note(name), t.notna().to_numpy() & changed)
        rows.note_accepted("journey_missing" if name == "journey" else "label_missing", t.isna().to_numpy())
        return t.fillna(MISSING_JOURNEY)
    text, codes = distinct
    rows.note_accepted("journey_missing" if name == "journey" else "label_missing", text.isna().to_numpy()[codes])
    text = text.fillna(MISSING_JOURNEY)
    if not categorical:
        return pd.Series(text.array.take(codes), index=raw.index, dtype="str")
    code_of, names = pd.factorize(text, sort=True)  # names equal once trimmed share a code
    small = code_of.astype(np.min_scalar_type(max(len(names) - 1, 0)))[codes]
    return pd.Series(pd.Categorical.from_codes(small, pd.Index(names, dtype="str")), index=raw.index)


def _trimmed_note(name: str) -> str:
    """The note counting rows whose name lost white space at its ends (``" checkout "`` is
    ``checkout``: two spellings, one journey)."""
    return "journey_trimmed" if name == "journey" else "label_trimmed"


def _distinct_first(cells: pd.Series, name: str, rows: _Rows, limits: Limits) -> tuple[pd.Series, np.ndarray] | None:
    """A name column (journey, label) of a text column holding few distinct cells (the usual: a
    few names over millions of rows) read as :func:`_str_col` reads it, each distinct cell once,
    its reject reason spread to its rows: (the name of each distinct cell, NA where it has none;
    each row's distinct cell). None for other columns (read cell by cell)."""
    text_dtype = pd.api.types.pandas_dtype("str")
    kind = cells.dtype
    if kind != text_dtype and not (isinstance(kind, pd.CategoricalDtype) and kind.categories.dtype == text_dtype):
        return None
    codes, names = _distinct_codes(cells)
    if len(names) * 2 > len(codes):
        return None
    one = _Rows(len(names))
    text = _str_col(pd.DataFrame({"c": pd.Series(names)}), {name: "c"}, name, one, limits=limits)
    for reason in dict.fromkeys(one.reason[one.bad]):
        rows.reject((one.reason == reason)[codes], str(reason))
    trimmed = np.array([isinstance(n, str) and n != n.strip() for n in names], dtype=bool) & text.notna().to_numpy()
    if trimmed.any():
        rows.note_accepted(_trimmed_note(name), trimmed[codes])
    return text, codes


def _distinct_codes(cells: pd.Series) -> tuple[np.ndarray, pd.Index]:
    """``pd.factorize(cells, use_na_sentinel=False)`` up to the order of the names; a categorical
    column (Parquet text) gives its own small codes (no int64 code per row), an empty cell coded
    after the categories."""
    if not isinstance(cells.dtype, pd.CategoricalDtype):
        return pd.factorize(cells, use_na_sentinel=False)
    codes = cells.cat.codes.to_numpy()
    names = pd.Index(cells.cat.categories)
    empty = codes < 0
    if empty.any():
        codes = codes.astype(np.min_scalar_type(len(names)))  # a copy as small as the codes
        codes[empty] = len(names)
        names = names.append(pd.Index([None], dtype=names.dtype))
    return codes, names


def check_journey_count(journeys: pd.Series, *, source: str, kind: str, limits: Limits, what: str = "journeys") -> None:
    """More distinct journeys than ``limits.max_journeys`` is an :class:`InputError` (exit 2)."""
    n = int(journeys.nunique())
    if n > limits.max_journeys:
        raise input_error(
            f"{n} distinct {what} is more than limits.max_journeys = {limits.max_journeys}",
            file=source,
            column="journey",
            expected=f"at most {limits.max_journeys} {what} (each costs a row per interval and its own analysis)",
            got=", ".join(repr(j) for j in journeys.drop_duplicates().head(5)) + ", …",
            fix=f"map a coarser column as the journey (data.{kind}_columns: {{journey: service}}), "
            + Limits.raise_hint("max_journeys", limits.max_journeys),
        )


#: What usually causes a reason that rejects every row.
_HINTS = {
    R_FIELDS: ": every row needs as many fields as the header; a trailing or unquoted comma adds one "
    "(the rejects' `line` column shows the raw text)",
}
#: Columns the rejects add; a file column of the same name is kept as ``<name> (file)``.
_REJECT_COLUMNS = ("row", "line", "reason")


def _finish(
    kind: str,
    source: str,
    raw: Raw,
    frame: pd.DataFrame,
    rows: _Rows,
    *,
    time_col: str,
    strict: bool,
    end_col: str | None = None,
) -> Loaded:
    """Split accepted and rejected rows, build the ledger entry, enforce strict / all-rejected."""
    ok = rows.ok
    reasons = pd.Series(rows.reason[~ok] if rows.bad.any() else [], dtype="str")  # no reason array when clean
    counts = dict(Counter(reasons.tolist()))
    rej_rows = (np.flatnonzero(~ok) + 1).tolist()
    if counts and (strict or ok.sum() == 0):
        top = max(counts, key=lambda k: counts[k])
        first = [r for r, why in zip(rej_rows, reasons, strict=True) if why == top]
        what = "strict mode: rows were rejected" if strict else "no usable rows: every row was rejected"
        raise input_error(
            what,
            file=source,
            rows=first,
            expected=f"valid {kind} rows",
            got="; ".join(f"{k}: {v}" for k, v in sorted(counts.items(), key=lambda kv: -kv[1])),
            fix=f"correct the rows (most common problem: {top}{_HINTS.get(top, '')})"
            + ("" if strict else "; check the column mapping and the --format"),
        )
    rejects = tm.dense(raw.frame.loc[~ok]).copy()  # buckets held sparse are shown cumulative, as in a wide file
    rejects.columns = pd.Index([f"{c} (file)" if c in _REJECT_COLUMNS else c for c in rejects.columns], dtype=object)
    rejects.insert(0, "row", rej_rows)
    if raw.lines is not None:
        rejects["line"] = raw.lines[~ok].to_numpy()
    rejects["reason"] = reasons.to_numpy()
    rejects = rejects.reset_index(drop=True)
    accepted = (frame if ok.all() else frame.loc[ok]).reset_index(drop=True)
    start = end = None
    if len(accepted):
        stamps = accepted[time_col]
        if end_col is not None:
            stamps = pd.concat([stamps, accepted[end_col]])
        if stamps.notna().any():
            start, end = stamps.min(), stamps.max()
    entry = LedgerEntry(
        kind=kind,
        source=source,
        rows_read=len(raw.frame),
        rows_accepted=int(ok.sum()),
        rejected=counts,
        notes=rows.final_notes(),
        start=start,
        end=end,
    )
    return Loaded(frame=accepted, entry=entry, rejects=rejects, naive_stamps=rows.naive)


def check_timezone(tz: str, *, source: str | None = None) -> None:
    """Raise :class:`InputError` unless ``tz`` is an IANA timezone name (``Europe/Berlin``)."""
    if not is_timezone(tz):
        raise input_error(
            f"unknown timezone {tz!r}",
            file=source,
            expected="an IANA timezone name such as UTC, Europe/Berlin, America/New_York",
            fix="correct `timezone:` in service.yaml or --timezone",
        )


def _read(
    path: str | Path,
    fmt: str | None,
    kind: str,
    allowed: tuple[str, ...] = CONTAINERS,
    tz: str = "UTC",
    narrow: str | None = None,
    total: str | None = None,
) -> tuple[Raw, str]:
    if fmt is not None and fmt not in allowed:
        raise input_error(
            f"unknown format {fmt!r} for {kind}",
            file=str(path),
            expected=", ".join(allowed),
            got=fmt,
            fix=f"set data.{kind}_format (or --format) to one of {list(allowed)}, "
            "or leave it out to detect it from the file name",
        )
    p = Path(path)
    raw = read_table(p, fmt if fmt in CONTAINERS else None, narrow=narrow, total=total)
    check_timezone(tz, source=str(p))
    _check_shape(raw.frame, str(p))
    return raw, str(p)


def _check_shape(frame: pd.DataFrame, source: str) -> None:
    if len(frame.columns) == 0:
        raise input_error("file has no columns", file=source, fix="export the data again with a header row")
    if len(frame) == 0:
        raise input_error(
            "file has a header but no data rows",
            file=source,
            got=f"header {', '.join(map(str, frame.columns[:12]))}",
            expected="at least one data row",
            fix="export a time range that contains data",
        )


# --------------------------------------------------------------------------- kinds


def _bucket_columns(df: pd.DataFrame, source: str) -> tuple[list[tuple[str, float]], int]:
    """The ``le_<edge>`` columns sorted by edge, and how many ``le_+Inf`` columns were dropped.

    A name that is not ``le_<positive ms>`` is an error, and so are two columns for one edge
    (``le_100`` beside ``le_100.0`` or ``LE_100``): which one holds the counts is unknowable."""
    names = [str(c) for c in df.columns]
    by_edge, inf, bad = tm.file_buckets(names)
    if bad:
        raise input_error(
            "bucket column name is not le_<edge in ms>",
            file=source,
            column=bad[0],
            expected="le_100, le_2.5, …",
            fix="rename the bucket columns to le_<positive edge in ms>",
        )
    clash = next(((e, cs) for e, cs in by_edge.items() if len(cs) > 1), None)
    if clash is not None:
        edge, clashing = clash
        where = ", ".join(f"{n!r} (column {i + 1})" for i, n in enumerate(names) if n in set(clashing))
        raise input_error(
            f"{len(clashing)} bucket columns for the same edge {edge:g} ms: {where}",
            file=source,
            column=clashing[0],
            expected="one le_<edge> column per bucket edge",
            fix="remove the repeated bucket column (or rename it to its real edge)",
        )
    if not by_edge:
        raise input_error(
            "telemetry has no latency bucket columns",
            file=source,
            expected="cumulative columns named le_<edge_ms>, e.g. le_100, le_250",
            got=", ".join(names[:12]),
            fix="add bucket columns or aggregate raw requests with `srekit aggregate`",
        )
    return sorted(((cs[0], e) for e, cs in by_edge.items()), key=lambda ce: ce[1]), len(inf)


def _count_matrix(df: pd.DataFrame, sources: list[str], names: list[str], rows: _Rows, limits: Limits) -> np.ndarray:
    """Column-major counts (total and errors, or buckets by ascending edge), exact: int64, or
    the file's one unsigned dtype of :data:`~srekit.inputs.telemetry.BUCKET_DTYPES` when every
    column has it (narrowed Parquet buckets); rejected cells hold 0 (their row is rejected with
    the first reason that applies)."""
    n = len(df)
    dtypes = {df[c].dtype for c in sources}
    narrow = len(dtypes) == 1 and next(iter(dtypes)) in tm.BUCKET_DTYPES
    if narrow or all(pd.api.types.is_signed_integer_dtype(df[c]) and not df[c].hasnans for c in sources):
        # typed fast path: a view of the file's block when it holds these columns in order
        counts = np.asfortranarray(df[sources].to_numpy() if narrow else df[sources].to_numpy(dtype=np.int64))
        if n and (counts.min() < 0 or counts.max() > limits.max_count):  # one pass each; rarely true
            for j, name in enumerate(names):
                rows.reject(counts[:, j] < 0, f"negative {name}")
                rows.reject(counts[:, j] > limits.max_count, f"too large {name}")
        return counts
    counts = np.empty((n, len(sources)), dtype=np.int64, order="F")
    for j, (c, name) in enumerate(zip(sources, names, strict=True)):
        counts[:, j] = _count(df, c, name, rows, limits).values
    return counts


def _check_sum(good: pd.DataFrame, source: str) -> None:
    """The sum of ``total`` over a source must stay below :data:`MAX_SUM` (2**62), so that no sum
    of counts over journeys and windows can overflow int64 (errors and buckets are ≤ total)."""
    total = good["total"].to_numpy()
    if total.size == 0 or float(total.sum(dtype=float)) < MAX_SUM / 2:
        return
    exact = sum(int(x) for x in total)  # Python integers: exact, whatever the size
    if exact >= MAX_SUM:
        raise input_error(
            f"the requests of this file add up to {exact:,}, at least 2**62: sums over them could overflow",
            file=source,
            column="total",
            expected="at most 2**62 requests in one telemetry source",
            fix="check the counts (a unit mix-up, or cumulative counters instead of per-interval counts), "
            "or split the file by journey",
        )


def check_grid_span(stamps: pd.Series, *, source: str, limits: Limits) -> None:
    """The regular grid from the first to the last interval start, at the smallest spacing, must
    have at most ``limits.max_intervals`` intervals (exit 2 otherwise)."""
    if len(stamps) < 2:
        return
    step = tm.infer_interval(pd.DataFrame({"interval_start": stamps}))
    first, last = stamps.min(), stamps.max()
    cells = int((last - first) // step) + 1
    if cells > limits.max_intervals:
        raise input_error(
            f"the telemetry spans {cells:,} intervals of {step} ({first} .. {last}), more than "
            f"limits.max_intervals = {limits.max_intervals:,}",
            file=source,
            column="interval_start",
            expected="history on one regular grid of a sensible size (every analysis builds it per journey)",
            fix="check for stray stamps far from the rest (the time range shows them) or a finer interval than "
            "intended; " + Limits.raise_hint("max_intervals", limits.max_intervals),
        )


#: Optional telemetry columns that declare how long each row's interval is.
INTERVAL_COLUMNS = ("interval_s", "interval_end")


def _interval_col(
    df: pd.DataFrame,
    cols: Mapping[str, str],
    starts: pd.Series,
    tz: str,
    rows: _Rows,
    limits: Limits,
    source: str,
) -> pd.Timedelta | None:
    """The interval length the file declares, from ``interval_s`` (seconds) or ``interval_end``
    (a stamp after ``interval_start``): rows declaring none or a non-positive length are rejected,
    and so are rows whose length differs from the file's (the most common one): the telemetry
    model has one interval per source. ``None`` when the file has neither column."""
    present = [c for c in INTERVAL_COLUMNS if c in cols]
    if not present:
        return None
    if len(present) > 1:
        raise input_error(
            "both interval_s and interval_end declare the interval length",
            file=source,
            column=", ".join(cols[c] for c in present),
            expected="one of them",
            fix="remove one of the two columns (or map only one with data.telemetry_columns)",
        )
    if present[0] == "interval_s":
        seconds = _number(df, cols["interval_s"], "interval_s", rows)
        rows.reject(seconds.to_numpy() <= 0, "non-positive interval_s")
        length = pd.to_timedelta(seconds.where(seconds > 0), unit="s").dt.round("us")
    else:
        ends = _time_col(df, cols, "interval_end", tz, rows, required=True, limits=limits)
        length = ends - starts
        rows.reject((length <= pd.Timedelta(0)).to_numpy(dtype=bool), "interval_end not after interval_start")
    usable = length[rows.ok]
    if usable.empty:
        return None
    common = usable.mode().iloc[0]
    reason = f"interval differs from the file's ({common.total_seconds():g} s)"
    rows.reject((length != common).to_numpy(dtype=bool), reason)
    return pd.Timedelta(common)


def load_telemetry(
    path: str | Path,
    *,
    fmt: str | None = None,
    tz: str = "UTC",
    columns: Mapping[str, str] | None = None,
    strict: bool = False,
    limits: Limits = DEFAULT_LIMITS,
) -> Loaded:
    """Aggregated telemetry (Parquet or CSV): ``interval_start``, ``total``, ``errors``,
    cumulative ``le_<ms>`` columns, optional ``journey`` (default ``"all"``; empty cells
    ``unknown``).

    Row rejects: unparseable / missing / out-of-range ``interval_start``; missing, non-numeric,
    decimal-comma, negative, non-integer or too large counts (exact integers up to
    ``limits.max_count``); ``errors > total``; buckets decreasing with the edge; a bucket above
    ``total``; a journey name too long. Rows repeating a (journey, interval_start) key are summed
    (the form is mergeable) and counted in the note ``duplicate_intervals_merged``; the sum of
    ``total`` must stay below 2**62 and the journeys within ``limits.max_journeys``. The result
    passes :func:`srekit.inputs.telemetry.check` and is in :func:`srekit.inputs.telemetry.canonical`
    form, its ``le_`` buckets in the smallest unsigned dtype their counts fit
    (:func:`srekit.inputs.telemetry.narrow_buckets`; Parquet buckets are read that way), its
    journeys a categorical (:func:`srekit.inputs.telemetry.compact`); a large Parquet file (wide or
    in the sparse layout) holds its buckets sparse instead (:mod:`srekit.inputs.buckets`: read them through
    :mod:`srekit.inputs.telemetry`'s bucket functions, never as ``le_`` columns).
    """
    total = (columns or {}).get("total", "total")  # the requests a large file's buckets are checked against
    raw, source = _read(path, fmt, "telemetry", tz=tz, narrow=tm.LE_PREFIX, total=total)
    df = raw.frame
    cols = resolve_columns(
        df,
        required=("interval_start", "total", "errors"),
        optional=("journey", *INTERVAL_COLUMNS),
        columns=columns,
        source=source,
        kind="telemetry",
    )
    sparse = bk.columns(df)  # a large file held sparse: its reader checked every row's buckets
    buckets, n_inf = ([], len(tm.file_buckets(map(str, df.columns))[1])) if sparse else _bucket_columns(df, source)
    rows = _Rows(len(df), raw.malformed)
    journey = _journey_col(df, cols, rows, limits, categorical=True)
    found = _label_columns(df, cols, source, limits)
    labels = {name: _name_col(df, column, name, rows, limits) for name, column in found.items()}
    if "journey" not in cols:
        rows.note_accepted("journey_defaulted_to_all", np.ones(len(df), dtype=bool))
    stamps = _time_col(df, cols, "interval_start", tz, rows, required=True, limits=limits)
    interval = _interval_col(df, cols, stamps, tz, rows, limits, source)
    names = [tm.edge_label(e) for _, e in buckets]
    counts = _count_matrix(df, [cols["total"], cols["errors"]], tm.COUNTS, rows, limits)
    tot = counts[:, 0]
    rows.reject(counts[:, 1] > tot, "errors exceed total")
    if sparse:
        held = df[sparse]
    else:
        bucket = _count_matrix(df, [c for c, _ in buckets], names, rows, limits)
        if bucket.shape[1] > 1:
            decreasing = np.zeros(len(df), dtype=bool)
            for j in range(1, bucket.shape[1]):  # column by column: no n × edges temporary
                decreasing |= bucket[:, j] < bucket[:, j - 1]
            rows.reject(decreasing, "buckets not cumulative")
            del decreasing
        rows.reject(bucket[:, -1] > tot, "bucket exceeds total")
        held = pd.DataFrame(bucket, index=df.index, columns=pd.Index(names), copy=False)
        del bucket  # held is its only holder: a sort below may free it
    rows.note("le_inf_column_dropped", n_inf)
    # the column-major count and bucket blocks as they are (no copy), then the key columns in front
    frame = pd.concat([pd.DataFrame(counts, index=df.index, columns=pd.Index(tm.COUNTS), copy=False), held], axis=1)
    frame.insert(0, "interval_start", stamps)
    for name in reversed(labels):
        frame.insert(0, name, labels[name])
    frame.insert(0, "journey", journey)
    loaded = _finish("telemetry", source, raw, frame, rows, time_col="interval_start", strict=strict)
    del raw, df, frame, held, journey, stamps, counts, tot  # the file's columns live on in loaded.frame only
    good = loaded.frame
    check_journey_count(good["journey"], source=source, kind="telemetry", limits=limits)
    check_grid_span(good["interval_start"], source=source, limits=limits)
    if interval is not None:
        check_declared(
            good["interval_start"],
            good["journey"],
            interval,
            kind="telemetry",
            source=source,
            key="the file's interval column",
        )
    _check_sum(good, source)
    labelled = None
    if labels:
        check_journey_count(
            good[["journey", *labels]].drop_duplicates().astype(str).agg(" / ".join, axis=1),
            source=source,
            kind="telemetry",
            limits=limits,
            what="journey × label combinations",
        )
        dup = int(good.duplicated(["journey", *labels, "interval_start"]).sum())
        merged, labelled = tm.split_labels(good, consume=True)  # (good is loaded.frame, replaced below)
    elif _is_canonical(good):  # the usual export: sorted by journey and time, no repeats
        dup, merged = 0, good
    elif not _canonical_form(good):  # columns or dtypes to make canonical
        dup = int(good.duplicated(tm.KEY).sum())
        merged = tm.merge([good]) if dup else tm.canonical(good)
    else:  # out of order (a shuffled export), or repeated keys (overlapping exports): sorted and
        # summed as it is held (good is loaded.frame, replaced below: it may be used up)
        kept, dup = tm.sorted_held(good, consume=True)
        merged = kept if kept is not None else tm.merge([good])
    merged = tm.compact(merged)  # Parquet buckets and journeys are read that way already
    memory.release()  # what reading and checking freed: resident memory follows the frame kept
    # No tm.check(merged) pass: the row checks above reject exactly what it refuses (negative
    # counts, errors > total, decreasing buckets, a bucket above total), and sums of valid rows
    # stay valid (and below 2**62). tests/test_io.py checks the loaded frame passes tm.check.
    notes = dict(loaded.entry.notes)
    if dup:
        notes["duplicate_intervals_merged"] = dup
    entry = replace(loaded.entry, notes=notes)
    return replace(loaded, frame=merged, entry=entry, interval=interval, labels=labelled)


def _label_columns(df: pd.DataFrame, cols: Mapping[str, str], source: str, limits: Limits) -> dict[str, str]:
    """Extra text columns of a telemetry file (``region``, ``status_class``: what ``srekit
    aggregate --by`` and ``prometheus.by`` keep), label name (stripped, lower case) → file column.
    Columns of numbers only (an exported index) are not labels; more than ``limits.max_labels``
    is an error."""
    known = {*cols.values(), *INTERVAL_COLUMNS}
    out: dict[str, str] = {}
    for c in (str(c) for c in df.columns):
        if c in known or c.lower().startswith(tm.LE_PREFIX) or c.strip().lower() in (*tm.KEY, *tm.COUNTS):
            continue
        cells = df[c]
        if pd.api.types.is_numeric_dtype(cells) or pd.api.types.is_bool_dtype(cells):
            continue
        text = pd.Series(_text(cells).dropna().unique())
        if text.empty or pd.to_numeric(text, errors="coerce").notna().all():
            continue
        name = c.strip().lower()
        if name in out:
            raise input_error(
                f"two columns name the same label {name!r}: {out[name]!r} and {c!r}",
                file=source,
                column=c,
                fix="keep one of them (labels are matched ignoring case and surrounding spaces)",
            )
        out[name] = c
    if len(out) > limits.max_labels:
        raise input_error(
            f"{len(out)} extra text columns, more than limits.max_labels = {limits.max_labels}",
            file=source,
            column=", ".join(list(out.values())[:8]),
            expected="extra columns are labels (region, status_class, …) that SLOs are broken down by",
            fix="drop the columns you do not break SLOs down by, or "
            + Limits.raise_hint("max_labels", limits.max_labels),
        )
    return out


def _is_canonical(frame: pd.DataFrame) -> bool:
    """Whether :func:`srekit.inputs.telemetry.canonical` would return ``frame`` unchanged and it has
    no repeated (journey, interval_start) key: canonical columns and dtypes, a fresh index,
    rows strictly increasing by journey then interval_start."""
    if not _canonical_form(frame):
        return False
    runs = tm.sorted_runs(frame["journey"])  # each journey one run, in name order (no array of codes)
    if runs is None:
        return False
    t = pd.DatetimeIndex(frame["interval_start"]).asi8
    return all(bool((t[r.start + 1 : r.stop] > t[r.start : r.stop - 1]).all()) for r in runs.values())


def _canonical_form(frame: pd.DataFrame) -> bool:
    """Whether ``frame`` has canonical telemetry's columns and dtypes, a fresh index and no
    missing key (its rows in any order)."""
    sparse = bk.columns(frame)
    les = sparse or tm.le_columns(frame)
    if (
        list(frame.columns) != tm.KEY + tm.COUNTS + les
        or not isinstance(frame.index, pd.RangeIndex)
        or frame.index.start != 0
        or frame.index.step != 1
    ):
        return False
    text = pd.api.types.pandas_dtype("str")
    journey_dtype = frame["journey"].dtype
    if isinstance(journey_dtype, pd.CategoricalDtype):  # the loader's journeys: text categories
        if not journey_dtype.categories.is_monotonic_increasing:  # (rows sorted by name, then)
            return False
        journey_dtype = journey_dtype.categories.dtype
    if journey_dtype != text or frame["interval_start"].dtype != "datetime64[us, UTC]":
        return False
    if any(frame[c].dtype != np.int64 for c in tm.COUNTS) or any(
        frame[c].dtype != np.int64 and frame[c].dtype not in tm.BUCKET_DTYPES for c in les if not sparse
    ):
        return False
    return not (frame["journey"].hasnans or frame["interval_start"].hasnans)


def _gap_notes(frame: pd.DataFrame, rows_notes: Counter[str], *, time_col: str, group: str) -> None:
    """Duplicate stamps and gaps (a spacing above 1.5× the typical spacing) per group."""
    dups = gaps = 0
    for _, part in frame.groupby(group, sort=False):
        stamps = part[time_col].dropna().sort_values()
        dups += int(stamps.duplicated().sum())
        uniq = stamps.drop_duplicates()
        if len(uniq) > 2:
            diffs = uniq.diff().dropna()
            step = diffs.median()
            gaps += int((diffs > 1.5 * step).sum())
    if dups:
        rows_notes["duplicate_timestamps"] += dups
    if gaps:
        rows_notes["gaps"] += gaps


def load_series(
    path: str | Path,
    *,
    fmt: str | None = None,
    tz: str = "UTC",
    columns: Mapping[str, str] | None = None,
    strict: bool = False,
    limits: Limits = DEFAULT_LIMITS,
) -> Loaded:
    """A per-interval statistic (``timestamp``, ``value``, optional ``journey`` default
    ``"all"``), e.g. a CloudWatch / NAB / Microsoft dashboard export; extra columns (a ``Label``)
    are ignored.

    Row rejects: unparseable / missing / out-of-range stamp; missing (empty or NaN), non-numeric,
    decimal-comma, ambiguous-comma, infinite or negative value; a journey name too long. Empty
    journey cells become ``unknown`` (note ``journey_missing``). Kept and noted: ``zero_values``,
    ``duplicate_timestamps`` (rows sharing a
    stamp with an earlier row of the same journey), ``gaps`` (spacings above 1.5× the median),
    DST resolutions.
    """
    raw, source = _read(path, fmt, "series", tz=tz)
    df = raw.frame
    cols = resolve_columns(
        df, required=("timestamp", "value"), optional=("journey",), columns=columns, source=source, kind="series"
    )
    rows = _Rows(len(df), raw.malformed)
    frame = pd.DataFrame(index=df.index)
    frame["timestamp"] = _time_col(df, cols, "timestamp", tz, rows, required=True, limits=limits)
    frame["value"] = _number(df, cols["value"], "value", rows)
    frame["journey"] = _journey_col(df, cols, rows, limits)
    loaded = _finish("series", source, raw, frame[list(SERIES)], rows, time_col="timestamp", strict=strict)
    good = loaded.frame
    check_journey_count(good["journey"], source=source, kind="series", limits=limits)
    notes = Counter(loaded.entry.notes)
    zeros = int((good["value"] == 0).sum())
    if zeros:
        notes["zero_values"] = zeros
    _gap_notes(good, notes, time_col="timestamp", group="journey")
    good = good.sort_values(["journey", "timestamp"], kind="stable").reset_index(drop=True)
    return replace(loaded, frame=good, entry=replace(loaded.entry, notes=dict(notes)))


def _incident_raw(path: str | Path, fmt: str | None, tz: str, limits: Limits) -> tuple[Raw, str, str | None]:
    """Read an incidents file and apply a preset when asked for or detected (JSON)."""
    allowed = CONTAINERS + presets.PRESETS
    if fmt is not None and fmt not in allowed:
        _read(path, fmt, "incidents", allowed)  # raises the uniform unknown-format error
    p = Path(path)
    _check_exists(p)
    check_timezone(tz, source=str(p))
    container = container_of(p, fmt if fmt in CONTAINERS else None)
    preset = fmt if fmt in presets.PRESETS else None
    if container == "json":
        records = presets.records_of(read_json(p), source=str(p))
        preset = preset or presets.detect(records)
        raw = Raw.of(_json_frame(records, str(p)) if preset is None else presets.convert(preset, records, tz))
    else:
        raw = read_table(p, container)
        if preset is not None:
            names = [str(c) for c in raw.frame.columns]
            repeated = sorted({n for n in names if n and names.count(n) > 1})
            if repeated:
                raise input_error(
                    f"the {preset} export repeats the column(s) {repeated}",
                    file=str(p),
                    column=repeated[0],
                    expected="each field name once in the header",
                    fix="export the incidents again, or remove the repeated column",
                )
            recs = [{str(k): v for k, v in r.items()} for r in raw.frame.fillna("").to_dict("records")]
            raw = Raw(presets.convert(preset, recs, tz), raw.malformed, raw.lines)
    if len(raw.frame.columns) == 0 or len(raw.frame) == 0:
        raise input_error(
            "file has no incident records",
            file=str(p),
            expected="at least one incident",
            fix="export a time range that contains incidents",
        )
    return raw, str(p), preset


def _suggest_preset(df: pd.DataFrame, source: str) -> None:
    """A vendor export read as a generic CSV (its field names are not the canonical ones) is an
    :class:`InputError` naming the ``--format`` that reads it, instead of a suggestion to rename
    one of the vendor's columns."""
    have = [str(c) for c in df.columns]
    if folded("started_at") in {folded(c) for c in have}:
        return
    found = presets.detect([dict.fromkeys(have, "")])
    if found is None:
        return
    raise input_error(
        f"these columns are the fields of a {PRESET_NAMES.get(found, found)} export, not the generic incident columns",
        file=source,
        expected="id, started_at, resolved_at (generic), or a preset: " + ", ".join(presets.PRESETS),
        got=", ".join(have[:15]),
        fix=f"read it with the {found} preset: data.incidents_format: {found} in service.yaml (CLI: --format {found})",
    )


#: Vendor names of the incident presets, for messages.
PRESET_NAMES = {
    "gcp": "Google Cloud status",
    "statuspage": "Atlassian Statuspage",
    "pagerduty": "PagerDuty",
    "opsgenie": "Opsgenie",
}


def _check_unique_ids(ids: pd.Series, column: str, source: str) -> None:
    dup = ids.notna() & ids.duplicated(keep=False)
    if dup.any():
        first_id = ids[dup].iloc[0]
        rows_dup = (np.flatnonzero(dup.to_numpy()) + 1).tolist()
        raise input_error(
            f"duplicate incident ids (e.g. {str(first_id)[:80]!r})",
            file=source,
            column=column,
            rows=rows_dup,
            expected="one row per incident with a unique id",
            got=f"{int(ids[dup].nunique())} ids used more than once",
            fix="remove the repeated rows, or give each incident its own id",
        )


#: (stamp, the stamp it may not precede): a stamp before its reference would give a negative
#: delay (time to detect / acknowledge / mitigate); it is cleared and counted as ``cleared_<a>_before_<b>``.
LIFECYCLE_ORDER = (
    ("detected_at", "started_at"),
    ("acknowledged_at", "started_at"),
    ("mitigated_at", "started_at"),
    ("acknowledged_at", "detected_at"),
)


def _clear_negative_delays(frame: pd.DataFrame, rows: _Rows) -> None:
    """Clear lifecycle stamps that precede the stamp they are measured from (never a negative
    duration); each clearing is counted over accepted rows in a ``cleared_…`` note."""
    for name, reference in LIFECYCLE_ORDER:
        early = (frame[name] < frame[reference]).to_numpy(dtype=bool, na_value=False)
        if early.any():
            frame.loc[early, name] = pd.NaT
            rows.note_accepted(f"cleared_{name.removesuffix('_at')}_before_{reference.removesuffix('_at')}", early)


def load_incidents(
    path: str | Path,
    *,
    fmt: str | None = None,
    tz: str = "UTC",
    columns: Mapping[str, str] | None = None,
    strict: bool = False,
    limits: Limits = DEFAULT_LIMITS,
) -> Loaded:
    """Incidents: generic CSV/Parquet/JSON (``id``, ``started_at``, ``resolved_at`` plus the
    optional columns of :data:`srekit.inputs.columns.INCIDENTS`) or a vendor preset (``fmt`` one of
    ``pagerduty``, ``opsgenie``, ``statuspage``, ``gcp``; JSON presets are detected).

    Whole-file: duplicate ids → :class:`InputError`. Row rejects: missing id; missing or
    unparseable ``started_at``; unparseable or out-of-range stamps; ``resolved_at`` before
    ``started_at``; unknown severity / detection / postmortem values; bad action-item counts;
    an id or journey longer than ``limits.max_name_chars``. Titles and causes longer than
    ``limits.max_text_chars`` are cut (``title_truncated``, ``cause_truncated``). A detection,
    acknowledgement or mitigation stamp before the start (or an acknowledgement before the
    detection) is cleared, never a negative delay: ``cleared_detected_before_started``,
    ``cleared_acknowledged_before_started``, ``cleared_mitigated_before_started``,
    ``cleared_acknowledged_before_detected``. Kept and noted: ``open_incidents`` (empty
    ``resolved_at``, right-censored, never dropped), ``zero_duration`` (resolved at the start,
    e.g. back-filled history), ``mitigated_after_resolved``.
    """
    raw, source, preset = _incident_raw(path, fmt, tz, limits)
    df = raw.frame
    optional = tuple(c for c in INCIDENTS if c not in ("id", "started_at", "resolved_at"))
    if preset is None and not columns:
        _suggest_preset(df, source)
    cols = resolve_columns(
        df,
        required=("id", "started_at", "resolved_at"),
        optional=optional,
        columns=columns,
        source=source,
        kind="incidents",
    )
    rows = _Rows(len(df), raw.malformed)
    frame = pd.DataFrame(index=df.index)
    frame["id"] = _str_col(df, cols, "id", rows, required=True, limits=limits)
    _check_unique_ids(frame["id"], cols["id"], source)
    frame["title"] = _free_text(df, cols, "title", rows, limits)
    for name in INCIDENT_TIMES:
        frame[name] = _time_col(df, cols, name, tz, rows, required=(name == "started_at"), limits=limits)
    frame["severity"] = _category(df, cols, "severity", SEVERITY_MAP, rows)
    frame["cause"] = _free_text(df, cols, "cause", rows, limits)
    frame["detection"] = _category(df, cols, "detection", DETECTION_MAP, rows)
    frame["journey"] = _str_col(df, cols, "journey", rows, limits=limits)
    frame["postmortem"] = _category(df, cols, "postmortem", POSTMORTEM_MAP, rows)
    for name in ("action_items_open", "action_items_closed"):
        frame[name] = pd.Series(pd.NA, index=df.index, dtype="Int64")
        if name in cols:
            parsed = _count(df, cols[name], name, rows, limits, required=False)
            frame[name] = pd.array(parsed.values, dtype="Int64")
            frame.loc[parsed.mask(num.MISSING), name] = pd.NA
    started, resolved = frame["started_at"], frame["resolved_at"]
    rows.reject((resolved < started).to_numpy(dtype=bool, na_value=False), "resolved before started")
    _clear_negative_delays(frame, rows)
    loaded = _finish(
        "incidents",
        source,
        raw,
        frame[list(INCIDENTS)],
        rows,
        time_col="started_at",
        strict=strict,
        end_col="resolved_at",
    )
    good = loaded.frame
    notes = Counter(loaded.entry.notes)
    if preset:
        notes[f"preset_{preset}"] = len(df)
    notes["open_incidents"] = int(good["resolved_at"].isna().sum())
    notes["zero_duration"] = int((good["resolved_at"] == good["started_at"]).sum())
    notes["mitigated_after_resolved"] = int((good["mitigated_at"] > good["resolved_at"]).sum())
    notes = Counter({k: v for k, v in notes.items() if v})
    good = good.sort_values(["started_at", "id"], kind="stable").reset_index(drop=True)
    return replace(loaded, frame=good, entry=replace(loaded.entry, notes=dict(notes)))


def load_toil(
    path: str | Path,
    *,
    fmt: str | None = None,
    tz: str = "UTC",
    columns: Mapping[str, str] | None = None,
    strict: bool = False,
    limits: Limits = DEFAULT_LIMITS,
) -> Loaded:
    """A toil log: ``date``, ``task``, ``minutes``; optional ``category``, ``engineer``,
    ``automatable`` (yes/no, true/false, 1/0). ``date`` becomes the UTC instant of that local
    midnight (or of the stamp given).

    Row rejects: missing / unparseable / out-of-range date, missing task, missing / non-numeric /
    decimal-comma / ambiguous-comma / infinite / negative minutes, unknown ``automatable`` value, a
    task, category or engineer longer than ``limits.max_name_chars``. Noted: ``zero_minutes``.
    """
    raw, source = _read(path, fmt, "toil", tz=tz)
    df = raw.frame
    cols = resolve_columns(
        df,
        required=("date", "task", "minutes"),
        optional=("category", "engineer", "automatable"),
        columns=columns,
        source=source,
        kind="toil",
    )
    rows = _Rows(len(df), raw.malformed)
    frame = pd.DataFrame(index=df.index)
    frame["date"] = _time_col(df, cols, "date", tz, rows, required=True, limits=limits)
    frame["task"] = _str_col(df, cols, "task", rows, required=True, limits=limits)
    frame["minutes"] = _number(df, cols["minutes"], "minutes", rows)
    frame["category"] = _str_col(df, cols, "category", rows, limits=limits)
    frame["engineer"] = _str_col(df, cols, "engineer", rows, limits=limits)
    frame["automatable"] = _bool(df, cols, "automatable", rows)
    loaded = _finish("toil", source, raw, frame[list(TOIL)], rows, time_col="date", strict=strict)
    notes = Counter(loaded.entry.notes)
    zero = int((loaded.frame["minutes"] == 0).sum())
    if zero:
        notes["zero_minutes"] = zero
    good = loaded.frame.sort_values("date", kind="stable").reset_index(drop=True)
    return replace(loaded, frame=good, entry=replace(loaded.entry, notes=dict(notes)))


def load_alerts(
    path: str | Path,
    *,
    fmt: str | None = None,
    tz: str = "UTC",
    columns: Mapping[str, str] | None = None,
    strict: bool = False,
    limits: Limits = DEFAULT_LIMITS,
) -> Loaded:
    """The pages / alerts log: ``timestamp``, ``alert``, ``severity`` (``page``, ``ticket`` or
    other text, lower-cased); optional ``actionable`` (yes/no), ``incident_id``.

    Row rejects: missing / unparseable / out-of-range stamp, missing alert name or severity, unknown
    ``actionable`` value, an alert name, severity or incident id longer than
    ``limits.max_name_chars``. Noted: ``linked_to_incident`` (rows with an incident id).
    """
    raw, source = _read(path, fmt, "alerts", tz=tz)
    df = raw.frame
    cols = resolve_columns(
        df,
        required=("timestamp", "alert", "severity"),
        optional=("actionable", "incident_id"),
        columns=columns,
        source=source,
        kind="alerts",
    )
    rows = _Rows(len(df), raw.malformed)
    frame = pd.DataFrame(index=df.index)
    frame["timestamp"] = _time_col(df, cols, "timestamp", tz, rows, required=True, limits=limits)
    frame["alert"] = _str_col(df, cols, "alert", rows, required=True, limits=limits)
    frame["severity"] = _str_col(df, cols, "severity", rows, required=True, limits=limits).str.lower()
    frame["actionable"] = _bool(df, cols, "actionable", rows)
    frame["incident_id"] = _str_col(df, cols, "incident_id", rows, limits=limits)
    loaded = _finish("alerts", source, raw, frame[list(ALERTS)], rows, time_col="timestamp", strict=strict)
    notes = Counter(loaded.entry.notes)
    linked = int(loaded.frame["incident_id"].notna().sum())
    if linked:
        notes["linked_to_incident"] = linked
    good = loaded.frame.sort_values("timestamp", kind="stable").reset_index(drop=True)
    return replace(loaded, frame=good, entry=replace(loaded.entry, notes=dict(notes)))


def load_deploys(
    path: str | Path,
    *,
    fmt: str | None = None,
    tz: str = "UTC",
    columns: Mapping[str, str] | None = None,
    strict: bool = False,
    limits: Limits = DEFAULT_LIMITS,
) -> Loaded:
    """Deploys: ``timestamp``, ``result`` (success / rollback / failed, common synonyms such as
    ``succeeded``, ``rolled back``, ``failure`` accepted); optional ``service``.

    Row rejects: missing / unparseable / out-of-range stamp, missing or unknown result, a service
    name longer than ``limits.max_name_chars``.
    """
    raw, source = _read(path, fmt, "deploys", tz=tz)
    df = raw.frame
    cols = resolve_columns(
        df, required=("timestamp", "result"), optional=("service",), columns=columns, source=source, kind="deploys"
    )
    rows = _Rows(len(df), raw.malformed)
    frame = pd.DataFrame(index=df.index)
    frame["timestamp"] = _time_col(df, cols, "timestamp", tz, rows, required=True, limits=limits)
    frame["result"] = _category(df, cols, "result", RESULT_MAP, rows, required=True)
    frame["service"] = _str_col(df, cols, "service", rows, limits=limits)
    loaded = _finish("deploys", source, raw, frame[list(DEPLOYS)], rows, time_col="timestamp", strict=strict)
    good = loaded.frame.sort_values("timestamp", kind="stable").reset_index(drop=True)
    return replace(loaded, frame=good)


LOADERS: dict[str, Callable[..., Loaded]] = {
    "telemetry": load_telemetry,
    "series": load_series,
    "incidents": load_incidents,
    "toil": load_toil,
    "alerts": load_alerts,
    "deploys": load_deploys,
}


def load(
    kind: str,
    path: str | Path,
    *,
    fmt: str | None = None,
    tz: str = "UTC",
    columns: Mapping[str, str] | None = None,
    strict: bool = False,
    limits: Limits = DEFAULT_LIMITS,
) -> Loaded:
    """Dispatch to ``load_<kind>``; ``requests`` goes to :func:`srekit.inputs.aggregate.read_requests`."""
    if kind == "requests":
        from srekit.inputs.aggregate import read_requests

        return read_requests(
            path, fmt=fmt, tz=tz, columns=dict(columns) if columns else None, strict=strict, limits=limits
        )
    if kind not in LOADERS:
        raise input_error(
            f"unknown input kind {kind!r}", expected=", ".join(("requests", *KINDS)), fix="pick one of the kinds"
        )
    return LOADERS[kind](path, fmt=fmt, tz=tz, columns=columns, strict=strict, limits=limits)


# --------------------------------------------------------------------------- quarantine and Inputs


def write_quarantine(loaded: Loaded, out_dir: str | Path) -> Path | None:
    """Write the rejected rows (``row``, original values, ``reason``) to
    ``out_dir/<kind>-<file stem>.rejects.csv`` (spreadsheet-safe: :func:`srekit.core.files.csv_text`);
    None when nothing was rejected."""
    if loaded.rejects is None or len(loaded.rejects) == 0:
        return None
    stem = safe_file_name(Path(loaded.entry.source).name.split(".")[0], fallback="input")
    return atomic_write(Path(out_dir) / f"{loaded.entry.kind}-{stem}.rejects.csv", csv_text(loaded.rejects))


@dataclass(frozen=True, slots=True)
class Inputs:
    """Every input of a service in canonical form (None where the input is absent) and the
    data-quality ledger (one entry per loaded source)."""

    telemetry: pd.DataFrame | None = None
    series: pd.DataFrame | None = None
    incidents: pd.DataFrame | None = None
    toil: pd.DataFrame | None = None
    alerts: pd.DataFrame | None = None
    deploys: pd.DataFrame | None = None
    ledger: tuple[LedgerEntry, ...] = field(default_factory=tuple)
    intervals: Mapping[str, Interval] = field(default_factory=dict)  # declared lengths: telemetry, series
    loadtests: tuple[LoadTest, ...] = ()  # latency distributions of load tests (data.loadtest)
    #: the corrections of service.yaml over the data and the rows they took out (None: none configured)
    corrections: Applied | None = None
    #: telemetry per (journey, label values, interval) when it carries labels (``region``, …), with
    #: the same corrections applied; ``telemetry`` is its sum per (journey, interval). None: no labels
    labels: pd.DataFrame | None = None

    def __post_init__(self) -> None:
        for name in KINDS:
            value = getattr(self, name)
            if value is not None and not isinstance(value, pd.DataFrame):
                raise TypeError(f"Inputs.{name} must be a DataFrame or None, got {type(value).__name__}")
        object.__setattr__(self, "ledger", tuple(self.ledger))

    def present(self) -> tuple[str, ...]:
        """Names of the inputs that were loaded."""
        return tuple(k for k in KINDS if getattr(self, k) is not None)


def _config_path(config: ServiceConfig, kind: str) -> Path:
    p = Path(config.data[kind])
    if not p.exists():
        where = str(config.path) if config.path else "service.yaml"
        raise input_error(
            f"the file listed under data.{kind} does not exist",
            file=str(p),
            fix=f"correct data.{kind} in {where} (relative paths are relative to the folder holding it) or remove the "
            "key",
        )
    return p


def _requests_files(p: Path) -> list[Path]:
    if p.is_dir():
        files = sorted(f for f in p.iterdir() if f.is_file() and not f.name.startswith("."))
        if not files:
            raise input_error(
                "the requests folder holds no files",
                file=str(p),
                fix="put the request logs (CSV, CSV.gz, Parquet) in it",
            )
        return files
    return [p]


def _cross_check_alerts(frames: Mapping[str, pd.DataFrame | None], ledger: list[LedgerEntry]) -> None:
    """Note pages whose ``incident_id`` names no incident of the incidents file
    (``incident_id_not_in_incidents``): a broken link, not a reason to reject the page."""
    alerts, incidents = frames.get("alerts"), frames.get("incidents")
    if alerts is None or incidents is None:
        return
    linked = alerts["incident_id"].dropna()
    unknown = int((~linked.isin(set(incidents["id"].dropna()))).sum())
    if unknown:
        i = next(k for k, e in enumerate(ledger) if e.kind == "alerts")
        ledger[i] = replace(ledger[i], notes={**ledger[i].notes, "incident_id_not_in_incidents": unknown})


def load_inputs(
    config: ServiceConfig, *, strict: bool = False, quarantine_dir: str | Path | None = None, progress: bool = False
) -> Inputs:
    """Load every input ``service.yaml`` lists.

    Telemetry comes from ``data.telemetry``; else it is aggregated from ``data.requests`` (a file
    or a folder of files) with :func:`srekit.inputs.aggregate.aggregate_held` (held as the file
    ``srekit aggregate`` writes is loaded: sparse buckets when large); else, when
    ``prometheus.url`` is set, it is pulled with :func:`srekit.inputs.prometheus.pull_telemetry`.
    Rejected rows are written to ``quarantine_dir`` when given (the ledger entry records the
    file). A listed file that does not exist is an :class:`InputError` naming the key.
    """
    tz = config.timezone
    frames: dict[str, pd.DataFrame | None] = dict.fromkeys(KINDS)
    labelled: pd.DataFrame | None = None
    ledger: list[LedgerEntry] = []
    intervals: dict[str, Interval] = {}

    def opts(kind: str) -> dict[str, Any]:
        return {
            "fmt": config.formats.get(kind),
            "tz": tz,
            "columns": config.columns.get(kind),
            "strict": strict,
            "limits": config.limits,
        }

    for kind in KINDS:
        if kind not in config.data:
            continue
        loaded = LOADERS[kind](_config_path(config, kind), **opts(kind))
        if kind == "series" and config.series_unit not in (None, "ms"):
            scale = SERIES_UNITS[config.series_unit]
            loaded = replace(loaded, frame=loaded.frame.assign(value=loaded.frame["value"] * scale))
        frames[kind] = loaded.frame
        if loaded.labels is not None:
            labelled = loaded.labels
        ledger.append(_quarantined(loaded, quarantine_dir))
        if loaded.interval is not None:
            intervals[kind] = Interval(loaded.interval, "file")

    _cross_check_alerts(frames, ledger)
    tests: list[LoadTest] = []
    if "loadtest" in config.data:
        for f in _requests_files(_config_path(config, "loadtest")):
            test, loaded = load_loadtest(f, unit=config.loadtest_unit)
            tests.append(test)
            ledger.append(_quarantined(loaded, quarantine_dir))

    if frames["telemetry"] is None and "requests" in config.data:
        from srekit.inputs.aggregate import aggregate_held

        files = _requests_files(_config_path(config, "requests"))
        o = opts("requests")
        q_path = None
        if quarantine_dir is not None:
            Path(quarantine_dir).mkdir(parents=True, exist_ok=True)
            q_path = Path(quarantine_dir) / "requests.rejects.csv"
        frame, entry = aggregate_held(
            files,
            tz=tz,
            columns=o["columns"],
            fmt=o["fmt"],
            strict=strict,
            progress=progress,
            quarantine=q_path,
            limits=config.limits,
            by=config.requests_by,
        )
        plain, labelled = tm.split_labels(frame, consume=True)
        frames["telemetry"] = tm.compact(plain)  # as the loader holds a telemetry file
        del frame, plain
        ledger.insert(0, entry)
        intervals["telemetry"] = Interval(pd.Timedelta(minutes=1), "aggregation")
    elif frames["telemetry"] is None and config.prometheus.url:
        from srekit.inputs.prometheus import pull_telemetry  # type: ignore[import-not-found]

        frame, entry = pull_telemetry(
            config.prometheus,
            start=config.prometheus.start,
            end=config.prometheus.end,
            progress=progress,
            limits=config.limits,
        )
        frames["telemetry"], labelled = tm.split_labels(frame)
        ledger.insert(0, entry)
        intervals["telemetry"] = Interval(config.prometheus.interval, "prometheus")
    _declared_intervals(config, frames, intervals)
    applied = None
    if config.corrections:
        frames["telemetry"], frames["series"], applied = apply_corrections(
            config, frames["telemetry"], frames["series"]
        )
        labelled = clear_windows(labelled, applied.windows)
        n = len(config.corrections)
        source = f"{config.path or 'service.yaml'}: corrections"
        ledger.append(LedgerEntry("corrections", source, n, n, notes=applied.to_notes()))
    return Inputs(
        **frames,  # type: ignore[arg-type]
        ledger=tuple(ledger),
        intervals=intervals,
        loadtests=tuple(tests),
        corrections=applied,
        labels=labelled,
    )


def _quarantined(loaded: Loaded, quarantine_dir: str | Path | None) -> LedgerEntry:
    """The ledger entry of ``loaded``, naming its quarantine file when rows were rejected."""
    if quarantine_dir is None:
        return loaded.entry
    q = write_quarantine(loaded, quarantine_dir)
    return loaded.entry if q is None else replace(loaded.entry, quarantine=str(q))


def _declared_intervals(
    config: ServiceConfig, frames: Mapping[str, pd.DataFrame | None], intervals: dict[str, Interval]
) -> None:
    """``data.<kind>_interval`` of service.yaml: checked against the file's own declaration and
    against the stamps (rows a whole number of intervals apart), then recorded."""
    where = str(config.path) if config.path else "service.yaml"
    for kind, length in config.intervals.items():
        frame = frames.get(kind)
        known = intervals.get(kind)
        if known is not None and known.length != length:
            raise input_error(
                f"data.{kind}_interval ({length}) and the data's own interval ({known.length}, {known.how}) differ",
                file=where,
                fix=f"remove data.{kind}_interval or correct it",
            )
        if frame is not None and len(frame):
            time_col = "interval_start" if kind == "telemetry" else "timestamp"
            check_declared(
                frame[time_col],
                frame["journey"],
                length,
                kind=kind,
                source=str(config.data.get(kind, where)),
                key=f"data.{kind}_interval in {where}",
            )
        intervals[kind] = Interval(length, "service.yaml")


__all__ = [
    "KINDS",
    "Inputs",
    "InputError",
    "load",
    "load_alerts",
    "load_deploys",
    "load_incidents",
    "load_inputs",
    "load_series",
    "load_telemetry",
    "load_toil",
    "Raw",
    "read_table",
    "resolve_columns",
    "write_quarantine",
]
