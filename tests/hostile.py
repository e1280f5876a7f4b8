"""A corpus of hostile strings, one or more per class of attack or breakage, and a copy of the
samples with them placed in every piece of user text srekit writes out: the service, the
journeys (config, telemetry, series, incidents), owners, the on-call team, incident ids,
titles and causes, alert names of the pages log, toil tasks, categories and engineers.

Names from ``service.yaml`` may not hold control characters (the schema refuses them), so
those appear only in the CSV fields the loaders accept them in.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import yaml

#: class → hostile text (any field).
CORPUS: dict[str, str] = {
    "script tag": '<script>alert("xss-script")</script>',
    "event handler": "<img src=x onerror=alert(document.domain)>",
    "svg handler": "<svg/onload=alert('svg')>",
    "javascript URL (Markdown)": "[click me](javascript:alert('md-link'))",
    "javascript URL (HTML)": '<a href="javascript:alert(1)">open</a>',
    "javascript URL (entity)": "[x](&#106;avascript:alert(1)) java&#x09;script:alert(1)",
    "Markdown image": "![logo](https://evil.example/logo.png)",
    "autolinks": "<https://evil.example/a> www.evil.example mail@evil.example report.md //localhost:8080/x",
    "HTML comment": "before<!-- hidden -->after <!--",
    "CSS url()": '<div style="background:url(//evil.example/bg.png)">bg</div>',
    "CSS @import": "<style>@import url(https://evil.example/a.css);</style>",
    "href text": "see href=https://evil.example/x and src=//cdn.evil.example/y.js srcset=//e/1x",
    "srcset": '<img srcset="https://evil.example/a.png 1x" alt="">',
    "iframe srcdoc": '<iframe srcdoc="<script>alert(1)</script>"></iframe>',
    "meta refresh": '<meta http-equiv="refresh" content="0;url=https://evil.example">',
    "base": '<base href="https://evil.example/">',
    "formula =": '=HYPERLINK("https://evil.example","click")',
    "formula +": '+cmd|" /C calc"!A0',
    "formula -": "-2+3+cmd|' /C calc'!A0",
    "formula @": "@SUM(1+1)*cmd|' /C calc'!A0",
    "YAML breakers": "a: b # c - [d, {e: f}] &x *x !!python/object:os.system |",
    "PromQL breakers": 'x"} or vector(1) # \\ {{',
    "Go template": '{{ .Labels.instance }}{{ template "x" }}}}',
    "Markdown structure": "# H1 | a | **b** _c_ `d` ~~e~~ > f [^1] :smile: @here",
    "math": r"$\frac{1}{2}$ and $$x$$ \(y\)",
    "traversal": "../../../etc/passwd",
    "windows path": "..\\..\\Windows\\win.ini C:\\x",
    "absolute path": "/etc/passwd",
    "look-alikes": "ｓｈｏｐ＜script＞alert(1)＜/script＞ раураӏ",
    "bidi and zero width": "evil\u202egnp.exe zero\u200bwidth \ufeffbom",
    "emoji": "🔥 fire 🧯",
    "entities": "&lt;script&gt; &amp;lt; &#60;b&#62;",
}

#: Control characters: only where the loaders let them through (incident and toil CSV text).
CONTROL: dict[str, str] = {
    "formula tab": "\t=1+1",
    "formula CR": "\r=1+1",
    "newlines": "line one\nline two\r\n# not a heading\n<script>alert('nl')</script>",
    "NUL and escape": "nul\x00byte \x1b[31mred\x1b[0m \x07bell",
}

LONG = "L" * 4000 + "<img src=x onerror=alert('long')>"

SERVICE = "shop<img src=x onerror=alert(document.domain)>[x](javascript:alert(1))../{{ .Value }}\"'"
JOURNEYS = {
    "checkout": '<script>alert("j1")</script> ../../pay "q\\ }',
    "browse": "![i](https://evil.example/i.png) =cmd|' /C calc'!A0 {{ .Labels }}",
    "search": "ｓｅａｒｃｈ＜script＞ $\\alpha$ $\\nosuchmacro$ <!-- x --> www.evil.example \u202eevil",
    "refunds": "refunds</td><svg onload=alert(4)> ${{7*7}} `rm -rf`",
}
#: The samples' region label values (telemetry label ``region``, shown in the breakdown).
REGIONS = {
    "eu-west-1": '<img src=x onerror=alert("region")> =HYPERLINK("https://evil.example")',
    "us-east-1": "us-east-1 [r](javascript:alert(2)) {{ .Value }} $\\beta$",
}
OWNER = '=HYPERLINK("https://evil.example","owner")'
JOURNEY_OWNER = "@SUM(A1:A2) <b onmouseover=alert(1)>"
OWNERS = {
    "slo": "-2+3 <i>slo</i>",
    "alerting": "+alert [a](javascript:alert(1))",
    "incidents": "O" * 100 + "<b>",
    "toil": "../toil",
    "backlog": "`code` | pipe",
}
TEAM = "**team** | <i>x</i> \\\n# Heading\n<script>alert('team')</script>"
PARAMETER = "<script>alert('param')</script> $\\nosuchmacro$ $\\alpha$ {{x}} =1+1 ../x"

#: Every hostile text placed, for the checks that it comes out as text.
ALL_TEXT = [*CORPUS.values(), *CONTROL.values(), LONG, SERVICE, *JOURNEYS.values(), OWNER, JOURNEY_OWNER]


def _cycle(values: list[str], n: int) -> list[str]:
    return [values[i % len(values)] for i in range(n)]


def hostile_samples(samples: Path, dest: Path) -> Path:
    """A copy of ``samples`` in ``dest`` with hostile text everywhere; returns its service.yaml."""
    shutil.copytree(samples, dest)
    texts = [*CORPUS.values(), *CONTROL.values(), LONG]
    _config(dest / "service.yaml")
    tel = pd.read_parquet(dest / "telemetry.parquet")
    tel["journey"] = tel["journey"].map(JOURNEYS)
    tel["region"] = tel["region"].map(REGIONS)  # label values land in the breakdown tables
    tel.to_parquet(dest / "telemetry.parquet", index=False)
    series = pd.read_csv(dest / "series.csv", dtype=str, keep_default_na=False)
    series["journey"] = series["journey"].map(lambda j: JOURNEYS.get(j, j))
    series.to_csv(dest / "series.csv", index=False)
    inc = pd.read_csv(dest / "incidents.csv", dtype=str, keep_default_na=False)
    n = len(texts)  # one incident per hostile text: every text is a title, a cause and (cut) an id
    inc = pd.concat([inc] * (n // len(inc) + 1), ignore_index=True).head(n)
    inc["id"] = [f"{t[:60]}#{i}" for i, t in enumerate(_cycle(list(CORPUS.values())[::-1], n))]
    inc["title"] = _cycle(texts, n)
    inc["cause"] = _cycle(texts[7:] + texts[:7], n)
    inc["journey"] = inc["journey"].map(lambda j: JOURNEYS.get(j, j))
    inc["action_items_open"] = "1"  # every incident in the follow-up tracker (HTML, report.md, CSV)
    inc.to_csv(dest / "incidents.csv", index=False, lineterminator="\r\n")
    pages = pd.read_csv(dest / "pages.csv", dtype=str, keep_default_na=False)
    names = sorted(pages["alert"].unique())
    pages["alert"] = pages["alert"].map(dict(zip(names, _cycle(texts[::2] + texts[1::2], len(names)), strict=True)))
    pages.to_csv(dest / "pages.csv", index=False)
    toil = pd.read_csv(dest / "toil.csv", dtype=str, keep_default_na=False)
    tasks = sorted(toil["task"].unique())
    toil["task"] = toil["task"].map(dict(zip(tasks, _cycle(texts[3:], len(tasks)), strict=True)))
    toil["category"] = toil["category"].map(lambda c: CORPUS["formula ="] if c == "interrupt" else c)
    toil["engineer"] = toil["engineer"].map(lambda e: CORPUS["event handler"] if e == "carol" else e)
    rejected = [  # rows the loader quarantines, hostile in every column
        {"date": CORPUS["formula ="], "task": CORPUS["script tag"], "minutes": "-2+3", "category": CORPUS["formula @"]},
        {"date": "2026-08-03", "task": CORPUS["formula +"], "minutes": "=1+1", "engineer": CONTROL["formula tab"]},
        {"date": "2026-08-04", "task": CORPUS["formula -"], "minutes": "-5", "engineer": CONTROL["formula CR"]},
    ]
    toil = pd.concat([toil, pd.DataFrame(rejected)], ignore_index=True).fillna("")
    toil.to_csv(dest / "toil.csv", index=False, lineterminator="\r\n")
    return dest / "service.yaml"


def _config(path: Path) -> None:
    doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    doc["service"] = SERVICE
    doc["owner"] = OWNER
    for j in doc["journeys"]:
        j["name"] = JOURNEYS[j["name"]]
        if "owner" in j:
            j["owner"] = JOURNEY_OWNER
    doc["oncall"]["team"] = TEAM
    doc["owners"].update(OWNERS)
    for c in doc.get("corrections", []):  # maintenance windows (issue 16): hostile reason, renamed journeys
        c["reason"] = f"{OWNER} {c['reason']}"
        if isinstance(c.get("slos"), list):
            c["slos"] = [JOURNEYS.get(n, n) for n in c["slos"]]
    path.write_text(yaml.safe_dump(doc, allow_unicode=True, sort_keys=False), encoding="utf-8")
