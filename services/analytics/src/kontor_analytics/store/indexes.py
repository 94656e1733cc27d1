"""Analytics's indexes (created at start; nothing else happens here)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from kontor_servicekit.store import ensure_ttl_index
from pymongo import ASCENDING
from pymongo.asynchronous.database import AsyncDatabase

from kontor_analytics.store.collected import RAW_EVENTS, SESSION_CLIENTS, SESSIONS
from kontor_analytics.store.dashboard import DASHBOARD_SESSIONS
from kontor_analytics.store.facts import FACT_INVOICES, FACT_ORDERS, FACT_RETURNS

RAW_TTL_INDEX = "received_at_ttl"
SESSION_TTL_INDEX = "last_at_ttl"
CLIENT_TTL_INDEX = "idle_ttl"
DAY_S = 86_400
LATE_HITS_S = 72 * 3600
"""GA4 admits events up to 72 hours old: a client's current session is kept that long
after its last hit (plus the timeout), so a late hit still finds the session it continues."""


def ensure_indexes(
    raw_events_ttl_days: int, sessions_keep_days: int = 425, session_timeout_min: int = 30
) -> Callable[[AsyncDatabase[dict[str, Any]]], Awaitable[None]]:
    """The indexes, with the TTLs of the settings (changed in place when they changed):
    raw events after receipt, sessions after their last hit, a client's pointer to its
    current session once it is idle beyond any late hit."""

    async def ensure(db: AsyncDatabase[dict[str, Any]]) -> None:
        raw = db[RAW_EVENTS]
        await ensure_ttl_index(raw, "received_at", RAW_TTL_INDEX, raw_events_ttl_days * DAY_S)
        await ensure_ttl_index(
            db[SESSIONS], "last_at", SESSION_TTL_INDEX, sessions_keep_days * DAY_S
        )
        idle = LATE_HITS_S + session_timeout_min * 60
        await ensure_ttl_index(db[SESSION_CLIENTS], "last_at", CLIENT_TTL_INDEX, idle)
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
