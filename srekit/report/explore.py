"""The interactive explorer for JupyterLab: move an objective, a threshold, a window or the
on-call coverage and see the budget, the past windows met and what the alerts would have done
on the whole history, as you drag (``notebooks/07_explore.ipynb``; docs/explore.md).

:func:`explorer` loads a service and returns an :class:`Explorer`; displaying it shows the
widgets (ipywidgets) and, for pages without a running kernel (nbconvert HTML), a static copy of
its initial state as ordinary figures and tables, which the live widgets hide. Every change runs
the incremental engine :mod:`srekit.analysis.explore` (the SLI view of a journey, kind,
threshold and range is computed once and kept; an objective, window or coverage change is
arithmetic on it) and redraws only the charts whose data changed. A setting the engine cannot
evaluate shows its message in place of the outputs and keeps the last valid state. "Keep this
SLO" writes the objective into ``service.yaml`` (:func:`srekit.inputs.config_edit.keep_slo`)
and shows the diff it wrote.
"""

from __future__ import annotations

import base64
import logging
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
import pandas as pd
from pydantic import TypeAdapter, ValidationError

from srekit.analysis.explore.choice import Choice, ExploreError, check_choice, choice_spec, default_choice, switch_to
from srekit.analysis.explore.evaluate import Outcome, evaluate
from srekit.analysis.explore.history import ExploreHistory, prepare_history
from srekit.analysis.explore.view import SliView, latency_distribution, sli_view, view_key
from srekit.core.errors import ConfigError
from srekit.core.escape import html_text
from srekit.core.timeutil import format_duration
from srekit.inputs import telemetry as tm
from srekit.inputs.config import ServiceConfig, Target
from srekit.inputs.config_edit import Objective, SloEdit, keep_slo
from srekit.report.nbshow import table_html
from srekit.report.plots.explore import BurnDownChart, DistributionChart, TimelineChart
from srekit.report.tables.alerting import alert_detection_table, alert_policy_table, backtest_table
from srekit.report.tables.explore import explore_summary_table, objective_text

try:
    import ipywidgets as widgets
except ImportError as exc:  # pragma: no cover - the explore extra is part of dev
    raise ImportError("the explorer needs ipywidgets: pip install 'srekit[explore]'") from exc

log = logging.getLogger(__name__)

#: How many SLI views (journey × kind × threshold × range) are kept for going back and forth
#: (one holds its events and their sums over ~8 alert windows: ~70 MB for a year at 1 minute).
VIEWS_KEPT = 4
STATIC_CLASS = "srekit-explore-static"
#: The live widget carries this style: where it renders (a kernel is connected) it hides the
#: static copy; a page without the widget manager (nbconvert HTML) shows the static copy.
LIVE_CSS = f"""<style>
.{STATIC_CLASS} {{ display: none; }}
.srekit-explore .widget-html-content {{ line-height: 1.35; }}
.srekit-explore table.srekit-table {{ border-collapse: collapse; font-size: 12px; margin: 4px 0; }}
.srekit-explore table.srekit-table caption {{ text-align: left; font-weight: 600; padding-bottom: 4px; }}
.srekit-explore table.srekit-table th, .srekit-explore table.srekit-table td {{
  text-align: left; vertical-align: top; padding: 2px 8px 2px 0; border-bottom: 1px solid #e4e4e4; }}
.srekit-explore .widget-image {{ width: 100%; }}
.srekit-explore .srekit-message {{ border-left: 4px solid #b33a3a; padding: 6px 10px; background: #fbeaea; }}
.srekit-explore pre.srekit-diff {{ font-size: 12px; background: #f6f6f6; padding: 6px; overflow-x: auto; }}
</style>"""
WIDE = {"description_width": "7rem"}
#: Error budgets of the objective slider's steps: 1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6, 7, 8 × 10⁻ᵏ,
#: so the slider moves evenly in nines from 90 % to 99.999 % (99.9, 99.92, 99.93, … 99.99) and
#: 99.9 % sits as far from 99.95 % as 99 % from 99.5 %.
MANTISSAS = (1.0, 1.2, 1.5, 2.0, 2.5, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0)
LADDER_BUDGETS = tuple(sorted({0.1, *(round(m * 10.0**-k, 12) for k in range(2, 6) for m in MANTISSAS)}))
_TARGET = TypeAdapter(Target)
K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


@dataclass(frozen=True, slots=True)
class Controls:
    """The explorer's inputs (set their values to drive it from code)."""

    journey: widgets.Dropdown
    kind: widgets.ToggleButtons
    objective: widgets.SelectionSlider
    objective_text: widgets.Text
    threshold: widgets.SelectionSlider
    threshold_text: widgets.Text
    window: widgets.Dropdown
    coverage: widgets.Dropdown
    start: widgets.DatePicker
    end: widgets.DatePicker
    keep: widgets.Button


@dataclass(frozen=True, slots=True)
class Outputs:
    """What the explorer shows (read their values to check it from code)."""

    summary: widgets.HTML
    burn_down: widgets.Image
    distribution: widgets.Image
    timeline: widgets.Image
    rules: widgets.HTML
    incidents: widgets.HTML
    policy: widgets.HTML
    notes: widgets.HTML
    tabs: widgets.Tab  # rules, incidents, policy
    box: widgets.Box  # everything above; hidden while a message is shown


def explorer(
    config_path: str | Path,
    *,
    journey: str | None = None,
    sli: str | None = None,
    target: float | None = None,
    threshold_ms: float | None = None,
    prometheus_url: str = "",
    seed: int = 7,
) -> Explorer:
    """The explorer of the service in ``config_path``: loads its inputs, proposes its SLOs as
    the report does (the starting points) and prepares the history once. It starts on the first
    SLO in force, or on ``journey``/``sli`` (their SLO in force), with ``target`` and
    ``threshold_ms`` when given (empty or 0: the SLO in force; what the notebook's parameters
    pass)."""
    from srekit.report.runner import open_analysis

    analysis = open_analysis("", config_path, seed=seed, prometheus_url=prometheus_url)
    inputs, config = analysis.inputs, analysis.config
    applied = inputs.corrections
    windows = applied.windows if applied is not None else ()
    history = prepare_history(
        inputs.telemetry, inputs.series, inputs.incidents, config, analysis.specs, corrections=windows
    )
    first = default_choice(history)
    if journey or sli:
        first = switch_to(history, first, journey or first.journey, sli or first.sli)
    if target:
        first = replace(first, target=float(target))
    if threshold_ms:
        first = replace(first, threshold_ms=float(threshold_ms))
    return Explorer(history, first, config_path=config.path)


class Explorer:
    """The live explorer of one service's history (see the module docstring). ``choice`` and
    ``outcome`` are the last valid state; ``error`` the message shown instead of the outputs
    (None when the outputs are current)."""

    def __init__(self, history: ExploreHistory, first: Choice | None = None, *, config_path: Path | None = None):
        self.history = history
        self.config_path = config_path
        self.choice: Choice | None = None
        self.outcome: Outcome | None = None
        self.error: str | None = None
        self.kept: SloEdit | None = None
        self._views: OrderedDict[Hashable, SliView] = OrderedDict()
        self._distributions: OrderedDict[Hashable, pd.DataFrame] = OrderedDict()
        self._drawn: dict[str, Hashable] = {}
        self._tables_of: dict[str, Any] | None = None  # the figures the detail tables show
        self._tables_shown: set[int] = set()
        self._syncing = False
        self.charts = (BurnDownChart(), DistributionChart(), TimelineChart())
        self.controls = _controls(history)
        self.outputs = _outputs()
        self.message = widgets.HTML(layout=widgets.Layout(display="none"))
        self.keep_status = widgets.HTML()
        self.widget = self._layout()
        self._show_choice(first or default_choice(history))
        self._observe()
        self.update()

    # ------------------------------------------------------------------ display

    def _layout(self) -> widgets.VBox:
        c = self.controls
        rows = [
            widgets.HTML(LIVE_CSS),
            c.journey,
            c.kind,
            widgets.HBox([c.objective, c.objective_text]),
            widgets.HBox([c.threshold, c.threshold_text]),
            widgets.HBox([c.window, c.coverage]),
            widgets.HBox([c.start, c.end]),
            self.message,
            self.outputs.box,
            widgets.HBox([c.keep, self.keep_status]),
        ]
        box = widgets.VBox(rows)
        box.add_class("srekit-explore")
        return box

    def _ipython_display_(self) -> None:
        """The live widgets, then the static copy they hide (shown where widgets cannot run)."""
        from IPython.display import HTML, display

        display(self.widget)
        display(HTML(self.snapshot_html()))

    def snapshot_html(self) -> str:
        """The current state as plain HTML: the headline table, the three charts (PNG with alt
        text) and the replayed rules, for pages without a running kernel."""
        o = self.outputs
        self._show_table(0)
        if self.outcome is None:
            body = f"<p>{html_text(self.error or 'Nothing to show.')}</p>"
        else:
            images = "".join(
                _img(w.value, alt)
                for w, alt in (
                    (o.burn_down, "Line chart: error budget left through the current SLO window, with the even pace"),
                    (o.distribution, "Log-log chart: share of events slower than each latency, threshold marked"),
                    (o.timeline, "Timeline: when each alert rule would have fired, incidents shaded"),
                )
            )
            body = o.summary.value + f'<div style="display:flex;flex-wrap:wrap;gap:8px">{images}</div>' + o.rules.value
        return (
            f'<div class="{STATIC_CLASS}"><h3>Explorer: its state when the notebook ran</h3><p><em>A static copy: '
            "open this notebook in JupyterLab with a running kernel to move the controls.</em></p>"
            f"{body}</div>"
        )

    @property
    def figures(self) -> dict[str, Any]:
        """The current figures, report.json-shaped (:meth:`Outcome.to_dict`)."""
        if self.outcome is None:
            raise ExploreError(self.error or "nothing explored yet")
        return self.outcome.to_dict()

    # ------------------------------------------------------------------ changes

    def _observe(self) -> None:
        c = self.controls
        handlers: dict[widgets.Widget, Callable[[dict[str, Any]], None]] = {
            c.journey: self._moved,
            c.kind: self._moved,
            c.objective: self._objective_moved,
            c.objective_text: self._objective_typed,
            c.threshold: self._threshold_moved,
            c.threshold_text: self._threshold_typed,
            c.window: self._changed,
            c.coverage: self._changed,
            c.start: self._changed,
            c.end: self._changed,
        }
        for w, handler in handlers.items():
            w.observe(self._guarded(handler), names="value")
        c.keep.on_click(lambda _button: self.keep())
        self.outputs.tabs.observe(lambda change: self._show_table(int(change["new"] or 0)), names="selected_index")

    def _guarded(self, handler: Callable[[dict[str, Any]], None]) -> Callable[[dict[str, Any]], None]:
        """``handler``, skipped while the explorer sets widgets itself."""

        def run(change: dict[str, Any]) -> None:
            if not self._syncing:
                handler(change)

        return run

    def _changed(self, _change: dict[str, Any]) -> None:
        self.update()

    def _moved(self, change: dict[str, Any]) -> None:
        """Another journey or SLI kind: start from its SLO in force (else keep the objective).
        A journey without data for the current kind switches to a kind it has."""
        c = self.controls
        kinds = self.history.kinds(c.journey.value)
        sli = c.kind.value if change.get("owner") is c.kind or c.kind.value in kinds or not kinds else kinds[0]
        self._show_choice(switch_to(self.history, self._read(), c.journey.value, sli))
        self.update()

    def _objective_moved(self, change: dict[str, Any]) -> None:
        self._sync(self.controls.objective_text, _percent(float(change["new"])))
        self.update()

    def _objective_typed(self, change: dict[str, Any]) -> None:
        try:
            target = parse_objective(str(change["new"]))
        except ExploreError as exc:
            self._fail(str(exc))
            return
        self._set_objective(target)
        self.update()

    def _threshold_moved(self, change: dict[str, Any]) -> None:
        self._sync(self.controls.threshold_text, f"{float(change['new']):g}")
        self.update()

    def _threshold_typed(self, change: dict[str, Any]) -> None:
        c = self.controls
        try:
            typed = _number(str(change["new"]), "The threshold")
            checked = check_choice(self.history, replace(self._read(), threshold_ms=typed))
        except ExploreError as exc:
            self._fail(str(exc))
            return
        edges = self.history.edges(checked.journey, checked.sli)
        edge = tm.snap_edge(edges, float(checked.threshold_ms or typed))
        self._sync(c.threshold, edge)
        if edge != typed:
            self._sync(c.threshold_text, f"{edge:g}")
        self.update()

    def _read(self) -> Choice:
        """The choice the widgets show."""
        c = self.controls
        window, kind = c.window.value
        start, end = c.start.value, c.end.value
        return Choice(
            journey=c.journey.value,
            sli=c.kind.value,
            target=float(c.objective.value),
            threshold_ms=None if c.kind.value == "availability" else float(c.threshold.value),
            window=window,
            window_kind=kind,
            coverage=c.coverage.value or None,
            start=None if start is None else pd.Timestamp(start, tz="UTC"),
            end=None if end is None else pd.Timestamp(end, tz="UTC") + pd.Timedelta(days=1),
        )

    # ------------------------------------------------------------------ updating

    def update(self) -> None:
        """Recompute from the widgets and refresh the outputs; a setting the engine rejects
        shows its message instead (the last valid state stays)."""
        try:
            checked = check_choice(self.history, self._read())
            view = _cached(self._views, view_key(checked), lambda: sli_view(self.history, checked))
            outcome = evaluate(self.history, view, checked)
            dist = _cached(self._distributions, _dist_key(checked), lambda: self._distribution(checked))
        except (ExploreError, ConfigError) as exc:
            self._fail(str(exc))
            return
        except Exception as exc:  # shown in place of the outputs, never raised into the notebook
            log.exception("explorer update failed")
            self._fail(f"The explorer could not update ({type(exc).__name__}: {exc}). This is a bug in srekit.")
            return
        self.choice, self.outcome, self.error = checked, outcome, None
        self._render(view, outcome, dist)

    def _distribution(self, choice: Choice) -> pd.DataFrame:
        assert choice.start is not None and choice.end is not None
        return latency_distribution(self.history, choice.journey, choice.sli, choice.start, choice.end)

    def _fail(self, text: str) -> None:
        self.error = text
        self.message.value = f'<div class="srekit-message"><strong>Cannot show this setting.</strong> {html_text(text)}'
        self.message.value += " The figures come back as soon as the setting is valid.</div>"
        self.message.layout.display = ""
        self.outputs.box.layout.display = "none"
        self.controls.keep.disabled = True

    def _render(self, view: SliView, outcome: Outcome, dist: pd.DataFrame) -> None:
        shown = outcome.to_dict()
        o = self.outputs
        o.summary.value = table_html(explore_summary_table(shown), caption="What this objective would have meant")
        self._draw_charts(view, outcome, dist)
        self._tables_of = shown
        self._tables_shown = set()
        self._show_table(o.tabs.selected_index or 0)
        o.notes.value = "".join(f"<p>{html_text(w)}</p>" for w in outcome.policy.warnings)
        self.message.layout.display = "none"
        o.box.layout.display = ""
        self.controls.keep.disabled = self.config_path is None

    def _show_table(self, index: int) -> None:
        """The detail table of tab ``index`` for the current figures (the hidden tabs are filled
        when they are opened: a change does not format tables nobody looks at)."""
        if self._tables_of is None or index in self._tables_shown:
            return
        o, shown = self.outputs, self._tables_of
        widget, table, caption = (
            (o.rules, lambda: backtest_table(shown, detail=True), "This SLO's alert rules on the range"),
            (o.incidents, lambda: alert_detection_table(shown), "Incidents of this journey and its alerts"),
            (o.policy, lambda: alert_policy_table(shown, detail=True), "The burn-rate rules"),
        )[index]
        widget.value = table_html(table(), caption=caption)
        self._tables_shown.add(index)

    def _draw_charts(self, view: SliView, outcome: Outcome, dist: pd.DataFrame) -> None:
        """Redraw the charts whose data changed (an objective change leaves the distribution,
        a coverage change the burn-down, as they were)."""
        o, (burn, distribution, timeline), ch = self.outputs, self.charts, outcome.choice
        what = (view_key(ch), ch.target, ch.window, ch.window_kind)
        if self._drawn.get("burn") != what:
            end = outcome.budget.window_start + outcome.budget.window
            o.burn_down.value = burn.update(outcome.burn_down, outcome.budget.window_start, end)
        if self._drawn.get("dist") != (_dist_key(ch), ch.threshold_ms):
            if self._drawn.get("dist_frame") != _dist_key(ch):
                distribution.show(dist, ch.sli)
            at = dist.loc[np.isclose(dist["edge_ms"], ch.threshold_ms or -1.0), "slower_share"]
            o.distribution.value = distribution.update(ch.threshold_ms, float(at.iloc[0]) if len(at) else None)
        if self._drawn.get("timeline") != (*what, ch.coverage):
            rules = [r.name for r in outcome.policy.rules]
            firings = outcome.backtest.firings
            o.timeline.value = timeline.update(rules, firings, view.journey_impacts, view.start, view.replay_end)
        self._drawn = {
            "burn": what,
            "dist": (_dist_key(ch), ch.threshold_ms),
            "dist_frame": _dist_key(ch),
            "timeline": (*what, ch.coverage),
        }

    # ------------------------------------------------------------------ widgets from a choice

    def _show_choice(self, choice: Choice) -> None:
        """Set every control to ``choice`` without reacting to it."""
        c, h = self.controls, self.history
        edges = h.edges(choice.journey, "latency" if choice.sli == "availability" else choice.sli)
        options = [(f"{e:g} ms", float(e)) for e in edges] or [("no thresholds", 0.0)]
        threshold = choice.threshold_ms if choice.threshold_ms is not None else options[len(options) // 2][1]
        with _Quiet(self):
            c.journey.value = choice.journey if choice.journey in c.journey.options else c.journey.options[0]
            c.kind.value = choice.sli
            c.threshold.options = options
            c.threshold.value = (
                tm.snap_edge([v for _, v in options], threshold) if threshold >= options[0][1] else options[0][1]
            )
            c.threshold.disabled = c.threshold_text.disabled = choice.sli == "availability" or not len(edges)
            c.threshold_text.value = f"{c.threshold.value:g}"
            _select(c.window, (choice.window, choice.window_kind))
            _select(c.coverage, choice.coverage or "")
        self._set_objective(choice.target)

    def _set_objective(self, target: float) -> None:
        """Show ``target`` on the slider (a step of its own when it is not on the ladder) and in the text."""
        c = self.controls.objective
        with _Quiet(self):
            if not any(abs(v - target) < 1e-12 for _, v in c.options):
                c.options = objective_options(target)
            c.value = next(v for _, v in c.options if abs(v - target) < 1e-12)
            self.controls.objective_text.value = _percent(target)

    def _sync(self, w: widgets.Widget, value: Any) -> None:
        with _Quiet(self):
            w.value = value

    # ------------------------------------------------------------------ keep

    def keep(self) -> SloEdit | None:
        """Write the current objective into ``service.yaml`` (comments and key order kept;
        validated against the schema first) and show the diff; None when nothing could be
        written (the reason is shown)."""
        choice = self.choice
        if choice is None or self.error is not None or self.config_path is None:
            self.keep_status.value = "<p>Nothing to keep: pick a valid setting first.</p>"
            return None
        try:
            listed = [s.journey for s in self.history.slos] if not self.history.config.journeys else []
            edit = keep_slo(self.config_path, self._objective(choice), list_also=listed)
        except (ConfigError, ExploreError, OSError) as exc:
            self.keep_status.value = f"<p><strong>Not written.</strong> {html_text(str(exc))}</p>"
            return None
        self.kept = edit
        self._adopt(edit.config, choice)
        notes = "".join(f"<li>{html_text(n)}</li>" for n in edit.notes)
        diff = edit.diff() or "(service.yaml already holds this objective: nothing changed)"
        what = objective_text(self.figures["choice"])
        self.keep_status.value = (
            f"<p>Kept in {html_text(str(edit.path.resolve()))}: {html_text(what)}.</p>"
            f'<ul>{notes}</ul><pre class="srekit-diff">{html_text(diff)}</pre>'
        )
        return edit

    def _objective(self, choice: Choice) -> Objective:
        """What is written: a timeslice SLO only for a journey without request telemetry (its
        latency objective in service.yaml is read over the gauge series then)."""
        if choice.sli == "timeslice" and "availability" in self.history.kinds(choice.journey):
            raise ExploreError(
                f"service.yaml cannot hold a timeslice SLO for {choice.journey}: its latency objective is read from "
                "the request telemetry. Define it in an OpenSLO file (slo.openslo) instead."
            )
        spec = choice_spec(self.history, choice)
        return Objective(
            journey=choice.journey,
            sli=choice.sli,
            target=choice.target,
            threshold_ms=choice.threshold_ms,
            window=choice.window,
            window_kind=choice.window_kind,
            name=spec.name,
        )

    def _adopt(self, config: ServiceConfig, choice: Choice) -> None:
        """After a keep: the new config, and the kept objective as this journey's SLO in force."""
        kept = choice_spec(replace(self.history, config=config), choice)
        slos = [s for s in self.history.slos if (s.journey, s.sli) != (kept.journey, kept.sli)]
        self.history = replace(self.history, config=config, slos=(*slos, kept))


# ---------------------------------------------------------------------- pieces


def parse_objective(text: str) -> float:
    """An objective typed as service.yaml takes it: a fraction in (0, 1) (``0.999``) or a
    percentage from 50 up to 100 (``99.9``, ``99.9%``); anything else is an :class:`ExploreError`."""
    raw = text.strip().removesuffix("%").strip()
    value = _number(raw, "The objective")
    if text.strip().endswith("%") and not 0 < value < 100:
        raise ExploreError(f"The objective '{text.strip()}' must be a percentage below 100 (e.g. 99.9%).")
    try:
        target = float(_TARGET.validate_python(value / 100.0 if text.strip().endswith("%") else value))
        return float(f"{target:.12g}")  # 99.9 / 100 is 0.9990000000000001: the objective typed is 0.999
    except ValidationError as exc:
        reason = exc.errors()[0]["msg"].removeprefix("Value error, ")
        raise ExploreError(f"The objective '{text.strip()}' is not usable: {reason}.") from None


def objective_options(extra: float | None = None) -> list[tuple[str, float]]:
    """The objective slider's steps (:data:`LADDER_BUDGETS`), with ``extra`` added when it is
    not one of them (a typed objective)."""
    targets = {round(1.0 - float(b), 12) for b in LADDER_BUDGETS} | ({float(extra)} if extra is not None else set())
    return [(f"{_percent(t)}%", t) for t in sorted(targets)]


def _number(text: str, what: str) -> float:
    try:
        value = float(text.strip().removesuffix("ms").strip())
    except ValueError:
        raise ExploreError(f"{what} '{text.strip()}' is not a number.") from None
    if not np.isfinite(value):
        raise ExploreError(f"{what} '{text.strip()}' is not a finite number.")
    return value


def _percent(target: float) -> str:
    return f"{100.0 * target:.6g}"


def _img(png: bytes, alt: str) -> str:
    data = base64.b64encode(png).decode("ascii")
    return f'<img src="data:image/png;base64,{data}" alt="{html_text(alt)}" style="max-width:100%">'


def _dist_key(choice: Choice) -> Hashable:
    return (choice.journey, "timeslice" if choice.sli == "timeslice" else "requests", choice.start, choice.end)


def _cached(store: OrderedDict[K, V], key: K, compute: Callable[[], V]) -> V:
    """``store[key]``, computed on a miss; the least recently used entries go past VIEWS_KEPT."""
    if key in store:
        store.move_to_end(key)
        return store[key]
    value = compute()
    store[key] = value
    while len(store) > VIEWS_KEPT:
        store.popitem(last=False)
    return value


def _select(w: widgets.Dropdown, value: Any) -> None:
    """Select ``value``, adding it to the options when it is not one of them."""
    values = [v for _, v in w.options]
    if value not in values:
        label = f"{format_duration(value[0])} {value[1].replace('_', ' ')}" if isinstance(value, tuple) else str(value)
        w.options = [*w.options, (label, value)]
    w.value = value


class _Quiet:
    """``with _Quiet(explorer):`` the explorer sets widgets without reacting to them."""

    def __init__(self, explorer: Explorer) -> None:
        self.explorer = explorer
        self.before = explorer._syncing

    def __enter__(self) -> None:
        self.explorer._syncing = True

    def __exit__(self, *exc: object) -> None:
        self.explorer._syncing = self.before


def window_options(config: ServiceConfig) -> list[tuple[str, tuple[pd.Timedelta, str]]]:
    """Rolling 7, 28 and 30 days and the calendar month, plus service.yaml's own window."""
    month = config.slo.window if config.slo.window_kind == "calendar_month" else pd.Timedelta(days=30)
    options = [(f"rolling {d} days", (pd.Timedelta(days=d), "rolling")) for d in (7, 28, 30)]
    options.append(("calendar month", (month, "calendar_month")))
    own = (config.slo.window, config.slo.window_kind)
    if own not in [v for _, v in options]:
        options.insert(0, (f"rolling {format_duration(own[0])}", own))
    return [(f"{label} (service.yaml)" if value == own else label, value) for label, value in options]


def coverage_options(config: ServiceConfig) -> list[tuple[str, str]]:
    """Paging at any hour, or nobody on call (every alert becomes a ticket); service.yaml's own
    value is kept as written (srekit pages for any coverage it names)."""
    own = config.oncall.coverage
    options = [("24x7: fast burns page", "24x7"), ("nobody on call: every alert is a ticket", "")]
    if own and own != "24x7":
        options.insert(0, (f"{own}: fast burns page", own))
    return [(f"{label} (service.yaml)" if value == (own or "") else label, value) for label, value in options]


def _controls(history: ExploreHistory) -> Controls:
    cfg = history.config
    start = history.start.date() if history.start is not None else None
    end = (history.end - pd.Timedelta(microseconds=1)).date() if history.end is not None else None
    return Controls(
        journey=widgets.Dropdown(options=list(history.journeys) or [""], description="Journey", style=WIDE),
        kind=widgets.ToggleButtons(
            options=["availability", "latency", "timeslice"],
            description="SLI",
            style={"description_width": "7rem", "button_width": "7rem"},
            layout=widgets.Layout(width="auto"),
        ),
        objective=widgets.SelectionSlider(
            options=objective_options(), description="Objective", style=WIDE, layout=widgets.Layout(width="32rem")
        ),
        objective_text=widgets.Text(
            description="or type",
            continuous_update=False,
            layout=widgets.Layout(width="11rem"),
            style={"description_width": "4rem"},
        ),
        threshold=widgets.SelectionSlider(
            options=[("–", 0.0)], description="Threshold", style=WIDE, layout=widgets.Layout(width="32rem")
        ),
        threshold_text=widgets.Text(
            description="ms",
            continuous_update=False,
            layout=widgets.Layout(width="11rem"),
            style={"description_width": "4rem"},
        ),
        window=widgets.Dropdown(
            options=window_options(cfg), description="SLO window", style=WIDE, layout=widgets.Layout(width="22rem")
        ),
        coverage=widgets.Dropdown(
            options=coverage_options(cfg), description="On-call", style=WIDE, layout=widgets.Layout(width="26rem")
        ),
        start=widgets.DatePicker(value=start, description="From (UTC)", style=WIDE),
        end=widgets.DatePicker(value=end, description="To (UTC)", style=WIDE),
        keep=widgets.Button(description="Keep this SLO", icon="save", tooltip="Write this objective into service.yaml"),
    )


def _outputs() -> Outputs:
    def image() -> widgets.Image:
        return widgets.Image(format="png", layout=widgets.Layout(width="100%", max_width="490px"))

    summary, burn, dist, timeline = widgets.HTML(), image(), image(), image()
    rules, incidents, policy, notes = widgets.HTML(), widgets.HTML(), widgets.HTML(), widgets.HTML()
    tabs = widgets.Tab(children=[rules, incidents, policy])
    for i, title in enumerate(("Alert rules replayed", "Incidents", "Rules")):
        tabs.set_title(i, title)
    grid = widgets.GridBox(
        [summary, burn, dist, timeline],
        layout=widgets.Layout(grid_template_columns="repeat(2, minmax(0, 1fr))", grid_gap="8px", width="100%"),
    )
    box = widgets.VBox([grid, notes, tabs])
    return Outputs(summary, burn, dist, timeline, rules, incidents, policy, notes, tabs, box)
