"""Support's product read model, from catalog's events: what an agent searches when a
customer asks for advice (name, description, attributes, price, stock).

One document per SKU (``products``), its search words recomputed on every change.
Stock follows ``StockAdjusted``: the all-warehouse ``available`` figure where the
event carries it, else the change in pieces; the consumer's inbox keeps a redelivered
event from counting twice.
"""

from __future__ import annotations

from typing import Any

from kontor_contracts.envelope import Envelope
from kontor_contracts.events.catalog import (
    ProductCreated,
    ProductDiscontinued,
    ProductPriceChanged,
    ProductUpdated,
    StockAdjusted,
)

from kontor_support.application.unit_of_work import SupportUnitOfWork
from kontor_support.domain.products import search_words

__all__ = [
    "on_product_created",
    "on_product_discontinued",
    "on_product_price_changed",
    "on_product_updated",
    "on_stock_adjusted",
]

_DESCRIPTIVE = ("name", "description", "gtin", "category", "brand", "weight_grams")


def _with_words(product: dict[str, Any]) -> dict[str, Any]:
    product["search"] = search_words(
        product.get("name"),
        product.get("description"),
        product.get("category"),
        product.get("brand"),
        product.get("sku"),
        attributes=product.get("attributes") or {},
    )
    return product


async def on_product_created(
    event: ProductCreated, uow: SupportUnitOfWork, envelope: Envelope
) -> None:
    known = await uow.products.get(event.sku) or {}
    product = {
        **known,
        "sku": event.sku,
        "name": event.name,
        "description": event.description,
        "gtin": event.gtin,
        "category": event.category,
        "brand": event.brand,
        "weight_grams": event.weight_grams,
        "parent_sku": event.parent_sku,
        "attributes": dict(event.variant_attributes or {}),
        "price_gross": str(event.price_gross),
        "currency": event.currency,
        # stock that moved before the product's creation arrived is added to its start
        "stock": event.stock + (int(known.get("stock", 0)) if "name" not in known else 0),
        "discontinued": False,
    }
    await uow.products.put(event.sku, _with_words(product))


async def on_product_updated(
    event: ProductUpdated, uow: SupportUnitOfWork, envelope: Envelope
) -> None:
    product = await uow.products.get(event.sku)
    if product is None:  # an update before its creation: nothing to describe yet
        product = {"sku": event.sku, "stock": 0, "discontinued": False, "attributes": {}}
    for name in _DESCRIPTIVE:
        if name in event.changed_fields:
            product[name] = getattr(event, name)
    await uow.products.put(event.sku, _with_words(product))


async def on_product_price_changed(
    event: ProductPriceChanged, uow: SupportUnitOfWork, envelope: Envelope
) -> None:
    product = await uow.products.get(event.sku)
    if product is None:
        return
    product["price_gross"] = str(event.price_gross)
    product["currency"] = event.currency
    await uow.products.put(event.sku, product)


async def on_product_discontinued(
    event: ProductDiscontinued, uow: SupportUnitOfWork, envelope: Envelope
) -> None:
    product = await uow.products.get(event.sku)
    if product is None:
        return
    product["discontinued"] = True
    await uow.products.put(event.sku, product)


async def on_stock_adjusted(
    event: StockAdjusted, uow: SupportUnitOfWork, envelope: Envelope
) -> None:
    product = await uow.products.get(event.sku)
    if product is None:  # stock before the product: remember the pieces for its creation
        product = {"sku": event.sku, "stock": 0}
    if event.available is not None:
        product["stock"] = event.available
    else:
        product["stock"] = max(0, int(product.get("stock", 0)) + event.delta)
    await uow.products.put(event.sku, product)
