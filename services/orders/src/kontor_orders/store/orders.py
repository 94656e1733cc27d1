"""Orders in the order service's own database."""

from __future__ import annotations

from typing import Any

from kontor_servicekit.store import Transaction
from pymongo.asynchronous.database import AsyncDatabase

from kontor_orders.domain.order import Address, Customer, Order, OrderLine

ORDERS = "orders"


def _address(a: Address | None) -> dict[str, Any] | None:
    if a is None:
        return None
    return {
        "name": a.name,
        "company": a.company,
        "street": a.street,
        "postcode": a.postcode,
        "city": a.city,
        "country": a.country,
    }


def _address_of(d: dict[str, Any] | None) -> Address | None:
    return None if d is None else Address(**d)


def to_document(order: Order) -> dict[str, Any]:
    return {
        "_id": order.id,
        "number": order.number,
        "status": order.status,
        "version": order.version,
        "customer": {
            "email": order.customer.email,
            "name": order.customer.name,
            "customer_id": order.customer.customer_id,
        },
        "shipping_address": _address(order.shipping_address),
        "billing_address": _address(order.billing_address),
        "currency": order.currency,
        "lines": [
            {
                "line_no": line.line_no,
                "sku": line.sku,
                "name": line.name,
                "quantity": line.quantity,
                "unit_price_net": line.unit_price_net,
                "vat_rate": line.vat_rate,
            }
            for line in order.lines
        ],
        "placed_at": order.placed_at,
        "history": [{"status": s, "at": at} for s, at in order.history],
    }


def from_document(doc: dict[str, Any]) -> Order:
    shipping = _address_of(doc["shipping_address"])
    assert shipping is not None
    return Order(
        id=doc["_id"],
        number=doc["number"],
        status=doc["status"],
        version=doc["version"],
        customer=Customer(**doc["customer"]),
        shipping_address=shipping,
        billing_address=_address_of(doc.get("billing_address")),
        currency=doc["currency"],
        lines=[OrderLine(**line) for line in doc["lines"]],
        placed_at=doc["placed_at"],
        history=[(h["status"], h["at"]) for h in doc.get("history", [])],
    )


class OrderRepository:
    def __init__(self, tx: Transaction) -> None:
        self.tx = tx

    async def add(self, order: Order) -> None:
        await self.tx.db[ORDERS].insert_one(to_document(order), session=self.tx.session)


async def get_order(db: AsyncDatabase[dict[str, Any]], order_id: str) -> Order | None:
    doc = await db[ORDERS].find_one({"_id": order_id})
    return None if doc is None else from_document(doc)


async def ensure_indexes(db: AsyncDatabase[dict[str, Any]]) -> None:
    await db[ORDERS].create_index("number", unique=True, name="number_unique")
    await db[ORDERS].create_index([("customer.email", 1), ("placed_at", -1)], name="by_customer")
    await db[ORDERS].create_index([("status", 1), ("placed_at", -1)], name="by_status")
