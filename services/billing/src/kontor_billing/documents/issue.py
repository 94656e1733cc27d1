"""Build, validate and render: :func:`issue_documents` or :class:`DocumentInvalid`."""

from __future__ import annotations

from dataclasses import dataclass

from kontor_billing.documents.cii import build_cii
from kontor_billing.documents.errors import DocumentInvalid
from kontor_billing.documents.model import DocumentData
from kontor_billing.documents.pdf import facturx_pdf
from kontor_billing.documents.validation import validate


@dataclass(frozen=True)
class Rendered:
    xml: bytes
    pdf: bytes


def issue_documents(data: DocumentData) -> Rendered:
    """The validated XML and the Factur-X PDF of a document, or :class:`DocumentInvalid`."""
    xml = build_cii(data)
    failures = validate(xml, xrechnung=data.xrechnung)
    if failures:
        raise DocumentInvalid(data.number, failures)
    return Rendered(xml=xml, pdf=facturx_pdf(data, xml))
