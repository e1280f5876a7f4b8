"""The SLO proposal: :func:`propose_slos` → :class:`~srekit.analysis.slo.results.SloProposal`
(the ``slo_proposal`` section of ``report.json``, fields in docs/slo.md).

Each journey with request telemetry, then each gauge series, is analysed on its own
(:class:`JourneyPart`: threshold proposals, options, SLOs in force, open questions); the parts
are then joined, the journeys without telemetry get an instrumentation plan and provisional
SLOs, and every SLO in force gets its SLI.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from srekit.analysis.slo import questions as ask
from srekit.analysis.slo.events import series_interval, usable_series
from srekit.analysis.slo.grid import Blocks, GridSettings, JourneyGrid, journey_grids, series_blocks
from srekit.analysis.slo.history import journey_history, past_windows, shorter_than_window
from srekit.analysis.slo.loadtest import loadtest_results
from srekit.analysis.slo.options import LATENCY_ANCHOR, evaluate_specs, rung_options
from srekit.analysis.slo.results import (
    SLI,
    InstrumentationStep,
    SloInForce,
    SloOption,
    SloProposal,
    ThresholdProposal,
    plot_label,
)
from srekit.analysis.slo.sli import instrumentation_plan, make_sli
from srekit.analysis.slo.specs import (
    TOP_JOURNEYS,
    check_unique_names,
    configured_specs,
    critical_journeys,
    make_spec,
    provisional_slos,
)
from srekit.analysis.slo.thresholds import enough_days, threshold_proposals
from srekit.core.questions import OpenQuestion
from srekit.core.spec import SLOSpec
from srekit.inputs import telemetry as tm
from srekit.inputs.config import ServiceConfig
from srekit.inputs.loadtest import LoadTest

_DISTRIBUTION_DTYPES = {
    "journey": "str",
    "kind": "str",
    "label": "str",
    "edge_ms": "float64",
    "cumulative_share": "float64",
    "slower_share": "float64",
}


@dataclass(frozen=True, slots=True)
class _Setting:
    """What every step of one proposal reads (no step changes it)."""

    config: ServiceConfig
    targets: tuple[float, ...]
    given_specs: tuple[SLOSpec, ...]
    rng: np.random.Generator  # the bootstrap draws from it in journey order

    @property
    def window(self) -> pd.Timedelta:
        return self.config.slo.window

    @property
    def window_kind(self) -> str:
        return self.config.slo.window_kind

    @property
    def origin(self) -> str:
        """Where SLOs not proposed here come from."""
        return "given" if self.given_specs else "service.yaml"

    @property
    def said(self) -> str:
        return "As given" if self.given_specs else "As set in service.yaml"

    def given(self, journey: str, *, timeslice: bool) -> list[SLOSpec]:
        """The given SLOs of a journey: its timeslice ones, or its request ones."""
        return [s for s in self.given_specs if s.journey == journey and (s.sli == "timeslice") == timeslice]

    def given_journeys(self, *, timeslice: bool) -> list[str]:
        """Journeys with given SLOs of that kind, in the order their first SLO was given."""
        journeys = dict.fromkeys(s.journey for s in self.given_specs)
        return [j for j in journeys if self.given(j, timeslice=timeslice)]


@dataclass(frozen=True, slots=True)
class JourneyPart:
    """What one journey's history (request telemetry or a gauge series) adds to the proposal."""

    proposals: tuple[ThresholdProposal, ...] = ()
    options: tuple[SloOption, ...] = ()
    slos: tuple[SloInForce, ...] = ()
    questions: tuple[OpenQuestion, ...] = ()
    distribution: pd.DataFrame | None = None  # plots only
    short_history: bool = False


def _distribution(journey: str, kind: str, days: Blocks) -> pd.DataFrame:
    """Pooled share of events at or below each edge over the whole history (plots only)."""
    tot = days.total.sum()
    frac = days.le.sum(axis=0) / tot if tot > 0 else np.zeros(len(days.edges))
    return pd.DataFrame(
        {
            "journey": journey,
            "kind": kind,
            "label": plot_label(journey, kind),
            "edge_ms": days.edges,
            "cumulative_share": frac,
            "slower_share": 1.0 - frac,
        }
    )


def _measured(
    journey: str, kind: str, days: Blocks, boot: Blocks, s: _Setting
) -> tuple[JourneyPart, tuple[SloOption, ...]]:
    """Threshold proposals, the distribution and the rung options of one journey's history
    (daily blocks ``days``; ``boot``: the blocks the bootstrap resamples)."""
    windows = past_windows(days.index, s.window, s.window_kind)
    found, unreachable = threshold_proposals(journey, kind, days, boot, windows, s.targets, s.rng)
    history = (float(len(days.index)), s.window / pd.Timedelta(days=1))
    proposals = [replace(p, history_days=history[0], window_days=history[1]) for p in found]
    has_events = days.total.sum() > 0
    rungs = rung_options(journey_history(journey, kind, days, windows), s.targets, s.window) if has_events else []
    part = JourneyPart(
        proposals=tuple(proposals),
        questions=tuple(ask.unreachable_target(journey, t, days.edges[-1]) for t in unreachable),
        distribution=_distribution(journey, kind, days),
        short_history=shorter_than_window(days.index, s.window, s.window_kind),
    )
    return part, tuple(rungs)


def _adopted(
    given: Sequence[SLOSpec], evaluated: SloOption | None, rungs: Sequence[SloOption], s: _Setting
) -> tuple[tuple[SloOption, ...], tuple[SloInForce, ...]]:
    """The options shown and the given SLOs in force: the given SLOs evaluated on history
    (option ``given``), else the rung options (the given SLOs kept without a record)."""
    if evaluated is not None:
        return (evaluated,), tuple(SloInForce(x, s.origin, evaluated.tradeoff) for x in given)
    rationale = f"{s.said}; it could not be evaluated on this history."
    return tuple(rungs), tuple(SloInForce(x, s.origin, rationale) for x in given)


def _balanced(
    journey: str, rungs: Sequence[SloOption], slis: Sequence[str], s: _Setting, name: str | None = None
) -> tuple[SloInForce, ...]:
    """SLOs from the recommended rung for the ``slis`` nothing else sets (none when SLOs are
    given): named ``<journey>-<sli>`` unless ``name`` is passed."""
    bal = next((o for o in rungs if o.recommended), None)
    if bal is None or s.given_specs:
        return ()
    return tuple(
        SloInForce(
            make_spec(name or f"{journey}-{o.sli}", journey, o.sli, o.target, s.config, o.threshold_ms),
            "option:balanced",
            bal.tradeoff,
        )
        for o in bal.objectives
        if o.sli in slis
    )


def _request_specs(
    journey: str, edges: np.ndarray | None, s: _Setting
) -> tuple[list[SLOSpec], tuple[OpenQuestion, ...]]:
    """A request journey's given SLOs, else (when no SLOs are given at all) those
    ``service.yaml`` sets, with a question when a threshold had to snap to a bucket edge."""
    given = s.given(journey, timeslice=False)
    if given or s.given_specs:
        return given, ()
    configured, moved = configured_specs(journey, s.config, edges)
    return configured, () if moved is None else (ask.threshold_snapped(journey, *moved),)


def _request_journey(
    journey: str, grid: JourneyGrid | None, edges: np.ndarray | None, has_telemetry: bool, s: _Setting
) -> JourneyPart:
    """One request journey: its given (or configured) SLOs evaluated on history, else the
    options its history supports; the balanced option fills the SLIs nothing sets."""
    given, asked = _request_specs(journey, edges, s)
    if grid is None or grid.total.sum() == 0:
        if not has_telemetry:
            return JourneyPart(questions=asked)
        rationale = "Configured; no requests for this journey in the telemetry, so not evaluated."
        slos = tuple(SloInForce(x, s.origin, rationale) for x in given)
        return JourneyPart(slos=slos, questions=(*asked, ask.journey_without_telemetry(journey)))
    days = grid.blocks("D")
    boot = days if enough_days(days) else grid.blocks("h")
    part, rungs = _measured(journey, "latency", days, boot, s)
    settings = GridSettings.of(s.config)
    evaluated = evaluate_specs(journey, given, grid, None, s.window, s.window_kind, s.said, settings) if given else None
    options, slos = _adopted(given, evaluated, rungs, s)
    missing = [k for k in ("availability", "latency") if k not in {x.sli for x in given}]
    extra = _balanced(journey, rungs, missing, s)
    return replace(part, options=options, slos=slos + extra, questions=asked + part.questions)


def _request_parts(
    telemetry: pd.DataFrame | None, grids: Mapping[str, JourneyGrid], critical: Sequence[str], s: _Setting
) -> list[JourneyPart]:
    """The critical journeys, then those with given request SLOs, each from its grid."""
    edges = tm.edges_of(telemetry) if telemetry is not None else None
    extra = [j for j in s.given_journeys(timeslice=False) if j not in critical]
    return [_request_journey(j, grids.get(j), edges, telemetry is not None, s) for j in [*critical, *extra]]


def _journey_parts(
    telemetry: pd.DataFrame | None,
    series: pd.DataFrame | None,
    grids: Mapping[str, JourneyGrid],
    critical: Sequence[str],
    s: _Setting,
) -> tuple[list[JourneyPart], list[str]]:
    """Every journey's part: request journeys first, then gauge series (and which journeys
    those series are)."""
    requests = _request_parts(telemetry, grids, critical, s)
    if series is None or series.empty:
        return requests, []
    series_journeys = _series_journeys(series, critical, grids, s)
    taken = frozenset(x.spec.name for p in requests for x in p.slos)
    return [*requests, *_series_parts(series, series_journeys, grids, taken, s)], series_journeys


def _series_journeys(
    series: pd.DataFrame, critical: Sequence[str], with_requests: Mapping[str, JourneyGrid], s: _Setting
) -> list[str]:
    """Gauge series to analyse: critical journeys without request telemetry and journeys with
    given timeslice SLOs, else the top ``TOP_JOURNEYS`` series by samples."""
    counts = series.groupby("journey")["value"].count()
    wanted = [j for j in critical if j in counts.index and j not in with_requests]
    wanted += [j for j in s.given_journeys(timeslice=True) if j in counts.index and j not in wanted]
    top = counts.sort_index().sort_values(ascending=False, kind="stable").index[:TOP_JOURNEYS]
    return wanted or [str(j) for j in top]


def _series_given(journey: str, has_requests: bool, s: _Setting) -> list[SLOSpec]:
    """A series journey's given timeslice SLOs, else (no SLOs given, no request telemetry) the
    latency threshold ``service.yaml`` sets for it, as a timeslice SLO."""
    given = s.given(journey, timeslice=True)
    jc = s.config.journey(journey)
    if given or s.given_specs or has_requests or jc is None or jc.latency_threshold_ms is None:
        return given
    target = jc.latency_target or LATENCY_ANCHOR
    return [make_spec(f"{journey}-timeslice", journey, "timeslice", target, s.config, jc.latency_threshold_ms)]


def _series_journey(
    journey: str, series: pd.DataFrame, has_requests: bool, taken: frozenset[str], s: _Setting
) -> JourneyPart:
    """One gauge series: threshold proposals on its samples, its given (or configured) timeslice
    SLO evaluated on history, else the balanced option's (unless ``taken``)."""
    samples = usable_series(series, journey)
    zeros = int((pd.to_numeric(series.loc[series["journey"] == journey, "value"], errors="coerce") == 0).sum())
    asked = (ask.series_zeros(journey, zeros),) if zeros else ()
    if samples.empty:
        return JourneyPart(questions=asked)
    edges = np.asarray(tm.DEFAULT_EDGES_MS)
    limit = s.config.limits.max_intervals
    days = series_blocks(samples, "D", edges, limit)
    boot = days if enough_days(days) else series_blocks(samples, "h", edges, limit)
    part, rungs = _measured(journey, "timeslice", days, boot, s)
    given = _series_given(journey, has_requests, s)
    evaluated = (
        evaluate_specs(journey, given, None, series, s.window, s.window_kind, s.said, GridSettings.of(s.config))
        if given
        else None
    )
    if evaluated is not None:
        slos = tuple(SloInForce(x, s.origin, evaluated.tradeoff) for x in given)
        return replace(part, options=(evaluated,), slos=slos, questions=asked + part.questions)
    name = f"{journey}-timeslice"
    slos = () if name in taken else _balanced(journey, rungs, ["timeslice"], s, name)
    return replace(part, options=rungs, slos=slos, questions=asked + part.questions)


def _series_parts(
    series: pd.DataFrame,
    journeys: Sequence[str],
    with_requests: Mapping[str, JourneyGrid],
    taken: frozenset[str],
    s: _Setting,
) -> list[JourneyPart]:
    """Each series journey in turn (a journey's SLO names are taken for the next)."""
    parts = []
    for j in journeys:
        part = _series_journey(j, series, j in with_requests, taken, s)
        taken = taken | {x.spec.name for x in part.slos}
        parts.append(part)
    return parts


def _without_telemetry(
    has_telemetry: bool,
    critical: Sequence[str],
    series_journeys: Sequence[str],
    in_force: Sequence[SloInForce],
    s: _Setting,
) -> tuple[tuple[InstrumentationStep, ...], tuple[SloInForce, ...], tuple[OpenQuestion, ...]]:
    """No request telemetry: an instrumentation plan for the critical journeys (else those
    configured, else the series journeys, else ``all``) and provisional SLOs for those without
    a measured series (none when SLOs are given). Nothing when there is request telemetry."""
    if has_telemetry:
        return (), (), ()
    journeys = critical or [j.name for j in s.config.journeys] or series_journeys or ["all"]
    plan = instrumentation_plan(journeys, s.config)
    names = {x.spec.name for x in in_force}
    unmeasured = [j for j in journeys if j not in series_journeys]
    provisional = () if s.given_specs else tuple(provisional_slos(unmeasured, names, s.config))
    asked = ask.no_telemetry(series=bool(series_journeys))
    return plan, provisional, (asked, *((ask.provisional_slos(),) if provisional else ()))


def _closing_questions(parts: Sequence[JourneyPart], s: _Setting) -> tuple[OpenQuestion, ...]:
    """Questions about the proposal as a whole: short history, which option to adopt, the
    timeslice target, thin traffic and hourly bootstrap blocks."""
    options = [o for p in parts for o in p.options]
    proposals = [x for p in parts for x in p.proposals]
    undecided = list(
        dict.fromkeys(
            plot_label(o.journey, "timeslice" if o.objective("timeslice") else "latency")
            for o in options
            if o.name != "given"
        )
    )
    slo = s.config.slo
    out = []
    if any(p.short_history for p in parts):
        out.append(ask.short_history(s.window))
    if undecided:
        kinds = {"timeslice" if o.objective("timeslice") else "latency" for o in options if o.name != "given"}
        out.append(ask.slo_targets(undecided, requests="latency" in kinds, series="timeslice" in kinds))
    if slo.budgeting == "Timeslices" and slo.timeslice_target is None:
        out.append(ask.timeslice_target())
    if any(p.too_little_data for p in proposals):
        out.append(ask.too_little_data())
    if any(p.ci_block == "hour" for p in proposals):
        out.append(ask.bootstrap_block())
    return tuple(out)


def _slis(
    slos: Sequence[SloInForce], series: pd.DataFrame | None, series_journeys: Sequence[str], s: _Setting
) -> tuple[SLI, ...]:
    """The SLI behind each SLO in force (timeslice SLIs at their series' sampling interval)."""
    intervals = (
        {j: series_interval(series.loc[series["journey"] == j, "timestamp"]) for j in series_journeys}
        if series is not None and not series.empty
        else {}
    )
    return tuple(
        make_sli(x.spec, s.config, provisional=x.source == "provisional", interval=intervals.get(x.spec.journey))
        for x in slos
    )


def _distributions(parts: Sequence[JourneyPart]) -> pd.DataFrame:
    """The parts' distributions in one frame (typed and empty when there are none)."""
    frames = [p.distribution for p in parts if p.distribution is not None]
    if frames:
        return pd.concat(frames, ignore_index=True)
    return pd.DataFrame({k: pd.Series([], dtype=t) for k, t in _DISTRIBUTION_DTYPES.items()})


def _uncovered(given_specs: Sequence[SLOSpec], in_force: Sequence[SloInForce]) -> tuple[SloInForce, ...]:
    """Given SLOs the data does not cover: still in force, without a history check."""
    covered = {x.spec.name for x in in_force}
    rationale = "Given; no history for it in the inputs, so it could not be evaluated."
    return tuple(SloInForce(x, "given", rationale) for x in given_specs if x.name not in covered)


def propose_slos(
    telemetry: pd.DataFrame | None,
    series: pd.DataFrame | None,
    config: ServiceConfig,
    *,
    given_specs: tuple[SLOSpec, ...] = (),
    rng: np.random.Generator | None = None,
    grids: Mapping[str, JourneyGrid] | None = None,
    loadtests: Sequence[LoadTest] = (),
) -> SloProposal:
    """SLIs, threshold proposals, SLO options and the SLOs in force for a service.

    Parameters
    ----------
    telemetry : aggregated telemetry (``srekit.inputs.telemetry``) or None.
    series : gauge series (timestamp, value, journey) or None; gives timeslice SLIs.
    config : the service configuration (journeys, targets, ``slo`` defaults, Prometheus names).
    given_specs : SLOs defined elsewhere (e.g. OpenSLO files); when given they are the SLOs in
        force and are evaluated on history instead of proposing options.
    rng : randomness for the bootstrap intervals (default: a fixed seed, reproducible reports).
    grids : :func:`~srekit.analysis.slo.grid.journey_grids` of ``telemetry`` when the caller
        has it already.
    loadtests : load-test latency distributions (``data.loadtest``; :mod:`srekit.analysis.slo.loadtest`).

    Notes
    -----
    Threshold for target p: the smallest bucket edge T whose pooled share of requests with
    latency ≤ T over the whole range is ≥ p (SRE Workbook, "Implementing SLOs": latency SLI =
    share of requests faster than a threshold). Budget consumed in a window = bad / ((1 − p) ×
    valid). ``too_little_data`` when some window holds fewer than 10 / (1 − p) events.
    """
    check_unique_names(given_specs)
    rng = np.random.default_rng(0) if rng is None else rng
    s = _Setting(config, tuple(sorted(set(config.slo.targets))), given_specs, rng)
    tel = telemetry if telemetry is not None and not telemetry.empty else None
    critical, guessed = critical_journeys(tel, config)
    groups = (grids if grids is not None else journey_grids(tel, GridSettings.of(config))) if tel is not None else {}
    parts, series_journeys = _journey_parts(tel, series, groups, critical, s)
    measured = [x for p in parts for x in p.slos]
    in_force = measured + list(_uncovered(given_specs, measured))
    plan, provisional, no_tel = _without_telemetry(tel is not None, critical, series_journeys, in_force, s)
    slos = (*in_force, *provisional)
    return SloProposal(
        slos=slos,
        slis=_slis(slos, series, series_journeys, s),
        threshold_proposals=tuple(x for p in parts for x in p.proposals),
        options=tuple(o for p in parts for o in p.options),
        instrumentation_plan=plan,
        critical_journeys=tuple(critical or series_journeys),
        window=s.window,
        window_kind=s.window_kind,
        open_questions=(
            *((ask.critical_journeys(critical),) if guessed else ()),
            *(q for p in parts for q in p.questions),
            *no_tel,
            *_closing_questions(parts, s),
        ),
        distributions=_distributions(parts),
        loadtests=loadtest_results(loadtests, [x.spec for x in slos], s.targets),
    )
