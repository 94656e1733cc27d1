"""The assortment's rules: what a product is, how it changes and what it records.

Pure Python: no web framework, broker, database or pydantic here. The product is an
aggregate: each change records a domain event (``domain/events.py``) that the use
case turns into the contract event; a change that changes nothing records nothing.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from kontor_contracts.bounds import MAX_STOCK_MOVE, MAX_UNIT_PRICE
from kontor_servicekit.aggregate import RecordsEvents
from kontor_servicekit.domain_errors import IllegalTransition

from kontor_catalog.domain.errors import ProductError
from kontor_catalog.domain.events import (
    PriceWasChanged,
    ProductWasCreated,
    ProductWasDiscontinued,
    ProductWasUpdated,
)
from kontor_catalog.domain.gtin import gtin_problem
from kontor_catalog.domain.pricing import (
    VAT_RATES,
    PricePoint,
    check_content,
    check_price,
    gross_price,
    net_from_gross,
)

__all__ = [
    "DESCRIPTIVE_FIELDS",
    "SKU_PATTERN",
    "VAT_RATES",
    "Product",
    "ProductError",
    "gross_price",
]

#: No "/": a SKU is one segment of a URL path (``/products/{sku}``).
SKU_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._\-]{0,63}$")

#: What ``PATCH /products/{sku}`` may change (announced with ProductUpdated).
DESCRIPTIVE_FIELDS = (
    "name",
    "name_en",
    "description",
    "description_en",
    "brand",
    "gtin",
    "categories",
    "attributes",
    "weight_grams",
)


@dataclass
class Product(RecordsEvents):
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
    name_en: str | None = None
    description_en: str | None = None
    brand: str | None = None
    categories: list[str] = field(default_factory=list)
    attributes: dict[str, str] = field(default_factory=dict)
    parent_sku: str | None = None
    variant_attributes: dict[str, str] | None = None
    discontinued_at: datetime | None = None
    weight_grams: int | None = None
    discontinue_reason: str | None = None
    price_basis: str = "net"
    """How the current price was entered: ``net`` or ``gross`` (kept on a VAT change)."""

    @property
    def vat_rate(self) -> Decimal:
        return VAT_RATES[self.vat_class]

    @property
    def price_gross(self) -> Decimal:
        return gross_price(self.price_net, self.vat_class, self.currency)

    @classmethod
    def create(
        cls,
        *,
        sku: str,
        name: str,
        price_net: Decimal | None,
        currency: str,
        vat_class: str,
        stock: int,
        now: datetime,
        description: str | None = None,
        gtin: str | None = None,
        content_quantity: Decimal | None = None,
        content_unit: str | None = None,
        name_en: str | None = None,
        description_en: str | None = None,
        brand: str | None = None,
        categories: list[str] | None = None,
        attributes: dict[str, str] | None = None,
        parent_sku: str | None = None,
        variant_attributes: dict[str, str] | None = None,
        weight_grams: int | None = None,
        price_gross: Decimal | None = None,
    ) -> Product:
        """A new product; its price is ``price_net`` or ``price_gross`` (exactly one)."""
        if not SKU_PATTERN.match(sku):
            raise ProductError("sku", "letters, digits and . _ - only, at most 64 characters")
        if not name.strip():
            raise ProductError("name", "must not be blank")
        if vat_class not in VAT_RATES:
            raise ProductError("vat_class", f"one of {', '.join(VAT_RATES)}")
        if (price_net is None) == (price_gross is None):
            raise ProductError("price", "give either net or gross")
        if price_gross is not None:
            if price_gross < 0:
                raise ProductError("price.gross", "must not be negative")
            price_net = net_from_gross(price_gross, vat_class)
        assert price_net is not None
        if price_net < 0:
            raise ProductError("price.net", "must not be negative")
        if price_net > MAX_UNIT_PRICE:
            raise ProductError("price.net", f"at most {MAX_UNIT_PRICE:,} per piece (ADR 0014)")
        if not 0 <= stock <= MAX_STOCK_MOVE:
            raise ProductError("stock", f"between 0 and {MAX_STOCK_MOVE:,}")
        if now.tzinfo is None:
            raise ValueError("time must be timezone-aware")
        if (content_quantity is None) != (content_unit is None):
            raise ProductError("content", "quantity and unit go together")
        if content_quantity is not None and content_quantity <= 0:
            raise ProductError("content.quantity", "must be positive")
        if gtin is not None and (problem := gtin_problem(gtin)) is not None:
            raise ProductError("gtin", problem)
        if (parent_sku is None) != (not variant_attributes):
            raise ProductError(
                "variant_attributes", "a variant has a parent_sku and variant_attributes"
            )
        if weight_grams is not None and weight_grams < 0:
            raise ProductError("weight_grams", "must not be negative")
        if parent_sku == sku:
            raise ProductError("parent_sku", "a product is not a variant of itself")
        if content_quantity is not None and content_unit is not None:
            check_content(content_quantity, content_unit)
        product = cls(
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
            name_en=name_en,
            description_en=description_en,
            brand=brand,
            categories=list(dict.fromkeys(categories or [])),
            attributes=dict(attributes or {}),
            parent_sku=parent_sku,
            variant_attributes=dict(variant_attributes) if variant_attributes else None,
            weight_grams=weight_grams,
            price_basis="net" if price_gross is None else "gross",
        )
        product.record(ProductWasCreated(sku))
        return product

    @property
    def first_price(self) -> PricePoint:
        """The price the product was created with, in effect from its creation."""
        return PricePoint(self.created_at, self.price_net, self.vat_class, self.currency)

    def update(self, changes: Mapping[str, Any]) -> None:
        """Apply descriptive changes (field -> new value, None clears).

        Records :class:`ProductWasUpdated` with the fields that changed, if any.
        Prices, stock and the variant relation do not change here.
        """
        unknown = set(changes) - set(DESCRIPTIVE_FIELDS)
        if unknown:
            raise ProductError(sorted(unknown)[0], "cannot be changed here")
        if "name" in changes and (changes["name"] is None or not str(changes["name"]).strip()):
            raise ProductError("name", "must not be blank")
        gtin = changes.get("gtin")
        if gtin is not None and (problem := gtin_problem(gtin)) is not None:
            raise ProductError("gtin", problem)
        if "name" in changes:
            changes = {**changes, "name": str(changes["name"]).strip()}
        if "categories" in changes:
            changes = {**changes, "categories": list(dict.fromkeys(changes["categories"] or []))}
        if "attributes" in changes:
            changes = {**changes, "attributes": dict(changes["attributes"] or {})}
        changed = []
        for name in DESCRIPTIVE_FIELDS:
            if name in changes and getattr(self, name) != changes[name]:
                setattr(self, name, changes[name])
                changed.append(name)
        if changed:
            self.record(ProductWasUpdated(self.sku, tuple(changed)))

    def change_price(
        self,
        net: Decimal | None,
        vat_class: str,
        now: datetime,
        *,
        gross: Decimal | None = None,
    ) -> None:
        """A new net or gross price and/or VAT class from ``now`` on (records
        :class:`PriceWasChanged`).

        Neither net nor gross: only the VAT class changes, and the price that was
        entered stays (a gross-entered price keeps its gross, its net follows the new
        rate). The same price again changes and records nothing.
        """
        basis = self.price_basis
        if net is not None and gross is not None:
            raise ProductError("price", "give either net or gross")
        if gross is None and net is None and basis == "gross":
            gross = self.price_gross
        if gross is not None:
            net, basis = net_from_gross(gross, vat_class), "gross"
        elif net is None:
            net = self.price_net
        else:
            basis = "net"
        check_price(net, vat_class)
        if self.price_net == net and self.vat_class == vat_class:
            self.price_basis = basis
            return
        old_net, old_gross = self.price_net, self.price_gross
        self.price_net, self.vat_class, self.price_basis = net, vat_class, basis
        self.record(
            PriceWasChanged(
                self.sku, old_net, old_gross, PricePoint(now, net, vat_class, self.currency)
            )
        )

    def discontinue(self, now: datetime, reason: str | None) -> None:
        """Stop selling it (records :class:`ProductWasDiscontinued`); twice is refused."""
        if self.discontinued:
            raise IllegalTransition(f"product {self.sku}", "discontinue", "discontinued")
        self.discontinued = True
        self.discontinued_at = now
        self.discontinue_reason = reason
        self.record(ProductWasDiscontinued(self.sku, reason, now))
