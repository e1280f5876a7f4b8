"""How many times a replayed rule was evaluated, and how many of those it was firing, counted as
on the dense grids (every interval from an SLO's first to its last), although the grids skip
long empty runs (:mod:`srekit.analysis.slo.grid`): the skipped evaluations are never firing, so
only the counts need the dense arithmetic. Several SLOs' grids (steps of 1 min, 5 min, …) are
counted as their union, by inclusion–exclusion over the distinct steps."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import reduce
from itertools import combinations
from math import gcd

import pandas as pd

Closed = list[tuple[int, int]]  # closed intervals of µs stamps, sorted and disjoint


@dataclass(frozen=True, slots=True)
class EvalSpan:
    """The evaluations of one SLO's rules: every ``step_us`` from ``first_us`` to ``last_us``."""

    step_us: int
    first_us: int
    last_us: int

    @classmethod
    def of(cls, evaluated_at: pd.Index, step: pd.Timedelta) -> EvalSpan:
        stamps = pd.DatetimeIndex(evaluated_at).as_unit("us").asi8
        return cls(max(step.value // 1000, 1), int(stamps[0]), int(stamps[-1]))


def firing_share(spans: Sequence[EvalSpan], runs: pd.DataFrame) -> float:
    """Share of the evaluations (on the union of ``spans``) at which a rule with these firing
    ``runs`` (``start``, ``end`` = first evaluation not firing, ``open``) was firing."""
    if not spans:
        return 0.0
    starts = pd.DatetimeIndex(runs["start"]).as_unit("us").asi8
    ends = pd.DatetimeIndex(runs["end"]).as_unit("us").asi8
    firing = [(int(a), int(b) if bool(o) else int(b) - 1) for a, b, o in zip(starts, ends, runs["open"], strict=True)]
    total = evaluations(spans)
    return evaluations(spans, firing) / total if total else 0.0


def evaluations(spans: Iterable[EvalSpan], within: Closed | None = None) -> int:
    """Evaluation instants of the union of ``spans`` (inside the closed intervals ``within``)."""
    groups: dict[tuple[int, int], Closed] = {}
    for s in spans:
        groups.setdefault((s.step_us, s.first_us % s.step_us), []).append((s.first_us, s.last_us))
    ranges = {
        key: _intersect(_merge(found), within) if within is not None else _merge(found) for key, found in groups.items()
    }
    keys = sorted(ranges)
    total = 0
    for k in range(1, len(keys) + 1):
        for subset in combinations(keys, k):
            congruence: tuple[int, int] | None = (0, 1)
            for key in subset:
                congruence = _combine(congruence, key)
            if congruence is None:
                continue
            shared = reduce(_intersect, (ranges[key] for key in subset[1:]), ranges[subset[0]])
            total += (-1) ** (k + 1) * sum(_count(congruence, lo, hi) for lo, hi in shared)
    return total


def _combine(acc: tuple[int, int] | None, key: tuple[int, int]) -> tuple[int, int] | None:
    """x ≡ r1 (mod m1) and x ≡ r2 (mod m2) as one congruence (None when they never meet)."""
    if acc is None:
        return None
    (r1, m1), (m2, r2) = acc, key
    g = gcd(m1, m2)
    if (r2 - r1) % g:
        return None
    lcm = m1 // g * m2
    step = (r2 - r1) // g * pow(m1 // g, -1, m2 // g) % (m2 // g) if m2 // g > 1 else 0
    return (r1 + m1 * step) % lcm, lcm


def _count(congruence: tuple[int, int], lo: int, hi: int) -> int:
    """Integers x ≡ r (mod m) with lo ≤ x ≤ hi."""
    r, m = congruence
    return max((hi - r) // m - -((r - lo) // m) + 1, 0)


def _merge(found: Closed) -> Closed:
    out: Closed = []
    for lo, hi in sorted(found):
        if out and lo <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], hi))
        else:
            out.append((lo, hi))
    return out


def _intersect(a: Closed, b: Closed) -> Closed:
    """The intersection of two sorted lists of disjoint closed intervals."""
    out: Closed = []
    i = j = 0
    b = _merge(b)
    while i < len(a) and j < len(b):
        lo, hi = max(a[i][0], b[j][0]), min(a[i][1], b[j][1])
        if lo <= hi:
            out.append((lo, hi))
        if a[i][1] < b[j][1]:
            i += 1
        else:
            j += 1
    return out
