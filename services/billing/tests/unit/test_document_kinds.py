"""Every kind of document billing issues, as EN 16931 CII and Factur-X PDF: an invoice,
its correction (384, "Rechnungskorrektur", the signed difference) and its cancellation
(381 with positive amounts negating it in full), each referring to the invoice (BT-25,
BT-26), each passing the XSD and EN 16931 (and BR-DE for a buyer with a Leitweg-ID).

The documents are made from what the use cases issued over the in-memory unit of work,
with the real rule check before each number (ADR 0025)."""

from __future__ import annotations

import io
from collections.abc import Callable
from decimal import Decimal

import pytest
from kontor_billing.application.document_check import rules_check
from kontor_billing.application.documents import InvoiceDocuments, render
from kontor_billing.application.invoicing import BillingPolicy, cancel_invoice
from kontor_billing.documents.cii import build_cii
from kontor_billing.documents.from_invoice import EXAMPLE_SELLER, document_of
from kontor_billing.documents.validation import validate
from kontor_billing.domain.invoice import INTRA_COMMUNITY_NOTE, Invoice
from kontor_billing.store.memory_documents import InMemoryDocumentFiles
from kontor_contracts.events.orders import OrderCancelled, OrderPlaced, VatExemption
from kontor_servicekit.domain_errors import NotFound
from lxml import etree
from pypdf import PdfReader

from services.billing.tests.unit.test_invoice_life import Billing, confirmed, placed, returned

pytestmark = pytest.mark.unit

NS = {
    "rsm": "urn:un:unece:uncefact:data:standard:CrossIndustryInvoice:100",
    "ram": "urn:un:unece:uncefact:data:standard:ReusableAggregateBusinessInformationEntity:100",
}
LEITWEG = "04011000-12345-03"


def xpath(xml: bytes, path: str) -> list[str]:
    return [str(v) for v in etree.fromstring(xml).xpath(path, namespaces=NS)]


def intra_community() -> OrderPlaced:
    event = placed(buyer_vat_id="ATU13585627")
    zero = [
        line.model_copy(update={"vat_rate": Decimal("0"), "line_vat": Decimal("0.00")})
        for line in event.lines
    ]
    exemption = VatExemption(
        category="K", reason=INTRA_COMMUNITY_NOTE, vies_confirmation="confirmed"
    )
    return event.model_copy(update={"lines": zero, "vat_exemption": exemption})


ORDERS: dict[str, tuple[Callable[[], OrderPlaced], bool]] = {
    "domestic": (placed, False),
    "xrechnung": (lambda: placed(buyer_reference=LEITWEG), False),
    "intra-community": (intra_community, False),
    "small business": (placed, True),
}


async def life(name: str = "domestic") -> Billing:
    """An order invoiced, partly refunded (a correction) and then cancelled (Storno)."""
    order, small_business = ORDERS[name]
    billing = Billing(BillingPolicy(check_documents=rules_check(), small_business=small_business))
    await billing.deliver(order(), confirmed())
    await billing.deliver(returned("10.00", (1, "TEE-RED-M", 1)))
    await billing.run(
        lambda uow: cancel_invoice(
            uow, "RE-2026-000001", "Adresse falsch", clock=billing.clock, policy=billing.policy
        )
    )
    return billing


def pdf_text(pdf: bytes) -> str:
    return " ".join(" ".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf)).pages).split())


def by_kind(billing: Billing) -> dict[str, Invoice]:
    return {d.kind: d for d in billing.documents()}


@pytest.mark.parametrize("name", sorted(ORDERS))
async def test_every_kind_passes_the_rules_and_refers_to_its_invoice(name: str) -> None:
    billing = await life(name)
    kinds = by_kind(billing)
    assert sorted(kinds) == ["cancellation", "correction", "invoice"]
    invoice = kinds["invoice"]
    xrechnung = name == "xrechnung"
    for kind, code in (("invoice", "380"), ("correction", "384"), ("cancellation", "381")):
        document = kinds[kind]
        # the XML alone (the PDF embeds exactly it: test_documents.py, the tests below)
        xml = build_cii(document_of(document, EXAMPLE_SELLER))
        assert validate(xml, xrechnung=xrechnung) == []
        assert xpath(xml, "//rsm:ExchangedDocument/ram:TypeCode/text()") == [code]
        if kind == "invoice":
            continue
        assert xpath(xml, "//ram:InvoiceReferencedDocument/ram:IssuerAssignedID/text()") == [
            invoice.number
        ]
        assert xpath(
            xml, "//ram:InvoiceReferencedDocument/ram:FormattedIssueDateTime/*/text()"
        ) == [invoice.issue_date.strftime("%Y%m%d")]
        if xrechnung:
            assert xpath(xml, "//ram:BuyerReference/text()") == [LEITWEG]


async def test_a_cancellation_negates_the_invoice_in_full_with_positive_credit_amounts() -> None:
    kinds = by_kind(await life())
    invoice, cancellation = kinds["invoice"], kinds["cancellation"]
    assert cancellation.gross_total == -invoice.gross_total  # stored: negative, in full
    data = document_of(cancellation, EXAMPLE_SELLER)
    assert data.gross_total == invoice.gross_total  # a credit note (381): positive
    assert [line.quantity for line in data.lines] == [Decimal(x.quantity) for x in invoice.lines]
    assert [(r.rate, r.basis, r.vat) for r in data.breakdown] == [
        ((r.vat_rate * 100).normalize(), r.net, r.vat) for r in invoice.vat_breakdown
    ]
    text = pdf_text(render(cancellation, EXAMPLE_SELLER, None).pdf)
    assert f"Stornorechnung {cancellation.number}" in text
    assert f"Bezieht sich auf Rechnung {invoice.number} vom 01.06.2026" in text
    assert "Gutschrift" not in text


async def test_a_correction_is_a_rechnungskorrektur_never_a_gutschrift() -> None:
    kinds = by_kind(await life())
    correction = kinds["correction"]
    rendered = render(correction, EXAMPLE_SELLER, None)
    text = pdf_text(rendered.pdf)
    assert f"Rechnungskorrektur {correction.number}" in text
    assert "Gutschrift" not in text
    assert xpath(rendered.xml, "//ram:GrandTotalAmount/text()") == ["-10.00"]


async def test_cancelling_the_order_after_its_invoice_is_a_valid_cancellation_too() -> None:
    billing = Billing(BillingPolicy(check_documents=rules_check()))
    await billing.deliver(placed(), confirmed())
    await billing.deliver(OrderCancelled(order_id="o-1", reason="customer"))
    [cancellation] = billing.documents("cancellation")
    assert validate(build_cii(document_of(cancellation, EXAMPLE_SELLER)), xrechnung=False) == []


async def test_a_correction_is_served_under_credit_notes_and_only_a_correction() -> None:
    kinds = by_kind(await life())
    files = InMemoryDocumentFiles(list(kinds.values()))
    documents = InvoiceDocuments(files, seller=lambda: EXAMPLE_SELLER)
    number = kinds["correction"].number
    xml = await documents.file(number, "xml", kind="correction")
    assert xml.filename == f"{number}.xml"
    assert xpath(xml.data, "//rsm:ExchangedDocument/ram:TypeCode/text()") == ["384"]
    with pytest.raises(NotFound):
        await documents.file(kinds["invoice"].number, "pdf", kind="correction")
    # the cancellation under /invoices/{ST-number}, like GET /invoices/{number}
    storno = await documents.file(kinds["cancellation"].number, "xml")
    assert xpath(storno.data, "//rsm:ExchangedDocument/ram:TypeCode/text()") == ["381"]
