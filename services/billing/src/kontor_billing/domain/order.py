"""Billing's own read model of an order: what it needs to invoice, and when.

Billing invoices an order once, on the event the merchant chooses (``confirmed``, the
default, or the first shipment), from the OrderPlaced it stored; the events may come
in either order (a confirmation before the placement it confirms). An order orders
rejected or cancelled before its invoice is never invoiced; an order only placed
(say, an OrderPlaced from outside for an order orders never confirms) neither.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Literal

InvoiceOn = Literal["confirmed", "shipped"]


@dataclass(frozen=True)
class Buyer:
    name: str
    email: str
    street: str
    postcode: str
    city: str
    country: str
    company: str | None = None
    vat_id: str | None = None
    buyer_reference: str | None = None
    """Leitweg-ID of a public-sector buyer (XRechnung BT-10), if the order has one."""
    language: str | None = None
    """The language of the buyer's documents, ``de`` or ``en``: from the order's locale, else
    the merchant's choice for the buyer's e-mail when invoiced (``PUT /buyers/{email}/
    language``), else German. None: not known yet."""
    payment_term_days: int | None = None
    """Days to pay agreed with the buyer when invoiced (``PUT /buyers/{email}/payment-terms``);
    None: the default ``PAYMENT_TERM_DAYS``. Kept on the document like the language."""


def language_of(locale: str | None) -> str | None:
    """The documents' language for an order's locale (``en-GB`` -> ``en``): German unless
    the customer chose English; None without a locale."""
    text = (locale or "").strip().lower()
    if not text:
        return None
    return "en" if text[:2] == "en" else "de"


@dataclass(frozen=True)
class OrderedLine:
    """An order line as the customer saw it (amounts rounded per line by orders)."""

    line_no: int
    sku: str | None
    description: str
    quantity: int
    unit_price_net: Decimal
    unit_price_gross: Decimal
    vat_rate: Decimal
    net: Decimal
    vat: Decimal

    @property
    def gross(self) -> Decimal:
        return self.net + self.vat


@dataclass(frozen=True)
class PlacedOrder:
    order_number: str | None
    buyer: Buyer
    currency: str
    lines: list[OrderedLine]
    shipping: list[OrderedLine] = field(default_factory=list)
    """The shipping charge, one line per VAT rate it was split over."""
    placed_at: datetime | None = None
    exemption_note: str | None = None
    """Set for a VAT-free intra-community supply: the note the documents carry."""
    discount_gross: Decimal | None = None
    coupon_codes: tuple[str, ...] = ()
    destination_country: str | None = None
    """Where the goods go (the shipping address): a distance sale's member state."""
    vat_country: str | None = None
    """A distance sale taxed in the destination state (One-Stop-Shop, ADR 0026): the
    lines carry that state's rates; None: German VAT (or the exemption)."""
    payment_method: str | None = None
    """As the order says (invoice, prepayment, card, ...): the receivable keeps it."""


@dataclass
class BilledOrder:
    order_id: str
    placed: PlacedOrder | None = None
    confirmed_at: datetime | None = None
    shipped_at: datetime | None = None
    """The first shipment's time (the date of supply when known)."""
    rejected: bool = False
    cancelled: bool = False
    invoice_number: str | None = None
    waiting: str | None = None
    """Why the due invoice is not issued yet (e.g. the seller's data is incomplete)."""
    rule_ids: list[str] = field(default_factory=list)
    """The e-invoice rules its document broke when it was last tried (it waits un-numbered)."""
    payments_held: bool = False
    """A provider reported a payment before OrderPlaced arrived: the payment is held
    until it does (ADR 0148). Set on this document so the two writes conflict."""

    def due(self, invoice_on: InvoiceOn) -> bool:
        """Whether the invoice is to be issued now."""
        if self.placed is None or self.rejected or self.cancelled or self.invoice_number:
            return False
        return (self.confirmed_at if invoice_on == "confirmed" else self.shipped_at) is not None

    def order_line(self, line_no: int) -> OrderedLine | None:
        if self.placed is None:
            return None
        return next((line for line in self.placed.lines if line.line_no == line_no), None)
