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
from kontor_support.application.retention import anonymise_old_tickets, past_retention
from kontor_support.application.tickets import ChangeTicket, change_ticket
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
