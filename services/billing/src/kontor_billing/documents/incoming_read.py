"""Reading a supplier's invoice: what the bytes are, and what they say (ADR 0031).

:func:`read_upload` detects the kind by content, never by name or claimed type:

- ``%PDF-``: factur-x looks for an embedded XML (ZUGFeRD / Factur-X); none: a plain PDF;
- XML whose root is CII's ``CrossIndustryInvoice`` (XRechnung, ZUGFeRD, Factur-X) or
  UBL 2.1's ``Invoice`` / ``CreditNote``;
- anything else is refused (422), and so is XML that does not parse.

XML is parsed by lxml without entities, DTDs or network access; a DOCTYPE is refused.
The business terms are read by the EN 16931 syntax bindings (CEN/TS 16931-3-2 for UBL
2.1, -3-3 for CII D16B), one XPath per term, so both syntaxes fill the same
:class:`InvoiceFields`. A term that is missing or malformed reads as None: a refused
document is still kept with what it says.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation

from kontor_servicekit.domain_errors import Invalid
from lxml import etree

from kontor_billing.domain.incoming import (
    Address,
    Format,
    InvoiceFields,
    Line,
    Skonto,
    Supplier,
    VatRow,
    days_after,
    with_skonto,
)

CII_NS = {
    "rsm": "urn:un:unece:uncefact:data:standard:CrossIndustryInvoice:100",
    "ram": "urn:un:unece:uncefact:data:standard:ReusableAggregateBusinessInformationEntity:100",
    "udt": "urn:un:unece:uncefact:data:standard:UnqualifiedDataType:100",
}
UBL_NS = {
    "inv": "urn:oasis:names:specification:ubl:schema:xsd:Invoice-2",
    "cn": "urn:oasis:names:specification:ubl:schema:xsd:CreditNote-2",
    "cac": "urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2",
    "cbc": "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2",
}
CII_ROOT = f"{{{CII_NS['rsm']}}}CrossIndustryInvoice"
UBL_ROOTS = {
    f"{{{UBL_NS['inv']}}}Invoice": "ubl-2.1-invoice",
    f"{{{UBL_NS['cn']}}}CreditNote": "ubl-2.1-creditnote",
}

#: Amounts at or beyond this, or with more than 10 places, read as None.
LARGEST = Decimal("1e15")
#: Lines kept per record (the file keeps them all): a record must fit a database document.
MAX_LINES = 5000
#: Days of a payment term beyond this are no payment term.
MAX_DAYS = 3650

_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False)


@dataclass(frozen=True)
class Read:
    """An upload understood: its kind, the XML (if any, as UTF-8), the syntax, its fields."""

    format: Format
    media_type: str
    xml: bytes | None
    syntax: str | None  # "cii", "ubl-2.1-invoice", "ubl-2.1-creditnote"
    fields: InvoiceFields


def _refused(message: str) -> Invalid:
    return Invalid(message, field=["file"])


def parse_xml(xml: bytes) -> etree._Element:
    """The root of ``xml``; refused if it does not parse or declares a DOCTYPE (no
    e-invoice syntax uses one, and Saxon, which runs the rules, would expand entities)."""
    try:
        root = etree.fromstring(xml, _PARSER)
    except etree.XMLSyntaxError as exc:
        raise _refused(f"the file is no well-formed XML: {exc}") from None
    if root.getroottree().docinfo.doctype:
        raise _refused("an e-invoice has no DOCTYPE: entities and DTDs are not accepted")
    return root


def read_upload(data: bytes) -> Read:
    """What ``data`` is and says; :class:`Invalid` if it is no invoice Kontor can read."""
    if not data:
        raise _refused("the file is empty")
    if data.lstrip()[:5] == b"%PDF-":
        xml = embedded_xml(data)
        if xml is None:
            return Read("pdf", "application/pdf", None, None, InvoiceFields())
        root = parse_xml(xml)
        if root.tag != CII_ROOT:
            raise _refused("the PDF embeds an XML that is no CII invoice (ZUGFeRD / Factur-X)")
        return Read("facturx-pdf", "application/pdf", utf8(root), "cii", read_cii(root))
    root = parse_xml(data)
    if root.tag == CII_ROOT:
        return Read("cii", "application/xml", utf8(root), "cii", read_cii(root))
    if root.tag in UBL_ROOTS:
        return Read("ubl", "application/xml", utf8(root), UBL_ROOTS[root.tag], read_ubl(root))
    raise _refused(
        "not an invoice: expected a CII (XRechnung, ZUGFeRD, Factur-X) or UBL 2.1 "
        "Invoice/CreditNote XML, or a PDF"
    )


def utf8(root: etree._Element) -> bytes:
    """The XML again, as UTF-8 whatever the file's encoding (what the rules are run on;
    the file itself is kept as received)."""
    return bytes(etree.tostring(root, encoding="utf-8", xml_declaration=True))


def embedded_xml(pdf: bytes) -> bytes | None:
    """The XML a ZUGFeRD / Factur-X PDF carries (``factur-x.xml``, ``zugferd-invoice.xml``,
    ``xrechnung.xml``), or None; a PDF that does not open is refused."""
    from facturx import get_xml_from_pdf  # loads pypdf: not at service start

    try:
        _name, xml = get_xml_from_pdf(pdf, check_xsd=False)
    except Exception as exc:  # pypdf raises its own family on a damaged file
        raise _refused(f"the PDF cannot be read: {type(exc).__name__}") from None
    return xml or None


# --- values -------------------------------------------------------------------------


def _text(node: etree._Element | None) -> str | None:
    if node is None or node.text is None:
        return None
    text = node.text.strip()
    return text or None


def _amount(text: str | None) -> Decimal | None:
    if text is None:
        return None
    try:
        value = Decimal(text)
    except InvalidOperation:
        return None
    if not value.is_finite() or abs(value) >= LARGEST or value != round(value, 10):
        return None  # no invoice amount; the rules name the term (Decimal128 could not hold it)
    return value


def _iso_date(text: str | None) -> date | None:
    if text is None:
        return None
    try:
        return date.fromisoformat(text[:10])
    except ValueError:
        return None


def _cii_date(text: str | None) -> date | None:
    """A CII date of format 102 (``YYYYMMDD``)."""
    if text is None or len(text) != 8 or not text.isdigit():
        return None
    return _iso_date(f"{text[:4]}-{text[4:6]}-{text[6:]}")


class _Reader:
    def __init__(self, root: etree._Element, ns: dict[str, str]) -> None:
        self.root = root
        self.ns = ns

    def nodes(self, path: str, at: etree._Element | None = None) -> list[etree._Element]:
        found = (self.root if at is None else at).xpath(path, namespaces=self.ns)
        return [n for n in found if isinstance(n, etree._Element)]

    def node(self, path: str, at: etree._Element | None = None) -> etree._Element | None:
        found = self.nodes(path, at)
        return found[0] if found else None

    def text(self, path: str, at: etree._Element | None = None) -> str | None:
        return _text(self.node(path, at))

    def amount(self, path: str, at: etree._Element | None = None) -> Decimal | None:
        return _amount(self.text(path, at))

    def attr(self, path: str, name: str, at: etree._Element | None = None) -> str | None:
        node = self.node(path, at)
        return None if node is None else node.get(name)

    def first(self, *paths: str, at: etree._Element | None = None) -> str | None:
        for path in paths:
            value = self.text(path, at)
            if value is not None:
                return value
        return None


# --- CII (CEN/TS 16931-3-3) -----------------------------------------------------------

_AGREEMENT = "rsm:SupplyChainTradeTransaction/ram:ApplicableHeaderTradeAgreement"
_SETTLEMENT = "rsm:SupplyChainTradeTransaction/ram:ApplicableHeaderTradeSettlement"
_SELLER = f"{_AGREEMENT}/ram:SellerTradeParty"
_SUMS = f"{_SETTLEMENT}/ram:SpecifiedTradeSettlementHeaderMonetarySummation"


def read_cii(root: etree._Element) -> InvoiceFields:
    r = _Reader(root, CII_NS)
    currency = r.text(f"{_SETTLEMENT}/ram:InvoiceCurrencyCode")

    def cii_date(path: str) -> date | None:
        return _cii_date(r.text(f"{path}/udt:DateTimeString"))

    issue_date = cii_date("rsm:ExchangedDocument/ram:IssueDateTime")
    terms = r.nodes(f"{_SETTLEMENT}/ram:SpecifiedTradePaymentTerms")
    descriptions = [d for t in terms if (d := r.text("ram:Description", t))]
    due = next((day for t in terms if (day := cii_date_at(r, "ram:DueDateDateTime", t))), None)
    address = f"{_SELLER}/ram:PostalTradeAddress"
    fields = InvoiceFields(
        type_code=r.text("rsm:ExchangedDocument/ram:TypeCode"),
        number=r.text("rsm:ExchangedDocument/ram:ID"),
        issue_date=issue_date,
        due_date=due,
        delivery_date=cii_date(
            "rsm:SupplyChainTradeTransaction/ram:ApplicableHeaderTradeDelivery"
            "/ram:ActualDeliverySupplyChainEvent/ram:OccurrenceDateTime"
        ),
        currency=currency,
        supplier=Supplier(
            name=r.text(f"{_SELLER}/ram:Name"),
            vat_id=r.text(f"{_SELLER}/ram:SpecifiedTaxRegistration/ram:ID[@schemeID='VA']"),
            tax_number=r.text(f"{_SELLER}/ram:SpecifiedTaxRegistration/ram:ID[@schemeID='FC']"),
            address=Address(
                street=r.text(f"{address}/ram:LineOne"),
                postcode=r.text(f"{address}/ram:PostcodeCode"),
                city=r.text(f"{address}/ram:CityName"),
                country=r.text(f"{address}/ram:CountryID"),
            ),
            iban=r.first(
                f"{_SETTLEMENT}/ram:SpecifiedTradeSettlementPaymentMeans"
                "/ram:PayeePartyCreditorFinancialAccount/ram:IBANID"
            ),
            bic=r.text(
                f"{_SETTLEMENT}/ram:SpecifiedTradeSettlementPaymentMeans"
                "/ram:PayeeSpecifiedCreditorFinancialInstitution/ram:BICID"
            ),
            email=r.first(
                f"{_SELLER}/ram:URIUniversalCommunication/ram:URIID[@schemeID='EM']",
                f"{_SELLER}/ram:DefinedTradeContact/ram:EmailURIUniversalCommunication/ram:URIID",
            ),
        ),
        buyer_name=r.text(f"{_AGREEMENT}/ram:BuyerTradeParty/ram:Name"),
        buyer_reference=r.text(f"{_AGREEMENT}/ram:BuyerReference"),
        order_reference=r.first(
            f"{_AGREEMENT}/ram:BuyerOrderReferencedDocument/ram:IssuerAssignedID",
            f"{_AGREEMENT}/ram:SellerOrderReferencedDocument/ram:IssuerAssignedID",
        ),
        net_total=r.amount(f"{_SUMS}/ram:TaxBasisTotalAmount"),
        vat_total=_amount(
            r.first(
                f"{_SUMS}/ram:TaxTotalAmount[@currencyID='{currency}']",
                f"{_SUMS}/ram:TaxTotalAmount",
            )
        ),
        gross_total=r.amount(f"{_SUMS}/ram:GrandTotalAmount"),
        prepaid=r.amount(f"{_SUMS}/ram:TotalPrepaidAmount"),
        amount_due=r.amount(f"{_SUMS}/ram:DuePayableAmount"),
        vat_breakdown=tuple(
            VatRow(
                category=r.text("ram:CategoryCode", tax),
                rate=r.amount("ram:RateApplicablePercent", tax),
                basis=r.amount("ram:BasisAmount", tax),
                vat=r.amount("ram:CalculatedAmount", tax),
            )
            for tax in r.nodes(f"{_SETTLEMENT}/ram:ApplicableTradeTax")
        ),
        payment_terms="\n".join(descriptions) or None,
        skonto=_cii_discount(r, terms, issue_date),
        lines=tuple(
            _cii_line(r, item)
            for item in r.nodes(
                "rsm:SupplyChainTradeTransaction/ram:IncludedSupplyChainTradeLineItem"
            )[:MAX_LINES]
        ),
        specification=r.text(
            "rsm:ExchangedDocumentContext/ram:GuidelineSpecifiedDocumentContextParameter/ram:ID"
        ),
    )
    return with_skonto(fields)


def cii_date_at(r: _Reader, path: str, at: etree._Element) -> date | None:
    return _cii_date(r.text(f"{path}/udt:DateTimeString", at))


def _cii_discount(
    r: _Reader, terms: list[etree._Element], issue_date: date | None
) -> Skonto | None:
    """ApplicableTradePaymentDiscountTerms (ZUGFeRD / Factur-X EXTENDED)."""
    for term in terms:
        discount = r.node("ram:ApplicableTradePaymentDiscountTerms", term)
        if discount is None:
            continue
        percent = r.amount("ram:CalculationPercent", discount)
        if percent is None or not 0 < percent < 100:
            continue
        days_text = r.text("ram:BasisPeriodMeasure", discount)
        days = int(days_text) if days_text and days_text.isdigit() else None
        if days is not None and days > MAX_DAYS:
            days = None
        start = cii_date_at(r, "ram:BasisDateTime", discount) or issue_date
        basis = r.amount("ram:BasisAmount", discount)
        return Skonto(percent, days, days_after(start, days), basis)
    return None


def _cii_line(r: _Reader, item: etree._Element) -> Line:
    tax = "ram:SpecifiedLineTradeSettlement/ram:ApplicableTradeTax"
    quantity = "ram:SpecifiedLineTradeDelivery/ram:BilledQuantity"
    return Line(
        line_id=r.text("ram:AssociatedDocumentLineDocument/ram:LineID", item),
        name=r.text("ram:SpecifiedTradeProduct/ram:Name", item),
        quantity=r.amount(quantity, item),
        unit_code=r.attr(quantity, "unitCode", item),
        unit_price=r.amount(
            "ram:SpecifiedLineTradeAgreement/ram:NetPriceProductTradePrice/ram:ChargeAmount", item
        ),
        net=r.amount(
            "ram:SpecifiedLineTradeSettlement/ram:SpecifiedTradeSettlementLineMonetarySummation"
            "/ram:LineTotalAmount",
            item,
        ),
        vat_category=r.text(f"{tax}/ram:CategoryCode", item),
        vat_rate=r.amount(f"{tax}/ram:RateApplicablePercent", item),
        seller_item_id=r.text("ram:SpecifiedTradeProduct/ram:SellerAssignedID", item),
    )


# --- UBL 2.1 (CEN/TS 16931-3-2) -------------------------------------------------------

_PARTY = "cac:AccountingSupplierParty/cac:Party"


def read_ubl(root: etree._Element) -> InvoiceFields:
    r = _Reader(root, UBL_NS)
    currency = r.text("cbc:DocumentCurrencyCode")
    issue_date = _iso_date(r.text("cbc:IssueDate"))
    address = f"{_PARTY}/cac:PostalAddress"
    totals = "cac:LegalMonetaryTotal"
    terms = [t for n in r.nodes("cac:PaymentTerms/cbc:Note") if (t := _text(n))]
    fields = InvoiceFields(
        type_code=r.first("cbc:InvoiceTypeCode", "cbc:CreditNoteTypeCode"),
        number=r.text("cbc:ID"),
        issue_date=issue_date,
        due_date=_iso_date(r.first("cbc:DueDate", "cac:PaymentMeans/cbc:PaymentDueDate")),
        delivery_date=_iso_date(r.text("cac:Delivery/cbc:ActualDeliveryDate")),
        currency=currency,
        supplier=Supplier(
            name=r.first(
                f"{_PARTY}/cac:PartyLegalEntity/cbc:RegistrationName",
                f"{_PARTY}/cac:PartyName/cbc:Name",
            ),
            vat_id=r.text(f"{_PARTY}/cac:PartyTaxScheme[cac:TaxScheme/cbc:ID='VAT']/cbc:CompanyID"),
            tax_number=r.text(
                f"{_PARTY}/cac:PartyTaxScheme[not(cac:TaxScheme/cbc:ID='VAT')]/cbc:CompanyID"
            ),
            address=Address(
                street=r.text(f"{address}/cbc:StreetName"),
                postcode=r.text(f"{address}/cbc:PostalZone"),
                city=r.text(f"{address}/cbc:CityName"),
                country=r.text(f"{address}/cac:Country/cbc:IdentificationCode"),
            ),
            iban=r.text("cac:PaymentMeans/cac:PayeeFinancialAccount/cbc:ID"),
            bic=r.text(
                "cac:PaymentMeans/cac:PayeeFinancialAccount/cac:FinancialInstitutionBranch/cbc:ID"
            ),
            email=r.text(f"{_PARTY}/cac:Contact/cbc:ElectronicMail"),
        ),
        buyer_name=r.first(
            "cac:AccountingCustomerParty/cac:Party/cac:PartyLegalEntity/cbc:RegistrationName",
            "cac:AccountingCustomerParty/cac:Party/cac:PartyName/cbc:Name",
        ),
        buyer_reference=r.text("cbc:BuyerReference"),
        order_reference=r.first("cac:OrderReference/cbc:ID", "cac:OrderReference/cbc:SalesOrderID"),
        net_total=r.amount(f"{totals}/cbc:TaxExclusiveAmount"),
        vat_total=_amount(
            r.first(
                f"cac:TaxTotal/cbc:TaxAmount[@currencyID='{currency}']",
                "cac:TaxTotal/cbc:TaxAmount",
            )
        ),
        gross_total=r.amount(f"{totals}/cbc:TaxInclusiveAmount"),
        prepaid=r.amount(f"{totals}/cbc:PrepaidAmount"),
        amount_due=r.amount(f"{totals}/cbc:PayableAmount"),
        vat_breakdown=tuple(
            VatRow(
                category=r.text("cac:TaxCategory/cbc:ID", sub),
                rate=r.amount("cac:TaxCategory/cbc:Percent", sub),
                basis=r.amount("cbc:TaxableAmount", sub),
                vat=r.amount("cbc:TaxAmount", sub),
            )
            for sub in r.nodes("cac:TaxTotal/cac:TaxSubtotal")
        ),
        payment_terms="\n".join(terms) or None,
        lines=tuple(
            _ubl_line(r, line) for line in r.nodes("cac:InvoiceLine|cac:CreditNoteLine")[:MAX_LINES]
        ),
        specification=r.text("cbc:CustomizationID"),
    )
    return with_skonto(fields)


def _ubl_line(r: _Reader, line: etree._Element) -> Line:
    quantity = "cbc:InvoicedQuantity|cbc:CreditedQuantity"
    return Line(
        line_id=r.text("cbc:ID", line),
        name=r.text("cac:Item/cbc:Name", line),
        quantity=r.amount(quantity, line),
        unit_code=r.attr(quantity, "unitCode", line),
        unit_price=r.amount("cac:Price/cbc:PriceAmount", line),
        net=r.amount("cbc:LineExtensionAmount", line),
        vat_category=r.text("cac:Item/cac:ClassifiedTaxCategory/cbc:ID", line),
        vat_rate=r.amount("cac:Item/cac:ClassifiedTaxCategory/cbc:Percent", line),
        seller_item_id=r.text("cac:Item/cac:SellersItemIdentification/cbc:ID", line),
    )
