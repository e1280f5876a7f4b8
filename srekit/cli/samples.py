"""``srekit samples --out DIR [--days 90] [--seed 7] [--raw-days N] [--rps R]``: write the
deterministic sample data set (see :mod:`srekit.inputs.samples`)."""

from __future__ import annotations

import argparse
import sys

from srekit.core.errors import ConfigError


def add_samples_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--out", required=True, help="folder to write (created if missing)")
    parser.add_argument("--days", type=int, default=90, help="days of telemetry ending 2026-10-31T00:00Z (default 90)")
    parser.add_argument("--seed", type=int, default=7, help="random seed (default 7)")
    parser.add_argument("--raw-days", type=int, default=None, help="days of raw request log (default 1)")
    parser.add_argument("--rps", type=float, default=None, help="mean raw requests per second (default 2)")
    parser.add_argument(
        "--raw-format",
        choices=("csv.gz", "csv"),
        default="csv.gz",
        help="raw request log format (default csv.gz; csv is faster for large benchmark logs)",
    )


def run_samples(args: argparse.Namespace) -> int:
    from srekit.inputs.samples import write_samples

    try:
        paths = write_samples(
            args.out,
            days=args.days,
            seed=args.seed,
            raw_days=args.raw_days,
            rps=args.rps,
            raw_format=args.raw_format,
        )
    except ValueError as exc:
        raise ConfigError(
            f"srekit samples: {exc}. fix: choose --days ≥ 1, 1 ≤ --raw-days ≤ --days and --rps > 0"
        ) from exc
    for p in paths:
        print(f"wrote {p} ({p.stat().st_size:,} bytes)", file=sys.stdout)
    return 0
