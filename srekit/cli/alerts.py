"""``srekit alerts explain`` and ``srekit rules``.

``srekit alerts explain --target 0.999 --period 30d [--error-ratio 1.0] [--json]`` prints, for
a constant error ratio, each rule's time to fire, the budget spent when it fires and its reset
time, beside the SRE Workbook's six approaches.

``srekit rules --config service.yaml --format prometheus|openslo|grafana|all --out DIR`` writes
Prometheus rules with a promtool unit-test file, runbooks, OpenSLO documents and a Grafana
dashboard on the recording rules.
"""

from __future__ import annotations

import argparse
import json
import math
from pathlib import Path
from typing import TYPE_CHECKING

from srekit.cli import add_limit_argument, output_folder, with_limits
from srekit.core.errors import ConfigError, InputError

if TYPE_CHECKING:
    from srekit.analysis.alerting.policy import AlertPolicy
    from srekit.core.spec import SLOSpec
    from srekit.inputs.config import OncallConfig, ServiceConfig


def _number(text: str, what: str) -> float:
    try:
        v = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{what}: expected a number, got {text!r}") from None
    if not math.isfinite(v):
        raise argparse.ArgumentTypeError(f"{what}: expected a finite number, got {text}")
    return v


def _target(text: str) -> float:
    v = _number(text, "target")
    if 50 <= v < 100:
        v /= 100.0
    if not 0 < v < 1:
        raise argparse.ArgumentTypeError(
            f"target must be a fraction in (0, 1) such as 0.999, or a percentage from 50 to 100 such as 99.9; "
            f"got {text}"
        )
    return v


def _ratio(text: str) -> float:
    v = _number(text, "error ratio")
    if not 0 <= v <= 1:
        raise argparse.ArgumentTypeError(f"error ratio must be in [0, 1], got {text}")
    return v


def add_alerts_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
    p = sub.add_parser(
        "explain",
        help="how burn-rate alerts react to a constant error ratio",
        description="Time to fire, budget spent at firing and reset time of each rule, "
        "and the SRE Workbook's six alerting approaches side by side.",
    )
    p.add_argument("--target", type=_target, required=True, help="SLO target, e.g. 0.999 or 99.9")
    p.add_argument("--period", default="30d", help="SLO period (budget window), e.g. 30d, 28d (default 30d)")
    p.add_argument(
        "--error-ratio", type=_ratio, default=1.0, help="constant error ratio to explain (default 1.0: full outage)"
    )
    p.add_argument("--config", type=Path, help="service.yaml whose alerting windows and budget shares to use")
    p.add_argument("--json", action="store_true", help="print JSON instead of a table")


def run_alerts(args: argparse.Namespace) -> int:
    import pandas as pd

    from srekit.analysis.alerting.policy import design_policy, explain_policy
    from srekit.core.spec import SLOSpec
    from srekit.core.timeutil import parse_duration
    from srekit.inputs.config import ServiceConfig, load_config
    from srekit.report.tables.explain import explain_table

    try:
        period = parse_duration(args.period)
    except (ValueError, TypeError) as exc:
        raise ConfigError(f"--period {args.period!r} is not a duration. fix: use e.g. 30d or 28d") from exc
    if not pd.Timedelta(0) < period <= pd.Timedelta(days=3660):
        raise ConfigError(f"--period must be positive and at most ten years, got {args.period}. fix: e.g. 30d")
    config = load_config(args.config) if args.config else ServiceConfig(service="explain", oncall=_paged())
    spec = SLOSpec(name="explain", journey="all", sli="availability", target=args.target, window=period)
    explanation = explain_policy(design_policy(spec, config), args.error_ratio)
    if args.json:
        print(json.dumps(explanation.to_dict(), indent=2))
        return 0
    print(
        f"SLO {args.target:.6g} over {args.period}, constant error ratio {args.error_ratio:g} "
        "(uniform traffic; SRE Workbook, Alerting on SLOs)\n"
    )
    print(explain_table(explanation).to_string(index=False))
    return 0


def _paged() -> OncallConfig:
    from srekit.inputs.config import OncallConfig

    return OncallConfig(coverage="assumed for explain")


def add_rules_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", type=Path, required=True, help="service.yaml")
    parser.add_argument(
        "--format",
        choices=("prometheus", "openslo", "grafana", "all"),
        default="all",
        help="what to write (default all: Prometheus rules + tests + runbooks, OpenSLO, the Grafana dashboard)",
    )
    parser.add_argument("--out", type=Path, required=True, help="output folder")
    add_limit_argument(parser)


def run_rules(args: argparse.Namespace) -> int:
    from srekit.exports.bundle import FORMATS, export_all
    from srekit.inputs.config import load_config

    config = with_limits(load_config(args.config), args.limit)
    out = output_folder(args.out)
    specs, policies = export_plan(config)
    if not specs:
        named = ", ".join(str(p) for p in (*config.slo.openslo, *(i.path for i in config.slo.imports))) or "slos:"
        raise InputError(
            f"{config.path}: no SLOs to export: {named} define(s) none. fix: name files that hold SLO documents "
            "(kind: SLO), or drop slo.openslo / slo.import / slos: so srekit proposes SLOs from the telemetry"
        )
    formats = FORMATS if args.format == "all" else (args.format,)
    paths = export_all(specs, config, out, formats=formats, policies=policies)
    for path in paths:
        print(path)
    if "grafana" in formats:
        from srekit.exports.grafana import check_dashboard_files

        print(check_dashboard_files([p for p in paths if p.parent.name == "grafana"]))
    return 0


def export_plan(config: ServiceConfig) -> tuple[tuple[SLOSpec, ...], tuple[AlertPolicy, ...] | None]:
    """The SLOs ``srekit rules`` exports and, when they are proposed from the loaded inputs, the
    policies in force on that history (low-traffic remedies adopted, as ``srekit analyze``
    exports them; corrections applied); ``None``: each SLO's policy as designed or imported."""
    if config.slo.openslo or config.slo.imports or config.slos:
        return export_specs(config), None
    from srekit.analysis.alerting.analyze import analyze_alerting
    from srekit.analysis.slo.propose import propose_slos
    from srekit.inputs.loaders import load_inputs

    inputs = load_inputs(config)
    specs = tuple(propose_slos(inputs.telemetry, inputs.series, config).specs)
    report = analyze_alerting(
        inputs.telemetry, inputs.series, specs, inputs.incidents, None, config, corrections=inputs.corrections
    )
    return specs, report.policies


def export_specs(config: ServiceConfig) -> tuple[SLOSpec, ...]:
    """The SLOs ``srekit rules`` exports (and ``srekit backfill`` backfills): those of the OpenSLO
    files in ``slo.openslo``, the imported specs and ``slos:`` when there are any, else the ones
    proposed from the loaded inputs."""
    if config.slo.openslo or config.slo.imports or config.slos:
        from srekit.inputs.openslo import read_openslo_specs
        from srekit.inputs.slo_import.read import configured_slos

        return tuple(read_openslo_specs(config.slo.openslo)) + configured_slos(config).specs
    from srekit.analysis.slo.propose import propose_slos
    from srekit.inputs.loaders import load_inputs

    inputs = load_inputs(config)
    return tuple(propose_slos(inputs.telemetry, inputs.series, config).specs)
