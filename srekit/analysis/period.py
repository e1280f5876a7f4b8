"""The analysed period: one time range every section of the report reads, each input's own
range, and what was clipped to make them agree.

The rule (docs/report-json.md, "meta.period"):

* the period is the range of the **telemetry** (first interval start to the end of the last
  interval) when there is telemetry; else the range of the **series** (first sample to the end
  of the last one); else the range of the **incident** log (first start to the last start or
  resolution); else (only toil, pages or deploys) the range all of them span together;
* telemetry is never clipped (it defines the period when present); every other input keeps
  the records that overlap the period: series samples and pages and deploys stamped inside it,
  incidents whose impact (start to resolution; an open one: start to the log's last stamp) overlaps it, toil days
  that overlap it. The rest are clipped and counted (before / after), never counted as missed
  incidents or as budget;
* an input that keeps nothing contributes nothing: an open question and a summary sentence say
  so (a 2014 latency series analysed with 2021 incidents is a mismatch, not a finding).

Pure: the frames come in, frozen values go out (the clipping happens in
:func:`clip_inputs`, which the report's :class:`~srekit.report.cache.Analysis` applies before any
section runs).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from srekit.core.questions import OpenQuestion
from srekit.core.timeutil import utc_series
from srekit.inputs import telemetry as tm
from srekit.inputs.corrections import Applied
from srekit.inputs.intervals import Interval, infer
from srekit.inputs.ledger import LedgerEntry

#: The kinds that can define the period, in order of preference.
BASES = ("telemetry", "series", "incidents")
#: Every kind with a time axis, in report order, and the column holding its time.
TIMED: Mapping[str, str] = {
    "telemetry": "interval_start",
    "series": "timestamp",
    "incidents": "started_at",
    "toil": "date",
    "alerts": "timestamp",
    "deploys": "timestamp",
}
#: How each kind is named in sentences.
NOUNS: Mapping[str, str] = {
    "telemetry": "telemetry intervals",
    "series": "series samples",
    "incidents": "incidents",
    "toil": "toil entries",
    "alerts": "pages",
    "deploys": "deploys",
}
LABELS: Mapping[str, str] = {
    "telemetry": "telemetry",
    "series": "series",
    "incidents": "incident log",
    "toil": "toil log",
    "alerts": "pages log",
    "deploys": "deploy log",
}
SECTION = "inputs"
#: Every stamp of an incident (the latest bounds how long an open incident is known to last).
INCIDENT_STAMPS = ("started_at", "detected_at", "acknowledged_at", "mitigated_at", "resolved_at")
DAY = pd.Timedelta(days=1)


@dataclass(frozen=True, slots=True)
class InputSpan:
    """One input's own range and what the period kept of it."""

    kind: str
    rows: int
    start: pd.Timestamp | None
    end: pd.Timestamp | None
    kept: int
    before: int = 0  # records entirely before the period
    after: int = 0  # records entirely after it

    def __post_init__(self) -> None:
        if min(self.rows, self.kept, self.before, self.after) < 0 or self.kept + self.before + self.after != self.rows:
            raise ValueError(f"{self.kind}: kept + before + after must equal rows ({self})")

    @property
    def clipped(self) -> int:
        return self.before + self.after

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "rows": self.rows,
            "start": _iso(self.start),
            "end": _iso(self.end),
            "kept": self.kept,
            "clipped_before": self.before,
            "clipped_after": self.after,
        }


@dataclass(frozen=True, slots=True)
class Period:
    """The analysed period (``start`` inclusive, ``end`` exclusive), what defines it, each
    input's span and the interval lengths of the measured inputs."""

    start: pd.Timestamp | None
    end: pd.Timestamp | None
    basis: str  # telemetry | series | incidents | other | none
    spans: tuple[InputSpan, ...] = ()
    intervals: Mapping[str, Interval] = field(default_factory=dict)
    open_questions: tuple[OpenQuestion, ...] = ()
    loadtests: int = 0  # load tests given (no time axis: never part of the period)

    def __post_init__(self) -> None:
        if (self.start is None) != (self.end is None):
            raise ValueError("a period has both ends or neither")
        if self.start is not None and self.end is not None and self.end < self.start:
            raise ValueError(f"the period ends before it starts: {self.start} .. {self.end}")

    @property
    def days(self) -> float | None:
        if self.start is None or self.end is None:
            return None
        return (self.end - self.start) / DAY

    def span(self, kind: str) -> InputSpan | None:
        return next((s for s in self.spans if s.kind == kind), None)

    @property
    def unused(self) -> tuple[InputSpan, ...]:
        """Inputs with rows of which the period kept none."""
        return tuple(s for s in self.spans if s.rows and not s.kept)

    @property
    def clipped(self) -> tuple[InputSpan, ...]:
        """Inputs the period clipped some (not all) records of."""
        return tuple(s for s in self.spans if s.clipped and s.kept)

    def to_dict(self) -> dict[str, Any]:
        return {
            "start": _iso(self.start),
            "end": _iso(self.end),
            "days": self.days,
            "basis": self.basis,
            "inputs": {s.kind: s.to_dict() for s in self.spans},
            "intervals": {k: v.to_dict() for k, v in self.intervals.items()},
            "clipped": {s.kind: s.clipped for s in self.spans if s.clipped},
            "loadtests": self.loadtests,
        }


def _iso(ts: pd.Timestamp | None) -> str | None:
    return None if ts is None or pd.isna(ts) else pd.Timestamp(ts).isoformat()


# ------------------------------------------------------------------------------ intervals


def intervals_of(inputs: Any) -> dict[str, Interval]:
    """The interval of the telemetry and of the series: declared (service.yaml, the file, the
    aggregation or pull step), else inferred from the spacing (telemetry: the smallest; series:
    the median), else assumed (one stamp)."""
    declared: Mapping[str, Interval] = getattr(inputs, "intervals", None) or {}
    out: dict[str, Interval] = {}
    for kind, rule in (("telemetry", "smallest"), ("series", "median")):
        frame = getattr(inputs, kind, None)
        if frame is None or frame.empty:
            continue
        out[kind] = declared.get(kind) or _inferred(frame, TIMED[kind], rule)
    return out


def _inferred(frame: pd.DataFrame, column: str, rule: str) -> Interval:
    """Per journey (a journey's stamps are its own grid), the smallest of the journeys' intervals."""
    stamps = frame[column]
    parts = tm.journey_rows(frame).values() if "journey" in frame.columns else [slice(None)]
    found = [infer(stamps.iloc[rows], rule="smallest" if rule == "smallest" else "median") for rows in parts]
    measured = [i for i in found if i.source == "inferred"]
    return min(measured, key=lambda i: i.length) if measured else found[0]


# ------------------------------------------------------------------------------ ranges


def own_range(kind: str, frame: pd.DataFrame, interval: Interval | None = None) -> tuple[pd.Timestamp, pd.Timestamp]:
    """An input's own range: first to last stamp, the end including the last interval (telemetry,
    series), the last resolution (incidents) or the last day (toil)."""
    stamps = pd.DatetimeIndex(frame[TIMED[kind]].dropna())
    start, end = stamps.min(), stamps.max()
    if interval is not None:
        end = end + interval.length
    elif kind == "incidents" and "resolved_at" in frame.columns and frame["resolved_at"].notna().any():
        end = max(end, pd.Timestamp(frame["resolved_at"].max()))
    elif kind == "toil":
        end = end + DAY
    return pd.Timestamp(start), pd.Timestamp(end)


def _basis(inputs: Any, intervals: Mapping[str, Interval]) -> tuple[str, pd.Timestamp | None, pd.Timestamp | None]:
    """Which input defines the period, and its range."""
    for kind in BASES:
        frame = getattr(inputs, kind, None)
        if frame is not None and len(frame) and frame[TIMED[kind]].notna().any():
            start, end = own_range(kind, frame, intervals.get(kind))
            return kind, start, end
    ranges = [
        own_range(kind, frame)
        for kind in TIMED
        if (frame := getattr(inputs, kind, None)) is not None and len(frame) and frame[TIMED[kind]].notna().any()
    ]
    if not ranges:
        return "none", None, None
    return "other", min(r[0] for r in ranges), max(r[1] for r in ranges)


# ------------------------------------------------------------------------------ clipping


def keep_mask(kind: str, frame: pd.DataFrame, start: pd.Timestamp, end: pd.Timestamp) -> tuple[np.ndarray, np.ndarray]:
    """Which records of ``frame`` the period ``[start, end)`` keeps, and which of the others lie
    before it (the rest lie after)."""
    t = utc_series(frame[TIMED[kind]])
    if kind == "incidents":
        # the impact overlaps the period: resolved on or after its start; an open incident is known to
        # last only until its log's last stamp (right-censored there), not forever
        resolved = pd.to_datetime(frame["resolved_at"], utc=True) if "resolved_at" in frame.columns else t
        before = (resolved.fillna(_log_end(frame)) < start).to_numpy(dtype=bool)
    elif kind == "toil":
        before = (t + DAY <= start).to_numpy(dtype=bool)
    else:
        before = (t < start).to_numpy(dtype=bool)
    after = (t >= end).to_numpy(dtype=bool)
    return ~(before | after), before


def _log_end(frame: pd.DataFrame) -> pd.Timestamp:
    """The last stamp anywhere in an incident log: how long its open incidents are known to last."""
    stamps = [pd.to_datetime(frame[c], utc=True).max() for c in INCIDENT_STAMPS if c in frame.columns]
    found = [x for x in stamps if not pd.isna(x)]
    return max(found) if found else pd.Timestamp.max.tz_localize("UTC")


def _span(kind: str, frame: pd.DataFrame, period: tuple[pd.Timestamp, pd.Timestamp] | None, interval: Any) -> InputSpan:
    start, end = own_range(kind, frame, interval) if frame[TIMED[kind]].notna().any() else (None, None)
    if period is None:
        return InputSpan(kind, len(frame), start, end, len(frame))
    keep, before = keep_mask(kind, frame, *period)
    return InputSpan(kind, len(frame), start, end, int(keep.sum()), int(before.sum()), int((~keep & ~before).sum()))


def _unused_question(span: InputSpan, basis: str, start: pd.Timestamp, end: pd.Timestamp) -> OpenQuestion:
    own = f"{_day(span.start)} to {_day(span.end)}" if span.start is not None and span.end is not None else "no dates"
    return OpenQuestion(
        f"period_mismatch:{span.kind}",
        f"The {LABELS[span.kind]} ({span.rows:,} {NOUNS[span.kind]}, {own}) does not overlap the analysed period "
        f"({_day(start)} to {_day(end)}, the range of the {LABELS.get(basis, basis)}): is it the right file for "
        "this service and time?",
        f"Left out of every section: none of its {NOUNS[span.kind]} is counted as an incident, page, budget or toil.",
        SECTION,
    )


def _interval_question(kind: str, interval: Interval) -> OpenQuestion:
    return OpenQuestion(
        f"interval:{kind}",
        f"The {LABELS[kind]} has a single {'interval start' if kind == 'telemetry' else 'sample time'}, so how long "
        f"each {'interval' if kind == 'telemetry' else 'sample'} lasts cannot be told from the spacing: how long "
        "is it?",
        f"Assumed {interval.words}; set data.{kind}_interval in service.yaml"
        + (" or add an interval_s or interval_end column" if kind == "telemetry" else "")
        + " to state it.",
        SECTION,
    )


def _day(ts: pd.Timestamp | None) -> str:
    return "–" if ts is None else pd.Timestamp(ts).tz_convert("UTC").strftime("%Y-%m-%d")


def analysed_period(inputs: Any) -> Period:
    """The analysed period of ``inputs`` (anything with the :class:`srekit.inputs.loaders.Inputs`
    frames and, optionally, its declared ``intervals``)."""
    intervals = intervals_of(inputs)
    basis, start, end = _basis(inputs, intervals)
    bounds = None if start is None or end is None or basis == "other" else (start, end)
    spans = tuple(
        _span(kind, frame, bounds, intervals.get(kind))
        for kind in TIMED
        if (frame := getattr(inputs, kind, None)) is not None
    )
    questions = [_unused_question(s, basis, start, end) for s in spans if s.rows and not s.kept and start and end]
    questions += [_interval_question(k, i) for k, i in intervals.items() if i.source == "assumed"]
    tests = len(getattr(inputs, "loadtests", ()) or ())
    return Period(start, end, basis, spans, intervals, tuple(questions), tests)


@dataclass(frozen=True, slots=True)
class AnalysedInputs:
    """The inputs every section reads: the loaded frames clipped to the analysed period (an
    input clipped to nothing is an empty frame, not ``None``: it was given), the ledger, the
    interval lengths and the load tests."""

    telemetry: pd.DataFrame | None
    series: pd.DataFrame | None
    incidents: pd.DataFrame | None
    toil: pd.DataFrame | None
    alerts: pd.DataFrame | None
    deploys: pd.DataFrame | None
    ledger: tuple[LedgerEntry, ...]
    intervals: Mapping[str, Interval] = field(default_factory=dict)
    loadtests: tuple[Any, ...] = ()
    corrections: Applied | None = None  # service.yaml corrections as loading applied them
    labels: pd.DataFrame | None = None  # telemetry per journey × label values (``Inputs.labels``), as it is


def clip_inputs(inputs: Any, period: Period) -> AnalysedInputs:
    """``inputs`` with every frame cut to ``period`` (:func:`keep_mask`); telemetry as it is."""
    frames: dict[str, pd.DataFrame | None] = {}
    for kind in TIMED:
        frame = getattr(inputs, kind, None)
        if (
            frame is None
            or kind == "telemetry"
            or period.start is None
            or period.end is None
            or period.basis == "other"
        ):
            frames[kind] = frame
            continue
        keep, _ = keep_mask(kind, frame, period.start, period.end)
        frames[kind] = frame if keep.all() else frame.loc[keep].reset_index(drop=True)
    return AnalysedInputs(
        **frames,
        ledger=tuple(getattr(inputs, "ledger", ())),
        intervals=dict(period.intervals),
        loadtests=tuple(getattr(inputs, "loadtests", ()) or ()),
        corrections=getattr(inputs, "corrections", None),
        labels=getattr(inputs, "labels", None),
    )
