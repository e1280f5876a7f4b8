"""The replayed firings scored against incident impact windows and burn episodes: per rule, for
the page rules together, for all rules together and for the Workbook's approach 1 (10-minute
window at the SLO); per incident, which rule detected it first and how fast
(``docs/alerting.md``, "Replay and backtest").

Each rule is scored against the incidents it can be held to (:mod:`.matching`); a union of rules
is built from its rules' outcomes, never scored afresh: its incidents are the union of theirs,
it caught exactly the incidents one of them caught, and a firing of the union is a true one
when it holds a true firing of one of them. An empty denominator is not applicable: the figure
is ``None`` and ``not_applicable`` says why."""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final, cast

import numpy as np
import pandas as pd

from srekit.analysis.alerting.evaluations import EvalSpan, firing_share
from srekit.analysis.alerting.events import step_of
from srekit.analysis.alerting.matching import (
    BEFORE_RULE,
    REASONS,
    SCORED,
    IncidentMatch,
    IncidentScope,
    inside_windows,
    rule_reasons,
    scope,
    union_reasons,
)
from srekit.analysis.alerting.policy import BurnRateRule
from srekit.analysis.alerting.replay import ReplayedSLO, firing_intervals, replay

BASELINE_WINDOW: Final = pd.Timedelta(minutes=10)  # Workbook approach 1: error ratio above the SLO over 10 minutes
NEVER_FIRED: Final = "never fired"
NO_EPISODE: Final = "no burn episode in the replayed range"
NONE_CAUGHT: Final = "no incident caught"

#: (delay, reset, budget share spent before detection, detection time) of one detected incident
Detection = tuple[pd.Timedelta, pd.Timedelta | None, float | None, pd.Timestamp]
_Keys = frozenset[tuple[str, int]]  # burn episodes as (slo, row)


def _ratio(num: int, den: int) -> float | None:
    return num / den if den else None


@dataclass(frozen=True, slots=True)
class RuleScore:
    """How one rule (or a union of rules) would have behaved on history. ``incidents`` are the
    incidents it is scored on; ``judged`` those a firing is checked against (the scored ones and
    those that began before the rule could fire); ``scope`` says how the incident log met the
    replayed range and why the others were left out."""

    rule: str
    severity: str
    firings: int
    true_firings: int  # firings during the impact of an incident it is judged against
    episode_firings: int  # firings during a burn episode of its SLO
    judged: int
    incidents: int
    incidents_detected: int
    episodes: int
    episodes_detected: int
    weeks: float
    median_detection: pd.Timedelta | None
    median_reset: pd.Timedelta | None
    median_budget_before_detection: float | None
    firing_share: float  # share of evaluated time the rule was firing
    scope: IncidentScope = field(default_factory=lambda: IncidentScope(None, 0, 0, {}))

    def __post_init__(self) -> None:
        if not 0 <= self.true_firings <= self.firings or not 0 <= self.episode_firings <= self.firings:
            raise ValueError("true firings must be within firings")
        if not 0 <= self.incidents_detected <= self.incidents <= self.judged:
            raise ValueError("detected incidents must be within scored, scored within judged")
        if not 0 <= self.episodes_detected <= self.episodes:
            raise ValueError("detected episodes must be within episodes")
        if self.weeks <= 0:
            raise ValueError("weeks must be positive")

    @property
    def precision(self) -> float | None:
        """Firings during an incident; ``None`` when it never fired or had no incident to be checked against."""
        return _ratio(self.true_firings, self.firings) if self.judged else None

    @property
    def recall(self) -> float | None:
        """Incidents caught; ``None`` when there was none to catch."""
        return _ratio(self.incidents_detected, self.incidents)

    @property
    def episode_precision(self) -> float | None:
        return _ratio(self.episode_firings, self.firings)

    @property
    def episode_recall(self) -> float | None:
        return _ratio(self.episodes_detected, self.episodes)

    def not_applicable(self) -> dict[str, str]:
        """Why each ``None`` figure is not applicable (report.json ``not_applicable``)."""
        no_incident = self.scope.no_incident_reason()
        reasons = {
            "precision": NEVER_FIRED if not self.firings else (no_incident if not self.judged else None),
            "recall": no_incident if not self.incidents else None,
            "episode_precision": NEVER_FIRED if not self.firings else None,
            "episode_recall": NO_EPISODE if not self.episodes else None,
            "median_detection_s": (no_incident if not self.incidents else NONE_CAUGHT)
            if self.median_detection is None
            else None,
        }
        return {k: v for k, v in reasons.items() if v is not None}

    def to_dict(self) -> dict[str, Any]:
        per_week = self.firings / self.weeks
        return {
            "rule": self.rule,
            "severity": self.severity,
            "firings": self.firings,
            "true_firings": self.true_firings,
            "precision": self.precision,
            "episode_firings": self.episode_firings,
            "episode_precision": self.episode_precision,
            "incidents": self.incidents,
            "incidents_detected": self.incidents_detected,
            "recall": self.recall,
            "incidents_excluded": {r: self.scope.excluded.get(r, 0) for r in REASONS[1:]},
            "episodes": self.episodes,
            "episodes_detected": self.episodes_detected,
            "episode_recall": self.episode_recall,
            "median_detection_s": _secs(self.median_detection),
            "median_reset_s": _secs(self.median_reset),
            "median_budget_spent_before_detection": self.median_budget_before_detection,
            "alerts_per_week": per_week,
            # the union of pages and tickets has no single page rate: see "all page rules"
            "pages_per_week": per_week if self.severity == "page" else (None if self.severity == "any" else 0.0),
            "firing_share": self.firing_share,
            "not_applicable": self.not_applicable(),
        }


@dataclass(frozen=True, slots=True)
class IncidentDetection:
    """Whether and how fast the policy caught one scored incident."""

    incident_id: str
    journey: str | None
    started_at: pd.Timestamp
    impact_end: pd.Timestamp
    censored: bool  # open incident, or still going at the end of the data: impact runs to the end
    detected_by: str | None  # rule name of the earliest detection
    delay: pd.Timedelta | None  # first firing (within the impact) − impact start
    page_delay: pd.Timedelta | None  # same for page rules only
    reset: pd.Timedelta | None  # impact end → the detecting alert clears
    budget_before_detection: float | None  # share of the period budget spent before detection
    recorded_delay: pd.Timedelta | None  # detected_at − started_at from the incident file

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.incident_id,
            "journey": self.journey,
            "started_at": self.started_at.isoformat(),
            "impact_end": self.impact_end.isoformat(),
            "censored": self.censored,
            "detected": self.detected_by is not None,
            "detected_by": self.detected_by,
            "delay_s": _secs(self.delay),
            "page_delay_s": _secs(self.page_delay),
            "reset_s": _secs(self.reset),
            "budget_spent_before_detection": self.budget_before_detection,
            "recorded_detection_delay_s": _secs(self.recorded_delay),
        }


@dataclass(frozen=True, slots=True)
class NotScored:
    """An incident in the replayed range that no rule is scored on, and why (:mod:`.matching`)."""

    incident_id: str
    journey: str | None
    started_at: pd.Timestamp
    impact_end: pd.Timestamp
    reason: str  # a key of .matching.REASONS
    zero_duration: bool  # flagged whatever the reason: back-filled or not recorded

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.incident_id,
            "journey": self.journey,
            "started_at": self.started_at.isoformat(),
            "impact_end": self.impact_end.isoformat(),
            "reason": self.reason,
            "zero_duration": self.zero_duration,
        }


@dataclass(frozen=True, slots=True)
class RuleOutcome:
    """One rule on history: its score, firing runs (and which were during an incident it is
    judged against, or a burn episode of its SLO), why it does not score each impact row
    (:data:`.matching.SCORED` when it does), its detections by impact row, its SLO's burn
    episodes (and those it caught) as ``(slo, row)`` keys, its firing series on the common grid."""

    rule: BurnRateRule
    score: RuleScore
    runs: pd.DataFrame
    run_incident: np.ndarray
    run_episode: np.ndarray
    reasons: np.ndarray
    detections: Mapping[int, Detection]
    episodes: frozenset[tuple[str, int]]
    episodes_detected: frozenset[tuple[str, int]]
    on_grid: pd.Series

    @property
    def scored(self) -> frozenset[int]:
        return frozenset(int(i) for i in np.flatnonzero(self.reasons == SCORED))


@dataclass(frozen=True, slots=True)
class Backtest:
    """The whole policy scored on history."""

    scores: tuple[RuleScore, ...]  # per rule
    overall: RuleScore  # any rule of any SLO
    overall_pages: RuleScore | None  # any page rule (None without page rules)
    baseline: RuleScore  # Workbook approach 1: 10 min window at the SLO
    detections: tuple[IncidentDetection, ...]  # the incidents "all rules" is scored on
    firings: pd.DataFrame  # rule, slo, severity, start, end, open
    episodes: pd.DataFrame  # slo, start, end, bad, budget_share
    not_scored: tuple[NotScored, ...] = ()  # incidents in the range that no rule is scored on
    outcomes: tuple[RuleOutcome, ...] = field(default=(), compare=False, repr=False)  # per rule


def _secs(td: pd.Timedelta | None) -> float | None:
    return None if td is None else float(td.total_seconds())


def backtest(
    replayed: Sequence[ReplayedSLO],
    impacts: pd.DataFrame,
    weeks: float,
    *,
    match: IncidentMatch | None = None,
    logged: int | None = None,
) -> Backtest:
    """Score every rule of the SLOs replayed (each with events) against the incident impacts
    (:func:`.matching.incident_impacts`) and the burn episodes, over ``weeks`` of history; then
    the unions over all SLOs (all rules, page rules, the single-window baseline) from the rules'
    outcomes. ``match`` says which incidents concern which journey (default: the same journey or
    none); ``logged`` is the number of incidents in the log (0 without a log, ``None`` when unknown)."""
    impacts = impacts.reset_index(drop=True)
    match = match or IncidentMatch()
    grid = _evaluation_grid(replayed)
    outcomes = tuple(
        o for r in replayed for o in _rule_outcomes(r, r.policy.rules, impacts, weeks, grid, match, logged)
    )
    baseline = tuple(o for r in replayed for o in _rule_outcomes(r, (), impacts, weeks, grid, match, logged))
    pages = [o for o in outcomes if o.rule.severity == "page"]
    union = _Union(impacts, grid, weeks, logged, tuple(_span(r) for r in replayed))
    overall = union.score("all rules", "any", outcomes)
    return Backtest(
        scores=tuple(o.score for o in outcomes),
        overall=overall,
        overall_pages=union.score("all page rules", "page", pages) if pages else None,
        baseline=union.score("single window at the SLO (10m)", "page", baseline),
        detections=_incident_detections(impacts, outcomes),
        firings=_firings(outcomes),
        episodes=pd.concat([r.episodes.assign(slo=r.policy.spec.name) for r in replayed], ignore_index=True),
        not_scored=_not_scored(impacts, outcomes),
        outcomes=outcomes,
    )


def _evaluation_grid(replayed: Sequence[ReplayedSLO]) -> pd.DatetimeIndex:
    """Every evaluation time of every SLO (their grids may differ in step and range)."""
    grid = cast(pd.DatetimeIndex, replayed[0].fired.index)
    for r in replayed[1:]:
        grid = grid.union(cast(pd.DatetimeIndex, r.fired.index))
    return grid


def _on_grid(col: pd.Series, step: pd.Timedelta, grid: pd.DatetimeIndex) -> pd.Series:
    """A firing series on the common grid: an alert keeps its state between evaluations of a
    coarser series."""
    if col.index.equals(grid):  # already on the grid: the reindex would keep every value
        return col.set_axis(grid).fillna(False).astype(bool)
    held = col.reindex(grid, method="ffill", tolerance=step - pd.Timedelta(microseconds=1))
    return held.fillna(False).astype(bool)


def _baseline_rule(r: ReplayedSLO) -> tuple[BurnRateRule, pd.Series]:
    """Workbook approach 1 for one SLO (bad ratio over 10 minutes above the budget) and its firings."""
    spec = r.policy.spec
    rule = BurnRateRule(
        slo=spec.name,
        journey=spec.journey,
        severity="page",
        speed="fast",
        long_window=BASELINE_WINDOW,
        short_window=BASELINE_WINDOW,
        burn_rate=1.0,
        budget_share=min(1.0, BASELINE_WINDOW / spec.window),
        threshold=spec.error_budget,
    )
    return rule, replay(r.events, [rule], sums=r.sums)[rule.name]


def _rule_outcomes(
    r: ReplayedSLO,
    rules: Sequence[BurnRateRule],
    impacts: pd.DataFrame,
    weeks: float,
    grid: pd.DatetimeIndex,
    match: IncidentMatch,
    logged: int | None,
) -> tuple[RuleOutcome, ...]:
    """Each of ``rules`` of one SLO (none: the SLO's single-window baseline) scored against the
    incidents that concern its journey and its burn episodes."""
    pairs = [(rule, r.fired[rule.name]) for rule in rules] if rules else [_baseline_rule(r)]
    relevant = match.concerns(impacts, r.policy.spec.journey)
    step = step_of(r.events)
    return tuple(
        _rule_outcome(rule, col, r, impacts, relevant, weeks, _on_grid(col, step, grid), logged) for rule, col in pairs
    )


def _rule_outcome(
    rule: BurnRateRule,
    col: pd.Series,
    r: ReplayedSLO,
    impacts: pd.DataFrame,
    relevant: np.ndarray,
    weeks: float,
    on_grid: pd.Series,
    logged: int | None,
) -> RuleOutcome:
    """One rule: its firing runs checked against the incidents it is judged against (those that
    concern its journey and have a duration) and its SLO's episodes; detections of the incidents
    it is scored on (those that began once its long window was full)."""
    runs = firing_intervals(col)
    corrected = inside_windows(impacts, r.excluded)
    reasons = rule_reasons(impacts, relevant, pd.Timestamp(r.events.index[0]) + rule.long_window, corrected)
    judged = relevant & ~impacts["zero_duration"].to_numpy(dtype=bool)
    fs, fe = _us(runs["start"]), _last_firing_us(runs)
    hit_inc = _overlap(fs, fe, _us(impacts["start"])[judged], _us(impacts["end"])[judged])
    hit_ep = _overlap(fs, fe, _us(r.episodes["start"]), _us(r.episodes["end"]))
    scored = impacts[reasons == SCORED]
    det = detections(runs, scored, r.events, r.budget_events)
    slo = r.policy.spec.name
    score = RuleScore(
        rule=rule.name,
        severity=rule.severity,
        firings=len(runs),
        true_firings=int(hit_inc.any(axis=1).sum()),
        episode_firings=int(hit_ep.any(axis=1).sum()),
        judged=int(judged.sum()),
        incidents=len(scored),
        incidents_detected=len(det),
        episodes=len(r.episodes),
        episodes_detected=int(hit_ep.any(axis=0).sum()),
        weeks=weeks,
        median_detection=_median_td([d[0] for d in det.values()]),
        median_reset=_median_td([d[1] for d in det.values() if d[1] is not None]),
        median_budget_before_detection=_median([d[2] for d in det.values() if d[2] is not None]),
        firing_share=firing_share((EvalSpan.of(col.index, step_of(r.events)),), runs),
        scope=scope(logged, reasons),
    )
    return RuleOutcome(
        rule=rule,
        score=score,
        runs=runs,
        run_incident=np.asarray(hit_inc.any(axis=1), dtype=bool),
        run_episode=np.asarray(hit_ep.any(axis=1), dtype=bool),
        reasons=reasons,
        detections=det,
        episodes=frozenset((slo, i) for i in range(len(r.episodes))),
        episodes_detected=frozenset((slo, int(i)) for i in np.flatnonzero(hit_ep.any(axis=0))),
        on_grid=on_grid,
    )


@dataclass(frozen=True, slots=True)
class _Union:
    """Scores unions of rule outcomes on the common evaluation grid."""

    impacts: pd.DataFrame
    grid: pd.DatetimeIndex
    weeks: float
    logged: int | None
    spans: tuple[EvalSpan, ...]  # the SLO grids the rules were evaluated on (firing share as on dense grids)

    def score(self, name: str, severity: str, outcomes: Sequence[RuleOutcome]) -> RuleScore:
        """A union of rules: it fires while any of them fires; a firing is true (during an
        incident, during a burn episode) when it holds a true firing of one of them; its
        incidents, those it caught and its burn episodes are the unions of theirs; an incident's
        delay is the earliest of theirs and its reset the latest (the last of them to clear)."""
        fired = pd.DataFrame({o.rule.name: o.on_grid for o in outcomes}, index=self.grid).any(axis=1)
        runs = firing_intervals(fired)
        reasons = union_reasons([o.reasons for o in outcomes], len(self.impacts))
        found = _union_detections(outcomes)
        episodes = _Keys().union(*(o.episodes for o in outcomes))
        caught = _Keys().union(*(o.episodes_detected for o in outcomes))
        resets = [reset for _, reset in found.values() if reset is not None]
        return RuleScore(
            rule=name,
            severity=severity,
            firings=len(runs),
            true_firings=_holding(runs, outcomes, incident=True),
            episode_firings=_holding(runs, outcomes, incident=False),
            judged=int(np.isin(reasons, (SCORED, BEFORE_RULE)).sum()),
            incidents=int((reasons == SCORED).sum()),
            incidents_detected=len(found),
            episodes=len(episodes),
            episodes_detected=len(caught),
            weeks=self.weeks,
            median_detection=_median_td([delay for delay, _ in found.values()]),
            median_reset=_median_td(resets),
            median_budget_before_detection=None,
            firing_share=firing_share(self.spans, runs),
            scope=scope(self.logged, reasons),
        )


def _union_detections(outcomes: Sequence[RuleOutcome]) -> dict[int, tuple[pd.Timedelta, pd.Timedelta | None]]:
    """Per impact row caught by some rule of the union: the earliest delay, and the latest reset
    of the rules that caught it (``None`` when one of them had not cleared: censored or open)."""
    found: dict[int, list[Detection]] = {}
    for o in outcomes:
        for row, d in o.detections.items():
            found.setdefault(row, []).append(d)
    out: dict[int, tuple[pd.Timedelta, pd.Timedelta | None]] = {}
    for row, ds in found.items():
        resets = [d[1] for d in ds]
        out[row] = (min(d[0] for d in ds), None if any(r is None for r in resets) else max(cast(list, resets)))
    return out


def _holding(runs: pd.DataFrame, outcomes: Sequence[RuleOutcome], *, incident: bool) -> int:
    """Runs of a union that hold a true firing (during an incident, else during a burn episode)
    of one of its rules (a rule's run lies inside one run of the union)."""
    if runs.empty:
        return 0
    us, ul = _us(runs["start"]), _last_firing_us(runs)
    held = np.zeros(len(runs), dtype=bool)
    for o in outcomes:
        true = o.run_incident if incident else o.run_episode
        if true.any():
            part = o.runs[true]
            held |= _overlap(us, ul, _us(part["start"]), _last_firing_us(part)).any(axis=1)
    return int(held.sum())


def _firings(outcomes: Sequence[RuleOutcome]) -> pd.DataFrame:
    """Every firing run of every rule: rule, slo, severity, start, end, open."""
    rows = [
        {
            "rule": o.rule.name,
            "slo": o.rule.slo,
            "severity": o.rule.severity,
            "start": run.start,
            "end": run.end,
            "open": run.open,
        }
        for o in outcomes
        for run in o.runs.itertuples(index=False)
    ]
    return pd.DataFrame(rows, columns=["rule", "slo", "severity", "start", "end", "open"])


def _incident_detections(impacts: pd.DataFrame, outcomes: Sequence[RuleOutcome]) -> tuple[IncidentDetection, ...]:
    """Every incident some rule is scored on: the earliest detection by any rule, and by any page rule."""
    scored = sorted(set[int]().union(*(o.scored for o in outcomes)))
    rows = impacts.to_dict("records")
    return tuple(_incident_detection(rows[label], label, outcomes) for label in scored)


def _incident_detection(row: Mapping[Hashable, Any], label: int, outcomes: Sequence[RuleOutcome]) -> IncidentDetection:
    """One incident: the earliest detection by any rule, and by any page rule."""
    found = [(o.rule.name, o.rule.severity, o.detections[label]) for o in outcomes if label in o.detections]
    best = min(found, key=lambda x: x[2][3]) if found else None
    pages = [f for f in found if f[1] == "page"]
    best_page = min(pages, key=lambda x: x[2][3]) if pages else None
    rec = row["recorded_delay"]
    return IncidentDetection(
        incident_id=str(row["id"]),
        journey=None if pd.isna(row["journey"]) else str(row["journey"]),
        started_at=pd.Timestamp(row["start"]),
        impact_end=pd.Timestamp(row["end"]),
        censored=bool(row["censored"]),
        detected_by=best[0] if best else None,
        delay=best[2][0] if best else None,
        page_delay=best_page[2][0] if best_page else None,
        reset=best[2][1] if best else None,
        budget_before_detection=best[2][2] if best else None,
        recorded_delay=None if pd.isna(rec) else pd.Timedelta(rec),
    )


def _not_scored(impacts: pd.DataFrame, outcomes: Sequence[RuleOutcome]) -> tuple[NotScored, ...]:
    """The incidents in the range that no rule is scored on, each with the closest reason."""
    reasons = union_reasons([o.reasons for o in outcomes], len(impacts))
    rows = impacts.to_dict("records")
    return tuple(
        NotScored(
            incident_id=str(rows[i]["id"]),
            journey=None if pd.isna(rows[i]["journey"]) else str(rows[i]["journey"]),
            started_at=pd.Timestamp(rows[i]["start"]),
            impact_end=pd.Timestamp(rows[i]["end"]),
            reason=str(reasons[i]),
            zero_duration=bool(rows[i]["zero_duration"]),
        )
        for i in np.flatnonzero(reasons != SCORED)
    )


def _us(x: Any) -> np.ndarray:
    """Timestamps (tz-aware Series, index or array) as int64 microseconds since the epoch."""
    return pd.DatetimeIndex(x).as_unit("us").asi8


def _overlap(starts: np.ndarray, ends: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """Pairwise overlap matrix of closed intervals [starts, ends] × [lo, hi] (int64 stamps)."""
    return (starts[:, None] <= hi[None, :]) & (ends[:, None] >= lo[None, :])


def _last_firing_us(runs: pd.DataFrame) -> np.ndarray:
    """Last instant each run was firing: just before ``end`` (its first false evaluation, the
    alert has cleared), or ``end`` itself for a run still open at the end of the data. Closed
    intervals on these stamps do not credit a run that cleared as an impact began."""
    return _us(runs["end"]) - np.where(runs["open"].to_numpy(dtype=bool), 0, 1)


def _median_td(values: Sequence[pd.Timedelta]) -> pd.Timedelta | None:
    if not values:
        return None
    return pd.Timedelta(float(np.median([v.total_seconds() for v in values])), unit="s")


def _median(values: Sequence[float]) -> float | None:
    return float(np.median(values)) if values else None


def detections(
    runs: pd.DataFrame, impacts: pd.DataFrame, events: pd.DataFrame | None, budget_events: float
) -> dict[int, Detection]:
    """Per impact row label: (delay, reset, budget share spent before detection, detection
    time) for the first firing run active during the impact. The reset is ``None`` for
    censored impacts or runs still open at the end of the data; the budget share is ``None``
    without events."""
    if runs.empty or impacts.empty:
        return {}
    rs, re_, ropen = _us(runs["start"]), _us(runs["end"]), runs["open"].to_numpy(dtype=bool)
    last_on = _last_firing_us(runs)
    bad = _bad_events(events, budget_events)
    starts, ends = _us(impacts["start"]), _us(impacts["end"])
    censored = impacts["censored"].to_numpy(dtype=bool)
    out: dict[int, Detection] = {}
    for pos, label in enumerate(impacts.index):
        active = np.flatnonzero((rs <= ends[pos]) & (last_on >= starts[pos]))
        if active.size == 0:
            continue
        first, last = active[0], active[-1]
        detected = max(rs[first], starts[pos])
        # an alert that cleared before the recorded impact end had reset already: 0, not negative
        reset = None if (censored[pos] or ropen[last]) else pd.Timedelta(max(int(re_[last] - ends[pos]), 0), unit="us")
        out[int(label)] = (
            pd.Timedelta(int(detected - starts[pos]), unit="us"),
            reset,
            None if bad is None else bad.share_between(starts[pos], detected),
            pd.Timestamp(int(detected), unit="us", tz="UTC"),
        )
    return out


@dataclass(frozen=True, slots=True)
class _BadEvents:
    """An SLO's bad events, cumulated, to count the budget spent between two instants."""

    stamps: np.ndarray  # interval starts, int64 µs
    cumulative: np.ndarray  # bad events before each interval (one entry more than stamps)
    step_us: int
    budget_events: float

    def share_between(self, start: int, detected: int) -> float:
        """Share of the period's budget in the intervals that end after ``start`` and are
        complete at ``detected`` (µs stamps)."""
        lo = int(np.searchsorted(self.stamps, start - self.step_us, side="right"))  # intervals ending after the start
        hi = int(np.searchsorted(self.stamps, detected - self.step_us, side="right"))  # complete at detection
        spent = float(self.cumulative[max(hi, lo)] - self.cumulative[lo])
        return spent / self.budget_events if self.budget_events > 0 else 0.0


def _bad_events(events: pd.DataFrame | None, budget_events: float) -> _BadEvents | None:
    """:class:`_BadEvents` of an SLO's events; ``None`` without events."""
    if events is None or not len(events):
        return None
    return _BadEvents(
        stamps=_us(events.index),
        cumulative=np.concatenate(([0], np.cumsum(events["bad"].to_numpy(dtype=np.int64)))),
        step_us=int(step_of(events) / pd.Timedelta(microseconds=1)),
        budget_events=budget_events,
    )


def slo_outcomes(
    r: ReplayedSLO,
    impacts: pd.DataFrame,
    weeks: float,
    *,
    match: IncidentMatch | None = None,
    logged: int | None = None,
) -> tuple[RuleOutcome, ...]:
    """Each rule of one SLO scored on its own evaluation grid (:func:`slo_union_score` combines them)."""
    grid = cast(pd.DatetimeIndex, r.fired.index)
    return _rule_outcomes(
        r, r.policy.rules, impacts.reset_index(drop=True), weeks, grid, match or IncidentMatch(), logged
    )


def slo_union_score(
    name: str,
    severity: str,
    outcomes: Sequence[RuleOutcome],
    r: ReplayedSLO,
    impacts: pd.DataFrame,
    weeks: float,
    *,
    logged: int | None = None,
) -> RuleScore:
    """A union of some of one SLO's rule outcomes (:func:`slo_outcomes`, or those of
    :func:`backtest`; what a policy does for one SLO), built exactly as the unions over all SLOs
    on the grid the outcomes' firings are on."""
    grid = cast(pd.DatetimeIndex, outcomes[0].on_grid.index if outcomes else r.fired.index)
    return _Union(impacts.reset_index(drop=True), grid, weeks, logged, (_span(r),)).score(name, severity, outcomes)


def _span(r: ReplayedSLO) -> EvalSpan:
    """The evaluations of one SLO's rules."""
    return EvalSpan.of(r.fired.index, step_of(r.events))
