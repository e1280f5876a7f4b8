"""A real Prometheus for tests (Debian's 2.42): known synthetic history backfilled with
``promtool tsdb create-blocks-from openmetrics``, served on 127.0.0.1 with a port the server
picks, stopped by its own process id. Shared by ``test_prometheus.py`` (the pull) and
``test_backfill.py`` (recording rules backfilled over the past).
"""

from __future__ import annotations

import re
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import requests
from conftest import require_tool

from srekit.inputs.config import PrometheusConfig
from srekit.inputs.prometheus import iter_openmetrics
from srekit.inputs.telemetry import canonical, edge_label

EDGES_MS = (5, 10, 25, 50, 100, 250, 500, 1000, 2500)
START = pd.Timestamp("2026-03-01T00:00:00Z")
OUTAGE = (pd.Timestamp("2026-03-04T10:00:00Z"), pd.Timestamp("2026-03-04T10:20:00Z"))


def make_history(days: int, seed: int = 11) -> pd.DataFrame:
    """Two journeys of per-minute aggregated telemetry with a 20-minute checkout outage."""
    rng = np.random.default_rng(seed)
    idx = pd.date_range(START, periods=days * 1440, freq="1min", tz="UTC")
    frames = []
    for journey, rate, scale in (("browse", 120, 40.0), ("checkout", 30, 90.0)):
        minute_of_day = (idx.hour * 60 + idx.minute).to_numpy()
        lam = rate * (1 + 0.5 * np.sin(2 * np.pi * minute_of_day / 1440))
        total = rng.poisson(lam)
        p_err = np.full(len(idx), 0.002)
        if journey == "checkout":
            p_err[(idx >= OUTAGE[0]) & (idx < OUTAGE[1])] = 0.95
        errors = rng.binomial(total, p_err)
        latency = rng.lognormal(np.log(scale), 0.8, size=(len(idx), 1))
        df = pd.DataFrame({"journey": journey, "interval_start": idx, "total": total, "errors": errors})
        cum = np.zeros(len(idx), dtype=np.int64)
        remaining = total.copy()
        prev_p = 0.0
        for e in EDGES_MS:  # multinomial bucket counts, cumulated
            from scipy.stats import lognorm

            p = lognorm.cdf(e, 0.8, scale=scale)
            take = rng.binomial(remaining, min(1.0, (p - prev_p) / max(1e-12, 1 - prev_p)))
            remaining -= take
            cum = cum + take
            prev_p = p
            df[edge_label(e)] = cum
        del latency
        frames.append(df)
    return canonical(pd.concat(frames, ignore_index=True))


class Server:
    """A real Prometheus serving a backfilled TSDB; stopped by its own pid.

    ``Server(workdir, history, cfg)`` backfills ``history`` as OpenMetrics counters first;
    ``Server.on_blocks(workdir, data)`` serves TSDB blocks that are already there."""

    def __init__(
        self,
        workdir: Path,
        history: pd.DataFrame | None,
        cfg: PrometheusConfig,
        *,
        mutate: Callable[[list[str]], list[str]] | None = None,
        data: Path | None = None,
    ) -> None:
        promtool = require_tool("promtool")
        prometheus = require_tool("prometheus")
        workdir.mkdir(parents=True, exist_ok=True)
        if data is None:
            assert history is not None
            om = workdir / "history.om"
            lines = list(iter_openmetrics(history, cfg))
            if mutate is not None:
                lines = mutate(lines)
            om.write_text("".join(lines))
            data = workdir / "data"
            subprocess.run(
                [
                    promtool,
                    "tsdb",
                    "create-blocks-from",
                    "openmetrics",
                    "--max-block-duration=744h",
                    str(om),
                    str(data),
                ],
                check=True,
                capture_output=True,
                text=True,
            )
        listing = subprocess.run(
            [promtool, "tsdb", "list", "-r", str(data)], check=True, capture_output=True, text=True
        ).stdout
        self.samples = sum(int(line.split()[-4]) for line in listing.splitlines()[1:] if line.strip())
        (workdir / "prometheus.yml").write_text("global:\n  scrape_interval: 1m\n")
        self.log = workdir / "prometheus.log"
        self.proc = subprocess.Popen(
            [
                prometheus,
                f"--config.file={workdir / 'prometheus.yml'}",
                f"--storage.tsdb.path={data}",
                "--web.listen-address=127.0.0.1:0",
                "--storage.tsdb.retention.time=400d",
            ],
            stdout=subprocess.DEVNULL,
            stderr=self.log.open("w"),
            cwd=workdir,
        )
        self.url = self._wait_ready()

    @classmethod
    def on_blocks(cls, workdir: Path, data: Path) -> Server:
        """A Prometheus whose data folder is ``data`` (blocks written by promtool)."""
        return cls(workdir, None, PrometheusConfig(), data=data)

    def _wait_ready(self) -> str:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            m = re.search(r'msg="Listening on" address=(127\.0\.0\.1:\d+)', self.log.read_text())
            if m:
                url = f"http://{m.group(1)}"
                try:
                    if requests.get(f"{url}/-/ready", timeout=1).status_code == 200:
                        return url
                except requests.RequestException:
                    pass
            if self.proc.poll() is not None:
                raise RuntimeError(f"prometheus exited: {self.log.read_text()[-2000:]}")
            time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"prometheus not ready in 20 s: {self.log.read_text()[-2000:]}")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
