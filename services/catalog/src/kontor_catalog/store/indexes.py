"""The catalog's indexes (created at start; data changes are migrations, see main.py)."""

from __future__ import annotations

from typing import Any

from pymongo.asynchronous.database import AsyncDatabase

from kontor_catalog.store.categories import CATEGORIES
from kontor_catalog.store.images import IMAGES
from kontor_catalog.store.products import PRICE_HISTORY, PRODUCTS
from kontor_catalog.store.stock import STOCK


async def ensure_indexes(db: AsyncDatabase[dict[str, Any]]) -> None:
    # The SKU is the _id: unique by construction. GTINs are unique where given.
    await db[PRODUCTS].create_index(
        "gtin",
        unique=True,
        name="gtin_unique",
        partialFilterExpression={"gtin": {"$type": "string"}},
    )
    await db[PRODUCTS].create_index("search_terms", name="search_terms")
    await db[PRODUCTS].create_index("categories", name="categories")
    await db[PRODUCTS].create_index("price_gross", name="price_gross")
    await db[PRODUCTS].create_index("parent_sku", name="parent_sku", sparse=True)
    await db[PRICE_HISTORY].create_index([("sku", 1), ("effective_at", 1)], name="sku_time")
    await db[STOCK].create_index([("sku", 1), ("warehouse", 1)], name="sku_warehouse")
    await db[STOCK].create_index("available", name="available")
    await db[CATEGORIES].create_index("path", name="path")
    await db[CATEGORIES].create_index("parent_id", name="parent_id")
    await db[IMAGES].create_index([("sku", 1), ("position", 1)], name="sku_position")
