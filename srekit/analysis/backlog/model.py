"""The backlog's result types, its effort sizes and the score (docs/backlog.md, "The ranking scale")."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from srekit.core.questions import OpenQuestion

QUARTER_DAYS = 91.0
QUARTER_WEEKS = 13.0
EFFORT_WEIGHTS: Mapping[str, float] = {"S": 1.0, "M": 3.0, "L": 8.0}
CATEGORIES = (
    "alerting_gap",
    "incident_cause",
    "detection",
    "toil_automation",
    "postmortem_follow_up",
    "chaos_experiment",
    "slo",
)
UNITS = ("budget_minutes_per_quarter", "hours_per_quarter")


@dataclass(frozen=True, slots=True)
class Impact:
    value: float
    unit: str
    share_of_quarter: float

    def __post_init__(self) -> None:
        if self.unit not in UNITS:
            raise ValueError(f"impact unit must be one of {UNITS}, got {self.unit!r}")
        if not (math.isfinite(self.value) and self.value >= 0):
            raise ValueError(f"impact must be a finite non-negative number, got {self.value}")
        if not (math.isfinite(self.share_of_quarter) and self.share_of_quarter >= 0):
            raise ValueError(f"impact share must be finite and non-negative, got {self.share_of_quarter}")

    def to_dict(self) -> dict[str, Any]:
        return {"value": float(self.value), "unit": self.unit, "share_of_quarter": float(self.share_of_quarter)}


@dataclass(frozen=True, slots=True)
class BacklogItem:
    """One ranked backlog item. ``abort_condition`` only for chaos experiments."""

    rank: int
    title: str
    category: str
    impact: Impact
    effort: str
    score: float
    owner: str
    evidence: str
    source: str
    abort_condition: str | None = None

    def __post_init__(self) -> None:
        if self.category not in CATEGORIES:
            raise ValueError(f"unknown backlog category {self.category!r}")
        if self.effort not in EFFORT_WEIGHTS:
            raise ValueError(f"effort must be S, M or L, got {self.effort!r}")
        if not (self.title and self.owner and self.evidence and self.source):
            raise ValueError("a backlog item needs a title, an owner, evidence and a source")
        if self.rank < 1:
            raise ValueError("ranks start at 1")
        if (self.category == "chaos_experiment") != (self.abort_condition is not None):
            raise ValueError("chaos experiments (and only they) carry a burn-rate abort condition")
        if not (math.isfinite(self.score) and self.score >= 0):
            raise ValueError(f"score must be finite and non-negative, got {self.score}")

    def to_dict(self) -> dict[str, Any]:
        return {
            "rank": self.rank,
            "title": self.title,
            "category": self.category,
            "impact": self.impact.to_dict(),
            "effort": self.effort,
            "score": float(self.score),
            "owner": self.owner,
            "evidence": self.evidence,
            "source": self.source,
            "abort_condition": self.abort_condition,
        }


@dataclass(frozen=True, slots=True)
class Backlog:
    """The ``backlog`` section: items ranked by score (rank 1 first)."""

    items: tuple[BacklogItem, ...]
    budget_minutes_per_quarter: float
    team_hours_per_quarter: float
    sections: tuple[str, ...]
    open_questions: tuple[OpenQuestion, ...] = ()

    def __post_init__(self) -> None:
        if self.budget_minutes_per_quarter <= 0 or self.team_hours_per_quarter <= 0:
            raise ValueError("the quarterly budget and team hours must be positive")
        if [i.rank for i in self.items] != list(range(1, len(self.items) + 1)):
            raise ValueError("items must be ranked 1..n in order")

    def to_dict(self) -> dict[str, Any]:
        return {
            "items": [i.to_dict() for i in self.items],
            "scale": {
                "quarter_days": QUARTER_DAYS,
                "budget_minutes_per_quarter": float(self.budget_minutes_per_quarter),
                "team_hours_per_quarter": float(self.team_hours_per_quarter),
                "effort_weights": dict(EFFORT_WEIGHTS),
                "score": "100 × impact share of a quarter / effort weight",
            },
            "sections_used": list(self.sections),
        }


@dataclass(frozen=True, slots=True)
class Draft:
    """An item before ranking: its impact per quarter in ``unit`` and where it came from.

    ``journey`` picks the owner and, with ``slo_budget_per_quarter``, the budget the impact is
    weighed against; ``scaled_by_history`` marks a value that is a total over the history scaled
    to a quarter (:func:`srekit.analysis.backlog.scale.per_quarter`)."""

    title: str
    category: str
    value: float
    unit: str
    effort: str
    evidence: str
    source: str
    journey: str | None = None
    abort_condition: str | None = None
    slo_budget_per_quarter: float | None = None
    scaled_by_history: bool = False


def effort_from_hours(hours: float) -> str:
    """S up to 16 h (two days), M up to 80 h (two weeks), L above."""
    return "S" if hours <= 16 else "M" if hours <= 80 else "L"


def score(share_of_quarter: float, effort: str) -> float:
    """``100 × impact share / effort weight`` (see :mod:`srekit.analysis.backlog`)."""
    return 100.0 * share_of_quarter / EFFORT_WEIGHTS[effort]
