"""srekit: turn an SRE team's own history into reliability decisions.

The public API. Analysis entry points are imported lazily (on first attribute access), so
``import srekit`` stays cheap for the CLI and for notebook kernels.
"""

from __future__ import annotations

import importlib
from typing import Any

from .config import ServiceConfig, load_config, parse_config
from .errors import ConfigError, InputError, ParameterError, SrekitError
from .ledger import LedgerEntry
from .spec import SLOSpec

__version__ = "0.1.0"

# name -> module that defines it
_LAZY = {
    "Inputs": "srekit.io",
    "load_inputs": "srekit.io",
    "aggregate_files": "srekit.aggregate",
    "aggregate_frame": "srekit.aggregate",
    "read_requests": "srekit.aggregate",
    "pull_telemetry": "srekit.prometheus",
    "propose_slos": "srekit.slo",
    "sli_events": "srekit.slo",
    "budget_policy": "srekit.budget",
    "error_budget": "srekit.budget",
    "design_policy": "srekit.alerting",
    "analyze_alerting": "srekit.alerting",
    "explain": "srekit.explain",
    "export_all": "srekit.export_prometheus",
    "read_openslo_specs": "srekit.openslo",
    "analyze_incidents": "srekit.incidents",
    "forecast_budget": "srekit.forecast",
    "analyze_toil": "srekit.toil",
    "build_backlog": "srekit.backlog",
    "build_report": "srekit.report",
    "ReliabilityReport": "srekit.report",
    "run_report": "srekit.runner",
    "write_samples": "srekit.samples",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'srekit' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


__all__ = [
    "ConfigError",
    "InputError",
    "LedgerEntry",
    "ParameterError",
    "SLOSpec",
    "ServiceConfig",
    "SrekitError",
    "__version__",
    "load_config",
    "parse_config",
    *sorted(_LAZY),
]
