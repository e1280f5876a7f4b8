"""Display tables of the budget forecast, built from report.json's ``error_budget_policy.forecast``
(fields in ``docs/forecast.md``). The report page and report.md show the short form; the forecast
page (notebook 05) passes ``detail=True`` where it shows more."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd

from srekit.report.tables.format import fmt_pct, frame, records, section
from srekit.report.tables.words import forecast_missing

#: Why the forecast's secondary tables are empty (the forecast table and the page's first
#: paragraph give the reason in full).
SEE_ABOVE = "no SLO was forecast, so there is nothing to show (the first paragraph says why)."


def _forecast(report: Mapping[str, Any]) -> Mapping[str, Any]:
    return section(section(report, "error_budget_policy"), "forecast")


def _number(value: Any, digits: int) -> str:
    return "–" if value is None else f"{float(value):,.{digits}f}"


_FORECAST_SHORT = ["SLO", "chance of running out", "budget used (likely)", "range (10%–90%)", "days in window"]
_FORECAST_DETAIL = [
    "SLO",
    "target",
    "days in window",
    "budget (minutes of full outage)",
    "chance of running out",
    "budget used (likely)",
    "range (10%–90%)",
    "day it runs out (median, when it does)",
]


def forecast_table(report: Mapping[str, Any], *, detail: bool = False) -> pd.DataFrame:
    """Monte Carlo forecast of each SLO's next window; ``detail`` adds the target, the budget in
    minutes of full outage and the median day the budget runs out in the simulations where it does."""
    rows = []
    for f in records(_forecast(report), "per_slo"):
        q = f.get("consumed_quantiles") or {}
        day = f.get("exhaustion_day_median")
        rows.append(
            {
                "SLO": f.get("slo"),
                "target": fmt_pct(f.get("target"), 2),
                "days in window": f.get("window_days"),
                "budget (minutes of full outage)": _number(f.get("budget_minutes"), 1),
                "chance of running out": fmt_pct(f.get("p_exhaust"), 0),
                "budget used (likely)": fmt_pct(q.get("p50"), 0),
                "range (10%–90%)": f"{fmt_pct(q.get('p10'), 0)} – {fmt_pct(q.get('p90'), 0)}",
                "day it runs out (median, when it does)": "–" if day is None else f"{day:.0f}",
            }
        )
    return frame(rows, _FORECAST_DETAIL if detail else _FORECAST_SHORT, forecast_missing(report))


def forecast_risk(report: Mapping[str, Any]) -> pd.DataFrame:
    """Numbers behind the forecast chart: slo, p_exhaust (chance the next window's budget runs out)."""
    rows = [
        {"slo": str(f.get("slo")), "p_exhaust": float(f.get("p_exhaust") or 0.0)}
        for f in records(_forecast(report), "per_slo")
    ]
    return frame(rows, ["slo", "p_exhaust"], SEE_ABOVE)


def what_if_table(report: Mapping[str, Any]) -> pd.DataFrame:
    """Each improvement's effect per SLO, simulated with the same random draws as the forecast."""
    rows = [
        {
            "SLO": w.get("slo"),
            "improvement": w.get("name"),
            "change": w.get("change"),
            "chance of running out": fmt_pct(w.get("p_exhaust"), 0),
            "change in chance (points)": f"{100.0 * float(w.get('delta_p_exhaust') or 0.0):+.1f}",
            "expected budget minutes": _number(w.get("budget_minutes"), 1),
            "budget minutes saved": _number(-float(w.get("delta_budget_minutes") or 0.0), 1),
        }
        for w in records(_forecast(report), "what_ifs")
    ]
    columns = [
        "SLO",
        "improvement",
        "change",
        "chance of running out",
        "change in chance (points)",
        "expected budget minutes",
        "budget minutes saved",
    ]
    return frame(rows, columns, SEE_ABOVE)


_MODEL_COLUMNS = [
    "SLO",
    "incidents in history",
    "history (days)",
    "incidents per 28 days (90% interval)",
    "incidents measured on telemetry",
    "median budget minutes per incident",
    "quiet days resampled",
    "median background budget minutes per day",
]


def model_table(report: Mapping[str, Any]) -> pd.DataFrame:
    """The fitted model per SLO: incident rate with its 90% interval, impact and background burn."""
    fc = _forecast(report)
    models = section(section(fc, "model"), "per_slo")
    rows = []
    for f in records(fc, "per_slo"):
        m = section(models, str(f.get("slo")))
        rate = float(m.get("rate_per_day") or 0.0)
        lo, hi = m.get("rate_interval_90") or [0.0, 0.0]
        rows.append(
            {
                "SLO": f.get("slo"),
                "incidents in history": m.get("incidents"),
                "history (days)": _number(m.get("history_days"), 1),
                "incidents per 28 days (90% interval)": f"{rate * 28:.1f} ({lo * 28:.1f} – {hi * 28:.1f})",
                "incidents measured on telemetry": m.get("impacts_measured"),
                "median budget minutes per incident": _number(m.get("impact_budget_minutes_median"), 2),
                "quiet days resampled": m.get("background_days"),
                "median background budget minutes per day": _number(
                    m.get("background_budget_minutes_per_day_median"), 2
                ),
            }
        )
    return frame(rows, _MODEL_COLUMNS, SEE_ABOVE)
