"""Checks of the Grafana dashboards srekit writes (:mod:`srekit.exports.grafana`):

* :func:`model_problems`: the JSON loads into the typed dashboard model of
  ``grafana-foundation-sdk`` (Grafana's own schema, generated) and writes back unchanged, every
  query is a Prometheus query and every panel type is one the model knows;
* :func:`record_problems`: every series a query selects is a recording rule of the exported rules
  file (for the SLOs its matchers name), or Prometheus's ``ALERTS``;
* :func:`promtool_problems`: every query is a valid PromQL expression, by ``promtool check rules``
  on a rules file holding each as a recording rule.
"""

from __future__ import annotations

import json
import re
import subprocess
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from srekit.exports.promql_scan import selectors
from srekit.inputs.promql import unquote

_MATCHER = re.compile(r'([A-Za-z_]\w*)\s*(=~|!~|!=|=)\s*"((?:[^"\\]|\\.)*)"')
_LABEL_VALUES = re.compile(r"^label_values\((.*),\s*([A-Za-z_]\w*)\s*\)$", re.S)
#: Series no rule records: written by Prometheus itself (ALERTS), or by the team during planned
#: maintenance (srekit_maintenance, exports.prometheus.MAINTENANCE_METRIC).
INTERNAL_SERIES = {"ALERTS", "srekit_maintenance"}


@dataclass(frozen=True, slots=True)
class DashboardQuery:
    """One PromQL expression of a dashboard and where it is (panel title and refId, variable, annotation)."""

    where: str
    expr: str


def dashboard_queries(doc: Mapping[str, Any]) -> list[DashboardQuery]:
    """Every query of a dashboard: panel targets (rows' panels too), query variables (the series
    selector inside ``label_values``) and annotations."""
    out = []
    panels = [p for top in doc.get("panels", []) for p in (top, *top.get("panels", []))]
    for panel in panels:
        for target in panel.get("targets", []):
            out.append(DashboardQuery(f"panel {panel.get('title')!r} query {target.get('refId')}", target["expr"]))
    for var in doc.get("templating", {}).get("list", []):
        if var.get("type") == "query":
            m = _LABEL_VALUES.match(str(var.get("query", "")).strip())
            out.append(DashboardQuery(f"variable {var['name']}", m.group(1) if m else str(var.get("query"))))
    for ann in doc.get("annotations", {}).get("list", []):
        if ann.get("expr"):
            out.append(DashboardQuery(f"annotation {ann.get('name')!r}", ann["expr"]))
    return out


def concrete(expr: str, values: Mapping[str, str]) -> str:
    """``expr`` with Grafana template variables (``$name``, ``${name}``) replaced by ``values``."""
    return re.sub(r"\$\{?(\w+)\}?", lambda m: values.get(m.group(1), m.group(0)), expr)


def model_problems(doc: Mapping[str, Any]) -> list[str]:
    """What keeps ``doc`` from being a dashboard of the SDK's model (empty when it is one)."""
    from grafana_foundation_sdk.cog.encoder import JSONEncoder
    from grafana_foundation_sdk.cog.plugins import register_default_plugins
    from grafana_foundation_sdk.cog.runtime import panelcfg_config
    from grafana_foundation_sdk.models import dashboard as dm
    from grafana_foundation_sdk.models import prometheus as pm

    register_default_plugins()
    model = dm.Dashboard.from_json(json.loads(json.dumps(doc)))
    problems = []
    again = json.loads(json.dumps(model, cls=JSONEncoder))
    if again != doc:
        problems.append(f"the dashboard does not survive the model unchanged: {_first_difference(doc, again)}")
    panels = [p for top in model.panels or [] for p in (top, *(getattr(top, "panels", None) or []))]
    for panel in panels:
        if isinstance(panel, dm.Panel):
            if panelcfg_config(panel.type_val) is None:
                problems.append(f"panel {panel.title!r}: unknown panel type {panel.type_val!r}")
            bad = [t for t in panel.targets or [] if not isinstance(t, pm.Dataquery)]
            if bad:
                problems.append(f"panel {panel.title!r}: {len(bad)} queries are not Prometheus queries")
    return problems


def _first_difference(a: Any, b: Any, path: str = "$") -> str:
    if isinstance(a, dict) and isinstance(b, dict):
        for key in sorted(set(a) | set(b)):
            if a.get(key, "<absent>") != b.get(key, "<absent>"):
                return _first_difference(a.get(key, "<absent>"), b.get(key, "<absent>"), f"{path}.{key}")
    if isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            if x != y:
                return _first_difference(x, y, f"{path}[{i}]")
    return f"{path}: {json.dumps(a)[:120]} became {json.dumps(b)[:120]}"


def recorded_series(rules: Mapping[str, Any]) -> list[dict[str, str]]:
    """Every recorded series of a rules document as its label set (``__name__`` plus the rule's labels)."""
    return [
        {"__name__": str(r["record"]), **{str(k): str(v) for k, v in (r.get("labels") or {}).items()}}
        for g in rules.get("groups", [])
        for r in g.get("rules", [])
        if "record" in r
    ]


def record_problems(
    queries: Sequence[DashboardQuery], rules: Mapping[str, Any], values: Mapping[str, str]
) -> list[str]:
    """Selectors that no recorded series of ``rules`` matches (template variables replaced by
    ``values``). Each alternative of a ``srekit_slo=~"a|b"`` matcher must match on its own."""
    by_key: dict[tuple[str, str | None], list[dict[str, str]]] = {}  # by name, and by name and SLO
    for s in recorded_series(rules):
        by_key.setdefault((s["__name__"], None), []).append(s)
        by_key.setdefault((s["__name__"], s.get("srekit_slo", "")), []).append(s)
    problems = []
    for q in queries:
        for sel in selectors(concrete(q.expr, values)):
            name, matchers = _parse(sel)
            if name in INTERNAL_SERIES:
                continue
            for variant in _alternatives(matchers):
                slo = next((v for k, op, v in variant if k == "srekit_slo" and op == "="), None)
                if not any(_matches(s, name, variant) for s in by_key.get((name, slo), [])):
                    shown = ",".join(f'{k}{op}"{v}"' for k, op, v in variant)
                    problems.append(f"{q.where}: no recording rule records {name}{{{shown}}}")
    return problems


def _parse(selector: str) -> tuple[str, list[tuple[str, str, str]]]:
    name, _, body = selector.partition("{")
    return name.strip(), [(k, op, unquote(v)) for k, op, v in _MATCHER.findall(body)]


def _alternatives(matchers: list[tuple[str, str, str]]) -> list[list[tuple[str, str, str]]]:
    """One matcher list per alternative of an ``srekit_slo=~`` matcher (the SLOs it names)."""
    for i, (k, op, v) in enumerate(matchers):
        if k == "srekit_slo" and op == "=~":
            alts = [re.sub(r"\\(.)", r"\1", a) for a in re.split(r"(?<!\\)\|", v)]
            return [[*matchers[:i], (k, "=", a), *matchers[i + 1 :]] for a in alts]
    return [matchers]


def _matches(series: Mapping[str, str], name: str, matchers: Sequence[tuple[str, str, str]]) -> bool:
    if series["__name__"] != name:
        return False
    for k, op, v in matchers:
        have = series.get(k, "")
        # only =~ and !~ read the value as a regex: "[" in a journey name is text
        equal = have == v if op in ("=", "!=") else re.fullmatch(v, have) is not None
        if equal != (op in ("=", "=~")):
            return False
    return True


def promtool_problems(
    queries: Sequence[DashboardQuery], values: Mapping[str, str], promtool: str, workdir: Path
) -> list[str]:
    """Queries ``promtool check rules`` rejects, each with promtool's message (one run for all;
    on failure one run per query to name the culprits)."""
    if not queries:
        return []
    if _promtool_check(queries, values, promtool, workdir / "dashboard_queries.yml") is None:
        return []
    return [
        f"{q.where}: {message}"
        for i, q in enumerate(queries)
        if (message := _promtool_check([q], values, promtool, workdir / f"dashboard_query_{i}.yml")) is not None
    ]


def _promtool_check(
    queries: Sequence[DashboardQuery], values: Mapping[str, str], promtool: str, path: Path
) -> str | None:
    from srekit.exports.prometheus import dump_yaml

    rules = [{"record": f"srekit:dashboard_query:{i}", "expr": concrete(q.expr, values)} for i, q in enumerate(queries)]
    path.write_text(dump_yaml({"groups": [{"name": "srekit-dashboard-queries", "rules": rules}]}))
    done = subprocess.run(
        [promtool, "check", "rules", path.name], cwd=path.parent, capture_output=True, text=True, timeout=120
    )
    return None if done.returncode == 0 else (done.stderr or done.stdout).strip()[-800:]
