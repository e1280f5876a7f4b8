"""The fleet overview: one row per service and SLO, sorted by risk, from each service's own
report.json (``srekit fleet report``, ``docs/fleet.md``).

Entry point: :func:`fleet_overview` → :class:`FleetOverview` (``fleet.json``). Every figure of a
row is copied from the service's report.json, never recomputed, so the overview cannot disagree
with the drill-down page:

* ``status``, ``consumed``, ``remaining``: ``error_budget_policy.slos[]`` of the SLO;
* ``p_exhaust``, ``forecast_window_days``: ``error_budget_policy.forecast.per_slo[]`` of the SLO;
* ``pages_per_week_now``: ``alerting.existing_pages.pages_per_week`` (the service's pages log);
  ``pages_per_week_policy``: ``alerting.backtest.overall_pages.pages_per_week`` (any page rule of
  the proposed policy, replayed on the same history), 0 when the policy pages for nothing, None
  without a replay — both are the service's figures, shown on each of its SLO rows;
* ``incidents``, ``open_incidents``, ``ttr_median_s``: ``incident_response`` (the service's);
* ``top_backlog_item``: the service's rank-1 backlog item.

Risk order (:func:`risk_key`): critical, then at risk (warning, or a forecast chance of
exhausting the budget in the next window of at least :data:`AT_RISK_P_EXHAUST`), then no data,
then healthy; within each, the higher chance of exhaustion, then the more budget used, first.
A service is *at risk* when one of its SLOs is critical or at risk.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd

#: A forecast chance of exhausting the budget in the next window from which a healthy SLO is at risk.
AT_RISK_P_EXHAUST = 0.5
#: Budget states, worst first (as ``error_budget_policy.slos[].status``).
SLO_STATES = ("critical", "warning", "no_data", "healthy")
#: What happened to a service in the run.
SERVICE_STATES = ("ok", "partial", "failed")


@dataclass(frozen=True, slots=True)
class ServiceRun:
    """One service of the fleet run: its identity, where its report is, and what went wrong."""

    service: str
    config: str  # its service.yaml as listed in the fleet (relative to the fleet folder)
    team: str | None
    tier: int | str | None
    status: str  # ok | partial (the report rendered, a notebook or section failed) | failed (no report)
    reason: str | None = None  # why it failed or is partial
    report_dir: str | None = None  # its run folder, relative to the reports root (posix)
    seconds: float | None = None

    def __post_init__(self) -> None:
        if self.status not in SERVICE_STATES:
            raise ValueError(f"{self.service}: unknown service status {self.status!r}")
        if (self.status == "ok") != (self.reason is None):
            raise ValueError(f"{self.service}: a reason is given exactly when the service is not ok")
        if (self.status == "failed") != (self.report_dir is None):
            raise ValueError(f"{self.service}: a failed service has no report, the others have one")

    def to_dict(self) -> dict[str, Any]:
        return {
            "service": self.service,
            "config": self.config,
            "team": self.team,
            "tier": self.tier,
            "status": self.status,
            "reason": self.reason,
            "report_dir": self.report_dir,
            "seconds": self.seconds,
        }


@dataclass(frozen=True, slots=True)
class FleetRow:
    """One SLO of one service, as its report.json gives it."""

    service: str
    team: str | None
    tier: int | str | None
    report_dir: str | None
    slo: str
    journey: str
    sli: str
    target: float
    window_s: int | None
    status: str
    at_risk: bool
    consumed: float | None
    remaining: float | None
    p_exhaust: float | None
    forecast_window_days: int | None
    pages_per_week_now: float | None
    pages_per_week_policy: float | None
    incidents: int | None
    open_incidents: int | None
    ttr_median_s: float | None
    top_backlog_item: str | None

    def to_dict(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self.__slots__}  # type: ignore[attr-defined]


@dataclass(frozen=True, slots=True)
class CalendarCell:
    """One SLO of one service in one calendar month (``error_budget_policy.calendar[]``)."""

    service: str
    slo: str
    month: str
    coverage: float
    attainment: float | None
    consumed: float | None
    target: float
    status: str  # met | missed | no_data

    def to_dict(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self.__slots__}  # type: ignore[attr-defined]


@dataclass(frozen=True, slots=True)
class FleetHeadline:
    """The counts at the top of the overview."""

    services: int
    services_ok: int
    services_partial: int
    services_failed: int
    services_at_risk: int
    slos: int
    slos_by_status: Mapping[str, int]  # every state of SLO_STATES, 0 when none
    slos_at_risk: int

    def to_dict(self) -> dict[str, Any]:
        return {
            "services": self.services,
            "services_ok": self.services_ok,
            "services_partial": self.services_partial,
            "services_failed": self.services_failed,
            "services_at_risk": self.services_at_risk,
            "slos": self.slos,
            "slos_by_status": dict(self.slos_by_status),
            "slos_at_risk": self.slos_at_risk,
        }


@dataclass(frozen=True, slots=True)
class FleetOverview:
    """``fleet.json``: the services, their SLO rows by risk, the calendar and the headline."""

    fleet: str
    generated_at: pd.Timestamp
    services: tuple[ServiceRun, ...]
    rows: tuple[FleetRow, ...]
    calendar: tuple[CalendarCell, ...]
    headline: FleetHeadline

    @property
    def failed(self) -> tuple[ServiceRun, ...]:
        return tuple(s for s in self.services if s.status != "ok")

    def to_dict(self) -> dict[str, Any]:
        return {
            "fleet": self.fleet,
            "generated_at": self.generated_at.isoformat(),
            "at_risk_p_exhaust": AT_RISK_P_EXHAUST,
            "headline": self.headline.to_dict(),
            "services": [s.to_dict() for s in self.services],
            "rows": [r.to_dict() for r in self.rows],
            "calendar": [c.to_dict() for c in self.calendar],
        }


# ------------------------------------------------------------------------------ reading report.json


def _part(d: Mapping[str, Any] | None, *keys: str) -> Mapping[str, Any]:
    """``d[k1][k2]…`` when every step is a mapping, else an empty mapping."""
    out: Any = d or {}
    for k in keys:
        out = out.get(k) if isinstance(out, Mapping) else None
    return out if isinstance(out, Mapping) else {}


def _list(d: Mapping[str, Any], key: str) -> list[Mapping[str, Any]]:
    value = d.get(key)
    return [v for v in value if isinstance(v, Mapping)] if isinstance(value, list) else []


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def _count(value: Any) -> int | None:
    return int(value) if isinstance(value, int) and not isinstance(value, bool) else None


def service_figures(report: Mapping[str, Any]) -> dict[str, Any]:
    """The service-wide figures every SLO row of the service repeats (see the module doc)."""
    alerting = _part(report, "alerting")
    backtest = _part(alerting, "backtest")
    replayed = backtest.get("start") is not None
    overall_pages = _part(backtest, "overall_pages")
    policy = _number(overall_pages.get("pages_per_week")) if overall_pages else (0.0 if replayed else None)
    response = _part(report, "incident_response")
    items = _list(_part(report, "backlog"), "items")
    return {
        "pages_per_week_now": _number(_part(alerting, "existing_pages").get("pages_per_week")),
        "pages_per_week_policy": policy,
        "incidents": _count(response.get("incidents")),
        "open_incidents": _count(response.get("open_incidents")),
        "ttr_median_s": _number(_part(response, "metrics", "ttr").get("median_s")),
        "top_backlog_item": str(items[0]["title"]) if items and items[0].get("title") is not None else None,
    }


def is_at_risk(status: str, p_exhaust: float | None) -> bool:
    """Critical or warning, or a forecast chance of exhaustion of at least :data:`AT_RISK_P_EXHAUST`."""
    return status in ("critical", "warning") or (p_exhaust is not None and p_exhaust >= AT_RISK_P_EXHAUST)


def service_rows(run: ServiceRun, report: Mapping[str, Any]) -> list[FleetRow]:
    """The SLO rows of one service from its report.json (``error_budget_policy`` order)."""
    policy = _part(report, "error_budget_policy")
    forecasts = {str(f.get("slo")): f for f in _list(_part(policy, "forecast"), "per_slo")}
    shared = service_figures(report)
    rows = []
    for b in _list(policy, "slos"):
        slo = str(b.get("slo"))
        fc = forecasts.get(slo, {})
        status = str(b.get("status") or "no_data")
        p_exhaust = _number(fc.get("p_exhaust"))
        rows.append(
            FleetRow(
                service=run.service,
                team=run.team,
                tier=run.tier,
                report_dir=run.report_dir,
                slo=slo,
                journey=str(b.get("journey")),
                sli=str(b.get("sli")),
                target=float(b.get("target") or 0.0),
                window_s=_count(b.get("window_s")),
                status=status,
                at_risk=is_at_risk(status, p_exhaust),
                consumed=_number(b.get("consumed")),
                remaining=_number(b.get("remaining")),
                p_exhaust=p_exhaust,
                forecast_window_days=_count(fc.get("window_days")),
                **shared,
            )
        )
    return rows


def service_calendar(service: str, report: Mapping[str, Any]) -> list[CalendarCell]:
    """The service's ``error_budget_policy.calendar`` as cells."""
    return [
        CalendarCell(
            service=service,
            slo=str(c.get("slo")),
            month=str(c.get("month")),
            coverage=float(c.get("coverage") or 0.0),
            attainment=_number(c.get("attainment")),
            consumed=_number(c.get("consumed")),
            target=float(c.get("target") or 0.0),
            status=str(c.get("status") or "no_data"),
        )
        for c in _list(_part(report, "error_budget_policy"), "calendar")
    ]


# ------------------------------------------------------------------------------ ordering and counts


def risk_key(row: FleetRow) -> tuple[Any, ...]:
    """Sort key, riskiest first: critical, at risk, no data, healthy; then chance of exhaustion,
    budget used (unknown last), service and SLO."""
    if row.status == "critical":
        level = 0
    elif row.at_risk:
        level = 1
    elif row.status == "no_data":
        level = 2
    else:
        level = 3
    p = -row.p_exhaust if row.p_exhaust is not None else 1.0
    used = -row.consumed if row.consumed is not None else 1.0
    return (level, p, used, row.service, row.slo)


def headline(services: Sequence[ServiceRun], rows: Sequence[FleetRow]) -> FleetHeadline:
    """The counts at the top of the overview."""
    by_status = {s: sum(1 for r in rows if r.status == s) for s in SLO_STATES}
    return FleetHeadline(
        services=len(services),
        services_ok=sum(1 for s in services if s.status == "ok"),
        services_partial=sum(1 for s in services if s.status == "partial"),
        services_failed=sum(1 for s in services if s.status == "failed"),
        services_at_risk=len({r.service for r in rows if r.at_risk}),
        slos=len(rows),
        slos_by_status=by_status,
        slos_at_risk=sum(1 for r in rows if r.at_risk),
    )


def assemble(
    fleet: str,
    services: Sequence[ServiceRun],
    rows: Sequence[FleetRow],
    calendar: Sequence[CalendarCell],
    *,
    generated_at: pd.Timestamp,
) -> FleetOverview:
    """The overview from every service's run and rows: rows by risk, services failed first then
    by name, the calendar by service, SLO and month, and the headline."""
    names = [s.service for s in services]
    if len(set(names)) != len(names):
        raise ValueError("two services of a fleet have the same name")
    ordered = tuple(sorted(rows, key=risk_key))
    return FleetOverview(
        fleet=fleet,
        generated_at=generated_at,
        services=tuple(sorted(services, key=lambda s: (SERVICE_STATES[::-1].index(s.status), s.service))),
        rows=ordered,
        calendar=tuple(sorted(calendar, key=lambda c: (c.service, c.slo, c.month))),
        headline=headline(services, ordered),
    )


def fleet_overview(
    fleet: str,
    services: Sequence[ServiceRun],
    reports: Mapping[str, Mapping[str, Any]],
    *,
    generated_at: pd.Timestamp,
) -> FleetOverview:
    """The overview of a fleet run: ``services`` in any order, ``reports`` each rendered
    service's report.json by service name (a failed service has none)."""
    rows: list[FleetRow] = []
    calendar: list[CalendarCell] = []
    for run in services:
        report = reports.get(run.service)
        if run.status == "failed" or report is None:
            continue
        rows += service_rows(run, report)
        calendar += service_calendar(run.service, report)
    return assemble(fleet, services, rows, calendar, generated_at=generated_at)
