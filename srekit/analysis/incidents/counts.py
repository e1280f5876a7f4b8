"""SLI counts of request SLOs, measured once per telemetry frame and shared by the incident
and forecast sections."""

from __future__ import annotations

from collections import OrderedDict

import numpy as np
import pandas as pd

from srekit.analysis.incidents.log import to_us
from srekit.analysis.slo.grid import GridSettings, journey_grid
from srekit.core.spec import SLOSpec
from srekit.inputs import buckets as bk
from srekit.inputs import telemetry as tm


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


def _empty() -> pd.DataFrame:
    return pd.DataFrame(
        {"total": pd.Series([], dtype="int64"), "bad": pd.Series([], dtype="int64")},
        index=pd.DatetimeIndex([], tz="UTC", name="interval_start"),
    )


class SliCounts:
    """The per-interval SLI counts of request SLOs on one telemetry frame, as
    :func:`srekit.analysis.incidents.impact.incident_impact` and
    :func:`srekit.analysis.forecast.fit.fit_model` read them: the journey's grid on its own
    interval (:func:`srekit.analysis.slo.grid.journey_grid`: the smallest spacing of its stamps,
    empty intervals as zero rows, long empty runs skipped as ``settings`` says; readers count
    time from the stamps, not the rows). Computed on first use per (journey, SLI, threshold); the
    last :attr:`KEEP` are kept, so the sections of a service with a few SLOs measure each once,
    and a service with hundreds of SLOs does not hold a grid per SLO (3 MB each over 90 days at
    1 minute) through the whole report. Callers must not modify the frames."""

    #: SLI count frames kept (least recently used dropped first).
    KEEP = 16

    def __init__(self, telemetry: pd.DataFrame, settings: GridSettings | None = None) -> None:
        self.telemetry = telemetry
        self.settings = settings or GridSettings()
        self._memo: OrderedDict[tuple[str, str, float | None], pd.DataFrame] = OrderedDict()
        self._rows: dict[str, slice | np.ndarray] | None = None  # journey_rows, on first use

    def __call__(self, spec: SLOSpec) -> pd.DataFrame:
        if spec.sli not in ("availability", "latency"):
            raise ValueError(f"SLI counts cover availability and latency SLOs, not {spec.sli!r}")
        if spec.sli == "latency" and spec.threshold_ms is None:
            raise ValueError("a latency SLI needs threshold_ms")
        key = (spec.journey, spec.sli, spec.threshold_ms)
        if key in self._memo:
            self._memo.move_to_end(key)
            return self._memo[key]
        if self._rows is None:
            self._rows = tm.journey_rows(self.telemetry)
        rows = self._rows.get(spec.journey, slice(0, 0))  # no rows: an empty part
        if isinstance(rows, slice):  # cut by the entries when the buckets are sparse
            part = bk.sliced(self.telemetry, *rows.indices(len(self.telemetry))[:2])
        else:
            part = self.telemetry.iloc[rows]
        grid = journey_grid(part, spec.journey, spec.sli, spec.threshold_ms, self.settings)
        self._memo[key] = counts = _empty() if grid is None else grid.events(spec.sli, spec.threshold_ms)
        if len(self._memo) > self.KEEP:
            self._memo.popitem(last=False)
        return counts
