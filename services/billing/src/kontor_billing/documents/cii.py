"""DocumentData -> EN 16931 CII XML (Factur-X/ZUGFeRD profile EN 16931 "COMFORT"), built with
drafthorse; an XRechnung (CIUS 3.0) when the buyer has a Leitweg-ID (BT-10)."""

from __future__ import annotations

from decimal import Decimal

from drafthorse.models.accounting import ApplicableTradeTax, CategoryTradeTax, TradeAllowanceCharge
from drafthorse.models.document import Document
from drafthorse.models.note import IncludedNote
from drafthorse.models.party import TaxRegistration, TradeParty
from drafthorse.models.payment import PaymentMeans, PaymentTerms
from drafthorse.models.tradelines import LineItem

from kontor_billing.documents.model import (
    CENT,
    EN16931,
    EXEMPTION,
    XRECHNUNG,
    Buyer,
    DocumentData,
    DocumentKind,
    Line,
    Seller,
    VatCategory,
)

#: Document names (BT-3 as text) per kind and language.
TITLES: dict[DocumentKind, tuple[str, str]] = {
    DocumentKind.INVOICE: ("Rechnung", "Invoice"),
    DocumentKind.CORRECTION: ("Rechnungskorrektur", "Corrected invoice"),
    DocumentKind.CANCELLATION: ("Stornorechnung", "Cancellation invoice"),
    DocumentKind.QUOTE: ("Angebot", "Quote"),
}

SEPA_CREDIT_TRANSFER = "58"  # UNTDID 4461


def money(amount: Decimal) -> Decimal:
    # + 0 turns a negative zero (a negated 0.00 VAT) into 0.00: "-0.00" breaks BR-IC-09
    return amount.quantize(CENT) + 0


def build_cii(data: DocumentData) -> bytes:
    """The CII XML of a document (not yet validated: see :mod:`.validation`)."""
    doc = Document()
    doc.context.guideline_parameter.id = XRECHNUNG if data.xrechnung else EN16931
    doc.header.id = data.number
    doc.header.type_code = data.kind.value
    doc.header.issue_date_time = data.issue_date
    for note in data.notes:
        included = IncludedNote()
        included.content = note.text
        if note.subject:
            included.subject_code = note.subject
        doc.header.notes.add(included)

    agreement = doc.trade.agreement
    if data.buyer.buyer_reference:  # BT-10: the buyer's own reference, not our order number
        agreement.buyer_reference = data.buyer.buyer_reference
    _seller(agreement.seller, data.seller, contact=data.xrechnung)
    _buyer(agreement.buyer, data.buyer)
    if data.order_number:
        agreement.seller_order.issuer_assigned_id = data.order_number

    delivery = doc.trade.delivery
    # BT-72: without a known date of supply it is the issue date, as the note on the
    # document says ("Leistungsdatum entspricht Rechnungsdatum"); K needs one (BR-IC-11)
    delivery.event.occurrence = data.supply_date or data.issue_date
    if any(row.category is VatCategory.INTRA_COMMUNITY for row in data.breakdown):
        ship_to = delivery.ship_to
        ship_to.name = data.buyer.display_name
        _address(
            ship_to, data.buyer.street, data.buyer.postcode, data.buyer.city, data.buyer.country
        )

    for line in data.lines:
        doc.trade.items.add(_line(line))

    settlement = doc.trade.settlement
    settlement.currency_code = data.currency
    if data.seller.iban:
        means = PaymentMeans()
        means.type_code = SEPA_CREDIT_TRANSFER
        means.payee_account.iban = data.seller.iban.replace(" ", "")
        if data.seller.bic:
            means.payee_institution.bic = data.seller.bic
        settlement.payment_means.add(means)
    for row in data.breakdown:
        tax = ApplicableTradeTax()
        tax.calculated_amount = money(row.vat)
        tax.type_code = "VAT"
        if row.category in EXEMPTION:
            code, text_de, _ = EXEMPTION[row.category]
            tax.exemption_reason = text_de
            tax.exemption_reason_code = code
        tax.basis_amount = money(row.basis)
        tax.category_code = row.category.value
        tax.rate_applicable_percent = money(row.rate)
        settlement.trade_tax.add(tax)
    for allowance in data.allowances:
        charge = TradeAllowanceCharge()
        charge.indicator = False
        charge.actual_amount = money(allowance.amount)
        charge.reason_code = allowance.reason_code
        charge.reason = allowance.reason
        category = CategoryTradeTax()
        category.type_code = "VAT"
        category.category_code = allowance.category.value
        category.rate_applicable_percent = money(allowance.rate)
        charge.trade_tax.add(category)
        settlement.allowance_charge.add(charge)
    if data.due_date or data.payment_terms:
        terms = PaymentTerms()
        if data.payment_terms:
            terms.description = data.payment_terms
        if data.due_date:
            terms.due = data.due_date
        settlement.terms.add(terms)
    summation = settlement.monetary_summation
    summation.line_total = money(data.line_total)
    summation.charge_total = Decimal("0.00")
    summation.allowance_total = money(data.allowance_total)
    summation.tax_basis_total = money(data.net_total)
    summation.tax_total = (money(data.vat_total), data.currency)
    summation.grand_total = money(data.gross_total)
    summation.due_amount = money(data.gross_total)
    if data.original_number:
        settlement.invoice_referenced_document.issuer_assigned_id = data.original_number
        if data.original_date:
            settlement.invoice_referenced_document.issue_date_time = data.original_date

    xml: bytes = doc.serialize(schema=None)
    return xml


def _address(party: TradeParty, street: str, postcode: str, city: str, country: str) -> None:
    party.address.line_one = street
    party.address.postcode = postcode
    party.address.city_name = city
    party.address.country_id = country


def _seller(party: TradeParty, seller: Seller, *, contact: bool) -> None:
    party.name = seller.legal_name
    details = [d for d in (seller.registry, _directors(seller)) if d]
    if details:
        party.description = "; ".join(details)
    if contact:
        party.contact.person_name = seller.contact_name or seller.legal_name
        if seller.phone:
            party.contact.telephone.number = seller.phone
        party.contact.email.address = seller.email
    _address(party, seller.street, seller.postcode, seller.city, seller.country)
    party.electronic_address.uri_ID = ("EM", seller.email)
    if seller.vat_id:
        party.tax_registrations.add(TaxRegistration(id=("VA", seller.vat_id)))
    if seller.tax_number:
        party.tax_registrations.add(TaxRegistration(id=("FC", seller.tax_number)))


def _directors(seller: Seller) -> str | None:
    if not seller.managing_directors:
        return None
    return "Geschäftsführung: " + ", ".join(seller.managing_directors)


def _buyer(party: TradeParty, buyer: Buyer) -> None:
    party.name = buyer.display_name
    if buyer.company:
        party.contact.person_name = buyer.name
    _address(party, buyer.street, buyer.postcode, buyer.city, buyer.country)
    party.electronic_address.uri_ID = ("EM", buyer.email)
    if buyer.vat_id:
        party.tax_registrations.add(TaxRegistration(id=("VA", buyer.vat_id)))


def _line(line: Line) -> LineItem:
    item = LineItem()
    item.document.line_id = str(line.line_no)
    if line.sku:
        item.product.seller_assigned_id = line.sku
    item.product.name = line.description
    item.agreement.net.amount = line.unit_net
    item.delivery.billed_quantity = (line.quantity, line.unit_code)
    item.settlement.trade_tax.type_code = "VAT"
    item.settlement.trade_tax.category_code = line.category.value
    item.settlement.trade_tax.rate_applicable_percent = money(line.rate)
    item.settlement.monetary_summation.total_amount = money(line.line_net)
    return item
