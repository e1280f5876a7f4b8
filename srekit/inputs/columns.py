"""Canonical in-memory columns of every input kind after loading (docs/inputs.md).

Loaders (``srekit.inputs.loaders``) produce exactly these columns (optional ones present and NA-filled when
the source lacks them); analyses rely on them. Times are ``datetime64[us, UTC]``.
"""

from __future__ import annotations

REQUESTS = ("timestamp", "latency_ms", "error", "journey")  # float ms, bool, str
SERIES = ("timestamp", "value", "journey")  # float value (e.g. mean or p95 latency ms)
INCIDENTS = (
    "id",
    "title",
    "started_at",
    "detected_at",
    "acknowledged_at",
    "mitigated_at",
    "resolved_at",
    "severity",
    "cause",
    "detection",
    "journey",
    "postmortem",
    "action_items_open",
    "action_items_closed",
)
INCIDENT_TIMES = ("started_at", "detected_at", "acknowledged_at", "mitigated_at", "resolved_at")
# severity: "SEV1" (worst) .. "SEV4"; detection: "alert" | "customer" | "internal" | NA;
# postmortem: "done" | "pending" | "none" | NA; action_items_*: Int64 (nullable)
TOIL = ("date", "task", "minutes", "category", "engineer", "automatable")
ALERTS = ("timestamp", "alert", "severity", "actionable", "incident_id")
# alerts.severity: "page" | "ticket" | other text; actionable: boolean (nullable)
DEPLOYS = ("timestamp", "result", "service")  # result: "success" | "rollback" | "failed"
