"""Benchmark of the interactive explorer (notebook 07, ``srekit.report.explore``).

Workload: ``srekit samples`` for 90 and for 365 days (3 journeys at 1-minute resolution, 25
bucket edges, a 5-minute gauge series, incidents and pages; written once to benchmarks/out/).
For each, the explorer is built from the service.yaml (inputs loaded, SLOs proposed, history
prepared: reported once), then its widgets are changed one value at a time, as a user does:

* objective: the slider dragged step by step over the nines ladder (98.5 % … 99.99 %);
* threshold: the latency slider moved over the histogram's edges (a new SLI view each time);
* window: rolling 7 / 28 / 30 days and the calendar month in turn;
* on-call: 24x7 and nobody on call in turn;
* journey, SLI kind, range: each change with the SLI views forgotten first, so every one of
  them prepares a new view (the cost of a first visit; revisits are cheaper).

Measured: wall time from setting the widget's value to the outputs being updated (the observer
runs in the setter; in-process, no browser), and the CPU time of the same (the machine is
shared: wall time includes other work). Goal: median ≤ 150 ms per change for 90 days and
≤ 400 ms for 365 days, for every kind of change.
"""

from __future__ import annotations

import datetime as dt
import os
import statistics
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from srekit.inputs.samples import write_samples
from srekit.report.explore import Explorer, explorer

OUT = Path(__file__).resolve().parent / "out" / "explore"
GOALS_MS = {90: 150.0, 365: 400.0}


def _samples(days: int) -> Path:
    folder = OUT / f"samples_{days}d"
    done = folder / ".complete"
    if not done.exists():
        write_samples(folder, days=days)
        done.write_text("ok\n")
    return folder / "service.yaml"


def _measure(
    ex: Explorer, values: Sequence[Any], change: Callable[[Any], None], *, cold: bool = False
) -> dict[str, Any]:
    """Wall and CPU milliseconds of each change (``cold``: SLI views forgotten before each)."""
    wall, cpu = [], []
    for v in values:
        if cold:
            ex._views.clear()
            ex._distributions.clear()
        t, c = time.perf_counter(), time.process_time()
        change(v)
        wall.append((time.perf_counter() - t) * 1000)
        cpu.append((time.process_time() - c) * 1000)
        if ex.error is not None:
            raise AssertionError(f"explorer error during the benchmark: {ex.error}")
    return {
        "n": len(values),
        "median": statistics.median(wall),
        "p90": float(np.quantile(wall, 0.9)),
        "max": max(wall),
        "cpu": statistics.median(cpu),
    }


def _set(w: Any) -> Callable[[Any], None]:
    return lambda v: setattr(w, "value", v)


def _kinds(ex: Explorer) -> dict[str, dict[str, Any]]:
    c = ex.controls
    ladder = [v for _, v in c.objective.options if 0.985 <= v <= 0.9999]
    start = c.start.value
    out = {"objective (drag)": _measure(ex, ladder, _set(c.objective))}
    windows = [v for _, v in c.window.options]
    out["window"] = _measure(ex, windows * 5, _set(c.window))
    coverages = [v for _, v in c.coverage.options][:2]
    out["on-call coverage"] = _measure(ex, coverages * 10, _set(c.coverage))
    journeys = list(c.journey.options)
    out["journey (new view)"] = _measure(ex, (journeys[1:] + journeys[:1]) * 5, _set(c.journey), cold=True)
    out["SLI kind (new view)"] = _measure(ex, ["latency", "availability"] * 8, _set(c.kind), cold=True)
    shifts = [start + dt.timedelta(days=d) for d in range(1, 25, 2)]
    out["range start (new view)"] = _measure(ex, shifts, _set(c.start), cold=True)
    c.start.value = start
    c.kind.value = "latency"
    edges = [v for _, v in c.threshold.options if 100 <= v <= 5000]
    out["threshold (new view)"] = _measure(ex, edges * 2, _set(c.threshold))
    return out


def _load() -> str:
    try:
        return "/".join(f"{x:.1f}" for x in os.getloadavg())
    except OSError:
        return "n/a"


def _run(days: int) -> tuple[float, dict[str, dict[str, Any]], int]:
    config = _samples(days)
    t = time.perf_counter()
    ex = explorer(config)
    built = time.perf_counter() - t
    rows = sum(len(g.total) for g in ex.history.grids.values())
    return built, _kinds(ex), rows


def main() -> str:
    load_before = _load()
    results = {days: _run(days) for days in GOALS_MS}
    load_after = _load()
    lines = [
        "## Explorer (notebook 07): time per change",
        "",
        "Wall time from setting a widget's value to the outputs being updated (in-process, no browser), "
        "`srekit samples` data at 1-minute resolution; medians over the changes of each kind (n), with p90, "
        "max and the median CPU time (the machine is shared). Journey, SLI kind and range changes are measured "
        "with the SLI views forgotten before each change (every one prepares a new view); objective, window "
        "and on-call changes reuse the view, as they do in use. "
        f"Load average (1/5/15 min) {load_before} before, {load_after} after.",
        "",
        "| history | change | n | median ms | p90 ms | max ms | CPU ms (median) | goal | result |",
        "|---|---|---:|---:|---:|---:|---:|---:|---|",
    ]
    verdicts = []
    for days, (_, kinds, _) in results.items():
        goal = GOALS_MS[days]
        for kind, m in kinds.items():
            ok = m["median"] <= goal
            verdicts.append(ok)
            lines.append(
                f"| {days} days | {kind} | {m['n']} | {m['median']:.0f} | {m['p90']:.0f} | {m['max']:.0f} | "
                f"{m['cpu']:.0f} | ≤ {goal:.0f} | {'met' if ok else 'NOT met'} |"
            )
    lines.append("")
    for days, (built, _, rows) in results.items():
        lines.append(
            f"- {days} days ({rows:,} journey-minutes): `explorer(config)` (load inputs, propose the SLOs in "
            f"force, prepare the grids, first update) {built:.1f} s, once per notebook."
        )
    lines.append(f"- Every goal {'met' if all(verdicts) else 'NOT met'}.")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    pd.set_option("display.width", 160)
    print(main())
