"""Extra label dimensions (issue 16): ``srekit aggregate --by``, label columns in telemetry,
``prometheus.by`` against a real Prometheus, and every SLO broken down by them
(``error_budget_policy.breakdown``) with known answers."""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import SAMPLES
from hypothesis import given, settings
from hypothesis import strategies as st

from srekit.analysis.breakdown import break_down, top_sources
from srekit.core.errors import ConfigError, InputError
from srekit.core.limits import Limits
from srekit.core.spec import SLOSpec
from srekit.inputs import telemetry as tm
from srekit.inputs.aggregate import aggregate_files
from srekit.inputs.config import PrometheusConfig
from srekit.inputs.loaders import load_telemetry
from srekit.inputs.samples import REGIONAL_EVENTS, REGIONS
from srekit.report import tables

EDGES = (50.0, 100.0, 250.0, 1000.0)


def _requests(n: int, seed: int, *, shuffle: bool = True) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    t0 = pd.Timestamp("2026-03-01T00:00:00Z")
    stamps = t0 + pd.to_timedelta(rng.integers(0, 3 * 3600 * 1000, n), unit="ms")
    df = pd.DataFrame(
        {
            "timestamp": stamps.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
            "latency_ms": np.round(rng.lognormal(np.log(90), 0.9, n), 1),
            "status": rng.choice([200, 200, 200, 404, 500, 503], n),
            "journey": rng.choice(["checkout", "search"], n),
            "Region": rng.choice(["eu-west-1", "us-east-1", "", "NA"], n, p=[0.5, 0.3, 0.1, 0.1]),
            "tier": rng.choice(["gold", "free"], n),
        }
    )
    return df.sample(frac=1, random_state=seed) if shuffle else df.sort_values("timestamp")


def _naive(df: pd.DataFrame, by: list[str]) -> pd.DataFrame:
    """The reference: pandas groupby per (journey, labels, minute), cumulative buckets by hand."""
    d = df.rename(columns={"Region": "region"}).copy()
    for label in by:
        d[label] = d[label].replace({"": "unknown", "NA": "unknown"})
    d["interval_start"] = pd.to_datetime(d["timestamp"], utc=True).dt.floor("min").astype("datetime64[us, UTC]")
    d["errors"] = d["status"] >= 500
    for e in EDGES:
        d[tm.edge_label(e)] = d["latency_ms"] <= e
    key = ["journey", *by, "interval_start"]
    out = d.groupby(key, sort=True).agg(
        total=("status", "size"),
        errors=("errors", "sum"),
        **{tm.edge_label(e): (tm.edge_label(e), "sum") for e in EDGES},
    )
    out = out.reset_index().astype({c: "int64" for c in ["total", "errors", *map(tm.edge_label, EDGES)]})
    return out.astype({c: "str" for c in ["journey", *by]})


@pytest.mark.parametrize("shuffle", [False, True])
def test_aggregate_by_equals_a_naive_groupby(tmp_path: Path, shuffle: bool) -> None:
    df = _requests(20_000, 3, shuffle=shuffle)
    src = tmp_path / "req.csv"
    df.to_csv(src, index=False)
    frame, entry = aggregate_files([src], edges=EDGES, by=("region", "tier"))
    assert list(frame.columns[:4]) == ["journey", "region", "tier", "interval_start"]
    pd.testing.assert_frame_equal(frame, _naive(df, ["region", "tier"]), check_dtype=False)
    assert entry.notes["label_missing"] == int(df["Region"].isin(["", "NA"]).sum())
    # the labels summed away give the aggregate without --by, exactly
    plain, _ = aggregate_files([src], edges=EDGES)
    pd.testing.assert_frame_equal(tm.split_labels(frame)[0], plain)


def test_cli_aggregate_by_writes_labels_that_load_as_a_breakdown(tmp_path: Path) -> None:
    src = tmp_path / "req.csv"
    _requests(5_000, 5).to_csv(src, index=False)
    out = tmp_path / "tel.parquet"
    cmd = [sys.executable, "-m", "srekit.cli", "aggregate", str(src), "--out", str(out), "--by", "Region"]
    res = subprocess.run([*cmd, "--edges", "50,100,250,1000", "--no-progress"], capture_output=True, text=True)
    assert res.returncode == 0, res.stderr
    assert "for 2 journey(s): checkout, search" in res.stdout
    loaded = load_telemetry(out)
    assert loaded.labels is not None and tm.label_columns(loaded.labels) == ["region"]
    assert set(loaded.labels["region"]) == {"eu-west-1", "us-east-1", "unknown"}
    assert loaded.frame["total"].sum() == loaded.labels["total"].sum() == 5_000
    assert not loaded.frame.duplicated(tm.KEY).any()
    res = subprocess.run(
        [sys.executable, "-m", "srekit.cli", "validate", "telemetry", str(out)], capture_output=True, text=True
    )
    assert res.returncode == 0 and "labels: region (3 values)" in res.stdout, res.stdout


def test_aggregate_by_bad_arguments_fail_fast(tmp_path: Path) -> None:
    src = tmp_path / "req.csv"
    _requests(100, 1).to_csv(src, index=False)
    with pytest.raises(InputError, match="no column 'zone'") as exc:
        aggregate_files([src], by=("zone",))
    assert str(src) in str(exc.value) and "fix:" in str(exc.value)
    # a name readers would take for a column srekit writes (case, spaces and punctuation aside;
    # "buckets" is the sparse layout's map: it crashed the writer), or empty
    bad_names = [("journey",), ("le_100",), ("region", "REGION"), ("",), ("buckets",), ("Interval Start",)]
    bad_names.append(("buckets.key_value.key",))  # a path inside the sparse layout's map
    for bad in bad_names:
        with pytest.raises(ConfigError):
            aggregate_files([src], by=bad)
    named = _requests(100, 1).rename(columns={"Region": "地域"})  # letters that fold to nothing: a name
    named.to_csv(tmp_path / "named.csv", index=False)
    frame, _ = aggregate_files([tmp_path / "named.csv"], by=("地域",))
    assert list(frame.columns[:3]) == ["journey", "地域", "interval_start"]
    with pytest.raises(ConfigError, match="max_labels"):
        aggregate_files([src], by=("region", "tier"), limits=Limits(max_labels=1))
    res = subprocess.run(
        [
            sys.executable,
            "-m",
            "srekit.cli",
            "aggregate",
            str(src),
            "--out",
            str(tmp_path / "o.parquet"),
            "--by",
            "zone",
        ],
        capture_output=True,
        text=True,
    )
    assert res.returncode == 2 and "zone" in res.stderr and "Traceback" not in res.stderr


def test_label_combinations_count_against_max_journeys(tmp_path: Path) -> None:
    src = tmp_path / "req.csv"
    _requests(2_000, 2).to_csv(src, index=False)
    aggregate_files([src], by=("tier",), limits=Limits(max_journeys=4))  # 2 journeys × 2 tiers
    with pytest.raises(InputError, match="journey × label combinations"):
        aggregate_files([src], by=("region", "tier"), limits=Limits(max_journeys=4))


def test_too_long_label_value_rejects_its_row(tmp_path: Path) -> None:
    df = _requests(50, 4)
    df.iloc[3, df.columns.get_loc("Region")] = "x" * 200
    src = tmp_path / "req.csv"
    df.to_csv(src, index=False)
    frame, entry = aggregate_files([src], by=("region",))
    assert entry.rejected == {"too long label": 1} and frame["total"].sum() == 49


# --------------------------------------------------------------------------- telemetry files


def test_telemetry_labels_numeric_extras_and_limits(tmp_path: Path) -> None:
    base = tm.labelled(_naive(_requests(3_000, 6), ["region"]), ["region"])
    base["row_id"] = np.arange(len(base))  # an exported index: numbers only, not a label
    path = tmp_path / "t.csv"
    base.to_csv(path, index=False)
    loaded = load_telemetry(path)
    assert loaded.labels is not None and tm.label_columns(loaded.labels) == ["region"]
    assert loaded.frame["total"].sum() == base["total"].sum()
    want = tm.compact(tm.merge([base.drop(columns=["region", "row_id"])]))  # held compact (issue 13)
    pd.testing.assert_frame_equal(loaded.frame, want)
    base["tier"] = "gold"
    base.to_csv(path, index=False)
    assert tm.label_columns(load_telemetry(path).labels) == ["region", "tier"]
    with pytest.raises(InputError, match="max_labels"):
        load_telemetry(path, limits=Limits(max_labels=1))
    base["Tier "] = "free"  # the same label twice, ignoring case and spaces
    base.to_csv(path, index=False)
    with pytest.raises(InputError, match="two columns name the same label 'tier'") as exc:
        load_telemetry(path)
    assert str(path) in str(exc.value) and "fix:" in str(exc.value)


def test_telemetry_without_labels_loads_as_before() -> None:
    loaded = load_telemetry(SAMPLES / "telemetry.parquet")
    assert loaded.labels is not None  # the samples carry a region label since issue 16
    assert list(loaded.frame.columns[:2]) == tm.KEY
    assert not loaded.frame.duplicated(tm.KEY).any()


# --------------------------------------------------------------------------- the breakdown


OUTAGE = (pd.Timestamp("2026-03-02T09:20Z"), pd.Timestamp("2026-03-02T09:50Z"))


def _labelled_outage() -> tuple[pd.DataFrame, pd.Timestamp]:
    """Two regions × 2 days of one journey (a 0.1 % error baseline); a 30-minute outage in
    eu-west-1 only (:data:`OUTAGE`)."""
    idx = pd.date_range("2026-03-01", periods=2 * 1440, freq="min", tz="UTC").as_unit("us")
    rng = np.random.default_rng(9)
    frames = []
    for region, rate in (("eu-west-1", 60), ("us-east-1", 40)):
        total = rng.poisson(rate, len(idx))
        errors = rng.binomial(total, 0.001)
        if region == "eu-west-1":
            hit = (idx >= OUTAGE[0]) & (idx < OUTAGE[1])
            errors[hit] = total[hit]
        le = rng.binomial(total, 0.95)
        frames.append(
            pd.DataFrame(
                {"journey": "checkout", "region": region, "interval_start": idx, "total": total, "errors": errors}
            ).assign(le_100=np.minimum(le, total), le_1000=total)
        )
    return tm.labelled(pd.concat(frames, ignore_index=True), ["region"]), idx[-1] + pd.Timedelta("1min")


def test_an_outage_in_one_region_is_attributed_to_it() -> None:
    labelled, end = _labelled_outage()
    spec = SLOSpec(name="checkout-availability", journey="checkout", sli="availability", target=0.999)
    (b,) = break_down(labelled, spec, window=OUTAGE, end=end)  # the outage's own bad events
    eu = next(v for v in b.values if v.value == "eu-west-1")
    assert b.values[0].value == "eu-west-1"
    assert eu.share_window is not None and eu.share_window >= 0.99
    (b,) = break_down(labelled, spec, window=(end - pd.Timedelta("1D"), end), end=end)  # with the baseline
    assert b.values[0].value == "eu-west-1" and b.values[0].share_window is not None
    assert sum(v.bad_events for v in b.values) == b.bad_events == int(labelled["errors"].sum())
    (sentence,) = top_sources([b], spec.name)
    assert sentence.endswith("of the bad events in the current window came from region eu-west-1"), sentence
    # a latency SLO counts total − le_T, T snapped down to an edge
    lat = SLOSpec(name="checkout-latency", journey="checkout", sli="latency", target=0.99, threshold_ms=150)
    (bl,) = break_down(labelled, lat, window=(end - pd.Timedelta("1D"), end), end=end)
    assert bl.bad_events == int((labelled["total"] - labelled["le_100"]).sum())


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(st.sampled_from("abc"), st.integers(0, 50), st.integers(0, 50)), min_size=1, max_size=30))
def test_breakdown_values_add_up_to_the_slo(rows: list[tuple[str, int, int]]) -> None:
    idx = pd.date_range("2026-01-01", periods=len(rows), freq="min", tz="UTC").as_unit("us")
    total = [max(t, e) for _, t, e in rows]
    frame = pd.DataFrame(
        {
            "journey": "j",
            "zone": [z for z, _, _ in rows],
            "interval_start": idx,
            "total": total,
            "errors": [e for _, _, e in rows],
            "le_10": total,
        }
    )
    labelled = tm.labelled(frame, ["zone"])
    spec = SLOSpec(name="j-availability", journey="j", sli="availability", target=0.99)
    end = idx[-1] + pd.Timedelta("1min")
    out = break_down(labelled, spec, window=(idx[len(rows) // 2], end), end=end)
    if labelled["zone"].nunique() < 2:
        assert out == ()
        return
    (b,) = out
    assert sum(v.bad_events for v in b.values) == b.bad_events == int(frame["errors"].sum())
    assert sum(v.events for v in b.values) == int(frame["total"].sum())
    if b.bad_events:
        assert sum(v.share or 0 for v in b.values) == pytest.approx(1.0)


def test_samples_report_breaks_every_slo_down_by_region() -> None:
    """The committed samples (golden report.json): two regions for checkout and search (browse
    and refunds are served from eu-west-1 alone: no breakdown), each SLO's values adding up to
    its budget's bad events in the window, and search's regional error burst (E16, in the
    current window) above eu-west-1's traffic share."""
    report = json.loads((Path(__file__).parent / "golden" / "samples" / "report.json").read_text())
    policy = report["error_budget_policy"]
    bad = {b["slo"]: b["bad_events"] for b in policy["slos"]}
    breakdown = {b["slo"]: b for b in policy["breakdown"]}
    assert set(breakdown) == {"checkout-availability", "checkout-latency", "search-availability", "search-latency"}
    for slo, b in breakdown.items():
        assert b["label"] == "region" and [v["value"] for v in b["values"]] == ["eu-west-1", "us-east-1"]
        assert b["bad_events_window"] == bad[slo], slo
    assert REGIONAL_EVENTS["E16"] == "eu-west-1"
    eu = breakdown["search-availability"]["values"][0]
    assert eu["share_window"] > dict(REGIONS)["eu-west-1"] + 0.03
    table = tables.breakdown_table(report, detail=True)
    assert len(table) == 8 and set(table["label"]) == {"region"}


# --------------------------------------------------------------------------- Prometheus


def test_prometheus_by_keeps_the_labels(tmp_path: Path) -> None:
    from promserver import Server

    labelled, end = _labelled_outage()
    labelled = labelled[labelled["interval_start"] < labelled["interval_start"].min() + pd.Timedelta("6h")]
    labelled = labelled.reset_index(drop=True)
    cfg = PrometheusConfig(by=("region",))
    srv = Server(tmp_path / "prom", labelled, cfg)
    try:
        from srekit.inputs.prometheus import pull_telemetry

        start = labelled["interval_start"].min()
        stop = labelled["interval_start"].max() + pd.Timedelta("1min")
        pulled, _ = pull_telemetry(replace(cfg, url=srv.url), start=start, end=stop)
        plain, _ = pull_telemetry(PrometheusConfig(url=srv.url), start=start, end=stop)
    finally:
        srv.stop()
    pd.testing.assert_frame_equal(pulled, labelled, check_dtype=False)
    pd.testing.assert_frame_equal(plain, tm.split_labels(labelled)[0], check_dtype=False)
    with pytest.raises(ConfigError, match="prometheus.by"):
        pull_telemetry(PrometheusConfig(url="http://127.0.0.1:9", by=("le",)), start=start, end=stop)


def test_service_yaml_requests_by_keeps_the_labels_of_the_raw_log(tmp_path: Path) -> None:
    from srekit.inputs.config import load_config
    from srekit.inputs.loaders import load_inputs

    config = tmp_path / "service.yaml"
    config.write_text(
        f"service: shop\ndata:\n  requests: {SAMPLES / 'requests_1d.csv.gz'}\n  requests_by: [region]\n",
        encoding="utf-8",
    )
    inputs = load_inputs(load_config(config))
    assert inputs.labels is not None and tm.label_columns(inputs.labels) == ["region"]
    assert inputs.labels.groupby("journey")["region"].nunique().to_dict() == {"browse": 1, "checkout": 2, "search": 2}
    assert inputs.telemetry is not None and inputs.telemetry["total"].sum() == inputs.labels["total"].sum()
