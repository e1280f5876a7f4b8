"""Steps every format shares: the journey an imported SLO replays on, its target, and an SLO
built from counters (:class:`~.promql.CounterSli`) with its queries and policy."""

from __future__ import annotations

from typing import Any

import pandas as pd

from srekit.core.spec import AlertPolicySpec, SliQueries, SLOSpec
from srekit.inputs.slo_import.model import ImportOptions
from srekit.inputs.slo_import.promql import CounterSli


def journey_of(name: str, sli: CounterSli | None, fallback: str, options: ImportOptions) -> tuple[str, str | None]:
    """The telemetry journey of an imported SLO and a note on how it was chosen: ``journeys``
    in the options, else the value of the journey label's equality matcher, else ``fallback``
    (the spec's service or the SLO's name)."""
    if name in options.journeys:
        return options.journeys[name], None
    label = options.journey_label
    found = sli.total.value(label) if sli is not None else None
    if found:
        return found, None
    note = (
        f'{name}: no {label}="…" matcher in its queries, so it replays the telemetry of journey {fallback!r}; '
        f"map it to another with journeys: {{{name}: <journey>}}"
    )
    return fallback, note


def percent_target(value: Any) -> float:
    """A target written as a percentage (Sloth ``99.9``, Pyrra ``"99.0"``) as a fraction."""
    f = float(value)
    if not 0 < f < 100:
        raise ValueError(f"objective {value!r} must be a percentage in (0, 100)")
    return f / 100.0


def counter_spec(
    name: str,
    journey: str,
    sli: CounterSli,
    target: float,
    window: pd.Timedelta,
    policy: AlertPolicySpec,
    origin: str,
    queries: SliQueries | None = None,
) -> SLOSpec:
    """An SLO over counters with its queries (the spec's own when given) and its policy."""
    return SLOSpec(
        name=name,
        journey=journey,
        sli="latency" if sli.kind == "latency" else "availability",
        target=target,
        window=window,
        threshold_ms=sli.threshold_ms,
        queries=queries or sli.queries(),
        alerting=policy,
        origin=origin,
    )


def error_note(name: str, sli: CounterSli) -> str | None:
    """Availability SLIs replay on the telemetry's ``errors`` column: say which statuses the spec
    counts, so a mismatch with how the telemetry counts errors is visible."""
    if sli.kind != "availability" or not (sli.error or sli.good):
        return None
    counted = ", ".join(m.text() for m in sli.error or sli.good)
    return (
        f"{name}: the spec counts {'bad' if sli.error else 'good'} events as {counted}; "
        "the replay reads the journey telemetry's errors "
        "(5xx for request logs, prometheus.error_status_regex for a Prometheus pull; good = total − errors)"
    )
