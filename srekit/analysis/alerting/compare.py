"""One SLO's alert policy on history with its rules taken together — pages and tickets per week,
incidents caught, median detection delay, precision — for the policy in force and, for an SLO
whose policy was imported (Sloth, Pyrra, OpenSLO, slo-generator), for the SRE Workbook's
multiwindow policy on the same history (report.json ``alerting.policy_comparison``,
``docs/alerting.md``)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pandas as pd

from srekit.analysis.alerting.backtest import RuleScore, slo_union_score
from srekit.analysis.alerting.replay import ReplayedSLO

WORKBOOK = "SRE Workbook multiwindow (srekit)"


@dataclass(frozen=True, slots=True)
class PolicyOutcome:
    """One SLO's policy replayed on history, its page rules, ticket rules and all rules as unions."""

    slo: str
    journey: str
    policy: str  # e.g. "sloth", "slo-generator", or WORKBOOK
    windows: str  # multiwindow | single | mixed | none
    rules: int
    pages: RuleScore
    tickets: RuleScore
    overall: RuleScore

    @property
    def weeks(self) -> float:
        return self.overall.weeks

    def to_dict(self) -> dict[str, Any]:
        o = self.overall
        median = o.median_detection
        return {
            "slo": self.slo,
            "journey": self.journey,
            "policy": self.policy,
            "windows": self.windows,
            "rules": self.rules,
            "pages": self.pages.firings,
            "tickets": self.tickets.firings,
            "pages_per_week": self.pages.firings / self.weeks,
            "tickets_per_week": self.tickets.firings / self.weeks,
            "incidents": o.incidents,
            "incidents_detected": o.incidents_detected,
            "recall": o.recall,
            "page_incidents_detected": self.pages.incidents_detected,
            "median_detection_s": None if median is None else float(median.total_seconds()),
            "precision": o.precision,
            "page_precision": self.pages.precision,
            "episodes": o.episodes,
            "episodes_detected": o.episodes_detected,
        }


def _windows(r: ReplayedSLO) -> str:
    kinds = {"single" if rule.single_window else "multiwindow" for rule in r.policy.rules}
    return "none" if not kinds else kinds.pop() if len(kinds) == 1 else "mixed"


def _union(r: ReplayedSLO, severity: str | None) -> pd.Series:
    names = [rule.name for rule in r.policy.rules if severity is None or rule.severity == severity]
    if not names:
        return pd.Series(False, index=r.fired.index, dtype=bool)
    return r.fired[names].any(axis=1)


def policy_outcome(r: ReplayedSLO, impacts: pd.DataFrame, weeks: float, *, policy: str | None = None) -> PolicyOutcome:
    """``r``'s rules scored together (``policy`` names it; default: the policy's source)."""
    slo = r.policy.spec.name
    return PolicyOutcome(
        slo=slo,
        journey=r.policy.spec.journey,
        policy=policy or r.policy.source,
        windows=_windows(r),
        rules=len(r.policy.rules),
        pages=slo_union_score(f"{slo} pages", "page", _union(r, "page"), r, impacts, weeks),
        tickets=slo_union_score(f"{slo} tickets", "ticket", _union(r, "ticket"), r, impacts, weeks),
        overall=slo_union_score(f"{slo} all rules", "any", _union(r, None), r, impacts, weeks),
    )
