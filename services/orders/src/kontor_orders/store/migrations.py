"""The orders database's migrations (run once each by ``kontor_servicekit.migrations``,
after the indexes and before the relay and the consumers start)."""

from __future__ import annotations

from kontor_servicekit.migrations import Migration
from kontor_servicekit.numbers import NumberBlocks
from kontor_servicekit.store import Store
from pymongo import UpdateOne

from kontor_orders.domain.parties import email_key
from kontor_orders.store.orders import EMAIL_KEY, ORDERS


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
    batch: list[UpdateOne] = []
    async for doc in orders.find({EMAIL_KEY: {"$exists": False}}, {"customer.email": 1}):
        key = email_key(doc["customer"]["email"])
        batch.append(UpdateOne({"_id": doc["_id"]}, {"$set": {EMAIL_KEY: key}}))
        if len(batch) == 500:
            await orders.bulk_write(batch, ordered=False)
            batch = []
    if batch:
        await orders.bulk_write(batch, ordered=False)
    if "by_customer" in await orders.index_information():
        await orders.drop_index("by_customer")


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
]
