"""The SLI behind each SLO in words and as PromQL, and the instrumentation plan for journeys
without telemetry.

An SLI is the ratio of good events to valid events over the SLO window (Google SRE Workbook,
chapter 2 "Implementing SLOs"; OpenSLO v1 ``ratioMetric``). The PromQL uses the request counter
and latency histogram named in ``service.yaml`` (``prometheus``), with ``le`` in the histogram's
unit (Prometheus docs, "Histograms and summaries"). Fields: docs/slo.md, ``slis[]`` and
``instrumentation_plan[]``.
"""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from srekit.analysis.slo.results import SLI, InstrumentationStep
from srekit.core.spec import SLOSpec
from srekit.core.timeutil import format_duration, per_words
from srekit.inputs import telemetry as tm
from srekit.inputs.config import ServiceConfig
from srekit.inputs.promql import le_text, quote

# Histogram buckets to emit when there is no telemetry yet (ms): dense around common
# interactive thresholds, Prometheus client defaults scaled to milliseconds and extended.
INSTRUMENT_EDGES_MS = (5.0, 10.0, 25.0, 50.0, 100.0, 200.0, 300.0, 500.0, 750.0, 1000.0, 2500.0, 5000.0, 10000.0)


def promql(
    config: ServiceConfig,
    journey: str,
    kind: str,
    threshold_ms: float | None,
    window: pd.Timedelta,
    interval: pd.Timedelta | None = None,
) -> str:
    """The SLI as PromQL over the request counter and latency histogram named in
    ``config.prometheus`` (good / valid, rates over the SLO window)."""
    p = config.prometheus
    w = format_duration(window)
    selector = p.selector.strip().strip(",").strip()
    matchers = f'{p.journey_label}="{quote(journey)}"' + (f",{selector}" if selector else "")
    if kind == "availability":
        return (
            f'sum(rate({p.request_counter}{{{matchers},{p.status_label}!~"{quote(p.error_status_regex)}"}}[{w}]))'
            f" / sum(rate({p.request_counter}{{{matchers}}}[{w}]))"
        )
    assert threshold_ms is not None
    if kind == "latency":
        le = le_text(threshold_ms, p.latency_unit)
        return (
            f'sum(rate({p.latency_histogram}_bucket{{{matchers},le="{le}"}}[{w}]))'
            f" / sum(rate({p.latency_histogram}_count{{{matchers}}}[{w}]))"
        )
    step = format_duration(interval or pd.Timedelta(minutes=1))
    return f"avg_over_time((<gauge>{{{matchers}}} <= bool {threshold_ms:g})[{w}:{step}])"


def _described(spec: SLOSpec, interval: pd.Timedelta | None) -> tuple[str, tuple[str, ...], str]:
    """The SLI of ``spec`` in words: definition, the telemetry columns it reads, user impact."""
    j, t = spec.journey, spec.threshold_ms
    if spec.sli == "availability":
        definition = (
            f"Share of {j} requests that succeeded (not counted as errors, e.g. HTTP 5xx) out of all {j} "
            "requests, counted over the SLO window."
        )
        return definition, ("total", "errors"), f"When it drops, users see failed {j} requests."
    assert t is not None
    if spec.sli == "latency":
        definition = (
            f"Share of {j} requests answered within {t:g} ms out of all {j} requests, counted over the SLO window."
        )
        return (
            definition,
            ("total", tm.edge_label(t)),
            f"When it drops, {j} feels slow: more requests take longer than {t:g} ms.",
        )
    every = f"{per_words(interval)} samples" if interval is not None else "samples"
    definition = (
        f"Share of {every} of the {j} series whose value (a per-interval statistic such as a mean latency) was at "
        f"or below {t:g} ms; samples of 0 count as no data. A sample's value hides the slow requests within it."
    )
    return (
        definition,
        ("timestamp", "value"),
        f"When it drops, {j} was slow for whole intervals at a time (slow requests in a fast interval do not show).",
    )


def make_sli(
    spec: SLOSpec, config: ServiceConfig, *, provisional: bool = False, interval: pd.Timedelta | None = None
) -> SLI:
    """Describe the SLI behind an SLO: definition in words, source and user impact
    (``interval``: the sampling interval of a gauge series, for timeslice SLIs)."""
    definition, columns, impact = _described(spec, interval)
    return SLI(
        spec.name,
        spec.journey,
        spec.sli,
        definition,
        columns,
        promql(config, spec.journey, spec.sli, spec.threshold_ms, spec.window, interval),
        impact,
        spec.threshold_ms if spec.sli != "availability" else None,
        provisional,
    )


def instrumentation_plan(journeys: Sequence[str], config: ServiceConfig) -> tuple[InstrumentationStep, ...]:
    """What each journey should emit before its SLIs can be measured: a request counter with a
    status label and a latency histogram whose buckets include any configured threshold."""
    p = config.prometheus
    steps = []
    for j in journeys:
        jc = config.journey(j)
        edges = set(INSTRUMENT_EDGES_MS)
        if jc and jc.latency_threshold_ms:
            edges.add(float(jc.latency_threshold_ms))
        lv = quote(j)
        steps.append(
            InstrumentationStep(
                journey=j,
                counter=f'{p.request_counter}{{{p.journey_label}="{lv}",{p.status_label}="<status>"}}',
                histogram=f'{p.latency_histogram}_bucket{{{p.journey_label}="{lv}",le="<edge>"}}',
                bucket_edges_ms=tuple(sorted(edges)),
                why=(
                    f"Count every {j} request with its status code and observe its latency into these buckets, so "
                    "availability and latency SLIs can be computed request-weighted and thresholds snap to real edges."
                ),
            )
        )
    return tuple(steps)
