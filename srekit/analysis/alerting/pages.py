"""The team's existing pages log, summarised for comparison with the burn-rate policy: pages
per week, how many were not actionable or linked to an incident, and which alert names fire on
causes (CPU, disk, memory) rather than on what users feel (SRE book ch. 6, Workbook ch. 5:
page on symptoms, not causes)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import pandas as pd

WEEK = pd.Timedelta(days=7)

CAUSE_RE = re.compile(
    r"cpu|disk|memory|\bmem\b|swap|inode|heap|\bgc\b|garbage|thread|file.?descriptor|\bfds?\b|"
    r"\bload\b|iops|\bnode\b|\bhost\b|oom|queue.?depth|restart|network|bandwidth|certificate|\bntp\b",
    re.IGNORECASE,
)
SYMPTOM_RE = re.compile(
    r"error|5xx|latency|slo\b|burn|availab|timeout|success|apdex|p9\d|slow|checkout|login|"
    r"request|uptime|probe|synthetic",
    re.IGNORECASE,
)


def classify_alert(name: str) -> str:
    """``symptom`` (user-facing: errors, latency, SLO burn), ``cause`` (CPU, disk, memory…)
    or ``unknown`` — Workbook ch. 5/SRE book ch. 6: page on symptoms, not causes."""
    if SYMPTOM_RE.search(name):
        return "symptom"
    if CAUSE_RE.search(name):
        return "cause"
    return "unknown"


@dataclass(frozen=True, slots=True)
class PagesSummary:
    """The team's existing pages log, summarised."""

    pages: int
    tickets: int
    weeks: float
    non_actionable_share: float | None  # among pages with a known actionable flag
    linked_to_incident_share: float
    by_alert: tuple[dict[str, Any], ...]  # alert, kind, pages, non_actionable_share

    def to_dict(self) -> dict[str, Any]:
        cause = [a for a in self.by_alert if a["kind"] == "cause"]
        return {
            "pages": self.pages,
            "tickets": self.tickets,
            "weeks": self.weeks,
            "pages_per_week": self.pages / self.weeks,
            "share_non_actionable": self.non_actionable_share,
            "share_linked_to_incident": self.linked_to_incident_share,
            "share_cause_based": (sum(a["pages"] for a in cause) / self.pages) if self.pages else 0.0,
            "cause_based_alerts": [a["alert"] for a in cause],
            "by_alert": list(self.by_alert),
        }


def summarize_pages(alerts: pd.DataFrame, weeks: float | None = None) -> PagesSummary:
    """Pages per week, share non-actionable, share linked to an incident, and which alerts
    fire on causes (CPU, disk, memory) rather than user-facing symptoms."""
    if weeks is None:
        span = alerts["timestamp"].max() - alerts["timestamp"].min() if len(alerts) else pd.Timedelta(0)
        weeks = max(span / WEEK, 1.0 / 7.0)
    sev = alerts["severity"].astype("str").str.lower()
    pages = alerts[sev == "page"]
    flag = pages["actionable"] if "actionable" in pages.columns else pd.Series(pd.NA, index=pages.index)
    known = flag.dropna()
    non_act = float((~known.astype(bool)).mean()) if len(known) else None
    linked = float(pages["incident_id"].notna().mean()) if len(pages) and "incident_id" in pages.columns else 0.0
    rows = sorted(
        (_alert_row(str(name), grp) for name, grp in pages.groupby("alert", sort=True)),
        key=lambda r: (-int(r["pages"]), str(r["alert"])),
    )
    return PagesSummary(int(len(pages)), int((sev == "ticket").sum()), float(weeks), non_act, linked, tuple(rows))


def _alert_row(name: str, pages: pd.DataFrame) -> dict[str, Any]:
    """One alert name's pages: its kind, count and share not actionable."""
    flag = pages["actionable"].dropna() if "actionable" in pages.columns else pd.Series([], dtype=bool)
    return {
        "alert": name,
        "kind": classify_alert(name),
        "pages": int(len(pages)),
        "share_non_actionable": float((~flag.astype(bool)).mean()) if len(flag) else None,
    }
