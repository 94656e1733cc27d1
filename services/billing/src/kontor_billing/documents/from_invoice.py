"""Billing's stored invoice (``domain.invoice.Invoice``) plus a seller -> DocumentData.

Kept small on purpose: when the invoice grows (supply date, buyer language, corrections,
a Leitweg-ID, coupons as allowances), this is the one place to map it.
"""

from __future__ import annotations

from decimal import Decimal

from kontor_billing.documents.model import (
    EXEMPTION,
    Buyer,
    DocumentData,
    DocumentKind,
    Line,
    Note,
    Seller,
    VatCategory,
    VatRow,
)
from kontor_billing.domain.invoice import Invoice
from kontor_billing.domain.seller import EXAMPLE_SELLER as EXAMPLE_SELLER_DATA
from kontor_billing.domain.seller import SAMPLE_NOTE
from kontor_billing.domain.seller import Seller as SellerData

SUPPLY_IS_ISSUE_DATE = "Leistungsdatum entspricht Rechnungsdatum"


def category_of(invoice: Invoice, rate: Decimal) -> VatCategory:
    if rate > 0:
        return VatCategory.STANDARD
    if invoice.buyer_vat_id and invoice.buyer.country != "DE":
        return VatCategory.INTRA_COMMUNITY
    return VatCategory.ZERO


def seller_of(seller: SellerData) -> Seller:
    """The seller snapshot an invoice was issued with, as the documents need it."""
    return Seller(
        name=seller.name,
        street=seller.street,
        postcode=seller.postcode,
        city=seller.city,
        country=seller.country,
        email=seller.email or "",
        legal_form=seller.legal_form,
        vat_id=seller.vat_id,
        tax_number=seller.tax_number,
        registry=seller.registry,
        managing_directors=tuple(seller.managing_directors),
        iban=seller.iban,
        bic=seller.bic,
        phone=seller.phone,
        sample=seller.sample,
    )


#: The example seller ``make run`` starts with (the domain's one, as documents read it):
#: every document issued with it is a sample.
EXAMPLE_SELLER = seller_of(EXAMPLE_SELLER_DATA)


def document_of(
    invoice: Invoice, seller: Seller, *, buyer_reference: str | None = None
) -> DocumentData:
    """``seller`` is the fallback for an invoice issued before it kept its seller's snapshot."""
    if invoice.seller is not None:
        seller = seller_of(invoice.seller)
    buyer_reference = buyer_reference or invoice.buyer.buyer_reference
    lines = tuple(
        Line(
            line_no=line.line_no,
            description=line.description,
            sku=line.sku,
            quantity=Decimal(line.quantity),
            unit_net=line.unit_price_net,
            line_net=line.net,
            category=category_of(invoice, line.vat_rate),
            # billing stores rates as fractions (0.19), EN 16931 as percent (19)
            rate=(line.vat_rate * 100).normalize(),
        )
        for line in invoice.lines
    )
    notes = [] if invoice.supply_date is not None else [Note(SUPPLY_IS_ISSUE_DATE)]
    for category in sorted({line.category for line in lines}):
        if category in EXEMPTION:
            notes.append(Note(EXEMPTION[category][1], "AAK"))
    if seller.sample:
        notes.append(Note(SAMPLE_NOTE, "REG"))
    party = invoice.buyer
    return DocumentData(
        kind=DocumentKind.INVOICE,
        number=invoice.number,
        issue_date=invoice.issue_date,
        supply_date=invoice.supply_date,
        currency=invoice.currency,
        seller=seller,
        buyer=Buyer(
            name=party.name,
            company=party.company,
            street=party.street,
            postcode=party.postcode,
            city=party.city,
            country=party.country,
            email=party.email,
            vat_id=invoice.buyer_vat_id,
            buyer_reference=buyer_reference,
            language="de",  # the invoice keeps no buyer language yet
        ),
        lines=lines,
        notes=tuple(notes),
        vat_rows=tuple(
            VatRow(
                category_of(invoice, row.vat_rate),
                (row.vat_rate * 100).normalize(),
                row.net,
                row.vat,
            )
            for row in invoice.vat_breakdown
        ),
        order_number=invoice.order_number,
        due_date=invoice.due_date,
        payment_terms="Zahlbar innerhalb von 14 Tagen ohne Abzug.",
    )
