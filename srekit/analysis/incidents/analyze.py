"""The incident-response entry point :func:`analyze_incidents` and its result
:class:`IncidentReport`: report section ``incident_response`` (fields in ``docs/incidents.md``)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import pandas as pd

from srekit.analysis.incidents import questions
from srekit.analysis.incidents.breakdowns import by_cause, by_detection, by_severity
from srekit.analysis.incidents.change import change_after_deploys
from srekit.analysis.incidents.counts import SliCounts
from srekit.analysis.incidents.impact import budget_minutes_by_incident, impact_windows
from srekit.analysis.incidents.lifecycle import METRICS, DurationMetric, lifecycle_metrics
from srekit.analysis.incidents.log import empty_log, log_end, prepare
from srekit.analysis.incidents.postmortems import (
    FOLLOW_UP_COLUMNS,
    FOLLOW_UP_LIMIT,
    empty_follow_up,
    follow_up,
    postmortem_status,
    postmortem_template,
)
from srekit.analysis.incidents.recommend import START_A_LOG, Recommendation, recommend
from srekit.core.questions import OpenQuestion
from srekit.core.spec import SLOSpec
from srekit.inputs.config import ServiceConfig


@dataclass(frozen=True, slots=True)
class IncidentReport:
    """Result of :func:`analyze_incidents` (report section ``incident_response``)."""

    incidents: int
    open_incidents: int
    as_of: pd.Timestamp | None
    metrics: dict[str, DurationMetric]
    not_measured: tuple[str, ...]
    severity: pd.DataFrame
    cause: pd.DataFrame
    detection: pd.DataFrame
    change: dict[str, Any] | None
    postmortems: dict[str, Any]
    recommendations: tuple[Recommendation, ...]
    postmortem_template: str
    follow_up: pd.DataFrame
    follow_up_total: int
    open_questions: tuple[OpenQuestion, ...] = field(default=())
    planned_incidents: tuple[str, ...] = ()  # inside maintenance windows: not counted above

    def __post_init__(self) -> None:
        if self.incidents < 0 or not 0 <= self.open_incidents <= self.incidents:
            raise ValueError("incident counts out of range")
        if not self.postmortem_template.strip():
            raise ValueError("a postmortem template is always produced")
        if list(self.follow_up.columns) != list(FOLLOW_UP_COLUMNS):
            raise ValueError("follow-up tracker has unexpected columns")

    def to_dict(self) -> dict[str, Any]:
        breakdowns: dict[str, Any] = {
            "severity": _records(self.severity),
            "cause": _records(self.cause),
            "detection": _records(self.detection),
        }
        if self.change is not None:
            breakdowns["change"] = self.change
        return {
            "incidents": self.incidents,
            "open_incidents": self.open_incidents,
            "as_of": None if self.as_of is None else self.as_of.isoformat(),
            "metrics": {k: m.to_dict() for k, m in self.metrics.items()},
            "not_measured": list(self.not_measured),
            "breakdowns": breakdowns,
            "postmortems": dict(self.postmortems),
            "recommendations": [r.to_dict() for r in self.recommendations],
            "postmortem_template": self.postmortem_template,
            "follow_up": _records(self.follow_up),
            "follow_up_columns": list(FOLLOW_UP_COLUMNS),
            "follow_up_total": self.follow_up_total,
            "planned_incidents": list(self.planned_incidents),
        }


def _json_value(v: Any) -> Any:
    if v is None or v is pd.NA or v is pd.NaT:
        return None
    if isinstance(v, pd.Timestamp):
        return v.isoformat()
    if isinstance(v, pd.Timedelta):
        return float(v.total_seconds())
    if isinstance(v, np.bool_ | bool):
        return bool(v)
    if isinstance(v, np.integer):
        return int(v)
    if isinstance(v, np.floating | float):
        return None if not np.isfinite(v) else float(v)
    return v


def _records(df: pd.DataFrame) -> list[dict[str, Any]]:
    return [{str(k): _json_value(v) for k, v in row.items()} for row in df.to_dict(orient="records")]


#: The name of time to detect when the log's detection stamp is a status page's first post.
FIRST_POST = "time to first public post"


def _named_detection(
    metrics: dict[str, DurationMetric], advice: Sequence[Recommendation], first_post: bool
) -> tuple[dict[str, DurationMetric], tuple[Recommendation, ...]]:
    """With a status page's first public post as the detection stamp (Statuspage, Google Cloud
    status): the measure named for what it is, and no advice on detection speed drawn from it."""
    if not first_post:
        return metrics, tuple(advice)
    named = {**metrics, "ttd": replace(metrics["ttd"], label=FIRST_POST)} if "ttd" in metrics else metrics
    return named, tuple(r for r in advice if r.metric_to_track != "median time to detect")


def _without_log(config: ServiceConfig, *, given: bool = False) -> IncidentReport:
    """What the team gets without an incident log: a template, an empty tracker, one
    recommendation and the question where the log is. A log that was ``given`` but holds no
    incident of the analysed period gets neither the advice nor the question (the period's own
    question says why it is empty)."""
    empty = pd.DataFrame()
    return IncidentReport(
        incidents=0,
        open_incidents=0,
        as_of=None,
        metrics={},
        not_measured=tuple(METRICS),
        severity=empty,
        cause=empty,
        detection=empty,
        change=None,
        postmortems=postmortem_status(empty_log()),
        recommendations=() if given else (START_A_LOG,),
        postmortem_template=postmortem_template(config.service),
        follow_up=empty_follow_up(),
        follow_up_total=0,
        open_questions=() if given else (questions.NO_INCIDENT_LOG,),
    )


def _budget_minutes(
    df: pd.DataFrame,
    end: pd.Timestamp | None,
    telemetry: pd.DataFrame | None,
    specs: tuple[SLOSpec, ...],
    counts: SliCounts | None,
) -> pd.Series | None:
    """Error-budget minutes per incident id when telemetry and SLOs are both given, else None."""
    if telemetry is None or not len(specs):
        return None
    return budget_minutes_by_incident(impact_windows(df, end), telemetry, specs, counts=counts)


def analyze_incidents(
    incidents: pd.DataFrame | None,
    config: ServiceConfig,
    *,
    rng: np.random.Generator,
    telemetry: pd.DataFrame | None = None,
    specs: tuple[SLOSpec, ...] = (),
    deploys: pd.DataFrame | None = None,
    as_of: pd.Timestamp | None = None,
    counts: SliCounts | None = None,
    detection_from_first_post: bool = False,
    planned: Sequence[str] = (),
) -> IncidentReport:
    """Incident-response analysis of an incident log (``srekit.inputs.columns.INCIDENTS``).

    ``incidents``: the loaded log, or None when the team has none; ``config``: owners and
    service name; ``rng``: random generator for the bootstrap intervals; ``telemetry`` and
    ``specs``: when both are given, each cause's error-budget minutes are measured;
    ``deploys``: incidents within one hour after a deploy count as change-induced; ``as_of``:
    censoring time of open incidents (default: the latest stamp in the log); ``counts``: the
    SLIs of ``telemetry`` when already measured (:class:`SliCounts`); ``detection_from_first_post``:
    see :func:`_named_detection`. An empty log (nothing in the period) gets no "keep a log" advice.
    ``planned``: ids of planned maintenance (:mod:`.planned`), left out and listed as ``planned_incidents``.
    """
    if incidents is not None and len(planned):
        incidents = incidents[~incidents["id"].astype("str").isin(list(planned))]
    if incidents is None or len(incidents) == 0:
        return replace(_without_log(config, given=incidents is not None), planned_incidents=tuple(planned))
    df = prepare(incidents)
    end = as_of if as_of is not None else log_end(df)
    measured, not_measured = lifecycle_metrics(df, end, rng)
    cause = by_cause(df, end, _budget_minutes(df, end, telemetry, specs, counts))
    detection = by_detection(df, end)
    change = change_after_deploys(df, deploys) if deploys is not None and len(deploys) else None
    pms = postmortem_status(df)
    tracker = follow_up(df, config.owner_for("incidents"))
    metrics, advice = _named_detection(
        measured, recommend(measured, detection, cause, pms, change), detection_from_first_post
    )
    return IncidentReport(
        incidents=len(df),
        open_incidents=int(df["resolved_at"].isna().sum()),
        as_of=end,
        metrics=metrics,
        not_measured=not_measured,
        severity=by_severity(df, end),
        cause=cause,
        detection=detection,
        change=change,
        postmortems=pms,
        recommendations=advice,
        postmortem_template=postmortem_template(config.service),
        follow_up=tracker.head(FOLLOW_UP_LIMIT).reset_index(drop=True),
        follow_up_total=len(tracker),
        open_questions=_questions(df, end, as_of is not None, not_measured, metrics, telemetry, specs)
        + ((questions.FIRST_POST_DETECTION,) if detection_from_first_post else ()),
        planned_incidents=tuple(planned),
    )


def _questions(
    df: pd.DataFrame,
    end: pd.Timestamp | None,
    as_of_given: bool,
    not_measured: tuple[str, ...],
    metrics: dict[str, DurationMetric],
    telemetry: pd.DataFrame | None,
    specs: tuple[SLOSpec, ...],
) -> tuple[OpenQuestion, ...]:
    """The open questions the log raises (censoring, missing stamps, zero durations, …)."""
    return (
        *questions.censoring_time(df, end, as_of_given=as_of_given),
        *questions.missing_timestamps(not_measured, int((df["resolved_at"] == df["started_at"]).sum())),
        *questions.zero_durations(metrics),
        *questions.high_severities(df),
        *questions.budget_slos(telemetry, specs),
        *questions.detection_source(df),
    )
