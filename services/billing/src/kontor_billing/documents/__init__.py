"""Invoice documents a person and a machine can read: EN 16931 CII XML (XRechnung for
buyers with a Leitweg-ID), a PDF with every §14 UStG field and the Factur-X PDF/A-3.

:func:`issue_documents` builds and validates them; a document that fails a rule is not
issued (:class:`DocumentInvalid` names the failed rule ids).
"""

from __future__ import annotations

from dataclasses import dataclass

from kontor_billing.documents.cii import build_cii
from kontor_billing.documents.model import DocumentData
from kontor_billing.documents.pdf import facturx_pdf
from kontor_billing.documents.validation import Failure, validate

__all__ = ["DocumentInvalid", "Rendered", "issue_documents"]


@dataclass(frozen=True)
class Rendered:
    xml: bytes
    pdf: bytes


class DocumentInvalid(Exception):
    """The document broke EN 16931, XRechnung or the XSD: it is not issued."""

    def __init__(self, number: str, failures: list[Failure]) -> None:
        self.number = number
        self.failures = failures
        self.rule_ids = sorted({f.rule for f in failures})
        super().__init__(f"document {number} is invalid: {', '.join(self.rule_ids)}")


def issue_documents(data: DocumentData) -> Rendered:
    """The validated XML and the Factur-X PDF of a document, or :class:`DocumentInvalid`."""
    xml = build_cii(data)
    failures = validate(xml, xrechnung=data.xrechnung)
    if failures:
        raise DocumentInvalid(data.number, failures)
    return Rendered(xml=xml, pdf=facturx_pdf(data, xml))
