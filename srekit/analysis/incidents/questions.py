"""The open questions of the incident section: each default taken that a person should confirm.
Each function returns the questions one check raises (none when there is nothing to ask)."""

from __future__ import annotations

from collections.abc import Mapping

import pandas as pd

from srekit.analysis.incidents.lifecycle import METRICS, DurationMetric
from srekit.analysis.incidents.log import HIGH_SEVERITIES, SECTION
from srekit.core.questions import OpenQuestion
from srekit.core.spec import SLOSpec

Questions = tuple[OpenQuestion, ...]

#: Asked when there is no incident log at all.
FIRST_POST_DETECTION = OpenQuestion(
    "detection_time",
    "The incident log comes from a public status page, which records no detection time: when did the team "
    "actually notice each incident (the first alert or page)?",
    "The first public post stands in for detection: the measure is shown as time to first public post, and no "
    "advice on detection speed is drawn from it.",
    SECTION,
)
NO_INCIDENT_LOG = OpenQuestion(
    "incident_log",
    "Where does the team record incidents (PagerDuty, Opsgenie, Statuspage, a spreadsheet)? "
    "Export it as data.incidents in service.yaml.",
    "No incident log was given (or it is empty): no lifecycle metrics; a postmortem template and an empty "
    "follow-up tracker are provided.",
    SECTION,
)


def censoring_time(df: pd.DataFrame, end: pd.Timestamp | None, as_of_given: bool) -> Questions:
    """Open incidents are censored at the log end unless the caller said when the log was taken."""
    n_open = int(df["resolved_at"].isna().sum())
    if not n_open or as_of_given:
        return ()
    when = end.isoformat() if end is not None else "the log end"
    return (
        OpenQuestion(
            "incident_censoring_time",
            f"Is {when} the time the incident log was exported?",
            f"{n_open} open incident(s) are right-censored at the latest timestamp in the log (Kaplan–Meier), "
            "not dropped.",
            SECTION,
        ),
    )


def missing_timestamps(not_measured: tuple[str, ...], backfilled: int = 0) -> Questions:
    """Stages that fewer than two incidents carry the timestamps of; ``backfilled``: incidents
    resolved the second they started, whose stamps are there but measure nothing."""
    if not not_measured:
        return ()
    cols = ", ".join(f"{METRICS[n][3]} ({METRICS[n][1]})" for n in not_measured)
    why = "Fewer than two incidents carry them, so these durations are not reported."
    if backfilled:
        why = (
            f"Fewer than two incidents carry them with a duration ({backfilled} of the log are back-filled records, "
            "resolved the second they started), so these durations are not reported."
        )
    return (
        OpenQuestion("incident_timestamps", f"Can the incident tool export these timestamps: {cols}?", why, SECTION),
    )


def zero_durations(metrics: Mapping[str, DurationMetric]) -> Questions:
    """Stages where more than a tenth of the durations are zero (likely back-filled records)."""
    return tuple(
        OpenQuestion(
            f"incident_zero_{name}",
            f"Are the {m.zero_excluded} incidents with a zero {m.label} back-filled records?",
            f"Zero {m.label} is treated as 'not recorded' and left out of the {m.label} statistics.",
            SECTION,
        )
        for name, m in metrics.items()
        if m.zero_excluded > 0.1 * (m.n + m.zero_excluded)
    )


def high_severities(df: pd.DataFrame) -> Questions:
    """Which severities need a postmortem (asked whenever the log records severities)."""
    if not df["severity"].notna().any():
        return ()
    seen = ", ".join(sorted(df["severity"].dropna().unique()))
    return (
        OpenQuestion(
            "high_severity",
            f"Which severities require a postmortem? ({seen} appear in the log.)",
            f"{' and '.join(HIGH_SEVERITIES)} require a postmortem.",
            SECTION,
        ),
    )


def budget_slos(telemetry: pd.DataFrame | None, specs: tuple[SLOSpec, ...]) -> Questions:
    """Telemetry but no SLOs: causes cannot be charged error-budget minutes."""
    if telemetry is None or len(specs):
        return ()
    return (
        OpenQuestion(
            "incident_budget_minutes",
            "Which SLOs should incidents be charged against?",
            "No SLOs were given, so causes are ranked by incident count, not by error-budget minutes.",
            SECTION,
        ),
    )


def detection_source(df: pd.DataFrame) -> Questions:
    """The log does not say how incidents were detected."""
    if not df["detection"].isna().all():
        return ()
    return (
        OpenQuestion(
            "detection_source",
            "How was each incident detected (alert, customer report, internal)?",
            "The log has no detection source, so the customer-detected share is unknown.",
            SECTION,
        ),
    )
