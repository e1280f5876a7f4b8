"""The alerting section: :func:`analyze_alerting` designs the policy of every SLO, replays it on
history, scores it and summarises the existing pages; :class:`AlertingReport` is its result
(``to_dict()`` is report.json's ``alerting``, documented in ``docs/alerting.md``)."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import TYPE_CHECKING, Any

import pandas as pd

from srekit.analysis.alerting.backtest import IncidentDetection, NotScored, RuleOutcome, RuleScore, backtest
from srekit.analysis.alerting.compare import WORKBOOK, PolicyOutcome, policy_outcome
from srekit.analysis.alerting.events import step_of
from srekit.analysis.alerting.exhaustion import replay_exhaustion
from srekit.analysis.alerting.lowtraffic import LowTraffic, low_traffic
from srekit.analysis.alerting.matching import IncidentMatch, incident_impacts, logged_incidents
from srekit.analysis.alerting.pages import WEEK, PagesSummary, summarize_pages
from srekit.analysis.alerting.policy import AlertPolicy, design_policy, explain_policy
from srekit.analysis.alerting.replay import ReplayedSLO, replay_slo
from srekit.analysis.alerting.runbooks import runbook_index
from srekit.analysis.explain import Explanation
from srekit.core.questions import OpenQuestion
from srekit.core.spec import SLOSpec
from srekit.inputs.config import ServiceConfig
from srekit.inputs.corrections import Applied, Window

if TYPE_CHECKING:
    from srekit.analysis.slo.grid import JourneyGrid

NO_SLOS = OpenQuestion(
    topic="alerting_no_slos",
    question="Which SLOs should alerts protect?",
    assumption="No SLOs were available, so no burn-rate alerts were designed.",
    section="alerting",
)
NO_TELEMETRY = OpenQuestion(
    topic="alerting_no_telemetry",
    question="Can request telemetry or a latency series be provided?",
    assumption="Without telemetry the alert rules were designed but not replayed on history.",
    section="alerting",
)
NO_INCIDENTS = OpenQuestion(
    topic="alerting_no_incidents",
    question="Is there an incident log to check the alerts against?",
    assumption="Without incidents, alerts are scored only against budget-burn episodes seen in telemetry.",
    section="alerting",
)


@dataclass(frozen=True, slots=True)
class AlertingReport:
    """The ``alerting`` section of the report."""

    policies: tuple[AlertPolicy, ...]
    scores: tuple[RuleScore, ...]  # per rule
    overall: RuleScore | None
    overall_pages: RuleScore | None
    baseline: RuleScore | None  # Workbook approach 1: 10 min window at the SLO
    detections: tuple[IncidentDetection, ...]
    existing_pages: PagesSummary | None
    runbooks: tuple[dict[str, str], ...]
    open_questions: tuple[OpenQuestion, ...]
    start: pd.Timestamp | None = None
    end: pd.Timestamp | None = None
    firings: pd.DataFrame = field(
        default_factory=pd.DataFrame, compare=False, repr=False
    )  # rule, slo, severity, start, end, open
    episodes: pd.DataFrame = field(
        default_factory=pd.DataFrame, compare=False, repr=False
    )  # slo, start, end, bad, budget_share
    comparison: tuple[PolicyOutcome, ...] = ()  # imported policies next to the Workbook's, per SLO
    not_scored: tuple[NotScored, ...] = ()  # incidents in the replayed range that no rule is scored on
    low_traffic: tuple[LowTraffic, ...] = ()  # per replayed SLO: window traffic, remedies, the choice
    exhaustion: tuple[RuleScore, ...] = ()  # per replayed SLO: the exhaustion ticket, offered, not in force
    outcomes: tuple[PolicyOutcome, ...] = field(default=(), compare=False, repr=False)  # policy in force, per SLO

    @property
    def warnings(self) -> tuple[str, ...]:
        return tuple(w for p in self.policies for w in p.warnings)

    def to_dict(self) -> dict[str, Any]:
        existing = self.existing_pages.to_dict() if self.existing_pages is not None else None
        if existing is not None and self.overall_pages is not None:
            existing["policy_pages_per_week"] = self.overall_pages.to_dict()["alerts_per_week"]
        return {
            "policy": [r for p in self.policies for r in p.to_dict()],
            "not_proposed": [d.to_dict() for p in self.policies for d in p.not_proposed],
            "warnings": list(self.warnings),
            "backtest": {
                "start": None if self.start is None else self.start.isoformat(),
                "end": None if self.end is None else self.end.isoformat(),
                "rules": [s.to_dict() for s in self.scores],
                "overall": None if self.overall is None else self.overall.to_dict(),
                "overall_pages": None if self.overall_pages is None else self.overall_pages.to_dict(),
                "single_window_baseline": None if self.baseline is None else self.baseline.to_dict(),
                "incident_scope": None if self.overall is None else self.overall.scope.to_dict(),
                "exhaustion": [x.to_dict() for x in self.exhaustion],
            },
            "incidents": [d.to_dict() for d in self.detections],
            "incidents_not_scored": [n.to_dict() for n in self.not_scored],
            "existing_pages": existing,
            "runbooks": [dict(r) for r in self.runbooks],
            "policy_comparison": [c.to_dict() for c in self.comparison],
            "low_traffic": [x.to_dict() for x in self.low_traffic],
        }

    def timeline_rules(self) -> list[str]:
        """Rule names in policy order (the rows of the timeline chart)."""
        return [r.name for p in self.policies for r in p.rules]

    def impacts(self) -> pd.DataFrame:
        """Incident impact windows that were scored (id, start, end), for the timeline chart."""
        return pd.DataFrame(
            {
                "id": [d.incident_id for d in self.detections],
                "start": [d.started_at for d in self.detections],
                "end": [d.impact_end for d in self.detections],
            }
        )


def analyze_alerting(
    telemetry: pd.DataFrame | None,
    series: pd.DataFrame | None,
    specs: Sequence[SLOSpec],
    incidents: pd.DataFrame | None,
    alerts: pd.DataFrame | None,
    config: ServiceConfig,
    *,
    grids: Mapping[str, JourneyGrid] | None = None,
    corrections: Applied | None = None,
) -> AlertingReport:
    """Design the policy for every SLO, replay it on history and score it.

    Each rule is replayed minute by minute (at the data's interval) on the SLO's SLI events;
    its firing runs are matched to incident impact windows (``started_at`` .. ``mitigated_at``,
    else ``resolved_at``; open incidents censored at the end of the data) and to telemetry burn
    episodes (:func:`srekit.analysis.alerting.replay.burn_episodes`). Per rule, for pages, for all
    rules together and for the Workbook's approach 1 (10-minute window at the SLO): precision,
    recall, median detection delay, reset time, alerts per week, budget spent before detection.
    Per incident: which rule detected it first and how fast; the pages log for comparison. ``grids``:
    the journey grids when the caller has them. ``corrections``: no firing, no incident scored inside.
    Low traffic: :func:`~srekit.analysis.alerting.lowtraffic.low_traffic` (its remedy may be in force).
    """
    windows = corrections.windows if corrections is not None else ()
    replayed = tuple(
        replay_slo(telemetry, series, s, config, grids=grids, excluded=_of(windows, s.journey)) for s in specs
    )
    with_data = tuple(r for r in replayed if len(r.events) > 1)
    if not with_data:
        return _not_replayed(replayed, specs, incidents, alerts, config)
    start, end = _replayed_range(with_data)
    weeks = max((end - start) / WEEK, 1.0 / 7.0)
    impacts, logged = incident_impacts(incidents, start, end), logged_incidents(incidents)
    match = IncidentMatch.of(config)
    lows = [low_traffic(r, impacts, weeks, match, logged, config.limits.max_intervals) for r in with_data]
    with_data, policies = tuple(x[1] for x in lows), _in_force(replayed, [x[1] for x in lows])
    questions, runbooks = _open_questions(policies, specs, with_data, incidents), runbook_index(policies, config)
    scored = backtest(with_data, impacts, weeks, match=match, logged=logged)
    workbook = _workbook_replays(with_data, telemetry, series, config, grids, windows)
    outcome = partial(policy_outcome, impacts=impacts, weeks=weeks, match=match, logged=logged)
    return AlertingReport(
        policies,
        scored.scores,
        scored.overall,
        scored.overall_pages,
        scored.baseline,
        scored.detections,
        _existing_pages(alerts, start, end, weeks),
        runbooks,
        questions,
        start=start,
        end=end,
        firings=scored.firings,
        episodes=scored.episodes,
        comparison=_comparison(with_data, workbook, outcome),
        outcomes=tuple(outcome(r, scored=_of_slo(scored.outcomes, r)) for r in with_data),
        not_scored=scored.not_scored,
        low_traffic=tuple(x[0] for x in lows),
        exhaustion=_exhaustion(with_data, impacts, weeks, match, logged, config.limits.max_intervals),
    )


def _exhaustion(
    with_data: Sequence[ReplayedSLO],
    impacts: pd.DataFrame,
    weeks: float,
    match: IncidentMatch,
    logged: int | None,
    max_intervals: int,
) -> tuple[RuleScore, ...]:
    """The exhaustion ticket of every replayed SLO, scored beside the policy (not in force)."""
    return tuple(
        replay_exhaustion(r, impacts, weeks, match=match, logged=logged, max_intervals=max_intervals) for r in with_data
    )


def _not_replayed(
    replayed: Sequence[ReplayedSLO],
    specs: Sequence[SLOSpec],
    incidents: pd.DataFrame | None,
    alerts: pd.DataFrame | None,
    config: ServiceConfig,
) -> AlertingReport:
    """The report when no SLO has history to replay on: the policies, questions and runbooks."""
    policies = tuple(r.policy for r in replayed)
    questions = _open_questions(policies, specs, (), incidents)
    return AlertingReport(
        policies, (), None, None, None, (), _existing_pages(alerts), runbook_index(policies, config), questions
    )


def _in_force(replayed: Sequence[ReplayedSLO], chosen: Sequence[ReplayedSLO]) -> tuple[AlertPolicy, ...]:
    """Every SLO's policy in force: the low-traffic remedy's where one was adopted."""
    by_name = {r.policy.spec.name: r.policy for r in chosen}
    return tuple(by_name.get(r.policy.spec.name, r.policy) for r in replayed)


def _of(windows: Sequence[Window], journey: str) -> tuple[Window, ...]:
    return tuple(w for w in windows if journey in w.journeys)


def _workbook_replays(
    with_data: Sequence[ReplayedSLO],
    telemetry: pd.DataFrame | None,
    series: pd.DataFrame | None,
    config: ServiceConfig,
    grids: Mapping[str, JourneyGrid] | None,
    windows: Sequence[Window] = (),
) -> dict[str, ReplayedSLO]:
    """The Workbook's policy replayed for every SLO whose policy in force was imported."""
    imported = [r.policy.spec for r in with_data if r.policy.source != "srekit"]
    return {
        s.name: replay_slo(telemetry, series, s, config, grids=grids, workbook=True, excluded=_of(windows, s.journey))
        for s in imported
    }


def _comparison(
    with_data: Sequence[ReplayedSLO], workbook: Mapping[str, ReplayedSLO], outcome: Callable[..., PolicyOutcome]
) -> tuple[PolicyOutcome, ...]:
    """Per imported SLO: its policy, then the Workbook's, on the same history (``outcome``:
    :func:`policy_outcome` with the impacts and weeks bound)."""
    pairs = [(r, workbook[r.policy.spec.name]) for r in with_data if r.policy.spec.name in workbook]
    return tuple(o for mine, wb in pairs for o in (outcome(mine), outcome(wb, policy=WORKBOOK)))


def _of_slo(outcomes: Sequence[RuleOutcome], r: ReplayedSLO) -> tuple[RuleOutcome, ...]:
    """The backtest's outcomes of ``r``'s rules (the policy in force)."""
    return tuple(o for o in outcomes if o.rule.slo == r.policy.spec.name)


def _replayed_range(with_data: Sequence[ReplayedSLO]) -> tuple[pd.Timestamp, pd.Timestamp]:
    """From the start of the first interval to the last evaluation of any SLO."""
    start = min(r.fired.index[0] for r in with_data) - step_of(with_data[0].events)
    end = max(r.fired.index[-1] for r in with_data)
    return start, end


def _existing_pages(
    alerts: pd.DataFrame | None,
    start: pd.Timestamp | None = None,
    end: pd.Timestamp | None = None,
    weeks: float | None = None,
) -> PagesSummary | None:
    """The pages log summarised, within ``start`` .. ``end`` when the policy was replayed (then
    over the same ``weeks``); ``None`` without a pages log."""
    if alerts is None or not len(alerts):
        return None
    if start is None or end is None:
        return summarize_pages(alerts)
    return summarize_pages(alerts[(alerts["timestamp"] >= start) & (alerts["timestamp"] <= end)], weeks)


def _open_questions(
    policies: Sequence[AlertPolicy],
    specs: Sequence[SLOSpec],
    with_data: Sequence[ReplayedSLO],
    incidents: pd.DataFrame | None,
) -> tuple[OpenQuestion, ...]:
    """The policies' questions (each topic and question once), then what the section lacked:
    SLOs, telemetry to replay on, incidents to score against."""
    unique: dict[tuple[str, str], OpenQuestion] = {}
    for q in (q for p in policies for q in p.open_questions):
        unique.setdefault((q.topic, q.question), q)
    missing = (
        (NO_SLOS, not specs),
        (NO_TELEMETRY, bool(specs) and not with_data),
        (NO_INCIDENTS, bool(with_data) and (incidents is None or incidents.empty)),
    )
    return (*unique.values(), *(q for q, lacking in missing if lacking))


def explain_report(report: AlertingReport, config: ServiceConfig, error_ratio: float = 1.0) -> Explanation:
    """The explain table for a report: its first SLO's policy, or (no SLOs) the policy a
    99.9 % SLO over the configured window would get."""
    with_rules = [p for p in report.policies if p.rules]
    if with_rules:
        return explain_policy(with_rules[0], error_ratio)
    spec = SLOSpec(name="example-99.9", journey="all", sli="availability", target=0.999, window=config.slo.window)
    return explain_policy(design_policy(spec, config), error_ratio)
