"""Benchmark of `srekit aggregate` (goals in docs/aggregate.md and benchmarks/RESULTS.md).

Measured as the user runs it: every candidate is a whole process (start-up, read, reduce,
write), timed from spawn to exit; CPU time (user + sys of the process and its threads) and peak
RSS come from ``os.wait4``. On each input file, side by side in one run, interleaved round-robin
so that they share the machine's load:

* ``srekit aggregate FILE --out OUT.parquet`` (the CLI, local engine);
* the floor: a Python process that reads the same four columns with pyarrow's streaming CSV
  reader (types inferred) and does nothing else; goal: srekit ≤ 1.3× its wall time;
* naive pandas: ``read_csv``, ``to_datetime``, per-minute ``groupby``, ``quantile``; goal:
  srekit ≥ 3× faster;
* srekit's peak RSS; goal ≤ 600 MB whatever the span, the order or the journey count.

Inputs are request logs generated deterministically (:func:`generate`: seeded by their shape)
and cached in ``$SREKIT_BENCH_CACHE`` (default ``<tempdir>/srekit-bench-aggregate``), never in
git: ~10 M rows spanning 1, 35 and 90 days, time-sorted and shuffled, for 3 and 30 journeys,
plus 1 M and 30 M rows for the growth against rows. Stamps are ISO 8601 with microseconds and
``Z``; latencies a lognormal body and slow tail with three decimals; 0.5 % 503 and 2 % 404
statuses; journey traffic Zipf-like (share ∝ 1/k^0.8).

The Dask engine runs on the 90-day, 30-journey shuffled file against a scheduler and two workers
started here as separate processes on 127.0.0.1 (stopped by PID); its output must equal the
local engine's, byte for byte after reading.

``SREKIT_BENCH_BEFORE`` names another srekit source tree (e.g. ``git archive main srekit`` unpacked):
its ``srekit aggregate`` runs as one more candidate, side by side ("before"); ``SREKIT_BENCH_SHAPES``
(``rows:days:journeys:order,...``) and ``SREKIT_BENCH_RUNS`` narrow a run while working;
``SREKIT_BENCH_DASK=0`` skips the Dask run.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

CACHE = Path(os.environ.get("SREKIT_BENCH_CACHE", Path(tempfile.gettempdir()) / "srekit-bench-aggregate"))
RUNS = int(os.environ.get("SREKIT_BENCH_RUNS", "3"))
T0_US = int(np.datetime64("2026-01-01T00:00:00", "us").astype(np.int64))
M = 1_000_000


@dataclass(frozen=True)
class Shape:
    rows: int
    days: int
    journeys: int
    order: str  # "sorted" or "shuffled"

    @property
    def name(self) -> str:
        return f"requests_{self.rows // M}m_{self.days}d_{self.journeys}j_{self.order}.csv"

    def label(self) -> str:
        return f"{self.rows / M:g} M rows, {self.days} d, {self.journeys} j, {self.order}"


#: The goal matrix (~10 M rows × span × journeys × order), then the growth against rows.
MATRIX = [Shape(10 * M, d, j, o) for d in (1, 35, 90) for j in (3, 30) for o in ("sorted", "shuffled")]
GROWTH = [Shape(r * M, d, j, o) for (d, j, o) in ((1, 3, "sorted"), (90, 30, "shuffled")) for r in (1, 30)]
DASK_SHAPE = Shape(10 * M, 90, 30, "shuffled")


# --------------------------------------------------------------------------- inputs


def _iso_us(us: np.ndarray) -> pa.Array:
    """ISO-8601 UTC text with microseconds (``2026-01-01T00:00:05.123456Z``): a per-minute prefix
    plus zero-padded seconds and microseconds (much faster than ``pyarrow.compute.strftime``)."""
    minute = us // 60_000_000
    first = int(minute.min())
    prefixes = pa.array(np.datetime_as_string(np.arange(first, int(minute.max()) + 1).astype("datetime64[m]")))
    within = us - minute * 60_000_000
    sec = pc.utf8_lpad(pc.cast(pa.array(within // M), pa.string()), 2, "0")
    micro = pc.utf8_lpad(pc.cast(pa.array(within % M), pa.string()), 6, "0")
    return pc.binary_join_element_wise(prefixes.take(pa.array(minute - first)), ":", sec, ".", micro, "Z", "")


def generate(path: Path, shape: Shape, *, seed: int = 13) -> None:
    """A request log of ``shape``: the same rows for a given shape whatever the machine."""
    rng = np.random.default_rng([seed, shape.rows, shape.days, shape.journeys])
    n = shape.rows
    ts = np.sort(rng.integers(0, shape.days * 86_400 * M, n)) + T0_US
    weight = 1.0 / np.arange(1, shape.journeys + 1) ** 0.8
    journey = rng.choice(shape.journeys, n, p=weight / weight.sum()).astype(np.int16)
    body = rng.lognormal(np.log(40), 0.6, n)
    tail = rng.lognormal(np.log(900), 1.0, n)
    latency = np.round(np.where(rng.random(n) < 0.97, body, tail), 3)
    status = np.where(rng.random(n) < 0.005, 503, np.where(rng.random(n) < 0.02, 404, 200)).astype(np.int16)
    if shape.order == "shuffled":
        perm = rng.permutation(n)
        ts, journey, latency, status = ts[perm], journey[perm], latency[perm], status[perm]
    names = pa.array([f"journey-{k:02d}" for k in range(shape.journeys)])
    part = path.with_name(path.name + ".part")
    with part.open("wb") as fh:
        fh.write(b"timestamp,latency_ms,status,journey\n")
        opts = pacsv.WriteOptions(include_header=False, quoting_style="none")
        for a in range(0, n, M):
            b = min(a + M, n)
            table = pa.table(
                {
                    "timestamp": _iso_us(ts[a:b]),
                    "latency_ms": pa.array(latency[a:b]),
                    "status": pa.array(status[a:b]),
                    "journey": names.take(pa.array(journey[a:b])),
                }
            )
            pacsv.write_csv(table, fh, opts)
    part.replace(path)


def input_file(shape: Shape) -> Path:
    CACHE.mkdir(parents=True, exist_ok=True)
    path = CACHE / shape.name
    if not path.exists():
        generate(path, shape)
    return path


# --------------------------------------------------------------------------- processes

FLOOR = """
import sys
import pyarrow.csv as pcsv
reader = pcsv.open_csv(sys.argv[1], convert_options=pcsv.ConvertOptions(
    include_columns=["timestamp", "latency_ms", "status", "journey"]))
rows = 0
for batch in reader:
    rows += batch.num_rows
print(rows)
"""

WRITE = """
import statistics, sys, time
import pyarrow.parquet as pq
from srekit.inputs.aggregate import _parquet_encoding
source = pq.ParquetFile(sys.argv[1])
groups = [source.read_row_group(i) for i in range(source.num_row_groups)]
took = []
for _ in range(int(sys.argv[3])):
    t0 = time.perf_counter()
    with pq.ParquetWriter(sys.argv[2], source.schema_arrow, **_parquet_encoding(source.schema_arrow)) as writer:
        for table in groups:
            writer.write_table(table)
    took.append(time.perf_counter() - t0)
print(statistics.median(took))
"""

PANDAS = """
import sys
import pandas as pd
df = pd.read_csv(sys.argv[1])
df["timestamp"] = pd.to_datetime(df["timestamp"], utc=True, format="ISO8601")
df["minute"] = df["timestamp"].dt.floor("min")
df["error"] = df["status"] >= 500
g = df.groupby(["journey", "minute"])
counts = g.agg(total=("latency_ms", "size"), errors=("error", "sum"))
q = g["latency_ms"].quantile([0.5, 0.9, 0.99]).unstack()
counts.join(q).to_parquet(sys.argv[2])
print(counts["total"].sum())
"""


BEFORE = os.environ.get("SREKIT_BENCH_BEFORE")
CLI = "import sys; from srekit.cli import main; sys.exit(main())"


#: Spawns the measured process from a small parent and reports its rusage. Linux carries the
#: parent's peak RSS into a child's ``ru_maxrss`` across fork + exec, so a child spawned straight
#: from this (large) benchmark process would report at least this process's peak.
SPAWN = """
import json, os, sys, time
devnull = os.open(os.devnull, os.O_WRONLY)
t0 = time.perf_counter()
pid = os.posix_spawn(sys.argv[1], sys.argv[1:], os.environ, file_actions=[(os.POSIX_SPAWN_DUP2, devnull, 1)])
_, status, ru = os.wait4(pid, 0)
wall = time.perf_counter() - t0
print(json.dumps({"code": os.waitstatus_to_exitcode(status), "wall": wall, "cpu": ru.ru_utime + ru.ru_stime,
                  "rss": ru.ru_maxrss / 1024}))
"""


def measure(argv: list[str], env: dict[str, str] | None = None) -> dict[str, float]:
    """Run a process to its end: wall seconds from spawn to exit, CPU seconds (user + sys, all
    threads) and peak RSS (MB) from its rusage (``os.wait4`` in a small parent, see SPAWN)."""
    done = subprocess.run([sys.executable, "-c", SPAWN, *argv], capture_output=True, text=True, env=env)
    lines = done.stdout.strip().splitlines()
    if done.returncode or not lines:
        raise RuntimeError(f"{argv[:3]}: the spawner failed:\n{done.stderr[-2000:]}")
    got = json.loads(lines[-1])
    if got["code"]:
        raise RuntimeError(f"{argv[:3]} failed (exit {got['code']}):\n{done.stderr[-2000:]}")
    return {k: float(got[k]) for k in ("wall", "cpu", "rss")}


def _srekit() -> str:
    return str(Path(sys.executable).with_name("srekit"))


def candidates(path: Path, out: Path, *, pandas: bool = True) -> dict[str, list[str]]:
    found = {
        "floor": [sys.executable, "-c", FLOOR, str(path)],
        "srekit": [_srekit(), "aggregate", str(path), "--out", str(out / "srekit.parquet"), "--no-progress"],
    }
    if BEFORE:
        found["before"] = [  # -P: the source tree in PYTHONPATH, not the current folder's
            sys.executable,
            "-P",
            "-c",
            CLI,
            "aggregate",
            str(path),
            "--out",
            str(out / "b.parquet"),
            "--no-progress",
        ]
    if pandas:
        found["pandas"] = [sys.executable, "-c", PANDAS, str(path), str(out / "pandas.parquet")]
    return found


def run_shape(shape: Shape, out: Path, *, pandas: bool = True, runs: int = RUNS) -> dict[str, object]:
    path = input_file(shape)
    plan = candidates(path, out, pandas=pandas)
    results: dict[str, list[dict[str, float]]] = {name: [] for name in plan}
    load = [os.getloadavg()[0]]
    for _ in range(runs):
        for name, argv in plan.items():
            results[name].append(measure(argv, dict(os.environ, PYTHONPATH=BEFORE) if name == "before" else None))
    load.append(os.getloadavg()[0])
    write = measure_write(out / "srekit.parquet", out / "rewritten.parquet", runs)
    med = {
        name: {k: statistics.median(r[k] for r in rs) for k in ("wall", "cpu", "rss")} for name, rs in results.items()
    }
    return {"shape": shape, "size": path.stat().st_size, "runs": results, "median": med, "load": load, "write": write}


def measure_write(made: Path, out: Path, runs: int) -> float:
    """Seconds pyarrow takes to write srekit's output again (median of ``runs``): the same row
    groups, the same writer options, the table already in memory. Any tool that writes this
    output pays it on top of reading the input, so it shows how much of srekit's time beyond the
    read floor is the output's size rather than srekit's reduction."""
    done = subprocess.run(
        [sys.executable, "-c", WRITE, str(made), str(out), str(runs)], capture_output=True, text=True, check=True
    )
    out.unlink(missing_ok=True)
    return float(done.stdout.strip().splitlines()[-1])


# --------------------------------------------------------------------------- Dask


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def dask_cluster(workers: int = 2) -> tuple[str, list[subprocess.Popen[bytes]]]:
    """A scheduler and ``workers`` single-threaded workers on 127.0.0.1, as separate processes."""
    port = _free_port()
    address = f"tcp://127.0.0.1:{port}"
    bindir = Path(sys.executable).parent
    procs = [
        subprocess.Popen(
            [str(bindir / "dask"), "scheduler", "--host", "127.0.0.1", "--port", str(port), "--no-dashboard"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
    ]
    for _ in range(workers):
        procs.append(
            subprocess.Popen(
                [str(bindir / "dask"), "worker", address, "--nthreads", "1", "--nworkers", "1", "--no-dashboard"],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
        )
    return address, procs


def stop(procs: list[subprocess.Popen[bytes]]) -> None:
    for p in reversed(procs):
        if p.poll() is None:
            os.kill(p.pid, signal.SIGTERM)
    for p in procs:
        try:
            p.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.kill(p.pid, signal.SIGKILL)
            p.wait()


def wait_for_workers(address: str, n: int, timeout: float = 60) -> None:
    from dask.distributed import Client

    with Client(address, timeout="30s") as client:
        client.wait_for_workers(n, timeout=timeout)


# --------------------------------------------------------------------------- report


def _f(x: float, digits: int = 2) -> str:
    return f"{x:.{digits}f}"


def _row(r: dict[str, object]) -> str:
    shape = r["shape"]
    assert isinstance(shape, Shape)
    med = r["median"]
    runs = r["runs"]
    load = r["load"]
    assert isinstance(med, dict) and isinstance(runs, dict) and isinstance(load, list)
    s, f = med["srekit"], med["floor"]
    write = r["write"]
    assert isinstance(write, float)
    p, b = med.get("pandas"), med.get("before")
    ratio_p = f"{p['wall'] / s['wall']:.1f}× / {p['cpu'] / s['cpu']:.1f}×" if p else "–"
    ok = s["wall"] / f["wall"] <= 1.3 and s["rss"] <= 600 and (p is None or p["wall"] / s["wall"] >= 3)
    walls = ", ".join(_f(x["wall"]) for x in runs["srekit"])
    cell = lambda m: f"{_f(m['wall'])} / {_f(m['cpu'])} / {m['rss']:.0f}" if m else "–"  # noqa: E731
    return (
        f"| {shape.label()} | {int(r['size']) / 1e6:.0f} | {cell(f)} | {cell(s)} | {cell(b)} | {cell(p)} | "
        f"{s['wall'] / f['wall']:.2f}× / {s['cpu'] / f['cpu']:.2f}× | {_f(write)} | "
        f"{s['wall'] / (f['wall'] + write):.2f}× | {ratio_p} | "
        f"{'yes' if ok else '**no**'} | {load[0]:.1f}–{load[1]:.1f} | {walls} |"
    )


HEADER = [
    "| input | MB | floor: wall s / CPU s / RSS MB | srekit (this branch) | srekit before | naive pandas "
    "| srekit / floor (wall / CPU) | write s | srekit / (floor + write) | pandas / srekit (wall / CPU) | goals met "
    "| load (1 min) | srekit wall s, all runs |",
    "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---|---|",
]


def _same_parquet(a: Path, b: Path) -> bool:
    """Two Parquet files hold the same table (compared batch by batch, in bounded memory)."""
    import pyarrow.parquet as pq

    fa, fb = pq.ParquetFile(a), pq.ParquetFile(b)
    if fa.schema_arrow != fb.schema_arrow or fa.metadata.num_rows != fb.metadata.num_rows:
        return False
    pairs = zip(fa.iter_batches(batch_size=65_536), fb.iter_batches(batch_size=65_536), strict=True)
    return all(x.equals(y) for x, y in pairs)


def run_dask(shape: Shape, out: Path, runs: int = RUNS) -> dict[str, object]:
    """The local engine, then the Dask engine against a scheduler + 2 workers started as separate
    processes; the two outputs compared."""
    path = input_file(shape)
    srekit = [_srekit(), "aggregate", str(path), "--no-progress", "--out"]
    local = [measure([*srekit, str(out / "local.parquet")]) for _ in range(runs)]
    address, procs = dask_cluster(2)
    try:
        wait_for_workers(address, 2)
        load = os.getloadavg()[0]
        dask = [
            measure([*srekit, str(out / "dask.parquet"), "--engine", "dask", "--scheduler", address])
            for _ in range(runs)
        ]
    finally:
        stop(procs)
    same = _same_parquet(out / "local.parquet", out / "dask.parquet")
    med = {name: statistics.median(r["wall"] for r in rs) for name, rs in (("local", local), ("dask", dask))}
    return {"shape": shape, "local": local, "dask": dask, "median": med, "same": same, "load": load}


def _dask_lines(d: dict[str, object]) -> list[str]:
    shape, med = d["shape"], d["median"]
    assert isinstance(shape, Shape) and isinstance(med, dict)
    dask = d["dask"]
    assert isinstance(dask, list)
    return [
        "",
        f"Dask engine on {shape.label()}: a scheduler and 2 single-threaded workers as separate processes on "
        f"127.0.0.1 (started before the timing), `srekit aggregate --engine dask --scheduler ADDRESS`: "
        f"{_f(med['dask'])} s wall (client process CPU {_f(statistics.median(r['cpu'] for r in dask))} s) "
        f"against {_f(med['local'])} s for the local engine (medians of {len(dask)}; load {d['load']:.1f}); "
        f"output {'identical' if d['same'] else '**different**'} to the local engine's.",
    ]


def _shapes() -> list[Shape]:
    text = os.environ.get("SREKIT_BENCH_SHAPES")
    if not text:
        return MATRIX + GROWTH
    out = []
    for part in text.split(","):
        rows, days, journeys, order = part.split(":")
        out.append(Shape(int(float(rows) * M), int(days), int(journeys), order))
    return out


def compile_sources() -> None:
    """Byte-compile srekit (and the tree before) as an installed package is: an editable install
    under ``PYTHONDONTWRITEBYTECODE`` (set on this machine) would compile its modules on every
    run, about 40-60 ms of start-up a user does not pay."""
    import compileall

    import srekit

    trees = [Path(srekit.__file__).parent, *([Path(BEFORE) / "srekit"] if BEFORE else [])]
    for tree in trees:
        compileall.compile_dir(str(tree), quiet=1)


def main() -> str:
    t0 = time.perf_counter()
    compile_sources()
    shapes = _shapes()
    for shape in shapes:  # generate first: generation is not part of any measurement
        input_file(shape)
    out = Path(tempfile.mkdtemp(prefix="srekit-bench-out-"))
    try:
        rows = []
        for shape in shapes:
            rows.append(run_shape(shape, out, pandas=shape.rows <= 10 * M))
            print(_row(rows[-1]), flush=True)
        dask = run_dask(DASK_SHAPE, out) if os.environ.get("SREKIT_BENCH_DASK", "1") != "0" else None
    finally:
        shutil.rmtree(out, ignore_errors=True)
    before = os.environ.get("SREKIT_BENCH_BEFORE_LABEL", "the source tree named by `SREKIT_BENCH_BEFORE`")
    intro = (
        "Generated request logs (`benchmarks/bench_aggregate.py`: ISO stamps with µs and `Z`, lognormal latencies "
        "with a slow tail, 0.5 % 503, Zipf-like journey traffic), each candidate a whole process (start-up, read, "
        "reduce, write) spawned from a small parent, peak RSS from `os.wait4`; "
        f"{RUNS} runs interleaved round-robin, medians. **floor**: pyarrow's streaming CSV reader reading the four "
        "columns, nothing else. **srekit**: `srekit aggregate FILE --out OUT.parquet` (its default output: the sparse "
        "layout; its modules byte-compiled first, as an installed package's are); "
        f"**before**: the same command from {before}; **naive pandas**: `read_csv`, `to_datetime`, "
        "per-minute `groupby`, `quantile` (≤ 10 M rows). Cells: wall s / CPU s / peak RSS MB; load = the 1-minute "
        "load average before and after the row (2 cores). **write s**: pyarrow writing srekit's output file again "
        "(same row groups and writer options, the table already in memory; median): what any tool producing that "
        "output pays beyond the read floor, large where nearly every request is its own (journey, minute, bucket) "
        "cell. Goals met = wall ≤ 1.3× floor, RSS ≤ 600 MB, pandas ≥ 3× "
        "slower (wall)."
    )
    lines = [
        "## Aggregation (`srekit aggregate`, as a whole process)",
        "",
        intro,
        "",
        *HEADER,
        *(_row(r) for r in rows),
    ]
    if dask is not None:
        lines += _dask_lines(dask)
    lines.append(f"\n(benchmark wall time {time.perf_counter() - t0:.0f} s)")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    print(main())
