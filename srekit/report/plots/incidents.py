"""Plots for the incident and forecast sections. Each takes a result object and draws it; no
computation happens here (the numbers come from
``srekit.analysis.incidents`` / ``srekit.analysis.forecast``)."""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.ticker import PercentFormatter

from srekit.analysis.forecast.result import BudgetForecast, SLOForecast
from srekit.analysis.incidents.analyze import IncidentReport
from srekit.report.plots.base import labelled_bars, new_axes, no_data, plain_log_labels

_COLORS = {"ttd": "#4c72b0", "tta": "#dd8452", "ttm": "#55a868", "ttr": "#c44e52"}


#: Why the forecast charts are empty (the page's text above them says which SLOs and why).
NO_FORECAST = "no SLO could be forecast, so there are no simulated windows to draw (the text above says why)."


def _no_incidents(report: IncidentReport) -> str:
    if report.incidents:
        return "no incident has the timestamps this chart needs."
    return "there are no incidents in the analysed period to draw."


def plot_survival(report: IncidentReport, *, ax: Axes | None = None) -> Axes:
    """Kaplan–Meier curves: share of incidents not yet detected / acknowledged / mitigated /
    resolved after a given time (open incidents included as censored)."""
    ax = new_axes(ax, (8, 4))
    if not report.metrics:
        return no_data(ax, "How long incidents take at each stage", _no_incidents(report))
    for name, m in report.metrics.items():
        t = np.asarray(m.km_time_s) / 60.0
        s = np.asarray(m.km_survival)
        ax.step(
            np.concatenate([[0.0], t]),
            np.concatenate([[1.0], s]),
            where="post",
            color=_COLORS[name],
            label=f"{m.label} ({m.n} incidents, {m.censored} still open)",
        )
    ax.set_xscale("symlog", linthresh=1.0)
    plain_log_labels(ax.xaxis)
    ax.set_ylim(0, 1.02)
    ax.set_xlabel("minutes since the incident started (or was detected, for acknowledge)")
    ax.set_ylabel("share of incidents not yet at this stage")
    ax.set_title("How long incidents take at each stage")
    if report.metrics:
        ax.legend(loc="upper right", fontsize=8)
    return ax


def plot_medians(report: IncidentReport, *, ax: Axes | None = None) -> Axes:
    """Median of each stage with its 90% interval, and the smallest change in the mean that
    this many incidents could reveal."""
    ax = new_axes(ax, (8, 3))
    names = list(report.metrics)
    if not names:
        return no_data(ax, "Typical durations and how much they could honestly change", _no_incidents(report))
    y = np.arange(len(names))
    med = np.array([report.metrics[n].median.total_seconds() / 60 for n in names])
    lo = np.array([report.metrics[n].median_ci[0].total_seconds() / 60 for n in names])
    hi = np.array([report.metrics[n].median_ci[1].total_seconds() / 60 for n in names])
    det = np.array([report.metrics[n].detectable_change.total_seconds() / 60 for n in names])
    ax.errorbar(
        med, y, xerr=[med - lo, hi - med], fmt="o", color="#333333", capsize=4, label="median with 90% interval"
    )
    ax.barh(y, det, height=0.3, color="#bbbbbb", alpha=0.7, label="smallest detectable change in the mean")
    ax.set_yticks(y, [report.metrics[n].label for n in names])
    ax.set_xlabel("minutes")
    ax.set_title("Typical durations and how much they could honestly change")
    if names:
        ax.legend(loc="lower right", fontsize=8)
    return ax


def plot_detection(report: IncidentReport, *, ax: Axes | None = None) -> Axes:
    """How incidents were detected: counts per source."""
    ax = new_axes(ax, (6, 3))
    d = report.detection
    if not len(d):
        return no_data(ax, "Who noticed the incident first", _no_incidents(report))
    if len(d):
        colors = ["#c44e52" if s == "customer" else "#4c72b0" for s in d["detection"]]
        ax.barh(d["detection"], d["count"], color=colors)
        ax.invert_yaxis()
    ax.set_xlabel("incidents")
    ax.set_title("Who noticed the incident first")
    return ax


def plot_causes(report: IncidentReport, *, ax: Axes | None = None) -> Axes:
    """Incident causes ranked by error-budget minutes (when measured) or by count."""
    ax = new_axes(ax, (8, 4))
    c = report.cause
    if not len(c):
        return no_data(ax, "Causes of incidents", _no_incidents(report))
    if len(c):
        col = "budget_minutes" if "budget_minutes" in c.columns else "count"
        colors = ["#dd8452" if r else "#8c8c8c" for r in c["repeat"]]
        ax.barh(c["cause"], c[col], color=colors)
        ax.invert_yaxis()
        ax.set_xlabel("error-budget minutes used" if col == "budget_minutes" else "incidents")
    ax.set_title("Causes of incidents (orange = happened more than once)")
    return ax


def plot_fan(forecast: SLOForecast | None, *, ax: Axes | None = None) -> Axes:
    """Fan chart: how much of the error budget will be used, day by day, over the next window
    (dark band: middle half of the simulations; light band: 80% of them)."""
    ax = new_axes(ax, (8, 4))
    if forecast is None:
        return no_data(ax, "Expected error-budget use", NO_FORECAST)
    f = forecast.fan
    days = f.index.to_numpy()
    ax.fill_between(days, f["p10"] * 100, f["p90"] * 100, color="#4c72b0", alpha=0.2, label="80% of simulations")
    ax.fill_between(days, f["p25"] * 100, f["p75"] * 100, color="#4c72b0", alpha=0.4, label="middle half")
    ax.plot(days, f["p50"] * 100, color="#1f3b70", label="median")
    ax.axhline(100, color="#c44e52", linestyle="--", label="budget used up")
    ax.set_xlim(days[0], days[-1])
    ax.set_ylim(bottom=0)
    ax.set_xlabel("day of the next SLO window")
    ax.set_ylabel("error budget used (%)")
    ax.set_title(f"{forecast.slo}: expected error-budget use over the next {forecast.window_days} days")
    ax.legend(loc="upper left", fontsize=8)
    return ax


def plot_consumption(forecast: SLOForecast | None, *, ax: Axes | None = None) -> Axes:
    """Distribution of the budget used by the end of the next window."""
    ax = new_axes(ax, (7, 3.5))
    if forecast is None:
        return no_data(ax, "Budget used by the end of the window", NO_FORECAST)
    ax.hist(forecast.consumed * 100, bins=60, color="#4c72b0", alpha=0.8)
    ax.axvline(100, color="#c44e52", linestyle="--", label=f"budget used up (chance {forecast.p_exhaust:.0%})")
    ax.set_xlabel("error budget used by the end of the window (%)")
    ax.set_ylabel("simulated windows")
    ax.set_title(f"{forecast.slo}: how much budget the next window may take")
    ax.legend(fontsize=8)
    return ax


def plot_what_ifs(forecast: BudgetForecast, slo: str | None, *, ax: Axes | None = None) -> Axes:
    """Chance of using up the budget now and under each improvement."""
    ax = new_axes(ax, (7, 3))
    base = next((f for f in forecast.per_slo if f.slo == slo), None)
    if base is None:
        return no_data(ax, "What would help most", NO_FORECAST)
    rows = [w for w in forecast.what_ifs if w.slo == slo]
    labels = ["as today"] + [f"{w.name} ({w.change})" for w in rows]
    values = [base.p_exhaust * 100] + [w.p_exhaust * 100 for w in rows]
    ax.barh(labels, values, color=["#8c8c8c"] + ["#55a868"] * len(rows))
    ax.invert_yaxis()
    ax.set_xlabel("chance of using up the error budget (%)")
    ax.set_title(f"{slo}: what would help most")
    return ax


def plot_forecast_risk(risk: pd.DataFrame, *, ax: Axes | None = None) -> Axes:
    """Chance that each SLO's error budget runs out in the next window (``tables.forecast_risk``
    output), from the Monte Carlo forecast."""
    ax = new_axes(ax, (7.0, 0.6 + 0.4 * max(len(risk), 1)))
    title = "Chance of running out of error budget in the next window"
    if risk.empty:
        return no_data(ax, title, str(risk.attrs.get("empty") or NO_FORECAST))
    labelled_bars(ax, risk, "slo", "p_exhaust", "{:.0%}", "#b35a3a")
    ax.xaxis.set_major_formatter(PercentFormatter(1.0))
    ax.set_xlim(0, 1.1)
    ax.set_title(title)
    ax.set_xlabel("Chance (share of simulated futures)")
    ax.set_ylabel("SLO")
    return ax
