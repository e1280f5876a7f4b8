"""Grafana dashboards for the exported SLOs, built on the exported recording rules only (never
the raw metrics) with the typed builders of ``grafana-foundation-sdk``.

One dashboard per service (:func:`service_dashboard`): a table of the SLOs, then one row per
journey (repeated over the ``journey`` variable) with the SLI against its objective, the error
budget left over the SLO window, the burn rates with the alert thresholds drawn as lines, and the
alerts' firing state. A fleet overview (:func:`overview_dashboard`) takes several services' SLOs
and builds the cross-service table and budget chart from the same panel functions; srekit has no
fleet configuration yet, so nothing calls it from the command line.

Every query selects on ``srekit_service`` and ``srekit_slo`` like the exported alerts, and on
``srekit_journey=~"$journey"``. The alert panel evaluates each alert's condition with ``bool``
comparisons over the recorded ratios (0 or 1 at every evaluation), so it shows firing history
over backfilled data, where Prometheus's own ``ALERTS`` series does not exist; ``ALERTS`` is
overlaid as annotations. :mod:`srekit.exports.dashboard_check` validates what is emitted.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from grafana_foundation_sdk.builders import common as cb
from grafana_foundation_sdk.builders import dashboard as db
from grafana_foundation_sdk.builders import prometheus as pb
from grafana_foundation_sdk.builders import statetimeline, table, timeseries
from grafana_foundation_sdk.cog.builder import Builder
from grafana_foundation_sdk.cog.encoder import JSONEncoder
from grafana_foundation_sdk.cog.variants import Dataquery
from grafana_foundation_sdk.models import common as cm
from grafana_foundation_sdk.models import dashboard as dm
from grafana_foundation_sdk.models import prometheus as pm

from srekit.analysis.alerting.policy import AlertPolicy
from srekit.analysis.alerting.runbooks import runbook_index
from srekit.core.timeutil import format_duration
from srekit.exports.prometheus import alerting_rules, ratio_record
from srekit.inputs.config import ServiceConfig
from srekit.inputs.promql import exportable, quote

DATASOURCE = dm.DataSourceRef(type_val="prometheus", uid="${datasource}")
JOURNEY = 'srekit_journey=~"$journey"'
#: The ``journey`` variable's "All": any label value, line breaks included (``.`` matches a newline
#: only with the ``s`` flag before Prometheus 3).
ALL_VALUE = "(?s:.*)"
WIDTH = 24


@dataclass(frozen=True, slots=True)
class ServiceSLOs:
    """One service's exportable SLO policies and its configuration (labels, runbook URL)."""

    config: ServiceConfig
    policies: tuple[AlertPolicy, ...]
    scope: str = JOURNEY  # matchers every query adds: the dashboard's variables

    @classmethod
    def of(cls, config: ServiceConfig, policies: Sequence[AlertPolicy]) -> ServiceSLOs:
        return cls(config, tuple(p for p in policies if exportable(p.spec)))

    @property
    def service(self) -> str:
        return self.config.service


def _regex(names: Sequence[str]) -> str:
    """An RE2 alternation matching exactly ``names`` (metacharacters escaped)."""
    return "|".join(re.sub(r"([\\.+*?()|\[\]{}^$])", r"\\\1", n) for n in names)


def _sel(svc: ServiceSLOs, slos: Sequence[str] | None = None) -> str:
    """Matchers of one service's recorded series, optionally of some SLOs only, and of the
    dashboard's variables (``svc.scope``)."""
    parts = [f'srekit_service="{quote(svc.service)}"']
    if slos is not None and len(slos) == 1:
        parts.append(f'srekit_slo="{quote(slos[0])}"')
    elif slos is not None:
        parts.append(f'srekit_slo=~"{quote(_regex(slos))}"')
    return "{" + ",".join([*parts, svc.scope]) + "}"


def _by_period(svc: ServiceSLOs) -> dict[str, list[str]]:
    """SLO names by SLO window (the name of their period ratio record)."""
    out: dict[str, list[str]] = {}
    for p in svc.policies:
        out.setdefault(format_duration(p.spec.window), []).append(p.spec.name)
    return out


def period_sli(svc: ServiceSLOs) -> str:
    """The SLI over each SLO's own window: ``1 − slo:sli_error:ratio_rate<window>``."""
    return " or ".join(f"(1 - {ratio_record(w)}{_sel(svc, names)})" for w, names in _by_period(svc).items())


def budget_left(svc: ServiceSLOs) -> str:
    """Error budget left over each SLO's window: ``1 − ratio over the window / (1 − target)``."""
    return " or ".join(
        f"(1 - {ratio_record(w)}{_sel(svc, names)} / slo:error_budget:ratio{_sel(svc, names)})"
        for w, names in _by_period(svc).items()
    )


def burn_rate(svc: ServiceSLOs, window: str) -> str:
    """Budget-burn multiple over ``window``: its bad ratio divided by the error budget."""
    return f"{ratio_record(window)}{_sel(svc)} / slo:error_budget:ratio{_sel(svc)}"


def alert_state(svc: ServiceSLOs, policy: AlertPolicy, alerts: Sequence[str]) -> str:
    """1 while any of ``alerts`` fires, else 0 (while the SLO has data): the exported alert
    expressions themselves, restricted to the dashboard's scope, counted per SLO (their rules'
    series differ only in their names) and padded with 0 from the SLO's objective series. An alert
    with ``for:`` shows its condition; Prometheus's ALERTS annotation shows when it fired after
    waiting."""
    exprs = [r["expr"] for r in alerting_rules(policy, svc.config) if r["alert"] in alerts]
    objective = f"slo:objective:ratio{_sel(svc, [policy.spec.name])}"
    body = "\n  ".join("\nor\n".join(exprs).split("\n"))
    return (
        f"(\n  count without () (\n  (\n  {body}\n  )\n  and on(srekit_slo) {objective}\n  ) > bool 0\n)"
        f"\nor\n0 * {objective}"
    )


def _windows(svc: ServiceSLOs) -> tuple[str, list[str]]:
    """The SLI window of the charts (the fastest paging rule's long window, else the fastest
    rule's) and every rule's long window, shortest first."""
    rules = [r for p in svc.policies for r in p.rules]
    longs = sorted({r.long_window for r in rules})
    fast = [r.long_window for r in rules if r.speed == "fast"] or longs
    return format_duration(min(fast)), [format_duration(w) for w in longs]


def _target(ref: str, expr: str, legend: str, *, instant: bool = False) -> pb.Dataquery:
    q = pb.Dataquery().ref_id(ref).expr(expr).legend_format(legend).datasource(DATASOURCE)
    q = q.editor_mode(pm.QueryEditorMode.CODE)
    return q.instant().format(pm.PromQueryFormat.TABLE) if instant else q.range()


def _state_mappings(firing_color: str) -> list[dm.ValueMapping]:
    """0 → ok (green), 1 → firing (``firing_color``)."""
    return [
        dm.ValueMap(
            options={
                "0": dm.ValueMappingResult(text="ok", color="green", index=0),
                "1": dm.ValueMappingResult(text="firing", color=firing_color, index=1),
            }
        )
    ]


def _steps(*steps: tuple[float | None, str]) -> db.ThresholdsConfig:
    return (
        db.ThresholdsConfig().mode(dm.ThresholdsMode.ABSOLUTE).steps([dm.Threshold(value=v, color=c) for v, c in steps])
    )


def _legend() -> cb.VizLegendOptions:
    return (
        cb.VizLegendOptions()
        .display_mode(cm.LegendDisplayMode.LIST)
        .placement(cm.LegendPlacement.BOTTOM)
        .show_legend(True)
    )


def _tooltip() -> cb.VizTooltipOptions:
    return cb.VizTooltipOptions().mode(cm.TooltipDisplayMode.MULTI).sort(cm.SortOrder.DESCENDING)


def _prop(prop_id: str, value: object) -> dm.DynamicConfigValue:
    return dm.DynamicConfigValue(id_val=prop_id, value=value)


# ----------------------------------------------------------------------------- panels


def slo_table(services: Sequence[ServiceSLOs]) -> table.Panel:
    """One row per SLO: objective, SLI and error budget left over its window, burn rate over the
    fastest paging window, and whether its fast and slow alerts fire now."""
    fast = {_windows(s)[0] for s in services}
    fast_w = fast.pop() if len(fast) == 1 else "the fastest paging window"
    queries = {
        "A": " or ".join(f"slo:objective:ratio{_sel(s)}" for s in services),
        "B": " or ".join(period_sli(s) for s in services),
        "C": " or ".join(budget_left(s) for s in services),
        "D": " or ".join(f"({burn_rate(s, _windows(s)[0])})" for s in services),
        "E": " or ".join(_alerts_now(s, "fast") for s in services if _alerts_now(s, "fast")),
        "F": " or ".join(_alerts_now(s, "slow") for s in services if _alerts_now(s, "slow")),
    }
    names = {
        "A": "objective",
        "B": "SLI over the SLO window",
        "C": "error budget left",
        "D": f"burn rate over {fast_w}",
        "E": "fast-burn alert",
        "F": "slow-burn alert",
    }
    queries = {k: v for k, v in queries.items() if v}
    panel = (
        table.Panel()
        .title("SLOs")
        .description(
            "Each SLO now: its objective, the SLI and the error budget left over its own window (as the "
            f"objective counts it), the burn rate over {fast_w} (1× spends the budget exactly over the window) and "
            "whether its burn-rate alerts fire."
        )
        .datasource(DATASOURCE)
        .targets([_target(ref, expr, "", instant=True) for ref, expr in queries.items()])
        .with_transformation(_organize({f"Value #{k}": v for k, v in names.items() if k in queries}))
        .with_transformation(dm.DataTransformerConfig(id_val="merge", options={}))
        .show_header(True)
        .cell_height(cm.TableCellHeight.SM)
        .height(8)
        .span(WIDTH)
        .links([_runbook_link(entry) for s in services for entry in runbook_index(s.policies, s.config)])
    )
    for ref in ("A", "B"):
        panel = panel.override_by_name(names[ref], [_prop("unit", "percentunit"), _prop("decimals", 3)])
    panel = panel.override_by_name(names["C"], [_prop("unit", "percentunit"), _prop("decimals", 1)])
    panel = panel.override_by_name(names["D"], [_prop("unit", "suffix:×"), _prop("decimals", 2)])
    for ref, color in (("E", "red"), ("F", "orange")):
        if ref in queries:
            maps = [m.to_json() for m in _state_mappings(color)]
            panel = panel.override_by_name(names[ref], [_prop("mappings", maps)])
    return panel


def _organize(rename: dict[str, str]) -> dm.DataTransformerConfig:
    hidden = {"Time": True, "__name__": True}
    labels = {"srekit_service": "service", "srekit_journey": "journey", "srekit_slo": "SLO"}
    return dm.DataTransformerConfig(
        id_val="organize", options={"excludeByName": hidden, "renameByName": {**labels, **rename}}
    )


def _alerts_now(svc: ServiceSLOs, speed: str) -> str:
    """Per SLO, whether any of its alerts of ``speed`` fires (0 or 1)."""
    states = []
    for p in svc.policies:
        names = [name for name, _, rules in p.alerts() if rules[0].speed == speed]
        if names:
            states.append(f"({alert_state(svc, p, names)})")
    return "\nor\n".join(states)


def _runbook_link(entry: dict[str, str]) -> db.DashboardLink:
    title = f"Runbook: {entry['alert']} ({entry['severity']})"
    return db.DashboardLink(title).type(dm.DashboardLinkType.LINK).url(entry["url"]).target_blank(True)


def sli_panel(svc: ServiceSLOs) -> timeseries.Panel:
    """The SLI over the fastest paging window and over the SLO window, against the objective."""
    fast_w, _ = _windows(svc)
    return (
        timeseries.Panel()
        .legend(_legend())
        .tooltip(_tooltip())
        .title("SLI against the objective")
        .description(
            f"Good share of events over {fast_w} (thin: what users see now) and over each SLO's own window (thick: "
            "what the objective is about), with the objective dashed. Below the dashed line over the window = the "
            "SLO is missed."
        )
        .datasource(DATASOURCE)
        .targets(
            [
                _target("A", f"1 - {ratio_record(fast_w)}{_sel(svc)}", f"{{{{srekit_slo}}}} over {fast_w}"),
                _target("B", period_sli(svc), "{{srekit_slo}} over the SLO window"),
                _target("C", f"slo:objective:ratio{_sel(svc)}", "{{srekit_slo}} objective"),
            ]
        )
        .unit("percentunit")
        .decimals(3)
        .line_width(1)
        .override_by_query("B", [_prop("custom.lineWidth", 3)])
        .override_by_query(
            "C", [_prop("custom.lineStyle", {"fill": "dash", "dash": [10, 10]}), _prop("custom.lineWidth", 2)]
        )
        .height(8)
        .span(WIDTH // 2)
    )


def budget_panel(services: Sequence[ServiceSLOs], legend: str = "{{srekit_slo}}") -> timeseries.Panel:
    """Error budget left over each SLO's window, over time (below 0: the SLO is missed)."""
    return (
        timeseries.Panel()
        .legend(_legend())
        .tooltip(_tooltip())
        .title("Error budget left")
        .description(
            "Share of the error budget of each SLO's window not yet spent: 100 % = no bad events in the last "
            "window, 0 = exactly at the objective, below 0 = the SLO is missed (red line)."
        )
        .datasource(DATASOURCE)
        .targets([_target("A", " or ".join(budget_left(s) for s in services), legend)])
        .unit("percentunit")
        .decimals(1)
        .thresholds(_steps((None, "red"), (0.0, "green")))
        .thresholds_style(cb.GraphThresholdsStyleConfig().mode(cm.GraphTresholdsStyleMode.DASHED))
        .height(8)
        .span(WIDTH // 2)
    )


def burn_panel(svc: ServiceSLOs) -> timeseries.Panel:
    """Burn rate over every alert window, with each rule's firing burn rate as a dashed line."""
    _, longs = _windows(svc)
    rules = [r for p in svc.policies for r in p.rules]
    lines = sorted({(round(r.burn_rate, 4), r.severity) for r in rules})
    described = "; ".join(
        f"{r.severity} at {r.burn_rate:.4g}× over {format_duration(r.long_window)}"
        for r in sorted(
            {(r.long_window, r.severity, r.burn_rate): r for r in rules}.values(), key=lambda r: r.long_window
        )
    )
    return (
        timeseries.Panel()
        .legend(_legend())
        .tooltip(_tooltip())
        .title("Burn rate")
        .description(
            "How many times faster than the SLO allows the error budget burns, over each alert window "
            "(1× spends the whole budget in one window). Dashed lines: the burn rates the rules fire at "
            f"({described}); a rule fires when its long window and its short window (1/12 of it) are both above "
            "its line."
        )
        .datasource(DATASOURCE)
        .targets([_target(chr(65 + i), burn_rate(svc, w), f"{{{{srekit_slo}}}} over {w}") for i, w in enumerate(longs)])
        .unit("suffix:×")
        .decimals(2)
        .thresholds(_steps((None, "green"), *((v, "red" if sev == "page" else "orange") for v, sev in lines)))
        .thresholds_style(cb.GraphThresholdsStyleConfig().mode(cm.GraphTresholdsStyleMode.DASHED))
        .scale_distribution(cb.ScaleDistributionConfig().type(cm.ScaleDistribution.LOG).log(10))
        .axis_soft_min(0.1)
        .height(8)
        .span(WIDTH // 2)
    )


def alerts_panel(svc: ServiceSLOs) -> statetimeline.Panel:
    """Each alert's firing state over time, computed from the recorded ratios (so backfilled
    history shows), with a link to its runbook."""
    targets: list[Builder[Dataquery]] = []
    for ref, severity in (("A", "page"), ("B", "ticket")):
        terms = [
            f'label_replace({alert_state(svc, p, [name])}, "alertname", "{quote(name)}", "", "")'
            for p in svc.policies
            for name, sev, _ in p.alerts()
            if sev == severity
        ]
        if terms:
            targets.append(_target(ref, "\nor\n".join(terms), f"{{{{alertname}}}} ({severity})"))
    panel = (
        statetimeline.Panel()
        .title("Alerts firing")
        .description(
            "When each burn-rate alert fires (red: page, orange: ticket), evaluated from the recorded ratios exactly "
            "as the alert rules are, so it covers backfilled history too; Prometheus's own ALERTS are the "
            "annotations. Click a bar for the alert's runbook."
        )
        .datasource(DATASOURCE)
        .targets(targets)
        .mappings(_state_mappings("red"))
        .override_by_query("B", [_prop("mappings", [m.to_json() for m in _state_mappings("orange")])])
        .data_links(
            [
                db.DashboardLink("Runbook of ${__field.labels.alertname}")
                .url(f"{svc.config.alerting.runbook_base_url}${{__field.labels.alertname}}.md")
                .target_blank(True)
            ]
        )
        .links([_runbook_link(e) for e in runbook_index(svc.policies, svc.config)])
        .show_value(cm.VisibilityMode.NEVER)
        .merge_values(True)
        .line_width(0)
        .fill_opacity(70)
        .height(8)
        .span(WIDTH // 2)
    )
    return panel


# ----------------------------------------------------------------------------- dashboards


def dashboard_uid(name: str) -> str:
    """A stable uid (Grafana allows 40 characters): ``srekit-<slug>``, hashed when too long."""
    slug = re.sub(r"[^a-z0-9-]+", "-", name.lower()).strip("-") or "service"
    uid = f"srekit-{slug}"
    return uid if len(uid) <= 40 else f"{uid[:31]}-{hashlib.sha256(name.encode()).hexdigest()[:8]}"


def _variables(journeys: str) -> list[Builder[dm.VariableModel]]:
    """``datasource`` (any Prometheus) and ``journey`` (the journeys the recorded series carry)."""
    return [
        db.DatasourceVariable("datasource").label("Data source").type("prometheus"),
        db.QueryVariable("journey")
        .label("Journey")
        .datasource(DATASOURCE)
        .query(f"label_values({journeys}, srekit_journey)")
        .refresh(dm.VariableRefresh.ON_DASHBOARD_LOAD)
        .sort(dm.VariableSort.ALPHABETICAL_ASC)
        .multi(True)
        .include_all(True)
        .all_value(ALL_VALUE)
        .current(dm.VariableOption(text="All", value="$__all", selected=True)),
    ]


def _alerts_annotation(service_matcher: str) -> db.AnnotationQuery:
    return (
        db.AnnotationQuery()
        .name("Alerts firing (Prometheus ALERTS)")
        .datasource(DATASOURCE)
        .expr(f'ALERTS{{alertstate="firing",{service_matcher},{JOURNEY}}}')
        .enable(True)
        .icon_color("red")
    )


def _base(title: str, uid: str, period: str, description: str) -> db.Dashboard:
    return (
        db.Dashboard(title)
        .uid(uid)
        .description(description)
        .tags(["srekit", "slo"])
        .time(f"now-{period}", "now")
        .refresh("1m")
        .tooltip(dm.DashboardCursorSync.CROSSHAIR)
        .readonly()
    )


def service_dashboard(config: ServiceConfig, policies: Sequence[AlertPolicy]) -> dict[str, Any] | None:
    """The dashboard of one service's exportable SLOs as Grafana JSON (``None`` without any)."""
    svc = ServiceSLOs.of(config, policies)
    if not svc.policies:
        return None
    service = f'srekit_service="{quote(svc.service)}"'
    period = format_duration(max(p.spec.window for p in svc.policies))
    builder = (
        _base(
            f"SLOs: {svc.service}",
            dashboard_uid(svc.service),
            period,
            f"srekit SLO dashboard of {svc.service}, built on the recording rules of `srekit rules`.",
        )
        .variables(_variables(f"slo:objective:ratio{{{service}}}"))
        .annotation(_alerts_annotation(service))
        .link(db.DashboardLink("Runbooks").type(dm.DashboardLinkType.LINK).url(config.alerting.runbook_base_url))
        .with_panel(slo_table([svc]))
        .with_row(db.Row("Journey $journey").repeat("journey"))
        .with_panel(sli_panel(svc))
        .with_panel(budget_panel([svc]))
        .with_panel(burn_panel(svc))
        .with_panel(alerts_panel(svc))
    )
    return _json(builder)


def overview_dashboard(services: Sequence[ServiceSLOs], title: str = "SLOs: overview") -> dict[str, Any] | None:
    """One dashboard over several services (a fleet): every SLO in one table and one error-budget
    chart, ``service`` and ``journey`` variables, and a link to each service's own dashboard. The
    panels are the service dashboard's own, given more than one service."""
    matcher = 'srekit_service=~"$service"'
    fleet = [replace(s, scope=f"{matcher},{JOURNEY}") for s in services if s.policies]
    if not fleet:
        return None
    period = format_duration(max(p.spec.window for s in fleet for p in s.policies))
    datasource, journey = _variables(f"slo:objective:ratio{{{matcher}}}")
    service_var = (
        db.CustomVariable("service")
        .label("Service")
        .values(",".join(s.service.replace(",", "\\,") for s in fleet))
        .multi(True)
        .include_all(True)
        .all_value(".*")  # service names hold no line break (service.yaml refuses them)
        .current(dm.VariableOption(text="All", value="$__all", selected=True))
    )
    links: list[Builder[dm.DashboardLink]] = [
        db.DashboardLink(f"SLOs: {s.service}").type(dm.DashboardLinkType.LINK).url(f"/d/{dashboard_uid(s.service)}")
        for s in fleet
    ]
    builder = (
        _base(title, dashboard_uid(title), period, f"srekit SLOs of {len(fleet)} services.")
        .variables([datasource, service_var, journey])
        .annotation(_alerts_annotation(matcher))
        .links(links)
        .with_panel(slo_table(fleet).height(12))
        .with_panel(budget_panel(fleet, "{{srekit_service}} {{srekit_slo}}").span(WIDTH))
    )
    return _json(builder)


def _json(builder: db.Dashboard) -> dict[str, Any]:
    """The dashboard as plain JSON data, panels numbered in order."""
    doc: dict[str, Any] = json.loads(json.dumps(builder.build(), cls=JSONEncoder))
    for i, panel in enumerate(doc.get("panels", []), 1):
        panel["id"] = i
    return doc


def dashboard_text(doc: dict[str, Any]) -> str:
    return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"


def checked_service_dashboard(config: ServiceConfig, policies: Sequence[AlertPolicy]) -> dict[str, Any] | None:
    """:func:`service_dashboard`, refused unless it loads in the dashboard model and reads only
    series the exported rules record (:mod:`srekit.exports.dashboard_check`)."""
    from srekit.core.errors import SrekitError
    from srekit.exports.dashboard_check import dashboard_queries, model_problems, record_problems
    from srekit.exports.prometheus import prometheus_rules

    doc = service_dashboard(config, policies)
    if doc is None:
        return None
    rules = prometheus_rules(policies, config)
    problems = model_problems(doc) + record_problems(dashboard_queries(doc), rules, {"journey": ALL_VALUE})
    if problems:
        raise SrekitError(
            f"the Grafana dashboard of {config.service} failed its own checks: {'; '.join(problems[:5])}. "
            "fix: this is a bug in srekit, please report it; --format prometheus and --format openslo still work"
        )
    return doc


def check_dashboard_files(paths: Sequence[Path], promtool: str | None = None) -> str:
    """Check every query of the dashboards at ``paths`` with ``promtool check rules`` (when promtool
    is installed) and say what was checked; a rejected query is a :class:`SrekitError`."""
    import shutil
    import tempfile

    from srekit.core.errors import SrekitError
    from srekit.exports.dashboard_check import dashboard_queries, promtool_problems

    tool = promtool or shutil.which("promtool")
    queries = [q for p in paths for q in dashboard_queries(json.loads(Path(p).read_text(encoding="utf-8")))]
    if tool is None:
        return (
            f"promtool not found: the {len(queries)} dashboard queries were not checked "
            "(apt-get install prometheus, or put the release's promtool on PATH)"
        )
    with tempfile.TemporaryDirectory() as tmp:
        problems = promtool_problems(queries, {"journey": ALL_VALUE}, tool, Path(tmp))
    if problems:
        raise SrekitError(f"promtool rejects dashboard queries: {'; '.join(problems[:5])}. fix: report this srekit bug")
    return f"promtool check rules: all {len(queries)} dashboard queries are valid PromQL"
