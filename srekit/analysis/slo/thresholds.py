"""Latency threshold proposals: for each target, the smallest bucket edge the history
supports, with a bootstrap interval and its record over past SLO windows.

Threshold for target p: the smallest bucket edge T whose pooled share of requests with latency
≤ T over the whole range is ≥ p (Google SRE Workbook, chapter 2 "Implementing SLOs": a latency
SLI is the share of requests faster than a threshold); thresholds are bucket edges, as a
Prometheus ``_bucket{le}`` query needs. The interval is a percentile bootstrap over days
(``scipy.stats.bootstrap``; Efron & Tibshirani, "An Introduction to the Bootstrap", ch. 13).
docs/slo.md, "Threshold proposals".
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import partial

import numpy as np

from srekit.analysis.slo.grid import Blocks
from srekit.analysis.slo.history import Windows, budget_ratio, consumed, window_stats
from srekit.analysis.slo.results import ThresholdProposal
from srekit.inputs import telemetry as tm

BOOTSTRAP_RESAMPLES = 999
#: Block draws held at once by the bootstrap (resamples per batch × blocks): a long history of
#: days is resampled in smaller batches; the random draws, so the interval, are the same.
BOOTSTRAP_BATCH_DRAWS = 2_000_000
CONFIDENCE = 0.95
MIN_DAYS_FOR_DAY_BLOCKS = 7  # fewer days of history: bootstrap over hours instead


def enough_days(days: Blocks) -> bool:
    """Whether the bootstrap can resample days (else it resamples hours)."""
    return len(days.index) >= MIN_DAYS_FOR_DAY_BLOCKS


def _first_reaching(frac: np.ndarray, target: float) -> int:
    """Index of the smallest edge whose cumulative share ≥ target (−1 when none)."""
    hit = np.flatnonzero(frac >= target)
    return int(hit[0]) if hit.size else -1


def _resampled_sums(flat: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """Per resample (a row of block indices), the summed counts of the blocks drawn: how often
    each block was drawn × its counts. Blocks without events add nothing, so with few blocks
    holding events (a long history of empty days) only the draws of those are counted."""
    resamples, blocks = flat.shape[0], counts.shape[0]
    holding = np.flatnonzero(counts.any(axis=1))
    if len(holding) * 2 > blocks:  # the usual case: most blocks hold events
        cells = (np.arange(resamples)[:, None] * blocks + flat).ravel()  # (resample, block) → one cell
        return np.bincount(cells, minlength=resamples * blocks).reshape(resamples, blocks).astype(float) @ counts
    rank = np.full(blocks, -1, np.intp)
    rank[holding] = np.arange(len(holding))
    drawn = rank[flat]
    row, col = np.nonzero(drawn >= 0)
    cells = row * len(holding) + drawn[row, col]
    weights = np.bincount(cells, minlength=resamples * len(holding)).reshape(resamples, len(holding)).astype(float)
    return weights @ counts[holding]


def _resampled_thresholds(
    idx: np.ndarray, axis: int = -1, *, counts: np.ndarray, edges: np.ndarray, targets: np.ndarray
) -> np.ndarray:
    """The bootstrap statistic: for each resample of block indices, the smallest edge whose
    pooled share reaches each target (the largest edge when none does); shape (K, …)."""
    idx = np.asarray(idx, dtype=np.intp)
    flat = idx.reshape(-1, idx.shape[-1])
    sums = _resampled_sums(flat, counts)
    tot = sums[:, :1]
    with np.errstate(divide="ignore", invalid="ignore"):
        frac = np.where(tot > 0, sums[:, 1:] / np.where(tot > 0, tot, 1.0), 0.0)
    reach = frac[None, :, :] >= targets[:, None, None]  # (K, R, E)
    first = np.where(reach.any(axis=2), reach.argmax(axis=2), len(edges) - 1)
    return edges[first].reshape((len(targets),) + idx.shape[:-1])


def _bootstrap_thresholds(
    blocks: Blocks, targets: Sequence[float], rng: np.random.Generator
) -> list[tuple[float, float]]:
    """Percentile bootstrap (``scipy.stats.bootstrap``) of the threshold over resampled time
    blocks: each resample draws blocks with replacement, sums their bucket counts and takes the
    smallest edge whose pooled share reaches the target. Bounds are snapped outward to edges;
    a resample that never reaches the target counts as the largest edge."""
    from scipy import stats  # lazy: report kernels only unpickle results

    counts = np.column_stack([blocks.total, blocks.le])
    edges = blocks.edges
    statistic = partial(_resampled_thresholds, counts=counts, edges=edges, targets=np.asarray(targets, dtype=float))
    res = stats.bootstrap(
        (np.arange(counts.shape[0]),),
        statistic,
        n_resamples=BOOTSTRAP_RESAMPLES,
        vectorized=True,
        method="percentile",
        confidence_level=CONFIDENCE,
        batch=max(1, min(250, BOOTSTRAP_BATCH_DRAWS // counts.shape[0])),  # same draws, bounded memory
        rng=rng,
    )
    lo = np.atleast_1d(res.confidence_interval.low)
    hi = np.atleast_1d(res.confidence_interval.high)
    return [
        (
            tm.snap_edge(edges, float(a), direction="down") if a >= edges[0] else float(edges[0]),
            tm.snap_edge(edges, float(b), direction="up") if b <= edges[-1] else float(edges[-1]),
        )
        for a, b in zip(lo, hi, strict=True)
    ]


def threshold_proposals(
    journey: str,
    kind: str,
    days: Blocks,
    boot: Blocks | None,
    windows: Windows,
    targets: Sequence[float],
    rng: np.random.Generator,
) -> tuple[list[ThresholdProposal], list[float]]:
    """Threshold proposals for each reachable target; returns also the unreachable targets.

    ``too_little_data`` when some window holds fewer than 10 / (1 − p) events (fewer than ten
    allowed bad events makes the objective a coin toss)."""
    total = days.total.sum()
    frac = days.le.sum(axis=0) / total if total > 0 else np.zeros(len(days.edges))
    win_total = windows.sums(days.total)
    win_bad = windows.sums(days.total[:, None] - days.le)
    min_events = int(win_total.min()) if win_total.size else 0
    reachable = [(t, _first_reaching(frac, t)) for t in targets]
    ok = [(t, i) for t, i in reachable if i >= 0]
    if boot is not None and len(boot.index) >= 2 and ok:
        cis = _bootstrap_thresholds(boot, [t for t, _ in ok], rng)
        block = "day" if boot is days else "hour"
    else:
        cis = [(float(days.edges[i]), float(days.edges[i])) for _, i in ok]
        block = "none"
    out = [
        ThresholdProposal(
            journey=journey,
            kind=kind,
            target=t,
            threshold_ms=float(days.edges[i]),
            threshold_ci_ms=(min(ci[0], float(days.edges[i])), max(ci[1], float(days.edges[i]))),
            ci_block=block,
            pooled_fraction=float(frac[i]),
            history=window_stats(consumed(win_total, win_bad[:, i], t), win_total > 0),
            min_window_events=min_events,
            too_little_data=bool(min_events < 10.0 / budget_ratio(t)),
        )
        for (t, i), ci in zip(ok, cis, strict=True)
    ]
    return out, [t for t, i in reachable if i < 0]
