"""Multiwindow, multi-burn-rate alerting: design a policy per SLO, replay it on history and
score it against incidents, budget-burn episodes and the team's existing pages.

Sources: SRE Workbook ch. 5 "Alerting on SLOs" (burn rate, budget share, multiwindow rules,
low-traffic advice); Sloth (slok/sloth) for the window/factor tables. All functions are pure.

Policy maths
------------
For an SLO with target ``T`` over a period ``P`` (the SLO window), a rule with long window
``W`` that should fire once a share ``s`` of the period's budget is spent has

* burn rate ``f = s·P/W`` (30 d: 2 %/1 h → 14.4, 5 %/6 h → 6, 10 %/1 d → 3, 10 %/3 d → 1),
* error-ratio threshold ``θ = f·(1 − T)``,
* short window ``W/12`` (5 m, 30 m, 2 h, 6 h);

it fires while both windows' request-weighted bad ratios exceed ``θ``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Final

import numpy as np
import pandas as pd

from srekit.analysis.explain import Explanation, explain
from srekit.core.errors import ConfigError
from srekit.core.questions import OpenQuestion
from srekit.core.spec import SLOSpec
from srekit.core.timeutil import format_duration, parse_duration
from srekit.inputs import telemetry as tm
from srekit.inputs.config import ServiceConfig

if TYPE_CHECKING:
    from srekit.analysis.slo.grid import JourneyGrid

SEVERITIES = ("page", "ticket")
SPEEDS = ("fast", "slow")
SHORT_WINDOW_DIVISOR = 12  # Workbook ch. 5: "a short window of 1/12 the duration of the long window"
WEEK = pd.Timedelta(days=7)
MIN_SENSIBLE_BURN_RATE = 0.5  # below: fires while the budget lasts twice the period
HOUR = pd.Timedelta(hours=1)


# ----------------------------------------------------------------------------------- policy


@dataclass(frozen=True, slots=True)
class BurnRateRule:
    """One multiwindow burn-rate condition of an SLO's alert policy."""

    slo: str
    journey: str
    severity: str  # page | ticket
    speed: str  # fast (page windows of the config) | slow (ticket windows)
    long_window: pd.Timedelta
    short_window: pd.Timedelta
    burn_rate: float
    budget_share: float  # share of the period's budget spent when a clean long window fires
    threshold: float  # error-ratio threshold = burn_rate × (1 − target)

    def __post_init__(self) -> None:
        if self.severity not in SEVERITIES:
            raise ValueError(f"rule severity must be page or ticket, got {self.severity!r}")
        if self.speed not in SPEEDS:
            raise ValueError(f"rule speed must be fast or slow, got {self.speed!r}")
        if not pd.Timedelta(0) < self.short_window <= self.long_window:
            raise ValueError(f"{self.slo}: need 0 < short window ≤ long window")
        if not 0.0 < self.budget_share <= 1.0:
            raise ValueError(f"{self.slo}: budget share must be in (0, 1], got {self.budget_share}")
        if self.burn_rate <= 0 or self.threshold <= 0:
            raise ValueError(f"{self.slo}: burn rate and threshold must be positive")

    @property
    def name(self) -> str:
        """Stable id, e.g. ``checkout-availability/page/1h``."""
        return f"{self.slo}/{self.severity}/{format_duration(self.long_window)}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "rule": self.name,
            "slo": self.slo,
            "journey": self.journey,
            "severity": self.severity,
            "alert": alert_name(self.slo, self.speed),
            "long_window": format_duration(self.long_window),
            "short_window": format_duration(self.short_window),
            "long_window_s": self.long_window.total_seconds(),
            "short_window_s": self.short_window.total_seconds(),
            "burn_rate": self.burn_rate,
            "budget_share": self.budget_share,
            "error_ratio_threshold": self.threshold,
        }


@dataclass(frozen=True, slots=True)
class AlertPolicy:
    """The rules of one SLO plus the warnings and defaults behind them."""

    spec: SLOSpec
    rules: tuple[BurnRateRule, ...]
    warnings: tuple[str, ...] = ()
    open_questions: tuple[OpenQuestion, ...] = ()
    events_per_hour: float | None = None

    def __post_init__(self) -> None:
        if not self.rules:
            raise ValueError(f"{self.spec.name}: an alert policy needs at least one rule")
        if any(r.slo != self.spec.name for r in self.rules):
            raise ValueError(f"{self.spec.name}: every rule must belong to this SLO")

    def alerts(self) -> tuple[tuple[str, str, tuple[BurnRateRule, ...]], ...]:
        """The Prometheus alerts: ``(alert name, severity, rules)`` per speed group."""
        out = []
        for speed in SPEEDS:
            rules = tuple(r for r in self.rules if r.speed == speed)
            if rules:
                out.append((alert_name(self.spec.name, speed), rules[0].severity, rules))
        return tuple(out)

    def to_dict(self) -> list[dict[str, Any]]:
        return [r.to_dict() for r in self.rules]


def alert_name(slo: str, speed: str) -> str:
    """Prometheus alert name: ``checkout-availability`` + fast → ``CheckoutAvailabilityBudgetBurnFast``."""
    camel = "".join(p[:1].upper() + p[1:] for p in re.split(r"[^0-9A-Za-z]+", slo) if p)
    if not camel or not camel[0].isalpha():
        camel = "Slo" + camel
    return f"{camel}BudgetBurn{speed.capitalize()}"


def _window(text: str, where: str) -> pd.Timedelta:
    try:
        w = parse_duration(text)
    except (ValueError, TypeError) as exc:
        raise ConfigError(
            f"service.yaml: {where} has an invalid window {text!r}: {exc}. fix: use 1h, 6h, 1d, 3d"
        ) from exc
    if w <= pd.Timedelta(0) or (w / SHORT_WINDOW_DIVISOR) % pd.Timedelta(minutes=1) != pd.Timedelta(0):
        raise ConfigError(
            f"service.yaml: {where} window {text!r} must be positive and divisible into whole minutes "
            f"by {SHORT_WINDOW_DIVISOR} (its short window). fix: use e.g. 1h, 6h, 1d, 3d"
        )
    return w


def design_policy(spec: SLOSpec, config: ServiceConfig, *, events_per_hour: float | None = None) -> AlertPolicy:
    """Multiwindow, multi-burn-rate rules for one SLO (SRE Workbook ch. 5, approach 6).

    Parameters
    ----------
    spec : the SLO; its ``window`` is the budget period ``P``.
    config : ``config.alerting`` gives the page and ticket long windows and each window's
        budget share; ``config.oncall.coverage`` unset makes every rule a ticket.
    events_per_hour : typical SLI events per hour (requests, or slices for timeslice SLIs);
        when one bad event in an hour would exceed the fastest page's budget share the policy
        carries a low-traffic warning (Workbook ch. 5, "Low-traffic services").

    Notes
    -----
    Burn rate ``f = share × P / W``; threshold ``θ = f × (1 − target)``; short window ``W/12``.
    """
    cfg = config.alerting
    oncall = config.oncall.coverage
    questions: list[OpenQuestion] = []
    warnings: list[str] = []
    groups = [("fast", w) for w in cfg.page_long_windows] + [("slow", w) for w in cfg.ticket_long_windows]
    if not groups:
        raise ConfigError(
            "service.yaml: alerting.page_long_windows and ticket_long_windows are both empty. fix: keep the defaults [1h, 6h] and [1d, 3d]"
        )
    period = spec.window
    budget = spec.error_budget
    rules = []
    for speed, text in groups:
        w = _window(text, f"alerting.{'page' if speed == 'fast' else 'ticket'}_long_windows")
        share = cfg.budget_shares.get(text)
        if share is None:
            share = next((v for k, v in cfg.budget_shares.items() if _safe_window(k) == w), None)
        if share is None or not 0 < float(share) <= 1:
            raise ConfigError(
                f"service.yaml: alerting.budget_shares has no share in (0, 1] for window {text!r} "
                f"(got {share!r}). fix: add e.g. `{text}: 0.05` under alerting.budget_shares"
            )
        if w > period:
            raise ConfigError(
                f"service.yaml: alert window {text} is longer than the SLO period {format_duration(period)} of {spec.name}"
            )
        burn = float(share) * (period / w)
        severity = "page" if (speed == "fast" and oncall) else "ticket"
        rules.append(
            BurnRateRule(
                slo=spec.name,
                journey=spec.journey,
                severity=severity,
                speed=speed,
                long_window=w,
                short_window=w / SHORT_WINDOW_DIVISOR,
                burn_rate=burn,
                budget_share=float(share),
                threshold=burn * budget,
            )
        )
    slack = [r for r in rules if r.burn_rate < MIN_SENSIBLE_BURN_RATE]
    if slack:
        names = ", ".join(f"{format_duration(r.long_window)} ({r.burn_rate:.3g}x)" for r in slack)
        warnings.append(
            f"{spec.name}: with a {format_duration(period)} period the rules over {names} fire while the budget "
            "is spent at less than half the sustainable rate; raise their budget_shares for short periods "
            "(Sloth uses 8%/12.5%/20%/42% for 7 days)."
        )
        questions.append(
            OpenQuestion(
                topic="alert_budget_shares",
                question=f"Which budget shares should the alert windows of {spec.name} use for a {format_duration(period)} period?",
                assumption=f"The configured shares were kept, giving burn rates below {MIN_SENSIBLE_BURN_RATE:g} for {names}.",
                section="alerting",
            )
        )
    unreachable = [r for r in rules if r.threshold >= 1.0]
    if unreachable:
        names = ", ".join(
            f"{format_duration(r.long_window)} ({r.burn_rate:.3g}x, error ratio above {r.threshold:.3g})"
            for r in unreachable
        )
        warnings.append(
            f"{spec.name}: the rules over {names} can never fire: an error ratio cannot exceed 1, so even a full "
            "outage stays below their threshold. Lower their budget_shares or their windows for this target."
        )
        questions.append(
            OpenQuestion(
                topic="alert_unreachable_threshold",
                question=f"Which alert windows and budget shares should {spec.name} use? At {spec.target:.4g} the rules over "
                f"{names} need more than 100% errors.",
                assumption="The rules were kept as designed; they will never fire.",
                section="alerting",
            )
        )
    if not oncall:
        questions.append(
            OpenQuestion(
                topic="oncall_coverage",
                question="Is there an on-call rotation that can be paged for this service (24x7, business hours)?",
                assumption="No on-call coverage is configured, so every burn-rate alert is a ticket; set oncall.coverage in service.yaml to page for fast burns.",
                section="alerting",
            )
        )
    if events_per_hour is not None:
        fastest = min(rules, key=lambda r: r.long_window)
        hours = period.total_seconds() / 3600.0
        if events_per_hour <= 0:
            warnings.append(f"{spec.name}: no traffic observed; burn-rate alerts cannot be evaluated.")
        else:
            one_bad = 1.0 / (events_per_hour * hours * budget)
            if one_bad > fastest.budget_share:
                warnings.append(
                    f"{spec.name}: low traffic ({events_per_hour:.3g} events/hour): one bad event in an hour "
                    f"spends {one_bad:.1%} of the budget, more than the fastest alert's {fastest.budget_share:.0%}. "
                    "Add synthetic traffic (probes) or group journeys into one SLO (SRE Workbook, Alerting on SLOs)."
                )
                questions.append(
                    OpenQuestion(
                        topic="low_traffic",
                        question=f"Should {spec.name} get synthetic probe traffic or be grouped with other journeys?",
                        assumption=f"The rules are kept as designed although a single bad event ({one_bad:.1%} of the budget) can trigger the fast alert.",
                        section="alerting",
                    )
                )
    return AlertPolicy(spec, tuple(rules), tuple(warnings), tuple(questions), events_per_hour)


def _safe_window(text: str) -> pd.Timedelta | None:
    try:
        return parse_duration(text)
    except (ValueError, TypeError):
        return None


def explain_policy(policy: AlertPolicy, error_ratio: float = 1.0) -> Explanation:
    """:func:`srekit.analysis.explain.explain` for the rules of ``policy``."""
    rules = tuple((r.long_window, r.short_window, r.burn_rate, r.severity) for r in policy.rules)
    return explain(policy.spec.target, policy.spec.window, error_ratio, rules=rules)


def explain_report(report: AlertingReport, config: ServiceConfig, error_ratio: float = 1.0) -> Explanation:
    """The explain table for a report: its first SLO's policy, or (no SLOs) the policy a
    99.9 % SLO over the configured window would get."""
    if report.policies:
        return explain_policy(report.policies[0], error_ratio)
    spec = SLOSpec(name="example-99.9", journey="all", sli="availability", target=0.999, window=config.slo.window)
    return explain_policy(design_policy(spec, config), error_ratio)


# ----------------------------------------------------------------------------------- events


def sli_events(
    telemetry: pd.DataFrame | None,
    series: pd.DataFrame | None,
    spec: SLOSpec,
    *,
    grids: Mapping[str, JourneyGrid] | None = None,
) -> pd.DataFrame:
    """Per-interval ``total``/``bad`` SLI events of ``spec`` on a regular grid
    (:func:`srekit.analysis.slo.events.sli_events`: request SLIs from the aggregated telemetry, timeslice SLIs
    from the gauge series, OpenSLO Timeslices budgeting as slices). Missing intervals are zero
    rows; duplicate stamps are summed. Empty when the needed input is absent. ``grids`` may
    pass ``slo.journey_grids(telemetry)`` when the caller has it already."""
    from srekit.analysis.slo.events import sli_events as slo_events

    has = series if spec.sli == "timeslice" else telemetry
    if has is None or has.empty or not (has["journey"] == spec.journey).any():
        return pd.DataFrame(
            {"total": pd.Series([], dtype="int64"), "bad": pd.Series([], dtype="int64")},
            index=pd.DatetimeIndex([], tz="UTC", name="interval_start"),
        )
    return regularise(slo_events(telemetry, series, spec, grids=grids))


def regularise(events: pd.DataFrame) -> pd.DataFrame:
    """Sum duplicate stamps and fill missing intervals with zeros on the smallest spacing."""
    ev = events if events.index.is_unique else events.groupby(level=0).sum()
    if len(ev) < 2:
        return ev.astype("int64")
    ev = ev.sort_index()
    gaps = np.diff(pd.DatetimeIndex(ev.index).as_unit("ns").asi8)  # int64 stamps: fast for tz-aware indexes
    if gaps.min() == gaps.max():
        return ev.astype("int64")
    step = pd.Timedelta(int(gaps.min()), unit="ns")
    grid = pd.date_range(ev.index[0], ev.index[-1], freq=step, name="interval_start")
    return ev.reindex(grid, fill_value=0).astype("int64")


def step_of(events: pd.DataFrame) -> pd.Timedelta:
    """Spacing of a regular event grid (1 min when it cannot be told)."""
    if len(events) < 2:
        return pd.Timedelta(minutes=1)
    return pd.Timedelta(events.index[1] - events.index[0])


# ----------------------------------------------------------------------------------- replay


def _trailing(cs: np.ndarray, n: int) -> np.ndarray:
    """Trailing sums over ``n`` rows from a cumulative sum (row t: rows t−n+1..t)."""
    out = np.empty_like(cs)
    out[:n] = cs[:n]
    np.subtract(cs[n:], cs[:-n], out=out[n:])
    return out


def replay(events: pd.DataFrame, rules: Sequence[BurnRateRule]) -> pd.DataFrame:
    """Evaluate every rule at every interval of a regular event grid.

    Returns a boolean frame (one column per rule name) indexed by the evaluation time, the
    end of each interval (``interval_start + step``, when its counts are complete). A rule is
    true when both its long- and short-window request-weighted bad ratios exceed its
    threshold — ratios of trailing sums from one cumulative sum, never means of ratios. Rows
    whose long window reaches back before the data (the warm-up) never fire: a partial window
    of a few quiet minutes would make one stray error look like a burn.
    """
    step = step_of(events)
    index = pd.DatetimeIndex(events.index + step, name="evaluated_at")
    if events.empty:
        return pd.DataFrame({r.name: pd.Series([], dtype=bool) for r in rules}, index=index)
    cs_bad = np.cumsum(events["bad"].to_numpy(dtype=np.int64))
    cs_tot = np.cumsum(events["total"].to_numpy(dtype=np.int64))
    ratios: dict[int, np.ndarray] = {}

    def ratio_for(window: pd.Timedelta) -> np.ndarray:
        n = max(int(round(window / step)), 1)
        if n not in ratios:
            ratios[n] = tm.ratio(_trailing(cs_bad, n), _trailing(cs_tot, n))
        return ratios[n]

    cols = {}
    for r in rules:
        fired = (ratio_for(r.long_window) > r.threshold) & (ratio_for(r.short_window) > r.threshold)
        fired[: max(int(round(r.long_window / step)), 1) - 1] = False  # warm-up: long window not yet full
        cols[r.name] = fired
    return pd.DataFrame(cols, index=index)


def firing_intervals(fired: pd.Series) -> pd.DataFrame:
    """Contiguous firing runs of one boolean series → ``start`` (first true evaluation) and
    ``end`` (first false evaluation after it: the alert clears) plus ``open`` when it was still
    firing at the end of the data (then ``end`` is the last evaluation)."""
    a = fired.to_numpy(dtype=bool)
    idx = fired.index
    if a.size == 0 or not a.any():
        return pd.DataFrame(
            {
                "start": pd.Series([], dtype="datetime64[us, UTC]"),
                "end": pd.Series([], dtype="datetime64[us, UTC]"),
                "open": pd.Series([], dtype=bool),
            }
        )
    d = np.diff(np.concatenate(([0], a.astype(np.int8), [0])))
    starts = np.flatnonzero(d == 1)
    ends = np.flatnonzero(d == -1)  # index of first false row, may be len(a)
    is_open = ends >= len(a)
    end_idx = np.where(is_open, len(a) - 1, ends)
    return pd.DataFrame({"start": idx[starts], "end": idx[end_idx], "open": is_open})


def burn_episodes(
    events: pd.DataFrame, spec: SLOSpec, *, window: pd.Timedelta = HOUR, min_share: float = 0.02
) -> pd.DataFrame:
    """Periods where telemetry shows a budget burn worth alerting on (ground truth that does
    not come from the incident file).

    An interval is *burning* when the trailing ``window`` burn rate exceeds 1 (faster than
    the budget allows, Workbook ch. 5); contiguous burning intervals form an episode, kept when
    its bad events spend at least ``min_share`` of the period's budget (default 2 %, the
    fastest page's share). Columns: start, end (evaluation times), bad, budget_share.
    """
    cols = {
        "start": pd.Series([], dtype="datetime64[us, UTC]"),
        "end": pd.Series([], dtype="datetime64[us, UTC]"),
        "bad": pd.Series([], dtype="int64"),
        "budget_share": pd.Series([], dtype=float),
    }
    if events.empty:
        return pd.DataFrame(cols)
    step = step_of(events)
    n = max(int(round(window / step)), 1)
    bad = events["bad"].to_numpy(dtype=np.int64)
    tot = events["total"].to_numpy(dtype=np.int64)
    rate = tm.ratio(_trailing(np.cumsum(bad), n), _trailing(np.cumsum(tot), n)) / spec.error_budget
    burning = pd.Series(rate > 1.0, index=pd.DatetimeIndex(events.index) + step)
    runs = firing_intervals(burning)
    if runs.empty:
        return pd.DataFrame(cols)
    budget_events = period_budget_events(events, spec)
    cs = np.concatenate(([0], np.cumsum(bad)))
    at = burning.index
    # positions of the runs' stamps (all on the index): a binary search on the sorted grid
    find = at.searchsorted if at.is_monotonic_increasing and at.is_unique else at.get_indexer
    first = np.asarray(find(pd.DatetimeIndex(runs["start"])))
    last = np.asarray(find(pd.DatetimeIndex(runs["end"]))) + np.where(runs["open"], 1, 0)  # exclusive
    lo = np.maximum(first - n + 1, 0)  # the first burning window reaches back n rows
    spent = cs[last] - cs[lo]
    share = spent / budget_events if budget_events > 0 else np.zeros(len(spent))
    out = pd.DataFrame(
        {
            "start": pd.DatetimeIndex(events.index)[lo] + step,
            "end": runs["end"].to_numpy(),
            "bad": spent.astype("int64"),
            "budget_share": share,
        }
    )
    return out[out["budget_share"] >= min_share].reset_index(drop=True)


def period_budget_events(events: pd.DataFrame, spec: SLOSpec) -> float:
    """Bad events the whole period may hold: ``(1 − target) × mean events per interval ×
    intervals per period`` (the error budget in events, Workbook ch. 2)."""
    if events.empty:
        return 0.0
    per_period = spec.window / step_of(events)
    return float(spec.error_budget * events["total"].mean() * per_period)


# ----------------------------------------------------------------------------------- scoring


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


def _secs(td: pd.Timedelta | None) -> float | None:
    return None if td is None else float(td.total_seconds())


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
class _Replayed:
    """Internal: one SLO's events, firings per rule and burn episodes."""

    policy: AlertPolicy
    events: pd.DataFrame
    fired: pd.DataFrame  # bool per rule name
    episodes: pd.DataFrame
    budget_events: float


def _impacts(incidents: pd.DataFrame | None, lo: pd.Timestamp, hi: pd.Timestamp) -> pd.DataFrame:
    """Incident impact windows within the data: ``started_at`` .. ``mitigated_at`` (else
    ``resolved_at``); open incidents are censored at ``hi`` (the end of the data). Columns: id,
    journey, start, end, censored, recorded_delay."""
    utc: Final = "datetime64[us, UTC]"
    if incidents is None or incidents.empty:
        return pd.DataFrame(
            {
                "id": pd.Series([], dtype="str"),
                "journey": pd.Series([], dtype="str"),
                "start": pd.Series([], dtype=utc),
                "end": pd.Series([], dtype=utc),
                "censored": pd.Series([], dtype=bool),
                "recorded_delay": pd.Series([], dtype="timedelta64[us]"),
            }
        )
    inc = incidents[incidents["started_at"].notna()].reset_index(drop=True)
    start = inc["started_at"].astype(utc)
    end = inc["resolved_at"].astype(utc)
    if "mitigated_at" in inc.columns:  # user impact ends at mitigation; resolution can come hours later
        end = inc["mitigated_at"].astype(utc).fillna(end)
    censored = end.isna()
    end = end.fillna(hi)
    end = end.where(end <= hi, hi)
    end = end.where(end >= start, start)  # resolved before it started: zero-length impact
    if "detected_at" in inc.columns:
        recorded = inc["detected_at"].astype(utc) - start
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


def _relevant(impacts: pd.DataFrame, journey: str) -> pd.DataFrame:
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
) -> RuleScore:
    """Score one firing series against incident impacts and burn episodes. ``runs``
    (:func:`firing_intervals` of ``fired``) and ``det`` (their :func:`_detections`) may pass
    what the caller has computed already."""
    if runs is None:
        runs = firing_intervals(fired)
    fs, fe = _us(runs["start"]), _last_firing_us(runs)
    hit_inc = _overlap(fs, fe, _us(impacts["start"]), _us(impacts["end"]))
    hit_ep = _overlap(fs, fe, _us(episodes["start"]), _us(episodes["end"]))
    true = int((hit_inc.any(axis=1) | hit_ep.any(axis=1)).sum())
    if det is None:
        det = _detections(runs, impacts, events, budget_events)
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
        firing_share=float(fired.mean()) if len(fired) else 0.0,
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


Detection = tuple[pd.Timedelta, pd.Timedelta | None, float | None, pd.Timestamp]


def _detections(
    runs: pd.DataFrame, impacts: pd.DataFrame, events: pd.DataFrame | None, budget_events: float
) -> dict[int, Detection]:
    """Per impact row label: (delay, reset, budget share spent before detection, detection
    time) for the first firing run active during the impact. The reset is ``None`` for
    censored impacts or runs still open at the end of the data; the budget share is ``None``
    without events (unions over several SLOs)."""
    out: dict[int, Detection] = {}
    if runs.empty or impacts.empty:
        return out
    rs, re_, ropen = _us(runs["start"]), _us(runs["end"]), runs["open"].to_numpy(dtype=bool)
    last_on = _last_firing_us(runs)
    cs = stamps = None
    step_us = 0
    if events is not None and len(events):
        step_us = int(step_of(events) / pd.Timedelta(microseconds=1))
        stamps = _us(events.index)
        cs = np.concatenate(([0], np.cumsum(events["bad"].to_numpy(dtype=np.int64))))
    starts, ends = _us(impacts["start"]), _us(impacts["end"])
    censored = impacts["censored"].to_numpy(dtype=bool)
    for pos, label in enumerate(impacts.index):
        active = np.flatnonzero((rs <= ends[pos]) & (last_on >= starts[pos]))
        if active.size == 0:
            continue
        first, last = active[0], active[-1]
        detected = max(rs[first], starts[pos])
        # an alert that cleared before the recorded impact end had reset already: 0, not negative
        reset = None if (censored[pos] or ropen[last]) else pd.Timedelta(max(int(re_[last] - ends[pos]), 0), unit="us")
        spent: float | None = None
        if cs is not None and stamps is not None:
            lo = int(np.searchsorted(stamps, starts[pos] - step_us, side="right"))  # intervals ending after the start
            hi = int(np.searchsorted(stamps, detected - step_us, side="right"))  # intervals complete at detection
            spent = float(cs[max(hi, lo)] - cs[lo]) / budget_events if budget_events > 0 else 0.0
        out[int(label)] = (
            pd.Timedelta(int(detected - starts[pos]), unit="us"),
            reset,
            spent,
            pd.Timestamp(int(detected), unit="us", tz="UTC"),
        )
    return out


# ----------------------------------------------------------------------------------- pages log

CAUSE_RE = re.compile(
    r"cpu|disk|memory|\bmem\b|swap|inode|heap|\bgc\b|garbage|thread|file.?descriptor|\bfds?\b|"
    r"\bload\b|iops|\bnode\b|\bhost\b|oom|queue.?depth|restart|network|bandwidth|certificate|\bntp\b",
    re.IGNORECASE,
)
SYMPTOM_RE = re.compile(
    r"error|5xx|latency|slo\b|burn|availab|timeout|success|apdex|p9\d|slow|checkout|login|"
    r"request|uptime|probe|synthetic",
    re.IGNORECASE,
)


def classify_alert(name: str) -> str:
    """``symptom`` (user-facing: errors, latency, SLO burn), ``cause`` (CPU, disk, memory…)
    or ``unknown`` — Workbook ch. 5/SRE book ch. 6: page on symptoms, not causes."""
    if SYMPTOM_RE.search(name):
        return "symptom"
    if CAUSE_RE.search(name):
        return "cause"
    return "unknown"


@dataclass(frozen=True, slots=True)
class PagesSummary:
    """The team's existing pages log, summarised."""

    pages: int
    tickets: int
    weeks: float
    non_actionable_share: float | None  # among pages with a known actionable flag
    linked_to_incident_share: float
    by_alert: tuple[dict[str, Any], ...]  # alert, kind, pages, non_actionable_share

    def to_dict(self) -> dict[str, Any]:
        cause = [a for a in self.by_alert if a["kind"] == "cause"]
        return {
            "pages": self.pages,
            "tickets": self.tickets,
            "weeks": self.weeks,
            "pages_per_week": self.pages / self.weeks,
            "share_non_actionable": self.non_actionable_share,
            "share_linked_to_incident": self.linked_to_incident_share,
            "share_cause_based": (sum(a["pages"] for a in cause) / self.pages) if self.pages else 0.0,
            "cause_based_alerts": [a["alert"] for a in cause],
            "by_alert": list(self.by_alert),
        }


def summarize_pages(alerts: pd.DataFrame, weeks: float | None = None) -> PagesSummary:
    """Pages per week, share non-actionable, share linked to an incident, and which alerts
    fire on causes (CPU, disk, memory) rather than user-facing symptoms."""
    if weeks is None:
        span = alerts["timestamp"].max() - alerts["timestamp"].min() if len(alerts) else pd.Timedelta(0)
        weeks = max(span / WEEK, 1.0 / 7.0)
    sev = alerts["severity"].astype("str").str.lower()
    pages = alerts[sev == "page"]
    flag = pages["actionable"] if "actionable" in pages.columns else pd.Series(pd.NA, index=pages.index)
    known = flag.dropna()
    non_act = float((~known.astype(bool)).mean()) if len(known) else None
    linked = float(pages["incident_id"].notna().mean()) if len(pages) and "incident_id" in pages.columns else 0.0
    rows: list[dict[str, Any]] = []
    for name, grp in pages.groupby("alert", sort=True):
        g = grp["actionable"].dropna() if "actionable" in grp.columns else pd.Series([], dtype=bool)
        rows.append(
            {
                "alert": str(name),
                "kind": classify_alert(str(name)),
                "pages": int(len(grp)),
                "share_non_actionable": float((~g.astype(bool)).mean()) if len(g) else None,
            }
        )
    rows.sort(key=lambda r: (-int(r["pages"]), str(r["alert"])))
    return PagesSummary(int(len(pages)), int((sev == "ticket").sum()), float(weeks), non_act, linked, tuple(rows))


# ----------------------------------------------------------------------------------- report


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

    @property
    def warnings(self) -> tuple[str, ...]:
        return tuple(w for p in self.policies for w in p.warnings)

    def to_dict(self) -> dict[str, Any]:
        existing = self.existing_pages.to_dict() if self.existing_pages is not None else None
        if existing is not None and self.overall_pages is not None:
            existing["policy_pages_per_week"] = self.overall_pages.to_dict()["alerts_per_week"]
        return {
            "policy": [r for p in self.policies for r in p.to_dict()],
            "warnings": list(self.warnings),
            "backtest": {
                "start": None if self.start is None else self.start.isoformat(),
                "end": None if self.end is None else self.end.isoformat(),
                "rules": [s.to_dict() for s in self.scores],
                "overall": None if self.overall is None else self.overall.to_dict(),
                "overall_pages": None if self.overall_pages is None else self.overall_pages.to_dict(),
                "single_window_baseline": None if self.baseline is None else self.baseline.to_dict(),
            },
            "incidents": [d.to_dict() for d in self.detections],
            "existing_pages": existing,
            "runbooks": [dict(r) for r in self.runbooks],
        }

    def policy_table(self) -> pd.DataFrame:
        """Rules for display."""
        rows = [r.to_dict() for p in self.policies for r in p.rules]
        cols = ["slo", "severity", "long_window", "short_window", "burn_rate", "budget_share", "error_ratio_threshold"]
        return pd.DataFrame(rows, columns=cols)

    def backtest_table(self) -> pd.DataFrame:
        """Per rule plus the unions and the single-window baseline, for display."""
        items = list(self.scores) + [s for s in (self.overall_pages, self.overall, self.baseline) if s is not None]
        rows = [s.to_dict() for s in items]
        cols = [
            "rule",
            "severity",
            "firings",
            "precision",
            "recall",
            "episode_recall",
            "median_detection_s",
            "median_reset_s",
            "alerts_per_week",
        ]
        return pd.DataFrame(rows, columns=cols)

    def pages_comparison(self) -> pd.DataFrame:
        """Alerts per week that would wake someone: the team's pages today, the burn-rate
        policy's pages, and the single-window baseline (Workbook approach 1)."""
        rows = []
        if self.existing_pages is not None:
            rows.append({"source": "pages today", "per_week": self.existing_pages.pages / self.existing_pages.weeks})
        if self.overall_pages is not None:
            rows.append(
                {
                    "source": "burn-rate policy (pages)",
                    "per_week": self.overall_pages.firings / self.overall_pages.weeks,
                }
            )
        if self.overall is not None:
            rows.append(
                {"source": "burn-rate policy (all alerts)", "per_week": self.overall.firings / self.overall.weeks}
            )
        if self.baseline is not None:
            rows.append(
                {
                    "source": "error ratio above the SLO for 10 min",
                    "per_week": self.baseline.firings / self.baseline.weeks,
                }
            )
        return pd.DataFrame(rows, columns=["source", "per_week"])

    def existing_pages_table(self) -> pd.DataFrame:
        """The existing pages per alert name with their kind (symptom / cause / unknown)."""
        cols = ["alert", "kind", "pages", "share_non_actionable"]
        rows = list(self.existing_pages.by_alert) if self.existing_pages is not None else []
        return pd.DataFrame(rows, columns=cols)

    def timeline_rules(self) -> list[str]:
        """Rule names in policy order (rows of the timeline plot)."""
        return [r.name for p in self.policies for r in p.rules]

    def impacts(self) -> pd.DataFrame:
        """Incident impact windows that were scored (id, start, end)."""
        return pd.DataFrame(
            {
                "id": [d.incident_id for d in self.detections],
                "start": [d.started_at for d in self.detections],
                "end": [d.impact_end for d in self.detections],
            }
        )

    def incident_table(self) -> pd.DataFrame:
        rows = [d.to_dict() for d in self.detections]
        cols = [
            "id",
            "journey",
            "started_at",
            "detected_by",
            "delay_s",
            "page_delay_s",
            "reset_s",
            "budget_spent_before_detection",
            "recorded_detection_delay_s",
        ]
        return pd.DataFrame(rows, columns=cols)


def _union(masks: Mapping[str, pd.Series]) -> pd.Series:
    """Logical OR of aligned boolean series."""
    frame = pd.DataFrame(dict(masks))
    return frame.any(axis=1)


def runbook_file(alert: str) -> str:
    """File name of an alert's runbook (``<AlertName>.md``), the target of ``runbook_url``."""
    return f"{alert}.md"


def runbook_index(policies: Sequence[AlertPolicy], config: ServiceConfig) -> tuple[dict[str, str], ...]:
    """One entry per alert: alert, slo, journey, severity, file (under ``runbooks/``), url."""
    out = []
    for p in policies:
        for name, severity, _rules in p.alerts():
            out.append(
                {
                    "alert": name,
                    "slo": p.spec.name,
                    "journey": p.spec.journey,
                    "severity": severity,
                    "file": f"runbooks/{runbook_file(name)}",
                    "url": f"{config.alerting.runbook_base_url}{runbook_file(name)}",
                }
            )
    return tuple(out)


def analyze_alerting(
    telemetry: pd.DataFrame | None,
    series: pd.DataFrame | None,
    specs: Sequence[SLOSpec],
    incidents: pd.DataFrame | None,
    alerts: pd.DataFrame | None,
    config: ServiceConfig,
    *,
    grids: Mapping[str, JourneyGrid] | None = None,
) -> AlertingReport:
    """Design the policy for every SLO, replay it on history and score it.

    Each rule is replayed minute by minute (at the data's interval) on the SLO's SLI events;
    its firing runs are matched to incident impact windows (``started_at`` .. ``mitigated_at``,
    else ``resolved_at``; open incidents censored at the end of the data) and to telemetry burn episodes
    (:func:`burn_episodes`). Per rule, for pages, for all rules together and for the Workbook's
    approach 1 (10-minute window at the SLO): precision, recall, median detection delay, reset
    time, alerts per week, budget spent before detection. Per incident: which rule detected it
    first and how fast. The existing pages log is summarised for comparison. ``grids`` may pass
    ``slo.journey_grids(telemetry)`` when the caller has it already.
    """
    questions: list[OpenQuestion] = []
    replayed: list[_Replayed] = []
    for spec in specs:
        ev = sli_events(telemetry, series, spec, grids=grids)
        eph = None
        if len(ev) > 1:
            hourly = ev["total"].resample("1h").sum()
            eph = float(hourly.median())
        policy = design_policy(spec, config, events_per_hour=eph)
        fired = replay(ev, policy.rules)
        episodes = burn_episodes(ev, spec)
        replayed.append(_Replayed(policy, ev, fired, episodes, period_budget_events(ev, spec)))
    policies = tuple(r.policy for r in replayed)
    for p in policies:
        for q in p.open_questions:
            if all(q.topic != o.topic or q.question != o.question for o in questions):
                questions.append(q)
    if not specs:
        questions.append(
            OpenQuestion(
                topic="alerting_no_slos",
                question="Which SLOs should alerts protect?",
                assumption="No SLOs were available, so no burn-rate alerts were designed.",
                section="alerting",
            )
        )

    with_data = [r for r in replayed if len(r.events) > 1]
    if specs and not with_data:
        questions.append(
            OpenQuestion(
                topic="alerting_no_telemetry",
                question="Can request telemetry or a latency series be provided?",
                assumption="Without telemetry the alert rules were designed but not replayed on history.",
                section="alerting",
            )
        )
    existing = summarize_pages(alerts) if alerts is not None and len(alerts) else None
    runbooks = runbook_index(policies, config)
    if not with_data:
        return AlertingReport(policies, (), None, None, None, (), existing, runbooks, tuple(questions))

    start = min(r.fired.index[0] for r in with_data) - step_of(with_data[0].events)
    end = max(r.fired.index[-1] for r in with_data)
    weeks = max((end - start) / WEEK, 1.0 / 7.0)
    if existing is not None:
        existing = summarize_pages(alerts[(alerts["timestamp"] >= start) & (alerts["timestamp"] <= end)], weeks)  # type: ignore[index]
    impacts = _impacts(incidents, start, end)
    if incidents is None or incidents.empty:
        questions.append(
            OpenQuestion(
                topic="alerting_no_incidents",
                question="Is there an incident log to check the alerts against?",
                assumption="Without incidents, alerts are scored only against budget-burn episodes seen in telemetry.",
                section="alerting",
            )
        )

    scores: list[RuleScore] = []
    firing_rows = []
    det_rows: dict[str, list[tuple[str, str, Detection]]] = {}
    grid = with_data[0].fired.index
    for r in with_data[1:]:
        grid = grid.union(r.fired.index)

    def on_grid(col: pd.Series, step: pd.Timedelta) -> pd.Series:
        # an alert keeps its state between evaluations of a coarser series
        if col.index.equals(grid):  # already on the grid: the reindex would keep every value
            return col.set_axis(grid).fillna(False).astype(bool)
        held = col.reindex(grid, method="ffill", tolerance=step - pd.Timedelta(microseconds=1))
        return held.fillna(False).astype(bool)

    all_masks: dict[str, pd.Series] = {}
    page_masks: dict[str, pd.Series] = {}
    base_masks: dict[str, pd.Series] = {}
    for r in with_data:
        imp = _relevant(impacts, r.policy.spec.journey)
        step = step_of(r.events)
        for rule in r.policy.rules:
            col = r.fired[rule.name]
            runs = firing_intervals(col)
            rule_det = _detections(runs, imp, r.events, r.budget_events)
            scores.append(
                _score(
                    rule.name,
                    rule.severity,
                    col,
                    imp,
                    r.episodes,
                    r.events,
                    r.budget_events,
                    weeks,
                    runs=runs,
                    det=rule_det,
                )
            )
            for run in runs.itertuples(index=False):
                firing_rows.append(
                    {
                        "rule": rule.name,
                        "slo": rule.slo,
                        "severity": rule.severity,
                        "start": run.start,
                        "end": run.end,
                        "open": run.open,
                    }
                )
            for i, d in rule_det.items():
                det_rows.setdefault(str(imp.loc[i, "id"]), []).append((rule.name, rule.severity, d))
            all_masks[rule.name] = on_grid(col, step)
            if rule.severity == "page":
                page_masks[rule.name] = all_masks[rule.name]
        spec = r.policy.spec
        ten = pd.Timedelta(minutes=10)
        base_rule = BurnRateRule(
            slo=spec.name,
            journey=spec.journey,
            severity="page",
            speed="fast",
            long_window=ten,
            short_window=ten,
            burn_rate=1.0,
            budget_share=min(1.0, ten / spec.window),
            threshold=spec.error_budget,
        )
        base_masks[spec.name] = on_grid(replay(r.events, [base_rule])[base_rule.name], step)

    # unions over all SLOs, scored against every incident and every burn episode
    all_eps = pd.concat([r.episodes.assign(slo=r.policy.spec.name) for r in with_data], ignore_index=True)
    overall = _score("all rules", "any", _union(all_masks), impacts, all_eps, None, 0.0, weeks)
    overall_pages = (
        _score("all page rules", "page", _union(page_masks), impacts, all_eps, None, 0.0, weeks) if page_masks else None
    )
    baseline = _score("single window at the SLO (10m)", "page", _union(base_masks), impacts, all_eps, None, 0.0, weeks)

    detections = []
    for row in impacts.to_dict("records"):
        found = det_rows.get(str(row["id"]), [])
        best = min(found, key=lambda x: x[2][3]) if found else None
        pages = [f for f in found if f[1] == "page"]
        best_page = min(pages, key=lambda x: x[2][3]) if pages else None
        rec = row["recorded_delay"]
        detections.append(
            IncidentDetection(
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
        )
    firings = pd.DataFrame(firing_rows, columns=["rule", "slo", "severity", "start", "end", "open"])
    return AlertingReport(
        policies,
        tuple(scores),
        overall,
        overall_pages,
        baseline,
        tuple(detections),
        existing,
        runbooks,
        tuple(questions),
        start=start,
        end=end,
        firings=firings,
        episodes=all_eps,
    )
