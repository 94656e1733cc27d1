"""A quote (``domain.quotes.Quote``) plus the seller -> DocumentData of kind ``QUOTE``.

The same rendering as the invoices (letterhead, footer with the seller's legal data and
bank account, VAT breakdown), titled "Angebot", with the validity instead of a due
date and no date of supply. A quote is not an invoice: no CII XML, no Factur-X.
"""

from __future__ import annotations

from decimal import Decimal

from kontor_servicekit.clock import BERLIN

from kontor_billing.documents.from_invoice import seller_of
from kontor_billing.documents.model import (
    Buyer,
    DocumentData,
    DocumentKind,
    Line,
    Note,
    VatCategory,
)
from kontor_billing.domain.quotes import Quote
from kontor_billing.domain.seller import Seller

VALIDITY_NOTE = {
    "de": "Dieses Angebot ist freibleibend und gilt bis zum angegebenen Datum.",
    "en": "This quote is subject to change and valid until the date given.",
}
SAMPLE_NOTE = "MUSTER: Beispieldaten des Verkäufers, kein gültiges Angebot."
DISCOUNT_NOTE = {
    "de": "In den Einzelpreisen ist ein Nachlass von {} % enthalten.",
    "en": "The unit prices include a discount of {} %.",
}


def quote_document(quote: Quote, seller: Seller) -> DocumentData:
    b = quote.buyer
    lines = tuple(
        Line(
            line_no=line.line_no,
            description=line.name,
            sku=line.sku,
            quantity=Decimal(line.quantity),
            unit_net=line.unit_price_net,
            line_net=(line.unit_price_net * line.quantity).quantize(Decimal("0.01")),
            category=VatCategory.STANDARD if line.vat_rate > 0 else VatCategory.ZERO,
            rate=(line.vat_rate * 100).normalize(),
        )
        for line in quote.lines
    )
    lang = quote.language
    notes = [Note(quote.notes)] if quote.notes else []
    if quote.discount_percent:
        notes.append(
            Note(DISCOUNT_NOTE[lang].format(format(quote.discount_percent.normalize(), "f")))
        )
    notes.append(Note(VALIDITY_NOTE[lang]))
    if seller.sample:
        notes.append(Note(SAMPLE_NOTE))
    return DocumentData(
        kind=DocumentKind.QUOTE,
        number=quote.number,
        issue_date=quote.created_at.astimezone(BERLIN).date(),
        supply_date=None,
        currency=quote.currency,
        seller=seller_of(seller),
        buyer=Buyer(
            name=b.name,
            company=b.company,
            street=b.street,
            postcode=b.postcode,
            city=b.city,
            country=b.country,
            email=b.email,
            vat_id=b.vat_id,
            buyer_reference=b.buyer_reference,
            language=lang,
        ),
        lines=lines,
        notes=tuple(notes),
        due_date=quote.valid_until,
    )
