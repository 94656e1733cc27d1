"""Carts in the order service's database."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from kontor_servicekit.store import Transaction

from kontor_orders.domain.cart import Cart, CartLine

CARTS = "carts"


def to_document(cart: Cart) -> dict[str, Any]:
    return {
        "_id": cart.id,
        "status": cart.status,
        "currency": cart.currency,
        "customer_email": cart.customer_email,
        "created_at": cart.created_at,
        "last_activity_at": cart.last_activity_at,
        "checkout_started_at": cart.checkout_started_at,
        "abandoned_at": cart.abandoned_at,
        "order_id": cart.order_id,
        "prices_locked_until": cart.prices_locked_until,
        "lines": [
            {
                "sku": line.sku,
                "name": line.name,
                "quantity": line.quantity,
                "unit_price_net": line.unit_price_net,
                "vat_rate": line.vat_rate,
                "price_gross": line.price_gross,
            }
            for line in cart.lines
        ],
    }


def from_document(doc: dict[str, Any]) -> Cart:
    return Cart(
        id=doc["_id"],
        status=doc["status"],
        currency=doc["currency"],
        customer_email=doc.get("customer_email"),
        created_at=doc["created_at"],
        last_activity_at=doc["last_activity_at"],
        checkout_started_at=doc.get("checkout_started_at"),
        abandoned_at=doc.get("abandoned_at"),
        order_id=doc.get("order_id"),
        prices_locked_until=doc.get("prices_locked_until"),
        lines=[CartLine(**line, currency=doc["currency"]) for line in doc["lines"]],
    )


class MongoCartRepository:
    """``CartRepository`` inside one Mongo transaction."""

    def __init__(self, tx: Transaction) -> None:
        self.tx = tx

    async def get(self, cart_id: str) -> Cart | None:
        doc = await self.tx.db[CARTS].find_one({"_id": cart_id}, session=self.tx.session)
        return None if doc is None else from_document(doc)

    async def add(self, cart: Cart) -> None:
        await self.tx.db[CARTS].insert_one(to_document(cart), session=self.tx.session)

    async def save(self, cart: Cart) -> None:
        await self.tx.db[CARTS].replace_one(
            {"_id": cart.id}, to_document(cart), session=self.tx.session
        )

    async def quiet_checkouts(self, before: datetime, limit: int = 100) -> list[str]:
        """Ids of carts in checkout with no activity since ``before`` (index ``checkout_quiet``)."""
        docs = (
            await self.tx.db[CARTS]
            .find(
                {"status": "checkout", "last_activity_at": {"$lte": before}},
                {"_id": 1},
                session=self.tx.session,
            )
            .limit(limit)
            .to_list(None)
        )
        return [d["_id"] for d in docs]
