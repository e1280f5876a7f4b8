"""The explorer's last stage, run on every change of objective, window or on-call coverage:
the budget now, the past windows met, the burn-down and the replayed alert policy of one choice
(:func:`evaluate` → :class:`Outcome`), all from a prepared :class:`~srekit.analysis.explore.view.SliView`
through the functions the report's own sections use."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pandas as pd

from srekit.analysis.alerting.backtest import Backtest, backtest
from srekit.analysis.alerting.compare import PolicyOutcome, policy_outcome
from srekit.analysis.alerting.policy import AlertPolicy, policy_for
from srekit.analysis.alerting.replay import ReplayedSLO, replay_policy
from srekit.analysis.budget import BudgetStatus, burn_down, error_budget
from srekit.analysis.explore.choice import Choice, ExploreError, choice_config, choice_spec
from srekit.analysis.explore.history import ExploreHistory
from srekit.analysis.explore.view import SliView
from srekit.analysis.slo.history import consumed, past_windows, window_stats
from srekit.analysis.slo.results import WindowStats
from srekit.core.errors import ConfigError
from srekit.core.spec import SLOSpec
from srekit.core.timeutil import format_duration
from srekit.inputs.config import ServiceConfig


@dataclass(frozen=True, slots=True)
class Outcome:
    """What one choice would have meant on the history range."""

    choice: Choice
    spec: SLOSpec
    budget: BudgetStatus  # the current window, ending at the end of the range
    past: WindowStats  # past SLO windows within the range (daily steps, or calendar months)
    burn_down: pd.DataFrame  # time, consumed, remaining through the current window
    policy: AlertPolicy  # the policy in force for the SLO (imported, else the Workbook's) at this objective
    backtest: Backtest  # per rule: scores, incident detections, firings (unions of this SLO alone)
    rules_together: PolicyOutcome  # its page rules, ticket rules and all rules as unions
    impacts: pd.DataFrame  # incident impacts scored (id, journey, start, end, …)
    sli_ratio: float  # good / valid events over the whole range
    start: pd.Timestamp  # first interval of the range
    end: pd.Timestamp  # end of the range: the budget's "now"
    replay_end: pd.Timestamp  # last evaluation of the replayed rules
    weeks: float

    def alerts(self) -> dict[str, Any]:
        """The alerting headline (``alerting.policy_comparison``'s fields for this SLO): pages and
        tickets per week, incidents caught by any alert, the median delay to the first alert and
        the precision of pages and of all alerts."""
        return {**self.rules_together.to_dict(), "weeks": self.weeks}

    def to_dict(self) -> dict[str, Any]:
        """report.json-shaped: the budget as ``error_budget_policy.slos[]``, the policy and its
        backtest as ``alerting`` (for this SLO alone), plus the explorer's own figures."""
        bt = self.backtest
        return {
            "choice": {
                "slo": self.spec.name,
                "journey": self.spec.journey,
                "sli": self.spec.sli,
                "target": self.spec.target,
                "threshold_ms": self.spec.threshold_ms,
                "window": format_duration(self.spec.window),
                "window_kind": self.spec.window_kind,
                "budgeting": self.spec.budgeting,
                "oncall_coverage": self.choice.coverage,
                "start": self.start.isoformat(),
                "end": self.end.isoformat(),
            },
            "sli_ratio": self.sli_ratio,
            "past_windows": self.past.to_dict(),
            "alerts": self.alerts(),
            "error_budget_policy": {"as_of": self.end.isoformat(), "slos": [self.budget.to_dict()]},
            "alerting": {
                "policy": self.policy.to_dict(),
                "warnings": list(self.policy.warnings),
                "backtest": {
                    "start": self.start.isoformat(),
                    "end": self.replay_end.isoformat(),
                    "rules": [s.to_dict() for s in bt.scores],
                    "overall": bt.overall.to_dict(),
                    "overall_pages": None if bt.overall_pages is None else bt.overall_pages.to_dict(),
                    "single_window_baseline": bt.baseline.to_dict(),
                },
                "incidents": [d.to_dict() for d in bt.detections],
            },
        }


def evaluate(history: ExploreHistory, view: SliView, choice: Choice) -> Outcome:
    """Budget, past windows, burn-down and replayed alerts of a checked ``choice`` on its view
    (same journey, kind, threshold and range). Raises :class:`ExploreError` when the alert
    policy cannot be built for it (e.g. an alert window longer than the SLO window)."""
    spec = choice_spec(history, choice)
    config = choice_config(history.config, choice)
    tz = config.timezone
    replayed = replay_choice(view, spec, config)
    scored = backtest([replayed], view.impacts, view.weeks, match=view.match, logged=view.logged)
    total = int(view.events["total"].sum())
    return Outcome(
        choice=choice,
        spec=spec,
        budget=error_budget(view.events, spec, as_of=view.end, tz=tz),
        past=past_window_stats(view, spec),
        burn_down=burn_down(view.events, spec, as_of=view.end, tz=tz),
        policy=replayed.policy,
        backtest=scored,
        rules_together=policy_outcome(
            replayed, view.impacts, view.weeks, match=view.match, logged=view.logged, scored=scored.outcomes
        ),
        impacts=view.journey_impacts,
        sli_ratio=1.0 - int(view.events["bad"].sum()) / total if total else 1.0,
        start=view.start,
        end=view.end,
        replay_end=view.replay_end,
        weeks=view.weeks,
    )


def replay_choice(view: SliView, spec: SLOSpec, config: ServiceConfig) -> ReplayedSLO:
    """The policy in force for ``spec`` (its imported one, else the Workbook's for its traffic)
    replayed on the view's events with the burn episodes it is scored against: what
    ``replay_slo`` does, on the prepared events."""
    try:
        policy = policy_for(spec, config, events_per_hour=view.events_per_hour)
    except ConfigError as exc:
        raise ExploreError(str(exc)) from exc
    return replay_policy(policy, view.events, sums=view.sums, excluded=view.excluded)


def past_window_stats(view: SliView, spec: SLOSpec) -> WindowStats:
    """How the objective would have fared in the past SLO windows of the range: rolling windows
    at daily steps or calendar months (``slo.history.past_windows``), budget consumed per window
    and the share met, as the SLO section judges an objective."""
    if len(view.days) == 0:
        return WindowStats(0, 0.0, 0.0, 0.0)
    windows = past_windows(view.days, spec.window, spec.window_kind)
    win_total = windows.sums(view.day_total)
    return window_stats(consumed(win_total, windows.sums(view.day_bad), spec.target), win_total > 0)
