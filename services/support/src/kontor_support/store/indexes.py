"""Support's indexes (created at start; nothing else happens here)."""

from __future__ import annotations

from typing import Any

from pymongo.asynchronous.database import AsyncDatabase

from kontor_support.store.deliveries import DELIVERIES


async def ensure_indexes(db: AsyncDatabase[dict[str, Any]]) -> None:
    # the senders' poll: queued deliveries, oldest first
    await db[DELIVERIES].create_index([("status", 1), ("created_at", 1)], name="queued_in_order")
    await db[DELIVERIES].create_index("ticket_id", name="by_ticket")
