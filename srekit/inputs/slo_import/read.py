"""Entry points: :func:`import_specs` (one format, some paths), :func:`detect_format` (which tool
wrote a file) and :func:`configured_slos` (what service.yaml's ``slo.import`` and ``slos:`` define)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from srekit.core.errors import ConfigError
from srekit.inputs.config import ServiceConfig
from srekit.inputs.slo_import.explicit import explicit_specs
from srekit.inputs.slo_import.model import FORMATS, ImportOptions, ImportResult, merge
from srekit.inputs.slo_import.openslo_v1 import read_openslo_import
from srekit.inputs.slo_import.pyrra import read_pyrra
from srekit.inputs.slo_import.slogen import is_policy, read_slo_generator
from srekit.inputs.slo_import.sloth import read_sloth
from srekit.inputs.slo_import.source import expand, load_documents

READERS: Mapping[str, Callable[[list[Path], ImportOptions], ImportResult]] = {
    "sloth": read_sloth,
    "pyrra": read_pyrra,
    "openslo": read_openslo_import,
    "slo-generator": read_slo_generator,
}


def import_specs(fmt: str, paths: list[Path], options: ImportOptions | None = None) -> ImportResult:
    """The SLOs of ``paths`` in format ``fmt`` (one of :data:`FORMATS`)."""
    if fmt not in READERS:
        raise ConfigError(f"unknown spec format {fmt!r}. fix: use one of {', '.join(FORMATS)}")
    return READERS[fmt](paths, options or ImportOptions())


def _format_of(doc: Any) -> str | None:
    if not isinstance(doc, Mapping):
        return "slo-generator" if is_policy(doc) else None
    api, kind = str(doc.get("apiVersion", "")), doc.get("kind")
    if doc.get("version") == "prometheus/v1" or api.startswith("sloth.slok.dev"):
        return "sloth"
    if api.startswith("pyrra.dev"):
        return "pyrra"
    if api.startswith("openslo/"):
        return "openslo"
    if api.startswith("sre.google.com") or "slo_target" in doc or is_policy(doc):
        return "slo-generator"
    return None if kind is None else None


def detect_format(path: Path) -> str:
    """The tool whose spec ``path`` is (a folder: its files must agree)."""
    found = {f for p in expand([path]) for d in load_documents(p) if (f := _format_of(d)) is not None}
    if len(found) != 1:
        what = "no known spec" if not found else f"specs of several tools ({', '.join(sorted(found))})"
        raise ConfigError(
            f"{path}: {what}. fix: pass a service.yaml or one tool's specs ({', '.join(FORMATS)}), or import it first "
            "with `srekit import FORMAT PATH --out service.yaml`"
        )
    return found.pop()


def configured_slos(config: ServiceConfig) -> ImportResult:
    """Every SLO service.yaml defines beyond journey targets: ``slo.import`` entries (read now)
    and ``slos:`` (what ``srekit import`` wrote)."""
    results = [
        import_specs(
            entry.format,
            [entry.path],
            ImportOptions(
                period=entry.period,
                windows=entry.windows,
                policy=entry.policy,
                policy_name=entry.policy_name,
                journeys=dict(entry.journeys),
                journey_label=config.prometheus.journey_label,
            ),
        )
        for entry in config.slo.imports
    ]
    explicit = explicit_specs(config)
    if explicit:
        results.append(ImportResult("service.yaml", (str(config.path),), explicit))
    return merge(results) if results else ImportResult("none", ())
