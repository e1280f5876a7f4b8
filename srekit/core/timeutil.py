"""Durations in the shorthand service.yaml, PromQL and OpenSLO use (``5m``, ``1h``, ``28d``), and stamps as integers."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING, Literal

import numpy as np

from srekit.core.lazy import LazyModule

if TYPE_CHECKING:
    import pandas as pd
else:
    pd = LazyModule("pandas")


_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}
_PANDAS_MAX_US = (2**63 - 1) // 1000  # pd.Timedelta.max in µs: the longest duration parse_duration reads


def _shorthand_seconds(s: str) -> float | None:
    """``28d``, ``1h``, ``5m``, ``1.5w`` in seconds; None for any other form."""
    if len(s) >= 2 and s[:-1].replace(".", "", 1).isdigit() and s[-1] in _UNIT_SECONDS:
        return float(s[:-1]) * _UNIT_SECONDS[s[-1]]
    return None


def parse_duration(text: str | pd.Timedelta) -> pd.Timedelta:
    """Parse a duration in OpenSLO/Prometheus shorthand (``28d``, ``1h``, ``5m``, ``1w``) or
    pandas form (``1min``)."""
    if isinstance(text, pd.Timedelta):
        return text
    s = str(text).strip()
    seconds = _shorthand_seconds(s)
    return pd.Timedelta(s) if seconds is None else pd.Timedelta(seconds=seconds)


def parse_timedelta(text: str) -> timedelta:
    """:func:`parse_duration` for a caller with no other use for pandas (``srekit aggregate``):
    the shorthand and ``<n>min`` in whole microseconds without importing it; any other text as
    :func:`parse_duration` reads it (a ``pd.Timedelta``, ``NaT`` for empty text)."""
    s = str(text).strip()
    seconds = _shorthand_seconds(s[:-2] if s.endswith("min") else s)
    micros = None if seconds is None else seconds * 1_000_000
    if micros is None or micros != int(micros) or micros >= _PANDAS_MAX_US:
        return parse_duration(s)  # finer than 1 µs, or beyond pandas' range: its answer, or its error
    return timedelta(microseconds=int(micros))


def format_duration(td: pd.Timedelta) -> str:
    """Shorthand used in Prometheus and OpenSLO: ``30d``, ``6h``, ``5m``, ``90s``."""
    secs = int(td.total_seconds())
    if secs != td.total_seconds():
        raise ValueError(f"duration {td} is not a whole number of seconds")
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if secs % size == 0 and secs >= size:
            return f"{secs // size}{unit}"
    return f"{secs}s"


_WORD_UNITS = (("day", 86400), ("hour", 3600), ("minute", 60), ("second", 1))


def duration_words(td: pd.Timedelta) -> str:
    """A duration in words: ``1 minute``, ``5 minutes``, ``3 hours``, ``90 seconds``, ``1.5 days``
    (the largest unit it is a whole number of, else the largest unit it reaches, to one decimal)."""
    secs = td.total_seconds()
    for unit, size in _WORD_UNITS:
        if secs >= size and secs % size == 0:
            n = int(secs // size)
            return f"{n:,} {unit}" + ("" if n == 1 else "s")
    for unit, size in _WORD_UNITS:
        if secs >= size:
            return f"{secs / size:,.1f} {unit}s"
    return f"{secs:g} seconds"


def per_words(td: pd.Timedelta) -> str:
    """A duration as an adjective: ``1-minute``, ``5-minute``, ``3-hour`` (``duration_words``
    with a hyphen and a singular unit)."""
    n, unit = duration_words(td).split(" ", 1)
    return f"{n}-{unit.removesuffix('s')}"


def every_words(td: pd.Timedelta) -> str:
    """How often, in words: ``hour``, ``5 minutes``, ``day`` (for "one value per …")."""
    text = duration_words(td)
    return text.split(" ", 1)[1] if text.startswith("1 ") else text


def utc_series(values: pd.Series) -> pd.Series:
    """``pd.to_datetime(values, utc=True)``, without the copy when the column is UTC already
    (loaded telemetry: a copy of 26 M stamps is 200 MB)."""
    if isinstance(values.dtype, pd.DatetimeTZDtype) and str(values.dtype.tz) == "UTC":
        return values
    return pd.to_datetime(values, utc=True)


def epoch_ints(stamps: pd.Series | pd.Index, unit: Literal["s", "ms", "us", "ns"] = "us") -> np.ndarray:
    """The stamps as int64 counts of ``unit`` since the epoch (UTC for aware stamps, NaT as the
    smallest int64), one per row, read-only: a view when they are held in ``unit`` already
    (pandas' ``as_unit`` copies even to the unit it has: 200 MB for 26 M stamps), so a write
    into it fails instead of changing the caller's frame."""
    index = pd.DatetimeIndex(stamps)
    out = (index if index.unit == unit else index.as_unit(unit)).asi8.view()
    out.flags.writeable = False
    return out
