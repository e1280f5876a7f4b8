"""Imported SLOs written into a ``service.yaml`` (``srekit import --out``): a new, commented
file, or a user's existing one rewritten with ruamel.yaml so its comments, order and quoting
stay (only ``slos:`` entries of the same name are replaced, new ones and missing journeys
appended). Every SLO carries a comment naming the spec file and line it came from."""

from __future__ import annotations

from collections.abc import Sequence
from io import StringIO
from pathlib import Path

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq

from srekit.core.spec import AlertPolicySpec, SLOSpec
from srekit.core.timeutil import format_duration
from srekit.inputs.config_edit import dump_round_trip, load_round_trip


def _policy(p: AlertPolicySpec) -> CommentedMap:
    rules = CommentedSeq()
    for r in p.rules:
        rule = CommentedMap(severity=r.severity, long_window=format_duration(r.long_window))
        if r.short_window is not None:
            rule["short_window"] = format_duration(r.short_window)
        rule["burn_rate"] = float(r.burn_rate)
        if r.pending.total_seconds() > 0:
            rule["pending"] = format_duration(r.pending)
        if r.alert:
            rule["alert"] = r.alert
        rule.fa.set_flow_style()
        rules.append(rule)
    out = CommentedMap(source=p.source, rules=rules)
    for key in ("sli_decimals", "burn_rate_decimals"):
        if getattr(p, key) is not None:
            out[key] = getattr(p, key)
    return out


def slo_entry(spec: SLOSpec) -> CommentedMap:
    """One ``slos[]`` entry: the SLO, its queries and its policy as the source generates it."""
    out = CommentedMap(name=spec.name, journey=spec.journey, sli=spec.sli, target=float(spec.target))
    if spec.threshold_ms is not None:
        out["threshold_ms"] = float(spec.threshold_ms)
    out["window"] = format_duration(spec.window)
    if spec.queries is not None:
        out["queries"] = CommentedMap(errors=spec.queries.errors, total=spec.queries.total)
    if spec.alerting is not None:
        out["alerting"] = _policy(spec.alerting)
        if not spec.alerting.rules:
            out.yaml_add_eol_comment("no rules: alerting is disabled in the source", "alerting")
    if spec.origin:
        out["origin"] = spec.origin
    return out


def _yaml() -> YAML:
    y = YAML()
    y.width = 4096
    y.indent(mapping=2, sequence=4, offset=2)
    return y


def _merge_slos(doc: CommentedMap, specs: Sequence[SLOSpec], fmt: str) -> None:
    slos = doc.setdefault("slos", CommentedSeq())
    names = [str(e.get("name")) for e in slos]
    for spec in specs:
        entry = slo_entry(spec)
        where = f"imported from {spec.origin or '?'} ({fmt})"
        if spec.name in names:
            slos[names.index(spec.name)] = entry
            i = names.index(spec.name)
        else:
            slos.append(entry)
            i = len(slos) - 1
        slos.yaml_set_comment_before_after_key(i, before=where, indent=2)


def _merge_journeys(doc: CommentedMap, specs: Sequence[SLOSpec]) -> None:
    journeys = doc.setdefault("journeys", CommentedSeq())
    have = {j if isinstance(j, str) else str(j.get("name")) for j in journeys}
    for j in dict.fromkeys(s.journey for s in specs):
        if j not in have:
            journeys.append(
                CommentedMap(
                    name=j,
                    description=f"journey of imported SLOs ({', '.join(s.name for s in specs if s.journey == j)})",
                )
            )


def new_service_yaml(
    service: str, specs: Sequence[SLOSpec], fmt: str, files: Sequence[str], notes: Sequence[str]
) -> str:
    """A new service.yaml holding the imported SLOs (add ``data:`` to replay them on history)."""
    doc = CommentedMap(service=service)
    doc.yaml_set_start_comment(
        f"Written by `srekit import {fmt}` from {', '.join(files)}.\n"
        "Each SLO keeps its queries and its alert policy as the source tool generates it (slos[].alerting).\n"
        "Add `data:` (telemetry, incidents) to replay them on history: srekit analyze / diff / gate.\n"
        + "".join(f"note: {n}\n" for n in notes)
    )
    _merge_journeys(doc, specs)
    windows = {format_duration(s.window) for s in specs}
    doc["slo"] = CommentedMap(window=windows.pop() if len(windows) == 1 else "28d")
    _merge_slos(doc, specs, fmt)
    buf = StringIO()
    _yaml().dump(doc, buf)
    return buf.getvalue()


def update_service_yaml(path: Path, specs: Sequence[SLOSpec], fmt: str) -> str:
    """``path``'s text with the imported SLOs merged in, its own comments, layout and indentation
    kept (the same round trip as the explorer's Keep, :mod:`srekit.inputs.config_edit`)."""
    original = path.read_text(encoding="utf-8")
    rt, doc = load_round_trip(original)
    _merge_journeys(doc, specs)
    _merge_slos(doc, specs, fmt)
    return dump_round_trip(rt, doc, original)
