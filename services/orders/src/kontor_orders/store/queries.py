"""The orders service's read side: what the routes show, answered from the database.

Each call is a constant number of round trips (a page: one count, one find). What is
returned is for showing; it is never saved back (commands load through the unit of
work).
"""

from __future__ import annotations

from typing import Any

from kontor_servicekit.store import find_page
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.database import AsyncDatabase

from kontor_orders.application.views import OrderFilter, Page
from kontor_orders.application.withdrawal_form import ShownWithdrawal, shown
from kontor_orders.domain.cart import Cart
from kontor_orders.domain.complaint import Complaint
from kontor_orders.domain.order import TO_SHIP, Order
from kontor_orders.domain.parties import order_number_key
from kontor_orders.domain.returns import OPEN_RETURN_STATUSES, Return
from kontor_orders.store import carts, complaints, orders, returns

Document = dict[str, Any]


def _skip(page: int, page_size: int) -> int:
    return (page - 1) * page_size


async def _newest_first(
    collection: AsyncCollection[Document], query: Document, at: str, page: int, page_size: int
) -> Page[Document]:
    return await _page_of(collection, query, at, -1, page, page_size)


async def _page_of(
    collection: AsyncCollection[Document],
    query: Document,
    at: str,
    direction: int,
    page: int,
    page_size: int,
) -> Page[Document]:
    """One page of documents sorted by ``at`` (ties by id), and the count of all: two
    round trips."""
    sort = [(at, direction), ("_id", 1)]
    docs, total = await find_page(collection, query, sort, page=page, page_size=page_size)
    return Page(docs, total)


class OrderQueries:
    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self.db = db

    async def order(self, key: str) -> Order | None:
        """The order with the id or the number ``key`` (``B-2026-000001``, any case)."""
        doc = await self.db[orders.ORDERS].find_one(
            {"$or": [{"_id": key}, {"number": order_number_key(key)}]}
        )
        return None if doc is None else orders.from_document(doc)

    async def page(self, wanted: OrderFilter, *, page: int, page_size: int) -> Page[Order]:
        """Orders matching ``wanted``, newest first."""
        query: Document = {}
        if wanted.statuses:
            query["status"] = {"$in": list(wanted.statuses)}
        placed: Document = {}
        if wanted.placed_from is not None:
            placed["$gte"] = wanted.placed_from
        if wanted.placed_before is not None:
            placed["$lt"] = wanted.placed_before
        if placed:
            query["placed_at"] = placed
        if wanted.customer is not None:
            by = orders.EMAIL_KEY if wanted.customer_is_email else "customer.customer_id"
            query[by] = wanted.customer_key
        if wanted.sku is not None:
            query["lines.sku"] = wanted.sku
        if wanted.number is not None:
            query["number"] = wanted.number_key
        return await self._page(query, -1, page, page_size)

    async def to_ship(self, *, page: int, page_size: int) -> Page[Order]:
        """The shipping queue: confirmed, paid and partly shipped orders, oldest first."""
        return await self._page({"status": {"$in": sorted(TO_SHIP)}}, 1, page, page_size)

    async def _page(self, query: Document, sort: int, page: int, page_size: int) -> Page[Order]:
        collection = self.db[orders.ORDERS]
        found = await _page_of(collection, query, "placed_at", sort, page, page_size)
        return Page([orders.from_document(d) for d in found.items], found.total)


class CartQueries:
    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self.db = db

    async def cart(self, cart_id: str) -> Cart | None:
        doc = await self.db[carts.CARTS].find_one({"_id": cart_id})
        return None if doc is None else carts.from_document(doc)


class ReturnQueries:
    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self.db = db

    async def get(self, return_id: str) -> Return | None:
        doc = await self.db[returns.RETURNS].find_one({"_id": return_id})
        return None if doc is None else returns.from_document(doc)

    async def withdrawal(self, withdrawal_id: str) -> ShownWithdrawal | None:
        """A withdrawal as its page shows it: with product names, and its receipt (time
        and lines of its return) once declared. Three round trips."""
        doc = await self.db[returns.WITHDRAWALS].find_one({"_id": withdrawal_id})
        if doc is None:
            return None
        withdrawal = returns.withdrawal_from_document(doc)
        order_doc = await self.db[orders.ORDERS].find_one({"_id": withdrawal.order_id})
        if order_doc is None:
            return None
        declared = None
        if withdrawal.return_id is not None:
            return_doc = await self.db[returns.RETURNS].find_one({"_id": withdrawal.return_id})
            declared = None if return_doc is None else returns.from_document(return_doc)
        return shown(withdrawal, orders.from_document(order_doc), declared)

    async def page(self, status: str | None, *, page: int, page_size: int) -> Page[Return]:
        """Returns, newest first; ``open`` for those not yet settled."""
        query: Document = {}
        if status == "open":
            query["status"] = {"$in": list(OPEN_RETURN_STATUSES)}
        elif status is not None:
            query["status"] = status
        found = await _newest_first(
            self.db[returns.RETURNS], query, "requested_at", page, page_size
        )
        return Page([returns.from_document(d) for d in found.items], found.total)


class ComplaintQueries:
    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self.db = db

    async def get(self, complaint_id: str) -> Complaint | None:
        doc = await self.db[complaints.COMPLAINTS].find_one({"_id": complaint_id})
        return None if doc is None else complaints.from_document(doc)

    async def page(self, status: str | None, *, page: int, page_size: int) -> Page[Complaint]:
        """Complaints, newest first; ``open`` for unresolved ones."""
        query = {} if status is None else {"status": status}
        collection = self.db[complaints.COMPLAINTS]
        found = await _newest_first(collection, query, "filed_at", page, page_size)
        return Page([complaints.from_document(d) for d in found.items], found.total)
