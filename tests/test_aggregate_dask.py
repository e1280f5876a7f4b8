"""The Dask engine on a real 2-process LocalCluster gives exactly the local engine's output,
ledger and quarantine (row numbers included) when one file is split into several partitions."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from srekit.inputs import aggregate as ag

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("dask")]


def test_dask_localcluster_identical(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    rng = np.random.default_rng(11)
    n = 20000
    us = rng.integers(0, 6 * 3600 * 10**6, n)
    req = pd.DataFrame(
        {
            "timestamp": (pd.Timestamp("2026-04-01T00:00:00Z") + pd.to_timedelta(us, unit="us")).strftime(
                "%Y-%m-%dT%H:%M:%S.%fZ"
            ),
            "latency_ms": np.round(rng.lognormal(3.0, 1.2, n), 2).astype(str),
            "status": rng.choice([200, 200, 201, 500, 503], n).astype(str),
            "journey": rng.choice(["a", "b", "c", "d"], n),
            "region": rng.choice(["eu", "us", ""], n),
        }
    )
    bad = rng.choice(n, 25, replace=False)
    req.loc[bad[:10], "latency_ms"] = "-1"
    req.loc[bad[10:20], "status"] = "999"
    req.loc[bad[20:], "timestamp"] = "not a time"
    csv = tmp_path / "r.csv"
    req.to_csv(csv, index=False)
    pqt = tmp_path / "r.parquet"
    good = req.drop(index=bad)
    pq.write_table(pa.Table.from_pandas(good, preserve_index=False), pqt, row_group_size=4000)

    monkeypatch.setattr(ag, "_DASK_BLOCK", 150_000)  # ~6 byte-range partitions of the CSV
    sources = ag._dask_sources(
        [str(csv), str(pqt)],
        ag._options(
            interval=pd.Timedelta("1min"),
            edges=ag.tm.DEFAULT_EDGES_MS,
            tz="UTC",
            columns=None,
            fmt=None,
            strict=False,
            error_status="5..",
        ),
    )
    assert sum(s.path == str(csv) for s in sources) >= 5 and sum(s.path == str(pqt) for s in sources) == 5

    q_local, q_dask = tmp_path / "ql.csv", tmp_path / "qd.csv"
    local, e_local = ag.aggregate_files([csv, pqt], quarantine=q_local)
    dask, e_dask = ag.aggregate_files([csv, pqt], engine="dask", quarantine=q_dask)
    pd.testing.assert_frame_equal(dask, local)
    assert e_dask.to_dict() | {"quarantine": None} == e_local.to_dict() | {"quarantine": None}
    assert e_local.rows_rejected == 25 and e_local.rows_read == 2 * n - 25
    rl = pd.read_csv(q_local).sort_values("row").reset_index(drop=True)
    rd = pd.read_csv(q_dask).sort_values("row").reset_index(drop=True)
    pd.testing.assert_frame_equal(rl, rd)
    assert sorted(rl["row"].tolist()) == sorted((bad + 1).tolist())
    # with a label kept (--by): series named (journey, region) travel back from the workers as tuples
    by_local, _ = ag.aggregate_files([csv, pqt], by=("region",))
    by_dask, _ = ag.aggregate_files([csv, pqt], engine="dask", by=("region",))
    pd.testing.assert_frame_equal(by_dask, by_local)
    assert set(by_local["region"]) == {"eu", "us", "unknown"}
    pd.testing.assert_frame_equal(ag.tm.split_labels(by_local)[0], local)


def test_dask_scheduler_address(tmp_path: Path) -> None:
    """--scheduler: connect to an existing cluster by its tcp address (threads here, for speed)."""
    from dask.distributed import LocalCluster

    rng = np.random.default_rng(12)
    n = 3000
    req = pd.DataFrame(
        {
            "timestamp": (
                pd.Timestamp("2026-04-01T00:00:00Z") + pd.to_timedelta(rng.integers(0, 7200 * 10**6, n), unit="us")
            ).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
            "latency_ms": np.round(rng.lognormal(3.0, 1.0, n), 1),
            "success": rng.random(n) < 0.97,
        }
    )
    paths = []
    for i in range(3):
        p = tmp_path / f"r{i}.csv"
        req.iloc[i * 1000 : (i + 1) * 1000].to_csv(p, index=False)
        paths.append(p)
    local, e_local = ag.aggregate_files(paths)
    with LocalCluster(n_workers=1, processes=False, protocol="tcp", dashboard_address=None) as cluster:
        assert cluster.scheduler_address.startswith("tcp://")
        dask, e_dask = ag.aggregate_files(paths, engine="dask", scheduler=cluster.scheduler_address)
    pd.testing.assert_frame_equal(dask, local)
    assert e_dask == e_local and e_local.rows_accepted == n
    assert local["journey"].unique().tolist() == ["all"] and local["errors"].sum() == int((~req["success"]).sum())


def test_dask_keeps_local_timezone_files_whole(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    big = tmp_path / "r.csv"
    big.write_text("timestamp,latency_ms,status\n" + "2026-10-25 02:30:00,1,200\n" * 20000)
    monkeypatch.setattr(ag, "_DASK_BLOCK", 50_000)

    def units(tz: str) -> int:
        opts = ag._options(
            interval=pd.Timedelta("1min"), edges=(1.0,), tz=tz, columns=None, fmt=None, strict=False, error_status="5.."
        )
        return len(ag._dask_sources([str(big)], opts))

    assert units("UTC") > 5 and units("Europe/Berlin") == 1
    quoted = tmp_path / "q.csv"  # a quoted cell may span lines: a cut at a line end could fall inside it
    quoted.write_text("timestamp,latency_ms,status,journey\n" + '2026-10-25 02:30:00,1,200,"check\nout"\n' * 20000)
    opts = ag._options(
        interval=pd.Timedelta("1min"), edges=(1.0,), tz="UTC", columns=None, fmt=None, strict=False, error_status="5.."
    )
    assert len(ag._dask_sources([str(quoted)], opts)) == 1


def test_unreachable_scheduler_is_a_config_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import socket

    p = tmp_path / "r.csv"
    p.write_text("timestamp,latency_ms,status\n2026-01-01T00:00:00Z,1,200\n")
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    monkeypatch.setattr(ag, "_DASK_CONNECT_TIMEOUT", "1s")
    with pytest.raises(ag.ConfigError, match="cannot reach the Dask scheduler"):
        ag.aggregate_files([p], engine="dask", scheduler=f"tcp://127.0.0.1:{port}")
