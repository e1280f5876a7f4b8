"""OpenSLO v1 export: an SLO and its burn-rate policy as SLI, SLO, AlertPolicy, AlertCondition
and AlertNotificationTarget documents (reading and checking OpenSLO is
:mod:`srekit.inputs.openslo`; every document written here passes its checks).
"""

from __future__ import annotations

import re
from typing import Any

import pandas as pd

from srekit.analysis.alerting.policy import AlertPolicy, BurnRateRule
from srekit.core.spec import SLOSpec
from srekit.core.timeutil import format_duration
from srekit.inputs.config import ServiceConfig
from srekit.inputs.openslo import ANNOTATION_PREFIX, API_VERSION, DURATION_RE, TIME_ZONE_RE
from srekit.inputs.promql import exportable, sli_queries


def openslo_name(text: str) -> str:
    """A valid OpenSLO name: lower case, other characters → ``-``."""
    out = re.sub(r"[^a-z0-9.-]+", "-", text.lower()).strip("-.")
    return out or "unnamed"


def openslo_duration(td: pd.Timedelta) -> str:
    """Duration shorthand (minutes at the finest; OpenSLO has no seconds)."""
    text = format_duration(td)
    if not DURATION_RE.match(text):
        raise ValueError(f"{td} cannot be written as an OpenSLO duration (whole minutes, hours or days)")
    return text


def openslo_documents(policy: AlertPolicy, config: ServiceConfig) -> list[dict[str, Any]]:
    """SLI, SLO, notification targets, one AlertCondition and one AlertPolicy per rule.

    The multiwindow rule maps to ``burnrate`` with ``lookbackWindow`` = long window and
    ``alertAfter`` = short window (OpenSLO has no second window; the short window is the
    closest meaning). srekit-specific facts are kept as ``srekit.dev/*`` annotations so
    :func:`srekit.inputs.openslo.read_openslo_specs` can read the SLO back losslessly.
    """
    spec = policy.spec
    service = openslo_name(config.service)
    conditions = [_alert_condition(spec, r) for r in policy.rules]
    alert_policies = [_alert_policy(service, _condition_name(spec, r), r) for r in policy.rules]
    slo = _slo_document(spec, config, service, [p["metadata"]["name"] for p in alert_policies])
    return [
        _sli_document(spec, config),
        slo,
        *_notification_targets(policy, config, service),
        *conditions,
        *alert_policies,
    ]


def _sli_document(spec: SLOSpec, config: ServiceConfig) -> dict[str, Any]:
    """The SLI: a ratio of the Prometheus bad and total queries, or the series of a timeslice SLI."""
    if exportable(spec):
        bad, total = sli_queries(spec, config.prometheus, "1m")
        sli_spec: dict[str, Any] = {
            "ratioMetric": {
                "counter": True,
                "bad": {"metricSource": {"type": "Prometheus", "spec": {"query": bad}}},
                "total": {"metricSource": {"type": "Prometheus", "spec": {"query": total}}},
            }
        }
    else:
        sli_spec = {"thresholdMetric": {"metricSource": {"type": "series", "spec": {"journey": spec.journey}}}}
    return {
        "apiVersion": API_VERSION,
        "kind": "SLI",
        "metadata": {"name": f"{openslo_name(spec.name)}-sli", "displayName": f"{spec.name} SLI"},
        "spec": {"description": f"{spec.sli} of journey {spec.journey}", **sli_spec},
    }


def _slo_document(spec: SLOSpec, config: ServiceConfig, service: str, alert_policies: list[str]) -> dict[str, Any]:
    """The SLO, with the ``srekit.dev/*`` annotations that make it read back unchanged."""
    slo_name = openslo_name(spec.name)
    annotations = {
        f"{ANNOTATION_PREFIX}journey": spec.journey,
        f"{ANNOTATION_PREFIX}sli": spec.sli,
        f"{ANNOTATION_PREFIX}name": spec.name,
    }
    if spec.threshold_ms is not None:
        annotations[f"{ANNOTATION_PREFIX}threshold-ms"] = f"{spec.threshold_ms:g}"
    return {
        "apiVersion": API_VERSION,
        "kind": "SLO",
        "metadata": {"name": slo_name, "displayName": spec.name, "annotations": annotations},
        "spec": {
            "description": f"{spec.sli} SLO of {spec.journey}",
            "service": service,
            "indicatorRef": f"{slo_name}-sli",
            "timeWindow": [_time_window(spec, config)],
            "budgetingMethod": spec.budgeting,
            "objectives": [_objective(spec)],
            "alertPolicies": alert_policies,
        },
    }


def _objective(spec: SLOSpec) -> dict[str, Any]:
    objective: dict[str, Any] = {"displayName": spec.name, "target": spec.target}
    if spec.sli == "timeslice":
        objective.update({"op": "lte", "value": spec.threshold_ms})
    if spec.budgeting == "Timeslices":
        assert spec.timeslice_window is not None
        objective.update(
            {"timeSliceTarget": spec.timeslice_target, "timeSliceWindow": openslo_duration(spec.timeslice_window)}
        )
    return objective


def _time_window(spec: SLOSpec, config: ServiceConfig) -> dict[str, Any]:
    """A rolling window of the SLO's duration, or the calendar month."""
    if spec.window_kind == "calendar_month":
        return {
            "duration": "1M",
            "isRolling": False,
            "calendar": {"startTime": "2020-01-01 00:00:00", "timeZone": _zone(config.timezone)},
        }
    return {"duration": openslo_duration(spec.window), "isRolling": True}


def _notification_targets(policy: AlertPolicy, config: ServiceConfig, service: str) -> list[dict[str, Any]]:
    """One AlertNotificationTarget per severity, in the order the rules first use them."""
    severities = dict.fromkeys(r.severity for r in policy.rules)
    return [
        {
            "apiVersion": API_VERSION,
            "kind": "AlertNotificationTarget",
            "metadata": {"name": f"{service}-{severity}"},
            "spec": {
                "target": "pagerduty" if severity == "page" else "ticket-queue",
                "description": f"{severity} notifications for {config.service}",
            },
        }
        for severity in severities
    ]


def _condition_name(spec: SLOSpec, r: BurnRateRule) -> str:
    return openslo_name(f"{spec.name}-{r.severity}-{format_duration(r.long_window)}")


def _alert_condition(spec: SLOSpec, r: BurnRateRule) -> dict[str, Any]:
    """The ``burnrate`` condition of one rule (long window as lookback, short window as alertAfter)."""
    return {
        "apiVersion": API_VERSION,
        "kind": "AlertCondition",
        "metadata": {"name": _condition_name(spec, r)},
        "spec": {
            "description": (
                f"Burn rate {r.burn_rate:.4g}x over {format_duration(r.long_window)} and "
                f"{format_duration(r.short_window)} ({r.budget_share:.0%} of the budget)"
            ),
            "severity": r.severity,
            "condition": {
                "kind": "burnrate",
                "op": "gt",
                "threshold": float(r.burn_rate),
                "lookbackWindow": openslo_duration(r.long_window),
                "alertAfter": openslo_duration(r.short_window),
            },
        },
    }


def _alert_policy(service: str, condition: str, r: BurnRateRule) -> dict[str, Any]:
    """The AlertPolicy of one condition (the schema allows one condition per policy)."""
    return {
        "apiVersion": API_VERSION,
        "kind": "AlertPolicy",
        "metadata": {"name": f"{condition}-policy"},
        "spec": {
            "description": f"{r.severity} when {condition} holds",
            "alertWhenNoData": False,
            "alertWhenResolved": True,
            "alertWhenBreaching": True,
            "conditions": [{"conditionRef": condition}],
            "notificationTargets": [{"targetRef": f"{service}-{r.severity}"}],
        },
    }


def _zone(tz: str) -> str:
    return tz if TIME_ZONE_RE.search(tz) else "Etc/UTC"
