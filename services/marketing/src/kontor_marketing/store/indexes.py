"""Marketing's indexes (created at start; nothing else happens here)."""

from __future__ import annotations

from typing import Any

from kontor_servicekit.store import ensure_ttl_index
from pymongo.asynchronous.database import AsyncDatabase

from kontor_marketing.store.campaigns import CAMPAIGNS, CONVERSIONS, ENGAGEMENTS
from kontor_marketing.store.coupon_pools import POOL_CODES
from kontor_marketing.store.coupons import COUPONS
from kontor_marketing.store.early_refunds import (
    EARLY_REFUND_TTL_INDEX,
    EARLY_REFUND_TTL_S,
    EARLY_REFUNDS,
)
from kontor_marketing.store.mails import MAILS
from kontor_marketing.store.profiles import PROFILES, SEGMENT_ENTRIES
from kontor_marketing.store.stock_alerts import STOCK_ALERTS


async def ensure_indexes(db: AsyncDatabase[dict[str, Any]]) -> None:
    # the sweeper's question: what is due (queued or with a lapsed claim), oldest first
    await db[MAILS].create_index([("status", 1), ("due_at", 1)], name="due")
    await db[MAILS].create_index([("to", 1)], name="to")
    await db[COUPONS].create_index([("created_at", -1), ("_id", 1)], name="newest")
    # a pool's next free code; a person's code per campaign; an erasure's or export's codes
    await db[POOL_CODES].create_index([("pool_id", 1), ("assigned_at", 1)], name="free")
    await db[POOL_CODES].create_index(
        [("pool_id", 1), ("campaign_id", 1), ("email", 1)], name="held"
    )
    await db[POOL_CODES].create_index([("email", 1)], name="email")
    await db[PROFILES].create_index([("order_ids", 1)], name="order_ids")
    await db[PROFILES].create_index([("segments", 1)], name="segments")
    await db[PROFILES].create_index([("ticket_ids", 1)], name="ticket_ids")
    await db[CAMPAIGNS].create_index([("status", 1), ("send_at", 1)], name="due")
    await db[CAMPAIGNS].create_index([("created_at", -1), ("_id", 1)], name="newest")
    await db[ENGAGEMENTS].create_index([("campaign_id", 1), ("kind", 1)], name="campaign")
    await db[ENGAGEMENTS].create_index([("email", 1)], name="email")
    # a person's conversions and segment entries: what an export or erasure asks for
    await db[CONVERSIONS].create_index([("email", 1)], name="email")
    await db[CONVERSIONS].create_index([("campaign_id", 1)], name="campaign")
    await db[SEGMENT_ENTRIES].create_index([("email", 1)], name="email")
    await db[MAILS].create_index([("campaign_id", 1), ("status", 1)], name="campaign")
    await db[STOCK_ALERTS].create_index([("sku", 1), ("status", 1)], name="waiting")
    await db[STOCK_ALERTS].create_index([("email", 1)], name="email")
    await db[EARLY_REFUNDS].create_index([("order_id", 1)], name="order_id")
    await ensure_ttl_index(
        db[EARLY_REFUNDS], "parked_at", EARLY_REFUND_TTL_INDEX, EARLY_REFUND_TTL_S
    )
