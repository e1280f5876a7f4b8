"""The Monte Carlo simulation of one SLO's next window (model in ``docs/forecast.md``).

* Each run draws its own incident rate from the Gamma posterior, then a Poisson count per day
  (the posterior predictive, a negative binomial).
* Each incident's impact is a resampled past (duration, intensity) pair; impact = duration ×
  intensity, charged to the day it starts.
* Background burn: resampled days of :attr:`BurnModel.background_daily` (bootstrap, Efron &
  Tibshirani 1993).
* What-ifs reuse the same random draws (common random numbers): fewer incidents thins each
  drawn incident with probability x; faster resolution scales durations by (1 − y); faster
  detection shortens each incident by z minutes, but never by more than that incident's own
  time to detect (nobody detects before the start) nor below zero.

Everything is vectorised over runs (no Python loop over runs); ``rng`` makes it deterministic.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from srekit.analysis.forecast.model import BurnModel, WhatIf


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
