"""Reading PromQL text without a parser: string literals masked, selectors, the recorded names
an expression reads, range durations. Enough for the expressions srekit itself writes (the
exported rules and the dashboard queries); ``promtool check rules`` checks them properly.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import pandas as pd

_STRING = re.compile(r'"(?:[^"\\]|\\.)*"|\'(?:[^\'\\]|\\.)*\'|`[^`]*`')
_DURATION_PART = re.compile(r"(\d+)(ms|[smhdwy])")
_UNITS = {
    "ms": pd.Timedelta(milliseconds=1),
    "s": pd.Timedelta(seconds=1),
    "m": pd.Timedelta(minutes=1),
    "h": pd.Timedelta(hours=1),
    "d": pd.Timedelta(days=1),
    "w": pd.Timedelta(weeks=1),
    "y": pd.Timedelta(days=365),
}
_SELECTOR = re.compile(r"(?<![\w:])([A-Za-z_:][\w:]*)\s*[{\[]")
_RANGE = re.compile(r"\[\s*((?:\d+(?:ms|[smhdwy]))+)\s*(?::[^\]]*)?\]")


def mask_strings(expr: str) -> str:
    """The expression with the inside of its string literals blanked, same length (a label value
    cannot look like a metric, and positions still match the original text)."""
    return _STRING.sub(lambda m: m.group(0)[0] + " " * (len(m.group(0)) - 2) + m.group(0)[-1], expr)


def references(expr: str, names: Sequence[str]) -> set[str]:
    """The recorded series among ``names`` that ``expr`` reads."""
    code = mask_strings(expr)
    return {n for n in names if re.search(rf"(?<![\w:]){re.escape(n)}(?![\w:])", code)}


def prom_duration(text: str) -> pd.Timedelta:
    """A Prometheus duration (``5m``, ``1h30m``, ``28d``, ``1y`` = 365 days, ``500ms``)."""
    parts = _DURATION_PART.findall(text.strip())
    if not parts or "".join(n + u for n, u in parts) != text.strip():
        raise ValueError(f"{text!r} is not a Prometheus duration")
    return sum((int(n) * _UNITS[u] for n, u in parts), pd.Timedelta(0))


def lookback(expr: str) -> pd.Timedelta:
    """The longest range selector (or subquery range) of an expression; 0 without one."""
    ranges = [prom_duration(m) for m in _RANGE.findall(mask_strings(expr))]
    return max(ranges, default=pd.Timedelta(0))


def selected_metrics(expr: str) -> set[str]:
    """Metric names of the selectors in ``expr`` (``name{…}`` or ``name[…]``)."""
    return set(_SELECTOR.findall(mask_strings(expr)))


def selectors(expr: str) -> list[str]:
    """The ``name{…}`` selectors of an expression as written (label values may hold braces)."""
    masked = mask_strings(expr)
    out = []
    for m in re.finditer(r"(?<![\w:])[A-Za-z_:][\w:]*\s*\{", masked):
        close = masked.find("}", m.end())
        if close >= 0:
            out.append(expr[m.start() : close + 1])
    return out
