"""The incident log in canonical form, and the time helpers every incident module shares."""

from __future__ import annotations

import numpy as np
import pandas as pd

from srekit.inputs.columns import INCIDENT_TIMES, INCIDENTS

SECTION = "incident_response"
HIGH_SEVERITIES = ("SEV1", "SEV2")


def to_us(values: pd.Series | pd.Index) -> np.ndarray:
    """UTC stamps as int64 microseconds since the epoch (no per-row Timestamp objects)."""
    idx = pd.DatetimeIndex(pd.to_datetime(values, utc=True)).tz_convert(None)
    return np.asarray(idx.to_numpy(dtype="datetime64[us]").view(np.int64))


def prepare(incidents: pd.DataFrame) -> pd.DataFrame:
    """The canonical incident columns (``srekit.inputs.columns.INCIDENTS``), NA-filled where absent,
    times as ``datetime64[us, UTC]``; other columns are kept."""
    df = incidents.copy()
    for c in INCIDENTS:
        if c not in df.columns:
            df[c] = pd.NaT if c in INCIDENT_TIMES else pd.NA
    for c in INCIDENT_TIMES:
        df[c] = pd.to_datetime(df[c], utc=True).astype("datetime64[us, UTC]")
    for c in ("action_items_open", "action_items_closed"):
        df[c] = pd.to_numeric(df[c], errors="coerce").astype("Float64")
    for c in ("id", "title", "severity", "cause", "detection", "journey", "postmortem"):
        df[c] = df[c].astype("str").where(df[c].notna())
    return df.reset_index(drop=True)


def empty_log() -> pd.DataFrame:
    """A prepared log without incidents."""
    return prepare(pd.DataFrame(columns=list(INCIDENTS)))


def log_end(df: pd.DataFrame) -> pd.Timestamp | None:
    """Latest timestamp anywhere in the log: the censoring time of open incidents."""
    stamps = pd.concat([df[c] for c in INCIDENT_TIMES]).dropna()
    return None if stamps.empty else pd.Timestamp(stamps.max())
