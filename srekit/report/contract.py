"""The reliability report: one frozen object holding the Output Contract (docs/architecture.md, docs/report-json.md).

``build_report`` is pure: it takes the parsed config and the loaded inputs, calls every analysis
area's entry point, and returns a :class:`ReliabilityReport` whose ``to_dict()`` is
``report.json``. The clock is read by the caller (CLI / runner) and passed in as
``generated_at``; randomness comes from ``seed`` (one independent stream per section).

Also here: the data summaries the walking-skeleton notebook shows (traffic mix per journey,
golden signals over time), because ``inputs`` in ``report.json`` is built from the same numbers.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from srekit.analysis.overview import InputsSummary
from srekit.analysis.period import LABELS, NOUNS, Period
from srekit.core.questions import OpenQuestion
from srekit.core.spec import SLOSpec
from srekit.core.timeutil import duration_words, per_words
from srekit.inputs import telemetry as tm

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


def jsonable(value: Any) -> Any:
    """Payloads and parameters as JSON-ready values (str for anything exotic)."""
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    if isinstance(value, Mapping):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    return str(value)


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
    period: Period | None = None  # the analysed period (docs/report-json.md, "meta.period")

    def __post_init__(self) -> None:
        if self.generated_at.tzinfo is None:
            raise ValueError("generated_at must be timezone-aware (UTC)")

    def to_dict(self) -> dict[str, Any]:
        return {
            "srekit_version": self.srekit_version,
            "service": self.service,
            "generated_at": self.generated_at.tz_convert("UTC").isoformat(),
            "seed": self.seed,
            "parameters": jsonable(dict(self.parameters)),
            "config_path": self.config_path,
            "sections_failed": list(self.sections_failed),
            "period": None if self.period is None else self.period.to_dict(),
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
    policies: tuple[Any, ...] = ()  # their alert policies as designed on the data (rules export); not in report.json

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
                out[key] = jsonable(dict(value))
        return out


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


def nines_pct(x: float) -> str:
    """A success ratio as a stakeholder reads it: ``99.95%``, ``100%``, ``97.3%`` (:func:`_pct`)."""
    return _pct(x)


def _pct(x: float) -> str:
    """A ratio as a percentage with enough digits to tell 99.9 % from 99.95 %."""
    p = 100.0 * x
    if p >= 99.0 and p < 100.0:
        return f"{p:.2f}%".replace(".00%", "%")
    return f"{p:.1f}%".replace(".0%", "%")


def _span(days: float) -> str:
    """A time span in the largest unit that reads naturally (``90 days``, ``6 hours``, ``3 hours``)."""
    if days >= 2:
        return f"{days:.0f} days"
    return duration_words(pd.Timedelta(days=days).round("min") or pd.Timedelta(minutes=1))


def _when(stamp: pd.Timestamp) -> str:
    """A period bound as a reader reads it: ``2026-08-02 00:00 UTC``."""
    return pd.Timestamp(stamp).tz_convert("UTC").strftime("%Y-%m-%d %H:%M")


def _day(stamp: Any) -> str:
    return "–" if not stamp else pd.Timestamp(stamp).tz_convert("UTC").strftime("%Y-%m-%d")


#: What the period is the range of, in words.
_BASIS = {
    "telemetry": "the range of the request telemetry",
    "series": "the range of the series (no request telemetry)",
    "incidents": "the range of the incident log (no telemetry or series)",
    "other": "the range the toil, pages and deploy logs span together",
}


def period_sentence(period: Mapping[str, Any] | None) -> str:
    """The analysed period in one sentence, with the records left outside it (``period``:
    report.json's ``meta.period``)."""
    if not period or not period.get("start") or not period.get("end"):
        if period and period.get("loadtests"):
            return (
                "This report has no time period: its only measured input is a load test, which has no time axis, so "
                "no error budget, alert replay or incident figure is computed from it."
            )
        return "This report has no time period: no input has dates, so nothing is counted over time."
    start, end = pd.Timestamp(period["start"]), pd.Timestamp(period["end"])
    days = (end - start) / pd.Timedelta(days=1)
    basis = _BASIS.get(str(period.get("basis")), "")
    text = f"This report covers {_when(start)} to {_when(end)} UTC ({_span(days)}), {basis}"
    spans = [v for v in (period.get("inputs") or {}).values() if isinstance(v, Mapping)]
    clipped = [
        f"{_clipped(v):,} of {int(v.get('rows') or 0):,} {NOUNS.get(str(v.get('kind')), v.get('kind'))}"
        for v in spans
        if _clipped(v) and v.get("kept")
    ]
    if clipped:
        text += f"; {_and(clipped)} fall outside it and were left out"
    return text.rstrip(", ") + "."


def _clipped(span: Mapping[str, Any]) -> int:
    return int(span.get("clipped_before") or 0) + int(span.get("clipped_after") or 0)


def _and(parts: Sequence[str]) -> str:
    return parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]


def unused_sentence(period: Mapping[str, Any] | None) -> str | None:
    """The inputs that share no time with the period (left out entirely), or None."""
    spans = [v for v in ((period or {}).get("inputs") or {}).values() if isinstance(v, Mapping)]
    unused = [v for v in spans if v.get("rows") and not v.get("kept")]
    if not unused:
        return None
    parts = [
        f"the {LABELS.get(str(v.get('kind')), v.get('kind'))} ({_day(v.get('start'))} to {_day(v.get('end'))})"
        for v in unused
    ]
    one = len(parts) == 1
    text = _and(parts)
    return (
        f"{text[0].upper()}{text[1:]} {'does' if one else 'do'} not overlap this period and "
        f"{'was' if one else 'were'} left out (see Open Questions)."
    )


def loadtest_sentence(sections: Mapping[str, Mapping[str, Any]]) -> str | None:
    """What the first load test says: its size and load, its 99th percentile, and where the first
    latency threshold in force falls in it."""
    tests = _records(sections.get("slo_proposal", {}), "loadtests")
    if not tests:
        return None
    t = tests[0]
    p99 = next((p.get("value_ms") for p in _records(t, "percentiles") if p.get("share") == 0.99), None)
    rate = f" at {float(t['requests_per_s']):,.0f} requests/s" if t.get("requests_per_s") else ""
    text = f"Under the load test {t.get('file')} ({int(t.get('requests') or 0):,} requests{rate})"
    text += f", 99% of requests finished within {float(p99):,.3g} ms" if p99 is not None else ""
    slos = _records(t, "slos")
    if slos:
        s = slos[0]
        share = float(s.get("share_within") or 0.0)
        verdict = "meeting" if s.get("meets_target") else "short of"
        text += (
            f"; {s.get('slo')}'s {float(s.get('threshold_ms') or 0):g} ms threshold holds for {_share(share)} of them, "
            f"{verdict} its {_pct(float(s.get('target') or 0))} target"
        )
    return text + "."


def _share(x: float) -> str:
    """A share of load-test requests, never rounded up to 100%."""
    return "all" if x >= 1.0 else f"{math.floor(x * 1000) / 10:.1f}%"


def _data_sentence(service: str, inputs: InputsSummary, figures: Mapping[str, Any]) -> str:
    """What was measured: requests, or series samples, or nothing yet."""
    interval = None if inputs.period is None else inputs.period.intervals.get("telemetry")
    if inputs.requests:
        how = ""
        if interval is not None and figures.get("intervals") == 1:
            how = (
                f" in a single interval of unknown length (assumed {interval.words})"
                if interval.source == "assumed"
                else f" in a single {per_words(interval.length)} interval ({interval.how})"
            )
        n = len([j for j in inputs.journeys if j.requests])
        return (
            f"In that time {service} served {inputs.requests:,} requests{how} across {n} "
            f"journey{'' if n == 1 else 's'}, and {_pct(figures['success_ratio'])} of them succeeded."
        )
    samples = sum(f.samples for f in inputs.series)
    if samples:
        every = inputs.period.intervals.get("series") if inputs.period is not None else None
        per = f"{per_words(every.length)} " if every is not None else ""
        return (
            f"{service} has no request telemetry: its SLOs count {samples:,} {per}samples of a per-interval "
            "statistic, which hides the slow tail (a mean stays low while some requests are slow), so an "
            "instrumentation plan proposes request counters and a latency histogram."
        )
    return (
        f"There is no request telemetry for {service} yet, so the SLOs below are provisional "
        "and come with an instrumentation plan."
    )


def summarize(
    service: str, inputs: InputsSummary, sections: Mapping[str, Mapping[str, Any]], questions: Sequence[OpenQuestion]
) -> dict[str, Any]:
    """The summary (1–4 sentences: the analysed period first) and the headline figures it is
    derived from.

    Figures come only from the computed sections; sentences are templated from them.
    """
    period = inputs.period
    figures: dict[str, Any] = {
        "requests": inputs.requests,
        "success_ratio": None if inputs.requests == 0 else 1.0 - float(tm.ratio(inputs.errors, inputs.requests)),
        "samples": int(sum(f.samples for f in inputs.series)),
        "days": None if period is None or period.basis not in ("telemetry", "series") else period.days,
        "period_start": None if period is None or period.start is None else period.start.isoformat(),
        "period_end": None if period is None or period.end is None else period.end.isoformat(),
        "period_basis": None if period is None else period.basis,
        "clipped": {} if period is None else {s.kind: s.clipped for s in period.spans if s.clipped},
        "journeys": len(inputs.journeys),
        "critical_journeys": list(inputs.critical_journeys),
        "open_questions": len(questions),
        "rows_rejected": int(sum(e.rows_rejected for e in inputs.ledger)),
    }
    tel = inputs.range_of("telemetry")
    if tel is not None and inputs.telemetry_interval is not None and tel.start is not None and tel.end is not None:
        figures["intervals"] = int((tel.end - tel.start) / inputs.telemetry_interval) + 1
    for extract in _HEADLINES:
        figures.update(extract(sections))
    shown = None if period is None else period.to_dict()
    sentences = [period_sentence(shown), _data_sentence(service, inputs, figures)]
    extra = [unused_sentence(shown), loadtest_sentence(sections), *(sentence(figures) for sentence in _SENTENCES)]
    sentences += [s for s in extra if s][: 4 - len(sentences)]
    if len(sentences) < 4 and questions:
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
    return {
        "forecast_slo": top.get("slo"),
        "forecast_p_exhaust": float(top.get("p_exhaust", 0.0)),
        "forecast_window_days": top.get("window_days"),
    }


def _incident_headline(sections: Mapping[str, Mapping[str, Any]]) -> dict[str, Any]:
    inc = sections.get("incident_response", {})
    if "incidents" not in inc or not isinstance(inc.get("incidents"), int):
        return {}
    ttr = (inc.get("metrics") or {}).get("ttr") or {}
    return {
        "incidents": inc["incidents"],
        "open_incidents": inc.get("open_incidents"),
        "ttr_median_s": ttr.get("median_s"),
    }


def _backlog_headline(sections: Mapping[str, Mapping[str, Any]]) -> dict[str, Any]:
    items = _records(sections.get("backlog", {}), "items")
    if not items:
        return {}
    return {"backlog_items": len(items), "top_backlog_item": items[0].get("title")}


def _budget_sentence(f: Mapping[str, Any]) -> str | None:
    if not f.get("slos"):
        return None
    ok = f["slos"] - f["slos_at_risk"]
    text = (
        f"{ok} of {f['slos']} SLOs are healthy; {f['worst_slo']} has used {f['worst_slo_consumed']:.0%} "
        f"of its error budget ({f['worst_slo_status']})"
    )
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
    _budget_headline,
    _forecast_headline,
    _incident_headline,
    _backlog_headline,
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


def report_json_text(report: Mapping[str, Any]) -> str:
    """``report.json`` text: strict JSON (no NaN/Infinity), UTF-8, stable key order."""
    return json.dumps(report, indent=2, ensure_ascii=False, allow_nan=False) + "\n"
