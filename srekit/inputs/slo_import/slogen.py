"""slo-generator configs: v2 (``apiVersion: sre.google.com/v2``, ``kind: ServiceLevelObjective``)
and the older v1 files, with their error-budget policy.

SLIs: ``good_bad_ratio`` (``filter_good`` with ``filter_valid`` or ``filter_bad``, PromQL
selectors) and ``distribution_cut`` (``expression`` = ``X_bucket{…}``, ``threshold_bucket`` =
the ``le``, total = ``X_count``). ``query_sli`` returns a ready SLI value (no counts) and other
methods are backend-specific: both are listed as not mapped.

Policy: each ``error_budget_policies.<name>.steps[]`` step is **one window** (``window`` in
seconds) with **one threshold** (``burn_rate_threshold``), as slo-generator evaluates it
(``slo_generator/report.py``): SLI = round(good / valid, 6), burn rate = round((1 − SLI) /
(1 − goal), 1), alert when burn rate > threshold; no short window, no ``for``. ``alert: true``
(v1 ``urgent_notification``) steps are pages, ``alert: false`` tickets (their
``message_alert`` is the policy's consequence). The SLO period is the longest step window
(28 d in the sample config) unless one is given. v1 policy files (a list of steps with
``error_budget_policy_step_name``, ``measurement_window_seconds``,
``alerting_burn_rate_threshold``, ``urgent_notification``) read the same way."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from srekit.core.errors import ConfigError
from srekit.core.spec import AlertPolicySpec, AlertWindowSpec, SLOSpec
from srekit.inputs.slo_import.common import counter_spec, error_note, journey_of
from srekit.inputs.slo_import.model import ImportOptions, ImportResult, Unmapped, spec_error
from srekit.inputs.slo_import.promql import CounterSli, parse_selector, sli_from_selectors
from srekit.inputs.slo_import.source import expand, line_of, load_documents

API = "sre.google.com/v2"
SLI_DECIMALS, BURN_RATE_DECIMALS = 6, 1
_V1_STEP = {
    "error_budget_policy_step_name": "name",
    "measurement_window_seconds": "window",
    "alerting_burn_rate_threshold": "burn_rate_threshold",
    "urgent_notification": "alert",
}


def is_policy(doc: Any) -> bool:
    """A shared config holding ``error_budget_policies``, or a v1 policy (a list of steps)."""
    if isinstance(doc, Mapping):
        return "error_budget_policies" in doc
    return isinstance(doc, list) and all(isinstance(s, Mapping) and "measurement_window_seconds" in s for s in doc)


def _steps(doc: Any, name: str, file: str) -> list[Mapping[str, Any]]:
    if isinstance(doc, list):  # v1
        return [{_V1_STEP.get(k, k): v for k, v in s.items()} | {"_line": line_of(s)} for s in doc]
    policies = doc.get("error_budget_policies") or {}
    if name not in policies:
        raise spec_error(
            file, line_of(doc), f"no error_budget_policies.{name}", f"add it or choose one of {sorted(policies)}"
        )
    return [dict(s) | {"_line": line_of(s)} for s in (policies[name] or {}).get("steps") or []]


def policy_rules(doc: Any, name: str, file: str) -> tuple[AlertWindowSpec, ...]:
    """The steps of policy ``name`` as single-window rules."""
    rules = []
    for step in _steps(doc, name, file):
        try:
            window = pd.Timedelta(seconds=int(step["window"]))
            threshold = float(step["burn_rate_threshold"])
            alert = step.get("alert", False)
            if not isinstance(alert, bool):
                raise ValueError(f"alert must be true or false, got {alert!r}")
            rules.append(AlertWindowSpec("page" if alert else "ticket", window, threshold, alert=str(step.get("name"))))
        except (KeyError, TypeError, ValueError) as exc:
            raise spec_error(
                file,
                step.get("_line"),
                f"error budget policy step: {exc}",
                "give each step name, window (seconds), burn_rate_threshold and alert: true|false",
            ) from exc
    if not rules:
        raise spec_error(file, line_of(doc), f"error budget policy {name!r} has no steps", "add its steps")
    return tuple(rules)


def _v2(doc: Mapping[str, Any]) -> tuple[str, float, str, Mapping[str, Any], str, Mapping[str, Any]]:
    """(name, goal, method, sli, policy name, labels) of a v2 document."""
    spec, md = doc["spec"], doc.get("metadata") or {}
    return (
        str(md["name"]),
        float(spec["goal"]),
        str(spec["method"]),
        spec.get("service_level_indicator") or {},
        str(spec.get("error_budget_policy") or "default"),
        md.get("labels") or {},
    )


def _v1(doc: Mapping[str, Any]) -> tuple[str, float, str, Mapping[str, Any], str, Mapping[str, Any]]:
    name = f"{doc['service_name']}-{doc['feature_name']}-{doc['slo_name']}"  # slo-generator's v1 → v2 name
    backend = doc["backend"]
    labels = {"service": doc["service_name"], "feature": doc["feature_name"]}
    return name, float(doc["slo_target"]), str(backend["method"]), backend.get("measurement") or {}, "default", labels


def _sli(method: str, sli: Mapping[str, Any]) -> CounterSli | str:
    if method == "good_bad_ratio":
        good = parse_selector(str(sli.get("filter_good", "")))
        valid = parse_selector(str(sli.get("filter_valid", "")))
        bad = parse_selector(str(sli.get("filter_bad", "")))
        if good is None or (valid is None and bad is None):
            return "filter_good and filter_valid (or filter_bad) must be PromQL selectors"
        if bad is not None and valid is None:
            return "filter_good + filter_bad: total = good + bad is not one counter srekit can read"
        assert valid is not None
        if bad is not None:
            return sli_from_selectors(bad, valid, good=False)
        return sli_from_selectors(good, valid, good=True)
    if method == "distribution_cut":
        expr = parse_selector(str(sli.get("expression", "")))
        le = sli.get("threshold_bucket")
        if expr is None or not expr.metric.endswith("_bucket") or le is None:
            return "distribution_cut needs expression: <histogram>_bucket{…} and threshold_bucket"
        if sli.get("good_below_threshold", True) is not True:
            return "good_below_threshold: false (good above the bucket) has no srekit latency SLI"
        base = expr.metric.removesuffix("_bucket")
        total = parse_selector(expr.text().replace(expr.metric, base + "_count", 1))
        bucket = parse_selector(expr.text()[:-1] + f',le="{le}"}}' if expr.matchers else f'{expr.metric}{{le="{le}"}}')
        assert total is not None and bucket is not None
        return sli_from_selectors(bucket, total, good=True)
    if method == "query_sli":
        return "query_sli returns a ready SLI value, not good and valid counts srekit can replay"
    return f"method {method!r} is backend-specific; srekit reads good_bad_ratio and distribution_cut"


def _slo(
    doc: Any, file: str, policies: Mapping[str, tuple[AlertWindowSpec, ...]], options: ImportOptions
) -> tuple[SLOSpec | Unmapped, tuple[str, ...]]:
    line = line_of(doc)
    try:
        name, goal, method, sli_doc, policy_name, labels = _v2(doc) if doc.get("apiVersion") == API else _v1(doc)
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise spec_error(
            file,
            line,
            f"slo-generator SLO is missing or misreads {exc}",
            "v2: metadata.name, spec.goal, spec.method, spec.service_level_indicator",
        ) from exc
    if not 0 < goal < 1:
        raise spec_error(file, line, f"{name}: goal {goal} is not in (0, 1)", "write goal as a fraction, e.g. 0.999")
    sli = _sli(method, sli_doc)
    if isinstance(sli, str):
        return Unmapped(file, line_of(sli_doc) or line, name, sli), ()
    rules = policies.get(options.policy_name or policy_name)
    if rules is None:
        raise ConfigError(
            f"{file}:{line}: {name} uses error budget policy {policy_name!r}, and no slo-generator config with it was "
            "given. fix: pass the shared config.yaml (with error_budget_policies) as a path or with --policy"
        )
    period = options.period or max(r.long_window for r in rules)
    policy = AlertPolicySpec("slo-generator", rules, sli_decimals=SLI_DECIMALS, burn_rate_decimals=BURN_RATE_DECIMALS)
    fallback = "-".join(str(labels[k]) for k in ("service", "feature") if k in labels) or name
    journey, jnote = journey_of(name, sli, fallback, options)
    notes = (jnote, error_note(name, sli))
    return counter_spec(name, journey, sli, goal, period, policy, f"{file}:{line}"), tuple(n for n in notes if n)


def _policies(docs: Sequence[tuple[str, Any]], options: ImportOptions) -> dict[str, tuple[AlertWindowSpec, ...]]:
    """Every error budget policy among the documents (and ``options.policy``), by name."""
    found: dict[str, tuple[AlertWindowSpec, ...]] = {}
    extra = [(str(options.policy), d) for d in load_documents(options.policy)] if options.policy else []
    for file, doc in [*docs, *extra]:
        if isinstance(doc, list):  # a v1 policy file: error_budget_policy[_<name>].yaml
            stem = Path(file).stem
            key = "default" if stem == "error_budget_policy" else stem.removeprefix("error_budget_policy_")
            found[key] = policy_rules(doc, key, file)
        elif is_policy(doc):
            for key in doc.get("error_budget_policies") or {}:
                found[str(key)] = policy_rules(doc, str(key), file)
    return found


def read_slo_generator(paths: list[Path], options: ImportOptions) -> ImportResult:
    """Every SLO config in ``paths``; the shared config (or v1 policy file) may be among them."""
    files = expand(paths)
    docs = [(str(f), d) for f in files for d in load_documents(f)]
    policies = _policies(docs, options)
    specs: list[SLOSpec] = []
    unmapped: list[Unmapped] = []
    notes: list[str] = []
    for file, doc in docs:
        if is_policy(doc):
            continue
        if not isinstance(doc, Mapping) or not (doc.get("apiVersion") == API or "slo_target" in doc):
            raise spec_error(
                file,
                line_of(doc),
                "not an slo-generator SLO config",
                f"use apiVersion: {API} with kind: ServiceLevelObjective, or a v1 config with slo_target",
            )
        got, more = _slo(doc, file, policies, options)
        if isinstance(got, Unmapped):
            unmapped.append(got)
        else:
            specs.append(got)
        notes += more
    if specs:
        notes.append(
            "slo-generator evaluates each policy step as one window at the moment it runs; the replay evaluates every "
            "step at the end of every interval, with its rounding (SLI to 6 decimals, burn rate to 1)"
        )
    return ImportResult("slo-generator", tuple(map(str, files)), tuple(specs), tuple(unmapped), tuple(notes))
