"""A shopping cart: lines priced as the catalog stands, checkout, abandonment. Pure.

open -> checkout -> ordered, or checkout -> abandoned after a quiet period. A
change to an abandoned cart opens it again (the customer came back); an ordered
cart is closed for good.

Checkout prices the lines as the catalog stands then and fixes those prices for a
stated time (``prices_locked_until``, a setting): an order from the cart charges
them, even if the catalog changed meanwhile. After that time (or without a
checkout) the order is placed only if no price changed since the customer saw it;
otherwise it is refused with 409 naming the changed lines (ADR 0018).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from decimal import Decimal

from kontor_contracts.bounds import MAX_LINES, MAX_QUANTITY
from kontor_contracts.money import quantize
from kontor_servicekit.aggregate import RecordsEvents
from kontor_servicekit.domain_errors import Conflict, IllegalTransition, NotFound

from kontor_orders.domain.events import (
    CartWasAbandoned,
    CartWasChanged,
    CartWasOrdered,
    CheckoutWasStarted,
)
from kontor_orders.domain.order import OrderError, PricedProduct
from kontor_orders.domain.pricing import unit_gross_of

MAX_CART_LINES = MAX_LINES
CART_STATUSES = ("open", "checkout", "ordered", "abandoned")


@dataclass(frozen=True)
class CartLine:
    sku: str
    name: str
    quantity: int
    unit_price_net: Decimal
    vat_rate: Decimal
    currency: str
    price_gross: Decimal | None = None
    """The displayed unit gross when the line was priced; None (older carts): from the net."""

    @classmethod
    def priced(cls, product: PricedProduct, quantity: int) -> CartLine:
        return cls(
            product.sku,
            product.name,
            quantity,
            product.price_net,
            product.vat_rate,
            product.currency,
            product.unit_price_gross,
        )

    @property
    def unit_price_gross(self) -> Decimal:
        if self.price_gross is not None:
            return self.price_gross
        return unit_gross_of(self.unit_price_net, self.vat_rate, self.currency)

    @property
    def gross(self) -> Decimal:
        """Quantity x displayed unit gross, as a consumer's order line (ADR 0017)."""
        return self.quantity * self.unit_price_gross

    @property
    def line_net(self) -> Decimal:
        return quantize(self.unit_price_net * self.quantity, self.currency)

    def same_price(self, product: PricedProduct) -> bool:
        return (self.unit_price_net, self.unit_price_gross, self.vat_rate) == (
            product.price_net,
            product.unit_price_gross,
            product.vat_rate,
        )

    def as_product(self, current: PricedProduct) -> PricedProduct:
        """``current`` at this line's price (the locked one)."""
        return replace(
            current,
            price_net=self.unit_price_net,
            vat_rate=self.vat_rate,
            price_gross=self.unit_price_gross,
        )


class PricesChanged(Conflict):
    """The prices the customer saw are no longer locked and some changed (409)."""

    def __init__(self, cart_id: str, changed: list[dict[str, str]]) -> None:
        skus = ", ".join(line["sku"] for line in changed)
        super().__init__(
            f"prices changed since checkout of cart {cart_id} for {skus}; "
            "check out again to see the new prices",
            details={"changed_lines": changed},
        )


class UnknownCart(NotFound):
    def __init__(self, key: str) -> None:
        super().__init__("cart", key)


class NoSuchLine(NotFound):
    def __init__(self, cart_id: str, sku: str) -> None:
        super().__init__("cart line", sku, message=f"cart {cart_id!r} holds no {sku!r}")


@dataclass
class Cart(RecordsEvents):
    id: str
    created_at: datetime
    last_activity_at: datetime
    currency: str = "EUR"
    customer_email: str | None = None
    status: str = "open"
    lines: list[CartLine] = field(default_factory=list)
    checkout_started_at: datetime | None = None
    order_id: str | None = None
    abandoned_at: datetime | None = None
    prices_locked_until: datetime | None = None
    """Until when an order from this cart charges the prices of its checkout."""

    @classmethod
    def open(cls, *, cart_id: str, customer_email: str | None, now: datetime) -> Cart:
        """A new, empty cart: records CartWasChanged (the empty cart is announced)."""
        cart = cls(id=cart_id, created_at=now, last_activity_at=now, customer_email=customer_email)
        cart.record(CartWasChanged(cart_id))
        return cart

    @property
    def subject(self) -> str:
        return f"cart {self.id}"

    @property
    def value(self) -> Decimal:
        """Gross value: the sum of quantity x displayed unit gross, as the order will be."""
        return sum((line.gross for line in self.lines), Decimal("0.00"))

    def _touch(self, now: datetime) -> None:
        if now.tzinfo is None:
            raise ValueError("time must be timezone-aware")
        if self.status == "ordered":
            raise IllegalTransition(self.subject, "change", "ordered")
        if self.status == "abandoned":
            self.status = "open"
            self.abandoned_at = None
        self.last_activity_at = now
        self.prices_locked_until = None  # a changed cart is checked out again

    def set_line(
        self, product: PricedProduct | None, sku: str, quantity: int, now: datetime
    ) -> None:
        """Put ``quantity`` pieces of ``sku`` in the cart, priced as the catalog stands
        (records CartWasChanged)."""
        if product is None:
            raise OrderError(("path", "sku"), f"unknown SKU {sku!r}")
        if product.discontinued:
            raise OrderError(("path", "sku"), f"{sku!r} is discontinued")
        if product.has_variants:
            raise OrderError(("path", "sku"), f"{sku!r} has variants: add one of them")
        if not 1 <= quantity <= MAX_QUANTITY:
            raise OrderError(("body", "quantity"), f"between 1 and {MAX_QUANTITY}")
        others = [line for line in self.lines if line.sku != sku]
        if others and product.currency != self.currency:
            raise OrderError(("path", "sku"), f"{sku!r} is priced in {product.currency}")
        if len(others) >= MAX_CART_LINES:
            raise OrderError(("path", "sku"), f"a cart holds at most {MAX_CART_LINES} lines")
        self._touch(now)
        line = CartLine.priced(product, quantity)
        position = next((i for i, x in enumerate(self.lines) if x.sku == sku), None)
        if position is None:
            self.lines.append(line)
        else:
            self.lines[position] = line
        self.currency = product.currency
        self.record(CartWasChanged(self.id))

    def remove_line(self, sku: str, now: datetime) -> None:
        """Take ``sku`` out (records CartWasChanged); NoSuchLine if it is not in the cart."""
        if all(line.sku != sku for line in self.lines):
            raise NoSuchLine(self.id, sku)
        self._touch(now)
        self.lines = [line for line in self.lines if line.sku != sku]
        self.record(CartWasChanged(self.id))

    def start_checkout(
        self,
        now: datetime,
        products: dict[str, PricedProduct] | None = None,
        lock: timedelta = timedelta(0),
    ) -> None:
        """Price the lines as the catalog stands now and fix those prices until
        ``now + lock`` (records CheckoutWasStarted). A line whose product is gone
        or discontinued is refused with its path."""
        if self.status not in ("open", "checkout", "abandoned"):
            raise IllegalTransition(self.subject, "check out", self.status)
        if not self.lines:
            raise OrderError(("path", "cart_id"), "the cart is empty")
        if products is not None:
            repriced = []
            for index, line in enumerate(self.lines):
                product = products.get(line.sku)
                if product is None or product.discontinued:
                    raise OrderError(
                        ("lines", index, "sku"), f"{line.sku!r} can no longer be ordered"
                    )
                repriced.append(CartLine.priced(product, line.quantity))
            self.lines = repriced
        self._touch(now)
        self.status = "checkout"
        self.checkout_started_at = now
        self.prices_locked_until = now + lock
        self.record(CheckoutWasStarted(self.id))

    def prices_for_order(
        self, current: dict[str, PricedProduct], now: datetime
    ) -> dict[str, PricedProduct]:
        """The products to price the order from: at the locked prices while the lock
        holds, else the current ones if no price changed; PricesChanged otherwise.
        A product no longer known is left out (the order names its line)."""
        locked = self.prices_locked_until is not None and now <= self.prices_locked_until
        changed: list[dict[str, str]] = []
        priced: dict[str, PricedProduct] = {}
        for line in self.lines:
            product = current.get(line.sku)
            if product is None:
                continue
            if locked:
                priced[line.sku] = line.as_product(product)
                continue
            if not line.same_price(product):
                changed.append(
                    {
                        "sku": line.sku,
                        "unit_price_gross_seen": str(line.unit_price_gross),
                        "unit_price_gross_now": str(product.unit_price_gross),
                    }
                )
            priced[line.sku] = product
        if changed:
            raise PricesChanged(self.id, changed)
        return priced

    def is_abandoned(self, now: datetime, quiet: timedelta) -> bool:
        return self.status == "checkout" and self.last_activity_at + quiet <= now

    def abandon(self, now: datetime, quiet: timedelta) -> None:
        """Records CartWasAbandoned if the cart has been quiet in checkout for ``quiet``."""
        if not self.is_abandoned(now, quiet):
            return
        self.record(CartWasAbandoned(self.id, self.last_activity_at))
        self.status = "abandoned"
        self.abandoned_at = now

    def order_from(self) -> list[tuple[str, int]]:
        """The (sku, quantity) to order; raises if the cart cannot be ordered."""
        if self.status == "ordered":
            raise IllegalTransition(self.subject, "order", "ordered")
        if not self.lines:
            raise OrderError(("cart_id",), "the cart is empty")
        return [(line.sku, line.quantity) for line in self.lines]

    def mark_ordered(self, order_id: str, now: datetime) -> None:
        self.order_from()
        self.status = "ordered"
        self.order_id = order_id
        self.last_activity_at = now
        self.record(CartWasOrdered(self.id, order_id))
