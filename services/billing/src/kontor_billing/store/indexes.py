"""Billing's indexes (created at start; nothing else happens here)."""

from __future__ import annotations

from typing import Any

from pymongo.asynchronous.database import AsyncDatabase

from kontor_billing.store.invoices import INVOICES, ONE_VALID_INVOICE
from kontor_billing.store.ledger import AUDIT, ORDERS


async def ensure_indexes(db: AsyncDatabase[dict[str, Any]]) -> None:
    await db[INVOICES].create_index("number", unique=True, name="number_unique")
    await db[INVOICES].create_index("order_id", name="by_order")
    # One *valid* invoice per order: a second OrderPlaced for the same order (a replay
    # from another producer instance) cannot bill twice, even past the inbox; a reissue
    # after a cancellation is the next generation, and two racing reissues cannot both
    # win (ADR 0025; migration 0025 drops the old one_invoice_per_order).
    await db[INVOICES].create_index(
        [("order_id", 1), ("generation", 1)],
        unique=True,
        name=ONE_VALID_INVOICE,
        partialFilterExpression={"kind": "invoice"},
    )
    # One cancellation per invoice, one correction per refund (return or complaint).
    await db[INVOICES].create_index(
        "original_number",
        unique=True,
        name="one_cancellation_per_invoice",
        partialFilterExpression={"kind": "cancellation"},
    )
    await db[INVOICES].create_index(
        "return_id",
        unique=True,
        name="one_correction_per_refund",
        partialFilterExpression={"kind": "correction"},
    )
    await db[INVOICES].create_index("original_number", name="by_original")
    await db[INVOICES].create_index([("kind", 1), ("number", -1)], name="by_kind_number")
    await db[INVOICES].create_index("customer_email", name="by_customer_email")
    await db[AUDIT].create_index([("chain", 1), ("seq", 1)], unique=True, name="chain_seq")
    await db[ORDERS].create_index("waiting", name="waiting", sparse=True)
