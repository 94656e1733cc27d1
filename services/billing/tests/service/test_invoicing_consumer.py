"""Billing's ``billing.invoicing`` subscription with FastStream's in-memory broker.

The real Subscription and MessageHandler are wired by ``register_subscriptions`` onto a
``KafkaBroker`` that :class:`TestKafkaBroker` keeps in memory; the store is a real
``Store`` on the session's database (one database per test); dead letters go to a
recording producer.

In memory every record has partition 0 and offset 0, so two dead letters of one test
would share the ``dead_letters`` id ``<topic>:0:0``: each test parks at most one.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from faststream.kafka import KafkaBroker, TestKafkaBroker
from kontor_billing.consumers.orders import invoicing
from kontor_billing.store.indexes import ensure_indexes
from kontor_billing.store.invoices import INVOICES
from kontor_contracts.envelope import Envelope
from kontor_contracts.examples import load_example
from kontor_contracts.samples import order_placed_envelope
from kontor_contracts.wire import headers_dict, to_headers
from kontor_servicekit.clock import utc_now
from kontor_servicekit.consumer import DEAD_LETTERS, ConsumerRuntime, register_subscriptions
from kontor_servicekit.store import INBOX, OUTBOX, Store, create_client

pytestmark = pytest.mark.service


@dataclass
class Parked:
    topic: str
    value: bytes | None
    key: bytes | None
    headers: dict[str, str]


@dataclass
class DeadLetterRecorder:
    """The runtime's dead-letter producer: records instead of sending."""

    parked: list[Parked] = field(default_factory=list)

    async def send_and_wait(
        self,
        topic: str,
        value: bytes | None = None,
        key: bytes | None = None,
        headers: list[tuple[str, bytes]] | None = None,
    ) -> None:
        self.parked.append(Parked(topic, value, key, headers_dict(headers or [])))


@dataclass
class MetricsRecorder:
    outcomes: list[tuple[str, str, str]] = field(default_factory=list)
    dead: list[tuple[str, str]] = field(default_factory=list)

    def handled(self, group: str, event_type: str, outcome: str) -> None:
        self.outcomes.append((group, event_type, outcome))

    def dead_lettered(self, group: str, topic: str) -> None:
        self.dead.append((group, topic))


@dataclass
class Billing:
    broker: KafkaBroker
    store: Store
    dead_letters: DeadLetterRecorder
    metrics: MetricsRecorder
    prefix: str

    @property
    def orders_topic(self) -> str:
        return f"{self.prefix}orders.order.v1"

    @property
    def dead_letter_topic(self) -> str:
        return f"{self.prefix}billing.invoicing.dlt"

    async def publish(self, value: bytes, *, key: bytes = b"k", headers: Any = None) -> None:
        await self.broker.publish(value, topic=self.orders_topic, key=key, headers=headers)

    async def publish_envelope(self, envelope: Envelope) -> None:
        headers = {name: value.decode() for name, value in to_headers(envelope)}
        await self.publish(envelope.to_bytes(), key=envelope.aggregate_id.encode(), headers=headers)


@pytest.fixture
async def billing(infra: Any, namespace: str) -> AsyncIterator[Billing]:
    client = create_client(infra.mongo_url, app_name="kontor-billing-service-tests")
    store = Store(client, f"{namespace}_billing", producer="billing")
    await store.ensure_indexes()
    await ensure_indexes(store.db)
    recorder, metrics = DeadLetterRecorder(), MetricsRecorder()
    runtime = ConsumerRuntime(
        service="billing",
        store=store,
        producer=recorder,
        metrics=metrics,
        topic_prefix=f"{namespace}.",
        max_attempts=3,
        retry_backoff_s=0.001,
    )
    broker = KafkaBroker("127.0.0.1:9")  # never contacted: TestKafkaBroker patches it
    register_subscriptions(
        broker, runtime, [invoicing(utc_now)], session_timeout_ms=2000, heartbeat_interval_ms=500
    )
    try:
        async with TestKafkaBroker(broker) as in_memory:
            yield Billing(in_memory, store, recorder, metrics, f"{namespace}.")
    finally:
        await client.drop_database(store.db.name)
        await client.close()


def _current_year() -> int:
    return datetime.now(UTC).astimezone(ZoneInfo("Europe/Berlin")).year


async def test_order_placed_issues_one_invoice_and_announces_it(billing: Billing) -> None:
    placed = order_placed_envelope()
    await billing.publish_envelope(placed)

    [invoice] = await billing.store.db[INVOICES].find({}).to_list(None)
    assert invoice["order_id"] == placed.aggregate_id
    assert invoice["number"] == f"RE-{_current_year()}-000001"
    assert (invoice["net_total"], invoice["vat_total"], invoice["gross_total"]) == (
        Decimal(placed.payload["net_total"]),
        Decimal(placed.payload["vat_total"]),
        Decimal(placed.payload["gross_total"]),
    )
    assert [row["vat_rate"] for row in invoice["vat_breakdown"]] == [
        Decimal("0.19"),
        Decimal("0.07"),
    ]

    [row] = await billing.store.db[OUTBOX].find({}).to_list(None)
    issued = Envelope.model_validate_json(row["value"])
    assert issued.type == "InvoiceIssued"
    assert row["key"] == invoice["_id"]
    assert issued.correlation_id == placed.correlation_id  # the flow stays correlated
    assert issued.causation_id == str(placed.id)
    assert [o[1:] for o in billing.metrics.outcomes] == [("OrderPlaced", "handled")]
    assert billing.dead_letters.parked == []


async def test_the_same_order_placed_twice_yields_one_invoice(billing: Billing) -> None:
    placed = order_placed_envelope()
    await billing.publish_envelope(placed)
    await billing.publish_envelope(placed)

    assert await billing.store.db[INVOICES].count_documents({}) == 1
    assert await billing.store.db[OUTBOX].count_documents({}) == 1
    assert await billing.store.db[INBOX].count_documents({}) == 1
    assert [o[2] for o in billing.metrics.outcomes] == ["handled", "duplicate"]


async def test_a_second_order_placed_with_a_new_event_id_still_bills_once(
    billing: Billing,
) -> None:
    # Another producer instance re-published the same order under a new event id:
    # the inbox cannot see it, the one-invoice-per-order rule must.
    placed = order_placed_envelope()
    again = placed.model_copy(update={"id": order_placed_envelope().id})
    await billing.publish_envelope(placed)
    await billing.publish_envelope(again)

    assert await billing.store.db[INVOICES].count_documents({}) == 1
    assert await billing.store.db[OUTBOX].count_documents({}) == 1
    assert billing.dead_letters.parked == []


async def test_consecutive_orders_get_consecutive_numbers(billing: Billing) -> None:
    for n in range(1, 4):
        await billing.publish_envelope(order_placed_envelope(number=n))
    numbers = sorted(d["number"] for d in await billing.store.db[INVOICES].find({}).to_list(None))
    year = _current_year()
    assert numbers == [f"RE-{year}-{n:06d}" for n in (1, 2, 3)]


async def test_junk_bytes_are_dead_lettered_with_the_reason(billing: Billing) -> None:
    await billing.publish(b"{this is not json", key=b"order-7", headers={"x-trace": "abc"})

    [parked] = billing.dead_letters.parked
    assert parked.topic == billing.dead_letter_topic
    assert parked.value == b"{this is not json"
    assert parked.key == b"order-7"
    assert parked.headers["x-trace"] == "abc"  # the original headers travel along
    assert parked.headers["kontor_dlt_error_type"] == "ValidationError"
    assert parked.headers["kontor_dlt_original_topic"] == billing.orders_topic
    assert parked.headers["kontor_dlt_group"].endswith("billing.invoicing")
    assert parked.headers["kontor_dlt_attempts"] == "1"  # retrying cannot fix junk

    [doc] = await billing.store.db[DEAD_LETTERS].find({}).to_list(None)
    assert doc["_id"] == f"{billing.orders_topic}:0:0"
    assert doc["status"] == "parked"
    assert doc["reason"].startswith("ValidationError")
    assert doc["value"] == b"{this is not json"
    assert doc["dead_letter_topic"] == billing.dead_letter_topic
    assert await billing.store.db[INVOICES].count_documents({}) == 0
    assert await billing.store.db[INBOX].count_documents({}) == 0
    assert billing.metrics.dead == [(doc["group"], billing.orders_topic)]


async def test_an_unknown_event_type_is_dead_lettered(billing: Billing) -> None:
    placed = order_placed_envelope()
    unknown = placed.model_copy(update={"type": "OrderTeleported"})
    await billing.publish_envelope(unknown)

    [parked] = billing.dead_letters.parked
    assert parked.headers["kontor_dlt_error_type"] == "UnknownEventType"
    assert "OrderTeleported" in parked.headers["kontor_dlt_reason"]
    [doc] = await billing.store.db[DEAD_LETTERS].find({}).to_list(None)
    assert doc["error_type"] == "UnknownEventType"
    assert "OrderTeleported" in doc["reason"]
    assert await billing.store.db[INVOICES].count_documents({}) == 0


async def test_an_unknown_version_of_a_known_type_is_dead_lettered(billing: Billing) -> None:
    await billing.publish_envelope(order_placed_envelope().model_copy(update={"version": 9}))
    [parked] = billing.dead_letters.parked
    assert parked.headers["kontor_dlt_error_type"] == "UnknownEventType"
    assert await billing.store.db[INVOICES].count_documents({}) == 0


async def test_a_known_event_billing_does_not_handle_is_skipped_not_parked(
    billing: Billing,
) -> None:
    cancelled = load_example("OrderCancelled")
    assert cancelled.payload_model()  # a valid, registered event on the same topic
    await billing.publish_envelope(cancelled)

    assert billing.dead_letters.parked == []
    assert [o[1:] for o in billing.metrics.outcomes] == [("OrderCancelled", "ignored")]
    assert await billing.store.db[INBOX].count_documents({}) == 0


async def test_a_failing_handler_is_retried_then_parked_and_uses_up_no_number(
    billing: Billing,
) -> None:
    year = _current_year()
    # A stale invoice already holds number 1 (e.g. restored from a backup without
    # its sequence): every attempt collides on the unique number.
    await billing.store.db[INVOICES].insert_one(
        {"_id": "stale", "number": f"RE-{year}-000001", "kind": "imported", "order_id": "x"}
    )
    placed = order_placed_envelope()
    await billing.publish_envelope(placed)

    [parked] = billing.dead_letters.parked
    assert parked.headers["kontor_dlt_error_type"] == "DuplicateKeyError"
    assert parked.headers["kontor_dlt_attempts"] == "3"
    assert parked.value == placed.to_bytes()
    assert await billing.store.db[INVOICES].count_documents({"order_id": placed.aggregate_id}) == 0
    assert await billing.store.db[INBOX].count_documents({}) == 0  # can be replayed later
    assert await billing.store.db[OUTBOX].count_documents({}) == 0
    assert await billing.store.db["sequences"].find_one({"_id": f"invoice:{year}"}) is None
