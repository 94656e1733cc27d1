"""Events owned by the billing service: invoices, credit notes and payments."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from pydantic import AwareDatetime, Field

from ..envelope import ContractModel, Event
from ..money import Amount, Currency, VatRate
from ..personal import NotPersonal, Personal
from .common import Address, Customer, Id, Quantity, Sku

__all__ = [
    "CreditNoteIssued",
    "IncomingInvoiceApproved",
    "IncomingInvoiceReceived",
    "InvoiceCancelled",
    "InvoiceIssued",
    "InvoiceLine",
    "PaymentOverdue",
    "PaymentReceived",
    "PaymentRefunded",
    "QuoteAccepted",
    "QuotedLine",
    "VatBreakdown",
]


class InvoiceLine(ContractModel):
    line_no: int = Field(ge=1)
    sku: Sku | None = Field(default=None, description="None for shipping and other charges")
    description: Annotated[str, NotPersonal("the product's or the charge's name")] = Field(
        min_length=1
    )
    quantity: Quantity
    unit_price_net: Amount
    vat_rate: VatRate
    net: Amount
    vat: Amount
    gross: Amount


class VatBreakdown(ContractModel):
    """One row of the VAT summary per rate (§14 Abs. 4 Nr. 8 UStG)."""

    vat_rate: VatRate
    net: Amount
    vat: Amount
    gross: Amount
    category: str | None = Field(
        default=None, description="EN 16931 VAT category code, e.g. S, Z, E, AE, K"
    )


# --- billing.invoice.v1 (key: invoice_id) ------------------------------------------


class InvoiceIssued(Event):
    """An invoice was issued (numbered, immutable from now on)."""

    event_type = "InvoiceIssued"

    invoice_id: Id
    number: str = Field(min_length=1, description="Invoice number (fortlaufend, unique)")
    order_id: Id
    customer: Customer
    billing_address: Address
    issue_date: date
    currency: Currency
    lines: list[InvoiceLine] = Field(min_length=1)
    vat_breakdown: list[VatBreakdown] = Field(min_length=1)
    net_total: Amount
    vat_total: Amount
    gross_total: Amount
    due_date: date
    delivery_date: date | None = Field(default=None, description="Leistungsdatum")
    buyer_vat_id: Annotated[str | None, Personal("vat_id")] = None
    payment_method: str | None = None
    order_number: str | None = None
    document_id: str | None = Field(
        default=None, description="Id of the stored PDF/XML (ZUGFeRD/XRechnung) document"
    )


class InvoiceCancelled(Event):
    """An invoice was cancelled by a cancellation invoice (Stornorechnung)."""

    event_type = "InvoiceCancelled"

    invoice_id: Id
    number: str = Field(min_length=1)
    reason: str = Field(min_length=1)
    cancellation_number: str = Field(min_length=1, description="Number of the Storno document")
    order_id: Id | None = None
    cancelled_at: AwareDatetime | None = None


class CreditNoteIssued(Event):
    """A credit note (Rechnungskorrektur) was issued against an invoice, e.g. for a return."""

    event_type = "CreditNoteIssued"

    credit_note_id: Id
    number: str = Field(min_length=1)
    invoice_id: Id
    order_id: Id
    currency: Currency
    net_total: Amount
    vat_total: Amount
    gross_total: Amount
    reason: str = Field(min_length=1)
    return_id: Id | None = None
    vat_breakdown: list[VatBreakdown] = Field(default_factory=list)
    issue_date: date | None = None


# --- billing.payment.v1 (key: order_id) --------------------------------------------


class PaymentReceived(Event):
    """Money for an order arrived (bank transfer, PSP capture, direct debit)."""

    event_type = "PaymentReceived"

    payment_id: Id
    order_id: Id
    invoice_id: Id | None = None
    amount: Amount
    currency: Currency
    method: str = Field(min_length=1, description="e.g. bank_transfer, paypal, card, sepa")
    received_at: AwareDatetime
    reference: Annotated[str | None, Personal("text")] = Field(
        default=None, description="Remittance info / PSP reference"
    )
    invoice_number: str | None = Field(default=None, description="The invoice it was applied to")
    open_amount: Amount | None = Field(
        default=None, description="What the invoice still asks after this payment"
    )
    overpaid_amount: Amount | None = Field(
        default=None, description="Money beyond what the invoice asks: the customer's credit"
    )
    source: str | None = Field(default=None, description="manual, stripe or bank")


class PaymentOverdue(Event):
    """An invoice is past its due date and not fully paid (dunning starts)."""

    event_type = "PaymentOverdue"

    invoice_id: Id
    order_id: Id
    amount_due: Amount
    currency: Currency
    due_date: date
    days_overdue: int = Field(ge=1)
    invoice_number: str | None = None
    dunning_level: int | None = Field(default=None, ge=0)
    customer: Customer | None = None
    notice_number: str | None = Field(
        default=None, description="Number of the reminder or dunning notice (e.g. MA-2026-000001)"
    )
    fee: Amount | None = Field(default=None, description="Dunning fee of this level")
    interest: Amount | None = Field(default=None, description="Default interest so far")
    flat_fee: Amount | None = Field(
        default=None, description="§288 (5) BGB flat fee (business customers, once)"
    )


class PaymentRefunded(Event):
    """Money went back to the customer (e.g. a card refund) and was booked against the invoice."""

    event_type = "PaymentRefunded"

    payment_id: Id = Field(description="Id of the refund (the provider's refund or charge id)")
    order_id: Id
    invoice_id: Id | None = None
    invoice_number: str | None = None
    amount: Amount = Field(description="The amount refunded, a positive figure")
    currency: Currency
    method: str = Field(min_length=1)
    refunded_at: AwareDatetime
    reference: Annotated[str | None, Personal("text")] = None
    open_amount: Amount | None = None
    source: str | None = None


#: Suppliers are the merchant's business partners, not the customers a privacy request is
#: about; their invoices are booking vouchers kept for §147 AO (docs/privacy.md).
_SUPPLIER = "a supplier's business identity on its invoice, a booking voucher (§147 AO)"


# --- billing.payable.v1 (key: invoice_id, the incoming invoice's id) -----------------


class IncomingInvoiceReceived(Event):
    """A supplier's invoice was received and kept (also when its validation refused it)."""

    event_type = "IncomingInvoiceReceived"

    invoice_id: Id
    status: str = Field(
        min_length=1, description="incomplete, received (awaits approval) or refused"
    )
    validation: str = Field(
        min_length=1,
        description="accepted, accepted_with_warnings, refused or not_checked (plain PDF)",
    )
    format: str = Field(min_length=1, description="cii, ubl, facturx-pdf or pdf")
    sha256: str = Field(pattern="^[0-9a-f]{64}$", description="Of the file as received")
    received_at: AwareDatetime
    number: str | None = Field(default=None, description="The supplier's invoice number")
    supplier_name: Annotated[str | None, NotPersonal(_SUPPLIER)] = None
    supplier_vat_id: Annotated[str | None, NotPersonal(_SUPPLIER)] = None
    issue_date: date | None = None
    due_date: date | None = None
    currency: Currency | None = None
    gross_total: Amount | None = None
    amount_due: Amount | None = None
    rule_ids: list[str] = Field(default_factory=list, description="Failed rules, if refused")
    duplicate_suspected: bool = False


class IncomingInvoiceApproved(Event):
    """A person approved a supplier's invoice for payment and booked it to an account."""

    event_type = "IncomingInvoiceApproved"

    invoice_id: Id
    number: str = Field(min_length=1)
    supplier_name: Annotated[str, NotPersonal(_SUPPLIER)] = Field(min_length=1)
    currency: Currency
    amount_due: Amount
    expense_account: str = Field(
        pattern="^[0-9]{4,8}$", description="SKR03/SKR04 account the expense is booked to"
    )
    approved_at: AwareDatetime
    approved_by: str = Field(min_length=1)
    supplier_iban: Annotated[str | None, NotPersonal(_SUPPLIER)] = None
    supplier_bic: str | None = None
    supplier_vat_id: Annotated[str | None, NotPersonal(_SUPPLIER)] = None
    issue_date: date | None = None
    due_date: date | None = None
    skonto_percent: Amount | None = Field(
        default=None, description="Cash discount (Skonto) in percent, e.g. '2.00'"
    )
    skonto_until: date | None = None
    amount_after_skonto: Amount | None = Field(
        default=None, description="What to pay by skonto_until"
    )
    net_total: Amount | None = None
    vat_total: Amount | None = None
    gross_total: Amount | None = None


# --- billing.quote.v1 (key: quote_number) ------------------------------------------


class QuotedLine(ContractModel):
    """One line of an accepted quote, at the price the quote froze (not today's)."""

    line_no: int = Field(ge=1)
    sku: Sku
    name: Annotated[str, NotPersonal("the product's name")] = Field(min_length=1)
    quantity: Quantity
    unit_price_net: Amount = Field(description="Quoted net per piece, after the discount")
    unit_price_gross: Amount = Field(description="Quoted gross per piece, after the discount")
    vat_rate: VatRate


class QuoteAccepted(Event):
    """The buyer accepted a quote (Angebot) in time: orders places the order at the
    quoted prices, once per quote number."""

    event_type = "QuoteAccepted"

    quote_number: str = Field(min_length=1, description="e.g. AN-2026-000001")
    customer: Customer
    billing_address: Address
    shipping_address: Address | None = Field(
        default=None, description="None: ship to the billing address"
    )
    buyer_vat_id: Annotated[str | None, Personal("vat_id")] = None
    buyer_reference: Annotated[
        str | None, NotPersonal("a public-sector buyer's Leitweg-ID, an authority's routing id")
    ] = None
    currency: Currency
    lines: list[QuotedLine] = Field(min_length=1)
    valid_until: date
    accepted_at: AwareDatetime
