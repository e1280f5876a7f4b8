"""Pyrra ``ServiceLevelObjective`` resources (``pyrra.dev/v1alpha1``) with Pyrra's alert tiers.

``target`` is a percentage string, ``window`` a Prometheus duration. Indicators: ``ratio``
(``errors`` and ``total`` selectors), ``latency`` (``success`` is ``X_bucket{le}``, ``total``
``X_count``), ``bool_gauge`` (a 0/1 gauge whose samples are the events, as Pyrra counts them:
bad = samples − sum of samples). Alerts, unless ``alerting.disabled`` or ``alerting.burnrates:
false``: Pyrra's ``Windows(sloWindow)`` (``slo/rules.go``) — four multiwindow rules scaled from
the 28-day table and rounded to the minute: critical 1h/5m ×14 ``for`` 2m, critical 6h/30m ×7
``for`` 15m, warning 1d/2h ×2 ``for`` 1h, warning 4d/6h ×1 ``for`` 3h (critical → page,
warning → ticket)."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from srekit.core.spec import AlertPolicySpec, AlertWindowSpec, SliQueries, SLOSpec
from srekit.core.timeutil import parse_duration
from srekit.inputs.slo_import.common import counter_spec, error_note, journey_of, percent_target
from srekit.inputs.slo_import.model import ImportOptions, ImportResult, Unmapped, spec_error
from srekit.inputs.slo_import.promql import CounterSli, Selector, parse_selector, sli_from_selectors
from srekit.inputs.slo_import.source import expand, line_of, load_documents

API = "pyrra.dev/v1alpha1"
#: Pyrra's windows for a 28-day SLO: (severity, long ÷, short ÷, for ÷, factor) as fractions of the window.
_TIERS = (
    ("page", 28 * 24, 28 * 24 * 12, 28 * 24 * 30, 14.0),
    ("page", 28 * 4, 28 * 24 * 2, 28 * 24 * 4, 7.0),
    ("ticket", 28, 28 * 12, 28 * 24, 2.0),
    ("ticket", 7, 28 * 4, 28 * 8, 1.0),
)


MINUTE = pd.Timedelta(minutes=1)


def _go_round(d: pd.Timedelta, unit: pd.Timedelta = MINUTE) -> pd.Timedelta:
    """Go's ``Duration.Round``: to the nearest multiple, halves away from zero."""
    n, rest = divmod(d.value, unit.value)
    return unit * (n + (1 if 2 * rest >= unit.value else 0))


def pyrra_windows(window: pd.Timedelta, name: str | None = None) -> tuple[AlertWindowSpec, ...]:
    """Pyrra's four burn-rate rules for an SLO window."""
    return tuple(
        AlertWindowSpec(
            severity=sev,  # type: ignore[arg-type]
            long_window=_go_round(window / lw),
            short_window=_go_round(window / sw),
            pending=_go_round(window / pend),
            burn_rate=factor,
            alert=name or "ErrorBudgetBurn",
        )
        for sev, lw, sw, pend, factor in _TIERS
    )


def _selector(part: Any, key: str) -> Selector | None:
    metric = part.get(key, {}).get("metric") if isinstance(part, Mapping) else None
    return parse_selector(metric) if isinstance(metric, str) else None


def _indicator(ind: Any) -> tuple[CounterSli | str, SliQueries | None, str | None]:
    """The indicator as counters, its queries, and a note (bool gauges)."""
    if not isinstance(ind, Mapping):
        return "no indicator", None, None
    if "ratio" in ind:
        errors, total = _selector(ind["ratio"], "errors"), _selector(ind["ratio"], "total")
        if errors is None or total is None:
            return "ratio.errors.metric and ratio.total.metric must be plain selectors", None, None
        return sli_from_selectors(errors, total, good=False), None, None
    if "latency" in ind:
        success, total = _selector(ind["latency"], "success"), _selector(ind["latency"], "total")
        if success is None or total is None:
            return "latency.success.metric and latency.total.metric must be plain selectors", None, None
        return sli_from_selectors(success, total, good=True), None, None
    if "bool_gauge" in ind:
        return _bool_gauge(ind["bool_gauge"])
    return f"indicator kind(s) {sorted(ind)} srekit does not know (ratio, latency, bool_gauge)", None, None


def _bool_gauge(part: Any) -> tuple[CounterSli | str, SliQueries | None, str | None]:
    sel = parse_selector(part.get("metric", "")) if isinstance(part, Mapping) else None
    if sel is None:
        return "bool_gauge.metric must be a plain selector", None, None
    queries = SliQueries(
        f"(sum(count_over_time({sel.text()}[{{{{window}}}}])) - sum(sum_over_time({sel.text()}[{{{{window}}}}])))",
        f"sum(count_over_time({sel.text()}[{{{{window}}}}]))",
    )
    note = (
        "a bool gauge's samples are its events: the journey's telemetry must count probe results "
        "(total = samples, errors = failed ones)"
    )
    return CounterSli("availability", sel), queries, note


def _slo(doc: Any, file: str, options: ImportOptions) -> tuple[SLOSpec | Unmapped, tuple[str, ...]]:
    md, spec = doc.get("metadata") or {}, doc.get("spec")
    name, line = str(md.get("name") or ""), line_of(doc)
    if not name or not isinstance(spec, Mapping):
        raise spec_error(file, line, "a ServiceLevelObjective needs metadata.name and spec", "add them")
    try:
        target, window = percent_target(spec.get("target")), parse_duration(str(spec.get("window")))
    except (TypeError, ValueError) as exc:
        raise spec_error(file, line_of(spec), f"{name}: {exc}", 'give target: "99.9" and window: 28d') from exc
    sli, queries, gauge_note = _indicator(spec.get("indicator"))
    if isinstance(sli, str):
        return Unmapped(file, line_of(spec.get("indicator")) or line, name, sli), ()
    alerting: Mapping[str, Any] = spec["alerting"] if isinstance(spec.get("alerting"), Mapping) else {}
    off = bool(alerting.get("disabled", False)) or alerting.get("burnrates") is False
    policy = AlertPolicySpec("pyrra", () if off else pyrra_windows(window, alerting.get("name")))
    journey, jnote = journey_of(name, sli, name, options)
    grouping = (spec.get("indicator") or {}).get(next(iter(spec.get("indicator") or {"": 0})), {})
    group_note = (
        f"{name}: Pyrra groups it by {grouping['grouping']}; srekit replays it per journey"
        if isinstance(grouping, Mapping) and grouping.get("grouping")
        else None
    )
    notes = (jnote, error_note(name, sli), f"{name}: {gauge_note}" if gauge_note else None, group_note)
    return counter_spec(name, journey, sli, target, window, policy, f"{file}:{line}", queries), tuple(
        n for n in notes if n
    )


def read_pyrra(paths: list[Path], options: ImportOptions) -> ImportResult:
    """Every ServiceLevelObjective in ``paths`` (other kinds in the same files are skipped with a note)."""
    files = expand(paths)
    specs: list[SLOSpec] = []
    unmapped: list[Unmapped] = []
    notes: list[str] = []
    for f in files:
        for doc in load_documents(f):
            if (
                not isinstance(doc, Mapping)
                or doc.get("kind") != "ServiceLevelObjective"
                or doc.get("apiVersion") != API
            ):
                raise spec_error(
                    str(f),
                    line_of(doc),
                    "not a Pyrra ServiceLevelObjective",
                    f"use apiVersion: {API} and kind: ServiceLevelObjective",
                )
            got, more = _slo(doc, str(f), options)
            if isinstance(got, Unmapped):
                unmapped.append(got)
            else:
                specs.append(got)
            notes += more
    return ImportResult("pyrra", tuple(map(str, files)), tuple(specs), tuple(unmapped), tuple(notes))
