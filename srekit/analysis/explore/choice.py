"""One setting of the explorer (:class:`Choice`), its check (:func:`check_choice`: every bad
setting is an :class:`ExploreError` saying what is wrong and what would work), and the SLO and
configuration it stands for (:func:`choice_spec`, :func:`choice_config`)."""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import cast

import numpy as np
import pandas as pd

from srekit.analysis.explore.history import KINDS, ExploreHistory
from srekit.analysis.slo.specs import make_spec
from srekit.core.errors import SrekitError
from srekit.core.spec import SLOSpec, WindowKind
from srekit.core.timeutil import format_duration
from srekit.inputs import telemetry as tm
from srekit.inputs.config import ServiceConfig

WINDOW_KINDS = ("rolling", "calendar_month")
MAX_WINDOW = pd.Timedelta(days=3660)  # service.yaml's limit on a duration
DEFAULT_TARGET = 0.999
DEFAULT_LATENCY_TARGET = 0.99


class ExploreError(SrekitError, ValueError):
    """A setting the explorer cannot evaluate; the message is shown in place of the figures."""


@dataclass(frozen=True, slots=True)
class Choice:
    """What the user picked. ``start``/``end`` bound the history range (UTC, end exclusive;
    None: the start or end of the data); ``coverage`` None means nobody is on call (every
    alert is a ticket)."""

    journey: str
    sli: str
    target: float
    threshold_ms: float | None = None
    window: pd.Timedelta = pd.Timedelta(days=28)
    window_kind: str = "rolling"
    coverage: str | None = None
    start: pd.Timestamp | None = None
    end: pd.Timestamp | None = None


def default_choice(history: ExploreHistory) -> Choice:
    """The first SLO in force (else the first journey with data, at 99.9 %), with the
    window and on-call coverage of ``service.yaml`` over the whole history."""
    cfg = history.config
    base = Choice("", "availability", DEFAULT_TARGET, None, cfg.slo.window, cfg.slo.window_kind, cfg.oncall.coverage)
    first = history.slos[0] if history.slos else None
    if first is not None:
        return replace(base, journey=first.journey, sli=first.sli, target=first.target, threshold_ms=first.threshold_ms)
    journey = next((j for j in history.journeys if history.kinds(j)), history.journeys[0] if history.journeys else "")
    return switch_to(history, base, journey, (history.kinds(journey) or ("availability",))[0])


def switch_to(history: ExploreHistory, current: Choice, journey: str, sli: str) -> Choice:
    """``current`` moved to another journey or SLI kind: the objective of the SLO in force for
    them when there is one; else the current target and the edge nearest to the current
    threshold (the median edge when there is none)."""
    slo = history.slo_for(journey, sli)
    if slo is not None:
        return replace(current, journey=journey, sli=sli, target=slo.target, threshold_ms=slo.threshold_ms)
    edges = history.edges(journey, sli)
    if sli == "availability" or edges.size == 0:
        return replace(current, journey=journey, sli=sli, threshold_ms=None)
    want = current.threshold_ms if current.threshold_ms is not None else float(edges[len(edges) // 2])
    nearest = float(edges[int(np.argmin(np.abs(np.log(edges) - math.log(max(want, 1e-9)))))])
    target = current.target if current.sli == sli else DEFAULT_LATENCY_TARGET
    return replace(current, journey=journey, sli=sli, threshold_ms=nearest, target=target)


def check_choice(history: ExploreHistory, choice: Choice) -> Choice:
    """``choice`` made concrete: a latency threshold snapped down to a bucket edge (as a
    Prometheus ``le`` query must), the range clipped to the data. Raises :class:`ExploreError`
    for an unknown journey or kind, an objective outside (0, 1), a threshold below the lowest
    edge, a window that is not positive, an empty range or a range outside the data."""
    _check_journey(history, choice.journey, choice.sli)
    _check_target(choice.target)
    _check_window(choice.window, choice.window_kind)
    threshold = _threshold(history, choice)
    start, end = _range(history, choice.start, choice.end)
    return replace(choice, threshold_ms=threshold, start=start, end=end)


def _check_journey(history: ExploreHistory, journey: str, sli: str) -> None:
    if journey not in history.journeys:
        known = ", ".join(history.journeys) or "none"
        raise ExploreError(f"Journey '{journey}' is not in the data or in service.yaml. Journeys: {known}.")
    if sli not in KINDS:
        raise ExploreError(f"SLI kind '{sli}' is not one of {', '.join(KINDS)}.")
    kinds = history.kinds(journey)
    if not kinds:
        raise ExploreError(
            f"Journey '{journey}' has no data: no requests in the telemetry and no gauge series. "
            "Is it live, and is its name spelled as in the data's journey column?"
        )
    if sli not in kinds:
        need = "a gauge series (data.series)" if sli == "timeslice" else "request telemetry"
        raise ExploreError(f"A {sli} SLI of '{journey}' needs {need}; this journey has: {', '.join(kinds)}.")


def _check_target(target: float) -> None:
    if not isinstance(target, int | float) or not math.isfinite(target) or not 0.0 < float(target) < 1.0:
        raise ExploreError(
            f"The objective must be a fraction between 0 and 1 (exclusive), e.g. 0.999 for 99.9 %; got {target!r}."
        )


def _check_window(window: pd.Timedelta, kind: str) -> None:
    if kind not in WINDOW_KINDS:
        raise ExploreError(f"The window kind must be rolling or calendar_month, not '{kind}'.")
    if pd.isna(window) or not pd.Timedelta(0) < window <= MAX_WINDOW:
        raise ExploreError(f"The SLO window must be positive and at most ten years; got {window}.")


def _threshold(history: ExploreHistory, choice: Choice) -> float | None:
    """The threshold the SLI uses: none for availability; latency snapped down to a bucket edge."""
    if choice.sli == "availability":
        return None
    edges = history.edges(choice.journey, choice.sli)
    t = choice.threshold_ms
    if t is None or not math.isfinite(t) or t <= 0:
        raise ExploreError(f"A {choice.sli} SLI needs a positive threshold in milliseconds; got {t!r}.")
    if t < edges[0]:
        raise ExploreError(
            f"{t:g} ms is below the lowest bucket edge ({edges[0]:g} ms): no request can be counted as fast "
            f"enough. Pick {edges[0]:g} ms or more."
        )
    return tm.snap_edge(edges, t) if choice.sli == "latency" else float(t)


def _range(
    history: ExploreHistory, start: pd.Timestamp | None, end: pd.Timestamp | None
) -> tuple[pd.Timestamp, pd.Timestamp]:
    """The history range within the data (UTC; end exclusive)."""
    if history.start is None or history.end is None:
        raise ExploreError("There is no telemetry and no gauge series to explore.")
    if start is not None and end is not None and _utc(start) >= _utc(end):
        raise ExploreError(f"The range is empty: 'from' ({_day(start)}) must be before 'to' ({_day(end)}).")
    lo = history.start if start is None else max(_utc(start), history.start)
    hi = history.end if end is None else min(_utc(end), history.end)
    if lo >= hi:
        raise ExploreError(
            f"The range {_day(start or lo)} to {_day(end or hi)} holds no data; the data runs from "
            f"{_day(history.start)} to {_day(history.end)}."
        )
    return lo, hi


def _utc(stamp: pd.Timestamp) -> pd.Timestamp:
    t = pd.Timestamp(stamp)
    return t.tz_localize("UTC") if t.tzinfo is None else t.tz_convert("UTC")


def _day(stamp: pd.Timestamp) -> str:
    return _utc(stamp).strftime("%Y-%m-%d %H:%M UTC")


def choice_config(config: ServiceConfig, choice: Choice) -> ServiceConfig:
    """``service.yaml`` as the choice changes it: SLO window and kind, on-call coverage."""
    slo = replace(config.slo, window=choice.window, window_kind=cast(WindowKind, choice.window_kind))
    return replace(config, slo=slo, oncall=replace(config.oncall, coverage=choice.coverage or None))


def choice_spec(history: ExploreHistory, choice: Choice) -> SLOSpec:
    """The SLO a (checked) choice stands for. The SLO in force for its journey and kind keeps
    its name, budgeting method, imported queries and imported alert policy, with the chosen
    objective, threshold and window; otherwise the SLO is named as the report names it
    (``<journey>-<kind>``) with ``service.yaml``'s budgeting method."""
    base = history.slo_for(choice.journey, choice.sli)
    if base is not None:
        return replace(
            base,
            target=choice.target,
            threshold_ms=choice.threshold_ms,
            window=choice.window,
            window_kind=cast(WindowKind, choice.window_kind),
        )
    cfg = choice_config(history.config, choice)
    return make_spec(
        f"{choice.journey}-{choice.sli}", choice.journey, choice.sli, choice.target, cfg, choice.threshold_ms
    )


def describe(choice: Choice) -> str:
    """The choice in a few words, e.g. ``checkout availability 99.9 % over 28d rolling``."""
    lat = f" within {choice.threshold_ms:g} ms" if choice.threshold_ms is not None else ""
    kind = "calendar month" if choice.window_kind == "calendar_month" else f"{format_duration(choice.window)} rolling"
    return f"{choice.journey} {choice.sli} {100 * choice.target:.4g} %{lat} over {kind}"
