"""``srekit aggregate PATH... --out OUT.parquet``: raw request logs → aggregated telemetry."""

from __future__ import annotations

import argparse
import sys
from datetime import timedelta

from srekit.cli import add_limit_argument, output_file
from srekit.core.errors import ConfigError
from srekit.core.escape import terminal_text as shown
from srekit.core.limits import parse_limit_args
from srekit.core.timeutil import parse_timedelta
from srekit.inputs import telemetry as tm
from srekit.inputs.aggregate import DEFAULT_ERROR_STATUS, LAYOUTS, aggregate_to_file, output_layout
from srekit.inputs.ledger import LedgerEntry


def add_aggregate_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("paths", nargs="+", metavar="PATH", help="request logs: CSV, CSV.gz or Parquet")
    p.add_argument("--out", required=True, help="output file: .parquet (default) or .csv / .csv.gz")
    p.add_argument("--interval", default="1min", help="aggregation interval (1min, 5m, 1h; default 1min)")
    p.add_argument(
        "--edges", default=None, help="latency bucket edges in ms, comma-separated (default: 1 ms..60 s, ≤10%% apart)"
    )
    p.add_argument(
        "--engine", choices=("local", "dask"), default="local", help="local streaming (default) or a Dask cluster"
    )
    p.add_argument("--scheduler", default=None, help="Dask scheduler address (default: a 2-worker LocalCluster)")
    p.add_argument("--timezone", default="UTC", help="IANA timezone of naive timestamps (default UTC)")
    p.add_argument(
        "--columns", default=None, help="column mapping canonical=source,... e.g. timestamp=time,latency_ms=duration"
    )
    p.add_argument(
        "--format",
        dest="fmt",
        choices=("csv", "csv.gz", "parquet"),
        default=None,
        help="input format (default: detected)",
    )
    p.add_argument(
        "--error-status", default=DEFAULT_ERROR_STATUS, help="regex over the status code marking errors (default 5..)"
    )
    p.add_argument(
        "--by",
        default="",
        help="extra label columns to keep, comma-separated (e.g. region,status_class): SLOs can then be broken down "
        "by them",
    )
    p.add_argument(
        "--layout",
        choices=LAYOUTS,
        default=None,
        help="Parquet output layout: sparse (default: non-zero buckets only, a map per row) or wide (one cumulative "
        "le_<edge> column per edge); CSV is always wide",
    )
    p.add_argument("--quarantine", default=None, help="write rejected rows to this CSV (with a reason column)")
    p.add_argument("--strict", action="store_true", help="fail on the first rejected row instead of quarantining")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    add_limit_argument(p)


def _edges(text: str | None) -> tuple[float, ...]:
    if text is None:
        return tm.DEFAULT_EDGES_MS
    try:
        return tuple(float(x) for x in text.split(",") if x.strip())
    except ValueError as exc:
        raise ConfigError(
            f"--edges must be numbers in ms separated by commas, got {text!r}. fix: --edges 50,100,250"
        ) from exc


def _columns(text: str | None) -> dict[str, str] | None:
    if not text:
        return None
    out: dict[str, str] = {}
    for part in text.split(","):
        if "=" not in part:
            raise ConfigError(
                f"--columns entries look like canonical=source, got {part!r}. fix: --columns timestamp=time"
            )
        canon, src = (s.strip() for s in part.split("=", 1))
        out[canon] = src
    return out


def _interval(text: str) -> timedelta:
    try:
        return parse_timedelta(text)
    except ValueError as exc:
        raise ConfigError(f"--interval {text!r} is not a duration. fix: --interval 1min (or 5m, 1h)") from exc


def summary(entry: LedgerEntry, rows: int, journeys: list[str]) -> str:
    """The ledger summary printed after a run."""
    lines = [
        f"rows read {entry.rows_read}, accepted {entry.rows_accepted}, rejected {entry.rows_rejected}",
    ]
    lines += [f"  rejected: {shown(reason)}: {n}" for reason, n in entry.rejected.items()]
    lines += [f"  note: {shown(note)}: {n}" for note, n in entry.notes.items()]
    if entry.start is not None:
        lines.append(
            f"time range {entry.start.isoformat()} .. {entry.end.isoformat() if entry.end is not None else ''}"
        )
    lines.append(f"{rows} rows for {len(journeys)} journey(s): {', '.join(shown(j) for j in journeys)}")
    if entry.quarantine:
        lines.append(f"quarantine: {entry.quarantine}")
    return "\n".join(lines)


def run_aggregate(args: argparse.Namespace) -> int:
    output_file(args.out)  # a folder, or a folder that cannot be made: exit 2 before reading anything
    layout = output_layout(args.out, args.layout)  # sparse CSV: exit 2 before reading anything
    written = aggregate_to_file(
        args.paths,
        args.out,
        layout=layout,
        interval=_interval(args.interval),
        edges=_edges(args.edges),
        tz=args.timezone,
        columns=_columns(args.columns),
        fmt=args.fmt,
        strict=args.strict,
        engine=args.engine,
        scheduler=args.scheduler,
        progress=not args.no_progress,
        quarantine=args.quarantine,
        error_status=args.error_status,
        limits=parse_limit_args(args.limit),
        by=tuple(b for b in args.by.split(",") if b.strip()),
    )
    print(summary(written.entry, written.rows, written.journeys))
    print(f"wrote {written.path}")
    sys.stdout.flush()
    return 0
