"""The assortment's rules: what a product is and how its gross price is derived.

Pure Python: no web framework, broker, database or pydantic here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal

#: German VAT rates by class (§12 UStG): standard 19 %, reduced 7 %, zero 0 %.
VAT_RATES: dict[str, Decimal] = {
    "standard": Decimal("0.19"),
    "reduced": Decimal("0.07"),
    "zero": Decimal("0"),
}

#: No "/": a SKU is one segment of a URL path (``/products/{sku}``).
SKU_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._\-]{0,63}$")
CENT = Decimal("0.01")


class ProductError(ValueError):
    """A product that would break a rule of the assortment."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


def gross_price(net: Decimal, vat_class: str) -> Decimal:
    """Gross unit price: net plus VAT, rounded half up to the cent."""
    return (net * (1 + VAT_RATES[vat_class])).quantize(CENT, rounding=ROUND_HALF_UP)


@dataclass
class Product:
    sku: str
    name: str
    price_net: Decimal
    currency: str
    vat_class: str
    stock: int
    created_at: datetime
    description: str | None = None
    gtin: str | None = None
    discontinued: bool = False
    version: int = 1
    content_quantity: Decimal | None = None
    content_unit: str | None = None

    @property
    def vat_rate(self) -> Decimal:
        return VAT_RATES[self.vat_class]

    @property
    def price_gross(self) -> Decimal:
        return gross_price(self.price_net, self.vat_class)

    @classmethod
    def create(
        cls,
        *,
        sku: str,
        name: str,
        price_net: Decimal,
        currency: str,
        vat_class: str,
        stock: int,
        now: datetime,
        description: str | None = None,
        gtin: str | None = None,
        content_quantity: Decimal | None = None,
        content_unit: str | None = None,
    ) -> Product:
        if not SKU_PATTERN.match(sku):
            raise ProductError("sku", "letters, digits and . _ - only, at most 64 characters")
        if not name.strip():
            raise ProductError("name", "must not be blank")
        if vat_class not in VAT_RATES:
            raise ProductError("vat_class", f"one of {', '.join(VAT_RATES)}")
        if price_net < 0:
            raise ProductError("price.net", "must not be negative")
        if stock < 0:
            raise ProductError("stock", "must not be negative")
        if now.tzinfo is None:
            raise ValueError("time must be timezone-aware")
        if (content_quantity is None) != (content_unit is None):
            raise ProductError("content", "quantity and unit go together")
        if content_quantity is not None and content_quantity <= 0:
            raise ProductError("content.quantity", "must be positive")
        return cls(
            sku=sku,
            name=name.strip(),
            price_net=price_net,
            currency=currency,
            vat_class=vat_class,
            stock=stock,
            created_at=now,
            description=description,
            gtin=gtin,
            content_quantity=content_quantity,
            content_unit=content_unit,
        )
