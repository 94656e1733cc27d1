"""The e-invoice rules a document breaks, from its XML alone: what is checked before a
number is taken (ADR 0025). Imports no PDF renderer (weasyprint loads for seconds)."""

from __future__ import annotations

from kontor_billing.documents.cii import build_cii
from kontor_billing.documents.model import DocumentData
from kontor_billing.documents.validation import validate


def broken_rules(data: DocumentData) -> list[str]:
    """The rule ids the document's XML breaks (XSD, EN 16931, BR-DE), without a PDF:
    empty when it may be issued. About 10 ms once the rule sets are compiled."""
    failures = validate(build_cii(data), xrechnung=data.xrechnung)
    return sorted({f.rule for f in failures})
