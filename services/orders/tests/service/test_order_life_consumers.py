"""Orders' reservation and payment subscriptions with FastStream's in-memory broker
over the real store: the saga's steps, redelivery, and what is dead-lettered."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
from faststream.kafka import KafkaBroker, TestKafkaBroker
from kontor_contracts.envelope import Envelope, Event
from kontor_contracts.events.billing import PaymentReceived
from kontor_contracts.events.catalog import (
    ReservationLine,
    ReservationShortfall,
    StockReservationRejected,
    StockReserved,
)
from kontor_contracts.registry import REGISTRY
from kontor_contracts.wire import to_headers
from kontor_orders.consumers.order_life import PAYMENTS, RESERVATIONS
from kontor_orders.domain.order import Address, Customer, Order, PricedProduct
from kontor_orders.store.orders import ORDERS, OrderRepository, from_document
from kontor_servicekit.consumer import ConsumerRuntime, register_subscriptions
from kontor_servicekit.store import OUTBOX, Store, Transaction, create_client

pytestmark = pytest.mark.service

T0 = datetime(2026, 6, 1, 9, 0, tzinfo=UTC)
TEE = PricedProduct("TEE", "T-Shirt", Decimal("10.00"), Decimal("0.19"), "EUR")


@dataclass
class DeadLetters:
    parked: list[str] = field(default_factory=list)

    async def send_and_wait(
        self,
        topic: str,
        value: bytes | None = None,
        key: bytes | None = None,
        headers: list[tuple[str, bytes]] | None = None,
    ) -> None:
        self.parked.append(topic)


class Metrics:
    def handled(self, group: str, event_type: str, outcome: str) -> None:
        pass

    def dead_lettered(self, group: str, topic: str) -> None:
        pass


@dataclass
class Harness:
    broker: KafkaBroker
    store: Store
    dead_letters: DeadLetters
    prefix: str

    async def publish(self, envelope: Envelope) -> None:
        topic = REGISTRY.spec_for(envelope.type, envelope.version).topic
        await self.broker.publish(
            envelope.to_bytes(),
            topic=f"{self.prefix}{topic}",
            key=envelope.aggregate_id.encode(),
            headers={name: value.decode() for name, value in to_headers(envelope)},
        )

    async def order(self, order_id: str) -> Order:
        doc = await self.store.db[ORDERS].find_one({"_id": order_id})
        assert doc is not None
        return from_document(doc)

    async def emitted(self, order_id: str) -> list[str]:
        docs = await self.store.db[OUTBOX].find({"key": order_id}).to_list(None)
        return [d["type"] for d in docs]


@pytest.fixture
async def harness(infra: Any, namespace: str) -> AsyncIterator[Harness]:
    client = create_client(infra.mongo_url, app_name="kontor-orders-life-tests")
    store = Store(client, f"{namespace}_orders", producer="orders")
    await store.ensure_indexes()
    dead = DeadLetters()
    runtime = ConsumerRuntime(
        service="orders",
        store=store,
        producer=dead,
        metrics=Metrics(),
        topic_prefix=f"{namespace}.",
        max_attempts=2,
        retry_backoff_s=0.001,
    )
    broker = KafkaBroker("127.0.0.1:9")
    register_subscriptions(
        broker,
        runtime,
        [RESERVATIONS, PAYMENTS],
        session_timeout_ms=2000,
        heartbeat_interval_ms=500,
    )
    try:
        async with TestKafkaBroker(broker) as in_memory:
            yield Harness(in_memory, store, dead, f"{namespace}.")
    finally:
        await client.drop_database(store.db.name)
        await client.close()


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
        await OrderRepository(tx).add(order)

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


async def test_reserved_confirms_once_even_when_redelivered(harness: Harness) -> None:
    oid = await placed(harness.store)
    envelope = reserved(oid)
    await harness.publish(envelope)
    await harness.publish(envelope)  # redelivery: the inbox absorbs it
    await harness.publish(reserved(oid))  # a second answer: no change, no event
    order = await harness.order(oid)
    assert order.status == "confirmed"
    assert [e.event for e in order.timeline] == ["placed", "confirmed"]
    assert await harness.emitted(oid) == ["OrderConfirmed"]


async def test_rejection_rejects_with_the_shortfalls(harness: Harness) -> None:
    oid = await placed(harness.store)
    event = StockReservationRejected(
        order_id=oid, reasons=[ReservationShortfall(sku="TEE", requested=2, available=1)]
    )
    await harness.publish(wrap(event, "catalog", oid))
    order = await harness.order(oid)
    assert order.status == "rejected"
    assert order.timeline[-1].details["details"] == ["TEE: requested 2, available 1"]
    assert await harness.emitted(oid) == ["OrderRejected"]


async def test_partial_payments_then_confirmation(harness: Harness) -> None:
    oid = await placed(harness.store)  # gross 23.80
    await harness.publish(paid(oid, "20.00"))
    await harness.publish(paid(oid, "3.80"))
    assert (await harness.order(oid)).status == "placed"
    await harness.publish(reserved(oid))
    order = await harness.order(oid)
    assert order.status == "paid" and order.amount_paid == Decimal("23.80")


async def test_unknown_orders_and_foreign_currencies_are_dead_lettered(harness: Harness) -> None:
    await harness.publish(reserved("no-such-order"))
    oid = await placed(harness.store)
    await harness.publish(paid(oid, "23.80", currency="CHF"))
    assert harness.dead_letters.parked == [
        f"{harness.prefix}orders.reservations.dlt",
        f"{harness.prefix}orders.payments.dlt",
    ]
    assert (await harness.order(oid)).amount_paid == 0
