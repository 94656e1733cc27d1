"""Refunds read before their order (``early_refunds``, ``_id`` the return's id).

Orders and returns travel on different topics; a group that catches up (a first start
over a topic's history, a rebuild, a lag) can read a ReturnCompleted before the
OrderPlaced it refers to. The refund waits here and is folded when the order arrives
(ADR 0112). It holds no personal data (order id, amount, time). A refund whose order
never comes (placed before the topics' history) expires after ``EARLY_REFUND_TTL_S``.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from kontor_servicekit.clock import utc_now
from kontor_servicekit.store import Transaction

EARLY_REFUNDS = "early_refunds"
EARLY_REFUND_TTL_INDEX = "parked_at_ttl"
EARLY_REFUND_TTL_S = 30 * 24 * 3600


class MongoEarlyRefunds:
    def __init__(self, tx: Transaction) -> None:
        self.tx = tx
        self.collection = tx.db[EARLY_REFUNDS]

    async def park(self, return_id: str, order_id: str, amount: Decimal, at: datetime) -> None:
        await self.collection.replace_one(
            {"_id": return_id},
            {"order_id": order_id, "amount": amount, "at": at, "parked_at": utc_now()},
            upsert=True,
            session=self.tx.session,
        )

    async def take(self, order_id: str) -> list[tuple[Decimal, datetime]]:
        docs = await self.collection.find({"order_id": order_id}, session=self.tx.session).to_list(
            None
        )
        if docs:
            await self.collection.delete_many({"order_id": order_id}, session=self.tx.session)
        return [(d["amount"], d["at"]) for d in sorted(docs, key=lambda d: d["_id"])]
