"""Display helpers for notebooks: figures with alt text, escaped tables and text.

Rendered reports must be self-contained (images inline as data URIs), give every image alt
text, and never let data-derived text (incident titles, journey names) become markup. Notebook
cells call these instead of building HTML themselves.
"""

from __future__ import annotations

import base64
import io
import sys
from typing import Any

import pandas as pd

from srekit.core.escape import html_text, printable
from srekit.report.tables.format import cell_text, empty_text

FIGURE_DPI = 110  # resolution of report images; srekit's figures are created at it
PNG_OPTIONS = {"compress_level": 3}  # zlib level 3: ~1/3 less encode CPU than PIL's 6, ~10% more bytes
PAD_INCHES = 0.1  # blank margin around the cropped figure (matplotlib's savefig.pad_inches)


def crop_box(fig: Any, *, dpi: float | None = None) -> Any:
    """What to pass as ``bbox_inches`` to crop ``fig`` to what is drawn.

    ``bbox_inches="tight"`` first draws the whole figure without output just to measure it (a
    third of the cost of a chart); for a figure without a layout engine, saved at its own dpi
    (``dpi`` None: the format has none), measuring the box here and passing it crops the same
    with one draw. Other figures (a layout engine must run first) get ``"tight"``.
    """
    if fig.get_layout_engine() is None and (dpi is None or fig.dpi == dpi):
        return fig.get_tightbbox().padded(PAD_INCHES)
    return "tight"


#: Chart text is drawn as written: data such as a journey called ``pay $\\alpha$`` is not
#: mathtext (which would reshape it, or fail the chart on an unknown ``$\\command$``).
PLAIN_TEXT_RC: dict[str, Any] = {"text.parse_math": False}


def plain_text(fig: Any) -> Any:
    """``fig`` with every text drawn as written (no mathtext), control characters from data (ESC,
    C1) as U+FFFD as the HTML shows them (:func:`srekit.core.escape.printable`; fonts have no glyph
    for them): the texts already in it, and the tick labels a categorical axis makes from its
    category names while drawing. Other texts created while drawing follow :data:`PLAIN_TEXT_RC`."""
    from matplotlib.category import StrCategoryFormatter
    from matplotlib.text import Text
    from matplotlib.ticker import FuncFormatter

    for text in fig.findobj(Text):
        text.set_parse_math(False)
        shown = printable(text.get_text())
        if shown != text.get_text():
            text.set_text(shown)
    for ax in fig.axes:
        for axis in (ax.xaxis, ax.yaxis):
            names = axis.get_major_formatter()
            if isinstance(names, StrCategoryFormatter):
                axis.set_major_formatter(FuncFormatter(lambda x, pos, f=names: printable(f(x, pos))))
    return fig


def figure_png(fig: Any) -> bytes:
    """PNG bytes of a matplotlib figure at :data:`FIGURE_DPI`, cropped to what is drawn
    (:func:`crop_box`), its text drawn as written (:func:`plain_text`)."""
    import matplotlib

    buf = io.BytesIO()
    with matplotlib.rc_context(PLAIN_TEXT_RC):  # type: ignore[arg-type]
        fig.savefig(
            buf,
            format="png",
            dpi=FIGURE_DPI,
            bbox_inches=crop_box(plain_text(fig), dpi=FIGURE_DPI),
            pad_inches=PAD_INCHES,
            pil_kwargs=PNG_OPTIONS,
        )
    return buf.getvalue()


#: SVG output: text stays text (the reader's browser draws it: sharp at any zoom, searchable, and
#: a third cheaper than rasterising); fixed ids, so the same figure gives the same file.
SVG_RC: dict[str, Any] = {"svg.fonttype": "none", "svg.hashsalt": "srekit", **PLAIN_TEXT_RC}


def figure_svg(fig: Any) -> bytes:
    """SVG of a matplotlib figure, cropped to what is drawn (:func:`crop_box`), with text as
    text, drawn as written (:func:`plain_text`), and no creation date (reproducible)."""
    import matplotlib

    buf = io.BytesIO()
    with matplotlib.rc_context(SVG_RC):  # type: ignore[arg-type]
        fig.savefig(
            buf, format="svg", bbox_inches=crop_box(plain_text(fig)), pad_inches=PAD_INCHES, metadata={"Date": None}
        )
    return buf.getvalue()


def figure_html(fig: Any, alt: str) -> str:
    """A matplotlib figure as an ``<img>`` of its SVG (a data URI: the page stays
    self-contained, and an image cannot run script) with alt text."""
    if not alt.strip():
        raise ValueError("every figure needs alt text describing what it shows")
    label = str(fig.get_label() or "")
    if label.startswith(NO_DATA_LABEL):
        return f'<p class="srekit-empty">{html_text(label.removeprefix(NO_DATA_LABEL).replace(NO_DATA_SEP, ": "))}</p>'
    data = base64.b64encode(figure_svg(fig)).decode("ascii")
    return f'<img src="data:image/svg+xml;base64,{data}" alt="{html_text(alt)}" style="max-width:100%;height:auto">'


#: A figure labelled with this prefix is a "no data" panel: pages show the sentence after it
#: instead of a picture of nothing (``srekit.report.plots.base.no_data`` sets it).
NO_DATA_LABEL = "srekit-no-data:"
#: Between a "no data" panel's title and its reason in the label (titles hold ": " themselves).
NO_DATA_SEP = "\x1f"


def table_html(df: pd.DataFrame, *, caption: str | None = None, max_rows: int = 60) -> str:
    """An HTML table with every cell escaped (pandas' ``to_html(escape=True)``: ``& < >`` of
    every cell and header as entities, the element-content escaping of :func:`html_text`;
    control characters shown as U+FFFD first, as :func:`html_text` does). Cells go through
    :func:`srekit.report.tables.format.cell_text` (no None, NaN or raw float reaches a page); an
    empty table is the sentence saying why (``attrs["empty"]``)."""
    if df.empty:
        return f'<p class="srekit-empty">{html_text(empty_text(df, caption))}</p>'
    shown = df.head(max_rows).copy()
    for i in range(shown.shape[1]):
        col = shown.iloc[:, i].map(cell_text)
        shown.isetitem(i, col.map(lambda v: printable(v) if isinstance(v, str) else v).to_numpy(dtype=object))
    shown.columns = [printable(c) if isinstance(c, str) else c for c in shown.columns]
    out = shown.to_html(escape=True, index=False, border=0, classes="srekit-table", na_rep="–")
    if caption:
        out = out.replace(">", f"><caption>{html_text(caption)}</caption>", 1)
    if len(df) > max_rows:
        out += f"<p><em>{len(df) - max_rows} more rows not shown.</em></p>"
    return f'<div style="overflow-x:auto">{out}</div>'


def text_html(template: str, **values: Any) -> str:
    """``template`` is trusted (written by srekit); every ``{name}`` value is escaped."""
    return template.format(**{k: html_text(v) for k, v in values.items()})


def show_figure(fig: Any, alt: str, *, hide_empty: bool = False) -> None:
    """Display a figure inline with alt text (a "no data" panel as its sentence; nothing with
    ``hide_empty``, where the page says why in the text next to it); a pyplot figure is closed
    (no duplicate stray output)."""
    from IPython.display import HTML, display

    if not (hide_empty and str(fig.get_label() or "").startswith(NO_DATA_LABEL)):
        display(HTML(figure_html(fig, alt)))
    pyplot = sys.modules.get("matplotlib.pyplot")  # srekit's own figures never load pyplot
    if pyplot is not None:
        pyplot.close(fig)


def show_table(df: pd.DataFrame, *, caption: str | None = None, max_rows: int = 60, hide_empty: bool = False) -> None:
    """Display a table (or, when it is empty, the sentence saying why; nothing at all with
    ``hide_empty``, for an optional input such as a load test)."""
    from IPython.display import HTML, display

    if df.empty and hide_empty:
        return
    display(HTML(table_html(df, caption=caption, max_rows=max_rows)))


def figures_html(figures: list[tuple[Any, str]]) -> str:
    """Several figures in a row of the page; "no data" panels that give the same reason become
    one sentence naming their charts (four charts of no telemetry read as one)."""
    parts: list[str] = []
    empty: dict[str, list[str]] = {}
    for fig, alt in figures:
        label = str(fig.get_label() or "")
        if label.startswith(NO_DATA_LABEL):
            title, _, why = label.removeprefix(NO_DATA_LABEL).partition(NO_DATA_SEP)
            empty.setdefault(why, []).append(title)
        else:
            parts.append(figure_html(fig, alt))
    for why, titles in empty.items():
        parts.append(f'<p class="srekit-empty">{html_text("; ".join(titles))}: {html_text(why)}</p>')
    return "\n".join(parts)


def show_figures(figures: list[tuple[Any, str]]) -> None:
    """Display ``(figure, alt text)`` pairs (:func:`figures_html`)."""
    from IPython.display import HTML, display

    display(HTML(figures_html(figures)))


def show_preformatted(text: str | None, *, empty: str) -> None:
    """Preformatted text (escaped), or the sentence ``empty`` when there is none."""
    show_text("<pre>{t}</pre>" if text else '<p class="srekit-empty">{t}</p>', t=text or empty)


def show_text(template: str, **values: Any) -> None:
    """Display trusted HTML/Markdown-free text with escaped data values."""
    from IPython.display import HTML, display

    display(HTML(text_html(template, **values)))
