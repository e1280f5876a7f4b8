"""`srekit analyze` on the samples equals the golden outputs in ``tests/golden/samples``.

Behaviour changes show up here as a diff; a deliberate change regenerates the golden files
with ``python tests/golden/update.py`` in the same commit.
"""

from __future__ import annotations

import difflib
from pathlib import Path

import pytest

from tests.golden.update import SAMPLES_DIR, analyze, files


@pytest.mark.xdist_group("golden")
def test_analyze_samples_equals_golden(tmp_path: Path) -> None:
    analyze(tmp_path)
    got, want = files(tmp_path), files(SAMPLES_DIR)
    assert sorted(got) == sorted(want), "the set of files written changed"
    for rel in want:
        if got[rel] != want[rel]:
            diff = "".join(
                difflib.unified_diff(
                    want[rel].splitlines(True), got[rel].splitlines(True), f"golden/{rel}", f"now/{rel}", n=1
                )
            )
            pytest.fail(
                f"{rel} differs from the golden output "
                f"(regenerate with python tests/golden/update.py if intended):\n{diff[:4000]}"
            )
