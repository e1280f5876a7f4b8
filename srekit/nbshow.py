"""Display helpers for notebooks: figures with alt text, escaped tables and text.

Rendered reports must be self-contained (images inline as data URIs), give every image alt
text, and never let data-derived text (incident titles, journey names) become markup. Notebook
cells call these instead of building HTML themselves.
"""

from __future__ import annotations

import base64
import html
import io
import sys
from typing import Any

import pandas as pd


def figure_html(fig: Any, alt: str) -> str:
    """PNG of a matplotlib figure as an ``<img>`` with a data URI and alt text."""
    if not alt.strip():
        raise ValueError("every figure needs alt text describing what it shows")
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110, bbox_inches="tight")
    data = base64.b64encode(buf.getvalue()).decode("ascii")
    return (
        f'<img src="data:image/png;base64,{data}" alt="{html.escape(alt, quote=True)}" '
        'style="max-width:100%;height:auto">'
    )


def table_html(df: pd.DataFrame, *, caption: str | None = None, max_rows: int = 60) -> str:
    """An HTML table with every cell escaped (pandas' ``to_html(escape=True)``)."""
    shown = df.head(max_rows)
    out = shown.to_html(escape=True, index=False, border=0, classes="srekit-table", na_rep="–")
    if caption:
        out = out.replace(">", f"><caption>{html.escape(caption)}</caption>", 1)
    if len(df) > max_rows:
        out += f"<p><em>{len(df) - max_rows} more rows not shown.</em></p>"
    return f'<div style="overflow-x:auto">{out}</div>'


def text_html(template: str, **values: Any) -> str:
    """``template`` is trusted (written by srekit); every ``{name}`` value is escaped."""
    return template.format(**{k: html.escape(str(v)) for k, v in values.items()})


def show_figure(fig: Any, alt: str) -> None:
    """Display a figure inline with alt text; a pyplot figure is closed (no duplicate stray output)."""
    from IPython.display import HTML, display

    display(HTML(figure_html(fig, alt)))
    pyplot = sys.modules.get("matplotlib.pyplot")  # srekit's own figures never load pyplot
    if pyplot is not None:
        pyplot.close(fig)


def show_table(df: pd.DataFrame, *, caption: str | None = None, max_rows: int = 60) -> None:
    from IPython.display import HTML, display

    display(HTML(table_html(df, caption=caption, max_rows=max_rows)))


def show_text(template: str, **values: Any) -> None:
    """Display trusted HTML/Markdown-free text with escaped data values."""
    from IPython.display import HTML, display

    display(HTML(text_html(template, **values)))
