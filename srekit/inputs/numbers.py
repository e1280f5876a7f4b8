"""Numbers in input files: one reading for every loader and the request reader (docs/inputs.md,
"Numbers").

* A number is written with a decimal point: ``12``, ``-3.5``, ``.5``, ``1e3``, ``inf``.
* A comma is read only as a thousands separator between groups of three digits after a non-zero
  lead (``1,234,567``, ``1,234.5``). ``1,234`` alone is 1234 in a count column (a count cannot be
  1.234); in a column of decimals (a series value, a latency, minutes) it could be either, so it is
  rejected as ``ambiguous comma in <column>``.
* Any other comma is a decimal comma (``0,132``, ``1,5``, ``1.234,5``): rejected as ``decimal
  comma in <column>``, never read as 132 or 15.
* Counts (telemetry ``total``/``errors``/``le_*``, action-item counts) are exact non-negative
  integers up to ``limits.max_count``: digits are converted as integers, never through a float,
  so ``9007199254740993`` stays itself and ``1e20`` is ``too large``, not a wrapped negative.

Each parse returns the values and one mask per reject reason, in the order a loader applies them
(the first reason that applies names the reject).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from srekit.core.lazy import LazyModule
from srekit.inputs.columns import MISSING_TOKENS, text_cells

if TYPE_CHECKING:
    import pandas as pd
else:
    pd = LazyModule("pandas")

PLAIN_RE = r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?"
GROUPED_RE = r"[+-]?[1-9]\d{0,2}(?:,\d{3})+(?:\.\d*)?"
AMBIGUOUS_RE = r"[+-]?[1-9]\d{0,2},\d{3}"
DECIMAL_COMMA_RE = r"[+-]?(?:\d*|\d{1,3}(?:\.\d{3})+),\d+(?:[eE][+-]?\d+)?"
INFINITY = frozenset({"inf", "+inf", "-inf", "infinity", "+infinity", "-infinity"})
_INT_DIGITS = 18  # up to 18 digits always fit int64

#: Reject reasons in precedence order; ``{}`` is the column name.
MISSING, NON_NUMERIC, DECIMAL_COMMA, AMBIGUOUS = (
    "missing {}",
    "non-numeric {}",
    "decimal comma in {}",
    "ambiguous comma in {}",
)
INFINITE, NEGATIVE, NON_INTEGER, TOO_LARGE = "infinite {}", "negative {}", "non-integer {}", "too large {}"


@dataclass(frozen=True, slots=True)
class Numbers:
    """Parsed numbers: ``values`` (float64, or int64 for counts; 0/NaN where rejected) and the
    reject masks by reason template, in precedence order."""

    values: np.ndarray
    masks: tuple[tuple[str, np.ndarray], ...]

    def mask(self, reason: str) -> np.ndarray:
        return next(m for r, m in self.masks if r == reason)


def _match(text: pd.Series, pattern: str) -> np.ndarray:
    """Whole-cell regular-expression match (pyarrow's RE2: pandas would fall back to Python's
    ``re`` for some patterns, 15× slower); False for missing cells."""
    arr = pa.array(text.astype("str"), type=pa.string(), from_pandas=True)
    hit = pc.match_substring_regex(arr, f"^(?:{pattern})$")
    return np.array(pc.fill_null(hit, False).to_numpy(zero_copy_only=False), dtype=bool)


def _is_number_dtype(s: pd.Series) -> bool:
    return pd.api.types.is_numeric_dtype(s) and not pd.api.types.is_bool_dtype(s)


def _text_forms(s: pd.Series, *, integer: bool) -> tuple[pd.Series, dict[str, np.ndarray]]:
    """Stripped text with grouping commas removed, and the mask of every form."""
    text = text_cells(s).str.strip()
    low = text.str.lower()
    forms = {
        "missing": (s.isna() | low.isin(MISSING_TOKENS)).to_numpy(dtype=bool),
        "plain": _match(text, PLAIN_RE),
        "grouped": _match(text, GROUPED_RE),
        "infinity": low.isin(INFINITY).to_numpy(dtype=bool),
        "decimal_comma": _match(text, DECIMAL_COMMA_RE),
    }
    forms["ambiguous"] = np.zeros(len(s), bool) if integer else _match(text, AMBIGUOUS_RE)
    forms["decimal_comma"] &= ~forms["grouped"]
    forms["grouped"] &= ~forms["ambiguous"]
    plain = text.where(~pd.Series(forms["grouped"], index=text.index), text.str.replace(",", "", regex=False))
    return plain, forms


def parse_numbers(s: pd.Series) -> Numbers:
    """Decimal numbers (a series value, a latency, minutes) → float64 and reject masks:
    missing, non-numeric, decimal comma, ambiguous comma, infinite, negative."""
    n = len(s)
    if _is_number_dtype(s):
        values = s.to_numpy(dtype=float, na_value=np.nan)
        none = np.zeros(n, bool)
        masks = [(MISSING, np.isnan(values)), (NON_NUMERIC, none), (DECIMAL_COMMA, none), (AMBIGUOUS, none)]
    else:
        text, f = _text_forms(s, integer=False)
        ok = (f["plain"] | f["grouped"] | f["infinity"]) & ~f["missing"]
        values = np.full(n, np.nan)
        if ok.any():
            values[ok] = text[ok].str.lower().str.replace("infinity", "inf", regex=False).astype("float64").to_numpy()
        masks = [
            (MISSING, f["missing"]),
            (NON_NUMERIC, ~f["missing"] & ~ok & ~f["decimal_comma"] & ~f["ambiguous"]),
            (DECIMAL_COMMA, f["decimal_comma"] & ~f["missing"]),
            (AMBIGUOUS, f["ambiguous"] & ~f["missing"]),
        ]
    with np.errstate(invalid="ignore"):
        masks += [(INFINITE, np.isinf(values)), (NEGATIVE, values < 0)]
    return Numbers(values, tuple(masks))


def parse_counts(s: pd.Series, max_count: int) -> Numbers:
    """Request counts → exact int64 and reject masks: missing, non-numeric, decimal comma,
    ambiguous comma (never, for counts), infinite, negative, non-integer, too large
    (above ``max_count``). Values of rejected rows are 0."""
    n = len(s)
    if _is_number_dtype(s):
        values, masks = _typed_counts(s, max_count)
        return Numbers(values, masks)
    text, f = _text_forms(s, integer=True)
    digits = _match(text, r"\+?\d+")
    sig = text.str.lstrip("+").str.lstrip("0").str.len().fillna(0).to_numpy(dtype=np.int64)
    exact = digits & (sig <= _INT_DIGITS)
    values = np.zeros(n, dtype=np.int64)
    if exact.any():
        values[exact] = text[exact].str.lstrip("+").astype("int64").to_numpy()
    other = (f["plain"] | f["infinity"]) & ~digits & ~f["missing"]
    floats = np.full(n, np.nan)
    if other.any():
        floats[other] = text[other].str.lower().str.replace("infinity", "inf", regex=False).astype("float64").to_numpy()
    with np.errstate(invalid="ignore"):
        whole = other & np.isfinite(floats) & (floats == np.round(floats)) & (np.abs(floats) <= max_count)
        values[whole] = floats[whole].astype(np.int64)
        masks = (
            (MISSING, f["missing"]),
            (NON_NUMERIC, ~f["missing"] & ~digits & ~other & ~f["decimal_comma"]),
            (DECIMAL_COMMA, f["decimal_comma"] & ~f["missing"]),
            (AMBIGUOUS, np.zeros(n, bool)),
            (INFINITE, np.isinf(floats)),
            (NEGATIVE, (values < 0) | (floats < 0)),
            (NON_INTEGER, other & np.isfinite(floats) & (floats != np.round(floats))),
            (
                TOO_LARGE,
                (digits & ~exact) | (values > max_count) | (other & np.isfinite(floats) & (floats > max_count)),
            ),
        )
    return Numbers(values, masks)


def _typed_counts(s: pd.Series, max_count: int) -> tuple[np.ndarray, tuple[tuple[str, np.ndarray], ...]]:
    """Counts from a typed (Parquet) column: integers exactly, floats when whole."""
    n = len(s)
    none = np.zeros(n, bool)
    missing = s.isna().to_numpy()
    if pd.api.types.is_integer_dtype(s):
        raw = np.asarray(s.fillna(0).to_numpy())
        if raw.dtype == np.uint64:
            large = raw > np.uint64(max_count)
            values = np.where(large, 0, raw).astype(np.int64)
        else:
            values = raw.astype(np.int64)
            large = values > max_count
        return np.where(large, 0, values), (
            (MISSING, missing),
            (NON_NUMERIC, none),
            (DECIMAL_COMMA, none),
            (AMBIGUOUS, none),
            (INFINITE, none),
            (NEGATIVE, values < 0),
            (NON_INTEGER, none),
            (TOO_LARGE, large),
        )
    floats = s.to_numpy(dtype=float, na_value=np.nan)
    with np.errstate(invalid="ignore"):
        finite = np.isfinite(floats)
        whole = finite & (floats == np.round(floats))
        large = finite & (floats > max_count)
        good = whole & ~large & (floats >= 0)
        values = np.where(good, floats, 0).astype(np.int64)
        return values, (
            (MISSING, np.isnan(floats)),
            (NON_NUMERIC, none),
            (DECIMAL_COMMA, none),
            (AMBIGUOUS, none),
            (INFINITE, np.isinf(floats)),
            (NEGATIVE, floats < 0),
            (NON_INTEGER, finite & ~whole),
            (TOO_LARGE, large),
        )
