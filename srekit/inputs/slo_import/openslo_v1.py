"""OpenSLO v1 documents as an import: the SLOs :func:`srekit.inputs.openslo.read_openslo_specs`
reads (kept as they are), with the alert policies they name. An ``AlertCondition`` of kind
``burnrate`` is one window (``lookbackWindow``) at one burn rate (``threshold``) that must hold
for ``alertAfter`` (its pending time); srekit's own exports carry a second window there, which
is read back as the short window of a multiwindow rule. Severity ``page``/``critical``/``high``
pages, anything else tickets. An SLO without alert policies has none."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

import pandas as pd

from srekit.core.spec import AlertPolicySpec, AlertWindowSpec
from srekit.inputs.openslo import ANNOTATION_PREFIX, load_documents, parse_openslo_duration, read_openslo_specs
from srekit.inputs.slo_import.model import ImportOptions, ImportResult, Unmapped
from srekit.inputs.slo_import.source import expand

PAGING = ("page", "critical", "high", "urgent", "sev1", "p1")


def _conditions(docs: list[tuple[str, dict[str, Any]]]) -> dict[str, list[Mapping[str, Any]]]:
    """Conditions of every AlertPolicy by policy name (references resolved)."""
    named = {d["metadata"]["name"]: d["spec"] for _, d in docs if d.get("kind") == "AlertCondition"}
    out: dict[str, list[Mapping[str, Any]]] = {}
    for _, d in docs:
        if d.get("kind") != "AlertPolicy":
            continue
        conds = [
            c.get("spec") if "spec" in c else named.get(c.get("conditionRef", "")) for c in d["spec"]["conditions"]
        ]
        out[d["metadata"]["name"]] = [c for c in conds if isinstance(c, Mapping)]
    return out


def _rule(cond: Mapping[str, Any], own: bool) -> AlertWindowSpec | str:
    c = cond.get("condition") or {}
    if c.get("kind", "burnrate") != "burnrate" or c.get("op", "gt") not in ("gt", "gte"):
        return f"condition {c.get('kind')}/{c.get('op')}: srekit replays burnrate conditions with op gt"
    if "threshold" not in c or "lookbackWindow" not in c:
        return "a burnrate condition needs threshold and lookbackWindow"
    long_window = parse_openslo_duration(c["lookbackWindow"])
    after = parse_openslo_duration(c["alertAfter"]) if "alertAfter" in c else None
    severity = "page" if str(cond.get("severity", "")).lower() in PAGING else "ticket"
    return AlertWindowSpec(
        severity=severity,  # type: ignore[arg-type]
        long_window=long_window,
        burn_rate=float(c["threshold"]),
        short_window=after if own else None,
        pending=after if (after is not None and not own) else pd.Timedelta(0),
    )


def read_openslo_import(paths: list[Path], options: ImportOptions) -> ImportResult:
    """OpenSLO SLOs with their alert policies; conditions srekit cannot replay are listed."""
    files = expand(paths)
    specs = read_openslo_specs(files)
    docs = [(str(f), d) for f in files for d in load_documents(f)]
    policies, slo_docs = _conditions(docs), {d["metadata"]["name"]: (f, d) for f, d in docs if d.get("kind") == "SLO"}
    out, unmapped, notes = [], [], []
    for spec in specs:
        file, doc = next(((f, d) for f, d in slo_docs.values() if spec.name in _names(d)), ("?", {}))
        own = any(str(k).startswith(ANNOTATION_PREFIX) for k in (doc.get("metadata") or {}).get("annotations") or {})
        rules = []
        for ref in doc.get("spec", {}).get("alertPolicies") or []:
            if ref not in policies:
                notes.append(f"{spec.name}: alert policy {ref!r} is not in the given files; it was not replayed")
                continue
            for cond in policies[ref]:
                got = _rule(cond, own)
                (
                    unmapped.append(Unmapped(file, None, f"{spec.name}/{ref}", got))
                    if isinstance(got, str)
                    else rules.append(got)
                )
        journey = options.journeys.get(spec.name, spec.journey)
        out.append(replace(spec, journey=journey, alerting=AlertPolicySpec("openslo", tuple(rules)), origin=file))
        if not rules:
            notes.append(f"{spec.name}: no alert policy srekit can replay; the Workbook's policy is shown next to it")
    return ImportResult("openslo", tuple(map(str, files)), tuple(out), tuple(unmapped), tuple(notes))


def _names(doc: Mapping[str, Any]) -> set[str]:
    md = doc.get("metadata") or {}
    return {str(md.get("name")), str((md.get("annotations") or {}).get(f"{ANNOTATION_PREFIX}name"))}
