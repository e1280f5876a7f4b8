"""Alerting plots: the history timeline with incidents and firings, the explain chart and the
pages-per-week comparison. Each function draws already-computed data and returns its Axes; no
computation inside; titles and labels in plain words."""

from __future__ import annotations

import matplotlib.dates as mdates
import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.collections import PolyCollection

from srekit.analysis.alerting.analyze import AlertingReport
from srekit.analysis.explain import Explanation
from srekit.report.plots.base import labelled_bars, new_axes, no_data, plain_log_labels, plot_times

PAGE, TICKET, INCIDENT = "#c0392b", "#2e6da4", "#f4c7c3"


def _days(times: pd.Series) -> np.ndarray:
    """Matplotlib date numbers (days) of timestamps, vectorised."""
    return np.asarray(mdates.date2num(plot_times(times)), dtype=float)


def _rectangles(x0: np.ndarray, x1: np.ndarray, y0: np.ndarray, y1: np.ndarray) -> list[np.ndarray]:
    """The 4 corners of each axis-aligned rectangle, for a PolyCollection."""
    return list(
        np.stack(
            [
                np.column_stack([x0, y0]),
                np.column_stack([x0, y1]),
                np.column_stack([x1, y1]),
                np.column_stack([x1, y0]),
            ],
            axis=1,
        )
    )


def plot_alert_timeline(report: AlertingReport, *, ax: Axes | None = None) -> Axes:
    """One row per rule: when it would have fired (red = page, blue = ticket); incidents
    shaded in the background."""
    rules = report.timeline_rules()
    ax = new_axes(ax, (10.0, 1.2 + 0.28 * max(len(rules), 1)))
    title = "When each alert rule would have fired (shaded: incidents)"
    if report.start is None or not rules:
        return no_data(ax, title, "there is no telemetry or series history to replay the alert rules on.")
    row = {name: i for i, name in enumerate(rules)}
    min_days = 1 / 48  # half an hour: keep one-minute incidents and firings visible
    # one collection per layer, not one artist per bar: a rectangle each, drawn in order
    impacts = report.impacts()
    lo, hi = _days(impacts["start"]), _days(impacts["end"])
    ax.add_collection(
        PolyCollection(
            _rectangles(lo, np.maximum(hi, lo + min_days), np.zeros(len(lo)), np.ones(len(lo))),
            transform=ax.get_xaxis_transform(),
            color=INCIDENT,
            alpha=0.8,
            linewidths=0,
        ),
        autolim=False,
    )
    f = report.firings
    lo, hi = _days(f["start"]), _days(f["end"])
    y = np.array([row[str(rule)] for rule in f["rule"]], dtype=float)
    ax.add_collection(
        PolyCollection(
            _rectangles(lo, np.maximum(hi, lo + min_days), y - 0.35, y + 0.35),
            color=[PAGE if s == "page" else TICKET for s in f["severity"]],
        ),
        autolim=False,
    )
    ax.set_yticks(range(len(rules)), rules, fontsize=7)
    ax.set_ylim(len(rules) - 0.5, -0.5)
    ax.set_xlim(float(mdates.date2num(report.start)), float(mdates.date2num(report.end or report.start)))
    ax.xaxis.set_major_formatter(mdates.DateFormatter("%d %b"))
    ax.set_title(title)
    ax.set_xlabel("Date (UTC)")
    ax.set_ylabel("Alert rule (SLO / severity / window)")
    return ax


def plot_explain(explanation: Explanation, *, ax: Axes | None = None) -> Axes:
    """Time to fire and time to reset (log scale) of each rule and Workbook approach under
    the explained error ratio."""
    items = list(explanation.rules) + list(explanation.approaches)
    ax = new_axes(ax, (9.0, 1.0 + 0.42 * len(items)))
    names = [b.name for b in items]
    fire = [b.fires_after.total_seconds() / 60 if b.fires_after is not None else float("nan") for b in items]
    reset = [b.resets_after.total_seconds() / 60 for b in items]
    y = range(len(items))
    ax.barh([i - 0.2 for i in y], fire, height=0.4, color=PAGE, label="time until it fires")
    ax.barh([i + 0.2 for i in y], reset, height=0.4, color=TICKET, label="time until it clears after errors stop")
    ax.set_yticks(list(y), names, fontsize=8)
    ax.invert_yaxis()
    ax.set_xscale("log")
    plain_log_labels(ax.xaxis)
    ax.set_xlabel("Minutes (log scale)")
    ax.set_title(f"How fast alerts fire and clear at a constant {explanation.error_ratio:.0%} error ratio")
    ax.legend(loc="lower right", fontsize=8, frameon=False)
    return ax


def plot_pages_per_week(comparison: pd.DataFrame, *, ax: Axes | None = None) -> Axes:
    """Alerts per week: pages today versus the burn-rate policy and a naive threshold
    (:func:`srekit.report.tables.alerting.pages_per_week` output)."""
    ax = new_axes(ax, (8.0, 0.8 + 0.5 * max(len(comparison), 1)))
    title = "Alerts per week: today versus the proposed policy"
    if comparison.empty:
        return no_data(
            ax, title, str(comparison.attrs.get("empty") or "there is no pages log and no replayed history to compare.")
        )
    labelled_bars(ax, comparison, "source", "per_week", "{:.1f}", TICKET)
    ax.set_xscale("symlog", linthresh=1.0)
    plain_log_labels(ax.xaxis)
    ax.set_xlabel("Alerts per week (log scale above 1)")
    ax.set_title(title)
    return ax
