"""``srekit pull prometheus``: pull history from Prometheus into aggregated telemetry."""

from __future__ import annotations

import argparse
from dataclasses import replace
from pathlib import Path

import pandas as pd

from srekit.cli import add_limit_argument, output_file, with_limits
from srekit.core.errors import ConfigError
from srekit.core.limits import DEFAULT_LIMITS, parse_limit_args
from srekit.core.timeutil import parse_duration
from srekit.inputs.config import PrometheusConfig, load_config


def add_pull_arguments(p: argparse.ArgumentParser) -> None:
    sub = p.add_subparsers(dest="source", required=True, metavar="SOURCE")
    prom = sub.add_parser("prometheus", help="pull request counters and latency histograms over the HTTP API")
    prom.add_argument("--config", help="service.yaml (metric and label names under prometheus:)")
    prom.add_argument("--url", help="Prometheus base URL (overrides prometheus.url)")
    prom.add_argument("--start", help="ISO time, now or now-28d (overrides prometheus.start)")
    prom.add_argument("--end", help="ISO time or now (default: prometheus.end, else now)")
    prom.add_argument("--interval", help="step and aggregation interval, e.g. 1m (default 1m)")
    prom.add_argument("--out", required=True, help="output file: .parquet or .csv")
    prom.add_argument("--no-progress", action="store_true", help="no progress bar")
    add_limit_argument(prom)


def _interval(text: str) -> pd.Timedelta:
    try:
        step = parse_duration(text)
    except (ValueError, TypeError):
        step = None
    if step is None or pd.isna(step) or not pd.Timedelta(seconds=1) <= step <= pd.Timedelta(days=1):
        raise ConfigError(
            f"--interval {text!r} is not a usable step. fix: a duration from 1s to 1d such as 30s, 1m or 5m"
        )
    return step


def run_pull(args: argparse.Namespace) -> int:
    from srekit.inputs.aggregate import write_telemetry
    from srekit.inputs.prometheus import pull_telemetry

    config = with_limits(load_config(args.config), args.limit) if args.config else None
    cfg = config.prometheus if config is not None else PrometheusConfig()
    limits = config.limits if config is not None else parse_limit_args(args.limit, DEFAULT_LIMITS)
    if args.url:
        cfg = replace(cfg, url=args.url)
    if args.interval:
        cfg = replace(cfg, interval=_interval(args.interval))
    if not cfg.url:
        raise ConfigError("no Prometheus URL. fix: pass --url or set prometheus.url in service.yaml")
    out = output_file(Path(args.out))
    frame, entry = pull_telemetry(cfg, start=args.start, end=args.end, progress=not args.no_progress, limits=limits)
    write_telemetry(frame, out)
    notes = ", ".join(f"{k} {v}" for k, v in entry.notes.items())
    span = f"{entry.start} to {entry.end}" if entry.start is not None else "no data"
    print(
        f"{out}: {len(frame)} rows ({frame['journey'].nunique()} journeys, {frame['interval_start'].nunique()} "
        f"intervals), {span}"
    )
    print(f"ledger: {notes}")
    return 0
