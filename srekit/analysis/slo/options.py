"""SLO options with their trade-offs: relaxed / balanced / ambitious rungs on the ladder of
candidate targets, or the given SLOs evaluated on history.

Each option is judged on past SLO windows (:mod:`srekit.analysis.slo.history`); a window
counts as met when all its objectives held. The rules (balanced = the strictest target met in
≥ 90 % of past windows) are in docs/slo.md, "Options (when no target is given)"; the error
budget trade-off follows the Google SRE Workbook, chapter 2 "Implementing SLOs".
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from srekit.analysis.slo.events import grid_events, sli_events
from srekit.analysis.slo.grid import GridSettings, JourneyGrid, check_intervals
from srekit.analysis.slo.history import JourneyHistory, combined, consumed, past_windows, window_stats
from srekit.analysis.slo.results import (
    MIN_HISTORY_WINDOWS,
    RUNGS,
    Objective,
    SloOption,
    WindowStats,
    too_little_history,
)
from srekit.core.spec import SLOSpec
from srekit.core.timeutil import format_duration

MET_SHARE = 0.9  # a target is "defensible" when it held in ≥ 90 % of past SLO windows
LATENCY_ANCHOR = 0.99  # the balanced latency objective promises this share of fast requests


def _ladder_index(targets: Sequence[float], met: Sequence[float]) -> int:
    """Balanced rung: the strictest target that held in ≥ MET_SHARE of past windows (the
    loosest candidate when none did)."""
    ok = [i for i, m in enumerate(met) if m >= MET_SHARE]
    return max(ok) if ok else 0


def _defensible_edge(consumed_per_edge: np.ndarray, has: np.ndarray) -> int:
    """Smallest edge whose objective held in ≥ MET_SHARE of windows (else the best edge)."""
    share = (consumed_per_edge[has] <= 1.0).mean(axis=0) if has.any() else np.zeros(consumed_per_edge.shape[1])
    hit = np.flatnonzero(share >= MET_SHARE)
    return int(hit[0]) if hit.size else int(np.argmax(share))


def _latency_anchor(targets: Sequence[float]) -> int:
    """The candidate target closest to LATENCY_ANCHOR (the balanced latency promise)."""
    return int(np.argmin([abs(t - LATENCY_ANCHOR) for t in targets]))


def _pct(x: float) -> str:
    return f"{x:.0%}"


def record_words(h: WindowStats, window: pd.Timedelta, history_days: float = 0.0) -> str:
    """How an objective fared on past windows, saying so when the history is too short to call
    it kept (fewer than ``MIN_HISTORY_WINDOWS`` windows' worth of days: overlapping windows share
    most of their days)."""
    w = format_duration(window)
    days = window / pd.Timedelta(days=1)
    if not too_little_history(history_days, days):
        return (
            f"it would have held in {_pct(h.windows_met)} of past {w} windows, typically using "
            f"{_pct(h.budget_consumed_median)} of the error budget (p90 {_pct(h.budget_consumed_p90)})"
        )
    span = f"{history_days:.0f} calendar day{'' if round(history_days) == 1 else 's'} of history"
    if history_days < days:
        record = f"over the whole {span}, shorter than one {w} window, it used {_pct(h.budget_consumed_median)} of "
        record += "the error budget" + ("" if h.windows_met >= 1 else " and missed")
    else:
        met = round(h.windows_met * h.windows)
        record = (
            f"it held in {met} of {h.windows} overlapping {w} windows of {span}, typically using "
            f"{_pct(h.budget_consumed_median)} of the error budget"
        )
    return f"{record} — too little history to call it kept"


#: How each option's trade-off sentence starts when the history is too short to judge it.
_LEADS = {"ambitious": "Strongest promise to users", "balanced": "Recommended as a start"}


#: How each option's trade-off sentence starts when the history is too short to judge it.
_LEADS = {"ambitious": "Strongest promise to users", "balanced": "Recommended as a start"}


def _tradeoff(rung: str, h: WindowStats, window: pd.Timedelta, history_days: float = 0.0) -> str:
    """One plain sentence on what an option trades, from its historical record."""
    record = record_words(h, window, history_days)
    if too_little_history(history_days, window / pd.Timedelta(days=1)):
        again = f"check it again with {format_duration(MIN_HISTORY_WINDOWS * window)} of history"
        return f"{_LEADS.get(rung, 'Easiest to keep')}: {record}; {again}."
    if rung == "ambitious":
        cost = (
            "expect release freezes and reliability work first"
            if h.windows_met < MET_SHARE
            else "little budget is left for risky releases"
            if h.budget_consumed_p90 > 0.5
            else "the history supports it, so this is the promise to grow into"
        )
        return f"Strongest promise to users: {record}; {cost}."
    if rung == "balanced":
        if h.windows_met >= MET_SHARE:
            return f"Recommended: {record}, a promise the service already keeps with room for normal releases."
        return f"Recommended as a start: {record}; even this was often missed, so reliability work comes first."
    return (
        f"Easiest to keep: {record}; releases can move fast, but users may notice errors or slowness "
        "before this SLO does."
    )


def _rung(h: JourneyHistory, rung: str, targets: Sequence[float], ai: int, li: int, window: pd.Timedelta) -> SloOption:
    """One rung: availability target ``targets[ai]`` (request journeys) and latency target
    ``targets[li]`` at its defensible edge."""
    has = h.has
    lat_t = targets[li]
    lat_all = consumed(h.win_total, h.win_bad_le, lat_t)
    e = _defensible_edge(lat_all, has)
    objectives, parts = [], []
    if h.kind == "latency":
        avail = consumed(h.win_total, h.win_errors, targets[ai])
        objectives.append(Objective("availability", targets[ai], window_stats(avail, has)))
        parts.append(avail)
    objectives.append(Objective(h.kind, lat_t, window_stats(lat_all[:, e], has), float(h.days.edges[e])))
    parts.append(lat_all[:, e])
    hist = combined(parts, has)
    n = float(len(h.days.index))
    return SloOption(
        h.journey,
        rung,
        tuple(objectives),
        hist,
        _tradeoff(rung, hist, window, n),
        rung == "balanced",
        n,
        window / pd.Timedelta(days=1),
    )


def rung_options(h: JourneyHistory, targets: Sequence[float], window: pd.Timedelta) -> list[SloOption]:
    """Relaxed / balanced / ambitious: one rung looser and stricter than balanced on the
    ladder of candidate targets. Availability: balanced is the strictest target that held in
    ≥ 90 % of past windows. Latency: balanced promises the target closest to 99 %, with the
    smallest bucket edge that held in ≥ 90 % of past windows at that target. Rungs repeating
    an option are dropped; a one-rung ladder's single option is balanced."""
    ts = sorted(targets)
    met = [window_stats(consumed(h.win_total, h.win_errors, t), h.has).windows_met for t in ts]
    b, a = _ladder_index(ts, met), _latency_anchor(ts)
    steps: dict[tuple[int, int], tuple[str, int, int]] = {}
    for step, rung in zip((-1, 0, 1), RUNGS, strict=True):
        ai, li = min(max(b + step, 0), len(ts) - 1), min(max(a + step, 0), len(ts) - 1)
        steps.setdefault((ai if h.kind == "latency" else -1, li), (rung, ai, li))
    options = [_rung(h, rung, ts, ai, li, window) for rung, ai, li in steps.values()]
    if not any(o.recommended for o in options):
        o = options[0]
        options[0] = SloOption(
            o.journey,
            "balanced",
            o.objectives,
            o.history,
            _tradeoff("balanced", o.history, window, o.history_days),
            True,
            o.history_days,
            o.window_days,
        )
    return options


def _spec_consumed(
    spec: SLOSpec,
    grid: JourneyGrid | None,
    series: pd.DataFrame | None,
    window: pd.Timedelta,
    window_kind: str,
    settings: GridSettings,
) -> tuple[np.ndarray, np.ndarray, int] | None:
    """Budget consumed by a given SLO in each past window, which windows had traffic and how many
    days of history they were cut from: its own events, summed per day (None when it has none or
    cannot be measured)."""
    if spec.sli == "timeslice" or grid is None:
        ev = sli_events(None, series, spec, settings=settings)
    else:
        try:
            ev = grid_events(grid, spec)
        except ValueError:  # threshold below the smallest edge: cannot be evaluated
            return None
    if ev.empty:
        return None
    daily = ev.groupby(pd.DatetimeIndex(ev.index).floor("D")).sum()
    days = int((daily.index.max() - daily.index.min()) // pd.Timedelta(days=1)) + 1
    check_intervals(days, settings.max_intervals, f"SLO {spec.name} per day", "check the stamps far from the rest")
    day_index = pd.date_range(daily.index.min(), daily.index.max(), freq="D")
    daily = daily.reindex(day_index, fill_value=0)
    windows = past_windows(day_index, window, window_kind)
    wt = windows.sums(daily["total"].to_numpy(float))
    return consumed(wt, windows.sums(daily["bad"].to_numpy(float)), spec.target), wt > 0, len(day_index)


def evaluate_specs(
    journey: str,
    specs: Sequence[SLOSpec],
    grid: JourneyGrid | None,
    series: pd.DataFrame | None,
    window: pd.Timedelta,
    window_kind: str,
    origin: str = "As configured",
    settings: GridSettings | None = None,
) -> SloOption | None:
    """How given SLOs would have fared together: option ``given`` (None when none of them can
    be measured on this history)."""
    objectives, parts = [], []
    has_all: np.ndarray | None = None
    days = 0
    for spec in specs:
        measured = _spec_consumed(spec, grid, series, window, window_kind, settings or GridSettings())
        if measured is None:
            continue
        c, has, n_days = measured
        days = max(days, n_days)
        objectives.append(Objective(spec.sli, spec.target, window_stats(c, has), spec.threshold_ms))
        if has_all is None or len(has_all) == len(has):
            parts.append(c)
            has_all = has if has_all is None else (has_all | has)
    if not objectives or has_all is None:
        return None
    hist = combined(parts, has_all)
    window_days = window / pd.Timedelta(days=1)
    if too_little_history(days, window_days):
        text = f"{origin}: together, {record_words(hist, window, days)}."
    else:
        text = (
            f"{origin}: these objectives would have held together in {_pct(hist.windows_met)} of past "
            f"{format_duration(window)} windows, typically using {_pct(hist.budget_consumed_median)} of the budget "
            f"(p90 {_pct(hist.budget_consumed_p90)})."
        )
    return SloOption(journey, "given", tuple(objectives), hist, text, True, float(days), window_days)
