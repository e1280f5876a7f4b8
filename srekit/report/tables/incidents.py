"""Display tables and sentences of the incident-response section, built from report.json's
``incident_response`` (fields in ``docs/incidents.md``). The report page and report.md show the
short form; the incidents page (notebook 04) passes ``detail=True`` where it shows more."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd

from srekit.report.tables.format import fmt_duration_s, fmt_pct, frame, given, left_out, records, section


def _incidents(report: Mapping[str, Any]) -> Mapping[str, Any]:
    return section(report, "incident_response")


def _breakdown(report: Mapping[str, Any], by: str) -> list[Mapping[str, Any]]:
    return records(section(_incidents(report), "breakdowns"), by)


def _at_least(seconds: Any, lower_bound: Any) -> str:
    """A duration, marked ``≥`` when censoring makes it a lower bound."""
    return ("≥ " if lower_bound else "") + fmt_duration_s(seconds)


def _when(stamp: Any) -> str:
    """An ISO-8601 UTC stamp of report.json to the minute."""
    return str(stamp)[:16].replace("T", " ") if stamp else "–"


def _count(value: Any) -> str:
    return "–" if value is None else str(value)


def no_incidents(report: Mapping[str, Any]) -> str:
    """Why the incident tables are empty: no log, a log outside the analysed period, or no
    incident in it."""
    why = left_out(report, "incidents", "incidents")
    if why:
        return why
    if given(report, "incidents") is None and not _incidents(report).get("incidents"):
        return "No incident log was given (data.incidents), so incident response cannot be measured yet."
    return "No incident of the log falls in the analysed period."


def _incident_count(report: Mapping[str, Any]) -> int:
    return int(_incidents(report).get("incidents") or 0)


def _empty_metrics(report: Mapping[str, Any]) -> str:
    if _incident_count(report):
        return "The incidents lack the timestamps these measures need (start and resolution at least)."
    return no_incidents(report)


_METRIC_SHORT = ["measure", "incidents", "median", "likely range of the median", "slowest 10% take over"]
_METRIC_DETAIL = [
    "measure",
    "incidents",
    "still open (at least this long)",
    "left out (missing / inconsistent / zero)",
    "median",
    "likely range of the median",
    "mean",
    "slowest 10% take over",
    "smallest detectable change in the mean",
]


def incident_metrics_table(report: Mapping[str, Any], *, detail: bool = False) -> pd.DataFrame:
    """Time to detect / acknowledge / mitigate / resolve, with uncertainty. ``detail`` adds the
    open incidents (counted as lasting at least until the log ends), the incidents left out, the
    mean and the smallest change in the mean this many incidents could reveal."""
    rows = []
    for m in (_incidents(report).get("metrics") or {}).values():
        if not isinstance(m, Mapping):
            continue
        ci = m.get("median_ci_s") or [None, None]
        rows.append(
            {
                "measure": m.get("label"),
                "incidents": m.get("n"),
                "still open (at least this long)": m.get("censored"),
                "left out (missing / inconsistent / zero)": " / ".join(
                    _count(m.get(k)) for k in ("missing", "inconsistent", "zero_excluded")
                ),
                "median": _at_least(m.get("median_s"), m.get("median_is_lower_bound")),
                "likely range of the median": f"{fmt_duration_s(ci[0])} – {fmt_duration_s(ci[1])}",
                "mean": fmt_duration_s(m.get("mean_s")),
                "slowest 10% take over": _at_least(m.get("p90_s"), m.get("p90_is_lower_bound")),
                "smallest detectable change in the mean": fmt_duration_s(m.get("detectable_change_s")),
            }
        )
    return frame(rows, _METRIC_DETAIL if detail else _METRIC_SHORT, _empty_metrics(report))


def severity_table(report: Mapping[str, Any]) -> pd.DataFrame:
    """Incidents per severity: how many, how many still open, and how long they took to resolve."""
    rows = [
        {
            "severity": r.get("severity"),
            "incidents": r.get("count"),
            "share": fmt_pct(r.get("share"), 0),
            "still open": r.get("open"),
            "median time to resolve": fmt_duration_s(r.get("ttr_median_s")),
        }
        for r in _breakdown(report, "severity")
    ]
    return frame(rows, ["severity", "incidents", "share", "still open", "median time to resolve"], no_incidents(report))


def cause_table(report: Mapping[str, Any]) -> pd.DataFrame:
    """Incidents per cause, costliest first: the error-budget minutes they used (when telemetry
    and SLOs measured them) and whether the cause came back."""
    causes = _breakdown(report, "cause")
    budget = any("budget_minutes" in r for r in causes)
    rows = [
        {
            "cause": r.get("cause"),
            "incidents": r.get("count"),
            "share": fmt_pct(r.get("share"), 0),
            "happened more than once": "yes" if r.get("repeat") else "no",
            "error-budget minutes": "–" if r.get("budget_minutes") is None else f"{r['budget_minutes']:.1f}",
            "median time to resolve": fmt_duration_s(r.get("ttr_median_s")),
        }
        for r in causes
    ]
    columns = [
        "cause",
        "incidents",
        "share",
        "happened more than once",
        "error-budget minutes",
        "median time to resolve",
    ]
    return frame(rows, [c for c in columns if budget or c != "error-budget minutes"], no_incidents(report))


def detection_table(report: Mapping[str, Any]) -> pd.DataFrame:
    """Incidents per detection source (alert, customer, internal, …) and how long detection took."""
    ttd = section(section(_incidents(report), "metrics"), "ttd")
    delay = f"median {ttd.get('label') or 'time to detect'}"
    rows = [
        {
            "detected by": r.get("detection"),
            "incidents": r.get("count"),
            "share": fmt_pct(r.get("share"), 0),
            delay: fmt_duration_s(r.get("ttd_median_s")),
        }
        for r in _breakdown(report, "detection")
    ]
    return frame(rows, ["detected by", "incidents", "share", delay], no_incidents(report))


def change_text(report: Mapping[str, Any]) -> str:
    """One plain sentence on change-induced incidents (or why they are unknown)."""
    inc = _incidents(report)
    c = section(section(inc, "breakdowns"), "change")
    if not c:
        return "No deploy log was given, so incidents cannot be linked to changes."
    return (
        f"{c.get('incidents_after_deploy')} of {inc.get('incidents')} incidents "
        f"({fmt_pct(c.get('share_after_deploy'), 0)}) started within {c.get('lookback_minutes', 0):.0f} minutes "
        f"after one of the {c.get('deploys')} deploys; {c.get('deploys_rolled_back_or_failed')} deploys were "
        "rolled back or failed."
    )


def postmortem_text(report: Mapping[str, Any]) -> str:
    """One plain sentence on postmortem coverage and action-item closure."""
    inc = _incidents(report)
    p = section(inc, "postmortems")
    if not inc.get("incidents"):
        if given(report, "incidents") is not None:
            return no_incidents(report)
        return "No incident log was given: start one, and write postmortems with the template below."
    sev = " and ".join(p.get("high_severities") or [])
    coverage = p.get("coverage")
    cov = (
        "no postmortem status is recorded" if coverage is None else f"{fmt_pct(coverage, 0)} have a finished postmortem"
    )
    closed, opened = p.get("action_items_closed"), p.get("action_items_open")
    items = (
        "action items are not recorded"
        if p.get("closure_rate") is None
        else f"{closed} of {(opened or 0) + (closed or 0)} action items are closed ({fmt_pct(p['closure_rate'], 0)})"
    )
    return (
        f"{p.get('high_severity_incidents')} incidents were {sev}; of those with a known status, {cov}. "
        f"Across all incidents, {items}."
    )


_FOLLOW_UP_SHORT = ["incident", "title", "severity", "postmortem", "open action items", "owner", "next step"]
_FOLLOW_UP_DETAIL = [
    "incident",
    "title",
    "severity",
    "started (UTC)",
    "postmortem",
    "open action items",
    "closed action items",
    "owner",
    "next step",
]


def follow_up_table(report: Mapping[str, Any], *, detail: bool = False) -> pd.DataFrame:
    """Incidents whose postmortem or action items are still open, newest first; ``detail`` adds
    when each started and its closed action items."""
    follow = records(_incidents(report), "follow_up")
    rows = [
        {
            "incident": r.get("incident_id"),
            "title": r.get("title"),
            "severity": r.get("severity"),
            "started (UTC)": _when(r.get("started_at")),
            "postmortem": "not recorded" if r.get("postmortem") in (None, "unknown") else r.get("postmortem"),
            "open action items": _items(r.get("action_items_open")),
            "closed action items": _items(r.get("action_items_closed")),
            "owner": r.get("owner"),
            "next step": r.get("next_step"),
        }
        for r in follow
    ]
    unrecorded = bool(follow) and all(r.get("postmortem") in (None, "unknown") for r in follow)
    if unrecorded and not detail:  # a to-do list of every incident would only say "not recorded"
        rows = []
    return frame(rows, _FOLLOW_UP_DETAIL if detail else _FOLLOW_UP_SHORT, _no_follow_up(report, len(follow)))


def _items(value: Any) -> str:
    return "not recorded" if value is None else f"{int(value):,}"


def _no_follow_up(report: Mapping[str, Any], pending: int) -> str:
    if pending:
        return (
            f"The incident log records no postmortem status, so which of the {pending} high-severity incidents still "
            "need a postmortem cannot be told; the incidents page lists them. Recording the status (and action items) "
            "makes this a real follow-up list."
        )
    if not _incident_count(report):
        return no_incidents(report)
    return "Nothing to follow up: no high-severity incident is waiting for a postmortem or open action items."


def recommendations_table(report: Mapping[str, Any], *, detail: bool = False) -> pd.DataFrame:
    """Process changes, the evidence for each and the metric that tracks it; ``detail`` adds the
    area each belongs to (detection, oncall, backlog, postmortems, change_management, metrics)."""
    rows = [
        {
            "change": r.get("title"),
            "why": r.get("evidence"),
            "area": r.get("area"),
            "track with": r.get("metric_to_track"),
        }
        for r in records(_incidents(report), "recommendations")
    ]
    return frame(
        rows,
        ["change", "why", "area", "track with"] if detail else ["change", "why", "track with"],
        "No process change is proposed: "
        + (
            "the incident figures give no reason for one."
            if _incident_count(report)
            else no_incidents(report)[0].lower() + no_incidents(report)[1:]
        ),
    )


def incident_count_text(report: Mapping[str, Any]) -> str:
    """How many incidents the page is about: in the analysed period, still open, left outside it."""
    span = given(report, "incidents")
    inc = _incidents(report)
    if span is None and not inc.get("incidents"):
        return no_incidents(report)
    n, still_open = int(inc.get("incidents") or 0), int(inc.get("open_incidents") or 0)
    text = f"{n:,} incident{'' if n == 1 else 's'} in the analysed period, {still_open:,} still open."
    outside = 0 if span is None else int(span.get("clipped_before") or 0) + int(span.get("clipped_after") or 0)
    if outside:
        text += f" {outside:,} more in the log fall outside the period and are left out."
    return text
