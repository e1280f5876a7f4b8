"""Postmortems: coverage of the serious incidents, action-item closure, the follow-up tracker and
a blameless template (SRE Workbook, "Postmortem Culture")."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from srekit.analysis.incidents.log import HIGH_SEVERITIES
from srekit.core.escape import md_text

FOLLOW_UP_LIMIT = 50
FOLLOW_UP_COLUMNS = (
    "incident_id",
    "title",
    "severity",
    "started_at",
    "postmortem",
    "action_items_open",
    "action_items_closed",
    "owner",
    "next_step",
)


def postmortem_status(df: pd.DataFrame) -> dict[str, Any]:
    """Postmortem status of the high-severity incidents and action-item closure over all
    incidents (``postmortems`` in report.json)."""
    high = df[df["severity"].isin(HIGH_SEVERITIES)]
    pm = high["postmortem"].str.lower()
    done, pending, none_ = int((pm == "done").sum()), int((pm == "pending").sum()), int((pm == "none").sum())
    known = done + pending + none_
    opened = df["action_items_open"].sum(skipna=True)
    closed = df["action_items_closed"].sum(skipna=True)
    recorded = bool(df["action_items_open"].notna().any() or df["action_items_closed"].notna().any())
    return {
        "high_severities": list(HIGH_SEVERITIES),
        "high_severity_incidents": len(high),
        "done": done,
        "pending": pending,
        "none": none_,
        "unknown": len(high) - known,
        "coverage": done / known if known else None,
        "action_items_open": int(opened) if recorded else None,
        "action_items_closed": int(closed) if recorded else None,
        "closure_rate": float(closed / (opened + closed)) if recorded and (opened + closed) > 0 else None,
    }


def follow_up(df: pd.DataFrame, owner: str) -> pd.DataFrame:
    """Tracker rows: high-severity incidents without a finished postmortem, and incidents
    with open action items, newest first."""
    high = df["severity"].isin(HIGH_SEVERITIES)
    pm = df["postmortem"].str.lower()
    need_pm = high & (pm != "done").fillna(True)
    open_items = df["action_items_open"].fillna(0) > 0
    sel = df[(need_pm | open_items).to_numpy()].sort_values("started_at", ascending=False, na_position="last")
    steps = np.where(need_pm[sel.index], "write and review the postmortem", "close the open action items")
    out = pd.DataFrame(
        {
            "incident_id": sel["id"],
            "title": sel["title"],
            "severity": sel["severity"],
            "started_at": sel["started_at"],
            "postmortem": sel["postmortem"].fillna("unknown"),
            "action_items_open": sel["action_items_open"].astype("Int64"),
            "action_items_closed": sel["action_items_closed"].astype("Int64"),
            "owner": owner,
            "next_step": steps,
        },
        columns=list(FOLLOW_UP_COLUMNS),
    )
    return out.reset_index(drop=True)


def empty_follow_up() -> pd.DataFrame:
    """The tracker without rows."""
    return pd.DataFrame({c: pd.Series([], dtype="object") for c in FOLLOW_UP_COLUMNS})


def postmortem_template(service: str) -> str:
    """A blameless postmortem template (after the SRE Workbook, "Postmortem Culture", example
    postmortem), in Markdown. The service name is data (:func:`srekit.core.escape.md_text`) and
    the ``<placeholders>`` start with an escaped ``<``: both show as written wherever the
    Markdown is rendered, never as HTML tags."""
    return _POSTMORTEM.format(service=md_text(service))


_POSTMORTEM = """# Postmortem: \\<incident title> ({service})

**Date:** \\<YYYY-MM-DD> · **Authors:** \\<names> · **Status:** draft | in review | final · **Severity:** SEV\\<1-4>

## Summary
\\<Two or three sentences: what broke, for whom, for how long.>

## Impact
- Users affected / requests failed: \\<numbers>
- Error budget consumed: \\<budget minutes> of \\<SLO name>
- Time to detect / acknowledge / mitigate / resolve: \\<durations>

## Timeline (UTC)
| time | event |
|---|---|
| \\<hh:mm> | impact starts |
| \\<hh:mm> | detected by \\<alert / customer / internal> |
| \\<hh:mm> | acknowledged by on-call |
| \\<hh:mm> | mitigated |
| \\<hh:mm> | resolved |

## Root causes and trigger
\\<What made this possible (causes) and what set it off (trigger). No blame: describe systems and decisions, not
people.>

## Detection
\\<How we found out. Would a burn-rate alert have paged earlier? Was the page actionable?>

## Resolution
\\<What mitigated it and what fixed it for good.>

## What went well / what went wrong / where we got lucky
- \\<...>

## Action items
| action | type (prevent / detect / mitigate / process) | owner | due | tracking link | status |
|---|---|---|---|---|---|
| \\<...> | \\<...> | \\<name> | \\<date> | \\<link> | open |
"""
