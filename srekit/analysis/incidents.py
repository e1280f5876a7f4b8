"""Incident response: lifecycle durations with censoring, breakdowns, postmortem follow-up.

Section ``incident_response`` of the report (DESIGN.md, Output Contract §6).

Methods and sources
-------------------
* Lifecycle durations (Google SRE Workbook, "Incident Response"; PagerDuty's MTTA/MTTR
  definitions): time to detect ``ttd = detected_at − started_at``, time to acknowledge
  ``tta = acknowledged_at − detected_at``, time to mitigate ``ttm = mitigated_at − started_at``,
  time to resolve ``ttr = resolved_at − started_at``.
* Open incidents (``resolved_at`` is NaT) are right-censored at the latest timestamp of the log
  (``as_of``), never dropped and never filled with the wall clock. The survival function is the
  Kaplan–Meier estimator (Kaplan & Meier 1958) via ``scipy.stats.ecdf(CensoredData(...))``; the
  median is the smallest t with S(t) ≤ 0.5 and the mean is the restricted mean survival time
  ∫₀^τ S(t) dt up to the largest time τ (equal to the sample mean without censoring).
* Intervals: percentile bootstrap (``scipy.stats.bootstrap``, paired resampling of
  (duration, censored) pairs; Efron & Tibshirani 1993).
* MTTx honesty (Š. Davidovič, "Incident Metrics in SRE", Google/O'Reilly 2021): the difference
  of two sample means of N incidents each has variance 2σ²/N, so the smallest change a
  before/after comparison can detect at 90% two-sided confidence is ``z₀.₉₅·sqrt(2σ²/N)``.
* Error-budget minutes of an incident: the bad events above the background rate during the
  incident divided by the mean requests per minute ("minutes of full outage"; SRE Workbook,
  "Implementing SLOs" — a 99.9% 30-day SLO allows 43.2 such minutes).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from srekit.core.questions import OpenQuestion
from srekit.core.spec import SLOSpec
from srekit.inputs.columns import INCIDENT_TIMES, INCIDENTS
from srekit.inputs.config import ServiceConfig
from srekit.inputs.telemetry import sli_counts

SECTION = "incident_response"
HIGH_SEVERITIES = ("SEV1", "SEV2")
CONFIDENCE = 0.90  # detectable change and bootstrap intervals
BOOTSTRAP_RESAMPLES = 999
DEPLOY_LOOKBACK = pd.Timedelta(hours=1)
# Evidence thresholds for recommendations (stated in each recommendation's evidence text).
CUSTOMER_SHARE_LIMIT = 0.20
ACK_MEDIAN_LIMIT = pd.Timedelta(minutes=15)
DETECT_MEDIAN_LIMIT = pd.Timedelta(minutes=30)
CLOSURE_LIMIT = 0.70
DEPLOY_SHARE_LIMIT = 0.30
FOLLOW_UP_LIMIT = 50

# name -> (start column, end column, zero means "not recorded", plain-language label)
METRICS: dict[str, tuple[str, str, bool, str]] = {
    "ttd": ("started_at", "detected_at", False, "time to detect"),
    "tta": ("detected_at", "acknowledged_at", False, "time to acknowledge"),
    "ttm": ("started_at", "mitigated_at", True, "time to mitigate"),
    "ttr": ("started_at", "resolved_at", True, "time to resolve"),
}
FOLLOW_UP_COLUMNS = (
    "incident_id",
    "title",
    "severity",
    "started_at",
    "postmortem",
    "action_items_open",
    "action_items_closed",
    "owner",
    "next_step",
)


# ---------------------------------------------------------------- survival helpers


def _km(times: np.ndarray, censored: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Kaplan–Meier survival steps: (times, S after each time), via scipy.stats.ecdf."""
    from scipy import stats  # lazy: report kernels only unpickle results

    data = stats.CensoredData(uncensored=times[~censored], right=times[censored])
    sf = stats.ecdf(data).sf
    return np.asarray(sf.quantiles, float), np.asarray(sf.probabilities, float)


def _km_quantile(q_times: np.ndarray, sf: np.ndarray, p: float) -> tuple[float, bool]:
    """Smallest t with S(t) ≤ 1 − p; (largest time, True) when the curve never gets there
    (too much censoring: the value is a lower bound)."""
    hit = np.flatnonzero(sf <= 1.0 - p + 1e-12)
    if hit.size:
        return float(q_times[hit[0]]), False
    return float(q_times[-1]), True


def _rmst(q_times: np.ndarray, sf: np.ndarray) -> float:
    """Restricted mean ∫₀^τ S(t) dt with τ the largest time (the mean without censoring)."""
    if q_times.size == 0:
        return 0.0
    return float(q_times[0] + np.sum(np.diff(q_times) * sf[:-1]))


def km_median_mean(times: np.ndarray, censored: np.ndarray, axis: int = -1) -> np.ndarray:
    """Kaplan–Meier median and restricted mean of many samples at once (the bootstrap's
    resamples along ``axis``): ``[median, mean]`` stacked on a new first axis.

    Product-limit estimator in sorted order (events before censorings at equal times):
    S_i = ∏_{j ≤ i, event} (1 − 1/(n − j)), which over a tie of d events telescopes to the
    usual (r − d)/r. ``tests/test_incidents.py`` checks it against ``scipy.stats.ecdf``. When
    S never reaches ½ the median is the largest time (a lower bound).
    """
    t = np.moveaxis(np.asarray(times, float), axis, -1)
    c = np.moveaxis(np.asarray(censored) > 0.5, axis, -1)
    order = np.lexsort((c, t), axis=-1)
    t = np.take_along_axis(t, order, -1)
    c = np.take_along_axis(c, order, -1)
    n = t.shape[-1]
    at_risk = n - np.arange(n)
    surv = np.cumprod(np.where(c, 1.0, 1.0 - 1.0 / at_risk), axis=-1)
    below = surv <= 0.5 + 1e-12
    first = np.where(below.any(axis=-1), below.argmax(axis=-1), n - 1)
    median = np.take_along_axis(t, first[..., None], -1)[..., 0]
    mean = t[..., 0] + np.sum(np.diff(t, axis=-1) * surv[..., :-1], axis=-1)
    return np.stack([median, mean])


def _uncensored_median_and_mean(x: np.ndarray, axis: int = -1) -> np.ndarray:
    """KM median (smallest t with F(t) ≥ ½, the inverted-CDF median) and mean without censoring."""
    return np.stack([np.quantile(x, 0.5, method="inverted_cdf", axis=axis), np.mean(x, axis=axis)])


# ---------------------------------------------------------------- results


@dataclass(frozen=True, slots=True)
class DurationMetric:
    """One lifecycle duration (ttd/tta/ttm/ttr) over the incident log.

    ``n`` resolved observations and ``censored`` open ones enter the Kaplan–Meier estimate;
    ``missing`` incidents lack a stamp, ``inconsistent`` ones end before they start and
    ``zero_excluded`` ones have a zero duration where zero means "not recorded" (back-filled
    records): these three are counted, not used.
    """

    name: str
    label: str
    n: int
    censored: int
    missing: int
    inconsistent: int
    zero_excluded: int
    median: pd.Timedelta
    median_ci: tuple[pd.Timedelta, pd.Timedelta]
    median_is_lower_bound: bool
    mean: pd.Timedelta
    mean_ci: tuple[pd.Timedelta, pd.Timedelta]
    p90: pd.Timedelta
    p90_is_lower_bound: bool
    std: pd.Timedelta
    detectable_change: pd.Timedelta
    km_time_s: tuple[float, ...]
    km_survival: tuple[float, ...]

    def __post_init__(self) -> None:
        if self.name not in METRICS:
            raise ValueError(f"unknown metric {self.name!r}")
        if min(self.n, self.censored, self.missing, self.inconsistent, self.zero_excluded) < 0:
            raise ValueError("counts cannot be negative")
        if self.n < 2:
            raise ValueError(f"{self.name}: a duration metric needs at least 2 observations")
        if not self.median_ci[0] <= self.median_ci[1] or not self.mean_ci[0] <= self.mean_ci[1]:
            raise ValueError(f"{self.name}: interval bounds out of order")
        if len(self.km_time_s) != len(self.km_survival):
            raise ValueError("survival curve arrays differ in length")

    def to_dict(self) -> dict[str, Any]:
        s = _secs
        return {
            "label": self.label,
            "n": self.n,
            "censored": self.censored,
            "missing": self.missing,
            "inconsistent": self.inconsistent,
            "zero_excluded": self.zero_excluded,
            "median_s": s(self.median),
            "median_ci_s": [s(self.median_ci[0]), s(self.median_ci[1])],
            "median_is_lower_bound": self.median_is_lower_bound,
            "mean_s": s(self.mean),
            "mean_ci_s": [s(self.mean_ci[0]), s(self.mean_ci[1])],
            "p90_s": s(self.p90),
            "p90_is_lower_bound": self.p90_is_lower_bound,
            "std_s": s(self.std),
            "detectable_change_s": s(self.detectable_change),
            "confidence": CONFIDENCE,
        }


@dataclass(frozen=True, slots=True)
class Recommendation:
    """A process change keyed to evidence, with the metric that shows whether it worked."""

    title: str
    evidence: str
    area: str
    metric_to_track: str

    def __post_init__(self) -> None:
        if not (self.title and self.evidence and self.area and self.metric_to_track):
            raise ValueError("a recommendation needs title, evidence, area and metric_to_track")

    def to_dict(self) -> dict[str, Any]:
        return {
            "title": self.title,
            "evidence": self.evidence,
            "area": self.area,
            "metric_to_track": self.metric_to_track,
        }


@dataclass(frozen=True, slots=True)
class IncidentReport:
    """Result of :func:`analyze_incidents` (report section ``incident_response``)."""

    incidents: int
    open_incidents: int
    as_of: pd.Timestamp | None
    metrics: dict[str, DurationMetric]
    not_measured: tuple[str, ...]
    severity: pd.DataFrame
    cause: pd.DataFrame
    detection: pd.DataFrame
    change: dict[str, Any] | None
    postmortems: dict[str, Any]
    recommendations: tuple[Recommendation, ...]
    postmortem_template: str
    follow_up: pd.DataFrame
    follow_up_total: int
    open_questions: tuple[OpenQuestion, ...] = field(default=())

    def __post_init__(self) -> None:
        if self.incidents < 0 or not 0 <= self.open_incidents <= self.incidents:
            raise ValueError("incident counts out of range")
        if not self.postmortem_template.strip():
            raise ValueError("a postmortem template is always produced")
        if list(self.follow_up.columns) != list(FOLLOW_UP_COLUMNS):
            raise ValueError("follow-up tracker has unexpected columns")

    def to_dict(self) -> dict[str, Any]:
        breakdowns: dict[str, Any] = {
            "severity": _records(self.severity),
            "cause": _records(self.cause),
            "detection": _records(self.detection),
        }
        if self.change is not None:
            breakdowns["change"] = self.change
        return {
            "incidents": self.incidents,
            "open_incidents": self.open_incidents,
            "as_of": None if self.as_of is None else self.as_of.isoformat(),
            "metrics": {k: m.to_dict() for k, m in self.metrics.items()},
            "not_measured": list(self.not_measured),
            "breakdowns": breakdowns,
            "postmortems": dict(self.postmortems),
            "recommendations": [r.to_dict() for r in self.recommendations],
            "postmortem_template": self.postmortem_template,
            "follow_up": _records(self.follow_up),
            "follow_up_columns": list(FOLLOW_UP_COLUMNS),
            "follow_up_total": self.follow_up_total,
        }


# ---------------------------------------------------------------- helpers


def _secs(td: pd.Timedelta) -> float:
    return float(td.total_seconds())


def _td(seconds: float) -> pd.Timedelta:
    return pd.Timedelta(seconds=float(seconds))


def _json_value(v: Any) -> Any:
    if v is None or v is pd.NA or v is pd.NaT:
        return None
    if isinstance(v, pd.Timestamp):
        return v.isoformat()
    if isinstance(v, pd.Timedelta):
        return _secs(v)
    if isinstance(v, np.bool_ | bool):
        return bool(v)
    if isinstance(v, np.integer):
        return int(v)
    if isinstance(v, np.floating | float):
        return None if not np.isfinite(v) else float(v)
    return v


def _records(df: pd.DataFrame) -> list[dict[str, Any]]:
    return [{str(k): _json_value(v) for k, v in row.items()} for row in df.to_dict(orient="records")]


def to_us(values: pd.Series | pd.Index) -> np.ndarray:
    """UTC stamps as int64 microseconds since the epoch (no per-row Timestamp objects)."""
    idx = pd.DatetimeIndex(pd.to_datetime(values, utc=True)).tz_convert(None)
    return np.asarray(idx.to_numpy(dtype="datetime64[us]").view(np.int64))


def prepare(incidents: pd.DataFrame) -> pd.DataFrame:
    """The canonical incident columns (``srekit.inputs.columns.INCIDENTS``), NA-filled where absent,
    times as ``datetime64[us, UTC]``; other columns are kept."""
    df = incidents.copy()
    for c in INCIDENTS:
        if c not in df.columns:
            df[c] = pd.NaT if c in INCIDENT_TIMES else pd.NA
    for c in INCIDENT_TIMES:
        df[c] = pd.to_datetime(df[c], utc=True).astype("datetime64[us, UTC]")
    for c in ("action_items_open", "action_items_closed"):
        df[c] = pd.to_numeric(df[c], errors="coerce").astype("Float64")
    for c in ("id", "title", "severity", "cause", "detection", "journey", "postmortem"):
        df[c] = df[c].astype("str").where(df[c].notna())
    return df.reset_index(drop=True)


def log_end(df: pd.DataFrame) -> pd.Timestamp | None:
    """Latest timestamp anywhere in the log: the censoring time of open incidents."""
    stamps = pd.concat([df[c] for c in INCIDENT_TIMES]).dropna()
    return None if stamps.empty else pd.Timestamp(stamps.max())


def detectable_change(std: float, n: int, confidence: float = CONFIDENCE) -> float:
    """Smallest difference between the means of two periods of ``n`` incidents each that a
    two-sided test at ``confidence`` can tell from noise: ``z·sqrt(2σ²/n)`` (Davidovič 2021:
    the difference of two means has variance 2σ²/N)."""
    if n < 1 or std < 0:
        raise ValueError("detectable_change needs n ≥ 1 and std ≥ 0")
    from scipy import stats  # lazy: report kernels only unpickle results

    z = float(stats.norm.ppf(0.5 + confidence / 2))
    return z * float(np.sqrt(2.0 * std**2 / n))


def lifecycle_durations(df: pd.DataFrame, name: str, as_of: pd.Timestamp | None) -> dict[str, Any]:
    """Observed and censored durations (seconds) of one metric plus the excluded counts."""
    start_col, end_col, zero_unknown, _ = METRICS[name]
    start, end = df[start_col], df[end_col]
    is_open = df["resolved_at"].isna()
    secs = (end - start).dt.total_seconds().to_numpy(dtype=float, na_value=np.nan)
    have = start.notna().to_numpy() & end.notna().to_numpy()
    inconsistent = have & (secs < 0)
    zero = have & (secs == 0) & zero_unknown
    observed = have & ~inconsistent & ~zero
    cens_mask = np.zeros(len(df), bool)
    cens_s = np.array([], float)
    if as_of is not None:
        cand = start.notna().to_numpy() & end.isna().to_numpy() & is_open.to_numpy()
        lower = (as_of - start).dt.total_seconds().to_numpy(dtype=float, na_value=np.nan)
        cens_mask = cand & (lower > 0)
        cens_s = lower[cens_mask]
    missing = len(df) - int(observed.sum() + inconsistent.sum() + zero.sum() + cens_mask.sum())
    return {
        "observed": secs[observed],
        "censored": cens_s,
        "missing": missing,
        "inconsistent": int(inconsistent.sum()),
        "zero_excluded": int(zero.sum()),
    }


def duration_metric(
    df: pd.DataFrame, name: str, as_of: pd.Timestamp | None, rng: np.random.Generator
) -> DurationMetric | None:
    """Kaplan–Meier median/mean/p90 with bootstrap intervals and the detectable change, or
    None when fewer than two durations were observed."""
    d = lifecycle_durations(df, name, as_of)
    obs, cens = d["observed"], d["censored"]
    if obs.size < 2:
        return None
    times = np.concatenate([obs, cens])
    flags = np.concatenate([np.zeros(obs.size, bool), np.ones(cens.size, bool)])
    qt, sf = _km(times, flags)
    med, med_lb = _km_quantile(qt, sf, 0.5)
    p90, p90_lb = _km_quantile(qt, sf, 0.9)
    mean = _rmst(qt, sf)
    if np.ptp(times) > 0:
        from scipy import stats  # lazy: report kernels only unpickle results

        common = {
            "n_resamples": BOOTSTRAP_RESAMPLES,
            "confidence_level": CONFIDENCE,
            "method": "percentile",
            "rng": rng,
        }
        if cens.size == 0:  # no censoring: KM median/mean are the sample's, vectorised
            boot = stats.bootstrap((times,), _uncensored_median_and_mean, vectorized=True, **common)
        else:
            boot = stats.bootstrap((times, flags.astype(float)), km_median_mean, paired=True, vectorized=True, **common)
        lo, hi = np.asarray(boot.confidence_interval.low), np.asarray(boot.confidence_interval.high)
    else:  # every duration equal: no spread to resample
        lo = hi = np.array([med, mean])
    std = float(np.std(obs, ddof=1))
    return DurationMetric(
        name=name,
        label=METRICS[name][3],
        n=int(obs.size),
        censored=int(cens.size),
        missing=d["missing"],
        inconsistent=d["inconsistent"],
        zero_excluded=d["zero_excluded"],
        median=_td(med),
        median_ci=(_td(min(lo[0], med)), _td(max(hi[0], med))),
        median_is_lower_bound=med_lb,
        mean=_td(mean),
        mean_ci=(_td(min(lo[1], mean)), _td(max(hi[1], mean))),
        p90=_td(p90),
        p90_is_lower_bound=p90_lb,
        std=_td(std),
        detectable_change=_td(detectable_change(std, int(obs.size))),
        km_time_s=tuple(float(x) for x in qt),
        km_survival=tuple(float(x) for x in sf),
    )


def _group_median_ttr(df: pd.DataFrame, as_of: pd.Timestamp | None) -> float | None:
    d = lifecycle_durations(df, "ttr", as_of)
    obs, cens = d["observed"], d["censored"]
    if obs.size == 0:
        return None
    times = np.concatenate([obs, cens])
    flags = np.concatenate([np.zeros(obs.size, bool), np.ones(cens.size, bool)])
    qt, sf = _km(times, flags)
    return _km_quantile(qt, sf, 0.5)[0]


# ---------------------------------------------------------------- impact from telemetry


def impact_windows(df: pd.DataFrame, as_of: pd.Timestamp | None) -> pd.DataFrame:
    """When each incident hurt users: ``started_at`` to ``mitigated_at`` (else ``resolved_at``,
    else the log end for open incidents), with its time to detect in minutes (NaN when unknown
    or inconsistent). Rows without a usable window are left out."""
    end = df["mitigated_at"].fillna(df["resolved_at"])
    if as_of is not None:
        end = end.where(end.notna() | df["resolved_at"].notna(), as_of)
    detect = (df["detected_at"] - df["started_at"]).dt.total_seconds().astype("float64") / 60.0
    out = pd.DataFrame(
        {
            "id": df["id"],
            "journey": df["journey"],
            "cause": df["cause"],
            "start": df["started_at"],
            "end": end,
            "detect_minutes": detect.where(detect >= 0),
        }
    )
    ok = out["start"].notna() & out["end"].notna() & (out["end"] > out["start"])
    return out[ok].reset_index(drop=True)


def relevant(windows: pd.DataFrame, journey: str) -> pd.DataFrame:
    """Incidents that concern a journey: the same journey, or no journey recorded."""
    j = windows["journey"]
    return windows[j.isna() | (j == journey)].reset_index(drop=True)


def journey_step(telemetry: pd.DataFrame, journey: str) -> pd.Timedelta:
    """Aggregation interval of one journey: the smallest positive spacing of its
    ``interval_start`` (1 min when there is nothing to infer from). Same rule as
    ``telemetry.infer_interval``, on int64 stamps (no per-row Timestamp objects)."""
    stamps = telemetry.loc[telemetry["journey"] == journey, "interval_start"]
    us = np.sort(to_us(stamps))
    gaps = np.diff(us)
    gaps = gaps[gaps > 0]
    if gaps.size == 0:
        return pd.Timedelta(minutes=1)
    return pd.Timedelta(int(gaps.min()), unit="us")


class SliCounts:
    """The per-interval SLI counts of request SLOs on one telemetry frame, as
    :func:`incident_impact` and ``forecast.fit_model`` read them: ``telemetry.sli_counts`` on
    the journey's own interval (:func:`journey_step`). Computed on first use per (journey, SLI,
    threshold) and kept, so sections measuring the same SLIs share them; callers must not
    modify the frames."""

    def __init__(self, telemetry: pd.DataFrame) -> None:
        self.telemetry = telemetry
        self._memo: dict[tuple[str, str, float | None], pd.DataFrame] = {}
        self._steps: dict[str, pd.Timedelta] = {}

    def __call__(self, spec: SLOSpec) -> pd.DataFrame:
        key = (spec.journey, spec.sli, spec.threshold_ms)
        if key not in self._memo:
            tel = self.telemetry
            if spec.journey not in self._steps:
                self._steps[spec.journey] = journey_step(tel, spec.journey)
            self._memo[key] = sli_counts(
                tel, spec.journey, spec.sli, threshold_ms=spec.threshold_ms, interval=self._steps[spec.journey]
            )
        return self._memo[key]


def incident_impact(
    windows: pd.DataFrame, telemetry: pd.DataFrame, spec: SLOSpec, *, counts: pd.DataFrame | None = None
) -> pd.DataFrame:
    """Bad events each incident caused on one SLI, above the background rate.

    Returns one row per incident window overlapping the telemetry: ``id``, ``cause``,
    ``duration_minutes`` (the overlap), ``bad``, ``total``, ``excess_bad`` (bad − background
    ratio × total, ≥ 0), ``budget_minutes`` (excess / mean requests per minute) and
    ``intensity`` (budget minutes per minute of incident: 1.0 = a full outage).
    Background ratio = bad / total over the minutes outside every incident window.
    ``counts`` may pass the SLI's ``telemetry.sli_counts`` grid when the caller has it already.
    """
    cols = [
        "id",
        "cause",
        "start",
        "duration_minutes",
        "detect_minutes",
        "bad",
        "total",
        "excess_bad",
        "budget_minutes",
        "intensity",
    ]
    if counts is None:
        counts = SliCounts(telemetry)(spec)
    w = relevant(windows, spec.journey)
    if counts.empty or w.empty:
        return pd.DataFrame({c: pd.Series([], dtype="float64") for c in cols})
    idx = counts.index
    step = idx[1] - idx[0] if len(idx) > 1 else pd.Timedelta(minutes=1)
    grid_us = to_us(idx)
    bad_cs = np.concatenate([[0], np.cumsum(counts["bad"].to_numpy(np.int64))])
    tot_cs = np.concatenate([[0], np.cumsum(counts["total"].to_numpy(np.int64))])
    lo = np.searchsorted(grid_us, to_us(w["start"]), side="left")
    hi = np.searchsorted(grid_us, to_us(w["end"]), side="left")
    inside = np.zeros(len(idx) + 1, np.int64)
    np.add.at(inside, lo, 1)
    np.add.at(inside, hi, -1)
    in_any = np.cumsum(inside)[:-1] > 0
    q_bad = counts["bad"].to_numpy()[~in_any].sum()
    q_tot = counts["total"].to_numpy()[~in_any].sum()
    p0 = q_bad / q_tot if q_tot > 0 else 0.0
    per_min = counts["total"].to_numpy().sum() / (len(idx) * step / pd.Timedelta(minutes=1))
    bad = bad_cs[hi] - bad_cs[lo]
    tot = tot_cs[hi] - tot_cs[lo]
    minutes = (hi - lo) * (step / pd.Timedelta(minutes=1))
    excess = np.maximum(bad - p0 * tot, 0.0)
    bmin = excess / per_min if per_min > 0 else np.zeros(len(w))
    out = pd.DataFrame(
        {
            "id": w["id"],
            "cause": w["cause"],
            "start": w["start"],
            "duration_minutes": minutes.astype(float),
            "detect_minutes": w.get("detect_minutes", np.nan),
            "bad": bad.astype(float),
            "total": tot.astype(float),
            "excess_bad": excess,
            "budget_minutes": bmin,
        }
    )
    out["intensity"] = np.where(minutes > 0, bmin / np.where(minutes > 0, minutes, 1.0), 0.0)
    return out[minutes > 0].reset_index(drop=True)


def budget_minutes_by_incident(
    windows: pd.DataFrame, telemetry: pd.DataFrame, specs: tuple[SLOSpec, ...], *, counts: SliCounts | None = None
) -> pd.Series:
    """Budget minutes per incident id: the largest over the SLOs the incident concerns.
    ``counts`` may pass the SLIs of ``telemetry`` already measured (:class:`SliCounts`)."""
    sli = counts if counts is not None else SliCounts(telemetry)
    parts = [
        incident_impact(windows, telemetry, s, counts=sli(s)).set_index("id")["budget_minutes"]
        for s in specs
        if s.sli in ("availability", "latency")
    ]
    parts = [p for p in parts if len(p)]
    if not parts:
        return pd.Series([], dtype="float64")
    return pd.concat(parts, axis=1).max(axis=1)


# ---------------------------------------------------------------- breakdowns


def _severity(df: pd.DataFrame, as_of: pd.Timestamp | None) -> pd.DataFrame:
    sev = df["severity"].fillna("unknown")
    rows = []
    for name in sorted(sev.unique(), key=lambda s: (s == "unknown", s)):
        part = df[sev == name]
        rows.append(
            {
                "severity": name,
                "count": len(part),
                "share": len(part) / len(df),
                "open": int(part["resolved_at"].isna().sum()),
                "ttr_median_s": _group_median_ttr(part, as_of),
            }
        )
    return pd.DataFrame(rows, columns=["severity", "count", "share", "open", "ttr_median_s"])


def _cause(df: pd.DataFrame, as_of: pd.Timestamp | None, budget: pd.Series | None) -> pd.DataFrame:
    cause = df["cause"].fillna("unknown")
    rows = []
    for name in cause.unique():
        part = df[cause == name]
        row: dict[str, Any] = {
            "cause": name,
            "count": len(part),
            "share": len(part) / len(df),
            "repeat": bool(name != "unknown" and len(part) >= 2),
            "ttr_median_s": _group_median_ttr(part, as_of),
        }
        if budget is not None:
            row["budget_minutes"] = float(budget.reindex(part["id"]).fillna(0.0).sum())
        rows.append(row)
    cols = ["cause", "count", "share", "repeat", "ttr_median_s"] + (["budget_minutes"] if budget is not None else [])
    out = pd.DataFrame(rows, columns=cols)
    keys = (["budget_minutes"] if budget is not None else []) + ["count", "cause"]
    return out.sort_values(keys, ascending=[False] * (len(keys) - 1) + [True], kind="stable").reset_index(drop=True)


def _detection(df: pd.DataFrame, as_of: pd.Timestamp | None) -> pd.DataFrame:
    det = df["detection"].fillna("unknown").str.lower()
    rows = []
    for name in (
        "alert",
        "customer",
        "internal",
        *sorted(set(det) - {"alert", "customer", "internal", "unknown"}),
        "unknown",
    ):
        part = df[det == name]
        if len(part) == 0:
            continue
        d = lifecycle_durations(part, "ttd", as_of)["observed"]
        rows.append(
            {
                "detection": name,
                "count": len(part),
                "share": len(part) / len(df),
                "ttd_median_s": float(np.median(d)) if d.size else None,
            }
        )
    return pd.DataFrame(rows, columns=["detection", "count", "share", "ttd_median_s"])


def _change(df: pd.DataFrame, deploys: pd.DataFrame) -> dict[str, Any]:
    """Incidents that started within ``DEPLOY_LOOKBACK`` after a deploy (change-induced)."""
    stamps = np.sort(to_us(pd.to_datetime(deploys["timestamp"], utc=True).dropna()))
    started = to_us(df["started_at"].dropna())
    pos = np.searchsorted(stamps, started, side="right") - 1
    gap = np.where(pos >= 0, started - stamps[np.maximum(pos, 0)], np.iinfo(np.int64).max)
    after = int((gap <= DEPLOY_LOOKBACK.value // 1000).sum())
    bad = (
        deploys["result"].astype("str").str.lower().isin(["rollback", "failed"])
        if "result" in deploys
        else pd.Series(False, index=deploys.index)
    )
    return {
        "lookback_minutes": DEPLOY_LOOKBACK / pd.Timedelta(minutes=1),
        "deploys": len(stamps),
        "deploys_rolled_back_or_failed": int(bad.sum()),
        "incidents_after_deploy": after,
        "share_after_deploy": after / len(started) if len(started) else 0.0,
    }


def _postmortems(df: pd.DataFrame) -> dict[str, Any]:
    high = df[df["severity"].isin(HIGH_SEVERITIES)]
    pm = high["postmortem"].str.lower()
    done, pending, none_ = int((pm == "done").sum()), int((pm == "pending").sum()), int((pm == "none").sum())
    known = done + pending + none_
    opened = df["action_items_open"].sum(skipna=True)
    closed = df["action_items_closed"].sum(skipna=True)
    recorded = bool(df["action_items_open"].notna().any() or df["action_items_closed"].notna().any())
    return {
        "high_severities": list(HIGH_SEVERITIES),
        "high_severity_incidents": len(high),
        "done": done,
        "pending": pending,
        "none": none_,
        "unknown": len(high) - known,
        "coverage": done / known if known else None,
        "action_items_open": int(opened) if recorded else None,
        "action_items_closed": int(closed) if recorded else None,
        "closure_rate": float(closed / (opened + closed)) if recorded and (opened + closed) > 0 else None,
    }


def _follow_up(df: pd.DataFrame, owner: str) -> pd.DataFrame:
    """Tracker rows: high-severity incidents without a finished postmortem, and incidents
    with open action items, newest first."""
    high = df["severity"].isin(HIGH_SEVERITIES)
    pm = df["postmortem"].str.lower()
    need_pm = high & (pm != "done").fillna(True)
    open_items = df["action_items_open"].fillna(0) > 0
    sel = df[(need_pm | open_items).to_numpy()].sort_values("started_at", ascending=False, na_position="last")
    steps = np.where(need_pm[sel.index], "write and review the postmortem", "close the open action items")
    out = pd.DataFrame(
        {
            "incident_id": sel["id"],
            "title": sel["title"],
            "severity": sel["severity"],
            "started_at": sel["started_at"],
            "postmortem": sel["postmortem"].fillna("unknown"),
            "action_items_open": sel["action_items_open"].astype("Int64"),
            "action_items_closed": sel["action_items_closed"].astype("Int64"),
            "owner": owner,
            "next_step": steps,
        },
        columns=list(FOLLOW_UP_COLUMNS),
    )
    return out.reset_index(drop=True)


def _empty_follow_up() -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series([], dtype="object") for c in FOLLOW_UP_COLUMNS})


# ---------------------------------------------------------------- recommendations


def _minutes(td: pd.Timedelta | float) -> str:
    s = td.total_seconds() if isinstance(td, pd.Timedelta) else float(td)
    return f"{s / 60:.0f} min" if s < 5400 else f"{s / 3600:.1f} h"


def recommend(
    metrics: dict[str, DurationMetric],
    detection: pd.DataFrame,
    cause: pd.DataFrame,
    postmortems: dict[str, Any],
    change: dict[str, Any] | None,
) -> tuple[Recommendation, ...]:
    """Process changes keyed to evidence (SRE Workbook, "Incident Response" and "Postmortem
    Culture"; Davidovič 2021 for MTTx)."""
    recs: list[Recommendation] = []
    known = detection[detection["detection"] != "unknown"]
    if known["count"].sum() > 0:
        cust = int(known.loc[known["detection"] == "customer", "count"].sum())
        share = cust / int(known["count"].sum())
        if share >= CUSTOMER_SHARE_LIMIT:
            recs.append(
                Recommendation(
                    "Detect incidents before customers do: page on multi-window burn-rate alerts",
                    f"{cust} of {int(known['count'].sum())} incidents with a known detection source ({share:.0%}) were reported by customers (limit {CUSTOMER_SHARE_LIMIT:.0%}).",
                    "detection",
                    "share of incidents detected by customers",
                )
            )
    if "ttd" in metrics and metrics["ttd"].median > DETECT_MEDIAN_LIMIT:
        m = metrics["ttd"]
        recs.append(
            Recommendation(
                "Shorten detection: alert on the SLI (burn rate) rather than on causes",
                f"median time to detect is {_minutes(m.median)} over {m.n} incidents (limit {_minutes(DETECT_MEDIAN_LIMIT)}).",
                "detection",
                "median time to detect",
            )
        )
    if "tta" in metrics and metrics["tta"].median > ACK_MEDIAN_LIMIT:
        m = metrics["tta"]
        recs.append(
            Recommendation(
                "Fix paging and escalation: page the on-call directly and escalate after a fixed timeout",
                f"median time to acknowledge is {_minutes(m.median)} (p90 {_minutes(m.p90)}) over {m.n} incidents (limit {_minutes(ACK_MEDIAN_LIMIT)}).",
                "oncall",
                "median and p90 time to acknowledge",
            )
        )
    repeats = cause[cause["repeat"]]
    for _, row in repeats.head(3).iterrows():
        extra = (
            f", {row['budget_minutes']:.0f} budget minutes"
            if "budget_minutes" in row and row["budget_minutes"] > 0
            else ""
        )
        recs.append(
            Recommendation(
                f"Put the recurring cause '{row['cause']}' on the reliability backlog",
                f"{int(row['count'])} incidents share this cause{extra}.",
                "backlog",
                f"incidents per quarter caused by '{row['cause']}'",
            )
        )
    if postmortems["coverage"] is not None and postmortems["coverage"] < 1.0:
        recs.append(
            Recommendation(
                "Write a postmortem for every SEV1/SEV2 incident, using the template below",
                f"{postmortems['done']} of {postmortems['done'] + postmortems['pending'] + postmortems['none']} high-severity incidents with a known status have a finished postmortem.",
                "postmortems",
                "postmortem coverage of SEV1/SEV2 incidents",
            )
        )
    elif postmortems["high_severity_incidents"] > 0 and postmortems["coverage"] is None:
        recs.append(
            Recommendation(
                "Record postmortems in one place with the template below and track them in the follow-up table",
                f"none of the {postmortems['high_severity_incidents']} high-severity incidents records a postmortem status.",
                "postmortems",
                "postmortem coverage of SEV1/SEV2 incidents",
            )
        )
    if postmortems["closure_rate"] is not None and postmortems["closure_rate"] < CLOSURE_LIMIT:
        recs.append(
            Recommendation(
                "Review open postmortem action items weekly and give each an owner and a date",
                f"{postmortems['action_items_closed']} of {postmortems['action_items_open'] + postmortems['action_items_closed']} action items are closed ({postmortems['closure_rate']:.0%}, limit {CLOSURE_LIMIT:.0%}).",
                "postmortems",
                "action-item closure rate",
            )
        )
    if change is not None and change["share_after_deploy"] >= DEPLOY_SHARE_LIMIT:
        recs.append(
            Recommendation(
                "Make changes safer: canary or progressive rollouts with automatic rollback on burn rate",
                f"{change['incidents_after_deploy']} incidents ({change['share_after_deploy']:.0%}) started within {change['lookback_minutes']:.0f} min after a deploy (limit {DEPLOY_SHARE_LIMIT:.0%}).",
                "change_management",
                "share of incidents that start after a deploy",
            )
        )
    if "ttr" in metrics:
        m = metrics["ttr"]
        if m.detectable_change >= 0.5 * m.mean:
            recs.append(
                Recommendation(
                    "Do not steer by mean time to resolve; track error-budget minutes and incident counts",
                    f"with {m.n} incidents and this spread, only a change of {_minutes(m.detectable_change)} in mean time to resolve (mean {_minutes(m.mean)}) would be detectable at {CONFIDENCE:.0%} confidence (Davidovič 2021).",
                    "metrics",
                    "error-budget minutes per quarter",
                )
            )
    return tuple(recs)


def postmortem_template(service: str) -> str:
    """A blameless postmortem template (after the SRE Workbook, "Postmortem Culture", example
    postmortem), in Markdown."""
    return f"""# Postmortem: <incident title> ({service})

**Date:** <YYYY-MM-DD> · **Authors:** <names> · **Status:** draft | in review | final · **Severity:** SEV<1-4>

## Summary
<Two or three sentences: what broke, for whom, for how long.>

## Impact
- Users affected / requests failed: <numbers>
- Error budget consumed: <budget minutes> of <SLO name>
- Time to detect / acknowledge / mitigate / resolve: <durations>

## Timeline (UTC)
| time | event |
|---|---|
| <hh:mm> | impact starts |
| <hh:mm> | detected by <alert / customer / internal> |
| <hh:mm> | acknowledged by on-call |
| <hh:mm> | mitigated |
| <hh:mm> | resolved |

## Root causes and trigger
<What made this possible (causes) and what set it off (trigger). No blame: describe systems and decisions, not people.>

## Detection
<How we found out. Would a burn-rate alert have paged earlier? Was the page actionable?>

## Resolution
<What mitigated it and what fixed it for good.>

## What went well / what went wrong / where we got lucky
- <...>

## Action items
| action | type (prevent / detect / mitigate / process) | owner | due | tracking link | status |
|---|---|---|---|---|---|
| <...> | <...> | <name> | <date> | <link> | open |
"""


# ---------------------------------------------------------------- entry point


def analyze_incidents(
    incidents: pd.DataFrame | None,
    config: ServiceConfig,
    *,
    rng: np.random.Generator,
    telemetry: pd.DataFrame | None = None,
    specs: tuple[SLOSpec, ...] = (),
    deploys: pd.DataFrame | None = None,
    as_of: pd.Timestamp | None = None,
    counts: SliCounts | None = None,
) -> IncidentReport:
    """Incident-response analysis of an incident log (canonical columns of
    ``srekit.inputs.columns.INCIDENTS``).

    Parameters
    ----------
    incidents : loaded incident log, or None when the team has none.
    config : the service configuration (owners, service name).
    rng : random generator for the bootstrap intervals.
    telemetry, specs : when both are given, each cause's error-budget minutes are measured.
    deploys : deploy log; incidents within one hour after a deploy count as change-induced.
    as_of : censoring time of open incidents (default: the latest stamp in the log).
    counts : the SLIs of ``telemetry`` when already measured elsewhere (:class:`SliCounts`).

    Returns
    -------
    IncidentReport
    """
    template = postmortem_template(config.service)
    owner = config.owner_for("incidents")
    questions: list[OpenQuestion] = []
    if incidents is None or len(incidents) == 0:
        questions.append(
            OpenQuestion(
                "incident_log",
                "Where does the team record incidents (PagerDuty, Opsgenie, Statuspage, a spreadsheet)? Export it as data.incidents in service.yaml.",
                "No incident log was given (or it is empty): no lifecycle metrics; a postmortem template and an empty follow-up tracker are provided.",
                SECTION,
            )
        )
        empty = pd.DataFrame()
        return IncidentReport(
            incidents=0,
            open_incidents=0,
            as_of=None,
            metrics={},
            not_measured=tuple(METRICS),
            severity=empty,
            cause=empty,
            detection=empty,
            change=None,
            postmortems=_postmortems(prepare(pd.DataFrame(columns=list(INCIDENTS)))),
            recommendations=(
                Recommendation(
                    "Start an incident log and write postmortems with the template below",
                    "no incident history was provided, so detection, response and recurring causes cannot be measured.",
                    "postmortems",
                    "incidents logged with all lifecycle timestamps",
                ),
            ),
            postmortem_template=template,
            follow_up=_empty_follow_up(),
            follow_up_total=0,
            open_questions=tuple(questions),
        )

    df = prepare(incidents)
    end = as_of if as_of is not None else log_end(df)
    n_open = int(df["resolved_at"].isna().sum())
    if n_open and as_of is None:
        questions.append(
            OpenQuestion(
                "incident_censoring_time",
                f"Is {end.isoformat() if end is not None else 'the log end'} the time the incident log was exported?",
                f"{n_open} open incident(s) are right-censored at the latest timestamp in the log (Kaplan–Meier), not dropped.",
                SECTION,
            )
        )
    metrics: dict[str, DurationMetric] = {}
    not_measured: list[str] = []
    for name in METRICS:
        m = duration_metric(df, name, end, rng)
        if m is None:
            not_measured.append(name)
        else:
            metrics[name] = m
    if not_measured:
        cols = ", ".join(f"{METRICS[n][3]} ({METRICS[n][1]})" for n in not_measured)
        questions.append(
            OpenQuestion(
                "incident_timestamps",
                f"Can the incident tool export these timestamps: {cols}?",
                "Fewer than two incidents carry them, so these durations are not reported.",
                SECTION,
            )
        )
    for name, m in metrics.items():
        if m.zero_excluded > 0.1 * (m.n + m.zero_excluded):
            questions.append(
                OpenQuestion(
                    f"incident_zero_{name}",
                    f"Are the {m.zero_excluded} incidents with a zero {m.label} back-filled records?",
                    f"Zero {m.label} is treated as 'not recorded' and left out of the {m.label} statistics.",
                    SECTION,
                )
            )
    if df["severity"].notna().any():
        questions.append(
            OpenQuestion(
                "high_severity",
                f"Which severities require a postmortem? ({', '.join(sorted(df['severity'].dropna().unique()))} appear in the log.)",
                f"{' and '.join(HIGH_SEVERITIES)} require a postmortem.",
                SECTION,
            )
        )
    budget = None
    if telemetry is not None and len(specs):
        budget = budget_minutes_by_incident(impact_windows(df, end), telemetry, specs, counts=counts)
    elif len(specs) == 0 and telemetry is not None:
        questions.append(
            OpenQuestion(
                "incident_budget_minutes",
                "Which SLOs should incidents be charged against?",
                "No SLOs were given, so causes are ranked by incident count, not by error-budget minutes.",
                SECTION,
            )
        )
    severity = _severity(df, end)
    cause = _cause(df, end, budget)
    detection = _detection(df, end)
    if df["detection"].isna().all():
        questions.append(
            OpenQuestion(
                "detection_source",
                "How was each incident detected (alert, customer report, internal)?",
                "The log has no detection source, so the customer-detected share is unknown.",
                SECTION,
            )
        )
    change = _change(df, deploys) if deploys is not None and len(deploys) else None
    pms = _postmortems(df)
    follow = _follow_up(df, owner)
    return IncidentReport(
        incidents=len(df),
        open_incidents=n_open,
        as_of=end,
        metrics=metrics,
        not_measured=tuple(not_measured),
        severity=severity,
        cause=cause,
        detection=detection,
        change=change,
        postmortems=pms,
        recommendations=recommend(metrics, detection, cause, pms, change),
        postmortem_template=template,
        follow_up=follow.head(FOLLOW_UP_LIMIT).reset_index(drop=True),
        follow_up_total=len(follow),
        open_questions=tuple(questions),
    )
