"""The replayed firings scored against incident impact windows and burn episodes: per rule, for
the page rules together, for all rules together and for the Workbook's approach 1 (10-minute
window at the SLO); per incident, which rule detected it first and how fast
(``docs/alerting.md``, "Replay and backtest")."""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final, cast

import numpy as np
import pandas as pd

from srekit.analysis.alerting.evaluations import EvalSpan, firing_share
from srekit.analysis.alerting.events import step_of
from srekit.analysis.alerting.policy import BurnRateRule
from srekit.analysis.alerting.replay import ReplayedSLO, firing_intervals, replay

UTC: Final = "datetime64[us, UTC]"
BASELINE_WINDOW = pd.Timedelta(minutes=10)  # Workbook approach 1: error ratio above the SLO over 10 minutes

#: (delay, reset, budget share spent before detection, detection time) of one detected incident
Detection = tuple[pd.Timedelta, pd.Timedelta | None, float | None, pd.Timestamp]


@dataclass(frozen=True, slots=True)
class RuleScore:
    """How one rule (or a union of rules) would have behaved on history."""

    rule: str
    severity: str
    firings: int
    true_firings: int
    incidents: int
    incidents_detected: int
    episodes: int
    episodes_detected: int
    weeks: float
    median_detection: pd.Timedelta | None
    median_reset: pd.Timedelta | None
    median_budget_before_detection: float | None
    firing_share: float  # share of evaluated time the rule was firing

    def __post_init__(self) -> None:
        if not 0 <= self.true_firings <= self.firings:
            raise ValueError("true firings must be within firings")
        if not 0 <= self.incidents_detected <= self.incidents or not 0 <= self.episodes_detected <= self.episodes:
            raise ValueError("detected counts must be within totals")
        if self.weeks <= 0:
            raise ValueError("weeks must be positive")

    @property
    def precision(self) -> float:
        """Firings that overlap an incident or a burn episode; 1.0 when it never fired."""
        return self.true_firings / self.firings if self.firings else 1.0

    @property
    def recall(self) -> float:
        """Incidents caught; 1.0 when there were none to catch."""
        return self.incidents_detected / self.incidents if self.incidents else 1.0

    @property
    def episode_recall(self) -> float:
        return self.episodes_detected / self.episodes if self.episodes else 1.0

    def to_dict(self) -> dict[str, Any]:
        per_week = self.firings / self.weeks
        return {
            "rule": self.rule,
            "severity": self.severity,
            "firings": self.firings,
            "true_firings": self.true_firings,
            "precision": self.precision,
            "incidents": self.incidents,
            "incidents_detected": self.incidents_detected,
            "recall": self.recall,
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
        }


@dataclass(frozen=True, slots=True)
class IncidentDetection:
    """Whether and how fast the policy caught one incident."""

    incident_id: str
    journey: str | None
    started_at: pd.Timestamp
    impact_end: pd.Timestamp
    censored: bool  # open incident: impact runs to the end of the data
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
class Backtest:
    """The whole policy scored on history."""

    scores: tuple[RuleScore, ...]  # per rule
    overall: RuleScore  # any rule of any SLO
    overall_pages: RuleScore | None  # any page rule (None without page rules)
    baseline: RuleScore  # Workbook approach 1: 10 min window at the SLO
    detections: tuple[IncidentDetection, ...]
    firings: pd.DataFrame  # rule, slo, severity, start, end, open
    episodes: pd.DataFrame  # slo, start, end, bad, budget_share


@dataclass(frozen=True, slots=True)
class _RuleOutcome:
    """One rule on history: its score, firing runs, detections (incident id → detection) and
    its firing series on the common evaluation grid."""

    rule: BurnRateRule
    score: RuleScore
    runs: pd.DataFrame
    detections: tuple[tuple[str, Detection], ...]
    on_grid: pd.Series


def _secs(td: pd.Timedelta | None) -> float | None:
    return None if td is None else float(td.total_seconds())


def backtest(replayed: Sequence[ReplayedSLO], impacts: pd.DataFrame, weeks: float) -> Backtest:
    """Score every rule of the SLOs replayed (each with events) against the incident impacts
    (:func:`incident_impacts`) and the burn episodes, over ``weeks`` of history; then the unions
    over all SLOs (all rules, page rules, the single-window baseline) against every incident and
    every burn episode."""
    grid = _evaluation_grid(replayed)
    spans = tuple(EvalSpan.of(r.fired.index, step_of(r.events)) for r in replayed)
    outcomes = tuple(o for r in replayed for o in _rule_outcomes(r, impacts, weeks, grid))
    episodes = pd.concat([r.episodes.assign(slo=r.policy.spec.name) for r in replayed], ignore_index=True)
    all_rules = {o.rule.name: o.on_grid for o in outcomes}
    page_rules = {o.rule.name: o.on_grid for o in outcomes if o.rule.severity == "page"}
    baseline = {r.policy.spec.name: _baseline_on_grid(r, grid) for r in replayed}
    return Backtest(
        scores=tuple(o.score for o in outcomes),
        overall=_score("all rules", "any", _union(all_rules), impacts, episodes, None, 0.0, weeks, spans=spans),
        overall_pages=(
            _score("all page rules", "page", _union(page_rules), impacts, episodes, None, 0.0, weeks, spans=spans)
            if page_rules
            else None
        ),
        baseline=_score(
            "single window at the SLO (10m)", "page", _union(baseline), impacts, episodes, None, 0.0, weeks, spans=spans
        ),
        detections=tuple(_incident_detection(row, outcomes) for row in impacts.to_dict("records")),
        firings=_firings(outcomes),
        episodes=episodes,
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


def _union(masks: Mapping[str, pd.Series]) -> pd.Series:
    """Logical OR of aligned boolean series."""
    frame = pd.DataFrame(dict(masks))
    return frame.any(axis=1)


def _rule_outcomes(
    r: ReplayedSLO, impacts: pd.DataFrame, weeks: float, grid: pd.DatetimeIndex
) -> tuple[_RuleOutcome, ...]:
    """Each rule of one SLO scored against the incidents that may concern its journey."""
    imp = relevant_impacts(impacts, r.policy.spec.journey)
    step = step_of(r.events)
    return tuple(
        _rule_outcome(rule, r, imp, weeks, _on_grid(r.fired[rule.name], step, grid)) for rule in r.policy.rules
    )


def _rule_outcome(
    rule: BurnRateRule, r: ReplayedSLO, imp: pd.DataFrame, weeks: float, on_grid: pd.Series
) -> _RuleOutcome:
    col = r.fired[rule.name]
    runs = firing_intervals(col)
    det = detections(runs, imp, r.events, r.budget_events)
    span = (EvalSpan.of(col.index, step_of(r.events)),)
    score = _score(
        rule.name, rule.severity, col, imp, r.episodes, r.events, r.budget_events, weeks, runs=runs, det=det, spans=span
    )
    found = tuple((str(imp.loc[i, "id"]), d) for i, d in det.items())
    return _RuleOutcome(rule, score, runs, found, on_grid)


def _baseline_on_grid(r: ReplayedSLO, grid: pd.DatetimeIndex) -> pd.Series:
    """Workbook approach 1 for one SLO (bad ratio over 10 minutes above the budget), on the grid."""
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
    return _on_grid(replay(r.events, [rule], sums=r.sums)[rule.name], step_of(r.events), grid)


def _firings(outcomes: Sequence[_RuleOutcome]) -> pd.DataFrame:
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


def _incident_detection(row: Mapping[Hashable, Any], outcomes: Sequence[_RuleOutcome]) -> IncidentDetection:
    """One incident: the earliest detection by any rule, and by any page rule."""
    found = [(o.rule.name, o.rule.severity, d) for o in outcomes for iid, d in o.detections if iid == str(row["id"])]
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


def incident_impacts(incidents: pd.DataFrame | None, lo: pd.Timestamp, hi: pd.Timestamp) -> pd.DataFrame:
    """Incident impact windows within the data: ``started_at`` .. ``mitigated_at`` (else
    ``resolved_at``); open incidents are censored at ``hi`` (the end of the data). Columns: id,
    journey, start, end, censored, recorded_delay."""
    if incidents is None or incidents.empty:
        return pd.DataFrame(
            {
                "id": pd.Series([], dtype="str"),
                "journey": pd.Series([], dtype="str"),
                "start": pd.Series([], dtype=UTC),
                "end": pd.Series([], dtype=UTC),
                "censored": pd.Series([], dtype=bool),
                "recorded_delay": pd.Series([], dtype="timedelta64[us]"),
            }
        )
    inc = incidents[incidents["started_at"].notna()].reset_index(drop=True)
    start = inc["started_at"].astype(UTC)
    end = inc["resolved_at"].astype(UTC)
    if "mitigated_at" in inc.columns:  # user impact ends at mitigation; resolution can come hours later
        end = inc["mitigated_at"].astype(UTC).fillna(end)
    censored = end.isna()
    end = end.fillna(hi)
    end = end.where(end <= hi, hi)
    end = end.where(end >= start, start)  # resolved before it started: zero-length impact
    if "detected_at" in inc.columns:
        recorded = inc["detected_at"].astype(UTC) - start
    else:
        recorded = pd.Series(pd.NaT, index=inc.index, dtype="timedelta64[us]")
    journey = (
        inc["journey"].astype("str") if "journey" in inc.columns else pd.Series(pd.NA, index=inc.index, dtype="str")
    )
    out = pd.DataFrame(
        {
            "id": inc["id"].astype("str"),
            "journey": journey,
            "start": start,
            "end": end,
            "censored": censored,
            "recorded_delay": recorded,
        }
    )
    return out[(out["end"] >= lo) & (out["start"] <= hi)].reset_index(drop=True)


def relevant_impacts(impacts: pd.DataFrame, journey: str) -> pd.DataFrame:
    """Incidents of this journey, or without a journey (they may affect any)."""
    j = impacts["journey"]
    return impacts[j.isna() | (j.astype("str") == journey)]


def _us(x: Any) -> np.ndarray:
    """Timestamps (tz-aware Series, index or array) as int64 microseconds since the epoch."""
    return pd.DatetimeIndex(x).as_unit("us").asi8


def _overlap(starts: np.ndarray, ends: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """Pairwise overlap matrix of closed intervals [starts, ends] × [lo, hi] (int64 stamps)."""
    return (starts[:, None] <= hi[None, :]) & (ends[:, None] >= lo[None, :])


def _score(
    name: str,
    severity: str,
    fired: pd.Series,
    impacts: pd.DataFrame,
    episodes: pd.DataFrame,
    events: pd.DataFrame | None,
    budget_events: float,
    weeks: float,
    *,
    runs: pd.DataFrame | None = None,
    det: dict[int, Detection] | None = None,
    spans: Sequence[EvalSpan] = (),
) -> RuleScore:
    """Score one firing series against incident impacts and burn episodes. ``runs``
    (:func:`firing_intervals` of ``fired``) and ``det`` (their :func:`detections`) may pass
    what the caller has computed already; ``spans`` are the SLO grids ``fired`` was evaluated on
    (its firing share counts their evaluations as on the dense grids, else ``fired``'s own rows)."""
    if runs is None:
        runs = firing_intervals(fired)
    fs, fe = _us(runs["start"]), _last_firing_us(runs)
    hit_inc = _overlap(fs, fe, _us(impacts["start"]), _us(impacts["end"]))
    hit_ep = _overlap(fs, fe, _us(episodes["start"]), _us(episodes["end"]))
    true = int((hit_inc.any(axis=1) | hit_ep.any(axis=1)).sum())
    if det is None:
        det = detections(runs, impacts, events, budget_events)
    delays = [d[0] for d in det.values()]
    resets = [d[1] for d in det.values() if d[1] is not None]
    spent = [d[2] for d in det.values() if d[2] is not None]
    return RuleScore(
        rule=name,
        severity=severity,
        firings=len(runs),
        true_firings=true,
        incidents=len(impacts),
        incidents_detected=len(det),
        episodes=len(episodes),
        episodes_detected=int(hit_ep.any(axis=0).sum()),
        weeks=weeks,
        median_detection=_median_td(delays),
        median_reset=_median_td(resets),
        median_budget_before_detection=float(np.median(spent)) if spent else None,
        firing_share=firing_share(spans, runs) if spans else (float(fired.mean()) if len(fired) else 0.0),
    )


def _last_firing_us(runs: pd.DataFrame) -> np.ndarray:
    """Last instant each run was firing: just before ``end`` (its first false evaluation, the
    alert has cleared), or ``end`` itself for a run still open at the end of the data. Closed
    intervals on these stamps do not credit a run that cleared as an impact began."""
    return _us(runs["end"]) - np.where(runs["open"].to_numpy(dtype=bool), 0, 1)


def _median_td(values: Sequence[pd.Timedelta]) -> pd.Timedelta | None:
    if not values:
        return None
    return pd.Timedelta(float(np.median([v.total_seconds() for v in values])), unit="s")


def detections(
    runs: pd.DataFrame, impacts: pd.DataFrame, events: pd.DataFrame | None, budget_events: float
) -> dict[int, Detection]:
    """Per impact row label: (delay, reset, budget share spent before detection, detection
    time) for the first firing run active during the impact. The reset is ``None`` for
    censored impacts or runs still open at the end of the data; the budget share is ``None``
    without events (unions over several SLOs)."""
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
    """:class:`_BadEvents` of an SLO's events; ``None`` without events (unions over several SLOs)."""
    if events is None or not len(events):
        return None
    return _BadEvents(
        stamps=_us(events.index),
        cumulative=np.concatenate(([0], np.cumsum(events["bad"].to_numpy(dtype=np.int64)))),
        step_us=int(step_of(events) / pd.Timedelta(microseconds=1)),
        budget_events=budget_events,
    )


def slo_union_score(
    name: str, severity: str, fired: pd.Series, r: ReplayedSLO, impacts: pd.DataFrame, weeks: float
) -> RuleScore:
    """Score a union of one SLO's rules (``fired``, on its evaluation grid) against the incidents
    that may concern its journey and its burn episodes (what a policy does for one SLO)."""
    return _score(
        name,
        severity,
        fired,
        relevant_impacts(impacts, r.policy.spec.journey),
        r.episodes,
        r.events,
        r.budget_events,
        weeks,
    )
