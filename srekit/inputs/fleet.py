"""``fleet.yaml``: every service of a team (or a company) in one file, for ``srekit fleet report``.

A fleet lists services — paths, globs or folders of ``service.yaml`` files, relative to the
fleet file — with fleet-wide ``defaults`` (any ``service.yaml`` key but the service's own
identity: ``service``, ``data``, ``journeys``, ``slos``) that each service may override, and
optional ``team``/``tier`` per entry. A folder instead of a file is a fleet of every
``service.yaml`` below it, without defaults. Validated with the strictness of ``service.yaml``
(pydantic, unknown keys refused with the valid ones, :mod:`srekit.inputs.config`), and the defaults
with the very types of ``service.yaml``; ``srekit schema --fleet`` prints the JSON Schema.

What is the fleet's problem and what is one service's:

* the fleet file itself (missing, not YAML, against the schema), a glob or path that matches
  nothing, two services with the same name (or the same folder name), a file listed twice, more
  than :data:`MAX_SERVICES` services, or no usable service at all: a :class:`ConfigError` (exit 2);
* a ``service.yaml`` that cannot be read or is against the schema: that service is
  :attr:`FleetMember.error` (reported as failed with its reason; the others still run).

Precedence of a key: the service's own ``service.yaml``, then its entry (``team``, ``tier``), then
``defaults``. Mappings merge key by key (``defaults.owners.default`` and the service's
``owners.slo`` both hold), lists and values replace. Relative paths inside defaults are read
as if written in each ``service.yaml`` (against the service's folder).
"""

from __future__ import annotations

import glob
import string
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any

from pydantic import (
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    PlainValidator,
    Tag,
    ValidationError,
    WithJsonSchema,
    create_model,
)

from srekit.core.errors import ConfigError
from srekit.core.files import safe_file_name
from srekit.inputs.config import (
    Name,
    ServiceConfig,
    ServiceDoc,
    Tier,
    _SchemaGenerator,
    parse_config,
    read_yaml,
    validation_error,
)

#: The file a folder entry (or ``--config FOLDER``) is searched for.
SERVICE_FILE = "service.yaml"
#: At most this many services in one fleet (each is a report run; a glob gone wrong, such as
#: ``/**/*.yaml``, stops here instead of queueing thousands of runs).
MAX_SERVICES = 5000
#: ``service.yaml`` keys a fleet may not set for its services: what makes a service itself.
OWN_KEYS = ("service", "data", "journeys", "slos")
#: Fields ``report.path_template`` of the fleet may use.
FLEET_PATH_FIELDS = ("fleet", "date", "time")

_GLOB_CHARS = frozenset("*?[")


def _fleet_template(value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ValueError("a path template is text such as fleet/{date}")
    try:
        parts = list(string.Formatter().parse(value))
    except ValueError as exc:
        raise ValueError(f"{value!r} is not a valid template: {exc}") from exc
    for _literal, name, spec, conversion in parts:
        if name is not None and (name not in FLEET_PATH_FIELDS or spec or conversion):
            allowed = ", ".join("{" + f + "}" for f in FLEET_PATH_FIELDS)
            raise ValueError(f"{{{name}}} is not allowed; use only {allowed}")
    if value.startswith(("/", "\\")) or ".." in Path(value).parts:
        raise ValueError(f"{value!r} must stay inside the output folder (no leading / and no ..)")
    if not any(name == "date" for _lit, name, _s, _c in parts):
        raise ValueError(f"{value!r} needs {{date}}: each day's overview is kept in its own folder")
    return value


FleetTemplate = Annotated[str, PlainValidator(_fleet_template), WithJsonSchema({"type": "string"})]


class _Doc(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class EntryDoc(_Doc):
    """``services[]`` as a mapping: a path, glob or folder, with what it says about those services."""

    path: Annotated[str, Field(min_length=1)]
    team: Name | None = None
    tier: Tier | None = None


def _entry_form(value: Any) -> str:
    return "path" if isinstance(value, str) else "mapping"


EntryItem = Annotated[
    Annotated[Annotated[str, Field(min_length=1)], Tag("path")] | Annotated[EntryDoc, Tag("mapping")],
    Discriminator(_entry_form),
]

#: ``defaults:``: every ``service.yaml`` key but :data:`OWN_KEYS`, each with its service.yaml type.
DefaultsDoc: type[BaseModel] = create_model(
    "DefaultsDoc",
    __base__=_Doc,
    __doc__="Fleet-wide service.yaml keys every service takes unless it sets them itself.",
    **{
        name: (f.rebuild_annotation() | None, None)  # type: ignore[operator]
        for name, f in ServiceDoc.model_fields.items()
        if name not in OWN_KEYS
    },  # type: ignore[call-overload]
)


class FleetReportDoc(_Doc):
    """``report:``: where the overview goes and how many to keep."""

    out: Annotated[str, Field(min_length=1)] = "reports"
    path_template: FleetTemplate = "fleet/{date}"
    keep: Annotated[int, Field(ge=1, strict=True)] | None = None


class FleetDoc(_Doc):
    """The top level of ``fleet.yaml`` (what ``srekit schema --fleet`` describes)."""

    fleet: Name | None = None
    services: Annotated[list[EntryItem], Field(min_length=1)]
    defaults: DefaultsDoc = DefaultsDoc()  # type: ignore[valid-type]
    report: FleetReportDoc = FleetReportDoc()


def fleet_json_schema() -> dict[str, Any]:
    """JSON Schema (draft 2020-12) of ``fleet.yaml`` (``srekit schema --fleet``)."""
    schema = FleetDoc.model_json_schema(schema_generator=_SchemaGenerator)
    schema["title"] = "srekit fleet.yaml"
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    return schema


# ---------------------------------------------------------------------------------- results


@dataclass(frozen=True, slots=True)
class FleetMember:
    """One service of the fleet: its parsed configuration, or why it cannot be used."""

    path: Path  # the service.yaml
    label: str  # the path as listed, relative to the fleet folder (names a service without a config)
    config: ServiceConfig | None
    error: str | None = None
    team: str | None = None
    tier: int | str | None = None

    def __post_init__(self) -> None:
        if (self.config is None) == (self.error is None):
            raise ValueError(f"{self.label}: a fleet member has a configuration or an error, not both")

    @property
    def name(self) -> str:
        """The service name, or the file's label when its configuration is unusable."""
        return self.config.service if self.config is not None else self.label


@dataclass(frozen=True, slots=True)
class FleetReport:
    """``report:`` of fleet.yaml with ``out`` resolved."""

    out: Path = Path("reports")
    path_template: str = "fleet/{date}"
    keep: int | None = None


@dataclass(frozen=True, slots=True)
class Fleet:
    """A parsed ``fleet.yaml`` (or a folder of services)."""

    name: str
    path: Path | None  # the fleet file; None for a folder
    root: Path  # the folder relative paths start from
    members: tuple[FleetMember, ...]
    report: FleetReport = field(default_factory=FleetReport)
    defaults: Mapping[str, Any] = field(default_factory=dict)

    @property
    def usable(self) -> tuple[FleetMember, ...]:
        return tuple(m for m in self.members if m.config is not None)

    @property
    def unusable(self) -> tuple[FleetMember, ...]:
        return tuple(m for m in self.members if m.config is None)


# ---------------------------------------------------------------------------------- parsing


def merge(base: Mapping[str, Any], over: Mapping[str, Any]) -> dict[str, Any]:
    """``over`` on top of ``base``: mappings merge key by key (recursively), anything else in
    ``over`` replaces."""
    out = dict(base)
    for key, value in over.items():
        if isinstance(value, Mapping) and isinstance(out.get(key), Mapping):
            out[key] = merge(out[key], value)
        else:
            out[key] = value
    return out


def _validate(raw: Any, where: str) -> FleetDoc:
    if not isinstance(raw, Mapping):
        raise ConfigError(
            f"{where}: expected a mapping at the top level, got {type(raw).__name__}. fix: start the file with "
            "`services:` and a list of service.yaml paths or globs (docs/fleet.md)"
        )
    try:
        return FleetDoc.model_validate(raw)
    except ValidationError as exc:
        raise validation_error(
            where,
            exc,
            _valid_keys(exc),
            "correct these keys (docs/fleet.md lists every key; `srekit schema --fleet` prints the schema)",
        ) from None


def _valid_keys(exc: ValidationError) -> str:
    """For unknown keys at the top, in an entry, under ``defaults`` or ``report``: the valid keys there."""
    models: dict[tuple[Any, ...], type[BaseModel]] = {
        (): FleetDoc,
        ("defaults",): DefaultsDoc,
        ("report",): FleetReportDoc,
    }
    hints = []
    for err in exc.errors(include_url=False):
        if err["type"] != "extra_forbidden":
            continue
        loc = tuple(err["loc"][:-1])
        model = EntryDoc if loc[:1] == ("services",) else models.get(loc)
        if model is not None:
            where = ".".join(str(p) for p in loc if p != "mapping") or "the top level"
            hints.append(f"valid keys under {where}: {', '.join(model.model_fields)}")
        elif loc[:1] == ("defaults",):
            hints.append("under defaults.<key>, the keys of that service.yaml section (docs/service-yaml.md)")
    return "; ".join(dict.fromkeys(hints))


def _matches(root: Path, pattern: str) -> list[Path]:
    """Files of one ``services[]`` entry: the file itself, every file a glob matches, or every
    ``service.yaml`` below a folder (hidden folders skipped), sorted."""
    text = str(Path(pattern).expanduser())
    full = text if Path(text).is_absolute() else str(root / text)
    hits = sorted(Path(p) for p in glob.glob(full, recursive=True)) if _GLOB_CHARS & set(pattern) else [Path(full)]
    found: list[Path] = []
    for hit in hits:
        if hit.is_dir():
            below = sorted(hit.rglob(SERVICE_FILE))
            found += [p for p in below if p.is_file() and not any(s.startswith(".") for s in p.relative_to(hit).parts)]
        elif hit.is_file():
            found.append(hit)
    return found


def _entries(doc: FleetDoc, root: Path, where: str) -> list[tuple[Path, EntryDoc, int]]:
    """Every (service.yaml, its entry, entry index); a ConfigError for an entry matching nothing,
    a file listed twice, or too many services."""
    seen: dict[Path, int] = {}
    out: list[tuple[Path, EntryDoc, int]] = []
    for i, item in enumerate(doc.services):
        entry = EntryDoc(path=item) if isinstance(item, str) else item
        files = _matches(root, entry.path)
        if not files:
            raise ConfigError(
                f"{where}: services[{i}] {entry.path!r} matches no file (relative to {root}). fix: correct the path "
                "or glob, or remove the entry"
            )
        for f in files:
            key = f.resolve()
            if key in seen:
                raise ConfigError(
                    f"{where}: {f} is listed twice (services[{seen[key]}] and services[{i}]). fix: list each service "
                    "once (set team and tier in its service.yaml or in one entry)"
                )
            seen[key] = i
            out.append((f.absolute(), entry, i))
    if len(out) > MAX_SERVICES:
        raise ConfigError(
            f"{where}: {len(out):,} services is more than the {MAX_SERVICES:,} one fleet may have. fix: narrow the "
            "globs, or split the fleet into several fleet files"
        )
    return out


def _member(path: Path, root: Path, raw_defaults: Mapping[str, Any], entry: EntryDoc, fleet_where: str) -> FleetMember:
    """One service.yaml read with the defaults and its entry under it; an unusable file is the
    member's error, not the fleet's."""
    label = path.relative_to(root).as_posix() if path.is_relative_to(root) else str(path)
    own = {k: v for k, v in (("team", entry.team), ("tier", entry.tier)) if v is not None}
    try:
        raw = read_yaml(path)
        raw = {} if raw is None else raw
        if not isinstance(raw, Mapping):
            raise ConfigError(f"{path}: expected a mapping at the top level, got {type(raw).__name__}")
        config = parse_config(merge(merge(raw_defaults, own), raw), path=path)
    except ConfigError as exc:
        note = f" (read with the defaults of {fleet_where})" if raw_defaults else ""
        return FleetMember(path, label, None, error=f"{exc}{note}", team=entry.team, tier=entry.tier)
    return FleetMember(path, label, config, team=config.team, tier=config.tier)


def _check_names(members: list[FleetMember], where: str) -> None:
    """Two services with one name, or whose report folders would be one (the same safe file
    name, ignoring case), make the fleet unusable."""
    by_name: dict[str, FleetMember] = {}
    by_folder: dict[str, FleetMember] = {}
    for m in members:
        if m.config is None:
            continue
        name = m.config.service
        folder = safe_file_name(name, fallback="service").casefold()
        other = by_name.get(name) or by_folder.get(folder)
        if other is not None:
            same = "the same name" if other.name == name else f"the same report folder name ({folder})"
            raise ConfigError(
                f"{where}: services {other.name!r} ({other.path}) and {name!r} ({m.path}) have {same}. fix: give each "
                "service a name of its own in its service.yaml (`service:`)"
            )
        by_name[name] = by_folder[folder] = m


def parse_fleet(raw: Any, *, path: Path | None, root: Path) -> Fleet:
    """A :class:`Fleet` from the YAML mapping of a fleet file (``path``, relative paths from
    ``root``); raises :class:`ConfigError` when the fleet as a whole is unusable."""
    where = str(path) if path is not None else str(root)
    doc = _validate(raw, where)
    defaults = doc.defaults.model_dump(exclude_unset=True, by_alias=True, mode="python")  # type: ignore[attr-defined]
    raw_defaults = dict(raw.get("defaults") or {}) if isinstance(raw, Mapping) else {}
    if set(raw_defaults) != set(defaults):  # pragma: no cover - the schema forbids unknown keys
        raise ConfigError(f"{where}: defaults: unexpected keys {sorted(set(raw_defaults) - set(defaults))}")
    members = [_member(f, root, raw_defaults, e, where) for f, e, _ in _entries(doc, root, where)]
    _check_names(members, where)
    if not any(m.config is not None for m in members):
        reasons = "; ".join(f"{m.label}: {m.error}" for m in members[:3])
        raise ConfigError(
            f"{where}: no usable service ({len(members)} listed, every service.yaml is unusable): {reasons}"
            + (" …" if len(members) > 3 else "")
            + ". fix: correct the service.yaml files"
        )
    out = Path(doc.report.out).expanduser()
    report = FleetReport(
        out=out if out.is_absolute() else root / out, path_template=doc.report.path_template, keep=doc.report.keep
    )
    name = doc.fleet or (root.name or "fleet")
    return Fleet(name=name, path=path, root=root, members=tuple(members), report=report, defaults=raw_defaults)


def load_fleet(path: str | Path) -> Fleet:
    """Read ``fleet.yaml``, or make a fleet of every ``service.yaml`` below a folder."""
    p = Path(path).expanduser().absolute()
    if p.is_dir():
        return parse_fleet({"services": ["."]}, path=None, root=p)
    if not p.exists():
        raise ConfigError(
            f"fleet file {p} does not exist. fix: pass --config path/to/fleet.yaml, or a folder to run every "
            f"{SERVICE_FILE} below it"
        )
    raw = read_yaml(p, what="fleet file")
    return parse_fleet({} if raw is None else raw, path=p, root=p.parent)
