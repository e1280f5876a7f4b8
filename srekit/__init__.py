"""srekit: turn an SRE team's own history into reliability decisions.

The public API. Analysis entry points are imported lazily (on first attribute access), so
``import srekit`` stays cheap for the CLI and for notebook kernels.
"""

from __future__ import annotations

import importlib
from typing import Any

from srekit.core.errors import ConfigError, InputError, ParameterError, SrekitError

__version__ = "0.1.0"

# name -> module that defines it (the CLI imports ``srekit.cli`` first; nothing heavy may load
# before its ``main`` runs, so that Ctrl-C during start-up is an interruption, not a traceback)
_LAZY = {
    "SLOSpec": "srekit.core.spec",
    "ServiceConfig": "srekit.inputs.config",
    "load_config": "srekit.inputs.config",
    "parse_config": "srekit.inputs.config",
    "LedgerEntry": "srekit.inputs.ledger",
    "Inputs": "srekit.inputs.loaders",
    "load_inputs": "srekit.inputs.loaders",
    "aggregate_files": "srekit.inputs.aggregate",
    "aggregate_frame": "srekit.inputs.aggregate",
    "read_requests": "srekit.inputs.aggregate",
    "pull_telemetry": "srekit.inputs.prometheus",
    "propose_slos": "srekit.analysis.slo.propose",
    "sli_events": "srekit.analysis.slo.events",
    "budget_policy": "srekit.analysis.budget",
    "error_budget": "srekit.analysis.budget",
    "design_policy": "srekit.analysis.alerting.policy",
    "analyze_alerting": "srekit.analysis.alerting.analyze",
    "explain": "srekit.analysis.explain",
    "export_all": "srekit.exports.bundle",
    "read_openslo_specs": "srekit.inputs.openslo",
    "analyze_incidents": "srekit.analysis.incidents.analyze",
    "forecast_budget": "srekit.analysis.forecast.analyze",
    "analyze_toil": "srekit.analysis.toil.analyze",
    "build_backlog": "srekit.analysis.backlog.build",
    "build_report": "srekit.report.cache",
    "ReliabilityReport": "srekit.report.contract",
    "run_report": "srekit.report.runner",
    "explorer": "srekit.report.explore",
    "write_samples": "srekit.inputs.samples",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'srekit' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


__all__ = ["ConfigError", "InputError", "ParameterError", "SrekitError", "__version__", *sorted(_LAZY)]
