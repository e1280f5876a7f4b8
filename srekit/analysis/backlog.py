"""The ranked reliability backlog (report section ``backlog``).

Items come from the other sections' ``to_dict()`` payloads (alerting gaps, top incident causes
by error-budget minutes, detection gaps, toil automation, postmortem follow-ups, chaos
experiments that verify a mitigation, SLO work). Any payload may be missing: the backlog ranks
what exists and says what it could not see in ``open_questions``.

Ranking (documented in docs/backlog.md)
---------------------------------------
Impact is measured in the unit of the resource an item saves, per quarter (13 weeks = 91 days):
error-budget minutes ("minutes of full outage", SRE Workbook, "Implementing SLOs") or engineer
hours (SRE book, ch. 5 "Eliminating Toil"). Both are put on one scale as the *share of that
resource the team has in a quarter*: ``budget minutes / quarterly budget minutes`` or ``hours /
(team size × hours per week × 13)``. The score is ``100 × impact share / effort weight`` with
effort weights S = 1, M = 3, L = 8 (t-shirt sizes as story points: about two days, a week,
several weeks), i.e. percent of a quarter's budget or team time saved per effort point —
a cost-of-delay-over-duration ordering ("weighted shortest job first", Reinertsen 2009).

Pure functions over mappings: no I/O, no clock, no printing.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd

from srekit.core.questions import OpenQuestion
from srekit.inputs.config import ServiceConfig

SECTION = "backlog"
QUARTER_DAYS = 91.0
QUARTER_WEEKS = 13.0
EFFORT_WEIGHTS: Mapping[str, float] = {"S": 1.0, "M": 3.0, "L": 8.0}
CATEGORIES = (
    "alerting_gap",
    "incident_cause",
    "detection",
    "toil_automation",
    "postmortem_follow_up",
    "chaos_experiment",
    "slo",
)
UNITS = ("budget_minutes_per_quarter", "hours_per_quarter")
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
DEFAULT_TARGET = 0.999
DEFAULT_TEAM_SIZE = 8
DEFAULT_HOURS_PER_WEEK = 40.0
DEFAULT_ABORT = ("5m", 14.4)
"""Default chaos abort: the fast page condition of the SRE Workbook (ch. 5 "Alerting on SLOs"):
2% of a 30-day budget in 1 h is a burn rate of 14.4, checked over a 5-minute short window."""
ASSUMED_DETECTION_GAIN_MIN = 10.0
"""Without a forecast what-if: minutes of full-outage burn saved per incident detected sooner."""
ASSUMED_SHARE = 0.25
"""Without a forecast what-if: share of incident burn a follow-up or verified mitigation removes
(the forecast's default what-ifs: −25% incidents, −25% duration)."""
MAX_CAUSES = 3
SLOW_DETECTION_S = 30 * 60.0
"""Median time to detect above which detection is a gap (the incident section's limit)."""
HIGH_SEVERITIES = ("SEV1", "SEV2")
BACKGROUND_SHARE_MIN = 0.25
"""Background burn becomes an item when quiet days alone use this share of the budget…"""
BACKGROUND_P_EXHAUST_MIN = 0.10
"""…or when the forecast gives the budget at least this chance of running out."""
MIN_P_PAYBACK = 0.5
REPEAT_ALERT_SHARE = 0.2


@dataclass(frozen=True, slots=True)
class Impact:
    value: float
    unit: str
    share_of_quarter: float

    def __post_init__(self) -> None:
        if self.unit not in UNITS:
            raise ValueError(f"impact unit must be one of {UNITS}, got {self.unit!r}")
        if not (math.isfinite(self.value) and self.value >= 0):
            raise ValueError(f"impact must be a finite non-negative number, got {self.value}")
        if not (math.isfinite(self.share_of_quarter) and self.share_of_quarter >= 0):
            raise ValueError(f"impact share must be finite and non-negative, got {self.share_of_quarter}")

    def to_dict(self) -> dict[str, Any]:
        return {"value": float(self.value), "unit": self.unit, "share_of_quarter": float(self.share_of_quarter)}


@dataclass(frozen=True, slots=True)
class BacklogItem:
    """One ranked backlog item. ``abort_condition`` only for chaos experiments."""

    rank: int
    title: str
    category: str
    impact: Impact
    effort: str
    score: float
    owner: str
    evidence: str
    source: str
    abort_condition: str | None = None

    def __post_init__(self) -> None:
        if self.category not in CATEGORIES:
            raise ValueError(f"unknown backlog category {self.category!r}")
        if self.effort not in EFFORT_WEIGHTS:
            raise ValueError(f"effort must be S, M or L, got {self.effort!r}")
        if not (self.title and self.owner and self.evidence and self.source):
            raise ValueError("a backlog item needs a title, an owner, evidence and a source")
        if self.rank < 1:
            raise ValueError("ranks start at 1")
        if (self.category == "chaos_experiment") != (self.abort_condition is not None):
            raise ValueError("chaos experiments (and only they) carry a burn-rate abort condition")
        if not (math.isfinite(self.score) and self.score >= 0):
            raise ValueError(f"score must be finite and non-negative, got {self.score}")

    def to_dict(self) -> dict[str, Any]:
        return {
            "rank": self.rank,
            "title": self.title,
            "category": self.category,
            "impact": self.impact.to_dict(),
            "effort": self.effort,
            "score": float(self.score),
            "owner": self.owner,
            "evidence": self.evidence,
            "source": self.source,
            "abort_condition": self.abort_condition,
        }


@dataclass(frozen=True, slots=True)
class Backlog:
    """The ``backlog`` section: items ranked by score (rank 1 first)."""

    items: tuple[BacklogItem, ...]
    budget_minutes_per_quarter: float
    team_hours_per_quarter: float
    sections: tuple[str, ...]
    open_questions: tuple[OpenQuestion, ...] = ()

    def __post_init__(self) -> None:
        if self.budget_minutes_per_quarter <= 0 or self.team_hours_per_quarter <= 0:
            raise ValueError("the quarterly budget and team hours must be positive")
        if [i.rank for i in self.items] != list(range(1, len(self.items) + 1)):
            raise ValueError("items must be ranked 1..n in order")

    def to_dict(self) -> dict[str, Any]:
        return {
            "items": [i.to_dict() for i in self.items],
            "scale": {
                "quarter_days": QUARTER_DAYS,
                "budget_minutes_per_quarter": float(self.budget_minutes_per_quarter),
                "team_hours_per_quarter": float(self.team_hours_per_quarter),
                "effort_weights": dict(EFFORT_WEIGHTS),
                "score": "100 × impact share of a quarter / effort weight",
            },
            "sections_used": list(self.sections),
        }

    def table(self) -> pd.DataFrame:
        """Display table (rounded for reading only)."""
        unit = {"budget_minutes_per_quarter": "budget min / quarter", "hours_per_quarter": "hours / quarter"}
        rows = [
            {
                "rank": i.rank,
                "item": i.title,
                "category": i.category.replace("_", " "),
                "impact": f"{i.impact.value:.1f} {unit[i.impact.unit]}",
                "effort": i.effort,
                "score": round(i.score, 2),
                "owner": i.owner,
                "evidence": i.evidence + (f". Safety: {i.abort_condition}" if i.abort_condition else ""),
            }
            for i in self.items
        ]
        return pd.DataFrame(
            rows, columns=["rank", "item", "category", "impact", "effort", "score", "owner", "evidence"]
        )


# --------------------------------------------------------------------------- helpers


def _num(v: Any) -> float | None:
    """A finite float, or None for missing/non-numeric values."""
    if v is None or isinstance(v, bool):
        return None
    try:
        f = float(v)
    except (TypeError, ValueError):
        return None
    return f if math.isfinite(f) else None


def _list(v: Any) -> list[Any]:
    return list(v) if isinstance(v, Sequence) and not isinstance(v, str) else []


def _minutes_between(start: Any, end: Any) -> float | None:
    """Minutes from one ISO-8601 stamp to another; None when either is missing or unparseable."""
    if not isinstance(start, str) or not isinstance(end, str):
        return None
    try:
        a, b = pd.Timestamp(start), pd.Timestamp(end)
        if pd.isna(a) or pd.isna(b):
            return None
        return max(0.0, (b - a) / pd.Timedelta(minutes=1))
    except (TypeError, ValueError):  # unparseable, or naive mixed with aware
        return None


def _map(v: Any) -> Mapping[str, Any]:
    return v if isinstance(v, Mapping) else {}


@dataclass(frozen=True, slots=True)
class _Draft:
    title: str
    category: str
    value: float
    unit: str
    effort: str
    evidence: str
    source: str
    journey: str | None = None
    abort_condition: str | None = None
    slo_budget_per_quarter: float | None = None


@dataclass(frozen=True, slots=True)
class _Scale:
    budget_per_quarter: float  # default budget minutes per quarter (strictest known SLO)
    per_slo: Mapping[str, float]
    team_hours: float
    history_days: float | None


def effort_from_hours(hours: float) -> str:
    """S up to 16 h (two days), M up to 80 h (two weeks), L above."""
    return "S" if hours <= 16 else "M" if hours <= 80 else "L"


def score(share_of_quarter: float, effort: str) -> float:
    """``100 × impact share / effort weight`` (see the module docstring)."""
    return 100.0 * share_of_quarter / EFFORT_WEIGHTS[effort]


def _quarterly_budget(target: float, window_days: float | None = None, budget_minutes: float | None = None) -> float:
    """Budget minutes per quarter: ``(1 − target) × 91 days × 1440`` (SRE Workbook, "Implementing
    SLOs": a 99.9% SLO allows 43.2 minutes in 30 days), or a window's budget scaled to 91 days."""
    if budget_minutes is not None and window_days:
        return budget_minutes * QUARTER_DAYS / window_days
    return (1.0 - target) * QUARTER_DAYS * 1440.0


def _scale(
    config: ServiceConfig,
    forecast: Mapping[str, Any],
    toil: Mapping[str, Any],
    alerting: Mapping[str, Any],
    slo: Mapping[str, Any],
    questions: list[OpenQuestion],
) -> _Scale:
    per_slo: dict[str, float] = {}
    history: list[float] = []
    for f in _list(forecast.get("per_slo")):
        f = _map(f)
        b, w, name = _num(f.get("budget_minutes")), _num(f.get("window_days")), f.get("slo")
        if b and w and name:
            per_slo[str(name)] = _quarterly_budget(0.0, w, b)
    for m in _map(_map(forecast.get("model")).get("per_slo")).values():
        h = _num(_map(m).get("history_days"))
        if h:
            history.append(h)
    for s in _list(slo.get("slos")) + _list(slo.get("proposals")):
        s = _map(s)
        t, name = _num(s.get("target")), s.get("name") or s.get("slo")
        if t is not None and 0 < t < 1 and name and str(name) not in per_slo:
            per_slo[str(name)] = _quarterly_budget(t)
    targets = [j.availability_target for j in config.journeys if j.availability_target] + list(
        j.latency_target for j in config.journeys if j.latency_target
    )
    if per_slo:
        budget = min(per_slo.values())
    elif targets:
        budget = _quarterly_budget(max(targets))
    else:
        budget = _quarterly_budget(DEFAULT_TARGET)
        questions.append(
            OpenQuestion(
                "backlog_budget_scale",
                "Which SLO target should rank budget-saving work?",
                f"No SLO target known: budget impacts are weighed against a {DEFAULT_TARGET:.1%} SLO "
                f"({budget:.0f} budget minutes per quarter).",
                SECTION,
            )
        )
    team = _map(toil.get("team"))
    cap = _num(team.get("capacity_hours_per_week"))
    if cap is None:
        size = config.toil.team_size or config.oncall.engineers
        if size:
            cap = size * config.toil.hours_per_week
        else:
            cap = DEFAULT_TEAM_SIZE * DEFAULT_HOURS_PER_WEEK
            questions.append(
                OpenQuestion(
                    "backlog_team_scale",
                    "How many engineers does the team have?",
                    f"Team size unknown: hour impacts are weighed against {DEFAULT_TEAM_SIZE} engineers × "
                    f"{DEFAULT_HOURS_PER_WEEK:g} h/week.",
                    SECTION,
                )
            )
    if not history:
        bt = _map(alerting.get("backtest"))
        span = _minutes_between(bt.get("start"), bt.get("end"))
        if span:
            history.append(span / 1440.0)
    if not history:
        h = _num(_map(_map(forecast.get("model")).get("history_days")))
        if h:
            history.append(h)
    return _Scale(budget, per_slo, cap * QUARTER_WEEKS, max(history) if history else None)


def _per_quarter(value_over_history: float, scale: _Scale, questions: list[OpenQuestion]) -> float:
    if scale.history_days:
        return value_over_history * QUARTER_DAYS / scale.history_days
    if not any(q.topic == "backlog_history" for q in questions):
        questions.append(
            OpenQuestion(
                "backlog_history",
                "How long a period does the incident log cover?",
                "History length unknown (no telemetry span): incident totals are taken as one quarter's worth.",
                SECTION,
            )
        )
    return value_over_history


def _what_if(forecast: Mapping[str, Any], name: str) -> tuple[float, str] | None:
    """Budget minutes per quarter saved by a forecast what-if (largest over SLOs), with its text."""
    window = _num(forecast.get("window_days"))
    windows = {str(_map(f).get("slo")): _num(_map(f).get("window_days")) for f in _list(forecast.get("per_slo"))}
    best: tuple[float, str] | None = None
    for w in _list(forecast.get("what_ifs")):
        w = _map(w)
        if w.get("name") != name:
            continue
        delta = _num(w.get("delta_budget_minutes"))
        days = windows.get(str(w.get("slo"))) or window
        if delta is None or not days:
            continue
        saved = max(0.0, -delta) * QUARTER_DAYS / days
        dp = _num(w.get("delta_p_exhaust"))
        text = (
            f"forecast what-if '{w.get('change') or name}' on {w.get('slo')}: {-delta:.1f} budget minutes per "
            f"{days:g}-day window" + (f", exhaustion probability {dp:+.0%}" if dp is not None else "")
        )
        if best is None or saved > best[0]:
            best = (saved, text)
    return best


def _causes(incidents: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    return [_map(c) for c in _list(_map(incidents.get("breakdowns")).get("cause"))]


def _cause_minutes(row: Mapping[str, Any]) -> tuple[float, str]:
    """Budget minutes of a cause over the history, else incident minutes (count × median time
    to resolve: an upper bound, as if every minute were a full outage)."""
    b = _num(row.get("budget_minutes"))
    if b is not None:
        return b, f"{b:.1f} budget minutes"
    count, ttr = _num(row.get("count")) or 0.0, _num(row.get("ttr_median_s"))
    if ttr is not None:
        m = count * ttr / 60.0
        return m, f"≈{m:.0f} incident minutes ({count:.0f} × median {ttr / 60:.0f} min to resolve; upper bound)"
    return 0.0, "no measured duration"


# --------------------------------------------------------------------------- item builders


def _from_toil(toil: Mapping[str, Any]) -> list[_Draft]:
    out = []
    for c in _list(toil.get("candidates")):
        c = _map(c)
        roi = _map(c.get("roi"))
        p = _num(roi.get("p_payback_within_horizon"))
        saved = _num(c.get("saved_hours_per_week"))
        cost = _num(_map(c.get("cost_hours")).get("likely"))
        if p is None or saved is None or cost is None or p < MIN_P_PAYBACK or saved <= 0:
            continue
        pb = _map(roi.get("payback_weeks")).get("p50")
        healing = _map(c.get("self_healing"))
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
        out.append(
            _Draft(
                title,
                "toil_automation",
                saved * QUARTER_WEEKS,
                "hours_per_quarter",
                effort_from_hours(cost),
                f"takes {(_num(c.get('hours_per_week')) or 0):.1f} h/week; saves {saved:.1f} h/week net at likely "
                f"values; build ≈{cost:.0f} h; break-even effort {(_num(c.get('break_even_hours')) or 0):.0f} h over "
                f"{c.get('horizon_weeks')} weeks; pays back within the horizon with probability {p:.0%}"
                + (f" (median {_num(pb):.0f} weeks)" if _num(pb) is not None else ""),
                "toil",
            )
        )
    share, cap = _num(toil.get("share_of_team_time")), _num(toil.get("cap"))
    capacity = _num(_map(toil.get("team")).get("capacity_hours_per_week"))
    if share is not None and cap is not None and capacity and share > cap:
        over = (share - cap) * capacity
        out.append(
            _Draft(
                "Bring toil back under the 50% cap: pause feature work for toil reduction",
                "toil_automation",
                over * QUARTER_WEEKS,
                "hours_per_quarter",
                "L",
                f"toil takes {share:.0%} of the team's time ({(_num(toil.get('toil_hours_per_week')) or 0):.1f} h/week), "
                f'{over:.1f} h/week above the {cap:.0%} cap (SRE book ch. 5, "Eliminating Toil")',
                "toil",
            )
        )
    return out


def _from_alerting(
    alerting: Mapping[str, Any],
    forecast: Mapping[str, Any],
    incidents: Mapping[str, Any],
    config: ServiceConfig,
    scale: _Scale,
    questions: list[OpenQuestion],
) -> list[_Draft]:
    out = []
    handling = config.oncall.handling_minutes_per_page
    pages = _map(alerting.get("existing_pages"))
    per_week = _num(pages.get("pages_per_week"))
    non_act = _num(pages.get("share_non_actionable"))
    if per_week and non_act and non_act > 0:
        hours = per_week * non_act * handling / 60.0 * QUARTER_WEEKS
        out.append(
            _Draft(
                "Remove or fix non-actionable pages",
                "alerting_gap",
                hours,
                "hours_per_quarter",
                "S",
                f"{non_act:.0%} of {per_week:.1f} pages/week are not actionable; at {handling:g} min per page "
                "(oncall.handling_minutes_per_page)",
                "alerting",
            )
        )
    cause_alerts = [str(a) for a in _list(pages.get("cause_based_alerts"))]
    share_cause = _num(pages.get("share_cause_based"))
    if per_week and share_cause and share_cause > 0 and cause_alerts:
        hours = per_week * share_cause * handling / 60.0 * QUARTER_WEEKS
        out.append(
            _Draft(
                "Replace cause-based pages with SLO burn-rate alerts: "
                + ", ".join(cause_alerts[:4])
                + (" …" if len(cause_alerts) > 4 else ""),
                "alerting_gap",
                hours,
                "hours_per_quarter",
                "M",
                f"{share_cause:.0%} of {per_week:.1f} pages/week fire on causes (CPU, disk, memory), not on user "
                "symptoms (SRE book ch. 6: page on symptoms)",
                "alerting",
            )
        )
    missed = [_map(d) for d in _list(alerting.get("incidents")) if not _map(d).get("detected")]
    total = len(_list(alerting.get("incidents")))
    if missed:
        minutes, basis = _missed_budget(missed, forecast, incidents)
        q = _per_quarter(minutes, scale, questions)
        ids = ", ".join(str(d.get("id")) for d in missed[:5]) + (" …" if len(missed) > 5 else "")
        out.append(
            _Draft(
                f"Cover the incidents the burn-rate policy would have missed ({len(missed)} of {total})",
                "alerting_gap",
                q,
                "budget_minutes_per_quarter",
                "M",
                f"no rule fired during incidents {ids}; {basis}",
                "alerting",
            )
        )
    return out


def _missed_budget(
    missed: list[Mapping[str, Any]], forecast: Mapping[str, Any], incidents: Mapping[str, Any]
) -> tuple[float, str]:
    """Budget minutes the missed incidents stand for over the history, with how it was found.

    1. the forecast's median measured budget minutes of one incident (per SLO of the incident's
       journey, the largest; any SLO when the journey is unknown) × missed incidents;
    2. else the incident log's mean budget minutes per incident (cause totals / incidents);
    3. else their duration as full-outage minutes (an upper bound).
    """
    models = _map(_map(forecast.get("model")).get("per_slo"))
    journeys = {str(_map(f).get("slo")): _map(f).get("journey") for f in _list(forecast.get("per_slo"))}
    per: list[float] = []
    for d in missed:
        found = [
            _num(_map(m).get("impact_budget_minutes_median"))
            for name, m in models.items()
            if d.get("journey") in (None, journeys.get(name)) and _num(_map(m).get("impacts_measured"))
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
    causes = _causes(incidents)
    n = _num(incidents.get("incidents"))
    if n and causes and all(_num(c.get("budget_minutes")) is not None for c in causes):
        mean = sum(_num(c.get("budget_minutes")) or 0.0 for c in causes) / n
        total = mean * len(missed)
        return (
            total,
            f"{total:.1f} budget minutes over the history (mean {mean:.2f} budget minutes per logged incident)",
        )
    minutes = sum(_minutes_between(d.get("started_at"), d.get("impact_end")) or 0.0 for d in missed)
    return minutes, f"{minutes:.0f} incident minutes over the history (upper bound: as if each were a full outage)"


def _from_incidents(
    incidents: Mapping[str, Any],
    forecast: Mapping[str, Any],
    config: ServiceConfig,
    scale: _Scale,
    abort: str,
    questions: list[OpenQuestion],
) -> list[_Draft]:
    out = []
    causes = [c for c in _causes(incidents) if str(c.get("cause", "unknown")) != "unknown"]
    n_total = _num(incidents.get("incidents")) or sum((_num(c.get("count")) or 0) for c in _causes(incidents))
    ranked = sorted(causes, key=lambda c: (-_cause_minutes(c)[0], -(_num(c.get("count")) or 0), str(c.get("cause"))))
    top = [c for c in ranked if c.get("repeat")][:MAX_CAUSES] or ranked[:1]
    resolution = _what_if(forecast, "faster resolution")
    for c in top:
        minutes, text = _cause_minutes(c)
        q = _per_quarter(minutes, scale, questions)
        count = _num(c.get("count")) or 0
        out.append(
            _Draft(
                f"Fix the recurring cause '{c.get('cause')}'",
                "incident_cause",
                q,
                "budget_minutes_per_quarter",
                "L",
                f"{count:.0f} incidents ({(_num(c.get('share')) or 0):.0%} of all) with this cause; {text} over the history",
                "incident_response",
            )
        )
        if resolution and n_total:
            chaos_q, basis = (
                resolution[0] * count / n_total,
                f"{resolution[1]}, × this cause's {count:.0f}/{n_total:.0f} incidents",
            )
        else:
            chaos_q, basis = (
                ASSUMED_SHARE * q,
                f"assumed {ASSUMED_SHARE:.0%} shorter incidents once the mitigation is verified",
            )
        out.append(
            _Draft(
                f"Chaos experiment: inject '{c.get('cause')}' and verify its mitigation and runbook",
                "chaos_experiment",
                chaos_q,
                "budget_minutes_per_quarter",
                "M",
                f"{count:.0f} past incidents with this cause; {basis}",
                "incident_response",
                abort_condition=abort,
            )
        )
    # detection
    det = {str(_map(d).get("detection")): _map(d) for d in _list(_map(incidents.get("breakdowns")).get("detection"))}
    cust = _num(det.get("customer", {}).get("count")) or 0.0
    known = sum((_num(d.get("count")) or 0.0) for k, d in det.items() if k != "unknown")
    ttd = _num(_map(_map(incidents.get("metrics")).get("ttd")).get("median_s"))
    slow = ttd is not None and ttd > SLOW_DETECTION_S
    gain = _what_if(forecast, "faster detection")
    if cust > 0 or slow or gain:
        if gain:
            q, basis = gain
        else:
            who = n_total if slow else cust
            q = _per_quarter(who * ASSUMED_DETECTION_GAIN_MIN, scale, questions)
            basis = (
                f"assumed {ASSUMED_DETECTION_GAIN_MIN:g} min of full-outage burn saved per "
                + ("incident" if slow else "customer-detected incident")
                + f" ({who:.0f})"
            )
        parts = []
        if known:
            parts.append(f"{cust:.0f} of {known:.0f} incidents with a known source were reported by customers")
        if ttd is not None:
            parts.append(f"median time to detect {ttd / 60:.0f} min")
        parts.append(basis)
        out.append(
            _Draft(
                "Detect incidents sooner: page on multi-window burn-rate alerts",
                "detection",
                q,
                "budget_minutes_per_quarter",
                "M",
                "; ".join(parts),
                "incident_response",
            )
        )
    # postmortem follow-up
    pm = _map(incidents.get("postmortems"))
    missing = int((_num(pm.get("pending")) or 0) + (_num(pm.get("none")) or 0))
    unrecorded = int(_num(pm.get("high_severity_incidents")) or 0) if pm.get("coverage") is None else 0
    open_items = int(_num(pm.get("action_items_open")) or 0)
    if missing or open_items or unrecorded:
        fewer = _what_if(forecast, "fewer incidents")
        repeat_minutes = sum(_cause_minutes(c)[0] for c in causes if c.get("repeat"))
        high = [
            _map(r)
            for r in _list(_map(incidents.get("breakdowns")).get("severity"))
            if str(_map(r).get("severity")) in HIGH_SEVERITIES
        ]
        high_minutes = sum((_num(r.get("count")) or 0.0) * (_num(r.get("ttr_median_s")) or 0.0) / 60.0 for r in high)
        if fewer:
            q, basis = fewer
        elif repeat_minutes > 0:
            q = ASSUMED_SHARE * _per_quarter(repeat_minutes, scale, questions)
            basis = (
                f"assumed {ASSUMED_SHARE:.0%} fewer repeat incidents ({repeat_minutes:.0f} minutes of repeat "
                "causes over the history)"
            )
        else:
            q = ASSUMED_SHARE * _per_quarter(high_minutes, scale, questions)
            basis = (
                f"assumed {ASSUMED_SHARE:.0%} fewer SEV1/SEV2 incidents (≈{high_minutes:.0f} incident minutes "
                "over the history: count × median time to resolve, an upper bound)"
            )
        bits = []
        if missing:
            bits.append(f"{missing} SEV1/SEV2 postmortem(s) not done")
        if unrecorded:
            bits.append(f"no postmortem status recorded for {unrecorded} SEV1/SEV2 incident(s)")
        if open_items:
            closure = _num(pm.get("closure_rate"))
            bits.append(
                f"{open_items} open action item(s)" + (f" (closure rate {closure:.0%})" if closure is not None else "")
            )
        title = (
            "Record postmortems for SEV1/SEV2 incidents and track their action items"
            if unrecorded
            else "Finish postmortems and close their action items: " + ", ".join(bits)
        )
        out.append(
            _Draft(
                title,
                "postmortem_follow_up",
                q,
                "budget_minutes_per_quarter",
                "S",
                "; ".join([*bits, basis]),
                "incident_response",
            )
        )
    if n_total and not causes:
        questions.append(
            OpenQuestion(
                "backlog_incident_causes",
                "Can incidents record a cause (a short category such as 'bad deploy')?",
                f"None of the {n_total:.0f} incidents names a cause, so no cause-specific fix or chaos experiment is "
                "proposed.",
                SECTION,
            )
        )
    return out


def _from_forecast(forecast: Mapping[str, Any], config: ServiceConfig) -> list[_Draft]:
    out = []
    models = _map(_map(forecast.get("model")).get("per_slo"))
    for f in _list(forecast.get("per_slo")):
        f = _map(f)
        name = str(f.get("slo"))
        bg = _num(_map(models.get(name)).get("background_budget_minutes_per_day_median"))
        budget, days = _num(f.get("budget_minutes")), _num(f.get("window_days"))
        if bg is None or bg <= 0 or not budget or not days:
            continue
        share = bg * days / budget
        p = _num(f.get("p_exhaust"))
        if share < BACKGROUND_SHARE_MIN and (p is None or p < BACKGROUND_P_EXHAUST_MIN):
            continue
        out.append(
            _Draft(
                f"Reduce the steady background error burn of {name}",
                "slo",
                bg * QUARTER_DAYS,
                "budget_minutes_per_quarter",
                "M",
                f"quiet days burn {bg:.2f} budget minutes/day (median), {share:.0%} of the {days:g}-day budget "
                f"of {budget:.1f} min" + (f"; forecast exhaustion probability {p:.0%}" if p is not None else ""),
                "error_budget_policy",
                journey=str(f.get("journey")) if f.get("journey") else None,
                slo_budget_per_quarter=budget * QUARTER_DAYS / days,
            )
        )
    return out


def _from_slo(slo: Mapping[str, Any], budget: Mapping[str, Any]) -> list[_Draft]:
    """Exhausted budgets from the budget policy payload (``consumed`` ≥ 1 in the current
    window: impact = the overspend scaled to a quarter) and journeys the SLO section could not
    measure (its instrumentation plan: impact unknown until measured, so 0)."""
    out = []
    for b in _list(budget.get("slos")) + _list(budget.get("budgets")):
        b = _map(b)
        consumed = _num(b.get("consumed"))
        minutes = _num(b.get("allowed_outage_minutes"))
        if minutes is None:
            minutes = _num(b.get("budget_minutes"))
        window_s = _num(b.get("window_s"))
        days = window_s / 86400.0 if window_s else _num(b.get("window_days"))
        name = b.get("slo") or b.get("name")
        if consumed is None or minutes is None or not days or not name or consumed < 1.0:
            continue
        over = (consumed - 1.0) * minutes * QUARTER_DAYS / days
        out.append(
            _Draft(
                f"Apply the error budget policy for {name}: budget exhausted",
                "slo",
                over,
                "budget_minutes_per_quarter",
                "S",
                f"{consumed:.0%} of the {days:g}-day budget ({minutes:.1f} full-outage minutes) consumed in the "
                "current window; the overspend is the impact",
                "error_budget_policy",
                journey=str(b.get("journey")) if b.get("journey") else None,
                slo_budget_per_quarter=minutes * QUARTER_DAYS / days,
            )
        )
    for step in _list(slo.get("instrumentation_plan")):
        step = _map(step)
        journey = step.get("journey")
        if not journey:
            continue
        out.append(
            _Draft(
                f"Instrument journey '{journey}': emit {step.get('counter')} and {step.get('histogram')}",
                "slo",
                0.0,
                "budget_minutes_per_quarter",
                "S",
                f"no telemetry for this journey, so its SLO is provisional and its budget impact cannot be measured "
                f"yet (impact 0 until it is); {step.get('why') or ''}".rstrip("; "),
                "slo_proposal",
                journey=str(journey),
            )
        )
    return out


def abort_condition(alerting: Mapping[str, Any]) -> str:
    """Chaos abort rule: the fastest page rule of the alert policy (short window and burn rate),
    else the SRE Workbook's 5m/14.4 fast-burn condition."""
    pages = [_map(r) for r in _list(alerting.get("policy")) if _map(r).get("severity") == "page"]
    pages = [r for r in pages if _num(r.get("burn_rate"))]
    if pages:
        r = max(pages, key=lambda r: (_num(r.get("burn_rate")) or 0.0, -(_num(r.get("short_window_s")) or 0.0)))
        return (
            f"abort when the {r.get('short_window')} burn rate of {r.get('slo')} > {float(r['burn_rate']):g} "
            f"(its {r.get('long_window')} page rule)"
        )
    w, rate = DEFAULT_ABORT
    return f"abort when the {w} burn rate > {rate:g} (SRE Workbook fast-burn page condition)"


# --------------------------------------------------------------------------- entry point


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

    Parameters
    ----------
    config : ServiceConfig
        Owners (``owners:`` in service.yaml via :meth:`ServiceConfig.owner_for`, journey owners),
        team size and on-call handling time.
    slo, budget, alerting, incidents, forecast, toil : mapping or None
        The ``slo_proposal``, budget policy, ``alerting``, ``incident_response``, forecast
        (``error_budget_policy.forecast``) and ``toil`` payloads; any may be missing.

    Returns
    -------
    Backlog
        Items ranked by ``100 × impact share of a quarter / effort weight`` (module docstring).
    """
    given = {
        "slo_proposal": slo,
        "error_budget_policy": budget,
        "alerting": alerting,
        "incident_response": incidents,
        "forecast": forecast,
        "toil": toil,
    }
    given = {k: (None if _map(v).get("status") == "failed" else v) for k, v in given.items()}  # failed areas
    used = tuple(k for k, v in given.items() if v)
    missing = [k for k, v in given.items() if not v]
    questions: list[OpenQuestion] = []
    sl, bu, al, inc, fc, to = (_map(given[k]) for k in given)
    scale = _scale(config, fc, to, al, sl, questions)
    abort = abort_condition(al)

    drafts: list[_Draft] = []
    drafts += _from_toil(to)
    drafts += _from_alerting(al, fc, inc, config, scale, questions)
    drafts += _from_incidents(inc, fc, config, scale, abort, questions)
    drafts += _from_forecast(fc, config)
    drafts += _from_slo(sl, bu)
    if missing:
        questions.append(
            OpenQuestion(
                "backlog_sections",
                "Can the missing analyses be run (they may hold more work)?",
                "The backlog was ranked without: " + ", ".join(missing) + ".",
                SECTION,
            )
        )

    scored = []
    unowned = set()
    for d in drafts:
        per_quarter = (
            scale.team_hours
            if d.unit == "hours_per_quarter"
            else (d.slo_budget_per_quarter or scale.budget_per_quarter)
        )
        share = d.value / per_quarter
        area = AREA[d.category]
        journey = config.journey(d.journey) if d.journey else None
        owner = (
            (journey.owner if journey and journey.owner else None)
            or config.owners.get(area)
            or config.owner_for(FALLBACK_AREA.get(area, area))
        )
        if owner == "unassigned":
            unowned.add(area)
        scored.append((score(share, d.effort), share, d, owner))
    if unowned:
        questions.append(
            OpenQuestion(
                "backlog_owners",
                "Who owns these areas of reliability work?",
                "No owner in service.yaml (owners: {area: name} or owner:) for: "
                + ", ".join(sorted(unowned))
                + "; items are marked unassigned.",
                SECTION,
            )
        )
    scored.sort(key=lambda t: (-t[0], -t[1], t[2].title))
    items = tuple(
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
    return Backlog(
        items=items,
        budget_minutes_per_quarter=scale.budget_per_quarter,
        team_hours_per_quarter=scale.team_hours,
        sections=used,
        open_questions=tuple(questions),
    )


def backlog_from_report(config: ServiceConfig, report: Mapping[str, Any]) -> Backlog:
    """The backlog rebuilt from a ``report.json`` dict (its section keys; the forecast sits in
    ``error_budget_policy.forecast``), e.g. in a notebook that wants the :class:`Backlog` object."""
    budget = _map(report.get("error_budget_policy"))
    return build_backlog(
        config,
        slo=_map(report.get("slo_proposal")) or None,
        budget=budget or None,
        alerting=_map(report.get("alerting")) or None,
        incidents=_map(report.get("incident_response")) or None,
        forecast=_map(budget.get("forecast")) or None,
        toil=_map(report.get("toil")) or None,
    )
