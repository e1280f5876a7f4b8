"""Figures for SLIs, SLO options and error budgets (notebook 02). Each function draws the plot
data the results carry (:class:`srekit.analysis.slo.results.SloProposal`,
:class:`srekit.analysis.budget.ErrorBudgetPolicy`) on one Axes; no computation here."""

from __future__ import annotations

import pandas as pd
from matplotlib.axes import Axes
from matplotlib.ticker import FixedLocator, FuncFormatter, LogLocator, PercentFormatter

from srekit.report.plots.base import labelled_bars, new_axes, no_data, percent_label, plain_log_labels, plot_times

MARKERS = ("o", "s", "^", "D", "v", "P", "X")


def plot_latency_distribution(distributions: pd.DataFrame, thresholds: pd.DataFrame, *, ax: Axes | None = None) -> Axes:
    """Share of requests slower than each latency (log–log), one line per journey, with the
    proposed threshold for each target marked (one marker shape per target).

    ``distributions``: ``SloProposal.distributions`` (label, edge_ms, slower_share);
    ``thresholds``: ``SloProposal.thresholds_frame()`` (label, target, threshold_ms, slower_share).
    """
    ax = new_axes(ax, (8.0, 4.5))
    kinds = set(distributions["kind"]) if "kind" in distributions.columns else {"latency"}
    series_only = bool(kinds) and kinds <= {"timeslice"}
    title = "How often was the series statistic high?" if series_only else "How slow are the slowest requests?"
    shown = distributions[distributions["slower_share"] > 0]
    if shown.empty:
        return no_data(ax, title, "there is no latency history (request telemetry or a series) to draw.")
    targets = sorted(thresholds["target"].unique())
    colors = {}
    for label, part in shown.groupby("label", sort=True):
        colors[label] = ax.plot(part["edge_ms"], part["slower_share"], label=str(label), linewidth=1.5)[0].get_color()
    for i, target in enumerate(targets):
        marks = thresholds[(thresholds["target"] == target) & (thresholds["slower_share"] > 0)]
        ax.scatter(
            marks["threshold_ms"],
            marks["slower_share"],
            marker=MARKERS[i % len(MARKERS)],
            s=55,
            facecolors="none",
            edgecolors=[colors.get(lb, "black") for lb in marks["label"]],
            linewidths=1.5,
            zorder=3,
        )
        ax.scatter(
            [],
            [],
            marker=MARKERS[i % len(MARKERS)],
            facecolors="none",
            edgecolors="black",
            label=f"threshold for {target:.1%} of {'samples' if series_only else 'requests'}",
        )
    ax.set_xscale("log")
    ax.set_yscale("log")
    for axis in (ax.xaxis, ax.yaxis):  # gridlines at 1-2-5 per decade, not at every digit (a third of the drawing)
        axis.set_minor_locator(LogLocator(base=10, subs=(2.0, 5.0)))
    plain_log_labels(ax.xaxis)
    plain_log_labels(ax.yaxis, percent_label)
    if series_only:
        ax.set_xlabel("Value of the statistic (milliseconds, log scale)")
        ax.set_ylabel("Share of samples above this (log scale)")
    else:
        ax.set_xlabel("Latency (milliseconds, log scale)")
        ax.set_ylabel(
            "Share slower than this (log scale)" + ("; series: samples above" if "timeslice" in kinds else "")
        )
    ax.set_title(title)
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=8)
    return ax


def plot_budget_burn_down(burn_down: pd.DataFrame, *, ax: Axes | None = None) -> Axes:
    """Error budget remaining through the current SLO window, one line per SLO
    (``ErrorBudgetPolicy.burn_down``)."""
    ax = new_axes(ax, (8.0, 4.5))
    title = "Error budget left in the current window"
    if burn_down.empty:
        return no_data(ax, title, "no error budget could be measured: no telemetry or series in the analysed period.")
    for slo, part in burn_down.groupby("slo", sort=True):
        ax.plot(plot_times(part["time"]), part["remaining"], label=str(slo))
    ax.axhline(0.0, color="black", linewidth=0.8)
    ax.set_ylim(-0.02, 1.02)
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:.0%}"))
    ax.set_xlabel("Date (UTC)")
    ax.set_ylabel("Budget left")
    ax.set_title(title)
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=8, ncol=3, loc="upper center", bbox_to_anchor=(0.5, -0.25))
    ax.figure.autofmt_xdate()
    return ax


def plot_burn_rates(history: pd.DataFrame, *, window: str = "1d", ax: Axes | None = None) -> Axes:
    """Burn rate over a trailing ``window`` through the whole history, one line per SLO
    (``ErrorBudgetPolicy.burn_rate_history``); 1 = on pace to spend exactly the budget."""
    ax = new_axes(ax, (8.0, 4.5))
    title = f"How fast the error budget burned (over the previous {window})"
    part = history[history["window"] == window] if not history.empty else history
    if part.empty:
        return no_data(ax, title, "no burn rate could be measured: no telemetry or series in the analysed period.")
    for slo, p in part.groupby("slo", sort=True):
        ax.plot(plot_times(p["time"]), p["burn_rate"], label=str(slo), linewidth=1)
    ax.axhline(1.0, color="black", linestyle="--", linewidth=1, label="1 = budget lasts exactly the window")
    ax.set_yscale("symlog", linthresh=1.0, linscale=1.5)
    ax.set_ylim(bottom=0)
    ax.yaxis.set_major_locator(FixedLocator([0, 0.5, 1, 2, 5, 10, 20, 50, 100, 200, 500, 1000]))
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
    ax.set_xlabel("Date (UTC)")
    ax.set_ylabel("Burn rate (times the sustainable pace)")
    ax.set_title(title)
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=8, ncol=3, loc="upper center", bbox_to_anchor=(0.5, -0.25))
    ax.figure.autofmt_xdate()
    return ax


def plot_budget_consumed(budgets: pd.DataFrame, *, ax: Axes | None = None) -> Axes:
    """Share of each SLO's error budget used so far (``tables.budget_consumed`` output), with
    the warning (75%) and exhausted (100%) marks."""
    ax = new_axes(ax, (7.0, 0.6 + 0.4 * max(len(budgets), 1)))
    title = "How much of each error budget is used"
    if budgets.empty:
        return no_data(ax, title, str(budgets.attrs.get("empty") or "no error budget could be computed."))
    colors = {"healthy": "#3b8a5a", "warning": "#d9a21b", "critical": "#b33a3a", "no_data": "#777777"}
    shown = labelled_bars(
        ax, budgets, "slo", "consumed", "{:.0%}", [colors.get(s, "#777777") for s in budgets["status"].iloc[::-1]]
    )
    ax.axvline(0.75, color="#d9a21b", linestyle="--", linewidth=1, label="warning (75% used)")
    ax.axvline(1.0, color="#b33a3a", linestyle="-", linewidth=1, label="budget gone (100%)")
    ax.xaxis.set_major_formatter(PercentFormatter(1.0))
    ax.set_xlim(0, max(1.15, float(shown["consumed"].max()) * 1.2))
    ax.set_title(title)
    ax.set_xlabel("Share of the error budget used in the current window")
    ax.set_ylabel("SLO")
    ax.legend(loc="lower right", fontsize=8, frameon=False)
    return ax


def plot_attribution(shares: pd.DataFrame, *, ax: Axes | None = None) -> Axes:
    """Who spent each SLO's budget: one stacked horizontal bar per SLO, a segment per incident,
    the deploy hours together and the background, as shares of the SLO's bad events.

    ``shares``: :func:`srekit.report.tables.attribution_shares` (slo, source, share)."""
    title = "Who spent the error budget (share of bad events)"
    if shares.empty:
        return no_data(ax or new_axes(None, (8.0, 3.0)), title, "no SLO had a bad event to attribute.")
    wide = shares.pivot_table(index="slo", columns="source", values="share", aggfunc="sum", fill_value=0.0, sort=False)
    last = [c for c in ("deploys", "background") if c in wide.columns]
    wide = wide[[c for c in wide.columns if c not in last] + last]
    ax = new_axes(ax, (8.0, 0.5 * len(wide) + 1.8))
    left = pd.Series(0.0, index=wide.index)
    for source in wide.columns:
        color = "0.75" if source == "background" else ("0.45" if source == "deploys" else None)
        ax.barh(wide.index.astype(str), wide[source], left=left, label=str(source), color=color)
        left = left + wide[source]
    ax.xaxis.set_major_formatter(PercentFormatter(1.0))
    ax.set_xlim(0, 1)
    ax.invert_yaxis()
    ax.set_title(title)
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize="small", title="spent by")
    return ax
