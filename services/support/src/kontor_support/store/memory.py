"""Support's unit of work in memory: the unit tests' database.

The same repositories as ``store/unit_of_work.py`` over :class:`FakeDatabase` tables
(copies in, copies out).
"""

from __future__ import annotations

import copy
from dataclasses import replace
from datetime import datetime
from typing import Any

from kontor_servicekit.domain_errors import Conflict
from kontor_servicekit.fakes import FakeDatabase, FakeUnitOfWork, InMemoryTable

from kontor_support.application.unit_of_work import (
    ChatRepository,
    CustomerRepository,
    DeliveryRepository,
    MessageRepository,
    OrderContextRepository,
    ProductRepository,
    RatingRepository,
    TicketRepository,
)
from kontor_support.domain.chat import Chat
from kontor_support.domain.delivery import Delivery
from kontor_support.domain.message import TicketMessage
from kontor_support.domain.rating import Rating
from kontor_support.domain.ticket import OPEN_STATES, Ticket
from kontor_support.store.context import LAST_EVENT_AT, SECTIONS


class InMemoryDeliveryRepository:
    def __init__(self, table: InMemoryTable[Delivery]) -> None:
        self.table = table

    async def add(self, delivery: Delivery) -> None:
        self.table.insert(delivery)

    async def get(self, delivery_id: str) -> Delivery | None:
        return self.table.get(delivery_id)

    async def save(self, delivery: Delivery) -> None:
        self.table.put(delivery)

    async def erase_of_ticket(self, ticket_id: str) -> int:
        touched = 0
        for delivery in self.table.where(lambda d: d.ticket_id == ticket_id):
            touched += 1
            if delivery.status != "sent":
                self.table.delete(delivery.id)
                continue
            delivery.to_email = delivery.to_name = delivery.body_html = None
            delivery.body_text, delivery.attachments = "", ()
            self.table.put(delivery)
        return touched


class InMemoryChatRepository:
    def __init__(self, table: InMemoryTable[Chat]) -> None:
        self.table = table

    async def add(self, chat: Chat) -> None:
        self.table.insert(chat)

    async def get(self, chat_id: str) -> Chat | None:
        return self.table.get(chat_id)

    async def save(self, chat: Chat) -> None:
        self.table.put(chat)

    async def of_customer(self, email: str) -> list[Chat]:
        return self.table.where(lambda c: c.customer_email == email)

    async def forget(self, email: str) -> int:
        gone = await self.of_customer(email)
        for chat in gone:
            self.table.delete(chat.id)
        return len(gone)

    async def delete(self, chat_id: str) -> None:
        self.table.delete(chat_id)


class InMemoryProductRepository:
    def __init__(self, rows: dict[str, Any]) -> None:
        self.rows = rows

    async def get(self, sku: str) -> dict[str, Any] | None:
        row = self.rows.get(sku)
        return None if row is None else copy.deepcopy(row)

    async def put(self, sku: str, product: dict[str, Any]) -> None:
        self.rows[sku] = copy.deepcopy(product)


class InMemoryRatingRepository:
    def __init__(self, table: InMemoryTable[Rating]) -> None:
        self.table = table

    async def add(self, rating: Rating) -> None:
        self.table.insert(rating)

    async def get(self, ticket_id: str) -> Rating | None:
        return self.table.get(ticket_id)

    async def save(self, rating: Rating) -> None:
        self.table.put(rating)


class InMemoryTicketRepository:
    def __init__(self, table: InMemoryTable[Ticket]) -> None:
        self.table = table

    async def get(self, ticket_id: str) -> Ticket | None:
        return self.table.get(ticket_id)

    async def add(self, ticket: Ticket) -> None:
        self.table.insert(ticket)

    async def save(self, ticket: Ticket) -> None:
        stored = self.table.get(ticket.id)
        if stored is None or stored.version != ticket.version:
            raise Conflict(f"ticket {ticket.id} was changed meanwhile")
        ticket.version += 1
        self.table.put(ticket)

    async def open_by_conversation(self, channel: str, conversation_id: str) -> Ticket | None:
        found = self.table.where(
            lambda t: (
                t.external_conversation_id == conversation_id
                and t.channel == channel
                and (t.status in OPEN_STATES or t.status == "solved")
            )
        )
        return max(found, key=lambda t: t.created_at) if found else None

    async def by_source(self, source: str) -> Ticket | None:
        found = self.table.where(lambda t: t.source == source)
        return found[0] if found else None

    async def of_customer(self, email: str) -> list[Ticket]:
        return self.table.where(lambda t: t.customer_email == email)

    async def of_order(self, order_number: str) -> list[Ticket]:
        return self.table.where(lambda t: order_number in t.order_numbers)


class InMemoryMessageRepository:
    def __init__(self, table: InMemoryTable[TicketMessage]) -> None:
        self.table = table

    async def add(self, message: TicketMessage) -> None:
        self.table.insert(message)

    async def save(self, message: TicketMessage) -> None:
        self.table.put(message)

    async def by_mail_id(self, mail_id: str) -> TicketMessage | None:
        found = self.table.where(lambda m: m.mail_id == mail_id)
        return found[0] if found else None

    async def by_external_id(self, channel: str, external_id: str) -> TicketMessage | None:
        found = self.table.where(lambda m: m.external_id == external_id and m.channel == channel)
        return found[0] if found else None

    async def ticket_of_mail_ids(self, mail_ids: list[str]) -> str | None:
        found = {m.mail_id: m.ticket_id for m in self.table if m.mail_id in mail_ids}
        return next((found[m] for m in mail_ids if m in found), None)

    async def of_ticket(self, ticket_id: str) -> list[TicketMessage]:
        return sorted(self.table.where(lambda m: m.ticket_id == ticket_id), key=lambda m: m.at)

    async def move(self, from_ticket: str, to_ticket: str) -> int:
        moved = self.table.where(lambda m: m.ticket_id == from_ticket)
        for message in moved:
            self.table.put(replace(message, ticket_id=to_ticket))
        return len(moved)


class InMemoryCustomerRepository:
    def __init__(self, rows: dict[str, Any]) -> None:
        self.rows = rows

    async def remember(
        self,
        email: str,
        *,
        name: str | None,
        phone: str | None,
        customer_id: str | None,
        at: datetime,
    ) -> None:
        row = self.rows.setdefault(email, {"_id": email, "phones": []})
        row["updated_at"] = max(row.get("updated_at") or at, at)
        if name:
            row["name"] = name
        if customer_id:
            row["customer_id"] = customer_id
        if phone and phone not in row["phones"]:
            row["phones"].append(phone)

    async def by_phone(self, phone: str) -> dict[str, Any] | None:
        found = [r for r in self.rows.values() if phone in r.get("phones", [])]
        return copy.deepcopy(found[0]) if found else None

    async def get(self, email: str) -> dict[str, Any] | None:
        return copy.deepcopy(self.rows.get(email))

    async def forget(self, email: str) -> int:
        return 1 if self.rows.pop(email, None) is not None else 0


class InMemoryOrderContextRepository:
    def __init__(self, rows: dict[str, Any]) -> None:
        self.rows = rows

    def _row(self, order_id: str) -> dict[str, Any]:
        row: dict[str, Any] = self.rows.setdefault(
            order_id, {"_id": order_id, "order_id": order_id, **{s: [] for s in SECTIONS}}
        )
        return row

    def _touch(self, row: dict[str, Any], at: datetime) -> None:
        last = row.get(LAST_EVENT_AT)
        row[LAST_EVENT_AT] = at if last is None else max(last, at)

    async def set(self, order_id: str, values: dict[str, Any], *, at: datetime) -> None:
        row = self._row(order_id)
        row.update(copy.deepcopy(values))
        self._touch(row, at)

    async def add(self, order_id: str, section: str, item: dict[str, Any], *, at: datetime) -> None:
        if section not in SECTIONS:
            raise ValueError(f"unknown section {section!r}")
        row = self._row(order_id)
        row[section].append(copy.deepcopy(item))
        self._touch(row, at)

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
        for item in self.rows.get(order_id, {}).get(section, []):
            if item.get(key) == value:
                item.update(copy.deepcopy(values))
                self._touch(self.rows[order_id], at)
                return

    async def delete(self, order_id: str) -> None:
        self.rows.pop(order_id, None)

    async def get(self, order_id: str) -> dict[str, Any] | None:
        return copy.deepcopy(self.rows.get(order_id))

    async def by_number(self, order_number: str) -> dict[str, Any] | None:
        found = [r for r in self.rows.values() if r.get("order_number") == order_number]
        return copy.deepcopy(found[0]) if found else None

    async def of_customer(self, email: str) -> list[dict[str, Any]]:
        return [copy.deepcopy(r) for r in self.rows.values() if r.get("email") == email]

    async def forget_customer(self, email: str) -> int:
        found = [r for r in self.rows.values() if r.get("email") == email]
        for row in found:
            row.update(email=None, customer_name=None)
        return len(found)


class InMemorySupportUnitOfWork(FakeUnitOfWork):
    def __init__(self, db: FakeDatabase) -> None:
        super().__init__(db)
        self.deliveries: DeliveryRepository = InMemoryDeliveryRepository(
            self.table("deliveries", key=lambda d: d.id)
        )
        self.chats: ChatRepository = InMemoryChatRepository(self.table("chats", key=lambda c: c.id))
        self.products: ProductRepository = InMemoryProductRepository(
            db.tables.setdefault("products", {})
        )
        self.ratings: RatingRepository = InMemoryRatingRepository(
            self.table("ratings", key=lambda r: r.ticket_id)
        )
        self.tickets: TicketRepository = InMemoryTicketRepository(
            self.table("tickets", key=lambda t: t.id)
        )
        self.messages: MessageRepository = InMemoryMessageRepository(
            self.table("ticket_messages", key=lambda m: m.id)
        )
        self.customers: CustomerRepository = InMemoryCustomerRepository(
            db.tables.setdefault("customers", {})
        )
        self.order_context: OrderContextRepository = InMemoryOrderContextRepository(
            db.tables.setdefault("context_orders", {})
        )
