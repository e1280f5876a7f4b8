"""Sloth specs (``version: prometheus/v1`` and the ``PrometheusServiceLevel`` resource) with
the alert windows Sloth uses for the SLO period.

Sloth has no period in the spec: ``sloth generate`` uses ``--default-slo-period`` (30d) and
looks up the ``AlertWindows`` for that period — built in for 30d and 28d (Sloth's
``internal/alert/windows/google-30d.yaml`` and ``google-28d.yaml``, the SRE Workbook's table),
else from ``--slo-period-windows-path``. A rule's burn rate is ``(period / long window) ×
errorBudgetPercent / 100``: 14.4 over 1h/5m at 30d, 13.44 at
28d. Page alerts are the ``page`` quick and slow windows, tickets the ``ticket`` ones; an alert
kind with ``disable: true`` has no rules. SLIs: ``events`` (error and total queries),
``raw`` (an error-ratio query) when it divides two sums of one counter, ``plugin`` never (its
PromQL is plugin code)."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from srekit.core.errors import ConfigError
from srekit.core.spec import AlertPolicySpec, AlertWindowSpec, SliQueries, SLOSpec
from srekit.core.timeutil import format_duration, parse_duration
from srekit.inputs.slo_import.common import counter_spec, error_note, journey_of, percent_target
from srekit.inputs.slo_import.model import ImportOptions, ImportResult, Unmapped, spec_error
from srekit.inputs.slo_import.promql import (
    CounterSli,
    normalise,
    sli_from_queries,
    sli_from_ratio,
    split_top,
    strip_parens,
    unknown_templates,
)
from srekit.inputs.slo_import.source import expand, line_of, load_documents

DEFAULT_PERIOD = pd.Timedelta(days=30)
#: Sloth's built-in AlertWindows: (severity, long, short, errorBudgetPercent) per period.
BUILTIN_WINDOWS: Mapping[str, tuple[tuple[str, str, str, float], ...]] = {
    "30d": (("page", "1h", "5m", 2), ("page", "6h", "30m", 5), ("ticket", "1d", "2h", 10), ("ticket", "3d", "6h", 10)),
    "28d": (("page", "1h", "5m", 2), ("page", "6h", "30m", 5), ("ticket", "1d", "2h", 10), ("ticket", "3d", "6h", 10)),
}
Windows = tuple[tuple[str, pd.Timedelta, pd.Timedelta, float], ...]


def burn_rate(period: pd.Timedelta, long_window: pd.Timedelta, percent: float) -> float:
    """Sloth's factor ``errorBudgetPercent / 100 × period / long window``, in the order that
    reproduces its generated rules to the last bit (0.9333333333333333 at 28d over 3d)."""
    hour = pd.Timedelta(hours=1)
    return (percent / 100) * (period / hour) / (long_window / hour)


def _parse_windows_doc(doc: Any, file: str) -> tuple[pd.Timedelta, Windows]:
    """One ``AlertWindows`` document → (period, windows)."""
    spec = doc.get("spec") if isinstance(doc, Mapping) else None
    if not isinstance(doc, Mapping) or doc.get("kind") != "AlertWindows" or not isinstance(spec, Mapping):
        raise spec_error(file, line_of(doc), "not a Sloth AlertWindows document", "use kind: AlertWindows with a spec")
    try:
        period = parse_duration(str(spec["sloPeriod"]))
        rows = tuple(
            (
                sev,
                parse_duration(str(w["longWindow"])),
                parse_duration(str(w["shortWindow"])),
                float(w["errorBudgetPercent"]),
            )
            for sev in ("page", "ticket")
            for speed in ("quick", "slow")
            for w in (spec[sev][speed],)
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise spec_error(
            file,
            line_of(spec),
            f"AlertWindows is missing or misreads {exc}",
            "give sloPeriod and page/ticket quick/slow with errorBudgetPercent, shortWindow, longWindow",
        ) from exc
    return period, rows


def windows_for(period: pd.Timedelta, path: Path | None) -> Windows:
    """The windows Sloth uses for ``period``: from the custom files first, else built in."""
    custom: dict[pd.Timedelta, Windows] = {}
    for f in expand([path]) if path is not None else []:
        for doc in load_documents(f):
            p, rows = _parse_windows_doc(doc, str(f))
            custom[p] = rows
    if period in custom:
        return custom[period]
    builtin = BUILTIN_WINDOWS.get(format_duration(period))
    if builtin is None:
        raise ConfigError(
            f"Sloth has no alert windows for a {format_duration(period)} SLO period (built in: 30d, 28d"
            f"{', custom: ' + ', '.join(format_duration(p) for p in custom) if custom else ''}). "
            "fix: pass the AlertWindows file for it (--windows, Sloth's --slo-period-windows-path) or use 30d/28d"
        )
    return tuple((s, parse_duration(lw), parse_duration(sw), pct) for s, lw, sw, pct in builtin)


def _policy(alerting: Any, period: pd.Timedelta, windows: Windows) -> AlertPolicySpec:
    """Sloth's page and ticket rules, minus the disabled alert kinds."""
    alerting = alerting if isinstance(alerting, Mapping) else {}
    name = alerting.get("name")
    enabled = {sev: not bool((alerting.get(f"{sev}_alert") or {}).get("disable", False)) for sev in ("page", "ticket")}
    rules = tuple(
        AlertWindowSpec(
            severity=sev,  # type: ignore[arg-type]
            long_window=lw,
            short_window=sw,
            burn_rate=burn_rate(period, lw, pct),
            alert=str(name) if name else None,
        )
        for sev, lw, sw, pct in windows
        if enabled[sev]
    )
    return AlertPolicySpec(source="sloth", rules=rules)


def _sli(sli: Any) -> tuple[CounterSli | str, SliQueries | None]:
    """A Sloth SLI as counters (or the reason not), with its own queries."""
    if not isinstance(sli, Mapping):
        return "no sli section", None
    if "plugin" in sli:
        plugin = (sli.get("plugin") or {}).get("id", "?")
        return f"SLI plugin {plugin!r}: its PromQL is generated by plugin code srekit does not run", None
    events, raw = sli.get("events"), sli.get("raw")
    texts = (
        [events.get("error_query", ""), events.get("total_query", "")]
        if isinstance(events, Mapping)
        else [raw.get("error_ratio_query", "")]
        if isinstance(raw, Mapping)
        else []
    )
    if not texts or not all(isinstance(t, str) and t.strip() for t in texts):
        return "the SLI needs events.error_query and events.total_query, or raw.error_ratio_query", None
    unknown = [u for t in texts for u in unknown_templates(t)]
    if unknown:
        return f"template variables srekit does not know: {', '.join(dict.fromkeys(unknown))}", None
    queries = [normalise(t) for t in texts]
    if len(queries) == 2:
        mapped = sli_from_queries(*queries)
        return mapped, SliQueries(*queries) if not isinstance(mapped, str) else None
    mapped = sli_from_ratio(queries[0])
    parts = split_top(strip_parens(queries[0]), "/")
    return mapped, SliQueries(*parts) if parts and not isinstance(mapped, str) else None


def _slo(
    service: str, slo: Any, file: str, period: pd.Timedelta, windows: Windows, options: ImportOptions
) -> tuple[SLOSpec | Unmapped, tuple[str, ...]]:
    line = line_of(slo)
    if not isinstance(slo, Mapping) or not slo.get("name"):
        raise spec_error(file, line, "an SLO without a name", "give every slos[] entry a name")
    name = f"{service}-{slo['name']}"  # Sloth's sloth_id
    try:
        target = percent_target(slo.get("objective"))
    except (TypeError, ValueError) as exc:
        raise spec_error(
            file, line, f"SLO {slo['name']!r}: {exc}", "write objective as a percentage, e.g. 99.9"
        ) from exc
    sli, queries = _sli(slo.get("sli"))
    if isinstance(sli, str):
        return Unmapped(file, line_of(slo.get("sli")) or line, name, sli), ()
    journey, jnote = journey_of(name, sli, service, options)
    spec = counter_spec(
        name, journey, sli, target, period, _policy(slo.get("alerting"), period, windows), f"{file}:{line}", queries
    )
    return spec, tuple(n for n in (jnote, error_note(name, sli)) if n)


def read_sloth(paths: list[Path], options: ImportOptions) -> ImportResult:
    """Every SLO of the Sloth specs in ``paths``."""
    period = options.period or DEFAULT_PERIOD
    windows = windows_for(period, options.windows)
    files = expand(paths)
    specs: list[SLOSpec] = []
    unmapped: list[Unmapped] = []
    notes: list[str] = []
    service: str | None = None
    for f in files:
        for doc in load_documents(f):
            body = _body(doc, str(f))
            service = service or str(body["service"])
            for slo in body.get("slos") or []:
                got, more = _slo(str(body["service"]), slo, str(f), period, windows, options)
                if isinstance(got, Unmapped):
                    unmapped.append(got)
                else:
                    specs.append(got)
                notes += more
    notes.append(
        f"Sloth's {format_duration(period)} SLO ratio is a time-weighted mean of 5-minute ratios; srekit budgets "
        "request-weighted (bad / total over the window)"
    )
    return ImportResult("sloth", tuple(map(str, files)), tuple(specs), tuple(unmapped), tuple(notes), service)


def _body(doc: Any, file: str) -> Mapping[str, Any]:
    """The spec of a ``prometheus/v1`` file or a ``PrometheusServiceLevel`` resource."""
    if isinstance(doc, Mapping) and doc.get("kind") == "PrometheusServiceLevel":
        doc = doc.get("spec")
    elif isinstance(doc, Mapping) and doc.get("version") != "prometheus/v1":
        raise spec_error(
            file,
            line_of(doc),
            f"not a Sloth spec (version {doc.get('version')!r})",
            'use version: "prometheus/v1" or kind: PrometheusServiceLevel (sloth.slok.dev/v1)',
        )
    if not isinstance(doc, Mapping) or not doc.get("service") or not isinstance(doc.get("slos"), list):
        raise spec_error(file, line_of(doc), "a Sloth spec needs service and slos", "add service: NAME and slos: [...]")
    return doc
