"""The PromQL shapes srekit can turn into counters, and nothing more: a selector
``metric{label op "value", …}``, a sum of its rate (``sum(rate(sel[window]))``, also
``increase``), a latency SLI as ``_count − _bucket{le}``, and a ratio of two such sums.

An SLI maps when its bad and total queries read one counter (availability: the bad selector is
the total selector plus matchers, e.g. ``code=~"5.."``) or one histogram (latency: total is
``X_count``, bad is ``X_count − X_bucket{le="T"}``). Anything else — a subquery over a gauge,
``sum_over_time``, ``OR on() vector(0)``, a function srekit does not know — is not mapped, and
the caller lists it with its reason."""

from __future__ import annotations

import re
from dataclasses import dataclass

from srekit.core.spec import SliQueries
from srekit.inputs.promql import quote, unquote

WINDOW = "{{window}}"
_METRIC = r"[a-zA-Z_:][a-zA-Z0-9_:]*"
_MATCHER = re.compile(r'\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*(=~|!~|!=|=)\s*"((?:[^"\\]|\\.)*)"\s*,?')
_SELECTOR = re.compile(rf"\s*({_METRIC})\s*(?:\{{(.*)\}})?\s*", re.S)
_RATE_SUM = re.compile(rf"sum\s*\(\s*(?:rate|increase)\s*\(\s*(.*?)\s*\[\s*{re.escape(WINDOW)}\s*\]\s*\)\s*\)", re.S)
_TEMPLATE = re.compile(r"\{\{\s*\.?\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}")


@dataclass(frozen=True, slots=True)
class Matcher:
    label: str
    op: str  # = != =~ !~
    value: str

    def text(self) -> str:
        return f'{self.label}{self.op}"{quote(self.value)}"'


@dataclass(frozen=True, slots=True)
class Selector:
    metric: str
    matchers: tuple[Matcher, ...] = ()

    def text(self) -> str:
        return f"{self.metric}{{{','.join(m.text() for m in self.matchers)}}}" if self.matchers else self.metric

    def without(self, label: str) -> Selector:
        return Selector(self.metric, tuple(m for m in self.matchers if m.label != label))

    def value(self, label: str) -> str | None:
        """The value of an equality matcher on ``label``."""
        return next((m.value for m in self.matchers if m.label == label and m.op == "="), None)


@dataclass(frozen=True, slots=True)
class CounterSli:
    """An SLI read as counters: availability (bad = total selector + ``error``) or latency
    (bad = ``_count − _bucket{le}``)."""

    kind: str  # availability | latency
    total: Selector
    error: tuple[Matcher, ...] = ()  # availability: what the bad selector adds
    good: tuple[Matcher, ...] = ()  # availability counted by good events: what the good selector adds
    threshold_ms: float | None = None  # latency: le in milliseconds
    unit: str = "seconds"  # latency: unit of the le label

    def queries(self) -> SliQueries:
        """Bad and total rates with ``{{window}}``, as a Prometheus rule would write them."""
        total = rate_sum(self.total)
        if self.kind == "availability" and self.good:
            good = rate_sum(Selector(self.total.metric, (*self.total.matchers, *self.good)))
            return SliQueries(f"({total} - {good})", total)
        if self.kind == "availability":
            return SliQueries(rate_sum(Selector(self.total.metric, (*self.total.matchers, *self.error))), total)
        base = self.total.metric.removesuffix("_count")
        le = Matcher("le", "=", _le_text(self.threshold_ms or 0.0, self.unit))
        bucket = Selector(base + "_bucket", (*self.total.matchers, le))
        return SliQueries(f"({total} - {rate_sum(bucket)})", total)


def _le_text(ms: float, unit: str) -> str:
    return repr(ms / 1000.0 if unit == "seconds" else ms).removesuffix(".0")


def rate_sum(sel: Selector) -> str:
    return f"sum(rate({sel.text()}[{WINDOW}]))"


def normalise(query: str) -> str:
    """Sloth's ``{{.window}}`` (and spacing variants) as ``{{window}}``, whitespace collapsed."""
    return " ".join(re.sub(r"\{\{\s*\.window\s*\}\}", WINDOW, query).split())


def unknown_templates(query: str) -> list[str]:
    """Template variables other than the window (``{{.service}}``…): srekit cannot fill them."""
    return [m.group(0) for m in _TEMPLATE.finditer(query) if m.group(1) != "window"]


def strip_parens(text: str) -> str:
    """``((x))`` → ``x`` when the outer parentheses enclose the whole expression."""
    t = text.strip()
    while t.startswith("(") and t.endswith(")") and _closing(t, 0) == len(t) - 1:
        t = t[1:-1].strip()
    return t


def _closing(text: str, start: int) -> int:
    """Index of the parenthesis closing the one at ``start`` (quotes respected); -1 if none."""
    depth, quoted = 0, False
    for i in range(start, len(text)):
        c = text[i]
        if c == '"' and (i == 0 or text[i - 1] != "\\"):
            quoted = not quoted
        elif not quoted and c == "(":
            depth += 1
        elif not quoted and c == ")":
            depth -= 1
            if depth == 0:
                return i
    return -1


def split_top(text: str, op: str) -> tuple[str, str] | None:
    """``a OP b`` split at the one top-level ``op`` (outside parentheses, braces and quotes)."""
    depth, quoted, hits = 0, False, []
    for i, c in enumerate(text):
        if c == '"' and (i == 0 or text[i - 1] != "\\"):
            quoted = not quoted
        elif not quoted and c in "({[":
            depth += 1
        elif not quoted and c in ")}]":
            depth -= 1
        elif not quoted and depth == 0 and c == op:
            hits.append(i)
    if len(hits) != 1:
        return None
    return text[: hits[0]].strip(), text[hits[0] + 1 :].strip()


def parse_selector(text: str) -> Selector | None:
    """``metric{a="b", c=~"d"}`` → :class:`Selector`; ``None`` for anything else."""
    m = _SELECTOR.fullmatch(text)
    if not m:
        return None
    body = (m.group(2) or "").strip()
    matchers, pos = [], 0
    while pos < len(body):
        mm = _MATCHER.match(body, pos)
        if not mm or mm.end() == pos:
            return None
        value = unquote(mm.group(3))
        matchers.append(Matcher(mm.group(1), mm.group(2), value))
        pos = mm.end()
    return Selector(m.group(1), tuple(matchers))


def parse_rate_sum(text: str) -> Selector | None:
    """``sum(rate(sel[{{window}}]))`` (or ``increase``), in parentheses or not."""
    m = _RATE_SUM.fullmatch(strip_parens(text))
    return parse_selector(m.group(1)) if m else None


def latency_unit(metric: str) -> str:
    """Unit of a histogram's ``le`` label from its name (Prometheus naming: base units, so
    seconds unless the name says milliseconds)."""
    return "milliseconds" if re.search(r"_(milliseconds|ms)(_|$)", metric) else "seconds"


def _le_ms(value: str, unit: str) -> float | None:
    try:
        le = float(value)
    except ValueError:
        return None
    if not le > 0 or le == float("inf"):
        return None
    return le * 1000.0 if unit == "seconds" else le


def availability(bad: Selector, total: Selector) -> CounterSli | str:
    """One counter: bad is the total selector plus matchers."""
    if bad.metric != total.metric:
        return f"bad events read {bad.metric} but total reads {total.metric}: not one counter"
    missing = [m for m in total.matchers if m not in bad.matchers]
    extra = tuple(m for m in bad.matchers if m not in total.matchers)
    if missing or not extra:
        return 'the bad selector is not the total selector plus matchers (e.g. code=~"5..")'
    return CounterSli("availability", total, error=extra)


def latency(count: Selector, bucket: Selector, total: Selector) -> CounterSli | str:
    """One histogram: total ``X_count{m}``, good ``X_bucket{m, le="T"}`` (bad = count − bucket)."""
    if not total.metric.endswith("_count") or count != total:
        return f"total must be the histogram's _count series (got {total.text()})"
    base = total.metric.removesuffix("_count")
    le = bucket.value("le")
    if bucket.metric != base + "_bucket" or le is None or set(bucket.without("le").matchers) != set(total.matchers):
        return f'good events must be {base}_bucket with the total\'s matchers and le="T" (got {bucket.text()})'
    unit = latency_unit(base)
    ms = _le_ms(le, unit)
    if ms is None:
        return f'le="{le}" is not a finite positive bucket edge'
    return CounterSli("latency", total, threshold_ms=ms, unit=unit)


def sli_from_queries(bad_query: str, total_query: str) -> CounterSli | str:
    """Bad and total rate queries (with ``{{window}}``) as counters, or the reason they are not."""
    total = parse_rate_sum(total_query)
    if total is None:
        return f"total query is not sum(rate(<selector>[window])): {total_query}"
    bad = parse_rate_sum(bad_query)
    if bad is not None:
        return availability(bad, total)
    parts = split_top(strip_parens(bad_query), "-")
    if parts is None:
        return f"bad query is neither sum(rate(<selector>[window])) nor _count − _bucket{{le}}: {bad_query}"
    count, bucket = parse_rate_sum(parts[0]), parse_rate_sum(parts[1])
    if count is None or bucket is None:
        return f"bad query is a difference srekit cannot read as _count − _bucket{{le}}: {bad_query}"
    if count == total and bucket.metric == total.metric:  # total − good: availability counted by good events
        return sli_from_selectors(bucket, total, good=True)
    return latency(count, bucket, total)


def sli_from_ratio(ratio_query: str) -> CounterSli | str:
    """A raw error-ratio query ``bad / total`` of two rate sums."""
    parts = split_top(strip_parens(ratio_query), "/")
    if parts is None:
        return f"error-ratio query is not one division of two sums: {ratio_query}"
    return sli_from_queries(*parts)


def sli_from_selectors(good_or_bad: Selector, total: Selector, *, good: bool) -> CounterSli | str:
    """Selectors without rate (Pyrra, slo-generator): ``good`` — a ``_bucket{le}`` is latency,
    else availability where good events are total plus matchers (bad = total − good)."""
    if not good:
        return availability(good_or_bad, total)
    if good_or_bad.metric.endswith("_bucket") and good_or_bad.value("le") is not None:
        return latency(total, good_or_bad, total)
    found = availability(good_or_bad, total)
    if isinstance(found, str):
        return found.replace("bad selector", "good selector")
    return CounterSli("availability", total, good=found.error)
