"""The reliability report: one frozen object holding the Output Contract (DESIGN.md).

``build_report`` is pure: it takes the parsed config and the loaded inputs, calls every analysis
area's entry point, and returns a :class:`ReliabilityReport` whose ``to_dict()`` is
``report.json``. The clock is read by the caller (CLI / runner) and passed in as
``generated_at``; randomness comes from ``seed`` (one independent stream per section).

Also here: the data summaries the walking-skeleton notebook shows (traffic mix per journey,
golden signals over time), because ``inputs`` in ``report.json`` is built from the same numbers.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np
import pandas as pd

from srekit.core.questions import OpenQuestion
from srekit.core.spec import SLOSpec
from srekit.inputs import telemetry as tm
from srekit.inputs.config import ServiceConfig
from srekit.inputs.ledger import LedgerEntry

# RNG_STREAMS lives with the Analysis (one random stream per section); re-exported here.
from srekit.report.cache import RNG_STREAMS  # noqa: F401

#: report.json top-level keys, in Output Contract order (then inputs and meta).
SECTION_KEYS: tuple[str, ...] = (
    "summary",
    "slo_proposal",
    "error_budget_policy",
    "alerting",
    "toil",
    "incident_response",
    "backlog",
    "open_questions",
    "inputs",
    "meta",
)

#: Plain-language titles of the Output Contract sections (report.md, notebook headings).
SECTION_TITLES: Mapping[str, str] = {
    "summary": "Summary",
    "slo_proposal": "SLO Proposal",
    "error_budget_policy": "Error Budget Policy",
    "alerting": "Alerting + Runbooks",
    "toil": "Toil + Automation",
    "incident_response": "Incident Response Improvements",
    "backlog": "Reliability Backlog",
    "open_questions": "Open Questions / Assumptions",
    "inputs": "Inputs and data quality",
    "meta": "About this report",
}

#: Which column holds the time of each input kind (for the time ranges in ``inputs``).
TIME_COLUMNS: Mapping[str, str] = {
    "telemetry": "interval_start",
    "series": "timestamp",
    "incidents": "started_at",
    "toil": "date",
    "alerts": "timestamp",
    "deploys": "timestamp",
}

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


def _jsonable(value: Any) -> Any:
    """Parameters as JSON-ready values (str for anything exotic)."""
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    return str(value)


# --------------------------------------------------------------------------------------------
# inputs: time ranges, traffic mix, critical journeys, ledger
# --------------------------------------------------------------------------------------------


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
            {"journey": pd.Series([], dtype="str"), "requests": pd.Series([], dtype="int64"),
             "errors": pd.Series([], dtype="int64"), "traffic_share": pd.Series([], dtype=float),
             "error_ratio": pd.Series([], dtype=float), "p50_ms": pd.Series([], dtype=float),
             "p99_ms": pd.Series([], dtype=float)}
        )
    les = tm.le_columns(telemetry)
    g = telemetry.groupby("journey", sort=False, observed=True)[["total", "errors", *les]].sum()
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


def golden_signals(telemetry: pd.DataFrame | None, *, freq: str = "1h", quantiles: Sequence[float] = (0.5, 0.9, 0.99)) -> pd.DataFrame:
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
    les = tm.le_columns(telemetry)
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
    if len(telemetry) and not isinstance(journey.dtype, pd.CategoricalDtype) and not period.hasnans:
        codes, _ = pd.factorize(journey, sort=True)
        p = pd.DatetimeIndex(period).asi8
        dc, dp = np.diff(codes), np.diff(p)
        if codes.min() >= 0 and bool(((dc > 0) | ((dc == 0) & (dp >= 0))).all()):
            starts = np.concatenate(([0], np.flatnonzero((dc != 0) | (dp != 0)) + 1))
            sums = {c: np.add.reduceat(telemetry[c].to_numpy(), starts) for c in cols}
            return pd.DataFrame({"journey": journey.iloc[starts].reset_index(drop=True),
                                 "period_start": period.iloc[starts].reset_index(drop=True), **sums})
    frame = telemetry[["journey", *cols]].assign(period_start=period)
    return frame.groupby(["journey", "period_start"], sort=True, observed=True)[cols].sum().reset_index()


@dataclass(frozen=True, slots=True)
class InputRange:
    """Rows and time span of one loaded input kind."""

    kind: str
    rows: int
    start: pd.Timestamp | None
    end: pd.Timestamp | None

    def __post_init__(self) -> None:
        if self.rows < 0:
            raise ValueError("rows cannot be negative")

    def to_dict(self) -> dict[str, Any]:
        span = None
        if self.start is not None and self.end is not None:
            span = (self.end - self.start).total_seconds() / 86400.0
        return {"kind": self.kind, "rows": self.rows, "start": _iso(self.start), "end": _iso(self.end), "days": span}


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

    def __post_init__(self) -> None:
        if self.critical_source not in ("configured", "top_by_traffic", "none"):
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
            "telemetry_interval_s": None if self.telemetry_interval is None else self.telemetry_interval.total_seconds(),
            "journeys": [j.to_dict() for j in self.journeys],
            "critical_journeys": list(self.critical_journeys),
            "critical_source": self.critical_source,
            "ledger": [e.to_dict() for e in self.ledger],
            "rows_rejected": int(sum(e.rows_rejected for e in self.ledger)),
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
                question=f"Journeys {', '.join(absent)} are configured but have no requests in the telemetry. Is the journey name or the data source wrong?",
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


def summarize_inputs(config: ServiceConfig, inputs: InputsLike) -> InputsSummary:
    """Time ranges, traffic share per journey, critical journeys and the ledger."""
    ranges: list[InputRange] = []
    missing: list[str] = []
    for kind, col in TIME_COLUMNS.items():
        frame = getattr(inputs, kind, None)
        if frame is None:
            missing.append(kind)
            continue
        stamps = frame[col] if col in frame.columns else pd.Series([], dtype="datetime64[us, UTC]")
        stamps = pd.to_datetime(stamps, utc=True).dropna()
        start = stamps.min() if len(stamps) else None
        end = stamps.max() if len(stamps) else None
        ranges.append(InputRange(kind=kind, rows=len(frame), start=start, end=end))
    telemetry = inputs.telemetry
    mix = traffic_mix(telemetry)
    critical, source, questions = choose_critical(config, mix)
    configured = {j.name for j in config.journeys}
    records: list[dict[Any, Any]] = mix.to_dict("records")
    journeys = [
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
    seen = {j.name for j in journeys}
    journeys += [
        JourneyShare(name=j.name, requests=0, errors=0, traffic_share=0.0, error_ratio=0.0, critical=j.name in critical, configured=True)
        for j in config.journeys
        if j.name not in seen
    ]
    interval = tm.infer_interval(telemetry) if telemetry is not None and len(telemetry) else None
    if telemetry is None:
        questions = (
            *questions,
            OpenQuestion(
                topic="no_telemetry",
                question="There is no request telemetry. Can the service emit request counters and a latency histogram per journey?",
                assumption="SLIs are provisional and an instrumentation plan is proposed instead of measured SLOs.",
                section="slo_proposal",
            ),
        )
    return InputsSummary(
        ranges=tuple(ranges),
        missing=tuple(missing),
        journeys=tuple(journeys),
        critical_journeys=critical,
        critical_source=source,
        telemetry_interval=interval,
        ledger=tuple(inputs.ledger),
        open_questions=questions,
    )


# --------------------------------------------------------------------------------------------
# meta and the report object
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Meta:
    """``report.json["meta"]``: provenance of the report."""

    srekit_version: str
    service: str
    generated_at: pd.Timestamp
    seed: int
    parameters: Mapping[str, Any] = field(default_factory=dict)
    config_path: str | None = None
    sections_failed: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.generated_at.tzinfo is None:
            raise ValueError("generated_at must be timezone-aware (UTC)")

    def to_dict(self) -> dict[str, Any]:
        return {
            "srekit_version": self.srekit_version,
            "service": self.service,
            "generated_at": self.generated_at.tz_convert("UTC").isoformat(),
            "seed": self.seed,
            "parameters": _jsonable(dict(self.parameters)),
            "config_path": self.config_path,
            "sections_failed": list(self.sections_failed),
        }


@dataclass(frozen=True, slots=True)
class ReliabilityReport:
    """The Output Contract as one object; ``to_dict()`` is ``report.json``.

    Section payloads (``slo_proposal`` … ``backlog``) are the areas' own ``to_dict()`` output;
    their fields are documented in ``docs/<area>.md``.
    """

    summary: Mapping[str, Any]
    slo_proposal: Mapping[str, Any]
    error_budget_policy: Mapping[str, Any]
    alerting: Mapping[str, Any]
    toil: Mapping[str, Any]
    incident_response: Mapping[str, Any]
    backlog: Mapping[str, Any]
    open_questions: tuple[OpenQuestion, ...]
    inputs: InputsSummary
    meta: Meta
    specs: tuple[SLOSpec, ...] = ()  # the SLOs in force (rules export); not in report.json

    def __post_init__(self) -> None:
        text = self.summary.get("text", "")
        if not isinstance(text, str) or not text.strip():
            raise ValueError("the summary needs at least one sentence")

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for key in SECTION_KEYS:
            value = getattr(self, key)
            if key == "open_questions":
                out[key] = [q.to_dict() for q in value]
            elif key in ("inputs", "meta"):
                out[key] = value.to_dict()
            else:
                out[key] = _jsonable(dict(value))
        return out


def questions_frame(questions: Sequence[OpenQuestion]) -> pd.DataFrame:
    """Open questions as a table for display (section, question, what was assumed)."""
    return pd.DataFrame(
        {
            "section": pd.Series([SECTION_TITLES.get(q.section, q.section) for q in questions], dtype="str"),
            "question": pd.Series([q.question for q in questions], dtype="str"),
            "assumed meanwhile": pd.Series([q.assumption for q in questions], dtype="str"),
        }
    )


def merge_questions(*groups: Sequence[OpenQuestion]) -> tuple[OpenQuestion, ...]:
    """All open questions, the first occurrence of each topic kept, in order (two areas
    assuming the same default ask one question)."""
    seen: set[str] = set()
    out: list[OpenQuestion] = []
    for group in groups:
        for q in group:
            key = q.topic
            if key not in seen:
                seen.add(key)
                out.append(q)
    return tuple(out)


def _pct(x: float) -> str:
    """A ratio as a percentage with enough digits to tell 99.9 % from 99.95 %."""
    p = 100.0 * x
    if p >= 99.0 and p < 100.0:
        return f"{p:.2f}%".replace(".00%", "%")
    return f"{p:.1f}%".replace(".0%", "%")


def _span(days: float) -> str:
    """A time span in the largest unit that reads naturally (``90 days``, ``6 hours``)."""
    if days >= 2:
        return f"{days:.0f} days"
    hours = days * 24
    if hours >= 2:
        return f"{hours:.0f} hours"
    return f"{max(hours * 60, 1):.0f} minutes"


def summarize(service: str, inputs: InputsSummary, sections: Mapping[str, Mapping[str, Any]], questions: Sequence[OpenQuestion]) -> dict[str, Any]:
    """The 1–3 sentence summary and the headline figures it is derived from.

    Figures come only from the computed sections; sentences are templated from them.
    """
    figures: dict[str, Any] = {
        "requests": inputs.requests,
        "success_ratio": None if inputs.requests == 0 else 1.0 - float(tm.ratio(inputs.errors, inputs.requests)),
        "days": None,
        "journeys": len(inputs.journeys),
        "critical_journeys": list(inputs.critical_journeys),
        "open_questions": len(questions),
        "rows_rejected": int(sum(e.rows_rejected for e in inputs.ledger)),
    }
    for extract in _HEADLINES:
        figures.update(extract(sections))
    tel = inputs.range_of("telemetry")
    sentences: list[str] = []
    if tel is not None and tel.start is not None and tel.end is not None and inputs.requests:
        covered = tel.end - tel.start + (inputs.telemetry_interval or pd.Timedelta(0))  # last interval included
        days = covered.total_seconds() / 86400.0
        figures["days"] = days
        sentences.append(
            f"Over {_span(days)} {service} served {inputs.requests:,} requests across "
            f"{len([j for j in inputs.journeys if j.requests])} journeys, and "
            f"{_pct(figures['success_ratio'])} of them succeeded."
        )
    else:
        sentences.append(
            f"There is no request telemetry for {service} yet, so the SLOs below are provisional "
            "and come with an instrumentation plan."
        )
    for sentence in _SENTENCES:
        s = sentence(figures)
        if s and len(sentences) < 3:
            sentences.append(s)
    if len(sentences) < 3 and questions:
        sentences.append(f"{len(questions)} assumptions need a human decision (see Open Questions).")
    return {"text": " ".join(sentences), "sentences": sentences, "figures": figures}


def _records(payload: Any, key: str) -> list[Mapping[str, Any]]:
    value = payload.get(key) if isinstance(payload, Mapping) else None
    return [v for v in value if isinstance(v, Mapping)] if isinstance(value, list) else []


def _budget_headline(sections: Mapping[str, Mapping[str, Any]]) -> dict[str, Any]:
    budgets = _records(sections.get("error_budget_policy", {}), "slos")
    if not budgets:
        return {}
    worst = max(budgets, key=lambda b: float(b.get("consumed", 0.0)))
    return {
        "slos": len(budgets),
        "slos_at_risk": sum(1 for b in budgets if b.get("status") not in (None, "healthy")),
        "budget_remaining_min": float(worst.get("remaining", 0.0)),
        "worst_slo": worst.get("slo"),
        "worst_slo_consumed": float(worst.get("consumed", 0.0)),
        "worst_slo_status": worst.get("status"),
    }


def _forecast_headline(sections: Mapping[str, Mapping[str, Any]]) -> dict[str, Any]:
    forecast = sections.get("error_budget_policy", {}).get("forecast", {})
    per_slo = _records(forecast, "per_slo")
    if not per_slo:
        return {}
    top = max(per_slo, key=lambda f: float(f.get("p_exhaust", 0.0)))
    return {"forecast_slo": top.get("slo"), "forecast_p_exhaust": float(top.get("p_exhaust", 0.0)), "forecast_window_days": top.get("window_days")}


def _incident_headline(sections: Mapping[str, Mapping[str, Any]]) -> dict[str, Any]:
    inc = sections.get("incident_response", {})
    if "incidents" not in inc or not isinstance(inc.get("incidents"), int):
        return {}
    ttr = (inc.get("metrics") or {}).get("ttr") or {}
    return {"incidents": inc["incidents"], "open_incidents": inc.get("open_incidents"), "ttr_median_s": ttr.get("median_s")}


def _backlog_headline(sections: Mapping[str, Mapping[str, Any]]) -> dict[str, Any]:
    items = _records(sections.get("backlog", {}), "items")
    if not items:
        return {}
    return {"backlog_items": len(items), "top_backlog_item": items[0].get("title")}


def _budget_sentence(f: Mapping[str, Any]) -> str | None:
    if not f.get("slos"):
        return None
    ok = f["slos"] - f["slos_at_risk"]
    text = f"{ok} of {f['slos']} SLOs are healthy; {f['worst_slo']} has used {f['worst_slo_consumed']:.0%} of its error budget ({f['worst_slo_status']})"
    if f.get("forecast_p_exhaust") is not None:
        text += (
            f", and the forecast gives {f['forecast_slo']} a {f['forecast_p_exhaust']:.0%} chance of running out "
            f"of budget in the next {f.get('forecast_window_days') or 'window'} days"
        )
    return text + "."


def _backlog_sentence(f: Mapping[str, Any]) -> str | None:
    if not f.get("top_backlog_item"):
        return None
    return f"The top reliability backlog item is: {f['top_backlog_item']}."


# Headline extractors and sentence templates, one per section (the summary's only inputs).
_HEADLINES: list[Callable[[Mapping[str, Mapping[str, Any]]], dict[str, Any]]] = [
    _budget_headline, _forecast_headline, _incident_headline, _backlog_headline,
]
_SENTENCES: list[Callable[[Mapping[str, Any]], str | None]] = [_budget_sentence, _backlog_sentence]


@dataclass(frozen=True, slots=True)
class SectionFailure:
    """An analysis area that raised: recorded in ``meta.sections_failed`` and in the section's
    payload (``status: failed``) so the report still renders and the caller can exit 1."""

    section: str
    error: str

    def payload(self) -> dict[str, Any]:
        return {"status": "failed", "error": self.error}


def compute_sections(
    config: ServiceConfig,
    inputs: InputsLike,
    *,
    seed: int,
    given_specs: tuple[SLOSpec, ...] = (),
) -> tuple[dict[str, Mapping[str, Any]], list[Sequence[OpenQuestion]], tuple[SLOSpec, ...], tuple[SectionFailure, ...]]:
    """Call every analysis area's entry point in dependency order (through
    :class:`srekit.report.cache.Analysis`).

    Returns the section payloads (``to_dict()`` of each result), each area's open questions,
    the SLO specs in force, and the areas that failed. A failing area does not stop the others;
    areas that need its output get the empty default instead (no SLOs → no budgets).
    """
    from srekit.report.cache import Analysis

    analysis = Analysis(config, seed=seed, generated_at=pd.Timestamp(0, tz="UTC"), inputs=inputs, given_specs=given_specs)
    return sections_of(analysis)


def sections_of(analysis: Any) -> tuple[dict[str, Mapping[str, Any]], list[Sequence[OpenQuestion]], tuple[SLOSpec, ...], tuple[SectionFailure, ...]]:
    """Section payloads, open questions per area, SLOs in force and failures of an
    :class:`srekit.report.cache.Analysis` (computing what it has not computed yet)."""
    from srekit.report.cache import SECTIONS

    results = {key: analysis.result(key) for key in SECTIONS}
    failures = tuple(SectionFailure(key, error) for key, error in analysis.failures)
    failed = {f.section: f for f in failures}
    questions: list[Sequence[OpenQuestion]] = [tuple(r.open_questions) for r in results.values() if r is not None]

    def payload(key: str) -> Mapping[str, Any]:
        return failed[key].payload() if key in failed else results[key].to_dict()

    payloads: dict[str, Mapping[str, Any]] = {
        "slo_proposal": payload("slo_proposal"),
        "error_budget_policy": {**payload("error_budget_policy"), "forecast": payload("forecast")},
        "alerting": payload("alerting"),
        "toil": payload("toil"),
        "incident_response": payload("incident_response"),
        "backlog": payload("backlog"),
    }
    return payloads, questions, tuple(analysis.specs), failures


def build_report(
    config: ServiceConfig,
    inputs: InputsLike,
    *,
    seed: int = 7,
    generated_at: pd.Timestamp,
    parameters: Mapping[str, Any] | None = None,
    given_specs: tuple[SLOSpec, ...] = (),
) -> ReliabilityReport:
    """Compute the whole report from loaded inputs (pure: no I/O, no clock).

    Parameters
    ----------
    config : the parsed ``service.yaml``.
    inputs : :func:`srekit.inputs.loaders.load_inputs` output (frames are None when absent).
    seed : seeds one independent ``np.random.Generator`` per section (Monte Carlo, bootstrap):
        ``default_rng([seed, RNG_STREAMS[section]])``.
    generated_at : when the report was made (UTC); read from the clock by the caller.
    parameters : the run's parameters, recorded in ``meta``.
    given_specs : SLOs defined elsewhere (OpenSLO files named in ``slo.openslo``, read by the
        caller with :func:`srekit.exports.openslo.read_openslo_specs`); they are the SLOs in force.
    """
    from srekit.report.cache import Analysis

    analysis = Analysis(config, seed=seed, generated_at=generated_at, inputs=inputs, parameters=parameters, given_specs=given_specs)
    return report_from_analysis(analysis)


def report_from_analysis(analysis: Any) -> ReliabilityReport:
    """The :class:`ReliabilityReport` of an :class:`srekit.report.cache.Analysis` (every section
    computed there, once; ``analysis.report`` memoises this)."""
    from srekit import __version__
    config = analysis.config
    summary_inputs = analysis.summary_inputs
    sections, section_questions, specs, failures = sections_of(analysis)
    questions = merge_questions(summary_inputs.open_questions, *section_questions)
    meta = Meta(
        srekit_version=__version__,
        service=config.service,
        generated_at=analysis.generated_at,
        seed=analysis.seed,
        parameters=dict(analysis.parameters),
        config_path=None if config.path is None else str(config.path),
        sections_failed=tuple(f"{f.section}: {f.error}" for f in failures),
    )
    summary = summarize(config.service, summary_inputs, sections, questions)
    if failures:
        names = ", ".join(SECTION_TITLES.get(f.section, f.section) for f in failures)
        sentences = [*summary["sentences"][:2], f"Some sections could not be computed in this run ({names}); see meta.sections_failed."]
        summary = {**summary, "sentences": sentences, "text": " ".join(sentences)}
    return ReliabilityReport(
        summary=summary,
        slo_proposal=sections["slo_proposal"],
        error_budget_policy=sections["error_budget_policy"],
        alerting=sections["alerting"],
        toil=sections["toil"],
        incident_response=sections["incident_response"],
        backlog=sections["backlog"],
        open_questions=questions,
        inputs=summary_inputs,
        meta=meta,
        specs=specs,
    )
