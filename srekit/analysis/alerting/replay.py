"""The rules replayed on history: when each would have fired (evaluated at the end of every
interval, as Prometheus would), its firing runs, and the budget-burn episodes the telemetry
shows on its own (the ground truth that does not come from the incident file)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from srekit.analysis.alerting.events import (
    events_per_hour,
    period_budget_events,
    regularise,
    sli_events,
    step_of,
    trailing,
)
from srekit.analysis.alerting.policy import AlertPolicy, BurnRateRule, design_policy, policy_for
from srekit.analysis.slo.grid import GridSettings, JourneyGrid, lookback
from srekit.core.limits import DEFAULT_LIMITS
from srekit.core.spec import SLOSpec
from srekit.inputs import telemetry as tm
from srekit.inputs.config import ServiceConfig
from srekit.inputs.corrections import Window, in_windows

HOUR = pd.Timedelta(hours=1)


def _rows(window: pd.Timedelta, step: pd.Timedelta) -> int:
    """Intervals of ``step`` in a trailing ``window`` (at least one)."""
    return max(int(round(window / step)), 1)


#: Trailing ``(bad, total)`` sums of an SLO's events per window length in rows: what every rule
#: compares with its threshold. They do not depend on the target, the SLO window or the
#: severities, so a caller replaying many objectives on the same events (the explorer) computes
#: them once (:func:`window_sums`) and passes them back.
WindowSums = Mapping[int, tuple[np.ndarray, np.ndarray]]


def window_sums(
    events: pd.DataFrame, windows: Iterable[pd.Timedelta], *, have: WindowSums | None = None
) -> dict[int, tuple[np.ndarray, np.ndarray]]:
    """Trailing bad and total sums of ``events`` over each window (keyed by its length in
    rows), from one cumulative sum; ``have``: sums of the same events computed before (only the
    missing windows are computed)."""
    step = step_of(events)
    out = dict(have or {})
    missing = {_rows(w, step) for w in windows} - out.keys()
    if missing:
        cs_bad = np.cumsum(events["bad"].to_numpy(dtype=np.int64))
        cs_tot = np.cumsum(events["total"].to_numpy(dtype=np.int64))
        out.update({n: (trailing(cs_bad, n), trailing(cs_tot, n)) for n in missing})
    return out


def replay(
    events: pd.DataFrame,
    rules: Sequence[BurnRateRule],
    *,
    error_budget: float | None = None,
    sums: WindowSums | None = None,
) -> pd.DataFrame:
    """Evaluate every rule at every interval of a regular event grid.

    Returns a boolean frame (one column per rule name) indexed by the evaluation time, the
    end of each interval (``interval_start + step``, when its counts are complete). A rule is
    true when both its long- and short-window request-weighted bad ratios exceed its
    threshold — ratios of trailing sums from one cumulative sum, never means of ratios (a
    single-window rule has its long window as its short one) — and its long window holds at least
    ``min_bad_events`` bad and ``min_events`` events (low-traffic remedies; 0 without). Rows whose long window reaches
    back before the data (the warm-up) never fire: a partial window of a few quiet minutes
    would make one stray error look like a burn. A rule with a pending time fires once its
    condition has held for it (Prometheus ``for:``); a rule with slo-generator's rounding
    decides on the rounded SLI and burn rate (``error_budget`` = 1 − target, else
    threshold / burn rate). ``sums``: :func:`window_sums` of these events computed before.
    """
    step = step_of(events)
    index = pd.DatetimeIndex(events.index + step, name="evaluated_at")
    if events.empty:
        return pd.DataFrame({r.name: pd.Series([], dtype=bool) for r in rules}, index=index)
    windows = [w for r in rules for w in (r.long_window, r.short_window, r.budget_window) if w is not None]
    sums = window_sums(events, windows, have=sums)
    cols = {}
    for r in rules:
        long_n, short_n = _rows(r.long_window, step), _rows(r.short_window, step)
        if r.budget_window is not None:
            fired = _exhausting(r, sums[long_n], sums[_rows(r.budget_window, step)], error_budget)
        else:
            fired = _exceeds(r, *sums[long_n], error_budget) & _exceeds(r, *sums[short_n], error_budget)
        fired &= _enough(r, *sums[long_n])
        fired[: long_n - 1] = False  # warm-up: long window not yet full
        cols[r.name] = _held(fired, _rows(r.pending, step) + 1 if r.pending > pd.Timedelta(0) else 1)
    return pd.DataFrame(cols, index=index)


def _exceeds(rule: BurnRateRule, bad: np.ndarray, total: np.ndarray, error_budget: float | None) -> np.ndarray:
    """Where the window's bad ratio is above the rule's threshold. With slo-generator's rounding:
    ``round(good / valid, sli_decimals)`` → burn rate ``(1 − SLI) / (1 − goal)`` rounded to
    ``burn_rate_decimals`` → ``> threshold`` (``slo_generator/report.py``, Python's ``round``);
    a window without events gives no report (MIN_VALID_EVENTS = 1), so no alert."""
    ratio = tm.ratio(bad, total)
    if rule.burn_rate_decimals is None and rule.sli_decimals is None:
        return ratio > rule.threshold
    budget = error_budget if error_budget is not None else rule.threshold / rule.burn_rate
    out = np.zeros(len(ratio), dtype=bool)
    near = np.flatnonzero((total > 0) & (ratio / budget > rule.burn_rate - 1.0))  # others cannot reach it
    for i in near:
        good = float(total[i] - bad[i]) / float(total[i])
        sli = round(good, rule.sli_decimals) if rule.sli_decimals is not None else good
        burn = (1.0 - sli) / budget
        out[i] = (
            round(burn, rule.burn_rate_decimals) if rule.burn_rate_decimals is not None else burn
        ) > rule.burn_rate
    return out


def _exhausting(
    rule: BurnRateRule,
    recent: tuple[np.ndarray, np.ndarray],
    period: tuple[np.ndarray, np.ndarray],
    error_budget: float | None,
) -> np.ndarray:
    """An exhaustion rule (:mod:`.exhaustion`): the budget left over the trailing budget window,
    ``R = max(0, 1 − ratio_P / b)``, would be gone within the rule's horizon at the burn rate of
    its long window: ``ratio_W > R × threshold`` (threshold = (P / horizon) × b), with some
    burn (``ratio_W > 0``). At a full budget it is a burn-rate rule of P / horizon."""
    budget = error_budget if error_budget is not None else rule.threshold / rule.burn_rate
    left = np.maximum(1.0 - tm.ratio(*period) / budget, 0.0)
    ratio = tm.ratio(*recent)
    return (ratio > left * rule.threshold) & (ratio > 0)


def _enough(rule: BurnRateRule, bad: np.ndarray, total: np.ndarray) -> np.ndarray:
    """The low-traffic guards of a rule (:mod:`.lowtraffic`): at least ``min_bad_events`` bad
    and ``min_events`` events in its long window (always true without them)."""
    return (bad >= rule.min_bad_events) & (total >= rule.min_events)


def _held(cond: np.ndarray, n: int) -> np.ndarray:
    """True where ``cond`` has been true for the last ``n`` evaluations in a row (``n`` = 1: itself)."""
    if n <= 1:
        return cond
    run = np.zeros(len(cond), dtype=np.int64)
    last_false = np.maximum.accumulate(np.where(~cond, np.arange(len(cond)), -1))
    run[:] = np.arange(len(cond)) - last_false
    return run >= n


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
    events: pd.DataFrame,
    spec: SLOSpec,
    *,
    window: pd.Timedelta = HOUR,
    min_share: float = 0.02,
    sums: WindowSums | None = None,
) -> pd.DataFrame:
    """Periods where telemetry shows a budget burn worth alerting on (ground truth that does
    not come from the incident file).

    An interval is *burning* when the trailing ``window`` burn rate exceeds 1 (faster than
    the budget allows, Workbook ch. 5); contiguous burning intervals form an episode, kept when
    its bad events spend at least ``min_share`` of the period's budget (default 2 %, the
    fastest page's share). Columns: start, end (evaluation times), bad, budget_share.
    ``sums``: :func:`window_sums` of these events computed before.
    """
    if events.empty:
        return _no_episodes()
    step = step_of(events)
    n = _rows(window, step)
    bad = events["bad"].to_numpy(dtype=np.int64)
    rate = tm.ratio(*window_sums(events, [window], have=sums)[n]) / spec.error_budget
    burning = pd.Series(rate > 1.0, index=pd.DatetimeIndex(events.index) + step)
    runs = firing_intervals(burning)
    if runs.empty:
        return _no_episodes()
    budget_events = period_budget_events(events, spec)
    cs = np.concatenate(([0], np.cumsum(bad)))
    at = burning.index
    # positions of the runs' stamps (all on the index): a binary search on the sorted grid
    find = at.searchsorted if at.is_monotonic_increasing and at.is_unique else at.get_indexer
    last = np.asarray(find(pd.DatetimeIndex(runs["end"]))) + np.where(runs["open"], 1, 0)  # exclusive
    # the first burning window reaches back n intervals (by time: a grid sized by the data may
    # skip empty intervals there), not before the first interval
    idx = pd.DatetimeIndex(events.index)
    reach_us = np.maximum(
        pd.DatetimeIndex(runs["start"]).as_unit("us").asi8 - n * (step.value // 1000), idx[0].value // 1000
    )
    reach = pd.DatetimeIndex(pd.to_datetime(reach_us, unit="us", utc=True))
    lo = np.asarray(idx.searchsorted(reach, side="left"))
    spent = cs[last] - cs[lo]
    share = spent / budget_events if budget_events > 0 else np.zeros(len(spent))
    out = pd.DataFrame(
        {
            "start": reach + step,
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
    sums: WindowSums | None = field(default=None, compare=False, repr=False)  # window_sums of the events, if kept
    excluded: tuple[Window, ...] = ()  # correction windows of the journey: no firing there, incidents inside not scored


def replay_slo(
    telemetry: pd.DataFrame | None,
    series: pd.DataFrame | None,
    spec: SLOSpec,
    config: ServiceConfig,
    *,
    grids: Mapping[str, JourneyGrid] | None = None,
    workbook: bool = False,
    excluded: Sequence[Window] = (),
) -> ReplayedSLO:
    """The policy in force for ``spec`` (imported, else the Workbook's, for its traffic) replayed
    on the SLO's SLI events; ``workbook=True`` replays the Workbook's policy even for an SLO
    with an imported one (the comparison next to it). The events are on a grid sized by the data
    (empty runs longer than every window read are skipped). ``excluded``: the correction windows of
    the SLO's journey, where no rule counts as firing (:func:`replay_policy`)."""
    events = sli_events(telemetry, series, spec, grids=grids, settings=GridSettings.of(config))
    eph = events_per_hour(events)
    step = data_interval(spec, events, grids)
    policy = (
        design_policy(spec, config, events_per_hour=eph, data_interval=step)
        if workbook
        else policy_for(spec, config, events_per_hour=eph, data_interval=step)
    )
    return replay_policy(policy, events, max_intervals=config.limits.max_intervals, excluded=excluded)


def data_interval(
    spec: SLOSpec, events: pd.DataFrame, grids: Mapping[str, JourneyGrid] | None = None
) -> pd.Timedelta | None:
    """How long one value of the SLO's data lasts: its journey grid's interval (request SLIs;
    declared, else inferred), else the spacing of its events (series samples, slices); ``None``
    when it cannot be told (no events, or one)."""
    grid = None if grids is None or spec.sli == "timeslice" else grids.get(spec.journey)
    if grid is not None and spec.budgeting != "Timeslices":
        return grid.interval
    return step_of(events) if len(events) > 1 else None


def replay_policy(
    policy: AlertPolicy,
    events: pd.DataFrame,
    *,
    sums: WindowSums | None = None,
    max_intervals: int = DEFAULT_LIMITS.max_intervals,
    excluded: Sequence[Window] = (),
) -> ReplayedSLO:
    """A designed or imported policy replayed on its SLO's SLI events (``sums``: their
    :func:`window_sums` computed before, kept for the backtest's baseline). A rule reading
    further back than the grid keeps after data (an imported policy's 4-day window) gets the
    skipped empty intervals back first (they are zeros), so its trailing sums are the dense
    grid's; sums computed on the sparser grid are then recomputed. ``excluded``: correction windows
    (maintenance, data loss, false positives): an evaluation of an interval inside one never fires,
    as the exported rules' ``unless srekit_maintenance`` (the events there are already cleared)."""
    spec = policy.spec
    longest = max(
        (w for r in policy.rules for w in (r.long_window, r.budget_window) if w is not None), default=pd.Timedelta(0)
    )
    look = lookback()
    if look is not None and longest > look:
        events = regularise(events, GridSettings((longest,), max_intervals))
        sums = None
    fired = replay(events, policy.rules, error_budget=spec.error_budget, sums=sums)
    hit = (
        in_windows(pd.DatetimeIndex(fired.index) - step_of(events), excluded) if len(excluded) and len(fired) else None
    )
    if hit is not None and hit.any():
        fired = fired.copy()
        fired.loc[hit] = False
    episodes = burn_episodes(events, spec, sums=sums)
    return ReplayedSLO(policy, events, fired, episodes, period_budget_events(events, spec), sums, tuple(excluded))
