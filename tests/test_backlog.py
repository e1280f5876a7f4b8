"""Ranked reliability backlog from hand-made section payloads (srekit.analysis.backlog)."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from srekit.analysis.backlog.build import backlog_from_report, build_backlog
from srekit.analysis.backlog.model import EFFORT_WEIGHTS, effort_from_hours, score
from srekit.inputs.config import parse_config
from srekit.report import tables

SLO = "checkout-availability"


def config(**extra):
    raw = {
        "service": "shop",
        "data": {"toil": "toil.csv"},
        "journeys": [{"name": "checkout", "owner": "dana", "slos": {"availability": 0.999}}],
        "toil": {"team_size": 4, "hours_per_week": 40},
        "oncall": {"handling_minutes_per_page": 30},
        "owners": {"alerting": "ann", "incidents": "bob", "toil": "cy", "default": "sre-team"},
    }
    raw.update(extra)
    return parse_config(raw)


TOIL = {
    "team": {"size": 4, "hours_per_week": 40.0, "capacity_hours_per_week": 160.0},
    "candidates": [
        {
            "task": "restart",
            "hours_per_week": 8.0,
            "saved_hours_per_week": 5.0,
            "cost_hours": {"likely": 10.0},
            "break_even_hours": 260.0,
            "horizon_weeks": 52,
            "roi": {"p_payback_within_horizon": 0.97, "payback_weeks": {"p50": 2.0}},
        },
        {
            "task": "certs",
            "hours_per_week": 12.0,
            "saved_hours_per_week": 10.0,
            "cost_hours": {"likely": 40.0},
            "break_even_hours": 520.0,
            "horizon_weeks": 52,
            "roi": {"p_payback_within_horizon": 0.9, "payback_weeks": {"p50": 4.0}},
            "self_healing": {"action": "renew certificates", "rollback": "pin previous certificate"},
        },
        {
            "task": "reports",
            "hours_per_week": 0.5,
            "saved_hours_per_week": 0.2,
            "cost_hours": {"likely": 80.0},
            "break_even_hours": 10.0,
            "horizon_weeks": 52,
            "roi": {"p_payback_within_horizon": 0.3, "payback_weeks": {"p50": None}},
        },
    ],
}
INCIDENTS = {
    "incidents": 8,
    "metrics": {"ttd": {"median_s": 1500.0}},
    "breakdowns": {
        "cause": [
            {
                "cause": "bad deploy",
                "count": 4,
                "share": 0.5,
                "repeat": True,
                "ttr_median_s": 3600.0,
                "budget_minutes": 60.0,
            },
            {
                "cause": "db failover",
                "count": 2,
                "share": 0.25,
                "repeat": True,
                "ttr_median_s": 1200.0,
                "budget_minutes": 10.0,
            },
            {
                "cause": "unknown",
                "count": 2,
                "share": 0.25,
                "repeat": False,
                "ttr_median_s": 600.0,
                "budget_minutes": 5.0,
            },
        ],
        "detection": [{"detection": "alert", "count": 5}, {"detection": "customer", "count": 3}],
    },
    "postmortems": {
        "done": 1,
        "pending": 2,
        "none": 0,
        "action_items_open": 6,
        "action_items_closed": 4,
        "closure_rate": 0.4,
    },
}
FORECAST = {
    "window_days": 28,
    "per_slo": [
        {
            "slo": SLO,
            "journey": "checkout",
            "target": 0.999,
            "window_days": 28,
            "budget_minutes": 40.32,
            "p_exhaust": 0.3,
        }
    ],
    "what_ifs": [
        {
            "slo": SLO,
            "name": "fewer incidents",
            "change": "-25% incidents",
            "delta_budget_minutes": -8.4,
            "delta_p_exhaust": -0.1,
        },
        {"slo": SLO, "name": "faster resolution", "change": "-25% incident duration", "delta_budget_minutes": -2.8},
        {
            "slo": SLO,
            "name": "faster detection",
            "change": "-10 min detection per incident",
            "delta_budget_minutes": -5.6,
        },
    ],
    "model": {
        "per_slo": {
            SLO: {
                "history_days": 91.0,
                "background_budget_minutes_per_day_median": 0.25,
                "impacts_measured": 6,
                "impact_budget_minutes_median": 12.0,
            }
        }
    },
}
ALERTING = {
    "policy": [
        {
            "slo": SLO,
            "severity": "page",
            "long_window": "1h",
            "short_window": "5m",
            "short_window_s": 300.0,
            "burn_rate": 14.4,
        },
        {
            "slo": SLO,
            "severity": "page",
            "long_window": "6h",
            "short_window": "30m",
            "short_window_s": 1800.0,
            "burn_rate": 6.0,
        },
        {
            "slo": SLO,
            "severity": "ticket",
            "long_window": "3d",
            "short_window": "6h",
            "short_window_s": 21600.0,
            "burn_rate": 1.0,
        },
    ],
    "backtest": {"start": "2026-01-01T00:00:00+00:00", "end": "2026-04-02T00:00:00+00:00"},
    "incidents": [
        {
            "id": "INC-1",
            "detected": False,
            "started_at": "2026-02-01T10:00:00+00:00",
            "impact_end": "2026-02-01T11:00:00+00:00",
        },
        {
            "id": "INC-2",
            "detected": True,
            "started_at": "2026-03-01T10:00:00+00:00",
            "impact_end": "2026-03-01T10:30:00+00:00",
        },
    ],
    "existing_pages": {
        "pages_per_week": 10.0,
        "share_non_actionable": 0.5,
        "share_cause_based": 0.2,
        "cause_based_alerts": ["HighCPU"],
    },
}


def payload(backlog):
    out = backlog.to_dict()
    json.dumps(out, allow_nan=False)
    return out


def test_ranking_by_impact_over_effort_hand_checked():
    bl = build_backlog(config(), alerting=ALERTING, incidents=INCIDENTS, forecast=FORECAST, toil=TOIL)
    out = payload(bl)
    # quarter = 91 days: budget 40.32 min per 28 days → 131.04 min; team 4 × 40 h × 13 weeks = 2080 h
    assert out["scale"]["budget_minutes_per_quarter"] == pytest.approx(131.04)
    assert out["scale"]["team_hours_per_quarter"] == pytest.approx(2080.0)
    expected = [  # (category, impact value, effort, score = 100 × value / quarter / weight)
        ("postmortem_follow_up", 8.4 * 91 / 28, "S", 100 * 27.3 / 131.04 / 1),
        ("slo", 0.25 * 91, "M", 100 * 22.75 / 131.04 / 3),  # background: p_exhaust 30% ≥ 10%
        ("incident_cause", 60.0, "L", 100 * 60 / 131.04 / 8),
        ("detection", 5.6 * 91 / 28, "M", 100 * 18.2 / 131.04 / 3),
        ("toil_automation", 5.0 * 13, "S", 100 * 65 / 2080 / 1),
        ("alerting_gap", 12.0, "M", 100 * 12 / 131.04 / 3),  # missed INC-1 × median 12 budget min per incident
        ("toil_automation", 10.0 * 13, "M", 100 * 130 / 2080 / 3),
        ("alerting_gap", 10 * 0.5 * 0.5 * 13, "S", 100 * 32.5 / 2080 / 1),
        ("chaos_experiment", 9.1 * 4 / 8, "M", 100 * 4.55 / 131.04 / 3),
        ("incident_cause", 10.0, "L", 100 * 10 / 131.04 / 8),
        ("chaos_experiment", 9.1 * 2 / 8, "M", 100 * 2.275 / 131.04 / 3),
        ("alerting_gap", 10 * 0.2 * 0.5 * 13, "M", 100 * 13 / 2080 / 3),
    ]
    items = out["items"]
    assert [i["rank"] for i in items] == list(range(1, len(expected) + 1))
    got = [(i["category"], i["impact"]["value"], i["effort"], i["score"]) for i in items]
    for (c, v, e, s), (gc, gv, ge, gs) in zip(expected, got, strict=True):
        assert (gc, ge) == (c, e)
        assert gv == pytest.approx(v) and gs == pytest.approx(s)
    scores = [i["score"] for i in items]
    assert scores == sorted(scores, reverse=True)
    # the low-probability automation (reports, p=0.3) and the unknown cause are not proposed
    assert not any("reports" in i["title"] or "'unknown'" in i["title"] for i in items)
    assert {i["impact"]["unit"] for i in items} == {"budget_minutes_per_quarter", "hours_per_quarter"}


def test_owners_evidence_and_abort_conditions():
    out = payload(build_backlog(config(), alerting=ALERTING, incidents=INCIDENTS, forecast=FORECAST, toil=TOIL))
    by_cat: dict[str, list[dict]] = {}
    for i in out["items"]:
        by_cat.setdefault(i["category"], []).append(i)
        assert i["evidence"] and i["title"] and i["owner"]
    assert {i["owner"] for i in by_cat["alerting_gap"] + by_cat["detection"]} == {"ann"}
    assert {i["owner"] for i in by_cat["incident_cause"] + by_cat["postmortem_follow_up"]} == {"bob"}
    assert {i["owner"] for i in by_cat["toil_automation"]} == {"cy"}
    assert by_cat["slo"][0]["owner"] == "dana"  # the journey's own owner
    assert by_cat["chaos_experiment"][0]["owner"] == "bob"  # no chaos owner: the incidents owner
    for i in by_cat["chaos_experiment"]:
        assert i["abort_condition"] == f"abort when the 5m burn rate of {SLO} > 14.4 (its 1h page rule)"
    assert all(i["abort_condition"] is None for i in out["items"] if i["category"] != "chaos_experiment")
    # evidence carries the payload's numbers
    pm = by_cat["postmortem_follow_up"][0]["evidence"]
    assert "2 SEV1/SEV2 postmortem(s) not done" in pm and "6 open action item(s)" in pm and "40%" in pm
    assert "3 of 8 incidents" in by_cat["detection"][0]["evidence"]
    assert "INC-1" in by_cat["alerting_gap"][0]["evidence"]  # missed incidents rank first
    assert "pin previous certificate" in next(i["title"] for i in by_cat["toil_automation"] if "certs" in i["title"])


@pytest.mark.parametrize("only", ["alerting", "incidents", "forecast", "toil", "slo", "budget"])
def test_each_section_alone_is_tolerated(only):
    payloads = {
        "alerting": ALERTING,
        "incidents": INCIDENTS,
        "forecast": FORECAST,
        "toil": TOIL,
        "slo": {"slos": []},
        "budget": {"budgets": []},
    }
    bl = build_backlog(config(), **{only: payloads[only]})
    out = payload(bl)
    assert [i["rank"] for i in out["items"]] == list(range(1, len(out["items"]) + 1))
    topics = {q.topic for q in bl.open_questions}
    assert "backlog_sections" in topics
    assert out["sections_used"] == (
        [{"incidents": "incident_response", "slo": "slo_proposal", "budget": "error_budget_policy"}.get(only, only)]
    )


def test_nothing_at_all_is_an_empty_backlog_with_questions():
    bl = build_backlog(parse_config({"service": "x", "data": {"toil": "t.csv"}}))
    out = payload(bl)
    assert out["items"] == []
    assert {"backlog_budget_scale", "backlog_team_scale", "backlog_sections"} <= {q.topic for q in bl.open_questions}


def test_without_forecast_the_assumptions_are_stated():
    bl = build_backlog(config(), incidents=INCIDENTS)
    out = payload(bl)
    cats = {}
    for i in out["items"]:
        cats.setdefault(i["category"], i)  # the best-ranked item of each category
    # no history length: totals count as one quarter (stated in open questions)
    assert cats["incident_cause"]["impact"]["value"] == pytest.approx(60.0)
    assert cats["detection"]["impact"]["value"] == pytest.approx(3 * 10.0)  # 3 customer-detected × 10 min
    assert "assumed" in cats["detection"]["evidence"]
    assert "backlog_history" in {q.topic for q in bl.open_questions}
    assert out["items"][0]["impact"]["share_of_quarter"] > 0
    # budget scale from the journey's 99.9% target: 0.001 × 91 × 1440
    assert out["scale"]["budget_minutes_per_quarter"] == pytest.approx(131.04)
    # default abort condition when there is no alert policy
    chaos = [i for i in out["items"] if i["category"] == "chaos_experiment"]
    assert chaos and all("5m burn rate > 14.4" in i["abort_condition"] for i in chaos)


def test_unassigned_owner_is_an_open_question():
    cfg = parse_config({"service": "x", "data": {"toil": "t.csv"}})
    bl = build_backlog(cfg, toil=TOIL)
    assert {i.owner for i in bl.items} == {"unassigned"}
    assert "backlog_owners" in {q.topic for q in bl.open_questions}


def test_exhausted_budget_from_the_budget_payload():
    # the budget policy payload: window in seconds, the budget as full-outage minutes
    budget = {
        "slos": [
            {
                "slo": SLO,
                "journey": "checkout",
                "consumed": 1.5,
                "allowed_outage_minutes": 40.32,
                "window_s": 28 * 86400,
            },
            {
                "slo": "other",
                "journey": "search",
                "consumed": 0.8,
                "allowed_outage_minutes": 40.32,
                "window_s": 28 * 86400,
            },
        ]
    }
    out = payload(build_backlog(config(), budget=budget))
    (item,) = out["items"]
    assert item["category"] == "slo" and SLO in item["title"]
    assert item["impact"]["value"] == pytest.approx(0.5 * 40.32 * 91 / 28)  # overspend per quarter
    assert item["impact"]["share_of_quarter"] == pytest.approx(0.5)
    assert item["owner"] == "dana" and "150%" in item["evidence"]


def test_instrumentation_plan_becomes_unmeasured_slo_work():
    slo = {
        "slos": [{"name": SLO, "journey": "checkout", "target": 0.995}],
        "instrumentation_plan": [
            {
                "journey": "search",
                "counter": "http_requests_total",
                "histogram": "http_request_duration_seconds",
                "why": "no telemetry rows",
            }
        ],
    }
    bl = build_backlog(config(), slo=slo, toil=TOIL)
    out = payload(bl)
    last = out["items"][-1]
    assert last["category"] == "slo" and "'search'" in last["title"]
    assert last["impact"]["value"] == 0.0 and "cannot be measured" in last["evidence"]
    # the SLO payload's 99.5% target sets the budget scale: 0.005 × 91 × 1440
    assert out["scale"]["budget_minutes_per_quarter"] == pytest.approx(655.2)


def test_effort_and_score_scale():
    assert [effort_from_hours(h) for h in (8, 16, 17, 80, 81)] == ["S", "S", "M", "M", "L"]
    assert EFFORT_WEIGHTS == {"S": 1.0, "M": 3.0, "L": 8.0}
    assert score(0.3, "M") == pytest.approx(10.0)


@settings(max_examples=30, deadline=None)
@given(st.lists(st.tuples(st.floats(0.1, 50), st.floats(1, 200)), min_size=1, max_size=6))
def test_more_saving_for_the_same_effort_ranks_higher(cands):
    toil = {
        "team": {"capacity_hours_per_week": 200.0},
        "candidates": [
            {
                "task": f"t{i}",
                "hours_per_week": s + 1,
                "saved_hours_per_week": s,
                "cost_hours": {"likely": c},
                "break_even_hours": 1.0,
                "horizon_weeks": 52,
                "roi": {"p_payback_within_horizon": 0.9, "payback_weeks": {}},
            }
            for i, (s, c) in enumerate(cands)
        ],
    }
    items = build_backlog(config(), toil=toil).items
    for a in items:
        for b in items:
            if a.effort == b.effort and a.impact.value > b.impact.value:
                assert a.rank < b.rank


def test_missed_incident_impact_fallbacks():
    # no forecast: mean budget minutes per logged incident (75 / 8) per missed incident
    out = payload(build_backlog(config(), alerting=ALERTING, incidents=INCIDENTS))
    missed = next(i for i in out["items"] if "missed" in i["title"])
    assert missed["impact"]["value"] == pytest.approx(75 / 8 * 91 / 91.0)  # history from the backtest: 91 days
    assert "mean 9.38 budget minutes per logged incident" in missed["evidence"]
    # neither: the incident's duration as full-outage minutes, an upper bound
    out = payload(build_backlog(config(), alerting=ALERTING))
    missed = next(i for i in out["items"] if "missed" in i["title"])
    assert missed["impact"]["value"] == pytest.approx(60.0)
    assert "upper bound" in missed["evidence"]


def test_background_burn_needs_a_material_share_or_risk():
    calm = {**FORECAST, "per_slo": [{**FORECAST["per_slo"][0], "p_exhaust": 0.05}]}
    out = payload(build_backlog(config(), forecast=calm))
    assert not [i for i in out["items"] if i["category"] == "slo"]  # 17% of the budget and 5% risk
    heavy = {
        **calm,
        "model": {
            "per_slo": {SLO: {**FORECAST["model"]["per_slo"][SLO], "background_budget_minutes_per_day_median": 0.5}}
        },
    }
    out = payload(build_backlog(config(), forecast=heavy))
    (item,) = [i for i in out["items"] if i["category"] == "slo"]
    assert item["impact"]["value"] == pytest.approx(0.5 * 91) and "35%" in item["evidence"]


def test_failed_sections_count_as_missing():
    bl = build_backlog(config(), toil=TOIL, alerting={"status": "failed", "error": "ValueError: boom"})
    out = payload(bl)
    assert out["sections_used"] == ["toil"]
    assert all(i["category"] == "toil_automation" for i in out["items"])
    q = next(q for q in bl.open_questions if q.topic == "backlog_sections")
    assert "alerting" in q.assumption


def test_chaos_owner_from_the_owners_map():
    cfg = config(owners={"chaos": "gina", "default": "sre-team"})
    out = payload(build_backlog(cfg, incidents=INCIDENTS))
    assert {i["owner"] for i in out["items"] if i["category"] == "chaos_experiment"} == {"gina"}
    assert {i["owner"] for i in out["items"] if i["category"] == "incident_cause"} == {"sre-team"}


def test_backlog_from_report_reads_the_report_json_layout():
    report = {
        "error_budget_policy": {"slos": [], "forecast": FORECAST},
        "alerting": ALERTING,
        "incident_response": INCIDENTS,
        "toil": TOIL,
        "slo_proposal": {"slos": []},
    }
    a = payload(backlog_from_report(config(), report))
    b = payload(
        build_backlog(
            config(),
            budget=report["error_budget_policy"],
            forecast=FORECAST,
            alerting=ALERTING,
            incidents=INCIDENTS,
            toil=TOIL,
            slo={"slos": []},
        )
    )
    assert a == b and len(a["items"]) == 12
    table = tables.backlog_table({"backlog": a}, top=None)
    assert list(table["rank"]) == list(range(1, 13))
    chaos = table[table["category"] == "chaos experiment"]
    assert chaos["evidence"].str.contains("Safety: abort when the 5m burn rate").all()


def test_toil_over_the_cap_and_page_estimates():
    toil = {
        **TOIL,
        "source": "estimated_from_pages",
        "share_of_team_time": 0.6,
        "cap": 0.5,
        "toil_hours_per_week": 96.0,
    }
    out = payload(build_backlog(config(), toil=toil))
    titles = [i["title"] for i in out["items"]]
    assert "Automate the response to 'restart' pages" in titles
    over = next(i for i in out["items"] if "50% cap" in i["title"])
    assert over["impact"]["value"] == pytest.approx(0.1 * 160 * 13)  # 16 h/week above the cap, 13 weeks
    assert over["effort"] == "L" and over["category"] == "toil_automation" and "60%" in over["evidence"]
