"""Loading and validating every input kind (docs/inputs.md).

Each ``load_<kind>(path, *, fmt=None, tz="UTC", columns=None, strict=False) -> Loaded`` reads one
file, maps its columns onto the canonical ones of :mod:`srekit.inputs.columns`, parses every stamp to UTC
with :func:`srekit.inputs.timeparse.parse_utc` (naive stamps in ``tz``, the documented DST rule) and
checks every row. The rules:

* Whole-file problems (unreadable or empty file, header only, a missing required column,
  duplicate incident ids, no usable row at all) raise :class:`~srekit.core.errors.InputError` naming
  the file, the column, the first offending rows, what was expected and the fix.
* Row-level problems (unparseable stamp, missing / non-numeric / negative value, unknown
  category value, resolved before started, …) reject the row: it goes to ``Loaded.rejects``
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
import re
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from srekit.core.errors import InputError, input_error
from srekit.core.files import atomic_write, csv_text, safe_file_name
from srekit.inputs import presets
from srekit.inputs import telemetry as tm
from srekit.inputs.columns import ALERTS, DEPLOYS, INCIDENT_TIMES, INCIDENTS, SERIES, TOIL
from srekit.inputs.config import ServiceConfig
from srekit.inputs.ledger import LedgerEntry, Loaded
from srekit.inputs.timeparse import is_timezone, parse_utc

KINDS = ("telemetry", "series", "incidents", "toil", "alerts", "deploys")
CONTAINERS = ("csv", "parquet", "json")
MISSING_TOKENS = frozenset({"", "na", "n/a", "nan", "nat", "null", "none", "-"})
DEFAULT_JOURNEY = "all"

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


def read_csv_text(path: Path) -> pd.DataFrame:
    """A CSV (plain or compressed) as text cells: UTF-8 with or without BOM, LF or CRLF,
    quoted fields. Header names are stripped of blanks."""
    try:
        df = pd.read_csv(
            path, dtype="str", keep_default_na=False, na_filter=False, encoding="utf-8-sig", compression="infer"
        )
    except pd.errors.EmptyDataError as exc:
        raise input_error(
            "file has no header row",
            file=str(path),
            expected="a CSV header row naming the columns",
            got="nothing but blank lines",
            fix="export the data again with a header",
        ) from exc
    except pd.errors.ParserError as exc:
        raise input_error(
            "malformed CSV",
            file=str(path),
            got=str(exc).strip(),
            fix="every row needs the same number of fields as the header; quote fields that contain commas",
        ) from exc
    except UnicodeDecodeError as exc:
        raise input_error(
            "file is not UTF-8 text", file=str(path), got=str(exc), fix="save the file as UTF-8 CSV"
        ) from exc
    except (OSError, EOFError) as exc:  # corrupt gzip and the like
        raise input_error(
            "file cannot be read", file=str(path), got=str(exc), fix="check the file is a complete CSV (or CSV.gz)"
        ) from exc
    df.columns = [str(c).strip() for c in df.columns]
    return df


def read_parquet(path: Path) -> pd.DataFrame:
    """A Parquet file as typed columns."""
    try:
        return pd.read_parquet(path)
    except Exception as exc:  # pyarrow raises several unrelated types for a corrupt file
        raise input_error(
            "not a readable Parquet file",
            file=str(path),
            got=f"{type(exc).__name__}: {exc}",
            fix="write the file again as Parquet, or pass --format csv if it is CSV",
        ) from exc


def read_json(path: Path) -> Any:
    """A JSON document (one array/object) or JSON Lines (one object per line)."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise input_error(
            "file is not UTF-8 text", file=str(path), got=str(exc), fix="save the file as UTF-8 JSON"
        ) from exc
    try:
        return json.loads(text)
    except json.JSONDecodeError as first:
        lines = [ln for ln in text.splitlines() if ln.strip()]
        try:
            return [json.loads(ln) for ln in lines]
        except json.JSONDecodeError:
            raise input_error(
                "not valid JSON",
                file=str(path),
                got=f"{first.msg} at line {first.lineno} column {first.colno}",
                fix="export the data again as JSON (an array of objects)",
            ) from first


def _json_frame(doc: Any, source: str) -> pd.DataFrame:
    records = presets.records_of(doc, source=source)
    rows = [
        {k: presets._text(v) if not isinstance(v, dict | list) else json.dumps(v) for k, v in r.items()}
        for r in records
    ]
    return pd.DataFrame(rows, dtype="str").fillna("")


def read_table(path: str | Path, fmt: str | None = None) -> pd.DataFrame:
    """Read any supported container into a frame (text cells for CSV/JSON, typed for Parquet)."""
    p = Path(path)
    _check_exists(p)
    kind = container_of(p, fmt)
    if kind == "parquet":
        return read_parquet(p)
    if kind == "json":
        return _json_frame(read_json(p), str(p))
    return read_csv_text(p)


# --------------------------------------------------------------------------- column mapping


def _norm(name: str) -> str:
    return re.sub(r"[^a-z0-9]", "", str(name).lower())


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

    Order: the explicit mapping (``data.<kind>_columns``), the exact name, then the same name
    ignoring case and punctuation (``TimeStamp`` → ``timestamp``, ``Started At`` →
    ``started_at``). A missing required column is an :class:`InputError` suggesting the closest
    column name (difflib).
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
    by_norm: dict[str, str] = {}
    for c in have:
        by_norm.setdefault(_norm(c), c)
    for canon in required + optional:
        if canon in mapping:
            src = mapping[canon]
            if src not in have:
                close = difflib.get_close_matches(src, have, n=1)
                hint = f" (did you mean {close[0]!r}?)" if close else ""
                raise input_error(
                    f"mapped column {src!r} for {canon!r} is not in the file{hint}",
                    file=source,
                    column=src,
                    expected=f"a column named {src!r}",
                    got=", ".join(have[:15]),
                    fix=f"correct data.{kind}_columns.{canon} (or --columns {canon}=COLUMN)",
                )
            out[canon] = src
        elif canon in have:
            out[canon] = canon
        elif _norm(canon) in by_norm:
            out[canon] = by_norm[_norm(canon)]
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
    """Collects the first rejection reason per row, and notes."""

    def __init__(self, n: int) -> None:
        self.reason = np.full(n, None, dtype=object)
        self.bad = np.zeros(n, dtype=bool)
        self.notes: Counter[str] = Counter()

    def reject(self, mask: Any, reason: str) -> None:
        m = np.asarray(mask, dtype=bool) & ~self.bad
        if m.any():
            self.reason[m] = reason
            self.bad |= m

    def note(self, name: str, count: int) -> None:
        if count:
            self.notes[name] += int(count)

    @property
    def ok(self) -> np.ndarray:
        return ~self.bad


def _text(s: pd.Series) -> pd.Series:
    """Cells as stripped text, NA for empty / null-like tokens."""
    if pd.api.types.is_bool_dtype(s):
        t = s.map({True: "true", False: "false"}).astype("str")
    else:
        t = s.astype("str").str.strip()
    missing = s.isna().to_numpy() | t.str.lower().isin(MISSING_TOKENS).to_numpy()
    return t.mask(pd.Series(missing, index=t.index)).astype("str")


def _times(s: pd.Series, tz: str, rows: _Rows) -> tuple[pd.Series, np.ndarray, np.ndarray]:
    """UTC stamps, the missing mask and the unparseable mask; DST resolutions go to the notes.

    Text cells that are all digits are epoch seconds (milliseconds above 1e11).
    """
    n = len(s)
    if pd.api.types.is_datetime64_any_dtype(s):
        p = parse_utc(s, tz)
        rows.note("dst_ambiguous_resolved", p.ambiguous_resolved)
        rows.note("dst_nonexistent_shifted", p.nonexistent_shifted)
        return p.utc.astype("datetime64[us, UTC]"), s.isna().to_numpy(), np.zeros(n, bool)
    if pd.api.types.is_numeric_dtype(s) and not pd.api.types.is_bool_dtype(s):
        s = s.astype("float").astype("str").where(s.notna(), "")
    t = _text(s)
    missing = t.isna().to_numpy()
    out = pd.Series(pd.NaT, index=s.index, dtype="datetime64[us, UTC]")
    epoch = t.str.fullmatch(r"\d{9,13}(?:\.\d+)?").fillna(False).to_numpy(dtype=bool)
    if epoch.any():
        num = pd.to_numeric(t[epoch])
        ms = num > 1e11
        out.loc[epoch] = pd.to_datetime(num.where(~ms, num / 1000.0), unit="s", utc=True)
    rest = ~missing & ~epoch
    if rest.any():
        p = parse_utc(t[rest], tz)
        out.loc[rest] = p.utc
        rows.note("dst_ambiguous_resolved", p.ambiguous_resolved)
        rows.note("dst_nonexistent_shifted", p.nonexistent_shifted)
        if p.with_offset and p.naive:
            rows.note(f"naive_stamps_read_in_{tz}", p.naive)
    bad = out.isna().to_numpy() & ~missing
    return out, missing, bad


def _time_col(
    raw: pd.DataFrame, cols: Mapping[str, str], name: str, tz: str, rows: _Rows, *, required: bool
) -> pd.Series:
    if name not in cols:
        return pd.Series(pd.NaT, index=raw.index, dtype="datetime64[us, UTC]")
    utc, missing, bad = _times(raw[cols[name]], tz, rows)
    if required:
        rows.reject(missing, f"missing {name}")
    rows.reject(bad, f"unparseable {name}")
    return utc


def _number(
    raw: pd.DataFrame,
    src: str,
    name: str,
    rows: _Rows,
    *,
    required: bool = True,
    negative_ok: bool = False,
    integer: bool = False,
) -> pd.Series:
    s = raw[src]
    if pd.api.types.is_numeric_dtype(s) and not pd.api.types.is_bool_dtype(s):
        num = s.astype("float")
        missing = num.isna().to_numpy()
        non_numeric = np.zeros(len(s), bool)
    else:
        t = _text(s)
        missing = t.isna().to_numpy() | t.str.lower().isin(["nan"]).to_numpy()
        num = pd.to_numeric(t.str.replace(",", "", regex=False), errors="coerce").astype("float")
        non_numeric = num.isna().to_numpy() & ~missing
    arr = num.to_numpy(dtype=float, na_value=np.nan)
    if required:
        rows.reject(missing, f"missing {name}")
    rows.reject(non_numeric, f"non-numeric {name}")
    rows.reject(np.isinf(arr), f"infinite {name}")
    if not negative_ok:
        rows.reject(arr < 0, f"negative {name}")
    if integer:
        frac = np.isfinite(arr) & (arr != np.round(arr))
        rows.reject(frac, f"non-integer {name}")
    return num


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
    t = _text(s.map({True: "true", False: "false"}) if pd.api.types.is_bool_dtype(s) else s.astype("str"))
    plain = s.astype("str").str.strip().str.lower()
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
    rows: _Rows | None = None,
    *,
    required: bool = False,
    default: str | None = None,
) -> pd.Series:
    if name not in cols:
        return pd.Series(default if default is not None else pd.NA, index=raw.index, dtype="str")
    t = _text(raw[cols[name]])
    if required and rows is not None:
        rows.reject(t.isna().to_numpy(), f"missing {name}")
    if default is not None:
        t = t.fillna(default)
    return t


def _finish(
    kind: str,
    source: str,
    raw: pd.DataFrame,
    frame: pd.DataFrame,
    rows: _Rows,
    *,
    time_col: str,
    strict: bool,
    end_col: str | None = None,
) -> Loaded:
    """Split accepted and rejected rows, build the ledger entry, enforce strict / all-rejected."""
    ok = rows.ok
    reasons = pd.Series(rows.reason[~ok], dtype="str")
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
            fix=f"correct the rows (most common problem: {top})"
            + ("" if strict else "; check the column mapping and the --format"),
        )
    rejects = raw.loc[~ok].copy()
    rejects.insert(0, "row", rej_rows)
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
        rows_read=len(raw),
        rows_accepted=int(ok.sum()),
        rejected=counts,
        notes=dict(rows.notes),
        start=start,
        end=end,
    )
    return Loaded(frame=accepted, entry=entry, rejects=rejects)


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
    path: str | Path, fmt: str | None, kind: str, allowed: tuple[str, ...] = CONTAINERS, tz: str = "UTC"
) -> tuple[pd.DataFrame, str]:
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
    raw = read_table(p, fmt if fmt in CONTAINERS else None)
    check_timezone(tz, source=str(p))
    if len(raw.columns) == 0:
        raise input_error("file has no columns", file=str(p), fix="export the data again with a header row")
    if len(raw) == 0:
        raise input_error(
            "file has a header but no data rows",
            file=str(p),
            got=f"header {', '.join(map(str, raw.columns[:12]))}",
            expected="at least one data row",
            fix="export a time range that contains data",
        )
    return raw.reset_index(drop=True), str(p)


# --------------------------------------------------------------------------- kinds


def load_telemetry(
    path: str | Path,
    *,
    fmt: str | None = None,
    tz: str = "UTC",
    columns: Mapping[str, str] | None = None,
    strict: bool = False,
) -> Loaded:
    """Aggregated telemetry (Parquet or CSV): ``interval_start``, ``total``, ``errors``,
    cumulative ``le_<ms>`` columns, optional ``journey`` (default ``"all"``).

    Row rejects: unparseable / missing ``interval_start``; missing, non-numeric, negative or
    non-integer counts; ``errors > total``; buckets decreasing with the edge; a bucket above
    ``total``. Rows repeating a (journey, interval_start) key are summed (the form is mergeable)
    and counted in the note ``duplicate_intervals_merged``. The result passes
    :func:`srekit.inputs.telemetry.check` and is in :func:`srekit.inputs.telemetry.canonical` form.
    """
    raw, source = _read(path, fmt, "telemetry", tz=tz)
    cols = resolve_columns(
        raw,
        required=("interval_start", "total", "errors"),
        optional=("journey",),
        columns=columns,
        source=source,
        kind="telemetry",
    )
    les = [c for c in raw.columns if isinstance(c, str) and c.lower().startswith(tm.LE_PREFIX)]
    inf = [c for c in les if c.lower().removeprefix(tm.LE_PREFIX).lstrip("+") in ("inf", "infinity")]
    les = [c for c in les if c not in inf]
    edges: dict[str, float] = {}
    for c in les:
        try:
            edge = float(c[len(tm.LE_PREFIX) :])
            tm.edge_label(edge)
        except ValueError as exc:
            raise input_error(
                "bucket column name is not le_<edge in ms>",
                file=source,
                column=c,
                expected="le_100, le_2.5, …",
                fix="rename the bucket columns to le_<positive edge in ms>",
            ) from exc
        edges[c] = edge
    if not edges:
        raise input_error(
            "telemetry has no latency bucket columns",
            file=source,
            expected="cumulative columns named le_<edge_ms>, e.g. le_100, le_250",
            got=", ".join(map(str, raw.columns[:12])),
            fix="add bucket columns or aggregate raw requests with `srekit aggregate`",
        )
    rows = _Rows(len(raw))
    journey = _str_col(raw, cols, "journey", default=DEFAULT_JOURNEY)
    if "journey" not in cols:
        rows.note("journey_defaulted_to_all", len(raw))
    stamps = _time_col(raw, cols, "interval_start", tz, rows, required=True)
    ordered = sorted(edges, key=lambda c: edges[c])
    sources = [cols["total"], cols["errors"], *ordered]
    names = ["total", "errors", *(tm.edge_label(edges[c]) for c in ordered)]
    # column-major matrix of counts: total, errors, buckets by ascending edge
    if all(pd.api.types.is_integer_dtype(raw[c]) and not raw[c].hasnans for c in sources):
        # typed fast path: a view of the file's int64 block when it holds these columns in order
        counts = np.asfortranarray(raw[sources].to_numpy(dtype=np.int64))
        for j, name in enumerate(names):
            rows.reject(counts[:, j] < 0, f"negative {name}")
        values: np.ndarray = counts  # the checks below compare integers directly
    else:
        values = np.empty((len(raw), len(sources)), dtype=float, order="F")
        for j, (c, name) in enumerate(zip(sources, names, strict=True)):
            values[:, j] = _number(raw, c, name, rows, integer=True).to_numpy(dtype=float, na_value=np.nan)
        counts = np.nan_to_num(values, nan=0.0, posinf=0.0, neginf=0.0).round().astype(np.int64)
    tot, bucket = values[:, 0], values[:, 2:]
    rows.reject(values[:, 1] > tot, "errors exceed total")
    if bucket.shape[1] > 1:
        decreasing = np.zeros(len(raw), dtype=bool)
        for j in range(1, bucket.shape[1]):  # column by column: no n × edges temporary
            decreasing |= bucket[:, j] < bucket[:, j - 1]
        rows.reject(decreasing, "buckets not cumulative")
    rows.reject(bucket[:, -1] > tot, "bucket exceeds total")
    if inf:
        rows.note("le_inf_column_dropped", len(inf))
    # one int64 block over the column-major counts (no copy), then the key columns in front
    frame = pd.DataFrame(counts, index=raw.index, columns=names, copy=False)
    frame.insert(0, "interval_start", stamps)
    frame.insert(0, "journey", journey)
    loaded = _finish("telemetry", source, raw, frame, rows, time_col="interval_start", strict=strict)
    good = loaded.frame
    if _is_canonical(good):  # the usual export: sorted by journey and time, no repeats
        dup, merged = 0, good
    else:
        dup = int(good.duplicated(tm.KEY).sum())
        merged = tm.merge([good]) if dup else tm.canonical(good)
    # No tm.check(merged) pass: the row checks above reject exactly what it refuses (negative
    # counts, errors > total, decreasing buckets, a bucket above total), and sums of valid rows
    # stay valid. tests/test_io.py checks the loaded frame passes tm.check.
    notes = dict(loaded.entry.notes)
    if dup:
        notes["duplicate_intervals_merged"] = dup
    return Loaded(frame=merged, entry=replace(loaded.entry, notes=notes), rejects=loaded.rejects)


def _is_canonical(frame: pd.DataFrame) -> bool:
    """Whether :func:`srekit.inputs.telemetry.canonical` would return ``frame`` unchanged and it has
    no repeated (journey, interval_start) key: canonical columns and dtypes, a fresh index,
    rows strictly increasing by journey then interval_start."""
    les = tm.le_columns(frame)
    if (
        list(frame.columns) != tm.KEY + tm.COUNTS + les
        or not isinstance(frame.index, pd.RangeIndex)
        or frame.index.start != 0
        or frame.index.step != 1
    ):
        return False
    if (
        frame["journey"].dtype != pd.api.types.pandas_dtype("str")
        or frame["interval_start"].dtype != "datetime64[us, UTC]"
    ):
        return False
    if any(frame[c].dtype != np.int64 for c in tm.COUNTS + les):
        return False
    journey, stamps = frame["journey"], frame["interval_start"]
    if journey.hasnans or stamps.hasnans:
        return False
    codes, _ = pd.factorize(journey, sort=True)
    t = pd.DatetimeIndex(stamps).asi8
    dc, dt = np.diff(codes), np.diff(t)
    return bool(((dc > 0) | ((dc == 0) & (dt > 0))).all())


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
) -> Loaded:
    """A per-interval statistic (``timestamp``, ``value``, optional ``journey`` default
    ``"all"``), e.g. a CloudWatch / NAB / Microsoft dashboard export; extra columns (a ``Label``)
    are ignored.

    Row rejects: unparseable / missing stamp; missing (empty or NaN), non-numeric, infinite or
    negative value. Kept and noted: ``zero_values``, ``duplicate_timestamps`` (rows sharing a
    stamp with an earlier row of the same journey), ``gaps`` (spacings above 1.5× the median),
    DST resolutions.
    """
    raw, source = _read(path, fmt, "series", tz=tz)
    cols = resolve_columns(
        raw, required=("timestamp", "value"), optional=("journey",), columns=columns, source=source, kind="series"
    )
    rows = _Rows(len(raw))
    frame = pd.DataFrame(index=raw.index)
    frame["timestamp"] = _time_col(raw, cols, "timestamp", tz, rows, required=True)
    frame["value"] = _number(raw, cols["value"], "value", rows).astype("float64")
    frame["journey"] = _str_col(raw, cols, "journey", default=DEFAULT_JOURNEY)
    loaded = _finish("series", source, raw, frame[list(SERIES)], rows, time_col="timestamp", strict=strict)
    good = loaded.frame
    notes = Counter(loaded.entry.notes)
    zeros = int((good["value"] == 0).sum())
    if zeros:
        notes["zero_values"] = zeros
    _gap_notes(good, notes, time_col="timestamp", group="journey")
    good = good.sort_values(["journey", "timestamp"], kind="stable").reset_index(drop=True)
    return Loaded(frame=good, entry=replace(loaded.entry, notes=dict(notes)), rejects=loaded.rejects)


def _incident_raw(path: str | Path, fmt: str | None, tz: str) -> tuple[pd.DataFrame, str, str | None]:
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
        raw = _json_frame(records, str(p)) if preset is None else presets.convert(preset, records, tz)
    else:
        raw = read_table(p, container)
        if preset is not None:
            recs = [{str(k): v for k, v in r.items()} for r in raw.to_dict("records")]
            raw = presets.convert(preset, recs, tz)
    if len(raw.columns) == 0 or len(raw) == 0:
        raise input_error(
            "file has no incident records",
            file=str(p),
            expected="at least one incident",
            fix="export a time range that contains incidents",
        )
    return raw.reset_index(drop=True), str(p), preset


def load_incidents(
    path: str | Path,
    *,
    fmt: str | None = None,
    tz: str = "UTC",
    columns: Mapping[str, str] | None = None,
    strict: bool = False,
) -> Loaded:
    """Incidents: generic CSV/Parquet/JSON (``id``, ``started_at``, ``resolved_at`` plus the
    optional columns of :data:`srekit.inputs.columns.INCIDENTS`) or a vendor preset (``fmt`` one of
    ``pagerduty``, ``opsgenie``, ``statuspage``, ``gcp``; JSON presets are detected).

    Whole-file: duplicate ids → :class:`InputError`. Row rejects: missing id; missing or
    unparseable ``started_at``; unparseable other stamps; ``resolved_at`` before
    ``started_at``; unknown severity / detection / postmortem values; non-numeric or negative
    action-item counts. Kept and noted: ``open_incidents`` (empty ``resolved_at``, right-censored,
    never dropped), ``zero_duration`` (resolved at the start, e.g. back-filled history),
    ``detected_before_started`` / ``acknowledged_before_started`` /
    ``mitigated_before_started`` (e.g. a status post before the recorded begin),
    ``mitigated_after_resolved``.
    """
    raw, source, preset = _incident_raw(path, fmt, tz)
    optional = tuple(c for c in INCIDENTS if c not in ("id", "started_at", "resolved_at"))
    cols = resolve_columns(
        raw,
        required=("id", "started_at", "resolved_at"),
        optional=optional,
        columns=columns,
        source=source,
        kind="incidents",
    )
    rows = _Rows(len(raw))
    frame = pd.DataFrame(index=raw.index)
    frame["id"] = _str_col(raw, cols, "id", rows, required=True)
    ids = frame["id"]
    dup = ids.notna() & ids.duplicated(keep=False)
    if dup.any():
        first_id = ids[dup].iloc[0]
        rows_dup = (np.flatnonzero(dup.to_numpy()) + 1).tolist()
        raise input_error(
            f"duplicate incident ids (e.g. {first_id!r})",
            file=source,
            column=cols["id"],
            rows=rows_dup,
            expected="one row per incident with a unique id",
            got=f"{int(ids[dup].nunique())} ids used more than once",
            fix="remove the repeated rows, or give each incident its own id",
        )
    frame["title"] = _str_col(raw, cols, "title")
    for name in INCIDENT_TIMES:
        frame[name] = _time_col(raw, cols, name, tz, rows, required=(name == "started_at"))
    frame["severity"] = _category(raw, cols, "severity", SEVERITY_MAP, rows)
    frame["cause"] = _str_col(raw, cols, "cause")
    frame["detection"] = _category(raw, cols, "detection", DETECTION_MAP, rows)
    frame["journey"] = _str_col(raw, cols, "journey")
    frame["postmortem"] = _category(raw, cols, "postmortem", POSTMORTEM_MAP, rows)
    for name in ("action_items_open", "action_items_closed"):
        if name in cols:
            num = _number(raw, cols[name], name, rows, required=False, integer=True)
            frame[name] = num.where(num.notna() & np.isfinite(num) & (num >= 0)).round().astype("Int64")
        else:
            frame[name] = pd.Series(pd.NA, index=raw.index, dtype="Int64")
    started, resolved = frame["started_at"], frame["resolved_at"]
    rows.reject((resolved < started).to_numpy(dtype=bool, na_value=False), "resolved before started")
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
        notes[f"preset_{preset}"] = len(raw)
    notes["open_incidents"] = int(good["resolved_at"].isna().sum())
    notes["zero_duration"] = int((good["resolved_at"] == good["started_at"]).sum())
    for name in ("detected_at", "acknowledged_at", "mitigated_at"):
        notes[f"{name.removesuffix('_at')}_before_started"] = int((good[name] < good["started_at"]).sum())
    notes["mitigated_after_resolved"] = int((good["mitigated_at"] > good["resolved_at"]).sum())
    notes = Counter({k: v for k, v in notes.items() if v})
    good = good.sort_values(["started_at", "id"], kind="stable").reset_index(drop=True)
    return Loaded(frame=good, entry=replace(loaded.entry, notes=dict(notes)), rejects=loaded.rejects)


def load_toil(
    path: str | Path,
    *,
    fmt: str | None = None,
    tz: str = "UTC",
    columns: Mapping[str, str] | None = None,
    strict: bool = False,
) -> Loaded:
    """A toil log: ``date``, ``task``, ``minutes``; optional ``category``, ``engineer``,
    ``automatable`` (yes/no, true/false, 1/0). ``date`` becomes the UTC instant of that local
    midnight (or of the stamp given).

    Row rejects: missing / unparseable date, missing task, missing / non-numeric / negative
    minutes, unknown ``automatable`` value. Noted: ``zero_minutes``.
    """
    raw, source = _read(path, fmt, "toil", tz=tz)
    cols = resolve_columns(
        raw,
        required=("date", "task", "minutes"),
        optional=("category", "engineer", "automatable"),
        columns=columns,
        source=source,
        kind="toil",
    )
    rows = _Rows(len(raw))
    frame = pd.DataFrame(index=raw.index)
    frame["date"] = _time_col(raw, cols, "date", tz, rows, required=True)
    frame["task"] = _str_col(raw, cols, "task", rows, required=True)
    frame["minutes"] = _number(raw, cols["minutes"], "minutes", rows).astype("float64")
    frame["category"] = _str_col(raw, cols, "category")
    frame["engineer"] = _str_col(raw, cols, "engineer")
    frame["automatable"] = _bool(raw, cols, "automatable", rows)
    loaded = _finish("toil", source, raw, frame[list(TOIL)], rows, time_col="date", strict=strict)
    notes = Counter(loaded.entry.notes)
    zero = int((loaded.frame["minutes"] == 0).sum())
    if zero:
        notes["zero_minutes"] = zero
    good = loaded.frame.sort_values("date", kind="stable").reset_index(drop=True)
    return Loaded(frame=good, entry=replace(loaded.entry, notes=dict(notes)), rejects=loaded.rejects)


def load_alerts(
    path: str | Path,
    *,
    fmt: str | None = None,
    tz: str = "UTC",
    columns: Mapping[str, str] | None = None,
    strict: bool = False,
) -> Loaded:
    """The pages / alerts log: ``timestamp``, ``alert``, ``severity`` (``page``, ``ticket`` or
    other text, lower-cased); optional ``actionable`` (yes/no), ``incident_id``.

    Row rejects: missing / unparseable stamp, missing alert name or severity, unknown
    ``actionable`` value. Noted: ``linked_to_incident`` (rows with an incident id).
    """
    raw, source = _read(path, fmt, "alerts", tz=tz)
    cols = resolve_columns(
        raw,
        required=("timestamp", "alert", "severity"),
        optional=("actionable", "incident_id"),
        columns=columns,
        source=source,
        kind="alerts",
    )
    rows = _Rows(len(raw))
    frame = pd.DataFrame(index=raw.index)
    frame["timestamp"] = _time_col(raw, cols, "timestamp", tz, rows, required=True)
    frame["alert"] = _str_col(raw, cols, "alert", rows, required=True)
    frame["severity"] = _str_col(raw, cols, "severity", rows, required=True).str.lower()
    frame["actionable"] = _bool(raw, cols, "actionable", rows)
    frame["incident_id"] = _str_col(raw, cols, "incident_id")
    loaded = _finish("alerts", source, raw, frame[list(ALERTS)], rows, time_col="timestamp", strict=strict)
    notes = Counter(loaded.entry.notes)
    linked = int(loaded.frame["incident_id"].notna().sum())
    if linked:
        notes["linked_to_incident"] = linked
    good = loaded.frame.sort_values("timestamp", kind="stable").reset_index(drop=True)
    return Loaded(frame=good, entry=replace(loaded.entry, notes=dict(notes)), rejects=loaded.rejects)


def load_deploys(
    path: str | Path,
    *,
    fmt: str | None = None,
    tz: str = "UTC",
    columns: Mapping[str, str] | None = None,
    strict: bool = False,
) -> Loaded:
    """Deploys: ``timestamp``, ``result`` (success / rollback / failed, common synonyms such as
    ``succeeded``, ``rolled back``, ``failure`` accepted); optional ``service``.

    Row rejects: missing / unparseable stamp, missing or unknown result.
    """
    raw, source = _read(path, fmt, "deploys", tz=tz)
    cols = resolve_columns(
        raw, required=("timestamp", "result"), optional=("service",), columns=columns, source=source, kind="deploys"
    )
    rows = _Rows(len(raw))
    frame = pd.DataFrame(index=raw.index)
    frame["timestamp"] = _time_col(raw, cols, "timestamp", tz, rows, required=True)
    frame["result"] = _category(raw, cols, "result", RESULT_MAP, rows, required=True)
    frame["service"] = _str_col(raw, cols, "service")
    loaded = _finish("deploys", source, raw, frame[list(DEPLOYS)], rows, time_col="timestamp", strict=strict)
    good = loaded.frame.sort_values("timestamp", kind="stable").reset_index(drop=True)
    return Loaded(frame=good, entry=loaded.entry, rejects=loaded.rejects)


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
) -> Loaded:
    """Dispatch to ``load_<kind>``; ``requests`` goes to :func:`srekit.inputs.aggregate.read_requests`."""
    if kind == "requests":
        from srekit.inputs.aggregate import read_requests

        return read_requests(path, fmt=fmt, tz=tz, columns=dict(columns) if columns else None, strict=strict)
    if kind not in LOADERS:
        raise input_error(
            f"unknown input kind {kind!r}", expected=", ".join(("requests", *KINDS)), fix="pick one of the kinds"
        )
    return LOADERS[kind](path, fmt=fmt, tz=tz, columns=columns, strict=strict)


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
    or a folder of files) with :func:`srekit.inputs.aggregate.aggregate_files`; else, when
    ``prometheus.url`` is set, it is pulled with :func:`srekit.inputs.prometheus.pull_telemetry`.
    Rejected rows are written to ``quarantine_dir`` when given (the ledger entry records the
    file). A listed file that does not exist is an :class:`InputError` naming the key.
    """
    tz = config.timezone
    frames: dict[str, pd.DataFrame | None] = dict.fromkeys(KINDS)
    ledger: list[LedgerEntry] = []

    def opts(kind: str) -> dict[str, Any]:
        return {"fmt": config.formats.get(kind), "tz": tz, "columns": config.columns.get(kind), "strict": strict}

    for kind in KINDS:
        if kind not in config.data:
            continue
        loaded = LOADERS[kind](_config_path(config, kind), **opts(kind))
        entry = loaded.entry
        if quarantine_dir is not None:
            q = write_quarantine(loaded, quarantine_dir)
            if q is not None:
                entry = replace(entry, quarantine=str(q))
        frames[kind] = loaded.frame
        ledger.append(entry)

    _cross_check_alerts(frames, ledger)

    if frames["telemetry"] is None and "requests" in config.data:
        from srekit.inputs.aggregate import aggregate_files

        files = _requests_files(_config_path(config, "requests"))
        o = opts("requests")
        q_path = None
        if quarantine_dir is not None:
            Path(quarantine_dir).mkdir(parents=True, exist_ok=True)
            q_path = Path(quarantine_dir) / "requests.rejects.csv"
        frame, entry = aggregate_files(
            files, tz=tz, columns=o["columns"], fmt=o["fmt"], strict=strict, progress=progress, quarantine=q_path
        )
        frames["telemetry"] = frame
        ledger.insert(0, entry)
    elif frames["telemetry"] is None and config.prometheus.url:
        from srekit.inputs.prometheus import pull_telemetry  # type: ignore[import-not-found]

        frame, entry = pull_telemetry(
            config.prometheus, start=config.prometheus.start, end=config.prometheus.end, progress=progress
        )
        frames["telemetry"] = frame
        ledger.insert(0, entry)
    return Inputs(**frames, ledger=tuple(ledger))


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
    "read_table",
    "resolve_columns",
    "write_quarantine",
]
