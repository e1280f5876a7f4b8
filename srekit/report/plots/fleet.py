"""The fleet overview's picture: the compliance calendar as a heat map (service · SLO × month,
coloured by the share of the month's error budget used)."""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.colors import BoundaryNorm, ListedColormap
from matplotlib.patches import Patch

from srekit.report.plots.base import new_axes, no_data

#: Budget-used bands of a month and their colours: well within, within, near (the warning state's
#: 75 %), missed (over 100 %), badly missed (over 200 %); months without events are grey.
BANDS = (0.0, 0.5, 0.75, 1.0 + 1e-12, 2.0, np.inf)
BAND_COLOURS = ("#2e7d4f", "#8cc084", "#e8c547", "#d9622b", "#8e1b1b")
BAND_LABELS = ("< 50% used", "50–75%", "75–100% (met)", "missed: 100–200%", "missed: > 200%")
NO_DATA_COLOUR = "#bdbdbd"
#: At most this many rows are drawn (riskiest first); the table beside the picture has them all.
MAX_ROWS = 150


def plot_compliance_calendar(cells: pd.DataFrame, *, ax: Axes | None = None) -> Axes:
    """Heat map of ``tables.fleet.calendar_cells`` output (``row``, ``month``, ``consumed``,
    ``attainment``, ``status``; rows in the order given), at most :data:`MAX_ROWS` rows; cells
    are labelled with the attainment when there are few enough to read."""
    rows = list(dict.fromkeys(cells["row"])) if not cells.empty else []
    shown = rows[:MAX_ROWS]
    months = sorted(cells["month"].unique()) if not cells.empty else []
    ax = new_axes(ax, (1.8 + 0.9 * max(len(months), 1) + 2.6, 1.4 + 0.22 * max(len(shown), 1)))
    title = "Compliance calendar: error budget used per month"
    if not shown:
        return no_data(ax, title, "No SLO has a calendar month")
    grid = np.full((len(shown), len(months)), np.nan)
    at = {(r, m): i for i, (r, m) in enumerate(zip(cells["row"], cells["month"], strict=True))}
    consumed = cells["consumed"].to_numpy(dtype=float, na_value=np.nan)
    for i, r in enumerate(shown):
        for j, m in enumerate(months):
            k = at.get((r, m))
            if k is not None:
                grid[i, j] = consumed[k]
    cmap = ListedColormap(list(BAND_COLOURS))
    cmap.set_bad(NO_DATA_COLOUR)
    ax.imshow(np.ma.masked_invalid(grid), cmap=cmap, norm=BoundaryNorm(BANDS[:-1] + (1e9,), cmap.N), aspect="auto")
    if len(shown) * len(months) <= 240:
        attained = cells["attainment"].to_numpy(dtype=float, na_value=np.nan)
        for (i, j), v in np.ndenumerate(grid):
            k = at.get((shown[i], months[j]))
            if k is None:
                continue
            label = "no data" if np.isnan(attained[k]) else f"{100 * attained[k]:.2f}%"
            ax.text(j, i, label, ha="center", va="center", fontsize=7, color="white" if v >= 1 else "black")
    ax.set_xticks(range(len(months)), months, fontsize=8)
    ax.set_yticks(range(len(shown)), shown, fontsize=7)
    ax.tick_params(length=0)
    ax.xaxis.set_ticks_position("top")
    handles = [Patch(color=c, label=t) for c, t in zip(BAND_COLOURS, BAND_LABELS, strict=True)]
    ax.legend(
        handles=[*handles, Patch(color=NO_DATA_COLOUR, label="no data")],
        loc="upper left",
        bbox_to_anchor=(1.01, 1.0),
        fontsize=7,
        frameon=False,
    )
    more = f" (the {len(shown)} riskiest of {len(rows)} rows)" if len(rows) > len(shown) else ""
    ax.set_title(title + more, fontsize=10, pad=18)
    return ax
