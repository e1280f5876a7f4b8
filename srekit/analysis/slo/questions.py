"""The open questions of the SLO proposal: each default it took, worded for a human to confirm
or correct (topics and meaning: docs/slo.md)."""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from srekit.analysis.slo.options import LATENCY_ANCHOR, MET_SHARE
from srekit.analysis.slo.results import SECTION
from srekit.analysis.slo.specs import (
    DEFAULT_TIMESLICE_TARGET,
    PROVISIONAL_AVAILABILITY,
    PROVISIONAL_LATENCY_MS,
    PROVISIONAL_LATENCY_TARGET,
)
from srekit.analysis.slo.thresholds import MIN_DAYS_FOR_DAY_BLOCKS
from srekit.core.questions import OpenQuestion
from srekit.core.timeutil import format_duration


def critical_journeys(top: Sequence[str]) -> OpenQuestion:
    return OpenQuestion(
        "critical_journeys",
        "Which user journeys are critical? service.yaml lists none as critical.",
        f"Took the top {len(top)} journeys by traffic: {', '.join(top)}.",
        SECTION,
    )


def threshold_snapped(journey: str, threshold: float, snapped: float) -> OpenQuestion:
    return OpenQuestion(
        f"threshold_snapped:{journey}",
        f"The {journey} latency threshold {threshold:g} ms is not a histogram bucket edge; "
        f"add a bucket at {threshold:g} ms?",
        f"Used the nearest edge below, {snapped:g} ms (stricter), as a Prometheus query must.",
        SECTION,
    )


def journey_without_telemetry(journey: str) -> OpenQuestion:
    return OpenQuestion(
        f"journey_without_telemetry:{journey}",
        f"Journey {journey} has no requests in the telemetry: is it named differently there?",
        f"No proposal for {journey}; its SLOs from the configuration are kept without a history check.",
        SECTION,
    )


def unreachable_target(journey: str, target: float, largest_edge: float) -> OpenQuestion:
    return OpenQuestion(
        f"unreachable_target:{journey}:{target}",
        f"Fewer than {target:.1%} of {journey} events fall below the largest bucket edge "
        f"({largest_edge:g} ms): add larger buckets or accept a looser latency target?",
        f"No latency threshold proposed for {target:.1%} on {journey}.",
        SECTION,
    )


def series_zeros(journey: str, zeros: int) -> OpenQuestion:
    return OpenQuestion(
        f"series_zeros:{journey}",
        f"{zeros} samples of the {journey} series are exactly 0: no calls, or an outage?",
        "Counted as no data (neither good nor bad intervals).",
        SECTION,
    )


def no_telemetry(*, series: bool = False) -> OpenQuestion:
    if series:
        assumption = (
            "The SLOs measure the series meanwhile: one value of a statistic per interval, which hides the slow tail "
            "(a mean stays low while a few requests are very slow) and counts no failed requests. The "
            "instrumentation plan lists the counters and histogram to emit."
        )
    else:
        assumption = "Wrote an instrumentation plan; SLIs below are provisional until data arrives."
    return OpenQuestion(
        "no_telemetry",
        "There is no request telemetry: can the service emit a request counter and a latency histogram?",
        assumption,
        SECTION,
    )


def provisional_slos() -> OpenQuestion:
    return OpenQuestion(
        "provisional_slos",
        f"Are the provisional SLOs (from service.yaml, else {PROVISIONAL_AVAILABILITY:.1%} availability and "
        f"{PROVISIONAL_LATENCY_TARGET:.0%} within {PROVISIONAL_LATENCY_MS:g} ms) right?",
        "Used them for budgets and alert rules until telemetry exists.",
        SECTION,
    )


def short_history(window: pd.Timedelta) -> OpenQuestion:
    return OpenQuestion(
        "short_history",
        f"The history is shorter than one {format_duration(window)} SLO window: wait for more data?",
        "Evaluated the whole history as a single window; whether a target held in it is a weak signal (the "
        "options say so).",
        SECTION,
    )


def slo_targets(undecided: Sequence[str], *, requests: bool = True, series: bool = False) -> OpenQuestion:
    parts = []
    if requests:
        parts.append(
            f"the strictest availability target met in ≥ {MET_SHARE:.0%} of past windows, and {LATENCY_ANCHOR:.0%} of "
            f"requests within the smallest bucket edge that held in ≥ {MET_SHARE:.0%} of them"
        )
    if series:
        parts.append(
            f"for a series, {LATENCY_ANCHOR:.0%} of samples at or below the smallest edge that held in "
            f"≥ {MET_SHARE:.0%} of past windows"
        )
    return OpenQuestion(
        "slo_targets",
        f"Which SLO option should {', '.join(undecided)} adopt (relaxed, balanced or ambitious)? "
        "service.yaml sets no targets for them.",
        f"Used the balanced option: {'; '.join(parts)}.",
        SECTION,
    )


def timeslice_target() -> OpenQuestion:
    return OpenQuestion(
        "timeslice_target",
        "Timeslices budgeting is set but slo.timeslice_target is not: what makes a slice good?",
        f"A slice is good when ≥ {DEFAULT_TIMESLICE_TARGET:.0%} of its events are good.",
        SECTION,
    )


def too_little_data() -> OpenQuestion:
    return OpenQuestion(
        "too_little_data",
        "Some targets have fewer than 10 allowed bad events per window: is the traffic enough?",
        'Those thresholds are marked "enough data: no"; treat them as indicative.',
        SECTION,
    )


def bootstrap_block() -> OpenQuestion:
    return OpenQuestion(
        "bootstrap_block",
        f"Under {MIN_DAYS_FOR_DAY_BLOCKS} days of history: are hours independent enough to resample?",
        "Bootstrapped the threshold intervals over hours instead of days.",
        SECTION,
    )
