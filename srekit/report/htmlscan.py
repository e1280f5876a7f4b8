"""What a rendered page really contains, read by parsing it (Python's ``html.parser`` for the
markup, ``tinycss2`` for style sheets and ``style`` attributes): the resources a browser would
fetch, anything that could run code, the Content-Security-Policy and the headings. Text that
merely mentions ``src=//…`` or ``<script>`` (escaped data) is text, not a finding.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable
from dataclasses import dataclass
from html.parser import HTMLParser
from typing import Any

import tinycss2

#: Attributes whose URL the browser fetches as part of the page (on any element).
RESOURCE_ATTRIBUTES = frozenset({"src", "srcset", "poster", "data", "background", "lowsrc", "dynsrc"})

#: Elements whose ``href`` is fetched (``<a>``/``<area>`` hrefs are links to follow, not resources).
HREF_RESOURCE_ELEMENTS = frozenset({"link", "image", "use", "feimage", "script"})

#: Attributes holding a URL that a click, a form or a frame would open.
URL_ATTRIBUTES = frozenset({"href", "xlink:href", "action", "formaction", "src", "data", "poster", "background"})

#: Elements that run or embed active content, or change where the page's URLs point.
ACTIVE_ELEMENTS = frozenset({"script", "iframe", "frame", "frameset", "object", "embed", "applet", "base", "portal"})

#: URL schemes that run code when opened.
ACTIVE_SCHEMES = ("javascript:", "vbscript:", "data:text/html", "data:application/xhtml", "data:image/svg")

#: CSS functions whose string arguments are URLs.
CSS_URL_FUNCTIONS = frozenset({"url", "src", "image", "image-set", "-webkit-image-set"})

_SCHEME_NOISE = re.compile(r"[\x00-\x20]+")


def _normal_url(value: str) -> str:
    """A URL as a browser reads its scheme: ASCII whitespace and control characters removed
    (``java\\tscript:`` is ``javascript:``), lower case."""
    return _SCHEME_NOISE.sub("", value).lower()


def is_embedded(url: str) -> bool:
    """True for a resource inside the page itself (a ``data:`` URI or an in-page ``#fragment``)."""
    u = _normal_url(url)
    return u.startswith(("data:", "#")) or not u


def runs_code(url: str) -> bool:
    """True for a URL that runs script when opened (``javascript:``, an HTML or SVG ``data:`` URI).
    An SVG inside ``<img src="data:image/svg+xml…">`` cannot run script (an image); it is
    checked by the caller only where it would be a document (links, frames)."""
    return _normal_url(url).startswith(ACTIVE_SCHEMES)


@functools.lru_cache(maxsize=64)
def css_urls(css: str, *, declarations: bool = False) -> tuple[str, ...]:
    """Every URL a style sheet (or, with ``declarations``, a ``style`` attribute) refers to:
    ``url()`` tokens, strings inside ``url()``/``image-set()`` and ``@import`` targets.

    Memoised: every page carries the same nbconvert and srekit style sheets (~0.1 s each to
    tokenise), and a render process checks many pages."""
    nodes = tinycss2.parse_blocks_contents(css) if declarations else tinycss2.parse_stylesheet(css)
    return tuple(_css_walk(nodes, in_url=False))


def _css_walk(nodes: Iterable[Any], *, in_url: bool) -> Iterable[str]:
    for node in nodes:
        kind = getattr(node, "type", "")
        if kind == "url" or (kind == "string" and in_url):
            yield node.value
        elif kind == "function":
            yield from _css_walk(node.arguments, in_url=node.lower_name in CSS_URL_FUNCTIONS)
        elif kind == "at-rule":
            yield from _css_walk(node.prelude or (), in_url=node.lower_at_keyword == "import")
            yield from _css_walk(node.content or (), in_url=False)
        elif kind in ("qualified-rule", "declaration"):
            yield from _css_walk(getattr(node, "prelude", None) or (), in_url=False)
            yield from _css_walk(getattr(node, "content", None) or getattr(node, "value", None) or (), in_url=False)
        elif kind in ("() block", "[] block", "{} block"):
            yield from _css_walk(node.content, in_url=in_url)


@dataclass
class Heading:
    level: int
    anchor: str
    text: str


class PageScan(HTMLParser):
    """One pass over a page: :attr:`remote` (resources not embedded in it), :attr:`active`
    (script, event handlers, code URLs, frames and plugins), :attr:`csp` (the
    Content-Security-Policy of its ``<meta>``, if any) and :attr:`headings` (h1–h3 with an id)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.remote: list[str] = []
        self.active: list[str] = []
        self.csp: list[str] = []
        self.headings: list[Heading] = []
        self._style: list[str] | None = None
        self._heading: Heading | None = None
        self._anchor_depth = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {k: v or "" for k, v in attrs}
        if tag in ACTIVE_ELEMENTS:
            self.active.append(f"<{tag}> element")
        for name, value in values.items():
            self._attribute(tag, name, value)
        if tag == "meta":
            self._meta(values)
        elif tag == "style":
            self._style = []
        elif tag in ("h1", "h2", "h3") and values.get("id"):
            self._heading = Heading(int(tag[1]), values["id"], "")
        elif tag == "a" and self._heading is not None and "anchor-link" in values.get("class", ""):
            self._anchor_depth += 1

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)
        if tag == "style":
            self.handle_endtag(tag)

    def _attribute(self, tag: str, name: str, value: str) -> None:
        if name.startswith("on"):
            self.active.append(f"<{tag} {name}=…> event handler")
        elif name == "srcdoc":
            self.active.append(f"<{tag} srcdoc=…> embedded document")
        elif name in URL_ATTRIBUTES and runs_code(value) and not (tag == "img" and name == "src"):
            self.active.append(f"<{tag} {name}={value[:60]!r}> code URL")
        if name == "style":
            urls = css_urls(value, declarations=True)
            self.remote += [f"<{tag} style> url({u[:80]})" for u in urls if not is_embedded(u)]
        fetched = name in RESOURCE_ATTRIBUTES or (name in ("href", "xlink:href") and tag in HREF_RESOURCE_ELEMENTS)
        if fetched and not (name == "srcset" and value.strip().startswith("data:")) and not is_embedded(value):
            self.remote.append(f"<{tag} {name}={value[:80]!r}>")

    def _meta(self, values: dict[str, str]) -> None:
        equiv = values.get("http-equiv", "").lower()
        if equiv == "content-security-policy":
            self.csp.append(values.get("content", ""))
        elif equiv == "refresh":
            self.active.append("<meta http-equiv=refresh> redirect")

    def handle_data(self, data: str) -> None:
        if self._style is not None:
            self._style.append(data)
        elif self._heading is not None and not self._anchor_depth:
            self._heading.text += data

    def handle_endtag(self, tag: str) -> None:
        if tag == "style" and self._style is not None:
            self.remote += [f"<style> url({u[:80]})" for u in css_urls("".join(self._style)) if not is_embedded(u)]
            self._style = None
        elif tag == "a" and self._anchor_depth:
            self._anchor_depth -= 1
        elif self._heading is not None and tag == f"h{self._heading.level}":
            self._heading.text = " ".join(self._heading.text.split())
            self.headings.append(self._heading)
            self._heading = None


def scan_page(text: str) -> PageScan:
    """Parse a whole page (see :class:`PageScan`)."""
    scan = PageScan()
    scan.feed(text)
    scan.close()
    return scan
