"""Analyse once, present many: one lazily evaluated analysis of a service.

:class:`Analysis` holds the config and computes each report section on first use, memoised:
``inputs`` → ``summary_inputs``, ``proposal`` → ``specs`` → ``policy``, ``forecast``,
``alerting``, ``incidents``, ``toil`` → ``backlog`` → ``report``. It calls the same area entry
points, with the same per-section random streams, as ``report.json`` (``build_report`` is built
on it), so every notebook shows the numbers of the report.

A notebook run standalone (JupyterLab) builds one from ``config_path`` and computes only the
sections it touches. ``srekit report`` computes everything once in the parent process and saves
it (:meth:`Analysis.save`, a pickle written atomically); each notebook loads that file
(:func:`load`) instead of re-reading 90 days of telemetry and re-running the analyses.

Section failures: a section that raises is recorded (:attr:`Analysis.failures`) and does not stop
the others. :meth:`Analysis.result` returns ``None`` for it (the report shows ``status:
failed``); the attribute (``analysis.forecast``) re-raises the original error, so a notebook
cell that needs it fails visibly. A :class:`~srekit.core.errors.SrekitError` (unusable input or
configuration, a resource limit) is not a section failure: it propagates, and the command exits 2.
"""

from __future__ import annotations

import copyreg
import io
import os
import pickle
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from srekit.analysis.overview import InputsLike, golden_signals, series_signals, summarize_inputs, traffic_mix
from srekit.analysis.period import AnalysedInputs, Period, analysed_period, clip_inputs
from srekit.core.errors import SrekitError
from srekit.core.files import atomic_write
from srekit.core.questions import OpenQuestion
from srekit.core.spec import SLOSpec
from srekit.inputs.config import ServiceConfig
from srekit.report.contract import (
    SECTION_TITLES,
    Meta,
    ReliabilityReport,
    SectionFailure,
    jsonable,
    merge_questions,
    summarize,
)

if TYPE_CHECKING:  # the analysis modules load on first use (a notebook kernel needs few of them)
    from srekit.analysis.alerting.analyze import AlertingReport
    from srekit.analysis.backlog.model import Backlog
    from srekit.analysis.budget import ErrorBudgetPolicy
    from srekit.analysis.forecast.result import BudgetForecast
    from srekit.analysis.incidents.analyze import IncidentReport
    from srekit.analysis.incidents.counts import SliCounts
    from srekit.analysis.overview import InputsSummary
    from srekit.analysis.slo.grid import JourneyGrid
    from srekit.analysis.slo.results import SloProposal
    from srekit.analysis.toil.analyze import ToilReport

#: Section keys, in dependency order (``forecast`` is reported inside ``error_budget_policy``).
SECTIONS: tuple[str, ...] = (
    "slo_proposal",
    "error_budget_policy",
    "forecast",
    "alerting",
    "incident_response",
    "toil",
    "backlog",
)

#: The order :meth:`Analysis.compute_all` computes the sections in: the order the notebooks show
#: them (02 SLOs and budgets, 03 alerting, 04 incidents, 05 forecast, 06 toil and backlog), so a
#: notebook streaming the analysis waits as little as possible. Results do not depend on it.
COMPUTE_ORDER: tuple[str, ...] = (
    "slo_proposal",
    "error_budget_policy",
    "alerting",
    "incident_response",
    "forecast",
    "toil",
    "backlog",
)

#: Section order for independent random streams: rng = default_rng([seed, index]).
RNG_STREAMS: Mapping[str, int] = MappingProxyType({"slo_proposal": 1, "forecast": 2, "incident_response": 3, "toil": 4})

#: Pickle format version of a saved analysis; a file of another version is not loaded.
CACHE_VERSION = 2  # 2: result types moved into the layer packages
#: Files in a saved analysis folder besides one ``<name>.pickle`` per value: the configuration,
#: the pid of the process computing it, and the markers "all saved" and "failed (reason)".
BASE_FILE, PENDING_FILE, COMPLETE_FILE, FAILED_FILE = "analysis.pickle", "pending", "complete", "failed"
#: Values never written to a saved analysis: the loaded inputs are the raw history (90 MB of
#: pickle for the samples, a quarter of a second on the runner's critical path) and no notebook
#: shows them; a reader that needs them anyway loads them from the files once the analysis is
#: complete (see :func:`load`), which is about as fast as unpickling them.
NOT_SAVED = frozenset({"inputs", "analysed_inputs"})
#: Simulated windows per SLO in the budget forecast (``forecast_budget(runs=...)``).
FORECAST_RUNS = 10_000


class AnalysisCacheError(SrekitError):
    """A saved analysis could not be read (missing, other srekit version, or its run failed)."""


class Analysis:
    """One service's analysis, computed lazily and memoised.

    Parameters
    ----------
    config : the parsed ``service.yaml``.
    seed : seeds one independent ``np.random.Generator`` per section:
        ``default_rng([seed, RNG_STREAMS[section]])`` (the Monte Carlo forecast, bootstraps).
    generated_at : when the report was made (UTC), recorded in ``report.meta``; read from the
        clock by the caller.
    inputs : already loaded inputs (:class:`srekit.inputs.loaders.Inputs` or alike); loaded from the config
        on first use when omitted.
    parameters : the run's parameters, recorded in ``report.meta``.
    given_specs : SLOs defined elsewhere (OpenSLO); when omitted, read from the files named in
        ``slo.openslo`` on first use.
    quarantine_dir : where rejected input rows are written when the inputs are loaded here.
    """

    def __init__(
        self,
        config: ServiceConfig,
        *,
        seed: int = 7,
        generated_at: pd.Timestamp,
        inputs: InputsLike | None = None,
        parameters: Mapping[str, Any] | None = None,
        given_specs: tuple[SLOSpec, ...] | None = None,
        quarantine_dir: str | Path | None = None,
    ) -> None:
        stamp = pd.Timestamp(generated_at)
        self.config = config
        self.seed = int(seed)
        self.generated_at = stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp.tz_convert("UTC")
        self.parameters = dict(parameters or {})
        self.quarantine_dir = None if quarantine_dir is None else Path(quarantine_dir)
        self._memo: dict[str, Any] = {}  # computed values by name ("inputs", "section:toil", …)
        self._errors: dict[str, BaseException] = {}  # sections that raised
        self._store: Path | None = None  # writing: each value is saved here as it is computed
        self._source: Path | None = None  # reading: values come from here (see load)
        self._work: dict[str, Any] = {}  # intermediate values shared by sections (_grids, _sli_counts), not saved
        if inputs is not None:
            self._memo["inputs"] = inputs
        if given_specs is not None:
            self._memo["given_specs"] = tuple(given_specs)

    def _memoised(self, name: str, compute: Callable[[], Any]) -> Any:
        """``name``'s value: memoised, else read from the saved analysis, else computed now."""
        if name not in self._memo:
            got = _fetch(self._source, name) if self._source is not None else None
            if got is not None and got[0] == "error":
                raise got[1]
            self._memo[name] = got[1] if got is not None else compute()
            if self._store is not None and got is None and name not in NOT_SAVED:
                _write(self._store, name, self._memo[name])
        return self._memo[name]

    # ---------------------------------------------------------------- inputs

    @property
    def loaded(self) -> InputsLike:
        """The inputs as loaded (:func:`srekit.inputs.loaders.load_inputs`), each over its own range."""

        def compute() -> Any:
            from srekit.inputs.loaders import load_inputs

            return load_inputs(self.config, quarantine_dir=self.quarantine_dir)

        return self._memoised("inputs", compute)

    @property
    def period(self) -> Period:
        """:class:`srekit.analysis.period.Period`: the analysed period, each input's own range and
        what was clipped (``meta.period`` in report.json)."""
        return self._memoised("period", lambda: analysed_period(self.loaded))  # type: ignore[no-any-return]

    @property
    def inputs(self) -> AnalysedInputs:
        """What every section reads: the loaded inputs clipped to :attr:`period`
        (:func:`srekit.analysis.period.clip_inputs`)."""
        return self._memoised("analysed_inputs", lambda: clip_inputs(self.loaded, self.period))  # type: ignore[no-any-return]

    @property
    def given_specs(self) -> tuple[SLOSpec, ...]:
        """SLOs read from the OpenSLO files named in ``slo.openslo``, the specs imported through
        ``slo.import`` and the SLOs written in full under ``slos:`` (none when not set)."""

        def compute() -> tuple[SLOSpec, ...]:
            from srekit.inputs.openslo import read_openslo_specs
            from srekit.inputs.slo_import.read import configured_slos

            openslo = tuple(read_openslo_specs(self.config.slo.openslo)) if self.config.slo.openslo else ()
            return openslo + configured_slos(self.config).specs

        return self._memoised("given_specs", compute)  # type: ignore[no-any-return]

    @property
    def summary_inputs(self) -> InputsSummary:
        """:class:`srekit.analysis.overview.InputsSummary`: time ranges, traffic mix, critical journeys."""

        def compute() -> InputsSummary:
            return summarize_inputs(self.config, self.loaded, self.period)

        return self._memoised("summary_inputs", compute)

    def rng(self, section: str) -> np.random.Generator:
        """The section's own random stream (same seed → same numbers in every notebook)."""
        return np.random.default_rng([self.seed, RNG_STREAMS[section]])

    # ---------------------------------------------------------------- sections

    def _compute(self, key: str) -> Any:
        inp, cfg = self.inputs, self.config
        tel = inp.telemetry
        if key == "slo_proposal":
            from srekit.analysis.slo.propose import propose_slos

            return propose_slos(
                tel,
                inp.series,
                cfg,
                given_specs=self.given_specs,
                rng=self.rng("slo_proposal"),
                grids=self._grids(),
                loadtests=inp.loadtests,
            )
        if key == "error_budget_policy":
            from srekit.analysis.budget import budget_policy

            end = self.period.end if self.period.basis in ("telemetry", "series") else None
            return budget_policy(
                tel,
                inp.series,
                self.specs,
                cfg,
                grids=self._grids(),
                as_of=end,
                corrections=inp.corrections,
                incidents=inp.incidents,
                deploys=inp.deploys,
                labels=inp.labels,
            )
        if key == "forecast":
            from srekit.analysis.forecast.analyze import forecast_budget

            return forecast_budget(
                tel,
                inp.incidents,
                self.specs,
                cfg,
                rng=self.rng("forecast"),
                runs=FORECAST_RUNS,
                counts=self._sli_counts(),
            )
        if key == "alerting":
            from srekit.analysis.alerting.analyze import analyze_alerting

            return analyze_alerting(
                tel,
                inp.series,
                self.specs,
                inp.incidents,
                inp.alerts,
                cfg,
                grids=self._grids(),
                corrections=inp.corrections,
            )
        if key == "incident_response":
            from srekit.analysis.incidents.analyze import analyze_incidents
            from srekit.analysis.incidents.planned import planned_ids

            applied = inp.corrections

            return analyze_incidents(
                inp.incidents,
                cfg,
                rng=self.rng("incident_response"),
                telemetry=tel,
                specs=self.specs,
                deploys=inp.deploys,
                counts=self._sli_counts(),
                detection_from_first_post=_first_post_detection(inp.ledger),
                planned=planned_ids(inp.incidents, applied.windows if applied is not None else ()),
            )
        if key == "toil":
            from srekit.analysis.toil.analyze import analyze_toil

            return analyze_toil(inp.toil, inp.alerts, cfg, rng=self.rng("toil"))
        if key == "backlog":
            from srekit.analysis.backlog.build import build_backlog

            return build_backlog(
                cfg, **{name: self.payload_or_none(section) for name, section in _BACKLOG_ARGS.items()}
            )
        raise KeyError(f"unknown section {key!r}; sections: {', '.join(SECTIONS)}")

    def _grids(self) -> Mapping[str, JourneyGrid] | None:
        """``slo.journey_grids`` of the telemetry (None without telemetry): every journey on its
        regular grid, which the SLO, budget and alerting sections all read. Working state, not
        saved."""
        if "grids" not in self._work:
            from srekit.analysis.slo.grid import GridSettings, journey_grids

            tel = self.inputs.telemetry
            declared = self.period.intervals.get("telemetry")
            step = declared.length if declared is not None and declared.source != "inferred" else None
            settings = replace(GridSettings.of(self.config), interval=step)
            self._work["grids"] = None if tel is None or tel.empty else journey_grids(tel, settings)
        return self._work["grids"]

    def _sli_counts(self) -> SliCounts | None:
        """:class:`srekit.analysis.incidents.counts.SliCounts` of the telemetry: the SLI counts the incident and
        forecast sections both measure, computed once. Working state, not saved."""
        if "counts" not in self._work:
            from srekit.analysis.incidents.counts import SliCounts
            from srekit.analysis.slo.grid import GridSettings

            tel = self.inputs.telemetry
            self._work["counts"] = None if tel is None else SliCounts(tel, GridSettings.of(self.config))
        return self._work["counts"]

    def result(self, key: str) -> Any:
        """The section's result object, computed on first use; ``None`` when it failed (the
        error is in :attr:`failures`). An area's bug must not blank the whole report."""
        if key not in SECTIONS:
            raise KeyError(f"unknown section {key!r}; sections: {', '.join(SECTIONS)}")
        name = f"section:{key}"
        if name not in self._memo and key not in self._errors:
            try:
                self._memoised(name, lambda: self._compute(key))
            except SrekitError:  # unusable input, configuration, a limit, or the saved analysis: exit 2, not a bug
                raise
            except Exception as exc:  # an area's bug (or its error saved by the runner)
                self._errors[key] = exc
                if self._store is not None:
                    _write(self._store, name, _picklable(exc), error=True)
        return None if key in self._errors else self._memo[name]

    def payload_or_none(self, key: str) -> dict[str, Any] | None:
        """The section's ``to_dict()``, or ``None`` when it failed."""
        result = self.result(key)
        return None if result is None else result.to_dict()

    def _require(self, key: str) -> Any:
        result = self.result(key)
        if key in self._errors:
            raise self._errors[key]
        return result

    @property
    def failures(self) -> tuple[tuple[str, str], ...]:
        """``(section, "ErrorType: message")`` for each computed section that raised, in
        section order."""
        return tuple((k, f"{type(e).__name__}: {e}") for k in SECTIONS if (e := self._errors.get(k)) is not None)

    @property
    def proposal(self) -> SloProposal:
        """:class:`srekit.analysis.slo.results.SloProposal`: SLIs, threshold proposals, options, SLOs in force."""
        return self._require("slo_proposal")

    @property
    def specs(self) -> tuple[SLOSpec, ...]:
        """The SLOs in force: the proposal's, or the given (OpenSLO) ones when it failed."""
        slo = self.result("slo_proposal")
        return tuple(slo.specs) if slo is not None else tuple(self.given_specs)

    @property
    def policy(self) -> ErrorBudgetPolicy:
        """:class:`srekit.analysis.budget.ErrorBudgetPolicy`: budget per SLO, states and actions."""
        return self._require("error_budget_policy")

    @property
    def forecast(self) -> BudgetForecast:
        """:class:`srekit.analysis.forecast.result.BudgetForecast`: Monte Carlo budget forecast per SLO."""
        return self._require("forecast")

    @property
    def alerting(self) -> AlertingReport:
        """:class:`srekit.analysis.alerting.analyze.AlertingReport`: burn-rate policy replayed on the history."""
        return self._require("alerting")

    @property
    def incidents(self) -> IncidentReport:
        """:class:`srekit.analysis.incidents.analyze.IncidentReport`: response metrics and recommendations."""
        return self._require("incident_response")

    @property
    def toil(self) -> ToilReport:
        """:class:`srekit.analysis.toil.analyze.ToilReport`: toil inventory and automation ROI."""
        return self._require("toil")

    @property
    def backlog(self) -> Backlog:
        """:class:`srekit.analysis.backlog.model.Backlog`: the ranked reliability backlog."""
        return self._require("backlog")

    def forecast_for(self, runs: int) -> BudgetForecast:
        """The forecast with ``runs`` simulated windows per SLO: :attr:`forecast` itself for the
        report's :data:`FORECAST_RUNS`, else computed now (same random stream) and memoised."""
        if runs == FORECAST_RUNS:
            return self.forecast

        def compute() -> BudgetForecast:
            from srekit.analysis.forecast.analyze import forecast_budget

            inp = self.inputs
            return forecast_budget(
                inp.telemetry,
                inp.incidents,
                self.specs,
                self.config,
                rng=self.rng("forecast"),
                runs=runs,
                counts=self._sli_counts(),
            )

        return self._memoised(f"forecast:{runs}", compute)

    # ---------------------------------------------------------------- views for the notebooks

    @property
    def traffic_mix(self) -> pd.DataFrame:
        """:func:`srekit.analysis.overview.traffic_mix` of the telemetry (per journey, busiest first)."""

        def compute() -> pd.DataFrame:
            return traffic_mix(self.inputs.telemetry)

        return self._memoised("traffic_mix", compute)  # type: ignore[no-any-return]

    def golden_signals(self, freq: str = "1h") -> pd.DataFrame:
        """:func:`srekit.analysis.overview.golden_signals` at ``freq`` (request-weighted sums per period,
        percentiles from the summed buckets), memoised per ``freq``: what the telemetry charts
        draw instead of every minute of the history."""

        def compute() -> pd.DataFrame:
            return golden_signals(self.inputs.telemetry, freq=freq)

        return self._memoised(f"signals:{freq}", compute)  # type: ignore[no-any-return]

    def series_signals(self, freq: str = "1h") -> pd.DataFrame:
        """:func:`srekit.analysis.overview.series_signals` of the series in the analysed period at
        ``freq`` (the telemetry page's chart when there is a series)."""

        def compute() -> pd.DataFrame:
            return series_signals(self.inputs.series, freq=freq)

        return self._memoised(f"series:{freq}", compute)  # type: ignore[no-any-return]

    @property
    def report(self) -> ReliabilityReport:
        """:class:`srekit.report.contract.ReliabilityReport` (every section; ``to_dict()`` is report.json)."""

        def compute() -> ReliabilityReport:
            return report_from_analysis(self)

        return self._memoised("report", compute)

    @property
    def report_dict(self) -> dict[str, Any]:
        """``report.json`` as a dict."""
        return self._memoised("report_dict", lambda: dict(self.report.to_dict()))  # type: ignore[no-any-return]

    def report_view(self, *keys: str) -> dict[str, Any]:
        """``report.json`` cut down to the sections ``keys`` (``inputs`` or the analysis sections
        of :data:`REPORT_PARTS`; same shape and values, with
        ``open_questions`` holding theirs), computing only the analysis sections behind them:
        what a notebook's tables (:mod:`srekit.report.tables`) read, so a notebook run on its own
        in JupyterLab does not compute the whole report."""
        sections = [k for k in keys if k != "inputs"]
        payloads, questions = section_payloads(self, sections)
        view = {key: jsonable(dict(value)) for key, value in payloads.items()}
        view["meta"] = {"service": self.config.service, "period": self.period.to_dict()}
        if "inputs" in keys:
            view["inputs"] = self.summary_inputs.to_dict()
            questions.insert(0, tuple(self.summary_inputs.open_questions))
        else:  # an input left out of the period concerns every page
            questions.insert(0, tuple(self.period.open_questions))
        return view | {"open_questions": [q.to_dict() for q in merge_questions(*questions)]}

    def compute_all(self) -> Analysis:
        """Compute everything: the inputs and the telemetry views first, then each section in
        dependency order, then the report (the order a streaming reader gets them in)."""
        _ = self.inputs, self.summary_inputs, self.traffic_mix, self.golden_signals()
        for key in COMPUTE_ORDER:
            self.result(key)
        _ = self.report_dict
        return self

    # ---------------------------------------------------------------- persistence

    def __getstate__(self) -> dict[str, Any]:
        """Only the configuration: computed values are saved one file each (:meth:`save`)."""
        return {k: v for k, v in self.__dict__.items() if k not in ("_memo", "_errors", "_store", "_source", "_work")}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._memo, self._errors, self._store, self._source, self._work = {}, {}, None, None, {}

    def stream_to(self, folder: str | Path) -> Path:
        """Save into ``folder`` from now on: the configuration at once, then each value as it
        is computed (one pickle per value, written atomically), so readers (:func:`load`) can
        start on what is ready. Values computed before are written now. Call
        :meth:`finish` when done."""
        target = Path(folder)
        target.mkdir(parents=True, exist_ok=True)
        for name, value in self._memo.items():
            if name not in NOT_SAVED:
                _write(target, name, value)
        for key, exc in self._errors.items():
            _write(target, f"section:{key}", _picklable(exc), error=True)
        atomic_write(target / BASE_FILE, pickle.dumps((CACHE_VERSION, _version())) + _dumps(self), durable=False)
        self._store = target
        return target

    def finish(self) -> None:
        """Tell readers that everything this analysis will save is saved (a value they ask for
        that is not there is then computed by the reader itself)."""
        if self._store is not None:
            atomic_write(self._store / COMPLETE_FILE, b"", durable=False)

    def save(self, folder: str | Path) -> Path:
        """Compute everything and save it into ``folder`` (see :meth:`stream_to`)."""
        target = self.stream_to(folder)
        self.compute_all()
        self.finish()
        return target


# ---------------------------------------------------------------- the report


#: The analysis sections each report.json section is made of (the forecast is reported inside
#: the error-budget policy).
REPORT_PARTS: Mapping[str, tuple[str, ...]] = MappingProxyType(
    {
        "slo_proposal": ("slo_proposal",),
        "error_budget_policy": ("error_budget_policy", "forecast"),
        "alerting": ("alerting",),
        "toil": ("toil",),
        "incident_response": ("incident_response",),
        "backlog": ("backlog",),
    }
)


def section_payloads(
    analysis: Analysis, keys: Sequence[str] = tuple(REPORT_PARTS)
) -> tuple[dict[str, Mapping[str, Any]], list[Sequence[OpenQuestion]]]:
    """report.json's section payloads for ``keys`` (a failed analysis section becomes
    ``{"status": "failed", "error": ...}``) and the open questions of the analysis sections
    behind them, computing only those sections."""
    unknown = sorted(set(keys) - set(REPORT_PARTS))
    if unknown:
        raise KeyError(f"unknown report section(s) {unknown}; sections: {', '.join(REPORT_PARTS)}")
    wanted = {part for key in keys for part in REPORT_PARTS[key]}
    parts = [part for part in SECTIONS if part in wanted]  # questions in section order
    results = {part: analysis.result(part) for part in parts}
    failed = {f.section: f for f in (SectionFailure(k, e) for k, e in analysis.failures) if f.section in results}

    def payload(part: str) -> Mapping[str, Any]:
        return failed[part].payload() if part in failed else results[part].to_dict()

    payloads: dict[str, Mapping[str, Any]] = {}
    for key in keys:
        first, *nested = REPORT_PARTS[key]
        payloads[key] = {**payload(first), **{part: payload(part) for part in nested}}
    questions: list[Sequence[OpenQuestion]] = [tuple(r.open_questions) for r in results.values() if r is not None]
    return payloads, questions


def sections_of(
    analysis: Analysis,
) -> tuple[dict[str, Mapping[str, Any]], list[Sequence[OpenQuestion]], tuple[SLOSpec, ...], tuple[SectionFailure, ...]]:
    """Section payloads, open questions per area, SLOs in force and failures of an
    :class:`srekit.report.cache.Analysis` (computing what it has not computed yet)."""
    payloads, questions = section_payloads(analysis)
    failures = tuple(SectionFailure(key, error) for key, error in analysis.failures)
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
        caller with :func:`srekit.inputs.openslo.read_openslo_specs`); they are the SLOs in force.
    """
    analysis = Analysis(
        config, seed=seed, generated_at=generated_at, inputs=inputs, parameters=parameters, given_specs=given_specs
    )
    return report_from_analysis(analysis)


def report_from_analysis(analysis: Analysis) -> ReliabilityReport:
    """The :class:`ReliabilityReport` of an :class:`srekit.report.cache.Analysis` (every section
    computed there, once; ``analysis.report`` memoises this)."""
    config = analysis.config
    summary_inputs = analysis.summary_inputs
    sections, section_questions, specs, failures = sections_of(analysis)
    questions = merge_questions(summary_inputs.open_questions, *section_questions)
    meta = Meta(
        srekit_version=_version(),
        service=config.service,
        generated_at=analysis.generated_at,
        seed=analysis.seed,
        parameters=dict(analysis.parameters),
        config_path=None if config.path is None else str(config.path),
        sections_failed=tuple(f"{f.section}: {f.error}" for f in failures),
        period=summary_inputs.period,
    )
    summary = summarize(config.service, summary_inputs, sections, questions)
    if failures:
        names = ", ".join(SECTION_TITLES.get(f.section, f.section) for f in failures)
        sentences = [
            *summary["sentences"][:3],
            f"Some sections could not be computed in this run ({names}); see meta.sections_failed.",
        ]
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
        policies=tuple(alerting.policies) if (alerting := analysis.result("alerting")) is not None else (),
    )


#: Which section each ``build_backlog`` keyword takes.
_BACKLOG_ARGS: Mapping[str, str] = MappingProxyType(
    {
        "slo": "slo_proposal",
        "budget": "error_budget_policy",
        "alerting": "alerting",
        "incidents": "incident_response",
        "forecast": "forecast",
        "toil": "toil",
    }
)


#: Incident presets whose ``detected_at`` is the first public post of a status page.
STATUS_PAGE_PRESETS = ("preset_statuspage", "preset_gcp")


def _first_post_detection(ledger: Sequence[Any]) -> bool:
    """Whether the incident log came through a status-page preset (its detection stamp is the
    first public post, not when the team noticed)."""
    return any(e.kind == "incidents" and any(p in e.notes for p in STATUS_PAGE_PRESETS) for e in ledger)


def _version() -> str:
    from srekit import __version__

    return __version__


def _dumps(value: Any) -> bytes:
    buf = io.BytesIO()
    _Pickler(buf, protocol=pickle.HIGHEST_PROTOCOL).dump(value)
    return buf.getvalue()


def _picklable(exc: BaseException) -> BaseException:
    """``exc`` itself when it pickles, else a RuntimeError carrying its text."""
    try:
        pickle.loads(pickle.dumps(exc))
    except Exception:
        return RuntimeError(f"{type(exc).__name__}: {exc}")
    return exc


def _mappingproxy(data: dict[Any, Any]) -> MappingProxyType[Any, Any]:
    return MappingProxyType(data)


def _reduce_mappingproxy(proxy: MappingProxyType[Any, Any]) -> tuple[Callable[..., Any], tuple[Any, ...]]:
    return _mappingproxy, (dict(proxy),)


class _Pickler(pickle.Pickler):
    """A pickler that also handles the read-only mappings the frozen results hold."""

    dispatch_table = {**copyreg.dispatch_table, MappingProxyType: _reduce_mappingproxy}


def _file(folder: Path, name: str, *, error: bool = False) -> Path:
    safe = "".join(c if c.isalnum() or c in "._-" else "-" for c in name)
    return folder / f"{safe}.{'error' if error else 'pickle'}"


def _write(folder: Path, name: str, value: Any, *, error: bool = False) -> None:
    atomic_write(_file(folder, name, error=error), _dumps(value), durable=False)


def mark_failed(folder: str | Path, reason: str) -> None:
    """Tell readers waiting on ``folder`` (see :func:`load`) that the analysis will not come."""
    target = Path(folder)
    target.mkdir(parents=True, exist_ok=True)
    (target / FAILED_FILE).write_text(reason or "the analysis failed", encoding="utf-8")


def mark_pending(folder: str | Path) -> None:
    """Tell readers of ``folder`` that this process is computing the analysis (see :func:`load`)."""
    target = Path(folder)
    target.mkdir(parents=True, exist_ok=True)
    (target / PENDING_FILE).write_text(str(os.getpid()), encoding="utf-8")


def pid_alive(pid: int) -> bool:
    """Whether a process with this id exists on this host (signal 0 probes without sending)."""
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _owner_alive(pending: Path) -> bool:
    try:
        pid = int(pending.read_text(encoding="utf-8").strip() or 0)
    except (OSError, ValueError):
        return False
    return pid_alive(pid)


def _wait(folder: Path, ready: Callable[[], bool], what: str, wait_s: float, poll_s: float = 0.05) -> bool:
    """Wait until ``ready()``; False when the writer finished without it. Raises
    :class:`AnalysisCacheError` when the writer failed, is gone, or ``wait_s`` passed."""
    deadline = time.monotonic() + wait_s
    while not ready():
        if (folder / COMPLETE_FILE).is_file():
            return ready()
        if (folder / FAILED_FILE).is_file():
            raise AnalysisCacheError(
                f"the analysis in {folder} was not made: {(folder / FAILED_FILE).read_text(encoding='utf-8').strip()}"
            )
        if not _owner_alive(folder / PENDING_FILE) or time.monotonic() >= deadline:
            if ready():
                break
            raise AnalysisCacheError(
                f"no saved {what} in {folder} (the process computing it is gone or took too long). "
                "fix: leave analysis_cache empty to compute the analysis from config_path"
            )
        time.sleep(poll_s)
    return True


#: How long a reader waits for a value the runner is still computing.
WAIT_S = 3600.0


def _unpickle(data: bytes, folder: Path) -> Any:
    """A saved value, or :class:`AnalysisCacheError` when this srekit cannot read it (saved by
    code whose types have since moved or changed)."""
    try:
        return pickle.loads(data)
    except (pickle.UnpicklingError, ImportError, AttributeError, EOFError, TypeError) as exc:
        raise AnalysisCacheError(
            f"{folder} holds a value this srekit cannot read ({type(exc).__name__}: {exc}). "
            "fix: leave analysis_cache empty to compute the analysis from config_path"
        ) from exc


def _fetch(folder: Path, name: str) -> tuple[str, Any] | None:
    """``("value", v)`` or ``("error", exc)`` saved under ``name`` (waiting while the writer is
    computing), or None when the writer finished without it."""
    value, error = _file(folder, name), _file(folder, name, error=True)
    if not _wait(folder, lambda: value.is_file() or error.is_file(), name, WAIT_S):
        return None
    if value.is_file():
        return "value", _unpickle(value.read_bytes(), folder)
    return "error", _unpickle(error.read_bytes(), folder)


def load(folder: str | Path, *, wait_s: float = WAIT_S) -> Analysis:
    """The analysis saved in ``folder`` (:meth:`Analysis.save` / :meth:`Analysis.stream_to`).

    Values are read on first use, one file each; one that is still being computed by the
    process named in the folder's ``pending`` marker (the report runner starts the notebooks
    meanwhile) is waited for; a ``failed`` marker ends the wait with its reason; one the writer
    finished without is computed here. Raises :class:`AnalysisCacheError` when the folder
    holds no analysis of this srekit version, or the writer failed or is gone.
    """
    p = Path(folder)
    base = p / BASE_FILE
    if not base.is_file() and not (p / PENDING_FILE).is_file():
        raise AnalysisCacheError(
            f"no saved analysis in {p}. fix: leave analysis_cache empty to compute the analysis from config_path"
        )
    if not _wait(p, base.is_file, "analysis", wait_s):
        raise AnalysisCacheError(
            f"no saved analysis in {p}. fix: leave analysis_cache empty to compute the analysis from config_path"
        )
    with open(base, "rb") as fh:
        header = pickle.load(fh)
        if header != (CACHE_VERSION, _version()):
            raise AnalysisCacheError(
                f"{p} was saved by another srekit version (format {header!r}, "
                f"this is {(CACHE_VERSION, _version())!r}). "
                "fix: leave analysis_cache empty to compute the analysis from config_path"
            )
        analysis = _unpickle(fh.read(), p)
    if not isinstance(analysis, Analysis):
        raise AnalysisCacheError(f"{p} does not hold a srekit analysis (got {type(analysis).__name__})")
    analysis._source = p
    return analysis
