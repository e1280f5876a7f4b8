"""What each notebook parameter (``srekit report -p NAME=VALUE``) means and which values it
takes, checked before a run starts: an unusable value is a
:class:`~srekit.core.errors.ParameterError` (exit 2) naming the parameter, the value given and the
valid values, instead of a notebook failing halfway through the report (papermill would pass
anything on).

The parameters of the shipped notebooks are described in :data:`RULES`. A parameter of another
notebook (``--notebooks DIR``) is checked against the type of its default in the notebook's
``parameters`` cell: ``-p limit=abc`` for ``limit = 10`` is refused, ``-p limit=12`` accepted.
A whole number written as a decimal (``-p runs=2e4``) is passed on as the integer.
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
    returns the value to pass on, or raises :class:`ValueError` saying what is wrong (an empty
    message when "must be <valid>" says it all)."""

    meaning: str
    valid: Callable[[ServiceConfig], str]
    check: Callable[[Any, ServiceConfig], Any]


def whole(value: Any) -> int | None:
    """``value`` as an integer when it is one (``12``, ``12.0``, ``1.2e4``), else None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return None


def _seed(value: Any, config: ServiceConfig) -> int:
    n = whole(value)
    if n is None or n < 0:
        raise ValueError("")
    return n


def window_days(config: ServiceConfig) -> int:
    return max(math.ceil(config.slo.window / pd.Timedelta(days=1)), 1)


def max_runs(config: ServiceConfig) -> int:
    """Most simulated windows per SLO the forecast may run: ``limits.monte_carlo_draws`` ÷ the
    SLO window in days."""
    return max(config.limits.monte_carlo_draws // window_days(config), 1)


def _runs_valid(config: ServiceConfig) -> str:
    return (
        f"a whole number from 1 to {max_runs(config):,} (limits.monte_carlo_draws = "
        f"{config.limits.monte_carlo_draws:,} simulated days ÷ the {window_days(config)}-day SLO window)"
    )


def _runs(value: Any, config: ServiceConfig) -> int:
    n = whole(value)
    if n is None or n < 1:
        raise ValueError("")
    if n > max_runs(config):
        raise ValueError(
            "a larger Monte Carlo run needs a higher limit: --limit monte_carlo_draws=N, or "
            "`limits: {monte_carlo_draws: N}` in service.yaml"
        )
    return n


def _freq(value: Any, config: ServiceConfig) -> str:
    from pandas.tseries.frequencies import to_offset

    if not isinstance(value, str):
        raise ValueError("")
    try:
        step = pd.Timedelta(int(to_offset(value.strip()).nanos), unit="ns")
    except (ValueError, TypeError):
        raise ValueError("months and weeks are not fixed steps") from None
    if not MIN_FREQ <= step <= MAX_FREQ:
        raise ValueError("")
    return value.strip()


def _one_of(choices: tuple[str, ...]) -> Callable[[Any, ServiceConfig], str]:
    def check(value: Any, config: ServiceConfig) -> str:
        if value not in choices:
            raise ValueError("")
        return str(value)

    return check


def _ratio(value: Any, config: ServiceConfig) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0.0 <= value <= 1.0:
        raise ValueError("")
    return float(value)


def _top(value: Any, config: ServiceConfig) -> int:
    n = whole(value)
    if n is None or not 1 <= n <= MAX_TOP_TASKS:
        raise ValueError("")
    return n


def _url(value: Any, config: ServiceConfig) -> str:
    if value is None or value == "":
        return ""
    parts = urlsplit(value) if isinstance(value, str) else None
    if parts is None or parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValueError("")
    return str(value)


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


TYPE_NAMES: Mapping[type, str] = {bool: "true or false", int: "a whole number", float: "a number", str: "text"}


def _generic(value: Any, default_text: str) -> Any:
    """A parameter without a rule: the value must have its default's type (an int is a float,
    a whole float an int)."""
    want = _default_type(default_text)
    if want is None or want is str:
        return value if want is None or isinstance(value, str) else str(value)
    if want is int and whole(value) is not None:
        return whole(value)
    if want is float and not isinstance(value, bool) and isinstance(value, int | float):
        return float(value)
    if want is bool and isinstance(value, bool):
        return value
    raise ValueError(f"{TYPE_NAMES.get(want, want.__name__)} like its default {default_text}")


def check_parameters(
    user: Mapping[str, Any], declared: Mapping[str, Mapping[str, str]], config: ServiceConfig
) -> dict[str, Any]:
    """The ``-p`` values in ``user`` as the notebooks get them (whole numbers as integers); one
    :class:`ParameterError` listing every unusable value (``declared``: each notebook's
    parameters and their default text)."""
    checked, problems = {}, []
    for name, value in user.items():
        rule = RULES.get(name)
        defaults = [params[name] for params in declared.values() if name in params]
        try:
            if rule is not None:
                checked[name] = rule.check(value, config)
            else:
                checked[name] = _generic(value, defaults[0]) if defaults else value
        except ValueError as exc:
            if rule is None:
                problems.append(f"-p {name}={value!r} must be {exc}")
            else:
                detail = f" ({exc})" if str(exc) else ""
                problems.append(f"-p {name}={value!r}: {rule.meaning} must be {rule.valid(config)}{detail}")
    if problems:
        raise ParameterError("; ".join(problems) + ". fix: change the value or drop the -p option")
    return checked
