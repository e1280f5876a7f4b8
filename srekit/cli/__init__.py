"""The ``srekit`` command line. Each sub-command lives in a ``cli_*`` module exposing
``add_<name>_arguments(parser)`` and ``run_<name>(args) -> int``; only the chosen one is imported.

Exit codes: 0 success, 1 a step failed (e.g. a notebook), 2 unusable input or configuration,
3 another `srekit report` run holds the output folder's lock.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from srekit.core.errors import SrekitError

# name -> (module, one-line help)
COMMANDS: dict[str, tuple[str, str]] = {
    "samples": ("srekit.cli.samples", "generate deterministic sample data with known ground truth"),
    "validate": ("srekit.cli.validate", "check an input file and print its data-quality ledger"),
    "aggregate": ("srekit.cli.aggregate", "reduce raw request logs to aggregated telemetry"),
    "analyze": ("srekit.cli.report", "compute report.json from service.yaml"),
    "report": ("srekit.cli.report", "render the notebooks to HTML reports (papermill)"),
    "alerts": ("srekit.cli.alerts", "explain burn-rate alert behaviour (alerts explain)"),
    "rules": ("srekit.cli.alerts", "export Prometheus or OpenSLO rules, tests and runbooks"),
    "pull": ("srekit.cli.pull", "pull history from Prometheus into aggregated telemetry"),
    "backfill": ("srekit.cli.backfill", "backfill the exported recording rules over history (promtool TSDB blocks)"),
    "schema": ("srekit.cli.schema", "print the JSON Schema of service.yaml (for editors)"),
    "import": ("srekit.cli.slo_import", "import Sloth, Pyrra, OpenSLO or slo-generator SLO specs into service.yaml"),
    "gate": ("srekit.cli.gate", "release gate: exit 1 when the error-budget policy says freeze"),
    "diff": ("srekit.cli.diff", "replay two versions of the SLOs on the same history, side by side"),
}


def build_parser(chosen: str | None = None) -> argparse.ArgumentParser:
    """The parser; only the chosen sub-command's module is imported (fast start-up)."""
    from srekit import __version__

    parser = argparse.ArgumentParser(prog="srekit", description="Reliability decisions from your own history.")
    parser.add_argument("--version", action="version", version=f"srekit {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name, (module, help_text) in COMMANDS.items():
        p = sub.add_parser(name, help=help_text, description=help_text)
        if name == chosen:
            mod = importlib.import_module(module)
            getattr(mod, f"add_{name}_arguments")(p)
            p.set_defaults(_run=getattr(mod, f"run_{name}"))
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    chosen = next((a for a in argv if not a.startswith("-")), None)
    parser = build_parser(chosen if chosen in COMMANDS else None)
    args = parser.parse_args(argv)
    try:
        return int(args._run(args) or 0)
    except SrekitError as exc:
        print(f"srekit {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
