"""The ``backlog`` section's entry point: items from every payload, owned and ranked
(docs/backlog.md)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from srekit.analysis.backlog import SECTION
from srekit.analysis.backlog.from_alerting import abort_condition, alerting_items
from srekit.analysis.backlog.from_incidents import incident_items, incident_questions
from srekit.analysis.backlog.from_slo import forecast_items, slo_items
from srekit.analysis.backlog.from_toil import toil_items
from srekit.analysis.backlog.model import Backlog, BacklogItem, Draft, Impact, score
from srekit.analysis.backlog.read import mapping
from srekit.analysis.backlog.scale import Scale, history_questions, quarter_scale
from srekit.core.questions import OpenQuestion
from srekit.inputs.config import ServiceConfig

AREA = {
    "alerting_gap": "alerting",
    "detection": "alerting",
    "incident_cause": "incidents",
    "postmortem_follow_up": "incidents",
    "chaos_experiment": "chaos",
    "slo": "slo",
    "toil_automation": "toil",
}
FALLBACK_AREA = {"chaos": "incidents"}
"""Owner of an area without its own ``owners:`` entry (chaos experiments verify incident mitigations)."""


def build_backlog(
    config: ServiceConfig,
    *,
    slo: Mapping[str, Any] | None = None,
    budget: Mapping[str, Any] | None = None,
    alerting: Mapping[str, Any] | None = None,
    incidents: Mapping[str, Any] | None = None,
    forecast: Mapping[str, Any] | None = None,
    toil: Mapping[str, Any] | None = None,
) -> Backlog:
    """Rank reliability work from the other sections' ``to_dict()`` payloads.

    ``config`` gives the owners (``owners:`` in service.yaml via :meth:`ServiceConfig.owner_for`,
    journey owners), the team size and the on-call handling time. ``slo``, ``budget``,
    ``alerting``, ``incidents``, ``forecast`` and ``toil`` are the ``slo_proposal``, budget
    policy, ``alerting``, ``incident_response``, forecast (``error_budget_policy.forecast``) and
    ``toil`` payloads; any may be missing or failed. Items are ranked by ``100 × impact share of
    a quarter / effort weight`` (:mod:`srekit.analysis.backlog`).
    """
    given = _usable(
        {
            "slo_proposal": slo,
            "error_budget_policy": budget,
            "alerting": alerting,
            "incident_response": incidents,
            "forecast": forecast,
            "toil": toil,
        }
    )
    sl, bu, al, inc, fc, to = (mapping(v) for v in given.values())
    scale, scale_questions = quarter_scale(config, fc, to, al, sl)
    drafts = [
        *toil_items(to),
        *alerting_items(al, fc, inc, config, scale),
        *incident_items(inc, fc, scale, abort_condition(al)),
        *forecast_items(fc, bu),
        *slo_items(sl, bu),
    ]
    owners = [_owner(d, config) for d in drafts]
    return Backlog(
        items=_ranked(drafts, owners, scale),
        budget_minutes_per_quarter=scale.budget_per_quarter,
        team_hours_per_quarter=scale.team_hours,
        sections=tuple(k for k, v in given.items() if v),
        open_questions=(
            *scale_questions,
            *history_questions(scale, any(d.scaled_by_history for d in drafts)),
            *incident_questions(inc),
            *_missing_questions(given),
            *_owner_questions(drafts, owners),
        ),
    )


def backlog_from_report(config: ServiceConfig, report: Mapping[str, Any]) -> Backlog:
    """The backlog rebuilt from a ``report.json`` dict (its section keys; the forecast sits in
    ``error_budget_policy.forecast``), e.g. in a notebook that wants the :class:`Backlog` object."""
    budget = mapping(report.get("error_budget_policy"))
    return build_backlog(
        config,
        slo=mapping(report.get("slo_proposal")) or None,
        budget=budget or None,
        alerting=mapping(report.get("alerting")) or None,
        incidents=mapping(report.get("incident_response")) or None,
        forecast=mapping(budget.get("forecast")) or None,
        toil=mapping(report.get("toil")) or None,
    )


def _usable(given: Mapping[str, Mapping[str, Any] | None]) -> dict[str, Mapping[str, Any] | None]:
    """The payloads, a failed section (``{"status": "failed"}``) counting as missing."""
    return {k: (None if mapping(v).get("status") == "failed" else v) for k, v in given.items()}


def _missing_questions(given: Mapping[str, Mapping[str, Any] | None]) -> tuple[OpenQuestion, ...]:
    missing = [k for k, v in given.items() if not v]
    if not missing:
        return ()
    return (
        OpenQuestion(
            "backlog_sections",
            "Can the missing analyses be run (they may hold more work)?",
            "The backlog was ranked without: " + ", ".join(missing) + ".",
            SECTION,
        ),
    )


def _owner(d: Draft, config: ServiceConfig) -> str:
    """The item's journey owner, else ``owners.<area>``, else the config's owner for the area."""
    area = AREA[d.category]
    journey = config.journey(d.journey) if d.journey else None
    return (
        (journey.owner if journey and journey.owner else None)
        or config.owners.get(area)
        or config.owner_for(FALLBACK_AREA.get(area, area))
    )


def _owner_questions(drafts: Sequence[Draft], owners: Sequence[str]) -> tuple[OpenQuestion, ...]:
    unowned = sorted({AREA[d.category] for d, owner in zip(drafts, owners, strict=True) if owner == "unassigned"})
    if not unowned:
        return ()
    return (
        OpenQuestion(
            "backlog_owners",
            "Who owns these areas of reliability work?",
            "No owner in service.yaml (owners: {area: name} or owner:) for: "
            + ", ".join(unowned)
            + "; items are marked unassigned.",
            SECTION,
        ),
    )


def _ranked(drafts: Sequence[Draft], owners: Sequence[str], scale: Scale) -> tuple[BacklogItem, ...]:
    """Items by score, ties by impact share, then title; rank 1 first."""
    scored = []
    for d, owner in zip(drafts, owners, strict=True):
        per_quarter = (
            scale.team_hours
            if d.unit == "hours_per_quarter"
            else (d.slo_budget_per_quarter or scale.budget_per_quarter)
        )
        share = d.value / per_quarter
        scored.append((score(share, d.effort), share, d, owner))
    scored.sort(key=lambda t: (-t[0], -t[1], t[2].title))
    return tuple(
        BacklogItem(
            rank=i + 1,
            title=d.title,
            category=d.category,
            impact=Impact(d.value, d.unit, share),
            effort=d.effort,
            score=s,
            owner=owner,
            evidence=d.evidence,
            source=d.source,
            abort_condition=d.abort_condition,
        )
        for i, (s, share, d, owner) in enumerate(scored)
    )
