"""Reading suppliers' invoices (issue 12, "Incoming invoices"): every field of each test
document checked against what the document says, the kind detected by content, and the
validation report by the same rules as billing's own documents.

The documents are in ``tests/data/incoming`` (``make_fixtures.py`` says how each was made);
the expected values below are read off the files by a person, not computed by the reader.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from kontor_billing.documents.incoming_check import NO_BR_DE_FOR_UBL, check
from kontor_billing.documents.incoming_read import read_upload
from kontor_billing.domain.incoming import (
    Address,
    InvoiceFields,
    Line,
    Skonto,
    Supplier,
    VatRow,
    skonto_of_terms,
)
from kontor_servicekit.domain_errors import Invalid

pytestmark = pytest.mark.unit

DATA = Path(__file__).parents[1] / "data" / "incoming"
D = Decimal
XRECHNUNG_3 = "urn:cen.eu:en16931:2017#compliant#urn:xeinkauf.de:kosit:xrechnung_3.0"


def data(name: str) -> bytes:
    return (DATA / name).read_bytes()


PAPIER = Supplier(
    name="Papier & Co. Großhandel GmbH",
    vat_id="DE136695976",
    tax_number="22/815/08154",
    address=Address("Lagerstraße 12", "20095", "Hamburg", "DE"),
    iban="DE02120300000000202051",
    bic="BYLADEM1001",
    email="rechnung@papier-co.example",
)

XRECHNUNG_FIELDS = InvoiceFields(
    type_code="380",
    number="PC-2026-4711",
    issue_date=date(2026, 11, 20),
    due_date=date(2026, 12, 20),
    delivery_date=date(2026, 11, 18),
    currency="EUR",
    supplier=PAPIER,
    buyer_name="Musterhandel GmbH",
    buyer_reference="04011000-12345-34",
    order_reference="B-2026-0815",
    net_total=D("219.90"),
    vat_total=D("36.99"),
    gross_total=D("256.89"),
    prepaid=D("50.00"),
    amount_due=D("206.89"),
    vat_breakdown=(
        VatRow("S", D("19.00"), D("180.00"), D("34.20")),
        VatRow("S", D("7.00"), D("39.90"), D("2.79")),
    ),
    payment_terms="#SKONTO#TAGE=14#PROZENT=2.00#\nZahlbar innerhalb von 30 Tagen netto.",
    skonto=Skonto(D("2.00"), 14, date(2026, 12, 4), None),
    lines=(
        Line(
            "1",
            "Versandkartons 40x30x20, 100 Stück",
            D("3"),
            "H87",
            D("45.00"),
            D("135.00"),
            "S",
            D("19.00"),
            "PC-001",
        ),
        Line(
            "2",
            "Packpapier Rolle 50 m",
            D("10"),
            "H87",
            D("4.50"),
            D("45.00"),
            "S",
            D("19.00"),
            "PC-002",
        ),
        Line(
            "3",
            "Fachbuch Verpackungslogistik",
            D("1"),
            "H87",
            D("39.90"),
            D("39.90"),
            "S",
            D("7.00"),
            "PC-003",
        ),
    ),
    specification=XRECHNUNG_3,
)


def test_an_xrechnung_cii_is_read_field_by_field() -> None:
    read = read_upload(data("xrechnung-cii.xml"))
    assert (read.format, read.syntax, read.media_type) == ("cii", "cii", "application/xml")
    assert read.fields == XRECHNUNG_FIELDS


def test_an_xml_in_another_encoding_is_read_and_checked_as_the_same_document() -> None:
    latin1 = (
        data("xrechnung-cii.xml")
        .decode("utf-8")
        .replace("encoding='utf-8'", "encoding='ISO-8859-1'")
        .encode("latin-1")
    )
    read = read_upload(latin1)
    assert read.fields == XRECHNUNG_FIELDS
    assert read.xml is not None
    assert check(read.xml, "cii", read.fields.specification).outcome == "accepted"


def test_the_xrechnung_passes_en16931_and_br_de() -> None:
    read = read_upload(data("xrechnung-cii.xml"))
    assert read.xml is not None
    report = check(read.xml, "cii", read.fields.specification)
    assert report.outcome == "accepted"
    assert report.rule_sets == ("XSD", "EN16931", "XRechnung")
    assert (report.errors, report.warnings, report.not_checked) == ((), (), ())


def test_a_zugferd_pdf_gives_its_embedded_cii_field_by_field() -> None:
    read = read_upload(data("zugferd.pdf"))
    assert (read.format, read.syntax, read.media_type) == ("facturx-pdf", "cii", "application/pdf")
    assert read.fields == InvoiceFields(
        type_code="380",
        number="RG-88231",
        issue_date=date(2026, 11, 25),
        due_date=date(2026, 12, 9),
        delivery_date=date(2026, 11, 25),
        currency="EUR",
        supplier=Supplier(
            name="Druckerei Blau KG",
            vat_id="DE811907980",
            tax_number="22/815/08154",
            address=Address("Am Hafen 3", "28195", "Bremen", "DE"),
            iban="DE89370400440532013000",
            bic="COBADEFFXXX",
            email="buchhaltung@druckerei-blau.example",
        ),
        buyer_name="Musterhandel GmbH",
        buyer_reference=None,
        order_reference=None,
        net_total=D("250.00"),
        vat_total=D("47.50"),
        gross_total=D("297.50"),
        prepaid=None,
        amount_due=D("297.50"),
        vat_breakdown=(VatRow("S", D("19.00"), D("250.00"), D("47.50")),),
        payment_terms="Zahlbar bis 09.12.2026 ohne Abzug.",
        skonto=None,
        lines=(
            Line(
                "1",
                "Flyer A5, 5000 Stück",
                D("1"),
                "H87",
                D("250.00"),
                D("250.00"),
                "S",
                D("19.00"),
                "PC-001",
            ),
        ),
        specification="urn:cen.eu:en16931:2017",
    )
    assert read.xml is not None
    report = check(read.xml, "cii", read.fields.specification)
    assert (report.outcome, report.rule_sets) == ("accepted", ("XSD", "EN16931"))


def test_a_ubl_invoice_is_read_field_by_field_by_the_en16931_ubl_binding() -> None:
    read = read_upload(data("ubl-invoice.xml"))
    assert (read.format, read.syntax) == ("ubl", "ubl-2.1-invoice")
    assert read.fields == InvoiceFields(
        type_code="380",
        number="2026-IT-0042",
        issue_date=date(2026, 11, 27),
        due_date=date(2026, 12, 27),
        delivery_date=date(2026, 11, 30),
        currency="EUR",
        supplier=Supplier(
            name="IT-Service König e.K.",  # BT-27 (legal name), not the trading name BT-28
            vat_id="DE129273398",
            tax_number=None,
            address=Address("Schlossallee 7", "80331", "München", "DE"),
            iban="DE75512108001245126199",
            bic="SOGEDEFFXXX",
            email="rechnung@it-service-koenig.example",
        ),
        buyer_name="Musterhandel GmbH",
        buyer_reference="04011000-12345-34",
        order_reference="PO-2026-117",
        net_total=D("484.29"),
        vat_total=D("81.90"),
        gross_total=D("566.19"),
        prepaid=None,
        amount_due=D("566.19"),
        vat_breakdown=(
            VatRow("S", D("19"), D("400.00"), D("76.00")),
            VatRow("S", D("7"), D("84.29"), D("5.90")),
        ),
        payment_terms="#SKONTO#TAGE=10#PROZENT=3.00#\nZahlbar innerhalb von 30 Tagen ohne Abzug.",
        skonto=Skonto(D("3.00"), 10, date(2026, 12, 7), None),
        lines=(
            Line(
                "1",
                "Wartung Server, Stunden",
                D("5"),
                "HUR",
                D("80.00"),
                D("400.00"),
                "S",
                D("19"),
                "WART-H",
            ),
            Line(
                "2",
                "Handbuch Netzwerktechnik",
                D("3"),
                "H87",
                D("28.0967"),
                D("84.29"),
                "S",
                D("7"),
                None,
            ),
        ),
        specification=XRECHNUNG_3,
    )


def test_a_ubl_xrechnung_is_checked_by_cen_ubl_rules_and_says_br_de_was_not() -> None:
    read = read_upload(data("ubl-invoice.xml"))
    assert read.xml is not None and read.syntax is not None
    report = check(read.xml, read.syntax, read.fields.specification)
    assert (report.outcome, report.rule_sets) == ("accepted", ("XSD", "EN16931-UBL"))
    assert report.not_checked == (NO_BR_DE_FOR_UBL,)


def test_a_ubl_credit_note_is_read_and_accepted_with_its_warning() -> None:
    read = read_upload(data("ubl-creditnote.xml"))
    assert (read.format, read.syntax) == ("ubl", "ubl-2.1-creditnote")
    f = read.fields
    assert (f.type_code, f.number, f.issue_date) == ("381", "2026-IT-0042-G1", date(2026, 11, 30))
    assert f.due_date == date(2026, 12, 14)  # BT-9 sits in PaymentMeans in a credit note
    assert f.supplier.name == "IT-Service König e.K."
    assert f.supplier.vat_id == "DE129273398"
    assert (f.net_total, f.vat_total, f.gross_total, f.amount_due) == (
        D("80.00"),
        D("15.20"),
        D("95.20"),
        D("95.20"),
    )
    assert f.lines == (
        Line(
            "1",
            "Gutschrift Wartung, 1 Stunde",
            D("1"),
            "HUR",
            D("80.00"),
            D("80.00"),
            "S",
            D("19"),
            None,
        ),
    )
    assert read.xml is not None and read.syntax is not None
    report = check(read.xml, read.syntax, f.specification)
    assert report.outcome == "accepted_with_warnings"
    assert [(w.rule, w.severity) for w in report.warnings] == [("UBL-CR-005", "warning")]
    assert report.not_checked == ()  # no XRechnung: nothing left out


def test_a_broken_cii_is_refused_with_the_rule_ids_and_still_read() -> None:
    read = read_upload(data("broken-cii.xml"))
    assert read.xml is not None
    report = check(read.xml, "cii", read.fields.specification)
    assert report.outcome == "refused"
    # BR-CL-04: currency EURO; BR-CO-15: gross != net + VAT; BR-CO-16: due != gross - paid
    assert report.rule_ids == ["BR-CL-04", "BR-CO-15", "BR-CO-16"]
    assert {e.rule_set for e in report.errors} == {"EN16931"}
    assert (read.fields.number, read.fields.currency) == ("PC-2026-4712", "EURO")
    assert read.fields.gross_total == D("1256.89")


def test_a_plain_pdf_is_kept_without_fields() -> None:
    read = read_upload(data("plain.pdf"))
    assert (read.format, read.xml, read.syntax) == ("pdf", None, None)
    assert read.fields == InvoiceFields()


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "empty"),
        (b"\x89PNG\r\n\x1a\n....", "no well-formed XML"),
        (b"<Order xmlns='urn:example'/>", "not an invoice"),
        (b"<rsm:CrossIndustryInvoice xmlns:rsm='x'", "no well-formed XML"),
        (b"%PDF-1.7\n garbage", "cannot be read"),
    ],
)
def test_what_is_no_invoice_is_refused_at_the_file_field(content: bytes, message: str) -> None:
    with pytest.raises(Invalid) as refused:
        read_upload(content)
    assert message in str(refused.value)
    assert refused.value.field == ("file",)


def test_an_xml_with_a_doctype_is_refused_before_any_entity_is_expanded() -> None:
    hostile = (
        data("xrechnung-cii.xml")
        .replace(
            b"<?xml version='1.0' encoding='utf-8'?>",
            b"<?xml version='1.0'?><!DOCTYPE x [<!ENTITY e SYSTEM 'file:///etc/hostname'>]>",
        )
        .replace(b"<ram:ID>PC-2026-4711</ram:ID>", b"<ram:ID>&e;</ram:ID>")
    )
    with pytest.raises(Invalid, match="no DOCTYPE"):
        read_upload(hostile)


@pytest.mark.parametrize(
    ("terms", "expected"),
    [
        ("#SKONTO#TAGE=14#PROZENT=2.00#\n", Skonto(D("2.00"), 14, date(2026, 12, 4))),
        (
            "Netto 30 Tage\n#SKONTO#TAGE=7#PROZENT=3.00#BASISBETRAG=100.00#\n",
            Skonto(D("3.00"), 7, date(2026, 11, 27), D("100.00")),
        ),
        ("#SKONTO#TAGE=x#PROZENT=2.00#\n", None),
        ("#SKONTO#TAGE=99999999#PROZENT=2.00#\n", None),  # no payment term: 274,000 years
        ("#SKONTO#TAGE=14#PROZENT=0.00#\n", None),
        ("#SKONTO#TAGE=14#PROZENT=2.00#BASISBETRAG=1E+400#\n", None),
        ("Zahlbar sofort", None),
        (None, None),
    ],
)
def test_skonto_follows_the_xrechnung_convention(terms: str | None, expected: object) -> None:
    assert skonto_of_terms(terms, date(2026, 11, 20)) == expected


def test_a_skonto_past_the_end_of_the_calendar_has_no_deadline() -> None:
    skonto = skonto_of_terms("#SKONTO#TAGE=14#PROZENT=2.00#\n", date(9999, 12, 30))
    assert skonto == Skonto(D("2.00"), 14, None)


def test_amounts_no_invoice_has_read_as_missing_and_the_rules_refuse_them() -> None:
    huge = data("xrechnung-cii.xml").replace(
        b"<ram:GrandTotalAmount>256.89<", b"<ram:GrandTotalAmount>1E+400<"
    )
    read = read_upload(huge)
    assert read.fields.gross_total is None  # a database could not even store it
    assert read.xml is not None
    report = check(read.xml, "cii", read.fields.specification)
    assert report.outcome == "refused"
    # the XSD names the value; Saxon cannot even read it, which refuses too (no 500)
    assert report.rule_ids == ["EN16931-NOT-RUN", "XSD"]
