"""Support's read models of other services' facts: customers and their orders' lives.

``customers``: one document per e-mail address (lower case) with name, phones and
the shop's customer id. ``context_orders``: one document per order with what happened
to it, in arrays (shipments with tracking, returns, complaints, invoices, credit
notes, payments, refunds, dunning), so a ticket's customer context is one query.
Written only by the consumers (``application/context.py``); the event's inbox record
in the same transaction keeps a redelivery from adding an item twice. Each order keeps
``last_event_at``, the newest of its facts' times, and each customer ``updated_at``,
from which the retention sweep counts (``application/retention.py``, ADR 0138).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from kontor_servicekit.store import Transaction

CUSTOMERS = "customers"
CONTEXT_ORDERS = "context_orders"
#: The newest time of an order's facts: its retention counts from it (ADR 0138).
LAST_EVENT_AT = "last_event_at"

SECTIONS = (
    "shipments",
    "returns",
    "complaints",
    "invoices",
    "credit_notes",
    "payments",
    "refunds",
    "dunning",
)


class MongoCustomerRepository:
    def __init__(self, tx: Transaction) -> None:
        self.tx = tx
        self.customers = tx.db[CUSTOMERS]

    async def remember(
        self,
        email: str,
        *,
        name: str | None,
        phone: str | None,
        customer_id: str | None,
        at: datetime,
    ) -> None:
        values: dict[str, Any] = {}
        if name:
            values["name"] = name
        if customer_id:
            values["customer_id"] = customer_id
        # the newest fact's time, whatever order they are handled in (ADR 0138)
        changes: dict[str, Any] = {"$max": {"updated_at": at}}
        if values:
            changes["$set"] = values
        if phone:
            changes["$addToSet"] = {"phones": phone}
        await self.customers.update_one(
            {"_id": email}, changes, upsert=True, session=self.tx.session
        )

    async def by_phone(self, phone: str) -> dict[str, Any] | None:
        return await self.customers.find_one({"phones": phone}, session=self.tx.session)

    async def get(self, email: str) -> dict[str, Any] | None:
        return await self.customers.find_one({"_id": email}, session=self.tx.session)

    async def forget(self, email: str) -> int:
        done = await self.customers.delete_one({"_id": email}, session=self.tx.session)
        return done.deleted_count


class MongoOrderContextRepository:
    def __init__(self, tx: Transaction) -> None:
        self.tx = tx
        self.orders = tx.db[CONTEXT_ORDERS]

    async def set(self, order_id: str, values: dict[str, Any], *, at: datetime) -> None:
        """Set ``values`` on the order's document (created if it is the first fact);
        ``at``: when the fact happened."""
        await self.orders.update_one(
            {"_id": order_id},
            {
                "$set": values,
                "$max": {LAST_EVENT_AT: at},
                "$setOnInsert": {section: [] for section in SECTIONS},
            },
            upsert=True,
            session=self.tx.session,
        )

    async def add(self, order_id: str, section: str, item: dict[str, Any], *, at: datetime) -> None:
        """Append ``item`` to the order's ``section`` (e.g. a shipment)."""
        if section not in SECTIONS:
            raise ValueError(f"unknown section {section!r}")
        await self.orders.update_one(
            {"_id": order_id},
            {
                "$push": {section: item},
                "$max": {LAST_EVENT_AT: at},
                "$setOnInsert": {"order_id": order_id},
            },
            upsert=True,
            session=self.tx.session,
        )

    async def update_item(
        self,
        order_id: str,
        section: str,
        key: str,
        value: str,
        values: dict[str, Any],
        *,
        at: datetime,
    ) -> None:
        """Set ``values`` on the item of ``section`` whose ``key`` is ``value``."""
        await self.orders.update_one(
            {"_id": order_id, f"{section}.{key}": value},
            {
                "$set": {f"{section}.$.{k}": v for k, v in values.items()},
                "$max": {LAST_EVENT_AT: at},
            },
            session=self.tx.session,
        )

    async def delete(self, order_id: str) -> None:
        """Forget the order (its retention ended)."""
        await self.orders.delete_one({"_id": order_id}, session=self.tx.session)

    async def get(self, order_id: str) -> dict[str, Any] | None:
        return await self.orders.find_one({"_id": order_id}, session=self.tx.session)

    async def by_number(self, order_number: str) -> dict[str, Any] | None:
        return await self.orders.find_one({"order_number": order_number}, session=self.tx.session)

    async def of_customer(self, email: str) -> list[dict[str, Any]]:
        cursor = self.orders.find({"email": email}, session=self.tx.session)
        return await cursor.to_list(None)

    async def forget_customer(self, email: str) -> int:
        done = await self.orders.update_many(
            {"email": email},
            {"$set": {"email": None, "customer_name": None}},
            session=self.tx.session,
        )
        return done.modified_count
