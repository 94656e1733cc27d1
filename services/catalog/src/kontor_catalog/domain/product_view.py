"""A product as it is shown: its prices by the PAngV, its stock, variants and images.

Pure. The §11 PAngV reference price (the lowest price of the 30 days before the
current one, and the strike-through price) and the §4 base price are derived here
from the product and its price history, for the routes and for a refusal's
``current_state`` alike.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from kontor_catalog.domain.images import ProductImage
from kontor_catalog.domain.pricing import (
    BasePrice,
    PricePoint,
    ReferencePrice,
    base_price,
    reference_price,
)
from kontor_catalog.domain.product import Product


@dataclass(frozen=True)
class ProductView:
    product: Product
    available: int
    """Pieces available (on hand minus reserved) in all warehouses."""
    history: tuple[PricePoint, ...]
    """Every price the product had (any order)."""
    variants: tuple[str, ...] = ()
    """SKUs of its variants, in order."""
    images: tuple[ProductImage, ...] = ()
    """In order."""

    @classmethod
    def of_new(cls, product: Product) -> ProductView:
        """A product just created: its first price, its legacy stock, nothing else yet."""
        return cls(product, available=product.stock, history=(product.first_price,))

    @property
    def reference(self) -> ReferencePrice:
        return reference_price(self.history)

    @property
    def base_price(self) -> BasePrice | None:
        """Grundpreis (§4 PAngV) for goods sold by measure, else None."""
        product = self.product
        if product.content_quantity is None or product.content_unit is None:
            return None
        return base_price(
            product.price_gross, product.content_quantity, product.content_unit, product.currency
        )

    def as_dict(self) -> dict[str, Any]:
        """The product as the API shows it (decimals and times as Python values)."""
        product, reference, base = self.product, self.reference, self.base_price
        has_content = product.content_quantity is not None and product.content_unit is not None
        return {
            "sku": product.sku,
            "name": product.name,
            "description": product.description,
            "gtin": product.gtin,
            "price": {
                "net": product.price_net,
                "gross": product.price_gross,
                "entered": product.price_basis,
                "currency": product.currency,
                "vat_rate": product.vat_rate,
                "lowest_30_days": reference.lowest_30_days,
                "strike_through": reference.strike_through,
                "base_price": None if base is None else {"amount": base.amount, "per": base.per},
            },
            "vat_class": product.vat_class,
            "stock": self.available,
            "discontinued": product.discontinued,
            "created_at": product.created_at,
            "content": {"quantity": product.content_quantity, "unit": product.content_unit}
            if has_content
            else None,
            "name_en": product.name_en,
            "description_en": product.description_en,
            "brand": product.brand,
            "categories": list(product.categories),
            "attributes": dict(product.attributes),
            "parent_sku": product.parent_sku,
            "variant_attributes": product.variant_attributes,
            "variants": list(self.variants),
            "images": [image.as_dict() for image in self.images],
            "weight_grams": product.weight_grams,
            "discontinued_at": product.discontinued_at,
        }

    def as_json(self) -> dict[str, Any]:
        """:meth:`as_dict` in JSON types: decimal strings, ISO times (UTC as ``Z``)."""
        plain: dict[str, Any] = _plain(self.as_dict())
        return plain


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(item) for item in value]
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, datetime):
        text = value.astimezone(UTC).isoformat() if value.tzinfo else value.isoformat()
        return text.replace("+00:00", "Z")
    return value
