"""``srekit schema [--fleet] [--out FILE]``: the JSON Schema of ``service.yaml`` (with ``--fleet``: of
``fleet.yaml``), for editors that validate YAML while it is typed (e.g. VS Code's YAML extension:
``# yaml-language-server: $schema=FILE``)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from srekit.cli import output_file
from srekit.core.files import atomic_write
from srekit.inputs.config import json_schema


def add_schema_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--out", help="write the schema to this file instead of printing it")
    parser.add_argument("--fleet", action="store_true", help="the schema of fleet.yaml instead of service.yaml")


def run_schema(args: argparse.Namespace) -> int:
    if args.fleet:
        from srekit.inputs.fleet import fleet_json_schema

        schema = fleet_json_schema()
    else:
        schema = json_schema()
    text = json.dumps(schema, indent=2, ensure_ascii=False) + "\n"
    if args.out:
        atomic_write(output_file(Path(args.out), example="service.schema.json"), text)
        print(f"wrote {args.out}", file=sys.stderr)
    else:
        sys.stdout.write(text)
    return 0
