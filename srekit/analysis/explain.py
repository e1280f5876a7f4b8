"""How burn-rate alerts behave under a constant error ratio: time to fire, budget spent when
they fire, and reset time after the errors stop.

All formulas follow the SRE Workbook, chapter 5 "Alerting on SLOs" (Beyer et al., 2018),
for traffic that is uniform in time. With an error budget ``b = 1 − target``, an alert whose
error-ratio threshold is ``θ = burn_rate × b`` evaluated over a trailing window ``W``, and a
constant error ratio ``e`` starting at time 0 after a clean history:

* the window ratio at time ``t ≤ W`` is ``e·t/W``, so the alert fires at ``t = θ·W/e``
  (never when ``e ≤ θ``);
* the share of the period's budget spent by then is ``e·t / (b·P)`` for a period ``P``;
* once the window is saturated and the errors stop, the window ratio after ``s`` is
  ``e·(W − s)/W``, so the alert resets after ``s = W·(1 − θ/e)``.

A multiwindow rule fires when *both* its long and short windows are over the threshold (the
later of the two times) and resets as soon as *either* drops below it (the earlier reset).
The chapter's reference figures for a 100 % outage at 99.9 % over 30 days — 14.4× over 1 h
fires after 51.84 s; a 36-hour window at the SLO fires after about 2 min 10 s; a 1-hour
window at 36× resets after about 58 min — are reproduced by :func:`explain_rule` and
:func:`six_approaches` (``tests/test_alert_explain.py``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import pandas as pd

from srekit.core.timeutil import format_duration

ZERO = pd.Timedelta(0)


def time_to_fire(error_ratio: float, threshold: float, window: pd.Timedelta) -> pd.Timedelta | None:
    """Time from the start of a constant error ratio until a window ratio exceeds ``threshold``.

    ``t = θ·W/e`` (Workbook ch. 5, "detection time"). ``None`` when the ratio never exceeds
    the threshold (``e ≤ θ``): the alert does not fire at all.
    """
    if error_ratio <= threshold or error_ratio <= 0:
        return None
    return pd.Timedelta(seconds=threshold * window.total_seconds() / error_ratio)


def reset_time(error_ratio: float, threshold: float, window: pd.Timedelta) -> pd.Timedelta:
    """Time after a (long enough) constant error ratio stops until the window ratio is back
    at or below the threshold: ``s = W·(1 − θ/e)`` (Workbook ch. 5, "reset time")."""
    if error_ratio <= threshold:
        return pd.Timedelta(0)
    return pd.Timedelta(seconds=window.total_seconds() * (1.0 - threshold / error_ratio))


def budget_spent(error_ratio: float, elapsed: pd.Timedelta, target: float, period: pd.Timedelta) -> float:
    """Share of the period's error budget spent by ``elapsed`` of a constant error ratio:
    ``e·t / ((1 − target)·P)`` (uniform traffic). Above 1 means more than the whole budget
    (approach 3's hour-long wait spends 139 % of a 99.9 % / 30 d budget in a full outage)."""
    return error_ratio * elapsed.total_seconds() / ((1.0 - target) * period.total_seconds())


@dataclass(frozen=True, slots=True)
class Behaviour:
    """How one alert (one or two windows) reacts to a constant error ratio."""

    name: str
    description: str
    long_window: pd.Timedelta
    short_window: pd.Timedelta | None
    burn_rate: float
    threshold: float  # error-ratio threshold = burn_rate × (1 − target)
    for_duration: pd.Timedelta
    fires_after: pd.Timedelta | None  # None: never fires at this error ratio
    budget_spent_at_fire: float  # share of the period budget (> 1: more than all of it); 0 if never
    resets_after: pd.Timedelta

    def __post_init__(self) -> None:
        if self.long_window <= pd.Timedelta(0):
            raise ValueError(f"{self.name}: window must be positive")
        if self.budget_spent_at_fire < 0.0:
            raise ValueError(f"{self.name}: budget spent cannot be negative")

    @property
    def fires(self) -> bool:
        return self.fires_after is not None

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "description": self.description,
            "long_window": format_duration(self.long_window),
            "short_window": None if self.short_window is None else format_duration(self.short_window),
            "burn_rate": self.burn_rate,
            "threshold": self.threshold,
            "for_s": self.for_duration.total_seconds(),
            "fires": self.fires,
            "fires_after_s": None if self.fires_after is None else self.fires_after.total_seconds(),
            "budget_spent_at_fire": self.budget_spent_at_fire,
            "resets_after_s": self.resets_after.total_seconds(),
        }


def explain_rule(
    *,
    target: float,
    period: pd.Timedelta,
    long_window: pd.Timedelta,
    burn_rate: float,
    short_window: pd.Timedelta | None = None,
    for_duration: pd.Timedelta = ZERO,
    error_ratio: float = 1.0,
    name: str = "",
    description: str = "",
) -> Behaviour:
    """Behaviour of one burn-rate alert under a constant ``error_ratio``.

    Fire time is the later of the long and short windows' times plus any ``for`` duration;
    reset time is the earlier of the two windows' reset times (Workbook ch. 5, approach 6:
    "the short window ... lets the alert reset quickly").
    """
    if not 0.0 < target < 1.0:
        raise ValueError(f"target must be in (0, 1), got {target}")
    if not 0.0 <= error_ratio <= 1.0:
        raise ValueError(f"error ratio must be in [0, 1], got {error_ratio}")
    if burn_rate <= 0:
        raise ValueError(f"burn rate must be positive, got {burn_rate}")
    threshold = burn_rate * (1.0 - target)
    t_long = time_to_fire(error_ratio, threshold, long_window)
    fires_after: pd.Timedelta | None = t_long
    reset = reset_time(error_ratio, threshold, long_window)
    if short_window is not None:
        t_short = time_to_fire(error_ratio, threshold, short_window)
        fires_after = None if t_long is None or t_short is None else max(t_long, t_short)
        reset = min(reset, reset_time(error_ratio, threshold, short_window))
    if fires_after is not None:
        fires_after = fires_after + for_duration
    spent = 0.0 if fires_after is None else budget_spent(error_ratio, fires_after, target, period)
    label = name or f"{burn_rate:g}x over {format_duration(long_window)}"
    return Behaviour(
        name=label,
        description=description,
        long_window=long_window,
        short_window=short_window,
        burn_rate=burn_rate,
        threshold=threshold,
        for_duration=for_duration,
        fires_after=fires_after,
        budget_spent_at_fire=spent,
        resets_after=reset,
    )


#: What each of the Workbook's six approaches trades off, in plain words (:func:`six_approaches`).
APPROACH_NOTES = (
    "Fires on any 10-minute window worse than the SLO: fast, but pages on tiny blips and resets in minutes.",
    "A 36-hour window at the SLO: fewer false alarms, but slow to reset and it keeps firing long after a fix.",
    "A 10-minute window that must stay bad for an hour: even a full outage waits an hour.",
    "Alert when an hour burns 5% of the budget: good precision, but reset takes almost the whole hour.",
    "Several burn-rate alerts (1h/6h/3d); the fastest is shown. Catches slow burns, reset still slow.",
    "The recommended policy: a short window confirms the burn is still happening, so it resets in minutes.",
)


def six_approaches(target: float, period: pd.Timedelta, error_ratio: float = 1.0) -> tuple[Behaviour, ...]:
    """The six alerting approaches of the Workbook's "Alerting on SLOs", side by side.

    1. target error rate ≥ SLO threshold over 10 min;
    2. increased alert window: 36 h at the SLO threshold;
    3. incrementing alert duration: 10 min window at the SLO, ``for: 1h``;
    4. alert on burn rate: 1 h window, 5 % of a 30-day budget (36×, scaled to ``period``);
    5. multiple burn rates: 14.4× / 1 h (page) — the fastest of 1 h, 6 h, 3 d;
    6. multiwindow, multi-burn-rate: 14.4× over 1 h with a 5 min short window (fastest page).

    Burn rates scale with the period as ``budget share × period / window``.
    """
    days = period.total_seconds() / 86400.0
    hour, ten = pd.Timedelta(hours=1), pd.Timedelta(minutes=10)
    br4 = 0.05 * days * 24.0  # 5 % of the budget in 1 h: 36 at 30 d
    br56 = 0.02 * days * 24.0  # 2 % of the budget in 1 h: 14.4 at 30 d
    specs: tuple[dict[str, Any], ...] = (
        {"name": "1. error rate ≥ SLO (10m)", "long_window": ten, "burn_rate": 1.0},
        {"name": "2. increased window (36h)", "long_window": pd.Timedelta(hours=36), "burn_rate": 1.0},
        {"name": "3. alert duration (10m, for 1h)", "long_window": ten, "burn_rate": 1.0, "for_duration": hour},
        {"name": f"4. burn rate ({br4:g}x over 1h)", "long_window": hour, "burn_rate": br4},
        {"name": f"5. multiple burn rates ({br56:g}x over 1h)", "long_window": hour, "burn_rate": br56},
        {
            "name": f"6. multiwindow ({br56:g}x over 1h and 5m)",
            "long_window": hour,
            "burn_rate": br56,
            "short_window": pd.Timedelta(minutes=5),
        },
    )
    return tuple(
        explain_rule(target=target, period=period, error_ratio=error_ratio, description=note, **s)
        for s, note in zip(specs, APPROACH_NOTES, strict=True)
    )


@dataclass(frozen=True, slots=True)
class Explanation:
    """Result of ``srekit alerts explain``: a policy's rules and the six approaches."""

    target: float
    period: pd.Timedelta
    error_ratio: float
    rules: tuple[Behaviour, ...]
    approaches: tuple[Behaviour, ...]

    def __post_init__(self) -> None:
        if not 0.0 < self.target < 1.0:
            raise ValueError("target must be in (0, 1)")
        if not 0.0 <= self.error_ratio <= 1.0:
            raise ValueError("error ratio must be in [0, 1]")

    def to_dict(self) -> dict[str, Any]:
        return {
            "target": self.target,
            "period_s": self.period.total_seconds(),
            "error_ratio": self.error_ratio,
            "rules": [b.to_dict() for b in self.rules],
            "approaches": [b.to_dict() for b in self.approaches],
        }


def human_duration(td: pd.Timedelta | None) -> str:
    """``51.84 s``, ``2 min 10 s``, ``57 min 50 s``, ``1 h 0 min``; ``never`` for None."""
    if td is None:
        return "never"
    s = td.total_seconds()
    if s < 60:
        return f"{s:.2f} s".replace(".00 s", " s")
    if s < 3600:
        m, sec = divmod(round(s), 60)
        return f"{m} min {sec} s"
    if s < 86400 * 2:
        h, rem = divmod(round(s / 60), 60)
        return f"{h} h {rem} min"
    return f"{s / 86400:.1f} d"


def explain(
    target: float,
    period: pd.Timedelta,
    error_ratio: float = 1.0,
    *,
    rules: tuple[tuple[pd.Timedelta, pd.Timedelta, float, str], ...] | None = None,
) -> Explanation:
    """Explain a multiwindow policy for ``target``/``period`` under a constant ``error_ratio``.

    ``rules`` are ``(long_window, short_window, burn_rate, severity)``; by default the
    Workbook's four (2 %/1 h, 5 %/6 h, 10 %/1 d, 10 %/3 d of the budget, short = long/12).
    """
    if rules is None:
        rules = tuple(
            (w, w / 12, share * period.total_seconds() / w.total_seconds(), sev)
            for w, share, sev in (
                (pd.Timedelta(hours=1), 0.02, "page"),
                (pd.Timedelta(hours=6), 0.05, "page"),
                (pd.Timedelta(days=1), 0.10, "ticket"),
                (pd.Timedelta(days=3), 0.10, "ticket"),
            )
        )
    behaviours = tuple(
        explain_rule(
            target=target,
            period=period,
            long_window=lw,
            short_window=sw,
            burn_rate=br,
            error_ratio=error_ratio,
            name=f"{sev}: {_fmt_rate(br)}x over {format_duration(lw)} and {format_duration(sw)}",
        )
        for lw, sw, br, sev in rules
    )
    return Explanation(target, period, error_ratio, behaviours, six_approaches(target, period, error_ratio))


def _fmt_rate(x: float) -> str:
    return f"{x:.4g}" if not math.isclose(x, round(x)) else f"{round(x)}"


def percent(ratio: float) -> str:
    """``0.999`` → ``99.9%`` (up to 6 significant digits, no trailing zeros)."""
    return f"{ratio * 100:.6g}%"
