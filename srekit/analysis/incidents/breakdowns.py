"""Incidents broken down by severity, cause and detection source."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from srekit.analysis.incidents.lifecycle import group_median_ttr, lifecycle_durations

#: Detection sources listed first, in this order; others follow alphabetically, then "unknown".
KNOWN_DETECTIONS = ("alert", "customer", "internal")


def by_severity(df: pd.DataFrame, as_of: pd.Timestamp | None) -> pd.DataFrame:
    """Count, share, open incidents and median time to resolve per severity ("unknown" last)."""
    sev = df["severity"].fillna("unknown")
    rows = []
    for name in sorted(sev.unique(), key=lambda s: (s == "unknown", s)):
        part = df[sev == name]
        rows.append(
            {
                "severity": name,
                "count": len(part),
                "share": len(part) / len(df),
                "open": int(part["resolved_at"].isna().sum()),
                "ttr_median_s": group_median_ttr(part, as_of),
            }
        )
    return pd.DataFrame(rows, columns=["severity", "count", "share", "open", "ttr_median_s"])


def by_cause(df: pd.DataFrame, as_of: pd.Timestamp | None, budget: pd.Series | None) -> pd.DataFrame:
    """Count, share, repeat flag, median time to resolve and (with ``budget``, budget minutes per
    incident id) error-budget minutes per cause, costliest first."""
    cause = df["cause"].fillna("unknown")
    rows = []
    for name in cause.unique():
        part = df[cause == name]
        row: dict[str, Any] = {
            "cause": name,
            "count": len(part),
            "share": len(part) / len(df),
            "repeat": bool(name != "unknown" and len(part) >= 2),
            "ttr_median_s": group_median_ttr(part, as_of),
        }
        if budget is not None:
            row["budget_minutes"] = float(budget.reindex(part["id"]).fillna(0.0).sum())
        rows.append(row)
    cols = ["cause", "count", "share", "repeat", "ttr_median_s"] + (["budget_minutes"] if budget is not None else [])
    out = pd.DataFrame(rows, columns=cols)
    keys = (["budget_minutes"] if budget is not None else []) + ["count", "cause"]
    return out.sort_values(keys, ascending=[False] * (len(keys) - 1) + [True], kind="stable").reset_index(drop=True)


def by_detection(df: pd.DataFrame, as_of: pd.Timestamp | None) -> pd.DataFrame:
    """Count, share and median time to detect per detection source."""
    det = df["detection"].fillna("unknown").str.lower()
    others = sorted(set(det) - {*KNOWN_DETECTIONS, "unknown"})
    rows = []
    for name in (*KNOWN_DETECTIONS, *others, "unknown"):
        part = df[det == name]
        if len(part) == 0:
            continue
        d = lifecycle_durations(part, "ttd", as_of).observed
        rows.append(
            {
                "detection": name,
                "count": len(part),
                "share": len(part) / len(df),
                "ttd_median_s": float(np.median(d)) if d.size else None,
            }
        )
    return pd.DataFrame(rows, columns=["detection", "count", "share", "ttd_median_s"])
