"""The budget-forecast entry point :func:`forecast_budget`: fit, simulate and summarise each
forecastable SLO (``error_budget_policy.forecast`` in report.json; ``docs/forecast.md``)."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import NamedTuple

import numpy as np
import pandas as pd

from srekit.analysis.forecast.fit import fit_model, incident_windows
from srekit.analysis.forecast.model import DEFAULT_WHAT_IFS, BurnModel, WhatIf
from srekit.analysis.forecast.result import BudgetForecast, SLOForecast, WhatIfResult, summarize, what_if_results
from srekit.analysis.forecast.simulate import simulate
from srekit.analysis.incidents.counts import SliCounts
from srekit.core.limits import Limits, check_limit
from srekit.core.questions import OpenQuestion
from srekit.core.spec import SLOSpec
from srekit.inputs import telemetry as tm
from srekit.inputs.config import ServiceConfig
from srekit.inputs.intervals import stamp_ints

SECTION = "error_budget_policy"
#: Fewest days of telemetry a forecast resamples: fewer whole days would replay the same one or two
#: days across a whole window and call the result a probability.
MIN_HISTORY_DAYS = 7

NO_SLOS = OpenQuestion(
    "forecast_inputs",
    "Which SLOs should the budget forecast simulate?",
    "No SLO was in force, so no budget forecast was made.",
    SECTION,
)
NO_TELEMETRY = OpenQuestion(
    "forecast_inputs",
    "Can the service emit request telemetry (a request counter with status and a latency histogram)?",
    "The forecast simulates request-based SLOs on request telemetry; without it no SLO was forecast (the budget "
    "table still shows where each budget stands).",
    SECTION,
)
NO_INCIDENTS = OpenQuestion(
    "forecast_incidents",
    "Is there an incident log for this service?",
    "Without incidents, every past day (incidents included) is resampled as background burn; the what-ifs then "
    "change nothing.",
    SECTION,
)


class _SloOutcome(NamedTuple):
    """One SLO's part of the forecast: its forecast (None when skipped), what-ifs and questions."""

    forecast: SLOForecast | None
    what_ifs: tuple[WhatIfResult, ...]
    questions: tuple[OpenQuestion, ...]


def _request_based(spec: SLOSpec) -> bool:
    return spec.sli in ("availability", "latency") and spec.budgeting == "Occurrences"


def _journey_requests(telemetry: pd.DataFrame, specs: tuple[SLOSpec, ...]) -> dict[str, float]:
    """Total requests of each journey a request-based SLO measures."""
    journeys = dict.fromkeys(s.journey for s in specs if _request_based(s))
    sums = tm.journey_sums(telemetry, ["total"])["total"]
    return {j: sums.get(j, 0) for j in journeys}


def skip_reason(spec: SLOSpec, requests: Mapping[str, float] | None) -> str | None:
    """Why ``spec`` gets no forecast, in one sentence (None: it is forecast)."""
    if spec.sli == "timeslice":
        return (
            f"{spec.name} counts samples of a series: the forecast simulates requests, so it is not forecast; its "
            "budget table shows where its budget stands."
        )
    if not _request_based(spec):
        return f"{spec.name} uses {spec.budgeting} budgeting; only Occurrences (request-counting) SLOs are forecast."
    if requests is None:
        return f"{spec.name} has no request telemetry to simulate."
    if requests.get(spec.journey, 0) <= 0:
        return f"{spec.name}: journey {spec.journey} has no requests in the telemetry."
    return None


def _skip_question(spec: SLOSpec, requests: Mapping[str, float]) -> OpenQuestion | None:
    """Why ``spec`` gets no forecast (not request-based, or no requests), or None."""
    if not _request_based(spec):
        return OpenQuestion(
            f"forecast_skip_{spec.name}",
            f"Should the {spec.sli} SLO {spec.name} ({spec.budgeting}) get a budget forecast?",
            skip_reason(spec, requests) or "Only request-based SLOs with Occurrences budgeting are forecast.",
            SECTION,
        )
    if requests[spec.journey] <= 0:
        return OpenQuestion(
            f"forecast_journey_{spec.name}",
            f"Where is the telemetry of journey {spec.journey!r}?",
            f"No requests for {spec.journey!r} in the telemetry: SLO {spec.name} is not forecast.",
            SECTION,
        )
    return None


def _impact_questions(spec: SLOSpec, model: BurnModel) -> tuple[OpenQuestion, ...]:
    """Incidents in the history, but none measurable on the telemetry."""
    if not model.incidents > 0 or model.durations_minutes:
        return ()
    return (
        OpenQuestion(
            f"forecast_impact_{spec.name}",
            f"Which incidents affected journey {spec.journey!r}, and when did they end?",
            "No incident could be measured on the telemetry, so incident impact is not modelled beyond the background.",
            SECTION,
        ),
    )


def _forecast_slo(
    spec: SLOSpec,
    telemetry: pd.DataFrame,
    log: pd.DataFrame | None,
    windows: pd.DataFrame,
    sli: SliCounts,
    *,
    rng: np.random.Generator,
    runs: int,
    what_ifs: tuple[WhatIf, ...],
    limits: Limits,
) -> _SloOutcome:
    """Fit, simulate and summarise one SLO."""
    model = fit_model(telemetry, log, spec, counts=sli, windows=windows)
    check_limit(
        limits,
        "monte_carlo_draws",
        runs * model.window_days,
        f"the budget forecast of SLO {spec.name} ({runs:,} runs × a {model.window_days}-day window)",
        "simulate fewer runs (-p runs=N) or a shorter SLO window",
        "simulated days",
    )
    sim = simulate(model, rng=rng, runs=runs, what_ifs=what_ifs)
    forecast = summarize(spec, model, sim)
    return _SloOutcome(forecast, what_if_results(forecast, sim, what_ifs), _impact_questions(spec, model))


_DAY_US = 86_400_000_000
_DAY_CHUNK = 1 << 20


def _days_of(telemetry: pd.DataFrame) -> int:
    """Calendar days (UTC) the telemetry touches."""
    us, _ = stamp_ints(telemetry["interval_start"])
    days: set[int] = set()
    for lo in range(0, us.size, _DAY_CHUNK):  # a chunk at a time: no day number per row in memory
        days.update(np.unique(us[lo : lo + _DAY_CHUNK] // _DAY_US).tolist())  # floor: days before 1970 too
    return len(days)


def _not_forecast(
    telemetry: pd.DataFrame | None, specs: tuple[SLOSpec, ...], runs: int, window_days: int
) -> BudgetForecast:
    """No SLO, no telemetry, or too few days of it: no forecast, and every SLO says why."""
    if not len(specs):
        return BudgetForecast(runs, window_days, (), (), (NO_SLOS,), ())
    if telemetry is None:
        return BudgetForecast(
            runs, window_days, (), (), (NO_TELEMETRY,), tuple((s.name, skip_reason(s, None) or "") for s in specs)
        )
    days = _days_of(telemetry)
    why = (
        f"the telemetry touches {days} day{'' if days == 1 else 's'}, too few to simulate a {window_days}-day window "
        f"(at least {MIN_HISTORY_DAYS} are needed: one or two days resampled over a whole window is not a probability)."
    )
    question = OpenQuestion(
        "forecast_history",
        f"Can the forecast wait for at least {MIN_HISTORY_DAYS} days of telemetry?",
        f"No budget forecast was made: {why}",
        SECTION,
    )
    return BudgetForecast(runs, window_days, (), (), (question,), tuple((s.name, f"{s.name}: {why}") for s in specs))


def _window_days(per_slo: tuple[SLOForecast, ...], default: int) -> int:
    """The SLOs' common window, else ``default`` (``slo.window``)."""
    return per_slo[0].window_days if per_slo and len({f.window_days for f in per_slo}) == 1 else default


def forecast_budget(
    telemetry: pd.DataFrame | None,
    incidents: pd.DataFrame | None,
    specs: tuple[SLOSpec, ...],
    config: ServiceConfig,
    *,
    rng: np.random.Generator,
    runs: int = 10_000,
    what_ifs: tuple[WhatIf, ...] = DEFAULT_WHAT_IFS,
    counts: SliCounts | None = None,
) -> BudgetForecast:
    """Forecast error-budget consumption of each SLO over its next window.

    ``telemetry``: aggregated telemetry, or None; ``incidents``: canonical incident log, or None
    (then every day of history, incidents included, is resampled as background); ``specs``: the
    SLOs (availability and latency SLOs with Occurrences budgeting are forecast); ``config``: the
    default window; ``rng``: the same seed gives the same forecast; ``runs``: simulated windows per
    SLO, at most ``config.limits.monte_carlo_draws`` simulated days (runs × window days) per SLO,
    else a :class:`~srekit.core.errors.LimitError`; ``what_ifs``: improvements evaluated with the
    same random draws; ``counts``: the SLIs of ``telemetry`` when already measured
    (:class:`srekit.analysis.incidents.counts.SliCounts`).
    """
    default_days = max(math.ceil(config.slo.window / pd.Timedelta(days=1)), 1)
    if telemetry is None or not len(specs) or _days_of(telemetry) < MIN_HISTORY_DAYS:
        return _not_forecast(telemetry, specs, runs, default_days)
    log = incidents if incidents is not None and len(incidents) else None
    requests = _journey_requests(telemetry, specs)
    skips = tuple(_skip_question(spec, requests) for spec in specs)
    windows = incident_windows(log) if any(q is None for q in skips) else pd.DataFrame()
    sli = counts if counts is not None else SliCounts(telemetry)
    outcomes = [
        _SloOutcome(None, (), (skip,))
        if skip is not None
        else _forecast_slo(
            spec, telemetry, log, windows, sli, rng=rng, runs=runs, what_ifs=what_ifs, limits=config.limits
        )
        for spec, skip in zip(specs, skips, strict=True)
    ]
    per_slo = tuple(o.forecast for o in outcomes if o.forecast is not None)
    return BudgetForecast(
        runs=runs,
        window_days=_window_days(per_slo, default_days),
        per_slo=per_slo,
        what_ifs=tuple(w for o in outcomes for w in o.what_ifs),
        open_questions=(() if log is not None else (NO_INCIDENTS,)) + tuple(q for o in outcomes for q in o.questions),
        skipped=tuple((s.name, why) for s in specs if (why := skip_reason(s, requests)) is not None),
    )
