"""Benchmark of `srekit analyze` on long, wide telemetry (issue 13; goals in benchmarks/RESULTS.md).

Workloads (generated deterministically, cached in ``$SREKIT_BENCH_CACHE``, default
``<tempdir>/srekit-bench-analyze``): aggregated telemetry at 1-minute resolution over 90 days,

* 20 journeys × 140 bucket edges (the default edges of ``srekit aggregate``): 2,592,000 rows;
  goal ≤ 10 s and ≤ 1.5 GB peak RSS;
* 20 journeys × 11 edges (the same history, coarse buckets), for the growth against edges;
* 200 journeys × 24 edges: 25,920,000 rows; goal ≤ 60 s and ≤ 2 GB.

Each in the wide layout and (20 × 140, 200 × 24) in the sparse one ``srekit aggregate`` writes by
default (``srekit.inputs.sparse_telemetry``), from the same draws: the same counts; and (20 × 140,
200 × 24) the wide file's rows shuffled, and (20 × 140) shuffled with 1,000 rows repeated
(overlapping exports), or its 20 series as 5 journeys × 4 regions (a labelled file, as
``srekit aggregate --by region`` writes), as pyarrow writes a table (128 Ki-row groups here).
And ``data.requests``: the 10 M-request, 90-day, 30-journey shuffled log of bench_aggregate.py,
aggregated in the run.

Poisson traffic with a daily cycle, bucket counts multinomial from a lognormal latency per
journey, errors binomial; journeys named ``journey-000`` …; ``service.yaml`` names the telemetry
and a 28-day window only, as a new user's first run (the analysis proposes SLOs for the top
journeys by traffic; overview, incidents and forecast read every journey), and for 200 × 24 also
every journey (an availability and a latency SLO each: 400 SLOs).

Each case runs ``srekit analyze --config service.yaml --out DIR`` as a whole process from a
small parent (peak RSS from ``os.wait4``, see bench_aggregate.SPAWN), medians of
``SREKIT_BENCH_RUNS`` (default 3) runs; ``SREKIT_BENCH_BEFORE`` adds the same command run from
another srekit source tree, interleaved (one that reads the sparse layout: 7574458 or later), on cases
up to ``SREKIT_BENCH_BEFORE_CELLS`` journeys × edges. ``SREKIT_BENCH_CASES``
(``journeys:edges[:layout[:named]],...``, e.g. ``200:24:sparse:all``) narrows a run.
"""

from __future__ import annotations

import importlib.util
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

CACHE = Path(os.environ.get("SREKIT_BENCH_CACHE", Path(tempfile.gettempdir()) / "srekit-bench-analyze"))
RUNS = int(os.environ.get("SREKIT_BENCH_RUNS", "3"))
BEFORE = os.environ.get("SREKIT_BENCH_BEFORE")
DAYS = 90
T0_US = int(np.datetime64("2026-01-01T00:00:00", "us").astype(np.int64))
CLI = "import sys; from srekit.cli import main; sys.exit(main())"
#: (journeys, edges, file layout, goal seconds, goal peak RSS MB, journeys named in service.yaml):
#: the wide file, and the sparse one ``srekit aggregate`` writes by default (the same counts); no
#: journey named (the analysis picks the critical ones), or every journey with the two SLOs the
#: analysis proposes (a team that configured all of them: 400 SLOs on 200 journeys)
CASES = [
    (20, 140, "wide", 10.0, 1500.0, "none"),
    (20, 140, "sparse", 10.0, 1500.0, "none"),
    (20, 11, "wide", None, None, "none"),
    (200, 24, "wide", 60.0, 2000.0, "none"),
    (200, 24, "sparse", 60.0, 2000.0, "none"),
    (200, 24, "sparse", None, None, "all"),
    (20, 140, "shuffled", 10.0, 1500.0, "none"),
    (200, 24, "shuffled", 60.0, 2000.0, "none"),
    (20, 140, "repeats", 10.0, 1500.0, "none"),
    (20, 140, "labelled", None, None, "none"),
    (30, 140, "requests", None, None, "none"),
]
#: Derived from the wide file: its rows shuffled (an export in no order), or those and 1,000 of
#: them again (overlapping exports: repeated keys, summed on load), or its 20 series as 5
#: journeys × 4 regions (``srekit aggregate --by region``); written in 128 Ki-row groups.
DERIVED = ("shuffled", "repeats", "labelled")
#: "requests": no telemetry file, `data.requests` names the 10 M-request, 90-day, 30-journey
#: shuffled log of ``bench_aggregate.py`` (aggregated in the run).
REGIONS = ("us-east-1", "eu-west-1", "ap-south-1", "sa-east-1")
#: The "before" tree runs on cases of at most this many journeys × edges (``SREKIT_BENCH_BEFORE_CELLS``):
#: an older tree may not fit beside other work on a shared machine (8997e11 held the telemetry
#: twice while loading: 20 × 140 peaked at 6.8 GB, 200 × 24 would need ≈ 11 GB).
#: What the table says of the journeys named in service.yaml.
NAMED = {"none": "", "all": ", every journey named (400 SLOs)"}
BEFORE_CELLS = int(os.environ.get("SREKIT_BENCH_BEFORE_CELLS", str(20 * 140)))


def _bench_aggregate() -> Any:
    spec = importlib.util.spec_from_file_location(
        "bench_aggregate_spawn", Path(__file__).with_name("bench_aggregate.py")
    )
    assert spec and spec.loader
    mod = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = mod
    spec.loader.exec_module(mod)
    return mod


def _spawn() -> str:
    return str(_bench_aggregate().SPAWN)


def edges_for(n: int) -> np.ndarray:
    """``n`` edges: the default 140 of ``srekit aggregate``, or ``n`` of them spread evenly."""
    from srekit.inputs.telemetry import DEFAULT_EDGES_MS

    full = np.asarray(DEFAULT_EDGES_MS, dtype=float)
    return full if n >= full.size else full[np.linspace(0, full.size - 1, n).round().astype(int)]


def derive(folder: Path, wide: Path, layout: str) -> None:
    """telemetry.parquet of ``layout`` (:data:`DERIVED`) from the wide file ``wide``."""
    table = pq.read_table(wide)
    rng = np.random.default_rng(7)
    if layout == "labelled":  # journey-013 → journey-003 in sa-east-1: the rows in the file's order
        number = np.array([int(j.rsplit("-", 1)[1]) for j in table["journey"].to_pylist()])
        at = table.schema.get_field_index("journey")
        table = table.set_column(at, "journey", pa.array([f"journey-{k:03d}" for k in number // 4]))
        table = table.add_column(at + 1, "region", pa.array(np.array(REGIONS)[number % 4]))
    else:
        table = table.take(rng.permutation(table.num_rows))
    if layout == "repeats":
        table = pa.concat_tables([table, table.take(rng.choice(table.num_rows, 1000, replace=False))])
    folder.mkdir(parents=True, exist_ok=True)
    pq.write_table(table, folder / "telemetry.parquet.part", row_group_size=1 << 17)
    (folder / "telemetry.parquet.part").replace(folder / "telemetry.parquet")


def generate(folder: Path, journeys: int, n_edges: int, layout: str = "wide", seed: int = 13) -> Path:
    """telemetry.parquet + service.yaml for ``journeys`` × 90 days × 1 min × ``n_edges``, in the
    wide layout or the sparse one ``srekit aggregate`` writes (the same draws: the same counts)."""
    from scipy import special

    from srekit.inputs import sparse_telemetry as st
    from srekit.inputs import telemetry as tm

    rng = np.random.default_rng([seed, journeys, n_edges])
    edges = edges_for(n_edges)
    minutes = DAYS * 1440
    stamps = pa.array(T0_US + np.arange(minutes, dtype=np.int64) * 60_000_000, type=pa.timestamp("us", tz="UTC"))
    daily = 1 + 0.6 * np.sin(np.arange(minutes) * 2 * np.pi / 1440)
    schema = pa.Schema.from_pandas(tm.empty(tuple(edges)), preserve_index=False)
    if layout == "sparse":
        schema = st.schema(schema, tuple(edges), pa.uint32())
    folder.mkdir(parents=True, exist_ok=True)
    part = folder / "telemetry.parquet.part"
    with pq.ParquetWriter(part, schema) as writer:
        for j in range(journeys):
            rate = 200.0 / (1 + j) ** 0.8
            total = rng.poisson(rate * daily)
            mu, sigma = np.log(40 + 15 * (j % 7)), 0.5 + 0.05 * (j % 5)
            cdf = special.ndtr((np.log(edges) - mu) / sigma)
            probs = np.diff(np.concatenate([[0.0], cdf, [1.0]]))
            counts = rng.multinomial(total, probs)
            errors = rng.binomial(total, 0.0008 * (1 + j % 3))
            cols = [pa.array([f"journey-{j:03d}"] * minutes, type=schema.field("journey").type), stamps]
            if layout == "sparse":
                rows, slots = np.nonzero(counts)
                cols += [pa.array(total.astype(np.uint32)), pa.array(errors.astype(np.uint32))]
                items = counts[rows, slots].astype(np.uint32)
                cols.append(st.buckets_array(rows, slots, items, minutes, np.r_[edges, np.inf]))
            else:
                le = np.cumsum(counts[:, :-1], axis=1)
                cols += [pa.array(total.astype(np.int64)), pa.array(errors.astype(np.int64))]
                cols += [pa.array(le[:, k].astype(np.int64)) for k in range(edges.size)]
            writer.write_table(pa.Table.from_arrays(cols, schema=schema))
    part.replace(folder / "telemetry.parquet")
    return folder / "service.yaml"


def config(journeys: int, n_edges: int, layout: str = "wide", named: str = "none") -> Path:
    folder = (
        CACHE / f"tel_{journeys}j_{n_edges}e_{DAYS}d"
        if layout == "wide"
        else CACHE / f"tel_{journeys}j_{n_edges}e_{DAYS}d_{layout}"
    )
    data = "telemetry.parquet"
    if layout == "requests":
        agg = _bench_aggregate()
        shape = agg.Shape(10 * agg.M, DAYS, journeys, "shuffled")
        folder.mkdir(parents=True, exist_ok=True)
        if not (folder / shape.name).exists():
            agg.generate(folder / shape.name, shape)
        data = shape.name
    elif not (folder / "telemetry.parquet").exists():
        if layout in DERIVED:
            derive(folder, config(journeys, n_edges).parent / "telemetry.parquet", layout)
        else:
            generate(folder, journeys, n_edges, layout)
    kind = "requests" if layout == "requests" else "telemetry"
    text = f"service: bench\ndata:\n  {kind}: {data}\nslo:\n  window: 28d\n"
    if named == "all":  # every journey critical: an availability and a latency SLO each, as proposed
        text += "journeys:\n" + "".join(f"  - name: journey-{j:03d}\n" for j in range(journeys))
    cfg = folder / ("service.yaml" if named == "none" else f"service_{named}.yaml")
    cfg.write_text(text)
    return cfg


def measure(spawn: str, argv: list[str], env: dict[str, str] | None = None) -> dict[str, float]:
    done = subprocess.run([sys.executable, "-c", spawn, *argv], capture_output=True, text=True, env=env)
    lines = done.stdout.strip().splitlines()
    got = json.loads(lines[-1]) if lines else {"code": -1}
    if done.returncode or got["code"]:
        raise RuntimeError(f"{argv[:4]} failed ({got.get('code')}):\n{done.stderr[-3000:]}")
    return {k: float(got[k]) for k in ("wall", "cpu", "rss")}


def _report(folder: Path) -> object:
    """report.json without its ``generated_at`` stamps (the clock of the run)."""

    def strip(x: object) -> object:
        if isinstance(x, dict):
            return {k: strip(v) for k, v in x.items() if k != "generated_at"}
        return [strip(v) for v in x] if isinstance(x, list) else x

    return strip(json.loads((folder / "report.json").read_text()))


def _cases() -> list[tuple[int, int, str, float | None, float | None, str]]:
    text = os.environ.get("SREKIT_BENCH_CASES")  # journeys:edges[:layout[:named]],...
    if not text:
        return list(CASES)
    wanted = [part.split(":") for part in text.split(",")]
    key = lambda c: [str(c[0]), str(c[1]), c[2], c[5]]  # noqa: E731
    return [c for c in CASES if any(key(c)[: len(w)] == w for w in wanted)]


def run_case(spawn: str, journeys: int, n_edges: int, layout: str, named: str, out: Path) -> dict[str, object]:
    cfg = config(journeys, n_edges, layout, named)
    srekit = str(Path(sys.executable).with_name("srekit"))
    plan = {"srekit": ([srekit, "analyze", "--config", str(cfg), "--out", str(out / "a")], None)}
    if BEFORE and journeys * n_edges <= BEFORE_CELLS:
        argv = [sys.executable, "-P", "-c", CLI, "analyze", "--config", str(cfg), "--out", str(out / "b")]
        plan["before"] = (argv, dict(os.environ, PYTHONPATH=BEFORE))
    runs: dict[str, list[dict[str, float]]] = {k: [] for k in plan}
    load = [os.getloadavg()[0]]
    for _ in range(RUNS):
        for name, (argv, env) in plan.items():
            runs[name].append(measure(spawn, argv, env))
    load.append(os.getloadavg()[0])
    same = None
    if "before" in plan:
        same = _report(out / "a") == _report(out / "b")
    med = {k: {m: statistics.median(r[m] for r in rs) for m in ("wall", "cpu", "rss")} for k, rs in runs.items()}
    return {"median": med, "runs": runs, "load": load, "same": same}


def _what(journeys: int, n_edges: int, layout: str) -> str:
    """The table's name of a case."""
    if layout == "requests":
        return f"`data.requests`: 10 M requests, {journeys} journeys, shuffled ({n_edges} edges, aggregated in the run)"
    if layout == "labelled":
        return f"{journeys // len(REGIONS)} journeys × {len(REGIONS)} regions × {n_edges} edges, labelled wide file"
    return f"{journeys} journeys × {n_edges} edges, {layout} file"


def main() -> str:
    t0 = time.perf_counter()
    spawn = _spawn()
    lines = [
        "## Analysis at scale (`srekit analyze`, as a whole process)",
        "",
        f"Aggregated telemetry, 90 days at 1 minute, `service.yaml` naming no journey; medians of {RUNS} runs, "
        "each run a whole process (peak RSS from `os.wait4` in a small parent).",
        "",
        "| telemetry | rows | srekit: wall s / CPU s / peak RSS MB | before | goal | met | same report.json "
        "| load (1 min) | srekit wall s, all runs |",
        "|---|---:|---:|---:|---|---|---|---|---|",
    ]
    with tempfile.TemporaryDirectory(prefix="srekit-bench-analyze-") as tmp:
        for journeys, n_edges, layout, goal_s, goal_mb, named in _cases():
            r = run_case(spawn, journeys, n_edges, layout, named, Path(tmp))
            med, runs, load = r["median"], r["runs"], r["load"]
            assert isinstance(med, dict) and isinstance(runs, dict) and isinstance(load, list)
            s, b = med["srekit"], med.get("before")
            cell = lambda m: f"{m['wall']:.1f} / {m['cpu']:.1f} / {m['rss']:.0f}" if m else "–"  # noqa: E731
            goal = f"≤ {goal_s:g} s, ≤ {goal_mb:g} MB" if goal_s and goal_mb else "–"
            met = (
                "–"
                if not goal_s or not goal_mb
                else ("yes" if s["wall"] <= goal_s and s["rss"] <= goal_mb else "**no**")
            )
            same = "–" if r["same"] is None else ("yes" if r["same"] else "**no**")
            walls = ", ".join(f"{x['wall']:.1f}" for x in runs["srekit"])
            lines.append(
                f"| {_what(journeys, n_edges, layout)}{NAMED[named]} "
                f"| {'10,000,000 requests' if layout == 'requests' else f'{journeys * DAYS * 1440:,}'} "
                f"| {cell(s)} "
                f"| {cell(b)} | {goal} | {met} | {same} | {load[0]:.1f}–{load[1]:.1f} | {walls} |"
            )
            print(lines[-1], flush=True)
    lines.append(f"\n(benchmark wall time {time.perf_counter() - t0:.0f} s)")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    print(main())
