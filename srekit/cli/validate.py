"""``srekit validate KIND PATH``: load one input file and print its data-quality ledger.

Exit 0 when the input is usable (rows read / accepted / rejected by reason, notes, UTC time
range are printed), 2 when it is not (the :class:`~srekit.core.errors.InputError` message, never a
traceback; ``srekit.cli`` prints it).
"""

from __future__ import annotations

import argparse
import sys

from srekit.cli import add_limit_argument
from srekit.core.errors import input_error
from srekit.core.limits import parse_limit_args
from srekit.inputs.intervals import Interval, infer
from srekit.inputs.ledger import LedgerEntry, Loaded
from srekit.inputs.loaders import KINDS, load, write_quarantine
from srekit.inputs.loadtest import load_loadtest
from srekit.inputs.telemetry import label_columns

VALIDATE_KINDS = ("requests", *KINDS, "loadtest")


def parse_columns(text: str | None) -> dict[str, str] | None:
    """``canon=src,canon2=src2`` → mapping (None when empty)."""
    if not text:
        return None
    out = {}
    for part in text.split(","):
        if not part.strip():
            continue
        if "=" not in part:
            raise input_error(
                f"bad --columns item {part.strip()!r}",
                expected="canonical=source pairs separated by commas, e.g. timestamp=ts,latency_ms=duration",
                fix="write each mapping as canonical=column",
            )
        canon, src = part.split("=", 1)
        out[canon.strip()] = src.strip()
    return out or None


def add_validate_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("kind", choices=VALIDATE_KINDS, metavar="KIND", help=f"input kind: {', '.join(VALIDATE_KINDS)}")
    p.add_argument("path", metavar="PATH", help="the file to check (CSV, CSV.gz, Parquet, JSON)")
    p.add_argument(
        "--format",
        dest="fmt",
        default=None,
        help="csv, parquet, json; for incidents also pagerduty, opsgenie, statuspage, gcp (default: from the file "
        "name)",
    )
    p.add_argument("--timezone", default="UTC", help="IANA timezone of naive timestamps (default UTC)")
    p.add_argument("--strict", action="store_true", help="treat any rejected row as fatal (exit 2)")
    p.add_argument("--quarantine", metavar="DIR", default=None, help="write rejected rows with a reason column to DIR")
    p.add_argument(
        "--columns", default=None, help="column mapping canonical=source,... (e.g. started_at=begin,resolved_at=end)"
    )
    add_limit_argument(p)


def format_entry(entry: LedgerEntry) -> str:
    """The ledger entry as plain text lines."""
    lines = [
        f"{entry.kind}: {entry.source}",
        f"  rows read:     {entry.rows_read}",
        f"  rows accepted: {entry.rows_accepted}",
        f"  rows rejected: {entry.rows_rejected}",
    ]
    for reason, n in sorted(entry.rejected.items(), key=lambda kv: (-kv[1], kv[0])):
        lines.append(f"    {reason}: {n}")
    if entry.notes:
        lines.append("  notes:")
        for name, n in sorted(entry.notes.items()):
            lines.append(f"    {name}: {n}")
    if entry.start is not None and entry.end is not None:
        lines.append(f"  time range (UTC): {entry.start.isoformat()} .. {entry.end.isoformat()}")
    else:
        lines.append("  time range (UTC): none")
    if entry.quarantine:
        lines.append(f"  quarantine: {entry.quarantine}")
    return "\n".join(lines)


def reading_notes(kind: str, loaded: Loaded, tz: str) -> list[str]:
    """How the file was read where a default was taken: the timezone of stamps without an
    offset, the interval one row stands for, the unit of a series value."""
    lines = []
    frame = loaded.frame
    if loaded.naive_stamps:
        how = (
            "the default: pass --timezone (service.yaml: timezone) if they are local time"
            if tz == "UTC"
            else "--timezone"
        )
        lines.append(f"  stamps without an offset: {loaded.naive_stamps:,}, read as wall time in {tz} ({how})")
    if kind in ("telemetry", "series") and len(frame):
        column = "interval_start" if kind == "telemetry" else "timestamp"
        found = (
            Interval(loaded.interval, "file")
            if loaded.interval is not None
            else infer(frame[column], rule="smallest" if kind == "telemetry" else "median")
        )
        fix = f" (state it: data.{kind}_interval in service.yaml" + (
            " or an interval_s / interval_end column)" if kind == "telemetry" else ")"
        )
        lines.append(f"  interval: {found.words}, {found.how}" + ("" if found.declared else fix))
    if loaded.labels is not None:
        kept = ", ".join(f"{c} ({loaded.labels[c].nunique():,} values)" for c in label_columns(loaded.labels))
        lines.append(
            f"  labels: {kept}; every figure sums them away ({len(frame):,} journey × interval rows), each SLO "
            "is broken down by them"
        )
    if kind == "series":
        lines.append(
            "  value: read as milliseconds, the unit thresholds are in (assumed; set data.series_unit: s or us in "
            "service.yaml when it is seconds or microseconds)"
        )
    return lines


def _validate_loadtest(args: argparse.Namespace) -> int:
    test, loaded = load_loadtest(args.path)
    lines = [format_entry(loaded.entry)]
    unit = (
        "milliseconds (wrk2 prints milliseconds)"
        if test.unit_known
        else "milliseconds (assumed: set data.loadtest_unit)"
    )
    lines += [
        f"  requests in the histogram: {test.requests:,}"
        + (f" (the tool reports {test.requests_reported:,})" if test.requests_reported else ""),
        f"  values read as {unit}",
        f"  99% of requests within {test.threshold_for(0.99):g} ms; slowest {float(test.value_ms[-1]):g} ms",
        "  no time axis: a load test is compared with thresholds, never counted as budget",
    ]
    sys.stdout.write("\n".join(lines) + "\n")
    return 0


def run_validate(args: argparse.Namespace) -> int:
    from dataclasses import replace

    if args.kind == "loadtest":
        return _validate_loadtest(args)
    loaded = load(
        args.kind,
        args.path,
        fmt=args.fmt,
        tz=args.timezone,
        columns=parse_columns(args.columns),
        strict=args.strict,
        limits=parse_limit_args(args.limit),
    )
    entry = loaded.entry
    if args.quarantine:
        q = write_quarantine(loaded, args.quarantine)
        if q is not None:
            entry = replace(entry, quarantine=str(q))
    sys.stdout.write("\n".join([format_entry(entry), *reading_notes(args.kind, loaded, args.timezone)]) + "\n")
    return 0
