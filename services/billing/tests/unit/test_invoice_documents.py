"""An issued invoice's documents, over the in-memory store: rendered once from billing's own
invoice (``documents/from_invoice.py``), validated, then always served as stored; an invalid
one is refused with its rule ids and not stored (issue 11)."""

from __future__ import annotations

import dataclasses
import io
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from kontor_billing.application.documents import InvoiceDocuments, render
from kontor_billing.documents.from_invoice import EXAMPLE_SELLER, SAMPLE_NOTE
from kontor_billing.documents.model import Seller
from kontor_billing.documents.validation import validate
from kontor_billing.domain.invoice import Invoice, InvoiceLine, Party
from kontor_billing.store.memory_documents import InMemoryDocumentFiles
from kontor_servicekit.domain_errors import Conflict, NotFound
from pypdf import PdfReader

pytestmark = pytest.mark.unit

D = Decimal
ANNA = Party("Anna Muster", "anna@example.de", "Hauptstr. 1", "10115", "Berlin", "DE")
JANSEN = Party(
    "Jan Jansen", "inkoop@jansen.nl", "Keizersgracht 1", "1015 CJ", "Amsterdam", "NL", "Jansen B.V."
)


def invoice(number: str, buyer: Party = ANNA, vat_id: str | None = None) -> Invoice:
    exempt = vat_id is not None
    lines = [
        InvoiceLine(
            1, "TEE-RED-M", "T-Shirt rot, M", 2, D("19.99"), D("0.19"), D("39.98"), D("7.60")
        ),
        InvoiceLine(2, "BOOK-1", "Kochbuch", 1, D("18.69"), D("0.07"), D("18.69"), D("1.31")),
    ]
    if exempt:
        lines = [dataclasses.replace(line, vat_rate=D("0"), vat=D("0.00")) for line in lines]
    return Invoice.issue(
        invoice_id=f"id-{number}",
        number=number,
        order_id=f"o-{number}",
        order_number="B-2026-000007",
        buyer=buyer,
        currency="EUR",
        lines=lines,
        issued_at=datetime(2026, 6, 1, 10, 0, tzinfo=UTC),
        buyer_vat_id=vat_id,
    )


def service(
    files: InMemoryDocumentFiles, seller: Seller = EXAMPLE_SELLER
) -> tuple[InvoiceDocuments, list[str]]:
    rendered: list[str] = []

    def counting(inv: Invoice, s: Seller, reference: str | None) -> object:
        rendered.append(inv.number)
        return render(inv, s, reference)

    return InvoiceDocuments(files, seller=lambda: seller, renderer=counting), rendered  # type: ignore[arg-type]


async def test_rendered_once_then_served_as_stored() -> None:
    files = InMemoryDocumentFiles([invoice("RE-2026-000001")])
    documents, rendered = service(files)
    xml = await documents.file("RE-2026-000001", "xml")
    assert xml.media_type == "application/xml" and xml.filename == "RE-2026-000001.xml"
    assert validate(xml.data, xrechnung=False) == []
    assert SAMPLE_NOTE.encode() in xml.data  # the example seller marks its documents as samples
    pdf = await documents.file("RE-2026-000001", "pdf")
    assert pdf.media_type == "application/pdf"
    assert PdfReader(io.BytesIO(pdf.data)).attachments["factur-x.xml"] == [xml.data]
    again = await documents.file("RE-2026-000001", "pdf")
    assert again.data == pdf.data
    assert rendered == ["RE-2026-000001"]
    assert files.writes == 2


async def test_the_stored_invoice_maps_to_a_valid_document_per_rate() -> None:
    files = InMemoryDocumentFiles([invoice("RE-2026-000002")])
    xml = (await service(files)[0].file("RE-2026-000002", "xml")).data
    for fragment in (
        b"<ram:RateApplicablePercent>19.00</ram:RateApplicablePercent>",
        b"<ram:RateApplicablePercent>7.00</ram:RateApplicablePercent>",
        b"<ram:CalculatedAmount>7.60</ram:CalculatedAmount>",
        b"<ram:CalculatedAmount>1.31</ram:CalculatedAmount>",
        b"<ram:GrandTotalAmount>67.58</ram:GrandTotalAmount>",
    ):
        assert fragment in xml, fragment


async def test_an_intra_community_invoice_is_category_k_with_both_vat_ids() -> None:
    files = InMemoryDocumentFiles([invoice("RE-2026-000003", JANSEN, "NL123456789B01")])
    xml = (await service(files)[0].file("RE-2026-000003", "xml")).data
    assert validate(xml, xrechnung=False) == []
    assert b"<ram:CategoryCode>K</ram:CategoryCode>" in xml
    assert b"VATEX-EU-IC" in xml and b"NL123456789B01" in xml


async def test_a_buyer_with_a_leitweg_id_gets_an_xrechnung() -> None:
    files = InMemoryDocumentFiles(
        [invoice("RE-2026-000004")], buyer_references={"RE-2026-000004": "04011000-12345-03"}
    )
    xml = (await service(files)[0].file("RE-2026-000004", "xml")).data
    assert validate(xml, xrechnung=True) == []
    assert b"<ram:BuyerReference>04011000-12345-03</ram:BuyerReference>" in xml


async def test_an_unknown_number_is_not_found() -> None:
    with pytest.raises(NotFound):
        await service(InMemoryDocumentFiles([]))[0].file("RE-2026-000099", "pdf")


async def test_an_invalid_document_is_refused_with_its_rule_ids_and_not_stored() -> None:
    files = InMemoryDocumentFiles([invoice("RE-2026-000005")])
    no_tax_ids = dataclasses.replace(EXAMPLE_SELLER, vat_id=None, tax_number=None)
    with pytest.raises(Conflict) as refused:
        await service(files, no_tax_ids)[0].file("RE-2026-000005", "xml")
    assert "BR-S-02" in refused.value.details["rule_ids"]
    assert files.files == {}
