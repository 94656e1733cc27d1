"""The buyer's language chooses the PDF's wording (issue 11: "German, English as an
option per buyer"): the order's locale (OrderPlaced ``locale``) ``en-*`` gives English,
anything else German; every §14 Abs. 4 UStG field is on both. The XML stays the same
EN 16931 document (its notes in German)."""

from __future__ import annotations

import io

import pytest
from kontor_billing.application.buyer_language import set_buyer_language
from kontor_billing.application.documents import render
from kontor_billing.documents.from_invoice import EXAMPLE_SELLER
from kontor_billing.domain.invoice import Invoice
from kontor_billing.domain.order import language_of
from pypdf import PdfReader

from services.billing.tests.unit.test_invoice_life import Billing, confirmed, placed

pytestmark = pytest.mark.unit


async def invoice_for(locale: str | None) -> Invoice:
    billing = Billing()
    await billing.deliver(placed("o-1", locale=locale), confirmed("o-1"))
    [invoice] = billing.documents()
    return invoice


def text(invoice: Invoice) -> str:
    pdf = render(invoice, EXAMPLE_SELLER, None).pdf
    return " ".join(" ".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf)).pages).split())


def test_the_locale_chooses_the_language() -> None:
    assert [language_of(x) for x in ("en-GB", "EN", "en_US", "de-DE", "fr-FR", None, " ")] == [
        "en",
        "en",
        "en",
        "de",
        "de",
        None,
        None,
    ]


async def test_without_a_locale_the_merchants_choice_for_the_buyer_then_german() -> None:
    billing = Billing()
    await billing.run(lambda uow: set_buyer_language(uow, "ANNA@example.de", "en"))
    await billing.deliver(placed("o-1", locale=None), confirmed("o-1"))
    await billing.deliver(placed("o-2", locale="de-DE"), confirmed("o-2"))  # the locale wins
    billing.transactor.db.tables["buyer_languages"].clear()
    await billing.deliver(placed("o-3", locale=None), confirmed("o-3"))
    languages = [d.buyer.language for d in billing.documents()]
    assert languages == ["en", "de", "de"]
    assert "Invoice RE-2026-000001" in text(billing.documents()[0])


#: Every §14 field as (German, English) wording; the shared values are in both.
FIELDS = [
    ("Musterhandel GmbH", "Musterhandel GmbH"),  # seller's name and address (Nr. 1)
    ("Marktplatz 1", "Marktplatz 1"),
    ("10117 Berlin", "10117 Berlin"),
    ("Anna Muster", "Anna Muster"),  # buyer's name and address (Nr. 1)
    ("Hauptstr. 1", "Hauptstr. 1"),
    ("10115 Berlin", "10115 Berlin"),
    ("USt-IdNr.: DE136695976", "VAT ID: DE136695976"),  # VAT id (Nr. 2)
    ("Steuernummer: 30/123/45678", "Tax number: 30/123/45678"),
    ("Rechnungsdatum 01.06.2026", "Invoice date 2026-06-01"),  # issue date (Nr. 3)
    ("Rechnung RE-2026-000001", "Invoice RE-2026-000001"),  # number (Nr. 4)
    ("T-Shirt", "T-Shirt"),  # quantity and description (Nr. 5)
    ("Menge", "Quantity"),
    (  # date of supply (Nr. 6)
        "Leistungsdatum entspricht Rechnungsdatum",
        "Date of supply equals the invoice date",
    ),
    ("Nettobetrag zu 19 %", "Net amount at 19 %"),  # net per rate (Nr. 7)
    ("Umsatzsteuer 19 %", "VAT 19 %"),  # rate and VAT per rate (Nr. 8)
    ("Gesamtbetrag", "Total amount"),
    ("Geschäftsführung: Erika Mustermann", "Managing directors: Erika Mustermann"),
    ("Zahlbar innerhalb von 14 Tagen", "Payable within 14 days"),
]


@pytest.mark.parametrize("locale,column", [("de-DE", 0), ("en-GB", 1)])
async def test_every_para_14_field_in_the_buyers_language(locale: str, column: int) -> None:
    invoice = await invoice_for(locale)
    assert invoice.buyer.language == ("en" if column else "de")
    wording = text(invoice)
    for wanted in FIELDS:
        assert wanted[column] in wording, wanted[column]
    foreign = [w[1 - column] for w in FIELDS if w[0] != w[1]]
    assert not [w for w in foreign if w in wording]
