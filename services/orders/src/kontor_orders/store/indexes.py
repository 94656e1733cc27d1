"""The orders database's indexes (data changes are migrations, see ``migrations.py``)."""

from __future__ import annotations

from typing import Any

from kontor_servicekit.store import DAY_S, ensure_ttl_index
from pymongo.asynchronous.database import AsyncDatabase

from kontor_orders.store.carts import CARTS
from kontor_orders.store.complaints import COMPLAINTS
from kontor_orders.store.orders import EMAIL_KEY, ORDERS
from kontor_orders.store.privacy import PRIVACY_REQUESTS
from kontor_orders.store.retention import LEGAL_MINIMUM_YEARS, RETENTION_FROM, ttl_seconds
from kontor_orders.store.returns import RETURNS, WITHDRAWALS

#: collection -> (its TTL index on ``retention_from``, which setting's years)
KEPT = {
    ORDERS: ("order_retention", "order"),
    RETURNS: ("return_retention", "order"),
    WITHDRAWALS: ("withdrawal_retention", "order"),
    COMPLAINTS: ("complaint_retention", "complaint"),
}


async def ensure_indexes(
    db: AsyncDatabase[dict[str, Any]],
    *,
    cart_keep_days: float = 90,
    order_keep_years: int = LEGAL_MINIMUM_YEARS,
    complaint_keep_years: int = LEGAL_MINIMUM_YEARS,
) -> None:
    """``cart_keep_days``: a cart (with its e-mail) goes this long after its last activity;
    orders, returns and withdrawals ``order_keep_years``, complaints
    ``complaint_keep_years`` after the end of the year of their last change
    (``store/retention.py``, ADR 0076)."""
    orders = db[ORDERS]
    await orders.create_index("number", unique=True, name="number_unique")
    await orders.create_index([(EMAIL_KEY, 1), ("placed_at", -1)], name="by_customer_email")
    await orders.create_index([("status", 1), ("placed_at", -1)], name="by_status")
    await orders.create_index([("placed_at", -1)], name="by_time")
    await orders.create_index([("lines.sku", 1), ("placed_at", -1)], name="by_sku")
    await orders.create_index(
        [("customer.customer_id", 1), ("placed_at", -1)], name="by_customer_id"
    )
    await orders.create_index(
        [("payment_method", 1), ("status", 1), ("placed_at", 1)], name="awaiting_prepayment"
    )
    await db[CARTS].create_index([("status", 1), ("last_activity_at", 1)], name="checkout_quiet")
    await ensure_ttl_index(db[CARTS], "last_activity_at", "cart_ttl", round(cart_keep_days * DAY_S))
    await db[RETURNS].create_index([("status", 1), ("requested_at", -1)], name="by_status")
    await db[RETURNS].create_index("order_id", name="by_order")
    await db[COMPLAINTS].create_index([("status", 1), ("filed_at", -1)], name="by_status")
    await db[COMPLAINTS].create_index("order_id", name="by_order")
    await ensure_privacy_indexes(db)
    years = {"order": order_keep_years, "complaint": complaint_keep_years}
    for collection, (name, kind) in KEPT.items():
        await ensure_ttl_index(db[collection], RETENTION_FROM, name, ttl_seconds(years[kind]))


async def ensure_privacy_indexes(db: AsyncDatabase[dict[str, Any]]) -> None:
    """Privacy requests go (with an export's document) when they expire (issue 13)."""
    await db[PRIVACY_REQUESTS].create_index(
        "expires_at", expireAfterSeconds=0, name="privacy_expired"
    )
    await db[PRIVACY_REQUESTS].create_index("subject_id", name="by_subject")
    await db[PRIVACY_REQUESTS].create_index("key_destroyed_at", name="unsettled")
