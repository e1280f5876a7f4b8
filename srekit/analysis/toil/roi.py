"""Return on an automation under uncertainty: three-point (Beta-PERT) estimates, the
deterministic xkcd-1205 break-even and the Monte Carlo ROI (docs/toil.md, "Deterministic
break-even" and "Monte Carlo ROI")."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np


@dataclass(frozen=True, slots=True)
class Estimate:
    """A three-point estimate (low ≤ likely ≤ high), sampled as a PERT distribution."""

    low: float
    likely: float
    high: float

    def __post_init__(self) -> None:
        vals = (self.low, self.likely, self.high)
        if not all(math.isfinite(v) and v >= 0 for v in vals):
            raise ValueError(f"an estimate needs finite non-negative numbers, got {vals}")
        if not self.low <= self.likely <= self.high:
            raise ValueError(f"an estimate needs low ≤ likely ≤ high, got {vals}")

    def ppf(self, u: np.ndarray) -> np.ndarray:
        """Quantiles of the PERT distribution at probabilities ``u`` (inverse-CDF sampling).

        Beta-PERT (Malcolm, Roseboom, Clark & Fazar 1959; Vose, *Risk Analysis*, 2008):
        ``α = 1 + 4 (m − a)/(b − a)``, ``β = 1 + 4 (b − m)/(b − a)``, ``x = a + (b − a)·Beta(α, β)``.
        A degenerate estimate (low = high) is a constant.
        """
        u = np.asarray(u, dtype=float)
        span = self.high - self.low
        if span == 0:
            return np.full(u.shape, self.low)
        a = 1.0 + 4.0 * (self.likely - self.low) / span
        b = 1.0 + 4.0 * (self.high - self.likely) / span
        from scipy import stats  # lazy: report kernels only unpickle results

        return self.low + span * stats.beta.ppf(u, a, b)

    def to_dict(self) -> dict[str, float]:
        return {"low": float(self.low), "likely": float(self.likely), "high": float(self.high)}


@dataclass(frozen=True, slots=True)
class Roi:
    """Monte Carlo return on an automation over the horizon."""

    p_payback_within_horizon: float
    p_never_pays_back: float
    payback_weeks: tuple[float | None, float | None, float | None]  # p10, p50, p90; None = never
    net_hours_saved: tuple[float, float, float]  # p10, p50, p90
    runs: int

    def __post_init__(self) -> None:
        for name in ("p_payback_within_horizon", "p_never_pays_back"):
            v = getattr(self, name)
            if not 0.0 <= v <= 1.0:
                raise ValueError(f"{name} must be in [0, 1], got {v}")
        if self.runs < 1:
            raise ValueError("ROI needs at least one run")

    def to_dict(self) -> dict[str, Any]:
        keys = ("p10", "p50", "p90")
        return {
            "p_payback_within_horizon": float(self.p_payback_within_horizon),
            "p_never_pays_back": float(self.p_never_pays_back),
            "payback_weeks": {
                k: (None if v is None else float(v)) for k, v in zip(keys, self.payback_weeks, strict=True)
            },
            "net_hours_saved": {k: float(v) for k, v in zip(keys, self.net_hours_saved, strict=True)},
            "runs": int(self.runs),
        }


def break_even_hours(
    hours_per_week: float, reduction: float, maintenance_hours_per_week: float, horizon_weeks: float
) -> float:
    """Hours one can spend automating a task and still break even over the horizon.

    xkcd 1205 "Is It Worth the Time?": time saved per run × runs per period × horizon. Per week
    the task takes ``hours_per_week`` (minutes per occurrence × occurrences per week); the
    automation removes ``reduction`` of it and costs ``maintenance_hours_per_week`` to keep
    running, so ``break_even = max(0, (h × r − m) × horizon_weeks)``.
    """
    return max(0.0, (hours_per_week * reduction - maintenance_hours_per_week) * horizon_weeks)


def simulate_roi(
    hours_per_week: float,
    cost: Estimate,
    reduction: Estimate,
    maintenance: Estimate,
    horizon_weeks: float,
    u: np.ndarray,
) -> tuple[Roi, np.ndarray, np.ndarray]:
    """Monte Carlo ROI of one automation from uniform draws ``u`` (shape ``(runs, 3)``).

    Each run draws build cost ``C``, reduction ``r`` and maintenance ``m`` from their PERT
    distributions (columns 0, 1, 2 of ``u``, inverse-CDF, so runs are common random numbers
    across candidates and what-ifs). Net saving ``s = h·r − m`` hours per week; payback time
    ``C / s`` weeks (never when ``s ≤ 0``); net hours saved over the horizon ``s·H − C``.

    Returns the summary, the net-hours draws and the payback-weeks draws (``inf`` = never).
    """
    u = np.asarray(u, dtype=float)
    if u.ndim != 2 or u.shape[1] != 3 or u.shape[0] < 1:
        raise ValueError(f"u must have shape (runs, 3), got {u.shape}")
    c = cost.ppf(u[:, 0])
    r = reduction.ppf(u[:, 1])
    m = maintenance.ppf(u[:, 2])
    saved = hours_per_week * r - m
    with np.errstate(divide="ignore", invalid="ignore"):
        payback = np.where(saved > 0, c / np.where(saved > 0, saved, 1.0), np.inf)
    net = saved * horizon_weeks - c
    qs = [0.1, 0.5, 0.9]
    pq = np.quantile(payback, qs, method="inverted_cdf")
    nq = np.quantile(net, qs, method="inverted_cdf")
    roi = Roi(
        p_payback_within_horizon=float(np.mean(payback <= horizon_weeks)),
        p_never_pays_back=float(np.mean(~np.isfinite(payback))),
        payback_weeks=tuple(float(v) if np.isfinite(v) else None for v in pq),  # type: ignore[arg-type]
        net_hours_saved=(float(nq[0]), float(nq[1]), float(nq[2])),
        runs=int(u.shape[0]),
    )
    return roi, net, payback
