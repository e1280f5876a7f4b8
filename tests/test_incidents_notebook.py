"""Notebooks 04 (incidents) and 05 (forecast): committed clean, thin, and they run on the samples."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from tests.conftest import ROOT, SAMPLES

NOTEBOOKS = ("04_incidents.ipynb", "05_forecast.ipynb")


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_notebook_is_committed_clean_and_thin(name: str) -> None:
    nb = json.loads((ROOT / "notebooks" / name).read_text())
    code = [c for c in nb["cells"] if c["cell_type"] == "code"]
    params = [c for c in code if "parameters" in c.get("metadata", {}).get("tags", [])]
    assert len(params) == 1
    assert 'config_path = "../data/samples/service.yaml"' in "".join(params[0]["source"])
    for c in code:
        src = "".join(c["source"])
        assert c.get("outputs") == [] and c.get("execution_count") is None
        assert not re.search(r"^\s*(def|for|while|class)\b", src, flags=re.M), src
        assert "plt.show" not in src and "print(" not in src


@pytest.mark.slow
@pytest.mark.parametrize("name", NOTEBOOKS)
def test_notebook_runs_on_the_samples(name: str, tmp_path: Path) -> None:
    papermill = pytest.importorskip("papermill")
    if not (SAMPLES / "service.yaml").exists():
        pytest.skip("sample data not generated")
    out = tmp_path / name
    papermill.execute_notebook(
        str(ROOT / "notebooks" / name), str(out), cwd=str(ROOT / "notebooks"),
        parameters={"config_path": str(SAMPLES / "service.yaml"), "seed": 3},
        progress_bar=False, kernel_name="python3",
    )
    nb = json.loads(out.read_text())
    html = "".join("".join(o.get("data", {}).get("text/html", "")) for c in nb["cells"] for o in c.get("outputs", []))
    assert html.count("<img") >= 4 and 'alt=""' not in html
    assert "Assumptions to confirm" in html
