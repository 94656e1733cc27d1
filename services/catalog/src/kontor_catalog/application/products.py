"""Use cases of the assortment: create, describe, price and discontinue products."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from kontor_contracts.events.catalog import (
    ProductCreated,
    ProductDiscontinued,
    ProductPriceChanged,
    ProductUpdated,
)
from kontor_servicekit.clock import utc_now
from kontor_servicekit.store import Store, Transaction

from kontor_catalog.domain.pricing import PricePoint, check_content, check_price
from kontor_catalog.domain.product import VAT_RATES, Product, ProductError
from kontor_catalog.domain.stock import DEFAULT_WAREHOUSE
from kontor_catalog.store.categories import missing_categories
from kontor_catalog.store.products import ProductRepository
from kontor_catalog.store.stock import StockRepository


class UnknownSku(LookupError):
    def __init__(self, sku: str) -> None:
        super().__init__(f"no product with SKU {sku!r}")
        self.sku = sku


@dataclass(frozen=True)
class CreateProduct:
    sku: str
    name: str
    price_net: Decimal
    currency: str
    vat_class: str
    stock: int
    description: str | None = None
    gtin: str | None = None
    content_quantity: Decimal | None = None
    content_unit: str | None = None
    name_en: str | None = None
    description_en: str | None = None
    brand: str | None = None
    categories: list[str] = field(default_factory=list)
    attributes: dict[str, str] = field(default_factory=dict)
    parent_sku: str | None = None
    variant_attributes: dict[str, str] | None = None
    weight_grams: int | None = None


async def _check_categories(tx: Transaction, categories: list[str]) -> None:
    missing = await missing_categories(tx, categories)
    if missing:
        raise ProductError("categories", f"unknown categories: {', '.join(missing)}")


async def add_product(tx: Transaction, command: CreateProduct) -> Product:
    """Add a product in ``tx`` (also used by the CSV import, one row per transaction)."""
    product = Product.create(
        sku=command.sku,
        name=command.name,
        price_net=command.price_net,
        currency=command.currency,
        vat_class=command.vat_class,
        stock=command.stock,
        description=command.description,
        gtin=command.gtin,
        content_quantity=command.content_quantity,
        content_unit=command.content_unit,
        name_en=command.name_en,
        description_en=command.description_en,
        brand=command.brand,
        categories=command.categories,
        attributes=command.attributes,
        parent_sku=command.parent_sku,
        variant_attributes=command.variant_attributes,
        weight_grams=command.weight_grams,
        now=utc_now(),
    )
    if product.content_quantity is not None and product.content_unit is not None:
        check_content(product.content_quantity, product.content_unit)
    products = ProductRepository(tx)
    if product.parent_sku is not None:
        parent = await products.get(product.parent_sku)
        if parent is None:
            raise ProductError("parent_sku", f"no product with SKU {product.parent_sku!r}")
        if parent.parent_sku is not None:
            raise ProductError("parent_sku", "a variant cannot have variants")
    await _check_categories(tx, product.categories)
    await products.add(product)
    # The legacy ``stock`` of a new product is on hand in the default warehouse.
    await StockRepository(tx).add_on_hand(product.sku, DEFAULT_WAREHOUSE, product.stock)
    tx.emit(
        ProductCreated(
            sku=product.sku,
            name=product.name,
            description=product.description,
            price_net=product.price_net,
            price_gross=product.price_gross,
            vat_class=product.vat_class,
            vat_rate=product.vat_rate,
            currency=product.currency,
            stock=product.stock,
            gtin=product.gtin,
            category=product.categories[0] if product.categories else None,
            brand=product.brand,
            parent_sku=product.parent_sku,
            variant_attributes=product.variant_attributes,
            weight_grams=product.weight_grams,
        ),
        aggregate_id=product.sku,
    )
    return product


async def create_product(store: Store, command: CreateProduct) -> Product:
    """Add a product to the assortment and announce it (``ProductCreated``)."""

    async def work(tx: Transaction) -> Product:
        return await add_product(tx, command)

    return await store.transaction(work)


async def update_product(store: Store, sku: str, changes: Mapping[str, Any]) -> list[str]:
    """Change descriptive data; ``ProductUpdated`` names the changed fields (none: no event).

    The event carries the contract's fields (name, description, gtin, brand, and
    ``category``, the first category); ``changed_fields`` lists every field that
    changed, also those the contract has no value field for (name_en, attributes, ...).
    """

    async def work(tx: Transaction) -> list[str]:
        product = await ProductRepository(tx).get(sku)
        if product is None:
            raise UnknownSku(sku)
        return await apply_update(tx, product, changes)

    return await store.transaction(work)


async def apply_update(tx: Transaction, product: Product, changes: Mapping[str, Any]) -> list[str]:
    """Apply descriptive changes in ``tx`` and announce them; the fields that changed."""
    sku = product.sku
    products = ProductRepository(tx)
    changed = product.update(changes)
    if not changed:
        return []
    if "categories" in changed:
        await _check_categories(tx, product.categories)
    await products.save(product)
    listed = [*changed, "category"] if "categories" in changed else changed
    tx.emit(
        ProductUpdated(
            sku=sku,
            changed_fields=listed,
            name=product.name if "name" in changed else None,
            description=product.description if "description" in changed else None,
            gtin=product.gtin if "gtin" in changed else None,
            brand=product.brand if "brand" in changed else None,
            weight_grams=product.weight_grams if "weight_grams" in changed else None,
            category=product.categories[0]
            if "categories" in changed and product.categories
            else None,
        ),
        aggregate_id=sku,
    )
    return changed


async def discontinue_product(store: Store, sku: str, reason: str | None) -> Product:
    """Stop selling a product (``ProductDiscontinued``); its data and history stay."""

    async def work(tx: Transaction) -> Product:
        products = ProductRepository(tx)
        product = await products.get(sku)
        if product is None:
            raise UnknownSku(sku)
        now = utc_now()
        product.discontinue(now, reason)
        await products.save(product)
        tx.emit(ProductDiscontinued(sku=sku, reason=reason, effective_at=now), aggregate_id=sku)
        return product

    return await store.transaction(work)


@dataclass(frozen=True)
class ChangePrice:
    sku: str
    price_net: Decimal
    vat_class: str


async def apply_price(tx: Transaction, product: Product, net: Decimal, vat_class: str) -> bool:
    """Set a new price in ``tx`` and announce it; False (no event) if it is the same."""
    check_price(net, vat_class)
    if product.price_net == net and product.vat_class == vat_class:
        return False
    old_net, old_gross = product.price_net, product.price_gross
    point = PricePoint(utc_now(), net, vat_class, product.currency)
    await ProductRepository(tx).set_price(product, point)
    tx.emit(
        ProductPriceChanged(
            sku=product.sku,
            old_price_net=old_net,
            new_price_net=point.net,
            price_gross=point.gross,
            vat_class=point.vat_class,
            vat_rate=VAT_RATES[point.vat_class],
            currency=product.currency,
            effective_at=point.effective_at,
            old_price_gross=old_gross,
        ),
        aggregate_id=product.sku,
    )
    return True


async def change_price(store: Store, command: ChangePrice) -> bool:
    """Set a new net price and/or VAT class (``ProductPriceChanged``); False if unchanged.

    Every price is kept in the history: the §11 PAngV reference price is computed from it.
    """
    check_price(command.price_net, command.vat_class)

    async def work(tx: Transaction) -> bool:
        product = await ProductRepository(tx).get(command.sku)
        if product is None:
            raise UnknownSku(command.sku)
        return await apply_price(tx, product, command.price_net, command.vat_class)

    return await store.transaction(work)
