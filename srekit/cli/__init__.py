"""The ``srekit`` command line. Each sub-command lives in a ``cli_*`` module exposing
``add_<name>_arguments(parser)`` and ``run_<name>(args) -> int``; only the chosen one is imported.

Exit codes (the README's table, tested row by row in ``tests/test_exit_codes.py``): 0 success,
1 a step failed (a notebook, an analysis section, an unexpected error), 2 unusable input,
configuration, arguments or a resource limit (every :class:`~srekit.core.errors.SrekitError`: one
line naming the file, key, column or option and the fix, never a traceback), 3 another `srekit
report` run holds the output folder's lock, 130 interrupted.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
import time
import traceback
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from srekit.core.errors import SrekitError, UsageError

if TYPE_CHECKING:
    from srekit.inputs.config import ServiceConfig

#: Exit code of an interrupted command (128 + SIGINT, as a shell reports it).
EXIT_INTERRUPTED = 130
#: Set to 1 to print the traceback of an unexpected error (a bug) as well.
DEBUG_ENV = "SREKIT_DEBUG"

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
    "fleet": ("srekit.cli.fleet", "every service of a fleet.yaml rendered in parallel, and the fleet overview"),
}

#: Commands that do no linear algebra. numpy's OpenBLAS starts a thread per core when numpy is
#: imported, and each spins its core for about 0.1 s before it sleeps: CPU the reader's threads
#: need (about 0.1 s of CPU off `srekit aggregate`, docs/aggregate.md). A value the user set is
#: kept.
SINGLE_BLAS_THREAD = frozenset({"aggregate"})


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
    command = chosen if chosen in COMMANDS else "?"
    if command in SINGLE_BLAS_THREAD and "numpy" not in sys.modules:
        os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
    try:  # Ctrl-C while the sub-command's modules import is an interruption too, not a traceback
        parser = build_parser(chosen if chosen in COMMANDS else None)
        args = parser.parse_args(argv)  # a usage error exits 2 with argparse's message
        command = args.command
        return int(args._run(args) or 0)
    except SrekitError as exc:
        print(f"srekit {command}: error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print(f"srekit {command}: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except Exception as exc:  # a bug or the machine (disk full): one line, exit 1 like a failed step
        if interrupted(exc):
            print(f"srekit {command}: interrupted", file=sys.stderr)
            return EXIT_INTERRUPTED
        print(f"srekit {command}: failed: {_describe(exc)}", file=sys.stderr)
        if os.environ.get(DEBUG_ENV):
            traceback.print_exc()
        return 1


def interrupted(exc: BaseException, wait: float = 1.0) -> bool:
    """Whether ``exc`` comes of Ctrl-C: raised while a KeyboardInterrupt was being handled (a
    process pool shutting down on the way out broke), or a process pool broken by its workers,
    which exit at once on Ctrl-C (the whole process group gets it) and may break the pool before
    this process handles its own: that signal then arrives within ``wait`` seconds."""
    from concurrent.futures.process import BrokenProcessPool

    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, KeyboardInterrupt):
            return True
        seen = seen.__context__
    if not isinstance(exc, BrokenProcessPool):
        return False
    try:
        time.sleep(wait)
    except KeyboardInterrupt:
        return True
    return False


def _describe(exc: Exception) -> str:
    if isinstance(exc, OSError) and exc.filename:
        what = exc.strerror or type(exc).__name__
        return f"{what}: {exc.filename}. fix: check the path, its permissions and free space"
    return (
        f"{type(exc).__name__}: {exc}. This is a bug in srekit; please report it with the output of "
        f"{DEBUG_ENV}=1 srekit …"
    )


# ------------------------------------------------------------------------- shared argument types


def non_negative_int(text: str) -> int:
    """An argparse type: an integer ≥ 0 (a seed)."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number ≥ 0, got {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"expected a whole number ≥ 0, got {text}")
    return value


def positive_int(text: str) -> int:
    """An argparse type: an integer ≥ 1 (a count)."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number ≥ 1, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number ≥ 1, got {text}")
    return value


def add_limit_argument(parser: argparse.ArgumentParser) -> None:
    """``--limit NAME=VALUE`` (repeatable): raise or lower one of the documented resource limits
    for this run (``srekit.core.limits``; service.yaml ``limits:`` sets them for every run)."""
    parser.add_argument(
        "--limit",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="override a resource limit for this run, e.g. --limit max_intervals=20000000 (repeatable; names and "
        "defaults: docs/service-yaml.md, limits)",
    )


def with_limits(config: ServiceConfig, items: Sequence[str]) -> ServiceConfig:
    """``config`` with the ``--limit`` arguments applied over its ``limits:``."""
    if not items:
        return config
    from dataclasses import replace

    from srekit.core.limits import parse_limit_args

    return replace(config, limits=parse_limit_args(list(items), config.limits))


# ------------------------------------------------------------------------- output paths


def output_folder(path: str | Path, option: str = "--out") -> Path:
    """The folder ``path``, created with its parents; a :class:`UsageError` naming ``option``
    when it is a file, sits under a file, or cannot be created."""
    p = Path(path)
    if p.exists() and not p.is_dir():
        raise UsageError(f"{option} {p} is a file, not a folder. fix: pass a folder (it is created if missing)")
    blocker = next((a for a in (p, *p.parents) if a.exists() and not a.is_dir()), None)
    if blocker is not None:
        raise UsageError(f"{option} {p}: {blocker} is a file, so the folder cannot be created. fix: pass another path")
    try:
        p.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UsageError(
            f"{option} {p}: the folder cannot be created ({exc.strerror}). fix: pass a folder you can write to"
        ) from None
    if not os.access(p, os.W_OK | os.X_OK):
        raise UsageError(f"{option} {p}: the folder is not writable. fix: pass a folder you can write to")
    return p


def output_file(path: str | Path, option: str = "--out", example: str = "telemetry.parquet") -> Path:
    """The file ``path`` with its folder created; a :class:`UsageError` naming ``option`` when
    it is a folder or its folder cannot be created or written."""
    p = Path(path)
    if p.is_dir():
        raise UsageError(f"{option} {p} is a folder. fix: name a file inside it, e.g. {p / example}")
    output_folder(p.parent, f"the folder of {option}")
    return p
