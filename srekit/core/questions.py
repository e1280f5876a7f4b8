"""Small types shared by every analysis section of the report."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class OpenQuestion:
    """A default the analysis took, stated so a human can confirm or correct it
    (Output Contract §8)."""

    topic: str  # stable id, e.g. "slo_targets", "oncall_coverage"
    question: str  # what a human has to decide
    assumption: str  # what srekit assumed meanwhile
    section: str  # report section key that depends on it, e.g. "alerting"

    def __post_init__(self) -> None:
        if not (self.topic and self.question and self.assumption and self.section):
            raise ValueError("an open question needs topic, question, assumption and section")

    def to_dict(self) -> dict[str, Any]:
        return {"topic": self.topic, "question": self.question, "assumption": self.assumption, "section": self.section}
