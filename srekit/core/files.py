"""Files every layer writes: atomically (a reader or a crash sees the old file or the whole new
one, never half of it), CSV text that a spreadsheet cannot run as a formula (OWASP "CSV
Injection": a text cell starting with ``=``, ``+``, ``-``, ``@``, tab or carriage return gets a
leading ``'``; numbers, and text that is a plain number, are left alone), and file names made
from data that stay one safe name inside the output folder."""

from __future__ import annotations

import hashlib
import io
import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from srekit.core.errors import SrekitError
from srekit.core.escape import is_plain_number
from srekit.core.lazy import LazyModule

if TYPE_CHECKING:
    import pandas as pd
else:
    pd = LazyModule("pandas")

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
    """A CSV cell a spreadsheet cannot run: ``'`` before text that starts with a formula
    character (``= + - @``, tab, carriage return). Numbers, and text that is a plain number
    (``-0.2``, ``+3``, ``-1,234.5``), are values, not formulas: unchanged, as is everything else."""
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES) and not is_plain_number(value):
        return "'" + value
    return value


def csv_text(df: pd.DataFrame, *, header: bool = True) -> str:
    """CSV of a frame with every text cell (and header) neutralised against formula injection
    (:func:`neutralize`); numeric columns are written as they are. Rows end in CRLF (RFC 4180):
    then a cell holding a carriage return is quoted like one holding a comma, a quote or a line
    feed (with ``\\n`` row ends Python's writer leaves a lone ``\\r`` bare, and a reader starts
    a new row, and maybe a formula, there). The one CSV writer of srekit's outputs (exports next
    to report.json, quarantined input rows; ``header=False`` for rows appended to such a file)."""
    out = df.copy()
    out.columns = [neutralize(str(c)) for c in out.columns]
    for c in out.columns:
        col = out[c]
        if col.dtype == object or pd.api.types.is_string_dtype(col):
            out[c] = col.map(neutralize)
    buf = io.StringIO()
    out.to_csv(buf, index=False, header=header, lineterminator="\r\n")
    return buf.getvalue()


#: Characters a file name made from data keeps; everything else becomes ``-``.
_UNSAFE_NAME = re.compile(r"[^A-Za-z0-9._-]+")

#: Longest file name made from data (bytes; ASCII only), well under every filesystem's 255.
MAX_NAME_BYTES = 100


def safe_file_name(text: str, *, fallback: str = "unnamed", max_length: int = MAX_NAME_BYTES) -> str:
    """One path component made from data (a service, journey, SLO or alert name): only ASCII
    letters, digits, ``.``, ``_`` and ``-`` (``/``, ``\\``, ``:``, spaces, control and non-ASCII
    characters become ``-``), no leading or trailing ``.``/``-`` (so never ``.``, ``..`` or a
    hidden file), at most ``max_length`` characters, ``fallback`` when nothing is left. A longer
    name keeps its start and ends with 8 hex digits of a hash of the whole text, so two long names
    that differ only after the cut (``…BudgetBurnFast``, ``…BudgetBurnSlow``) stay two files."""
    name = _UNSAFE_NAME.sub("-", text).strip("-.")
    if len(name) > max_length:
        digest = hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=4).hexdigest()
        head = name[: max(max_length - len(digest) - 1, 0)].rstrip("-.")
        name = f"{head}-{digest}" if head else digest[:max_length]
    return name or fallback


def inside(root: str | Path, relative: str | Path) -> Path:
    """``root / relative``, checked to stay inside ``root`` (after resolving ``..`` and links);
    a :class:`SrekitError` otherwise."""
    base = Path(root).resolve()
    target = (base / relative).resolve()
    if base != target and base not in target.parents:
        raise SrekitError(f"{relative} would be written outside the output folder {root}")
    return target
