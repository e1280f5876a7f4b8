"""How large a change in a mean duration the incident log can reveal.

MTTx honesty (Š. Davidovič, "Incident Metrics in SRE", Google/O'Reilly 2021): the difference of
two sample means of N incidents each has variance 2σ²/N, so the smallest change a before/after
comparison can detect at 90% two-sided confidence is ``z₀.₉₅·sqrt(2σ²/N)``.
"""

from __future__ import annotations

import numpy as np

CONFIDENCE = 0.90  # detectable change and bootstrap intervals


def detectable_change(std: float, n: int, confidence: float = CONFIDENCE) -> float:
    """Smallest difference between the means of two periods of ``n`` incidents each that a
    two-sided test at ``confidence`` can tell from noise: ``z·sqrt(2σ²/n)`` (Davidovič 2021:
    the difference of two means has variance 2σ²/N)."""
    if n < 1 or std < 0:
        raise ValueError("detectable_change needs n ≥ 1 and std ≥ 0")
    from scipy import stats  # lazy: report kernels only unpickle results

    z = float(stats.norm.ppf(0.5 + confidence / 2))
    return z * float(np.sqrt(2.0 * std**2 / n))
