"""Automation candidates: which tasks to automate, their estimates (``toil.automation`` in
service.yaml, else stated defaults) and their return (docs/toil.md, "Automation candidates")."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from srekit.analysis.toil import SECTION
from srekit.analysis.toil.inventory import TaskToil
from srekit.analysis.toil.roi import Estimate, Roi, break_even_hours, simulate_roi
from srekit.core.errors import ConfigError
from srekit.core.questions import OpenQuestion

DEFAULT_COST_HOURS = (8.0, 24.0, 80.0)
"""Default build cost of an automation (low, likely, high engineer hours): a day, three days,
two weeks. A stated assumption, listed in ``open_questions``."""
DEFAULT_REDUCTION = (0.5, 0.8, 0.95)
"""Default share of a task's time that automation removes (low, likely, high)."""
DEFAULT_MAINTENANCE = (0.0, 0.25, 1.0)
"""Default upkeep of an automation in hours per week (low, likely, high)."""
MAX_CANDIDATES = 10
"""Candidates besides the tasks named in ``toil.automation``."""
LISTED = 8
"""Tasks named in one open question before it says "…"."""

_AUTOMATION_KEYS = {"cost_hours", "expected_reduction", "maintenance_hours_per_week", "self_healing", "rollback"}


@dataclass(frozen=True, slots=True)
class SelfHealing:
    """An automatic remediation; proposed only with a named safe rollback."""

    action: str
    rollback: str

    def __post_init__(self) -> None:
        if not self.action.strip() or not self.rollback.strip():
            raise ValueError("self-healing needs an action and a named safe rollback")

    def to_dict(self) -> dict[str, str]:
        return {"action": self.action, "rollback": self.rollback}


@dataclass(frozen=True, slots=True, eq=False)
class Candidate:
    """A task worth automating, with its deterministic break-even and Monte Carlo ROI.

    ``net_hours_draws`` and ``payback_weeks_draws`` keep the simulated runs for plots; they
    are not part of the JSON payload.
    """

    task: str
    category: str
    hours_per_week: float
    cost_hours: Estimate
    expected_reduction: Estimate
    maintenance_hours_per_week: Estimate
    estimates_source: str  # "config" | "default"
    horizon_weeks: int
    break_even_hours: float
    roi: Roi
    self_healing: SelfHealing | None = None
    net_hours_draws: np.ndarray = field(default_factory=lambda: np.empty(0), repr=False)
    payback_weeks_draws: np.ndarray = field(default_factory=lambda: np.empty(0), repr=False)

    def __post_init__(self) -> None:
        if self.expected_reduction.high > 1:
            raise ValueError(f"candidate {self.task}: expected_reduction is a share in [0, 1]")
        if self.estimates_source not in ("config", "default"):
            raise ValueError(f"candidate {self.task}: estimates_source must be config or default")
        if self.break_even_hours < 0 or self.hours_per_week < 0:
            raise ValueError(f"candidate {self.task}: hours cannot be negative")

    @property
    def saved_hours_per_week(self) -> float:
        """Net hours saved per week at the likely values: h × r − m."""
        return self.hours_per_week * self.expected_reduction.likely - self.maintenance_hours_per_week.likely

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "task": self.task,
            "category": self.category,
            "hours_per_week": float(self.hours_per_week),
            "cost_hours": self.cost_hours.to_dict(),
            "expected_reduction": self.expected_reduction.to_dict(),
            "maintenance_hours_per_week": self.maintenance_hours_per_week.to_dict(),
            "estimates_source": self.estimates_source,
            "saved_hours_per_week": float(self.saved_hours_per_week),
            "horizon_weeks": int(self.horizon_weeks),
            "break_even_hours": float(self.break_even_hours),
            "roi": self.roi.to_dict(),
        }
        if self.self_healing is not None:
            out["self_healing"] = self.self_healing.to_dict()
        return out


@dataclass(frozen=True, slots=True)
class Plan:
    """The estimates of one automation: from ``toil.automation`` (``source="config"``) or the defaults."""

    cost: Estimate
    reduction: Estimate
    maintenance: Estimate
    source: str
    self_healing: SelfHealing | None = None
    healing_without_rollback: bool = False


DEFAULT_PLAN = Plan(
    Estimate(*DEFAULT_COST_HOURS), Estimate(*DEFAULT_REDUCTION), Estimate(*DEFAULT_MAINTENANCE), "default"
)


def _three(spec: Mapping[str, Any], key: str, default: Estimate, *, task: str, where: str) -> Estimate:
    """``toil.automation[task].<key>``: one number or ``[low, likely, high]``; ``default`` when absent."""
    if key not in spec:
        return default
    value, share = spec[key], key == "expected_reduction"
    vals = list(value) if isinstance(value, list | tuple) else [value, value, value]
    try:
        if len(vals) != 3:
            raise ValueError(f"expected one number or [low, likely, high], got {value!r}")
        est = Estimate(*(float(v) for v in vals))
        if share and est.high > 1:
            raise ValueError("a reduction is a share of the task's time in [0, 1]")
    except (TypeError, ValueError) as exc:
        raise ConfigError(
            f"{where}: toil.automation[{task!r}].{key} is invalid: {exc}. "
            f"fix: give {key}: [low, likely, high] with 0 ≤ low ≤ likely ≤ high" + (" ≤ 1" if share else "")
        ) from exc
    return est


def plan_for(task: str, spec: Mapping[str, Any] | None, where: str) -> Plan:
    """The automation plan of ``task`` from its ``toil.automation`` entry (``None``: defaults);
    raises :class:`srekit.core.errors.ConfigError` on an invalid entry."""
    if spec is None:
        return DEFAULT_PLAN
    if not isinstance(spec, Mapping):
        raise ConfigError(f"{where}: toil.automation[{task!r}] must be a mapping of {sorted(_AUTOMATION_KEYS)}")
    unknown = sorted(set(spec) - _AUTOMATION_KEYS)
    if unknown:
        raise ConfigError(
            f"{where}: toil.automation[{task!r}] has unknown key(s) {unknown}. valid: {sorted(_AUTOMATION_KEYS)}"
        )
    cost = _three(spec, "cost_hours", DEFAULT_PLAN.cost, task=task, where=where)
    reduction = _three(spec, "expected_reduction", DEFAULT_PLAN.reduction, task=task, where=where)
    maintenance = _three(spec, "maintenance_hours_per_week", DEFAULT_PLAN.maintenance, task=task, where=where)
    action = str(spec.get("self_healing") or "").strip()
    rollback = str(spec.get("rollback") or "").strip()
    healing = SelfHealing(action, rollback) if action and rollback else None
    return Plan(cost, reduction, maintenance, "config", healing, bool(action) and not rollback)


def pick_candidates(inventory: Sequence[TaskToil], configured: Mapping[str, Any]) -> tuple[TaskToil, ...]:
    """Tasks not marked ``automatable: false``, biggest first, up to ``MAX_CANDIDATES`` besides
    every task named in ``toil.automation`` (even one the log marks not automatable)."""
    named = [t for t in inventory if t.task in configured and t.hours_per_week > 0]
    others = [t for t in inventory if t.automatable is not False and t.hours_per_week > 0 and t.task not in configured]
    picked = named + others[: max(0, MAX_CANDIDATES - len(named))]
    return tuple(sorted(picked, key=lambda t: (-t.hours_per_week, t.task)))


def _listed(names: Sequence[str]) -> str:
    return ", ".join(names[:LISTED]) + (" …" if len(names) > LISTED else "")


def selection_questions(
    picked: Sequence[TaskToil], inventory: Sequence[TaskToil], configured: Mapping[str, Any], source: str
) -> tuple[OpenQuestion, ...]:
    """Ask about candidates whose ``automatable`` is unknown, and configured tasks not in the data."""
    questions: tuple[OpenQuestion, ...] = ()
    unknown = [t.task for t in picked if t.automatable is None]
    if unknown and source == "toil_log":
        questions += (
            OpenQuestion(
                "toil_automatable",
                "Can these tasks be automated?",
                "Treated as automatable (no `automatable` value in the log): " + _listed(unknown),
                SECTION,
            ),
        )
    absent = sorted(set(configured) - {t.task for t in inventory})
    if absent:
        questions += (
            OpenQuestion(
                "toil_automation_tasks",
                "Do these configured automation tasks match task names in the log?",
                "toil.automation names tasks absent from the data, ignored: " + ", ".join(absent),
                SECTION,
            ),
        )
    return questions


def _candidate(task: TaskToil, plan: Plan, horizon_weeks: int, u: np.ndarray) -> Candidate:
    roi, net, payback = simulate_roi(task.hours_per_week, plan.cost, plan.reduction, plan.maintenance, horizon_weeks, u)
    return Candidate(
        task=task.task,
        category=task.category,
        hours_per_week=task.hours_per_week,
        cost_hours=plan.cost,
        expected_reduction=plan.reduction,
        maintenance_hours_per_week=plan.maintenance,
        estimates_source=plan.source,
        horizon_weeks=horizon_weeks,
        break_even_hours=break_even_hours(
            task.hours_per_week, plan.reduction.likely, plan.maintenance.likely, horizon_weeks
        ),
        roi=roi,
        self_healing=plan.self_healing,
        net_hours_draws=net,
        payback_weeks_draws=payback,
    )


def plan_questions(picked: Sequence[TaskToil], plans: Sequence[Plan]) -> tuple[OpenQuestion, ...]:
    """Ask for the rollback of each self-healing without one, then for the defaulted estimates."""
    rollbacks = tuple(
        OpenQuestion(
            "self_healing_rollback",
            f"What is the safe rollback for self-healing {t.task!r}?",
            "Self-healing is not proposed without a named safe rollback (toil.automation[...].rollback).",
            SECTION,
        )
        for t, p in zip(picked, plans, strict=True)
        if p.healing_without_rollback
    )
    defaulted = [t.task for t, p in zip(picked, plans, strict=True) if p.source == "default"]
    if not defaulted:
        return rollbacks
    estimates = OpenQuestion(
        "automation_estimates",
        "What would automating these tasks cost, save and need in upkeep?",
        f"Default estimates (cost {DEFAULT_COST_HOURS} h, reduction {DEFAULT_REDUCTION}, maintenance "
        f"{DEFAULT_MAINTENANCE} h/week as low/likely/high) for: "
        + _listed(defaulted)
        + ". Set toil.automation in service.yaml.",
        SECTION,
    )
    return (*rollbacks, estimates)


def automation_candidates(
    picked: Sequence[TaskToil], plans: Sequence[Plan], horizon_weeks: int, *, rng: np.random.Generator, runs: int
) -> tuple[Candidate, ...]:
    """One :class:`Candidate` per picked task; one block of uniforms for all of them, so the
    same seed gives the same numbers."""
    u_all = rng.random((len(picked), runs, 3))
    return tuple(_candidate(t, p, horizon_weeks, u) for t, p, u in zip(picked, plans, u_all, strict=True))
