"""Shared plumbing of the ``plots_*`` modules: a fresh figure when no axes are given, and an
honest "no data" panel instead of an empty chart."""

from __future__ import annotations

import matplotlib.pyplot as plt
from matplotlib.axes import Axes


def new_axes(ax: Axes | None, size: tuple[float, float]) -> Axes:
    """``ax`` itself, or the axes of a new figure of ``size`` inches."""
    if ax is not None:
        return ax
    _, new = plt.subplots(figsize=size)
    return new


def no_data(ax: Axes, title: str, message: str = "No data for this chart") -> Axes:
    """Title the panel and say there is nothing to draw (no empty axes that look like zeros)."""
    ax.set_title(title)
    ax.text(0.5, 0.5, message, ha="center", va="center", transform=ax.transAxes)
    ax.set_axis_off()
    return ax
