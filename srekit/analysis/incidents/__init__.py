"""Incident response: report section ``incident_response`` (see ``docs/incidents.md``).

One module per concern; import each name from the module that defines it:

* :mod:`~srekit.analysis.incidents.log`: the canonical incident log (``prepare``, ``log_end``, ``to_us``).
* :mod:`~srekit.analysis.incidents.lifecycle`: time to detect / acknowledge / mitigate / resolve with
  open incidents censored (Kaplan–Meier) and bootstrap intervals (``DurationMetric``).
* :mod:`~srekit.analysis.incidents.detectable`: the smallest change of a mean the log can reveal.
* :mod:`~srekit.analysis.incidents.counts`: SLI counts per journey on its own interval (``SliCounts``,
  shared with the budget forecast).
* :mod:`~srekit.analysis.incidents.impact`: impact windows and the error-budget minutes each incident used.
* :mod:`~srekit.analysis.incidents.breakdowns`: incidents by severity, cause and detection source.
* :mod:`~srekit.analysis.incidents.change`: incidents that started shortly after a deploy.
* :mod:`~srekit.analysis.incidents.postmortems`: postmortem coverage, follow-up tracker, template.
* :mod:`~srekit.analysis.incidents.recommend`: process changes keyed to the evidence.
* :mod:`~srekit.analysis.incidents.questions`: the open questions (defaults a person should confirm).
* :mod:`~srekit.analysis.incidents.analyze`: the entry point ``analyze_incidents`` and its result
  ``IncidentReport``.
"""
