"""Display tables of the fleet overview, built from ``fleet.json`` (fields in docs/fleet.md):
the headline, the services that failed, the SLO rows by risk (all of them, or one team and tier),
the compliance calendar, and the raw rows of ``fleet.csv``."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd

from srekit.report.tables.format import fmt_duration_s, fmt_pct, frame, records

#: Columns of the SLO rows tables (``report`` holds the service's report folder for the link).
ROW_COLUMNS = (
    "service",
    "SLO",
    "target",
    "state",
    "budget used",
    "chance of exhausting next window",
    "pages/week now",
    "pages/week under proposed policy",
    "incidents",
    "median time to resolve",
    "top backlog item",
)
STATE_LABELS: Mapping[str, str] = {
    "critical": "critical",
    "warning": "warning",
    "no_data": "no data",
    "healthy": "healthy",
}


def _num(x: Any, digits: int = 1) -> str:
    return "–" if x is None else f"{float(x):.{digits}f}"


def _state(r: Mapping[str, Any]) -> str:
    text = STATE_LABELS.get(str(r.get("status")), str(r.get("status")))
    if r.get("at_risk") and r.get("status") not in ("critical", "warning"):
        text += " (forecast at risk)"
    return text


def _incidents(r: Mapping[str, Any]) -> str:
    n, open_ = r.get("incidents"), r.get("open_incidents")
    if n is None:
        return "–"
    return f"{n} ({open_} open)" if open_ else str(n)


def _forecast(r: Mapping[str, Any]) -> str:
    if r.get("p_exhaust") is None:
        return "–"
    days = r.get("forecast_window_days")
    return fmt_pct(r["p_exhaust"], 0) + (f" in {days} d" if days else "")


def row_record(r: Mapping[str, Any]) -> dict[str, Any]:
    """One SLO row as shown (``report``: the service's report folder, for the link)."""
    return {
        "service": r.get("service"),
        "SLO": r.get("slo"),
        "target": fmt_pct(r.get("target"), 2),
        "state": _state(r),
        "budget used": fmt_pct(r.get("consumed"), 0),
        "chance of exhausting next window": _forecast(r),
        "pages/week now": _num(r.get("pages_per_week_now")),
        "pages/week under proposed policy": _num(r.get("pages_per_week_policy")),
        "incidents": _incidents(r),
        "median time to resolve": fmt_duration_s(r.get("ttr_median_s")),
        "top backlog item": r.get("top_backlog_item") or "–",
        "report": r.get("report_dir"),
    }


def rows_table(rows: Sequence[Mapping[str, Any]]) -> pd.DataFrame:
    """SLO rows in the order given (fleet.json's ``rows`` are by risk), with a ``report`` column."""
    return frame([row_record(r) for r in rows], [*ROW_COLUMNS, "report"])


def at_risk_rows(fleet: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """The rows at risk (critical, warning, or a likely exhaustion), riskiest first."""
    return [r for r in records(fleet, "rows") if r.get("at_risk")]


def group_title(team: Any, tier: Any) -> str:
    """``payments · tier 1`` / ``no team · no tier``."""
    return f"{team if team is not None else 'no team'} · {f'tier {tier}' if tier is not None else 'no tier'}"


def grouped_rows(fleet: Mapping[str, Any]) -> list[tuple[str, list[Mapping[str, Any]]]]:
    """``(title, rows)`` per team and tier; groups in the order of their riskiest row (fleet.json's
    rows are by risk), rows by risk within a group."""
    by: dict[tuple[Any, Any], list[Mapping[str, Any]]] = {}
    for r in records(fleet, "rows"):
        by.setdefault((r.get("team"), r.get("tier")), []).append(r)
    return [(group_title(team, tier), rows) for (team, tier), rows in by.items()]


def headline_table(fleet: Mapping[str, Any]) -> pd.DataFrame:
    """The figures at the top: SLOs by state, services at risk, services rendered and failed."""
    h = fleet.get("headline") or {}
    by = h.get("slos_by_status") or {}
    rows = [
        {"figure": "SLOs healthy", "value": f"{by.get('healthy', 0)} of {h.get('slos', 0)}"},
        {"figure": "SLOs warning", "value": str(by.get("warning", 0))},
        {"figure": "SLOs critical", "value": str(by.get("critical", 0))},
        {"figure": "SLOs with no data", "value": str(by.get("no_data", 0))},
        {"figure": "services at risk", "value": f"{h.get('services_at_risk', 0)} of {h.get('services', 0)}"},
        {
            "figure": "services rendered",
            "value": f"{h.get('services_ok', 0)} ok, {h.get('services_partial', 0)} partly, "
            f"{h.get('services_failed', 0)} failed",
        },
    ]
    return frame(rows, ["figure", "value"])


def failed_table(fleet: Mapping[str, Any]) -> pd.DataFrame:
    """Services that failed or rendered only in part, with the reason (``report``: the folder, if any)."""
    rows = [
        {
            "service": s.get("service"),
            "service.yaml": s.get("config"),
            "state": "failed (no report)" if s.get("status") == "failed" else "partly rendered",
            "reason": s.get("reason"),
            "report": s.get("report_dir"),
        }
        for s in records(fleet, "services")
        if s.get("status") != "ok"
    ]
    return frame(rows, ["service", "service.yaml", "state", "reason", "report"])


def calendar_cells(fleet: Mapping[str, Any]) -> pd.DataFrame:
    """The calendar as numbers (for the heat map): ``row`` (service · SLO) in the order of the
    risk rows, ``month``, ``consumed``, ``attainment``, ``status``."""
    order = {(r.get("service"), r.get("slo")): i for i, r in enumerate(records(fleet, "rows"))}
    cells = [
        {
            "row": f"{c.get('service')} · {c.get('slo')}",
            "rank": order.get((c.get("service"), c.get("slo")), len(order)),
            "month": str(c.get("month")),
            "consumed": c.get("consumed"),
            "attainment": c.get("attainment"),
            "status": c.get("status"),
        }
        for c in records(fleet, "calendar")
    ]
    df = frame(cells, ["row", "rank", "month", "consumed", "attainment", "status"])
    return df.sort_values(["rank", "row", "month"], kind="stable").reset_index(drop=True)


def _cell(c: Mapping[Any, Any]) -> str:
    if c.get("status") == "no_data":
        return "no data"
    return f"{fmt_pct(c.get('attainment'), 3)} {c.get('status')} ({fmt_pct(c.get('consumed'), 0)} budget)"


def calendar_table(fleet: Mapping[str, Any]) -> pd.DataFrame:
    """Service × SLO rows (risk order), one column per month: attainment, met or missed, budget used."""
    cells = calendar_cells(fleet)
    if cells.empty:
        return frame([], ["service · SLO"])
    text = {(c["row"], c["month"]): _cell(c) for c in cells.to_dict("records")}
    months = sorted(cells["month"].unique())
    rows = [{"service · SLO": row, **{m: text.get((row, m), "–") for m in months}} for row in cells["row"].unique()]
    return frame(rows, ["service · SLO", *months])


#: Columns of fleet.csv: every fleet.json row, then one row per failed service.
CSV_COLUMNS = (
    "service",
    "team",
    "tier",
    "service_status",
    "reason",
    "report_dir",
    "slo",
    "journey",
    "sli",
    "target",
    "window_s",
    "status",
    "at_risk",
    "consumed",
    "remaining",
    "p_exhaust",
    "forecast_window_days",
    "pages_per_week_now",
    "pages_per_week_policy",
    "incidents",
    "open_incidents",
    "ttr_median_s",
    "top_backlog_item",
)


def csv_frame(fleet: Mapping[str, Any]) -> pd.DataFrame:
    """``fleet.csv``: fleet.json's rows (raw values, risk order) with each service's state and
    reason, then one row per failed service (no SLO columns)."""
    services = {s.get("service"): s for s in records(fleet, "services")}
    rows = [
        {
            **r,
            "service_status": services.get(r.get("service"), {}).get("status"),
            "reason": services.get(r.get("service"), {}).get("reason"),
        }
        for r in records(fleet, "rows")
    ]
    rows += [
        {
            "service": s.get("service"),
            "team": s.get("team"),
            "tier": s.get("tier"),
            "service_status": s.get("status"),
            "reason": s.get("reason"),
        }
        for s in services.values()
        if s.get("status") == "failed"
    ]
    return frame([dict(r) for r in rows], CSV_COLUMNS)
