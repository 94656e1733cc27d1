"""What a refused document reports: light on purpose (no renderer is imported with it)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Failure:
    rule: str
    rule_set: str
    text: str


class DocumentInvalid(Exception):
    """The document broke EN 16931, XRechnung or the XSD: it is not issued."""

    def __init__(self, number: str, failures: list[Failure]) -> None:
        self.number = number
        self.failures = failures
        self.rule_ids = sorted({f.rule for f in failures})
        super().__init__(f"document {number} is invalid: {', '.join(self.rule_ids)}")
