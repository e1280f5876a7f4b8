"""Load tests in the SLO proposal: the latency each target needs under the test's load, and
where each latency threshold in force falls in the test's distribution ("300 ms is p99.2
under the load test").

A load test has no time axis, so it never feeds an error budget, an alert replay or a window
count (docs/slo.md, "Load tests").
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import PurePath
from typing import Any

from srekit.core.spec import SLOSpec
from srekit.inputs.loadtest import LoadTest

#: Percentiles every load test reports.
PERCENTILES = (0.5, 0.9, 0.99, 0.999)


@dataclass(frozen=True, slots=True)
class ThresholdUnderLoad:
    """One latency threshold in force and the share of the test's requests within it."""

    slo: str
    threshold_ms: float
    target: float
    share_within: float  # of the load test's requests at or below the threshold

    @property
    def meets_target(self) -> bool:
        return self.share_within >= self.target

    def to_dict(self) -> dict[str, Any]:
        return {
            "slo": self.slo,
            "threshold_ms": self.threshold_ms,
            "target": self.target,
            "share_within": self.share_within,
            "meets_target": self.meets_target,
        }


@dataclass(frozen=True, slots=True)
class LoadTestResult:
    """What one load test says: its size, its percentiles, the threshold each candidate target
    needs under its load, and where the thresholds in force fall."""

    source: str
    test: LoadTest
    percentiles: tuple[tuple[float, float], ...]  # (share, ms)
    thresholds: tuple[tuple[float, float], ...]  # (target, ms): the smallest recorded latency meeting it
    in_force: tuple[ThresholdUnderLoad, ...]

    def to_dict(self) -> dict[str, Any]:
        return {
            **self.test.to_dict(),
            "file": PurePath(self.source).name,
            "percentiles": [{"share": q, "value_ms": v} for q, v in self.percentiles],
            "thresholds": [{"target": t, "threshold_ms": v} for t, v in self.thresholds],
            "slos": [x.to_dict() for x in self.in_force],
        }


def loadtest_results(
    tests: Sequence[LoadTest], specs: Sequence[SLOSpec], targets: Sequence[float]
) -> tuple[LoadTestResult, ...]:
    """Each load test against the candidate ``targets`` and the latency and timeslice SLOs in force."""
    out = []
    for test in tests:
        if not test.requests:
            continue
        in_force = tuple(
            ThresholdUnderLoad(s.name, float(s.threshold_ms), s.target, test.share_within(float(s.threshold_ms)))
            for s in specs
            if s.sli == "latency" and s.threshold_ms is not None  # a timeslice threshold bounds a mean, not requests
        )
        out.append(
            LoadTestResult(
                test.source,
                test,
                tuple((q, test.threshold_for(q)) for q in PERCENTILES),
                tuple((t, test.threshold_for(t)) for t in sorted(set(targets))),
                in_force,
            )
        )
    return tuple(out)
