"""Process changes keyed to evidence, each with the metric that shows whether it worked (SRE
Workbook, "Incident Response" and "Postmortem Culture"; Davidovič 2021 for MTTx). The rules and
their thresholds are listed in ``docs/incidents.md``; each one is a function below returning the
recommendations it makes (none when the evidence is within its limit)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pandas as pd

from srekit.analysis.incidents.detectable import CONFIDENCE
from srekit.analysis.incidents.lifecycle import DurationMetric

# Evidence thresholds (stated in each recommendation's evidence text).
CUSTOMER_SHARE_LIMIT = 0.20
ACK_MEDIAN_LIMIT = pd.Timedelta(minutes=15)
DETECT_MEDIAN_LIMIT = pd.Timedelta(minutes=30)
CLOSURE_LIMIT = 0.70
DEPLOY_SHARE_LIMIT = 0.30
RECURRING_CAUSES_SHOWN = 3


@dataclass(frozen=True, slots=True)
class Recommendation:
    """A process change keyed to evidence, with the metric that shows whether it worked."""

    title: str
    evidence: str
    area: str
    metric_to_track: str

    def __post_init__(self) -> None:
        if not (self.title and self.evidence and self.area and self.metric_to_track):
            raise ValueError("a recommendation needs title, evidence, area and metric_to_track")

    def to_dict(self) -> dict[str, Any]:
        return {
            "title": self.title,
            "evidence": self.evidence,
            "area": self.area,
            "metric_to_track": self.metric_to_track,
        }


#: The one recommendation without an incident log.
START_A_LOG = Recommendation(
    "Start an incident log and write postmortems with the template below",
    "no incident history was provided, so detection, response and recurring causes cannot be measured.",
    "postmortems",
    "incidents logged with all lifecycle timestamps",
)

Recs = tuple[Recommendation, ...]


def _minutes(td: pd.Timedelta | float) -> str:
    s = td.total_seconds() if isinstance(td, pd.Timedelta) else float(td)
    return f"{s / 60:.0f} min" if s < 5400 else f"{s / 3600:.1f} h"


def customer_detection(detection: pd.DataFrame) -> Recs:
    """Too many incidents with a known detection source were reported by customers."""
    known = detection[detection["detection"] != "unknown"]
    total = int(known["count"].sum())
    if total <= 0:
        return ()
    cust = int(known.loc[known["detection"] == "customer", "count"].sum())
    share = cust / total
    if share < CUSTOMER_SHARE_LIMIT:
        return ()
    return (
        Recommendation(
            "Detect incidents before customers do: page on multi-window burn-rate alerts",
            f"{cust} of {total} incidents with a known detection source ({share:.0%}) were reported by customers "
            f"(limit {CUSTOMER_SHARE_LIMIT:.0%}).",
            "detection",
            "share of incidents detected by customers",
        ),
    )


def slow_detection(metrics: Mapping[str, DurationMetric]) -> Recs:
    """The median time to detect is over its limit."""
    m = metrics.get("ttd")
    if m is None or not m.median > DETECT_MEDIAN_LIMIT:
        return ()
    return (
        Recommendation(
            "Shorten detection: alert on the SLI (burn rate) rather than on causes",
            f"median time to detect is {_minutes(m.median)} over {m.n} incidents "
            f"(limit {_minutes(DETECT_MEDIAN_LIMIT)}).",
            "detection",
            "median time to detect",
        ),
    )


def slow_acknowledge(metrics: Mapping[str, DurationMetric]) -> Recs:
    """The median time to acknowledge is over its limit."""
    m = metrics.get("tta")
    if m is None or not m.median > ACK_MEDIAN_LIMIT:
        return ()
    return (
        Recommendation(
            "Fix paging and escalation: page the on-call directly and escalate after a fixed timeout",
            f"median time to acknowledge is {_minutes(m.median)} (p90 {_minutes(m.p90)}) over {m.n} incidents "
            f"(limit {_minutes(ACK_MEDIAN_LIMIT)}).",
            "oncall",
            "median and p90 time to acknowledge",
        ),
    )


def recurring_causes(cause: pd.DataFrame) -> Recs:
    """The costliest causes that happened more than once belong on the backlog."""
    repeats = cause[cause["repeat"]].head(RECURRING_CAUSES_SHOWN)
    return tuple(
        Recommendation(
            f"Put the recurring cause '{row['cause']}' on the reliability backlog",
            f"{int(row['count'])} incidents share this cause{_budget_note(row)}.",
            "backlog",
            f"incidents per quarter caused by '{row['cause']}'",
        )
        for _, row in repeats.iterrows()
    )


def _budget_note(row: pd.Series) -> str:
    if "budget_minutes" in row and row["budget_minutes"] > 0:
        return f", {row['budget_minutes']:.0f} budget minutes"
    return ""


def postmortem_coverage(postmortems: Mapping[str, Any]) -> Recs:
    """Serious incidents without a finished postmortem, or no postmortem status recorded at all."""
    p = postmortems
    if p["coverage"] is not None and p["coverage"] < 1.0:
        known = p["done"] + p["pending"] + p["none"]
        return (
            Recommendation(
                "Write a postmortem for every SEV1/SEV2 incident, using the template below",
                f"{p['done']} of {known} high-severity incidents with a known status have a finished postmortem.",
                "postmortems",
                "postmortem coverage of SEV1/SEV2 incidents",
            ),
        )
    if p["high_severity_incidents"] > 0 and p["coverage"] is None:
        return (
            Recommendation(
                "Record postmortems in one place with the template below and track them in the follow-up table",
                f"none of the {p['high_severity_incidents']} high-severity incidents records a postmortem status.",
                "postmortems",
                "postmortem coverage of SEV1/SEV2 incidents",
            ),
        )
    return ()


def action_item_closure(postmortems: Mapping[str, Any]) -> Recs:
    """Too few postmortem action items are closed."""
    p = postmortems
    if p["closure_rate"] is None or not p["closure_rate"] < CLOSURE_LIMIT:
        return ()
    return (
        Recommendation(
            "Review open postmortem action items weekly and give each an owner and a date",
            f"{p['action_items_closed']} of {p['action_items_open'] + p['action_items_closed']} action items are "
            f"closed ({p['closure_rate']:.0%}, limit {CLOSURE_LIMIT:.0%}).",
            "postmortems",
            "action-item closure rate",
        ),
    )


def change_induced(change: Mapping[str, Any] | None) -> Recs:
    """Too many incidents started shortly after a deploy."""
    if change is None or not change["share_after_deploy"] >= DEPLOY_SHARE_LIMIT:
        return ()
    return (
        Recommendation(
            "Make changes safer: canary or progressive rollouts with automatic rollback on burn rate",
            f"{change['incidents_after_deploy']} incidents ({change['share_after_deploy']:.0%}) started within "
            f"{change['lookback_minutes']:.0f} min after a deploy (limit {DEPLOY_SHARE_LIMIT:.0%}).",
            "change_management",
            "share of incidents that start after a deploy",
        ),
    )


def noisy_mean_time_to_resolve(metrics: Mapping[str, DurationMetric]) -> Recs:
    """The log is too small for a change in mean time to resolve to mean anything."""
    m = metrics.get("ttr")
    if m is None or not m.detectable_change >= 0.5 * m.mean:
        return ()
    return (
        Recommendation(
            "Do not steer by mean time to resolve; track error-budget minutes and incident counts",
            f"with {m.n} incidents and this spread, only a change of {_minutes(m.detectable_change)} in mean time "
            f"to resolve (mean {_minutes(m.mean)}) would be detectable at {CONFIDENCE:.0%} confidence "
            "(Davidovič 2021).",
            "metrics",
            "error-budget minutes per quarter",
        ),
    )


def recommend(
    metrics: Mapping[str, DurationMetric],
    detection: pd.DataFrame,
    cause: pd.DataFrame,
    postmortems: Mapping[str, Any],
    change: Mapping[str, Any] | None,
) -> Recs:
    """Every rule's recommendations, in the order of ``docs/incidents.md``."""
    return (
        *customer_detection(detection),
        *slow_detection(metrics),
        *slow_acknowledge(metrics),
        *recurring_causes(cause),
        *postmortem_coverage(postmortems),
        *action_item_closure(postmortems),
        *change_induced(change),
        *noisy_mean_time_to_resolve(metrics),
    )
