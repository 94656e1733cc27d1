"""Support's read side: what the routes and the channel adapters read, straight from the db."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pymongo.asynchronous.database import AsyncDatabase

from kontor_support.domain.delivery import Delivery
from kontor_support.store.deliveries import DELIVERIES
from kontor_support.store.deliveries import from_document as delivery_from_document


class SupportQueries:
    def __init__(self, db: AsyncDatabase[dict[str, Any]]) -> None:
        self.db = db

    async def queued_deliveries(self, limit: int, *, now: datetime | None = None) -> list[Delivery]:
        """Up to ``limit`` queued replies, oldest first; with ``now`` only those whose
        retry pause (after a failed attempt) is over. One round trip."""
        query: dict[str, Any] = {"status": "queued"}
        if now is not None:
            query["$or"] = [{"not_before": None}, {"not_before": {"$lte": now}}]
        cursor = self.db[DELIVERIES].find(query).sort([("created_at", 1), ("_id", 1)])
        return [delivery_from_document(doc) async for doc in cursor.limit(limit)]

    async def delivery(self, delivery_id: str) -> Delivery | None:
        doc = await self.db[DELIVERIES].find_one({"_id": delivery_id})
        return None if doc is None else delivery_from_document(doc)
