"""Durations in the shorthand service.yaml, PromQL and OpenSLO use (``5m``, ``1h``, ``28d``)."""

from __future__ import annotations

import pandas as pd


def parse_duration(text: str | pd.Timedelta) -> pd.Timedelta:
    """Parse a duration in OpenSLO/Prometheus shorthand (``28d``, ``1h``, ``5m``, ``1w``) or
    pandas form (``1min``)."""
    if isinstance(text, pd.Timedelta):
        return text
    s = str(text).strip()
    seconds = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}
    if len(s) >= 2 and s[:-1].replace(".", "", 1).isdigit() and s[-1] in seconds:
        return pd.Timedelta(seconds=float(s[:-1]) * seconds[s[-1]])
    return pd.Timedelta(s)


def format_duration(td: pd.Timedelta) -> str:
    """Shorthand used in Prometheus and OpenSLO: ``30d``, ``6h``, ``5m``, ``90s``."""
    secs = int(td.total_seconds())
    if secs != td.total_seconds():
        raise ValueError(f"duration {td} is not a whole number of seconds")
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if secs % size == 0 and secs >= size:
            return f"{secs // size}{unit}"
    return f"{secs}s"
