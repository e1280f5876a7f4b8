"""Prometheus as a live data source: pull history over the HTTP API straight into the
aggregated telemetry form (docs/architecture.md, "The aggregated telemetry model").

Correct by construction:

* The raw counters (request counter and histogram ``_bucket`` series) are read with
  ``/api/v1/query_range`` at the interval step, one series at a time, and differenced
  client-side. No ``rate()``/``increase()`` is involved, so the result does not depend on the
  server's extrapolation or on range-boundary semantics (Prometheus 3 made range selectors
  left-open, which silently empties an aligned ``increase(x[1m])`` at a 1m step).
* A counter that goes down was reset; the increase over that step is the new value (the same
  rule as Prometheus' own ``increase``).
* The value at step ``t`` is the last sample at or before ``t``; the difference between steps
  ``t − Δ`` and ``t`` is the increase in ``(t − Δ, t]`` and is filed under
  ``interval_start = t − Δ``.
* Every range query is split so that no series returns more than ``MAX_POINTS`` points (the
  server refuses more than 11,000 per series).
* A step where a series has no value (no sample within the server's look-back) cannot be
  differenced: that interval is left out for that series and counted as a gap in the ledger,
  never interpolated. A step whose latest sample is older than the previous step (a missed
  scrape: the server repeats the last value) is counted as a scrape miss; its increase shows
  up in the next interval that has a fresh sample.
"""

from __future__ import annotations

import math
import os
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from srekit.core.errors import ConfigError, InputError, input_error
from srekit.core.limits import DEFAULT_LIMITS, Limits, check_limit
from srekit.core.timeutil import format_duration
from srekit.inputs.columns import MISSING_JOURNEY
from srekit.inputs.config import PrometheusConfig
from srekit.inputs.ledger import LedgerEntry
from srekit.inputs.telemetry import canonical, edge_label, empty, label_columns, labelled

MAX_POINTS = 10_000  # per series per query; the server's hard limit is 11,000


@dataclass(frozen=True, slots=True)
class RangeChunk:
    """One range query's time span (both ends inclusive, aligned to the step)."""

    start: pd.Timestamp
    end: pd.Timestamp


def chunks(
    start: pd.Timestamp, end: pd.Timestamp, step: pd.Timedelta, max_points: int = MAX_POINTS
) -> list[RangeChunk]:
    """Split ``[start, end]`` into spans of at most ``max_points`` steps that share their
    boundary points, so differences across chunk borders are still computed."""
    if end <= start:
        raise ValueError(f"end {end} must be after start {start}")
    if max_points < 2:
        raise ValueError("max_points must be at least 2")
    span = step * (max_points - 1)
    out = []
    lo = start
    while lo < end:
        hi = min(lo + span, end)
        out.append(RangeChunk(lo, hi))
        lo = hi
    return out


def counter_increases(values: np.ndarray) -> tuple[np.ndarray, int]:
    """Per-step increases of a counter sampled at regular steps (NaN where absent).

    Returns the increases (length ``len(values) - 1``, NaN where either end is missing) and the
    number of counter resets seen (a decrease: the increase is then the new value).
    """
    prev, cur = values[:-1], values[1:]
    inc = cur - prev
    reset = inc < 0
    inc = np.where(reset, cur, inc)
    return inc, int(np.nansum(reset))


def resolve_time(value: pd.Timestamp | str | None, now: pd.Timestamp, name: str) -> pd.Timestamp:
    """A pull bound: an ISO stamp (naive = UTC), ``now``, or ``now-28d`` / ``-28d`` relative
    to ``now``."""
    if value is None:
        raise InputError(
            f"a Prometheus pull needs a {name} time. fix: pass --{name} or set prometheus.{name} (ISO time or now-28d)"
        )
    if isinstance(value, pd.Timestamp):
        ts = value
    else:
        text = str(value).strip()
        rel = text[3:] if text.startswith("now") else text
        if text == "now":
            return now
        if rel.startswith("-") and len(rel) > 2 and rel[1].isdigit() and rel[-1].isalpha():
            from srekit.core.timeutil import parse_duration

            return now - parse_duration(rel[1:])
        try:
            ts = pd.Timestamp(text)
        except ValueError as exc:
            raise InputError(
                f"prometheus {name} {text!r} is not a time. fix: use ISO 8601 (2026-10-01T00:00Z), now, or now-28d"
            ) from exc
    return ts.tz_localize("UTC") if ts.tzinfo is None else ts.tz_convert("UTC")


def le_to_ms(le: str, unit: str) -> float:
    """Histogram ``le`` label to a bucket edge in milliseconds (``+Inf`` → inf)."""
    value = float(le)
    if unit in ("seconds", "s"):
        value *= 1000.0
    elif unit not in ("milliseconds", "ms"):
        raise ValueError(f"latency_unit must be seconds or milliseconds, got {unit!r}")
    return round(value, 6) if math.isfinite(value) else value


class PrometheusClient:
    """A small HTTP client for ``/api/v1/query_range`` with auth, TLS options, timeouts and
    retries. Credentials come from environment variables named in the config."""

    def __init__(self, cfg: PrometheusConfig, *, env: dict[str, str] | None = None) -> None:
        import requests

        if not cfg.url:
            raise InputError("no Prometheus URL. fix: set prometheus.url in service.yaml or pass --url")
        self.cfg = cfg
        self.base = cfg.url.rstrip("/")
        self.session = requests.Session()
        env = dict(os.environ) if env is None else env
        token = env.get(cfg.bearer_token_env)
        user, password = env.get(cfg.username_env), env.get(cfg.password_env)
        if token:
            self.session.headers["Authorization"] = f"Bearer {token}"
        elif user is not None:
            self.session.auth = (user, password or "")
        self.session.verify = cfg.verify_tls

    def query_range(self, query: str, chunk: RangeChunk, step: pd.Timedelta) -> list[dict[str, Any]]:
        """``result`` of one range query; raises :class:`InputError` naming URL and query."""
        import requests

        url = f"{self.base}/api/v1/query_range"
        params = {
            "query": query,
            "start": f"{chunk.start.timestamp():.3f}",
            "end": f"{chunk.end.timestamp():.3f}",
            "step": f"{step.total_seconds():g}s",
        }
        last: str = ""
        for attempt in range(self.cfg.retries + 1):
            try:
                resp = self.session.post(url, data=params, timeout=self.cfg.timeout_s)
            except requests.RequestException as exc:
                last = f"{type(exc).__name__}: {exc}"
            else:
                if resp.status_code == 200:
                    body = resp.json()
                    if body.get("status") == "success":
                        return list(body["data"]["result"])
                    last = f"{body.get('errorType')}: {body.get('error')}"
                    break  # a query error will not go away by retrying
                last = f"HTTP {resp.status_code}: {resp.text[:300]}"
                if resp.status_code in (400, 401, 403, 404, 422):
                    break
            if attempt < self.cfg.retries:
                time.sleep(min(0.5 * 2**attempt, 5.0))
        raise InputError(
            f"Prometheus query failed (url {url}; query {query!r}; "
            f"{chunk.start.isoformat()} to {chunk.end.isoformat()}): {last}. "
            "fix: check prometheus.url, the credentials in "
            f"{self.cfg.bearer_token_env} or {self.cfg.username_env}/{self.cfg.password_env}, "
            "and the metric names in service.yaml"
        )


@dataclass(frozen=True, slots=True)
class SeriesValues:
    """Values of one series at the step grid (NaN where absent) plus the sample age check."""

    labels: dict[str, str]
    values: np.ndarray


def _grid(start: pd.Timestamp, end: pd.Timestamp, step: pd.Timedelta) -> pd.DatetimeIndex:
    return pd.date_range(start, end, freq=step, tz="UTC")


def _collect(
    client: PrometheusClient,
    queries: list[str],
    grid: pd.DatetimeIndex,
    step: pd.Timedelta,
    tick: Callable[[], None],
    workers: int = 4,
    limits: Limits = DEFAULT_LIMITS,
) -> list[list[SeriesValues]]:
    """All series of each query on ``grid`` (values placed by timestamp, NaN where absent).

    The (query, chunk) range queries run concurrently; the server evaluates them in parallel.
    Each new series costs ``len(grid)`` values: past ``limits.pull_points`` in all the pull
    stops (the queries not yet run are cancelled) with a :class:`LimitError`.
    """
    from concurrent.futures import ThreadPoolExecutor

    origin = grid[0].timestamp()
    secs = step.total_seconds()
    spans = chunks(grid[0], grid[-1], step)
    jobs = [(q, c) for q in queries for c in spans]
    found: dict[str, dict[tuple[tuple[str, str], ...], np.ndarray]] = {q: {} for q in queries}
    with ThreadPoolExecutor(max_workers=workers) as pool:
        futures = [pool.submit(client.query_range, q, c, step) for q, c in jobs]
        try:
            for (q, _), fut in zip(jobs, futures, strict=True):
                for res in fut.result():
                    key = tuple(sorted(res["metric"].items()))
                    arr = found[q].get(key)
                    if arr is None:
                        _check_points(sum(map(len, found.values())) + 1, grid, step, limits)
                        arr = found[q][key] = np.full(len(grid), np.nan)
                    pts = np.asarray(res["values"], dtype=float).reshape(-1, 2)
                    pos = np.rint((pts[:, 0] - origin) / secs).astype(np.int64)
                    ok = (pos >= 0) & (pos < len(grid))
                    arr[pos[ok]] = pts[ok, 1]
                tick()
        except BaseException:
            for f in futures:
                f.cancel()
            raise
    return [[SeriesValues(dict(k), v) for k, v in found[q].items()] for q in queries]


def _check_points(
    series: int, grid: pd.DatetimeIndex | tuple[pd.Timestamp, pd.Timestamp], step: pd.Timedelta, limits: Limits
) -> None:
    """:class:`LimitError` when ``series`` series on the steps from ``grid[0]`` to ``grid[-1]``
    exceed ``limits.pull_points`` values."""
    steps = int((grid[-1] - grid[0]) // step) + 1
    check_limit(
        limits,
        "pull_points",
        series * steps,
        f"pulling {grid[0].isoformat()} to {grid[-1].isoformat()} every {format_duration(step)} "
        f"({series:,} series × {steps:,} steps)",
        "pull a shorter span (--start/--end), a coarser --interval or fewer series (prometheus.selector)",
        "values",
    )


def _selector(metric: str, cfg: PrometheusConfig) -> str:
    extra = cfg.selector.strip().strip("{}")
    return f"{metric}{{{extra}}}" if extra else metric


def _check_by(cfg: PrometheusConfig, limits: Limits) -> None:
    """``prometheus.by``: labels other than the journey, status and ``le`` labels, each once,
    at most ``limits.max_labels``."""
    taken = {cfg.journey_label, cfg.status_label, "le", "journey", "interval_start", "total", "errors"}
    clash = [b for b in cfg.by if b in taken or b.lower().startswith("le_")]
    if clash or len(set(cfg.by)) != len(cfg.by):
        raise ConfigError(
            f"prometheus.by {list(cfg.by)}: {clash or 'a label repeated'} cannot be kept as a label column. "
            "fix: list extra labels only (region, status_class), each once; the journey and status labels are "
            "prometheus.journey_label and prometheus.status_label"
        )
    if len(cfg.by) > limits.max_labels:
        raise ConfigError(
            f"prometheus.by lists {len(cfg.by)} labels, more than limits.max_labels = {limits.max_labels}. "
            "fix: keep the labels you break SLOs down by; " + Limits.raise_hint("max_labels", limits.max_labels)
        )


def pull_telemetry(
    cfg: PrometheusConfig,
    *,
    start: pd.Timestamp | str | None = None,
    end: pd.Timestamp | str | None = None,
    progress: bool = False,
    client: PrometheusClient | None = None,
    limits: Limits = DEFAULT_LIMITS,
) -> tuple[pd.DataFrame, LedgerEntry]:
    """Pull ``[start, end)`` from Prometheus as aggregated telemetry (one row per journey ×
    interval) and its ledger entry.

    ``start``/``end`` default to ``cfg.start``/``cfg.end``; both are required in the end. They
    are aligned down to the interval. A span of more steps than ``limits.pull_points`` is
    refused before the first query; the series are counted against it as they arrive.
    """
    step = cfg.interval
    now = pd.Timestamp.now(tz="UTC")  # only used for relative bounds such as "now-28d"
    t0 = resolve_time(start if start is not None else cfg.start, now, "start").floor(step)
    t1 = resolve_time(end if end is not None else cfg.end or "now", now, "end").floor(step)
    if t1 <= t0:
        raise InputError(f"Prometheus pull: end {t1} is not after start {t0}. fix: pass an end later than the start")
    _check_by(cfg, limits)
    _check_points(1, (t0, t1), step, limits)  # before any query or allocation
    client = client or PrometheusClient(cfg)
    grid = _grid(t0, t1, step)
    starts = grid[:-1]
    n_chunks = len(chunks(grid[0], grid[-1], step))
    bar = _progress(3 * n_chunks, progress)
    counter_q = _selector(cfg.request_counter, cfg)
    bucket_q = _selector(f"{cfg.latency_histogram}_bucket", cfg)
    counters, stamps, buckets = _collect(
        client, [counter_q, f"timestamp({counter_q})", bucket_q], grid, step, bar.update_one, limits=limits
    )
    bar.close()
    if not counters:
        raise input_error(
            "Prometheus returned no series for the request counter",
            file=cfg.url,
            column=counter_q,
            fix="check prometheus.request_counter and prometheus.selector in service.yaml, and the time range",
        )

    import re

    err_re = re.compile(cfg.error_status_regex)
    jl, sl = cfg.journey_label, cfg.status_label
    resets = gaps = 0
    parts: dict[tuple[str, ...], dict[str, np.ndarray]] = {}

    def key(labels: dict[str, str]) -> tuple[str, ...]:
        """The series' journey and its ``prometheus.by`` label values (``unknown`` when absent)."""
        return (labels.get(jl, "all"), *(labels.get(b) or MISSING_JOURNEY for b in cfg.by))

    def add(journey: tuple[str, ...], column: str, inc: np.ndarray) -> None:
        cols = parts.setdefault(journey, {})
        acc = cols.get(column)
        cols[column] = np.where(np.isnan(inc), 0.0, inc) + (0.0 if acc is None else acc)
        seen = cols.setdefault("_seen", np.zeros(len(inc), dtype=bool))
        cols["_seen"] = seen | ~np.isnan(inc)

    for s in counters:
        inc, r = counter_increases(s.values)
        resets += r
        gaps += int(np.isnan(inc).sum())
        journey = key(s.labels)
        add(journey, "total", inc)
        if err_re.fullmatch(s.labels.get(sl, "")):
            add(journey, "errors", inc)
    edges: set[float] = set()
    for s in buckets:
        le = s.labels.get("le")
        if le is None:
            continue
        ms = le_to_ms(le, cfg.latency_unit)
        if not math.isfinite(ms):
            continue
        edges.add(ms)
        inc, r = counter_increases(s.values)
        resets += r
        add(key(s.labels), edge_label(ms), inc)
    misses = 0
    grid_s = ((grid - pd.Timestamp(0, tz="UTC")) / pd.Timedelta(seconds=1)).to_numpy(dtype=float)
    prev_step = np.concatenate([[np.nan], grid_s[:-1]])
    for s in stamps:
        stale = (s.values <= prev_step) & ~np.isnan(s.values)
        misses += int(stale[1:].sum())

    cols_sorted = [edge_label(e) for e in sorted(edges)]
    frames = []
    for journey, cols in parts.items():
        seen = cols["_seen"]
        df = pd.DataFrame({"interval_start": starts[seen]})
        for name, value in reversed(list(zip(("journey", *cfg.by), journey, strict=True))):
            df.insert(0, name, value)
        df["total"] = cols.get("total", np.zeros(len(starts)))[seen]
        df["errors"] = cols.get("errors", np.zeros(len(starts)))[seen]
        for c in cols_sorted:
            df[c] = cols.get(c, np.zeros(len(starts)))[seen]
        frames.append(df)
    if not frames:
        out = empty(sorted(edges), labels=cfg.by)
    elif cfg.by:  # one row per journey × label values × interval (docs/prometheus.md, "Labels")
        out = labelled(pd.concat(frames, ignore_index=True), cfg.by)
    else:
        out = canonical(pd.concat(frames, ignore_index=True))
    entry = LedgerEntry(
        kind="prometheus",
        source=f"{cfg.url} {counter_q} / {bucket_q}",
        rows_read=len(out),
        rows_accepted=len(out),
        notes={
            "series_counter": len(counters),
            "series_buckets": len(buckets),
            "steps": len(starts),
            "range_queries": 3 * n_chunks,
            "gaps_not_interpolated": gaps,
            "scrape_misses": misses,
            "counter_resets": resets,
        },
        start=out["interval_start"].min() if len(out) else None,
        end=out["interval_start"].max() if len(out) else None,
    )
    return out, entry


class _Bar:
    def __init__(self, total: int, enabled: bool) -> None:
        self._bar = None
        if enabled and sys.stderr.isatty():
            from tqdm import tqdm

            self._bar = tqdm(total=total, desc="prometheus", unit="query", file=sys.stderr)

    def update_one(self) -> None:
        if self._bar is not None:
            self._bar.update(1)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()


def _progress(total: int, enabled: bool) -> _Bar:
    return _Bar(total, enabled)


def iter_openmetrics(
    history: pd.DataFrame, cfg: PrometheusConfig, *, error_code: str = "500", ok_code: str = "200"
) -> Iterator[str]:
    """Render aggregated telemetry as OpenMetrics counters (for backfilling a Prometheus with
    ``promtool tsdb create-blocks-from openmetrics``): the counter value at the end of each
    interval is the cumulative count through it. Timestamps are seconds; each series ascending;
    ends with ``# EOF``. The inverse of :func:`pull_telemetry` on a clean history.
    """
    les = [c for c in history.columns if c.startswith("le_")]
    unit_scale = 1000.0 if cfg.latency_unit in ("seconds", "s") else 1.0
    counter = cfg.request_counter
    hist = f"{cfg.latency_histogram}_bucket"
    extra = label_columns(history)  # label columns (region, …) become Prometheus labels of the same name
    series: list[tuple[dict[str, str], pd.DataFrame]] = []
    for key, part in history.sort_values("interval_start").groupby(["journey", *extra], sort=True):
        values = [str(v) for v in (key if isinstance(key, tuple) else (key,))]
        base = {cfg.journey_label: values[0], **dict(zip(extra, values[1:], strict=True))}
        ts = (part["interval_start"].astype("int64") // 10**6 + 60).to_numpy()  # end of interval (s)
        ok = (part["total"] - part["errors"]).cumsum().to_numpy()
        err = part["errors"].cumsum().to_numpy()
        yield from _om_lines(counter, {**base, cfg.status_label: ok_code}, ts, ok, created=ts[0] - 60)
        yield from _om_lines(counter, {**base, cfg.status_label: error_code}, ts, err, created=ts[0] - 60)
        series.append((base, part))
    for base, part in series:
        ts = (part["interval_start"].astype("int64") // 10**6 + 60).to_numpy()
        for c in les:
            le = f"{float(c[3:]) / unit_scale:g}"
            yield from _om_lines(hist, {**base, "le": le}, ts, part[c].cumsum().to_numpy(), created=ts[0] - 60)
        yield from _om_lines(hist, {**base, "le": "+Inf"}, ts, part["total"].cumsum().to_numpy(), created=ts[0] - 60)
    yield "# EOF\n"


def _om_lines(name: str, labels: dict[str, str], ts: np.ndarray, values: np.ndarray, *, created: int) -> Iterator[str]:
    lab = ",".join(f'{k}="{v}"' for k, v in labels.items())
    yield f"{name}{{{lab}}} 0 {int(created)}\n"
    for t, v in zip(ts.tolist(), values.tolist(), strict=True):
        yield f"{name}{{{lab}}} {int(v)} {int(t)}\n"
