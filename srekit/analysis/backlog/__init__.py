"""The ranked reliability backlog (report section ``backlog``; docs/backlog.md).

Items come from the other sections' ``to_dict()`` payloads (alerting gaps, top incident causes
by error-budget minutes, detection gaps, toil automation, postmortem follow-ups, chaos
experiments that verify a mitigation, SLO work). Any payload may be missing: the backlog ranks
what exists and says what it could not see in ``open_questions``.

Ranking
-------
Impact is measured in the unit of the resource an item saves, per quarter (13 weeks = 91 days):
error-budget minutes ("minutes of full outage", SRE Workbook, "Implementing SLOs") or engineer
hours (SRE book, ch. 5 "Eliminating Toil"). Both are put on one scale as the *share of that
resource the team has in a quarter*: ``budget minutes / quarterly budget minutes`` or ``hours /
(team size × hours per week × 13)``. The score is ``100 × impact share / effort weight`` with
effort weights S = 1, M = 3, L = 8 (t-shirt sizes as story points: about two days, a week,
several weeks), i.e. percent of a quarter's budget or team time saved per effort point —
a cost-of-delay-over-duration ordering ("weighted shortest job first", Reinertsen 2009).

One module per concern:

- :mod:`srekit.analysis.backlog.model`: the result types, effort sizes and the score;
- :mod:`srekit.analysis.backlog.read`: tolerant reading of the section payloads;
- :mod:`srekit.analysis.backlog.scale`: what the team has in a quarter (budget minutes, hours);
- :mod:`srekit.analysis.backlog.from_toil`, :mod:`~srekit.analysis.backlog.from_alerting`,
  :mod:`~srekit.analysis.backlog.from_incidents`, :mod:`~srekit.analysis.backlog.from_slo`:
  the items each section's payload gives;
- :mod:`srekit.analysis.backlog.build`: the :func:`~srekit.analysis.backlog.build.build_backlog`
  entry point (owners and ranking).

Pure functions over mappings: no I/O, no clock, no printing.
"""

SECTION = "backlog"
"""Report section of the backlog open questions."""
