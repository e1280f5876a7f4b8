"""``srekit fleet report --config fleet.yaml [--out reports/] [--jobs N] [--scheduler ADDR]``: every
service's report in parallel, then the fleet overview (``docs/fleet.md``). The clock is read here.

Exit codes: 0 every service rendered; 1 some service failed or rendered in part (listed on the
overview and in fleet.json; the others rendered); 2 an unusable fleet (the fleet file, duplicate
service names, a glob matching nothing, no usable service.yaml, or no service rendered at all: the
overview still lists the reasons) or arguments; 3 another run holds the output folder's lock.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import pandas as pd

from srekit.cli import non_negative_int, output_folder, positive_int
from srekit.core.errors import UsageError


def add_fleet_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
    p = sub.add_parser("report", help="render every service's report and the fleet overview")
    p.add_argument("--config", required=True, help="fleet.yaml, or a folder: every service.yaml below it")
    p.add_argument("--out", help="reports root (default: report.out of the fleet file, else reports/ beside it)")
    p.add_argument(
        "--jobs", "-j", type=positive_int, default=None, help="services built in parallel locally (default: CPUs)"
    )
    p.add_argument(
        "--scheduler",
        default=None,
        metavar="ADDR",
        help="run each service as a task on this dask.distributed scheduler (e.g. tcp://host:8786); the workers "
        "must see the fleet's files and the output folder at the same paths",
    )
    p.add_argument(
        "--seed", type=non_negative_int, default=7, help="seed for Monte Carlo and bootstrap, ≥ 0 (default 7)"
    )
    p.add_argument("--notebooks", default=None, help="notebooks folder (default: the repository's notebooks/)")


def run_fleet(args: argparse.Namespace) -> int:
    from srekit.inputs.fleet import load_fleet
    from srekit.report.fleet import run_fleet as run

    if args.jobs is not None and args.scheduler:
        raise UsageError(
            "--jobs is for the local process pool; with --scheduler the workers' threads decide. fix: drop one of them"
        )
    fleet = load_fleet(args.config)  # an unusable fleet: ConfigError, exit 2
    out = output_folder(args.out) if args.out else output_folder(fleet.report.out, "report.out in the fleet file")
    for m in fleet.unusable:
        print(f"srekit fleet: {m.name} cannot be used: {m.error}", file=sys.stderr)
    result = run(
        fleet,
        out,
        generated_at=pd.Timestamp.now(tz="UTC"),
        jobs=args.jobs,
        scheduler=args.scheduler,
        seed=args.seed,
        notebooks_dir=Path(args.notebooks) if args.notebooks else None,
    )
    h = result.overview.headline
    print(
        f"{result.folder / 'index.html'} ({h.services_ok}/{h.services} services ok, {h.services_failed} failed, "
        f"{h.services_partial} partly; {h.services_at_risk} at risk; {result.seconds:.1f} s)"
    )
    for s in result.failed:
        print(f"srekit fleet: {s.service} {s.status}: {s.reason}", file=sys.stderr)
    if h.services_ok + h.services_partial == 0:
        print(
            f"srekit fleet: error: no service of the fleet could be rendered (reasons above and in "
            f"{result.folder / 'fleet.json'}). fix: correct the services' data",
            file=sys.stderr,
        )
        return 2
    return 1 if result.failed else 0
