"""Events owned by the billing service: invoices, credit notes and payments."""

from __future__ import annotations

from datetime import date

from pydantic import AwareDatetime, Field

from ..envelope import ContractModel, Event
from ..money import Amount, Currency, VatRate
from .common import Address, Customer, Id, Quantity, Sku

__all__ = [
    "CreditNoteIssued",
    "InvoiceCancelled",
    "InvoiceIssued",
    "InvoiceLine",
    "PaymentOverdue",
    "PaymentReceived",
    "QuoteAccepted",
    "QuotedLine",
    "VatBreakdown",
]


class InvoiceLine(ContractModel):
    line_no: int = Field(ge=1)
    sku: Sku | None = Field(default=None, description="None for shipping and other charges")
    description: str = Field(min_length=1)
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
    buyer_vat_id: str | None = None
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
    reference: str | None = Field(default=None, description="Remittance info / PSP reference")


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


# --- billing.quote.v1 (key: quote_number) ------------------------------------------


class QuotedLine(ContractModel):
    """One line of an accepted quote, at the price the quote froze (not today's)."""

    line_no: int = Field(ge=1)
    sku: Sku
    name: str = Field(min_length=1)
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
    buyer_vat_id: str | None = None
    buyer_reference: str | None = None
    currency: Currency
    lines: list[QuotedLine] = Field(min_length=1)
    valid_until: date
    accepted_at: AwareDatetime
