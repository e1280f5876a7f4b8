"""SLI counts of request SLOs, measured once per telemetry frame and shared by the incident
and forecast sections."""

from __future__ import annotations

import numpy as np
import pandas as pd

from srekit.analysis.incidents.log import to_us
from srekit.core.spec import SLOSpec
from srekit.inputs.telemetry import sli_counts


def journey_step(telemetry: pd.DataFrame, journey: str) -> pd.Timedelta:
    """Aggregation interval of one journey: the smallest positive spacing of its
    ``interval_start`` (1 min when there is nothing to infer from). Same rule as
    ``telemetry.infer_interval``, on int64 stamps (no per-row Timestamp objects)."""
    stamps = telemetry.loc[telemetry["journey"] == journey, "interval_start"]
    us = np.sort(to_us(stamps))
    gaps = np.diff(us)
    gaps = gaps[gaps > 0]
    if gaps.size == 0:
        return pd.Timedelta(minutes=1)
    return pd.Timedelta(int(gaps.min()), unit="us")


class SliCounts:
    """The per-interval SLI counts of request SLOs on one telemetry frame, as
    :func:`srekit.analysis.incidents.impact.incident_impact` and
    :func:`srekit.analysis.forecast.fit.fit_model` read them: ``telemetry.sli_counts`` on the
    journey's own interval (:func:`journey_step`). Computed on first use per (journey, SLI,
    threshold) and kept, so sections measuring the same SLIs share them; callers must not
    modify the frames."""

    def __init__(self, telemetry: pd.DataFrame) -> None:
        self.telemetry = telemetry
        self._memo: dict[tuple[str, str, float | None], pd.DataFrame] = {}
        self._steps: dict[str, pd.Timedelta] = {}

    def __call__(self, spec: SLOSpec) -> pd.DataFrame:
        key = (spec.journey, spec.sli, spec.threshold_ms)
        if key not in self._memo:
            tel = self.telemetry
            if spec.journey not in self._steps:
                self._steps[spec.journey] = journey_step(tel, spec.journey)
            self._memo[key] = sli_counts(
                tel, spec.journey, spec.sli, threshold_ms=spec.threshold_ms, interval=self._steps[spec.journey]
            )
        return self._memo[key]
