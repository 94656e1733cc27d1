"""Data changes of the orders database that run when the service starts.

Kept here until the kit has one mechanism for migrations.
"""

from __future__ import annotations

from typing import Any

from kontor_servicekit.numbers import NumberBlocks
from pymongo.asynchronous.database import AsyncDatabase


async def continue_legacy_numbers(db: AsyncDatabase[dict[str, Any]], numbers: NumberBlocks) -> None:
    """The first version took order numbers from the gap-free counter
    ``order-number:<year>``; the block allocator continues after them."""
    legacy = db["sequences"].find({"_id": {"$regex": "^order-number:"}})
    async for doc in legacy:
        await numbers.raise_floor(doc["_id"], int(doc["value"]))
