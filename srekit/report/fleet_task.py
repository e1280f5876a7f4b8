"""``python -m srekit.report.fleet_task JOB OUTCOME``: one fleet service built in this interpreter
(how a daemonic Dask worker runs a task: :func:`srekit.report.fleet.build_service_isolated`).

``JOB`` holds a pickled :class:`srekit.report.fleet.ServiceJob`; the
:class:`srekit.report.fleet.ServiceOutcome` is pickled to ``OUTCOME``. A module of its own so the
pickled classes are ``srekit.report.fleet``'s, never ``__main__``'s."""

from __future__ import annotations

import pickle
import sys
from collections.abc import Sequence
from pathlib import Path

from srekit.core.files import atomic_write
from srekit.report.fleet import build_service


def main(argv: Sequence[str] | None = None) -> int:
    src, dst = list(sys.argv[1:] if argv is None else argv)
    job = pickle.loads(Path(src).read_bytes())
    atomic_write(Path(dst), pickle.dumps(build_service(job)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
