"""Two sets of SLOs (a pull request's and its baseline) side by side over the same history:
objective, past windows met, budget used now, pages and tickets per week, incidents caught,
median detection delay, precision; SLOs added and removed; and the ``--fail-on`` rules a CI
step checks (``srekit diff``, docs/slo-import.md)."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from srekit.core.errors import ConfigError

#: Figures a ``--fail-on`` threshold rule may name (on the new side), by rule spelling.
FIGURES = {
    "pages-per-week": "pages_per_week",
    "tickets-per-week": "tickets_per_week",
    "windows-met": "windows_met",
    "budget-used": "budget_used",
    "recall": "recall",
    "precision": "precision",
    "median-detection-min": "median_detection_min",
}
#: ``<figure>-drop`` rules: the new side is worse than the baseline for some SLO.
DROPS = {"recall-drop": "incidents_detected", "precision-drop": "precision", "windows-met-drop": "windows_met"}
_RULE = re.compile(r"^([a-z-]+)\s*(<=|>=|<|>)\s*(-?[0-9.]+)$")


def figures(
    spec: Any, outcome: Mapping[str, Any] | None, budget: Mapping[str, Any] | None, windows_met: float | None
) -> dict[str, Any]:
    """One SLO's figures (``outcome``: report.json ``PolicyOutcome`` dict; ``budget``: its budget)."""
    o = outcome or {}
    median = o.get("median_detection_s")
    return {
        "slo": spec.name,
        "journey": spec.journey,
        "objective": f"{spec.sli} {spec.target:.6g}" + (f" ≤ {spec.threshold_ms:g} ms" if spec.threshold_ms else ""),
        "policy": o.get("policy"),
        "windows_met": windows_met,
        "budget_used": None if budget is None else budget.get("consumed"),
        "state": None if budget is None else budget.get("status"),
        "pages_per_week": o.get("pages_per_week"),
        "tickets_per_week": o.get("tickets_per_week"),
        "incidents": o.get("incidents"),
        "incidents_detected": o.get("incidents_detected"),
        "recall": o.get("recall"),
        "median_detection_min": None if median is None else median / 60.0,
        "precision": o.get("precision"),
    }


@dataclass(frozen=True, slots=True)
class SloDiff:
    """Per SLO name: baseline and new figures (None on the side that lacks it)."""

    rows: tuple[tuple[str, dict[str, Any] | None, dict[str, Any] | None], ...]

    def change(self, name: str) -> str:
        old, new = next((o, n) for s, o, n in self.rows if s == name)
        if old is None:
            return "added"
        if new is None:
            return "removed"
        keys = ("objective", "policy", "windows_met", "pages_per_week", "tickets_per_week", "incidents_detected")
        return "changed" if any(old.get(k) != new.get(k) for k in keys) else "unchanged"

    def to_dict(self) -> dict[str, Any]:
        return {"slos": [{"slo": s, "change": self.change(s), "baseline": o, "new": n} for s, o, n in self.rows]}


def diff(old: Sequence[dict[str, Any]], new: Sequence[dict[str, Any]]) -> SloDiff:
    """Every SLO present on either side (new order first, then those removed)."""
    olds, news = {f["slo"]: f for f in old}, {f["slo"]: f for f in new}
    names = [*news, *(n for n in olds if n not in news)]
    return SloDiff(tuple((n, olds.get(n), news.get(n)) for n in names))


def check_rule(rule: str) -> str:
    """A ``--fail-on`` rule as given, or a :class:`ConfigError` listing the valid ones."""
    m = _RULE.match(rule.strip())
    if rule.strip() in DROPS or (m and m.group(1) in FIGURES):
        return rule.strip()
    raise ConfigError(
        f"--fail-on {rule!r} is not a rule. fix: use {', '.join(DROPS)} or FIGURE<N / FIGURE>N with FIGURE one of "
        f"{', '.join(FIGURES)} (e.g. pages-per-week>2, windows-met<0.9)"
    )


def _holds(value: float, op: str, limit: float) -> bool:
    return {"<": value < limit, "<=": value <= limit, ">": value > limit, ">=": value >= limit}[op]


def failures(d: SloDiff, rules: Sequence[str]) -> list[str]:
    """The rules that hold, one line per SLO that trips one (empty: the change may merge)."""
    out = []
    for rule in rules:
        rule = check_rule(rule)
        for name, old, new in d.rows:
            if new is None:
                continue
            if rule in DROPS:
                key = DROPS[rule]
                before, after = (old or {}).get(key), new.get(key)
                if before is not None and after is not None and after < before:
                    out.append(f"{rule}: {name} {key} {before:.4g} → {after:.4g}")
                continue
            m = _RULE.match(rule)
            assert m is not None
            value = new.get(FIGURES[m.group(1)])
            if value is not None and _holds(float(value), m.group(2), float(m.group(3))):
                out.append(f"{rule}: {name} has {FIGURES[m.group(1)]} = {float(value):.4g}")
    return out
