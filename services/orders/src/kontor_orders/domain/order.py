"""An order and how its lines are priced. Pure: no framework, broker or database."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any, cast

from kontor_contracts.money import quantize
from kontor_servicekit.aggregate import RecordsEvents
from kontor_servicekit.domain_errors import (
    Conflict,
    IllegalTransition,
    Invalid,
    Location,
    NotFound,
)
from kontor_servicekit.shipping_rates import shipping_gross, shipping_vat

from kontor_orders.domain.events import (
    OrderWasCancelled,
    OrderWasConfirmed,
    OrderWasDelivered,
    OrderWasPaid,
    OrderWasPlaced,
    OrderWasRejected,
    OrderWasShipped,
    PaymentWasRecorded,
)

MAX_QUANTITY = 999

#: Every status an order can have, in the order of its life.
STATUSES = (
    "placed",
    "confirmed",
    "rejected",
    "cancelled",
    "paid",
    "partially_shipped",
    "shipped",
    "delivered",
)
CANCELLABLE = frozenset({"placed", "confirmed", "paid"})
SHIPPABLE = frozenset({"confirmed", "paid", "partially_shipped"})
CLOSED = frozenset({"rejected", "cancelled"})

#: How the customer pays (carried in OrderPlaced); None: not told (no payment rule applies).
PAYMENT_METHODS = ("prepayment", "invoice", "paypal", "card", "sepa_direct_debit")
#: The reason of the cancellation of a prepayment order not paid in time; the same
#: string as ``kontor_contracts.events.orders.PREPAYMENT_NOT_RECEIVED`` (the domain
#: imports no contracts), which the catalog reads as "reservation expired".
PREPAYMENT_NOT_RECEIVED = "prepayment_not_received"


_LOCATIONS = ("body", "path", "query", "header")


class OrderError(Invalid, ValueError):
    """Input the order service refuses; ``field`` is the path of the bad input.

    The path is in the request body unless it starts with its location
    (``("path", "sku")``); the kit answers 422 with the field's ``loc`` and pointer.
    """

    def __init__(
        self, field: tuple[str | int, ...], message: str, *, type_: str = "value_error"
    ) -> None:
        location: Location = "body"
        path = field
        if field and field[0] in _LOCATIONS:
            location, path = cast(Location, field[0]), field[1:]
        super().__init__(message, field=path, type_=type_, location=location)
        self._given = field

    @property
    def field(self) -> tuple[str | int, ...]:
        """The path as given, with its location if one was given."""
        return self._given


class UnknownOrder(NotFound):
    def __init__(self, key: str) -> None:
        super().__init__("order", key)


@dataclass(frozen=True)
class TimelineEntry:
    """One thing that happened to an order; ``status`` is the order's status afterwards."""

    event: str
    at: datetime
    status: str
    details: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Shipment:
    shipment_id: str
    carrier: str
    tracking_number: str | None
    lines: tuple[tuple[int, int], ...]  # (line_no, quantity)
    shipped_at: datetime


@dataclass(frozen=True)
class ShippingCharge:
    """What the customer pays for delivery; ``standard_gross`` is what the
    standard method would have cost (the most a withdrawal refunds, §357 (2) BGB)."""

    method: str
    net: Decimal
    vat_rate: Decimal
    currency: str
    carrier: str | None = None
    standard_gross: Decimal | None = None

    @property
    def vat(self) -> Decimal:
        return shipping_vat(self.net, self.vat_rate, self.currency)

    @property
    def gross(self) -> Decimal:
        return shipping_gross(self.net, self.vat_rate, self.currency)


@dataclass(frozen=True)
class PricedProduct:
    """What the order service knows of a product (from catalog events)."""

    sku: str
    name: str
    price_net: Decimal
    vat_rate: Decimal
    currency: str
    discontinued: bool = False
    weight_grams: int | None = None
    has_variants: bool = False
    """A parent (the "T-shirt"): what is ordered is one of its variants (red, size M)."""


@dataclass(frozen=True)
class Address:
    name: str
    street: str
    postcode: str
    city: str
    country: str
    company: str | None = None


def require_company_for_vat_id(
    buyer_vat_id: str | None, shipping_address: Address, billing_address: Address | None
) -> None:
    """A buyer with a VAT id is a business: its name must be on the invoice address
    (the billing address, else the shipping address)."""
    invoice_to = "billing_address" if billing_address else "shipping_address"
    if buyer_vat_id and not (billing_address or shipping_address).company:
        raise OrderError(
            (invoice_to, "company"),
            "a buyer with a VAT id needs the company name on the invoice address",
            type_="missing",
        )


@dataclass(frozen=True)
class Customer:
    email: str
    name: str
    customer_id: str | None = None


@dataclass(frozen=True)
class OrderLine:
    """One priced line. VAT and gross are derived and rounded per line, to the
    minor unit of the order's ``currency``."""

    line_no: int
    sku: str
    name: str
    quantity: int
    unit_price_net: Decimal
    vat_rate: Decimal
    currency: str

    @property
    def unit_price_gross(self) -> Decimal:
        return quantize(self.unit_price_net * (1 + self.vat_rate), self.currency)

    @property
    def line_net(self) -> Decimal:
        return quantize(self.unit_price_net * self.quantity, self.currency)

    @property
    def line_vat(self) -> Decimal:
        return quantize(self.line_net * self.vat_rate, self.currency)

    @property
    def line_gross(self) -> Decimal:
        return self.line_net + self.line_vat


@dataclass
class Order(RecordsEvents):
    id: str
    number: str
    customer: Customer
    shipping_address: Address
    billing_address: Address | None
    lines: list[OrderLine]
    currency: str
    placed_at: datetime
    status: str = "placed"
    version: int = 1
    timeline: list[TimelineEntry] = field(default_factory=list)
    shipping: ShippingCharge | None = None
    buyer_vat_id: str | None = None
    coupon_codes: list[str] = field(default_factory=list)
    cart_id: str | None = None
    payment_method: str | None = None
    shipments: list[Shipment] = field(default_factory=list)
    amount_paid: Decimal = Decimal("0")
    paid_at: datetime | None = None
    delivered_at: datetime | None = None
    returned: dict[int, int] = field(default_factory=dict)  # line_no -> pieces returned

    @property
    def net_total(self) -> Decimal:
        goods = sum((line.line_net for line in self.lines), Decimal("0"))
        return goods + (self.shipping.net if self.shipping else Decimal("0"))

    @property
    def vat_total(self) -> Decimal:
        goods = sum((line.line_vat for line in self.lines), Decimal("0"))
        return goods + (self.shipping.vat if self.shipping else Decimal("0"))

    @property
    def gross_total(self) -> Decimal:
        return self.net_total + self.vat_total

    @classmethod
    def place(
        cls,
        *,
        order_id: str,
        number: str,
        customer: Customer,
        shipping_address: Address,
        billing_address: Address | None,
        requested: list[tuple[str, int]],
        products: dict[str, PricedProduct],
        now: datetime,
        shipping: ShippingCharge | None = None,
        buyer_vat_id: str | None = None,
        coupon_codes: list[str] | None = None,
        cart_id: str | None = None,
        payment_method: str | None = None,
    ) -> Order:
        """Price the requested (sku, quantity) lines from the known products.

        The price is fixed at this moment: a later price change does not touch
        an order that was placed.
        """
        if now.tzinfo is None:
            raise ValueError("time must be timezone-aware")
        require_company_for_vat_id(buyer_vat_id, shipping_address, billing_address)
        if not requested:
            raise OrderError(("lines",), "an order needs at least one line")
        lines: list[OrderLine] = []
        currencies: set[str] = set()
        seen: set[str] = set()
        for index, (sku, quantity) in enumerate(requested):
            if not 1 <= quantity <= MAX_QUANTITY:
                raise OrderError(("lines", index, "quantity"), f"between 1 and {MAX_QUANTITY}")
            if sku in seen:
                raise OrderError(
                    ("lines", index, "sku"), f"{sku!r} appears twice; one line per SKU"
                )
            seen.add(sku)
            product = products.get(sku)
            if product is None:
                raise OrderError(("lines", index, "sku"), f"unknown SKU {sku!r}")
            if product.discontinued:
                raise OrderError(("lines", index, "sku"), f"{sku!r} is discontinued")
            if product.has_variants:
                raise OrderError(("lines", index, "sku"), f"{sku!r} has variants: order one")
            currencies.add(product.currency)
            lines.append(
                OrderLine(
                    line_no=index + 1,
                    sku=sku,
                    name=product.name,
                    quantity=quantity,
                    unit_price_net=product.price_net,
                    vat_rate=product.vat_rate,
                    currency=product.currency,
                )
            )
        if len(currencies) != 1:
            raise OrderError(("lines",), "all lines of an order must have the same currency")
        order = cls(
            id=order_id,
            number=number,
            customer=customer,
            shipping_address=shipping_address,
            billing_address=billing_address,
            lines=lines,
            currency=currencies.pop(),
            placed_at=now,
            timeline=[TimelineEntry("placed", now, "placed")],
            shipping=shipping,
            buyer_vat_id=buyer_vat_id,
            coupon_codes=list(coupon_codes or []),
            payment_method=payment_method,
            cart_id=cart_id,
        )
        order.record(OrderWasPlaced(order_id))
        return order

    @property
    def subject(self) -> str:
        """How errors name this order."""
        return f"order {self.number}"

    # ------------------------------------------------------------------ life cycle
    #
    # Events from other services (reservations, payments) may arrive in any order
    # relative to each other and to HTTP calls. Their handlers never raise for a
    # state they do not fit: they note what happened on the timeline and change
    # the status only where that is meaningful. HTTP commands, in contrast, raise
    # IllegalTransition (409) when the order is in the wrong state. A change others
    # must hear of records its domain event (``domain/events.py``); a change that
    # changes nothing records nothing.

    def _log(self, event: str, now: datetime, **details: Any) -> None:
        if now.tzinfo is None:
            raise ValueError("time must be timezone-aware")
        self.timeline.append(TimelineEntry(event, now, self.status, details))

    def _move(self, status: str, now: datetime, **details: Any) -> None:
        self.status = status
        self._log(status, now, **details)

    def _refused(self, action: str) -> IllegalTransition:
        return IllegalTransition(self.subject, action, self.status)

    @property
    def fully_paid(self) -> bool:
        return self.amount_paid >= self.gross_total

    def confirm(self, now: datetime) -> None:
        """Stock is reserved: records OrderWasConfirmed (and OrderWasPaid if it was paid
        in full before).

        A payment that arrived before the reservation is applied right after the
        confirmation, so the order goes on to ``paid``. A reservation for an order
        that was cancelled meanwhile only lands on the timeline (the catalog
        releases it on OrderCancelled).
        """
        if self.status != "placed":
            # a second answer for a live order is a duplicate: nothing to note
            if self.status in CLOSED:
                self._log("stock_reserved_ignored", now, reason=f"order is {self.status}")
            return
        self._move("confirmed", now)
        self.record(OrderWasConfirmed(self.id, now))
        if self.fully_paid:
            self._move("paid", now, paid_at=self.paid_at)
            self.record(OrderWasPaid(self.id, now))

    def reject(self, reason: str, details: list[str], now: datetime) -> None:
        """The reservation failed: records OrderWasRejected if the order was placed."""
        if self.status != "placed":
            if self.status in CLOSED:
                self._log("reservation_rejected_ignored", now, reason=f"order is {self.status}")
            else:
                # contradicts the reservation this order was confirmed on: keep it visible
                self._log("reservation_rejected_after_confirmation", now, reason=reason)
            return
        self._move("rejected", now, reason=reason, details=details)
        self.record(OrderWasRejected(self.id, reason, tuple(details)))
        if self.amount_paid > 0:
            self._log("refund_due", now, amount=str(self.amount_paid))

    def record_payment(
        self, payment_id: str, amount: Decimal, currency: str, received_at: datetime
    ) -> None:
        """Money arrived: records PaymentWasRecorded, and OrderWasPaid when it makes a
        confirmed order ``paid``.

        Paid before confirmation: remembered, applied on confirmation. Paid after
        shipping (e.g. on invoice): recorded, the shipping status stays. Paid for a
        rejected or cancelled order: recorded as a refund that is due. A payment in
        another currency is refused (Conflict): it cannot be added up.
        """
        if currency != self.currency:
            raise Conflict(f"payment in {currency} for an order in {self.currency}")
        self.amount_paid += amount
        was_paid = self.paid_at is not None
        if self.fully_paid and not was_paid:
            self.paid_at = received_at
        self._log("payment_received", received_at, payment_id=payment_id, amount=str(amount))
        self.record(PaymentWasRecorded(self.id, payment_id, amount))
        if self.status in CLOSED:
            self._log("refund_due", received_at, amount=str(amount))
            return
        if self.status == "confirmed" and self.fully_paid:
            self._move("paid", received_at)
            self.record(OrderWasPaid(self.id, received_at))

    def cancel(self, reason: str, cancelled_by: str, now: datetime) -> None:
        """Cancel before shipping: records OrderWasCancelled with the lines to release."""
        if self.status not in CANCELLABLE:
            raise self._refused("cancel")
        self._move("cancelled", now, reason=reason, cancelled_by=cancelled_by)
        if self.amount_paid > 0:
            self._log("refund_due", now, amount=str(self.amount_paid))
        lines = tuple((line.sku, line.quantity) for line in self.lines)
        self.record(OrderWasCancelled(self.id, reason, cancelled_by, lines))

    def awaits_prepayment_since(self, now: datetime, days: int) -> bool:
        """A prepayment order, reserved but not (fully) paid, placed ``days`` or more ago."""
        return (
            self.payment_method == "prepayment"
            and self.status == "confirmed"
            and self.amount_paid < self.gross_total
            and now - self.placed_at >= timedelta(days=days)
        )

    def expire_prepayment(self, now: datetime, days: int) -> None:
        """Cancel a prepayment order not paid within ``days`` (records OrderWasCancelled,
        so its reserved stock goes back); one paid or changed meanwhile stays as it is."""
        if self.awaits_prepayment_since(now, days):
            self.cancel(PREPAYMENT_NOT_RECEIVED, "system", now)

    def shipped_quantity(self, line_no: int) -> int:
        return sum(q for s in self.shipments for n, q in s.lines if n == line_no)

    @property
    def completely_shipped(self) -> bool:
        return all(self.shipped_quantity(line.line_no) >= line.quantity for line in self.lines)

    def open_lines(self) -> list[tuple[OrderLine, int]]:
        """The lines with pieces still to ship, and how many; none of a closed order."""
        if self.status in CLOSED:
            return []
        return [
            (line, open_)
            for line in self.lines
            if (open_ := line.quantity - self.shipped_quantity(line.line_no)) > 0
        ]

    def ship(
        self,
        *,
        shipment_id: str,
        carrier: str,
        tracking_number: str | None,
        lines: list[tuple[int, int]],
        now: datetime,
    ) -> None:
        """Record a shipment of (line_no, quantity): records OrderWasShipped;
        raises OrderError for bad lines."""
        if self.status not in SHIPPABLE:
            raise self._refused("ship")
        if not lines:
            raise OrderError(("lines",), "a shipment needs at least one line")
        by_no = {line.line_no: line for line in self.lines}
        seen: set[int] = set()
        for index, (line_no, quantity) in enumerate(lines):
            line = by_no.get(line_no)
            if line is None:
                raise OrderError(("lines", index, "line_no"), f"the order has no line {line_no}")
            if line_no in seen:
                raise OrderError(("lines", index, "line_no"), f"line {line_no} appears twice")
            seen.add(line_no)
            open_ = line.quantity - self.shipped_quantity(line_no)
            if not 1 <= quantity <= open_:
                raise OrderError(
                    ("lines", index, "quantity"),
                    f"line {line_no} has {open_} piece(s) left to ship",
                )
        shipment = Shipment(shipment_id, carrier, tracking_number, tuple(lines), now)
        self.shipments.append(shipment)
        status = "shipped" if self.completely_shipped else "partially_shipped"
        self._move(
            status,
            now,
            shipment_id=shipment_id,
            carrier=carrier,
            tracking_number=tracking_number,
            lines=[{"line_no": n, "quantity": q} for n, q in lines],
        )
        self.record(
            OrderWasShipped(
                order_id=self.id,
                shipment_id=shipment_id,
                carrier=carrier,
                tracking_number=tracking_number,
                lines=tuple((n, by_no[n].sku, q) for n, q in shipment.lines),
                complete=self.completely_shipped,
                shipped_at=now,
            )
        )

    def deliver(self, delivered_at: datetime, now: datetime) -> None:
        """The carrier delivered everything; starts the withdrawal period.
        Records OrderWasDelivered."""
        if self.status != "shipped":
            raise self._refused("deliver")
        if delivered_at.tzinfo is None:
            raise ValueError("time must be timezone-aware")
        if delivered_at > now:
            raise OrderError(("delivered_at",), "delivery cannot be in the future")
        last_shipped = max(s.shipped_at for s in self.shipments)
        if delivered_at < last_shipped:
            raise OrderError(("delivered_at",), "delivery cannot be before the last shipment")
        self.delivered_at = delivered_at
        self._move("delivered", delivered_at)
        last = self.shipments[-1].shipment_id if self.shipments else None
        self.record(OrderWasDelivered(self.id, delivered_at, last))

    def note(self, event: str, now: datetime, **details: Any) -> None:
        """Put something that happened around the order (return, complaint) on its timeline."""
        self._log(event, now, **details)
