"""YAML spec files read with line numbers: every mapping remembers the line it starts on, so an
unmappable SLO or a malformed key is reported as ``file:line``. Reads are bounded like
service.yaml's (size, alias expansion; :func:`srekit.inputs.config.read_yaml`)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from srekit.core.errors import ConfigError
from srekit.inputs.config import MAX_YAML_BYTES, _BoundedLoader

SPEC_SUFFIXES = (".yml", ".yaml")


class Node(dict[str, Any]):
    """A YAML mapping with the (1-based) line it starts on."""

    line: int | None = None


class _LineLoader(_BoundedLoader):
    """The bounded safe loader, building mappings as :class:`Node` with their line."""


def _node(loader: _LineLoader, node: yaml.MappingNode) -> Node:
    out = Node({str(k): v for k, v in loader.construct_mapping(node, deep=True).items()})
    out.line = node.start_mark.line + 1
    return out


_LineLoader.add_constructor("tag:yaml.org,2002:map", _node)


def load_documents(path: Path) -> list[Any]:
    """Every non-empty YAML document of ``path`` (mappings as :class:`Node`)."""
    if not path.is_file():
        raise ConfigError(f"{path}: no such spec file. fix: pass an existing .yml/.yaml file or a folder of them")
    if path.stat().st_size > MAX_YAML_BYTES:
        raise ConfigError(f"{path}: more than {MAX_YAML_BYTES:,} bytes. fix: split the spec file")
    try:
        text = path.read_text(encoding="utf-8-sig")
        return [d for d in yaml.load_all(text, Loader=_LineLoader) if d is not None]
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start}). fix: save it as UTF-8") from exc
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML: {exc}. fix: correct the YAML syntax") from exc


def expand(paths: list[Path]) -> list[Path]:
    """Files as given; folders become their ``*.yml``/``*.yaml`` files (sorted, not recursive
    into ``_gen`` output folders)."""
    out: list[Path] = []
    for p in paths:
        if p.is_dir():
            out += sorted(f for f in p.iterdir() if f.suffix in SPEC_SUFFIXES and f.is_file())
        else:
            out.append(p)
    if not out:
        raise ConfigError(f"no spec files in {', '.join(map(str, paths))}. fix: pass .yml/.yaml files or a folder")
    return out


def line_of(obj: Any) -> int | None:
    return obj.line if isinstance(obj, Node) else None
