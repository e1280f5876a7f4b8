"""Prometheus recording and alerting rules for the burn-rate policy, and a promtool unit-test file
that replays a quiet period and then an outage (writing rules, tests, runbooks and OpenSLO into one
folder is :mod:`srekit.exports.bundle`).

Queries follow the Prometheus docs ("Recording rules", "Unit testing for rules") and the SRE
Workbook ch. 5: an error ratio per window is ``sum(rate(errors[w])) / sum(rate(total[w]))``
(request-weighted); a latency SLI's bad events are ``_count − _bucket{le="T"}``. The period
ratio is request-weighted too (``sum_over_time`` of recorded bad and total rates), where Sloth
averages 5-minute ratios (``tests/test_export_prometheus.py`` compares windows and factors with
Sloth's golden output).
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from typing import Any

import pandas as pd
import yaml

from srekit.analysis.alerting.policy import AlertPolicy, BurnRateRule
from srekit.analysis.alerting.runbooks import runbook_file
from srekit.analysis.explain import explain_rule, human_duration, percent
from srekit.core.spec import SLOSpec
from srekit.core.timeutil import format_duration
from srekit.inputs.config import PrometheusConfig, ServiceConfig
from srekit.inputs.promql import exportable, le_text, quote, sli_queries
from srekit.inputs.slo_import.promql import Matcher, normalise, sli_from_queries

RULES_FILE = "rules.yml"
TESTS_FILE = "rules_test.yml"
BASE_WINDOW = "5m"  # rate window of the recorded bad/total rates that feed the period ratio
QUIET_MINUTES = 60  # promtool tests: an hour of clean traffic before the outage
RATE_PER_MINUTE = 100  # promtool tests: requests per minute
#: A 0/1 gauge a team's change system exposes during planned maintenance (labels
#: ``srekit_service`` and, for one journey only, ``srekit_journey``); the alerts stay silent while it is 1.
MAINTENANCE_METRIC = "srekit_maintenance"


def _num(x: float) -> str:
    return f"{x:.10g}"


def slo_labels(spec: SLOSpec, config: ServiceConfig) -> dict[str, str]:
    """Labels every recorded series of the SLO carries (and so every alert)."""
    labels = {"srekit_service": config.service, "srekit_slo": spec.name, "srekit_journey": spec.journey}
    labels.update({str(k): str(v) for k, v in config.alerting.labels.items()})
    return labels


def ratio_record(window: str) -> str:
    return f"slo:sli_error:ratio_rate{window}"


def _sel(spec: SLOSpec, service: str | None = None) -> str:
    """Selector of an SLO's recorded series: its service too, so two services' rules loaded in
    one Prometheus never read (and alert on) each other's series."""
    svc = "" if service is None else f'srekit_service="{quote(service)}",'
    return f'{{{svc}srekit_slo="{quote(spec.name)}"}}'


def rule_condition(rule: BurnRateRule, spec: SLOSpec, service: str | None = None) -> str:
    """``long > f·b and short > f·b`` on the recorded ratios (Workbook ch. 5, approach 6); a
    single-window rule has the long window only. slo-generator's steps compare the rounded burn
    rate: ``round((1 − round(1 − ratio, 1e-6)) / b, 0.1) > f`` (Prometheus rounds halves up,
    Python's ``round`` to even: they differ only on exact ties)."""
    lw, sw = format_duration(rule.long_window), format_duration(rule.short_window)
    sel = _sel(spec, service)
    if rule.burn_rate_decimals is not None or rule.sli_decimals is not None:
        ratio = f"{ratio_record(lw)}{sel}"
        if rule.sli_decimals is not None:
            ratio = f"(1 - round(1 - {ratio}, {_num(10.0**-rule.sli_decimals)}))"
        burn = f"{ratio} / {_num(spec.error_budget)}"
        if rule.burn_rate_decimals is not None:
            burn = f"round({burn}, {_num(10.0**-rule.burn_rate_decimals)})"
        return f"(\n  {burn} > {_num(rule.burn_rate)}\n)"
    thr = f"({_num(rule.burn_rate)} * {_num(spec.error_budget)})"
    parts = [f"{ratio_record(lw)}{sel} > {thr}"] + ([] if rule.single_window else [f"{ratio_record(sw)}{sel} > {thr}"])
    if rule.min_bad_events:
        parts.append(f"{count_record('errors', lw)}{sel} >= {rule.min_bad_events}")
    if rule.min_events:
        parts.append(f"{count_record('requests', lw)}{sel} >= {rule.min_events}")
    return "(\n  " + "\n  and\n  ".join(parts) + "\n)"


def count_record(what: str, window: str) -> str:
    """The recorded count of bad events (``errors``) or of all events (``requests``) over a
    window, for the low-traffic guards of a rule (``min_bad_events``, ``min_events``)."""
    return f"slo:sli_{what}:count{window}"


def template_text(text: str) -> str:
    """Text for a Prometheus alert annotation, which Prometheus expands as a Go template when the
    alert fires: every ``{{`` (the only thing that starts a template action) is written as the
    action ``{{"{{"}}``, so a name like ``pay{{ .Value }}`` shows as written instead of being
    run or breaking ``promtool check rules``."""
    return text.replace("{{", '{{"{{"}}')


def alert_annotations(
    policy: AlertPolicy, alert: str, severity: str, rules: Sequence[BurnRateRule], config: ServiceConfig
) -> dict[str, str]:
    """The annotations of one alert as they read when it fires (the rules file writes them with
    :func:`template_text`; the promtool tests expect these)."""
    spec = policy.spec
    fastest = min(rules, key=lambda r: r.long_window)
    windows = ", ".join(f"{_num(r.burn_rate)}x over {format_duration(r.long_window)}" for r in rules)
    return {
        "summary": f"{spec.name}: error budget burning too fast ({severity})",
        "description": (
            f"The {spec.sli} SLO {spec.name} ({percent(spec.target)} over {format_duration(spec.window)}) of journey "
            f"{spec.journey} is burning its error budget at {windows}. At {_num(fastest.burn_rate)}x the whole "
            f"budget is gone in {human_duration(spec.window / fastest.burn_rate)}."
        ),
        "runbook_url": f"{config.alerting.runbook_base_url}{runbook_file(alert)}",
    }


def prometheus_rules(policies: Sequence[AlertPolicy], config: ServiceConfig) -> dict[str, Any]:
    """The rules file as a mapping (``groups:``): per SLO a recording group (error ratio per
    window, recorded bad/total rates, the request-weighted period ratio, objective) and an
    alerting group (one alert per speed: fast → page, slow → ticket)."""
    groups = [
        group
        for policy in policies
        if exportable(policy.spec)
        for group in (
            {"name": f"srekit-{policy.spec.name}-sli", "rules": recording_rules(policy, config)},
            {"name": f"srekit-{policy.spec.name}-alerts", "rules": alerting_rules(policy, config)},
        )
    ]
    return {"groups": groups}


def recording_rules(policy: AlertPolicy, config: ServiceConfig) -> list[dict[str, Any]]:
    """The error ratio over every rule window, the bad and total rates, the period ratio, the
    objective and the error budget of one SLO (each record with its own copy of the labels)."""
    spec, prom = policy.spec, config.prometheus
    labels = slo_labels(spec, config)
    windows = sorted({w for r in policy.rules for w in (r.long_window, r.short_window)})
    ratios = [(format_duration(w), _queries(spec, prom, format_duration(w))) for w in windows]
    bad, total = _queries(spec, prom, BASE_WINDOW)
    period = format_duration(spec.window)
    sel = _sel(spec, config.service)
    period_ratio = (
        f"sum_over_time(slo:sli_errors:rate{BASE_WINDOW}{sel}[{period}])\n/\n"
        f"sum_over_time(slo:sli_requests:rate{BASE_WINDOW}{sel}[{period}])"
    )
    records = [
        *((ratio_record(text), f"{b}\n/\n{t}") for text, (b, t) in ratios),
        (f"slo:sli_errors:rate{BASE_WINDOW}", bad),
        (f"slo:sli_requests:rate{BASE_WINDOW}", total),
        # the period ratio, unless an alert window already records it (same name and labels:
        # a duplicate rule; its rate over the whole period is request-weighted as well)
        *(() if spec.window in windows else ((ratio_record(period), period_ratio),)),
        *_count_records(policy, prom),
        ("slo:objective:ratio", f"vector({_num(spec.target)})"),
        ("slo:error_budget:ratio", f"vector({_num(spec.error_budget)})"),
    ]
    return [{"record": record, "expr": expr, "labels": dict(labels)} for record, expr in records]


def _count_records(policy: AlertPolicy, prom: PrometheusConfig) -> list[tuple[str, str]]:
    """Bad and total event counts over the long windows of rules with low-traffic guards: the
    window's rate times its length in seconds (what ``increase()`` gives)."""
    out: dict[str, str] = {}
    for r in policy.rules:
        w = format_duration(r.long_window)
        bad, total = _queries(policy.spec, prom, w)
        secs = _num(r.long_window.total_seconds())
        if r.min_bad_events:
            out[count_record("errors", w)] = f"(\n{bad}\n) * {secs}"
        if r.min_events:
            out[count_record("requests", w)] = f"(\n{total}\n) * {secs}"
    return list(out.items())


def _queries(spec: SLOSpec, prom: PrometheusConfig, window: str) -> tuple[str, str]:
    """The SLI's bad and total rates: the imported spec's own PromQL, else built from ``prometheus:``."""
    return spec.queries.render(window) if spec.queries is not None else sli_queries(spec, prom, window)


def maintenance_guard(spec: SLOSpec, service: str) -> str:
    """The clause that silences an SLO's alerts during planned maintenance: ``unless`` a
    :data:`MAINTENANCE_METRIC` series of the service is above 0, either without a journey label
    (the whole service) or with the SLO's journey (docs/alerting.md, "Maintenance windows")."""
    svc = f'srekit_service="{quote(service)}"'
    whole = f'{MAINTENANCE_METRIC}{{{svc},srekit_journey=""}} > 0'
    journey = f'{MAINTENANCE_METRIC}{{{svc},srekit_journey="{quote(spec.journey)}"}} > 0'
    return f"unless on()\n(\n  {whole}\n  or\n  {journey}\n)"


def alerting_rules(policy: AlertPolicy, config: ServiceConfig) -> list[dict[str, Any]]:
    """One alert per speed of one SLO: its rules' conditions joined by ``or`` (with ``for:``
    when the imported rules wait; rules with different waits are separate alerts), silenced
    while the service or the journey is in maintenance (:func:`maintenance_guard`)."""
    return [
        {
            "alert": name,
            "expr": "(\n"
            + "\nor\n".join(rule_condition(r, policy.spec, config.service) for r in rules)
            + "\n)\n"
            + maintenance_guard(policy.spec, config.service),
            **({"for": format_duration(rules[0].pending)} if rules[0].pending > pd.Timedelta(0) else {}),
            "labels": {"severity": severity, "srekit_alert": "burn_rate"},
            "annotations": {
                k: template_text(v) for k, v in alert_annotations(policy, name, severity, rules, config).items()
            },
        }
        for name, severity, rules in policy.alerts()
    ]


# ----------------------------------------------------------------------------- promtool tests

_EQ_MATCHER = re.compile(r'\s*([A-Za-z_][A-Za-z0-9_]*)\s*=\s*"([^"\\]*)"\s*')


def selector_labels(selector: str) -> dict[str, str] | None:
    """Equality matchers of the configured selector as labels; ``None`` when it uses other
    matcher types (then no synthetic series can be built for it)."""
    text = selector.strip().strip(",")
    if not text:
        return {}
    out = {}
    for part in text.split(","):
        m = _EQ_MATCHER.fullmatch(part)
        if not m:
            return None
        out[m.group(1)] = m.group(2)
    return out


def _error_code(prom: PrometheusConfig) -> str | None:
    """A status value the error regex matches (Prometheus regexes are fully anchored)."""
    for candidate in ("500", "503", "5xx", "error", "failure", "true", "1"):
        if re.fullmatch(prom.error_status_regex, candidate) and not re.fullmatch(prom.error_status_regex, "200"):
            return candidate
    return None


def _series_name(metric: str, labels: dict[str, str]) -> str:
    body = ",".join(f'{k}="{quote(v)}"' for k, v in labels.items())
    return f"{metric}{{{body}}}"


def promtool_tests(
    policies: Sequence[AlertPolicy], config: ServiceConfig, rules_file: str = RULES_FILE
) -> tuple[dict[str, Any], list[str]]:
    """A promtool unit-test document and the reasons SLOs were left out.

    Per SLO: one hour of clean traffic (100 requests/min, no errors), then a full outage.
    ``alert_rule_test`` checks that nothing fires after 30 min (quiet) and that the fast alert
    fires once the outage has lasted its time to fire (``explain_rule``) plus a margin. A second
    case replays the same outage while the journey is in maintenance (:data:`MAINTENANCE_METRIC`
    at 1): no alert fires.
    """
    cases = [_promtool_test(policy, config) for policy in policies]
    tests = [t for c in cases if not isinstance(c, str) for t in (c, _during_maintenance(c, policy_of(c, policies)))]
    skipped = [c for c in cases if isinstance(c, str)]
    return {"rule_files": [rules_file], "evaluation_interval": "1m", "tests": tests}, skipped


def _promtool_test(policy: AlertPolicy, config: ServiceConfig) -> dict[str, Any] | str:
    """The test case of one SLO, or the reason it cannot have one."""
    spec, prom = policy.spec, config.prometheus
    base = selector_labels(prom.selector)
    if not exportable(spec):
        return f"{spec.name}: timeslice SLIs are not exported to Prometheus"
    if base is None and spec.queries is None:
        return f"{spec.name}: selector {prom.selector!r} is not a list of equality matchers"
    alerts = policy.alerts()
    if not alerts:
        return f"{spec.name}: alerting is disabled in its {policy.source} spec (no alert to test)"
    fast_name, fast_severity, fast_rules = next((a for a in alerts if a[2][0].speed == "fast"), alerts[0])
    fire_min = _minutes_to_fire(spec, fast_rules)
    if fire_min is None:
        return f"{spec.name}: even a full outage cannot exceed the fast alert's threshold"
    series: list[dict[str, str]] | str | None
    if spec.queries is not None:
        series = imported_series(spec, fire_min + 5)
    else:
        assert base is not None
        series = _outage_series(spec, prom, {**base, prom.journey_label: spec.journey}, fire_min + 5)
    if isinstance(series, str) or series is None:
        return f"{spec.name}: {series or f'no status value matches {prom.error_status_regex!r}'}"
    exp_labels = {**slo_labels(spec, config), "severity": fast_severity, "srekit_alert": "burn_rate"}
    quiet_checks = [{"eval_time": "30m", "alertname": n, "exp_alerts": []} for n, _, _ in alerts]
    outage_check = {
        "eval_time": f"{QUIET_MINUTES + fire_min}m",
        "alertname": fast_name,
        "exp_alerts": [
            {
                "exp_labels": exp_labels,
                "exp_annotations": alert_annotations(policy, fast_name, fast_severity, fast_rules, config),
            }
        ],
    }
    return {
        "name": f"{spec.name}: quiet hour, then a full outage",
        "interval": "1m",
        "input_series": series,
        "alert_rule_test": [*quiet_checks, outage_check],
    }


def policy_of(case: dict[str, Any], policies: Sequence[AlertPolicy]) -> AlertPolicy:
    """The policy a test case was written for (its name starts with the SLO's)."""
    return next(p for p in policies if case["name"] == f"{p.spec.name}: quiet hour, then a full outage")


def _during_maintenance(case: dict[str, Any], policy: AlertPolicy) -> dict[str, Any]:
    """``case`` with the journey in maintenance from the outage on: every alert stays silent."""
    labels = {"srekit_service": policy_service(case), "srekit_journey": policy.spec.journey}
    outage = case["alert_rule_test"][-1]
    minutes = int(outage["eval_time"].removesuffix("m"))
    flag = {"series": _series_name(MAINTENANCE_METRIC, labels), "values": f"0x{QUIET_MINUTES - 1} 1x{minutes}"}
    return {
        "name": f"{policy.spec.name}: the same outage during maintenance ({MAINTENANCE_METRIC} = 1), no alert",
        "interval": case["interval"],
        "input_series": [*case["input_series"], flag],
        "alert_rule_test": [
            *case["alert_rule_test"][:-1],
            *({"eval_time": outage["eval_time"], "alertname": n, "exp_alerts": []} for n, _, _ in policy.alerts()),
        ],
    }


def policy_service(case: dict[str, Any]) -> str:
    """The service label the case's expected alert carries."""
    return str(case["alert_rule_test"][-1]["exp_alerts"][0]["exp_labels"]["srekit_service"])


def _minutes_to_fire(spec: SLOSpec, rules: Sequence[BurnRateRule]) -> int | None:
    """Whole minutes of a full outage until the first of ``rules`` fires (explained time to fire),
    plus a 2-minute margin; ``None`` when none can fire."""
    times = [
        t
        for t in (
            explain_rule(
                target=spec.target,
                period=spec.window,
                long_window=r.long_window,
                short_window=r.short_window,
                burn_rate=r.burn_rate,
            ).fires_after
            for r in rules
        )
        if t is not None
    ]
    pending = max(r.pending for r in rules).total_seconds() / 60.0
    return math.ceil(min(times).total_seconds() / 60.0 + pending) + 2 if times else None


_CANDIDATES = ("200", "500", "503", "429", "GET", "POST", "x", "0", "1", "true", "false", "error", "ok")


def _satisfying(m: Matcher, exclude: Sequence[Matcher] = ()) -> str | None:
    """A label value ``m`` selects that none of ``exclude`` selects (Prometheus regexes are anchored)."""

    def hit(x: Matcher, v: str) -> bool:
        ok = re.fullmatch(x.value, v) is not None if x.op in ("=~", "!~") else x.value == v
        return ok if x.op in ("=", "=~") else not ok

    pool = (m.value,) if m.op == "=" else _CANDIDATES
    return next((v for v in pool if hit(m, v) and not any(hit(e, v) for e in exclude)), None)


def _negated(m: Matcher) -> Matcher:
    return Matcher(m.label, {"=": "!=", "!=": "=", "=~": "!~", "!~": "=~"}[m.op], m.value)


def imported_series(spec: SLOSpec, n_out: int) -> list[dict[str, str]] | str:
    """Synthetic input series for an SLO with imported queries (read back as counters): a quiet
    hour, then a full outage; a reason when its queries or matchers leave no such series."""
    assert spec.queries is not None
    sli = sli_from_queries(normalise(spec.queries.errors), normalise(spec.queries.total))
    if isinstance(sli, str):
        return f"no synthetic series for its imported queries ({sli})"
    labels = {m.label: _satisfying(m) for m in sli.total.matchers}
    chosen = {m.label: _satisfying(m) for m in sli.error or sli.good}
    other = {m.label: _satisfying(_negated(m)) for m in sli.error or sli.good}
    bad, good = (chosen, other) if sli.error else (other, chosen)
    missing = [k for k, v in {**labels, **bad, **good}.items() if v is None]
    if missing:
        return f"no label value satisfies the matchers on {missing}"
    quiet, rate = QUIET_MINUTES, RATE_PER_MINUTE
    if sli.kind == "availability":
        ok = _series_name(sli.total.metric, {**labels, **good})  # type: ignore[dict-item]
        err = _series_name(sli.total.metric, {**labels, **bad})  # type: ignore[dict-item]
        return [
            {"series": ok, "values": f"0+{rate}x{quiet} {rate * quiet}+0x{n_out}"},
            {"series": err, "values": f"0+0x{quiet} {rate}+{rate}x{n_out - 1}"},
        ]
    queries = sli.queries()
    bucket = re.search(r'le="([^"]+)"', queries.errors)
    base = sli.total.metric.removesuffix("_count")
    return [
        {
            "series": _series_name(f"{base}_bucket", {**labels, "le": bucket.group(1) if bucket else "+Inf"}),  # type: ignore[dict-item]
            "values": f"0+{rate}x{quiet} {rate * quiet}+0x{n_out}",
        },
        {"series": _series_name(sli.total.metric, labels), "values": f"0+{rate}x{quiet + n_out}"},  # type: ignore[arg-type]
    ]


def _outage_series(
    spec: SLOSpec, prom: PrometheusConfig, labels: dict[str, str], n_out: int
) -> list[dict[str, str]] | None:
    """The synthetic counters of a quiet hour at :data:`RATE_PER_MINUTE`, then ``n_out`` minutes
    of full outage; ``None`` for an availability SLI when no status value matches the error regex."""
    quiet, rate = QUIET_MINUTES, RATE_PER_MINUTE
    if spec.sli == "availability":
        code = _error_code(prom)
        if code is None:
            return None
        ok = _series_name(prom.request_counter, {**labels, prom.status_label: "200"})
        err = _series_name(prom.request_counter, {**labels, prom.status_label: code})
        return [
            {"series": ok, "values": f"0+{rate}x{quiet} {rate * quiet}+0x{n_out}"},
            {"series": err, "values": f"0+0x{quiet} {rate}+{rate}x{n_out - 1}"},
        ]
    assert spec.threshold_ms is not None
    h = prom.latency_histogram
    le = le_text(spec.threshold_ms, prom.latency_unit)
    return [
        {
            "series": _series_name(f"{h}_bucket", {**labels, "le": le}),
            "values": f"0+{rate}x{quiet} {rate * quiet}+0x{n_out}",
        },
        {"series": _series_name(f"{h}_count", labels), "values": f"0+{rate}x{quiet + n_out}"},
    ]


#: Line breaks of YAML 1.1 besides ``\n`` and ``\r``: PyYAML writes a string holding one as a plain
#: or single-quoted scalar, which a reader folds (NEL comes back as a space), unless it is
#: double-quoted, where they are escaped (``\N``, ``\L``, ``\P``).
_OTHER_BREAKS = frozenset("\x85\u2028\u2029")


class _SafeDumper(yaml.SafeDumper):
    """PyYAML's safe dumper, text holding a YAML 1.1 line break other than ``\n`` double-quoted
    so that it reads back as written."""

    def represent_str(self, data: str) -> yaml.ScalarNode:
        if not _OTHER_BREAKS.isdisjoint(data):
            return self.represent_scalar("tag:yaml.org,2002:str", data, style='"')
        return super().represent_str(data)


class _BlockDumper(_SafeDumper):
    """:class:`_SafeDumper` with multi-line text (expressions) as block strings."""

    def represent_str(self, data: str) -> yaml.ScalarNode:
        if "\n" in data and _OTHER_BREAKS.isdisjoint(data):
            return self.represent_scalar("tag:yaml.org,2002:str", data, style="|")
        return super().represent_str(data)


_SafeDumper.add_representer(str, _SafeDumper.represent_str)
_BlockDumper.add_representer(str, _BlockDumper.represent_str)


def dump_yaml(doc: Any) -> str:
    """YAML of ``doc``, keys in insertion order, multi-line expressions as block strings."""
    return yaml.dump(doc, Dumper=_BlockDumper, sort_keys=False, allow_unicode=True, width=1000)


def dump_yaml_all(docs: Sequence[Any]) -> str:
    """``yaml.safe_dump_all`` of ``docs`` (keys in insertion order), reading back as written."""
    return yaml.dump_all(docs, Dumper=_SafeDumper, sort_keys=False, allow_unicode=True, width=1000)


def rules_yaml(policies: Sequence[AlertPolicy], config: ServiceConfig) -> str:
    """The Prometheus rules file text (as :func:`export_all` writes it, without the header)."""
    return dump_yaml(prometheus_rules(policies, config))


def rules_preview(policies: Sequence[AlertPolicy], config: ServiceConfig) -> str | None:
    """The rules of the first SLO that can be exported (what a page shows as an example), or
    ``None`` when none can (timeslice SLOs over a gauge have no Prometheus rules)."""
    first = next((p for p in policies if exportable(p.spec) and p.rules), None)
    return None if first is None else rules_yaml([first], config)
