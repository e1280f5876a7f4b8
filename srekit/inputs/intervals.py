"""How long one row of telemetry or one sample of a series stands for: declared
(``data.telemetry_interval`` / ``data.series_interval`` in ``service.yaml``, an ``interval_s`` or
``interval_end`` column, the aggregation or Prometheus step), else inferred from the spacing of
the stamps, else assumed (one distinct stamp: nothing to infer from).

The length matters beyond the words: a telemetry row holding a 180-minute load test read as one
minute makes "requests per minute" 180 times too high and lets one-hour alert windows look at a
three-hour row. Every report states which of these it was (docs/inputs.md, "Interval length").
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal, cast

import numpy as np
import pandas as pd

from srekit.core.errors import input_error
from srekit.core.timeutil import duration_words, epoch_ints

#: Where an interval length came from.
IntervalSource = Literal["service.yaml", "file", "aggregation", "prometheus", "inferred", "assumed"]
#: The length assumed when a file has a single distinct stamp (``srekit aggregate``'s default).
ASSUMED = pd.Timedelta(minutes=1)


@dataclass(frozen=True, slots=True)
class Interval:
    """The length of one telemetry interval (or series sample) and where it came from."""

    length: pd.Timedelta
    source: IntervalSource

    def __post_init__(self) -> None:
        if self.length <= pd.Timedelta(0):
            raise ValueError(f"an interval must be positive, got {self.length}")

    @property
    def declared(self) -> bool:
        """Known from the data's owner (service.yaml, the file, the aggregation or pull step)."""
        return self.source not in ("inferred", "assumed")

    @property
    def words(self) -> str:
        """``1 minute``, ``5 minutes``, ``3 hours``."""
        return duration_words(self.length)

    @property
    def how(self) -> str:
        """Where the length came from, in words."""
        return {
            "service.yaml": "declared in service.yaml",
            "file": "declared by the file's interval column",
            "aggregation": "the aggregation interval",
            "prometheus": "the Prometheus pull step",
            "inferred": "inferred from the spacing of the stamps",
            "assumed": "assumed: a single stamp gives no spacing to infer it from",
        }[self.source]

    def to_dict(self) -> dict[str, Any]:
        return {"seconds": self.length.total_seconds(), "source": self.source}


#: values compared at a time by :func:`smallest_spacing` (8 MB of int64)
_SPACING_CHUNK = 1 << 20


Unit = Literal["s", "ms", "us", "ns"]


def stamp_ints(stamps: pd.Series | pd.Index, unit: Unit | None = "us") -> tuple[np.ndarray, Unit]:
    """The stamps as int64 in ``unit`` (None: the unit they are held in, no copy), NaT left out,
    and that unit."""
    index = pd.DatetimeIndex(stamps)
    index = index.dropna() if index.hasnans else index
    held = cast(Unit, index.unit)
    return epoch_ints(index, unit or held), unit or held


def _distinct_spacings(arr: np.ndarray) -> np.ndarray:
    """The positive spacings of the distinct values of ``arr``, in any order: made distinct a
    chunk at a time by hashing (journeys share stamps: few are left), then sorted in place
    (``np.unique`` on many distinct values is far slower than a sort)."""
    distinct = np.concatenate(
        [pd.unique(arr[k : k + _SPACING_CHUNK]) for k in range(0, arr.size, _SPACING_CHUNK)] or [arr[:0]]
    )
    distinct.sort()
    d = np.diff(distinct)
    return d[d > 0]


def smallest_spacing(stamps: pd.Series | pd.Index, unit: Unit | None = None) -> pd.Timedelta | None:
    """The smallest positive spacing between the distinct stamps (None with fewer than two), read
    ``_SPACING_CHUNK`` stamps at a time: stamps in time order (one journey) are compared with
    their neighbours; others (journeys one after another) go through :func:`_distinct_spacings`.
    Memory follows the distinct stamps, not a sorted copy of every row and its differences.
    ``unit``: the resolution compared (None: the stamps' own, read in place)."""
    arr, unit = stamp_ints(stamps, unit)
    best: int | None = None
    for lo in range(0, max(arr.size - 1, 0), _SPACING_CHUNK):
        d = np.diff(arr[lo : lo + _SPACING_CHUNK + 1])
        if (d < 0).any():
            d = _distinct_spacings(arr)
            return pd.Timedelta(int(d.min()), unit=unit) if d.size else None
        d = d[d > 0]
        if d.size:
            best = int(d.min()) if best is None else min(best, int(d.min()))
    return None if best is None else pd.Timedelta(best, unit=unit)


def infer(stamps: pd.Series | pd.Index, *, rule: Literal["smallest", "median"] = "smallest") -> Interval:
    """The interval the stamps' spacing shows: the smallest positive spacing (aggregated
    telemetry, where a gap is missing rows), or the median one (gauge series, robust to DST
    repeats and clock jumps). One distinct stamp: :data:`ASSUMED`, marked ``assumed``."""
    if rule == "smallest":
        found = smallest_spacing(stamps, "us")
        return Interval(ASSUMED, "assumed") if found is None else Interval(found, "inferred")
    arr, _ = stamp_ints(stamps)
    d = np.diff(arr)
    if d.size and d.min() <= 0:  # not strictly in time order already
        del d
        d = _distinct_spacings(arr)
    if d.size == 0:
        return Interval(ASSUMED, "assumed")
    value = int(round(float(np.median(d)) / 1e6)) * 1_000_000
    return Interval(pd.Timedelta(max(value, 1), unit="us"), "inferred")


def check_declared(
    stamps: pd.Series, journeys: pd.Series, length: pd.Timedelta, *, kind: str, source: str, key: str
) -> None:
    """The stamps must agree with a declared interval. Telemetry (interval starts): rows of one
    journey a whole number of intervals apart, else the report would misplace their counts.
    Series (sample times, which real exports jitter and shift at DST): the typical (median)
    spacing of each journey at least the interval. Raises
    :class:`~srekit.core.errors.InputError` naming the place and the fix."""
    codes, names = pd.factorize(journeys.astype(str) if journeys.dtype == object else journeys)
    frame = pd.DataFrame({"t": pd.DatetimeIndex(stamps).as_unit("us").asi8, "j": codes})  # the names' codes
    frame = frame.drop_duplicates().sort_values(["j", "t"], kind="stable")
    step = frame.groupby("j", sort=False)["t"].diff().dropna()
    unit = int(length / pd.Timedelta(microseconds=1))
    if kind == "telemetry":
        bad = step[(step % unit) != 0]
    else:
        typical = step.groupby(frame.loc[step.index, "j"]).median()
        short = typical[typical < unit]
        bad = step[frame.loc[step.index, "j"].isin(short.index) & (step < unit)]
    if bad.empty:
        return
    first = pd.Timestamp(int(frame.loc[bad.index[0], "t"]), unit="us", tz="UTC")
    journey = names[int(frame.loc[bad.index[0], "j"])]
    gap = pd.Timedelta(int(bad.iloc[0]), unit="us")
    raise input_error(
        f"{kind} stamps {duration_words(gap)} apart contradict the declared interval of {duration_words(length)} "
        f"({len(bad)} spacing(s) are not whole intervals)",
        file=source,
        column="interval_start" if kind == "telemetry" else "timestamp",
        expected=f"stamps of one journey a whole number of {duration_words(length)} intervals apart"
        if kind == "telemetry"
        else f"samples of one journey typically {duration_words(length)} or more apart",
        got=f"a spacing of {duration_words(gap)} ending at {first.isoformat()} (journey {journey})",
        fix=f"correct {key} (or remove it to infer the interval from the spacing)",
    )
