"""What the forecast reports: per SLO the chance of exhausting the budget, consumption quantiles
and the fan chart; per what-if its effect (fields in ``docs/forecast.md``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from srekit.analysis.forecast.model import BurnModel, WhatIf
from srekit.analysis.forecast.simulate import Simulation
from srekit.core.questions import OpenQuestion
from srekit.core.spec import SLOSpec

FAN_QUANTILES = (0.1, 0.25, 0.5, 0.75, 0.9)


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
    """Result of :func:`srekit.analysis.forecast.analyze.forecast_budget`
    (``error_budget_policy.forecast`` in report.json)."""

    runs: int
    window_days: int
    per_slo: tuple[SLOForecast, ...]
    what_ifs: tuple[WhatIfResult, ...]
    open_questions: tuple[OpenQuestion, ...] = field(default=())
    skipped: tuple[tuple[str, str], ...] = ()  # (slo, why it is not forecast)

    def __post_init__(self) -> None:
        if self.runs < 1 or self.window_days < 1:
            raise ValueError("runs and window_days must be positive")

    def to_dict(self) -> dict[str, Any]:
        return {
            "runs": self.runs,
            "window_days": self.window_days,
            "per_slo": [f.to_dict() for f in self.per_slo],
            "what_ifs": [w.to_dict() for w in self.what_ifs],
            "skipped": [{"slo": slo, "reason": why} for slo, why in self.skipped],
            "model": {
                "arrival": "Poisson incidents per day; rate ~ Gamma(n + 0.5, history days) (Jeffreys prior), "
                "drawn once per run",
                "impact": "resampled (duration, intensity) pairs of past incidents measured on the telemetry; "
                "charged to the start day",
                "background": "bootstrap of whole quiet days (no incident); budget minutes = bad events / mean "
                "requests per minute",
                "per_slo": {f.slo: f.model.to_dict() for f in self.per_slo},
            },
        }


def summarize(spec: SLOSpec, model: BurnModel, sim: Simulation) -> SLOForecast:
    """Exhaustion probability, day of exhaustion, consumption quantiles and fan of a run."""
    cum = sim.cumulative
    final = cum[:, -1].copy()  # kept in the result: a view would keep every run's every day (runs × days)
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
    )


def what_if_results(forecast: SLOForecast, sim: Simulation, what_ifs: tuple[WhatIf, ...]) -> tuple[WhatIfResult, ...]:
    """Each what-if's chance of exhaustion and expected budget minutes, and their change from
    the baseline ``forecast`` (same random draws)."""
    budget = forecast.model.budget_minutes
    base_p, base_min = forecast.p_exhaust, float(forecast.consumed.mean() * budget)
    results = []
    for wi in what_ifs:
        final = sim.what_if_final[wi.name]
        p, minutes = float((final >= 1.0).mean()), float(final.mean() * budget)
        results.append(WhatIfResult(forecast.slo, wi.name, wi.change, p, p - base_p, minutes, minutes - base_min))
    return tuple(results)


def riskiest(forecast: BudgetForecast) -> SLOForecast | None:
    """The SLO most likely to run out of budget (ties: the larger expected use), or None."""
    if not forecast.per_slo:
        return None
    return max(forecast.per_slo, key=lambda f: (f.p_exhaust, float(f.consumed.mean())))
