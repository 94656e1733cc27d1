"""The ticket's states and the threading rules of receive, over the in-memory unit of work:
a reply by Message-ID or subject reference lands on its ticket, a redelivered mail is a
duplicate, a customer message re-opens a solved ticket, a closed one gets a follow-up,
pending states fall due, an automated message is never answered, a placeholder left in
a reply is refused."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from kontor_servicekit.clock import FakeClock
from kontor_servicekit.domain_errors import IllegalTransition, Invalid
from kontor_servicekit.fakes import FakeTransactor
from kontor_support.application.inbound import InboundMessage, receive
from kontor_support.application.tickets import ChangeTicket, Reply, change_ticket, reply_to_ticket
from kontor_support.domain.threading import (
    links_in,
    normalise_phone,
    reply_subject,
    thread_candidates,
    ticket_reference,
)
from kontor_support.domain.ticket import Ticket
from kontor_support.store.memory import InMemorySupportUnitOfWork

pytestmark = pytest.mark.unit

AT = datetime(2026, 12, 2, 9, tzinfo=UTC)
Support = FakeTransactor[InMemorySupportUnitOfWork]


def mail(**fields: object) -> InboundMessage:
    values: dict[str, object] = {
        "channel": "email",
        "received_at": AT,
        "body_text": "Wo bleibt meine Bestellung B-2026-000042?",
        "from_email": "Anna.Kunde@Example.org",
        "from_name": "Anna Kunde",
        "subject": "Lieferung",
        "message_id": "<m1@example.org>",
    }
    values.update(fields)
    return InboundMessage(**values)  # type: ignore[arg-type]


async def stored_ticket(support: Support, ticket_id: str) -> Ticket:
    async def get(uow: InMemorySupportUnitOfWork) -> Ticket:
        ticket = await uow.tickets.get(ticket_id)
        assert ticket is not None
        return ticket

    return await support.run(get)


def test_pure_threading_rules() -> None:
    assert ticket_reference("Re: Lieferung [#T-2026-000123]") == "T-2026-000123"
    assert ticket_reference("Lieferung") is None
    assert reply_subject("AW: Re: Lieferung [#T-2026-000001]", "T-2026-000001") == (
        "Re: Lieferung [#T-2026-000001]"
    )
    assert thread_candidates("<b@x>", ("<a@x>", "<b@x>")) == ["<b@x>", "<a@x>"]
    assert normalise_phone("0171 / 123 45-67") == "+491711234567"
    assert normalise_phone("+49 (0)30 1234567") == "+49301234567"
    links = links_in(["Bestellung B-2026-000042, Rechnung RE-2026-000007", None])
    assert (links.order_numbers, links.invoice_numbers) == (("B-2026-000042",), ("RE-2026-000007",))


async def test_a_mail_opens_a_ticket_and_its_answer_threads_onto_it() -> None:
    support: Support = FakeTransactor(InMemorySupportUnitOfWork)
    clock = FakeClock(AT)
    first = await receive(support, mail(), clock=clock)
    assert (first.created_ticket, first.duplicate) == (True, False)
    ticket = await stored_ticket(support, first.ticket_id)
    assert ticket.id == "T-2026-000001"
    assert ticket.customer_email == "anna.kunde@example.org"
    assert ticket.order_numbers == ("B-2026-000042",)
    assert support.db.event_types() == ["TicketOpened"]

    reply = await reply_to_ticket(support, ticket.id, Reply("Ist unterwegs.", "berta"), clock)
    [delivery] = support.db.rows("deliveries")
    assert (delivery.in_reply_to, delivery.to_email) == ("<m1@example.org>", ticket.customer_email)
    assert delivery.subject == "Re: Lieferung [#T-2026-000001]"
    assert reply.mail_id == delivery.message_id

    answer = await receive(
        support,
        mail(message_id="<m2@example.org>", in_reply_to=delivery.message_id, subject="x"),
        clock=clock,
    )
    by_subject = await receive(
        support, mail(message_id="<m3@example.org>", subject="AW: [#T-2026-000001]"), clock=clock
    )
    again = await receive(support, mail(message_id="<m2@example.org>"), clock=clock)
    assert answer.ticket_id == by_subject.ticket_id == ticket.id
    assert not answer.created_ticket
    assert (again.duplicate, again.message_id) == (True, answer.message_id)


async def test_solved_reopens_closed_follows_up_pending_falls_due() -> None:
    support: Support = FakeTransactor(InMemorySupportUnitOfWork)
    clock = FakeClock(AT)
    first = await receive(support, mail(), clock=clock)
    await change_ticket(
        support, first.ticket_id, ChangeTicket("berta", status="solved", resolution="ok"), clock
    )
    await receive(support, mail(message_id="<m2@x>", in_reply_to="<m1@example.org>"), clock=clock)
    ticket = await stored_ticket(support, first.ticket_id)
    assert ticket.status == "open"
    assert "TicketResolved" in support.db.event_types()

    ticket.change(AT, "berta", status="pending", pending_until=AT + timedelta(days=2))
    assert not ticket.pending_is_due(AT + timedelta(days=1))
    assert ticket.pending_is_due(AT + timedelta(days=2))
    assert ticket.status == "open"
    with pytest.raises(Invalid):
        ticket.change(AT, "berta", status="pending")  # no date
    ticket.change(AT, "berta", status="closed")
    with pytest.raises(IllegalTransition):
        ticket.change(AT, "berta", status="open")

    await change_ticket(support, first.ticket_id, ChangeTicket("berta", status="closed"), clock)
    follow = await receive(
        support, mail(message_id="<m9@x>", in_reply_to="<m1@example.org>"), clock=clock
    )
    assert follow.created_ticket
    assert (await stored_ticket(support, follow.ticket_id)).follow_up_of == first.ticket_id


async def test_an_automated_message_is_never_answered() -> None:
    support: Support = FakeTransactor(InMemorySupportUnitOfWork)
    clock = FakeClock(AT)
    bounce = await receive(support, mail(automated=True, subject="Abwesend"), clock=clock)
    with pytest.raises(IllegalTransition):
        await reply_to_ticket(support, bounce.ticket_id, Reply("Danke!", "berta"), clock)
    await reply_to_ticket(support, bounce.ticket_id, Reply("Bot", "berta", internal=True), clock)
    assert support.db.rows("deliveries") == []


async def test_a_reply_with_an_unfilled_placeholder_is_refused() -> None:
    support: Support = FakeTransactor(InMemorySupportUnitOfWork)
    clock = FakeClock(AT)
    first = await receive(support, mail(), clock=clock)
    with pytest.raises(Invalid) as refused:
        await reply_to_ticket(
            support,
            first.ticket_id,
            Reply("Hallo {{customer_name}}, {{ tracking_link }}", "b"),
            clock,
        )
    assert [p.msg for p in refused.value.problems] == [
        "placeholder {{customer_name}} is not filled",
        "placeholder {{tracking_link}} is not filled",
    ]
    assert refused.value.problems[0].loc == ("body",)
