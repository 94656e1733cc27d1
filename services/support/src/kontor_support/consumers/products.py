"""Subscription on catalog's topics: support's product read model for product advice."""

from __future__ import annotations

from kontor_contracts.events.catalog import (
    ProductCreated,
    ProductDiscontinued,
    ProductPriceChanged,
    ProductUpdated,
    StockAdjusted,
)
from kontor_servicekit.consumer import Subscription

from kontor_support.application import products
from kontor_support.store.unit_of_work import MongoSupportUnitOfWork


def products_from_catalog() -> Subscription:
    return Subscription(
        purpose="product-advice",
        description="Keeps every product's name, description, attributes, price and "
        "stock, so an agent finds 'in blue, size M' in one query",
        handlers={
            ProductCreated: products.on_product_created,
            ProductUpdated: products.on_product_updated,
            ProductPriceChanged: products.on_product_price_changed,
            ProductDiscontinued: products.on_product_discontinued,
            StockAdjusted: products.on_stock_adjusted,
        },
        unit_of_work=MongoSupportUnitOfWork,
    )
