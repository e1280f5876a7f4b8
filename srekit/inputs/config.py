"""``service.yaml``: what a team tells srekit about its service. Every key is optional except
``service`` and at least one data source (files under ``data:``, ``prometheus.url`` or
``slo.openslo``).

The file is validated against a strict schema (pydantic v2): scalars must have the right type
(``critical: "no"`` is an error, not a truthy string; ``team_size: five`` and ``keep: "2"`` are
errors), lists must be lists (``journeys: checkout`` is an error, not eight one-letter journeys),
unknown keys are errors that list the valid ones, and durations, targets and templates are
checked for sense. Every problem is a :class:`~srekit.core.errors.ConfigError` naming the file,
the key path, what was found and the fix. ``srekit schema`` prints the same schema as JSON
Schema for editors.

The YAML itself is read with bounds: at most :data:`MAX_YAML_BYTES` bytes and
:data:`MAX_YAML_NODES` nodes once aliases are expanded (a few hundred bytes of nested aliases
would otherwise expand to gigabytes).

See ``docs/service-yaml.md`` for every key with its default. Relative paths are resolved against
the folder holding ``service.yaml``.
"""

from __future__ import annotations

import datetime as _dt
import re
import string
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any, Literal, cast

import pandas as pd
import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    PlainSerializer,
    PlainValidator,
    StrictBool,
    StrictFloat,
    StrictInt,
    StrictStr,
    Tag,
    ValidationError,
    WithJsonSchema,
    create_model,
)
from pydantic.json_schema import GenerateJsonSchema

from srekit.core.errors import ConfigError
from srekit.core.escape import CONTROL_OR_BREAK
from srekit.core.limits import DEFAULT_LIMITS, Limits
from srekit.core.timeutil import format_duration, parse_duration
from srekit.inputs.timeparse import is_timezone

DATA_KINDS = ("requests", "telemetry", "series", "incidents", "toil", "alerts", "deploys", "loadtest")
#: Input kinds whose rows stand for a stretch of time: ``data.<kind>_interval`` declares its length.
INTERVAL_KINDS = ("telemetry", "series")
#: Units a series ``value`` may be in (``data.series_unit``); thresholds are in milliseconds.
SERIES_UNITS: Mapping[str, float] = {"ms": 1.0, "s": 1000.0, "us": 0.001}
DEFAULT_TARGETS = (0.95, 0.99, 0.995, 0.999)
#: The smallest target written as a percentage: 99.9 means 99.9 %; 1.5 is refused as ambiguous.
MIN_PERCENT_TARGET = 50.0
MAX_NAME_LENGTH = 128
MAX_YAML_BYTES = 1_000_000
MAX_YAML_NODES = 100_000
#: Fields ``report.path_template`` may use (plain names only: no attribute or index access).
PATH_FIELDS = ("service", "date", "time")

# -------------------------------------------------------------------------------- field types

_STRICT = ConfigDict(extra="forbid")


def _duration(value: Any) -> pd.Timedelta:
    if isinstance(value, pd.Timedelta):
        td = value
    elif isinstance(value, str):
        try:
            td = parse_duration(value)
        except ValueError as exc:
            raise ValueError(f"{value!r} is not a duration like 5m, 1h, 28d or 4w") from exc
    else:
        raise ValueError(f"a duration is text like 5m, 1h, 28d or 4w, not {type(value).__name__} {value!r}")
    if pd.isna(td) or td <= pd.Timedelta(0):
        raise ValueError(f"a duration must be positive, got {value!r}")
    if td > pd.Timedelta(days=3660):
        raise ValueError(f"{value!r} is longer than ten years")
    return td


def _target(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"a target is a number like 0.999 or 99.9, not {type(value).__name__} {value!r}")
    f = float(value)
    if 0 < f < 1:
        return f
    if MIN_PERCENT_TARGET <= f < 100:
        return float(Decimal(repr(f)) / 100)  # 99.9 -> 0.999 exactly as written, not 0.9990000000000001
    if 1 <= f < MIN_PERCENT_TARGET:
        raise ValueError(
            f"{value!r} is ambiguous: write a fraction (0.999) or a percentage of at least "
            f"{MIN_PERCENT_TARGET:g} (99.9)"
        )
    raise ValueError(f"a target is a fraction in (0, 1) or a percentage below 100, got {value!r}")


def _timezone(value: Any) -> str:
    if not isinstance(value, str) or not is_timezone(value):
        raise ValueError(f"unknown time zone {value!r}; use an IANA name such as UTC or Europe/Berlin")
    return value


def control_problem(text: str) -> str | None:
    """Why ``text`` cannot be a service.yaml name for the characters it holds (C0 and C1 controls,
    DEL, the line breaks NEL, U+2028, U+2029: a YAML writer may fold them), else None."""
    if re.search(f"[{CONTROL_OR_BREAK}]", text):
        return "a name cannot contain control characters or line breaks (newlines, tabs, NEL, U+2028)"
    return None


def _name(value: Any) -> str:
    if not isinstance(value, str):
        raise ValueError(f"a name is text, not {type(value).__name__} {value!r}")
    text = value.strip()
    if not text:
        raise ValueError("a name cannot be empty")
    if len(text) > MAX_NAME_LENGTH:
        raise ValueError(f"a name has at most {MAX_NAME_LENGTH} characters, got {len(text)}")
    problem = control_problem(text)
    if problem:
        raise ValueError(problem)
    return text


Duration = Annotated[
    pd.Timedelta,
    PlainValidator(_duration),
    PlainSerializer(format_duration, return_type=str),
    WithJsonSchema({"type": "string", "pattern": r"^[0-9]+(\.[0-9]+)?(ms|s|m|h|d|w|min)$", "examples": ["28d"]}),
]


def _slice_duration(value: Any) -> pd.Timedelta:
    td = _duration(value)
    if td % pd.Timedelta(minutes=1):
        raise ValueError(f"{value!r} is not a whole number of minutes (OpenSLO timeslice windows are 1m, 5m, 1h, …)")
    return td


SliceDuration = Annotated[
    pd.Timedelta,
    PlainValidator(_slice_duration),
    PlainSerializer(format_duration, return_type=str),
    WithJsonSchema({"type": "string", "pattern": r"^[0-9]+(m|h|d|w|min)$", "examples": ["1m", "5m"]}),
]
Target = Annotated[
    float,
    PlainValidator(_target),
    WithJsonSchema({"type": "number", "exclusiveMinimum": 0, "exclusiveMaximum": 100, "examples": [0.999, 99.9]}),
]
Name = Annotated[
    str, PlainValidator(_name), WithJsonSchema({"type": "string", "minLength": 1, "maxLength": MAX_NAME_LENGTH})
]
TimeZone = Annotated[
    str, PlainValidator(_timezone), WithJsonSchema({"type": "string", "examples": ["UTC", "Europe/Berlin"]})
]
PositiveInt = Annotated[StrictInt, Field(ge=1)]


def _tier(value: Any) -> int | str:
    if isinstance(value, int) and not isinstance(value, bool):
        if not 0 <= value <= 99:
            raise ValueError(f"a numbered tier is a whole number from 0 to 99, got {value}")
        return value
    if isinstance(value, str):
        return _name(value)
    raise ValueError(
        f"a tier is a whole number 0-99 (1 = most critical) or a name, not {type(value).__name__} {value!r}"
    )


#: A service's tier: a number (1 = most critical) or a name; groups services on the fleet overview.
Tier = Annotated[
    int | str,
    PlainValidator(_tier),
    WithJsonSchema({"anyOf": [{"type": "integer", "minimum": 0, "maximum": 99}, {"type": "string", "minLength": 1}]}),
]
PositiveFloat = Annotated[StrictFloat, Field(gt=0)]
Share = Annotated[StrictFloat, Field(gt=0, le=1)]

# -------------------------------------------------------------------------------- sections


@dataclass(frozen=True, slots=True)
class JourneyConfig:
    """A user journey the team cares about; targets are optional (no target → options)."""

    name: str
    critical: bool = True
    owner: str | None = None
    availability_target: float | None = None
    latency_threshold_ms: float | None = None
    latency_target: float | None = None
    description: str = ""


@dataclass(frozen=True, slots=True)
class PrometheusConfig:
    """Where and how to pull history from Prometheus (docs/service-yaml.md, "prometheus")."""

    url: StrictStr | None = None
    request_counter: StrictStr = "http_requests_total"
    status_label: StrictStr = "code"
    error_status_regex: StrictStr = "5.."
    latency_histogram: StrictStr = "http_request_duration_seconds"
    latency_unit: Literal["seconds", "s", "milliseconds", "ms"] = "seconds"  # unit of the histogram's le label
    journey_label: StrictStr = "handler"
    selector: StrictStr = ""  # extra label matchers, e.g. 'job="checkout"'
    interval: Duration = pd.Timedelta(minutes=1)
    bearer_token_env: StrictStr = "SREKIT_PROMETHEUS_TOKEN"
    username_env: StrictStr = "SREKIT_PROMETHEUS_USER"
    password_env: StrictStr = "SREKIT_PROMETHEUS_PASSWORD"
    verify_tls: StrictBool | StrictStr = True
    timeout_s: PositiveFloat = 30.0
    retries: Annotated[StrictInt, Field(ge=0, le=10)] = 3
    start: StrictStr | None = None
    end: StrictStr | None = None
    #: extra labels kept as telemetry label columns (``region``): SLOs broken down by them
    by: tuple[Annotated[StrictStr, Field(pattern=r"^[a-zA-Z_][a-zA-Z0-9_]*$")], ...] = ()

    __pydantic_config__ = _STRICT


@dataclass(frozen=True, slots=True)
class ImportEntry:
    """``slo.import[]``: SLO specs another tool reads, read directly (docs/service-yaml.md)."""

    format: Literal["sloth", "pyrra", "openslo", "slo-generator"]
    path: Path  # a spec file or a folder of them
    period: Duration | None = None  # Sloth's --default-slo-period (30d); slo-generator: the longest step
    windows: Path | None = None  # Sloth AlertWindows file or folder
    policy: Path | None = None  # slo-generator shared config.yaml (error_budget_policies)
    policy_name: StrictStr | None = None
    journeys: Mapping[StrictStr, Name] = field(default_factory=dict)  # SLO name → telemetry journey

    __pydantic_config__ = _STRICT


@dataclass(frozen=True, slots=True)
class SLOConfig:
    """Defaults for every SLO: window, budgeting method, candidate targets."""

    window: Duration = pd.Timedelta(days=28)
    window_kind: Literal["rolling", "calendar_month"] = "rolling"
    budgeting: Literal["Occurrences", "Timeslices"] = "Occurrences"
    timeslice_target: Target | None = None
    timeslice_window: SliceDuration = pd.Timedelta(minutes=1)
    targets: Annotated[tuple[Target, ...], Field(min_length=1)] = DEFAULT_TARGETS
    openslo: tuple[Path, ...] = ()
    imports: Annotated[tuple[ImportEntry, ...], Field(alias="import")] = ()

    __pydantic_config__ = ConfigDict(extra="forbid", populate_by_name=True)


@dataclass(frozen=True, slots=True)
class OncallConfig:
    """On-call coverage; without it every alert becomes a ticket."""

    coverage: StrictStr | None = None  # e.g. "24x7", "business-hours"; None = no on-call
    team: StrictStr | None = None
    engineers: PositiveInt | None = None
    handling_minutes_per_page: PositiveFloat = 20.0

    __pydantic_config__ = _STRICT


@dataclass(frozen=True, slots=True)
class AlertingConfig:
    """Alerting policy knobs (docs/alerting.md)."""

    page_long_windows: tuple[StrictStr, ...] = ("1h", "6h")
    ticket_long_windows: tuple[StrictStr, ...] = ("1d", "3d")
    budget_shares: Mapping[StrictStr, Share] = field(
        default_factory=lambda: {"1h": 0.02, "6h": 0.05, "1d": 0.10, "3d": 0.10}
    )
    runbook_base_url: StrictStr = "https://runbooks.example.invalid/"
    labels: Mapping[StrictStr, StrictStr] = field(default_factory=dict)

    __pydantic_config__ = _STRICT


@dataclass(frozen=True, slots=True)
class ToilConfig:
    """Team size and working time for toil shares (docs/toil.md)."""

    team_size: PositiveInt | None = None
    hours_per_week: Annotated[StrictFloat, Field(gt=0, le=168)] = 40.0
    horizon_weeks: Annotated[StrictInt, Field(ge=1, le=520)] = 52
    # per-task automation estimates, validated by srekit.analysis.toil (see docs/toil.md):
    # {task: {cost_hours: [low, likely, high], expected_reduction: x | [low, likely, high],
    #         maintenance_hours_per_week: x | [low, likely, high], self_healing: str, rollback: str}}
    automation: Mapping[StrictStr, Mapping[StrictStr, Any]] = field(default_factory=dict)

    __pydantic_config__ = _STRICT


def _path_template(value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ValueError("a path template is text such as {service}/{date}")
    try:
        parts = list(string.Formatter().parse(value))
    except ValueError as exc:
        raise ValueError(f"{value!r} is not a valid template: {exc}") from exc
    for _literal, name, spec, conversion in parts:
        if name is None:
            continue
        if name not in PATH_FIELDS or spec or conversion:
            raise ValueError(f"{{{name}}} is not allowed; use only {', '.join('{' + f + '}' for f in PATH_FIELDS)}")
    if value.startswith(("/", "\\")) or ".." in Path(value).parts:
        raise ValueError(f"{value!r} must stay inside the output folder (no leading / and no ..)")
    return value


PathTemplate = Annotated[str, PlainValidator(_path_template), WithJsonSchema({"type": "string"})]


@dataclass(frozen=True, slots=True)
class ReportConfig:
    """Where `srekit report` writes and what it keeps (docs/scheduling.md)."""

    out: Path = Path("reports")
    path_template: PathTemplate = "{service}/{date}"
    keep: PositiveInt | None = None
    notebooks: tuple[StrictStr, ...] = ()

    __pydantic_config__ = _STRICT


CORRECTION_KINDS = ("maintenance", "data_loss", "false_positive")


@dataclass(frozen=True, slots=True)
class Correction:
    """``corrections[i]``: time excluded from the SLOs (docs/service-yaml.md, "corrections").

    One-off: ``start`` and ``end``. Recurring: ``rrule`` (RFC 5545, first occurrence at ``start``)
    and ``duration``. ``start``/``end`` are UTC; ``local_start`` is ``start`` in the zone it was
    written in (the service's ``timezone`` for a naive stamp), where the recurrence is expanded.
    ``slos`` is ``None`` for ``all``, else SLO or journey names."""

    index: int
    start: pd.Timestamp
    local_start: pd.Timestamp
    reason: str
    kind: str = "maintenance"
    end: pd.Timestamp | None = None
    duration: pd.Timedelta | None = None
    rrule: str | None = None
    slos: tuple[str, ...] | None = None

    @property
    def where(self) -> str:
        return f"corrections[{self.index}]"

    def applies_to(self, names: tuple[str, ...]) -> bool:
        """Whether the correction covers an SLO known by any of ``names`` (its name, its journey)."""
        return self.slos is None or any(n in self.slos for n in names)


@dataclass(frozen=True, slots=True)
class ServiceConfig:
    """The parsed ``service.yaml``."""

    service: str
    path: Path | None = None
    timezone: str = "UTC"
    owner: str | None = None
    team: str | None = None  # the owning team, for grouping on the fleet overview
    tier: int | str | None = None  # criticality tier (1 = most critical), for grouping
    data: Mapping[str, Path] = field(default_factory=dict)
    formats: Mapping[str, str] = field(default_factory=dict)
    columns: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    journeys: tuple[JourneyConfig, ...] = ()
    prometheus: PrometheusConfig = field(default_factory=PrometheusConfig)
    slo: SLOConfig = field(default_factory=SLOConfig)
    oncall: OncallConfig = field(default_factory=OncallConfig)
    alerting: AlertingConfig = field(default_factory=AlertingConfig)
    toil: ToilConfig = field(default_factory=ToilConfig)
    report: ReportConfig = field(default_factory=ReportConfig)
    owners: Mapping[str, str] = field(default_factory=dict)
    slos: tuple[SloDoc, ...] = ()  # SLOs defined in full (srekit import), read by srekit.inputs.slo_import
    limits: Limits = DEFAULT_LIMITS
    intervals: Mapping[str, pd.Timedelta] = field(default_factory=dict)  # data.<kind>_interval, declared lengths
    series_unit: str | None = None  # data.series_unit (ms, s, us); None: milliseconds, assumed
    loadtest_unit: str | None = None  # data.loadtest_unit; None: wrk2 prints ms, other outputs assumed ms
    requests_by: tuple[str, ...] = ()  # data.requests_by: label columns kept from the raw log (srekit aggregate --by)
    corrections: tuple[Correction, ...] = ()  # time excluded from the SLOs (srekit.inputs.corrections)

    def owner_for(self, area: str) -> str:
        """Owner of a backlog area (``alerting``, ``incidents``, ``toil``…), else the service owner."""
        return self.owners.get(area) or self.owners.get("default") or self.owner or "unassigned"

    def journey(self, name: str) -> JourneyConfig | None:
        return next((j for j in self.journeys if j.name == name), None)


# ------------------------------------------------------------------- the document (YAML shape)


class _Doc(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class LatencyDoc(_Doc):
    threshold_ms: PositiveFloat | None = None
    target: Target | None = None


class JourneySlosDoc(_Doc):
    availability: Target | None = None
    latency: LatencyDoc | None = None


class JourneyDoc(_Doc):
    """``journeys[]``: a mapping, or a bare name string."""

    name: Name
    critical: StrictBool = True
    owner: Name | None = None
    description: StrictStr = ""
    slos: JourneySlosDoc = JourneySlosDoc()


def _journey_form(value: Any) -> str:
    return "bare name" if isinstance(value, str) else "mapping"


#: A journey is a bare name or a mapping; the discriminator keeps errors to the form given.
JourneyItem = Annotated[
    Annotated[Name, Tag("bare name")] | Annotated[JourneyDoc, Tag("mapping")], Discriminator(_journey_form)
]

FormatName = Literal["csv", "csv.gz", "parquet", "json", "pagerduty", "opsgenie", "statuspage", "gcp"]
ColumnMap = Mapping[StrictStr, StrictStr]


class DataDoc(_Doc):
    """``data:``: a file per input kind, plus ``<kind>_format`` and ``<kind>_columns``."""

    requests: StrictStr | None = None
    telemetry: StrictStr | None = None
    series: StrictStr | None = None
    incidents: StrictStr | None = None
    toil: StrictStr | None = None
    alerts: StrictStr | None = None
    deploys: StrictStr | None = None
    requests_format: FormatName | None = None
    telemetry_format: FormatName | None = None
    series_format: FormatName | None = None
    incidents_format: FormatName | None = None
    toil_format: FormatName | None = None
    alerts_format: FormatName | None = None
    deploys_format: FormatName | None = None
    requests_columns: ColumnMap | None = None
    telemetry_columns: ColumnMap | None = None
    series_columns: ColumnMap | None = None
    incidents_columns: ColumnMap | None = None
    toil_columns: ColumnMap | None = None
    alerts_columns: ColumnMap | None = None
    deploys_columns: ColumnMap | None = None
    loadtest: StrictStr | None = None
    telemetry_interval: Duration | None = None
    series_interval: Duration | None = None
    series_unit: Literal["ms", "s", "us"] | None = None
    loadtest_unit: Literal["ms", "s", "us"] | None = None
    requests_by: tuple[StrictStr, ...] = ()  # label columns kept when the raw log is aggregated on load


def _number(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not value > 0:
        raise ValueError(f"expected a positive number, got {value!r}")
    return float(value)


Number = Annotated[float, PlainValidator(_number), WithJsonSchema({"type": "number", "exclusiveMinimum": 0})]


class AlertRuleDoc(_Doc):
    """``slos[].alerting.rules[]``: one burn-rate condition as the source tool generates it."""

    severity: Literal["page", "ticket"]
    long_window: Duration
    short_window: Duration | None = None  # none: a single window
    burn_rate: Number
    pending: Duration | None = None  # Prometheus `for:`
    alert: StrictStr | None = None


class AlertPolicyDoc(_Doc):
    """``slos[].alerting``: the policy of an imported SLO (empty rules: alerting disabled)."""

    source: Name = "service.yaml"
    rules: list[AlertRuleDoc] = []
    sli_decimals: Annotated[StrictInt, Field(ge=0, le=12)] | None = None
    burn_rate_decimals: Annotated[StrictInt, Field(ge=0, le=12)] | None = None


class QueriesDoc(_Doc):
    errors: StrictStr  # PromQL of the bad-event rate, with {{window}}
    total: StrictStr


class SloDoc(_Doc):
    """``slos[]``: an SLO defined in full (what ``srekit import`` writes)."""

    name: Name
    journey: Name
    sli: Literal["availability", "latency"]
    target: Target
    threshold_ms: PositiveFloat | None = None
    window: Duration | None = None  # default slo.window
    queries: QueriesDoc | None = None
    alerting: AlertPolicyDoc | None = None  # none: srekit designs the SRE Workbook's policy
    origin: StrictStr | None = None


def _instant(value: Any) -> pd.Timestamp:
    """An instant as written in service.yaml: ISO-8601 text (YAML may already have read it as a
    date-time); naive means the service's ``timezone``."""
    if isinstance(value, bool) or not isinstance(value, str | _dt.datetime | _dt.date):
        raise ValueError(f"an instant is ISO-8601 text like 2026-03-01T02:00, not {type(value).__name__} {value!r}")
    try:
        ts = pd.Timestamp(value)
    except (ValueError, TypeError, OverflowError) as exc:
        raise ValueError(f"{value!r} is not an ISO-8601 instant like 2026-03-01T02:00 or 2026-03-01T02:00Z") from exc
    if pd.isna(ts):
        raise ValueError(f"{value!r} is not an instant")
    return ts


Instant = Annotated[
    pd.Timestamp,
    PlainValidator(_instant),
    PlainSerializer(lambda t: t.isoformat(), return_type=str),
    WithJsonSchema({"type": "string", "examples": ["2026-03-01T02:00", "2026-03-01T02:00:00Z"]}),
]


class CorrectionDoc(_Doc):
    """``corrections[]``: a one-off window (``start`` + ``end`` or ``duration``) or a recurring one
    (``start`` + ``rrule`` + ``duration``) excluded from the SLOs named in ``slos``."""

    start: Instant
    end: Instant | None = None
    duration: Duration | None = None
    rrule: Annotated[StrictStr, Field(min_length=1, max_length=500)] | None = None
    reason: Annotated[StrictStr, Field(min_length=1, max_length=2000)]
    kind: Literal["maintenance", "data_loss", "false_positive"] = "maintenance"
    slos: Literal["all"] | Annotated[list[Name], Field(min_length=1)] = "all"


#: ``limits:``: every field of :class:`srekit.core.limits.Limits`, a positive integer, default as documented there.
LimitsDoc: type[BaseModel] = create_model(
    "LimitsDoc",
    __base__=_Doc,
    **{
        name: (
            Annotated[StrictInt, Field(ge=1)],
            Field(default=getattr(DEFAULT_LIMITS, name), description=Limits.describe(name)),
        )
        for name in Limits.names()
    },  # type: ignore[call-overload]
)


class ServiceDoc(_Doc):
    """The top level of ``service.yaml`` (what ``srekit schema`` describes)."""

    service: Name
    timezone: TimeZone = "UTC"
    owner: Name | None = None
    team: Name | None = None
    tier: Tier | None = None
    data: DataDoc = DataDoc()
    journeys: list[JourneyItem] = []
    prometheus: PrometheusConfig = PrometheusConfig()
    slo: SLOConfig = SLOConfig()
    oncall: OncallConfig = OncallConfig()
    alerting: AlertingConfig = AlertingConfig()
    toil: ToilConfig = ToilConfig()
    report: ReportConfig = ReportConfig()
    owners: Mapping[StrictStr, Name] = {}
    slos: list[SloDoc] = []
    limits: LimitsDoc = LimitsDoc()  # type: ignore[valid-type]
    corrections: list[CorrectionDoc] = []


class _SchemaGenerator(GenerateJsonSchema):
    """Defaults written as service.yaml spells them (durations as ``28d``, paths as text)."""

    def encode_default(self, dft: Any) -> Any:
        if isinstance(dft, pd.Timedelta):
            return format_duration(dft)
        if isinstance(dft, Path):
            return str(dft)
        return super().encode_default(dft)


def json_schema() -> dict[str, Any]:
    """JSON Schema (draft 2020-12) of ``service.yaml``, for editors (``srekit schema``)."""
    schema = ServiceDoc.model_json_schema(schema_generator=_SchemaGenerator)
    schema["title"] = "srekit service.yaml"
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    return schema


# -------------------------------------------------------------------------------- parsing


def _location(loc: tuple[int | str, ...]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        elif part not in ("bare name", "mapping"):  # the journey forms are tags, not keys
            out += ("." if out else "") + str(part)
    return out or "(top level)"


def _problems(exc: ValidationError) -> list[str]:
    """One line per problem: ``key.path: message (got VALUE)``."""
    lines: list[str] = []
    for err in exc.errors(include_url=False):
        given = err.get("input")
        msg = "unknown key" if err["type"] == "extra_forbidden" else str(err["msg"]).removeprefix("Value error, ")
        shown = type(given).__name__ if isinstance(given, Mapping | list) else repr(given)
        lines.append(f"{_location(err['loc'])}: {msg} (got {shown[:80]})")
    return list(dict.fromkeys(lines))


def validation_error(where: str, exc: ValidationError, hint: str, fix: str) -> ConfigError:
    """One error for a document pydantic refused: its first eight problems, the valid keys where
    a key was unknown (``hint``), and the ``fix``."""
    problems = _problems(exc)
    return ConfigError(
        f"{where}: {len(problems)} problem(s): "
        + "; ".join(problems[:8])
        + (f" (and {len(problems) - 8} more)" if len(problems) > 8 else "")
        + (f". {hint}" if hint else "")
        + f". fix: {fix}"
    )


def _valid_keys(exc: ValidationError) -> str:
    """For unknown keys: the valid keys at that level."""
    hints = []
    for err in exc.errors(include_url=False):
        if err["type"] != "extra_forbidden":
            continue
        model: Any = ServiceDoc
        for part in err["loc"][:-1]:
            if part == "mapping":
                model = JourneyDoc
            elif isinstance(part, str) and part != "bare name":
                fields_ = getattr(model, "model_fields", None) or getattr(model, "__dataclass_fields__", {})
                sub = fields_.get(part)
                annotation = getattr(sub, "annotation", None) or getattr(sub, "type", None)
                model = annotation if isinstance(annotation, type) else model
        names = list(getattr(model, "model_fields", None) or getattr(model, "__dataclass_fields__", {}))
        if names:
            hints.append(f"valid keys under {_location(err['loc'][:-1])}: {', '.join(names)}")
    return "; ".join(dict.fromkeys(hints))


def _journey(item: str | JourneyDoc) -> JourneyConfig:
    if isinstance(item, str):
        return JourneyConfig(name=item)
    lat = item.slos.latency or LatencyDoc()
    return JourneyConfig(
        name=item.name,
        critical=item.critical,
        owner=item.owner,
        availability_target=item.slos.availability,
        latency_threshold_ms=lat.threshold_ms,
        latency_target=lat.target,
        description=item.description,
    )


def _resolve(base: Path, text: str) -> Path:
    p = Path(text)
    return p if p.is_absolute() else base / p


def _local(ts: pd.Timestamp, tz: str) -> pd.Timestamp:
    return ts.tz_localize(tz, ambiguous=True, nonexistent="shift_forward") if ts.tzinfo is None else ts


def _correction(i: int, doc: CorrectionDoc, tz: str, where: str) -> Correction:
    """One ``corrections[i]`` checked: one of ``end``/``duration`` (``duration`` with ``rrule``),
    ``end`` after ``start``, an RRULE dateutil can read."""
    at = f"{where}: corrections[{i}]"
    if doc.rrule is not None and (doc.duration is None or doc.end is not None):
        raise ConfigError(
            f"{at}: a recurring correction (rrule) needs `duration` and no `end`. fix: give `duration: 2h` "
            "(end the series with UNTIL= or COUNT= in the rule)"
        )
    if doc.rrule is None and (doc.end is None) == (doc.duration is None):
        raise ConfigError(f"{at}: give exactly one of `end` and `duration` (got {'both' if doc.end else 'neither'})")
    local = _local(doc.start, tz)
    start = local.tz_convert("UTC")
    end = None if doc.end is None else _local(doc.end, tz).tz_convert("UTC")
    if end is not None and end <= start:
        raise ConfigError(
            f"{at}: end {doc.end} is not after start {doc.start} (an inverted window). fix: swap them or use `duration`"
        )
    if doc.rrule is not None:
        _check_rrule(doc.rrule, local, at)
    slos = None if doc.slos == "all" else tuple(dict.fromkeys(doc.slos))
    return Correction(i, start, local, doc.reason, doc.kind, end, doc.duration, doc.rrule, slos)


def _check_rrule(text: str, local: pd.Timestamp, at: str) -> None:
    from dateutil.rrule import rrulestr

    if "DTSTART" in text.upper():
        raise ConfigError(f"{at}: rrule {text!r} has its own DTSTART. fix: drop it; the first occurrence is `start`")
    try:
        rrulestr(text, dtstart=local.to_pydatetime())
    except (ValueError, TypeError) as exc:
        raise ConfigError(
            f"{at}: rrule {text!r} is not an RFC 5545 recurrence rule ({exc}). fix: write e.g. FREQ=WEEKLY;BYDAY=SU"
        ) from None


def _corrections(docs: list[CorrectionDoc], tz: str, where: str) -> tuple[Correction, ...]:
    """Every correction checked; two one-off windows that overlap and share an SLO are an error
    (recurring ones are checked against the data's span: srekit.inputs.corrections)."""
    out = tuple(_correction(i, d, tz, where) for i, d in enumerate(docs))
    once = sorted((c for c in out if c.rrule is None), key=lambda c: c.start)
    for k, a in enumerate(once):
        a_end = a.end if a.end is not None else a.start + a.duration  # type: ignore[operator]
        for b in once[k + 1 :]:
            if b.start >= a_end:
                break
            if a.slos is None or b.slos is None or set(a.slos) & set(b.slos):
                raise ConfigError(
                    f"{where}: corrections[{a.index}] and corrections[{b.index}] overlap from {b.start.isoformat()} "
                    "and cover the same SLOs. fix: merge them into one window or shorten one"
                )
    return out


def _to_config(doc: ServiceDoc, path: Path | None, where: str) -> ServiceConfig:
    base = path.parent if path else Path(".")
    raw = doc.data.model_dump(exclude_none=True)
    data = {k: _resolve(base, v) for k, v in raw.items() if k in DATA_KINDS}
    formats = {k.removesuffix("_format"): v for k, v in raw.items() if k.endswith("_format")}
    columns = {k.removesuffix("_columns"): dict(v) for k, v in raw.items() if k.endswith("_columns")}
    intervals = {k: getattr(doc.data, f"{k}_interval") for k in INTERVAL_KINDS if getattr(doc.data, f"{k}_interval")}
    if not data and not doc.prometheus.url and not doc.slo.openslo and not doc.slo.imports and not doc.slos:
        raise ConfigError(
            f"{where}: no data source. fix: list files under `data:` (telemetry, requests, incidents, ...) "
            "or give `prometheus.url`"
        )
    journeys = tuple(_journey(j) for j in doc.journeys)
    names = [j.name for j in journeys]
    dup = sorted({n for n in names if names.count(n) > 1})
    if dup:
        raise ConfigError(f"{where}: journeys: {dup} appear more than once. fix: list each journey once")
    imports = tuple(
        replace(
            e,
            path=_resolve(base, str(e.path)),
            windows=None if e.windows is None else _resolve(base, str(e.windows)),
            policy=None if e.policy is None else _resolve(base, str(e.policy)),
        )
        for e in doc.slo.imports
    )
    slo = replace(doc.slo, openslo=tuple(_resolve(base, str(p)) for p in doc.slo.openslo), imports=imports)
    report = replace(doc.report, out=_resolve(base, str(doc.report.out)))
    return ServiceConfig(
        service=doc.service,
        path=path,
        timezone=doc.timezone,
        owner=doc.owner,
        team=doc.team,
        tier=doc.tier,
        data=data,
        formats=formats,
        columns=columns,
        journeys=journeys,
        prometheus=doc.prometheus,
        slo=slo,
        oncall=doc.oncall,
        alerting=doc.alerting,
        toil=doc.toil,
        report=report,
        owners=dict(doc.owners),
        slos=tuple(doc.slos),
        limits=DEFAULT_LIMITS.override(cast(BaseModel, doc.limits).model_dump(), where=where),
        intervals=intervals,
        series_unit=doc.data.series_unit,
        loadtest_unit=doc.data.loadtest_unit,
        requests_by=tuple(doc.data.requests_by),
        corrections=_corrections(doc.corrections, doc.timezone, where),
    )


def parse_config(raw: Any, *, path: Path | None = None) -> ServiceConfig:
    """Build a :class:`ServiceConfig` from the YAML mapping; raises :class:`ConfigError` naming
    the file, each key path at fault, what was found and how to fix it."""
    where = str(path) if path else "service.yaml"
    if not isinstance(raw, Mapping):
        raise ConfigError(
            f"{where}: expected a mapping at the top level, got {type(raw).__name__}. "
            "fix: start the file with `service: NAME` and a `data:` section (docs/service-yaml.md)"
        )
    try:
        doc = ServiceDoc.model_validate(raw)
    except ValidationError as exc:
        raise validation_error(
            where,
            exc,
            _valid_keys(exc),
            "correct these keys (docs/service-yaml.md lists every key; `srekit schema` prints the schema)",
        ) from None
    return _to_config(doc, path, where)


class _BoundedLoader(yaml.SafeLoader):
    """PyYAML's safe loader that refuses documents expanding (through aliases) to more than
    :data:`MAX_YAML_NODES` nodes, before anything walks the expanded structure."""

    def compose_document(self) -> Any:
        node = super().compose_document()
        if node is not None:
            _count_nodes(node, {}, MAX_YAML_NODES)
        return node


def _count_nodes(node: yaml.Node, seen: dict[int, int], limit: int) -> int:
    """Nodes under ``node`` with every alias expanded (memoised per node, so a shared subtree is
    counted once per use without walking it again); raises past ``limit``."""
    key = id(node)
    if key in seen:
        return seen[key]
    total = 1
    if isinstance(node, yaml.SequenceNode):
        total += sum(_count_nodes(child, seen, limit) for child in node.value)
    elif isinstance(node, yaml.MappingNode):
        total += sum(_count_nodes(k, seen, limit) + _count_nodes(v, seen, limit) for k, v in node.value)
    if total > limit:
        raise ConfigError(
            f"the YAML document expands to more than {limit:,} values through its aliases (&name / *name). "
            "fix: write the values out, or use fewer nested aliases"
        )
    seen[key] = total
    return total


def read_yaml(path: Path, *, what: str = "config file") -> Any:
    """A bounded, safe YAML read of ``path`` (UTF-8 with or without BOM); every failure is a
    :class:`ConfigError` naming the file and the fix."""
    if not path.exists():
        raise ConfigError(f"{what} {path} does not exist. fix: pass --config path/to/service.yaml")
    if path.is_dir():
        raise ConfigError(f"{what} {path} is a folder. fix: pass the YAML file inside it, e.g. {path / 'service.yaml'}")
    size = path.stat().st_size
    if size > MAX_YAML_BYTES:
        raise ConfigError(
            f"{path}: {size:,} bytes is more than the {MAX_YAML_BYTES:,} a {what} may have. fix: split it "
            "(a fleet file can list many service.yaml files)"
        )
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start}). fix: save it as UTF-8") from exc
    except OSError as exc:
        raise ConfigError(f"{path}: cannot be read ({exc.strerror}). fix: check the path and its permissions") from exc
    try:
        return yaml.load(text, Loader=_BoundedLoader)
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML: {exc}") from exc


def load_config(path: str | Path) -> ServiceConfig:
    """Read and parse ``service.yaml`` (the path is made absolute, so a run that changes folder
    still finds the files it names)."""
    p = Path(path).expanduser().absolute()
    raw = read_yaml(p)
    return parse_config(raw if raw is not None else {}, path=p)
