"""The data-quality ledger: for every input file, rows read / accepted / rejected by reason,
the time range and notes (DST repeats, gaps). Nothing is dropped without an entry here."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from srekit.core.lazy import LazyModule

if TYPE_CHECKING:
    import pandas as pd
else:
    pd = LazyModule("pandas")


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
    start: datetime | None = None  # UTC; a pd.Timestamp or, from ``srekit aggregate``, a datetime
    end: datetime | None = None
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
    naive_stamps: int = 0  # stamps without an offset, read as wall time in the configured timezone
    interval: pd.Timedelta | None = None  # the interval length the file declares (interval_s / interval_end)
    #: telemetry with label columns (``region``, …): the rows per (journey, labels, interval), before
    #: ``frame`` summed them per (journey, interval); None without labels
    labels: pd.DataFrame | None = None
