"""Startup setup of the catalog's database: every index, then legacy documents migrated."""

from __future__ import annotations

from typing import Any

from pymongo.asynchronous.database import AsyncDatabase

from kontor_catalog.store.categories import ensure_category_indexes
from kontor_catalog.store.images import ensure_image_indexes
from kontor_catalog.store.migrations import migrate_legacy_products
from kontor_catalog.store.products import ensure_product_indexes
from kontor_catalog.store.stock import ensure_stock_indexes


async def ensure_indexes(db: AsyncDatabase[dict[str, Any]]) -> None:
    await ensure_product_indexes(db)
    await ensure_stock_indexes(db)
    await ensure_category_indexes(db)
    await ensure_image_indexes(db)
    await migrate_legacy_products(db)
