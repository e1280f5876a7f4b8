"""Vendor incident formats mapped onto srekit's canonical incident columns.

Each preset turns the vendor's records (parsed JSON documents, or the rows of a CSV export that
uses the vendor's field names) into a flat table of *text* values under the canonical names of
:data:`srekit.inputs.columns.INCIDENTS`. Validation, timestamp parsing (with the DST rule) and the
ledger happen afterwards in :func:`srekit.inputs.loaders.load_incidents`, exactly as for a generic CSV, so a
vendor file is held to the same rules.

Presets (documented with examples in ``docs/inputs.md``):

``pagerduty``
    PagerDuty Analytics raw incidents (``POST /analytics/raw/incidents``: ``{"data": [...]}``)
    or a CSV with those field names. ``created_at`` → started/detected, ``created_at +
    seconds_to_first_ack`` → acknowledged, ``resolved_at`` → resolved (``status`` other than
    ``resolved`` → open), ``priority_name`` (``SEV-2``, ``P1``…) → severity, ``major: true`` with
    no priority → SEV1, ``description`` → title, ``service_name`` → journey.
``opsgenie``
    Opsgenie alerts (``GET /v2/alerts``: ``{"data": [...]}``) or a CSV export. ``tinyId`` (else
    ``id``) → id, ``message`` → title, ``createdAt`` → started/detected, ``createdAt +
    report.ackTime`` (ms) or ``acknowledgedAt`` → acknowledged, ``createdAt + report.closeTime``
    (ms), else ``closedAt``, else ``updatedAt`` when ``status`` is ``closed`` → resolved,
    ``priority`` P1..P5 → severity.
``statuspage``
    Atlassian Statuspage incidents as the public API publishes them: a JSON array of incident
    documents (bare, or ``{"incident": {...}}`` as in ``/api/v2/incidents/<id>.json``), or
    ``{"incidents": [...]}``. ``started_at`` (else ``created_at``) → started, ``created_at`` (the
    first public post; Statuspage has no "detected" field) → detected, first ``identified``
    update → acknowledged, ``monitoring_at`` (else first ``monitoring`` update) → mitigated,
    ``resolved_at`` → resolved, ``impact`` → severity, first affected component → journey.
``gcp``
    Google Cloud status ``incidents.json`` (``begin``, ``created``, ``end``, ``severity``
    high/medium/low, ``external_desc``, ``service_name``).
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from srekit.core.errors import input_error
from srekit.core.limits import YEAR_CEILING, YEAR_FLOOR, Limits
from srekit.inputs.columns import INCIDENTS
from srekit.inputs.timeparse import epoch_number_us, parse_utc, stamp_bounds_us

Record = Mapping[str, Any]
PRESETS = ("pagerduty", "opsgenie", "statuspage", "gcp")
_ANY_YEAR = Limits(min_year=YEAR_FLOOR, max_year=YEAR_CEILING)
_MAX_OFFSET_S = 366 * 86400  # an acknowledgement or close more than a year after creation is not a delay


def _text(v: Any) -> str:
    """A JSON value as the text a CSV cell would hold ('' for null)."""
    if v is None:
        return ""
    if isinstance(v, bool):
        return "true" if v else "false"
    return str(v)


def _get(rec: Record, *names: str) -> Any:
    """First present, non-null value among dotted field names (``report.ackTime``)."""
    for name in names:
        if name in rec and rec[name] not in (None, ""):
            return rec[name]
        node: Any = rec
        for part in name.split("."):
            node = node.get(part) if isinstance(node, Mapping) else None
        if node not in (None, ""):
            return node
    return None


def _plus(start: Any, amount: Any, unit: str, tz: str) -> str:
    """``start`` (a stamp) + ``amount`` (seconds or ms) as an ISO UTC string, '' when either is
    absent. An amount that is not a finite number of seconds within a year, or a start that is
    not a stamp, gives a text that no stamp parser accepts (``<start> + <amount> s``), so the row
    is rejected as unparseable with the vendor's values in view instead of losing the stamp."""
    if start in (None, "") or amount in (None, ""):
        return ""
    invalid = f"{_text(start)} + {_text(amount)} {unit}"
    try:
        seconds = float(amount) / (1000.0 if unit == "ms" else 1.0)
    except (TypeError, ValueError, OverflowError):  # text, a list, a huge integer
        return invalid
    if not math.isfinite(seconds) or not 0 <= seconds <= _MAX_OFFSET_S:
        return invalid
    base = _stamp(start, tz)
    return invalid if base is None else (base + pd.Timedelta(seconds=seconds)).isoformat()


def _stamp(value: Any, tz: str) -> pd.Timestamp | None:
    """A vendor stamp (text, or an epoch number) in UTC; None when it is not an accepted stamp.
    Any representable year is taken here: the loader applies ``limits.min_year``/``max_year`` to
    the stamps a preset produces."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        try:
            us, bad = epoch_number_us(np.array([float(value)]))
        except OverflowError:
            return None
        lo, hi = stamp_bounds_us(_ANY_YEAR)
        if bad[0] or not lo <= int(us[0]) < hi:
            return None
        return pd.Timestamp(int(us[0]), unit="us", tz="UTC")
    parsed = parse_utc(pd.Series([str(value)], dtype="str"), tz, _ANY_YEAR)
    ts = parsed.utc.iloc[0]
    return None if pd.isna(ts) else ts


def _row(**values: Any) -> dict[str, str]:
    row = {c: "" for c in INCIDENTS}
    for k, v in values.items():
        row[k] = _text(v)
    return row


def pagerduty(records: Sequence[Record], tz: str) -> list[dict[str, str]]:
    """PagerDuty Analytics raw-incident records → canonical text rows."""
    out = []
    for r in records:
        status = str(_get(r, "status") or "").lower()
        priority = _get(r, "priority_name", "priority.summary")
        if priority is None and _get(r, "major") in (True, "true", "True"):
            priority = "SEV1"
        created = _get(r, "created_at")
        out.append(
            _row(
                id=_get(r, "id", "incident_number"),
                title=_get(r, "description", "title", "summary"),
                started_at=created,
                detected_at=created,
                acknowledged_at=_plus(created, _get(r, "seconds_to_first_ack"), "s", tz),
                resolved_at=_get(r, "resolved_at") if status in ("", "resolved") else "",
                severity=priority,
                journey=_get(r, "service_name", "service.summary"),
            )
        )
    return out


def opsgenie(records: Sequence[Record], tz: str) -> list[dict[str, str]]:
    """Opsgenie alert records → canonical text rows (report times are milliseconds)."""
    out = []
    for r in records:
        created = _get(r, "createdAt")
        ack = _plus(created, _get(r, "report.ackTime", "ackTime"), "ms", tz) or _get(r, "acknowledgedAt")
        closed = _plus(created, _get(r, "report.closeTime", "closeTime"), "ms", tz) or _get(r, "closedAt")
        status = str(_get(r, "status") or "").lower()
        if not closed and status == "closed":
            closed = _get(r, "updatedAt")
        if status == "open":
            closed = ""
        out.append(
            _row(
                id=_get(r, "tinyId", "id"),
                title=_get(r, "message", "title"),
                started_at=created,
                detected_at=created,
                acknowledged_at=ack,
                resolved_at=closed,
                severity=_get(r, "priority"),
                journey=_get(r, "entity"),
            )
        )
    return out


def _first_update(updates: Any, status: str) -> Any:
    """``created_at`` of the earliest update with ``status`` (updates that are not objects, or
    whose stamp does not parse, are skipped)."""
    if not isinstance(updates, Sequence) or isinstance(updates, str):
        return None
    stamps = [
        u.get("created_at")
        for u in updates
        if isinstance(u, Mapping) and u.get("status") == status and u.get("created_at")
    ]
    parsed = [(ts, s) for s in stamps if (ts := _stamp(s, "UTC")) is not None]
    return min(parsed, key=lambda p: p[0])[1] if parsed else None


def _first_component(comps: Any) -> str | None:
    """Name of the first affected component: a list of component objects (API) or a
    text cell separated by commas or semicolons (a flat CSV export)."""
    if isinstance(comps, str):
        return re.split(r"[,;]", comps)[0].strip() or None
    if isinstance(comps, Sequence) and comps and isinstance(comps[0], Mapping):
        name = comps[0].get("name")
        return None if name is None else _text(name)
    return None


def statuspage(records: Sequence[Record], tz: str) -> list[dict[str, str]]:
    """Atlassian Statuspage incident documents → canonical text rows."""
    out = []
    for doc in records:
        r = doc["incident"] if isinstance(doc.get("incident"), Mapping) else doc
        updates = r.get("incident_updates") or []
        comps = r.get("components") or []
        status = str(r.get("status") or "").lower()
        resolved = r.get("resolved_at") if status in ("", "resolved", "postmortem", "completed") else ""
        out.append(
            _row(
                id=r.get("id"),
                title=r.get("name"),
                started_at=_get(r, "started_at", "created_at"),
                detected_at=r.get("created_at"),
                acknowledged_at=_first_update(updates, "identified"),
                mitigated_at=_get(r, "monitoring_at") or _first_update(updates, "monitoring"),
                resolved_at=resolved,
                severity=r.get("impact"),
                journey=_first_component(comps),
            )
        )
    return out


def gcp(records: Sequence[Record], tz: str) -> list[dict[str, str]]:
    """Google Cloud status ``incidents.json`` records → canonical text rows."""
    return [
        _row(
            id=_get(r, "id", "number"),
            title=_get(r, "external_desc"),
            started_at=_get(r, "begin"),
            detected_at=_get(r, "created"),
            resolved_at=_get(r, "end"),
            severity=_get(r, "severity"),
            journey=_get(r, "service_name"),
        )
        for r in records
    ]


CONVERTERS: dict[str, Callable[[Sequence[Record], str], list[dict[str, str]]]] = {
    "pagerduty": pagerduty,
    "opsgenie": opsgenie,
    "statuspage": statuspage,
    "gcp": gcp,
}


def records_of(doc: Any, *, source: str) -> list[Record]:
    """The list of records inside a JSON document: a bare array, or the array under
    ``data`` / ``incidents`` / ``alerts`` / ``items``."""
    if isinstance(doc, list):
        recs = doc
    elif isinstance(doc, Mapping):
        key = next((k for k in ("data", "incidents", "alerts", "items") if isinstance(doc.get(k), list)), None)
        if key is None:
            raise input_error(
                "JSON document holds no list of records",
                file=source,
                expected="a JSON array of objects, or an object with a `data`/`incidents` array",
                got=f"an object with keys {sorted(doc)[:10]}",
                fix="export the records as a JSON array",
            )
        recs = doc[key]
    else:
        raise input_error(
            "JSON document is not an array or object",
            file=source,
            got=type(doc).__name__,
            fix="export the records as a JSON array",
        )
    bad = [i + 1 for i, r in enumerate(recs) if not isinstance(r, Mapping)]
    if bad:
        raise input_error(
            "JSON records must be objects",
            file=source,
            rows=bad,
            fix="each element of the array must be an object with named fields",
        )
    return list(recs)


def detect(records: Sequence[Record]) -> str | None:
    """Guess the preset of JSON incident records from their field names (None = generic)."""
    if not records:
        return None
    first = records[0]
    keys = set(first["incident"]) if isinstance(first.get("incident"), Mapping) else set(first)
    if {"incident_updates", "impact"} & keys or ("shortlink" in keys and "started_at" in keys):
        return "statuspage"
    if {"begin", "external_desc"} <= keys:
        return "gcp"
    if {"tinyId", "createdAt"} & keys:
        return "opsgenie"
    if {"seconds_to_first_ack", "priority_name", "incident_number"} & keys:
        return "pagerduty"
    return None


def convert(preset: str, records: Sequence[Record], tz: str) -> pd.DataFrame:
    """Run a preset: a frame of text values under the canonical incident columns."""
    rows = CONVERTERS[preset](records, tz)
    return pd.DataFrame(rows, columns=list(INCIDENTS), dtype="str")
