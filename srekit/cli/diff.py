"""``srekit diff --config NEW --baseline OLD [--history service.yaml] [--json | --markdown]
[--fail-on RULE ...]``: what a change to SLOs would have done on the same history.

Either side may be a service.yaml or another tool's spec files (format detected); the history
(telemetry, incidents) comes from ``--history``, else from the side that is a service.yaml
(``--config`` first). Prints, for every SLO on either side, objective, past windows met,
budget used now, pages and tickets per week, incidents caught, median detection delay and
precision, and which SLOs were added or removed. Exit 0, or 1 when a ``--fail-on`` rule holds
(``recall-drop``, ``pages-per-week>2``, ``windows-met<0.9``…); 2 on unusable input."""

from __future__ import annotations

import argparse
import json
from dataclasses import replace
from pathlib import Path
from typing import Any

from srekit.core.errors import ConfigError


def add_diff_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", type=Path, required=True, help="the new SLOs: service.yaml or spec files")
    parser.add_argument("--baseline", type=Path, required=True, help="the old SLOs: service.yaml or spec files")
    parser.add_argument("--history", type=Path, help="service.yaml whose data to replay on (default: a side's)")
    parser.add_argument("--fail-on", action="append", default=[], metavar="RULE", help="exit 1 when it holds")
    out = parser.add_mutually_exclusive_group()
    out.add_argument("--json", action="store_true", help="print JSON")
    out.add_argument("--markdown", action="store_true", help="print Markdown (a pull-request comment)")


def _is_service_yaml(path: Path) -> bool:
    from srekit.inputs.config import read_yaml

    if path.is_dir():
        return False
    doc = read_yaml(path)
    return isinstance(doc, dict) and "service" in doc and "version" not in doc


def _side(path: Path, history: Any) -> Any:
    """The config of one side: a service.yaml as it is, spec files as history + ``slo.import``."""
    from srekit.inputs.config import ImportEntry, load_config
    from srekit.inputs.slo_import.read import detect_format

    if _is_service_yaml(path):
        return load_config(path)
    entry = ImportEntry(format=detect_format(path), path=path.resolve())  # type: ignore[arg-type]
    return replace(history, slo=replace(history.slo, openslo=(), imports=(entry,)), slos=())


def _figures(config: Any, inputs: Any) -> list[dict[str, Any]]:
    import pandas as pd

    from srekit.analysis.slo.grid import journey_grids
    from srekit.analysis.slo.options import evaluate_specs
    from srekit.analysis.slo_diff import figures
    from srekit.report.cache import Analysis

    a = Analysis(config, generated_at=pd.Timestamp.now(tz="UTC"), inputs=inputs)
    outcomes = {o.slo: o.to_dict() for o in a.alerting.outcomes}
    budgets = {b["slo"]: b for b in a.policy.to_dict()["slos"]}
    grids = journey_grids(inputs.telemetry) if inputs.telemetry is not None and not inputs.telemetry.empty else {}
    out = []
    for spec in a.specs:
        opt = evaluate_specs(
            spec.journey, [spec], grids.get(spec.journey), inputs.series, spec.window, spec.window_kind
        )
        met = None if opt is None or not opt.history.windows else opt.history.windows_met
        out.append(figures(spec, outcomes.get(spec.name), budgets.get(spec.name), met))
    return out


def _text(d: Any, fails: list[str]) -> str:
    from srekit.core.escape import terminal_text as shown  # names from data: one line each

    lines = []
    for row in d.to_dict()["slos"]:
        lines.append(f"{shown(row['slo'])}: {shown(row['change'])}")
        for side in ("baseline", "new"):
            f = row[side]
            if f is None:
                continue
            med = "–" if f["median_detection_min"] is None else f"{f['median_detection_min']:.0f} min"
            wm = "–" if f["windows_met"] is None else f"{f['windows_met']:.0%}"
            prec = "n/a" if f["precision"] is None else f"{f['precision']:.2f}"  # never fired / no incident
            used = "–" if f["budget_used"] is None else f"{f['budget_used']:.0%}"
            lines.append(
                f"  {side:8} {shown(f['objective'])}, policy {shown(f['policy'])}: windows met {wm}, "
                f"budget used {used}, "
                f"{f['pages_per_week'] or 0:.2f} pages/wk, {f['tickets_per_week'] or 0:.2f} tickets/wk, "
                f"caught {f['incidents_detected']}/{f['incidents']}, median {med}, precision {prec}"
            )
    lines += [f"FAIL {shown(x)}" for x in fails] or ["no --fail-on rule holds"]
    return "\n".join(lines)


def _markdown(d: Any, fails: list[str]) -> str:
    from srekit.report.markdown import md_table, md_text

    rows = [
        {
            "SLO": r["slo"],
            "change": r["change"],
            "side": side,
            **{k: v for k, v in (r[side] or {}).items() if k != "slo"},
        }
        for r in d.to_dict()["slos"]
        for side in ("baseline", "new")
        if r[side] is not None
    ]
    verdict = ["", *(f"- **fails** {md_text(x)}" for x in fails)] if fails else ["", "No `--fail-on` rule holds."]
    return "\n".join(["### SLO change replayed on history", "", *md_table(rows, titles=False), *verdict])


def run_diff(args: argparse.Namespace) -> int:
    from srekit.analysis.slo_diff import check_rule, diff, failures
    from srekit.inputs.config import load_config
    from srekit.inputs.loaders import load_inputs

    rules = [check_rule(r) for r in args.fail_on]
    base = args.history or next((p for p in (args.config, args.baseline) if _is_service_yaml(p)), None)
    if base is None:
        raise ConfigError("neither side is a service.yaml. fix: pass --history service.yaml (its data is replayed)")
    history = load_config(base)
    inputs = load_inputs(history)
    old, new = _side(args.baseline, history), _side(args.config, history)
    d = diff(_figures(old, inputs), _figures(new, inputs))
    fails = failures(d, rules)
    if args.json:
        print(json.dumps(d.to_dict() | {"failures": fails}, indent=2, default=str))
    elif args.markdown:
        print(_markdown(d, fails))
    else:
        print(_text(d, fails))
    return 1 if fails else 0
