"""Support's indexes (created at start; nothing else happens here)."""

from __future__ import annotations

from typing import Any

from pymongo.asynchronous.database import AsyncDatabase

from kontor_support.store.chats import CHATS
from kontor_support.store.context import CONTEXT_ORDERS, CUSTOMERS, LAST_EVENT_AT
from kontor_support.store.deliveries import DELIVERIES
from kontor_support.store.products import PRODUCTS
from kontor_support.store.ratings import RATINGS
from kontor_support.store.tickets import MESSAGES, TICKETS


async def ensure_indexes(db: AsyncDatabase[dict[str, Any]]) -> None:
    # the senders' poll: queued deliveries, oldest first
    await db[DELIVERIES].create_index([("status", 1), ("created_at", 1)], name="queued_in_order")
    await db[DELIVERIES].create_index("ticket_id", name="by_ticket")
    # the chat pusher: queued chat replies of the chats connected to this replica
    await db[DELIVERIES].create_index(
        [("external_conversation_id", 1), ("status", 1)], name="by_conversation"
    )
    await db[TICKETS].create_index([("status", 1), ("created_at", -1)], name="by_status")
    await db[TICKETS].create_index("customer_email", name="by_customer")
    # the retention sweep: closed tickets by the day they were closed
    await db[TICKETS].create_index([("status", 1), ("closed_at", 1)], name="closed_by_date")
    await db[TICKETS].create_index("order_numbers", name="by_order_number")
    await db[TICKETS].create_index("external_conversation_id", name="by_conversation")
    await db[TICKETS].create_index(
        "source",
        name="one_per_source",
        unique=True,
        partialFilterExpression={"source": {"$type": "string"}},
    )
    # a mail (Message-ID) and a channel's message id are received once
    await db[MESSAGES].create_index(
        "mail_id",
        name="one_per_mail",
        unique=True,
        partialFilterExpression={"mail_id": {"$type": "string"}},
    )
    await db[MESSAGES].create_index(
        [("channel", 1), ("external_id", 1)],
        name="one_per_external_id",
        unique=True,
        partialFilterExpression={"external_id": {"$type": "string"}},
    )
    await db[MESSAGES].create_index([("ticket_id", 1), ("at", 1)], name="of_ticket")
    # customer satisfaction: the figures and the list of a period
    await db[RATINGS].create_index([("requested_at", 1), ("agent", 1)], name="by_period")
    await db[CUSTOMERS].create_index("phones", name="by_phone")
    # the context's retention sweep (ADR 0138): rows by the time their period counts from
    await db[CUSTOMERS].create_index("updated_at", name="by_last_fact")
    await db[CONTEXT_ORDERS].create_index(LAST_EVENT_AT, name="by_last_fact")
    await db[CHATS].create_index("created_at", name="by_opening")
    await db[PRODUCTS].create_index("search", name="by_word")  # multikey: every word
    await db[CONTEXT_ORDERS].create_index("email", name="by_customer")
    await db[CONTEXT_ORDERS].create_index("order_number", name="by_number")
    await db[CONTEXT_ORDERS].create_index(
        [("status", 1), ("shipments.shipped_at", 1)], name="shipped_by_date"
    )
