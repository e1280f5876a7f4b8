"""``srekit gate --config service.yaml [--slo NAME ...] [--as-of T] [--allow-no-data] [--json]``:
a release gate from the error-budget policy, for deploy pipelines (what Keptn quality gates and
Dynatrace's Site Reliability Guardian do).

Evaluates every SLO in force (or those named) at the end of the data, or at ``--as-of``, and
prints per SLO the state, budget used and the policy's action. Exit 0: the release may go
(every SLO healthy or warning); 1: the policy says freeze (an SLO critical: budget exhausted),
or an SLO has no events in its window (``no_data`` is not a pass unless ``--allow-no-data``);
2: unusable input or configuration (unknown SLO, bad ``--as-of``, no data)."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from srekit.core.errors import ConfigError

GO = ("healthy", "warning")


def add_gate_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", type=Path, required=True, help="service.yaml")
    parser.add_argument("--slo", action="append", default=[], metavar="NAME", help="gate on this SLO only (repeatable)")
    parser.add_argument(
        "--as-of", help="evaluate at this instant (ISO 8601, UTC if no offset); default: end of the data"
    )
    parser.add_argument("--allow-no-data", action="store_true", help="let an SLO with no events in its window pass")
    parser.add_argument("--json", action="store_true", help="print the verdict as JSON")


def _as_of(text: str | None) -> Any:
    import pandas as pd

    if text is None:
        return None
    try:
        t = pd.Timestamp(text)
    except ValueError as exc:
        raise ConfigError(f"--as-of {text!r} is not a timestamp. fix: use ISO 8601, e.g. 2026-01-31T12:00Z") from exc
    return t.tz_localize("UTC") if t.tzinfo is None else t.tz_convert("UTC")


def verdict(budgets: list[dict[str, Any]], actions: dict[str, list[str]], allow_no_data: bool) -> dict[str, Any]:
    """Per SLO go/freeze/no_data with the policy's first action; ``release`` is ``go`` only when all may go."""
    rows = []
    for b in budgets:
        state = b["status"]
        ok = state in GO or (state == "no_data" and allow_no_data)
        rows.append(
            {
                "slo": b["slo"],
                "state": state,
                "consumed": b["consumed"],
                "window_start": b["window_start"],
                "window_end": b["window_end"],
                "gate": "pass" if ok else "fail",
                "action": (actions.get(state) or [""])[0],
            }
        )
    return {"release": "go" if all(r["gate"] == "pass" for r in rows) else "stop", "slos": rows}


def run_gate(args: argparse.Namespace) -> int:
    import pandas as pd

    from srekit.analysis.budget import budget_policy
    from srekit.inputs.config import load_config
    from srekit.report.cache import Analysis

    config = load_config(args.config)
    analysis = Analysis(config, generated_at=pd.Timestamp.now(tz="UTC"))
    inputs = analysis.inputs
    specs = analysis.specs
    if args.slo:
        unknown = sorted(set(args.slo) - {s.name for s in specs})
        if unknown:
            raise ConfigError(f"--slo {unknown}: no such SLO. fix: use one of {', '.join(s.name for s in specs)}")
        specs = tuple(s for s in specs if s.name in args.slo)
    policy = budget_policy(inputs.telemetry, inputs.series, specs, config, as_of=_as_of(args.as_of)).to_dict()
    if policy["as_of"] is None or not specs:
        raise ConfigError(f"{args.config}: no telemetry or series, or no SLOs, to gate on. fix: add data: to it")
    result = verdict(policy["slos"], policy["actions"], args.allow_no_data) | {"as_of": policy["as_of"]}
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        from srekit.core.escape import terminal_text as shown  # names from data: one line each

        print(f"release gate at {result['as_of']}: {result['release'].upper()}")
        for r in result["slos"]:
            print(
                f"  {r['gate'].upper():4}  {shown(r['slo'])}: {r['state']}, {r['consumed']:.1%} of the budget "
                f"used. {shown(r['action'])}"
            )
    return 0 if result["release"] == "go" else 1
