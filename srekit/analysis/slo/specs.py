"""Which SLOs can be in force before any history is read: the critical journeys, the SLOs
``service.yaml`` sets, and provisional SLOs for journeys without telemetry (docs/slo.md,
"Options (when no target is given)" and the paragraph on missing telemetry)."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import cast

import numpy as np
import pandas as pd

from srekit.analysis.slo.results import SloInForce
from srekit.core.errors import ConfigError
from srekit.core.spec import Budgeting, SliKind, SLOSpec, WindowKind
from srekit.inputs import telemetry as tm
from srekit.inputs.config import ServiceConfig

TOP_JOURNEYS = 3  # critical journeys when none are configured: the top 3 by traffic
DEFAULT_TIMESLICE_TARGET = 0.99
PROVISIONAL_AVAILABILITY = 0.999
PROVISIONAL_LATENCY_MS = 300.0
PROVISIONAL_LATENCY_TARGET = 0.99


def check_unique_names(specs: Sequence[SLOSpec]) -> None:
    """Given SLOs must have unique names (they name budgets, alerts and exported files)."""
    names = [x.name for x in specs]
    if len(set(names)) != len(names):
        dup = sorted({n for n in names if names.count(n) > 1})
        raise ConfigError(
            f"SLO names must be unique; {dup} appear more than once. fix: rename the SLOs (OpenSLO metadata.name)"
        )


def critical_journeys(telemetry: pd.DataFrame | None, config: ServiceConfig) -> tuple[list[str], bool]:
    """The journeys marked critical in ``service.yaml``, else the top ``TOP_JOURNEYS`` by
    traffic; and whether they were taken from the traffic (a default to confirm)."""
    configured = [j.name for j in config.journeys if j.critical]
    if configured:
        return configured, False
    if telemetry is None or telemetry.empty:
        return [], False
    traffic = tm.journey_sums(telemetry, ["total"])["total"]
    traffic = traffic.sort_index().sort_values(ascending=False, kind="stable")
    return [str(j) for j in traffic.index[:TOP_JOURNEYS]], True


def make_spec(
    name: str, journey: str, sli: str, target: float, config: ServiceConfig, threshold_ms: float | None = None
) -> SLOSpec:
    """An SLO with the window and budgeting method of ``service.yaml`` (``slo``)."""
    s = config.slo
    ts = s.budgeting == "Timeslices"
    return SLOSpec(
        name=name,
        journey=journey,
        sli=cast(SliKind, sli),
        target=target,
        window=s.window,
        window_kind=cast(WindowKind, s.window_kind),
        budgeting=cast(Budgeting, s.budgeting),
        threshold_ms=threshold_ms,
        timeslice_target=(s.timeslice_target or DEFAULT_TIMESLICE_TARGET) if ts else None,
        timeslice_window=s.timeslice_window if ts else None,
    )


def configured_specs(
    journey: str, config: ServiceConfig, edges: np.ndarray | None
) -> tuple[list[SLOSpec], tuple[float, float] | None]:
    """SLOs ``service.yaml`` sets for a request journey, with the latency threshold snapped
    down to a bucket edge of ``edges`` (stricter, as a Prometheus ``le`` query must); and
    (configured, used) threshold when snapping changed it (else None)."""
    jc = config.journey(journey)
    if jc is None:
        return [], None
    out, moved = [], None
    if jc.availability_target is not None:
        out.append(make_spec(f"{journey}-availability", journey, "availability", jc.availability_target, config))
    if jc.latency_threshold_ms is not None and jc.latency_target is not None:
        t = float(jc.latency_threshold_ms)
        if edges is not None and edges.size and t >= edges[0]:
            snapped = tm.snap_edge(edges, t)
            moved, t = ((t, snapped) if snapped != t else None), snapped
        out.append(make_spec(f"{journey}-latency", journey, "latency", jc.latency_target, config, t))
    return out, moved


def provisional_slos(journeys: Sequence[str], in_force: Collection[str], config: ServiceConfig) -> list[SloInForce]:
    """Availability and latency SLOs for journeys without telemetry: the configured targets,
    else 99.9 % availability and 99 % within 300 ms (skipping names already in force)."""
    out = []
    for j in journeys:
        jc = config.journey(j)
        avail = jc.availability_target if jc and jc.availability_target else PROVISIONAL_AVAILABILITY
        lt = jc.latency_threshold_ms if jc and jc.latency_threshold_ms else PROVISIONAL_LATENCY_MS
        ltt = jc.latency_target if jc and jc.latency_target else PROVISIONAL_LATENCY_TARGET
        specs = (
            make_spec(f"{j}-availability", j, "availability", avail, config),
            make_spec(f"{j}-latency", j, "latency", ltt, config, lt),
        )
        rationale = "Provisional until telemetry exists; confirm the numbers."
        out += [SloInForce(spec, "provisional", rationale) for spec in specs if spec.name not in in_force]
    return out
