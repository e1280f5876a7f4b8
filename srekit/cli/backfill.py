"""``srekit backfill``: the exported recording rules evaluated over history into TSDB blocks.

``srekit backfill --config service.yaml --url URL --start T [--end T] --out BLOCKS_DIR`` runs
``promtool tsdb create-blocks-from rules`` (in dependency order, chunked, bounded) and prints how
to move the blocks into Prometheus's data folder (docs/dashboards.md, "Backfill").
"""

from __future__ import annotations

import argparse
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from srekit.core.errors import ConfigError

if TYPE_CHECKING:
    import pandas as pd

    from srekit.exports.backfill import BackfillPlan, BackfillResult
    from srekit.exports.backfill_source import SourceFacts


def add_backfill_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--config", type=Path, required=True, help="service.yaml (the SLOs whose rules to backfill)")
    p.add_argument("--url", help="Prometheus holding the raw history (default: prometheus.url of service.yaml)")
    p.add_argument("--start", required=True, help="ISO time or now-30d: first minute to backfill")
    p.add_argument(
        "--end",
        default="now-3h",
        help="ISO time or now-3h (default): last minute to backfill; never the live head block (last 3 h), "
        "and never past the minute the live rules began recording",
    )
    p.add_argument("--out", type=Path, required=True, help="empty folder for the TSDB blocks")
    p.add_argument(
        "--eval-interval", help="rule evaluation interval (default: the source's evaluation_interval, else 1m)"
    )
    p.add_argument(
        "--max-block-duration", default="162h", help="longest block promtool may write (default 162h; 2h × 3^k)"
    )
    p.add_argument("--chunk", default="7d", help="range of one promtool run (default 7d, whole blocks)")
    p.add_argument(
        "--max-points", type=int, default=None, help="limit on rule evaluations written (default 50,000,000)"
    )
    p.add_argument("--promtool", help="promtool executable (default: promtool on PATH)")
    p.add_argument("--prometheus", help="prometheus executable for dependent passes (default: on PATH)")


def run_backfill(args: argparse.Namespace) -> int:
    import pandas as pd

    from srekit.analysis.alerting.policy import policy_for
    from srekit.cli.alerts import export_specs
    from srekit.exports import backfill as bf
    from srekit.exports import backfill_source as src
    from srekit.exports.prometheus import prometheus_rules
    from srekit.inputs.config import load_config
    from srekit.inputs.prometheus import PrometheusClient, resolve_time

    config = load_config(args.config)
    prom = replace(config.prometheus, url=args.url or config.prometheus.url)
    if not prom.url:
        raise ConfigError("no Prometheus URL. fix: pass --url or set prometheus.url in service.yaml")
    now = pd.Timestamp.now(tz="UTC")
    start, end = resolve_time(args.start, now, "start"), resolve_time(args.end, now, "end")
    if end > now - bf.HEAD_MARGIN:
        raise ConfigError(
            f"--end {end.isoformat()} is within the last 3 hours, the live head block Prometheus is still writing. "
            "fix: end at least 3 hours ago (the default now-3h); the live rules record the rest"
        )
    if args.out.exists() and any(args.out.iterdir()):
        raise ConfigError(f"{args.out} is not empty. fix: pass an empty or new folder as --out")
    promtool = bf.find_tool("promtool", args.promtool)
    version = bf.check_promtool(promtool)
    client = PrometheusClient(prom)
    if "Authorization" in client.session.headers or client.session.auth is not None:
        print(
            "note: srekit passes promtool no credentials (promtool 2.42 has no option for them): srekit's own "
            f"checks use {prom.bearer_token_env} or {prom.username_env}, promtool needs an address that asks for none "
            "(e.g. kubectl port-forward to the Prometheus pod)"
        )
    facts = src.source_facts(client)
    interval = _duration(args.eval_interval, "--eval-interval") or facts.evaluation_interval or bf.EVAL_INTERVAL
    end = _before_live_rules(src.live_since(client, config.service, start, end, interval), start, end, interval)
    specs = export_specs(config)
    doc = prometheus_rules([policy_for(s, config) for s in specs], config)
    plan = bf.plan_backfill(
        doc["groups"],
        start,
        end,
        eval_interval=interval,
        max_block=_duration(args.max_block_duration, "--max-block-duration") or bf.MAX_BLOCK,
        chunk=_duration(args.chunk, "--chunk") or bf.CHUNK,
        max_points=args.max_points or bf.DEFAULT_MAX_POINTS,
    )
    _check_series(src.selectors_without_series(client, bf.scraped_selectors(plan), plan.runs[0].start, end), plan)
    prometheus = bf.find_tool("prometheus", args.prometheus) if plan.levels > 1 else None
    print(_plan_text(plan, prom.url, version, len(specs)))
    _exit_cleanly_on_sigterm()
    result = bf.run_backfill(plan, url=prom.url, out_dir=args.out, promtool=promtool, prometheus=prometheus, echo=print)
    print(_result_text(result, plan, facts))
    return 0


def _exit_cleanly_on_sigterm() -> None:
    """A terminated backfill (a scheduler's SIGTERM) unwinds like Ctrl-C: promtool is killed, the
    local Prometheus stopped and the staging folder removed, leaving --out as it was."""
    import signal
    import sys

    def stop(signum: int, _frame: object) -> None:
        print(f"srekit backfill: stopped by signal {signum}; nothing was kept", file=sys.stderr)
        sys.exit(128 + signum)

    signal.signal(signal.SIGTERM, stop)


def _duration(text: str | None, flag: str) -> pd.Timedelta | None:
    from srekit.exports.promql_scan import prom_duration

    if text is None:
        return None
    try:
        value = prom_duration(text)
    except ValueError as exc:
        raise ConfigError(f"{flag} {text!r} is not a duration. fix: use e.g. 1m, 162h, 7d") from exc
    if value.total_seconds() <= 0:
        raise ConfigError(f"{flag} must be positive, got {text}")
    return value


def _before_live_rules(
    live: pd.Timestamp | None, start: pd.Timestamp, end: pd.Timestamp, interval: pd.Timedelta
) -> pd.Timestamp:
    """``end``, or the evaluation before the live rules' first one when they began inside the range."""
    if live is None:
        return end
    if live - interval <= start:
        raise ConfigError(
            f"the live srekit rules of this service already record from {live.isoformat()}, before --start "
            f"{start.isoformat()}: there is nothing to backfill. fix: choose an earlier --start"
        )
    print(f"the live rules record from {live.isoformat()}: backfilling up to the evaluation before it")
    return live - interval


def _check_series(missing: list[str], plan: BackfillPlan) -> None:
    """Refuse a backfill whose scraped series are all absent; name the ones that are."""
    from srekit.exports.backfill import scraped_selectors

    if not missing:
        return
    shown = "\n  ".join(missing[:10]) + ("\n  …" if len(missing) > 10 else "")
    fix = (
        "fix: check the metric and label names under prometheus: in service.yaml (request_counter, "
        "latency_histogram, journey_label, selector) and that --start is within the source's retention"
    )
    if len(missing) == len(scraped_selectors(plan)):
        raise ConfigError(f"the source has none of the series the rules read in the range:\n  {shown}\n{fix}")
    print(f"warning: the source has no series for these selectors in the range (their SLIs stay empty):\n  {shown}")


def _plan_text(plan: BackfillPlan, url: str, version: tuple[int, int, int], slos: int) -> str:
    from srekit.core.timeutil import format_duration

    runs = "\n".join(
        f"  {r.label}: {r.rules} rules, {r.start:%Y-%m-%d %H:%M} to {r.end:%Y-%m-%d %H:%M} UTC, "
        f"{len(plan.chunks(r))} chunk(s)"
        for r in plan.runs
    )
    return (
        f"backfilling the recording rules of {slos} SLO(s) from {url} with promtool {'.'.join(map(str, version))}: "
        f"{plan.points:,} evaluations every {format_duration(plan.eval_interval)}, blocks of "
        f"{format_duration(plan.block)}\n{runs}"
    )


def _result_text(result: BackfillResult, plan: BackfillPlan, facts: SourceFacts) -> str:
    from srekit.exports.backfill import OVERLAP_DEFAULT_VERSION

    total = result.total
    lines = [
        f"wrote {total.blocks} blocks, {total.samples:,} samples ({total.bytes / 1e6:.1f} MB) to {result.out_dir} "
        f"in {result.seconds:.0f} s",
        *(f"  {label}: {s.blocks} blocks, {s.samples:,} samples" for label, s in result.per_run),
    ]
    if total.samples == 0:
        lines.append(
            "warning: no samples: the source has no series for these rules in the range (check prometheus: metric "
            "and label names in service.yaml, and that --start is within the source's retention)"
        )
    lines += [f"note: {n}" for n in plan.notes]
    lines += _load_instructions(result, facts, OVERLAP_DEFAULT_VERSION)
    return "\n".join(lines)


def _load_instructions(result: BackfillResult, facts: SourceFacts, overlap: tuple[int, int]) -> list[str]:
    import pandas as pd

    lines = [
        "",
        "To load the blocks, move them into the data folder of the Prometheus that evaluates the rules",
        "(its --storage.tsdb.path, e.g. /var/lib/prometheus/metrics2 on Debian):",
        f"  mv {result.out_dir}/01* <storage.tsdb.path>/",
        "Prometheus picks them up at its next block reload (within a minute) and merges overlapping blocks at",
        f"its next compaction. Prometheus {overlap[0]}.{overlap[1]} or later accepts overlapping blocks as they are;",
        "2.27 to 2.38 must run with --storage.tsdb.allow-overlapping-blocks. Once compacted, the data cannot be",
        "taken out again: check the blocks first (promtool tsdb list, or a test Prometheus on a copy).",
    ]
    if facts.version is not None and facts.version[:2] < overlap:
        lines.append(
            f"The source runs Prometheus {'.'.join(map(str, facts.version))}: start it with "
            "--storage.tsdb.allow-overlapping-blocks before moving the blocks in."
        )
    oldest = result.total.min_time
    if facts.retention is not None and oldest is not None:
        cutoff = pd.Timestamp.now(tz="UTC") - facts.retention
        if oldest < cutoff:
            lines.append(
                f"The source keeps {facts.retention.days} days (--storage.tsdb.retention.time): blocks that end "
                f"before {cutoff:%Y-%m-%d %H:%M} UTC are deleted as soon as they are loaded."
            )
    return lines
