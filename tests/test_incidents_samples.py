"""Incidents and forecast on the generated samples, checked against their ground truth
(data/samples/ground_truth.json)."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from srekit.analysis.forecast.fit import fit_model
from srekit.analysis.incidents.analyze import analyze_incidents
from srekit.analysis.incidents.impact import impact_windows, incident_impact
from srekit.analysis.incidents.log import log_end, prepare
from srekit.core.spec import SLOSpec
from srekit.inputs.config import load_config
from tests.conftest import SAMPLES

AVAIL = SLOSpec("checkout-availability", "checkout", "availability", 0.999)
LAT = SLOSpec("checkout-latency", "checkout", "latency", 0.99, threshold_ms=1500)


@pytest.fixture(scope="module")
def loaded():  # type: ignore[no-untyped-def]
    from srekit.inputs.loaders import load_inputs

    cfg = load_config(SAMPLES / "service.yaml")
    truth = json.loads((SAMPLES / "ground_truth.json").read_text())
    return cfg, load_inputs(cfg), truth


def test_open_and_invisible_incidents(loaded) -> None:  # type: ignore[no-untyped-def]
    cfg, inputs, truth = loaded
    rep = analyze_incidents(
        inputs.incidents,
        cfg,
        rng=np.random.default_rng(0),
        telemetry=inputs.telemetry,
        specs=(AVAIL, LAT),
        deploys=inputs.deploys,
    )
    assert rep.open_incidents == len(truth["open_incidents"])
    assert rep.metrics["ttr"].censored == len(truth["open_incidents"])  # kept, as censored
    df = prepare(inputs.incidents)
    windows = impact_windows(df, log_end(df))
    impact = incident_impact(windows, inputs.telemetry, AVAIL).set_index("id")
    # incidents the telemetry cannot see cost (almost) no budget
    assert impact.loc[truth["invisible_incidents"], "budget_minutes"].max() < 0.5
    # the injected hard outage of checkout (97% errors for 18 min) is the costliest checkout incident
    outage = next(e for e in truth["events"] if e["kind"] == "hard_outage" and e["journey"] == "checkout")
    iid = outage["incident_id"]
    assert impact["budget_minutes"].idxmax() == iid
    assert impact.loc[iid, "duration_minutes"] == outage["duration_minutes"]
    assert impact.loc[iid, "intensity"] > 0.8
    json.dumps(rep.to_dict(), allow_nan=False)


def test_forecast_model_on_the_samples(loaded) -> None:  # type: ignore[no-untyped-def]
    cfg, inputs, truth = loaded
    m = fit_model(inputs.telemetry, inputs.incidents, AVAIL)
    df = prepare(inputs.incidents)
    relevant = df[df["journey"].isna() | (df["journey"] == "checkout")]
    assert m.incidents == len(relevant)
    assert m.history_days == truth["parameters"]["days"]
    lo, hi = m.rate_interval()
    assert lo < len(relevant) / truth["parameters"]["days"] < hi
    assert m.background_source == "quiet days"
    # background: checkout's baseline error ratio 0.02% of a day's traffic, in budget minutes
    baseline = next(j for j in truth["journeys"] if j["name"] == "checkout")
    assert np.median(m.background_daily) == pytest.approx(baseline["base_error_ratio"] * 1440, rel=0.15)
    assert pd.Series(m.durations_minutes).max() >= 3000  # the slow burn lasting days is kept
