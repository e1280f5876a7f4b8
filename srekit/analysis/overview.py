"""What the inputs hold, before any SLO: each input's time range, the traffic mix per journey,
the golden signals over time, the critical journeys and the data-quality ledger (the
``inputs`` section of ``report.json`` and the telemetry notebook)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np
import pandas as pd

from srekit.analysis.period import TIMED, Period, analysed_period
from srekit.core.questions import OpenQuestion
from srekit.core.timeutil import utc_series
from srekit.inputs import buckets as bk
from srekit.inputs import telemetry as tm
from srekit.inputs.config import ServiceConfig
from srekit.inputs.ledger import LedgerEntry

TOP_N_CRITICAL = 3


class InputsLike(Protocol):
    """What :func:`srekit.inputs.loaders.load_inputs` returns (attributes are None when absent)."""

    @property
    def telemetry(self) -> pd.DataFrame | None: ...
    @property
    def series(self) -> pd.DataFrame | None: ...
    @property
    def incidents(self) -> pd.DataFrame | None: ...
    @property
    def toil(self) -> pd.DataFrame | None: ...
    @property
    def alerts(self) -> pd.DataFrame | None: ...
    @property
    def deploys(self) -> pd.DataFrame | None: ...
    @property
    def ledger(self) -> tuple[LedgerEntry, ...]: ...


def _iso(ts: pd.Timestamp | None) -> str | None:
    return None if ts is None or pd.isna(ts) else pd.Timestamp(ts).isoformat()


def traffic_mix(telemetry: pd.DataFrame | None) -> pd.DataFrame:
    """Requests, errors, traffic share, error ratio and whole-period latency percentiles per
    journey, busiest first.

    Returns columns ``journey, requests, errors, traffic_share, error_ratio, p50_ms, p99_ms``.
    The error ratio is request-weighted (sum of errors / sum of requests), never a mean of
    per-interval ratios; percentiles are read from the summed buckets
    (:func:`srekit.inputs.telemetry.quantile_ms`, Prometheus ``histogram_quantile``).
    """
    if telemetry is None or telemetry.empty:
        return pd.DataFrame(
            {
                "journey": pd.Series([], dtype="str"),
                "requests": pd.Series([], dtype="int64"),
                "errors": pd.Series([], dtype="int64"),
                "traffic_share": pd.Series([], dtype=float),
                "error_ratio": pd.Series([], dtype=float),
                "p50_ms": pd.Series([], dtype=float),
                "p99_ms": pd.Series([], dtype=float),
            }
        )
    les = tm.bucket_names(telemetry)
    g = tm.journey_sums(telemetry, ["total", "errors", *les])
    for q in (0.5, 0.99):
        g[f"p{q * 100:g}_ms"] = tm.quantile_ms(g[les], g["total"].to_numpy(), q) if les else np.nan
    g = g.drop(columns=les).rename(columns={"total": "requests"}).reset_index()
    grand = int(g["requests"].sum())
    g["traffic_share"] = tm.ratio(g["requests"].to_numpy(), np.full(len(g), grand))
    g["error_ratio"] = tm.ratio(g["errors"].to_numpy(), g["requests"].to_numpy())
    g["requests"] = g["requests"].astype("int64")
    g["errors"] = g["errors"].astype("int64")
    g["journey"] = g["journey"].astype("str")
    g = g[["journey", "requests", "errors", "traffic_share", "error_ratio", "p50_ms", "p99_ms"]]
    return g.sort_values(["requests", "journey"], ascending=[False, True], kind="stable").reset_index(drop=True)


def golden_signals(
    telemetry: pd.DataFrame | None, *, freq: str = "1h", quantiles: Sequence[float] = (0.5, 0.9, 0.99)
) -> pd.DataFrame:
    """Traffic, errors and latency percentiles per journey on a coarser time grid.

    Counts and cumulative buckets are summed per (journey, period) first; percentiles are then
    read from the summed buckets with :func:`srekit.inputs.telemetry.quantile_ms` (Prometheus
    ``histogram_quantile`` interpolation), so they are exact for the bucket layout — never an
    average of per-minute percentiles.

    Returns columns ``journey, period_start, requests, errors, error_ratio`` and ``p<q>_ms`` per
    quantile (e.g. ``p50_ms``, ``p99_ms``; ``p99.9`` becomes ``p99.9_ms``).
    """
    if telemetry is None:
        telemetry = tm.empty()
    les = tm.bucket_names(telemetry)
    g = _period_sums(telemetry, les, freq)
    out = pd.DataFrame(
        {
            "journey": g["journey"].astype("str"),
            "period_start": g["period_start"],
            "requests": g["total"].astype("int64"),
            "errors": g["errors"].astype("int64"),
            "error_ratio": tm.ratio(g["errors"].to_numpy(), g["total"].to_numpy()),
        }
    )
    for q in quantiles:
        label = f"p{q * 100:g}_ms"
        out[label] = tm.quantile_ms(g[les], g["total"].to_numpy(), q) if les else np.nan
    return out


def _period_sums(telemetry: pd.DataFrame, les: list[str], freq: str) -> pd.DataFrame:
    """``total``, ``errors`` and the buckets summed per (journey, period_start), sorted by
    both: a groupby sum, or for a frame already in that order (canonical telemetry) one
    ``np.add.reduceat`` per column over the contiguous runs (the same integers)."""
    cols = ["total", "errors", *les]
    period = telemetry["interval_start"].dt.floor(freq)
    journey = telemetry["journey"]
    if len(telemetry) and not period.hasnans:
        codes = _name_codes(journey)
        p = pd.DatetimeIndex(period).asi8
        dc, dp = np.diff(codes), np.diff(p)
        if codes.min() >= 0 and bool(((dc > 0) | ((dc == 0) & (dp >= 0))).all()):
            starts = np.concatenate(([0], np.flatnonzero((dc != 0) | (dp != 0)) + 1))
            sums = {c: np.add.reduceat(telemetry[c].to_numpy(), starts, dtype=np.int64) for c in cols[:2]}
            if bk.is_sparse(telemetry):  # the buckets summed from their entries (made cumulative)
                sums |= dict(zip(les, bk.run_sums(telemetry, starts).T, strict=True))
            else:
                sums |= {c: np.add.reduceat(telemetry[c].to_numpy(), starts, dtype=np.int64) for c in les}
            return pd.DataFrame(
                {
                    "journey": journey.iloc[starts].reset_index(drop=True),
                    "period_start": period.iloc[starts].reset_index(drop=True),
                    **sums,
                }
            )
    frame = tm.dense(telemetry)[["journey", *cols]].assign(period_start=period)
    return frame.groupby(["journey", "period_start"], sort=True, observed=True)[cols].sum().reset_index()


def _name_codes(journey: pd.Series) -> np.ndarray:
    """A code per row in the names' ascending order (-1: no name): a categorical's own small
    codes when its categories are in that order (the loader's journeys), else factorized."""
    if isinstance(journey.dtype, pd.CategoricalDtype) and journey.cat.categories.is_monotonic_increasing:
        return journey.cat.codes.to_numpy()  # int8/int16: differences of codes ≥ 0 cannot wrap
    return pd.factorize(journey, sort=True)[0]


@dataclass(frozen=True, slots=True)
class InputRange:
    """Rows and time span of one loaded input kind, and how many of its rows the analysed
    period kept (the others lie before or after it)."""

    kind: str
    rows: int
    start: pd.Timestamp | None
    end: pd.Timestamp | None
    kept: int | None = None  # None: as many as rows
    clipped_before: int = 0
    clipped_after: int = 0

    def __post_init__(self) -> None:
        if self.rows < 0:
            raise ValueError("rows cannot be negative")

    def to_dict(self) -> dict[str, Any]:
        span = None
        if self.start is not None and self.end is not None:
            span = (self.end - self.start).total_seconds() / 86400.0
        return {
            "kind": self.kind,
            "rows": self.rows,
            "start": _iso(self.start),
            "end": _iso(self.end),
            "days": span,
            "kept": self.rows if self.kept is None else self.kept,
            "clipped_before": self.clipped_before,
            "clipped_after": self.clipped_after,
        }


@dataclass(frozen=True, slots=True)
class JourneyShare:
    """One journey's share of the traffic."""

    name: str
    requests: int
    errors: int
    traffic_share: float
    error_ratio: float
    critical: bool
    configured: bool
    p50_ms: float | None = None
    p99_ms: float | None = None

    def __post_init__(self) -> None:
        if self.requests < 0 or self.errors < 0:
            raise ValueError("request counts cannot be negative")
        for v in (self.traffic_share, self.error_ratio):
            if not 0.0 <= v <= 1.0:
                raise ValueError(f"journey {self.name}: ratios must be in [0, 1], got {v}")

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "requests": self.requests,
            "errors": self.errors,
            "traffic_share": self.traffic_share,
            "error_ratio": self.error_ratio,
            "critical": self.critical,
            "configured": self.configured,
            "p50_ms": self.p50_ms,
            "p99_ms": self.p99_ms,
        }


@dataclass(frozen=True, slots=True)
class SeriesFacts:
    """One gauge series journey over the analysed period: what a sample is and what the
    statistic did. Percentiles are of the per-interval values (e.g. of 5-minute means), not of
    requests: a mean hides the slow tail."""

    journey: str
    samples: int  # samples in the period, zeros included
    zeros: int  # samples of exactly 0 (no calls, or an outage the statistic cannot show)
    interval_s: float | None
    median: float | None
    p99: float | None
    max: float | None

    def to_dict(self) -> dict[str, Any]:
        return {
            "journey": self.journey,
            "samples": self.samples,
            "zero_samples": self.zeros,
            "interval_s": self.interval_s,
            "median_value": self.median,
            "p99_value": self.p99,
            "max_value": self.max,
        }


def series_facts(series: pd.DataFrame | None, period: Period) -> tuple[SeriesFacts, ...]:
    """Per series journey, busiest first: samples, zero samples, the interval and the median, 99th
    percentile and maximum of the non-zero values within the analysed period."""
    if series is None or series.empty:
        return ()
    if period.start is not None and period.end is not None and period.basis in ("telemetry", "series"):
        series = series[(series["timestamp"] >= period.start) & (series["timestamp"] < period.end)]
    interval = period.intervals.get("series")
    out = []
    for journey, part in series.groupby("journey", sort=True, observed=True):
        values = pd.to_numeric(part["value"], errors="coerce")
        used = values[values.notna() & (values != 0)]
        stats = [float(x) for x in np.quantile(used, [0.5, 0.99])] if len(used) else [None, None]
        out.append(
            SeriesFacts(
                str(journey),
                len(part),
                int((values == 0).sum()),
                None if interval is None else interval.length.total_seconds(),
                stats[0],
                stats[1],
                float(used.max()) if len(used) else None,
            )
        )
    return tuple(sorted(out, key=lambda f: (-f.samples, f.journey)))


@dataclass(frozen=True, slots=True)
class InputsSummary:
    """``report.json["inputs"]``: what the report was computed from."""

    ranges: tuple[InputRange, ...]
    missing: tuple[str, ...]
    journeys: tuple[JourneyShare, ...]
    critical_journeys: tuple[str, ...]
    critical_source: str  # "configured" | "top_by_traffic" | "none"
    telemetry_interval: pd.Timedelta | None
    ledger: tuple[LedgerEntry, ...]
    open_questions: tuple[OpenQuestion, ...] = ()
    period: Period | None = None  # the analysed period (meta.period)
    series: tuple[SeriesFacts, ...] = ()  # per series journey: samples, interval, statistic (no telemetry words)

    def __post_init__(self) -> None:
        if self.critical_source not in ("configured", "top_by_traffic", "series", "none"):
            raise ValueError(f"unknown critical_source {self.critical_source!r}")

    @property
    def requests(self) -> int:
        return int(sum(j.requests for j in self.journeys))

    @property
    def errors(self) -> int:
        return int(sum(j.errors for j in self.journeys))

    @property
    def critical_reason(self) -> str:
        """Why these journeys are critical, in plain words."""
        return {
            "configured": "marked critical in service.yaml",
            "top_by_traffic": f"the {TOP_N_CRITICAL} busiest journeys (no journey is marked in service.yaml)",
            "series": "the journeys of the series, as there is no request telemetry to rank journeys by traffic",
            "none": "no journeys are configured and there is no telemetry",
        }[self.critical_source]

    def range_of(self, kind: str) -> InputRange | None:
        return next((r for r in self.ranges if r.kind == kind), None)

    def to_dict(self) -> dict[str, Any]:
        return {
            "ranges": {r.kind: r.to_dict() for r in self.ranges},
            "missing": list(self.missing),
            "requests": self.requests,
            "errors": self.errors,
            "error_ratio": float(tm.ratio(self.errors, self.requests)),
            "telemetry_interval_s": None
            if self.telemetry_interval is None
            else self.telemetry_interval.total_seconds(),
            "journeys": [j.to_dict() for j in self.journeys],
            "critical_journeys": list(self.critical_journeys),
            "critical_source": self.critical_source,
            "ledger": [e.to_dict() for e in self.ledger],
            "rows_rejected": int(sum(e.rows_rejected for e in self.ledger)),
            "series": [f.to_dict() for f in self.series],
            "samples": int(sum(f.samples for f in self.series)),
        }


def choose_critical(config: ServiceConfig, mix: pd.DataFrame) -> tuple[tuple[str, ...], str, tuple[OpenQuestion, ...]]:
    """Critical journeys: the configured critical ones, else the top 3 by traffic (an
    assumption recorded as an open question; DESIGN.md Output Contract §8)."""
    questions: list[OpenQuestion] = []
    seen = set(mix["journey"]) if len(mix) else set()
    configured = [j.name for j in config.journeys if j.critical]
    absent = [j.name for j in config.journeys if seen and j.name not in seen]
    if absent:
        questions.append(
            OpenQuestion(
                topic="journeys_without_telemetry",
                question=f"Journeys {', '.join(absent)} are configured but have no requests in the telemetry. Is the "
                "journey name or the data source wrong?",
                assumption="They are reported without traffic figures; their SLOs cannot be measured yet.",
                section="inputs",
            )
        )
    if configured:
        return tuple(configured), "configured", tuple(questions)
    if len(mix):
        top = tuple(mix["journey"].head(TOP_N_CRITICAL))
        shares = ", ".join(f"{r.journey} {r.traffic_share:.0%}" for r in mix.head(TOP_N_CRITICAL).itertuples())
        questions.append(
            OpenQuestion(
                topic="critical_journeys",
                question="Which user journeys are critical? None are marked in service.yaml.",
                assumption=f"The top {len(top)} journeys by traffic are treated as critical ({shares}).",
                section="inputs",
            )
        )
        return top, "top_by_traffic", tuple(questions)
    questions.append(
        OpenQuestion(
            topic="critical_journeys",
            question="Which user journeys are critical? None are configured and there is no telemetry to rank them.",
            assumption="No journey is treated as critical until telemetry or a journey list exists.",
            section="inputs",
        )
    )
    return (), "none", tuple(questions)


def input_ranges(inputs: InputsLike, period: Period | None = None) -> tuple[tuple[InputRange, ...], tuple[str, ...]]:
    """The time range of each input given (first to last stamp), how many of its records the
    analysed ``period`` kept and clipped, and the kinds not given."""
    ranges: list[InputRange] = []
    missing: list[str] = []
    for kind, col in TIMED.items():
        frame = getattr(inputs, kind, None)
        if frame is None:
            missing.append(kind)
            continue
        stamps = frame[col] if col in frame.columns else pd.Series([], dtype="datetime64[us, UTC]")
        stamps = utc_series(stamps)
        start = pd.Timestamp(stamps.min()) if stamps.notna().any() else None
        end = pd.Timestamp(stamps.max()) if stamps.notna().any() else None
        span = None if period is None else period.span(kind)
        kept = len(frame) if span is None else span.kept
        before, after = (0, 0) if span is None else (span.before, span.after)
        ranges.append(InputRange(kind, len(frame), start, end, kept, before, after))
    return tuple(ranges), tuple(missing)


def journey_shares(config: ServiceConfig, mix: pd.DataFrame, critical: Sequence[str]) -> tuple[JourneyShare, ...]:
    """Each journey of the traffic mix, then the configured journeys with no traffic."""
    configured = {j.name for j in config.journeys}
    records: list[dict[Any, Any]] = mix.to_dict("records")
    seen = {str(r["journey"]) for r in records}
    measured = [
        JourneyShare(
            name=str(r["journey"]),
            requests=int(r["requests"]),
            errors=int(r["errors"]),
            traffic_share=float(r["traffic_share"]),
            error_ratio=float(r["error_ratio"]),
            critical=r["journey"] in critical,
            configured=r["journey"] in configured,
            p50_ms=None if pd.isna(r["p50_ms"]) else float(r["p50_ms"]),
            p99_ms=None if pd.isna(r["p99_ms"]) else float(r["p99_ms"]),
        )
        for r in records
    ]
    silent = [
        JourneyShare(j.name, 0, 0, 0.0, 0.0, critical=j.name in critical, configured=True)
        for j in config.journeys
        if j.name not in seen
    ]
    return (*measured, *silent)


NO_TELEMETRY = OpenQuestion(
    topic="no_telemetry",
    question="There is no request telemetry. Can the service emit request counters and a latency histogram "
    "per journey?",
    assumption="SLIs are provisional and an instrumentation plan is proposed instead of measured SLOs.",
    section="slo_proposal",
)
NO_TELEMETRY_SERIES = OpenQuestion(
    topic="no_telemetry",
    question="There is no request telemetry, only a series (one value of a statistic per interval). Can the service "
    "emit request counters and a latency histogram per journey?",
    assumption="The SLOs measure the series meanwhile; a per-interval statistic such as a mean hides the slow tail "
    "and counts no failed requests. The instrumentation plan lists what to emit.",
    section="slo_proposal",
)


def _no_telemetry(inputs: InputsLike) -> tuple[OpenQuestion, ...]:
    if inputs.telemetry is not None:
        return ()
    series = getattr(inputs, "series", None)
    return (NO_TELEMETRY_SERIES,) if series is not None and len(series) else (NO_TELEMETRY,)


def summarize_inputs(config: ServiceConfig, inputs: InputsLike, period: Period | None = None) -> InputsSummary:
    """Time ranges (each input's own, and what the analysed ``period`` kept of it), traffic
    share per journey, critical journeys and the ledger (``inputs``: as loaded, unclipped)."""
    period = analysed_period(inputs) if period is None else period
    ranges, missing = input_ranges(inputs, period)
    telemetry = inputs.telemetry
    mix = traffic_mix(telemetry)
    critical, source, questions = choose_critical(config, mix)
    facts = series_facts(getattr(inputs, "series", None), period)
    if source == "none" and facts:
        critical, source = tuple(f.journey for f in facts[:TOP_N_CRITICAL]), "series"
        questions = ()
    interval = period.intervals.get("telemetry")
    return InputsSummary(
        ranges=ranges,
        missing=missing,
        journeys=journey_shares(config, mix, critical),
        critical_journeys=critical,
        critical_source=source,
        telemetry_interval=None if interval is None else interval.length,
        ledger=tuple(inputs.ledger),
        open_questions=(*questions, *period.open_questions, *_no_telemetry(inputs)),
        period=period,
        series=facts,
    )


def series_signals(series: pd.DataFrame | None, *, freq: str = "1h") -> pd.DataFrame:
    """The gauge series per journey on a coarser grid: samples, median and highest non-zero
    value per period (columns ``journey, period_start, samples, median, max``)."""
    columns = {"journey": "str", "period_start": "datetime64[us, UTC]", "samples": "int64"}
    if series is None or series.empty:
        return pd.DataFrame({k: pd.Series([], dtype=t) for k, t in columns.items()} | {"median": [], "max": []})
    values = pd.to_numeric(series["value"], errors="coerce")
    used = series.assign(value=values)[values.notna() & (values != 0)]
    frame = used.assign(period_start=used["timestamp"].dt.floor(freq))
    g = frame.groupby(["journey", "period_start"], sort=True, observed=True)["value"]
    out = pd.DataFrame({"samples": g.size(), "median": g.median(), "max": g.max()}).reset_index()
    out["journey"] = out["journey"].astype("str")
    return out
