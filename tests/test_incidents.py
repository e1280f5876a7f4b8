"""Incident analysis: censored lifecycle durations, intervals, detectable change, breakdowns,
recommendations, budget minutes, and the real incident histories."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from srekit.analysis.incidents.analyze import analyze_incidents
from srekit.analysis.incidents.detectable import detectable_change
from srekit.analysis.incidents.impact import impact_windows, incident_impact
from srekit.analysis.incidents.lifecycle import km_median_mean, lifecycle_durations
from srekit.analysis.incidents.log import prepare
from srekit.core.spec import SLOSpec
from srekit.inputs.config import ServiceConfig
from tests.conftest import external

CFG = ServiceConfig(service="shop", owners={"incidents": "sre-team"})
T0 = pd.Timestamp("2024-03-01", tz="UTC")


def _log(ttr_minutes: list[float | None], **extra: list) -> pd.DataFrame:
    """Incidents one day apart; ``None`` in ttr_minutes = still open."""
    n = len(ttr_minutes)
    start = pd.Series([T0 + pd.Timedelta(days=i) for i in range(n)])
    res = pd.Series(
        [s + pd.Timedelta(minutes=m) if m is not None else pd.NaT for s, m in zip(start, ttr_minutes, strict=True)]
    )
    df = pd.DataFrame({"id": [f"INC-{i}" for i in range(n)], "started_at": start, "resolved_at": res})
    for k, v in extra.items():
        df[k] = v
    return df


def _rng() -> np.random.Generator:
    return np.random.default_rng(7)


def test_open_incidents_are_censored_with_kaplan_meier() -> None:
    # resolved after 60, 120, 180, 240, 600 min; two open incidents started 300 and 1200 min
    # before the log end. KM by hand: S drops to 6/7, 5/7, 4/7, then 4/7·3/4 = 3/7 at 240 min
    # -> median 240 min (dropping the open ones would give 180 min).
    df = _log([60, 120, 180, 240, 600])
    as_of = T0 + pd.Timedelta(days=10)
    open_rows = pd.DataFrame(
        {
            "id": ["OPEN-1", "OPEN-2"],
            "started_at": [as_of - pd.Timedelta(minutes=300), as_of - pd.Timedelta(minutes=1200)],
            "resolved_at": [pd.NaT, pd.NaT],
        }
    )
    df = pd.concat([df, open_rows], ignore_index=True)
    rep = analyze_incidents(df, CFG, rng=_rng(), as_of=as_of)
    ttr = rep.metrics["ttr"]
    assert (ttr.n, ttr.censored) == (5, 2)
    assert ttr.median == pd.Timedelta(minutes=240)
    assert not ttr.median_is_lower_bound
    # restricted mean ∫₀^1200 S: S = 1, 6/7, 5/7, 4/7 on 60-min steps, 3/7 from 240 to 600
    # (the censoring at 300 leaves S unchanged), then 3/7·1/2 from 600 to 1200
    steps = [(60, 1.0), (60, 6 / 7), (60, 5 / 7), (60, 4 / 7), (360, 3 / 7), (600, 3 / 14)]
    assert ttr.mean / pd.Timedelta(minutes=1) == pytest.approx(sum(a * b for a, b in steps))
    assert rep.open_incidents == 2


def test_censoring_time_defaults_to_the_log_end_not_the_clock() -> None:
    df = _log([30, 90, None])  # the open one started at day 2; the log's latest stamp is day 1 + 90 min
    rep = analyze_incidents(df, CFG, rng=_rng())
    assert rep.as_of == T0 + pd.Timedelta(days=2)  # latest stamp = the open incident's start
    # the open incident started exactly at the log end: nothing to censor yet, counted as missing
    assert rep.metrics["ttr"].censored == 0 and rep.metrics["ttr"].missing == 1
    df2 = _log([30, 90, None, 45])  # now a later incident moves the log end past the open one
    rep2 = analyze_incidents(df2, CFG, rng=_rng())
    assert rep2.metrics["ttr"].censored == 1
    assert any(q.topic == "incident_censoring_time" for q in rep2.open_questions)


def test_heavy_censoring_reports_a_lower_bound() -> None:
    as_of = T0 + pd.Timedelta(days=30)
    df = pd.concat(
        [
            _log([10, 20]),
            pd.DataFrame(
                {
                    "id": ["o1", "o2", "o3"],
                    "started_at": [as_of - pd.Timedelta(hours=h) for h in (5, 6, 7)],
                    "resolved_at": [pd.NaT] * 3,
                }
            ),
        ],
        ignore_index=True,
    )
    ttr = analyze_incidents(df, CFG, rng=_rng(), as_of=as_of).metrics["ttr"]
    assert ttr.median_is_lower_bound and ttr.median == pd.Timedelta(hours=7)


@settings(max_examples=25, deadline=None)
@given(st.lists(st.integers(min_value=1, max_value=10_000), min_size=2, max_size=40))
def test_without_censoring_km_equals_sample_statistics(minutes: list[int]) -> None:
    rep = analyze_incidents(_log([float(m) for m in minutes]), CFG, rng=_rng())
    x = np.array(minutes, float) * 60
    ttr = rep.metrics["ttr"]
    assert ttr.median.total_seconds() == pytest.approx(np.quantile(x, 0.5, method="inverted_cdf"))
    assert ttr.mean.total_seconds() == pytest.approx(x.mean())
    assert ttr.median_ci[0] <= ttr.median <= ttr.median_ci[1]
    assert ttr.mean_ci[0] <= ttr.mean <= ttr.mean_ci[1]


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(st.integers(min_value=0, max_value=50), st.booleans()), min_size=1, max_size=30))
def test_batch_kaplan_meier_matches_scipy(pairs: list[tuple[int, bool]]) -> None:
    t = np.array([p[0] for p in pairs], float)
    c = np.array([p[1] for p in pairs])
    med, mean = km_median_mean(t[None, :], c[None, :].astype(float))[:, 0]
    if c.all():
        assert med == mean == t.max()
        return
    sf = stats.ecdf(stats.CensoredData(uncensored=t[~c], right=t[c])).sf
    q, s = sf.quantiles, sf.probabilities
    hit = np.flatnonzero(s <= 0.5 + 1e-12)
    assert med == (q[hit[0]] if hit.size else q[-1])
    assert mean == pytest.approx(q[0] + np.sum(np.diff(q) * s[:-1]))


def test_bootstrap_interval_is_seeded_and_sensible() -> None:
    rng = np.random.default_rng(3)
    minutes = list(rng.lognormal(4, 1, 60))
    a = analyze_incidents(_log(minutes), CFG, rng=np.random.default_rng(1)).to_dict()
    b = analyze_incidents(_log(minutes), CFG, rng=np.random.default_rng(1)).to_dict()
    assert a == b
    m = a["metrics"]["ttr"]
    lo, hi = m["mean_ci_s"]
    # the 90% percentile-bootstrap interval of a mean is close to mean ± 1.645·s/√n
    half = 1.645 * np.std(np.array(minutes) * 60, ddof=1) / np.sqrt(60)
    assert hi - lo == pytest.approx(2 * half, rel=0.3)


def test_detectable_change_formula_and_resampling() -> None:
    # z(0.95)·sqrt(2σ²/N) by hand: σ = 30 min, N = 50
    assert detectable_change(1800.0, 50) == pytest.approx(1.6448536 * np.sqrt(2 * 1800.0**2 / 50))
    # Confirm by resampling: two periods of N incidents from the *same* exponential process
    # differ in mean TTR by more than the detectable change in about 10% of cases.
    rng = np.random.default_rng(11)
    n, sigma = 100, 3600.0  # exponential: σ = mean
    d = detectable_change(sigma, n)
    a = rng.exponential(sigma, size=(4000, n)).mean(axis=1)
    b = rng.exponential(sigma, size=(4000, n)).mean(axis=1)
    assert np.mean(np.abs(a - b) > d) == pytest.approx(0.10, abs=0.02)
    # and a true improvement of that size is seen (mean lower) in about half of the comparisons
    c = rng.exponential(sigma, size=(4000, n)).mean(axis=1) - d
    assert np.mean(a - c > d) == pytest.approx(0.5, abs=0.05)


def test_metric_payload_carries_detectable_change() -> None:
    minutes = [20, 40, 60, 80, 100, 300]
    ttr = analyze_incidents(_log(minutes), CFG, rng=_rng()).to_dict()["metrics"]["ttr"]
    sd = np.std(np.array(minutes) * 60.0, ddof=1)
    assert ttr["detectable_change_s"] == pytest.approx(stats.norm.ppf(0.95) * np.sqrt(2 * sd**2 / 6))
    assert ttr["p90_s"] == 300 * 60


def test_lifecycle_from_whatever_stamps_exist() -> None:
    df = _log([60, 90, 120])
    df["detected_at"] = df["started_at"] + pd.to_timedelta([5, 10, 15], unit="min")
    df["acknowledged_at"] = df["detected_at"] + pd.to_timedelta([1, 2, 3], unit="min")
    rep = analyze_incidents(df, CFG, rng=_rng())
    assert rep.metrics["ttd"].median == pd.Timedelta(minutes=10)
    assert rep.metrics["tta"].median == pd.Timedelta(minutes=2)
    assert rep.not_measured == ("ttm",)
    assert any(q.topic == "incident_timestamps" for q in rep.open_questions)


def test_quirks_zero_and_negative_durations_are_counted_not_used() -> None:
    df = _log([0, 0, 30, 60, 90])
    df.loc[4, "resolved_at"] = df.loc[4, "started_at"] - pd.Timedelta(minutes=5)  # resolved before started
    ttr = analyze_incidents(df, CFG, rng=_rng()).metrics["ttr"]
    assert (ttr.n, ttr.zero_excluded, ttr.inconsistent) == (2, 2, 1)
    assert ttr.median == pd.Timedelta(minutes=30)


def _rich_log() -> pd.DataFrame:
    df = _log([30, 45, 60, 90, 120, 240, 30, 20])
    df["severity"] = ["SEV1", "SEV2", "SEV2", "SEV3", "SEV3", "SEV1", "SEV4", "SEV2"]
    df["cause"] = ["deploy", "deploy", "capacity", "deploy", None, "dns", "capacity", "config"]
    df["detection"] = ["customer", "customer", "alert", "customer", "internal", "alert", "alert", None]
    df["postmortem"] = ["done", "pending", "none", None, None, "done", None, "done"]
    df["action_items_open"] = [2, 3, 0, 0, 0, 1, 0, 0]
    df["action_items_closed"] = [1, 0, 0, 0, 0, 1, 0, 0]
    df["detected_at"] = df["started_at"] + pd.Timedelta(minutes=5)
    df["acknowledged_at"] = df["detected_at"] + pd.Timedelta(minutes=25)
    return df


def test_breakdowns_postmortems_and_tracker_by_hand() -> None:
    rep = analyze_incidents(_rich_log(), CFG, rng=_rng())
    d = rep.to_dict()
    sev = {r["severity"]: r for r in d["breakdowns"]["severity"]}
    assert sev["SEV2"]["count"] == 3 and sev["SEV2"]["share"] == pytest.approx(3 / 8)
    cause = {r["cause"]: r for r in d["breakdowns"]["cause"]}
    assert cause["deploy"]["count"] == 3 and cause["deploy"]["repeat"]
    assert cause["capacity"]["repeat"] and not cause["dns"]["repeat"] and not cause["unknown"]["repeat"]
    assert d["breakdowns"]["cause"][0]["cause"] == "deploy"  # ranked by count
    det = {r["detection"]: r for r in d["breakdowns"]["detection"]}
    assert det["customer"]["share"] == pytest.approx(3 / 8) and det["unknown"]["count"] == 1
    pm = d["postmortems"]
    # SEV1/SEV2: 5 incidents; postmortem done 3 (rows 0, 5, 7), pending 1, none 1
    assert (pm["high_severity_incidents"], pm["done"], pm["pending"], pm["none"]) == (5, 3, 1, 1)
    assert pm["coverage"] == pytest.approx(3 / 5)
    assert (pm["action_items_open"], pm["action_items_closed"]) == (6, 2)
    assert pm["closure_rate"] == pytest.approx(2 / 8)
    ids = [r["incident_id"] for r in d["follow_up"]]
    assert ids == ["INC-5", "INC-2", "INC-1", "INC-0"]  # newest first: open items or missing postmortem
    assert {r["owner"] for r in d["follow_up"]} == {"sre-team"}
    json.dumps(d)


def test_recommendations_follow_the_evidence() -> None:
    recs = analyze_incidents(_rich_log(), CFG, rng=_rng()).recommendations
    areas = [r.area for r in recs]
    assert "detection" in areas  # 3 of 7 known detections by customers
    assert "oncall" in areas  # acknowledge takes 25 min > 15 min
    assert [r.title for r in recs if r.area == "backlog"] == [
        "Put the recurring cause 'deploy' on the reliability backlog",
        "Put the recurring cause 'capacity' on the reliability backlog",
    ]
    assert areas.count("postmortems") == 2  # coverage 60% and closure 25%
    # a healthy log gets none of these
    ok = _rich_log()
    ok["detection"] = "alert"
    ok["acknowledged_at"] = ok["detected_at"] + pd.Timedelta(minutes=2)
    ok["cause"] = [f"c{i}" for i in range(len(ok))]
    ok["postmortem"] = "done"
    ok["action_items_open"] = 0
    assert {r.area for r in analyze_incidents(ok, CFG, rng=_rng()).recommendations} <= {"metrics"}


def test_no_incident_log_gives_template_tracker_and_question() -> None:
    rep = analyze_incidents(None, CFG, rng=_rng())
    d = rep.to_dict()
    assert d["postmortem_template"].startswith("# Postmortem") and "## Action items" in d["postmortem_template"]
    assert d["follow_up"] == [] and "next_step" in d["follow_up_columns"]
    assert [q.topic for q in rep.open_questions] == ["incident_log"]
    assert d["recommendations"]
    json.dumps(d)


def _telemetry(days: int = 3, rate: int = 100, outages: tuple[tuple[int, int, float], ...] = ()) -> pd.DataFrame:
    """Exactly ``rate`` requests a minute; background 1 error every 100 min; each outage
    (start minute, length, error share) fails that share of requests."""
    n = days * 1440
    idx = pd.date_range(T0, periods=n, freq="min", tz="UTC")
    err = np.where(np.arange(n) % 100 == 0, 1, 0)
    for s, length, share in outages:
        err[s : s + length] = int(rate * share)
    tot = np.full(n, rate)
    return pd.DataFrame(
        {"journey": "checkout", "interval_start": idx, "total": tot, "errors": err, "le_100": tot, "le_250": tot}
    )


def test_budget_minutes_per_cause_measured_on_telemetry() -> None:
    tel = _telemetry(outages=((600, 30, 0.5), (2000, 10, 1.0)))
    df = pd.DataFrame(
        {
            "id": ["A", "B"],
            "cause": ["db", "deploy"],
            "journey": ["checkout", None],
            "started_at": [T0 + pd.Timedelta(minutes=600), T0 + pd.Timedelta(minutes=2000)],
            "resolved_at": [T0 + pd.Timedelta(minutes=630), T0 + pd.Timedelta(minutes=2010)],
        }
    )
    spec = SLOSpec("checkout-availability", "checkout", "availability", 0.999)
    imp = incident_impact(impact_windows(prepare(df), None), tel, spec).set_index("id")
    # background 1/100 per minute ⇒ ratio 1e-4; A: 30 min × 50 bad − 0.01·3000 ⇒ 1500 − 0.3 excess
    assert imp.loc["A", "excess_bad"] == pytest.approx(1500 - 3000 * 1e-4, rel=1e-3)
    assert imp.loc["A", "budget_minutes"] == pytest.approx(15.0, rel=1e-3)
    assert imp.loc["A", "intensity"] == pytest.approx(0.5, rel=1e-3)
    assert imp.loc["B", "budget_minutes"] == pytest.approx(10.0, rel=1e-3)
    rep = analyze_incidents(df, CFG, rng=_rng(), telemetry=tel, specs=(spec,))
    causes = rep.to_dict()["breakdowns"]["cause"]
    assert [c["cause"] for c in causes] == ["db", "deploy"]  # ranked by budget minutes
    assert causes[0]["budget_minutes"] == pytest.approx(15.0, rel=1e-3)


def test_change_induced_share_from_deploys() -> None:
    df = _log([30, 30, 30, 30])
    deploys = pd.DataFrame(
        {
            "timestamp": [
                T0 - pd.Timedelta(minutes=20),
                T0 + pd.Timedelta(days=1, minutes=-90),
                T0 + pd.Timedelta(days=2, minutes=-5),
            ],
            "result": ["success", "rollback", "success"],
        }
    )
    rep = analyze_incidents(df, CFG, rng=_rng(), deploys=deploys)
    ch = rep.to_dict()["breakdowns"]["change"]
    assert ch["incidents_after_deploy"] == 2 and ch["share_after_deploy"] == pytest.approx(0.5)
    assert ch["deploys_rolled_back_or_failed"] == 1
    assert "change_management" in {r.area for r in rep.recommendations}


@pytest.mark.external
def test_real_github_statuspage_history() -> None:
    from srekit.inputs.loaders import load_incidents

    loaded = load_incidents(external("github-incident-history", "incidents.statuspage.json"), fmt="statuspage")
    rep = analyze_incidents(loaded.frame, CFG, rng=_rng())
    d = rep.to_dict()
    ttr = d["metrics"]["ttr"]
    # the 836 back-filled zero-duration incidents are counted, not used
    assert ttr["zero_excluded"] == 836
    assert ttr["n"] + ttr["zero_excluded"] + ttr["inconsistent"] + ttr["missing"] + ttr["censored"] == d["incidents"]
    assert 0 < ttr["median_ci_s"][0] <= ttr["median_s"] <= ttr["median_ci_s"][1]
    assert any(q.topic == "incident_zero_ttr" for q in rep.open_questions)
    # Statuspage has no detection stamp: created_at (detected) is started_at's default, 0-77 ms
    # after it on every GitHub incident, and the back-fills start, post and resolve at one
    # second — no time to detect was measured (not "median 0 s")
    assert "ttd" in d["not_measured"] and "ttd" not in d["metrics"]
    assert any(q.topic == "incident_timestamps" for q in rep.open_questions)
    json.dumps(d)


def test_back_filled_records_measure_no_stage() -> None:
    """A record resolved the second it started is back-filled: its zero time to detect is not a
    measurement (dropped with the zero time to resolve); a zero time to detect on a real
    incident is kept (an alert that fired as the incident began)."""
    df = _log(
        [0, 30, 60, 90], detected_at=[T0, T0 + pd.Timedelta(days=1), T0 + pd.Timedelta(days=2, minutes=5), pd.NaT]
    )
    ttd = lifecycle_durations(prepare(df), "ttd", None)
    assert sorted(ttd.observed.tolist()) == [0.0, 300.0] and ttd.zero_excluded == 1


def test_a_log_of_back_filled_records_says_why_no_duration_is_reported() -> None:
    """Three records resolved the second they started (GitHub's 2014 history in the NAB period):
    the stamps are there, so the question says they are back-filled, not that they are missing."""
    rep = analyze_incidents(_log([0, 0, 0]), CFG, rng=_rng())
    q = next(q for q in rep.open_questions if q.topic == "incident_timestamps")
    assert "ttr" in rep.to_dict()["not_measured"] and "3 of the log are back-filled records" in q.assumption
    rep = analyze_incidents(_log([30, 60, None]), CFG, rng=_rng())
    assert all("back-filled" not in q.assumption for q in rep.open_questions if q.topic == "incident_timestamps")


def test_a_log_with_one_stamp_for_start_and_detection_measures_no_time_to_detect() -> None:
    """PagerDuty/Opsgenie created_at, Statuspage's default started_at: no incident took a second to
    detect, so the log has no detection time (all zero_excluded, ttd not measured)."""
    df = _log([30, 60, 90], detected_at=[T0, T0 + pd.Timedelta(days=1, milliseconds=8), T0 + pd.Timedelta(days=2)])
    ttd = lifecycle_durations(prepare(df), "ttd", None)
    assert ttd.observed.size == 0 and ttd.zero_excluded == 3
    rep = analyze_incidents(df, CFG, rng=_rng())
    assert "ttd" in rep.to_dict()["not_measured"]


@pytest.mark.external
def test_real_google_cloud_history() -> None:
    from srekit.inputs.loaders import load_incidents

    loaded = load_incidents(external("cloud-status-history", "app", "public", "incidents.json"), fmt="gcp")
    rep = analyze_incidents(loaded.frame, CFG, rng=_rng())
    ttd = rep.metrics["ttd"]
    # the incident first posted 20 min before its recorded begin: the loader clears that detection
    # stamp (cleared_detected_before_started), so its time to detect is missing, never negative
    assert loaded.entry.notes["cleared_detected_before_started"] == 1
    assert (ttd.inconsistent, ttd.missing) == (0, 1)
    assert ttd.n + ttd.missing == len(loaded.frame)
    assert rep.metrics["ttr"].n == len(loaded.frame)
    json.dumps(rep.to_dict())


_STAMP = st.one_of(st.none(), st.integers(min_value=0, max_value=60 * 24 * 30))


@settings(max_examples=30, deadline=None)
@given(
    st.lists(
        st.tuples(
            _STAMP,
            _STAMP,
            _STAMP,
            _STAMP,
            _STAMP,
            st.sampled_from(["SEV1", "SEV2", "SEV3", None]),
            st.sampled_from(["alert", "customer", None]),
            st.sampled_from(["done", "none", None]),
            st.sampled_from(["db", "dns", None]),
        ),
        min_size=1,
        max_size=25,
    )
)
def test_any_messy_log_gives_a_valid_payload(rows: list[tuple]) -> None:
    """Shuffled, partly stamped, inconsistent logs never crash and give strict JSON."""

    def t(m: int | None) -> pd.Timestamp:
        return pd.NaT if m is None else T0 + pd.Timedelta(minutes=m)

    df = pd.DataFrame(
        {
            "id": [f"R{i}" for i in range(len(rows))],
            "started_at": [t(r[0]) for r in rows],
            "detected_at": [t(r[1]) for r in rows],
            "acknowledged_at": [t(r[2]) for r in rows],
            "mitigated_at": [t(r[3]) for r in rows],
            "resolved_at": [t(r[4]) for r in rows],
            "severity": [r[5] for r in rows],
            "detection": [r[6] for r in rows],
            "postmortem": [r[7] for r in rows],
            "cause": [r[8] for r in rows],
        }
    )
    rep = analyze_incidents(
        df, CFG, rng=_rng(), telemetry=_telemetry(days=1), specs=(SLOSpec("a", "checkout", "availability", 0.99),)
    )
    d = rep.to_dict()
    json.dumps(d, allow_nan=False)
    for m in d["metrics"].values():
        assert m["n"] + m["censored"] + m["missing"] + m["inconsistent"] + m["zero_excluded"] == len(df)
        assert m["median_ci_s"][0] <= m["median_s"] <= m["median_ci_s"][1]
    assert sum(r["count"] for r in d["breakdowns"]["cause"]) == len(df)


def test_plots_draw_full_and_empty_results() -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from srekit.analysis.forecast.analyze import forecast_budget
    from srekit.analysis.forecast.result import riskiest
    from srekit.report.plots import incidents as plots

    full = analyze_incidents(_rich_log(), CFG, rng=_rng())
    empty = analyze_incidents(None, CFG, rng=_rng())
    for rep in (full, empty):
        for fn in (plots.plot_survival, plots.plot_medians, plots.plot_detection, plots.plot_causes):
            ax = fn(rep)
            assert ax.get_title()
            plt.close(ax.figure)
    assert len(plots.plot_survival(full).get_lines()) == 3  # ttd, tta, ttr
    plt.close("all")
    none = forecast_budget(None, None, (), CFG, rng=_rng())
    assert riskiest(none) is None
    for ax in (
        plots.plot_fan(None),
        plots.plot_consumption(None),
        plots.plot_what_ifs(none, None),
    ):
        assert "no SLO could be forecast" in ax.texts[0].get_text()
    plt.close("all")


def test_display_tables_and_sentences_read_the_payload() -> None:
    """The incidents page and the report page show the same tables, built from report.json's section."""
    from srekit.report import tables

    deploys = pd.DataFrame({"timestamp": [T0 - pd.Timedelta(minutes=10)], "result": ["rollback"]})
    full = {"incident_response": analyze_incidents(_rich_log(), CFG, rng=_rng(), deploys=deploys).to_dict()}
    short, long = tables.incident_metrics_table(full), tables.incident_metrics_table(full, detail=True)
    assert short["measure"].tolist() == ["time to detect", "time to acknowledge", "time to resolve"]
    assert set(short.columns) < set(long.columns) and "smallest detectable change in the mean" in long
    assert tables.recommendations_table(full, detail=True)["area"].tolist()[:2] == ["detection", "oncall"]
    assert "area" not in tables.recommendations_table(full)
    follow = tables.follow_up_table(full, detail=True)
    assert follow["incident"].tolist() == ["INC-5", "INC-2", "INC-1", "INC-0"]
    assert follow["started (UTC)"].iloc[0] == "2024-03-06 00:00"
    assert tables.cause_table(full)["happened more than once"].tolist()[:2] == ["yes", "yes"]
    assert "error-budget minutes" not in tables.cause_table(full)  # no telemetry: not measured
    assert tables.severity_table(full)["share"].tolist() == ["25%", "38%", "25%", "12%"]
    assert tables.detection_table(full)["detected by"].tolist() == ["alert", "customer", "internal", "unknown"]
    assert tables.change_text(full).startswith("1 of 8 incidents (12%) started within 60 minutes")
    assert "60% have a finished postmortem" in tables.postmortem_text(full)
    empty = {"incident_response": analyze_incidents(None, CFG, rng=_rng()).to_dict()}
    assert tables.postmortem_text(empty).startswith("No incident log was given")
    assert tables.change_text(empty).startswith("No deploy log was given")
    for table in (tables.incident_metrics_table, tables.follow_up_table, tables.cause_table, tables.severity_table):
        assert table(empty).empty and len(table(empty).columns)


def test_censored_medians_are_shown_as_lower_bounds() -> None:
    from srekit.report import tables

    as_of = T0 + pd.Timedelta(days=30)
    opened = pd.DataFrame({"id": ["o1", "o2", "o3"], "started_at": [as_of - pd.Timedelta(hours=h) for h in (5, 6, 7)]})
    df = pd.concat([_log([10, 20]), opened], ignore_index=True)
    view = {"incident_response": analyze_incidents(df, CFG, rng=_rng(), as_of=as_of).to_dict()}
    row = tables.incident_metrics_table(view).set_index("measure").loc["time to resolve"]
    assert row["median"] == "≥ 7.0 h"
