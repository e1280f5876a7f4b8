"""The explorer's three live charts: the burn-down of the current window, the latency
distribution with the threshold marked, and the replayed alert timeline.

Each chart keeps one figure and splits it in two: the frame (axes, ticks, labels, and data that
only a journey, kind or range change moves) and the data a slider moves (animated artists).
The frame is drawn once and kept as a bitmap; an objective, threshold, window or coverage change
restores it and draws only the moving artists onto it (matplotlib's blitting), then encodes the
PNG a widget shows. The charts draw already-computed frames (the explorer's
:class:`~srekit.analysis.explore.evaluate.Outcome` and distribution); no computation here.
"""

from __future__ import annotations

import io
from collections.abc import Hashable, Sequence
from typing import Any

import matplotlib
import matplotlib.dates as mdates
import numpy as np
import pandas as pd
from matplotlib.artist import Artist
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.collections import PolyCollection
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter
from PIL import Image

from srekit.report.nbshow import PLAIN_TEXT_RC, plain_text
from srekit.report.plots.alerting import INCIDENT, PAGE, TICKET
from srekit.report.plots.base import percent_label, plain_log_labels, plot_times

SIZE = (4.9, 2.9)  # inches: two charts side by side fit a notebook's width
DPI = 100
PNG_LEVEL = 1  # a live chart is re-encoded on every change: zlib speed over size
MIN_BAR_DAYS = 1 / 48  # half an hour: one-minute firings stay visible on a 90-day axis
LOWEST_LEFT = -3.0  # the burn-down's axis stops at 400 % of the budget used


class LiveChart:
    """A figure on an Agg canvas with fixed margins (no layout engine runs on an update), a
    frame redrawn only when it changes and animated artists drawn over it."""

    def __init__(self, title: str, *, margins: tuple[float, float, float, float] = (0.13, 0.2, 0.97, 0.86)) -> None:
        self.figure = Figure(figsize=SIZE, dpi=DPI)
        self.canvas = FigureCanvasAgg(self.figure)
        left, bottom, right, top = margins
        self.figure.subplots_adjust(left=left, bottom=bottom, right=right, top=top)
        self.ax = self.figure.add_subplot()
        self.ax.set_title(title, fontsize=10)
        self.ax.tick_params(labelsize=8)
        self.note = self.ax.text(0.5, 0.5, "", ha="center", va="center", transform=self.ax.transAxes, fontsize=9)
        self.note.set_parse_math(False)
        self._moving: list[Artist] = [self.note]
        self._frame: Hashable = None
        self._background: Any = None
        self.full_draws = 0  # frames drawn (the rest were blits): for tests and the benchmark

    def moving(self, *artists: Artist) -> None:
        """Artists drawn on every update over the kept frame."""
        for a in artists:
            a.set_animated(True)
            self._moving.append(a)

    def frame(self, key: Hashable) -> bool:
        """Declare what the frame shows; a different key redraws it on the next :meth:`png`.
        True when it changed (the caller then sets the axes; otherwise they stay as drawn)."""
        if key == self._frame:
            return False
        self._frame, self._background = key, None
        return True

    def png(self) -> bytes:
        """The chart as PNG bytes: the frame (drawn when it changed) and the moving artists.
        Text is drawn as written, never as mathtext (:func:`srekit.report.nbshow.plain_text`)."""
        if self._background is None:
            with matplotlib.rc_context(PLAIN_TEXT_RC):  # type: ignore[arg-type]
                plain_text(self.figure)
                self.canvas.draw()  # everything but the animated artists
            self._background = self.canvas.copy_from_bbox(self.figure.bbox)
            self.full_draws += 1
        else:
            self.canvas.restore_region(self._background)
        for a in self._moving:
            self.figure.draw_artist(a)
        width, height = self.canvas.get_width_height()
        buf = io.BytesIO()
        Image.frombuffer("RGBA", (width, height), self.canvas.buffer_rgba(), "raw", "RGBA", 0, 1).save(
            buf, format="png", compress_level=PNG_LEVEL
        )
        return buf.getvalue()

    def say(self, text: str) -> None:
        """A message across the plot area (empty: none)."""
        self.note.set_text(text)


class BurnDownChart(LiveChart):
    """Error budget left through the current SLO window, with the even pace that would spend
    exactly the budget by the window's end (dashed)."""

    def __init__(self) -> None:
        super().__init__("Error budget left in the current window")
        (self.left,) = self.ax.plot([], [], color="#2e6da4", linewidth=1.6, label="budget left")
        (self.pace,) = self.ax.plot([], [], color="#777777", linestyle="--", linewidth=1, label="even pace")
        self.moving(self.left)
        self.ax.axhline(0.0, color="black", linewidth=0.8)
        self.ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:.0%}"))
        self.ax.xaxis.set_major_formatter(mdates.DateFormatter("%d %b"))
        self.ax.xaxis.set_major_locator(mdates.AutoDateLocator(maxticks=6))
        self.ax.set_xlabel("Date (UTC)", fontsize=8)
        self.ax.grid(True, alpha=0.3)
        self.ax.legend(fontsize=7, loc="lower left", frameon=False)

    def update(self, burn_down: pd.DataFrame, window_start: pd.Timestamp, window_end: pd.Timestamp) -> bytes:
        """``burn_down``: time, consumed (``srekit.analysis.budget.burn_down``); the nominal
        window runs from ``window_start`` to ``window_end``."""
        lo, hi = plot_times(pd.DatetimeIndex([window_start, window_end]))
        left = np.maximum(1.0 - burn_down["consumed"].to_numpy(dtype=float), LOWEST_LEFT)
        # the axis moves in steps of half a budget, so a slider rarely redraws the frame
        bottom = -0.05 if not len(left) or left.min() >= 0 else float(np.floor(left.min() * 2) / 2) - 0.05
        if self.frame((lo, hi, bottom)):
            self.pace.set_data([lo, hi], [1.0, 0.0])
            self.ax.set_xlim(lo, hi)
            self.ax.set_ylim(bottom, 1.05)
        self.left.set_data(plot_times(burn_down["time"]), left)
        self.say("" if len(left) else "No events in the current window")
        return self.png()


class DistributionChart(LiveChart):
    """Share of events slower than each latency (log–log), the chosen threshold marked. The
    axes move in whole decades, so another journey or range usually only redraws the curve."""

    def __init__(self) -> None:
        super().__init__("Requests slower than each latency", margins=(0.15, 0.2, 0.94, 0.86))
        (self.curve,) = self.ax.plot([], [], color="#2e6da4", linewidth=1.5, marker=".", markersize=3)
        self.line = self.ax.axvline(1.0, color=PAGE, linestyle="--", linewidth=1.2)
        (self.mark,) = self.ax.plot([], [], "o", color=PAGE, markerfacecolor="none", markersize=8)
        self.moving(self.curve, self.line, self.mark)
        self.ax.set_xscale("log")
        self.ax.set_yscale("log")
        self.ax.xaxis.set_minor_locator(LogLocator(base=10, subs=(2.0, 5.0)))
        plain_log_labels(self.ax.xaxis)
        plain_log_labels(self.ax.yaxis, percent_label)
        self.ax.yaxis.set_minor_formatter(NullFormatter())
        self.ax.set_xlabel("Latency (ms, log scale)", fontsize=8)
        self.ax.grid(True, which="major", alpha=0.3)

    def show(self, distribution: pd.DataFrame, sli: str) -> None:
        """The distribution (edge_ms, slower_share) of the range, for a request or gauge SLI."""
        samples = sli == "timeslice"
        title = "Gauge samples above each value" if samples else "Requests slower than each latency"
        shown = distribution[distribution["slower_share"] > 0]
        edges = distribution["edge_ms"].to_numpy(dtype=float)
        x = (_decade(edges.min(), -1), _decade(edges.max(), 1)) if len(edges) else (1.0, 1e5)
        y = (_decade(max(float(shown["slower_share"].min()), 1e-7), -1) if len(shown) else 1e-4, 1.5)
        if self.frame((title, x, y)):
            self.ax.set_title(title, fontsize=10)
            self.ax.set_ylabel("Share of samples above" if samples else "Share slower", fontsize=8)
            self.ax.set_xlim(*x)
            self.ax.set_ylim(*y)
        self.curve.set_data(shown["edge_ms"], shown["slower_share"])
        self.say("" if len(shown) else "No latency data in the range")

    def update(self, threshold_ms: float | None, slower_share: float | None) -> bytes:
        """Mark the threshold and the share of events slower than it (None: no threshold, as
        for an availability SLI)."""
        marked = threshold_ms is not None
        self.line.set_visible(marked)
        self.mark.set_visible(marked and slower_share is not None and slower_share > 0)
        if threshold_ms is not None:
            self.line.set_xdata([threshold_ms, threshold_ms])
            self.mark.set_data([threshold_ms], [slower_share or 0.0])
        return self.png()


class TimelineChart(LiveChart):
    """One row per rule of the SLO: when it would have fired (red: page, blue: ticket);
    incidents of the journey shaded."""

    def __init__(self) -> None:
        super().__init__("When each alert rule would have fired", margins=(0.2, 0.2, 0.97, 0.86))
        self.incidents = PolyCollection(
            [], color=INCIDENT, alpha=0.8, linewidths=0, transform=self.ax.get_xaxis_transform()
        )
        self.bars = PolyCollection([])
        self.ax.add_collection(self.incidents, autolim=False)
        self.ax.add_collection(self.bars, autolim=False)
        self.moving(self.incidents, self.bars)
        self.ax.xaxis.set_major_formatter(mdates.DateFormatter("%d %b"))
        self.ax.xaxis.set_major_locator(mdates.AutoDateLocator(maxticks=6))
        self.ax.set_xlabel("Date (UTC); shaded: incidents", fontsize=8)

    def update(
        self, rules: Sequence[str], firings: pd.DataFrame, impacts: pd.DataFrame, start: pd.Timestamp, end: pd.Timestamp
    ) -> bytes:
        """``firings``: rule, severity, start, end (``Backtest.firings``); ``impacts``: id,
        start, end of the incidents shaded; the axis runs from ``start`` to ``end``."""
        labels = tuple(r.split("/", 1)[-1].replace("/", " ") for r in rules)
        if self.frame((labels, start, end)):
            self.ax.set_yticks(range(len(rules)), labels, fontsize=8)
            self.ax.set_ylim(max(len(rules), 1) - 0.5, -0.5)
            x0, x1 = _days(pd.DatetimeIndex([start, end]))
            self.ax.set_xlim(float(x0), float(x1))
        lo, hi = _days(impacts["start"]), _days(impacts["end"])
        self.incidents.set_verts(
            _rectangles(lo, np.maximum(hi, lo + MIN_BAR_DAYS), np.zeros(len(lo)), np.ones(len(lo)))
        )
        row = {name: i for i, name in enumerate(rules)}
        lo, hi = _days(firings["start"]), _days(firings["end"])
        y = np.array([row.get(str(r), -10) for r in firings["rule"]], dtype=float)
        self.bars.set_verts(_rectangles(lo, np.maximum(hi, lo + MIN_BAR_DAYS), y - 0.35, y + 0.35))
        self.bars.set_color([PAGE if s == "page" else TICKET for s in firings["severity"]])
        self.say("" if len(firings) else ("No alert would have fired" if rules else "Alerting is off for this SLO"))
        return self.png()


def _decade(x: float, direction: int) -> float:
    """The power of ten at or below (``direction`` −1) or at or above (+1) ``x``."""
    exponent = np.log10(x)
    return float(10.0 ** (np.floor(exponent) if direction < 0 else np.ceil(exponent)))


def _days(times: pd.Series | pd.DatetimeIndex) -> np.ndarray:
    return np.asarray(mdates.date2num(plot_times(times)), dtype=float)


def _rectangles(x0: np.ndarray, x1: np.ndarray, y0: np.ndarray, y1: np.ndarray) -> list[np.ndarray]:
    """The 4 corners of each axis-aligned rectangle, for a PolyCollection."""
    return list(np.stack([np.column_stack(c) for c in ((x0, y0), (x0, y1), (x1, y1), (x1, y0))], axis=1))
