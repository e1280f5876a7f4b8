"""The interactive explorer's engine: try an objective on the whole history and see its budget
and what its burn-rate alerts would have done, fast enough to follow a slider.

Three stages, each pure (no I/O, clock or widgets; the caller keeps what it wants to reuse):

* :func:`~srekit.analysis.explore.history.prepare_history` once per service: every journey's
  telemetry on its regular grid (:class:`~srekit.analysis.slo.grid.JourneyGrid`), the gauge
  series, the incidents and the SLOs in force;
* :func:`~srekit.analysis.explore.view.sli_view` once per journey, SLI kind, threshold and
  history range: the SLI events of the range, their daily sums and the incident impacts;
* :func:`~srekit.analysis.explore.evaluate.evaluate` on every change of objective, window or
  on-call coverage: arithmetic on that view through the analysis functions the report uses
  (:func:`~srekit.analysis.budget.error_budget`, :func:`~srekit.analysis.budget.burn_down`,
  :mod:`srekit.analysis.slo.history`, :func:`~srekit.analysis.alerting.policy.design_policy`,
  :func:`~srekit.analysis.alerting.replay.replay`, :func:`~srekit.analysis.alerting.backtest.backtest`),
  so the same choice gives the figures ``srekit analyze`` writes to report.json.

The widgets are :mod:`srekit.report.explore`; docs/explore.md describes both.
"""
