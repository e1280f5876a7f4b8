"""Who spent the budget: each SLO's bad events attributed by time to the incidents that concern
its journey, to the hour after each deploy, and to the background (neither), over the current
budget window and over the whole history (``error_budget_policy.attribution`` in report.json,
docs/slo.md "Who spent the budget").

An interval's bad events go to the incident whose impact (``started_at`` .. ``mitigated_at``,
else ``resolved_at``; open incidents run to the end of the data) holds the interval's start —
the earliest-starting one when impacts overlap — else to the latest deploy in the hour before
it, else to the background. An incident concerns an SLO when it names the SLO's journey, the
service itself, or no journey; a deploy's ``service`` is a deploying component, not a journey, so
every deploy counts for every SLO unless its ``service`` names one of the service's journeys.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Final

import numpy as np
import pandas as pd

from srekit.core.spec import SLOSpec

DEPLOY_HOUR = pd.Timedelta(hours=1)
#: A deploy hour is listed on its own when it holds at least this share of the SLO's bad events
#: (over the history or in the window); the others are summed into one ``other_deploys`` source.
LISTED_SHARE = 0.01
UTC: Final = "datetime64[us, UTC]"


@dataclass(frozen=True, slots=True)
class Source:
    """One place the bad events came from: an incident, a deploy's first hour, or the background."""

    kind: str  # incident | deploy | other_deploys | background
    id: str | None  # incident id, "<service> <time>" of a deploy, "<n> deploys"
    start: pd.Timestamp | None
    end: pd.Timestamp | None
    minutes: float  # history covered by it (intervals × step)
    events: int  # all events in those intervals ("requests" for request SLIs)
    bad_events: int
    share: float | None  # of the SLO's bad events over the history; None without any
    minutes_window: float
    events_window: int
    bad_events_window: int
    share_window: float | None  # of the bad events in the current budget window

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "id": self.id,
            "start": None if self.start is None else self.start.isoformat(),
            "end": None if self.end is None else self.end.isoformat(),
            "minutes": self.minutes,
            "events": self.events,
            "bad_events": self.bad_events,
            "share": self.share,
            "minutes_window": self.minutes_window,
            "events_window": self.events_window,
            "bad_events_window": self.bad_events_window,
            "share_window": self.share_window,
        }


@dataclass(frozen=True, slots=True)
class Attribution:
    """One SLO's bad events by source: the incidents that concern it, the deploy hours (large
    ones on their own, the rest summed), then the background; their minutes add up to the history's."""

    slo: str
    journey: str
    bad_events: int
    bad_events_window: int
    sources: tuple[Source, ...]

    def to_dict(self) -> dict[str, Any]:
        return {
            "slo": self.slo,
            "journey": self.journey,
            "bad_events": self.bad_events,
            "bad_events_window": self.bad_events_window,
            "sources": [s.to_dict() for s in self.sources],
        }


def _spans(
    incidents: pd.DataFrame | None,
    deploys: pd.DataFrame | None,
    spec: SLOSpec,
    service: str | None,
    journeys: Sequence[str],
    end: pd.Timestamp,
) -> pd.DataFrame:
    """The incidents that concern the SLO (by start) then the deploys (latest first: the most
    recent change wins), as kind, id, start, end."""
    parts = []
    if incidents is not None and len(incidents):
        inc = incidents[incidents["started_at"].notna()]
        j = inc["journey"] if "journey" in inc.columns else pd.Series(pd.NA, index=inc.index)
        mine = j.isna() | j.astype("str").isin([spec.journey, *([service] if service else [])])
        inc = inc[mine.to_numpy(dtype=bool)]
        stop = inc["resolved_at"].astype(UTC)
        if "mitigated_at" in inc.columns:
            mitigated = inc["mitigated_at"].astype(UTC)
            stop = mitigated.where(mitigated > inc["started_at"].astype(UTC), stop)
        frame = pd.DataFrame(
            {"kind": "incident", "id": inc["id"].astype("str"), "start": inc["started_at"].astype(UTC), "end": stop}
        )
        parts.append(frame.assign(end=frame["end"].fillna(end)).sort_values("start", kind="stable"))
    if deploys is not None and len(deploys):
        dep = deploys[deploys["timestamp"].notna()]
        svc = dep["service"].astype("str") if "service" in dep.columns else pd.Series("", index=dep.index)
        keep = ~svc.isin(list(journeys)) | (svc == spec.journey)
        dep = dep[keep.to_numpy(dtype=bool)]
        at = dep["timestamp"].astype(UTC)
        label = svc[keep.to_numpy(dtype=bool)].fillna("") + " " + at.dt.strftime("%Y-%m-%dT%H:%MZ")
        frame = pd.DataFrame({"kind": "deploy", "id": label.str.strip(), "start": at, "end": at + DEPLOY_HOUR})
        parts.append(frame.sort_values("start", ascending=False, kind="stable"))
    cols = {"kind": [], "id": [], "start": pd.Series([], dtype=UTC), "end": pd.Series([], dtype=UTC)}
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(cols)


def _owners(stamps: np.ndarray, spans: pd.DataFrame) -> np.ndarray:
    """Per interval start (µs): the row of ``spans`` that claims it first, −1 for none."""
    owner = np.full(len(stamps), -1, dtype=np.int64)
    starts = pd.DatetimeIndex(spans["start"]).as_unit("us").asi8
    ends = pd.DatetimeIndex(spans["end"]).as_unit("us").asi8
    for k in range(len(spans)):
        lo, hi = np.searchsorted(stamps, starts[k], "left"), np.searchsorted(stamps, ends[k], "left")
        part = owner[lo:hi]
        part[part < 0] = k
    return owner


def _sums(owner: np.ndarray, values: np.ndarray, n: int, mask: np.ndarray) -> np.ndarray:
    """Per owner (the last slot: background) the sum of ``values`` where ``mask``."""
    return np.bincount(np.where(owner < 0, n, owner)[mask], weights=values[mask], minlength=n + 1)


def _claimed(spans: pd.DataFrame, lo: int, hi: int, origin: int, step: int) -> np.ndarray:
    """Intervals each span claims first on the dense grid of ``step`` µs from ``origin``, counted
    between positions ``lo`` and ``hi`` (exclusive): what the grid would give with no run
    skipped (a grid sized by the data leaves long empty runs out, but they still pass in time)."""
    out = np.zeros(len(spans) + 1, dtype=np.float64)
    taken: list[tuple[int, int]] = []  # merged [a, b) positions already claimed
    starts = pd.DatetimeIndex(spans["start"]).as_unit("us").asi8
    ends = pd.DatetimeIndex(spans["end"]).as_unit("us").asi8
    for k in range(len(spans)):
        a = min(max(-(-(int(starts[k]) - origin) // step), lo), hi)
        b = min(max(-(-(int(ends[k]) - origin) // step), lo), hi)
        overlap = sum(max(0, min(b, y) - max(a, x)) for x, y in taken)
        out[k] = max(b - a - overlap, 0)
        if b > a:
            taken = _merge([*taken, (a, b)])
    out[-1] = (hi - lo) - out[:-1].sum()
    return out


def _merge(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    merged: list[tuple[int, int]] = []
    for a, b in sorted(spans):
        if merged and a <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], b))
        else:
            merged.append((a, b))
    return merged


def attribute(
    events: pd.DataFrame,
    spec: SLOSpec,
    *,
    window: tuple[pd.Timestamp, pd.Timestamp],
    incidents: pd.DataFrame | None,
    deploys: pd.DataFrame | None,
    service: str | None = None,
    journeys: Sequence[str] = (),
) -> Attribution:
    """``events`` (one SLO's ``total``/``bad`` per interval, corrected) attributed to sources.
    ``window``: the current budget window; ``service``: an incident naming it concerns every SLO;
    ``journeys``: a deploy whose ``service`` is one of them counts for that journey only.
    Minutes count the intervals of the dense grid from the first interval to the last."""
    idx = pd.DatetimeIndex(events.index)
    stamps = idx.as_unit("us").asi8
    step = int(np.diff(stamps).min()) if len(stamps) > 1 else 60_000_000
    end = idx[-1] + pd.Timedelta(step, unit="us") if len(idx) else window[1]
    spans = _spans(incidents, deploys, spec, service, journeys, end)
    owner = _owners(stamps, spans)
    bad, total = events["bad"].to_numpy(np.float64), events["total"].to_numpy(np.float64)
    inside = (stamps >= window[0].value // 1000) & (stamps < window[1].value // 1000)
    n, origin = len(spans), int(stamps[0]) if len(stamps) else 0
    count = int((int(stamps[-1]) - origin) // step) + 1 if len(stamps) else 0
    w_lo = min(max(-(-(window[0].value // 1000 - origin) // step), 0), count)
    w_hi = min(max(-(-(window[1].value // 1000 - origin) // step), 0), count)
    minutes = step / 60e6
    every = np.ones(len(stamps), dtype=bool)
    hist = [_sums(owner, bad, n, every), _sums(owner, total, n, every)]
    hist.append(_claimed(spans, 0, count, origin, step) * minutes)
    win = [_sums(owner, bad, n, inside), _sums(owner, total, n, inside)]
    win.append(_claimed(spans, w_lo, w_hi, origin, step) * minutes)
    all_bad, win_bad = int(hist[0].sum()), int(win[0].sum())
    listed, rest = _listed(spans, hist, win[0], all_bad, win_bad)
    sources = [_source(k, spans, hist, win, all_bad, win_bad) for k in listed]
    if rest:
        sources.append(_others(rest, hist, win, all_bad, win_bad))
    sources.append(_source(n, spans, hist, win, all_bad, win_bad))
    return Attribution(spec.name, spec.journey, all_bad, win_bad, tuple(sources))


def _listed(
    spans: pd.DataFrame, hist: list[np.ndarray], bad_win: np.ndarray, all_bad: int, win_bad: int
) -> tuple[list[int], list[int]]:
    """Sources listed on their own (every incident that covers part of the history, a bad event
    or not; deploy hours with at least :data:`LISTED_SHARE` of the bad events), and the other
    deploy hours (summed), so the minutes of all sources add up to the history's."""
    listed: list[int] = []
    rest: list[int] = []
    for k, kind in enumerate(spans["kind"]):
        if hist[2][k] <= 0:
            continue
        big = hist[0][k] >= LISTED_SHARE * max(all_bad, 1) or bad_win[k] >= LISTED_SHARE * max(win_bad, 1)
        (listed if kind == "incident" or (big and hist[0][k] > 0) else rest).append(k)
    return listed, rest


def _others(rest: list[int], hist: list[np.ndarray], win: list[np.ndarray], all_bad: int, win_bad: int) -> Source:
    """The deploy hours not listed on their own, as one source."""
    h, w = [float(a[rest].sum()) for a in hist], [float(a[rest].sum()) for a in win]
    return Source(
        "other_deploys",
        f"{len(rest)} deploy" + ("" if len(rest) == 1 else "s"),
        None,
        None,
        h[2],
        int(h[1]),
        int(h[0]),
        h[0] / all_bad if all_bad else None,
        w[2],
        int(w[1]),
        int(w[0]),
        w[0] / win_bad if win_bad else None,
    )


def _source(
    k: int, spans: pd.DataFrame, hist: list[np.ndarray], win: list[np.ndarray], all_bad: int, win_bad: int
) -> Source:
    background = k == len(spans)
    row = None if background else spans.iloc[k]
    return Source(
        kind="background" if row is None else str(row["kind"]),
        id=None if row is None else str(row["id"]),
        start=None if row is None else pd.Timestamp(row["start"]),
        end=None if row is None else pd.Timestamp(row["end"]),
        minutes=float(hist[2][k]),
        events=int(hist[1][k]),
        bad_events=int(hist[0][k]),
        share=float(hist[0][k] / all_bad) if all_bad else None,
        minutes_window=float(win[2][k]),
        events_window=int(win[1][k]),
        bad_events_window=int(win[0][k]),
        share_window=float(win[0][k] / win_bad) if win_bad else None,
    )
