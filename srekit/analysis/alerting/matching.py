"""Which incidents a backtest can score, and why the others are left out (``docs/alerting.md``,
"Which incidents are scored").

An incident's impact is ``started_at`` .. ``mitigated_at`` (else ``resolved_at``); open incidents
and impacts that run past the replayed range are censored at its end. An incident is scored for
a rule when

1. its impact overlaps the replayed range (else ``outside_range``);
2. it concerns the rule's SLO (:class:`IncidentMatch`): the same journey, no journey, or the
   name of the service itself (else ``other_journey``: an incident of another journey or
   service is no miss of this SLO);
3. its impact does not lie wholly inside a correction window of the SLO's journey (else
   ``corrected``: planned maintenance, lost telemetry or a known false positive,
   ``corrections:`` in service.yaml; the replay never fires there);
4. its impact has a duration (else ``zero_duration``: back-filled or unrecorded — GitHub's 836
   back-filled records start and end at the same second — so when users were hurt is unknown);
5. it started once the rule's long window was full of data (else ``before_rule_could_fire``:
   a rule cannot fire before its long window is full, so missing an incident that began earlier,
   before the replayed range included, is no fault of the rule).

Reasons are checked in that order; each incident gets the first that applies.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Final

import numpy as np
import pandas as pd

from srekit.inputs.columns import DEFAULT_JOURNEY
from srekit.inputs.corrections import Window

if TYPE_CHECKING:
    from srekit.inputs.config import ServiceConfig

UTC: Final = "datetime64[us, UTC]"

SCORED: Final = ""
OUTSIDE_RANGE: Final = "outside_range"
OTHER_JOURNEY: Final = "other_journey"
CORRECTED: Final = "corrected"
ZERO_DURATION: Final = "zero_duration"
BEFORE_RULE: Final = "before_rule_could_fire"
#: Why an incident was not scored, in the order they are checked (report.json keys).
REASONS: Final = (OUTSIDE_RANGE, OTHER_JOURNEY, CORRECTED, ZERO_DURATION, BEFORE_RULE)
#: The same in words (tables and the reasons of ``not_applicable`` figures).
REASON_WORDS: Final = {
    OUTSIDE_RANGE: "outside the replayed range",
    OTHER_JOURNEY: "of another journey or service",
    CORRECTED: "inside corrected time (maintenance, lost telemetry or a false positive in service.yaml corrections)",
    ZERO_DURATION: "with zero duration (back-filled or not recorded)",
    BEFORE_RULE: "started before the rule could fire (its long window was not yet full of data)",
}


def empty_impacts() -> pd.DataFrame:
    """The impact frame without rows (columns of :func:`incident_impacts`)."""
    return pd.DataFrame(
        {
            "id": pd.Series([], dtype="str"),
            "journey": pd.Series([], dtype="str"),
            "start": pd.Series([], dtype=UTC),
            "end": pd.Series([], dtype=UTC),
            "censored": pd.Series([], dtype=bool),
            "zero_duration": pd.Series([], dtype=bool),
            "recorded_delay": pd.Series([], dtype="timedelta64[us]"),
        }
    )


def _impact_end(inc: pd.DataFrame, start: pd.Series) -> pd.Series:
    """``mitigated_at`` when it is after the start, else ``resolved_at``: a mitigation stamped at
    the start means "not recorded" (as in the incident section's time to mitigate)."""
    end = inc["resolved_at"].astype(UTC)
    if "mitigated_at" in inc.columns:  # user impact ends at mitigation; resolution can come hours later
        mitigated = inc["mitigated_at"].astype(UTC)
        end = mitigated.where(mitigated > start, end)
    return end


def _recorded_delay(inc: pd.DataFrame, start: pd.Series) -> pd.Series:
    """``detected_at − started_at``; not recorded (NaT) anywhere when no incident of the log took
    a second to detect: the source stamps start and detection at one instant (PagerDuty and
    Opsgenie ``created_at``, Statuspage's default ``started_at``), as the incident section's time
    to detect."""
    none = pd.Series(pd.NaT, index=inc.index, dtype="timedelta64[us]")
    if "detected_at" not in inc.columns:
        return none
    recorded = inc["detected_at"].astype(UTC) - start
    return recorded if (recorded >= pd.Timedelta(seconds=1)).any() else none


def incident_impacts(incidents: pd.DataFrame | None, lo: pd.Timestamp, hi: pd.Timestamp) -> pd.DataFrame:
    """Impact windows of the incidents that overlap ``lo`` .. ``hi`` (the replayed range).
    Columns: id, journey (NA when unknown), start, end, censored (open, or still going at
    ``hi``: the end is ``hi``), zero_duration (ends when it starts, or before: the impact is
    unknown), recorded_delay (``detected_at − started_at``)."""
    if incidents is None or incidents.empty:
        return empty_impacts()
    inc = incidents[incidents["started_at"].notna()].reset_index(drop=True)
    start = inc["started_at"].astype(UTC)
    end = _impact_end(inc, start)
    zero = end.notna() & (end <= start)
    censored = end.isna() | (end > hi)
    end = end.fillna(hi)
    end = end.where(end <= hi, hi)
    end = end.where(end >= start, start)
    recorded = _recorded_delay(inc, start)
    journey = inc["journey"] if "journey" in inc.columns else pd.Series(pd.NA, index=inc.index)
    journey = journey.astype("str").where(journey.notna() & (journey.astype("str").str.strip() != ""))
    out = pd.DataFrame(
        {
            "id": inc["id"].astype("str"),
            "journey": journey,
            "start": start,
            "end": end,
            "censored": censored & ~zero,
            "zero_duration": zero,
            "recorded_delay": recorded,
        }
    )
    return out[(out["end"] >= lo) & (out["start"] <= hi)].reset_index(drop=True)


def logged_incidents(incidents: pd.DataFrame | None) -> int:
    """Incidents in the log with a start time (0 without a log)."""
    return 0 if incidents is None or incidents.empty else int(incidents["started_at"].notna().sum())


@dataclass(frozen=True, slots=True)
class IncidentMatch:
    """Which incidents concern an SLO's journey: the same journey, no journey (it may have hurt
    any), or the service's own name (it names the whole service). An SLO on
    :data:`~srekit.inputs.columns.DEFAULT_JOURNEY` (data without a journey: the whole service)
    is also concerned by incidents naming one of the service's configured ``journeys``."""

    service: str | None = None
    journeys: tuple[str, ...] = ()

    @classmethod
    def of(cls, config: ServiceConfig) -> IncidentMatch:
        """The matching of ``config``'s service: its name and configured journeys."""
        return cls(config.service, tuple(j.name for j in config.journeys))

    def names(self, journey: str) -> set[str]:
        """The incident journeys that concern ``journey`` (besides no journey at all)."""
        out = {journey} | ({self.service} if self.service else set())
        return out | set(self.journeys) if journey == DEFAULT_JOURNEY else out

    def concerns(self, impacts: pd.DataFrame, journey: str) -> np.ndarray:
        """Per impact row: does the incident concern ``journey``?"""
        j = impacts["journey"]
        known = j.notna().to_numpy(dtype=bool)
        text = j.astype("str").fillna("").to_numpy(dtype=object)
        return ~known | np.isin(text, sorted(self.names(journey)))


def rule_reasons(
    impacts: pd.DataFrame, relevant: np.ndarray, armed_at: pd.Timestamp, corrected: np.ndarray | None = None
) -> np.ndarray:
    """Per impact row, :data:`SCORED` or why a rule (armed from ``armed_at``, its first
    evaluation with a full long window) does not score it; ``corrected``: rows wholly inside a
    correction window of its journey (:func:`inside_windows`)."""
    zero = impacts["zero_duration"].to_numpy(dtype=bool)
    early = (impacts["start"] < armed_at).to_numpy(dtype=bool)
    out = np.full(len(impacts), SCORED, dtype=object)
    out[early] = BEFORE_RULE
    out[zero] = ZERO_DURATION
    if corrected is not None:
        out[corrected] = CORRECTED
    out[~relevant] = OTHER_JOURNEY
    return out


def inside_windows(impacts: pd.DataFrame, windows: Sequence[Window]) -> np.ndarray:
    """Per impact row: does its impact lie wholly inside one of ``windows``?"""
    out = np.zeros(len(impacts), dtype=bool)
    if not len(windows) or impacts.empty:
        return out
    start, end = pd.DatetimeIndex(impacts["start"]), pd.DatetimeIndex(impacts["end"])
    for w in windows:
        out |= np.asarray((start >= w.start) & (end <= w.end), dtype=bool)
    return out


def union_reasons(reasons: Sequence[np.ndarray], rows: int) -> np.ndarray:
    """Per impact row, the reason for a union of rules: scored when any of them scores it, else
    the reason of the rule that came closest (later in :data:`REASONS` is closer)."""
    order = (*REASONS, SCORED)
    if not reasons:
        return np.full(rows, OTHER_JOURNEY, dtype=object)
    rank = np.array([[order.index(str(x)) for x in r] for r in reasons], dtype=np.int64).reshape(len(reasons), rows)
    return np.array([order[i] for i in rank.max(axis=0)], dtype=object)


@dataclass(frozen=True, slots=True)
class IncidentScope:
    """How the incident log met the replayed range: incidents in the log (``None`` when the
    caller does not know it; 0 without a log), those overlapping the range, scored, and left
    out by reason."""

    logged: int | None
    in_range: int
    scored: int
    excluded: Mapping[str, int]

    def to_dict(self) -> dict[str, int | None]:
        out: dict[str, int | None] = {"incidents": self.logged, "in_range": self.in_range, "scored": self.scored}
        out[OUTSIDE_RANGE] = None if self.logged is None else self.logged - self.in_range
        out.update({r: self.excluded.get(r, 0) for r in REASONS if r != OUTSIDE_RANGE})
        return out

    def no_incident_reason(self) -> str:
        """Why nothing could be scored (the reason of a ``None`` recall or precision)."""
        if self.logged == 0:
            return "no incident log"
        if self.in_range == 0:
            return (
                "no incident in the replayed range"
                if self.logged is None
                else "no incident log overlaps the replayed range"
            )
        parts = [f"{n} {REASON_WORDS[r].split(' (')[0]}" for r, n in self.excluded.items() if n]
        return "no scorable incident in the replayed range (" + ", ".join(parts) + ")"


def scope(logged: int | None, reasons: np.ndarray) -> IncidentScope:
    """:class:`IncidentScope` of per-row reasons (:func:`rule_reasons`, :func:`union_reasons`)."""
    values = [str(x) for x in reasons]
    excluded = {r: values.count(r) for r in REASONS if r != OUTSIDE_RANGE}
    return IncidentScope(logged, len(values), values.count(SCORED), excluded)
