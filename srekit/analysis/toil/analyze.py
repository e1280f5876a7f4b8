"""The ``toil`` section: the :class:`ToilReport` result and the :func:`analyze_toil` entry point
(docs/toil.md)."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import pandas as pd

from srekit.analysis.toil import SECTION
from srekit.analysis.toil.candidates import (
    Candidate,
    automation_candidates,
    pick_candidates,
    plan_for,
    plan_questions,
    selection_questions,
)
from srekit.analysis.toil.inventory import (
    CategoryToil,
    TaskToil,
    category_inventory,
    observed_period,
    period_questions,
    task_inventory,
    toil_hours_per_week,
    weekly_hours,
)
from srekit.analysis.toil.log import toil_events
from srekit.analysis.toil.pages import page_events
from srekit.analysis.toil.share import (
    CAP,
    OncallFloor,
    oncall_floor,
    rotation_questions,
    share_questions,
    team_size,
    team_size_questions,
)
from srekit.core.errors import ConfigError
from srekit.core.questions import OpenQuestion
from srekit.inputs.config import ServiceConfig


@dataclass(frozen=True, slots=True, eq=False)
class ToilReport:
    """The ``toil`` section of the report.

    ``weekly`` (not in the payload) holds hours per week per task, one row per week of the
    observed period (a short last week is scaled to a full week), for the trend chart.
    """

    source: str  # "toil_log" | "estimated_from_pages" | "none"
    period_start: pd.Timestamp | None  # first local calendar day (naive, service timezone)
    period_end: pd.Timestamp | None  # day after the last one (exclusive)
    weeks: float
    team_size: int
    team_size_source: str
    hours_per_week: float
    horizon_weeks: int
    inventory: tuple[TaskToil, ...]
    by_category: tuple[CategoryToil, ...]
    toil_hours_per_week: float
    logged_share_of_team_time: float
    oncall_floor: OncallFloor
    candidates: tuple[Candidate, ...]
    open_questions: tuple[OpenQuestion, ...] = ()
    weekly: pd.DataFrame = field(default_factory=pd.DataFrame, repr=False)
    cap: float = CAP

    def __post_init__(self) -> None:
        if self.source not in ("toil_log", "estimated_from_pages", "none"):
            raise ValueError(f"unknown toil source {self.source!r}")
        if self.team_size < 1 or self.hours_per_week <= 0 or self.horizon_weeks < 1:
            raise ValueError("team size, hours per week and horizon must be positive")
        if not 0.0 <= self.logged_share_of_team_time <= 1.0:
            raise ValueError(f"logged share must be in [0, 1], got {self.logged_share_of_team_time}")
        if self.weeks < 0 or self.toil_hours_per_week < 0:
            raise ValueError("weeks and hours cannot be negative")

    @property
    def capacity_hours_per_week(self) -> float:
        return self.team_size * self.hours_per_week

    @property
    def share_of_team_time(self) -> float:
        """Toil share of team time: the logged share, never below the on-call floor."""
        return max(self.logged_share_of_team_time, self.oncall_floor.share)

    @property
    def over_cap(self) -> bool:
        return self.share_of_team_time > self.cap

    def to_dict(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "period": None
            if self.period_start is None or self.period_end is None
            else {
                "start": self.period_start.date().isoformat(),
                "end": self.period_end.date().isoformat(),
                "weeks": float(self.weeks),
            },
            "team": {
                "size": int(self.team_size),
                "size_source": self.team_size_source,
                "hours_per_week": float(self.hours_per_week),
                "capacity_hours_per_week": float(self.capacity_hours_per_week),
            },
            "horizon_weeks": int(self.horizon_weeks),
            "toil_hours_per_week": float(self.toil_hours_per_week),
            "logged_share_of_team_time": float(self.logged_share_of_team_time),
            "share_of_team_time": float(self.share_of_team_time),
            "cap": float(self.cap),
            "over_cap": bool(self.over_cap),
            "oncall_floor": self.oncall_floor.to_dict(),
            "inventory": [t.to_dict() for t in self.inventory],
            "by_category": [c.to_dict() for c in self.by_category],
            "candidates": [c.to_dict() for c in self.candidates],
        }


def analyze_toil(
    toil: pd.DataFrame | None,
    alerts: pd.DataFrame | None,
    config: ServiceConfig,
    *,
    rng: np.random.Generator,
    runs: int = 10_000,
) -> ToilReport:
    """Toil inventory, share of team time against the 50% cap, and automation candidates.

    Parameters
    ----------
    toil : DataFrame or None
        Canonical toil log (``date, task, minutes, category, engineer, automatable``).
    alerts : DataFrame or None
        Canonical pages log (``timestamp, alert, severity, ...``). Sets the on-call floor;
        without a toil log it is the estimate (pages × ``oncall.handling_minutes_per_page``).
    config : ServiceConfig
        ``toil.team_size``, ``toil.hours_per_week``, ``toil.horizon_weeks``,
        ``toil.automation`` and ``oncall``.
    rng : numpy.random.Generator
        Seeded generator for the ROI simulation.
    runs : int
        Monte Carlo runs per candidate.

    Returns
    -------
    ToilReport
        ``.to_dict()`` is the ``toil`` payload (docs/toil.md); ``.open_questions`` the defaults taken.
    """
    _check_settings(config, runs)
    source, events, source_questions = _events(toil, alerts, config)
    size, size_source = team_size(config, events)
    floor = oncall_floor(alerts, config, size)
    unmeasured = ToilReport(
        source=source,
        period_start=None,
        period_end=None,
        weeks=0.0,
        team_size=size,
        team_size_source=size_source,
        hours_per_week=config.toil.hours_per_week,
        horizon_weeks=config.toil.horizon_weeks,
        inventory=(),
        by_category=(),
        toil_hours_per_week=0.0,
        logged_share_of_team_time=0.0,
        oncall_floor=floor,
        candidates=(),
        open_questions=(*source_questions, *team_size_questions(size, size_source), *rotation_questions(floor, size)),
    )
    return unmeasured if events is None else _measured(unmeasured, events, config, rng=rng, runs=runs)


def _check_settings(config: ServiceConfig, runs: int) -> None:
    if runs < 1:
        raise ValueError(f"runs must be ≥ 1, got {runs}")
    tc = config.toil
    if tc.hours_per_week <= 0 or tc.horizon_weeks < 1:
        raise ConfigError(
            f"{_where(config)}: toil.hours_per_week must be > 0 and toil.horizon_weeks ≥ 1, got "
            f"{tc.hours_per_week} and {tc.horizon_weeks}"
        )


def _where(config: ServiceConfig) -> str:
    return str(config.path) if config.path else "service.yaml"


def _events(
    toil: pd.DataFrame | None, alerts: pd.DataFrame | None, config: ServiceConfig
) -> tuple[str, pd.DataFrame | None, tuple[OpenQuestion, ...]]:
    """Where the hours come from (docs/toil.md): the toil log, else the pages log, else nothing;
    the events (None when there are none) and the open question an estimate raises."""
    if toil is not None and len(toil) > 0:
        return "toil_log", _nonempty(toil_events(toil, config.timezone)), ()
    handling = float(config.oncall.handling_minutes_per_page)
    if alerts is not None and len(alerts) > 0:
        question = OpenQuestion(
            "toil_source",
            "Can the team keep a toil log (date, task, minutes)?",
            f"No toil log: toil is estimated from the pages log, every alert (page or ticket) taking "
            f"{handling:g} minutes of handling (oncall.handling_minutes_per_page).",
            SECTION,
        )
        return "estimated_from_pages", _nonempty(page_events(alerts, handling, config.timezone)), (question,)
    question = OpenQuestion(
        "toil_source",
        "Can the team keep a toil log (date, task, minutes) or export its pages?",
        "No toil log and no pages log: toil is unknown and no automation candidates are proposed.",
        SECTION,
    )
    return "none", None, (question,)


def _nonempty(events: pd.DataFrame) -> pd.DataFrame | None:
    return None if events.empty else events


def _measured(
    unmeasured: ToilReport, events: pd.DataFrame, config: ServiceConfig, *, rng: np.random.Generator, runs: int
) -> ToilReport:
    """``unmeasured`` (team, on-call floor, questions so far) with the period, inventory, shares
    and automation candidates of ``events``."""
    capacity = unmeasured.capacity_hours_per_week
    period = observed_period(events)
    weekly, covered = weekly_hours(events, period)
    inventory = task_inventory(events, period.weeks, capacity, weekly, covered)
    total = toil_hours_per_week(events, period.weeks)
    logged_share = min(1.0, total / capacity)
    configured = dict(config.toil.automation or {})
    picked = pick_candidates(inventory, configured)
    plans = [plan_for(t.task, configured.get(t.task), _where(config)) for t in picked]
    return replace(
        unmeasured,
        period_start=period.start,
        period_end=period.end,
        weeks=period.weeks,
        inventory=inventory,
        by_category=category_inventory(events, period.weeks, capacity),
        toil_hours_per_week=total,
        logged_share_of_team_time=logged_share,
        candidates=automation_candidates(picked, plans, unmeasured.horizon_weeks, rng=rng, runs=runs),
        open_questions=(
            *unmeasured.open_questions,
            *period_questions(period),
            *share_questions(total, capacity, logged_share, unmeasured.oncall_floor, unmeasured.source),
            *selection_questions(picked, inventory, configured, unmeasured.source),
            *plan_questions(picked, plans),
        ),
        weekly=weekly,
    )
