"""Shared plumbing of the ``plots_*`` modules: a fresh figure when no axes are given, an honest
"no data" panel instead of an empty chart, and cheap-to-draw tick labels and time axes."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.axis import Axis
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import LogFormatter

from srekit.report.nbshow import FIGURE_DPI, NO_DATA_LABEL, NO_DATA_SEP


def new_axes(ax: Axes | None, size: tuple[float, float]) -> Axes:
    """``ax`` itself, or the axes of a new figure of ``size`` inches.

    The figure is a plain :class:`~matplotlib.figure.Figure`, not a pyplot one: no GUI backend
    or figure manager is loaded (a report kernel saves ~0.2 s of imports) and nothing needs
    closing; :func:`srekit.report.nbshow.show_figure` displays it. It is created at the report's dpi
    on an Agg canvas, which lets :func:`srekit.report.nbshow.crop_box` measure it without a draw.
    """
    if ax is not None:
        return ax
    fig = Figure(figsize=size, dpi=FIGURE_DPI)
    FigureCanvasAgg(fig)  # measuring text (crop box, layout) reuses this canvas' renderer
    return fig.add_subplot()


def labelled_bars(ax: Axes, frame: pd.DataFrame, name: str, value: str, fmt: str, color: Any) -> pd.DataFrame:
    """Labelled horizontal bars, first row on top; returns the rows in drawing order."""
    shown = frame.iloc[::-1]
    bars = ax.barh(shown[name].astype(str), shown[value], color=color)
    ax.bar_label(bars, labels=[fmt.format(v) for v in shown[value]], padding=3, fontsize=9)
    return shown


def no_data(ax: Axes, title: str, message: str = "there is no data for this chart.") -> Axes:
    """Title the panel and say there is nothing to draw (no empty axes that look like zeros).
    The figure is labelled so a report page shows one sentence (``title: message``) instead of
    a picture of nothing (:func:`srekit.report.nbshow.figure_html`)."""
    ax.set_title(title)
    ax.text(0.5, 0.5, message, ha="center", va="center", transform=ax.transAxes, wrap=True)
    ax.set_axis_off()
    ax.figure.set_label(f"{NO_DATA_LABEL}{title}{NO_DATA_SEP}{message}")
    return ax


def number_label(v: float) -> str:
    """``1,000`` / ``20`` / ``0.5``: a log-axis tick value in plain digits."""
    return f"{v:,.0f}" if abs(v) >= 1 else f"{v:g}"


def percent_label(v: float) -> str:
    """``10%`` / ``1%`` / ``0.05%``: a share on a log axis, with just the decimals it needs."""
    if v <= 0:
        return "0%"
    return f"{v:.{max(0, -math.floor(math.log10(v) + 1e-9) - 2)}%}"


class PlainLogFormatter(LogFormatter):
    """Labels the ticks matplotlib's log formatter would label, as plain text ``fmt(value)``.

    Matplotlib's default log labels are mathtext (``$10^{2}$``): parsing them costs a report
    kernel 0.1–0.4 s per chart, more than drawing the rest of it.
    """

    def __init__(self, fmt: Callable[[float], str]) -> None:
        super().__init__(base=10.0, labelOnlyBase=False)
        self._fmt = fmt

    def __call__(self, x: float, pos: int | None = None) -> str:
        return self._fmt(x) if super().__call__(x, pos) else ""


def plain_log_labels(axis: Axis, fmt: Callable[[float], str] = number_label) -> None:
    """Plain-text tick labels on a log or symlog ``axis`` (call after setting the scale, which
    resets the formatters). Minor ticks of a log axis keep matplotlib's rule for which get a
    label (some do when the axis spans few decades); a symlog axis labels major ticks only."""
    axis.set_major_formatter(PlainLogFormatter(fmt))
    if axis.get_scale() == "log":
        axis.set_minor_formatter(PlainLogFormatter(fmt))


def plot_times(times: pd.Series | pd.Index) -> np.ndarray:
    """Timestamps as naive UTC ``datetime64`` for the x of a line.

    Matplotlib converts timezone-aware pandas values one Python object at a time (~0.1 s per
    2,000-point line); ``datetime64`` goes through its vectorised date conversion. Axis labels
    read UTC either way (matplotlib's default timezone).
    """
    idx = pd.DatetimeIndex(times)
    if idx.tz is not None:
        idx = idx.tz_convert("UTC").tz_localize(None)
    return idx.to_numpy()
