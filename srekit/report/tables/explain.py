"""Display table of ``srekit alerts explain`` and of notebook 03's "how fast do alerts react"
(not part of report.json: it is computed for a chosen error ratio)."""

from __future__ import annotations

import pandas as pd

from srekit.analysis.explain import Explanation, human_duration
from srekit.report.tables.format import frame


def explain_table(explanation: Explanation) -> pd.DataFrame:
    """A policy's rules and the SRE Workbook's six approaches under a constant error ratio: time
    to fire, budget spent when it fires, and time to reset after the errors stop."""
    groups = (("policy", explanation.rules), ("workbook approach", explanation.approaches))
    rows = [
        {
            "kind": kind,
            "alert": b.name,
            "fires after": human_duration(b.fires_after),
            "budget spent when it fires": f"{b.budget_spent_at_fire:.2%}" if b.fires else "–",
            "resets after errors stop": human_duration(b.resets_after),
        }
        for kind, items in groups
        for b in items
    ]
    return frame(rows, ["kind", "alert", "fires after", "budget spent when it fires", "resets after errors stop"])
