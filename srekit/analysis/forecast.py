"""Monte Carlo forecast of error-budget consumption over the next SLO window.

Part of the report section ``error_budget_policy`` (key ``forecast``).

Model (per SLO, in *budget minutes*: bad events ÷ mean requests per minute, so a window of
W minutes at target T has a budget of W·(1 − T) minutes — SRE Workbook, "Implementing SLOs")
---------------------------------------------------------------------------------------------
* Incidents arrive as a Poisson process whose daily rate is uncertain: with n incidents in
  H days of history and the Jeffreys prior, the rate's posterior is Gamma(n + ½, rate H)
  (Gelman et al., *Bayesian Data Analysis*, 3rd ed., §2.6). Each run draws its own rate, then
  a Poisson count per day (the posterior predictive, a negative binomial).
* Each incident's impact is resampled from the past incidents measured on the telemetry:
  a (duration, intensity) pair, intensity = excess bad events per minute ÷ mean requests per
  minute (:func:`srekit.analysis.incidents.incident_impact`); impact = duration × intensity.
  Incidents are charged to the day they start.
* Background burn: whole days of history without any incident ("quiet days"), resampled with
  replacement (bootstrap, Efron & Tibshirani 1993); with fewer than ``MIN_QUIET_DAYS`` quiet
  days, every day's burn outside incident windows, scaled to a full day.
* What-ifs reuse the same random draws (common random numbers): fewer incidents thins each
  drawn incident with probability x; faster resolution scales durations by (1 − y); faster
  detection shortens each incident by z minutes, but never by more than that incident's own
  time to detect (nobody detects before the start) nor below zero.

Everything is vectorised over runs (no Python loop over runs); ``rng`` makes it deterministic.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from srekit.analysis.incidents import (
    SliCounts,
    impact_windows,
    incident_impact,
    log_end,
    prepare,
    relevant,
    to_us,
)
from srekit.core.questions import OpenQuestion
from srekit.core.spec import SLOSpec
from srekit.inputs.config import ServiceConfig

SECTION = "error_budget_policy"
RATE_PRIOR_SHAPE = 0.5  # Jeffreys prior for a Poisson rate
MIN_QUIET_DAYS = 7
FAN_QUANTILES = (0.1, 0.25, 0.5, 0.75, 0.9)
RATE_INTERVAL = 0.90


@dataclass(frozen=True, slots=True)
class WhatIf:
    """A counterfactual improvement: ``fewer_incidents`` and ``faster_resolution`` are
    fractions in [0, 1); ``faster_detection`` a duration cut from every incident."""

    name: str
    fewer_incidents: float = 0.0
    faster_resolution: float = 0.0
    faster_detection: pd.Timedelta = pd.Timedelta(0)

    def __post_init__(self) -> None:
        if not self.name:
            raise ValueError("a what-if needs a name")
        for v in (self.fewer_incidents, self.faster_resolution):
            if not 0.0 <= v < 1.0:
                raise ValueError(f"what-if {self.name}: fractions must be in [0, 1), got {v}")
        if self.faster_detection < pd.Timedelta(0):
            raise ValueError(f"what-if {self.name}: faster_detection cannot be negative")

    @property
    def change(self) -> str:
        parts = []
        if self.fewer_incidents:
            parts.append(f"-{self.fewer_incidents:.0%} incidents")
        if self.faster_resolution:
            parts.append(f"-{self.faster_resolution:.0%} incident duration")
        if self.faster_detection > pd.Timedelta(0):
            parts.append(f"-{self.faster_detection / pd.Timedelta(minutes=1):g} min detection per incident")
        return ", ".join(parts) or "no change"


DEFAULT_WHAT_IFS = (
    WhatIf("fewer incidents", fewer_incidents=0.25),
    WhatIf("faster resolution", faster_resolution=0.25),
    WhatIf("faster detection", faster_detection=pd.Timedelta(minutes=10)),
)


@dataclass(frozen=True, slots=True)
class BurnModel:
    """The fitted inputs of the simulation for one SLO (all burn in budget minutes)."""

    slo: str
    window_days: int
    budget_minutes: float
    incidents: int
    history_days: float
    durations_minutes: tuple[float, ...]
    intensities: tuple[float, ...]
    background_daily: tuple[float, ...]
    background_source: str = "quiet days"
    detect_minutes: tuple[float, ...] = ()  # time to detect per pair; inf = unknown; () = all unknown
    #: :meth:`rate_interval` at the default level, computed once when the model is fitted (a
    #: report kernel that shows it from a saved analysis then needs no scipy).
    rate_interval_90: tuple[float, float] = field(init=False, compare=False, repr=False)

    def __post_init__(self) -> None:
        if self.window_days < 1 or self.budget_minutes <= 0 or self.history_days <= 0:
            raise ValueError("window_days, budget_minutes and history_days must be positive")
        if self.incidents < 0:
            raise ValueError("incident count cannot be negative")
        if len(self.durations_minutes) != len(self.intensities):
            raise ValueError("durations and intensities are (duration, intensity) pairs")
        if any(d < 0 for d in self.durations_minutes) or any(i < 0 for i in self.intensities):
            raise ValueError("durations and intensities cannot be negative")
        if self.detect_minutes and len(self.detect_minutes) != len(self.durations_minutes):
            raise ValueError("detect_minutes needs one value per (duration, intensity) pair")
        if any(not d >= 0 for d in self.detect_minutes):
            raise ValueError("detect_minutes cannot be negative or NaN (use inf for unknown)")
        if not self.background_daily or any(b < 0 for b in self.background_daily):
            raise ValueError("background burn needs at least one non-negative day")
        object.__setattr__(self, "rate_interval_90", self.rate_interval())

    @property
    def rate_shape(self) -> float:
        return self.incidents + RATE_PRIOR_SHAPE

    def rate_interval(self, level: float = RATE_INTERVAL) -> tuple[float, float]:
        """Equal-tailed posterior interval of incidents per day."""
        from scipy import stats  # lazy: report kernels only unpickle results

        g = stats.gamma(self.rate_shape, scale=1.0 / self.history_days)
        return float(g.ppf((1 - level) / 2)), float(g.ppf((1 + level) / 2))

    def to_dict(self) -> dict[str, Any]:
        lo, hi = self.rate_interval_90
        d = np.asarray(self.durations_minutes)
        i = np.asarray(self.intensities)
        return {
            "incidents": self.incidents,
            "history_days": self.history_days,
            "rate_per_day": self.rate_shape / self.history_days,
            "rate_interval_90": [lo, hi],
            "rate_posterior": f"Gamma(shape={self.rate_shape:g}, rate={self.history_days:g} days)",
            "impacts_measured": len(d),
            "detect_known": int(np.isfinite(np.asarray(self.detect_minutes, float)).sum()),
            "duration_median_minutes": float(np.median(d)) if d.size else 0.0,
            "intensity_median": float(np.median(i)) if i.size else 0.0,
            "impact_budget_minutes_median": float(np.median(d * i)) if d.size else 0.0,
            "background_days": len(self.background_daily),
            "background_source": self.background_source,
            "background_budget_minutes_per_day_median": float(np.median(self.background_daily)),
        }


@dataclass(frozen=True, slots=True)
class Simulation:
    """Raw simulation output: cumulative consumption (fraction of budget) per run and day for
    the baseline, and final consumption per what-if."""

    cumulative: np.ndarray  # runs × window_days
    what_if_final: dict[str, np.ndarray]


def simulate(
    model: BurnModel, *, rng: np.random.Generator, runs: int = 10_000, what_ifs: tuple[WhatIf, ...] = ()
) -> Simulation:
    """Run the compound-Poisson + bootstrap-background Monte Carlo (see module docstring)."""
    if runs < 1:
        raise ValueError("runs must be at least 1")
    w = model.window_days
    rate = rng.gamma(model.rate_shape, 1.0 / model.history_days, size=runs)
    bg = np.asarray(model.background_daily)[rng.integers(0, len(model.background_daily), size=(runs, w))]
    daily = bg.astype(float)
    finals: dict[str, np.ndarray] = {}
    if model.durations_minutes:
        counts = rng.poisson(rate[:, None], size=(runs, w))
        m = int(counts.sum())
        cell = np.repeat(np.arange(runs * w), counts.ravel())
        pick = rng.integers(0, len(model.durations_minutes), size=m)
        dur = np.asarray(model.durations_minutes)[pick]
        inten = np.asarray(model.intensities)[pick]
        keep_u = rng.random(m)
        detect = np.asarray(model.detect_minutes)[pick] if model.detect_minutes else np.full(m, np.inf)
        daily = daily + np.bincount(cell, weights=dur * inten, minlength=runs * w).reshape(runs, w)
        run_of = cell // w
        bg_total = bg.sum(axis=1)
        for wi in what_ifs:
            cut = np.minimum(wi.faster_detection / pd.Timedelta(minutes=1), detect)  # cannot detect before the start
            d2 = np.maximum(dur * (1.0 - wi.faster_resolution) - cut, 0.0)
            imp = np.where(keep_u >= wi.fewer_incidents, d2 * inten, 0.0)
            finals[wi.name] = (bg_total + np.bincount(run_of, weights=imp, minlength=runs)) / model.budget_minutes
    else:
        for wi in what_ifs:
            finals[wi.name] = bg.sum(axis=1) / model.budget_minutes
    return Simulation(np.cumsum(daily, axis=1) / model.budget_minutes, finals)


@dataclass(frozen=True, slots=True)
class WhatIfResult:
    """Effect of one what-if on one SLO (deltas are what-if minus baseline)."""

    slo: str
    name: str
    change: str
    p_exhaust: float
    delta_p_exhaust: float
    budget_minutes: float
    delta_budget_minutes: float

    def __post_init__(self) -> None:
        if not 0.0 <= self.p_exhaust <= 1.0:
            raise ValueError("p_exhaust is a probability")

    def to_dict(self) -> dict[str, Any]:
        return {
            "slo": self.slo,
            "name": self.name,
            "change": self.change,
            "p_exhaust": self.p_exhaust,
            "delta_p_exhaust": self.delta_p_exhaust,
            "budget_minutes": self.budget_minutes,
            "delta_budget_minutes": self.delta_budget_minutes,
        }


@dataclass(frozen=True, slots=True)
class SLOForecast:
    """Forecast for one SLO over its next window.

    ``consumed`` is the final consumption (fraction of the budget, 1.0 = exhausted) of every
    run; ``fan`` holds its quantiles per day (index 1..window_days)."""

    slo: str
    journey: str
    target: float
    window_days: int
    budget_minutes: float
    p_exhaust: float
    consumed: np.ndarray
    exhaustion_day_median: float | None
    fan: pd.DataFrame
    model: BurnModel

    def __post_init__(self) -> None:
        if not 0.0 <= self.p_exhaust <= 1.0:
            raise ValueError("p_exhaust is a probability")
        if len(self.fan) != self.window_days:
            raise ValueError("the fan chart needs one row per day")

    def consumed_quantiles(self) -> dict[str, float]:
        q = np.quantile(self.consumed, [0.1, 0.5, 0.9])
        return {"p10": float(q[0]), "p50": float(q[1]), "p90": float(q[2])}

    def to_dict(self) -> dict[str, Any]:
        return {
            "slo": self.slo,
            "journey": self.journey,
            "target": self.target,
            "window_days": self.window_days,
            "budget_minutes": self.budget_minutes,
            "p_exhaust": self.p_exhaust,
            "consumed_quantiles": self.consumed_quantiles(),
            "consumed_mean": float(self.consumed.mean()),
            "expected_budget_minutes": float(self.consumed.mean() * self.budget_minutes),
            "exhaustion_day_median": self.exhaustion_day_median,
            "fan": {
                str(day): {f"p{round(q * 100)}": float(row[f"p{round(q * 100)}"]) for q in FAN_QUANTILES}
                for day, row in self.fan.iterrows()
            },
        }


@dataclass(frozen=True, slots=True)
class BudgetForecast:
    """Result of :func:`forecast_budget` (``error_budget_policy.forecast`` in report.json)."""

    runs: int
    window_days: int
    per_slo: tuple[SLOForecast, ...]
    what_ifs: tuple[WhatIfResult, ...]
    open_questions: tuple[OpenQuestion, ...] = field(default=())

    def __post_init__(self) -> None:
        if self.runs < 1 or self.window_days < 1:
            raise ValueError("runs and window_days must be positive")

    def to_dict(self) -> dict[str, Any]:
        return {
            "runs": self.runs,
            "window_days": self.window_days,
            "per_slo": [f.to_dict() for f in self.per_slo],
            "what_ifs": [w.to_dict() for w in self.what_ifs],
            "model": {
                "arrival": "Poisson incidents per day; rate ~ Gamma(n + 0.5, history days) (Jeffreys prior), drawn once per run",
                "impact": "resampled (duration, intensity) pairs of past incidents measured on the telemetry; charged to the start day",
                "background": "bootstrap of whole quiet days (no incident); budget minutes = bad events / mean requests per minute",
                "per_slo": {f.slo: f.model.to_dict() for f in self.per_slo},
            },
        }


# ---------------------------------------------------------------- fitting


def incident_windows(incidents: pd.DataFrame | None) -> pd.DataFrame:
    """Impact windows of every incident of the log (``incidents.impact_windows``, open ones
    censored at the log end); no rows without a log."""
    if incidents is None or not len(incidents):
        return pd.DataFrame(columns=["id", "journey", "cause", "start", "end"])
    df = prepare(incidents)
    return impact_windows(df, log_end(df))


def _daily_sums(idx: pd.DatetimeIndex, stamps_us: np.ndarray, bad_out: np.ndarray, n_out: np.ndarray) -> pd.DataFrame:
    """``bad_out``, ``n_out`` and the interval count ``n`` summed per day (``idx.floor("D")``):
    on a sorted UTC grid by ``np.add.reduceat`` over each day's run of rows, else a groupby."""
    frame = pd.DataFrame({"bad_out": bad_out, "n_out": n_out, "n": 1}, index=idx)
    if len(idx) == 0 or str(idx.tz) != "UTC" or not bool((np.diff(stamps_us) > 0).all()):
        return frame.groupby(idx.floor("D")).sum()
    day_us = 86_400_000_000
    day = stamps_us // day_us
    starts = np.concatenate(([0], np.flatnonzero(np.diff(day)) + 1))
    days = pd.DatetimeIndex(pd.to_datetime(day[starts] * day_us, unit="us", utc=True)).as_unit(idx.unit)
    return pd.DataFrame(
        {
            "bad_out": np.add.reduceat(bad_out.astype(np.int64), starts),
            "n_out": np.add.reduceat(n_out.astype(np.int64), starts),
            "n": np.diff(np.append(starts, len(day))),
        },
        index=days,
    )


def fit_model(
    telemetry: pd.DataFrame,
    incidents: pd.DataFrame | None,
    spec: SLOSpec,
    *,
    counts: SliCounts | None = None,
    windows: pd.DataFrame | None = None,
) -> BurnModel:
    """Fit the burn model of one request-based SLO from telemetry and the incident log.

    History = the span of the journey's telemetry. Incidents counted for the rate are those
    concerning the journey (same journey or none recorded) that start inside the history.
    ``counts`` (the SLIs of ``telemetry``) and ``windows`` (:func:`incident_windows` of
    ``incidents``) may pass what the caller has computed already.
    """
    grid = (counts if counts is not None else SliCounts(telemetry))(spec)
    if grid.empty or grid["total"].sum() == 0:
        raise ValueError(f"SLO {spec.name}: no traffic for journey {spec.journey!r} in the telemetry")
    idx = pd.DatetimeIndex(grid.index)
    step = idx[1] - idx[0] if len(idx) > 1 else pd.Timedelta(minutes=1)
    minute = pd.Timedelta(minutes=1)
    h_start, h_end = idx[0], idx[-1] + step
    history_days = (h_end - h_start) / pd.Timedelta(days=1)
    per_min = grid["total"].sum() / ((h_end - h_start) / minute)
    window_days = max(math.ceil(spec.window / pd.Timedelta(days=1)), 1)
    budget = window_days * 1440.0 * spec.error_budget

    if windows is None:
        windows = incident_windows(incidents)
    windows = relevant(windows, spec.journey) if len(windows) else windows
    in_hist = windows[(windows["start"] >= h_start) & (windows["start"] < h_end)] if len(windows) else windows
    impact = incident_impact(in_hist, telemetry, spec, counts=grid) if len(in_hist) else None

    # background: per full day, bad events and minutes outside every incident window
    grid_us = to_us(idx)
    inside = np.zeros(len(idx) + 1, np.int64)
    if len(windows):
        lo = np.searchsorted(grid_us, to_us(windows["start"]), side="left")
        hi = np.searchsorted(grid_us, to_us(windows["end"]), side="left")
        np.add.at(inside, lo, 1)
        np.add.at(inside, hi, -1)
    outside = np.cumsum(inside)[:-1] == 0
    per_day = _daily_sums(idx, grid_us, np.where(outside, grid["bad"].to_numpy(), 0), outside.astype(int))
    full = per_day["n"] == round(pd.Timedelta(days=1) / step)
    quiet = per_day[full & (per_day["n_out"] == per_day["n"])]
    source = "quiet days"
    if len(quiet) >= MIN_QUIET_DAYS:
        bg = quiet["bad_out"].to_numpy() / per_min
    else:
        usable = per_day[(full if full.any() else True) & (per_day["n_out"] >= per_day["n"] / 2)]
        if usable.empty:
            usable = per_day[per_day["n_out"] > 0]
        intervals_per_day = pd.Timedelta(days=1) / step
        bg = (
            (usable["bad_out"] / usable["n_out"] * intervals_per_day).to_numpy() / per_min
            if len(usable)
            else np.zeros(1)
        )
        source = "every day's burn outside incident windows, scaled to a full day (fewer than 7 quiet days)"
    durations: tuple[float, ...] = ()
    intensities: tuple[float, ...] = ()
    detect: tuple[float, ...] = ()
    if impact is not None and len(impact):
        durations = tuple(float(x) for x in impact["duration_minutes"])
        intensities = tuple(float(x) for x in impact["intensity"])
        detect = tuple(float(x) for x in impact["detect_minutes"].astype("float64").fillna(np.inf))
    return BurnModel(
        slo=spec.name,
        window_days=window_days,
        budget_minutes=budget,
        incidents=len(in_hist),
        history_days=float(history_days),
        durations_minutes=durations,
        intensities=intensities,
        background_daily=tuple(float(x) for x in bg),
        background_source=source,
        detect_minutes=detect,
    )


def summarize(spec: SLOSpec, model: BurnModel, sim: Simulation) -> tuple[SLOForecast, np.ndarray]:
    """Exhaustion probability, day of exhaustion, consumption quantiles and fan of a run."""
    cum = sim.cumulative
    final = cum[:, -1]
    exhausted = final >= 1.0
    day = np.argmax(cum >= 1.0, axis=1) + 1
    fan = pd.DataFrame(
        np.quantile(cum, FAN_QUANTILES, axis=0).T,
        index=pd.RangeIndex(1, model.window_days + 1, name="day"),
        columns=[f"p{round(q * 100)}" for q in FAN_QUANTILES],
    )
    return SLOForecast(
        slo=spec.name,
        journey=spec.journey,
        target=spec.target,
        window_days=model.window_days,
        budget_minutes=model.budget_minutes,
        p_exhaust=float(exhausted.mean()),
        consumed=final,
        exhaustion_day_median=float(np.median(day[exhausted])) if exhausted.any() else None,
        fan=fan,
        model=model,
    ), final


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

    Parameters
    ----------
    telemetry : aggregated telemetry (``srekit.inputs.telemetry``), or None.
    incidents : canonical incident log, or None (then incidents are not modelled separately:
        every day of history is resampled as background, incidents included).
    specs : the SLOs (availability and latency SLOs with Occurrences budgeting are forecast).
    config : the service configuration (default window).
    rng : seeded generator; the same seed gives the same forecast.
    runs : simulated windows per SLO.
    what_ifs : counterfactual improvements evaluated with the same random draws.
    counts : the SLIs of ``telemetry`` when already measured elsewhere (:class:`srekit.analysis.incidents.SliCounts`).
    """
    questions: list[OpenQuestion] = []
    default_days = max(math.ceil(config.slo.window / pd.Timedelta(days=1)), 1)
    if telemetry is None or not len(specs):
        questions.append(
            OpenQuestion(
                "forecast_inputs",
                "Which request telemetry and SLOs should the budget forecast use?",
                "No telemetry or no SLOs were available, so no budget forecast was made.",
                SECTION,
            )
        )
        return BudgetForecast(
            runs=runs, window_days=default_days, per_slo=(), what_ifs=(), open_questions=tuple(questions)
        )
    if incidents is None or not len(incidents):
        questions.append(
            OpenQuestion(
                "forecast_incidents",
                "Is there an incident log for this service?",
                "Without incidents, every past day (incidents included) is resampled as background burn; the what-ifs then change nothing.",
                SECTION,
            )
        )
    per_slo: list[SLOForecast] = []
    results: list[WhatIfResult] = []
    log = incidents if incidents is not None and len(incidents) else None
    sli = counts if counts is not None else SliCounts(telemetry)
    windows: pd.DataFrame | None = None  # every incident's impact window, computed once
    requests: dict[str, Any] = {}  # total requests per journey
    for spec in specs:
        if spec.sli not in ("availability", "latency") or spec.budgeting != "Occurrences":
            questions.append(
                OpenQuestion(
                    f"forecast_skip_{spec.name}",
                    f"Should the {spec.sli} SLO {spec.name} ({spec.budgeting}) get a budget forecast?",
                    "Only request-based SLOs with Occurrences budgeting are forecast.",
                    SECTION,
                )
            )
            continue
        if spec.journey not in requests:
            requests[spec.journey] = telemetry.loc[telemetry["journey"] == spec.journey, "total"].sum()
        if requests[spec.journey] <= 0:
            questions.append(
                OpenQuestion(
                    f"forecast_journey_{spec.name}",
                    f"Where is the telemetry of journey {spec.journey!r}?",
                    f"No requests for {spec.journey!r} in the telemetry: SLO {spec.name} is not forecast.",
                    SECTION,
                )
            )
            continue
        if windows is None:
            windows = incident_windows(log)
        model = fit_model(telemetry, log, spec, counts=sli, windows=windows)
        if model.incidents > 0 and not model.durations_minutes:
            questions.append(
                OpenQuestion(
                    f"forecast_impact_{spec.name}",
                    f"Which incidents affected journey {spec.journey!r}, and when did they end?",
                    "No incident could be measured on the telemetry, so incident impact is not modelled beyond the background.",
                    SECTION,
                )
            )
        sim = simulate(model, rng=rng, runs=runs, what_ifs=what_ifs)
        fc, final = summarize(spec, model, sim)
        per_slo.append(fc)
        base_p, base_min = fc.p_exhaust, float(final.mean() * model.budget_minutes)
        for wi in what_ifs:
            f2 = sim.what_if_final[wi.name]
            p2, m2 = float((f2 >= 1.0).mean()), float(f2.mean() * model.budget_minutes)
            results.append(WhatIfResult(spec.name, wi.name, wi.change, p2, p2 - base_p, m2, m2 - base_min))
    if per_slo and len({f.window_days for f in per_slo}) == 1:
        default_days = per_slo[0].window_days
    return BudgetForecast(
        runs=runs,
        window_days=default_days,
        per_slo=tuple(per_slo),
        what_ifs=tuple(results),
        open_questions=tuple(questions),
    )


def riskiest(forecast: BudgetForecast) -> SLOForecast | None:
    """The SLO most likely to run out of budget (ties: the larger expected use), or None."""
    if not forecast.per_slo:
        return None
    return max(forecast.per_slo, key=lambda f: (f.p_exhaust, float(f.consumed.mean())))
