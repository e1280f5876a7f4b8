"""The Prometheus vocabulary every layer shares: label-value quoting, the ``le`` text of a
bucket edge, an SLO's label matchers and its bad/total rate queries.

The telemetry pull (:mod:`srekit.inputs.prometheus`), the SLI definitions in the report
(:mod:`srekit.analysis.slo`) and the exported rules (:mod:`srekit.exports.prometheus`) all
build their queries from these, so a threshold or a selector means the same series everywhere.
"""

from __future__ import annotations

import re

from srekit.core.errors import ConfigError
from srekit.core.spec import SLOSpec
from srekit.inputs.config import PrometheusConfig


def le_text(threshold_ms: float, unit: str) -> str:
    """The ``le`` label value of a bucket edge in the histogram's unit (shortest text,
    as Go's client writes it: 0.25, 1, 2.5). ``unit`` is ``seconds``/``s`` or
    ``milliseconds``/``ms``, the spellings the Prometheus pull accepts
    (``srekit.inputs.prometheus.le_to_ms``); anything else is a :class:`ConfigError` rather than a
    query on a bucket that does not exist."""
    if unit in ("seconds", "s"):
        value = threshold_ms / 1000.0
    elif unit in ("milliseconds", "ms"):
        value = threshold_ms
    else:
        raise ConfigError(
            f"service.yaml: prometheus.latency_unit {unit!r} is not a unit of the histogram's le label. "
            "fix: use seconds or milliseconds"
        )
    return repr(float(value)).removesuffix(".0")


_PROMQL_ESCAPES = {"\\": "\\\\", '"': '\\"', "\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _escaped(c: str) -> str:
    n = ord(c)
    if n < 32 or n == 127:
        return f"\\x{n:02x}"  # a byte escape: the ASCII character itself
    if 0x80 <= n <= 0x9F or n in (0x2028, 0x2029, 0xFFFD):
        # C1 controls, line separators, and U+FFFD (Prometheus' lexer reads a raw one as invalid
        # UTF-8): the code point (\\x would be a lone byte)
        return f"\\u{n:04x}"
    return c


def quote(value: str) -> str:
    """The body of a double-quoted PromQL string (a label value in a selector or a series):
    ``\\`` and ``"`` escaped, line breaks and tabs as ``\\n``/``\\r``/``\\t``, other C0
    controls as ``\\xNN``, C1 controls (NEL among them), the line and paragraph separators and
    U+FFFD as ``\\uNNNN`` (Go string escapes, which PromQL reads): the text holds no control character or
    line break, so a YAML file or a split into lines keeps it whole. Every other character, ``}``,
    ``{``, ``,`` and non-ASCII included, is literal inside the quotes."""
    return "".join(_PROMQL_ESCAPES.get(c) or _escaped(c) for c in value)


_GO_ESCAPE = re.compile(r"\\(x[0-9a-fA-F]{2}|u[0-9a-fA-F]{4}|U[0-9a-fA-F]{8}|[0-7]{3}|.)", re.S)
_GO_CHARS = {"n": "\n", "r": "\r", "t": "\t", "a": "\a", "b": "\b", "f": "\f", "v": "\v"}


def unquote(body: str) -> str:
    """The text of a double-quoted PromQL string's body: Go's escapes decoded (``\\n``,
    ``\\x1b``, ``\\u0085``, ``\\U0001F600``, octal ``\\033``, ``\\"``, ``\\\\``); the inverse of
    :func:`quote`. ``\\x80``–``\\xff`` (a lone byte in Go, which ``quote`` never writes) read as the
    code point; an escape of no character (a surrogate, beyond U+10FFFF) stays as written."""

    def one(m: re.Match[str]) -> str:
        e = m.group(1)
        if len(e) == 1:
            return _GO_CHARS.get(e, e)
        code = int(e, 8) if e[0].isdigit() else int(e[1:], 16)
        return m.group(0) if code > 0x10FFFF or 0xD800 <= code <= 0xDFFF else chr(code)

    return _GO_ESCAPE.sub(one, body)


def base_matchers(prom: PrometheusConfig, journey: str) -> str:
    """Label matchers shared by an SLO's queries: the configured selector and the journey."""
    parts = [m for m in (prom.selector.strip().strip(","), f'{prom.journey_label}="{quote(journey)}"') if m]
    return ",".join(parts)


def sli_queries(spec: SLOSpec, prom: PrometheusConfig, window: str) -> tuple[str, str]:
    """``(bad_rate, total_rate)`` PromQL for a request-based SLI over ``window``."""
    base = base_matchers(prom, spec.journey)
    if spec.sli == "availability":
        errors = f'{prom.status_label}=~"{quote(prom.error_status_regex)}"'
        bad = f"sum(rate({prom.request_counter}{{{base},{errors}}}[{window}]))"
        total = f"sum(rate({prom.request_counter}{{{base}}}[{window}]))"
    elif spec.sli == "latency":
        assert spec.threshold_ms is not None
        h = prom.latency_histogram
        le = le_text(spec.threshold_ms, prom.latency_unit)
        total = f"sum(rate({h}_count{{{base}}}[{window}]))"
        bad = f'({total} - sum(rate({h}_bucket{{{base},le="{le}"}}[{window}])))'
    else:
        raise ValueError(f"{spec.name}: a {spec.sli} SLI has no request counter to query in Prometheus")
    return bad, total


def exportable(spec: SLOSpec) -> bool:
    """Request-based SLIs map to Prometheus counters; timeslice SLIs over a gauge do not."""
    return spec.sli in ("availability", "latency")
