"""runner.py / cli_report.py: parameters, lock, notebook selection, failing notebooks,
atomicity (a killed run leaves the previous one intact), pruning, `srekit analyze`."""

from __future__ import annotations

import html
import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import numpy as np
import pandas as pd
import pytest

from srekit import cli
from srekit.core.errors import ParameterError
from srekit.inputs.config import load_config
from srekit.report.contract import SECTION_KEYS
from srekit.report.runner import (
    KERNEL_START_ATTEMPTS,
    KERNEL_START_FAILED,
    LOCK_NAME,
    RUN_FILE,
    ReportLocked,
    RunLock,
    _prune,
    discover_notebooks,
    execute_notebook,
    list_runs,
    parse_params,
    plan_parameters,
    run_report,
)

KERNEL = {
    "kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"},
    "language_info": {"name": "python"},
}
GEN = pd.Timestamp("2024-03-03T12:00:00", tz="UTC")


def write_nb(path: Path, body: str, params: str = 'config_path = ""\ngreeting = "hi"') -> Path:
    nb = nbformat.v4.new_notebook(metadata=KERNEL)
    nb.cells = [
        nbformat.v4.new_markdown_cell(f"# Notebook {path.stem}\n\n## Part"),
        nbformat.v4.new_code_cell(params, metadata={"tags": ["parameters"]}),
        nbformat.v4.new_code_cell(body),
    ]
    nbformat.write(nb, str(path))
    return path


def tiny_service(root: Path, **report: object) -> Path:
    """Two days of 5-minute telemetry for two journeys, and a service.yaml pointing at it."""
    rng = np.random.default_rng(3)
    stamps = pd.date_range("2024-03-01", periods=576, freq="5min", tz="UTC")
    rows = []
    for journey, rate in (("pay", 50), ("look", 200)):
        total = rng.poisson(rate, len(stamps))
        errors = rng.binomial(total, 0.002)
        le100 = rng.binomial(total, 0.9)
        le1000 = le100 + rng.binomial(total - le100, 0.9)
        rows.append(
            pd.DataFrame(
                {
                    "journey": journey,
                    "interval_start": stamps.strftime("%Y-%m-%dT%H:%M:%SZ"),
                    "total": total,
                    "errors": errors,
                    "le_100": le100,
                    "le_1000": le1000,
                }
            )
        )
    pd.concat(rows).to_csv(root / "telemetry.csv", index=False)
    extra = "".join(f"  {k}: {v}\n" for k, v in report.items())
    (root / "service.yaml").write_text(
        "service: tiny\ndata:\n  telemetry: telemetry.csv\n" + (f"report:\n{extra}" if extra else "")
    )
    return root / "service.yaml"


@pytest.fixture()
def nbdir(tmp_path: Path) -> Path:
    d = tmp_path / "notebooks"
    d.mkdir()
    write_nb(d / "00_ok.ipynb", 'from IPython.display import HTML, display\ndisplay(HTML(f"<p>OK {greeting}</p>"))')
    write_nb(d / "01_bad.ipynb", 'raise ValueError("boom from the failing notebook")', params='config_path = ""')
    return d


def test_parse_params_types_and_errors() -> None:
    assert parse_params(["a=1", "b=2.5", "c=true", "d=none", "e=text=with=eq", "f="]) == {
        "a": 1,
        "b": 2.5,
        "c": True,
        "d": None,
        "e": "text=with=eq",
        "f": "",
    }
    for bad in ("novalue", "1x=2", "=3"):
        with pytest.raises(ParameterError, match="NAME=VALUE"):
            parse_params([bad])


def test_plan_parameters_routes_and_rejects_unknown(nbdir: Path) -> None:
    nbs = discover_notebooks(nbdir)
    plan = plan_parameters(nbs, {"greeting": "yo"}, {"config_path": "/c.yaml", "report_json_path": "/r.json"})
    assert plan == {"00_ok": {"config_path": "/c.yaml", "greeting": "yo"}, "01_bad": {"config_path": "/c.yaml"}}
    with pytest.raises(ParameterError) as err:
        plan_parameters(nbs, {"greting": "typo"}, {})
    msg = str(err.value)
    assert (
        "greting" in msg and "valid parameters: config_path, greeting" in msg and "00_ok: config_path, greeting" in msg
    )


def test_only_selects_by_name_or_number(nbdir: Path) -> None:
    assert [p.stem for p in discover_notebooks(nbdir, ["01"])] == ["01_bad"]
    assert [p.stem for p in discover_notebooks(nbdir, ["00_ok", "01"])] == ["00_ok", "01_bad"]
    with pytest.raises(ParameterError, match="valid: 00_ok, 01_bad"):
        discover_notebooks(nbdir, ["07"])


def test_cli_unknown_parameter_exits_2_before_any_work(tmp_path: Path, nbdir: Path, capsys) -> None:
    cfg = tiny_service(tmp_path)
    out = tmp_path / "reports"
    code = cli.main(["report", "--config", str(cfg), "--out", str(out), "--notebooks", str(nbdir), "-p", "nope=1"])
    assert code == 2
    err = capsys.readouterr().err
    assert "unknown notebook parameter(s) nope" in err and "valid parameters: config_path, greeting" in err
    assert not (out / LOCK_NAME).exists()
    assert list(out.iterdir()) == []  # checked before any work: no run folder, no partial


def test_lock_names_holder_and_takes_over_stale(tmp_path: Path) -> None:
    lock_path = tmp_path / LOCK_NAME
    with RunLock(lock_path):
        holder = json.loads(lock_path.read_text())
        assert holder["pid"] == os.getpid()
        with pytest.raises(ReportLocked, match=f"pid {os.getpid()}"):
            RunLock(lock_path).acquire()
    assert not lock_path.exists()
    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True, check=True
    )
    lock_path.write_text(json.dumps({"pid": int(dead.stdout), "host": os.uname().nodename, "started_at": "x"}))
    with RunLock(lock_path) as lk:  # the holder is gone: stale lock taken over
        assert lk.held and json.loads(lock_path.read_text())["pid"] == os.getpid()


def test_cli_exits_3_while_another_run_holds_the_lock(tmp_path: Path, nbdir: Path, capsys) -> None:
    cfg = tiny_service(tmp_path)
    out = tmp_path / "reports"
    with RunLock(out / LOCK_NAME):
        code = cli.main(["report", "--config", str(cfg), "--out", str(out), "--notebooks", str(nbdir)])
    assert code == 3
    assert f"holds {out / LOCK_NAME} (pid {os.getpid()}" in capsys.readouterr().err


def test_prune_keeps_latest_runs_of_the_service(tmp_path: Path) -> None:
    from srekit.inputs.config import parse_config

    for i, service in enumerate(["s", "s", "s", "other"]):
        d = tmp_path / service / f"2024-01-0{i + 1}"
        d.mkdir(parents=True)
        info = {"service": service, "generated_at": f"2024-01-0{i + 1}T00:00:00+00:00", "srekit_version": "1"}
        (d / RUN_FILE).write_text(json.dumps(info))
    (tmp_path / "s" / ".2024-01-09.partial-1").mkdir()  # temporary folders are never runs
    # a folder that merely holds a run.json: not made by this path_template, or not written by srekit
    (tmp_path / "s" / "notes").mkdir()
    (tmp_path / "s" / "notes" / RUN_FILE).write_text(
        '{"service": "s", "generated_at": "2000-01-01", "srekit_version": "1"}'
    )
    (tmp_path / "s" / "2000-01-01").mkdir()
    (tmp_path / "s" / "2000-01-01" / RUN_FILE).write_text('{"service": "s", "generated_at": "2000-01-01"}')
    (tmp_path / RUN_FILE).write_text('{"service": "s", "generated_at": "1999-01-01", "srekit_version": "1"}')
    config = parse_config({"service": "s", "data": {"telemetry": "t.csv"}, "report": {"keep": 2}})
    removed = _prune(tmp_path, config)
    assert removed == ["s/2024-01-01"]
    assert sorted(r["href"] for r in list_runs(tmp_path)) == [
        "other/2024-01-04",
        "s/2000-01-01",
        "s/2024-01-02",
        "s/2024-01-03",
        "s/notes",
    ]
    assert (tmp_path / RUN_FILE).exists() and (tmp_path / "s" / "notes").is_dir()
    unlimited = parse_config({"service": "s", "data": {"telemetry": "t.csv"}})
    assert _prune(tmp_path, unlimited) == []


def test_stray_run_json_of_any_shape_is_not_a_run(tmp_path: Path) -> None:
    for name, text in {"a": "[]", "b": '"text"', "c": "{broken", "d": '{"service": 5, "generated_at": [1]}'}.items():
        (tmp_path / name).mkdir()
        (tmp_path / name / RUN_FILE).write_text(text)
    (tmp_path / "e").mkdir()
    odd = {"service": "s", "generated_at": "x", "notebooks": [1, {"name": "n", "status": "ok"}], "headline": 3}
    (tmp_path / "e" / RUN_FILE).write_text(json.dumps(odd))
    runs = list_runs(tmp_path)
    assert [r["href"] for r in runs] == ["e"]
    assert runs[0]["notebooks"] == [{"name": "n", "status": "ok"}] and runs[0]["headline"] == {}
    from srekit.report.html import index_html

    assert "<html" in index_html(runs)


def test_cli_analyze_writes_report_json_and_md(tmp_path: Path) -> None:
    cfg = tiny_service(tmp_path)
    assert cli.main(["analyze", "--config", str(cfg), "--out", str(tmp_path / "out"), "--seed", "3"]) == 0
    d = json.loads((tmp_path / "out" / "report.json").read_text())
    assert tuple(d) == SECTION_KEYS
    assert d["meta"]["seed"] == 3 and d["meta"]["sections_failed"] == []
    assert [j["name"] for j in d["inputs"]["journeys"]] == ["look", "pay"]
    assert d["inputs"]["critical_source"] == "top_by_traffic"
    assert "## 8. Open Questions / Assumptions" in (tmp_path / "out" / "report.md").read_text()
    assert (tmp_path / "out" / "open_questions.csv").exists()


@pytest.mark.slow
def test_failing_notebook_others_render_and_exit_1(tmp_path: Path, nbdir: Path) -> None:
    cfg = tiny_service(tmp_path)
    out = tmp_path / "reports"
    messages: list[str] = []
    res = run_report(
        load_config(cfg),
        out,
        generated_at=GEN,
        notebooks_dir=nbdir,
        jobs=2,
        params={"greeting": "<b>x</b>"},
        log=messages.append,
    )
    assert res.status == "failed" and [n.name for n in res.failed] == ["01_bad"]
    assert "ValueError: boom from the failing notebook" in res.failed[0].error
    run = out / "tiny" / "2024-03-03"
    assert res.run_dir == run.resolve()
    ok = (run / "00_ok.html").read_text()
    assert (
        "OK &lt;b&gt;x&lt;/b&gt;" not in ok and "OK <b>x</b>" in ok
    )  # notebook chose to render HTML; runner passes values verbatim
    bad = html.unescape(re.sub(r"<[^>]+>", "", (run / "01_bad.html").read_text()))
    assert (
        'raise ValueError("boom from the failing notebook")' in bad and "ValueError: boom" in bad
    )  # the failing cell shows
    assert (run / "engineer" / "01_bad.html").exists() and (run / "notebooks" / "01_bad.ipynb").exists()
    assert (
        len(messages) == 1 and "01_bad failed" in messages[0] and "boom" in messages[0] and "01_bad.html" in messages[0]
    )
    info = json.loads((run / RUN_FILE).read_text())
    assert info["status"] == "failed" and {n["name"]: n["status"] for n in info["notebooks"]} == {
        "00_ok": "ok",
        "01_bad": "failed",
    }
    assert tuple(json.loads((run / "report.json").read_text())) == SECTION_KEYS
    index = (out / "index.html").read_text()
    assert 'class="failed">failed' in index and "tiny/2024-03-03/01_bad.html" in index
    assert not (out / LOCK_NAME).exists()
    assert sorted(p.name for p in (out / "tiny").iterdir()) == ["2024-03-03"]


@pytest.mark.slow
def test_killed_run_leaves_previous_run_intact(tmp_path: Path) -> None:
    cfg = tiny_service(tmp_path)
    out = tmp_path / "reports"
    fast = tmp_path / "fast"
    fast.mkdir()
    write_nb(fast / "00_ok.ipynb", 'print("done")')
    base = [sys.executable, "-m", "srekit.cli", "report", "--config", str(cfg), "--out", str(out), "--no-progress"]
    first = subprocess.run([*base, "--notebooks", str(fast)], capture_output=True, text=True, timeout=300)
    assert first.returncode == 0, first.stderr
    run = next((out / "tiny").iterdir())
    before = {p.relative_to(run): p.read_bytes() for p in run.rglob("*") if p.is_file()}
    index_before = (out / "index.html").read_bytes()

    slow = tmp_path / "slow"
    slow.mkdir()
    write_nb(slow / "00_ok.ipynb", "import time\ntime.sleep(120)")
    proc = subprocess.Popen(
        [*base, "--notebooks", str(slow)], start_new_session=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    deadline = time.monotonic() + 120
    partial = None
    while time.monotonic() < deadline:  # wait until the run is midway: analysis written, notebook executing
        partial = next(
            (
                p
                for p in (out / "tiny").glob(".*.partial-*")
                if (p / "report.json").exists() and (p / "logs" / "00_ok.log").exists()
            ),
            None,
        )
        if partial is not None:
            time.sleep(1.0)  # the kernel is in its two-minute cell
            break
        time.sleep(0.2)
    assert partial is not None, "the second run never got midway"
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)

    after = {p.relative_to(run): p.read_bytes() for p in run.rglob("*") if p.is_file()}
    assert after == before  # previous run untouched
    assert (out / "index.html").read_bytes() == index_before
    assert not [p for p in out.rglob("*") if ".tmp-" in p.name and ".partial-" not in str(p.parent)]
    assert (out / LOCK_NAME).exists()  # left behind by the killed run...

    again = subprocess.run([*base, "--notebooks", str(fast)], capture_output=True, text=True, timeout=300)
    assert again.returncode == 0, again.stderr  # ...and taken over as stale: its process is gone
    assert not list((out / "tiny").glob(".*"))  # the killed run's partial folder was cleaned
    assert json.loads((run / RUN_FILE).read_text())["status"] == "ok"


def test_openslo_files_in_config_are_the_slos_in_force(tmp_path: Path) -> None:
    from srekit.report.runner import analysis_for, write_analysis

    cfg = tiny_service(tmp_path)
    first = analysis_for(load_config(cfg), seed=1, generated_at=GEN).report
    write_analysis(first, tmp_path / "first", config=load_config(cfg))
    exported = sorted((tmp_path / "first" / "rules" / "openslo").glob("*.yaml"))
    assert exported and (tmp_path / "first" / "rules" / "prometheus" / "rules.yml").exists()
    chosen = exported[0]
    text = cfg.read_text() + f"slo:\n  openslo:\n    - {chosen}\n"
    cfg.write_text(text)
    second = analysis_for(load_config(cfg), seed=1, generated_at=GEN).report.to_dict()
    slos = second["slo_proposal"]["slos"]
    assert [s["name"] for s in slos] == [chosen.stem] and slos[0]["source"] == "given"
    assert second["meta"]["sections_failed"] == []


@pytest.mark.slow
def test_unusable_input_exits_2_and_leaves_nothing_behind(tmp_path: Path, nbdir: Path, capsys) -> None:
    cfg = tiny_service(tmp_path)
    (tmp_path / "telemetry.csv").unlink()
    out = tmp_path / "reports"
    code = cli.main(
        ["report", "--config", str(cfg), "--out", str(out), "--notebooks", str(nbdir), "--only", "00", "--no-progress"]
    )
    assert code == 2
    err = capsys.readouterr().err
    assert "telemetry.csv" in err
    assert not (out / LOCK_NAME).exists()
    assert not [p for p in out.rglob("*") if p.is_file()]  # no partial run, no index


def test_parameters_read_with_python_parser(tmp_path: Path) -> None:
    from srekit.report.runner import notebook_parameters

    nb = write_nb(
        tmp_path / "q.ipynb",
        "pass",
        params='ratio = 1.0  # the "quoted" word (1.0 = full)\nname: str = "a"  # typed\n# note = 3',
    )
    assert notebook_parameters(nb) == {"ratio": "1.0", "name": '"a"'}
    broken = write_nb(tmp_path / "b.ipynb", "pass", params="x = (")
    with pytest.raises(ParameterError, match="not valid Python"):
        notebook_parameters(broken)


def test_reserved_and_seed_parameters(tmp_path: Path, nbdir: Path) -> None:
    cfg = load_config(tiny_service(tmp_path))
    for bad, match in (
        ({"config_path": "/x"}, "set by the runner"),
        ({"seed": "abc"}, r"seed='abc': the random seed .* must be a whole number ≥ 0"),
    ):
        with pytest.raises(ParameterError, match=match):
            run_report(cfg, tmp_path / "out", generated_at=GEN, notebooks_dir=nbdir, params=bad)


def _flaky_kernel(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, deaths: int) -> Path:
    """A ``python3`` kernelspec (found first through JUPYTER_PATH) whose process exits at once the
    first ``deaths`` times it is started, as a kernel whose ports were taken does, then is ipykernel."""
    wrapper = tmp_path / "flaky_kernel.py"
    count = tmp_path / "starts"
    wrapper.write_text(
        "import os, sys\n"
        f"count = {str(count)!r}\n"
        "n = int(open(count).read()) if os.path.exists(count) else 0\n"
        "open(count, 'w').write(str(n + 1))\n"
        f"if n < {deaths}:\n"
        "    sys.exit(1)\n"
        "os.execv(sys.executable, [sys.executable, '-m', 'ipykernel_launcher', *sys.argv[1:]])\n"
    )
    spec = tmp_path / "jupyter" / "kernels" / "python3"
    spec.mkdir(parents=True)
    argv = [sys.executable, str(wrapper), "-f", "{connection_file}"]
    (spec / "kernel.json").write_text(json.dumps({"argv": argv, "display_name": "flaky", "language": "python"}))
    monkeypatch.setenv("JUPYTER_PATH", str(tmp_path / "jupyter"))
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("print(6 * 7)")])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, tmp_path / "one.ipynb")
    return count


@pytest.mark.parametrize("deaths", [1, 2])
def test_a_kernel_dying_before_its_first_reply_is_started_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, deaths: int
) -> None:
    count = _flaky_kernel(tmp_path, monkeypatch, deaths)
    result = execute_notebook(str(tmp_path / "one.ipynb"), str(tmp_path / "run"), {}, str(tmp_path))
    assert (result.status, result.error) == ("ok", "")
    assert count.read_text() == str(deaths + 1)
    out = nbformat.read(tmp_path / "run" / "notebooks" / "one.ipynb", as_version=4)
    assert out.cells[-1].outputs[0]["text"] == "42\n"
    log = (tmp_path / "run" / "logs" / "one.log").read_text()
    assert log.count("starting the kernel again") == deaths


def test_a_kernel_that_keeps_dying_fails_the_notebook_after_three_starts(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    count = _flaky_kernel(tmp_path, monkeypatch, 99)
    result = execute_notebook(str(tmp_path / "one.ipynb"), str(tmp_path / "run"), {}, str(tmp_path))
    assert result.status == "failed" and result.error.startswith(KERNEL_START_FAILED)
    assert count.read_text() == str(KERNEL_START_ATTEMPTS)
