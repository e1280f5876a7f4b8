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
from srekit.core.questions import OpenQuestion
from srekit.core.spec import SLOSpec
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


def summarize(
    service: str, inputs: InputsSummary, sections: Mapping[str, Mapping[str, Any]], questions: Sequence[OpenQuestion]
) -> dict[str, Any]:
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
