"""Notebook 02 (SLIs, SLOs, budgets) runs top to bottom on the samples."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from conftest import ROOT, SAMPLES

NB = ROOT / "notebooks" / "02_sli_slo.ipynb"


@pytest.mark.slow
def test_notebook_runs_on_the_samples(tmp_path: Path) -> None:
    import papermill as pm

    out = tmp_path / "02.ipynb"
    pm.execute_notebook(
        str(NB),
        str(out),
        parameters={"config_path": str(SAMPLES / "service.yaml")},
        cwd=str(ROOT / "notebooks"),
        progress_bar=False,
        kernel_name="python3",
    )
    nb = json.loads(out.read_text())
    outputs = [o for c in nb["cells"] for o in c.get("outputs", [])]
    assert not [o for o in outputs if o.get("output_type") == "error"]
    html = "".join("".join(o.get("data", {}).get("text/html", "")) for o in outputs)
    images = re.findall(r'<img src="data:image/svg\+xml;base64,[^"]+" alt="([^"]+)"', html)
    assert len(images) == 4 and all(len(a) > 40 for a in images)  # … and who spent the budget
    assert any(a.startswith("Stacked bars, one per SLO") for a in images)
    for caption in (
        "Service level indicators",
        "Threshold proposals per journey and target",
        "SLO options",
        "Error budget per SLO",
        "Bad events per SLO by incident, deploy hour and background",
        "Corrections: the budget each returned, per SLO",
        "planned database failover drill of checkout",
        "Open questions",
    ):
        assert caption in html
    assert "checkout-availability" in html
