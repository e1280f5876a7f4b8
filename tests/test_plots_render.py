"""How srekit's charts become report images: the one-draw PNG path crops exactly like
``bbox_inches="tight"``, log axes are labelled in plain text, and the alert timeline keeps one
rectangle per firing."""

from __future__ import annotations

import io
import re

import numpy as np
import pandas as pd
from matplotlib.colors import to_hex
from matplotlib.figure import Figure
from PIL import Image

from srekit.report import nbshow
from srekit.report.plots import alerting as plots_alerting
from srekit.report.plots import base as plots
from srekit.report.plots import slo as plots_slo


def _size(png: bytes) -> tuple[int, int]:
    return Image.open(io.BytesIO(png)).size


def _tight_png(fig: Figure) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=nbshow.FIGURE_DPI, bbox_inches="tight")
    return buf.getvalue()


def test_one_draw_png_crops_like_bbox_inches_tight() -> None:
    ax = plots.new_axes(None, (7.0, 2.0))
    # labels longer than the default left margin and a legend below the axes: both spill out
    ax.barh(["a very long journey name that spills left", "b"], [3, 1], label="requests")
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.4))
    ax.set_title("t")
    fast = nbshow.figure_png(ax.figure)
    assert _size(fast) == _size(_tight_png(ax.figure))
    assert _size(fast)[0] > 7.0 * nbshow.FIGURE_DPI  # really grew past the figure, not clipped


def test_figures_at_another_dpi_take_the_tight_path() -> None:
    fig = Figure(figsize=(4, 3), dpi=72)
    fig.add_subplot().barh(["a rather long label"], [1])
    assert _size(nbshow.figure_png(fig)) == _size(_tight_png(fig))


def test_log_axes_are_labelled_in_plain_text() -> None:
    dist = pd.DataFrame({"label": "a", "edge_ms": [1.0, 10.0, 100.0, 1000.0], "slower_share": [1.0, 0.1, 0.01, 0.0001]})
    thresholds = pd.DataFrame({"label": ["a"], "target": [0.99], "threshold_ms": [100.0], "slower_share": [0.01]})
    ax = plots_slo.plot_latency_distribution(dist, thresholds)
    nbshow.figure_png(ax.figure)
    xs = [t.get_text() for t in ax.get_xticklabels() if t.get_text()]
    ys = [t.get_text() for t in ax.get_yticklabels() if t.get_text()]
    assert {"10", "100", "1,000"} <= set(xs) and {"100%", "1%", "0.01%"} <= set(ys)
    assert not any("$" in s for s in xs + ys)  # no mathtext


def test_control_characters_in_chart_text_draw_as_the_replacement_character() -> None:
    """A journey name from the data with ESC or a C1 control (fonts have no glyph for them) is
    drawn with U+FFFD, as the HTML shows it, in category tick labels, titles and legends."""
    import warnings

    ax = plots.new_axes(None, (4.0, 2.0))
    ax.barh(["check\x1b[31mout \x9b", "$\\alpha$ plain"], [3, 1], label="se\x85arch")
    ax.set_title("se\x85arch")
    ax.legend()
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # matplotlib warns of each glyph missing from the font
        nbshow.figure_png(ax.figure)
    labels = [t.get_text() for t in ax.get_yticklabels()]
    assert labels == ["check\ufffd[31mout \ufffd", "$\\alpha$ plain"] and ax.get_title() == "se\ufffdarch"
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["se\ufffdarch"]


def test_label_formats() -> None:
    assert [plots.number_label(v) for v in (0.5, 1, 20, 1000, 1e6)] == ["0.5", "1", "20", "1,000", "1,000,000"]
    assert [plots.percent_label(v) for v in (1.0, 0.3, 0.01, 0.005, 1e-7, 0.0)] == [
        "100%",
        "30%",
        "1%",
        "0.5%",
        "0.00001%",
        "0%",
    ]


def test_plot_times_are_naive_utc() -> None:
    t = pd.Series(pd.date_range("2026-03-01 12:00", periods=2, freq="1h", tz="Europe/Paris"))
    out = plots.plot_times(t)
    assert out.dtype.kind == "M" and pd.Timestamp(out[0]) == pd.Timestamp("2026-03-01 11:00")


class _Report:
    """The parts of AlertingReport the timeline reads."""

    def __init__(self, firings: pd.DataFrame, impacts: pd.DataFrame) -> None:
        self.firings, self._impacts = firings, impacts
        self.start, self.end = pd.Timestamp("2026-01-01", tz="UTC"), pd.Timestamp("2026-01-08", tz="UTC")

    def timeline_rules(self) -> list[str]:
        return ["a/page/1h", "a/ticket/1d"]

    def impacts(self) -> pd.DataFrame:
        return self._impacts


def test_alert_timeline_draws_one_rectangle_per_firing_and_incident() -> None:
    t0 = pd.Timestamp("2026-01-02", tz="UTC")
    firings = pd.DataFrame(
        {
            "rule": ["a/ticket/1d", "a/page/1h"],
            "severity": ["ticket", "page"],
            "start": [t0, t0 + pd.Timedelta(days=1)],
            "end": [t0 + pd.Timedelta(hours=6), t0 + pd.Timedelta(days=1, minutes=1)],
        }
    )
    impacts = pd.DataFrame({"start": [t0], "end": [t0 + pd.Timedelta(minutes=1)]})
    ax = plots_alerting.plot_alert_timeline(_Report(firings, impacts))  # type: ignore[arg-type]
    shade, bars = ax.collections
    x0 = 20455.0  # 2026-01-02 in matplotlib days
    (s,) = [p.vertices for p in shade.get_paths()]
    assert np.isclose(s[:, 0].min(), x0) and np.isclose(s[:, 0].max(), x0 + 1 / 48)  # 1 min drawn as 30
    ticket, page = [p.vertices for p in bars.get_paths()]
    assert np.isclose(ticket[:, 0].max() - ticket[:, 0].min(), 0.25) and np.allclose(
        sorted(set(ticket[:, 1])), [0.65, 1.35]
    )
    assert np.allclose(sorted(set(page[:, 1])), [-0.35, 0.35])  # row 0: the page rule
    assert [to_hex(c) for c in bars.get_facecolor()] == [plots_alerting.TICKET, plots_alerting.PAGE]
    empty = _Report(firings.iloc[:0], impacts.iloc[:0])
    ax = plots_alerting.plot_alert_timeline(empty)  # type: ignore[arg-type]
    assert [len(c.get_paths()) for c in ax.collections] == [0, 0]
    nbshow.figure_png(ax.figure)


def test_svg_keeps_text_as_text_and_is_reproducible() -> None:
    ax = plots.new_axes(None, (6.0, 3.0))
    ax.plot([0, 1, 2], [1, 3, 2], label="checkout <b>&")
    ax.set_title("Budget & burn <script>")
    ax.legend()
    svg = nbshow.figure_svg(ax.figure)
    assert svg == nbshow.figure_svg(ax.figure)  # no date, fixed ids
    text = svg.decode()
    assert (
        "Budget &amp; burn &lt;script&gt;" in text and "checkout &lt;b&gt;&amp;" in text
    )  # escaped text, not glyph paths
    assert "<script" not in text
    width_pt = float(re.search(r'<svg[^>]*width="([\d.]+)pt"', text).group(1))
    tight = io.BytesIO()
    ax.figure.savefig(tight, format="svg", bbox_inches="tight", metadata={"Date": None})
    assert abs(width_pt - float(re.search(r'<svg[^>]*width="([\d.]+)pt"', tight.getvalue().decode()).group(1))) < 1.0
    assert nbshow.figure_html(ax.figure, alt="a line").startswith('<img src="data:image/svg+xml;base64,')
