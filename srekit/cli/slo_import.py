"""``srekit import sloth|pyrra|openslo|slo-generator PATH... --out service.yaml``: turn another
tool's SLO specs into service.yaml SLOs with their queries and alert policy (docs/slo-import.md).

Prints what was mapped, what was not (file:line and the reason) and the notes. Exit 0 when
the file was written, 1 when no SLO could be mapped (nothing written), 2 for an unknown
format, a malformed spec or a service.yaml that would not validate."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from srekit.core.errors import ConfigError
from srekit.inputs.slo_import.model import FORMATS, ImportOptions, ImportResult

if TYPE_CHECKING:
    from srekit.core.spec import SLOSpec


def _journey(text: str) -> tuple[str, str]:
    slo, sep, journey = text.partition("=")
    if not sep or not slo or not journey:
        raise argparse.ArgumentTypeError(f"--journey takes SLO=JOURNEY, got {text!r}")
    return slo, journey


def add_import_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("format", help=f"the specs' tool: {', '.join(FORMATS)}")
    parser.add_argument("paths", nargs="+", type=Path, help="spec files or folders of them")
    parser.add_argument("--out", type=Path, help="service.yaml to write (an existing one is updated, comments kept)")
    parser.add_argument("--service", help="service name of a new service.yaml (default: the specs')")
    parser.add_argument("--period", help="SLO period when the spec has none (Sloth default 30d)")
    parser.add_argument("--windows", type=Path, help="Sloth AlertWindows file or folder (--slo-period-windows-path)")
    parser.add_argument("--policy", type=Path, help="slo-generator shared config with error_budget_policies")
    parser.add_argument("--journey", type=_journey, action="append", default=[], metavar="SLO=JOURNEY")
    parser.add_argument("--journey-label", default="handler", help="label naming the journey (default handler)")
    parser.add_argument("--json", action="store_true", help="print the import summary as JSON")


def _options(args: argparse.Namespace) -> ImportOptions:
    from srekit.core.timeutil import parse_duration

    try:
        period = parse_duration(args.period) if args.period else None
    except ValueError as exc:
        raise ConfigError(f"--period {args.period!r} is not a duration. fix: use e.g. 30d or 28d") from exc
    return ImportOptions(
        period=period,
        windows=args.windows,
        policy=args.policy,
        journeys=dict(args.journey),
        journey_label=args.journey_label,
    )


def _print(result: ImportResult, out: Path | None) -> None:
    print(f"{len(result.specs)} SLO(s) mapped from {len(result.files)} {result.fmt} file(s)")
    for s in result.specs:
        rules = len(s.alerting.rules) if s.alerting else 0
        print(f"  {s.name}: {s.sli} {s.target:.6g} over {s.window.days}d on journey {s.journey}, {rules} alert rule(s)")
    if result.unmapped:
        print(f"{len(result.unmapped)} not mapped:")
        for u in result.unmapped:
            print(f"  {u.where}: {u.item}: {u.reason}")
    for n in result.notes:
        print(f"note: {n}")
    if out is not None:
        print(f"wrote {out}")


def _header(result: ImportResult) -> list[str]:
    """Notes, then every SLO not mapped (with file:line and reason), for the file's header."""
    return [*result.notes, *(f"NOT MAPPED {u.where}: {u.item}: {u.reason}" for u in result.unmapped)]


def _check_names(specs: Sequence[SLOSpec]) -> None:
    """Names service.yaml refuses are a ConfigError before anything is written: the YAML writer
    would fold a NEL into a space, and the file would load with another name."""
    from srekit.inputs.config import control_problem

    for spec in specs:
        for what, name in (("SLO", spec.name), ("journey", spec.journey)):
            problem = control_problem(name)
            if problem:
                raise ConfigError(
                    f"imported {what} name {name!r}: {problem}. fix: rename it in its spec file"
                    + (f" or map it with --journey {spec.name}=<journey>" if what == "journey" else "")
                )


def run_import(args: argparse.Namespace) -> int:
    from srekit.core.files import atomic_write
    from srekit.exports.service_yaml import new_service_yaml, update_service_yaml
    from srekit.inputs.config import parse_config
    from srekit.inputs.slo_import.read import import_specs

    if args.format not in FORMATS:
        raise ConfigError(f"unknown spec format {args.format!r}. fix: use one of {', '.join(FORMATS)}")
    result = import_specs(args.format, list(args.paths), _options(args))
    if not result.specs:
        _print(result, None)
        print("srekit import: no SLO could be mapped; nothing written", file=sys.stderr)
        return 1
    out = args.out
    if out is not None:
        _check_names(result.specs)
        service = args.service or result.service or out.resolve().parent.name or "service"
        text = (
            update_service_yaml(out, result.specs, result.fmt)
            if out.exists()
            else new_service_yaml(service, result.specs, result.fmt, result.files, _header(result))
        )
        import yaml

        parse_config(yaml.safe_load(text), path=out.resolve())  # what is written must load
        atomic_write(out, text)
    if args.json:
        print(json.dumps(result.to_dict(), indent=2))
    else:
        _print(result, out)
    return 0
