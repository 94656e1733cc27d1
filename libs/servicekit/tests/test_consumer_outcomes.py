"""How the consumer treats what a handler raises, and what it hands the handler.

The store and the producer are stand-ins here (no database): the transaction runs
the handler once on a marker object, the dead-letter producer records what it is
sent (or raises what a test tells it to). The real path is covered by the services'
service and integration tests (billing's ``test_oversized_message_*`` for the size
limit on the real broker).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from aiokafka.errors import KafkaConnectionError, MessageSizeTooLargeError
from kontor_contracts.envelope import Envelope
from kontor_contracts.events.orders import OrderCancelled
from kontor_servicekit import consumer
from kontor_servicekit.consumer import ConsumerRuntime, MessageHandler, Subscription
from kontor_servicekit.domain_errors import IllegalTransition, NotFound, Unavailable
from pymongo.errors import AutoReconnect

pytestmark = pytest.mark.unit

TX = object()


class FakeCollection:
    def __init__(self) -> None:
        self.docs: dict[str, dict[str, Any]] = {}
        self.fail_with: Exception | None = None

    async def update_one(self, flt: dict[str, Any], update: dict[str, Any], upsert: bool) -> None:
        if self.fail_with is not None:
            raise self.fail_with
        self.docs[flt["_id"]] = update["$set"]


class StubStore:
    def __init__(self) -> None:
        self.collections: dict[str, FakeCollection] = {}
        self.transactions = 0

    @property
    def db(self) -> StubStore:
        return self

    def __getitem__(self, name: str) -> FakeCollection:
        return self.collections.setdefault(name, FakeCollection())

    async def transaction(self, work: Callable[[Any], Awaitable[Any]], **_: Any) -> Any:
        self.transactions += 1
        return await work(TX)


@dataclass
class Recorder:
    sent: list[tuple[str, dict[str, bytes]]] = field(default_factory=list)
    outcomes: list[str] = field(default_factory=list)
    publish_failures: list[tuple[str, str]] = field(default_factory=list)
    refuse_with: Exception | None = None

    async def send_and_wait(self, topic: str, value: Any, key: Any, headers: Any) -> None:
        if self.refuse_with is not None:
            raise self.refuse_with
        self.sent.append((topic, dict(headers)))

    def handled(self, group: str, event_type: str, outcome: str) -> None:
        self.outcomes.append(outcome)

    def observe_handling(self, group: str, event_type: str, seconds: float) -> None:
        pass  # timing is not what these tests check

    def dead_lettered(self, group: str, topic: str) -> None:
        self.outcomes.append("dead_lettered")

    def dead_letter_publish_failed(self, group: str, topic: str, error_type: str) -> None:
        self.publish_failures.append((topic, error_type))


@dataclass(frozen=True)
class Record:
    value: bytes
    topic: str = "orders.order.v1"
    partition: int = 0
    offset: int = 7
    key: bytes | None = b"o-1"
    headers: tuple[tuple[str, bytes], ...] = ()


def message() -> bytes:
    event = OrderCancelled(
        order_id="o-1", order_number=None, reason="r", cancelled_by="merchant", lines=[]
    )
    return Envelope.wrap(event, producer="orders", aggregate_id="o-1").to_bytes()


def handler_for(
    fn: Callable[..., Awaitable[None]],
    unit_of_work: Callable[[Any], Any] | None = None,
    *,
    max_message_bytes: int = 1_048_576,
) -> tuple[MessageHandler, StubStore, Recorder]:
    store, recorder = StubStore(), Recorder()
    runtime = ConsumerRuntime(
        service="billing",
        store=store,  # type: ignore[arg-type]
        producer=recorder,
        metrics=recorder,
        max_attempts=3,
        retry_backoff_s=0,
        max_message_bytes=max_message_bytes,
        redeliver_pause_s=0,
    )
    subscription = Subscription(
        purpose="test", handlers={OrderCancelled: fn}, unit_of_work=unit_of_work
    )
    return MessageHandler(runtime, subscription), store, recorder


async def test_a_domain_error_is_dead_lettered_at_once_with_its_reason() -> None:
    async def refuse(event: Any, uow: Any, env: Envelope) -> None:
        raise IllegalTransition("order o-1", "ship", "cancelled")

    handler, store, recorder = handler_for(refuse)
    assert await handler.handle_record(message(), Record(message())) == "dead_lettered"
    assert store.transactions == 1  # no retries: the answer cannot change
    topic, headers = recorder.sent[0]
    assert topic == "billing.test.dlt"
    assert headers["kontor_dlt_error_type"] == b"IllegalTransition"
    assert b"cannot ship order o-1: it is cancelled" in headers["kontor_dlt_reason"]


async def test_not_found_is_dead_lettered_too() -> None:
    async def unknown(event: Any, uow: Any, env: Envelope) -> None:
        raise NotFound("order", "o-1")

    handler, _, recorder = handler_for(unknown)
    assert await handler.handle_record(message(), Record(message())) == "dead_lettered"
    assert recorder.sent[0][1]["kontor_dlt_error_type"] == b"NotFound"


async def test_unavailable_redelivers_without_dead_lettering() -> None:
    async def not_yet(event: Any, uow: Any, env: Envelope) -> None:
        raise Unavailable("the product is not known yet")

    handler, _, recorder = handler_for(not_yet)
    assert await handler.handle_record(message(), Record(message())) == "retry_later"
    assert recorder.sent == []


async def test_an_unexpected_error_is_retried_before_it_is_dead_lettered() -> None:
    async def buggy(event: Any, uow: Any, env: Envelope) -> None:
        raise KeyError("bug")

    handler, store, _ = handler_for(buggy)
    assert await handler.handle_record(message(), Record(message())) == "dead_lettered"
    assert store.transactions == 3


async def test_the_handler_gets_the_subscriptions_unit_of_work_on_the_transaction() -> None:
    got: list[Any] = []

    async def record(event: Any, uow: Any, env: Envelope) -> None:
        got.append(uow)

    handler, _, _ = handler_for(record, unit_of_work=lambda tx: ("uow", tx))
    assert await handler.handle_record(message(), Record(message())) == "handled"
    assert got == [("uow", TX)]

    bare, _, _ = handler_for(record)
    await bare.handle_record(message(), Record(message()))
    assert got[-1] is TX


async def never_called(event: Any, uow: Any, env: Envelope) -> None:
    raise AssertionError("the handler must not run")


async def test_a_message_the_topic_refuses_is_still_parked_in_the_database_and_counted() -> None:
    async def refuse(event: Any, uow: Any, env: Envelope) -> None:
        raise NotFound("order", "o-1")

    handler, store, recorder = handler_for(refuse)
    recorder.refuse_with = MessageSizeTooLargeError("the message is 5000123 bytes")
    body = message()
    assert await handler.handle_record(body, Record(body)) == "dead_lettered"

    assert recorder.sent == []
    parked = store["dead_letters"].docs["orders.order.v1:0:7"]
    assert parked["reason"].startswith("NotFound: ")
    assert parked["value"] == body
    assert parked["status"] == "parked"
    assert parked["dead_letter_topic_published"] is False
    assert parked["dead_letter_topic_error"].startswith("MessageSizeTooLargeError")
    assert recorder.publish_failures == [("billing.test.dlt", "MessageSizeTooLargeError")]
    assert recorder.outcomes == ["dead_lettered"]  # counted, and the partition moves on


async def test_a_published_dead_letter_says_so() -> None:
    handler, store, recorder = handler_for(never_called)
    assert await handler.handle_record(b"{not json", Record(b"{not json")) == "dead_lettered"
    parked = store["dead_letters"].docs["orders.order.v1:0:7"]
    assert parked["dead_letter_topic_published"] is True
    assert parked["dead_letter_topic_error"] is None
    assert recorder.publish_failures == []


async def test_a_broker_outage_while_dead_lettering_parks_in_the_database_and_redelivers() -> None:
    handler, store, recorder = handler_for(never_called)
    recorder.refuse_with = KafkaConnectionError("broker gone")
    assert await handler.handle_record(b"{not json", Record(b"{not json")) == "retry_later"

    parked = store["dead_letters"].docs["orders.order.v1:0:7"]
    assert parked["dead_letter_topic_published"] is False
    assert recorder.publish_failures == [("billing.test.dlt", "KafkaConnectionError")]
    assert "dead_lettered" not in recorder.outcomes  # finished only once the topic has it

    recorder.refuse_with = None  # the broker is back: the redelivery completes it
    assert await handler.handle_record(b"{not json", Record(b"{not json")) == "dead_lettered"
    assert store["dead_letters"].docs["orders.order.v1:0:7"]["dead_letter_topic_published"]
    assert len(recorder.sent) == 1


async def test_a_message_above_the_size_limit_is_dead_lettered_without_being_handled() -> None:
    handler, store, recorder = handler_for(never_called, max_message_bytes=16_384)
    big = message() + b" " * 20_000  # still a valid envelope: the size alone refuses it
    assert await handler.handle_record(big, Record(big)) == "dead_lettered"
    assert store.transactions == 0
    parked = store["dead_letters"].docs["orders.order.v1:0:7"]
    assert parked["error_type"] == "MessageTooLarge"
    assert "more than kafka_max_message_bytes (16384 bytes)" in parked["reason"]
    assert parked["value_bytes"] == len(big)
    assert parked["value"] == big
    assert recorder.outcomes == ["dead_lettered"]


async def test_a_message_at_the_size_limit_is_handled() -> None:
    got: list[Any] = []

    async def record(event: Any, uow: Any, env: Envelope) -> None:
        got.append(event)

    body = message()
    limit = consumer.record_size(b"o-1", body, ())
    handler, _, _ = handler_for(record, max_message_bytes=max(limit, 16_384))
    assert await handler.handle_record(body, Record(body)) == "handled"
    assert len(got) == 1


async def test_a_value_beyond_what_a_document_holds_is_cut_and_marked(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(consumer, "STORED_VALUE_LIMIT", 10)
    handler, store, _ = handler_for(never_called)
    assert await handler.handle_record(b"{not json at all", Record(b"{not json at all"))
    parked = store["dead_letters"].docs["orders.order.v1:0:7"]
    assert parked["value"] == b"{not json "
    assert parked["value_truncated"] is True
    assert parked["value_bytes"] == 16


@dataclass
class FakeMessage:
    raw_message: Record
    acks: list[str] = field(default_factory=list)

    async def ack(self) -> None:
        self.acks.append("ack")

    async def nack(self) -> None:
        self.acks.append("nack")


async def test_a_message_that_cannot_even_be_parked_is_not_acknowledged() -> None:
    handler, store, recorder = handler_for(never_called)
    store["dead_letters"].fail_with = AutoReconnect("database gone")
    msg = FakeMessage(Record(b"{not json"))
    await handler(msg)  # type: ignore[arg-type]
    assert msg.acks == ["nack"]  # fetched again, not skipped
    assert recorder.outcomes == ["retry_later"]

    store["dead_letters"].fail_with = None
    await handler(msg)  # type: ignore[arg-type]
    assert msg.acks == ["nack", "ack"]
    assert "orders.order.v1:0:7" in store["dead_letters"].docs
