"""Backlog items from the ``alerting`` payload: noisy and cause-based pages, incidents the
burn-rate policy would have missed; and the burn-rate abort condition of chaos experiments."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from srekit.analysis.backlog.from_incidents import causes
from srekit.analysis.backlog.model import QUARTER_WEEKS, Draft
from srekit.analysis.backlog.read import mapping, minutes_between, num, seq
from srekit.analysis.backlog.scale import Scale, per_quarter
from srekit.inputs.config import ServiceConfig

DEFAULT_ABORT = ("5m", 14.4)
"""Default chaos abort: the fast page condition of the SRE Workbook (ch. 5 "Alerting on SLOs"):
2% of a 30-day budget in 1 h is a burn rate of 14.4, checked over a 5-minute short window."""


def alerting_items(
    alerting: Mapping[str, Any],
    forecast: Mapping[str, Any],
    incidents: Mapping[str, Any],
    config: ServiceConfig,
    scale: Scale,
) -> list[Draft]:
    """Page items (hours of handling, ``oncall.handling_minutes_per_page``), then the missed incidents."""
    missed = _missed_item(alerting, forecast, incidents, scale)
    return [*_page_items(mapping(alerting.get("existing_pages")), config), *([] if missed is None else [missed])]


def _page_items(pages: Mapping[str, Any], config: ServiceConfig) -> list[Draft]:
    handling = config.oncall.handling_minutes_per_page
    per_week = num(pages.get("pages_per_week"))
    non_act = num(pages.get("share_non_actionable"))
    out = []
    if per_week and non_act and non_act > 0:
        out.append(
            Draft(
                "Remove or fix non-actionable pages",
                "alerting_gap",
                per_week * non_act * handling / 60.0 * QUARTER_WEEKS,
                "hours_per_quarter",
                "S",
                f"{non_act:.0%} of {per_week:.1f} pages/week are not actionable; at {handling:g} min per page "
                "(oncall.handling_minutes_per_page)",
                "alerting",
            )
        )
    cause_alerts = [str(a) for a in seq(pages.get("cause_based_alerts"))]
    share_cause = num(pages.get("share_cause_based"))
    if per_week and share_cause and share_cause > 0 and cause_alerts:
        out.append(
            Draft(
                "Replace cause-based pages with SLO burn-rate alerts: "
                + ", ".join(cause_alerts[:4])
                + (" …" if len(cause_alerts) > 4 else ""),
                "alerting_gap",
                per_week * share_cause * handling / 60.0 * QUARTER_WEEKS,
                "hours_per_quarter",
                "M",
                f"{share_cause:.0%} of {per_week:.1f} pages/week fire on causes (CPU, disk, memory), not on user "
                "symptoms (SRE book ch. 6: page on symptoms)",
                "alerting",
            )
        )
    return out


def _missed_item(
    alerting: Mapping[str, Any], forecast: Mapping[str, Any], incidents: Mapping[str, Any], scale: Scale
) -> Draft | None:
    # alerting.incidents holds exactly the incidents the "all rules" row is scored on (never one of
    # another journey, with zero duration or from before the rules could fire): the same counts
    missed = [mapping(d) for d in seq(alerting.get("incidents")) if not mapping(d).get("detected")]
    if not missed:
        return None
    minutes, basis = _missed_budget(missed, forecast, incidents)
    ids = ", ".join(str(d.get("id")) for d in missed[:5]) + (" …" if len(missed) > 5 else "")
    scored = num(mapping(mapping(alerting.get("backtest")).get("overall")).get("incidents"))
    return Draft(
        f"Cover the incidents the burn-rate policy would have missed ({len(missed)} of "
        f"{len(seq(alerting.get('incidents'))) if scored is None else int(scored)})",
        "alerting_gap",
        per_quarter(minutes, scale),
        "budget_minutes_per_quarter",
        "M",
        f"no rule fired during incidents {ids}; {basis}",
        "alerting",
        scaled_by_history=True,
    )


def _missed_budget(
    missed: list[Mapping[str, Any]], forecast: Mapping[str, Any], incidents: Mapping[str, Any]
) -> tuple[float, str]:
    """Budget minutes the missed incidents stand for over the history, with how it was found.

    1. the forecast's median measured budget minutes of one incident (per SLO of the incident's
       journey, the largest; any SLO when the journey is unknown) × missed incidents;
    2. else the incident log's mean budget minutes per incident (cause totals / incidents);
    3. else their duration as full-outage minutes (an upper bound).
    """
    models = mapping(mapping(forecast.get("model")).get("per_slo"))
    journeys = {str(mapping(f).get("slo")): mapping(f).get("journey") for f in seq(forecast.get("per_slo"))}
    per: list[float] = []
    for d in missed:
        found = [
            num(mapping(m).get("impact_budget_minutes_median"))
            for name, m in models.items()
            if d.get("journey") in (None, journeys.get(name)) and num(mapping(m).get("impacts_measured"))
        ]
        vals = [v for v in found if v is not None]
        if vals:
            per.append(max(vals))
    if per and len(per) == len(missed):
        total = sum(per)
        return total, (
            f"{total:.1f} budget minutes over the history (median measured impact of one incident "
            "in the forecast model, per missed incident)"
        )
    rows = causes(incidents)
    n = num(incidents.get("incidents"))
    if n and rows and all(num(c.get("budget_minutes")) is not None for c in rows):
        mean = sum(num(c.get("budget_minutes")) or 0.0 for c in rows) / n
        total = mean * len(missed)
        return (
            total,
            f"{total:.1f} budget minutes over the history (mean {mean:.2f} budget minutes per logged incident)",
        )
    minutes = sum(minutes_between(d.get("started_at"), d.get("impact_end")) or 0.0 for d in missed)
    return minutes, f"{minutes:.0f} incident minutes over the history (upper bound: as if each were a full outage)"


def abort_condition(alerting: Mapping[str, Any]) -> str:
    """Chaos abort rule: the fastest page rule of the alert policy (short window and burn rate),
    else the SRE Workbook's 5m/14.4 fast-burn condition."""
    pages = [mapping(r) for r in seq(alerting.get("policy")) if mapping(r).get("severity") == "page"]
    pages = [r for r in pages if num(r.get("burn_rate"))]
    if pages:
        r = max(pages, key=lambda r: (num(r.get("burn_rate")) or 0.0, -(num(r.get("short_window_s")) or 0.0)))
        return (
            f"abort when the {r.get('short_window')} burn rate of {r.get('slo')} > {float(r['burn_rate']):g} "
            f"(its {r.get('long_window')} page rule)"
        )
    w, rate = DEFAULT_ABORT
    return f"abort when the {w} burn rate > {rate:g} (SRE Workbook fast-burn page condition)"
