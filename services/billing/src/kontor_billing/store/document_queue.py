"""The queue of invoices that wait un-numbered (ADR 0025): billing's order book read
for ``GET /documents/failed``."""

from __future__ import annotations

from typing import Any

from kontor_servicekit.store import find_page
from pymongo.asynchronous.database import AsyncDatabase

from kontor_billing.domain.order import BilledOrder
from kontor_billing.store.ledger import ORDERS, order_of

WAITING: dict[str, Any] = {"waiting": {"$ne": None}}


class WaitingQueries:
    def __init__(self, db: AsyncDatabase[dict[str, Any]]) -> None:
        self.db = db

    async def page(
        self, *, page: int, page_size: int, rules_only: bool = False
    ) -> tuple[list[BilledOrder], int]:
        """The orders whose invoice waits, oldest order id first; ``rules_only``: only
        those refused by e-invoice rules (not those waiting for the seller's data)."""
        query = {**WAITING, "rule_ids.0": {"$exists": True}} if rules_only else WAITING
        docs, total = await find_page(
            self.db[ORDERS], query, [("_id", 1)], page=page, page_size=page_size
        )
        return [order_of(d) for d in docs], total
