"""Backlog items from the ``toil`` payload: automations likely to pay back, and toil above the cap."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from srekit.analysis.backlog.model import QUARTER_WEEKS, Draft, effort_from_hours
from srekit.analysis.backlog.read import mapping, num, seq

MIN_P_PAYBACK = 0.5
"""An automation is proposed when it pays back within the horizon more likely than not."""


def toil_items(toil: Mapping[str, Any]) -> list[Draft]:
    """One item per automation candidate likely to pay back, and one when toil is over the cap."""
    items = [d for c in seq(toil.get("candidates")) if (d := _automation(mapping(c), toil)) is not None]
    over = _over_cap(toil)
    return items if over is None else [*items, over]


def _automation(c: Mapping[str, Any], toil: Mapping[str, Any]) -> Draft | None:
    roi = mapping(c.get("roi"))
    p = num(roi.get("p_payback_within_horizon"))
    saved = num(c.get("saved_hours_per_week"))
    cost = num(mapping(c.get("cost_hours")).get("likely"))
    if p is None or saved is None or cost is None or p < MIN_P_PAYBACK or saved <= 0:
        return None
    pb = mapping(roi.get("payback_weeks")).get("p50")
    healing = mapping(c.get("self_healing"))
    what = (
        f"the response to '{c.get('task')}' pages"
        if toil.get("source") == "estimated_from_pages"
        else f"'{c.get('task')}'"
    )
    title = (
        f"Self-heal {what} ({healing.get('action')}; rollback: {healing.get('rollback')})"
        if healing
        else f"Automate {what}"
    )
    return Draft(
        title,
        "toil_automation",
        saved * QUARTER_WEEKS,
        "hours_per_quarter",
        effort_from_hours(cost),
        f"takes {(num(c.get('hours_per_week')) or 0):.1f} h/week; saves {saved:.1f} h/week net at likely "
        f"values; build ≈{cost:.0f} h; break-even effort {(num(c.get('break_even_hours')) or 0):.0f} h over "
        f"{c.get('horizon_weeks')} weeks; pays back within the horizon with probability {p:.0%}"
        + (f" (median {num(pb):.0f} weeks)" if num(pb) is not None else ""),
        "toil",
    )


def _over_cap(toil: Mapping[str, Any]) -> Draft | None:
    share, cap = num(toil.get("share_of_team_time")), num(toil.get("cap"))
    capacity = num(mapping(toil.get("team")).get("capacity_hours_per_week"))
    if share is None or cap is None or not capacity or share <= cap:
        return None
    over = (share - cap) * capacity
    hours = num(toil.get("toil_hours_per_week")) or 0
    return Draft(
        "Bring toil back under the 50% cap: pause feature work for toil reduction",
        "toil_automation",
        over * QUARTER_WEEKS,
        "hours_per_quarter",
        "L",
        f"toil takes {share:.0%} of the team's time ({hours:.1f} h/week), "
        f'{over:.1f} h/week above the {cap:.0%} cap (SRE book ch. 5, "Eliminating Toil")',
        "toil",
    )
