"""Files every layer writes: atomically (a reader or a crash sees the old file or the whole new
one, never half of it), and CSV text that a spreadsheet cannot run as a formula (OWASP "CSV
Injection": a text cell starting with ``=``, ``+``, ``-``, ``@``, tab or carriage return gets a
leading ``'``)."""

from __future__ import annotations

import io
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pandas as pd

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


@contextmanager
def atomic_target(path: str | Path) -> Iterator[Path]:
    """A temporary sibling of ``path`` to write to; renamed over ``path`` when the block ends
    without an error, removed otherwise. A reader (or a crash) sees either the old file or the
    complete new one, never a half-written file at ``path`` (POSIX ``rename`` is atomic within a
    filesystem). The parent folder is created."""
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    tmp = p.parent / f".{p.name}.tmp-{os.getpid()}"
    try:
        yield tmp
        os.replace(tmp, p)
    finally:
        tmp.unlink(missing_ok=True)


def atomic_write(path: str | Path, data: str | bytes, *, durable: bool = True) -> Path:
    """Write ``data`` to ``path`` through :func:`atomic_target`; ``durable`` also flushes it to
    disk (``fsync``) before the rename, for files that must survive a power cut (reports), not
    for scratch files rewritten within the run."""
    raw = data.encode("utf-8") if isinstance(data, str) else data
    with atomic_target(path) as tmp, open(tmp, "wb") as fh:
        fh.write(raw)
        if durable:
            fh.flush()
            os.fsync(fh.fileno())
    return Path(path)


def neutralize(value: Any) -> Any:
    """Prefix ``'`` to text that a spreadsheet would run as a formula; other values unchanged."""
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


def csv_text(df: pd.DataFrame) -> str:
    """CSV of a frame with every text cell (and header) neutralised against formula injection."""
    out = df.copy()
    out.columns = [neutralize(str(c)) for c in out.columns]
    for c in out.columns:
        col = out[c]
        if col.dtype == object or pd.api.types.is_string_dtype(col):
            out[c] = col.map(neutralize)
    buf = io.StringIO()
    out.to_csv(buf, index=False, lineterminator="\n")
    return buf.getvalue()
