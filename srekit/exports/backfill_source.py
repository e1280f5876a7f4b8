"""The source Prometheus of a backfill, asked before promtool runs: its version, retention and
evaluation interval (``/api/v1/status``), whether the series the rules read exist in the range
(``/api/v1/series``), and when the live srekit rules began recording (the backfill stops there).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd

from srekit.exports.promql_scan import prom_duration
from srekit.inputs.prometheus import PrometheusClient, RangeChunk
from srekit.inputs.promql import quote


@dataclass(frozen=True, slots=True)
class SourceFacts:
    """What the source Prometheus says about itself (each ``None`` when it does not say: Thanos,
    Mimir and proxies answer only part of the status API)."""

    version: tuple[int, int, int] | None = None
    retention: pd.Timedelta | None = None
    evaluation_interval: pd.Timedelta | None = None


def source_facts(client: PrometheusClient) -> SourceFacts:
    """Version (``/api/v1/status/buildinfo``), retention (``/flags``) and the global
    ``evaluation_interval`` (``/config``) of the source, best effort."""
    build = _status(client, "buildinfo")
    flags = _status(client, "flags")
    config = _status(client, "config")
    m = re.match(r"(\d+)\.(\d+)\.(\d+)", str(build.get("version", "")))
    version = (int(m.group(1)), int(m.group(2)), int(m.group(3))) if m else None
    retention = _duration(flags.get("storage.tsdb.retention.time")) or _duration(flags.get("storage.tsdb.retention"))
    return SourceFacts(version, retention, _evaluation_interval(config.get("yaml")))


def _evaluation_interval(config_yaml: object) -> pd.Timedelta | None:
    import yaml

    if not isinstance(config_yaml, str):
        return None
    try:
        doc = yaml.safe_load(config_yaml)
    except yaml.YAMLError:
        return None
    glob = doc.get("global") if isinstance(doc, dict) else None
    return _duration(glob.get("evaluation_interval")) if isinstance(glob, dict) else None


def _status(client: PrometheusClient, what: str) -> dict[str, Any]:
    import requests

    try:
        resp = client.session.get(f"{client.base}/api/v1/status/{what}", timeout=client.cfg.timeout_s)
        body = resp.json() if resp.status_code == 200 else {}
    except (requests.RequestException, ValueError):
        return {}
    data = body.get("data") if isinstance(body, dict) else None
    return data if isinstance(data, dict) else {}


def _duration(text: object) -> pd.Timedelta | None:
    if not isinstance(text, str) or not text or text == "0s":
        return None
    try:
        value = prom_duration(text)
    except ValueError:
        return None
    return value if value > pd.Timedelta(0) else None


def live_since(
    client: PrometheusClient, service: str, start: pd.Timestamp, end: pd.Timestamp, step: pd.Timedelta
) -> pd.Timestamp | None:
    """When the live srekit rules of ``service`` began recording in the source, if that is before
    ``end`` (the backfill must stop there, or the two would record the same minutes twice)."""
    from srekit.inputs.prometheus import chunks

    query = f'count(slo:objective:ratio{{srekit_service="{quote(service)}"}})'
    coarse = max(step, ((end - start) / 2000).ceil("s"))
    first = _first_point(client, query, chunks(start, end, coarse), coarse)
    if first is None:
        return None
    lo = max(start, first - coarse)
    fine = _first_point(client, query, chunks(lo, first, step), step) if lo < first else None
    return fine if fine is not None else first


def _first_point(
    client: PrometheusClient, query: str, spans: Sequence[RangeChunk], step: pd.Timedelta
) -> pd.Timestamp | None:
    for span in spans:
        result = client.query_range(query, span, step)
        stamps = [float(v[0]) for series in result for v in series.get("values", [])]
        if stamps:
            return pd.Timestamp(min(stamps), unit="s", tz="UTC")
    return None


def selectors_without_series(
    client: PrometheusClient, selectors: Sequence[str], start: pd.Timestamp, end: pd.Timestamp
) -> list[str]:
    """The selectors for which the source has no series between ``start`` and ``end``
    (``/api/v1/series``); a selector the server cannot answer for is not reported."""
    import requests

    missing = []
    for sel in selectors:
        params = {"match[]": sel, "start": f"{start.timestamp():.0f}", "end": f"{end.timestamp():.0f}"}
        try:
            resp = client.session.get(f"{client.base}/api/v1/series", params=params, timeout=client.cfg.timeout_s)
            body = resp.json() if resp.status_code == 200 else {}
        except (requests.RequestException, ValueError):
            continue
        if body.get("status") == "success" and not body.get("data"):
            missing.append(sel)
    return missing
