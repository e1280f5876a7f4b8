"""The burn-rate alert policy of an SLO: which windows, at which burn rates and thresholds,
paging or ticketing (SRE Workbook ch. 5 "Alerting on SLOs", approach 6; the window/factor
table Sloth also uses), and the warnings and open questions the design raises.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from typing import Any

import pandas as pd

from srekit.analysis.explain import Explanation, explain
from srekit.core.errors import ConfigError
from srekit.core.questions import OpenQuestion
from srekit.core.spec import AlertPolicySpec, AlertWindowSpec, SLOSpec
from srekit.core.timeutil import every_words, format_duration, parse_duration, per_words
from srekit.inputs.config import ServiceConfig

SEVERITIES = ("page", "ticket")
SPEEDS = ("fast", "slow", "exhaustion")
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
    pending: pd.Timedelta = pd.Timedelta(0)  # the condition must hold this long first (Prometheus `for:`)
    source: str = "srekit"  # who designed it: srekit (the Workbook's table) or the imported tool
    source_alert: str | None = None  # the alert or policy-step name in the source
    sli_decimals: int | None = None  # slo-generator: SLI rounded to 6 decimals before the decision
    burn_rate_decimals: int | None = None  # slo-generator: burn rate rounded to 1 decimal, then `>`
    min_bad_events: int = 0  # low-traffic remedy: also at least this many bad events in the long window
    min_events: int = 0  # low-traffic remedy: also at least this many events in the long window
    remedy: str | None = None  # the low-traffic remedy this rule carries (srekit.analysis.alerting.lowtraffic)
    budget_window: pd.Timedelta | None = None  # exhaustion rules: the remaining budget is read over it (.exhaustion)

    def __post_init__(self) -> None:
        if self.severity not in SEVERITIES:
            raise ValueError(f"rule severity must be page or ticket, got {self.severity!r}")
        if self.speed not in SPEEDS:
            raise ValueError(f"rule speed must be fast or slow, got {self.speed!r}")
        if not pd.Timedelta(0) < self.short_window <= self.long_window:
            raise ValueError(f"{self.slo}: need 0 < short window ≤ long window")
        if self.budget_share <= 0.0:
            raise ValueError(f"{self.slo}: budget share must be positive, got {self.budget_share}")
        if self.pending < pd.Timedelta(0):
            raise ValueError(f"{self.slo}: the pending time cannot be negative")
        if self.burn_rate <= 0 or self.threshold <= 0:
            raise ValueError(f"{self.slo}: burn rate and threshold must be positive")
        if self.min_bad_events < 0 or self.min_events < 0:
            raise ValueError(f"{self.slo}: minimum event counts cannot be negative")

    @property
    def name(self) -> str:
        """Stable id, e.g. ``checkout-availability/page/1h`` (``…/exhaustion/6h`` for an exhaustion rule)."""
        kind = "exhaustion" if self.budget_window is not None else self.severity
        return f"{self.slo}/{kind}/{format_duration(self.long_window)}"

    @property
    def single_window(self) -> bool:
        """One window only (slo-generator steps, OpenSLO conditions): the short window is the long one."""
        return self.short_window == self.long_window

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
            "windows": "single" if self.single_window else "multiwindow",
            "pending_s": self.pending.total_seconds(),
            "source": self.source,
            "source_alert": self.source_alert,
            "min_bad_events": self.min_bad_events,
            "min_events": self.min_events,
            "remedy": self.remedy,
            "budget_window": None if self.budget_window is None else format_duration(self.budget_window),
        }


@dataclass(frozen=True, slots=True)
class AlertPolicy:
    """The rules of one SLO plus the warnings and defaults behind them."""

    spec: SLOSpec
    rules: tuple[BurnRateRule, ...]
    warnings: tuple[str, ...] = ()
    open_questions: tuple[OpenQuestion, ...] = ()
    events_per_hour: float | None = None
    not_proposed: tuple[NotProposed, ...] = ()  # designed rules left out, with the reason

    def __post_init__(self) -> None:
        if not self.rules and self.spec.alerting is None and not self.not_proposed:
            raise ValueError(f"{self.spec.name}: an alert policy needs at least one rule")
        if any(r.slo != self.spec.name for r in self.rules):
            raise ValueError(f"{self.spec.name}: every rule must belong to this SLO")
        names = [r.name for r in self.rules]
        if len(set(names)) != len(names):
            raise ValueError(f"{self.spec.name}: two rules share a severity and a long window: {names}")

    @property
    def source(self) -> str:
        """``srekit`` (designed from the Workbook's table) or the tool the policy was imported from."""
        return self.spec.alerting.source if self.spec.alerting is not None else "srekit"

    def alerts(self) -> tuple[tuple[str, str, tuple[BurnRateRule, ...]], ...]:
        """The Prometheus alerts: ``(alert name, severity, rules)`` per speed group. Rules of one
        speed with different pending times (Pyrra's ``for:``) become one alert each, named with
        their long window, since an alert has one ``for``."""
        out = []
        for speed in SPEEDS:
            rules = tuple(r for r in self.rules if r.speed == speed)
            if len({r.pending for r in rules}) <= 1:
                out += [(alert_name(self.spec.name, speed), rules[0].severity, rules)] if rules else []
            else:
                out += [
                    (alert_name(self.spec.name, speed) + format_duration(r.long_window), r.severity, (r,))
                    for r in rules
                ]
        return tuple(out)

    def to_dict(self) -> list[dict[str, Any]]:
        return [r.to_dict() for r in self.rules]


@dataclass(frozen=True, slots=True)
class NotProposed:
    """A rule of the Workbook's table left out of a policy, and why."""

    slo: str
    long_window: pd.Timedelta
    short_window: pd.Timedelta
    reason: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "slo": self.slo,
            "long_window": format_duration(self.long_window),
            "short_window": format_duration(self.short_window),
            "reason": self.reason,
        }


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
    return f"{camel}BudgetExhaustion" if speed == "exhaustion" else f"{camel}BudgetBurn{speed.capitalize()}"


def design_policy(
    spec: SLOSpec,
    config: ServiceConfig,
    *,
    events_per_hour: float | None = None,
    data_interval: pd.Timedelta | None = None,
) -> AlertPolicy:
    """Multiwindow, multi-burn-rate rules for one SLO (SRE Workbook ch. 5, approach 6).

    Parameters
    ----------
    spec : the SLO; its ``window`` is the budget period ``P``.
    config : ``config.alerting`` gives the page and ticket long windows and each window's
        budget share; ``config.oncall.coverage`` unset makes every rule a ticket.
    events_per_hour : typical SLI events per hour (requests, or slices for timeslice SLIs);
        when one bad event in an hour would exceed the fastest page's budget share the policy
        carries a low-traffic warning (Workbook ch. 5, "Low-traffic services").
    data_interval : how long one interval (or sample) of the SLI's data lasts; a rule with a
        window shorter than it is not proposed (its window would hold less than one sample),
        and :attr:`AlertPolicy.not_proposed` says so.

    Notes
    -----
    Burn rate ``f = share × P / W``; threshold ``θ = f × (1 − target)``; short window ``W/12``.
    """
    designed = tuple(_design_rule(spec, config, speed, text) for speed, text in _long_windows(config))
    rules, dropped = _within_data(spec, designed, data_interval)
    findings = (
        _coarse_data(spec, dropped, data_interval),
        _slack_rules(spec, rules),
        _unreachable_rules(spec, rules),
        _no_oncall(config),
        _low_traffic(spec, rules, events_per_hour, data_interval) if rules else _Findings(),
    )
    warnings = tuple(w for f in findings for w in f.warnings)
    questions = tuple(q for f in findings for q in f.questions)
    return without_unreachable(AlertPolicy(spec, rules, warnings, questions, events_per_hour, dropped))


def without_unreachable(policy: AlertPolicy) -> AlertPolicy:
    """``policy`` without the rules whose error-ratio threshold is 1 or more (a ratio of bad to
    all events cannot exceed 1: even a full outage never fires them), each listed in
    :attr:`AlertPolicy.not_proposed` with the reason. The designed policy and every export go
    through it, so no such rule is replayed, counted or exported as if it worked."""
    never = [r for r in policy.rules if r.threshold >= 1.0]
    if not never:
        return policy
    dropped = tuple(
        NotProposed(
            policy.spec.name,
            r.long_window,
            r.short_window,
            f"the {format_duration(r.long_window)}/{format_duration(r.short_window)} rule of {policy.spec.name} can "
            f"never fire: {r.burn_rate:.4g}x the budget of {policy.spec.target:.4g} is an error ratio of "
            f"{r.threshold:.4g}, and a ratio of bad to all events cannot exceed 1. Lower its budget share or window.",
        )
        for r in never
    )
    rules = tuple(r for r in policy.rules if r.threshold < 1.0)
    return replace(policy, rules=rules, not_proposed=(*policy.not_proposed, *dropped))


def _within_data(
    spec: SLOSpec, rules: tuple[BurnRateRule, ...], data_interval: pd.Timedelta | None
) -> tuple[tuple[BurnRateRule, ...], tuple[NotProposed, ...]]:
    """The rules whose windows hold at least one interval of the data, and the others with why."""
    if data_interval is None:
        return rules, ()
    keep = tuple(r for r in rules if r.short_window >= data_interval)
    step = per_words(data_interval)
    dropped = tuple(
        NotProposed(
            spec.name,
            r.long_window,
            r.short_window,
            f"the {format_duration(r.long_window)}/{format_duration(r.short_window)} rule of {spec.name} is not "
            f"proposed: its {format_duration(r.short_window)} window is shorter than the data's {step} interval, so "
            "it would hold less than one sample.",
        )
        for r in rules
        if r not in keep
    )
    return keep, dropped


def _coarse_data(spec: SLOSpec, dropped: tuple[NotProposed, ...], data_interval: pd.Timedelta | None) -> _Findings:
    """Rules left out because the data is coarser than their windows: say which, and what would help."""
    if not dropped or data_interval is None:
        return _Findings()
    windows = ", ".join(f"{format_duration(d.long_window)}/{format_duration(d.short_window)}" for d in dropped)
    step = every_words(data_interval)
    fix = (
        "emit request counters and a latency histogram (the instrumentation plan) or export the series at a finer step"
        if spec.sli == "timeslice"
        else "aggregate the telemetry at a finer interval"
    )
    question = OpenQuestion(
        topic=f"alert_windows_coarse:{spec.name}",
        question=f"The data behind {spec.name} has one value per {step}: should its alerts wait for finer data?",
        assumption=f"The rules over {windows} were not proposed (their short window is under the data's "
        f"{per_words(data_interval)} interval); to alert "
        f"faster, {fix}.",
        section="alerting",
    )
    return _Findings(
        (f"{spec.name}: rules over {windows} not proposed: the data has one value per {step}.",), (question,)
    )


def policy_for(
    spec: SLOSpec,
    config: ServiceConfig,
    *,
    events_per_hour: float | None = None,
    data_interval: pd.Timedelta | None = None,
) -> AlertPolicy:
    """The policy in force for ``spec``: the imported one when the SLO carries one
    (:func:`imported_policy`, exactly as its tool generates it), else the Workbook's
    (:func:`design_policy`, without rules shorter than ``data_interval``)."""
    if spec.alerting is not None:
        return imported_policy(spec, config, events_per_hour=events_per_hour)
    return design_policy(spec, config, events_per_hour=events_per_hour, data_interval=data_interval)


def imported_policy(spec: SLOSpec, config: ServiceConfig, *, events_per_hour: float | None = None) -> AlertPolicy:
    """The rules exactly as the SLO's source tool generates them (``spec.alerting``): its windows,
    burn rates, severities, single or multiwindow, pending time and rounding. Nothing is
    re-derived: a Sloth 28-day spec gets 13.44 over 1h/5m because Sloth's table says so.

    Severities stay the source's even without on-call coverage (the open question still asks)."""
    if spec.alerting is None:
        raise ValueError(f"{spec.name}: no imported alert policy")
    rules = tuple(_imported_rule(spec, w, spec.alerting) for w in spec.alerting.rules)
    findings = (
        _unreachable_rules(spec, rules),
        _no_oncall(config) if any(r.severity == "page" for r in rules) else _Findings(),
        _low_traffic(spec, rules, events_per_hour) if rules else _Findings(),
    )
    warnings = tuple(w for f in findings for w in f.warnings)
    questions = tuple(q for f in findings for q in f.questions)
    return AlertPolicy(spec, rules, warnings, questions, events_per_hour)


def _imported_rule(spec: SLOSpec, w: AlertWindowSpec, policy: AlertPolicySpec) -> BurnRateRule:
    """One imported condition as a rule: budget share = burn rate × W / P (may exceed 1: such a
    rule fires only after more than the period's budget is gone)."""
    if w.long_window > spec.window:
        raise ConfigError(
            f"{spec.origin or spec.name}: alert window {format_duration(w.long_window)} is longer than the SLO "
            f"period {format_duration(spec.window)}. fix: shorten the window or lengthen the period"
        )
    return BurnRateRule(
        slo=spec.name,
        journey=spec.journey,
        severity=w.severity,
        speed="fast" if w.severity == "page" else "slow",
        long_window=w.long_window,
        short_window=w.short_window if w.short_window is not None else w.long_window,
        burn_rate=w.burn_rate,
        budget_share=w.burn_rate * (w.long_window / spec.window),
        threshold=w.burn_rate * spec.error_budget,
        pending=w.pending,
        source=policy.source,
        source_alert=w.alert,
        sli_decimals=policy.sli_decimals,
        burn_rate_decimals=policy.burn_rate_decimals,
    )


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
        assumption="Left out of the designed policy and of every export (an imported policy is replayed as its tool "
        "generates it, but these rules are not exported).",
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


def _low_traffic(
    spec: SLOSpec,
    rules: tuple[BurnRateRule, ...],
    events_per_hour: float | None,
    data_interval: pd.Timedelta | None = None,
) -> _Findings:
    """No traffic, or so little that one bad event in an hour spends more than the fastest rule's
    budget share (Workbook ch. 5, "Low-traffic services"). A series is not traffic: there one bad
    sample is a fixed share of the budget, set by the sample interval, and probes do not help."""
    if events_per_hour is None:
        return _Findings()
    if events_per_hour <= 0:
        return _Findings((f"{spec.name}: no traffic observed; burn-rate alerts cannot be evaluated.",))
    fastest = min(rules, key=lambda r: r.long_window)
    hours = spec.window.total_seconds() / 3600.0
    one_bad = 1.0 / (events_per_hour * hours * spec.error_budget)
    if one_bad <= fastest.budget_share:
        return _Findings()
    if spec.sli == "timeslice":
        return _coarse_series(spec, fastest, one_bad, data_interval)
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


def _coarse_series(
    spec: SLOSpec, fastest: BurnRateRule, one_bad: float, data_interval: pd.Timedelta | None
) -> _Findings:
    """A series SLO where one bad sample spends more than the fastest rule's share."""
    every = f"one sample per {every_words(data_interval)}" if data_interval is not None else "its samples"
    warning = (
        f"{spec.name}: the series has {every}: one bad sample spends {one_bad:.1%} of the budget, more than the "
        f"fastest alert's {fastest.budget_share:.0%}, so that alert fires on a single bad sample. Request counters "
        "and a latency histogram (the instrumentation plan) give alerts a finer measure."
    )
    question = OpenQuestion(
        topic="coarse_series",
        question=f"Should {spec.name} alert on a single bad sample, or wait for request telemetry?",
        assumption=f"The rules are kept as designed; one bad sample ({one_bad:.1%} of the budget) can fire the "
        "fast alert.",
        section="alerting",
    )
    return _Findings((warning,), (question,))


def explain_policy(policy: AlertPolicy, error_ratio: float = 1.0) -> Explanation:
    """:func:`srekit.analysis.explain.explain` for the rules of ``policy`` (pending times and
    slo-generator's rounding are not part of the constant-ratio maths)."""
    rules = tuple((r.long_window, r.short_window, r.burn_rate, r.severity) for r in policy.rules)
    return explain(policy.spec.target, policy.spec.window, error_ratio, rules=rules)
