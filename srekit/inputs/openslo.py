"""OpenSLO v1 documents as input: check them against the spec's rules and read SLO documents
into :class:`SLOSpec` (the SLOs a team already wrote down; ``slo.openslo`` in service.yaml).

Spec: OpenSLO v1 (github.com/OpenSLO/OpenSLO, README "v1"): duration shorthand
``^[1-9][0-9]*[mhdwMQY]$``, objective ``target`` in [0, 1), ``timeSliceTarget`` in (0, 1],
``budgetingMethod`` Occurrences | Timeslices, an AlertPolicy holds exactly one condition.
:func:`validate_document` implements these rules in code; the tests confirm it agrees with the
official JSON Schemas on the upstream schema-test files. Writing OpenSLO documents is
:mod:`srekit.exports.openslo`.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any, cast

import pandas as pd
import yaml

from srekit.core.errors import ConfigError
from srekit.core.spec import SliKind, SLOSpec

API_VERSION = "openslo/v1"
KINDS = ("AlertCondition", "AlertNotificationTarget", "AlertPolicy", "DataSource", "Service", "SLI", "SLO")
DURATION_RE = re.compile(r"^[1-9][0-9]*[mhdwMQY]$")
NAME_RE = re.compile(r"^[a-z0-9][a-z0-9.|/\\-]*[a-z0-9]*$")
LABEL_VALUE_RE = re.compile(r"^[a-z0-9A-Z][a-z0-9A-Z._-]*[a-z0-9A-Z]*$")
ANNOTATION_KEY_RE = re.compile(
    r"^(([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z0-9][a-z0-9-]{0,61}[a-z0-9]/)?[a-z0-9A-Z][a-z0-9A-Z._-]*[a-z0-9A-Z]*$"
)
ANNOTATION_LEN_RE = re.compile(r"^(.{2,253}/)?.{1,63}$")
START_TIME_RE = re.compile(r"^\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01]) ([01]\d|2[0-3]):[0-5]\d:[0-5]\d$")
TIME_ZONE_RE = re.compile(r"[A-Z][a-zA-Z_]+/[A-Z][a-zA-Z_]+")
OPS = ("lte", "gte", "lt", "gt")
ANNOTATION_PREFIX = "srekit.dev/"
MAX_DESCRIPTION = 1050


# ---------------------------------------------------------------------------------- validation


def _stringify_times(obj: Any) -> Any:
    """YAML turns ``2020-01-21 12:30:00`` into a datetime; the spec means the text."""
    if isinstance(obj, dt.datetime):
        return obj.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(obj, dt.date):
        return obj.isoformat()
    if isinstance(obj, Mapping):
        return {k: _stringify_times(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_stringify_times(v) for v in obj]
    return obj


def load_documents(path: Path) -> list[dict[str, Any]]:
    """Every YAML document of an OpenSLO file, timestamps kept as text."""
    try:
        docs = list(yaml.safe_load_all(Path(path).read_text(encoding="utf-8")))
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML: {exc}") from exc
    return [_stringify_times(d) for d in docs if d is not None]


class _Check:
    def __init__(self) -> None:
        self.problems: list[str] = []

    def fail(self, where: str, msg: str) -> None:
        self.problems.append(f"{where}: {msg}")

    def obj(self, v: Any, where: str) -> bool:
        if not isinstance(v, Mapping):
            self.fail(where, f"must be a mapping, got {type(v).__name__}")
            return False
        return True

    def required(self, m: Mapping[str, Any], keys: Iterable[str], where: str) -> None:
        for k in keys:
            if k not in m:
                self.fail(where, f"`{k}` is required")

    def string(
        self,
        v: Any,
        where: str,
        *,
        pattern: re.Pattern[str] | None = None,
        min_len: int = 0,
        max_len: int | None = None,
    ) -> None:
        if not isinstance(v, str):
            self.fail(where, f"must be text, got {type(v).__name__}")
            return
        if len(v) < min_len or (max_len is not None and len(v) > max_len):
            self.fail(where, f"length {len(v)} outside [{min_len}, {max_len}]")
        if pattern is not None and not pattern.search(v):
            self.fail(where, f"{v!r} does not match {pattern.pattern}")

    def name(self, v: Any, where: str) -> None:
        self.string(v, where, pattern=NAME_RE, min_len=1, max_len=255)

    def duration(self, v: Any, where: str) -> None:
        self.string(v, where, pattern=DURATION_RE)

    def number(self, v: Any, where: str) -> bool:
        if isinstance(v, bool) or not isinstance(v, int | float):
            self.fail(where, f"must be a number, got {v!r}")
            return False
        return True

    def description(self, m: Mapping[str, Any], where: str) -> None:
        if "description" in m:
            self.string(m["description"], f"{where}.description", max_len=MAX_DESCRIPTION)


def _metadata(c: _Check, md: Any, where: str) -> None:
    if not c.obj(md, where):
        return
    c.required(md, ["name"], where)
    if "name" in md:
        c.name(md["name"], f"{where}.name")
    if "displayName" in md:
        c.string(md["displayName"], f"{where}.displayName", min_len=1)
    labels = md.get("labels")
    if labels is not None and c.obj(labels, f"{where}.labels"):
        for k, v in labels.items():
            if isinstance(v, list):
                continue
            c.string(v, f"{where}.labels.{k}", pattern=LABEL_VALUE_RE, min_len=1, max_len=63)
    ann = md.get("annotations")
    if ann is not None and c.obj(ann, f"{where}.annotations"):
        for k in ann:
            if not (isinstance(k, str) and ANNOTATION_KEY_RE.search(k) and ANNOTATION_LEN_RE.search(k)):
                c.fail(f"{where}.annotations", f"invalid key {k!r}")


def _metric_source(c: _Check, ms: Any, where: str) -> None:
    if not c.obj(ms, where):
        return
    c.required(ms, ["spec"], where)
    if "spec" in ms and not isinstance(ms["spec"], Mapping):
        c.fail(f"{where}.spec", "must be a mapping")
    if "metricSourceRef" in ms:
        c.name(ms["metricSourceRef"], f"{where}.metricSourceRef")
    if "type" in ms and not isinstance(ms["type"], str):
        c.fail(f"{where}.type", "must be text")


def _exactly_one(c: _Check, m: Mapping[str, Any], keys: Sequence[str], where: str) -> None:
    n = sum(k in m for k in keys)
    if n != 1:
        c.fail(where, f"exactly one of {list(keys)} is required, found {n}")


def _sli_spec(c: _Check, spec: Mapping[str, Any], where: str) -> None:
    c.description(spec, where)
    _exactly_one(c, spec, ["thresholdMetric", "ratioMetric"], where)
    tm = spec.get("thresholdMetric")
    if tm is not None and c.obj(tm, f"{where}.thresholdMetric"):
        c.required(tm, ["metricSource"], f"{where}.thresholdMetric")
        if "metricSource" in tm:
            _metric_source(c, tm["metricSource"], f"{where}.thresholdMetric.metricSource")
    rm = spec.get("ratioMetric")
    if rm is not None and c.obj(rm, f"{where}.ratioMetric"):
        c.required(rm, ["counter", "total"], f"{where}.ratioMetric")
        if "counter" in rm and not isinstance(rm["counter"], bool):
            c.fail(f"{where}.ratioMetric.counter", "must be true or false")
        _exactly_one(c, rm, ["good", "bad"], f"{where}.ratioMetric")
        for part in ("good", "bad", "total"):
            if part in rm and c.obj(rm[part], f"{where}.ratioMetric.{part}"):
                c.required(rm[part], ["metricSource"], f"{where}.ratioMetric.{part}")
                if "metricSource" in rm[part]:
                    _metric_source(c, rm[part]["metricSource"], f"{where}.ratioMetric.{part}.metricSource")


def _condition_spec(c: _Check, spec: Any, where: str, *, inline: bool = False) -> None:
    """An AlertCondition spec. Inline in an AlertPolicy, the upstream schema checks only the
    types of the fields present (its ``required`` lists sit one level too deep), so the
    required fields are enforced for standalone documents only, as upstream's test table
    expects (``alert-policy-inline-cond.yaml`` has no ``op`` and is valid)."""
    if not c.obj(spec, where):
        return
    c.description(spec, where)
    if not inline:
        c.required(spec, ["severity", "condition"], where)
    if "severity" in spec and not isinstance(spec["severity"], str):
        c.fail(f"{where}.severity", "must be text")
    cond = spec.get("condition")
    if cond is None or not c.obj(cond, f"{where}.condition"):
        return
    if "kind" in cond and cond["kind"] != "burnrate":
        c.fail(f"{where}.condition.kind", f"must be burnrate, got {cond['kind']!r}")
    if cond.get("kind", "burnrate") == "burnrate" and not inline:
        c.required(cond, ["op", "threshold", "lookbackWindow", "alertAfter"], f"{where}.condition")
    if "op" in cond and cond["op"] not in OPS:
        c.fail(f"{where}.condition.op", f"must be one of {OPS}")
    if "threshold" in cond:
        c.number(cond["threshold"], f"{where}.condition.threshold")
    for k in ("lookbackWindow", "alertAfter"):
        if k in cond:
            c.duration(cond[k], f"{where}.condition.{k}")


def _ref_or_inline(c: _Check, items: Any, ref: str, inline_spec: Any, where: str, *, max_items: int | None) -> None:
    if not isinstance(items, list):
        c.fail(where, "must be a list")
        return
    if len(items) < 1 or (max_items is not None and len(items) > max_items):
        c.fail(where, f"must hold between 1 and {max_items or 'many'} items, got {len(items)}")
    for i, it in enumerate(items):
        w = f"{where}[{i}]"
        if not c.obj(it, w):
            continue
        has_ref = ref in it
        has_inline = all(k in it for k in ("kind", "metadata", "spec"))
        if has_ref == has_inline:
            c.fail(w, f"needs either `{ref}` or an inline kind/metadata/spec, not both or neither")
        if has_ref:
            c.name(it[ref], f"{w}.{ref}")
        if "kind" in it and it["kind"] != "AlertCondition":
            c.fail(f"{w}.kind", "must be AlertCondition")
        if "metadata" in it:
            _metadata(c, it["metadata"], f"{w}.metadata")
        if "spec" in it:
            inline_spec(c, it["spec"], f"{w}.spec")


def _inline_condition(c: _Check, spec: Any, where: str) -> None:
    _condition_spec(c, spec, where, inline=True)


def _inline_target(c: _Check, spec: Any, where: str) -> None:
    _target_spec(c, spec, where, inline=True)


def _target_spec(c: _Check, spec: Any, where: str, *, inline: bool = False) -> None:
    if not c.obj(spec, where):
        return
    if not inline:
        c.required(spec, ["target"], where)
    if "target" in spec and not isinstance(spec["target"], str):
        c.fail(f"{where}.target", "must be text")
    c.description(spec, where)


def _slo_spec(c: _Check, spec: Mapping[str, Any], where: str) -> None:
    c.description(spec, where)
    c.required(spec, ["service", "budgetingMethod", "objectives"], where)
    if "service" in spec:
        c.name(spec["service"], f"{where}.service")
    _exactly_one(c, spec, ["indicator", "indicatorRef"], where)
    if "indicatorRef" in spec:
        c.name(spec["indicatorRef"], f"{where}.indicatorRef")
    ind = spec.get("indicator")
    if ind is not None and c.obj(ind, f"{where}.indicator"):
        if "metadata" in ind:
            _metadata(c, ind["metadata"], f"{where}.indicator.metadata")
        if "spec" in ind and c.obj(ind["spec"], f"{where}.indicator.spec"):
            _sli_spec(c, ind["spec"], f"{where}.indicator.spec")
    tw = spec.get("timeWindow")
    if tw is not None:
        if not isinstance(tw, list) or len(tw) > 1:
            c.fail(f"{where}.timeWindow", "must be a list of at most one window")
        else:
            for i, w in enumerate(tw):
                ww = f"{where}.timeWindow[{i}]"
                if not c.obj(w, ww):
                    continue
                c.required(w, ["duration"], ww)
                if "duration" in w:
                    c.duration(w["duration"], f"{ww}.duration")
                if w.get("isRolling") is not True:
                    c.required(w, ["calendar"], ww)
                    cal = w.get("calendar")
                    if cal is not None and c.obj(cal, f"{ww}.calendar"):
                        c.required(cal, ["startTime", "timeZone"], f"{ww}.calendar")
                        if "startTime" in cal:
                            c.string(cal["startTime"], f"{ww}.calendar.startTime", pattern=START_TIME_RE)
                        if "timeZone" in cal:
                            c.string(cal["timeZone"], f"{ww}.calendar.timeZone", pattern=TIME_ZONE_RE)
    bm = spec.get("budgetingMethod")
    if "budgetingMethod" in spec and bm not in ("Occurrences", "Timeslices"):
        c.fail(f"{where}.budgetingMethod", f"must be Occurrences or Timeslices, got {bm!r}")
    objs = spec.get("objectives")
    if objs is not None:
        if not isinstance(objs, list):
            c.fail(f"{where}.objectives", "must be a list")
            objs = []
        for i, o in enumerate(objs):
            ow = f"{where}.objectives[{i}]"
            if not c.obj(o, ow):
                continue
            c.required(o, ["target"], ow)
            if bm == "Timeslices":
                c.required(o, ["timeSliceWindow", "timeSliceTarget"], ow)
            if "target" in o and c.number(o["target"], f"{ow}.target") and not 0 <= o["target"] < 1:
                c.fail(f"{ow}.target", f"must be in [0, 1), got {o['target']}")
            if (
                "timeSliceTarget" in o
                and c.number(o["timeSliceTarget"], f"{ow}.timeSliceTarget")
                and not 0 < o["timeSliceTarget"] <= 1
            ):
                c.fail(f"{ow}.timeSliceTarget", f"must be in (0, 1], got {o['timeSliceTarget']}")
            if "timeSliceWindow" in o:
                v = o["timeSliceWindow"]
                if isinstance(v, str):
                    c.duration(v, f"{ow}.timeSliceWindow")
                elif not (c.number(v, f"{ow}.timeSliceWindow") and v > 0):
                    c.fail(f"{ow}.timeSliceWindow", "must be a duration or a positive number")
            if "op" in o and o["op"] not in OPS:
                c.fail(f"{ow}.op", f"must be one of {OPS}")
            if "value" in o:
                c.number(o["value"], f"{ow}.value")
            if "displayName" in o:
                c.string(o["displayName"], f"{ow}.displayName", min_len=1)
    aps = spec.get("alertPolicies")
    if aps is not None:
        if not isinstance(aps, list):
            c.fail(f"{where}.alertPolicies", "must be a list of names")
        else:
            for i, a in enumerate(aps):
                c.name(a, f"{where}.alertPolicies[{i}]")


def validate_document(doc: Any) -> list[str]:
    """Problems of one OpenSLO v1 document against the spec's rules (empty list: valid)."""
    c = _Check()
    if not c.obj(doc, "document"):
        return c.problems
    c.required(doc, ["apiVersion", "kind", "metadata", "spec"], "document")
    if "apiVersion" in doc and doc["apiVersion"] != API_VERSION:
        c.fail("apiVersion", f"must be {API_VERSION}, got {doc['apiVersion']!r}")
    kind = doc.get("kind")
    if "kind" in doc and kind not in KINDS:
        c.fail("kind", f"must be one of {KINDS}, got {kind!r}")
    if "metadata" in doc:
        _metadata(c, doc["metadata"], "metadata")
    spec = doc.get("spec")
    if "spec" not in doc or not c.obj(spec, "spec"):
        return c.problems
    if kind == "AlertCondition":
        _condition_spec(c, spec, "spec")
    elif kind == "AlertNotificationTarget":
        _target_spec(c, spec, "spec")
    elif kind == "AlertPolicy":
        c.description(spec, "spec")
        c.required(
            spec,
            ["alertWhenNoData", "alertWhenResolved", "alertWhenBreaching", "conditions", "notificationTargets"],
            "spec",
        )
        for k in ("alertWhenNoData", "alertWhenResolved", "alertWhenBreaching"):
            if k in spec and not isinstance(spec[k], bool):
                c.fail(f"spec.{k}", "must be true or false")
        if "conditions" in spec:
            _ref_or_inline(c, spec["conditions"], "conditionRef", _inline_condition, "spec.conditions", max_items=1)
        if "notificationTargets" in spec:
            _ref_or_inline(
                c, spec["notificationTargets"], "targetRef", _inline_target, "spec.notificationTargets", max_items=None
            )
    elif kind == "DataSource":
        c.required(spec, ["type", "connectionDetails"], "spec")
        if "type" in spec and not isinstance(spec["type"], str):
            c.fail("spec.type", "must be text")
        if "connectionDetails" in spec and not isinstance(spec["connectionDetails"], Mapping):
            c.fail("spec.connectionDetails", "must be a mapping")
    elif kind == "Service":
        c.description(spec, "spec")
    elif kind == "SLI":
        _sli_spec(c, spec, "spec")
    elif kind == "SLO":
        _slo_spec(c, spec, "spec")
    return c.problems


# ------------------------------------------------------------------------------------ reading

_UNIT_DAYS = {"M": 30, "Q": 91, "Y": 365}


def parse_openslo_duration(text: str) -> pd.Timedelta:
    """``28d`` → 28 days; ``1M``/``1Q``/``1Y`` → 30/91/365 days per unit (a rolling
    approximation of calendar periods)."""
    if not isinstance(text, str) or not DURATION_RE.match(text):
        raise ValueError(f"{text!r} is not an OpenSLO duration like 5m, 1h, 28d, 1M")
    n, unit = int(text[:-1]), text[-1]
    if unit in _UNIT_DAYS:
        return pd.Timedelta(days=n * _UNIT_DAYS[unit])
    return pd.Timedelta(n * {"m": 60, "h": 3600, "d": 86400, "w": 604800}[unit], unit="s")


def _fail(path: Path, doc: Mapping[str, Any], msg: str, fix: str) -> ConfigError:
    name = (doc.get("metadata") or {}).get("name", "?")
    return ConfigError(f"{path}: SLO {name!r}: {msg}. fix: {fix}")


def read_openslo_specs(paths: Sequence[Path | str]) -> tuple[SLOSpec, ...]:
    """SLO documents of OpenSLO v1 files as :class:`SLOSpec` (SLIs referenced by
    ``indicatorRef`` are looked up across all the files).

    Mapping: ``metadata.name`` → name; journey from annotation ``srekit.dev/journey``, else a
    ``journey`` label, else ``spec.service``; SLI kind from ``srekit.dev/sli``, else
    ``ratioMetric`` → availability and ``thresholdMetric`` → timeslice (threshold =
    objective ``value``); target, window, budgeting and timeslice fields from the first
    objective and time window. Raises :class:`ConfigError` naming the file and the problem.
    """
    docs: list[tuple[Path, dict[str, Any]]] = []
    for p in paths:
        path = Path(p)
        if not path.exists():
            raise ConfigError(f"OpenSLO file {path} does not exist. fix: correct slo.openslo in service.yaml")
        for d in load_documents(path):
            problems = validate_document(d)
            if problems:
                raise ConfigError(
                    f"{path}: invalid OpenSLO document: {'; '.join(problems[:5])}. fix: follow the OpenSLO v1 spec"
                )
            docs.append((path, d))
    slis = {d["metadata"]["name"]: d["spec"] for _, d in docs if d["kind"] == "SLI"}
    out = []
    for path, d in docs:
        if d["kind"] != "SLO":
            continue
        spec = d["spec"]
        md = d["metadata"]
        ann = md.get("annotations") or {}
        labels = md.get("labels") or {}
        sli = spec["indicator"].get("spec", {}) if "indicator" in spec else slis.get(spec["indicatorRef"])
        if sli is None:
            raise _fail(
                path,
                d,
                f"indicatorRef {spec['indicatorRef']!r} names no SLI in the given files",
                "add the SLI document or inline it as `indicator`",
            )
        obj = spec["objectives"][0] if spec["objectives"] else None
        if obj is None:
            raise _fail(path, d, "no objectives", "add one objective with a target")
        kind = ann.get(f"{ANNOTATION_PREFIX}sli") or ("availability" if "ratioMetric" in sli else "timeslice")
        threshold = ann.get(f"{ANNOTATION_PREFIX}threshold-ms")
        threshold_ms = float(threshold) if threshold is not None else (float(obj["value"]) if "value" in obj else None)
        tw = (spec.get("timeWindow") or [{"duration": "28d", "isRolling": True}])[0]
        window = parse_openslo_duration(tw["duration"])
        if not tw.get("isRolling", False) and tw["duration"] != "1M":
            raise _fail(
                path,
                d,
                f"calendar window {tw['duration']!r}: srekit budgets calendar months only",
                "use duration 1M with isRolling: false, or a rolling window (isRolling: true)",
            )
        if kind == "timeslice" and obj.get("op", "lte") not in ("lte", "lt"):
            raise _fail(
                path,
                d,
                f"objective op {obj['op']!r}: a threshold SLI counts a sample as bad above the "
                "objective's value (op lte)",
                "use op: lte (good when at or below value)",
            )
        budgeting = spec["budgetingMethod"]
        tsw = obj.get("timeSliceWindow")
        try:
            out.append(
                SLOSpec(
                    name=str(ann.get(f"{ANNOTATION_PREFIX}name") or md["name"]),
                    journey=str(ann.get(f"{ANNOTATION_PREFIX}journey") or labels.get("journey") or spec["service"]),
                    sli=cast(SliKind, kind),
                    target=float(obj["target"]),
                    window=window,
                    window_kind="rolling" if tw.get("isRolling", False) else "calendar_month",
                    budgeting=budgeting,
                    threshold_ms=threshold_ms,
                    timeslice_target=float(obj["timeSliceTarget"]) if "timeSliceTarget" in obj else None,
                    timeslice_window=(
                        parse_openslo_duration(tsw) if isinstance(tsw, str) else pd.Timedelta(seconds=float(tsw))
                    )
                    if tsw is not None
                    else None,
                )
            )
        except ValueError as exc:
            raise _fail(
                path, d, str(exc), "give a target in (0, 1) and, for latency/threshold SLIs, a threshold"
            ) from exc
    return tuple(out)
