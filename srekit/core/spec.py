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
Severity = Literal["page", "ticket"]


@dataclass(frozen=True, slots=True)
class AlertWindowSpec:
    """One burn-rate condition of an alert policy, as data (what a spec file says, before it is
    checked against the SLO): fires while the bad ratio over ``long_window`` (and, multiwindow,
    over ``short_window`` too) exceeds ``burn_rate × (1 − target)``, once it has held for ``pending``
    (Prometheus ``for:``)."""

    severity: Severity
    long_window: pd.Timedelta
    burn_rate: float
    short_window: pd.Timedelta | None = None  # None: a single window (slo-generator, OpenSLO)
    pending: pd.Timedelta = pd.Timedelta(0)
    alert: str | None = None  # the alert (or policy step) name the source tool gives it

    def __post_init__(self) -> None:
        if self.severity not in ("page", "ticket"):
            raise ValueError(f"alert severity must be page or ticket, got {self.severity!r}")
        if self.long_window <= pd.Timedelta(0) or self.burn_rate <= 0:
            raise ValueError("an alert window and its burn rate must be positive")
        if self.short_window is not None and not pd.Timedelta(0) < self.short_window <= self.long_window:
            raise ValueError("need 0 < short window ≤ long window")
        if self.pending < pd.Timedelta(0):
            raise ValueError("the pending time (for:) cannot be negative")


@dataclass(frozen=True, slots=True)
class AlertPolicySpec:
    """An SLO's alert policy as its source tool generates it (Sloth, Pyrra, OpenSLO,
    slo-generator, or written in service.yaml). ``rules`` empty: the source disables alerting.

    slo-generator decides on rounded numbers: the SLI to ``sli_decimals`` (6), then the burn
    rate to ``burn_rate_decimals`` (1) before the ``>`` comparison; ``None`` compares unrounded
    ratios, as a Prometheus rule does."""

    source: str
    rules: tuple[AlertWindowSpec, ...] = ()
    sli_decimals: int | None = None
    burn_rate_decimals: int | None = None

    def __post_init__(self) -> None:
        if not self.source:
            raise ValueError("an alert policy names its source")
        for d in (self.sli_decimals, self.burn_rate_decimals):
            if d is not None and not 0 <= d <= 12:
                raise ValueError(f"rounding decimals must be in [0, 12], got {d}")


@dataclass(frozen=True, slots=True)
class SliQueries:
    """The PromQL of an imported SLI: bad and total event rates, with ``{{window}}`` where the
    rate window goes (kept verbatim from the spec, so exported rules query what it queried)."""

    errors: str
    total: str

    def __post_init__(self) -> None:
        if "{{window}}" not in self.errors or "{{window}}" not in self.total:
            raise ValueError("both SLI queries need a {{window}} placeholder")

    def render(self, window: str) -> tuple[str, str]:
        """``(bad, total)`` with the placeholder replaced by ``window`` (e.g. ``5m``)."""
        return self.errors.replace("{{window}}", window), self.total.replace("{{window}}", window)


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
    queries: SliQueries | None = None  # imported PromQL (None: built from service.yaml `prometheus:`)
    alerting: AlertPolicySpec | None = None  # imported policy (None: srekit designs the Workbook's)
    origin: str | None = None  # where it was defined, e.g. ``slos/checkout.yml:12``

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
