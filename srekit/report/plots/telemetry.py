"""Telemetry plots for the walking-skeleton notebook (01_telemetry) and the report notebook.

Each function draws already-computed data (:func:`srekit.analysis.overview.traffic_mix`,
:func:`srekit.analysis.overview.golden_signals`) on an Axes and returns it: no computation inside, titles
and axis labels in plain words. Empty input draws a "no data" note instead of failing.
"""

from __future__ import annotations

from typing import Any

import pandas as pd
from matplotlib.axes import Axes
from matplotlib.ticker import FuncFormatter, PercentFormatter

from srekit.report.plots.base import labelled_bars, new_axes, no_data, plain_log_labels, plot_times

#: Why the request charts are empty.
NO_REQUESTS = "there is no request telemetry (counts of requests, failures and latency buckets) to draw this from."


def plot_traffic_mix(mix: pd.DataFrame, *, ax: Axes | None = None) -> Axes:
    """Horizontal bars: each journey's share of all requests (busiest on top)."""
    ax = new_axes(ax, (7.0, 0.5 + 0.45 * max(len(mix), 1)))
    title = "Share of all requests by user journey"
    if mix.empty:
        return no_data(ax, title, NO_REQUESTS)
    shown = labelled_bars(ax, mix, "journey", "traffic_share", "{:.1%}", "#3b6ea8")
    ax.xaxis.set_major_formatter(PercentFormatter(1.0))
    ax.set_xlim(0, min(1.0, float(shown["traffic_share"].max()) * 1.25 + 0.02))
    ax.set_title(title)
    ax.set_xlabel("Share of requests")
    ax.set_ylabel("Journey")
    return ax


def _per_journey(signals: pd.DataFrame, column: str, ax: Axes, title: str, ylabel: str, **kw: Any) -> Axes:
    if signals.empty:
        return no_data(ax, title, NO_REQUESTS)
    for journey, part in signals.groupby("journey", sort=True):
        ax.plot(plot_times(part["period_start"]), part[column], label=str(journey), linewidth=1.0, **kw)
    ax.set_title(title)
    ax.set_xlabel("Time (UTC)")
    ax.set_ylabel(ylabel)
    ax.legend(loc="upper left", fontsize=8, frameon=False)
    ax.figure.autofmt_xdate()
    return ax


def plot_traffic(signals: pd.DataFrame, *, ax: Axes | None = None) -> Axes:
    """Requests per period for each journey (the traffic golden signal)."""
    ax = new_axes(ax, (8.0, 3.6))
    ax = _per_journey(signals, "requests", ax, "Traffic: requests per period", "Requests")
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:,.0f}"))
    return ax


def plot_error_ratio(signals: pd.DataFrame, *, ax: Axes | None = None) -> Axes:
    """Share of failed requests per period for each journey (the errors golden signal)."""
    ax = new_axes(ax, (8.0, 3.6))
    ax = _per_journey(signals, "error_ratio", ax, "Errors: share of requests that failed", "Failed requests")
    ax.yaxis.set_major_formatter(PercentFormatter(1.0, decimals=1))
    return ax


def plot_latency(signals: pd.DataFrame, column: str = "p99_ms", *, ax: Axes | None = None) -> Axes:
    """A latency percentile per period for each journey, on a log scale (the latency golden
    signal). ``column`` is one of golden_signals' ``p<q>_ms`` columns."""
    ax = new_axes(ax, (8.0, 3.6))
    pct = column.removeprefix("p").removesuffix("_ms")
    title = f"Latency: {pct}% of requests were faster than this"
    ax = _per_journey(signals, column, ax, title, "Milliseconds (log scale)")
    if not signals.empty and signals[column].notna().any():
        ax.set_yscale("log")
        plain_log_labels(ax.yaxis)
    return ax


def plot_series(series: pd.DataFrame, *, ax: Axes | None = None) -> Axes:
    """The recorded statistic of each gauge series over the analysed period: the median and the
    highest sample per period (``Analysis.series_signals``: journey, period_start, median, max)."""
    ax = new_axes(ax, (8.0, 3.6))
    title = "The series: median and highest sample per period"
    if series.empty:
        return no_data(ax, title, "no series was given, or none of its samples falls in the analysed period.")
    for journey, part in series.groupby("journey", sort=True):
        t = plot_times(part["period_start"])
        line = ax.plot(t, part["median"], label=f"{journey}: median", linewidth=1.0)[0]
        ax.plot(t, part["max"], label=f"{journey}: highest", linewidth=0.8, linestyle=":", color=line.get_color())
    if (series["max"] > 0).any():
        ax.set_yscale("log")
        plain_log_labels(ax.yaxis)
    ax.set_title(title)
    ax.set_xlabel("Time (UTC)")
    ax.set_ylabel("Value (milliseconds, log scale)")
    ax.legend(loc="upper left", fontsize=8, frameon=False)
    ax.figure.autofmt_xdate()
    return ax
