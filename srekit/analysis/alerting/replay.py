"""The rules replayed on history: when each would have fired (evaluated at the end of every
interval, as Prometheus would), its firing runs, and the budget-burn episodes the telemetry
shows on its own (the ground truth that does not come from the incident file)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from srekit.analysis.alerting.events import events_per_hour, period_budget_events, sli_events, step_of, trailing
from srekit.analysis.alerting.policy import AlertPolicy, BurnRateRule, design_policy
from srekit.core.spec import SLOSpec
from srekit.inputs import telemetry as tm
from srekit.inputs.config import ServiceConfig

if TYPE_CHECKING:
    from srekit.analysis.slo.grid import JourneyGrid

HOUR = pd.Timedelta(hours=1)


def _rows(window: pd.Timedelta, step: pd.Timedelta) -> int:
    """Intervals of ``step`` in a trailing ``window`` (at least one)."""
    return max(int(round(window / step)), 1)


def replay(events: pd.DataFrame, rules: Sequence[BurnRateRule]) -> pd.DataFrame:
    """Evaluate every rule at every interval of a regular event grid.

    Returns a boolean frame (one column per rule name) indexed by the evaluation time, the
    end of each interval (``interval_start + step``, when its counts are complete). A rule is
    true when both its long- and short-window request-weighted bad ratios exceed its
    threshold — ratios of trailing sums from one cumulative sum, never means of ratios. Rows
    whose long window reaches back before the data (the warm-up) never fire: a partial window
    of a few quiet minutes would make one stray error look like a burn.
    """
    step = step_of(events)
    index = pd.DatetimeIndex(events.index + step, name="evaluated_at")
    if events.empty:
        return pd.DataFrame({r.name: pd.Series([], dtype=bool) for r in rules}, index=index)
    cs_bad = np.cumsum(events["bad"].to_numpy(dtype=np.int64))
    cs_tot = np.cumsum(events["total"].to_numpy(dtype=np.int64))
    sizes = {_rows(w, step) for r in rules for w in (r.long_window, r.short_window)}
    ratios = {n: tm.ratio(trailing(cs_bad, n), trailing(cs_tot, n)) for n in sizes}
    cols = {}
    for r in rules:
        fired = (ratios[_rows(r.long_window, step)] > r.threshold) & (ratios[_rows(r.short_window, step)] > r.threshold)
        fired[: _rows(r.long_window, step) - 1] = False  # warm-up: long window not yet full
        cols[r.name] = fired
    return pd.DataFrame(cols, index=index)


def firing_intervals(fired: pd.Series) -> pd.DataFrame:
    """Contiguous firing runs of one boolean series → ``start`` (first true evaluation) and
    ``end`` (first false evaluation after it: the alert clears) plus ``open`` when it was still
    firing at the end of the data (then ``end`` is the last evaluation)."""
    a = fired.to_numpy(dtype=bool)
    idx = fired.index
    if a.size == 0 or not a.any():
        return pd.DataFrame(
            {
                "start": pd.Series([], dtype="datetime64[us, UTC]"),
                "end": pd.Series([], dtype="datetime64[us, UTC]"),
                "open": pd.Series([], dtype=bool),
            }
        )
    d = np.diff(np.concatenate(([0], a.astype(np.int8), [0])))
    starts = np.flatnonzero(d == 1)
    ends = np.flatnonzero(d == -1)  # index of first false row, may be len(a)
    is_open = ends >= len(a)
    end_idx = np.where(is_open, len(a) - 1, ends)
    return pd.DataFrame({"start": idx[starts], "end": idx[end_idx], "open": is_open})


def burn_episodes(
    events: pd.DataFrame, spec: SLOSpec, *, window: pd.Timedelta = HOUR, min_share: float = 0.02
) -> pd.DataFrame:
    """Periods where telemetry shows a budget burn worth alerting on (ground truth that does
    not come from the incident file).

    An interval is *burning* when the trailing ``window`` burn rate exceeds 1 (faster than
    the budget allows, Workbook ch. 5); contiguous burning intervals form an episode, kept when
    its bad events spend at least ``min_share`` of the period's budget (default 2 %, the
    fastest page's share). Columns: start, end (evaluation times), bad, budget_share.
    """
    if events.empty:
        return _no_episodes()
    step = step_of(events)
    n = _rows(window, step)
    bad = events["bad"].to_numpy(dtype=np.int64)
    tot = events["total"].to_numpy(dtype=np.int64)
    rate = tm.ratio(trailing(np.cumsum(bad), n), trailing(np.cumsum(tot), n)) / spec.error_budget
    burning = pd.Series(rate > 1.0, index=pd.DatetimeIndex(events.index) + step)
    runs = firing_intervals(burning)
    if runs.empty:
        return _no_episodes()
    budget_events = period_budget_events(events, spec)
    cs = np.concatenate(([0], np.cumsum(bad)))
    at = burning.index
    # positions of the runs' stamps (all on the index): a binary search on the sorted grid
    find = at.searchsorted if at.is_monotonic_increasing and at.is_unique else at.get_indexer
    first = np.asarray(find(pd.DatetimeIndex(runs["start"])))
    last = np.asarray(find(pd.DatetimeIndex(runs["end"]))) + np.where(runs["open"], 1, 0)  # exclusive
    lo = np.maximum(first - n + 1, 0)  # the first burning window reaches back n rows
    spent = cs[last] - cs[lo]
    share = spent / budget_events if budget_events > 0 else np.zeros(len(spent))
    out = pd.DataFrame(
        {
            "start": pd.DatetimeIndex(events.index)[lo] + step,
            "end": runs["end"].to_numpy(),
            "bad": spent.astype("int64"),
            "budget_share": share,
        }
    )
    return out[out["budget_share"] >= min_share].reset_index(drop=True)


def _no_episodes() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "start": pd.Series([], dtype="datetime64[us, UTC]"),
            "end": pd.Series([], dtype="datetime64[us, UTC]"),
            "bad": pd.Series([], dtype="int64"),
            "budget_share": pd.Series([], dtype=float),
        }
    )


@dataclass(frozen=True, slots=True)
class ReplayedSLO:
    """One SLO's policy replayed on its history: the SLI events, firings per rule and burn episodes."""

    policy: AlertPolicy
    events: pd.DataFrame
    fired: pd.DataFrame  # bool per rule name
    episodes: pd.DataFrame
    budget_events: float


def replay_slo(
    telemetry: pd.DataFrame | None,
    series: pd.DataFrame | None,
    spec: SLOSpec,
    config: ServiceConfig,
    *,
    grids: Mapping[str, JourneyGrid] | None = None,
) -> ReplayedSLO:
    """Design the policy of ``spec`` for its traffic and replay it on the SLO's SLI events."""
    events = sli_events(telemetry, series, spec, grids=grids)
    policy = design_policy(spec, config, events_per_hour=events_per_hour(events))
    return ReplayedSLO(
        policy, events, replay(events, policy.rules), burn_episodes(events, spec), period_budget_events(events, spec)
    )
