"""The explorer's three live charts: the burn-down of the current window, the latency
distribution with the threshold marked, and the replayed alert timeline.

Each chart keeps one figure and its artists and only changes their data on an update, then
returns the PNG a widget shows (:meth:`LiveChart.png`): no figure, axes or tick machinery is
rebuilt while a slider moves. They draw already-computed frames (the explorer's
:class:`~srekit.analysis.explore.evaluate.Outcome` and distribution); no computation here.
"""

from __future__ import annotations

import io
from collections.abc import Sequence

import matplotlib.dates as mdates
import numpy as np
import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.collections import PolyCollection
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

from srekit.report.plots.alerting import INCIDENT, PAGE, TICKET
from srekit.report.plots.base import percent_label, plain_log_labels, plot_times

SIZE = (4.9, 2.9)  # inches: two charts side by side fit a notebook's width
DPI = 100
PNG_OPTIONS = {"compress_level": 1}  # a live chart is re-encoded on every change: speed over size
MIN_BAR_DAYS = 1 / 48  # half an hour: one-minute firings stay visible on a 90-day axis


class LiveChart:
    """A figure on an Agg canvas with fixed margins (no layout engine runs on an update)."""

    def __init__(self, title: str, *, margins: tuple[float, float, float, float] = (0.13, 0.2, 0.97, 0.86)) -> None:
        self.figure = Figure(figsize=SIZE, dpi=DPI)
        FigureCanvasAgg(self.figure)
        left, bottom, right, top = margins
        self.figure.subplots_adjust(left=left, bottom=bottom, right=right, top=top)
        self.ax = self.figure.add_subplot()
        self.ax.set_title(title, fontsize=10)
        self.ax.tick_params(labelsize=8)
        self.note = self.ax.text(0.5, 0.5, "", ha="center", va="center", transform=self.ax.transAxes, fontsize=9)

    def png(self) -> bytes:
        """The chart as PNG bytes (one draw, fast zlib)."""
        buf = io.BytesIO()
        self.figure.savefig(buf, format="png", dpi=DPI, pil_kwargs=PNG_OPTIONS)
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
        lo, hi = plot_times([window_start, window_end])
        left = 1.0 - burn_down["consumed"].to_numpy(dtype=float)
        self.left.set_data(plot_times(burn_down["time"]), left)
        self.pace.set_data([lo, hi], [1.0, 0.0])
        self.ax.set_xlim(lo, hi)
        self.ax.set_ylim(min(-0.05, float(left.min()) - 0.05) if len(left) else -0.05, 1.05)
        self.say("" if len(left) else "No events in the current window")
        return self.png()


class DistributionChart(LiveChart):
    """Share of events slower than each latency (log–log), the chosen threshold marked."""

    def __init__(self) -> None:
        super().__init__("How slow are the slowest requests?", margins=(0.15, 0.2, 0.97, 0.86))
        (self.curve,) = self.ax.plot([], [], color="#2e6da4", linewidth=1.5, marker=".", markersize=3)
        self.line = self.ax.axvline(1.0, color=PAGE, linestyle="--", linewidth=1.2)
        (self.mark,) = self.ax.plot([], [], "o", color=PAGE, markerfacecolor="none", markersize=8)
        self.ax.set_xscale("log")
        self.ax.set_yscale("log")
        self.ax.xaxis.set_minor_locator(LogLocator(base=10, subs=(2.0, 5.0)))
        self.ax.yaxis.set_minor_formatter(NullFormatter())
        plain_log_labels(self.ax.xaxis)
        plain_log_labels(self.ax.yaxis, percent_label)
        self.ax.yaxis.set_minor_formatter(NullFormatter())
        self.ax.set_xlabel("Latency (ms, log scale)", fontsize=8)
        self.ax.grid(True, which="both", alpha=0.3)

    def update(self, distribution: pd.DataFrame, threshold_ms: float | None, slower_share: float | None) -> bytes:
        """``distribution``: edge_ms, slower_share; the threshold and the share of events
        slower than it (None: no threshold, e.g. an availability SLI)."""
        shown = distribution[distribution["slower_share"] > 0]
        self.curve.set_data(shown["edge_ms"], shown["slower_share"])
        if len(shown):
            self.ax.set_xlim(float(distribution["edge_ms"].min()) * 0.8, float(distribution["edge_ms"].max()) * 1.25)
            self.ax.set_ylim(max(float(shown["slower_share"].min()) * 0.5, 1e-6), 1.5)
        marked = threshold_ms is not None
        self.line.set_visible(marked)
        self.mark.set_visible(marked and slower_share is not None and slower_share > 0)
        if threshold_ms is not None:
            self.line.set_xdata([threshold_ms, threshold_ms])
            self.mark.set_data([threshold_ms], [slower_share or 0.0])
        self.say("" if len(shown) else "No latency data in the range")
        return self.png()

    def label(self, sli: str) -> None:
        """Axis wording for request latencies or gauge samples."""
        samples = sli == "timeslice"
        self.ax.set_title(
            "Gauge samples above each value" if samples else "Requests slower than each latency", fontsize=10
        )
        self.ax.set_ylabel("Share of samples above" if samples else "Share slower", fontsize=8)


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
        self.ax.xaxis.set_major_formatter(mdates.DateFormatter("%d %b"))
        self.ax.xaxis.set_major_locator(mdates.AutoDateLocator(maxticks=6))
        self.ax.set_xlabel("Date (UTC); shaded: incidents", fontsize=8)

    def update(
        self, rules: Sequence[str], firings: pd.DataFrame, impacts: pd.DataFrame, start: pd.Timestamp, end: pd.Timestamp
    ) -> bytes:
        """``firings``: rule, severity, start, end (``Backtest.firings``); ``impacts``: start, end."""
        row = {name: i for i, name in enumerate(rules)}
        lo, hi = _days(impacts["start"]), _days(impacts["end"])
        self.incidents.set_verts(
            _rectangles(lo, np.maximum(hi, lo + MIN_BAR_DAYS), np.zeros(len(lo)), np.ones(len(lo)))
        )
        lo, hi = _days(firings["start"]), _days(firings["end"])
        y = np.array([row.get(str(r), -10) for r in firings["rule"]], dtype=float)
        self.bars.set_verts(_rectangles(lo, np.maximum(hi, lo + MIN_BAR_DAYS), y - 0.35, y + 0.35))
        self.bars.set_color([PAGE if s == "page" else TICKET for s in firings["severity"]])
        self.ax.set_yticks(range(len(rules)), [r.split("/", 1)[-1].replace("/", " ") for r in rules], fontsize=8)
        self.ax.set_ylim(len(rules) - 0.5, -0.5)
        x0, x1 = _days([start, end])
        self.ax.set_xlim(float(x0), float(x1))
        self.say("" if len(firings) else "No alert would have fired")
        return self.png()


def _days(times: Sequence[pd.Timestamp] | pd.Series) -> np.ndarray:
    return np.asarray(mdates.date2num(plot_times(pd.DatetimeIndex(times))), dtype=float)


def _rectangles(x0: np.ndarray, x1: np.ndarray, y0: np.ndarray, y1: np.ndarray) -> np.ndarray:
    """The 4 corners of each axis-aligned rectangle (n × 4 × 2), for a PolyCollection."""
    return np.stack([np.column_stack(c) for c in ((x0, y0), (x0, y1), (x1, y1), (x1, y0))], axis=1)
