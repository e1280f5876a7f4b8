"""Prometheus as a data source, tested against a real Prometheus server (Debian's 2.42).

The fixture backfills known synthetic history with ``promtool tsdb create-blocks-from
openmetrics``, starts ``prometheus`` on 127.0.0.1 with a port the server picks, pulls, and
stops the server by its own process id. No mocks.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from promserver import EDGES_MS, OUTAGE, START, Server, make_history

from srekit.core.errors import InputError
from srekit.inputs.config import PrometheusConfig
from srekit.inputs.prometheus import (
    PrometheusClient,
    chunks,
    counter_increases,
    le_to_ms,
    pull_telemetry,
    resolve_time,
)
from srekit.inputs.telemetry import canonical, ratio, sli_counts

pytestmark = pytest.mark.xdist_group("prometheus")


@pytest.fixture(scope="module")
def history() -> pd.DataFrame:
    # 8 days at 1-minute steps = 11,520 points per series: more than one range query each.
    return make_history(days=8)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, history: pd.DataFrame) -> Iterator[Server]:
    srv = Server(tmp_path_factory.mktemp("prom-clean"), history, PrometheusConfig())
    yield srv
    srv.stop()


def _pull(srv: Server, history: pd.DataFrame, **kw) -> tuple[pd.DataFrame, object]:
    cfg = replace(PrometheusConfig(url=srv.url), **kw)
    return pull_telemetry(
        cfg, start=history["interval_start"].min(), end=history["interval_start"].max() + pd.Timedelta("1min")
    )


def test_backfill_kept_every_sample(server: Server, history: pd.DataFrame) -> None:
    journeys = history["journey"].nunique()
    series = journeys * (2 + len(EDGES_MS) + 1)  # ok + error counters, buckets, +Inf
    per_series = history.groupby("journey").size().iloc[0] + 1  # plus the zero at the start
    assert server.samples == series * per_series


def test_pull_equals_injected_history_exactly(server: Server, history: pd.DataFrame) -> None:
    pulled, entry = _pull(server, history)
    pd.testing.assert_frame_equal(pulled, history)  # totals, errors, every bucket, every minute
    assert entry.notes["range_queries"] == 3 * 2  # 11,520 steps split under the 11,000-point limit
    assert entry.notes["gaps_not_interpolated"] == 0
    assert entry.notes["counter_resets"] == 0
    assert entry.rows_accepted == len(history)


def test_injected_outage_is_visible(server: Server, history: pd.DataFrame) -> None:
    pulled, _ = _pull(server, history)
    events = sli_counts(pulled, "checkout", "availability")
    inside = events.loc[OUTAGE[0] : OUTAGE[1] - pd.Timedelta("1min")]
    outside = events.drop(inside.index)
    assert ratio(inside["bad"].sum(), inside["total"].sum()) > 0.9
    assert ratio(outside["bad"].sum(), outside["total"].sum()) < 0.01


def test_budget_from_pull_equals_budget_from_csv(server: Server, history: pd.DataFrame, tmp_path: Path) -> None:
    from srekit.inputs import loaders as io

    pulled, _ = _pull(server, history)
    csv = tmp_path / "telemetry.csv"
    history.to_csv(csv, index=False)
    loaded = io.load_telemetry(csv).frame
    for journey in ("browse", "checkout"):
        for kind, thr in (("availability", None), ("latency", 250.0)):
            a = sli_counts(pulled, journey, kind, threshold_ms=thr)
            b = sli_counts(loaded, journey, kind, threshold_ms=thr)
            assert int(a["bad"].sum()) == int(b["bad"].sum())
            assert int(a["total"].sum()) == int(b["total"].sum())
    from srekit.analysis.budget import error_budget
    from srekit.analysis.slo.events import sli_events
    from srekit.core.spec import SLOSpec

    for spec in (
        SLOSpec(
            name="checkout-availability",
            journey="checkout",
            sli="availability",
            target=0.999,
            window=pd.Timedelta(days=7),
        ),
        SLOSpec(
            name="browse-latency",
            journey="browse",
            sli="latency",
            target=0.99,
            threshold_ms=250.0,
            window=pd.Timedelta(days=7),
        ),
    ):
        fa = error_budget(sli_events(pulled, None, spec), spec).to_dict()
        fb = error_budget(sli_events(loaded, None, spec), spec).to_dict()
        assert fa == fb
        assert fa["bad_events"] > 0


def test_service_yaml_with_prometheus_url_loads_through_load_inputs(
    server: Server, history: pd.DataFrame, tmp_path: Path
) -> None:
    from srekit.inputs.config import load_config
    from srekit.inputs.loaders import load_inputs

    start = history["interval_start"].min()
    end = start + pd.Timedelta("2D")
    cfg = tmp_path / "service.yaml"
    cfg.write_text(
        f"service: shop\nprometheus:\n  url: {server.url}\n  start: '{start.isoformat()}'\n  end: '{end.isoformat()}'\n"
    )
    inputs = load_inputs(load_config(cfg))
    expect = history[history["interval_start"] < end].reset_index(drop=True)
    pd.testing.assert_frame_equal(inputs.telemetry, expect)
    assert any(e.kind == "prometheus" for e in inputs.ledger)


def test_milliseconds_histogram_and_selector(tmp_path: Path) -> None:
    hist = make_history(days=1, seed=3)
    cfg = PrometheusConfig(latency_histogram="rpc_latency_ms", latency_unit="milliseconds", journey_label="route")
    srv = Server(tmp_path / "ms", hist, cfg)
    try:
        pulled, _ = pull_telemetry(
            replace(cfg, url=srv.url, selector='route="checkout"'),
            start=hist["interval_start"].min(),
            end=hist["interval_start"].max() + pd.Timedelta("1min"),
        )
    finally:
        srv.stop()
    expect = hist[hist["journey"] == "checkout"].reset_index(drop=True)
    pd.testing.assert_frame_equal(pulled, expect)


def test_counter_reset_and_scrape_gap_are_counted_not_interpolated(tmp_path: Path) -> None:
    hist = make_history(days=1, seed=5)
    gap_from = int((START + pd.Timedelta("6h")).timestamp())
    gap_to = gap_from + 20 * 60  # 20 minutes without samples in one series: longer than the 5m look-back
    reset_at = int((START + pd.Timedelta("12h")).timestamp())
    target = 'http_requests_total{handler="browse",code="200"}'

    def mutate(lines: list[str]) -> list[str]:
        out = []
        offset = None
        for line in lines:
            if line.startswith(target + " "):
                name, value, ts = line.split()
                t = int(ts)
                if gap_from < t <= gap_to:
                    continue
                if t >= reset_at:  # process restart: the counter starts again from zero
                    offset = offset if offset is not None else int(value) - 0
                    line = f"{name} {int(value) - offset} {t}\n"
            out.append(line)
        return out

    srv = Server(tmp_path / "gap", hist, PrometheusConfig(), mutate=mutate)
    try:
        pulled, entry = _pull(srv, hist)
    finally:
        srv.stop()
    assert entry.notes["counter_resets"] >= 1
    assert entry.notes["gaps_not_interpolated"] > 0
    assert entry.notes["scrape_misses"] > 0
    # Outside the gap every minute is exact, including across the reset (the increase after a
    # reset is the new value, as Prometheus' increase() assumes).
    browse = pulled[pulled["journey"] == "browse"].set_index("interval_start")
    truth = hist[hist["journey"] == "browse"].set_index("interval_start")
    far = (truth.index < pd.Timestamp(gap_from - 60, unit="s", tz="UTC")) | (
        truth.index >= pd.Timestamp(gap_to + 6 * 60, unit="s", tz="UTC")
    )
    far &= truth.index != pd.Timestamp(reset_at - 60, unit="s", tz="UTC")
    pd.testing.assert_series_equal(browse.loc[truth.index[far], "total"], truth.loc[far, "total"])
    # The total over the day is never inflated by interpolation.
    assert browse["total"].sum() <= truth["total"].sum()


def test_unreachable_server_names_url_and_query() -> None:
    cfg = PrometheusConfig(url="http://127.0.0.1:9", retries=1, timeout_s=1.0)
    with pytest.raises(InputError) as err:
        pull_telemetry(cfg, start="2026-01-01T00:00Z", end="2026-01-01T01:00Z")
    msg = str(err.value)
    assert "http://127.0.0.1:9/api/v1/query_range" in msg and "http_requests_total" in msg and "fix:" in msg


def test_wrong_metric_name_is_a_clear_error(server: Server, history: pd.DataFrame) -> None:
    with pytest.raises(InputError, match="no series for the request counter"):
        _pull(server, history, request_counter="no_such_metric_total")


def test_bad_query_is_not_retried(server: Server) -> None:
    client = PrometheusClient(PrometheusConfig(url=server.url, retries=5))
    t0 = time.monotonic()
    with pytest.raises(InputError, match="bad_data"):
        client.query_range(
            "sum(", chunks(START, START + pd.Timedelta("1h"), pd.Timedelta("1min"))[0], pd.Timedelta("1min")
        )
    assert time.monotonic() - t0 < 5  # five retries would back off 0.5+1+2+4+5 = 12.5 s


def test_bearer_and_basic_auth_headers_from_environment() -> None:
    cfg = PrometheusConfig(url="http://127.0.0.1:9")
    c = PrometheusClient(cfg, env={"SREKIT_PROMETHEUS_TOKEN": "s3cret"})
    assert c.session.headers["Authorization"] == "Bearer s3cret"
    c = PrometheusClient(cfg, env={"SREKIT_PROMETHEUS_USER": "u", "SREKIT_PROMETHEUS_PASSWORD": "p"})
    assert c.session.auth == ("u", "p")
    c = PrometheusClient(replace(cfg, verify_tls="/etc/ssl/ca.pem"), env={})
    assert c.session.verify == "/etc/ssl/ca.pem" and "Authorization" not in c.session.headers


def test_chunks_share_borders_and_respect_the_limit() -> None:
    step = pd.Timedelta("1min")
    parts = chunks(START, START + pd.Timedelta(days=30), step)
    assert parts[0].start == START and parts[-1].end == START + pd.Timedelta(days=30)
    assert all(a.end == b.start for a, b in zip(parts, parts[1:], strict=False))
    assert all((p.end - p.start) / step + 1 <= 10_000 for p in parts)
    assert len(parts) == 5  # 43,201 points in spans of at most 10,000


def test_counter_increases_with_reset_and_gap() -> None:
    inc, resets = counter_increases(np.array([0, 5, 9, 2, np.nan, 7, 10], dtype=float))
    np.testing.assert_array_equal(inc[:3], [5, 4, 2])  # 9 -> 2 is a reset: increase 2
    assert np.isnan(inc[3]) and np.isnan(inc[4]) and inc[5] == 3
    assert resets == 1


def test_le_and_time_parsing() -> None:
    assert le_to_ms("0.005", "seconds") == 5.0
    assert le_to_ms("0.25", "seconds") == 250.0
    assert le_to_ms("250", "milliseconds") == 250.0
    now = pd.Timestamp("2026-02-01T00:00Z")
    assert resolve_time("now-28d", now, "start") == pd.Timestamp("2026-01-04T00:00Z")
    with pytest.raises(InputError, match="not a time"):
        resolve_time("yesterday", now, "start")


def test_cli_pull_writes_parquet(server: Server, history: pd.DataFrame, tmp_path: Path) -> None:
    cfg = tmp_path / "service.yaml"
    cfg.write_text("service: shop\nprometheus:\n  url: http://unused.invalid\n")
    out = tmp_path / "telemetry.parquet"
    start = history["interval_start"].min().isoformat()
    end = (history["interval_start"].min() + pd.Timedelta("1D")).isoformat()
    res = subprocess.run(
        [
            sys.executable,
            "-m",
            "srekit.cli",
            "pull",
            "prometheus",
            "--config",
            str(cfg),
            "--url",
            server.url,
            "--start",
            start,
            "--end",
            end,
            "--out",
            str(out),
        ],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(Path(__file__).parents[1])},
    )
    assert res.returncode == 0, res.stderr
    got = pd.read_parquet(out)
    expect = history[history["interval_start"] < history["interval_start"].min() + pd.Timedelta("1D")].reset_index(
        drop=True
    )
    pd.testing.assert_frame_equal(canonical(got), expect)
    assert "1440 intervals" in res.stdout or "rows" in res.stdout
    assert not list(tmp_path.glob("*.tmp*"))
    shutil.rmtree(tmp_path, ignore_errors=True)


@pytest.mark.slow
def test_telemetry_notebook_reads_from_prometheus(server: Server, history: pd.DataFrame, tmp_path: Path) -> None:
    """01_telemetry.ipynb with `prometheus_url` pulls its history from the live server."""
    import json

    import papermill

    root = Path(__file__).resolve().parents[1]
    start = history["interval_start"].min()
    cfg = tmp_path / "service.yaml"
    cfg.write_text(
        "service: shop\nprometheus:\n  url: http://unused.invalid\n"
        f"  start: '{start.isoformat()}'\n  end: '{(start + pd.Timedelta('2D')).isoformat()}'\n"
    )
    out = tmp_path / "01.ipynb"
    papermill.execute_notebook(
        str(root / "notebooks" / "01_telemetry.ipynb"),
        str(out),
        parameters={"config_path": str(cfg), "prometheus_url": server.url},
        cwd=str(root / "notebooks"),
        kernel_name="python3",
        progress_bar=False,
    )
    text = json.dumps(json.load(out.open())["cells"])
    assert server.url in text  # the ledger names the Prometheus source
    assert "checkout" in text and "browse" in text
    assert "http://unused.invalid" not in text
