"""Independent checks of written outputs, with other parsers than srekit's own: Markdown through
markdown-it-py with GFM, linkify, math, footnotes and definition lists switched on (the most a
reader's renderer might do); HTML through html5lib (the HTML5 parsing algorithm browsers use);
CSV through Python's csv module."""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

from bs4 import BeautifulSoup
from markdown_it import MarkdownIt
from markdown_it.token import Token
from mdit_py_plugins.deflist import deflist_plugin
from mdit_py_plugins.dollarmath import dollarmath_plugin
from mdit_py_plugins.footnote import footnote_plugin
from mdit_py_plugins.tasklists import tasklists_plugin

from srekit.core.escape import is_plain_number
from srekit.core.files import FORMULA_PREFIXES

MARKDOWN = MarkdownIt("gfm-like").use(dollarmath_plugin).use(footnote_plugin).use(deflist_plugin).use(tasklists_plugin)

#: Markdown nodes data must never produce: markup, links, images, code, math, footnotes.
ACTIVE_MD = frozenset(
    {
        "html_inline",
        "html_block",
        "link_open",
        "image",
        "math_inline",
        "math_block",
        "footnote_ref",
        "footnote_block_open",
        "dl_open",
    }
)


def md_tokens(text: str) -> list[Token]:
    """Every token of ``text``, inline children flattened in order."""
    out: list[Token] = []
    for t in MARKDOWN.parse(text):
        out.append(t)
        out.extend(t.children or [])
    return out


def md_plain(text: str) -> str:
    """The text a reader sees (text and code), soft breaks as spaces."""
    parts = []
    for t in md_tokens(text):
        if t.type in ("text", "text_special", "code_inline"):
            parts.append(t.content)
        elif t.type in ("softbreak", "hardbreak"):
            parts.append(" ")
        elif t.type in ("fence", "code_block"):
            parts.append(t.content)
    return "".join(parts)


def md_problems(text: str) -> list[str]:
    """Markup, link, image, math or footnote nodes in a Markdown text (srekit's own outputs have
    none of these, so every one came from data)."""
    return [f"{t.type}: {(t.content or str(t.attrs))[:80]!r}" for t in md_tokens(text) if t.type in ACTIVE_MD]


RESOURCE_ATTRS = ("src", "srcset", "poster", "data", "background", "lowsrc", "dynsrc")
CODE_ELEMENTS = ("script", "iframe", "frame", "object", "embed", "applet", "base", "portal", "frameset")


def html_problems(page: str) -> list[str]:
    """What html5lib finds in a page that could run code or fetch from outside it."""
    soup = BeautifulSoup(page, "html5lib")
    found = [f"<{el.name}>" for el in soup.find_all(CODE_ELEMENTS)]
    for el in soup.find_all(True):
        for name, value in el.attrs.items():
            text = " ".join(value) if isinstance(value, list) else str(value)
            url = re.sub(r"[\x00-\x20]+", "", text).lower()
            if name.startswith("on") or name == "srcdoc":
                found.append(f"<{el.name} {name}>")
            if url.startswith(("javascript:", "vbscript:", "data:text/html")):
                found.append(f"<{el.name} {name}={text[:60]!r}>")
            fetched = name in RESOURCE_ATTRS or (name == "href" and el.name in ("link", "image", "use"))
            if fetched and not url.startswith("data:"):
                found.append(f"<{el.name} {name}={text[:60]!r}>")
        if el.name == "meta" and str(el.get("http-equiv", "")).lower() == "refresh":
            found.append("<meta refresh>")
    css = [s.get_text() for s in soup.find_all("style")] + [str(e["style"]) for e in soup.find_all(style=True)]
    for sheet in css:
        for url in re.findall(r"""(?:url\(\s*['"]?|@import\s+['"])\s*([^'")\s]+)""", sheet, flags=re.I):
            if not url.lower().startswith("data:"):
                found.append(f"css {url[:60]!r}")
    return found


def csp_of(page: str) -> list[str]:
    soup = BeautifulSoup(page, "html5lib")
    return [
        str(m.get("content"))
        for m in soup.find_all("meta")
        if str(m.get("http-equiv", "")).lower() == "content-security-policy"
    ]


def page_text(page: str) -> str:
    """What a reader of the page sees as text (html5lib), whitespace runs as one space."""
    return " ".join(BeautifulSoup(page, "html5lib").get_text(" ").split())


def csv_problems(path: Path) -> list[str]:
    """Cells a spreadsheet would run (a formula character first and not a number) and numbers
    that were neutralised as if they were formulas (``'-0.2``)."""
    found = []
    rows = list(csv.reader(io.StringIO(path.read_text(encoding="utf-8"), newline="")))
    for r, row in enumerate(rows):
        for c, cell in enumerate(row):
            if cell.startswith(FORMULA_PREFIXES) and not is_plain_number(cell):
                found.append(f"{path.name} row {r} col {c}: formula {cell[:40]!r}")
            if cell.startswith("'") and is_plain_number(cell[1:]):
                found.append(f"{path.name} row {r} col {c}: number neutralised {cell!r}")
    return found
