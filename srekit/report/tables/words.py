"""Page text that follows the data: requests, or samples of a series, or nothing measured yet.

Each function returns the sentences a page shows under a heading, built from report.json's
``meta.period`` (which inputs the analysed period holds and their interval lengths) and the
section payloads, so a series-only service never reads "every request weighs the same" and a
service without telemetry is told what to measure instead.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd

from srekit.core.timeutil import per_words
from srekit.report.tables.format import records, section


def _period(report: Mapping[str, Any]) -> Mapping[str, Any]:
    return section(section(report, "meta"), "period")


def _kept(report: Mapping[str, Any], kind: str) -> int:
    span = section(section(_period(report), "inputs"), kind)
    return int(span.get("kept") or 0)


def data_kinds(report: Mapping[str, Any]) -> tuple[bool, bool]:
    """(request telemetry, a series) in the analysed period."""
    return _kept(report, "telemetry") > 0, _kept(report, "series") > 0


def interval_words(report: Mapping[str, Any], kind: str) -> str | None:
    """``5-minute`` for a series sampled every 5 minutes (``None`` when unknown)."""
    seconds = section(section(_period(report), "intervals"), kind).get("seconds")
    if not seconds:
        return None
    return per_words(pd.Timedelta(seconds=float(seconds)))


def _series_noun(report: Mapping[str, Any]) -> str:
    every = interval_words(report, "series")
    return f"{every} samples" if every else "samples"


def sli_intro(report: Mapping[str, Any]) -> str:
    """What the indicators count (notebook 02, "What we measure")."""
    requests, series = data_kinds(report)
    parts = []
    if requests:
        parts.append(
            "Each request indicator counts good requests out of all requests of one user journey over the whole SLO "
            "window, so every request weighs the same."
        )
    if series:
        parts.append(
            f"Each series indicator counts good {_series_noun(report)} out of all samples: a sample is good when "
            "the recorded statistic (for example a mean latency) stayed at or below the threshold. Every sample "
            "weighs the same whatever the traffic behind it, and a mean hides the slow tail: a few very slow requests "
            "barely move it. Request counters and a latency histogram measure what users feel (see the "
            "instrumentation plan)."
        )
    if not parts:
        parts.append(
            "Nothing is measured yet: the indicators below are provisional, and the instrumentation plan lists what "
            "to emit so they can be measured."
        )
    return " ".join(parts) + " The query column is the same indicator written for Prometheus."


def distribution_intro(report: Mapping[str, Any]) -> str:
    """What the distribution chart shows (notebook 02)."""
    requests, series = data_kinds(report)
    text = []
    if requests:
        text.append(
            "For each journey with request telemetry, the line shows the share of requests slower than a given time."
        )
    if series:
        text.append(
            f"For each series, the line shows the share of {_series_noun(report)} whose statistic was above a given "
            "value: how often the statistic was high, not how many requests were slow."
        )
    if not text:
        return "There is no latency history yet (no request telemetry and no series), so there is nothing to draw."
    return " ".join(text) + " The circles mark the thresholds the history supports for each target."


def threshold_intro(report: Mapping[str, Any]) -> str:
    """How thresholds are read and how sure they are (notebook 02)."""
    requests, series = data_kinds(report)
    unit = "requests" if requests and not series else "samples" if series and not requests else "requests (samples)"
    return (
        f"For each target, the threshold is the smallest bucket edge that at least that share of {unit} met over the "
        'whole history. The interval shows how much it moves when the days are resampled; "past windows met" '
        'says how often the promise would have held in past SLO windows, and "enough data" says whether the '
        "history holds enough windows and events to call it kept."
    )


def budget_intro(report: Mapping[str, Any]) -> str:
    """What an error budget is, in the unit the SLOs count (report page, budget section)."""
    requests, series = data_kinds(report)
    if requests and series:
        unit = "requests (for series SLOs: samples)"
    elif series:
        unit = f"{_series_noun(report)} of the series"
    else:
        unit = "requests"
    return (
        f"The error budget is the share of {unit} allowed to be bad (100% minus the target). When it runs low, the "
        "team shifts from features to reliability work as agreed below."
    )


def alerting_intro(report: Mapping[str, Any]) -> str:
    """How the rules were replayed (notebook 03 and the report page)."""
    requests, series = data_kinds(report)
    step = interval_words(report, "telemetry") if requests else interval_words(report, "series") if series else None
    replay = (
        f"Each rule was replayed on the history at the data's {step} step to see how it would have behaved."
        if step
        else "There is no history to replay the rules on yet."
    )
    return (
        "Alerts fire when the error budget burns too fast, not on every blip. Fast burns page someone; slow burns "
        f"open a ticket. {replay}"
    )


def forecast_intro(report: Mapping[str, Any]) -> str:
    """What the forecast simulates, or why there is none (report page and notebook 05)."""
    forecast = section(section(report, "error_budget_policy"), "forecast")
    if records(forecast, "per_slo"):
        return (
            "A simulation of the next window (many possible futures, based on past incidents and background failures) "
            "gives the chance that each budget runs out."
        )
    return forecast_missing(report)


def forecast_missing(report: Mapping[str, Any]) -> str:
    """Why no SLO was forecast."""
    forecast = section(section(report, "error_budget_policy"), "forecast")
    skipped = records(forecast, "skipped")
    if skipped:
        return "No budget forecast: " + " ".join(str(s.get("reason")) for s in skipped)
    return "No budget forecast: there is no SLO with request telemetry to simulate."


def telemetry_intro(report: Mapping[str, Any]) -> str:
    """What the telemetry page shows (notebook 01)."""
    requests, series = data_kinds(report)
    if requests:
        return (
            "This page shows what the request data says before any target is set: whether the data is complete, "
            "which user journeys carry the traffic, and how traffic, failures and response times moved over time."
        )
    if series:
        return (
            "There is no request telemetry: this page shows the series that was given (one value of a statistic per "
            f"interval, {_series_noun(report)}), whether it is complete, and how the statistic moved. A per-interval "
            "statistic says nothing about how many requests there were or how many failed, and a mean hides the "
            "slow tail; the SLO page lists the counters and histogram to emit."
        )
    return (
        "There is no request telemetry and no series yet: this page shows which inputs were given and how complete "
        "they are. The SLO page lists the counters and histogram to emit."
    )
