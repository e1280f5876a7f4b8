"""`make bench`: run every benchmarks/bench_*.py and write benchmarks/RESULTS.md.

Each bench module exposes ``main() -> str`` returning a Markdown section (its own heading,
the measured medians, the goal and whether it was met). ``python benchmarks/run.py NAME``
runs only bench_NAME.py and updates its section.
"""

from __future__ import annotations

import importlib.util
import platform
import re
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "RESULTS.md"


def _load(path: Path):  # type: ignore[no-untyped-def]
    spec = importlib.util.spec_from_file_location(path.stem, path)
    assert spec and spec.loader
    mod = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = mod  # dataclasses look their module up
    spec.loader.exec_module(mod)
    return mod


def _sections() -> dict[str, str]:
    if not RESULTS.exists():
        return {}
    text = RESULTS.read_text()
    found = re.findall(r"<!-- bench:(\w+) -->\n(.*?)<!-- /bench:\1 -->", text, flags=re.S)
    return dict(found)


def main(argv: list[str]) -> int:
    sys.path.insert(0, str(HERE.parent))
    names = argv or sorted(p.stem.removeprefix("bench_") for p in HERE.glob("bench_*.py"))
    sections = _sections()
    for name in names:
        t0 = time.perf_counter()
        print(f"== bench {name}", flush=True)
        body = _load(HERE / f"bench_{name}.py").main()
        print(body, flush=True)
        sections[name] = body.rstrip() + f"\n\n_(bench run took {time.perf_counter() - t0:.0f} s)_\n"
    header = (
        "# Benchmark results\n\nWritten by `make bench` (benchmarks/run.py). Medians of repeated runs "
        f"on this machine: {platform.machine()}, Python {platform.python_version()}, 2 cores.\n\n"
    )
    body = "".join(f"<!-- bench:{k} -->\n{v.rstrip()}\n<!-- /bench:{k} -->\n\n" for k, v in sorted(sections.items()))
    RESULTS.write_text(header + body)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
