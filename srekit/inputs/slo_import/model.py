"""What an import returns: the SLOs it mapped, what it could not map (file, line, reason) and
notes on how the mapping reads the spec (e.g. which journey's telemetry replays an SLO)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from srekit.core.errors import ConfigError
from srekit.core.spec import SLOSpec

FORMATS = ("sloth", "pyrra", "openslo", "slo-generator")


@dataclass(frozen=True, slots=True)
class Unmapped:
    """One SLO (or part of one) srekit could not map, and why."""

    file: str
    line: int | None
    item: str
    reason: str

    @property
    def where(self) -> str:
        return f"{self.file}:{self.line}" if self.line else self.file

    def to_dict(self) -> dict[str, Any]:
        return {"file": self.file, "line": self.line, "item": self.item, "reason": self.reason}


@dataclass(frozen=True, slots=True)
class ImportOptions:
    """How to read specs that leave something to the tool's command line.

    period : the SLO period when the spec has none (Sloth's ``--default-slo-period``, 30d;
        slo-generator: the longest error-budget-policy step).
    windows : Sloth ``AlertWindows`` files (a file or a folder, Sloth's ``--slo-period-windows-path``).
    policy : slo-generator's shared config (``error_budget_policies``) or a v1 policy file.
    journeys : SLO name → the telemetry journey that replays it.
    journey_label : the label whose equality matcher names the journey (``prometheus.journey_label``).
    """

    period: pd.Timedelta | None = None
    windows: Path | None = None
    policy: Path | None = None
    policy_name: str | None = None
    journeys: Mapping[str, str] = field(default_factory=dict)
    journey_label: str = "handler"


@dataclass(frozen=True, slots=True)
class ImportResult:
    """The SLOs mapped, what was not, and notes; ``service`` when the specs name one."""

    fmt: str
    files: tuple[str, ...]
    specs: tuple[SLOSpec, ...] = ()
    unmapped: tuple[Unmapped, ...] = ()
    notes: tuple[str, ...] = ()
    service: str | None = None
    prometheus: Mapping[str, str] = field(default_factory=dict)  # service.yaml `prometheus:` the queries imply

    def to_dict(self) -> dict[str, Any]:
        return {
            "format": self.fmt,
            "files": list(self.files),
            "service": self.service,
            "slos": [s.name for s in self.specs],
            "unmapped": [u.to_dict() for u in self.unmapped],
            "notes": list(self.notes),
        }


def merge(results: Sequence[ImportResult]) -> ImportResult:
    """Several imports as one (names must stay unique across them)."""
    specs = tuple(s for r in results for s in r.specs)
    names = [s.name for s in specs]
    dup = sorted({n for n in names if names.count(n) > 1})
    if dup:
        raise ConfigError(f"imported SLO names {dup} appear more than once. fix: rename them in their spec files")
    return ImportResult(
        fmt="+".join(dict.fromkeys(r.fmt for r in results)) or "none",
        files=tuple(f for r in results for f in r.files),
        specs=specs,
        unmapped=tuple(u for r in results for u in r.unmapped),
        notes=tuple(n for r in results for n in r.notes),
        service=next((r.service for r in results if r.service), None),
        prometheus=next((r.prometheus for r in results if r.prometheus), {}),
    )


def spec_error(file: str, line: int | None, problem: str, fix: str) -> ConfigError:
    """A malformed spec: names the file and line, the problem and the fix."""
    where = f"{file}:{line}" if line else file
    return ConfigError(f"{where}: {problem}. fix: {fix}")
