"""Analytics's indexes (created at start; nothing else happens here)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from pymongo import ASCENDING
from pymongo.asynchronous.database import AsyncDatabase

from kontor_analytics.store.collected import RAW_EVENTS, SESSIONS
from kontor_analytics.store.dashboard import DASHBOARD_SESSIONS
from kontor_analytics.store.facts import FACT_INVOICES, FACT_ORDERS, FACT_RETURNS

RAW_TTL_INDEX = "received_at_ttl"


def ensure_indexes(
    raw_events_ttl_days: int,
) -> Callable[[AsyncDatabase[dict[str, Any]]], Awaitable[None]]:
    """The indexes, with the raw events' TTL from the settings (changed when it changed)."""

    async def ensure(db: AsyncDatabase[dict[str, Any]]) -> None:
        ttl = raw_events_ttl_days * 86_400
        raw = db[RAW_EVENTS]
        existing = await raw.index_information()
        current = existing.get(RAW_TTL_INDEX, {}).get("expireAfterSeconds")
        if current is not None and current != ttl:
            await raw.drop_index(RAW_TTL_INDEX)
        await raw.create_index("received_at", name=RAW_TTL_INDEX, expireAfterSeconds=ttl)
        await raw.create_index([("client_id", ASCENDING), ("at", ASCENDING)])
        await raw.create_index("user_id", sparse=True)
        await db[SESSIONS].create_index("started_at")
        await db[SESSIONS].create_index("client_id")
        await db[SESSIONS].create_index("user_id", sparse=True)
        await db[FACT_ORDERS].create_index("placed_at")
        await db[FACT_ORDERS].create_index("customer")
        await db[FACT_ORDERS].create_index("coupons")
        await db[FACT_ORDERS].create_index("number")
        await db[SESSIONS].create_index("campaign", sparse=True)
        await db[FACT_RETURNS].create_index("order_id")
        await db[FACT_INVOICES].create_index("issue_date")
        await db[DASHBOARD_SESSIONS].create_index("expires_at", expireAfterSeconds=0)

    return ensure
