"""Plots for notebook 02: they draw what they are given, with plain-word labels, and survive
empty data."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from srekit.analysis.budget import budget_policy
from srekit.analysis.slo.propose import propose_slos
from srekit.inputs.config import parse_config
from srekit.report.plots import slo as plots_slo


def _data():
    rng = np.random.default_rng(4)
    idx = pd.date_range("2024-01-01", periods=3 * 1440, freq="1min", tz="UTC")
    tot = rng.poisson(50, len(idx))
    fast = rng.binomial(tot, 0.97)
    tel = pd.DataFrame(
        {
            "journey": "a",
            "interval_start": idx,
            "total": tot,
            "errors": rng.binomial(tot, 0.001),
            "le_100": fast,
            "le_500": tot,
        }
    )
    cfg = parse_config({"service": "s", "data": {"telemetry": "t.parquet"}})
    prop = propose_slos(tel, None, cfg)
    return prop, budget_policy(tel, None, prop.specs, cfg)


def test_plots_draw_the_data() -> None:
    prop, pol = _data()
    ax = plots_slo.plot_latency_distribution(prop.distributions, prop.thresholds_frame())
    assert ax.get_xscale() == "log" and "Latency" in ax.get_xlabel()
    line = ax.get_lines()[0]
    assert list(line.get_xdata()) == [100.0]  # le_500 holds everyone: slower share 0 is not drawable on log
    ax2 = plots_slo.plot_budget_burn_down(pol.burn_down)
    assert len(ax2.get_lines()) == 1 + len(prop.specs)  # zero line + one per SLO
    ax3 = plots_slo.plot_burn_rates(pol.burn_rate_history, window="6h")
    assert "6h" in ax3.get_title() and len(ax3.get_lines()) == len(prop.specs) + 1
    plt.close("all")


def test_plots_survive_empty_inputs() -> None:
    cfg = parse_config({"service": "s", "data": {"incidents": "i.csv"}})
    prop = propose_slos(None, None, cfg)
    pol = budget_policy(None, None, prop.specs, cfg)
    for ax in (
        plots_slo.plot_latency_distribution(prop.distributions, prop.thresholds_frame()),
        plots_slo.plot_budget_burn_down(pol.burn_down),
        plots_slo.plot_burn_rates(pol.burn_rate_history),
    ):
        assert ax.texts[0].get_text().startswith("no ") or ax.texts[0].get_text().startswith("there is no")
        assert ax.figure.get_label().startswith("srekit-no-data:")  # the page shows the sentence instead
    plt.close("all")
