"""Error types. Every message says what went wrong, what was expected, what was found and how
to fix it; it is built before the ``raise``."""

from __future__ import annotations

from collections.abc import Iterable, Sequence


class SrekitError(Exception):
    """Root of every error srekit raises on purpose; the command line prints its message (no
    traceback) and exits with :attr:`exit_code`."""

    #: The command's exit code for this error: 2, unusable input, configuration or arguments.
    exit_code: int = 2


class InputError(SrekitError, ValueError):
    """Unusable input data: names the file, the column, the first offending rows and the fix."""


class ConfigError(SrekitError):
    """A problem in ``service.yaml`` (or another configuration file)."""


class UsageError(SrekitError):
    """A command-line argument that cannot be used (an output path that is a file, a folder
    that cannot be created, …): names the option and the fix."""


class ParameterError(SrekitError):
    """An unknown or malformed notebook parameter (papermill itself only warns)."""


class LimitError(SrekitError):
    """A run would exceed one of the documented resource limits (:mod:`srekit.core.limits`): the
    message names the limit, what needed more, and how to raise it."""


def describe_rows(rows: Sequence[int], *, limit: int = 5) -> str:
    """Render row numbers for a message: ``rows 3, 7, 9 (and 12 more)``.

    Row numbers are 1-based data rows (the header is row 0), as a spreadsheet user counts.
    """
    shown = ", ".join(str(r) for r in list(rows)[:limit])
    more = len(rows) - limit
    suffix = f" (and {more} more)" if more > 0 else ""
    word = "row" if len(rows) == 1 else "rows"
    return f"{word} {shown}{suffix}"


def input_error(
    problem: str,
    *,
    file: str | None = None,
    column: str | None = None,
    rows: Sequence[int] = (),
    expected: str | None = None,
    got: str | None = None,
    fix: str | None = None,
) -> InputError:
    """Build an :class:`InputError` with a uniform message layout."""
    where = []
    if file:
        where.append(f"file {file}")
    if column:
        where.append(f"column {column!r}")
    if rows:
        where.append(describe_rows(rows))
    parts = [problem + (f" ({'; '.join(where)})" if where else "")]
    if expected:
        parts.append(f"expected: {expected}")
    if got:
        parts.append(f"got: {got}")
    if fix:
        parts.append(f"fix: {fix}")
    return InputError(". ".join(parts))


def require_columns(
    present: Iterable[object], required: Sequence[str], *, what: str, expected: str, fix: str, file: str | None = None
) -> None:
    """Raise an :class:`InputError` naming the ``required`` columns missing from ``present``
    (a frame's columns) and the columns that are there."""
    have = [str(c) for c in present]
    missing = [c for c in required if c not in have]
    if missing:
        raise input_error(
            f"{what} is missing required columns",
            file=file,
            column=", ".join(missing),
            expected=expected,
            got=", ".join(have[:12]) + (" …" if len(have) > 12 else ""),
            fix=fix,
        )
