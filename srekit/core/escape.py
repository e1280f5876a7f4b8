"""Data-derived text made safe for the format it lands in: HTML and Markdown (CSV cells and file
names are :mod:`srekit.core.files`, PromQL label values :func:`srekit.inputs.promql.quote`,
Prometheus annotation templates :func:`srekit.exports.prometheus.template_text`).

Every service, journey, owner, team, incident, alert and toil name is data: it is written
through one of these functions wherever it is written, so it shows as the text it is and
never becomes markup, a link, a formula or a path (``docs/architecture.md``, "Output safety").
"""

from __future__ import annotations

import html
import re
import string

#: CommonMark's backslash-escapable characters: every ASCII punctuation character.
MD_PUNCTUATION = frozenset(string.punctuation)

#: Punctuation that is no syntax after the first character of a text in any common flavour
#: (``-`` starts a list or a rule only at the start of a line; ``(``/``)`` and ``!`` matter only
#: next to a ``[``, which is escaped); written as is there to keep text like ``team-payments``
#: readable. ``.``, ``:`` and ``/`` are escaped only where they could start a link (see
#: :func:`md_text`).
MD_INERT = frozenset("-,;?%()'\"!")

#: A leading ordered-list marker (``1.`` or ``1)``): its digits are written as they are, its
#: punctuation escaped.
_LIST_START = re.compile(r"([0-9]{1,9})[.)](?=\s|$)")


#: A plain number as tables show it: ``-0.2``, ``1,234``, ``99.9%``, ``1e-05`` (ASCII digits).
#: It is not a formula in a spreadsheet and not syntax in Markdown, so it is written as it is.
PLAIN_NUMBER = re.compile(r"[+-]?(?=\.?[0-9])(?:[0-9]{1,3}(?:,[0-9]{3})+|[0-9]+)?(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?%?")

#: A date or time as tables show it: ``2026-08-05``, ``2026-08-05 10:12``, ``2026-08-05T10:12:00+00:00``.
PLAIN_TIME = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}(?:[ T][0-9]{2}:[0-9]{2}(?::[0-9]{2}(?:\.[0-9]+)?)?)?(?:Z|[+-][0-9]{2}:[0-9]{2})?"
)

_LINE_BREAKS = re.compile(r"[\t\n\v\f\r]")
_CONTROL = re.compile(r"[\x00-\x08\x0e-\x1f\x7f-\x9f]")


def is_plain_number(text: str) -> bool:
    """True when ``text`` is a plain decimal number (see :data:`PLAIN_NUMBER`)."""
    return PLAIN_NUMBER.fullmatch(text) is not None


def printable(text: str) -> str:
    """``text`` with control characters (NUL, escape, C1 controls) shown as U+FFFD, the
    replacement character HTML and Markdown parsers use for NUL; tabs and line breaks kept."""
    return _CONTROL.sub("\ufffd", text)


#: Control characters (C0, line breaks and tabs too; DEL; C1, NEL among them) and the line and
#: paragraph separators: what service.yaml names may not hold (a YAML writer may fold them).
CONTROL_OR_BREAK = "\x00-\x1f\x7f-\x9f\u2028\u2029"
#: What a terminal or a CI log would act on: those, and the bidirectional overrides and isolates.
_TERMINAL = re.compile(f"[{CONTROL_OR_BREAK}\u202a-\u202e\u2066-\u2069]")


def terminal_text(value: object) -> str:
    """Text from data for a line of plain command output (a terminal, a CI log): the characters
    of :data:`_TERMINAL` written as Python escapes (``\\n``, ``\\x1b``, ``\\u202e``), so a name can
    neither start a line of its own (a fake ``PASS``), move the cursor, recolour the log nor
    reverse the text after it."""
    return _TERMINAL.sub(lambda m: m.group().encode("unicode_escape").decode("ascii"), str(value))


def html_text(value: object) -> str:
    """Text for HTML element content or a quoted attribute value: ``& < > " '`` as entities,
    control characters as U+FFFD."""
    return html.escape(printable(str(value)), quote=True)


def md_text(value: object) -> str:
    """Text for Markdown in an inline place (a paragraph, a table cell, a heading, a list item,
    inside ``**…**``) that renders as exactly that text in any CommonMark flavour (GFM tables,
    autolinks and linkify, math, footnotes, mentions, issue references): ASCII punctuation is
    backslash-escaped (HTML tags, entities, links, images, emphasis, code, pipes, ``$``, ``#``,
    ``@``, ``~``), except :data:`MD_INERT` past the first character and three characters where
    they cannot start a link: a ``.`` not followed by a letter (``99.9``, the end of a
    sentence; ``report.md`` and ``www.x`` are escaped), a ``:`` followed by a space (``http://``,
    ``mailto:x`` are escaped) and a ``/`` not followed by ``/``. Line breaks and tabs become
    spaces, ends are trimmed, control characters show as U+FFFD. A plain number or date
    (``-0.2``, ``99.9%``, ``2026-08-05 10:12``) is no syntax in any flavour and stays as it is."""
    text = _LINE_BREAKS.sub(" ", printable(str(value))).strip()
    if is_plain_number(text) or PLAIN_TIME.fullmatch(text):
        return text
    marker = _LIST_START.match(text)
    head = len(marker.group(1)) if marker else 0
    rest = text[head:]
    return text[:head] + "".join("\\" + c if _md_syntax(rest, i) else c for i, c in enumerate(rest))


def _md_syntax(text: str, i: int) -> bool:
    """Whether ``text[i]`` could be Markdown syntax where it stands (see :func:`md_text`)."""
    c, after = text[i], text[i + 1 : i + 2]
    if c not in MD_PUNCTUATION:
        return False
    if i == 0:
        return True
    if c == ".":
        return after.isalpha()
    if c == ":":
        return not after.isspace()
    if c == "/":
        return after == "/"
    return c not in MD_INERT


def md_code(value: object) -> str:
    """An inline code span of ``value`` (CommonMark: a backtick fence longer than any run of
    backticks inside, padded with a space when the text starts or ends with one). Not for GFM
    table cells: a ``|`` splits the cell even inside code there; use :func:`md_text`."""
    text = _LINE_BREAKS.sub(" ", printable(str(value)))
    if not text.strip(" "):
        return md_text(text)
    fence = "`" * (max((len(run) for run in re.findall(r"`+", text)), default=0) + 1)
    pad = " " if text[:1] in ("`", " ") or text[-1:] in ("`", " ") else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def md_fence(text: str, info: str = "", indent: str = "") -> list[str]:
    """A fenced code block of ``text`` (lines prefixed with ``indent``): the fence is a run of
    backticks longer than any inside the text, so no line of it can close the block."""
    body = re.split(r"\r\n|\r|\n", printable(text)) if text else []
    fence = "`" * max(3, max((len(run) for run in re.findall(r"`+", text)), default=0) + 1)
    return [f"{indent}{fence}{info}", *(f"{indent}{line}" for line in body), f"{indent}{fence}"]
