"""Display tables of the error-budget policy (``error_budget_policy`` in report.json, fields in
docs/slo.md): one function per table, read by report.md, the report notebook and notebook 02.
``detail=True`` adds the columns the SLO notebook shows beyond the report's."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd

from srekit.report.tables.format import fmt_pct, frame, records, section


def _window(b: Mapping[str, Any], first: Any = None) -> str:
    """The current window, start → end, in UTC minutes; when the data starts inside it, from
    the first data (the window before it holds nothing)."""
    if not b.get("window_start") or not b.get("window_end"):
        return "–"
    start, end = pd.Timestamp(b["window_start"]), pd.Timestamp(b["window_end"])
    if first and pd.Timestamp(first) > start:
        return f"{pd.Timestamp(first):%Y-%m-%d %H:%M} (first data) → {end:%Y-%m-%d %H:%M}"
    return f"{start:%Y-%m-%d %H:%M} → {end:%Y-%m-%d %H:%M}"


def _events(b: Mapping[str, Any]) -> str:
    """Bad events against the events the budget allows, in the SLO's event unit."""
    if b.get("bad_events") is None or b.get("allowed_bad_events") is None:
        return "–"
    return f"{b['bad_events']:,} / {b['allowed_bad_events']:,.0f} {b.get('event_unit', 'events')}"


def budget_table(report: Mapping[str, Any], *, detail: bool = False) -> pd.DataFrame:
    """Error budget per SLO at the end of the data (``detail``: also the window, the bad and
    allowed events and the burn rates over the trailing windows)."""
    budgets = records(section(report, "error_budget_policy"), "slos")
    windows = list(budgets[0].get("burn_rates") or {}) if budgets else []
    burn = f"burn rate {' / '.join(windows)}".strip()
    rows = [
        {
            "SLO": b.get("slo"),
            "target": fmt_pct(b.get("target"), 2),
            "window (UTC)": _window(b, section(section(report, "meta"), "period").get("start")),
            "bad / allowed events": _events(b),
            "budget used": fmt_pct(b.get("consumed"), 0),
            "budget left": fmt_pct(b.get("remaining"), 0),
            "full outage allowed": f"{b['allowed_outage_minutes']:.0f} min"
            if b.get("allowed_outage_minutes") is not None
            else "–",
            burn: " / ".join(f"{v:.2f}" for v in (b.get("burn_rates") or {}).values()),
            "state": str(b.get("status") or "–").replace("_", " "),
        }
        for b in budgets
    ]
    head = ["SLO", "target", *(["window (UTC)", "bad / allowed events"] if detail else [])]
    tail = [*([burn] if detail else []), "state"]
    return frame(rows, [*head, "budget used", "budget left", "full outage allowed", *tail], no_budget(report))


def no_budget(report: Mapping[str, Any]) -> str:
    """Why no error budget is shown."""
    if not records(section(report, "slo_proposal"), "slos") and "slo_proposal" in report:
        return "No SLO is in force, so there is no error budget."
    return (
        "No error budget can be measured: there is no request telemetry or series in the analysed period. The SLOs "
        "are provisional until the instrumentation plan is in place."
    )


def budget_consumed(report: Mapping[str, Any]) -> pd.DataFrame:
    """Numbers behind the budget chart: slo, consumed (ratio, may exceed 1), status."""
    rows = [
        {"slo": str(b.get("slo")), "consumed": float(b.get("consumed") or 0.0), "status": str(b.get("status"))}
        for b in records(section(report, "error_budget_policy"), "slos")
    ]
    return frame(rows, ["slo", "consumed", "status"], no_budget(report))


def actions_table(report: Mapping[str, Any]) -> pd.DataFrame:
    """What the team does in each budget state."""
    policy = section(report, "error_budget_policy")
    states = policy.get("states") or {}
    rows = []
    for state, actions in (policy.get("actions") or {}).items():
        bounds = states.get(state) or {}
        parts = []
        if "consumed_from" in bounds:
            parts.append(f"from {fmt_pct(bounds['consumed_from'], 0)} used")
        if "consumed_below" in bounds:
            parts.append(f"below {fmt_pct(bounds['consumed_below'], 0)} used")
        if bounds.get("total_events") == 0:
            parts.append("no events in the window")
        when = " and ".join(parts)
        rows.append(
            {
                "state": str(state).replace("_", " "),
                "when": when,
                "what the team does": " ".join(actions) if isinstance(actions, list) else str(actions),
            }
        )
    return frame(rows, ["state", "when", "what the team does"])


def _when(c: Mapping[str, Any]) -> str:
    """A correction's schedule: ``start → end`` (UTC) or the recurrence rule and its length."""
    start = pd.Timestamp(c["start"]) if c.get("start") else None
    if start is None:
        return "–"
    if c.get("rrule"):
        return f"{c['rrule']} for {c.get('duration')}, from {start:%Y-%m-%d %H:%M}"
    end = pd.Timestamp(c["end"]) if c.get("end") else start + pd.Timedelta(c.get("duration") or 0)
    return f"{start:%Y-%m-%d %H:%M} → {end:%Y-%m-%d %H:%M}"


def corrections_table(report: Mapping[str, Any], *, detail: bool = False) -> pd.DataFrame:
    """Every correction (maintenance, data loss, false positive) with the budget it returned to
    each SLO it covers (``detail``: also the bad and good events over the whole history)."""
    rows = []
    for c in records(section(report, "error_budget_policy"), "corrections"):
        head = {
            "correction": f"#{c.get('index')} {c.get('kind')}",
            "reason": c.get("reason"),
            "when (UTC)": _when(c),
            "windows in data": c.get("windows_in_data"),
            "minutes excluded": f"{c.get('excluded_minutes') or 0:,.0f}",
        }
        for r in c.get("slos_affected") or [{}]:
            returned = r.get("budget_returned")
            rows.append(
                {
                    **head,
                    "SLO": r.get("slo", "–"),
                    "bad events returned (window)": f"{r['bad_events_window']:,}" if "bad_events_window" in r else "–",
                    "budget returned": "–" if returned is None else fmt_pct(returned, 1),
                    "bad / all events (history)": f"{r['bad_events']:,} / {r['total_events']:,}"
                    if "bad_events" in r
                    else "–",
                }
            )
    cols = ["correction", "reason", "when (UTC)", "windows in data", "minutes excluded", "SLO"]
    cols += ["bad events returned (window)", "budget returned", *(["bad / all events (history)"] if detail else [])]
    return frame(rows, cols, "No corrections are configured (`corrections:` in service.yaml).")


def _source_name(src: Mapping[str, Any]) -> str:
    kind = src.get("kind")
    if kind == "incident":
        return f"incident {src.get('id')}"
    if kind == "deploy":
        return f"hour after deploy {src.get('id')}"
    if kind == "other_deploys":
        return f"hours after {src.get('id')} (each under 1% of the bad events)"
    return "background (no incident, no deploy)"


def attribution_table(report: Mapping[str, Any], *, detail: bool = False) -> pd.DataFrame:
    """Who spent each SLO's budget: its bad events by incident, deploy hour and background, in
    the current window (``detail``: also over the whole history, with minutes and events)."""
    rows = []
    for a in records(section(report, "error_budget_policy"), "attribution"):
        for src in a.get("sources") or []:
            if not isinstance(src, Mapping) or not (src.get("bad_events_window") or detail):
                continue
            rows.append(
                {
                    "SLO": a.get("slo"),
                    "spent by": _source_name(src),
                    "bad events (window)": f"{src.get('bad_events_window') or 0:,}",
                    "share of the window's bad events": fmt_pct(src.get("share_window"), 1),
                    "minutes (window)": f"{src.get('minutes_window') or 0:,.0f}",
                    "bad events (history)": f"{src.get('bad_events') or 0:,}",
                    "share (history)": fmt_pct(src.get("share"), 1),
                    "minutes / events (history)": f"{src.get('minutes') or 0:,.0f} / {src.get('events') or 0:,}",
                }
            )
    cols = ["SLO", "spent by", "bad events (window)", "share of the window's bad events", "minutes (window)"]
    more = ["bad events (history)", "share (history)", "minutes / events (history)"] if detail else []
    return frame(rows, [*cols, *more], "No SLO had a bad event to attribute.")


def attribution_shares(report: Mapping[str, Any], *, scope: str = "window") -> pd.DataFrame:
    """Numbers behind the attribution chart: slo, source (incident id, ``deploys`` for all deploy
    hours together, ``background``), share of the SLO's bad events in the current window
    (``scope="history"``: over the whole history)."""
    key = "share_window" if scope == "window" else "share"
    rows = []
    for a in records(section(report, "error_budget_policy"), "attribution"):
        for src in a.get("sources") or []:
            if isinstance(src, Mapping) and src.get(key):
                kind = src.get("kind")
                name = (
                    str(src.get("id")) if kind == "incident" else ("background" if kind == "background" else "deploys")
                )
                rows.append({"slo": str(a.get("slo")), "source": name, "share": float(src[key])})
    out = frame(rows, ["slo", "source", "share"])
    if not len(out):
        return out
    return out.groupby(["slo", "source"], as_index=False, sort=False).agg(share=("share", "sum"))


def breakdown_table(report: Mapping[str, Any], *, detail: bool = False) -> pd.DataFrame:
    """Each SLO's bad events by label value (``region``, ``status_class``, … of the telemetry):
    the current window's share first (``detail``: also the history and each value's own good ratio).
    Values without a bad event in the window are left out unless ``detail``."""
    rows = []
    for b in records(section(report, "error_budget_policy"), "breakdown"):
        values = [v for v in b.get("values") or [] if isinstance(v, Mapping)]
        events = sum(int(v.get("events_window") or 0) for v in values)
        for v in values:
            if not (v.get("bad_events_window") or detail):
                continue
            rows.append(
                {
                    "SLO": b.get("slo"),
                    "label": b.get("label"),
                    "value": v.get("value"),
                    "bad events (window)": f"{v.get('bad_events_window') or 0:,}",
                    "share of the window's bad events": fmt_pct(v.get("share_window"), 1),
                    "share of the window's events": fmt_pct(
                        int(v.get("events_window") or 0) / events if events else None, 1
                    ),
                    "bad events (history)": f"{v.get('bad_events') or 0:,}",
                    "share (history)": fmt_pct(v.get("share"), 1),
                    "good ratio of this value (history)": fmt_pct(v.get("good_ratio"), 2),
                }
            )
    cols = [
        "SLO",
        "label",
        "value",
        "bad events (window)",
        "share of the window's bad events",
        "share of the window's events",
    ]
    more = ["bad events (history)", "share (history)", "good ratio of this value (history)"] if detail else []
    return frame(
        rows,
        [*cols, *more],
        "The telemetry carries no label column (region, status class, …) with more than one value for a "
        "journey, or no SLO had a bad event in its window.",
    )
