"""Unique, increasing numbers that may have gaps (order numbers, ticket numbers).

Gap-free numbers (invoices) come from ``Transaction.next_sequence``, which every
writer takes inside its own transaction and therefore serialises all writers on
one counter. Numbers that only need to be unique and readable don't need that: each
process reserves a block of them in a short transaction of its own and hands them
out from memory. A process that is killed leaves the rest of its block unused (a gap);
one that stops cleanly hands the rest back (:meth:`NumberBlocks.release`) when no other
process reserved a block after it, so a clean restart continues without a gap.
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass

from pymongo import ReturnDocument
from pymongo.errors import DuplicateKeyError

from kontor_servicekit.store import JOURNALED, SEQUENCES, Store


@dataclass
class _Block:
    next: int
    last: int


class NumberBlocks:
    """Hands out numbers from per-process blocks reserved in the ``sequences`` collection."""

    def __init__(self, store: Store, *, block_size: int = 50) -> None:
        if block_size < 1:
            raise ValueError("block_size must be positive")
        self.store = store
        self.block_size = block_size
        self._blocks: dict[str, _Block] = {}
        self._lock = asyncio.Lock()

    async def next(self, key: str) -> int:
        async with self._lock:
            block = self._blocks.get(key)
            if block is None or block.next > block.last:
                block = await self._reserve(key)
                self._blocks[key] = block
            number = block.next
            block.next += 1
            return number

    async def release(self) -> None:
        """Hand the unused rest of every block back, where that is safe (on a clean stop).

        The counter goes back to the last number handed out only if it still stands at
        the end of this process's block (a compare-and-set): if another process reserved
        a block after it, lowering the counter would give that block's numbers out twice,
        so the rest stays a gap. Numbers already handed out are never handed back (an
        order may be committing with one). After this, ``next`` reserves a fresh block.
        """
        async with self._lock:
            blocks, self._blocks = self._blocks, {}
            counters = self.store.db[SEQUENCES].with_options(write_concern=JOURNALED)
            for key, block in blocks.items():
                if block.next > block.last:
                    continue  # used up: nothing to hand back
                await counters.update_one(
                    {"_id": f"block:{key}", "value": block.last},
                    {"$set": {"value": block.next - 1}},
                )

    async def raise_floor(self, key: str, at_least: int) -> None:
        """Never hand out ``at_least`` or a smaller number for ``key`` (e.g. numbers
        taken before this allocator existed)."""
        await (
            self.store.db[SEQUENCES]
            .with_options(write_concern=JOURNALED)
            .update_one({"_id": f"block:{key}"}, {"$max": {"value": at_least}}, upsert=True)
        )
        self._blocks.pop(key, None)

    async def _reserve(self, key: str) -> _Block:
        counters = self.store.db[SEQUENCES].with_options(write_concern=JOURNALED)
        counter_id = f"block:{key}"
        # Create the counter first: two processes upserting the same new document at
        # once may otherwise see a duplicate key (MongoDB) or no document (SecantusDB).
        with contextlib.suppress(DuplicateKeyError):
            await counters.update_one(
                {"_id": counter_id}, {"$setOnInsert": {"value": 0}}, upsert=True
            )
        # A tiny collection (one document per key): find_one_and_update is cheap here.
        doc = await counters.find_one_and_update(
            {"_id": counter_id},
            {"$inc": {"value": self.block_size}},
            return_document=ReturnDocument.AFTER,
        )
        if doc is None:
            raise RuntimeError(f"number counter {counter_id!r} vanished")
        last = int(doc["value"])
        return _Block(next=last - self.block_size + 1, last=last)
