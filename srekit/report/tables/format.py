"""Formatting shared by the display tables: percentages, durations, and safe access to
report.json sections (rounding happens here, at presentation, never before a decision)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd


def fmt_pct(x: Any, digits: int = 1) -> str:
    """A ratio as a percentage; '–' when unknown."""
    if x is None or (isinstance(x, float) and x != x):
        return "–"
    return f"{100.0 * float(x):.{digits}f}%"


def fmt_duration_s(x: Any) -> str:
    """Seconds in the unit a reader expects: ``45 s``, ``12 min``, ``3.5 h``, ``2.1 days``."""
    if x is None or (isinstance(x, float) and x != x):
        return "–"
    s = float(x)
    if abs(s) < 120:
        return f"{s:.0f} s"
    if abs(s) < 2 * 3600:
        return f"{s / 60:.0f} min"
    if abs(s) < 2 * 86400:
        return f"{s / 3600:.1f} h"
    return f"{s / 86400:.1f} days"


def section(report: Mapping[str, Any], key: str) -> Mapping[str, Any]:
    value = report.get(key)
    return value if isinstance(value, Mapping) else {}


def records(payload: Mapping[str, Any], key: str) -> list[Mapping[str, Any]]:
    value = payload.get(key)
    return [v for v in value if isinstance(v, Mapping)] if isinstance(value, list) else []


#: ``DataFrame.attrs`` key of the sentence a page shows instead of an empty table.
EMPTY = "empty"


def frame(rows: list[dict[str, Any]], columns: Sequence[str], empty: str | None = None) -> pd.DataFrame:
    """A display table; ``empty`` is the sentence pages show instead of it when it has no rows
    (why it is empty, in the reader's words), kept in ``attrs["empty"]``."""
    out = pd.DataFrame(rows, columns=list(columns))
    if empty:
        out.attrs[EMPTY] = empty
    return out


def empty_text(table: pd.DataFrame, caption: str | None = None) -> str:
    """The sentence shown instead of an empty ``table``."""
    why = str(table.attrs.get(EMPTY) or "Nothing to show for this run.")
    return f"{caption}: {why}" if caption else why


def cell_text(value: Any) -> Any:
    """A display cell as a stakeholder reads it: ``–`` for None/NaN/NaT, whole numbers with
    thousands separators, other numbers to 3 significant digits, True/False as yes/no; text as
    it is. The last guard of every page: tables format their own cells, this catches a raw value."""
    if value is None or (isinstance(value, float) and value != value) or value is pd.NaT:
        return "–"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        if value == int(value) and abs(value) < 1e15:
            return f"{int(value):,}"
        return f"{value:,.3g}" if abs(value) < 1000 else f"{value:,.0f}"
    return value


def given(report: Mapping[str, Any], kind: str) -> Mapping[str, Any] | None:
    """``meta.period.inputs[kind]`` (rows, kept, clipped) when that input was given, else None."""
    spans = section(section(section(report, "meta"), "period"), "inputs")
    value = spans.get(kind)
    return value if isinstance(value, Mapping) else None


def left_out(report: Mapping[str, Any], kind: str, noun: str) -> str | None:
    """Why an input that was given has no records here, or None: ``None of the 1,279 incidents
    falls in the analysed period (2010-02-07 to 2023-10-06 against 2014-03-07 to 2014-03-21).``"""
    span = given(report, kind)
    if span is None or not span.get("rows") or span.get("kept"):
        return None
    period = section(section(report, "meta"), "period")
    return (
        f"None of the {int(span['rows']):,} {noun} falls in the analysed period "
        f"({_day(span.get('start'))} to {_day(span.get('end'))} against {_day(period.get('start'))} to "
        f"{_day(period.get('end'))}), so they were left out."
    )


def _day(stamp: Any) -> str:
    return "–" if not stamp else str(stamp)[:10]


def section_status(report: Mapping[str, Any], key: str) -> str:
    """``ok``, or the error text when the section's analysis failed in this run."""
    payload = section(report, key)
    if payload.get("status") == "failed":
        return str(payload.get("error", "failed"))
    return "ok"
