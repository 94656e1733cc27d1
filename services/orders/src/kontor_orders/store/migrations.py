"""The orders database's migrations (run once each by ``kontor_servicekit.migrations``,
after the indexes and before the relay and the consumers start)."""

from __future__ import annotations

from kontor_servicekit.migrations import Migration
from kontor_servicekit.numbers import NumberBlocks
from kontor_servicekit.store import Store


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


#: The orders service's migrations, in order; a name is never reused.
MIGRATIONS = [
    Migration(
        "orders-0001-continue-legacy-numbers",
        continue_legacy_numbers,
        "order numbers continue after the first version's per-year counters",
    ),
]
