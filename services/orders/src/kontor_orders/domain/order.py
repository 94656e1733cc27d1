"""An order and how its lines are priced. Pure: no framework, broker or database."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from decimal import Decimal
from functools import partial
from typing import Any, cast

from kontor_contracts.bounds import MAX_LINES, MAX_QUANTITY, MAX_UNIT_PRICE, MAX_VAT_RATE
from kontor_contracts.eu_vat import is_distance_sale
from kontor_contracts.money import quantize
from kontor_servicekit.aggregate import RecordsEvents
from kontor_servicekit.clock import BERLIN
from kontor_servicekit.domain_errors import (
    Conflict,
    IllegalTransition,
    Invalid,
    Location,
    NotFound,
)
from kontor_servicekit.shipping_rates import shipping_gross, shipping_vat
from kontor_servicekit.vat_ids import EU_MEMBER_STATES, country_of

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
from kontor_orders.domain.oss import destination_priced
from kontor_orders.domain.pricing import GoodsLine, price_goods, unit_gross_of

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
    "partially_returned",
    "returned",
)
CANCELLABLE = frozenset({"placed", "confirmed", "paid"})
#: The shipping queue (GET /orders/to-ship).
TO_SHIP = frozenset({"confirmed", "paid", "partially_shipped"})
#: Pieces still to ship can go out; a partly returned order may still have some (it is
#: not in the queue: the status cannot tell whether pieces are left).
SHIPPABLE = TO_SHIP | {"partially_returned"}
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
class VatRow:
    """Net, VAT and gross at one rate: of an order (goods and shipping), or a shipping part."""

    vat_rate: Decimal
    net: Decimal
    vat: Decimal

    @property
    def gross(self) -> Decimal:
        return self.net + self.vat


@dataclass(frozen=True)
class ShippingCharge:
    """What the customer pays for delivery; ``standard_gross`` is what the
    standard method would have cost (the most a withdrawal refunds, §357 (2) BGB).

    Shipping follows the VAT of the goods: ``split`` holds (rate, net part) pairs in
    proportion to the goods' net per rate (:mod:`kontor_orders.domain.pricing`);
    empty (an order stored before the split), the whole net is at ``vat_rate``.
    ``vat_rate`` is the rate of the largest part.
    """

    method: str
    net: Decimal
    vat_rate: Decimal
    currency: str
    carrier: str | None = None
    standard_gross: Decimal | None = None
    split: tuple[tuple[Decimal, Decimal], ...] = ()

    @property
    def parts(self) -> list[VatRow]:
        pairs = self.split or ((self.vat_rate, self.net),)
        return [VatRow(rate, net, shipping_vat(net, rate, self.currency)) for rate, net in pairs]

    @property
    def vat(self) -> Decimal:
        if not self.split:
            return shipping_vat(self.net, self.vat_rate, self.currency)
        return sum((part.vat for part in self.parts), Decimal("0"))

    @property
    def gross(self) -> Decimal:
        if not self.split:
            return shipping_gross(self.net, self.vat_rate, self.currency)
        return self.net + self.vat


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
    price_gross: Decimal | None = None
    """The displayed gross the catalog announced; None: derived from the net."""

    @property
    def unit_price_gross(self) -> Decimal:
        if self.price_gross is not None:
            return self.price_gross
        return unit_gross_of(self.price_net, self.vat_rate, self.currency)


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


#: Why an intra-community supply carries no VAT, as its documents say (§14a Abs. 3 UStG).
INTRA_COMMUNITY_NOTE = "Steuerfreie innergemeinschaftliche Lieferung (§4 Nr. 1b, §6a UStG)"

#: ``domestic``: German VAT; ``intra_community_supply``: VAT-free (§4 Nr. 1b, §6a UStG);
#: ``oss_distance_sale``: a consumer abroad taxed at the destination's rates (§3c UStG,
#: One-Stop-Shop, ADR 0026; the order's ``vat_country``).
VAT_TREATMENTS = ("domestic", "intra_community_supply", "oss_distance_sale")


def vat_treatment(buyer_vat_id: str | None, shipping_address: Address) -> str:
    """``intra_community_supply`` for a business buyer with a VAT id of another member
    state whose goods go to another member state; else ``domestic``.

    The VAT id's format and check digits are checked before (``parties``); whether
    it is assigned is for VIES (:class:`VatIdCheck`, pending until confirmed).
    """
    if buyer_vat_id is None:
        return "domestic"
    destination = shipping_address.country
    buyer_state = country_of(buyer_vat_id)
    if (
        destination != "DE"
        and destination in EU_MEMBER_STATES
        and buyer_state != "DE"
        and (buyer_state in EU_MEMBER_STATES or buyer_vat_id.startswith("XI"))
    ):
        return "intra_community_supply"
    return "domestic"


@dataclass(frozen=True)
class VatIdCheck:
    """How the buyer's VAT id was checked: format and check digits at placement
    (offline); the VIES confirmation is ``pending`` until a merchant confirms it."""

    vat_id: str
    checked_at: datetime
    vies: str = "pending"  # pending | confirmed
    confirmed_by: str | None = None
    confirmed_at: datetime | None = None
    reference: str | None = None
    """The VIES consultation number or a note of how it was confirmed."""


@dataclass(frozen=True)
class Customer:
    email: str
    name: str
    customer_id: str | None = None


@dataclass(frozen=True)
class OrderLine:
    """One priced line, its amounts fixed at placement (:func:`pricing.price_goods`),
    in the minor unit of the order's ``currency``."""

    line_no: int
    sku: str
    name: str
    quantity: int
    unit_price_net: Decimal
    vat_rate: Decimal
    currency: str
    unit_price_gross: Decimal
    line_net: Decimal
    line_vat: Decimal
    line_gross: Decimal

    @classmethod
    def rounded_from_net(
        cls,
        line_no: int,
        sku: str,
        name: str,
        quantity: int,
        unit_price_net: Decimal,
        vat_rate: Decimal,
        currency: str,
    ) -> OrderLine:
        """A line as orders stored before ADR 0017 priced it: net rounded per line,
        VAT rounded per line from it (their figures stay what the customer paid)."""
        line_net = quantize(unit_price_net * quantity, currency)
        line_vat = quantize(line_net * vat_rate, currency)
        return cls(
            line_no,
            sku,
            name,
            quantity,
            unit_price_net,
            vat_rate,
            currency,
            unit_gross_of(unit_price_net, vat_rate, currency),
            line_net,
            line_vat,
            line_net + line_vat,
        )


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
    buyer_reference: str | None = None  # Leitweg-ID of a public-sector buyer
    locale: str | None = None  # the customer's language (BCP 47), for documents and mails
    coupon_codes: list[str] = field(default_factory=list)
    cart_id: str | None = None
    payment_method: str | None = None
    shipments: list[Shipment] = field(default_factory=list)
    amount_paid: Decimal = Decimal("0")
    paid_at: datetime | None = None
    delivered_at: datetime | None = None
    returned: dict[int, int] = field(default_factory=dict)
    """line_no -> pieces booked for return (announced and not released, or received)."""
    taken_back: dict[int, int] = field(default_factory=dict)
    """line_no -> pieces that came back (received by a return): the order's returned status."""
    refunded_lines: dict[int, Decimal] = field(default_factory=dict)
    """line_no -> gross refunded on that line (returns, complaints)."""
    refunded_shipping: Decimal = Decimal("0")
    refunded_total: Decimal = Decimal("0")
    """Every refund booked on the order (lines, shipping, a withdrawn order's payment)."""
    price_basis: str = "net"
    """``gross`` for a consumer, ``net`` for a business buyer (ADR 0017)."""
    vat_treatment: str = "domestic"
    vat_id_check: VatIdCheck | None = None
    discount_gross: Decimal | None = None
    """The coupons' discount, gross, already in the lines; None: no coupon applied."""
    coupon_discounts: dict[str, Decimal] = field(default_factory=dict)
    """``discount_gross`` per code (what marketing reports as CouponRedeemed)."""

    def line_discounts(self) -> dict[int, Decimal]:
        """line_no -> what the coupons took off the line, gross: the line at its unit
        gross price less the line as charged (every line 0 without a coupon)."""
        if not self.discount_gross:
            return {line.line_no: Decimal("0") for line in self.lines}
        return {
            line.line_no: max(  # a line without a share: 0.00, in cents like the others
                quantize(line.unit_price_gross * line.quantity, self.currency) - line.line_gross,
                Decimal("0"),
            )
            for line in self.lines
        }

    vat_country: str | None = None
    """The member state whose rates the order carries when it is not Germany's: a
    distance sale under the One-Stop-Shop (``oss_distance_sale``, ADR 0026)."""
    distance_sale_net: Decimal | None = None
    """The net this order added to the year's distance sales (a consumer abroad); None:
    it counts for nothing (domestic, business, placed before ADR 0026, or taken back)."""
    quote_number: str | None = None
    """The accepted quote (billing's Angebot) the order was placed from, at its prices."""

    @property
    def goods_gross(self) -> Decimal:
        return sum((line.line_gross for line in self.lines), Decimal("0"))

    @property
    def vat_exempt(self) -> bool:
        return self.vat_treatment == "intra_community_supply"

    @property
    def vat_note(self) -> str | None:
        """What the order's documents must say about its VAT, if anything."""
        return INTRA_COMMUNITY_NOTE if self.vat_exempt else None

    @property
    def vat_breakdown(self) -> list[VatRow]:
        """Net and VAT per rate, goods and shipping, highest rate first."""
        net: dict[Decimal, Decimal] = {}
        vat: dict[Decimal, Decimal] = {}
        rows = [(line.vat_rate, line.line_net, line.line_vat) for line in self.lines]
        if self.shipping is not None:
            rows += [(p.vat_rate, p.net, p.vat) for p in self.shipping.parts]
        for rate, n, v in rows:
            key = rate.normalize()
            net[key] = net.get(key, Decimal("0")) + n
            vat[key] = vat.get(key, Decimal("0")) + v
        return [VatRow(r, net[r], vat[r]) for r in sorted(net, reverse=True)]

    @property
    def goods_net_by_rate(self) -> dict[Decimal, Decimal]:
        """The goods' net per VAT rate: what the shipping's VAT is split by."""
        by_rate: dict[Decimal, Decimal] = {}
        for line in self.lines:
            key = line.vat_rate.normalize()
            by_rate[key] = by_rate.get(key, Decimal("0")) + line.line_net
        return by_rate

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
        discounts: Sequence[Decimal] = (),
        buyer_reference: str | None = None,
        vat_country: str | None = None,
        quote_number: str | None = None,
        locale: str | None = None,
    ) -> Order:
        """Price the requested (sku, quantity) lines from the known products.

        The price is fixed at this moment: a later price change does not touch
        an order that was placed. ``discounts`` (coupons, :mod:`coupons`): what is
        taken off each requested line's basis (gross for a consumer, net for a business
        buyer), in the order of ``requested``; empty: nothing. ``vat_country`` (a
        consumer's distance sale under the One-Stop-Shop, decided by
        :mod:`kontor_orders.domain.oss`) prices every line at that state's rate for the
        German one, gross prices unchanged (ADR 0026).
        """
        if now.tzinfo is None:
            raise ValueError("time must be timezone-aware")
        require_company_for_vat_id(buyer_vat_id, shipping_address, billing_address)
        if not requested:
            raise OrderError(("lines",), "an order needs at least one line")
        if len(requested) > MAX_LINES:
            raise OrderError(("lines",), f"an order has at most {MAX_LINES} lines")
        treatment = vat_treatment(buyer_vat_id, shipping_address)
        if vat_country is not None:
            if treatment != "domestic" or buyer_vat_id is not None:
                raise ValueError("only a consumer's sale is taxed in the destination state")
            treatment = "oss_distance_sale"
            chosen_rates = partial(destination_priced, vat_country, now.astimezone(BERLIN).date())
        basis = "gross" if buyer_vat_id is None else "net"
        chosen: list[tuple[int, str, int, PricedProduct]] = []
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
            if not (0 <= product.price_net <= MAX_UNIT_PRICE and product.vat_rate <= MAX_VAT_RATE):
                # only a price announced before the bounds of ADR 0014 can be outside them
                raise OrderError(
                    ("lines", index, "sku"),
                    f"{sku!r} has a price outside the bounds (at most {MAX_UNIT_PRICE:,} net)",
                )
            currencies.add(product.currency)
            if vat_country is not None:
                try:
                    product = chosen_rates(product)
                except (KeyError, ValueError) as exc:
                    raise OrderError(
                        ("lines", index, "sku"), f"{sku!r}: no VAT rate of {vat_country}: {exc}"
                    ) from exc
            chosen.append((index + 1, sku, quantity, product))
        if len(currencies) != 1:
            raise OrderError(("lines",), "all lines of an order must have the same currency")
        currency = currencies.pop()
        exempt = treatment == "intra_community_supply"
        lines = _priced_lines(chosen, basis, currency, exempt=exempt, discounts=discounts)
        undiscounted = _priced_lines(chosen, basis, currency, exempt=exempt)
        order = cls(
            id=order_id,
            number=number,
            customer=customer,
            shipping_address=shipping_address,
            billing_address=billing_address,
            lines=lines,
            currency=currency,
            placed_at=now,
            timeline=[TimelineEntry("placed", now, "placed")],
            shipping=shipping,
            buyer_vat_id=buyer_vat_id,
            buyer_reference=buyer_reference,
            locale=locale,
            coupon_codes=list(coupon_codes or []),
            payment_method=payment_method,
            cart_id=cart_id,
            price_basis=basis,
            vat_treatment=treatment,
            vat_id_check=None if buyer_vat_id is None else VatIdCheck(buyer_vat_id, now),
            discount_gross=sum((x.line_gross for x in undiscounted), Decimal("0"))
            - sum((x.line_gross for x in lines), Decimal("0"))
            if any(discounts)
            else None,
            vat_country=vat_country,
            quote_number=quote_number,
        )
        if is_distance_sale(buyer_vat_id, shipping_address.country):
            order.distance_sale_net = order.net_total
        order.record(OrderWasPlaced(order_id))
        return order

    def take_back_distance_sale(self) -> Decimal | None:
        """The net to take off the year's distance sales now that the order is rejected or
        cancelled (never supplied), once; None: nothing to take back."""
        if self.status not in CLOSED or self.distance_sale_net is None:
            return None
        net, self.distance_sale_net = self.distance_sale_net, None
        return net

    @property
    def subject(self) -> str:
        """How errors name this order."""
        return f"order {self.number}"

    def confirm_vat_id(self, *, by: str, reference: str | None, now: datetime) -> None:
        """A merchant confirmed the buyer's VAT id (VIES, by hand); twice changes nothing."""
        check = self.vat_id_check
        if check is None:
            raise Conflict(f"{self.subject} has no buyer VAT id to confirm")
        if check.vies == "confirmed":
            return
        self.vat_id_check = VatIdCheck(
            check.vat_id, check.checked_at, "confirmed", by, now, reference
        )
        self._log("vat_id_confirmed", now, vat_id=check.vat_id, by=by, reference=reference)

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

    def record_refund(
        self, refund_id: str, amount: Decimal, currency: str, refunded_at: datetime
    ) -> None:
        """Money went back to the customer: ``amount_paid`` goes down by the refund, never
        below 0, and the refund shows on the timeline. The status and ``paid_at`` stay
        (a refunded order was still paid and shipped). A refund already on the timeline
        (same refund id, e.g. republished under a new event id) changes nothing; one in
        another currency is refused (Conflict), like a payment.
        """
        if currency != self.currency:
            raise Conflict(f"refund in {currency} for an order in {self.currency}")
        if any(
            e.event == "payment_refunded" and e.details.get("refund_id") == refund_id
            for e in self.timeline
        ):
            return
        taken = min(amount, self.amount_paid)
        self.amount_paid -= taken
        details: dict[str, Any] = {"refund_id": refund_id, "amount": str(amount)}
        if taken != amount:
            details["beyond_paid"] = str(amount - taken)
        self._log("payment_refunded", refunded_at, **details)

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
        if self.status == "partially_returned":
            status = self.status  # goods came back: shipping the rest does not hide that
        else:
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

    @property
    def _deliverable(self) -> bool:
        if self.status == "shipped":
            return True
        # some pieces came back before the delivery was recorded: the rest was delivered
        return (
            self.status == "partially_returned"
            and self.delivered_at is None
            and self.completely_shipped
        )

    def deliver(self, delivered_at: datetime, now: datetime) -> None:
        """The carrier delivered everything; starts the withdrawal period.
        Records OrderWasDelivered. A fully returned order is never delivered; a partly
        returned one keeps its status (the delivery is on the timeline)."""
        if not self._deliverable:
            raise self._refused("deliver")
        if delivered_at.tzinfo is None:
            raise ValueError("time must be timezone-aware")
        if delivered_at > now:
            raise OrderError(("delivered_at",), "delivery cannot be in the future")
        last_shipped = max(s.shipped_at for s in self.shipments)
        if delivered_at < last_shipped:
            raise OrderError(("delivered_at",), "delivery cannot be before the last shipment")
        self.delivered_at = delivered_at
        if self.status == "partially_returned":
            self._log("delivered", delivered_at)
        else:
            self._move("delivered", delivered_at)
        last = self.shipments[-1].shipment_id if self.shipments else None
        self.record(OrderWasDelivered(self.id, delivered_at, last))

    def take_back(self, pieces: dict[int, int], now: datetime, **details: Any) -> None:
        """Returned pieces (line_no -> quantity) arrived: the order is ``returned`` when
        every ordered piece came back, else ``partially_returned``."""
        if self.status not in ("partially_shipped", "shipped", "delivered", "partially_returned"):
            raise self._refused("take back goods of")
        for line_no, quantity in pieces.items():
            self.taken_back[line_no] = self.taken_back.get(line_no, 0) + quantity
        everything = all(
            self.taken_back.get(line.line_no, 0) >= line.quantity for line in self.lines
        )
        status = "returned" if everything else "partially_returned"
        if status != self.status:
            self._move(status, now, **details)

    def fully_returned(self, line_no: int) -> bool:
        """Every shipped piece of the line is back or on its way back."""
        shipped = self.shipped_quantity(line_no)
        return shipped > 0 and self.returned.get(line_no, 0) >= shipped

    def note(self, event: str, now: datetime, **details: Any) -> None:
        """Put something that happened around the order (return, complaint) on its timeline."""
        self._log(event, now, **details)


def _priced_lines(
    chosen: list[tuple[int, str, int, PricedProduct]],
    basis: str,
    currency: str,
    *,
    exempt: bool,
    discounts: Sequence[Decimal] = (),
) -> list[OrderLine]:
    """The lines priced by ADR 0017; an exempt supply carries 0 % on every line;
    ``discounts``: what comes off each line's basis (none: nothing)."""
    goods = [
        GoodsLine(
            quantity=quantity,
            unit_price_net=product.price_net,
            unit_price_gross=product.price_net if exempt else product.unit_price_gross,
            vat_rate=Decimal("0") if exempt else product.vat_rate,
        )
        for _, _, quantity, product in chosen
    ]
    if any(discounts):
        bases = [
            a.gross if basis == "gross" else a.net for a in price_goods(goods, basis, currency)
        ]
        if len(discounts) != len(goods) or not all(
            Decimal("0") <= share <= line for share, line in zip(discounts, bases, strict=True)
        ):
            raise OrderError(("coupon_codes",), "the discount exceeds the goods")
        goods = [replace(g, discount=share) for g, share in zip(goods, discounts, strict=True)]
    amounts = price_goods(goods, basis, currency)
    return [
        OrderLine(
            line_no=line_no,
            sku=sku,
            name=product.name,
            quantity=quantity,
            unit_price_net=product.price_net,
            vat_rate=good.vat_rate,
            currency=currency,
            unit_price_gross=good.unit_price_gross,
            line_net=amount.net,
            line_vat=amount.vat,
            line_gross=amount.gross,
        )
        for (line_no, sku, quantity, product), good, amount in zip(
            chosen, goods, amounts, strict=True
        )
    ]
