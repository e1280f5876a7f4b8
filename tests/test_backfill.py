"""``srekit backfill`` against a real Prometheus (Debian's 2.42): known history with injected
incidents is backfilled as raw counters, srekit backfills its recording rules over 30 days with
promtool, the blocks are loaded into a fresh Prometheus, and

* every recorded SLI ratio equals srekit's own count of the same history (float rounding), at
  minutes inside and outside the outage;
* every exported alert expression, evaluated by Prometheus over the backfilled ratios at the
  rules' evaluation interval, is true at the minutes srekit's replay fires (one step at the edges,
  explained in docs/alerting.md, "The replay and Prometheus").
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import requests
from conftest import require_tool
from promserver import Server
from scipy.stats import lognorm

from srekit.inputs.config import PrometheusConfig
from srekit.inputs.telemetry import canonical, edge_label

pytestmark = pytest.mark.xdist_group("prometheus")

ROOT = Path(__file__).resolve().parents[1]
H0 = pd.Timestamp("2026-03-01T00:00:00Z")  # first minute of the raw history
DAYS = 36
START = H0 + pd.Timedelta(days=6)  # the backfill covers the last 30 days
END = H0 + pd.Timedelta(days=DAYS)
EDGES_MS = (100, 250, 1000)
MIN = pd.Timedelta(minutes=1)


@dataclass(frozen=True)
class Incident:
    journey: str
    start: pd.Timestamp
    minutes: int
    error_ratio: float | None = None  # errors during the incident
    latency_scale: float | None = None  # lognormal latency scale (ms) during the incident


OUTAGE = Incident("checkout", H0 + pd.Timedelta(days=20, hours=10), 20, error_ratio=0.95)
INCIDENTS = (
    OUTAGE,  # hard outage: pages within a minute
    Incident("checkout", H0 + pd.Timedelta(days=27, hours=2), 24 * 60, error_ratio=0.0035),  # slow burn: tickets
    Incident("browse", H0 + pd.Timedelta(days=24, hours=14), 120, latency_scale=240.0),  # latency regression
    Incident("browse", H0 + pd.Timedelta(days=30, hours=3), 15, error_ratio=0.4),  # short partial outage
)
SERVICE_YAML = """\
service: shop
data:
  telemetry: history.parquet
journeys:
  - name: checkout
    slos: {availability: 0.999, latency: {threshold_ms: 1000, target: 0.99}}
  - name: browse
    slos: {availability: 0.995, latency: {threshold_ms: 250, target: 0.98}}
slo: {window: 28d}
oncall: {coverage: 24x7}
"""


def make_history(seed: int = 5) -> pd.DataFrame:
    """Per-minute telemetry of two journeys (daily traffic cycle, lognormal latency) with the
    :data:`INCIDENTS` injected."""
    rng = np.random.default_rng(seed)
    idx = pd.date_range(H0, periods=DAYS * 1440, freq="1min", tz="UTC")
    minute_of_day = (idx.hour * 60 + idx.minute).to_numpy()
    frames = []
    for journey, rate, scale in (("browse", 120, 40.0), ("checkout", 30, 90.0)):
        total = rng.poisson(rate * (1 + 0.5 * np.sin(2 * np.pi * minute_of_day / 1440)))
        p_err = np.full(len(idx), 0.0002)
        scales = np.full(len(idx), scale)
        for inc in (i for i in INCIDENTS if i.journey == journey):
            during = (idx >= inc.start) & (idx < inc.start + inc.minutes * MIN)
            p_err[during] = inc.error_ratio if inc.error_ratio is not None else p_err[during]
            scales[during] = inc.latency_scale if inc.latency_scale is not None else scale
        df = pd.DataFrame(
            {"journey": journey, "interval_start": idx, "total": total, "errors": rng.binomial(total, p_err)}
        )
        cum, remaining, p_prev = np.zeros(len(idx), dtype=np.int64), total.copy(), np.zeros(len(idx))
        for e in EDGES_MS:  # cumulative bucket counts: multinomial draws edge by edge
            p_edge = lognorm.cdf(e, 0.8, scale=scales)
            take = rng.binomial(remaining, np.clip((p_edge - p_prev) / np.maximum(1e-12, 1 - p_prev), 0, 1))
            remaining, cum, p_prev = remaining - take, cum + take, p_edge
            df[edge_label(e)] = cum
        frames.append(df)
    return canonical(pd.concat(frames, ignore_index=True))


def with_count_series(lines: list[str]) -> list[str]:
    """A real histogram also exports ``_count`` (= the ``+Inf`` bucket); the latency rules read it."""
    counts = [
        line.replace("_bucket{", "_count{", 1).replace(',le="+Inf"', "")
        for line in lines
        if "_bucket{" in line and 'le="+Inf"' in line
    ]
    return [*lines[:-1], *counts, lines[-1]]


@dataclass
class Backfilled:
    history: pd.DataFrame
    source: Server
    fresh: Server
    out: Path
    stdout: str
    config: Path
    source_data: Path


def run_cli(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "srekit.cli", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        timeout=1800,
    )


@pytest.fixture(scope="module")
def backfilled(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Backfilled]:
    require_tool("promtool")
    require_tool("prometheus")
    work = tmp_path_factory.mktemp("backfill")
    history = make_history()
    history.to_parquet(work / "history.parquet")
    (work / "service.yaml").write_text(SERVICE_YAML)
    source = Server(work / "source", history, PrometheusConfig(), mutate=with_count_series)
    fresh = None
    try:
        res = run_cli(
            "backfill",
            "--config",
            str(work / "service.yaml"),
            "--url",
            source.url,
            "--start",
            START.isoformat(),
            "--end",
            END.isoformat(),
            "--out",
            str(work / "blocks"),
        )
        assert res.returncode == 0, res.stdout + res.stderr
        fresh = Server.on_blocks(work / "fresh", work / "blocks")
        yield Backfilled(
            history, source, fresh, work / "blocks", res.stdout, work / "service.yaml", work / "source/data"
        )
    finally:
        source.stop()
        if fresh is not None:
            fresh.stop()


def instant(url: str, query: str, at: pd.Timestamp) -> list[dict]:
    body = requests.post(f"{url}/api/v1/query", data={"query": query, "time": f"{at.timestamp():.3f}"}, timeout=60)
    assert body.status_code == 200, body.text
    return list(body.json()["data"]["result"])


def recorded_sample(url: str, record: str, slo: str, at: pd.Timestamp) -> tuple[pd.Timestamp, float]:
    """The recorded sample of ``record`` for ``slo`` evaluated in the minute after ``at``."""
    res = instant(url, f'{record}{{srekit_slo="{slo}"}}[1m]', at + MIN)
    assert len(res) == 1, (record, slo, res)
    ts, value = res[0]["values"][-1]
    return pd.Timestamp(float(ts), unit="s", tz="UTC"), float(value)


def true_minutes(url: str, expr: str, first: pd.Timestamp, last: pd.Timestamp) -> pd.DatetimeIndex:
    """Minutes (floored evaluation times) at which Prometheus returns any series for ``expr``,
    evaluated every minute from ``first`` to ``last`` (range queries under the point limit)."""
    out: list[float] = []
    lo = first
    while lo <= last:
        hi = min(lo + 9_999 * MIN, last)
        res = requests.post(
            f"{url}/api/v1/query_range",
            data={"query": expr, "start": f"{lo.timestamp():.3f}", "end": f"{hi.timestamp():.3f}", "step": "60s"},
            timeout=600,
        ).json()
        assert res["status"] == "success", res
        out += [float(t) for series in res["data"]["result"] for t, _ in series["values"]]
        lo = hi + MIN
    return pd.DatetimeIndex(sorted(set(pd.to_datetime(out, unit="s", utc=True).floor("1min"))))


def exported(config_path: Path) -> tuple[list, dict]:
    """The policies ``srekit backfill`` used and the rules document they export."""
    from srekit.analysis.alerting.policy import policy_for
    from srekit.cli.alerts import export_specs
    from srekit.exports.prometheus import prometheus_rules
    from srekit.inputs.config import load_config

    config = load_config(config_path)
    policies = [policy_for(s, config) for s in export_specs(config)]
    return policies, prometheus_rules(policies, config)


def window_ratio(events: pd.DataFrame, window: pd.Timedelta, at: pd.Timestamp) -> float:
    """srekit's count: bad / total of the intervals lying wholly inside ``[at − window, at]`` (the
    counter increments a ``rate()`` over that range sees; its extrapolation cancels in a ratio)."""
    starts = events.index
    part = events[(starts >= at - window) & (starts + MIN <= at)]
    return float(part["bad"].sum() / part["total"].sum())


def test_cli_backfills_in_dependency_order_and_says_how_to_load(backfilled: Backfilled) -> None:
    out = backfilled.stdout
    assert "pass 1, the 28d before --start" in out and "pass 2 of 2: 4 rules" in out
    assert (
        "alerting rules are not backfilled" in out and "mv " in out and "--storage.tsdb.allow-overlapping-blocks" in out
    )
    names = requests.get(f"{backfilled.fresh.url}/api/v1/label/__name__/values", timeout=10).json()["data"]
    _, doc = exported(backfilled.config)
    records = {r["record"] for g in doc["groups"] for r in g["rules"] if "record" in r}
    assert set(names) == records  # every recording rule, nothing else (no ALERTS, no raw series)


CHECK_MINUTES = (
    OUTAGE.start + 5 * MIN,  # inside the outage
    OUTAGE.start + 19 * MIN,
    OUTAGE.start + 50 * MIN,  # after it, still inside the longer windows
    H0 + pd.Timedelta(days=10, hours=12),  # quiet
    H0 + pd.Timedelta(days=24, hours=15),  # inside the browse latency regression
    H0 + pd.Timedelta(days=30, hours=3, minutes=10),  # inside the browse partial outage
)


def test_recorded_ratios_equal_srekit_counts(backfilled: Backfilled) -> None:
    from srekit.analysis.slo.events import sli_events
    from srekit.exports.prometheus import ratio_record

    policies, _ = exported(backfilled.config)
    checked = 0
    for policy in policies:
        spec = policy.spec
        events = sli_events(backfilled.history, None, spec)
        for w in sorted({w for r in policy.rules for w in (r.long_window, r.short_window)}):
            from srekit.core.timeutil import format_duration

            for minute in CHECK_MINUTES:
                ts, value = recorded_sample(backfilled.fresh.url, ratio_record(format_duration(w)), spec.name, minute)
                assert minute < ts < minute + MIN
                assert value == pytest.approx(window_ratio(events, w, ts), rel=1e-9, abs=1e-15), (spec.name, w, ts)
                checked += 1
    assert checked == 4 * 7 * len(CHECK_MINUTES)
    # the outage is there: the checkout availability 5m ratio inside it is ~0.95, outside ~0.0002
    ts, inside = recorded_sample(
        backfilled.fresh.url, "slo:sli_error:ratio_rate5m", "checkout-availability", OUTAGE.start + 10 * MIN
    )
    assert inside > 0.8


@dataclass(frozen=True)
class AlertComparison:
    alert: str
    prometheus: pd.DatetimeIndex  # minutes Prometheus says the expression is true
    replay: pd.DatetimeIndex  # minutes srekit's replay fires
    edges: pd.DatetimeIndex  # minutes where either side changes state

    @property
    def differ(self) -> pd.DatetimeIndex:
        return self.prometheus.symmetric_difference(self.replay)

    @property
    def off_edge(self) -> pd.DatetimeIndex:
        """Differing minutes more than one evaluation step from every state change."""
        return pd.DatetimeIndex(
            [m for m in self.differ if not ((self.edges >= m - MIN) & (self.edges <= m + MIN)).any()]
        )


def _changes(true: pd.DatetimeIndex, grid: pd.DatetimeIndex) -> pd.DatetimeIndex:
    state = grid.isin(true)
    return grid[1:][state[1:] != state[:-1]]


def compare_alerts(backfilled: Backfilled, *, at_minute: bool = False) -> list[AlertComparison]:
    """Every exported alert: the minutes its expression is true in Prometheus (evaluated over the
    backfilled ratios at the recording group's own evaluation offset) against the replay."""
    from srekit.analysis.alerting.events import sli_events
    from srekit.analysis.alerting.replay import replay

    policies, doc = exported(backfilled.config)
    exprs = {r["alert"]: r["expr"] for g in doc["groups"] for r in g["rules"] if "alert" in r}
    grid = pd.date_range(START + MIN, END, freq="1min")
    out = []
    for policy in policies:
        fired = replay(sli_events(backfilled.history, None, policy.spec), policy.rules)
        offset, _ = recorded_sample(backfilled.fresh.url, "slo:objective:ratio", policy.spec.name, START)
        offset = pd.Timedelta(0) if at_minute else offset - START
        for alert, _, rules in policy.alerts():
            prom = true_minutes(backfilled.fresh.url, exprs[alert], grid[0] + offset, grid[-1] + offset)
            mine = fired[[r.name for r in rules]].any(axis=1)
            mine = pd.DatetimeIndex(mine.index[mine.to_numpy()]).intersection(grid)
            prom = prom.intersection(grid)
            edges = _changes(prom, grid).union(_changes(mine, grid))
            out.append(AlertComparison(alert, prom, mine, edges))
    return out


def runs(true: pd.DatetimeIndex, grid: pd.DatetimeIndex) -> list[tuple[pd.Timestamp, pd.Timestamp]]:
    """Firing runs as (first true minute, first false minute) within ``grid``."""
    state = np.concatenate(([False], grid.isin(true), [False]))
    d = np.diff(state.astype(int))
    ext = grid.append(pd.DatetimeIndex([grid[-1] + MIN]))
    return list(zip(ext[np.flatnonzero(d == 1)], ext[np.flatnonzero(d == -1)], strict=True))


GRID = pd.date_range(START + MIN, END, freq="1min")


def test_alert_expressions_on_backfilled_history_equal_the_replay(backfilled: Backfilled) -> None:
    """Evaluated by Prometheus over the backfilled ratios at the recording group's own evaluation
    times (an alert group that runs after it), every exported alert fires in the same runs as the
    replay, each starting at the same minute and clearing one evaluation earlier: at an evaluation
    offset inside the minute, ``rate(x[w])`` sees the increments of w minus one scrape interval."""
    firing = 0
    for c in compare_alerts(backfilled):
        assert c.off_edge.empty, (c.alert, c.off_edge)
        mine, theirs = runs(c.replay, GRID), runs(c.prometheus, GRID)
        assert [s for s, _ in theirs] == [s for s, _ in mine], c.alert
        assert [e for _, e in theirs] == [e - MIN for _, e in mine], c.alert
        assert len(c.differ) == len(mine)  # one minute per firing run, nothing else
        firing += bool(mine)
    assert firing >= 5  # fast and slow, availability and latency alerts fired: the test has teeth


def test_alert_group_evaluated_before_the_recording_group_is_one_step_late(backfilled: Backfilled) -> None:
    """At the top of the minute (an alert group whose offset comes before the recording group's)
    Prometheus reads the previous minute's ratios: each run starts one evaluation later than the
    replay and clears at the same minute."""
    for c in compare_alerts(backfilled, at_minute=True):
        assert c.off_edge.empty, (c.alert, c.off_edge)
        mine, theirs = runs(c.replay, GRID), runs(c.prometheus, GRID)
        assert [(s, e) for s, e in theirs] == [(s + MIN, e) for s, e in mine], c.alert


def inline_records(expr: str, doc: dict) -> str:
    """``expr`` with every recorded ratio replaced by its recording expression (the same SLO's)."""
    exprs = {
        (r["record"], r["labels"]["srekit_slo"]): r["expr"] for g in doc["groups"] for r in g["rules"] if "record" in r
    }

    def sub(m: re.Match[str]) -> str:
        slo = re.search(r'srekit_slo="([^"]+)"', m.group(2))
        assert slo is not None
        return f"({exprs[(m.group(1), slo.group(1))]})"

    return re.sub(r"(slo:sli_error:ratio_rate\w+)(\{[^}]*\})", sub, expr)


def test_exported_expressions_at_scrape_instants_equal_the_replay_exactly(backfilled: Backfilled) -> None:
    """The one-step differences above come from when Prometheus evaluates, not from what it
    computes: the alert expressions with their ratios written out, evaluated on the raw counters at
    the scrape instants (where Prometheus 2's closed ``[t − w, t]`` holds w of increments), fire
    at exactly the replay's minutes around every incident."""
    from srekit.analysis.alerting.events import sli_events
    from srekit.analysis.alerting.replay import replay

    policies, doc = exported(backfilled.config)
    exprs = {r["alert"]: r["expr"] for g in doc["groups"] for r in g["rules"] if "alert" in r}
    minutes = 0
    for policy in policies:
        fired = replay(sli_events(backfilled.history, None, policy.spec), policy.rules)
        for alert, _, rules in policy.alerts():
            mine_all = fired[[r.name for r in rules]].any(axis=1)
            for inc in INCIDENTS:
                grid = pd.date_range(
                    inc.start - pd.Timedelta(hours=2),
                    inc.start + inc.minutes * MIN + pd.Timedelta(hours=8),
                    freq="1min",
                )
                theirs = true_minutes(backfilled.source.url, inline_records(exprs[alert], doc), grid[0], grid[-1])
                mine = pd.DatetimeIndex(mine_all.index[mine_all.to_numpy()]).intersection(grid)
                assert list(theirs.intersection(grid)) == list(mine), (alert, inc)
                minutes += len(mine)
    assert minutes > 1000


def test_period_ratio_is_request_weighted_over_the_window(backfilled: Backfilled) -> None:
    """``slo:sli_error:ratio_rate28d`` (second pass: sums of the recorded 5-minute rates over 28
    days) equals srekit's count with the weights those sums give each interval (4 in the bulk at a
    1-minute scrape, fewer at the two ends of the window) and is within 0.1 % of the exact
    request-weighted ratio of the window."""
    from srekit.analysis.slo.events import sli_events

    policies, _ = exported(backfilled.config)
    for policy in policies:
        spec = policy.spec
        events = sli_events(backfilled.history, None, spec)
        ends = events.index + MIN  # a counter sample at the end of each interval
        bad4 = pd.Series(events["bad"].to_numpy(), index=ends).rolling(4, min_periods=1).sum()
        tot4 = pd.Series(events["total"].to_numpy(), index=ends).rolling(4, min_periods=1).sum()
        for minute in (H0 + pd.Timedelta(days=29, hours=6), END - pd.Timedelta(hours=5)):
            ts, value = recorded_sample(backfilled.fresh.url, "slo:sli_error:ratio_rate28d", spec.name, minute)
            k = (bad4.index >= ts.floor("1min") - spec.window) & (bad4.index <= ts.floor("1min"))
            assert value == pytest.approx(bad4[k].sum() / tot4[k].sum(), rel=1e-11), (spec.name, ts)
            assert value == pytest.approx(window_ratio(events, spec.window, ts), rel=1e-3), (spec.name, ts)


def test_period_ratio_is_complete_from_the_first_backfilled_minute(backfilled: Backfilled) -> None:
    """The 5-minute rates the period ratio sums were backfilled for the 28 days before --start too
    (back to where the raw history begins), so two hours after --start the ratio already covers
    six days of history, not two hours."""
    from srekit.analysis.slo.events import sli_events

    policies, _ = exported(backfilled.config)
    at = START + pd.Timedelta(hours=2)
    for policy in policies:
        name = policy.spec.name
        query = f'count_over_time(slo:sli_requests:rate5m{{srekit_slo="{name}"}}[28d])'
        counted = instant(backfilled.fresh.url, query, at)
        assert float(counted[0]["value"][1]) == pytest.approx((at - H0) / MIN, abs=2)
        ts, value = recorded_sample(backfilled.fresh.url, "slo:sli_error:ratio_rate28d", name, at - MIN)
        exact = window_ratio(sli_events(backfilled.history, None, policy.spec), policy.spec.window, ts)
        # within 1 %: the rates of a counter's first minutes (its birth) extrapolate differently
        assert value == pytest.approx(exact, rel=1e-2), (name, value, exact)


# ----------------------------------------------------------------------------- limits and errors


def test_live_rules_stop_the_backfill_where_they_begin(backfilled: Backfilled, tmp_path: Path) -> None:
    """A Prometheus whose live srekit rules began at --start of the first backfill (its raw history
    plus the backfilled series): a second backfill over the days before ends with the evaluation
    before the live series begin, and a range they already cover is refused."""
    import shutil

    data = tmp_path / "data"
    for folder in (backfilled.source_data, backfilled.out):
        for block in (p for p in folder.iterdir() if (p / "meta.json").is_file()):
            shutil.copytree(block, data / block.name, copy_function=os.link)
    server = Server.on_blocks(tmp_path / "server", data)
    try:
        common = ("backfill", "--config", str(backfilled.config), "--url", server.url)
        early, late = START - pd.Timedelta(days=2), START + pd.Timedelta(days=1)
        # --out relative to the working folder (the local Prometheus of the second pass runs elsewhere)
        res = run_cli(*common, "--start", early.isoformat(), "--end", late.isoformat(), "--out", "a", cwd=tmp_path)
        assert res.returncode == 0, res.stderr
        assert "the live rules record from 2026-03-07T00:0" in res.stdout
        metas = [json.loads(p.read_text()) for p in (tmp_path / "a").glob("*/meta.json")]
        assert metas and max(m["maxTime"] for m in metas) < START.timestamp() * 1000  # nothing recorded twice
        assert min(m["minTime"] for m in metas) < early.timestamp() * 1000  # the lead run of the 28d ratio
        later = late + pd.Timedelta(days=1)
        res = run_cli(*common, "--start", late.isoformat(), "--end", later.isoformat(), "--out", str(tmp_path / "b"))
        assert res.returncode == 2
        assert "nothing to backfill" in res.stderr and "fix: choose an earlier --start" in res.stderr
    finally:
        server.stop()


def test_source_without_the_series_is_refused_by_name(backfilled: Backfilled, tmp_path: Path) -> None:
    """The fresh server holds only recorded series: every selector the rules read is named."""
    args = ("--config", str(backfilled.config), "--url", backfilled.fresh.url, "--out", str(tmp_path / "a"))
    early = START - pd.Timedelta(days=3)
    res = run_cli("backfill", *args, "--start", early.isoformat(), "--end", (early + pd.Timedelta(days=1)).isoformat())
    assert res.returncode == 2
    assert "the source has none of the series the rules read" in res.stderr
    assert 'http_request_duration_seconds_bucket{handler="browse",le="0.25"}' in res.stderr


def test_too_many_points_is_a_clear_limit(backfilled: Backfilled, tmp_path: Path) -> None:
    out = tmp_path / "x"
    args = ("--config", str(backfilled.config), "--url", backfilled.source.url, "--out", str(out))
    res = run_cli("backfill", *args, "--start", START.isoformat(), "--end", END.isoformat(), "--max-points", "100000")
    assert res.returncode == 2
    assert "above the limit of 100,000" in res.stderr and "fix: shorten --start/--end" in res.stderr
    assert not out.exists()


def _quick(tmp_path: Path, *extra: str, end: str = "2026-03-08T00:00Z") -> subprocess.CompletedProcess[str]:
    (tmp_path / "service.yaml").write_text(
        "service: shop\ndata: {telemetry: t.csv}\njourneys:\n  - name: checkout\n    slos: {availability: 0.999}\n"
    )
    (tmp_path / "t.csv").write_text("journey,interval_start,total,errors\ncheckout,2026-03-01T00:00Z,10,0\n")
    args = ["backfill", "--config", str(tmp_path / "service.yaml"), "--url", "http://127.0.0.1:9"]
    return run_cli(*args, "--start", "2026-03-01T00:00Z", "--end", end, "--out", str(tmp_path / "blocks"), *extra)


def test_missing_promtool_exits_2_with_the_install_hint(tmp_path: Path) -> None:
    res = _quick(tmp_path, "--promtool", str(tmp_path / "no-such-promtool"))
    assert res.returncode == 2
    assert "no-such-promtool is not an executable" in res.stderr and "apt-get install prometheus" in res.stderr


def test_end_inside_the_head_block_is_refused(tmp_path: Path) -> None:
    res = _quick(tmp_path, end="now")
    assert res.returncode == 2 and "within the last 3 hours" in res.stderr


def test_non_empty_output_folder_is_refused(tmp_path: Path) -> None:
    (tmp_path / "blocks").mkdir()
    (tmp_path / "blocks" / "old").write_text("x")
    res = _quick(tmp_path)
    assert res.returncode == 2 and "is not empty" in res.stderr


def test_unreachable_source_names_the_url(tmp_path: Path) -> None:
    require_tool("promtool")
    res = _quick(tmp_path)
    assert res.returncode == 2 and "http://127.0.0.1:9" in res.stderr and "fix:" in res.stderr


# ----------------------------------------------------------------------------- planning


def sample_groups() -> list[dict]:
    import yaml

    return yaml.safe_load((ROOT / "tests/golden/samples/rules/prometheus/rules.yml").read_text())["groups"]


def test_dependency_levels_of_the_exported_rules() -> None:
    from srekit.exports.backfill import dependency_levels

    rules = dependency_levels(sample_groups())
    second = [r for r in rules if r.level == 1]
    assert {r.rule["record"] for r in second} == {"slo:sli_error:ratio_rate28d"}
    assert all(r.reads == {"slo:sli_errors:rate5m", "slo:sli_requests:rate5m"} for r in second)
    # eight exportable SLOs, 12 recording rules each, and the two bad-event counts (1h, 6h) of the
    # guard refunds-availability pages with (its low-traffic remedy, chosen by replay)
    assert len(second) == 8 and len(rules) == 8 * 12 + 2


def test_dependency_cycles_and_mixed_reads_are_refused() -> None:
    from srekit.exports.backfill import BackfillError, dependency_levels

    cycle = [{"name": "g", "rules": [{"record": "a:x", "expr": "b:y * 2"}, {"record": "b:y", "expr": "a:x + 1"}]}]
    with pytest.raises(BackfillError, match="cycle: a:x, b:y"):
        dependency_levels(cycle)
    mixed = [
        {"name": "g", "rules": [{"record": "a:x", "expr": "up"}, {"record": "b:y", "expr": "a:x{} / up{job='a:x'}"}]}
    ]
    with pytest.raises(BackfillError, match=r"reads recorded series \(a:x\) and scraped series \(up\)"):
        dependency_levels(mixed)


def test_names_inside_label_values_are_not_dependencies() -> None:
    from srekit.exports.promql_scan import lookback, references

    assert references('up{job="slo:objective:ratio"}', ["slo:objective:ratio"]) == set()
    assert references("sum_over_time(a:b{x='1'}[28d]) / a:bc", ["a:b", "a:bc", "a"]) == {"a:b", "a:bc"}
    expr = 'sum_over_time(x[28d]) / rate(y{a="[3y]"}[1h30m]) + max_over_time(z[2w:5m])'
    assert lookback(expr) == pd.Timedelta(days=28)


def test_plan_orders_passes_leads_the_dependencies_and_counts_points() -> None:
    from srekit.exports.backfill import plan_backfill

    start, end = pd.Timestamp("2026-10-01T00:00Z"), pd.Timestamp("2026-10-31T00:00Z")
    plan = plan_backfill(sample_groups(), start, end)
    lead, first, second = plan.runs
    assert (lead.level, lead.start, lead.end, lead.rules) == (0, start - pd.Timedelta(days=28), start, 16)
    assert (first.level, first.rules, second.level, second.rules) == (0, 90, 1, 8)
    assert plan.points == 16 * (28 * 1440 + 1) + 98 * (30 * 1440 + 1)
    assert plan.block == pd.Timedelta(hours=162) and plan.levels == 2
    epoch = pd.Timestamp(0, tz="UTC")
    for run in plan.runs:  # chunks cover the run, share borders, never split a block
        spans = plan.chunks(run)
        assert spans[0][0] == run.start and spans[-1][1] == run.end
        assert all(a[1] == b[0] for a, b in zip(spans, spans[1:], strict=False))
        assert all((b - epoch) % plan.block == pd.Timedelta(0) for _, b in spans[:-1])


@pytest.mark.parametrize(("interval", "block"), [("1m", "162h"), ("30s", "54h"), ("15s", "18h"), ("1s", "2h")])
def test_blocks_keep_each_range_query_under_the_point_limit(interval: str, block: str) -> None:
    from srekit.exports.backfill import MAX_QUERY_POINTS, block_duration
    from srekit.exports.promql_scan import prom_duration

    got = block_duration(pd.Timedelta(days=30), prom_duration(interval))
    assert got == prom_duration(block) and got / prom_duration(interval) <= MAX_QUERY_POINTS


def test_sub_second_interval_and_empty_range_are_refused() -> None:
    from srekit.core.errors import ConfigError
    from srekit.exports.backfill import block_duration, plan_backfill

    with pytest.raises(ConfigError, match="points per query"):
        block_duration(pd.Timedelta(days=1), pd.Timedelta(milliseconds=500))
    t = pd.Timestamp("2026-10-01T00:00Z")
    with pytest.raises(ConfigError, match="is empty. fix: --start must be before --end"):
        plan_backfill(sample_groups(), t, t)


# ----------------------------------------------------------------------------- the dashboards on backfilled data


def shop_dashboard(backfilled: Backfilled) -> dict:
    from srekit.exports.grafana import service_dashboard
    from srekit.inputs.config import load_config

    policies, _ = exported(backfilled.config)
    doc = service_dashboard(load_config(backfilled.config), policies)
    assert doc is not None
    return doc


def test_every_dashboard_query_has_data_on_day_one(backfilled: Backfilled) -> None:
    """Right after the blocks are loaded, every panel query returns series for every journey (the
    row repeated per journey) and the SLO table has a row per SLO in every column."""
    from srekit.exports.dashboard_check import concrete, dashboard_queries

    at = END - pd.Timedelta(hours=1)
    for q in dashboard_queries(shop_dashboard(backfilled)):
        if q.where.startswith("annotation"):
            continue  # ALERTS: written by Prometheus's rule evaluation, never backfilled
        if q.where.startswith("variable"):  # the journey variable lists both journeys
            assert {s["metric"]["srekit_journey"] for s in instant(backfilled.fresh.url, q.expr, at)} == {
                "checkout",
                "browse",
            }
            continue
        for journey in ("checkout", "browse"):
            res = instant(backfilled.fresh.url, concrete(q.expr, {"journey": journey}), at)
            assert {s["metric"].get("srekit_journey", journey) for s in res} == {journey}, (q.where, journey)
        if q.where.startswith("panel 'SLOs'"):
            assert len(instant(backfilled.fresh.url, concrete(q.expr, {"journey": ".*"}), at)) == 4, q.where


def test_dashboard_alert_panel_is_the_exported_alerts(backfilled: Backfilled) -> None:
    """The alert panel's 0/1 series equal the exported alert expressions minute for minute over the
    whole backfilled range (same recorded samples, same evaluation times)."""
    from srekit.exports.dashboard_check import concrete

    panel = next(p for p in shop_dashboard(backfilled)["panels"] if p["title"] == "Alerts firing")
    _, doc = exported(backfilled.config)
    exprs = {r["alert"]: r["expr"] for g in doc["groups"] for r in g["rules"] if "alert" in r}
    offsets = {}
    for alert, expr in exprs.items():
        slo = re.search(r'srekit_slo="([^"]+)"', expr)
        assert slo is not None
        offsets[alert] = recorded_sample(backfilled.fresh.url, "slo:objective:ratio", slo.group(1), START)[0] - START
    firing: dict[str, pd.DatetimeIndex] = {}
    for alert, expr in exprs.items():
        selector = next(t["expr"] for t in panel["targets"] if f'"alertname", "{alert}"' in t["expr"])
        panel_query = f"max by (alertname) (({concrete(selector, {'journey': '.*'})}) == 1)"
        first, last = GRID[0] + offsets[alert], GRID[-1] + offsets[alert]
        shown = _alert_minutes(backfilled.fresh.url, panel_query, alert, first, last)
        truth = true_minutes(backfilled.fresh.url, expr, first, last)
        assert list(shown) == list(truth), alert
        firing[alert] = truth
    assert sum(len(v) > 0 for v in firing.values()) >= 5


def _alert_minutes(url: str, query: str, alert: str, first: pd.Timestamp, last: pd.Timestamp) -> pd.DatetimeIndex:
    """Minutes at which ``query`` (a ``max by (alertname)``) returns the series of ``alert``."""
    return true_minutes(
        url, f'{query} and on(alertname) label_replace(vector(1), "alertname", "{alert}", "", "")', first, last
    )


def test_dashboard_budget_left_is_the_reports_budget(backfilled: Backfilled) -> None:
    """The table's error budget left equals 1 − the budget consumed srekit reports for the same
    28 days (the period rule's end weighting moves it by less than 0.2 percentage points)."""
    from srekit.analysis.budget import error_budget
    from srekit.analysis.slo.events import sli_events
    from srekit.exports.dashboard_check import concrete

    panel = next(p for p in shop_dashboard(backfilled)["panels"] if p["title"] == "SLOs")
    budget_query = concrete(next(t["expr"] for t in panel["targets"] if t["refId"] == "C"), {"journey": ".*"})
    policies, _ = exported(backfilled.config)
    at = END - pd.Timedelta(hours=2)
    shown = {s["metric"]["srekit_slo"]: float(s["value"][1]) for s in instant(backfilled.fresh.url, budget_query, at)}
    for policy in policies:
        events = sli_events(backfilled.history, None, policy.spec)
        report = error_budget(events, policy.spec, as_of=at.floor("1min"))
        assert shown[policy.spec.name] == pytest.approx(1 - report.consumed, abs=2e-3), policy.spec.name
    assert min(shown.values()) < 0.5  # the outage spent most of checkout's budget: the check has teeth


def test_sigterm_leaves_nothing_behind(backfilled: Backfilled, tmp_path: Path) -> None:
    """A scheduler's SIGTERM mid-run: exit 143, promtool killed, the staging folder removed."""
    import signal
    import time

    out = tmp_path / "blocks"
    args = ("--config", str(backfilled.config), "--url", backfilled.source.url, "--out", str(out))
    proc = subprocess.Popen(
        [sys.executable, "-m", "srekit.cli", "backfill", *args, "--start", START.isoformat(), "--end", END.isoformat()],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    try:
        deadline = time.monotonic() + 120
        while not list(out.glob(".srekit-backfill-*/run-*/blocks/*/meta.json")) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert proc.poll() is None, "the backfill ended before it could be interrupted"
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 143 and "stopped by signal 15" in err
    assert list(out.iterdir()) == []
    running = subprocess.run(["ps", "-eo", "args"], capture_output=True, text=True).stdout
    assert str(out) not in running  # no promtool or local prometheus left over
