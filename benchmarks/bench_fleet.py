"""`srekit fleet report` on sample fleets of 3-journey, 90-day services: wall time against the
sum of the single-service times ÷ cores, and the parent's peak RSS.

Each service is first rendered alone on one core (a fleet of one, ``--jobs 1``, pinned with
``taskset -c 0``: its time is its work), then fleets of N services with ``--jobs`` = cores, so
"sum of single-service times ÷ cores" is perfect scaling. The single-service times are measured
for every service of the measured fleets. Sizes: ``SREKIT_BENCH_FLEET_SIZES`` (default
``5,10,20``); ``SREKIT_BENCH_FLEET_LARGE`` (default 50, 0 to skip) runs one more fleet whose
single-service sum is *estimated* from the measured services' mean (said so in the table).
"""

from __future__ import annotations

import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

DAYS = 90
CORES = os.cpu_count() or 1
SIZES = tuple(int(s) for s in os.environ.get("SREKIT_BENCH_FLEET_SIZES", "5,10,20").split(","))
LARGE = int(os.environ.get("SREKIT_BENCH_FLEET_LARGE", "50"))
TASKSET = shutil.which("taskset")
#: Runs ``srekit fleet report`` in this process and prints its own peak RSS (the children's not included).
_PARENT = """
import resource, sys
from srekit.cli import main
code = main(sys.argv[1:])
print("PEAK_RSS_KB", resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, file=sys.stderr)
sys.exit(code)
"""


def _fleet(root: Path, n: int) -> Path:
    done = subprocess.run(
        [sys.executable, "-m", "srekit.cli", "samples", "--fleet", str(n), "--days", str(DAYS), "--out", str(root)],
        capture_output=True,
        text=True,
        check=True,
    )
    assert done.returncode == 0
    return root / "fleet.yaml"


def _subset(config: Path, files: list[Path], name: str) -> Path:
    """A fleet file with the sample fleet's defaults listing only ``files``."""
    doc = yaml.safe_load(config.read_text())
    by_team = {f: f.parent.parent.name for f in files}
    doc["services"] = [{"path": str(f.relative_to(config.parent)), "team": t} for f, t in by_team.items()]
    out = config.parent / f"{name}.yaml"
    out.write_text(yaml.safe_dump(doc, sort_keys=False))
    return out


def _cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def _run(config: Path, out: Path, jobs: int, *, one_core: bool = False) -> tuple[float, float, float]:
    """Wall seconds, parent peak RSS (MB) and CPU seconds of the whole process tree of one fleet run."""
    pin = [TASKSET, "-c", "0"] if one_core and TASKSET else []
    c0 = _cpu()
    t0 = time.perf_counter()
    done = subprocess.run(
        [
            *pin,
            sys.executable,
            "-c",
            _PARENT,
            "fleet",
            "report",
            "--config",
            str(config),
            "--out",
            str(out),
            "--jobs",
            str(jobs),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    wall = time.perf_counter() - t0
    rss = next((int(line.split()[1]) for line in done.stderr.splitlines() if line.startswith("PEAK_RSS_KB")), 0)
    if done.returncode != 0:
        raise RuntimeError(f"fleet run failed ({done.returncode}): {done.stderr[-2000:]}")
    return wall, rss / 1024, _cpu() - c0


def main() -> str:
    with tempfile.TemporaryDirectory(prefix="srekit-bench-fleet-") as tmp:
        root = Path(tmp)
        t0 = time.perf_counter()
        config = _fleet(root / "fleet", max(*SIZES, LARGE))
        gen_s = time.perf_counter() - t0
        files = sorted((root / "fleet").glob("*/*/service.yaml"), key=lambda p: p.parent.name)
        index = {p.parent.name: i for i, p in enumerate(files)}
        truth = json.loads((root / "fleet" / "ground_truth.json").read_text())
        order = [s["service"] for s in truth["services"]] if "services" in truth else sorted(index)
        files = [files[index[name]] for name in order if name in index]
        load0 = os.getloadavg()[0]
        singles: list[float] = []
        cpus: list[float] = []
        for i, f in enumerate(files[: max(SIZES)]):
            one = _subset(config, [f], f"one-{i}")
            wall, _, cpu = _run(one, root / f"single-{i}", 1, one_core=True)
            singles.append(wall)
            cpus.append(cpu)
        rows = []
        fleet_cpu = []
        for n in SIZES:
            sub = _subset(config, files[:n], f"fleet-{n}")
            wall, rss, cpu = _run(sub, root / f"out-{n}", CORES)
            fleet_cpu.append((n, cpu, sum(cpus[:n])))
            ideal = sum(singles[:n]) / CORES
            rows.append((n, wall, sum(singles[:n]), ideal, wall / ideal, rss))
        large = None
        if max(SIZES) < LARGE:
            sub = _subset(config, files[:LARGE], f"fleet-{LARGE}")
            wall, rss, cpu = _run(sub, root / f"out-{LARGE}", CORES)
            fleet_cpu.append((LARGE, cpu, sum(cpus) / len(cpus) * LARGE))
            est = sum(singles) / len(singles) * LARGE
            large = (LARGE, wall, est, est / CORES, wall / (est / CORES), rss)
        load1 = os.getloadavg()[0]
    return _section(rows, singles, gen_s, large) + _cpu_note(fleet_cpu, (load0, load1))


def _cpu_note(fleet_cpu: list[tuple[int, float, float]], loads: tuple[float, float]) -> str:
    parts = ", ".join(f"{n}: {cpu:.0f} s against {single:.0f} s ({cpu / single:.2f})" for n, cpu, single in fleet_cpu)
    return (
        f"\nCPU time of the whole process tree, fleet run against the sum of its services run alone (the "
        f"largest fleet's sum estimated as above): {parts}. Load average (1 min) {loads[0]:.1f} before, "
        f"{loads[1]:.1f} after, on {CORES} cores shared with other work: with a load above the core count the "
        "wall times measure the machine's other work as much as srekit; the CPU times show whether the fleet "
        "run does more work than its services alone.\n"
    )


Row = tuple[int, float, float, float, float, float]


def _section(rows: list[Row], singles: list[float], gen_s: float, large: Row | None = None) -> str:
    lines = [
        "## Fleet (`srekit fleet report`)",
        "",
        f"Sample fleets from `srekit samples --fleet N --days {DAYS}` (3 journeys, {DAYS} days of 1-minute telemetry, "
        "incidents, pages, toil and deploys per service). Single-service time: the service as a fleet of one with "
        f"`--jobs 1` pinned to one core (`taskset -c 0`), measured for each service; fleet time: `--jobs {CORES}`. "
        "Peak RSS is the parent's own (`getrusage(RUSAGE_SELF)`: the pool's processes are not included). One run "
        "each, on 2 cores shared with other work: wall times are noisy.",
        "",
        "| services | fleet wall s | sum of single-service s | sum ÷ cores s | wall ÷ (sum ÷ cores) "
        "| parent peak RSS MB |",
        "|---:|---:|---:|---:|---:|---:|",
    ]
    for n, wall, total, ideal, ratio, rss in rows:
        lines.append(f"| {n} | {wall:.1f} | {total:.1f} | {ideal:.1f} | {ratio:.2f} | {rss:.0f} |")
    if large is not None:
        n, wall, total, ideal, ratio, rss = large
        lines.append(f"| {n} | {wall:.1f} | ≈ {total:.0f} (estimated) | ≈ {ideal:.0f} | ≈ {ratio:.2f} | {rss:.0f} |")
    measured = [*rows, *([large] if large else [])]
    per = [w / n for n, w, *_ in measured]
    small, big = measured[0], measured[-1]
    growth = (big[1] / small[1]) / (big[0] / small[0])
    est50 = per[-1] * 50
    lines += [
        "",
        f"Single-service wall times: median {sorted(singles)[len(singles) // 2]:.1f} s, min {min(singles):.1f} s, "
        f"max {max(singles):.1f} s over {len(singles)} services; generating the samples took {gen_s:.0f} s.",
        f"Growth from {small[0]} to {big[0]} services: wall × {big[1] / small[1]:.2f} for × {big[0] / small[0]:.0f} "
        f"services ({growth:.2f} of linear); {per[-1]:.1f} s per service at {big[0]}.",
        *(
            []
            if large
            else [
                f"50 services (not run here): about {est50 / 60:.0f} min by extrapolating the per-service time at "
                f"{big[0]} linearly (the run is a queue of independent services; the parent holds only the rows)."
            ]
        ),
        "",
        "Goals: wall ≤ 1.2 × (sum ÷ cores): "
        + ", ".join(
            f"{n}: {ratio:.2f} → **{'met' if ratio <= 1.2 else 'not met'}**" for n, _, _, _, ratio, _ in measured
        )
        + "; parent peak RSS ≤ 1 GB: "
        + ", ".join(f"{n}: {rss:.0f} MB → **{'met' if rss <= 1024 else 'not met'}**" for n, *_, rss in measured)
        + ".",
    ]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    print(main())
