"""Regenerate the golden sample outputs: ``python tests/golden/update.py``.

The golden files are `srekit analyze` on ``data/samples`` (report.json, report.md, the CSV
exports and the rules folder) with the generation time replaced by ``GENERATED_AT``. A change
that alters them on purpose regenerates them in the same commit, so the diff shows what moved.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from srekit.core.escape import md_text

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
SAMPLES_DIR = HERE / "samples"
GENERATED_AT = "2000-01-01T00:00:00+00:00"
_STAMP = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?\+00:00")


def normalise(path: Path, text: str) -> str:
    """The file's text with the generation time made constant (only where it is the run's) and
    the checkout's folder written as ``<repo>`` (paths of the input files appear in the ledger)."""
    text = text.replace(md_text(str(ROOT)), "\\<repo>")  # report.md escapes the path (a "." in it too)
    text = text.replace(str(ROOT), "<repo>")
    if path.name == "report.json":
        return re.sub(r'("generated_at": )"[^"]*"', rf'\1"{GENERATED_AT}"', text)
    if path.name == "report.md":
        lines = text.splitlines(keepends=True)
        return "".join(_STAMP.sub(GENERATED_AT, ln) if "enerated" in ln else ln for ln in lines)
    return text


def analyze(out: Path) -> None:
    """Run `srekit analyze` on the samples into ``out`` (as the user runs it)."""
    subprocess.run(
        [
            sys.executable,
            "-m",
            "srekit.cli",
            "analyze",
            "--config",
            str(ROOT / "data/samples/service.yaml"),
            "--out",
            str(out),
        ],
        check=True,
        capture_output=True,
        text=True,
    )


def files(root: Path) -> dict[str, str]:
    """Every file under ``root`` by relative path, normalised."""
    return {
        p.relative_to(root).as_posix(): normalise(p, p.read_text(encoding="utf-8"))
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        analyze(Path(tmp))
        shutil.rmtree(SAMPLES_DIR, ignore_errors=True)
        for rel, text in files(Path(tmp)).items():
            target = SAMPLES_DIR / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text, encoding="utf-8")
    print(f"wrote {SAMPLES_DIR}")


if __name__ == "__main__":
    main()
