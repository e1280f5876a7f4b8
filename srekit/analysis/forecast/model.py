"""The inputs of the budget simulation: the fitted burn model of one SLO and the what-ifs.

All burn is in *budget minutes*: bad events ÷ mean requests per minute, so a window of W minutes
at target T has a budget of W·(1 − T) minutes (SRE Workbook, "Implementing SLOs"). Incidents
arrive as a Poisson process whose daily rate is uncertain: with n incidents in H days of history
and the Jeffreys prior, the rate's posterior is Gamma(n + ½, rate H) (Gelman et al., *Bayesian
Data Analysis*, 3rd ed., §2.6).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

RATE_PRIOR_SHAPE = 0.5  # Jeffreys prior for a Poisson rate
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
