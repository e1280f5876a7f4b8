"""``srekit fleet report``: every service of a fleet rendered as its own report, in parallel, then
the fleet overview (``docs/fleet.md``).

Each service is one task, :func:`build_service`: its analysis and notebooks built by
:func:`srekit.report.runner.build_run` into a scratch folder beside its final run folder, then
its overview rows (:mod:`srekit.analysis.fleet`) read from the report.json it wrote. Tasks run in
a local process pool (``--jobs``) or on a ``dask.distributed`` cluster (``--scheduler``); a Dask
worker process is daemonic and may not start the notebook process pool itself, so there the task
runs the same function in a child interpreter (:func:`build_service_isolated`). Either way the
workers must see the fleet's files and the output folder at the same paths (one machine, or a
shared file system).

The parent holds the output folder's lock for the whole run, places each finished run (the same
rename as ``srekit report``), prunes old runs (``report.keep``), and writes the overview folder
(``fleet/<date>/``: ``index.html``, ``fleet.json``, ``fleet.csv``) and ``index.html`` of all runs.
A service that fails is listed with its reason; the others render.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import pickle
import re
import shutil
import string
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from srekit.analysis.fleet import (
    CalendarCell,
    FleetOverview,
    FleetRow,
    ServiceRun,
    assemble,
    service_calendar,
    service_rows,
)
from srekit.core.errors import ConfigError, SrekitError
from srekit.core.files import atomic_write, csv_text, safe_file_name
from srekit.inputs.config import ServiceConfig
from srekit.inputs.fleet import Fleet, FleetMember
from srekit.report.runner import (
    LOCK_NAME,
    PARTIAL,
    RunLock,
    _clean_partials,
    _place,
    _prune,
    build_run,
    index_html,
    list_runs,
    plan_run,
    run_dir_for,
)

#: The overview's files in its folder.
FLEET_JSON = "fleet.json"
FLEET_CSV = "fleet.csv"
FLEET_HTML = "index.html"
#: How long to wait for a Dask scheduler to answer.
DASK_CONNECT_TIMEOUT = "10s"


@dataclass(frozen=True, slots=True)
class ServiceJob:
    """What one worker needs to build one service's report (picklable)."""

    config: ServiceConfig
    label: str  # its service.yaml as listed
    team: str | None
    tier: int | str | None
    scratch: Path  # the empty folder to build in (beside ``final``)
    final: Path  # where the parent places it
    out: Path  # the reports root
    generated_at: pd.Timestamp
    seed: int = 7
    notebook_jobs: int | None = None  # notebooks in parallel within the service (None: the CPUs)
    notebooks_dir: Path | None = None
    fresh_kernels: bool = False


@dataclass(frozen=True, slots=True)
class ServiceOutcome:
    """What a task returns: the service's run and its overview rows (small: no report.json)."""

    run: ServiceRun
    rows: tuple[FleetRow, ...] = ()
    calendar: tuple[CalendarCell, ...] = ()


@dataclass(frozen=True, slots=True)
class FleetResult:
    """What ``srekit fleet report`` produced."""

    overview: FleetOverview
    folder: Path  # the overview folder (index.html, fleet.json, fleet.csv)
    seconds: float

    @property
    def failed(self) -> tuple[ServiceRun, ...]:
        return self.overview.failed


# ------------------------------------------------------------------------------ one service (a task)


def _failed(job: ServiceJob, reason: str, t0: float) -> ServiceOutcome:
    run = ServiceRun(
        job.config.service, job.label, job.team, job.tier, "failed", reason, None, time.perf_counter() - t0
    )
    return ServiceOutcome(run)


def build_service(job: ServiceJob) -> ServiceOutcome:
    """Build one service's report into ``job.scratch``; a service that cannot be analysed is a
    failed outcome with its reason (the error's own text), never an exception."""
    t0 = time.perf_counter()
    service = job.config.service
    try:
        plan = plan_run(
            job.config, notebooks_dir=job.notebooks_dir, only=list(job.config.report.notebooks), seed=job.seed
        )
        job.scratch.mkdir(parents=True, exist_ok=True)
        built = build_run(
            job.config,
            job.scratch,
            plan,
            generated_at=job.generated_at,
            jobs=job.notebook_jobs,
            progress=False,
            fresh_kernels=job.fresh_kernels,
            log=lambda s: print(f"[{service}] {s}", file=sys.stderr),
        )
        report = json.loads((job.scratch / "report.json").read_text(encoding="utf-8"))
    except SrekitError as exc:
        shutil.rmtree(job.scratch, ignore_errors=True)
        return _failed(job, str(exc), t0)
    except Exception as exc:  # a bug or the machine: the service fails, the fleet goes on
        shutil.rmtree(job.scratch, ignore_errors=True)
        return _failed(job, f"{type(exc).__name__}: {exc}", t0)
    problems = [f"notebook {r.name} failed: {r.error}" for r in built.failed]
    problems += [f"analysis section failed: {s}" for s in built.sections_failed]
    run = ServiceRun(
        service=service,
        config=job.label,
        team=job.team,
        tier=job.tier,
        status="partial" if problems else "ok",
        reason="; ".join(problems) or None,
        report_dir=job.final.relative_to(job.out).as_posix(),
        seconds=time.perf_counter() - t0,
    )
    return ServiceOutcome(run, tuple(service_rows(run, report)), tuple(service_calendar(service, report)))


def build_service_isolated(job: ServiceJob) -> ServiceOutcome:
    """:func:`build_service` in a child interpreter (``python -m srekit.report.fleet_task``): for a
    daemonic worker process (Dask's), which may not start process pools itself."""
    if not multiprocessing.current_process().daemon:
        return build_service(job)
    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="srekit-fleet-") as tmp:
        src, dst = Path(tmp) / "job.pickle", Path(tmp) / "outcome.pickle"
        src.write_bytes(pickle.dumps(job))
        done = subprocess.run([sys.executable, "-m", "srekit.report.fleet_task", str(src), str(dst)], check=False)
        if done.returncode != 0 or not dst.is_file():
            shutil.rmtree(job.scratch, ignore_errors=True)
            return _failed(job, f"the worker's child process exited with code {done.returncode}", t0)
        outcome: ServiceOutcome = pickle.loads(dst.read_bytes())
    return outcome


# ------------------------------------------------------------------------------ the whole fleet


def plan_jobs(
    fleet: Fleet,
    out: Path,
    *,
    generated_at: pd.Timestamp,
    seed: int,
    notebook_jobs: int | None,
    notebooks_dir: Path | None = None,
    fresh_kernels: bool = False,
) -> list[ServiceJob]:
    """One job per usable service, its scratch folder named like ``srekit report``'s (so a killed
    run's leftovers are cleaned the same way)."""
    jobs = []
    for m in fleet.usable:
        assert m.config is not None
        final = run_dir_for(m.config, out, generated_at)
        scratch = final.parent / f".{final.name}{PARTIAL}{os.getpid()}"
        jobs.append(
            ServiceJob(
                m.config,
                m.label,
                m.team,
                m.tier,
                scratch,
                final,
                out.resolve(),
                generated_at,
                seed,
                notebook_jobs,
                notebooks_dir,
                fresh_kernels,
            )
        )
    return jobs


def _unusable(m: FleetMember) -> ServiceRun:
    return ServiceRun(m.name, m.label, m.team, m.tier, "failed", m.error or "unusable service.yaml", None, 0.0)


def _outcome(job: ServiceJob, fut: Any) -> ServiceOutcome:
    """A task's outcome; a task that raised (a worker process died, a lost connection) is the
    service's failure, not the fleet's."""
    try:
        outcome: ServiceOutcome = fut.result()
    except Exception as exc:
        return _failed(job, f"the task failed: {type(exc).__name__}: {exc}", time.perf_counter())
    return outcome


def _local(jobs: Sequence[ServiceJob], workers: int) -> Iterator[ServiceOutcome]:
    with ProcessPoolExecutor(max_workers=max(1, min(workers, len(jobs)))) as pool:
        futures: dict[Future[ServiceOutcome], ServiceJob] = {pool.submit(build_service, j): j for j in jobs}
        try:
            for fut in as_completed(futures):
                yield _outcome(futures[fut], fut)
        except BaseException:
            pool.shutdown(wait=True, cancel_futures=True)
            raise


def _dask(jobs: Sequence[ServiceJob], scheduler: str) -> Iterator[ServiceOutcome]:
    from dask.distributed import Client
    from dask.distributed import as_completed as dask_completed

    try:
        client = Client(scheduler, timeout=DASK_CONNECT_TIMEOUT)
    except (OSError, TimeoutError, ValueError) as exc:
        raise ConfigError(
            f"cannot reach the Dask scheduler at {scheduler!r}: {exc}. fix: check --scheduler (e.g. "
            "tcp://host:8786) and that the scheduler runs, or drop it for a local process pool"
        ) from None
    with client:
        futures = {
            client.submit(build_service_isolated, j, key=f"srekit-fleet-{safe_file_name(j.config.service)}-{i}"): j
            for i, j in enumerate(jobs)
        }
        try:
            for fut in dask_completed(list(futures)):
                yield _outcome(futures[fut], fut)
        except BaseException:
            client.cancel(list(futures))
            raise


def _settle(outcome: ServiceOutcome, job: ServiceJob, out: Path) -> ServiceOutcome:
    """Place a built run (and prune old ones); a failed one leaves nothing behind."""
    if outcome.run.status == "failed":
        shutil.rmtree(job.scratch, ignore_errors=True)
        return outcome
    _place(job.scratch, job.final)
    _prune(out, job.config)
    return outcome


def overview_of(fleet: Fleet, outcomes: Sequence[ServiceOutcome], generated_at: pd.Timestamp) -> FleetOverview:
    """The overview from every service's outcome (:func:`srekit.analysis.fleet.assemble`)."""
    return assemble(
        fleet.name,
        [o.run for o in outcomes],
        [r for o in outcomes for r in o.rows],
        [c for o in outcomes for c in o.calendar],
        generated_at=generated_at,
    )


def fleet_folder(fleet: Fleet, out: Path, generated_at: pd.Timestamp) -> Path:
    """The overview folder: ``out / report.path_template`` of the fleet file (default ``fleet/{date}``)."""
    rel = fleet.report.path_template.format(
        fleet=safe_file_name(fleet.name, fallback="fleet"),
        date=generated_at.strftime("%Y-%m-%d"),
        time=generated_at.strftime("%H%M%S"),
    )
    target = (out / rel).resolve()
    if out.resolve() not in target.parents:
        raise ConfigError(f"report.path_template {fleet.report.path_template!r} of the fleet leaves {out}")
    return target


def _fleet_pattern(fleet: Fleet) -> re.Pattern[str]:
    """The relative folders the fleet's ``report.path_template`` makes (any date and time)."""
    fields = {
        "fleet": re.escape(safe_file_name(fleet.name, fallback="fleet")),
        "date": r"\d{4}-\d{2}-\d{2}",
        "time": r"\d{6}",
    }
    parts = string.Formatter().parse(fleet.report.path_template)
    return re.compile("".join(re.escape(lit) + (fields[name] if name else "") for lit, name, _, _ in parts))


def prune_overviews(fleet: Fleet, out: Path) -> list[str]:
    """Delete all but the newest ``report.keep`` overview folders of this fleet: only folders its
    path template makes that hold a fleet.json of this fleet."""
    if not fleet.report.keep:
        return []
    pattern = _fleet_pattern(fleet)
    mine = []
    for f in out.glob("**/" + FLEET_JSON):
        rel = f.parent.relative_to(out).as_posix()
        try:
            data = json.loads(f.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        if pattern.fullmatch(rel) and isinstance(data, dict) and data.get("fleet") == fleet.name:
            mine.append((str(data.get("generated_at", "")), f.parent))
    mine.sort(reverse=True)
    for _, folder in mine[fleet.report.keep :]:
        shutil.rmtree(folder, ignore_errors=True)
    return [folder.relative_to(out).as_posix() for _, folder in mine[fleet.report.keep :]]


def write_overview_list(where: Path, out: Path) -> Path:
    """``index.html`` in ``where`` (``reports/fleet/``): every fleet overview below it, newest first."""
    from srekit.report.fleet_html import overviews_html

    found = []
    for f in sorted(where.glob("**/" + FLEET_JSON)):
        rel = f.parent.relative_to(where)
        if not rel.parts or any(part.startswith(".") for part in rel.parts):
            continue
        try:
            data = json.loads(f.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        if isinstance(data, dict) and isinstance(data.get("generated_at"), str):
            found.append({**data, "href": rel.as_posix()})
    return atomic_write(where / FLEET_HTML, overviews_html(found))


def write_overview(overview: FleetOverview, folder: Path, out: Path) -> list[Path]:
    """``index.html``, ``fleet.json`` and ``fleet.csv`` of the overview into ``folder``."""
    from srekit.report.fleet_html import fleet_html
    from srekit.report.tables.fleet import csv_frame

    d = overview.to_dict()
    links = folder.relative_to(out.resolve()).parts
    up = "/".join([".."] * len(links))
    written = [
        atomic_write(folder / FLEET_JSON, json.dumps(d, indent=2, ensure_ascii=False, allow_nan=False) + "\n"),
        atomic_write(folder / FLEET_CSV, csv_text(csv_frame(d))),
        atomic_write(folder / FLEET_HTML, fleet_html(d, root=up)),
    ]
    return written


def run_fleet(
    fleet: Fleet,
    out: Path,
    *,
    generated_at: pd.Timestamp,
    jobs: int | None = None,
    scheduler: str | None = None,
    seed: int = 7,
    notebooks_dir: Path | None = None,
    fresh_kernels: bool = False,
    log: Callable[[str], None] = lambda s: print(s, file=sys.stderr),
) -> FleetResult:
    """Every service's report under ``out`` and the overview in :func:`fleet_folder`, under the
    output folder's lock. ``jobs``: services in parallel in the local pool (default: the CPUs);
    ``scheduler``: a Dask scheduler address instead."""
    t0 = time.perf_counter()
    out = Path(out)
    cpus = os.cpu_count() or 1
    workers = jobs or cpus
    nb_jobs = None if scheduler else max(1, cpus // workers)
    planned = plan_jobs(
        fleet,
        out,
        generated_at=generated_at,
        seed=seed,
        notebook_jobs=nb_jobs,
        notebooks_dir=notebooks_dir,
        fresh_kernels=fresh_kernels,
    )
    for only in sorted({j.config.report.notebooks for j in planned}):  # a bad --notebooks: exit 2 before any run
        plan_run(planned[0].config, notebooks_dir=notebooks_dir, only=list(only), seed=seed)
    by_name = {j.config.service: j for j in planned}
    outcomes = [ServiceOutcome(_unusable(m)) for m in fleet.unusable]
    with RunLock(out / LOCK_NAME):
        _clean_partials(out)
        stream = _dask(planned, scheduler) if scheduler else _local(planned, workers)
        try:
            for outcome in stream:
                outcomes.append(_settle(outcome, by_name[outcome.run.service], out))
                run = outcome.run
                note = f": {run.reason}" if run.reason else ""
                log(f"srekit fleet: {run.service} {run.status} ({run.seconds or 0:.1f} s){note}")
        finally:
            for j in planned:  # interrupted: no scratch folder stays behind
                shutil.rmtree(j.scratch, ignore_errors=True)
        overview = overview_of(fleet, outcomes, generated_at)
        folder = fleet_folder(fleet, out, generated_at)
        tmp = folder.parent / f".{folder.name}{PARTIAL}{os.getpid()}"
        tmp.mkdir(parents=True)
        try:
            write_overview(overview, tmp, out)
            _place(tmp, folder)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        prune_overviews(fleet, out)
        if folder.parent != out.resolve():  # e.g. reports/fleet/index.html; never over the runs' index
            write_overview_list(folder.parent, out)
        atomic_write(out / "index.html", index_html(list_runs(out)))
    return FleetResult(overview, folder, time.perf_counter() - t0)
