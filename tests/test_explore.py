"""The explorer (notebook 07, srekit.report.explore) driven through its widgets: set values, read
the outputs, and check the figures against `srekit analyze` for the same choice (report.json),
the messages for settings it cannot evaluate, the incremental updates and "Keep this SLO"."""

from __future__ import annotations

import datetime as dt
import json
import re
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from conftest import ROOT, SAMPLES

from srekit.analysis.budget import budget_policy
from srekit.inputs.config import load_config
from srekit.report.explore import Explorer, explorer, objective_options, parse_objective
from srekit.report.html import offline_problems
from srekit.report.runner import discover_notebooks, in_report

pytestmark = pytest.mark.xdist_group("explore")


def analyze(config: Path, out: Path) -> dict[str, Any]:
    """report.json as `srekit analyze` writes it for ``config``."""
    done = subprocess.run(
        [sys.executable, "-m", "srekit.cli", "analyze", "--config", str(config), "--out", str(out)],
        capture_output=True,
        text=True,
        timeout=600,
        cwd=ROOT,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads((out / "report.json").read_text())


def copy_samples(dest: Path) -> Path:
    shutil.copytree(SAMPLES, dest, ignore=shutil.ignore_patterns("requests_1d.csv.gz"))
    return dest / "service.yaml"


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    return analyze(SAMPLES / "service.yaml", tmp_path_factory.mktemp("analyze"))


@pytest.fixture(scope="module")
def samples_explorer() -> Explorer:
    return explorer(SAMPLES / "service.yaml")


@pytest.fixture
def ex(samples_explorer: Explorer) -> Explorer:
    """A fresh explorer on the prepared samples history (the widgets start from scratch)."""
    return Explorer(samples_explorer.history)


def budget_of(report: dict[str, Any], slo: str) -> dict[str, Any]:
    return next(b for b in report["error_budget_policy"]["slos"] if b["slo"] == slo)


def rules_of(report: dict[str, Any], slo: str) -> list[dict[str, Any]]:
    return [r for r in report["alerting"]["backtest"]["rules"] if r["rule"].startswith(slo + "/")]


def objective_of(report: dict[str, Any], slo: dict[str, Any]) -> dict[str, Any]:
    """The options' record of the SLO in force (option ``given``, else ``balanced``)."""
    name = "given" if slo["source"] in ("service.yaml", "given") else "balanced"
    option = next(
        o
        for o in report["slo_proposal"]["options"]
        if o["journey"] == slo["journey"] and o["name"] == name and any(x["sli"] == slo["sli"] for x in o["objectives"])
    )
    return next(x for x in option["objectives"] if x["sli"] == slo["sli"])


def same_as_report(ex: Explorer, report: dict[str, Any], slo: str) -> None:
    """Budget, past windows and every replayed rule equal report.json's for ``slo``."""
    assert ex.error is None, ex.error
    shown = ex.figures
    in_force = next(s for s in report["slo_proposal"]["slos"] if s["name"] == slo)
    assert shown["choice"]["slo"] == slo
    assert shown["error_budget_policy"]["slos"] == [budget_of(report, slo)]
    past = objective_of(report, in_force)
    assert shown["past_windows"] == {k: past[k] for k in shown["past_windows"]}
    assert shown["alerting"]["backtest"]["rules"] == rules_of(report, slo)
    assert shown["alerting"]["policy"] == [p for p in report["alerting"]["policy"] if p["slo"] == slo]


def test_starts_on_the_first_slo_in_force_with_the_report_figures(ex: Explorer, report: dict[str, Any]) -> None:
    assert (ex.choice and ex.choice.journey, ex.choice and ex.choice.sli) == ("checkout", "availability")
    assert ex.controls.objective.value == pytest.approx(0.999) and ex.controls.objective_text.value == "99.9"
    same_as_report(ex, report, "checkout-availability")
    summary = ex.outputs.summary.value
    consumed = budget_of(report, "checkout-availability")["consumed"]
    assert f"{100 * consumed:.1f}%" in summary and "Budget used now" in summary
    assert all(w.value[:8] == b"\x89PNG\r\n\x1a\n" for w in (ex.outputs.burn_down, ex.outputs.distribution))


@pytest.mark.parametrize(
    "slo",
    [
        "checkout-latency",
        "browse-availability",
        "browse-latency",
        "search-availability",
        "search-latency",
        "checkout-timeslice",
    ],
)
def test_each_slo_in_force_gives_the_report_figures(ex: Explorer, report: dict[str, Any], slo: str) -> None:
    in_force = next(s for s in report["slo_proposal"]["slos"] if s["name"] == slo)
    ex.controls.journey.value = in_force["journey"]
    ex.controls.kind.value = in_force["sli"]
    assert ex.choice is not None
    assert ex.choice.target == pytest.approx(in_force["target"])
    assert ex.choice.threshold_ms == in_force.get("threshold_ms")
    same_as_report(ex, report, slo)


def test_alert_headline_is_the_policy_comparison_of_srekit_analyze(tmp_path: Path) -> None:
    """An SLO defined in full with its policy as data (``slos:``): report.json compares its
    policy with the Workbook's; the explorer's pages and tickets per week, incidents caught,
    median delay and precision are the first entry, the policy in force."""
    config = copy_samples(tmp_path / "samples")
    text = config.read_text().replace("slo:\n  window: 28d\n", "slo:\n  window: 28d\n" + IMPORTED)
    config.write_text(text)
    expected = analyze(config, tmp_path / "out")
    ex = explorer(config)
    assert ex.choice is not None and ex.figures["choice"]["slo"] == "checkout-avail-imported"
    mine = next(c for c in expected["alerting"]["policy_comparison"] if c["policy"] == "service.yaml")
    shown = {k: v for k, v in ex.figures["alerts"].items() if k != "weeks"}
    assert shown == mine
    assert ex.figures["alerting"]["backtest"]["rules"] == rules_of(expected, "checkout-avail-imported")
    assert ex.figures["error_budget_policy"]["slos"] == [budget_of(expected, "checkout-avail-imported")]


IMPORTED = """slos:
  - name: checkout-avail-imported
    journey: checkout
    sli: availability
    target: 0.999
    alerting:
      source: service.yaml
      rules:
        - {severity: page, long_window: 1h, short_window: 5m, burn_rate: 14.4}
        - {severity: ticket, long_window: 3d, short_window: 6h, burn_rate: 1.0, pending: 10m}
"""


def test_kept_objectives_give_what_srekit_analyze_gives_for_them(tmp_path: Path) -> None:
    """Move to other objectives, keep them, run `srekit analyze` on the written service.yaml:
    same budget, same past windows, same replayed rules; comments and key order untouched."""
    config = copy_samples(tmp_path / "samples")
    before = config.read_text()
    ex = explorer(config)
    c = ex.controls
    c.journey.value = "browse"
    c.objective.value = 0.995
    c.window.value = (pd.Timedelta(days=30), "rolling")
    kept = ex.keep()
    assert kept is not None and kept.changed, ex.keep_status.value
    browse = ex.figures
    c.journey.value = "checkout"
    c.kind.value = "latency"
    c.threshold.value = 1000.0
    c.objective_text.value = "99.5"
    assert ex.keep() is not None, ex.keep_status.value
    checkout = ex.figures
    after = config.read_text()
    assert "<pre" in ex.keep_status.value and "+    slos:" in kept.diff()
    removed = [line for line in _diff_lines(before, after) if line.startswith("- ")]
    assert removed == ["-         threshold_ms: 1500", "-         target: 0.99", "-   window: 28d"], removed
    assert all(line in after for line in before.splitlines() if line.lstrip().startswith("#"))  # comments kept
    assert load_config(config).journey("browse").availability_target == 0.995  # type: ignore[union-attr]
    expected = analyze(config, tmp_path / "out")
    for shown, slo in ((browse, "browse-availability"), (checkout, "checkout-latency")):
        assert shown["error_budget_policy"]["slos"] == [budget_of(expected, slo)]
        assert shown["alerting"]["backtest"]["rules"] == rules_of(expected, slo)
        in_force = next(s for s in expected["slo_proposal"]["slos"] if s["name"] == slo)
        assert shown["past_windows"] == {k: objective_of(expected, in_force)[k] for k in shown["past_windows"]}


def _diff_lines(a: str, b: str) -> list[str]:
    import difflib

    return [
        f"{line[0]} {line[1:]}" if line[:1] in "+-" else line
        for line in difflib.unified_diff(a.splitlines(), b.splitlines(), lineterm="", n=0)
        if line[:1] in "+-" and not line.startswith(("---", "+++"))
    ]


def test_without_on_call_every_alert_is_a_ticket_as_srekit_analyze_says(tmp_path: Path) -> None:
    config = copy_samples(tmp_path / "samples")
    text = config.read_text()
    config.with_name("no_oncall.yaml").write_text(re.sub(r"oncall:\n(  .*\n)+", "", text))
    expected = analyze(config.with_name("no_oncall.yaml"), tmp_path / "out")
    ex = explorer(config)
    ex.controls.coverage.value = ""
    shown = ex.figures
    assert {p["severity"] for p in shown["alerting"]["policy"]} == {"ticket"}
    assert shown["alerts"]["pages"] == 0 and shown["alerts"]["tickets"] > 0
    assert shown["alerting"]["backtest"]["rules"] == rules_of(expected, "checkout-availability")
    assert "nobody on call" in ex.controls.coverage.label


def test_an_earlier_end_of_range_judges_the_budget_then(ex: Explorer, samples_explorer: Explorer) -> None:
    """The range's end is the budget's "now": the same budget the budget section computes for
    that as_of; past windows only count windows inside the range."""
    full = ex.figures["past_windows"]["windows"]
    ex.controls.end.value = dt.date(2026, 9, 30)
    as_of = pd.Timestamp("2026-10-01", tz="UTC")
    assert ex.error is None and ex.outcome is not None
    h = samples_explorer.history
    inputs = samples_explorer_inputs(samples_explorer)
    expected = budget_policy(inputs.telemetry, inputs.series, [ex.outcome.spec], h.config, as_of=as_of)
    assert ex.figures["error_budget_policy"]["slos"] == [b.to_dict() for b in expected.budgets]
    assert ex.outcome.budget.window_end == as_of
    assert ex.figures["past_windows"]["windows"] == full - 30  # the 30 October days of the data are left out


def samples_explorer_inputs(ex: Explorer) -> Any:
    from srekit.inputs.loaders import load_inputs

    return load_inputs(ex.history.config)


def test_calendar_month_window_starts_at_the_local_month(ex: Explorer) -> None:
    ex.controls.window.value = next(v for _, v in ex.controls.window.options if v[1] == "calendar_month")
    assert ex.error is None and ex.outcome is not None
    start = ex.outcome.budget.window_start.tz_convert("Europe/Berlin")
    assert (start.day, start.hour, start.minute) == (1, 0, 0)
    assert "calendar months" in ex.outputs.summary.value


@pytest.mark.parametrize(
    ("change", "words"),
    [
        (lambda ex: setattr(ex.controls.objective_text, "value", "1.5"), "ambiguous"),
        (lambda ex: setattr(ex.controls.objective_text, "value", "100"), "below 100"),
        (lambda ex: setattr(ex.controls.objective_text, "value", "120%"), "percentage below 100"),
        (lambda ex: setattr(ex.controls.objective_text, "value", "0"), "fraction in (0, 1)"),
        (lambda ex: setattr(ex.controls.objective_text, "value", "ninety"), "not a number"),
        (
            lambda ex: (
                setattr(ex.controls.kind, "value", "latency"),
                setattr(ex.controls.threshold_text, "value", "1"),
            ),
            "below the lowest bucket edge (5 ms)",
        ),
        (
            lambda ex: setattr(ex.controls.end, "value", ex.controls.start.value - dt.timedelta(days=1)),
            "range is empty",
        ),
        (
            lambda ex: (
                setattr(ex.controls.end, "value", dt.date(2030, 2, 1)),
                setattr(ex.controls.start, "value", dt.date(2030, 1, 1)),
            ),
            "holds no data",
        ),
        (
            lambda ex: (
                setattr(ex.controls.journey, "value", "browse"),
                setattr(ex.controls.kind, "value", "timeslice"),
            ),
            "needs a gauge series",
        ),
    ],
    ids=["ambiguous", "100", "120%", "zero", "text", "threshold", "empty-range", "outside", "no-series"],
)
def test_bad_settings_show_a_message_and_keep_the_last_valid_state(
    ex: Explorer, change: Callable[[Explorer], Any], words: str
) -> None:
    before = ex.outcome
    summary = ex.outputs.summary.value
    change(ex)
    assert ex.error is not None and words in ex.error, ex.error
    assert words.split()[0] in ex.message.value and ex.message.layout.display == ""
    assert ex.outputs.box.layout.display == "none" and ex.controls.keep.disabled
    assert ex.outcome is before or (ex.outcome is not None and before is not None)  # never replaced by a bad one
    if ex.outcome is before:
        assert ex.outputs.summary.value == summary
    ex.controls.journey.value, ex.controls.kind.value = "checkout", "availability"
    ex.controls.objective_text.value = "99.9"
    ex.controls.start.value, ex.controls.end.value = dt.date(2026, 8, 2), dt.date(2026, 10, 30)
    assert ex.error is None and ex.outputs.box.layout.display == "" and ex.message.layout.display == "none"


def test_a_journey_without_data_shows_a_message(tmp_path: Path) -> None:
    config = copy_samples(tmp_path / "samples")
    config.write_text(config.read_text().replace("  - name: search\n", "  - name: ghost\n  - name: search\n"))
    ex = explorer(config)
    assert "ghost" in ex.controls.journey.options
    ex.controls.journey.value = "ghost"
    assert ex.error is not None and "has no data" in ex.error
    assert ex.outputs.box.layout.display == "none"
    ex.controls.journey.value = "search"
    assert ex.error is None and ex.figures["choice"]["journey"] == "search"


def test_an_objective_change_is_arithmetic_on_the_prepared_view(ex: Explorer) -> None:
    """An objective change reuses the SLI view (no new view), keeps the latency chart as it was
    and redraws the burn-down over its kept frame; a threshold change makes one new view and
    moves only the threshold mark."""
    dist, burn = ex.outputs.distribution.value, ex.outputs.burn_down.value
    views, frames = list(ex._views), ex.charts[0].full_draws
    ex.controls.objective.value = 0.998  # still within the budget: the burn-down's axes stay
    assert list(ex._views) == views
    assert ex.outputs.distribution.value is dist and ex.outputs.burn_down.value != burn
    assert ex.charts[0].full_draws == frames  # blitted over the kept frame
    ex.controls.kind.value = "latency"
    lat_views, lat_frames = len(ex._views), ex.charts[1].full_draws
    ex.controls.threshold.value = 1000.0
    assert len(ex._views) == lat_views + 1
    assert ex.charts[1].full_draws == lat_frames
    assert ex.choice is not None and ex.choice.threshold_ms == 1000.0


def test_objective_slider_moves_in_nines_and_takes_typed_values(ex: Explorer) -> None:
    labels = [label for label, _ in objective_options()]
    assert labels[:3] == ["90%", "92%", "93%"] and labels[-1] == "99.999%"
    assert labels.index("99.95%") - labels.index("99.9%") == labels.index("99.5%") - labels.index("99%")
    ex.controls.objective_text.value = "99.987%"
    assert ex.choice is not None and ex.choice.target == pytest.approx(0.99987)
    assert ex.controls.objective.label == "99.987%"
    assert parse_objective("0.999") == parse_objective("99.9") == parse_objective("99.9 %") == pytest.approx(0.999)


def test_typed_threshold_snaps_down_to_a_bucket_edge(ex: Explorer) -> None:
    ex.controls.kind.value = "latency"
    ex.controls.threshold_text.value = "333"
    assert ex.choice is not None and ex.choice.threshold_ms == 300.0
    assert ex.controls.threshold_text.value == "300" and ex.controls.threshold.value == 300.0


def test_static_copy_is_ordinary_figures_and_tables(ex: Explorer) -> None:
    page = ex.snapshot_html()
    assert 'class="srekit-explore-static"' in page and "<script" not in page.lower()
    assert len(re.findall(r'<img src="data:image/png;base64,[^"]+" alt="[^"]{20,}"', page)) == 3
    assert "Budget used now" in page and "all page rules" in page
    assert offline_problems(page) == []


def test_timeslice_objective_cannot_be_kept_for_a_journey_with_request_telemetry(tmp_path: Path) -> None:
    config = copy_samples(tmp_path / "samples")
    before = config.read_text()
    ex = explorer(config, journey="checkout", sli="timeslice")
    assert ex.error is None
    assert ex.keep() is None and "OpenSLO" in ex.keep_status.value
    assert config.read_text() == before


def test_notebook_07_is_not_part_of_the_report() -> None:
    nb = ROOT / "notebooks" / "07_explore.ipynb"
    assert not in_report(nb)
    assert nb not in discover_notebooks(ROOT / "notebooks")
    assert discover_notebooks(ROOT / "notebooks", ["07"]) == [nb]
    assert all(in_report(p) for p in discover_notebooks(ROOT / "notebooks"))


@pytest.mark.slow
def test_notebook_07_runs_headless_and_shows_its_initial_state(tmp_path: Path) -> None:
    import papermill as pm

    out = tmp_path / "07.ipynb"
    pm.execute_notebook(
        str(ROOT / "notebooks" / "07_explore.ipynb"),
        str(out),
        parameters={"config_path": str(SAMPLES / "service.yaml"), "journey": "search", "sli": "latency"},
        cwd=str(ROOT / "notebooks"),
        progress_bar=False,
        kernel_name="python3",
    )
    nb = json.loads(out.read_text())
    outputs = [o for c in nb["cells"] for o in c.get("outputs", [])]
    assert not [o for o in outputs if o.get("output_type") in ("error", "stream")]
    assert any("application/vnd.jupyter.widget-view+json" in o.get("data", {}) for o in outputs)
    page = "".join("".join(o.get("data", {}).get("text/html", "")) for o in outputs)
    assert "srekit-explore-static" in page and "search requests answer within" in page
    from srekit.report.html import notebook_html

    html = notebook_html(
        __import__("nbformat").reads(out.read_text(), as_version=4), audience="stakeholder", title="07"
    )
    assert html.count('alt="') >= 3 and "Budget used now" in html


def test_a_gauge_only_journey_keeps_its_timeslice_objective_as_analyze_reads_it(tmp_path: Path) -> None:
    """Without request telemetry, service.yaml's latency objective of a journey is a timeslice
    SLO over its gauge series: what "Keep" writes for a timeslice choice there."""
    for name in ("series.csv", "incidents.csv"):
        shutil.copy(SAMPLES / name, tmp_path / name)
    config = tmp_path / "service.yaml"
    config.write_text(
        "# gauge only\nservice: gauge\ndata:\n  series: series.csv   # 5-minute mean latency\n"
        "  incidents: incidents.csv\njourneys:\n  - checkout\noncall: {coverage: 24x7}\n"
    )
    ex = explorer(config)
    assert ex.history.kinds("checkout") == ("timeslice",) and ex.choice is not None
    ex.controls.objective_text.value = "99.5"
    ex.controls.threshold_text.value = "700"  # srekit's default edges: ... 600, 660, 720 ...
    assert ex.choice.threshold_ms == 660.0 and ex.controls.threshold_text.value == "660"
    ex.controls.threshold_text.value = "720"
    assert ex.choice.threshold_ms == 720.0 and ex.keep() is not None, ex.keep_status.value
    assert "# 5-minute mean latency" in config.read_text()
    expected = analyze(config, tmp_path / "out")
    assert [(s["name"], s["target"], s["threshold_ms"]) for s in expected["slo_proposal"]["slos"]] == [
        ("checkout-timeslice", 0.995, 720.0)
    ]
    assert ex.figures["error_budget_policy"]["slos"] == [budget_of(expected, "checkout-timeslice")]
    assert ex.figures["alerting"]["backtest"]["rules"] == rules_of(expected, "checkout-timeslice")


def test_without_any_telemetry_or_series_the_explorer_says_so(tmp_path: Path) -> None:
    shutil.copy(SAMPLES / "incidents.csv", tmp_path / "incidents.csv")
    (tmp_path / "service.yaml").write_text(
        "service: quiet\ndata:\n  incidents: incidents.csv\njourneys:\n  - checkout\n"
    )
    ex = explorer(tmp_path / "service.yaml")
    assert ex.outcome is None and ex.error is not None and "has no data" in ex.error
    assert ex.outputs.box.layout.display == "none" and ex.controls.keep.disabled
    assert "has no data" in ex.snapshot_html() and ex.keep() is None


def test_hostile_journey_names_stay_text(tmp_path: Path) -> None:
    """A journey named like markup or mathtext is shown as the text it is: escaped in every
    table and message, drawn as written in the charts."""
    hostile = "<img src=x onerror=alert(1)> pay $\\alpha$"
    data = copy_samples(tmp_path / "samples").parent
    tel = pd.read_parquet(data / "telemetry.parquet")
    tel["journey"] = tel["journey"].astype(str).replace({"browse": hostile})
    tel.to_parquet(data / "telemetry.parquet", index=False)
    config = data / "service.yaml"
    config.write_text(config.read_text().replace("  - name: browse\n", f"  - name: '{hostile}'\n"))
    ex = explorer(config, journey=hostile)
    assert ex.error is None and ex.figures["choice"]["journey"] == hostile
    shown = ex.outputs.summary.value + ex.outputs.rules.value + ex.snapshot_html()
    assert "<img src=x" not in shown and "&lt;img src=x onerror=alert(1)&gt;" in shown
    ex.controls.kind.value = "timeslice"  # the message names the journey
    assert ex.error is not None and hostile in ex.error
    assert "<img src=x" not in ex.message.value and "&lt;img src=x" in ex.message.value
