"""The order service's read model of the catalog, fed by catalog events.

Each event tells part of a product (its fields are merged in); the newest event
wins (:func:`kontor_servicekit.projections.upsert_if_newer`), so an older event
that arrives late changes nothing.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from kontor_servicekit.projections import upsert_if_newer
from kontor_servicekit.store import Transaction
from pymongo.asynchronous.database import AsyncDatabase

from kontor_orders.domain.order import PricedProduct

CATALOG_PRODUCTS = "catalog_products"


async def apply_product_fact(
    tx: Transaction, sku: str, fields: dict[str, Any], occurred_at: datetime
) -> None:
    """Upsert ``fields`` of ``sku`` unless a newer fact was applied already."""
    await upsert_if_newer(
        tx.db[CATALOG_PRODUCTS], sku, fields, occurred_at=occurred_at, session=tx.session
    )


async def priced_products(
    db: AsyncDatabase[dict[str, Any]], skus: list[str]
) -> dict[str, PricedProduct]:
    docs = await db[CATALOG_PRODUCTS].find({"_id": {"$in": skus}}).to_list(None)
    return {
        d["_id"]: PricedProduct(
            sku=d["_id"],
            name=d.get("name", d["_id"]),
            price_net=Decimal(d["price_net"]),
            vat_rate=Decimal(d["vat_rate"]),
            currency=d["currency"],
            discontinued=d.get("discontinued", False),
            weight_grams=d.get("weight_grams"),
        )
        for d in docs
        if "price_net" in d
    }
