"""Notebook 03 (alerting): committed clean and thin, and it runs on the samples."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from conftest import ROOT, SAMPLES

NB = ROOT / "notebooks" / "03_alerting.ipynb"


def test_notebook_is_committed_clean_and_thin():
    nb = json.loads(NB.read_text())
    code = [c for c in nb["cells"] if c["cell_type"] == "code"]
    params = [c for c in code if "parameters" in c.get("metadata", {}).get("tags", [])]
    assert len(params) == 1
    assert 'config_path = "../data/samples/service.yaml"' in "".join(params[0]["source"])
    for c in code:
        src = "".join(c["source"])
        assert c.get("outputs") == [] and c.get("execution_count") is None
        assert not re.search(r"^\s*(def|for|while|class|lambda)\b", src, flags=re.M), src
        assert "plt.show" not in src and "print(" not in src


@pytest.mark.slow
def test_notebook_runs_on_the_samples(tmp_path: Path):
    papermill = pytest.importorskip("papermill")
    if not (SAMPLES / "service.yaml").exists():
        pytest.skip("sample data not generated")
    out = tmp_path / "03.ipynb"
    papermill.execute_notebook(str(NB), str(out), cwd=str(ROOT / "notebooks"),
                               parameters={"config_path": str(SAMPLES / "service.yaml"), "error_ratio": 0.05},
                               progress_bar=False, kernel_name="python3")
    nb = json.loads(out.read_text())
    html = "".join("".join(o.get("data", {}).get("text/html", "")) for c in nb["cells"] for o in c.get("outputs", []))
    assert html.count("<img") == 3 and 'alt=""' not in html
    assert "CheckoutAvailabilityBudgetBurnFast" in html  # the generated rules are shown
    assert "I01" in html and "checkout-availability/page/1h" in html  # per-incident detection table
    assert "Assumptions to confirm" in html
