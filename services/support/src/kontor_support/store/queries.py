"""Support's read side: what the routes and the channel adapters read, straight from the db."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from kontor_servicekit.store import find_page
from pymongo.asynchronous.database import AsyncDatabase

from kontor_support.application.views import CustomerView, Page, TicketFilter, TicketView
from kontor_support.domain.chat import Chat
from kontor_support.domain.delivery import Delivery
from kontor_support.domain.message import Attachment, TicketMessage
from kontor_support.domain.rating import Rating, RatingCount
from kontor_support.domain.ticket import Ticket
from kontor_support.store.chats import CHATS
from kontor_support.store.chats import from_document as chat_from_document
from kontor_support.store.context import CONTEXT_ORDERS, CUSTOMERS, LAST_EVENT_AT
from kontor_support.store.deliveries import DELIVERIES
from kontor_support.store.deliveries import from_document as delivery_from_document
from kontor_support.store.products import PRODUCTS
from kontor_support.store.ratings import RATINGS
from kontor_support.store.ratings import from_document as rating_from_document
from kontor_support.store.tickets import (
    MESSAGES,
    TICKETS,
    message_from_document,
    ticket_from_document,
)


class SupportQueries:
    def __init__(self, db: AsyncDatabase[dict[str, Any]]) -> None:
        self.db = db

    async def queued_deliveries(
        self,
        limit: int,
        *,
        now: datetime | None = None,
        channel: str | None = None,
        conversations: list[str] | None = None,
    ) -> list[Delivery]:
        """Up to ``limit`` queued replies, oldest first; with ``now`` only those whose
        retry pause (after a failed attempt) is over; with ``channel`` only that
        channel's. One round trip."""
        query: dict[str, Any] = {"status": "queued"}
        if channel is not None:
            query["channel"] = channel
        if conversations is not None:
            query["external_conversation_id"] = {"$in": conversations}
        if now is not None:
            query["$or"] = [{"not_before": None}, {"not_before": {"$lte": now}}]
        cursor = self.db[DELIVERIES].find(query).sort([("created_at", 1), ("_id", 1)])
        return [delivery_from_document(doc) async for doc in cursor.limit(limit)]

    async def chat(self, chat_id: str) -> Chat | None:
        doc = await self.db[CHATS].find_one({"_id": chat_id})
        return None if doc is None else chat_from_document(doc)

    async def chats(self, chat_ids: list[str]) -> list[Chat]:
        """The chats of ``chat_ids`` (one round trip)."""
        cursor = self.db[CHATS].find({"_id": {"$in": chat_ids}})
        return [chat_from_document(doc) async for doc in cursor.limit(len(chat_ids))]

    async def transcript(self, ticket_id: str, limit: int = 500) -> list[TicketMessage]:
        """A ticket's public messages, oldest first (what a chat's customer may see)."""
        cursor = self.db[MESSAGES].find({"ticket_id": ticket_id, "internal": {"$ne": True}})
        cursor = cursor.sort([("at", 1), ("_id", 1)]).limit(limit)
        return [message_from_document(doc) async for doc in cursor]

    async def undelivered(self, shipped_before: datetime, *, limit: int = 200) -> list[str]:
        """Orders shipped before ``shipped_before``, not delivered, not yet ticketed."""
        query = {
            "status": "shipped",
            "undelivered": {"$ne": True},
            "shipments.shipped_at": {"$lte": shipped_before},
        }
        cursor = self.db[CONTEXT_ORDERS].find(query, {"_id": 1}).limit(limit)
        return [doc["_id"] async for doc in cursor]

    async def delivery(self, delivery_id: str) -> Delivery | None:
        doc = await self.db[DELIVERIES].find_one({"_id": delivery_id})
        return None if doc is None else delivery_from_document(doc)

    # the context's retention (ADR 0138): a page of ids by id, the sweep re-checks each

    async def orders_before(
        self, before: datetime, *, after: str | None, limit: int = 200
    ) -> list[str]:
        """Orders whose last fact is not later than ``before``."""
        return await self._ids(CONTEXT_ORDERS, LAST_EVENT_AT, before, after, limit)

    async def customers_before(
        self, before: datetime, *, after: str | None, limit: int = 200
    ) -> list[str]:
        """Customers no fact named later than ``before``."""
        return await self._ids(CUSTOMERS, "updated_at", before, after, limit)

    async def chats_before(
        self, before: datetime, *, after: str | None, limit: int = 200
    ) -> list[str]:
        """Chats opened not later than ``before``."""
        return await self._ids(CHATS, "created_at", before, after, limit)

    async def _ids(
        self, collection: str, field: str, before: datetime, after: str | None, limit: int
    ) -> list[str]:
        query: dict[str, Any] = {field: {"$lte": before}}
        if after is not None:
            query["_id"] = {"$gt": after}
        cursor = self.db[collection].find(query, {"_id": 1}).sort("_id", 1).limit(limit)
        return [doc["_id"] async for doc in cursor]


class ProductQueries:
    def __init__(self, db: AsyncDatabase[dict[str, Any]]) -> None:
        self.db = db

    async def search(
        self, words: list[str], *, in_stock: bool, page: int, page_size: int
    ) -> Page[dict[str, Any]]:
        """Products carrying every one of ``words``, in stock first, then by name."""
        query: dict[str, Any] = {"search": {"$all": words}} if words else {}
        if in_stock:
            query["stock"] = {"$gt": 0}
        docs, total = await find_page(
            self.db[PRODUCTS],
            query,
            [("discontinued", 1), ("stock", -1), ("name", 1), ("_id", 1)],
            page=page,
            page_size=page_size,
        )
        return Page(docs, total)


_FAR = datetime(9999, 12, 31, tzinfo=UTC)


class RatingQueries:
    """Customer satisfaction: the ratings asked for in a period, counted or listed."""

    def __init__(self, db: AsyncDatabase[dict[str, Any]]) -> None:
        self.db = db

    async def of_ticket(self, ticket_id: str) -> Rating | None:
        doc = await self.db[RATINGS].find_one({"_id": ticket_id})
        return None if doc is None else rating_from_document(doc)

    async def counts(self, since: datetime, until: datetime) -> list[RatingCount]:
        """Ratings asked for in [since, until), counted per agent, channel and score
        (None: not answered): one aggregation, whatever the number of ratings."""
        pipeline: list[dict[str, Any]] = [
            {"$match": {"requested_at": {"$gte": since, "$lt": until}}},
            {
                "$group": {
                    "_id": {"agent": "$agent", "channel": "$channel", "score": "$score"},
                    "count": {"$sum": 1},
                }
            },
        ]
        rows = await (await self.db[RATINGS].aggregate(pipeline)).to_list(None)
        return [
            RatingCount(
                agent=row["_id"]["agent"],
                channel=row["_id"]["channel"],
                score=row["_id"].get("score"),
                count=int(row["count"]),
            )
            for row in rows
        ]

    async def page(
        self,
        since: datetime,
        until: datetime,
        *,
        agent: str | None,
        channel: str | None,
        page: int,
        page_size: int,
    ) -> Page[Rating]:
        """The ratings given (answered ones) asked for in [since, until), newest first."""
        query: dict[str, Any] = {
            "requested_at": {"$gte": since, "$lt": until},
            "score": {"$ne": None},
        }
        if agent is not None:
            query["agent"] = agent
        if channel is not None:
            query["channel"] = channel
        docs, total = await find_page(
            self.db[RATINGS],
            query,
            [("requested_at", -1), ("_id", -1)],
            page=page,
            page_size=page_size,
        )
        return Page([rating_from_document(d) for d in docs], total)


class TicketQueries:
    def __init__(self, db: AsyncDatabase[dict[str, Any]]) -> None:
        self.db = db

    async def page(self, wanted: TicketFilter, *, page: int, page_size: int) -> Page[Ticket]:
        query: dict[str, Any] = {}
        if wanted.customer:
            query["customer_email"] = wanted.customer.strip().lower()
        if wanted.status:
            query["status"] = wanted.status
        if wanted.channel:
            query["channel"] = wanted.channel
        if wanted.order_number:
            query["order_numbers"] = wanted.order_number
        docs, total = await find_page(
            self.db[TICKETS],
            query,
            [("created_at", -1), ("_id", -1)],
            page=page,
            page_size=page_size,
        )
        return Page([ticket_from_document(d) for d in docs], total)

    async def ticket(self, ticket_id: str) -> Ticket | None:
        doc = await self.db[TICKETS].find_one({"_id": ticket_id})
        return None if doc is None else ticket_from_document(doc)

    async def view(self, ticket_id: str) -> TicketView | None:
        """The ticket, its messages (oldest first), its customer's orders and its rating:
        five round trips, whatever the number of messages."""
        ticket = await self.ticket(ticket_id)
        if ticket is None:
            return None
        cursor = self.db[MESSAGES].find({"ticket_id": ticket_id}).sort([("at", 1), ("_id", 1)])
        messages = [message_from_document(d) async for d in cursor.limit(1000)]
        customer = None
        if ticket.customer_email:
            customer = await self.db[CUSTOMERS].find_one({"_id": ticket.customer_email})
        orders = await self._orders(ticket.customer_email, ticket.order_numbers)
        rating = await self.db[RATINGS].find_one({"_id": ticket_id})
        return TicketView(
            ticket,
            messages,
            customer,
            orders,
            None if rating is None else rating_from_document(rating),
        )

    async def _orders(self, email: str | None, numbers: tuple[str, ...]) -> list[dict[str, Any]]:
        wanted: list[dict[str, Any]] = []
        if email:
            wanted.append({"email": email})
        if numbers:
            wanted.append({"order_number": {"$in": list(numbers)}})
        if not wanted:
            return []
        query = wanted[0] if len(wanted) == 1 else {"$or": wanted}
        cursor = self.db[CONTEXT_ORDERS].find(query).sort([("placed_at", -1), ("_id", 1)])
        return await cursor.limit(100).to_list(None)

    async def attachment(
        self, ticket_id: str, blob_id: str, *, public: bool = False
    ) -> Attachment | None:
        """The attachment ``blob_id`` if a message of ``ticket_id`` carries it (an agent
        reads a ticket's files through the ticket, never a blob by its id alone);
        ``public``: only of a message the customer sees (no internal note's)."""
        wanted: dict[str, Any] = {"ticket_id": ticket_id, "attachments.blob_id": blob_id}
        if public:
            wanted["internal"] = {"$ne": True}
        doc = await self.db[MESSAGES].find_one(wanted, {"attachments": 1})
        if doc is None:
            return None
        found = [a for a in doc.get("attachments") or () if a.get("blob_id") == blob_id]
        return Attachment(**found[0]) if found else None

    async def customer(self, email: str) -> CustomerView:
        email = email.strip().lower()
        customer = await self.db[CUSTOMERS].find_one({"_id": email})
        orders = await self._orders(email, ())
        cursor = self.db[TICKETS].find({"customer_email": email}).sort([("created_at", -1)])
        tickets = [ticket_from_document(d) async for d in cursor.limit(100)]
        return CustomerView(email, customer, orders, tickets)

    async def queue(self, *, page: int, page_size: int) -> Page[Ticket]:
        """Tickets waiting for us, the one whose SLA breaches first on top (one not
        planned yet, or with no target left, after those: longest waiting first)."""
        query = {"status": {"$in": ["new", "open"]}}
        total = await self.db[TICKETS].count_documents(query)
        pipeline: list[dict[str, Any]] = [
            {"$match": query},
            {"$addFields": {"_due": {"$ifNull": ["$sla_due_at", _FAR]}}},
            {"$sort": {"_due": 1, "waiting_since": 1, "created_at": 1, "_id": 1}},
            {"$skip": (page - 1) * page_size},
            {"$limit": page_size},
        ]
        docs = await (await self.db[TICKETS].aggregate(pipeline)).to_list(None)
        return Page([ticket_from_document(d) for d in docs], total)

    async def past_retention(self, ended_before: datetime, *, limit: int = 200) -> list[str]:
        """Ids of closed tickets (closed before ``ended_before``) and merged ones (last
        changed before it) not anonymised yet (the retention sweep re-checks each)."""
        query = {
            "anonymised_at": None,
            "$or": [
                {"status": "closed", "closed_at": {"$lte": ended_before}},
                {"status": "merged", "updated_at": {"$lte": ended_before}},
            ],
        }
        cursor = self.db[TICKETS].find(query, {"_id": 1}).limit(limit)
        return [doc["_id"] async for doc in cursor]

    async def to_sweep(self, now: datetime, *, limit: int) -> list[str]:
        """Ids of tickets the SLA and pending sweep has to look at."""
        query = {
            "$or": [
                {"status": {"$in": ["new", "open"]}, "sla_planned": {"$ne": True}},
                {"status": {"$in": ["new", "open"]}, "sla_due_at": {"$lte": now}},
                {"status": {"$in": ["pending", "pending_close"]}, "pending_until": {"$lte": now}},
            ]
        }
        cursor = self.db[TICKETS].find(query, {"_id": 1}).limit(limit)
        return [doc["_id"] async for doc in cursor]
