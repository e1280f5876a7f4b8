"""The monthly compliance calendar (``srekit.analysis.calendar``, ``error_budget_policy.calendar``):
hand-computed months, the month edges of the service's timezone, months without events, the
exact decision at the objective, and a month of the samples summed by hand from the telemetry."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from conftest import SAMPLES

from srekit.analysis.budget import budget_policy
from srekit.analysis.calendar import MonthCompliance, month_bounds, monthly_compliance
from srekit.core.spec import SLOSpec
from srekit.inputs.config import parse_config
from tests.golden.update import SAMPLES_DIR


def spec(target: float, **kw: object) -> SLOSpec:
    return SLOSpec(name=str(kw.pop("name", "a-availability")), journey="a", sli="availability", target=target, **kw)  # type: ignore[arg-type]


def minutes(start: str, end: str, total: int = 100) -> pd.DataFrame:
    idx = pd.date_range(start, end, freq="min", inclusive="left", tz="UTC")
    return pd.DataFrame({"total": np.full(len(idx), total, dtype=np.int64), "bad": 0}, index=idx)


def test_a_hand_computed_month() -> None:
    """February 2026 in UTC: 28 × 1440 minutes of 100 requests = 4,032,000; 50 minutes with 10
    bad each = 500 bad. Attainment 1 − 500/4,032,000 = 0.99987599…; at 99.99 % the month allows
    403.2 bad requests, so 500 uses 124.0 % of its budget: missed. At 99.9 % (4,032 allowed) it
    uses 12.4 %: met. March is partial (the data ends on the 11th at 00:00)."""
    ev = minutes("2026-02-01", "2026-03-11")
    ev.loc[pd.Timestamp("2026-02-10T08:00Z") : pd.Timestamp("2026-02-10T08:49Z"), "bad"] = 10
    ev.loc[pd.Timestamp("2026-03-05T00:00Z"), "bad"] = 7
    end = pd.Timestamp("2026-03-11T00:00Z")
    feb, mar = monthly_compliance(ev, spec(0.9999), end=end)
    assert (feb.month, feb.total_events, feb.bad_events) == ("2026-02", 4_032_000, 500)
    assert feb.attainment == pytest.approx(1 - 500 / 4_032_000, abs=1e-15)
    assert feb.consumed == pytest.approx(500 / 403.2, rel=1e-12) and feb.met is False and feb.status == "missed"
    assert feb.coverage == 1.0 and feb.start == pd.Timestamp("2026-02-01", tz="UTC")
    assert feb.end == pd.Timestamp("2026-03-01", tz="UTC")
    assert (mar.month, mar.total_events, mar.bad_events) == ("2026-03", 10 * 1440 * 100, 7)
    assert mar.coverage == pytest.approx(10 / 31) and mar.met is True
    loose = monthly_compliance(ev, spec(0.999), end=end)[0]
    assert loose.consumed == pytest.approx(500 / 4032, rel=1e-12) and loose.met is True


def test_a_month_exactly_at_the_objective_is_met() -> None:
    """1 bad in 1,000 at 99.9 %: budget used exactly 1 (decided on the exact fraction, not on
    1 − 0.999 in floating point), attainment equal to the target: met."""
    ev = minutes("2026-05-01", "2026-05-01T00:10", total=100)
    ev.iloc[3, ev.columns.get_loc("bad")] = 1
    (may,) = monthly_compliance(ev, spec(0.999), end=pd.Timestamp("2026-05-01T00:10Z"))
    assert may.total_events == 1000 and may.bad_events == 1 and may.consumed == 1.0 and may.met is True
    ev.iloc[4, ev.columns.get_loc("bad")] = 1
    assert monthly_compliance(ev, spec(0.999), end=pd.Timestamp("2026-05-01T00:10Z"))[0].met is False


def test_months_follow_the_service_timezone() -> None:
    """In Europe/Berlin April 2026 starts at 2026-03-31T22:00Z (CEST): the interval starting at
    22:30Z belongs to April, the one at 21:59Z to March; March starts at 2026-02-28T23:00Z (CET)."""
    ev = minutes("2026-03-31T21:00", "2026-03-31T23:00", total=10)
    ev.loc[pd.Timestamp("2026-03-31T21:59Z"), "bad"] = 3
    ev.loc[pd.Timestamp("2026-03-31T22:30Z"), "bad"] = 4
    end = pd.Timestamp("2026-03-31T23:00Z")
    mar, apr = monthly_compliance(ev, spec(0.9), end=end, tz="Europe/Berlin")
    assert (mar.month, mar.start, mar.end) == (
        "2026-03",
        pd.Timestamp("2026-02-28T23:00Z"),
        pd.Timestamp("2026-03-31T22:00Z"),
    )
    assert (mar.total_events, mar.bad_events, apr.total_events, apr.bad_events) == (600, 3, 600, 4)
    # March 2026 in Berlin is 31 days minus the hour DST skips
    assert mar.end - mar.start == pd.Timedelta(days=31) - pd.Timedelta(hours=1)
    assert apr.coverage == pytest.approx(1 / (30 * 24))
    utc = monthly_compliance(ev, spec(0.9), end=end)
    assert [m.month for m in utc] == ["2026-03"] and utc[0].bad_events == 7


def test_a_month_without_events_is_no_data_not_met() -> None:
    """A history with a silent month in the middle (grids skip long empty runs, so there are no
    rows for it at all): that month is ``no_data`` with full coverage, never counted as met."""
    ev = pd.concat([minutes("2026-01-31T23:00", "2026-02-01T00:00"), minutes("2026-03-01", "2026-03-01T01:00")])
    months = monthly_compliance(ev, spec(0.99), end=pd.Timestamp("2026-03-01T01:00Z"))
    assert [(m.month, m.status) for m in months] == [("2026-01", "met"), ("2026-02", "no_data"), ("2026-03", "met")]
    feb = months[1]
    assert feb.coverage == 1.0 and feb.attainment is None and feb.consumed is None and feb.total_events == 0
    with pytest.raises(ValueError, match="met is None"):
        MonthCompliance("s", "a", 0.9, "2026-01", feb.start, feb.end, 1.0, 0, 0, None, True)


def test_month_bounds_span_every_touched_month() -> None:
    bounds = month_bounds(pd.Timestamp("2025-12-31T23:30Z"), pd.Timestamp("2026-02-01T00:00Z"), "UTC")
    assert [b[0] for b in bounds] == ["2025-12", "2026-01"]  # the end is exclusive
    tokyo = month_bounds(pd.Timestamp("2025-12-31T15:00Z"), pd.Timestamp("2026-01-02T00:00Z"), "Asia/Tokyo")
    assert [b[0] for b in tokyo] == ["2026-01"] and tokyo[0][1] == pd.Timestamp("2025-12-31T15:00Z")
    empty = minutes("2026-01-01", "2026-01-01")[:0]
    assert monthly_compliance(empty, spec(0.9), end=pd.Timestamp("2026-02-01", tz="UTC")) == ()


def test_the_policy_carries_every_slos_calendar() -> None:
    """``budget_policy`` adds the calendar of each SLO to ``error_budget_policy.calendar``
    (Timeslices SLOs count slices: 30 one-minute slices, 2 of them bad, in one month)."""
    start = pd.Timestamp("2026-06-30T23:45Z")
    idx = pd.date_range(start, periods=30, freq="min", tz="UTC")
    telemetry = pd.DataFrame(
        {"journey": "a", "interval_start": idx, "total": 10, "errors": [5] + [0] * 19 + [6] + [0] * 9, "le_100": 10}
    )
    slo = {"budgeting": "Timeslices", "timeslice_target": 0.9}
    config = parse_config({"service": "s", "data": {"telemetry": "t.parquet"}, "slo": slo})
    s = SLOSpec(
        "a-availability",
        "a",
        "availability",
        0.9,
        budgeting="Timeslices",
        timeslice_target=0.9,
        timeslice_window=pd.Timedelta(minutes=1),
    )
    policy = budget_policy(telemetry, None, (s,), config)
    got = [(m["month"], m["total_events"], m["bad_events"], m["status"]) for m in policy.to_dict()["calendar"]]
    assert got == [("2026-06", 15, 1, "met"), ("2026-07", 15, 1, "met")]


@pytest.mark.parametrize(("slo", "good"), [("checkout-availability", None), ("checkout-latency", "le_1500")])
def test_a_samples_month_equals_the_telemetry_summed_by_hand(slo: str, good: str | None) -> None:
    """September 2026 of the samples (Europe/Berlin: 2026-08-31T22:00Z to 2026-09-30T22:00Z)
    summed straight from telemetry.parquet equals report.json's calendar (the golden output,
    which ``tests/test_golden.py`` checks against ``srekit analyze``)."""
    tel = pd.read_parquet(SAMPLES / "telemetry.parquet")
    # the sample service.yaml corrects 2026-09-27 05:30–06:00 Berlin (03:30–04:00Z) for checkout:
    # a planned failover drill, neither good nor bad (docs/service-yaml.md, "corrections")
    drill = (tel["interval_start"] >= pd.Timestamp("2026-09-27T03:30Z")) & (
        tel["interval_start"] < pd.Timestamp("2026-09-27T04:00Z")
    )
    sep = tel[
        (tel["journey"] == "checkout")
        & (tel["interval_start"] >= pd.Timestamp("2026-08-31T22:00Z"))
        & (tel["interval_start"] < pd.Timestamp("2026-09-30T22:00Z"))
        & ~drill
    ]
    total = int(sep["total"].sum())
    bad = int(sep["errors"].sum()) if good is None else total - int(sep[good].sum())
    report = json.loads((SAMPLES_DIR / "report.json").read_text())
    target = next(s["target"] for s in report["slo_proposal"]["slos"] if s["name"] == slo)
    month = next(m for m in report["error_budget_policy"]["calendar"] if m["slo"] == slo and m["month"] == "2026-09")
    assert (month["total_events"], month["bad_events"], month["coverage"]) == (total, bad, 1.0)
    assert month["attainment"] == pytest.approx(1 - bad / total, abs=1e-15)
    assert month["consumed"] == pytest.approx(bad / ((1 - target) * total), rel=1e-9)
    assert month["met"] is (1 - bad / total >= target)
    assert month["start"] == "2026-08-31T22:00:00+00:00" and month["end"] == "2026-09-30T22:00:00+00:00"
