"""Shared test helpers: the real-data corpus beside the repository and required tools."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pandas as pd
import pytest

ROOT = Path(__file__).resolve().parents[1]
EXTERNAL = ROOT.parent / "shared" / "external"
SAMPLES = ROOT / "data" / "samples"


def external(*parts: str) -> Path:
    """Path into ../shared/external; skips the test (clear reason) when it is absent."""
    p = EXTERNAL.joinpath(*parts)
    if not p.exists():
        pytest.skip(f"real-data corpus not present: {p}")
    return p


def require_tool(name: str) -> str:
    """Absolute path of a command-line tool. Missing tools skip locally but fail under CI
    (CI=true), where .ci/run installs them."""
    found = shutil.which(name)
    if found:
        return found
    if os.environ.get("CI"):
        pytest.fail(f"{name} is not installed; .ci/run should have installed it")
    pytest.skip(f"{name} not installed (apt-get install it, or run .ci/run)")
    raise AssertionError("unreachable")


def journey_telemetry(path: Path) -> pd.DataFrame:
    """A telemetry file per (journey, interval): its label columns (the samples' ``region``)
    summed away, as ``srekit`` loads it (``srekit.inputs.telemetry.split_labels``)."""
    from srekit.inputs.telemetry import split_labels

    return split_labels(pd.read_parquet(path))[0]
