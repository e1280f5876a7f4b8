"""The data-quality ledger: for every input file, rows read / accepted / rejected by reason,
the time range and notes (DST repeats, gaps). Nothing is dropped without an entry here."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

import pandas as pd

from srekit.core.errors import InputError


def _frozen(d: Mapping[str, int] | None) -> Mapping[str, int]:
    return MappingProxyType(dict(d or {}))


@dataclass(frozen=True, slots=True)
class LedgerEntry:
    """What loading one input did.

    ``rejected`` maps a reason (``"negative latency_ms"``) to a row count; ``notes`` maps an
    observation that did not reject rows (``"dst_ambiguous_resolved"``, ``"gaps"``) to a count.
    """

    kind: str
    source: str
    rows_read: int
    rows_accepted: int
    rejected: Mapping[str, int] = field(default_factory=dict)
    notes: Mapping[str, int] = field(default_factory=dict)
    start: pd.Timestamp | None = None
    end: pd.Timestamp | None = None
    quarantine: str | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "rejected", _frozen(self.rejected))
        object.__setattr__(self, "notes", _frozen(self.notes))
        if self.rows_read < 0 or self.rows_accepted < 0:
            raise ValueError("row counts cannot be negative")
        if self.rows_accepted + self.rows_rejected != self.rows_read:
            raise ValueError(
                f"ledger for {self.source} does not add up: read {self.rows_read}, accepted "
                f"{self.rows_accepted}, rejected {self.rows_rejected}"
            )

    @property
    def rows_rejected(self) -> int:
        return int(sum(self.rejected.values()))

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "source": self.source,
            "rows_read": self.rows_read,
            "rows_accepted": self.rows_accepted,
            "rows_rejected": self.rows_rejected,
            "rejected": dict(self.rejected),
            "notes": dict(self.notes),
            "start": None if self.start is None else self.start.isoformat(),
            "end": None if self.end is None else self.end.isoformat(),
            "quarantine": self.quarantine,
        }


def require_usable(entries: Iterable[LedgerEntry], config_path: Path | None = None) -> None:
    """Raise :class:`~srekit.core.errors.InputError` for the first input whose every row was
    rejected: a file named in service.yaml that yields nothing is unusable (exit 2), not a report
    that silently lacks it. The message names the file, the main reasons and where to look."""
    for entry in entries:
        if entry.rows_read > 0 and entry.rows_accepted == 0:
            reasons = sorted(entry.rejected.items(), key=lambda kv: -kv[1])[:3]
            where = config_path or "service.yaml"
            raise InputError(
                f"every row of data.{entry.kind} was rejected (file {entry.source}; {entry.rows_read:,} rows: "
                + "; ".join(f"{reason}: {n:,}" for reason, n in reasons)
                + f"). fix: check the file against docs/inputs.md and data.{entry.kind}_columns, data."
                f"{entry.kind}_format and timezone in {where} (`srekit validate {entry.kind} FILE` shows each reason)"
            )


def ledger_frame(entries: list[LedgerEntry]) -> pd.DataFrame:
    """One row per input for display (notebooks, report)."""
    rows = [
        {
            "kind": e.kind,
            "source": e.source,
            "rows read": e.rows_read,
            "accepted": e.rows_accepted,
            "rejected": e.rows_rejected,
            "reasons": "; ".join(f"{k}: {v}" for k, v in e.rejected.items()),
            "notes": "; ".join(f"{k}: {v}" for k, v in e.notes.items()),
            "from": e.start,
            "to": e.end,
        }
        for e in entries
    ]
    return pd.DataFrame(rows)


@dataclass(frozen=True, slots=True)
class Loaded:
    """A loaded input: the canonical frame, its ledger entry and the rejected rows (the
    original row number in ``row``, the original values, and a ``reason`` column)."""

    frame: pd.DataFrame
    entry: LedgerEntry
    rejects: pd.DataFrame
