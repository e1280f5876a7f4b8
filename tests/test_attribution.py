"""Who spent the budget (issue 16): bad events attributed to incidents, deploy hours and the
background, with known answers and a conservation property."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from srekit.analysis.attribution import attribute
from srekit.analysis.budget import budget_policy
from srekit.core.spec import SLOSpec
from srekit.inputs.config import parse_config
from srekit.report import tables

START = pd.Timestamp("2024-05-01", tz="UTC")
SPEC = SLOSpec("checkout-availability", "checkout", "availability", 0.999, window=pd.Timedelta(days=7))
CFG = parse_config({"service": "shop", "data": {"telemetry": "t.parquet"}, "journeys": ["checkout", "search"]})


def at(minute: int) -> pd.Timestamp:
    return START + pd.Timedelta(minutes=minute)


def telemetry(minutes: int, errors: dict[int, int], per_min: int = 200) -> pd.DataFrame:
    err = np.zeros(minutes, dtype=np.int64)
    for m, n in errors.items():
        err[m] = n
    idx = pd.date_range(START, periods=minutes, freq="min")
    return pd.DataFrame({"journey": "checkout", "interval_start": idx, "total": per_min, "errors": err})


def test_an_injected_outage_is_attributed_to_its_incident():
    """10 days at 200 requests/min with 1 error every 7th minute (background) and a 40-minute
    outage of 150 errors/min on day 8, logged as INC-1 (with a 5-minute detection lag logged as
    the start): ≥ 99 % of the outage's bad events go to INC-1, the rest of the background stays
    background, and a deploy an hour before the outage gets only its own hour."""
    minutes = 10 * 1440
    errors = {m: 1 for m in range(0, minutes, 7)}
    outage = range(8 * 1440, 8 * 1440 + 40)
    errors.update({m: 150 for m in outage})
    tel = telemetry(minutes, errors)
    incidents = pd.DataFrame(
        {
            "id": ["INC-1", "INC-OTHER"],
            "journey": ["checkout", "search"],
            "started_at": [at(8 * 1440), at(8 * 1440)],
            "mitigated_at": [at(8 * 1440 + 40), at(8 * 1440 + 40)],
            "resolved_at": [at(8 * 1440 + 90), at(8 * 1440 + 90)],
        }
    )
    deploys = pd.DataFrame({"timestamp": [at(8 * 1440 - 60)], "result": ["success"], "service": ["checkout-api"]})
    pol = budget_policy(tel, None, [SPEC], CFG, incidents=incidents, deploys=deploys)
    (a,) = pol.attribution
    by = {s.id or s.kind: s for s in a.sources}
    assert set(by) == {"INC-1", "1 deploy", "background"}  # INC-OTHER is search's; the deploy hour is under 1 %
    injected = 40 * 150
    assert by["INC-1"].bad_events >= 0.99 * injected and by["INC-1"].bad_events == injected
    assert (by["INC-1"].minutes, by["INC-1"].events) == (40.0, 40 * 200)
    deploy_hour = sum(1 for m in range(8 * 1440 - 60, 8 * 1440) if m % 7 == 0)
    assert (by["1 deploy"].kind, by["1 deploy"].bad_events, by["1 deploy"].minutes) == (
        "other_deploys",
        deploy_hour,
        60.0,
    )
    assert a.bad_events == sum(errors.values()) == sum(s.bad_events for s in a.sources)
    assert by["INC-1"].share == injected / a.bad_events
    assert a.bad_events_window == pol.budgets[0].bad_events  # the window is the budget's
    json.dumps(pol.to_dict()["attribution"], allow_nan=False)
    table = tables.attribution_table({"error_budget_policy": pol.to_dict()})
    assert list(table["spent by"])[0] == "incident INC-1"


def test_overlapping_incidents_go_to_the_earliest_and_open_ones_run_to_the_end():
    tel = telemetry(600, {m: 2 for m in range(600)})
    incidents = pd.DataFrame(
        {
            "id": ["LATE", "EARLY", "OPEN"],
            "journey": [None, "checkout", "shop"],  # no journey, this journey, the service itself
            "started_at": [at(100), at(50), at(500)],
            "mitigated_at": [at(200), at(150), pd.NaT],
            "resolved_at": [at(200), at(150), pd.NaT],
        }
    )
    a = attribute(
        tel.set_index("interval_start").rename(columns={"errors": "bad"})[["total", "bad"]],
        SPEC,
        window=(at(0), at(600)),
        incidents=incidents,
        deploys=None,
        service="shop",
    )
    by = {s.id or s.kind: s.bad_events for s in a.sources}
    assert by == {"EARLY": 200, "LATE": 100, "OPEN": 200, "background": 700}


@settings(max_examples=60, deadline=None)
@given(
    spans=st.lists(st.tuples(st.integers(0, 1400), st.integers(0, 300)), max_size=5),
    deploys=st.lists(st.integers(0, 1440), max_size=8),
    seed=st.integers(0, 2**32 - 1),
)
def test_every_bad_event_is_attributed_once(spans, deploys, seed):
    rng = np.random.default_rng(seed)
    tel = telemetry(1440, {m: int(n) for m, n in enumerate(rng.poisson(0.5, 1440))})
    events = tel.set_index("interval_start").rename(columns={"errors": "bad"})[["total", "bad"]]
    incidents = pd.DataFrame(
        {
            "id": [f"I{k}" for k in range(len(spans))],
            "journey": "checkout",
            "started_at": [at(a) for a, _ in spans],
            "resolved_at": [at(a + n) for a, n in spans],
        }
    )
    dep = pd.DataFrame({"timestamp": [at(m) for m in deploys], "service": "api"})
    a = attribute(events, SPEC, window=(at(720), at(1440)), incidents=incidents, deploys=dep)
    assert sum(s.bad_events for s in a.sources) == a.bad_events == int(events["bad"].sum())
    assert sum(s.bad_events_window for s in a.sources) == a.bad_events_window
    assert sum(s.minutes for s in a.sources) == 1440.0
    if a.bad_events:
        assert abs(sum(s.share or 0 for s in a.sources) - 1.0) < 1e-9
