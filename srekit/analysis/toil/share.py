"""Team size and the share of team time spent on toil, against the SRE book's 50% cap and the
on-call floor (docs/toil.md, "Share of team time and the cap")."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pandas as pd

from srekit.analysis.toil import SECTION
from srekit.analysis.toil.pages import pages_per_week
from srekit.core.questions import OpenQuestion
from srekit.inputs.config import ServiceConfig

CAP = 0.5
"""Maximum share of team time for toil/operational work (SRE book ch. 5 "Eliminating Toil":
"at least 50% of each SRE's time should be spent on engineering project work")."""
ONCALL_LIMIT = 0.25
"""Maximum share of time on call (SRE book ch. 11 "Being On-Call")."""
DEFAULT_TEAM_SIZE = 8
"""Fallback team size: the SRE book's minimum for a single-site 24x7 rotation (ch. 11)."""


@dataclass(frozen=True, slots=True)
class OncallFloor:
    """Operational load on-call creates whatever the toil log says: pages × handling time."""

    share: float
    pages_per_week: float
    hours_per_week: float
    handling_minutes_per_page: float
    coverage: str | None
    rotation_share: float | None

    def __post_init__(self) -> None:
        if not 0.0 <= self.share <= 1.0:
            raise ValueError(f"on-call floor share must be in [0, 1], got {self.share}")
        if self.pages_per_week < 0 or self.hours_per_week < 0:
            raise ValueError("pages and hours per week cannot be negative")

    def to_dict(self) -> dict[str, Any]:
        return {
            "share": float(self.share),
            "pages_per_week": float(self.pages_per_week),
            "hours_per_week": float(self.hours_per_week),
            "handling_minutes_per_page": float(self.handling_minutes_per_page),
            "coverage": self.coverage,
            "rotation_share": None if self.rotation_share is None else float(self.rotation_share),
            "oncall_limit": ONCALL_LIMIT,
        }


def team_size(config: ServiceConfig, events: pd.DataFrame | None) -> tuple[int, str]:
    """Team size and where it came from: ``toil.team_size``, ``oncall.engineers``, the distinct
    engineers in the toil log, else ``DEFAULT_TEAM_SIZE``."""
    if config.toil.team_size:
        return int(config.toil.team_size), "config.toil.team_size"
    if config.oncall.engineers:
        return int(config.oncall.engineers), "config.oncall.engineers"
    if events is not None and "engineer" in events.columns:
        n = int(events["engineer"].dropna().nunique())
        if n > 0:
            return n, "engineers in the toil log"
    return DEFAULT_TEAM_SIZE, "default"


def team_size_questions(size: int, source: str) -> tuple[OpenQuestion, ...]:
    """Ask for the team size when it was assumed or read from the log."""
    if source == "default":
        return (
            OpenQuestion(
                "toil_team_size",
                "How many engineers share this operational work?",
                f"Team size unknown (toil.team_size, oncall.engineers, no engineer column): assumed "
                f"{DEFAULT_TEAM_SIZE}, the SRE book's minimum for a single-site on-call rotation.",
                SECTION,
            ),
        )
    if source == "engineers in the toil log":
        return (
            OpenQuestion(
                "toil_team_size",
                "Is everyone who does operational work in the toil log?",
                f"Team size taken as the {size} distinct engineers in the toil log (set toil.team_size).",
                SECTION,
            ),
        )
    return ()


def oncall_floor(alerts: pd.DataFrame | None, config: ServiceConfig, size: int) -> OncallFloor:
    """The on-call floor: pages per week × ``oncall.handling_minutes_per_page``, as a share of
    the team's capacity; with on-call coverage, each engineer's share of the rotation."""
    handling = float(config.oncall.handling_minutes_per_page)
    capacity = size * config.toil.hours_per_week
    pages_pw = pages_per_week(alerts, config.timezone)
    page_hours = pages_pw * handling / 60.0
    return OncallFloor(
        share=min(1.0, page_hours / capacity),
        pages_per_week=pages_pw,
        hours_per_week=page_hours,
        handling_minutes_per_page=handling,
        coverage=config.oncall.coverage,
        rotation_share=(1.0 / size) if config.oncall.coverage else None,
    )


def rotation_questions(floor: OncallFloor, size: int) -> tuple[OpenQuestion, ...]:
    """Flag a rotation that keeps each engineer on call more than ``ONCALL_LIMIT`` of the time."""
    rotation = floor.rotation_share
    if rotation is None or rotation <= ONCALL_LIMIT:
        return ()
    return (
        OpenQuestion(
            "oncall_rotation_size",
            "Is the rotation large enough to keep on-call under 25% of each engineer's time?",
            f"With {size} engineers each is on call {rotation:.0%} of the time, above the SRE book's 25% limit.",
            SECTION,
        ),
    )


def share_questions(
    total: float, capacity: float, logged_share: float, floor: OncallFloor, source: str
) -> tuple[OpenQuestion, ...]:
    """Flag logged toil above the team's capacity, and a toil log below the on-call floor."""
    questions: tuple[OpenQuestion, ...] = ()
    if total > capacity:
        questions += (
            OpenQuestion(
                "toil_capacity",
                "Is the team size or the toil log right?",
                f"Logged toil ({total:.1f} h/week) exceeds the team's capacity ({capacity:.1f} h/week); "
                "the share is capped at 100%.",
                SECTION,
            ),
        )
    if source == "toil_log" and floor.share > logged_share:
        questions += (
            OpenQuestion(
                "toil_oncall_floor",
                "Does the toil log include time spent handling pages?",
                f"Page handling alone takes {floor.hours_per_week:.1f} h/week, more than the toil log shows; "
                "the share of team time uses that on-call floor.",
                SECTION,
            ),
        )
    return questions
