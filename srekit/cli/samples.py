"""``srekit samples --out DIR [--days 90] [--seed 7] [--raw-days N] [--rps R]``: write the
deterministic sample data set (see :mod:`srekit.inputs.samples`). ``--fleet N`` writes a fleet of
N services instead (``fleet.yaml`` and one folder per service, for ``srekit fleet report``).

Bounded: ``--days`` at most ``limits.max_intervals`` minutes of telemetry per journey
(``--limit`` raises it), ``--rps`` at most :data:`MAX_RPS` (the raw log is written a minute or more
at a time, so the rate bounds the memory of one chunk)."""

from __future__ import annotations

import argparse
import sys

from srekit.cli import add_limit_argument, non_negative_int, output_folder, positive_int
from srekit.core.errors import UsageError

#: Highest mean raw request rate: a one-minute chunk of the raw log holds about 60 × this many rows.
MAX_RPS = 10_000.0


def _rps(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number of requests per second, got {text!r}") from None
    if not 0 < value <= MAX_RPS:
        raise argparse.ArgumentTypeError(f"expected a rate above 0 and at most {MAX_RPS:,.0f}, got {text}")
    return value


def add_samples_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--out", required=True, help="folder to write (created if missing)")
    parser.add_argument(
        "--days", type=positive_int, default=90, help="days of telemetry ending 2026-10-31T00:00Z (default 90)"
    )
    parser.add_argument("--seed", type=non_negative_int, default=7, help="random seed, ≥ 0 (default 7)")
    parser.add_argument(
        "--raw-days", type=positive_int, default=None, help="days of raw request log, at most --days (default 1)"
    )
    parser.add_argument(
        "--rps", type=_rps, default=None, help=f"mean raw requests per second, at most {MAX_RPS:,.0f} (default 2)"
    )
    parser.add_argument(
        "--raw-format",
        choices=("csv.gz", "csv"),
        default="csv.gz",
        help="raw request log format (default csv.gz; csv is faster for large benchmark logs)",
    )
    parser.add_argument(
        "--fleet",
        type=positive_int,
        default=None,
        metavar="N",
        help="write a sample fleet of N services (fleet.yaml + <team>/<service>/ folders) instead of one service",
    )
    add_limit_argument(parser)


def run_samples(args: argparse.Namespace) -> int:
    from srekit.core.limits import check_limit, parse_limit_args
    from srekit.inputs.samples import write_samples

    limits = parse_limit_args(args.limit)
    check_limit(
        limits,
        "max_intervals",
        args.days * 1440,
        f"--days {args.days}",
        "ask for fewer days",
        "one-minute intervals per journey",
    )
    if args.raw_days is not None and args.raw_days > args.days:
        raise UsageError(f"--raw-days {args.raw_days} is more than --days {args.days}. fix: at most --days")
    if args.fleet is not None:
        return _fleet(args)
    out = output_folder(args.out)
    paths = write_samples(
        out, days=args.days, seed=args.seed, raw_days=args.raw_days, rps=args.rps, raw_format=args.raw_format
    )
    for p in paths:
        print(f"wrote {p} ({p.stat().st_size:,} bytes)", file=sys.stdout)
    return 0


def _fleet(args: argparse.Namespace) -> int:
    from srekit.inputs.samples import MAX_FLEET_SERVICES, write_fleet_samples

    given = [f"--{n.replace('_', '-')}" for n in ("raw_days", "rps") if getattr(args, n) is not None]
    if args.raw_format != "csv.gz":
        given.append("--raw-format")
    if given:
        raise UsageError(
            f"{', '.join(given)} cannot be used with --fleet (fleet services have no raw log). fix: drop it"
        )
    if args.fleet > MAX_FLEET_SERVICES:
        raise UsageError(f"--fleet {args.fleet} is more than {MAX_FLEET_SERVICES} services. fix: ask for fewer")
    out = output_folder(args.out)
    paths = write_fleet_samples(out, services=args.fleet, days=args.days, seed=args.seed)
    print(f"wrote {len(paths)} files for {args.fleet} services; fleet: {out / 'fleet.yaml'}", file=sys.stdout)
    return 0
