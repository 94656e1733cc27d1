"""Orders' reservation, payment and support-ticket subscriptions with FastStream's
in-memory broker over the real store (the kit's service-test harness): the saga's steps,
redelivery, what is dead-lettered, and a solved complaint ticket on the timeline."""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
from kontor_contracts.envelope import Envelope, Event
from kontor_contracts.events.billing import PaymentReceived
from kontor_contracts.events.catalog import (
    ReservationLine,
    ReservationShortfall,
    StockReservationRejected,
    StockReserved,
)
from kontor_contracts.events.support import TicketResolved
from kontor_orders.consumers.order_life import payments, reservations
from kontor_orders.consumers.support import support_tickets
from kontor_orders.domain.order import Address, Customer, Order, PricedProduct
from kontor_orders.store.orders import ORDERS, MongoOrderRepository, from_document
from kontor_servicekit.consumer import ConsumerRuntime, MessageHandler, ParkedRecord
from kontor_servicekit.recorders import CommandCounter, DeadLetterRecorder, MetricsRecorder
from kontor_servicekit.service_testing import InMemoryService, in_memory_service
from kontor_servicekit.store import OUTBOX, Store, Transaction, create_client

pytestmark = pytest.mark.service

T0 = datetime(2026, 6, 1, 9, 0, tzinfo=UTC)
TEE = PricedProduct("TEE", "T-Shirt", Decimal("10.00"), Decimal("0.19"), "EUR")


@pytest.fixture
async def harness(infra: Any, namespace: str) -> AsyncIterator[InMemoryService]:
    async with in_memory_service(
        "orders",
        [reservations(), payments(), support_tickets()],
        mongo_url=infra.mongo_url,
        namespace=namespace,
        max_attempts=2,
    ) as service:
        yield service


async def stored_order(harness: InMemoryService, order_id: str) -> Order:
    doc = await harness.store.db[ORDERS].find_one({"_id": order_id})
    assert doc is not None
    return from_document(doc)


async def emitted(harness: InMemoryService, order_id: str) -> list[str]:
    docs = await harness.store.db[OUTBOX].find({"key": order_id}).to_list(None)
    return [d["type"] for d in docs]


async def placed(store: Store) -> str:
    order = Order.place(
        order_id=str(uuid.uuid4()),
        number=f"B-2026-{uuid.uuid4().int % 1_000_000:06d}",
        customer=Customer(email="anna@example.de", name="Anna"),
        shipping_address=Address("Anna", "Hauptstr. 1", "10115", "Berlin", "DE"),
        billing_address=None,
        requested=[("TEE", 2)],
        products={"TEE": TEE},
        now=T0,
    )

    async def work(tx: Transaction) -> None:
        await MongoOrderRepository(tx).add(order)

    await store.transaction(work)
    return order.id


def wrap(event: Event, producer: str, key: str) -> Envelope:
    return Envelope.wrap(event, producer=producer, aggregate_id=key)


def reserved(order_id: str) -> Envelope:
    event = StockReserved(
        order_id=order_id, lines=[ReservationLine(sku="TEE", quantity=2, warehouse="main")]
    )
    return wrap(event, "catalog", order_id)


def paid(order_id: str, amount: str, currency: str = "EUR") -> Envelope:
    event = PaymentReceived(
        payment_id=str(uuid.uuid4()),
        order_id=order_id,
        amount=Decimal(amount),
        currency=currency,
        method="paypal",
        received_at=T0,
    )
    return wrap(event, "billing", order_id)


async def test_reserved_confirms_once_even_when_redelivered(harness: InMemoryService) -> None:
    oid = await placed(harness.store)
    envelope = reserved(oid)
    await harness.publish_envelope(envelope)
    await harness.publish_envelope(envelope)  # redelivery: the inbox absorbs it
    await harness.publish_envelope(reserved(oid))  # a second answer: no change, no event
    order = await stored_order(harness, oid)
    assert order.status == "confirmed"
    assert [e.event for e in order.timeline] == ["placed", "confirmed"]
    assert await emitted(harness, oid) == ["OrderConfirmed"]


async def test_rejection_rejects_with_the_shortfalls(harness: InMemoryService) -> None:
    oid = await placed(harness.store)
    event = StockReservationRejected(
        order_id=oid, reasons=[ReservationShortfall(sku="TEE", requested=2, available=1)]
    )
    await harness.publish_envelope(wrap(event, "catalog", oid))
    order = await stored_order(harness, oid)
    assert order.status == "rejected"
    assert order.timeline[-1].details["details"] == ["TEE: requested 2, available 1"]
    assert await emitted(harness, oid) == ["OrderRejected"]


async def test_partial_payments_then_confirmation(harness: InMemoryService) -> None:
    oid = await placed(harness.store)  # gross 23.80
    await harness.publish_envelope(paid(oid, "20.00"))
    await harness.publish_envelope(paid(oid, "3.80"))
    assert (await stored_order(harness, oid)).status == "placed"
    await harness.publish_envelope(reserved(oid))
    order = await stored_order(harness, oid)
    assert order.status == "paid" and order.amount_paid == Decimal("23.80")


async def test_unknown_orders_and_foreign_currencies_are_dead_lettered(
    harness: InMemoryService,
) -> None:
    await harness.publish_envelope(reserved("no-such-order"))
    oid = await placed(harness.store)
    await harness.publish_envelope(paid(oid, "23.80", currency="CHF"))
    assert [parked.topic for parked in harness.dead_letters.parked] == [
        f"{harness.prefix}orders.reservations.dlt",
        f"{harness.prefix}orders.payments.dlt",
    ]
    assert (await stored_order(harness, oid)).amount_paid == 0


def resolved(order_id: str | None, category: str | None, ticket_id: str) -> Envelope:
    event = TicketResolved(
        ticket_id=ticket_id,
        resolution="Ersatz ist unterwegs",
        resolved_at=T0,
        order_id=order_id,
        category=category,
    )
    return wrap(event, "support", ticket_id)


async def test_a_solved_complaint_ticket_is_on_the_order_s_timeline(
    harness: InMemoryService,
) -> None:
    """Issue 14: TicketResolved of a complaint's ticket shows on its order; other tickets,
    and tickets of an unknown order, change nothing and are not dead-lettered."""
    oid = await placed(harness.store)
    await harness.publish_envelope(resolved(oid, "complaint", "T-2026-000007"))
    await harness.publish_envelope(resolved(oid, "delivery", "T-2026-000008"))
    await harness.publish_envelope(resolved(None, "complaint", "T-2026-000009"))
    await harness.publish_envelope(resolved("no-such-order", "complaint", "T-2026-000010"))
    order = await stored_order(harness, oid)
    noted = [e for e in order.timeline if e.event == "complaint_ticket_resolved"]
    assert [(e.at, e.details) for e in noted] == [(T0, {"ticket_id": "T-2026-000007"})]
    assert order.status == "placed"  # only noted: the order did not change
    assert await emitted(harness, oid) == []  # and nothing is announced
    assert harness.dead_letters.parked == []


async def test_a_batch_of_answers_reads_its_orders_once_and_writes_each_once(
    harness: InMemoryService, infra: Any
) -> None:
    """ADR 0150, 0151: the reservation answers of one fetch share a transaction; their
    orders are read with one query and written with one command, each once, and a
    second answer for an order in the same batch sees the first one's change."""
    first, second, third = [await placed(harness.store) for _ in range(3)]
    rejected = StockReservationRejected(
        order_id=third, reasons=[ReservationShortfall(sku="TEE", requested=2, available=0)]
    )
    batch = [reserved(first), reserved(second), reserved(first), wrap(rejected, "catalog", third)]
    commands = CommandCounter()
    client = create_client(infra.mongo_url, app_name="orders-batch", event_listeners=[commands])
    try:
        store = Store(client, harness.store.db.name, producer="orders")
        runtime = ConsumerRuntime(
            service="orders", store=store, producer=DeadLetterRecorder(), metrics=MetricsRecorder()
        )
        handler = MessageHandler(runtime, reservations())
        records = [
            ParkedRecord("catalog.stock.v1", 0, n, e.aggregate_id.encode(), e.to_bytes(), [])
            for n, e in enumerate(batch)
        ]
        assert await handler.handle_records(records) == 4
        seen = Counter(commands.seen)
    finally:
        await client.close()
    assert seen[("commitTransaction", "1")] == 1
    assert seen[("find", ORDERS)] == 1
    assert seen[("update", ORDERS)] == 1
    assert [(await stored_order(harness, oid)).status for oid in (first, second, third)] == [
        "confirmed",
        "confirmed",
        "rejected",
    ]
    assert await emitted(harness, first) == ["OrderConfirmed"]
