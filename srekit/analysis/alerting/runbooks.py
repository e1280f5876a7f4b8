"""The runbook of every alert: its file under the export folder and its URL (the alerts'
``runbook_url``). The runbooks' text is written by :mod:`srekit.exports.runbooks`."""

from __future__ import annotations

from collections.abc import Sequence

from srekit.analysis.alerting.policy import AlertPolicy
from srekit.core.files import safe_file_name
from srekit.inputs.config import ServiceConfig


def runbook_file(alert: str) -> str:
    """File name of an alert's runbook (``<AlertName>.md``, a safe file name), the target of
    ``runbook_url``."""
    return f"{safe_file_name(alert, fallback='alert')}.md"


def runbook_index(policies: Sequence[AlertPolicy], config: ServiceConfig) -> tuple[dict[str, str], ...]:
    """One entry per alert that is exported to Prometheus: alert, slo, journey, severity, file
    (under ``runbooks/``), url. Timeslice SLOs (a gauge series) have no Prometheus alert, so no
    runbook."""
    return tuple(
        {
            "alert": name,
            "slo": p.spec.name,
            "journey": p.spec.journey,
            "severity": severity,
            "file": f"runbooks/{runbook_file(name)}",
            "url": f"{config.alerting.runbook_base_url}{runbook_file(name)}",
        }
        for p in policies
        if p.spec.sli != "timeslice"
        for name, severity, _rules in p.alerts()
    )
