"""Recording rules backfilled over the past: TSDB blocks written by ``promtool tsdb
create-blocks-from rules`` (Prometheus ≥ 2.27), so the SLO dashboards and the period error
budget have history on the day the rules are deployed.

What promtool cannot do in one pass, and what srekit does about it:

* Rules that read other recording rules see nothing: promtool evaluates each rule with a range
  query against the source Prometheus, where the new series do not exist yet ("rules in the same
  group cannot see the results of previous rules"). srekit orders the recording rules by their
  dependencies and backfills them in passes; pass *k* reads the blocks of the earlier passes from
  a throwaway local ``prometheus`` serving them on 127.0.0.1 (stopped by its own pid). The
  dependencies of a windowed rule (the period ratio sums the 5-minute rates over the SLO window)
  are backfilled one window earlier, so that rule is complete from the first backfilled minute.
* Alerting rules are not evaluated at all: ``ALERTS`` starts when Prometheus loads the rules.
  The Grafana dashboard (:mod:`srekit.exports.grafana`) evaluates the alert conditions over the
  backfilled ratios instead, so firing history shows on day one.
* promtool writes one block per rule per block range; the hidden ``--max-block-duration`` flag of
  ``create-blocks-from`` (documented in Prometheus's storage docs for backfilling) makes them
  larger, bounded here so that each range query stays under the server's 11,000 points.

Pure planning (:func:`plan_backfill`) is separate from running (:func:`run_backfill`).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from srekit.core.errors import ConfigError, SrekitError
from srekit.core.timeutil import format_duration
from srekit.exports.prometheus import dump_yaml
from srekit.exports.promql_scan import lookback, references, selected_metrics, selectors

PROMTOOL_MIN_VERSION = (2, 27)  # first release with `promtool tsdb create-blocks-from rules`
OVERLAP_DEFAULT_VERSION = (2, 39)  # overlapping blocks accepted without a flag from here on
MAX_QUERY_POINTS = 10_000  # per range query and series; the server refuses more than 11,000
DEFAULT_MAX_POINTS = 50_000_000  # rule evaluations (points) one backfill may write
BASE_BLOCK = pd.Timedelta(hours=2)  # Prometheus block ranges: 2h × 3^k
HEAD_MARGIN = pd.Timedelta(hours=3)  # the newest hours are the live head block: never backfilled
CHUNK_TIMEOUT_S = 3600.0
EVAL_INTERVAL = pd.Timedelta(minutes=1)  # Prometheus's default evaluation_interval
MAX_BLOCK = pd.Timedelta(hours=162)  # 2h × 3^4: about a week per block, 9,720 points per query at 1m
CHUNK = pd.Timedelta(days=7)  # one promtool run per chunk (whole blocks)
INSTALL_HINT = (
    "install Prometheus's tools: apt-get install prometheus (Debian/Ubuntu ships promtool and prometheus), "
    "or unpack the release tarball from prometheus.io and put promtool and prometheus on PATH"
)


class BackfillError(SrekitError):
    """A backfill that cannot run or failed: names the step and the fix."""


# ----------------------------------------------------------------------------- planning (pure)


@dataclass(frozen=True, slots=True)
class RecordingRule:
    """One recording rule of a rules document with what it reads and its dependency level:
    0 reads only scraped series, *k* reads names recorded at levels below *k*."""

    group: int  # index of its group in the document
    rule: dict[str, Any]
    reads: frozenset[str]  # recorded names it reads
    level: int


def dependency_levels(groups: Sequence[Mapping[str, Any]]) -> list[RecordingRule]:
    """Every recording rule of ``groups`` (alerting rules are left out) with its level. A name's
    level is the highest of the rules recording it. A cycle, or a rule that reads recorded and
    scraped series together (a later pass reads only recorded series), is a :class:`BackfillError`."""
    found = [(i, dict(r)) for i, g in enumerate(groups) for r in g.get("rules", []) if "record" in r]
    names = sorted({str(r["record"]) for _, r in found})
    reads = [frozenset(references(str(r["expr"]), names) - {r["record"]}) for _, r in found]
    for (_, rule), dep in zip(found, reads, strict=True):
        scraped = selected_metrics(str(rule["expr"])) - set(names)
        if dep and scraped:
            raise BackfillError(
                f"recording rule {rule['record']} reads recorded series ({', '.join(sorted(dep))}) and scraped "
                f"series ({', '.join(sorted(scraped))}) together; a later backfill pass can only read recorded series. "
                "fix: record the scraped part in its own rule"
            )
    level: dict[int, int] = {}
    while len(level) < len(found):
        done = {n for n in names if all(k in level for k, (_, r) in enumerate(found) if r["record"] == n)}
        name_level = {n: max(level[k] for k, (_, r) in enumerate(found) if r["record"] == n) for n in done}
        ready = {
            k: 1 + max((name_level[d] for d in dep), default=-1)
            for k, dep in enumerate(reads)
            if k not in level and dep <= done
        }
        if not ready:
            stuck = sorted({str(found[k][1]["record"]) for k in range(len(found)) if k not in level})
            raise BackfillError(f"recording rules read each other in a cycle: {', '.join(stuck)}. fix: break the cycle")
        level.update(ready)
    return [RecordingRule(g, r, reads[k], level[k]) for k, (g, r) in enumerate(found)]


@dataclass(frozen=True, slots=True)
class Run:
    """Recording-rule groups evaluated by promtool over ``[start, end]``; ``level`` 0 reads the
    source Prometheus, level *k* the blocks of the levels below it."""

    label: str
    level: int
    groups: tuple[dict[str, Any], ...]
    start: pd.Timestamp
    end: pd.Timestamp

    @property
    def rules(self) -> int:
        return sum(len(g["rules"]) for g in self.groups)

    def document(self) -> dict[str, Any]:
        return {"groups": [dict(g) for g in self.groups]}


@dataclass(frozen=True, slots=True)
class BackfillPlan:
    """What one backfill evaluates: the runs in dependency order, the evaluation interval, the
    block range promtool writes, the chunks each run is split into, and the notes for the user."""

    runs: tuple[Run, ...]
    start: pd.Timestamp
    end: pd.Timestamp
    eval_interval: pd.Timedelta
    block: pd.Timedelta
    chunk: pd.Timedelta
    points: int
    notes: tuple[str, ...] = field(default=())

    @property
    def levels(self) -> int:
        return 1 + max((r.level for r in self.runs), default=0)

    def chunks(self, run: Run) -> list[tuple[pd.Timestamp, pd.Timestamp]]:
        """``run``'s range cut at multiples of the chunk length since the epoch (whole blocks, as
        promtool cuts them), neighbours sharing their border."""
        edges = [run.start]
        nxt = (run.start - pd.Timestamp(0, tz="UTC")) // self.chunk * self.chunk + pd.Timestamp(0, tz="UTC")
        while (nxt := nxt + self.chunk) < run.end:
            edges.append(nxt)
        edges.append(run.end)
        return list(zip(edges[:-1], edges[1:], strict=True))


def block_duration(max_block: pd.Timedelta, eval_interval: pd.Timedelta) -> pd.Timedelta:
    """The block range promtool will use: the largest ``2h × 3^k`` no longer than ``max_block``
    whose range query stays within :data:`MAX_QUERY_POINTS` (promtool queries one block at a time)."""
    limit = min(max_block, eval_interval * MAX_QUERY_POINTS)
    if BASE_BLOCK / eval_interval > MAX_QUERY_POINTS:
        raise ConfigError(
            f"an evaluation interval of {eval_interval.total_seconds():g}s makes a 2-hour block "
            f"{int(BASE_BLOCK / eval_interval)} points per query, above the {MAX_QUERY_POINTS} a Prometheus range "
            "query may return. fix: use --eval-interval 1s or more (the live rules' evaluation_interval)"
        )
    block = BASE_BLOCK
    while block * 3 <= limit:
        block *= 3
    return block


def plan_backfill(
    groups: Sequence[Mapping[str, Any]],
    start: pd.Timestamp,
    end: pd.Timestamp,
    *,
    eval_interval: pd.Timedelta = EVAL_INTERVAL,
    max_block: pd.Timedelta = MAX_BLOCK,
    chunk: pd.Timedelta = CHUNK,
    max_points: int = DEFAULT_MAX_POINTS,
) -> BackfillPlan:
    """Order the recording rules of ``groups`` by dependency into runs and bound the work.

    Level-0 rules read the source; a rule that reads recorded series runs in a later pass. Rules
    that a windowed dependent reads are also evaluated over the window before ``start`` (a
    separate run), so the dependent is complete from ``start``. Raises :class:`ConfigError` when
    the range is empty or the evaluations exceed ``max_points``.
    """
    _check_range(start, end, eval_interval)
    rules = dependency_levels(groups)
    if not rules:
        raise ConfigError("the rules have no recording rules to backfill. fix: export SLOs with request-based SLIs")
    block = block_duration(max_block, eval_interval)
    top = max(r.level for r in rules)
    runs = [*_lead_runs(groups, rules, start)]
    runs += [Run(f"pass {lv + 1} of {top + 1}", lv, _subset(groups, rules, lv), start, end) for lv in range(top + 1)]
    points = sum(r.rules * (int((r.end - r.start) / eval_interval) + 1) for r in runs)
    if points > max_points:
        raise ConfigError(
            f"backfilling {len(rules)} recording rules from {start.isoformat()} to {end.isoformat()} at "
            f"{format_duration(eval_interval)} is {points:,} rule evaluations, above the limit of {max_points:,}. "
            "fix: shorten --start/--end, raise --eval-interval, or raise --max-points"
        )
    chunk_len = max(block, chunk // block * block)
    return BackfillPlan(tuple(runs), start, end, eval_interval, block, chunk_len, points, _notes(runs))


def _check_range(start: pd.Timestamp, end: pd.Timestamp, eval_interval: pd.Timedelta) -> None:
    if eval_interval <= pd.Timedelta(0) or eval_interval % pd.Timedelta(seconds=1) != pd.Timedelta(0):
        raise ConfigError(f"--eval-interval must be whole seconds, got {eval_interval.total_seconds():g}s")
    if end <= start + eval_interval:
        raise ConfigError(
            f"backfill range {start.isoformat()} to {end.isoformat()} is empty. fix: --start must be before --end"
        )


def _subset(
    groups: Sequence[Mapping[str, Any]], rules: Sequence[RecordingRule], level: int, names: set[str] | None = None
) -> tuple[dict[str, Any], ...]:
    """The groups restricted to the rules of one level (and recording one of ``names``); empty
    groups are dropped, names and intervals stay (promtool evaluates them as the server does)."""
    out = []
    for i, g in enumerate(groups):
        kept = [
            r.rule for r in rules if r.group == i and r.level == level and (names is None or r.rule["record"] in names)
        ]
        if kept:
            out.append({k: v for k, v in g.items() if k != "rules"} | {"rules": kept})
    return tuple(out)


def _lead_runs(groups: Sequence[Mapping[str, Any]], rules: Sequence[RecordingRule], start: pd.Timestamp) -> list[Run]:
    """Runs before ``start`` for the names a windowed dependent reads: each such name starts one
    dependent window earlier (the longest when several read it)."""
    lead: dict[str, pd.Timedelta] = {}
    for r in rules:
        for dep in r.reads:
            lead[dep] = max(lead.get(dep, pd.Timedelta(0)), lookback(str(r.rule["expr"])))
    runs = []
    for level in sorted({r.level for r in rules if r.rule["record"] in lead}):
        for span in sorted({w for w in lead.values() if w > pd.Timedelta(0)}):
            names = {n for n, w in lead.items() if w == span}
            groups_at = _subset(groups, rules, level, names)
            if groups_at:
                label = f"pass {level + 1}, the {format_duration(span)} before --start (read by the next pass)"
                runs.append(Run(label, level, groups_at, start - span, start))
    return runs


def _notes(runs: Sequence[Run]) -> tuple[str, ...]:
    notes = [
        "alerting rules are not backfilled: promtool evaluates recording rules only, so ALERTS starts when "
        "Prometheus loads the rules; the srekit Grafana dashboard draws the alert conditions from the backfilled "
        "ratios"
    ]
    if any(r.level > 0 for r in runs):
        notes.append(
            "some recording rules read other recording rules; promtool evaluates each rule against the source, "
            "where new series do not exist yet, so srekit ran them in dependency order, later passes against a "
            "local Prometheus serving the earlier passes' blocks"
        )
    return tuple(notes)


# ----------------------------------------------------------------------------- running (I/O)


def find_tool(name: str, given: str | Path | None = None) -> str:
    """Absolute path of ``promtool`` or ``prometheus``; missing is a :class:`BackfillError` with the install hint."""
    found = shutil.which(str(given)) if given else shutil.which(name)
    if found is None:
        where = f"{given} is not an executable" if given else f"{name} is not on PATH"
        raise BackfillError(f"{where}; srekit backfill runs Prometheus's own tools. fix: {INSTALL_HINT}")
    return found


def tool_version(path: str) -> tuple[int, int, int]:
    """``(major, minor, patch)`` from ``<tool> --version``."""
    out = subprocess.run([path, "--version"], capture_output=True, text=True, timeout=60)
    m = re.search(r"version (\d+)\.(\d+)\.(\d+)", out.stdout + out.stderr)
    if m is None:
        raise BackfillError(
            f"cannot read the version of {path} ({(out.stdout + out.stderr)[:200]!r}). fix: {INSTALL_HINT}"
        )
    major, minor, patch = (int(g) for g in m.groups())
    return major, minor, patch


def check_promtool(path: str) -> tuple[int, int, int]:
    version = tool_version(path)
    if version[:2] < PROMTOOL_MIN_VERSION:
        raise BackfillError(
            f"{path} is promtool {'.'.join(map(str, version))}; backfilling recording rules needs promtool "
            f"{'.'.join(map(str, PROMTOOL_MIN_VERSION))} or later (`tsdb create-blocks-from rules`). "
            f"fix: {INSTALL_HINT}"
        )
    return version


@dataclass(frozen=True, slots=True)
class BlockStats:
    """Blocks in a folder, read from their ``meta.json`` (the TSDB's own on-disk metadata)."""

    blocks: int
    samples: int
    series: int
    bytes: int
    min_time: pd.Timestamp | None
    max_time: pd.Timestamp | None


def block_stats(folder: Path) -> BlockStats:
    metas = [json.loads(p.read_text()) for p in sorted(Path(folder).glob("*/meta.json"))]
    size = sum(f.stat().st_size for p in Path(folder).glob("*/meta.json") for f in p.parent.rglob("*") if f.is_file())
    stamps = [m["minTime"] for m in metas] + [m["maxTime"] for m in metas]
    return BlockStats(
        blocks=len(metas),
        samples=sum(int(m["stats"].get("numSamples", 0)) for m in metas),
        series=sum(int(m["stats"].get("numSeries", 0)) for m in metas),
        bytes=size,
        min_time=pd.Timestamp(min(stamps), unit="ms", tz="UTC") if stamps else None,
        max_time=pd.Timestamp(max(stamps), unit="ms", tz="UTC") if stamps else None,
    )


def _promtool_chunk(
    promtool: str, rules: Path, url: str, span: tuple[pd.Timestamp, pd.Timestamp], *, out: Path, plan: BackfillPlan
) -> None:
    """One ``promtool tsdb create-blocks-from rules`` over one chunk (run inside the rules' folder,
    so the group keys, and with them the evaluation offsets, do not depend on temporary paths)."""
    cmd = [
        promtool,
        "tsdb",
        "create-blocks-from",
        f"--max-block-duration={int(plan.block.total_seconds())}s",
        "rules",
        "--quiet",
        f"--url={url}",
        f"--start={int(span[0].timestamp())}",
        f"--end={int(span[1].timestamp())}",
        f"--eval-interval={int(plan.eval_interval.total_seconds())}s",
        f"--output-dir={out}",
        rules.name,
    ]
    try:
        done = subprocess.run(cmd, cwd=rules.parent, capture_output=True, text=True, timeout=CHUNK_TIMEOUT_S)
    except subprocess.TimeoutExpired as exc:
        raise BackfillError(
            f"promtool did not finish {span[0].isoformat()} to {span[1].isoformat()} in {CHUNK_TIMEOUT_S:.0f} s. "
            "fix: a shorter --chunk, or a larger --eval-interval"
        ) from exc
    if done.returncode != 0:
        tail = (done.stderr or done.stdout).strip()[-1500:]
        raise BackfillError(
            f"promtool tsdb create-blocks-from rules failed for {span[0].isoformat()} to {span[1].isoformat()} "
            f"against {url} (exit {done.returncode}): {tail}. fix: check that --url reaches the Prometheus HTTP API "
            "and that the rules pass `promtool check rules`"
        )


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def local_prometheus(binary: str, blocks: Path, workdir: Path, *, oldest: pd.Timestamp) -> Iterator[str]:
    """A throwaway Prometheus on 127.0.0.1 serving hard links of ``blocks`` (its compaction never
    touches the originals), with a retention that keeps ``oldest``; yields its URL, stops it by pid."""
    import requests

    data = workdir / "tsdb"
    shutil.copytree(blocks, data, copy_function=os.link, dirs_exist_ok=True)
    (workdir / "prometheus.yml").write_text("global:\n  evaluation_interval: 1m\n")
    days = int((pd.Timestamp.now(tz="UTC") - oldest) / pd.Timedelta(days=1)) + 30
    url = f"http://127.0.0.1:{_free_port()}"
    log = workdir / "prometheus.log"
    cmd = [
        binary,
        f"--config.file={workdir / 'prometheus.yml'}",
        f"--storage.tsdb.path={data}",
        f"--web.listen-address={url.removeprefix('http://')}",
        f"--storage.tsdb.retention.time={days}d",
    ]
    with log.open("w") as err:
        proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=err, cwd=workdir)
    try:
        deadline = time.monotonic() + 120
        while True:
            if proc.poll() is not None:
                raise BackfillError(f"the local prometheus exited ({proc.returncode}): {log.read_text()[-1500:]}")
            try:
                if requests.get(f"{url}/-/ready", timeout=1).status_code == 200:
                    break
            except requests.RequestException:
                pass
            if time.monotonic() > deadline:
                raise BackfillError(f"the local prometheus was not ready in 120 s: {log.read_text()[-1500:]}")
            time.sleep(0.1)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@dataclass(frozen=True, slots=True)
class BackfillResult:
    """What a backfill wrote into ``out_dir``: block statistics per run and overall."""

    out_dir: Path
    per_run: tuple[tuple[str, BlockStats], ...]
    total: BlockStats
    seconds: float


def run_backfill(
    plan: BackfillPlan,
    *,
    url: str,
    out_dir: Path,
    promtool: str,
    prometheus: str | None = None,
    echo: Callable[[str], None] = lambda _: None,
) -> BackfillResult:
    """Run ``plan``: level 0 against ``url``, each later level against a local Prometheus serving the
    blocks written so far; then move every block into ``out_dir`` (which must be empty or absent).
    Paths are made absolute first: promtool and the local Prometheus run in folders of their own."""
    out_dir = Path(out_dir).resolve()
    if out_dir.exists() and any(out_dir.iterdir()):
        raise BackfillError(f"{out_dir} is not empty. fix: pass an empty or new folder as --out")
    if plan.levels > 1 and prometheus is None:
        raise BackfillError(
            f"dependent recording rules need a local prometheus to read the earlier passes. fix: {INSTALL_HINT}"
        )
    out_dir.mkdir(parents=True, exist_ok=True)
    t0 = time.monotonic()
    with tempfile.TemporaryDirectory(prefix=".srekit-backfill-", dir=out_dir) as tmp:
        work = Path(tmp)
        blocks = work / "blocks"
        blocks.mkdir()
        per_run = []
        for level in range(plan.levels):
            runs = [r for r in plan.runs if r.level == level]
            if level == 0:
                per_run += _run_level(plan, runs, url, work, blocks, promtool, echo)
                continue
            assert prometheus is not None
            serve = work / f"serve-{level}"
            serve.mkdir()
            oldest = min(r.start for r in plan.runs)
            with local_prometheus(prometheus, blocks, serve, oldest=oldest) as local:
                per_run += _run_level(plan, runs, local, work, blocks, promtool, echo)
        for block in sorted(p for p in blocks.iterdir() if (p / "meta.json").is_file()):
            block.rename(out_dir / block.name)
    return BackfillResult(out_dir, tuple(per_run), block_stats(out_dir), time.monotonic() - t0)


def _run_level(
    plan: BackfillPlan,
    runs: Sequence[Run],
    url: str,
    work: Path,
    blocks: Path,
    promtool: str,
    echo: Callable[[str], None],
) -> list[tuple[str, BlockStats]]:
    """Every run of one level against ``url``; the blocks land in ``blocks``. Each run's file is
    ``rules.yml`` in its own folder, so a group keeps its key, and with it the evaluation offset
    Prometheus derives from it, across the runs and passes (as in the one live group)."""
    out = []
    for run in runs:
        folder = work / f"run-{plan.runs.index(run)}"
        folder.mkdir()
        rules = folder / "rules.yml"
        rules.write_text(dump_yaml(run.document()))
        staged = folder / "blocks"
        spans = plan.chunks(run)
        for j, span in enumerate(spans, 1):
            t = time.monotonic()
            _promtool_chunk(promtool, rules, url, span, out=staged, plan=plan)
            echo(
                f"{run.label}: chunk {j}/{len(spans)} {span[0]:%Y-%m-%d %H:%M} to {span[1]:%Y-%m-%d %H:%M} UTC, "
                f"{run.rules} rules ({time.monotonic() - t:.1f} s)"
            )
        stats = block_stats(staged)
        if staged.exists():
            for block in staged.iterdir():
                block.rename(blocks / block.name)
        out.append((run.label, stats))
    return out


def scraped_selectors(plan: BackfillPlan) -> list[str]:
    """The selectors of scraped series that the first pass reads (``name{matchers}``), each once."""
    found: dict[str, None] = {}
    for run in plan.runs:
        if run.level == 0:
            for group in run.groups:
                for rule in group["rules"]:
                    found.update(dict.fromkeys(selectors(str(rule["expr"]))))
    return list(found)
