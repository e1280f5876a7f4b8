"""A Markdown runbook per burn-rate alert: what it means, who is hurt, what to check first
(with the queries), how to mitigate (a safe rollback first) and when to escalate.

Structure after the SRE book ch. 11/12 ("Being On-Call", "Effective Troubleshooting") and the
Workbook ch. 5: a page means the budget is burning fast enough to need a human now; a ticket
means it needs attention within days.
"""

from __future__ import annotations

from collections.abc import Sequence

from srekit.analysis.alerting.policy import AlertPolicy, BurnRateRule
from srekit.analysis.alerting.runbooks import runbook_file
from srekit.analysis.explain import human_duration, percent
from srekit.core.escape import md_code, md_fence, md_text
from srekit.core.timeutil import format_duration
from srekit.exports.prometheus import ratio_record
from srekit.inputs.config import ServiceConfig
from srekit.inputs.promql import base_matchers, exportable, quote, sli_queries


def _impact(policy: AlertPolicy) -> str:
    spec = policy.spec
    if spec.sli == "availability":
        return (
            f"Users of **{md_text(spec.journey)}** are getting errors: more than the {percent(spec.error_budget)} "
            "of failed requests the SLO allows."
        )
    if spec.sli == "latency":
        return (
            f"Users of **{md_text(spec.journey)}** are waiting: more than {percent(spec.error_budget)} "
            f"of requests take longer than {spec.threshold_ms:g} ms."
        )
    return (
        f"The measured statistic of **{md_text(spec.journey)}** is above {spec.threshold_ms:g} "
        "in more intervals than the SLO allows."
    )


def _queries(policy: AlertPolicy, rules: Sequence[BurnRateRule], config: ServiceConfig) -> list[tuple[str, str]]:
    spec = policy.spec
    prom = config.prometheus
    out: list[tuple[str, str]] = []
    sel = f'{{srekit_service="{quote(config.service)}",srekit_slo="{quote(spec.name)}"}}'
    if not exportable(spec):
        return [
            (
                "The series behind this SLI (not in Prometheus; see the timeslice SLI in the report)",
                f"# journey {spec.journey}: share of intervals with the statistic above {spec.threshold_ms:g}",
            )
        ]
    for r in rules:
        lw, sw = format_duration(r.long_window), format_duration(r.short_window)
        out.append(
            (
                f"Bad-event ratio over {lw} and {sw} (alert threshold {r.threshold:.4g})",
                f"{ratio_record(lw)}{sel}\n{ratio_record(sw)}{sel}",
            )
        )
    bad, total = sli_queries(spec, prom, "5m")
    out.append(("Bad and total request rate now (per second)", f"{bad}\n{total}"))
    base = base_matchers(prom, spec.journey)
    if spec.sli == "availability":
        out.append(
            ("Which status codes fail", f"sum by ({prom.status_label}) (rate({prom.request_counter}{{{base}}}[5m]))")
        )
    else:
        out.append(
            (
                "p99 latency now (histogram unit)",
                f"histogram_quantile(0.99, sum by (le) (rate({prom.latency_histogram}_bucket{{{base}}}[5m])))",
            )
        )
    by_instance = bad.replace("sum(rate(", "sum by (instance) (rate(")
    out.append(("Is it one instance or all of them? (bad events per second by instance)", by_instance))
    return out


def render_runbook(
    policy: AlertPolicy, alert: str, severity: str, rules: Sequence[BurnRateRule], config: ServiceConfig
) -> str:
    """The Markdown runbook of one alert."""
    spec = policy.spec
    lines = [
        f"# {md_text(alert)}",
        "",
        f"Service {md_code(config.service)} · SLO {md_code(spec.name)} · journey {md_code(spec.journey)} "
        f"· severity **{md_text(severity)}**",
        "",
        *_what_it_means(policy, severity, rules),
        "## User impact",
        "",
        _impact(policy),
        "",
        *_first_checks(policy, rules, config),
        *MITIGATION,
        *_escalation(severity, config.oncall.team or config.owner_for("alerting")),
    ]
    return "\n".join(lines)


def _what_it_means(policy: AlertPolicy, severity: str, rules: Sequence[BurnRateRule]) -> list[str]:
    """The SLO, the alert's windows and burn rates, and how soon the budget is gone at this rate."""
    spec = policy.spec
    fastest = min(rules, key=lambda r: r.long_window)
    exhaust = human_duration(spec.window / fastest.burn_rate)
    when = (
        "Page: act now, within minutes."
        if severity == "page"
        else "Ticket: handle within the next working day; it does not wake anyone."
    )
    windows = [
        f"| {format_duration(r.long_window)} | {format_duration(r.short_window)} "
        f"| {r.burn_rate:.4g}x | {r.budget_share:.0%} |"
        for r in rules
    ]
    return [
        "## What it means",
        "",
        f"The {spec.sli} SLO ({percent(spec.target)} of events good over {format_duration(spec.window)}) "
        "is burning its error budget faster than it can last. The alert fires when both a long and a short "
        "window exceed the burn rate, so it is firing only while the problem is still happening:",
        "",
        "| long window | short window | burn rate | budget spent when it fires |",
        "|---|---|---|---|",
        *windows,
        "",
        f"At {fastest.burn_rate:.4g}x the whole budget for the period is gone in about {exhaust}. {when}",
        "",
    ]


def _first_checks(policy: AlertPolicy, rules: Sequence[BurnRateRule], config: ServiceConfig) -> list[str]:
    """Confirm the burn with the queries, look for a change, find where the bad events come from."""
    fastest = min(rules, key=lambda r: r.long_window)
    queries = [
        line
        for title, query in _queries(policy, rules, config)
        for line in (f"   - {title}:", "", *md_fence(query, "promql", indent="     "), "")
    ]
    return [
        "## First checks",
        "",
        "1. Confirm the burn is real and still happening (both windows above the threshold):",
        "",
        *queries,
        "2. Look for a change: a deploy, a config push, a feature flag or a dependency incident in the last "
        f"{format_duration(fastest.long_window)} (deploy log, status pages of providers).",
        "3. Check whether one instance, zone or client causes most of the bad events (queries above, by instance).",
        "",
    ]


#: Mitigation steps, the same for every alert: a safe rollback first.
MITIGATION = (
    "## Mitigation",
    "",
    "1. **Roll back the most recent change** if the burn started after it. A rollback is the safe default: "
    "redeploy the last version that met the SLO, one canary first, watch the short-window ratio for five "
    "minutes, then the rest. Do not roll forward with a fix under pressure.",
    "2. If one instance or zone is bad, drain it from the load balancer.",
    "3. If a dependency is failing, turn on the degraded mode or feature flag that avoids it.",
    "4. If load is the cause, scale out or shed non-critical traffic.",
    "5. Record what you did and when in the incident channel; the timeline feeds the postmortem.",
    "",
)


def _escalation(severity: str, team: str) -> list[str]:
    """Who owns the alert and when to escalate (a page to the secondary, a ticket to the reliability review)."""
    return [
        "## Escalation",
        "",
        f"- Owner: **{md_text(team)}**.",
        (
            "- If the short-window ratio has not dropped 30 minutes after mitigation, declare an incident and page "
            "the secondary on-call."
            if severity == "page"
            else "- If the burn continues for a day or the budget drops below 25 %, raise it in the team's reliability "
            "review and consider a feature freeze under the error budget policy."
        ),
        "- After resolution: write a postmortem if more than 20 % of the period's budget was spent.",
        "",
    ]


def render_runbooks(policies: Sequence[AlertPolicy], config: ServiceConfig) -> dict[str, str]:
    """File name → Markdown for every alert of every policy."""
    return {
        runbook_file(name): render_runbook(p, name, severity, rules, config)
        for p in policies
        for name, severity, rules in p.alerts()
    }
