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


def frame(rows: list[dict[str, Any]], columns: Sequence[str]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=list(columns))


def section_status(report: Mapping[str, Any], key: str) -> str:
    """``ok``, or the error text when the section's analysis failed in this run."""
    payload = section(report, key)
    if payload.get("status") == "failed":
        return str(payload.get("error", "failed"))
    return "ok"
