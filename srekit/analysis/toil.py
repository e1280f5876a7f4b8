"""Toil inventory and automation ROI under uncertainty (report section ``toil``).

Toil is "the kind of work tied to running a production service that tends to be manual,
repetitive, automatable, tactical, devoid of enduring value, and that scales linearly as a
service grows" (SRE book, ch. 5 "Eliminating Toil"). The SRE book caps operational work at
50% of each SRE's time; on-call is part of it and sets a floor that no toil log can go below.

Everything here is a pure function over pandas objects: no file I/O, no clock, no printing.
Randomness comes in as a seeded ``numpy.random.Generator``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from srekit.core.errors import ConfigError, input_error
from srekit.core.questions import OpenQuestion
from srekit.inputs.config import ServiceConfig

SECTION = "toil"
CAP = 0.5
"""Maximum share of team time for toil/operational work (SRE book ch. 5 "Eliminating Toil":
"at least 50% of each SRE's time should be spent on engineering project work")."""
ONCALL_LIMIT = 0.25
"""Maximum share of time on call (SRE book ch. 11 "Being On-Call")."""
DEFAULT_TEAM_SIZE = 8
"""Fallback team size: the SRE book's minimum for a single-site 24x7 rotation (ch. 11)."""
DEFAULT_COST_HOURS = (8.0, 24.0, 80.0)
"""Default build cost of an automation (low, likely, high engineer hours): a day, three days,
two weeks. A stated assumption, listed in ``open_questions``."""
DEFAULT_REDUCTION = (0.5, 0.8, 0.95)
"""Default share of a task's time that automation removes (low, likely, high)."""
DEFAULT_MAINTENANCE = (0.0, 0.25, 1.0)
"""Default upkeep of an automation in hours per week (low, likely, high)."""
MAX_CANDIDATES = 10
MIN_TREND_WEEKS = 3
TREND_CONFIDENCE = 0.90
SHORT_LOG_WEEKS = 4.0

_AUTOMATION_KEYS = {"cost_hours", "expected_reduction", "maintenance_hours_per_week", "self_healing", "rollback"}


# --------------------------------------------------------------------------- three-point estimates


@dataclass(frozen=True, slots=True)
class Estimate:
    """A three-point estimate (low ≤ likely ≤ high), sampled as a PERT distribution."""

    low: float
    likely: float
    high: float

    def __post_init__(self) -> None:
        vals = (self.low, self.likely, self.high)
        if not all(math.isfinite(v) and v >= 0 for v in vals):
            raise ValueError(f"an estimate needs finite non-negative numbers, got {vals}")
        if not self.low <= self.likely <= self.high:
            raise ValueError(f"an estimate needs low ≤ likely ≤ high, got {vals}")

    def ppf(self, u: np.ndarray) -> np.ndarray:
        """Quantiles of the PERT distribution at probabilities ``u`` (inverse-CDF sampling).

        Beta-PERT (Malcolm, Roseboom, Clark & Fazar 1959; Vose, *Risk Analysis*, 2008):
        ``α = 1 + 4 (m − a)/(b − a)``, ``β = 1 + 4 (b − m)/(b − a)``, ``x = a + (b − a)·Beta(α, β)``.
        A degenerate estimate (low = high) is a constant.
        """
        u = np.asarray(u, dtype=float)
        span = self.high - self.low
        if span == 0:
            return np.full(u.shape, self.low)
        a = 1.0 + 4.0 * (self.likely - self.low) / span
        b = 1.0 + 4.0 * (self.high - self.likely) / span
        from scipy import stats  # lazy: report kernels only unpickle results

        return self.low + span * stats.beta.ppf(u, a, b)

    def to_dict(self) -> dict[str, float]:
        return {"low": float(self.low), "likely": float(self.likely), "high": float(self.high)}


def pert_quantiles(est: Estimate, u: np.ndarray) -> np.ndarray:
    """Function form of :meth:`Estimate.ppf`."""
    return est.ppf(u)


# --------------------------------------------------------------------------- result types


@dataclass(frozen=True, slots=True)
class TaskTrend:
    """Theil–Sen slope of weekly hours (hours/week per week) with its confidence interval."""

    weeks: int
    slope: float
    low: float
    high: float
    confidence: float = TREND_CONFIDENCE

    def __post_init__(self) -> None:
        if self.weeks < MIN_TREND_WEEKS:
            raise ValueError(f"a trend needs at least {MIN_TREND_WEEKS} weeks, got {self.weeks}")
        if not self.low <= self.slope <= self.high:
            raise ValueError(f"trend interval [{self.low}, {self.high}] must contain the slope {self.slope}")

    @property
    def direction(self) -> str:
        if self.low > 0:
            return "growing"
        if self.high < 0:
            return "shrinking"
        return "flat"

    def to_dict(self) -> dict[str, Any]:
        return {
            "weeks": self.weeks,
            "slope_hours_per_week_per_week": float(self.slope),
            "low": float(self.low),
            "high": float(self.high),
            "confidence": float(self.confidence),
            "direction": self.direction,
        }


@dataclass(frozen=True, slots=True)
class TaskToil:
    """One task of the inventory."""

    task: str
    category: str
    hours_per_week: float
    occurrences_per_week: float
    minutes_per_occurrence: float
    share_of_team_time: float
    share_of_toil: float
    automatable: bool | None
    engineers: int
    trend: TaskTrend | None

    def __post_init__(self) -> None:
        if self.hours_per_week < 0 or self.occurrences_per_week < 0 or self.minutes_per_occurrence < 0:
            raise ValueError(f"task {self.task}: hours and counts cannot be negative")
        for name in ("share_of_team_time", "share_of_toil"):
            v = getattr(self, name)
            if not 0.0 <= v <= 1.0:
                raise ValueError(f"task {self.task}: {name} must be in [0, 1], got {v}")

    def to_dict(self) -> dict[str, Any]:
        return {
            "task": self.task,
            "category": self.category,
            "hours_per_week": float(self.hours_per_week),
            "occurrences_per_week": float(self.occurrences_per_week),
            "minutes_per_occurrence": float(self.minutes_per_occurrence),
            "share_of_team_time": float(self.share_of_team_time),
            "share_of_toil": float(self.share_of_toil),
            "automatable": self.automatable,
            "engineers": int(self.engineers),
            "trend": None if self.trend is None else self.trend.to_dict(),
        }


@dataclass(frozen=True, slots=True)
class CategoryToil:
    category: str
    hours_per_week: float
    share_of_team_time: float
    share_of_toil: float
    tasks: int

    def __post_init__(self) -> None:
        if self.hours_per_week < 0 or not (0 <= self.share_of_team_time <= 1 and 0 <= self.share_of_toil <= 1):
            raise ValueError(f"category {self.category}: invalid hours or shares")

    def to_dict(self) -> dict[str, Any]:
        return {
            "category": self.category,
            "hours_per_week": float(self.hours_per_week),
            "share_of_team_time": float(self.share_of_team_time),
            "share_of_toil": float(self.share_of_toil),
            "tasks": int(self.tasks),
        }


@dataclass(frozen=True, slots=True)
class OncallFloor:
    """Operational load on-call creates whatever the toil log says: pages × handling time."""

    share: float
    pages_per_week: float
    hours_per_week: float
    handling_minutes_per_page: float
    coverage: str | None
    rotation_share: float | None

    def __post_init__(self) -> None:
        if not 0.0 <= self.share <= 1.0:
            raise ValueError(f"on-call floor share must be in [0, 1], got {self.share}")
        if self.pages_per_week < 0 or self.hours_per_week < 0:
            raise ValueError("pages and hours per week cannot be negative")

    def to_dict(self) -> dict[str, Any]:
        return {
            "share": float(self.share),
            "pages_per_week": float(self.pages_per_week),
            "hours_per_week": float(self.hours_per_week),
            "handling_minutes_per_page": float(self.handling_minutes_per_page),
            "coverage": self.coverage,
            "rotation_share": None if self.rotation_share is None else float(self.rotation_share),
            "oncall_limit": ONCALL_LIMIT,
        }


@dataclass(frozen=True, slots=True)
class SelfHealing:
    """An automatic remediation; proposed only with a named safe rollback."""

    action: str
    rollback: str

    def __post_init__(self) -> None:
        if not self.action.strip() or not self.rollback.strip():
            raise ValueError("self-healing needs an action and a named safe rollback")

    def to_dict(self) -> dict[str, str]:
        return {"action": self.action, "rollback": self.rollback}


@dataclass(frozen=True, slots=True)
class Roi:
    """Monte Carlo return on an automation over the horizon."""

    p_payback_within_horizon: float
    p_never_pays_back: float
    payback_weeks: tuple[float | None, float | None, float | None]  # p10, p50, p90; None = never
    net_hours_saved: tuple[float, float, float]  # p10, p50, p90
    runs: int

    def __post_init__(self) -> None:
        for name in ("p_payback_within_horizon", "p_never_pays_back"):
            v = getattr(self, name)
            if not 0.0 <= v <= 1.0:
                raise ValueError(f"{name} must be in [0, 1], got {v}")
        if self.runs < 1:
            raise ValueError("ROI needs at least one run")

    def to_dict(self) -> dict[str, Any]:
        keys = ("p10", "p50", "p90")
        return {
            "p_payback_within_horizon": float(self.p_payback_within_horizon),
            "p_never_pays_back": float(self.p_never_pays_back),
            "payback_weeks": {
                k: (None if v is None else float(v)) for k, v in zip(keys, self.payback_weeks, strict=True)
            },
            "net_hours_saved": {k: float(v) for k, v in zip(keys, self.net_hours_saved, strict=True)},
            "runs": int(self.runs),
        }


@dataclass(frozen=True, slots=True, eq=False)
class Candidate:
    """A task worth automating, with its deterministic break-even and Monte Carlo ROI.

    ``net_hours_draws`` and ``payback_weeks_draws`` keep the simulated runs for plots; they
    are not part of the JSON payload.
    """

    task: str
    category: str
    hours_per_week: float
    cost_hours: Estimate
    expected_reduction: Estimate
    maintenance_hours_per_week: Estimate
    estimates_source: str  # "config" | "default"
    horizon_weeks: int
    break_even_hours: float
    roi: Roi
    self_healing: SelfHealing | None = None
    net_hours_draws: np.ndarray = field(default_factory=lambda: np.empty(0), repr=False)
    payback_weeks_draws: np.ndarray = field(default_factory=lambda: np.empty(0), repr=False)

    def __post_init__(self) -> None:
        if self.expected_reduction.high > 1:
            raise ValueError(f"candidate {self.task}: expected_reduction is a share in [0, 1]")
        if self.estimates_source not in ("config", "default"):
            raise ValueError(f"candidate {self.task}: estimates_source must be config or default")
        if self.break_even_hours < 0 or self.hours_per_week < 0:
            raise ValueError(f"candidate {self.task}: hours cannot be negative")

    @property
    def saved_hours_per_week(self) -> float:
        """Net hours saved per week at the likely values: h × r − m."""
        return self.hours_per_week * self.expected_reduction.likely - self.maintenance_hours_per_week.likely

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "task": self.task,
            "category": self.category,
            "hours_per_week": float(self.hours_per_week),
            "cost_hours": self.cost_hours.to_dict(),
            "expected_reduction": self.expected_reduction.to_dict(),
            "maintenance_hours_per_week": self.maintenance_hours_per_week.to_dict(),
            "estimates_source": self.estimates_source,
            "saved_hours_per_week": float(self.saved_hours_per_week),
            "horizon_weeks": int(self.horizon_weeks),
            "break_even_hours": float(self.break_even_hours),
            "roi": self.roi.to_dict(),
        }
        if self.self_healing is not None:
            out["self_healing"] = self.self_healing.to_dict()
        return out


@dataclass(frozen=True, slots=True, eq=False)
class ToilReport:
    """The ``toil`` section of the report.

    ``weekly`` (not in the payload) holds hours per week per task, one row per week of the
    observed period (a short last week is scaled to a full week), for the trend chart.
    """

    source: str  # "toil_log" | "estimated_from_pages" | "none"
    period_start: pd.Timestamp | None  # first local calendar day (naive, service timezone)
    period_end: pd.Timestamp | None  # day after the last one (exclusive)
    weeks: float
    team_size: int
    team_size_source: str
    hours_per_week: float
    horizon_weeks: int
    inventory: tuple[TaskToil, ...]
    by_category: tuple[CategoryToil, ...]
    toil_hours_per_week: float
    logged_share_of_team_time: float
    oncall_floor: OncallFloor
    candidates: tuple[Candidate, ...]
    open_questions: tuple[OpenQuestion, ...] = ()
    weekly: pd.DataFrame = field(default_factory=pd.DataFrame, repr=False)
    cap: float = CAP

    def __post_init__(self) -> None:
        if self.source not in ("toil_log", "estimated_from_pages", "none"):
            raise ValueError(f"unknown toil source {self.source!r}")
        if self.team_size < 1 or self.hours_per_week <= 0 or self.horizon_weeks < 1:
            raise ValueError("team size, hours per week and horizon must be positive")
        if not 0.0 <= self.logged_share_of_team_time <= 1.0:
            raise ValueError(f"logged share must be in [0, 1], got {self.logged_share_of_team_time}")
        if self.weeks < 0 or self.toil_hours_per_week < 0:
            raise ValueError("weeks and hours cannot be negative")

    @property
    def capacity_hours_per_week(self) -> float:
        return self.team_size * self.hours_per_week

    @property
    def share_of_team_time(self) -> float:
        """Toil share of team time: the logged share, never below the on-call floor."""
        return max(self.logged_share_of_team_time, self.oncall_floor.share)

    @property
    def over_cap(self) -> bool:
        return self.share_of_team_time > self.cap

    def to_dict(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "period": None
            if self.period_start is None or self.period_end is None
            else {
                "start": self.period_start.date().isoformat(),
                "end": self.period_end.date().isoformat(),
                "weeks": float(self.weeks),
            },
            "team": {
                "size": int(self.team_size),
                "size_source": self.team_size_source,
                "hours_per_week": float(self.hours_per_week),
                "capacity_hours_per_week": float(self.capacity_hours_per_week),
            },
            "horizon_weeks": int(self.horizon_weeks),
            "toil_hours_per_week": float(self.toil_hours_per_week),
            "logged_share_of_team_time": float(self.logged_share_of_team_time),
            "share_of_team_time": float(self.share_of_team_time),
            "cap": float(self.cap),
            "over_cap": bool(self.over_cap),
            "oncall_floor": self.oncall_floor.to_dict(),
            "inventory": [t.to_dict() for t in self.inventory],
            "by_category": [c.to_dict() for c in self.by_category],
            "candidates": [c.to_dict() for c in self.candidates],
        }


# --------------------------------------------------------------------------- formulas


def break_even_hours(
    hours_per_week: float, reduction: float, maintenance_hours_per_week: float, horizon_weeks: float
) -> float:
    """Hours one can spend automating a task and still break even over the horizon.

    xkcd 1205 "Is It Worth the Time?": time saved per run × runs per period × horizon. Per week
    the task takes ``hours_per_week`` (minutes per occurrence × occurrences per week); the
    automation removes ``reduction`` of it and costs ``maintenance_hours_per_week`` to keep
    running, so ``break_even = max(0, (h × r − m) × horizon_weeks)``.
    """
    return max(0.0, (hours_per_week * reduction - maintenance_hours_per_week) * horizon_weeks)


def simulate_roi(
    hours_per_week: float,
    cost: Estimate,
    reduction: Estimate,
    maintenance: Estimate,
    horizon_weeks: float,
    u: np.ndarray,
) -> tuple[Roi, np.ndarray, np.ndarray]:
    """Monte Carlo ROI of one automation from uniform draws ``u`` (shape ``(runs, 3)``).

    Each run draws build cost ``C``, reduction ``r`` and maintenance ``m`` from their PERT
    distributions (columns 0, 1, 2 of ``u``, inverse-CDF, so runs are common random numbers
    across candidates and what-ifs). Net saving ``s = h·r − m`` hours per week; payback time
    ``C / s`` weeks (never when ``s ≤ 0``); net hours saved over the horizon ``s·H − C``.

    Returns the summary, the net-hours draws and the payback-weeks draws (``inf`` = never).
    """
    u = np.asarray(u, dtype=float)
    if u.ndim != 2 or u.shape[1] != 3 or u.shape[0] < 1:
        raise ValueError(f"u must have shape (runs, 3), got {u.shape}")
    c = cost.ppf(u[:, 0])
    r = reduction.ppf(u[:, 1])
    m = maintenance.ppf(u[:, 2])
    saved = hours_per_week * r - m
    with np.errstate(divide="ignore", invalid="ignore"):
        payback = np.where(saved > 0, c / np.where(saved > 0, saved, 1.0), np.inf)
    net = saved * horizon_weeks - c
    qs = [0.1, 0.5, 0.9]
    pq = np.quantile(payback, qs, method="inverted_cdf")
    nq = np.quantile(net, qs, method="inverted_cdf")
    roi = Roi(
        p_payback_within_horizon=float(np.mean(payback <= horizon_weeks)),
        p_never_pays_back=float(np.mean(~np.isfinite(payback))),
        payback_weeks=tuple(float(v) if np.isfinite(v) else None for v in pq),  # type: ignore[arg-type]
        net_hours_saved=(float(nq[0]), float(nq[1]), float(nq[2])),
        runs=int(u.shape[0]),
    )
    return roi, net, payback


def weekly_trend(hours: Sequence[float] | np.ndarray, *, confidence: float = TREND_CONFIDENCE) -> TaskTrend | None:
    """Theil–Sen slope of a weekly hours series (hours/week per week) with its interval.

    Robust to single heavy weeks (Sen 1968, via ``scipy.stats.theilslopes``). Fewer than
    ``MIN_TREND_WEEKS`` weeks carry no trend: ``None``.
    """
    y = np.asarray(hours, dtype=float)
    if y.size < MIN_TREND_WEEKS:
        return None
    from scipy import stats  # lazy: report kernels only unpickle results

    res = stats.theilslopes(y, np.arange(y.size, dtype=float), alpha=confidence)
    slope, low, high = float(res.slope), float(res.low_slope), float(res.high_slope)
    low, high = min(low, slope), max(high, slope)
    return TaskTrend(weeks=int(y.size), slope=slope, low=low, high=high, confidence=confidence)


# --------------------------------------------------------------------------- inputs


def _local_day(stamps: pd.Series, tz: str) -> pd.Series:
    """Calendar day (naive midnight) of each UTC stamp in the service's timezone: a toil entry
    dated 2026-08-02 in Europe/Berlin is stored as 2026-08-01 22:00 UTC and belongs to 08-02."""
    return stamps.dt.tz_convert(tz).dt.tz_localize(None).dt.normalize()


def _toil_events(toil: pd.DataFrame, tz: str) -> pd.DataFrame:
    missing = [c for c in ("date", "task", "minutes") if c not in toil.columns]
    if missing:
        raise input_error(
            "toil log lacks required columns",
            column=", ".join(missing),
            expected="date, task, minutes (optional category, engineer, automatable)",
            got=", ".join(map(str, toil.columns)),
            fix="load it with srekit.inputs.loaders.load_inputs or rename the columns",
        )
    minutes = pd.to_numeric(toil["minutes"], errors="coerce").astype(float)
    bad = np.flatnonzero(~np.isfinite(minutes.to_numpy()) | (minutes.to_numpy() < 0))
    if bad.size:
        raise input_error(
            "toil minutes must be finite and non-negative",
            column="minutes",
            rows=(bad + 1).tolist(),
            expected="minutes ≥ 0",
            got=", ".join(str(toil["minutes"].iloc[i]) for i in bad[:5]),
            fix="load through srekit.inputs.loaders (it quarantines such rows) or correct them",
        )
    date = pd.to_datetime(toil["date"], utc=True)
    if date.isna().any():
        rows = (np.flatnonzero(date.isna().to_numpy()) + 1).tolist()
        raise input_error(
            "toil dates must be valid",
            column="date",
            rows=rows,
            expected="a date per row",
            got="missing or unparseable dates",
            fix="load through srekit.inputs.loaders or correct them",
        )
    n = len(toil)

    def col(name: str) -> pd.Series:
        return toil[name] if name in toil.columns else pd.Series([pd.NA] * n, index=toil.index)

    category = col("category").astype("str").where(col("category").notna(), "uncategorized")
    try:
        automatable = col("automatable").astype("boolean")
    except (TypeError, ValueError) as exc:
        raise input_error(
            "toil column automatable must be true/false",
            column="automatable",
            expected="booleans (empty = unknown)",
            got=", ".join(map(str, col("automatable").dropna().unique()[:5])),
            fix="load the log through srekit.inputs.loaders.load_inputs, which parses true/false/yes/no",
        ) from exc
    return pd.DataFrame(
        {
            "date": date.to_numpy(),
            "day": _local_day(date, tz).to_numpy(),
            "task": toil["task"].astype("str").to_numpy(),
            "minutes": minutes.to_numpy(),
            "category": category.to_numpy(),
            "engineer": col("engineer").to_numpy(),
            "automatable": automatable.to_numpy(),
        }
    )


def _page_events(alerts: pd.DataFrame, handling_minutes: float, tz: str) -> pd.DataFrame:
    """Toil estimated from the pages log: every alert took ``handling_minutes``."""
    missing = [c for c in ("timestamp", "alert") if c not in alerts.columns]
    if missing:
        raise input_error(
            "pages log lacks required columns",
            column=", ".join(missing),
            expected="timestamp, alert, severity",
            got=", ".join(map(str, alerts.columns)),
            fix="load it with srekit.inputs.loaders.load_inputs or rename the columns",
        )
    ts = pd.to_datetime(alerts["timestamp"], utc=True)
    keep = ts.notna().to_numpy()
    sev = alerts["severity"].astype("str") if "severity" in alerts.columns else pd.Series(["page"] * len(alerts))
    category = np.where(sev.to_numpy() == "ticket", "tickets", "pages")
    return pd.DataFrame(
        {
            "date": ts.to_numpy()[keep],
            "day": _local_day(ts, tz).to_numpy()[keep],
            "task": alerts["alert"].astype("str").to_numpy()[keep],
            "minutes": np.full(int(keep.sum()), float(handling_minutes)),
            "category": category[keep],
            "engineer": [pd.NA] * int(keep.sum()),
            "automatable": pd.array([pd.NA] * int(keep.sum()), dtype="boolean"),
        }
    )


def _pages_per_week(alerts: pd.DataFrame | None, tz: str) -> tuple[float, int]:
    """Pages per week in the pages log (severity ``page``; every row when there is no severity)."""
    if alerts is None or len(alerts) == 0 or "timestamp" not in alerts.columns:
        return 0.0, 0
    ts = pd.to_datetime(alerts["timestamp"], utc=True).dropna()
    if ts.empty:
        return 0.0, 0
    pages = int((alerts["severity"].astype("str") == "page").sum()) if "severity" in alerts.columns else len(ts)
    local = _local_day(ts, tz)
    days = (local.max() - local.min()).days + 1
    return pages / (days / 7.0), pages


def _team_size(config: ServiceConfig, events: pd.DataFrame | None) -> tuple[int, str]:
    if config.toil.team_size:
        return int(config.toil.team_size), "config.toil.team_size"
    if config.oncall.engineers:
        return int(config.oncall.engineers), "config.oncall.engineers"
    if events is not None and "engineer" in events.columns:
        n = int(events["engineer"].dropna().nunique())
        if n > 0:
            return n, "engineers in the toil log"
    return DEFAULT_TEAM_SIZE, "default"


# --------------------------------------------------------------------------- automation estimates


def _three(value: Any, *, key: str, task: str, where: str, share: bool) -> Estimate:
    vals = list(value) if isinstance(value, list | tuple) else [value, value, value]
    try:
        if len(vals) != 3:
            raise ValueError(f"expected one number or [low, likely, high], got {value!r}")
        est = Estimate(*(float(v) for v in vals))
        if share and est.high > 1:
            raise ValueError("a reduction is a share of the task's time in [0, 1]")
    except (TypeError, ValueError) as exc:
        raise ConfigError(
            f"{where}: toil.automation[{task!r}].{key} is invalid: {exc}. "
            f"fix: give {key}: [low, likely, high] with 0 ≤ low ≤ likely ≤ high" + (" ≤ 1" if share else "")
        ) from exc
    return est


@dataclass(frozen=True, slots=True)
class _Plan:
    cost: Estimate
    reduction: Estimate
    maintenance: Estimate
    source: str
    self_healing: SelfHealing | None
    healing_without_rollback: bool


def _plan(task: str, spec: Mapping[str, Any] | None, where: str) -> _Plan:
    default = _Plan(
        Estimate(*DEFAULT_COST_HOURS),
        Estimate(*DEFAULT_REDUCTION),
        Estimate(*DEFAULT_MAINTENANCE),
        "default",
        None,
        False,
    )
    if spec is None:
        return default
    if not isinstance(spec, Mapping):
        raise ConfigError(f"{where}: toil.automation[{task!r}] must be a mapping of {sorted(_AUTOMATION_KEYS)}")
    unknown = sorted(set(spec) - _AUTOMATION_KEYS)
    if unknown:
        raise ConfigError(
            f"{where}: toil.automation[{task!r}] has unknown key(s) {unknown}. valid: {sorted(_AUTOMATION_KEYS)}"
        )
    cost = (
        _three(spec["cost_hours"], key="cost_hours", task=task, where=where, share=False)
        if "cost_hours" in spec
        else default.cost
    )
    red = (
        _three(spec["expected_reduction"], key="expected_reduction", task=task, where=where, share=True)
        if "expected_reduction" in spec
        else default.reduction
    )
    maint = (
        _three(
            spec["maintenance_hours_per_week"], key="maintenance_hours_per_week", task=task, where=where, share=False
        )
        if "maintenance_hours_per_week" in spec
        else default.maintenance
    )
    action = str(spec.get("self_healing") or "").strip()
    rollback = str(spec.get("rollback") or "").strip()
    healing = SelfHealing(action, rollback) if action and rollback else None
    return _Plan(cost, red, maint, "config", healing, bool(action) and not rollback)


# --------------------------------------------------------------------------- inventory


def _weekly(events: pd.DataFrame, start: pd.Timestamp, days: int) -> tuple[pd.DataFrame, np.ndarray]:
    """Hours per week per task in 7-day bins from ``start``; returns the frame and the number
    of days each bin covers (the last bin may be short; its hours are scaled to a week)."""
    n_bins = max(1, math.ceil(days / 7))
    covered = np.minimum(7, days - 7 * np.arange(n_bins)).astype(float)
    k = ((events["day"] - start).dt.days // 7).to_numpy()
    hours = events["minutes"].to_numpy() / 60.0
    tasks = sorted(events["task"].unique())
    pos = {t: i for i, t in enumerate(tasks)}
    grid = np.zeros((n_bins, len(tasks)))
    np.add.at(grid, (k, events["task"].map(pos).to_numpy().astype(int)), hours)
    grid = grid * (7.0 / covered)[:, None]
    index = pd.DatetimeIndex([start + pd.Timedelta(days=7 * i) for i in range(n_bins)], name="week_start")
    return pd.DataFrame(grid, index=index, columns=pd.Index(tasks, name="task")), covered


def _inventory(
    events: pd.DataFrame, weeks: float, capacity: float, weekly: pd.DataFrame, covered: np.ndarray
) -> tuple[tuple[TaskToil, ...], tuple[CategoryToil, ...], float]:
    total_hours = float(events["minutes"].sum()) / 60.0 / weeks
    full = weekly.loc[covered == 7]
    tasks = []
    for task, g in events.groupby("task", sort=False):
        hours = float(g["minutes"].sum()) / 60.0 / weeks
        cats = g["category"].value_counts()
        auto = g["automatable"].dropna()
        tasks.append(
            TaskToil(
                task=str(task),
                category=str(cats.index[0]),
                hours_per_week=hours,
                occurrences_per_week=len(g) / weeks,
                minutes_per_occurrence=float(g["minutes"].mean()),
                share_of_team_time=min(1.0, hours / capacity),
                share_of_toil=hours / total_hours if total_hours > 0 else 0.0,
                automatable=None if auto.empty else bool(auto.mode().iloc[0]),
                engineers=int(g["engineer"].dropna().nunique()),
                trend=weekly_trend(full[task].to_numpy()),
            )
        )
    tasks.sort(key=lambda t: (-t.hours_per_week, t.task))
    cats_out = []
    for cat, g in events.groupby("category", sort=False):
        hours = float(g["minutes"].sum()) / 60.0 / weeks
        cats_out.append(
            CategoryToil(
                category=str(cat),
                hours_per_week=hours,
                share_of_team_time=min(1.0, hours / capacity),
                share_of_toil=hours / total_hours if total_hours > 0 else 0.0,
                tasks=int(g["task"].nunique()),
            )
        )
    cats_out.sort(key=lambda c: (-c.hours_per_week, c.category))
    return tuple(tasks), tuple(cats_out), total_hours


# --------------------------------------------------------------------------- entry point


def analyze_toil(
    toil: pd.DataFrame | None,
    alerts: pd.DataFrame | None,
    config: ServiceConfig,
    *,
    rng: np.random.Generator,
    runs: int = 10_000,
) -> ToilReport:
    """Toil inventory, share of team time against the 50% cap, and automation candidates.

    Parameters
    ----------
    toil : DataFrame or None
        Canonical toil log (``date, task, minutes, category, engineer, automatable``).
    alerts : DataFrame or None
        Canonical pages log (``timestamp, alert, severity, ...``). Sets the on-call floor;
        without a toil log it is the estimate (pages × ``oncall.handling_minutes_per_page``).
    config : ServiceConfig
        ``toil.team_size``, ``toil.hours_per_week``, ``toil.horizon_weeks``,
        ``toil.automation`` and ``oncall``.
    rng : numpy.random.Generator
        Seeded generator for the ROI simulation.
    runs : int
        Monte Carlo runs per candidate.

    Returns
    -------
    ToilReport
        ``.to_dict()`` is the ``toil`` payload (docs/toil.md); ``.open_questions`` the defaults taken.
    """
    if runs < 1:
        raise ValueError(f"runs must be ≥ 1, got {runs}")
    tc = config.toil
    where = str(config.path) if config.path else "service.yaml"
    if tc.hours_per_week <= 0 or tc.horizon_weeks < 1:
        raise ConfigError(
            f"{where}: toil.hours_per_week must be > 0 and toil.horizon_weeks ≥ 1, got "
            f"{tc.hours_per_week} and {tc.horizon_weeks}"
        )
    handling = float(config.oncall.handling_minutes_per_page)
    questions: list[OpenQuestion] = []

    has_toil = toil is not None and len(toil) > 0
    has_pages = alerts is not None and len(alerts) > 0
    events: pd.DataFrame | None
    if has_toil:
        assert toil is not None
        source, events = "toil_log", _toil_events(toil, config.timezone)
    elif has_pages:
        assert alerts is not None
        source, events = "estimated_from_pages", _page_events(alerts, handling, config.timezone)
        questions.append(
            OpenQuestion(
                "toil_source",
                "Can the team keep a toil log (date, task, minutes)?",
                f"No toil log: toil is estimated from the pages log, every alert (page or ticket) taking "
                f"{handling:g} minutes of handling (oncall.handling_minutes_per_page).",
                SECTION,
            )
        )
    else:
        source, events = "none", None
        questions.append(
            OpenQuestion(
                "toil_source",
                "Can the team keep a toil log (date, task, minutes) or export its pages?",
                "No toil log and no pages log: toil is unknown and no automation candidates are proposed.",
                SECTION,
            )
        )
    if events is not None and events.empty:
        events = None

    team_size, size_source = _team_size(config, events)
    if size_source == "default":
        questions.append(
            OpenQuestion(
                "toil_team_size",
                "How many engineers share this operational work?",
                f"Team size unknown (toil.team_size, oncall.engineers, no engineer column): assumed "
                f"{DEFAULT_TEAM_SIZE}, the SRE book's minimum for a single-site on-call rotation.",
                SECTION,
            )
        )
    elif size_source == "engineers in the toil log":
        questions.append(
            OpenQuestion(
                "toil_team_size",
                "Is everyone who does operational work in the toil log?",
                f"Team size taken as the {team_size} distinct engineers in the toil log (set toil.team_size).",
                SECTION,
            )
        )
    capacity = team_size * tc.hours_per_week

    pages_pw, _ = _pages_per_week(alerts, config.timezone)
    page_hours = pages_pw * handling / 60.0
    rotation = (1.0 / team_size) if config.oncall.coverage else None
    floor = OncallFloor(
        share=min(1.0, page_hours / capacity),
        pages_per_week=pages_pw,
        hours_per_week=page_hours,
        handling_minutes_per_page=handling,
        coverage=config.oncall.coverage,
        rotation_share=rotation,
    )
    if rotation is not None and rotation > ONCALL_LIMIT:
        questions.append(
            OpenQuestion(
                "oncall_rotation_size",
                "Is the rotation large enough to keep on-call under 25% of each engineer's time?",
                f"With {team_size} engineers each is on call {rotation:.0%} of the time, above the SRE book's 25% limit.",
                SECTION,
            )
        )

    if events is None:
        return ToilReport(
            source=source,
            period_start=None,
            period_end=None,
            weeks=0.0,
            team_size=team_size,
            team_size_source=size_source,
            hours_per_week=tc.hours_per_week,
            horizon_weeks=tc.horizon_weeks,
            inventory=(),
            by_category=(),
            toil_hours_per_week=0.0,
            logged_share_of_team_time=0.0,
            oncall_floor=floor,
            candidates=(),
            open_questions=tuple(questions),
        )

    start = events["day"].min()
    end = events["day"].max() + pd.Timedelta(days=1)
    days = int((end - start).days)
    weeks = days / 7.0
    if weeks < SHORT_LOG_WEEKS:
        questions.append(
            OpenQuestion(
                "toil_period",
                "Is this short log typical of a normal week?",
                f"Rates are extrapolated from {days} day(s) of data ({weeks:.1f} weeks).",
                SECTION,
            )
        )
    weekly, covered = _weekly(events, start, days)
    inventory, by_category, total = _inventory(events, weeks, capacity, weekly, covered)
    logged_share = min(1.0, total / capacity)
    if total > capacity:
        questions.append(
            OpenQuestion(
                "toil_capacity",
                "Is the team size or the toil log right?",
                f"Logged toil ({total:.1f} h/week) exceeds the team's capacity ({capacity:.1f} h/week); "
                "the share is capped at 100%.",
                SECTION,
            )
        )
    if source == "toil_log" and floor.share > logged_share:
        questions.append(
            OpenQuestion(
                "toil_oncall_floor",
                "Does the toil log include time spent handling pages?",
                f"Page handling alone takes {page_hours:.1f} h/week, more than the toil log shows; "
                "the share of team time uses that on-call floor.",
                SECTION,
            )
        )

    # candidates
    plans_cfg = dict(tc.automation or {})
    chosen = [t for t in inventory if t.automatable is not False and t.hours_per_week > 0]
    # a task configured under toil.automation is a candidate even when the log says otherwise
    configured = [t for t in inventory if t.task in plans_cfg and t.hours_per_week > 0]
    others = [t for t in chosen if t.task not in plans_cfg][: max(0, MAX_CANDIDATES - len(configured))]
    picked = sorted(configured + others, key=lambda t: (-t.hours_per_week, t.task))
    unknown_auto = [t.task for t in picked if t.automatable is None]
    if unknown_auto and source == "toil_log":
        questions.append(
            OpenQuestion(
                "toil_automatable",
                "Can these tasks be automated?",
                "Treated as automatable (no `automatable` value in the log): "
                + ", ".join(unknown_auto[:8])
                + (" …" if len(unknown_auto) > 8 else ""),
                SECTION,
            )
        )
    absent = sorted(set(plans_cfg) - {t.task for t in inventory})
    if absent:
        questions.append(
            OpenQuestion(
                "toil_automation_tasks",
                "Do these configured automation tasks match task names in the log?",
                "toil.automation names tasks absent from the data, ignored: " + ", ".join(absent),
                SECTION,
            )
        )

    u_all = rng.random((len(picked), runs, 3))
    candidates = []
    defaulted = []
    for i, t in enumerate(picked):
        plan = _plan(t.task, plans_cfg.get(t.task), where)
        if plan.source == "default":
            defaulted.append(t.task)
        if plan.healing_without_rollback:
            questions.append(
                OpenQuestion(
                    "self_healing_rollback",
                    f"What is the safe rollback for self-healing {t.task!r}?",
                    "Self-healing is not proposed without a named safe rollback (toil.automation[...].rollback).",
                    SECTION,
                )
            )
        roi, net, payback = simulate_roi(
            t.hours_per_week, plan.cost, plan.reduction, plan.maintenance, tc.horizon_weeks, u_all[i]
        )
        candidates.append(
            Candidate(
                task=t.task,
                category=t.category,
                hours_per_week=t.hours_per_week,
                cost_hours=plan.cost,
                expected_reduction=plan.reduction,
                maintenance_hours_per_week=plan.maintenance,
                estimates_source=plan.source,
                horizon_weeks=tc.horizon_weeks,
                break_even_hours=break_even_hours(
                    t.hours_per_week, plan.reduction.likely, plan.maintenance.likely, tc.horizon_weeks
                ),
                roi=roi,
                self_healing=plan.self_healing,
                net_hours_draws=net,
                payback_weeks_draws=payback,
            )
        )
    if defaulted:
        questions.append(
            OpenQuestion(
                "automation_estimates",
                "What would automating these tasks cost, save and need in upkeep?",
                f"Default estimates (cost {DEFAULT_COST_HOURS} h, reduction {DEFAULT_REDUCTION}, maintenance "
                f"{DEFAULT_MAINTENANCE} h/week as low/likely/high) for: "
                + ", ".join(defaulted[:8])
                + (" …" if len(defaulted) > 8 else "")
                + ". Set toil.automation in service.yaml.",
                SECTION,
            )
        )

    return ToilReport(
        source=source,
        period_start=start,
        period_end=end,
        weeks=weeks,
        team_size=team_size,
        team_size_source=size_source,
        hours_per_week=tc.hours_per_week,
        horizon_weeks=tc.horizon_weeks,
        inventory=inventory,
        by_category=by_category,
        toil_hours_per_week=total,
        logged_share_of_team_time=logged_share,
        oncall_floor=floor,
        candidates=tuple(candidates),
        open_questions=tuple(questions),
        weekly=weekly,
    )


# --------------------------------------------------------------------------- presentation tables


def inventory_table(report: ToilReport, *, top: int = 15) -> pd.DataFrame:
    """The inventory as a display table (rounded for reading only)."""
    rows = [
        {
            "task": t.task,
            "category": t.category,
            "hours per week": round(t.hours_per_week, 1),
            "times per week": round(t.occurrences_per_week, 1),
            "share of team time": f"{t.share_of_team_time:.1%}",
            "trend (h/week per week)": "too few weeks"
            if t.trend is None
            else f"{t.trend.slope:+.2f} [{t.trend.low:+.2f}, {t.trend.high:+.2f}] {t.trend.direction}",
        }
        for t in report.inventory[:top]
    ]
    return pd.DataFrame(
        rows,
        columns=[
            "task",
            "category",
            "hours per week",
            "times per week",
            "share of team time",
            "trend (h/week per week)",
        ],
    )


def candidates_table(report: ToilReport) -> pd.DataFrame:
    """Automation candidates as a display table (rounded for reading only)."""

    def weeks(v: float | None) -> str:
        return "never" if v is None else f"{v:.0f}"

    rows = [
        {
            "task": c.task,
            "hours per week now": round(c.hours_per_week, 1),
            "build cost (h, likely)": round(c.cost_hours.likely, 0),
            "break-even effort (h)": round(c.break_even_hours, 0),
            "chance it pays back": f"{c.roi.p_payback_within_horizon:.0%}",
            "payback weeks (p10/p50/p90)": "/".join(weeks(v) for v in c.roi.payback_weeks),
            "net hours saved (p50)": round(c.roi.net_hours_saved[1], 0),
            "estimates": c.estimates_source,
            "self-healing rollback": c.self_healing.rollback if c.self_healing else "–",
        }
        for c in report.candidates
    ]
    return pd.DataFrame(
        rows,
        columns=[
            "task",
            "hours per week now",
            "build cost (h, likely)",
            "break-even effort (h)",
            "chance it pays back",
            "payback weeks (p10/p50/p90)",
            "net hours saved (p50)",
            "estimates",
            "self-healing rollback",
        ],
    )


def weekly_top(report: ToilReport, n: int = 5) -> pd.DataFrame:
    """Weekly hours of the ``n`` biggest tasks (columns in inventory order), for the trend chart."""
    names = [t.task for t in report.inventory[:n] if t.task in report.weekly.columns]
    return report.weekly.loc[:, names]


def summary(report: ToilReport) -> str:
    """One or two plain sentences for readers who only read the headline."""
    if report.source == "none":
        return (
            "There is no toil log and no pages log, so toil could not be measured. "
            "Keeping a simple log (date, task, minutes) for a few weeks is the first step."
        )
    basis = "logged" if report.source == "toil_log" else "estimated from pages"
    top = report.inventory[0] if report.inventory else None
    text = (
        f"The team spends about {report.toil_hours_per_week:.1f} hours a week on toil ({basis}), "
        f"{report.share_of_team_time:.0%} of its working time; the SRE book's cap is {report.cap:.0%}"
        + (" — this is over the cap." if report.over_cap else ".")
    )
    if top is not None:
        text += f" The biggest task is '{top.task}' at {top.hours_per_week:.1f} hours a week."
    good = [c for c in report.candidates if c.roi.p_payback_within_horizon >= 0.5]
    if good:
        text += (
            f" {len(good)} automation candidate(s) would more likely than not pay back within "
            f"{report.horizon_weeks} weeks."
        )
    return text
