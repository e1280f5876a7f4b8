"""Lifecycle durations of incidents, open ones censored, with bootstrap intervals.

Methods and sources (``docs/incidents.md``)
-------------------------------------------
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
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, NamedTuple

import numpy as np
import pandas as pd

from srekit.analysis.incidents.detectable import CONFIDENCE, detectable_change

BOOTSTRAP_RESAMPLES = 999

# name -> (start column, end column, zero means "not recorded", plain-language label)
METRICS: dict[str, tuple[str, str, bool, str]] = {
    "ttd": ("started_at", "detected_at", False, "time to detect"),
    "tta": ("detected_at", "acknowledged_at", False, "time to acknowledge"),
    "ttm": ("started_at", "mitigated_at", True, "time to mitigate"),
    "ttr": ("started_at", "resolved_at", True, "time to resolve"),
}


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


# ---------------------------------------------------------------- result


def _secs(td: pd.Timedelta) -> float:
    return float(td.total_seconds())


def _td(seconds: float) -> pd.Timedelta:
    return pd.Timedelta(seconds=float(seconds))


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


# ---------------------------------------------------------------- measuring


class Durations(NamedTuple):
    """One stage's durations over a log (seconds) and the incidents left out, by reason."""

    observed: np.ndarray
    censored: np.ndarray  # how long each open incident has lasted so far
    missing: int
    inconsistent: int
    zero_excluded: int

    def pooled(self) -> tuple[np.ndarray, np.ndarray]:
        """All durations and their censoring flags, observed ones first."""
        times = np.concatenate([self.observed, self.censored])
        flags = np.concatenate([np.zeros(self.observed.size, bool), np.ones(self.censored.size, bool)])
        return times, flags


def lifecycle_durations(df: pd.DataFrame, name: str, as_of: pd.Timestamp | None) -> Durations:
    """Observed and censored durations (seconds) of one metric plus the excluded counts."""
    start_col, end_col, zero_unknown, _ = METRICS[name]
    start, end = df[start_col], df[end_col]
    is_open = df["resolved_at"].isna()
    secs = (end - start).dt.total_seconds().to_numpy(dtype=float, na_value=np.nan)
    have = start.notna().to_numpy() & end.notna().to_numpy()
    inconsistent = have & (secs < 0)
    # a record that resolves the second it starts is back-filled (GitHub's 836): none of its zero stages was measured
    backfilled = (df["resolved_at"] == df["started_at"]).fillna(False).to_numpy(dtype=bool)
    zero = have & (secs == 0) & (zero_unknown | backfilled)
    if name == "ttd" and not (have & (secs >= 1.0)).any():
        # no incident took a second to detect: the source stamps start and detection at one instant
        # (PagerDuty/Opsgenie created_at, Statuspage's default started_at), so nothing was measured
        zero = have & ~inconsistent
    observed = have & ~inconsistent & ~zero
    cens_mask = np.zeros(len(df), bool)
    cens_s = np.array([], float)
    if as_of is not None:
        cand = start.notna().to_numpy() & end.isna().to_numpy() & is_open.to_numpy()
        lower = (as_of - start).dt.total_seconds().to_numpy(dtype=float, na_value=np.nan)
        cens_mask = cand & (lower > 0)
        cens_s = lower[cens_mask]
    missing = len(df) - int(observed.sum() + inconsistent.sum() + zero.sum() + cens_mask.sum())
    return Durations(secs[observed], cens_s, missing, int(inconsistent.sum()), int(zero.sum()))


def _bootstrap_bounds(
    times: np.ndarray, flags: np.ndarray, point: np.ndarray, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Percentile-bootstrap bounds of ``[median, mean]`` at :data:`CONFIDENCE`; ``point`` itself
    when every duration is equal (no spread to resample)."""
    if not np.ptp(times) > 0:
        return point, point
    from scipy import stats  # lazy: report kernels only unpickle results

    common = {"n_resamples": BOOTSTRAP_RESAMPLES, "confidence_level": CONFIDENCE, "method": "percentile", "rng": rng}
    if not flags.any():  # no censoring: KM median/mean are the sample's, vectorised
        boot = stats.bootstrap((times,), _uncensored_median_and_mean, vectorized=True, **common)
    else:
        boot = stats.bootstrap((times, flags.astype(float)), km_median_mean, paired=True, vectorized=True, **common)
    return np.asarray(boot.confidence_interval.low), np.asarray(boot.confidence_interval.high)


def duration_metric(
    df: pd.DataFrame, name: str, as_of: pd.Timestamp | None, rng: np.random.Generator
) -> DurationMetric | None:
    """Kaplan–Meier median/mean/p90 with bootstrap intervals and the detectable change, or
    None when fewer than two durations were observed."""
    d = lifecycle_durations(df, name, as_of)
    if d.observed.size < 2:
        return None
    times, flags = d.pooled()
    qt, sf = _km(times, flags)
    med, med_lb = _km_quantile(qt, sf, 0.5)
    p90, p90_lb = _km_quantile(qt, sf, 0.9)
    mean = _rmst(qt, sf)
    lo, hi = _bootstrap_bounds(times, flags, np.array([med, mean]), rng)
    std = float(np.std(d.observed, ddof=1))
    return DurationMetric(
        name=name,
        label=METRICS[name][3],
        n=int(d.observed.size),
        censored=int(d.censored.size),
        missing=d.missing,
        inconsistent=d.inconsistent,
        zero_excluded=d.zero_excluded,
        median=_td(med),
        median_ci=(_td(min(lo[0], med)), _td(max(hi[0], med))),
        median_is_lower_bound=med_lb,
        mean=_td(mean),
        mean_ci=(_td(min(lo[1], mean)), _td(max(hi[1], mean))),
        p90=_td(p90),
        p90_is_lower_bound=p90_lb,
        std=_td(std),
        detectable_change=_td(detectable_change(std, int(d.observed.size))),
        km_time_s=tuple(float(x) for x in qt),
        km_survival=tuple(float(x) for x in sf),
    )


def lifecycle_metrics(
    df: pd.DataFrame, as_of: pd.Timestamp | None, rng: np.random.Generator
) -> tuple[dict[str, DurationMetric], tuple[str, ...]]:
    """Every stage of :data:`METRICS` that can be measured (in that order, drawing on ``rng``
    in turn), and the names of those that cannot (fewer than two observations)."""
    measured = {name: duration_metric(df, name, as_of, rng) for name in METRICS}
    metrics = {name: m for name, m in measured.items() if m is not None}
    return metrics, tuple(name for name, m in measured.items() if m is None)


def group_median_ttr(df: pd.DataFrame, as_of: pd.Timestamp | None) -> float | None:
    """Kaplan–Meier median time to resolve (s) of a group of incidents; None when none was resolved."""
    d = lifecycle_durations(df, "ttr", as_of)
    if d.observed.size == 0:
        return None
    qt, sf = _km(*d.pooled())
    return _km_quantile(qt, sf, 0.5)[0]
