"""What each notebook parameter (``srekit report -p NAME=VALUE``) means and which values it
takes, checked before a run starts: an unusable value is a
:class:`~srekit.core.errors.ParameterError` (exit 2) naming the parameter, the value given and the
valid values, instead of a notebook failing halfway through the report (papermill would pass
anything on).

The parameters of the shipped notebooks are described in :data:`RULES`. A parameter of another
notebook (``--notebooks DIR``) is checked against the type of its default in the notebook's
``parameters`` cell: ``-p limit=abc`` for ``limit = 10`` is refused, ``-p limit=12`` accepted.
"""

from __future__ import annotations

import ast
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import pandas as pd

from srekit.core.errors import ParameterError
from srekit.inputs.config import ServiceConfig

#: The charts' time step (notebook 01, ``freq``): a fixed step in this range.
MIN_FREQ, MAX_FREQ = pd.Timedelta(minutes=1), pd.Timedelta(days=28)
#: Trailing windows the burn-rate chart can show (notebook 02, ``burn_rate_window``):
#: ``srekit.analysis.budget.BURN_WINDOWS``, the windows ``burn_rate_history`` computes.
BURN_RATE_WINDOWS = ("1h", "6h", "1d", "3d")
#: Toil tasks the charts and tables show at most (notebook 06, ``top_tasks``).
MAX_TOP_TASKS = 100


@dataclass(frozen=True, slots=True)
class Rule:
    """One parameter: what it means, its valid values (for the message) and the check, which
    returns the problem with a value (None when it is usable)."""

    meaning: str
    valid: Callable[[ServiceConfig], str]
    problem: Callable[[Any, ServiceConfig], str | None]


def _whole(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _seed(value: Any, config: ServiceConfig) -> str | None:
    return None if _whole(value) and value >= 0 else "not a whole number ≥ 0"


def max_runs(config: ServiceConfig) -> int:
    """Most simulated windows per SLO the forecast may run: ``limits.monte_carlo_draws`` ÷ the
    SLO window in days."""
    days = max(math.ceil(config.slo.window / pd.Timedelta(days=1)), 1)
    return max(config.limits.monte_carlo_draws // days, 1)


def _runs_valid(config: ServiceConfig) -> str:
    days = max(math.ceil(config.slo.window / pd.Timedelta(days=1)), 1)
    return (
        f"a whole number from 1 to {max_runs(config):,} (limits.monte_carlo_draws = "
        f"{config.limits.monte_carlo_draws:,} simulated days ÷ the {days}-day SLO window)"
    )


def _runs(value: Any, config: ServiceConfig) -> str | None:
    if not _whole(value) or value < 1:
        return "not a whole number ≥ 1"
    if value > max_runs(config):
        return (
            "more than the Monte Carlo limit allows (a larger run needs --limit monte_carlo_draws=N, or "
            "`limits: {monte_carlo_draws: N}` in service.yaml)"
        )
    return None


def _freq(value: Any, config: ServiceConfig) -> str | None:
    from pandas.tseries.frequencies import to_offset

    if not isinstance(value, str):
        return "not a time step"
    try:
        step = pd.Timedelta(int(to_offset(value.strip()).nanos), unit="ns")
    except (ValueError, TypeError):
        return "not a fixed pandas frequency (months and weeks vary in length)"
    if not MIN_FREQ <= step <= MAX_FREQ:
        return "outside the range"
    return None


def _one_of(choices: tuple[str, ...]) -> Callable[[Any, ServiceConfig], str | None]:
    def check(value: Any, config: ServiceConfig) -> str | None:
        return None if value in choices else "not one of them"

    return check


def _ratio(value: Any, config: ServiceConfig) -> str | None:
    ok = isinstance(value, int | float) and not isinstance(value, bool) and 0.0 <= value <= 1.0
    return None if ok else "not a number from 0 to 1"


def _top(value: Any, config: ServiceConfig) -> str | None:
    return None if _whole(value) and 1 <= value <= MAX_TOP_TASKS else "not in the range"


def _url(value: Any, config: ServiceConfig) -> str | None:
    if value is None or value == "":
        return None
    parts = urlsplit(value) if isinstance(value, str) else None
    ok = parts is not None and parts.scheme in ("http", "https") and bool(parts.netloc)
    return None if ok else "not an http(s) URL"


RULES: Mapping[str, Rule] = {
    "seed": Rule("the random seed (report.json and every notebook use it)", lambda c: "a whole number ≥ 0", _seed),
    "runs": Rule("simulated windows per SLO in the budget forecast (notebook 05)", _runs_valid, _runs),
    "freq": Rule(
        "the time step of the telemetry charts (notebook 01)",
        lambda c: "a fixed pandas frequency from 1min to 28D, e.g. 15min, 1h, 6h or 1D",
        _freq,
    ),
    "burn_rate_window": Rule(
        "the trailing window of the burn-rate chart (notebook 02)",
        lambda c: "one of " + ", ".join(BURN_RATE_WINDOWS),
        _one_of(BURN_RATE_WINDOWS),
    ),
    "error_ratio": Rule(
        "the constant error ratio of the alert-reaction table (notebook 03)",
        lambda c: "a number from 0 to 1 (1 = full outage)",
        _ratio,
    ),
    "top_tasks": Rule(
        "how many toil tasks the charts and tables show (notebook 06)",
        lambda c: f"a whole number from 1 to {MAX_TOP_TASKS}",
        _top,
    ),
    "prometheus_url": Rule(
        "the Prometheus to pull the telemetry from (notebook 01 and report.json)",
        lambda c: "an http:// or https:// URL, or empty for the files in service.yaml",
        _url,
    ),
}


def _default_type(default_text: str) -> type | None:
    """The type of a parameter's default in the notebook (None when it is not a plain literal
    or is None: then any value is passed on)."""
    try:
        value = ast.literal_eval(default_text)
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        return None
    return None if value is None else type(value)


def _generic_problem(value: Any, default_text: str) -> tuple[str, str] | None:
    """A parameter without a rule: the value must have its default's type (an int is a float)."""
    want = _default_type(default_text)
    if want is None or isinstance(value, want) and not (isinstance(value, bool) and want is not bool):
        return None
    if want is float and _whole(value):
        return None
    names = {bool: "true or false", int: "a whole number", float: "a number", str: "text"}
    return f"not {names.get(want, want.__name__)}", f"{names.get(want, want.__name__)} like its default {default_text}"


def check_parameters(user: Mapping[str, Any], declared: Mapping[str, Mapping[str, str]], config: ServiceConfig) -> None:
    """Raise one :class:`ParameterError` listing every unusable ``-p`` value in ``user``
    (``declared``: each notebook's parameters and their default text)."""
    problems = []
    for name, value in user.items():
        rule = RULES.get(name)
        if rule is not None:
            problem = rule.problem(value, config)
            if problem is not None:
                problems.append(f"-p {name}={value!r} ({rule.meaning}): {problem}. valid: {rule.valid(config)}")
            continue
        defaults = [params[name] for params in declared.values() if name in params]
        generic = _generic_problem(value, defaults[0]) if defaults else None
        if generic is not None:
            problems.append(f"-p {name}={value!r}: {generic[0]}. valid: {generic[1]}")
    if problems:
        raise ParameterError("; ".join(problems) + ". fix: change the value or drop the -p option")
