"""Benchmark of SLO proposals and error budgets (docs/slo.md, "Performance").

Workload: 10 journeys × 90 days at 1-minute resolution (1,296,000 telemetry rows) with 25
bucket edges (5 ms … 30 s, a Prometheus-style ladder), Poisson traffic and multinomial bucket
counts from a lognormal latency. Measured: ``propose_slos`` (SLIs, threshold proposals with
999-resample bootstrap intervals for 4 targets, options over 63 rolling 28-day windows; no
journeys configured, so the top 3 by traffic are analysed), ``propose_slos`` with all 10
journeys configured as critical, and ``budget_policy`` for the 20 SLOs of the latter (budgets,
burn rates, burn-down and hourly burn-rate history). Goal: all proposals and budgets for 10
journeys ≤ 2 s (median of 5 runs). Wall time is the goal's measure; CPU time is reported too
because the machine is shared.
"""

from __future__ import annotations

import os
import statistics
import time

import numpy as np
import pandas as pd

from srekit.analysis.budget import budget_policy
from srekit.analysis.slo.propose import propose_slos
from srekit.inputs import telemetry as tm
from srekit.inputs.config import parse_config

RUNS = 5
JOURNEYS = 10
DAYS = 90
EDGES = (
    5,
    10,
    25,
    50,
    75,
    100,
    150,
    200,
    250,
    300,
    400,
    500,
    750,
    1000,
    1500,
    2000,
    2500,
    3000,
    4000,
    5000,
    7500,
    10000,
    15000,
    20000,
    30000,
)
GOAL_S = 2.0


def workload(seed: int = 1) -> pd.DataFrame:
    """10 journeys × 90 days × 1 min of aggregated telemetry (deterministic)."""
    from scipy import stats

    rng = np.random.default_rng(seed)
    idx = pd.date_range("2026-01-01", periods=DAYS * 1440, freq="1min", tz="UTC")
    edges = np.asarray(EDGES, dtype=float)
    parts = []
    for j in range(JOURNEYS):
        n = rng.poisson(20 + 10 * j, len(idx))
        cdf = stats.lognorm(s=0.6 + 0.05 * j, scale=60.0 + 30 * j).cdf(edges)
        probs = np.diff(np.concatenate([[0.0], cdf, [1.0]]))
        counts = rng.multinomial(n, probs)
        le = np.cumsum(counts[:, :-1], axis=1)
        frame = pd.DataFrame(le, columns=[tm.edge_label(e) for e in edges])
        frame.insert(0, "errors", rng.binomial(n, 0.0005 * (1 + j % 3)))
        frame.insert(0, "total", n)
        frame.insert(0, "interval_start", idx)
        frame.insert(0, "journey", f"journey-{j:02d}")
        parts.append(frame)
    return tm.canonical(pd.concat(parts, ignore_index=True))


def _time(fn) -> tuple[float, float]:  # type: ignore[no-untyped-def]
    t0, c0 = time.perf_counter(), time.process_time()
    fn()
    return time.perf_counter() - t0, time.process_time() - c0


def main() -> str:
    tel = workload()
    top3 = parse_config({"service": "bench", "data": {"telemetry": "t.parquet"}})
    all10 = parse_config(
        {
            "service": "bench",
            "data": {"telemetry": "t.parquet"},
            "journeys": [{"name": f"journey-{j:02d}"} for j in range(JOURNEYS)],
        }
    )
    specs = propose_slos(tel, None, all10).specs
    cases = {
        "propose_slos, top 3 journeys": lambda: propose_slos(tel, None, top3),
        "propose_slos, 10 critical journeys": lambda: propose_slos(tel, None, all10),
        f"budget_policy, {len(specs)} SLOs": lambda: budget_policy(tel, None, specs, all10),
        "both (10 journeys: proposals + budgets)": lambda: budget_policy(
            tel, None, propose_slos(tel, None, all10).specs, all10
        ),
    }
    results: dict[str, tuple[float, float]] = {}
    for name, fn in cases.items():
        runs = [_time(fn) for _ in range(RUNS)]
        results[name] = (statistics.median(r[0] for r in runs), statistics.median(r[1] for r in runs))
    total = results["both (10 journeys: proposals + budgets)"][0]
    rows = "\n".join(f"| {k} | {w:.2f} | {c:.2f} |" for k, (w, c) in results.items())
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    return (
        "## SLO proposals and error budgets (bench_slo)\n\n"
        f"{len(tel):,} telemetry rows: {JOURNEYS} journeys × {DAYS} days × 1 min, {len(EDGES)} bucket edges "
        f"({EDGES[0]} ms … {EDGES[-1]} ms). Median of {RUNS} runs; load average at the end {load:.1f}.\n\n"
        "| step | wall s | CPU s |\n|---|---:|---:|\n" + rows + "\n\n"
        f"Goal: all proposals and budgets for 10 journeys ≤ {GOAL_S:g} s → "
        f"{total:.2f} s, **{'met' if total <= GOAL_S else 'not met'}**.\n"
    )


if __name__ == "__main__":
    print(main())
