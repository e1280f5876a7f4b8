"""What the explorer prepares once per service (:func:`prepare_history`): every journey's request
telemetry on its regular grid, the usable gauge series, the incidents, the SLOs in force and the
time range of the data, plus the choices each journey offers (:meth:`ExploreHistory.kinds`,
:meth:`ExploreHistory.edges`)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType

import numpy as np
import pandas as pd

from srekit.analysis.slo.events import grid_interval, series_interval, usable_series
from srekit.analysis.slo.grid import JourneyGrid, journey_grids
from srekit.core.spec import SLOSpec
from srekit.inputs import telemetry as tm
from srekit.inputs.config import ServiceConfig
from srekit.inputs.corrections import Window

KINDS = ("availability", "latency", "timeslice")
#: Bucket edges a gauge series' threshold snaps to: the edges the threshold proposals bin it on.
SERIES_EDGES_MS = np.asarray(tm.DEFAULT_EDGES_MS)


@dataclass(frozen=True, slots=True)
class ExploreHistory:
    """A service's history, prepared for the explorer. ``end`` is the end of the data (the
    budget section's ``as_of``: the last interval's end over telemetry and series); ``start``
    the first interval start. Both are None when there is no telemetry and no series."""

    config: ServiceConfig
    grids: Mapping[str, JourneyGrid]
    series: Mapping[str, pd.DataFrame]  # journey -> usable samples (timestamp, value)
    series_frame: pd.DataFrame | None  # the whole series as loaded (what sli_events reads)
    incidents: pd.DataFrame | None
    slos: tuple[SLOSpec, ...]  # the SLOs in force (the report's), the explorer's starting points
    journeys: tuple[str, ...]
    start: pd.Timestamp | None
    end: pd.Timestamp | None
    corrections: tuple[Window, ...] = ()  # correction windows over the data (no firing counts there)

    def kinds(self, journey: str) -> tuple[str, ...]:
        """The SLI kinds the data supports for ``journey`` (empty: no data at all)."""
        grid = self.grids.get(journey)
        request = ("availability", "latency") if grid is not None and int(grid.total.sum()) > 0 else ()
        return request + (("timeslice",) if journey in self.series else ())

    def edges(self, journey: str, sli: str) -> np.ndarray:
        """Thresholds a ``sli`` SLO of ``journey`` can use: the histogram's bucket edges
        (latency), srekit's default edges (timeslice, as the threshold proposals), none else."""
        if sli == "latency" and journey in self.grids:
            return np.asarray(self.grids[journey].edges, dtype=float)
        return SERIES_EDGES_MS if sli == "timeslice" else np.zeros(0)

    def slo_for(self, journey: str, sli: str) -> SLOSpec | None:
        """The SLO in force for ``journey`` and ``sli`` (None when the report has none)."""
        return next((s for s in self.slos if s.journey == journey and s.sli == sli), None)


def prepare_history(
    telemetry: pd.DataFrame | None,
    series: pd.DataFrame | None,
    incidents: pd.DataFrame | None,
    config: ServiceConfig,
    slos: Sequence[SLOSpec] = (),
    *,
    grids: Mapping[str, JourneyGrid] | None = None,
    corrections: Sequence[Window] = (),
) -> ExploreHistory:
    """Everything the explorer reads, computed once: ``journey_grids(telemetry)`` (``grids``
    may pass it when the caller has it), each journey's usable series samples, the data range
    and the journeys to offer: those of the SLOs in force first, then the others by traffic,
    then series journeys, then journeys ``service.yaml`` names without any data. ``corrections``:
    the correction windows loading applied (the frames given are corrected already)."""
    tel = telemetry if telemetry is not None and not telemetry.empty else None
    by_journey = (grids if grids is not None else journey_grids(tel)) if tel is not None else {}
    samples = _series_samples(series)
    gauge = series if series is not None and not series.empty else None
    return ExploreHistory(
        config=config,
        grids=MappingProxyType(dict(by_journey)),
        series=MappingProxyType(samples),
        series_frame=series if samples else None,
        incidents=incidents,
        slos=tuple(slos),
        journeys=_journeys(by_journey, samples, config, slos),
        start=_data_start(tel, gauge),
        end=_data_end(tel, gauge),
        corrections=tuple(corrections),
    )


def _series_samples(series: pd.DataFrame | None) -> dict[str, pd.DataFrame]:
    """Each journey's usable samples (NaN and zero values are no data, as the SLO section reads them)."""
    if series is None or series.empty:
        return {}
    parts = {str(j): usable_series(series, str(j)) for j in sorted(series["journey"].astype(str).unique())}
    return {j: p for j, p in parts.items() if not p.empty}


def _journeys(
    grids: Mapping[str, JourneyGrid],
    samples: Mapping[str, pd.DataFrame],
    config: ServiceConfig,
    slos: Sequence[SLOSpec],
) -> tuple[str, ...]:
    by_traffic = sorted(grids, key=lambda j: (-int(grids[j].total.sum()), j))
    ordered = [s.journey for s in slos] + by_traffic + sorted(samples) + [j.name for j in config.journeys]
    return tuple(dict.fromkeys(ordered))


def _data_start(telemetry: pd.DataFrame | None, series: pd.DataFrame | None) -> pd.Timestamp | None:
    starts = []
    if telemetry is not None:
        starts.append(pd.Timestamp(telemetry["interval_start"].min()))
    if series is not None:
        starts.append(pd.Timestamp(series["timestamp"].min()))
    return min(starts) if starts else None


def _data_end(telemetry: pd.DataFrame | None, series: pd.DataFrame | None) -> pd.Timestamp | None:
    """The end of the data as the budget section takes it: the last interval's end."""
    ends = []
    if telemetry is not None:
        ends.append(pd.Timestamp(telemetry["interval_start"].max()) + grid_interval(telemetry["interval_start"]))
    if series is not None:
        ends.append(pd.Timestamp(series["timestamp"].max()) + series_interval(series["timestamp"]))
    return max(ends) if ends else None
