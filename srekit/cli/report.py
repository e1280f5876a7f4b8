"""``srekit analyze`` (report.json + report.md) and ``srekit report`` (every notebook rendered
to HTML, plus the index). The clock is read here and passed down.

Exit codes: 0 success; 1 a notebook or an analysis section failed (the rest still rendered); 2 unusable input,
configuration or parameters; 3 another run holds the output folder's lock.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import pandas as pd

from srekit.cli import add_limit_argument, non_negative_int, output_folder, positive_int, with_limits
from srekit.inputs.config import ServiceConfig, load_config


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", required=True, help="path to service.yaml")
    parser.add_argument(
        "--out",
        help="output folder (analyze: where report.json goes; report: the reports root, default report.out from "
        "service.yaml)",
    )
    parser.add_argument(
        "--seed", type=non_negative_int, default=7, help="seed for Monte Carlo and bootstrap, ≥ 0 (default 7)"
    )
    add_limit_argument(parser)


def _config(args: argparse.Namespace) -> ServiceConfig:
    return with_limits(load_config(args.config), args.limit)


def add_analyze_arguments(parser: argparse.ArgumentParser) -> None:
    _common(parser)


def run_analyze(args: argparse.Namespace) -> int:
    from srekit.report.runner import analysis_for, write_analysis

    config = _config(args)
    out = output_folder(args.out or ".")
    report = analysis_for(
        config, seed=args.seed, generated_at=pd.Timestamp.now(tz="UTC"), parameters={"seed": args.seed}
    ).report
    for p in write_analysis(report, out, config=config):
        print(p)
    for section in report.meta.sections_failed:
        print(f"srekit analyze: analysis section failed: {section}", file=sys.stderr)
    return 1 if report.meta.sections_failed else 0


def add_report_arguments(parser: argparse.ArgumentParser) -> None:
    _common(parser)
    parser.add_argument(
        "--jobs", "-j", type=positive_int, default=None, help="notebooks run in parallel (default: number of CPUs)"
    )
    parser.add_argument(
        "--only", default="", help="comma-separated notebook names or number prefixes, e.g. 00,01_telemetry"
    )
    parser.add_argument(
        "-p", "--parameter", action="append", default=[], metavar="NAME=VALUE", help="notebook parameter (repeatable)"
    )
    parser.add_argument("--notebooks", default=None, help="notebooks folder (default: the repository's notebooks/)")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar even on a terminal")
    parser.add_argument(
        "--fresh-kernels",
        action="store_true",
        help="start each notebook's kernel from scratch instead of forking it from a preloaded process",
    )


def run_report(args: argparse.Namespace) -> int:
    from srekit.report.runner import parse_params
    from srekit.report.runner import run_report as run

    config = _config(args)
    params = parse_params(args.parameter)
    out = output_folder(args.out) if args.out else output_folder(config.report.out, "report.out in service.yaml")
    only = [s.strip() for s in args.only.split(",") if s.strip()] or list(config.report.notebooks)
    result = run(  # another run's lock: ReportLocked, exit 3
        config,
        out,
        generated_at=pd.Timestamp.now(tz="UTC"),
        notebooks_dir=Path(args.notebooks) if args.notebooks else None,
        jobs=args.jobs,
        only=only,
        params=params,
        seed=args.seed,
        progress=False if args.no_progress else None,
        fresh_kernels=args.fresh_kernels,
    )
    ok = len(result.notebooks) - len(result.failed)
    print(f"{result.run_dir} ({ok}/{len(result.notebooks)} notebooks ok, {result.seconds:.1f} s)")
    print(out / "index.html")
    return 1 if result.failed or result.sections_failed else 0
