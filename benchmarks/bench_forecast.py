"""Benchmark: Monte Carlo error-budget forecast (srekit.analysis.forecast). Goal (docs/forecast.md,
"Performance"): 10,000 simulated windows in ≤ 2 s."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from srekit.analysis.forecast.analyze import forecast_budget
from srekit.analysis.forecast.model import DEFAULT_WHAT_IFS, BurnModel
from srekit.analysis.forecast.simulate import simulate

GOAL_S = 2.0
REPEATS = 7
SAMPLES = Path(__file__).resolve().parents[1] / "data" / "samples" / "service.yaml"


def _median(fn: Callable[[], object], repeats: int = REPEATS) -> float:
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def _model(incidents: int, history_days: float) -> BurnModel:
    rng = np.random.default_rng(0)
    k = max(incidents, 1)
    return BurnModel(
        slo="bench",
        window_days=28,
        budget_minutes=40.32,
        incidents=incidents,
        history_days=history_days,
        durations_minutes=tuple(rng.lognormal(3.5, 1.0, k)),
        intensities=tuple(rng.beta(2, 5, k)),
        background_daily=tuple(rng.gamma(4, 0.1, int(history_days))),
    )


def main() -> str:
    rows = []
    for label, inc, hist in (
        ("typical: 8 incidents in 90 days", 8, 90.0),
        ("busy: 180 incidents in 90 days (2/day)", 180, 90.0),
    ):
        m = _model(inc, hist)
        t = _median(lambda m=m: simulate(m, rng=np.random.default_rng(1), runs=10_000, what_ifs=DEFAULT_WHAT_IFS))
        rows.append((f"simulate 10,000 × 28-day windows + 3 what-ifs, {label}", t, t <= GOAL_S))
    if SAMPLES.exists():
        from srekit.core.spec import SLOSpec
        from srekit.inputs.config import load_config
        from srekit.inputs.loaders import load_inputs

        cfg = load_config(SAMPLES)
        inp = load_inputs(cfg)
        spec = (SLOSpec("checkout-availability", "checkout", "availability", 0.999),)
        t = _median(
            lambda: forecast_budget(inp.telemetry, inp.incidents, spec, cfg, rng=np.random.default_rng(1)), repeats=5
        )
        rows.append(
            (
                "forecast_budget end to end on the samples (fit on 90 days of 1-min telemetry + 10,000 runs), one SLO",
                t,
                t <= GOAL_S,
            )
        )
    lines = [
        "## Forecast (srekit.analysis.forecast)",
        "",
        f"Goal: 10,000 simulated SLO windows in ≤ {GOAL_S:g} s. Median of {REPEATS} runs (5 for the end-to-end row).",
        "",
        "| what | median (s) | goal met |",
        "|---|---:|---|",
    ]
    lines += [f"| {what} | {t:.3f} | {'yes' if ok else 'no'} |" for what, t, ok in rows]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    print(main())
