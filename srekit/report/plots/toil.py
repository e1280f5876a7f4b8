"""Plots for the toil section and the backlog: ``plot_x(result, *, ax=None) -> Axes``.

No computation here: the numbers come from the results of :mod:`srekit.analysis.toil`
(:class:`~srekit.analysis.toil.analyze.ToilReport`) and :mod:`srekit.analysis.backlog`
(:class:`~srekit.analysis.backlog.model.Backlog`); the tables are in :mod:`srekit.report.tables`.
"""

from __future__ import annotations

import textwrap
from typing import TYPE_CHECKING

import pandas as pd
from matplotlib.axes import Axes

from srekit.report.plots.base import labelled_bars, new_axes, no_data

if TYPE_CHECKING:
    from srekit.analysis.backlog.model import Backlog
    from srekit.analysis.toil.analyze import ToilReport


NO_TOIL = "there is no toil log and no pages log, so toil could not be measured."
NO_WEEKS = "the log spans too few weeks to draw a trend."


def plot_toil_trend(report: ToilReport, *, ax: Axes | None = None, top: int = 5) -> Axes:
    """One line per task: hours spent each week on the ``top`` biggest tasks (``report.weekly``)."""
    ax = new_axes(ax, (8, 4))
    weekly = report.weekly.loc[:, [t.task for t in report.inventory[:top] if t.task in report.weekly.columns]]
    if weekly.empty or not len(weekly.columns):
        return no_data(ax, "Toil hours per week over time", NO_TOIL if report.source == "none" else NO_WEEKS)
    for task in weekly.columns:
        ax.plot(weekly.index, weekly[task], marker="o", markersize=3, label=str(task))
    ax.set_title("Toil hours per week over time")
    ax.set_xlabel("Week starting")
    ax.set_ylabel("Hours per week")
    if len(weekly.columns):
        ax.legend(loc="upper left", fontsize="small", frameon=False)
    ax.figure.autofmt_xdate()
    return ax


def plot_share_vs_cap(report: ToilReport, *, ax: Axes | None = None) -> Axes:
    """The team's toil share next to the on-call floor and the SRE book's 50% cap."""
    ax = new_axes(ax, (8, 2.6))
    if report.source == "none":
        return no_data(ax, "Share of the team's time spent on toil", NO_TOIL)
    labels = ["Toil in the log", "On-call page handling (floor)", "Toil share used"]
    values = [report.logged_share_of_team_time * 100, report.oncall_floor.share * 100, report.share_of_team_time * 100]
    colors = ["#8da0cb", "#a6d854", "#d62728" if report.over_cap else "#4c72b0"]
    ax.barh(labels[::-1], values[::-1], color=colors[::-1])
    ax.axvline(report.cap * 100, color="black", linestyle="--", label=f"Cap: {report.cap:.0%} of team time")
    ax.set_xlim(0, 100)
    ax.set_title("Share of the team's time spent on toil")
    ax.set_xlabel("Percent of team working time")
    ax.legend(loc="lower right", fontsize="small", frameon=False)
    return ax


def plot_roi(report: ToilReport, *, ax: Axes | None = None) -> Axes:
    """Box plots of simulated net hours saved over the horizon for each candidate."""
    ax = new_axes(ax, (8, max(2.5, 0.6 * len(report.candidates) + 1.5)))
    cands = list(report.candidates)[::-1]
    if not cands:
        title = "Hours saved by automating, after paying for it"
        return no_data(ax, title, NO_TOIL if report.source == "none" else "no task is an automation candidate.")
    if cands:
        ax.boxplot([c.net_hours_draws for c in cands], orientation="horizontal", whis=(10, 90), showfliers=False)
        ax.set_yticks(range(1, len(cands) + 1), [c.task for c in cands])
    ax.axvline(0, color="black", linestyle="--", linewidth=1)
    ax.set_title(f"Hours saved by automating, after paying for it ({report.horizon_weeks} weeks)")
    ax.set_xlabel("Net engineer hours saved (box: middle half, whiskers: 10%–90%)")
    ax.set_ylabel("Task")
    return ax


def plot_backlog(backlog: Backlog, *, ax: Axes | None = None, top: int = 12) -> Axes:
    """Horizontal bars: priority score of the top backlog items (higher = do first)."""
    items = list(backlog.items[:top])[::-1]
    ax = new_axes(ax, (8, max(2.5, 0.45 * len(items) + 1.5)))
    if not items:
        return no_data(ax, "Reliability backlog: impact for the effort", "nothing in this report called for work.")
    ax.barh(
        [f"{i.rank}. " + textwrap.shorten(i.title, 60, placeholder=" …") for i in items],
        [i.score for i in items],
        color="#4c72b0",
    )
    ax.set_title("Reliability backlog: impact for the effort")
    ax.set_xlabel("Priority score (share of a quarter's budget or team time saved per effort point)")
    return ax


def plot_toil_hours(toil: pd.DataFrame, *, ax: Axes | None = None) -> Axes:
    """Hours per week spent on each toil task (``tables.toil_hours`` output), biggest on top."""
    ax = new_axes(ax, (7.0, 0.6 + 0.4 * max(len(toil), 1)))
    title = "Where the team's toil time goes"
    if toil.empty:
        return no_data(ax, title, str(toil.attrs.get("empty") or NO_TOIL))
    shown = labelled_bars(ax, toil, "task", "hours_per_week", "{:.1f} h", "#7a5ea8")
    ax.set_xlim(0, float(shown["hours_per_week"].max()) * 1.25 + 0.1)
    ax.set_title(title)
    ax.set_xlabel("Hours per week")
    ax.set_ylabel("Task")
    return ax
