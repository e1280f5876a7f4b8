"""Corrections and maintenance windows (``corrections:`` in service.yaml): time the SLOs do not
count, applied once where the inputs are loaded so every analysis sees the same history.

:func:`expand` turns each :class:`~srekit.inputs.config.Correction` into concrete UTC windows over
the span of the data (a recurring one through ``dateutil.rrule``, in the zone its ``start`` was
written in, so "Sundays 02:00 Europe/Berlin" stays at 02:00 local across DST). :func:`apply`
zeroes the counts of the telemetry rows (by ``interval_start``) and blanks the series samples (by
``timestamp``) inside a window of their journey: excluded time counts neither as good nor as bad in
budgets, burn rates, threshold proposals, windows met, the alert replay and the forecast fit. The
rows as they were are kept (:class:`Applied`), so the report can say which bad events each correction
returned to the budget.

A correction's ``slos`` names SLOs (``checkout-availability``) or journeys (``checkout``). The
rows of a journey are shared by all its SLOs, so a correction that names one SLO of a journey
excludes that time for every SLO of the journey; the report lists which SLOs it touched.
Definitions and validation: docs/service-yaml.md, "corrections".
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from srekit.core.errors import ConfigError
from srekit.core.timeutil import epoch_ints
from srekit.inputs import buckets as bk
from srekit.inputs import telemetry as tm
from srekit.inputs.config import Correction, ServiceConfig

#: At most this many windows over the data (a FREQ=MINUTELY rule over years would be millions).
MAX_WINDOWS = 100_000
SLI_SUFFIXES = ("availability", "latency", "timeslice")


@dataclass(frozen=True, slots=True)
class Window:
    """One occurrence of a correction: ``[start, end)`` in UTC, for the journeys in ``journeys``."""

    correction: int
    start: pd.Timestamp
    end: pd.Timestamp
    journeys: tuple[str, ...]
    kind: str = "maintenance"


@dataclass(frozen=True, slots=True)
class Applied:
    """What :func:`apply` did: the windows over the data, the rows it cleared as they were (with a
    ``correction`` column: the index of the correction whose window holds the row), and the
    corrections with no window inside the data."""

    corrections: tuple[Correction, ...]
    windows: tuple[Window, ...]
    excluded_telemetry: pd.DataFrame | None
    excluded_series: pd.DataFrame | None
    outside_data: tuple[int, ...]

    def windows_of(self, journey: str) -> tuple[Window, ...]:
        return tuple(w for w in self.windows if journey in w.journeys)

    def to_notes(self) -> dict[str, int]:
        """Counts for the data-quality ledger."""
        tel = 0 if self.excluded_telemetry is None else len(self.excluded_telemetry)
        ser = 0 if self.excluded_series is None else len(self.excluded_series)
        return {
            "windows_in_data": len(self.windows),
            "corrections_outside_data": len(self.outside_data),
            "telemetry_rows_cleared": tel,
            "series_samples_cleared": ser,
        }


def known_names(config: ServiceConfig, journeys: Iterable[str]) -> dict[str, str]:
    """Every name a correction may use, mapped to its journey: the journeys (of the data and of
    service.yaml), ``<journey>-<sli>`` (the SLOs srekit proposes), the SLOs under ``slos:`` and
    the SLO → journey maps of ``slo.import``."""
    names = {*journeys, *(j.name for j in config.journeys)}
    out = {n: n for n in names}
    out.update({f"{n}-{sli}": n for n in names for sli in SLI_SUFFIXES})
    out.update({s.name: s.journey for s in config.slos})
    for entry in config.slo.imports:
        out.update(dict(entry.journeys))
    return out


def _journeys_of(c: Correction, names: Mapping[str, str], where: str) -> tuple[str, ...]:
    if c.slos is None:
        return tuple(sorted(set(names.values())))
    unknown = [n for n in c.slos if n not in names]
    if unknown:
        shown = ", ".join(sorted(names)[:12]) + (" …" if len(names) > 12 else "")
        raise ConfigError(
            f"{where}: {c.where}.slos names {unknown}, which is no SLO or journey of this service. "
            f"fix: use one of {shown}, or `slos: all`"
        )
    return tuple(sorted({names[n] for n in c.slos}))


def _occurrences(
    c: Correction, lo: pd.Timestamp, hi: pd.Timestamp, where: str
) -> list[tuple[pd.Timestamp, pd.Timestamp]]:
    """``[start, end)`` of each occurrence of ``c`` that overlaps ``[lo, hi)`` (UTC)."""
    if c.rrule is None:
        end = c.end if c.end is not None else c.start + c.duration  # type: ignore[operator]
        return [(c.start, end)] if c.start < hi and end > lo else []
    from dateutil.rrule import rrulestr

    assert c.duration is not None
    rule = rrulestr(c.rrule, dtstart=c.local_start.to_pydatetime())
    tz = c.local_start.tzinfo
    first = (lo - c.duration).tz_convert(tz).to_pydatetime()
    out: list[tuple[pd.Timestamp, pd.Timestamp]] = []
    for occ in rule.xafter(first, inc=True):  # type: ignore[attr-defined]
        start = pd.Timestamp(occ if occ.tzinfo else occ.replace(tzinfo=tz)).tz_convert("UTC")
        if start >= hi:
            break
        if len(out) >= MAX_WINDOWS:
            raise ConfigError(
                f"{where}: {c.where} recurs more than {MAX_WINDOWS:,} times over the data. fix: a coarser rrule"
            )
        if start + c.duration > lo:
            out.append((start, start + c.duration))
    return out


def _check_overlaps(windows: list[Window], where: str) -> None:
    """Two windows of one journey may not overlap (a returned bad event must belong to one)."""
    for journey in sorted({j for w in windows for j in w.journeys}):
        mine = sorted((w for w in windows if journey in w.journeys), key=lambda w: (w.start, w.end))
        for a, b in zip(mine, mine[1:], strict=False):
            if b.start < a.end:
                same = a.correction == b.correction
                raise ConfigError(
                    f"{where}: corrections[{a.correction}] and corrections[{b.correction}] overlap on journey "
                    f"{journey!r} from {b.start.isoformat()}"
                    + (" (its duration is longer than the time between occurrences)" if same else "")
                    + ". fix: "
                    + ("shorten `duration`" if same else "merge them into one window or shorten one")
                )


def expand(
    config: ServiceConfig, journeys: Iterable[str], lo: pd.Timestamp, hi: pd.Timestamp
) -> tuple[tuple[Window, ...], tuple[int, ...]]:
    """The windows of every correction overlapping the data ``[lo, hi)``, and the corrections
    with none there. Unknown SLO names and overlapping windows are a :class:`ConfigError`."""
    where = str(config.path) if config.path else "service.yaml"
    names = known_names(config, journeys)
    windows: list[Window] = []
    outside: list[int] = []
    for c in config.corrections:
        scope = _journeys_of(c, names, where)
        spans = _occurrences(c, lo, hi, where)
        if not spans:
            outside.append(c.index)
        windows += [Window(c.index, max(s, lo), min(e, hi), scope, c.kind) for s, e in spans]
    _check_overlaps(windows, where)
    return tuple(sorted(windows, key=lambda w: (w.start, w.correction))), tuple(outside)


def _owner(stamps: pd.Series, journeys: pd.Series, windows: tuple[Window, ...]) -> np.ndarray:
    """Per row: the index of the correction whose window holds it (start ≤ t < end, same
    journey), −1 for none."""
    t = epoch_ints(stamps)
    owner = np.full(len(t), -1, dtype=np.int64)
    for w in windows:
        hit = (t >= w.start.value // 1000) & (t < w.end.value // 1000) & journeys.isin(list(w.journeys)).to_numpy()
        owner[hit] = w.correction
    return owner


def _split(
    frame: pd.DataFrame | None, time_col: str, windows: tuple[Window, ...], cleared: list[str], empty: float
) -> tuple[pd.DataFrame | None, pd.DataFrame | None]:
    """``frame`` with the ``cleared`` columns set to ``empty`` in rows inside a window (the rows
    stay: the data's span, its interval and its end do not move), and those rows as they were
    with the ``correction`` that holds them."""
    if frame is None or frame.empty or not windows:
        return frame, None
    owner = _owner(frame[time_col], frame["journey"], windows)
    out = owner >= 0
    taken = tm.dense(frame[out]).assign(correction=owner[out]).reset_index(drop=True)
    if not out.any():
        return frame, taken
    kept = frame.copy(deep=False)  # copy on write: the columns set below are new, the others shared
    sparse = set(bk.columns(frame))
    for col in (c for c in cleared if c not in sparse):
        values = kept[col].to_numpy(copy=True)
        values[out] = empty
        kept[col] = values
    return (bk.cleared(kept, out) if sparse else kept), taken


def _span(frames: Iterable[tuple[pd.DataFrame | None, str]]) -> tuple[pd.Timestamp, pd.Timestamp] | None:
    stamps = [pd.DatetimeIndex(f[c]) for f, c in frames if f is not None and not f.empty]
    if not stamps:
        return None
    lo = min(s.min() for s in stamps)
    hi = max(s.max() for s in stamps) + pd.Timedelta(minutes=1)
    return lo, hi


def apply(
    config: ServiceConfig, telemetry: pd.DataFrame | None, series: pd.DataFrame | None
) -> tuple[pd.DataFrame | None, pd.DataFrame | None, Applied]:
    """``telemetry`` and ``series`` with the rows inside a correction window of their journey
    cleared (zero counts, no sample value), and those rows as they were (:class:`Applied`)."""
    span = _span(((telemetry, "interval_start"), (series, "timestamp")))
    if not config.corrections or span is None:
        outside = tuple(c.index for c in config.corrections)
        return telemetry, series, Applied(config.corrections, (), None, None, outside)
    journeys = {
        *(() if telemetry is None else map(str, telemetry["journey"].unique())),
        *(() if series is None else map(str, series["journey"].unique())),
    }
    windows, outside = expand(config, journeys, *span)
    counts = [] if telemetry is None else tm.COUNTS + tm.held_buckets(telemetry)
    tel, tel_out = _split(telemetry, "interval_start", windows, counts, 0)
    ser, ser_out = _split(series, "timestamp", windows, ["value"], np.nan)
    return tel, ser, Applied(config.corrections, windows, tel_out, ser_out, outside)


def clear_windows(telemetry: pd.DataFrame | None, windows: tuple[Window, ...]) -> pd.DataFrame | None:
    """``telemetry`` (labelled or not) with the counts of rows inside a window of their journey
    zeroed, as :func:`apply` clears them."""
    if telemetry is None:
        return None
    return _split(telemetry, "interval_start", windows, tm.COUNTS + tm.held_buckets(telemetry), 0)[0]


def in_windows(stamps: pd.DatetimeIndex, windows: Iterable[Window]) -> np.ndarray:
    """Whether each of ``stamps`` lies inside one of ``windows`` (start ≤ t < end)."""
    t = epoch_ints(stamps)
    hit = np.zeros(len(t), dtype=bool)
    for w in windows:
        hit |= (t >= w.start.value // 1000) & (t < w.end.value // 1000)
    return hit
