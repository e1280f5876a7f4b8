"""Display tables of the alerting section, built from report.json's ``alerting`` (the report
notebook and report.md show the short form; notebook 03 passes ``detail=True``)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd

from srekit.analysis.alerting.matching import (
    BEFORE_RULE,
    CORRECTED,
    OTHER_JOURNEY,
    OUTSIDE_RANGE,
    REASON_WORDS,
    ZERO_DURATION,
)
from srekit.report.tables.format import fmt_duration_s, fmt_pct, frame, given, left_out, records, section

POLICY_COLUMNS = ("alert", "SLO", "sends", "windows", "fires when budget burns at")
POLICY_DETAIL = ("budget spent when it fires", "fires above this error ratio")
BACKTEST_COLUMNS = (
    "rule",
    "sends",
    "fired",
    "fired during an incident",
    "fired during a budget burn",
    "incidents caught",
    "median time to fire",
    "pages per week",
)
BACKTEST_DETAIL = ("burn episodes caught", "median time to clear after the impact", "alerts per week")
#: What each row of :func:`incident_scope_table` counts (report.json ``backtest.incident_scope`` keys).
SCOPE_ROWS = (
    ("incidents", "in the incident log"),
    (OUTSIDE_RANGE, REASON_WORDS[OUTSIDE_RANGE]),
    (OTHER_JOURNEY, REASON_WORDS[OTHER_JOURNEY]),
    (CORRECTED, REASON_WORDS[CORRECTED]),
    (ZERO_DURATION, REASON_WORDS[ZERO_DURATION]),
    (BEFORE_RULE, "started before any rule could fire (their long windows were not yet full of data)"),
    ("scored", "scored: the rules are judged on these"),
)


def alert_policy_table(report: Mapping[str, Any], *, detail: bool = False) -> pd.DataFrame:
    """The burn-rate rules: which alert, page or ticket, over which windows; ``detail`` adds the
    share of the budget spent when each fires and its error-ratio threshold."""
    rows = [_policy_row(p) for p in records(section(report, "alerting"), "policy")]
    return frame(rows, POLICY_COLUMNS + (POLICY_DETAIL if detail else ()), _no_rules(report))


def _no_rules(report: Mapping[str, Any]) -> str:
    dropped = records(section(report, "alerting"), "not_proposed")
    if dropped:
        return "No burn-rate rule is proposed: " + " ".join(str(d.get("reason")) for d in dropped[:2])
    return "No burn-rate rule is proposed: no SLO is in force."


def _not_replayed(report: Mapping[str, Any]) -> str:
    if not records(section(report, "alerting"), "policy"):
        return _no_rules(report)
    return (
        "The rules were not replayed: there is no request telemetry or series in the analysed period (at least two "
        "intervals) to replay them on."
    )


def _policy_row(p: Mapping[str, Any]) -> dict[str, Any]:
    burn = p.get("burn_rate")
    threshold = p.get("error_ratio_threshold")
    return {
        "alert": p.get("alert"),
        "SLO": p.get("slo"),
        "sends": p.get("severity"),
        "windows": f"{p.get('long_window')} and {p.get('short_window')}",
        "fires when budget burns at": "–" if burn is None else f"{float(burn):.1f}× the sustainable rate",
        "budget spent when it fires": fmt_pct(p.get("budget_share"), 1),
        "fires above this error ratio": "–" if threshold is None else f"{100.0 * float(threshold):.3g}%",
    }


def backtest_table(report: Mapping[str, Any], *, detail: bool = False) -> pd.DataFrame:
    """How the rules would have behaved on history (overall, pages only, each rule, then the
    exhaustion ticket offered per SLO: :mod:`srekit.analysis.alerting.exhaustion`); ``detail``
    adds the burn episodes caught, the reset time, alerts per week and the single-window baseline
    (Workbook approach 1) for comparison."""
    bt = section(report, "alerting").get("backtest") or {}
    unions = ("overall", "overall_pages")
    recs = [bt[k] for k in unions if isinstance(bt.get(k), Mapping)] + records(bt, "rules")
    recs += [{**r, "rule": f"{r.get('rule')} (offered, not in force)"} for r in records(bt, "exhaustion")]
    if detail and isinstance(bt.get("single_window_baseline"), Mapping):
        recs.append(bt["single_window_baseline"])
    return frame(
        [_score_row(r) for r in recs], BACKTEST_COLUMNS + (BACKTEST_DETAIL if detail else ()), _not_replayed(report)
    )


def _score_row(r: Mapping[str, Any]) -> dict[str, Any]:
    na = _na(r)
    return {
        "rule": r.get("rule"),
        "sends": r.get("severity"),
        "fired": r.get("firings"),
        "fired during an incident": _share(r, "precision", "true_firings", na),
        "fired during a budget burn": _share(r, "episode_precision", "episode_firings", na),
        "incidents caught": _caught(r.get("incidents_detected"), r.get("incidents"), na.get("recall")),
        "median time to fire": fmt_duration_s(r.get("median_detection_s")),
        "pages per week": _per_week(r.get("pages_per_week")),
        "burn episodes caught": _caught(r.get("episodes_detected"), r.get("episodes"), na.get("episode_recall")),
        "median time to clear after the impact": fmt_duration_s(r.get("median_reset_s")),
        "alerts per week": _per_week(r.get("alerts_per_week")),
    }


def not_applicable(reason: Any) -> str:
    """A figure whose denominator is empty: ``n/a — <why>``."""
    return f"n/a — {reason}" if reason else "n/a"


def _share(r: Mapping[str, Any], key: str, count: str, na: Mapping[str, Any]) -> str:
    """A share of firings with its count (``75% (3 of 4)``), or why it is not applicable."""
    value = r.get(key)
    if value is None:
        return not_applicable(na.get(key))
    return f"{fmt_pct(value, 0)} ({r.get(count)} of {r.get('firings')})"


def _caught(found: Any, total: Any, reason: Any) -> str:
    """``N of M``, or why it is not applicable when there was nothing to catch."""
    return f"{found} of {total}" if total else not_applicable(reason)


def _per_week(x: Any) -> str:
    return "–" if x is None else f"{float(x):.1f}"


def incident_scope_table(report: Mapping[str, Any]) -> pd.DataFrame:
    """Which incidents of the log the backtest is scored on, and why the others are not
    (empty without a replay; ``–`` where the count is unknown)."""
    scope = section(report, "alerting").get("backtest") or {}
    counts = scope.get("incident_scope") if isinstance(scope, Mapping) else None
    if not isinstance(counts, Mapping):
        return frame([], ["incidents", "in the backtest"])
    rows = [
        {"incidents": "–" if counts.get(key) is None else counts.get(key), "in the backtest": words}
        for key, words in SCOPE_ROWS
    ]
    return frame(rows, ["incidents", "in the backtest"])


def incidents_not_scored_table(report: Mapping[str, Any]) -> pd.DataFrame:
    """The incidents in the replayed range the backtest leaves out, each with the reason."""
    rows = [
        {
            "incident": d.get("id"),
            "journey": d.get("journey") or "–",
            "started (UTC)": str(d.get("started_at") or "–")[:16].replace("T", " "),
            "not scored because it is": REASON_WORDS.get(str(d.get("reason")), str(d.get("reason"))),
            "zero duration": "yes" if d.get("zero_duration") else "no",
        }
        for d in records(section(report, "alerting"), "incidents_not_scored")
    ]
    return frame(rows, ["incident", "journey", "started (UTC)", "not scored because it is", "zero duration"])


def alert_detection_table(report: Mapping[str, Any]) -> pd.DataFrame:
    """Per incident: the first rule to fire, how fast (any rule, and a page), the budget spent
    by then, when the alert cleared, and how long the team took to notice (incident log)."""
    rows = [
        {
            "incident": d.get("id"),
            "journey": d.get("journey") or "–",
            "started (UTC)": str(d.get("started_at") or "–")[:16].replace("T", " "),
            "first rule to fire": d.get("detected_by") or "not detected",
            "time to fire": fmt_duration_s(d.get("delay_s")),
            "time to page": fmt_duration_s(d.get("page_delay_s")),
            "budget spent before it fired": fmt_pct(d.get("budget_spent_before_detection"), 1),
            "alert cleared after the impact": fmt_duration_s(d.get("reset_s")),
            "team noticed after (incident log)": fmt_duration_s(d.get("recorded_detection_delay_s")),
        }
        for d in records(section(report, "alerting"), "incidents")
    ]
    return frame(
        rows,
        [
            "incident",
            "journey",
            "started (UTC)",
            "first rule to fire",
            "time to fire",
            "time to page",
            "budget spent before it fired",
            "alert cleared after the impact",
            "team noticed after (incident log)",
        ],
        _no_detections(report),
    )


def _no_detections(report: Mapping[str, Any]) -> str:
    bt = section(section(report, "alerting"), "backtest")
    if not bt.get("start"):
        return _not_replayed(report)
    why = left_out(report, "incidents", "incidents")
    if why:
        return why
    if given(report, "incidents") is None:
        return "No incident log was given, so no incident could be caught or missed (data.incidents)."
    return "No incident of the log falls in the replayed history, so none could be caught or missed."


def existing_pages_table(report: Mapping[str, Any]) -> pd.DataFrame:
    """The pages the team gets today, per alert name: does it fire on a symptom users feel or
    on a cause (CPU, disk, memory…), and how many of its pages needed no action."""
    pages = section(report, "alerting").get("existing_pages")
    rows = [
        {
            "alert": a.get("alert"),
            "fires on": a.get("kind"),
            "pages": a.get("pages"),
            "needed no action": fmt_pct(a.get("share_non_actionable"), 0),
        }
        for a in (records(pages, "by_alert") if isinstance(pages, Mapping) else [])
    ]
    return frame(rows, ["alert", "fires on", "pages", "needed no action"], _no_pages(report))


def _no_pages(report: Mapping[str, Any]) -> str:
    return left_out(report, "alerts", "pages") or (
        "No pages log was given (data.alerts), so today's pages cannot be compared with the proposed rules."
        if given(report, "alerts") is None
        else "No page of the log falls in the replayed history."
    )


def pages_per_week(report: Mapping[str, Any]) -> pd.DataFrame:
    """Numbers behind the pages chart: alerts per week that would wake someone (``source``,
    ``per_week``): the team's pages today, the burn-rate policy's pages and all its alerts, and
    the single-window baseline (Workbook approach 1)."""
    alerting = section(report, "alerting")
    bt = alerting.get("backtest") or {}
    today = alerting.get("existing_pages")
    rows = [{"source": "pages today", "per_week": float(today["pages_per_week"])}] if isinstance(today, Mapping) else []
    rows += [
        {"source": label, "per_week": float(bt[key]["alerts_per_week"])}
        for key, label in (
            ("overall_pages", "burn-rate policy (pages)"),
            ("overall", "burn-rate policy (all alerts)"),
            ("single_window_baseline", "error ratio above the SLO for 10 min"),
        )
        if isinstance(bt.get(key), Mapping)
    ]
    return frame(rows, ["source", "per_week"], _no_pages(report) if not bt.get("start") else None)


def runbooks_table(report: Mapping[str, Any]) -> pd.DataFrame:
    """The runbook each alert needs (files are in the run's rules folder)."""
    rows = [
        {"alert": r.get("alert"), "sends": r.get("severity"), "runbook": r.get("file")}
        for r in records(section(report, "alerting"), "runbooks")
    ]
    return frame(rows, ["alert", "sends", "runbook"], "No alert is proposed, so no runbook is needed.")


def policy_comparison_table(report: Mapping[str, Any]) -> pd.DataFrame:
    """Per SLO whose alert policy was imported: that policy next to the SRE Workbook's
    multiwindow policy on the same history (empty when no policy was imported)."""
    rows = [
        {
            "SLO": c.get("slo"),
            "policy": c.get("policy"),
            "windows": c.get("windows"),
            "rules": c.get("rules"),
            "pages per week": _per_week(c.get("pages_per_week")),
            "tickets per week": _per_week(c.get("tickets_per_week")),
            "incidents caught": _caught(c.get("incidents_detected"), c.get("incidents"), _na(c).get("recall")),
            "median time to fire": fmt_duration_s(c.get("median_detection_s")),
            "precision": fmt_pct(c.get("precision"), 0)
            if c.get("precision") is not None
            else not_applicable(_na(c).get("precision")),
        }
        for c in records(section(report, "alerting"), "policy_comparison")
    ]
    cols = ["SLO", "policy", "windows", "rules", "pages per week", "tickets per week", "incidents caught"]
    return frame(
        rows,
        [*cols, "median time to fire", "precision"],
        "No alert policy was imported (Sloth, Pyrra, OpenSLO or slo-generator), so there is nothing to compare with "
        "the Workbook's policy.",
    )


def rules_missing(report: Mapping[str, Any]) -> str:
    """Why no Prometheus rules are shown (every SLO in force measures a series, or none has a rule)."""
    policy = records(section(report, "alerting"), "policy")
    if policy and not records(section(report, "alerting"), "runbooks"):
        return (
            "No Prometheus rules are generated: the SLOs measure a gauge series, which has no request counter to "
            "write burn-rate rules on. Emitting the counters and histogram of the instrumentation plan makes them "
            "exportable."
        )
    return _no_rules(report)


def warnings_text(report: Mapping[str, Any]) -> str:
    """The policy's warnings in one paragraph, or that there are none."""
    warnings = section(report, "alerting").get("warnings") or []
    return " ".join(str(w) for w in warnings) or "No warnings about these rules."


def _na(r: Mapping[str, Any]) -> Mapping[str, Any]:
    na = r.get("not_applicable")
    return na if isinstance(na, Mapping) else {}


REMEDY_WORDS = {
    "as_designed": "as designed",
    "min_bad_events": "at least 3 bad requests in the long window",
    "min_events": "only with enough traffic in the long window",
    "longer_windows": "page windows × 4, burn rate ÷ 4",
}


def low_traffic_table(report: Mapping[str, Any], *, detail: bool = False) -> pd.DataFrame:
    """Per page rule: the requests its windows hold at the 10th percentile of history and the bad
    requests that fire it there (without ``detail``: only the SLOs where one bad request pages)."""
    rows = [
        {
            "SLO": lt.get("slo"),
            "rule": r.get("rule"),
            "events in long window (p10)": f"{r.get('long_window_events_p10') or 0:,.0f}",
            "events in short window (p10)": f"{r.get('short_window_events_p10') or 0:,.0f}",
            "bad events that fire it": "never" if r.get("bad_events_to_fire") is None else r["bad_events_to_fire"],
            "one bad event pages": "yes" if r.get("one_bad_event_fires") else "no",
        }
        for lt in records(section(report, "alerting"), "low_traffic")
        if detail or lt.get("one_bad_event_pages")
        for r in lt.get("rules") or []
        if isinstance(r, Mapping) and r.get("severity") == "page"
    ]
    cols = ["SLO", "rule", "events in long window (p10)", "events in short window (p10)"]
    empty = "No rule was replayed." if detail else "At the 10th percentile of traffic no single bad request pages."
    return frame(rows, [*cols, "bad events that fire it", "one bad event pages"], empty)


def remedies_table(report: Mapping[str, Any]) -> pd.DataFrame:
    """For the SLOs where one bad request pages: each low-traffic remedy replayed on history
    (pages, those during no incident, incidents and burn episodes paged) and the one chosen."""
    rows = [
        {
            "SLO": lt.get("slo"),
            "page rules": REMEDY_WORDS.get(str(o.get("remedy")), str(o.get("remedy"))),
            "pages": o.get("pages"),
            "false pages": o.get("false_pages"),
            "incidents paged": f"{o.get('incidents_paged')} of {o.get('incidents')}",
            "burn episodes paged": f"{o.get('episodes_paged')} of {o.get('episodes')}",
            "chosen": ("yes, in force" if lt.get("adopted") else "yes (not adopted)")
            if o.get("remedy") == lt.get("chosen")
            else "",
        }
        for lt in records(section(report, "alerting"), "low_traffic")
        for o in lt.get("remedies") or []
        if isinstance(o, Mapping)
    ]
    cols = ["SLO", "page rules", "pages", "false pages", "incidents paged", "burn episodes paged", "chosen"]
    return frame(rows, cols, "No SLO pages on a single bad request: no low-traffic remedy was needed.")
