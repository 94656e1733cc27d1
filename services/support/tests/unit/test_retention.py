"""Retention of tickets over the in-memory unit of work: a ticket closed longer ago than
the period (or merged and unchanged since) is anonymised once, its files deleted after;
a younger one, an open, pending or solved one, is kept as it is."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from kontor_servicekit.clock import FakeClock
from kontor_servicekit.fakes import FakeTransactor, InMemoryBlobs
from kontor_support.application.inbound import InboundAttachment, InboundMessage, receive
from kontor_support.application.privacy import ERASED
from kontor_support.application.retention import (
    ContextRetention,
    Forgotten,
    anonymise_old_tickets,
    forget_old_context,
    past_retention,
)
from kontor_support.application.tickets import ChangeTicket, change_ticket
from kontor_support.domain.chat import Chat
from kontor_support.domain.message import TicketMessage
from kontor_support.domain.ticket import Ticket
from kontor_support.store.memory import InMemorySupportUnitOfWork

pytestmark = pytest.mark.unit

AT = datetime(2026, 12, 2, 9, tzinfo=UTC)
KEEP = timedelta(days=1461)
Support = FakeTransactor[InMemorySupportUnitOfWork]


async def ticket_of(support: Support, clock: FakeClock, files: InMemoryBlobs, sender: str) -> str:
    received = await receive(
        support,
        InboundMessage(
            channel="email",
            received_at=clock(),
            body_text="Meine Adresse: Hauptstr. 1",
            from_email=sender,
            subject="Lieferadresse",
            message_id=f"<{sender}>",
            attachments=(InboundAttachment("foto.txt", "text/plain", b"Foto"),),
        ),
        clock=clock,
        blobs=files,
    )
    return received.ticket_id


async def stored(support: Support, ticket_id: str) -> tuple[Ticket, list[TicketMessage]]:
    async def read(uow: InMemorySupportUnitOfWork) -> tuple[Ticket, list[TicketMessage]]:
        ticket = await uow.tickets.get(ticket_id)
        assert ticket is not None
        return ticket, await uow.messages.of_ticket(ticket_id)

    return await support.run(read)


async def test_a_ticket_closed_past_the_period_loses_its_person_and_keeps_its_figures() -> None:
    support: Support = FakeTransactor(InMemorySupportUnitOfWork)
    clock, files = FakeClock(AT), InMemoryBlobs()
    old = await ticket_of(support, clock, files, "alt@example.de")
    solved = await ticket_of(support, clock, files, "geloest@example.de")
    await change_ticket(support, old, ChangeTicket(agent="berta", status="closed"), clock)
    await change_ticket(support, solved, ChangeTicket(agent="berta", status="solved"), clock)
    clock.advance(KEEP - timedelta(days=1))
    young = await ticket_of(support, clock, files, "jung@example.de")
    await change_ticket(support, young, ChangeTicket(agent="berta", status="closed"), clock)
    clock.advance(timedelta(days=2))  # the first is past the period, the third is not

    async def every_ticket(_: datetime) -> list[str]:
        return [old, solved, young]  # the query's candidates: each is re-checked

    done = await anonymise_old_tickets(support, every_ticket, clock=clock, keep=KEEP, blobs=files)
    assert done == 1
    ticket, [message] = await stored(support, old)
    assert (ticket.subject, ticket.customer_email, ticket.anonymised_at) == (ERASED, None, clock())
    assert (ticket.status, ticket.channel) == ("closed", "email")  # the figures stay
    assert message.body_text == ERASED and message.attachments == ()
    assert len(files.files) == 2  # the old ticket's file is gone, the others' stay
    for kept in (solved, young):
        ticket, [message] = await stored(support, kept)
        assert ticket.customer_email is not None and message.body_text != ERASED
    again = await anonymise_old_tickets(support, every_ticket, clock=clock, keep=KEEP, blobs=files)
    assert again == 0  # once


def test_which_tickets_are_past_their_retention() -> None:
    def ticket(status: str, **fields: Any) -> Ticket:
        return Ticket(
            id="T-1", subject="s", channel="email", created_at=AT, status=status, **fields
        )  # type: ignore[arg-type]

    now = AT + KEEP + timedelta(days=1)
    assert past_retention(ticket("closed", closed_at=AT), now, KEEP)
    assert not past_retention(ticket("closed", closed_at=AT + timedelta(days=2)), now, KEEP)
    assert past_retention(ticket("merged", updated_at=AT), now, KEEP)
    for status in ("new", "open", "pending", "pending_close", "solved"):
        assert not past_retention(ticket(status, updated_at=AT, closed_at=AT), now, KEEP)
    assert not past_retention(ticket("closed", closed_at=AT, anonymised_at=AT), now, KEEP)


class EveryRow:
    """A ``ContextDue`` that names every row, two at a time: the use case itself must
    refuse what is not due yet."""

    def __init__(self, support: Support) -> None:
        self.support = support

    def _page(self, table: str, after: str | None) -> list[str]:
        keys = sorted(self.support.db.tables.get(table, {}))
        return [k for k in keys if after is None or k > after][:2]

    async def orders_before(self, before: datetime, *, after: str | None) -> list[str]:
        return self._page("context_orders", after)

    async def customers_before(self, before: datetime, *, after: str | None) -> list[str]:
        return self._page("customers", after)

    async def chats_before(self, before: datetime, *, after: str | None) -> list[str]:
        return self._page("chats", after)


async def test_the_context_goes_after_its_periods_and_a_solved_ticket_holds_it() -> None:
    """ADR 0138 over the in-memory unit of work: rows past their period go, a younger
    one stays, a solved ticket (not anonymised) holds its customer, their orders and its
    chat; a customer with a kept order stays; the newest fact of an order counts."""
    support: Support = FakeTransactor(InMemorySupportUnitOfWork)
    clock, files = FakeClock(AT), InMemoryBlobs()
    solved = await ticket_of(support, clock, files, "anna@example.de")
    await change_ticket(support, solved, ChangeTicket(agent="berta", status="solved"), clock)
    young = AT + timedelta(days=60)

    async def seed(uow: InMemorySupportUnitOfWork) -> None:
        for email in ("old@example.de", "bert@example.de"):
            await uow.customers.remember(email, name="N. N.", phone=None, customer_id=None, at=AT)
        for order_id, email in (("o-1", "old@example.de"), ("o-2", "anna@example.de")):
            await uow.order_context.set(order_id, {"email": email}, at=AT)
        await uow.order_context.set("o-3", {"email": "bert@example.de"}, at=AT)
        await uow.order_context.add("o-3", "payments", {"payment_id": "p-1"}, at=young)
        await uow.order_context.set("o-3", {"status": "confirmed"}, at=AT)  # late, older
        await uow.chats.add(Chat(id="c-1", created_at=AT))
        await uow.chats.add(Chat(id="c-2", created_at=AT, ticket_id=solved))
        await uow.chats.add(Chat(id="c-3", created_at=AT + timedelta(days=95)))

    await support.run(seed)
    keep = ContextRetention(
        orders=timedelta(days=100),
        customers=timedelta(days=100),
        chats=timedelta(days=10),
        chat_lasts=timedelta(days=1),
    )
    clock.advance(timedelta(days=101))
    done = await forget_old_context(support, EveryRow(support), clock=clock, keep=keep)
    assert done == Forgotten(orders=1, customers=1, chats=1)
    tables = support.db.tables
    assert sorted(tables["context_orders"]) == ["o-2", "o-3"]
    assert sorted(tables["customers"]) == ["anna@example.de", "bert@example.de"]
    assert sorted(tables["chats"]) == ["c-2", "c-3"]
    assert await forget_old_context(support, EveryRow(support), clock=clock, keep=keep) == (
        Forgotten()
    )
