"""What support's use cases need of the database.

Implemented over MongoDB in ``store/unit_of_work.py`` and in memory in
``store/memory.py``. Each repository the features need is a Protocol here and an
attribute of :class:`SupportUnitOfWork`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Protocol

from kontor_servicekit.uow import UnitOfWork

from kontor_support.domain.chat import Chat
from kontor_support.domain.delivery import Delivery
from kontor_support.domain.message import TicketMessage
from kontor_support.domain.rating import Rating
from kontor_support.domain.ticket import Ticket


class DeliveryRepository(Protocol):
    async def add(self, delivery: Delivery) -> None: ...

    async def get(self, delivery_id: str) -> Delivery | None: ...

    async def save(self, delivery: Delivery) -> None: ...

    async def erase_of_ticket(self, ticket_id: str) -> int:
        """Delete the ticket's deliveries that are still queued (they name the address);
        the sent ones lose address and text. Answers how many were touched."""
        ...


class ChatRepository(Protocol):
    async def add(self, chat: Chat) -> None: ...

    async def get(self, chat_id: str) -> Chat | None: ...

    async def save(self, chat: Chat) -> None: ...

    async def of_customer(self, email: str) -> list[Chat]: ...

    async def forget(self, email: str) -> int:
        """Delete the chats the address opened; answers how many."""
        ...

    async def delete(self, chat_id: str) -> None:
        """Forget the chat (its retention ended)."""
        ...


class ProductRepository(Protocol):
    async def get(self, sku: str) -> dict[str, Any] | None: ...

    async def put(self, sku: str, product: dict[str, Any]) -> None: ...


class RatingRepository(Protocol):
    """One customer satisfaction rating per ticket, keyed by the ticket's id."""

    async def add(self, rating: Rating) -> None: ...

    async def get(self, ticket_id: str) -> Rating | None: ...

    async def save(self, rating: Rating) -> None: ...


class TicketRepository(Protocol):
    async def get(self, ticket_id: str) -> Ticket | None: ...

    async def add(self, ticket: Ticket) -> None: ...

    async def save(self, ticket: Ticket) -> None:
        """Write a changed ticket back; ``Conflict`` if another writer changed it first."""
        ...

    async def open_by_conversation(self, channel: str, conversation_id: str) -> Ticket | None:
        """The newest not yet closed ticket of this chat, call or social thread."""
        ...

    async def by_source(self, source: str) -> Ticket | None:
        """The ticket an event opened (``"ComplaintFiled:<id>"``), if any."""
        ...

    async def of_customer(self, email: str) -> list[Ticket]: ...

    async def of_order(self, order_number: str) -> list[Ticket]:
        """The tickets linked to the order ``order_number``."""
        ...


class MessageRepository(Protocol):
    async def add(self, message: TicketMessage) -> None: ...

    async def save(self, message: TicketMessage) -> None: ...

    async def by_mail_id(self, mail_id: str) -> TicketMessage | None: ...

    async def by_external_id(self, channel: str, external_id: str) -> TicketMessage | None: ...

    async def ticket_of_mail_ids(self, mail_ids: list[str]) -> str | None:
        """The ticket of the first of ``mail_ids`` (in that order) that is known."""
        ...

    async def of_ticket(self, ticket_id: str) -> list[TicketMessage]: ...

    async def move(self, from_ticket: str, to_ticket: str) -> int: ...


class CustomerRepository(Protocol):
    async def remember(
        self,
        email: str,
        *,
        name: str | None,
        phone: str | None,
        customer_id: str | None,
        at: datetime,
    ) -> None: ...

    async def by_phone(self, phone: str) -> dict[str, Any] | None: ...

    async def get(self, email: str) -> dict[str, Any] | None: ...

    async def forget(self, email: str) -> int: ...


class OrderContextRepository(Protocol):
    """Each write is a fact about the order at ``at``: the order's ``last_event_at``
    becomes the newest of them (its retention counts from it, ADR 0138)."""

    async def set(self, order_id: str, values: dict[str, Any], *, at: datetime) -> None: ...

    async def add(
        self, order_id: str, section: str, item: dict[str, Any], *, at: datetime
    ) -> None: ...

    async def update_item(
        self,
        order_id: str,
        section: str,
        key: str,
        value: str,
        values: dict[str, Any],
        *,
        at: datetime,
    ) -> None: ...

    async def delete(self, order_id: str) -> None:
        """Forget the order (its retention ended)."""
        ...

    async def get(self, order_id: str) -> dict[str, Any] | None: ...

    async def by_number(self, order_number: str) -> dict[str, Any] | None: ...

    async def of_customer(self, email: str) -> list[dict[str, Any]]: ...

    async def forget_customer(self, email: str) -> int: ...


class SupportUnitOfWork(UnitOfWork, Protocol):
    """The repositories of support plus the outbox and sequences."""

    deliveries: DeliveryRepository
    chats: ChatRepository
    products: ProductRepository
    ratings: RatingRepository
    tickets: TicketRepository
    messages: MessageRepository
    customers: CustomerRepository
    order_context: OrderContextRepository
