"""OutboxRelay against the real database: order, keys, headers, the row lifecycle, the lease.

One test publishes to the session's real Kafka-protocol broker; the others use a
recording producer so what was sent can be inspected exactly.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaConnectionError
from kontor_contracts.envelope import Envelope
from kontor_contracts.samples import order_placed_envelope
from kontor_contracts.wire import headers_dict
from kontor_servicekit.clock import FakeClock
from kontor_servicekit.outbox import LEASES, OutboxRelay
from kontor_servicekit.store import OUTBOX, Store, Transaction, create_client
from kontor_servicekit.telemetry import configure_tracing
from kontor_servicekit.testing import consume_all, eventually

pytestmark = pytest.mark.integration


@dataclass
class Sent:
    topic: str
    value: bytes | None
    key: bytes | None
    headers: dict[str, str]


class RecordingProducer:
    """Implements the relay's ``Producer``: records each send; can fail chosen event ids.

    ``sent`` holds what the broker accepted, ``attempted`` the event id of every send
    handed to the producer (accepted or not). ``outage`` fails every send as an
    unreachable broker does; ``hang`` never answers a send (the relay dies waiting).
    """

    def __init__(self, fail: set[str] | None = None) -> None:
        self.sent: list[Sent] = []
        self.attempted: list[str] = []
        self.fail = fail if fail is not None else set()
        self.outage = False
        self.hang = False

    async def send(
        self,
        topic: str,
        value: bytes | None = None,
        key: bytes | None = None,
        headers: list[tuple[str, bytes]] | None = None,
    ) -> asyncio.Future[Any]:
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        sent = Sent(topic, value, key, headers_dict(headers or []))
        self.attempted.append(sent.headers["ce_id"])
        if self.hang:
            return future
        if self.outage:
            future.set_exception(KafkaConnectionError("no broker"))
        elif sent.headers.get("ce_id") in self.fail:
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
    provider = configure_tracing("orders", None)  # a recording provider, as every service has
    tracer = provider.get_tracer("test")
    with tracer.start_as_current_span("POST /orders") as span:
        committed = await _commit(store, "o-1", "o-2")
    trace_id = format(span.get_span_context().trace_id, "032x")
    committed += await _commit(store, "o-3")
    committed += await _commit(store, "o-1")
    producer = RecordingProducer()
    relay = OutboxRelay(store, producer, topic_prefix="t123.", tracer_provider=provider)

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


async def test_a_failed_send_is_marked_failed_and_goes_out_once_due(store: Store) -> None:
    first, second, third = await _commit(store, "o-1", "o-2", "o-3")
    producer = RecordingProducer(fail={str(second.id)})
    clock = FakeClock()
    relay = OutboxRelay(store, producer, retry_backoff_s=2.0, clock=clock)

    assert await relay.publish_pending() == 2
    unsent = await store.db[OUTBOX].find({"status": {"$ne": "sent"}}).to_list(None)
    assert [(r["_id"], r["status"]) for r in unsent] == [(str(second.id), "failed")]
    assert unsent[0]["next_attempt_at"] == clock() + timedelta(seconds=2)
    assert await relay.backlog() == 1

    producer.fail.clear()
    assert await relay.publish_pending() == 0  # not due yet: the backoff holds it
    clock.advance(timedelta(seconds=2))
    assert await relay.publish_pending() == 1
    ids = [s.headers["ce_id"] for s in producer.sent]
    assert ids == [str(first.id), str(third.id), str(second.id)]
    assert await relay.backlog() == 0
    row = await store.db[OUTBOX].find_one({"_id": str(second.id)})
    assert row is not None
    assert (row["status"], row["attempts"]) == ("sent", 2)
    assert row["last_error"] == "RuntimeError: broker said no"  # the history stays


async def test_every_try_counts_and_the_relay_gives_up_after_max_attempts(store: Store) -> None:
    [event] = await _commit(store, "o-1")
    producer = RecordingProducer(fail={str(event.id)})
    clock = FakeClock()
    relay = OutboxRelay(store, producer, max_attempts=3, retry_backoff_s=1.0, clock=clock)

    tried_at = []
    for attempt, backoff in ((1, 1), (2, 2)):
        tried_at.append(clock())
        assert await relay.publish_pending() == 0
        row = await store.db[OUTBOX].find_one({"_id": str(event.id)})
        assert row is not None
        assert (row["status"], row["attempts"]) == ("failed", attempt)
        assert row["last_error"] == "RuntimeError: broker said no"
        assert row["last_attempt_at"] == tried_at[-1]
        assert row["next_attempt_at"] == clock() + timedelta(seconds=backoff)  # doubles
        assert "claimed_by" not in row
        clock.advance(timedelta(seconds=backoff))

    assert await relay.publish_pending() == 0  # the third and last try
    row = await store.db[OUTBOX].find_one({"_id": str(event.id)})
    assert row is not None
    assert (row["status"], row["attempts"], row["next_attempt_at"]) == ("failed", 3, None)
    assert producer.attempted == [str(event.id)] * 3

    producer.fail.clear()
    clock.advance(timedelta(days=1))
    assert await relay.publish_pending() == 0  # given up: it stays failed and visible
    assert producer.attempted == [str(event.id)] * 3
    assert (await relay.failed_count(), await relay.backlog()) == (1, 1)

    assert await relay.retry(str(event.id)) is True  # what the admin API does
    assert await relay.retry(str(event.id)) is False  # pending now, not failed
    row = await store.db[OUTBOX].find_one({"_id": str(event.id)})
    assert row is not None
    assert (row["status"], row["attempts"], row["manual_retries"]) == ("pending", 0, 1)
    assert await relay.publish_pending() == 1
    row = await store.db[OUTBOX].find_one({"_id": str(event.id)})
    assert row is not None
    assert (row["status"], row["attempts"]) == ("sent", 1)
    assert (await relay.failed_count(), await relay.backlog()) == (0, 0)


async def test_a_failed_row_holds_back_the_later_rows_of_its_key_only(store: Store) -> None:
    a1, b1, a2, b2, a3 = await _commit(store, "order-a", "order-b", "order-a", "order-b", "order-a")
    producer = RecordingProducer(fail={str(a1.id)})
    clock = FakeClock()
    relay = OutboxRelay(store, producer, retry_backoff_s=5.0, clock=clock)

    assert await relay.publish_pending() == 2
    assert [s.headers["ce_id"] for s in producer.sent] == [str(b1.id), str(b2.id)]
    # a2 and a3 were never handed to the producer: it could have accepted them
    assert producer.attempted == [str(a1.id), str(b1.id), str(b2.id)]
    statuses = {r["_id"]: r["status"] for r in await store.db[OUTBOX].find({}).to_list(None)}
    assert statuses[str(a1.id)] == "failed"
    assert (statuses[str(a2.id)], statuses[str(a3.id)]) == ("pending", "pending")

    # later commits: order-b keeps flowing, order-a keeps waiting behind a1
    b3, a4 = await _commit(store, "order-b", "order-a")
    producer.fail.clear()
    assert await relay.publish_pending() == 1
    assert producer.sent[-1].headers["ce_id"] == str(b3.id)
    assert await relay.backlog() == 4

    clock.advance(timedelta(seconds=5))  # a1 is due: the whole of order-a follows, in order
    assert await relay.publish_pending() == 4
    of_a = [s.headers["ce_id"] for s in producer.sent if s.key == b"order-a"]
    assert of_a == [str(e.id) for e in (a1, a2, a3, a4)]
    assert await relay.backlog() == 0


async def test_a_failure_in_the_middle_of_a_key_stops_that_key_at_the_failed_row(
    store: Store,
) -> None:
    a1, a2, a3, b1 = await _commit(store, "order-a", "order-a", "order-a", "order-b")
    producer = RecordingProducer(fail={str(a2.id)})
    relay = OutboxRelay(store, producer)

    assert await relay.publish_pending() == 2
    assert [s.headers["ce_id"] for s in producer.sent] == [str(a1.id), str(b1.id)]
    assert str(a3.id) not in producer.attempted
    rows = {r["_id"]: r for r in await store.db[OUTBOX].find({}).to_list(None)}
    assert [rows[str(e.id)]["status"] for e in (a1, a2, a3, b1)] == [
        "sent",
        "failed",
        "pending",
        "sent",
    ]
    assert rows[str(a3.id)]["attempts"] == 0


async def test_rows_in_flight_when_the_relay_dies_are_sent_by_the_next_lease_holder(
    store: Store,
) -> None:
    committed = await _commit(store, "o-1", "o-2", "o-1")
    hanging = RecordingProducer()
    hanging.hang = True
    crashed = OutboxRelay(store, hanging, poll_interval_s=0.05, lease_s=0.3)
    crashed.start()

    async def all_in_flight() -> bool:
        rows = await store.db[OUTBOX].find({}).to_list(None)
        return (len(rows) == 3 and {r["status"] for r in rows} == {"in_flight"}) or (
            # waves: the second row of o-1 is claimed only after the first was acked
            sorted(r["status"] for r in rows) == ["in_flight", "in_flight", "pending"]
        )

    await eventually(all_in_flight, timeout=10)
    claimed = await store.db[OUTBOX].find({"status": "in_flight"}).to_list(None)
    assert {r["claimed_by"] for r in claimed} == {crashed.owner}
    assert crashed._task is not None
    crashed._task.cancel()  # the process dies: no lease release, nothing marked
    with contextlib.suppress(asyncio.CancelledError):
        await crashed._task

    survivor_producer = RecordingProducer()
    survivor = OutboxRelay(store, survivor_producer, poll_interval_s=0.05, lease_s=0.3)
    survivor.start()
    try:
        await eventually(lambda: _backlog_is(survivor, 0), timeout=10)
    finally:
        await survivor.stop(grace_s=1)
    assert [s.headers["ce_id"] for s in survivor_producer.sent] == [str(e.id) for e in committed]
    rows = {r["_id"]: r for r in await store.db[OUTBOX].find({}).to_list(None)}
    assert {r["status"] for r in rows.values()} == {"sent"}
    # tried by the dead relay, then once more by the survivor; the third only by the survivor
    assert [rows[str(e.id)]["attempts"] for e in committed] == [2, 2, 1]


async def test_a_broker_outage_never_uses_up_the_attempts_and_pauses_the_relay(
    store: Store,
) -> None:
    committed = await _commit(store, "o-1", "o-2")
    producer = RecordingProducer()
    producer.outage = True
    clock = FakeClock()
    relay = OutboxRelay(
        store,
        producer,
        max_attempts=2,
        retry_backoff_s=0.05,
        retry_backoff_max_s=0.2,
        clock=clock,
    )

    assert await relay.publish_pending() == 0
    assert len(producer.attempted) == 2
    later = await _commit(store, "o-3")
    # paused: another key is not swept into the outage (it would fail the same way)
    assert await relay.publish_pending() == 0
    assert len(producer.attempted) == 2

    for _ in range(4):
        await asyncio.sleep(0.25)  # past the pause
        clock.advance(timedelta(hours=1))  # past every row's backoff
        assert await relay.publish_pending() == 0
    rows = await store.db[OUTBOX].find({"_id": str(committed[0].id)}).to_list(None)
    assert rows[0]["status"] == "failed"
    assert rows[0]["attempts"] > relay.max_attempts
    assert rows[0]["next_attempt_at"] is not None  # still retrying
    assert rows[0]["last_error"] == "KafkaConnectionError: KafkaConnectionError: no broker"

    producer.outage = False
    await asyncio.sleep(0.25)
    clock.advance(timedelta(hours=1))
    assert await relay.publish_pending() == 3
    assert {s.headers["ce_id"] for s in producer.sent} == {str(e.id) for e in committed + later}
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


async def test_the_holder_writes_its_lease_once_per_half_lease(store: Store) -> None:
    clock = FakeClock()
    relay = OutboxRelay(store, RecordingProducer(), lease_s=10, clock=clock)

    async def until() -> Any:
        lease = await store.db[LEASES].find_one({"_id": "outbox-relay"})
        assert lease is not None and lease["owner"] == relay.owner
        return lease["until"]

    assert await relay._hold_lease() is True
    first = await until()
    clock.advance(timedelta(seconds=4))  # passes within the first half: no write
    assert await relay._hold_lease() is True
    assert await until() == first
    clock.advance(timedelta(seconds=2))  # past half the lease: renewed for a whole one
    assert await relay._hold_lease() is True
    assert await until() > first


async def test_a_new_holder_keeps_back_the_keys_its_predecessor_failed(store: Store) -> None:
    clock = FakeClock()
    earlier = OutboxRelay(store, RecordingProducer(), lease_s=10, clock=clock)
    assert await earlier._hold_lease() is True
    assert await earlier.publish_pending() == 0  # it saw no failed row
    clock.advance(timedelta(seconds=11))  # its lease ran out: another replica takes over

    a1, a2 = await _commit(store, "order-a", "order-a")
    other = OutboxRelay(
        store, RecordingProducer(fail={str(a1.id)}), lease_s=10, retry_backoff_s=60, clock=clock
    )
    assert await other._hold_lease() is True
    assert await other.publish_pending() == 0  # a1 failed, a2 waits behind it
    clock.advance(timedelta(seconds=11))  # that replica dies; the first one is back

    producer = RecordingProducer()
    earlier.producer = producer
    assert await earlier._hold_lease() is True
    assert await earlier.publish_pending() == 0  # a2 still waits behind the failed a1
    assert producer.attempted == []
    clock.advance(timedelta(seconds=60))  # a1 is due: both go out, in order
    assert await earlier.publish_pending() == 2
    assert [s.headers["ce_id"] for s in producer.sent] == [str(a1.id), str(a2.id)]
