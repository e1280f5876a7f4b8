"""Result types of the SLO proposal: the ``slo_proposal`` section of ``report.json`` (fields in
docs/slo.md) and the JSON form of an :class:`~srekit.core.spec.SLOSpec`.

Display tables of these results are built from their ``to_dict()`` form in
:mod:`srekit.report.tables.slo`; only plot data (:attr:`SloProposal.distributions`,
:meth:`SloProposal.thresholds_frame`) comes from the objects.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from srekit.analysis.slo.loadtest import LoadTestResult
from srekit.core.questions import OpenQuestion
from srekit.core.spec import SLOSpec
from srekit.core.timeutil import format_duration

SECTION = "slo_proposal"
RUNGS = ("relaxed", "balanced", "ambitious")
#: An objective is called kept only on at least this many SLO windows' worth of history: fewer
#: overlapping windows share most of their days, so "held in 3 of 3" is one observation, not three.
MIN_HISTORY_WINDOWS = 2


def too_little_history(history_days: float, window_days: float) -> bool:
    """Fewer than :data:`MIN_HISTORY_WINDOWS` windows' worth of history (unknown lengths: enough)."""
    return bool(history_days and window_days and history_days < MIN_HISTORY_WINDOWS * window_days)


@dataclass(frozen=True, slots=True)
class SLI:
    """A service level indicator: good events / valid events for one journey."""

    name: str
    journey: str
    kind: str  # availability | latency | timeslice
    definition: str
    columns: tuple[str, ...]
    promql: str
    user_impact: str
    threshold_ms: float | None = None  # latency and timeslice SLIs only
    provisional: bool = False

    def __post_init__(self) -> None:
        if self.kind not in ("availability", "latency", "timeslice"):
            raise ValueError(f"unknown SLI kind {self.kind!r}")
        if self.kind != "availability" and (self.threshold_ms is None or self.threshold_ms <= 0):
            raise ValueError(f"SLI {self.name}: a {self.kind} SLI needs a positive threshold_ms")

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "name": self.name,
            "journey": self.journey,
            "kind": self.kind,
            "definition": self.definition,
            "source": {"columns": list(self.columns), "promql": self.promql},
            "user_impact": self.user_impact,
            "provisional": self.provisional,
        }
        if self.threshold_ms is not None:
            out["threshold_ms"] = float(self.threshold_ms)
        return out


@dataclass(frozen=True, slots=True)
class WindowStats:
    """How an objective would have fared over past SLO windows (request-weighted)."""

    windows: int  # evaluation windows with traffic
    windows_met: float  # share of those windows in which the objective held
    budget_consumed_median: float  # median share of the error budget the windows consumed
    budget_consumed_p90: float

    def __post_init__(self) -> None:
        if self.windows < 0 or not 0.0 <= self.windows_met <= 1.0:
            raise ValueError("windows must be ≥ 0 and windows_met in [0, 1]")
        if self.budget_consumed_median < 0 or self.budget_consumed_p90 < 0:
            raise ValueError("budget consumption cannot be negative")

    def to_dict(self) -> dict[str, Any]:
        return {
            "windows": self.windows,
            "windows_met": self.windows_met,
            "budget_consumed_median": self.budget_consumed_median,
            "budget_consumed_p90": self.budget_consumed_p90,
        }


@dataclass(frozen=True, slots=True)
class ThresholdProposal:
    """The latency threshold the history supports for one journey and target."""

    journey: str
    kind: str  # latency (request histograms) | timeslice (a per-interval statistic)
    target: float
    threshold_ms: float
    threshold_ci_ms: tuple[float, float]
    ci_block: str  # day | hour | none (what the bootstrap resampled)
    pooled_fraction: float  # share of all requests (or intervals) ≤ threshold over the range
    history: WindowStats
    min_window_events: int
    too_little_data: bool
    history_days: float = 0.0  # days of history the windows were cut from
    window_days: float = 0.0  # the SLO window

    @property
    def too_little_history(self) -> bool:
        return too_little_history(self.history_days, self.window_days)

    def __post_init__(self) -> None:
        if not 0.0 < self.target < 1.0:
            raise ValueError("target must be in (0, 1)")
        lo, hi = self.threshold_ci_ms
        if not lo <= self.threshold_ms <= hi:
            raise ValueError(f"threshold {self.threshold_ms} outside its interval {self.threshold_ci_ms}")
        if not 0.0 <= self.pooled_fraction <= 1.0:
            raise ValueError("pooled_fraction must be in [0, 1]")

    def to_dict(self) -> dict[str, Any]:
        return {
            "journey": self.journey,
            "kind": self.kind,
            "target": self.target,
            "threshold_ms": self.threshold_ms,
            "threshold_ci_ms": [self.threshold_ci_ms[0], self.threshold_ci_ms[1]],
            "ci_block": self.ci_block,
            "pooled_fraction": self.pooled_fraction,
            **self.history.to_dict(),
            "min_window_events": self.min_window_events,
            "too_little_data": self.too_little_data,
            "history_days": self.history_days,
            "too_little_history": self.too_little_history,
        }


@dataclass(frozen=True, slots=True)
class Objective:
    """One objective inside an option: an SLI kind, its target and (for latency) threshold."""

    sli: str
    target: float
    history: WindowStats
    threshold_ms: float | None = None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"sli": self.sli, "target": self.target}
        if self.threshold_ms is not None:
            out["threshold_ms"] = self.threshold_ms
        return out | self.history.to_dict()


@dataclass(frozen=True, slots=True)
class SloOption:
    """A named set of objectives for one journey with its historical record and trade-off."""

    journey: str
    name: str  # relaxed | balanced | ambitious | given
    objectives: tuple[Objective, ...]
    history: WindowStats  # all objectives together (a window counts as met when all held)
    tradeoff: str
    recommended: bool
    history_days: float = 0.0  # days of history the windows were cut from
    window_days: float = 0.0  # the SLO window

    @property
    def too_little_history(self) -> bool:
        return too_little_history(self.history_days, self.window_days)

    def __post_init__(self) -> None:
        if self.name not in (*RUNGS, "given"):
            raise ValueError(f"unknown option name {self.name!r}")
        if not self.objectives:
            raise ValueError("an option needs at least one objective")

    def objective(self, sli: str) -> Objective | None:
        return next((o for o in self.objectives if o.sli == sli), None)

    def to_dict(self) -> dict[str, Any]:
        return {
            "journey": self.journey,
            "name": self.name,
            "recommended": self.recommended,
            "objectives": [o.to_dict() for o in self.objectives],
            **self.history.to_dict(),
            "history_days": self.history_days,
            "too_little_history": self.too_little_history,
            "tradeoff": self.tradeoff,
        }


@dataclass(frozen=True, slots=True)
class InstrumentationStep:
    """What to emit for a journey that has no telemetry yet."""

    journey: str
    counter: str
    histogram: str
    bucket_edges_ms: tuple[float, ...]
    why: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "journey": self.journey,
            "counter": self.counter,
            "histogram": self.histogram,
            "bucket_edges_ms": list(self.bucket_edges_ms),
            "why": self.why,
        }


@dataclass(frozen=True, slots=True)
class SloInForce:
    """An SLO the rest of the report uses, where it came from and why."""

    spec: SLOSpec
    source: str  # service.yaml | given | option:balanced | provisional
    rationale: str

    def to_dict(self) -> dict[str, Any]:
        return spec_to_dict(self.spec) | {"source": self.source, "rationale": self.rationale}


@dataclass(frozen=True, slots=True)
class SloProposal:
    """The ``slo_proposal`` section: SLIs, threshold proposals, options and the SLOs in force."""

    slos: tuple[SloInForce, ...]
    slis: tuple[SLI, ...]
    threshold_proposals: tuple[ThresholdProposal, ...]
    options: tuple[SloOption, ...]
    instrumentation_plan: tuple[InstrumentationStep, ...]
    critical_journeys: tuple[str, ...]
    window: pd.Timedelta
    window_kind: str
    open_questions: tuple[OpenQuestion, ...]
    # per journey × edge pooled cumulative share (plots only, not in report.json)
    distributions: pd.DataFrame = field(default_factory=pd.DataFrame, compare=False, repr=False)
    loadtests: tuple[LoadTestResult, ...] = ()  # latency distributions of load tests (no time axis)

    def __post_init__(self) -> None:
        if self.window <= pd.Timedelta(0):
            raise ValueError("window must be positive")
        names = [s.spec.name for s in self.slos]
        if len(set(names)) != len(names):
            raise ValueError(f"SLO names must be unique, got {names}")

    @property
    def specs(self) -> tuple[SLOSpec, ...]:
        """The SLOs in force."""
        return tuple(s.spec for s in self.slos)

    def to_dict(self) -> dict[str, Any]:
        return {
            "critical_journeys": list(self.critical_journeys),
            "window": format_duration(self.window),
            "window_s": int(self.window.total_seconds()),
            "window_kind": self.window_kind,
            "slis": [s.to_dict() for s in self.slis],
            "threshold_proposals": [p.to_dict() for p in self.threshold_proposals],
            "options": [o.to_dict() for o in self.options],
            "slos": [s.to_dict() for s in self.slos],
            "instrumentation_plan": [s.to_dict() for s in self.instrumentation_plan],
            "loadtests": [t.to_dict() for t in self.loadtests],
        }

    def thresholds_frame(self) -> pd.DataFrame:
        """Plot data: the proposed thresholds (journey, kind, label, target, threshold_ms,
        slower_share) to mark on :attr:`distributions`."""
        proposals = self.threshold_proposals
        return pd.DataFrame(
            {
                "journey": pd.Series([p.journey for p in proposals], dtype="str"),
                "kind": pd.Series([p.kind for p in proposals], dtype="str"),
                "label": pd.Series([plot_label(p.journey, p.kind) for p in proposals], dtype="str"),
                "target": pd.Series([p.target for p in proposals], dtype=float),
                "threshold_ms": pd.Series([p.threshold_ms for p in proposals], dtype=float),
                "slower_share": pd.Series([1.0 - p.pooled_fraction for p in proposals], dtype=float),
            }
        )


def plot_label(journey: str, kind: str) -> str:
    """How a journey's history is named in charts and questions: request journeys by name,
    gauge series marked as such."""
    return journey if kind == "latency" else f"{journey} (per-interval series)"


def spec_to_dict(spec: SLOSpec) -> dict[str, Any]:
    """JSON-ready form of an :class:`SLOSpec` (durations in seconds)."""
    out: dict[str, Any] = {
        "name": spec.name,
        "journey": spec.journey,
        "sli": spec.sli,
        "target": spec.target,
        "window": format_duration(spec.window),
        "window_s": int(spec.window.total_seconds()),
        "window_kind": spec.window_kind,
        "budgeting": spec.budgeting,
    }
    if spec.threshold_ms is not None:
        out["threshold_ms"] = float(spec.threshold_ms)
    if spec.budgeting == "Timeslices" and spec.timeslice_window is not None:
        out["timeslice_target"] = spec.timeslice_target
        out["timeslice_window_s"] = int(spec.timeslice_window.total_seconds())
    return out
