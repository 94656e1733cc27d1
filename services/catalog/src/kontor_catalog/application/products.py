"""Use cases of the assortment: create, describe, price and discontinue products.

Each command runs in one unit of work; the product records what changed and the use
case announces it (ProductCreated, ProductUpdated, ProductPriceChanged,
ProductDiscontinued) and answers with the product as it is shown.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from kontor_contracts.envelope import Event
from kontor_contracts.events.catalog import (
    ProductCreated,
    ProductDiscontinued,
    ProductPriceChanged,
    ProductUpdated,
)
from kontor_servicekit.clock import Clock
from kontor_servicekit.domain_errors import IllegalTransition
from kontor_servicekit.uow import Transactor

from kontor_catalog.application.unit_of_work import CatalogUnitOfWork
from kontor_catalog.domain.errors import ParentHasStock, ProductError, UnknownProduct
from kontor_catalog.domain.events import (
    PriceWasChanged,
    ProductWasCreated,
    ProductWasDiscontinued,
    ProductWasUpdated,
)
from kontor_catalog.domain.pricing import VAT_RATES
from kontor_catalog.domain.product import Product
from kontor_catalog.domain.product_view import ProductView


@dataclass(frozen=True)
class CreateProduct:
    sku: str
    name: str
    price_net: Decimal | None
    """None: the price is entered gross (``price_gross``)."""
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
    price_gross: Decimal | None = None
    """The displayed gross price per piece (B2C), instead of ``price_net``."""


@dataclass(frozen=True)
class ChangePrice:
    sku: str
    price_net: Decimal | None
    vat_class: str | None = None
    """None: the product keeps its VAT class."""
    price_gross: Decimal | None = None
    """A gross price instead of ``price_net``; neither: only the VAT class changes."""


async def create_product(
    transactor: Transactor[CatalogUnitOfWork], command: CreateProduct, *, clock: Clock
) -> ProductView:
    """Add a product to the assortment and announce it (``ProductCreated``)."""

    async def work(uow: CatalogUnitOfWork) -> ProductView:
        return ProductView.of_new(await add_product(uow, command, clock()))

    return await transactor.run(work)


async def add_product(uow: CatalogUnitOfWork, command: CreateProduct, now: datetime) -> Product:
    """Add a product in ``uow`` (also used by the CSV import, one row per unit)."""
    product = Product.create(
        sku=command.sku,
        name=command.name,
        price_net=command.price_net,
        price_gross=command.price_gross,
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
        now=now,
    )
    if product.parent_sku is not None:
        parent = await uow.products.get(product.parent_sku)
        if parent is None:
            raise ProductError("parent_sku", f"no product with SKU {product.parent_sku!r}")
        if parent.parent_sku is not None:
            raise ProductError("parent_sku", "a variant cannot have variants")
        held = (await uow.stock.of([parent.sku]))[parent.sku].summary().on_hand
        if held > 0:
            raise ParentHasStock(parent.sku, held)
    await _check_categories(uow, product.categories)
    await uow.products.add(product)
    stock = (await uow.stock.of([product.sku]))[product.sku]
    stock.open_with(product.stock)
    await uow.stock.save(stock)
    publish(uow, product)
    return product


async def update_product(
    transactor: Transactor[CatalogUnitOfWork], sku: str, changes: Mapping[str, Any]
) -> ProductView:
    """Change descriptive data; ``ProductUpdated`` names the changed fields (none: no event).

    The event carries the contract's fields (name, description, gtin, brand, and
    ``category``, the first category); ``changed_fields`` lists every field that
    changed, also those the contract has no value field for (name_en, attributes, ...).
    """

    async def work(uow: CatalogUnitOfWork) -> ProductView:
        product = await _product(uow, sku)
        await describe(uow, product, changes)
        await save(uow, product)
        return await view_of(uow, product)

    return await transactor.run(work)


async def change_price(
    transactor: Transactor[CatalogUnitOfWork], command: ChangePrice, *, clock: Clock
) -> ProductView:
    """Set a new net price and/or VAT class (``ProductPriceChanged``; the same: no event).

    Every price is kept in the history: the §11 PAngV reference price is computed from it.
    """

    async def work(uow: CatalogUnitOfWork) -> ProductView:
        product = await _product(uow, command.sku)
        product.change_price(
            command.price_net,
            command.vat_class or product.vat_class,
            clock(),
            gross=command.price_gross,
        )
        await save(uow, product)
        return await view_of(uow, product)

    return await transactor.run(work)


async def discontinue_product(
    transactor: Transactor[CatalogUnitOfWork], sku: str, reason: str | None, *, clock: Clock
) -> ProductView:
    """Stop selling a product (``ProductDiscontinued``); its data and history stay.

    Twice is refused, with the product as it is shown as the ``current_state``.
    """

    async def work(uow: CatalogUnitOfWork) -> ProductView:
        product = await _product(uow, sku)
        try:
            product.discontinue(clock(), reason)
        except IllegalTransition as refused:
            refused.details["current_state"] = (await view_of(uow, product)).as_json()
            raise
        await save(uow, product)
        return await view_of(uow, product)

    return await transactor.run(work)


async def describe(uow: CatalogUnitOfWork, product: Product, changes: Mapping[str, Any]) -> None:
    """Apply descriptive changes; changed categories must exist."""
    product.update(changes)
    changed = [
        f
        for e in product.recorded_events
        if isinstance(e, ProductWasUpdated)
        for f in e.changed_fields
    ]
    if "categories" in changed:
        await _check_categories(uow, product.categories)


async def save(uow: CatalogUnitOfWork, product: Product) -> None:
    """Store what the product recorded (new prices into its history) and announce it.

    A product that recorded nothing is not written.
    """
    if not product.recorded_events:
        return
    await uow.products.save(product)
    for recorded in product.recorded_events:
        if isinstance(recorded, PriceWasChanged):
            await uow.products.record_price(product.sku, recorded.new)
    publish(uow, product)


async def view_of(uow: CatalogUnitOfWork, product: Product) -> ProductView:
    """The product as it is shown, read in ``uow``."""
    stock = (await uow.stock.of([product.sku]))[product.sku]
    return ProductView(
        product,
        available=stock.available,
        history=tuple(await uow.products.price_history(product.sku, currency=product.currency)),
        variants=tuple(await uow.products.variants_of(product.sku)),
        images=tuple(await uow.images.of(product.sku)),
    )


def publish(uow: CatalogUnitOfWork, product: Product) -> None:
    """Emit the contract events of what ``product`` recorded."""
    for recorded in product.pull_events():
        uow.emit(contract_event(product, recorded), aggregate_id=product.sku)


def contract_event(product: Product, recorded: object) -> Event:
    """The contract event announcing ``recorded`` (the product as it is now)."""
    if isinstance(recorded, ProductWasCreated):
        return ProductCreated(
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
            categories=list(product.categories),
            brand=product.brand,
            parent_sku=product.parent_sku,
            variant_attributes=product.variant_attributes,
            weight_grams=product.weight_grams,
        )
    if isinstance(recorded, ProductWasUpdated):
        changed = recorded.changed_fields
        return ProductUpdated(
            sku=product.sku,
            changed_fields=[*changed, "category"] if "categories" in changed else list(changed),
            name=product.name if "name" in changed else None,
            description=product.description if "description" in changed else None,
            gtin=product.gtin if "gtin" in changed else None,
            brand=product.brand if "brand" in changed else None,
            weight_grams=product.weight_grams if "weight_grams" in changed else None,
            category=product.categories[0]
            if "categories" in changed and product.categories
            else None,
            categories=list(product.categories) if "categories" in changed else None,
        )
    if isinstance(recorded, PriceWasChanged):
        point = recorded.new
        return ProductPriceChanged(
            sku=product.sku,
            old_price_net=recorded.old_net,
            new_price_net=point.net,
            price_gross=point.gross,
            vat_class=point.vat_class,
            vat_rate=VAT_RATES[point.vat_class],
            currency=product.currency,
            effective_at=point.effective_at,
            old_price_gross=recorded.old_gross,
        )
    if isinstance(recorded, ProductWasDiscontinued):
        return ProductDiscontinued(
            sku=recorded.sku, reason=recorded.reason, effective_at=recorded.at
        )
    raise TypeError(f"no contract event for {recorded!r}")


async def _product(uow: CatalogUnitOfWork, sku: str) -> Product:
    product = await uow.products.get(sku)
    if product is None:
        raise UnknownProduct(sku)
    return product


async def _check_categories(uow: CatalogUnitOfWork, categories: list[str]) -> None:
    missing = await uow.categories.missing(categories)
    if missing:
        raise ProductError("categories", f"unknown categories: {', '.join(missing)}")
