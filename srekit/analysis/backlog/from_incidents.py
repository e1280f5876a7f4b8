"""Backlog items from the ``incident_response`` payload (with the forecast's what-ifs): recurring
causes, chaos experiments that verify their mitigation, detection and postmortem follow-up."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from srekit.analysis.backlog import SECTION
from srekit.analysis.backlog.model import QUARTER_DAYS, Draft
from srekit.analysis.backlog.read import mapping, num, seq
from srekit.analysis.backlog.scale import Scale, per_quarter
from srekit.core.questions import OpenQuestion

ASSUMED_DETECTION_GAIN_MIN = 10.0
"""Without a forecast what-if: minutes of full-outage burn saved per incident detected sooner."""
ASSUMED_SHARE = 0.25
"""Without a forecast what-if: share of incident burn a follow-up or verified mitigation removes
(the forecast's default what-ifs: −25% incidents, −25% duration)."""
MAX_CAUSES = 3
SLOW_DETECTION_S = 30 * 60.0
"""Median time to detect above which detection is a gap (the incident section's limit)."""
HIGH_SEVERITIES = ("SEV1", "SEV2")

_BUDGET = "budget_minutes_per_quarter"


def causes(incidents: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """The incident payload's cause breakdown rows."""
    return [mapping(c) for c in seq(mapping(incidents.get("breakdowns")).get("cause"))]


def cause_minutes(row: Mapping[str, Any]) -> tuple[float, str]:
    """Budget minutes of a cause over the history, else incident minutes (count × median time
    to resolve: an upper bound, as if every minute were a full outage)."""
    b = num(row.get("budget_minutes"))
    if b is not None:
        return b, f"{b:.1f} budget minutes"
    count, ttr = num(row.get("count")) or 0.0, num(row.get("ttr_median_s"))
    if ttr is not None:
        m = count * ttr / 60.0
        return m, f"≈{m:.0f} incident minutes ({count:.0f} × median {ttr / 60:.0f} min to resolve; upper bound)"
    return 0.0, "no measured duration"


def what_if(forecast: Mapping[str, Any], name: str) -> tuple[float, str] | None:
    """Budget minutes per quarter saved by a forecast what-if (largest over SLOs), with its text."""
    window = num(forecast.get("window_days"))
    windows = {str(mapping(f).get("slo")): num(mapping(f).get("window_days")) for f in seq(forecast.get("per_slo"))}
    best: tuple[float, str] | None = None
    for w in seq(forecast.get("what_ifs")):
        w = mapping(w)
        if w.get("name") != name:
            continue
        delta = num(w.get("delta_budget_minutes"))
        days = windows.get(str(w.get("slo"))) or window
        if delta is None or not days:
            continue
        saved = max(0.0, -delta) * QUARTER_DAYS / days
        dp = num(w.get("delta_p_exhaust"))
        text = (
            f"forecast what-if '{w.get('change') or name}' on {w.get('slo')}: {-delta:.1f} budget minutes per "
            f"{days:g}-day window" + (f", exhaustion probability {dp:+.0%}" if dp is not None else "")
        )
        if best is None or saved > best[0]:
            best = (saved, text)
    return best


def incident_items(incidents: Mapping[str, Any], forecast: Mapping[str, Any], scale: Scale, abort: str) -> list[Draft]:
    """Each top cause and its chaos experiment (with the burn-rate ``abort`` condition), then
    detection, then postmortem follow-up."""
    return [
        *_cause_items(incidents, forecast, scale, abort),
        *_detection_items(incidents, forecast, scale),
        *_postmortem_items(incidents, forecast, scale),
    ]


def incident_questions(incidents: Mapping[str, Any]) -> tuple[OpenQuestion, ...]:
    """Ask for causes when incidents were logged without any."""
    n_total = _incident_count(incidents)
    if not n_total or _known_causes(incidents):
        return ()
    return (
        OpenQuestion(
            "backlog_incident_causes",
            "Can incidents record a cause (a short category such as 'bad deploy')?",
            f"None of the {n_total:.0f} incidents names a cause, so no cause-specific fix or chaos experiment is "
            "proposed.",
            SECTION,
        ),
    )


def _incident_count(incidents: Mapping[str, Any]) -> float:
    return num(incidents.get("incidents")) or sum((num(c.get("count")) or 0) for c in causes(incidents))


def _known_causes(incidents: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    return [c for c in causes(incidents) if str(c.get("cause", "unknown")) != "unknown"]


def _cause_items(incidents: Mapping[str, Any], forecast: Mapping[str, Any], scale: Scale, abort: str) -> list[Draft]:
    """The repeat causes with the most budget minutes (up to ``MAX_CAUSES``, else the top cause):
    fix each, and verify its mitigation with a chaos experiment."""
    ranked = sorted(
        _known_causes(incidents),
        key=lambda c: (-cause_minutes(c)[0], -(num(c.get("count")) or 0), str(c.get("cause"))),
    )
    top = [c for c in ranked if c.get("repeat")][:MAX_CAUSES] or ranked[:1]
    resolution = what_if(forecast, "faster resolution")
    n_total = _incident_count(incidents)
    out = []
    for c in top:
        minutes, text = cause_minutes(c)
        q = per_quarter(minutes, scale)
        count = num(c.get("count")) or 0
        out.append(
            Draft(
                f"Fix the recurring cause '{c.get('cause')}'",
                "incident_cause",
                q,
                _BUDGET,
                "L",
                f"{count:.0f} incidents ({(num(c.get('share')) or 0):.0%} of all) with this cause; {text} over the "
                "history",
                "incident_response",
                scaled_by_history=True,
            )
        )
        out.append(_chaos_item(c, count, q, resolution, n_total, abort))
    return out


def _chaos_item(
    c: Mapping[str, Any], count: float, q: float, resolution: tuple[float, str] | None, n_total: float, abort: str
) -> Draft:
    """Inject the cause and verify its mitigation: the forecast's "faster resolution" saving times
    the cause's share of incidents, else ``ASSUMED_SHARE`` of the cause's quarterly minutes ``q``."""
    if resolution and n_total:
        chaos_q = resolution[0] * count / n_total
        basis = f"{resolution[1]}, × this cause's {count:.0f}/{n_total:.0f} incidents"
    else:
        chaos_q = ASSUMED_SHARE * q
        basis = f"assumed {ASSUMED_SHARE:.0%} shorter incidents once the mitigation is verified"
    return Draft(
        f"Chaos experiment: inject '{c.get('cause')}' and verify its mitigation and runbook",
        "chaos_experiment",
        chaos_q,
        _BUDGET,
        "M",
        f"{count:.0f} past incidents with this cause; {basis}",
        "incident_response",
        abort_condition=abort,
    )


def _detection_items(incidents: Mapping[str, Any], forecast: Mapping[str, Any], scale: Scale) -> list[Draft]:
    """Page on burn rate when customers reported incidents, detection is slow, or the forecast's
    "faster detection" what-if saves budget."""
    breakdown = seq(mapping(incidents.get("breakdowns")).get("detection"))
    det = {str(mapping(d).get("detection")): mapping(d) for d in breakdown}
    cust = num(det.get("customer", {}).get("count")) or 0.0
    known = sum((num(d.get("count")) or 0.0) for k, d in det.items() if k != "unknown")
    ttd = num(mapping(mapping(incidents.get("metrics")).get("ttd")).get("median_s"))
    slow = ttd is not None and ttd > SLOW_DETECTION_S
    gain = what_if(forecast, "faster detection")
    if not (cust > 0 or slow or gain):
        return []
    if gain:
        q, basis = gain
    else:
        who = _incident_count(incidents) if slow else cust
        q = per_quarter(who * ASSUMED_DETECTION_GAIN_MIN, scale)
        basis = (
            f"assumed {ASSUMED_DETECTION_GAIN_MIN:g} min of full-outage burn saved per "
            + ("incident" if slow else "customer-detected incident")
            + f" ({who:.0f})"
        )
    parts = [
        *([f"{cust:.0f} of {known:.0f} incidents with a known source were reported by customers"] if known else []),
        *([f"median time to detect {ttd / 60:.0f} min"] if ttd is not None else []),
        basis,
    ]
    return [
        Draft(
            "Detect incidents sooner: page on multi-window burn-rate alerts",
            "detection",
            q,
            _BUDGET,
            "M",
            "; ".join(parts),
            "incident_response",
            scaled_by_history=not gain,
        )
    ]


def _postmortem_items(incidents: Mapping[str, Any], forecast: Mapping[str, Any], scale: Scale) -> list[Draft]:
    """Finish (or start recording) SEV1/SEV2 postmortems and close their action items."""
    pm = mapping(incidents.get("postmortems"))
    missing = int((num(pm.get("pending")) or 0) + (num(pm.get("none")) or 0))
    unrecorded = int(num(pm.get("high_severity_incidents")) or 0) if pm.get("coverage") is None else 0
    open_items = int(num(pm.get("action_items_open")) or 0)
    if not (missing or open_items or unrecorded):
        return []
    q, basis, scaled = _follow_up_impact(incidents, forecast, scale)
    closure = num(pm.get("closure_rate"))
    bits = [
        *([f"{missing} SEV1/SEV2 postmortem(s) not done"] if missing else []),
        *([f"no postmortem status recorded for {unrecorded} SEV1/SEV2 incident(s)"] if unrecorded else []),
        *(
            [f"{open_items} open action item(s)" + (f" (closure rate {closure:.0%})" if closure is not None else "")]
            if open_items
            else []
        ),
    ]
    title = (
        "Record postmortems for SEV1/SEV2 incidents and track their action items"
        if unrecorded
        else "Finish postmortems and close their action items: " + ", ".join(bits)
    )
    return [
        Draft(
            title,
            "postmortem_follow_up",
            q,
            _BUDGET,
            "S",
            "; ".join([*bits, basis]),
            "incident_response",
            scaled_by_history=scaled,
        )
    ]


def _follow_up_impact(
    incidents: Mapping[str, Any], forecast: Mapping[str, Any], scale: Scale
) -> tuple[float, str, bool]:
    """Budget minutes per quarter postmortem follow-up saves, how it was found, and whether it is
    a history total scaled to a quarter: the forecast's "fewer incidents" what-if, else
    ``ASSUMED_SHARE`` of the repeat causes' minutes, else of the SEV1/SEV2 incident minutes."""
    fewer = what_if(forecast, "fewer incidents")
    if fewer:
        return fewer[0], fewer[1], False
    repeat_minutes = sum(cause_minutes(c)[0] for c in _known_causes(incidents) if c.get("repeat"))
    if repeat_minutes > 0:
        return (
            ASSUMED_SHARE * per_quarter(repeat_minutes, scale),
            f"assumed {ASSUMED_SHARE:.0%} fewer repeat incidents ({repeat_minutes:.0f} minutes of repeat "
            "causes over the history)",
            True,
        )
    high = [
        mapping(r)
        for r in seq(mapping(incidents.get("breakdowns")).get("severity"))
        if str(mapping(r).get("severity")) in HIGH_SEVERITIES
    ]
    high_minutes = sum((num(r.get("count")) or 0.0) * (num(r.get("ttr_median_s")) or 0.0) / 60.0 for r in high)
    return (
        ASSUMED_SHARE * per_quarter(high_minutes, scale),
        f"assumed {ASSUMED_SHARE:.0%} fewer SEV1/SEV2 incidents (≈{high_minutes:.0f} incident minutes "
        "over the history: count × median time to resolve, an upper bound)",
        True,
    )
