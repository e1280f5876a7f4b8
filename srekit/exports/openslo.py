"""OpenSLO v1 export: an SLO and its burn-rate policy as SLI, SLO, AlertPolicy, AlertCondition
and AlertNotificationTarget documents (reading and checking OpenSLO is
:mod:`srekit.inputs.openslo`; every document written here passes its checks).
"""

from __future__ import annotations

import re
from typing import Any

import pandas as pd

from srekit.analysis.alerting.policy import AlertPolicy
from srekit.core.timeutil import format_duration
from srekit.inputs.config import ServiceConfig
from srekit.inputs.openslo import ANNOTATION_PREFIX, API_VERSION, DURATION_RE, TIME_ZONE_RE
from srekit.inputs.promql import exportable, sli_queries

# ------------------------------------------------------------------------------------ export


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
    :func:`read_openslo_specs` can read the SLO back losslessly.
    """
    spec = policy.spec
    service = openslo_name(config.service)
    slo_name = openslo_name(spec.name)
    sli_name = f"{slo_name}-sli"
    prom = config.prometheus
    annotations = {
        f"{ANNOTATION_PREFIX}journey": spec.journey,
        f"{ANNOTATION_PREFIX}sli": spec.sli,
        f"{ANNOTATION_PREFIX}name": spec.name,
    }
    if spec.threshold_ms is not None:
        annotations[f"{ANNOTATION_PREFIX}threshold-ms"] = f"{spec.threshold_ms:g}"
    if exportable(spec):
        bad, total = sli_queries(spec, prom, "1m")
        sli_spec: dict[str, Any] = {
            "ratioMetric": {
                "counter": True,
                "bad": {"metricSource": {"type": "Prometheus", "spec": {"query": bad}}},
                "total": {"metricSource": {"type": "Prometheus", "spec": {"query": total}}},
            }
        }
    else:
        sli_spec = {"thresholdMetric": {"metricSource": {"type": "series", "spec": {"journey": spec.journey}}}}
    sli_doc = {
        "apiVersion": API_VERSION,
        "kind": "SLI",
        "metadata": {"name": sli_name, "displayName": f"{spec.name} SLI"},
        "spec": {"description": f"{spec.sli} of journey {spec.journey}", **sli_spec},
    }
    objective: dict[str, Any] = {"displayName": spec.name, "target": spec.target}
    if spec.sli == "timeslice":
        objective.update({"op": "lte", "value": spec.threshold_ms})
    if spec.budgeting == "Timeslices":
        assert spec.timeslice_window is not None
        objective.update(
            {"timeSliceTarget": spec.timeslice_target, "timeSliceWindow": openslo_duration(spec.timeslice_window)}
        )
    time_window: dict[str, Any] = {"duration": openslo_duration(spec.window), "isRolling": True}
    if spec.window_kind == "calendar_month":
        time_window = {
            "duration": "1M",
            "isRolling": False,
            "calendar": {"startTime": "2020-01-01 00:00:00", "timeZone": _zone(config.timezone)},
        }
    targets: dict[str, dict[str, Any]] = {}
    for r in policy.rules:
        targets.setdefault(
            r.severity,
            {
                "apiVersion": API_VERSION,
                "kind": "AlertNotificationTarget",
                "metadata": {"name": f"{service}-{r.severity}"},
                "spec": {
                    "target": "pagerduty" if r.severity == "page" else "ticket-queue",
                    "description": f"{r.severity} notifications for {config.service}",
                },
            },
        )
    conditions: list[dict[str, Any]] = []
    alert_policies: list[dict[str, Any]] = []
    for r in policy.rules:
        cname = openslo_name(f"{spec.name}-{r.severity}-{format_duration(r.long_window)}")
        conditions.append(
            {
                "apiVersion": API_VERSION,
                "kind": "AlertCondition",
                "metadata": {"name": cname},
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
        )
        alert_policies.append(
            {
                "apiVersion": API_VERSION,
                "kind": "AlertPolicy",
                "metadata": {"name": f"{cname}-policy"},
                "spec": {
                    "description": f"{r.severity} when {cname} holds",
                    "alertWhenNoData": False,
                    "alertWhenResolved": True,
                    "alertWhenBreaching": True,
                    "conditions": [{"conditionRef": cname}],
                    "notificationTargets": [{"targetRef": f"{service}-{r.severity}"}],
                },
            }
        )
    slo_doc = {
        "apiVersion": API_VERSION,
        "kind": "SLO",
        "metadata": {"name": slo_name, "displayName": spec.name, "annotations": annotations},
        "spec": {
            "description": f"{spec.sli} SLO of {spec.journey}",
            "service": service,
            "indicatorRef": sli_name,
            "timeWindow": [time_window],
            "budgetingMethod": spec.budgeting,
            "objectives": [objective],
            "alertPolicies": [p["metadata"]["name"] for p in alert_policies],
        },
    }
    return [sli_doc, slo_doc, *targets.values(), *conditions, *alert_policies]


def _zone(tz: str) -> str:
    return tz if TIME_ZONE_RE.search(tz) else "Etc/UTC"
