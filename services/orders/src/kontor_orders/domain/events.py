"""What the orders service's aggregates record when they change (see
``kontor_servicekit.aggregate``).

The application turns each into the contract event other services subscribe to, or
into none: a payment, an ordered cart and a confirmed withdrawal are facts of this
service only (the timeline shows them). A change that changes nothing records
nothing, so a redelivered event publishes nothing twice.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

# ------------------------------------------------------------------ orders


@dataclass(frozen=True)
class OrderWasPlaced:
    order_id: str


@dataclass(frozen=True)
class OrderWasConfirmed:
    order_id: str
    confirmed_at: datetime


@dataclass(frozen=True)
class OrderWasRejected:
    order_id: str
    reason: str
    details: tuple[str, ...]


@dataclass(frozen=True)
class PaymentWasRecorded:
    order_id: str
    payment_id: str
    amount: Decimal


@dataclass(frozen=True)
class OrderWasPaid:
    """The order became ``paid``: paid in full once confirmed (whichever came last)."""

    order_id: str
    paid_at: datetime


@dataclass(frozen=True)
class OrderWasCancelled:
    order_id: str
    reason: str
    cancelled_by: str
    lines: tuple[tuple[str, int], ...]
    """(sku, quantity) the catalog releases."""


@dataclass(frozen=True)
class OrderWasShipped:
    order_id: str
    shipment_id: str
    carrier: str
    tracking_number: str | None
    lines: tuple[tuple[int, str, int], ...]
    """(line_no, sku, quantity) of this shipment."""
    complete: bool
    shipped_at: datetime


@dataclass(frozen=True)
class OrderWasDelivered:
    order_id: str
    delivered_at: datetime
    shipment_id: str | None


# ------------------------------------------------------------------ carts


@dataclass(frozen=True)
class CartWasChanged:
    """Opened, a line set or removed: the whole cart is announced."""

    cart_id: str


@dataclass(frozen=True)
class CheckoutWasStarted:
    cart_id: str


@dataclass(frozen=True)
class CartWasAbandoned:
    cart_id: str
    last_activity_at: datetime


@dataclass(frozen=True)
class CartWasOrdered:
    cart_id: str
    order_id: str


# ------------------------------------------------------------------ returns


@dataclass(frozen=True)
class WithdrawalWasDeclared:
    withdrawal_id: str
    return_id: str


@dataclass(frozen=True)
class ReturnWasRequested:
    return_id: str


@dataclass(frozen=True)
class ReturnWasReceived:
    """One receipt: ``lines`` are the pieces that arrived with it (InspectedLine)."""

    return_id: str
    lines: tuple[Any, ...] = ()
    received_at: datetime | None = None


@dataclass(frozen=True)
class ReturnWasCompleted:
    return_id: str


# ------------------------------------------------------------------ complaints


@dataclass(frozen=True)
class ComplaintWasFiled:
    complaint_id: str


@dataclass(frozen=True)
class ComplaintWasResolved:
    complaint_id: str
    remedy: str
    refund_amount: Decimal | None


@dataclass(frozen=True)
class ReplacementWasRequested:
    """A replacement of ``quantity`` piece(s) is to be reserved and booked out."""

    complaint_id: str
    quantity: int
