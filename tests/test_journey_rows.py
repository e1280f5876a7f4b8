"""inputs.telemetry.journey_rows: each journey's rows, as slices on sorted Arrow text (found by
comparing neighbours chunk by chunk) and as positions otherwise, always those pandas finds."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from srekit.inputs import telemetry as tm


def _naive(frame: pd.DataFrame) -> dict[str, list[int]]:
    return {str(k): list(v) for k, v in sorted(frame.groupby("journey", sort=True).indices.items())}


def _positions(rows: dict[str, slice | np.ndarray], n: int) -> dict[str, list[int]]:
    return {k: list(np.arange(n)[r]) for k, r in rows.items()}


@pytest.mark.parametrize("dtype", ["str", "object"])
@pytest.mark.parametrize("order", ["sorted", "shuffled", "split run", "descending"])
def test_rows_are_the_groups(dtype: str, order: str, monkeypatch: pytest.MonkeyPatch) -> None:
    rng = np.random.default_rng(5)
    names = np.sort(rng.choice(["a", "b", "é", "checkout", "browse"], 3000))
    if order == "shuffled":
        rng.shuffle(names)
    elif order == "split run":
        names = np.r_[names, names[:10]]  # "a" again at the end: two runs
    elif order == "descending":
        names = names[::-1]
    frame = pd.DataFrame({"journey": pd.array(names, dtype=dtype)})
    monkeypatch.setattr(tm, "_RUN_CHUNK", 7)  # many chunks
    rows = tm.journey_rows(frame)
    assert list(rows) == sorted(rows)
    assert _positions(rows, len(frame)) == _naive(frame)
    if order == "sorted":
        assert all(isinstance(r, slice) for r in rows.values())


@pytest.mark.parametrize("chunk", [1, 2, 6, 7, 8, 24, 1 << 20])
def test_chunk_edges_do_not_lose_a_run(chunk: int, monkeypatch: pytest.MonkeyPatch) -> None:
    """Runs that start exactly at, before and after a chunk boundary."""
    names = ["a"] * 7 + ["b"] * 1 + ["c"] * 8 + ["d"] * 9
    monkeypatch.setattr(tm, "_RUN_CHUNK", chunk)
    got = tm.sorted_runs(pd.Series(names, dtype="str"))
    assert got == {"a": slice(0, 7), "b": slice(7, 8), "c": slice(8, 16), "d": slice(16, 25)}
    assert tm.sorted_runs(pd.Series(["x"], dtype="str")) == {"x": slice(0, 1)}
    assert tm.sorted_runs(pd.Series([], dtype="str")) == {}


def test_chunked_arrow_columns_and_interleaved_names(monkeypatch: pytest.MonkeyPatch) -> None:
    """A column of several Arrow chunks reads as one; names interleaved in time order stop the
    search at the first name seen again (None: not one run per journey)."""
    monkeypatch.setattr(tm, "_RUN_CHUNK", 3)
    chunked = pd.concat([pd.Series(["a", "a", "b"], dtype="str"), pd.Series(["b", "c", "c"], dtype="str")])
    assert tm.sorted_runs(chunked.reset_index(drop=True)) == {"a": slice(0, 2), "b": slice(2, 4), "c": slice(4, 6)}
    assert tm.sorted_runs(pd.Series(["a", "b", "a", "b"] * 5, dtype="str")) is None
    assert tm.sorted_runs(pd.Series(["b", "b", "a"], dtype="str")) is None
