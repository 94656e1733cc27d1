"""The orders database's migrations (run once each by ``kontor_servicekit.migrations``,
after the indexes and before the relay and the consumers start)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from kontor_servicekit.migrations import Migration
from kontor_servicekit.numbers import NumberBlocks
from kontor_servicekit.store import Store
from pymongo import UpdateOne
from pymongo.asynchronous.collection import AsyncCollection

from kontor_orders.domain.parties import email_key
from kontor_orders.store.indexes import KEPT
from kontor_orders.store.orders import EMAIL_KEY, ORDERS
from kontor_orders.store.retention import RETENTION_FROM, retention_from


async def _backfill(
    docs: AsyncCollection[dict[str, Any]],
    field: str,
    value_of: Callable[[dict[str, Any]], Any],
    projection: dict[str, int] | None = None,
) -> None:
    """``field`` set to ``value_of(doc)`` on every document of ``docs`` without it, 500
    per bulk write."""
    batch: list[UpdateOne] = []
    async for doc in docs.find({field: {"$exists": False}}, projection):
        batch.append(UpdateOne({"_id": doc["_id"]}, {"$set": {field: value_of(doc)}}))
        if len(batch) == 500:
            await docs.bulk_write(batch, ordered=False)
            batch = []
    if batch:
        await docs.bulk_write(batch, ordered=False)


async def continue_legacy_numbers(store: Store) -> None:
    """The first version took order numbers from the gap-free counter
    ``order-number:<year>``; the block allocator continues after them.

    Once is enough: nothing writes ``order-number:<year>`` counters any more (placement
    takes numbers from ``block:`` counters), and ``raise_floor`` is a ``$max``, so a
    second run would change nothing.
    """
    numbers = NumberBlocks(store)
    legacy = store.db["sequences"].find({"_id": {"$regex": "^order-number:"}})
    async for doc in legacy:
        await numbers.raise_floor(doc["_id"], int(doc["value"]))


async def add_email_keys(store: Store) -> None:
    """Orders stored before e-mails were matched case-insensitively get their
    ``customer_email_key``; the index on the bare address (``by_customer``) goes.

    Touches only orders without the key, so a rerun over partial work is safe.
    """
    orders = store.db[ORDERS]
    await _backfill(
        orders, EMAIL_KEY, lambda doc: email_key(doc["customer"]["email"]), {"customer.email": 1}
    )
    if "by_customer" in await orders.index_information():
        await orders.drop_index("by_customer")


async def add_retention_from(store: Store) -> None:
    """Orders, returns, withdrawals and complaints stored before retention existed get
    their ``retention_from`` (ADR 0076), so the TTL reaches them too; touches only those
    without it, so a rerun over partial work is safe."""
    for collection in KEPT:
        await _backfill(store.db[collection], RETENTION_FROM, retention_from)


#: The orders service's migrations, in order; a name is never reused.
MIGRATIONS = [
    Migration(
        "orders-0001-continue-legacy-numbers",
        continue_legacy_numbers,
        "order numbers continue after the first version's per-year counters",
    ),
    Migration(
        "orders-0002-email-keys",
        add_email_keys,
        "orders are found by e-mail case-insensitively (customer_email_key)",
    ),
    Migration(
        "orders-0003-retention-from",
        add_retention_from,
        "orders, returns, withdrawals and complaints carry retention_from for their TTL",
    ),
]
