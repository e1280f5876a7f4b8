"""Specifications shared by the analyses: what an SLO is.

Terms follow the OpenSLO v1 spec (budgetingMethod ``Occurrences`` / ``Timeslices``; rolling or
calendar time windows) and the SRE Workbook ("Implementing SLOs").
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import pandas as pd

SliKind = Literal["availability", "latency", "timeslice"]
Budgeting = Literal["Occurrences", "Timeslices"]
WindowKind = Literal["rolling", "calendar_month"]


@dataclass(frozen=True, slots=True)
class SLOSpec:
    """One service level objective.

    ``availability``: good = non-error requests. ``latency``: good = requests with latency
    ≤ ``threshold_ms`` (a bucket edge). ``timeslice``: an interval of a per-interval statistic
    (gauge series) is good when the statistic ≤ ``threshold_ms``.

    With ``budgeting="Timeslices"`` a slice of length ``timeslice_window`` is good when its own
    good ratio ≥ ``timeslice_target``; the objective then counts good slices.
    """

    name: str
    journey: str
    sli: SliKind
    target: float
    window: pd.Timedelta = pd.Timedelta(days=28)
    window_kind: WindowKind = "rolling"
    budgeting: Budgeting = "Occurrences"
    threshold_ms: float | None = None
    timeslice_target: float | None = None
    timeslice_window: pd.Timedelta | None = None

    def __post_init__(self) -> None:
        if not self.name:
            raise ValueError("an SLO needs a name")
        if not 0.0 < self.target < 1.0:
            raise ValueError(f"SLO {self.name}: target must be in (0, 1), got {self.target}")
        if self.sli not in ("availability", "latency", "timeslice"):
            raise ValueError(f"SLO {self.name}: unknown SLI kind {self.sli!r}")
        if self.sli in ("latency", "timeslice") and (self.threshold_ms is None or self.threshold_ms <= 0):
            raise ValueError(f"SLO {self.name}: a {self.sli} SLO needs a positive threshold_ms")
        if self.window <= pd.Timedelta(0):
            raise ValueError(f"SLO {self.name}: window must be positive")
        if self.budgeting not in ("Occurrences", "Timeslices"):
            raise ValueError(f"SLO {self.name}: budgeting must be Occurrences or Timeslices")
        if self.budgeting == "Timeslices":
            if self.timeslice_target is None or not 0.0 < self.timeslice_target <= 1.0:
                raise ValueError(f"SLO {self.name}: Timeslices budgeting needs timeslice_target in (0, 1]")
            if self.timeslice_window is None or self.timeslice_window <= pd.Timedelta(0):
                raise ValueError(f"SLO {self.name}: Timeslices budgeting needs a positive timeslice_window")

    @property
    def error_budget(self) -> float:
        """Allowed bad fraction, 1 − target."""
        return 1.0 - self.target
