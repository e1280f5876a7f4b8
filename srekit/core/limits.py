"""Resource and plausibility bounds of one srekit run, in one place (docs/service-yaml.md, "limits").

Every bound that protects a run from a hostile or broken input is a field of :class:`Limits`
with a documented default. ``service.yaml`` overrides them under ``limits:`` (``srekit schema``
lists them), the command line with ``--limit NAME=VALUE``; :func:`Limits.override` validates both.
A bound that is hit names itself in the message and says how to raise it
(:func:`Limits.raise_hint`).

The input-side bounds (this module's first fields) are enforced by :mod:`srekit.inputs`:

* **Names** (journeys, alert names, incident ids, tasks, …) longer than ``max_name_chars`` reject
  their row (reason ``too long <column>``). They are identifiers: truncating two long names to the
  same prefix would merge them silently, so they are refused, not cut.
* **Free text** (incident titles and causes) longer than ``max_text_chars`` is cut to that length
  (ending in ``…``) and counted in the ledger note ``<column>_truncated``: it is only shown.
* **Distinct journeys** in one telemetry, series or request source above ``max_journeys`` make the
  input unusable (exit 2): each journey costs a row per interval and a page of analysis.
* **Counts** in one telemetry row above ``max_count`` reject the row (``too large <column>``);
  every count is an exact integer, and ``max_count`` is at most 2**53 so it is also exact as a
  float. The sum of ``total`` over a source may not reach :data:`MAX_SUM` (2**62), so no sum of
  counts, over any journeys and windows, can overflow a 64-bit integer.
* **The time grid** of a telemetry source (aggregated or pulled from a file): from its first to
  its last interval start at its own interval, at most ``max_intervals`` intervals, else exit 2 —
  two rows decades apart at a 1-second interval would otherwise ask every analysis for billions
  of grid cells.
* **Timestamps** outside the years ``min_year`` .. ``max_year`` (inclusive, UTC) reject their row
  (``<column> out of range``): an epoch of 0 or -1, a 14-digit epoch or the year 9999 are broken
  exports, not history.

The run-side bounds (the last fields) are enforced where memory is allocated, and each is a
:class:`~srekit.core.errors.LimitError` (exit 2) naming the limit, what asked for more and how to
raise it (:func:`limit_error`):

* **Intervals** of any one analysis grid (a journey's telemetry on its interval, an SLO's events
  or slices, daily blocks) above ``max_intervals`` (the same bound the loaders put on a telemetry
  source's span). Analysis grids are sized by the data: a gap longer than every trailing window
  the analysis reads (:data:`srekit.analysis.slo.grid.GAP_LOOKBACK`, 3 days) costs those windows'
  rows, not the gap's, so three rows 200 years apart are a few thousand rows; the limit is the
  backstop for data that really is that fine-grained (a 1 µs interval over days).
* **Monte Carlo draws** of one budget forecast (runs × days of the simulated window, per SLO)
  above ``monte_carlo_draws``; ``-p runs=N`` is checked against it before the report starts.
* **Pulled points** from Prometheus (steps × series) above ``pull_points``; the span ÷ interval is
  checked before the first query (one series needs that many points), the series count as they arrive.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from typing import Any

from srekit.core.errors import ConfigError, LimitError

#: Largest ``max_count``: integers up to 2**53 are exact in float64 as well as int64.
MAX_COUNT_CEILING = 2**53
#: The sum of ``total`` over one source stays below this, so every sum of counts fits int64.
MAX_SUM = 2**62
#: The widest year range srekit accepts for ``min_year`` / ``max_year`` (pandas' datetime range).
YEAR_FLOOR, YEAR_CEILING = 1678, 2261


def _doc(text: str) -> dict[str, str]:
    return {"doc": text}


@dataclass(frozen=True, slots=True)
class Limits:
    """Bounds of one run; every field has a documented default (docs/service-yaml.md)."""

    max_journeys: int = field(
        default=1_000,
        metadata=_doc(
            "distinct journeys in one telemetry, series or request source; more is an error (exit 2): "
            "map a coarser column as the journey"
        ),
    )
    max_labels: int = field(
        default=8,
        metadata=_doc(
            "label columns kept beside the journey (`srekit aggregate --by`, `prometheus.by`, extra telemetry "
            "columns); more is an error (exit 2): each multiplies the telemetry's rows"
        ),
    )
    max_name_chars: int = field(
        default=128,
        metadata=_doc(
            "characters in a name (journey, alert, incident id, task, service, ...); a longer one rejects "
            "its row (`too long <column>`), as service.yaml names are at most 128 characters"
        ),
    )
    max_text_chars: int = field(
        default=2_000,
        metadata=_doc("characters of free text (incident title, cause); longer text is cut and noted"),
    )
    max_count: int = field(
        default=10**15,
        metadata=_doc(
            "requests counted in one telemetry row (total, errors, le_*); a larger count rejects the row "
            "(`too large <column>`); at most 2**53"
        ),
    )
    max_intervals: int = field(
        default=3660 * 1440,
        metadata=_doc(
            "intervals from the first to the last stamp of a telemetry source at its own interval (the grid every "
            "analysis builds per journey); default ten years of 1-minute intervals"
        ),
    )
    min_year: int = field(
        default=1990,
        metadata=_doc("earliest year of an accepted timestamp (UTC); earlier stamps reject their row"),
    )
    max_year: int = field(
        default=2099,
        metadata=_doc("latest year of an accepted timestamp (UTC); later stamps reject their row"),
    )
    monte_carlo_draws: int = field(
        default=5_000_000,
        metadata=_doc(
            "simulated days of one budget forecast (Monte Carlo runs × SLO window days, per SLO); -p runs=N is "
            "checked against it before the report starts; more is an error (exit 2)"
        ),
    )
    pull_points: int = field(
        default=50_000_000,
        metadata=_doc(
            "values pulled from Prometheus in one pull (steps × series; a step per interval from start to end); "
            "more is an error (exit 2) before the first query or as series arrive"
        ),
    )

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ConfigError(f"limits.{f.name} must be a positive integer, got {value!r}")
        if self.max_count > MAX_COUNT_CEILING:
            raise ConfigError(
                f"limits.max_count must be at most 2**53 = {MAX_COUNT_CEILING} (exact as a float), got {self.max_count}"
            )
        if not YEAR_FLOOR <= self.min_year <= self.max_year <= YEAR_CEILING:
            raise ConfigError(
                f"limits.min_year..max_year must be a range within {YEAR_FLOOR}..{YEAR_CEILING}, "
                f"got {self.min_year}..{self.max_year}"
            )

    @staticmethod
    def names() -> tuple[str, ...]:
        return tuple(f.name for f in fields(Limits))

    @staticmethod
    def describe(name: str) -> str:
        """The documentation of one limit (the schema's description)."""
        return str(next(f.metadata["doc"] for f in fields(Limits) if f.name == name))

    def override(self, values: Mapping[str, Any] | None, *, where: str = "limits") -> Limits:
        """A copy with ``values`` applied; unknown names and bad values are a :class:`ConfigError`
        naming ``where`` (``service.yaml limits`` or ``--limit``)."""
        if not values:
            return self
        unknown = sorted(set(values) - set(self.names()))
        if unknown:
            raise ConfigError(f"{where}: unknown limit(s) {unknown}. valid: {', '.join(self.names())}")
        try:
            return replace(self, **dict(values))
        except ConfigError as exc:
            raise ConfigError(f"{where}: {exc}") from None

    @staticmethod
    def raise_hint(name: str, value: int) -> str:
        """How to raise one limit, for the ``fix`` of an error message."""
        return (
            f"or raise the limit if the input is right: `limits: {{{name}: N}}` in service.yaml "
            f"(command line: --limit {name}=N; now {value})"
        )


DEFAULT_LIMITS = Limits()


def parse_limit_args(items: list[str] | None, base: Limits = DEFAULT_LIMITS) -> Limits:
    """``--limit NAME=VALUE`` arguments (repeatable) applied to ``base``."""
    values: dict[str, int] = {}
    for item in items or ():
        name, sep, text = item.partition("=")
        name = name.strip()
        try:
            if not sep:
                raise ValueError
            values[name] = int(text.strip().replace("_", ""))
        except ValueError:
            raise ConfigError(
                f"--limit {item!r}: expected NAME=INTEGER, e.g. --limit max_journeys=5000. "
                f"valid names: {', '.join(Limits.names())}"
            ) from None
    return base.override(values, where="--limit")


def limit_error(name: str, value: int, needed: int | float, what: str, fix: str, unit: str = "") -> LimitError:
    """A :class:`LimitError` for limit ``name`` (now ``value``): ``what`` needs ``needed``
    ``unit``; ``fix`` says what to change in the input, then how to raise the limit."""
    amount = f"{needed:,.0f}" + (f" {unit}" if unit else "")
    return LimitError(
        f"{what} needs {amount}, more than limits.{name} = {value:,}. fix: {fix}, {Limits.raise_hint(name, value)}"
    )


def check_limit(limits: Limits, name: str, needed: int | float, what: str, fix: str, unit: str = "") -> None:
    """Raise :func:`limit_error` when ``needed`` exceeds ``limits.<name>``."""
    value = int(getattr(limits, name))
    if needed > value:
        raise limit_error(name, value, needed, what, fix, unit)
