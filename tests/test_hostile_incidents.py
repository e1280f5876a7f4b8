"""Hostile incident files, generic and through the vendor presets (issue 12): ragged rows never
shift ids into titles, negative delays never reach the analysis, text is bounded, and nothing but a
SrekitError escapes."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from hostile_inputs import (
    NASTY,
    check_ledger,
    check_names,
    check_stamps,
    free_text,
    iso,
    load_or_refuse,
    mangled_csv,
    names,
    raw_lines,
    stamps_strategy,
    typed_parquet,
    write_bytes,
    write_parquet,
)
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from srekit.core.errors import InputError
from srekit.core.limits import DEFAULT_LIMITS, Limits
from srekit.inputs import loaders as io
from srekit.inputs.columns import MISSING_TOKENS

HEADER = [
    "id",
    "title",
    "started_at",
    "detected_at",
    "acknowledged_at",
    "mitigated_at",
    "resolved_at",
    "severity",
    "detection",
    "journey",
    "postmortem",
    "action_items_open",
]


def write(tmp: Path, text: str, name: str = "i.csv") -> Path:
    p = tmp / name
    p.write_text(text)
    return p


@st.composite
def valid_row(draw: st.DrawFn) -> list[str]:
    start = draw(stamps_strategy(last="2099-12-01")).floor("s")  # + up to 12 days stays in range
    gaps = sorted(draw(st.lists(st.integers(0, 10**6), min_size=4, max_size=4)))
    stamps = [iso(start + pd.Timedelta(seconds=g)) for g in gaps]
    return [
        draw(names),
        draw(free_text),
        iso(start),
        *stamps,
        draw(st.sampled_from(["SEV1", "sev 2", "P3", "low", ""])),
        draw(st.sampled_from(["alert", "customer", "internal", ""])),
        draw(names),
        draw(st.sampled_from(["done", "pending", "none", ""])),
        str(draw(st.integers(0, 50))),
    ]


def check_frame(got: io.Loaded) -> None:
    f = got.frame
    assert f["id"].notna().all() and f["id"].is_unique
    check_names(f["id"], allow_missing=False)
    check_names(f["journey"])
    check_stamps(f["started_at"])
    for col in ("detected_at", "acknowledged_at", "mitigated_at", "resolved_at"):
        check_stamps(f[col], allow_missing=True)
    for later, earlier in io.LIFECYCLE_ORDER + (("resolved_at", "started_at"),):
        delay = (f[later] - f[earlier]).dropna()
        assert (delay >= pd.Timedelta(0)).all(), f"{later} before {earlier}"
    assert (f["title"].dropna().str.len() <= DEFAULT_LIMITS.max_text_chars).all()
    assert set(f["severity"].dropna()) <= {"SEV1", "SEV2", "SEV3", "SEV4"}
    assert str(f["action_items_open"].dtype) == "Int64" and (f["action_items_open"].dropna() >= 0).all()


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=mangled_csv(HEADER, valid_row()))
def test_mangled_csv_loads_or_refuses_cleanly(tmp_path_factory: pytest.TempPathFactory, data: object) -> None:
    p = write_bytes(tmp_path_factory.mktemp("inc"), "i.csv", data.data)  # type: ignore[attr-defined]
    got = load_or_refuse(io.load_incidents, p)
    if got is not None:
        check_ledger(got, data.rows)  # type: ignore[attr-defined]
        check_frame(got)


@settings(max_examples=30, deadline=None)
@given(lines=raw_lines)
def test_arbitrary_text_never_crashes(tmp_path_factory: pytest.TempPathFactory, lines: list[str]) -> None:
    p = write_bytes(
        tmp_path_factory.mktemp("raw"), "i.csv", ("id,started_at,resolved_at\n" + "\n".join(lines)).encode()
    )
    got = load_or_refuse(io.load_incidents, p)
    if got is not None:
        check_ledger(got)
        check_frame(got)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(frame=typed_parquet(HEADER, valid_row()))
def test_typed_parquet_never_crashes(tmp_path_factory: pytest.TempPathFactory, frame: pd.DataFrame) -> None:
    """Parquet columns of any type (uint64 beyond int64, NaN, infinities, any year, durations,
    bytes, categories) load or are refused with a SrekitError."""
    p = write_parquet(tmp_path_factory.mktemp("pq"), frame)
    got = None if p is None else load_or_refuse(io.load_incidents, p)
    if got is not None:
        check_ledger(got, len(frame))
        check_frame(got)


json_value = st.recursive(
    st.one_of(
        st.none(),
        st.booleans(),
        st.integers(min_value=-(10**30), max_value=10**30),
        st.floats(allow_nan=True, allow_infinity=True),
        st.sampled_from(NASTY),
        stamps_strategy().map(iso),
    ),
    lambda inner: st.one_of(
        st.lists(inner, max_size=3),
        st.dictionaries(st.sampled_from(["name", "status", "created_at"]), inner, max_size=3),
    ),
    max_leaves=6,
)
PRESET_FIELDS = {
    "pagerduty": [
        "id",
        "incident_number",
        "description",
        "created_at",
        "resolved_at",
        "status",
        "priority_name",
        "major",
        "seconds_to_first_ack",
        "service_name",
    ],
    "opsgenie": [
        "tinyId",
        "id",
        "message",
        "createdAt",
        "closedAt",
        "updatedAt",
        "status",
        "priority",
        "report",
        "acknowledgedAt",
    ],
    "statuspage": [
        "id",
        "name",
        "started_at",
        "created_at",
        "resolved_at",
        "monitoring_at",
        "status",
        "impact",
        "components",
        "incident_updates",
    ],
    "gcp": ["id", "number", "external_desc", "begin", "created", "end", "severity", "service_name"],
}


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    preset=st.sampled_from(sorted(PRESET_FIELDS)),
    data=st.data(),
)
def test_vendor_json_loads_or_refuses_cleanly(
    tmp_path_factory: pytest.TempPathFactory, preset: str, data: st.DataObject
) -> None:
    """Vendor documents with any JSON value in any field (nested objects, huge integers, NaN,
    stamps in every form) go through the preset and the generic checks without a traceback."""
    fields = PRESET_FIELDS[preset]
    records = data.draw(
        st.lists(st.dictionaries(st.sampled_from(fields), json_value, max_size=len(fields)), min_size=1, max_size=6)
    )
    p = tmp_path_factory.mktemp("pre") / "inc.json"
    p.write_text(json.dumps(records))
    got = load_or_refuse(lambda path: io.load_incidents(path, fmt=preset), p)
    if got is not None:
        check_ledger(got, len(records))
        check_frame(got)


@settings(max_examples=30, deadline=None)
@given(rows=st.lists(valid_row(), min_size=1, max_size=15, unique_by=lambda r: r[0]))
def test_round_trip(tmp_path_factory: pytest.TempPathFactory, rows: list[list[str]]) -> None:
    """Valid incidents come back with the same ids, titles and stamps (to the microsecond)."""
    df = pd.DataFrame(rows, columns=HEADER)
    p = tmp_path_factory.mktemp("rt") / "i.csv"
    df.to_csv(p, index=False)
    got = io.load_incidents(p).frame.set_index("id")
    assert not io.load_incidents(p).entry.rejected
    for _, r in df.iterrows():
        g = got.loc[r["id"]]
        title = r["title"].strip()
        missing = title.lower() in MISSING_TOKENS  # "", "none", "-" … are documented as missing
        assert pd.isna(g["title"]) if missing else g["title"] == title
        for c in ("started_at", "detected_at", "acknowledged_at", "mitigated_at", "resolved_at"):
            assert g[c] == pd.Timestamp(r[c])


# ------------------------------------------------------------------------- the examples


def test_extra_comma_does_not_turn_ids_into_titles(tmp_path: Path) -> None:
    """pandas used the first column as the index: ids became titles and I1 an open incident."""
    p = write(
        tmp_path,
        "id,title,started_at,resolved_at\n"
        "I1,Outage,2024-01-01T00:00:00Z,2024-01-01T01:00:00Z,\n"
        "I2,Slow,2024-01-02T00:00:00Z,2024-01-02T01:00:00Z\n"
        "I3,Down,2024-01-03T00:00:00Z,2024-01-03T02:00:00Z\n",
    )
    got = io.load_incidents(p)
    assert got.frame["id"].tolist() == ["I2", "I3"] and got.frame["title"].tolist() == ["Slow", "Down"]
    assert got.frame["resolved_at"].notna().all() and "open_incidents" not in got.entry.notes
    assert dict(got.entry.rejected) == {"wrong number of fields": 1} and got.rejects["row"].tolist() == [1]


def test_extra_comma_in_a_vendor_csv_export(tmp_path: Path) -> None:
    p = write(
        tmp_path,
        "id,name,started_at,created_at,resolved_at,impact,status\n"
        "a1,API down,2024-01-01T00:00:00Z,2024-01-01T00:05:00Z,2024-01-01T01:00:00Z,major,resolved,oops\n"
        "a2,Slow,2024-01-02T00:00:00Z,2024-01-02T00:05:00Z,2024-01-02T01:00:00Z,minor,resolved\n",
    )
    got = io.load_incidents(p, fmt="statuspage")
    assert got.frame["id"].tolist() == ["a2"] and dict(got.entry.rejected) == {"wrong number of fields": 1}


def test_negative_delays_are_cleared_and_counted(tmp_path: Path) -> None:
    p = write(
        tmp_path,
        "id,started_at,detected_at,acknowledged_at,mitigated_at,resolved_at\n"
        "I1,2024-01-01T10:00Z,2024-01-01T09:40Z,2024-01-01T09:50Z,2024-01-01T09:55Z,2024-01-01T11:00Z\n"
        "I2,2024-01-01T10:00Z,2024-01-01T10:20Z,2024-01-01T10:10Z,2024-01-01T10:30Z,2024-01-01T11:00Z\n"
        "I3,2024-01-01T10:00Z,2024-01-01T10:05Z,2024-01-01T10:07Z,2024-01-01T10:30Z,2024-01-01T11:00Z\n",
    )
    got = io.load_incidents(p)
    f = got.frame.set_index("id")
    assert f.loc["I1", ["detected_at", "acknowledged_at", "mitigated_at"]].isna().all()
    assert pd.isna(f.loc["I2", "acknowledged_at"]) and f.loc["I2", "detected_at"] == pd.Timestamp("2024-01-01T10:20Z")
    assert f.loc["I3"].notna().all() if "title" not in f else True
    assert {k: v for k, v in got.entry.notes.items() if k.startswith("cleared_")} == {
        "cleared_detected_before_started": 1,
        "cleared_acknowledged_before_started": 1,
        "cleared_mitigated_before_started": 1,
        "cleared_acknowledged_before_detected": 1,
    }
    assert got.entry.rows_accepted == 3


def test_long_text_is_cut_and_long_names_rejected(tmp_path: Path) -> None:
    limits = Limits(max_text_chars=50, max_name_chars=10)
    p = write(
        tmp_path,
        "id,title,cause,started_at,resolved_at,journey\n"
        f"I1,{'t' * 5000},{'c' * 60},2024-01-01T00:00Z,2024-01-01T01:00Z,checkout\n"
        f"{'i' * 11},short,x,2024-01-01T00:00Z,2024-01-01T01:00Z,checkout\n"
        f"I3,short,x,2024-01-01T00:00Z,2024-01-01T01:00Z,{'j' * 11}\n",
    )
    got = io.load_incidents(p, limits=limits)
    assert got.frame["id"].tolist() == ["I1"]
    assert got.frame["title"].iloc[0] == "t" * 49 + "…" and len(got.frame["cause"].iloc[0]) == 50
    assert got.entry.notes["title_truncated"] == 1 and got.entry.notes["cause_truncated"] == 1
    assert dict(got.entry.rejected) == {"too long id": 1, "too long journey": 1}


@pytest.mark.parametrize(
    ("cell", "reason"),
    [
        ("1e20", "too large action_items_open"),
        ("1,5", "decimal comma in action_items_open"),
        ("2.5", "non-integer action_items_open"),
        ("-1", "negative action_items_open"),
    ],
)
def test_action_item_counts(tmp_path: Path, cell: str, reason: str) -> None:
    p = write(
        tmp_path,
        "id,started_at,resolved_at,action_items_open\n"
        f'I1,2024-01-01T00:00Z,2024-01-01T01:00Z,"{cell}"\nI2,2024-01-01T00:00Z,2024-01-01T01:00Z,"1,000"\n',
    )
    got = io.load_incidents(p)
    assert dict(got.entry.rejected) == {reason: 1} and got.frame["action_items_open"].tolist() == [1000]


def test_json_with_a_repeated_key_is_refused(tmp_path: Path) -> None:
    p = tmp_path / "i.json"
    p.write_text('[{"id": "I1", "started_at": "2024-01-01T00:00Z", "resolved_at": "2024-01-01T01:00Z", "id": "I2"}]')
    with pytest.raises(InputError, match="repeats the key 'id'"):
        io.load_incidents(p)


def test_deeply_nested_json_is_refused(tmp_path: Path) -> None:
    p = tmp_path / "i.json"
    p.write_text("[" * 100000 + "]" * 100000)
    with pytest.raises(InputError, match="nested too deeply"):
        io.load_incidents(p)


def test_vendor_offsets_that_are_not_numbers_reject_the_row(tmp_path: Path) -> None:
    """A garbage ``seconds_to_first_ack`` used to leave acknowledged_at silently empty."""
    records: list[dict[str, Any]] = [
        {
            "id": "P1",
            "created_at": "2024-01-01T00:00:00Z",
            "resolved_at": "2024-01-01T01:00:00Z",
            "seconds_to_first_ack": "soon",
        },
        {
            "id": "P2",
            "created_at": "2024-01-01T00:00:00Z",
            "resolved_at": "2024-01-01T01:00:00Z",
            "seconds_to_first_ack": 1e300,
        },
        {
            "id": "P3",
            "created_at": "2024-01-01T00:00:00Z",
            "resolved_at": "2024-01-01T01:00:00Z",
            "seconds_to_first_ack": 30,
        },
    ]
    p = tmp_path / "pd.json"
    p.write_text(json.dumps({"data": records}))
    got = io.load_incidents(p)
    assert got.frame["id"].tolist() == ["P3"]
    assert dict(got.entry.rejected) == {"unparseable acknowledged_at": 2}
    assert got.rejects["acknowledged_at"].tolist() == [
        "2024-01-01T00:00:00Z + soon s",
        "2024-01-01T00:00:00Z + 1e+300 s",
    ]


def test_statuspage_updates_of_the_wrong_shape(tmp_path: Path) -> None:
    doc = [
        {
            "id": "s1",
            "name": "x",
            "created_at": "2024-01-01T00:00:00Z",
            "resolved_at": "2024-01-01T01:00:00Z",
            "impact": "minor",
            "incident_updates": "identified at noon",
            "components": [{"name": 5}],
        },
    ]
    p = tmp_path / "sp.json"
    p.write_text(json.dumps(doc))
    got = io.load_incidents(p)
    assert got.frame["journey"].tolist() == ["5"] and pd.isna(got.frame["acknowledged_at"].iloc[0])


def test_vendor_csv_with_a_repeated_column_is_refused(tmp_path: Path) -> None:
    p = write(
        tmp_path,
        "id,name,started_at,started_at,resolved_at\na,x,2024-01-01T00:00Z,2024-01-02T00:00Z,2024-01-03T00:00Z\n",
    )
    with pytest.raises(InputError, match="repeats the column"):
        io.load_incidents(p, fmt="statuspage")


@pytest.mark.parametrize(
    ("stamp", "reason"),
    [
        ("12:00", "unparseable started_at"),
        ("9999-01-01", "started_at out of range"),
        ("12345678901234", "started_at out of range"),
    ],
)
def test_odd_start_stamps(tmp_path: Path, stamp: str, reason: str) -> None:
    p = write(tmp_path, f"id,started_at,resolved_at\nI1,{stamp},\nI2,2024-01-01T00:00Z,2024-01-01T01:00Z\n")
    got = io.load_incidents(p)
    assert dict(got.entry.rejected) == {reason: 1}
