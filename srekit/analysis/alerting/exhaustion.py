"""An alert on projected budget exhaustion (Nobl9's "budget would be exhausted", Datadog's
error-budget alerts), replayed on history beside the burn-rate rules and scored the same way
(``alerting.backtest.exhaustion`` in report.json, ``docs/alerting.md`` "Exhaustion alert").

The rule reads the budget left over the trailing SLO window, ``R = max(0, 1 − ratio_P / b)``,
and the burn rate of the last :data:`LOOKBACK`; it fires when, at that burn rate, ``R`` would be
gone within :data:`HORIZON`: ``ratio_W > R × (P / H) × b``. Unlike a burn-rate rule it gets more
sensitive as the budget runs low, and it fires without end once the budget is gone and anything
still fails. It is a ticket: it reports a trend, not an emergency. It is offered, not put in
force: the backtest shows what it would have done next to the policy's rules.
"""

from __future__ import annotations

from dataclasses import replace

import pandas as pd

from srekit.analysis.alerting.backtest import RuleScore, slo_outcomes
from srekit.analysis.alerting.matching import IncidentMatch
from srekit.analysis.alerting.policy import BurnRateRule
from srekit.analysis.alerting.replay import ReplayedSLO, replay_policy
from srekit.core.spec import SLOSpec

LOOKBACK = pd.Timedelta(hours=6)
HORIZON = pd.Timedelta(days=3)


def exhaustion_rule(
    spec: SLOSpec, *, lookback: pd.Timedelta = LOOKBACK, horizon: pd.Timedelta = HORIZON
) -> BurnRateRule:
    """The exhaustion ticket of ``spec``: at a full budget it fires at a burn rate of P / H."""
    burn = spec.window / horizon
    return BurnRateRule(
        slo=spec.name,
        journey=spec.journey,
        severity="ticket",
        speed="exhaustion",
        long_window=lookback,
        short_window=lookback,
        burn_rate=burn,
        budget_share=burn * lookback / spec.window,
        threshold=burn * spec.error_budget,
        budget_window=spec.window,
    )


def replay_exhaustion(
    r: ReplayedSLO,
    impacts: pd.DataFrame,
    weeks: float,
    *,
    match: IncidentMatch,
    logged: int | None,
    max_intervals: int,
) -> RuleScore:
    """The exhaustion rule of ``r``'s SLO replayed on the same events (and correction windows)
    and scored as the backtest scores a rule."""
    policy = replace(r.policy, rules=(exhaustion_rule(r.policy.spec),))
    replayed = replay_policy(policy, r.events, max_intervals=max_intervals, excluded=r.excluded)
    (outcome,) = slo_outcomes(replayed, impacts, weeks, match=match, logged=logged)
    return outcome.score
