"""The display layer: every worded table the report pages and report.md show, one function
each, built from the report.json sections (so every page shows report.json's figures).
One module per section; this package re-exports them as ``tables.<name>``."""

from __future__ import annotations

from srekit.report.tables.alerting import (
    alert_detection_table,
    alert_policy_table,
    backtest_table,
    existing_pages_table,
    incident_scope_table,
    incidents_not_scored_table,
    low_traffic_table,
    pages_per_week,
    policy_comparison_table,
    remedies_table,
    rules_missing,
    runbooks_table,
    warnings_text,
)
from srekit.report.tables.backlog import backlog_table
from srekit.report.tables.budget import actions_table, budget_consumed, budget_table, corrections_table
from srekit.report.tables.explain import explain_table
from srekit.report.tables.forecast import forecast_risk, forecast_table, model_table, what_if_table
from srekit.report.tables.format import empty_text, fmt_duration_s, fmt_pct, section_status
from srekit.report.tables.incidents import (
    cause_table,
    change_text,
    detection_table,
    follow_up_table,
    incident_count_text,
    incident_metrics_table,
    postmortem_text,
    recommendations_table,
    severity_table,
)
from srekit.report.tables.slo import (
    instrumentation_table,
    loadtest_table,
    options_table,
    sli_table,
    slo_table,
    threshold_table,
)
from srekit.report.tables.summary import (
    journeys_table,
    ledger_table,
    period_text,
    questions_table,
    ranges_table,
    series_table,
    summary_figures_table,
)
from srekit.report.tables.toil import candidates_table, toil_hours, toil_summary, toil_table
from srekit.report.tables.words import (
    alerting_intro,
    budget_intro,
    data_kinds,
    distribution_intro,
    forecast_intro,
    sli_intro,
    telemetry_intro,
    threshold_intro,
)

__all__ = [
    "alerting_intro",
    "budget_intro",
    "data_kinds",
    "distribution_intro",
    "forecast_intro",
    "sli_intro",
    "telemetry_intro",
    "threshold_intro",
    "incident_count_text",
    "rules_missing",
    "warnings_text",
    "empty_text",
    "period_text",
    "series_table",
    "loadtest_table",
    "policy_comparison_table",
    "fmt_duration_s",
    "fmt_pct",
    "section_status",
    "journeys_table",
    "ledger_table",
    "ranges_table",
    "questions_table",
    "summary_figures_table",
    "instrumentation_table",
    "options_table",
    "sli_table",
    "slo_table",
    "threshold_table",
    "actions_table",
    "budget_consumed",
    "budget_table",
    "corrections_table",
    "low_traffic_table",
    "remedies_table",
    "forecast_risk",
    "forecast_table",
    "model_table",
    "what_if_table",
    "alert_policy_table",
    "backtest_table",
    "incident_scope_table",
    "incidents_not_scored_table",
    "existing_pages_table",
    "alert_detection_table",
    "pages_per_week",
    "runbooks_table",
    "explain_table",
    "candidates_table",
    "toil_hours",
    "toil_summary",
    "toil_table",
    "cause_table",
    "change_text",
    "detection_table",
    "follow_up_table",
    "incident_metrics_table",
    "postmortem_text",
    "recommendations_table",
    "severity_table",
    "backlog_table",
]
