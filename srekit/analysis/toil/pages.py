"""Toil estimated from the pages log when there is no toil log, and the page rate behind the
on-call floor (:mod:`srekit.analysis.toil.share`)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from srekit.analysis.toil.log import local_day
from srekit.core.errors import require_columns


def page_events(alerts: pd.DataFrame, handling_minutes: float, tz: str) -> pd.DataFrame:
    """Toil events estimated from the pages log: every alert (page or ticket) took
    ``handling_minutes``; the task is the alert name, the category ``pages`` or ``tickets``."""
    require_columns(
        alerts.columns,
        ("timestamp", "alert"),
        what="pages log",
        expected="timestamp, alert, severity",
        fix="load it with srekit.inputs.loaders.load_inputs or rename the columns",
    )
    ts = pd.to_datetime(alerts["timestamp"], utc=True)
    keep = ts.notna().to_numpy()
    sev = alerts["severity"].astype("str") if "severity" in alerts.columns else pd.Series(["page"] * len(alerts))
    category = np.where(sev.to_numpy() == "ticket", "tickets", "pages")
    return pd.DataFrame(
        {
            "date": ts.to_numpy()[keep],
            "day": local_day(ts, tz).to_numpy()[keep],
            "task": alerts["alert"].astype("str").to_numpy()[keep],
            "minutes": np.full(int(keep.sum()), float(handling_minutes)),
            "category": category[keep],
            "engineer": [pd.NA] * int(keep.sum()),
            "automatable": pd.array([pd.NA] * int(keep.sum()), dtype="boolean"),
        }
    )


def pages_per_week(alerts: pd.DataFrame | None, tz: str) -> float:
    """Pages per week in the pages log (severity ``page``; every row when there is no severity),
    over the local calendar days from the first to the last alert."""
    if alerts is None or len(alerts) == 0 or "timestamp" not in alerts.columns:
        return 0.0
    ts = pd.to_datetime(alerts["timestamp"], utc=True).dropna()
    if ts.empty:
        return 0.0
    pages = int((alerts["severity"].astype("str") == "page").sum()) if "severity" in alerts.columns else len(ts)
    local = local_day(ts, tz)
    days = (local.max() - local.min()).days + 1
    return pages / (days / 7.0)
