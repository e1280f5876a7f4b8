"""Deterministic sample data with known ground truth (data/samples/README.md describes them).

A small storefront ("shopfront") with three user journeys is simulated minute by minute:

* traffic: Poisson counts whose rate follows a diurnal curve in the service's local time
  (Europe/Berlin, so the curve moves by an hour in UTC when DST ends), a weekly pattern, a
  slow growth trend and a day-to-day wobble;
* errors: binomial draws at a small baseline ratio;
* latency: a lognormal mixture per journey (a fast body plus a slow tail, as measured request
  latencies typically are, see *The Tail at Scale*, Dean & Barroso, CACM 2013), reduced to
  Prometheus-style cumulative buckets by multinomial draws of the per-bucket probabilities;
* injected events of four kinds (hard outages, partial error bursts, latency regressions,
  slow burns) from a fixed 90-day catalogue whose ground truth is returned and written.

Companion logs (incidents, pages, toil, deploys, a p95 latency gauge) share the timeline. All
functions here are pure given a seeded :class:`numpy.random.Generator`, except
:func:`write_samples`, which writes the files (byte-identical for identical arguments).
"""

from __future__ import annotations

import gzip
import hashlib
import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from types import MappingProxyType
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
from scipy import optimize, stats

from srekit.inputs.columns import INCIDENTS
from srekit.inputs.telemetry import edge_label

#: Last instant of the generated period (exclusive end); fixed so that files are reproducible.
END = pd.Timestamp("2026-10-31T00:00:00Z")
SERVICE = "shopfront"
TIMEZONE = "Europe/Berlin"

#: Bucket edges (ms). A Prometheus-style ladder of 24 edges from 5 ms to 30 s: dense where the
#: SLO thresholds of web journeys live (100 ms – 2.5 s), sparse in the tail. 24 edges rather
#: than the 100+ of ``telemetry.DEFAULT_EDGES_MS`` keep 90 days × 3 journeys × 1-minute rows
#: of the committed samples within the 15 MB budget. Requests slower than 30 s count in
#: ``total`` only (Prometheus' ``+Inf`` bucket).
SAMPLE_EDGES_MS: tuple[float, ...] = (
    5,
    10,
    25,
    50,
    75,
    100,
    150,
    200,
    250,
    300,
    400,
    500,
    750,
    1000,
    1500,
    2000,
    2500,
    3000,
    5000,
    7500,
    10000,
    15000,
    20000,
    30000,
)

_FIVE_MIN = pd.Timedelta(minutes=5)
_HOUR = pd.Timedelta(hours=1)

#: Mean requests per minute over all journeys in the aggregated telemetry (≈ 10 req/s).
DEFAULT_RPM = 600.0
#: Default rate of the raw request log (requests per second over all journeys); a sample of
#: the same model at a lower rate so that one day stays a few MB gzipped.
DEFAULT_RAW_RPS = 2.0

KINDS = ("hard_outage", "error_burst", "latency_regression", "slow_burn")


@dataclass(frozen=True, slots=True)
class JourneyModel:
    """Traffic share, error baseline and latency mixture of one journey.

    Latency is a two-component lognormal mixture: with probability ``1 − tail_share`` a body
    with median ``median_ms`` and log-sd ``sigma``; otherwise a slow tail with median
    ``tail_median_ms`` and log-sd ``tail_sigma``.
    """

    name: str
    service: str
    share: float
    base_error_ratio: float
    weekend_factor: float
    median_ms: float
    sigma: float
    tail_share: float
    tail_median_ms: float
    tail_sigma: float

    def __post_init__(self) -> None:
        if not 0 < self.share <= 1 or not 0 <= self.base_error_ratio < 1 or not 0 <= self.tail_share < 1:
            raise ValueError(f"journey model {self.name}: shares and ratios must be in [0, 1]")
        if min(self.median_ms, self.sigma, self.tail_median_ms, self.tail_sigma, self.weekend_factor) <= 0:
            raise ValueError(f"journey model {self.name}: medians, sigmas and weekend factor must be positive")

    def cdf(self, ms: np.ndarray | float, factor: np.ndarray | float = 1.0) -> np.ndarray:
        """P(latency ≤ ms) when every latency is multiplied by ``factor``."""
        x = np.asarray(ms, dtype=float) / np.asarray(factor, dtype=float)
        body = stats.lognorm.cdf(x, self.sigma, scale=self.median_ms)
        tail = stats.lognorm.cdf(x, self.tail_sigma, scale=self.tail_median_ms)
        return np.asarray((1 - self.tail_share) * body + self.tail_share * tail)

    def quantile(self, q: float) -> float:
        """Latency quantile (ms) of the undisturbed mixture."""
        return float(optimize.brentq(lambda v: float(self.cdf(v)) - q, 1e-3, 1e7, xtol=1e-9))

    def sample(self, n: int, rng: np.random.Generator) -> np.ndarray:
        """``n`` latencies (ms) of the undisturbed mixture."""
        tail = rng.random(n) < self.tail_share
        med = np.where(tail, self.tail_median_ms, self.median_ms)
        sig = np.where(tail, self.tail_sigma, self.sigma)
        return med * np.exp(sig * rng.standard_normal(n))

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "service": self.service,
            "share": self.share,
            "base_error_ratio": self.base_error_ratio,
            "weekend_factor": self.weekend_factor,
            "median_ms": self.median_ms,
            "sigma": self.sigma,
            "tail_share": self.tail_share,
            "tail_median_ms": self.tail_median_ms,
            "tail_sigma": self.tail_sigma,
            "p50_ms": self.quantile(0.5),
            "p95_ms": self.quantile(0.95),
            "p99_ms": self.quantile(0.99),
        }


JOURNEYS: tuple[JourneyModel, ...] = (
    JourneyModel("browse", "web-frontend", 0.60, 0.0002, 1.10, 60.0, 0.50, 0.03, 400.0, 0.80),
    JourneyModel("search", "search-api", 0.30, 0.0003, 0.95, 150.0, 0.55, 0.05, 900.0, 0.70),
    JourneyModel("checkout", "checkout-api", 0.10, 0.0002, 0.80, 250.0, 0.45, 0.015, 900.0, 0.60),
)
#: A low-traffic journey (≈ 3 requests a minute, one at night): one failed request in a quiet hour
#: is above the page rule's threshold, so the report shows the low-traffic remedies (issue 16).
#: Generated from its own random stream, so the three journeys above stay as they were.
LOW_TRAFFIC = JourneyModel("refunds", "payments-api", 0.005, 0.0003, 0.6, 180.0, 0.5, 0.01, 800.0, 0.6)


@dataclass(frozen=True, slots=True)
class InjectedEvent:
    """One injected disturbance: during [start, end) the journey's error ratio becomes
    ``1 − (1 − baseline)(1 − error_ratio)`` and every latency is multiplied by
    ``latency_factor``. ``incident_id`` is the incident that recorded it, or None."""

    id: str
    kind: str
    journey: str
    start: pd.Timestamp
    end: pd.Timestamp
    error_ratio: float
    latency_factor: float
    incident_id: str | None

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"event {self.id}: kind must be one of {KINDS}, got {self.kind!r}")
        if self.end <= self.start:
            raise ValueError(f"event {self.id}: end must be after start")
        if not 0 <= self.error_ratio <= 1 or self.latency_factor <= 0:
            raise ValueError(f"event {self.id}: error_ratio in [0, 1] and latency_factor > 0")

    @property
    def minutes(self) -> int:
        return int((self.end - self.start) / pd.Timedelta(minutes=1))

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "kind": self.kind,
            "journey": self.journey,
            "start": _iso(self.start),
            "end": _iso(self.end),
            "duration_minutes": self.minutes,
            "error_ratio": self.error_ratio,
            "latency_factor": self.latency_factor,
            "incident_id": self.incident_id,
        }


@dataclass(frozen=True, slots=True)
class _IncidentTemplate:
    key: str
    title: str
    severity: str
    cause: str
    detection: str
    postmortem: str
    items_open: int
    items_closed: int
    resolve_hours: float
    journey: str | None = None  # for incidents without a telemetry event
    day: float = 0.0  # for incidents without a telemetry event (day offset in the template)
    hours: float = 1.0  # their duration
    open: bool = False
    rollback: bool = False


# The 90-day template: (event key, kind, journey, start day offset (fractional days from the
# template start), duration minutes, error ratio, latency factor, incident key or None).
# Day 0 is the first day of the period; with the default 90 days that is 2026-08-02 (a Sunday).
# Quiet stretches: days 14–29 and 57–78 carry no telemetry event.
_EVENTS: tuple[tuple[str, str, str, float, int, float, float, str | None], ...] = (
    ("E01", "hard_outage", "checkout", 3 + 10.2 / 24, 18, 0.97, 1.0, "I01"),
    ("E02", "error_burst", "search", 6 + (15 + 40 / 60) / 24, 35, 0.12, 1.0, "I02"),
    ("E03", "latency_regression", "browse", 9 + 13 / 24, 240, 0.0, 3.0, "I03"),
    ("E04", "slow_burn", "checkout", 11 + 2 / 24, 60 * 60, 0.004, 1.0, "I04"),
    ("E05", "error_burst", "browse", 30 + 2.5 / 24, 12, 0.15, 1.0, None),
    ("E06", "error_burst", "checkout", 34 + 11 / 24 + 20 / 1440, 25, 0.08, 1.2, "I06"),
    ("E07", "latency_regression", "search", 38 + 16 / 24, 360, 0.0, 2.2, "I07"),
    ("E08", "slow_burn", "search", 41, 60 * 60, 0.003, 1.0, None),
    ("E09", "hard_outage", "browse", 47 + 9.5 / 24, 12, 0.99, 1.0, "I09"),
    ("E10", "hard_outage", "search", 47 + 9.5 / 24, 12, 0.99, 1.0, "I09"),
    ("E11", "error_burst", "browse", 52 + 14.25 / 24, 45, 0.06, 1.0, "I11"),
    ("E12", "error_burst", "checkout", 56 + 3 / 24 + 40 / 1440, 15, 0.20, 1.0, None),
    ("E13", "hard_outage", "checkout", 79 + 13.5 / 24, 15, 0.95, 4.0, "I13"),
    ("E14", "latency_regression", "checkout", 84 + 8 / 24, 180, 0.0, 2.5, "I14"),
    ("E15", "slow_burn", "browse", 87 + 10 / 24, 58 * 60, 0.0035, 1.0, "I15"),
    ("E16", "error_burst", "search", 89 + 9 / 24, 20, 0.15, 1.0, "I16"),
)

_INCIDENTS: tuple[_IncidentTemplate, ...] = (
    _IncidentTemplate(
        "I01",
        "Checkout returns 503 after payment-client release",
        "SEV1",
        "bad deploy",
        "alert",
        "done",
        1,
        4,
        3.0,
        rollback=True,
    ),
    _IncidentTemplate(
        "I02",
        "Search errors from recommendation dependency timeouts",
        "SEV3",
        "dependency timeout",
        "alert",
        "done",
        1,
        2,
        2.0,
    ),
    _IncidentTemplate(
        "I03",
        "Product pages slow: missing index after migration",
        "SEV3",
        "database slow queries",
        "customer",
        "done",
        0,
        3,
        6.0,
    ),
    _IncidentTemplate(
        "I04",
        "Intermittent checkout failures from stale feature flag",
        "SEV4",
        "config change",
        "internal",
        "pending",
        2,
        0,
        8.0,
    ),
    _IncidentTemplate(
        "I06",
        "Checkout errors: payment provider timeouts",
        "SEV2",
        "dependency timeout",
        "alert",
        "done",
        2,
        1,
        4.0,
        rollback=True,
    ),
    _IncidentTemplate(
        "I07", "Search latency high during catalogue reindex", "SEV3", "capacity", "alert", "none", 0, 0, 3.0
    ),
    _IncidentTemplate(
        "I09", "Site down: load balancer network partition", "SEV1", "network partition", "alert", "done", 3, 3, 5.0
    ),
    _IncidentTemplate(
        "I11",
        "Browse errors after frontend release",
        "SEV3",
        "bad deploy",
        "alert",
        "pending",
        1,
        0,
        1.5,
        rollback=True,
    ),
    _IncidentTemplate(
        "I13", "Checkout down during database failover", "SEV1", "database failover", "customer", "done", 4, 1, 6.0
    ),
    _IncidentTemplate(
        "I14",
        "Checkout slow: unindexed query in order history",
        "SEV2",
        "database slow queries",
        "alert",
        "pending",
        2,
        0,
        4.0,
    ),
    _IncidentTemplate(
        "I15",
        "Elevated browse errors from cache node evictions",
        "SEV3",
        "capacity",
        "internal",
        "none",
        1,
        0,
        0.0,
        open=True,
    ),
    _IncidentTemplate(
        "I16",
        "Search errors from recommendation dependency timeouts (again)",
        "SEV3",
        "dependency timeout",
        "alert",
        "none",
        0,
        0,
        2.0,
    ),
    # invisible in the request telemetry (internal tooling)
    _IncidentTemplate(
        "I20",
        "CI pipeline broken: build runners out of disk",
        "SEV4",
        "capacity",
        "internal",
        "none",
        0,
        1,
        0.0,
        day=20 + 9 / 24,
        hours=5.0,
    ),
    _IncidentTemplate(
        "I21",
        "Expired TLS certificate on internal admin panel",
        "SEV3",
        "expired certificate",
        "internal",
        "done",
        1,
        2,
        0.0,
        day=65 + 7.5 / 24,
        hours=2.5,
    ),
    _IncidentTemplate(
        "I22",
        "Log pipeline backlog: dashboards delayed",
        "SEV4",
        "capacity",
        "alert",
        "none",
        0,
        0,
        0.0,
        day=72 + 22 / 24,
        hours=9.0,
    ),
)

# Cause-based (noisy) alerts: name, severity, rate per day, probability actionable.
_NOISE_ALERTS: tuple[tuple[str, str, float, float], ...] = (
    ("CPUHigh", "page", 0.6, 0.08),
    ("MemoryPressure", "page", 0.3, 0.05),
    ("PodRestarting", "page", 0.4, 0.15),
    ("DiskFull", "ticket", 0.15, 0.4),
    ("QueueDepthHigh", "ticket", 0.25, 0.2),
    ("CertificateExpiringSoon", "ticket", 0.04, 1.0),
)

# Toil tasks: task, category, automatable, median minutes, events/week at start, at end.
_TOIL_TASKS: tuple[tuple[str, str, bool, float, float, float], ...] = (
    ("restart stuck queue workers", "interrupt", True, 25.0, 2.0, 9.0),
    ("clean up disk on log hosts", "maintenance", True, 40.0, 1.0, 5.0),
    ("grant access requests", "request", True, 15.0, 5.0, 5.5),
    ("approve and babysit deploys", "release", True, 30.0, 6.0, 7.0),
    ("renew certificates by hand", "maintenance", True, 60.0, 0.25, 0.25),
    ("weekly capacity report", "reporting", False, 75.0, 1.0, 1.0),
    ("triage noisy CPUHigh pages", "interrupt", False, 10.0, 3.0, 4.5),
    ("customer escalation lookups", "request", False, 35.0, 1.5, 2.0),
)
_ENGINEERS = ("alice", "bob", "carol", "dan", "erin")


def _iso(ts: pd.Timestamp | None) -> str | None:
    if ts is None or pd.isna(ts):
        return None
    return pd.Timestamp(ts).tz_convert("UTC").strftime("%Y-%m-%dT%H:%M:%SZ")


def period(days: int, end: pd.Timestamp = END) -> tuple[pd.Timestamp, pd.Timestamp]:
    """[start, end) of a generated period of ``days`` whole days."""
    if days < 1:
        raise ValueError(f"days must be at least 1, got {days}")
    return end - pd.Timedelta(days=days), end


def _tiles(start: pd.Timestamp, end: pd.Timestamp) -> list[pd.Timestamp]:
    """Start instants of the 90-day templates, anchored at ``end`` and repeated backwards."""
    n = math.ceil((end - start) / pd.Timedelta(days=90))
    return [end - pd.Timedelta(days=90 * (k + 1)) for k in range(n)][::-1]


def events(days: int, end: pd.Timestamp = END) -> tuple[InjectedEvent, ...]:
    """The injected events of a period: the 90-day catalogue anchored at ``end`` (tiled
    backwards for longer periods); events not wholly inside the period are left out."""
    start, end = period(days, end)
    out = []
    for k, t0 in enumerate(_tiles(start, end)):
        suffix = "" if k == len(_tiles(start, end)) - 1 else f"-{k + 1}"
        for key, kind, journey, day, minutes, err, lat, inc in _EVENTS:
            s = (t0 + pd.Timedelta(days=day)).round("min")
            e = s + pd.Timedelta(minutes=minutes)
            if s >= start and e <= end:
                out.append(
                    InjectedEvent(key + suffix, kind, journey, s, e, err, lat, None if inc is None else inc + suffix)
                )
    return tuple(sorted(out, key=lambda ev: (ev.start, ev.id)))


def _minutes(start: pd.Timestamp, end: pd.Timestamp) -> pd.DatetimeIndex:
    return pd.date_range(start, end, freq="min", inclusive="left", tz="UTC").as_unit("us")


def traffic_shape(index: pd.DatetimeIndex, model: JourneyModel, *, timezone: str = TIMEZONE) -> np.ndarray:
    """Relative request rate per interval (mean ≈ 1 on weekdays): a diurnal curve in local
    time (trough ≈ 04:00, peak ≈ 15:00, an evening shoulder), the journey's weekend factor and
    a 10 % linear growth over 90 days."""
    local = index.tz_convert(timezone)
    h = local.hour.to_numpy() + local.minute.to_numpy() / 60.0
    diurnal = 1.0 + 0.62 * np.cos(2 * np.pi * (h - 15.0) / 24.0) + 0.12 * np.cos(4 * np.pi * (h - 20.0) / 24.0)
    weekend = np.where(local.day_of_week.to_numpy() >= 5, model.weekend_factor, 1.0)
    days = (index - END).total_seconds().to_numpy() / 86400.0
    growth = 1.0 + 0.10 * days / 90.0
    return np.asarray(diurnal * weekend * growth, dtype=float)


def _effects(
    index: pd.DatetimeIndex, journey: JourneyModel, evs: Sequence[InjectedEvent]
) -> tuple[np.ndarray, np.ndarray]:
    """Per-interval error ratio and latency factor of one journey."""
    err = np.full(len(index), journey.base_error_ratio)
    lat = np.ones(len(index))
    for ev in evs:
        if ev.journey != journey.name:
            continue
        lo, hi = index.searchsorted(ev.start), index.searchsorted(ev.end)
        err[lo:hi] = 1 - (1 - err[lo:hi]) * (1 - ev.error_ratio)
        lat[lo:hi] *= ev.latency_factor
    return err, lat


def _bucket_counts(total: np.ndarray, probs: np.ndarray, which: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Multinomial counts per row, as sequential conditional binomials vectorised over rows.

    ``probs`` holds one probability vector per distinct latency profile (rows sum to 1);
    ``which[i]`` is the profile of row ``i`` (few profiles, so no rows × buckets float array).
    """
    rest = np.cumsum(probs[:, ::-1], axis=1)[:, ::-1]  # mass of bucket k and above
    cond = np.clip(np.divide(probs, rest, out=np.ones_like(probs), where=rest > 1e-15), 0.0, 1.0)
    out = np.empty((len(total), probs.shape[1]), dtype=np.int64)
    remaining = total.astype(np.int64).copy()
    for k in range(probs.shape[1] - 1):
        out[:, k] = rng.binomial(remaining, cond[which, k])
        remaining -= out[:, k]
    out[:, -1] = remaining
    return out


def generate_telemetry(
    days: int,
    rng: np.random.Generator,
    *,
    rpm: float = DEFAULT_RPM,
    edges: Sequence[float] = SAMPLE_EDGES_MS,
    journeys: Sequence[JourneyModel] = JOURNEYS,
    injected: Sequence[InjectedEvent] | None = None,
    end: pd.Timestamp = END,
    timezone: str = TIMEZONE,
) -> pd.DataFrame:
    """Aggregated 1-minute telemetry (``srekit.inputs.telemetry`` form) for the period.

    Counts: total ~ Poisson(rpm · share · shape · day wobble), errors ~ Binomial(total,
    error ratio), bucket counts ~ Multinomial(total, P(edge_{k-1} < latency ≤ edge_k)).
    """
    start, end = period(days, end)
    evs = events(days, end) if injected is None else injected
    index = _minutes(start, end)
    edges_a = np.asarray(edges, dtype=float)
    day_of = ((index - start) // pd.Timedelta(days=1)).to_numpy()
    totals, errs, cums = [], [], []
    for model in journeys:
        wobble = np.exp(0.05 * rng.standard_normal(days + 1))[day_of]
        lam = rpm * model.share * traffic_shape(index, model, timezone=timezone) * wobble
        total = rng.poisson(lam).astype(np.int64)
        err_ratio, factor = _effects(index, model, evs)
        errs.append(rng.binomial(total, err_ratio).astype(np.int64))
        profiles, which = np.unique(factor, return_inverse=True)
        cdf = model.cdf(edges_a[None, :], profiles[:, None])
        ones = np.ones((len(profiles), 1))
        probs = np.diff(np.concatenate([0 * ones, cdf, ones], axis=1), axis=1)
        counts = _bucket_counts(total, probs, which, rng)
        cums.append(np.cumsum(counts[:, :-1], axis=1))
        totals.append(total)
        del counts
    # canonical layout (telemetry.canonical): key, counts, edges ascending; rows by journey, time
    order = sorted(range(len(journeys)), key=lambda k: journeys[k].name)
    n = len(index)
    cols: dict[str, Any] = {
        "journey": pd.array(np.repeat([journeys[k].name for k in order], n), dtype="str"),
        "interval_start": pd.DatetimeIndex(np.tile(index.tz_convert(None).to_numpy(), len(order))).tz_localize("UTC"),
        "total": np.concatenate([totals[k] for k in order]),
        "errors": np.concatenate([errs[k] for k in order]),
    }
    for c, e in enumerate(edges_a):
        cols[edge_label(e)] = np.concatenate([cums[k][:, c] for k in order])
    return pd.DataFrame(cols)


#: The sample's regions and their share of a journey's traffic (telemetry label ``region``).
REGIONS: tuple[tuple[str, float], ...] = (("eu-west-1", 0.6), ("us-east-1", 0.4))
#: Journeys served from one region only (their rows of the other regions would be all zero). Browse
#: is the largest journey and refunds the smallest: keeping them in one region keeps data/samples
#: within its 15 MB budget (every split journey doubles its rows).
SINGLE_REGION: Mapping[str, str] = MappingProxyType({"browse": "eu-west-1", "refunds": "eu-west-1"})
#: Injected events confined to one region: 90% of the errors of their rows fall there.
REGIONAL_EVENTS: Mapping[str, str] = MappingProxyType({"E16": "eu-west-1", "E06": "us-east-1"})
REGIONAL_SHARE = 0.9


def _hypergeometric_split(
    errors: np.ndarray, totals: Sequence[np.ndarray], rng: np.random.Generator
) -> list[np.ndarray]:
    """``errors`` (each ≤ the sum of ``totals``) split over the regions without replacement: what
    region ``r`` gets never exceeds ``totals[r]`` (sequential univariate hypergeometric draws)."""
    rest_err = errors.copy()
    rest_tot = np.sum(totals, axis=0)
    out = []
    for tot in totals[:-1]:
        rest_tot = rest_tot - tot
        got = rng.hypergeometric(tot, rest_tot, rest_err) if rest_err.any() else np.zeros_like(rest_err)
        out.append(got)
        rest_err = rest_err - got
    out.append(rest_err)
    return out


def _split_errors(
    errors: np.ndarray, totals: list[np.ndarray], regional: np.ndarray, rng: np.random.Generator
) -> list[np.ndarray]:
    """Errors per region: in proportion to traffic, except in rows of a regional event
    (``regional[i]`` = the region's index, −1 for none), where that region takes about
    :data:`REGIONAL_SHARE` of them (never more than its requests, never leaving the others more
    than theirs)."""
    out = _hypergeometric_split(errors, totals, rng)
    whole = np.sum(totals, axis=0)
    for r in np.unique(regional[regional >= 0]).tolist():
        rows = np.flatnonzero(regional == r)
        e, tot_r = errors[rows], totals[r][rows]
        mine = np.clip(rng.binomial(e, REGIONAL_SHARE), e - (whole[rows] - tot_r), tot_r)
        others = [t[rows] for k, t in enumerate(totals) if k != r]
        rest = iter(_hypergeometric_split(e - mine, others, rng))
        for k in range(len(totals)):
            out[k][rows] = mine if k == r else next(rest)
    return out


def split_regions(
    telemetry: pd.DataFrame, rng: np.random.Generator, injected: Sequence[InjectedEvent] = ()
) -> pd.DataFrame:
    """Telemetry with a ``region`` label column (:data:`REGIONS`): every row's requests split per
    latency bucket by the regions' traffic shares, its errors in proportion (or, inside
    :data:`REGIONAL_EVENTS`, mostly in that region). Summed over the regions, the rows are
    ``telemetry``'s exactly."""
    les = [c for c in telemetry.columns if c.startswith("le_")]
    cum = telemetry[les].to_numpy(dtype=np.int64)
    total = telemetry["total"].to_numpy(dtype=np.int64)
    buckets = np.diff(np.concatenate([np.zeros((len(cum), 1), np.int64), cum, total[:, None]], axis=1), axis=1)
    names = [n for n, _ in REGIONS]
    journeys = telemetry["journey"].astype(str)
    shares = np.tile(np.array([w for _, w in REGIONS]), (len(telemetry), 1))
    for journey, region in SINGLE_REGION.items():
        shares[(journeys == journey).to_numpy()] = np.array(names) == region
    parts = [np.zeros_like(buckets) for _ in REGIONS]
    remaining = buckets.copy()
    for r in range(len(REGIONS) - 1):  # multinomial per bucket as sequential binomials
        rest = shares[:, r:].sum(axis=1)
        p = np.divide(shares[:, r], rest, out=np.zeros(len(rest)), where=rest > 0)
        parts[r] = rng.binomial(remaining, p[:, None])
        remaining -= parts[r]
    parts[-1] = remaining
    regional = np.full(len(telemetry), -1)
    stamps = telemetry["interval_start"]
    for ev in injected:
        home = REGIONAL_EVENTS.get(ev.id.split("-")[0])
        if home is not None:
            hit = ((journeys == ev.journey) & (stamps >= ev.start) & (stamps < ev.end)).to_numpy()
            regional[hit] = names.index(home)
    totals = [p.sum(axis=1) for p in parts]
    errors = _split_errors(telemetry["errors"].to_numpy(dtype=np.int64), totals, regional, rng)
    frames = []
    for r, name in enumerate(names):
        frame = telemetry[["journey", "interval_start"]].copy()
        frame.insert(1, "region", pd.Series(name, index=frame.index, dtype="str"))
        frame["total"], frame["errors"] = totals[r], errors[r]
        frame[les] = np.cumsum(parts[r][:, :-1], axis=1)
        frames.append(frame[shares[:, r] > 0])
    out = pd.concat(frames, ignore_index=True)
    return out.sort_values(["journey", "region", "interval_start"], kind="stable").reset_index(drop=True)


def generate_series(
    days: int,
    rng: np.random.Generator,
    *,
    journey: str = "checkout",
    step: pd.Timedelta = _FIVE_MIN,
    journeys: Sequence[JourneyModel] = JOURNEYS,
    injected: Sequence[InjectedEvent] | None = None,
    end: pd.Timestamp = END,
) -> pd.DataFrame:
    """A p95 latency gauge (ms) of one journey per ``step``, as a dashboard exports it: the
    model's p95 times the mean latency factor of the step times a lognormal sampling wobble."""
    start, end = period(days, end)
    evs = events(days, end) if injected is None else injected
    model = next(m for m in journeys if m.name == journey)
    index = _minutes(start, end)
    _, factor = _effects(index, model, evs)
    per = int(step / pd.Timedelta(minutes=1))
    mean_factor = factor.reshape(-1, per).mean(axis=1)
    value = model.quantile(0.95) * mean_factor * np.exp(0.06 * rng.standard_normal(len(mean_factor)))
    stamps = index[::per]
    return pd.DataFrame({"timestamp": stamps, "value": np.round(value, 1), "journey": journey})


def _template_instant(t0: pd.Timestamp, day: float) -> pd.Timestamp:
    return (t0 + pd.Timedelta(days=day)).round("min")


def generate_incidents(
    days: int,
    rng: np.random.Generator,
    *,
    end: pd.Timestamp = END,
    injected: Sequence[InjectedEvent] | None = None,
) -> pd.DataFrame:
    """Incident records consistent with :func:`events` (generic incident CSV columns).

    Offsets: alert-detected 2–6 min after impact start, customer-reported 15–45 min (30–70 % into
    impacts shorter than 45 min), internal ones 10–40 min or, for impacts over 12 h, 1–40 h later;
    acknowledged 1–10 min after detection; mitigated at the end of the impact;
    resolved the template's hours after mitigation. One incident is still open (no
    resolved_at); three have no telemetry footprint (internal tooling). ``injected``: the events
    (default :func:`events`); a template incident whose events are not among them is left out.
    """
    start, end = period(days, end)
    evs = events(days, end) if injected is None else injected
    tiles = _tiles(start, end)
    rows = []
    for k, t0 in enumerate(tiles):
        suffix = "" if k == len(tiles) - 1 else f"-{k + 1}"
        for tpl in _INCIDENTS:
            iid = tpl.key + suffix
            linked = [e for e in evs if e.incident_id == iid]
            if linked:
                s = min(e.start for e in linked)
                m = max(e.end for e in linked)
                journey = linked[0].journey  # the primary journey; ground truth lists every one
            elif tpl.day:
                s = _template_instant(t0, tpl.day)
                m = s + pd.Timedelta(hours=tpl.hours)
                journey = tpl.journey or ""
                if s < start or m > end:
                    continue
            else:
                continue
            if tpl.detection == "alert":
                detect = rng.uniform(2, 6)
            elif tpl.detection == "customer":  # customers report while it hurts
                short = (m - s) < pd.Timedelta(minutes=45)
                detect = rng.uniform(0.3, 0.7) * (m - s).total_seconds() / 60 if short else rng.uniform(15, 45)
            else:
                detect = rng.uniform(60, 60 * 40) if (m - s) > pd.Timedelta(hours=12) else rng.uniform(10, 40)
            d = (s + pd.Timedelta(minutes=float(detect))).round("min")
            if linked and tpl.detection == "internal" and d >= m:
                d = s + (m - s) / 2
            a = (d + pd.Timedelta(minutes=float(rng.uniform(1, 10)))).round("min")
            mit = max(m, a + pd.Timedelta(minutes=1))
            still_open = tpl.open and k == len(tiles) - 1  # earlier copies were resolved since
            res = None
            if not still_open:
                hours = (12.0 if tpl.open else tpl.resolve_hours) + float(rng.uniform(0, 0.5))
                res = (mit + pd.Timedelta(hours=hours)).round("min")
            if res is not None and res > end:
                res = None
            rows.append(
                {
                    "id": iid,
                    "title": tpl.title,
                    "started_at": s,
                    "detected_at": d,
                    "acknowledged_at": a,
                    "mitigated_at": mit,
                    "resolved_at": res,
                    "severity": tpl.severity,
                    "cause": tpl.cause,
                    "detection": tpl.detection,
                    "journey": journey,
                    "postmortem": tpl.postmortem,
                    "action_items_open": tpl.items_open,
                    "action_items_closed": tpl.items_closed,
                }
            )
    df = pd.DataFrame(rows, columns=list(INCIDENTS))
    for c in ("started_at", "detected_at", "acknowledged_at", "mitigated_at", "resolved_at"):
        df[c] = pd.to_datetime(df[c], utc=True).astype("datetime64[us, UTC]")
    return df.sort_values(["started_at", "id"], kind="stable").reset_index(drop=True)


def _symptom_alert(journey: str, kind: str) -> str:
    word = journey.split(",")[0].capitalize()
    return f"{word}LatencyHigh" if kind == "latency_regression" else f"{word}HighErrorRate"


def generate_pages(
    days: int,
    incidents: pd.DataFrame,
    rng: np.random.Generator,
    *,
    end: pd.Timestamp = END,
    injected: Sequence[InjectedEvent] | None = None,
    noise: float = 1.0,
) -> pd.DataFrame:
    """The pages log: symptom-based pages for alert-detected incidents (actionable, linked),
    a non-actionable page for some unrecorded events, and noisy cause-based alerts (CPUHigh,
    DiskFull, …) at Poisson rates (times ``noise``), a third of them flapping (2–4 repeats within
    30 min)."""
    start, end = period(days, end)
    evs = events(days, end) if injected is None else injected
    rows: list[dict[str, Any]] = []
    for inc in incidents.to_dict("records"):
        if inc["detection"] != "alert":
            continue
        linked = [e for e in evs if e.incident_id == inc["id"]]
        kind = linked[0].kind if linked else "hard_outage"
        name = _symptom_alert(str(inc["journey"]), kind) if inc["journey"] else "LogPipelineLagHigh"
        for delay in (0, 15):  # detection, then the re-notification
            t = inc["detected_at"] + pd.Timedelta(minutes=delay)
            rows.append(
                {"timestamp": t, "alert": name, "severity": "page", "actionable": True, "incident_id": inc["id"]}
            )
    for ev in evs:
        if ev.incident_id is None and ev.kind == "error_burst":
            t = ev.start + pd.Timedelta(minutes=4)
            rows.append(
                {
                    "timestamp": t,
                    "alert": _symptom_alert(ev.journey, ev.kind),
                    "severity": "page",
                    "actionable": False,
                    "incident_id": None,
                }
            )
    n_days = int((end - start) / pd.Timedelta(days=1))
    for name, severity, rate, p_act in _NOISE_ALERTS:
        growth = np.linspace(0.8, 1.3, n_days)  # noisy alerts accumulate
        counts = rng.poisson(rate * noise * growth)
        for day, c in enumerate(counts):
            for _ in range(int(c)):
                t = start + pd.Timedelta(days=day) + pd.Timedelta(seconds=int(rng.integers(0, 86400)))
                act = bool(rng.random() < p_act)
                repeats = int(rng.integers(2, 5)) if rng.random() < 0.33 else 1
                for r in range(repeats):
                    tr = t + pd.Timedelta(seconds=r * int(rng.integers(300, 600)))
                    if tr < end:
                        rows.append(
                            {
                                "timestamp": tr,
                                "alert": name,
                                "severity": severity,
                                "actionable": act,
                                "incident_id": None,
                            }
                        )
    df = pd.DataFrame(rows, columns=["timestamp", "alert", "severity", "actionable", "incident_id"])
    df["timestamp"] = pd.to_datetime(df["timestamp"], utc=True).dt.floor("s").astype("datetime64[us, UTC]")
    df = df[(df["timestamp"] >= start) & (df["timestamp"] < end)]
    return df.sort_values(["timestamp", "alert"], kind="stable").reset_index(drop=True)


def generate_toil(days: int, rng: np.random.Generator, *, end: pd.Timestamp = END) -> pd.DataFrame:
    """The toil log: one row per occurrence of a recurring task. Rates grow linearly over the
    period for growing tasks (restarts, disk clean-up); minutes are lognormal around each
    task's median (σ = 0.4 in log space), whole minutes ≥ 5; weekends carry 10 % of a weekday."""
    start, end = period(days, end)
    dates = pd.date_range(start, end, freq="D", inclusive="left")
    frac = np.linspace(0.0, 1.0, len(dates))
    weekday = dates.day_of_week.to_numpy() < 5
    rows = []
    for task, cat, auto, median, rate0, rate1 in _TOIL_TASKS:
        per_day = (rate0 + (rate1 - rate0) * frac) / 5.0 * np.where(weekday, 1.0, 0.1)
        counts = rng.poisson(per_day)
        for i in np.flatnonzero(counts):
            for _ in range(int(counts[i])):
                minutes = max(5, int(round(median * math.exp(0.4 * rng.standard_normal()))))
                rows.append(
                    {
                        "date": dates[int(i)].strftime("%Y-%m-%d"),
                        "task": task,
                        "minutes": minutes,
                        "category": cat,
                        "engineer": _ENGINEERS[int(rng.integers(0, len(_ENGINEERS)))],
                        "automatable": auto,
                    }
                )
    df = pd.DataFrame(rows, columns=["date", "task", "minutes", "category", "engineer", "automatable"])
    return df.sort_values(["date", "task", "engineer", "minutes"], kind="stable").reset_index(drop=True)


def generate_deploys(
    days: int,
    incidents: pd.DataFrame,
    rng: np.random.Generator,
    *,
    end: pd.Timestamp = END,
    journeys: Sequence[JourneyModel] = JOURNEYS,
    timezone: str = TIMEZONE,
) -> pd.DataFrame:
    """Deploys per service: Poisson 2.5 per weekday in local working hours (0.2 on weekends),
    94 % success, 4 % failed, 2 % rolled back; incidents caused by a bad deploy get the bad
    release 3 minutes before impact and a rollback 2 minutes before mitigation."""
    start, end = period(days, end)
    dates = pd.date_range(start, end, freq="D", inclusive="left")
    weekday = dates.day_of_week.to_numpy() < 5
    rows: list[dict[str, Any]] = []
    for model in journeys:
        counts = rng.poisson(np.where(weekday, 2.5, 0.2))
        for i in np.flatnonzero(counts):
            local_day = dates[int(i)].tz_convert(timezone).normalize()
            for _ in range(int(counts[i])):
                t = (local_day + pd.Timedelta(hours=float(rng.uniform(9.5, 17.5)))).tz_convert("UTC")
                result = str(rng.choice(["success", "failed", "rollback"], p=[0.94, 0.04, 0.02]))
                rows.append({"timestamp": t, "result": result, "service": model.service})
    service_of = {m.name: m.service for m in journeys}
    by_key = {tpl.key: tpl for tpl in _INCIDENTS}
    for inc in incidents.to_dict("records"):
        tpl = by_key.get(str(inc["id"]).split("-")[0])
        if tpl is None or not tpl.rollback:
            continue
        service = service_of[str(inc["journey"])]
        rows.append({"timestamp": inc["started_at"] - pd.Timedelta(minutes=3), "result": "success", "service": service})
        rows.append(
            {"timestamp": inc["mitigated_at"] - pd.Timedelta(minutes=2), "result": "rollback", "service": service}
        )
    df = pd.DataFrame(rows, columns=["timestamp", "result", "service"])
    df["timestamp"] = pd.to_datetime(df["timestamp"], utc=True).dt.floor("s").astype("datetime64[us, UTC]")
    df = df[(df["timestamp"] >= start) & (df["timestamp"] < end)]
    return df.sort_values(["timestamp", "service"], kind="stable").reset_index(drop=True)


_OK_STATUS = np.array([200, 201, 204, 301, 304, 400, 404])
_OK_P = np.array([0.88, 0.02, 0.02, 0.01, 0.03, 0.01, 0.03])
_ERR_STATUS = np.array([500, 502, 503, 504])
_ERR_P = np.array([0.35, 0.15, 0.35, 0.15])


def _iso_ms(ms: np.ndarray, minutes: pd.DatetimeIndex) -> pa.Array:
    """ISO-8601 UTC text (``2026-10-30T09:00:05.123Z``) of epoch milliseconds that fall in the
    given minutes: a per-minute prefix plus zero-padded seconds and milliseconds (≈ 6× faster
    than ``pyarrow.compute.strftime``)."""
    first = minutes[0].as_unit("ms").to_datetime64().astype(np.int64) // 60_000
    prefixes = pa.array(np.datetime_as_string(minutes.tz_convert(None).to_numpy().astype("datetime64[m]"), unit="m"))
    minute = ms // 60_000
    within = ms - minute * 60_000
    prefix = prefixes.take(pa.array(minute - first))
    sec = pc.utf8_lpad(pc.cast(pa.array(within // 1000), pa.string()), 2, "0")
    milli = pc.utf8_lpad(pc.cast(pa.array(within % 1000), pa.string()), 3, "0")
    return pc.binary_join_element_wise(prefix, ":", sec, ".", milli, "Z", "")


def generate_requests_chunk(
    start: pd.Timestamp,
    end: pd.Timestamp,
    rps: float,
    rng: np.random.Generator,
    *,
    journeys: Sequence[JourneyModel] = JOURNEYS,
    injected: Sequence[InjectedEvent] = (),
) -> pa.Table:
    """Raw request events in [start, end) from the same model as the telemetry, at a mean of
    ``rps`` requests per second over all journeys. Columns: timestamp (UTC, ms), latency_ms
    (0.1 ms resolution), status (HTTP code; 5xx are errors), journey. Sorted by time."""
    index = _minutes(start, end)
    parts = []
    base_ms = index.as_unit("ms").asi8
    for model in journeys:
        lam = rps * 60.0 * model.share * traffic_shape(index, model)
        counts = rng.poisson(lam)
        n = int(counts.sum())
        minute = np.repeat(np.arange(len(index)), counts)
        err_ratio, factor = _effects(index, model, injected)
        ts = base_ms[minute] + rng.integers(0, 60_000, n)
        latency = np.round(model.sample(n, rng) * factor[minute], 1)
        latency = np.maximum(latency, 0.1)
        is_err = rng.random(n) < err_ratio[minute]
        status = np.where(is_err, rng.choice(_ERR_STATUS, n, p=_ERR_P), rng.choice(_OK_STATUS, n, p=_OK_P))
        parts.append((ts, latency, status, np.full(n, model.name, dtype=object)))
    ts = np.concatenate([p[0] for p in parts])
    order = np.argsort(ts, kind="stable")
    return pa.table(
        {
            "timestamp": _iso_ms(ts[order], index),
            "latency_ms": pa.array(np.concatenate([p[1] for p in parts])[order]),
            "status": pa.array(np.concatenate([p[2] for p in parts])[order].astype(np.int32)),
            "journey": pa.array(np.concatenate([p[3] for p in parts])[order], type=pa.string()),
        }
    )


def request_regions(table: pa.Table, rng: np.random.Generator) -> pa.Array:
    """A region per request of a raw log chunk: the telemetry's shares (:data:`REGIONS`), the
    single-region journeys in their region."""
    names = np.array([n for n, _ in REGIONS], dtype=object)
    region = rng.choice(names, table.num_rows, p=[w for _, w in REGIONS])
    journeys = table.column("journey").to_numpy(zero_copy_only=False)
    for journey, only in SINGLE_REGION.items():
        region[journeys == journey] = only
    return pa.array(region, type=pa.string())


def write_requests(
    path: Path,
    start: pd.Timestamp,
    end: pd.Timestamp,
    rps: float,
    rng: np.random.Generator,
    *,
    injected: Sequence[InjectedEvent] = (),
    chunk: pd.Timedelta = _HOUR,
    regions: np.random.Generator | None = None,
) -> int:
    """Write a raw request log chunk by chunk (bounded memory); gzip (mtime 0) when the name
    ends in ``.gz``. Returns the number of rows. ``regions``: a generator drawing each request's
    ``region`` (:func:`request_regions`, a last column); the other columns do not depend on it."""
    rows = 0
    raw = path.open("wb")
    sink = gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0, compresslevel=6) if path.suffix == ".gz" else raw
    try:
        sink.write(b"timestamp,latency_ms,status,journey" + (b",region\n" if regions is not None else b"\n"))
        opts = pacsv.WriteOptions(include_header=False, quoting_style="none")
        t = start
        while t < end:
            nxt = min(t + chunk, end)
            table = generate_requests_chunk(t, nxt, rps, rng, injected=injected)
            if regions is not None:
                table = table.append_column("region", request_regions(table, regions))
            pacsv.write_csv(table, sink, opts)
            rows += table.num_rows
            t = nxt
    finally:
        if sink is not raw:
            sink.close()
        raw.close()
    return rows


def _write_csv(df: pd.DataFrame, path: Path) -> None:
    out = df.copy()
    for c in out.columns:
        if isinstance(out[c].dtype, pd.DatetimeTZDtype):
            out[c] = out[c].dt.strftime("%Y-%m-%dT%H:%M:%SZ")
        elif out[c].dtype == bool or str(out[c].dtype) == "boolean":
            out[c] = out[c].map({True: "true", False: "false"})
    out.to_csv(path, index=False, lineterminator="\n", float_format="%.1f", na_rep="")


def _write_parquet(df: pd.DataFrame, path: Path) -> None:
    table = pa.Table.from_pandas(df, preserve_index=False)
    table = table.replace_schema_metadata(None)  # no library versions in the file
    # Delta encoding of the (time-ordered) counts: ≈ 25 % smaller than dictionary encoding here.
    fields = table.schema
    text = [f.name for f in fields if pa.types.is_string(f.type) or pa.types.is_large_string(f.type)]  # journey, region
    delta = {c: "DELTA_BINARY_PACKED" for c in table.column_names if c not in text}
    pq.write_table(
        table,
        path,
        compression="zstd",
        compression_level=9,
        use_dictionary=text,
        column_encoding=delta,
        write_statistics=True,
    )


#: The injected event that was planned work (a failover drill of checkout): a maintenance
#: correction in the sample service.yaml (issue 16).
PLANNED_EVENT = "E12"


def sample_corrections(days: int = 90, end: pd.Timestamp = END) -> str:
    """The ``corrections:`` block of the sample service.yaml: the planned failover drill
    (:data:`PLANNED_EVENT`, when the period holds it) as a one-off maintenance window of checkout,
    and the weekly search index rebuild on Sundays 03:00–03:30 local time (RRULE) for search."""
    tz = TIMEZONE
    start, _ = period(days, end)
    first = start.tz_convert(tz).normalize()
    first_sunday = first + pd.Timedelta(days=(6 - first.weekday()) % 7) + pd.Timedelta(hours=3)
    lines = ["corrections:"]
    drill = next((e for e in events(days, end) if e.id == PLANNED_EVENT), None)
    if drill is not None:
        local = (drill.start.floor("30min")).tz_convert(tz)
        lines += [
            f"  - start: {local:%Y-%m-%dT%H:%M}          # local time ({tz})",
            "    duration: 30m",
            "    reason: planned database failover drill of checkout, announced the week before",
            "    kind: maintenance",
            "    slos: [checkout]",
        ]
    lines += [
        f"  - start: {first_sunday:%Y-%m-%dT%H:%M}          # the first Sunday, 03:00 local time",
        "    rrule: FREQ=WEEKLY;BYDAY=SU",
        "    duration: 30m",
        "    reason: weekly search index rebuild (search answers from a stale replica)",
        "    kind: maintenance",
        "    slos: [search]",
    ]
    return "\n".join(lines) + "\n"


def service_yaml(*, journeys: Sequence[JourneyModel] = JOURNEYS, days: int = 90) -> str:
    """The sample ``service.yaml``: explicit SLO targets for checkout, none for browse and
    search (so both the evaluate-targets and the propose-options paths run), and the period's
    maintenance windows (:func:`sample_corrections`)."""
    return f"""# Sample service generated by `srekit samples` (see README.md in this folder).
service: {SERVICE}
owner: team-storefront
timezone: {TIMEZONE}
data:
  telemetry: telemetry.parquet
  series: series.csv
  incidents: incidents.csv
  alerts: pages.csv
  toil: toil.csv
  deploys: deploys.csv
  # The raw request log is a separate lower-rate sample of the last day for the raw path:
  #   srekit aggregate data/samples/requests_1d.csv.gz --by region --out telemetry_1d.parquet
journeys:
  - name: checkout
    owner: payments-team
    description: Pay for the basket and get an order confirmation.
    slos:
      availability: 0.999
      latency:
        threshold_ms: 1500
        target: 0.99
  - name: browse
    description: Open the home page and product pages.
  - name: search
    description: Search the catalogue.
  - name: {LOW_TRAFFIC.name}
    owner: payments-team
    description: Refund an order (a few requests a minute; one at night).
    slos:
      availability: 0.999
      latency:
        threshold_ms: 1000
        target: 0.99
slo:
  window: 28d
oncall:
  coverage: 24x7
  team: storefront-sre
  engineers: 5
owners:
  default: team-storefront
  slo: dan
  alerting: alice
  incidents: bob
  toil: carol
  backlog: erin
toil:
  team_size: 5
{sample_corrections(days)}"""


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def write_samples(
    out_dir: str | Path,
    *,
    days: int = 90,
    seed: int = 7,
    raw_days: int | None = None,
    rps: float | None = None,
    raw_format: str = "csv.gz",
    rpm: float = DEFAULT_RPM,
) -> list[Path]:
    """Generate every sample file into ``out_dir`` and return the paths written.

    Parameters
    ----------
    out_dir : folder to write (created).
    days : length of the period (whole days) ending at :data:`END`.
    seed : seed of the ``numpy.random.SeedSequence``; each file has its own child stream.
    raw_days : days of raw request log (the last ``raw_days`` of the period); default 1.
    rps : mean raw requests per second over all journeys; default :data:`DEFAULT_RAW_RPS`.
    raw_format : ``csv.gz`` (default) or ``csv``.
    rpm : mean requests per minute of the aggregated telemetry over all journeys.

    Identical arguments give byte-identical files (Parquet without pandas/pyarrow metadata,
    gzip with mtime 0, fixed float formatting).
    """
    if raw_days is not None and not 1 <= raw_days <= days:
        raise ValueError(f"raw_days must be between 1 and days ({days}), got {raw_days}")
    if rps is not None and rps <= 0:
        raise ValueError(f"rps must be positive, got {rps}")
    if raw_format not in ("csv.gz", "csv"):
        raise ValueError(f"raw_format must be csv.gz or csv, got {raw_format!r}")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    # each file its own stream; 7: the regions, 8: the low-traffic journey, 9: the raw log's regions
    streams = [np.random.default_rng(s) for s in np.random.SeedSequence(seed).spawn(10)]
    start, end = period(days)
    evs = events(days)
    n_raw = raw_days or 1
    raw_rps = rps or DEFAULT_RAW_RPS

    written: list[Path] = []
    telemetry = pd.concat(
        [
            generate_telemetry(days, streams[0], rpm=rpm, injected=evs),
            generate_telemetry(days, streams[8], rpm=rpm, journeys=(LOW_TRAFFIC,), injected=evs),
        ],
        ignore_index=True,
    ).sort_values(["journey", "interval_start"], kind="stable", ignore_index=True)
    telemetry = split_regions(telemetry, streams[7], evs)
    p = out / "telemetry.parquet"
    _write_parquet(telemetry, p)
    written.append(p)
    telemetry_rows = len(telemetry)
    del telemetry  # keep the peak memory of large raw logs low

    incidents = generate_incidents(days, streams[1])
    tables = {
        "incidents.csv": incidents,
        "pages.csv": generate_pages(days, incidents, streams[2]),
        "toil.csv": generate_toil(days, streams[3]),
        "deploys.csv": generate_deploys(days, incidents, streams[4]),
        "series.csv": generate_series(days, streams[5], injected=evs),
    }
    for name, df in tables.items():
        p = out / name
        _write_csv(df, p)
        written.append(p)

    raw_name = f"requests_{n_raw}d.{raw_format}"
    p = out / raw_name
    raw_start = end - pd.Timedelta(days=n_raw)
    # ≤ ≈ 500k rows per chunk whatever the rate (bounded memory); whole minutes, at most 1 h
    chunk = pd.Timedelta(minutes=int(min(60, max(1, 500_000 // (raw_rps * 60)))))
    raw_rows = write_requests(p, raw_start, end, raw_rps, streams[6], injected=evs, chunk=chunk, regions=streams[9])
    written.append(p)

    p = out / "service.yaml"
    p.write_text(service_yaml(days=days), encoding="utf-8")
    written.append(p)

    truth = ground_truth(
        days=days,
        seed=seed,
        rpm=rpm,
        incidents=incidents,
        raw={
            "file": raw_name,
            "start": _iso(raw_start),
            "end": _iso(end),
            "rps": raw_rps,
            "rows": raw_rows,
        },
    )
    p = out / "ground_truth.json"
    p.write_text(json.dumps(truth, indent=2) + "\n", encoding="utf-8")
    written.append(p)

    args = (
        f"--days {days} --seed {seed}"
        + (f" --raw-days {raw_days}" if raw_days else "")
        + (f" --rps {rps:g}" if rps else "")
        + (f" --raw-format {raw_format}" if raw_format != "csv.gz" else "")
    )
    p = out / "README.md"
    p.write_text(readme(truth, written, telemetry_rows, tables, args), encoding="utf-8")
    written.append(p)
    return written


def ground_truth(*, days: int, seed: int, rpm: float, incidents: pd.DataFrame, raw: dict[str, Any]) -> dict[str, Any]:
    """Machine-readable ground truth: parameters, journey models, injected events and which
    events/incidents are unrecorded, invisible or open."""
    start, end = period(days)
    evs = events(days)
    linked = {e.incident_id for e in evs if e.incident_id}
    return {
        "service": SERVICE,
        "timezone": TIMEZONE,
        "parameters": {
            "days": days,
            "seed": seed,
            "rpm": rpm,
            "start": _iso(start),
            "end": _iso(end),
            "interval": "1min",
        },
        "edges_ms": list(SAMPLE_EDGES_MS),
        "journeys": [m.to_dict() for m in JOURNEYS],
        "low_traffic_journey": LOW_TRAFFIC.to_dict(),
        "regions": {name: share for name, share in REGIONS},
        "regional_events": dict(REGIONAL_EVENTS),
        "events": [e.to_dict() for e in evs],
        "unrecorded_events": [e.id for e in evs if e.incident_id is None],
        "invisible_incidents": [str(i) for i in incidents["id"] if i not in linked],
        "open_incidents": [str(i) for i in incidents.loc[incidents["resolved_at"].isna(), "id"]],
        "series": {"journey": "checkout", "statistic": "p95 latency (ms)", "step": "5min"},
        "raw_requests": raw,
    }


def readme(
    truth: dict[str, Any], files: Sequence[Path], telemetry_rows: int, tables: dict[str, pd.DataFrame], args: str
) -> str:
    """``data/samples/README.md``: every file with columns, size and hash, the generating
    command and the ground-truth table."""
    p = truth["parameters"]
    lines = [
        "# Sample data (generated — do not edit by hand)",
        "",
        f"Generated by `srekit samples --out data/samples {args}`; the same arguments give "
        "byte-identical files (`tests/test_samples.py` checks it). "
        f"A fictional web shop, service `{truth['service']}` (local time {truth['timezone']}), "
        f"from {p['start']} to {p['end']} (exclusive), three user journeys and a low-traffic one "
        f"(`{truth['low_traffic_journey']['name']}`, a few requests a minute), served from "
        f"{len(truth['regions'])} regions (telemetry label `region`). "
        "The ground truth below is also in machine-readable form in `ground_truth.json`.",
        "",
        "## Files",
        "",
        "| file | rows | bytes | sha256 (first 16) | columns |",
        "|---|---:|---:|---|---|",
    ]
    rows_of = {
        "telemetry.parquet": telemetry_rows,
        **{k: len(v) for k, v in tables.items()},
        truth["raw_requests"]["file"]: truth["raw_requests"]["rows"],
    }
    cols_of = {
        "telemetry.parquet": "journey, region, interval_start (UTC), total, errors, le_5 … le_30000 (cumulative, "
        "int64)",
        "incidents.csv": ", ".join(INCIDENTS),
        "pages.csv": "timestamp, alert, severity (page/ticket), actionable (true/false), incident_id",
        "toil.csv": "date, task, minutes, category, engineer, automatable (true/false)",
        "deploys.csv": "timestamp, result (success/rollback/failed), service",
        "series.csv": "timestamp, value (p95 latency ms of checkout per 5 min), journey",
        truth["raw_requests"]["file"]: "timestamp (UTC, ms), latency_ms, status (HTTP code; 5xx = error), journey, "
        "region",
        "service.yaml": "service configuration (srekit.inputs.config)",
        "ground_truth.json": "parameters, journey models, injected events, unrecorded/invisible/open lists",
    }
    total_bytes = 0
    for f in files:
        size = f.stat().st_size
        total_bytes += size
        lines.append(
            f"| `{f.name}` | {rows_of.get(f.name, '')} | {size:,} | `{_sha256(f)[:16]}` | {cols_of.get(f.name, '')} |"
        )
    lines += [
        "",
        f"Total without this README: {total_bytes:,} bytes ({total_bytes / 2**20:.1f} MiB; budget 15 MB).",
        "All timestamps are ISO-8601 UTC (`Z`). CSVs: comma-separated, `\\n` line ends, empty field = unknown.",
        "",
        "## Telemetry model",
        "",
        f"1-minute rows per journey; mean {p['rpm']:g} requests/min over all journeys (≈ {p['rpm'] / 60:g} req/s), "
        "Poisson counts following a diurnal curve in local time (trough ≈ 04:00, peak ≈ 15:00), "
        "a weekend factor per journey, +10 % growth over 90 days and a ±5 % day-to-day wobble. "
        "Errors are binomial at the baseline ratio (plus injected events); latency is a lognormal "
        "body plus a slow lognormal tail, reduced to cumulative buckets by multinomial draws.",
        "",
        f"Bucket edges (ms): {', '.join(f'{e:g}' for e in truth['edges_ms'])}. A Prometheus-style "
        "ladder (24 edges, dense between 100 ms and 2.5 s where web SLO thresholds live) rather than "
        "srekit's 110 default edges: 90 days × 3 journeys × 1440 minutes = 388,800 rows, and every "
        "bucket column costs ≈ 0.3 MB compressed, so this keeps the folder under 15 MB. Requests "
        "slower than 30 s count only in `total` (the `+Inf` bucket).",
        "",
        "| journey | traffic share | baseline error ratio | weekend factor | p50 ms | p95 ms | p99 ms |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for j in [*truth["journeys"], truth["low_traffic_journey"]]:
        lines.append(
            f"| {j['name']} | {j['share']:.0%} | {j['base_error_ratio']:.2%} | {j['weekend_factor']:g} | "
            f"{j['p50_ms']:.0f} | {j['p95_ms']:.0f} | {j['p99_ms']:.0f} |"
        )
    lines += [
        "",
        "## Injected events (ground truth)",
        "",
        "During an event the journey's error ratio is `1 − (1 − baseline)(1 − error_ratio)` and every "
        "latency is multiplied by `latency_factor`; the window is [start, end).",
        "",
        "| id | kind | journey | start (UTC) | end (UTC) | minutes | error_ratio | latency_factor | incident |",
        "|---|---|---|---|---|---:|---:|---:|---|",
    ]
    for e in truth["events"]:
        lines.append(
            f"| {e['id']} | {e['kind']} | {e['journey']} | {e['start']} | {e['end']} | {e['duration_minutes']} | "
            f"{e['error_ratio']:g} | {e['latency_factor']:g} | {e['incident_id'] or '— (unrecorded)'} |"
        )
    inc = tables["incidents.csv"]
    lines += [
        "",
        f"- Events no incident recorded: {', '.join(truth['unrecorded_events']) or 'none'}.",
        "- Incidents invisible in the telemetry (internal tooling): "
        f"{', '.join(truth['invisible_incidents']) or 'none'}.",
        f"- Incidents still open (no `resolved_at`): {', '.join(truth['open_incidents']) or 'none'}.",
        "- An incident whose events hit several journeys (I09: E09 browse and E10 search) names "
        "the first in `incidents.csv`; `ground_truth.json` links every event to it.",
        f"- Repeat causes: {', '.join(sorted(str(c) for c, n in inc['cause'].value_counts().items() if n > 1))}.",
        "- Deploys: incidents caused by a bad deploy have a `success` deploy 3 min before impact and a "
        "`rollback` 2 min before mitigation on the journey's service (browse → web-frontend, "
        "search → search-api, checkout → checkout-api); other rollbacks/failures are random.",
        "- Pages: each alert-detected incident pages twice (detection, +15 min re-notify) with a "
        "symptom-based name (`<Journey>HighErrorRate`, `<Journey>LatencyHigh`); unrecorded error "
        "bursts page once, marked not actionable; cause-based alerts (CPUHigh, MemoryPressure, "
        "PodRestarting, DiskFull, QueueDepthHigh, CertificateExpiringSoon) are mostly noise, a "
        "third of them flap, and their rate grows ≈ 60 % over the period.",
        "- Toil: tasks 'restart stuck queue workers' (≈ 2 → 9 a week) and 'clean up disk on log "
        "hosts' (≈ 1 → 5 a week) grow over the period; the others are steady.",
        f"- `series.csv`: {truth['series']['statistic']} of {truth['series']['journey']} every "
        f"{truth['series']['step']}: the model's p95 × the step's latency factor × a lognormal wobble (σ 0.06).",
        f"- `{truth['raw_requests']['file']}`: a separate sample of the same model for "
        f"{truth['raw_requests']['start']} – {truth['raw_requests']['end']} at {truth['raw_requests']['rps']:g} req/s "
        "(not the same requests as the telemetry rows, which run at a higher rate), with the same "
        "injected events; for the raw path: `srekit aggregate`.",
        f"- Regions (telemetry label `region`): {', '.join(f'{n} {w:.0%}' for n, w in truth['regions'].items())} "
        "of each journey's requests, split per latency bucket by multinomial draws (the rows summed over "
        "the regions are the journey's); browse and refunds are served from eu-west-1 only. In the "
        "regional events "
        + ", ".join(f"{e} ({r})" for e, r in truth["regional_events"].items())
        + " 90 % of the errors fall in that region. `srekit analyze` breaks every SLO down by region "
        "(`error_budget_policy.breakdown`).",
        f"- `{truth['low_traffic_journey']['name']}`: ≈ {truth['low_traffic_journey']['share'] * p['rpm']:g} "
        "requests a minute (one at night) with a 99.9 % availability SLO: one failed request in a quiet "
        "hour is above the page rule's threshold, so the report replays the low-traffic remedies.",
        "",
        "## service.yaml",
        "",
        "Points at every file above except the raw log (the raw log samples the same day as the "
        "telemetry; loading both would count that day twice). `checkout` has explicit objectives "
        "(availability 99.9 %, 99 % of requests within 1500 ms) so the *evaluate given targets* path "
        "runs; `browse` and `search` have none so the *propose options* path runs. SLO window 28 days, "
        "on-call 24x7 with 5 engineers, owners per area, toil team size 5.",
        "",
        "## Regenerate",
        "",
        "```",
        f"srekit samples --out data/samples {args}",
        "srekit samples --out /tmp/big --raw-days 5 --rps 23 --raw-format csv   # ≈ 10 M raw rows for benchmarks",
        "```",
        "",
    ]
    return "\n".join(lines)


# ------------------------------------------------------------------------------ the sample fleet

#: The sample fleet's services: (name, team, its three journeys). The journeys take the roles of
#: the storefront's browse (busiest, fastest), search and checkout (least busy, slowest, with
#: explicit objectives); the injected events of those journeys hit them.
FLEET_SERVICES: tuple[tuple[str, str, tuple[str, str, str]], ...] = (
    ("storefront-web", "storefront", ("browse", "search", "checkout")),
    ("payments-api", "payments", ("authorize", "capture", "refund")),
    ("search-api", "discovery", ("query", "suggest", "facets")),
    ("identity", "identity", ("login", "token", "signup")),
    ("orders", "fulfilment", ("track", "place", "cancel")),
    ("inventory", "fulfilment", ("lookup", "reserve", "sync")),
    ("notifications", "platform", ("push", "email", "sms")),
    ("pricing", "payments", ("quote", "promo", "tax")),
    ("recommendations", "discovery", ("home", "similar", "basket")),
    ("shipping", "fulfilment", ("rates", "labels", "pickup")),
    ("accounts", "identity", ("profile", "address", "consent")),
    ("media", "platform", ("images", "thumbnails", "video")),
    ("reviews", "storefront", ("read", "write", "moderate")),
    ("loyalty", "payments", ("balance", "earn", "redeem")),
    ("support-chat", "platform", ("message", "start", "handoff")),
    ("events-ingest", "platform", ("events", "batch", "replay")),
)
FLEET_TIMEZONES = ("Europe/Berlin", "UTC", "America/New_York", "Asia/Tokyo", "Europe/London")
#: At most this many services in a generated fleet (about 9 MB each with 90 days).
MAX_FLEET_SERVICES = 500
#: Words of the incident titles that name the storefront's journeys, by role (0 browse, 1 search, 2 checkout).
_TITLE_WORDS: tuple[tuple[str, int], ...] = (
    ("Checkout", 2),
    ("checkout", 2),
    ("Search", 1),
    ("Browse", 0),
    ("browse", 0),
    ("Product pages", 0),
)


@dataclass(frozen=True, slots=True)
class FleetService:
    """One service of the sample fleet and what makes it differ from the others (its ground truth)."""

    index: int
    name: str
    team: str
    tier: int
    timezone: str
    rpm: float  # mean requests per minute over its journeys
    error_factor: float  # its journeys' baseline error ratios × this
    latency_factor: float  # its journeys' latencies × this
    noise: float  # its cause-based page rates × this
    shift_hours: int  # the catalogue's events moved by this many hours
    journeys: tuple[JourneyModel, ...]
    events: tuple[InjectedEvent, ...]  # the catalogue's events it kept, renamed, scaled and moved
    availability_target: float  # objectives of its third journey (the checkout role)
    latency_threshold_ms: float
    latency_target: float

    @property
    def owner(self) -> str:
        return f"team-{self.team}"

    @property
    def folder(self) -> str:
        """Its folder relative to the fleet: ``<team>/<service>``."""
        return f"{self.team}/{self.name}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "service": self.name,
            "team": self.team,
            "tier": self.tier,
            "owner": self.owner,
            "timezone": self.timezone,
            "rpm": self.rpm,
            "error_factor": self.error_factor,
            "latency_factor": self.latency_factor,
            "noise": self.noise,
            "shift_hours": self.shift_hours,
            "journeys": [j.name for j in self.journeys],
            "events": [e.to_dict() for e in self.events],
            "objectives": {
                "journey": self.journeys[2].name,
                "availability": self.availability_target,
                "latency_threshold_ms": self.latency_threshold_ms,
                "latency_target": self.latency_target,
            },
        }


def _fleet_streams(index: int, seed: int) -> list[np.random.Generator]:
    """Service ``index``'s own random streams: the ``index``-th child of ``SeedSequence(seed)``
    (the same whatever the size of the fleet), split into one stream per file."""
    child = np.random.SeedSequence(seed, spawn_key=(index,))
    return [np.random.default_rng(s) for s in child.spawn(6)]


def _fleet_events(
    days: int, rng: np.random.Generator, names: Sequence[str], shift: pd.Timedelta, severity: float, keep: float
) -> tuple[InjectedEvent, ...]:
    """The catalogue's events for one service: each kept with probability ``keep``, moved to the
    service's journeys by role, its error ratio × ``severity`` (at most 1), moved by ``shift``;
    those no longer wholly inside the period are left out."""
    start, end = period(days)
    role = {m.name: k for k, m in enumerate(JOURNEYS)}
    out = []
    for ev in events(days):
        kept = rng.random() < keep
        scale = rng.uniform(0.6, 1.3) * severity
        if not kept or ev.start + shift < start or ev.end + shift > end:
            continue
        out.append(
            InjectedEvent(
                ev.id,
                ev.kind,
                names[role[ev.journey]],
                ev.start + shift,
                ev.end + shift,
                min(1.0, round(ev.error_ratio * scale, 4)),
                ev.latency_factor,
                ev.incident_id,
            )
        )
    return tuple(out)


def fleet_service(index: int, *, days: int = 90, seed: int = 7) -> FleetService:
    """The ``index``-th service of the sample fleet (deterministic in ``index``, ``days`` and ``seed``)."""
    name, team, names = FLEET_SERVICES[index % len(FLEET_SERVICES)]
    if index >= len(FLEET_SERVICES):
        name = f"{name}-{index // len(FLEET_SERVICES) + 1}"
    rng = _fleet_streams(index, seed)[0]
    error_factor = round(float(np.exp(rng.uniform(np.log(0.4), np.log(4.0)))), 2)
    latency_factor = round(float(rng.uniform(0.6, 1.6)), 2)
    journeys = tuple(
        replace(
            m,
            name=names[k],
            service=f"{name}-{names[k]}",
            base_error_ratio=m.base_error_ratio * error_factor,
            median_ms=m.median_ms * latency_factor,
            tail_median_ms=m.tail_median_ms * latency_factor,
        )
        for k, m in enumerate(JOURNEYS)
    )
    shift_hours = int(rng.integers(-36, 37))
    evs = _fleet_events(
        days, rng, names, pd.Timedelta(hours=shift_hours), float(rng.uniform(0.6, 1.4)), float(rng.uniform(0.35, 1.0))
    )
    slow = journeys[2].quantile(0.985)
    return FleetService(
        index=index,
        name=name,
        team=team,
        tier=int(rng.choice([1, 2, 3], p=[0.3, 0.4, 0.3])),
        timezone=str(rng.choice(FLEET_TIMEZONES)),
        rpm=round(float(np.exp(rng.uniform(np.log(150.0), np.log(2400.0)))), 1),
        error_factor=error_factor,
        latency_factor=latency_factor,
        noise=round(float(rng.uniform(0.2, 2.0)), 2),
        shift_hours=shift_hours,
        journeys=journeys,
        events=evs,
        availability_target=float(rng.choice([0.995, 0.999, 0.9995])),
        latency_threshold_ms=float(next((e for e in SAMPLE_EDGES_MS if e >= slow), SAMPLE_EDGES_MS[-1])),
        latency_target=0.99,
    )


def _retitled(incidents: pd.DataFrame, names: Sequence[str]) -> pd.DataFrame:
    """The storefront's incident titles with its journeys' words replaced by the service's."""
    out = incidents.copy()
    titles = out["title"].astype(str)
    for word, k in _TITLE_WORDS:
        titles = titles.str.replace(word, names[k].capitalize() if word[0].isupper() else names[k], regex=False)
    out["title"] = titles
    return out


def fleet_service_yaml(svc: FleetService, *, incidents: bool = True) -> str:
    """``service.yaml`` of one sample fleet service (its team comes from the fleet file's entry);
    ``incidents=False``: a quiet service whose period has no incident lists no incident file."""
    checkout, browse, search = svc.journeys[2].name, svc.journeys[0].name, svc.journeys[1].name
    incident_line = "  incidents: incidents.csv\n" if incidents else ""
    return f"""# Sample fleet service generated by `srekit samples --fleet` (see ../../README.md).
service: {svc.name}
owner: {svc.owner}
tier: {svc.tier}
timezone: {svc.timezone}
data:
  telemetry: telemetry.parquet
{incident_line}  alerts: pages.csv
  toil: toil.csv
  deploys: deploys.csv
journeys:
  - name: {checkout}
    slos:
      availability: {svc.availability_target}
      latency:
        threshold_ms: {svc.latency_threshold_ms:g}
        target: {svc.latency_target}
  - name: {browse}
  - name: {search}
"""


def write_fleet_service(folder: Path, svc: FleetService, *, days: int, seed: int) -> list[Path]:
    """Every data file and the service.yaml of one sample fleet service into ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    streams = _fleet_streams(svc.index, seed)
    names = [j.name for j in svc.journeys]
    written = [folder / "telemetry.parquet"]
    telemetry = generate_telemetry(
        days, streams[1], rpm=svc.rpm, journeys=svc.journeys, injected=svc.events, timezone=svc.timezone
    )
    _write_parquet(telemetry, written[0])
    del telemetry
    incidents = _retitled(generate_incidents(days, streams[2], injected=svc.events), names)
    tables = {
        "incidents.csv": incidents,
        "pages.csv": generate_pages(days, incidents, streams[3], injected=svc.events, noise=svc.noise),
        "toil.csv": generate_toil(days, streams[4]),
        "deploys.csv": generate_deploys(days, incidents, streams[5], journeys=svc.journeys, timezone=svc.timezone),
    }
    if incidents.empty:  # a quiet service (short periods): no incident file, which would be refused as empty
        del tables["incidents.csv"]
    for file, df in tables.items():
        _write_csv(df, folder / file)
        written.append(folder / file)
    (folder / "service.yaml").write_text(fleet_service_yaml(svc, incidents=not incidents.empty), encoding="utf-8")
    return [*written, folder / "service.yaml"]


def fleet_yaml(services: Sequence[FleetService], args: str) -> str:
    """The sample ``fleet.yaml``: one glob per team (which sets the team), fleet-wide defaults."""
    teams = sorted({s.team for s in services})
    entries = "".join(f"  - path: {t}/*/service.yaml\n    team: {t}\n" for t in teams)
    return f"""# Sample fleet generated by `srekit samples {args}` (see README.md in this folder).
# Render it: srekit fleet report --config fleet.yaml --out reports/
fleet: sample-fleet
services:
{entries}defaults:            # every service takes these unless its service.yaml sets them
  slo:
    window: 28d
  oncall:
    coverage: 24x7
    engineers: 5
  toil:
    team_size: 5
"""


def fleet_readme(services: Sequence[FleetService], days: int, args: str) -> str:
    """``README.md`` of a generated fleet: every service and what makes it differ."""
    start, end = period(days)
    lines = [
        "# Sample fleet (generated — do not edit by hand)",
        "",
        f"Generated by `srekit samples {args}`; the same arguments give byte-identical files, and service k is "
        f"the same whatever the size of the fleet. Every service has {days} days of 1-minute telemetry "
        f"({_iso(start)} to {_iso(end)}) for three journeys, the storefront's model (`data/samples/README.md`) "
        "with its own traffic, error and latency levels, a random subset of the injected events (moved by up to "
        "a day and a half, errors scaled), the incidents, pages, toil and deploys that go with them, and "
        "objectives on its third journey. `ground_truth.json` has every parameter and event.",
        "",
        "| folder | service | tier | time zone | req/min | error × | latency × | pages noise × | events | objectives |",
        "|---|---|---:|---|---:|---:|---:|---:|---:|---|",
    ]
    for s in services:
        lines.append(
            f"| `{s.folder}` | {s.name} | {s.tier} | {s.timezone} | {s.rpm:g} | {s.error_factor:g} | "
            f"{s.latency_factor:g} | {s.noise:g} | {len(s.events)} | {s.journeys[2].name}: {s.availability_target:.2%}"
            f" available, {s.latency_target:.0%} within {s.latency_threshold_ms:g} ms |"
        )
    lines += ["", "Render the fleet overview: `srekit fleet report --config fleet.yaml --out reports/`.", ""]
    return "\n".join(lines)


def write_fleet_samples(out_dir: str | Path, *, services: int, days: int = 90, seed: int = 7) -> list[Path]:
    """A sample fleet of ``services`` services into ``out_dir``: ``fleet.yaml``, ``README.md``,
    ``ground_truth.json`` and one ``<team>/<service>/`` folder per service (service.yaml and its
    data). Deterministic; returns the paths written."""
    if not 1 <= services <= MAX_FLEET_SERVICES:
        raise ValueError(f"a sample fleet has 1 to {MAX_FLEET_SERVICES} services, got {services}")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    fleet = [fleet_service(i, days=days, seed=seed) for i in range(services)]
    written: list[Path] = []
    for svc in fleet:
        written += write_fleet_service(out / svc.folder, svc, days=days, seed=seed)
    args = f"--fleet {services} --out DIR --days {days} --seed {seed}"
    texts = {
        "fleet.yaml": fleet_yaml(fleet, args),
        "README.md": fleet_readme(fleet, days, args),
        "ground_truth.json": json.dumps(
            {"days": days, "seed": seed, "services": [s.to_dict() for s in fleet]}, indent=2
        )
        + "\n",
    }
    for name, text in texts.items():
        (out / name).write_text(text, encoding="utf-8")
        written.append(out / name)
    return written
