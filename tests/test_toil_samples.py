"""Toil and backlog on the committed samples, on the real incident corpus, and the notebook."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from conftest import ROOT, SAMPLES, external

from srekit.analysis.backlog.build import build_backlog
from srekit.analysis.backlog.model import CATEGORIES
from srekit.analysis.toil.analyze import analyze_toil
from srekit.inputs.config import load_config, parse_config


@pytest.fixture(scope="module")
def sample_inputs():
    cfg_path = SAMPLES / "service.yaml"
    from srekit.inputs.loaders import load_inputs

    config = load_config(cfg_path)
    return config, load_inputs(config)


def test_samples_toil_matches_an_independent_count(sample_inputs):
    config, inputs = sample_inputs
    rep = analyze_toil(inputs.toil, inputs.alerts, config, rng=np.random.default_rng(0), runs=2000)
    out = rep.to_dict()
    json.dumps(out, allow_nan=False)
    raw = pd.read_csv(SAMPLES / "toil.csv")
    days = (pd.to_datetime(raw["date"]).max() - pd.to_datetime(raw["date"]).min()).days + 1
    assert out["source"] == "toil_log" and out["period"]["weeks"] == pytest.approx(days / 7)
    assert out["toil_hours_per_week"] == pytest.approx(raw["minutes"].sum() / 60 / (days / 7))
    assert out["team"] == {
        "size": 5,
        "size_source": "config.toil.team_size",
        "hours_per_week": 40.0,
        "capacity_hours_per_week": 200.0,
    }
    pages = pd.read_csv(SAMPLES / "pages.csv")
    assert out["oncall_floor"]["pages_per_week"] * out["oncall_floor"]["hours_per_week"] > 0
    assert out["oncall_floor"]["hours_per_week"] == pytest.approx(
        out["oncall_floor"]["pages_per_week"] * config.oncall.handling_minutes_per_page / 60
    )
    assert (pages["severity"] == "page").sum() == pytest.approx(
        out["oncall_floor"]["pages_per_week"] * out["period"]["weeks"], rel=0.05
    )
    # ground truth (data/samples/README.md): 'restart stuck queue workers' grows ≈ 2 → 9 a week
    inv = {t["task"]: t for t in out["inventory"]}
    assert inv["restart stuck queue workers"]["trend"]["direction"] == "growing"
    assert inv["clean up disk on log hosts"]["trend"]["slope_hours_per_week_per_week"] > 0
    assert inv["approve and babysit deploys"]["trend"]["direction"] == "flat"  # steady task


def test_samples_estimate_from_pages(sample_inputs):
    config, inputs = sample_inputs
    rep = analyze_toil(None, inputs.alerts, config, rng=np.random.default_rng(0), runs=500)
    out = rep.to_dict()
    assert out["source"] == "estimated_from_pages"
    total_hours = len(inputs.alerts) * config.oncall.handling_minutes_per_page / 60
    assert out["toil_hours_per_week"] * out["period"]["weeks"] == pytest.approx(total_hours)
    assert "toil_source" in {q.topic for q in rep.open_questions}


@pytest.mark.external
@pytest.mark.parametrize(
    "parts, fmt",
    [
        (("github-incident-history", "incidents.statuspage.json"), "statuspage"),
        (("cloud-status-history", "app", "public", "incidents.json"), "gcp"),
    ],
)
def test_backlog_on_real_incident_histories(parts, fmt):
    from srekit.analysis.incidents.analyze import analyze_incidents
    from srekit.inputs.loaders import load_incidents

    frame = load_incidents(external(*parts), fmt=fmt).frame
    config = parse_config({"service": "real", "data": {"incidents": "x"}, "owners": {"incidents": "ir-team"}})
    payload = analyze_incidents(frame, config, rng=np.random.default_rng(0)).to_dict()
    bl = build_backlog(config, incidents=payload)
    out = bl.to_dict()
    json.dumps(out, allow_nan=False)
    # neither history records causes, detection sources or postmortems: the backlog asks for
    # postmortems on the high-severity incidents and says causes cannot be ranked
    cats = [i["category"] for i in out["items"]]
    assert "postmortem_follow_up" in cats and "incident_cause" not in cats
    assert set(cats) <= set(CATEGORIES)
    pm = next(i for i in out["items"] if i["category"] == "postmortem_follow_up")
    assert str(payload["postmortems"]["high_severity_incidents"]) in pm["evidence"] and pm["owner"] == "ir-team"
    assert {"backlog_incident_causes", "backlog_history"} <= {q.topic for q in bl.open_questions}


@pytest.mark.slow
def test_toil_notebook_runs_on_the_samples(tmp_path):
    import papermill

    nb_path = ROOT / "notebooks" / "06_toil.ipynb"
    nb = json.loads(nb_path.read_text())
    params = [c for c in nb["cells"] if "parameters" in c.get("metadata", {}).get("tags", [])]
    assert len(params) == 1 and 'config_path = "../data/samples/service.yaml"' in "".join(params[0]["source"])
    assert all(not c.get("outputs") for c in nb["cells"] if c["cell_type"] == "code")  # committed clean
    out = tmp_path / "06_toil.ipynb"
    papermill.execute_notebook(
        str(nb_path),
        str(out),
        cwd=str(ROOT / "notebooks"),
        progress_bar=False,
        kernel_name="python3",
        parameters={"config_path": str(SAMPLES / "service.yaml")},
    )
    done = json.loads(out.read_text())
    html = "".join("".join(o.get("data", {}).get("text/html", "")) for c in done["cells"] for o in c.get("outputs", []))
    assert html.count('<img src="data:image/svg+xml;base64,') == 5 and html.count('alt="') == 5
    assert "Reliability backlog, highest priority first" in html and "restart stuck queue workers" in html
    # the backlog drew on every section: alerting, incidents, forecast/SLO and toil items, and
    # chaos experiments carry their burn-rate abort condition
    for category in ("alerting gap", "incident cause", "chaos experiment", "postmortem follow up", "toil automation"):
        assert f"<td>{category}</td>" in html
    assert "Safety: abort when the 5m burn rate of" in html
    assert not [o for c in done["cells"] for o in c.get("outputs", []) if o.get("output_type") == "error"]
