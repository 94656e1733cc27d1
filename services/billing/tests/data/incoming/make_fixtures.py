"""How the supplier invoices in this folder were made (run once; the files are committed).

``python services/billing/tests/data/incoming/make_fixtures.py``

- ``xrechnung-cii.xml``: an XRechnung 3.0 CII from billing's own outgoing document code,
  with a supplier (Papier & Co.) as seller and the merchant as buyer (Leitweg-ID), Skonto
  in BT-20 by the XRechnung convention; passes EN 16931 and BR-DE.
- ``zugferd.pdf``: a ZUGFeRD / Factur-X EN 16931 PDF/A-3 of another supplier invoice
  (no Leitweg-ID), the CII embedded by factur-x.
- ``ubl-invoice.xml``, ``ubl-creditnote.xml`` are written by hand (OASIS UBL 2.1, the
  EN 16931 UBL binding); ``broken-cii.xml`` is the XRechnung with its totals and
  currency broken; ``plain.pdf`` is a PDF with no XML in it.
"""

from __future__ import annotations

import dataclasses
from datetime import date
from decimal import Decimal
from pathlib import Path

from kontor_billing.documents.cii import build_cii
from kontor_billing.documents.model import (
    Buyer,
    DocumentData,
    DocumentKind,
    Line,
    Note,
    Seller,
    VatCategory,
)
from kontor_billing.documents.pdf import facturx_pdf, render_pdf
from kontor_billing.documents.validation import validate

HERE = Path(__file__).parent
D = Decimal

SUPPLIER = Seller(
    name="Papier & Co. Großhandel",
    legal_form="GmbH",
    street="Lagerstraße 12",
    postcode="20095",
    city="Hamburg",
    country="DE",
    email="rechnung@papier-co.example",
    vat_id="DE136695976",
    tax_number="22/815/08154",
    registry="Amtsgericht Hamburg HRB 123456",
    managing_directors=("Petra Papier",),
    iban="DE02120300000000202051",
    bic="BYLADEM1001",
    phone="+49 40 123456",
    contact_name="Petra Papier",
)
MERCHANT = Buyer(
    name="Musterhandel GmbH",
    company="Musterhandel GmbH",
    street="Hauptstraße 1",
    postcode="10115",
    city="Berlin",
    country="DE",
    email="einkauf@musterhandel.example",
    vat_id="DE123456789",
    buyer_reference="04011000-12345-34",
)
S = VatCategory.STANDARD


def line(no: int, text: str, qty: str, unit: str, rate: str) -> Line:
    return Line(no, text, D(qty), D(unit), D(qty) * D(unit), S, D(rate), sku=f"PC-{no:03d}")


XRECHNUNG = DocumentData(
    kind=DocumentKind.INVOICE,
    number="PC-2026-4711",
    issue_date=date(2026, 11, 20),
    supply_date=date(2026, 11, 18),
    currency="EUR",
    seller=SUPPLIER,
    buyer=MERCHANT,
    lines=(
        line(1, "Versandkartons 40x30x20, 100 Stück", "3", "45.00", "19"),
        line(2, "Packpapier Rolle 50 m", "10", "4.50", "19"),
        line(3, "Fachbuch Verpackungslogistik", "1", "39.90", "7"),
    ),
    notes=(Note("Vielen Dank für Ihren Auftrag."),),
    order_number="B-2026-0815",
    due_date=date(2026, 12, 20),
    payment_terms="#SKONTO#TAGE=14#PROZENT=2.00#\nZahlbar innerhalb von 30 Tagen netto.",
)
ZUGFERD = dataclasses.replace(
    XRECHNUNG,
    number="RG-88231",
    issue_date=date(2026, 11, 25),
    supply_date=None,
    seller=dataclasses.replace(
        SUPPLIER,
        name="Druckerei Blau",
        legal_form="KG",
        street="Am Hafen 3",
        postcode="28195",
        city="Bremen",
        email="buchhaltung@druckerei-blau.example",
        vat_id="DE811907980",
        iban="DE89370400440532013000",
        bic="COBADEFFXXX",
    ),
    buyer=dataclasses.replace(MERCHANT, buyer_reference=None),
    lines=(line(1, "Flyer A5, 5000 Stück", "1", "250.00", "19"),),
    notes=(Note("Leistungsdatum entspricht Rechnungsdatum"),),
    order_number=None,
    due_date=date(2026, 12, 9),
    payment_terms="Zahlbar bis 09.12.2026 ohne Abzug.",
)


def main() -> None:
    xml = build_cii(XRECHNUNG).replace(  # a supplier's: 50.00 paid in advance
        b"<ram:DuePayableAmount>256.89<",
        b"<ram:TotalPrepaidAmount>50.00</ram:TotalPrepaidAmount>\n"
        b"        <ram:DuePayableAmount>206.89<",
    )
    assert validate(xml, xrechnung=True) == [], validate(xml, xrechnung=True)
    (HERE / "xrechnung-cii.xml").write_bytes(xml)
    broken = (
        xml.replace(b"<ram:GrandTotalAmount>", b"<ram:GrandTotalAmount>1")
        .replace(b"<ram:InvoiceCurrencyCode>EUR<", b"<ram:InvoiceCurrencyCode>EURO<")
        .replace(b"PC-2026-4711", b"PC-2026-4712")
    )
    (HERE / "broken-cii.xml").write_bytes(broken)
    zxml = build_cii(ZUGFERD)
    assert validate(zxml, xrechnung=False) == [], validate(zxml, xrechnung=False)
    (HERE / "zugferd.pdf").write_bytes(facturx_pdf(ZUGFERD, zxml))
    (HERE / "plain.pdf").write_bytes(render_pdf(dataclasses.replace(ZUGFERD, number="Q-77")))


if __name__ == "__main__":
    main()
