"""Marketing's read model of the catalogue: the category of each article
(``catalog_categories``, ``_id`` the SKU), from ProductCreated / ProductUpdated; the
newest event wins. Rebuilt from ``catalog.product.v1`` (kept forever)."""

from __future__ import annotations

from datetime import datetime

from kontor_servicekit.projections import upsert_if_newer
from kontor_servicekit.store import Transaction

CATALOG_CATEGORIES = "catalog_categories"


class MongoCatalogCategories:
    def __init__(self, tx: Transaction) -> None:
        self.tx = tx
        self.collection = tx.db[CATALOG_CATEGORIES]

    async def set(self, sku: str, category: str | None, occurred_at: datetime) -> None:
        await upsert_if_newer(
            self.collection,
            sku,
            {"category": category},
            occurred_at=occurred_at,
            session=self.tx.session,
        )

    async def of(self, skus: list[str]) -> dict[str, str]:
        docs = await self.collection.find(
            {"_id": {"$in": skus}}, {"category": 1}, session=self.tx.session
        ).to_list(None)
        return {d["_id"]: d["category"] for d in docs if d.get("category")}
