"""Bring products written before stock per warehouse and search existed up to date.

A kit migration (``MIGRATIONS``, run once by ``kontor_servicekit.migrations`` after the
indexes and before any consumer starts); it is idempotent as well (only documents that
lack the new fields are touched): a product without any stock level gets its legacy
``stock`` on hand in the default warehouse; a product without ``search_terms`` (or
``price_gross``) is rewritten with them.
"""

from __future__ import annotations

import logging
from typing import Any

from kontor_servicekit.migrations import Migration
from kontor_servicekit.store import Store
from pymongo.asynchronous.database import AsyncDatabase

from kontor_catalog.domain.stock import DEFAULT_WAREHOUSE
from kontor_catalog.store.products import PRODUCTS, from_document, to_document
from kontor_catalog.store.stock import STOCK, level_id

log = logging.getLogger(__name__)


async def migrate_legacy_products(db: AsyncDatabase[dict[str, Any]]) -> int:
    """Returns how many products were brought up to date."""
    migrated = 0
    async for doc in db[PRODUCTS].find({"search_terms": {"$exists": False}}):
        product = from_document(doc)
        await db[PRODUCTS].replace_one(
            {"_id": product.sku, "search_terms": {"$exists": False}}, to_document(product)
        )
        if await db[STOCK].find_one({"sku": product.sku}, {"_id": 1}) is None:
            await db[STOCK].update_one(
                {"_id": level_id(product.sku, DEFAULT_WAREHOUSE)},
                {
                    "$setOnInsert": {
                        "sku": product.sku,
                        "warehouse": DEFAULT_WAREHOUSE,
                        "on_hand": product.stock,
                        "reserved": 0,
                        "available": product.stock,
                    }
                },
                upsert=True,
            )
        migrated += 1
    if migrated:
        log.info("brought %d legacy products up to date", migrated)
    return migrated


async def _legacy_products(store: Store) -> None:
    await migrate_legacy_products(store.db)


#: The catalog's migrations, in order; a name is never reused.
MIGRATIONS = [
    Migration(
        "catalog-0001-legacy-products",
        _legacy_products,
        "stock on hand in warehouse main and search terms for first-slice products",
    ),
]
