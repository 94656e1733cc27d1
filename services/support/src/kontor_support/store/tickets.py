"""Tickets (``tickets``) and their messages (``ticket_messages``): documents <-> domain."""

from __future__ import annotations

from dataclasses import asdict, fields
from typing import Any

from kontor_servicekit.domain_errors import Conflict
from kontor_servicekit.store import Transaction

from kontor_support.domain.message import Attachment, TicketMessage
from kontor_support.domain.ticket import OPEN_STATES, Ticket, TimelineEntry

TICKETS = "tickets"
MESSAGES = "ticket_messages"

_TICKET_TUPLES = (
    "tags",
    "order_numbers",
    "invoice_numbers",
    "return_ids",
    "thread_ids",
    "breached",
)


def ticket_document(ticket: Ticket) -> dict[str, Any]:
    doc = {f.name: getattr(ticket, f.name) for f in fields(Ticket)}
    doc["_id"] = doc.pop("id")
    for name in _TICKET_TUPLES:
        doc[name] = list(doc[name])
    doc["timeline"] = [asdict(entry) for entry in ticket.timeline]
    return doc


def ticket_from_document(doc: dict[str, Any]) -> Ticket:
    known = {f.name for f in fields(Ticket)}
    values = {k: v for k, v in doc.items() if k in known}
    values["id"] = doc["_id"]
    for name in _TICKET_TUPLES:
        values[name] = tuple(doc.get(name) or ())
    values["timeline"] = [TimelineEntry(**entry) for entry in doc.get("timeline") or ()]
    return Ticket(**values)


def message_document(message: TicketMessage) -> dict[str, Any]:
    doc = {f.name: getattr(message, f.name) for f in fields(TicketMessage)}
    doc["_id"] = doc.pop("id")
    doc["references"] = list(message.references)
    doc["attachments"] = [asdict(a) for a in message.attachments]
    return doc


def message_from_document(doc: dict[str, Any]) -> TicketMessage:
    known = {f.name for f in fields(TicketMessage)}
    values = {k: v for k, v in doc.items() if k in known}
    values["id"] = doc["_id"]
    values["references"] = tuple(doc.get("references") or ())
    values["attachments"] = tuple(Attachment(**a) for a in doc.get("attachments") or ())
    return TicketMessage(**values)


class MongoTicketRepository:
    def __init__(self, tx: Transaction) -> None:
        self.tx = tx
        self.tickets = tx.db[TICKETS]

    async def get(self, ticket_id: str) -> Ticket | None:
        doc = await self.tickets.find_one({"_id": ticket_id}, session=self.tx.session)
        return None if doc is None else ticket_from_document(doc)

    async def add(self, ticket: Ticket) -> None:
        await self.tickets.insert_one(ticket_document(ticket), session=self.tx.session)

    async def save(self, ticket: Ticket) -> None:
        expected = ticket.version
        ticket.version += 1
        done = await self.tickets.replace_one(
            {"_id": ticket.id, "version": expected},
            ticket_document(ticket),
            session=self.tx.session,
        )
        if done.matched_count != 1:
            raise Conflict(f"ticket {ticket.id} was changed meanwhile")

    async def open_by_conversation(self, channel: str, conversation_id: str) -> Ticket | None:
        doc = await self.tickets.find_one(
            {
                "external_conversation_id": conversation_id,
                "channel": channel,
                "status": {"$in": sorted(OPEN_STATES | {"solved"})},
            },
            sort=[("created_at", -1)],
            session=self.tx.session,
        )
        return None if doc is None else ticket_from_document(doc)

    async def by_source(self, source: str) -> Ticket | None:
        doc = await self.tickets.find_one({"source": source}, session=self.tx.session)
        return None if doc is None else ticket_from_document(doc)

    async def of_customer(self, email: str) -> list[Ticket]:
        cursor = self.tickets.find({"customer_email": email}, session=self.tx.session)
        return [ticket_from_document(doc) async for doc in cursor]

    async def of_order(self, order_number: str) -> list[Ticket]:
        cursor = self.tickets.find({"order_numbers": order_number}, session=self.tx.session)
        return [ticket_from_document(doc) async for doc in cursor]


class MongoMessageRepository:
    def __init__(self, tx: Transaction) -> None:
        self.tx = tx
        self.messages = tx.db[MESSAGES]

    async def add(self, message: TicketMessage) -> None:
        await self.messages.insert_one(message_document(message), session=self.tx.session)

    async def save(self, message: TicketMessage) -> None:
        await self.messages.replace_one(
            {"_id": message.id}, message_document(message), session=self.tx.session
        )

    async def by_mail_id(self, mail_id: str) -> TicketMessage | None:
        doc = await self.messages.find_one({"mail_id": mail_id}, session=self.tx.session)
        return None if doc is None else message_from_document(doc)

    async def by_external_id(self, channel: str, external_id: str) -> TicketMessage | None:
        doc = await self.messages.find_one(
            {"external_id": external_id, "channel": channel}, session=self.tx.session
        )
        return None if doc is None else message_from_document(doc)

    async def ticket_of_mail_ids(self, mail_ids: list[str]) -> str | None:
        if not mail_ids:
            return None
        cursor = self.messages.find(
            {"mail_id": {"$in": mail_ids}}, {"mail_id": 1, "ticket_id": 1}, session=self.tx.session
        )
        found = {doc["mail_id"]: doc["ticket_id"] async for doc in cursor}
        return next((found[m] for m in mail_ids if m in found), None)

    async def of_ticket(self, ticket_id: str) -> list[TicketMessage]:
        cursor = self.messages.find({"ticket_id": ticket_id}, session=self.tx.session).sort("at", 1)
        return [message_from_document(doc) async for doc in cursor]

    async def move(self, from_ticket: str, to_ticket: str) -> int:
        done = await self.messages.update_many(
            {"ticket_id": from_ticket},
            {"$set": {"ticket_id": to_ticket, "merged_from": from_ticket}},
            session=self.tx.session,
        )
        return done.modified_count
