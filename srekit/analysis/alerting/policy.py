"""The burn-rate alert policy of an SLO: which windows, at which burn rates and thresholds,
paging or ticketing (SRE Workbook ch. 5 "Alerting on SLOs", approach 6; the window/factor
table Sloth also uses), and the warnings and open questions the design raises.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import pandas as pd

from srekit.analysis.explain import Explanation, explain
from srekit.core.errors import ConfigError
from srekit.core.questions import OpenQuestion
from srekit.core.spec import SLOSpec
from srekit.core.timeutil import format_duration, parse_duration
from srekit.inputs.config import ServiceConfig

SEVERITIES = ("page", "ticket")
SPEEDS = ("fast", "slow")
SHORT_WINDOW_DIVISOR = 12  # Workbook ch. 5: "a short window of 1/12 the duration of the long window"
MIN_SENSIBLE_BURN_RATE = 0.5  # below: fires while the budget lasts twice the period


@dataclass(frozen=True, slots=True)
class BurnRateRule:
    """One multiwindow burn-rate condition of an SLO's alert policy."""

    slo: str
    journey: str
    severity: str  # page | ticket
    speed: str  # fast (page windows of the config) | slow (ticket windows)
    long_window: pd.Timedelta
    short_window: pd.Timedelta
    burn_rate: float
    budget_share: float  # share of the period's budget spent when a clean long window fires
    threshold: float  # error-ratio threshold = burn_rate × (1 − target)

    def __post_init__(self) -> None:
        if self.severity not in SEVERITIES:
            raise ValueError(f"rule severity must be page or ticket, got {self.severity!r}")
        if self.speed not in SPEEDS:
            raise ValueError(f"rule speed must be fast or slow, got {self.speed!r}")
        if not pd.Timedelta(0) < self.short_window <= self.long_window:
            raise ValueError(f"{self.slo}: need 0 < short window ≤ long window")
        if not 0.0 < self.budget_share <= 1.0:
            raise ValueError(f"{self.slo}: budget share must be in (0, 1], got {self.budget_share}")
        if self.burn_rate <= 0 or self.threshold <= 0:
            raise ValueError(f"{self.slo}: burn rate and threshold must be positive")

    @property
    def name(self) -> str:
        """Stable id, e.g. ``checkout-availability/page/1h``."""
        return f"{self.slo}/{self.severity}/{format_duration(self.long_window)}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "rule": self.name,
            "slo": self.slo,
            "journey": self.journey,
            "severity": self.severity,
            "alert": alert_name(self.slo, self.speed),
            "long_window": format_duration(self.long_window),
            "short_window": format_duration(self.short_window),
            "long_window_s": self.long_window.total_seconds(),
            "short_window_s": self.short_window.total_seconds(),
            "burn_rate": self.burn_rate,
            "budget_share": self.budget_share,
            "error_ratio_threshold": self.threshold,
        }


@dataclass(frozen=True, slots=True)
class AlertPolicy:
    """The rules of one SLO plus the warnings and defaults behind them."""

    spec: SLOSpec
    rules: tuple[BurnRateRule, ...]
    warnings: tuple[str, ...] = ()
    open_questions: tuple[OpenQuestion, ...] = ()
    events_per_hour: float | None = None

    def __post_init__(self) -> None:
        if not self.rules:
            raise ValueError(f"{self.spec.name}: an alert policy needs at least one rule")
        if any(r.slo != self.spec.name for r in self.rules):
            raise ValueError(f"{self.spec.name}: every rule must belong to this SLO")

    def alerts(self) -> tuple[tuple[str, str, tuple[BurnRateRule, ...]], ...]:
        """The Prometheus alerts: ``(alert name, severity, rules)`` per speed group."""
        groups = ((speed, tuple(r for r in self.rules if r.speed == speed)) for speed in SPEEDS)
        return tuple((alert_name(self.spec.name, speed), rules[0].severity, rules) for speed, rules in groups if rules)

    def to_dict(self) -> list[dict[str, Any]]:
        return [r.to_dict() for r in self.rules]


@dataclass(frozen=True, slots=True)
class _Findings:
    """What one check of a designed policy found: warnings and open questions."""

    warnings: tuple[str, ...] = ()
    questions: tuple[OpenQuestion, ...] = ()


def alert_name(slo: str, speed: str) -> str:
    """Prometheus alert name: ``checkout-availability`` + fast → ``CheckoutAvailabilityBudgetBurnFast``."""
    camel = "".join(p[:1].upper() + p[1:] for p in re.split(r"[^0-9A-Za-z]+", slo) if p)
    if not camel or not camel[0].isalpha():
        camel = "Slo" + camel
    return f"{camel}BudgetBurn{speed.capitalize()}"


def design_policy(spec: SLOSpec, config: ServiceConfig, *, events_per_hour: float | None = None) -> AlertPolicy:
    """Multiwindow, multi-burn-rate rules for one SLO (SRE Workbook ch. 5, approach 6).

    Parameters
    ----------
    spec : the SLO; its ``window`` is the budget period ``P``.
    config : ``config.alerting`` gives the page and ticket long windows and each window's
        budget share; ``config.oncall.coverage`` unset makes every rule a ticket.
    events_per_hour : typical SLI events per hour (requests, or slices for timeslice SLIs);
        when one bad event in an hour would exceed the fastest page's budget share the policy
        carries a low-traffic warning (Workbook ch. 5, "Low-traffic services").

    Notes
    -----
    Burn rate ``f = share × P / W``; threshold ``θ = f × (1 − target)``; short window ``W/12``.
    """
    rules = tuple(_design_rule(spec, config, speed, text) for speed, text in _long_windows(config))
    findings = (
        _slack_rules(spec, rules),
        _unreachable_rules(spec, rules),
        _no_oncall(config),
        _low_traffic(spec, rules, events_per_hour),
    )
    warnings = tuple(w for f in findings for w in f.warnings)
    questions = tuple(q for f in findings for q in f.questions)
    return AlertPolicy(spec, rules, warnings, questions, events_per_hour)


def _long_windows(config: ServiceConfig) -> tuple[tuple[str, str], ...]:
    """``(speed, long window text)`` of every rule: the page windows are fast, the ticket windows slow."""
    cfg = config.alerting
    groups = tuple(("fast", w) for w in cfg.page_long_windows) + tuple(("slow", w) for w in cfg.ticket_long_windows)
    if not groups:
        raise ConfigError(
            "service.yaml: alerting.page_long_windows and ticket_long_windows are both empty. "
            "fix: keep the defaults [1h, 6h] and [1d, 3d]"
        )
    return groups


def _design_rule(spec: SLOSpec, config: ServiceConfig, speed: str, text: str) -> BurnRateRule:
    """The rule over the long window ``text``: burn rate ``share × P / W``, threshold ``f × (1 − T)``,
    short window ``W/12``; a page when it is fast and someone is on call, else a ticket."""
    w = _window(text, f"alerting.{'page' if speed == 'fast' else 'ticket'}_long_windows")
    share = _budget_share(config, text, w)
    if w > spec.window:
        raise ConfigError(
            f"service.yaml: alert window {text} is longer than the SLO period {format_duration(spec.window)} "
            f"of {spec.name}"
        )
    burn = share * (spec.window / w)
    return BurnRateRule(
        slo=spec.name,
        journey=spec.journey,
        severity="page" if (speed == "fast" and config.oncall.coverage) else "ticket",
        speed=speed,
        long_window=w,
        short_window=w / SHORT_WINDOW_DIVISOR,
        burn_rate=burn,
        budget_share=share,
        threshold=burn * spec.error_budget,
    )


def _window(text: str, where: str) -> pd.Timedelta:
    try:
        w = parse_duration(text)
    except (ValueError, TypeError) as exc:
        raise ConfigError(
            f"service.yaml: {where} has an invalid window {text!r}: {exc}. fix: use 1h, 6h, 1d, 3d"
        ) from exc
    if w <= pd.Timedelta(0) or (w / SHORT_WINDOW_DIVISOR) % pd.Timedelta(minutes=1) != pd.Timedelta(0):
        raise ConfigError(
            f"service.yaml: {where} window {text!r} must be positive and divisible into whole minutes "
            f"by {SHORT_WINDOW_DIVISOR} (its short window). fix: use e.g. 1h, 6h, 1d, 3d"
        )
    return w


def _budget_share(config: ServiceConfig, text: str, window: pd.Timedelta) -> float:
    """The configured budget share of a window, by its text or by an equal duration (``60m`` for ``1h``)."""
    shares = config.alerting.budget_shares
    share = shares.get(text)
    if share is None:
        share = next((v for k, v in shares.items() if _safe_window(k) == window), None)
    if share is None or not 0 < float(share) <= 1:
        raise ConfigError(
            f"service.yaml: alerting.budget_shares has no share in (0, 1] for window {text!r} "
            f"(got {share!r}). fix: add e.g. `{text}: 0.05` under alerting.budget_shares"
        )
    return float(share)


def _safe_window(text: str) -> pd.Timedelta | None:
    try:
        return parse_duration(text)
    except (ValueError, TypeError):
        return None


def _slack_rules(spec: SLOSpec, rules: tuple[BurnRateRule, ...]) -> _Findings:
    """Rules whose burn rate is below :data:`MIN_SENSIBLE_BURN_RATE` (a short period with the 30-day shares)."""
    slack = [r for r in rules if r.burn_rate < MIN_SENSIBLE_BURN_RATE]
    if not slack:
        return _Findings()
    period = format_duration(spec.window)
    names = ", ".join(f"{format_duration(r.long_window)} ({r.burn_rate:.3g}x)" for r in slack)
    warning = (
        f"{spec.name}: with a {period} period the rules over {names} fire while the budget "
        "is spent at less than half the sustainable rate; raise their budget_shares for short periods "
        "(Sloth uses 8%/12.5%/20%/42% for 7 days)."
    )
    question = OpenQuestion(
        topic="alert_budget_shares",
        question=f"Which budget shares should the alert windows of {spec.name} use for a {period} period?",
        assumption=f"The configured shares were kept, giving burn rates below {MIN_SENSIBLE_BURN_RATE:g} for {names}.",
        section="alerting",
    )
    return _Findings((warning,), (question,))


def _unreachable_rules(spec: SLOSpec, rules: tuple[BurnRateRule, ...]) -> _Findings:
    """Rules whose error-ratio threshold is 1 or more: even a full outage cannot fire them."""
    unreachable = [r for r in rules if r.threshold >= 1.0]
    if not unreachable:
        return _Findings()
    names = ", ".join(
        f"{format_duration(r.long_window)} ({r.burn_rate:.3g}x, error ratio above {r.threshold:.3g})"
        for r in unreachable
    )
    warning = (
        f"{spec.name}: the rules over {names} can never fire: an error ratio cannot exceed 1, so even a full "
        "outage stays below their threshold. Lower their budget_shares or their windows for this target."
    )
    question = OpenQuestion(
        topic="alert_unreachable_threshold",
        question=f"Which alert windows and budget shares should {spec.name} use? At {spec.target:.4g} the rules over "
        f"{names} need more than 100% errors.",
        assumption="The rules were kept as designed; they will never fire.",
        section="alerting",
    )
    return _Findings((warning,), (question,))


def _no_oncall(config: ServiceConfig) -> _Findings:
    """Without on-call coverage every rule is a ticket: ask whether someone can be paged."""
    if config.oncall.coverage:
        return _Findings()
    question = OpenQuestion(
        topic="oncall_coverage",
        question="Is there an on-call rotation that can be paged for this service (24x7, business hours)?",
        assumption="No on-call coverage is configured, so every burn-rate alert is a ticket; "
        "set oncall.coverage in service.yaml to page for fast burns.",
        section="alerting",
    )
    return _Findings((), (question,))


def _low_traffic(spec: SLOSpec, rules: tuple[BurnRateRule, ...], events_per_hour: float | None) -> _Findings:
    """No traffic, or so little that one bad event in an hour spends more than the fastest rule's
    budget share (Workbook ch. 5, "Low-traffic services")."""
    if events_per_hour is None:
        return _Findings()
    if events_per_hour <= 0:
        return _Findings((f"{spec.name}: no traffic observed; burn-rate alerts cannot be evaluated.",))
    fastest = min(rules, key=lambda r: r.long_window)
    hours = spec.window.total_seconds() / 3600.0
    one_bad = 1.0 / (events_per_hour * hours * spec.error_budget)
    if one_bad <= fastest.budget_share:
        return _Findings()
    warning = (
        f"{spec.name}: low traffic ({events_per_hour:.3g} events/hour): one bad event in an hour "
        f"spends {one_bad:.1%} of the budget, more than the fastest alert's {fastest.budget_share:.0%}. "
        "Add synthetic traffic (probes) or group journeys into one SLO (SRE Workbook, Alerting on SLOs)."
    )
    question = OpenQuestion(
        topic="low_traffic",
        question=f"Should {spec.name} get synthetic probe traffic or be grouped with other journeys?",
        assumption=f"The rules are kept as designed although a single bad event ({one_bad:.1%} of the budget) "
        "can trigger the fast alert.",
        section="alerting",
    )
    return _Findings((warning,), (question,))


def explain_policy(policy: AlertPolicy, error_ratio: float = 1.0) -> Explanation:
    """:func:`srekit.analysis.explain.explain` for the rules of ``policy``."""
    rules = tuple((r.long_window, r.short_window, r.burn_rate, r.severity) for r in policy.rules)
    return explain(policy.spec.target, policy.spec.window, error_ratio, rules=rules)
