"""The SLOs service.yaml defines in full (``slos:``, what ``srekit import`` writes) as
:class:`SLOSpec`, each with its alert policy as data."""

from __future__ import annotations

import pandas as pd

from srekit.core.errors import ConfigError
from srekit.core.spec import AlertPolicySpec, AlertWindowSpec, SliQueries, SLOSpec
from srekit.inputs.config import AlertPolicyDoc, ServiceConfig, SloDoc


def _policy(doc: AlertPolicyDoc) -> AlertPolicySpec:
    rules = tuple(
        AlertWindowSpec(
            severity=r.severity,
            long_window=r.long_window,
            burn_rate=r.burn_rate,
            short_window=r.short_window,
            pending=r.pending if r.pending is not None else pd.Timedelta(0),
            alert=r.alert,
        )
        for r in doc.rules
    )
    return AlertPolicySpec(doc.source, rules, doc.sli_decimals, doc.burn_rate_decimals)


def _spec(i: int, doc: SloDoc, config: ServiceConfig) -> SLOSpec:
    try:
        return SLOSpec(
            name=doc.name,
            journey=doc.journey,
            sli=doc.sli,
            target=doc.target,
            window=doc.window if doc.window is not None else config.slo.window,
            threshold_ms=doc.threshold_ms,
            queries=None if doc.queries is None else SliQueries(doc.queries.errors, doc.queries.total),
            alerting=None if doc.alerting is None else _policy(doc.alerting),
            origin=doc.origin or f"{config.path}: slos[{i}]",
        )
    except ValueError as exc:
        raise ConfigError(
            f"{config.path}: slos[{i}] ({doc.name}): {exc}. fix: a latency SLO needs threshold_ms; queries need "
            "{{window}}; alert windows need short ≤ long"
        ) from exc


def explicit_specs(config: ServiceConfig) -> tuple[SLOSpec, ...]:
    """``slos:`` of service.yaml as SLOSpecs (names unique)."""
    specs = tuple(_spec(i, d, config) for i, d in enumerate(config.slos))
    names = [s.name for s in specs]
    dup = sorted({n for n in names if names.count(n) > 1})
    if dup:
        raise ConfigError(f"{config.path}: slos: {dup} appear more than once. fix: give each SLO its own name")
    return specs
