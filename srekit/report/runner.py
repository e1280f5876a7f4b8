"""Run the notebooks into a report folder: ``srekit analyze`` and ``srekit report``.

A run is built in a hidden temporary sibling folder and renamed into place at the end, so a run
killed midway leaves the previous run intact and no half-written file at a final path. A lock
file in the output root (holding the owner's pid) keeps two runs from writing the same folder.
Notebooks execute in parallel processes through papermill (cwd = the notebooks folder), in
kernels forked from a preloaded process (:mod:`srekit.report.kernels`; ``fresh_kernels`` starts them
the usual way); a render process writes each one's stakeholder and engineer HTML as it
finishes, while the workers go on with the next notebooks.

The analysis is computed once, in the parent (:class:`srekit.report.cache.Analysis`): it writes
report.json and is saved to a file in the run's temporary folder that every notebook loads through
its ``analysis_cache`` parameter (:func:`open_analysis`) instead of re-running the analyses. The
notebooks start while the parent is still computing and wait for that file.

Heavy imports (papermill, nbconvert) happen inside the functions that need them, so notebooks can
import :func:`open_analysis` cheaply.
"""

from __future__ import annotations

import contextlib
import functools
import json
import os
import re
import shutil
import socket
import string
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Future, ProcessPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import pandas as pd

from srekit.core.errors import ParameterError, SrekitError, UsageError
from srekit.core.files import atomic_write, csv_text, safe_file_name
from srekit.inputs.config import ServiceConfig, load_config
from srekit.report.cache import pid_alive
from srekit.report.contract import report_json_text
from srekit.report.html import index_html, notebook_html
from srekit.report.markdown import report_markdown

_formatter = string.Formatter()
LOCK_NAME = ".srekit-report.lock"
RUN_FILE = "run.json"
PARTIAL = ".partial-"
OLD = ".old-"
#: Parameters the runner fills in itself when a notebook declares them.
RUNNER_PARAMETERS = ("config_path", "report_json_path", "analysis_cache", "seed")
#: The saved analysis (a folder) in the run's temporary folder; removed before the run is put in place.
CACHE_NAME = ".analysis"
EXIT_LOCKED = 3
#: A run stopped by Ctrl-C (SIGINT) exits with this code (128 + SIGINT, as a shell reports it).
EXIT_INTERRUPTED = 130


class ReportLocked(SrekitError):
    """Another run holds the output folder's lock (or the lock of a folder inside it or around it)."""

    exit_code = EXIT_LOCKED


# --------------------------------------------------------------------------------------------
# loading (used by the CLI and by notebooks)
# --------------------------------------------------------------------------------------------


def with_prometheus(config: ServiceConfig, prometheus_url: str) -> ServiceConfig:
    """``config`` with telemetry pulled from ``prometheus_url`` instead of files (unchanged when
    the URL is empty)."""
    if not prometheus_url:
        return config
    files = {k: v for k, v in config.data.items() if k not in ("telemetry", "requests")}
    return replace(config, data=files, prometheus=replace(config.prometheus, url=prometheus_url))


def open_analysis(
    analysis_cache: str | Path, config_path: str | Path, *, seed: int = 7, prometheus_url: str = ""
) -> Any:
    """The :class:`srekit.report.cache.Analysis` for a notebook's first cell.

    ``analysis_cache`` set (``srekit report`` passes it): the analysis the runner computes, read
    from that folder value by value (waiting for what the runner is still computing). Empty (JupyterLab,
    standalone): a fresh lazy analysis of ``config_path`` that computes only what the notebook
    touches. ``prometheus_url`` overrides ``prometheus.url`` in the config, so the telemetry is
    pulled from Prometheus instead of files.
    """
    from srekit.report.cache import Analysis, load

    if analysis_cache:
        return load(analysis_cache)
    config = with_prometheus(load_config(config_path), prometheus_url)
    return Analysis(config, seed=seed, generated_at=pd.Timestamp.now(tz="UTC"), parameters={"seed": seed})


def analysis_for(
    config: ServiceConfig,
    *,
    seed: int,
    generated_at: pd.Timestamp,
    parameters: Mapping[str, Any] | None = None,
    quarantine_dir: Path | None = None,
) -> Any:
    """A lazy :class:`srekit.report.cache.Analysis` of ``config`` (rejected input rows go to
    ``quarantine_dir`` when the inputs are loaded; OpenSLO files in ``slo.openslo`` are the
    SLOs in force)."""
    from srekit.report.cache import Analysis

    return Analysis(
        config, seed=seed, generated_at=generated_at, parameters=parameters or {}, quarantine_dir=quarantine_dir
    )


def write_analysis(report: Any, out_dir: Path, *, config: ServiceConfig | None = None) -> list[Path]:
    """Write ``report.json``, ``report.md``, CSV exports and (when the alerting exporter exists
    and the report has SLO specs) rules and runbooks into ``out_dir``; every file atomically."""
    d = report.to_dict()
    written = [
        atomic_write(out_dir / "report.json", report_json_text(d)),
        atomic_write(out_dir / "report.md", report_markdown(d)),
    ]
    for name, records in csv_exports(d).items():
        written.append(atomic_write(out_dir / f"{name}.csv", csv_text(pd.DataFrame.from_records(records))))
    specs = getattr(report, "specs", ())
    if config is not None and specs:
        from srekit.exports.bundle import export_all

        export_all(specs, config, out_dir / "rules", policies=getattr(report, "policies", None) or None)
    return written


def csv_exports(report: Mapping[str, Any]) -> dict[str, list[dict[str, Any]]]:
    """Tables exported as CSV next to report.json (spreadsheet-safe): open questions, the
    journeys, the incident follow-up tracker, and every list of flat records in the backlog
    section."""
    out: dict[str, list[dict[str, Any]]] = {}
    if report.get("open_questions"):
        out["open_questions"] = list(report["open_questions"])
    journeys = (report.get("inputs") or {}).get("journeys")
    if journeys:
        out["journeys"] = list(journeys)
    follow_up = (report.get("incident_response") or {}).get("follow_up")
    if isinstance(follow_up, list) and follow_up and all(isinstance(v, Mapping) for v in follow_up):
        out["incident_follow_up"] = list(follow_up)
    for key, value in (report.get("backlog") or {}).items():
        if isinstance(value, list) and value and all(isinstance(v, Mapping) for v in value):
            flat = [
                {
                    k: (v if v is None or isinstance(v, str | int | float | bool) else json.dumps(v))
                    for k, v in r.items()
                }
                for r in value
            ]
            out["backlog" if key == "items" else f"backlog_{key}"] = flat
    return out


# --------------------------------------------------------------------------------------------
# notebooks and parameters
# --------------------------------------------------------------------------------------------


def default_notebooks_dir() -> Path:
    """``notebooks/`` beside the package (the repository layout), else ``./notebooks``."""
    beside = Path(__file__).resolve().parents[2] / "notebooks"
    return beside if beside.is_dir() else Path.cwd() / "notebooks"


def discover_notebooks(notebooks_dir: Path, only: Sequence[str] = ()) -> list[Path]:
    """Every ``*.ipynb`` in the folder that is part of the report (sorted, see :func:`in_report`),
    or those named in ``only`` (a stem such as ``01_telemetry`` or its number prefix ``01``)."""
    found = sorted(p for p in notebooks_dir.glob("*.ipynb") if not p.name.startswith("."))
    if not found:
        raise SrekitError(
            f"no notebooks in {notebooks_dir}. fix: pass --notebooks DIR or run from the srekit repository"
        )
    if not only:
        return [p for p in found if in_report(p)]
    chosen: list[Path] = []
    for name in only:
        hits = [p for p in found if p.stem == name or p.stem.split("_", 1)[0] == name]
        if not hits:
            raise ParameterError(f"--only {name!r} matches no notebook. valid: {', '.join(p.stem for p in found)}")
        chosen += [h for h in hits if h not in chosen]
    return sorted(chosen)


def read_notebook(path: Path) -> Any:
    """The notebook at ``path``; a :class:`UsageError` naming it when it is not one."""
    import nbformat

    try:
        return nbformat.read(str(path), as_version=4)
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:  # NotJSONError is a ValueError
        raise UsageError(
            f"{path} is not a readable Jupyter notebook ({type(exc).__name__}: {str(exc)[:200]}). fix: repair or "
            "remove it, or choose the notebooks with --only / --notebooks"
        ) from None


def notebook_parameters(path: Path) -> dict[str, str]:
    """Parameter names declared in a notebook's ``parameters`` cell with their default text.

    Read with Python's own parser (every top-level assignment in the cell), which also accepts
    lines papermill's line-based inspector cannot parse (e.g. quotes inside a comment).
    """
    import ast

    nb = read_notebook(path)
    cells = [c for c in nb.cells if c.cell_type == "code" and "parameters" in c.get("metadata", {}).get("tags", [])]
    out: dict[str, str] = {}
    for cell in cells[:1]:
        try:
            tree = ast.parse(cell.source)
        except SyntaxError as exc:
            raise ParameterError(
                f"{path}: the parameters cell is not valid Python ({exc.msg}, line {exc.lineno})"
            ) from exc
        for node in tree.body:
            targets = (
                node.targets
                if isinstance(node, ast.Assign)
                else [node.target]
                if isinstance(node, ast.AnnAssign)
                else []
            )
            value = getattr(node, "value", None)
            for t in targets:
                if isinstance(t, ast.Name):
                    out[t.id] = "" if value is None else (ast.get_source_segment(cell.source, value) or "")
    return out


def in_report(path: Path) -> bool:
    """False when the notebook's metadata says ``srekit.in_report: false``: an interactive
    notebook (the explorer, 07) that the report renders only when ``--only`` names it."""
    meta = read_notebook(path).metadata.get("srekit", {})
    return not (isinstance(meta, Mapping) and meta.get("in_report") is False)


def runs_last(path: Path) -> bool:
    """True when the notebook's metadata says ``srekit.run_last``: it presents every section
    (the report notebook), so it would wait for the whole analysis; queued after the others, it
    does not hold a worker while the notebooks that need only part of it could run."""
    meta = read_notebook(path).metadata.get("srekit", {})
    return bool(isinstance(meta, Mapping) and meta.get("run_last"))


def parse_value(text: str) -> Any:
    """A ``-p NAME=VALUE`` value: bool/None words, int, float, else the text itself."""
    low = text.strip().lower()
    if low in ("true", "false"):
        return low == "true"
    if low in ("none", "null"):
        return None
    for conv in (int, float):
        try:
            return conv(text)
        except ValueError:
            pass
    return text


def parse_params(pairs: Sequence[str]) -> dict[str, Any]:
    """``["a=1", "b=x"]`` → ``{"a": 1, "b": "x"}``; raises :class:`ParameterError` on bad form."""
    out: dict[str, Any] = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not re.fullmatch(r"[A-Za-z_]\w*", name.strip()):
            raise ParameterError(
                f"-p expects NAME=VALUE with a Python identifier as NAME, got {pair!r}. fix: e.g. -p seed=7"
            )
        out[name.strip()] = parse_value(value)
    return out


def plan_parameters(
    notebooks: Sequence[Path], user: Mapping[str, Any], runner: Mapping[str, Any]
) -> dict[str, dict[str, Any]]:
    """Parameters for each notebook: the runner's and the user's, each only where the notebook
    declares it. A user name no notebook declares raises :class:`ParameterError` listing the
    valid names per notebook (papermill itself only warns)."""
    declared = {nb.stem: notebook_parameters(nb) for nb in notebooks}
    check_names(user, declared)
    merged = {**runner, **user}
    return {stem: {k: v for k, v in merged.items() if k in params} for stem, params in declared.items()}


def check_names(user: Mapping[str, Any], declared: Mapping[str, Mapping[str, str]]) -> None:
    """Raise :class:`ParameterError` for a ``-p`` name no notebook in ``declared`` takes."""
    valid = sorted({name for params in declared.values() for name in params})
    unknown = sorted(set(user) - set(valid))
    if unknown:
        per_nb = "; ".join(f"{stem}: {', '.join(sorted(p)) or '(none)'}" for stem, p in declared.items())
        raise ParameterError(
            f"unknown notebook parameter(s) {', '.join(unknown)}. valid parameters: {', '.join(valid) or '(none)'} "
            f"({per_nb}). fix: check the spelling or drop the -p option"
        )


def check_user_parameters(notebooks: Sequence[Path], user: Mapping[str, Any], config: ServiceConfig) -> dict[str, Any]:
    """Every ``-p`` parameter before the run starts: set by the runner (refused), unknown to the
    chosen notebooks, or a value its notebook cannot use (:mod:`srekit.report.parameters`) —
    each a :class:`ParameterError`, exit 2. Returns the values as the notebooks get them."""
    from srekit.report.parameters import check_parameters

    reserved = sorted(set(user) & {"config_path", "report_json_path", "analysis_cache"})
    if reserved:
        raise ParameterError(
            f"-p {', '.join(reserved)}: set by the runner (use --config; report.json and the analysis are made by the "
            "run itself)"
        )
    declared = {nb.stem: notebook_parameters(nb) for nb in notebooks}
    check_names({k: v for k, v in user.items() if k != "seed"}, declared)
    return check_parameters(user, declared, config)


# --------------------------------------------------------------------------------------------
# the lock
# --------------------------------------------------------------------------------------------


@dataclass
class RunLock:
    """An exclusive lock file (``O_CREAT | O_EXCL``) naming its holder; a lock whose holder
    process is gone (same host) is stale and taken over.

    A run owns its output folder's whole tree: another run's live lock in a folder around it
    (``--out reports`` while a run writes ``reports/team-a``) or inside it (the other way round)
    is a conflict too, since the outer run lists, prunes and cleans up the inner folders. The
    lock is taken first and the tree checked after, so of two runs starting together at least
    one sees the other (both may give up: never both run)."""

    path: Path
    held: bool = field(default=False, init=False)

    def acquire(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        for _ in range(2):
            try:
                fd = os.open(self.path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
            except FileExistsError:
                holder = lock_holder(self.path)
                if _stale(holder):
                    self.path.unlink(missing_ok=True)  # stale: its process is gone
                    continue
                raise _locked(self.path, holder, "") from None
            with os.fdopen(fd, "w") as fh:
                json.dump(
                    {
                        "pid": os.getpid(),
                        "host": socket.gethostname(),
                        "started_at": pd.Timestamp.now(tz="UTC").isoformat(),
                    },
                    fh,
                )
            self.held = True
            self._check_tree()
            return
        raise ReportLocked(f"could not take the lock {self.path}")

    def _check_tree(self) -> None:
        """Give the lock back and raise :class:`ReportLocked` when a live run holds the lock of a
        folder around or inside this one."""
        root = self.path.parent.resolve()
        around = [a / LOCK_NAME for a in root.parents]
        inside = [p for p in root.rglob(LOCK_NAME) if p.parent != root]
        for other, where in [(p, "around") for p in around] + [(p, "inside") for p in inside]:
            holder = lock_holder(other) if other.is_file() else None
            if holder is not None and not _stale(holder):
                self.release()
                raise _locked(other, holder, f"{other.parent} is {where} the output folder {root}: ")

    def release(self) -> None:
        if self.held:
            self.path.unlink(missing_ok=True)
            self.held = False

    def __enter__(self) -> RunLock:
        self.acquire()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()


def lock_holder(path: Path) -> dict[str, Any]:
    """What a lock file says about its holder (``pid``, ``host``, ``started_at``); {} when unreadable."""
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return {}
    return dict(data) if isinstance(data, dict) else {}


def _holder_pid(holder: Mapping[str, Any]) -> int:
    pid = holder.get("pid")
    return pid if isinstance(pid, int) and not isinstance(pid, bool) and pid > 0 else 0


def _stale(holder: Mapping[str, Any]) -> bool:
    """A lock whose process is gone: same host and its pid no longer runs."""
    pid = _holder_pid(holder)
    return bool(pid) and holder.get("host") == socket.gethostname() and not pid_alive(pid)


def _locked(path: Path, holder: Mapping[str, Any], where: str) -> ReportLocked:
    return ReportLocked(
        f"{where}another srekit report run holds {path} (pid {_holder_pid(holder) or 'unknown'} on "
        f"{holder.get('host', '?')}, started {holder.get('started_at', '?')}). "
        "fix: wait for it to finish, or delete the lock file if that process no longer exists"
    )


# --------------------------------------------------------------------------------------------
# executing one notebook (in a worker process)
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class NotebookResult:
    """How one notebook run went."""

    name: str
    status: str  # ok | failed
    seconds: float
    error: str = ""

    def __post_init__(self) -> None:
        if self.status not in ("ok", "failed"):
            raise ValueError(f"status is ok or failed, not {self.status!r}")

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "status": self.status, "seconds": self.seconds, "error": self.error}


def title_of(nb: Any, fallback: str) -> str:
    """The first Markdown heading of a notebook, else ``fallback``."""
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            m = re.search(r"^#+\s+(.+)$", cell.source, flags=re.M)
            if m:
                return m.group(1).strip()
    return fallback


#: A kernel that died before its first reply ran no cell: the usual cause is another process taking
#: one of the TCP ports jupyter_client picked for it before the kernel bound them ("Address already
#: in use" in the notebook's log), on a busy machine. Such a notebook is started again, up to this
#: many times in all; a kernel that dies while running a cell is not.
KERNEL_START_ATTEMPTS = 3
KERNEL_START_FAILED = "RuntimeError: Kernel died before replying to kernel_info"


def execute_notebook(src: str, run_dir: str, params: dict[str, Any], cwd: str, zygote: str = "") -> NotebookResult:
    """Execute ``src`` with papermill into ``run_dir/notebooks/`` (kernel chatter to
    ``run_dir/logs/``). A failing cell is reported, not raised: :func:`render_notebook` then
    shows it. ``zygote``: the address of a :class:`srekit.report.kernels.KernelZygote` to fork the
    kernel from (empty: a fresh ``python3`` kernel).

    The kernel is stopped at once when the last cell is done (nbclient's ``immediate``
    shutdown): every output is already in the notebook, and a graceful stop only waits about
    half a second per notebook for a process nothing more is wanted from. The notebook is
    written when it is done or a cell fails, not after every cell (papermill's default, which
    rewrites the whole notebook with its images about 25 times). A kernel that dies before it
    answers (no cell run) is started again (:data:`KERNEL_START_ATTEMPTS`).
    """
    import papermill
    from papermill.exceptions import PapermillExecutionError

    name = Path(src).stem
    out_nb = Path(run_dir) / "notebooks" / f"{name}.ipynb"
    out_nb.parent.mkdir(parents=True, exist_ok=True)
    log = Path(run_dir) / "logs" / f"{name}.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    error = ""
    extra: dict[str, Any] = {}
    if zygote:
        from srekit.report.kernels import warm_kernel_manager

        extra["kernel_manager_class"] = warm_kernel_manager(zygote)
    saved = os.dup(2)
    with open(log, "w") as fh:
        os.dup2(fh.fileno(), 2)  # the kernel's own chatter goes to the log, not the terminal
        try:
            for attempt in range(1, KERNEL_START_ATTEMPTS + 1):
                error = ""
                try:
                    papermill.execute_notebook(
                        src,
                        str(out_nb),
                        parameters=params,
                        cwd=cwd,
                        progress_bar=False,
                        log_output=False,
                        kernel_name="python3",
                        shutdown_kernel="immediate",
                        request_save_on_cell_execute=False,
                        **extra,
                    )
                except PapermillExecutionError as exc:
                    error = f"cell {exc.exec_count}: {exc.ename}: {exc.evalue}"
                except Exception as exc:  # kernel died, bad notebook JSON… still report and render what exists
                    error = f"{type(exc).__name__}: {exc}"
                if not error.startswith(KERNEL_START_FAILED) or attempt == KERNEL_START_ATTEMPTS:
                    break
                print(f"[srekit] {error}: starting the kernel again (attempt {attempt + 1})", file=fh, flush=True)
        finally:
            os.dup2(saved, 2)
            os.close(saved)
    return NotebookResult(name=name, status="failed" if error else "ok", seconds=time.perf_counter() - t0, error=error)


#: How much lower the notebook processes' (and their kernels') scheduling priority is (``os.nice``).
WORKER_NICE = 10


def lower_priority() -> None:
    """Process-pool initializer: yield the CPU to the analysis every notebook waits for."""
    quiet_interrupt()
    if hasattr(os, "nice"):
        os.nice(WORKER_NICE)


def quiet_interrupt() -> None:
    """Process-pool initializer: Ctrl-C (SIGINT to the whole process group) ends a notebook or
    render process at once and silently; the ``srekit report`` process reports the interrupt,
    removes the run's temporary folder and exits 130."""
    import signal

    signal.signal(signal.SIGINT, lambda *_: os._exit(EXIT_INTERRUPTED))


def warm_up_rendering() -> None:
    """Import nbconvert and compile both exporters' templates (a render process does this once,
    before its first notebook arrives)."""
    import nbformat

    for audience in ("stakeholder", "engineer"):
        notebook_html(nbformat.v4.new_notebook(), audience=audience, title="warm-up")


def render_notebook(src: str | Path, run_dir: str | Path) -> None:
    """Render the executed ``run_dir/notebooks/NAME.ipynb`` (``src`` itself when execution left
    nothing) as stakeholder HTML (``run_dir/NAME.html``) and engineer HTML
    (``run_dir/engineer/NAME.html``); a failed run's HTML shows the failing cell."""
    import nbformat

    name = Path(src).stem
    out_nb = Path(run_dir) / "notebooks" / f"{name}.ipynb"
    nb = nbformat.read(str(out_nb if out_nb.exists() else src), as_version=4)
    title = title_of(nb, name)
    atomic_write(Path(run_dir) / f"{name}.html", notebook_html(nb, audience="stakeholder", title=title))
    atomic_write(
        Path(run_dir) / "engineer" / f"{name}.html",
        notebook_html(nb, audience="engineer", title=f"{title} (with code)"),
    )


# --------------------------------------------------------------------------------------------
# the whole run
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RunResult:
    """What ``srekit report`` produced."""

    run_dir: Path
    status: str
    notebooks: tuple[NotebookResult, ...]
    seconds: float
    sections_failed: tuple[str, ...] = ()

    @property
    def failed(self) -> tuple[NotebookResult, ...]:
        return tuple(n for n in self.notebooks if n.status != "ok")


def _slug(text: str) -> str:
    return safe_file_name(text, fallback="service")


def run_dir_for(config: ServiceConfig, out: Path, generated_at: pd.Timestamp) -> Path:
    """The final run folder: ``out / path_template`` with ``{service}``, ``{date}`` (UTC
    YYYY-MM-DD) and ``{time}`` (HHMMSS) filled in."""
    rel = config.report.path_template.format(
        service=_slug(config.service), date=generated_at.strftime("%Y-%m-%d"), time=generated_at.strftime("%H%M%S")
    )
    target = (out / rel).resolve()
    if out.resolve() not in target.parents:
        raise SrekitError(f"report.path_template {config.report.path_template!r} leaves the output folder {out}")
    return target


def list_runs(out: Path) -> list[dict[str, Any]]:
    """Every finished run under ``out`` (a folder below it with a ``run.json`` holding at least a
    ``service`` and a ``generated_at`` text), with ``href`` and ``dir`` filled in. Anything else
    called run.json (unreadable, another shape, at ``out`` itself) is not a run and is left alone."""
    runs = []
    for f in sorted(out.glob("**/" + RUN_FILE)):
        rel = f.parent.relative_to(out)
        if not rel.parts or any(part.startswith(".") for part in rel.parts):
            continue  # out itself, or a temporary or old folder
        data = _run_info(f)
        if data is not None:
            runs.append({**data, "href": rel.as_posix(), "dir": str(f.parent)})
    return runs


def _run_info(path: Path) -> dict[str, Any] | None:
    """A run.json's content when it looks like one srekit wrote, else None."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict) or not all(isinstance(data.get(k), str) for k in ("service", "generated_at")):
        return None
    notebooks = data.get("notebooks")
    headline = data.get("headline")
    return {
        **data,
        "status": str(data.get("status", "unknown")),
        "notebooks": [n for n in notebooks if isinstance(n, dict)] if isinstance(notebooks, list) else [],
        "headline": headline if isinstance(headline, dict) else {},
    }


def _run_pattern(config: ServiceConfig) -> re.Pattern[str]:
    """The relative folders ``report.path_template`` makes for this service (any date and time)."""
    fields = {"service": re.escape(_slug(config.service)), "date": r"\d{4}-\d{2}-\d{2}", "time": r"\d{6}"}
    template = _formatter.parse(config.report.path_template)
    return re.compile("".join(re.escape(lit) + (fields[name] if name else "") for lit, name, _, _ in template))


def _clean_partials(out: Path) -> None:
    """Remove temporary folders left by killed runs (called while holding the lock, which covers
    the whole tree): never one whose run (the pid in its name) is still alive."""
    for pattern in ("**/.*" + PARTIAL + "*", "**/.*" + OLD + "*"):
        for p in out.glob(pattern):
            pid = p.name.rsplit("-", 1)[-1]
            alive = pid.isdigit() and int(pid) != os.getpid() and pid_alive(int(pid))
            if p.is_dir() and not alive:
                shutil.rmtree(p, ignore_errors=True)


def _prune(out: Path, config: ServiceConfig) -> list[str]:
    """Delete all but the newest ``report.keep`` runs of this service: only folders this
    configuration's ``path_template`` makes, holding a run.json srekit wrote (with its version),
    never a folder that merely contains a file of that name."""
    keep = config.report.keep
    if not keep:
        return []
    pattern = _run_pattern(config)
    mine = [
        r
        for r in list_runs(out)
        if r.get("service") == config.service and "srekit_version" in r and pattern.fullmatch(r["href"])
    ]
    mine.sort(key=lambda r: str(r.get("generated_at", "")), reverse=True)
    removed = []
    for r in mine[keep:]:
        shutil.rmtree(r["dir"], ignore_errors=True)
        removed.append(r["href"])
    return removed


def headline(report: Mapping[str, Any]) -> dict[str, Any]:
    """The few figures shown per run in ``index.html``."""
    figures = dict((report.get("summary") or {}).get("figures") or {})
    keep: tuple[str, ...] = (
        "period_start",
        "period_end",
        "requests",
        "success_ratio",
        "samples",
        "slos",
        "slos_at_risk",
        "budget_remaining_min",
        "incidents",
        "backlog_items",
        "open_questions",
    )
    if not figures.get("requests") and figures.get("samples"):  # a series, not requests: "requests: 0" misleads
        keep = tuple(k for k in keep if k != "requests")
    if not figures.get("samples"):
        keep = tuple(k for k in keep if k != "samples")
    return {k: figures[k] for k in keep if k in figures and figures[k] is not None}


@dataclass(frozen=True, slots=True)
class RunPlan:
    """What a run renders, checked before anything is written: the notebooks, their folder, the
    user's ``-p`` parameters (as the notebooks get them) and the seed."""

    notebooks: tuple[Path, ...]
    notebooks_dir: Path
    user: Mapping[str, Any]
    seed: int


def plan_run(
    config: ServiceConfig,
    *,
    notebooks_dir: Path | None = None,
    only: Sequence[str] = (),
    params: Mapping[str, Any] | None = None,
    seed: int = 7,
) -> RunPlan:
    """The notebooks and parameters of a run (a :class:`ParameterError` for a ``-p`` value, an
    ``--only`` name or a seed that cannot be used)."""
    nb_dir = (notebooks_dir or default_notebooks_dir()).resolve()
    notebooks = discover_notebooks(nb_dir, only)
    user = check_user_parameters(notebooks, dict(params or {}), config)
    if "seed" in user:  # -p seed=N is the same as --seed N: notebooks and report.json agree
        seed = user.pop("seed")
    if seed < 0:
        raise ParameterError(f"the seed must be a whole number ≥ 0, got {seed}")
    return RunPlan(tuple(notebooks), nb_dir, user, seed)


def run_report(
    config: ServiceConfig,
    out: Path,
    *,
    generated_at: pd.Timestamp,
    notebooks_dir: Path | None = None,
    jobs: int | None = None,
    only: Sequence[str] = (),
    params: Mapping[str, Any] | None = None,
    seed: int = 7,
    progress: bool | None = None,
    fresh_kernels: bool = False,
    log: Callable[[str], None] = lambda s: print(s, file=sys.stderr),
) -> RunResult:
    """Everything ``srekit report`` does; see the module docstring for the guarantees.

    Returns the run's result; notebook failures are in ``result.failed`` (the caller exits 1).
    """
    t0 = time.perf_counter()
    out = Path(out)
    plan = plan_run(config, notebooks_dir=notebooks_dir, only=only, params=params, seed=seed)
    final = run_dir_for(config, out, generated_at)
    with RunLock(out / LOCK_NAME):
        _clean_partials(out)
        tmp = final.parent / f".{final.name}{PARTIAL}{os.getpid()}"
        tmp.mkdir(parents=True)
        try:
            built = build_run(
                config,
                tmp,
                plan,
                generated_at=generated_at,
                jobs=jobs,
                progress=progress,
                fresh_kernels=fresh_kernels,
                log=log,
                started=t0,
            )
            _place(tmp, final)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        _prune(out, config)
        atomic_write(out / "index.html", index_html(list_runs(out)))
    for r in built.failed:
        log(f"srekit report: notebook {r.name} failed at {r.error} (see {final / (r.name + '.html')})")
    for section in built.sections_failed:
        log(f"srekit report: analysis section failed: {section} (see {final / 'report.json'} meta.sections_failed)")
    return replace(built, run_dir=final, seconds=time.perf_counter() - t0)


def build_run(
    config: ServiceConfig,
    tmp: Path,
    plan: RunPlan,
    *,
    generated_at: pd.Timestamp,
    jobs: int | None = None,
    progress: bool | None = None,
    fresh_kernels: bool = False,
    zygote: str = "",
    log: Callable[[str], None] = lambda s: print(s, file=sys.stderr),
    started: float | None = None,
) -> RunResult:
    """Build one run in the (existing, empty) folder ``tmp``: the analysis (report.json, report.md,
    CSVs, rules, the saved analysis the notebooks load), every notebook and its HTML, and
    ``run.json``. No lock, no placement: :func:`run_report` holds the output folder's lock and
    renames ``tmp`` into place; ``srekit fleet report`` builds each service's run in a scratch
    folder (on a worker) and places them all under its one lock. ``zygote``: the address of a
    running :class:`srekit.report.kernels.KernelZygote` to fork the kernels from (several runs
    share one); empty: this run starts its own (none with ``fresh_kernels``)."""
    t0 = time.perf_counter() if started is None else started
    user = dict(plan.user)
    seed = plan.seed
    cache = tmp / CACHE_NAME
    runner_params: dict[str, Any] = {
        "report_json_path": str(tmp / "report.json"),
        "analysis_cache": str(cache),
        "seed": seed,
    }
    if config.path is not None:
        runner_params["config_path"] = str(Path(config.path).resolve())
    nb_plan = plan_parameters(plan.notebooks, user, runner_params)
    analysed = with_prometheus(config, str(user.get("prometheus_url") or ""))  # what the notebooks are told to use
    made: list[Any] = []

    def analysis() -> None:  # runs while the notebooks start (those that load the analysis wait for it)
        from srekit.report.cache import mark_failed

        try:
            one = analysis_for(
                analysed,
                seed=seed,
                generated_at=generated_at,
                parameters={"seed": seed, **user},
                quarantine_dir=tmp / "quarantine",
            )
            one.save(cache)  # each value is saved as it is computed: notebooks start on what is ready
            write_analysis(one.report, tmp, config=analysed)
        except BaseException as exc:
            mark_failed(cache, f"{type(exc).__name__}: {exc}")
            raise
        made.append(one.report)

    with contextlib.ExitStack() as stack:
        kernels = zygote or ("" if fresh_kernels else _start_zygote(stack, log))
        results = _execute_all(
            plan.notebooks, nb_plan, tmp, plan.notebooks_dir, jobs, progress, analysis, cache, kernels
        )
    shutil.rmtree(cache, ignore_errors=True)
    d = made[0].to_dict()
    failed_sections = list(d["meta"]["sections_failed"])
    status = "failed" if failed_sections or any(r.status != "ok" for r in results) else "ok"
    run_info = {
        "service": config.service,
        "generated_at": d["meta"]["generated_at"],
        "status": status,
        "srekit_version": d["meta"]["srekit_version"],
        "notebooks": [r.to_dict() for r in results],
        "sections_failed": failed_sections,
        "headline": headline(d),
        "seconds": time.perf_counter() - t0,
    }
    atomic_write(tmp / RUN_FILE, json.dumps(run_info, indent=2) + "\n")
    return RunResult(
        run_dir=tmp,
        status=status,
        notebooks=tuple(results),
        seconds=time.perf_counter() - t0,
        sections_failed=tuple(failed_sections),
    )


def _start_zygote(stack: contextlib.ExitStack, log: Callable[[str], None]) -> str:
    """The address of a :class:`srekit.report.kernels.KernelZygote` kept open by ``stack``, or
    "" (kernels start the usual way) where forking is not possible or the installed
    jupyter_client lacks a hook the warm kernels need."""
    if not hasattr(os, "fork"):  # forking kernels needs POSIX
        return ""
    from srekit.report.kernels import KernelZygote, missing_hooks

    missing = missing_hooks()
    if missing:
        log(f"srekit report: jupyter_client lacks {', '.join(missing)}; kernels start the usual way")
        return ""
    return stack.enter_context(KernelZygote(nice=WORKER_NICE)).address


def _place(tmp: Path, final: Path) -> None:
    """Rename the finished temporary folder into place; an earlier run at the same path is moved
    aside first and deleted after."""
    old = None
    if final.exists():
        old = final.parent / f".{final.name}{OLD}{os.getpid()}"
        os.replace(final, old)
    os.replace(tmp, final)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def _execute_all(
    notebooks: Sequence[Path],
    plan: Mapping[str, dict[str, Any]],
    run_dir: Path,
    cwd: Path,
    jobs: int | None,
    progress: bool | None,
    analysis: Callable[[], None],
    cache: Path | None = None,
    zygote: str = "",
) -> list[NotebookResult]:
    """Execute the notebooks in a process pool. Those that do not take ``report_json_path``
    (including those that load the saved analysis, ``analysis_cache``: they wait for ``cache``
    while it is pending) are queued first; ``analysis()`` (which writes report.json and the
    cache) runs in this process meanwhile; the notebooks that read report.json are queued
    after it. A separate process renders each notebook's HTML as soon as it finishes.

    The analysis is what every notebook waits for, so the notebook processes and their kernels
    run at a lower priority (:data:`WORKER_NICE`): on a machine with few cores they use what the
    analysis leaves free instead of slowing it down. The render process keeps the normal
    priority, so the HTML keeps up with the notebooks once the analysis is done.
    """
    import papermill  # noqa: F401  imported once here: the forked workers inherit it (≈0.7 s each)
    from tqdm import tqdm

    from srekit.report.cache import mark_pending

    workers = max(1, min(jobs or os.cpu_count() or 1, len(notebooks)))
    show = sys.stderr.isatty() if progress is None else progress
    queue = sorted(notebooks, key=runs_last)  # stable: name order otherwise
    independent = [nb for nb in queue if "analysis_cache" in plan[nb.stem] or "report_json_path" not in plan[nb.stem]]
    dependent = [nb for nb in queue if nb not in independent]
    if cache is not None:
        mark_pending(cache)
    renders: dict[Path, Future[None]] = {}
    with (
        ProcessPoolExecutor(max_workers=workers, initializer=lower_priority) as pool,
        ProcessPoolExecutor(max_workers=1, initializer=quiet_interrupt) as renderer,
    ):
        renderer.submit(int).result()  # fork the renderer now, before the analysis starts threads
        renderer.submit(warm_up_rendering)  # nbconvert's import and templates, while the analysis runs

        def render(nb: Path, done: Future[NotebookResult]) -> None:  # runs in the pool's thread
            if done.cancelled() or done.exception() is not None:
                return  # the pool broke (an interrupt): the run is being abandoned
            try:
                renders[nb] = renderer.submit(render_notebook, nb, run_dir)
            except (BrokenProcessPool, RuntimeError):  # the renderer is gone or shut down: same
                return

        def submit(nbs: Sequence[Path]) -> dict[Future[NotebookResult], Path]:
            futures = {
                pool.submit(execute_notebook, str(nb), str(run_dir), plan[nb.stem], str(cwd), zygote): nb for nb in nbs
            }
            for fut, nb in futures.items():
                fut.add_done_callback(functools.partial(render, nb))
            return futures

        futures = submit(independent)
        if not independent:
            pool.submit(int).result()  # start the workers now: fork before the analysis starts threads
        try:
            analysis()
        except BaseException:
            pool.shutdown(wait=True, cancel_futures=True)
            raise
        futures.update(submit(dependent))
        bar = tqdm(total=len(futures), desc="notebooks", unit="nb", disable=not show, file=sys.stderr)
        results = []
        for fut in as_completed(futures):
            results.append(fut.result())
            bar.set_postfix_str(futures[fut].stem)
            bar.update(1)
        bar.close()
        pool.shutdown(wait=True)  # joins the thread that runs the done-callbacks: every render is submitted
        for done in renders.values():
            done.result()
    return sorted(results, key=lambda r: r.name)
