"""OutboxRelay against the real database: order, keys, headers, marking sent, the lease.

One test publishes to the session's real Kafka-protocol broker; the others use a
recording producer so what was sent can be inspected exactly.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import pytest
from aiokafka import AIOKafkaProducer
from kontor_contracts.envelope import Envelope
from kontor_contracts.samples import order_placed_envelope
from kontor_contracts.wire import headers_dict
from kontor_servicekit.outbox import LEASES, OutboxRelay
from kontor_servicekit.store import OUTBOX, Store, Transaction, create_client
from kontor_servicekit.telemetry import configure_tracing
from kontor_servicekit.testing import consume_all, eventually
from opentelemetry import trace

pytestmark = pytest.mark.integration


@dataclass
class Sent:
    topic: str
    value: bytes | None
    key: bytes | None
    headers: dict[str, str]


class RecordingProducer:
    """Implements the relay's ``Producer``: records each send; can fail chosen event ids."""

    def __init__(self, fail: set[str] | None = None) -> None:
        self.sent: list[Sent] = []
        self.fail = fail if fail is not None else set()

    async def send(
        self,
        topic: str,
        value: bytes | None = None,
        key: bytes | None = None,
        headers: list[tuple[str, bytes]] | None = None,
    ) -> asyncio.Future[Any]:
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        sent = Sent(topic, value, key, headers_dict(headers or []))
        if sent.headers.get("ce_id") in self.fail:
            future.set_exception(RuntimeError("broker said no"))
        else:
            self.sent.append(sent)
            future.set_result(None)
        return future


@pytest.fixture
async def store(infra: Any, namespace: str) -> AsyncIterator[Store]:
    client = create_client(infra.mongo_url, app_name="kontor-servicekit-tests")
    store = Store(client, f"{namespace}_kit", producer="orders")
    await store.ensure_indexes()
    try:
        yield store
    finally:
        await client.drop_database(store.db.name)
        await client.close()


async def _commit(store: Store, *aggregate_ids: str) -> list[Envelope]:
    """One transaction emitting one OrderPlaced per aggregate id, in this order."""

    async def work(tx: Transaction) -> list[Envelope]:
        return [
            tx.emit(order_placed_envelope(order_id=a).payload_model(), aggregate_id=a)
            for a in aggregate_ids
        ]

    return await store.transaction(work)


async def test_publishes_pending_rows_in_commit_order_and_marks_them_sent(store: Store) -> None:
    configure_tracing("orders", None)  # a recording tracer provider, as every service has
    tracer = trace.get_tracer("test")
    with tracer.start_as_current_span("POST /orders") as span:
        committed = await _commit(store, "o-1", "o-2")
    trace_id = format(span.get_span_context().trace_id, "032x")
    committed += await _commit(store, "o-3")
    committed += await _commit(store, "o-1")
    producer = RecordingProducer()
    relay = OutboxRelay(store, producer, topic_prefix="t123.")

    assert await relay.backlog() == 4
    assert await relay.publish_pending() == 4

    assert [s.headers["ce_id"] for s in producer.sent] == [str(e.id) for e in committed]
    for sent, envelope in zip(producer.sent, committed, strict=True):
        assert sent.topic == "t123.orders.order.v1"
        assert sent.key == envelope.aggregate_id.encode()
        assert sent.value == envelope.to_bytes()
        assert sent.headers["ce_specversion"] == "1.0"
        assert sent.headers["ce_type"] == "de.kontor.orders.OrderPlaced.v1"
        assert sent.headers["ce_source"] == "/kontor/orders"
        assert sent.headers["ce_subject"] == envelope.aggregate_id
        assert sent.headers["content-type"] == "application/json"
        assert sent.headers["kontor_correlation_id"] == envelope.correlation_id
        assert sent.headers["traceparent"].startswith("00-")
    # the publish continues the trace of the request that committed the event
    assert [s.headers["traceparent"].split("-")[1] == trace_id for s in producer.sent] == [
        True,
        True,
        False,
        False,
    ]

    rows = await store.db[OUTBOX].find({}).to_list(None)
    assert {r["status"] for r in rows} == {"sent"}
    assert all(r["sent_at"].tzinfo is not None for r in rows)
    assert relay.published == 4
    assert await relay.backlog() == 0
    assert await relay.publish_pending() == 0  # nothing is published twice
    assert len(producer.sent) == 4


async def test_a_failed_send_stays_pending_and_goes_out_on_the_next_pass(store: Store) -> None:
    first, second, third = await _commit(store, "o-1", "o-2", "o-3")
    producer = RecordingProducer(fail={str(second.id)})
    relay = OutboxRelay(store, producer)

    assert await relay.publish_pending() == 2
    pending = await store.db[OUTBOX].find({"status": "pending"}).to_list(None)
    assert [r["_id"] for r in pending] == [str(second.id)]

    producer.fail.clear()
    assert await relay.publish_pending() == 1
    ids = [s.headers["ce_id"] for s in producer.sent]
    assert ids == [str(first.id), str(third.id), str(second.id)]
    assert await relay.backlog() == 0


async def test_publish_pending_respects_the_batch_size(store: Store) -> None:
    committed = await _commit(store, *(f"o-{n}" for n in range(5)))
    producer = RecordingProducer()
    relay = OutboxRelay(store, producer, batch_size=2)
    assert [await relay.publish_pending() for _ in range(4)] == [2, 2, 1, 0]
    assert [s.headers["ce_id"] for s in producer.sent] == [str(e.id) for e in committed]


async def test_relay_publishes_to_the_real_broker_in_order_per_aggregate(
    store: Store, infra: Any, namespace: str
) -> None:
    topic = f"{namespace}.orders.order.v1"
    infra.create_topics([(topic, 3)])
    committed: list[Envelope] = []
    for _ in range(3):
        committed += await _commit(store, "order-a", "order-b")
    producer = AIOKafkaProducer(
        bootstrap_servers=infra.kafka_bootstrap,
        acks="all",
        enable_idempotence=infra.idempotent_producer,
    )
    await producer.start()
    try:
        relay = OutboxRelay(store, producer, topic_prefix=f"{namespace}.")
        assert await relay.publish_pending() == 6
    finally:
        await producer.stop()

    records = await consume_all(infra.kafka_bootstrap, topic, expected=6)
    assert len(records) == 6
    for aggregate in ("order-a", "order-b"):
        mine = [r for r in records if r.key == aggregate.encode()]
        assert len({r.partition for r in mine}) == 1  # the key keeps an order's events together
        assert [
            dict(r.headers)["ce_id"].decode() for r in sorted(mine, key=lambda r: r.offset)
        ] == [str(e.id) for e in committed if e.aggregate_id == aggregate]
        for record in mine:
            assert Envelope.from_bytes(record.value).aggregate_id == aggregate
            assert headers_dict(record.headers)["ce_type"] == "de.kontor.orders.OrderPlaced.v1"
    assert await relay.backlog() == 0


async def test_lease_lets_only_one_relay_publish(store: Store) -> None:
    first_producer, second_producer = RecordingProducer(), RecordingProducer()
    first = OutboxRelay(store, first_producer, poll_interval_s=0.05, lease_s=30)
    second = OutboxRelay(store, second_producer, poll_interval_s=0.05, lease_s=30)
    assert await first._hold_lease() is True
    assert await second._hold_lease() is False
    assert await first._hold_lease() is True  # renewal by the holder

    first.start()
    second.start()
    try:
        committed = await _commit(store, *(f"o-{n}" for n in range(10)))
        await eventually(lambda: _backlog_is(first, 0), timeout=10)
        await asyncio.sleep(0.3)  # several polls of the second relay
        assert len(first_producer.sent) == 10
        assert second_producer.sent == []

        # the holder stops and gives the lease back; the other one takes over
        await first.stop(grace_s=5)
        lease = await store.db[LEASES].find_one({"_id": "outbox-relay"})
        assert lease is None or lease["owner"] == second.owner  # released, maybe retaken
        later = await _commit(store, "o-after")
        await eventually(lambda: _backlog_is(second, 0), timeout=10)
        assert [s.headers["ce_id"] for s in second_producer.sent] == [str(later[0].id)]
        assert len(first_producer.sent) == 10
        lease = await store.db[LEASES].find_one({"_id": "outbox-relay"})
        assert lease is not None and lease["owner"] == second.owner
    finally:
        await first.stop(grace_s=1)
        await second.stop(grace_s=1)
    assert len(committed) == 10


async def test_an_expired_lease_is_taken_over(store: Store) -> None:
    crashed = OutboxRelay(store, RecordingProducer(), lease_s=0.2)
    survivor = OutboxRelay(store, RecordingProducer(), lease_s=0.2)
    assert await crashed._hold_lease() is True
    assert await survivor._hold_lease() is False
    await asyncio.sleep(0.3)  # the crashed relay never renews
    assert await survivor._hold_lease() is True
    assert await crashed._hold_lease() is False  # and cannot come back while it is held


async def _backlog_is(relay: OutboxRelay, n: int) -> bool:
    return await relay.backlog() == n
