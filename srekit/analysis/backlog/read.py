"""Tolerant reading of the section payloads: any field may be missing or of another type."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd


def num(v: Any) -> float | None:
    """A finite float, or None for missing/non-numeric values."""
    if v is None or isinstance(v, bool):
        return None
    try:
        f = float(v)
    except (TypeError, ValueError):
        return None
    return f if math.isfinite(f) else None


def seq(v: Any) -> list[Any]:
    """A list of the sequence's values; empty for anything else (a string is not a sequence here)."""
    return list(v) if isinstance(v, Sequence) and not isinstance(v, str) else []


def mapping(v: Any) -> Mapping[str, Any]:
    """The mapping itself; empty for anything else."""
    return v if isinstance(v, Mapping) else {}


def minutes_between(start: Any, end: Any) -> float | None:
    """Minutes from one ISO-8601 stamp to another; None when either is missing or unparseable."""
    if not isinstance(start, str) or not isinstance(end, str):
        return None
    try:
        a, b = pd.Timestamp(start), pd.Timestamp(end)
        if pd.isna(a) or pd.isna(b):
            return None
        return max(0.0, (b - a) / pd.Timedelta(minutes=1))
    except (TypeError, ValueError):  # unparseable, or naive mixed with aware
        return None
