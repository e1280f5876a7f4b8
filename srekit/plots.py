"""Shared plumbing of the ``plots_*`` modules: a fresh figure when no axes are given, and an
honest "no data" panel instead of an empty chart."""

from __future__ import annotations

from matplotlib.axes import Axes
from matplotlib.figure import Figure


def new_axes(ax: Axes | None, size: tuple[float, float]) -> Axes:
    """``ax`` itself, or the axes of a new figure of ``size`` inches.

    The figure is a plain :class:`~matplotlib.figure.Figure`, not a pyplot one: no backend or
    figure manager is loaded (a report kernel saves ~0.2 s of imports) and nothing needs closing;
    :func:`srekit.nbshow.show_figure` displays it.
    """
    if ax is not None:
        return ax
    return Figure(figsize=size).add_subplot()


def no_data(ax: Axes, title: str, message: str = "No data for this chart") -> Axes:
    """Title the panel and say there is nothing to draw (no empty axes that look like zeros)."""
    ax.set_title(title)
    ax.text(0.5, 0.5, message, ha="center", va="center", transform=ax.transAxes)
    ax.set_axis_off()
    return ax
