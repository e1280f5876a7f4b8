"""Backtest semantics (issue 19, item 4): which incidents a rule is scored on, empty denominators
as "not applicable", unions consistent with their rules by construction, the backlog quoting
the same counts — hand-checkable histories, properties against a brute-force reference, and
GitHub's real Statuspage history against NAB's real latency series."""

from __future__ import annotations

import json
from collections.abc import Sequence

import numpy as np
import pandas as pd
import pytest
from conftest import external
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from srekit.analysis.alerting.analyze import AlertingReport, analyze_alerting
from srekit.analysis.alerting.backtest import RuleOutcome
from srekit.analysis.alerting.matching import IncidentMatch, incident_impacts
from srekit.analysis.backlog.build import build_backlog
from srekit.core.spec import SLOSpec
from srekit.inputs.config import parse_config
from srekit.report import tables

D30 = pd.Timedelta(days=30)
T0 = pd.Timestamp("2024-01-01", tz="UTC")
MISSED = "Cover the incidents the burn-rate policy would have missed"


def cfg(**extra):
    return parse_config(
        {"service": "shop", "data": {"telemetry": "t.parquet"}, "oncall": {"coverage": "24x7"}, **extra}
    )


def at(minutes: float) -> pd.Timestamp:
    return T0 + pd.Timedelta(minutes=minutes)


def telemetry(
    minutes: int, errors: dict[tuple[int, int], int], journeys: Sequence[str] = ("checkout",), step: int = 1
) -> pd.DataFrame:
    """100 requests per interval of ``step`` minutes for ``minutes`` minutes, per journey;
    ``errors[(a, b)] = n`` puts n errors into every interval starting in minute a..b-1 (all journeys)."""
    idx = pd.date_range(T0, periods=minutes // step, freq=f"{step}min", tz="UTC")
    mins = np.arange(len(idx)) * step
    err = np.zeros(len(idx), dtype=np.int64)
    for (a, b), n in errors.items():
        err[(mins >= a) & (mins < b)] = n
    tot = np.full(len(idx), 100, dtype=np.int64)
    frames = [
        pd.DataFrame({"journey": j, "interval_start": idx, "total": tot, "errors": err, "le_100": tot - err})
        for j in journeys
    ]
    return pd.concat(frames, ignore_index=True)


def incidents(rows: Sequence[tuple[str, pd.Timestamp, pd.Timestamp | None, str | None]]) -> pd.DataFrame:
    """id, started_at, resolved_at (None: open), journey (None: unknown); detected 3 min after the start."""
    df = pd.DataFrame(rows, columns=["id", "started_at", "resolved_at", "journey"])
    for c in ("started_at", "resolved_at"):
        df[c] = pd.to_datetime(df[c], utc=True).astype("datetime64[us, UTC]")
    df["detected_at"] = df["started_at"] + pd.Timedelta(minutes=3)
    df["journey"] = df["journey"].astype("str")
    return df


def spec(journey: str = "checkout") -> SLOSpec:
    return SLOSpec(f"{journey}-availability", journey, "availability", 0.999, window=D30)


def scores(rep: AlertingReport) -> dict[str, dict]:
    d = rep.to_dict()["backtest"]
    return {s["rule"]: s for s in [d["overall"], d["overall_pages"], *d["rules"]]}


# ------------------------------------------------------------------ hand-checkable histories


def three_incidents() -> AlertingReport:
    """Four days of checkout traffic (100 req/min) with a 30-minute full outage on day 2 at
    10:00 that the 1 h page catches after one minute. The incident log holds

    * S1, a *search* incident during that very outage (another journey: not this SLO's miss,
      and the page firing during it is not credited to it);
    * B1, a back-filled checkout record resolved the second it started, at 10:05 while the page
      fires (zero duration: its impact is unknown, so it is neither caught nor missed);
    * M1, a real checkout miss: two hours on day 3 with no errors in the telemetry;
    * O1, an incident a year earlier (outside the replayed range).
    """
    day = 1440
    tel = telemetry(4 * day, {(day + 600, day + 630): 100})
    inc = incidents(
        [
            ("S1", at(day + 600), at(day + 630), "search"),
            ("B1", at(day + 605), at(day + 605), "checkout"),
            ("M1", at(2 * day + 720), at(2 * day + 840), "checkout"),
            ("O1", at(-365 * day), at(-365 * day + 60), "checkout"),
        ]
    )
    return analyze_alerting(tel, None, [spec()], inc, None, cfg())


def test_other_journey_and_back_filled_incidents_are_not_misses():
    rep = three_incidents()
    s = scores(rep)
    page = s["checkout-availability/page/1h"]
    # one firing (the outage), during no incident this SLO is judged against: 0 of 1
    assert (page["firings"], page["true_firings"], page["precision"]) == (1, 0, 0.0)
    assert (page["episode_firings"], page["episode_precision"]) == (1, 1.0)  # a real budget burn
    # scored on M1 only, which nothing catches: 0 of 1, not "3 of 3" and not 1.0
    assert (page["incidents"], page["incidents_detected"], page["recall"]) == (1, 0, 0.0)
    assert page["incidents_excluded"] == {
        "other_journey": 1,
        "corrected": 0,
        "zero_duration": 1,
        "before_rule_could_fire": 0,
    }
    # the 3-day ticket rule cannot fire before day 3 00:00 + 0 (3 days of data): M1 (day 3 12:00) is before it
    ticket_3d = s["checkout-availability/ticket/3d"]
    assert ticket_3d["incidents"] == 0 and ticket_3d["recall"] is None
    assert ticket_3d["incidents_excluded"]["before_rule_could_fire"] == 1
    assert ticket_3d["not_applicable"]["recall"] == (
        "no scorable incident in the replayed range (1 of another journey or service, 1 with zero duration, "
        "1 started before the rule could fire)"
    )
    for union in ("all rules", "all page rules"):
        assert (s[union]["incidents"], s[union]["incidents_detected"], s[union]["recall"]) == (1, 0, 0.0)
    (one_slo,) = (o.to_dict() for o in rep.outcomes)  # the SLO's rules together: the same incidents
    assert (one_slo["incidents"], one_slo["incidents_detected"], one_slo["recall"]) == (1, 0, 0.0)
    assert one_slo["precision"] == s["all rules"]["precision"] == 0.0
    d = rep.to_dict()
    assert d["backtest"]["incident_scope"] == {
        "incidents": 4,
        "in_range": 3,
        "scored": 1,
        "outside_range": 1,
        "other_journey": 1,
        "corrected": 0,
        "zero_duration": 1,
        "before_rule_could_fire": 0,
    }
    assert [i["id"] for i in d["incidents"]] == ["M1"] and not d["incidents"][0]["detected"]
    assert [(n["id"], n["reason"], n["zero_duration"]) for n in d["incidents_not_scored"]] == [
        ("S1", "other_journey", False),
        ("B1", "zero_duration", True),
    ]
    backlog = build_backlog(cfg(), alerting=d).to_dict()["items"]
    assert [i["title"] for i in backlog if i["title"].startswith(MISSED)] == [f"{MISSED} (1 of 1)"]


def test_tables_say_not_applicable_and_why():
    view = {"alerting": json.loads(json.dumps(three_incidents().to_dict()))}
    rows = {r["rule"]: r for r in tables.backtest_table(view, detail=True).to_dict("records")}
    page = rows["checkout-availability/page/1h"]
    assert page["fired during an incident"] == "0% (0 of 1)"
    assert page["fired during a budget burn"] == "100% (1 of 1)"
    assert page["incidents caught"] == "0 of 1"
    assert rows["checkout-availability/ticket/3d"]["incidents caught"].startswith(
        "n/a — no scorable incident in the replayed range (1 of another journey or service"
    )
    scope = tables.incident_scope_table(view)
    assert scope["incidents"].tolist() == [4, 1, 1, 0, 1, 0, 1]  # … other journey, corrected, zero duration …
    assert scope["in the backtest"].iloc[-1].startswith("scored")
    not_scored = tables.incidents_not_scored_table(view)
    assert not_scored["incident"].tolist() == ["S1", "B1"]
    assert not_scored["zero duration"].tolist() == ["no", "yes"]


def test_no_incident_log():
    """The same outage without an incident log: nothing to judge firings or recall against."""
    rep = analyze_alerting(telemetry(4 * 1440, {(2040, 2070): 100}), None, [spec()], None, None, cfg())
    s = scores(rep)
    for name in ("checkout-availability/page/1h", "all rules", "all page rules"):
        assert s[name]["precision"] is None and s[name]["recall"] is None
        assert s[name]["not_applicable"]["precision"] == "no incident log"
        assert s[name]["not_applicable"]["recall"] == "no incident log"
        assert s[name]["episode_precision"] == 1.0  # the firings still fell in a budget burn
    quiet = s["checkout-availability/ticket/3d"]  # never fired: that is why it has no precision
    assert quiet["firings"] == 0 and quiet["not_applicable"]["precision"] == "never fired"
    view = {"alerting": json.loads(json.dumps(rep.to_dict()))}
    row = tables.backtest_table(view).iloc[0]
    assert row["fired during an incident"] == "n/a — no incident log"
    assert row["incidents caught"] == "n/a — no incident log"
    assert row["fired during a budget burn"] == "100% (1 of 1)"
    assert rep.to_dict()["backtest"]["incident_scope"]["incidents"] == 0
    (one_slo,) = (o.to_dict() for o in rep.outcomes)
    assert one_slo["precision"] is None and one_slo["page_precision"] is None
    assert one_slo["not_applicable"] == {
        "precision": "no incident log",
        "recall": "no incident log",
        "median_detection_s": "no incident log",
        "page_precision": "no incident log",
    }
    assert not [i for i in build_backlog(cfg(), alerting=rep.to_dict()).to_dict()["items"] if MISSED in i["title"]]


def test_incident_log_that_does_not_overlap_the_replayed_range():
    inc = incidents([("X1", at(-3000), at(-2900), "checkout")])
    rep = analyze_alerting(telemetry(4 * 1440, {(2040, 2070): 100}), None, [spec()], inc, None, cfg())
    overall = scores(rep)["all rules"]
    assert overall["precision"] is None and overall["recall"] is None
    assert overall["not_applicable"]["precision"] == "no incident log overlaps the replayed range"
    assert rep.to_dict()["backtest"]["incident_scope"]["outside_range"] == 1


def test_a_history_with_no_firing_and_no_incident():
    rep = analyze_alerting(telemetry(2 * 1440, {}), None, [spec()], None, None, cfg())
    for s in scores(rep).values():
        assert s["firings"] == 0 and s["precision"] is None and s["recall"] is None
        assert s["episode_precision"] is None and s["episode_recall"] is None
        assert s["not_applicable"]["episode_recall"] == "no burn episode in the replayed range"


def test_incident_that_began_before_the_data():
    """An outage in progress when the data starts (incident from 23:00 the day before to 00:40,
    errors in the first 30 minutes of data): no rule could have watched it begin — the 1 h page
    is armed at 01:00 — so it is left out as "started before the rule could fire", not missed."""
    tel = telemetry(2 * 1440, {(0, 30): 100})
    inc = incidents([("E1", at(-60), at(40), "checkout")])
    rep = analyze_alerting(tel, None, [spec()], inc, None, cfg())
    d = rep.to_dict()
    assert d["backtest"]["incident_scope"]["before_rule_could_fire"] == 1
    assert d["incidents"] == [] and d["incidents_not_scored"][0]["reason"] == "before_rule_could_fire"


def test_an_incident_naming_the_service_concerns_every_journey():
    tel = telemetry(2 * 1440, {(1000, 1030): 100}, journeys=("checkout", "search"))
    inc = incidents([("SVC", at(1000), at(1030), "shop"), ("OTHER", at(1000), at(1030), "billing")])
    rep = analyze_alerting(tel, None, [spec("checkout"), spec("search")], inc, None, cfg())
    d = rep.to_dict()
    assert [(i["id"], i["detected"]) for i in d["incidents"]] == [("SVC", True)]
    assert [(n["id"], n["reason"]) for n in d["incidents_not_scored"]] == [("OTHER", "other_journey")]
    # an SLO on the whole service (data without journeys) is concerned by a configured journey's incidents
    whole = IncidentMatch("shop", ("checkout",))
    impacts = incident_impacts(
        incidents([("J", at(0), at(9), "checkout"), ("X", at(0), at(9), "billing")]), at(0), at(99)
    )
    assert whole.concerns(impacts, "all").tolist() == [True, False]
    assert whole.concerns(impacts, "search").tolist() == [False, False]


def test_unions_do_not_credit_another_journeys_firing():
    """Review of the old union: a search outage paged while a browse incident was open, and the
    'all page rules' row counted the browse incident as caught (no browse rule fired)."""
    day = 1440
    tel = telemetry(3 * day, {(day + 600, day + 630): 100}, journeys=("browse", "search"))
    tel.loc[tel["journey"] == "browse", ["errors"]] = 0
    tel["le_100"] = tel["total"] - tel["errors"]
    inc = incidents([("BR", at(day), at(2 * day), "browse"), ("SE", at(day + 600), at(day + 630), "search")])
    rep = analyze_alerting(tel, None, [spec("browse"), spec("search")], inc, None, cfg())
    s = scores(rep)
    assert (s["all page rules"]["incidents"], s["all page rules"]["incidents_detected"]) == (2, 1)
    det = {d.incident_id: d.detected_by for d in rep.detections}
    assert det == {"BR": None, "SE": "search-availability/page/1h"}


def test_statuspage_style_log_without_detection_time():
    """When no incident took a second to detect (one stamp for start and detection), the log's
    detection delays are not recorded rather than 0 s."""
    inc = incidents([("A", at(100), at(200), "checkout"), ("B", at(400), at(500), "checkout")])
    inc["detected_at"] = inc["started_at"] + pd.Timedelta(milliseconds=8)
    imp = incident_impacts(inc, at(0), at(1000))
    assert imp["recorded_delay"].isna().all()
    inc.loc[1, "detected_at"] = inc.loc[1, "started_at"] + pd.Timedelta(minutes=4)
    imp = incident_impacts(inc, at(0), at(1000))
    assert imp["recorded_delay"].tolist() == [pd.Timedelta(milliseconds=8), pd.Timedelta(minutes=4)]


# ------------------------------------------------------------------ properties

JOURNEYS = ("checkout", "search")


@st.composite
def histories(draw):
    """Four days at 5-minute intervals for two journeys; error bursts; incidents of either
    journey, no journey, the service, another service; zero-length, open, outside the range;
    half of them near a burst."""
    day = 1440
    bursts = draw(
        st.lists(
            st.tuples(st.integers(0, 4 * day - 60), st.integers(5, 600), st.integers(1, 100)), min_size=0, max_size=4
        )
    )
    errors = {(a, a + length): n for a, length, n in bursts}
    rows = []
    anchors = [a for a, _, _ in bursts]
    for k in range(draw(st.integers(0, 8))):
        near = (
            draw(st.sampled_from(anchors)) + draw(st.integers(-120, 120)) if anchors and draw(st.booleans()) else None
        )
        start = draw(st.integers(-2 * day, 5 * day)) if near is None else near
        length = draw(st.sampled_from([0, 0, 5, 30, 120, 720, None]))
        journey = draw(st.sampled_from(["checkout", "search", None, "shop", "billing"]))
        rows.append((f"I{k}", at(start), None if length is None else at(start + length), journey))
    return errors, rows


def _reference(rep: AlertingReport, impacts: pd.DataFrame, outcomes: Sequence[RuleOutcome]) -> dict[int, set[str]]:
    """Brute force, from the firing runs alone: per impact row, the rules that fired during it
    among those it concerns, that were watching when it began and for which it has a duration."""
    out: dict[int, set[str]] = {}
    for row, imp in impacts.iterrows():
        found = set()
        for o in outcomes:
            concerned = pd.isna(imp["journey"]) or imp["journey"] in (o.rule.journey, "shop")
            if imp["zero_duration"] or not concerned or imp["start"] < T0 + o.rule.long_window:
                continue
            runs = rep.firings[rep.firings["rule"] == o.rule.name]
            start, end = (
                pd.DatetimeIndex(pd.to_datetime(runs["start"], utc=True)),
                pd.DatetimeIndex(pd.to_datetime(runs["end"], utc=True)),
            )
            last_on = end - pd.to_timedelta(np.where(runs["open"].to_numpy(dtype=bool), 0, 1), unit="us")
            if ((start <= imp["end"]) & (last_on >= imp["start"])).any():
                found.add(o.rule.name)
        out[int(row)] = found
    return out


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(histories())
def test_unions_are_consistent_with_their_rules(history):
    errors, rows = history
    tel = telemetry(4 * 1440, errors, journeys=JOURNEYS, step=5)
    inc = incidents(rows) if rows else None
    rep = analyze_alerting(tel, None, [spec(j) for j in JOURNEYS], inc, None, cfg())
    from srekit.analysis.alerting.backtest import backtest
    from srekit.analysis.alerting.compare import policy_outcome
    from srekit.analysis.alerting.replay import replay_slo

    replayed = [replay_slo(tel, None, spec(j), cfg()) for j in JOURNEYS]
    lo = T0
    hi = max(r.fired.index[-1] for r in replayed)
    impacts = incident_impacts(inc, lo, hi)
    bt = backtest(replayed, impacts, rep.overall.weeks, match=IncidentMatch("shop"), logged=len(rows))
    assert bt.overall == rep.overall and bt.overall_pages == rep.overall_pages
    outcomes = bt.outcomes
    # each SLO's rules together (policy_comparison), from the backtest's outcomes or scored afresh
    for r, reused in zip(replayed, rep.outcomes, strict=True):
        fresh = policy_outcome(r, impacts, rep.overall.weeks, match=IncidentMatch("shop"), logged=len(rows))
        assert fresh.to_dict() == reused.to_dict()
    reference = _reference(rep, impacts, outcomes)

    scored = [o.scored for o in outcomes]
    caught = [set(o.detections) for o in outcomes]
    all_scored, all_caught = set().union(*scored), set().union(*caught)
    # the overall row is the union of the rules' rows, which match the brute-force reference
    assert rep.overall.incidents == len(all_scored) and rep.overall.incidents_detected == len(all_caught)
    assert all_caught == {row for row, rules in reference.items() if rules}
    for o in outcomes:
        assert set(o.detections) == {row for row, rules in reference.items() if o.rule.name in rules}
        mine = o.scored
        # over the same incidents, the union catches at least what the rule catches
        assert len(all_caught & mine) >= len(o.detections)
        if mine == all_scored and o.score.recall is not None:
            assert rep.overall.recall is not None and rep.overall.recall >= o.score.recall
    pages = [o for o in outcomes if o.rule.severity == "page"]
    assert rep.overall_pages is not None
    assert rep.overall_pages.incidents_detected == len(set().union(*(set(o.detections) for o in pages)))
    assert rep.overall_pages.incidents_detected <= rep.overall.incidents_detected
    # the per-incident rows are the overall row's incidents, detected exactly when some rule caught them
    assert {d.incident_id for d in rep.detections} == {str(impacts.at[r, "id"]) for r in all_scored}
    assert sum(d.detected_by is not None for d in rep.detections) == rep.overall.incidents_detected
    # a back-filled or other-service incident is never scored
    never = impacts[impacts["zero_duration"] | (impacts["journey"] == "billing")]
    assert not set(never["id"]) & {d.incident_id for d in rep.detections}
    # every incident is accounted for exactly once
    scope = rep.to_dict()["backtest"]["incident_scope"]
    assert scope["in_range"] == len(impacts) and scope["incidents"] == len(rows)
    parts = ("scored", "other_journey", "zero_duration", "before_rule_could_fire")
    assert sum(scope[k] for k in parts) == scope["in_range"]
    assert scope["in_range"] + scope["outside_range"] == scope["incidents"]
    for s in (*rep.scores, rep.overall, rep.overall_pages, rep.baseline):
        _check_ratios(s.to_dict())
    # a union firing is true when it holds a true firing of one of its rules
    if all(o.score.true_firings == o.score.firings for o in outcomes):
        assert rep.overall.true_firings == rep.overall.firings
    if all(o.score.true_firings == 0 for o in outcomes):
        assert rep.overall.true_firings == 0


def _check_ratios(d: dict) -> None:
    """Every ratio is in [0, 1], or None exactly when its denominator is empty, with a reason."""
    for key in ("precision", "recall", "episode_precision", "episode_recall"):
        value = d[key]
        if value is None:
            assert key in d["not_applicable"], (key, d)
        else:
            assert 0.0 <= value <= 1.0 and key not in d["not_applicable"]
    assert (d["recall"] is None) == (d["incidents"] == 0)
    assert (d["episode_precision"] is None) == (d["firings"] == 0)
    assert (d["episode_recall"] is None) == (d["episodes"] == 0)
    if d["firings"] == 0:
        assert d["precision"] is None and d["not_applicable"]["precision"] == "never fired"
    assert d["incidents_detected"] <= d["incidents"]


# ------------------------------------------------------------------ real data


@pytest.mark.external
def test_github_statuspage_history_against_nab_latency():
    """GitHub's 1,282 Statuspage incidents (1,279 loaded) against NAB's ec2 latency series
    (2014-03-07 03:41 to 2014-03-21 03:41, 5-minute means, journey 'all'). Checked by hand from
    the JSON: three incidents start inside the replayed range — 16kwjj1mtyzd 2014-03-11 01:14:22,
    bj7bmpvt9jw8 2014-03-11 21:29:45, cnttym5ln83s 2014-03-12 16:09:43 — all 'Git Operations',
    all back-filled (resolved the second they started); frstjkhfvp21 (03-05) and f7p7cxdqb34v
    (03-21 13:13) fall just outside. None can be scored: the backtest reports n/a, not
    'missed 3 of 3' and not recall 1.0 per rule next to 0.0 overall."""
    from srekit.analysis.slo.propose import propose_slos
    from srekit.inputs.loaders import load_incidents, load_series

    path = external("nab", "data", "realKnownCause", "ec2_request_latency_system_failure.csv")
    gh = load_incidents(external("github-incident-history", "incidents.statuspage.json"), fmt="statuspage").frame
    docs = json.loads(external("github-incident-history", "incidents.statuspage.json").read_text())
    raw = [x.get("incident", x) for x in docs]
    series = load_series(path).frame
    config = parse_config(
        {"service": "ec2", "data": {"series": str(path)}, "slo": {"window": "7d"}, "oncall": {"coverage": "24x7"}}
    )
    specs = propose_slos(None, series, config).specs
    rep = analyze_alerting(None, series, specs, gh, None, config)
    d = rep.to_dict()
    assert (d["backtest"]["start"], d["backtest"]["end"]) == ("2014-03-07T03:40:00+00:00", "2014-03-21T03:45:00+00:00")
    by_hand = sorted(
        x["id"]
        for x in raw
        if "2014-03-07T03:40" <= (x.get("started_at") or x["created_at"])[:16] <= "2014-03-21T03:45"
    )
    assert by_hand == ["16kwjj1mtyzd", "bj7bmpvt9jw8", "cnttym5ln83s"]
    assert d["backtest"]["incident_scope"] == {
        "incidents": 1279,
        "in_range": 3,
        "scored": 0,
        "outside_range": 1276,
        "other_journey": 3,
        "corrected": 0,
        "zero_duration": 0,
        "before_rule_could_fire": 0,
    }
    assert sorted((n["id"], n["journey"], n["zero_duration"]) for n in d["incidents_not_scored"]) == [
        (i, "Git Operations", True) for i in by_hand
    ]
    s = scores(rep)
    why = "no scorable incident in the replayed range (3 of another journey or service)"
    firings = {name: x["firings"] for name, x in s.items()}
    assert firings == {
        "all rules": 2,
        "all page rules": 3,
        "all-timeslice/page/1h": 4,
        "all-timeslice/page/6h": 2,
        "all-timeslice/ticket/1d": 1,
        "all-timeslice/ticket/3d": 1,
    }
    for x in s.values():
        assert x["recall"] is None and x["precision"] is None
        assert x["not_applicable"]["recall"] == why and x["not_applicable"]["precision"] == why
        assert x["episode_precision"] == 1.0  # every firing fell in one of NAB's 2 burn episodes
    assert d["incidents"] == []
    titles = [i["title"] for i in build_backlog(config, alerting=d).to_dict()["items"]]
    assert not [t for t in titles if t.startswith(MISSED)]

    # without the component names the back-fills may concern any journey: zero duration excludes them
    anon = analyze_alerting(None, series, specs, gh.assign(journey=pd.NA), None, config).to_dict()
    assert anon["backtest"]["incident_scope"]["zero_duration"] == 3 and anon["incidents"] == []
    assert anon["backtest"]["overall"]["not_applicable"]["recall"] == (
        "no scorable incident in the replayed range (3 with zero duration)"
    )
