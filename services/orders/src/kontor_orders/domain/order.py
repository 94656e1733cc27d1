"""An order and how its lines are priced. Pure: no framework, broker or database."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal

CENT = Decimal("0.01")
MAX_QUANTITY = 999


def cents(amount: Decimal) -> Decimal:
    return amount.quantize(CENT, rounding=ROUND_HALF_UP)


class OrderError(ValueError):
    """An order that cannot be placed; ``field`` is the path of the bad input."""

    def __init__(self, field: tuple[str | int, ...], message: str) -> None:
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class PricedProduct:
    """What the order service knows of a product (from catalog events)."""

    sku: str
    name: str
    price_net: Decimal
    vat_rate: Decimal
    currency: str
    discontinued: bool = False


@dataclass(frozen=True)
class Address:
    name: str
    street: str
    postcode: str
    city: str
    country: str
    company: str | None = None


@dataclass(frozen=True)
class Customer:
    email: str
    name: str
    customer_id: str | None = None


@dataclass(frozen=True)
class OrderLine:
    """One priced line. VAT and gross are derived and rounded per line."""

    line_no: int
    sku: str
    name: str
    quantity: int
    unit_price_net: Decimal
    vat_rate: Decimal

    @property
    def unit_price_gross(self) -> Decimal:
        return cents(self.unit_price_net * (1 + self.vat_rate))

    @property
    def line_net(self) -> Decimal:
        return cents(self.unit_price_net * self.quantity)

    @property
    def line_vat(self) -> Decimal:
        return cents(self.line_net * self.vat_rate)

    @property
    def line_gross(self) -> Decimal:
        return self.line_net + self.line_vat


@dataclass
class Order:
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
    history: list[tuple[str, datetime]] = field(default_factory=list)

    @property
    def net_total(self) -> Decimal:
        return sum((line.line_net for line in self.lines), Decimal("0"))

    @property
    def vat_total(self) -> Decimal:
        return sum((line.line_vat for line in self.lines), Decimal("0"))

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
    ) -> Order:
        """Price the requested (sku, quantity) lines from the known products.

        The price is fixed at this moment: a later price change does not touch
        an order that was placed.
        """
        if now.tzinfo is None:
            raise ValueError("time must be timezone-aware")
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
            currencies.add(product.currency)
            lines.append(
                OrderLine(
                    line_no=index + 1,
                    sku=sku,
                    name=product.name,
                    quantity=quantity,
                    unit_price_net=product.price_net,
                    vat_rate=product.vat_rate,
                )
            )
        if len(currencies) != 1:
            raise OrderError(("lines",), "all lines of an order must have the same currency")
        return cls(
            id=order_id,
            number=number,
            customer=customer,
            shipping_address=shipping_address,
            billing_address=billing_address,
            lines=lines,
            currency=currencies.pop(),
            placed_at=now,
            history=[("placed", now)],
        )
