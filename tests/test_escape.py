"""One escaping function per format, each checked against the format's own reader: Markdown
(markdown-it-py with GFM, linkify, math, footnotes), HTML (html5lib), CSV (csv module), file
names (the filesystem), PromQL label values and Prometheus annotation templates (promtool)."""

from __future__ import annotations

import csv
import io
import re
import string
import subprocess
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest
import yaml
from bs4 import BeautifulSoup
from conftest import require_tool
from hostile import CONTROL, CORPUS
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from safety import md_plain, md_problems, md_tokens

from srekit.core.errors import SrekitError
from srekit.core.escape import html_text, md_code, md_fence, md_text, printable, terminal_text
from srekit.core.files import FORMULA_PREFIXES, csv_text, inside, neutralize, safe_file_name
from srekit.exports.prometheus import dump_yaml, dump_yaml_all, template_text
from srekit.inputs.promql import quote, unquote

#: Text built from the pieces that make syntax in some format, and any other character.
SYNTAX = [*string.punctuation, "www.", "http://", "a@b.co", "<a href=x>", "![i](x)", "[l](u)", "$x$", "report.md"]
SYNTAX += ["- ", "1. ", "1) ", "# ", "> ", "    ", "```", "~~", "**", "&amp;", "&#60;", "<!--", "-->", "{{", "}}"]
SYNTAX += ["[^1]", ": ", "\t", "\n", "\r", "\x00", "\x1b", "\u00a0", "é", "＜", "\u202e", "a", "1", " "]
text_of_syntax = st.one_of(st.lists(st.sampled_from(SYNTAX), max_size=24).map("".join), st.text(max_size=40))


def flat(text: str) -> str:
    """What :func:`md_text` promises to show: line breaks and tabs as spaces, ends trimmed,
    controls as U+FFFD."""
    return re.sub(r"[\t\n\v\f\r]", " ", printable(text)).strip()


@settings(max_examples=600, deadline=None, suppress_health_check=list(HealthCheck))
@given(text_of_syntax)
@example(CORPUS["Markdown structure"])
@example("1) x")
@example("-0.2")
def test_md_text_renders_as_the_literal_text_in_every_inline_place(text: str) -> None:
    escaped = md_text(text)
    assert md_plain(escaped) == flat(text)
    for place in ("| h |\n|---|\n| {} |", "- **{}**: x", "## {}", "x {} y", "> {}"):
        source = place.format(escaped)
        assert md_problems(source) == [], (text, source)
        kinds = {t.type for t in md_tokens(source)}
        assert not kinds & {"em_open", "s_open", "code_inline", "hr", "ordered_list_open"}, (text, source)
        assert "bullet_list_open" not in kinds or place.startswith("- "), (text, source)


def test_md_text_keeps_numbers_and_dates_readable() -> None:
    for plain in ("-0.2", "1,234", "99.9%", "+3", "1e-05", "2026-08-05", "2026-08-05 10:12", "2026-08-05T10:12:00Z"):
        assert md_text(plain) == plain
    assert md_text("team-payments (EU)") == "team-payments (EU)"
    assert md_text("- item") == r"\- item" and md_text("1) x") == r"1\) x" and md_text("1. x") == r"1\. x"


@settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck))
@given(text_of_syntax)
def test_md_code_and_md_fence_hold_the_text_as_code(text: str) -> None:
    shown = re.sub(r"[\t\n\v\f\r]", " ", printable(text))
    spans = [t for t in md_tokens(f"x {md_code(text)} y") if t.type == "code_inline"]
    if shown.strip(" "):
        assert [s.content for s in spans] == [shown], text
    lines = re.split(r"\r\n|\r|\n", printable(text)) if text else []
    source = "\n".join(["intro", "", *md_fence(text, "promql"), "", "after"])
    blocks = [t for t in md_tokens(source) if t.type == "fence"]
    assert [b.content for b in blocks] == ["".join(f"{line}\n" for line in lines)], text
    assert md_plain(source).endswith("after")  # the block closed where it should


@settings(max_examples=400, deadline=None, suppress_health_check=list(HealthCheck))
@given(text_of_syntax)
def test_html_text_is_text_in_content_and_attributes(text: str) -> None:
    soup = BeautifulSoup(f'<p title="{html_text(text)}">{html_text(text)}</p><i>end</i>', "html5lib")
    p = soup.find("p")
    assert p is not None and len(soup.body.find_all(True)) == 2  # no element came from the text
    expected = printable(text).replace("\r\n", "\n").replace("\r", "\n")  # HTML's own newline normalisation
    assert p.get_text() == expected and p["title"] == expected


NUMBERS = st.one_of(
    st.floats(allow_nan=False, allow_infinity=False).map(lambda x: [repr(x), f"{x:,.2f}", f"{x:.3%}", f"{x:g}"]),
    st.integers().map(lambda n: [str(n), f"{n:,}", f"+{n}" if n >= 0 else str(n)]),
)


@given(NUMBERS)
def test_neutralize_never_changes_a_number(texts: list[str]) -> None:
    for t in texts:
        if "inf" in t or "nan" in t:  # not numbers a table shows
            continue
        assert neutralize(t) == t, t
    assert neutralize(float(texts[0])) == float(texts[0])


@settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.lists(text_of_syntax, min_size=1, max_size=6), st.lists(st.floats(allow_nan=False), min_size=1, max_size=6))
def test_csv_text_round_trips_and_no_cell_starts_a_formula(texts: list[str], numbers: list[float]) -> None:
    n = min(len(texts), len(numbers))
    df = pd.DataFrame({"text": texts[:n], "=number": numbers[:n]})
    rows = list(csv.reader(io.StringIO(csv_text(df), newline="")))
    assert rows[0] == ["text", "'=number"]
    assert [r[0] for r in rows[1:]] == [neutralize(t) for t in texts[:n]]  # one row per record, every cell intact
    assert [float(r[1]) for r in rows[1:]] == numbers[:n]
    assert not any(r[0].startswith(FORMULA_PREFIXES) and neutralize(r[0]) != r[0] for r in rows[1:])


@settings(max_examples=500)
@given(text_of_syntax, st.integers(min_value=1, max_value=200))
@example("..", 100)
@example("../../etc/passwd", 100)
@example("/", 100)
def test_safe_file_name_is_one_safe_component(text: str, limit: int) -> None:
    name = safe_file_name(text, max_length=limit)
    assert re.fullmatch(r"[A-Za-z0-9_]([A-Za-z0-9._-]*[A-Za-z0-9_])?", name), name  # never ., .., /, \, .hidden
    assert len(name) <= max(limit, len("unnamed"))


def test_safe_file_name_examples(tmp_path: Path) -> None:
    assert safe_file_name("../../etc/passwd") == "etc-passwd"
    assert safe_file_name("..") == "unnamed" and safe_file_name("ｓｈｏｐ") == "unnamed"
    assert safe_file_name("C:\\x\\y", fallback="f") == "C-x-y"
    assert len(safe_file_name("a" * 500)) == 100
    assert inside(tmp_path, "a/b.md") == (tmp_path / "a" / "b.md").resolve()
    for bad in ("../x", "a/../../x", "/etc/passwd"):
        with pytest.raises(SrekitError, match="outside the output folder"):
            inside(tmp_path, bad)


#: YAML 1.1 line breaks besides LF and CR (a plain or single-quoted scalar folds NEL to a space) and C1 controls.
BREAKS = ["a\x85b", "NEL\x85 two spaces", "line\u2028separator", "para\u2029graph", "c1 \x9b[31m csi", "\x85"]
BREAKS += ["replaced \ufffd byte"]  # U+FFFD: Prometheus' lexer refuses it raw in a string
LABEL_VALUES = [*CORPUS.values(), *CONTROL.values(), 'a"b\\c', "}", "{", "\\", "é\u202e", "x\ny", *BREAKS]


def _promtool_round_trip(
    tmp_path: Path, values: list[str], annotate: Callable[[str], str] = template_text
) -> subprocess.CompletedProcess[str]:
    """promtool test rules: a series per value written with :func:`quote`, an alert per value
    whose selector is written with :func:`quote` and whose annotation with ``annotate``; the
    test expects the raw value as label and as the expanded annotation."""
    series = [{"series": f'm{{v="{quote(v)}",i="{i}"}}', "values": "1x5"} for i, v in enumerate(values)]
    rules = [
        {"alert": f"A{i}", "expr": f'm{{v="{quote(v)}",i="{i}"}} > 0', "annotations": {"text": annotate(v)}}
        for i, v in enumerate(values)
    ]
    expected = [
        {
            "eval_time": "1m",
            "alertname": f"A{i}",
            "exp_alerts": [{"exp_labels": {"v": v, "i": str(i)}, "exp_annotations": {"text": v}}],
        }
        for i, v in enumerate(values)
    ]
    (tmp_path / "r.yml").write_text(dump_yaml({"groups": [{"name": "g", "rules": rules}]}))
    doc = {
        "rule_files": ["r.yml"],
        "evaluation_interval": "1m",
        "tests": [{"interval": "1m", "input_series": series, "alert_rule_test": expected}],
    }
    (tmp_path / "t.yml").write_text(dump_yaml(doc))
    promtool = require_tool("promtool")
    return subprocess.run([promtool, "test", "rules", "t.yml"], cwd=tmp_path, capture_output=True, text=True)


def test_quote_and_template_text_round_trip_through_promtool(tmp_path: Path) -> None:
    # Prometheus label values are NUL-free UTF-8; and Prometheus 2 evaluates a rule by parsing its
    # expression printed back (Go's %q keeps U+FFFD raw), which its lexer refuses as invalid UTF-8
    values = [v for v in LABEL_VALUES if "\x00" not in v and "\ufffd" not in v]
    done = _promtool_round_trip(tmp_path, values)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]


def test_yaml_text_reads_back_as_written() -> None:
    """The rules, tests and OpenSLO files' YAML: every hostile value, line breaks PyYAML would
    fold (NEL as a space) included, reads back unchanged."""
    doc = {"values": LABEL_VALUES, "by": {v: v for v in LABEL_VALUES}}
    assert yaml.safe_load(dump_yaml(doc)) == doc
    assert list(yaml.safe_load_all(dump_yaml_all([doc, {"x": BREAKS}]))) == [doc, {"x": BREAKS}]
    assert yaml.safe_load(yaml.safe_dump(doc, allow_unicode=True)) != doc  # PyYAML alone folds NEL


@given(st.text())
@example('a\x85b\u2028\x1b\\"\n')
def test_unquote_reads_what_quote_writes(value: str) -> None:
    """The dashboard check and the importer read PromQL strings back with ``unquote``."""
    assert unquote(quote(value)) == value


def test_unquote_decodes_go_escapes() -> None:
    assert unquote(r"a\033b\x1bc\u0085d\U0001F600e\t\"\\") == 'a\x1bb\x1bc\x85d\U0001f600e\t"\\'
    assert unquote(r"\UFFFFFFFF \ud800") == r"\UFFFFFFFF \ud800"  # no character: kept as written (Go refuses it)


@given(text_of_syntax)
@example("ok\n  PASS  fake\x1b[2K\u202e\u2028\x85\r")
def test_terminal_text_is_one_line_without_controls(value: str) -> None:
    """Command output lines (gate, diff, aggregate): a name cannot start a line, move the cursor,
    recolour the log or reverse the text after it."""
    shown = terminal_text(value)
    assert shown.splitlines() in ([shown], []) and printable(shown) == shown
    assert not re.search("[\u202a-\u202e\u2066-\u2069]", shown)


def test_quote_leaves_no_control_character_or_line_break() -> None:
    """A quoted value is one line of printable text: a YAML writer or a split into lines keeps it whole."""
    for v in LABEL_VALUES:
        q = quote(v)
        assert q.splitlines() == [q] and printable(q) == q and "\u2028" not in q, repr(v)


def test_the_promtool_round_trip_fails_without_escaping(tmp_path: Path) -> None:
    """The check above can fail: a raw ``{{`` in an annotation is run by Prometheus' templating."""
    done = _promtool_round_trip(tmp_path, ['{{ "x" }}'], annotate=lambda text: text)
    assert done.returncode != 0
