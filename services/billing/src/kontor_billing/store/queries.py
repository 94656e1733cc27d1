"""Billing's read side: what the routes show, answered straight from the database."""

from __future__ import annotations

from typing import Any

from pymongo.asynchronous.database import AsyncDatabase

from kontor_billing.store.invoices import INVOICES

Document = dict[str, Any]


class InvoiceQueries:
    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self.db = db

    async def of_order(self, order_id: str) -> list[Document]:
        """The invoices of an order, by number."""
        return await self.db[INVOICES].find({"order_id": order_id}).sort("number", 1).to_list(100)

    async def by_number(self, number: str) -> Document | None:
        return await self.db[INVOICES].find_one({"number": number})
