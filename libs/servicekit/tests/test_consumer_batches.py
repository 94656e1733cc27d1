"""Several fetched events in one transaction, over the real database (ADR 0110).

A consumer that is behind gets many records per fetch; they share one transaction (one
inbox write, one commit) instead of one each. What must not change: every event's
effect and inbox record commit together, a failing handler is retried and
dead-lettered alone with its reason, a redelivered event has no second effect, an
event left for redelivery stops the fetch there, and each event's outgoing events
continue that event's own trace.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from kontor_contracts.envelope import Envelope
from kontor_contracts.events.orders import OrderConfirmed, OrderPlaced
from kontor_contracts.samples import order_placed_envelope
from kontor_servicekit.consumer import ConsumerRuntime, MessageHandler, PermanentError, Subscription
from kontor_servicekit.domain_errors import Unavailable
from kontor_servicekit.recorders import CommandCounter
from kontor_servicekit.store import INBOX, OUTBOX, Store, Transaction, create_client
from opentelemetry import propagate, trace
from opentelemetry.sdk.trace import TracerProvider

pytestmark = pytest.mark.integration


@dataclass
class Record:
    value: bytes
    offset: int
    topic: str = "orders.order.v1"
    partition: int = 0
    key: bytes | None = b"o-1"
    headers: list[tuple[str, bytes]] = field(default_factory=list)


@dataclass
class Recorder:
    sent: list[tuple[str, dict[str, bytes]]] = field(default_factory=list)
    outcomes: list[tuple[str, str]] = field(default_factory=list)

    async def send_and_wait(self, topic: str, value: Any, key: Any, headers: Any) -> None:
        self.sent.append((topic, dict(headers)))

    def handled(self, group: str, event_type: str, outcome: str) -> None:
        self.outcomes.append((event_type, outcome))

    def observe_handling(self, group: str, event_type: str, seconds: float) -> None:
        pass

    def dead_lettered(self, group: str, topic: str) -> None:
        pass

    def dead_letter_publish_failed(self, group: str, topic: str, error_type: str) -> None:
        pass


@dataclass
class Setup:
    store: Store
    commands: CommandCounter
    recorder: Recorder
    exporter_provider: TracerProvider

    def handler(self, subscription: Subscription, **options: Any) -> MessageHandler:
        runtime = ConsumerRuntime(
            service="billing",
            store=self.store,
            producer=self.recorder,
            metrics=self.recorder,
            retry_backoff_s=0.0,
            max_attempts=2,
            tracer_provider=self.exporter_provider,
            **options,
        )
        return MessageHandler(runtime, subscription)


@pytest.fixture
async def setup(infra: Any, namespace: str) -> AsyncIterator[Setup]:
    commands = CommandCounter()
    client = create_client(
        infra.mongo_url, app_name="kontor-batch-tests", event_listeners=[commands]
    )
    database = f"{namespace}_batches"
    store = Store(client, database, producer="billing")
    await store.ensure_indexes()
    try:
        yield Setup(store, commands, Recorder(), TracerProvider())
    finally:
        await client.drop_database(database)
        await client.close()


async def remember(event: OrderPlaced, tx: Transaction, envelope: Envelope) -> None:
    if event.order_number == "REFUSE":
        raise PermanentError(f"order {event.order_number} is refused")
    if event.order_number == "LATER":
        raise Unavailable("not ready for it")
    await tx.db["seen"].insert_one(
        {"_id": event.order_id, "number": event.order_number}, session=tx.session
    )
    tx.emit(
        OrderConfirmed(order_id=event.order_id, order_number=event.order_number),
        aggregate_id=event.order_id,
    )


REMEMBER = Subscription(purpose="remember", handlers={OrderPlaced: remember})


def records(*numbers: str) -> list[Record]:
    out = []
    for offset, number in enumerate(numbers):
        envelope = order_placed_envelope(number=offset + 1)
        envelope = envelope.model_copy(
            update={"payload": {**envelope.payload, "order_number": number}}
        )
        out.append(Record(envelope.to_bytes(), offset))
    return out


async def seen(store: Store) -> list[str]:
    docs = await store.db["seen"].find({}).sort("number", 1).to_list(None)
    return [d["number"] for d in docs]


async def test_a_fetch_of_five_events_commits_once_with_every_effect_and_inbox_record(
    setup: Setup,
) -> None:
    handler = setup.handler(REMEMBER)
    fetched = records("A-1", "A-2", "A-3", "A-4", "A-5")
    setup.commands.seen.clear()
    assert await handler.handle_records(fetched) == 5
    assert await seen(setup.store) == ["A-1", "A-2", "A-3", "A-4", "A-5"]
    assert await setup.store.db[INBOX].count_documents({}) == 5
    assert await setup.store.db[OUTBOX].count_documents({}) == 5
    assert setup.commands.seen[("commitTransaction", "1")] == 1
    assert setup.commands.seen[("insert", INBOX)] == 1
    assert setup.commands.seen[("insert", OUTBOX)] == 1
    assert setup.recorder.outcomes == [("OrderPlaced", "handled")] * 5

    # redelivered (a crash before the offset commit): no second effect
    setup.recorder.outcomes.clear()
    assert await handler.handle_records(fetched) == 5
    assert await setup.store.db["seen"].count_documents({}) == 5
    assert setup.recorder.outcomes == [("OrderPlaced", "duplicate")] * 5


async def test_a_failing_handler_is_dead_lettered_alone_and_the_others_are_handled(
    setup: Setup,
) -> None:
    handler = setup.handler(REMEMBER)
    assert await handler.handle_records(records("B-1", "B-2", "REFUSE", "B-4", "B-5")) == 5
    assert await seen(setup.store) == ["B-1", "B-2", "B-4", "B-5"]
    [(topic, headers)] = setup.recorder.sent
    assert topic == "billing.remember.dlt"
    assert headers["kontor_dlt_original_offset"] == b"2"
    assert b"order REFUSE is refused" in headers["kontor_dlt_reason"]
    parked = await setup.store.db["dead_letters"].find({}).to_list(None)
    assert [p["offset"] for p in parked] == [2]
    assert await setup.store.db[INBOX].count_documents({}) == 4


async def test_an_event_left_for_redelivery_stops_the_fetch_there(setup: Setup) -> None:
    handler = setup.handler(REMEMBER)
    assert await handler.handle_records(records("C-1", "C-2", "LATER", "C-4")) == 2
    assert await seen(setup.store) == ["C-1", "C-2"]
    assert await setup.store.db[INBOX].count_documents({}) == 2
    assert setup.recorder.sent == []  # nothing dead-lettered: it is not the message's fault


async def test_the_time_budget_and_the_size_limit_split_a_fetch(setup: Setup) -> None:
    by_size = setup.handler(REMEMBER, batch_max_events=2)
    setup.commands.seen.clear()
    assert await by_size.handle_records(records("D-1", "D-2", "D-3", "D-4", "D-5")) == 5
    assert setup.commands.seen[("commitTransaction", "1")] == 3  # 2 + 2 + 1

    await setup.store.db["seen"].delete_many({})
    await setup.store.db[INBOX].delete_many({})
    by_time = setup.handler(REMEMBER, batch_time_budget_s=1e-9)
    setup.commands.seen.clear()
    assert await by_time.handle_records(records("E-1", "E-2", "E-3")) == 3
    assert setup.commands.seen[("commitTransaction", "1")] == 3  # one event each
    assert await seen(setup.store) == ["E-1", "E-2", "E-3"]


async def test_each_event_of_a_batch_is_handled_and_emits_in_its_own_trace(
    setup: Setup,
) -> None:
    handler = setup.handler(REMEMBER)
    producer_tracer = TracerProvider().get_tracer("test")
    fetched = records("F-1", "F-2")
    parents = []
    for record in fetched:
        with producer_tracer.start_as_current_span("publish") as span:
            carrier: dict[str, str] = {}
            propagate.inject(carrier)
            record.headers = [(k, v.encode()) for k, v in carrier.items()]
            parents.append(span.get_span_context().trace_id)
    assert await handler.handle_records(fetched) == 2
    rows = await setup.store.db[OUTBOX].find({}).sort("seq", 1).to_list(None)
    traces = [
        trace.get_current_span(propagate.extract(row["trace"])).get_span_context().trace_id
        for row in rows
    ]
    assert traces == parents


async def test_a_remembered_document_comes_back_as_the_database_would_give_it(
    setup: Setup,
) -> None:
    from datetime import UTC, datetime, timedelta, timezone
    from decimal import Decimal

    written = {
        "_id": "o-1",
        "at": datetime(2026, 12, 2, 18, 0, 0, 123456, tzinfo=timezone(timedelta(hours=1))),
        "total": Decimal("19.99"),
        "lines": [{"sku": "A"}],
    }

    async def work(tx: Transaction) -> None:
        assert tx.recall("orders", "o-1") == (False, None)
        await tx.db["orders"].insert_one(dict(written), session=tx.session)
        tx.remember("orders", "o-1", written)
        known, recalled = tx.recall("orders", "o-1")
        stored = await tx.db["orders"].find_one({"_id": "o-1"}, session=tx.session)
        assert known and recalled == stored  # milliseconds, UTC, Decimal: as read
        assert recalled is not None and recalled["at"].tzinfo == UTC
        recalled["lines"].append({"sku": "B"})  # a copy: the next recall is unchanged
        assert tx.recall("orders", "o-1")[1] == stored
        tx.remember("orders", "o-2", None)
        assert tx.recall("orders", "o-2") == (True, None)

    await setup.store.transaction(work)


async def test_events_the_group_ignores_do_not_split_a_fetch(setup: Setup) -> None:
    handler = setup.handler(REMEMBER)
    fetched = records("G-1", "G-2", "G-3")
    other = Envelope.wrap(
        OrderConfirmed(order_id="o-9", order_number="G-9"), producer="orders", aggregate_id="o-9"
    )
    fetched.insert(1, Record(other.to_bytes(), 99))
    setup.commands.seen.clear()
    assert await handler.handle_records(fetched) == 4
    assert await seen(setup.store) == ["G-1", "G-2", "G-3"]
    assert setup.commands.seen[("commitTransaction", "1")] == 1
    assert ("OrderConfirmed", "ignored") in setup.recorder.outcomes


async def test_the_prefetch_reads_once_for_the_batch_and_a_failing_one_changes_nothing(
    setup: Setup,
) -> None:
    """ADR 0150: the subscription's prefetch runs once in the shared transaction with all
    its events; what it remembers, the handlers find; if it fails they read themselves."""
    calls: list[list[str]] = []

    async def prefetch(items: Any, tx: Transaction) -> None:
        calls.append([event.order_number for event, _ in items])
        assert tx.session.in_transaction
        if items[0][0].order_number == "P-FAIL":
            raise RuntimeError("a bug in the read-ahead")
        for event, _ in items:
            tx.remember("notes", event.order_id, {"_id": event.order_id, "note": "read ahead"})

    async def noted(event: OrderPlaced, tx: Transaction, envelope: Envelope) -> None:
        known, doc = tx.recall("notes", event.order_id)
        note = doc["note"] if known and doc else "read by the handler"
        await tx.db["seen"].insert_one(
            {"_id": event.order_id, "number": event.order_number, "note": note},
            session=tx.session,
        )

    subscription = Subscription(purpose="noted", handlers={OrderPlaced: noted}, prefetch=prefetch)
    handler = setup.handler(subscription)
    assert await handler.handle_records(records("P-1", "P-2", "P-3")) == 3
    assert calls == [["P-1", "P-2", "P-3"]]
    notes = await setup.store.db["seen"].find({}).sort("number", 1).to_list(None)
    assert [(d["number"], d["note"]) for d in notes] == [
        (f"P-{i}", "read ahead") for i in (1, 2, 3)
    ]

    await setup.store.db["seen"].delete_many({})
    failing = records("P-FAIL", "P-5")
    assert await handler.handle_records(failing) == 2
    notes = await setup.store.db["seen"].find({}).sort("number", 1).to_list(None)
    assert [(d["number"], d["note"]) for d in notes] == [
        ("P-5", "read by the handler"),
        ("P-FAIL", "read by the handler"),
    ]
    assert setup.recorder.outcomes[-2:] == [("OrderPlaced", "handled")] * 2
