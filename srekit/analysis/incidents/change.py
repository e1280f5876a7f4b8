"""Change-induced incidents: those that started shortly after a deploy."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from srekit.analysis.incidents.log import to_us

DEPLOY_LOOKBACK = pd.Timedelta(hours=1)


def change_after_deploys(df: pd.DataFrame, deploys: pd.DataFrame) -> dict[str, Any]:
    """Incidents that started within ``DEPLOY_LOOKBACK`` after a deploy (change-induced), and
    the deploys that were rolled back or failed (``breakdowns.change`` in report.json)."""
    stamps = np.sort(to_us(pd.to_datetime(deploys["timestamp"], utc=True).dropna()))
    started = to_us(df["started_at"].dropna())
    pos = np.searchsorted(stamps, started, side="right") - 1
    gap = np.where(pos >= 0, started - stamps[np.maximum(pos, 0)], np.iinfo(np.int64).max)
    after = int((gap <= DEPLOY_LOOKBACK.value // 1000).sum())
    bad = (
        deploys["result"].astype("str").str.lower().isin(["rollback", "failed"])
        if "result" in deploys
        else pd.Series(False, index=deploys.index)
    )
    return {
        "lookback_minutes": DEPLOY_LOOKBACK / pd.Timedelta(minutes=1),
        "deploys": len(stamps),
        "deploys_rolled_back_or_failed": int(bad.sum()),
        "incidents_after_deploy": after,
        "share_after_deploy": after / len(started) if len(started) else 0.0,
    }
