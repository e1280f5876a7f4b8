"""``service.yaml``: what a team tells srekit about its service. Every key is optional except
``service`` and at least one data source (files under ``data:`` or ``prometheus.url``).

See ``docs/service-yaml.md`` for every key with its default. Relative paths are resolved
against the folder holding ``service.yaml``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from srekit.core.errors import ConfigError
from srekit.core.timeutil import parse_duration

DATA_KINDS = ("requests", "telemetry", "series", "incidents", "toil", "alerts", "deploys")
DEFAULT_TARGETS = (0.95, 0.99, 0.995, 0.999)


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

    url: str | None = None
    request_counter: str = "http_requests_total"
    status_label: str = "code"
    error_status_regex: str = "5.."
    latency_histogram: str = "http_request_duration_seconds"
    latency_unit: str = "seconds"  # unit of the histogram's le label: seconds or milliseconds
    journey_label: str = "handler"
    selector: str = ""  # extra label matchers, e.g. 'job="checkout"'
    interval: pd.Timedelta = pd.Timedelta(minutes=1)
    bearer_token_env: str = "SREKIT_PROMETHEUS_TOKEN"
    username_env: str = "SREKIT_PROMETHEUS_USER"
    password_env: str = "SREKIT_PROMETHEUS_PASSWORD"
    verify_tls: bool | str = True
    timeout_s: float = 30.0
    retries: int = 3
    start: str | None = None
    end: str | None = None


@dataclass(frozen=True, slots=True)
class SLOConfig:
    """Defaults for every SLO: window, budgeting method, candidate targets."""

    window: pd.Timedelta = pd.Timedelta(days=28)
    window_kind: str = "rolling"  # rolling | calendar_month
    budgeting: str = "Occurrences"  # Occurrences | Timeslices
    timeslice_target: float | None = None
    timeslice_window: pd.Timedelta = pd.Timedelta(minutes=1)
    targets: tuple[float, ...] = DEFAULT_TARGETS
    openslo: tuple[Path, ...] = ()


@dataclass(frozen=True, slots=True)
class OncallConfig:
    """On-call coverage; without it every alert becomes a ticket."""

    coverage: str | None = None  # e.g. "24x7", "business-hours"; None = no on-call
    team: str | None = None
    engineers: int | None = None
    handling_minutes_per_page: float = 20.0


@dataclass(frozen=True, slots=True)
class AlertingConfig:
    """Alerting policy knobs (docs/alerting.md)."""

    page_long_windows: tuple[str, ...] = ("1h", "6h")
    ticket_long_windows: tuple[str, ...] = ("1d", "3d")
    budget_shares: Mapping[str, float] = field(default_factory=lambda: {"1h": 0.02, "6h": 0.05, "1d": 0.10, "3d": 0.10})
    runbook_base_url: str = "https://runbooks.example.invalid/"
    labels: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class ToilConfig:
    """Team size and working time for toil shares (docs/toil.md)."""

    team_size: int | None = None
    hours_per_week: float = 40.0
    horizon_weeks: int = 52
    # per-task automation estimates, validated by srekit.analysis.toil (see docs/toil.md):
    # {task: {cost_hours: [low, likely, high], expected_reduction: x | [low, likely, high],
    #         maintenance_hours_per_week: x | [low, likely, high], self_healing: str, rollback: str}}
    automation: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class ReportConfig:
    """Where `srekit report` writes and what it keeps (docs/scheduling.md)."""

    out: Path = Path("reports")
    path_template: str = "{service}/{date}"
    keep: int | None = None
    notebooks: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class ServiceConfig:
    """The parsed ``service.yaml``."""

    service: str
    path: Path | None = None
    timezone: str = "UTC"
    owner: str | None = None
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

    def owner_for(self, area: str) -> str:
        """Owner of a backlog area (``alerting``, ``incidents``, ``toil``…), else the service owner."""
        return self.owners.get(area) or self.owners.get("default") or self.owner or "unassigned"

    def journey(self, name: str) -> JourneyConfig | None:
        return next((j for j in self.journeys if j.name == name), None)


_TOP_KEYS = {
    "service",
    "timezone",
    "owner",
    "data",
    "journeys",
    "prometheus",
    "slo",
    "oncall",
    "alerting",
    "toil",
    "report",
    "owners",
}


def _section(raw: Mapping[str, Any], name: str, cls: type, conv: Mapping[str, Any], where: str) -> Any:
    body = raw.get(name) or {}
    if not isinstance(body, Mapping):
        raise ConfigError(
            f"{where}: `{name}` must be a mapping of keys, got {type(body).__name__}. fix: indent its keys under "
            f"`{name}:`"
        )
    valid = {f.name for f in fields(cls)}
    unknown = sorted(set(body) - valid)
    if unknown:
        raise ConfigError(f"{where}: unknown key(s) {unknown} under `{name}`. valid keys: {sorted(valid)}")
    kwargs = {}
    for k, v in body.items():
        try:
            kwargs[k] = conv[k](v) if k in conv else v
        except (TypeError, ValueError) as exc:
            raise ConfigError(f"{where}: `{name}.{k}` has an invalid value {v!r}: {exc}") from exc
    return cls(**kwargs)


def _target(v: Any) -> float:
    f = float(v)
    if f > 1:  # accept 99.9 meaning 99.9 %
        f = f / 100.0
    if not 0 < f < 1:
        raise ValueError("a target is a fraction in (0, 1), e.g. 0.999 or 99.9")
    return f


def parse_config(raw: Mapping[str, Any], *, path: Path | None = None) -> ServiceConfig:
    """Build a :class:`ServiceConfig` from the YAML mapping; raises :class:`ConfigError`."""
    where = str(path) if path else "service.yaml"
    if not isinstance(raw, Mapping):
        raise ConfigError(f"{where}: expected a mapping at the top level (service: NAME, ...)")
    unknown = sorted(set(raw) - _TOP_KEYS)
    if unknown:
        raise ConfigError(f"{where}: unknown top-level key(s) {unknown}. valid keys: {sorted(_TOP_KEYS)}")
    service = raw.get("service")
    if not service or not isinstance(service, str):
        raise ConfigError(f"{where}: `service` (the service name) is required. fix: add `service: checkout`")
    base = path.parent if path else Path(".")

    data: dict[str, Path] = {}
    formats: dict[str, str] = {}
    columns: dict[str, dict[str, str]] = {}
    for k, v in (raw.get("data") or {}).items():
        if k.endswith("_format"):
            formats[k[: -len("_format")]] = str(v)
        elif k.endswith("_columns"):
            columns[k[: -len("_columns")]] = {str(a): str(b) for a, b in (v or {}).items()}
        elif k in DATA_KINDS:
            data[k] = (base / str(v)) if not Path(str(v)).is_absolute() else Path(str(v))
        else:
            raise ConfigError(
                f"{where}: unknown data kind `data.{k}`. valid: {list(DATA_KINDS)} (plus <kind>_format, <kind>_columns)"
            )

    journeys = []
    for i, j in enumerate(raw.get("journeys") or []):
        if isinstance(j, str):
            j = {"name": j}
        if not isinstance(j, Mapping) or "name" not in j:
            raise ConfigError(f"{where}: journeys[{i}] needs a `name`")
        slos = j.get("slos") or {}
        lat = slos.get("latency") or {}
        extra = sorted(set(j) - {"name", "critical", "owner", "slos", "description"})
        if extra:
            raise ConfigError(
                f"{where}: journeys[{i}] has unknown key(s) {extra}. valid: name, critical, owner, description, slos"
            )
        try:
            journeys.append(
                JourneyConfig(
                    name=str(j["name"]),
                    critical=bool(j.get("critical", True)),
                    owner=j.get("owner"),
                    availability_target=_target(slos["availability"]) if "availability" in slos else None,
                    latency_threshold_ms=float(lat["threshold_ms"]) if "threshold_ms" in lat else None,
                    latency_target=_target(lat["target"]) if "target" in lat else None,
                    description=str(j.get("description", "")),
                )
            )
        except (TypeError, ValueError) as exc:
            raise ConfigError(f"{where}: journeys[{i}] ({j.get('name')}): {exc}") from exc

    td = parse_duration
    prom = _section(raw, "prometheus", PrometheusConfig, {"interval": td}, where)
    slo = _section(
        raw,
        "slo",
        SLOConfig,
        {
            "window": td,
            "timeslice_window": td,
            "targets": lambda v: tuple(_target(x) for x in v),
            "timeslice_target": _target,
            "openslo": lambda v: tuple(base / str(p) for p in v),
        },
        where,
    )
    if slo.window_kind not in ("rolling", "calendar_month"):
        raise ConfigError(f"{where}: slo.window_kind must be rolling or calendar_month, got {slo.window_kind!r}")
    if slo.budgeting not in ("Occurrences", "Timeslices"):
        raise ConfigError(f"{where}: slo.budgeting must be Occurrences or Timeslices (OpenSLO), got {slo.budgeting!r}")
    oncall = _section(raw, "oncall", OncallConfig, {}, where)
    alerting = _section(
        raw, "alerting", AlertingConfig, {"page_long_windows": tuple, "ticket_long_windows": tuple}, where
    )
    toil = _section(raw, "toil", ToilConfig, {}, where)
    report = _section(raw, "report", ReportConfig, {"out": lambda v: base / str(v), "notebooks": tuple}, where)

    if not data and not prom.url and not slo.openslo:
        raise ConfigError(
            f"{where}: no data source. fix: list files under `data:` (telemetry, requests, incidents, ...) "
            "or give `prometheus.url`"
        )
    return ServiceConfig(
        service=service,
        path=path,
        timezone=str(raw.get("timezone", "UTC")),
        owner=raw.get("owner"),
        data=data,
        formats=formats,
        columns=columns,
        journeys=tuple(journeys),
        prometheus=prom,
        slo=slo,
        oncall=oncall,
        alerting=alerting,
        toil=toil,
        report=report,
        owners={str(k): str(v) for k, v in (raw.get("owners") or {}).items()},
    )


def load_config(path: str | Path) -> ServiceConfig:
    """Read and parse ``service.yaml``."""
    p = Path(path)
    if not p.exists():
        raise ConfigError(f"config file {p} does not exist. fix: pass --config path/to/service.yaml")
    try:
        raw = yaml.safe_load(p.read_text(encoding="utf-8-sig"))
    except yaml.YAMLError as exc:
        raise ConfigError(f"{p}: not valid YAML: {exc}") from exc
    return parse_config(raw or {}, path=p)
