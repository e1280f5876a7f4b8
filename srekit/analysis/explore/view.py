"""The explorer's middle stage: one journey's SLI events over the chosen history range
(:func:`sli_view`), computed once per journey, SLI kind, threshold and range and reused by every
change of objective, window or on-call coverage; and the latency distribution over the range
(:func:`latency_distribution`), once per journey, kind and range."""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from srekit.analysis.alerting.backtest import BASELINE_WINDOW
from srekit.analysis.alerting.events import events_per_hour, regularise, step_of
from srekit.analysis.alerting.matching import IncidentMatch, incident_impacts, logged_incidents
from srekit.analysis.alerting.pages import WEEK
from srekit.analysis.alerting.policy import policy_for
from srekit.analysis.alerting.replay import HOUR, WindowSums, window_sums
from srekit.analysis.explore.choice import Choice, ExploreError, choice_config, choice_spec
from srekit.analysis.explore.history import SERIES_EDGES_MS, ExploreHistory
from srekit.analysis.slo.events import grid_events, sli_events
from srekit.analysis.slo.grid import series_blocks
from srekit.core.errors import ConfigError
from srekit.core.spec import SLOSpec
from srekit.inputs.corrections import Window


@dataclass(frozen=True, slots=True)
class SliView:
    """One SLI's events over the history range (a regular grid, ``total``/``bad``; slices with
    Timeslices budgeting), their sums per UTC day (what past SLO windows are built from), their
    trailing sums over the alert windows (what the rules compare with their thresholds, for any
    objective), the typical events per hour (the alert policy's low-traffic check) and the
    incident impacts within the range, with how they are matched to the journey (``match``, as
    ``srekit analyze`` matches them) and how many incidents the log holds (``logged``)."""

    journey: str
    sli: str
    threshold_ms: float | None
    events: pd.DataFrame
    days: pd.DatetimeIndex
    day_total: np.ndarray
    day_bad: np.ndarray
    events_per_hour: float | None
    sums: WindowSums
    impacts: pd.DataFrame
    start: pd.Timestamp  # first interval start in the range
    end: pd.Timestamp  # end of the range (the budget's "now")
    match: IncidentMatch
    logged: int
    excluded: tuple[Window, ...] = ()  # the journey's correction windows (no firing counts there)

    @property
    def journey_impacts(self) -> pd.DataFrame:
        """The impacts that concern the journey (what the timeline shades)."""
        return self.impacts[self.match.concerns(self.impacts, self.journey)].reset_index(drop=True)

    @property
    def replay_end(self) -> pd.Timestamp:
        """The last evaluation of the replayed rules: the end of the last interval."""
        return pd.Timestamp(self.events.index[-1]) + step_of(self.events)

    @property
    def weeks(self) -> float:
        """Weeks of replayed history (at least a day, as the alerting section counts them)."""
        return max((self.replay_end - self.start) / WEEK, 1.0 / 7.0)


def view_key(choice: Choice) -> tuple[Hashable, ...]:
    """What a view depends on (of a checked choice): journey, kind, threshold and range."""
    return (choice.journey, choice.sli, choice.threshold_ms, choice.start, choice.end)


def sli_view(history: ExploreHistory, choice: Choice) -> SliView:
    """The view of a checked choice (:func:`~srekit.analysis.explore.choice.check_choice`).
    Raises :class:`ExploreError` when the journey has no events in the range."""
    assert choice.start is not None and choice.end is not None, "check the choice first"
    spec = choice_spec(history, choice)
    events = _in_range(_all_events(history, spec), choice.start, choice.end)
    if events.empty or int(events["total"].sum()) == 0:
        unit = "samples" if spec.sli == "timeslice" else "requests"
        raise ExploreError(
            f"Journey '{choice.journey}' has no {unit} between {choice.start:%Y-%m-%d %H:%M} and "
            f"{choice.end:%Y-%m-%d %H:%M} UTC. Widen the range or pick another journey."
        )
    days, day_total, day_bad = daily_sums(events)
    per_hour = events_per_hour(events)
    start = pd.Timestamp(events.index[0])
    last = pd.Timestamp(events.index[-1]) + step_of(events)
    impacts = incident_impacts(history.incidents, start, last)
    return SliView(
        journey=choice.journey,
        sli=choice.sli,
        threshold_ms=choice.threshold_ms,
        events=events,
        days=days,
        day_total=day_total,
        day_bad=day_bad,
        events_per_hour=per_hour,
        sums=window_sums(events, _alert_windows(history, choice, spec, per_hour)),
        impacts=impacts.reset_index(drop=True),
        start=start,
        end=choice.end,
        match=IncidentMatch.of(history.config),
        logged=logged_incidents(history.incidents),
        excluded=tuple(w for w in history.corrections if choice.journey in w.journeys),
    )


def _alert_windows(
    history: ExploreHistory, choice: Choice, spec: SLOSpec, per_hour: float | None
) -> list[pd.Timedelta]:
    """Every window a replay of this SLI compares: the rules' long and short windows (the same
    for any objective, SLO window or coverage), the burn episodes' hour and the Workbook
    baseline's 10 minutes."""
    try:
        rules = policy_for(spec, choice_config(history.config, choice), events_per_hour=per_hour).rules
    except ConfigError:  # e.g. an alert window longer than the SLO window: evaluate says so
        rules = ()
    return [*(w for r in rules for w in (r.long_window, r.short_window)), HOUR, BASELINE_WINDOW]


def _all_events(history: ExploreHistory, spec: SLOSpec) -> pd.DataFrame:
    """The SLI events of the whole history, as the budget and alerting sections read them:
    request SLIs from the journey's grid up to the end of the data; gauge SLIs from the series."""
    if spec.sli == "timeslice":
        return regularise(sli_events(None, history.series_frame, spec))
    grid = history.grids[spec.journey]
    assert history.end is not None
    return grid_events(grid, spec, end=history.end - grid.interval)


def _in_range(events: pd.DataFrame, start: pd.Timestamp, end: pd.Timestamp) -> pd.DataFrame:
    """Intervals starting in [start, end)."""
    idx = pd.DatetimeIndex(events.index)
    return events.iloc[int(idx.searchsorted(start, side="left")) : int(idx.searchsorted(end, side="left"))]


def daily_sums(events: pd.DataFrame) -> tuple[pd.DatetimeIndex, np.ndarray, np.ndarray]:
    """Valid and bad events per UTC day, every day from the first to the last (zero-filled):
    the days past SLO windows are made of, as the SLO section sums a given SLO's events."""
    daily = events.groupby(pd.DatetimeIndex(events.index).floor("D")).sum()
    days = pd.date_range(daily.index.min(), daily.index.max(), freq="D")
    daily = daily.reindex(days, fill_value=0)
    return days, daily["total"].to_numpy(float), daily["bad"].to_numpy(float)


def latency_distribution(
    history: ExploreHistory, journey: str, sli: str, start: pd.Timestamp, end: pd.Timestamp
) -> pd.DataFrame:
    """Share of events at or below each edge over [start, end): the journey's requests by
    latency bucket (availability and latency SLIs), or its gauge samples by value on the edges
    the timeslice threshold proposals use. Columns: edge_ms, cumulative_share, slower_share,
    events (all events in the range)."""
    if sli == "timeslice":
        part = history.series.get(journey)
        if part is None:
            return _shares(SERIES_EDGES_MS, np.zeros(len(SERIES_EDGES_MS)), 0.0)
        part = part[(part["timestamp"] >= start) & (part["timestamp"] < end)]
        if part.empty:
            return _shares(SERIES_EDGES_MS, np.zeros(len(SERIES_EDGES_MS)), 0.0)
        blocks = series_blocks(part, "D", SERIES_EDGES_MS)
        return _shares(SERIES_EDGES_MS, blocks.le.sum(axis=0), float(blocks.total.sum()))
    grid = history.grids[journey]
    lo = max(int(np.ceil((start - grid.start) / grid.interval)), 0)
    hi = min(max(int(np.ceil((end - grid.start) / grid.interval)), 0), len(grid.total))
    le = grid.le[lo:hi].sum(axis=0, dtype=np.int64) if hi > lo else np.zeros(len(grid.edges))
    return _shares(np.asarray(grid.edges, dtype=float), le, float(grid.total[lo:hi].sum()))


def _shares(edges: np.ndarray, at_or_below: np.ndarray, total: float) -> pd.DataFrame:
    share = at_or_below / total if total > 0 else np.zeros(len(edges))
    return pd.DataFrame(
        {
            "edge_ms": edges,
            "cumulative_share": share,
            "slower_share": 1.0 - share if total > 0 else np.zeros(len(edges)),
            "events": total,
        }
    )
