"""Billing's stored invoice (``domain.invoice.Invoice``) plus a seller -> DocumentData.

Kept small on purpose: when the invoice grows (supply date, buyer language, corrections,
a Leitweg-ID, coupons as allowances), this is the one place to map it.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Literal

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
SUPPLY_EN = "Date of supply equals the invoice date"


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


#: Each kind of billing document as EN 16931 names it (BT-3, ADR 0022 and 0025).
KIND: dict[str, DocumentKind] = {
    "invoice": DocumentKind.INVOICE,
    "correction": DocumentKind.CORRECTION,
    "cancellation": DocumentKind.CANCELLATION,
}

#: What the payment terms say per kind, German and English (``{days}``: the days to pay).
TERMS: dict[str, tuple[str, str]] = {
    "invoice": (
        "Zahlbar innerhalb von {days} Tagen ohne Abzug.",
        "Payable within {days} days without deduction.",
    ),
    "due_now": ("Zahlbar sofort ohne Abzug.", "Payable immediately without deduction."),
    "correction": (
        "Der Betrag wird mit der Rechnung verrechnet oder erstattet.",
        "The amount is offset against the invoice or refunded.",
    ),
    "cancellation": (
        "Die Rechnung ist vollständig storniert; bereits gezahlte Beträge werden erstattet.",
        "The invoice is cancelled in full; amounts already paid are refunded.",
    ),
}

#: German phrases of the notes billing writes, and their English wording for the PDF.
ENGLISH: tuple[tuple[str, str], ...] = (
    ("Stornorechnung zur Rechnung", "Cancellation of invoice"),
    ("Rechnungskorrektur zur Rechnung", "Correction of invoice"),
    (" vom ", " of "),
    ("Grund:", "Reason:"),
    ("Auftrag storniert", "Order cancelled"),
    ("Erstattung", "Refund"),
    ("Im Preis enthaltener Nachlass", "Discount included in the price"),
    ("Gutschein", "coupon"),
    ("brutto", "gross"),
    (
        "Steuerfreie innergemeinschaftliche Lieferung (§4 Nr. 1b, §6a UStG)",
        "VAT-exempt intra-community supply (§4 no. 1b, §6a UStG)",
    ),
    ("USt-IdNr. des Lieferers", "Supplier's VAT ID"),
    ("USt-IdNr. des Abnehmers", "Buyer's VAT ID"),
    (
        "Gemäß § 19 UStG wird keine Umsatzsteuer berechnet (Kleinunternehmer).",
        "No VAT is charged under § 19 UStG (small business).",
    ),
    (SAMPLE_NOTE, "SAMPLE: example seller data, not a valid invoice."),
)


def english(text: str) -> str:
    for german, wording in ENGLISH:
        text = text.replace(german, wording)
    return text


def _category(invoice: Invoice, stored: str, rate: Decimal) -> VatCategory:
    """The category the document was issued with (``category_of`` for old documents)."""
    try:
        category = VatCategory(stored)
    except ValueError:
        return category_of(invoice, rate)
    return category if category is not VatCategory.STANDARD else category_of(invoice, rate)


def document_of(
    invoice: Invoice, seller: Seller, *, buyer_reference: str | None = None
) -> DocumentData:
    """``seller`` is the fallback for an invoice issued before it kept its seller's snapshot.

    An invoice (380) and a correction (384) are mapped as stored: a correction's refund is
    a negative quantity at the positive unit price. A cancellation is a credit note (381)
    whose positive amounts negate the original in full (ADR 0022): the stored negative
    lines and VAT rows are turned round.
    """
    if invoice.seller is not None:
        seller = seller_of(invoice.seller)
    buyer_reference = buyer_reference or invoice.buyer.buyer_reference
    sign = Decimal(-1) if invoice.kind == "cancellation" else Decimal(1)
    lines = tuple(
        Line(
            line_no=line.line_no,
            description=line.description,
            sku=line.sku,
            quantity=sign * Decimal(line.quantity),
            unit_net=line.unit_price_net,
            line_net=sign * line.net,
            category=_category(invoice, line.vat_category, line.vat_rate),
            # billing stores rates as fractions (0.19), EN 16931 as percent (19)
            rate=(line.vat_rate * 100).normalize(),
        )
        for line in invoice.lines
    )
    notes = [] if invoice.supply_date is not None else [Note(SUPPLY_IS_ISSUE_DATE, None, SUPPLY_EN)]
    for category in sorted({line.category for line in lines}):
        if category in EXEMPTION:
            notes.append(Note(EXEMPTION[category][1], "AAK", EXEMPTION[category][2]))
    written = {SUPPLY_IS_ISSUE_DATE, SAMPLE_NOTE, *(n.text for n in notes)}
    for text in invoice.notes:  # what billing wrote on the document (reference, coupon, ...)
        if text.rstrip(".") not in written and text not in written:
            notes.append(Note(text, None, english(text)))
    if seller.sample:
        notes.append(Note(SAMPLE_NOTE, "REG", english(SAMPLE_NOTE)))
    party = invoice.buyer
    language: Literal["de", "en"] = "en" if party.language == "en" else "de"
    days = (invoice.due_date - invoice.issue_date).days  # the buyer's terms, else 14
    kind = "due_now" if invoice.kind == "invoice" and days == 0 else invoice.kind
    terms = TERMS[kind][0 if language == "de" else 1].format(days=days)
    return DocumentData(
        kind=KIND[invoice.kind],
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
            language=language,
        ),
        lines=lines,
        notes=tuple(notes),
        vat_rows=tuple(
            VatRow(
                _category(invoice, row.category, row.vat_rate),
                (row.vat_rate * 100).normalize(),
                sign * row.net,
                sign * row.vat,
            )
            for row in invoice.vat_breakdown
        ),
        original_number=invoice.original_number,
        original_date=invoice.original_issue_date,
        order_number=invoice.order_number,
        due_date=invoice.due_date if invoice.kind == "invoice" else None,
        payment_terms=terms,
    )
