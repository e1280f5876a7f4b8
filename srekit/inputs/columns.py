"""Canonical in-memory columns of every input kind after loading (docs/inputs.md).

Loaders (``srekit.inputs.loaders``) produce exactly these columns (optional ones present and NA-filled when
the source lacks them); analyses rely on them. Times are ``datetime64[us, UTC]``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

import numpy as np

from srekit.core.errors import input_error
from srekit.core.lazy import LazyModule

if TYPE_CHECKING:
    import pandas as pd
else:
    pd = LazyModule("pandas")

REQUESTS = ("timestamp", "latency_ms", "error", "journey")  # float ms, bool, str
SERIES = ("timestamp", "value", "journey")  # float value (e.g. mean or p95 latency ms)
INCIDENTS = (
    "id",
    "title",
    "started_at",
    "detected_at",
    "acknowledged_at",
    "mitigated_at",
    "resolved_at",
    "severity",
    "cause",
    "detection",
    "journey",
    "postmortem",
    "action_items_open",
    "action_items_closed",
)
INCIDENT_TIMES = ("started_at", "detected_at", "acknowledged_at", "mitigated_at", "resolved_at")
# severity: "SEV1" (worst) .. "SEV4"; detection: "alert" | "customer" | "internal" | NA;
# postmortem: "done" | "pending" | "none" | NA; action_items_*: Int64 (nullable)
TOIL = ("date", "task", "minutes", "category", "engineer", "automatable")
ALERTS = ("timestamp", "alert", "severity", "actionable", "incident_id")
# alerts.severity: "page" | "ticket" | other text; actionable: boolean (nullable)
DEPLOYS = ("timestamp", "result", "service")  # result: "success" | "rollback" | "failed"

#: Cells that count as missing in every input kind (compared lower-cased, stripped).
MISSING_TOKENS = frozenset({"", "na", "n/a", "nan", "nat", "null", "none", "-"})
#: Journey of rows whose source has no journey column at all.
DEFAULT_JOURNEY = "all"
#: Journey of rows whose journey cell is empty or a missing token (ledger note ``journey_missing``).
MISSING_JOURNEY = "unknown"


def folded(name: str) -> str:
    """A column name as the table loaders match it to a canonical one: lower case, letters and
    digits only (``Interval Start`` is ``intervalstart``)."""
    return re.sub(r"[^a-z0-9]", "", str(name).lower())


def _listing(names: Sequence[str], hits: Sequence[int]) -> str:
    return ", ".join(f"{names[i]!r} (column {i + 1})" for i in hits)


def find_header(
    names: Sequence[str],
    canon: str,
    fold: Callable[[str], str],
    *,
    mapped: str | None = None,
    source: str,
    kind: str,
) -> str | None:
    """The one header that supplies ``canon``: the mapped name when given, else the header equal
    to ``canon`` after ``fold`` (case, punctuation). None when there is none.

    Two headers that both qualify are an :class:`~srekit.core.errors.InputError` naming them and
    their positions, never a silent pick of the first: a repeated name (``total`` twice), or two
    spellings of one column (``timestamp`` and ``TimeStamp``).
    """
    if mapped is not None:
        hits = [i for i, n in enumerate(names) if n == mapped]
        if len(hits) > 1:
            raise input_error(
                f"the column mapped to {canon!r} appears {len(hits)} times: {_listing(names, hits)}",
                file=source,
                column=mapped,
                expected="each column name once in the header",
                fix="rename or remove the repeated columns in the file",
            )
        return mapped if hits else None
    want = fold(canon)
    hits = [i for i, n in enumerate(names) if fold(n) == want]
    if len(hits) > 1:
        same = len({names[i] for i in hits}) == 1
        fix = (
            "rename or remove the repeated columns in the file"
            if same
            else f"remove or rename the others, or name the one to use: --columns {canon}=COLUMN "
            f"(data.{kind}_columns in service.yaml)"
        )
        raise input_error(
            f"{len(hits)} columns match {canon!r}: {_listing(names, hits)}",
            file=source,
            column=canon,
            expected=f"exactly one {kind} column for {canon!r}",
            fix=fix,
        )
    return names[hits[0]] if hits else None


def text_cells(s: pd.Series) -> pd.Series:
    """Any column as text (``str`` dtype, missing stays missing), whatever its type: booleans as
    ``true``/``false``, datetimes of any year as ISO text (pandas cannot format years beyond
    9999 or before 1), anything else by ``str``."""
    if pd.api.types.is_bool_dtype(s):
        return s.map({True: "true", False: "false"}).astype("str")
    if pd.api.types.is_datetime64_any_dtype(s):
        aware = getattr(s.dt, "tz", None) is not None
        values = (s.dt.tz_convert("UTC").dt.tz_localize(None) if aware else s).to_numpy(dtype="datetime64[us]")
        text = np.datetime_as_string(values, unit="us")
        out = pd.Series(text, index=s.index, dtype="str").mask(pd.Series(np.isnat(values), index=s.index))
        return (out + "Z") if aware else out
    try:
        return s.astype("str")
    except (ValueError, TypeError, OverflowError, NotImplementedError):
        return pd.Series([None if v is None else str(v) for v in s.tolist()], index=s.index, dtype="str")
