"""One SLO's alert policy on history with its rules taken together — pages and tickets per week,
incidents caught, median detection delay, precision — for the policy in force and, for an SLO
whose policy was imported (Sloth, Pyrra, OpenSLO, slo-generator), for the SRE Workbook's
multiwindow policy on the same history (report.json ``alerting.policy_comparison``,
``docs/alerting.md``)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd

from srekit.analysis.alerting.backtest import RuleOutcome, RuleScore, slo_outcomes, slo_union_score
from srekit.analysis.alerting.matching import IncidentMatch
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
            "not_applicable": self.not_applicable(),
        }

    def not_applicable(self) -> dict[str, str]:
        """Why each ``None`` figure is not applicable: the overall union's, and the pages' precision."""
        out = {
            k: v for k, v in self.overall.not_applicable().items() if k in ("precision", "recall", "median_detection_s")
        }
        page = self.pages.not_applicable().get("precision")
        return out | ({"page_precision": page} if page is not None else {})


def _windows(r: ReplayedSLO) -> str:
    kinds = {"single" if rule.single_window else "multiwindow" for rule in r.policy.rules}
    return "none" if not kinds else kinds.pop() if len(kinds) == 1 else "mixed"


def _of(outcomes: tuple[RuleOutcome, ...], severity: str | None) -> list[RuleOutcome]:
    return [o for o in outcomes if severity is None or o.rule.severity == severity]


def policy_outcome(
    r: ReplayedSLO,
    impacts: pd.DataFrame,
    weeks: float,
    *,
    policy: str | None = None,
    match: IncidentMatch | None = None,
    logged: int | None = None,
    scored: Sequence[RuleOutcome] | None = None,
) -> PolicyOutcome:
    """``r``'s rules scored together (``policy`` names it; default: the policy's source), each
    union built from the rules' own outcomes: ``scored`` when the caller has them (the
    backtest's, for the same impacts), else :func:`srekit.analysis.alerting.backtest.slo_outcomes`."""
    slo = r.policy.spec.name
    rules = tuple(scored) if scored is not None else slo_outcomes(r, impacts, weeks, match=match, logged=logged)

    def union(name: str, severity: str, which: str | None) -> RuleScore:
        return slo_union_score(f"{slo} {name}", severity, _of(rules, which), r, impacts, weeks, logged=logged)

    return PolicyOutcome(
        slo=slo,
        journey=r.policy.spec.journey,
        policy=policy or r.policy.source,
        windows=_windows(r),
        rules=len(r.policy.rules),
        pages=union("pages", "page", "page"),
        tickets=union("tickets", "ticket", "ticket"),
        overall=union("all rules", "any", None),
    )
