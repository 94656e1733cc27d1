"""Analytics's read models of the other services' facts (projection ``analytics.figures``).

``fact_orders``: one document per order: placement (totals, lines, channel, a hash of
the customer's e-mail for new/returning), its fate (confirmed, rejected, cancelled),
first shipment and delivery times. ``fact_returns``: one document per return (its order, lines with
reasons, the refund once completed). ``fact_products``: category, parent and variant
attributes per SKU, and the pieces on hand per warehouse. ``fact_invoices``: issue and
due dates, the first payment, the dunning. ``fact_campaigns``: name, coupon, cost,
when sent and to how many; ``fact_coupons``: the campaign of each code. Every write is
an upsert of its own fields, so events from different topics may arrive in any order;
the inbox keeps a redelivered event from counting twice. Rebuilt by replay
(``kontor_servicekit.rebuild``).
"""

from __future__ import annotations

from datetime import date, datetime, time
from decimal import Decimal
from typing import Any

from kontor_servicekit.clock import BERLIN
from kontor_servicekit.store import Transaction

FACT_ORDERS = "fact_orders"
FACT_RETURNS = "fact_returns"
FACT_PRODUCTS = "fact_products"
FACT_INVOICES = "fact_invoices"
FACT_CAMPAIGNS = "fact_campaigns"
FACT_COUPONS = "fact_coupons"


def _key(text: str) -> str:
    """A value usable as a field name (ids may hold dots)."""
    return text.replace(".", "\uff0e").replace("$", "\uff04")


def _day(value: date) -> datetime:
    return datetime.combine(value, time(0), tzinfo=BERLIN)


class MongoFactRepository:
    def __init__(self, tx: Transaction) -> None:
        self.tx = tx
        self.orders = tx.db[FACT_ORDERS]
        self.returns = tx.db[FACT_RETURNS]
        self.products = tx.db[FACT_PRODUCTS]
        self.invoices = tx.db[FACT_INVOICES]
        self.campaigns = tx.db[FACT_CAMPAIGNS]
        self.coupons = tx.db[FACT_COUPONS]

    async def _set(self, collection: Any, key: str, changes: dict[str, Any]) -> None:
        await collection.update_one({"_id": key}, changes, upsert=True, session=self.tx.session)

    async def order_placed(self, order_id: str, values: dict[str, Any]) -> None:
        await self._set(self.orders, order_id, {"$set": values})

    async def order_state(self, order_id: str, field: str, at: datetime) -> None:
        """``confirmed_at``, ``rejected_at`` or ``cancelled_at`` (the first one wins)."""
        await self._set(self.orders, order_id, {"$min": {field: at}})

    async def order_shipped(self, order_id: str, at: datetime) -> None:
        await self._set(self.orders, order_id, {"$min": {"shipped_at": at}})

    async def order_delivered(self, order_id: str, at: datetime) -> None:
        await self._set(self.orders, order_id, {"$max": {"delivered_at": at}})

    async def return_requested(
        self, order_id: str, return_id: str, lines: list[dict[str, Any]], at: datetime
    ) -> None:
        await self._set(
            self.returns,
            return_id,
            {"$set": {"order_id": order_id, "lines": lines, "requested_at": at}},
        )

    async def return_completed(
        self, order_id: str, return_id: str, refund: Decimal, at: datetime
    ) -> None:
        await self._set(
            self.returns,
            return_id,
            {"$set": {"order_id": order_id, "refund": refund, "completed_at": at}},
        )

    async def product(self, sku: str, values: dict[str, Any]) -> None:
        await self._set(self.products, sku, {"$set": values})

    async def stock(self, sku: str, warehouse: str, on_hand: int, at: datetime) -> None:
        await self._set(
            self.products,
            sku,
            {"$set": {f"stock.{_key(warehouse)}": on_hand, "stock_at": at}},
        )

    async def invoice_issued(self, invoice_id: str, values: dict[str, Any]) -> None:
        for name in ("issue_date", "due_date"):
            values[name] = _day(values[name])
        await self._set(self.invoices, invoice_id, {"$set": values})

    async def invoice_paid(self, invoice_id: str, at: datetime) -> None:
        await self._set(self.invoices, invoice_id, {"$min": {"paid_at": at}})

    async def invoice_overdue(self, invoice_id: str, level: int | None, at: datetime) -> None:
        await self._set(
            self.invoices,
            invoice_id,
            {"$min": {"overdue_at": at}, "$max": {"dunning_level": level or 1}},
        )

    async def campaign(self, campaign_id: str, values: dict[str, Any]) -> None:
        await self._set(self.campaigns, campaign_id, {"$set": values})

    async def coupon(self, code: str, values: dict[str, Any]) -> None:
        await self._set(self.coupons, code, {"$set": values})
