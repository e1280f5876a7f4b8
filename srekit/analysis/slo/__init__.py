"""SLIs, latency threshold proposals, SLO options with their trade-offs, and the SLI events
other sections reuse. One module per concern; import each name from its module:

* :mod:`~srekit.analysis.slo.propose`: the entry point :func:`propose_slos` (the
  ``slo_proposal`` section of ``report.json``);
* :mod:`~srekit.analysis.slo.results`: its result types and their ``to_dict()``;
* :mod:`~srekit.analysis.slo.events`: :func:`sli_events`, good/bad events of any
  :class:`~srekit.core.spec.SLOSpec` on a regular grid (used by budget, alerting, forecast);
* :mod:`~srekit.analysis.slo.grid`: per-journey grids (:func:`journey_grids`) and block sums;
* :mod:`~srekit.analysis.slo.history`: past SLO windows and the budget they consumed;
* :mod:`~srekit.analysis.slo.thresholds`: threshold proposals with bootstrap intervals;
* :mod:`~srekit.analysis.slo.options`: relaxed / balanced / ambitious options, given SLOs
  evaluated on history;
* :mod:`~srekit.analysis.slo.specs`: critical journeys, configured and provisional SLOs;
* :mod:`~srekit.analysis.slo.sli`: each SLI in words and PromQL, the instrumentation plan;
* :mod:`~srekit.analysis.slo.questions`: the open questions the proposal asks.

Definitions follow the Google SRE Workbook, chapter 2 "Implementing SLOs" (an SLI is the ratio
of good events to valid events, counted over the SLO window, request-weighted) and the OpenSLO
v1 spec (``ratioMetric`` good/total; ``budgetingMethod`` Occurrences / Timeslices; rolling or
calendar windows). Latency thresholds snap to histogram bucket edges, exactly as a Prometheus
``_bucket{le}`` query must. Formulas and fields: docs/slo.md.
"""
