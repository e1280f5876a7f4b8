"""Notebooks 04 (incidents) and 05 (forecast) run on the samples and show their content."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import ROOT, SAMPLES

NOTEBOOKS = ("04_incidents.ipynb", "05_forecast.ipynb")


@pytest.mark.slow
@pytest.mark.parametrize("name", NOTEBOOKS)
def test_notebook_runs_on_the_samples(name: str, tmp_path: Path) -> None:
    import papermill

    out = tmp_path / name
    papermill.execute_notebook(
        str(ROOT / "notebooks" / name),
        str(out),
        cwd=str(ROOT / "notebooks"),
        parameters={"config_path": str(SAMPLES / "service.yaml"), "seed": 3},
        progress_bar=False,
        kernel_name="python3",
    )
    nb = json.loads(out.read_text())
    html = "".join("".join(o.get("data", {}).get("text/html", "")) for c in nb["cells"] for o in c.get("outputs", []))
    assert html.count("<img") >= 4 and 'alt=""' not in html
    assert "Assumptions to confirm" in html
