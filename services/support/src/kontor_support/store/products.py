"""Support's product read model (``products``, one document per SKU)."""

from __future__ import annotations

from typing import Any

from kontor_servicekit.store import Transaction

PRODUCTS = "products"


class MongoProductRepository:
    def __init__(self, tx: Transaction) -> None:
        self.tx = tx
        self.products = tx.db[PRODUCTS]

    async def get(self, sku: str) -> dict[str, Any] | None:
        doc = await self.products.find_one({"_id": sku}, session=self.tx.session)
        if doc is None:
            return None
        doc.pop("_id", None)
        return doc

    async def put(self, sku: str, product: dict[str, Any]) -> None:
        await self.products.replace_one(
            {"_id": sku}, {**product, "_id": sku}, upsert=True, session=self.tx.session
        )
