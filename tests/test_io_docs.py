"""The input and service.yaml references stay complete."""

from __future__ import annotations

import dataclasses

from conftest import ROOT

from srekit.core.limits import Limits
from srekit.inputs import aggregate as ag
from srekit.inputs import config
from srekit.inputs import loaders as io


def test_service_yaml_doc_lists_every_key() -> None:
    text = (ROOT / "docs" / "service-yaml.md").read_text()
    sections = {
        config.PrometheusConfig: "prometheus",
        config.SLOConfig: "slo",
        config.OncallConfig: "oncall",
        config.AlertingConfig: "alerting",
        config.ToilConfig: "toil",
        config.ReportConfig: "report",
    }
    missing = []
    for cls, name in sections.items():
        assert f"## `{name}`" in text
        body = text.split(f"## `{name}`", 1)[1].split("\n## ", 1)[0]
        spelled = {"imports": "import"}  # keys whose YAML spelling is a Python keyword
        missing += [
            f"{name}.{f.name}" for f in dataclasses.fields(cls) if f"| `{spelled.get(f.name, f.name)}` |" not in body
        ]
    top = set(config.ServiceDoc.model_fields)  # every top-level key of the schema, new ones included
    missing += [k for k in top if f"| `{k}` |" not in text]
    missing += [k for k in config.DATA_KINDS if f"| `{k}` |" not in text]
    limits = text.split("## `limits`", 1)[1].split("\n## ", 1)[0]
    missing += [f"limits.{name}" for name in Limits.names() if f"| `{name}` |" not in limits]
    corrections = text.split("## `corrections`", 1)[1].split("\n## ", 1)[0]
    missing += [f"corrections.{k}" for k in config.CorrectionDoc.model_fields if f"| `{k}` |" not in corrections]
    assert missing == []


def test_every_request_reject_reason_is_documented() -> None:
    text = (ROOT / "docs" / "aggregate.md").read_text()
    reasons = [r for r in ag.REASONS if r] + [ag.R_FIELDS]
    assert [r for r in reasons if f"| `{r}` |" not in text] == []


def test_inputs_doc_covers_every_kind_and_preset() -> None:
    text = (ROOT / "docs" / "inputs.md").read_text()
    for kind in io.KINDS:
        assert f"## {kind}" in text
    from srekit.inputs import presets

    for name in presets.PRESETS:
        assert f"| `{name}` |" in text
