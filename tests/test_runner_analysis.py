"""runner.py with the shared analysis: notebooks that declare ``analysis_cache`` load the
analysis the run computes once (and wait for it), the report notebook is queued last, and a
failing analysis stops the waiting notebooks instead of hanging the run."""

from __future__ import annotations

import json
import time
from pathlib import Path

import nbformat
import pytest
from test_runner import GEN, KERNEL, tiny_service

from srekit import cli
from srekit.core.errors import ParameterError
from srekit.inputs.config import load_config
from srekit.report.runner import CACHE_NAME, LOCK_NAME, run_report, runs_last

PARAMS = 'config_path = ""  # service.yaml\nanalysis_cache = ""  # saved analysis\nseed = 7  # seed'


def write_nb(path: Path, body: str, *, last: bool = False) -> Path:
    nb = nbformat.v4.new_notebook(metadata={**KERNEL, **({"srekit": {"run_last": True}} if last else {})})
    nb.cells = [
        nbformat.v4.new_markdown_cell(f"# Notebook {path.stem}"),
        nbformat.v4.new_code_cell(PARAMS, metadata={"tags": ["parameters"]}),
        nbformat.v4.new_code_cell(body),
    ]
    nbformat.write(nb, str(path))
    return path


SHOW = (
    "import json, time\n"
    "from srekit.report.runner import open_analysis\n"
    "a = open_analysis(analysis_cache, config_path, seed=seed)\n"
    "print(json.dumps({'cache': bool(analysis_cache), 'started': time.time(), "
    "'slos': [s['name'] for s in a.report_dict['slo_proposal']['slos']], 'mix': list(a.traffic_mix['journey'])}))\n"
)


def printed(run: Path, name: str) -> dict:
    nb = nbformat.read(str(run / "notebooks" / f"{name}.ipynb"), as_version=4)
    out = [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", []) if o.get("name") == "stdout"]
    return json.loads(out[-1]["text"].strip().splitlines()[-1])


def test_run_last_reads_notebook_metadata(tmp_path: Path) -> None:
    assert runs_last(write_nb(tmp_path / "00_report.ipynb", "pass", last=True))
    assert not runs_last(write_nb(tmp_path / "01_page.ipynb", "pass"))


def test_analysis_cache_is_reserved(tmp_path: Path) -> None:
    nbs = tmp_path / "nbs"
    nbs.mkdir()
    write_nb(nbs / "00_a.ipynb", "pass")
    with pytest.raises(ParameterError, match="set by the runner"):
        run_report(
            load_config(tiny_service(tmp_path)),
            tmp_path / "out",
            generated_at=GEN,
            notebooks_dir=nbs,
            params={"analysis_cache": "/x"},
        )


@pytest.mark.slow
def test_notebooks_share_the_runs_analysis(tmp_path: Path) -> None:
    cfg = tiny_service(tmp_path)
    nbs = tmp_path / "nbs"
    nbs.mkdir()
    write_nb(nbs / "00_summary.ipynb", SHOW, last=True)
    write_nb(nbs / "01_page.ipynb", SHOW)
    write_nb(nbs / "02_page.ipynb", SHOW)
    res = run_report(load_config(cfg), tmp_path / "out", generated_at=GEN, notebooks_dir=nbs, jobs=1, progress=False)
    assert res.status == "ok", [n.error for n in res.notebooks]
    report = json.loads((res.run_dir / "report.json").read_text())
    expected = [s["name"] for s in report["slo_proposal"]["slos"]]
    seen = {name: printed(res.run_dir, name) for name in ("00_summary", "01_page", "02_page")}
    for got in seen.values():
        assert got["cache"] and got["slos"] == expected and got["mix"] == ["look", "pay"]
    assert seen["00_summary"]["started"] > seen["02_page"]["started"]  # run_last: queued after the pages
    assert not list(res.run_dir.rglob(CACHE_NAME + "*"))  # the saved analysis is not kept


@pytest.mark.slow
def test_failing_analysis_stops_waiting_notebooks(tmp_path: Path, capsys) -> None:
    cfg = tiny_service(tmp_path)
    (tmp_path / "telemetry.csv").write_text("interval_start,total,errors,le_100\n")  # header only: unusable
    nbs = tmp_path / "nbs"
    nbs.mkdir()
    write_nb(nbs / "01_page.ipynb", SHOW)
    out = tmp_path / "out"
    t0 = time.perf_counter()
    code = cli.main(["report", "--config", str(cfg), "--out", str(out), "--notebooks", str(nbs), "--no-progress"])
    assert code == 2 and "telemetry.csv" in capsys.readouterr().err
    assert time.perf_counter() - t0 < 120  # the notebook stopped waiting at the failed marker
    assert not (out / LOCK_NAME).exists()
    assert not [p for p in out.rglob("*") if p.is_file()]
