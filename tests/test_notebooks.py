"""Notebook conventions, for every notebook in notebooks/. (`make test` also runs every notebook
top to bottom with `pytest --nbval-lax notebooks`.)"""

from __future__ import annotations

import ast

import nbformat
import pytest
from conftest import ROOT

NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_committed_without_outputs_and_one_parameters_cell(path) -> None:
    nb = nbformat.read(str(path), as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert all(not c.outputs and c.execution_count is None for c in code), "commit notebooks without outputs"
    params = [c for c in code if "parameters" in c.metadata.get("tags", [])]
    assert len(params) == 1, "exactly one cell tagged parameters"
    tree = ast.parse(params[0].source)
    names = {
        t.id for node in tree.body if isinstance(node, ast.Assign) for t in node.targets if isinstance(t, ast.Name)
    }
    assert "config_path" in names
    assert 'config_path = "../data/samples/service.yaml"' in params[0].source
    for line in params[0].source.splitlines():
        if "=" in line and not line.lstrip().startswith("#"):
            assert "#" in line, f"parameter without a comment: {line!r}"
    assert nb.metadata.get("kernelspec", {}).get("name") == "python3"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebooks_are_thin(path) -> None:
    name = path.name
    nb = nbformat.read(str(path), as_version=4)
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        tree = ast.parse(cell.source)
        for node in ast.walk(tree):
            assert not isinstance(node, ast.FunctionDef | ast.Lambda | ast.For | ast.While | ast.ListComp), (
                name,
                cell.source[:80],
            )
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and getattr(node.func, "attr", getattr(node.func, "id", "")) == "show_figure":
                assert any(k.arg == "alt" for k in node.keywords), (name, "every figure needs alt text")
        assert "plt.show" not in cell.source and "print(" not in cell.source, (
            name,
            "display through srekit.report.nbshow",
        )
    headings = [c.source.splitlines()[0] for c in nb.cells if c.cell_type == "markdown" and c.source.startswith("#")]
    assert headings[0].startswith("# ")


def test_report_notebook_follows_the_output_contract() -> None:
    nb = nbformat.read(str(ROOT / "notebooks" / "00_reliability_report.ipynb"), as_version=4)
    heads = [c.source.splitlines()[0] for c in nb.cells if c.cell_type == "markdown" and c.source.startswith("## ")]
    assert heads == [
        "## 1. Summary",
        "## 2. SLO Proposal",
        "## 3. Error Budget Policy",
        "## 4. Alerting + Runbooks",
        "## 5. Toil + Automation",
        "## 6. Incident Response Improvements",
        "## 7. Reliability Backlog",
        "## 8. Open Questions / Assumptions",
        "## 9. Inputs and data quality",
    ]


@pytest.mark.slow
def test_report_notebooks_render_without_telemetry(tmp_path) -> None:
    """Only an incident log: the report and telemetry pages still render (fallbacks, no crash)."""
    import json
    import re
    import shutil

    import pandas as pd
    from conftest import SAMPLES

    from srekit.inputs.config import load_config
    from srekit.report.runner import run_report

    shutil.copy(SAMPLES / "incidents.csv", tmp_path / "incidents.csv")
    (tmp_path / "service.yaml").write_text("service: quiet\ndata:\n  incidents: incidents.csv\n")
    res = run_report(
        load_config(tmp_path / "service.yaml"),
        tmp_path / "out",
        generated_at=pd.Timestamp("2024-01-01", tz="UTC"),
        only=["00", "01"],
        jobs=2,
        progress=False,
    )
    assert res.status == "ok", [n.error for n in res.notebooks]
    d = json.loads((res.run_dir / "report.json").read_text())
    assert "no request telemetry" in d["summary"]["text"]
    page = (res.run_dir / "01_telemetry.html").read_text()
    # no empty charts: the golden signals' four "no telemetry" panels read as one sentence naming them
    assert "Data-quality ledger" in page and page.count("<img ") == 0
    empty = re.findall(r'<p class="srekit-empty">([^<]*)</p>', page)
    assert any(s.count(";") >= 3 and "telemetry" in s for s in empty), empty
