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

from srekit.inputs.config import load_config


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", required=True, help="path to service.yaml")
    parser.add_argument(
        "--out",
        help="output folder (analyze: where report.json goes; report: the reports root, default report.out from "
        "service.yaml)",
    )
    parser.add_argument("--seed", type=int, default=7, help="seed for Monte Carlo and bootstrap (default 7)")


def add_analyze_arguments(parser: argparse.ArgumentParser) -> None:
    _common(parser)


def run_analyze(args: argparse.Namespace) -> int:
    from srekit.report.runner import analysis_for, write_analysis

    config = load_config(args.config)
    out = Path(args.out) if args.out else Path(".")
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
        "--jobs", "-j", type=int, default=None, help="notebooks run in parallel (default: number of CPUs)"
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
    from srekit.report.runner import EXIT_LOCKED, ReportLocked, parse_params
    from srekit.report.runner import run_report as run

    config = load_config(args.config)
    params = parse_params(args.parameter)
    out = Path(args.out) if args.out else config.report.out
    only = [s.strip() for s in args.only.split(",") if s.strip()] or list(config.report.notebooks)
    try:
        result = run(
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
    except ReportLocked as exc:
        print(f"srekit report: {exc}", file=sys.stderr)
        return EXIT_LOCKED
    ok = len(result.notebooks) - len(result.failed)
    print(f"{result.run_dir} ({ok}/{len(result.notebooks)} notebooks ok, {result.seconds:.1f} s)")
    print(out / "index.html")
    return 1 if result.failed or result.sections_failed else 0
