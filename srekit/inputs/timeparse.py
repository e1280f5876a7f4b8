"""Timestamp normalisation of input files: every stamp becomes timezone-aware UTC (docs/inputs.md,
"Timestamps").

Accepted forms (anything else is unparseable, a row-level reject):

* **ISO 8601 / RFC 3339 with a calendar date**: ``YYYY-MM-DD``, optionally followed by ``T`` or
  a blank and ``HH``, ``HH:MM``, ``HH:MM:SS`` or ``HH:MM:SS.fraction`` (up to 9 digits, cut to
  microseconds), optionally followed by an offset ``Z``, ``±HH``, ``±HHMM``, ``±HH:MM`` or the word
  ``UTC``/``GMT``; letters in any case. A time without a date (``12:00``) is refused: it would take
  the day the file happens to be read.
* **Epoch numbers** (all digits, optionally a fraction), by magnitude of the integer part: up to
  11 digits seconds, 12–14 milliseconds, 15–17 microseconds, 18–19 nanoseconds. Converted with
  integer arithmetic (exact to the microsecond). A sign, an exponent or more digits are refused.
* Parquet datetime columns (with or without a zone) and numeric columns (epoch by the same
  magnitudes).

Range: a parsed stamp outside the years ``limits.min_year`` .. ``limits.max_year`` (UTC,
default 1990..2099) is *out of range*, a reject of its own (epoch 0 or ``-1``, a 14-digit epoch
and the year 9999 are broken exports, not history).

Zones:

* Stamps with an offset (``Z``, ``+02:00``) are converted to UTC exactly; epoch numbers are UTC.
* Naive stamps are read as wall-clock time in the configured timezone (default UTC).
* A wall time that occurs twice (the repeated hour when DST ends) is *ambiguous*: the first
  occurrence of that wall time in file order is taken as the earlier (summer-time) instant, a
  later occurrence of the same wall time as the later (standard-time) instant. Counted as
  ``dst_ambiguous_resolved``.
* A wall time that does not exist (the skipped hour when DST starts) is shifted forward to the
  first valid instant, as clocks did. Counted as ``dst_nonexistent_shifted``.
"""

from __future__ import annotations

import zoneinfo
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from srekit.core.lazy import LazyModule
from srekit.core.limits import DEFAULT_LIMITS, YEAR_CEILING, YEAR_FLOOR, Limits
from srekit.inputs.columns import text_cells

if TYPE_CHECKING:
    import pandas as pd
else:
    pd = LazyModule("pandas")

_DATE = r"\d{4}-\d{2}-\d{2}"
_TIME = r"(?:[T ]\d{2}(?::\d{2}(?::\d{2}(?:\.\d{1,9})?)?)?)?"
_OFFSET = r"(?:Z|[+-]\d{2}(?::?\d{2})?|\s*(?:UTC|GMT))"
#: ISO 8601 with a date, naive (matched on upper-cased, stripped text).
ISO_NAIVE_RE = _DATE + _TIME
#: ISO 8601 with a date and an offset.
ISO_OFFSET_RE = _DATE + _TIME + _OFFSET
#: Epoch numbers: digits, optionally a fraction.
EPOCH_RE = r"\d+(?:\.\d+)?"
#: Digits of an epoch's integer part → microseconds per unit (s, ms, µs; ns divide by 1000).
_EPOCH_UNITS = ((11, 1_000_000, 6), (14, 1_000, 3), (17, 1, 0))  # (max digits, µs per unit, fraction digits)
_EPOCH_MAX_DIGITS = 19
_INT64_MAX = str(np.iinfo(np.int64).max)
_US_PER_S = 1_000_000


@dataclass(frozen=True, slots=True)
class ParsedTimes:
    """UTC stamps (``NaT`` where unusable) plus masks and counts for the ledger."""

    utc: pd.Series
    unparseable: np.ndarray  # not an accepted form (missing values excluded)
    ambiguous_resolved: int
    nonexistent_shifted: int
    with_offset: int
    naive: int
    out_of_range: np.ndarray | None = None  # parsed, but outside limits.min_year..max_year

    @property
    def range_mask(self) -> np.ndarray:
        return np.zeros(len(self.utc), bool) if self.out_of_range is None else self.out_of_range


def stamp_bounds_us(limits: Limits = DEFAULT_LIMITS) -> tuple[int, int]:
    """[lo, hi) of accepted stamps in UTC microseconds since the epoch."""
    return _day_us(f"{limits.min_year:04d}-01-01"), _day_us(f"{limits.max_year + 1:04d}-01-01")


def _day_us(day: str) -> int:
    """Midnight UTC of an ISO date, in microseconds since the epoch."""
    return int(np.datetime64(day, "us").astype(np.int64))


def epoch_text_us(text: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Epoch numbers as text (``EPOCH_RE``) → (UTC µs, unusable mask), exactly.

    The unit comes from the number of digits of the integer part (leading zeros ignored):
    ≤ 11 seconds, ≤ 14 milliseconds, ≤ 17 microseconds, ≤ 19 nanoseconds; the fraction is cut
    to whole microseconds. A longer number (or one beyond 64 bits) cannot be a stamp.
    """
    parts = text.str.partition(".")
    whole = parts[0].str.lstrip("0").replace("", "0")
    frac = parts[2].fillna("")
    digits = whole.str.len().to_numpy(dtype=np.int64)
    huge = (digits > _EPOCH_MAX_DIGITS) | ((digits == _EPOCH_MAX_DIGITS) & (whole > _INT64_MAX).to_numpy(dtype=bool))
    value = whole.where(~huge, "0").astype("int64").to_numpy()
    us = value // 1000  # nanoseconds (18-19 digits); the other units below
    lower = 0
    for upper, per_unit, frac_digits in _EPOCH_UNITS:
        sel = (digits > lower) & (digits <= upper)
        lower = upper
        if sel.any():
            us[sel] = value[sel] * per_unit
            if frac_digits:
                cut = frac[sel].str.slice(0, frac_digits).str.pad(frac_digits, side="right", fillchar="0")
                us[sel] += cut.astype("int64").to_numpy() * (per_unit // 10**frac_digits)
    return us, huge


def epoch_number_us(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Numeric epochs (int or float) → (UTC µs, unusable mask): the magnitudes of
    :func:`epoch_text_us` (seconds below 1e11, ms below 1e14, µs below 1e17, else ns). NaN and
    infinite values are unusable; negative and huge ones come out far outside any accepted range."""
    raw = np.asarray(values)
    v = raw.astype(float)
    bad = ~np.isfinite(v)
    mag = np.abs(np.where(bad, 0.0, v))
    per_us = np.select([mag < 1e11, mag < 1e14, mag < 1e17], [1e6, 1e3, 1.0], 1e-3)
    if np.issubdtype(raw.dtype, np.integer) and raw.dtype != np.uint64:  # exact for integers
        ints = raw.astype(np.int64)
        scale = np.where(per_us >= 1, per_us, 1).astype(np.int64)
        us = np.where(per_us >= 1, ints * scale, ints // 1000)
        return us.astype(np.int64), bad
    big = 2.0**62
    us = np.clip(np.where(bad, 0.0, v) * per_us, -big, big)
    return np.floor(us).astype(np.int64), bad


@dataclass(frozen=True, slots=True)
class TextStamps:
    """Text stamps before zones are applied: ``us`` holds UTC µs for epochs and stamps with an
    offset, naive wall-clock µs where ``naive`` is set (to be localised), and a far-off sentinel
    for ISO years beyond any accepted range (so the range check rejects them)."""

    us: np.ndarray
    missing: np.ndarray
    bad: np.ndarray  # not an accepted form, or not a calendar date/time
    naive: np.ndarray  # parsed naive wall times (localise these)
    with_offset: int


_FAR_LOW, _FAR_HIGH = np.iinfo(np.int64).min + 1, np.iinfo(np.int64).max
#: Wall times (µs) safely inside pandas' nanosecond range, where time zones can be applied.
WALL_FLOOR_US = _day_us(f"{YEAR_FLOOR + 1:04d}-01-02")
WALL_CEILING_US = _day_us(f"{YEAR_CEILING - 1:04d}-12-30")


def parse_text(values: pd.Series) -> TextStamps:
    """Classify and parse text stamps by the accepted forms (module docstring)."""
    text = text_cells(values).str.strip().str.upper()
    missing = (values.isna() | (text == "")).to_numpy()
    n = len(text)
    us = np.zeros(n, dtype=np.int64)
    bad = np.zeros(n, dtype=bool)
    epoch = _match(text, EPOCH_RE) & ~missing
    if epoch.any():
        epoch_us, huge = epoch_text_us(text[epoch])
        us[epoch] = np.where(huge, _FAR_HIGH, epoch_us)  # more digits than any unit: out of range
    aware = _match(text, ISO_OFFSET_RE) & ~missing
    naive = _match(text, ISO_NAIVE_RE) & ~missing & ~epoch
    bad |= ~(epoch | aware | naive | missing)
    years = np.zeros(n, dtype=np.int64)
    if (aware | naive).any():
        years[aware | naive] = text[aware | naive].str.slice(0, 4).astype("int64").to_numpy()
    low, high = (aware | naive) & (years <= YEAR_FLOOR), (aware | naive) & (years >= YEAR_CEILING)
    us[low], us[high] = _FAR_LOW, _FAR_HIGH  # beyond pandas' range: out of range, whatever the limits
    sel = aware & ~low & ~high
    if sel.any():
        words = text[sel]
        if words.str.endswith(("UTC", "GMT")).any():
            words = words.str.replace(r"\s*(?:UTC|GMT)$", "Z", regex=True)
        parsed = _iso(words, utc=True)
        bad[sel] = parsed.isna().to_numpy()
        us[sel] = _as_us(parsed)
    sel = naive & ~low & ~high
    if sel.any():
        parsed = _iso(text[sel], utc=False)
        bad[sel] = parsed.isna().to_numpy()
        us[sel] = _as_us(parsed)
    naive_ok = naive & ~low & ~high & ~bad
    return TextStamps(us, missing, bad, naive_ok, int(((aware | epoch) & ~bad).sum()))


def parse_utc(values: pd.Series, tz: str = "UTC", limits: Limits = DEFAULT_LIMITS) -> ParsedTimes:
    """Parse a column of stamps (text, datetimes or epoch numbers) into UTC by the module's rules.

    Parameters
    ----------
    values : Series of str / datetime64 / numbers (epochs).
    tz : IANA timezone for naive stamps.
    limits : the accepted year range (``min_year``, ``max_year``).
    """
    if pd.api.types.is_datetime64_any_dtype(values):
        return _parse_datetimes(values, tz, limits)
    if pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values):
        missing = values.isna().to_numpy()
        us, bad = epoch_number_us(values.to_numpy(dtype=float, na_value=np.nan))
        return _finish(us, missing, bad & ~missing, values.index, limits, (0, 0, int((~missing & ~bad).sum()), 0))
    t = parse_text(values)
    us = t.us.copy()
    amb = nonex = 0
    if t.naive.any():
        walls = pd.Series(pd.to_datetime(us[t.naive], unit="us"))
        loc = _localize(walls, tz, 0, np.zeros(len(walls), bool))
        us[t.naive] = _as_us(loc.utc)
        amb, nonex = loc.ambiguous_resolved, loc.nonexistent_shifted
    return _finish(us, t.missing, t.bad, values.index, limits, (amb, nonex, t.with_offset, int(t.naive.sum())))


def _match(text: pd.Series, pattern: str) -> np.ndarray:
    """Whole-cell regular-expression match (pyarrow's RE2: pandas would fall back to Python's
    ``re`` for some patterns, 15× slower); False for missing cells."""
    arr = pa.array(text.astype("str"), type=pa.string(), from_pandas=True)
    hit = pc.match_substring_regex(arr, f"^(?:{pattern})$")
    return np.array(pc.fill_null(hit, False).to_numpy(zero_copy_only=False), dtype=bool)


def _iso(text: pd.Series, *, utc: bool) -> pd.Series:
    """ISO 8601 text (already checked against the module's patterns) → datetimes; NaT where the
    calendar says no (``2024-02-30``, ``24:00``)."""
    return pd.to_datetime(text, utc=utc, errors="coerce", format="ISO8601")


def _as_us(stamps: pd.Series) -> np.ndarray:
    """Datetimes (aware → UTC) as int64 µs, 0 where NaT (the caller masks those). For µs and ns
    columns one new array: the integers of an aware index are UTC already (no converted copies)."""
    index = pd.DatetimeIndex(stamps)
    if index.unit in ("us", "ns"):  # coarser units may hold years beyond the µs range
        return np.where(index.isna(), 0, index.as_unit("us").asi8)
    if getattr(stamps.dt, "tz", None) is not None:
        stamps = stamps.dt.tz_convert("UTC").dt.tz_localize(None)
    values = stamps.to_numpy(dtype="datetime64[us]")
    return np.where(np.isnat(values), 0, values.view(np.int64))


def _parse_datetimes(values: pd.Series, tz: str, limits: Limits) -> ParsedTimes:
    """Datetime columns (Parquet): aware ones are UTC already, naive ones wall time in ``tz``.
    Years beyond pandas' nanosecond range are out of range without being localised."""
    missing = values.isna().to_numpy()
    none = np.zeros(len(values), bool)
    if isinstance(values.dtype, pd.DatetimeTZDtype) and values.dtype.unit == "us" and str(values.dtype.tz) == "UTC":
        # already the result's dtype (Parquet written by srekit): checked in place, not copied
        lo, hi = stamp_bounds_us(limits)
        held = pd.DatetimeIndex(values).asi8  # a view; NaT is the smallest int64, below lo
        out_of_range = ~missing & ((held < lo) | (held >= hi))
        if not out_of_range.any():
            utc = values.dt.tz_convert("UTC").rename(None)  # a new Series over the same stamps
            return ParsedTimes(utc, none, 0, 0, int((~missing).sum()), 0, out_of_range)
    us = _as_us(values)  # UTC for aware columns, wall time for naive ones
    far = ~missing & ((us <= WALL_FLOOR_US) | (us >= WALL_CEILING_US))
    if getattr(values.dt, "tz", None) is not None:
        return _finish(us, missing, none, values.index, limits, (0, 0, int((~missing).sum()), 0))
    near = ~missing & ~far
    amb = nonex = 0
    if near.any():
        walls = pd.Series(pd.to_datetime(us[near], unit="us"))
        loc = _localize(walls, tz, 0, np.zeros(len(walls), bool))
        us[near] = _as_us(loc.utc)
        amb, nonex = loc.ambiguous_resolved, loc.nonexistent_shifted
    return _finish(us, missing, none, values.index, limits, (amb, nonex, 0, int((~missing).sum())))


def _finish(
    us: np.ndarray,
    missing: np.ndarray,
    bad: np.ndarray,
    index: pd.Index,
    limits: Limits,
    counts: tuple[int, ...],
) -> ParsedTimes:
    """Range check, then the UTC series (NaT where missing, unparseable or out of range)."""
    lo, hi = stamp_bounds_us(limits)
    out_of_range = ~missing & ~bad & ((us < lo) | (us >= hi))
    usable = ~missing & ~bad & ~out_of_range
    values = np.where(usable, us, np.datetime64("NaT", "us").view(np.int64)).view("datetime64[us]")
    utc = pd.Series(pd.DatetimeIndex(values).tz_localize("UTC"), index=index)  # NaT where not usable
    amb, nonex, with_offset, naive = counts
    return ParsedTimes(utc, bad & ~missing, amb, nonex, with_offset, naive, out_of_range)


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
