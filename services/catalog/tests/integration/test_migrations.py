"""Products written by the first slice (no stock levels, no search terms) are migrated."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
from kontor_catalog.store.migrations import migrate_legacy_products

pytestmark = pytest.mark.integration


async def test_legacy_product_gets_stock_level_and_search_terms(start_service: Any) -> None:
    async with start_service("catalog") as catalog:
        db = catalog.kit.store.db
        # registered as a kit migration: it ran once at start (on no legacy data)
        record = await db["migrations"].find_one({"_id": "catalog-0001-legacy-products"})
        assert record is not None and record["status"] == "done"
        await db["products"].insert_one(
            {
                "_id": "OLD-1",
                "name": "Alter Kaffee",
                "description": None,
                "gtin": None,
                "price_net": Decimal("5.00"),
                "currency": "EUR",
                "vat_class": "reduced",
                "stock": 7,
                "discontinued": False,
                "created_at": datetime(2026, 1, 5, tzinfo=UTC),
                "version": 1,
            }
        )
        assert await migrate_legacy_products(db) == 1
        assert await migrate_legacy_products(db) == 0  # idempotent
        stock = (await catalog.client.get("/stock/OLD-1")).json()
        assert [(w["warehouse"], w["on_hand"], w["available"]) for w in stock["warehouses"]] == [
            ("main", 7, 7)
        ]
        found = (await catalog.client.get("/products", params={"q": "kaffee"})).json()
        assert [p["sku"] for p in found["items"]] == ["OLD-1"]
        cheap = (await catalog.client.get("/products", params={"max_price": "5.35"})).json()
        assert cheap["total"] == 1
