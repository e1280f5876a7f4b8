"""Writing an objective back into ``service.yaml`` without losing what the team wrote: comments,
key order, quoting and indentation stay as they were (ruamel.yaml's round trip); only the keys
that change are touched, the result must pass the strict schema (:func:`~srekit.inputs.config.parse_config`)
before anything is written, and the file is replaced atomically.

:func:`set_slo` edits the text; :func:`keep_slo` reads, edits, validates and writes a file and
returns the unified diff it wrote (:class:`SloEdit`).
"""

from __future__ import annotations

import difflib
import io
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import yaml
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import YAMLError

from srekit.core.errors import ConfigError
from srekit.core.files import atomic_write
from srekit.core.timeutil import format_duration, parse_duration
from srekit.inputs.config import MAX_YAML_BYTES, ServiceConfig, parse_config

#: Indentations tried, (mapping, sequence, offset): the first that writes the unchanged
#: document back byte for byte is the file's own style.
INDENTS = ((2, 4, 2), (2, 2, 0), (4, 4, 2), (4, 6, 4), (4, 4, 0), (3, 3, 0), (4, 2, 0))
BOM = "\ufeff"


@dataclass(frozen=True, slots=True)
class SloEdit:
    """What :func:`keep_slo` changed: the file, its text before and after, the parsed result
    and notes on side effects (a journey added to the list, a window that applies to every SLO)."""

    path: Path
    before: str
    after: str
    config: ServiceConfig
    notes: tuple[str, ...] = ()

    @property
    def changed(self) -> bool:
        return self.before != self.after

    def diff(self) -> str:
        """Unified diff of the file (empty when nothing changed)."""
        name = self.path.name
        lines = difflib.unified_diff(
            self.before.splitlines(keepends=True), self.after.splitlines(keepends=True), f"a/{name}", f"b/{name}"
        )
        return "".join(lines)


@dataclass(frozen=True, slots=True)
class Objective:
    """The objective to keep: ``sli`` availability or latency (a timeslice objective is written
    as the journey's latency objective, which srekit reads over the gauge series when the journey
    has no request telemetry), its target (a fraction), the latency threshold, and the SLO window
    (None: leave ``slo.window`` as it is). ``name`` finds the entry in a top-level ``slos:`` list."""

    journey: str
    sli: str
    target: float
    threshold_ms: float | None = None
    window: pd.Timedelta | None = None
    window_kind: str | None = None
    name: str | None = None

    def __post_init__(self) -> None:
        if self.sli not in ("availability", "latency", "timeslice"):
            raise ValueError(f"sli must be availability, latency or timeslice, got {self.sli!r}")
        if not 0.0 < self.target < 1.0:
            raise ValueError(f"the target must be a fraction in (0, 1), got {self.target!r}")
        if self.sli != "availability" and (self.threshold_ms is None or self.threshold_ms <= 0):
            raise ValueError(f"a {self.sli} objective needs a positive threshold_ms")


def keep_slo(path: str | Path, objective: Objective, *, list_also: Sequence[str] = ()) -> SloEdit:
    """Write one objective into ``path`` (see :func:`set_slo` for what changes). Nothing is
    written when the result would not pass the schema (:class:`ConfigError` says why) or when
    nothing changes."""
    p = Path(path)
    before = _read(p)
    after, notes = set_slo(before, objective, list_also=list_also)
    config = _validate(after, p)
    if after != before:
        atomic_write(p, after)
    return SloEdit(p, before, after, config, notes)


def _read(path: Path) -> str:
    if not path.is_file():
        raise ConfigError(f"{path} is not a file: nothing to write the objective into. fix: pass service.yaml's path")
    if path.stat().st_size > MAX_YAML_BYTES:
        raise ConfigError(f"{path} is larger than {MAX_YAML_BYTES:,} bytes; srekit does not rewrite it")
    return path.read_text(encoding="utf-8")


def _validate(text: str, path: Path) -> ServiceConfig:
    """The edited text parsed as ``load_config`` parses a file (PyYAML's safe loader, then the
    strict schema)."""
    try:
        raw = yaml.safe_load(text.removeprefix(BOM))
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: the edited file would not be valid YAML ({exc}); nothing was written") from exc
    return parse_config(raw if raw is not None else {}, path=path)


def set_slo(text: str, objective: Objective, *, list_also: Sequence[str] = ()) -> tuple[str, tuple[str, ...]]:
    """``text`` with the objective set where service.yaml keeps it:

    * SLOs defined in full (a top-level ``slos:`` list, what ``srekit import`` writes): the entry
      named ``objective.name`` (else the first of that journey and kind) gets the target,
      threshold and window; an SLO not listed is appended;
    * otherwise ``journeys[name=journey].slos``: ``availability: target``, or ``latency:
      {threshold_ms, target}``; a bare-name journey becomes a mapping (its comment kept), a
      missing journey is appended, ``critical: false`` becomes true (a kept SLO is meant to be in
      force); without a ``journeys`` list, the journeys in ``list_also`` (those analysed so far)
      are listed too, so adding one does not drop the others; ``slo.window``/``slo.window_kind``
      are set when given and different.

    The target is written as a percentage when the value it replaces was one (``99.9``), else as
    a fraction. SLOs read from OpenSLO files or ``slo.import`` cannot be changed here (a
    :class:`ConfigError` says so). Returns the new text and notes on what else changed."""
    rt, doc = load_round_trip(text)
    if not isinstance(doc, CommentedMap):
        raise ConfigError("service.yaml must be a mapping (service: NAME, data: ...) to write an objective into")
    _refuse_external(doc)
    if isinstance(doc.get("slos"), CommentedSeq) and doc["slos"]:
        notes = _set_listed(doc["slos"], objective)
    else:
        notes = _list_journeys(doc, objective.journey, list_also)
        item, more = _journey_item(doc["journeys"], objective.journey)
        key = "availability" if objective.sli == "availability" else "latency"
        _set_objective(_child_map(item, "slos"), key, objective.target, objective.threshold_ms)
        notes += more + _set_window(doc, objective.window, objective.window_kind)
    return dump_round_trip(rt, doc, text), tuple(notes)


def _refuse_external(doc: CommentedMap) -> None:
    """SLOs from OpenSLO files or ``slo.import`` replace the journeys' objectives: writing one
    into service.yaml would change nothing."""
    slo = doc.get("slo")
    for key, what in (("openslo", "OpenSLO files (slo.openslo)"), ("import", "imported specs (slo.import)")):
        if isinstance(slo, CommentedMap) and slo.get(key):
            raise ConfigError(
                f"service.yaml takes its SLOs from {what}, so an objective written here would not be used. "
                f"fix: change the objective in those files, or remove slo.{key} to set objectives in service.yaml"
            )


def _set_listed(slos: CommentedSeq, objective: Objective) -> list[str]:
    """The objective in a ``slos:`` entry (its alert policy, queries and origin kept)."""
    if objective.sli == "timeslice":
        raise ConfigError("slos: entries are availability or latency SLOs; a timeslice SLO cannot be written there")
    if objective.window_kind == "calendar_month":
        raise ConfigError("slos: entries are rolling windows; a calendar-month objective cannot be written there")
    name = objective.name or f"{objective.journey}-{objective.sli}"
    same = [e for e in slos if isinstance(e, CommentedMap) and e.get("name") == name] or [
        e
        for e in slos
        if isinstance(e, CommentedMap) and e.get("journey") == objective.journey and e.get("sli") == objective.sli
    ]
    notes = []
    if same:
        entry = same[0]
    else:
        entry = CommentedMap([("name", name), ("journey", objective.journey), ("sli", objective.sli)])
        slos.append(entry)
        notes.append(f"Added {name} to the slos: list.")
    entry["target"] = _target_value(objective.target, entry.get("target"))
    if objective.threshold_ms is not None and objective.sli == "latency":
        entry["threshold_ms"] = _ms(objective.threshold_ms)
    if objective.window is not None and _duration(entry.get("window")) != objective.window:
        entry["window"] = format_duration(objective.window)
    return notes


def load_round_trip(text: str) -> tuple[YAML, Any]:
    """A user's YAML text as a ruamel round-trip document (comments, key order and quoting kept)
    and the writer set to the file's own indentation, so writing it back changes only what was
    edited."""
    body = text.removeprefix(BOM)
    best: tuple[int, YAML, Any] | None = None
    for mapping, sequence, offset in INDENTS:
        rt = YAML(typ="rt")
        rt.preserve_quotes = True
        rt.width = 4096  # never re-wrap the team's long lines
        rt.indent(mapping=mapping, sequence=sequence, offset=offset)
        try:
            doc = rt.load(body)
        except YAMLError as exc:
            raise ConfigError(f"service.yaml is not valid YAML: {exc}") from exc
        changed = _changed_lines(body, _text(rt, doc))
        if best is None or changed < best[0]:
            best = (changed, rt, doc)
        if changed == 0:
            break
    assert best is not None
    return best[1], best[2]


def _text(rt: YAML, doc: Any) -> str:
    buf = io.StringIO()
    rt.dump(doc, buf)
    return buf.getvalue()


def _changed_lines(a: str, b: str) -> int:
    diff = difflib.ndiff(a.splitlines(), b.splitlines())
    return sum(1 for line in diff if line.startswith(("+ ", "- ")))


def dump_round_trip(rt: YAML, doc: Any, original: str) -> str:
    """``doc`` written back as :func:`load_round_trip` read it (a leading BOM kept)."""
    out = _text(rt, doc)
    return BOM + out if original.startswith(BOM) else out


def _list_journeys(doc: CommentedMap, journey: str, list_also: Sequence[str]) -> list[str]:
    """A ``journeys`` list to write into; created (with ``list_also``) when there is none."""
    if isinstance(doc.get("journeys"), CommentedSeq) and doc["journeys"]:
        return []
    seq = CommentedSeq([j for j in dict.fromkeys(list_also) if j != journey])
    if "journeys" in doc:
        doc["journeys"] = seq
    else:
        at = list(doc).index("slo") if "slo" in doc else len(doc)
        doc.insert(at, "journeys", seq)
    if not seq:
        return [f"Added a journeys list with {journey}: srekit now analyses only the journeys listed there."]
    return [
        f"Added a journeys list: {', '.join(seq)} (analysed so far as the busiest journeys) and {journey}, "
        "so keeping this objective does not drop the others."
    ]


def _journey_item(seq: CommentedSeq, journey: str) -> tuple[CommentedMap, list[str]]:
    """The mapping of ``journey`` in the list: a bare name is turned into a mapping (its end-of-line
    comment moves to the ``name`` key); a journey not listed is appended; ``critical: false`` is
    made true."""
    for i, item in enumerate(seq):
        if isinstance(item, str) and item.strip() == journey:
            mapping = CommentedMap([("name", journey)])
            comment = seq.ca.items.pop(i, None)
            if comment and comment[0] is not None:
                mapping.ca.items["name"] = [None, None, comment[0], None]
            seq[i] = mapping
            return mapping, []
        if isinstance(item, CommentedMap) and item.get("name") == journey:
            if item.get("critical") is False:
                item["critical"] = True
                return item, [
                    f"Set critical: true for {journey}: srekit ignores the objectives of a non-critical journey."
                ]
            return item, []
    seq.append(CommentedMap([("name", journey)]))
    return seq[-1], [f"Added {journey} to the journeys list."]


def _child_map(parent: CommentedMap, key: str) -> CommentedMap:
    if not isinstance(parent.get(key), CommentedMap):
        parent[key] = CommentedMap()
    child: CommentedMap = parent[key]
    return child


def _set_objective(slos: CommentedMap, key: str, target: float, threshold_ms: float | None) -> None:
    if key == "availability":
        slos["availability"] = _target_value(target, slos.get("availability"))
        return
    latency = _child_map(slos, "latency")
    assert threshold_ms is not None
    latency["threshold_ms"] = _ms(threshold_ms)
    latency["target"] = _target_value(target, latency.get("target"))


def _ms(value: float) -> int | float:
    """1500.0 is written 1500."""
    return int(value) if float(value).is_integer() else float(value)


def _target_value(target: float, previous: Any) -> float:
    """The target as the team writes it: a percentage when the value it replaces was one."""
    percent = isinstance(previous, int | float) and not isinstance(previous, bool) and previous > 1
    return float(f"{target * 100:.10g}") if percent else float(f"{target:.12g}")


def _set_window(doc: CommentedMap, window: pd.Timedelta | None, kind: str | None) -> list[str]:
    """``slo.window`` / ``slo.window_kind`` when they differ from what the file says (or its defaults)."""
    current = doc["slo"] if isinstance(doc.get("slo"), CommentedMap) else CommentedMap()
    notes = []
    if window is not None and _duration(current.get("window", "28d")) != window:
        text = format_duration(window)
        _child_map(doc, "slo")["window"] = text
        notes.append(f"Set slo.window to {text}: it applies to every SLO of the service.")
    if kind is not None and current.get("window_kind", "rolling") != kind:
        _child_map(doc, "slo")["window_kind"] = kind
        notes.append(f"Set slo.window_kind to {kind}: it applies to every SLO of the service.")
    return notes


def _duration(text: Any) -> pd.Timedelta | None:
    try:
        return parse_duration(str(text))
    except (ValueError, TypeError):
        return None
