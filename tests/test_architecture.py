"""The layer contract (docs/architecture.md) holds, and breaking it fails with both module names.

``lint-imports`` reads the contracts from pyproject.toml. The negative test copies the package
into a temporary folder, adds one wrong-way import and checks the linter names the offence.
"""

from __future__ import annotations

import ast
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT

LINT = Path(sys.executable).with_name("lint-imports")


def lint(cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(cwd)}
    return subprocess.run([str(LINT), "--no-cache"], cwd=cwd, env=env, capture_output=True, text=True, timeout=120)


def scratch_copy(tmp_path: Path) -> Path:
    shutil.copytree(ROOT / "srekit", tmp_path / "srekit", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    return tmp_path


def test_the_package_keeps_every_contract() -> None:
    done = lint(ROOT)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "0 broken" in done.stdout


@pytest.mark.parametrize(
    ("module", "bad_import", "expected"),
    [
        # analysis reaching up into the report layer
        ("analysis/budget.py", "from srekit.report import runner", "srekit.analysis.budget -> srekit.report.runner"),
        # inputs reaching up into analysis, hidden inside a function
        (
            "inputs/loaders.py",
            "def _sneaky():\n    from srekit.analysis import toil\n    return toil",
            "srekit.inputs.loaders -> srekit.analysis.toil",
        ),
        # a plotting library inside the pure analysis layer
        ("analysis/toil/roi.py", "import matplotlib", "srekit.analysis.toil.roi -> matplotlib"),
    ],
)
def test_a_wrong_way_import_is_caught_and_named(tmp_path: Path, module: str, bad_import: str, expected: str) -> None:
    root = scratch_copy(tmp_path)
    path = root / "srekit" / module
    path.write_text(path.read_text(encoding="utf-8") + "\n\n" + bad_import + "\n", encoding="utf-8")
    done = lint(root)
    assert done.returncode != 0
    assert expected in done.stdout, done.stdout


def test_a_cycle_between_siblings_is_caught(tmp_path: Path) -> None:
    root = scratch_copy(tmp_path)
    path = root / "srekit" / "analysis" / "explain.py"  # alerting imports explain; make explain import alerting
    path.write_text(path.read_text(encoding="utf-8") + "\n\nfrom srekit.analysis import alerting  # noqa\n")
    done = lint(root)
    assert done.returncode != 0
    assert "No cycles are allowed in srekit.analysis" in done.stdout, done.stdout


def _functions(tree: ast.AST) -> list[ast.FunctionDef | ast.AsyncFunctionDef]:
    return [n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef)]


MAX_ANALYSIS_FUNCTION_LINES = 60


def test_analysis_functions_are_short() -> None:
    """Every function in the analysis layer fits on a screen (docstring included)."""
    long = []
    for path in sorted((ROOT / "srekit" / "analysis").rglob("*.py")):
        for fn in _functions(ast.parse(path.read_text(encoding="utf-8"))):
            n = (fn.end_lineno or fn.lineno) - fn.lineno + 1
            if n > MAX_ANALYSIS_FUNCTION_LINES:
                long.append(f"{path.relative_to(ROOT)}:{fn.lineno} {fn.name} ({n} lines)")
    assert not long, "split these into named steps:\n" + "\n".join(long)


def test_analysis_has_no_nonlocal_state() -> None:
    """Entry points are named steps that return values, not closures mutating shared lists."""
    found = [
        f"{p.relative_to(ROOT)}:{n.lineno}"
        for p in sorted((ROOT / "srekit" / "analysis").rglob("*.py"))
        for n in ast.walk(ast.parse(p.read_text(encoding="utf-8")))
        if isinstance(n, ast.Nonlocal | ast.Global)
    ]
    assert not found, found
