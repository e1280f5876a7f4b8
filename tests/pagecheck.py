"""What a stakeholder page must never show, and what it must always have (the degraded matrix,
tests/test_degraded.py): checks on the rendered HTML with BeautifulSoup, not srekit's own parser."""

from __future__ import annotations

import re

from bs4 import BeautifulSoup, Tag

#: Python's and pandas' words for "missing" leaking into a page ("None of the incidents…" is English).
RAW_MISSING = re.compile(r"(?<![\w-])(nan|NaN|NaT|<NA>|None(?! (?:of|are|is|was|were) ))(?![\w-])")
#: A table cell that is only a raw missing value.
RAW_CELL = re.compile(r"None|nan|NaN|NaT|null|<NA>")
#: A field name in a table header: snake_case words.
SNAKE = re.compile(r"\b[a-z]+(?:_[a-z0-9]+)+\b")
#: More digits than any figure a stakeholder acts on (1.504103, 12.34567): five or more
#: significant digits with three or more decimals (0.0933% is three significant digits: fine).
NUMBER = re.compile(r"(?<![\w.])\d+\.\d{3,}(?![\w.])")


def over_precise(number: str) -> bool:
    return len(number.replace(".", "").lstrip("0")) >= 5


#: Elements whose text is code, shown as code on purpose (PromQL, rule YAML).
CODE = ("pre", "code")
HEADINGS = ("h1", "h2", "h3")


def soup(page: str) -> BeautifulSoup:
    s = BeautifulSoup(page, "html.parser")
    for t in s(["style", "script"]):
        t.decompose()
    return s


def prose(s: BeautifulSoup) -> str:
    """The page's visible text without code blocks and without the table of contents."""
    copy = BeautifulSoup(str(s), "html.parser")
    for t in copy(list(CODE)):
        t.decompose()
    for nav in copy.select("nav, .toc, #toc"):
        nav.decompose()
    return " ".join(copy.get_text(" ").split())


def problems(page: str) -> list[str]:
    """Engineering output on a stakeholder page: raw missing values, field names as table
    headers, over-precise numbers, an empty rules file, empty tables."""
    s = soup(page)
    text = prose(s)
    out = [
        f"raw missing value {m.group(0)!r} near {text[max(m.start() - 60, 0) : m.end() + 40]!r}"
        for m in RAW_MISSING.finditer(text)
    ]
    out += [
        f"over-precise number {m.group(0)!r} near {text[max(m.start() - 60, 0) : m.end() + 20]!r}"
        for m in NUMBER.finditer(text)
        if over_precise(m.group(0))
    ]
    out += [
        f"raw missing cell {td.get_text()!r}" for td in s.find_all("td") if RAW_CELL.fullmatch(td.get_text(strip=True))
    ]
    for th in s.find_all("th"):
        head = th.get_text(" ", strip=True)
        if SNAKE.fullmatch(head):
            out.append(f"field name as a table header: {head!r}")
    for table in s.find_all("table"):
        if not table.find("tbody") or not table.find("tbody").find("tr"):
            out.append(f"empty table: {table.find('caption').get_text() if table.find('caption') else table}")
    if "groups: []" in s.get_text():
        out.append("an empty Prometheus rules file is shown")
    return out


def empty_sections(page: str) -> list[str]:
    """Headings followed by nothing (no text, table or image) before the next heading."""
    s = soup(page)
    out = []
    heads = [h for h in s.find_all(HEADINGS)]
    for h in heads:
        content = []
        for sib in h.find_all_next():
            if sib in heads or (isinstance(sib, Tag) and sib.name in HEADINGS):
                break
            if sib.name in ("table", "img", "pre") or (sib.name in ("p", "li") and sib.get_text(strip=True)):
                content.append(sib)
        if not content and h.get_text(strip=True) not in ("Contents",):
            out.append(h.get_text(" ", strip=True))
    return out
