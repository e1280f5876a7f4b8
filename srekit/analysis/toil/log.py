"""The toil log as events: one row per logged piece of work, on the service's local calendar day.

Events have the columns ``date`` (UTC), ``day`` (naive local midnight), ``task``, ``minutes``,
``category``, ``engineer`` and ``automatable`` (nullable boolean); the pages estimate
(:mod:`srekit.analysis.toil.pages`) produces the same frame.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from srekit.core.errors import input_error, require_columns


def local_day(stamps: pd.Series, tz: str) -> pd.Series:
    """Calendar day (naive midnight) of each UTC stamp in the service's timezone: a toil entry
    dated 2026-08-02 in Europe/Berlin is stored as 2026-08-01 22:00 UTC and belongs to 08-02."""
    return stamps.dt.tz_convert(tz).dt.tz_localize(None).dt.normalize()


def toil_events(toil: pd.DataFrame, tz: str) -> pd.DataFrame:
    """The canonical toil log (``date, task, minutes``, optional ``category, engineer,
    automatable``) as events; raises :class:`srekit.core.errors.InputError` on invalid rows."""
    _require_columns(toil)
    minutes = _minutes(toil)
    date = _dates(toil)
    category = _column(toil, "category").astype("str").where(_column(toil, "category").notna(), "uncategorized")
    return pd.DataFrame(
        {
            "date": date.to_numpy(),
            "day": local_day(date, tz).to_numpy(),
            "task": toil["task"].astype("str").to_numpy(),
            "minutes": minutes.to_numpy(),
            "category": category.to_numpy(),
            "engineer": _column(toil, "engineer").to_numpy(),
            "automatable": _automatable(_column(toil, "automatable")).to_numpy(),
        }
    )


def _column(toil: pd.DataFrame, name: str) -> pd.Series:
    """An optional column, all missing when the log does not have it."""
    return toil[name] if name in toil.columns else pd.Series([pd.NA] * len(toil), index=toil.index)


def _require_columns(toil: pd.DataFrame) -> None:
    require_columns(
        toil.columns,
        ("date", "task", "minutes"),
        what="toil log",
        expected="date, task, minutes (optional category, engineer, automatable)",
        fix="load it with srekit.inputs.loaders.load_inputs or rename the columns",
    )


def _minutes(toil: pd.DataFrame) -> pd.Series:
    minutes = pd.to_numeric(toil["minutes"], errors="coerce").astype(float)
    bad = np.flatnonzero(~np.isfinite(minutes.to_numpy()) | (minutes.to_numpy() < 0))
    if bad.size:
        raise input_error(
            "toil minutes must be finite and non-negative",
            column="minutes",
            rows=(bad + 1).tolist(),
            expected="minutes ≥ 0",
            got=", ".join(str(toil["minutes"].iloc[i]) for i in bad[:5]),
            fix="load through srekit.inputs.loaders (it quarantines such rows) or correct them",
        )
    return minutes


def _dates(toil: pd.DataFrame) -> pd.Series:
    date = pd.to_datetime(toil["date"], utc=True)
    if date.isna().any():
        raise input_error(
            "toil dates must be valid",
            column="date",
            rows=(np.flatnonzero(date.isna().to_numpy()) + 1).tolist(),
            expected="a date per row",
            got="missing or unparseable dates",
            fix="load through srekit.inputs.loaders or correct them",
        )
    return date


def _automatable(values: pd.Series) -> pd.Series:
    try:
        return values.astype("boolean")
    except (TypeError, ValueError) as exc:
        raise input_error(
            "toil column automatable must be true/false",
            column="automatable",
            expected="booleans (empty = unknown)",
            got=", ".join(map(str, values.dropna().unique()[:5])),
            fix="load the log through srekit.inputs.loaders.load_inputs, which parses true/false/yes/no",
        ) from exc
