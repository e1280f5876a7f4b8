"""Where the bad events came from, by label: each SLO's bad events split by the values of every
label column its telemetry carries (``region``, ``status_class``, ``endpoint``, what ``srekit
aggregate --by`` and ``prometheus.by`` keep), over the whole history and in the current budget
window (``error_budget_policy.breakdown`` in report.json, docs/slo.md "Broken down by label").

A request SLI's bad events per row are those of the SLO itself: ``errors`` for availability,
``total − le_T`` for latency (T snapped down to a bucket edge, as the budget counts them), so the
values of one label add up to the SLO's bad events. Series SLOs have no labels and no breakdown.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from srekit.core.spec import SLOSpec
from srekit.inputs import telemetry as tm


@dataclass(frozen=True, slots=True)
class LabelValue:
    """One value of a label: its events and bad events, its share of the SLO's bad events, and
    its own good ratio (how this slice alone fared)."""

    value: str
    events: int
    bad_events: int
    share: float | None  # of the SLO's bad events over the history; None without any
    good_ratio: float | None  # 1 − bad / events over the history; None without events
    events_window: int
    bad_events_window: int
    share_window: float | None

    def to_dict(self) -> dict[str, Any]:
        return {
            "value": self.value,
            "events": self.events,
            "bad_events": self.bad_events,
            "share": self.share,
            "good_ratio": self.good_ratio,
            "events_window": self.events_window,
            "bad_events_window": self.bad_events_window,
            "share_window": self.share_window,
        }


@dataclass(frozen=True, slots=True)
class Breakdown:
    """One SLO's bad events by the values of one label, the largest share of the window first."""

    slo: str
    journey: str
    label: str
    bad_events: int
    bad_events_window: int
    values: tuple[LabelValue, ...]

    def to_dict(self) -> dict[str, Any]:
        return {
            "slo": self.slo,
            "journey": self.journey,
            "label": self.label,
            "bad_events": self.bad_events,
            "bad_events_window": self.bad_events_window,
            "values": [v.to_dict() for v in self.values],
        }


def _share(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def _by_value(values: pd.Series, total: np.ndarray, bad: np.ndarray, in_window: np.ndarray) -> pd.DataFrame:
    """Sums per label value: events, bad, and the same inside the window."""
    sums = pd.DataFrame(
        {
            "value": values.to_numpy(),
            "events": total,
            "bad": bad,
            "events_window": np.where(in_window, total, 0),
            "bad_window": np.where(in_window, bad, 0),
        }
    )
    out = sums.groupby("value", sort=True).sum()
    return out.sort_values(["bad_window", "bad", "events"], ascending=False, kind="stable")


def _one_label(rows: pd.DataFrame, label: str, spec: SLOSpec, bad: np.ndarray, in_window: np.ndarray) -> Breakdown:
    total = rows["total"].to_numpy(dtype=np.int64)
    sums = _by_value(rows[label].astype("str"), total, bad, in_window)
    all_bad, window_bad = int(sums["bad"].sum()), int(sums["bad_window"].sum())
    values = tuple(
        LabelValue(
            str(value),
            int(r.events),
            int(r.bad),
            _share(int(r.bad), all_bad),
            None if r.events == 0 else 1 - int(r.bad) / int(r.events),
            int(r.events_window),
            int(r.bad_window),
            _share(int(r.bad_window), window_bad),
        )
        for value, r in sums.iterrows()
    )
    return Breakdown(spec.name, spec.journey, label, all_bad, window_bad, values)


def break_down(
    labelled: pd.DataFrame | None,
    spec: SLOSpec,
    *,
    window: tuple[pd.Timestamp, pd.Timestamp],
    end: pd.Timestamp,
) -> tuple[Breakdown, ...]:
    """The SLO's bad events by every label of ``labelled`` (telemetry per journey × label values ×
    interval, corrections applied), over the history before ``end`` and in ``window`` [start, end).
    Empty for series SLOs, for telemetry without labels and for a journey without rows; a label
    with one value for the journey (served from one region) is left out."""
    if labelled is None or spec.sli == "timeslice":
        return ()
    labels = tm.label_columns(labelled)
    mine = (labelled["journey"] == spec.journey).to_numpy(dtype=bool)
    sel = mine & (labelled["interval_start"] < end).to_numpy(dtype=bool)
    if not labels or not sel.any():
        return ()
    try:  # the buckets read for these rows only (held sparse, a mask of the frame would take them all)
        bad = tm.bad_counts(labelled, spec.sli, spec.threshold_ms, rows=sel)
    except ValueError:  # a threshold below the smallest edge: the budget says so already
        return ()
    rows = labelled[[*labels, "interval_start", "total"]][sel]
    stamps = rows["interval_start"]
    in_window = ((stamps >= window[0]) & (stamps < window[1])).to_numpy(dtype=bool)
    varied = [label for label in labels if rows[label].nunique() > 1]  # one value: nothing to split
    return tuple(_one_label(rows, label, spec, bad, in_window) for label in varied)


def top_sources(breakdowns: Sequence[Breakdown], slo: str) -> list[str]:
    """:func:`label_sentences` of :class:`Breakdown` results."""
    return label_sentences([b.to_dict() for b in breakdowns], slo)


def label_sentences(breakdowns: Sequence[Mapping[str, Any]], slo: str) -> list[str]:
    """Plain sentences naming, per label of ``slo``, the value that holds at least half of its bad
    events in the current window (over the history when the window has none), e.g. "62% of the
    bad events in the current window came from region eu-west-1". ``breakdowns``: the
    ``error_budget_policy.breakdown`` payload (what the backlog reads)."""
    out = []
    for b in breakdowns:
        values = [v for v in b.get("values") or [] if isinstance(v, Mapping)] if isinstance(b, Mapping) else []
        if len(values) < 2 or b.get("slo") != slo:
            continue
        key, where = (
            ("share_window", "in the current window") if b.get("bad_events_window") else ("share", "over the history")
        )
        share = values[0].get(key)
        if isinstance(share, int | float) and share >= 0.5:
            out.append(f"{share:.0%} of the bad events {where} came from {b.get('label')} {values[0].get('value')}")
    return out
