"""Stock levels per (SKU, warehouse) and reservations per order.

``stock`` documents keep ``available`` (= on_hand - reserved) as a stored field, so
every decrement can be a conditional ``update_one`` on the ``_id`` with
``{"available": {"$gte": qty}}``: a write that would oversell matches nothing, and
two transactions taking the same level conflict (one retries with fresh numbers).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from kontor_servicekit.store import Transaction
from pymongo.asynchronous.database import AsyncDatabase

from kontor_catalog.domain.stock import Allocation, StockLevel

STOCK = "stock"
RESERVATIONS = "reservations"
SHIPMENTS = "shipments"


class StockChanged(Exception):
    """A guarded stock update matched nothing: the level moved under the transaction."""


def level_id(sku: str, warehouse: str) -> str:
    return f"{sku}@{warehouse}"


def _level(doc: dict[str, Any]) -> StockLevel:
    return StockLevel(
        sku=doc["sku"], warehouse=doc["warehouse"], on_hand=doc["on_hand"], reserved=doc["reserved"]
    )


class StockRepository:
    def __init__(self, tx: Transaction) -> None:
        self.tx = tx
        self.stock = tx.db[STOCK]
        self.reservations = tx.db[RESERVATIONS]

    async def levels(self, skus: Iterable[str]) -> list[StockLevel]:
        cursor = self.stock.find({"sku": {"$in": sorted(set(skus))}}, session=self.tx.session)
        return [_level(doc) async for doc in cursor]

    async def level(self, sku: str, warehouse: str) -> StockLevel:
        doc = await self.stock.find_one({"_id": level_id(sku, warehouse)}, session=self.tx.session)
        return StockLevel(sku, warehouse, 0, 0) if doc is None else _level(doc)

    async def add_on_hand(self, sku: str, warehouse: str, delta: int) -> StockLevel:
        """Receive (or, negative, remove) pieces; never below reserved or zero."""
        guard: dict[str, Any] = {"_id": level_id(sku, warehouse)}
        if delta < 0:
            guard["available"] = {"$gte": -delta}
        result = await self.stock.update_one(
            guard,
            {
                "$inc": {"on_hand": delta, "available": delta},
                "$setOnInsert": {"sku": sku, "warehouse": warehouse, "reserved": 0},
            },
            upsert=delta >= 0,
            session=self.tx.session,
        )
        if result.matched_count == 0 and result.upserted_id is None:
            raise StockChanged(level_id(sku, warehouse))
        return await self.level(sku, warehouse)

    async def reserve(self, allocation: Allocation) -> None:
        result = await self.stock.update_one(
            {
                "_id": level_id(allocation.sku, allocation.warehouse),
                "available": {"$gte": allocation.quantity},
            },
            {"$inc": {"reserved": allocation.quantity, "available": -allocation.quantity}},
            session=self.tx.session,
        )
        if result.matched_count == 0:
            raise StockChanged(level_id(allocation.sku, allocation.warehouse))

    async def release(self, allocation: Allocation) -> None:
        result = await self.stock.update_one(
            {
                "_id": level_id(allocation.sku, allocation.warehouse),
                "reserved": {"$gte": allocation.quantity},
            },
            {"$inc": {"reserved": -allocation.quantity, "available": allocation.quantity}},
            session=self.tx.session,
        )
        if result.matched_count == 0:
            raise StockChanged(level_id(allocation.sku, allocation.warehouse))

    async def ship_reserved(self, sku: str, warehouse: str, quantity: int) -> StockLevel:
        """Reserved pieces leave the warehouse: on hand and reserved both go down."""
        result = await self.stock.update_one(
            {
                "_id": level_id(sku, warehouse),
                "reserved": {"$gte": quantity},
                "on_hand": {"$gte": quantity},
            },
            {"$inc": {"reserved": -quantity, "on_hand": -quantity}},
            session=self.tx.session,
        )
        if result.matched_count == 0:
            raise StockChanged(level_id(sku, warehouse))
        return await self.level(sku, warehouse)

    async def set_reservation_lines(self, order_id: str, lines: list[dict[str, Any]]) -> None:
        await self.reservations.update_one(
            {"_id": order_id}, {"$set": {"lines": lines}}, session=self.tx.session
        )

    async def record_shipment(self, shipment_id: str, order_id: str, now: datetime) -> bool:
        """False if this shipment was booked already (e.g. redelivered under a new event id).

        Looked up first: a duplicate key error would abort the whole transaction. Two
        deliveries racing both insert; one fails, is retried by the consumer, and then
        finds the booking.
        """
        shipments = self.tx.db[SHIPMENTS]
        if await shipments.find_one({"_id": shipment_id}, {"_id": 1}, session=self.tx.session):
            return False
        await shipments.insert_one(
            {"_id": shipment_id, "order_id": order_id, "booked_at": now}, session=self.tx.session
        )
        return True

    async def available_total(self, sku: str) -> int:
        return sum(level.available for level in await self.levels([sku]))

    async def reservation(self, order_id: str) -> dict[str, Any] | None:
        return await self.reservations.find_one({"_id": order_id}, session=self.tx.session)

    async def record_reservation(
        self,
        order_id: str,
        *,
        status: str,
        allocations: Iterable[Allocation],
        shortfalls: Iterable[dict[str, Any]],
        now: datetime,
    ) -> None:
        await self.reservations.insert_one(
            {
                "_id": order_id,
                "status": status,
                "lines": [
                    {"sku": a.sku, "warehouse": a.warehouse, "quantity": a.quantity}
                    for a in allocations
                ],
                "shortfalls": list(shortfalls),
                "created_at": now,
            },
            session=self.tx.session,
        )

    async def mark_released(self, order_id: str, *, reason: str, now: datetime) -> None:
        await self.reservations.update_one(
            {"_id": order_id, "status": "reserved"},
            {"$set": {"status": "released", "released_at": now, "release_reason": reason}},
            session=self.tx.session,
        )


async def stock_levels(db: AsyncDatabase[dict[str, Any]], sku: str) -> list[StockLevel]:
    cursor = db[STOCK].find({"sku": sku}).sort("warehouse", 1)
    return [_level(doc) async for doc in cursor]


async def available_by_sku(db: AsyncDatabase[dict[str, Any]], skus: list[str]) -> dict[str, int]:
    totals = dict.fromkeys(skus, 0)
    async for doc in db[STOCK].find({"sku": {"$in": skus}}):
        totals[doc["sku"]] += doc["on_hand"] - doc["reserved"]
    return totals


async def skus_in_stock(db: AsyncDatabase[dict[str, Any]]) -> list[str]:
    return [str(s) for s in await db[STOCK].distinct("sku", {"available": {"$gt": 0}})]


async def ensure_stock_indexes(db: AsyncDatabase[dict[str, Any]]) -> None:
    await db[STOCK].create_index([("sku", 1), ("warehouse", 1)], name="sku_warehouse")
    await db[STOCK].create_index("available", name="available")
