"""Notebook 03 (alerting) runs on the samples and shows its tables and charts."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import ROOT, SAMPLES

NB = ROOT / "notebooks" / "03_alerting.ipynb"


@pytest.mark.slow
def test_notebook_runs_on_the_samples(tmp_path: Path):
    import papermill

    out = tmp_path / "03.ipynb"
    papermill.execute_notebook(
        str(NB),
        str(out),
        cwd=str(ROOT / "notebooks"),
        parameters={"config_path": str(SAMPLES / "service.yaml"), "error_ratio": 0.05},
        progress_bar=False,
        kernel_name="python3",
    )
    nb = json.loads(out.read_text())
    html = "".join("".join(o.get("data", {}).get("text/html", "")) for c in nb["cells"] for o in c.get("outputs", []))
    assert html.count("<img") == 3 and 'alt=""' not in html
    assert "CheckoutAvailabilityBudgetBurnFast" in html  # the generated rules are shown
    assert "I01" in html and "checkout-availability/page/1h" in html  # per-incident detection table
    assert "Assumptions to confirm" in html
    assert "Which incidents of the log the backtest is scored on" in html  # incident_scope_table
    assert "fired during an incident" in html and "fired during a budget burn" in html
    # low traffic: the events in each page rule's windows at p10, the remedies (none needed on the samples)
    assert "Events in each page rule" in html and "checkout-timeslice/page/1h" in html
    # the samples' low-traffic journey: one bad request pages, a remedy is replayed and put in force
    assert "refunds-availability" in html and "yes, in force" in html
    assert "exhaustion/6h (offered, not in force)" in html  # the exhaustion ticket beside the rules
