"""Benchmark of `srekit aggregate` (goals in benchmarks/RESULTS.md).

On a generated 10 M-row request CSV (``srekit samples --raw-days 1 --rps 116 --raw-format csv``,
cached in the temp folder), side by side in one run, each candidate in its own process (so its
peak RSS is its own, read from ``os.wait4``), runs interleaved round-robin to share the machine's
load fairly:

* srekit local engine (``aggregate_files``) at 10 M and at 2 M rows (the first 2 M rows);
* (a) the floor: pyarrow's CSV reader reading the same four columns (default options, types
  inferred) and doing nothing else; goal: srekit ≤ 1.3× its time;
* (b) naive pandas: ``read_csv``, per-minute ``groupby``, ``quantile``; goal: srekit ≥ 3× faster;
* (c) srekit's peak RSS at 2 M and 10 M rows; goal ≤ 600 MB and flat (10 M ≤ 1.25 × 2 M);
* the alternatives measured to choose the embedded engine: DuckDB reading and parsing the same
  columns (``read_csv`` + ``try_cast``) with and without handing them over as Arrow batches, and
  DuckDB doing the whole reduction in SQL (at 2 M
  rows: it takes ~40 s of CPU at 10 M);
* the Dask engine (2-process ``LocalCluster``, start-up included; RSS not comparable since the
  work happens in worker processes).

Wall time is the goal's measure; CPU time (user + sys of the process and its threads) is
reported too because the machine is shared (its load average is printed).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

CACHE = Path(tempfile.gettempdir()) / "srekit-bench-aggregate"
RPS = 116  # × 86 400 s ≈ 10.0 M requests in one day
RUNS = 3
SQL = "duckdb full reduction (SQL)"
SMALL_ROWS = 2_000_000

# Imports run before the timer (their time is reported apart); the part after "#timed" is timed.
_TIMER = """
import json, sys, time
t_import = time.perf_counter()
{setup}
t0 = time.perf_counter(); c0 = time.process_time()
{body}
print("BENCH " + json.dumps({{"wall": time.perf_counter() - t0, "cpu": time.process_time() - c0, "rows": int(rows),
                             "import": t0 - t_import}}), flush=True)
"""

CANDIDATES: dict[str, str] = {
    "srekit local": """
from srekit.inputs.aggregate import aggregate_files
#timed
df, entry = aggregate_files([sys.argv[1]])
rows = df["total"].sum()
assert rows == entry.rows_read
""",
    "pyarrow read only (floor)": """
import pyarrow.csv as pcsv
#timed
reader = pcsv.open_csv(sys.argv[1], convert_options=pcsv.ConvertOptions(
    include_columns=["timestamp", "latency_ms", "status", "journey"]))
rows = 0
for batch in reader:
    rows += batch.num_rows
""",
    "naive pandas": """
import pandas as pd
#timed
df = pd.read_csv(sys.argv[1])
df["timestamp"] = pd.to_datetime(df["timestamp"], utc=True, format="ISO8601")
df["minute"] = df["timestamp"].dt.floor("min")
df["error"] = df["status"] >= 500
g = df.groupby(["journey", "minute"])
counts = g.agg(total=("latency_ms", "size"), errors=("error", "sum"))
q = g["latency_ms"].quantile([0.5, 0.9, 0.99]).unstack()
rows = counts["total"].sum()
""",
    "duckdb read + parse -> Arrow batches": """
import duckdb
#timed
con = duckdb.connect()
con.execute("SET threads=2")
con.execute("SET enable_progress_bar=false")
rel = con.sql(
    "SELECT try_cast(timestamp AS TIMESTAMPTZ) AS ts, try_cast(latency_ms AS DOUBLE) AS lat, "
    "try_cast(status AS INTEGER) AS st, journey FROM read_csv('" + sys.argv[1] + "', all_varchar=true)")
rows = 0
for batch in rel.to_arrow_reader(1 << 20):
    rows += batch.num_rows
""",
    "duckdb parse only (nothing leaves DuckDB)": """
import duckdb
#timed
con = duckdb.connect()
con.execute("SET threads=2")
con.execute("SET enable_progress_bar=false")
rows = con.execute(
    "SELECT count(*), max(try_cast(timestamp AS TIMESTAMPTZ)), max(try_cast(latency_ms AS DOUBLE)), "
    "max(try_cast(status AS INTEGER)), count(DISTINCT journey) FROM read_csv(?, all_varchar=true)",
    [sys.argv[1]]).fetchone()[0]
""",
    "duckdb full reduction (SQL)": """
import duckdb
from srekit.inputs.telemetry import DEFAULT_EDGES_MS, edge_label
#timed
con = duckdb.connect()
con.execute("SET threads=2")
con.execute("SET enable_progress_bar=false")
les = ", ".join(f'count(*) FILTER (lat <= {e}) AS "{edge_label(e)}"' for e in DEFAULT_EDGES_MS)
sql = f'''WITH r AS (SELECT journey, time_bucket(INTERVAL 1 minute, try_cast(timestamp AS TIMESTAMPTZ)) AS m,
  try_cast(latency_ms AS DOUBLE) AS lat, try_cast(status AS INTEGER) AS st FROM read_csv(?, all_varchar=true))
  SELECT journey, m, count(*) AS total, count(*) FILTER (st >= 500) AS errors, {les} FROM r GROUP BY ALL'''
out = con.execute(sql, [sys.argv[1]]).df()
rows = out["total"].sum()
""",
    "srekit dask (LocalCluster)": """
from srekit.inputs.aggregate import aggregate_files
#timed
if __name__ == "__main__":
    df, entry = aggregate_files([sys.argv[1]], engine="dask")
    rows = df["total"].sum()
""",
}


def _inputs() -> tuple[Path, Path]:
    """The 10 M-row CSV (generated once) and its first 2 M rows."""
    CACHE.mkdir(parents=True, exist_ok=True)
    big = CACHE / "requests_10m.csv"
    small = CACHE / "requests_2m.csv"
    if not big.exists():
        gen = CACHE / "gen"
        srekit = Path(sys.executable).with_name("srekit")
        subprocess.run(
            [str(srekit), "samples", "--out", str(gen), "--raw-days", "1", "--rps", str(RPS), "--raw-format", "csv"],
            check=True,
            capture_output=True,
        )
        (gen / "requests_1d.csv").replace(big)
        shutil.rmtree(gen)
    if not small.exists():
        with big.open("rb") as src, small.open("wb") as dst:
            for i, line in enumerate(src):
                if i > SMALL_ROWS:
                    break
                dst.write(line)
    return big, small


def _run_rusage(body: str, path: Path) -> dict[str, float]:
    """Run one candidate in a fresh process and reap it with ``os.wait4``: its rusage gives the
    child's own peak RSS."""
    setup, marker, timed = body.strip().partition("#timed\n")
    assert marker, "a candidate needs a #timed line after its imports"
    proc = subprocess.Popen(
        [sys.executable, "-c", _TIMER.format(setup=setup, body=timed), str(path)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert proc.stdout is not None and proc.stderr is not None
    out = proc.stdout.read().decode()
    err = proc.stderr.read().decode()
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode:
        raise RuntimeError(f"benchmark candidate failed (exit {proc.returncode}):\n{err[-2000:]}")
    tagged = re.findall(r"BENCH (\{.*?\})", out)
    if not tagged:
        raise RuntimeError(f"benchmark candidate printed no result:\n{out[-1000:]}\n{err[-2000:]}")
    result = json.loads(tagged[-1])
    result["rss_mb"] = usage.ru_maxrss / 1024
    return result


def _fmt(x: float, digits: int = 2) -> str:
    return f"{x:.{digits}f}"


def main() -> str:
    big, small = _inputs()
    load_before = os.getloadavg()[0]
    # DuckDB's SQL reduction takes ~40 s of CPU at 10 M rows: measured at 2 M rows (with srekit
    # at 2 M rows beside it) to keep `make bench` short.
    plan = [(name, small if name == SQL else big) for name in CANDIDATES] + [("srekit local", small)]
    results: dict[tuple[str, Path], list[dict[str, float]]] = {key: [] for key in plan}
    t0 = time.perf_counter()
    for _ in range(RUNS):
        for name, path in plan:
            results[(name, path)].append(_run_rusage(CANDIDATES[name], path))
    load_after = os.getloadavg()[0]

    def med(name: str, path: Path, field: str) -> float:
        return statistics.median(r[field] for r in results[(name, path)])

    rows_big = int(results[("srekit local", big)][0]["rows"])
    rows_small = int(results[("srekit local", small)][0]["rows"])
    lines = [
        "## Aggregation (`srekit aggregate`, local engine)",
        "",
        f"Input: request CSV from `srekit samples --raw-days 1 --rps {RPS} --raw-format csv` "
        f"({rows_big:,} rows, {big.stat().st_size / 1e6:.0f} MB; columns timestamp, latency_ms, status, journey); "
        f"the 2 M case is its first {rows_small:,} rows. Each candidate runs in its own process, "
        f"{RUNS} runs interleaved round-robin; medians. Load average (1 min) {load_before:.1f} before, "
        f"{load_after:.1f} after, on 2 cores shared with other work: wall times are noisy, CPU times less so. "
        "Times start after the candidate's imports (import time shown apart; CPU includes reader threads); "
        "peak RSS is the whole process's.",
        "",
        "| candidate | rows | wall s (median) | CPU s (median) | peak RSS MB (median) | imports s | wall s, all runs |",
        "|---|---:|---:|---:|---:|---:|---|",
    ]
    for name, path in plan:
        runs = results[(name, path)]
        rss = med(name, path, "rss_mb")
        rss_text = "n/a (workers)" if "dask" in name else f"{rss:.0f}"
        lines.append(
            f"| {name} | {int(runs[0]['rows']):,} | {_fmt(med(name, path, 'wall'))} | {_fmt(med(name, path, 'cpu'))} "
            f"| {rss_text} | {_fmt(med(name, path, 'import'))} | {', '.join(_fmt(r['wall']) for r in runs)} |"
        )
    s_wall, s_cpu = med("srekit local", big, "wall"), med("srekit local", big, "cpu")
    f_wall, f_cpu = med("pyarrow read only (floor)", big, "wall"), med("pyarrow read only (floor)", big, "cpu")
    p_wall, p_cpu = med("naive pandas", big, "wall"), med("naive pandas", big, "cpu")
    rss_big, rss_small = med("srekit local", big, "rss_mb"), med("srekit local", small, "rss_mb")
    d_read = med("duckdb read + parse -> Arrow batches", big, "wall")
    d_parse = med("duckdb parse only (nothing leaves DuckDB)", big, "wall")
    d_rss = med("duckdb read + parse -> Arrow batches", big, "rss_mb")
    d_full = med(SQL, small, "wall")
    s_small = med("srekit local", small, "wall")
    dask_wall = med("srekit dask (LocalCluster)", big, "wall")

    def verdict(ok: bool) -> str:
        return "**met**" if ok else "**not met**"

    lines += [
        "",
        "Goals:",
        "",
        f"- (a) ≤ 1.3× the pyarrow floor: srekit / floor = {s_wall / f_wall:.2f}× wall "
        f"({s_cpu / f_cpu:.2f}× CPU) → {verdict(s_wall / f_wall <= 1.3)}.",
        f"- (b) ≥ 3× faster than naive pandas: pandas / srekit = {p_wall / s_wall:.1f}× wall "
        f"({p_cpu / s_cpu:.1f}× CPU) → {verdict(p_wall / s_wall >= 3)}.",
        f"- (c) peak RSS ≤ 600 MB and flat: {rss_small:.0f} MB at 2 M rows, {rss_big:.0f} MB at 10 M rows "
        f"(ratio {rss_big / rss_small:.2f}) → {verdict(rss_big <= 600 and rss_big <= 1.25 * rss_small)}.",
        "",
        "Engine choice: DuckDB parses the same columns fast as long as nothing leaves it "
        f"({_fmt(d_parse)} s for count/max over them), but handing them over as Arrow batches, which is what a "
        f"reader for the numpy reduction must do, takes {_fmt(d_read)} s ({d_read / f_wall:.2f}× pyarrow's reader) "
        f"at {d_rss:.0f} MB peak RSS; doing the whole "
        f"reduction in SQL (one `count(*) FILTER (lat <= edge)` per bucket) {_fmt(d_full)} s at 2 M rows "
        f"({d_full / s_small:.1f}× srekit at 2 M rows), so the embedded "
        "engine is pyarrow's streaming CSV reader (1 MiB blocks, reader threads parse stamps and numbers) plus a numpy "
        "reduction (float-bit lookup table for the bucket, bincount per (journey, minute) grid).",
        "Why srekit can undercut the floor: the floor lets pyarrow infer column types in every block, srekit "
        "infers them once from the first block and passes explicit types (cheaper conversion), and a prefetch "
        "thread overlaps reading the next batch with reducing the current one (numpy and pyarrow release the GIL).",
        f"Dask engine (2-process LocalCluster, start-up included): {_fmt(dask_wall)} s, "
        f"{dask_wall / s_wall:.1f}× the local engine on one machine: it is for data that does not fit one machine.",
        f"(benchmark wall time {time.perf_counter() - t0:.0f} s)",
    ]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    print(main())
