"""Burn-rate alerts at low traffic: how many events each rule's windows hold, whether one bad
request can fire it, and the known remedies replayed side by side (``alerting.low_traffic`` in
report.json, ``docs/alerting.md`` "Low traffic").

At 3 requests a minute a 5-minute window holds 15 requests; at 99.9 % the 1-hour page fires
above 1.344 % errors, so a single failed request (6.7 %) pages at 3 a.m. (Sloth #459, Pyrra
#1925). For every rule, :func:`rule_traffic` reads the trailing event counts of its long and
short windows at every evaluation and reports their 10th percentile and the bad events needed to
fire there. When one bad request can fire a page, :func:`remedies` replays the page rules with
each remedy on the same history:

* ``min_bad_events`` — traffic-aware threshold (Pyrra PR #1602): the long window must also
  hold at least :data:`MIN_BAD` bad events;
* ``min_events`` — a traffic guard: the long window must hold at least ``MIN_BAD / threshold``
  events (silent below that traffic, even in a full outage);
* ``longer_windows`` — page windows × :data:`LONGER` with the burn rate divided by it (the same
  budget share), so each window holds more events.

The remedy with the fewest false pages (page firings during no incident of the journey, the
backtest's precision) whose pages catch as many incidents as the designed rules is chosen; none
that does better, or no incident to judge by, keeps the rules as designed. Burn episodes paged
are reported beside: at low traffic one bad request can be a real share of the budget.
Synthetic traffic (probes) cannot be replayed on history: it is named when nothing helps.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import pandas as pd

from srekit.analysis.alerting.compare import policy_outcome
from srekit.analysis.alerting.events import intervals_spanned, step_of
from srekit.analysis.alerting.matching import IncidentMatch, inside_windows
from srekit.analysis.alerting.policy import BurnRateRule
from srekit.analysis.alerting.replay import ReplayedSLO, firing_intervals, replay_policy, window_sums
from srekit.core.timeutil import format_duration

MIN_BAD = 3  # bad events the traffic-aware remedies ask for in the long window
LONGER = 4  # page windows are lengthened by this factor
QUANTILE = 0.1  # traffic is reported at this quantile of the evaluations
AS_DESIGNED = "as_designed"
REMEDIES = ("min_bad_events", "min_events", "longer_windows")
SYNTHETIC = (
    "Synthetic traffic: probes that send requests through the journey all the time make every window hold enough "
    "events (SRE Workbook, Alerting on SLOs, low-traffic services); it cannot be replayed on history."
)


@dataclass(frozen=True, slots=True)
class RuleTraffic:
    """Events in one rule's windows at the 10th percentile of the replayed evaluations."""

    rule: str
    severity: str
    long_window_events_p10: float
    short_window_events_p10: float
    bad_events_to_fire: int | None  # at that traffic; None: it cannot fire there
    one_bad_event_fires: bool

    def to_dict(self) -> dict[str, Any]:
        return {
            "rule": self.rule,
            "severity": self.severity,
            "long_window_events_p10": self.long_window_events_p10,
            "short_window_events_p10": self.short_window_events_p10,
            "bad_events_to_fire": self.bad_events_to_fire,
            "one_bad_event_fires": self.one_bad_event_fires,
        }


@dataclass(frozen=True, slots=True)
class RemedyOutcome:
    """The page rules with one remedy (or as designed) replayed on the SLO's history."""

    remedy: str
    rules: tuple[str, ...]
    pages: int
    false_pages: int
    pages_per_week: float
    incidents: int
    incidents_paged: int
    episodes: int
    episodes_paged: int

    def to_dict(self) -> dict[str, Any]:
        return {
            "remedy": self.remedy,
            "rules": list(self.rules),
            "pages": self.pages,
            "false_pages": self.false_pages,
            "pages_per_week": self.pages_per_week,
            "incidents": self.incidents,
            "incidents_paged": self.incidents_paged,
            "episodes": self.episodes,
            "episodes_paged": self.episodes_paged,
        }


@dataclass(frozen=True, slots=True)
class LowTraffic:
    """One SLO: its rules' traffic, the remedies replayed (none when one bad request cannot page)
    and the choice."""

    slo: str
    journey: str
    rules: tuple[RuleTraffic, ...]
    remedies: tuple[RemedyOutcome, ...]
    chosen: str
    adopted: bool  # the chosen remedy is the policy in force (designed policies only)
    why: str

    @property
    def low(self) -> bool:
        return any(r.one_bad_event_fires and r.severity == "page" for r in self.rules)

    def to_dict(self) -> dict[str, Any]:
        return {
            "slo": self.slo,
            "journey": self.journey,
            "one_bad_event_pages": self.low,
            "rules": [r.to_dict() for r in self.rules],
            "remedies": [r.to_dict() for r in self.remedies],
            "chosen": self.chosen,
            "adopted": self.adopted,
            "why": self.why,
        }


def bad_to_fire(threshold: float, long_events: float, short_events: float) -> int | None:
    """The fewest bad events that fire a rule whose windows hold ``long_events`` and
    ``short_events`` events (the bad ones included; an empty window holds at least the bad event
    itself): the smallest k with k/L > θ (and so k/S > θ, S ≤ L); None when θ ≥ 1 (never)."""
    if threshold >= 1.0:
        return None
    return math.floor(threshold * max(long_events, short_events, 1.0)) + 1


def quantile_with_zeros(values: np.ndarray, zeros: int, q: float) -> float:
    """``np.quantile`` (linear) of ``values`` together with ``zeros`` more zeros, without
    allocating them (a grid sized by the data skips long empty runs: their windows are empty)."""
    n = len(values) + zeros
    if n == 0:
        return 0.0
    ordered = np.sort(np.asarray(values, dtype=float))

    def kth(k: int) -> float:
        return 0.0 if k < zeros else float(ordered[k - zeros])

    pos = q * (n - 1)
    lo = int(math.floor(pos))
    return kth(lo) + (pos - lo) * (kth(min(lo + 1, n - 1)) - kth(lo))


def rule_traffic(r: ReplayedSLO) -> tuple[RuleTraffic, ...]:
    """Per rule of ``r``: the 10th percentile of its long- and short-window event counts over the
    evaluations after its warm-up, and the bad events needed to fire at that traffic. Intervals a
    grid sized by the data skips count as evaluations with empty windows (as on the dense grid)."""
    if len(r.events) < 2:
        return ()
    step = step_of(r.events)
    skipped = intervals_spanned(r.events) - len(r.events)
    out = []
    for rule in r.policy.rules:
        sums = window_sums(r.events, (rule.long_window, rule.short_window), have=r.sums)
        n_long = max(int(round(rule.long_window / step)), 1)
        n_short = max(int(round(rule.short_window / step)), 1)
        warm = slice(n_long - 1, None)
        full = len(r.events) >= n_long
        lo = quantile_with_zeros(sums[n_long][1][warm], skipped, QUANTILE) if full else 0.0
        sh = quantile_with_zeros(sums[n_short][1][warm], skipped, QUANTILE) if full else 0.0
        k = bad_to_fire(rule.threshold, lo, sh)
        out.append(RuleTraffic(rule.name, rule.severity, lo, sh, k, k == 1))
    return tuple(out)


def _min_bad(rule: BurnRateRule) -> BurnRateRule:
    return replace(rule, min_bad_events=MIN_BAD, remedy="min_bad_events")


def _min_events(rule: BurnRateRule) -> BurnRateRule:
    return replace(rule, min_events=math.ceil(MIN_BAD / rule.threshold), remedy="min_events")


def _longer(rule: BurnRateRule) -> BurnRateRule:
    return replace(
        rule,
        long_window=rule.long_window * LONGER,
        short_window=rule.short_window * LONGER,
        burn_rate=rule.burn_rate / LONGER,
        threshold=rule.threshold / LONGER,
        remedy="longer_windows",
    )


CHANGES: dict[str, Callable[[BurnRateRule], BurnRateRule]] = {
    "min_bad_events": _min_bad,
    "min_events": _min_events,
    "longer_windows": _longer,
}


def remedied(r: ReplayedSLO, remedy: str, max_intervals: int) -> ReplayedSLO:
    """``r``'s policy with ``remedy`` applied to its page rules, replayed on the same events."""
    rules = tuple(CHANGES[remedy](x) if x.severity == "page" else x for x in r.policy.rules)
    return replay_policy(replace(r.policy, rules=rules), r.events, max_intervals=max_intervals, excluded=r.excluded)


def _false_pages(r: ReplayedSLO, impacts: pd.DataFrame, match: IncidentMatch) -> tuple[int, int]:
    """Page firing runs of ``r`` (its page rules as one alert), and those overlapping no incident
    that concerns its journey (the backtest's precision: a page is true during an incident)."""
    cols = [x.name for x in r.policy.rules if x.severity == "page"]
    if not cols or r.fired.empty:
        return 0, 0
    runs = firing_intervals(r.fired[cols].any(axis=1))
    if runs.empty:
        return 0, 0
    mine = impacts[match.concerns(impacts, r.policy.spec.journey) & ~inside_windows(impacts, r.excluded)]
    spans = list(zip(mine["start"], mine["end"], strict=True))
    true = sum(any(s <= b and a <= e for a, b in spans) for s, e in zip(runs["start"], runs["end"], strict=True))
    return len(runs), len(runs) - int(true)


def outcome(
    name: str, r: ReplayedSLO, impacts: pd.DataFrame, weeks: float, match: IncidentMatch, logged: int | None
) -> RemedyOutcome:
    """The page rules of ``r`` scored as one alert."""
    pages = policy_outcome(r, impacts, weeks, match=match, logged=logged).pages
    firings, false = _false_pages(r, impacts, match)
    return RemedyOutcome(
        name,
        tuple(x.name for x in r.policy.rules if x.severity == "page"),
        firings,
        false,
        firings / weeks,
        pages.incidents,
        pages.incidents_detected,
        pages.episodes,
        pages.episodes_detected,
    )


def choose(outcomes: Sequence[RemedyOutcome]) -> tuple[str, str]:
    """The remedy with the fewest false pages (pages during no incident) among those paging for
    as many incidents as the rules as designed (``outcomes[0]``); the rules as designed when none
    has fewer, or when no incident was scored (nothing tells a false page from a true one)."""
    base = outcomes[0]
    if not base.incidents:
        return AS_DESIGNED, "no incident of the journey in the replayed range to tell false pages from true ones. " + (
            SYNTHETIC
        )
    equal = [o for o in outcomes[1:] if o.incidents_paged >= base.incidents_paged]
    best = min(equal, key=lambda o: (o.false_pages, o.pages), default=None)
    if best is None or best.false_pages >= base.false_pages:
        return AS_DESIGNED, (
            f"no remedy pages less falsely ({base.false_pages} false of {base.pages} pages as designed) while "
            f"paging for as many of the {base.incidents} incidents. " + SYNTHETIC
        )
    return best.remedy, (
        f"{best.remedy}: {best.false_pages} false of {best.pages} pages instead of {base.false_pages} of "
        f"{base.pages}, paging for the same {best.incidents_paged} of {best.incidents} incidents."
    )


def describe(remedy: str, rules: Sequence[BurnRateRule]) -> str:
    """The remedy in words, with its parameters for these rules."""
    pages = [r for r in rules if r.severity == "page"]
    if remedy == "min_bad_events":
        return f"page only with at least {MIN_BAD} bad events in the long window"
    if remedy == "min_events":
        each = ", ".join(f"{math.ceil(MIN_BAD / r.threshold):,} over {format_duration(r.long_window)}" for r in pages)
        return f"page only when the long window holds enough events for {MIN_BAD} bad ones to matter ({each})"
    if remedy == "longer_windows":
        return f"page windows × {LONGER}, burn rates ÷ {LONGER} (the same budget share)"
    return "the rules as designed"


def low_traffic(
    r: ReplayedSLO,
    impacts: pd.DataFrame,
    weeks: float,
    match: IncidentMatch,
    logged: int | None,
    max_intervals: int,
) -> tuple[LowTraffic, ReplayedSLO]:
    """The traffic of ``r``'s rules and, when one bad request can page, the remedies replayed
    and chosen; with the replay in force (the remedy's when adopted: designed policies only)."""
    spec = r.policy.spec
    traffic = rule_traffic(r)
    if not any(t.one_bad_event_fires and t.severity == "page" for t in traffic):
        why = "one bad request cannot page at the 10th percentile of traffic"
        return LowTraffic(spec.name, spec.journey, traffic, (), AS_DESIGNED, False, why), r
    replays = {AS_DESIGNED: r, **{m: remedied(r, m, max_intervals) for m in REMEDIES}}
    outcomes = tuple(outcome(n, x, impacts, weeks, match, logged) for n, x in replays.items())
    chosen, why = choose(outcomes)
    adopt = chosen != AS_DESIGNED and r.policy.source == "srekit"
    if chosen != AS_DESIGNED:
        why = f"{why} Rule: {describe(chosen, r.policy.rules)}." + (
            ""
            if adopt
            else f" Not adopted: the {r.policy.source} policy is replayed and exported as its tool writes it."
        )
    return LowTraffic(spec.name, spec.journey, traffic, outcomes, chosen, adopt, why), replays[chosen] if adopt else r
