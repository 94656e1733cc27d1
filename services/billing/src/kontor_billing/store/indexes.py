"""Billing's indexes (created at start; nothing else happens here)."""

from __future__ import annotations

from typing import Any

from pymongo.asynchronous.database import AsyncDatabase

from kontor_billing.store.invoices import INVOICES


async def ensure_indexes(db: AsyncDatabase[dict[str, Any]]) -> None:
    await db[INVOICES].create_index("number", unique=True, name="number_unique")
    await db[INVOICES].create_index("order_id", name="by_order")
    # One invoice per order: a second OrderPlaced for the same order (a replay from
    # another producer instance) cannot bill twice, even past the inbox.
    await db[INVOICES].create_index(
        [("order_id", 1), ("kind", 1)],
        unique=True,
        name="one_invoice_per_order",
        partialFilterExpression={"kind": "invoice"},
    )
