"""Timestamp normalisation of input files: every stamp becomes timezone-aware UTC.

Rule (documented in README "Timestamps"):

* Stamps with an offset (``Z``, ``+02:00``) are converted to UTC exactly.
* Naive stamps are read as wall-clock time in the configured timezone (default UTC).
* A wall time that occurs twice (the repeated hour when DST ends) is *ambiguous*: the first
  occurrence of that wall time in file order is taken as the earlier (summer-time) instant, a
  later occurrence of the same wall time as the later (standard-time) instant. Counted as
  ``dst_ambiguous_resolved``.
* A wall time that does not exist (the skipped hour when DST starts) is shifted forward to the
  first valid instant, as clocks did. Counted as ``dst_nonexistent_shifted``.
* A stamp that cannot be parsed is a row-level reject (reason ``unparseable timestamp``).
"""

from __future__ import annotations

import zoneinfo
from dataclasses import dataclass

import numpy as np
import pandas as pd

_OFFSET_RE = r"(?:[zZ]|[+-]\d{2}:?\d{2})\s*$"


@dataclass(frozen=True, slots=True)
class ParsedTimes:
    """UTC stamps (``NaT`` where unparseable) plus counts for the ledger."""

    utc: pd.Series
    unparseable: np.ndarray  # boolean mask, True where the input could not be parsed
    ambiguous_resolved: int
    nonexistent_shifted: int
    with_offset: int
    naive: int


def parse_utc(values: pd.Series, tz: str = "UTC") -> ParsedTimes:
    """Parse a column of stamps (text, datetimes or epoch seconds) into UTC.

    Parameters
    ----------
    values : Series of str / datetime64 / numbers (epoch seconds).
    tz : IANA timezone for naive stamps.
    """
    idx = values.index
    if pd.api.types.is_datetime64_any_dtype(values):
        s = values
        if getattr(s.dt, "tz", None) is not None:
            out = s.dt.tz_convert("UTC")
            return ParsedTimes(out, out.isna().to_numpy(), 0, 0, int(out.notna().sum()), 0)
        return _localize(s, tz, int(s.notna().sum()), np.zeros(len(s), bool) | s.isna().to_numpy())
    if pd.api.types.is_numeric_dtype(values):
        out = pd.to_datetime(values, unit="s", utc=True, errors="coerce")
        return ParsedTimes(out, out.isna().to_numpy(), 0, 0, int(out.notna().sum()), 0)

    text = values.astype("str").str.strip()
    missing = values.isna().to_numpy() | (text == "").to_numpy()
    has_off = text.str.contains(_OFFSET_RE, regex=True).to_numpy() & ~missing
    result = pd.Series(pd.NaT, index=idx, dtype="datetime64[us, UTC]")
    if has_off.any():
        aware = pd.to_datetime(text[has_off], utc=True, errors="coerce", format="ISO8601")
        result.loc[has_off] = aware
    naive_mask = ~has_off & ~missing
    amb = nonex = 0
    if naive_mask.any():
        parsed = pd.to_datetime(text[naive_mask], errors="coerce", format="ISO8601")
        bad_iso = parsed.isna()
        if bad_iso.any():  # fall back to pandas' flexible parser for odd layouts
            parsed.loc[bad_iso] = pd.to_datetime(text[naive_mask][bad_iso], errors="coerce", format="mixed")
        loc = _localize(parsed, tz, 0, parsed.isna().to_numpy())
        result.loc[naive_mask] = loc.utc
        amb, nonex = loc.ambiguous_resolved, loc.nonexistent_shifted
    bad = result.isna().to_numpy()
    return ParsedTimes(result, bad, amb, nonex, int(has_off.sum()), int(naive_mask.sum()))


def _localize(naive: pd.Series, tz: str, with_offset: int, bad: np.ndarray) -> ParsedTimes:
    """Localise naive wall times with the module's DST rule."""
    naive = pd.to_datetime(naive)
    if tz == "UTC":
        out = naive.dt.tz_localize("UTC")
        return ParsedTimes(out, out.isna().to_numpy(), 0, 0, with_offset, int(naive.notna().sum()))
    probe = naive.dt.tz_localize(tz, ambiguous="NaT", nonexistent="NaT")
    problem = probe.isna() & naive.notna()
    amb_flags = np.ones(len(naive), dtype=bool)  # True = DST (earlier instant)
    n_amb = 0
    if problem.any():
        earlier = naive[problem].dt.tz_localize(tz, ambiguous=True, nonexistent="NaT")
        is_amb = earlier.notna()
        amb_pos = np.flatnonzero(problem.to_numpy())[is_amb.to_numpy()]
        if len(amb_pos):
            walls = naive.iloc[amb_pos]
            occurrence = walls.groupby(walls.to_numpy()).cumcount().to_numpy()
            amb_flags[amb_pos] = occurrence == 0
            n_amb = int((occurrence > 0).sum() + (occurrence == 0).sum())
    n_nonex = int(problem.sum()) - n_amb
    out = naive.dt.tz_localize(tz, ambiguous=amb_flags, nonexistent="shift_forward").dt.tz_convert("UTC")
    return ParsedTimes(out, bad | out.isna().to_numpy(), n_amb, n_nonex, with_offset, int(naive.notna().sum()))


def is_timezone(tz: str) -> bool:
    """Whether ``tz`` is an IANA time zone name this machine knows (``Europe/Berlin``, ``UTC``)."""
    try:
        zoneinfo.ZoneInfo(tz)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError, TypeError):
        return False
    return True
