"""Monte Carlo forecast of error-budget consumption over the next SLO window: report section
``error_budget_policy``, key ``forecast`` (model and fields in ``docs/forecast.md``).

One module per step; import each name from the module that defines it:

* :mod:`~srekit.analysis.forecast.model`: the fitted inputs (``BurnModel``) and the what-ifs (``WhatIf``).
* :mod:`~srekit.analysis.forecast.fit`: fitting a ``BurnModel`` from telemetry and the incident log.
* :mod:`~srekit.analysis.forecast.simulate`: the vectorised compound-Poisson simulation.
* :mod:`~srekit.analysis.forecast.result`: summaries (``SLOForecast``, ``WhatIfResult``,
  ``BudgetForecast``) and ``riskiest``.
* :mod:`~srekit.analysis.forecast.analyze`: the entry point ``forecast_budget``.
"""
