"""Analytics' alerts in support, over the in-memory unit of work: a product's breach opens
a product ticket with the figures and the product's stock; the next breach of the same
rule and product adds to it (and opens a solved one again), after it was closed a new
ticket is opened; a shop-wide figure opens nothing."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from kontor_contracts.envelope import Envelope
from kontor_contracts.events.analytics import KpiThresholdBreached
from kontor_servicekit.clock import FakeClock
from kontor_servicekit.fakes import FakeTransactor
from kontor_support.application.alerts import on_kpi_threshold_breached, product_of
from kontor_support.application.tickets import ChangeTicket, change_ticket
from kontor_support.domain.message import TicketMessage
from kontor_support.domain.ticket import Ticket
from kontor_support.store.memory import InMemorySupportUnitOfWork

pytestmark = pytest.mark.unit

AT = datetime(2026, 12, 2, 9, tzinfo=UTC)
Support = FakeTransactor[InMemorySupportUnitOfWork]


def breach(subject: str | None = "sku:TEE-RED-M", **fields: object) -> Envelope:
    values: dict[str, object] = {
        "kpi": "return_rate",
        "value": Decimal("0.42"),
        "threshold": Decimal("0.25"),
        "direction": "above",
        "window_start": AT - timedelta(days=7),
        "window_end": AT,
        "unit": "ratio",
        "severity": "warning",
        "rule_id": "r-returns",
        "subject": subject,
        "breach_id": str(uuid.uuid4()),
    }
    values.update(fields)
    event = KpiThresholdBreached(**values)  # type: ignore[arg-type]
    return Envelope.wrap(event, producer="analytics", aggregate_id=event.kpi, occurred_at=AT)


async def handle(support: Support, envelope: Envelope) -> None:
    async def work(uow: InMemorySupportUnitOfWork) -> None:
        event = KpiThresholdBreached.model_validate(envelope.payload)
        await on_kpi_threshold_breached(event, uow, envelope, clock=lambda: AT)

    await support.run(work)


async def tickets(support: Support) -> list[tuple[Ticket, list[TicketMessage]]]:
    async def read(uow: InMemorySupportUnitOfWork) -> list[tuple[Ticket, list[TicketMessage]]]:
        found = sorted(uow.tickets.table, key=lambda t: t.id)  # type: ignore[attr-defined]
        return [(t, await uow.messages.of_ticket(t.id)) for t in found]

    return await support.run(read)


def test_only_a_product_is_a_subject_for_support() -> None:
    assert product_of("sku:TEE-RED-M") == "TEE-RED-M"
    assert product_of(None) is None
    assert product_of("category:shirts") is None
    assert product_of("sku:") is None


async def test_a_product_breach_opens_then_updates_a_product_ticket() -> None:
    support: Support = FakeTransactor(InMemorySupportUnitOfWork)

    async def stock(uow: InMemorySupportUnitOfWork) -> None:
        await uow.products.put("TEE-RED-M", {"sku": "TEE-RED-M", "name": "T-Shirt rot", "stock": 3})

    await support.run(stock)
    await handle(support, breach())
    [(ticket, [note])] = await tickets(support)
    assert ticket.subject == "Auffällige Kennzahl: Retourenquote TEE-RED-M"
    assert (ticket.category, ticket.priority, ticket.status) == ("product", "high", "new")
    assert ticket.customer_email is None and ticket.waiting_since == AT
    assert set(ticket.tags) == {"kennzahl", "return_rate"}
    assert note.internal and note.author == "analytics"
    assert "0.42 ratio (Schwelle 0.25 ratio)" in note.body_text
    assert "T-Shirt rot" in note.body_text and "Bestand laut Katalog: 3" in note.body_text
    assert ticket.pull_events() == []  # stored: nothing left to announce

    # the next breach of the same rule and product: on the same ticket
    await handle(support, breach(value=Decimal("0.51")))
    [(same, notes)] = await tickets(support)
    assert same.id == ticket.id and len(notes) == 2
    # solved, then breached again: the ticket opens again
    clock = FakeClock(AT)
    await change_ticket(support, ticket.id, ChangeTicket(agent="berta", status="solved"), clock)
    await handle(support, breach())
    [(reopened, notes)] = await tickets(support)
    assert reopened.status == "open" and len(notes) == 3
    # closed, then breached again: a new ticket (the old case is done)
    await change_ticket(support, ticket.id, ChangeTicket(agent="berta", status="closed"), clock)
    await handle(support, breach(severity="critical"))
    [(_, _), (new, [_])] = await tickets(support)
    assert new.id != ticket.id and new.priority == "urgent"
    # another product of the same rule: a ticket of its own
    await handle(support, breach("sku:BOOK-1"))
    assert len(await tickets(support)) == 3


async def test_a_shop_wide_figure_opens_nothing() -> None:
    support: Support = FakeTransactor(InMemorySupportUnitOfWork)
    await handle(support, breach(None, kpi="conversion_drop", rule_id="r-conv"))
    await handle(support, breach("category:shirts"))
    assert await tickets(support) == []
