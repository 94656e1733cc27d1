"""Support as a privacy participant: the export shows the person's tickets and messages,
the erasure leaves tickets for the figures but nothing that names or quotes them."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from kontor_contracts.envelope import Envelope
from kontor_contracts.events.common import Customer
from kontor_contracts.events.orders import OrderPlaced
from kontor_contracts.placeholders import PLACEHOLDER_TEXT
from kontor_contracts.samples import order_placed_envelope
from kontor_servicekit.fakes import FakeTransactor
from kontor_servicekit.privacy.participant import Subject
from kontor_support.application.chats import open_chat
from kontor_support.application.context import on_order_placed
from kontor_support.application.inbound import InboundMessage, receive
from kontor_support.application.privacy import ERASED, SupportPrivacy
from kontor_support.application.tickets import Reply, reply_to_ticket
from kontor_support.application.unit_of_work import SupportUnitOfWork
from kontor_support.store.memory import InMemorySupportUnitOfWork

pytestmark = pytest.mark.unit

AT = datetime(2026, 12, 2, 9, tzinfo=UTC)
ANNA = Subject("subject-1", "Anna@Example.de")


async def test_export_then_erasure_of_a_customer_s_tickets() -> None:
    transactor = FakeTransactor(InMemorySupportUnitOfWork)
    clock = lambda: AT  # noqa: E731
    mail = InboundMessage(
        channel="email",
        received_at=AT,
        body_text="Meine Adresse ist Hauptstr. 1, Berlin",
        from_email="anna@example.de",
        from_name="Anna Muster",
        from_phone="030 1234567",
        subject="Lieferadresse ändern",
        message_id="<a1@example.de>",
    )
    received = await receive(transactor, mail, clock=clock)
    await reply_to_ticket(
        transactor, received.ticket_id, Reply(body="Erledigt.", agent="agent-1"), clock
    )
    await open_chat(transactor, name="Anna", email="anna@example.de", clock=clock)
    privacy = SupportPrivacy()

    async def export(uow: SupportUnitOfWork) -> dict[str, object]:
        return await privacy.export(ANNA, uow)

    exported = await transactor.run(export)
    [ticket] = exported["tickets"]  # type: ignore[misc]
    assert ticket["subject"] == "Lieferadresse ändern"
    assert [m["text"] for m in ticket["messages"]] == [mail.body_text, "Erledigt."]
    assert len(exported["chats"]) == 1  # type: ignore[arg-type]

    async def erase(uow: SupportUnitOfWork) -> object:
        return await privacy.erase(ANNA, uow, AT)

    summary = await transactor.run(erase)
    counts = {i.what: i.count for i in summary.deleted + summary.anonymised}  # type: ignore[attr-defined]
    assert counts["tickets"] == 1 and counts["ticket_messages"] == 2
    assert counts["customers"] == 1 and counts["chats"] == 1
    assert counts["queued_replies"] == 1  # the queued reply named the address

    async def after(uow: SupportUnitOfWork) -> tuple[object, list[object], object]:
        stored = await uow.tickets.get(received.ticket_id)
        return (
            stored,
            await uow.messages.of_ticket(received.ticket_id),
            await uow.customers.get("anna@example.de"),
        )

    stored, messages, customer = await transactor.run(after)
    assert stored.subject == ERASED and stored.customer_email is None  # type: ignore[attr-defined]
    assert stored.status == "open"  # type: ignore[attr-defined]  # kept for the figures
    assert {m.body_text for m in messages} == {ERASED}  # type: ignore[attr-defined]
    assert all(m.from_email is None for m in messages)  # type: ignore[attr-defined]
    assert customer is None
    assert (await transactor.run(export))["tickets"] == []


async def test_an_order_replayed_after_the_erasure_is_nobody_s() -> None:
    """A replay of her OrderPlaced after her key is gone shows the placeholders: the
    context keeps the order, tied to nobody, and no customer is made of the placeholder
    address (which would carry her customer id again; ADR 0128, 0146)."""
    erased = Customer(
        email="p-3ba8ee3f83227cca94c69ec0a868753b@pseudonym.invalid",
        name=PLACEHOLDER_TEXT,
        customer_id="cust-anna",
    )
    transactor = FakeTransactor(InMemorySupportUnitOfWork)
    for customer in (erased, Customer(email="Anna@Example.de", name="Anna Muster")):
        envelope = order_placed_envelope(customer=customer)
        event = envelope.payload_model()
        assert isinstance(event, OrderPlaced)

        async def work(
            uow: SupportUnitOfWork, event: OrderPlaced = event, envelope: Envelope = envelope
        ) -> None:
            await on_order_placed(event, uow, envelope, clock=lambda: AT)

        await transactor.run(work)
    contexts = list(transactor.db.tables["context_orders"].values())
    assert [(c["email"], c["customer_name"]) for c in contexts] == [
        (None, None),
        ("anna@example.de", "Anna Muster"),
    ]
    assert list(transactor.db.tables["customers"]) == ["anna@example.de"]
