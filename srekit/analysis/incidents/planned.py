"""Incidents that were planned work: their impact lies wholly inside ``maintenance`` correction
windows of their journey (``corrections:`` in service.yaml). They are left out of the response
metrics (time to detect, mitigate, resolve: nobody responded to planned work) and listed as
``incident_response.planned_incidents``."""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from srekit.inputs.corrections import Window


def planned_ids(incidents: pd.DataFrame | None, windows: Sequence[Window]) -> tuple[str, ...]:
    """Ids of the incidents whose ``started_at`` .. ``mitigated_at`` (else ``resolved_at``) lies
    inside one maintenance window of their journey (of every journey, without one); open
    incidents and incidents without a start are never planned."""
    maintenance = [w for w in windows if w.kind == "maintenance"]
    if incidents is None or incidents.empty or not maintenance:
        return ()
    start = pd.to_datetime(incidents["started_at"], utc=True)
    end = pd.to_datetime(incidents["resolved_at"], utc=True)
    if "mitigated_at" in incidents.columns:
        end = pd.to_datetime(incidents["mitigated_at"], utc=True).fillna(end)
    journeys = incidents["journey"] if "journey" in incidents.columns else pd.Series(pd.NA, index=incidents.index)
    out = []
    for ident, journey, a, b in zip(incidents["id"], journeys, start, end, strict=True):
        if pd.isna(a) or pd.isna(b):
            continue
        mine = [w for w in maintenance if not isinstance(journey, str) or journey in w.journeys]
        if any(w.start <= a and b <= w.end for w in mine):
            out.append(str(ident))
    return tuple(out)
