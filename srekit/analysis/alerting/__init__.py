"""Multiwindow, multi-burn-rate alerting: design a policy per SLO, replay it on history and
score it against incidents, budget-burn episodes and the team's existing pages.

Sources: SRE Workbook ch. 5 "Alerting on SLOs" (burn rate, budget share, multiwindow rules,
low-traffic advice); Sloth (slok/sloth) for the window/factor tables. All modules are pure;
``docs/alerting.md`` has the maths, the backtest rules and the report.json fields.

One module per concern (import each name from its module; this package re-exports nothing):

* :mod:`~srekit.analysis.alerting.policy`: the rules of an SLO (:func:`design_policy`:
  windows, budget shares, burn rates, thresholds; warnings and open questions);
* :mod:`~srekit.analysis.alerting.events`: an SLO's SLI events on a regular grid, trailing sums;
* :mod:`~srekit.analysis.alerting.replay`: the rules evaluated on history (:func:`replay`),
  their firing runs and the telemetry's own burn episodes;
* :mod:`~srekit.analysis.alerting.matching`: which incidents a rule is scored on, and why the
  others are left out (journey, duration, range, the rule's warm-up);
* :mod:`~srekit.analysis.alerting.backtest`: firings scored against incident impacts and burn
  episodes (precision, recall, detection delay, reset time, budget spent before detection), the
  unions of rules built from the rules' outcomes;
* :mod:`~srekit.analysis.alerting.pages`: the team's existing pages log (symptom or cause);
* :mod:`~srekit.analysis.alerting.runbooks`: the runbook file and URL of every alert;
* :mod:`~srekit.analysis.alerting.analyze`: :func:`analyze_alerting`, the entry point, and its
  result :class:`AlertingReport` (the ``alerting`` section of report.json).

Policy maths
------------
For an SLO with target ``T`` over a period ``P`` (the SLO window), a rule with long window
``W`` that should fire once a share ``s`` of the period's budget is spent has

* burn rate ``f = s·P/W`` (30 d: 2 %/1 h → 14.4, 5 %/6 h → 6, 10 %/1 d → 3, 10 %/3 d → 1),
* error-ratio threshold ``θ = f·(1 − T)``,
* short window ``W/12`` (5 m, 30 m, 2 h, 6 h);

it fires while both windows' request-weighted bad ratios exceed ``θ``.
"""
