"""Stock levels per (SKU, warehouse), reservations per order, shipments booked.

``stock`` documents keep ``available`` (= on_hand - reserved) as a stored field, so
every decrement is a conditional ``update_one`` on the ``_id`` with
``{"available": {"$gte": qty}}`` (and the like for on hand and reserved): a write that
would oversell matches nothing, and two transactions taking the same level conflict
(one retries with fresh numbers).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from kontor_servicekit.store import Transaction

from kontor_catalog.domain.stock import (
    ArticleStock,
    LevelMove,
    Reservation,
    ReservedLine,
    Shortfall,
    StockLevel,
)

STOCK = "stock"
RESERVATIONS = "reservations"
SHIPMENTS = "shipments"


class StockChanged(Exception):
    """A guarded stock update matched nothing: the level moved under the transaction."""


def level_id(sku: str, warehouse: str) -> str:
    return f"{sku}@{warehouse}"


def level_of(doc: dict[str, Any]) -> StockLevel:
    return StockLevel(
        sku=doc["sku"], warehouse=doc["warehouse"], on_hand=doc["on_hand"], reserved=doc["reserved"]
    )


def stocks_of(skus: Iterable[str], docs: Iterable[dict[str, Any]]) -> dict[str, ArticleStock]:
    """Each SKU's stock from its level documents (no documents: an empty stock)."""
    stocks = {sku: ArticleStock(sku) for sku in skus}
    for doc in docs:
        level = level_of(doc)
        stocks.setdefault(level.sku, ArticleStock(level.sku)).levels[level.warehouse] = level
    return stocks


def guarded_move(
    sku: str, warehouse: str, move: LevelMove
) -> tuple[dict[str, Any], dict[str, Any], bool]:
    """The filter, update and upsert flag that apply ``move`` without going negative."""
    available = move.on_hand - move.reserved
    guard: dict[str, Any] = {"_id": level_id(sku, warehouse)}
    for name, delta in (
        ("on_hand", move.on_hand),
        ("reserved", move.reserved),
        ("available", available),
    ):
        if delta < 0:
            guard[name] = {"$gte": -delta}
    update = {
        "$inc": {"on_hand": move.on_hand, "reserved": move.reserved, "available": available},
        "$setOnInsert": {"sku": sku, "warehouse": warehouse},
    }
    # Only a level that grows may be new; a decrement needs the level to be there.
    return guard, update, len(guard) == 1


class MongoStockRepository:
    def __init__(self, tx: Transaction) -> None:
        self.tx = tx
        self.stock = tx.db[STOCK]

    async def of(self, skus: Iterable[str]) -> dict[str, ArticleStock]:
        wanted = sorted(set(skus))
        cursor = self.stock.find({"sku": {"$in": wanted}}, session=self.tx.session)
        return stocks_of(wanted, [doc async for doc in cursor])

    async def save(self, stock: ArticleStock) -> None:
        for warehouse, move in stock.moves.items():
            guard, update, upsert = guarded_move(stock.sku, warehouse, move)
            result = await self.stock.update_one(
                guard, update, upsert=upsert, session=self.tx.session
            )
            if result.matched_count == 0 and result.upserted_id is None:
                raise StockChanged(level_id(stock.sku, warehouse))
        stock.moves.clear()


def reservation_document(reservation: Reservation) -> dict[str, Any]:
    return {
        "_id": reservation.order_id,
        "status": reservation.status,
        "lines": [
            {"sku": line.sku, "warehouse": line.warehouse, "quantity": line.quantity}
            for line in reservation.lines
        ],
        "shortfalls": [
            {"sku": s.sku, "requested": s.requested, "available": s.available}
            for s in reservation.shortfalls
        ],
        "created_at": reservation.created_at,
    }


def reservation_of(doc: dict[str, Any]) -> Reservation:
    return Reservation(
        order_id=doc["_id"],
        status=doc["status"],
        lines=[
            ReservedLine(line["sku"], line["warehouse"], line["quantity"], line.get("shipped", 0))
            for line in doc["lines"]
        ],
        shortfalls=tuple(
            Shortfall(s["sku"], s["requested"], s["available"]) for s in doc.get("shortfalls", [])
        ),
        created_at=doc["created_at"],
        released_at=doc.get("released_at"),
        release_reason=doc.get("release_reason"),
    )


class MongoReservationRepository:
    def __init__(self, tx: Transaction) -> None:
        self.tx = tx
        self.reservations = tx.db[RESERVATIONS]

    async def get(self, order_id: str) -> Reservation | None:
        doc = await self.reservations.find_one({"_id": order_id}, session=self.tx.session)
        return None if doc is None else reservation_of(doc)

    async def add(self, reservation: Reservation) -> None:
        await self.reservations.insert_one(
            reservation_document(reservation), session=self.tx.session
        )

    async def save(self, reservation: Reservation) -> None:
        changes: dict[str, Any] = {
            "status": reservation.status,
            "lines": [
                {
                    "sku": line.sku,
                    "warehouse": line.warehouse,
                    "quantity": line.quantity,
                    "shipped": line.shipped,
                }
                for line in reservation.lines
            ],
        }
        if reservation.released_at is not None:
            changes["released_at"] = reservation.released_at
            changes["release_reason"] = reservation.release_reason
        await self.reservations.update_one(
            {"_id": reservation.order_id}, {"$set": changes}, session=self.tx.session
        )


class MongoShipmentRepository:
    def __init__(self, tx: Transaction) -> None:
        self.tx = tx
        self.shipments = tx.db[SHIPMENTS]

    async def book(self, shipment_id: str, order_id: str, now: datetime) -> bool:
        """False if this shipment was booked already (e.g. redelivered under a new event id).

        Looked up first: a duplicate key error would abort the whole transaction. Two
        deliveries racing both insert; one fails, is retried by the consumer, and then
        finds the booking.
        """
        found = await self.shipments.find_one(
            {"_id": shipment_id}, {"_id": 1}, session=self.tx.session
        )
        if found is not None:
            return False
        await self.shipments.insert_one(
            {"_id": shipment_id, "order_id": order_id, "booked_at": now}, session=self.tx.session
        )
        return True
