"""Load-test latency distributions: the HdrHistogram percentile spectrum ``wrk2 -L`` prints
(and HdrHistogram's own ``outputPercentileDistribution``, as text or CSV).

A load test has no time axis: it is a latency distribution of N requests under a known load,
good for comparing a threshold with ("300 ms is p99.2 under the load test") and for threshold
proposals before production telemetry exists, never for error budgets or alert replays.

The spectrum's rows are ``Value Percentile TotalCount 1/(1-Percentile)``: TotalCount requests
took at most Value. wrk2 prints Value in milliseconds; a bare HdrHistogram output has the unit
its producer scaled it to (``data.loadtest_unit``, else milliseconds, stated as assumed).
Fields and checks: docs/inputs.md, "loadtest".
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from srekit.core.errors import input_error
from srekit.inputs.ledger import LedgerEntry, Loaded

#: Milliseconds per unit of the spectrum's Value column.
UNITS: dict[str, float] = {"ms": 1.0, "s": 1000.0, "us": 0.001}
#: The table header of a percentile spectrum (text or CSV), ignoring spaces, quotes and case.
_HEADER = re.compile(r"^\W*value\W+percentile\W+totalcount\W+1/\(1-percentile\)\W*$", re.IGNORECASE)
_NUMBER = r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?"
_SEP = r'"?\s*[,\s]\s*"?'
_ROW = re.compile(rf'^\s*"?({_NUMBER}){_SEP}({_NUMBER}){_SEP}(\d+){_SEP}({_NUMBER}|inf|infinity)"?\s*$', re.IGNORECASE)
_RUNNING = re.compile(r"^Running\s+(\d+(?:\.\d+)?)([smhd])\s+test\s+@", re.IGNORECASE)
_REQUESTS = re.compile(r"^\s*(\d+)\s+requests\s+in\s+(\d+(?:\.\d+)?)([smhd]|ms|us)\b", re.IGNORECASE)
_RATE = re.compile(r"^\s*Requests/sec:\s*(" + _NUMBER + ")", re.IGNORECASE)
_SECONDS = {"us": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0}
#: Most bytes read from one load-test output (wrk2 prints a few hundred lines).
MAX_BYTES = 20_000_000


@dataclass(frozen=True, slots=True)
class LoadTest:
    """One load test's latency distribution: ``counts[i]`` requests took at most ``value_ms[i]``."""

    source: str
    value_ms: np.ndarray  # non-decreasing
    counts: np.ndarray  # cumulative requests at or below value_ms, non-decreasing
    unit: str  # ms | s | us: the unit of the file's Value column
    unit_known: bool  # the unit is known (wrk2, or data.loadtest_unit), not assumed
    tool: str  # wrk2 | hdrhistogram
    duration_s: float | None = None  # how long the test ran (wrk2's header)
    requests_reported: int | None = None  # requests the tool reports (wrk2 counts calibration too)
    requests_per_s: float | None = None

    @property
    def requests(self) -> int:
        """Requests in the histogram (its largest TotalCount)."""
        return int(self.counts[-1]) if len(self.counts) else 0

    def share_within(self, threshold_ms: float) -> float:
        """Share of the histogram's requests that took at most ``threshold_ms`` (the spectrum's
        last row at or below it: exact at a recorded value, a lower bound between two)."""
        i = int(np.searchsorted(self.value_ms, threshold_ms, side="right")) - 1
        return 0.0 if i < 0 or not self.requests else float(self.counts[i]) / float(self.requests)

    def threshold_for(self, target: float) -> float:
        """The smallest recorded value within which at least ``target`` of the requests finished."""
        need = target * self.requests
        i = int(np.searchsorted(self.counts, need - 1e-9 * max(need, 1.0), side="left"))
        return float(self.value_ms[min(i, len(self.value_ms) - 1)])

    def to_dict(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "tool": self.tool,
            "requests": self.requests,
            "requests_reported": self.requests_reported,
            "duration_s": self.duration_s,
            "requests_per_s": self.requests_per_s,
            "unit": self.unit,
            "unit_known": self.unit_known,
            "max_ms": float(self.value_ms[-1]) if len(self.value_ms) else None,
        }


def _lines(path: Path) -> list[str]:
    if not path.is_file():
        raise input_error("the load-test output does not exist", file=str(path), fix="check data.loadtest")
    size = path.stat().st_size
    if size > MAX_BYTES:
        raise input_error(
            f"{size:,} bytes is more than a load-test output holds (at most {MAX_BYTES:,})",
            file=str(path),
            fix="point data.loadtest at the wrk2 -L output (or HdrHistogram percentile distribution)",
        )
    try:
        return path.read_text(encoding="utf-8-sig").splitlines()
    except UnicodeDecodeError as exc:
        raise input_error("the load-test output is not UTF-8 text", file=str(path), fix="save it as UTF-8") from exc


def _spectrum(lines: list[str], source: str) -> tuple[int, list[tuple[int, str]]]:
    """Index of the (first) spectrum header and its table lines (line number, text) up to the
    first blank line or ``#[`` footer."""
    start = next((i for i, line in enumerate(lines) if _HEADER.match(line.strip())), None)
    if start is None:
        raise input_error(
            "no HdrHistogram percentile spectrum (a `Value Percentile TotalCount 1/(1-Percentile)` table)",
            file=source,
            expected="the output of wrk2 with -L (--latency), or HdrHistogram's outputPercentileDistribution",
            got=" / ".join(line.strip() for line in lines[:3] if line.strip())[:200] or "an empty file",
            fix="run wrk2 with -L and save its whole output (wrk2 -L ... > result.out)",
        )
    table: list[tuple[int, str]] = []
    for i in range(start + 1, len(lines)):
        text = lines[i].strip()
        if not text and not table:
            continue  # wrk2 leaves one blank line under the header
        if not text or text.startswith(("#", "-")):
            break
        table.append((i + 1, text))
    return start, table


def _header_facts(lines: list[str]) -> dict[str, Any]:
    """What wrk2 prints around the spectrum: the test's length, requests and rate."""
    facts: dict[str, Any] = {"tool": "hdrhistogram"}
    for line in lines:
        if m := _RUNNING.match(line.strip()):
            facts["tool"] = "wrk2"
            facts["duration_s"] = float(m.group(1)) * _SECONDS[m.group(2).lower()]
        elif m := _REQUESTS.match(line):
            facts["requests_reported"] = int(m.group(1))
            facts.setdefault("duration_s", float(m.group(2)) * _SECONDS[m.group(3).lower()])
        elif m := _RATE.match(line):
            facts["requests_per_s"] = float(m.group(1))
        elif "HdrHistogram - Recorded Latency" in line:
            facts["tool"] = "wrk2"
    return facts


def _parse_rows(table: list[tuple[int, str]]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Accepted rows (value, percentile, total_count) and rejected ones (row, line, reason)."""
    good, bad = [], []
    last_value, last_count = -np.inf, -1
    for k, (_lineno, text) in enumerate(table, start=1):
        m = _ROW.match(text)
        if m is None:
            bad.append({"row": k, "line": text, "reason": "not a spectrum row"})
            continue
        value, pct, count = float(m.group(1)), float(m.group(2)), int(m.group(3))
        if not (np.isfinite(value) and value >= 0 and 0.0 <= pct <= 1.0):
            bad.append({"row": k, "line": text, "reason": "value or percentile out of range"})
        elif value < last_value or count < last_count:
            bad.append({"row": k, "line": text, "reason": "spectrum not increasing"})
        else:
            good.append({"value": value, "percentile": pct, "total_count": count})
            last_value, last_count = value, count
    columns = ["value", "percentile", "total_count"]
    return pd.DataFrame(good, columns=columns), pd.DataFrame(bad, columns=["row", "line", "reason"])


def load_loadtest(path: str | Path, *, unit: str | None = None) -> tuple[LoadTest, Loaded]:
    """Read one load-test output into a :class:`LoadTest` (and a :class:`Loaded` for the ledger:
    one row per spectrum line; lines that do not parse, or go backwards, are rejected)."""
    p = Path(path)
    source = str(p)
    lines = _lines(p)
    _start, table = _spectrum(lines, source)
    frame, rejects = _parse_rows(table)
    if frame.empty:
        raise input_error(
            "no usable row in the percentile spectrum",
            file=source,
            rows=[int(r) for r in rejects["row"].head(5)],
            expected="rows of four numbers: Value Percentile TotalCount 1/(1-Percentile)",
            fix="save wrk2's whole output unchanged",
        )
    facts = _header_facts(lines)
    chosen = unit or "ms"
    scale = UNITS[chosen]
    known = unit is not None or facts["tool"] == "wrk2"
    notes = {} if known else {"unit_assumed_ms": 1}
    entry = LedgerEntry(
        kind="loadtest",
        source=source,
        rows_read=len(table),
        rows_accepted=len(frame),
        rejected={str(k): int(v) for k, v in rejects["reason"].value_counts().items()},
        notes=notes,
    )
    test = LoadTest(
        source=source,
        value_ms=frame["value"].to_numpy(float) * scale,
        counts=frame["total_count"].to_numpy(np.int64),
        unit=chosen,
        unit_known=known,
        tool=str(facts["tool"]),
        duration_s=facts.get("duration_s"),
        requests_reported=facts.get("requests_reported"),
        requests_per_s=facts.get("requests_per_s"),
    )
    return test, Loaded(frame=frame, entry=entry, rejects=rejects)
